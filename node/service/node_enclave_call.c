/*  node_enclave_call: the runner's calls into its enclaves, asynchronous to the node's loop
 *  (see node_enclave.h, node_enclave_call_start): per enclave a bounded FIFO of calls, the
 *  head in flight (enclave_host_call_send), the host's socket registered on the loop while
 *  it is, the deadline checked by the service's tick; what a peer may relay and what only
 *  this node's services may send; what the runner notes of an answer (donations held,
 *  queries served).
 */
#include "node/service/node_enclave.h"
#include "node/service/node_enclave_int.h"
#include "node/service/node_enclave_prepare.h"
#include "node/service/node_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "enclave/enclave_prog.h"
#include "ledger/ledger_contract.h"
#include "node/app/node_app.h"
#include "node/service/node_ledger_local.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"

/* ---------------------------------------------------------------- relay rules */

/*  Whether a request of type T may be relayed: from a peer (REMOTE), or by this node's own
 *  services. CHAIN (which chain the enclave believes), CHAIN_BLOCK (the runner keeps count of
 *  the blocks it fed) and PUBLISH (the coordinator's last step, its runner's to take; an
 *  older PUBLISH answered the model in clear) are the runner's own, never a peer's. */
static bool s_allowed(enclave_req_type_t t, bool remote)
{
    if (t == ENCLAVE_REQ_CHAIN || t == ENCLAVE_REQ_CHAIN_BLOCK || t == ENCLAVE_REQ_PUBLISH)
        return !remote;
    return enclave_wire_req_relayable(t) || t == ENCLAVE_REQ_TRAIN_PREPARE ||
           t == ENCLAVE_REQ_FED_STEP || t == ENCLAVE_REQ_MODEL_SEAL ||
           t == ENCLAVE_REQ_MODEL_LOAD || t == ENCLAVE_REQ_USAGE;
}

/*  A TRAIN_PREPARE R for slot S, from a peer or from this node's own coordinator: it goes
 *  on only when it is what the job on this runner's ledger makes it
 *  (node_enclave_prepare_check); else NODE_E_REFUSED with ERR, and a WARN. */
static int s_prepare_check(node_enclave_t *self, const ne_slot_t *s, const enclave_req_t *r,
                           char *err, size_t err_cap)
{
    node_enclave_prepare_local_t l;
    memset(&l, 0, sizeof l);
    memcpy(l.id, s->id, 32);
    l.kind = s->kind;
    memcpy(l.measurement, s->quote.measurement, 32);
    memcpy(l.box_pk, s->quote.body.box_pk, 32);
    node_ledger_t *ledger = node_app_ledger(self->app);
    ledger_state_t *st = ledger ? node_ledger_local_state(ledger) : NULL;
    char why[256] = "";
    int rc = node_enclave_prepare_check(st, &l, &r->u.train_prepare, why, sizeof why);
    ledger_state_destroy(&st);
    if (rc == 0)
        return 0;
    char job[17];
    proto_hex_encode(r->u.train_prepare.job_id, 8, job);
    GLOG(WARN, NODE, "enclave %u: refused a TRAIN_PREPARE for job %s...: %s", s->local, job, why);
    return proto_err_fail(err, err_cap, rc, "TRAIN_PREPARE refused by the runner: %s", why);
}

/*  Remembers that slot S's current enclave holds a donation of DATA_ID (bounded by what
 *  the training kind holds: ENCLAVE_TRAIN_MAX_DONATIONS). */
static void s_donated(ne_slot_t *s, const uint8_t data_id[static 32])
{
    if (memcmp(s->donated_for, s->id, 32) != 0) { /* a new start holds nothing */
        s->n_donated = 0;
        memcpy(s->donated_for, s->id, 32);
    }
    for (size_t i = 0; i < s->n_donated; i++)
        if (memcmp(s->donated[i], data_id, 32) == 0)
            return;
    if (!s->donated && !(s->donated = malloc(ENCLAVE_TRAIN_MAX_DONATIONS * sizeof *s->donated)))
        return;
    if (s->n_donated < ENCLAVE_TRAIN_MAX_DONATIONS)
        memcpy(s->donated[s->n_donated++], data_id, 32);
}

/*  Slot S's enclave dropped DATA_ID: it is forgotten. */
static void s_dropped(ne_slot_t *s, const uint8_t data_id[static 32])
{
    for (size_t k = 0; k < s->n_donated; k++)
        if (memcmp(s->donated[k], data_id, 32) == 0) {
            memmove(s->donated[k], s->donated[k + 1], (s->n_donated - k - 1) * 32);
            s->n_donated--;
            return;
        }
}

/* ---------------------------------------------------------------- the queue */

static ne_call_t *s_head(ne_slot_t *s)
{
    return s->q_n ? &s->queue[s->q_head] : NULL;
}

/*  Takes the head call out of S's queue into *OUT. */
static void s_pop(ne_slot_t *s, ne_call_t *out)
{
    *out = s->queue[s->q_head];
    s->owner->queued_bytes -= out->len;
    memset(&s->queue[s->q_head], 0, sizeof s->queue[s->q_head]);
    s->q_head = (s->q_head + 1) % NODE_ENCLAVE_QUEUE_MAX;
    s->q_n--;
}

static void s_call_free(ne_call_t *c)
{
    if (c->req) {
        sodium_memzero(c->req, c->len);
        free(c->req);
    }
    memset(c, 0, sizeof *c);
}

/*  Stops watching S's socket (before anything may close it: a closed fd's number may be
 *  reused by another poller's). */
static void s_unpoll(node_enclave_t *self, ne_slot_t *s)
{
    if (!s->polled)
        return;
    zloop_poller_end(node_app_loop(self->app), &s->item);
    s->polled = false;
}

static int s_on_ready(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    ne_slot_t *s = arg;
    ne_call_advance(s->owner, s);
    return 0;
}

/*  Watches S's socket for the call in flight (readable; writable while the request is not
 *  all written). */
static void s_poll(node_enclave_t *self, ne_slot_t *s)
{
    s_unpoll(self, s);
    int fd = enclave_host_fd(s->host);
    if (fd < 0)
        return; /* the next tick's advance sees the death */
    memset(&s->item, 0, sizeof s->item);
    s->item.fd = fd;
    s->item.events =
        (short)(ZMQ_POLLIN | (enclave_host_call_wants_write(s->host) ? ZMQ_POLLOUT : 0));
    zloop_t *loop = node_app_loop(self->app);
    if (zloop_poller(loop, &s->item, s_on_ready, s) != 0) {
        GLOG_RATELIMITED(WARN, NODE, "enclave %u: cannot watch its socket (the tick polls it)",
                         s->local);
        return;
    }
    zloop_poller_set_tolerant(loop, &s->item); /* a hang-up is the call's to read */
    s->polled = true;
}

/*  Ends call C (popped) with the host's result RC (ANS / FRAME on 0, MSG otherwise): the
 *  runner notes what it keeps, the callback runs, the answer is wiped. */
static void s_finish(node_enclave_t *self, ne_slot_t *s, ne_call_t *c, int rc,
                     const enclave_ans_t *a, uint8_t *frame, size_t frame_len, const char *msg)
{
    char hex[17];
    if (c->drop) {
        proto_hex_encode(c->data_id, 8, hex);
        if (rc == 0) {
            GLOG(INFO, NODE, "enclave %u: dropped withdrawn data %s...", s->local, hex);
            s_dropped(s, c->data_id);
        } else {
            GLOG(WARN, NODE, "enclave %u: cannot drop withdrawn data %s...: %s", s->local, hex,
                 msg); /* tried again at the next head */
        }
    } else if (rc == ENCLAVE_E_DEAD || rc == ENCLAVE_E_TIMEOUT || rc == PROTO_E_IO) {
        char why[ENCLAVE_WIRE_MAX_MSG + 96];
        snprintf(why, sizeof why, "enclave %u: %s", s->local, msg);
        c->cb(c->ctx, rc, NULL, 0, why);
    } else if (rc != 0) { /* the enclave's refusal: passed on as an ERROR answer */
        enclave_ans_t e;
        memset(&e, 0, sizeof e);
        e.type = ENCLAVE_ANS_ERROR;
        e.u.error.code = rc;
        snprintf(e.u.error.msg, sizeof e.u.error.msg, "%.128s", msg);
        uint8_t *enc = NULL;
        size_t enc_len = 0;
        if (enclave_wire_ans_encode(&e, &enc, &enc_len) == PROTO_OK)
            c->cb(c->ctx, 0, enc, enc_len, "");
        else
            c->cb(c->ctx, NODE_E_FAILED, NULL, 0, "cannot encode the enclave's refusal");
        free(enc);
    } else {
        if (a->type == ENCLAVE_ANS_RECEIPT &&
            (c->type == ENCLAVE_REQ_DONATE || c->type == ENCLAVE_REQ_DONATE_KEYED))
            s_donated(s, c->data_id);
        else if (a->type == ENCLAVE_ANS_QUERY && c->type == ENCLAVE_REQ_QUERY)
            node_query_served(node_app_query(self->app), s->id, c->buy_id);
        c->cb(c->ctx, 0, frame, frame_len, "");
    }
    if (frame) {
        sodium_memzero(frame, frame_len);
        free(frame);
    }
    s_call_free(c);
}

void ne_call_fail_all(node_enclave_t *self, ne_slot_t *s, int rc, const char *why)
{
    s_unpoll(self, s);
    bool was = s->advancing;
    s->advancing = true; /* callbacks' new calls to this slot only queue (and fail below) */
    while (s->q_n) {
        ne_call_t c;
        s_pop(s, &c);
        s_finish(self, s, &c, rc, NULL, NULL, 0, why);
    }
    s->advancing = was;
}

/*  Sends S's head call if none is in flight. True when a call is in flight after. */
static bool s_send_next(node_enclave_t *self, ne_slot_t *s)
{
    while (s->q_n && !enclave_host_call_pending(s->host)) {
        if (!enclave_host_running(s->host)) {
            ne_call_fail_all(self, s, ENCLAVE_E_DEAD,
                             "the enclave died (it restarts with new keys) with this call queued");
            return false;
        }
        ne_call_t *c = s_head(s);
        enclave_req_t r;
        char msg[ENCLAVE_WIRE_MAX_MSG + 64] = "";
        int rc = enclave_wire_req_decode(c->req, c->len, &r);
        if (rc == PROTO_OK)
            rc = enclave_host_call_send(s->host, &r, -1, msg, sizeof msg);
        else
            snprintf(msg, sizeof msg, "request does not decode: %s", proto_err_str(rc));
        if (rc == PROTO_OK)
            return true;
        ne_call_t done;
        s_pop(s, &done);
        s_finish(self, s, &done, rc, NULL, NULL, 0, msg);
    }
    return enclave_host_call_pending(s->host);
}

void ne_call_advance(node_enclave_t *self, ne_slot_t *s)
{
    if (s->advancing || !s->host)
        return;
    s->advancing = true;
    for (;;) {
        s_unpoll(self, s);
        if (!s_send_next(self, s))
            break;
        enclave_ans_t a;
        uint8_t *frame = NULL;
        size_t frame_len = 0;
        bool done = false;
        char msg[ENCLAVE_WIRE_MAX_MSG + 64] = "";
        int rc = enclave_host_call_poll(s->host, &done, &a, &frame, &frame_len, msg, sizeof msg);
        if (!done) {
            s_poll(self, s);
            break;
        }
        ne_call_t c;
        s_pop(s, &c);
        s_finish(self, s, &c, rc, &a, frame, frame_len, msg);
    }
    s->advancing = false;
}

static ne_slot_t *s_slot(node_enclave_t *self, const uint8_t id[static 32])
{
    for (size_t i = 0; i < NODE_ENCLAVE_MAX; i++)
        if (self->slots[i].used && !self->slots[i].stopped && self->slots[i].have_quote &&
            memcmp(self->slots[i].id, id, 32) == 0)
            return &self->slots[i];
    return NULL;
}

bool node_enclave_runs(const node_enclave_t *self, const uint8_t id[static 32])
{
    for (size_t i = 0; self && i < NODE_ENCLAVE_MAX; i++)
        if (self->slots[i].used && !self->slots[i].stopped && self->slots[i].have_quote &&
            enclave_host_running(self->slots[i].host) && memcmp(self->slots[i].id, id, 32) == 0)
            return true;
    return false;
}

/*  Queues C (its request already copied, decoded as R) in S. When S is idle the request is
 *  sent now (its failure returned to the caller) and the socket watched: the answer is
 *  read by the loop later, so a callback never runs before the call's start returns. */
static int s_enqueue(node_enclave_t *self, ne_slot_t *s, ne_call_t *c, const enclave_req_t *r,
                     char *err, size_t err_cap)
{
    if (s->q_n >= NODE_ENCLAVE_QUEUE_MAX)
        return proto_err_fail(err, err_cap, NODE_E_BUSY,
                              "enclave %u has %d calls waiting already; try again", s->local,
                              NODE_ENCLAVE_QUEUE_MAX);
    if (self->queued_bytes + c->len > NODE_ENCLAVE_QUEUE_BYTES)
        return proto_err_fail(err, err_cap, NODE_E_BUSY,
                              "the enclaves' queues hold %u MiB of requests already; try again",
                              NODE_ENCLAVE_QUEUE_BYTES >> 20);
    if (!enclave_host_running(s->host))
        return proto_err_fail(err, err_cap, ENCLAVE_E_DEAD,
                              "enclave %u died and restarts (with new keys)", s->local);
    bool idle = !s->advancing && s->q_n == 0 && !enclave_host_call_pending(s->host);
    if (idle) {
        char msg[ENCLAVE_WIRE_MAX_MSG + 64] = "";
        int rc = enclave_host_call_send(s->host, r, -1, msg, sizeof msg);
        if (rc != 0)
            return proto_err_fail(err, err_cap, rc, "enclave %u: %s", s->local, msg);
    }
    s->queue[(s->q_head + s->q_n) % NODE_ENCLAVE_QUEUE_MAX] = *c;
    s->q_n++;
    self->queued_bytes += c->len;
    if (idle)
        s_poll(self, s); /* the loop writes the request and reads the answer */
    /* else: sent after the calls before it (ne_call_advance; the tick if nothing else) */
    return 0;
}

static int s_start(node_enclave_t *self, const uint8_t id[static 32], const uint8_t *req,
                   size_t len, bool remote, node_enclave_cb cb, void *ctx, char *err,
                   size_t err_cap)
{
    if (!cb || !req || len == 0)
        return proto_err_fail(err, err_cap, NODE_E_PARAMS, "an enclave request and a callback");
    if (self->closing)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "the runner is shutting down");
    ne_slot_t *s = s_slot(self, id);
    if (!s)
        return proto_err_fail(err, err_cap, NODE_E_NO_ENCLAVE,
                              "no running enclave with this id on this runner");
    enclave_req_t r;
    int rc = enclave_wire_req_decode(req, len, &r);
    if (rc != PROTO_OK)
        return proto_err_fail(err, err_cap, NODE_E_PARAMS, "request does not decode: %s",
                              proto_err_str(rc));
    if (!s_allowed(r.type, remote))
        return proto_err_fail(err, err_cap, NODE_E_PARAMS, "request type %d is not relayed (%s)",
                              (int)r.type,
                              remote ? "a peer may send only sealed requests, never chain or "
                                       "publish"
                                     : "init and plaintext validate are the host's");
    if (r.type == ENCLAVE_REQ_TRAIN_PREPARE && (rc = s_prepare_check(self, s, &r, err, err_cap)))
        return rc;
    ne_call_t c;
    memset(&c, 0, sizeof c);
    c.type = r.type;
    if (r.type == ENCLAVE_REQ_DONATE)
        memcpy(c.data_id, r.u.donate.data_id, 32);
    else if (r.type == ENCLAVE_REQ_DONATE_KEYED)
        memcpy(c.data_id, r.u.donate_keyed.data_id, 32);
    else if (r.type == ENCLAVE_REQ_QUERY)
        memcpy(c.buy_id, r.u.query.buy_id, 32);
    c.cb = cb;
    c.ctx = ctx;
    if (!(c.req = malloc(len)))
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
    memcpy(c.req, req, len);
    c.len = len;
    rc = s_enqueue(self, s, &c, &r, err, err_cap);
    if (rc)
        s_call_free(&c);
    return rc;
}

int node_enclave_call_start(node_enclave_t *self, const uint8_t id[static 32], const uint8_t *req,
                            size_t len, node_enclave_cb cb, void *ctx, char *err, size_t err_cap)
{
    return s_start(self, id, req, len, false, cb, ctx, err, err_cap);
}

int node_enclave_relay_start(node_enclave_t *self, const uint8_t id[static 32], const uint8_t *req,
                             size_t len, node_enclave_cb cb, void *ctx, char *err, size_t err_cap)
{
    return s_start(self, id, req, len, true, cb, ctx, err, err_cap);
}

void ne_call_drop(node_enclave_t *self, ne_slot_t *s, const uint8_t data_id[static 32])
{
    for (size_t i = 0; i < s->q_n; i++) {
        const ne_call_t *q = &s->queue[(s->q_head + i) % NODE_ENCLAVE_QUEUE_MAX];
        if (q->drop && memcmp(q->data_id, data_id, 32) == 0)
            return;
    }
    enclave_req_t r = {.type = ENCLAVE_REQ_DROP};
    memcpy(r.u.drop.data_id, data_id, 32);
    ne_call_t c;
    memset(&c, 0, sizeof c);
    c.type = ENCLAVE_REQ_DROP;
    c.drop = true;
    memcpy(c.data_id, data_id, 32);
    char msg[128];
    if (enclave_wire_req_encode(&r, &c.req, &c.len) != PROTO_OK ||
        s_enqueue(self, s, &c, &r, msg, sizeof msg) != 0)
        s_call_free(&c); /* tried again at the next head */
}

void ne_slot_stop(node_enclave_t *self, ne_slot_t *s, int *status)
{
    s_unpoll(self, s);
    (void)enclave_host_stop(s->host, status); /* forgets the call in flight */
    s->stopped = true;
    ne_call_fail_all(self, s, ENCLAVE_E_DEAD, "the enclave was stopped with this call queued");
}

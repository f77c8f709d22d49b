/*  node_train_core: the training-job driver's decisions, sans-IO (see node_train_core.h).
 */
#include "node/service/node_train_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_item_t {
    struct s_item_t *next;
    uint32_t to, from;
    uint32_t attempts;
    uint64_t not_before;
    size_t len;
    uint8_t *msg;
} s_item_t;

typedef enum { IN_NONE = 0, IN_PREPARE, IN_STEP, IN_TICK } s_in_t;

typedef struct {
    node_train_enclave_t enc;
    node_train_party_t st;
    uint8_t (*elig)[32];
    size_t n_elig;
    uint32_t attempts; /* PREPARE transport failures */
    uint64_t retry_at;
    s_in_t in;      /* the call in flight to it */
    uint64_t tag;   /* its tag */
    s_item_t *item; /* the message it carries (IN_STEP) */
} s_party_t;

struct node_train_core_t {
    node_train_job_t job;
    node_train_phase_t phase;
    char why[224];
    uint8_t (*donors)[32];
    size_t n_donors, n_excluded;
    s_party_t parties[NODE_TRAIN_PARTIES_MAX];
    size_t n_parties;
    uint32_t coord;
    uint64_t next_tag;
    s_item_t *head, *tail;
    size_t n_queued, queued_bytes;
    uint64_t last_tick_ms;
    bool coord_done;
    uint32_t round;
    uint64_t publish_tag; /* in flight (0: none) */
    uint32_t publish_tries;
    uint64_t publish_at;
    uint8_t *publication;
    size_t publication_len;
    uint64_t submit_tag; /* in flight (0: none) */
    uint32_t submits;
    uint64_t submit_at; /* next submission allowed at */
    bool admitted;      /* the last submission was admitted at admitted_ms */
    uint64_t admitted_ms;
    bool have_txid;
    uint8_t txid[32];
};

/* ---------------------------------------------------------------- helpers */

static void s_fail(node_train_core_t *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void s_fail(node_train_core_t *self, const char *fmt, ...)
{
    if (self->phase == NODE_TRAIN_DONE || self->phase == NODE_TRAIN_FAILED)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->why, sizeof self->why, fmt, ap);
    va_end(ap);
    self->phase = NODE_TRAIN_FAILED;
}

static void s_note(node_train_core_t *self, const char *what, uint32_t party, const char *why)
{
    snprintf(self->why, sizeof self->why, "%s (party %u): %.160s", what, party,
             why ? why : "no reason given");
}

static void s_item_free(s_item_t *it)
{
    if (it) {
        free(it->msg);
        free(it);
    }
}

static void s_queue_push_back(node_train_core_t *self, s_item_t *it)
{
    it->next = NULL;
    if (self->tail)
        self->tail->next = it;
    else
        self->head = it;
    self->tail = it;
    self->n_queued++;
    self->queued_bytes += it->len;
}

static void s_queue_push_front(node_train_core_t *self, s_item_t *it)
{
    it->next = self->head;
    self->head = it;
    if (!self->tail)
        self->tail = it;
    self->n_queued++;
    self->queued_bytes += it->len;
}

static void s_queue_unlink(node_train_core_t *self, s_item_t *prev, s_item_t *it)
{
    if (prev)
        prev->next = it->next;
    else
        self->head = it->next;
    if (self->tail == it)
        self->tail = prev;
    it->next = NULL;
    self->n_queued--;
    self->queued_bytes -= it->len;
}

static bool s_busy(const node_train_core_t *self)
{
    for (size_t i = 0; i < self->n_parties; i++)
        if (self->parties[i].in != IN_NONE)
            return true;
    return false;
}

static int s_cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* ---------------------------------------------------------------- plan */

static const node_train_enclave_t *s_usable(const node_train_enclave_t *enc, size_t n,
                                            const uint8_t id[static 32])
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(enc[i].id, id, 32) == 0)
            return &enc[i];
    return NULL;
}

typedef struct {
    uint8_t id[32];
    uint32_t used;
    bool coord;
} s_cand_t;

static int s_cand_by_used(const void *a, const void *b)
{
    const s_cand_t *x = a, *y = b;
    if (x->coord != y->coord)
        return x->coord ? -1 : 1;
    if (x->used != y->used)
        return x->used > y->used ? -1 : 1;
    return memcmp(x->id, y->id, 32);
}

static int s_cand_by_id(const void *a, const void *b)
{
    return memcmp(((const s_cand_t *)a)->id, ((const s_cand_t *)b)->id, 32);
}

/* The parties: candidates (coordinator and every usable enclave with a used donor). */
static int s_plan(node_train_core_t *self, const node_train_donor_t *donors, size_t n,
                  const node_train_enclave_t *enc, size_t n_enc, char *err, size_t cap)
{
    s_cand_t *cand = calloc(n_enc + 1, sizeof *cand);
    size_t n_cand = 0;
    int rc = 0;
    if (!cand)
        return proto_err_fail(err, cap, NODE_E_FAILED, "out of memory");
    memcpy(cand[n_cand].id, self->job.coordinator, 32);
    cand[n_cand++].coord = true;
    for (size_t i = 0; i < n; i++) {
        if (!donors[i].eligible || !s_usable(enc, n_enc, donors[i].enclave_id))
            continue;
        size_t c = 0;
        while (c < n_cand && memcmp(cand[c].id, donors[i].enclave_id, 32) != 0)
            c++;
        if (c == n_cand) {
            memcpy(cand[n_cand].id, donors[i].enclave_id, 32);
            n_cand++;
        }
        cand[c].used++;
    }
    /* the coordinator first, then the most used; keep at most PARTIES_MAX; order by id */
    qsort(cand, n_cand, sizeof *cand, s_cand_by_used);
    if (n_cand > NODE_TRAIN_PARTIES_MAX)
        n_cand = NODE_TRAIN_PARTIES_MAX;
    qsort(cand, n_cand, sizeof *cand, s_cand_by_id);
    size_t used = 0;
    for (size_t c = 0; c < n_cand; c++) {
        s_party_t *p = &self->parties[c];
        p->enc = *s_usable(enc, n_enc, cand[c].id);
        memcpy(p->st.enclave_id, cand[c].id, 32);
        if (cand[c].coord)
            self->coord = (uint32_t)c;
        if (cand[c].used && !(p->elig = calloc(cand[c].used, 32))) {
            rc = proto_err_fail(err, cap, NODE_E_FAILED, "out of memory");
            goto out;
        }
        used += cand[c].used;
    }
    self->n_parties = n_cand;
    for (size_t i = 0; i < n; i++) {
        if (!donors[i].eligible)
            continue;
        for (size_t c = 0; c < n_cand; c++) {
            s_party_t *p = &self->parties[c];
            if (memcmp(p->enc.id, donors[i].enclave_id, 32) == 0) {
                memcpy(p->elig[p->n_elig++], donors[i].data_id, 32);
                break;
            }
        }
    }
    for (size_t c = 0; c < n_cand; c++) {
        s_party_t *p = &self->parties[c];
        p->st.n_eligible = (uint32_t)p->n_elig;
        if (p->n_elig > 1) /* the enclave gets a set: sorted, as records_root sorts them */
            qsort(p->elig, p->n_elig, 32, s_cmp_id);
    }
    self->n_excluded = n - used;
    if (used == 0)
        rc = proto_err_fail(err, cap, NODE_E_PARAMS,
                            "no usable donor record: each is withdrawn, no longer consented, or "
                            "at a training enclave that is not active");
out:
    free(cand);
    return rc;
}

int node_train_core_new(const node_train_job_t *job, const node_train_donor_t *donors, size_t n,
                        const node_train_enclave_t *enclaves, size_t n_enc, uint64_t now_ms,
                        node_train_core_t **out, char *err, size_t err_cap)
{
    *out = NULL;
    if (!job || (n && !donors) || (n_enc && !enclaves))
        return proto_err_fail(err, err_cap, NODE_E_PARAMS, "no job");
    if (job->rounds == 0)
        return proto_err_fail(err, err_cap, NODE_E_PARAMS, "a job of 0 rounds");
    if (n > NODE_TRAIN_DONORS_MAX)
        return proto_err_fail(err, err_cap, NODE_E_PARAMS, "%zu donors: at most %u", n,
                              NODE_TRAIN_DONORS_MAX);
    if (!s_usable(enclaves, n_enc, job->coordinator))
        return proto_err_fail(err, err_cap, NODE_E_PARAMS,
                              "the coordinator is not a usable training enclave (not active, "
                              "another measurement, or revoked)");
    node_train_core_t *self = calloc(1, sizeof *self);
    if (!self || (n && !(self->donors = calloc(n, 32)))) {
        free(self);
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
    }
    self->job = *job;
    self->phase = NODE_TRAIN_PREPARE;
    self->next_tag = 1;
    self->n_donors = n;
    for (size_t i = 0; i < n; i++)
        memcpy(self->donors[i], donors[i].data_id, 32);
    (void)now_ms;
    int rc = s_plan(self, donors, n, enclaves, n_enc, err, err_cap);
    if (rc != 0) {
        node_train_core_destroy(&self);
        return rc;
    }
    *out = self;
    return 0;
}

void node_train_core_destroy(node_train_core_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_train_core_t *self = *self_p;
    while (self->head) {
        s_item_t *it = self->head;
        self->head = it->next;
        s_item_free(it);
    }
    for (size_t i = 0; i < NODE_TRAIN_PARTIES_MAX; i++) {
        free(self->parties[i].elig);
        s_item_free(self->parties[i].item);
    }
    free(self->donors);
    free(self->publication);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- next */

void node_train_core_check_deadline(node_train_core_t *self, uint64_t now_ms)
{
    if (self->job.deadline_ms && now_ms > self->job.deadline_ms)
        s_fail(self, "the job's deadline passed in phase %s (%.120s)",
               node_train_core_phase_name(self->phase), self->why);
}

static bool s_next_prepare(node_train_core_t *self, uint64_t now_ms, node_train_act_t *act)
{
    for (size_t i = 0; i < self->n_parties; i++) {
        s_party_t *p = &self->parties[i];
        if (p->st.prepared || p->in != IN_NONE || now_ms < p->retry_at)
            continue;
        p->in = IN_PREPARE;
        p->tag = self->next_tag++;
        act->kind = NODE_TRAIN_ACT_PREPARE;
        act->tag = p->tag;
        act->party = (uint32_t)i;
        return true;
    }
    return false;
}

static bool s_next_run(node_train_core_t *self, uint64_t now_ms, node_train_act_t *act)
{
    /* the first waiting message of each party whose previous one is not in flight */
    bool blocked[NODE_TRAIN_PARTIES_MAX] = {false};
    s_item_t *prev = NULL;
    for (s_item_t *it = self->head; it; prev = it, it = it->next) {
        s_party_t *p = &self->parties[it->to];
        if (blocked[it->to])
            continue;
        blocked[it->to] = true;
        if (p->in != IN_NONE || now_ms < it->not_before)
            continue;
        s_queue_unlink(self, prev, it);
        p->in = IN_STEP;
        p->item = it;
        p->tag = self->next_tag++;
        act->kind = NODE_TRAIN_ACT_STEP;
        act->tag = p->tag;
        act->party = it->to;
        act->from = it->from;
        act->msg = it->msg;
        act->msg_len = it->len;
        return true;
    }
    s_party_t *c = &self->parties[self->coord];
    if (self->coord_done) {
        if (!self->head && !s_busy(self) && now_ms >= self->publish_at) {
            self->phase = NODE_TRAIN_PUBLISH;
            return false; /* the caller asks again */
        }
    }
    if (c->in == IN_NONE && !blocked[self->coord] &&
        (self->last_tick_ms == 0 || now_ms >= self->last_tick_ms + NODE_TRAIN_TICK_MS)) {
        self->last_tick_ms = now_ms ? now_ms : 1;
        c->in = IN_TICK;
        c->tag = self->next_tag++;
        act->kind = NODE_TRAIN_ACT_STEP;
        act->tag = c->tag;
        act->party = self->coord;
        act->from = NODE_TRAIN_TICK_FROM;
        act->msg = NULL;
        act->msg_len = 0;
        return true;
    }
    return false;
}

bool node_train_core_next(node_train_core_t *self, uint64_t now_ms, node_train_act_t *act)
{
    if (!self || !act)
        return false;
    memset(act, 0, sizeof *act);
    node_train_core_check_deadline(self, now_ms);
    switch (self->phase) {
    case NODE_TRAIN_PREPARE:
        return s_next_prepare(self, now_ms, act);
    case NODE_TRAIN_RUN:
        if (s_next_run(self, now_ms, act))
            return true;
        if (self->phase != NODE_TRAIN_PUBLISH)
            return false;
        /* RUN just ended */
        __attribute__((fallthrough));
    case NODE_TRAIN_PUBLISH:
        if (self->publish_tag)
            return false;
        if (self->publish_tries >= NODE_TRAIN_PUBLISH_TRIES) {
            s_fail(self, "the coordinator gave no publication after %u tries: %.160s",
                   self->publish_tries, self->why);
            return false;
        }
        self->publish_tries++;
        self->publish_tag = self->next_tag++;
        act->kind = NODE_TRAIN_ACT_PUBLISH;
        act->tag = self->publish_tag;
        act->party = self->coord;
        return true;
    case NODE_TRAIN_SUBMIT:
        if (self->submit_tag)
            return false;
        if (self->admitted ? now_ms < self->admitted_ms + NODE_TRAIN_COMMIT_WAIT_MS
                           : now_ms < self->submit_at)
            return false;
        if (self->submits >= NODE_TRAIN_PUBLISH_TRIES) {
            s_fail(self, "MODEL_PUBLISH not committed after %u submissions: %.160s", self->submits,
                   self->why);
            return false;
        }
        self->submits++;
        self->admitted = false;
        self->submit_tag = self->next_tag++;
        act->kind = NODE_TRAIN_ACT_SUBMIT;
        act->tag = self->submit_tag;
        act->party = self->coord;
        act->msg = self->publication;
        act->msg_len = self->publication_len;
        return true;
    case NODE_TRAIN_DONE:
    case NODE_TRAIN_FAILED:
        break;
    }
    return false;
}

/* ---------------------------------------------------------------- answers */

static void s_on_prepare(node_train_core_t *self, uint32_t i, const node_train_ans_t *a,
                         uint64_t now_ms)
{
    s_party_t *p = &self->parties[i];
    if (a->rc != 0) {
        s_note(self, "TRAIN_PREPARE failed", i, a->why);
        if (++p->attempts > NODE_TRAIN_RETRIES) {
            s_fail(self, "party %u unreachable for TRAIN_PREPARE: %.160s", i,
                   a->why ? a->why : "no reason given");
            return;
        }
        /* backoff: a party's runner refusing it (its ledger read a withdrawal the plan
           missed, or is behind) gets time to catch up */
        p->retry_at = now_ms + ((uint64_t)NODE_TRAIN_RETRY_MS << (p->attempts - 1));
        return;
    }
    if (a->refused) {
        s_fail(self, "party %u refused TRAIN_PREPARE: %.160s", i,
               a->why ? a->why : "no reason given");
        return;
    }
    p->st.prepared = true;
    p->st.n_records = a->n_records;
    p->st.n_train = a->n_train;
    p->st.n_test = a->n_test;
    p->st.dropped = a->dropped;
    for (size_t k = 0; k < self->n_parties; k++)
        if (!self->parties[k].st.prepared)
            return;
    self->phase = NODE_TRAIN_RUN;
}

static void s_on_step(node_train_core_t *self, uint32_t i, s_in_t in, s_item_t *item,
                      const node_train_ans_t *a, uint64_t now_ms)
{
    s_party_t *p = &self->parties[i];
    if (a->rc != 0) {
        s_note(self, in == IN_TICK ? "tick failed" : "FED_STEP failed", i, a->why);
        if (in == IN_TICK)
            return;
        if (++item->attempts > NODE_TRAIN_RETRIES) {
            s_fail(self, "party %u unreachable for FED_STEP: %.160s", i,
                   a->why ? a->why : "no reason given");
            s_item_free(item);
            return;
        }
        item->not_before = now_ms + NODE_TRAIN_RETRY_MS;
        s_queue_push_front(self, item);
        return;
    }
    s_item_free(item);
    if (a->refused) { /* that message is dropped (a tampered or stale one): the job goes on */
        p->st.refused++;
        s_note(self, in == IN_TICK ? "tick refused" : "FED_STEP refused", i, a->why);
        return;
    }
    if (in == IN_STEP)
        p->st.delivered++;
    p->st.state = a->state;
    if (i == self->coord && a->round > self->round)
        self->round = a->round;
    if (a->state == 3) {
        s_fail(self, "party %u failed in round %u", i, a->round);
        return;
    }
    if (a->state != 1 && a->state != 2) {
        s_fail(self, "party %u answered an unknown state %u", i, a->state);
        return;
    }
    if (i == self->coord && a->state == 2)
        self->coord_done = true;
    for (size_t k = 0; k < a->n_out; k++) {
        const node_train_out_t *o = &a->out[k];
        if (o->to >= self->n_parties || o->len == 0 || o->len > NODE_TRAIN_MSG_MAX || !o->msg) {
            s_fail(self, "party %u sent a message to party %u of %zu bytes", i, o->to, o->len);
            return;
        }
        if (self->n_queued >= NODE_TRAIN_QUEUE_MAX ||
            self->queued_bytes + o->len > NODE_TRAIN_QUEUE_BYTES) {
            s_fail(self, "message queue full (%zu messages, %zu bytes): party %u floods it",
                   self->n_queued, self->queued_bytes, i);
            return;
        }
        s_item_t *it = calloc(1, sizeof *it);
        if (!it || !(it->msg = malloc(o->len))) {
            free(it);
            s_fail(self, "out of memory");
            return;
        }
        memcpy(it->msg, o->msg, o->len);
        it->len = o->len;
        it->to = o->to;
        it->from = i;
        s_queue_push_back(self, it);
    }
}

static void s_on_publish(node_train_core_t *self, const node_train_ans_t *a, uint64_t now_ms)
{
    self->publish_tag = 0;
    if (a->rc != 0 || a->refused || !a->publication || a->publication_len == 0) {
        s_note(self, a->rc != 0 ? "PUBLISH failed" : "PUBLISH refused", self->coord,
               a->why ? a->why : (a->rc == 0 && !a->refused ? "no publication" : NULL));
        self->phase = NODE_TRAIN_RUN; /* ticks go on; asked again after the delay */
        self->publish_at = now_ms + NODE_TRAIN_RETRY_MS;
        return;
    }
    uint8_t *copy = malloc(a->publication_len);
    if (!copy) {
        s_fail(self, "out of memory");
        return;
    }
    memcpy(copy, a->publication, a->publication_len);
    free(self->publication);
    self->publication = copy;
    self->publication_len = a->publication_len;
    self->phase = NODE_TRAIN_SUBMIT;
    self->submit_at = now_ms;
    self->why[0] = '\0';
}

void node_train_core_answer(node_train_core_t *self, uint64_t tag, const node_train_ans_t *ans,
                            uint64_t now_ms)
{
    if (!self || !ans || tag == 0)
        return;
    if (tag == self->publish_tag) {
        if (self->phase == NODE_TRAIN_PUBLISH)
            s_on_publish(self, ans, now_ms);
        else
            self->publish_tag = 0;
        return;
    }
    for (uint32_t i = 0; i < self->n_parties; i++) {
        s_party_t *p = &self->parties[i];
        if (p->in == IN_NONE || p->tag != tag)
            continue;
        s_in_t in = p->in;
        s_item_t *item = p->item;
        p->in = IN_NONE;
        p->tag = 0;
        p->item = NULL;
        if (in == IN_PREPARE && self->phase == NODE_TRAIN_PREPARE)
            s_on_prepare(self, i, ans, now_ms);
        else if ((in == IN_STEP || in == IN_TICK) && self->phase == NODE_TRAIN_RUN)
            s_on_step(self, i, in, item, ans, now_ms);
        else
            s_item_free(item);
        return;
    }
}

void node_train_core_submitted(node_train_core_t *self, uint64_t tag, int rc, const uint8_t *txid,
                               const char *why, uint64_t now_ms)
{
    if (!self || tag == 0 || tag != self->submit_tag)
        return;
    self->submit_tag = 0;
    if (self->phase != NODE_TRAIN_SUBMIT)
        return;
    if (rc != 0 || !txid) {
        snprintf(self->why, sizeof self->why, "MODEL_PUBLISH refused: %.180s",
                 why ? why : "no reason given");
        self->admitted = false;
        self->submit_at = now_ms + NODE_TRAIN_RETRY_MS;
        return;
    }
    self->admitted = true;
    self->admitted_ms = now_ms;
    self->have_txid = true;
    memcpy(self->txid, txid, 32);
}

void node_train_core_published(node_train_core_t *self, uint64_t now_ms)
{
    (void)now_ms;
    if (!self || self->phase == NODE_TRAIN_FAILED)
        return;
    self->phase = NODE_TRAIN_DONE;
    self->why[0] = '\0';
}

void node_train_core_abort(node_train_core_t *self, const char *why)
{
    if (self)
        s_fail(self, "%.200s", why ? why : "aborted");
}

/* ---------------------------------------------------------------- reads */

node_train_phase_t node_train_core_phase(const node_train_core_t *self)
{
    return self->phase;
}

const char *node_train_core_phase_name(node_train_phase_t phase)
{
    switch (phase) {
    case NODE_TRAIN_PREPARE:
        return "prepare";
    case NODE_TRAIN_RUN:
        return "run";
    case NODE_TRAIN_PUBLISH:
        return "publish";
    case NODE_TRAIN_SUBMIT:
        return "submit";
    case NODE_TRAIN_DONE:
        return "done";
    case NODE_TRAIN_FAILED:
        return "failed";
    }
    return "unknown";
}

const char *node_train_core_why(const node_train_core_t *self)
{
    return self->why;
}

const node_train_job_t *node_train_core_job(const node_train_core_t *self)
{
    return &self->job;
}

uint32_t node_train_core_round(const node_train_core_t *self)
{
    return self->round;
}

size_t node_train_core_n_parties(const node_train_core_t *self)
{
    return self->n_parties;
}

uint32_t node_train_core_coordinator(const node_train_core_t *self)
{
    return self->coord;
}

bool node_train_core_party(const node_train_core_t *self, uint32_t p, node_train_party_t *out,
                           node_train_enclave_t *enc)
{
    if (p >= self->n_parties)
        return false;
    if (out)
        *out = self->parties[p].st;
    if (enc)
        *enc = self->parties[p].enc;
    return true;
}

const uint8_t (*node_train_core_party_eligible(const node_train_core_t *self, uint32_t p,
                                               size_t *n))[32]
{
    *n = p < self->n_parties ? self->parties[p].n_elig : 0;
    return p < self->n_parties ? (const uint8_t(*)[32])self->parties[p].elig : NULL;
}

const uint8_t (*node_train_core_donors(const node_train_core_t *self, size_t *n))[32]
{
    *n = self->n_donors;
    return (const uint8_t(*)[32])self->donors;
}

size_t node_train_core_n_excluded(const node_train_core_t *self)
{
    return self->n_excluded;
}

const uint8_t *node_train_core_publication(const node_train_core_t *self, size_t *len)
{
    *len = self->publication_len;
    return self->publication;
}

bool node_train_core_txid(const node_train_core_t *self, uint8_t out[static 32])
{
    if (self->have_txid)
        memcpy(out, self->txid, 32);
    return self->have_txid;
}

size_t node_train_core_queued(const node_train_core_t *self)
{
    return self->n_queued;
}

/*  node_data_add: the data_add method (see node_data.h): read the file, have it
 * validated by a registered validation enclave, encrypt it into the store,
 * register it.
 *
 *  The enclave is reached with node_enclave_relay_call (this node's own runner
 * when it runs the enclave, else the linked runners); the answer comes back on
 * the loop, so the RPC answer is deferred (node_app_rpc_defer) and given by
 * s_finish. While the call waits, the plaintext is held in sodium_malloc'd
 * memory (to seal it again to the next candidate enclave if one does not
 * answer) and wiped as soon as the report is checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "enclave/enclave_blob.h"
#include "enclave/enclave_prog.h"
#include "enclave/enclave_wire.h"
#include "ledger/ledger_data.h"
#include "node/app/node_app.h"
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_params.h"
#include "node/service/node_account.h"
#include "node/service/node_data_int.h"
#include "node/service/node_enclave.h"
#include "node/service/node_enclave_relay.h"
#include "p2p/p2p_msg.h"
#include "proto/proto_attest.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_report.h"

/* The sealed request (salt, data, the box's overhead and the request's framing)
   must fit one relayed call. */
_Static_assert(NODE_DATA_MAX + 32u + 1024u <= NODE_ENCLAVE_RELAY_REQ_MAX,
               "a data file sealed to an enclave must fit one relayed call");
/* No other candidate enclave is asked after this long (the CLI waits 60 s for the answer,
   a relayed call at most NODE_ENCLAVE_RELAY_TIMEOUT_MS). */
#define ADD_DEADLINE_MS 40000

static double s_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*  Answers ADD's RPC with RESULT (stolen) or the error MESSAGE, and frees ADD.
 */
static void s_finish(node_data_add_t *add, json_t *result, int code, const char *message)
{
    node_data_t *self = add->owner;
    uint64_t token = add->rpc_token;
    node_data_add_clear(add);
    if (!result) /* the reason goes to the caller only: an enclave's may quote the file */
        GLOG(INFO, NODE, "data_add failed (the reason went to the caller)");
    if (token && self->app)
        node_app_rpc_complete(self->app, token, result, code, message);
    else
        json_decref(result);
}

static void s_fail(node_data_add_t *add, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_fail(node_data_add_t *add, int code, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s_finish(add, NULL, code, msg);
}

/*  Reads PATH into sodium_malloc'd memory. 0, or NODE_E_REFUSED / NODE_E_IO
 * with ERR. */
static int s_read_file(const char *path, uint8_t **data, size_t *len, char *err, size_t cap)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return proto_err_fail(err, cap, NODE_E_IO, "cannot read %s: %s", path, strerror(errno));
    struct stat sb;
    int rc = 0;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        rc = proto_err_fail(err, cap, NODE_E_REFUSED, "%s is not a regular file", path);
    } else if (sb.st_size <= 0) {
        rc = proto_err_fail(err, cap, NODE_E_REFUSED, "%s is empty", path);
    } else if ((uint64_t)sb.st_size > NODE_DATA_MAX) {
        rc = proto_err_fail(err, cap, NODE_E_REFUSED,
                            "%s is too large: %llu bytes, a data file has at most %u", path,
                            (unsigned long long)sb.st_size, NODE_DATA_MAX);
    }
    if (rc != 0) {
        close(fd);
        return rc;
    }
    size_t n = (size_t)sb.st_size, got = 0;
    uint8_t *p = sodium_malloc(n);
    while (p && got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!p || got != n) {
        if (p)
            sodium_free(p);
        return proto_err_fail(err, cap, NODE_E_IO, "cannot read %s (it changed while read?)", path);
    }
    *data = p;
    *len = n;
    return 0;
}

/*  True if this node's runner runs enclave ID now. */
static bool s_runs_locally(node_app_t *app, const uint8_t id[static 32])
{
    return node_enclave_runs(node_app_enclave(app), id);
}

/*  Fills ADD's candidates: WANT (may be NULL) when it is an active validation
 * enclave whose platform and measurement stand; else every such enclave, those
 * this node runs first, then the newest. 0 or an error (the RPC's, with ERR).
 */
static int s_candidates(node_app_t *app, const uint8_t *want, node_data_add_t *add, char *err,
                        size_t cap)
{
    ledger_state_t *st = node_data_ledger_state(app);
    if (!st)
        return proto_err_fail(err, cap, NODE_E_FAILED, "this node runs without a ledger");
    ledger_enclave_t *list = NULL;
    size_t n = 0, n_local = 0;
    int rc = ledger_enclave_list(st, PROTO_ATTEST_KIND_VALIDATION, &list, &n);
    if (rc != LEDGER_OK) {
        ledger_state_destroy(&st);
        return proto_err_fail(err, cap, NODE_E_FAILED, "ledger read failed: %s", proto_err_str(rc));
    }
    add->n_cand = 0;
    /* newest first: registration order reversed */
    for (size_t k = n; k-- > 0 && add->n_cand < NODE_DATA_CANDIDATES;) {
        const ledger_enclave_t *e = &list[k];
        bool rev_m = true, rev_p = true;
        if (want && memcmp(e->id, want, 32) != 0)
            continue;
        if (e->status != LEDGER_ENCLAVE_ACTIVE ||
            ledger_enclave_revoked(st, LEDGER_REVOKE_MEASUREMENT, e->measurement, &rev_m, NULL) !=
                LEDGER_OK ||
            ledger_enclave_revoked(st, LEDGER_REVOKE_PLATFORM, e->platform_pk, &rev_p, NULL) !=
                LEDGER_OK ||
            rev_m || rev_p)
            continue;
        size_t at = add->n_cand;
        if (s_runs_locally(app, e->id)) { /* this node's own first */
            at = n_local++;
            memmove(add->cand[at + 1], add->cand[at], (add->n_cand - at) * 32);
            memmove(add->cand_pk[at + 1], add->cand_pk[at], (add->n_cand - at) * 32);
            memmove(add->cand_box[at + 1], add->cand_box[at], (add->n_cand - at) * 32);
            memmove(&add->cand_local[at + 1], &add->cand_local[at],
                    (add->n_cand - at) * sizeof add->cand_local[0]);
            add->cand_local[at] = true;
        } else {
            add->cand_local[at] = false;
        }
        memcpy(add->cand[at], e->id, 32);
        memcpy(add->cand_pk[at], e->sign_pk, 32);
        memcpy(add->cand_box[at], e->box_pk, 32);
        add->n_cand++;
    }
    free(list);
    ledger_state_destroy(&st);
    if (add->n_cand == 0 && want)
        return proto_err_fail(
            err, cap, NODE_E_REFUSED,
            "enclave: not an active registered validation enclave (retired, revoked, "
            "its platform or measurement revoked, or unknown)");
    if (add->n_cand == 0)
        return proto_err_fail(err, cap, NODE_E_REFUSED,
                              "no active validation enclave is registered on the ledger");
    return 0;
}

static void s_attempt(node_data_add_t *add);

/*  The report in ANS (LEN bytes) for ADD's current candidate: checked, stored,
 * registered. */
static void s_on_report(node_data_add_t *add, const uint8_t *ans, size_t ans_len)
{
    node_data_t *self = add->owner;
    node_app_t *app = self->app;
    enclave_ans_t a;
    proto_report_t rep;
    if (enclave_wire_ans_decode(ans, ans_len, &a) != PROTO_OK) {
        s_fail(add, NODE_RPC_E_APP, "the enclave's answer does not decode");
        return;
    }
    if (a.type == ENCLAVE_ANS_ERROR) {
        s_fail(add, NODE_RPC_E_APP, "refused: the validation enclave refused the file: %s",
               a.u.error.msg);
        return;
    }
    if (a.type != ENCLAVE_ANS_REPORT || a.u.blob.len > PROTO_REPORT_MAX_BYTES ||
        proto_report_decode(a.u.blob.bytes, a.u.blob.len, &rep) != PROTO_OK) {
        s_fail(add, NODE_RPC_E_APP, "the validation enclave answered no report");
        return;
    }
    const uint8_t *eid = add->cand[add->at];
    int vrc = proto_report_verify(&rep, add->cand_pk[add->at]);
    if (vrc != PROTO_OK) {
        s_fail(add, NODE_RPC_E_APP, "the report is not signed by the registered enclave key: %s",
               proto_err_str(vrc));
        return;
    }
    if (sodium_memcmp(rep.data_commitment, add->commit, 32) != 0 || rep.data_type != add->type) {
        s_fail(add, NODE_RPC_E_APP, "the report is about other data than this file");
        return;
    }
    if (rep.checks_passed != rep.checks_run) {
        s_fail(add, NODE_RPC_E_APP,
               "refused: the file is malformed: the validation enclave "
               "passed %u of %u "
               "checks (%llu records read)",
               rep.checks_passed, rep.checks_run, (unsigned long long)rep.record_count);
        return;
    }
    /* a good report: encrypt under a fresh key, then the plaintext goes */
    double t_report = s_ms();
    char err[256];
    node_data_info_t info;
    int rc = node_data_put(self, add->plain, add->plain_len, add->salt, add->type, add->name, &info,
                           err, sizeof err);
    sodium_free(add->plain);
    add->plain = NULL;
    add->plain_len = 0;
    if (rc != 0) {
        s_fail(add, NODE_RPC_E_APP, "cannot store the data: %s", err);
        return;
    }
    double t_stored = s_ms();
    const proto_key_t *key = node_app_account(app);
    uint64_t nonce = 0;
    uint8_t txid[32];
    uint8_t *tx = NULL;
    size_t tx_len = 0;
    if (!key)
        rc = proto_err_fail(err, sizeof err, NODE_E_FAILED, "this node has no account key");
    else if ((rc = node_account_nonce(app, &nonce, err, sizeof err)) != 0)
        (void)0; /* ERR says why */
    else if (!(tx = ledger_contract_data_register_tx(
                   key, node_app_chain_id(app), nonce, add->type, node_data_size_class(info.size),
                   info.id, info.address, a.u.blob.bytes, a.u.blob.len, &tx_len)))
        rc = proto_err_fail(err, sizeof err, NODE_E_FAILED, "cannot build DATA_REGISTER");
    else
        rc = node_account_submit(app, tx, tx_len, txid, err, sizeof err);
    free(tx);
    if (rc != 0) {
        if (node_data_remove(self, info.id) != 0)
            GLOG(WARN, NODE, "data_add: cannot remove the unregistered record");
        {
            s_fail(add, NODE_RPC_E_APP, "the ledger refused DATA_REGISTER: %s", err);
            return;
        }
    }
    char id_hex[65];
    proto_hex_encode(info.id, 32, id_hex);
    GLOG(INFO, NODE, "data %.16s (%s, %llu bytes) validated and submitted", id_hex,
         node_data_type_name(info.type), (unsigned long long)info.size);
    json_t *o = json_object();
    json_object_set_new(o, "data_id", node_rpc_hex(info.id, 32));
    json_object_set_new(o, "txid", node_rpc_hex(txid, 32));
    json_object_set_new(o, "address", node_rpc_hex(info.address, 32));
    json_object_set_new(o, "enclave", node_rpc_hex(eid, 32));
    json_object_set_new(o, "type", json_string(node_data_type_name(info.type)));
    json_object_set_new(o, "name", json_string(info.name));
    json_object_set_new(o, "size", json_integer((json_int_t)info.size));
    json_object_set_new(o, "size_class", json_integer(node_data_size_class(info.size)));
    json_object_set_new(o, "records", json_integer((json_int_t)rep.record_count));
    json_object_set_new(o, "checks_run", json_integer(rep.checks_run));
    json_object_set_new(o, "checks_passed", json_integer(rep.checks_passed));
    double t_end = s_ms();
    json_t *tm = json_object(); /* where the time went (ms), the block not counted */
    json_object_set_new(tm, "read", json_real(add->t_read - add->t_start));
    json_object_set_new(tm, "seal", json_real(add->t_sent - add->t_read));
    json_object_set_new(tm, "enclave", json_real(t_report - add->t_sent));
    json_object_set_new(tm, "store", json_real(t_stored - t_report));
    json_object_set_new(tm, "submit", json_real(t_end - t_stored));
    json_object_set_new(tm, "total", json_real(t_end - add->t_start));
    json_object_set_new(o, "time_ms", tm);
    s_finish(add, o, 0, NULL);
}

/*  node_enclave_relay_call's callback. */
static void s_on_answer(void *ctx, int rc, const uint8_t *ans, size_t ans_len, const char *why)
{
    node_data_add_t *add = ctx;
    if (!add->used)
        return;
    if (rc == 0) {
        s_on_report(add, ans, ans_len);
        return;
    }
    snprintf(add->last_why, sizeof add->last_why, "%s", why ? why : proto_err_str(rc));
    add->at++;
    if (s_ms() - add->t_start > ADD_DEADLINE_MS) { /* the client stops waiting at 60 s */
        s_fail(add, NODE_RPC_E_APP, "no validation enclave answered in %d s (last: %s)",
               ADD_DEADLINE_MS / 1000, add->last_why);
        return;
    }
    s_attempt(add); /* the next candidate, if any */
}

/*  Seals the plaintext to ADD's current candidate and calls it; on to the next
 * one while calls cannot start; finishes ADD when none is left. */
static void s_attempt(node_data_add_t *add)
{
    node_app_t *app = add->owner->app;
    node_enclave_relay_t *relay = node_app_enclave_relay(app);
    for (; add->at < add->n_cand; add->at++) {
        uint8_t *sealed = NULL, *req = NULL;
        size_t sealed_len = 0, req_len = 0;
        int rc = enclave_prog_validation_seal(add->cand_box[add->at], add->type, add->salt,
                                              add->plain, add->plain_len, &sealed, &sealed_len);
        if (rc != PROTO_OK) {
            s_fail(add, NODE_RPC_E_APP, "cannot seal the file: %s", proto_err_str(rc));
            return;
        }
        enclave_req_t r;
        memset(&r, 0, sizeof r);
        r.type = ENCLAVE_REQ_VALIDATE_SEALED;
        r.u.validate_sealed.data_type = add->type;
        r.u.validate_sealed.sealed = sealed;
        r.u.validate_sealed.sealed_len = sealed_len;
        rc = enclave_wire_req_encode(&r, &req, &req_len);
        free(sealed);
        if (rc != PROTO_OK) {
            s_fail(add, NODE_RPC_E_APP, "cannot encode the request: %s", proto_err_str(rc));
            return;
        }
        char why[192];
        if (!add->cand_local[add->at] && req_len > NODE_ENCLAVE_RELAY_REQ_MAX) {
            /* the relay would refuse it at p2p's unicast bound: say so */
            free(req);
            snprintf(add->last_why, sizeof add->last_why,
                     "the sealed file (%zu bytes) is over what one p2p unicast carries (%u "
                     "bytes): a file this large validates only in an enclave of this node",
                     req_len, NODE_ENCLAVE_RELAY_REQ_MAX);
            continue;
        }
        add->t_sent = s_ms();
        rc = relay ? node_enclave_relay_call(relay, add->cand[add->at], req, req_len, NULL,
                                             s_on_answer, add, why, sizeof why)
                   : proto_err_fail(why, sizeof why, NODE_E_FAILED, "no enclave relay");
        free(req);
        if (rc == 0)
            return; /* s_on_answer runs (or has run: ADD may be free now) */
        snprintf(add->last_why, sizeof add->last_why, "%s", why);
    }
    s_fail(add, NODE_RPC_E_APP, "no validation enclave answered (tried %zu; last: %s)", add->n_cand,
           add->last_why);
}

json_t *node_data_rpc_add(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                          size_t cap)
{
    (void)method;
    node_data_t *self = node_app_data(app);
    if (!self)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "this node is not a data-owner (start it with --role data-owner)");
    if (!node_app_account(app))
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "this node has no account key to register data with");
    const char *path = node_rpc_param_str(params, "path", 0, code, err, cap);
    if (!path)
        return NULL;
    const char *tname = node_rpc_param_str(params, "type", 1, code, err, cap);
    if (!tname)
        return NULL;
    uint32_t type = node_data_type_parse(tname);
    if (!type)
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                             "type: genotype or phenotype, not '%.32s'", tname);
    const char *name = "";
    json_t *nv = node_rpc_param(params, "name", 2);
    if (nv && !json_is_null(nv) && !(name = node_rpc_param_str(params, "name", 2, code, err, cap)))
        return NULL;
    if (strlen(name) > NODE_DATA_NAME_MAX)
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "name: at most %u characters",
                             NODE_DATA_NAME_MAX);
    for (const char *c = name; *c; c++)
        if (*c < 0x20 || *c > 0x7e)
            return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "name: printable ASCII only");
    uint8_t want[32];
    json_t *ev = node_rpc_param(params, "enclave", 3);
    bool have_want = ev && !json_is_null(ev);
    if (have_want && node_rpc_param_id(params, "enclave", 3, want, code, err, cap) != 0)
        return NULL;
    node_data_add_t *add = NULL;
    for (size_t i = 0; i < NODE_DATA_ADDS_MAX && !add; i++)
        if (!self->adds[i].used)
            add = &self->adds[i];
    if (!add)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "%u data_add calls already wait for an enclave; try again",
                             NODE_DATA_ADDS_MAX);
    memset(add, 0, sizeof *add);
    add->used = true;
    add->owner = self;
    add->type = type;
    snprintf(add->name, sizeof add->name, "%s", name);
    char msg[256];
    add->t_start = s_ms();
    if (s_candidates(app, have_want ? want : NULL, add, msg, sizeof msg) != 0 ||
        s_read_file(path, &add->plain, &add->plain_len, msg, sizeof msg) != 0) {
        node_data_add_clear(add);
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "refused: %s", msg);
    }
    add->t_read = s_ms();
    randombytes_buf(add->salt, sizeof add->salt);
    proto_data_commit(add->salt, add->plain, add->plain_len, add->commit);
    add->size = add->plain_len;
    if (!(add->rpc_token = node_app_rpc_defer(app))) {
        node_data_add_clear(add);
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "too many calls wait for an answer; try again");
    }
    s_attempt(add);
    return NULL; /* answered by s_finish */
}

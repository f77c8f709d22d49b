/*  enclave_prog: genie-enclave's request loop and the senders' sealing helpers (see
 *  enclave_prog.h). Runs under the seccomp filter of enclave_sandbox.c: it reads and writes
 *  its one socket, allocates memory, reads the clock and the random generator, nothing else.
 */
#include "enclave/enclave_prog.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enclave/enclave_kind.h"
#include "enclave/enclave_salted.h"
#include "enclave/enclave_seal.h"
#include "ledger/ledger_light.h"

uint64_t enclave_kind_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct enclave_prog_t {
    enclave_state_t st;
    bool ready; /* INIT answered */
};

/* Encodes ANS into *OUT. */
static int s_answer(const enclave_ans_t *ans, uint8_t **out, size_t *out_len)
{
    return enclave_wire_ans_encode(ans, out, out_len);
}

static int s_error(int code, const char *msg, uint8_t **out, size_t *out_len)
{
    enclave_ans_t ans;
    memset(&ans, 0, sizeof ans);
    ans.type = ENCLAVE_ANS_ERROR;
    ans.u.error.code = code < 0 && code > -600 ? code : ENCLAVE_E_FAILED;
    /* printable ASCII only: a detail may quote input bytes (ml/'s parse errors do), and the
       wire's strings are strict UTF-8 */
    size_t n = strnlen(msg ? msg : "", ENCLAVE_WIRE_MAX_MSG);
    for (size_t i = 0; i < n; i++) {
        char c = msg[i];
        if (c < 0x20 || c >= 0x7f)
            c = '?';
        ans.u.error.msg[i] = c;
    }
    ans.u.error.msg[n] = '\0';
    return s_answer(&ans, out, out_len);
}

/* Makes the enclave's key pairs inside its locked memory. */
static int s_keys(enclave_state_t *st)
{
    st->secrets = sodium_malloc(sizeof *st->secrets);
    if (!st->secrets)
        return PROTO_E_NOMEM;
    sodium_memzero(st->secrets, sizeof *st->secrets);
    if (crypto_sign_keypair(st->sign_pk, st->secrets->sign_sk) != 0 ||
        crypto_box_keypair(st->box_pk, st->secrets->box_sk) != 0)
        return PROTO_E_CRYPTO;
    return PROTO_OK;
}

enclave_prog_t *enclave_prog_new(enclave_kind_t kind)
{
    if (!enclave_kind_name(kind))
        return NULL;
    enclave_prog_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->st.kind = kind;
    if (s_keys(&self->st) != PROTO_OK ||
        (kind == ENCLAVE_KIND_TRAINING && !(self->st.train = enclave_train_new())) ||
        (kind == ENCLAVE_KIND_TRAINING && !(self->st.jobs = enclave_jobs_new())) ||
        (kind == ENCLAVE_KIND_QUERY && !(self->st.query = enclave_query_new()))) {
        enclave_prog_destroy(&self);
        return NULL;
    }
    return self;
}

void enclave_prog_destroy(enclave_prog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    enclave_prog_t *self = *self_p;
    enclave_jobs_destroy(&self->st.jobs);
    enclave_train_destroy(&self->st.train);
    enclave_query_destroy(&self->st.query);
    ledger_light_destroy(&self->st.light);
    if (self->st.secrets)
        sodium_free(self->st.secrets); /* sodium_free wipes before unmapping */
    sodium_memzero(self, sizeof *self);
    free(self);
    *self_p = NULL;
}

/* Answers INIT with the report body (kind and chain bound into the report data); keeps the
   seal key and the chain id. */
static int s_init(enclave_prog_t *self, const enclave_req_t *req, uint8_t **out, size_t *out_len)
{
    enclave_state_t *st = &self->st;
    if (req->u.init.kind != st->kind)
        return s_error(ENCLAVE_E_PROTOCOL, "INIT names another kind", out, out_len);
    memcpy(st->secrets->seal_key, req->u.init.seal_key, 32);
    memcpy(st->chain_id, req->u.init.chain_id, 32);
    self->ready = true;
    enclave_ans_t ans;
    memset(&ans, 0, sizeof ans);
    ans.type = ENCLAVE_ANS_INIT;
    memcpy(ans.u.init.sign_pk, st->sign_pk, 32);
    memcpy(ans.u.init.box_pk, st->box_pk, 32);
    enclave_wire_report_data(st->kind, st->chain_id, ans.u.init.report_data);
    memcpy(ans.u.init.nonce, req->u.init.nonce, 32);
    return s_answer(&ans, out, out_len);
}

/* Which requests each kind serves (PING: all). */
static bool s_served(enclave_kind_t kind, enclave_req_type_t type)
{
    switch (type) {
    case ENCLAVE_REQ_PING:
    case ENCLAVE_REQ_CHAIN:
    case ENCLAVE_REQ_CHAIN_BLOCK:
        return true;
    case ENCLAVE_REQ_VALIDATE:
    case ENCLAVE_REQ_VALIDATE_SEALED:
        return kind == ENCLAVE_KIND_VALIDATION;
    case ENCLAVE_REQ_DONATE:
    case ENCLAVE_REQ_DONATE_KEYED:
    case ENCLAVE_REQ_STATS:
    case ENCLAVE_REQ_DROP:
        return kind == ENCLAVE_KIND_TRAINING;
    case ENCLAVE_REQ_TRAIN_PREPARE: /* federated training */
    case ENCLAVE_REQ_FED_STEP:
    case ENCLAVE_REQ_PUBLISH:
    case ENCLAVE_REQ_MODEL_SEAL:
        return kind == ENCLAVE_KIND_TRAINING;
    case ENCLAVE_REQ_QUERY:
    case ENCLAVE_REQ_MODEL_LOAD:
    case ENCLAVE_REQ_USAGE:
        return kind == ENCLAVE_KIND_QUERY;
    default:
        return false;
    }
}

/* Serves one decoded request after INIT. */
static int s_serve(enclave_state_t *st, const enclave_req_t *req, uint8_t **out, size_t *out_len)
{
    char err[ENCLAVE_WIRE_MAX_MSG + 1] = "";
    if (req->type == ENCLAVE_REQ_INIT)
        return s_error(ENCLAVE_E_PROTOCOL, "already initialised", out, out_len);
    if (!s_served(st->kind, req->type))
        return s_error(ENCLAVE_E_WRONG_KIND, "request not served by this kind", out, out_len);
    enclave_ans_t ans;
    memset(&ans, 0, sizeof ans);
    uint8_t *blob = NULL;
    int rc;
    switch (req->type) {
    case ENCLAVE_REQ_PING:
        ans.type = ENCLAVE_ANS_PONG;
        rc = PROTO_OK;
        break;
    case ENCLAVE_REQ_VALIDATE:
    case ENCLAVE_REQ_VALIDATE_SEALED:
        rc = enclave_kind_validate(st, req, &ans, &blob, err, sizeof err);
        break;
    case ENCLAVE_REQ_DONATE:
        rc = enclave_kind_donate(st, req, &ans, &blob, err, sizeof err);
        break;
    case ENCLAVE_REQ_DONATE_KEYED:
        rc = enclave_kind_donate_keyed(st, req, &ans, &blob, err, sizeof err);
        break;
    case ENCLAVE_REQ_STATS:
        rc = enclave_kind_stats(st, &ans);
        break;
    case ENCLAVE_REQ_DROP:
        rc = enclave_kind_drop(st, req, &ans);
        break;
    case ENCLAVE_REQ_QUERY:
        rc = enclave_kind_query(st, req, &ans, &blob, err, sizeof err);
        break;
    case ENCLAVE_REQ_TRAIN_PREPARE: /* federated training */
        rc = enclave_kind_train_prepare(st, req, &ans, err, sizeof err);
        break;
    case ENCLAVE_REQ_FED_STEP:
        rc = enclave_kind_fed_step(st, req, &ans, &blob, err, sizeof err);
        break;
    case ENCLAVE_REQ_PUBLISH:
        rc = enclave_kind_publish(st, req, &ans, &blob, err, sizeof err);
        break;
    case ENCLAVE_REQ_MODEL_SEAL:
        rc = enclave_kind_model_seal(st, req, &ans, &blob, err, sizeof err);
        break;
    case ENCLAVE_REQ_CHAIN:
        rc = enclave_kind_chain(st, req, &ans, err, sizeof err);
        break;
    case ENCLAVE_REQ_MODEL_LOAD:
        rc = enclave_kind_model_load(st, req, &ans, err, sizeof err);
        break;
    case ENCLAVE_REQ_CHAIN_BLOCK:
        rc = enclave_kind_chain_block(st, req, &ans, err, sizeof err);
        break;
    case ENCLAVE_REQ_USAGE:
        rc = enclave_kind_usage(st, req, &ans, &blob, err, sizeof err);
        break;
    default:
        rc = ENCLAVE_E_PROTOCOL;
        break;
    }
    if (rc == PROTO_OK)
        rc = s_answer(&ans, out, out_len);
    else if (rc != PROTO_E_NOMEM)
        /* the code's name only: a handler's detail (ml/'s parse messages) can quote bytes of
         * the data, and an answer crosses the runner in the clear (the canary rule) */
        rc = s_error(rc, proto_err_str(rc), out, out_len);
    sodium_memzero(err, sizeof err);
    free(blob);
    return rc;
}

int enclave_prog_handle(enclave_prog_t *self, const uint8_t *req_buf, size_t len, uint8_t **out,
                        size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    enclave_req_t req;
    int rc = enclave_wire_req_decode(req_buf, len, &req);
    if (rc)
        rc = s_error(rc, "malformed request", out, out_len);
    else if (!self->ready && req.type != ENCLAVE_REQ_INIT)
        rc = s_error(ENCLAVE_E_PROTOCOL, "INIT must come first", out, out_len);
    else if (!self->ready)
        rc = s_init(self, &req, out, out_len);
    else
        rc = s_serve(&self->st, &req, out, out_len);
    sodium_memzero(&req, sizeof req); /* INIT's seal key */
    return rc;
}

int enclave_prog_run(int fd, enclave_kind_t kind)
{
    enclave_prog_t *self = enclave_prog_new(kind);
    int rc = self ? PROTO_OK : PROTO_E_NOMEM;
    while (rc == PROTO_OK) {
        uint8_t *frame = NULL, *ans = NULL;
        size_t len = 0, ans_len = 0;
        rc = enclave_wire_recv(fd, -1, &frame, &len);
        if (rc == PROTO_E_IO && len == 0) {
            rc = PROTO_OK; /* the host closed between frames: a clean stop */
            break;
        }
        if (rc)
            break;
        rc = enclave_prog_handle(self, frame, len, &ans, &ans_len);
        /* every request is wiped once served: VALIDATE's data and INIT's seal key too */
        sodium_memzero(frame, len);
        free(frame);
        if (rc == PROTO_OK)
            rc = enclave_wire_send_free(fd, &ans, ans_len);
    }
    enclave_prog_destroy(&self);
    return rc;
}

/* ---- senders ---- */

int enclave_prog_donation_seal(const uint8_t box_pk[static 32], const uint8_t spec_id[static 32],
                               const uint8_t data_id[static 32], const uint8_t salt[static 32],
                               const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
    uint8_t ctx[ENCLAVE_SEAL_DONATION_CONTEXT_LEN];
    enclave_seal_donation_context(spec_id, data_id, ctx);
    return enclave_salted_seal(box_pk, ctx, sizeof ctx, salt, data, len, out, out_len);
}

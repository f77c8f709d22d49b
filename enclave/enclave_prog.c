/*  enclave_prog: genie-enclave's request loop and the senders' sealing helpers (see
 *  enclave_prog.h). Runs under the seccomp filter of enclave_sandbox.c: it reads and writes
 *  its one socket, allocates memory, reads the clock and the random generator, nothing else.
 */
#include "enclave/enclave_prog.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enclave/enclave_kind.h"
#include "enclave/enclave_seal.h"

uint64_t enclave_kind_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sends ANS; wipes and frees the encoding. */
static int s_send(int fd, const enclave_ans_t *ans)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = enclave_wire_ans_encode(ans, &buf, &len);
    if (rc)
        return rc;
    return enclave_wire_send_free(fd, &buf, len);
}

static int s_send_error(int fd, int code, const char *msg)
{
    enclave_ans_t ans;
    memset(&ans, 0, sizeof ans);
    ans.type = ENCLAVE_ANS_ERROR;
    ans.u.error.code = code < 0 && code > -600 ? code : ENCLAVE_E_FAILED;
    size_t n = strnlen(msg ? msg : "", ENCLAVE_WIRE_MAX_MSG);
    memcpy(ans.u.error.msg, msg ? msg : "", n);
    ans.u.error.msg[n] = '\0';
    return s_send(fd, &ans);
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

/* Answers INIT with the report body; keeps the seal key. */
static int s_init(int fd, enclave_state_t *st, const enclave_req_t *req)
{
    if (req->u.init.kind != st->kind)
        return s_send_error(fd, ENCLAVE_E_PROTOCOL, "INIT names another kind");
    memcpy(st->secrets->seal_key, req->u.init.seal_key, 32);
    enclave_ans_t ans;
    memset(&ans, 0, sizeof ans);
    ans.type = ENCLAVE_ANS_INIT;
    memcpy(ans.u.init.sign_pk, st->sign_pk, 32);
    memcpy(ans.u.init.box_pk, st->box_pk, 32);
    enclave_wire_report_data(st->kind, ans.u.init.report_data);
    memcpy(ans.u.init.nonce, req->u.init.nonce, 32);
    return s_send(fd, &ans);
}

/* Which requests each kind serves (PING: all). */
static bool s_served(enclave_kind_t kind, enclave_req_type_t type)
{
    switch (type) {
    case ENCLAVE_REQ_PING:
        return true;
    case ENCLAVE_REQ_VALIDATE:
        return kind == ENCLAVE_KIND_VALIDATION;
    case ENCLAVE_REQ_DONATE:
    case ENCLAVE_REQ_STATS:
    case ENCLAVE_REQ_DROP:
        return kind == ENCLAVE_KIND_TRAINING;
    case ENCLAVE_REQ_QUERY:
        return kind == ENCLAVE_KIND_QUERY;
    default:
        return false;
    }
}

/* Serves one decoded request after INIT. */
static int s_serve(int fd, enclave_state_t *st, const enclave_req_t *req)
{
    char err[ENCLAVE_WIRE_MAX_MSG + 1] = "";
    if (req->type == ENCLAVE_REQ_INIT)
        return s_send_error(fd, ENCLAVE_E_PROTOCOL, "already initialised");
    if (!s_served(st->kind, req->type))
        return s_send_error(fd, ENCLAVE_E_WRONG_KIND, "request not served by this kind");
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
        rc = enclave_kind_validate(st, req, &ans, &blob, err, sizeof err);
        break;
    case ENCLAVE_REQ_DONATE:
        rc = enclave_kind_donate(st, req, &ans, &blob, err, sizeof err);
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
    default:
        rc = ENCLAVE_E_PROTOCOL;
        break;
    }
    if (rc == PROTO_OK)
        rc = s_send(fd, &ans);
    else
        rc = s_send_error(fd, rc, err[0] ? err : proto_err_str(rc));
    free(blob);
    return rc;
}

int enclave_prog_run(int fd, enclave_kind_t kind)
{
    enclave_state_t st;
    memset(&st, 0, sizeof st);
    st.kind = kind;
    int rc = s_keys(&st);
    if (rc == PROTO_OK && kind == ENCLAVE_KIND_TRAINING && !(st.train = enclave_train_new()))
        rc = PROTO_E_NOMEM;
    bool ready = false;
    while (rc == PROTO_OK) {
        uint8_t *frame = NULL;
        size_t len = 0;
        rc = enclave_wire_recv(fd, -1, &frame, &len);
        if (rc == PROTO_E_IO && len == 0) {
            rc = PROTO_OK; /* the host closed between frames: a clean stop */
            break;
        }
        if (rc)
            break;
        enclave_req_t req;
        int drc = enclave_wire_req_decode(frame, len, &req);
        if (drc)
            rc = s_send_error(fd, drc, "malformed request");
        else if (!ready && req.type != ENCLAVE_REQ_INIT)
            rc = s_send_error(fd, ENCLAVE_E_PROTOCOL, "INIT must come first");
        else if (!ready) {
            rc = s_init(fd, &st, &req);
            ready = true;
        } else {
            /* a refusal is an answer, not the end of the loop */
            int src = s_serve(fd, &st, &req);
            rc = src == PROTO_E_IO || src == PROTO_E_NOMEM ? src : PROTO_OK;
        }
        /* every request is wiped once served: VALIDATE's data and INIT's seal key too */
        sodium_memzero(&req, sizeof req);
        sodium_memzero(frame, len);
        free(frame);
    }
    enclave_train_destroy(&st.train);
    if (st.secrets)
        sodium_free(st.secrets); /* sodium_free wipes before unmapping */
    sodium_memzero(&st, sizeof st);
    return rc;
}

/* ---- senders ---- */

int enclave_prog_donation_seal(const uint8_t box_pk[static 32], const uint8_t spec_id[static 32],
                               const uint8_t data_id[static 32], const uint8_t salt[static 32],
                               const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (len > ENCLAVE_WIRE_MAX_BLOB - 32 - ENCLAVE_SEAL_TO_OVERHEAD)
        return PROTO_E_TOO_BIG;
    uint8_t ctx[ENCLAVE_SEAL_DONATION_CONTEXT_LEN];
    enclave_seal_donation_context(spec_id, data_id, ctx);
    uint8_t *plain = malloc(32 + len);
    size_t cap = enclave_seal_to_len(32 + len);
    uint8_t *sealed = malloc(cap);
    int rc = PROTO_E_NOMEM;
    if (!plain || !sealed)
        goto out;
    memcpy(plain, salt, 32);
    if (len)
        memcpy(plain + 32, data, len);
    rc = enclave_seal_to(box_pk, ctx, sizeof ctx, plain, 32 + len, sealed, cap, out_len);
    if (rc == PROTO_OK) {
        *out = sealed;
        sealed = NULL;
    }
out:
    if (plain) {
        sodium_memzero(plain, 32 + len);
        free(plain);
    }
    free(sealed);
    return rc;
}

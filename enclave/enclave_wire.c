/*  enclave_wire: frames and strict msgpack codecs of the host <-> genie-enclave protocol
 *  (see enclave_wire.h). The enclave side runs this under its seccomp filter, so the frame
 *  I/O uses only read/write (and poll when a timeout is asked, which only the host does).
 *  The federated-training messages are in enclave_wire_train.c, the query enclave's in
 *  enclave_wire_query.c (enclave_wire_int.h joins them).
 */
#include "enclave/enclave_wire.h"
#include "enclave/enclave_wire_int.h"

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto_attest.h"
#include "proto/proto_mp.h"

/* ---- kinds ---- */

_Static_assert((int)ENCLAVE_KIND_VALIDATION == (int)PROTO_ATTEST_KIND_VALIDATION &&
                   (int)ENCLAVE_KIND_TRAINING == (int)PROTO_ATTEST_KIND_TRAINING &&
                   (int)ENCLAVE_KIND_QUERY == (int)PROTO_ATTEST_KIND_QUERY &&
                   ENCLAVE_WIRE_VERSION == PROTO_ATTEST_REPORT_DATA_VERSION,
               "the kinds and the report data are proto_attest's");

const char *enclave_kind_name(enclave_kind_t kind)
{
    return proto_attest_kind_name((uint32_t)kind);
}

int enclave_kind_parse(const char *name, enclave_kind_t *out)
{
    static const enclave_kind_t kinds[] = {ENCLAVE_KIND_VALIDATION, ENCLAVE_KIND_TRAINING,
                                           ENCLAVE_KIND_QUERY};
    if (!name)
        return PROTO_E_INVALID;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(name, enclave_kind_name(kinds[i])) == 0) {
            *out = kinds[i];
            return PROTO_OK;
        }
    }
    return PROTO_E_INVALID;
}

void enclave_wire_report_data(enclave_kind_t kind, const uint8_t chain_id[static 32],
                              uint8_t out[static 64])
{
    proto_attest_report_data((uint32_t)kind, chain_id, out);
}

/* ---- arities ---- */

/* The element count of each message (version and type included); 0 for an unknown type.
   The one table the encoders write and the decoders check. */
static uint32_t s_req_arity(enclave_req_type_t type)
{
    switch (type) {
    case ENCLAVE_REQ_PING:
    case ENCLAVE_REQ_STATS:
        return 2;
    case ENCLAVE_REQ_DROP:
        return 3;
    case ENCLAVE_REQ_VALIDATE_SEALED:
        return 4;
    case ENCLAVE_REQ_INIT:
    case ENCLAVE_REQ_QUERY:
        return 6;
    case ENCLAVE_REQ_VALIDATE:
        return 5;
    case ENCLAVE_REQ_DONATE:
    case ENCLAVE_REQ_DONATE_KEYED:
        return 7;
    default: {
        uint32_t n = enclave_wire_req_arity_train(type);
        return n ? n : enclave_wire_req_arity_query(type);
    }
    }
}

static uint32_t s_ans_arity(enclave_ans_type_t type)
{
    switch (type) {
    case ENCLAVE_ANS_PONG:
        return 2;
    case ENCLAVE_ANS_REPORT:
    case ENCLAVE_ANS_RECEIPT:
    case ENCLAVE_ANS_QUERY:
    case ENCLAVE_ANS_DROPPED:
        return 3;
    case ENCLAVE_ANS_ERROR:
    case ENCLAVE_ANS_STATS:
        return 4;
    case ENCLAVE_ANS_INIT:
        return 6;
    default: {
        uint32_t n = enclave_wire_ans_arity_train(type);
        return n ? n : enclave_wire_ans_arity_query(type);
    }
    }
}

/* ---- encoding ---- */

static int s_take(proto_wr_t *w, uint8_t **out, size_t *out_len)
{
    *out = proto_wr_take(w, out_len);
    int rc = *out ? PROTO_OK : (w->err ? w->err : PROTO_E_NOMEM);
    proto_wr_free(w);
    return rc == PROTO_E_TOO_LONG ? PROTO_E_INVALID : rc;
}

/* Starts a message: the array header, version and type. */
static void s_wr_head(proto_wr_t *w, uint32_t arity, uint64_t type)
{
    proto_wr_array(w, arity);
    proto_wr_uint(w, ENCLAVE_WIRE_VERSION);
    proto_wr_uint(w, type);
}

bool enclave_wire_bad_bytes(const uint8_t *bytes, size_t len, size_t max)
{
    return len > max || (len && !bytes);
}

/* Writes REQ's fields after the head; false when REQ is not encodable. */
static bool s_req_fields(proto_wr_t *w, const enclave_req_t *req)
{
    switch (req->type) {
    case ENCLAVE_REQ_INIT:
        if (!enclave_kind_name(req->u.init.kind))
            return false;
        proto_wr_uint(w, req->u.init.kind);
        proto_wr_bin(w, req->u.init.nonce, 32);
        proto_wr_bin(w, req->u.init.seal_key, 32);
        proto_wr_bin(w, req->u.init.chain_id, 32);
        return true;
    case ENCLAVE_REQ_PING:
    case ENCLAVE_REQ_STATS:
        return true;
    case ENCLAVE_REQ_VALIDATE:
        if (enclave_wire_bad_bytes(req->u.validate.data, req->u.validate.data_len,
                                   ENCLAVE_WIRE_MAX_DATA))
            return false;
        proto_wr_uint(w, req->u.validate.data_type);
        proto_wr_bin(w, req->u.validate.salt, 32);
        proto_wr_bin(w, req->u.validate.data, req->u.validate.data_len);
        return true;
    case ENCLAVE_REQ_VALIDATE_SEALED:
        if (enclave_wire_bad_bytes(req->u.validate_sealed.sealed, req->u.validate_sealed.sealed_len,
                                   ENCLAVE_WIRE_MAX_BLOB))
            return false;
        proto_wr_uint(w, req->u.validate_sealed.data_type);
        proto_wr_bin(w, req->u.validate_sealed.sealed, req->u.validate_sealed.sealed_len);
        return true;
    case ENCLAVE_REQ_DONATE:
        if (enclave_wire_bad_bytes(req->u.donate.sealed, req->u.donate.sealed_len,
                                   ENCLAVE_WIRE_MAX_BLOB))
            return false;
        proto_wr_bin(w, req->u.donate.spec_id, 32);
        proto_wr_bin(w, req->u.donate.data_id, 32);
        proto_wr_bin(w, req->u.donate.donor, 32);
        proto_wr_bin(w, req->u.donate.commitment, 32);
        proto_wr_bin(w, req->u.donate.sealed, req->u.donate.sealed_len);
        return true;
    case ENCLAVE_REQ_DONATE_KEYED:
        if (enclave_wire_bad_bytes(req->u.donate_keyed.grant, req->u.donate_keyed.grant_len,
                                   ENCLAVE_WIRE_MAX_GRANT) ||
            enclave_wire_bad_bytes(req->u.donate_keyed.blob, req->u.donate_keyed.blob_len,
                                   ENCLAVE_WIRE_MAX_BLOB))
            return false;
        proto_wr_bin(w, req->u.donate_keyed.spec_id, 32);
        proto_wr_bin(w, req->u.donate_keyed.data_id, 32);
        proto_wr_bin(w, req->u.donate_keyed.donor, 32);
        proto_wr_bin(w, req->u.donate_keyed.grant, req->u.donate_keyed.grant_len);
        proto_wr_bin(w, req->u.donate_keyed.blob, req->u.donate_keyed.blob_len);
        return true;
    case ENCLAVE_REQ_DROP:
        proto_wr_bin(w, req->u.drop.data_id, 32);
        return true;
    case ENCLAVE_REQ_QUERY:
        if (enclave_wire_bad_bytes(req->u.query.buy_proof, req->u.query.buy_proof_len,
                                   ENCLAVE_WIRE_MAX_PROOF) ||
            enclave_wire_bad_bytes(req->u.query.sealed, req->u.query.sealed_len,
                                   ENCLAVE_WIRE_MAX_BLOB))
            return false;
        proto_wr_bin(w, req->u.query.model_id, 32);
        proto_wr_bin(w, req->u.query.buy_proof, req->u.query.buy_proof_len);
        proto_wr_bin(w, req->u.query.buy_id, 32);
        proto_wr_bin(w, req->u.query.sealed, req->u.query.sealed_len);
        return true;
    case ENCLAVE_REQ_CHAIN:
    case ENCLAVE_REQ_MODEL_LOAD:
    case ENCLAVE_REQ_USAGE:
    case ENCLAVE_REQ_CHAIN_BLOCK:
        return enclave_wire_req_fields_query(w, req);
    default:
        return enclave_wire_req_fields_train(w, req);
    }
}

/* Writes ANS's fields after the head; false when ANS is not encodable. */
static bool s_ans_fields(proto_wr_t *w, const enclave_ans_t *ans)
{
    switch (ans->type) {
    case ENCLAVE_ANS_ERROR: {
        size_t n = strnlen(ans->u.error.msg, sizeof ans->u.error.msg);
        if (ans->u.error.code >= 0 || n > ENCLAVE_WIRE_MAX_MSG)
            return false;
        proto_wr_uint(w, (uint64_t)(-(int64_t)ans->u.error.code));
        proto_wr_str(w, ans->u.error.msg, n);
        return true;
    }
    case ENCLAVE_ANS_INIT:
        proto_wr_bin(w, ans->u.init.sign_pk, 32);
        proto_wr_bin(w, ans->u.init.box_pk, 32);
        proto_wr_bin(w, ans->u.init.report_data, 64);
        proto_wr_bin(w, ans->u.init.nonce, 32);
        return true;
    case ENCLAVE_ANS_PONG:
        return true;
    case ENCLAVE_ANS_REPORT:
    case ENCLAVE_ANS_RECEIPT:
    case ENCLAVE_ANS_QUERY:
        if (enclave_wire_bad_bytes(ans->u.blob.bytes, ans->u.blob.len, ENCLAVE_WIRE_MAX_BLOB))
            return false;
        proto_wr_bin(w, ans->u.blob.bytes, ans->u.blob.len);
        return true;
    case ENCLAVE_ANS_CHAIN:
    case ENCLAVE_ANS_LOADED:
    case ENCLAVE_ANS_USAGE:
    case ENCLAVE_ANS_LIGHT:
        return enclave_wire_ans_fields_query(w, ans);
    case ENCLAVE_ANS_STATS:
        proto_wr_uint(w, ans->u.stats.donations);
        proto_wr_uint(w, ans->u.stats.bytes);
        return true;
    case ENCLAVE_ANS_DROPPED:
        proto_wr_bool(w, ans->u.dropped.found);
        return true;
    default:
        return enclave_wire_ans_fields_train(w, ans);
    }
}

int enclave_wire_req_encode(const enclave_req_t *req, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    proto_wr_t w;
    proto_wr_init(&w);
    s_wr_head(&w, s_req_arity(req->type), req->type);
    if (!s_req_fields(&w, req)) {
        proto_wr_free(&w);
        return PROTO_E_INVALID;
    }
    return s_take(&w, out, out_len);
}

int enclave_wire_ans_encode(const enclave_ans_t *ans, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    proto_wr_t w;
    proto_wr_init(&w);
    s_wr_head(&w, s_ans_arity(ans->type), ans->type);
    if (!s_ans_fields(&w, ans)) {
        proto_wr_free(&w);
        return PROTO_E_INVALID;
    }
    return s_take(&w, out, out_len);
}

/* ---- decoding ---- */

/* Reads the array header, version and type; *arity gets the element count. */
static int s_head(proto_rd_t *r, uint32_t *arity, uint64_t *type)
{
    uint64_t version = 0;
    int rc = proto_rd_array_max(r, 16, arity);
    if (rc)
        return rc;
    if (*arity < 2)
        return PROTO_E_ARITY;
    if ((rc = proto_rd_uint(r, UINT32_MAX, &version)))
        return rc;
    if (version != ENCLAVE_WIRE_VERSION)
        return PROTO_E_VERSION;
    return proto_rd_uint(r, UINT32_MAX, type);
}

/* Reads the fields after the head; the arity has been checked against s_req_arity. The
   reader's first error sticks, so a run of reads is checked once. */
static int s_req_body(proto_rd_t *r, enclave_req_t *out)
{
    uint64_t v = 0;
    switch (out->type) {
    case ENCLAVE_REQ_INIT:
        if (proto_rd_uint(r, UINT32_MAX, &v))
            return r->err;
        if (!enclave_kind_name((enclave_kind_t)v))
            return PROTO_E_RANGE;
        out->u.init.kind = (enclave_kind_t)v;
        if (proto_rd_bin_exact(r, 32, out->u.init.nonce) ||
            proto_rd_bin_exact(r, 32, out->u.init.seal_key) ||
            proto_rd_bin_exact(r, 32, out->u.init.chain_id))
            return r->err;
        return r->err;
    case ENCLAVE_REQ_PING:
    case ENCLAVE_REQ_STATS:
        return PROTO_OK;
    case ENCLAVE_REQ_VALIDATE:
        if (proto_rd_uint(r, UINT32_MAX, &v))
            return r->err;
        out->u.validate.data_type = (uint32_t)v;
        if (proto_rd_bin_exact(r, 32, out->u.validate.salt) ||
            proto_rd_bin(r, ENCLAVE_WIRE_MAX_DATA, &out->u.validate.data,
                         &out->u.validate.data_len))
            return r->err;
        return r->err;
    case ENCLAVE_REQ_VALIDATE_SEALED:
        if (proto_rd_uint(r, UINT32_MAX, &v))
            return r->err;
        out->u.validate_sealed.data_type = (uint32_t)v;
        if (proto_rd_bin(r, ENCLAVE_WIRE_MAX_BLOB, &out->u.validate_sealed.sealed,
                         &out->u.validate_sealed.sealed_len))
            return r->err;
        return r->err;
    case ENCLAVE_REQ_DONATE:
        if (proto_rd_bin_exact(r, 32, out->u.donate.spec_id) ||
            proto_rd_bin_exact(r, 32, out->u.donate.data_id) ||
            proto_rd_bin_exact(r, 32, out->u.donate.donor) ||
            proto_rd_bin_exact(r, 32, out->u.donate.commitment) ||
            proto_rd_bin(r, ENCLAVE_WIRE_MAX_BLOB, &out->u.donate.sealed,
                         &out->u.donate.sealed_len))
            return r->err;
        return r->err;
    case ENCLAVE_REQ_DONATE_KEYED:
        if (proto_rd_bin_exact(r, 32, out->u.donate_keyed.spec_id) ||
            proto_rd_bin_exact(r, 32, out->u.donate_keyed.data_id) ||
            proto_rd_bin_exact(r, 32, out->u.donate_keyed.donor) ||
            proto_rd_bin(r, ENCLAVE_WIRE_MAX_GRANT, &out->u.donate_keyed.grant,
                         &out->u.donate_keyed.grant_len) ||
            proto_rd_bin(r, ENCLAVE_WIRE_MAX_BLOB, &out->u.donate_keyed.blob,
                         &out->u.donate_keyed.blob_len))
            return r->err;
        return r->err;
    case ENCLAVE_REQ_DROP:
        if (proto_rd_bin_exact(r, 32, out->u.drop.data_id))
            return r->err;
        return r->err;
    case ENCLAVE_REQ_QUERY:
        if (proto_rd_bin_exact(r, 32, out->u.query.model_id) ||
            proto_rd_bin(r, ENCLAVE_WIRE_MAX_PROOF, &out->u.query.buy_proof,
                         &out->u.query.buy_proof_len) ||
            proto_rd_bin_exact(r, 32, out->u.query.buy_id) ||
            proto_rd_bin(r, ENCLAVE_WIRE_MAX_BLOB, &out->u.query.sealed, &out->u.query.sealed_len))
            return r->err;
        return r->err;
    case ENCLAVE_REQ_CHAIN:
    case ENCLAVE_REQ_MODEL_LOAD:
    case ENCLAVE_REQ_USAGE:
    case ENCLAVE_REQ_CHAIN_BLOCK:
        return enclave_wire_req_body_query(r, out);
    default:
        return enclave_wire_req_body_train(r, out);
    }
}

/* Reads the fields after the head; the arity has been checked against s_ans_arity. */
static int s_ans_body(proto_rd_t *r, enclave_ans_t *out)
{
    uint64_t v = 0;
    switch (out->type) {
    case ENCLAVE_ANS_ERROR:
        if (proto_rd_uint(r, 599, &v))
            return r->err;
        if (v == 0)
            return PROTO_E_RANGE;
        out->u.error.code = -(int)v;
        if (proto_rd_str_copy(r, out->u.error.msg, sizeof out->u.error.msg))
            return r->err;
        return r->err;
    case ENCLAVE_ANS_INIT:
        if (proto_rd_bin_exact(r, 32, out->u.init.sign_pk) ||
            proto_rd_bin_exact(r, 32, out->u.init.box_pk) ||
            proto_rd_bin_exact(r, 64, out->u.init.report_data) ||
            proto_rd_bin_exact(r, 32, out->u.init.nonce))
            return r->err;
        return r->err;
    case ENCLAVE_ANS_PONG:
        return PROTO_OK;
    case ENCLAVE_ANS_REPORT:
    case ENCLAVE_ANS_RECEIPT:
    case ENCLAVE_ANS_QUERY:
        if (proto_rd_bin(r, ENCLAVE_WIRE_MAX_BLOB, &out->u.blob.bytes, &out->u.blob.len))
            return r->err;
        return r->err;
    case ENCLAVE_ANS_CHAIN:
    case ENCLAVE_ANS_LOADED:
    case ENCLAVE_ANS_USAGE:
    case ENCLAVE_ANS_LIGHT:
        return enclave_wire_ans_body_query(r, out);
    case ENCLAVE_ANS_STATS:
        if (proto_rd_uint(r, UINT64_MAX, &out->u.stats.donations) ||
            proto_rd_uint(r, UINT64_MAX, &out->u.stats.bytes))
            return r->err;
        return r->err;
    case ENCLAVE_ANS_DROPPED:
        if (proto_rd_bool(r, &out->u.dropped.found))
            return r->err;
        return r->err;
    default:
        return enclave_wire_ans_body_train(r, out);
    }
}

/* The frame decoder both directions share: bounds LEN, reads the head, checks the arity
   ARITY_OF gives for the type (0: unknown), runs BODY, requires the end of the buffer;
   on any error OUT (OUT_SIZE bytes) is wiped. BODY stores the type in OUT and reads the rest. */
typedef uint32_t (*s_arity_fn)(uint64_t type);
typedef int (*s_body_fn)(proto_rd_t *r, uint64_t type, void *out);

static int s_decode(const uint8_t *buf, size_t len, void *out, size_t out_size, s_arity_fn arity_of,
                    s_body_fn body)
{
    memset(out, 0, out_size);
    if (len > ENCLAVE_WIRE_MAX_FRAME)
        return PROTO_E_TOO_BIG;
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    uint32_t arity = 0;
    uint64_t type = 0;
    int rc = s_head(&r, &arity, &type);
    if (rc == PROTO_OK) {
        uint32_t want = arity_of(type);
        rc = want == 0 ? PROTO_E_UNKNOWN_TYPE : arity != want ? PROTO_E_ARITY : PROTO_OK;
    }
    if (rc == PROTO_OK)
        rc = body(&r, type, out);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&r);
    if (rc != PROTO_OK)
        sodium_memzero(out, out_size);
    return rc;
}

static uint32_t s_req_arity_of(uint64_t type)
{
    return type > UINT32_MAX ? 0 : s_req_arity((enclave_req_type_t)type);
}

static int s_req_decode_body(proto_rd_t *r, uint64_t type, void *out)
{
    enclave_req_t *req = out;
    req->type = (enclave_req_type_t)type;
    return s_req_body(r, req);
}

static uint32_t s_ans_arity_of(uint64_t type)
{
    return type > UINT32_MAX ? 0 : s_ans_arity((enclave_ans_type_t)type);
}

static int s_ans_decode_body(proto_rd_t *r, uint64_t type, void *out)
{
    enclave_ans_t *ans = out;
    ans->type = (enclave_ans_type_t)type;
    return s_ans_body(r, ans);
}

int enclave_wire_req_decode(const uint8_t *buf, size_t len, enclave_req_t *out)
{
    return s_decode(buf, len, out, sizeof *out, s_req_arity_of, s_req_decode_body);
}

int enclave_wire_ans_decode(const uint8_t *buf, size_t len, enclave_ans_t *out)
{
    return s_decode(buf, len, out, sizeof *out, s_ans_arity_of, s_ans_decode_body);
}

/* ---- frames ---- */

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Frames up to this size (prefix included) are written with one call. */
#define S_ONE_SEND_MAX 16384u

/* Writes all of BUF. send() with MSG_NOSIGNAL so a dead peer is an error, not SIGPIPE;
   on a non-socket (never in practice) write() is used. */
static int s_write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return PROTO_E_IO;
        buf += n;
        len -= (size_t)n;
    }
    return PROTO_OK;
}

int enclave_wire_send(int fd, const uint8_t *buf, size_t len)
{
    if (len > ENCLAVE_WIRE_MAX_FRAME)
        return PROTO_E_TOO_BIG;
    uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                      (uint8_t)len};
    if (len <= S_ONE_SEND_MAX - sizeof hdr) {
        /* one write: the reader wakes once for the whole frame, never for a prefix whose
           body is still on this side (a wakeup, and on a busy machine a wait for a CPU) */
        uint8_t frame[S_ONE_SEND_MAX];
        memcpy(frame, hdr, sizeof hdr);
        if (len)
            memcpy(frame + sizeof hdr, buf, len);
        int rc = s_write_all(fd, frame, sizeof hdr + len);
        sodium_memzero(frame, sizeof hdr + len); /* a request may carry a seal key */
        return rc;
    }
    int rc = s_write_all(fd, hdr, sizeof hdr);
    if (rc == PROTO_OK && len)
        rc = s_write_all(fd, buf, len);
    return rc;
}

int enclave_wire_send_free(int fd, uint8_t **buf_p, size_t len)
{
    int rc = enclave_wire_send(fd, *buf_p, len);
    if (*buf_p) {
        sodium_memzero(*buf_p, len);
        free(*buf_p);
        *buf_p = NULL;
    }
    return rc;
}

/* Reads exactly LEN bytes before DEADLINE (ms, monotonic; < 0: no deadline). *got says
   how many arrived before an error. */
static int s_read_all(int fd, uint8_t *buf, size_t len, int64_t deadline, size_t *got)
{
    *got = 0;
    while (*got < len) {
        if (deadline >= 0) {
            int64_t left = deadline - s_now_ms();
            if (left <= 0)
                return ENCLAVE_E_TIMEOUT;
            struct pollfd p = {.fd = fd, .events = POLLIN};
            int pr = poll(&p, 1, left > 60000 ? 60000 : (int)left);
            if (pr < 0 && errno == EINTR)
                continue;
            if (pr < 0)
                return PROTO_E_IO;
            if (pr == 0)
                continue; /* the loop rechecks the deadline */
        }
        ssize_t n = read(fd, buf + *got, len - *got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return PROTO_E_IO;
        *got += (size_t)n;
    }
    return PROTO_OK;
}

int enclave_wire_recv(int fd, int timeout_ms, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    int64_t deadline = timeout_ms < 0 ? -1 : s_now_ms() + timeout_ms;
    uint8_t hdr[4];
    size_t got = 0;
    int rc = s_read_all(fd, hdr, sizeof hdr, deadline, &got);
    if (rc)
        return rc;
    size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
    if (len > ENCLAVE_WIRE_MAX_FRAME)
        return PROTO_E_TOO_BIG;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return PROTO_E_NOMEM;
    rc = s_read_all(fd, buf, len, deadline, &got);
    if (rc) {
        sodium_memzero(buf, got);
        free(buf);
        *out_len = 1; /* closed or failed inside a frame, not cleanly between frames */
        return rc;
    }
    *out = buf;
    *out_len = len;
    return PROTO_OK;
}

bool enclave_wire_req_relayable(enclave_req_type_t t)
{
    return t == ENCLAVE_REQ_PING || t == ENCLAVE_REQ_VALIDATE_SEALED || t == ENCLAVE_REQ_DONATE ||
           t == ENCLAVE_REQ_DONATE_KEYED || t == ENCLAVE_REQ_STATS || t == ENCLAVE_REQ_DROP ||
           t == ENCLAVE_REQ_QUERY || enclave_wire_req_arity_train(t) != 0 ||
           enclave_wire_req_relayable_query(t);
}

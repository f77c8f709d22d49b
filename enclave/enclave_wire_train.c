/*  enclave_wire_train: the federated-training part of the host <-> genie-enclave protocol
 *  (enclave_wire.h): requests TRAIN_PREPARE, FED_STEP, PUBLISH, MODEL_SEAL (types 11-14),
 *  answers PREPARED, FED_OUT, PUBLICATION, SEALED_MODEL (72-75), and the id lists they
 *  carry. enclave_wire.c dispatches here (enclave_wire_int.h).
 */
#include <string.h>

#include "enclave/enclave_wire.h"
#include "enclave/enclave_wire_int.h"
#include "proto/proto_mp.h"

/* A canonical bin8 of 32 bytes: 0xc4 0x20 then the bytes. */
#define S_ID_STRIDE 34u

void enclave_wire_ids_get(const enclave_wire_ids_t *l, size_t i, uint8_t out[static 32])
{
    if (l->ids)
        memcpy(out, l->ids[i], 32);
    else
        memcpy(out, l->raw + i * S_ID_STRIDE + 2, 32);
}

uint32_t enclave_wire_req_arity_train(enclave_req_type_t type)
{
    switch (type) {
    case ENCLAVE_REQ_TRAIN_PREPARE:
        return 11;
    case ENCLAVE_REQ_FED_STEP:
        return 5;
    case ENCLAVE_REQ_PUBLISH:
    case ENCLAVE_REQ_MODEL_SEAL:
        return 4;
    default:
        return 0;
    }
}

uint32_t enclave_wire_ans_arity_train(enclave_ans_type_t type)
{
    switch (type) {
    case ENCLAVE_ANS_PREPARED:
        return 6;
    case ENCLAVE_ANS_FED_OUT:
        return 5;
    case ENCLAVE_ANS_PUBLICATION:
        return 4;
    case ENCLAVE_ANS_SEALED_MODEL:
        return 3;
    default:
        return 0;
    }
}

static bool s_wr_ids(proto_wr_t *w, const enclave_wire_ids_t *l)
{
    if (l->n > ENCLAVE_WIRE_IDS_MAX || (l->n && !l->ids && !l->raw))
        return false;
    proto_wr_array(w, (uint32_t)l->n);
    for (size_t i = 0; i < l->n; i++) {
        uint8_t id[32];
        enclave_wire_ids_get(l, i, id);
        proto_wr_bin(w, id, 32);
    }
    return true;
}

bool enclave_wire_req_fields_train(proto_wr_t *w, const enclave_req_t *req)
{
    switch (req->type) {
    case ENCLAVE_REQ_TRAIN_PREPARE: {
        const struct enclave_req_train_prepare *p = &req->u.train_prepare;
        if (enclave_wire_bad_bytes(p->config, p->config_len, ENCLAVE_WIRE_CONFIG_MAX) ||
            p->n_parties == 0 || p->n_parties > ENCLAVE_WIRE_PARTIES_MAX)
            return false;
        proto_wr_bin(w, p->job_id, 32);
        proto_wr_bin(w, p->spec_id, 32);
        proto_wr_bin(w, p->config, p->config_len);
        proto_wr_uint(w, p->party);
        proto_wr_array(w, (uint32_t)p->n_parties);
        for (size_t i = 0; i < p->n_parties; i++) {
            proto_wr_array(w, 2);
            proto_wr_bin(w, p->sign_pk[i], 32);
            proto_wr_bin(w, p->box_pk[i], 32);
        }
        proto_wr_uint(w, p->coordinator);
        if (!s_wr_ids(w, &p->eligible))
            return false;
        proto_wr_bin(w, p->query_measurement, 32);
        proto_wr_bin(w, p->attest_pk, 32);
        return true;
    }
    case ENCLAVE_REQ_FED_STEP:
        if (enclave_wire_bad_bytes(req->u.fed_step.msg, req->u.fed_step.msg_len,
                                   ENCLAVE_WIRE_MAX_BLOB))
            return false;
        proto_wr_bin(w, req->u.fed_step.job_id, 32);
        proto_wr_uint(w, req->u.fed_step.from);
        proto_wr_bin(w, req->u.fed_step.msg, req->u.fed_step.msg_len);
        return true;
    case ENCLAVE_REQ_PUBLISH:
        proto_wr_bin(w, req->u.publish.job_id, 32);
        return s_wr_ids(w, &req->u.publish.donors);
    case ENCLAVE_REQ_MODEL_SEAL:
        if (enclave_wire_bad_bytes(req->u.model_seal.quote, req->u.model_seal.quote_len,
                                   ENCLAVE_WIRE_QUOTE_MAX))
            return false;
        proto_wr_bin(w, req->u.model_seal.job_id, 32);
        proto_wr_bin(w, req->u.model_seal.quote, req->u.model_seal.quote_len);
        return true;
    default:
        return false;
    }
}

bool enclave_wire_ans_fields_train(proto_wr_t *w, const enclave_ans_t *ans)
{
    switch (ans->type) {
    case ENCLAVE_ANS_PREPARED:
        proto_wr_uint(w, ans->u.prepared.n_records);
        proto_wr_uint(w, ans->u.prepared.n_train);
        proto_wr_uint(w, ans->u.prepared.n_test);
        proto_wr_uint(w, ans->u.prepared.dropped);
        return true;
    case ENCLAVE_ANS_FED_OUT:
        if (ans->u.fed_out.n_out > ENCLAVE_WIRE_FED_OUT_MAX)
            return false;
        proto_wr_uint(w, ans->u.fed_out.state);
        proto_wr_uint(w, ans->u.fed_out.round);
        proto_wr_array(w, (uint32_t)ans->u.fed_out.n_out);
        for (size_t i = 0; i < ans->u.fed_out.n_out; i++) {
            if (enclave_wire_bad_bytes(ans->u.fed_out.out[i].msg, ans->u.fed_out.out[i].len,
                                       ENCLAVE_WIRE_MAX_BLOB))
                return false;
            proto_wr_array(w, 2);
            proto_wr_uint(w, ans->u.fed_out.out[i].to);
            proto_wr_bin(w, ans->u.fed_out.out[i].msg, ans->u.fed_out.out[i].len);
        }
        return true;
    case ENCLAVE_ANS_PUBLICATION:
        if (enclave_wire_bad_bytes(ans->u.publication.publication,
                                   ans->u.publication.publication_len, ENCLAVE_WIRE_MAX_BLOB) ||
            enclave_wire_bad_bytes(ans->u.publication.model, ans->u.publication.model_len,
                                   ENCLAVE_WIRE_MAX_BLOB))
            return false;
        proto_wr_bin(w, ans->u.publication.publication, ans->u.publication.publication_len);
        proto_wr_bin(w, ans->u.publication.model, ans->u.publication.model_len);
        return true;
    case ENCLAVE_ANS_SEALED_MODEL:
        if (enclave_wire_bad_bytes(ans->u.blob.bytes, ans->u.blob.len, ENCLAVE_WIRE_MAX_BLOB))
            return false;
        proto_wr_bin(w, ans->u.blob.bytes, ans->u.blob.len);
        return true;
    default:
        return false;
    }
}

/* Reads a list of at most ENCLAVE_WIRE_IDS_MAX 32-byte ids into a view of R's buffer. */
static int s_rd_ids(proto_rd_t *r, enclave_wire_ids_t *l)
{
    uint32_t n = 0;
    if (proto_rd_array_max(r, ENCLAVE_WIRE_IDS_MAX, &n))
        return r->err;
    l->ids = NULL;
    l->raw = r->buf + r->pos;
    l->n = n;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p = NULL;
        size_t len = 0;
        if (proto_rd_bin(r, 32, &p, &len))
            return r->err;
        if (len != 32)
            return r->err = PROTO_E_INVALID;
    }
    return PROTO_OK;
}

int enclave_wire_req_body_train(proto_rd_t *r, enclave_req_t *out)
{
    uint64_t v = 0;
    uint32_t n = 0;
    switch (out->type) {
    case ENCLAVE_REQ_TRAIN_PREPARE: {
        struct enclave_req_train_prepare *p = &out->u.train_prepare;
        if (proto_rd_bin_exact(r, 32, p->job_id) || proto_rd_bin_exact(r, 32, p->spec_id) ||
            proto_rd_bin(r, ENCLAVE_WIRE_CONFIG_MAX, &p->config, &p->config_len) ||
            proto_rd_uint(r, ENCLAVE_WIRE_PARTIES_MAX - 1, &v))
            return r->err;
        p->party = (uint32_t)v;
        if (proto_rd_array_max(r, ENCLAVE_WIRE_PARTIES_MAX, &n))
            return r->err;
        if (n == 0)
            return PROTO_E_RANGE;
        p->n_parties = n;
        for (uint32_t i = 0; i < n; i++)
            if (proto_rd_array_exact(r, 2) || proto_rd_bin_exact(r, 32, p->sign_pk[i]) ||
                proto_rd_bin_exact(r, 32, p->box_pk[i]))
                return r->err;
        if (proto_rd_uint(r, ENCLAVE_WIRE_PARTIES_MAX - 1, &v))
            return r->err;
        p->coordinator = (uint32_t)v;
        if (p->party >= n || p->coordinator >= n)
            return PROTO_E_RANGE;
        if (s_rd_ids(r, &p->eligible) || proto_rd_bin_exact(r, 32, p->query_measurement) ||
            proto_rd_bin_exact(r, 32, p->attest_pk))
            return r->err;
        return r->err;
    }
    case ENCLAVE_REQ_FED_STEP:
        if (proto_rd_bin_exact(r, 32, out->u.fed_step.job_id) || proto_rd_uint(r, UINT32_MAX, &v))
            return r->err;
        out->u.fed_step.from = (uint32_t)v;
        if (proto_rd_bin(r, ENCLAVE_WIRE_MAX_BLOB, &out->u.fed_step.msg, &out->u.fed_step.msg_len))
            return r->err;
        return r->err;
    case ENCLAVE_REQ_PUBLISH:
        if (proto_rd_bin_exact(r, 32, out->u.publish.job_id) || s_rd_ids(r, &out->u.publish.donors))
            return r->err;
        return r->err;
    case ENCLAVE_REQ_MODEL_SEAL:
        if (proto_rd_bin_exact(r, 32, out->u.model_seal.job_id) ||
            proto_rd_bin(r, ENCLAVE_WIRE_QUOTE_MAX, &out->u.model_seal.quote,
                         &out->u.model_seal.quote_len))
            return r->err;
        return r->err;
    default:
        return PROTO_E_UNKNOWN_TYPE;
    }
}

int enclave_wire_ans_body_train(proto_rd_t *r, enclave_ans_t *out)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    uint32_t n = 0;
    switch (out->type) {
    case ENCLAVE_ANS_PREPARED:
        if (proto_rd_uint(r, UINT32_MAX, &a) || proto_rd_uint(r, UINT32_MAX, &b) ||
            proto_rd_uint(r, UINT32_MAX, &c) || proto_rd_uint(r, UINT32_MAX, &d))
            return r->err;
        out->u.prepared.n_records = (uint32_t)a;
        out->u.prepared.n_train = (uint32_t)b;
        out->u.prepared.n_test = (uint32_t)c;
        out->u.prepared.dropped = (uint32_t)d;
        return PROTO_OK;
    case ENCLAVE_ANS_FED_OUT:
        if (proto_rd_uint(r, ENCLAVE_FED_FAILED, &a) || proto_rd_uint(r, UINT32_MAX, &b) ||
            proto_rd_array_max(r, ENCLAVE_WIRE_FED_OUT_MAX, &n))
            return r->err;
        if (a == 0)
            return PROTO_E_RANGE;
        out->u.fed_out.state = (uint32_t)a;
        out->u.fed_out.round = (uint32_t)b;
        out->u.fed_out.n_out = n;
        for (uint32_t i = 0; i < n; i++) {
            if (proto_rd_array_exact(r, 2) || proto_rd_uint(r, ENCLAVE_WIRE_PARTIES_MAX - 1, &a) ||
                proto_rd_bin(r, ENCLAVE_WIRE_MAX_BLOB, &out->u.fed_out.out[i].msg,
                             &out->u.fed_out.out[i].len))
                return r->err;
            out->u.fed_out.out[i].to = (uint32_t)a;
        }
        return PROTO_OK;
    case ENCLAVE_ANS_PUBLICATION:
        if (proto_rd_bin(r, ENCLAVE_WIRE_MAX_BLOB, &out->u.publication.publication,
                         &out->u.publication.publication_len) ||
            proto_rd_bin(r, ENCLAVE_WIRE_MAX_BLOB, &out->u.publication.model,
                         &out->u.publication.model_len))
            return r->err;
        return PROTO_OK;
    case ENCLAVE_ANS_SEALED_MODEL:
        if (proto_rd_bin(r, ENCLAVE_WIRE_MAX_BLOB, &out->u.blob.bytes, &out->u.blob.len))
            return r->err;
        return PROTO_OK;
    default:
        return PROTO_E_UNKNOWN_TYPE;
    }
}

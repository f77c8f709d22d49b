/*  enclave_wire_query: the query enclave's part of the host <-> genie-enclave protocol
 *  (enclave_wire.h, issue 16): requests CHAIN, MODEL_LOAD, USAGE, CHAIN_BLOCK (types 10, 15,
 *  16, 17) and answers CHAIN, LOADED, USAGE, LIGHT (76-79). enclave_wire.c dispatches here
 *  (enclave_wire_int.h).
 */
#include "enclave/enclave_wire.h"
#include "enclave/enclave_wire_int.h"
#include "proto/proto_mp.h"

/* CHAIN_BLOCK's shape: a probe (height 0, no block, no cert) or a block and its cert at a
   height >= 1 above AFTER. */
static bool s_chain_block_ok(const struct enclave_req_chain_block *c)
{
    if (c->height == 0)
        return c->after == 0 && c->block_len == 0 && c->cert_len == 0;
    return c->block_len > 0 && c->cert_len > 0 && c->after < c->height;
}

uint32_t enclave_wire_req_arity_query(enclave_req_type_t type)
{
    switch (type) {
    case ENCLAVE_REQ_CHAIN:
    case ENCLAVE_REQ_USAGE:
        return 3;
    case ENCLAVE_REQ_MODEL_LOAD:
        return 4;
    case ENCLAVE_REQ_CHAIN_BLOCK:
        return 6;
    default:
        return 0;
    }
}

uint32_t enclave_wire_ans_arity_query(enclave_ans_type_t type)
{
    switch (type) {
    case ENCLAVE_ANS_CHAIN:
    case ENCLAVE_ANS_USAGE:
    case ENCLAVE_ANS_LIGHT:
        return 3;
    case ENCLAVE_ANS_LOADED:
        return 4;
    default:
        return 0;
    }
}

bool enclave_wire_req_fields_query(proto_wr_t *w, const enclave_req_t *req)
{
    switch (req->type) {
    case ENCLAVE_REQ_CHAIN:
        if (!req->u.chain.genesis_len ||
            enclave_wire_bad_bytes(req->u.chain.genesis, req->u.chain.genesis_len,
                                   ENCLAVE_WIRE_MAX_BLOB))
            return false;
        proto_wr_bin(w, req->u.chain.genesis, req->u.chain.genesis_len);
        return true;
    case ENCLAVE_REQ_MODEL_LOAD:
        if (enclave_wire_bad_bytes(req->u.model_load.sealed, req->u.model_load.sealed_len,
                                   ENCLAVE_WIRE_MAX_BLOB) ||
            enclave_wire_bad_bytes(req->u.model_load.proof, req->u.model_load.proof_len,
                                   ENCLAVE_WIRE_MAX_PROOF))
            return false;
        proto_wr_bin(w, req->u.model_load.sealed, req->u.model_load.sealed_len);
        proto_wr_bin(w, req->u.model_load.proof, req->u.model_load.proof_len);
        return true;
    case ENCLAVE_REQ_USAGE:
        proto_wr_bin(w, req->u.usage.buy_id, 32);
        return true;
    case ENCLAVE_REQ_CHAIN_BLOCK:
        if (!s_chain_block_ok(&req->u.chain_block) ||
            enclave_wire_bad_bytes(req->u.chain_block.block, req->u.chain_block.block_len,
                                   ENCLAVE_WIRE_MAX_BLOCK) ||
            enclave_wire_bad_bytes(req->u.chain_block.cert, req->u.chain_block.cert_len,
                                   ENCLAVE_WIRE_MAX_CERT))
            return false;
        proto_wr_uint(w, req->u.chain_block.after);
        proto_wr_uint(w, req->u.chain_block.height);
        proto_wr_bin(w, req->u.chain_block.block, req->u.chain_block.block_len);
        proto_wr_bin(w, req->u.chain_block.cert, req->u.chain_block.cert_len);
        return true;
    default:
        return false;
    }
}

bool enclave_wire_ans_fields_query(proto_wr_t *w, const enclave_ans_t *ans)
{
    switch (ans->type) {
    case ENCLAVE_ANS_CHAIN:
        proto_wr_bin(w, ans->u.chain.chain_id, 32);
        return true;
    case ENCLAVE_ANS_LOADED:
        proto_wr_bin(w, ans->u.loaded.model_id, 32);
        proto_wr_bin(w, ans->u.loaded.model_hash, 32);
        return true;
    case ENCLAVE_ANS_USAGE:
        if (enclave_wire_bad_bytes(ans->u.blob.bytes, ans->u.blob.len, ENCLAVE_WIRE_MAX_BLOB))
            return false;
        proto_wr_bin(w, ans->u.blob.bytes, ans->u.blob.len);
        return true;
    case ENCLAVE_ANS_LIGHT:
        proto_wr_uint(w, ans->u.light.height);
        return true;
    default:
        return false;
    }
}

int enclave_wire_req_body_query(proto_rd_t *r, enclave_req_t *out)
{
    switch (out->type) {
    case ENCLAVE_REQ_CHAIN:
        if (proto_rd_bin(r, ENCLAVE_WIRE_MAX_BLOB, &out->u.chain.genesis,
                         &out->u.chain.genesis_len))
            return r->err;
        return out->u.chain.genesis_len ? PROTO_OK : PROTO_E_INVALID;
    case ENCLAVE_REQ_MODEL_LOAD:
        if (proto_rd_bin(r, ENCLAVE_WIRE_MAX_BLOB, &out->u.model_load.sealed,
                         &out->u.model_load.sealed_len) ||
            proto_rd_bin(r, ENCLAVE_WIRE_MAX_PROOF, &out->u.model_load.proof,
                         &out->u.model_load.proof_len))
            return r->err;
        return r->err;
    case ENCLAVE_REQ_USAGE:
        if (proto_rd_bin_exact(r, 32, out->u.usage.buy_id))
            return r->err;
        return r->err;
    case ENCLAVE_REQ_CHAIN_BLOCK:
        if (proto_rd_uint(r, UINT64_MAX, &out->u.chain_block.after) ||
            proto_rd_uint(r, UINT64_MAX, &out->u.chain_block.height) ||
            proto_rd_bin(r, ENCLAVE_WIRE_MAX_BLOCK, &out->u.chain_block.block,
                         &out->u.chain_block.block_len) ||
            proto_rd_bin(r, ENCLAVE_WIRE_MAX_CERT, &out->u.chain_block.cert,
                         &out->u.chain_block.cert_len))
            return r->err;
        return s_chain_block_ok(&out->u.chain_block) ? PROTO_OK : PROTO_E_INVALID;
    default:
        return PROTO_E_UNKNOWN_TYPE;
    }
}

int enclave_wire_ans_body_query(proto_rd_t *r, enclave_ans_t *out)
{
    switch (out->type) {
    case ENCLAVE_ANS_CHAIN:
        if (proto_rd_bin_exact(r, 32, out->u.chain.chain_id))
            return r->err;
        return r->err;
    case ENCLAVE_ANS_LOADED:
        if (proto_rd_bin_exact(r, 32, out->u.loaded.model_id) ||
            proto_rd_bin_exact(r, 32, out->u.loaded.model_hash))
            return r->err;
        return r->err;
    case ENCLAVE_ANS_USAGE:
        if (proto_rd_bin(r, ENCLAVE_WIRE_MAX_BLOB, &out->u.blob.bytes, &out->u.blob.len))
            return r->err;
        return r->err;
    case ENCLAVE_ANS_LIGHT:
        if (proto_rd_uint(r, UINT64_MAX, &out->u.light.height))
            return r->err;
        return r->err;
    default:
        return PROTO_E_UNKNOWN_TYPE;
    }
}

/* Query enclaves (issue 16): MODEL_LOAD (a sealed model and a proof the enclave checks) and
   USAGE (a public signed count) may be relayed; CHAIN is the host's own: the genesis it
   carries decides which chain the enclave believes, so only the host that started the
   enclave sets it. CHAIN_BLOCK too: the enclave checks every block, but the host keeps
   the count of what it fed (AFTER), which another feeder would put out of step. */
bool enclave_wire_req_relayable_query(enclave_req_type_t t)
{
    return t == ENCLAVE_REQ_MODEL_LOAD || t == ENCLAVE_REQ_USAGE;
}

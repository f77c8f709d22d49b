/*  fuzz_enclave_request: libFuzzer harness for the enclave's request decoder
 *  (enclave/enclave_wire.h) and the enclave's protocol core behind it (enclave_prog_handle).
 *
 *  The whole input is one request frame, as a host (or anyone who got hold of the socket)
 *  could send it. For any input: the request and answer decoders return 0 or a proto_err_t
 *  and leave nothing behind on error; a decoded message re-encodes to the input byte for
 *  byte (only canonical encodings are accepted) and its byte views lie inside the input.
 *  Then an initialised enclave of each kind handles the input: it must always make an
 *  answer, the answer must decode, a malformed request must get an ERROR, a request the
 *  kind does not serve must get ENCLAVE_E_WRONG_KIND, and nothing may crash (the kinds
 *  behind it: ml_validate_buffer on VALIDATE data, sealed-blob opening on DONATE and QUERY,
 *  grant and data-blob opening on DONATE_KEYED; the job config and the sample builder on
 *  TRAIN_PREPARE, job lookup on FED_STEP, PUBLISH and MODEL_SEAL; the light client on CHAIN,
 *  whose genesis then stays if it is the chain the enclaves were bound to at INIT, its
 *  block checks on CHAIN_BLOCK, and its proof checks on MODEL_LOAD and QUERY; the buy table
 *  on USAGE).
 *  A broken invariant calls abort().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_prog.h"
#include "enclave/enclave_wire.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_enclave_request: invariant broken: %s\n", what);
        abort();
    }
}

static bool s_inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
    return n == 0 || (p >= data && p + n <= data + size);
}

/* The views of the federated training requests (types 11-14) lie inside the input. */
static void s_check_req_train(const uint8_t *data, size_t size, const enclave_req_t *req)
{
    const enclave_wire_ids_t *ids = NULL;
    if (req->type == ENCLAVE_REQ_TRAIN_PREPARE) {
        s_require(
            s_inside(req->u.train_prepare.config, req->u.train_prepare.config_len, data, size) &&
                req->u.train_prepare.party < req->u.train_prepare.n_parties &&
                req->u.train_prepare.coordinator < req->u.train_prepare.n_parties,
            "train_prepare view or index out of bounds");
        ids = &req->u.train_prepare.eligible;
    } else if (req->type == ENCLAVE_REQ_FED_STEP) {
        s_require(s_inside(req->u.fed_step.msg, req->u.fed_step.msg_len, data, size),
                  "fed_step view outside the input");
    } else if (req->type == ENCLAVE_REQ_PUBLISH) {
        ids = &req->u.publish.donors;
    } else {
        s_require(s_inside(req->u.model_seal.quote, req->u.model_seal.quote_len, data, size),
                  "model_seal view outside the input");
    }
    if (ids)
        s_require(ids->n <= ENCLAVE_WIRE_IDS_MAX && s_inside(ids->raw, ids->n * 34, data, size),
                  "id list outside the input");
}

static void s_check_req(const uint8_t *data, size_t size, enclave_req_t *req, int *rc)
{
    *rc = enclave_wire_req_decode(data, size, req);
    s_require(*rc <= 0 && *rc >= PROTO_E_INVALID, "request decoder returned a stray code");
    if (*rc != PROTO_OK) {
        static const enclave_req_t zero;
        s_require(memcmp(req, &zero, sizeof zero) == 0, "request left behind after an error");
        return;
    }
    switch (req->type) {
    case ENCLAVE_REQ_VALIDATE:
        s_require(s_inside(req->u.validate.data, req->u.validate.data_len, data, size),
                  "validate data view outside the input");
        break;
    case ENCLAVE_REQ_VALIDATE_SEALED:
        s_require(
            s_inside(req->u.validate_sealed.sealed, req->u.validate_sealed.sealed_len, data, size),
            "validate_sealed view outside the input");
        break;
    case ENCLAVE_REQ_DONATE:
        s_require(s_inside(req->u.donate.sealed, req->u.donate.sealed_len, data, size),
                  "donate view outside the input");
        break;
    case ENCLAVE_REQ_DONATE_KEYED:
        s_require(s_inside(req->u.donate_keyed.grant, req->u.donate_keyed.grant_len, data, size) &&
                      s_inside(req->u.donate_keyed.blob, req->u.donate_keyed.blob_len, data, size),
                  "donate_keyed views outside the input");
        break;
    case ENCLAVE_REQ_QUERY:
        s_require(s_inside(req->u.query.sealed, req->u.query.sealed_len, data, size) &&
                      s_inside(req->u.query.buy_proof, req->u.query.buy_proof_len, data, size),
                  "query views outside the input");
        break;
    case ENCLAVE_REQ_CHAIN:
        s_require(s_inside(req->u.chain.genesis, req->u.chain.genesis_len, data, size),
                  "chain view outside the input");
        break;
    case ENCLAVE_REQ_MODEL_LOAD:
        s_require(s_inside(req->u.model_load.sealed, req->u.model_load.sealed_len, data, size) &&
                      s_inside(req->u.model_load.proof, req->u.model_load.proof_len, data, size),
                  "model_load views outside the input");
        break;
    case ENCLAVE_REQ_CHAIN_BLOCK:
        s_require(s_inside(req->u.chain_block.block, req->u.chain_block.block_len, data, size) &&
                      s_inside(req->u.chain_block.cert, req->u.chain_block.cert_len, data, size),
                  "chain_block views outside the input");
        break;
    case ENCLAVE_REQ_TRAIN_PREPARE: /* federated training */
    case ENCLAVE_REQ_FED_STEP:
    case ENCLAVE_REQ_PUBLISH:
    case ENCLAVE_REQ_MODEL_SEAL:
        s_check_req_train(data, size, req);
        break;
    default:
        break;
    }
    uint8_t *again = NULL;
    size_t n = 0;
    s_require(enclave_wire_req_encode(req, &again, &n) == PROTO_OK, "request re-encoding failed");
    s_require(n == size && memcmp(again, data, size) == 0, "encode(decode(b)) != b for a request");
    free(again);
}

static void s_check_ans(const uint8_t *data, size_t size)
{
    enclave_ans_t ans;
    int rc = enclave_wire_ans_decode(data, size, &ans);
    s_require(rc <= 0 && rc >= PROTO_E_INVALID, "answer decoder returned a stray code");
    if (rc != PROTO_OK)
        return;
    if (ans.type == ENCLAVE_ANS_REPORT || ans.type == ENCLAVE_ANS_RECEIPT ||
        ans.type == ENCLAVE_ANS_QUERY || ans.type == ENCLAVE_ANS_SEALED_MODEL ||
        ans.type == ENCLAVE_ANS_USAGE)
        s_require(s_inside(ans.u.blob.bytes, ans.u.blob.len, data, size),
                  "answer view outside the input");
    if (ans.type == ENCLAVE_ANS_PUBLICATION)
        s_require(s_inside(ans.u.publication.publication, ans.u.publication.publication_len, data,
                           size) &&
                      s_inside(ans.u.publication.model, ans.u.publication.model_len, data, size),
                  "publication views outside the input");
    if (ans.type == ENCLAVE_ANS_FED_OUT)
        for (size_t i = 0; i < ans.u.fed_out.n_out; i++)
            s_require(s_inside(ans.u.fed_out.out[i].msg, ans.u.fed_out.out[i].len, data, size),
                      "fed_out view outside the input");
    uint8_t *again = NULL;
    size_t n = 0;
    s_require(enclave_wire_ans_encode(&ans, &again, &n) == PROTO_OK, "answer re-encoding failed");
    s_require(n == size && memcmp(again, data, size) == 0, "encode(decode(b)) != b for an answer");
    free(again);
}

/* The chain id of the seed corpus's real genesis (chain-real, written by
   tests/fuzz/gen_enclave_query_corpus.c, which prints it): the fuzzed enclaves are bound to
   it at INIT, so that CHAIN is accepted and the proof checks behind it are reached; any
   other genesis is refused as another chain's. */
static const uint8_t s_chain_id[32] = {
    0x72, 0x95, 0xd4, 0xd0, 0xd1, 0x71, 0xac, 0xa5, 0xcc, 0xc8, 0x3f, 0x88, 0x7b, 0xc1, 0x43, 0xc7,
    0xa0, 0xd7, 0x2d, 0x96, 0xc7, 0x77, 0x30, 0x54, 0xbb, 0x3d, 0xbb, 0xa5, 0x6f, 0xa7, 0x87, 0xdc};

/* An enclave of KIND that has answered INIT (made once, kept across inputs), bound to the
   corpus chain: its report data must be the kind's for that chain. */
static enclave_prog_t *s_prog(enclave_kind_t kind)
{
    enclave_prog_t *p = enclave_prog_new(kind);
    s_require(p != NULL, "enclave_prog_new");
    enclave_req_t init;
    memset(&init, 0, sizeof init);
    init.type = ENCLAVE_REQ_INIT;
    init.u.init.kind = kind;
    memcpy(init.u.init.chain_id, s_chain_id, 32);
    uint8_t *req = NULL, *ans = NULL;
    size_t req_len = 0, ans_len = 0;
    s_require(enclave_wire_req_encode(&init, &req, &req_len) == 0, "INIT encoding");
    s_require(enclave_prog_handle(p, req, req_len, &ans, &ans_len) == 0, "INIT handling");
    enclave_ans_t a;
    s_require(enclave_wire_ans_decode(ans, ans_len, &a) == 0 && a.type == ENCLAVE_ANS_INIT,
              "INIT answer");
    uint8_t rd[64];
    enclave_wire_report_data(kind, s_chain_id, rd);
    s_require(memcmp(rd, a.u.init.report_data, 64) == 0, "INIT report data not the chain's");
    free(req);
    free(ans);
    return p;
}

static bool s_train_req(enclave_req_type_t t)
{
    return t == ENCLAVE_REQ_TRAIN_PREPARE || t == ENCLAVE_REQ_FED_STEP ||
           t == ENCLAVE_REQ_PUBLISH || t == ENCLAVE_REQ_MODEL_SEAL;
}

static void s_handle(enclave_prog_t *p, enclave_kind_t kind, const uint8_t *data, size_t size,
                     const enclave_req_t *req, int req_rc)
{
    uint8_t *out = NULL;
    size_t n = 0;
    s_require(enclave_prog_handle(p, data, size, &out, &n) == PROTO_OK, "no answer made");
    enclave_ans_t ans;
    s_require(enclave_wire_ans_decode(out, n, &ans) == PROTO_OK, "answer does not decode");
    if (req_rc != PROTO_OK) {
        s_require(ans.type == ENCLAVE_ANS_ERROR && ans.u.error.code == req_rc,
                  "malformed request not refused with its code");
    } else {
        bool served =
            req->type == ENCLAVE_REQ_PING ||
            ((req->type == ENCLAVE_REQ_VALIDATE || req->type == ENCLAVE_REQ_VALIDATE_SEALED) &&
             kind == ENCLAVE_KIND_VALIDATION) ||
            ((req->type == ENCLAVE_REQ_DONATE || req->type == ENCLAVE_REQ_DONATE_KEYED ||
              req->type == ENCLAVE_REQ_STATS || req->type == ENCLAVE_REQ_DROP) &&
             kind == ENCLAVE_KIND_TRAINING) ||
            (s_train_req(req->type) && kind == ENCLAVE_KIND_TRAINING) ||
            req->type == ENCLAVE_REQ_CHAIN || req->type == ENCLAVE_REQ_CHAIN_BLOCK ||
            ((req->type == ENCLAVE_REQ_QUERY || req->type == ENCLAVE_REQ_MODEL_LOAD ||
              req->type == ENCLAVE_REQ_USAGE) &&
             kind == ENCLAVE_KIND_QUERY);
        if (req->type == ENCLAVE_REQ_INIT)
            s_require(ans.type == ENCLAVE_ANS_ERROR && ans.u.error.code == ENCLAVE_E_PROTOCOL,
                      "second INIT accepted");
        else if (!served)
            s_require(ans.type == ENCLAVE_ANS_ERROR && ans.u.error.code == ENCLAVE_E_WRONG_KIND,
                      "request of another kind served");
        else if (req->type == ENCLAVE_REQ_PING)
            s_require(ans.type == ENCLAVE_ANS_PONG, "PING not answered with PONG");
        else if (req->type == ENCLAVE_REQ_STATS)
            s_require(ans.type == ENCLAVE_ANS_STATS, "STATS not answered with counts");
        else if (req->type == ENCLAVE_REQ_CHAIN_BLOCK && ans.type != ENCLAVE_ANS_ERROR)
            s_require(ans.type == ENCLAVE_ANS_LIGHT, "CHAIN_BLOCK not answered with a height");
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static enclave_prog_t *progs[3];
    if (!progs[0]) {
        s_require(proto_crypto_init() == 0, "crypto init");
        progs[0] = s_prog(ENCLAVE_KIND_VALIDATION);
        progs[1] = s_prog(ENCLAVE_KIND_TRAINING);
        progs[2] = s_prog(ENCLAVE_KIND_QUERY);
    }
    enclave_req_t req;
    int rc = 0;
    s_check_req(data, size, &req, &rc);
    s_check_ans(data, size);
    s_handle(progs[0], ENCLAVE_KIND_VALIDATION, data, size, &req, rc);
    s_handle(progs[1], ENCLAVE_KIND_TRAINING, data, size, &req, rc);
    s_handle(progs[2], ENCLAVE_KIND_QUERY, data, size, &req, rc);
    return 0;
}

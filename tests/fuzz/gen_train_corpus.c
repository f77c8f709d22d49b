/*  gen_train_corpus: writes the federated-training seeds of tests/fuzz/corpus/enclave_request/
 *  (TRAIN_PREPARE, FED_STEP, PUBLISH, MODEL_SEAL requests and the PREPARED, FED_OUT,
 *  PUBLICATION, SEALED_MODEL answers) and tests/fuzz/corpus/enclave_train/ (job configs and
 *  payloads, with fuzz_enclave_train's selector byte in front).
 *
 *  Not built by CMake (the fuzz glob is fuzz_*.c). Build and run by hand from the
 *  repository root:
 *      cmake --build build --target genie_enclave
 *      cc -std=c11 -D_DEFAULT_SOURCE -I. tests/fuzz/gen_train_corpus.c \
 *         build/libgenie_enclave.a build/libgenie_ml.a build/libgenie_proto.a \
 *         $(pkg-config --libs libsodium msgpack) -lm -o /tmp/gen_train_corpus
 *      /tmp/gen_train_corpus tests/fuzz/corpus
 *  (with a sanitizer build, add -fsanitize=address,undefined).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "enclave/enclave_kind_train.h"
#include "enclave/enclave_wire.h"
#include "proto/proto_mp.h"
#include "tests/fuzz/gen_util.h"

static const char *s_root;

static void s_put(const char *dir, const char *name, uint8_t sel, bool with_sel, const uint8_t *p,
                  size_t n)
{
    gen_put(s_root, dir, name, with_sel ? sel : -1, p, n);
}

static void s_req(const char *name, const enclave_req_t *req)
{
    uint8_t *b = NULL;
    size_t n = 0;
    if (enclave_wire_req_encode(req, &b, &n) != 0)
        exit(1);
    s_put("enclave_request", name, 0, false, b, n);
    free(b);
}

static void s_ans(const char *name, const enclave_ans_t *ans)
{
    uint8_t *b = NULL;
    size_t n = 0;
    if (enclave_wire_ans_encode(ans, &b, &n) != 0)
        exit(1);
    s_put("enclave_request", name, 0, false, b, n);
    free(b);
}

static void s_f64(proto_wr_t *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    uint8_t b[9] = {0xcb};
    for (int i = 0; i < 8; i++)
        b[1 + i] = (uint8_t)(u >> (56 - 8 * i));
    proto_wr_raw(w, b, 9);
}

/* A config of RULE with the aggregation's DP at clip AGG_CLIP, epsilon AGG_EPS. */
static uint8_t *s_config(uint32_t rule, double agg_clip, double agg_eps, size_t *len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 16);
    proto_wr_array(&w, 3);
    proto_wr_str(&w, "age", 3);
    proto_wr_str(&w, "bmi", 3);
    proto_wr_str(&w, "rs1:A", 5);
    proto_wr_str(&w, "trait", 5);
    proto_wr_str(&w, "logistic", 8);
    proto_wr_uint(&w, 5);
    proto_wr_uint(&w, 1);
    s_f64(&w, 0.1);
    proto_wr_uint(&w, 16);
    s_f64(&w, 0.001);
    s_f64(&w, 1.0);
    s_f64(&w, 1e-5);
    proto_wr_uint(&w, rule);
    s_f64(&w, 0.2);
    proto_wr_uint(&w, 7);
    proto_wr_uint(&w, 20);
    s_f64(&w, agg_clip);
    s_f64(&w, agg_eps);
    uint8_t *out = proto_wr_take(&w, len);
    proto_wr_free(&w);
    return out;
}

static void s_payload(const char *name, uint8_t p, const enclave_train_payload_t *pl)
{
    uint8_t *b = NULL;
    size_t n = 0;
    if (enclave_train_payload_encode(pl, &b, &n) != 0)
        exit(1);
    s_put("enclave_train", name, p - 1, true, b, n);
    free(b);
}

int main(int argc, char **argv)
{
    if (argc != 2 || sodium_init() < 0)
        return 2;
    s_root = argv[1];
    uint8_t ids[3][32], junk[200];
    randombytes_buf(ids, sizeof ids);
    randombytes_buf(junk, sizeof junk);
    size_t clen = 0;
    uint8_t *cfg = s_config(2, 0.2, 500, &clen);
    size_t blen = 0, nlen = 0, clen0 = 0;
    uint8_t *bad = s_config(9, 0.2, 500, &blen);
    uint8_t *noclip = s_config(2, 0, 500, &nlen); /* noise without a clip norm: refused */
    uint8_t *nodp = s_config(2, 0, 0, &clen0);    /* no aggregation DP: accepted */

    enclave_req_t r;
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_TRAIN_PREPARE;
    randombytes_buf(r.u.train_prepare.job_id, 32);
    randombytes_buf(r.u.train_prepare.spec_id, 32);
    r.u.train_prepare.config = cfg;
    r.u.train_prepare.config_len = clen;
    r.u.train_prepare.party = 1;
    r.u.train_prepare.n_parties = 3;
    randombytes_buf(r.u.train_prepare.sign_pk, sizeof r.u.train_prepare.sign_pk);
    randombytes_buf(r.u.train_prepare.box_pk, sizeof r.u.train_prepare.box_pk);
    r.u.train_prepare.eligible.ids = (const uint8_t(*)[32])ids;
    r.u.train_prepare.eligible.n = 3;
    s_req("train_prepare", &r);
    r.u.train_prepare.config = bad;
    r.u.train_prepare.config_len = blen;
    s_req("train_prepare_bad_rule", &r);

    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_FED_STEP;
    r.u.fed_step.from = ENCLAVE_WIRE_FED_TICK;
    s_req("fed_step_tick", &r);
    r.u.fed_step.from = 2;
    r.u.fed_step.msg = junk;
    r.u.fed_step.msg_len = sizeof junk;
    s_req("fed_step_msg", &r);

    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_PUBLISH;
    r.u.publish.donors.ids = (const uint8_t(*)[32])ids;
    r.u.publish.donors.n = 3;
    s_req("publish", &r);

    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_MODEL_SEAL;
    r.u.model_seal.quote = junk;
    r.u.model_seal.quote_len = 120;
    s_req("model_seal", &r);

    enclave_ans_t a;
    memset(&a, 0, sizeof a);
    a.type = ENCLAVE_ANS_PREPARED;
    a.u.prepared.n_records = 10;
    a.u.prepared.n_train = 4;
    a.u.prepared.n_test = 1;
    a.u.prepared.dropped = 1;
    s_ans("ans_prepared", &a);
    memset(&a, 0, sizeof a);
    a.type = ENCLAVE_ANS_FED_OUT;
    a.u.fed_out.state = ENCLAVE_FED_RUNNING;
    a.u.fed_out.round = 3;
    a.u.fed_out.n_out = 2;
    a.u.fed_out.out[0].to = 1;
    a.u.fed_out.out[0].msg = junk;
    a.u.fed_out.out[0].len = 100;
    a.u.fed_out.out[1].to = 2;
    a.u.fed_out.out[1].msg = junk + 100;
    a.u.fed_out.out[1].len = 100;
    s_ans("ans_fed_out", &a);
    memset(&a, 0, sizeof a);
    a.type = ENCLAVE_ANS_PUBLICATION;
    a.u.publication.publication = junk;
    a.u.publication.publication_len = 150;
    a.u.publication.model = junk + 150;
    a.u.publication.model_len = 50;
    s_ans("ans_publication", &a);
    memset(&a, 0, sizeof a);
    a.type = ENCLAVE_ANS_SEALED_MODEL;
    a.u.blob.bytes = junk;
    a.u.blob.len = 80;
    s_ans("ans_sealed_model", &a);

    /* enclave_train: configs (selector 0) and payloads (selector p - 1) */
    s_put("enclave_train", "config", 0, true, cfg, clen);
    s_put("enclave_train", "config_bad_rule", 0, true, bad, blen);
    s_put("enclave_train", "config_agg_no_clip", 0, true, noclip, nlen);
    s_put("enclave_train", "config_no_agg_dp", 0, true, nodp, clen0);
    double a3[3] = {1, 2, 3}, b3[3] = {4, 5, 6}, w4[8] = {0.1, -0.2, 0.3, 0.5, 1, 2, 3, 4};
    enclave_train_payload_t pl = {.kind = ENCLAVE_TRAIN_P_START};
    s_payload("p_start", 3, &pl);
    pl = (enclave_train_payload_t){
        .kind = ENCLAVE_TRAIN_P_STATS, .n = 9, .dim = 3, .a = a3, .b = b3};
    s_payload("p_stats", 3, &pl);
    pl = (enclave_train_payload_t){.kind = ENCLAVE_TRAIN_P_SCALE, .dim = 3, .a = a3, .b = b3};
    s_payload("p_scale", 3, &pl);
    pl = (enclave_train_payload_t){.kind = ENCLAVE_TRAIN_P_FED, .fed = junk, .fed_len = 40};
    s_payload("p_fed", 3, &pl);
    pl = (enclave_train_payload_t){
        .kind = ENCLAVE_TRAIN_P_LOCAL, .dim = 4, .a = w4, .ids = ids, .n_ids = 3};
    s_payload("p_local", 3, &pl);
    pl = (enclave_train_payload_t){
        .kind = ENCLAVE_TRAIN_P_EVAL, .dim = 4, .models = w4, .n_models = 2};
    s_payload("p_eval", 3, &pl);
    uint64_t correct[2] = {5, 7};
    pl = (enclave_train_payload_t){.kind = ENCLAVE_TRAIN_P_REPORT,
                                   .n = 9,
                                   .correct = correct,
                                   .n_models = 2,
                                   .loss = 3.5,
                                   .eps = 0.7};
    s_payload("p_report", 3, &pl);
    free(cfg);
    free(bad);
    free(noclip);
    free(nodp);
    return 0;
}

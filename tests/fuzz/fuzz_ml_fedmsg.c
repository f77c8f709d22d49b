/*  fuzz_ml_fedmsg: libFuzzer harness for the federated-learning message decoder
 *  (ml/ml_fed.h) and the coordinator and party that consume it.
 *
 *  The whole input is one message. For any input the decoder must not crash and must
 *  return 0 or one of the proto codes it documents. When it succeeds: the kind, party and
 *  count are in range, every weight is finite, and re-encoding gives the input back byte
 *  for byte (only canonical encodings are accepted). Then the input goes to a started
 *  coordinator (4 parties, the decoded dimension or 3) and to a party training on 8
 *  fixed examples, which must answer with a code from their documented sets and, for a
 *  party, an update that decodes again. A broken invariant calls abort(), which libFuzzer
 *  (and tests/fuzz/replay_main.c) report as a crash.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_fed.h"
#include "proto/proto_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DIM 64

static void s_require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_ml_fedmsg: invariant broken: %s\n", what);
        abort();
    }
}

static bool s_decode_code_ok(int rc)
{
    return rc == 0 || rc == PROTO_E_TRUNCATED || rc == PROTO_E_TYPE || rc == PROTO_E_ARITY ||
           rc == PROTO_E_TOO_LONG || rc == PROTO_E_TRAILING || rc == PROTO_E_NONCANONICAL ||
           rc == PROTO_E_RANGE || rc == PROTO_E_INVALID;
}

static void s_coordinator(const uint8_t *data, size_t size, size_t dim)
{
    ml_fed_spec_t spec = {.parties = 4,
                          .rounds = 2,
                          .dim = dim,
                          .rule = {ML_ROBUST_MEDIAN, 0, 0},
                          .quorum = 1,
                          .round_timeout = 10,
                          .max_retries = 1};
    ml_fed_coord_t *c = ml_fed_coord_new(&spec);
    s_require(c != NULL, "coordinator");
    s_require(ml_fed_coord_start(c, 0) == 0, "start");
    ml_fed_event_t ev;
    for (int i = 0; i < 2; i++) { /* the second copy is a duplicate or a stale update */
        int rc = ml_fed_coord_input(c, data, size, 1, &ev);
        s_require(s_decode_code_ok(rc) || rc == ML_E_FED_MSG, "coordinator code");
        s_require(rc != 0 || ev == ML_FED_EV_NONE || ev == ML_FED_EV_IGNORED, "event");
    }
    s_require(ml_fed_coord_tick(c, 10, &ev) == 0, "tick");
    s_require(ev == ML_FED_EV_ROUND || ev == ML_FED_EV_RESENT, "tick event");
    for (size_t j = 0; j < dim; j++)
        s_require(isfinite(ml_fed_coord_weights(c)[j]), "finite global weights");
    ml_fed_coord_destroy(&c);
}

static void s_party(const uint8_t *data, size_t size, size_t dim)
{
    ml_mat_t *x = ml_mat_new(8, dim - 1);
    double y[8];
    s_require(x != NULL, "matrix");
    for (size_t i = 0; i < 8; i++) {
        y[i] = (double)(i % 2);
        for (size_t j = 0; j + 1 < dim; j++)
            x->v[i * (dim - 1) + j] = (double)((i * 7 + j * 3) % 5) - 2.0;
    }
    ml_fed_party_opts_t o = {
        .id = 1, .rounds = 1, .sgd = {.epochs = 1, .batch = 4, .lr = 0.1}, .seed = 1};
    ml_fed_party_t *p = ml_fed_party_new(&o, x, y);
    s_require(p != NULL, "party");
    uint8_t *out = NULL;
    size_t out_len = 0;
    int rc = ml_fed_party_step(p, data, size, &out, &out_len, NULL, 0);
    s_require(s_decode_code_ok(rc) || rc == ML_E_FED_MSG || rc == ML_E_SPEC, "party code");
    s_require(rc == 0 || out == NULL, "output on error");
    if (out) {
        ml_fed_msg_t u;
        s_require(ml_fed_msg_decode(out, out_len, dim, &u) == 0, "update decodes");
        s_require(u.kind == ML_FED_UPDATE && u.party == 1 && u.n == 8, "update fields");
        ml_fed_msg_clear(&u);
    }
    free(out);
    ml_fed_party_destroy(&p);
    ml_mat_destroy(&x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ml_fed_msg_t m;
    int rc = ml_fed_msg_decode(data, size, MAX_DIM, &m);
    s_require(s_decode_code_ok(rc), "decoder returned a stray value");
    size_t dim = 3;
    if (rc == 0) {
        s_require(m.kind >= ML_FED_GLOBAL && m.kind <= ML_FED_DONE, "kind");
        s_require(m.party < ML_FED_PARTIES_MAX && m.n <= ML_FED_SAMPLES_MAX, "range");
        s_require((m.kind == ML_FED_UPDATE) == (m.n != 0), "count fits the kind");
        s_require(m.dim <= MAX_DIM && (m.dim == 0 || m.w != NULL), "dimension");
        for (size_t j = 0; j < m.dim; j++)
            s_require(isfinite(m.w[j]), "finite weight");
        uint8_t *enc = NULL;
        size_t len = 0;
        s_require(ml_fed_msg_encode(&m, &enc, &len) == 0, "re-encode");
        s_require(len == size && memcmp(enc, data, size) == 0, "not canonical");
        free(enc);
        if (m.dim > 0)
            dim = m.dim;
    }
    ml_fed_msg_clear(&m);
    s_coordinator(data, size, dim);
    s_party(data, size, dim);
    return 0;
}

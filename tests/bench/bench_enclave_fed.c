/*  bench_enclave_fed: end-to-end federated training time through real training enclaves.
 *
 *  K training enclaves (genie-enclave processes) each receive N/K synthetic donors (a
 *  phenotype CSV and a 23andMe file each, as test_enclave_fed makes them); then the job
 *  runs as a runner would drive it, relaying every sealed FED_STEP message in-process
 *  (no network): TRAIN_PREPARE to every party, the rounds, the evaluation and the Shapley
 *  weights, PUBLISH. Prints the time of each stage, the messages relayed and their bytes.
 *  Run from a Release build. usage: bench_enclave_fed [DONORS [PARTIES [ROUNDS]]]
 *  (default 5000 donors over 4 enclaves, 10 rounds)
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_enclave_util.h"
#include "enclave/enclave_host.h"
#include "enclave/enclave_platform.h"
#include "enclave/enclave_prog.h"
#include "enclave/enclave_train_config.h"
#include "ml/ml_split.h"
#include "proto/proto_attest.h"
#include "proto/proto_key.h"
#include "proto/proto_report.h"

#ifndef GENIE_ENCLAVE_EXE
#error "GENIE_ENCLAVE_EXE must be defined by tests/CMakeLists.txt"
#endif

#define KMAX 16

static uint64_t s_rng = 12345;

static double s_unif(void)
{
    return (double)(ml_rng_next(&s_rng) >> 11) * 0x1.0p-53;
}

static double s_gauss(void)
{
    return sqrt(-2.0 * log(s_unif() + 1e-300)) * cos(2.0 * M_PI * s_unif());
}

typedef struct {
    enclave_host_t *h;
    uint8_t sign_pk[32], box_pk[32];
} s_party_t;

static int s_donate(s_party_t *pt, const uint8_t spec[32], const uint8_t donor[32],
                    const char *data, uint8_t id[32])
{
    uint8_t salt[32];
    randombytes_buf(salt, 32);
    size_t len = strlen(data);
    enclave_req_t req;
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_DONATE;
    memcpy(req.u.donate.spec_id, spec, 32);
    proto_data_commit(salt, (const uint8_t *)data, len, req.u.donate.commitment);
    memcpy(req.u.donate.data_id, req.u.donate.commitment, 32);
    memcpy(id, req.u.donate.commitment, 32);
    memcpy(req.u.donate.donor, donor, 32);
    uint8_t *sealed = NULL;
    size_t slen = 0;
    if (enclave_prog_donation_seal(pt->box_pk, spec, id, salt, (const uint8_t *)data, len, &sealed,
                                   &slen) != 0)
        return -1;
    req.u.donate.sealed = sealed;
    req.u.donate.sealed_len = slen;
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    int rc = enclave_host_call(pt->h, &req, -1, &ans, &frame, &flen, NULL, 0);
    free(frame);
    free(sealed);
    return rc;
}

typedef struct {
    uint32_t to, from;
    uint8_t *msg;
    size_t len;
} s_msg_t;

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 5000;
    size_t k = argc > 2 ? strtoul(argv[2], NULL, 10) : 4;
    uint32_t rounds = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 10;
    if (proto_crypto_init() != 0 || k < 1 || k > KMAX || n < 10 * k || rounds < 1 || rounds > 100 ||
        2 * n / k > 4096) {
        fprintf(stderr, "usage: bench_enclave_fed [DONORS [PARTIES (1..16) [ROUNDS]]]\n");
        return 2;
    }
    char dir[] = "/tmp/bench_fed_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    proto_key_t *as = NULL;
    enclave_platform_t *plat = bench_platform("bench_enclave_fed", dir, 0xbe, &as);
    if (!plat)
        return 1;
    s_party_t ps[KMAX];
    enclave_host_opts_t ho;
    enclave_host_opts_default(&ho);
    char err[256] = "";
    for (size_t i = 0; i < k; i++) {
        ps[i].h = enclave_host_new(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_TRAINING, plat, &ho);
        if (!ps[i].h || enclave_host_start(ps[i].h, err, sizeof err) != 0) {
            fprintf(stderr, "start: %s\n", err);
            return 1;
        }
        memcpy(ps[i].sign_pk, enclave_host_quote(ps[i].h)->body.sign_pk, 32);
        memcpy(ps[i].box_pk, enclave_host_quote(ps[i].h)->body.box_pk, 32);
    }
    uint8_t spec[32], job[32];
    randombytes_buf(spec, 32);
    randombytes_buf(job, 32);
    uint8_t(*ids)[32] = calloc(2 * n, 32);
    if (!ids)
        return 1;

    double t0 = bench_now_us();
    for (size_t d = 0; d < n; d++) {
        double age = 20 + floor(s_unif() * 60), bmi = 18 + s_unif() * 17, x1 = s_gauss();
        int dose = (s_unif() < 0.3) + (s_unif() < 0.3);
        double z = 0.06 * (age - 50) + 0.15 * (bmi - 26.5) + 1.5 * x1 + (dose - 0.6);
        int y = s_unif() < 1.0 / (1.0 + exp(-z));
        char csv[256], g23[128];
        snprintf(csv, sizeof csv, "id,age,bmi,x1,trait\nD%zu,%.0f,%.3f,%.4f,%d\n", d, age, bmi, x1,
                 y);
        snprintf(g23, sizeof g23, "# synthetic\nrs1\t1\t1000\t%s\nrs2\t1\t2000\tCT\n",
                 dose == 2   ? "AA"
                 : dose == 1 ? "AG"
                             : "GG");
        uint8_t donor[32];
        randombytes_buf(donor, 32);
        s_party_t *pt = &ps[d % k];
        if (s_donate(pt, spec, donor, csv, ids[2 * d]) != 0 ||
            s_donate(pt, spec, donor, g23, ids[2 * d + 1]) != 0) {
            fprintf(stderr, "donation failed\n");
            return 1;
        }
    }
    double t_donate = bench_now_us() - t0;

    enclave_train_config_t c;
    enclave_train_config_default(&c);
    c.p = 4;
    const char *f[4] = {"age", "bmi", "x1", "rs1:A"};
    for (int i = 0; i < 4; i++)
        snprintf(c.features[i], sizeof c.features[i], "%s", f[i]);
    snprintf(c.label, sizeof c.label, "trait");
    c.rounds = rounds;
    c.rule = 2;
    uint8_t *cfg = NULL;
    size_t clen = 0;
    if (enclave_train_config_encode(&c, &cfg, &clen, err, sizeof err) != 0)
        return 1;
    t0 = bench_now_us();
    for (size_t i = 0; i < k; i++) {
        enclave_req_t req;
        memset(&req, 0, sizeof req);
        req.type = ENCLAVE_REQ_TRAIN_PREPARE;
        memcpy(req.u.train_prepare.job_id, job, 32);
        memcpy(req.u.train_prepare.spec_id, spec, 32);
        req.u.train_prepare.config = cfg;
        req.u.train_prepare.config_len = clen;
        req.u.train_prepare.party = (uint32_t)i;
        req.u.train_prepare.n_parties = k;
        for (size_t j = 0; j < k; j++) {
            memcpy(req.u.train_prepare.sign_pk[j], ps[j].sign_pk, 32);
            memcpy(req.u.train_prepare.box_pk[j], ps[j].box_pk, 32);
        }
        req.u.train_prepare.eligible.ids = (const uint8_t(*)[32])ids;
        req.u.train_prepare.eligible.n = 2 * n;
        memcpy(req.u.train_prepare.attest_pk, proto_key_public(as), 32);
        enclave_ans_t ans;
        uint8_t *frame = NULL;
        size_t flen = 0;
        int rc = enclave_host_call(ps[i].h, &req, -1, &ans, &frame, &flen, err, sizeof err);
        free(frame);
        if (rc) {
            fprintf(stderr, "TRAIN_PREPARE: %s (%s)\n", proto_err_str(rc), err);
            return 1;
        }
    }
    double t_prepare = bench_now_us() - t0;

    /* relay: a FIFO of sealed messages */
    size_t cap = 1024, head = 0, cnt = 0, relayed = 0, bytes = 0;
    s_msg_t *q = calloc(cap, sizeof *q);
    uint32_t cstate = 0;
    t0 = bench_now_us();
    enclave_req_t req;
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_FED_STEP;
    memcpy(req.u.fed_step.job_id, job, 32);
    req.u.fed_step.from = ENCLAVE_WIRE_FED_TICK;
    uint32_t to = 0;
    uint8_t *cur = NULL; /* the message being delivered */
    for (;;) {
        enclave_ans_t ans;
        uint8_t *frame = NULL;
        size_t flen = 0;
        int rc = enclave_host_call(ps[to].h, &req, -1, &ans, &frame, &flen, err, sizeof err);
        if (rc || ans.type != ENCLAVE_ANS_FED_OUT) {
            fprintf(stderr, "FED_STEP: %s (%s)\n", proto_err_str(rc), err);
            return 1;
        }
        if (to == 0)
            cstate = ans.u.fed_out.state;
        for (size_t i = 0; i < ans.u.fed_out.n_out; i++) {
            if (head + cnt == cap) {
                memmove(q, q + head, cnt * sizeof *q);
                head = 0;
                if (cnt == cap && !(q = realloc(q, (cap *= 2) * sizeof *q)))
                    return 1;
            }
            s_msg_t *m = &q[head + cnt++];
            m->to = ans.u.fed_out.out[i].to;
            m->from = to;
            m->len = ans.u.fed_out.out[i].len;
            m->msg = malloc(m->len);
            memcpy(m->msg, ans.u.fed_out.out[i].msg, m->len);
            bytes += m->len;
        }
        free(frame);
        free(cur);
        cur = NULL;
        if (cstate == ENCLAVE_FED_DONE || cnt == 0)
            break;
        s_msg_t m = q[head++];
        cnt--;
        to = m.to;
        req.u.fed_step.from = m.from;
        cur = m.msg;
        req.u.fed_step.msg = m.msg;
        req.u.fed_step.msg_len = m.len;
        relayed++;
    }
    double t_train = bench_now_us() - t0;
    if (cstate != ENCLAVE_FED_DONE) {
        fprintf(stderr, "the job did not finish\n");
        return 1;
    }

    t0 = bench_now_us();
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_PUBLISH;
    memcpy(req.u.publish.job_id, job, 32);
    req.u.publish.donors.ids = (const uint8_t(*)[32])ids;
    req.u.publish.donors.n = 2 * n;
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    int rc = enclave_host_call(ps[0].h, &req, -1, &ans, &frame, &flen, err, sizeof err);
    double t_publish = bench_now_us() - t0;
    if (rc) {
        fprintf(stderr, "PUBLISH: %s (%s)\n", proto_err_str(rc), err);
        return 1;
    }
    printf("federated training, %zu donors (%zu records) over %zu enclaves, %u rounds, median\n", n,
           2 * n, k, rounds);
    printf("  donations (seal, DONATE, receipt)   %9.1f ms  (%.3f ms each)\n", t_donate / 1e3,
           t_donate / 1e3 / (double)(2 * n));
    printf("  TRAIN_PREPARE, all parties          %9.1f ms\n", t_prepare / 1e3);
    printf("  rounds + evaluation + weights       %9.1f ms  (%zu messages, %zu bytes relayed)\n",
           t_train / 1e3, relayed, bytes);
    printf("  PUBLISH                             %9.1f ms  (publication %zu B)\n", t_publish / 1e3,
           ans.u.publication.publication_len);
    printf("  training end to end (prepare..publish) %6.1f ms\n",
           (t_prepare + t_train + t_publish) / 1e3);
    free(frame);
    free(cfg);
    free(ids);
    free(q);
    for (size_t i = 0; i < k; i++)
        enclave_host_destroy(&ps[i].h);
    enclave_platform_destroy(&plat);
    proto_key_destroy(&as);
    bench_platform_remove(dir);
    return 0;
}

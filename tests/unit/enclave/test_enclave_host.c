/*  test_enclave_host: real genie-enclave processes spawned, attested, called, crashed,
 *  restarted and stopped through enclave_host, on a simulated platform certified by a test
 *  attestation service.
 *
 *  Shows: a validation enclave answers PING and signs a validation report that verifies
 *  against its quote's signing key (and commits to the data under the owner's salt); the
 *  quote verifies offline against the AS key and the host's measurement, and its report
 *  data is the kind's bound to the chain id the host gave at INIT; requests a kind
 *  does not serve are refused; a donation sealed to training enclave A is accepted by A
 *  (receipt verifies with A's key) and refused by B, and what the host relays contains no
 *  plaintext; a wrong commitment is refused; STATS and DROP; a fresh query enclave refuses
 *  a query (an unknown buy, no proof), a model before CHAIN and an unknown buy's usage; a
 *  crashed enclave (SIGKILL) is restarted by supervise and its new quote reported through the
 * callback; a tampered copy of the binary has another measurement and its quote fails a policy
 * wanting the original; genie-enclave refuses to start with an extra fd or an environment; stop is
 * clean. The random seed of the test data is printed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto_attest.h"
#include "enclave/enclave_host.h"
#include "enclave/enclave_measure.h"
#include "enclave/enclave_platform.h"
#include "enclave/enclave_prog.h"
#include "enclave_host_testutil.h"
#include "proto/proto_report.h"
#include "enclave/enclave_seal.h"
#include "proto/proto_key.h"
#include "testutil.h"

#ifndef GENIE_ENCLAVE_EXE
#error "GENIE_ENCLAVE_EXE (the genie-enclave binary) must be defined by tests/CMakeLists.txt"
#endif

typedef struct {
    int calls;
    uint8_t last_sign_pk[32];
} quote_log_t;

static void s_on_quote(void *ctx, enclave_host_t *host, const proto_attest_quote_t *q)
{
    (void)host;
    quote_log_t *log = ctx;
    log->calls++;
    memcpy(log->last_sign_pk, q->body.sign_pk, 32);
}

static uint8_t s_as_pk[32];
static const uint8_t s_chain[32] = {0x9e, 0x11, 0x42}; /* the chain the enclaves are bound to */

static enclave_host_t *s_spawn(const char *exe, enclave_kind_t kind, enclave_platform_t *plat,
                               quote_log_t *log)
{
    enclave_host_opts_t o;
    enclave_host_opts_default(&o);
    o.backoff_min_ms = 10;
    o.backoff_max_ms = 200;
    o.inherit_stderr = true;
    o.on_quote = s_on_quote;
    o.on_quote_ctx = log;
    memcpy(o.chain_id, s_chain, 32);
    return enclave_testutil_host_start(exe, kind, plat, &o);
}

/* Verifies H's quote offline against the AS key and the host's measurement. */
static int s_verify_quote(const enclave_host_t *h, const uint8_t *want_measurement)
{
    return enclave_testutil_quote_verify(h, s_as_pk, want_measurement);
}

static void s_test_validation(enclave_platform_t *plat)
{
    quote_log_t log = {0};
    enclave_host_t *h = s_spawn(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_VALIDATION, plat, &log);
    CHECK_EQ(log.calls, 1);
    uint8_t m[32], want[32];
    enclave_host_measurement(h, m);
    CHECK(enclave_measure_path(GENIE_ENCLAVE_EXE, "validation", want, NULL, 0) == 0);
    CHECK(memcmp(m, want, 32) == 0);
    CHECK_EQ(s_verify_quote(h, want), 0);
    /* the quote's report data names the kind and the chain bound at INIT */
    uint8_t rd[64];
    enclave_wire_report_data(ENCLAVE_KIND_VALIDATION, s_chain, rd);
    CHECK(memcmp(enclave_host_quote(h)->body.report_data, rd, 64) == 0);

    enclave_req_t req;
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    char err[256] = "";
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_PING;
    CHECK_EQ(enclave_host_call(h, &req, -1, &ans, &frame, &flen, err, sizeof err), 0);
    CHECK_EQ(ans.type, ENCLAVE_ANS_PONG);
    free(frame);

    static const char csv[] = "id,age,height\n1,34,172.5\n2,51,160.0\n3,29,181.2\n";
    req.type = ENCLAVE_REQ_VALIDATE;
    req.u.validate.data_type = 2;
    randombytes_buf(req.u.validate.salt, 32);
    req.u.validate.data = (const uint8_t *)csv;
    req.u.validate.data_len = sizeof csv - 1;
    int rc = enclave_host_call(h, &req, -1, &ans, &frame, &flen, err, sizeof err);
    if (rc)
        printf("validate: %s (%s)\n", proto_err_str(rc), err);
    CHECK_EQ(rc, 0);
    CHECK_EQ(ans.type, ENCLAVE_ANS_REPORT);
    proto_report_t r = {0};
    CHECK(proto_report_decode(ans.u.blob.bytes, ans.u.blob.len, &r) == 0);
    CHECK_EQ(proto_report_verify(&r, enclave_host_quote(h)->body.sign_pk), 0);
    uint8_t commit[32];
    proto_data_commit(req.u.validate.salt, (const uint8_t *)csv, sizeof csv - 1, commit);
    CHECK(memcmp(r.data_commitment, commit, 32) == 0);
    CHECK_EQ(r.data_type, 2);
    CHECK(r.record_count >= 3);
    printf("  validation report: %llu records, %u/%u checks\n", (unsigned long long)r.record_count,
           r.checks_passed, r.checks_run);
    free(frame);

    /* the same table sealed to the enclave: same commitment, and the runner relays only
       ciphertext; sealed to another key or under another data type, it does not open */
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    uint8_t salt[32];
    memcpy(salt, req.u.validate.salt, 32);
    CHECK(enclave_prog_validation_seal(enclave_host_quote(h)->body.box_pk, 2, salt,
                                       (const uint8_t *)csv, sizeof csv - 1, &sealed,
                                       &sealed_len) == 0);
    CHECK(memmem(sealed, sealed_len, "height", 6) == NULL);
    enclave_req_t sreq = {.type = ENCLAVE_REQ_VALIDATE_SEALED};
    sreq.u.validate_sealed.data_type = 2;
    sreq.u.validate_sealed.sealed = sealed;
    sreq.u.validate_sealed.sealed_len = sealed_len;
    rc = enclave_host_call(h, &sreq, -1, &ans, &frame, &flen, err, sizeof err);
    CHECK_EQ(rc, 0);
    proto_report_t r2 = {0};
    CHECK(rc == 0 && proto_report_decode(ans.u.blob.bytes, ans.u.blob.len, &r2) == 0);
    CHECK(memcmp(r2.data_commitment, commit, 32) == 0 && r2.record_count == r.record_count);
    CHECK_EQ(proto_report_verify(&r2, enclave_host_quote(h)->body.sign_pk), 0);
    free(frame);
    sreq.u.validate_sealed.data_type = 1; /* sealed as phenotype, sent as genotype */
    CHECK_EQ(enclave_host_call(h, &sreq, -1, &ans, &frame, &flen, err, sizeof err),
             PROTO_E_DECRYPT);
    free(sealed);

    /* genotypes: a 23andMe-style file and a multi-sample VCF (htslib's parsers run inside
       the sandbox: the enclave must answer, not die of SIGSYS) */
    char *geno = malloc(64 * 1024);
    size_t n = (size_t)snprintf(geno, 64 * 1024, "# rsid\tchromosome\tposition\tgenotype\n");
    for (unsigned i = 0; i < 150; i++)
        n += (size_t)snprintf(geno + n, 64 * 1024 - n, "rs%u\t1\t%u\t%s\n", 1000 + i,
                              10000 + 37 * i, (const char *[]){"AA", "AG", "GG", "--"}[i % 4]);
    req.u.validate.data_type = 1;
    req.u.validate.data = (const uint8_t *)geno;
    req.u.validate.data_len = n;
    rc = enclave_host_call(h, &req, -1, &ans, &frame, &flen, err, sizeof err);
    if (rc)
        printf("validate 23andMe: %s (%s)\n", proto_err_str(rc), err);
    CHECK_EQ(rc, 0);
    CHECK(rc == 0 && proto_report_decode(ans.u.blob.bytes, ans.u.blob.len, &r) == 0);
    CHECK(r.record_count == 150 && r.data_type == 1);
    printf("  23andMe report: %llu records, checks passed 0x%x of 0x%x\n",
           (unsigned long long)r.record_count, r.checks_passed, r.checks_run);
    free(frame);
    n = (size_t)snprintf(geno, 64 * 1024,
                         "##fileformat=VCFv4.2\n##contig=<ID=1>\n"
                         "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
                         "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\tS3\n");
    for (unsigned i = 0; i < 120; i++)
        n += (size_t)snprintf(geno + n, 64 * 1024 - n,
                              "1\t%u\trs%u\tA\tG\t.\tPASS\t.\tGT\t0/0\t0/1\t%s\n", 1000 + 10 * i, i,
                              i % 3 ? "1/1" : "0/1");
    req.u.validate.data_len = n;
    rc = enclave_host_call(h, &req, -1, &ans, &frame, &flen, err, sizeof err);
    if (rc)
        printf("validate VCF: %s (%s)\n", proto_err_str(rc), err);
    CHECK_EQ(rc, 0);
    CHECK(rc == 0 && proto_report_decode(ans.u.blob.bytes, ans.u.blob.len, &r) == 0);
    CHECK_EQ(proto_report_verify(&r, enclave_host_quote(h)->body.sign_pk), 0);
    printf("  VCF report: %llu records, checks passed 0x%x of 0x%x\n",
           (unsigned long long)r.record_count, r.checks_passed, r.checks_run);
    free(frame);
    /* a buffer that does not parse: ml/'s error code comes back as the answer */
    req.u.validate.data_type = 2;
    req.u.validate.data = (const uint8_t *)"a,b\n\"unterminated";
    req.u.validate.data_len = 18;
    rc = enclave_host_call(h, &req, -1, &ans, &frame, &flen, err, sizeof err);
    printf("  malformed table: %s (%s)\n", proto_err_str(rc), err);
    CHECK(rc <= ML_E_FIRST && rc > NODE_E_FIRST);
    CHECK(frame == NULL);
    CHECK(enclave_host_running(h));
    free(geno);

    /* a training request to a validation enclave is refused, and the enclave goes on */
    req.type = ENCLAVE_REQ_STATS;
    CHECK_EQ(enclave_host_call(h, &req, -1, &ans, &frame, &flen, err, sizeof err),
             ENCLAVE_E_WRONG_KIND);
    CHECK(frame == NULL);
    req.type = ENCLAVE_REQ_PING;
    CHECK_EQ(enclave_host_call(h, &req, -1, &ans, &frame, &flen, err, sizeof err), 0);
    free(frame);

    int status = 0;
    CHECK_EQ(enclave_host_stop(h, &status), 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(!enclave_host_running(h));
    enclave_host_destroy(&h);
    CHECK(h == NULL);
}

/* Donates DATA (sealed to TO's box key) through FROM's host. Returns the call's code; the
   receipt, if any, is decoded into *R. */
static int s_donate(enclave_host_t *through, const enclave_host_t *to, const uint8_t salt[32],
                    const uint8_t *data, size_t len, const uint8_t commitment[32],
                    const uint8_t data_id[32], proto_receipt_t *r)
{
    enclave_req_t req;
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_DONATE;
    memset(req.u.donate.spec_id, 0x51, 32);
    memcpy(req.u.donate.data_id, data_id, 32);
    memset(req.u.donate.donor, 0xd0, 32);
    memcpy(req.u.donate.commitment, commitment, 32);
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    CHECK(enclave_prog_donation_seal(enclave_host_quote(to)->body.box_pk, req.u.donate.spec_id,
                                     data_id, salt, data, len, &sealed, &sealed_len) == 0);
    /* the host only ever sees this: no plaintext in it */
    CHECK(memmem(sealed, sealed_len, data, len) == NULL);
    CHECK(memmem(sealed, sealed_len, salt, 32) == NULL);
    req.u.donate.sealed = sealed;
    req.u.donate.sealed_len = sealed_len;
    int rc = enclave_testutil_call_receipt(through, &req, r);
    free(sealed);
    return rc;
}

static void s_test_training(enclave_platform_t *plat, unsigned seed)
{
    quote_log_t la = {0}, lb = {0};
    enclave_host_t *a = s_spawn(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_TRAINING, plat, &la);
    enclave_host_t *b = s_spawn(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_TRAINING, plat, &lb);
    CHECK(memcmp(enclave_host_quote(a)->body.box_pk, enclave_host_quote(b)->body.box_pk, 32));

    uint8_t data[6000], salt[32], commit[32], id[32];
    srand(seed);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)("ACGT"[rand() % 4]);
    randombytes_buf(salt, 32);
    randombytes_buf(id, 32);
    proto_data_commit(salt, data, sizeof data, commit);

    proto_receipt_t r;
    CHECK_EQ(s_donate(a, a, salt, data, sizeof data, commit, id, &r), 0);
    CHECK_EQ(proto_receipt_verify(&r, enclave_host_quote(a)->body.sign_pk), 0);
    CHECK(memcmp(r.data_commitment, commit, 32) == 0);
    CHECK(memcmp(r.data_id, id, 32) == 0);
    /* sealed to A, sent to B: B cannot open it */
    CHECK_EQ(s_donate(b, a, salt, data, sizeof data, commit, id, &r), PROTO_E_DECRYPT);
    /* sealed to B with a commitment that is not the data's: refused */
    uint8_t bad[32];
    memcpy(bad, commit, 32);
    bad[0] ^= 1;
    CHECK_EQ(s_donate(b, b, salt, data, sizeof data, bad, id, &r), ENCLAVE_E_COMMIT);
    /* the same donation twice is refused */
    CHECK_EQ(s_donate(a, a, salt, data, sizeof data, commit, id, &r), PROTO_E_INVALID);

    uint64_t n = 0, bytes = 0;
    enclave_testutil_stats(a, &n, &bytes);
    CHECK(n == 1 && bytes == sizeof data);
    enclave_testutil_stats(b, &n, &bytes);
    CHECK(n == 0 && bytes == 0);

    enclave_req_t req = {.type = ENCLAVE_REQ_DROP};
    memcpy(req.u.drop.data_id, id, 32);
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    CHECK_EQ(enclave_host_call(a, &req, -1, &ans, &frame, &flen, NULL, 0), 0);
    CHECK(ans.type == ENCLAVE_ANS_DROPPED && ans.u.dropped.found);
    free(frame);
    enclave_testutil_stats(a, &n, &bytes);
    CHECK(n == 0 && bytes == 0);

    /* crash A: supervise notices, restarts it after the backoff, reports the new quote */
    CHECK_EQ(s_donate(a, a, salt, data, sizeof data, commit, id, &r), 0);
    pid_t old = enclave_host_pid(a);
    uint8_t old_pk[32];
    memcpy(old_pk, enclave_host_quote(a)->body.sign_pk, 32);
    CHECK_EQ(la.calls, 1);
    CHECK(kill(old, SIGKILL) == 0);
    char err[256] = "";
    int rc = enclave_host_supervise(a, 10000, err, sizeof err);
    if (rc)
        printf("supervise: %s (%s)\n", proto_err_str(rc), err);
    CHECK_EQ(rc, 0);
    CHECK(enclave_host_running(a));
    CHECK(enclave_host_pid(a) != old);
    CHECK_EQ(enclave_host_restarts(a), 1u);
    int last = enclave_host_last_status(a);
    CHECK(WIFSIGNALED(last) && WTERMSIG(last) == SIGKILL);
    CHECK_EQ(la.calls, 2);
    CHECK(memcmp(la.last_sign_pk, enclave_host_quote(a)->body.sign_pk, 32) == 0);
    CHECK(memcmp(old_pk, la.last_sign_pk, 32) != 0); /* new keys inside the new enclave */
    CHECK_EQ(s_verify_quote(a, NULL), 0);
    enclave_testutil_stats(a, &n, &bytes); /* what the dead enclave held died with it */
    CHECK(n == 0 && bytes == 0);
    /* nothing to do for a live child */
    CHECK_EQ(enclave_host_supervise(a, 0, NULL, 0), 0);
    CHECK_EQ(enclave_host_restarts(a), 1u);

    enclave_host_destroy(&a);
    enclave_host_destroy(&b);
}

/* A fresh query enclave holds no model and follows no chain: it refuses a query (an
   unknown buy without a proof), a model without CHAIN first, and the usage of a buy it never saw.
   The paid flow with a real chain is test_enclave_query's. */
static void s_test_query(enclave_platform_t *plat)
{
    quote_log_t log = {0};
    enclave_host_t *h = s_spawn(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_QUERY, plat, &log);
    uint8_t reply_pk[32], reply_sk[32], code[32], model_id[32], buy_id[32];
    crypto_box_keypair(reply_pk, reply_sk);
    randombytes_buf(code, sizeof code);
    randombytes_buf(model_id, sizeof model_id);
    randombytes_buf(buy_id, sizeof buy_id);
    double x[4] = {1, 2, 3, 4};
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    CHECK_EQ(enclave_prog_query_seal(enclave_host_quote(h)->body.box_pk, model_id, buy_id, reply_pk,
                                     code, x, 1, 4, &sealed, &sealed_len),
             0);
    enclave_req_t req = {.type = ENCLAVE_REQ_QUERY};
    memcpy(req.u.query.model_id, model_id, 32);
    memcpy(req.u.query.buy_id, buy_id, 32);
    req.u.query.sealed = sealed;
    req.u.query.sealed_len = sealed_len;
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    CHECK_EQ(enclave_host_call(h, &req, -1, &ans, &frame, &flen, NULL, 0), ENCLAVE_E_PAYMENT);
    enclave_req_t load = {.type = ENCLAVE_REQ_MODEL_LOAD};
    load.u.model_load.sealed = sealed;
    load.u.model_load.sealed_len = sealed_len;
    load.u.model_load.proof = sealed;
    load.u.model_load.proof_len = sealed_len;
    CHECK_EQ(enclave_host_call(h, &load, -1, &ans, &frame, &flen, NULL, 0), ENCLAVE_E_CHAIN);
    enclave_req_t usage = {.type = ENCLAVE_REQ_USAGE};
    memcpy(usage.u.usage.buy_id, buy_id, 32);
    CHECK_EQ(enclave_host_call(h, &usage, -1, &ans, &frame, &flen, NULL, 0), ENCLAVE_E_PAYMENT);
    CHECK(enclave_host_running(h)); /* refusals are answers, not crashes */
    free(sealed);
    enclave_host_destroy(&h);
}

/* A copy of the binary with one byte of a string flipped still runs but measures
   differently, and its quote fails a policy that wants the original measurement. */
static void s_test_tampered(enclave_platform_t *plat, const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/genie-enclave-tampered", dir);
    FILE *in = fopen(GENIE_ENCLAVE_EXE, "rb");
    CHECK(in != NULL);
    struct stat st;
    CHECK(fstat(fileno(in), &st) == 0);
    uint8_t *buf = malloc((size_t)st.st_size);
    CHECK(buf && fread(buf, 1, (size_t)st.st_size, in) == (size_t)st.st_size);
    fclose(in);
    static const char needle[] = "refusing to run with an environment";
    uint8_t *at = memmem(buf, (size_t)st.st_size, needle, sizeof needle - 1);
    CHECK(at != NULL);
    if (at)
        at[0] = 'R';
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
    CHECK(fd >= 0 && write(fd, buf, (size_t)st.st_size) == st.st_size);
    close(fd);
    free(buf);

    uint8_t orig[32], tampered[32];
    CHECK(enclave_measure_path(GENIE_ENCLAVE_EXE, "training", orig, NULL, 0) == 0);
    CHECK(enclave_measure_path(path, "training", tampered, NULL, 0) == 0);
    CHECK(memcmp(orig, tampered, 32) != 0);
    quote_log_t log = {0};
    enclave_host_t *h = s_spawn(path, ENCLAVE_KIND_TRAINING, plat, &log);
    uint8_t m[32];
    enclave_host_measurement(h, m);
    CHECK(memcmp(m, tampered, 32) == 0);
    CHECK_EQ(s_verify_quote(h, orig), ENCLAVE_E_MEASUREMENT_MISMATCH);
    CHECK_EQ(s_verify_quote(h, tampered), 0);
    enclave_host_destroy(&h);
}

/* Executables that are not an enclave are refused at start, and nothing is left running:
   a missing file, and one that exits at once without answering INIT. */
static void s_test_not_an_enclave(enclave_platform_t *plat)
{
    const struct {
        const char *exe;
        int want;
    } cases[] = {{"/nonexistent/genie-enclave", ENCLAVE_E_SPAWN}, {"/bin/true", ENCLAVE_E_DEAD}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (access(cases[i].exe, X_OK) != 0 && cases[i].want != ENCLAVE_E_SPAWN)
            continue;
        enclave_host_opts_t o;
        enclave_host_opts_default(&o);
        o.start_timeout_ms = 5000;
        enclave_host_t *h = enclave_host_new(cases[i].exe, ENCLAVE_KIND_QUERY, plat, &o);
        char err[256] = "";
        int rc = enclave_host_start(h, err, sizeof err);
        printf("  %-28s %s (%s)\n", cases[i].exe, proto_err_str(rc), err);
        CHECK_EQ(rc, cases[i].want);
        CHECK(!enclave_host_running(h) && enclave_host_quote(h) == NULL);
        enclave_host_destroy(&h);
    }
}

/* Supervision gives up after max_restarts failed restarts in a row (an executable that
   exits before INIT: every restart fails), and says so. */
static void s_test_give_up(enclave_platform_t *plat)
{
    enclave_host_opts_t o;
    enclave_host_opts_default(&o);
    o.backoff_min_ms = 1;
    o.backoff_max_ms = 4;
    o.max_restarts = 3;
    enclave_host_t *h = enclave_host_new("/bin/true", ENCLAVE_KIND_TRAINING, plat, &o);
    char err[256] = "";
    CHECK_EQ(enclave_host_start(h, err, sizeof err), ENCLAVE_E_DEAD);
    int failures = 0, rc = 0;
    for (int i = 0; i < 10 && !enclave_host_given_up(h); i++) {
        rc = enclave_host_supervise(h, 1000, err, sizeof err);
        failures += rc != 0;
    }
    printf("  gave up: %s (%s) after %d failed restarts\n", proto_err_str(rc), err, failures);
    CHECK(enclave_host_given_up(h));
    CHECK_EQ(rc, ENCLAVE_E_DEAD);
    CHECK_EQ(failures, 3);
    CHECK_EQ(enclave_host_supervise(h, 0, NULL, 0), ENCLAVE_E_DEAD); /* and stays so */
    CHECK_EQ(enclave_host_restarts(h), 0u);
    enclave_host_destroy(&h);
}

/* Runs genie-enclave by hand with an extra fd or an environment: it must refuse (exit 2)
   before it reads anything. */
static int s_run_bad(bool extra_fd, bool with_env)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        int sock = fcntl(sv[1], F_DUPFD, 10); /* out of the way of 0-3 */
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        dup2(sock, 3);
        close_range(4, ~0u, 0);
        if (extra_fd && dup2(0, 7) < 0)
            _exit(100);
        char a0[] = "genie-enclave", a1[] = "training", e0[] = "HOME=/root";
        char *const argv[] = {a0, a1, NULL};
        char *const env_some[] = {e0, NULL};
        char *const env_none[] = {NULL};
        execve(GENIE_ENCLAVE_EXE, argv, with_env ? env_some : env_none);
        _exit(101);
    }
    close(sv[1]);
    close(sv[0]); /* a started enclave sees its host gone and exits 0 */
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(void)
{
    CHECK(proto_crypto_init() == 0);
    unsigned seed = (unsigned)time(NULL);
    printf("seed %u\n", seed);
    const char *dir = testutil_tmpdir();
    proto_key_t *as = NULL;
    enclave_platform_t *plat = enclave_testutil_platform(dir, "runner-test", &as);
    memcpy(s_as_pk, proto_key_public(as), 32);

    s_test_validation(plat);
    s_test_training(plat, seed);
    s_test_query(plat);
    s_test_tampered(plat, dir);
    s_test_not_an_enclave(plat);
    s_test_give_up(plat);
    CHECK_EQ(s_run_bad(false, false), 0); /* control: starts, host gone at once: clean exit */
    CHECK_EQ(s_run_bad(true, false), 2);
    CHECK_EQ(s_run_bad(false, true), 2);

    enclave_platform_destroy(&plat);
    proto_key_destroy(&as);
    testutil_rmtree(dir);
    return testutil_done("test_enclave_host");
}

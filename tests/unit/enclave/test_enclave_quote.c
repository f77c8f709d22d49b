/*  test_enclave_quote: the simulated platform (enclave_platform) and quotes
 *  (proto_attest), from a measured binary to an offline verdict.
 *
 *  Shows: a platform key is made once and reloaded (same key, same certificate, same seal
 *  keys), a key file others may read is refused, and so are corrupt key and certificate
 *  files; a quote from a certified platform verifies from the AS key alone; a tampered
 *  binary's quote fails a policy wanting the original measurement; and each refusal has its
 *  own code: bad quote signature, uncertified, certificate signed by another AS, expired
 *  or not yet valid, platform mismatch, revoked platform or measurement (list and
 *  callback), measurement mismatch, wrong nonce, stale and future times. The decoder
 *  refuses truncation, trailing bytes, wrong arity, oversize, version and every single-byte
 *  change is refused by the decoder or the verifier.
 *  Test keys derive from a seed printed at start (GENIE_TEST_SEED=N replays it).
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "enclave/enclave_measure.h"
#include "enclave/enclave_platform.h"
#include "proto/proto_attest.h"
#include "proto/proto_mp.h"
#include "enclave_testutil.h"
#include "testutil.h"

#define HOUR_MS 3600000ull

static uint64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void s_write_file(const char *path, const uint8_t *p, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK_EQ(write(fd, p, n), (ssize_t)n);
    close(fd);
    chmod(path, mode);
}

/* A report body as an enclave would state it. */
static void s_body(const char *label, proto_attest_body_t *b)
{
    char l[64];
    snprintf(l, sizeof l, "%s/sign", label);
    enclave_testutil_bytes(l, b->sign_pk, 32);
    snprintf(l, sizeof l, "%s/box", label);
    enclave_testutil_bytes(l, b->box_pk, 32);
    snprintf(l, sizeof l, "%s/data", label);
    enclave_testutil_bytes(l, b->report_data, 64);
    snprintf(l, sizeof l, "%s/nonce", label);
    enclave_testutil_bytes(l, b->nonce, 32);
}

/* Opens a platform in DIR and certifies it with AS for [now - 1 h, now + 1 h). */
static enclave_platform_t *s_certified(const char *dir, const proto_key_t *as, uint64_t now)
{
    char err[160];
    enclave_platform_t *p = enclave_platform_sim_open(dir, err, sizeof err);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "open: %s\n", err);
        return NULL;
    }
    uint8_t pk[32], acct[32];
    enclave_platform_pubkey(p, pk);
    enclave_testutil_bytes("runner-account", acct, 32);
    proto_attest_cert_t c;
    CHECK_EQ(proto_attest_cert_issue(as, pk, "runner-1", acct, now - HOUR_MS, now + HOUR_MS, &c,
                                     NULL, 0),
             PROTO_OK);
    CHECK_EQ(enclave_platform_set_cert(p, &c), PROTO_OK);
    return p;
}

static void test_platform_persistence(void)
{
    const char *dir = testutil_tmpdir();
    char sub[300], path[400], err[200];
    snprintf(sub, sizeof sub, "%s/platform", dir); /* created by open */
    proto_key_t *as = enclave_testutil_key("as");
    uint64_t now = s_now_ms();
    uint8_t m1[32], m2[32], k1[32], k2[32], k1b[32], pk1[32], pk2[32];
    enclave_testutil_bytes("m1", m1, 32);
    enclave_testutil_bytes("m2", m2, 32);

    enclave_platform_t *p = s_certified(sub, as, now);
    CHECK(p != NULL && strcmp(enclave_platform_backend(p), "sim") == 0);
    enclave_platform_pubkey(p, pk1);
    CHECK_EQ(enclave_platform_seal_key(p, m1, k1), PROTO_OK);
    CHECK_EQ(enclave_platform_seal_key(p, m2, k2), PROTO_OK);
    CHECK(memcmp(k1, k2, 32) != 0);
    const proto_attest_cert_t *c = enclave_platform_cert(p);
    CHECK(c != NULL && memcmp(c->platform_pk, pk1, 32) == 0);
    proto_attest_cert_t saved = *c;
    enclave_platform_destroy(&p);
    CHECK(p == NULL);
    enclave_platform_destroy(&p); /* tolerates NULL */

    struct stat st;
    snprintf(path, sizeof path, "%s/platform.key", sub);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700);

    p = enclave_platform_sim_open(sub, err, sizeof err);
    CHECK(p != NULL);
    enclave_platform_pubkey(p, pk2);
    CHECK(memcmp(pk1, pk2, 32) == 0);
    CHECK(enclave_platform_cert(p) && memcmp(enclave_platform_cert(p), &saved, sizeof saved) == 0);
    CHECK_EQ(enclave_platform_seal_key(p, m1, k1b), PROTO_OK);
    CHECK(memcmp(k1, k1b, 32) == 0);
    enclave_platform_destroy(&p);

    /* another platform: another key, another seal key for the same measurement */
    const char *dir2 = testutil_tmpdir();
    enclave_platform_t *q = enclave_platform_sim_open(dir2, err, sizeof err);
    CHECK(q != NULL);
    enclave_platform_pubkey(q, pk2);
    CHECK(memcmp(pk1, pk2, 32) != 0);
    CHECK(enclave_platform_cert(q) == NULL);
    CHECK_EQ(enclave_platform_seal_key(q, m1, k2), PROTO_OK);
    CHECK(memcmp(k1, k2, 32) != 0);
    /* a certificate for another platform is refused and not stored */
    CHECK_EQ(enclave_platform_set_cert(q, &saved), ENCLAVE_E_PLATFORM_MISMATCH);
    CHECK(enclave_platform_cert(q) == NULL);
    enclave_platform_destroy(&q);
    char cpath[400];
    snprintf(cpath, sizeof cpath, "%s/platform.cert", dir2);
    CHECK(access(cpath, F_OK) != 0);

    /* a key file others may read is refused */
    CHECK(chmod(path, 0640) == 0);
    err[0] = 0;
    p = enclave_platform_sim_open(sub, err, sizeof err);
    CHECK(p == NULL);
    CHECK(strstr(err, "must be 0600") != NULL);
    CHECK(chmod(path, 0604) == 0);
    CHECK(enclave_platform_sim_open(sub, NULL, 0) == NULL);
    CHECK(chmod(path, 0600) == 0);
    /* a directory others may write into is refused */
    CHECK(chmod(sub, 0777) == 0);
    CHECK(enclave_platform_sim_open(sub, NULL, 0) == NULL);
    CHECK(chmod(sub, 0700) == 0);
    p = enclave_platform_sim_open(sub, NULL, 0);
    CHECK(p != NULL);
    enclave_platform_destroy(&p);

    /* corrupt certificate, corrupt or truncated key file */
    snprintf(cpath, sizeof cpath, "%s/platform.cert", sub);
    const uint8_t junk[] = {0x93, 0x01, 0x02};
    s_write_file(cpath, junk, sizeof junk, 0600);
    CHECK(enclave_platform_sim_open(sub, err, sizeof err) == NULL);
    CHECK(unlink(cpath) == 0);
    p = enclave_platform_sim_open(sub, NULL, 0); /* no certificate is fine */
    CHECK(p != NULL && enclave_platform_cert(p) == NULL);
    enclave_platform_destroy(&p);
    s_write_file(path, junk, sizeof junk, 0600);
    CHECK(enclave_platform_sim_open(sub, err, sizeof err) == NULL);
    s_write_file(path, junk, 0, 0600);
    CHECK(enclave_platform_sim_open(sub, NULL, 0) == NULL);
    CHECK(unlink(path) == 0); /* gone: a fresh key is made */
    p = enclave_platform_sim_open(sub, NULL, 0);
    CHECK(p != NULL);
    enclave_platform_pubkey(p, pk2);
    CHECK(memcmp(pk1, pk2, 32) != 0);
    enclave_platform_destroy(&p);

    sodium_memzero(k1, 32);
    sodium_memzero(k1b, 32);
    sodium_memzero(k2, 32);
    proto_key_destroy(&as);
    testutil_rmtree(dir);
    testutil_rmtree(dir2);
}

static bool s_revoke_cb(void *ctx, int what, const uint8_t id[static 32])
{
    const uint8_t *target = ctx;
    return what == PROTO_ATTEST_REVOKED_MEASUREMENT && memcmp(id, target, 32) == 0;
}

static bool s_revoke_platform_cb(void *ctx, int what, const uint8_t id[static 32])
{
    const uint8_t *target = ctx;
    return what == PROTO_ATTEST_REVOKED_PLATFORM && memcmp(id, target, 32) == 0;
}

static void test_quote_verdicts(void)
{
    const char *dir = testutil_tmpdir();
    char exe_path[300], err[200];
    snprintf(exe_path, sizeof exe_path, "%s/genie-enclave", dir);
    uint8_t exe[4096];
    enclave_testutil_bytes("exe", exe, sizeof exe);
    s_write_file(exe_path, exe, sizeof exe, 0755);

    proto_key_t *as = enclave_testutil_key("as"), *other_as = enclave_testutil_key("other-as");
    const uint8_t *as_pk = proto_key_public(as);
    uint64_t now = s_now_ms();
    char pdir[300];
    snprintf(pdir, sizeof pdir, "%s/p", dir);
    enclave_platform_t *p = s_certified(pdir, as, now);
    if (!p)
        return;

    uint8_t m[32], m_tampered[32];
    CHECK_EQ(enclave_measure_path(exe_path, "training", m, err, sizeof err), PROTO_OK);
    proto_attest_body_t body;
    s_body("enclave", &body);
    proto_attest_quote_t q;
    CHECK_EQ(enclave_platform_quote(p, m, &body, &q), PROTO_OK);
    CHECK(q.has_cert && memcmp(q.measurement, m, 32) == 0);
    CHECK(memcmp(&q.body, &body, sizeof body) == 0);
    uint64_t after = s_now_ms();
    CHECK(q.time_ms >= now && q.time_ms <= after);

    proto_attest_policy_t pol = {.want_measurement = m,
                                 .want_nonce = body.nonce,
                                 .now_ms = q.time_ms,
                                 .max_age_ms = 60000,
                                 .max_skew_ms = 5000};
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &pol, err, sizeof err), PROTO_OK);

    /* a tampered binary: another measurement, its quote fails the original policy */
    exe[2048] ^= 0x01;
    s_write_file(exe_path, exe, sizeof exe, 0755);
    CHECK_EQ(enclave_measure_path(exe_path, "training", m_tampered, NULL, 0), PROTO_OK);
    CHECK(memcmp(m, m_tampered, 32) != 0);
    proto_attest_quote_t qt;
    CHECK_EQ(enclave_platform_quote(p, m_tampered, &body, &qt), PROTO_OK);
    pol.now_ms = qt.time_ms;
    CHECK_EQ(proto_attest_quote_verify(&qt, as_pk, &pol, err, sizeof err),
             ENCLAVE_E_MEASUREMENT_MISMATCH);
    /* ... and forging the measurement into it breaks the platform signature */
    memcpy(qt.measurement, m, 32);
    CHECK_EQ(proto_attest_quote_verify(&qt, as_pk, &pol, NULL, 0), ENCLAVE_E_BAD_SIG);
    pol.now_ms = q.time_ms;

    /* bad signature: any signed field changed, or the signature itself */
    proto_attest_quote_t t = q;
    t.sig[0] ^= 1;
    CHECK_EQ(proto_attest_quote_verify(&t, as_pk, &pol, err, sizeof err), ENCLAVE_E_BAD_SIG);
    t = q;
    t.body.report_data[63] ^= 1;
    CHECK_EQ(proto_attest_quote_verify(&t, as_pk, &pol, NULL, 0), ENCLAVE_E_BAD_SIG);
    t = q;
    t.body.box_pk[0] ^= 1;
    CHECK_EQ(proto_attest_quote_verify(&t, as_pk, &pol, NULL, 0), ENCLAVE_E_BAD_SIG);
    t = q;
    t.time_ms -= 1;
    CHECK_EQ(proto_attest_quote_verify(&t, as_pk, &pol, NULL, 0), ENCLAVE_E_BAD_SIG);

    /* uncertified: a platform without a certificate, or the certificate stripped */
    const char *dir2 = testutil_tmpdir();
    enclave_platform_t *bare = enclave_platform_sim_open(dir2, NULL, 0);
    CHECK(bare != NULL);
    proto_attest_quote_t qb;
    CHECK_EQ(enclave_platform_quote(bare, m, &body, &qb), PROTO_OK);
    CHECK(!qb.has_cert);
    CHECK_EQ(proto_attest_quote_verify(&qb, as_pk, &pol, NULL, 0), ENCLAVE_E_UNCERTIFIED);
    t = q;
    t.has_cert = false;
    CHECK_EQ(proto_attest_quote_verify(&t, as_pk, &pol, NULL, 0), ENCLAVE_E_UNCERTIFIED);

    /* platform mismatch: an uncertified platform borrowing another's certificate */
    qb.has_cert = true;
    qb.cert = q.cert;
    CHECK_EQ(proto_attest_quote_verify(&qb, as_pk, &pol, err, sizeof err),
             ENCLAVE_E_PLATFORM_MISMATCH);
    /* ... or a certified platform's key swapped in: the signature no longer holds */
    memcpy(qb.platform_pk, q.platform_pk, 32);
    CHECK_EQ(proto_attest_quote_verify(&qb, as_pk, &pol, NULL, 0), ENCLAVE_E_BAD_SIG);

    /* certificate by another attestation service; one it signed for itself */
    CHECK_EQ(proto_attest_quote_verify(&q, proto_key_public(other_as), &pol, err, sizeof err),
             ENCLAVE_E_CERT_BAD_SIG);
    proto_attest_cert_t self_signed;
    CHECK_EQ(proto_attest_cert_issue(other_as, q.platform_pk, "runner-1", q.cert.runner_account,
                                     now - HOUR_MS, now + HOUR_MS, &self_signed, NULL, 0),
             PROTO_OK);
    t = q;
    t.cert = self_signed;
    CHECK_EQ(proto_attest_quote_verify(&t, as_pk, &pol, NULL, 0), ENCLAVE_E_CERT_BAD_SIG);

    /* expired and not yet valid certificates */
    proto_attest_policy_t late = pol;
    late.now_ms = q.cert.expires_ms;
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &late, err, sizeof err), ENCLAVE_E_CERT_EXPIRED);
    late.now_ms = q.cert.issued_ms - 1;
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &late, NULL, 0), ENCLAVE_E_CERT_NOT_YET_VALID);

    /* revoked platform, revoked measurement: lists and callbacks */
    uint8_t rev[3][32];
    enclave_testutil_bytes("unrelated-1", rev[0], 32);
    enclave_testutil_bytes("unrelated-2", rev[1], 32);
    memcpy(rev[2], q.platform_pk, 32);
    proto_attest_policy_t rp = pol;
    rp.revoked_platforms = (const uint8_t(*)[32])rev;
    rp.n_revoked_platforms = 2;
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &rp, NULL, 0), PROTO_OK);
    rp.n_revoked_platforms = 3;
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &rp, err, sizeof err),
             ENCLAVE_E_REVOKED_PLATFORM);
    rp = pol;
    rp.is_revoked = s_revoke_platform_cb;
    rp.revoked_ctx = q.platform_pk;
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &rp, NULL, 0), ENCLAVE_E_REVOKED_PLATFORM);
    memcpy(rev[2], m, 32);
    rp = pol;
    rp.revoked_measurements = (const uint8_t(*)[32])rev;
    rp.n_revoked_measurements = 3;
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &rp, NULL, 0), ENCLAVE_E_REVOKED_MEASUREMENT);
    rp.revoked_platforms = (const uint8_t(*)[32])rev; /* lists are per kind of id */
    rp.n_revoked_platforms = 2;
    rp.n_revoked_measurements = 2;
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &rp, NULL, 0), PROTO_OK);
    rp = pol;
    rp.is_revoked = s_revoke_cb;
    rp.revoked_ctx = m;
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &rp, NULL, 0), ENCLAVE_E_REVOKED_MEASUREMENT);

    /* the nonce: a replayed quote answers an older challenge */
    uint8_t nonce2[32];
    enclave_testutil_bytes("nonce-2", nonce2, 32);
    proto_attest_policy_t np = pol;
    np.want_nonce = nonce2;
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &np, err, sizeof err), ENCLAVE_E_NONCE_MISMATCH);
    np.want_nonce = NULL; /* not checked when not asked */
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &np, NULL, 0), PROTO_OK);
    np.want_measurement = NULL;
    CHECK_EQ(proto_attest_quote_verify(&qt, as_pk, &np, NULL, 0), ENCLAVE_E_BAD_SIG);

    /* freshness: stale and future at their edges */
    proto_attest_policy_t tp = pol;
    tp.now_ms = q.time_ms + tp.max_age_ms;
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &tp, NULL, 0), PROTO_OK);
    tp.now_ms += 1;
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &tp, err, sizeof err), ENCLAVE_E_STALE);
    tp.max_age_ms = 0; /* no age limit */
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &tp, NULL, 0), PROTO_OK);
    tp = pol;
    tp.now_ms = q.time_ms - tp.max_skew_ms;
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &tp, NULL, 0), PROTO_OK);
    tp.now_ms -= 1;
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &tp, err, sizeof err), ENCLAVE_E_FUTURE);
    tp.max_skew_ms = UINT64_MAX; /* no overflow */
    CHECK_EQ(proto_attest_quote_verify(&q, as_pk, &tp, NULL, 0), PROTO_OK);
    t = q;
    t.version = 2;
    CHECK_EQ(proto_attest_quote_verify(&t, as_pk, &pol, NULL, 0), PROTO_E_VERSION);

    /* every code has its own name */
    const int codes[] = {ENCLAVE_E_BAD_SIG,
                         ENCLAVE_E_CERT_BAD_SIG,
                         ENCLAVE_E_CERT_EXPIRED,
                         ENCLAVE_E_CERT_NOT_YET_VALID,
                         ENCLAVE_E_PLATFORM_MISMATCH,
                         ENCLAVE_E_UNCERTIFIED,
                         ENCLAVE_E_REVOKED_PLATFORM,
                         ENCLAVE_E_REVOKED_MEASUREMENT,
                         ENCLAVE_E_MEASUREMENT_MISMATCH,
                         ENCLAVE_E_NONCE_MISMATCH,
                         ENCLAVE_E_STALE,
                         ENCLAVE_E_FUTURE};
    size_t nc = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < nc; i++) {
        CHECK(strcmp(proto_err_str(codes[i]), "unknown error") != 0);
        for (size_t j = i + 1; j < nc; j++)
            CHECK(strcmp(proto_err_str(codes[i]), proto_err_str(codes[j])) != 0);
    }

    enclave_platform_destroy(&p);
    enclave_platform_destroy(&bare);
    proto_key_destroy(&as);
    proto_key_destroy(&other_as);
    testutil_rmtree(dir);
    testutil_rmtree(dir2);
}

/* Writes a quote-shaped array of ARITY with the signed fields of Q. */
static uint8_t *s_shape(const proto_attest_quote_t *q, uint32_t arity, uint64_t version,
                        size_t *len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, arity);
    proto_wr_uint(&w, version);
    proto_wr_bin(&w, q->measurement, 32);
    proto_wr_bin(&w, q->body.sign_pk, 32);
    proto_wr_bin(&w, q->body.box_pk, 32);
    proto_wr_bin(&w, q->body.report_data, 64);
    proto_wr_bin(&w, q->body.nonce, 32);
    proto_wr_uint(&w, q->time_ms);
    proto_wr_bin(&w, q->platform_pk, 32);
    proto_wr_bin(&w, q->sig, 64);
    if (arity >= 10)
        proto_attest_cert_write(&w, &q->cert);
    for (uint32_t i = 10; i < arity; i++)
        proto_wr_nil(&w);
    return proto_wr_take(&w, len);
}

/* What a mangled quote is verified against. */
typedef struct {
    const uint8_t *as_pk;
    const proto_attest_policy_t *pol;
} s_verifier_t;

/* Decodes a quote; with VERIFY, verifies it under the s_verifier_t CTX. */
static int s_take(const uint8_t *b, size_t len, bool verify, const void *ctx)
{
    const s_verifier_t *v = ctx;
    proto_attest_quote_t d;
    int rc = proto_attest_quote_decode(b, len, &d);
    if (rc == PROTO_OK && verify)
        rc = proto_attest_quote_verify(&d, v->as_pk, v->pol, NULL, 0);
    return rc;
}

static void test_quote_encoding(void)
{
    const char *dir = testutil_tmpdir();
    proto_key_t *as = enclave_testutil_key("as");
    const uint8_t *as_pk = proto_key_public(as);
    uint64_t now = s_now_ms();
    enclave_platform_t *p = s_certified(dir, as, now);
    if (!p)
        return;
    uint8_t m[32];
    enclave_testutil_bytes("measurement", m, 32);
    proto_attest_body_t body;
    s_body("enc", &body);
    proto_attest_quote_t q, d;
    CHECK_EQ(enclave_platform_quote(p, m, &body, &q), PROTO_OK);
    proto_attest_policy_t pol = {
        .want_measurement = m, .want_nonce = body.nonce, .now_ms = q.time_ms};

    uint8_t *b = NULL;
    size_t len = 0;
    CHECK_EQ(proto_attest_quote_encode(&q, &b, &len), PROTO_OK);
    CHECK(len <= PROTO_ATTEST_QUOTE_MAX_BYTES);
    printf("quote: %zu bytes encoded\n", len);
    CHECK_EQ(proto_attest_quote_decode(b, len, &d), PROTO_OK);
    CHECK(memcmp(&q, &d, sizeof q) == 0);
    CHECK_EQ(proto_attest_quote_verify(&d, as_pk, &pol, NULL, 0), PROTO_OK);
    uint8_t *again = NULL;
    size_t again_len = 0;
    CHECK_EQ(proto_attest_quote_encode(&d, &again, &again_len), PROTO_OK);
    CHECK(again_len == len && memcmp(again, b, len) == 0);
    free(again);

    /* an uncertified quote round-trips with a nil certificate */
    proto_attest_quote_t u = q;
    u.has_cert = false;
    memset(&u.cert, 0, sizeof u.cert);
    CHECK_EQ(proto_attest_quote_encode(&u, &again, &again_len), PROTO_OK);
    CHECK(again_len < len && again[again_len - 1] == 0xc0);
    CHECK_EQ(proto_attest_quote_decode(again, again_len, &d), PROTO_OK);
    CHECK(memcmp(&u, &d, sizeof u) == 0);
    free(again);

    /* truncation at every length; every bit flipped: never accepted */
    s_verifier_t v = {.as_pk = as_pk, .pol = &pol};
    CHECK_EQ(enclave_testutil_prefixes_accepted(b, len, s_take, &v), 0);
    CHECK_EQ(proto_attest_quote_decode(b, len - 1, &d), PROTO_E_TRUNCATED);
    CHECK_EQ(enclave_testutil_flips_accepted(b, len, s_take, &v), 0);

    /* trailing bytes, oversize, arity, version, wrong type */
    int bounds[2];
    enclave_testutil_bounds(b, len, PROTO_ATTEST_QUOTE_MAX_BYTES, s_take, &v, bounds);
    CHECK_EQ(bounds[0], PROTO_E_TRAILING);
    CHECK_EQ(bounds[1], PROTO_E_TOO_BIG);
    size_t slen;
    uint8_t *s = s_shape(&q, 10, 1, &slen);
    CHECK(slen == len && memcmp(s, b, len) == 0);
    free(s);
    s = s_shape(&q, 9, 1, &slen);
    CHECK_EQ(proto_attest_quote_decode(s, slen, &d), PROTO_E_ARITY);
    free(s);
    s = s_shape(&q, 11, 1, &slen);
    CHECK_EQ(proto_attest_quote_decode(s, slen, &d), PROTO_E_ARITY);
    free(s);
    s = s_shape(&q, 10, 2, &slen);
    CHECK_EQ(proto_attest_quote_decode(s, slen, &d), PROTO_E_VERSION);
    free(s);
    const uint8_t map[] = {0x80};
    CHECK_EQ(proto_attest_quote_decode(map, 1, &d), PROTO_E_TYPE);
    /* a certificate with a broken field inside the quote */
    proto_attest_quote_t bad = q;
    bad.cert.expires_ms = bad.cert.issued_ms;
    CHECK_EQ(proto_attest_quote_encode(&bad, &again, &again_len), PROTO_OK);
    CHECK_EQ(proto_attest_quote_decode(again, again_len, &d), PROTO_E_INVALID);
    free(again);
    /* the reader form leaves the rest of a larger message */
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    proto_attest_quote_write(&w, &q);
    proto_wr_uint(&w, 42);
    size_t wl;
    const uint8_t *wb = proto_wr_data(&w, &wl);
    proto_rd_t rd;
    uint64_t tail = 0;
    proto_rd_init(&rd, wb, wl);
    CHECK_EQ(proto_rd_array_exact(&rd, 2), PROTO_OK);
    CHECK_EQ(proto_attest_quote_read(&rd, &d), PROTO_OK);
    CHECK_EQ(proto_rd_uint(&rd, 100, &tail), PROTO_OK);
    CHECK(tail == 42 && proto_rd_finish(&rd) == PROTO_OK);
    proto_wr_free(&w);

    free(b);
    enclave_platform_destroy(&p);
    proto_key_destroy(&as);
    testutil_rmtree(dir);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    enclave_testutil_seed_init();
    test_platform_persistence();
    test_quote_verdicts();
    test_quote_encoding();
    return testutil_done("test_enclave_quote");
}

/*  enclave_host_testutil: what the tests that run real genie-enclave processes through
 *  enclave_host share (test_enclave_host, test_enclave_keyed, test_node_keyed_flow): the
 *  wall clock, a simulated platform certified by a fresh test attestation service, a
 *  started host, offline quote verification, STATS, and a call answered by a receipt.
 *  Header-only, with testutil.h's CHECK/REQUIRE; kept apart from enclave_testutil.h, which
 *  proto tests include too and which must not pull in enclave_host. */
#ifndef GENIE_ENCLAVE_HOST_TESTUTIL_H
#define GENIE_ENCLAVE_HOST_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enclave/enclave_host.h"
#include "enclave/enclave_platform.h"
#include "proto/proto_attest.h"
#include "proto/proto_key.h"
#include "proto/proto_report.h"
#include "testutil.h"

/* The wall clock in ms since the epoch (what certificates and quotes are timed by). */
static inline uint64_t enclave_testutil_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A simulated platform in DIR with a certificate for runner RUNNER (account 0xac..., valid
   from a second ago for an hour) issued by a new attestation-service key *AS. The caller
   destroys both. Ends the test (REQUIRE) when any step fails. */
static inline enclave_platform_t *enclave_testutil_platform(const char *dir, const char *runner,
                                                            proto_key_t **as)
{
    char err[256] = "";
    enclave_platform_t *plat = enclave_platform_sim_open(dir, err, sizeof err);
    if (!plat)
        printf("platform: %s\n", err);
    REQUIRE(plat != NULL);
    *as = proto_key_generate();
    REQUIRE(*as != NULL);
    uint8_t pk[32], account[32];
    enclave_platform_pubkey(plat, pk);
    memset(account, 0xac, 32);
    proto_attest_cert_t cert;
    uint64_t now = enclave_testutil_unix_ms();
    int rc = proto_attest_cert_issue(*as, pk, runner, account, now - 1000, now + 3600000, &cert,
                                     err, sizeof err);
    if (rc)
        printf("certificate: %s\n", err);
    REQUIRE(rc == 0);
    REQUIRE(enclave_platform_set_cert(plat, &cert) == 0);
    return plat;
}

/* A host for EXE (KIND, on PLAT, options O: NULL for the defaults), started; its start
   error is printed. Ends the test (REQUIRE) when it cannot be made or started. */
static inline enclave_host_t *enclave_testutil_host_start(const char *exe, enclave_kind_t kind,
                                                          enclave_platform_t *plat,
                                                          const enclave_host_opts_t *o)
{
    enclave_host_t *h = enclave_host_new(exe, kind, plat, o);
    REQUIRE(h != NULL);
    char err[256] = "";
    int rc = enclave_host_start(h, err, sizeof err);
    if (rc)
        printf("start %s: %s (%s)\n", enclave_kind_name(kind), proto_err_str(rc), err);
    REQUIRE(rc == 0);
    return h;
}

/* Verifies H's quote offline against AS_PK (a minute's age, 5 s skew), wanting
   WANT_MEASUREMENT when not NULL. The verifier's code; -1 when H has no quote. */
static inline int enclave_testutil_quote_verify(const enclave_host_t *h,
                                                const uint8_t as_pk[static 32],
                                                const uint8_t *want_measurement)
{
    const proto_attest_quote_t *q = enclave_host_quote(h);
    if (!q)
        return -1;
    proto_attest_policy_t pol;
    memset(&pol, 0, sizeof pol);
    pol.want_measurement = want_measurement;
    pol.now_ms = enclave_testutil_unix_ms();
    pol.max_age_ms = 60000;
    pol.max_skew_ms = 5000;
    char err[256] = "";
    return proto_attest_quote_verify(q, as_pk, &pol, err, sizeof err);
}

/* H's STATS: the donations it holds and their bytes. */
static inline void enclave_testutil_stats(enclave_host_t *h, uint64_t *donations, uint64_t *bytes)
{
    enclave_req_t req = {.type = ENCLAVE_REQ_STATS};
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    CHECK_EQ(enclave_host_call(h, &req, -1, &ans, &frame, &flen, NULL, 0), 0);
    CHECK_EQ(ans.type, ENCLAVE_ANS_STATS);
    *donations = ans.u.stats.donations;
    *bytes = ans.u.stats.bytes;
    free(frame);
}

/* Sends REQ to H; on success the answer must be a receipt, decoded into *R. The call's code. */
static inline int enclave_testutil_call_receipt(enclave_host_t *h, const enclave_req_t *req,
                                                proto_receipt_t *r)
{
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    char err[256] = "";
    int rc = enclave_host_call(h, req, -1, &ans, &frame, &flen, err, sizeof err);
    if (rc == 0) {
        CHECK_EQ(ans.type, ENCLAVE_ANS_RECEIPT);
        CHECK(proto_receipt_decode(ans.u.blob.bytes, ans.u.blob.len, r) == 0);
    }
    free(frame);
    return rc;
}

#endif

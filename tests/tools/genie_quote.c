/*  genie-quote: a simulated enclave-runner platform driven from the command line, so an
 *  integration test can certify a platform and make quotes without spawning enclaves
 *  (tests/integration/test_enclave_ledger.py). It uses the real platform
 *  (enclave_platform_sim: the key file, the installed certificate, the quote signature);
 *  only the enclave's part, its key pairs and report body, is made here.
 *
 *  usage:
 *    genie-quote pubkey  --platform DIR
 *        prints the platform key (64 hex digits), creating DIR/platform.key on first use.
 *    genie-quote install --platform DIR --cert FILE
 *        installs a certificate (`genie attest certify`'s output) as the platform's.
 *    genie-quote make    --platform DIR --measurement HEX --kind K --chain HEX --out FILE
 *                        [--nonce HEX] [--tamper]
 *        a quote for MEASUREMENT by an enclave of kind K bound to the chain id CHAIN (fresh
 *        key pairs; the report data of K on CHAIN) with the platform's time, written in its
 *        wire form to FILE; prints the enclave's sign key. --tamper flips one bit of the
 *        platform signature (a forgery).
 *  Exit 0, 1 on failure, 2 on a usage error.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_platform.h"
#include "proto/proto_attest.h"
#include "proto/proto_hex.h"
#include "proto/proto_key.h"
#include "tool_cli.h"

#define PROG "genie-quote"
#define USAGE                                                                                      \
    "usage: genie-quote pubkey --platform DIR\n"                                                   \
    "       genie-quote install --platform DIR --cert FILE\n"                                      \
    "       genie-quote make --platform DIR --measurement HEX --kind K --chain HEX --out FILE "    \
    "[--nonce HEX] [--tamper]\n"

typedef struct {
    const char *platform, *cert, *measurement, *kind, *out, *nonce, *chain;
    bool tamper;
} s_args_t;

static int s_parse(int argc, char **argv, s_args_t *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char **slot = !strcmp(o, "--platform")      ? &a->platform
                            : !strcmp(o, "--cert")        ? &a->cert
                            : !strcmp(o, "--measurement") ? &a->measurement
                            : !strcmp(o, "--kind")        ? &a->kind
                            : !strcmp(o, "--out")         ? &a->out
                            : !strcmp(o, "--nonce")       ? &a->nonce
                            : !strcmp(o, "--chain")       ? &a->chain
                                                          : NULL;
        if (!strcmp(o, "--tamper")) {
            a->tamper = true;
            continue;
        }
        if (!slot || i + 1 >= argc)
            return tool_cli_usage(PROG, USAGE, "bad argument '%s'", o);
        *slot = argv[++i];
    }
    if (!a->platform)
        return tool_cli_usage(PROG, USAGE, "--platform DIR is required");
    return 0;
}

static int s_write(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(p, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = false;
    return ok ? 0 : tool_cli_fail(PROG, "cannot write %s", path);
}

static int s_install(enclave_platform_t *plat, const char *path)
{
    uint8_t buf[PROTO_ATTEST_CERT_MAX_BYTES + 1];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    proto_attest_cert_t cert;
    int rc = proto_attest_cert_decode(buf, n, &cert);
    if (rc != PROTO_OK)
        return tool_cli_fail(PROG, "%s: not a certificate (%s)", path, proto_err_str(rc));
    if ((rc = enclave_platform_set_cert(plat, &cert)) != PROTO_OK)
        return tool_cli_fail(PROG, "install: %s", proto_err_str(rc));
    return 0;
}

static int s_make(enclave_platform_t *plat, const s_args_t *a)
{
    uint8_t m[32], chain[32];
    uint32_t kind = 0;
    for (uint32_t k = PROTO_ATTEST_KIND_VALIDATION; k <= PROTO_ATTEST_KIND_QUERY; k++)
        if (a->kind && !strcmp(a->kind, proto_attest_kind_name(k)))
            kind = k;
    if (!a->measurement || strlen(a->measurement) != 64 ||
        proto_hex_decode(a->measurement, m, 32) != 0 || kind == 0 || !a->out || !a->chain ||
        strlen(a->chain) != 64 || proto_hex_decode(a->chain, chain, 32) != 0)
        return tool_cli_usage(PROG, USAGE,
                              "make needs --measurement HEX --kind K --chain HEX --out FILE");
    proto_attest_body_t body;
    memset(&body, 0, sizeof body);
    if (a->nonce && (strlen(a->nonce) != 64 || proto_hex_decode(a->nonce, body.nonce, 32) != 0))
        return tool_cli_usage(PROG, USAGE, "--nonce wants 64 hex digits");
    uint8_t sign_sk[crypto_sign_SECRETKEYBYTES], box_sk[crypto_box_SECRETKEYBYTES];
    crypto_sign_keypair(body.sign_pk, sign_sk);
    crypto_box_keypair(body.box_pk, box_sk);
    sodium_memzero(sign_sk, sizeof sign_sk);
    sodium_memzero(box_sk, sizeof box_sk);
    proto_attest_report_data(kind, chain, body.report_data);
    proto_attest_quote_t q;
    int rc = enclave_platform_quote(plat, m, &body, &q);
    if (rc != PROTO_OK)
        return tool_cli_fail(PROG, "quote: %s", proto_err_str(rc));
    if (a->tamper)
        q.sig[0] ^= 1;
    uint8_t *bytes;
    size_t len;
    if (proto_attest_quote_encode(&q, &bytes, &len) != PROTO_OK)
        return tool_cli_fail(PROG, "out of memory");
    rc = s_write(a->out, bytes, len);
    free(bytes);
    if (rc == 0) {
        char hex[65];
        proto_hex_encode(body.sign_pk, 32, hex);
        printf("%s\n", hex);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return tool_cli_usage(PROG, USAGE, "a command is required");
    if (proto_crypto_init() != 0)
        return 1;
    s_args_t a;
    int rc = s_parse(argc, argv, &a);
    if (rc)
        return rc;
    char err[256] = "";
    enclave_platform_t *plat = enclave_platform_sim_open(a.platform, err, sizeof err);
    if (!plat) {
        tool_cli_fail(PROG, "%s: %s", a.platform, err);
        return 1;
    }
    if (!strcmp(argv[1], "pubkey")) {
        uint8_t pk[32];
        char hex[65];
        enclave_platform_pubkey(plat, pk);
        proto_hex_encode(pk, 32, hex);
        printf("%s\n", hex);
    } else if (!strcmp(argv[1], "install")) {
        rc = a.cert ? s_install(plat, a.cert)
                    : tool_cli_usage(PROG, USAGE, "install needs --cert FILE");
    } else if (!strcmp(argv[1], "make")) {
        rc = s_make(plat, &a);
    } else {
        rc = tool_cli_usage(PROG, USAGE, "unknown command '%s'", argv[1]);
    }
    enclave_platform_destroy(&plat);
    return rc == 0 ? 0 : rc == 2 ? 2 : 1;
}

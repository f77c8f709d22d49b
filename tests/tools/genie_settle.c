/*  genie-settle: stand-in enclaves for settlement tests (tests/integration/test_settle.py):
 *  a training enclave that signs a model publication and a query enclave that signs a
 *  usage report, before the real enclaves that will sign them (issue 16's training and
 *  query enclaves) run in the test. The enclave's signing key derives from a seed the test
 *  gives, so the quote it registers and the structures it signs later name the same key.
 *  Quotes come from the real simulated platform (enclave_platform_sim, as genie-quote).
 *
 *  usage:
 *    genie-settle id --seed HEX
 *        prints the enclave id of the enclave of SEED.
 *    genie-settle quote --platform DIR --seed HEX --measurement HEX --kind K --chain HEX
 *        --out FILE
 *        the quote of the enclave of SEED (kind K, MEASUREMENT, bound to the chain id
 *        CHAIN); prints its enclave id.
 *    genie-settle publish --seed HEX --chain HEX --account-seed HEX --job HEX --spec HEX
 *        --used SEQ:DATAID,... --parties ENCLAVEID:N:WEIGHT,... [--model-hash HEX]
 *        a MODEL_PUBLISH tx (nonce 0 of the account of ACCOUNT-SEED) whose publication
 *        the enclave of SEED signs: the bitmap of the SEQs, records_root of the DATAIDs;
 *        prints the tx in hex.
 *    genie-settle usage --seed HEX --chain HEX --account-seed HEX --model HEX --buy HEX
 *        --count N
 *        a USAGE_CLAIM tx (nonce 0) of a usage report the enclave of SEED signs; prints hex.
 *  Exit 0, 1 on failure, 2 on a usage error.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_platform.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_model.h"
#include "proto/proto_attest.h"
#include "proto/proto_hex.h"
#include "proto/proto_key.h"
#include "proto/proto_publish.h"
#include "tool_cli.h"

#define PROG "genie-settle"
#define USAGE                                                                                      \
    "usage: genie-settle id --seed HEX\n"                                                          \
    "       genie-settle quote --platform DIR --seed HEX --measurement HEX --kind K --chain HEX "  \
    "--out FILE\n"                                                                                 \
    "       genie-settle publish --seed HEX --chain HEX --account-seed HEX --job HEX --spec HEX\n" \
    "                    --used SEQ:DATAID,... --parties ENCLAVEID:N:WEIGHT,... "                  \
    "[--model-hash HEX]\n"                                                                         \
    "       genie-settle usage --seed HEX --chain HEX --account-seed HEX --model HEX --buy HEX "   \
    "--count N\n"

typedef struct {
    const char *platform, *seed, *measurement, *kind, *out, *chain, *account_seed, *job, *spec,
        *used, *parties, *model_hash, *model, *buy, *count;
} s_args_t;

static int s_parse(int argc, char **argv, s_args_t *a)
{
    memset(a, 0, sizeof *a);
    static const char *names[] = {"--platform", "--seed",  "--measurement",  "--kind",
                                  "--out",      "--chain", "--account-seed", "--job",
                                  "--spec",     "--used",  "--parties",      "--model-hash",
                                  "--model",    "--buy",   "--count"};
    const char **slots[] = {&a->platform, &a->seed,         &a->measurement, &a->kind, &a->out,
                            &a->chain,    &a->account_seed, &a->job,         &a->spec, &a->used,
                            &a->parties,  &a->model_hash,   &a->model,       &a->buy,  &a->count};
    for (int i = 2; i < argc; i++) {
        const char **slot = NULL;
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            if (!strcmp(argv[i], names[k]))
                slot = slots[k];
        if (!slot || i + 1 >= argc)
            return tool_cli_usage(PROG, USAGE, "bad argument '%s'", argv[i]);
        *slot = argv[++i];
    }
    return 0;
}

static int s_hex32(const char *text, uint8_t out[32], const char *what)
{
    if (!text || strlen(text) != 64 || proto_hex_decode(text, out, 32) != 0)
        return tool_cli_usage(PROG, USAGE, "%s wants 64 hex digits", what);
    return 0;
}

/* The enclave key pair of the seed SEED_HEX. */
static int s_enclave_keys(const char *seed_hex, uint8_t pk[32], uint8_t sk[64])
{
    uint8_t seed[32];
    if (s_hex32(seed_hex, seed, "--seed") != 0)
        return 2;
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(seed, sizeof seed);
    return 0;
}

static int s_quote(const s_args_t *a)
{
    uint8_t m[32], sk[64], chain[32];
    uint32_t kind = 0;
    for (uint32_t k = PROTO_ATTEST_KIND_VALIDATION; k <= PROTO_ATTEST_KIND_QUERY; k++)
        if (a->kind && !strcmp(a->kind, proto_attest_kind_name(k)))
            kind = k;
    if (!a->platform || !a->out || kind == 0 || s_hex32(a->measurement, m, "--measurement") != 0 ||
        s_hex32(a->chain, chain, "--chain") != 0)
        return tool_cli_usage(PROG, USAGE,
                              "quote needs --platform, --measurement, --kind, --chain, --out");
    proto_attest_body_t body;
    memset(&body, 0, sizeof body);
    if (s_enclave_keys(a->seed, body.sign_pk, sk) != 0)
        return 2;
    sodium_memzero(sk, sizeof sk);
    uint8_t box_sk[crypto_box_SECRETKEYBYTES];
    crypto_box_keypair(body.box_pk, box_sk);
    sodium_memzero(box_sk, sizeof box_sk);
    proto_attest_report_data(kind, chain, body.report_data);
    char err[256] = "";
    enclave_platform_t *plat = enclave_platform_sim_open(a->platform, err, sizeof err);
    if (!plat)
        return tool_cli_fail(PROG, "%s: %s", a->platform, err);
    proto_attest_quote_t q;
    int rc = enclave_platform_quote(plat, m, &body, &q);
    enclave_platform_destroy(&plat);
    if (rc != PROTO_OK)
        return tool_cli_fail(PROG, "quote: %s", proto_err_str(rc));
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (proto_attest_quote_encode(&q, &bytes, &len) != PROTO_OK)
        return tool_cli_fail(PROG, "out of memory");
    FILE *f = fopen(a->out, "wb");
    bool ok = f && fwrite(bytes, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    free(bytes);
    if (!ok)
        return tool_cli_fail(PROG, "cannot write %s", a->out);
    uint8_t id[32];
    char hex[65];
    ledger_enclave_id(body.sign_pk, id);
    proto_hex_encode(id, 32, hex);
    printf("%s\n", hex);
    return 0;
}

/* Signs and prints the tx TX (its body set) of TYPE from the account of ACCOUNT_SEED. */
static int s_print_tx(const s_args_t *a, ledger_tx_t *tx, uint32_t type)
{
    uint8_t seed[32];
    if (s_hex32(a->chain, tx->chain_id, "--chain") != 0 ||
        s_hex32(a->account_seed, seed, "--account-seed") != 0)
        return 2;
    proto_key_t *k = proto_key_from_seed(seed);
    sodium_memzero(seed, sizeof seed);
    if (!k)
        return tool_cli_fail(PROG, "out of memory");
    tx->type = type;
    size_t len = 0;
    uint8_t *bytes = ledger_tx_sign(tx, k, &len);
    proto_key_destroy(&k);
    if (!bytes)
        return tool_cli_fail(PROG, "cannot sign the tx");
    char *hex = malloc(2 * len + 1);
    if (hex) {
        proto_hex_encode(bytes, len, hex);
        printf("%s\n", hex);
    }
    free(hex);
    free(bytes);
    return hex ? 0 : tool_cli_fail(PROG, "out of memory");
}

/* --used SEQ:DATAID,... into P's bitmap and IDS (*N). */
static int s_used(const char *text, proto_publish_t *p, uint8_t (*ids)[32], size_t *n)
{
    *n = 0;
    for (const char *s = text; s && *s;) {
        char *end;
        unsigned long seq = strtoul(s, &end, 10);
        if (end == s || *end != ':' || seq >= PROTO_PUBLISH_BITMAP_MAX * 8 || *n >= 64 ||
            strlen(end + 1) < 64)
            return tool_cli_usage(PROG, USAGE, "--used wants SEQ:DATAID,...");
        char hex[65];
        memcpy(hex, end + 1, 64);
        hex[64] = 0;
        if (proto_hex_decode(hex, ids[*n], 32) != 0)
            return tool_cli_usage(PROG, USAGE, "--used: a data id is 64 hex digits");
        (*n)++;
        p->bitmap[seq / 8] |= (uint8_t)(1u << (seq % 8));
        if (seq / 8 + 1 > p->bitmap_len)
            p->bitmap_len = seq / 8 + 1;
        s = end + 65;
        if (*s == ',')
            s++;
    }
    return *n ? 0 : tool_cli_usage(PROG, USAGE, "--used names no record");
}

/* --parties ENCLAVEID:N:WEIGHT,... into P. */
static int s_parties(const char *text, proto_publish_t *p)
{
    for (const char *s = text; s && *s;) {
        char hex[65], *end;
        if (strlen(s) < 66 || s[64] != ':' || p->n_parties >= PROTO_PUBLISH_PARTIES_MAX)
            return tool_cli_usage(PROG, USAGE, "--parties wants ENCLAVEID:N:WEIGHT,...");
        memcpy(hex, s, 64);
        hex[64] = 0;
        proto_publish_party_t *q = &p->parties[p->n_parties];
        unsigned long n = strtoul(s + 65, &end, 10);
        if (proto_hex_decode(hex, q->enclave_id, 32) != 0 || *end != ':')
            return tool_cli_usage(PROG, USAGE, "--parties wants ENCLAVEID:N:WEIGHT,...");
        q->n_records = (uint32_t)n;
        q->weight_bp = (uint32_t)strtoul(end + 1, &end, 10);
        p->n_parties++;
        s = *end == ',' ? end + 1 : end;
    }
    return 0;
}

static int s_publish(const s_args_t *a)
{
    static proto_publish_t p;
    uint8_t sk[64], ids[64][32];
    size_t n = 0;
    memset(&p, 0, sizeof p);
    memset(p.model_hash, 0x4d, 32);
    if (s_hex32(a->job, p.job_id, "--job") || s_hex32(a->spec, p.spec_id, "--spec") ||
        (a->model_hash && s_hex32(a->model_hash, p.model_hash, "--model-hash")) ||
        s_used(a->used, &p, ids, &n) || s_parties(a->parties, &p))
        return 2;
    p.n_train = (uint32_t)n;
    p.n_test = 1;
    p.n_metrics = 1;
    strcpy(p.metrics[0].name, "accuracy");
    p.metrics[0].value_micro = 800000;
    p.n_records = (uint32_t)n;
    p.time_ms = 1700000000000ull;
    proto_publish_records_root_inplace(ids, n, p.records_root);
    if (s_enclave_keys(a->seed, p.enclave_pk, sk) != 0)
        return 2;
    int rc = proto_publish_sign(&p, sk);
    sodium_memzero(sk, sizeof sk);
    if (rc != PROTO_OK)
        return tool_cli_fail(PROG, "the publication breaks a rule (%s)", proto_err_str(rc));
    uint8_t *enc = NULL;
    size_t elen = 0;
    if (proto_publish_encode(&p, &enc, &elen) != PROTO_OK)
        return tool_cli_fail(PROG, "out of memory");
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    tx.body.model_publish.publication = enc;
    tx.body.model_publish.publication_len = elen;
    rc = s_print_tx(a, &tx, LEDGER_TX_MODEL_PUBLISH);
    free(enc);
    return rc;
}

static int s_usage(const s_args_t *a)
{
    proto_usage_t u;
    uint8_t sk[64];
    memset(&u, 0, sizeof u);
    if (s_hex32(a->model, u.model_id, "--model") || s_hex32(a->buy, u.buy_id, "--buy"))
        return 2;
    unsigned long long count = 0;
    if (!a->count || sscanf(a->count, "%llu", &count) != 1)
        return tool_cli_usage(PROG, USAGE, "--count wants a number");
    u.count = count;
    u.time_ms = 1700000000000ull;
    if (s_enclave_keys(a->seed, u.enclave_pk, sk) != 0)
        return 2;
    int rc = proto_usage_sign(&u, sk);
    sodium_memzero(sk, sizeof sk);
    uint8_t *enc = NULL;
    size_t elen = 0;
    if (rc != PROTO_OK || proto_usage_encode(&u, &enc, &elen) != PROTO_OK)
        return tool_cli_fail(PROG, "out of memory");
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    tx.body.usage_claim.usage = enc;
    tx.body.usage_claim.usage_len = elen;
    rc = s_print_tx(a, &tx, LEDGER_TX_USAGE_CLAIM);
    free(enc);
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
    if (!strcmp(argv[1], "id")) {
        uint8_t pk[32], sk[64], id[32];
        char hex[65];
        rc = s_enclave_keys(a.seed, pk, sk);
        sodium_memzero(sk, sizeof sk);
        if (rc == 0) {
            ledger_enclave_id(pk, id);
            proto_hex_encode(id, 32, hex);
            printf("%s\n", hex);
        }
    } else if (!strcmp(argv[1], "quote"))
        rc = s_quote(&a);
    else if (!strcmp(argv[1], "publish"))
        rc = s_publish(&a);
    else if (!strcmp(argv[1], "usage"))
        rc = s_usage(&a);
    else
        rc = tool_cli_usage(PROG, USAGE, "unknown command '%s'", argv[1]);
    return rc == 0 ? 0 : rc == 2 ? 2 : 1;
}

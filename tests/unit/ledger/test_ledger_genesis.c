/*  test_ledger_genesis: strict genesis.json parsing, the chain id (over the canonical
 *  encoding, not the text), write/load round trip, height 0, and the test-network
 *  creation helper. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_store.h"
#include "proto/proto_hex.h"
#include "proto/proto_key.h"
#include "proto/proto_keystore.h"
#include "proto/proto_mp.h"
#include "testutil.h"

static char s_hex[4][65]; /* four valid public keys as hex */

static void s_keys_init(void)
{
    for (int i = 0; i < 4; i++) {
        uint8_t seed[32];
        memset(seed, 20 + i, sizeof seed);
        proto_key_t *k = proto_key_from_seed(seed);
        proto_hex_encode(proto_key_public(k), 32, s_hex[i]);
        proto_key_destroy(&k);
    }
}

/* A valid genesis text with optional changes: LINE replaces the whole "key": value line
   of KEY (LINE NULL: the key is dropped), EXTRA is appended inside the object. */
static char *s_text(const char *key, const char *line, const char *extra)
{
    char lines[9][512];
    snprintf(lines[0], 512, "\"chain_name\": \"genie-test\"");
    snprintf(lines[1], 512, "\"authorities\": [\"%s\", \"%s\"]", s_hex[0], s_hex[1]);
    snprintf(lines[2], 512, "\"attestation_service\": \"%s\"", s_hex[2]);
    snprintf(lines[3], 512, "\"balances\": {\"%s\": 1000, \"%s\": 5}", s_hex[0], s_hex[3]);
    snprintf(lines[4], 512, "\"block_interval_ms\": 1000");
    snprintf(lines[5], 512, "\"heartbeat_ms\": 10000");
    snprintf(lines[6], 512, "\"max_block_bytes\": 1000000");
    snprintf(lines[7], 512, "\"max_block_txs\": 5000");
    snprintf(lines[8], 512, "\"genesis_time_ms\": 1700000000000");
    static const char *const keys[9] = {
        "chain_name",      "authorities",       "attestation_service",
        "balances",        "block_interval_ms", "heartbeat_ms",
        "max_block_bytes", "max_block_txs",     "genesis_time_ms"};
    char *out = malloc(8192);
    strcpy(out, "{\n");
    bool first = true;
    for (int i = 0; i < 9; i++) {
        const char *l = lines[i];
        if (key && strcmp(key, keys[i]) == 0) {
            if (!line)
                continue;
            l = line;
        }
        if (!first)
            strcat(out, ",\n");
        strcat(out, "  ");
        strcat(out, l);
        first = false;
    }
    if (extra) {
        strcat(out, ",\n  ");
        strcat(out, extra);
    }
    strcat(out, "\n}\n");
    return out;
}

/* Parses TEXT (frees it); returns the code, the message in ERR. */
static int s_parse(char *text, char *err, size_t errlen, ledger_genesis_t **out)
{
    ledger_genesis_t *g = NULL;
    err[0] = '\0';
    int rc = ledger_genesis_parse(text, strlen(text), &g, err, errlen);
    free(text);
    CHECK((rc == LEDGER_OK) == (g != NULL));
    if (out)
        *out = g;
    else
        ledger_genesis_destroy(&g);
    return rc;
}

/* The error for TEXT mentions WANT. */
static void s_bad(char *text, const char *want)
{
    char err[256];
    int rc = s_parse(text, err, sizeof err, NULL);
    CHECK(rc == LEDGER_E_INVALID || rc == LEDGER_E_MALFORMED);
    if (!strstr(err, want))
        fprintf(stderr, "  expected \"%s\" in \"%s\"\n", want, err);
    CHECK(strstr(err, want) != NULL);
}

static void test_parse(void)
{
    char err[256];
    ledger_genesis_t *g = NULL;
    CHECK_EQ(s_parse(s_text(NULL, NULL, NULL), err, sizeof err, &g), LEDGER_OK);
    const ledger_genesis_params_t *p = ledger_genesis_params(g);
    CHECK(strcmp(p->chain_name, "genie-test") == 0);
    CHECK_EQ(p->block_interval_ms, 1000u);
    CHECK_EQ(p->heartbeat_ms, 10000u);
    CHECK_EQ(p->max_block_bytes, 1000000u);
    CHECK_EQ(p->max_block_txs, 5000u);
    CHECK_EQ(p->genesis_time_ms, 1700000000000u);
    size_t n;
    const uint8_t(*auth)[32] = ledger_genesis_authorities(g, &n);
    CHECK_EQ(n, 2u);
    CHECK(memcmp(auth[0], auth[1], 32) < 0); /* sorted */
    const ledger_balance_t *bal = ledger_genesis_balances(g, &n);
    CHECK_EQ(n, 2u);
    CHECK(memcmp(bal[0].account, bal[1].account, 32) < 0);

    /* chain id = H("genie/genesis/v1", canonical encoding) */
    size_t clen;
    const uint8_t *canon = ledger_genesis_canonical(g, &clen);
    uint8_t want[32];
    proto_hash("genie/genesis/v1", canon, clen, want);
    CHECK(memcmp(want, ledger_genesis_chain_id(g), 32) == 0);
    proto_rd_t r;
    proto_rd_init(&r, canon, clen);
    uint64_t version = 0;
    CHECK_EQ(proto_rd_array_exact(&r, 10), PROTO_OK);
    CHECK_EQ(proto_rd_uint(&r, 10, &version), PROTO_OK);
    CHECK_EQ(version, 1u);

    /* whitespace, key order, hex case and list order do not change the chain id */
    char up[4][65];
    for (int i = 0; i < 4; i++) {
        strcpy(up[i], s_hex[i]);
        for (char *c = up[i]; *c; c++)
            if (*c >= 'a' && *c <= 'f')
                *c = (char)(*c - 'a' + 'A');
    }
    char text[8192];
    snprintf(
        text, sizeof text,
        "{\"genesis_time_ms\":1700000000000,\"max_block_txs\":5000,\"max_block_bytes\":1000000,"
        "\"heartbeat_ms\":10000,\"block_interval_ms\":1000,"
        "\"balances\":{\"%s\":5,\"%s\":1000},\"attestation_service\":\"%s\","
        "\"authorities\":[\"%s\",\"%s\"],\"chain_name\":\"genie-test\"}",
        up[3], up[0], up[2], up[1], s_hex[0]);
    ledger_genesis_t *g2 = NULL;
    CHECK_EQ(ledger_genesis_parse(text, strlen(text), &g2, err, sizeof err), LEDGER_OK);
    if (g2)
        CHECK(memcmp(ledger_genesis_chain_id(g), ledger_genesis_chain_id(g2), 32) == 0);
    ledger_genesis_destroy(&g2);

    /* any value change changes it */
    CHECK_EQ(s_parse(s_text("heartbeat_ms", "\"heartbeat_ms\": 10001", NULL), err, sizeof err, &g2),
             LEDGER_OK);
    CHECK(memcmp(ledger_genesis_chain_id(g), ledger_genesis_chain_id(g2), 32) != 0);
    ledger_genesis_destroy(&g2);
    char line[512];
    snprintf(line, sizeof line, "\"balances\": {\"%s\": 1001, \"%s\": 5}", s_hex[0], s_hex[3]);
    CHECK_EQ(s_parse(s_text("balances", line, NULL), err, sizeof err, &g2), LEDGER_OK);
    CHECK(memcmp(ledger_genesis_chain_id(g), ledger_genesis_chain_id(g2), 32) != 0);
    ledger_genesis_destroy(&g2);
    /* an empty balances object is fine */
    CHECK_EQ(s_parse(s_text("balances", "\"balances\": {}", NULL), err, sizeof err, NULL),
             LEDGER_OK);
    ledger_genesis_destroy(&g);
}

/* attestation_service is optional: absent, the chain names none (zeros in the canonical
   form, so another chain id), write() leaves it out, and apply() stores no key. */
static void test_no_attestation(void)
{
    char err[256];
    ledger_genesis_t *g = NULL, *g2 = NULL, *g3 = NULL;
    CHECK_EQ(s_parse(s_text(NULL, NULL, NULL), err, sizeof err, &g), LEDGER_OK);
    CHECK_EQ(s_parse(s_text("attestation_service", NULL, NULL), err, sizeof err, &g2), LEDGER_OK);
    static const uint8_t zero[32];
    CHECK(memcmp(ledger_genesis_params(g2)->attestation_service, zero, 32) == 0);
    CHECK(memcmp(ledger_genesis_chain_id(g), ledger_genesis_chain_id(g2), 32) != 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/genesis.json", testutil_tmpdir());
    CHECK_EQ(ledger_genesis_write(g2, path), 0);
    CHECK_EQ(ledger_genesis_load(path, &g3, err, sizeof err), LEDGER_OK);
    if (g3)
        CHECK(memcmp(ledger_genesis_chain_id(g3), ledger_genesis_chain_id(g2), 32) == 0);
    ledger_store_t *st = NULL;
    CHECK_EQ(ledger_store_open(testutil_tmpdir(), &st, err, sizeof err), LEDGER_OK);
    CHECK_EQ(ledger_genesis_apply(g2, st), LEDGER_OK);
    const uint8_t key[2] = {LEDGER_KEY_CONFIG, LEDGER_CONFIG_ATTESTATION};
    uint8_t *val = NULL;
    size_t vlen;
    CHECK_EQ(ledger_store_get(st, key, sizeof key, &val, &vlen), LEDGER_E_NOT_FOUND);
    free(val);
    ledger_store_destroy(&st);
    CHECK_EQ(ledger_store_open(testutil_tmpdir(), &st, err, sizeof err), LEDGER_OK);
    CHECK_EQ(ledger_genesis_apply(g, st), LEDGER_OK);
    CHECK_EQ(ledger_store_get(st, key, sizeof key, &val, &vlen), LEDGER_OK);
    CHECK(vlen == 32 && memcmp(val, ledger_genesis_params(g)->attestation_service, 32) == 0);
    free(val);
    ledger_store_destroy(&st);
    ledger_genesis_destroy(&g);
    ledger_genesis_destroy(&g2);
    ledger_genesis_destroy(&g3);
}

static void test_strict(void)
{
    char line[512];
    s_bad(s_text(NULL, NULL, "\"extra\": 1"), "unknown key \"extra\"");
    s_bad(s_text("heartbeat_ms", NULL, NULL), "missing key \"heartbeat_ms\"");
    s_bad(s_text(NULL, NULL, "\"heartbeat_ms\": 10000"), "duplicate");
    s_bad(s_text("heartbeat_ms", "\"heartbeat_ms\": \"10000\"", NULL),
          "heartbeat_ms: must be an integer");
    s_bad(s_text("heartbeat_ms", "\"heartbeat_ms\": 10000.0", NULL),
          "heartbeat_ms: must be an integer");
    s_bad(s_text("genesis_time_ms", "\"genesis_time_ms\": -1", NULL),
          "genesis_time_ms: must not be negative");
    s_bad(s_text("heartbeat_ms", "\"heartbeat_ms\": 999", NULL), "heartbeat_ms");
    s_bad(s_text("block_interval_ms", "\"block_interval_ms\": 0", NULL), "block_interval_ms");
    s_bad(s_text("max_block_bytes", "\"max_block_bytes\": 2000000", NULL), "max_block_bytes");
    s_bad(s_text("max_block_bytes", "\"max_block_bytes\": 100", NULL), "max_block_bytes");
    s_bad(s_text("max_block_txs", "\"max_block_txs\": 0", NULL), "max_block_txs");
    s_bad(s_text("max_block_txs", "\"max_block_txs\": 10001", NULL), "max_block_txs");
    s_bad(s_text("max_block_txs", "\"max_block_txs\": null", NULL), "max_block_txs");
    s_bad(s_text("genesis_time_ms", "\"genesis_time_ms\": 99999999999999999999", NULL),
          "not valid JSON");
    s_bad(s_text("chain_name", "\"chain_name\": \"\"", NULL), "chain_name");
    s_bad(s_text("chain_name", "\"chain_name\": \"has space\"", NULL), "chain_name");
    s_bad(s_text("chain_name", "\"chain_name\": 7", NULL), "chain_name");
    s_bad(
        s_text(
            "chain_name",
            "\"chain_name\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
            NULL),
        "chain_name");
    /* bad hex */
    snprintf(line, sizeof line, "\"attestation_service\": \"%.63s\"", s_hex[2]);
    s_bad(s_text("attestation_service", line, NULL), "attestation_service");
    snprintf(line, sizeof line, "\"attestation_service\": \"%.63sg\"", s_hex[2]);
    s_bad(s_text("attestation_service", line, NULL), "attestation_service");
    snprintf(line, sizeof line, "\"attestation_service\": \"%s00\"", s_hex[2]);
    s_bad(s_text("attestation_service", line, NULL), "attestation_service");
    s_bad(s_text("attestation_service",
                 "\"attestation_service\": "
                 "\"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"",
                 NULL),
          "not a valid Ed25519 public key");
    snprintf(line, sizeof line, "\"authorities\": [\"%s\", \"nothex\"]", s_hex[0]);
    s_bad(s_text("authorities", line, NULL), "authorities");
    snprintf(line, sizeof line, "\"authorities\": [\"%s\", 5]", s_hex[0]);
    s_bad(s_text("authorities", line, NULL), "authorities");
    s_bad(s_text("authorities", "\"authorities\": []", NULL), "authorities");
    s_bad(s_text("authorities", "\"authorities\": \"x\"", NULL), "authorities");
    snprintf(line, sizeof line, "\"authorities\": [\"%s\", \"%s\"]", s_hex[0], s_hex[0]);
    s_bad(s_text("authorities", line, NULL), "authorities: duplicate");
    /* the same account twice, spelled in two cases */
    char upper[65];
    strcpy(upper, s_hex[0]);
    for (char *c = upper; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    snprintf(line, sizeof line, "\"balances\": {\"%s\": 1, \"%s\": 2}", s_hex[0], upper);
    s_bad(s_text("balances", line, NULL), "balances: duplicate");
    snprintf(line, sizeof line, "\"balances\": {\"%s\": -1}", s_hex[0]);
    s_bad(s_text("balances", line, NULL), "balances");
    snprintf(line, sizeof line, "\"balances\": {\"%s\": \"1\"}", s_hex[0]);
    s_bad(s_text("balances", line, NULL), "balances");
    s_bad(s_text("balances", "\"balances\": {\"zz\": 1}", NULL), "balances");
    s_bad(s_text("balances", "\"balances\": []", NULL), "balances");
    /* total supply overflow: 3 x (2^63 - 1) */
    snprintf(line, sizeof line,
             "\"balances\": {\"%s\": 9223372036854775807, \"%s\": 9223372036854775807, \"%s\": "
             "9223372036854775807}",
             s_hex[0], s_hex[1], s_hex[2]);
    s_bad(s_text("balances", line, NULL), "total supply");
    /* not an object / not JSON / trailing garbage */
    char err[256];
    ledger_genesis_t *g = NULL;
    CHECK_EQ(ledger_genesis_parse("[1,2]", 5, &g, err, sizeof err), LEDGER_E_INVALID);
    CHECK_EQ(ledger_genesis_parse("{", 1, &g, err, sizeof err), LEDGER_E_MALFORMED);
    char *t = s_text(NULL, NULL, NULL);
    size_t tl = strlen(t);
    t = realloc(t, tl + 4);
    strcpy(t + tl, "{}");
    CHECK_EQ(ledger_genesis_parse(t, strlen(t), &g, err, sizeof err), LEDGER_E_MALFORMED);
    free(t);
    CHECK(g == NULL);
    /* a file that does not exist */
    CHECK_EQ(ledger_genesis_load("/nonexistent/genesis.json", &g, err, sizeof err), LEDGER_E_STORE);
    CHECK(strstr(err, "/nonexistent/genesis.json") != NULL);

    /* too many authorities */
    uint8_t many[LEDGER_AUTHORITIES_MAX + 1][32];
    ledger_genesis_params_t p = {.chain_name = "x",
                                 .block_interval_ms = 1,
                                 .heartbeat_ms = 1,
                                 .max_block_bytes = 1024,
                                 .max_block_txs = 1};
    CHECK_EQ(proto_hex_decode(s_hex[0], p.attestation_service, 32), 0);
    for (int i = 0; i <= LEDGER_AUTHORITIES_MAX; i++)
        memcpy(many[i], p.attestation_service, 32);
    CHECK_EQ(ledger_genesis_new(&p, (const uint8_t(*)[32])many, LEDGER_AUTHORITIES_MAX + 1, NULL, 0,
                                &g, err, sizeof err),
             LEDGER_E_INVALID);
    CHECK_EQ(ledger_genesis_new(&p, (const uint8_t(*)[32])many, 1, NULL, 0, &g, err, sizeof err),
             LEDGER_OK);
    ledger_genesis_destroy(&g);
}

static void test_write_apply_create(void)
{
    char err[256];
    const char *dir = testutil_tmpdir();
    char d[256], path[512];
    snprintf(d, sizeof d, "%s", dir);
    ledger_genesis_t *g = NULL, *g2 = NULL;
    CHECK_EQ(s_parse(s_text(NULL, NULL, NULL), err, sizeof err, &g), LEDGER_OK);
    snprintf(path, sizeof path, "%s/genesis.json", d);
    CHECK_EQ(ledger_genesis_write(g, path), 0);
    CHECK_EQ(ledger_genesis_write(g, path), PROTO_E_IO); /* never overwrites */
    CHECK_EQ(ledger_genesis_load(path, &g2, err, sizeof err), LEDGER_OK);
    CHECK(g2 && memcmp(ledger_genesis_chain_id(g), ledger_genesis_chain_id(g2), 32) == 0);
    ledger_genesis_destroy(&g2);

    /* height 0 */
    snprintf(path, sizeof path, "%s/db", d);
    ledger_store_t *s = NULL;
    CHECK_EQ(ledger_store_open(path, &s, err, sizeof err), LEDGER_OK);
    CHECK_EQ(ledger_genesis_apply(g, s), LEDGER_OK);
    ledger_head_t head;
    CHECK_EQ(ledger_store_head(s, &head), LEDGER_OK);
    CHECK_EQ(head.height, 0u);
    CHECK_EQ(head.time_ms, 1700000000000u);
    uint8_t *bytes;
    size_t len;
    CHECK_EQ(ledger_store_block(s, 0, &bytes, &len), LEDGER_OK);
    ledger_block_t *b = NULL;
    CHECK_EQ(ledger_block_decode(bytes, len, &b), PROTO_OK);
    const ledger_header_t *h = ledger_block_header(b);
    uint8_t zero[32] = {0}, txroot[32];
    ledger_block_tx_root(NULL, 0, txroot);
    CHECK(memcmp(h->chain_id, ledger_genesis_chain_id(g), 32) == 0);
    CHECK(h->height == 0 && h->round == 0 && ledger_block_tx_count(b) == 0);
    CHECK(memcmp(h->prev_hash, zero, 32) == 0 && memcmp(h->proposer, zero, 32) == 0);
    CHECK(memcmp(h->tx_root, txroot, 32) == 0);
    CHECK(memcmp(h->state_root, head.state_root, 32) == 0);
    CHECK(memcmp(ledger_block_hash(b), head.hash, 32) == 0);
    ledger_block_destroy(&b);
    free(bytes);
    size_t n;
    const ledger_balance_t *bal = ledger_genesis_balances(g, &n);
    for (size_t i = 0; i < n; i++) {
        ledger_account_t a;
        CHECK_EQ(ledger_store_account(s, bal[i].account, &a), LEDGER_OK);
        CHECK(a.balance == bal[i].amount && a.nonce == 0);
    }
    uint8_t set[LEDGER_AUTHORITIES_MAX][32];
    CHECK_EQ(ledger_store_authorities(s, set, &n), LEDGER_OK);
    size_t na;
    const uint8_t(*auth)[32] = ledger_genesis_authorities(g, &na);
    CHECK(n == na && memcmp(set, auth, n * 32) == 0);
    ledger_chain_t chain;
    CHECK_EQ(ledger_store_chain(s, &chain), LEDGER_OK);
    CHECK(chain.max_block_bytes == 1000000 && chain.max_block_txs == 5000);
    /* two nodes with the same genesis get the same genesis block */
    char path2[512];
    snprintf(path2, sizeof path2, "%s/db2", d);
    ledger_store_t *s2 = NULL;
    CHECK_EQ(ledger_store_open(path2, &s2, err, sizeof err), LEDGER_OK);
    CHECK_EQ(ledger_genesis_apply(g, s2), LEDGER_OK);
    ledger_head_t head2;
    CHECK_EQ(ledger_store_head(s2, &head2), LEDGER_OK);
    CHECK(memcmp(&head, &head2, sizeof head) == 0);
    ledger_store_destroy(&s2);
    ledger_store_destroy(&s);
    ledger_genesis_destroy(&g);

    /* create: N keystores + attestation key + genesis.json */
    snprintf(path, sizeof path, "%s/net", d);
    CHECK_EQ(mkdir(path, 0700), 0);
    CHECK_EQ(ledger_genesis_create(path, "devnet", 3, 1000000, 42, &g, err, sizeof err), LEDGER_OK);
    auth = ledger_genesis_authorities(g, &na);
    CHECK_EQ(na, 3u);
    for (int i = 1; i <= 3; i++) {
        char kp[600];
        snprintf(kp, sizeof kp, "%s/authority-%d.key", path, i);
        proto_key_t *k = NULL;
        proto_ks_info_t info;
        CHECK_EQ(proto_keystore_load(kp, NULL, &k, &info), PROTO_OK);
        CHECK_EQ(info.kind, PROTO_KS_ACCOUNT);
        bool found = false;
        for (size_t j = 0; k && j < na; j++)
            found |= memcmp(auth[j], proto_key_public(k), 32) == 0;
        CHECK(found);
        proto_key_destroy(&k);
    }
    char kp[600];
    snprintf(kp, sizeof kp, "%s/attestation.key", path);
    proto_ks_info_t info;
    CHECK_EQ(proto_keystore_inspect(kp, &info), PROTO_OK);
    CHECK(memcmp(info.pub, ledger_genesis_params(g)->attestation_service, 32) == 0);
    snprintf(kp, sizeof kp, "%s/genesis.json", path);
    CHECK_EQ(ledger_genesis_load(kp, &g2, err, sizeof err), LEDGER_OK);
    CHECK(g2 && memcmp(ledger_genesis_chain_id(g), ledger_genesis_chain_id(g2), 32) == 0);
    ledger_genesis_destroy(&g2);
    ledger_genesis_destroy(&g);
    /* a second create in the same directory refuses to overwrite */
    CHECK_EQ(ledger_genesis_create(path, "devnet", 3, 1, 42, &g, err, sizeof err), LEDGER_E_STORE);
    CHECK_EQ(ledger_genesis_create(path, "devnet", 0, 1, 42, &g, err, sizeof err),
             LEDGER_E_INVALID);
    testutil_rmtree(d);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    s_keys_init();
    test_parse();
    test_strict();
    test_no_attestation();
    test_write_apply_create();
    return testutil_done("test_ledger_genesis");
}

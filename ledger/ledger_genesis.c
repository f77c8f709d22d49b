/*  ledger_genesis: strict genesis.json parsing (jansson), the canonical encoding and
 *  chain id, height 0, and the test-network creation helper (see ledger_genesis.h).
 */
#include "ledger/ledger_genesis.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/ledger_block.h"
#include "proto/proto_hex.h"
#include "proto/proto_key.h"
#include "proto/proto_keystore.h"
#include "proto/proto_mp.h"

#define GENESIS_DOMAIN "genie/genesis/v1"
#define GENESIS_VERSION 1
#define HEX_KEY_LEN (2 * LEDGER_ID_LEN)

struct ledger_genesis_t {
    ledger_genesis_params_t params;
    uint8_t auth[LEDGER_AUTHORITIES_MAX][LEDGER_ID_LEN];
    size_t n_auth;
    ledger_balance_t *bal;
    size_t n_bal;
    uint8_t *canon;
    size_t canon_len;
    uint8_t chain_id[LEDGER_ID_LEN];
};

__attribute__((format(printf, 3, 4))) static int s_err(char *err, size_t errlen, const char *fmt,
                                                       ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return LEDGER_E_INVALID;
}

static int s_cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, LEDGER_ID_LEN);
}

static bool s_valid_key(const uint8_t key[LEDGER_ID_LEN])
{
    uint8_t curve[32];
    return proto_key_curve_public(key, curve) == 0;
}

static bool s_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > LEDGER_CHAIN_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* ---- building, validation, canonical encoding ---- */

/* True if P names no attestation service (all zeros: the key was absent). */
static bool s_no_attestation(const ledger_genesis_params_t *p)
{
    static const uint8_t zero[LEDGER_ID_LEN];
    return memcmp(p->attestation_service, zero, LEDGER_ID_LEN) == 0;
}

static int s_check_params(const ledger_genesis_params_t *p, char *err, size_t errlen)
{
    if (!s_name_ok(p->chain_name))
        return s_err(err, errlen, "chain_name: must be 1..64 characters of [A-Za-z0-9._-]");
    if (!s_no_attestation(p) && !s_valid_key(p->attestation_service))
        return s_err(err, errlen, "attestation_service: not a valid Ed25519 public key");
    if (p->block_interval_ms < 1 || p->block_interval_ms > 3600000)
        return s_err(err, errlen, "block_interval_ms: must be 1..3600000");
    if (p->heartbeat_ms < p->block_interval_ms || p->heartbeat_ms > 86400000)
        return s_err(err, errlen, "heartbeat_ms: must be block_interval_ms..86400000");
    if (p->max_block_bytes < 1024 || p->max_block_bytes > LEDGER_BLOCK_MAX_BYTES)
        return s_err(err, errlen, "max_block_bytes: must be 1024..%d", LEDGER_BLOCK_MAX_BYTES);
    if (p->max_block_txs < 1 || p->max_block_txs > LEDGER_BLOCK_MAX_TXS)
        return s_err(err, errlen, "max_block_txs: must be 1..%d", LEDGER_BLOCK_MAX_TXS);
    if (p->genesis_time_ms > (uint64_t)INT64_MAX)
        return s_err(err, errlen, "genesis_time_ms: must be 0..2^63-1");
    return LEDGER_OK;
}

static int s_cmp_bal(const void *a, const void *b)
{
    return memcmp(((const ledger_balance_t *)a)->account, ((const ledger_balance_t *)b)->account,
                  LEDGER_ID_LEN);
}

static int s_encode(ledger_genesis_t *g)
{
    const ledger_genesis_params_t *p = &g->params;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 10);
    proto_wr_uint(&w, GENESIS_VERSION);
    proto_wr_str(&w, p->chain_name, strlen(p->chain_name));
    proto_wr_array(&w, (uint32_t)g->n_auth);
    for (size_t i = 0; i < g->n_auth; i++)
        proto_wr_bin(&w, g->auth[i], LEDGER_ID_LEN);
    proto_wr_bin(&w, p->attestation_service, LEDGER_ID_LEN);
    proto_wr_array(&w, (uint32_t)g->n_bal);
    for (size_t i = 0; i < g->n_bal; i++) {
        proto_wr_array(&w, 2);
        proto_wr_bin(&w, g->bal[i].account, LEDGER_ID_LEN);
        proto_wr_uint(&w, g->bal[i].amount);
    }
    proto_wr_uint(&w, p->block_interval_ms);
    proto_wr_uint(&w, p->heartbeat_ms);
    proto_wr_uint(&w, p->max_block_bytes);
    proto_wr_uint(&w, p->max_block_txs);
    proto_wr_uint(&w, p->genesis_time_ms);
    g->canon = proto_wr_take(&w, &g->canon_len);
    proto_wr_free(&w);
    if (!g->canon)
        return LEDGER_E_NOMEM;
    proto_hash(GENESIS_DOMAIN, g->canon, g->canon_len, g->chain_id);
    return LEDGER_OK;
}

int ledger_genesis_new(const ledger_genesis_params_t *params,
                       const uint8_t (*authorities)[LEDGER_ID_LEN], size_t n_authorities,
                       const ledger_balance_t *balances, size_t n_balances, ledger_genesis_t **out,
                       char *err, size_t errlen)
{
    *out = NULL;
    int rc = s_check_params(params, err, errlen);
    if (rc != LEDGER_OK)
        return rc;
    if (memchr(params->chain_name, '\0', sizeof params->chain_name) == NULL)
        return s_err(err, errlen, "chain_name: not terminated");
    if (n_authorities < 1 || n_authorities > LEDGER_AUTHORITIES_MAX)
        return s_err(err, errlen, "authorities: must list 1..%d keys", LEDGER_AUTHORITIES_MAX);
    if (n_balances > LEDGER_GENESIS_BALANCES_MAX)
        return s_err(err, errlen, "balances: more than %d entries", LEDGER_GENESIS_BALANCES_MAX);
    ledger_genesis_t *g = calloc(1, sizeof *g);
    if (!g || (n_balances && !(g->bal = malloc(n_balances * sizeof *g->bal)))) {
        free(g);
        s_err(err, errlen, "out of memory");
        return LEDGER_E_NOMEM;
    }
    g->params = *params;
    memcpy(g->auth, authorities, n_authorities * LEDGER_ID_LEN);
    g->n_auth = n_authorities;
    qsort(g->auth, g->n_auth, LEDGER_ID_LEN, s_cmp_id);
    for (size_t i = 0; i < g->n_auth; i++) {
        if (!s_valid_key(g->auth[i])) {
            rc = s_err(err, errlen, "authorities: a key is not a valid Ed25519 public key");
            goto fail;
        }
        if (i > 0 && memcmp(g->auth[i - 1], g->auth[i], LEDGER_ID_LEN) == 0) {
            rc = s_err(err, errlen, "authorities: duplicate key");
            goto fail;
        }
    }
    if (n_balances) {
        memcpy(g->bal, balances, n_balances * sizeof *g->bal);
        qsort(g->bal, n_balances, sizeof *g->bal, s_cmp_bal);
    }
    g->n_bal = n_balances;
    uint64_t total = 0;
    for (size_t i = 0; i < g->n_bal; i++) {
        if (i > 0 && memcmp(g->bal[i - 1].account, g->bal[i].account, LEDGER_ID_LEN) == 0) {
            rc = s_err(err, errlen, "balances: duplicate account");
            goto fail;
        }
        if (g->bal[i].amount > (uint64_t)INT64_MAX) {
            rc = s_err(err, errlen, "balances: amount above 2^63-1");
            goto fail;
        }
        if (g->bal[i].amount > UINT64_MAX - total) {
            rc = s_err(err, errlen, "balances: total supply above 2^64-1");
            goto fail;
        }
        total += g->bal[i].amount;
    }
    if ((rc = s_encode(g)) != LEDGER_OK) {
        s_err(err, errlen, "out of memory");
        goto fail;
    }
    *out = g;
    return LEDGER_OK;
fail:
    ledger_genesis_destroy(&g);
    return rc;
}

void ledger_genesis_destroy(ledger_genesis_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ledger_genesis_t *g = *self_p;
    free(g->bal);
    free(g->canon);
    free(g);
    *self_p = NULL;
}

const uint8_t *ledger_genesis_chain_id(const ledger_genesis_t *g)
{
    return g->chain_id;
}

const ledger_genesis_params_t *ledger_genesis_params(const ledger_genesis_t *g)
{
    return &g->params;
}

const uint8_t (*ledger_genesis_authorities(const ledger_genesis_t *g, size_t *n))[LEDGER_ID_LEN]
{
    *n = g->n_auth;
    return (const uint8_t(*)[LEDGER_ID_LEN])g->auth;
}

const ledger_balance_t *ledger_genesis_balances(const ledger_genesis_t *g, size_t *n)
{
    *n = g->n_bal;
    return g->bal;
}

const uint8_t *ledger_genesis_canonical(const ledger_genesis_t *g, size_t *len)
{
    *len = g->canon_len;
    return g->canon;
}

/* ---- JSON ---- */

static int s_hex_key(json_t *v, const char *what, uint8_t out[LEDGER_ID_LEN], char *err,
                     size_t errlen)
{
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (!s)
        return s_err(err, errlen, "%s: must be a string of %d hex digits", what, HEX_KEY_LEN);
    if (json_string_length(v) != HEX_KEY_LEN || proto_hex_decode(s, out, LEDGER_ID_LEN) != 0)
        return s_err(err, errlen, "%s: \"%.80s\" is not %d hex digits", what, s, HEX_KEY_LEN);
    if (!s_valid_key(out))
        return s_err(err, errlen, "%s: %.80s is not a valid Ed25519 public key", what, s);
    return LEDGER_OK;
}

static int s_uint(json_t *v, const char *what, uint64_t *out, char *err, size_t errlen)
{
    if (!json_is_integer(v))
        return s_err(err, errlen, "%s: must be an integer", what);
    json_int_t x = json_integer_value(v);
    if (x < 0)
        return s_err(err, errlen, "%s: must not be negative", what);
    *out = (uint64_t)x;
    return LEDGER_OK;
}

enum {
    K_NAME,
    K_AUTH,
    K_ATTEST,
    K_BAL,
    K_INTERVAL,
    K_HEARTBEAT,
    K_MAXBYTES,
    K_MAXTXS,
    K_TIME,
    K_COUNT
};
static const char *const s_keys[K_COUNT] = {
    "chain_name",      "authorities",       "attestation_service",
    "balances",        "block_interval_ms", "heartbeat_ms",
    "max_block_bytes", "max_block_txs",     "genesis_time_ms",
};

static int s_from_json(json_t *root, ledger_genesis_t **out, char *err, size_t errlen)
{
    ledger_genesis_params_t p;
    uint8_t auth[LEDGER_AUTHORITIES_MAX][LEDGER_ID_LEN];
    size_t n_auth = 0, n_bal = 0;
    ledger_balance_t *bal = NULL;
    json_t *val[K_COUNT] = {0};
    int rc = LEDGER_E_INVALID;
    memset(&p, 0, sizeof p);

    if (!json_is_object(root))
        return s_err(err, errlen, "genesis: must be a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        int idx = -1;
        for (int i = 0; i < K_COUNT; i++)
            if (strcmp(k, s_keys[i]) == 0)
                idx = i;
        if (idx < 0)
            return s_err(err, errlen, "genesis: unknown key \"%.64s\"", k);
        val[idx] = v;
    }
    for (int i = 0; i < K_COUNT; i++)
        if (!val[i] && i != K_ATTEST) /* attestation_service is optional */
            return s_err(err, errlen, "genesis: missing key \"%s\"", s_keys[i]);

    if (!json_is_string(val[K_NAME]) || json_string_length(val[K_NAME]) > LEDGER_CHAIN_NAME_MAX ||
        strlen(json_string_value(val[K_NAME])) != json_string_length(val[K_NAME]))
        return s_err(err, errlen, "chain_name: must be a string of 1..64 characters");
    snprintf(p.chain_name, sizeof p.chain_name, "%s", json_string_value(val[K_NAME]));

    if (!json_is_array(val[K_AUTH]) || json_array_size(val[K_AUTH]) < 1 ||
        json_array_size(val[K_AUTH]) > LEDGER_AUTHORITIES_MAX)
        return s_err(err, errlen, "authorities: must be an array of 1..%d hex keys",
                     LEDGER_AUTHORITIES_MAX);
    size_t i;
    json_array_foreach(val[K_AUTH], i, v)
    {
        if ((rc = s_hex_key(v, "authorities", auth[n_auth++], err, errlen)) != LEDGER_OK)
            return rc;
    }
    if (val[K_ATTEST] && (rc = s_hex_key(val[K_ATTEST], "attestation_service",
                                         p.attestation_service, err, errlen)) != LEDGER_OK)
        return rc;
    if ((rc = s_uint(val[K_INTERVAL], "block_interval_ms", &p.block_interval_ms, err, errlen)) ||
        (rc = s_uint(val[K_HEARTBEAT], "heartbeat_ms", &p.heartbeat_ms, err, errlen)) ||
        (rc = s_uint(val[K_MAXBYTES], "max_block_bytes", &p.max_block_bytes, err, errlen)) ||
        (rc = s_uint(val[K_MAXTXS], "max_block_txs", &p.max_block_txs, err, errlen)) ||
        (rc = s_uint(val[K_TIME], "genesis_time_ms", &p.genesis_time_ms, err, errlen)))
        return rc;

    if (!json_is_object(val[K_BAL]))
        return s_err(err, errlen, "balances: must be an object {hex key: amount}");
    size_t nb = json_object_size(val[K_BAL]);
    if (nb > LEDGER_GENESIS_BALANCES_MAX)
        return s_err(err, errlen, "balances: more than %d entries", LEDGER_GENESIS_BALANCES_MAX);
    if (nb && !(bal = calloc(nb, sizeof *bal))) {
        s_err(err, errlen, "out of memory");
        return LEDGER_E_NOMEM;
    }
    json_object_foreach(val[K_BAL], k, v)
    {
        json_t *ks = json_string(k);
        rc = ks ? s_hex_key(ks, "balances", bal[n_bal].account, err, errlen) : LEDGER_E_NOMEM;
        json_decref(ks);
        if (rc == LEDGER_OK)
            rc = s_uint(v, "balances", &bal[n_bal].amount, err, errlen);
        if (rc != LEDGER_OK)
            goto out;
        n_bal++;
    }
    rc = ledger_genesis_new(&p, (const uint8_t(*)[LEDGER_ID_LEN])auth, n_auth, bal, n_bal, out, err,
                            errlen);
out:
    free(bal);
    return rc;
}

int ledger_genesis_parse(const char *text, size_t len, ledger_genesis_t **out, char *err,
                         size_t errlen)
{
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (err && errlen)
            snprintf(err, errlen, "genesis: not valid JSON at line %d column %d: %s", jerr.line,
                     jerr.column, jerr.text);
        return LEDGER_E_MALFORMED;
    }
    int rc = s_from_json(root, out, err, errlen);
    json_decref(root);
    return rc;
}

int ledger_genesis_load(const char *path, ledger_genesis_t **out, char *err, size_t errlen)
{
    *out = NULL;
    int rc = LEDGER_E_STORE;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return LEDGER_E_STORE;
    }
    if (!(buf = malloc(LEDGER_GENESIS_FILE_MAX + 1))) {
        rc = LEDGER_E_NOMEM;
        goto out;
    }
    size_t n = fread(buf, 1, LEDGER_GENESIS_FILE_MAX + 1, f);
    if (ferror(f)) {
        if (err && errlen)
            snprintf(err, errlen, "%s: read error", path);
        goto out;
    }
    if (n > LEDGER_GENESIS_FILE_MAX) {
        rc = s_err(err, errlen, "%s: larger than %u bytes", path, LEDGER_GENESIS_FILE_MAX);
        goto out;
    }
    rc = ledger_genesis_parse(buf, n, out, err, errlen);
out:
    free(buf);
    fclose(f);
    return rc;
}

static json_t *s_hex_json(const uint8_t key[LEDGER_ID_LEN])
{
    char hex[HEX_KEY_LEN + 1];
    proto_hex_encode(key, LEDGER_ID_LEN, hex);
    return json_string(hex);
}

int ledger_genesis_write(const ledger_genesis_t *g, const char *path)
{
    int rc = PROTO_E_IO, fd = -1;
    char *text = NULL;
    json_t *root = json_object(), *auth = json_array(), *bal = json_object();
    if (!root || !auth || !bal)
        goto out;
    const ledger_genesis_params_t *p = &g->params;
    for (size_t i = 0; i < g->n_auth; i++)
        if (json_array_append_new(auth, s_hex_json(g->auth[i])) != 0)
            goto out;
    for (size_t i = 0; i < g->n_bal; i++) {
        char hex[HEX_KEY_LEN + 1];
        proto_hex_encode(g->bal[i].account, LEDGER_ID_LEN, hex);
        if (json_object_set_new(bal, hex, json_integer((json_int_t)g->bal[i].amount)) != 0)
            goto out;
    }
    /* the object takes AUTH and BAL: clear our references so cleanup frees them once */
    int bad = json_object_set_new(root, "chain_name", json_string(p->chain_name));
    bad |= json_object_set_new(root, "authorities", auth);
    auth = NULL;
    if (!s_no_attestation(p))
        bad |= json_object_set_new(root, "attestation_service", s_hex_json(p->attestation_service));
    bad |= json_object_set_new(root, "balances", bal);
    bal = NULL;
    bad |= json_object_set_new(root, "block_interval_ms",
                               json_integer((json_int_t)p->block_interval_ms));
    bad |= json_object_set_new(root, "heartbeat_ms", json_integer((json_int_t)p->heartbeat_ms));
    bad |=
        json_object_set_new(root, "max_block_bytes", json_integer((json_int_t)p->max_block_bytes));
    bad |= json_object_set_new(root, "max_block_txs", json_integer((json_int_t)p->max_block_txs));
    bad |=
        json_object_set_new(root, "genesis_time_ms", json_integer((json_int_t)p->genesis_time_ms));
    if (bad || !(text = json_dumps(root, JSON_INDENT(2))))
        goto out;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        goto out;
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto out;
        done += (size_t)w;
    }
    if (write(fd, "\n", 1) != 1 || fsync(fd) != 0)
        goto out;
    rc = 0;
out:
    if (fd >= 0 && close(fd) != 0)
        rc = PROTO_E_IO;
    free(text);
    json_decref(auth);
    json_decref(bal);
    json_decref(root);
    return rc;
}

/* ---- height 0 ---- */

int ledger_genesis_apply(const ledger_genesis_t *g, ledger_store_t *store)
{
    ledger_chain_t chain;
    if (ledger_store_chain(store, &chain) == LEDGER_OK)
        return memcmp(chain.chain_id, g->chain_id, LEDGER_ID_LEN) == 0 ? LEDGER_OK
                                                                       : LEDGER_E_WRONG_CHAIN;
    int rc = LEDGER_E_NOMEM;
    uint8_t *block = NULL;
    ledger_state_t *st = ledger_state_new(store);
    if (!st)
        goto out;
    for (size_t i = 0; i < g->n_bal; i++) {
        ledger_account_t a = {.balance = g->bal[i].amount, .nonce = 0};
        if ((rc = ledger_state_set_account(st, g->bal[i].account, &a)) != LEDGER_OK)
            goto out;
    }
    if ((rc = ledger_state_set_authorities(st, (const uint8_t(*)[LEDGER_ID_LEN])g->auth,
                                           g->n_auth)) != LEDGER_OK)
        goto out;
    if (!s_no_attestation(&g->params)) {
        const uint8_t key[2] = {LEDGER_KEY_CONFIG, LEDGER_CONFIG_ATTESTATION};
        if ((rc = ledger_state_put(st, key, sizeof key, g->params.attestation_service,
                                   LEDGER_ID_LEN)) != LEDGER_OK)
            goto out;
    }
    ledger_header_t h;
    memset(&h, 0, sizeof h);
    memcpy(h.chain_id, g->chain_id, LEDGER_ID_LEN);
    h.time_ms = g->params.genesis_time_ms;
    ledger_block_tx_root(NULL, 0, h.tx_root);
    const uint8_t zero[LEDGER_ID_LEN] = {0};
    if ((rc = ledger_state_finish(st, zero, h.state_root)) != LEDGER_OK)
        goto out;
    size_t len;
    if (!(block = ledger_block_encode(&h, NULL, NULL, 0, &len))) {
        rc = LEDGER_E_NOMEM;
        goto out;
    }
    memcpy(chain.chain_id, g->chain_id, LEDGER_ID_LEN);
    chain.max_block_bytes = g->params.max_block_bytes;
    chain.max_block_txs = g->params.max_block_txs;
    rc = ledger_store_commit_genesis(store, &chain, block, len, st);
out:
    free(block);
    ledger_state_destroy(&st);
    return rc;
}

/* ---- test networks ---- */

int ledger_genesis_create(const char *dir, const char *chain_name, size_t n_authorities,
                          uint64_t balance, uint64_t time_ms, ledger_genesis_t **out, char *err,
                          size_t errlen)
{
    uint8_t auth[LEDGER_AUTHORITIES_MAX][LEDGER_ID_LEN];
    ledger_balance_t bal[LEDGER_AUTHORITIES_MAX];
    ledger_genesis_params_t p;
    ledger_genesis_t *g = NULL;
    proto_key_t *key = NULL;
    char path[4096];
    int rc;

    if (out)
        *out = NULL;
    if (n_authorities < 1 || n_authorities > LEDGER_AUTHORITIES_MAX)
        return s_err(err, errlen, "authorities: must be 1..%d", LEDGER_AUTHORITIES_MAX);
    if (!chain_name || strlen(chain_name) > LEDGER_CHAIN_NAME_MAX)
        return s_err(err, errlen, "chain_name: must be 1..64 characters of [A-Za-z0-9._-]");
    memset(&p, 0, sizeof p);
    snprintf(p.chain_name, sizeof p.chain_name, "%s", chain_name);
    p.block_interval_ms = 1000;
    p.heartbeat_ms = 10000;
    p.max_block_bytes = LEDGER_BLOCK_MAX_BYTES;
    p.max_block_txs = LEDGER_BLOCK_MAX_TXS;
    p.genesis_time_ms = time_ms;

    for (size_t i = 0; i <= n_authorities; i++) {
        bool attest = i == n_authorities;
        if (!(key = proto_key_generate())) {
            rc = s_err(err, errlen, "cannot generate a key");
            goto out;
        }
        if (attest)
            snprintf(path, sizeof path, "%s/attestation.key", dir);
        else
            snprintf(path, sizeof path, "%s/authority-%zu.key", dir, i + 1);
        int ks = proto_keystore_save(path, key, PROTO_KS_ACCOUNT, NULL);
        if (ks != PROTO_OK) {
            s_err(err, errlen, "%s: %s", path, proto_keystore_strerror(ks));
            rc = LEDGER_E_STORE;
            goto out;
        }
        if (attest) {
            memcpy(p.attestation_service, proto_key_public(key), LEDGER_ID_LEN);
        } else {
            memcpy(auth[i], proto_key_public(key), LEDGER_ID_LEN);
            memcpy(bal[i].account, proto_key_public(key), LEDGER_ID_LEN);
            bal[i].amount = balance;
        }
        proto_key_destroy(&key);
    }
    if ((rc = ledger_genesis_new(&p, (const uint8_t(*)[LEDGER_ID_LEN])auth, n_authorities, bal,
                                 n_authorities, &g, err, errlen)) != LEDGER_OK)
        goto out;
    snprintf(path, sizeof path, "%s/genesis.json", dir);
    if (ledger_genesis_write(g, path) != 0) {
        s_err(err, errlen, "%s: %s", path, strerror(errno));
        rc = LEDGER_E_STORE;
        goto out;
    }
    if (out) {
        *out = g;
        g = NULL;
    }
    rc = LEDGER_OK;
out:
    proto_key_destroy(&key);
    ledger_genesis_destroy(&g);
    return rc;
}

/*  genie-forge: a hostile ledger peer that offers a real node a real next block under a
 *  forged commit certificate, to show with real processes that block sync never applies
 *  a block whose certificate does not verify (tests/integration/test_ledger_forge.py).
 *
 *  It builds block 1 of the chain of --genesis in a scratch ledger store (a temporary
 *  directory, removed before the network part): the genesis applied, one transfer of 1
 *  from the first --key's account to a fresh account (no --key: an empty block), built by
 *  ledger_block_build with the round-robin proposer of (1, 0), and checked with
 *  ledger_block_execute; so its prev hash, tx root and state root are right and ONLY the
 *  certificate is wrong. Then it links to the target as a genie-node would (tool_link.h),
 *  gossips STATUS [2, H] every second (two blocks ahead of a node at height 0, so it asks
 *  at once), acknowledges the target's unicasts, and answers each SYNC_REQ (at most
 *  --count) with one unicast [SYNC_BLOCKS, 1, block, certificate] (node_ledger.h). A flush
 *  barrier then makes sure the target has handled the last answer.
 *
 *      genie-forge --target NODEID@tcp://IP:PORT --genesis FILE --mode MODE
 *                  [--key FILE ...] [--count N] [--seconds S]
 *
 *  Certificates (H is the block's hash, Q the quorum of the genesis authorities,
 *  floor(2n/3) + 1; "signed" means precommit signatures, ledger_vote.h):
 *    valid        (control) Q authorities signed (1, 0, H): the node must apply it
 *    outsiders    Q keys that are no authorities signed (1, 0, H), under indexes 0..Q-1
 *    minority     Q-1 authorities (fewer if fewer --key) signed (1, 0, H)
 *    wronghash    a real quorum certificate of another block 1 (same tx, another time)
 *    wrongheight  says (1, 0, H); Q authorities signed (2, 0, H)
 *    wronground   says (1, 0, H); Q authorities signed (1, 1, H)
 *    wrongchain   says (1, 0, H); Q authorities signed it on another chain id
 *    repeated     one authority's signature Q times under its own index
 *    relabeled    one authority's signature under Q different indexes
 *    garbage      1..512 random bytes
 *    truncated    the valid certificate cut short at a random length
 *    empty        zero bytes
 *  --key FILE (repeatable): unencrypted account keystores of genesis authorities (`genie
 *  genesis new` writes authority-<i>.key); valid, wronghash, wrongheight, wronground,
 *  wrongchain, repeated, relabeled and truncated need Q of them, minority one.
 *  --count N (default 3: the failures after which a node ignores a peer for a minute, so
 *  the next run is asked at once): SYNC_REQs answered. --seconds S (default 20) bounds
 *  the run after the handshake; the barrier waits at most 10 s more.
 *
 *  Output: one line on stdout, "genie-forge: mode=M id=HEX ...", key=value pairs a test
 *  can parse: block_hash (H), block_txs and payer (the transfer's sender, "-" without
 *  one) of the offered block, cert_bytes, requests
 *  (distinct SYNC_REQs received), asked_from (the first one's start height, -1 if none),
 *  answered, acks (ACKs of our answers), status_height (the target's last STATUS, -1 if
 *  none came), flushed. Exit 0 when the run happened (whatever the target did), 1 on a
 *  local failure, 2 on a usage error. A test tool: it never loops without a count and a
 *  deadline.
 */
#include <czmq.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_mempool.h"
#include "ledger/ledger_store.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_hex.h"
#include "proto/proto_keystore.h"
#include "proto/proto_msgtype.h"
#include "tests/tools/tool_cli.h"
#include "tests/tools/tool_link.h"

#define FORGE_PROG "genie-forge"
#define FORGE_KEYS_MAX LEDGER_VALSET_MAX
#define FORGE_HEIGHT 1u /* the block offered */
#define FORGE_CLAIM 2u  /* the head our STATUS claims */
#define FORGE_HELLO_WAIT_MS 5000
#define FORGE_STATUS_MS 1000
#define FORGE_FLUSH_MS 10000
#define FORGE_PENDING_MAX 64 /* unicasts queued between two drains */
#define FORGE_SEEN_MAX 64    /* unicast ids remembered (the target retries until ACKed) */
#define FORGE_LOOP_MAX 1000000
#define FORGE_GARBAGE_MAX 512
#define FORGE_COUNT_MAX 16

typedef enum {
    FORGE_VALID,
    FORGE_OUTSIDERS,
    FORGE_MINORITY,
    FORGE_WRONGHASH,
    FORGE_WRONGHEIGHT,
    FORGE_WRONGROUND,
    FORGE_WRONGCHAIN,
    FORGE_REPEATED,
    FORGE_RELABELED,
    FORGE_GARBAGE,
    FORGE_TRUNCATED,
    FORGE_EMPTY
} forge_mode_t;

static const char *const s_mode_names[] = {"valid",       "outsiders",  "minority",   "wronghash",
                                           "wrongheight", "wronground", "wrongchain", "repeated",
                                           "relabeled",   "garbage",    "truncated",  "empty"};

/* Authority keys each mode needs: 'q' a quorum, '1' one, '0' none. */
static const char s_mode_keys[] = "q01qqqqqq0q0";
_Static_assert(sizeof s_mode_keys - 1 == sizeof s_mode_names / sizeof s_mode_names[0],
               "one s_mode_keys letter per mode");

typedef struct {
    uint8_t target_id[32];
    char endpoint[P2P_ENDPOINT_MAX];
    const char *genesis;
    const char *key_files[FORGE_KEYS_MAX];
    size_t n_keys;
    forge_mode_t mode;
    uint64_t count;
    double seconds;
} forge_opts_t;

typedef struct {
    uint64_t msg_id;
    bool is_req; /* a SYNC_REQ (else another unicast, only acknowledged) */
    uint64_t from;
} forge_pending_t;

typedef struct {
    forge_opts_t o;
    proto_key_t *keys[FORGE_KEYS_MAX]; /* --key, in order */
    int key_index[FORGE_KEYS_MAX];     /* each one's index in vs */
    uint8_t chain_id[LEDGER_ID_LEN];
    ledger_valset_t vs;
    uint8_t *block;
    size_t block_len, block_txs;
    uint8_t hash[LEDGER_ID_LEN];
    uint8_t other_hash[LEDGER_ID_LEN]; /* the hash of a sibling block 1 */
    uint8_t *cert;
    size_t cert_len;
    tool_link_t *link;
    forge_pending_t pending[FORGE_PENDING_MAX];
    size_t n_pending;
    uint64_t seen[FORGE_SEEN_MAX];
    size_t n_seen;
    uint64_t status_sent, requests, answered;
    int64_t asked_from, status_height;
    const char *flushed;
    int64_t start_ms, deadline_ms; /* monotonic */
} forge_t;

#define FORGE_USAGE                                                                                \
    "usage: genie-forge --target NODEID@tcp://IP:PORT --genesis FILE --mode MODE\n"                \
    "                   [--key FILE ...] [--count N] [--seconds S]\n"                              \
    "modes: valid outsiders minority wronghash wrongheight wronground wrongchain repeated\n"       \
    "       relabeled garbage truncated empty\n"

static int s_parse(int argc, char **argv, forge_opts_t *o)
{
    const char *target = NULL, *mode = NULL;
    memset(o, 0, sizeof *o);
    o->count = 3;
    o->seconds = 20;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s", FORGE_USAGE);
            return 1; /* main turns it into exit 0 */
        }
        if (i + 1 >= argc)
            return tool_cli_usage(FORGE_PROG, FORGE_USAGE, "%s wants a value", a);
        const char *v = argv[++i];
        char *end = NULL;
        if (strcmp(a, "--target") == 0) {
            target = v;
        } else if (strcmp(a, "--genesis") == 0) {
            o->genesis = v;
        } else if (strcmp(a, "--mode") == 0) {
            mode = v;
        } else if (strcmp(a, "--key") == 0) {
            if (o->n_keys == FORGE_KEYS_MAX)
                return tool_cli_usage(FORGE_PROG, FORGE_USAGE, "at most %d --key", FORGE_KEYS_MAX);
            o->key_files[o->n_keys++] = v;
        } else if (strcmp(a, "--count") == 0) {
            unsigned long long c = strtoull(v, &end, 10);
            if (*v == '\0' || *end || c == 0 || c > FORGE_COUNT_MAX)
                return tool_cli_usage(FORGE_PROG, FORGE_USAGE, "--count wants 1-%d, got '%s'",
                                      FORGE_COUNT_MAX, v);
            o->count = c;
        } else if (strcmp(a, "--seconds") == 0) {
            o->seconds = strtod(v, &end);
            if (*v == '\0' || *end || !(o->seconds > 0) || o->seconds > 600)
                return tool_cli_usage(FORGE_PROG, FORGE_USAGE, "--seconds wants 0-600, got '%s'",
                                      v);
        } else {
            return tool_cli_usage(FORGE_PROG, FORGE_USAGE, "unknown option '%s'", a);
        }
    }
    if (!target || !mode || !o->genesis)
        return tool_cli_usage(FORGE_PROG, FORGE_USAGE, "%s",
                              "--target, --genesis and --mode are required");
    if (tool_link_parse_target(target, o->target_id, o->endpoint) != 0)
        return tool_cli_usage(FORGE_PROG, FORGE_USAGE,
                              "bad --target '%s' (want NODEID@tcp://IP:PORT)", target);
    int m = tool_cli_find(s_mode_names, sizeof s_mode_names / sizeof s_mode_names[0], mode);
    if (m < 0)
        return tool_cli_usage(FORGE_PROG, FORGE_USAGE, "unknown --mode '%s'", mode);
    o->mode = (forge_mode_t)m;
    return 0;
}

/* ---- the block ---- */

static int s_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Builds block 1 on STORE's genesis at TIME_MS into *OUT (malloc'd, caller frees), checks
   that it executes, and gives its hash and tx count. 0 or -1 (printed). */
static int s_build_one(forge_t *f, ledger_store_t *store, ledger_mempool_t *pool, uint64_t time_ms,
                       uint8_t **out, size_t *out_len, uint8_t hash[static LEDGER_ID_LEN],
                       size_t *txs)
{
    ledger_build_params_t bp = {.time_ms = time_ms, .round = 0};
    memcpy(bp.proposer, f->vs.keys[ledger_valset_proposer(&f->vs, FORGE_HEIGHT, 0)], LEDGER_ID_LEN);
    ledger_state_t *state = NULL;
    ledger_block_t *b = NULL;
    char why[LEDGER_ERR_MAX] = "";
    int rc = ledger_block_build(store, pool, &bp, out, out_len, &state);
    ledger_state_destroy(&state);
    if (rc != LEDGER_OK)
        return tool_cli_fail(FORGE_PROG, "cannot build block %u: %s", FORGE_HEIGHT,
                             proto_err_str(rc));
    rc = ledger_block_execute(store, *out, *out_len, NULL, 0, &state, NULL, why, sizeof why);
    ledger_state_destroy(&state);
    if (rc != LEDGER_OK)
        return tool_cli_fail(FORGE_PROG, "the block built does not execute: %s (%s)",
                             proto_err_str(rc), why);
    if (ledger_block_decode(*out, *out_len, &b) != PROTO_OK)
        return tool_cli_fail(FORGE_PROG, "%s", "the block built does not decode");
    memcpy(hash, ledger_block_hash(b), LEDGER_ID_LEN);
    *txs = ledger_block_tx_count(b);
    ledger_block_destroy(&b);
    return 0;
}

/* Adds a transfer of 1 from the first key's account to a fresh account to POOL. 0 or -1. */
static int s_add_transfer(forge_t *f, ledger_store_t *store, ledger_mempool_t *pool)
{
    ledger_account_t acct;
    uint8_t to[LEDGER_ID_LEN];
    size_t len = 0;
    char why[LEDGER_ERR_MAX] = "";
    if (ledger_store_account(store, proto_key_public(f->keys[0]), &acct) != LEDGER_OK)
        return tool_cli_fail(FORGE_PROG, "%s", "cannot read the payer's account");
    randombytes_buf(to, sizeof to);
    uint8_t *tx = ledger_contract_transfer_tx(f->keys[0], f->chain_id, acct.nonce, to, 1, &len);
    int rc = tx ? ledger_mempool_add(pool, tx, len, NULL, why, sizeof why) : LEDGER_E_NOMEM;
    free(tx);
    if (rc != LEDGER_OK)
        return tool_cli_fail(FORGE_PROG, "the transfer is refused: %s (%s)", proto_err_str(rc),
                             why[0] ? why : "-");
    return 0;
}

/* Finds each --key in the authority set and checks the mode has the keys it needs. 0,
   or 2 (a usage error, printed). */
static int s_check_keys(forge_t *f)
{
    for (size_t i = 0; i < f->o.n_keys; i++) {
        f->key_index[i] = ledger_valset_find(&f->vs, proto_key_public(f->keys[i]));
        if (f->key_index[i] < 0)
            return tool_cli_usage(FORGE_PROG, FORGE_USAGE,
                                  "--key %s is not an authority of the genesis", f->o.key_files[i]);
        for (size_t j = 0; j < i; j++)
            if (f->key_index[j] == f->key_index[i])
                return tool_cli_usage(FORGE_PROG, FORGE_USAGE, "--key %s repeats an authority",
                                      f->o.key_files[i]);
    }
    size_t q = ledger_valset_quorum(&f->vs), need = 0;
    if (s_mode_keys[f->o.mode] == 'q')
        need = q;
    else if (s_mode_keys[f->o.mode] == '1')
        need = 1;
    if (f->o.n_keys < need)
        return tool_cli_usage(FORGE_PROG, FORGE_USAGE,
                              "--mode %s needs %zu authority keys (--key), got %zu",
                              s_mode_names[f->o.mode], need, f->o.n_keys);
    if (f->o.mode == FORGE_MINORITY && q < 2)
        return tool_cli_usage(FORGE_PROG, FORGE_USAGE, "%s",
                              "--mode minority needs a genesis with two authorities or more");
    return 0;
}

/* Loads --genesis into a scratch store in DIR; fills the chain id and the authority set,
   checks the keys against it (s_check_keys), builds the block (f->block, hash, txs) and a
   sibling (other_hash). 0, 2 (a usage error) or -1; printed. */
static int s_build_in(forge_t *f, const char *dir)
{
    ledger_genesis_t *g = NULL;
    ledger_store_t *store = NULL;
    ledger_mempool_t *pool = NULL;
    uint8_t *sibling = NULL;
    size_t sibling_len = 0, sibling_txs = 0;
    uint8_t auth[LEDGER_AUTHORITIES_MAX][LEDGER_ID_LEN];
    size_t n_auth = 0;
    ledger_head_t head;
    char err[512];
    int rc = -1;
    if (ledger_genesis_load(f->o.genesis, &g, err, sizeof err) != LEDGER_OK) {
        tool_cli_fail(FORGE_PROG, "--genesis %s: %s", f->o.genesis, err);
        goto out;
    }
    memcpy(f->chain_id, ledger_genesis_chain_id(g), LEDGER_ID_LEN);
    if (ledger_store_open(dir, &store, err, sizeof err) != LEDGER_OK) {
        tool_cli_fail(FORGE_PROG, "scratch store %s: %s", dir, err);
        goto out;
    }
    if (ledger_genesis_apply(g, store) != LEDGER_OK ||
        ledger_store_head(store, &head) != LEDGER_OK ||
        ledger_store_authorities(store, auth, &n_auth) != LEDGER_OK) {
        tool_cli_fail(FORGE_PROG, "%s", "cannot apply the genesis to the scratch store");
        goto out;
    }
    for (size_t i = 0; i < n_auth; i++)
        if (ledger_valset_add(&f->vs, auth[i]) != 0)
            goto out;
    if (s_check_keys(f) != 0) {
        rc = 2;
        goto out;
    }
    pool = ledger_mempool_new(store, NULL);
    if (!pool || (f->o.n_keys > 0 && s_add_transfer(f, store, pool) != 0))
        goto out;
    uint64_t now = (uint64_t)zclock_time();
    uint64_t t = now > head.time_ms ? now : head.time_ms;
    if (s_build_one(f, store, pool, t, &f->block, &f->block_len, f->hash, &f->block_txs) != 0 ||
        s_build_one(f, store, pool, t + 1, &sibling, &sibling_len, f->other_hash, &sibling_txs) !=
            0)
        goto out;
    rc = 0;
out:
    free(sibling);
    ledger_mempool_destroy(&pool);
    ledger_store_destroy(&store);
    ledger_genesis_destroy(&g);
    return rc;
}

/* s_build_in in a fresh temporary directory, removed afterwards. 0, 2 or -1. */
static int s_build(forge_t *f)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/genie-forge-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return tool_cli_fail(FORGE_PROG, "cannot create a directory under %s",
                             tmp && tmp[0] ? tmp : "/tmp");
    int rc = s_build_in(f, dir);
    nftw(dir, s_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}

/* ---- the certificate ---- */

/* The authority key with index IDX among --key, or NULL. */
static const proto_key_t *s_key_at(const forge_t *f, size_t idx)
{
    for (size_t i = 0; i < f->o.n_keys; i++)
        if (f->key_index[i] == (int)idx)
            return f->keys[i];
    return NULL;
}

/* KEY's precommit signature of (CHAIN, HEIGHT, ROUND, HASH) into SIG. */
static void s_precommit(const uint8_t chain[static LEDGER_ID_LEN], uint64_t height, uint32_t round,
                        const uint8_t hash[static LEDGER_ID_LEN], const proto_key_t *key,
                        uint8_t sig[static PROTO_SIG_LEN])
{
    ledger_vote_t v = {
        .type = LEDGER_VOTE_PRECOMMIT, .height = height, .round = round, .has_hash = true};
    memcpy(v.chain_id, chain, LEDGER_ID_LEN);
    memcpy(v.hash, hash, LEDGER_ID_LEN);
    ledger_vote_sign(&v, key);
    memcpy(sig, v.sig, PROTO_SIG_LEN);
}

/* A certificate of (HEIGHT, ROUND, HASH) with up to MAX signatures of it on CHAIN by our
   authority keys, in index order. */
static void s_cert_signed(const forge_t *f, const uint8_t chain[static LEDGER_ID_LEN],
                          uint64_t height, uint32_t round, const uint8_t hash[static LEDGER_ID_LEN],
                          size_t max, ledger_cert_t *c)
{
    memset(c, 0, sizeof *c);
    c->height = height;
    c->round = round;
    memcpy(c->block_hash, hash, LEDGER_ID_LEN);
    for (size_t idx = 0; idx < f->vs.n && c->n_sigs < max; idx++) {
        const proto_key_t *k = s_key_at(f, idx);
        if (!k)
            continue;
        c->sigs[c->n_sigs].index = (uint8_t)idx;
        s_precommit(chain, height, round, hash, k, c->sigs[c->n_sigs].sig);
        c->n_sigs++;
    }
}

/* Q fresh keys that are no authorities sign (1, 0, H), under indexes 0..Q-1. 0 or -1. */
static int s_cert_outsiders(const forge_t *f, size_t q, ledger_cert_t *c)
{
    s_cert_signed(f, f->chain_id, FORGE_HEIGHT, 0, f->hash, 0, c);
    for (size_t i = 0; i < q; i++) {
        proto_key_t *k = proto_key_generate();
        if (!k)
            return -1;
        c->sigs[i].index = (uint8_t)i;
        s_precommit(f->chain_id, FORGE_HEIGHT, 0, f->hash, k, c->sigs[i].sig);
        proto_key_destroy(&k);
    }
    c->n_sigs = q;
    return 0;
}

/* Makes f->cert for the mode. 0 or -1. */
static int s_make_cert(forge_t *f)
{
    size_t q = ledger_valset_quorum(&f->vs);
    ledger_cert_t c;
    uint8_t chain[LEDGER_ID_LEN];
    memcpy(chain, f->chain_id, LEDGER_ID_LEN);
    switch (f->o.mode) {
    case FORGE_GARBAGE:
        f->cert_len = 1 + randombytes_uniform(FORGE_GARBAGE_MAX);
        f->cert = malloc(f->cert_len);
        if (!f->cert)
            return -1;
        randombytes_buf(f->cert, f->cert_len);
        return 0;
    case FORGE_EMPTY:
        f->cert = malloc(1); /* a buffer of no bytes */
        f->cert_len = 0;
        return f->cert ? 0 : -1;
    case FORGE_OUTSIDERS:
        if (s_cert_outsiders(f, q, &c) != 0)
            return -1;
        break;
    case FORGE_MINORITY:
        s_cert_signed(f, chain, FORGE_HEIGHT, 0, f->hash, q - 1, &c);
        break;
    case FORGE_WRONGHASH:
        s_cert_signed(f, chain, FORGE_HEIGHT, 0, f->other_hash, q, &c);
        break;
    case FORGE_WRONGHEIGHT:
        s_cert_signed(f, chain, FORGE_HEIGHT + 1, 0, f->hash, q, &c);
        c.height = FORGE_HEIGHT;
        break;
    case FORGE_WRONGROUND:
        s_cert_signed(f, chain, FORGE_HEIGHT, 1, f->hash, q, &c);
        c.round = 0;
        break;
    case FORGE_WRONGCHAIN:
        chain[0] ^= 0x01;
        s_cert_signed(f, chain, FORGE_HEIGHT, 0, f->hash, q, &c);
        break;
    case FORGE_REPEATED:
    case FORGE_RELABELED:
    case FORGE_VALID:
    case FORGE_TRUNCATED:
        s_cert_signed(f, chain, FORGE_HEIGHT, 0, f->hash, q, &c);
        for (size_t i = 1; f->o.mode == FORGE_REPEATED && i < c.n_sigs; i++)
            c.sigs[i] = c.sigs[0];
        for (size_t i = 1; f->o.mode == FORGE_RELABELED && i < c.n_sigs; i++)
            memcpy(c.sigs[i].sig, c.sigs[0].sig, PROTO_SIG_LEN);
        break;
    }
    if (ledger_cert_encode(&c, &f->cert, &f->cert_len) != PROTO_OK)
        return -1;
    if (f->o.mode == FORGE_TRUNCATED)
        f->cert_len = 1 + randombytes_uniform((uint32_t)f->cert_len - 1);
    return 0;
}

/* ---- the network ---- */

/* Notes what the target sent: its STATUS, and unicasts to acknowledge and answer. */
static void s_on_rx(void *ctx, const proto_envelope_t *env)
{
    forge_t *f = ctx;
    if (memcmp(env->sender, f->o.target_id, 32) != 0)
        return;
    if (env->type == PROTO_MSG_GOSSIP) {
        p2p_gossip_t g;
        proto_rd_t r;
        uint64_t height = 0;
        if (p2p_msg_read_gossip(env->body, env->body_len, &g) != PROTO_OK || g.topic[0] != '\0' ||
            g.kind != PROTO_MSG_STATUS)
            return;
        proto_rd_init(&r, g.payload, g.payload_len);
        if (proto_rd_array_exact(&r, 2) == PROTO_OK &&
            proto_rd_uint(&r, LEDGER_HEIGHT_MAX, &height) == PROTO_OK)
            f->status_height = (int64_t)height;
        return;
    }
    p2p_unicast_t u;
    if (env->type != PROTO_MSG_UNICAST ||
        p2p_msg_read_unicast(env->body, env->body_len, &u) != PROTO_OK ||
        f->n_pending == FORGE_PENDING_MAX)
        return;
    forge_pending_t *p = &f->pending[f->n_pending++];
    memset(p, 0, sizeof *p);
    p->msg_id = u.msg_id;
    proto_rd_t r;
    uint64_t type = 0, count = 0;
    proto_rd_init(&r, u.payload, u.payload_len);
    p->is_req = proto_rd_array_exact(&r, 3) == PROTO_OK &&
                proto_rd_uint(&r, UINT32_MAX, &type) == PROTO_OK && type == PROTO_MSG_SYNC_REQ &&
                proto_rd_uint(&r, LEDGER_HEIGHT_MAX, &p->from) == PROTO_OK &&
                proto_rd_uint(&r, UINT32_MAX, &count) == PROTO_OK;
}

/* Gossips STATUS [FORGE_CLAIM, a made-up head hash]. */
static void s_status(forge_t *f)
{
    uint8_t fake[32];
    proto_hash("genie-forge/claimed-head", f->hash, sizeof f->hash, fake);
    proto_wr_t inner, w;
    proto_wr_init(&inner);
    proto_wr_array(&inner, 2);
    proto_wr_uint(&inner, FORGE_CLAIM);
    proto_wr_bin(&inner, fake, sizeof fake);
    size_t len = 0;
    const uint8_t *payload = proto_wr_data(&inner, &len);
    proto_wr_init(&w);
    if (payload) {
        p2p_msg_write_gossip(&w, "", PROTO_MSG_STATUS, payload, len);
        if (tool_link_send_wr(f->link, PROTO_MSG_GOSSIP, &w, f->deadline_ms) == 0)
            f->status_sent++;
    } else {
        proto_wr_free(&w);
    }
    proto_wr_free(&inner);
}

/* Sends the unicast PAYLOAD (W's content; W is freed) to the target. 0 or -1. */
static int s_unicast(forge_t *f, proto_wr_t *payload_w)
{
    size_t len = 0;
    const uint8_t *payload = proto_wr_data(payload_w, &len);
    int rc = -1;
    if (payload) {
        p2p_unicast_t u = {.kind = PROTO_MSG_SYNC_BLOCKS, .payload = payload, .payload_len = len};
        memcpy(u.dest, f->o.target_id, 32);
        randombytes_buf(&u.msg_id, sizeof u.msg_id);
        proto_wr_t w;
        proto_wr_init(&w);
        p2p_msg_write_unicast(&w, &u);
        rc = tool_link_send_wr(f->link, PROTO_MSG_UNICAST, &w, f->deadline_ms);
    }
    proto_wr_free(payload_w);
    return rc;
}

/* Answers a SYNC_REQ with [SYNC_BLOCKS, 1, block, certificate]. */
static void s_answer(forge_t *f)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    proto_wr_uint(&w, PROTO_MSG_SYNC_BLOCKS);
    proto_wr_uint(&w, FORGE_HEIGHT);
    proto_wr_bin(&w, f->block, f->block_len);
    proto_wr_bin(&w, f->cert, f->cert_len);
    if (s_unicast(f, &w) == 0)
        f->answered++;
}

/* True if unicast MSG_ID was seen before (a retry); remembers it otherwise (the last
   FORGE_SEEN_MAX ids). */
static bool s_seen(forge_t *f, uint64_t msg_id)
{
    for (size_t i = 0; i < FORGE_SEEN_MAX && i < f->n_seen; i++)
        if (f->seen[i] == msg_id)
            return true;
    f->seen[f->n_seen++ % FORGE_SEEN_MAX] = msg_id;
    return false;
}

/* Acknowledges every queued unicast and answers the new SYNC_REQs (at most --count). */
static void s_serve(forge_t *f)
{
    for (size_t i = 0; i < f->n_pending; i++) {
        const forge_pending_t *p = &f->pending[i];
        proto_wr_t w;
        proto_wr_init(&w);
        p2p_msg_write_u64(&w, p->msg_id);
        tool_link_send_wr(f->link, PROTO_MSG_ACK, &w, f->deadline_ms);
        if (s_seen(f, p->msg_id) || !p->is_req)
            continue;
        f->requests++;
        if (f->asked_from < 0)
            f->asked_from = (int64_t)p->from;
        if (f->answered < f->o.count)
            s_answer(f);
    }
    f->n_pending = 0;
}

static void s_run(forge_t *f)
{
    int64_t next_status = 0;
    for (int i = 0; i < FORGE_LOOP_MAX && f->answered < f->o.count; i++) {
        int64_t now = zclock_mono();
        if (now >= f->deadline_ms)
            break;
        if (now >= next_status) {
            s_status(f);
            next_status = now + FORGE_STATUS_MS;
        }
        tool_link_drain(f->link, 100);
        s_serve(f);
    }
    f->flushed = tool_link_barrier(f->link, FORGE_FLUSH_MS) ? "yes" : "no";
    tool_link_drain(f->link, 300);
    s_serve(f); /* acknowledge what came meanwhile; answers nothing more past --count */
}

static void s_summary(const forge_t *f)
{
    const tool_link_stats_t *st = tool_link_stats(f->link);
    char id[65], target[9], hash[65], payer[65] = "-";
    proto_hex_encode(proto_key_public(tool_link_key(f->link)), 32, id);
    proto_hex_encode(f->o.target_id, 4, target);
    proto_hex_encode(f->hash, 32, hash);
    if (f->o.n_keys > 0)
        proto_hex_encode(proto_key_public(f->keys[0]), 32, payer);
    printf("genie-forge: mode=%s id=%s target=%s linked=%s block_height=%u block_hash=%s "
           "block_txs=%zu payer=%s cert_bytes=%zu status_sent=%llu requests=%llu asked_from=%lld "
           "answered=%llu acks=%llu status_height=%lld sent=%llu send_failed=%llu rx_bye=%llu "
           "flushed=%s bye=\"%s\" seconds=%.2f\n",
           s_mode_names[f->o.mode], id, target, st->linked ? "yes" : "no", FORGE_HEIGHT, hash,
           f->block_txs, payer, f->cert_len, (unsigned long long)f->status_sent,
           (unsigned long long)f->requests, (long long)f->asked_from,
           (unsigned long long)f->answered, (unsigned long long)st->rx[PROTO_MSG_ACK],
           (long long)f->status_height, (unsigned long long)st->sent,
           (unsigned long long)st->send_failed, (unsigned long long)st->rx[PROTO_MSG_BYE],
           f->flushed ? f->flushed : "n/a", st->bye_reason,
           (double)(zclock_mono() - f->start_ms) / 1000.0);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    forge_t *f = calloc(1, sizeof *f);
    if (!f)
        return 1;
    f->asked_from = -1;
    f->status_height = -1;
    int rc = s_parse(argc, argv, &f->o);
    if (rc != 0) {
        free(f);
        return rc == 1 ? 0 : rc; /* 1: --help */
    }
    rc = 1; /* a local failure, unless said otherwise */
    if (proto_crypto_init() != 0 || !zsys_init()) {
        tool_cli_fail(FORGE_PROG, "%s", "cannot initialise libsodium / ZeroMQ");
        goto out;
    }
    zsys_handler_set(NULL);
    /* Keys first (the block's transfer needs its payer); the authority set they are
       checked against comes with the genesis, in s_build. */
    for (size_t i = 0; i < f->o.n_keys; i++) {
        int ks = proto_keystore_load(f->o.key_files[i], NULL, &f->keys[i], NULL);
        if (ks != PROTO_OK) {
            tool_cli_fail(FORGE_PROG, "--key %s: %s (an unencrypted keystore wanted)",
                          f->o.key_files[i], proto_keystore_strerror(ks));
            goto out;
        }
    }
    rc = s_build(f);
    if (rc != 0) {
        rc = rc == 2 ? 2 : 1;
        goto out;
    }
    rc = 1;
    if (s_make_cert(f) != 0) {
        tool_cli_fail(FORGE_PROG, "%s", "cannot make the certificate");
        goto out;
    }
    char err[256];
    f->link = tool_link_new(f->o.target_id, f->o.endpoint, err, sizeof err);
    if (!f->link) {
        tool_cli_fail(FORGE_PROG, "%s", err);
        goto out;
    }
    tool_link_set_rx(f->link, s_on_rx, f);
    f->start_ms = zclock_mono();
    f->deadline_ms = f->start_ms + (int64_t)(f->o.seconds * 1000.0);
    if (tool_link_hello(f->link, f->chain_id, "genie-forge/0.1", f->deadline_ms) != 0) {
        tool_cli_fail(FORGE_PROG, "%s", "cannot send HELLO");
        goto out;
    }
    tool_link_wait_type(f->link, PROTO_MSG_HELLO, 0, FORGE_HELLO_WAIT_MS);
    f->deadline_ms = zclock_mono() + (int64_t)(f->o.seconds * 1000.0); /* after the handshake */
    if (tool_link_stats(f->link)->linked)
        s_run(f);
    s_summary(f);
    rc = 0;
out:
    tool_link_destroy(&f->link);
    for (size_t i = 0; i < f->o.n_keys; i++)
        proto_key_destroy(&f->keys[i]);
    free(f->block);
    free(f->cert);
    free(f);
    return rc;
}

/*  ledger_light: the light client (see ledger_light.h): canonical genesis reading, proof
 *  verification against the authority set in force, and the authority vote tally over
 *  the certified blocks it is fed. */
#include "ledger/ledger_light.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_authority.h"
#include "ledger/ledger_block.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_merkle.h"
#include "ledger/ledger_tx.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"

#define GENESIS_DOMAIN "genie/genesis/v1" /* ledger_genesis.h: the chain id */
#define GENESIS_FIELDS 10
#define GENESIS_VERSION 1

typedef struct {
    uint64_t from; /* first height this set certifies */
    ledger_valset_t set;
} s_era_t;

typedef struct {
    uint32_t action;
    uint8_t subject[LEDGER_ID_LEN];
    size_t n; /* voters, sorted */
    uint8_t voters[LEDGER_AUTHORITIES_MAX][LEDGER_ID_LEN];
} s_list_t;

struct ledger_light_t {
    uint8_t chain_id[LEDGER_ID_LEN];
    uint64_t fed;  /* last block fed to advance, 0 for none */
    size_t n_eras; /* 1..LEDGER_LIGHT_SETS_MAX; eras[n_eras - 1] is current */
    s_era_t eras[LEDGER_LIGHT_SETS_MAX];
    size_t n_lists; /* open vote lists */
    s_list_t lists[LEDGER_LIGHT_LISTS_MAX];
};

/* ---- genesis ---- */

/* Reads the canonical genesis (ledger_genesis.h) from R, keeping the authorities. */
static int s_genesis_read(proto_rd_t *r, ledger_valset_t *vs, char *err, size_t err_cap)
{
    uint64_t v = 0;
    uint32_t n = 0;
    const char *name;
    size_t name_len;
    uint8_t key[LEDGER_ID_LEN], prev[LEDGER_ID_LEN], curve[32];
    int rc = proto_rd_array_exact(r, GENESIS_FIELDS);
    if (rc == PROTO_OK && (rc = proto_rd_uint(r, UINT64_MAX, &v)) == PROTO_OK &&
        v != GENESIS_VERSION)
        return proto_err_fail(err, err_cap, PROTO_E_VERSION, "genesis version is not 1");
    if (rc == PROTO_OK &&
        (rc = proto_rd_str(r, LEDGER_CHAIN_NAME_MAX, &name, &name_len)) == PROTO_OK &&
        name_len == 0)
        rc = PROTO_E_INVALID;
    if (rc == PROTO_OK && (rc = proto_rd_array_max(r, LEDGER_AUTHORITIES_MAX, &n)) == PROTO_OK &&
        n == 0)
        return proto_err_fail(err, err_cap, PROTO_E_INVALID, "genesis names no authority");
    vs->n = 0;
    for (uint32_t i = 0; rc == PROTO_OK && i < n; i++) {
        if ((rc = proto_rd_bin_exact(r, LEDGER_ID_LEN, key)) != PROTO_OK)
            break;
        if (i > 0 && memcmp(prev, key, LEDGER_ID_LEN) >= 0)
            return proto_err_fail(err, err_cap, PROTO_E_INVALID,
                                  "genesis authorities are not sorted and distinct");
        if (proto_key_curve_public(key, curve) != 0)
            return proto_err_fail(err, err_cap, PROTO_E_INVALID,
                                  "a genesis authority is not a valid Ed25519 public key");
        memcpy(prev, key, LEDGER_ID_LEN);
        memcpy(vs->keys[vs->n++], key, LEDGER_ID_LEN);
    }
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, LEDGER_ID_LEN, key); /* attestation service */
    if (rc == PROTO_OK)
        rc = proto_rd_array_max(r, LEDGER_GENESIS_BALANCES_MAX, &n);
    for (uint32_t i = 0; rc == PROTO_OK && i < n; i++) {
        if ((rc = proto_rd_array_exact(r, 2)) != PROTO_OK ||
            (rc = proto_rd_bin_exact(r, LEDGER_ID_LEN, key)) != PROTO_OK ||
            (rc = proto_rd_uint(r, (uint64_t)INT64_MAX, &v)) != PROTO_OK)
            break;
        if (i > 0 && memcmp(prev, key, LEDGER_ID_LEN) >= 0)
            return proto_err_fail(err, err_cap, PROTO_E_INVALID,
                                  "genesis balances are not sorted and distinct");
        memcpy(prev, key, LEDGER_ID_LEN);
    }
    for (int i = 0; rc == PROTO_OK && i < 5; i++) /* interval, heartbeat, limits, time */
        rc = proto_rd_uint(r, UINT64_MAX, &v);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(r);
    if (rc != PROTO_OK)
        return proto_err_fail(err, err_cap, rc, "not a canonical genesis encoding");
    return rc;
}

int ledger_light_new(const uint8_t *genesis, size_t len, ledger_light_t **out, char *err,
                     size_t err_cap)
{
    *out = NULL;
    ledger_light_t *self = calloc(1, sizeof *self);
    if (!self)
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    proto_rd_t r;
    proto_rd_init(&r, genesis, len);
    char why[LEDGER_ERR_MAX] = "";
    int rc = s_genesis_read(&r, &self->eras[0].set, why, sizeof why);
    if (rc != PROTO_OK) {
        free(self);
        return proto_err_fail(err, err_cap, LEDGER_E_MALFORMED, "genesis: %s (%s)", why,
                              proto_err_str(rc));
    }
    proto_hash(GENESIS_DOMAIN, genesis, len, self->chain_id);
    self->eras[0].from = 1;
    self->n_eras = 1;
    *out = self;
    return LEDGER_OK;
}

void ledger_light_destroy(ledger_light_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

const uint8_t *ledger_light_chain_id(const ledger_light_t *self)
{
    return self->chain_id;
}

const ledger_valset_t *ledger_light_authorities(const ledger_light_t *self)
{
    return &self->eras[self->n_eras - 1].set;
}

uint64_t ledger_light_height(const ledger_light_t *self)
{
    return self->fed;
}

/* ---- proofs ---- */

/* The set that certifies HEIGHT, or NULL when it is older than every remembered set. */
static const ledger_valset_t *s_set_at(const ledger_light_t *self, uint64_t height)
{
    for (size_t i = self->n_eras; i-- > 0;)
        if (height >= self->eras[i].from)
            return &self->eras[i].set;
    return NULL;
}

/* Decodes HEADER (LEN bytes) strictly. */
static int s_header_decode(const uint8_t *buf, size_t len, ledger_header_t *h)
{
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    int rc = ledger_header_read(&r, h);
    return rc == PROTO_OK ? proto_rd_finish(&r) : rc;
}

/* Checks that CERT (LEN bytes) is a commit certificate of header H for SELF. */
static int s_cert_check(const ledger_light_t *self, const ledger_header_t *h, const uint8_t *cert,
                        size_t len, char *err, size_t err_cap)
{
    ledger_cert_t c;
    uint8_t hash[LEDGER_ID_LEN];
    int rc = ledger_cert_decode(cert, len, &c);
    if (rc != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_PROOF, "certificate does not decode (%s)",
                              proto_err_str(rc));
    if (c.height != h->height)
        return proto_err_fail(err, err_cap, LEDGER_E_PROOF,
                              "certificate is for height %llu, the block is %llu",
                              (unsigned long long)c.height, (unsigned long long)h->height);
    const ledger_valset_t *vs = s_set_at(self, h->height);
    if (!vs)
        return proto_err_fail(err, err_cap, LEDGER_E_PROOF,
                              "block %llu is older than the authority sets this client keeps",
                              (unsigned long long)h->height);
    ledger_header_hash(h, hash);
    if ((rc = ledger_cert_verify(&c, vs, self->chain_id, hash)) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_PROOF,
                              "certificate does not prove the block final under the authority "
                              "set (%s)",
                              rc == PROTO_E_BAD_SIG ? "a signature does not verify"
                                                    : "wrong block, unknown signers or no quorum");
    return LEDGER_OK;
}

int ledger_light_verify_tx(const ledger_light_t *self, const uint8_t *proof, size_t len,
                           ledger_light_tx_t *out, char *err, size_t err_cap)
{
    memset(out, 0, sizeof *out);
    ledger_proof_t p;
    ledger_header_t h;
    int rc = ledger_proof_decode(proof, len, &p);
    if (rc != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_PROOF, "proof does not decode (%s)",
                              proto_err_str(rc));
    if ((rc = s_header_decode(p.header, p.header_len, &h)) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_PROOF, "header does not decode (%s)",
                              proto_err_str(rc));
    if (memcmp(h.chain_id, self->chain_id, LEDGER_ID_LEN) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_PROOF, "block is of another chain");
    if ((rc = s_cert_check(self, &h, p.cert, p.cert_len, err, err_cap)) != LEDGER_OK)
        return rc;
    uint8_t txid[LEDGER_ID_LEN];
    ledger_tx_id(p.tx, p.tx_len, txid);
    if (!ledger_merkle_verify(txid, p.index, p.n_txs, (const uint8_t(*)[32])p.path, p.depth,
                              h.tx_root))
        return proto_err_fail(err, err_cap, LEDGER_E_PROOF,
                              "the tx's Merkle path does not give the block's tx_root");
    memcpy(out->txid, txid, LEDGER_ID_LEN);
    out->height = h.height;
    out->time_ms = h.time_ms;
    out->tx = p.tx;
    out->tx_len = p.tx_len;
    return LEDGER_OK;
}

/* ---- authority changes ---- */

static int s_cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, LEDGER_ID_LEN);
}

static bool s_in(const ledger_valset_t *vs, const uint8_t *k)
{
    return ledger_valset_find(vs, k) >= 0;
}

/* Type of the encoded tx TX without decoding its body (so txs of types this code does
   not know do not stop the tally). */
static int s_tx_type(const uint8_t *tx, size_t len, uint64_t *type)
{
    proto_rd_t r;
    uint32_t n = 0;
    uint8_t id[LEDGER_ID_LEN];
    uint64_t nonce;
    proto_rd_init(&r, tx, len);
    int rc = proto_rd_array_max(&r, 6, &n);
    if (rc == PROTO_OK && n != 6)
        rc = PROTO_E_ARITY;
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(&r, LEDGER_ID_LEN, id);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(&r, LEDGER_ID_LEN, id);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, UINT64_MAX, &nonce);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, UINT32_MAX, type);
    return rc;
}

/* The open list for (ACTION, SUBJECT) in S, created if needed; NULL when S is full. */
static s_list_t *s_list(ledger_light_t *s, uint32_t action, const uint8_t *subject, size_t *at)
{
    for (size_t i = 0; i < s->n_lists; i++) {
        if (s->lists[i].action == action &&
            memcmp(s->lists[i].subject, subject, LEDGER_ID_LEN) == 0) {
            *at = i;
            return &s->lists[i];
        }
    }
    if (s->n_lists == LEDGER_LIGHT_LISTS_MAX)
        return NULL;
    s_list_t *l = &s->lists[s->n_lists];
    memset(l, 0, sizeof *l);
    l->action = action;
    memcpy(l->subject, subject, LEDGER_ID_LEN);
    *at = s->n_lists++;
    return l;
}

/* Keeps only L's voters that are in VS (the contract prunes when it reads a list). */
static void s_list_prune(s_list_t *l, const ledger_valset_t *vs)
{
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++)
        if (s_in(vs, l->voters[i]))
            memmove(l->voters[k++], l->voters[i], LEDGER_ID_LEN);
    l->n = k;
}

/* An AUTH_VOTE tx of a certified block. */
typedef struct {
    uint8_t from[LEDGER_ID_LEN];
    uint32_t action;
    uint8_t subject[LEDGER_ID_LEN];
} s_vote_t;

/* Reads the AUTH_VOTE TX (LEN bytes) of chain CHAIN_ID into *V: [chain_id bin32, from bin32,
   nonce uint, type uint, [action uint32, subject bin32], sig bin64] (ledger_tx.h), with the
   contract's stateless checks (action add or remove; an added key a valid point). Read here
   rather than with ledger_tx_parse, whose contract table reaches the ledger's state and
   LevelDB: the light client runs inside enclaves, which link this file and not those.
   The signature is not checked: the block's certificate vouches for its txs. */
static int s_vote_read(const uint8_t *tx, size_t len, const uint8_t chain_id[static LEDGER_ID_LEN],
                       s_vote_t *v, char *err, size_t err_cap)
{
    proto_rd_t r;
    uint8_t chain[LEDGER_ID_LEN], sig[PROTO_SIG_LEN], curve[32];
    uint64_t nonce = 0, type = 0, action = 0;
    if (len > LEDGER_TX_MAX_BYTES)
        return proto_err_fail(err, err_cap, LEDGER_E_TOO_BIG, "malformed");
    proto_rd_init(&r, tx, len);
    if (proto_rd_array_exact(&r, LEDGER_TX_FIELDS) ||
        proto_rd_bin_exact(&r, LEDGER_ID_LEN, chain) ||
        proto_rd_bin_exact(&r, LEDGER_ID_LEN, v->from) || proto_rd_uint(&r, UINT64_MAX, &nonce) ||
        proto_rd_uint(&r, UINT32_MAX, &type) || proto_rd_array_exact(&r, 2) ||
        proto_rd_uint(&r, UINT32_MAX, &action) ||
        proto_rd_bin_exact(&r, LEDGER_ID_LEN, v->subject) ||
        proto_rd_bin_exact(&r, PROTO_SIG_LEN, sig) || proto_rd_finish(&r) ||
        type != LEDGER_TX_AUTH_VOTE)
        return proto_err_fail(err, err_cap, LEDGER_E_MALFORMED, "malformed");
    v->action = (uint32_t)action;
    if (memcmp(chain, chain_id, LEDGER_ID_LEN) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_WRONG_CHAIN, "vote of another chain");
    if (v->action != LEDGER_AUTH_ADD && v->action != LEDGER_AUTH_REMOVE)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "authority vote action must be add (1) or remove (2)");
    if (v->action == LEDGER_AUTH_ADD && proto_key_curve_public(v->subject, curve) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "added authority is not a valid Ed25519 public key");
    return LEDGER_OK;
}

/* Casts the vote V (an AUTH_VOTE of a certified block) in S against START. WRITTEN
   (*N_WRITTEN entries) lists the lists this block wrote, in first-written order. */
static int s_vote(ledger_light_t *s, const ledger_valset_t *start, const s_vote_t *v,
                  size_t *written, size_t *n_written, char *err, size_t err_cap)
{
    char why[LEDGER_ERR_MAX] = "";
    int rc = ledger_authority_vote_rule((const uint8_t(*)[LEDGER_ID_LEN])start->keys, start->n,
                                        v->from, v->action, v->subject, why, sizeof why);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_PROOF,
                              "certified block holds a vote the rule refuses: %s", why);
    size_t at = 0;
    s_list_t *l = s_list(s, v->action, v->subject, &at);
    if (!l)
        return proto_err_fail(err, err_cap, LEDGER_E_FULL, "more than %d open authority votes",
                              LEDGER_LIGHT_LISTS_MAX);
    s_list_prune(l, start);
    size_t pos = 0;
    while (pos < l->n && memcmp(l->voters[pos], v->from, LEDGER_ID_LEN) < 0)
        pos++;
    if (pos < l->n && memcmp(l->voters[pos], v->from, LEDGER_ID_LEN) == 0)
        return proto_err_fail(err, err_cap, LEDGER_E_PROOF,
                              "certified block holds a second vote of one authority");
    /* l->n < start->n <= LEDGER_AUTHORITIES_MAX: v->from is a member not yet in it */
    memmove(l->voters[pos + 1], l->voters[pos], (l->n - pos) * LEDGER_ID_LEN);
    memcpy(l->voters[pos], v->from, LEDGER_ID_LEN);
    l->n++;
    for (size_t i = 0; i < *n_written; i++)
        if (written[i] == at)
            return LEDGER_OK;
    written[(*n_written)++] = at;
    return LEDGER_OK;
}

/* End of block HEIGHT in S: decides the lists WRITTEN (in order) against START. */
static void s_end_block(ledger_light_t *s, const ledger_valset_t *start, const size_t *written,
                        size_t n_written, uint64_t height)
{
    ledger_valset_t cur = *start;
    bool changed = false, drop[LEDGER_LIGHT_LISTS_MAX] = {false};
    for (size_t i = 0; i < n_written; i++) {
        s_list_t *l = &s->lists[written[i]];
        ledger_authority_outcome_t o =
            ledger_authority_tally(start->n, l->n, l->action, l->subject, cur.keys, &cur.n);
        if (o == LEDGER_AUTHORITY_OPEN)
            continue;
        drop[written[i]] = true;
        changed |= o == LEDGER_AUTHORITY_APPLIED;
    }
    size_t k = 0;
    for (size_t i = 0; i < s->n_lists; i++)
        if (!drop[i])
            memmove(&s->lists[k++], &s->lists[i], sizeof s->lists[i]);
    s->n_lists = k;
    if (!changed)
        return;
    qsort(cur.keys, cur.n, LEDGER_ID_LEN, s_cmp_id);
    if (s->n_eras == LEDGER_LIGHT_SETS_MAX) {
        memmove(&s->eras[0], &s->eras[1], (LEDGER_LIGHT_SETS_MAX - 1) * sizeof s->eras[0]);
        s->n_eras--;
    }
    s->eras[s->n_eras].from = height + 1;
    s->eras[s->n_eras].set = cur;
    s->n_eras++;
}

/* Checks that block B's txs give its header's tx_root. */
static int s_txs_match(const ledger_block_t *b, char *err, size_t err_cap)
{
    size_t n = ledger_block_tx_count(b);
    uint8_t(*ids)[LEDGER_ID_LEN] = n ? malloc(n * sizeof *ids) : NULL;
    if (n && !ids)
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t tlen;
        const uint8_t *tx = ledger_block_tx(b, i, &tlen);
        ledger_tx_id(tx, tlen, ids[i]);
    }
    uint8_t root[LEDGER_ID_LEN];
    ledger_merkle_root((const uint8_t(*)[32])ids, n, root);
    free(ids);
    if (memcmp(root, ledger_block_header(b)->tx_root, LEDGER_ID_LEN) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_PROOF,
                              "the block's txs do not give its tx_root");
    return LEDGER_OK;
}

/* Tallies block B's votes into NEXT (a copy of the client). */
static int s_tally(ledger_light_t *next, const ledger_block_t *b, char *err, size_t err_cap)
{
    const ledger_header_t *h = ledger_block_header(b);
    const ledger_valset_t start = next->eras[next->n_eras - 1].set;
    size_t written[LEDGER_LIGHT_LISTS_MAX], n_written = 0;
    for (size_t i = 0; i < ledger_block_tx_count(b); i++) {
        size_t tlen;
        const uint8_t *bytes = ledger_block_tx(b, i, &tlen);
        uint64_t type = 0;
        s_vote_t vote;
        char why[LEDGER_ERR_MAX] = "";
        if (s_tx_type(bytes, tlen, &type) != PROTO_OK)
            return proto_err_fail(err, err_cap, LEDGER_E_PROOF, "tx %zu does not decode", i);
        if (type != LEDGER_TX_AUTH_VOTE)
            continue;
        int rc = s_vote_read(bytes, tlen, next->chain_id, &vote, why, sizeof why);
        if (rc != LEDGER_OK)
            return proto_err_fail(err, err_cap, LEDGER_E_PROOF, "vote %zu is invalid: %s", i, why);
        if ((rc = s_vote(next, &start, &vote, written, &n_written, err, err_cap)) != LEDGER_OK)
            return rc;
    }
    s_end_block(next, &start, written, n_written, h->height);
    next->fed = h->height;
    return LEDGER_OK;
}

int ledger_light_advance(ledger_light_t *self, const uint8_t *block, size_t len,
                         const uint8_t *cert, size_t cert_len, char *err, size_t err_cap)
{
    ledger_block_t *b = NULL;
    ledger_light_t *next = NULL;
    int rc = ledger_block_decode(block, len, &b);
    if (rc != PROTO_OK) {
        rc = rc == PROTO_E_NOMEM ? proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory")
                                 : proto_err_fail(err, err_cap, LEDGER_E_PROOF,
                                                  "block does not decode (%s)", proto_err_str(rc));
        goto out;
    }
    const ledger_header_t *h = ledger_block_header(b);
    if (memcmp(h->chain_id, self->chain_id, LEDGER_ID_LEN) != 0) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_PROOF, "block is of another chain");
        goto out;
    }
    if (h->height == 0 || h->height <= self->fed) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_PROOF,
                            "block %llu is not above the last block fed (%llu)",
                            (unsigned long long)h->height, (unsigned long long)self->fed);
        goto out;
    }
    if ((rc = s_cert_check(self, h, cert, cert_len, err, err_cap)) != LEDGER_OK ||
        (rc = s_txs_match(b, err, err_cap)) != LEDGER_OK)
        goto out;
    if (!(next = malloc(sizeof *next))) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
        goto out;
    }
    memcpy(next, self, sizeof *next);
    if ((rc = s_tally(next, b, err, err_cap)) == LEDGER_OK)
        memcpy(self, next, sizeof *self);
out:
    free(next);
    ledger_block_destroy(&b);
    return rc;
}

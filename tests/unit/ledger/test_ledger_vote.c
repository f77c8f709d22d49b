/*  test_ledger_vote: the consensus messages and the commit certificate (ledger/ledger_vote.h).
 *
 *  Reads as a usage example: build a validator set, sign a vote and a proposal, encode and
 *  decode them, gather precommits into a certificate and verify it. Then the edges: strict
 *  decoding (every truncation, trailing bytes, wrong types, out-of-range fields, non-canonical
 *  forms), forged and tampered signatures, and certificates that must be refused (duplicate
 *  validators, too few signatures, a bad signature, another chain, another hash or round).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_vote.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "testutil.h"

#define NKEYS 7

typedef struct {
    proto_key_t *k[NKEYS];
} keys_t;

static const uint8_t s_chain[32] = {0xc4, 0x1a, 0x17, 1, 2, 3};
static const uint8_t s_other_chain[32] = {0xc4, 0x1a, 0x17, 1, 2, 4};

static void s_make_keys(keys_t *K)
{
    for (int i = 0; i < NKEYS; i++) {
        uint8_t seed[32] = {0};
        seed[0] = (uint8_t)(i + 1);
        K->k[i] = proto_key_from_seed(seed);
        if (!K->k[i])
            abort();
    }
}

static ledger_valset_t s_valset(const keys_t *K, size_t n)
{
    ledger_valset_t vs = {0};
    for (size_t i = 0; i < n; i++)
        if (ledger_valset_add(&vs, proto_key_public(K->k[i])) != 0)
            abort();
    return vs;
}

static ledger_vote_t s_vote(const keys_t *K, int key, uint8_t type, uint64_t h, uint32_t r,
                            const uint8_t *hash)
{
    ledger_vote_t v = {.type = type, .height = h, .round = r, .has_hash = hash != NULL};
    memcpy(v.chain_id, s_chain, 32);
    if (hash)
        memcpy(v.hash, hash, 32);
    ledger_vote_sign(&v, K->k[key]);
    return v;
}

/* ---- validator set ---- */

static void test_valset(const keys_t *K)
{
    ledger_valset_t vs = {0};
    CHECK_EQ(ledger_valset_add(&vs, proto_key_public(K->k[0])), 0);
    CHECK_EQ(ledger_valset_add(&vs, proto_key_public(K->k[0])), LEDGER_E_DUPLICATE); /* duplicate */
    CHECK_EQ(ledger_valset_add(&vs, proto_key_public(K->k[1])), 0);
    CHECK_EQ(ledger_valset_find(&vs, proto_key_public(K->k[1])), 1);
    CHECK_EQ(ledger_valset_find(&vs, proto_key_public(K->k[2])), -1);

    /* quorum: more than two thirds */
    size_t expect[] = {0, 1, 2, 3, 3, 4, 5, 5, 6, 7, 7};
    for (size_t n = 1; n <= 10; n++) {
        ledger_valset_t t = {.n = n};
        CHECK_EQ(ledger_valset_quorum(&t), expect[n]);
        CHECK(3 * ledger_valset_quorum(&t) > 2 * n);
    }
    ledger_valset_t big = {0};
    for (int i = 0; i < LEDGER_VALSET_MAX; i++) {
        uint8_t k[32] = {0};
        k[0] = (uint8_t)i;
        k[1] = 0x55;
        CHECK_EQ(ledger_valset_add(&big, k), 0);
    }
    uint8_t one_more[32] = {0xff};
    CHECK_EQ(ledger_valset_add(&big, one_more), LEDGER_E_TOO_BIG); /* full */
    CHECK_EQ(ledger_valset_quorum(&big), 43u);

    /* round-robin proposer: (height + round) mod n */
    ledger_valset_t four = s_valset(K, 4);
    CHECK_EQ(ledger_valset_proposer(&four, 1, 0), 1u);
    CHECK_EQ(ledger_valset_proposer(&four, 1, 3), 0u);
    CHECK_EQ(ledger_valset_proposer(&four, 6, 1), 3u);
    CHECK_EQ(ledger_valset_proposer(&four, UINT64_MAX, UINT32_MAX),
             (size_t)((UINT64_MAX % 4 + UINT32_MAX % 4) % 4));
}

/* ---- votes ---- */

static void test_vote_roundtrip(const keys_t *K)
{
    uint8_t hash[32];
    memset(hash, 0xab, sizeof hash);
    for (int nil = 0; nil < 2; nil++) {
        ledger_vote_t v = s_vote(K, 2, nil ? LEDGER_VOTE_PREVOTE : LEDGER_VOTE_PRECOMMIT, 42, 3,
                                 nil ? NULL : hash);
        CHECK(ledger_vote_verify(&v));
        CHECK(memcmp(v.validator, proto_key_public(K->k[2]), 32) == 0);
        uint8_t *buf = NULL;
        size_t len = 0;
        CHECK_EQ(ledger_vote_encode(&v, &buf, &len), PROTO_OK);
        CHECK(len <= LEDGER_VOTE_MAX);
        ledger_vote_t d;
        CHECK_EQ(ledger_vote_decode(buf, len, &d), PROTO_OK);
        CHECK(memcmp(&d, &v, sizeof d) == 0);
        CHECK(ledger_vote_verify(&d));
        uint8_t *again = NULL;
        size_t again_len = 0;
        CHECK_EQ(ledger_vote_encode(&d, &again, &again_len), PROTO_OK);
        CHECK(again_len == len && memcmp(again, buf, len) == 0);
        /* signing twice gives the same bytes (Ed25519 is deterministic) */
        ledger_vote_t w = s_vote(K, 2, v.type, 42, 3, nil ? NULL : hash);
        CHECK(memcmp(w.sig, v.sig, 64) == 0);
        free(again);
        free(buf);
    }
    /* the largest vote fits LEDGER_VOTE_MAX */
    ledger_vote_t big =
        s_vote(K, 0, LEDGER_VOTE_PRECOMMIT, LEDGER_HEIGHT_MAX, LEDGER_ROUND_MAX, hash);
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_EQ(ledger_vote_encode(&big, &buf, &len), PROTO_OK);
    CHECK(len <= 184 && len <= LEDGER_VOTE_MAX);
    ledger_vote_t d;
    CHECK_EQ(ledger_vote_decode(buf, len, &d), PROTO_OK);
    CHECK_EQ(d.height, LEDGER_HEIGHT_MAX);
    free(buf);
}

/* Writes a vote's seven fields with the given values (to craft bad ones). */
static uint8_t *s_craft_vote(uint64_t type, uint64_t height, uint64_t round, size_t hash_len,
                             size_t sig_len, size_t *len)
{
    uint8_t zero[80] = {0};
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 7);
    proto_wr_bin(&w, s_chain, 32);
    proto_wr_uint(&w, type);
    proto_wr_uint(&w, height);
    proto_wr_uint(&w, round);
    proto_wr_bin(&w, zero, hash_len);
    proto_wr_bin(&w, zero, 32);
    proto_wr_bin(&w, zero, sig_len);
    uint8_t *out = proto_wr_take(&w, len);
    proto_wr_free(&w);
    return out;
}

static void test_vote_strict(const keys_t *K)
{
    uint8_t hash[32] = {1};
    ledger_vote_t v = s_vote(K, 1, LEDGER_VOTE_PREVOTE, 7, 0, hash);
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_EQ(ledger_vote_encode(&v, &buf, &len), PROTO_OK);
    ledger_vote_t d;

    /* every truncation is refused, and leaves a zeroed struct */
    int refused = 0;
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, buf, cut);
        if (ledger_vote_decode(copy, cut, &d) != PROTO_OK) {
            ledger_vote_t zero;
            memset(&zero, 0, sizeof zero);
            refused += memcmp(&d, &zero, sizeof d) == 0;
        }
        free(copy);
    }
    CHECK_EQ(refused, (int)len);

    /* a trailing byte */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0xc0;
    CHECK_EQ(ledger_vote_decode(longer, len + 1, &d), PROTO_E_TRAILING);
    free(longer);

    /* too big before anything is read */
    uint8_t huge[LEDGER_VOTE_MAX + 1];
    memset(huge, 0x90, sizeof huge);
    CHECK_EQ(ledger_vote_decode(huge, sizeof huge, &d), PROTO_E_TOO_BIG);

    /* field ranges */
    size_t n;
    uint8_t *b;
    b = s_craft_vote(0, 1, 0, 32, 64, &n);
    CHECK_EQ(ledger_vote_decode(b, n, &d), PROTO_E_RANGE); /* type 0 */
    free(b);
    b = s_craft_vote(3, 1, 0, 32, 64, &n);
    CHECK_EQ(ledger_vote_decode(b, n, &d), PROTO_E_RANGE); /* type 3 */
    free(b);
    b = s_craft_vote(1, LEDGER_HEIGHT_MAX + 1, 0, 32, 64, &n);
    CHECK_EQ(ledger_vote_decode(b, n, &d), PROTO_E_RANGE);
    free(b);
    b = s_craft_vote(1, 1, (uint64_t)LEDGER_ROUND_MAX + 1, 32, 64, &n);
    CHECK_EQ(ledger_vote_decode(b, n, &d), PROTO_E_RANGE);
    free(b);
    b = s_craft_vote(2, 1, 0, 31, 64, &n);
    CHECK(ledger_vote_decode(b, n, &d) != PROTO_OK); /* short hash */
    free(b);
    b = s_craft_vote(2, 1, 0, 32, 63, &n);
    CHECK(ledger_vote_decode(b, n, &d) != PROTO_OK); /* short signature */
    free(b);
    b = s_craft_vote(2, 1, 0, 32, 64, &n);
    CHECK_EQ(ledger_vote_decode(b, n, &d), PROTO_OK); /* the crafting itself is right */
    CHECK(!ledger_vote_verify(&d));                   /* (an all-zero signature) */
    free(b);

    /* a non-canonical height: uint16 form of 7 */
    uint8_t *nc = malloc(len + 2);
    size_t at = 1 + 34 + 1; /* array header, chain id, type */
    CHECK_EQ(buf[at], 7);
    memcpy(nc, buf, at);
    nc[at] = 0xcd;
    nc[at + 1] = 0;
    nc[at + 2] = 7;
    memcpy(nc + at + 3, buf + at + 1, len - at - 1);
    CHECK_EQ(ledger_vote_decode(nc, len + 2, &d), PROTO_E_NONCANONICAL);
    free(nc);

    /* a map instead of an array */
    uint8_t map[] = {0x80};
    CHECK_EQ(ledger_vote_decode(map, sizeof map, &d), PROTO_E_TYPE);
    free(buf);
}

static void test_vote_forgery(const keys_t *K)
{
    uint8_t hash[32] = {9, 9, 9};
    ledger_vote_t v = s_vote(K, 3, LEDGER_VOTE_PRECOMMIT, 100, 2, hash);
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_EQ(ledger_vote_encode(&v, &buf, &len), PROTO_OK);

    /* flipping any bit of any byte: refused by the decoder or by the signature */
    int caught = 0, total = 0;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            buf[i] ^= (uint8_t)(1u << bit);
            ledger_vote_t d;
            int rc = ledger_vote_decode(buf, len, &d);
            caught += rc != PROTO_OK || !ledger_vote_verify(&d);
            total++;
            buf[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK_EQ(caught, total);

    /* signed by one key, claiming another */
    ledger_vote_t forged = s_vote(K, 4, LEDGER_VOTE_PRECOMMIT, 100, 2, hash);
    memcpy(forged.validator, proto_key_public(K->k[3]), 32);
    CHECK(!ledger_vote_verify(&forged));

    /* another chain, type, height, round or value breaks the signature */
    ledger_vote_t t = v;
    t.chain_id[31] ^= 1;
    CHECK(!ledger_vote_verify(&t));
    t = v;
    t.type = LEDGER_VOTE_PREVOTE;
    CHECK(!ledger_vote_verify(&t));
    t = v;
    t.height++;
    CHECK(!ledger_vote_verify(&t));
    t = v;
    t.round++;
    CHECK(!ledger_vote_verify(&t));
    t = v;
    t.has_hash = false;
    memset(t.hash, 0, 32);
    CHECK(!ledger_vote_verify(&t));
    free(buf);
}

/* ---- proposals ---- */

static ledger_proposal_t s_proposal(const keys_t *K, int key, uint64_t h, uint32_t r, int32_t pol,
                                    const uint8_t *block, size_t len)
{
    ledger_proposal_t p = {.height = h,
                           .round = r,
                           .pol_round = pol,
                           .timestamp_ms = 1700000000123ull,
                           .block = block,
                           .block_len = len};
    memcpy(p.chain_id, s_chain, 32);
    ledger_vote_value_hash(block, len, p.block_hash);
    ledger_proposal_sign(&p, K->k[key]);
    return p;
}

static void test_proposal(const keys_t *K)
{
    const uint8_t block[] = "5:1:deadbeef";
    for (int with_pol = 0; with_pol < 2; with_pol++) {
        ledger_proposal_t p = s_proposal(K, 1, 5, 3, with_pol ? 1 : -1, block, sizeof block);
        CHECK(ledger_proposal_verify(&p));
        uint8_t *buf = NULL;
        size_t len = 0;
        CHECK_EQ(ledger_proposal_encode(&p, &buf, &len), PROTO_OK);
        ledger_proposal_t d;
        CHECK_EQ(ledger_proposal_decode(buf, len, &d), PROTO_OK);
        CHECK_EQ(d.height, 5u);
        CHECK_EQ(d.round, 3u);
        CHECK_EQ(d.pol_round, with_pol ? 1 : -1);
        CHECK_EQ(d.timestamp_ms, p.timestamp_ms);
        CHECK(d.block_len == sizeof block && memcmp(d.block, block, sizeof block) == 0);
        CHECK(d.block >= buf && d.block + d.block_len <= buf + len); /* a view */
        CHECK(ledger_proposal_verify(&d));
        uint8_t *again = NULL;
        size_t again_len = 0;
        CHECK_EQ(ledger_proposal_encode(&d, &again, &again_len), PROTO_OK);
        CHECK(again_len == len && memcmp(again, buf, len) == 0);
        free(again);

        /* every truncation refused; any bit flip in the signed part or the signature is
           refused by the decoder or the signature */
        int refused = 0;
        for (size_t cut = 0; cut < len; cut++)
            refused += ledger_proposal_decode(buf, cut, &d) != PROTO_OK;
        CHECK_EQ(refused, (int)len);
        size_t block_at = len - sizeof block;
        int caught = 0;
        for (size_t i = 0; i < block_at; i++) {
            buf[i] ^= 0x10;
            int rc = ledger_proposal_decode(buf, len, &d);
            caught += rc != PROTO_OK || !ledger_proposal_verify(&d);
            buf[i] ^= 0x10;
        }
        CHECK_EQ(caught, (int)block_at);
        /* the block bytes are bound by block_hash (the receiver's check), not the
           signature */
        buf[len - 1] ^= 1;
        CHECK_EQ(ledger_proposal_decode(buf, len, &d), PROTO_OK);
        uint8_t h[32];
        ledger_vote_value_hash(d.block, d.block_len, h);
        CHECK(memcmp(h, d.block_hash, 32) != 0);
        free(buf);
    }

    /* pol_round must be below round */
    ledger_proposal_t p = s_proposal(K, 1, 5, 2, 2, block, sizeof block);
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_EQ(ledger_proposal_encode(&p, &buf, &len), PROTO_OK);
    ledger_proposal_t d;
    CHECK_EQ(ledger_proposal_decode(buf, len, &d), PROTO_E_INVALID);
    free(buf);

    /* forged proposer */
    p = s_proposal(K, 1, 5, 2, -1, block, sizeof block);
    memcpy(p.proposer, proto_key_public(K->k[0]), 32);
    CHECK(!ledger_proposal_verify(&p));

    /* the block limit, both ways */
    size_t max = LEDGER_PROPOSAL_BLOCK_MAX;
    uint8_t *blk = calloc(1, max + 1);
    p = s_proposal(K, 0, 1, 0, -1, blk, max);
    CHECK_EQ(ledger_proposal_encode(&p, &buf, &len), PROTO_OK);
    CHECK(len <= LEDGER_PROPOSAL_MAX);
    CHECK_EQ(ledger_proposal_decode(buf, len, &d), PROTO_OK);
    CHECK(ledger_proposal_verify(&d));
    free(buf);
    p.block_len = max + 1;
    CHECK_EQ(ledger_proposal_encode(&p, &buf, &len), PROTO_E_TOO_BIG);
    CHECK(buf == NULL);
    /* a hand-written proposal with a block one byte too long */
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 9);
    proto_wr_bin(&w, s_chain, 32);
    proto_wr_uint(&w, 1);
    proto_wr_uint(&w, 0);
    proto_wr_nil(&w);
    proto_wr_uint(&w, 0);
    proto_wr_bin(&w, blk, 32);
    proto_wr_bin(&w, blk, 32);
    proto_wr_bin(&w, blk, 64);
    proto_wr_bin(&w, blk, max + 1);
    buf = proto_wr_take(&w, &len);
    proto_wr_free(&w);
    CHECK_EQ(ledger_proposal_decode(buf, len, &d), PROTO_E_TOO_LONG);
    CHECK_EQ(ledger_proposal_decode(buf, LEDGER_PROPOSAL_MAX + 1, &d), PROTO_E_TOO_BIG);
    free(buf);
    free(blk);
}

/* ---- certificates ---- */

/* A certificate of precommits for HASH at (H, R) by keys IDX[0..n). */
static ledger_cert_t s_cert(const keys_t *K, uint64_t h, uint32_t r, const uint8_t *hash,
                            const int *idx, size_t n)
{
    ledger_cert_t c = {.height = h, .round = r, .n_sigs = n};
    memcpy(c.block_hash, hash, 32);
    for (size_t i = 0; i < n; i++) {
        ledger_vote_t v = s_vote(K, idx[i], LEDGER_VOTE_PRECOMMIT, h, r, hash);
        c.sigs[i].index = (uint8_t)idx[i];
        memcpy(c.sigs[i].sig, v.sig, 64);
    }
    return c;
}

static void test_cert(const keys_t *K)
{
    ledger_valset_t vs = s_valset(K, 4);
    uint8_t hash[32], other[32];
    memset(hash, 0x11, 32);
    memset(other, 0x22, 32);
    const int q3[] = {0, 2, 3};
    ledger_cert_t c = s_cert(K, 9, 1, hash, q3, 3);
    CHECK_EQ(ledger_cert_verify(&c, &vs, s_chain, hash), PROTO_OK);

    /* round trip, canonical */
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_EQ(ledger_cert_encode(&c, &buf, &len), PROTO_OK);
    ledger_cert_t d;
    CHECK_EQ(ledger_cert_decode(buf, len, &d), PROTO_OK);
    CHECK_EQ(d.n_sigs, 3u);
    CHECK_EQ(d.height, 9u);
    CHECK_EQ(d.round, 1u);
    CHECK_EQ(ledger_cert_verify(&d, &vs, s_chain, hash), PROTO_OK);
    uint8_t *again = NULL;
    size_t again_len = 0;
    CHECK_EQ(ledger_cert_encode(&d, &again, &again_len), PROTO_OK);
    CHECK(again_len == len && memcmp(again, buf, len) == 0);
    free(again);
    int refused = 0;
    for (size_t cut = 0; cut < len; cut++)
        refused += ledger_cert_decode(buf, cut, &d) != PROTO_OK;
    CHECK_EQ(refused, (int)len);
    free(buf);

    /* all four is fine too */
    const int all[] = {0, 1, 2, 3};
    ledger_cert_t c4 = s_cert(K, 9, 1, hash, all, 4);
    CHECK_EQ(ledger_cert_verify(&c4, &vs, s_chain, hash), PROTO_OK);

    /* too few */
    const int two[] = {1, 3};
    ledger_cert_t c2 = s_cert(K, 9, 1, hash, two, 2);
    CHECK_EQ(ledger_cert_verify(&c2, &vs, s_chain, hash), PROTO_E_INVALID);

    /* the same validator twice makes no quorum */
    const int dup[] = {0, 2, 2};
    ledger_cert_t cd = s_cert(K, 9, 1, hash, dup, 3);
    CHECK_EQ(ledger_cert_verify(&cd, &vs, s_chain, hash), PROTO_E_INVALID);
    /* ... and is not even decodable (indexes strictly increase) */
    CHECK_EQ(ledger_cert_encode(&cd, &buf, &len), PROTO_OK);
    CHECK_EQ(ledger_cert_decode(buf, len, &d), PROTO_E_INVALID);
    free(buf);
    const int unsorted[] = {2, 0, 3};
    ledger_cert_t cu = s_cert(K, 9, 1, hash, unsorted, 3);
    CHECK_EQ(ledger_cert_verify(&cu, &vs, s_chain, hash), PROTO_OK); /* the struct is fine */
    CHECK_EQ(ledger_cert_encode(&cu, &buf, &len), PROTO_OK);
    CHECK_EQ(ledger_cert_decode(buf, len, &d), PROTO_E_INVALID); /* the bytes are not */
    free(buf);

    /* an index outside the set */
    ledger_cert_t ci = c;
    ci.sigs[2].index = 4;
    CHECK_EQ(ledger_cert_verify(&ci, &vs, s_chain, hash), PROTO_E_INVALID);

    /* a bad signature */
    ledger_cert_t cb = c;
    cb.sigs[1].sig[10] ^= 1;
    CHECK_EQ(ledger_cert_verify(&cb, &vs, s_chain, hash), PROTO_E_BAD_SIG);
    /* a signature moved to another validator's index */
    ledger_cert_t cm = c;
    cm.sigs[0].index = 1;
    CHECK_EQ(ledger_cert_verify(&cm, &vs, s_chain, hash), PROTO_E_BAD_SIG);

    /* another chain */
    CHECK_EQ(ledger_cert_verify(&c, &vs, s_other_chain, hash), PROTO_E_BAD_SIG);
    /* another hash: asked about, or claimed by the certificate */
    CHECK_EQ(ledger_cert_verify(&c, &vs, s_chain, other), PROTO_E_INVALID);
    ledger_cert_t ch = c;
    memcpy(ch.block_hash, other, 32);
    CHECK_EQ(ledger_cert_verify(&ch, &vs, s_chain, other), PROTO_E_BAD_SIG);
    /* another round or height */
    ledger_cert_t cr = c;
    cr.round = 2;
    CHECK_EQ(ledger_cert_verify(&cr, &vs, s_chain, hash), PROTO_E_BAD_SIG);
    cr = c;
    cr.height = 10;
    CHECK_EQ(ledger_cert_verify(&cr, &vs, s_chain, hash), PROTO_E_BAD_SIG);
    /* prevotes are not precommits */
    ledger_cert_t cp = c;
    for (size_t i = 0; i < 3; i++) {
        ledger_vote_t v = s_vote(K, q3[i], LEDGER_VOTE_PREVOTE, 9, 1, hash);
        memcpy(cp.sigs[i].sig, v.sig, 64);
    }
    CHECK_EQ(ledger_cert_verify(&cp, &vs, s_chain, hash), PROTO_E_BAD_SIG);
    /* another validator set (the same size, other keys) */
    ledger_valset_t vs2 = {0};
    for (int i = 3; i < 7; i++)
        CHECK_EQ(ledger_valset_add(&vs2, proto_key_public(K->k[i])), 0);
    CHECK(ledger_cert_verify(&c, &vs2, s_chain, hash) != PROTO_OK);
    /* an empty set never verifies */
    ledger_valset_t none = {0};
    CHECK_EQ(ledger_cert_verify(&c, &none, s_chain, hash), PROTO_E_INVALID);

    /* one validator is a quorum of one */
    ledger_valset_t solo = s_valset(K, 1);
    const int zero[] = {0};
    ledger_cert_t c1 = s_cert(K, 1, 0, hash, zero, 1);
    CHECK_EQ(ledger_cert_verify(&c1, &solo, s_chain, hash), PROTO_OK);

    /* 7 validators need 5 */
    ledger_valset_t seven = s_valset(K, 7);
    const int four7[] = {0, 1, 4, 6};
    const int five7[] = {0, 1, 4, 5, 6};
    ledger_cert_t c74 = s_cert(K, 3, 0, hash, four7, 4);
    ledger_cert_t c75 = s_cert(K, 3, 0, hash, five7, 5);
    CHECK_EQ(ledger_cert_verify(&c74, &seven, s_chain, hash), PROTO_E_INVALID);
    CHECK_EQ(ledger_cert_verify(&c75, &seven, s_chain, hash), PROTO_OK);

    /* decode limits: no entries, 65 entries, an index of 64 */
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    proto_wr_uint(&w, 1);
    proto_wr_uint(&w, 0);
    proto_wr_bin(&w, hash, 32);
    proto_wr_array(&w, 0);
    buf = proto_wr_take(&w, &len);
    proto_wr_free(&w);
    CHECK_EQ(ledger_cert_decode(buf, len, &d), PROTO_E_INVALID);
    free(buf);
    uint8_t sig[64] = {0};
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    proto_wr_uint(&w, 1);
    proto_wr_uint(&w, 0);
    proto_wr_bin(&w, hash, 32);
    proto_wr_array(&w, 65);
    for (int i = 0; i < 65; i++) {
        proto_wr_array(&w, 2);
        proto_wr_uint(&w, (uint64_t)i);
        proto_wr_bin(&w, sig, 64);
    }
    buf = proto_wr_take(&w, &len);
    proto_wr_free(&w);
    CHECK(ledger_cert_decode(buf, len, &d) != PROTO_OK);
    free(buf);
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    proto_wr_uint(&w, 1);
    proto_wr_uint(&w, 0);
    proto_wr_bin(&w, hash, 32);
    proto_wr_array(&w, 1);
    proto_wr_array(&w, 2);
    proto_wr_uint(&w, 64);
    proto_wr_bin(&w, sig, 64);
    buf = proto_wr_take(&w, &len);
    proto_wr_free(&w);
    CHECK_EQ(ledger_cert_decode(buf, len, &d), PROTO_E_RANGE);
    free(buf);

    /* the largest certificate fits LEDGER_CERT_MAX */
    ledger_cert_t full = {
        .height = LEDGER_HEIGHT_MAX, .round = LEDGER_ROUND_MAX, .n_sigs = LEDGER_VALSET_MAX};
    for (int i = 0; i < LEDGER_VALSET_MAX; i++)
        full.sigs[i].index = (uint8_t)i;
    CHECK_EQ(ledger_cert_encode(&full, &buf, &len), PROTO_OK);
    CHECK(len <= 4404 && len <= LEDGER_CERT_MAX);
    CHECK_EQ(ledger_cert_decode(buf, len, &d), PROTO_OK);
    free(buf);
    full.n_sigs = LEDGER_VALSET_MAX + 1;
    CHECK_EQ(ledger_cert_encode(&full, &buf, &len), PROTO_E_TOO_LONG);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    keys_t keys;
    s_make_keys(&keys);
    test_valset(&keys);
    test_vote_roundtrip(&keys);
    test_vote_strict(&keys);
    test_vote_forgery(&keys);
    test_proposal(&keys);
    test_cert(&keys);
    for (int i = 0; i < NKEYS; i++)
        proto_key_destroy(&keys.k[i]);
    return testutil_done("test_ledger_vote");
}

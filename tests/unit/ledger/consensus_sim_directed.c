/*  consensus_sim_directed: test_consensus_sim's directed tests of the consensus core's
 *  edges, on a hand-driven io that records what the core asks for: a single validator,
 *  persist failure, bad input and bounded buffering, restore after a crash with a lock,
 *  round skipping and a late proposal. Run from test_consensus_sim.c's main.
 */
#include <stdlib.h>
#include <string.h>

#include "consensus_sim.h"
#include "ledger/ledger_consensus.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_msgtype.h"
#include "testutil.h"

/* ==== directed tests of the core ==== */

/* A hand-driven io: records what the core asks for. */
#define H_OUT_MAX 64

typedef struct {
    proto_key_t *const *keys;
    int self;
    uint8_t chain_id[32];
    struct {
        uint32_t type;
        uint8_t data[512];
        size_t len;
    } out[H_OUT_MAX];
    size_t n_out;
    int persists, persist_rc, commits, timers;
    bool broadcast_before_persist;
    uint8_t record[4096];
    size_t record_len;
    uint8_t commit_hash[32];
    uint8_t cert[8192];
    size_t cert_len;
    uint64_t commit_height;
    const char *block;
} h_io_t;

static void h_broadcast(void *ctx, uint32_t type, const uint8_t *data, size_t len)
{
    h_io_t *h = ctx;
    if (h->persists == 0)
        h->broadcast_before_persist = true;
    if (h->n_out < H_OUT_MAX && len <= sizeof h->out[0].data) {
        h->out[h->n_out].type = type;
        memcpy(h->out[h->n_out].data, data, len);
        h->out[h->n_out].len = len;
        h->n_out++;
    }
}

static void h_schedule(void *ctx, uint64_t height, uint32_t round, ledger_cons_step_t step,
                       uint64_t delay)
{
    (void)height;
    (void)round;
    (void)step;
    (void)delay;
    ((h_io_t *)ctx)->timers++;
}

static int h_persist(void *ctx, const uint8_t *data, size_t len)
{
    h_io_t *h = ctx;
    if (h->persist_rc != 0)
        return h->persist_rc;
    h->persists++;
    if (len <= sizeof h->record) {
        memcpy(h->record, data, len);
        h->record_len = len;
    }
    return 0;
}

static ledger_cons_block_rc_t h_get_block(void *ctx, uint64_t height, const uint8_t **block,
                                          size_t *len)
{
    h_io_t *h = ctx;
    (void)height;
    *block = (const uint8_t *)h->block;
    *len = strlen(h->block);
    return LEDGER_CONS_BLOCK_READY;
}

static bool h_validate(void *ctx, uint64_t height, const uint8_t *block, size_t len)
{
    (void)ctx;
    (void)height;
    return len > 0 && block[0] != 'X';
}

static void h_commit(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                     const uint8_t hash[static 32], const uint8_t *cert, size_t cert_len)
{
    h_io_t *h = ctx;
    (void)block;
    (void)len;
    h->commits++;
    h->commit_height = height;
    memcpy(h->commit_hash, hash, 32);
    if (cert_len <= sizeof h->cert) {
        memcpy(h->cert, cert, cert_len);
        h->cert_len = cert_len;
    }
}

static ledger_cons_t *h_core(h_io_t *h, proto_key_t *const *keys, int self)
{
    memset(h, 0, sizeof *h);
    h->keys = keys;
    h->self = self;
    memcpy(h->chain_id, "directed-test-chain-id-000000000", 32);
    h->block = "block-A";
    ledger_cons_io_t io = {.ctx = h,
                           .broadcast = h_broadcast,
                           .schedule_timeout = h_schedule,
                           .persist = h_persist,
                           .get_block = h_get_block,
                           .validate = h_validate,
                           .commit = h_commit};
    return ledger_cons_new(h->chain_id, self >= 0 ? keys[self] : NULL, &io, NULL);
}

static ledger_valset_t h_valset(proto_key_t *const *keys, int n)
{
    ledger_valset_t vs = {0};
    for (int i = 0; i < n; i++)
        if (ledger_valset_add(&vs, proto_key_public(keys[i])) != 0)
            abort();
    return vs;
}

/* Encodes a vote by KEYS[who]. */
static size_t h_vote(const h_io_t *h, int who, uint8_t type, uint64_t height, uint32_t round,
                     const uint8_t *hash, uint8_t out[static 256])
{
    ledger_vote_t v = {.type = type, .height = height, .round = round, .has_hash = hash != NULL};
    memcpy(v.chain_id, h->chain_id, 32);
    if (hash)
        memcpy(v.hash, hash, 32);
    ledger_vote_sign(&v, h->keys[who]);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ledger_vote_encode(&v, &buf, &len) != PROTO_OK || len > 256)
        abort();
    memcpy(out, buf, len);
    free(buf);
    return len;
}

/* Encodes a proposal by KEYS[who] of BLOCK; *hash gets its hash. */
static uint8_t *h_proposal(const h_io_t *h, int who, uint64_t height, uint32_t round, int32_t pol,
                           const char *block, uint8_t hash[32], size_t *len)
{
    ledger_proposal_t p = {.height = height,
                           .round = round,
                           .pol_round = pol,
                           .timestamp_ms = 5,
                           .block = (const uint8_t *)block,
                           .block_len = strlen(block)};
    memcpy(p.chain_id, h->chain_id, 32);
    ledger_vote_value_hash(p.block, p.block_len, p.block_hash);
    memcpy(hash, p.block_hash, 32);
    ledger_proposal_sign(&p, h->keys[who]);
    uint8_t *buf = NULL;
    if (ledger_proposal_encode(&p, &buf, len) != PROTO_OK)
        abort();
    return buf;
}

/* The votes our core broadcast of TYPE at (HEIGHT, ROUND): count, and the last one in *V. */
static int h_find_votes(const h_io_t *h, uint8_t type, uint64_t height, uint32_t round,
                        ledger_vote_t *v)
{
    int k = 0;
    for (size_t i = 0; i < h->n_out; i++) {
        ledger_vote_t d;
        if (h->out[i].type != PROTO_MSG_VOTE ||
            ledger_vote_decode(h->out[i].data, h->out[i].len, &d) != PROTO_OK)
            continue;
        if (d.type == type && d.height == height && d.round == round &&
            memcmp(d.validator, proto_key_public(h->keys[h->self]), 32) == 0) {
            *v = d;
            k++;
        }
    }
    return k;
}

void csim_test_solo(proto_key_t *const *keys)
{
    h_io_t h;
    ledger_cons_t *c = h_core(&h, keys, 0);
    CHECK(c != NULL);
    ledger_valset_t vs = h_valset(keys, 1);
    CHECK_EQ(ledger_cons_start_height(c, 1, &vs, 1000), 0);
    /* one validator: propose, prevote, precommit and commit in one call */
    CHECK_EQ(h.commits, 1);
    CHECK_EQ(h.commit_height, 1u);
    CHECK(ledger_cons_decided(c));
    CHECK(!h.broadcast_before_persist);
    CHECK_EQ(h.persists, 3); /* proposal, prevote, precommit: each persisted first */
    ledger_cert_t cert;
    CHECK_EQ(ledger_cert_decode(h.cert, h.cert_len, &cert), PROTO_OK);
    CHECK_EQ(ledger_cert_verify(&cert, &vs, h.chain_id, h.commit_hash), PROTO_OK);
    uint8_t expect[32];
    ledger_vote_value_hash((const uint8_t *)"block-A", 7, expect);
    CHECK(memcmp(expect, h.commit_hash, 32) == 0);
    /* the same height again, or a lower one, is refused; the next one commits */
    CHECK_EQ(ledger_cons_start_height(c, 1, &vs, 1001), LEDGER_E_INVALID);
    CHECK_EQ(ledger_cons_start_height(c, 2, &vs, 1001), 0);
    CHECK_EQ(h.commits, 2);
    CHECK_EQ(ledger_cons_height(c), 2u);
    /* a bad set */
    ledger_valset_t empty = {0};
    CHECK_EQ(ledger_cons_start_height(c, 3, &empty, 1002), LEDGER_E_INVALID);
    ledger_valset_t twice = vs;
    memcpy(twice.keys[1], twice.keys[0], 32);
    twice.n = 2;
    CHECK_EQ(ledger_cons_start_height(c, 3, &twice, 1002), LEDGER_E_INVALID);
    ledger_cons_destroy(&c);
    CHECK(c == NULL);
    ledger_cons_destroy(&c);

    /* a validator without persist is refused at creation */
    ledger_cons_io_t io = {.broadcast = h_broadcast,
                           .schedule_timeout = h_schedule,
                           .get_block = h_get_block,
                           .validate = h_validate,
                           .commit = h_commit};
    CHECK(ledger_cons_new(h.chain_id, keys[0], &io, NULL) == NULL);
    ledger_cons_t *follower = ledger_cons_new(h.chain_id, NULL, &io, NULL);
    CHECK(follower != NULL);
    ledger_cons_destroy(&follower);
}

void csim_test_persist_failure(proto_key_t *const *keys)
{
    h_io_t h;
    ledger_cons_t *c = h_core(&h, keys, 0);
    h.persist_rc = -1;
    ledger_valset_t vs = h_valset(keys, 1);
    CHECK_EQ(ledger_cons_start_height(c, 1, &vs, 0), 0);
    CHECK_EQ(h.n_out, 0u); /* nothing durable, nothing signed */
    CHECK_EQ(h.commits, 0);
    ledger_cons_stats_t st;
    ledger_cons_stats(c, &st);
    CHECK(st.persist_failures >= 1);
    CHECK_EQ(st.signed_msgs, 0u);
    ledger_cons_destroy(&c);
}

void csim_test_bad_input(proto_key_t *const *keys)
{
    h_io_t h;
    ledger_cons_t *c = h_core(&h, keys, 1); /* validator 1 of 4 */
    ledger_valset_t vs = h_valset(keys, 4);
    CHECK_EQ(ledger_cons_start_height(c, 5, &vs, 0), 0);
    uint8_t buf[256];
    uint8_t hash[32];
    size_t n;

    uint8_t garbage[] = {0x97, 0x01};
    CHECK_EQ(ledger_cons_on_vote(c, garbage, sizeof garbage, 1), PROTO_E_TYPE);
    CHECK(ledger_cons_on_proposal(c, garbage, sizeof garbage, 1) != PROTO_OK);

    /* a vote from a key outside the set */
    n = h_vote(&h, 5, LEDGER_VOTE_PREVOTE, 5, 0, NULL, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_E_INVALID);
    /* a vote on another chain */
    h_io_t other = h;
    other.chain_id[0] ^= 1;
    n = h_vote(&other, 2, LEDGER_VOTE_PREVOTE, 5, 0, NULL, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_E_INVALID);
    /* a bad signature */
    n = h_vote(&h, 2, LEDGER_VOTE_PREVOTE, 5, 0, NULL, buf);
    buf[n - 1] ^= 1;
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_E_BAD_SIG);
    /* a good one, then it again (duplicate), then a conflicting one (equivocation) */
    n = h_vote(&h, 2, LEDGER_VOTE_PREVOTE, 5, 0, NULL, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_OK);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_OK);
    memset(hash, 7, 32);
    n = h_vote(&h, 2, LEDGER_VOTE_PREVOTE, 5, 0, hash, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_OK);
    /* a past height is ignored quietly */
    n = h_vote(&h, 2, LEDGER_VOTE_PREVOTE, 4, 0, NULL, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_OK);

    /* proposals: the proposer of (5, 0) is 5 mod 4 = 1 (us); of (5, 1) it is 2 */
    size_t plen;
    uint8_t *p = h_proposal(&h, 3, 5, 1, -1, "block-B", hash, &plen);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 1), PROTO_E_INVALID); /* not its turn */
    free(p);
    p = h_proposal(&h, 2, 5, 1, -1, "block-B", hash, &plen);
    p[plen - 1] ^= 1; /* the block no longer matches its hash */
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 1), PROTO_E_INVALID);
    p[plen - 1] ^= 1;
    p[80] ^= 1; /* inside the signed block hash */
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 1), PROTO_E_BAD_SIG);
    p[80] ^= 1;
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 1), PROTO_OK);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 1), PROTO_OK); /* duplicate */
    free(p);
    p = h_proposal(&h, 2, 5, 1, -1, "block-C", hash, &plen);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 1), PROTO_OK); /* equivocation: ignored */
    free(p);

    ledger_cons_stats_t st;
    ledger_cons_stats(c, &st);
    CHECK_EQ(st.malformed, 2u);
    CHECK_EQ(st.not_validator, 1u);
    CHECK_EQ(st.wrong_chain, 1u);
    CHECK(st.bad_sig >= 2);
    CHECK_EQ(st.duplicates, 2u);
    CHECK_EQ(st.equivocations, 2u);
    CHECK_EQ(st.wrong_proposer, 1u);
    CHECK_EQ(st.bad_hash, 1u);
    CHECK_EQ(st.stale, 1u);

    /* next-height messages are buffered, within bounds */
    for (int r = 0; r < 40; r++)
        for (int who = 0; who < 4; who++) {
            n = h_vote(&h, who, LEDGER_VOTE_PRECOMMIT, 6, (uint32_t)r, NULL, buf);
            CHECK_EQ(ledger_cons_on_vote(c, buf, n, 2), PROTO_OK);
        }
    ledger_cons_stats(c, &st);
    CHECK_EQ(st.buffered, 20u); /* rounds 0..4 of 4 validators */
    CHECK(st.dropped >= 140u);
    ledger_cons_destroy(&c);
}

/* Drives validator 1 of 4 to a lock, crashes it, restarts it from its record and checks it
   neither double-signs nor forgets its lock. */
void csim_test_restore(proto_key_t *const *keys)
{
    h_io_t h;
    ledger_cons_t *c = h_core(&h, keys, 1);
    ledger_valset_t vs = h_valset(keys, 4);
    uint8_t buf[256], va[32], vb[32];
    size_t n, plen;
    /* height 3: proposer of round 0 is 3 */
    CHECK_EQ(ledger_cons_start_height(c, 3, &vs, 0), 0);
    uint8_t *p = h_proposal(&h, 3, 3, 0, -1, "block-A", va, &plen);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 1), PROTO_OK);
    free(p);
    ledger_vote_t mine;
    CHECK_EQ(h_find_votes(&h, LEDGER_VOTE_PREVOTE, 3, 0, &mine), 1);
    CHECK(mine.has_hash && memcmp(mine.hash, va, 32) == 0);
    /* a polka for A: we lock and precommit A */
    for (int who = 2; who < 4; who++) {
        n = h_vote(&h, who, LEDGER_VOTE_PREVOTE, 3, 0, va, buf);
        CHECK_EQ(ledger_cons_on_vote(c, buf, n, 2), PROTO_OK);
    }
    CHECK_EQ(h_find_votes(&h, LEDGER_VOTE_PRECOMMIT, 3, 0, &mine), 1);
    CHECK(mine.has_hash && memcmp(mine.hash, va, 32) == 0);
    CHECK(!h.broadcast_before_persist);

    /* crash: only the record survives */
    uint8_t record[4096];
    size_t record_len = h.record_len;
    memcpy(record, h.record, record_len);
    ledger_cons_destroy(&c);
    c = h_core(&h, keys, 1);
    CHECK_EQ(ledger_cons_restore(c, record, record_len - 1), PROTO_E_TRUNCATED);
    CHECK_EQ(ledger_cons_restore(c, record, record_len), PROTO_OK);
    CHECK_EQ(ledger_cons_start_height(c, 3, &vs, 10), 0);
    CHECK_EQ(ledger_cons_round(c), 0u);
    CHECK_EQ(ledger_cons_step(c), LEDGER_STEP_PRECOMMIT); /* where the record left us */
    /* it re-sends its votes of round 0 exactly as they were */
    ledger_cons_on_timeout(c, 3, 0, LEDGER_STEP_REBROADCAST, 10); /* not stuck yet */
    CHECK_EQ(h.n_out, 0u);
    ledger_cons_on_timeout(c, 3, 0, LEDGER_STEP_REBROADCAST, 11); /* stuck */
    CHECK_EQ(h_find_votes(&h, LEDGER_VOTE_PREVOTE, 3, 0, &mine), 1);
    CHECK(mine.has_hash && memcmp(mine.hash, va, 32) == 0);
    CHECK_EQ(h_find_votes(&h, LEDGER_VOTE_PRECOMMIT, 3, 0, &mine), 1);
    CHECK(mine.has_hash && memcmp(mine.hash, va, 32) == 0);
    h.n_out = 0;
    CHECK_EQ(ledger_cons_restore(c, record, record_len), PROTO_E_INVALID); /* too late */
    /* the proposer equivocates: a proposal of B in round 0. We must not prevote it (we
       already prevoted A in round 0), nor precommit anything but A. */
    p = h_proposal(&h, 3, 3, 0, -1, "block-B", vb, &plen);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 11), PROTO_OK);
    free(p);
    CHECK_EQ(h_find_votes(&h, LEDGER_VOTE_PREVOTE, 3, 0, &mine), 0);
    n = h_vote(&h, 3, LEDGER_VOTE_PREVOTE, 3, 0, vb, buf); /* 3 equivocates (f = 1) */
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 12), PROTO_OK);
    n = h_vote(&h, 0, LEDGER_VOTE_PREVOTE, 3, 0, vb, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 12), PROTO_OK);
    int k = h_find_votes(&h, LEDGER_VOTE_PRECOMMIT, 3, 0, &mine);
    CHECK(k == 0 || (mine.has_hash && memcmp(mine.hash, va, 32) == 0));

    /* round 1 (proposer 0) proposes B without a proof of lock: locked on A, we prevote nil */
    ledger_cons_on_timeout(c, 3, 0, LEDGER_STEP_PRECOMMIT, 20);
    CHECK_EQ(ledger_cons_round(c), 1u);
    p = h_proposal(&h, 0, 3, 1, -1, "block-B", vb, &plen);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 21), PROTO_OK);
    free(p);
    CHECK_EQ(h_find_votes(&h, LEDGER_VOTE_PREVOTE, 3, 1, &mine), 1);
    CHECK(!mine.has_hash);

    /* round 2 is ours (3 + 2 = 5, 5 mod 4 = 1): we re-propose A with pol_round 0, from the
       restored valid value, preceded by the prevotes that prove it */
    ledger_cons_on_timeout(c, 3, 1, LEDGER_STEP_PRECOMMIT, 30);
    CHECK_EQ(ledger_cons_round(c), 2u);
    bool found = false;
    int pol_votes = 0;
    for (size_t i = 0; i < h.n_out; i++) {
        ledger_proposal_t d;
        ledger_vote_t v;
        if (h.out[i].type == PROTO_MSG_PROPOSAL &&
            ledger_proposal_decode(h.out[i].data, h.out[i].len, &d) == PROTO_OK && d.round == 2) {
            found = d.pol_round == 0 && memcmp(d.block_hash, va, 32) == 0;
        }
        if (h.out[i].type == PROTO_MSG_VOTE &&
            ledger_vote_decode(h.out[i].data, h.out[i].len, &v) == PROTO_OK &&
            v.type == LEDGER_VOTE_PREVOTE && v.round == 0 && v.has_hash &&
            memcmp(v.hash, va, 32) == 0)
            pol_votes++;
    }
    CHECK(found);
    CHECK(pol_votes >= 3);
    ledger_cons_destroy(&c);
}

/* Round skipping and a late proposal completing a commit. */
void csim_test_skip_and_late_block(proto_key_t *const *keys)
{
    h_io_t h;
    ledger_cons_t *c = h_core(&h, keys, -1); /* a follower */
    ledger_valset_t vs = h_valset(keys, 4);
    uint8_t buf[256], va[32];
    size_t n, plen;
    CHECK_EQ(ledger_cons_start_height(c, 8, &vs, 0), 0);
    /* one validator at round 6: no skip (it might be lying); two: skip */
    n = h_vote(&h, 0, LEDGER_VOTE_PREVOTE, 8, 6, NULL, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_OK);
    CHECK_EQ(ledger_cons_round(c), 0u);
    n = h_vote(&h, 1, LEDGER_VOTE_PREVOTE, 8, 3, NULL, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_OK);
    CHECK_EQ(ledger_cons_round(c), 3u); /* two validators are at round >= 3 */
    /* precommits for A in round 3 first, the proposal after: commit once */
    uint8_t *p = h_proposal(&h, (8 + 3) % 4, 8, 3, -1, "block-A", va, &plen);
    for (int who = 0; who < 4; who++) {
        n = h_vote(&h, who, LEDGER_VOTE_PRECOMMIT, 8, 3, va, buf);
        CHECK_EQ(ledger_cons_on_vote(c, buf, n, 2), PROTO_OK);
    }
    CHECK_EQ(h.commits, 0);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 3), PROTO_OK);
    CHECK_EQ(h.commits, 1);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 3), PROTO_OK);
    CHECK_EQ(h.commits, 1);
    ledger_cert_t cert;
    CHECK_EQ(ledger_cert_decode(h.cert, h.cert_len, &cert), PROTO_OK);
    CHECK_EQ(cert.n_sigs, 4u);
    CHECK_EQ(ledger_cert_verify(&cert, &vs, h.chain_id, va), PROTO_OK);
    free(p);
    /* an invalid block never commits */
    CHECK_EQ(ledger_cons_start_height(c, 9, &vs, 4), 0);
    p = h_proposal(&h, 9 % 4, 9, 0, -1, "X-invalid", va, &plen);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 5), PROTO_OK);
    for (int who = 0; who < 4; who++) {
        n = h_vote(&h, who, LEDGER_VOTE_PRECOMMIT, 9, 0, va, buf);
        CHECK_EQ(ledger_cons_on_vote(c, buf, n, 6), PROTO_OK);
    }
    CHECK_EQ(h.commits, 1);
    free(p);
    ledger_cons_destroy(&c);
}

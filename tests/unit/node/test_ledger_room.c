/*  test_ledger_room: the consensus room's posting policy and the room / DECIDED upcalls of
 *  the node's ledger (node_ledger_room.c), on a real node_ledger over a fresh store of a
 *  4-authority chain (a follower: no validator key, no p2p node).
 *
 *  Shown: the policy passes a wrapped vote or proposal signed by a current authority of
 *  this chain for the next height, and refuses one signed by an outsider, one of another
 *  chain, one whose signature was altered, a wrapper of another type, a wrapper whose type
 *  does not match its message, and malformed wrappers; a message for a height beyond
 *  head + 1 (whose set the node cannot know) passes on its valid signature alone. A room
 *  post reaches the ledger (counted in consensus_in) only when it unwraps; a forged or
 *  malformed DECIDED leaves the head at 0.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_sync.h"
#include "ledger/ledger_vote.h"
#include "node/service/node_ledger.h"
#include "node/service/node_ledger_int.h"
#include "proto/proto_key.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"
#include "testutil.h"

#define AUTHS 4

static proto_key_t *s_key(uint8_t b)
{
    uint8_t seed[PROTO_SEED_LEN];
    memset(seed, b, sizeof seed);
    return proto_key_from_seed(seed);
}

static p2p_node_t *s_no_p2p(void *ctx)
{
    (void)ctx;
    return NULL;
}

/* [TYPE, MSG] as the room carries it; ARITY 2 unless testing a bad one. */
static uint8_t *s_wrap(uint64_t type, const uint8_t *msg, size_t len, uint32_t arity, size_t *out)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, arity);
    proto_wr_uint(&w, type);
    proto_wr_bin(&w, msg, len);
    for (uint32_t i = 2; i < arity; i++)
        proto_wr_uint(&w, i);
    uint8_t *buf = proto_wr_take(&w, out);
    proto_wr_free(&w);
    REQUIRE(buf != NULL);
    return buf;
}

/* A precommit of HEIGHT on CHAIN by KEY, wrapped; TAMPER flips a signature bit. */
static uint8_t *s_vote(const uint8_t chain[32], uint64_t height, const proto_key_t *key,
                       bool tamper, size_t *len)
{
    ledger_vote_t v = {.type = LEDGER_VOTE_PRECOMMIT, .height = height, .has_hash = true};
    memcpy(v.chain_id, chain, 32);
    memset(v.hash, 0xab, 32);
    ledger_vote_sign(&v, key);
    if (tamper)
        v.sig[5] ^= 1;
    uint8_t *msg = NULL;
    size_t n = 0;
    REQUIRE(ledger_vote_encode(&v, &msg, &n) == PROTO_OK);
    uint8_t *wrapped = s_wrap(PROTO_MSG_VOTE, msg, n, 2, len);
    free(msg);
    return wrapped;
}

static uint8_t *s_proposal(const uint8_t chain[32], uint64_t height, const proto_key_t *key,
                           size_t *len, uint8_t **raw, size_t *raw_len)
{
    static const uint8_t block[] = "not a real block: the core judges blocks, not the policy";
    ledger_proposal_t p = {.height = height, .pol_round = -1, .timestamp_ms = 5000};
    memcpy(p.chain_id, chain, 32);
    memset(p.block_hash, 0xcd, 32);
    p.block = block;
    p.block_len = sizeof block;
    ledger_proposal_sign(&p, key);
    REQUIRE(ledger_proposal_encode(&p, raw, raw_len) == PROTO_OK);
    return s_wrap(PROTO_MSG_PROPOSAL, *raw, *raw_len, 2, len);
}

int main(void)
{
    REQUIRE(proto_crypto_init() == 0);
    proto_log_set_level(LOG_LVL_ERROR);
    proto_key_t *auth[AUTHS], *outsider = s_key(0x70);
    uint8_t pubs[AUTHS][32];
    for (int i = 0; i < AUTHS; i++) {
        auth[i] = s_key((uint8_t)(0x61 + i));
        REQUIRE(auth[i] != NULL);
        memcpy(pubs[i], proto_key_public(auth[i]), 32);
    }
    REQUIRE(outsider != NULL);
    ledger_genesis_params_t gp = {.block_interval_ms = 100,
                                  .heartbeat_ms = 1000,
                                  .max_block_bytes = 64 * 1024,
                                  .max_block_txs = 100,
                                  .genesis_time_ms = 5000};
    snprintf(gp.chain_name, sizeof gp.chain_name, "test-ledger-room");
    memcpy(gp.attestation_service, pubs[0], 32);
    ledger_genesis_t *g = NULL;
    char err[256] = "";
    REQUIRE(ledger_genesis_new(&gp, (const uint8_t(*)[32])pubs, AUTHS, NULL, 0, &g, err,
                               sizeof err) == LEDGER_OK);
    uint8_t chain[32], other[32];
    memcpy(chain, ledger_genesis_chain_id(g), 32);
    memcpy(other, chain, 32);
    other[0] ^= 0xff;
    const char *dir = testutil_tmpdir();
    zloop_t *loop = zloop_new();
    REQUIRE(loop != NULL);
    node_ledger_deps_t deps = {.loop = loop, .datadir = dir, .p2p = s_no_p2p};
    node_ledger_t *l = node_ledger_new_from(&deps, &g, err, sizeof err);
    REQUIRE(l != NULL);
    const uint8_t from[32] = {7};

    /* the policy */
    size_t len = 0;
    uint8_t *m = s_vote(chain, 1, auth[2], false, &len);
    CHECK(node_ledger_room_policy(l, from, m, len)); /* an authority, the next height */
    node_ledger_on_room_post(l, from, m, len, 5000);
    CHECK_EQ(l->st.consensus_in, 1u);
    free(m);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    m = s_proposal(chain, 1, auth[1], &len, &raw, &raw_len);
    CHECK(node_ledger_room_policy(l, from, m, len));
    free(m);
    /* a wrapper whose type is not its message's */
    m = s_wrap(PROTO_MSG_VOTE, raw, raw_len, 2, &len);
    CHECK(!node_ledger_room_policy(l, from, m, len));
    free(m);
    /* a wrapper of another type, of the wrong arity */
    m = s_wrap(PROTO_MSG_TX, raw, raw_len, 2, &len);
    CHECK(!node_ledger_room_policy(l, from, m, len));
    free(m);
    m = s_wrap(PROTO_MSG_PROPOSAL, raw, raw_len, 3, &len);
    CHECK(!node_ledger_room_policy(l, from, m, len));
    free(m);
    free(raw);
    m = s_vote(chain, 1, outsider, false, &len); /* not an authority */
    CHECK(!node_ledger_room_policy(l, from, m, len));
    free(m);
    m = s_vote(other, 1, auth[0], false, &len); /* another chain */
    CHECK(!node_ledger_room_policy(l, from, m, len));
    free(m);
    m = s_vote(chain, 1, auth[0], true, &len); /* altered signature */
    CHECK(!node_ledger_room_policy(l, from, m, len));
    free(m);
    m = s_vote(chain, 9, outsider, false, &len); /* far ahead: the set there is unknown */
    CHECK(node_ledger_room_policy(l, from, m, len));
    free(m);
    m = s_vote(chain, 9, outsider, true, &len); /* ... but the signature must verify */
    CHECK(!node_ledger_room_policy(l, from, m, len));
    free(m);
    static const uint8_t junk[] = {0x92, 0x22, 0xc4, 0x10, 1, 2};
    CHECK(!node_ledger_room_policy(l, from, junk, sizeof junk));
    CHECK(!node_ledger_room_policy(l, from, junk, 0));
    node_ledger_on_room_post(l, from, junk, sizeof junk, 5000); /* malformed: not counted */
    CHECK_EQ(l->st.consensus_in, 1u);
    CHECK(!node_ledger_room_policy(NULL, from, junk, sizeof junk));

    /* DECIDEDs that are malformed or forged leave the head at 0 */
    static const uint8_t block[] = "1:not a block";
    static const uint8_t cert[] = {0x94, 0x01, 0x00, 0xc4, 0x01, 0x00, 0x90};
    uint8_t *d = NULL;
    REQUIRE(ledger_sync_decided_encode(1, block, sizeof block, cert, sizeof cert, &d, &len) ==
            PROTO_OK);
    node_ledger_on_broadcast(l, PROTO_MSG_DECIDED, from, d, len, 5000);
    node_ledger_on_broadcast(l, PROTO_MSG_DECIDED, from, junk, sizeof junk, 5000);
    free(d);
    CHECK_EQ(l->st.decided_in, 2u);
    CHECK_EQ(nl_head(l).height, 0u);
    CHECK(node_ledger_is_broadcast(PROTO_MSG_DECIDED));

    node_ledger_destroy(&l);
    CHECK(l == NULL);
    zloop_destroy(&loop);
    testutil_rmtree(dir);
    for (int i = 0; i < AUTHS; i++)
        proto_key_destroy(&auth[i]);
    proto_key_destroy(&outsider);
    return testutil_done("test_ledger_room");
}

/*  test_ledger_decided: DECIDED messages in the sans-IO sync core
 *  (ledger_sync_on_decided, ledger/ledger_sync.h), in the hand-driven world of
 *  ledger_sync_world.h (nodes with chains "h:Smm" certified by precommits of real keys).
 *
 *  Shown: a follower fed only DECIDEDs (no votes, no sync answers) reaches the same chain
 *  and authority set as the node that made them, across an authority-set change, and
 *  copies are cheap drops; forged DECIDEDs (a certificate that is garbage, of the wrong
 *  set, of another height, a block that is not the certificate's, an oversized block,
 *  malformed framing) are refused with a code and leave the head unchanged; a DECIDED
 *  beyond head + 1 is a sync hint (the sync asks its origin and catches up), not an apply,
 *  and only when its certificate verifies; a DECIDED that lands while a sync request is
 *  in flight does not break the request. No clock, no randomness.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_sync.h"
#include "ledger_sync_world.h"
#include "proto/proto_key.h"
#include "proto/proto_log.h"
#include "testutil.h"

/* The DECIDED of block H of node N (its own block and certificate). */
static uint8_t *s_decided_of(const node_t *n, uint64_t h, size_t *len)
{
    const entry_t *e = &n->chain[h - 1];
    uint8_t *msg = NULL;
    CHECK_EQ(ledger_sync_decided_encode(h, e->block, e->len, e->cert, e->cert_len, &msg, len),
             PROTO_OK);
    return msg;
}

/* Feeds DATA to node TO as a DECIDED from node FROM; returns what it did (RC: the code). */
static ledger_sync_decided_t s_feed(world_t *w, int to, int from, const uint8_t *data, size_t len,
                                    uint64_t now, int *rc)
{
    ledger_sync_decided_t what = LEDGER_SYNC_DECIDED_APPLIED;
    *rc = ledger_sync_on_decided(w->nodes[to].core, w->nodes[from].id, data, len, now, &what);
    return what;
}

/* A follower that only ever gets DECIDEDs follows 20 blocks, across a set change at 10. */
static void test_follow(void)
{
    world_t w;
    ledger_sync_params_t p = s_params();
    s_world_init(&w, &p, 0x0f);
    for (int h = 1; h <= 20; h++)
        s_grow(&w.nodes[0], h == 10 ? 0x1e : 0);
    uint64_t now = 1000;
    for (uint64_t h = 1; h <= 20; h++) {
        size_t len = 0;
        uint8_t *msg = s_decided_of(&w.nodes[0], h, &len);
        int rc = 0;
        CHECK_EQ(s_feed(&w, 1, 0, msg, len, now, &rc), LEDGER_SYNC_DECIDED_APPLIED);
        CHECK_EQ(rc, PROTO_OK);
        /* a copy (another relay's, or the backup of another validator): dropped */
        CHECK_EQ(s_feed(&w, 1, 2, msg, len, now, &rc), LEDGER_SYNC_DECIDED_OLD);
        CHECK_EQ(rc, PROTO_OK);
        free(msg);
        now += 2000;
    }
    CHECK_EQ(w.nodes[1].len, 20u);
    CHECK(s_same_chain(&w.nodes[0], &w.nodes[1], 20));
    CHECK_EQ(w.nodes[1].chain[19].mask_after, 0x1eu); /* the same authority set */
    ledger_sync_stats_t st;
    ledger_sync_stats(w.nodes[1].core, &st);
    CHECK_EQ(st.decided_applied, 20u);
    CHECK_EQ(st.decided_old, 20u);
    CHECK_EQ(st.decided_refused, 0u);
    CHECK_EQ(st.requests, 0u); /* no sync was needed */
    CHECK_EQ(w.nodes[1].events[LEDGER_SYNC_EV_APPLIED], 20);
    CHECK_EQ(w.nq, 0u); /* nothing was sent: no news for STATUS, no request */
    s_world_free(&w);
}

/* Forged DECIDEDs of head + 1 are refused and leave the head where it was. */
static void test_forged(void)
{
    world_t w;
    ledger_sync_params_t p = s_params();
    s_world_init(&w, &p, 0x0f);
    for (int h = 1; h <= 3; h++)
        s_grow(&w.nodes[0], 0);
    node_t *f = &w.nodes[1];
    const entry_t *e1 = &w.nodes[0].chain[0], *e2 = &w.nodes[0].chain[1];
    uint8_t hash[32];
    ledger_vote_value_hash(e1->block, e1->len, hash);
    size_t wrong_len = 0, len = 0;
    uint8_t *wrong_set = s_cert(1, hash, 0x1e, &wrong_len); /* a quorum of another set */
    static const uint8_t garbage[] = {0x93, 0x01, 0x02, 0x03};
    static const uint8_t other_block[] = "1:S0e"; /* parses as block 1, not the certified one */
    struct {
        const char *what;
        const uint8_t *block;
        size_t len;
        const uint8_t *cert;
        size_t cert_len;
    } cases[] = {
        {"garbage certificate", e1->block, e1->len, garbage, sizeof garbage},
        {"certificate of the wrong set", e1->block, e1->len, wrong_set, wrong_len},
        {"certificate of another height", e1->block, e1->len, e2->cert, e2->cert_len},
        {"block not the certificate's", other_block, sizeof other_block - 1, e1->cert,
         e1->cert_len},
        {"block of another height", e2->block, e2->len, e1->cert, e1->cert_len},
    };
    uint64_t now = 1000;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *msg = NULL;
        CHECK_EQ(ledger_sync_decided_encode(1, cases[i].block, cases[i].len, cases[i].cert,
                                            cases[i].cert_len, &msg, &len),
                 PROTO_OK);
        int rc = 0;
        ledger_sync_decided_t what = s_feed(&w, 1, 0, msg, len, now, &rc);
        if (what != LEDGER_SYNC_DECIDED_REFUSED || rc == PROTO_OK || f->len != 0)
            fprintf(stderr, "forged DECIDED accepted: %s\n", cases[i].what);
        CHECK_EQ(what, LEDGER_SYNC_DECIDED_REFUSED);
        CHECK(rc < 0);
        CHECK_EQ(f->len, 0u);
        free(msg);
    }
    free(wrong_set);
    CHECK(f->events[LEDGER_SYNC_EV_CERT_REFUSED] >= 2);
    CHECK(f->events[LEDGER_SYNC_EV_BAD_CERT] >= 2);
    CHECK(f->events[LEDGER_SYNC_EV_BAD_BLOCK] >= 1);

    /* oversized: a block over LEDGER_BLOCK_MAX_BYTES is refused by the reader */
    size_t big_len = (size_t)LEDGER_BLOCK_MAX_BYTES + 1;
    uint8_t *big = calloc(1, big_len), *msg = NULL;
    REQUIRE(big != NULL);
    CHECK_EQ(ledger_sync_decided_encode(1, big, big_len, e1->cert, e1->cert_len, &msg, &len),
             PROTO_OK);
    int rc = 0;
    CHECK_EQ(s_feed(&w, 1, 0, msg, len, now, &rc), LEDGER_SYNC_DECIDED_REFUSED);
    CHECK(rc < 0);
    free(msg);
    free(big);
    /* malformed framing: wrong arity, height 0, an empty certificate, trailing bytes */
    proto_wr_t wr;
    for (int k = 0; k < 4; k++) {
        proto_wr_init(&wr);
        proto_wr_array(&wr, k == 0 ? 4 : 3);
        proto_wr_uint(&wr, k == 1 ? 0 : 1);
        proto_wr_bin(&wr, e1->block, e1->len);
        proto_wr_bin(&wr, e1->cert, k == 2 ? 0 : e1->cert_len);
        if (k == 0 || k == 3)
            proto_wr_uint(&wr, 7);
        size_t n = 0;
        const uint8_t *bytes = proto_wr_data(&wr, &n);
        CHECK_EQ(s_feed(&w, 1, 0, bytes, n, now, &rc), LEDGER_SYNC_DECIDED_REFUSED);
        CHECK(rc < 0);
        proto_wr_free(&wr);
    }
    CHECK_EQ(f->len, 0u);
    ledger_sync_stats_t st;
    ledger_sync_stats(f->core, &st);
    CHECK_EQ(st.decided_applied, 0u);
    CHECK_EQ(st.decided_refused, 10u);
    /* the genuine one still applies */
    msg = s_decided_of(&w.nodes[0], 1, &len);
    CHECK_EQ(s_feed(&w, 1, 0, msg, len, now, &rc), LEDGER_SYNC_DECIDED_APPLIED);
    CHECK_EQ(f->len, 1u);
    free(msg);
    s_world_free(&w);
}

/* A DECIDED beyond head + 1 makes the sync ask its origin; it is not applied itself. One
   whose certificate does not verify is not believed. */
static void test_ahead(void)
{
    world_t w;
    ledger_sync_params_t p = s_params();
    s_world_init(&w, &p, 0x0f);
    for (int h = 1; h <= 5; h++)
        s_grow(&w.nodes[0], 0);
    node_t *f = &w.nodes[1];
    uint64_t now = 1000;
    size_t len = 0;
    int rc = 0;
    /* a forged one ahead: refused, no hint */
    uint8_t *msg = NULL;
    const entry_t *e5 = &w.nodes[0].chain[4];
    CHECK_EQ(ledger_sync_decided_encode(5, e5->block, e5->len, w.nodes[0].chain[3].cert,
                                        w.nodes[0].chain[3].cert_len, &msg, &len),
             PROTO_OK);
    CHECK_EQ(s_feed(&w, 1, 0, msg, len, now, &rc), LEDGER_SYNC_DECIDED_REFUSED);
    CHECK(rc < 0);
    free(msg);
    CHECK_EQ(ledger_sync_best_height(f->core, now), 0u);
    /* the genuine block 5: a hint, nothing applied */
    msg = s_decided_of(&w.nodes[0], 5, &len);
    CHECK_EQ(s_feed(&w, 1, 0, msg, len, now, &rc), LEDGER_SYNC_DECIDED_AHEAD);
    CHECK_EQ(rc, PROTO_OK);
    free(msg);
    CHECK_EQ(f->len, 0u);
    CHECK_EQ(ledger_sync_best_height(f->core, now), 5u);
    ledger_sync_tick(f->core, now); /* behind by 5: asks the origin at once */
    CHECK(ledger_sync_busy(f->core));
    CHECK_EQ(s_asked(&w), 0);
    s_deliver(&w, now, false, -1);
    CHECK_EQ(f->len, 5u);
    CHECK(s_same_chain(&w.nodes[0], f, 5));
    CHECK(!ledger_sync_busy(f->core));
    ledger_sync_stats_t st;
    ledger_sync_stats(f->core, &st);
    CHECK_EQ(st.decided_ahead, 1u);
    CHECK_EQ(st.synced, 5u);
    s_world_free(&w);
}

/* A DECIDED of head + 1 while a request for 1..4 is in flight: applied; the answers then
   fill in the rest and end the request, with no failure counted against the peer. */
static void test_during_sync(void)
{
    world_t w;
    ledger_sync_params_t p = s_params();
    s_world_init(&w, &p, 0x0f);
    for (int h = 1; h <= 4; h++)
        s_grow(&w.nodes[0], 0);
    node_t *f = &w.nodes[1];
    uint64_t now = 1000;
    s_status(&w, 0, now);
    ledger_sync_tick(f->core, now);
    CHECK(ledger_sync_busy(f->core));
    size_t len = 0;
    int rc = 0;
    uint8_t *msg = s_decided_of(&w.nodes[0], 1, &len);
    CHECK_EQ(s_feed(&w, 1, 2, msg, len, now, &rc), LEDGER_SYNC_DECIDED_APPLIED);
    free(msg);
    CHECK_EQ(f->len, 1u);
    s_deliver(&w, now, false, -1);
    CHECK_EQ(f->len, 4u);
    CHECK(s_same_chain(&w.nodes[0], f, 4));
    CHECK(!ledger_sync_busy(f->core));
    CHECK_EQ(f->events[LEDGER_SYNC_EV_BAD_BLOCK] + f->events[LEDGER_SYNC_EV_CERT_REFUSED] +
                 f->events[LEDGER_SYNC_EV_TIMEOUT] + f->events[LEDGER_SYNC_EV_PEER_IGNORED],
             0);
    s_world_free(&w);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    proto_log_set_level(LOG_LVL_ERROR);
    for (int i = 0; i < KEYS; i++) {
        uint8_t seed[32] = {0};
        seed[0] = (uint8_t)(0x61 + i);
        s_keys[i] = proto_key_from_seed(seed);
        REQUIRE(s_keys[i] != NULL);
    }
    test_follow();
    test_forged();
    test_ahead();
    test_during_sync();
    for (int i = 0; i < KEYS; i++)
        proto_key_destroy(&s_keys[i]);
    return testutil_done("test_ledger_decided");
}

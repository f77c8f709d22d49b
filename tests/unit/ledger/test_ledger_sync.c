/*  test_ledger_sync: the sans-IO block sync core (ledger/ledger_sync.h), driven by hand.
 *
 *  A few nodes with their own chain in memory (blocks "h:tag" certified by precommits of
 *  real keys) are wired to their cores through a message queue the test delivers, in
 *  order, reversed or not at all. Shown: a node 40 blocks behind catches up in batches,
 *  in height order even when answers arrive reversed; bounds (one request in flight, the
 *  batch, serve_per_s, the timeout and failures per peer, the ignore period, the lag
 *  rule); forged answers (bad certificate, a block of another height, an altered block, a
 *  certificate of another height, blocks from a peer not asked, a malformed answer) are
 *  never applied and count against the peer; certificates after an authority-set change
 *  are checked against the new set, and a certificate of the old set is refused there;
 *  malformed STATUS / SYNC_REQ / SYNC_BLOCKS are refused with a code; the unicast kind;
 *  STATUS goes out with news only (first tick, synced blocks, the heartbeat), and a node
 *  behind gets the head of a neighbour ahead at once, in the answer to its own STATUS.
 *  No clock, no randomness: every time is an argument. The world (nodes, chains, queue, io)
 *  is ledger_sync_world.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_sync.h"
#include "ledger_sync_world.h"
#include "proto/proto_key.h"
#include "proto/proto_log.h"
#include "testutil.h"

/* ---- tests ---- */

/* Node 1 is 40 blocks behind node 0: it catches up 16 blocks per request, one request in
   flight, answers applied in height order even when they arrive reversed. */
static void test_catch_up(void)
{
    world_t w;
    ledger_sync_params_t p = s_params();
    s_world_init(&w, &p, 0x0f);
    for (int h = 0; h < 40; h++)
        s_grow(&w.nodes[0], 0);
    uint64_t now = 1000;
    s_status(&w, 0, now);
    CHECK_EQ(ledger_sync_best_height(w.nodes[1].core, now), 40u);
    int rounds = 0;
    while (w.nodes[1].len < 40 && rounds++ < 10) {
        ledger_sync_tick(w.nodes[1].core, now);
        CHECK(ledger_sync_busy(w.nodes[1].core));
        ledger_sync_tick(w.nodes[1].core, now); /* one request in flight: no second one */
        CHECK_EQ(w.nodes[1].events[LEDGER_SYNC_EV_REQUESTED], rounds);
        s_deliver(&w, now, rounds % 2 == 0, -1);
        now += 300;
    }
    CHECK_EQ(w.nodes[1].len, 40u);
    CHECK(s_same_chain(&w.nodes[0], &w.nodes[1], 40));
    CHECK_EQ(rounds, 3); /* 16 + 16 + 8 */
    CHECK(!ledger_sync_busy(w.nodes[1].core));
    ledger_sync_stats_t st;
    ledger_sync_stats(w.nodes[1].core, &st);
    CHECK_EQ(st.synced, 40u);
    CHECK_EQ(st.requests, 3u);
    CHECK_EQ(st.bad_blocks, 0u);
    CHECK(w.nodes[1].events[LEDGER_SYNC_EV_CAUGHT_UP] >= 3);
    ledger_sync_stats(w.nodes[0].core, &st);
    CHECK_EQ(st.served, 40u);
    /* caught up: no more requests */
    ledger_sync_tick(w.nodes[1].core, now);
    CHECK(!ledger_sync_busy(w.nodes[1].core));
    s_world_free(&w);
}

/* Behind by one block: no request before lag_ms (the consensus core may close it), then
   one. */
static void test_lag(void)
{
    world_t w;
    ledger_sync_params_t p = s_params();
    s_world_init(&w, &p, 0x0f);
    s_grow(&w.nodes[0], 0);
    uint64_t now = 5000;
    s_status(&w, 0, now);
    ledger_sync_tick(w.nodes[1].core, now);
    CHECK(!ledger_sync_busy(w.nodes[1].core));
    ledger_sync_tick(w.nodes[1].core, now + p.lag_ms - 1);
    CHECK(!ledger_sync_busy(w.nodes[1].core));
    ledger_sync_tick(w.nodes[1].core, now + p.lag_ms);
    CHECK(ledger_sync_busy(w.nodes[1].core));
    s_deliver(&w, now + p.lag_ms, false, -1);
    CHECK_EQ(w.nodes[1].len, 1u);
    s_world_free(&w);
}

/* Answers from node 0 that are forged one way or another: never applied, each a failure of
   node 0; after max_fails it is ignored for ignore_ms and node 2 (honest) is asked. */
static void test_forged(void)
{
    world_t w;
    ledger_sync_params_t p = s_params();
    s_world_init(&w, &p, 0x0f);
    for (int h = 0; h < 10; h++) {
        s_grow(&w.nodes[0], 0);
        s_grow(&w.nodes[2], 0);
    }
    node_t *me = &w.nodes[1];
    uint64_t now = 1000;
    s_status(&w, 0, now);
    s_status(&w, 2, now);
    const entry_t *e1 = &w.nodes[0].chain[0], *e2 = &w.nodes[0].chain[1];
    for (int how = 0; how < 6; how++) {
        /* the peer with the fewest failures is asked (ties: the first seen), so the two
           alternate; each forged answer comes from the peer asked */
        ledger_sync_tick(me->core, now);
        CHECK(ledger_sync_busy(me->core));
        int asked = s_asked(&w);
        REQUIRE(asked == 0 || asked == 2); /* a request went out */
        s_drop_queue(&w);
        const uint8_t *from = w.nodes[asked].id;
        uint8_t blk[32], cert[8192];
        size_t blen = e1->len, clen = e1->cert_len;
        memcpy(blk, e1->block, blen);
        memcpy(cert, e1->cert, clen);
        uint64_t h = 1;
        if (how == 0)
            cert[clen - 5] ^= 0x20; /* a bad signature */
        else if (how == 1) {        /* block 2 under block 1's certificate */
            memcpy(blk, e2->block, e2->len);
            blen = e2->len;
        } else if (how == 2)
            blk[blen - 1] = blk[blen - 1] == 'f' ? 'e' : 'f'; /* altered: still parses */
        else if (how == 3) { /* block 2 with its own certificate, sent as height 1 */
            memcpy(blk, e2->block, e2->len);
            blen = e2->len;
            memcpy(cert, e2->cert, e2->cert_len);
            clen = e2->cert_len;
        }
        uint8_t *msg = NULL;
        size_t len = 0;
        if (how == 4) { /* malformed */
            CHECK_EQ(ledger_sync_blocks_encode(h, blk, blen, cert, clen, &msg, &len), PROTO_OK);
            CHECK(ledger_sync_on_unicast(me->core, from, msg, len - 3, now) != PROTO_OK);
        } else if (how == 5) { /* a true certificate, but of another height */
            ledger_cert_t c;
            CHECK_EQ(ledger_cert_decode(cert, clen, &c), PROTO_OK);
            c.height = 2;
            uint8_t *cb = NULL;
            size_t cbl = 0;
            CHECK_EQ(ledger_cert_encode(&c, &cb, &cbl), PROTO_OK);
            CHECK_EQ(ledger_sync_blocks_encode(h, blk, blen, cb, cbl, &msg, &len), PROTO_OK);
            free(cb);
            CHECK_EQ(ledger_sync_on_unicast(me->core, from, msg, len, now), PROTO_OK);
        } else {
            CHECK_EQ(ledger_sync_blocks_encode(h, blk, blen, cert, clen, &msg, &len), PROTO_OK);
            CHECK_EQ(ledger_sync_on_unicast(me->core, from, msg, len, now), PROTO_OK);
        }
        free(msg);
        CHECK_EQ(me->len, 0u);              /* nothing applied */
        CHECK(!ledger_sync_busy(me->core)); /* the request failed at once */
        now += 10;
    }
    ledger_sync_stats_t st;
    ledger_sync_stats(me->core, &st);
    CHECK_EQ(st.bad_blocks, 6u);
    CHECK_EQ(st.synced, 0u);
    CHECK_EQ(me->events[LEDGER_SYNC_EV_CERT_REFUSED], 2); /* bad signature, altered block */
    CHECK_EQ(me->events[LEDGER_SYNC_EV_BAD_BLOCK], 2);    /* blocks of another height */
    CHECK_EQ(me->events[LEDGER_SYNC_EV_BAD_ANSWER], 1);   /* malformed */
    CHECK_EQ(me->events[LEDGER_SYNC_EV_BAD_CERT], 1);     /* certificate of another height */
    CHECK_EQ(me->events[LEDGER_SYNC_EV_PEER_IGNORED], 2); /* 3 + 3 failures (both peers) */
    /* both ignored now: no request until ignore_ms passed */
    ledger_sync_tick(me->core, now);
    CHECK(!ledger_sync_busy(me->core));
    now += p.ignore_ms;
    s_status(&w, 2, now);
    s_status(&w, 0, now);
    ledger_sync_tick(me->core, now);
    CHECK(ledger_sync_busy(me->core));
    s_deliver(&w, now, false, -1); /* honest answers this time */
    CHECK_EQ(me->len, 10u);
    CHECK(s_same_chain(&w.nodes[0], me, 10));
    s_world_free(&w);
}

/* Blocks from a peer not asked, or heights not asked: dropped, no penalty. A request
   without progress for timeout_ms fails, and the next goes to the peer with the fewest
   failures. */
static void test_unasked_and_timeout(void)
{
    world_t w;
    ledger_sync_params_t p = s_params();
    s_world_init(&w, &p, 0x0f);
    for (int h = 0; h < 30; h++) {
        s_grow(&w.nodes[0], 0);
        s_grow(&w.nodes[2], 0);
    }
    node_t *me = &w.nodes[1];
    uint64_t now = 1000;
    s_status(&w, 0, now);
    s_status(&w, 2, now);
    uint8_t *msg = NULL;
    size_t len = 0;
    const entry_t *e = &w.nodes[2].chain[0];
    CHECK_EQ(ledger_sync_blocks_encode(1, e->block, e->len, e->cert, e->cert_len, &msg, &len),
             PROTO_OK);
    CHECK_EQ(ledger_sync_on_unicast(me->core, w.nodes[2].id, msg, len, now), PROTO_OK);
    CHECK_EQ(me->len, 0u); /* nothing asked yet */
    ledger_sync_tick(me->core, now);
    int asked = s_asked(&w), other = asked == 0 ? 2 : 0;
    REQUIRE(asked == 0 || asked == 2);
    s_drop_queue(&w);
    CHECK_EQ(ledger_sync_on_unicast(me->core, w.nodes[other].id, msg, len, now), PROTO_OK);
    CHECK_EQ(me->len, 0u); /* from a peer not asked */
    free(msg);
    const entry_t *far = &w.nodes[asked].chain[20];
    CHECK_EQ(
        ledger_sync_blocks_encode(21, far->block, far->len, far->cert, far->cert_len, &msg, &len),
        PROTO_OK);
    CHECK_EQ(ledger_sync_on_unicast(me->core, w.nodes[asked].id, msg, len, now), PROTO_OK);
    free(msg);
    CHECK_EQ(me->len, 0u); /* a height not asked */
    CHECK_EQ(me->events[LEDGER_SYNC_EV_UNASKED], 3);
    CHECK(ledger_sync_busy(me->core));
    ledger_sync_tick(me->core, now + p.timeout_ms); /* not yet */
    CHECK_EQ(me->events[LEDGER_SYNC_EV_TIMEOUT], 0);
    ledger_sync_tick(me->core, now + p.timeout_ms + 1);
    CHECK_EQ(me->events[LEDGER_SYNC_EV_TIMEOUT], 1);
    /* the timed-out peer has a failure now: the next request goes to the other */
    CHECK(ledger_sync_busy(me->core));
    CHECK_EQ(s_asked(&w), other);
    s_deliver(&w, now + p.timeout_ms + 1, false, -1);
    CHECK_EQ(me->len, 16u);
    s_world_free(&w);
}

/* The authority set changes at heights 5 (to keys 1..4) and 12 (to keys 0,2,3,4): a node
   far behind verifies each certificate against the set its chain leads to; a certificate
   of the old set after the change is refused. */
static void test_authority_change(void)
{
    world_t w;
    ledger_sync_params_t p = s_params();
    s_world_init(&w, &p, 0x0f);
    node_t *src = &w.nodes[0], *me = &w.nodes[1];
    for (int h = 1; h <= 20; h++)
        s_grow(src, h == 5 ? 0x1e : h == 12 ? 0x1d : 0);
    /* a forged block 6 certified by the old set {0,1,2,3} */
    uint8_t *msg = NULL;
    size_t len = 0;
    const entry_t *e6 = &src->chain[5];
    uint8_t hash[32];
    ledger_vote_value_hash(e6->block, e6->len, hash);
    size_t old_len = 0;
    uint8_t *old = s_cert(6, hash, 0x0f, &old_len);
    uint64_t now = 1000;
    s_status(&w, 0, now);
    ledger_sync_tick(me->core, now);
    s_deliver(&w, now, false, 1); /* the answers are lost */
    /* deliver blocks 1..5 by hand, then 6 with the old set's certificate */
    for (uint64_t h = 1; h <= 5; h++) {
        const entry_t *e = &src->chain[h - 1];
        CHECK_EQ(ledger_sync_blocks_encode(h, e->block, e->len, e->cert, e->cert_len, &msg, &len),
                 PROTO_OK);
        CHECK_EQ(ledger_sync_on_unicast(me->core, src->id, msg, len, now), PROTO_OK);
        free(msg);
    }
    CHECK_EQ(me->len, 5u);
    CHECK_EQ(ledger_sync_blocks_encode(6, e6->block, e6->len, old, old_len, &msg, &len), PROTO_OK);
    CHECK_EQ(ledger_sync_on_unicast(me->core, src->id, msg, len, now), PROTO_OK);
    free(msg);
    free(old);
    CHECK_EQ(me->len, 5u); /* refused: key 0 is no authority after block 5 */
    CHECK_EQ(me->events[LEDGER_SYNC_EV_CERT_REFUSED], 1);
    /* the true certificates (new sets) get it to 20 */
    for (int i = 0; i < 4 && me->len < 20; i++) {
        now += 100;
        ledger_sync_tick(me->core, now);
        s_deliver(&w, now, false, -1);
    }
    CHECK_EQ(me->len, 20u);
    CHECK(s_same_chain(src, me, 20));
    CHECK_EQ(me->chain[19].mask_after, 0x1du);
    s_world_free(&w);
}

/* A node serves at most serve_per_s requests per second, each of at most batch blocks and
   only what it has; a block that does not apply fails the request. */
static void test_serve_bounds(void)
{
    world_t w;
    ledger_sync_params_t p = s_params();
    p.msg_max = 1u << 20;
    s_world_init(&w, &p, 0x0f);
    for (int h = 0; h < 5; h++)
        s_grow(&w.nodes[0], 0);
    node_t *srv = &w.nodes[0];
    uint8_t *req = NULL;
    size_t len = 0;
    CHECK_EQ(ledger_sync_req_encode(3, 16, &req, &len), PROTO_OK);
    uint64_t now = 70000;
    for (uint32_t i = 0; i < p.serve_per_s + 3; i++)
        CHECK_EQ(ledger_sync_on_unicast(srv->core, w.nodes[1].id, req, len, now + i), PROTO_OK);
    ledger_sync_stats_t st;
    ledger_sync_stats(srv->core, &st);
    CHECK_EQ(st.refused, 3u);
    CHECK_EQ(st.served, 3u * p.serve_per_s); /* heights 3..5 each time */
    CHECK_EQ(w.nq, 3u * p.serve_per_s);
    s_drop_queue(&w);
    CHECK_EQ(ledger_sync_on_unicast(srv->core, w.nodes[1].id, req, len, now + 1000), PROTO_OK);
    CHECK_EQ(w.nq, 3u); /* a new second */
    s_drop_queue(&w);
    free(req);
    /* count above the batch, height 0, count 0: malformed, nothing served */
    CHECK_EQ(ledger_sync_req_encode(1, p.batch + 1, &req, &len), PROTO_OK);
    CHECK(ledger_sync_on_unicast(srv->core, w.nodes[1].id, req, len, now + 2000) != PROTO_OK);
    free(req);
    CHECK_EQ(ledger_sync_req_encode(0, 4, &req, &len), PROTO_OK);
    CHECK(ledger_sync_on_unicast(srv->core, w.nodes[1].id, req, len, now + 2000) != PROTO_OK);
    free(req);
    CHECK_EQ(ledger_sync_req_encode(1, 0, &req, &len), PROTO_OK);
    CHECK(ledger_sync_on_unicast(srv->core, w.nodes[1].id, req, len, now + 2000) != PROTO_OK);
    free(req);
    CHECK_EQ(w.nq, 0u);
    /* the requester cannot apply: the request fails, nothing is kept */
    w.nodes[1].fail_apply = true;
    s_status(&w, 0, now);
    ledger_sync_tick(w.nodes[1].core, now + 3000);
    s_deliver(&w, now + 3000, false, -1);
    CHECK_EQ(w.nodes[1].len, 0u);
    CHECK_EQ(w.nodes[1].events[LEDGER_SYNC_EV_APPLY_FAILED], 1);
    CHECK(!ledger_sync_busy(w.nodes[1].core));
    s_world_free(&w);
}

/* Malformed STATUS and unicasts are refused with a code; the unicast kind. */
static void test_malformed(void)
{
    world_t w;
    ledger_sync_params_t p = s_params();
    s_world_init(&w, &p, 0x0f);
    ledger_sync_t *c = w.nodes[0].core;
    const uint8_t *from = w.nodes[1].id;
    uint8_t hash[32] = {1};
    uint8_t *msg = NULL;
    size_t len = 0;
    CHECK_EQ(ledger_sync_status_encode(7, hash, &msg, &len), PROTO_OK);
    for (size_t cut = 0; cut < len; cut++)
        CHECK(ledger_sync_on_status(c, from, msg, cut, 1) != PROTO_OK);
    CHECK_EQ(ledger_sync_on_status(c, from, msg, len, 1), PROTO_OK);
    CHECK_EQ(ledger_sync_unicast_kind(msg, len), LEDGER_SYNC_MSG_NONE);
    free(msg);
    static const uint8_t too_high[] = {0x92, 0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK(ledger_sync_on_status(c, from, too_high, sizeof too_high, 1) != PROTO_OK);
    CHECK_EQ(ledger_sync_req_encode(1, 4, &msg, &len), PROTO_OK);
    CHECK_EQ(ledger_sync_unicast_kind(msg, len), LEDGER_SYNC_MSG_REQ);
    CHECK_EQ(msg[1], PROTO_MSG_SYNC_REQ);
    free(msg);
    uint8_t blk[4] = "1:S1", cert[3] = {1, 2, 3};
    CHECK_EQ(ledger_sync_blocks_encode(1, blk, 4, cert, 3, &msg, &len), PROTO_OK);
    CHECK_EQ(ledger_sync_unicast_kind(msg, len), LEDGER_SYNC_MSG_BLOCKS);
    for (size_t cut = 0; cut < len; cut++)
        CHECK(ledger_sync_on_unicast(c, from, msg, cut, 1) != PROTO_OK);
    free(msg);
    static const uint8_t text[] = "hello";
    CHECK_EQ(ledger_sync_unicast_kind(text, 5), LEDGER_SYNC_MSG_NONE);
    CHECK(ledger_sync_on_unicast(c, from, text, 5, 1) != PROTO_OK);
    static const uint8_t other[] = {0x93, 0x22, 0x01, 0x01}; /* type 34, 3 fields */
    CHECK_EQ(ledger_sync_unicast_kind(other, sizeof other), LEDGER_SYNC_MSG_NONE);
    CHECK_EQ(ledger_sync_on_unicast(c, from, other, sizeof other, 1), PROTO_E_UNKNOWN_TYPE);
    static const uint8_t wrong_arity[] = {0x94, 0x23, 0x01, 0x01, 0x01}; /* REQ with 4 */
    CHECK_EQ(ledger_sync_unicast_kind(wrong_arity, sizeof wrong_arity), LEDGER_SYNC_MSG_NONE);
    ledger_sync_stats_t st;
    ledger_sync_stats(c, &st);
    CHECK(st.malformed > 10);
    /* bad params */
    ledger_sync_params_t bad = s_params();
    bad.batch = LEDGER_SYNC_BATCH_MAX + 1;
    ledger_sync_io_t io = {0};
    CHECK(ledger_sync_new(s_chain_id, &io, NULL) == NULL); /* callbacks missing */
    io = (ledger_sync_io_t){.head = s_io_head,
                            .valset = s_io_valset,
                            .read = s_io_read,
                            .identify = s_io_identify,
                            .apply = s_io_apply,
                            .send = s_io_send,
                            .broadcast = s_io_broadcast};
    CHECK(ledger_sync_new(s_chain_id, &io, &bad) == NULL);
    bad.batch = 0;
    CHECK(ledger_sync_new(s_chain_id, &io, &bad) == NULL);
    s_world_free(&w);
    ledger_sync_t *none = NULL;
    ledger_sync_destroy(&none);
    ledger_sync_destroy(NULL);
}

/* STATUS carries news only: a head moved by consensus is announced by the heartbeat
   (status_ms) alone; a node that is behind learns the head of a neighbour ahead at once,
   from that neighbour's answer to its STATUS (at most once per status_min_ms per peer);
   a head moved by synced blocks is announced (at most once per status_min_ms). */
static void test_status_news(void)
{
    world_t w;
    ledger_sync_params_t p = s_params();
    s_world_init_io(&w, &p, 0x0f, true);
    node_t *a = &w.nodes[0], *b = &w.nodes[1], *c = &w.nodes[2];
    uint64_t t0 = 1000, now = t0;
    ledger_sync_tick(a->core, now); /* the first tick: a's STATUS, which nobody hears */
    CHECK_EQ(a->statuses, 1);
    s_drop_queue(&w);
    for (int h = 0; h < 10; h++) { /* a's head moves by consensus, a block every 2 s */
        s_grow(a, 0);
        for (uint64_t t = 0; t < 2000; t += 250)
            ledger_sync_tick(a->core, now + t);
        now += 2000;
    }
    CHECK_EQ(a->statuses, 1); /* no news: nothing before the heartbeat */
    now = t0 + p.status_ms;
    ledger_sync_tick(a->core, now);
    CHECK_EQ(a->statuses, 2); /* the heartbeat */
    s_drop_queue(&w);

    /* b starts (at genesis): its first STATUS is answered by a, to b alone */
    now += 500;
    uint64_t b_first = now;
    ledger_sync_tick(b->core, now);
    CHECK_EQ(b->statuses, 1);
    s_deliver(&w, now, false, -1);
    CHECK_EQ(a->replies, 1);
    CHECK_EQ(c->replies, 0); /* c is level with b */
    CHECK_EQ(b->replies, 0);
    CHECK_EQ(ledger_sync_best_height(b->core, now), 10u); /* b knows it is behind */
    CHECK_EQ(ledger_sync_best_height(c->core, now), 0u);  /* the answer went to b only */
    s_status(&w, 1, now + 1);                             /* b again: too soon for another answer */
    CHECK_EQ(a->replies, 1);
    s_drop_queue(&w);

    /* b syncs: its new head is news, announced once status_min_ms after its last STATUS */
    now += 2;
    for (int round = 0; round < 4 && b->len < 10; round++) {
        ledger_sync_tick(b->core, now);
        s_deliver(&w, now, false, -1);
    }
    CHECK_EQ(b->len, 10u);
    CHECK_EQ(b->statuses, 1);
    ledger_sync_tick(b->core, b_first + p.status_min_ms - 1); /* too soon after its first */
    CHECK_EQ(b->statuses, 1);
    now = b_first + p.status_min_ms;
    ledger_sync_tick(b->core, now);
    CHECK_EQ(b->statuses, 2);
    s_deliver(&w, now, false, -1);
    CHECK_EQ(ledger_sync_best_height(c->core, now), 10u); /* c learnt b's new head */
    CHECK_EQ(a->replies + b->replies + c->replies, 1);    /* b, level with a now: no answer */
    ledger_sync_tick(b->core, now + 250);                 /* announced: not again */
    CHECK_EQ(b->statuses, 2);
    /* c, behind both: each answers it */
    s_status(&w, 2, now + 300);
    CHECK_EQ(a->replies, 2);
    CHECK_EQ(b->replies, 1);
    s_world_free(&w);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    proto_log_set_level(LOG_LVL_ERROR);
    for (int i = 0; i < KEYS; i++) {
        uint8_t seed[32] = {0};
        seed[0] = (uint8_t)(0x51 + i);
        s_keys[i] = proto_key_from_seed(seed);
        if (!s_keys[i])
            return 1;
    }
    test_catch_up();
    test_lag();
    test_forged();
    test_unasked_and_timeout();
    test_authority_change();
    test_serve_bounds();
    test_malformed();
    test_status_news();
    for (int i = 0; i < KEYS; i++)
        proto_key_destroy(&s_keys[i]);
    return testutil_done("test_ledger_sync");
}

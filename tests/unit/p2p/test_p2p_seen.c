/*  test_p2p_seen: the dedup cache (add/has, duplicates, eviction of the oldest by count,
 *  expiry by age, a million adds through a 10,000-id cache, heavy hash collisions checked
 *  against a simple model) and the message cache (count, byte and age bounds, get after
 *  eviction, recent ids by topic). Also a usage example:
 *
 *      p2p_seen_t *seen = p2p_seen_new(10000, 120000);
 *      if (!p2p_seen_add(seen, msg_id, now_ms)) return; // duplicate: drop it
 *      p2p_mcache_put(mcache, msg_id, topic, bytes, len, now_ms); // for IWANT later
 *      size_t n = p2p_mcache_recent(mcache, topic, now_ms - 3000, now_ms, ids, 64); // IHAVE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_seen.h"
#include "proto/proto_key.h"
#include "testutil.h"

static uint64_t s_mix(uint64_t z)
{
    z += UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/*  The N-th test id: a hash-like first 8 bytes, N itself after them. */
static void s_id(uint8_t id[static 32], uint64_t n)
{
    memset(id, 0, 32);
    uint64_t h = s_mix(n);
    memcpy(id, &h, 8);
    memcpy(id + 8, &n, 8);
}

/*  An id whose hash (first 8 bytes) is one of only 5 values: long probe runs. */
static void s_colliding_id(uint8_t id[static 32], uint64_t n)
{
    memset(id, 0, 32);
    uint64_t h = (n % 5) * 3;
    memcpy(id, &h, 8);
    memcpy(id + 8, &n, 8);
}

static void test_seen_basic(void)
{
    uint8_t a[32], b[32];
    s_id(a, 1);
    s_id(b, 2);
    p2p_seen_t *s = p2p_seen_new(100, 1000);
    CHECK(s != NULL);
    CHECK(!p2p_seen_has(s, a, 0));
    CHECK(p2p_seen_add(s, a, 0));
    CHECK(p2p_seen_has(s, a, 0));
    CHECK(!p2p_seen_has(s, b, 0));
    CHECK(!p2p_seen_add(s, a, 10)); /* duplicate */
    CHECK_EQ(p2p_seen_count(s), 1u);
    CHECK(p2p_seen_add(s, b, 10));
    CHECK_EQ(p2p_seen_count(s), 2u);
    p2p_seen_destroy(&s);
    CHECK(s == NULL);
    p2p_seen_destroy(&s);
    p2p_seen_destroy(NULL);
    CHECK(p2p_seen_new(0, 1000) == NULL);
}

static void test_seen_count_bound(void)
{
    uint8_t id[32];
    p2p_seen_t *s = p2p_seen_new(4, 1000000);
    for (uint64_t i = 0; i < 6; i++) {
        s_id(id, i);
        CHECK(p2p_seen_add(s, id, 5));
        CHECK(p2p_seen_count(s) <= 4);
    }
    CHECK_EQ(p2p_seen_count(s), 4u);
    for (uint64_t i = 0; i < 6; i++) {
        s_id(id, i);
        CHECK_EQ(p2p_seen_has(s, id, 5), i >= 2);
    }
    /* a duplicate does not refresh or reorder: 2 is still the oldest */
    s_id(id, 2);
    CHECK(!p2p_seen_add(s, id, 6));
    s_id(id, 6);
    CHECK(p2p_seen_add(s, id, 6));
    s_id(id, 2);
    CHECK(!p2p_seen_has(s, id, 6));
    s_id(id, 3);
    CHECK(p2p_seen_has(s, id, 6));
    p2p_seen_destroy(&s);
}

static void test_seen_age(void)
{
    uint8_t a[32], b[32], c[32];
    s_id(a, 1);
    s_id(b, 2);
    s_id(c, 3);
    p2p_seen_t *s = p2p_seen_new(100, 100);
    CHECK(p2p_seen_add(s, a, 1000));
    CHECK(p2p_seen_add(s, b, 1050));
    CHECK(p2p_seen_has(s, a, 1099));
    CHECK(!p2p_seen_has(s, a, 1100)); /* TTL reached */
    CHECK(p2p_seen_has(s, b, 1100));
    CHECK(p2p_seen_has(s, a, 900));  /* a clock that went back counts as age 0 */
    CHECK(p2p_seen_add(s, a, 1120)); /* aged out, so new again */
    CHECK(p2p_seen_has(s, a, 1200));
    CHECK_EQ(p2p_seen_count(s), 2u);
    CHECK(p2p_seen_add(s, c, 1160)); /* b aged out and is dropped */
    CHECK_EQ(p2p_seen_count(s), 2u);
    CHECK(!p2p_seen_has(s, b, 1160));
    CHECK(p2p_seen_add(s, c, 5000)); /* everything aged out */
    CHECK_EQ(p2p_seen_count(s), 1u);
    p2p_seen_destroy(&s);

    /* a re-add after the clock ran backwards leaves a dead ring slot behind; dropping
     * that slot later must not unindex the live copy */
    s = p2p_seen_new(3, 100);
    uint8_t d[32], e[32];
    s_id(d, 4);
    s_id(e, 5);
    CHECK(p2p_seen_add(s, a, 1000));
    CHECK(p2p_seen_add(s, b, 500)); /* b sits behind a although it is "older" */
    CHECK(p2p_seen_add(s, b, 700)); /* found but aged: added again, old slot dead */
    CHECK_EQ(p2p_seen_count(s), 2u);
    CHECK(p2p_seen_add(s, d, 710)); /* ring full: a (the head) goes */
    CHECK(!p2p_seen_has(s, a, 710));
    CHECK_EQ(p2p_seen_count(s), 2u);
    CHECK(p2p_seen_add(s, e, 720)); /* the dead slot ages out of the head */
    CHECK_EQ(p2p_seen_count(s), 3u);
    CHECK(p2p_seen_has(s, b, 720));
    CHECK(p2p_seen_has(s, d, 720));
    CHECK(p2p_seen_has(s, e, 720));
    CHECK(!p2p_seen_add(s, b, 730));
    p2p_seen_destroy(&s);
}

static void test_seen_million(void)
{
    enum { CAP = 10000, ADDS = 1000000 };
    uint8_t id[32];
    p2p_seen_t *s = p2p_seen_new(CAP, UINT64_MAX);
    bool all_new = true, recent_ok = true, old_ok = true, count_ok = true;
    for (uint64_t i = 0; i < ADDS; i++) {
        s_id(id, i);
        all_new &= p2p_seen_add(s, id, i);
        count_ok &= p2p_seen_count(s) == (i + 1 < CAP ? i + 1 : CAP);
        if (i % 99991 == 0 || i == ADDS - 1) {
            uint64_t first = i + 1 >= CAP ? i + 1 - CAP : 0;
            for (uint64_t j = first; j <= i; j++) {
                s_id(id, j);
                recent_ok &= p2p_seen_has(s, id, i);
            }
            for (uint64_t j = first >= CAP ? first - CAP : 0; j < first; j++) {
                s_id(id, j);
                old_ok &= !p2p_seen_has(s, id, i);
            }
        }
    }
    CHECK(all_new);
    CHECK(count_ok);
    CHECK(recent_ok);
    CHECK(old_ok);
    /* the very first ids are long gone and can be added again */
    s_id(id, 0);
    CHECK(!p2p_seen_has(s, id, ADDS));
    CHECK(p2p_seen_add(s, id, ADDS));
    p2p_seen_destroy(&s);
}

/*  Colliding hashes, evictions by count and by age, checked step by step against a
 *  straightforward model (a queue in insertion order; times only move forward). */
static void test_seen_model(void)
{
    enum { CAP = 64, UNIVERSE = 300, OPS = 200000 };
    const uint64_t ttl = 500;
    uint64_t q_id[CAP] = {0}, q_at[CAP] = {0};
    size_t q_head = 0, q_n = 0;
    p2p_seen_t *s = p2p_seen_new(CAP, ttl);
    uint64_t rng = 1, now = 0;
    bool ok = true;
    uint8_t id[32];
    for (int op = 0; op < OPS; op++) {
        rng = s_mix(rng);
        now += rng % 7;
        uint64_t v = (rng >> 8) % UNIVERSE;
        s_colliding_id(id, v);
        /* model lookup */
        bool in_model = false;
        for (size_t k = 0; k < q_n; k++) {
            size_t p = (q_head + k) % CAP;
            if (q_id[p] == v && now - q_at[p] < ttl)
                in_model = true;
        }
        if ((rng >> 40) % 3 == 0) {
            ok &= p2p_seen_has(s, id, now) == in_model;
            continue;
        }
        while (q_n > 0 && now - q_at[q_head] >= ttl) {
            q_head = (q_head + 1) % CAP;
            q_n--;
        }
        bool fresh = !in_model;
        if (fresh) {
            if (q_n == CAP) {
                q_head = (q_head + 1) % CAP;
                q_n--;
            }
            q_id[(q_head + q_n) % CAP] = v;
            q_at[(q_head + q_n) % CAP] = now;
            q_n++;
        }
        ok &= p2p_seen_add(s, id, now) == fresh;
        ok &= p2p_seen_count(s) == q_n;
    }
    CHECK(ok);
    /* and every id of the universe answers like the model at the end */
    bool final_ok = true;
    for (uint64_t v = 0; v < UNIVERSE; v++) {
        bool in_model = false;
        for (size_t k = 0; k < q_n; k++) {
            size_t p = (q_head + k) % CAP;
            in_model |= q_id[p] == v && now - q_at[p] < ttl;
        }
        s_colliding_id(id, v);
        final_ok &= p2p_seen_has(s, id, now) == in_model;
    }
    CHECK(final_ok);
    p2p_seen_destroy(&s);
}

/* ---- mcache ---- */

static void s_fill(uint8_t *buf, size_t len, uint64_t n)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(n * 31 + i);
}

static bool s_has_msg(p2p_mcache_t *c, uint64_t n, size_t len, uint64_t now)
{
    uint8_t id[32], want[1024];
    size_t got_len = 0;
    s_id(id, n);
    const uint8_t *got = p2p_mcache_get(c, id, now, &got_len);
    s_fill(want, len, n);
    return got && got_len == len && memcmp(got, want, len) == 0;
}

static void test_mcache_basic(void)
{
    uint8_t id[32], data[1024];
    p2p_mcache_t *c = p2p_mcache_new(10, 10000, 1000);
    CHECK(c != NULL);
    s_id(id, 1);
    s_fill(data, 100, 1);
    CHECK_EQ(p2p_mcache_put(c, id, "blocks", data, 100, 0), 0);
    CHECK_EQ(p2p_mcache_count(c), 1u);
    CHECK_EQ(p2p_mcache_bytes(c), 100u);
    CHECK(s_has_msg(c, 1, 100, 10));
    data[0] ^= 0xFF; /* the cache holds its own copy */
    CHECK(s_has_msg(c, 1, 100, 10));
    CHECK_EQ(p2p_mcache_put(c, id, "blocks", data, 100, 20), 0); /* known id: no-op */
    CHECK_EQ(p2p_mcache_count(c), 1u);
    CHECK_EQ(p2p_mcache_bytes(c), 100u);
    s_id(id, 2);
    CHECK(p2p_mcache_get(c, id, 10, NULL) == NULL);
    CHECK_EQ(p2p_mcache_put(c, id, "blocks", NULL, 0, 20), 0); /* empty message */
    size_t len = 99;
    CHECK(p2p_mcache_get(c, id, 20, &len) != NULL);
    CHECK_EQ(len, 0u);
    CHECK_EQ(p2p_mcache_put(c, id, NULL, data, 1, 20), P2P_E_ARG);
    CHECK_EQ(p2p_mcache_put(c, id, "x", NULL, 1, 20), P2P_E_ARG);
    p2p_mcache_destroy(&c);
    CHECK(c == NULL);
    p2p_mcache_destroy(&c);
    p2p_mcache_destroy(NULL);
    CHECK(p2p_mcache_new(0, 100, 100) == NULL);
}

static void test_mcache_bounds(void)
{
    uint8_t id[32], data[1024];

    /* bytes: 300-byte messages under a 1000-byte budget keep the newest three */
    p2p_mcache_t *c = p2p_mcache_new(100, 1000, 1000000);
    bool bounded = true;
    for (uint64_t n = 0; n < 10; n++) {
        s_id(id, n);
        s_fill(data, 300, n);
        CHECK_EQ(p2p_mcache_put(c, id, "t", data, 300, n), 0);
        bounded &= p2p_mcache_bytes(c) <= 1000 && p2p_mcache_count(c) <= 3;
    }
    CHECK(bounded);
    CHECK_EQ(p2p_mcache_count(c), 3u);
    CHECK_EQ(p2p_mcache_bytes(c), 900u);
    for (uint64_t n = 0; n < 10; n++)
        CHECK_EQ(s_has_msg(c, n, 300, 10), n >= 7);
    s_id(id, 100);
    CHECK_EQ(p2p_mcache_put(c, id, "t", data, 1001, 10), P2P_E_TOO_BIG); /* too big */
    CHECK_EQ(p2p_mcache_count(c), 3u);
    s_fill(data, 1000, 100);
    CHECK_EQ(p2p_mcache_put(c, id, "t", data, 1000, 10), 0); /* exactly the budget */
    CHECK_EQ(p2p_mcache_count(c), 1u);
    CHECK_EQ(p2p_mcache_bytes(c), 1000u);
    CHECK(s_has_msg(c, 100, 1000, 10));
    CHECK(!s_has_msg(c, 9, 300, 10));
    p2p_mcache_destroy(&c);

    /* count */
    c = p2p_mcache_new(3, 1000000, 1000000);
    for (uint64_t n = 0; n < 5; n++) {
        s_id(id, n);
        s_fill(data, 10, n);
        CHECK_EQ(p2p_mcache_put(c, id, "t", data, 10, n), 0);
    }
    CHECK_EQ(p2p_mcache_count(c), 3u);
    CHECK_EQ(p2p_mcache_bytes(c), 30u);
    for (uint64_t n = 0; n < 5; n++)
        CHECK_EQ(s_has_msg(c, n, 10, 10), n >= 2);
    p2p_mcache_destroy(&c);

    /* age */
    c = p2p_mcache_new(10, 10000, 100);
    s_id(id, 1);
    s_fill(data, 50, 1);
    CHECK_EQ(p2p_mcache_put(c, id, "t", data, 50, 1000), 0);
    CHECK(s_has_msg(c, 1, 50, 1099));
    CHECK(!s_has_msg(c, 1, 50, 1100));
    s_id(id, 2);
    s_fill(data, 60, 2);
    CHECK_EQ(p2p_mcache_put(c, id, "t", data, 60, 1200), 0); /* drops the aged one */
    CHECK_EQ(p2p_mcache_count(c), 1u);
    CHECK_EQ(p2p_mcache_bytes(c), 60u);
    s_id(id, 1);
    s_fill(data, 40, 1);
    CHECK_EQ(p2p_mcache_put(c, id, "t", data, 40, 1250), 0); /* same id, new life */
    CHECK(s_has_msg(c, 1, 40, 1250));
    CHECK_EQ(p2p_mcache_bytes(c), 100u);
    p2p_mcache_destroy(&c);

    /* many random puts: the bounds always hold and the newest is always there */
    c = p2p_mcache_new(50, 5000, 400);
    uint64_t rng = 3, now = 0;
    bool ok = true;
    for (uint64_t k = 0; k < 20000; k++) {
        rng = s_mix(rng);
        now += rng % 5;
        uint64_t n = k % 7 == 0 ? (rng >> 8) % (k + 1) : k; /* some ids come back */
        size_t len = (size_t)((rng >> 20) % 600);
        s_id(id, n);
        s_fill(data, len, n);
        size_t before = 0;
        const uint8_t *old = p2p_mcache_get(c, id, now, &before);
        if (old)
            len = before; /* a known live id is a no-op: ids are content hashes */
        ok &= p2p_mcache_put(c, id, (n % 2) ? "odd" : "even", data, len, now) == 0;
        ok &= p2p_mcache_count(c) <= 50 && p2p_mcache_bytes(c) <= 5000;
        ok &= s_has_msg(c, n, len, now);
    }
    CHECK(ok);
    p2p_mcache_destroy(&c);
}

static void test_mcache_recent(void)
{
    uint8_t id[32], data[8] = {0};
    uint8_t ids[16][32];
    p2p_mcache_t *c = p2p_mcache_new(16, 100000, 1000);
    const char *topics[] = {"a", "b", "ab", "a"};
    for (uint64_t n = 0; n < 12; n++) {
        s_id(id, n);
        CHECK_EQ(p2p_mcache_put(c, id, topics[n % 4], data, sizeof data, 100 * n), 0);
    }
    /* topic "a": n = 0, 3, 4, 7, 8, 11 at times 0, 300, 400, 700, 800, 1100 */
    size_t got = p2p_mcache_recent(c, "a", 0, 1100, ids, 16);
    CHECK_EQ(got, 5u); /* n = 0 aged out at 1000 */
    const uint64_t want[] = {11, 8, 7, 4, 3};
    for (size_t i = 0; i < got && i < 5; i++) {
        s_id(id, want[i]);
        CHECK(memcmp(ids[i], id, 32) == 0);
    }
    CHECK_EQ(p2p_mcache_recent(c, "a", 700, 1100, ids, 16), 3u); /* at or after SINCE */
    CHECK_EQ(p2p_mcache_recent(c, "a", 0, 1100, ids, 2), 2u);
    s_id(id, 11);
    CHECK(memcmp(ids[0], id, 32) == 0);
    CHECK_EQ(p2p_mcache_recent(c, "ab", 0, 1100, ids, 16), 3u); /* exact match only */
    CHECK_EQ(p2p_mcache_recent(c, "b", 0, 1100, ids, 16), 2u);  /* n = 5, 9; 1 aged */
    CHECK_EQ(p2p_mcache_recent(c, "c", 0, 1100, ids, 16), 0u);
    CHECK_EQ(p2p_mcache_recent(c, "a", 0, 1100, ids, 0), 0u);
    p2p_mcache_destroy(&c);
}

/* Put numbers and p2p_mcache_after: a cursor walks every held message once, oldest first,
   across evictions by capacity and age and across a message put again. */
static void test_mcache_after(void)
{
    uint8_t id[32], data[8] = {0};
    p2p_mcache_ref_t refs[16];
    p2p_mcache_t *c = p2p_mcache_new(8, 100000, 1000);
    REQUIRE(c != NULL);
    CHECK_EQ(p2p_mcache_last_seq(c), 0u);
    CHECK_EQ(p2p_mcache_after(c, 0, 0, refs, 16), 0u);
    for (uint64_t n = 0; n < 5; n++) {
        s_id(id, n);
        CHECK_EQ(p2p_mcache_put(c, id, n % 2 ? "b" : "a", data, sizeof data, 10 * n), 0);
        CHECK_EQ(p2p_mcache_seq_of(c, id, 10 * n), n + 1);
    }
    CHECK_EQ(p2p_mcache_last_seq(c), 5u);
    CHECK_EQ(p2p_mcache_put(c, id, "a", data, sizeof data, 50), 0); /* held: not numbered */
    CHECK_EQ(p2p_mcache_last_seq(c), 5u);
    size_t got = p2p_mcache_after(c, 2, 50, refs, 16);
    CHECK_EQ(got, 3u);
    for (size_t i = 0; i < got; i++) {
        s_id(id, 2 + i);
        CHECK(memcmp(refs[i].id, id, 32) == 0);
        CHECK_EQ(refs[i].seq, 3 + i);
        CHECK(strcmp(refs[i].topic, i % 2 ? "b" : "a") == 0);
    }
    CHECK_EQ(p2p_mcache_after(c, 2, 50, refs, 2), 2u); /* at most MAX, the oldest */
    CHECK_EQ(refs[1].seq, 4u);
    CHECK_EQ(p2p_mcache_after(c, 5, 50, refs, 16), 0u);
    /* 6 more: capacity 8 evicts n = 0..2; a cursor behind the head starts at the head */
    for (uint64_t n = 5; n < 11; n++) {
        s_id(id, n);
        CHECK_EQ(p2p_mcache_put(c, id, "a", data, sizeof data, 100), 0);
    }
    got = p2p_mcache_after(c, 1, 100, refs, 16);
    CHECK_EQ(got, 8u);
    CHECK_EQ(refs[0].seq, 4u);
    CHECK_EQ(refs[7].seq, 11u);
    s_id(id, 0);
    CHECK_EQ(p2p_mcache_seq_of(c, id, 100), 0u); /* evicted */
    /* at 1040 the ones put at 30 and 40 (n = 3, 4) aged out; n = 3 is put again: a new
       number, at the end of the walk */
    s_id(id, 3);
    CHECK_EQ(p2p_mcache_put(c, id, "b", data, sizeof data, 1040), 0);
    CHECK_EQ(p2p_mcache_seq_of(c, id, 1040), 12u);
    got = p2p_mcache_after(c, 0, 1040, refs, 16);
    CHECK_EQ(got, 7u); /* n = 5..10, then 3 */
    CHECK_EQ(refs[0].seq, 6u);
    CHECK_EQ(refs[6].seq, 12u);
    CHECK(memcmp(refs[6].id, id, 32) == 0);
    p2p_mcache_destroy(&c);
}

int main(void)
{
    if (proto_crypto_init() != 0) {
        fprintf(stderr, "proto_crypto_init failed\n");
        return 1;
    }
    test_seen_basic();
    test_seen_count_bound();
    test_seen_age();
    test_seen_million();
    test_seen_model();
    test_mcache_basic();
    test_mcache_bounds();
    test_mcache_recent();
    test_mcache_after();
    return testutil_done("test_p2p_seen");
}

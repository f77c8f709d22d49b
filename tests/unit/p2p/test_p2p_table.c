/*  test_p2p_table: the k-bucket peer table. Bucket indices and XOR order on hand-made ids,
 *  put outcomes (ADDED/UPDATED/STALE/SELF/EXPIRED/FULL), eviction choice, bounds under
 *  10,000 random operations, closest against a brute-force sort, expiry, and the
 *  peers.dat save/load round trip with garbage and tampered input. Also a usage example:
 *
 *      p2p_table_t *t = p2p_table_new(my_id, 1024);
 *      if (p2p_record_verify(&rec)) p2p_table_put(t, &rec, now_ms);
 *      p2p_entry_t *near[20];
 *      size_t n = p2p_table_closest(t, target, now_ms, near, 20);
 *      p2p_table_destroy(&t);
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_table.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "testutil.h"

#define POOL 2000
#define FAR_FUTURE (UINT64_C(1) << 60)

static uint64_t s_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void s_rand_id(uint64_t *state, uint8_t id[static P2P_ID_LEN])
{
    for (size_t i = 0; i < P2P_ID_LEN; i += 8) {
        uint64_t v = s_rand(state);
        memcpy(id + i, &v, 8);
    }
}

/*  An unsigned record with id ID (put does not verify, so structure tests need no keys). */
static void s_crafted(p2p_record_t *rec, const uint8_t id[static P2P_ID_LEN], uint64_t seq,
                      uint64_t expiry_ms)
{
    memset(rec, 0, sizeof *rec);
    memcpy(rec->id, id, P2P_ID_LEN);
    snprintf(rec->endpoints[0], P2P_ENDPOINT_MAX, "tcp://127.0.0.1:%u", 1000u + id[31]);
    rec->n_endpoints = 1;
    rec->seq = seq;
    rec->expiry_ms = expiry_ms;
}

/*  A record signed by KEY. */
static void s_signed(p2p_record_t *rec, const proto_key_t *key, uint64_t seq, uint64_t expiry_ms)
{
    memset(rec, 0, sizeof *rec);
    snprintf(rec->endpoints[0], P2P_ENDPOINT_MAX, "tcp://10.0.0.1:%u", (unsigned)(seq % 60000) + 1);
    rec->n_endpoints = 1;
    snprintf(rec->rooms[0], P2P_ROOM_NAME_MAX, "room-%u", (unsigned)(seq % 7));
    rec->n_rooms = 1;
    rec->roles = 3;
    rec->seq = seq;
    rec->expiry_ms = expiry_ms;
    p2p_record_sign(rec, key);
}

static proto_key_t *s_key(uint32_t n)
{
    uint8_t seed[PROTO_SEED_LEN] = {0};
    memcpy(seed, &n, sizeof n);
    seed[31] = 0xA5;
    return proto_key_from_seed(seed);
}

static void test_bucket_and_xor(void)
{
    uint8_t self[P2P_ID_LEN] = {0}, id[P2P_ID_LEN] = {0};
    CHECK_EQ(p2p_bucket_index(self, id), -1);
    id[0] = 0x80;
    CHECK_EQ(p2p_bucket_index(self, id), 0);
    id[0] = 0x01;
    CHECK_EQ(p2p_bucket_index(self, id), 7);
    memset(id, 0, sizeof id);
    id[1] = 0x80;
    CHECK_EQ(p2p_bucket_index(self, id), 8);
    id[1] = 0x20;
    CHECK_EQ(p2p_bucket_index(self, id), 10);
    memset(id, 0, sizeof id);
    id[31] = 0x01;
    CHECK_EQ(p2p_bucket_index(self, id), 255);

    /* relative to a non-zero self */
    memset(self, 0xFF, sizeof self);
    memset(id, 0xFF, sizeof id);
    CHECK_EQ(p2p_bucket_index(self, id), -1);
    id[2] = 0xF7; /* differs in bit 4 of byte 2 */
    CHECK_EQ(p2p_bucket_index(self, id), 2 * 8 + 4);
    CHECK_EQ(p2p_bucket_index(id, self), 2 * 8 + 4);

    uint8_t t[P2P_ID_LEN] = {0}, a[P2P_ID_LEN] = {0}, b[P2P_ID_LEN] = {0};
    a[31] = 1;
    b[31] = 2;
    CHECK(p2p_xor_cmp(t, a, b) < 0);
    CHECK(p2p_xor_cmp(t, b, a) > 0);
    CHECK_EQ(p2p_xor_cmp(t, a, a), 0);
    t[31] = 2; /* now b is at distance 0, a at distance 3 */
    CHECK(p2p_xor_cmp(t, b, a) < 0);
    memset(t, 0, sizeof t);
    a[0] = 0x40; /* a = 0x40..01, b = 0x00..02 */
    t[0] = 0x40; /* distances: a -> 1, b -> 0x40..02 */
    CHECK(p2p_xor_cmp(t, a, b) < 0);
    t[0] = 0x80; /* distances: a -> 0xC0..01, b -> 0x80..02 */
    CHECK(p2p_xor_cmp(t, a, b) > 0);
}

static void test_put_results(void)
{
    uint8_t self[P2P_ID_LEN] = {0}, id[P2P_ID_LEN] = {0};
    self[0] = 0x11;
    p2p_table_t *t = p2p_table_new(self, 64);
    CHECK(t != NULL);
    p2p_record_t rec;

    s_crafted(&rec, self, 1, 5000);
    CHECK_EQ(p2p_table_put(t, &rec, 1000), P2P_TABLE_SELF);
    id[0] = 0x90;
    s_crafted(&rec, id, 1, 5000);
    CHECK_EQ(p2p_table_put(t, &rec, 5000), P2P_TABLE_EXPIRED);
    CHECK_EQ(p2p_table_put(t, &rec, 9000), P2P_TABLE_EXPIRED);
    CHECK_EQ(p2p_table_count(t), 0u);
    CHECK(p2p_table_get(t, id) == NULL);

    s_crafted(&rec, id, 5, 5000);
    CHECK_EQ(p2p_table_put(t, &rec, 1000), P2P_TABLE_ADDED);
    CHECK_EQ(p2p_table_count(t), 1u);
    p2p_entry_t *e = p2p_table_get(t, id);
    CHECK(e != NULL);
    if (!e)
        return;
    CHECK_EQ(e->rec.seq, 5u);
    CHECK_EQ(e->last_seen_ms, 0u);
    CHECK(!e->linked);
    CHECK(p2p_table_at(t, 0) == e);
    CHECK(p2p_table_at(t, 1) == NULL);

    e->last_seen_ms = 777;
    e->score = -4;
    e->banned_until_ms = 999;
    e->linked = true;
    e->dial_failures = 2;
    e->next_dial_ms = 1234;

    s_crafted(&rec, id, 5, 8000);
    CHECK_EQ(p2p_table_put(t, &rec, 1000), P2P_TABLE_STALE);
    s_crafted(&rec, id, 4, 8000);
    CHECK_EQ(p2p_table_put(t, &rec, 1000), P2P_TABLE_STALE);
    CHECK_EQ(p2p_table_get(t, id)->rec.expiry_ms, 5000u);

    s_crafted(&rec, id, 6, 8000);
    strcpy(rec.endpoints[0], "tcp://10.1.2.3:4444");
    CHECK_EQ(p2p_table_put(t, &rec, 1000), P2P_TABLE_UPDATED);
    CHECK_EQ(p2p_table_count(t), 1u);
    e = p2p_table_get(t, id);
    CHECK(e != NULL);
    if (!e)
        return;
    CHECK_EQ(e->rec.seq, 6u);
    CHECK_EQ(e->rec.expiry_ms, 8000u);
    CHECK(strcmp(e->rec.endpoints[0], "tcp://10.1.2.3:4444") == 0);
    CHECK_EQ(e->last_seen_ms, 777u);
    CHECK_EQ(e->score, -4);
    CHECK_EQ(e->banned_until_ms, 999u);
    CHECK(e->linked);
    CHECK_EQ(e->dial_failures, 2u);
    CHECK_EQ(e->next_dial_ms, 1234u);

    /* an expired record for a known id is refused before the seq comparison */
    s_crafted(&rec, id, 7, 900);
    CHECK_EQ(p2p_table_put(t, &rec, 1000), P2P_TABLE_EXPIRED);
    CHECK_EQ(p2p_table_get(t, id)->rec.seq, 6u);

    uint8_t other[P2P_ID_LEN] = {0};
    other[5] = 1;
    p2p_table_remove(t, other); /* unknown: no-op */
    CHECK_EQ(p2p_table_count(t), 1u);
    p2p_table_remove(t, id);
    CHECK_EQ(p2p_table_count(t), 0u);
    CHECK(p2p_table_get(t, id) == NULL);

    p2p_table_destroy(&t);
    CHECK(t == NULL);
    p2p_table_destroy(&t);
    p2p_table_destroy(NULL);
}

/*  Id in bucket 0 of a zero self (top bit set), numbered N. */
static void s_far_id(uint8_t id[static P2P_ID_LEN], uint8_t n)
{
    memset(id, 0, P2P_ID_LEN);
    id[0] = 0x80;
    id[31] = n;
}

static void test_eviction(void)
{
    uint8_t self[P2P_ID_LEN] = {0}, id[P2P_ID_LEN];
    p2p_record_t rec;
    p2p_table_t *t = p2p_table_new(self, 1000);
    CHECK(t != NULL);

    bool all_added = true;
    for (uint8_t i = 0; i < P2P_BUCKET_K; i++) {
        s_far_id(id, i);
        s_crafted(&rec, id, 1, FAR_FUTURE);
        all_added &= p2p_table_put(t, &rec, 10) == P2P_TABLE_ADDED;
        p2p_table_get(t, id)->last_seen_ms = 100 + i;
    }
    CHECK(all_added);
    CHECK_EQ(p2p_table_count(t), (size_t)P2P_BUCKET_K);
    s_far_id(id, 3);
    p2p_table_get(t, id)->last_seen_ms = 1; /* oldest, but linked */
    p2p_table_get(t, id)->linked = true;
    s_far_id(id, 5);
    p2p_table_get(t, id)->last_seen_ms = 2; /* oldest unlinked */

    s_far_id(id, 200);
    s_crafted(&rec, id, 1, FAR_FUTURE);
    CHECK_EQ(p2p_table_put(t, &rec, 10), P2P_TABLE_ADDED);
    CHECK_EQ(p2p_table_count(t), (size_t)P2P_BUCKET_K);
    CHECK(p2p_table_get(t, id) != NULL);
    s_far_id(id, 5);
    CHECK(p2p_table_get(t, id) == NULL);
    s_far_id(id, 3);
    CHECK(p2p_table_get(t, id) != NULL);

    /* next victim: the newcomer (never seen, last_seen 0) */
    s_far_id(id, 201);
    s_crafted(&rec, id, 1, FAR_FUTURE);
    CHECK_EQ(p2p_table_put(t, &rec, 10), P2P_TABLE_ADDED);
    s_far_id(id, 200);
    CHECK(p2p_table_get(t, id) == NULL);

    /* a bucket full of linked entries refuses newcomers */
    for (size_t i = 0; i < p2p_table_count(t); i++)
        p2p_table_at(t, i)->linked = true;
    s_far_id(id, 202);
    s_crafted(&rec, id, 1, FAR_FUTURE);
    CHECK_EQ(p2p_table_put(t, &rec, 10), P2P_TABLE_FULL);
    CHECK(p2p_table_get(t, id) == NULL);
    CHECK_EQ(p2p_table_count(t), (size_t)P2P_BUCKET_K);
    /* ... but another bucket still has room */
    memset(id, 0, sizeof id);
    id[0] = 0x40;
    s_crafted(&rec, id, 1, FAR_FUTURE);
    CHECK_EQ(p2p_table_put(t, &rec, 10), P2P_TABLE_ADDED);
    p2p_table_destroy(&t);

    /* ties on last_seen: the entry stored first goes first */
    t = p2p_table_new(self, 1000);
    for (uint8_t i = 0; i < P2P_BUCKET_K; i++) {
        s_far_id(id, i);
        s_crafted(&rec, id, 1, FAR_FUTURE);
        (void)p2p_table_put(t, &rec, 10);
    }
    s_far_id(id, 0);
    p2p_table_remove(t, id); /* shuffles slots */
    s_far_id(id, 100);
    s_crafted(&rec, id, 1, FAR_FUTURE);
    CHECK_EQ(p2p_table_put(t, &rec, 10), P2P_TABLE_ADDED);
    s_far_id(id, 101);
    s_crafted(&rec, id, 1, FAR_FUTURE);
    CHECK_EQ(p2p_table_put(t, &rec, 10), P2P_TABLE_ADDED);
    s_far_id(id, 1);
    CHECK(p2p_table_get(t, id) == NULL);
    s_far_id(id, 2);
    CHECK(p2p_table_get(t, id) != NULL);
    p2p_table_destroy(&t);

    /* a full table evicts from its fullest bucket, even for a newcomer to another bucket */
    t = p2p_table_new(self, 20);
    for (uint8_t i = 0; i < P2P_BUCKET_K; i++) {
        s_far_id(id, i);
        s_crafted(&rec, id, 1, FAR_FUTURE);
        (void)p2p_table_put(t, &rec, 10);
        p2p_table_get(t, id)->last_seen_ms = 100 + i;
    }
    for (uint8_t i = 0; i < 4; i++) {
        memset(id, 0, sizeof id);
        id[0] = 0x40;
        id[31] = i;
        s_crafted(&rec, id, 1, FAR_FUTURE);
        CHECK_EQ(p2p_table_put(t, &rec, 10), P2P_TABLE_ADDED);
    }
    CHECK_EQ(p2p_table_count(t), 20u);
    memset(id, 0, sizeof id);
    id[0] = 0x20;
    s_crafted(&rec, id, 1, FAR_FUTURE);
    CHECK_EQ(p2p_table_put(t, &rec, 10), P2P_TABLE_ADDED);
    CHECK_EQ(p2p_table_count(t), 20u);
    s_far_id(id, 0); /* bucket 0's oldest */
    CHECK(p2p_table_get(t, id) == NULL);
    /* all linked: a full table refuses */
    for (size_t i = 0; i < p2p_table_count(t); i++)
        p2p_table_at(t, i)->linked = true;
    memset(id, 0, sizeof id);
    id[0] = 0x10;
    s_crafted(&rec, id, 1, FAR_FUTURE);
    CHECK_EQ(p2p_table_put(t, &rec, 10), P2P_TABLE_FULL);
    CHECK_EQ(p2p_table_count(t), 20u);
    p2p_table_destroy(&t);

    /* capacity 0 stores nothing */
    t = p2p_table_new(self, 0);
    CHECK(t != NULL);
    s_far_id(id, 1);
    s_crafted(&rec, id, 1, FAR_FUTURE);
    CHECK_EQ(p2p_table_put(t, &rec, 10), P2P_TABLE_FULL);
    CHECK_EQ(p2p_table_count(t), 0u);
    p2p_table_destroy(&t);
}

/*  Checks the structural invariants of T; returns false on the first violation. */
static bool s_invariants(p2p_table_t *t, const uint8_t *self, size_t cap, bool deep)
{
    size_t n = p2p_table_count(t);
    if (n > cap)
        return false;
    unsigned per_bucket[256] = {0};
    for (size_t i = 0; i < n; i++) {
        p2p_entry_t *e = p2p_table_at(t, i);
        int b = p2p_bucket_index(self, e->rec.id);
        if (b < 0 || ++per_bucket[b] > P2P_BUCKET_K)
            return false;
        if (deep && p2p_table_get(t, e->rec.id) != e)
            return false; /* also catches duplicates */
    }
    return p2p_table_at(t, n) == NULL;
}

static void test_random_bounds(proto_key_t **keys)
{
    uint64_t rng = 42;
    uint8_t self[P2P_ID_LEN];
    s_rand_id(&rng, self);
    enum { TABLES = 3 };
    const size_t caps[TABLES] = {50, 120, 100000};
    p2p_table_t *t[TABLES];
    for (int k = 0; k < TABLES; k++)
        t[k] = p2p_table_new(self, caps[k]);
    uint64_t *seq = calloc(POOL, sizeof *seq);
    p2p_record_t rec;
    uint64_t now = 1000;
    bool ok = true, results_ok = true;
    size_t counts[6] = {0};
    size_t peak = 0;

    for (int op = 0; op < 10000; op++) {
        now += s_rand(&rng) % 50;
        uint64_t r = s_rand(&rng) % 100;
        size_t who = s_rand(&rng) % POOL;
        if (r < 80) {
            if (s_rand(&rng) % 4)
                seq[who]++; /* else a replay: STALE where stored */
            s_signed(&rec, keys[who], seq[who], now + 1 + s_rand(&rng) % 20000);
            for (int k = 0; k < TABLES; k++) {
                p2p_entry_t *before = p2p_table_get(t[k], rec.id);
                uint64_t before_seq = before ? before->rec.seq : 0;
                p2p_table_result_t res = p2p_table_put(t[k], &rec, now);
                counts[res]++;
                p2p_entry_t *after = p2p_table_get(t[k], rec.id);
                switch (res) {
                case P2P_TABLE_ADDED:
                    results_ok &= !before && after && after->rec.seq == seq[who];
                    break;
                case P2P_TABLE_UPDATED:
                    results_ok &= before && before_seq < seq[who] && after == before;
                    break;
                case P2P_TABLE_STALE:
                    results_ok &= before && before_seq >= seq[who] && after == before;
                    break;
                case P2P_TABLE_FULL:
                    results_ok &= !before && !after;
                    break;
                default:
                    results_ok = false;
                }
            }
        } else if (r < 85) {
            for (int k = 0; k < TABLES; k++) {
                p2p_table_remove(t[k], proto_key_public(keys[who]));
                results_ok &= p2p_table_get(t[k], proto_key_public(keys[who])) == NULL;
            }
        } else if (r < 95) {
            for (int k = 0; k < TABLES; k++) {
                size_t n = p2p_table_count(t[k]);
                if (n == 0)
                    continue;
                p2p_entry_t *e = p2p_table_at(t[k], s_rand(&rng) % n);
                if (r < 90)
                    e->linked = s_rand(&rng) % 10 != 0; /* mostly linking: FULL happens */
                else
                    e->last_seen_ms = now;
            }
        } else {
            for (int k = 0; k < TABLES; k++) {
                (void)p2p_table_expire(t[k], now);
                for (size_t i = 0; i < p2p_table_count(t[k]); i++) {
                    p2p_entry_t *e = p2p_table_at(t[k], i);
                    results_ok &= e->linked || e->rec.expiry_ms > now;
                }
            }
        }
        for (int k = 0; k < TABLES; k++) {
            ok &= s_invariants(t[k], self, caps[k], op % 50 == 0);
            if (p2p_table_count(t[k]) > peak)
                peak = p2p_table_count(t[k]);
        }
    }
    CHECK(ok);
    CHECK(results_ok);
    CHECK(counts[P2P_TABLE_ADDED] > 0);
    CHECK(counts[P2P_TABLE_UPDATED] > 0);
    CHECK(counts[P2P_TABLE_STALE] > 0);
    CHECK(counts[P2P_TABLE_FULL] > 0);
    CHECK_EQ(counts[P2P_TABLE_SELF] + counts[P2P_TABLE_EXPIRED], 0u);
    CHECK(peak > 50); /* the large table outgrew the small ones: they really were bounded */
    for (int k = 0; k < TABLES; k++)
        CHECK(s_invariants(t[k], self, caps[k], true));
    for (int k = 0; k < TABLES; k++)
        p2p_table_destroy(&t[k]);
    free(seq);
}

typedef struct {
    uint8_t dist[P2P_ID_LEN];
    p2p_entry_t *e;
} by_dist_t;

static int s_by_dist(const void *a, const void *b)
{
    return memcmp(((const by_dist_t *)a)->dist, ((const by_dist_t *)b)->dist, P2P_ID_LEN);
}

static void test_closest(void)
{
    uint64_t rng = 7;
    uint8_t self[P2P_ID_LEN], id[P2P_ID_LEN], target[P2P_ID_LEN];
    s_rand_id(&rng, self);
    p2p_table_t *t = p2p_table_new(self, 4096);
    p2p_record_t rec;
    uint64_t now = 5000;

    /* ids spread over all distances: flip bit P of self, randomize the bits after it */
    for (int i = 0; i < 3000; i++) {
        int p = (int)(s_rand(&rng) % 256);
        s_rand_id(&rng, id);
        for (int bit = 0; bit <= p; bit++) {
            uint8_t mask = (uint8_t)(0x80 >> (bit % 8));
            id[bit / 8] = (uint8_t)((id[bit / 8] & ~mask) | (self[bit / 8] & mask));
        }
        id[p / 8] ^= (uint8_t)(0x80 >> (p % 8));
        s_crafted(&rec, id, 1, FAR_FUTURE);
        (void)p2p_table_put(t, &rec, now);
    }
    size_t n = p2p_table_count(t);
    CHECK(n > 1000);
    size_t banned = 0;
    for (size_t i = 0; i < n; i++) {
        p2p_entry_t *e = p2p_table_at(t, i);
        if (s_rand(&rng) % 10 == 0) {
            e->banned_until_ms = now + 1 + s_rand(&rng) % 100; /* banned at NOW */
            banned++;
        } else if (s_rand(&rng) % 10 == 0) {
            e->banned_until_ms = now; /* ban over */
        }
    }

    by_dist_t *all = calloc(n, sizeof *all);
    p2p_entry_t *out[64];
    bool ok = true;
    for (int round = 0; round < 60; round++) {
        if (round % 3 == 0)
            s_rand_id(&rng, target);
        else /* a target near an existing entry */
            memcpy(target, p2p_table_at(t, s_rand(&rng) % n)->rec.id, P2P_ID_LEN);
        if (round % 5 == 0)
            target[31] ^= 1;
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            p2p_entry_t *e = p2p_table_at(t, i);
            if (e->banned_until_ms > now)
                continue;
            for (size_t j = 0; j < P2P_ID_LEN; j++)
                all[m].dist[j] = e->rec.id[j] ^ target[j];
            all[m++].e = e;
        }
        qsort(all, m, sizeof *all, s_by_dist);
        size_t want = 1 + s_rand(&rng) % 64;
        size_t got = p2p_table_closest(t, target, now, out, want);
        ok &= got == (want < m ? want : m);
        for (size_t i = 0; i < got; i++)
            ok &= out[i] == all[i].e;
    }
    CHECK(ok);
    CHECK_EQ(p2p_table_count(t), n); /* closest changed nothing */
    CHECK(banned > 0);
    CHECK_EQ(p2p_table_closest(t, target, now, out, 0), 0u);

    /* more room than entries: every unbanned entry, nearest first */
    p2p_table_t *small = p2p_table_new(self, 16);
    for (uint8_t i = 0; i < 5; i++) {
        memcpy(id, self, sizeof id);
        id[31] ^= (uint8_t)(i + 1);
        s_crafted(&rec, id, 1, FAR_FUTURE);
        (void)p2p_table_put(small, &rec, now);
    }
    memcpy(id, self, sizeof id);
    id[31] ^= 3;
    p2p_table_get(small, id)->banned_until_ms = now + 1;
    size_t got = p2p_table_closest(small, self, now, out, 64);
    CHECK_EQ(got, 4u);
    if (got == 4) {
        CHECK_EQ(out[0]->rec.id[31] ^ self[31], 1);
        CHECK_EQ(out[1]->rec.id[31] ^ self[31], 2);
        CHECK_EQ(out[2]->rec.id[31] ^ self[31], 4);
        CHECK_EQ(out[3]->rec.id[31] ^ self[31], 5);
    }
    CHECK_EQ(p2p_table_closest(small, self, now + 1, out, 64), 5u); /* ban over */
    p2p_table_destroy(&small);
    free(all);
    p2p_table_destroy(&t);
}

static void test_expire(void)
{
    uint8_t self[P2P_ID_LEN] = {0}, id[P2P_ID_LEN];
    p2p_record_t rec;
    p2p_table_t *t = p2p_table_new(self, 100);
    for (uint8_t i = 0; i < 10; i++) {
        s_far_id(id, i);
        s_crafted(&rec, id, 1, 100 + 100 * (i % 3)); /* 100, 200, 300 */
        CHECK_EQ(p2p_table_put(t, &rec, 0), P2P_TABLE_ADDED);
    }
    s_far_id(id, 0); /* expiry 100, linked: stays */
    p2p_table_get(t, id)->linked = true;
    CHECK_EQ(p2p_table_expire(t, 99), 0u);
    CHECK_EQ(p2p_table_expire(t, 100), 3u); /* 3, 6, 9 */
    CHECK_EQ(p2p_table_count(t), 7u);
    CHECK(p2p_table_get(t, id) != NULL);
    s_far_id(id, 3);
    CHECK(p2p_table_get(t, id) == NULL);
    CHECK_EQ(p2p_table_expire(t, 1000), 6u);
    CHECK_EQ(p2p_table_count(t), 1u);
    CHECK_EQ(p2p_table_expire(t, 1000), 0u);
    p2p_table_destroy(&t);
}

static void test_save_load(proto_key_t **keys)
{
    uint8_t self[P2P_ID_LEN] = {0};
    self[0] = 0x5A;
    p2p_table_t *t = p2p_table_new(self, 4096);
    p2p_record_t rec;
    const uint64_t now = 100000;
    size_t unexpired = 0;
    for (uint32_t i = 0; i < 200; i++) {
        uint64_t expiry = i % 10 == 0 ? now + 50 : now + 100000;
        s_signed(&rec, keys[i], 1 + i, expiry);
        (void)p2p_table_put(t, &rec, now); /* later ones may evict earlier ones */
    }
    size_t stored = p2p_table_count(t);
    for (size_t i = 0; i < stored; i++)
        if (p2p_table_at(t, i)->rec.expiry_ms > now + 50)
            unexpired++;
    CHECK(stored > 20);
    CHECK(unexpired < stored);

    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_EQ(p2p_table_save(t, now + 50, &buf, &len), 0); /* the i%10 ones expire here */
    CHECK(buf != NULL && len > 0);

    p2p_table_t *fresh = p2p_table_new(self, 4096);
    CHECK_EQ(p2p_table_load(fresh, buf, len, now + 50), (int)unexpired);
    CHECK_EQ(p2p_table_count(fresh), unexpired);
    bool same = true;
    for (size_t i = 0; i < p2p_table_count(t); i++) {
        p2p_entry_t *e = p2p_table_at(t, i);
        p2p_entry_t *f = p2p_table_get(fresh, e->rec.id);
        if (e->rec.expiry_ms > now + 50)
            same &= f && f->rec.seq == e->rec.seq && memcmp(f->rec.sig, e->rec.sig, 64) == 0 &&
                    strcmp(f->rec.endpoints[0], e->rec.endpoints[0]) == 0;
        else
            same &= f == NULL;
    }
    CHECK(same);
    /* loading again: everything is STALE, nothing counted */
    CHECK_EQ(p2p_table_load(fresh, buf, len, now + 50), 0);
    /* loading later: everything has expired */
    p2p_table_t *late = p2p_table_new(self, 4096);
    CHECK_EQ(p2p_table_load(late, buf, len, now + 200000), 0);
    CHECK_EQ(p2p_table_count(late), 0u);
    p2p_table_destroy(&late);

    /* broken buffers: -1 and nothing loaded */
    p2p_table_t *g = p2p_table_new(self, 4096);
    CHECK_EQ(p2p_table_load(g, buf, len - 1, now), P2P_E_PEER_LIST);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0xC0;
    CHECK_EQ(p2p_table_load(g, longer, len + 1, now), P2P_E_PEER_LIST);
    free(longer);
    CHECK_EQ(p2p_table_load(g, buf, 0, now), P2P_E_PEER_LIST);
    CHECK_EQ(p2p_table_load(g, NULL, 0, now), P2P_E_PEER_LIST);
    const uint8_t not_array[] = {0x07};
    CHECK_EQ(p2p_table_load(g, not_array, sizeof not_array, now), P2P_E_PEER_LIST);
    const uint8_t ints[] = {0x92, 0x01, 0x02};
    CHECK_EQ(p2p_table_load(g, ints, sizeof ints, now), P2P_E_PEER_LIST);
    const uint8_t huge[] = {0xDD, 0x00, 0x01, 0x00, 0x00}; /* array32 of 65536 */
    CHECK_EQ(p2p_table_load(g, huge, sizeof huge, now), P2P_E_PEER_LIST);
    uint64_t rng = 99;
    uint8_t noise[512];
    for (size_t i = 0; i < sizeof noise; i += 8) {
        uint64_t v = s_rand(&rng);
        memcpy(noise + i, &v, 8);
    }
    CHECK_EQ(p2p_table_load(g, noise, sizeof noise, now), P2P_E_PEER_LIST);
    /* a valid list followed by a broken record loads nothing */
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    s_signed(&rec, keys[0], 1, now + 1000);
    p2p_record_write(&w, &rec);
    proto_wr_uint(&w, 5);
    size_t blen;
    const uint8_t *bad = proto_wr_data(&w, &blen);
    CHECK_EQ(p2p_table_load(g, bad, blen, now), P2P_E_PEER_LIST);
    proto_wr_free(&w);
    CHECK_EQ(p2p_table_count(g), 0u);
    /* an empty list is a valid list */
    const uint8_t empty[] = {0x90};
    CHECK_EQ(p2p_table_load(g, empty, sizeof empty, now), 0);

    /* one tampered record is skipped, the others load; so is an expired one */
    p2p_record_t r1, r2, r3, r4;
    s_signed(&r1, keys[10], 3, now + 1000);
    s_signed(&r2, keys[11], 3, now + 1000);
    r2.roles ^= 1; /* breaks its signature, not its syntax */
    s_signed(&r3, keys[12], 3, now + 1000);
    s_signed(&r4, keys[13], 3, now - 1);
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    p2p_record_write(&w, &r1);
    p2p_record_write(&w, &r2);
    p2p_record_write(&w, &r3);
    p2p_record_write(&w, &r4);
    const uint8_t *list = proto_wr_data(&w, &blen);
    CHECK(list != NULL);
    CHECK_EQ(p2p_table_load(g, list, blen, now), 2);
    CHECK(p2p_table_get(g, r1.id) != NULL);
    CHECK(p2p_table_get(g, r2.id) == NULL);
    CHECK(p2p_table_get(g, r3.id) != NULL);
    CHECK(p2p_table_get(g, r4.id) == NULL);
    proto_wr_free(&w);

    /* saving an empty table gives an empty list */
    p2p_table_t *none = p2p_table_new(self, 8);
    uint8_t *ebuf = NULL;
    size_t elen = 0;
    CHECK_EQ(p2p_table_save(none, now, &ebuf, &elen), 0);
    CHECK(elen == 1 && ebuf && ebuf[0] == 0x90);
    free(ebuf);
    p2p_table_destroy(&none);

    free(buf);
    p2p_table_destroy(&g);
    p2p_table_destroy(&fresh);
    p2p_table_destroy(&t);
}

int main(void)
{
    if (proto_crypto_init() != 0) {
        fprintf(stderr, "proto_crypto_init failed\n");
        return 1;
    }
    proto_key_t **keys = calloc(POOL, sizeof *keys);
    bool keys_ok = keys != NULL;
    for (uint32_t i = 0; keys_ok && i < POOL; i++)
        keys_ok = (keys[i] = s_key(i)) != NULL;
    CHECK(keys_ok);

    test_bucket_and_xor();
    test_put_results();
    test_eviction();
    test_expire();
    test_closest();
    if (keys_ok) {
        test_random_bounds(keys);
        test_save_load(keys);
    }

    for (uint32_t i = 0; keys && i < POOL; i++)
        proto_key_destroy(&keys[i]);
    free(keys);
    return testutil_done("test_p2p_table");
}

/*  test_p2p_batch: p2p_core_on_messages (a wakeup's messages, gossip signatures checked
 *  together) has the outcome of one p2p_core_on_message call per message, but for the
 *  forwards it saves: a message is not forwarded to a link that sent it later in the
 *  same batch.
 *
 *  Two cores with the same key, seed and links are fed the same messages, one by one and
 *  as one batch; what they deliver (kind and payload, in order), their hang-ups and their
 *  counters must be equal; what the batch sends (peer and bytes) must be what the
 *  one-by-one core sends, in the same order, less only sends of a message to a link that
 *  sent us those very bytes in the batch (msgs_out and bytes_out less by exactly those).
 *  Checks:
 *    mixed      a seeded random stream of 600 messages (more than one batch slice) from
 *               two linked relays: new gossip from four origins, copies of earlier ones
 *               (also inside the batch), stale ones, and from the second relay (which is
 *               banned on the way) forged signatures and garbage bytes; most of the new
 *               gossip is delivered, once; some forwards are saved.
 *    ban        a relay that passes five forged messages inside one batch is banned after
 *               the fifth, so the valid message it sends after them is dropped, as it is
 *               one by one; the one it sent before them is delivered.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_core.h"
#include "p2p/p2p_msg.h"
#include "proto/proto_envelope.h"
#include "proto/proto_msgtype.h"
#include "p2p_core_testutil.h"
#include "testutil.h"

#define T0 1700000000000ull
#define N_ORIGINS 4
#define N_MIXED 600
#define KIND (P2P_KIND_USER_MIN + 3u)

/* One send: the peer, the hash of the bytes and their length. */
typedef struct {
    uint8_t peer[32], h[32];
    size_t len;
} t_sent_t;

typedef struct {
    crypto_generichash_state delivered;
    t_sent_t *sent; /* every send, in order (malloc'd) */
    size_t n_delivered, n_sent, cap_sent, hangups;
} t_io_t;

static bool t_send(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len)
{
    t_io_t *io = ctx;
    if (io->n_sent == io->cap_sent) {
        size_t cap = io->cap_sent ? 2 * io->cap_sent : 256;
        t_sent_t *grown = realloc(io->sent, cap * sizeof *grown);
        REQUIRE(grown != NULL);
        io->sent = grown;
        io->cap_sent = cap;
    }
    t_sent_t *s = &io->sent[io->n_sent++];
    memcpy(s->peer, peer, 32);
    crypto_generichash(s->h, 32, data, len, NULL, 0);
    s->len = len;
    return true;
}

static void t_hangup(void *ctx, const uint8_t peer[static 32])
{
    t_io_t *io = ctx;
    io->hangups++;
    (void)peer;
}

static void t_deliver(void *ctx, const char *topic, uint32_t kind, const uint8_t origin[static 32],
                      const uint8_t *data, size_t len, uint64_t time_ms)
{
    t_io_t *io = ctx;
    uint8_t k[4] = {(uint8_t)kind, (uint8_t)(kind >> 8), (uint8_t)(kind >> 16),
                    (uint8_t)(kind >> 24)};
    crypto_generichash_update(&io->delivered, k, sizeof k);
    crypto_generichash_update(&io->delivered, origin, 32);
    crypto_generichash_update(&io->delivered, data, len);
    io->n_delivered++;
    (void)topic;
    (void)time_ms;
}

static p2p_core_t *t_core(const proto_key_t *key, t_io_t *io)
{
    memset(io, 0, sizeof *io);
    crypto_generichash_init(&io->delivered, NULL, 0, 32);
    p2p_core_config_t cfg;
    p2p_testutil_config(&cfg, key, 0x42, 7);
    p2p_io_t tio = {.ctx = io,
                    .send = t_send,
                    .dial = p2p_testutil_dial_none,
                    .hangup = t_hangup,
                    .on_deliver = t_deliver};
    return p2p_core_new(&cfg, &tio, T0);
}

/* A node-wide gossip message of KIND from ORIGIN, signed at TIME_MS. */
static uint8_t *t_gossip(const proto_key_t *origin, uint64_t seq, uint64_t time_ms, size_t *len)
{
    char text[64];
    int n = snprintf(text, sizeof text, "message %llu", (unsigned long long)seq);
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_gossip(&w, "", KIND, (const uint8_t *)text, (size_t)n);
    return p2p_testutil_seal(origin, PROTO_MSG_GOSSIP, &w, seq, time_ms, len);
}

/* One message of a stream: its bytes (owned) and the link peer it arrives from. */
typedef struct {
    uint8_t *data;
    size_t len;
    const uint8_t *peer;
    bool bad; /* garbage, stale or forged: only relay 1 sends (copies of) these */
} t_msg_t;

/* Feeds MSGS to a fresh core one by one or as one batch and returns its digests. */
static void t_run(const proto_key_t *self, const proto_key_t *const relays[2], const t_msg_t *msgs,
                  size_t n, bool batch, uint8_t delivered[32], p2p_stats_t *st, t_io_t *io)
{
    p2p_core_t *c = t_core(self, io);
    REQUIRE(c != NULL);
    for (int r = 0; r < 2; r++)
        REQUIRE(p2p_testutil_link(c, relays[r], 0x42, NULL, T0));
    const uint64_t now = T0 + 1000;
    if (batch) {
        p2p_inmsg_t *in = calloc(n ? n : 1, sizeof *in);
        REQUIRE(in != NULL);
        for (size_t i = 0; i < n; i++)
            in[i] = (p2p_inmsg_t){.peer = msgs[i].peer, .data = msgs[i].data, .len = msgs[i].len};
        p2p_core_on_messages(c, in, n, now);
        free(in);
    } else {
        for (size_t i = 0; i < n; i++)
            p2p_core_on_message(c, msgs[i].peer, msgs[i].data, msgs[i].len, now);
    }
    p2p_core_stats(c, st);
    crypto_generichash_final(&io->delivered, delivered, 32);
    p2p_core_destroy(&c);
}

static bool t_same_send(const t_sent_t *x, const t_sent_t *y)
{
    return x->len == y->len && memcmp(x->peer, y->peer, 32) == 0 && memcmp(x->h, y->h, 32) == 0;
}

/* True if S's peer sent S's bytes to us in MSGS[0..N). */
static bool t_sent_to_us(const t_msg_t *msgs, size_t n, const t_sent_t *s)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t h[32];
        if (msgs[i].len != s->len || memcmp(msgs[i].peer, s->peer, 32) != 0)
            continue;
        crypto_generichash(h, 32, msgs[i].data, msgs[i].len, NULL, 0);
        if (memcmp(h, s->h, 32) == 0)
            return true;
    }
    return false;
}

/* Runs MSGS both ways and checks the outcomes are equal (the batch's sends: those of one
   by one less forwards back to a link that sent the message); the batch run's io in *OUT
   (its send log freed), the sends it saved in *SAVED. */
static void t_compare(const proto_key_t *self, const proto_key_t *const relays[2],
                      const t_msg_t *msgs, size_t n, t_io_t *out, p2p_stats_t *st_out,
                      size_t *saved)
{
    uint8_t d1[32], d2[32];
    p2p_stats_t a, b;
    t_io_t io1;
    t_run(self, relays, msgs, n, false, d1, &a, &io1);
    t_run(self, relays, msgs, n, true, d2, &b, out);
    CHECK_EQ(io1.n_delivered, out->n_delivered);
    CHECK(memcmp(d1, d2, 32) == 0);
    size_t j = 0, missing = 0, missing_bytes = 0;
    for (size_t i = 0; i < io1.n_sent; i++) {
        if (j < out->n_sent && t_same_send(&io1.sent[i], &out->sent[j])) {
            j++;
            continue;
        }
        CHECK(t_sent_to_us(msgs, n, &io1.sent[i])); /* only a forward back is saved */
        missing++;
        missing_bytes += io1.sent[i].len;
    }
    CHECK_EQ(j, out->n_sent); /* every send of the batch, in the same order */
    CHECK_EQ(io1.n_sent, out->n_sent + missing);
    *saved = missing;
    free(io1.sent);
    free(out->sent);
    out->sent = NULL;
    CHECK_EQ(io1.hangups, out->hangups);
    CHECK_EQ(a.msgs_in, b.msgs_in);
    CHECK_EQ(a.msgs_out, b.msgs_out + missing);
    CHECK_EQ(a.bytes_out, b.bytes_out + missing_bytes);
    CHECK_EQ(a.dup_dropped, b.dup_dropped);
    CHECK_EQ(a.bad_sig, b.bad_sig);
    CHECK_EQ(a.malformed, b.malformed);
    CHECK_EQ(a.stale, b.stale);
    CHECK_EQ(a.delivered, b.delivered);
    CHECK_EQ(a.banned, b.banned);
    CHECK_EQ(a.rate_limited, b.rate_limited);
    *st_out = b;
}

static uint64_t t_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_mixed(uint64_t seed, const proto_key_t *self, const proto_key_t *const relays[2],
                       proto_key_t *const origins[N_ORIGINS])
{
    uint64_t rng = seed * 2 + 1; /* xorshift: never zero */
    t_msg_t *msgs = calloc(N_MIXED, sizeof *msgs);
    REQUIRE(msgs != NULL);
    size_t fresh = 0, forged = 0;
    for (size_t i = 0; i < N_MIXED; i++) {
        t_msg_t *m = &msgs[i];
        unsigned roll = (unsigned)(t_rand(&rng) % 100);
        /* Relay 1 sends the bad messages and is closed or banned for them sooner or later:
           the first forged one comes first, garbage only in the second half. */
        if (i == 1)
            roll = 27;
        else if (roll >= 20 && roll < 23 && i < N_MIXED / 2)
            roll = 50;
        m->peer = proto_key_public(relays[t_rand(&rng) % 2]);
        const proto_key_t *o = origins[t_rand(&rng) % N_ORIGINS];
        if (roll < 20 && i > 0) { /* a copy of an earlier message, often from the other relay */
            const t_msg_t *old = &msgs[t_rand(&rng) % i];
            m->data = malloc(old->len ? old->len : 1);
            REQUIRE(m->data != NULL);
            memcpy(m->data, old->data, old->len);
            m->len = old->len;
            m->bad = old->bad;
            if (m->bad) /* relay 0 must stay unbanned, so that fresh gossip gets through */
                m->peer = proto_key_public(relays[1]);
            continue;
        }
        if (roll < 23) { /* garbage, from relay 1 only (it may be banned; relay 0 not) */
            m->peer = proto_key_public(relays[1]);
            m->bad = true;
            m->len = 1 + (size_t)(t_rand(&rng) % 64);
            m->data = malloc(m->len);
            REQUIRE(m->data != NULL);
            for (size_t k = 0; k < m->len; k++)
                m->data[k] = (uint8_t)t_rand(&rng);
            continue;
        }
        uint64_t when = roll < 26 ? T0 + 1000 - 200000 : T0 + 1000 - (t_rand(&rng) % 5000);
        m->data = t_gossip(o, 1000 + i, when, &m->len);
        REQUIRE(m->data != NULL);
        if (roll < 26) { /* stale: costs its sender points */
            m->peer = proto_key_public(relays[1]);
            m->bad = true;
        }
        if (roll >= 26 && roll < 29) { /* a forged signature (one bit flipped), relay 1 */
            m->peer = proto_key_public(relays[1]);
            m->bad = true;
            m->data[m->len - 1 - (size_t)(t_rand(&rng) % 64)] ^=
                (uint8_t)(1u << (t_rand(&rng) % 8));
            forged++;
        } else if (roll >= 29) {
            fresh++;
        }
    }
    t_io_t io;
    p2p_stats_t st;
    size_t saved;
    t_compare(self, relays, msgs, N_MIXED, &io, &st, &saved);
    printf("mixed: %zu messages, %zu fresh, %zu forged; delivered %zu, dups %llu, bad_sig %llu, "
           "malformed %llu, banned %llu; forwards saved %zu\n",
           (size_t)N_MIXED, fresh, forged, io.n_delivered, (unsigned long long)st.dup_dropped,
           (unsigned long long)st.bad_sig, (unsigned long long)st.malformed,
           (unsigned long long)st.banned, saved);
    CHECK(saved > 0);                    /* copies from the other relay inside a batch slice */
    CHECK(io.n_delivered > N_MIXED / 3); /* most fresh gossip got through, once */
    CHECK(io.n_delivered <= fresh);
    CHECK(st.dup_dropped > 0);
    CHECK(st.bad_sig > 0);
    for (size_t i = 0; i < N_MIXED; i++)
        free(msgs[i].data);
    free(msgs);
}

static void test_ban(const proto_key_t *self, const proto_key_t *const relays[2],
                     proto_key_t *const origins[N_ORIGINS])
{
    t_msg_t msgs[7];
    memset(msgs, 0, sizeof msgs);
    for (size_t i = 0; i < 7; i++) {
        msgs[i].peer = proto_key_public(relays[0]);
        msgs[i].data = t_gossip(origins[i % N_ORIGINS], 50 + i, T0 + 900, &msgs[i].len);
        REQUIRE(msgs[i].data != NULL);
        if (i >= 1 && i <= 5)
            msgs[i].data[msgs[i].len - 10] ^= 0x01; /* inside the signature's s half */
    }
    t_io_t io;
    p2p_stats_t st;
    size_t saved;
    t_compare(self, relays, msgs, 7, &io, &st, &saved);
    CHECK_EQ(saved, 0u); /* one relay: nothing goes back to it anyway */
    CHECK_EQ(io.n_delivered, 1u);
    CHECK_EQ(st.bad_sig, 5u);
    CHECK_EQ(st.banned, 1u);
    CHECK_EQ(st.delivered, 1u);
    for (size_t i = 0; i < 7; i++)
        free(msgs[i].data);
}

/* Key number I of this run, derived from the run's seed (so the seed replays everything). */
static proto_key_t *t_key(uint64_t seed, uint8_t i)
{
    uint8_t s[PROTO_SEED_LEN] = {0};
    memcpy(s, &seed, sizeof seed);
    s[PROTO_SEED_LEN - 1] = i;
    return proto_key_from_seed(s);
}

int main(void)
{
    if (proto_crypto_init() != 0) {
        fprintf(stderr, "cannot initialise libsodium\n");
        return 1;
    }
    uint64_t seed = testutil_seed("test_p2p_batch");
    proto_key_t *self = t_key(seed, 0), *relay0 = t_key(seed, 1), *relay1 = t_key(seed, 2);
    proto_key_t *origins[N_ORIGINS] = {0};
    REQUIRE(self && relay0 && relay1);
    for (int i = 0; i < N_ORIGINS; i++) {
        origins[i] = t_key(seed, (uint8_t)(3 + i));
        REQUIRE(origins[i] != NULL);
    }
    const proto_key_t *const relays[2] = {relay0, relay1};
    test_mixed(seed, self, relays, origins);
    test_ban(self, relays, origins);
    for (int i = 0; i < N_ORIGINS; i++)
        proto_key_destroy(&origins[i]);
    proto_key_destroy(&relay0);
    proto_key_destroy(&relay1);
    proto_key_destroy(&self);
    return testutil_done("test_p2p_batch");
}

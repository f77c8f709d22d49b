/*  test_p2p_core: the core's refusals, as an operator and a misbehaving peer see them.
 *
 *  A p2p core is driven directly (no sockets): a hand-made peer (its own key, signed
 *  envelopes) sends it frames, and the core's io callbacks record what it sends, dials
 *  and hangs up. Checks:
 *    oversized   frames above PROTO_ENVELOPE_MAX cost the sender 20 points each, counted
 *                in oversized and malformed: a peer that sends nothing else is banned on
 *                the fifth (score -100), its CURVE key is refused from then on, and the
 *                ban is logged at WARN.
 *    log limits  two cores in one process (as in the simulation) each log a peer on the
 *                wrong chain at WARN: one core's rate limit does not silence the other's;
 *                within one core a second line inside a second is suppressed, and the
 *                next line after the quiet second says how many were.
 *    unicast     a unicast of kind TEXT from the linked peer is delivered once with its
 *                kind and acknowledged, the ack waiting for the transport's flush or the
 *                tick; one of a reserved kind (< 16) is refused.
 *    ihave       a broadcast the transport took for both links is not advertised again in
 *                the per-second IHAVE (a network at rest sends none), but is in the
 *                whole-cache IHAVE every 10 s; one the transport dropped is advertised in
 *                the next per-second IHAVEs until the transport takes one, then no more
 *                but in the whole-cache IHAVE.
 *    late record a peer's HELLO that carries an older record than the one that came round
 *                by gossip first (the room it joined in between) does not hide the room:
 *                the core's next post in that room goes to the peer.
 *    link auth   a direct message with a bad signature from the link peer is refused, unless
 *                the transport authenticates links (link_auth: the node's CURVE links);
 *                gossip with a bad signature is refused either way.
 *  Logging goes to a temporary file read back by the test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_core.h"
#include "p2p/p2p_msg.h"
#include "proto/proto_envelope.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"
#include "p2p_core_testutil.h"
#include "testutil.h"

#define T0 1700000000000ull

typedef struct {
    size_t sent, hangups, unicasts;
    size_t ihaves;     /* IHAVE envelopes sent naming the id WATCH */
    uint8_t watch[32]; /* a gossip message id (the first GOSSIP sent) */
    bool have_watch;
    bool arm;    /* the next GOSSIP sent is the one to watch */
    bool refuse; /* the transport drops every send at once */
    uint32_t last_kind;
    size_t last_len;
    uint32_t sent_types[64];
    uint8_t to[32];   /* a peer whose GOSSIP envelopes are counted */
    size_t gossip_to; /* GOSSIP envelopes sent to TO */
} t_io_t;

static bool t_send(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len)
{
    t_io_t *io = ctx;
    proto_envelope_t env;
    bool decoded = proto_envelope_decode(data, len, &env) == PROTO_OK;
    if (io->sent < 64 && decoded)
        io->sent_types[io->sent] = env.type;
    if (decoded && env.type == PROTO_MSG_GOSSIP && io->arm && !io->have_watch) {
        proto_envelope_id(data, len, io->watch);
        io->have_watch = true;
    }
    p2p_ids_msg_t *m = decoded && env.type == PROTO_MSG_IHAVE && io->have_watch
                           ? malloc(sizeof *m) /* large: not on the stack */
                           : NULL;
    if (m && p2p_msg_read_ids(env.body, env.body_len, m) == 0)
        for (size_t i = 0; i < m->n_ids; i++)
            if (memcmp(m->ids[i], io->watch, 32) == 0)
                io->ihaves++;
    free(m);
    io->sent++;
    if (decoded && env.type == PROTO_MSG_GOSSIP && memcmp(peer, io->to, 32) == 0)
        io->gossip_to++;
    return !io->refuse;
}

static void t_hangup(void *ctx, const uint8_t peer[static 32])
{
    t_io_t *io = ctx;
    io->hangups++;
    (void)peer;
}

static void t_unicast(void *ctx, const uint8_t from[static 32], uint32_t kind, const uint8_t *data,
                      size_t len)
{
    t_io_t *io = ctx;
    io->unicasts++;
    io->last_kind = kind;
    io->last_len = len;
    (void)from;
    (void)data;
}

static p2p_core_t *t_core(const proto_key_t *key, uint8_t chain_byte, t_io_t *io)
{
    p2p_core_config_t cfg;
    p2p_testutil_config(&cfg, key, chain_byte, 1);
    p2p_io_t tio = {.ctx = io,
                    .send = t_send,
                    .dial = p2p_testutil_dial_none,
                    .hangup = t_hangup,
                    .on_unicast = t_unicast};
    return p2p_core_new(&cfg, &tio, T0);
}

static void t_feed(p2p_core_t *c, const proto_key_t *from, const uint8_t *msg, size_t len,
                   uint64_t now)
{
    CHECK(msg != NULL);
    if (msg)
        p2p_core_on_message(c, proto_key_public(from), msg, len, now);
}

/* Lines of the log file PATH containing NEEDLE. */
static int t_count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static void test_oversized(const char *log_path)
{
    t_io_t io = {0};
    proto_key_t *key = proto_key_generate(), *evil = proto_key_generate();
    CHECK(key && evil);
    p2p_core_t *c = key && evil ? t_core(key, 0x42, &io) : NULL;
    CHECK(c != NULL);
    if (!c) {
        proto_key_destroy(&key);
        proto_key_destroy(&evil);
        return;
    }
    CHECK(p2p_testutil_link(c, evil, 0x42, NULL, T0));
    CHECK_EQ(p2p_core_link_count(c), 1u);

    size_t big_len = PROTO_ENVELOPE_MAX + 1;
    uint8_t *big = calloc(1, big_len);
    CHECK(big != NULL);
    p2p_stats_t st;
    for (int i = 1; big && i <= 5; i++) {
        p2p_core_on_message(c, proto_key_public(evil), big, big_len, T0 + (uint64_t)i);
        p2p_core_stats(c, &st);
        CHECK_EQ(st.oversized, (uint64_t)i);
        CHECK_EQ(st.malformed, (uint64_t)i);
        CHECK_EQ(st.banned, i == 5 ? 1u : 0u); /* 20 points each, banned at -100 */
    }
    free(big);
    CHECK_EQ(p2p_core_link_count(c), 0u);
    uint8_t curve[32];
    CHECK(proto_key_curve_public(proto_key_public(evil), curve) == 0);
    CHECK(p2p_core_curve_banned(c, curve, T0 + 10));
    /* Exactly at the envelope maximum is not oversized (it fails later as garbage). */
    p2p_core_stats(c, &st);
    CHECK_EQ(st.bad_sig, 0u);
    CHECK_EQ(t_count_lines(log_path, "WARN  NET     banning peer"), 1);

    p2p_core_destroy(&c);
    proto_key_destroy(&key);
    proto_key_destroy(&evil);
}

static void test_log_limits(const char *log_path)
{
    t_io_t io_a = {0}, io_b = {0};
    proto_key_t *ka = proto_key_generate(), *kb = proto_key_generate();
    proto_key_t *stranger = proto_key_generate();
    CHECK(ka && kb && stranger);
    p2p_core_t *a = ka ? t_core(ka, 0x42, &io_a) : NULL;
    p2p_core_t *b = kb ? t_core(kb, 0x42, &io_b) : NULL;
    CHECK(a && b);
    if (!a || !b || !stranger)
        goto out;
    const char *needle = "is on chain 4343434343434343, we are on 4242424242424242";
    int before = t_count_lines(log_path, needle);
    CHECK_EQ(before, 0);
    size_t len;
    uint64_t now = T0 + 100;
    uint8_t *wrong = p2p_testutil_hello(stranger, 0x43, NULL, now, &len);
    /* Same instant, two cores: each logs its own line. */
    t_feed(a, stranger, wrong, len, now);
    t_feed(b, stranger, wrong, len, now);
    CHECK_EQ(t_count_lines(log_path, needle), 2);
    CHECK_EQ(t_count_lines(log_path, "WARN  NET     peer"), 2);
    /* Again within the second on A: suppressed (the HELLO is a duplicate by hash, so
       send a fresh one). */
    free(wrong);
    wrong = p2p_testutil_hello(stranger, 0x43, NULL, now + 500, &len);
    t_feed(a, stranger, wrong, len, now + 500);
    CHECK_EQ(t_count_lines(log_path, needle), 2);
    free(wrong);
    /* After the quiet second: logged, with the count of what was suppressed. */
    wrong = p2p_testutil_hello(stranger, 0x43, NULL, now + 1500, &len);
    t_feed(a, stranger, wrong, len, now + 1500);
    CHECK_EQ(t_count_lines(log_path, needle), 3);
    CHECK_EQ(t_count_lines(log_path, "(1 more suppressed)"), 1);
    free(wrong);
    p2p_stats_t st;
    p2p_core_stats(a, &st);
    CHECK_EQ(st.wrong_chain, 3u);
    p2p_core_stats(b, &st);
    CHECK_EQ(st.wrong_chain, 1u);
out:
    p2p_core_destroy(&a);
    p2p_core_destroy(&b);
    proto_key_destroy(&ka);
    proto_key_destroy(&kb);
    proto_key_destroy(&stranger);
}

static uint8_t *t_unicast_msg(const proto_key_t *from, const uint8_t dest[static 32], uint32_t kind,
                              uint64_t msg_id, uint64_t now, size_t *len)
{
    static const uint8_t text[] = "hello";
    p2p_unicast_t u = {.msg_id = msg_id, .kind = kind, .payload = text, .payload_len = 5};
    memcpy(u.dest, dest, 32);
    proto_wr_t w;
    proto_wr_init(&w);
    /* the writer does not check the kind: a hostile peer can send any */
    p2p_msg_write_unicast(&w, &u);
    return p2p_testutil_seal(from, PROTO_MSG_UNICAST, &w, now, now, len);
}

static void test_unicast_kind(void)
{
    t_io_t io = {0};
    proto_key_t *key = proto_key_generate(), *peer = proto_key_generate();
    p2p_core_t *c = key && peer ? t_core(key, 0x42, &io) : NULL;
    CHECK(c != NULL);
    if (!c)
        goto out;
    size_t len;
    CHECK(p2p_testutil_link(c, peer, 0x42, NULL, T0));
    size_t sent0 = io.sent;
    uint8_t *m = t_unicast_msg(peer, proto_key_public(key), PROTO_MSG_TEXT, 7, T0 + 1, &len);
    t_feed(c, peer, m, len, T0 + 1);
    free(m);
    CHECK_EQ(io.unicasts, 1u);
    CHECK_EQ(io.last_kind, (uint32_t)PROTO_MSG_TEXT);
    CHECK_EQ(io.last_len, 5u);
    /* delivered at once; its ack waits for the transport's flush (after the answer) */
    CHECK_EQ(io.sent, sent0);
    CHECK_EQ(p2p_core_acks_pending(c), 1u);
    p2p_core_flush_acks(c, T0 + 1);
    CHECK_EQ(p2p_core_acks_pending(c), 0u);
    CHECK_EQ(io.sent, sent0 + 1);
    CHECK(io.sent <= 64 && io.sent_types[io.sent - 1] == PROTO_MSG_ACK);
    /* The same message id again (a retry): acknowledged, not delivered twice; the tick
       sends what waits too. */
    m = t_unicast_msg(peer, proto_key_public(key), PROTO_MSG_TEXT, 7, T0 + 2, &len);
    t_feed(c, peer, m, len, T0 + 2);
    free(m);
    CHECK_EQ(io.unicasts, 1u);
    CHECK_EQ(p2p_core_acks_pending(c), 1u);
    p2p_core_tick(c, T0 + 2);
    CHECK_EQ(p2p_core_acks_pending(c), 0u);
    CHECK(io.sent >= sent0 + 2 && io.sent <= 64 && io.sent_types[sent0 + 1] == PROTO_MSG_ACK);
    size_t sent1 = io.sent; /* the tick may have sent upkeep of its own */
    /* A reserved kind: refused as an undecodable body, not delivered, not acknowledged. */
    p2p_stats_t st0, st1;
    p2p_core_stats(c, &st0);
    m = t_unicast_msg(peer, proto_key_public(key), 1, 8, T0 + 3, &len);
    t_feed(c, peer, m, len, T0 + 3);
    free(m);
    p2p_core_stats(c, &st1);
    CHECK_EQ(io.unicasts, 1u);
    CHECK_EQ(io.sent, sent1);
    CHECK_EQ(p2p_core_acks_pending(c), 0u);
    CHECK_EQ(st1.malformed, st0.malformed + 1);
    /* Sending: a reserved kind is refused at once. */
    uint8_t dest[32];
    memset(dest, 7, sizeof dest);
    CHECK_EQ(p2p_core_send(c, dest, 1, (const uint8_t *)"x", 1, T0 + 4), 0u);
    CHECK(p2p_core_send(c, dest, PROTO_MSG_TEXT, (const uint8_t *)"x", 1, T0 + 4) != 0);
out:
    p2p_core_destroy(&c);
    proto_key_destroy(&key);
    proto_key_destroy(&peer);
}

/* p2p_core_linked lists exactly the peers whose handshake is done, and a send to one of
   them goes out over that link at once (one UNICAST envelope). */
static void test_linked(void)
{
    t_io_t io = {0};
    proto_key_t *key = proto_key_generate(), *p1 = proto_key_generate(), *p2 = proto_key_generate();
    p2p_core_t *c = key && p1 && p2 ? t_core(key, 0x42, &io) : NULL;
    CHECK(c != NULL);
    if (!c)
        goto out;
    uint8_t ids[4][32];
    CHECK_EQ(p2p_core_linked(c, ids, 4), 0u);
    CHECK(p2p_testutil_link(c, p1, 0x42, NULL, T0));
    CHECK(p2p_testutil_link(c, p2, 0x42, NULL, T0));
    CHECK_EQ(p2p_core_linked(c, ids, 1), 1u); /* bounded by MAX */
    CHECK_EQ(p2p_core_linked(c, ids, 4), 2u);
    const uint8_t *a = proto_key_public(p1), *b = proto_key_public(p2);
    CHECK((memcmp(ids[0], a, 32) == 0 && memcmp(ids[1], b, 32) == 0) ||
          (memcmp(ids[0], b, 32) == 0 && memcmp(ids[1], a, 32) == 0));
    size_t sent0 = io.sent;
    CHECK(p2p_core_send(c, ids[0], PROTO_MSG_STATUS, (const uint8_t *)"s", 1, T0 + 1) != 0);
    CHECK_EQ(io.sent, sent0 + 1);
    CHECK(io.sent <= 64 && io.sent_types[io.sent - 1] == PROTO_MSG_UNICAST);
    /* a link that went down is no longer listed */
    p2p_core_on_link_down(c, a, T0 + 2);
    CHECK_EQ(p2p_core_linked(c, ids, 4), 1u);
    CHECK(memcmp(ids[0], b, 32) == 0);
out:
    p2p_core_destroy(&c);
    proto_key_destroy(&key);
    proto_key_destroy(&p1);
    proto_key_destroy(&p2);
}

/* Peer B joined ROOM after it dialed us: its new record (with the room) reaches us through
   relay A before its HELLO, which still carries the record from before the join. The link
   to B must route by the newer record: our post in ROOM goes to B. */
static void test_late_record(void)
{
    const char *room = "recruitment";
    t_io_t io = {0};
    proto_key_t *key = proto_key_generate(), *a = proto_key_generate(), *b = proto_key_generate();
    p2p_core_t *c = key && a && b ? t_core(key, 0x42, &io) : NULL;
    REQUIRE(c != NULL);
    memcpy(io.to, proto_key_public(b), 32);
    CHECK_EQ(p2p_core_room_join(c, room, T0), 0);
    CHECK(p2p_testutil_link(c, a, 0x42, room, T0));
    p2p_record_t rec;
    memset(&rec, 0, sizeof rec);
    rec.seq = T0 + 5; /* newer than the HELLO's (seq T0) */
    rec.expiry_ms = T0 + 3600000;
    snprintf(rec.rooms[0], sizeof rec.rooms[0], "%s", room);
    rec.n_rooms = 1;
    p2p_record_sign(&rec, b);
    const p2p_record_t *recs[1] = {&rec};
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_records(&w, false, 0, recs, 1);
    size_t len = 0;
    uint8_t *peers = p2p_testutil_seal(a, PROTO_MSG_PEERS, &w, 2, T0 + 10, &len);
    t_feed(c, a, peers, len, T0 + 10);
    free(peers);
    CHECK(p2p_testutil_link(c, b, 0x42, NULL, T0)); /* HELLO signed at T0, without the room */
    CHECK_EQ(p2p_core_room_post(c, room, (const uint8_t *)"offer", 5, T0 + 20), 0);
    CHECK_EQ(io.gossip_to, 1u);
    p2p_core_destroy(&c);
    proto_key_destroy(&key);
    proto_key_destroy(&a);
    proto_key_destroy(&b);
}

/*  A core linked to two peers broadcasts once with the transport taking (or, REFUSE,
 *  dropping) every send; returns the IHAVEs sent by the next per-second round and, with
 *  the transport taking everything from then on, in AGAIN[0..2) by the two rounds after
 *  (a round names only what was put since the one before, and again what a round could not
 *  hand over), and in *WHOLE by the next whole-cache round. */
static size_t t_ihaves_after_broadcast(bool refuse, size_t again[static 2], size_t *whole)
{
    t_io_t io = {0};
    size_t per_second = SIZE_MAX;
    *whole = SIZE_MAX;
    proto_key_t *key = proto_key_generate(), *p1 = proto_key_generate(), *p2 = proto_key_generate();
    p2p_core_t *c = key && p1 && p2 ? t_core(key, 0x42, &io) : NULL;
    CHECK(c != NULL);
    if (!c)
        goto out;
    CHECK(p2p_testutil_link(c, p1, 0x42, NULL, T0));
    CHECK(p2p_testutil_link(c, p2, 0x42, NULL, T0));
    p2p_core_tick(c, T0 + 1100); /* the first gossip round is a whole-cache one */
    io.refuse = refuse;
    io.arm = true;
    CHECK_EQ(p2p_core_broadcast(c, P2P_KIND_USER_MIN, (const uint8_t *)"hello", 5, T0 + 1500), 0);
    size_t before = io.ihaves;
    p2p_core_tick(c, T0 + 2200); /* a per-second round */
    per_second = io.ihaves - before;
    io.refuse = false;
    for (size_t r = 0; r < 2; r++) {
        before = io.ihaves;
        p2p_core_tick(c, T0 + 3200 + 1000 * r); /* the next ones */
        again[r] = io.ihaves - before;
    }
    before = io.ihaves;
    p2p_core_tick(c, T0 + 1100 + 10000); /* the next whole-cache round */
    *whole = io.ihaves - before;
    printf("ihave: transport %s: per-second rounds %zu, %zu, %zu; whole-cache round %zu "
           "IHAVEs\n",
           refuse ? "drops" : "takes", per_second, again[0], again[1], *whole);
out:
    p2p_core_destroy(&c);
    proto_key_destroy(&key);
    proto_key_destroy(&p1);
    proto_key_destroy(&p2);
    return per_second;
}

static void test_ihave_at_rest(void)
{
    size_t whole = 0, again[2] = {0, 0};
    CHECK_EQ(t_ihaves_after_broadcast(false, again, &whole), 0u); /* both links took it */
    CHECK_EQ(again[0] + again[1], 0u);
    CHECK_EQ(whole, 2u); /* the 10 s round tells both */
    /* dropped: advertised in the next round (whose IHAVEs are dropped too), so again in the
       one after, which the transport takes: from then on only the 10 s round names it */
    CHECK_EQ(t_ihaves_after_broadcast(true, again, &whole), 2u);
    CHECK_EQ(again[0], 2u);
    CHECK_EQ(again[1], 0u);
    CHECK_EQ(whole, 2u);
}

/* A PING from the linked peer with one bit of its signature flipped: refused as a bad
   signature by default; answered (PONG) when the transport authenticates links (link_auth,
   as the ZeroMQ shell's CURVE links do). A gossip envelope with a bad signature is refused
   either way. */
static void test_link_auth(bool link_auth)
{
    t_io_t io = {0};
    proto_key_t *key = proto_key_generate(), *peer = proto_key_generate();
    p2p_core_config_t cfg;
    REQUIRE(key && peer);
    p2p_testutil_config(&cfg, key, 0x42, 3);
    cfg.params.link_auth = link_auth;
    p2p_io_t tio = {.ctx = &io,
                    .send = t_send,
                    .dial = p2p_testutil_dial_none,
                    .hangup = t_hangup,
                    .on_unicast = t_unicast};
    p2p_core_t *c = p2p_core_new(&cfg, &tio, T0);
    REQUIRE(c != NULL);
    CHECK(p2p_testutil_link(c, peer, 0x42, NULL, T0));
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_u64(&w, 77);
    size_t len = 0;
    uint8_t *ping = p2p_testutil_seal(peer, PROTO_MSG_PING, &w, 9, T0 + 1, &len);
    REQUIRE(ping != NULL);
    ping[len - 1] ^= 0x01; /* the signature is the envelope's last field */
    size_t sent0 = io.sent;
    p2p_stats_t st;
    p2p_core_on_message(c, proto_key_public(peer), ping, len, T0 + 1);
    p2p_core_stats(c, &st);
    CHECK_EQ(st.bad_sig, link_auth ? 0u : 1u);
    CHECK_EQ(io.sent > sent0 && io.sent_types[io.sent - 1] == PROTO_MSG_PONG, link_auth);
    free(ping);

    proto_wr_init(&w);
    size_t glen = 0;
    p2p_msg_write_gossip(&w, "", 16, (const uint8_t *)"hello", 5);
    uint8_t *g = p2p_testutil_seal(peer, PROTO_MSG_GOSSIP, &w, 10, T0 + 2, &glen);
    CHECK(g != NULL);
    if (g) {
        g[glen - 1] ^= 0x01;
        p2p_core_on_message(c, proto_key_public(peer), g, glen, T0 + 2);
        p2p_core_stats(c, &st);
        CHECK_EQ(st.bad_sig, link_auth ? 1u : 2u);
        free(g);
    }
    p2p_core_destroy(&c);
    proto_key_destroy(&key);
    proto_key_destroy(&peer);
}

int main(void)
{
    if (proto_crypto_init() != 0) {
        fprintf(stderr, "cannot initialise libsodium\n");
        return 1;
    }
    const char *dir = testutil_tmpdir();
    char log_path[512];
    snprintf(log_path, sizeof log_path, "%s/p2p.log", dir);
    proto_log_set_level(LOG_LVL_DEBUG);
    CHECK(proto_log_set_file(log_path) == 0);
    test_oversized(log_path);
    test_log_limits(log_path);
    test_unicast_kind();
    test_linked();
    test_late_record();
    test_ihave_at_rest();
    test_link_auth(false);
    test_link_auth(true);
    proto_log_close();
    testutil_rmtree(dir);
    return testutil_done("test_p2p_core");
}

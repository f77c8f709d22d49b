/*  test_p2p_repair: IHAVE / IWANT repair when the transport refuses sends.
 *
 *  Two to four cores in one room, linked through an in-process transport that delivers
 *  every message it takes in order (as one TCP connection would) and refuses the sends a
 *  scenario names (a full ZeroMQ queue towards a slow peer): the gossip an origin sends
 *  a peer, the answers to its IWANTs, or the peer's IWANTs. Each scenario posts a burst
 *  of more messages than one IHAVE holds (P2P_IDS_MAX, 256) and checks that every member
 *  ends up with every post exactly once. Virtual time; no randomness but the cores'
 *  (seeded with fixed numbers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_core.h"
#include "p2p_core_testutil.h"
#include "proto/proto_envelope.h"
#include "proto/proto_key.h"
#include "proto/proto_msgtype.h"
#include "testutil.h"

#define NODES_MAX 8
#define POSTS_MAX 2000
#define QUEUE_MAX 200000
#define ROOM "r"
#define T0 ((uint64_t)1700000000000u)

typedef struct world_t world_t;

typedef struct {
    world_t *w;
    int idx;
    proto_key_t *key;
    p2p_core_t *core;
    uint8_t got[POSTS_MAX]; /* deliveries per post number */
    size_t dups;
} node_t;

typedef struct {
    int from, to;
    uint8_t *data;
    size_t len;
} qmsg_t;

/* What the transport refuses from node FROM to node TO: the first SKIP sends of TYPE go
   through, the REFUSE after them are refused. With HOLD, it takes every send of TYPE
   but holds it back until s_release (a queue behind a slow peer). */
typedef struct {
    int from, to;
    uint32_t type;
    size_t skip, refuse;
    bool hold;
} rule_t;

struct world_t {
    node_t nodes[NODES_MAX];
    int n;
    qmsg_t *q;
    size_t q_head, q_len;
    rule_t rules[4];
    size_t n_rules;
    size_t refused;
    uint64_t now;
    qmsg_t *held;
    size_t n_held;
    size_t sent[NODES_MAX][NODES_MAX][16]; /* sends taken, by envelope type */
};

static int s_index_of(world_t *w, const uint8_t id[static 32])
{
    for (int i = 0; i < w->n; i++)
        if (memcmp(proto_key_public(w->nodes[i].key), id, 32) == 0)
            return i;
    return -1;
}

static bool s_send(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len)
{
    node_t *self = ctx;
    world_t *w = self->w;
    int to = s_index_of(w, peer);
    if (to < 0 || w->q_len == QUEUE_MAX)
        return false;
    proto_envelope_t env;
    uint32_t type = proto_envelope_decode(data, len, &env) == PROTO_OK ? env.type : 0;
    for (size_t i = 0; i < w->n_rules; i++) {
        rule_t *r = &w->rules[i];
        if (r->from != self->idx || r->to != to || r->type != type)
            continue;
        if (r->hold) {
            uint8_t *copy = malloc(len);
            if (!copy || w->n_held == QUEUE_MAX) {
                free(copy);
                return false;
            }
            memcpy(copy, data, len);
            w->held[w->n_held++] = (qmsg_t){self->idx, to, copy, len};
            w->sent[self->idx][to][type < 16 ? type : 0]++;
            return true;
        }
        if (r->skip > 0) {
            r->skip--;
        } else if (r->refuse > 0) {
            r->refuse--;
            w->refused++;
            return false;
        }
    }
    uint8_t *copy = malloc(len);
    if (!copy)
        return false;
    memcpy(copy, data, len);
    w->q[(w->q_head + w->q_len++) % QUEUE_MAX] = (qmsg_t){self->idx, to, copy, len};
    w->sent[self->idx][to][type < 16 ? type : 0]++;
    return true;
}

static void s_deliver(void *ctx, const char *topic, uint32_t kind, const uint8_t origin[static 32],
                      const uint8_t *data, size_t len, uint64_t time_ms)
{
    node_t *self = ctx;
    (void)kind;
    (void)origin;
    (void)time_ms;
    unsigned post = 0;
    if (strcmp(topic, ROOM) != 0 || len < 5 || memcmp(data, "post ", 5) != 0)
        return;
    char buf[16] = {0};
    memcpy(buf, data + 5, len - 5 < sizeof buf - 1 ? len - 5 : sizeof buf - 1);
    if (sscanf(buf, "%u", &post) != 1 || post >= POSTS_MAX)
        return;
    if (self->got[post]++ > 0)
        self->dups++;
}

/* Hands every queued message over (and what the handling sends, in order). */
static void s_drain(world_t *w)
{
    while (w->q_len > 0) {
        qmsg_t m = w->q[w->q_head];
        w->q_head = (w->q_head + 1) % QUEUE_MAX;
        w->q_len--;
        node_t *to = &w->nodes[m.to];
        p2p_core_on_message(to->core, proto_key_public(w->nodes[m.from].key), m.data, m.len,
                            w->now);
        free(m.data);
    }
}

/* Queues the held messages (in the order they were sent) and holds nothing more. */
static void s_release(world_t *w)
{
    for (size_t i = 0; i < w->n_held; i++) {
        REQUIRE(w->q_len < QUEUE_MAX);
        w->q[(w->q_head + w->q_len++) % QUEUE_MAX] = w->held[i];
    }
    w->n_held = 0;
    for (size_t i = 0; i < w->n_rules; i++)
        w->rules[i].hold = false;
}

/* Runs MS of virtual time in 50 ms steps: ticks every core, drains the queue. */
static void s_run(world_t *w, uint64_t ms)
{
    for (uint64_t end = w->now + ms; w->now < end;) {
        w->now += 50;
        for (int i = 0; i < w->n; i++)
            p2p_core_tick(w->nodes[i].core, w->now);
        s_drain(w);
    }
}

/* N cores, node i > 0 seeded with node 0 (so all link to it and, by exchange, to each
   other), all in ROOM; a few seconds to link up. */
static world_t *s_world_new_params(int n, size_t flood_max, size_t mesh_degree, uint64_t seed);

static world_t *s_world_new(int n)
{
    return s_world_new_params(n, 0, 0, 1000);
}

/* N cores (FLOOD_MAX and MESH_DEGREE as given when not 0, core I seeded with SEED + I) as
   s_world_new says. */
static world_t *s_world_new_params(int n, size_t flood_max, size_t mesh_degree, uint64_t seed)
{
    world_t *w = calloc(1, sizeof *w);
    REQUIRE(w != NULL);
    w->q = calloc(QUEUE_MAX, sizeof *w->q);
    w->held = calloc(QUEUE_MAX, sizeof *w->held);
    REQUIRE(w->q != NULL && w->held != NULL);
    w->n = n;
    w->now = T0;
    for (int i = 0; i < n; i++) {
        node_t *nd = &w->nodes[i];
        nd->w = w;
        nd->idx = i;
        nd->key = proto_key_generate();
        REQUIRE(nd->key != NULL);
        p2p_core_config_t cfg;
        p2p_testutil_config(&cfg, nd->key, 7, seed + (uint64_t)i);
        if (flood_max)
            cfg.params.flood_max = flood_max;
        if (mesh_degree)
            cfg.params.mesh_degree = mesh_degree;
        char ep[40];
        snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", 7000 + i);
        cfg.endpoints[0] = ep;
        p2p_io_t io = {.ctx = nd,
                       .send = s_send,
                       .dial = p2p_testutil_dial_none,
                       .hangup = p2p_testutil_hangup_none,
                       .on_deliver = s_deliver};
        nd->core = p2p_core_new(&cfg, &io, w->now);
        REQUIRE(nd->core != NULL);
        REQUIRE(p2p_core_room_join(nd->core, ROOM, w->now) == 0);
    }
    for (int i = 1; i < n; i++)
        REQUIRE(p2p_core_add_seed(w->nodes[i].core, proto_key_public(w->nodes[0].key),
                                  "tcp://127.0.0.1:7000", w->now) == 0);
    s_run(w, 5000);
    for (int i = 0; i < n; i++)
        REQUIRE(p2p_core_link_count(w->nodes[i].core) == (size_t)(n - 1));
    return w;
}

static void s_world_destroy(world_t **w_p)
{
    world_t *w = *w_p;
    s_drain(w);
    for (size_t i = 0; i < w->n_held; i++)
        free(w->held[i].data);
    free(w->held);
    for (int i = 0; i < w->n; i++) {
        p2p_core_destroy(&w->nodes[i].core);
        proto_key_destroy(&w->nodes[i].key);
    }
    free(w->q);
    free(w);
    *w_p = NULL;
}

/* Node ORIGIN posts posts 0..N-1 at once. */
static void s_burst(world_t *w, int origin, unsigned n)
{
    for (unsigned p = 0; p < n; p++) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "post %u", p);
        CHECK_EQ(p2p_core_room_post(w->nodes[origin].core, ROOM, (const uint8_t *)buf, (size_t)len,
                                    w->now),
                 0);
    }
}

/* Every node has every post 0..N-1 exactly once. */
static bool s_all_have(world_t *w, unsigned n, const char *what)
{
    bool ok = true;
    for (int i = 0; i < w->n; i++) {
        unsigned missing = 0;
        for (unsigned p = 0; p < n; p++)
            missing += w->nodes[i].got[p] == 0;
        if (missing || w->nodes[i].dups) {
            fprintf(stderr, "%s: node %d misses %u of %u posts, %zu duplicates\n", what, i, missing,
                    n, w->nodes[i].dups);
            ok = false;
        }
    }
    return ok;
}

static uint64_t s_refused_stat(world_t *w, int i)
{
    p2p_stats_t st;
    p2p_core_stats(w->nodes[i].core, &st);
    return st.send_refused;
}

/* A burst of 1000 posts, of which the transport refused 300 on the way to one peer (posts
   100..399: neither the oldest nor the newest 256), is repaired in full within 3 s. */
static void test_burst_refused_forwards(void)
{
    world_t *w = s_world_new(2);
    w->rules[w->n_rules++] =
        (rule_t){.from = 0, .to = 1, .type = PROTO_MSG_GOSSIP, .skip = 100, .refuse = 300};
    s_burst(w, 0, 1000);
    s_drain(w);
    CHECK_EQ(w->refused, 300u);
    CHECK_EQ(s_refused_stat(w, 0), 300u);
    s_run(w, 3000);
    CHECK(s_all_have(w, 1000, "refused forwards"));
    s_world_destroy(&w);
}

/* Every forward of a burst of 600 refused, and then the first 200 answers to the peer's
   IWANTs too: the peer asks again for what did not come. */
static void test_refused_answers(void)
{
    world_t *w = s_world_new(2);
    w->rules[w->n_rules++] =
        (rule_t){.from = 0, .to = 1, .type = PROTO_MSG_GOSSIP, .skip = 0, .refuse = 800};
    s_burst(w, 0, 600);
    s_run(w, 5000);
    CHECK_EQ(w->refused, 800u);
    CHECK(s_all_have(w, 600, "refused answers"));
    s_world_destroy(&w);
}

/* Every forward of a burst of 500 refused, and the peer's first two IWANTs refused by its
   own transport: it asks again. */
static void test_refused_iwants(void)
{
    world_t *w = s_world_new(2);
    w->rules[w->n_rules++] =
        (rule_t){.from = 0, .to = 1, .type = PROTO_MSG_GOSSIP, .skip = 0, .refuse = 500};
    w->rules[w->n_rules++] =
        (rule_t){.from = 1, .to = 0, .type = PROTO_MSG_IWANT, .skip = 0, .refuse = 2};
    s_burst(w, 0, 500);
    s_run(w, 5000);
    CHECK_EQ(w->refused, 502u);
    CHECK(s_all_have(w, 500, "refused iwants"));
    s_world_destroy(&w);
}

/* Four members; the origin's transport refuses 700 of a burst of 1500 to each of two
   peers (not the same posts) and their IHAVEs to each other are refused for a while:
   every member still ends up with all 1500. */
static void test_four_members(void)
{
    world_t *w = s_world_new(4);
    w->rules[w->n_rules++] =
        (rule_t){.from = 0, .to = 1, .type = PROTO_MSG_GOSSIP, .skip = 0, .refuse = 700};
    w->rules[w->n_rules++] =
        (rule_t){.from = 0, .to = 2, .type = PROTO_MSG_GOSSIP, .skip = 800, .refuse = 700};
    w->rules[w->n_rules++] =
        (rule_t){.from = 1, .to = 2, .type = PROTO_MSG_IHAVE, .skip = 0, .refuse = 3};
    w->rules[w->n_rules++] =
        (rule_t){.from = 2, .to = 1, .type = PROTO_MSG_IHAVE, .skip = 0, .refuse = 3};
    s_burst(w, 0, 1500);
    s_run(w, 6000);
    CHECK(s_all_have(w, 1500, "four members"));
    s_world_destroy(&w);
}

/* Under load an IHAVE overtakes the messages it names (they wait in a queue behind a slow
   peer, here the origin's queue towards node 1; node 2 gets them at once and advertises
   them to node 1, its own forwards having been refused): node 1 waits P2P_WANT_GRACE_MS before
   asking, so messages that arrive within it are not fetched a second time. */
static void test_ihave_overtakes(void)
{
    world_t *w = s_world_new(3);
    w->rules[w->n_rules++] = (rule_t){.from = 0, .to = 1, .type = PROTO_MSG_GOSSIP, .hold = true};
    w->rules[w->n_rules++] =
        (rule_t){.from = 2, .to = 1, .type = PROTO_MSG_GOSSIP, .skip = 0, .refuse = 400};
    const size_t iwants = w->sent[1][0][PROTO_MSG_IWANT] + w->sent[1][2][PROTO_MSG_IWANT];
    s_burst(w, 0, 400);
    s_drain(w);
    size_t ihaves = w->sent[2][1][PROTO_MSG_IHAVE] + w->sent[0][1][PROTO_MSG_IHAVE];
    for (int step = 0;
         step < 40 && w->sent[2][1][PROTO_MSG_IHAVE] + w->sent[0][1][PROTO_MSG_IHAVE] == ihaves;
         step++)
        s_run(w, 50); /* until the next IHAVE round names them to node 1 */
    CHECK(w->sent[2][1][PROTO_MSG_IHAVE] + w->sent[0][1][PROTO_MSG_IHAVE] > ihaves);
    /* the held posts arrive 200 ms after the IHAVE: a heartbeat (every 200 ms) has come in
       between, which asks for what is due (without the grace, all of them) */
    s_run(w, 150);
    s_release(w);
    s_run(w, 3000);
    CHECK(s_all_have(w, 400, "ihave overtakes"));
    CHECK_EQ(w->sent[1][0][PROTO_MSG_IWANT] + w->sent[1][2][PROTO_MSG_IWANT], iwants);
    s_world_destroy(&w);
}

/* Mesh mode (8 members, flood_max 2, mesh_degree 2), 20 seeds: a burst of 50 posts reaches
   every member by forwarding alone, within 200 ms (an IHAVE round is a second apart). With
   one-way mesh picks, a member that none of its peers had picked got the posts only
   through IHAVE; now each member's own picks forward to it. */
static void test_mesh_reaches_all(void)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        world_t *w = s_world_new_params(8, 2, 2, seed * 100);
        s_run(w, 5000); /* mesh picks and grafts settle */
        s_burst(w, (int)(seed % 8), 50);
        s_run(w, 200);
        char what[48];
        snprintf(what, sizeof what, "mesh seed %llu", (unsigned long long)seed);
        CHECK(s_all_have(w, 50, what));
        s_world_destroy(&w);
    }
}

int main(void)
{
    if (proto_crypto_init() != 0) {
        fprintf(stderr, "proto_crypto_init failed\n");
        return 1;
    }
    test_burst_refused_forwards();
    test_refused_answers();
    test_refused_iwants();
    test_four_members();
    test_ihave_overtakes();
    test_mesh_reaches_all();
    return testutil_done("test_p2p_repair");
}

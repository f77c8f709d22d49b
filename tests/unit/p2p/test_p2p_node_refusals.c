/*  test_p2p_node_refusals: the ZeroMQ shell's public room and broadcast API (p2p_node.h)
 *  returns the typed P2P_E_* code of each refusal, with a one-line reason in ERR.
 *
 *  One real p2p_node runs on a czmq loop (CURVE inbox and ZAP handler) with no listen
 *  endpoint and no peers, so nothing leaves the process; the calls under test act at once,
 *  so the loop is never run. Checks: a listen endpoint that is not tcp://HOST:PORT makes
 *  p2p_node_new fail with a reason; p2p_node_room_join refuses a bad name
 *  (P2P_E_ROOM_NAME) and the room past P2P_REC_ROOMS (P2P_E_TOO_MANY_ROOMS);
 *  p2p_node_room_leave and p2p_node_room_post refuse a room we are not in
 *  (P2P_E_NOT_MEMBER); a post past P2P_PAYLOAD_MAX is P2P_E_TOO_BIG; p2p_node_broadcast
 *  refuses a kind reserved for the p2p layer (P2P_E_KIND) and an oversized payload
 *  (P2P_E_TOO_BIG); accepted calls return 0 and a member's own post is delivered to it.
 *  Also the receive batching's decisions: which frames count as gossip, and that a direct
 *  message never waits for a batch's timer.
 */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2p/p2p_msg.h"
#include "p2p/p2p_node.h"
#include "p2p/p2p_node_int.h"
#include "proto/proto_envelope.h"
#include "proto/proto_msgtype.h"
#include "proto/proto_err.h"
#include "proto/proto_log.h"
#include "testutil.h"

typedef struct {
    size_t posts;
} t_ctx_t;

static void t_on_post(void *ctx, const char *room, const uint8_t from[static 32],
                      const uint8_t *data, size_t len, uint64_t time_ms)
{
    t_ctx_t *t = ctx;
    t->posts++;
    (void)room;
    (void)from;
    (void)data;
    (void)len;
    (void)time_ms;
}

static p2p_node_t *t_node(zloop_t *loop, const proto_key_t *key, t_ctx_t *t, const char *listen,
                          char *err, size_t cap)
{
    p2p_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.key = key;
    if (listen) {
        cfg.listen[0] = listen;
        cfg.n_listen = 1;
    }
    memset(cfg.chain_id, 0x42, sizeof cfg.chain_id);
    cfg.cb.ctx = t;
    cfg.cb.on_room_post = t_on_post;
    return p2p_node_new(&cfg, loop, err, cap);
}

static void test_bad_listen(zloop_t *loop, const proto_key_t *key)
{
    t_ctx_t t = {0};
    char err[256] = "";
    p2p_node_t *n = t_node(loop, key, &t, "127.0.0.1:7000", err, sizeof err);
    CHECK(n == NULL);
    CHECK(strstr(err, "bad listen endpoint") != NULL);
    p2p_node_destroy(&n);
}

static void test_rooms_and_broadcast(zloop_t *loop, const proto_key_t *key)
{
    t_ctx_t t = {0};
    char err[256] = "";
    p2p_node_t *n = t_node(loop, key, &t, NULL, err, sizeof err);
    REQUIRE(n != NULL);

    err[0] = '\0';
    CHECK_EQ(p2p_node_room_join(n, "Not A Room", err, sizeof err), P2P_E_ROOM_NAME);
    CHECK(strstr(err, "bad room name") != NULL);
    err[0] = '\0';
    CHECK_EQ(p2p_node_room_leave(n, "market", err, sizeof err), P2P_E_NOT_MEMBER);
    CHECK(strstr(err, "not a member") != NULL);
    err[0] = '\0';
    CHECK_EQ(p2p_node_room_post(n, "market", (const uint8_t *)"x", 1, err, sizeof err),
             P2P_E_NOT_MEMBER);
    CHECK(strstr(err, "join it first") != NULL);

    for (int i = 0; i < P2P_REC_ROOMS; i++) {
        char room[16];
        snprintf(room, sizeof room, "room-%d", i);
        CHECK_EQ(p2p_node_room_join(n, room, err, sizeof err), 0);
    }
    err[0] = '\0';
    CHECK_EQ(p2p_node_room_join(n, "one-more", err, sizeof err), P2P_E_TOO_MANY_ROOMS);
    CHECK(strstr(err, "cannot join more than") != NULL);
    const char *names[P2P_REC_ROOMS + 1];
    CHECK_EQ(p2p_node_rooms(n, names, P2P_REC_ROOMS + 1), (size_t)P2P_REC_ROOMS);

    uint8_t *big = calloc(1, P2P_PAYLOAD_MAX + 1);
    REQUIRE(big != NULL);
    err[0] = '\0';
    CHECK_EQ(p2p_node_room_post(n, "room-0", big, P2P_PAYLOAD_MAX + 1, err, sizeof err),
             P2P_E_TOO_BIG);
    CHECK(strstr(err, "too large") != NULL);
    CHECK_EQ(t.posts, 0u);
    CHECK_EQ(p2p_node_room_post(n, "room-0", (const uint8_t *)"hello", 5, err, sizeof err), 0);
    CHECK_EQ(t.posts, 1u);
    CHECK_EQ(p2p_node_room_leave(n, "room-0", err, sizeof err), 0);
    CHECK_EQ(p2p_node_room_leave(n, "room-0", err, sizeof err), P2P_E_NOT_MEMBER);

    CHECK_EQ(p2p_node_broadcast(n, P2P_KIND_USER_MIN - 1, big, 1), P2P_E_KIND);
    CHECK_EQ(p2p_node_broadcast(n, P2P_KIND_USER_MIN, big, P2P_PAYLOAD_MAX + 1), P2P_E_TOO_BIG);
    CHECK_EQ(p2p_node_broadcast(n, P2P_KIND_USER_MIN, big, 16), 0);

    free(big);
    p2p_node_destroy(&n);
    CHECK(n == NULL);
}

/* In a child process of its own: a node's ZAP handler binds a process-wide inproc endpoint
   that ZeroMQ releases asynchronously after a close, so a second node right after the
   first could fail there instead of at the check under test. */
static void test_bad_listen_forked(void)
{
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        zloop_t *loop = zloop_new();
        proto_key_t *key = proto_key_generate();
        REQUIRE(loop && key);
        test_bad_listen(loop, key);
        proto_key_destroy(&key);
        zloop_destroy(&loop);
        int rc = testutil_done("test_p2p_node_refusals (child)");
        fflush(stdout);
        _exit(rc);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The receive batching's step (p2p_node_rx_step): a direct message goes to the core at
   once, also when the node is busy with gossip and a batch already waits for its timer
   (before, it joined that batch and waited up to P2P_NODE_COALESCE_MS); gossip on a quiet
   node goes at once, gossip on a busy node starts the timer or waits for the one started. */
static void test_rx_step(void)
{
    for (int busy = 0; busy < 2; busy++)
        for (int armed = 0; armed < 2; armed++)
            CHECK_EQ(p2p_node_rx_step(true, busy, armed), P2P_RX_FLUSH);
    CHECK_EQ(p2p_node_rx_step(false, false, false), P2P_RX_FLUSH);
    CHECK_EQ(p2p_node_rx_step(false, true, false), P2P_RX_ARM);
    CHECK_EQ(p2p_node_rx_step(false, true, true), P2P_RX_WAIT);
    CHECK_EQ(p2p_node_rx_step(false, false, true), P2P_RX_WAIT);
}

/* The receive batching's guess at gossip (only gossip waits to share a batch; a unicast,
   its ack, a request and its answer go to the core at once) holds for real envelopes of
   every type of the registry's p2p and ledger ranges, large sequence numbers included;
   a frame that is no envelope is neither. */
static void test_gossip_guess(const proto_key_t *key)
{
    const uint32_t types[] = {PROTO_MSG_HELLO,        PROTO_MSG_PING,   PROTO_MSG_GOSSIP,
                              PROTO_MSG_UNICAST,      PROTO_MSG_ACK,    PROTO_MSG_IHAVE,
                              PROTO_MSG_IWANT,        PROTO_MSG_STATUS, PROTO_MSG_DECIDED,
                              PROTO_MSG_ENCLAVE_CALL, PROTO_MSG_TEXT};
    const uint8_t body[3] = {0x92, 0x01, 0x02};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        for (uint64_t seq = 1; seq < UINT64_C(1) << 40; seq <<= 13) {
            uint8_t *raw = NULL;
            size_t len = 0;
            REQUIRE(proto_envelope_seal(key, types[i], seq, 1700000000000u, body, sizeof body, &raw,
                                        &len) == PROTO_OK);
            CHECK(p2p_node_rx_class(raw, len) ==
                  (types[i] == PROTO_MSG_GOSSIP ? P2P_RX_GOSSIP : P2P_RX_DIRECT));
            free(raw);
        }
    }
    const uint8_t junk[] = {0x97, 0x01};
    /* junk is not gossip, nor a direct message that would hand a waiting batch over */
    CHECK_EQ(p2p_node_rx_class(junk, sizeof junk), P2P_RX_JUNK);
    CHECK_EQ(p2p_node_rx_class(junk, 0), P2P_RX_JUNK);
}

int main(void)
{
    if (proto_crypto_init() != 0) {
        fprintf(stderr, "cannot initialise libsodium\n");
        return 1;
    }
    proto_log_set_level(LOG_LVL_ERROR);
    test_bad_listen_forked(); /* before this process makes a ZeroMQ context */
    zloop_t *loop = zloop_new();
    proto_key_t *key = proto_key_generate();
    REQUIRE(loop && key);
    test_rooms_and_broadcast(loop, key);
    test_gossip_guess(key);
    test_rx_step();
    proto_key_destroy(&key);
    zloop_destroy(&loop);
    return testutil_done("test_p2p_node_refusals");
}

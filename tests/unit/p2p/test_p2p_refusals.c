/*  test_p2p_refusals: every refusal of the p2p core's public API returns its own typed code
 *  (proto/proto_err.h's P2P_E_* range) and changes nothing.
 *
 *  One p2p core is driven directly (no sockets), as in test_p2p_policy. Checks, per call:
 *  p2p_core_room_join refuses a bad name with P2P_E_ROOM_NAME and the room past
 *  P2P_REC_ROOMS with P2P_E_TOO_MANY_ROOMS (joining a room again is 0); p2p_core_room_leave
 *  and p2p_core_room_post refuse a room we are not in with P2P_E_NOT_MEMBER, and a post
 *  past P2P_PAYLOAD_MAX with P2P_E_TOO_BIG; p2p_core_broadcast refuses a kind below
 *  P2P_KIND_USER_MIN with P2P_E_KIND and an oversized payload with P2P_E_TOO_BIG;
 *  p2p_core_add_seed refuses a bad endpoint (P2P_E_ADDR_ENDPOINT), our own id (P2P_E_SELF)
 *  and the seed past its bound (P2P_E_TOO_MANY_SEEDS); p2p_core_load_peers refuses a buffer
 *  that is not a peer list with P2P_E_PEER_LIST. A refused call delivers nothing and leaves
 *  the room list as it was; every code has its own name in proto_err_str. Times are fixed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_core.h"
#include "p2p/p2p_msg.h"
#include "p2p/p2p_record.h"
#include "proto/proto_err.h"
#include "proto/proto_log.h"
#include "p2p_core_testutil.h"
#include "testutil.h"

#define T0 1700000000000ull

typedef struct {
    size_t delivered;
} t_io_t;

static void t_deliver(void *ctx, const char *topic, uint32_t kind, const uint8_t origin[static 32],
                      const uint8_t *data, size_t len, uint64_t time_ms)
{
    t_io_t *io = ctx;
    io->delivered++;
    (void)topic;
    (void)kind;
    (void)origin;
    (void)data;
    (void)len;
    (void)time_ms;
}

static p2p_core_t *t_core(const proto_key_t *key, t_io_t *io)
{
    p2p_core_config_t cfg;
    p2p_testutil_config(&cfg, key, 0x42, 1);
    p2p_io_t tio = {.ctx = io,
                    .send = p2p_testutil_send_taken,
                    .dial = p2p_testutil_dial_none,
                    .hangup = p2p_testutil_hangup_none,
                    .on_deliver = t_deliver};
    return p2p_core_new(&cfg, &tio, T0);
}

static void test_rooms(void)
{
    t_io_t io = {0};
    proto_key_t *key = proto_key_generate();
    REQUIRE(key != NULL);
    p2p_core_t *c = t_core(key, &io);
    REQUIRE(c != NULL);
    const char *names[P2P_REC_ROOMS + 1];

    /* bad names */
    char long_name[P2P_ROOM_NAME_MAX + 1];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    CHECK_EQ(p2p_core_room_join(c, "", T0), P2P_E_ROOM_NAME);
    CHECK_EQ(p2p_core_room_join(c, NULL, T0), P2P_E_ROOM_NAME);
    CHECK_EQ(p2p_core_room_join(c, "Upper", T0), P2P_E_ROOM_NAME);
    CHECK_EQ(p2p_core_room_join(c, "a room", T0), P2P_E_ROOM_NAME);
    CHECK_EQ(p2p_core_room_join(c, long_name, T0), P2P_E_ROOM_NAME);
    CHECK_EQ(p2p_core_rooms(c, names, P2P_REC_ROOMS + 1), 0u);

    /* not a member */
    CHECK_EQ(p2p_core_room_leave(c, "market", T0), P2P_E_NOT_MEMBER);
    CHECK_EQ(p2p_core_room_leave(c, "", T0), P2P_E_NOT_MEMBER);
    CHECK_EQ(p2p_core_room_post(c, "market", (const uint8_t *)"x", 1, T0), P2P_E_NOT_MEMBER);
    CHECK_EQ(p2p_core_room_post(c, "", (const uint8_t *)"x", 1, T0), P2P_E_NOT_MEMBER);
    CHECK_EQ(io.delivered, 0u);

    /* the bound on rooms; joining again is not a new room */
    for (int i = 0; i < P2P_REC_ROOMS; i++) {
        char room[16];
        snprintf(room, sizeof room, "room-%d", i);
        CHECK_EQ(p2p_core_room_join(c, room, T0 + 1), 0);
    }
    CHECK_EQ(p2p_core_room_join(c, "room-0", T0 + 2), 0);
    CHECK_EQ(p2p_core_room_join(c, "one-more", T0 + 2), P2P_E_TOO_MANY_ROOMS);
    CHECK(!p2p_core_room_member(c, "one-more"));
    CHECK_EQ(p2p_core_rooms(c, names, P2P_REC_ROOMS + 1), (size_t)P2P_REC_ROOMS);

    /* post size: the bound itself is fine, one byte more is refused and not delivered */
    uint8_t *big = calloc(1, P2P_PAYLOAD_MAX + 1);
    REQUIRE(big != NULL);
    CHECK_EQ(p2p_core_room_post(c, "room-1", big, P2P_PAYLOAD_MAX + 1, T0 + 3), P2P_E_TOO_BIG);
    CHECK_EQ(io.delivered, 0u);
    CHECK_EQ(p2p_core_room_post(c, "room-1", big, P2P_PAYLOAD_MAX, T0 + 3), 0);
    CHECK_EQ(io.delivered, 1u); /* the poster sees its own post */

    /* leave, then leaving again is refused */
    CHECK_EQ(p2p_core_room_leave(c, "room-1", T0 + 4), 0);
    CHECK_EQ(p2p_core_room_leave(c, "room-1", T0 + 4), P2P_E_NOT_MEMBER);
    CHECK_EQ(p2p_core_room_post(c, "room-1", big, 1, T0 + 4), P2P_E_NOT_MEMBER);
    CHECK_EQ(p2p_core_room_join(c, "one-more", T0 + 5), 0); /* a free place again */

    free(big);
    p2p_core_destroy(&c);
    proto_key_destroy(&key);
}

static void test_broadcast(void)
{
    t_io_t io = {0};
    proto_key_t *key = proto_key_generate();
    REQUIRE(key != NULL);
    p2p_core_t *c = t_core(key, &io);
    REQUIRE(c != NULL);
    uint8_t *big = calloc(1, P2P_PAYLOAD_MAX + 1);
    REQUIRE(big != NULL);
    CHECK_EQ(p2p_core_broadcast(c, 0, big, 1, T0), P2P_E_KIND);
    CHECK_EQ(p2p_core_broadcast(c, P2P_KIND_USER_MIN - 1, big, 1, T0), P2P_E_KIND);
    CHECK_EQ(p2p_core_broadcast(c, P2P_KIND_USER_MIN, big, P2P_PAYLOAD_MAX + 1, T0), P2P_E_TOO_BIG);
    CHECK_EQ(p2p_core_broadcast(c, P2P_KIND_USER_MIN, big, P2P_PAYLOAD_MAX, T0), 0);
    CHECK_EQ(p2p_core_broadcast(c, P2P_KIND_USER_MIN, NULL, 0, T0 + 1), 0);
    free(big);
    p2p_core_destroy(&c);
    proto_key_destroy(&key);
}

static void test_seeds_and_peers(void)
{
    t_io_t io = {0};
    proto_key_t *key = proto_key_generate();
    REQUIRE(key != NULL);
    p2p_core_t *c = t_core(key, &io);
    REQUIRE(c != NULL);
    uint8_t id[32];
    memset(id, 7, sizeof id);
    CHECK_EQ(p2p_core_add_seed(c, id, "127.0.0.1:7001", T0), P2P_E_ADDR_ENDPOINT);
    CHECK_EQ(p2p_core_add_seed(c, id, "tcp://127.0.0.1", T0), P2P_E_ADDR_ENDPOINT);
    CHECK_EQ(p2p_core_add_seed(c, proto_key_public(key), "tcp://127.0.0.1:7001", T0), P2P_E_SELF);
    /* seeds until the bound; the same id again replaces its entry */
    int added = 0, rc = 0;
    for (uint32_t i = 0; i < 1000 && rc == 0; i++) {
        memcpy(id, &i, sizeof i);
        rc = p2p_core_add_seed(c, id, "tcp://127.0.0.1:7001", T0);
        if (rc == 0)
            added++;
    }
    CHECK_EQ(rc, P2P_E_TOO_MANY_SEEDS);
    CHECK(added > 0 && added < 1000);
    uint32_t first = 0;
    memcpy(id, &first, sizeof first);
    CHECK_EQ(p2p_core_add_seed(c, id, "tcp://127.0.0.1:7002", T0), 0);

    static const uint8_t not_a_list[] = {0x01, 0x02, 0x03};
    CHECK_EQ(p2p_core_load_peers(c, not_a_list, sizeof not_a_list, T0), P2P_E_PEER_LIST);
    CHECK_EQ(p2p_core_load_peers(c, NULL, 0, T0), P2P_E_PEER_LIST);
    static const uint8_t empty_list[] = {0x90};
    CHECK_EQ(p2p_core_load_peers(c, empty_list, sizeof empty_list, T0), 0);

    p2p_core_destroy(&c);
    proto_key_destroy(&key);
}

static void test_names(void)
{
    static const int codes[] = {
        P2P_E_ADDR_FORM,      P2P_E_ADDR_ID,    P2P_E_ADDR_ENDPOINT,  P2P_E_ROOM_NAME,
        P2P_E_TOO_MANY_ROOMS, P2P_E_NOT_MEMBER, P2P_E_TOO_BIG,        P2P_E_KIND,
        P2P_E_NOMEM,          P2P_E_SELF,       P2P_E_TOO_MANY_SEEDS, P2P_E_LISTEN,
        P2P_E_PEER_LIST,      P2P_E_ARG,        P2P_E_FAILED};
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        CHECK(codes[i] < P2P_E_FIRST && codes[i] > LEDGER_E_FIRST);
        CHECK(strcmp(proto_err_str(codes[i]), "unknown error") != 0);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(proto_err_str(codes[i]), proto_err_str(codes[j])) != 0);
    }
}

int main(void)
{
    if (proto_crypto_init() != 0) {
        fprintf(stderr, "cannot initialise libsodium\n");
        return 1;
    }
    proto_log_set_level(LOG_LVL_ERROR);
    test_rooms();
    test_broadcast();
    test_seeds_and_peers();
    test_names();
    return testutil_done("test_p2p_refusals");
}

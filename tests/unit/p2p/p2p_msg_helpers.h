/*  p2p_msg_helpers: what test_p2p_msg.c's cases share: record builders, the round-trip and
 *  refusal checks every decoder goes through (s_check_encoding), and one adapter per
 *  decoder with the decode_fn shape. Static functions for that one test (included once).
 */
#ifndef GENIE_TEST_P2P_MSG_HELPERS_H
#define GENIE_TEST_P2P_MSG_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_msg.h"
#include "p2p/p2p_record.h"
#include "proto/proto_envelope.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"
#include "testutil.h"

#define HOST_MAX (P2P_ENDPOINT_MAX - 16)
/* Bodies longer than this get every-offset truncation only near both ends (and on a
   stride in between), since re-parsing a large body at each of its offsets is quadratic. */
#define EVERY_OFFSET_MAX (16 * 1024)

typedef int (*decode_fn)(const uint8_t *buf, size_t len);

/* ---- helpers ---- */

static void s_fill(char *s, char c, size_t n)
{
    memset(s, c, n);
    s[n] = '\0';
}

static uint8_t *s_take(proto_wr_t *w, size_t *len)
{
    uint8_t *buf = proto_wr_take(w, len);
    CHECK(buf != NULL);
    return buf;
}

static void s_record_empty(p2p_record_t *rec, const proto_key_t *key)
{
    memset(rec, 0, sizeof *rec);
    p2p_record_sign(rec, key);
}

static void s_record_typical(p2p_record_t *rec, const proto_key_t *key, uint64_t seq)
{
    memset(rec, 0, sizeof *rec);
    snprintf(rec->endpoints[0], P2P_ENDPOINT_MAX, "tcp://192.168.1.%u:7000", (unsigned)(seq % 250));
    rec->n_endpoints = 1;
    rec->roles = 3;
    snprintf(rec->rooms[0], P2P_ROOM_NAME_MAX, "cohort-a");
    rec->n_rooms = 1;
    rec->seq = seq;
    rec->expiry_ms = 1700000000000ull + seq;
    p2p_record_sign(rec, key);
}

static void s_record_max(p2p_record_t *rec, const proto_key_t *key, uint64_t seq)
{
    memset(rec, 0, sizeof *rec);
    for (int i = 0; i < P2P_REC_ENDPOINTS; i++) {
        char host[HOST_MAX + 1];
        s_fill(host, 'h', HOST_MAX);
        host[0] = (char)('a' + i);
        snprintf(rec->endpoints[i], P2P_ENDPOINT_MAX, "tcp://%s:65535", host);
    }
    rec->n_endpoints = P2P_REC_ENDPOINTS;
    rec->roles = UINT32_MAX;
    for (int i = 0; i < P2P_REC_ROOMS; i++) {
        s_fill(rec->rooms[i], 'r', P2P_ROOM_NAME_MAX - 1);
        rec->rooms[i][0] = (char)('a' + i % 26);
        rec->rooms[i][1] = (char)('0' + i / 26);
    }
    rec->n_rooms = P2P_REC_ROOMS;
    rec->seq = seq;
    rec->expiry_ms = UINT64_MAX;
    p2p_record_sign(rec, key);
}

static bool s_rec_eq(const p2p_record_t *a, const p2p_record_t *b)
{
    if (memcmp(a->id, b->id, P2P_ID_LEN) || a->n_endpoints != b->n_endpoints ||
        a->roles != b->roles || a->n_rooms != b->n_rooms || a->seq != b->seq ||
        a->expiry_ms != b->expiry_ms || memcmp(a->sig, b->sig, PROTO_SIG_LEN))
        return false;
    for (int i = 0; i < a->n_endpoints; i++)
        if (strcmp(a->endpoints[i], b->endpoints[i]))
            return false;
    for (int i = 0; i < a->n_rooms; i++)
        if (strcmp(a->rooms[i], b->rooms[i]))
            return false;
    return true;
}

/* Runs DEC on an exact-size heap copy of BUF[0..len) so ASan sees any over-read. */
static int s_decode_copy(decode_fn dec, const uint8_t *buf, size_t len)
{
    if (len > PROTO_ENVELOPE_MAX)
        return PROTO_E_TOO_BIG;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return PROTO_E_NOMEM;
    if (len)
        memcpy(copy, buf, len);
    int rc = dec(copy, len);
    free(copy);
    return rc;
}

/*  The checks every valid encoding gets: it decodes; every strict prefix fails; one
 *  trailing byte fails with PROTO_E_TRAILING; an array header one element short or long
 *  fails with PROTO_E_ARITY. CHEAP: decoding is O(1) in the body size (a payload view),
 *  so every prefix of a large body can be decoded in place as well. */
static void s_check_encoding(decode_fn dec, const uint8_t *buf, size_t len, bool cheap)
{
    CHECK_EQ(s_decode_copy(dec, buf, len), PROTO_OK);

    size_t accepted = 0;
    for (size_t cut = 0; cut < len; cut++) {
        bool exact = len <= EVERY_OFFSET_MAX || cut < 4096 || len - cut <= 64 || cut % 997 == 0;
        int rc = PROTO_E_TRUNCATED;
        if (exact)
            rc = s_decode_copy(dec, buf, cut);
        else if (cheap)
            rc = dec(buf, cut);
        if (rc == PROTO_OK)
            accepted++;
    }
    CHECK_EQ(accepted, 0);

    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0x00;
    CHECK_EQ(s_decode_copy(dec, longer, len + 1), PROTO_E_TRAILING);

    /* All bodies are fixarrays (1..15 elements). */
    CHECK(buf[0] >= 0x91 && buf[0] <= 0x9e);
    longer[0] = (uint8_t)(buf[0] + 1); /* one more element (the trailing nil byte) */
    CHECK_EQ(s_decode_copy(dec, longer, len + 1), PROTO_E_ARITY);
    longer[0] = (uint8_t)(buf[0] - 1);
    CHECK_EQ(s_decode_copy(dec, longer, len), PROTO_E_ARITY);
    free(longer);

    /* Not an array, and nothing at all. */
    const uint8_t map0[] = {0x80};
    CHECK_EQ(s_decode_copy(dec, map0, sizeof map0), PROTO_E_TYPE);
    CHECK_EQ(s_decode_copy(dec, NULL, 0), PROTO_E_TRUNCATED);
}

/* ---- decoders as decode_fn ---- */

static int s_dec_hello(const uint8_t *b, size_t n)
{
    p2p_hello_t m;
    return p2p_msg_read_hello(b, n, &m);
}

static int s_dec_u64(const uint8_t *b, size_t n)
{
    uint64_t v;
    return p2p_msg_read_u64(b, n, &v);
}

static int s_dec_find_node(const uint8_t *b, size_t n)
{
    p2p_find_node_t m;
    return p2p_msg_read_find_node(b, n, &m);
}

static int s_dec_nodes(const uint8_t *b, size_t n)
{
    p2p_records_msg_t *m = malloc(sizeof *m);
    int rc = p2p_msg_read_records(b, n, true, m);
    free(m);
    return rc;
}

static int s_dec_peers(const uint8_t *b, size_t n)
{
    p2p_records_msg_t *m = malloc(sizeof *m);
    int rc = p2p_msg_read_records(b, n, false, m);
    free(m);
    return rc;
}

static int s_dec_gossip(const uint8_t *b, size_t n)
{
    p2p_gossip_t m;
    return p2p_msg_read_gossip(b, n, &m);
}

static int s_dec_ids(const uint8_t *b, size_t n)
{
    p2p_ids_msg_t m;
    return p2p_msg_read_ids(b, n, &m);
}

static int s_dec_record(const uint8_t *b, size_t n)
{
    p2p_record_t rec;
    return p2p_msg_read_record(b, n, &rec);
}

static int s_dec_unicast(const uint8_t *b, size_t n)
{
    p2p_unicast_t m;
    return p2p_msg_read_unicast(b, n, &m);
}

static int s_dec_bye(const uint8_t *b, size_t n)
{
    char reason[P2P_REASON_MAX];
    return p2p_msg_read_bye(b, n, reason);
}

#endif

/*  fuzz_p2p_msg: libFuzzer harness for every p2p message body decoder (p2p/p2p_msg.h).
 *
 *  The first input byte chooses the decoder (modulo the number of decoders, so every
 *  byte selects one; the seed corpus uses 0..9):
 *      0 hello   1 u64 (ping/pong/ack)   2 find_node   3 records with req_id (nodes)
 *      4 records without req_id (peers)  5 gossip   6 ids (ihave/iwant)
 *      7 record (subscribe)   8 unicast (four fields: dest, msg_id, kind, payload)   9 bye
 *  and the rest of the input is the body. For any body the decoder must not crash and
 *  must return PROTO_OK or a proto_err_t. When it succeeds, the decoded fields must obey
 *  their limits and syntax, and re-encoding them with the matching write function must
 *  reproduce the body byte for byte (the decoders accept only canonical encodings, so
 *  anything else is a bug). A broken invariant calls abort(), which libFuzzer (and
 *  tests/fuzz/replay_main.c) report as a crash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_msg.h"
#include "p2p/p2p_record.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "tests/fuzz/fuzz_util.h"

/* The writer W holds exactly BODY[0..len); frees W. */
static void s_require_same(proto_wr_t *w, const uint8_t *body, size_t len)
{
    size_t n;
    const uint8_t *again = proto_wr_data(w, &n);
    fuzz_require_same(again, n, body, len);
    proto_wr_free(w);
}

static bool s_topic_ok(const char *topic)
{
    return topic[0] == '\0' || p2p_room_name_ok(topic);
}

static bool s_view_ok(const uint8_t *p, size_t n, const uint8_t *body, size_t len)
{
    return n <= P2P_PAYLOAD_MAX && n <= len && p >= body && (size_t)(p - body) <= len - n;
}

/* A decoded record obeys every rule the reader enforces. */
static void s_check_record(const p2p_record_t *rec)
{
    fuzz_require(rec->n_endpoints <= P2P_REC_ENDPOINTS, "too many endpoints");
    fuzz_require(rec->n_rooms <= P2P_REC_ROOMS, "too many rooms");
    for (int i = 0; i < rec->n_endpoints; i++)
        fuzz_require(p2p_endpoint_ok(rec->endpoints[i]), "bad endpoint accepted");
    for (int i = 0; i < rec->n_rooms; i++) {
        fuzz_require(p2p_room_name_ok(rec->rooms[i]), "bad room name accepted");
        fuzz_require(p2p_record_has_room(rec, rec->rooms[i]), "has_room misses a listed room");
        for (int j = 0; j < i; j++)
            fuzz_require(strcmp(rec->rooms[i], rec->rooms[j]) != 0, "duplicate room accepted");
    }
}

static int s_hello(const uint8_t *body, size_t len)
{
    p2p_hello_t m;
    int rc = p2p_msg_read_hello(body, len, &m);
    if (rc == PROTO_OK) {
        s_check_record(&m.record);
        fuzz_require(strlen(m.agent) < P2P_AGENT_MAX, "agent too long");
        bool verified = p2p_record_verify(&m.record); /* any answer, but no crash */
        (void)verified;
        proto_wr_t w;
        proto_wr_init(&w);
        p2p_msg_write_hello(&w, &m);
        s_require_same(&w, body, len);
    }
    return rc;
}

static int s_u64(const uint8_t *body, size_t len)
{
    uint64_t v;
    int rc = p2p_msg_read_u64(body, len, &v);
    if (rc == PROTO_OK) {
        proto_wr_t w;
        proto_wr_init(&w);
        p2p_msg_write_u64(&w, v);
        s_require_same(&w, body, len);
    }
    return rc;
}

static int s_find_node(const uint8_t *body, size_t len)
{
    p2p_find_node_t m;
    int rc = p2p_msg_read_find_node(body, len, &m);
    if (rc == PROTO_OK) {
        proto_wr_t w;
        proto_wr_init(&w);
        p2p_msg_write_find_node(&w, &m);
        s_require_same(&w, body, len);
    }
    return rc;
}

static int s_records(const uint8_t *body, size_t len, bool with_req_id)
{
    p2p_records_msg_t *m = malloc(sizeof *m);
    fuzz_require(m != NULL, "out of memory");
    int rc = p2p_msg_read_records(body, len, with_req_id, m);
    if (rc == PROTO_OK) {
        const p2p_record_t *ptrs[P2P_PEERS_MAX];
        fuzz_require(m->n_records <= (with_req_id ? P2P_NODES_MAX : P2P_PEERS_MAX),
                     "too many records");
        fuzz_require(with_req_id || m->req_id == 0, "req_id set in peers");
        for (size_t i = 0; i < m->n_records; i++) {
            s_check_record(&m->records[i]);
            ptrs[i] = &m->records[i];
        }
        proto_wr_t w;
        proto_wr_init(&w);
        p2p_msg_write_records(&w, with_req_id, m->req_id, ptrs, m->n_records);
        s_require_same(&w, body, len);
    } else {
        fuzz_require(m->n_records == 0, "records left behind after an error");
    }
    free(m);
    return rc;
}

static int s_gossip(const uint8_t *body, size_t len)
{
    p2p_gossip_t m;
    int rc = p2p_msg_read_gossip(body, len, &m);
    if (rc == PROTO_OK) {
        fuzz_require(s_topic_ok(m.topic), "bad topic accepted");
        fuzz_require(s_view_ok(m.payload, m.payload_len, body, len), "payload outside the input");
        proto_wr_t w;
        proto_wr_init(&w);
        p2p_msg_write_gossip(&w, m.topic, m.kind, m.payload, m.payload_len);
        s_require_same(&w, body, len);
    } else {
        fuzz_require(m.payload == NULL && m.payload_len == 0, "payload view left after an error");
    }
    return rc;
}

static int s_ids(const uint8_t *body, size_t len)
{
    p2p_ids_msg_t m;
    int rc = p2p_msg_read_ids(body, len, &m);
    if (rc == PROTO_OK) {
        fuzz_require(s_topic_ok(m.topic), "bad topic accepted");
        fuzz_require(m.n_ids <= P2P_IDS_MAX, "too many ids");
        proto_wr_t w;
        proto_wr_init(&w);
        p2p_msg_write_ids(&w, m.topic, (const uint8_t(*)[32])m.ids, m.n_ids);
        s_require_same(&w, body, len);
    }
    return rc;
}

static int s_record(const uint8_t *body, size_t len)
{
    p2p_record_t rec;
    int rc = p2p_msg_read_record(body, len, &rec);
    if (rc == PROTO_OK) {
        s_check_record(&rec);
        bool verified = p2p_record_verify(&rec);
        (void)verified;
        proto_wr_t w;
        proto_wr_init(&w);
        p2p_msg_write_record(&w, &rec);
        s_require_same(&w, body, len);
    }
    return rc;
}

static int s_unicast(const uint8_t *body, size_t len)
{
    p2p_unicast_t m;
    int rc = p2p_msg_read_unicast(body, len, &m);
    if (rc == PROTO_OK) {
        fuzz_require(m.kind >= P2P_KIND_USER_MIN, "unicast kind reserved for the p2p layer");
        fuzz_require(s_view_ok(m.payload, m.payload_len, body, len), "payload outside the input");
        proto_wr_t w;
        proto_wr_init(&w);
        p2p_msg_write_unicast(&w, &m);
        s_require_same(&w, body, len);
    } else {
        fuzz_require(m.payload == NULL && m.payload_len == 0, "payload view left after an error");
    }
    return rc;
}

static int s_bye(const uint8_t *body, size_t len)
{
    char reason[P2P_REASON_MAX];
    int rc = p2p_msg_read_bye(body, len, reason);
    if (rc == PROTO_OK) {
        fuzz_require(strlen(reason) < P2P_REASON_MAX, "reason too long");
        proto_wr_t w;
        proto_wr_init(&w);
        p2p_msg_write_bye(&w, reason);
        s_require_same(&w, body, len);
    }
    return rc;
}

static int s_nodes(const uint8_t *body, size_t len)
{
    return s_records(body, len, true);
}

static int s_peers(const uint8_t *body, size_t len)
{
    return s_records(body, len, false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_case_fn *const cases[] = {s_hello,  s_u64, s_find_node, s_nodes,   s_peers,
                                          s_gossip, s_ids, s_record,    s_unicast, s_bye};
    if (proto_crypto_init() != 0)
        abort();
    int rc = fuzz_dispatch(data, size, cases, sizeof cases / sizeof cases[0]);
    fuzz_require_decoder_rc(rc);
    fuzz_require(rc != PROTO_E_NOMEM && rc != PROTO_E_TOO_BIG,
                 "decoder returned an error it has no cause for");
    return 0;
}

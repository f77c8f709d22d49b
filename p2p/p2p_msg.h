/*  p2p_msg: bodies of the p2p message types (carried in proto envelopes).
 *
 *  Each body is a fixed-order msgpack array; each has a write function (appends the
 *  body to a writer) and a strict read function (whole buffer, exact arity, limits,
 *  no trailing bytes) returning PROTO_OK or a proto_err_t. Decoded strings are copied
 *  into the structs; decoded binary payloads are borrowed views into the input buffer.
 *  proto/PROTOCOL.md documents every field.
 */
#ifndef GENIE_P2P_MSG_H
#define GENIE_P2P_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2p/p2p_record.h"
#include "proto/proto_mp.h"
#include "proto/proto_err.h"

#define P2P_WUR PROTO_WUR

#define P2P_NODES_MAX 16 /* records in one NODES answer (Kademlia k) */
#define P2P_PEERS_MAX 32 /* records in one PEERS message */
#define P2P_IDS_MAX 256  /* message ids in one IHAVE / IWANT */
#define P2P_REASON_MAX 128
#define P2P_AGENT_MAX 64
#define P2P_PAYLOAD_MAX (250u * 1024u) /* a gossip message's payload (room post, broadcast) */
/* A unicast's payload: what one envelope (PROTO_ENVELOPE_MAX) holds with the unicast and
   envelope framing (under 512 bytes) around it, minus CURVE's per-frame overhead. */
#define P2P_UNICAST_MAX (1024u * 1024u - 8u * 1024u)
/* Bytes of unicast payloads a core keeps queued for delivery and retry, in all. */
#define P2P_UNICAST_QUEUE_BYTES (32u * 1024u * 1024u)

/* HELLO: [chain_id bin32, record, agent str, have_yours bool]
   The record is the sender's own signed peer record (endpoints, roles, rooms).
   have_yours says the sender already holds the receiver's HELLO; a HELLO without it is
   answered with one that has it, so a lost HELLO in either direction is recovered by
   retransmission and two HELLOs never answer each other forever. */
typedef struct {
    uint8_t chain_id[32];
    p2p_record_t record;
    char agent[P2P_AGENT_MAX];
    bool have_yours;
} p2p_hello_t;

/* PING / PONG: [nonce u64] */
/* FIND_NODE: [req_id u64, target bin32] */
typedef struct {
    uint64_t req_id;
    uint8_t target[P2P_ID_LEN];
} p2p_find_node_t;

/* NODES: [req_id u64, [record..<=16]]  and PEERS: [[record..<=32]] (req_id absent) */
typedef struct {
    uint64_t req_id;
    p2p_record_t records[P2P_PEERS_MAX];
    size_t n_records;
} p2p_records_msg_t;

/* GOSSIP: [topic str (room name, or "" for node-wide broadcast), kind u32, payload bin]
   Relayed verbatim: the envelope's sender is the origin, not the relaying peer. */
typedef struct {
    char topic[P2P_ROOM_NAME_MAX];
    uint32_t kind;
    const uint8_t *payload;
    size_t payload_len;
} p2p_gossip_t;

/* IHAVE / IWANT: [topic str, [id bin32..<=256]] */
typedef struct {
    char topic[P2P_ROOM_NAME_MAX];
    uint8_t ids[P2P_IDS_MAX][32];
    size_t n_ids;
} p2p_ids_msg_t;

/* SUBSCRIBE: [record]: the sender's new record after a room join/leave (gossiped). */

/* Gossip and unicast kinds below this are the p2p layer's own (0: a peer record, 1: a room
   post); the layer above uses registered message types (proto/proto_msgtype.h) at or
   above it. */
#define P2P_KIND_USER_MIN 16u

/* UNICAST: [dest bin32, msg_id u64, kind u32, payload bin]   ACK: [msg_id u64]
   KIND says what the payload is (a registered message type >= P2P_KIND_USER_MIN, e.g.
   PROTO_MSG_SYNC_REQ or PROTO_MSG_TEXT); the reader rejects smaller kinds. */
typedef struct {
    uint8_t dest[P2P_ID_LEN];
    uint64_t msg_id;
    uint32_t kind;
    const uint8_t *payload;
    size_t payload_len;
} p2p_unicast_t;

/* BYE: [reason str] */

void p2p_msg_write_hello(proto_wr_t *w, const p2p_hello_t *m);
int p2p_msg_read_hello(const uint8_t *buf, size_t len, p2p_hello_t *m) P2P_WUR;

void p2p_msg_write_u64(proto_wr_t *w, uint64_t v); /* PING, PONG, ACK: [u64] */
int p2p_msg_read_u64(const uint8_t *buf, size_t len, uint64_t *v) P2P_WUR;

void p2p_msg_write_find_node(proto_wr_t *w, const p2p_find_node_t *m);
int p2p_msg_read_find_node(const uint8_t *buf, size_t len, p2p_find_node_t *m) P2P_WUR;

/* NODES (with_req_id true, at most P2P_NODES_MAX) and PEERS (false, P2P_PEERS_MAX). */
void p2p_msg_write_records(proto_wr_t *w, bool with_req_id, uint64_t req_id,
                           const p2p_record_t *const *recs, size_t n);
int p2p_msg_read_records(const uint8_t *buf, size_t len, bool with_req_id,
                         p2p_records_msg_t *m) P2P_WUR;

void p2p_msg_write_gossip(proto_wr_t *w, const char *topic, uint32_t kind, const uint8_t *payload,
                          size_t len);
int p2p_msg_read_gossip(const uint8_t *buf, size_t len, p2p_gossip_t *m) P2P_WUR;

void p2p_msg_write_ids(proto_wr_t *w, const char *topic, const uint8_t (*ids)[32], size_t n);
int p2p_msg_read_ids(const uint8_t *buf, size_t len, p2p_ids_msg_t *m) P2P_WUR;

void p2p_msg_write_record(proto_wr_t *w, const p2p_record_t *rec); /* SUBSCRIBE */
int p2p_msg_read_record(const uint8_t *buf, size_t len, p2p_record_t *rec) P2P_WUR;

void p2p_msg_write_unicast(proto_wr_t *w, const p2p_unicast_t *m);
int p2p_msg_read_unicast(const uint8_t *buf, size_t len, p2p_unicast_t *m) P2P_WUR;

void p2p_msg_write_bye(proto_wr_t *w, const char *reason);
int p2p_msg_read_bye(const uint8_t *buf, size_t len, char reason[static P2P_REASON_MAX]) P2P_WUR;

#endif

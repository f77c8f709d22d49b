/*  p2p_record: signed, expiring peer records, the unit of peer exchange and lookup.
 *
 *  A record says "node ID listens on these endpoints, holds these roles, is a member of
 *  these rooms", numbered by SEQ (a newer record replaces an older one) and valid until
 *  EXPIRY_MS. It is signed by the node itself, so a record relayed by anyone cannot be
 *  altered. Wire form, a fixed-order array:
 *      [id bin32, endpoints [str..<=4], roles uint32, rooms [str..<=32], seq u64,
 *       expiry_ms u64, sig bin64]
 *  sig = Ed25519(id, BLAKE2b-256("genie/peer-record/v1" || 0 || msgpack(first 6 fields))).
 */
#ifndef GENIE_P2P_RECORD_H
#define GENIE_P2P_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "proto/proto_err.h"

#define P2P_ID_LEN 32
#define P2P_REC_ENDPOINTS 4
#define P2P_REC_ROOMS 32
#define P2P_ENDPOINT_MAX 128
#define P2P_ROOM_NAME_MAX 64
/* Largest encoded record: 4 endpoints and 32 room names at their limits. */
#define P2P_RECORD_MAX_BYTES                                                                       \
    (64 + P2P_REC_ENDPOINTS * (P2P_ENDPOINT_MAX + 3) + P2P_REC_ROOMS * (P2P_ROOM_NAME_MAX + 2) + 96)

typedef struct {
    uint8_t id[P2P_ID_LEN];
    char endpoints[P2P_REC_ENDPOINTS][P2P_ENDPOINT_MAX];
    uint8_t n_endpoints;
    uint32_t roles;
    char rooms[P2P_REC_ROOMS][P2P_ROOM_NAME_MAX];
    uint8_t n_rooms;
    uint64_t seq;
    uint64_t expiry_ms;
    uint8_t sig[PROTO_SIG_LEN];
} p2p_record_t;

/*  True if NAME is a valid room name: 1..63 bytes of [a-z0-9._-]. */
bool p2p_room_name_ok(const char *name);
/*  True if EP looks like tcp://HOST:PORT with a port 1..65535 and fits P2P_ENDPOINT_MAX. */
bool p2p_endpoint_ok(const char *ep);
/*  Parses a node address "NODEID@tcp://HOST:PORT" (NODEID: 64 hex characters) into ID and
 *  ENDPOINT. 0, or P2P_E_ADDR_FORM (no '@'), P2P_E_ADDR_ID (the id is not 64 hex
 *  characters) or P2P_E_ADDR_ENDPOINT (p2p_endpoint_ok refuses the endpoint). */
int p2p_address_parse(const char *text, uint8_t id[static 32],
                      char endpoint[static P2P_ENDPOINT_MAX]) PROTO_WUR;

/*  Signs REC (its id must be KEY's public key; fills rec->id and rec->sig). */
void p2p_record_sign(p2p_record_t *rec, const proto_key_t *key);
/*  True if REC's signature verifies. */
bool p2p_record_verify(const p2p_record_t *rec) PROTO_WUR;

/*  Appends REC's wire form to W. */
void p2p_record_write(proto_wr_t *w, const p2p_record_t *rec);
/*  Reads one record from R (strict; checks endpoint and room syntax, not the signature).
 *  PROTO_OK or a proto_err_t. */
int p2p_record_read(proto_rd_t *r, p2p_record_t *rec) PROTO_WUR;

/*  True if REC lists room NAME. */
bool p2p_record_has_room(const p2p_record_t *rec, const char *name);

#endif

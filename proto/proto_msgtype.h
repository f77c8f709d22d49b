/*  proto_msgtype: the registry of message types carried in envelopes.
 *
 *  Each type has a stable number, a name, and a maximum body size that the envelope
 *  decoder enforces before anything else looks at the body. Numbers are never reused.
 *  Ranges: 1-31 p2p, 32-63 ledger, 64-95 enclave, 96-127 Genie flows (recruitment,
 *  donation receipts, queries). proto/PROTOCOL.md documents each body.
 */
#ifndef GENIE_PROTO_MSGTYPE_H
#define GENIE_PROTO_MSGTYPE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    /* p2p */
    PROTO_MSG_HELLO = 1,
    PROTO_MSG_PING = 2,
    PROTO_MSG_PONG = 3,
    PROTO_MSG_FIND_NODE = 4,
    PROTO_MSG_NODES = 5,
    PROTO_MSG_PEERS = 6,
    PROTO_MSG_GOSSIP = 7,
    PROTO_MSG_UNICAST = 8,
    PROTO_MSG_ACK = 9,
    PROTO_MSG_SUBSCRIBE = 10,
    PROTO_MSG_IHAVE = 11,
    PROTO_MSG_BYE = 12,
    PROTO_MSG_IWANT = 13,
    /* ledger */
    PROTO_MSG_TX = 32,
    PROTO_MSG_PROPOSAL = 33,
    PROTO_MSG_VOTE = 34,
    PROTO_MSG_SYNC_REQ = 35,
    PROTO_MSG_SYNC_BLOCKS = 36,
    PROTO_MSG_STATUS = 37,
    PROTO_MSG_TX_BATCH = 38,
    PROTO_MSG_DECIDED = 39, /* broadcast: a committed block and its certificate (followers) */
    /* enclave */
    PROTO_MSG_QUOTE = 64,
    PROTO_MSG_ENCLAVE_CALL = 65,   /* unicast: a sealed request relayed to a runner's enclave */
    PROTO_MSG_ENCLAVE_ANSWER = 66, /* unicast: the runner's answer to an ENCLAVE_CALL */
    PROTO_MSG_DATA_FETCH = 67,     /* unicast: a runner asks an owner for a chunk of a blob */
    PROTO_MSG_DATA_CHUNK = 68,     /* unicast: the owner's answer to a DATA_FETCH */
    /* Genie flows */
    PROTO_MSG_RECRUITMENT = 96,
    PROTO_MSG_DONATION_RECEIPT = 97,
    PROTO_MSG_QUERY = 98,
    PROTO_MSG_QUERY_RESULT = 99,
    PROTO_MSG_TEXT = 100 /* a person-to-person message (`genie send`): a unicast kind */
} proto_msgtype_t;

typedef struct {
    uint32_t type;
    const char *name;
    size_t max_body; /* bytes; the envelope decoder rejects larger bodies */
} proto_msgtype_info_t;

/*  Registry entry for TYPE, or NULL if the type is unknown. */
const proto_msgtype_info_t *proto_msgtype_lookup(uint32_t type);
/*  Name of TYPE, or "unknown". */
const char *proto_msgtype_name(uint32_t type);
/*  All entries, *count set to their number (for docs and tests). */
const proto_msgtype_info_t *proto_msgtype_all(size_t *count);

#endif

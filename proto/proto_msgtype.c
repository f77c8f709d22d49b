/*  proto_msgtype: the message-type registry (numbers, names, body limits). */
#include "proto/proto_msgtype.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

static const proto_msgtype_info_t s_types[] = {
    {PROTO_MSG_HELLO, "hello", 4 * KIB},
    {PROTO_MSG_PING, "ping", 64},
    {PROTO_MSG_PONG, "pong", 64},
    {PROTO_MSG_FIND_NODE, "find_node", 128},
    {PROTO_MSG_NODES, "nodes", 48 * KIB},
    {PROTO_MSG_PEERS, "peers", 96 * KIB},
    {PROTO_MSG_GOSSIP, "gossip", 256 * KIB},
    {PROTO_MSG_UNICAST, "unicast", 1 * MIB},
    {PROTO_MSG_ACK, "ack", 128},
    {PROTO_MSG_SUBSCRIBE, "subscribe", 4 * KIB},
    {PROTO_MSG_IHAVE, "ihave", 10 * KIB},
    {PROTO_MSG_BYE, "bye", 256},
    {PROTO_MSG_IWANT, "iwant", 10 * KIB},
    {PROTO_MSG_TX, "tx", 64 * KIB},
    {PROTO_MSG_PROPOSAL, "proposal", 1 * MIB},
    {PROTO_MSG_VOTE, "vote", 1 * KIB},
    {PROTO_MSG_SYNC_REQ, "sync_req", 128},
    {PROTO_MSG_SYNC_BLOCKS, "sync_blocks", 1 * MIB},
    {PROTO_MSG_STATUS, "status", 1 * KIB},
    {PROTO_MSG_TX_BATCH, "tx_batch", 256 * KIB},
    {PROTO_MSG_DECIDED, "decided", 1 * MIB},
    {PROTO_MSG_QUOTE, "quote", 8 * KIB},
    {PROTO_MSG_ENCLAVE_CALL, "enclave_call", 1 * MIB},
    {PROTO_MSG_ENCLAVE_ANSWER, "enclave_answer", 16 * KIB},
    {PROTO_MSG_DATA_FETCH, "data_fetch", 128},
    {PROTO_MSG_DATA_CHUNK, "data_chunk", 250 * KIB},
    {PROTO_MSG_RECRUITMENT, "recruitment", 16 * KIB},
    {PROTO_MSG_DONATION_RECEIPT, "donation_receipt", 4 * KIB},
    {PROTO_MSG_QUERY, "query", 256 * KIB},
    {PROTO_MSG_QUERY_RESULT, "query_result", 256 * KIB},
    {PROTO_MSG_TEXT, "text", 256 * KIB},
};

const proto_msgtype_info_t *proto_msgtype_lookup(uint32_t type)
{
    for (size_t i = 0; i < sizeof s_types / sizeof s_types[0]; i++)
        if (s_types[i].type == type)
            return &s_types[i];
    return NULL;
}

const char *proto_msgtype_name(uint32_t type)
{
    const proto_msgtype_info_t *info = proto_msgtype_lookup(type);
    return info ? info->name : "unknown";
}

const proto_msgtype_info_t *proto_msgtype_all(size_t *count)
{
    *count = sizeof s_types / sizeof s_types[0];
    return s_types;
}

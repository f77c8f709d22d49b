/*  node_enclave_relay_msg: the enclave relay's two messages, ENCLAVE_CALL (unicast kind 65)
 *  and ENCLAVE_ANSWER (66): strict, bounded codecs (see node_enclave_relay.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/service/node_enclave_relay.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"

#define ERR_MAX 999u /* largest negated genie code */

int node_enclave_call_encode(const node_enclave_call_msg_t *m, uint8_t **out, size_t *out_len)
{
    if (m->req_len > NODE_ENCLAVE_RELAY_REQ_MAX)
        return PROTO_E_TOO_BIG;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    proto_wr_uint(&w, PROTO_MSG_ENCLAVE_CALL);
    proto_wr_uint(&w, m->call_id);
    proto_wr_bin(&w, m->enclave_id, 32);
    proto_wr_bin(&w, m->req, m->req_len);
    *out = proto_wr_take(&w, out_len);
    proto_wr_free(&w);
    return *out ? PROTO_OK : PROTO_E_NOMEM;
}

int node_enclave_answer_encode(const node_enclave_answer_msg_t *m, uint8_t **out, size_t *out_len)
{
    size_t mlen = strnlen(m->msg, sizeof m->msg);
    if (m->ans_len > NODE_ENCLAVE_RELAY_ANS_MAX || m->error > ERR_MAX ||
        mlen > NODE_ENCLAVE_RELAY_MSG_MAX)
        return PROTO_E_TOO_BIG;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 5);
    proto_wr_uint(&w, PROTO_MSG_ENCLAVE_ANSWER);
    proto_wr_uint(&w, m->call_id);
    proto_wr_uint(&w, m->error);
    proto_wr_bin(&w, m->ans, m->ans_len);
    proto_wr_str(&w, m->msg, mlen);
    *out = proto_wr_take(&w, out_len);
    proto_wr_free(&w);
    return *out ? PROTO_OK : PROTO_E_NOMEM;
}

int node_enclave_call_decode(const uint8_t *buf, size_t len, node_enclave_call_msg_t *out)
{
    memset(out, 0, sizeof *out);
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    uint64_t type = 0;
    int rc = proto_rd_array_exact(&r, 4);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, PROTO_MSG_ENCLAVE_CALL, &type);
    if (rc == PROTO_OK && type != PROTO_MSG_ENCLAVE_CALL)
        rc = PROTO_E_INVALID;
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, UINT64_MAX, &out->call_id);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(&r, 32, out->enclave_id);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(&r, NODE_ENCLAVE_RELAY_REQ_MAX, &out->req, &out->req_len);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&r);
    return rc;
}

int node_enclave_answer_decode(const uint8_t *buf, size_t len, node_enclave_answer_msg_t *out)
{
    memset(out, 0, sizeof *out);
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    uint64_t type = 0, error = 0;
    int rc = proto_rd_array_exact(&r, 5);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, PROTO_MSG_ENCLAVE_ANSWER, &type);
    if (rc == PROTO_OK && type != PROTO_MSG_ENCLAVE_ANSWER)
        rc = PROTO_E_INVALID;
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, UINT64_MAX, &out->call_id);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, ERR_MAX, &error);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(&r, NODE_ENCLAVE_RELAY_ANS_MAX, &out->ans, &out->ans_len);
    if (rc == PROTO_OK)
        rc = proto_rd_str_copy(&r, out->msg, sizeof out->msg);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&r);
    out->error = (uint32_t)error;
    return rc;
}

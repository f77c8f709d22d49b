/*  p2p_msg: bodies of the p2p message types (see p2p_msg.h).
 *
 *  Every reader takes the whole body, checks the exact arity and every limit, and ends
 *  with proto_rd_finish, so trailing bytes are an error and, since the reader also
 *  rejects non-shortest encodings, write(read(b)) == b for every accepted body (the fuzz
 *  harness tests/fuzz/fuzz_p2p_msg.c checks exactly that). Readers never allocate: strings
 *  are copied into the caller's struct, payloads are views into the caller's buffer. On
 *  error the output struct is cleared (no half-decoded views escape).
 */
#include "p2p/p2p_msg.h"

#include <assert.h>
#include <string.h>

/* Records a semantic error in R (sticky, like the reader's own) and returns it. */
static int s_invalid(proto_rd_t *r)
{
    if (r->err == PROTO_OK)
        r->err = PROTO_E_INVALID;
    return r->err;
}

/* A topic is "" (node-wide) or a room name. Reads it into OUT. */
static int s_read_topic(proto_rd_t *r, char out[static P2P_ROOM_NAME_MAX])
{
    int rc = proto_rd_str_copy(r, out, P2P_ROOM_NAME_MAX);
    if (rc)
        return rc;
    if (out[0] != '\0' && !p2p_room_name_ok(out))
        return s_invalid(r);
    return PROTO_OK;
}

static void s_write_cstr(proto_wr_t *w, const char *s)
{
    proto_wr_str(w, s, strlen(s));
}

/* ---- HELLO ---- */

void p2p_msg_write_hello(proto_wr_t *w, const p2p_hello_t *m)
{
    proto_wr_array(w, 4);
    proto_wr_bin(w, m->chain_id, sizeof m->chain_id);
    p2p_record_write(w, &m->record);
    proto_wr_str(w, m->agent, strnlen(m->agent, P2P_AGENT_MAX));
    proto_wr_bool(w, m->have_yours);
}

int p2p_msg_read_hello(const uint8_t *buf, size_t len, p2p_hello_t *m)
{
    proto_rd_t r;
    memset(m, 0, sizeof *m);
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_exact(&r, 4) || proto_rd_bin_exact(&r, sizeof m->chain_id, m->chain_id) ||
        p2p_record_read(&r, &m->record) || proto_rd_str_copy(&r, m->agent, P2P_AGENT_MAX) ||
        proto_rd_bool(&r, &m->have_yours) || proto_rd_finish(&r)) {
        memset(m, 0, sizeof *m);
        return r.err;
    }
    return PROTO_OK;
}

/* ---- PING / PONG / ACK ---- */

void p2p_msg_write_u64(proto_wr_t *w, uint64_t v)
{
    proto_wr_array(w, 1);
    proto_wr_uint(w, v);
}

int p2p_msg_read_u64(const uint8_t *buf, size_t len, uint64_t *v)
{
    proto_rd_t r;
    uint64_t x = 0;
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_exact(&r, 1) || proto_rd_uint(&r, UINT64_MAX, &x) || proto_rd_finish(&r)) {
        *v = 0;
        return r.err;
    }
    *v = x;
    return PROTO_OK;
}

/* ---- FIND_NODE ---- */

void p2p_msg_write_find_node(proto_wr_t *w, const p2p_find_node_t *m)
{
    proto_wr_array(w, 2);
    proto_wr_uint(w, m->req_id);
    proto_wr_bin(w, m->target, P2P_ID_LEN);
}

int p2p_msg_read_find_node(const uint8_t *buf, size_t len, p2p_find_node_t *m)
{
    proto_rd_t r;
    memset(m, 0, sizeof *m);
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_exact(&r, 2) || proto_rd_uint(&r, UINT64_MAX, &m->req_id) ||
        proto_rd_bin_exact(&r, P2P_ID_LEN, m->target) || proto_rd_finish(&r)) {
        memset(m, 0, sizeof *m);
        return r.err;
    }
    return PROTO_OK;
}

/* ---- NODES / PEERS ---- */

void p2p_msg_write_records(proto_wr_t *w, bool with_req_id, uint64_t req_id,
                           const p2p_record_t *const *recs, size_t n)
{
    assert(n <= (with_req_id ? P2P_NODES_MAX : P2P_PEERS_MAX));
    if (with_req_id) {
        proto_wr_array(w, 2);
        proto_wr_uint(w, req_id);
    } else {
        proto_wr_array(w, 1);
    }
    proto_wr_array(w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        p2p_record_write(w, recs[i]);
}

int p2p_msg_read_records(const uint8_t *buf, size_t len, bool with_req_id, p2p_records_msg_t *m)
{
    proto_rd_t r;
    uint32_t n;
    m->req_id = 0;
    m->n_records = 0;
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_exact(&r, with_req_id ? 2 : 1))
        goto err;
    if (with_req_id && proto_rd_uint(&r, UINT64_MAX, &m->req_id))
        goto err;
    if (proto_rd_array_max(&r, with_req_id ? P2P_NODES_MAX : P2P_PEERS_MAX, &n))
        goto err;
    for (uint32_t i = 0; i < n; i++)
        if (p2p_record_read(&r, &m->records[i]))
            goto err;
    if (proto_rd_finish(&r))
        goto err;
    m->n_records = n;
    return PROTO_OK;
err:
    m->req_id = 0;
    m->n_records = 0;
    return r.err;
}

/* ---- GOSSIP ---- */

void p2p_msg_write_gossip(proto_wr_t *w, const char *topic, uint32_t kind, const uint8_t *payload,
                          size_t len)
{
    proto_wr_array(w, 3);
    s_write_cstr(w, topic);
    proto_wr_uint(w, kind);
    proto_wr_bin(w, payload, len);
}

int p2p_msg_read_gossip(const uint8_t *buf, size_t len, p2p_gossip_t *m)
{
    proto_rd_t r;
    uint64_t kind;
    memset(m, 0, sizeof *m);
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_exact(&r, 3) || s_read_topic(&r, m->topic) ||
        proto_rd_uint(&r, UINT32_MAX, &kind) ||
        proto_rd_bin(&r, P2P_PAYLOAD_MAX, &m->payload, &m->payload_len) || proto_rd_finish(&r)) {
        memset(m, 0, sizeof *m);
        return r.err;
    }
    m->kind = (uint32_t)kind;
    return PROTO_OK;
}

/* ---- IHAVE / IWANT ---- */

void p2p_msg_write_ids(proto_wr_t *w, const char *topic, const uint8_t (*ids)[32], size_t n)
{
    assert(n <= P2P_IDS_MAX);
    proto_wr_array(w, 2);
    s_write_cstr(w, topic);
    proto_wr_array(w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        proto_wr_bin(w, ids[i], 32);
}

int p2p_msg_read_ids(const uint8_t *buf, size_t len, p2p_ids_msg_t *m)
{
    proto_rd_t r;
    uint32_t n;
    m->topic[0] = '\0';
    m->n_ids = 0;
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_exact(&r, 2) || s_read_topic(&r, m->topic) ||
        proto_rd_array_max(&r, P2P_IDS_MAX, &n))
        goto err;
    for (uint32_t i = 0; i < n; i++)
        if (proto_rd_bin_exact(&r, 32, m->ids[i]))
            goto err;
    if (proto_rd_finish(&r))
        goto err;
    m->n_ids = n;
    return PROTO_OK;
err:
    m->topic[0] = '\0';
    m->n_ids = 0;
    return r.err;
}

/* ---- SUBSCRIBE ---- */

void p2p_msg_write_record(proto_wr_t *w, const p2p_record_t *rec)
{
    proto_wr_array(w, 1);
    p2p_record_write(w, rec);
}

int p2p_msg_read_record(const uint8_t *buf, size_t len, p2p_record_t *rec)
{
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_exact(&r, 1)) {
        memset(rec, 0, sizeof *rec);
        return r.err;
    }
    if (p2p_record_read(&r, rec) || proto_rd_finish(&r)) {
        memset(rec, 0, sizeof *rec);
        return r.err;
    }
    return PROTO_OK;
}

/* ---- UNICAST ---- */

void p2p_msg_write_unicast(proto_wr_t *w, const p2p_unicast_t *m)
{
    proto_wr_array(w, 4);
    proto_wr_bin(w, m->dest, P2P_ID_LEN);
    proto_wr_uint(w, m->msg_id);
    proto_wr_uint(w, m->kind);
    proto_wr_bin(w, m->payload, m->payload_len);
}

int p2p_msg_read_unicast(const uint8_t *buf, size_t len, p2p_unicast_t *m)
{
    proto_rd_t r;
    uint64_t kind = 0;
    memset(m, 0, sizeof *m);
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_exact(&r, 4) || proto_rd_bin_exact(&r, P2P_ID_LEN, m->dest) ||
        proto_rd_uint(&r, UINT64_MAX, &m->msg_id) || proto_rd_uint(&r, UINT32_MAX, &kind) ||
        (kind < P2P_KIND_USER_MIN && s_invalid(&r)) ||
        proto_rd_bin(&r, P2P_UNICAST_MAX, &m->payload, &m->payload_len) || proto_rd_finish(&r)) {
        memset(m, 0, sizeof *m);
        return r.err;
    }
    m->kind = (uint32_t)kind;
    return PROTO_OK;
}

/* ---- BYE ---- */

void p2p_msg_write_bye(proto_wr_t *w, const char *reason)
{
    proto_wr_array(w, 1);
    s_write_cstr(w, reason);
}

int p2p_msg_read_bye(const uint8_t *buf, size_t len, char reason[static P2P_REASON_MAX])
{
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_exact(&r, 1) || proto_rd_str_copy(&r, reason, P2P_REASON_MAX) ||
        proto_rd_finish(&r)) {
        reason[0] = '\0';
        return r.err;
    }
    return PROTO_OK;
}

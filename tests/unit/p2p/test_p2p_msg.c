/*  test_p2p_msg: every p2p message body round-trips at its empty and maximal sizes, and
 *  every decoder rejects what it must: each limit, truncation at every offset, a trailing
 *  byte, the wrong arity. Also a usage example:
 *
 *      proto_wr_t w; proto_wr_init(&w);
 *      p2p_msg_write_gossip(&w, "cohort-a", kind, payload, payload_len);
 *      uint8_t *body = proto_wr_take(&w, &body_len);   // caller frees
 *      ...
 *      p2p_gossip_t g;
 *      int rc = p2p_msg_read_gossip(body, body_len, &g); // g.payload borrows body
 *      if (rc != PROTO_OK) misbehaviour(proto_err_str(rc));
 */
#include "p2p_msg_helpers.h"

/* ---- HELLO ---- */

static void s_hello_round_trip(const p2p_hello_t *in)
{
    proto_wr_t w;
    size_t len, len2;
    proto_wr_init(&w);
    p2p_msg_write_hello(&w, in);
    uint8_t *buf = s_take(&w, &len);

    p2p_hello_t out;
    CHECK_EQ(p2p_msg_read_hello(buf, len, &out), PROTO_OK);
    CHECK(memcmp(out.chain_id, in->chain_id, 32) == 0);
    CHECK(s_rec_eq(&out.record, &in->record));
    CHECK(p2p_record_verify(&out.record));
    CHECK(strcmp(out.agent, in->agent) == 0);
    proto_wr_init(&w);
    p2p_msg_write_hello(&w, &out);
    uint8_t *buf2 = s_take(&w, &len2);
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    free(buf2);

    s_check_encoding(s_dec_hello, buf, len, false);
    free(buf);
}

static void test_hello(const proto_key_t *key)
{
    p2p_hello_t h;
    memset(&h, 0, sizeof h);
    s_record_empty(&h.record, key);
    s_hello_round_trip(&h); /* empty agent, empty record */

    memset(h.chain_id, 0xff, sizeof h.chain_id);
    s_record_max(&h.record, key, UINT64_MAX);
    s_fill(h.agent, 'g', P2P_AGENT_MAX - 1);
    s_hello_round_trip(&h); /* everything at its limit */

    /* Agent one byte too long. */
    char agent[P2P_AGENT_MAX + 1];
    s_fill(agent, 'g', P2P_AGENT_MAX);
    p2p_record_t rec;
    s_record_empty(&rec, key);
    proto_wr_t w;
    size_t len;
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    proto_wr_bin(&w, h.chain_id, 32);
    p2p_record_write(&w, &rec);
    proto_wr_str(&w, agent, strlen(agent));
    proto_wr_bool(&w, false);
    uint8_t *buf = s_take(&w, &len);
    CHECK_EQ(s_decode_copy(s_dec_hello, buf, len), PROTO_E_TOO_LONG);
    free(buf);

    /* Short chain id. */
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    proto_wr_bin(&w, h.chain_id, 31);
    p2p_record_write(&w, &rec);
    proto_wr_str(&w, "a", 1);
    proto_wr_bool(&w, false);
    buf = s_take(&w, &len);
    CHECK_EQ(s_decode_copy(s_dec_hello, buf, len), PROTO_E_INVALID);
    free(buf);

    /* A record with a bad endpoint inside a hello (the writer does not check syntax). */
    snprintf(rec.endpoints[0], P2P_ENDPOINT_MAX, "tcp://h:0");
    rec.n_endpoints = 1;
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    proto_wr_bin(&w, h.chain_id, 32);
    p2p_record_write(&w, &rec);
    proto_wr_str(&w, "a", 1);
    proto_wr_bool(&w, false);
    buf = s_take(&w, &len);
    p2p_hello_t out;
    CHECK_EQ(p2p_msg_read_hello(buf, len, &out), PROTO_E_INVALID);
    CHECK_EQ(out.record.n_endpoints, 0); /* cleared on error */
    free(buf);
}

/* ---- PING / PONG / ACK ---- */

static void test_u64(void)
{
    const uint64_t values[] = {
        0, 1, 127, 128, 255, 256, 65535, 65536, UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        proto_wr_t w;
        size_t len;
        proto_wr_init(&w);
        p2p_msg_write_u64(&w, values[i]);
        uint8_t *buf = s_take(&w, &len);
        uint64_t v = 12345;
        CHECK_EQ(p2p_msg_read_u64(buf, len, &v), PROTO_OK);
        CHECK_EQ(v, values[i]);
        s_check_encoding(s_dec_u64, buf, len, false);
        free(buf);
    }
    const uint8_t negative[] = {0x91, 0xff};    /* [-1] */
    const uint8_t wide[] = {0x91, 0xcc, 0x05};  /* [5] as uint8: not shortest */
    const uint8_t as_str[] = {0x91, 0xa1, '5'}; /* ["5"] */
    const uint8_t empty[] = {0x90};             /* [] */
    CHECK_EQ(s_decode_copy(s_dec_u64, negative, sizeof negative), PROTO_E_TYPE);
    CHECK_EQ(s_decode_copy(s_dec_u64, wide, sizeof wide), PROTO_E_NONCANONICAL);
    CHECK_EQ(s_decode_copy(s_dec_u64, as_str, sizeof as_str), PROTO_E_TYPE);
    CHECK_EQ(s_decode_copy(s_dec_u64, empty, sizeof empty), PROTO_E_ARITY);
}

/* ---- FIND_NODE ---- */

static void test_find_node(void)
{
    p2p_find_node_t in[2];
    memset(in, 0, sizeof in);
    in[1].req_id = UINT64_MAX;
    memset(in[1].target, 0xff, P2P_ID_LEN);
    for (int i = 0; i < 2; i++) {
        proto_wr_t w;
        size_t len;
        proto_wr_init(&w);
        p2p_msg_write_find_node(&w, &in[i]);
        uint8_t *buf = s_take(&w, &len);
        p2p_find_node_t out;
        CHECK_EQ(p2p_msg_read_find_node(buf, len, &out), PROTO_OK);
        CHECK_EQ(out.req_id, in[i].req_id);
        CHECK(memcmp(out.target, in[i].target, P2P_ID_LEN) == 0);
        s_check_encoding(s_dec_find_node, buf, len, false);
        free(buf);
    }
    const uint8_t zeros[33] = {0};
    const size_t bad_lens[] = {0, 31, 33};
    const int want[] = {PROTO_E_INVALID, PROTO_E_INVALID, PROTO_E_TOO_LONG};
    for (int i = 0; i < 3; i++) {
        proto_wr_t w;
        size_t len;
        proto_wr_init(&w);
        proto_wr_array(&w, 2);
        proto_wr_uint(&w, 7);
        proto_wr_bin(&w, zeros, bad_lens[i]);
        uint8_t *buf = s_take(&w, &len);
        CHECK_EQ(s_decode_copy(s_dec_find_node, buf, len), want[i]);
        free(buf);
    }
}

/* ---- NODES / PEERS ---- */

/* Encodes N records (typical or maximal) as NODES or PEERS. */
static uint8_t *s_records_body(const proto_key_t *key, bool nodes, uint64_t req_id, size_t n,
                               bool maximal, p2p_record_t *recs, size_t *len)
{
    const p2p_record_t *ptrs[P2P_PEERS_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        if (maximal)
            s_record_max(&recs[i], key, i);
        else
            s_record_typical(&recs[i], key, i);
        ptrs[i] = &recs[i];
    }
    proto_wr_t w;
    proto_wr_init(&w);
    if (n <= (nodes ? P2P_NODES_MAX : P2P_PEERS_MAX)) {
        p2p_msg_write_records(&w, nodes, req_id, ptrs, n);
    } else { /* over the limit: write by hand (the writer asserts the limit) */
        proto_wr_array(&w, nodes ? 2 : 1);
        if (nodes)
            proto_wr_uint(&w, req_id);
        proto_wr_array(&w, (uint32_t)n);
        for (size_t i = 0; i < n; i++)
            p2p_record_write(&w, ptrs[i]);
    }
    return s_take(&w, len);
}

static void s_records_case(const proto_key_t *key, bool nodes, uint64_t req_id, size_t n,
                           bool maximal, p2p_record_t *recs, p2p_records_msg_t *out)
{
    size_t len, len2;
    uint8_t *buf = s_records_body(key, nodes, req_id, n, maximal, recs, &len);
    CHECK_EQ(p2p_msg_read_records(buf, len, nodes, out), PROTO_OK);
    CHECK_EQ(out->n_records, n);
    CHECK_EQ(out->req_id, nodes ? req_id : 0);
    const p2p_record_t *ptrs[P2P_PEERS_MAX];
    for (size_t i = 0; i < out->n_records && i < P2P_PEERS_MAX; i++) {
        CHECK(s_rec_eq(&out->records[i], &recs[i]));
        CHECK(p2p_record_verify(&out->records[i]));
        ptrs[i] = &out->records[i];
    }
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_records(&w, nodes, out->req_id, ptrs, out->n_records);
    uint8_t *buf2 = s_take(&w, &len2);
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    free(buf2);

    s_check_encoding(nodes ? s_dec_nodes : s_dec_peers, buf, len, false);
    /* A NODES body is not a PEERS body and vice versa. */
    CHECK_EQ(s_decode_copy(nodes ? s_dec_peers : s_dec_nodes, buf, len), PROTO_E_ARITY);
    free(buf);
}

static void test_records(const proto_key_t *key)
{
    p2p_record_t *recs = calloc(P2P_PEERS_MAX + 1, sizeof *recs);
    p2p_records_msg_t *out = malloc(sizeof *out);

    for (int nodes = 0; nodes <= 1; nodes++) {
        size_t max = nodes ? P2P_NODES_MAX : P2P_PEERS_MAX;
        s_records_case(key, nodes, 0, 0, false, recs, out);
        s_records_case(key, nodes, UINT64_MAX, 1, false, recs, out);
        s_records_case(key, nodes, 77, max, false, recs, out);
        s_records_case(key, nodes, UINT64_MAX, max, true, recs, out);

        size_t len;
        uint8_t *buf = s_records_body(key, nodes, 1, max + 1, false, recs, &len);
        CHECK_EQ(p2p_msg_read_records(buf, len, nodes, out), PROTO_E_TOO_LONG);
        CHECK_EQ(out->n_records, 0);
        free(buf);
        buf = s_records_body(key, nodes, UINT64_MAX, max, true, recs, &len);
        printf("%s: maximal body %zu bytes\n", nodes ? "nodes" : "peers", len);
        free(buf);

        /* One bad record among good ones fails the whole message. */
        const p2p_record_t *ptrs[3] = {&recs[0], &recs[1], &recs[2]};
        s_record_typical(&recs[0], key, 1);
        s_record_typical(&recs[1], key, 2);
        s_record_typical(&recs[2], key, 3);
        snprintf(recs[1].rooms[0], P2P_ROOM_NAME_MAX, "Bad");
        proto_wr_t w;
        proto_wr_init(&w);
        p2p_msg_write_records(&w, nodes, 5, ptrs, 3);
        buf = s_take(&w, &len);
        CHECK_EQ(p2p_msg_read_records(buf, len, nodes, out), PROTO_E_INVALID);
        CHECK_EQ(out->n_records, 0);
        free(buf);
    }

    /* Records whose signatures do not verify still decode: the core verifies. */
    s_record_typical(&recs[0], key, 9);
    recs[0].seq = 10;
    const p2p_record_t *one = &recs[0];
    proto_wr_t w;
    size_t len;
    proto_wr_init(&w);
    p2p_msg_write_records(&w, false, 0, &one, 1);
    uint8_t *buf = s_take(&w, &len);
    CHECK_EQ(p2p_msg_read_records(buf, len, false, out), PROTO_OK);
    CHECK(!p2p_record_verify(&out->records[0]));
    free(buf);

    free(out);
    free(recs);
}

/* ---- GOSSIP ---- */

static void s_gossip_case(const char *topic, uint32_t kind, const uint8_t *payload, size_t n)
{
    proto_wr_t w;
    size_t len, len2;
    proto_wr_init(&w);
    p2p_msg_write_gossip(&w, topic, kind, payload, n);
    uint8_t *buf = s_take(&w, &len);
    p2p_gossip_t m;
    CHECK_EQ(p2p_msg_read_gossip(buf, len, &m), PROTO_OK);
    CHECK(strcmp(m.topic, topic) == 0);
    CHECK_EQ(m.kind, kind);
    CHECK_EQ(m.payload_len, n);
    CHECK(m.payload >= buf && m.payload + m.payload_len == buf + len); /* a view, last */
    CHECK(n == 0 || memcmp(m.payload, payload, n) == 0);
    proto_wr_init(&w);
    p2p_msg_write_gossip(&w, m.topic, m.kind, m.payload, m.payload_len);
    uint8_t *buf2 = s_take(&w, &len2);
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    free(buf2);
    s_check_encoding(s_dec_gossip, buf, len, true);
    free(buf);
}

/* Decodes a hand-written gossip body [topic, kind, payload of N bytes]. */
static int s_gossip_raw(const char *topic, uint64_t kind, size_t n)
{
    uint8_t *payload = calloc(1, n ? n : 1);
    proto_wr_t w;
    size_t len;
    proto_wr_init(&w);
    proto_wr_array(&w, 3);
    proto_wr_str(&w, topic, strlen(topic));
    proto_wr_uint(&w, kind);
    proto_wr_bin(&w, payload, n);
    uint8_t *buf = s_take(&w, &len);
    int rc = s_decode_copy(s_dec_gossip, buf, len);
    free(buf);
    free(payload);
    return rc;
}

static void test_gossip(void)
{
    uint8_t *big = malloc(P2P_PAYLOAD_MAX);
    for (size_t i = 0; i < P2P_PAYLOAD_MAX; i++)
        big[i] = (uint8_t)(i * 31 + 7);
    char room[P2P_ROOM_NAME_MAX], long_room[P2P_ROOM_NAME_MAX + 1];
    s_fill(room, 'z', P2P_ROOM_NAME_MAX - 1);
    s_fill(long_room, 'z', P2P_ROOM_NAME_MAX);

    s_gossip_case("", 0, NULL, 0);
    s_gossip_case("a", 1, big, 1);
    s_gossip_case(room, UINT32_MAX, big, P2P_PAYLOAD_MAX);
    free(big);

    CHECK_EQ(s_gossip_raw("", 0, P2P_PAYLOAD_MAX), PROTO_OK);
    CHECK_EQ(s_gossip_raw("", 0, P2P_PAYLOAD_MAX + 1), PROTO_E_TOO_LONG);
    CHECK_EQ(s_gossip_raw("", UINT32_MAX, 0), PROTO_OK);
    CHECK_EQ(s_gossip_raw("", (uint64_t)UINT32_MAX + 1, 0), PROTO_E_RANGE);
    CHECK_EQ(s_gossip_raw(room, 0, 0), PROTO_OK);
    CHECK_EQ(s_gossip_raw(long_room, 0, 0), PROTO_E_TOO_LONG);
    CHECK_EQ(s_gossip_raw("A", 0, 0), PROTO_E_INVALID);
    CHECK_EQ(s_gossip_raw("a b", 0, 0), PROTO_E_INVALID);
    CHECK_EQ(s_gossip_raw("a/b", 0, 0), PROTO_E_INVALID);
    CHECK_EQ(s_gossip_raw("\xff", 0, 0), PROTO_E_INVALID);

    /* Payload as str instead of bin. */
    const uint8_t as_str[] = {0x93, 0xa0, 0x00, 0xa1, 'x'};
    CHECK_EQ(s_decode_copy(s_dec_gossip, as_str, sizeof as_str), PROTO_E_TYPE);
}

/* ---- IHAVE / IWANT ---- */

static void s_ids_case(const char *topic, const uint8_t (*ids)[32], size_t n)
{
    proto_wr_t w;
    size_t len, len2;
    proto_wr_init(&w);
    p2p_msg_write_ids(&w, topic, ids, n);
    uint8_t *buf = s_take(&w, &len);
    p2p_ids_msg_t *m = malloc(sizeof *m);
    CHECK_EQ(p2p_msg_read_ids(buf, len, m), PROTO_OK);
    CHECK(strcmp(m->topic, topic) == 0);
    CHECK_EQ(m->n_ids, n);
    CHECK(n == 0 || memcmp(m->ids, ids, n * 32) == 0);
    proto_wr_init(&w);
    p2p_msg_write_ids(&w, m->topic, (const uint8_t(*)[32])m->ids, m->n_ids);
    uint8_t *buf2 = s_take(&w, &len2);
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    free(buf2);
    free(m);
    s_check_encoding(s_dec_ids, buf, len, false);
    free(buf);
}

static void test_ids(void)
{
    uint8_t(*ids)[32] = malloc((P2P_IDS_MAX + 1) * sizeof *ids);
    for (size_t i = 0; i <= P2P_IDS_MAX; i++)
        for (size_t j = 0; j < 32; j++)
            ids[i][j] = (uint8_t)(i ^ (j * 13));
    char room[P2P_ROOM_NAME_MAX];
    s_fill(room, 'm', P2P_ROOM_NAME_MAX - 1);

    s_ids_case("", (const uint8_t(*)[32])ids, 0);
    s_ids_case("x", (const uint8_t(*)[32])ids, 1);
    s_ids_case(room, (const uint8_t(*)[32])ids, P2P_IDS_MAX);

    /* 257 ids, an id of 31 and 33 bytes, a bad topic. */
    proto_wr_t w;
    size_t len;
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    proto_wr_str(&w, "", 0);
    proto_wr_array(&w, P2P_IDS_MAX + 1);
    for (size_t i = 0; i <= P2P_IDS_MAX; i++)
        proto_wr_bin(&w, ids[i], 32);
    uint8_t *buf = s_take(&w, &len);
    CHECK_EQ(s_decode_copy(s_dec_ids, buf, len), PROTO_E_TOO_LONG);
    free(buf);

    const size_t id_lens[] = {31, 33};
    const int want[] = {PROTO_E_INVALID, PROTO_E_TOO_LONG};
    for (int k = 0; k < 2; k++) {
        proto_wr_init(&w);
        proto_wr_array(&w, 2);
        proto_wr_str(&w, "", 0);
        proto_wr_array(&w, 2);
        proto_wr_bin(&w, ids[0], 32);
        proto_wr_bin(&w, ids[1], id_lens[k]);
        buf = s_take(&w, &len);
        CHECK_EQ(s_decode_copy(s_dec_ids, buf, len), want[k]);
        free(buf);
    }

    proto_wr_init(&w);
    p2p_msg_write_ids(&w, "No", (const uint8_t(*)[32])ids, 1);
    buf = s_take(&w, &len);
    CHECK_EQ(s_decode_copy(s_dec_ids, buf, len), PROTO_E_INVALID);
    free(buf);
    free(ids);
}

/* ---- SUBSCRIBE ---- */

static void test_record_msg(const proto_key_t *key)
{
    p2p_record_t recs[3], out;
    s_record_empty(&recs[0], key);
    s_record_typical(&recs[1], key, 5);
    s_record_max(&recs[2], key, 6);
    for (int i = 0; i < 3; i++) {
        proto_wr_t w;
        size_t len, len2;
        proto_wr_init(&w);
        p2p_msg_write_record(&w, &recs[i]);
        uint8_t *buf = s_take(&w, &len);
        CHECK_EQ(p2p_msg_read_record(buf, len, &out), PROTO_OK);
        CHECK(s_rec_eq(&out, &recs[i]));
        CHECK(p2p_record_verify(&out));
        proto_wr_init(&w);
        p2p_msg_write_record(&w, &out);
        uint8_t *buf2 = s_take(&w, &len2);
        CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
        free(buf2);
        s_check_encoding(s_dec_record, buf, len, false);
        /* A bare record (not wrapped in its 1-element array) is refused. */
        CHECK_EQ(s_decode_copy(s_dec_record, buf + 1, len - 1), PROTO_E_ARITY);
        free(buf);
    }
    /* Duplicate room. */
    snprintf(recs[1].rooms[1], P2P_ROOM_NAME_MAX, "%s", recs[1].rooms[0]);
    recs[1].n_rooms = 2;
    proto_wr_t w;
    size_t len;
    proto_wr_init(&w);
    p2p_msg_write_record(&w, &recs[1]);
    uint8_t *buf = s_take(&w, &len);
    CHECK_EQ(p2p_msg_read_record(buf, len, &out), PROTO_E_INVALID);
    CHECK_EQ(out.n_rooms, 0);
    free(buf);
}

/* ---- UNICAST ---- */

static void test_unicast(void)
{
    uint8_t *big = malloc(P2P_UNICAST_MAX + 1);
    for (size_t i = 0; i <= P2P_UNICAST_MAX; i++)
        big[i] = (uint8_t)(i * 7);
    p2p_unicast_t in[3];
    memset(in, 0, sizeof in);
    in[0].kind = P2P_KIND_USER_MIN; /* the smallest kind the layer above may use */
    in[1].msg_id = 1;
    in[1].kind = PROTO_MSG_TEXT;
    memset(in[1].dest, 0x11, P2P_ID_LEN);
    in[2].kind = UINT32_MAX;
    in[1].payload = big;
    in[1].payload_len = 3;
    in[2].msg_id = UINT64_MAX;
    memset(in[2].dest, 0xff, P2P_ID_LEN);
    in[2].payload = big;
    in[2].payload_len = P2P_UNICAST_MAX;
    for (int i = 0; i < 3; i++) {
        proto_wr_t w;
        size_t len, len2;
        proto_wr_init(&w);
        p2p_msg_write_unicast(&w, &in[i]);
        uint8_t *buf = s_take(&w, &len);
        p2p_unicast_t out;
        CHECK_EQ(p2p_msg_read_unicast(buf, len, &out), PROTO_OK);
        CHECK(memcmp(out.dest, in[i].dest, P2P_ID_LEN) == 0);
        CHECK_EQ(out.msg_id, in[i].msg_id);
        CHECK_EQ(out.kind, in[i].kind);
        CHECK_EQ(out.payload_len, in[i].payload_len);
        CHECK(out.payload + out.payload_len == buf + len);
        CHECK(in[i].payload_len == 0 || memcmp(out.payload, in[i].payload, out.payload_len) == 0);
        proto_wr_init(&w);
        p2p_msg_write_unicast(&w, &out);
        uint8_t *buf2 = s_take(&w, &len2);
        CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
        free(buf2);
        s_check_encoding(s_dec_unicast, buf, len, true);
        free(buf);
    }
    /* Payload one byte too long, short destination. */
    in[2].payload_len = P2P_UNICAST_MAX + 1;
    proto_wr_t w;
    size_t len;
    proto_wr_init(&w);
    p2p_msg_write_unicast(&w, &in[2]);
    uint8_t *buf = s_take(&w, &len);
    CHECK_EQ(s_decode_copy(s_dec_unicast, buf, len), PROTO_E_TOO_LONG);
    free(buf);
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    proto_wr_bin(&w, in[1].dest, 31);
    proto_wr_uint(&w, 1);
    proto_wr_uint(&w, PROTO_MSG_TEXT);
    proto_wr_bin(&w, big, 1);
    buf = s_take(&w, &len);
    CHECK_EQ(s_decode_copy(s_dec_unicast, buf, len), PROTO_E_INVALID);
    free(buf);
    /* Kinds: below P2P_KIND_USER_MIN (the p2p layer's own) and above 32 bits are refused. */
    const uint64_t bad_kinds[] = {0, 1, P2P_KIND_USER_MIN - 1, (uint64_t)UINT32_MAX + 1};
    for (size_t k = 0; k < sizeof bad_kinds / sizeof bad_kinds[0]; k++) {
        proto_wr_init(&w);
        proto_wr_array(&w, 4);
        proto_wr_bin(&w, in[1].dest, P2P_ID_LEN);
        proto_wr_uint(&w, 7);
        proto_wr_uint(&w, bad_kinds[k]);
        proto_wr_bin(&w, big, 2);
        buf = s_take(&w, &len);
        int rc = s_decode_copy(s_dec_unicast, buf, len);
        CHECK(rc == PROTO_E_INVALID || rc == PROTO_E_RANGE);
        free(buf);
    }
    /* The old three-field form (no kind) is refused. */
    proto_wr_init(&w);
    proto_wr_array(&w, 3);
    proto_wr_bin(&w, in[1].dest, P2P_ID_LEN);
    proto_wr_uint(&w, 1);
    proto_wr_bin(&w, big, 1);
    buf = s_take(&w, &len);
    CHECK(s_decode_copy(s_dec_unicast, buf, len) != PROTO_OK);
    free(buf);
    free(big);
}

/* ---- BYE ---- */

static void s_bye_case(const char *reason)
{
    proto_wr_t w;
    size_t len, len2;
    proto_wr_init(&w);
    p2p_msg_write_bye(&w, reason);
    uint8_t *buf = s_take(&w, &len);
    char out[P2P_REASON_MAX];
    CHECK_EQ(p2p_msg_read_bye(buf, len, out), PROTO_OK);
    CHECK(strcmp(out, reason) == 0);
    proto_wr_init(&w);
    p2p_msg_write_bye(&w, out);
    uint8_t *buf2 = s_take(&w, &len2);
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    free(buf2);
    s_check_encoding(s_dec_bye, buf, len, false);
    free(buf);
}

static void test_bye(void)
{
    char reason[P2P_REASON_MAX + 1];
    s_bye_case("");
    s_bye_case("shutting down");
    s_bye_case("caf\xc3\xa9 \xf0\x9f\x98\x80"); /* UTF-8 is fine */
    s_fill(reason, 'b', P2P_REASON_MAX - 1);
    s_bye_case(reason);

    s_fill(reason, 'b', P2P_REASON_MAX);
    proto_wr_t w;
    size_t len;
    proto_wr_init(&w);
    p2p_msg_write_bye(&w, reason);
    uint8_t *buf = s_take(&w, &len);
    CHECK_EQ(s_decode_copy(s_dec_bye, buf, len), PROTO_E_TOO_LONG);
    free(buf);

    const uint8_t bad_utf8[] = {0x91, 0xa2, 0xc3, 0x28};
    const uint8_t nul[] = {0x91, 0xa3, 'a', 0x00, 'b'};
    const uint8_t as_bin[] = {0x91, 0xc4, 0x01, 'a'};
    CHECK_EQ(s_decode_copy(s_dec_bye, bad_utf8, sizeof bad_utf8), PROTO_E_INVALID);
    CHECK_EQ(s_decode_copy(s_dec_bye, nul, sizeof nul), PROTO_E_INVALID);
    CHECK_EQ(s_decode_copy(s_dec_bye, as_bin, sizeof as_bin), PROTO_E_TYPE);
    char out[P2P_REASON_MAX] = "junk";
    CHECK_EQ(p2p_msg_read_bye(nul, sizeof nul, out), PROTO_E_INVALID);
    CHECK_EQ(out[0], '\0'); /* cleared on error */
}

int main(void)
{
    if (proto_crypto_init() != 0) {
        fprintf(stderr, "proto_crypto_init failed\n");
        return 1;
    }
    proto_key_t *key = proto_key_generate();
    CHECK(key != NULL);
    if (key) {
        test_hello(key);
        test_u64();
        test_find_node();
        test_records(key);
        test_gossip();
        test_ids();
        test_record_msg(key);
        test_unicast();
        test_bye();
    }
    proto_key_destroy(&key);
    return testutil_done("test_p2p_msg");
}

/*  test_node_enclave_relay: the enclave relay's messages (node/service/node_enclave_relay.h).
 *
 *  Shows: ENCLAVE_CALL and ENCLAVE_ANSWER round-trip field for field (empty and maximal
 *  requests and answers); the encoders refuse fields over their bounds; the decoders refuse
 *  every truncation, a trailing byte, the other message's type, an enclave id of another
 *  length, a request or answer one byte over its bound, and an error code over 999; random
 *  mutations of valid messages never crash and, when accepted, re-encode to the same bytes
 *  (canonical).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/service/node_enclave_relay.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"
#include "tests/unit/testutil.h"

static void s_call_roundtrip(size_t req_len)
{
    uint8_t *req = malloc(req_len ? req_len : 1);
    REQUIRE(req != NULL);
    randombytes_buf(req, req_len);
    node_enclave_call_msg_t m = {.call_id = UINT64_MAX - req_len, .req = req, .req_len = req_len};
    randombytes_buf(m.enclave_id, 32);
    uint8_t *buf = NULL;
    size_t len = 0;
    REQUIRE(node_enclave_call_encode(&m, &buf, &len) == PROTO_OK);
    node_enclave_call_msg_t d;
    CHECK(node_enclave_call_decode(buf, len, &d) == PROTO_OK);
    CHECK(d.call_id == m.call_id && memcmp(d.enclave_id, m.enclave_id, 32) == 0 &&
          d.req_len == req_len && memcmp(d.req, req, req_len) == 0);
    /* every truncation and a trailing byte are refused */
    int truncs_ok = 0;
    for (size_t n = 0; n < len; n += (len > 4096 ? 997 : 1))
        truncs_ok += node_enclave_call_decode(buf, n, &d) == PROTO_OK;
    CHECK(truncs_ok == 0);
    uint8_t *longer = malloc(len + 1);
    REQUIRE(longer != NULL);
    memcpy(longer, buf, len);
    longer[len] = 0xc0;
    CHECK(node_enclave_call_decode(longer, len + 1, &d) != PROTO_OK);
    /* an answer decoder does not take a call */
    node_enclave_answer_msg_t a;
    CHECK(node_enclave_answer_decode(buf, len, &a) != PROTO_OK);
    free(longer);
    free(buf);
    free(req);
}

static void s_answer_roundtrip(uint32_t error, size_t ans_len, const char *msg)
{
    uint8_t *ans = malloc(ans_len ? ans_len : 1);
    REQUIRE(ans != NULL);
    randombytes_buf(ans, ans_len);
    node_enclave_answer_msg_t m = {.call_id = 7, .error = error, .ans = ans, .ans_len = ans_len};
    snprintf(m.msg, sizeof m.msg, "%s", msg);
    uint8_t *buf = NULL;
    size_t len = 0;
    REQUIRE(node_enclave_answer_encode(&m, &buf, &len) == PROTO_OK);
    node_enclave_answer_msg_t d;
    CHECK(node_enclave_answer_decode(buf, len, &d) == PROTO_OK);
    CHECK(d.call_id == 7 && d.error == error && d.ans_len == ans_len &&
          memcmp(d.ans, ans, ans_len) == 0 && strcmp(d.msg, msg) == 0);
    int truncs_ok = 0;
    for (size_t n = 0; n < len; n++)
        truncs_ok += node_enclave_answer_decode(buf, n, &d) == PROTO_OK;
    CHECK(truncs_ok == 0);
    node_enclave_call_msg_t c;
    CHECK(node_enclave_call_decode(buf, len, &c) != PROTO_OK);
    free(buf);
    free(ans);
}

/* Hand-made messages that break one rule each. */
static void s_rules(void)
{
    static uint8_t big[NODE_ENCLAVE_RELAY_REQ_MAX + 1];
    node_enclave_call_msg_t c = {.call_id = 1, .req = big, .req_len = sizeof big};
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK(node_enclave_call_encode(&c, &buf, &len) == PROTO_E_TOO_BIG);
    node_enclave_answer_msg_t a = {
        .call_id = 1, .ans = big, .ans_len = NODE_ENCLAVE_RELAY_ANS_MAX + 1};
    CHECK(node_enclave_answer_encode(&a, &buf, &len) == PROTO_E_TOO_BIG);
    a.ans_len = 0;
    a.error = 1000;
    CHECK(node_enclave_answer_encode(&a, &buf, &len) == PROTO_E_TOO_BIG);

    proto_wr_t w;
    node_enclave_call_msg_t d;
    node_enclave_answer_msg_t da;
    const uint8_t *p;
    /* a request one byte over the bound */
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    proto_wr_uint(&w, PROTO_MSG_ENCLAVE_CALL);
    proto_wr_uint(&w, 1);
    proto_wr_bin(&w, big, 32);
    proto_wr_bin(&w, big, sizeof big);
    p = proto_wr_data(&w, &len);
    CHECK(p && node_enclave_call_decode(p, len, &d) != PROTO_OK);
    proto_wr_free(&w);
    /* an enclave id of 31 bytes */
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    proto_wr_uint(&w, PROTO_MSG_ENCLAVE_CALL);
    proto_wr_uint(&w, 1);
    proto_wr_bin(&w, big, 31);
    proto_wr_bin(&w, big, 10);
    p = proto_wr_data(&w, &len);
    CHECK(p && node_enclave_call_decode(p, len, &d) != PROTO_OK);
    proto_wr_free(&w);
    /* the answer's type in a call's shape */
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    proto_wr_uint(&w, PROTO_MSG_ENCLAVE_ANSWER);
    proto_wr_uint(&w, 1);
    proto_wr_bin(&w, big, 32);
    proto_wr_bin(&w, big, 10);
    p = proto_wr_data(&w, &len);
    CHECK(p && node_enclave_call_decode(p, len, &d) != PROTO_OK);
    proto_wr_free(&w);
    /* an error code over 999, an answer over its bound, a message over 160 bytes */
    char msg[200];
    memset(msg, 'x', sizeof msg);
    for (int k = 0; k < 3; k++) {
        proto_wr_init(&w);
        proto_wr_array(&w, 5);
        proto_wr_uint(&w, PROTO_MSG_ENCLAVE_ANSWER);
        proto_wr_uint(&w, 1);
        proto_wr_uint(&w, k == 0 ? 1000 : 0);
        proto_wr_bin(&w, big, k == 1 ? NODE_ENCLAVE_RELAY_ANS_MAX + 1 : 0);
        proto_wr_str(&w, msg, k == 2 ? NODE_ENCLAVE_RELAY_MSG_MAX + 1 : 3);
        p = proto_wr_data(&w, &len);
        CHECK(p && node_enclave_answer_decode(p, len, &da) != PROTO_OK);
        proto_wr_free(&w);
    }
}

/* Random byte flips of valid messages: no crash; what decodes re-encodes to itself. */
static void s_mutations(uint64_t seed)
{
    srand((unsigned)seed);
    uint8_t req[300], ans[200];
    randombytes_buf(req, sizeof req);
    randombytes_buf(ans, sizeof ans);
    node_enclave_call_msg_t c = {.call_id = 99, .req = req, .req_len = sizeof req};
    node_enclave_answer_msg_t a = {.call_id = 99, .error = 0, .ans = ans, .ans_len = sizeof ans};
    snprintf(a.msg, sizeof a.msg, "ok");
    uint8_t *cb = NULL, *ab = NULL;
    size_t cl = 0, al = 0;
    REQUIRE(node_enclave_call_encode(&c, &cb, &cl) == PROTO_OK);
    REQUIRE(node_enclave_answer_encode(&a, &ab, &al) == PROTO_OK);
    int canonical_bad = 0;
    for (int i = 0; i < 20000; i++) {
        bool call = i % 2 == 0;
        size_t n = call ? cl : al;
        uint8_t *m = malloc(n);
        REQUIRE(m != NULL);
        memcpy(m, call ? cb : ab, n);
        int flips = 1 + rand() % 3;
        for (int f = 0; f < flips; f++)
            m[(size_t)rand() % n] ^= (uint8_t)(1u << (rand() % 8));
        size_t cut = rand() % 4 == 0 ? (size_t)rand() % n : n;
        uint8_t *re = NULL;
        size_t rl = 0;
        if (call) {
            node_enclave_call_msg_t d;
            if (node_enclave_call_decode(m, cut, &d) == PROTO_OK) {
                canonical_bad += node_enclave_call_encode(&d, &re, &rl) != PROTO_OK || rl != cut ||
                                 memcmp(re, m, cut) != 0;
            }
        } else {
            node_enclave_answer_msg_t d;
            if (node_enclave_answer_decode(m, cut, &d) == PROTO_OK) {
                canonical_bad += node_enclave_answer_encode(&d, &re, &rl) != PROTO_OK ||
                                 rl != cut || memcmp(re, m, cut) != 0;
            }
        }
        free(re);
        free(m);
    }
    CHECK(canonical_bad == 0);
    free(cb);
    free(ab);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    s_call_roundtrip(0);
    s_call_roundtrip(1);
    s_call_roundtrip(6 * 1024);
    s_call_roundtrip(NODE_ENCLAVE_RELAY_REQ_MAX);
    s_answer_roundtrip(0, 300, "");
    s_answer_roundtrip(351, 0, "enclave 2: the enclave process is gone");
    s_answer_roundtrip(0, NODE_ENCLAVE_RELAY_ANS_MAX, "x");
    s_rules();
    s_mutations(testutil_seed("mutations"));
    return testutil_done("test_node_enclave_relay");
}

/*  fuzz_enclave_relay: libFuzzer harness for the enclave relay's message decoders
 *  (node/service/node_enclave_relay.h: ENCLAVE_CALL and ENCLAVE_ANSWER, unicast kinds 65
 *  and 66, decoded by every node from any peer).
 *
 *  The whole input is tried as both messages. For any input the decoders must not crash
 *  and must return PROTO_OK or a proto code; when one succeeds, its fields stay inside
 *  their bounds and the input and re-encoding the decoded message gives the input back
 *  byte for byte (canonical). A broken invariant calls abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/service/node_enclave_relay.h"
#include "proto/proto_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    node_enclave_call_msg_t c;
    uint8_t *re = NULL;
    size_t rl = 0;
    int rc = node_enclave_call_decode(data, size, &c);
    if (rc > 0 || rc < -99)
        abort();
    if (rc == PROTO_OK) {
        if (c.req_len > NODE_ENCLAVE_RELAY_REQ_MAX || c.req < data ||
            c.req + c.req_len > data + size)
            abort();
        if (node_enclave_call_encode(&c, &re, &rl) != PROTO_OK || rl != size ||
            memcmp(re, data, size) != 0)
            abort();
        free(re);
        re = NULL;
    }
    node_enclave_answer_msg_t a;
    rc = node_enclave_answer_decode(data, size, &a);
    if (rc > 0 || rc < -99)
        abort();
    if (rc == PROTO_OK) {
        if (a.ans_len > NODE_ENCLAVE_RELAY_ANS_MAX || a.error > 999 ||
            strlen(a.msg) > NODE_ENCLAVE_RELAY_MSG_MAX)
            abort();
        if (node_enclave_answer_encode(&a, &re, &rl) != PROTO_OK || rl != size ||
            memcmp(re, data, size) != 0)
            abort();
        free(re);
    }
    return 0;
}

/*  node_enclave_relay: reaching an enclave through its runner by p2p unicast, on every
 *  node, and its two messages (proto/PROTOCOL.md, "Enclave relay"):
 *
 *    unicast kind 65 ENCLAVE_CALL   [65, call_id uint, enclave_id bin32, request bin]
 *    unicast kind 66 ENCLAVE_ANSWER [66, call_id uint, error uint, answer bin, message str]
 *
 *  request is an encoded enclave request (enclave/enclave_wire.h) whose data is sealed to
 *  the enclave's box key by the sender; answer an encoded enclave answer (a signed report
 *  or receipt, counts, an ERROR answer); error is 0 or the negated genie code of a relay
 *  failure (no such enclave on this runner, a refused request type, the enclave died or
 *  timed out), with message saying why and answer empty. Both are decoded strictly
 *  (proto_mp's reader) and bounded: a request at most NODE_ENCLAVE_RELAY_REQ_MAX bytes,
 *  an answer NODE_ENCLAVE_RELAY_ANS_MAX, a message NODE_ENCLAVE_RELAY_MSG_MAX.
 *
 *  The runner side (a node with node_enclave) queues a CALL to its enclave
 *  (node_enclave_relay_start: its loop does not wait) and unicasts the ANSWER back when
 *  the enclave answers; a CALL for an enclave it does not
 *  run is answered with an error. The caller side keeps at most NODE_ENCLAVE_RELAY_PEER_MAX
 *  calls in flight per runner and NODE_ENCLAVE_RELAY_CALLS in all; a call not answered in
 *  NODE_ENCLAVE_RELAY_TIMEOUT_MS fails with "timeout".
 *
 *  Keyed donations (enclave_wire's DONATE_KEYED sent without its blob): the runner reads
 *  the data record's blob address from its ledger and fetches the blob from the calling
 *  node (node_data_fetch.h, unicast kinds 67 / 68), then relays the completed request. A
 *  node serves a blob of its store only to the runner of a keyed call it is waiting on,
 *  and only that blob; a call to an enclave of this node gets the blob filled in here.
 *
 *  RPC methods (every node):
 *    enclave_call {enclave: hex32, request: hex, runner?: node id hex}
 *        -> {answer: hex} when this node runs the enclave (the RPC answer is deferred
 *           until the enclave answers), else
 *           {call: N, runner: node id} (poll enclave_call_result). Without runner, the
 *           call goes to the peers that announced the enclave-runner role, the linked
 *           ones first, then known ones not linked now (dialled), one after the other
 *           (at most 8) until one runs the enclave; the enclave registry names the
 *           runner's account, not its node, so it cannot say which.
 *           The request's hex (the bulk of a call) is checked and decoded by the method's
 *           prepare step on the RPC's HTTP thread: the loop gets the bytes, not the text.
 *    enclave_call_result {call: N}
 *        -> {state: "pending"} | {state: "done", answer: hex}
 *           | {state: "failed", error: text}; a finished call is forgotten once read.
 */
#ifndef GENIE_NODE_ENCLAVE_RELAY_H
#define GENIE_NODE_ENCLAVE_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

typedef struct node_app_t node_app_t;
typedef struct node_enclave_relay_t node_enclave_relay_t;

#define NODE_ENCLAVE_RELAY_REQ_MAX                                                                 \
    (1024u * 1024u - 8u * 1024u - 256u) /* P2P_UNICAST_MAX less the call's fields */
/* An answer: a FED_OUT of a training party (model updates, its used data ids) or a model
   sealed to a query enclave can be large; bounded like a request. */
#define NODE_ENCLAVE_RELAY_ANS_MAX NODE_ENCLAVE_RELAY_REQ_MAX
#define NODE_ENCLAVE_RELAY_MSG_MAX 160u
#define NODE_ENCLAVE_RELAY_PEER_MAX 8
#define NODE_ENCLAVE_RELAY_CALLS 64
#define NODE_ENCLAVE_RELAY_TIMEOUT_MS 15000

/*  A decoded ENCLAVE_CALL / ENCLAVE_ANSWER (byte fields point into the decoded buffer). */
typedef struct {
    uint64_t call_id;
    uint8_t enclave_id[32];
    const uint8_t *req;
    size_t req_len;
} node_enclave_call_msg_t;

typedef struct {
    uint64_t call_id;
    uint32_t error; /* 0, or the negated genie code */
    const uint8_t *ans;
    size_t ans_len;
    char msg[NODE_ENCLAVE_RELAY_MSG_MAX + 1];
} node_enclave_answer_msg_t;

/*  Encoders: *OUT malloc'd (caller frees), *OUT_LEN bytes. PROTO_OK, PROTO_E_TOO_BIG (a
 *  field over its bound) or PROTO_E_NOMEM. */
int node_enclave_call_encode(const node_enclave_call_msg_t *m, uint8_t **out,
                             size_t *out_len) PROTO_WUR;
int node_enclave_answer_encode(const node_enclave_answer_msg_t *m, uint8_t **out,
                               size_t *out_len) PROTO_WUR;
/*  Strict decoders of BUF (LEN bytes, borrowed: *OUT points into it). PROTO_OK or the
 *  reader's code. */
int node_enclave_call_decode(const uint8_t *buf, size_t len,
                             node_enclave_call_msg_t *out) PROTO_WUR;
int node_enclave_answer_decode(const uint8_t *buf, size_t len,
                               node_enclave_answer_msg_t *out) PROTO_WUR;

/*  The relay of APP (borrowed: its p2p node and enclave service are looked up when
 *  needed). NULL when out of memory. */
node_enclave_relay_t *node_enclave_relay_new(node_app_t *app);
/*  Frees pending calls; tolerates NULL; sets *self_p to NULL. */
void node_enclave_relay_destroy(node_enclave_relay_t **self_p);

/*  The p2p upcall for unicast kinds 65 and 66 (DATA borrowed). Malformed messages are
 *  dropped with a debug log. */
void node_enclave_relay_on_unicast(void *ctx, const uint8_t from[static 32], uint32_t kind,
                                   const uint8_t *data, size_t len);

/*  What a service's enclave call ends with, once, on the loop: RC 0 with the encoded
 *  enclave answer ANS (ANS_LEN bytes, borrowed for the call; an enclave's refusal is an
 *  ERROR answer, not a failure), or the failure's genie code (NODE_E_TIMEOUT,
 *  NODE_E_CONNECT, the runner's or the enclave host's code) with WHY saying why. */
typedef void (*node_enclave_relay_cb)(void *ctx, int rc, const uint8_t *ans, size_t ans_len,
                                      const char *why);

/*  Calls the enclave ENCLAVE_ID with the encoded request REQ (LEN bytes, copied): on this
 *  node if it runs that enclave (and RUNNER is NULL), else through RUNNER (a node id,
 *  borrowed; NULL: the linked runner peers, one after the other). CB runs exactly once,
 *  with CTX, later on the loop (never before this returns, an enclave of this node
 *  included: node_enclave_relay_start). Returns 0 (CB will run), or NODE_E_PARAMS (LEN 0
 *  or over NODE_ENCLAVE_RELAY_REQ_MAX, a request an enclave of this node refuses to
 *  relay), NODE_E_NO_ENCLAVE (no runner to ask), NODE_E_BUSY (a bound on calls in flight,
 *  or the local enclave's queue is full), NODE_E_CONNECT (p2p refused the send) with ERR
 *  filled; then CB does not run. */
int node_enclave_relay_call(node_enclave_relay_t *self, const uint8_t enclave_id[static 32],
                            const uint8_t *req, size_t len, const uint8_t *runner,
                            node_enclave_relay_cb cb, void *ctx, char *err,
                            size_t err_cap) PROTO_WUR;

/*  Adds enclave_call and enclave_call_result to APP. 0 or -1. */
int node_enclave_relay_register(node_app_t *app);

#endif

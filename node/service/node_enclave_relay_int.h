/*  node_enclave_relay_int: what the relay's two files share (not part of its API):
 *  node_enclave_relay.c (blob fetch io, lifecycle, the caller side, the RPC methods) and
 *  node_enclave_relay_runner.c (the runner side: a peer's call relayed to an enclave of
 *  this node, keyed donations fetching their blob, the answer by unicast).
 */
#ifndef GENIE_NODE_ENCLAVE_RELAY_INT_H
#define GENIE_NODE_ENCLAVE_RELAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/service/node_data_fetch.h"
#include "node/service/node_enclave_relay.h"

#define ERR_MAX 999u       /* largest negated genie code */
#define CANDIDATES 8       /* runners tried in turn when the caller names none */
#define RELAY_CHECK_MS 200 /* timeouts of calls a deferred RPC waits for */

typedef enum { CALL_FREE = 0, CALL_PENDING, CALL_DONE, CALL_FAILED } ner_state_t;

typedef struct {
    ner_state_t state;
    uint64_t id;
    uint8_t runner[32];
    uint64_t send_op;
    uint64_t started_ms;
    uint8_t *answer;
    size_t answer_len;
    char error[NODE_ENCLAVE_RELAY_MSG_MAX + 64];
    uint8_t *msg; /* the encoded ENCLAVE_CALL, kept while other runners may be tried */
    size_t msg_len;
    uint8_t next[CANDIDATES][32]; /* runners still to try, when this one does not run it */
    size_t n_next;
    uint64_t rpc_token;       /* an enclave_call with wait: its deferred RPC answer (0: none) */
    int code;                 /* CALL_FAILED: the genie code of the failure */
    node_enclave_relay_cb cb; /* a service's call: told once when it finishes (NULL: none) */
    void *cb_ctx;
    bool keyed;               /* a DONATE_KEYED without its blob: the runner fetches... */
    uint8_t blob_address[32]; /* ...this blob of our store, and only this one, from us */
} ner_call_t;

/*  Runner side: a keyed donation waiting for the owner's blob (node_data_fetch). */
typedef struct {
    bool used;
    uint8_t from[32];    /* the caller (the data owner's node), who serves the blob */
    uint64_t call_id;    /* its call */
    uint8_t enclave[32]; /* the enclave asked */
    uint8_t *req;        /* the request as it came (without the blob) */
    size_t req_len;
    struct node_enclave_relay_t *relay;
} ner_keyed_t;

#define KEYED_MAX 8 /* keyed donations fetching their blob at once on a runner */

struct node_enclave_relay_t {
    node_app_t *app;
    node_data_fetch_t *fetch; /* blobs: served from our store, fetched for our enclaves */
    ner_keyed_t keyed[KEYED_MAX];
    ner_call_t calls[NODE_ENCLAVE_RELAY_CALLS];
    uint64_t next_id;
    int timer; /* checks waiting calls for timeouts; -1 until the first waits */
};

/*  Monotonic milliseconds. */
uint64_t ner_now_ms(void);
/*  Starts the timer for the blob transfers and the calls in flight, if it is not running. */
void ner_timer_start(node_enclave_relay_t *self);
/*  Runner side: the ENCLAVE_CALL DATA (LEN) from peer FROM, relayed to the enclave it names
 *  (answered by unicast, now or when the enclave answers). */
void ner_on_call(node_enclave_relay_t *self, const uint8_t from[static 32], const uint8_t *data,
                 size_t len);

#endif

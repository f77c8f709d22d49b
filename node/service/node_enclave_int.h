/*  node_enclave_int: what the runner service's files share (node_enclave.c: the
 *  platform, supervision, registration, retirement, withdrawals; node_enclave_call.c: the
 *  asynchronous calls into the enclaves and the relay rules; node_enclave_rpc.c: its RPC
 *  methods). Not installed; included only by those files. */
#ifndef GENIE_NODE_ENCLAVE_INT_H
#define GENIE_NODE_ENCLAVE_INT_H

#include <czmq.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enclave/enclave_host.h"
#include "enclave/enclave_platform.h"
#include "node/app/node_app.h"
#include "node/service/node_enclave.h"
#include "proto/proto_attest.h"
#include "proto/proto_key.h"

/* Registrations waiting to be retired (a bounded queue; the oldest is dropped when full). */
#define RETIRE_MAX (NODE_ENCLAVE_MAX * 4)

typedef enum {
    REG_NONE = 0,  /* no quote yet, or no certificate / runner key */
    REG_PENDING,   /* a quote waits to be submitted */
    REG_SUBMITTED, /* submitted, waiting for the commit */
    REG_DONE,      /* in the committed registry */
    REG_REFUSED    /* the ledger refused it for good (bad quote, revoked ...) */
} ne_reg_t;

/*  A call waiting in a slot's queue (the head is the one in flight once sent). */
typedef struct {
    uint8_t *req; /* the encoded request (copied; wiped and freed when done) */
    size_t len;
    enclave_req_type_t type;
    uint8_t data_id[32]; /* DONATE, DONATE_KEYED, DROP: the data id */
    uint8_t buy_id[32];  /* QUERY: the buy */
    bool drop;           /* the runner's own DROP of withdrawn data (no callback) */
    node_enclave_cb cb;
    void *ctx;
} ne_call_t;

typedef struct {
    node_enclave_t *owner;
    bool used;
    bool stopped;
    uint32_t local;
    enclave_kind_t kind;
    enclave_host_t *host;
    bool have_quote;
    proto_attest_quote_t quote;
    uint8_t id[32]; /* ledger id of the current start's signing key */
    ne_reg_t reg;
    uint64_t reg_height;
    uint64_t submitted_ms;
    char why[128]; /* last refusal */
    /* Data ids the current start of a training enclave signed a receipt for (relayed
       DONATE / DONATE_KEYED), so that a withdrawal committed later is dropped from it. */
    uint8_t (*donated)[32];
    size_t n_donated;
    uint8_t donated_for[32]; /* the enclave id the list belongs to */
    bool gave_up_retired;    /* given up: its registration was queued for retirement */
    /* calls (node_enclave_call.c): a FIFO, the head in flight once sent */
    ne_call_t queue[NODE_ENCLAVE_QUEUE_MAX];
    size_t q_head, q_n;
    bool advancing;      /* ne_call_advance runs (a callback's new call only queues) */
    zmq_pollitem_t item; /* the host's socket on the loop while a call is in flight */
    bool polled;
} ne_slot_t;

/*  A registration of an earlier start (or of a stopped enclave) to retire on the ledger. */
typedef struct {
    uint8_t id[32];
    uint32_t local;        /* the slot's local number */
    bool ready;            /* its successor is registered, or the slot stopped / gave up */
    uint64_t ready_ms;     /* when it became ready */
    uint64_t submitted_ms; /* the last ENCLAVE_RETIRE admitted (0: none) */
} ne_retire_t;

struct node_enclave_t {
    node_app_t *app;
    enclave_platform_t *platform;
    char exe[PATH_MAX];
    proto_key_t *runner_key; /* loaded once the certificate names an account we hold */
    ne_slot_t slots[NODE_ENCLAVE_MAX];
    uint32_t next_local;
    int timer;
    uint64_t sweep_height; /* the head the last withdrawal sweep saw */
    ne_retire_t retire[RETIRE_MAX];
    size_t n_retire;
    uint64_t leftovers_ms; /* when the last sweep for an earlier process's registrations ran */
    bool closing;          /* node_enclave_destroy runs: no new calls */
    size_t queued_bytes;   /* requests all the queues hold (NODE_ENCLAVE_QUEUE_BYTES) */
};

/*  Installs the platform certificate BYTES (LEN): it must decode and name this platform.
 *  0 or an error with ERR filled. */
int ne_cert_install(node_enclave_t *self, const uint8_t *bytes, size_t len, char *err,
                    size_t err_cap);
/*  Queues slot S's current registration for retirement (READY: at once, else when its
 *  successor is registered). */
void ne_retire_queue(node_enclave_t *self, const ne_slot_t *s, bool ready);
/*  The queued retirements of slot LOCAL become ready. */
void ne_retire_ready(node_enclave_t *self, uint32_t local);
/*  Advances slot S's calls: polls the one in flight (its answer, its deadline), finishes
 *  it (the callback runs), sends the next; watches the socket while one is in flight. */
void ne_call_advance(node_enclave_t *self, ne_slot_t *s);
/*  Fails every call of slot S (the one in flight too: the host has forgotten it or is
 *  about to) with RC and WHY. */
void ne_call_fail_all(node_enclave_t *self, ne_slot_t *s, int rc, const char *why);
/*  Queues the runner's own DROP of DATA_ID in slot S's enclave (unless one is queued). */
void ne_call_drop(node_enclave_t *self, ne_slot_t *s, const uint8_t data_id[static 32]);
/*  Stops slot S's enclave: its calls fail ("stopped"), the child stops; *STATUS as
 *  enclave_host_stop. */
void ne_slot_stop(node_enclave_t *self, ne_slot_t *s, int *status);
/*  The slot TEXT names (its local number, or the enclave id in hex), or NULL. */
ne_slot_t *ne_slot_find(node_enclave_t *self, const char *text);

#endif

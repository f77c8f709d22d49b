/*  node_query_int: what the query service's files share (node_query.c: the runner side,
 *  CHAIN, model loading, usage claims, the timer; node_query_chain.c: the chain feed of the
 *  enclaves' light clients; node_query_rpc.c: query_run and query_status). Not part of the
 *  API.
 */
#ifndef GENIE_NODE_QUERY_INT_H
#define GENIE_NODE_QUERY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enclave/enclave_prog.h"
#include "node/service/node_enclave.h"
#include "node/service/node_query.h"
#include "node/service/node_query_core.h"

/* (buy, enclave) pairs this node sent a buy proof to, remembered (oldest forgotten). */
#define NQ_SENT_MAX 1024
/* query_run calls in flight at most: each holds a deferred RPC answer (NODE_RPC_DEFER_MAX),
   and a slot of the runs' locked memory. */
#define NQ_RUNS_MAX 64

/*  A query enclave of this runner (by its current id). */
typedef struct {
    bool used;
    uint8_t id[32];
    uint8_t measurement[32];
    bool chain_ok;
    bool chain_busy;                              /* a CHAIN call in flight */
    uint8_t models[ENCLAVE_QUERY_MAX_MODELS][32]; /* loaded, as LOADED answered */
    uint8_t hashes[ENCLAVE_QUERY_MAX_MODELS][32];
    size_t n_models;
    bool busy;         /* a MODEL_SEAL or its MODEL_LOAD call in flight */
    uint64_t retry_at; /* no new load before */
    uint64_t backoff;  /* the next retry delay */
    char why[192];     /* the last trouble */
    /* the chain feed (node_query_chain.c) */
    uint64_t light;         /* the light height the enclave last answered */
    bool feed_busy;         /* a CHAIN_BLOCK call in flight */
    uint64_t feed_retry_at; /* no new feed before */
    uint64_t feed_backoff;  /* the next retry delay after a refused feed */
} nq_enclave_t;

typedef struct nq_seal_t nq_seal_t;
typedef struct nq_run_t nq_run_t;

struct node_query_t {
    node_app_t *app;
    int timer;
    node_query_core_t *core;
    nq_enclave_t enclaves[NODE_ENCLAVE_MAX];
    nq_seal_t *seals;     /* MODEL_SEAL calls in flight */
    nq_run_t *runs;       /* query_run calls in flight */
    uint8_t *run_secrets; /* sodium_malloc'd once: NQ_RUNS_MAX slots of a run's secrets */
    uint64_t run_slots;   /* bit i: slot i in use */
    bool kicking;         /* nq_runs_kick is running */
    uint8_t (*sent)[64];
    size_t n_sent, sent_next;
    bool pumping;
};

/*  Wall-clock-free monotonic milliseconds. */
uint64_t nq_now(void);
/*  Whether a buy proof was sent for (BUY_ID, ENCLAVE_ID); nq_sent_add remembers one. */
bool nq_sent(const node_query_t *q, const uint8_t buy_id[static 32],
             const uint8_t enclave_id[static 32]);
void nq_sent_add(node_query_t *q, const uint8_t buy_id[static 32],
                 const uint8_t enclave_id[static 32]);
/*  Fails and frees every query_run in flight and the runs' locked memory (node_query_rpc.c;
 *  on destroy). */
void nq_runs_drop(node_query_t *q);
/*  Sends the query_run calls that wait for room in the relay (it had too many calls in
 *  flight to their runner), oldest first, until it is full again; fails those that waited
 *  over NODE_ENCLAVE_RELAY_TIMEOUT_MS (node_query_rpc.c; the timer calls it too). */
void nq_runs_kick(node_query_t *q);
/*  Runs the usage core's due actions. */
void nq_usage_pump(node_query_t *q);
/*  Scans the committed blocks not scanned yet (at most NODE_QUERY_SCAN_MAX) for AUTH_VOTE
 *  txs, on a runner with query enclaves only (node_query_chain.c). */
void nq_chain_scan(node_query_t *q);
/*  Feeds E (a query enclave that follows this chain) the next vote block above its light
 *  height, if any and none is in flight; its answer feeds the next one. */
void nq_chain_feed(node_query_t *q, nq_enclave_t *e);
/*  The query enclave of this runner with id ID, or NULL (node_query.c). */
nq_enclave_t *nq_enclave(node_query_t *q, const uint8_t id[static 32]);

#endif

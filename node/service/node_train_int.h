/*  node_train_int: what the training driver's two files share (node_train.c: jobs, the
 *  ledger, enclave calls, the timer; node_train_rpc.c: train_status). Not part of the API.
 */
#ifndef GENIE_NODE_TRAIN_INT_H
#define GENIE_NODE_TRAIN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_data.h"
#include "ledger/ledger_model.h"
#include "node/service/node_train.h"
#include "node/service/node_train_core.h"

typedef struct nt_call_t nt_call_t;

/*  One job this runner drives (or could not start: CORE NULL and WHY saying why). */
typedef struct {
    bool used;
    uint64_t gen; /* bumped when the slot is reused: late answers of the old job are dropped */
    ledger_job_t job;
    ledger_spec_t spec;
    uint8_t attest_pk[32];
    uint64_t started_ms;
    node_train_core_t *core;
    node_train_phase_t logged; /* the last phase logged */
    char why[256];
} nt_job_t;

struct node_train_t {
    node_app_t *app;
    int timer;
    uint64_t last_poll;
    nt_job_t jobs[NODE_TRAIN_JOBS_MAX];
    nt_call_t *calls; /* relay calls in flight */
    bool pumping, again;
};

/*  Runs every job's due actions (re-entrant calls only mark another pass). */
void nt_pump(node_train_t *t);

#endif

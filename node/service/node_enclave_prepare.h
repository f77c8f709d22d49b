/*  node_enclave_prepare: the check a training enclave's runner makes before it relays a
 *  TRAIN_PREPARE to it (proto/PROTOCOL.md, "Enclave relay"). The enclave keeps, of its
 *  donations for the spec, only those TRAIN_PREPARE names eligible and wipes the others,
 *  so a forged one (a made-up job, a wrong or empty eligible list) would destroy donations.
 *  The runner reads the same chain as the coordinator and passes the request on only when
 *  it is exactly what the coordinator's runner must have sent for the job:
 *    (a) job_id is a job on this ledger, RUNNING, the current job of spec_id;
 *    (b) the enclave addressed is a TRAINING enclave of this runner with the spec's
 *        measurement, registered and ACTIVE on the ledger with that measurement, and named
 *        party PARTY of PARTIES by its keys (the sign key's enclave id, the box key); the
 *        coordinator index names the job's coordinator enclave by its sign key;
 *    (c) query_measurement is the job's, attest_pk the ledger's attestation key;
 *    (d) the eligible list holds exactly (as a set, no duplicates) the data ids
 *        ledger_train_eligible computes for this enclave: a record withdrawn or refused by
 *        its consent on this ledger is not in it, an eligible one is not missing;
 *    (e) the job config (enclave_train_config.h) decodes and carries the spec's features
 *        (in order), label, aggregation rule and epsilon (max_epsilon_milli / 1000) and
 *        the job's rounds: a forged config cannot turn the spec's DP off.
 *  A withdrawal committed between the coordinator's read and this one is refused too: the
 *  coordinator's driver retries TRAIN_PREPARE (node_train_core.h).
 *  Pure over a ledger state: no I/O but the state's reads.
 */
#ifndef GENIE_NODE_ENCLAVE_PREPARE_H
#define GENIE_NODE_ENCLAVE_PREPARE_H

#include <stddef.h>
#include <stdint.h>

#include "enclave/enclave_wire.h"
#include "ledger/ledger_state.h"
#include "proto/proto_err.h"

/*  The enclave a request is addressed to, as this runner knows it (its quote). */
typedef struct {
    uint8_t id[32];          /* its current enclave id */
    enclave_kind_t kind;     /* from its start */
    uint8_t measurement[32]; /* from its quote */
    uint8_t box_pk[32];      /* from its quote */
} node_enclave_prepare_local_t;

/*  Checks the decoded TRAIN_PREPARE P addressed to the local enclave L against the
 *  committed state ST (borrowed). 0, or NODE_E_REFUSED with ERR (ERR_CAP bytes, may be
 *  NULL/0) saying which rule failed, or NODE_E_FAILED when the ledger cannot be read. */
int node_enclave_prepare_check(ledger_state_t *st, const node_enclave_prepare_local_t *l,
                               const struct enclave_req_train_prepare *p, char *err,
                               size_t err_cap) PROTO_WUR;

#endif

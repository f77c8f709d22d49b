/*  node_train: the coordinator runner's training-job driver (issue 16, flow 5), and the
 *  train_status method every node has.
 *
 *  On an enclave runner, once a second, the service looks at the ledger for RUNNING jobs
 *  (each spec's current job, ledger_model.h) whose coordinator is one of this runner's
 *  running training enclaves, and drives each (at most NODE_TRAIN_JOBS_MAX at once) with
 *  node_train_core, whose header says every decision. This file is its shell:
 *  - the plan's inputs: the spec's donors in seq order (ledger_donor_list), each eligible
 *    when ledger_donation_allowed still says yes for its owner (record active, consent in
 *    force allows the spec with the audits of its measurement); the usable training
 *    enclaves (registered, ACTIVE, TRAINING, the spec's measurement, neither measurement
 *    nor platform revoked);
 *  - TRAIN_PREPARE and FED_STEP go to each party's enclave with node_enclave_relay_call
 *    (this runner's enclaves at once, others through the linked runner peers); PUBLISH
 *    goes only to the local coordinator (node_enclave_call_start; no peer may ask for it);
 *  - the job config TRAIN_PREPARE carries (enclave_train_config.h) is the spec's features
 *    and label, the job's rounds, the spec's aggregation rule and its epsilon
 *    (max_epsilon_milli / 1000, 0: no DP), the seed the job id's first 8 bytes, and the
 *    module's defaults for the rest (the enclaves train logistic models only: a job of
 *    another model type does not start, and its status says why);
 *  - the publication PUBLISH answers must decode, verify, name the job and be signed by
 *    the coordinator's registered key before MODEL_PUBLISH (signed by the node account)
 *    is submitted;
 *  - the ledger is read again every second: a PUBLISHED job is DONE, a job no longer
 *    RUNNING otherwise (replaced) is aborted. A finished job is kept for status until
 *    its slot is needed.
 *  The model weights never pass through this node in clear (PUBLISH answers the
 *  publication only; any model field it carries is wiped unread): query enclaves get them
 *  sealed, node_query.c asking the coordinator for MODEL_SEAL with the enclave's quote.
 *
 *  RPC method (every node):
 *    train_status {spec} -> {spec, job: {id, coordinator, rounds, status, height,
 *        query_measurement, model_id?} | null, model: {id, model_hash, n_train, n_test,
 *        n_records, metrics: {name: value}, parties: [{enclave, n_records, weight_bp}],
 *        height} | null, local: {phase, round, rounds, why, parties: [{enclave, eligible,
 *        prepared, n_records, n_train, n_test, dropped, state, delivered}], queued,
 *        excluded, txid?} | null}
 *    (local: only on the runner that drives the job.)
 */
#ifndef GENIE_NODE_TRAIN_H
#define GENIE_NODE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

typedef struct node_app_t node_app_t;
typedef struct node_train_t node_train_t;

#define NODE_TRAIN_JOBS_MAX 4
#define NODE_TRAIN_POLL_MS 1000
#define NODE_TRAIN_PUMP_MS 50
/*  A job that has not published after this long fails. */
#define NODE_TRAIN_JOB_TIMEOUT_MS (30u * 60u * 1000u)

/*  The service of APP (borrowed; ledger, relay, enclave service and account are looked up
 *  when needed); its timer runs on APP's loop. NULL when out of memory or the timer cannot
 *  be made, with ERR filled. Caller destroys (after the relay: no answer reaches it then). */
node_train_t *node_train_new(node_app_t *app, char *err, size_t err_cap);
/*  Ends the timer and frees every job; tolerates NULL; sets *self_p to NULL. */
void node_train_destroy(node_train_t **self_p);

/*  The service of APP, or NULL (node_app.c). */
node_train_t *node_app_train(node_app_t *app);

/*  Adds train_status to APP. 0 or -1. */
int node_train_register(node_app_t *app);

#endif

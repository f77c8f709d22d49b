/*  node_query: paid queries on genie-node (issue 16, flow 6): the query runner's side (its
 *  query enclaves follow the chain, load the published models, and their usage is
 *  claimed) and the user's side (query_run).
 *
 *  Runner side (a node running query enclaves), once a second:
 *  - CHAIN: each running query enclave of this runner gets the canonical genesis once per
 *    start (node_enclave_call_start: only the runner chooses the chain), and must answer
 *    this chain's id.
 *  - Models: for each registered query enclave of ours and each published model whose
 *    query measurement is the enclave's measurement (newest first, at most
 *    ENCLAVE_QUERY_MAX_MODELS), one at a time: MODEL_SEAL [job, this enclave's quote] to
 *    the model's coordinator enclave (node_enclave_relay_call: on this runner or a linked
 *    runner peer; the coordinator checks the quote and seals the model to the enclave's
 *    box key, so the runner relays ciphertext only), then MODEL_LOAD [sealed, the
 *    inclusion proof of the MODEL_PUBLISH tx] to the enclave, which answers the model id
 *    and hash it checked; both must be the ledger's. A failure is tried again after
 *    NODE_QUERY_RETRY_MS (doubling, up to a minute). (The design had the coordinator's
 *    runner push the model; the ledger does not keep registered quotes, and the query
 *    runner holds its enclaves' quotes, so it pulls.)
 *  - Authority changes (node_query_chain.c): on a runner with query enclaves, every
 *    committed block is scanned once, in order (at most NODE_QUERY_SCAN_MAX per tick; from
 *    height 1 at each start of the node), for AUTH_VOTE txs; each query enclave that follows this
 * chain is fed, with CHAIN_BLOCK [after, height, block, cert], every such block above its light
 * height, in order, one call at a time, so that its light client moves its authority set as the
 *    ledger does and accepts proofs certified by a new set. A restarted enclave (a new id)
 *    starts again from genesis; ENCLAVE_E_GAP (the runner's idea of its height is wrong)
 *    is followed by a probe of its height. Models are loaded once the enclave has every
 *    vote block scanned so far (or while feeding it fails).
 *  - Usage: every QUERY the runner relays and the enclave answers is noted
 *    (node_query_served); node_query_core decides when to ask USAGE and when to submit
 *    USAGE_CLAIM (signed by the node account) with the report, which must decode, verify,
 *    be signed by that enclave and name that buy. The ledger's claimed count
 *    (ledger_buy_claimed) confirms a claim.
 *
 *  User side: query_run seals the rows with a fresh reply key to a query enclave of the
 *  model (registered, ACTIVE, QUERY, the model's query measurement; the newest first,
 *  trying the next when one cannot be reached), with the buy's access code (DATADIR/access/
 *  <buy id>.code, node_settle_access_load) and the QUERY_BUY's inclusion proof the
 *  first time this node sends that buy to that enclave (again once if the enclave refuses
 *  a query sent without it), and opens the answer.
 *
 *  RPC methods (every node):
 *    query_run {model, columns: [name...], rows: [[number|null...]...], buy?}
 *        -> {model, buy, enclave, predictions: [f64...], used, count}
 *        (columns name the rows' values; the spec's features are taken from them in order;
 *        at most ENCLAVE_QUERY_MAX_ROWS rows; without buy, the newest buy of this node's
 *        account for the model with an access code here and queries left)
 *    query_status {flush?: bool}
 *        -> {enclaves: [{enclave, chain, light, models: [{model, model_hash}], why}],
 *            usage: [{enclave, buy, reported, submitted, confirmed, dirty}],
 *            scanned, vote_blocks}
 *        (light: the height of the last certified block the enclave's light client was
 *        fed; scanned: the committed blocks scanned for authority votes, vote_blocks: how
 *        many hold one)
 *        (flush: ask every served buy's usage now, as `genie claim` on a runner wants)
 */
#ifndef GENIE_NODE_QUERY_H
#define GENIE_NODE_QUERY_H

#include <stddef.h>
#include <stdint.h>

typedef struct node_app_t node_app_t;
typedef struct node_query_t node_query_t;

#define NODE_QUERY_POLL_MS 1000
#define NODE_QUERY_RETRY_MS 2000
#define NODE_QUERY_RETRY_MAX_MS 60000

/*  The service of APP (borrowed); its timer runs on APP's loop. NULL with ERR filled when
 *  out of memory or the timer cannot be made. Caller destroys (after the relay). */
node_query_t *node_query_new(node_app_t *app, char *err, size_t err_cap);
/*  Ends the timer, fails the query_run calls in flight, frees; tolerates NULL; sets
 *  *self_p to NULL. */
void node_query_destroy(node_query_t **self_p);

/*  The runner relayed a QUERY for BUY_ID that its enclave ENCLAVE_ID answered. SELF may be
 *  NULL (nothing happens). */
void node_query_served(node_query_t *self, const uint8_t enclave_id[static 32],
                       const uint8_t buy_id[static 32]);

/*  Asks every served buy's usage now and submits the claims that grew (what `genie claim`
 *  on a runner wants before it claims its role earnings). SELF may be NULL. */
void node_query_flush(node_query_t *self);

/*  The service of APP, or NULL (node_app.c). */
node_query_t *node_app_query(node_app_t *app);

/*  Adds query_run and query_status to APP. 0 or -1. */
int node_query_register(node_app_t *app);

#endif

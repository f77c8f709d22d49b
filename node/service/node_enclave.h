/*  node_enclave: the enclave-runner service of genie-node (--role enclave-runner).
 *
 *  It owns the node's simulated platform (DATADIR/platform/: platform.key with the
 *  platform key and secret, made on first start, mode 0600; platform.cert, the
 *  certificate the attestation service issued, installed from --platform-cert FILE or
 *  the enclave_cert_install RPC), spawns genie-enclave processes (the executable next to
 *  genie-node) with enclave_host, supervises them from the node's loop (a dead enclave is
 *  restarted with exponential backoff, 200 ms doubling up to 30 s) and stops them on
 *  shutdown.
 *
 *  Registration: after each start and restart the enclave has new keys, so a new quote
 *  (its nonce is the ledger's head block hash at that moment). The service signs
 *  ENCLAVE_REGISTER with the runner account (the unencrypted key in DATADIR/accounts/
 *  that the platform certificate names) and submits it through the node's own ledger
 *  (node_ledger_local_submit, the tx_submit path). It waits while the node is behind the
 *  network, and submits again with a re-dated quote when the tx has not committed after
 *  NODE_ENCLAVE_RETRY_MS (dropped, or refused). The registered height is recorded when
 *  the enclave shows up in the committed registry.
 *
 *  Retirement: the registration of a start that is gone stays ACTIVE on the ledger until
 *  its runner retires it. Once a restarted enclave's new registration is committed, the
 *  service submits ENCLAVE_RETIRE (signed by the runner account, the same path) for the
 *  previous start's enclave id; enclave_stop, and an enclave given up on, retire the
 *  current one at once. A refusal for a transient reason is tried again at the next tick,
 *  an admitted one that has not committed after NODE_ENCLAVE_RETRY_MS is submitted again;
 *  it is done when the committed registry shows the id retired (or revoked). The queue is
 *  in memory; registrations left active by an earlier run of the node (killed or
 *  restarted: its enclaves died with it) are found by a sweep of the committed registry,
 *  once the node is in step and then every NODE_ENCLAVE_LEFTOVERS_MS: each ACTIVE one
 *  registered by the runner account and quoted by this node's platform key that is no
 *  current start is retired the same way (another node's, even under the same account,
 *  has another platform key and is left alone).
 *
 *  RPC methods (node_enclave_register; every node has them, they answer an application
 *  error on a node that is not an enclave-runner):
 *    enclave_spawn {kind}        -> {local, kind, pid}: spawns and attests one enclave
 *    enclave_stop {id}           -> {stopped: true}: ID is the local number or the enclave
 *                                   id (hex) of the current start
 *    enclave_local               -> [{local, id, kind, pid, status, restarts,
 *                                    registered_height, registration, measurement,
 *                                    calls}, ...]  (calls: queued, the one in flight
 *                                    included)
 *    enclave_cert_install {cert: hex}  -> {platform_pk, runner_account, expires_ms}
 *    enclave_platform            -> {platform_pk, backend, certified, runner_account?}
 *  status is "running", "restarting", "given-up" or "stopped"; registration is "none"
 *  (no certificate or runner key yet), "pending", "submitted", "registered" or
 *  "refused: why".
 *
 *  Everything runs on the node's loop; calls into an enclave are asynchronous
 *  (node_enclave_call_start): a slow enclave (a training round takes about a second) never
 *  holds up the node's p2p, consensus or RPC. Spawning and a restart's attestation (a few
 *  milliseconds of INIT) are still made on the loop.
 */
#ifndef GENIE_NODE_ENCLAVE_H
#define GENIE_NODE_ENCLAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enclave/enclave_host.h"
#include "enclave/enclave_wire.h"
#include "proto/proto_err.h"

typedef struct node_app_t node_app_t;
typedef struct node_enclave_t node_enclave_t;

/* Most enclaves one runner spawns. */
#define NODE_ENCLAVE_MAX 16
/* A registration that has not committed after this long is submitted again. */
#define NODE_ENCLAVE_RETRY_MS 8000
#define NODE_ENCLAVE_LEFTOVERS_MS (10 * 60 * 1000)

/*  The runner service of APP (borrowed; its datadir, config, loop and ledger must exist):
 *  opens DATADIR/platform, installs --platform-cert if given, and starts the supervision
 *  timer on APP's loop. NULL with one line in ERR on failure (a platform key file others
 *  may read, a certificate that does not decode or names another platform, no
 *  genie-enclave executable next to this program). Caller destroys. */
node_enclave_t *node_enclave_new(node_app_t *app, char *err, size_t err_cap);

/*  Stops every enclave (each gets its grace period), ends the timer, wipes and frees;
 *  tolerates NULL; sets *self_p to NULL. */
void node_enclave_destroy(node_enclave_t **self_p);

/*  Spawns and attests an enclave of KIND; *LOCAL (may be NULL) gets its local number.
 *  0, NODE_E_PARAMS (all NODE_ENCLAVE_MAX slots used) or enclave_host_start's code, with
 *  the detail in ERR. */
int node_enclave_spawn(node_enclave_t *self, enclave_kind_t kind, uint32_t *local, char *err,
                       size_t err_cap) PROTO_WUR;

/* Calls one enclave may have waiting, the one in flight included. */
#define NODE_ENCLAVE_QUEUE_MAX 32
/*  Bytes of requests all the queues hold at most (a call past it gets NODE_E_BUSY): 32
 *  relayed requests of up to 1 MiB for each of 16 enclaves would otherwise be 512 MiB. */
#define NODE_ENCLAVE_QUEUE_BYTES (64u * 1024u * 1024u)

/*  What an enclave call ends with, exactly once, on the node's loop, never before
 *  node_enclave_call_start returns: RC 0 with the encoded enclave answer ANS (ANS_LEN
 *  bytes, borrowed for the callback and wiped after it: copy what you keep; an enclave's
 *  refusal is an ERROR answer, not a failure), or the failure's code with WHY (never
 *  NULL): ENCLAVE_E_DEAD (the enclave died, or was stopped, with the call queued or in
 *  flight; or the runner shuts down), ENCLAVE_E_TIMEOUT (it did not answer in its call
 *  timeout: it is killed and restarted), PROTO_E_IO. The callback may start new calls. */
typedef void (*node_enclave_cb)(void *ctx, int rc, const uint8_t *ans, size_t ans_len,
                                const char *why);

/*  Queues the encoded enclave request REQ (LEN bytes, copied) for the running enclave
 *  whose current id is ID, for this node's own services: CB(CTX, ...) runs later with the
 *  answer. Calls to one enclave go one at a time in the order queued (the enclave is
 *  single-threaded); the node's loop is never blocked by them (the enclave's socket is
 *  watched on the loop, the deadline checked by the service's timer). The request is
 *  decoded strictly first; INIT and plaintext VALIDATE are refused (the host's own); a
 *  TRAIN_PREPARE goes on only when node_enclave_prepare_check passes it against this
 *  node's ledger (node_enclave_prepare.h). A receipt for a donation makes the runner
 *  remember its data id, so that a withdrawal committed later is dropped from that
 *  enclave (DROP); a QUERY answered is noted for the usage claims (node_query_served).
 *  0 (CB will run), or, with ERR filled and CB never run: NODE_E_NO_ENCLAVE (no running
 *  enclave with that id here), NODE_E_PARAMS (a refused type, a request that does not
 *  decode, LEN 0), NODE_E_REFUSED (a TRAIN_PREPARE the check refuses, with a WARN log),
 *  NODE_E_BUSY (NODE_ENCLAVE_QUEUE_MAX calls already wait for that enclave, or the queues
 *  hold NODE_ENCLAVE_QUEUE_BYTES of requests), ENCLAVE_E_DEAD
 *  (the enclave died and is being restarted), enclave_host_call_send's code, NODE_E_FAILED
 *  (out of memory, the runner shutting down). */
int node_enclave_call_start(node_enclave_t *self, const uint8_t id[static 32], const uint8_t *req,
                            size_t len, node_enclave_cb cb, void *ctx, char *err,
                            size_t err_cap) PROTO_WUR;

/*  node_enclave_call_start for a request that came from a peer (or from this node on a
 *  peer's behalf): only the types a peer may send are relayed, those
 *  enclave_wire_req_relayable allows (PING, VALIDATE_SEALED, DONATE, DONATE_KEYED, STATS,
 *  DROP, QUERY, ...) and the issue-16 types TRAIN_PREPARE, FED_STEP, MODEL_SEAL,
 *  MODEL_LOAD and USAGE; never CHAIN (which chain the enclave believes is the runner's
 *  choice) or PUBLISH (the coordinator runner's own step). The sealed bytes are passed on
 *  as they are: the runner never opens them. Same results. */
int node_enclave_relay_start(node_enclave_t *self, const uint8_t id[static 32], const uint8_t *req,
                             size_t len, node_enclave_cb cb, void *ctx, char *err,
                             size_t err_cap) PROTO_WUR;

/*  True if this runner runs the enclave whose current id is ID (attested, not stopped).
 *  SELF may be NULL (false). */
bool node_enclave_runs(const node_enclave_t *self, const uint8_t id[static 32]);

/*  A running enclave of this runner (its current start). */
typedef struct {
    uint8_t id[32];          /* ledger id of its signing key */
    uint8_t measurement[32]; /* from its quote */
    uint8_t box_pk[32];
    uint32_t local;
    enclave_kind_t kind;
    bool registered; /* in the committed registry */
} node_enclave_info_t;

/*  The running, attested enclaves of KIND into OUT (room for MAX); their number. SELF may
 *  be NULL (0). */
size_t node_enclave_list_local(node_enclave_t *self, enclave_kind_t kind, node_enclave_info_t *out,
                               size_t max);

/*  The encoded quote (proto_attest) of this runner's running enclave ID into *OUT
 *  (malloc'd, caller frees), *LEN. 0, NODE_E_NO_ENCLAVE, or the encoder's code. */
int node_enclave_quote(node_enclave_t *self, const uint8_t id[static 32], uint8_t **out,
                       size_t *len) PROTO_WUR;

/*  Adds the enclave-runner RPC methods (above) to APP. 0 or -1. */
int node_enclave_register(node_app_t *app);

#endif

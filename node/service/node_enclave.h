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
 *  in memory: registrations left active by an earlier run of the node are not retired.
 *
 *  RPC methods (node_enclave_register; every node has them, they answer an application
 *  error on a node that is not an enclave-runner):
 *    enclave_spawn {kind}        -> {local, kind, pid}: spawns and attests one enclave
 *    enclave_stop {id}           -> {stopped: true}: ID is the local number or the enclave
 *                                   id (hex) of the current start
 *    enclave_local               -> [{local, id, kind, pid, status, restarts,
 *                                    registered_height, registration, measurement}, ...]
 *    enclave_cert_install {cert: hex}  -> {platform_pk, runner_account, expires_ms}
 *    enclave_platform            -> {platform_pk, backend, certified, runner_account?}
 *  status is "running", "restarting", "given-up" or "stopped"; registration is "none"
 *  (no certificate or runner key yet), "pending", "submitted", "registered" or
 *  "refused: why".
 *
 *  Everything runs on the node's loop; calls into an enclave are synchronous, so a slow
 *  enclave delays the loop by at most its call timeout.
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

/*  Relays the encoded enclave request REQ (LEN bytes, borrowed) to the running enclave
 *  whose current id is ID, and returns the encoded answer in *ANS (malloc'd, caller frees,
 *  *ANS_LEN bytes; an enclave's refusal is an ERROR answer, not a failure). The request
 *  is decoded strictly first and only the types a peer may send are relayed: those
 *  enclave_wire_req_relayable allows (PING, VALIDATE_SEALED, DONATE, DONATE_KEYED, STATS,
 *  DROP, QUERY, ...) and the issue-16 types TRAIN_PREPARE, FED_STEP, MODEL_SEAL,
 *  MODEL_LOAD and USAGE; never INIT (the host's), plaintext VALIDATE (it would put the
 *  owner's data in the runner), CHAIN (which chain the enclave believes is the runner's
 *  choice) or PUBLISH (the coordinator runner's own step). The sealed
 *  bytes are passed on as they are: the runner never opens them. 0, NODE_E_NO_ENCLAVE (no
 *  running enclave with that id here), NODE_E_PARAMS (a refused type, a request that does
 *  not decode), or enclave_host_call's transport code (ENCLAVE_E_DEAD, ENCLAVE_E_TIMEOUT,
 *  ...). A receipt for a donation makes the runner remember its data id, so that a
 *  withdrawal committed later is dropped from that enclave (DROP); a QUERY answered is
 *  noted for the usage claims (node_query_served). */
int node_enclave_relay(node_enclave_t *self, const uint8_t id[static 32], const uint8_t *req,
                       size_t len, uint8_t **ans, size_t *ans_len, char *err,
                       size_t err_cap) PROTO_WUR;

/*  node_enclave_relay for this node's own services: CHAIN and PUBLISH are allowed too.
 *  Same results. */
int node_enclave_call_local(node_enclave_t *self, const uint8_t id[static 32], const uint8_t *req,
                            size_t len, uint8_t **ans, size_t *ans_len, char *err,
                            size_t err_cap) PROTO_WUR;

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

/*  node_market: the market side of genie-node (issue 15, flows 3 and 4): trainers and
 *  model specs on the ledger, recruitment posts in the `recruitment` room, the offers
 *  book a data owner's node keeps, the matching of each offer against the consent in
 *  force for each local record, and donation into the spec's training enclave.
 *
 *  Room policy (p2p posting-policy callback, through node_p2p.c): a post in
 *  `recruitment` must decode as a proto_recruit post, verify, be fresh (less than 10
 *  minutes from this node's clock) and name a spec registered on this node's ledger whose
 *  trainer (a registered trainer) is the post's signer. Anything else is neither
 *  delivered nor forwarded, and costs the relaying peer a score (p2p_score.c). A node
 *  without a ledger refuses every recruitment post (it cannot check one).
 *
 *  Re-posting: a trainer node posts each spec it recruited for (`recruit`, at most
 *  NODE_MARKET_OWN_MAX, the oldest forgotten) again every NODE_MARKET_REPOST_MS for as
 *  long as it runs and the spec is its trainer's on its ledger (see below).
 *
 *  Offers book: each valid post received (our own included) becomes the offer of its
 *  spec; one offer per spec (the newest post kept), at most NODE_MARKET_OFFERS_MAX (the
 *  oldest dropped). An offer is named by its spec id.
 *
 *  Matching (offers, donate, auto-donate): for each local record (node_data), the record
 *  must be on the ledger, active and owned by the node account, and the consent in force
 *  for it (ledger_consent_effective) must allow the spec with the audits of the spec's
 *  measurement (ledger_consent_match), which says why or why not.
 *
 *  Donation (checks before anything leaves the node): the node has an account; the spec
 *  exists; the record matches (above); the training enclave is the newest registered,
 *  active TRAINING enclave whose measurement is the spec's, with neither its measurement
 *  nor its platform revoked (its quote was checked when it was registered); (spec,
 *  record) is not a donor yet. Sealed mode: the plaintext (node_data_plain) and salt are
 *  sealed to the enclave's box key in the DONATE request (enclave_prog_donation_seal) and
 *  sent with node_enclave_relay_call; the receipt must verify against the registered
 *  signing key and name this spec, record, commitment and account; then DONOR_REGISTER
 *  with the receipt is submitted (node_account_submit). Key mode (--mode key): the data
 *  key and salt are sealed to the enclave for (spec, record) (enclave_grant_seal), the
 *  grant is published in KEY_AUTHORIZE, and a DONATE_KEYED request carries the grant and
 *  the stored ciphertext blob (node_data_blob) to the enclave; the receipt is handled as
 *  above. (The owner pushes the blob with the request; the runner-side fetch of it from
 *  the owner's store, node_data_fetch, is not used yet.)
 *
 *  --auto-donate (data owners): each new offer is matched at once and every matching
 *  local record is donated to it, at most once per (spec, record) for the life of the
 *  process (a record that does not match yet is tried again when the trainer posts
 *  again).
 *
 *  RPC methods:
 *    trainer_register {name} -> {txid, account}
 *    spec_register {model_type, purpose, features: [str], label, measurement: hex32,
 *                   min_donors, max_epsilon_milli, aggregation: mean|median|trimmed|krum,
 *                   price, shares: [donors_bp, trainer_bp, runner_bp]} -> {txid, spec_id}
 *    spec_list {} -> [spec]
 *    recruit {spec_id, note?} -> {spec_id, trainer, time_ms, bytes}  (posts in the room)
 *    offers {} -> [{offer, spec_id, trainer, trainer_name, time_ms, recv_ms, note, origin,
 *                   spec | null, enclave | null, enclave_why, records: [{data_id, name,
 *                   match, why, donated}]}]
 *    donate {offer, data_id?, mode?: "sealed"|"key"} -> {offer, donations: [{data_id,
 *                   ok, state, enclave?, receipt?, receipt_time_ms?, txid?, error?}]}
 *                   (answered once every donation ended; without data_id, every matching
 *                   local record; receipt: the encoded receipt the enclave signed, in hex)
 *  Everything runs on the node's loop thread.
 */
#ifndef GENIE_NODE_MARKET_H
#define GENIE_NODE_MARKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct node_app_t node_app_t;
typedef struct node_market_t node_market_t;

#define NODE_MARKET_ROOM "recruitment"
#define NODE_MARKET_OFFERS_MAX 256
/*  Donations in flight at once (each holds a sealed copy of one record). */
#define NODE_MARKET_DONATIONS_MAX 16
/*  (spec, record) pairs --auto-donate remembers having donated. */
#define NODE_MARKET_AUTO_MAX 4096
/*  Specs whose recruitment this trainer node keeps posting, and how often: a node that
 *  joins the room later (or whose ledger did not have the spec yet when a post passed)
 *  sees the offer within one interval. The same signed post is sent again (owners that
 *  have it keep their offer as it was) until it is half as old as the freshness window,
 *  then it is signed anew with the current time. */
#define NODE_MARKET_OWN_MAX 16
#define NODE_MARKET_REPOST_MS 30000
#define NODE_MARKET_RESIGN_MS (5 * 60 * 1000)

/*  The market service of APP (borrowed; its ledger, p2p node, relay, data service and
 *  account are looked up when needed). Joins room `recruitment` when the node's roles
 *  include data-owner or trainer (APP's p2p node must exist). NULL on allocation failure
 *  or when the room cannot be joined, with one line in ERR. */
node_market_t *node_market_new(node_app_t *app, char *err, size_t cap);
/*  Frees the book and the donations in flight (their RPC answers are dropped: call after
 *  the RPC server and the enclave relay are gone); tolerates NULL; sets *self_p to NULL. */
void node_market_destroy(node_market_t **self_p);

/*  The room policy for a `recruitment` post DATA (LEN bytes, borrowed) from origin node
 *  FROM: true when the post is acceptable (see above). SELF may be NULL (no market: false). */
bool node_market_policy(node_market_t *self, const uint8_t from[static 32], const uint8_t *data,
                        size_t len);
/*  A `recruitment` post delivered to this node (it passed the policy): into the book,
 *  and donated to when --auto-donate says so. SELF may be NULL. */
void node_market_on_post(node_market_t *self, const uint8_t from[static 32], const uint8_t *data,
                         size_t len);

/*  The market service of APP, or NULL before it exists (node_app.c). */
node_market_t *node_app_market(node_app_t *app);

/*  Adds the RPC methods above to APP. 0 or -1. */
int node_market_register(node_app_t *app);

#endif

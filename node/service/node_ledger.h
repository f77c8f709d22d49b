/*  node_ledger: the node's side of the ledger: the chain in DATADIR/ledger, the mempool,
 *  the consensus core wired to p2p and zloop timers, block sync from peers, and the ledger
 *  RPC methods (head, block, account, authorities, tx_submit, tx_submit_batch, tx_status,
 *  ledger_stats).
 *
 *  A node runs a ledger when its genesis (--genesis FILE, or DIR/genesis.json from an
 *  earlier start) is a ledger genesis.json (ledger_genesis.h); the chain id is then the
 *  genesis's. Without one the node is p2p only and the ledger methods answer "this node
 *  runs without a ledger (no --genesis)".
 *
 *  Files (node_ledger.c is lifecycle, consensus io and pacing; its parts, each an opaque
 *  type with its own header and unit test: node_ledger_sync (the shell of the sans-IO sync
 *  core ledger/ledger_sync.h), node_ledger_outbox (tx gossip batching),
 *  node_ledger_verifier (the thread checking gossiped txs) with node_ledger_check (check
 *  records on ledger_admit); node_ledger_txs.c how txs reach the mempool; node_ledger_keys.c
 *  the validator key and signing record; node_ledger_rpc.c the RPC methods;
 *  node_ledger_int.h what they share):
 *    DIR/ledger/            the LevelDB store (ledger_store.h)
 *    DIR/ledger/signstate   the consensus core's signing record (double-sign protection),
 *                           appended to a log and fdatasynced before anything signed
 *                           leaves the node (node_signlog.h); restored at start.
 *
 *  Network messages (all through p2p; payloads opaque to it):
 *    broadcast kind PROTO_MSG_TX        a tx's bytes (ledger_tx.h)
 *    broadcast kind PROTO_MSG_TX_BATCH  several txs (ledger_tx_batch_write)
 *    room post in NODE_LEDGER_ROOM      [type uint, message bin]: type PROTO_MSG_PROPOSAL
 *                                       (a consensus proposal) or PROTO_MSG_VOTE (a vote,
 *                                       ledger_vote.h); only validators are members
 *    broadcast kind PROTO_MSG_DECIDED   [height uint, block bin, certificate bin]: a
 *                                       committed block for everyone (ledger_sync.h)
 *    broadcast kind PROTO_MSG_PROPOSAL / PROTO_MSG_VOTE: accepted (what nodes before the
 *                                       room sent), never sent
 *    unicast kind PROTO_MSG_STATUS      [height uint, head hash bin32], to each linked
 *                                       peer only (one hop): when the head changed (at
 *                                       most once a second) and every 10 s; accepted as
 *                                       a broadcast too (how earlier nodes sent it)
 *    unicast [PROTO_MSG_SYNC_REQ, from_height uint, count uint (1..16)]
 *    unicast [PROTO_MSG_SYNC_BLOCKS, height uint, block bin, certificate bin]
 *  Unicast framing: a ledger unicast has the kind PROTO_MSG_SYNC_REQ (35) or
 *  PROTO_MSG_SYNC_BLOCKS (36), and its payload is a msgpack array whose first element is the
 *  same type; node_ledger_is_unicast checks both with the strict reader
 *  (ledger_sync_unicast_kind: array of 3 / 4, first element 35 / 36). The STATUS /
 *  SYNC_REQ / SYNC_BLOCKS logic is the sans-IO core ledger/ledger_sync.h; node_ledger_sync.c
 *  is its shell. Answers carry one block each; because a proposal travels as one
 *  broadcast (a gossip payload is at most P2P_PAYLOAD_MAX, 250 KiB) this node proposes
 *  blocks of at most NODE_LEDGER_BLOCK_BYTES (240 KiB), whatever the genesis allows.
 *
 *  Everything runs on the node's zloop thread (p2p callbacks, timers, RPC handlers),
 *  except signature checks of incoming txs: those of RPC submissions run on the RPC
 *  connection's thread (the tx_submit* prepare step), those of gossiped txs on the
 *  verifier thread (node_ledger_txs.c); both only read the store (thread-safe).
 */
#ifndef GENIE_NODE_LEDGER_H
#define GENIE_NODE_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

#include "ledger/ledger_genesis.h"
#include "p2p/p2p_node.h"

/* The daemon (node/app/node_app.h); only node_ledger_new and node_ledger_register take it. */
typedef struct node_app_t node_app_t;

/* Largest block this node proposes (fits a p2p broadcast and a unicast sync answer). */
#define NODE_LEDGER_BLOCK_BYTES (240u * 1024u)

/* The p2p room of the consensus messages: every node with a validator key joins it. */
#define NODE_LEDGER_ROOM "consensus"

/* Most txs in one tx_submit_batch request. */
#define NODE_LEDGER_SUBMIT_MAX 1024

typedef struct node_ledger_t node_ledger_t;

/*  What the ledger service is built from (all borrowed; they must outlive it). */
typedef struct {
    zloop_t *loop;             /* the node's loop: timers, the verifier's pipe */
    const char *datadir;       /* DATADIR: the chain lives in DATADIR/ledger */
    bool authority;            /* --role includes authority: sign with a validator key */
    const char *validator_key; /* --validator-key FILE, or NULL: DATADIR/accounts/ */
    /* The p2p node, once it exists (NULL before): broadcasts and unicasts go through it. */
    p2p_node_t *(*p2p)(void *ctx);
    void *p2p_ctx;
} node_ledger_deps_t;

/*  Opens DEPS's DATADIR/ledger store, applies GENESIS (ownership taken: *genesis is
 *  NULLed, also on failure), creates the mempool, the sync shell, the outbox and the
 *  consensus core (with the validator key when DEPS says authority: --validator-key FILE,
 *  or the first unencrypted key in DATADIR/accounts/ that is an authority), restores the
 *  signing record. Nothing is sent yet. NULL with one line in ERR on failure (no
 *  validator key, another chain in the database, ...). Caller destroys. */
node_ledger_t *node_ledger_new_from(const node_ledger_deps_t *deps, ledger_genesis_t **genesis,
                                    char *err, size_t err_cap);

/*  node_ledger_new_from with the dependencies taken from APP (its loop, datadir, --role,
 *  --validator-key and p2p node); APP's datadir and loop must exist. */
node_ledger_t *node_ledger_new(node_app_t *app, ledger_genesis_t **genesis, char *err,
                               size_t err_cap);

/*  Ends its timers and frees everything; tolerates NULL; sets *self_p to NULL. */
void node_ledger_destroy(node_ledger_t **self_p);

/*  Starts consensus at the store's head + 1 and the periodic STATUS / sync timer. Call
 *  once APP's p2p node exists. 0, or a negative code with one line in ERR. */
int node_ledger_start(node_ledger_t *self, char *err, size_t err_cap);

/*  True if broadcast KIND is a ledger message (tx, proposal, vote, status). */
bool node_ledger_is_broadcast(uint32_t kind);
/*  True if a unicast of KIND with payload DATA (LEN bytes) is a ledger message: KIND is
 *  PROTO_MSG_SYNC_REQ or PROTO_MSG_SYNC_BLOCKS and the payload is framed as that type. */
bool node_ledger_is_unicast(uint32_t kind, const uint8_t *data, size_t len);

/*  p2p upcalls (DATA borrowed). Anything malformed is dropped with a debug log. SENT_MS is
 *  the origin's clock when it sent the broadcast (only counted in the stats: how late
 *  gossiped txs and proposals arrive). */
void node_ledger_on_broadcast(node_ledger_t *self, uint32_t kind, const uint8_t from[static 32],
                              const uint8_t *data, size_t len, uint64_t sent_ms);
void node_ledger_on_unicast(node_ledger_t *self, const uint8_t from[static 32], const uint8_t *data,
                            size_t len);
/*  A post in NODE_LEDGER_ROOM whose origin is FROM (DATA borrowed): a wrapped proposal or
 *  vote for the consensus core. Our own posts (p2p hands them back) are ignored. */
void node_ledger_on_room_post(node_ledger_t *self, const uint8_t from[static 32],
                              const uint8_t *data, size_t len, uint64_t sent_ms);
/*  The posting policy of NODE_LEDGER_ROOM (the p2p room_policy upcall; a refusal costs the
 *  origin a policy penalty and the post goes no further): true only for a well-formed
 *  wrapper [PROTO_MSG_PROPOSAL or PROTO_MSG_VOTE, message] whose message decodes strictly,
 *  is of this chain, carries a valid signature, and is signed by a validator of the
 *  current set (for a height above head + 1, whose set this node does not know yet, the
 *  valid signature is enough). False without a ledger. */
bool node_ledger_room_policy(node_ledger_t *self, const uint8_t from[static 32],
                             const uint8_t *data, size_t len);
/*  A unicast of kind PROTO_MSG_STATUS from FROM: its ledger head (a neighbour's). */
void node_ledger_on_status(node_ledger_t *self, const uint8_t from[static 32], const uint8_t *data,
                           size_t len);

/*  Adds the ledger RPC methods to APP (they find the ledger with node_app_ledger(), and
 *  answer an application error when it is NULL). 0, or node_app_method_add_prepared's code. */
int node_ledger_register(node_app_t *app);

#endif

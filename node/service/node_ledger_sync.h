/*  node_ledger_sync: the node's shell around the sans-IO block sync core
 *  (ledger/ledger_sync.h, which holds the behaviour, the messages and every bound).
 *
 *  Built from explicit dependencies: the chain's store and mempool, and callbacks for the
 *  network (unicast, STATUS to the linked peers) and for what follows a synced block (the mempool
 *  and caches after a commit; consensus starting above the new head). It translates the
 *  core's io into store reads (head, authority set, stored blocks to serve), the block
 *  identity (decode, header height, header hash), the apply step (ledger_block_execute on
 *  the head, then ledger_store_commit) and those callbacks, and the core's events into
 *  counters and logs (anything a peer can trigger at DEBUG). The caller feeds it the
 *  neighbours' STATUS messages and ledger unicasts, peer heights from consensus messages, and a
 *  periodic tick, each with the wall clock.
 *
 *  Runs on the loop's thread only.
 */
#ifndef GENIE_NODE_LEDGER_SYNC_H
#define GENIE_NODE_LEDGER_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_store.h"
#include "ledger/ledger_sync.h"

typedef struct node_ledger_sync_t node_ledger_sync_t;

typedef struct {
    void *ctx;
    /* Sends DATA (borrowed) by unicast to PEER; false if it cannot be sent. */
    bool (*send)(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len);
    /* Sends DATA (borrowed) as KIND (PROTO_MSG_STATUS) to each linked peer (one hop, not
       forwarded); false if it reached none (tried again on the next tick). */
    bool (*send_linked)(void *ctx, uint32_t kind, const uint8_t *data, size_t len);
    /* Optional: sends DATA (borrowed) as KIND (PROTO_MSG_STATUS) to PEER alone (our head,
       to a neighbour whose STATUS shows it behind); false if it cannot be sent. */
    bool (*send_to)(void *ctx, const uint8_t peer[static 32], uint32_t kind, const uint8_t *data,
                    size_t len);
    /* Optional: synced BLOCK (borrowed) was committed: update the mempool and caches. */
    void (*committed)(void *ctx, const uint8_t *block, size_t len);
    /* Optional: a run of synced blocks ended: start consensus above the head. */
    void (*caught_up)(void *ctx);
} node_ledger_sync_deps_t;

/*  What the shell counted (ledger_stats). */
typedef struct {
    uint64_t blocks_synced, requests, timeouts, bad_blocks, served, refused;
    uint64_t blocks_decided, decided_refused; /* applied from DECIDEDs; DECIDEDs refused */
} node_ledger_sync_stats_t;

/*  A shell for chain CHAIN_ID over STORE and POOL (borrowed, POOL may be NULL; both must
 *  outlive it) with DEPS (copied; send and send_linked required) and the core's PARAMS
 *  (NULL: the node's, see ledger_sync_params_default). NULL on failure. Caller destroys. */
node_ledger_sync_t *node_ledger_sync_new(const uint8_t chain_id[static 32], ledger_store_t *store,
                                         ledger_mempool_t *pool,
                                         const node_ledger_sync_deps_t *deps,
                                         const ledger_sync_params_t *params);
/*  Frees it (blocks buffered by the core included); tolerates NULL; sets *self_p NULL. */
void node_ledger_sync_destroy(node_ledger_sync_t **self_p);

/*  Periodic work (STATUS, timeouts, requests): call every few hundred ms. */
void node_ledger_sync_tick(node_ledger_sync_t *self, uint64_t now_ms);
/*  Node FROM has committed HEIGHT (a proposal / vote of HEIGHT + 1: its signature checked
 *  when HEIGHT is beyond our head). */
void node_ledger_sync_peer_seen(node_ledger_sync_t *self, const uint8_t from[static 32],
                                uint64_t height, uint64_t now_ms);
/*  A STATUS / a ledger unicast from FROM (DATA borrowed); anything malformed is
 *  dropped with a debug log. */
void node_ledger_sync_on_status(node_ledger_sync_t *self, const uint8_t from[static 32],
                                const uint8_t *data, size_t len, uint64_t now_ms);
void node_ledger_sync_on_unicast(node_ledger_sync_t *self, const uint8_t from[static 32],
                                 const uint8_t *data, size_t len, uint64_t now_ms);
/*  A DECIDED gossip (PROTO_MSG_DECIDED) whose origin is FROM (DATA borrowed): the core's
 *  ledger_sync_on_decided (the checks and the apply step of a synced block; a block
 *  applied this way counts as blocks_decided and logs "decided block"). Returns what it
 *  did; a refused one is counted (decided_refused) and logged at DEBUG. */
ledger_sync_decided_t node_ledger_sync_on_decided(node_ledger_sync_t *self,
                                                  const uint8_t from[static 32],
                                                  const uint8_t *data, size_t len, uint64_t now_ms);
/*  True while a request is in flight. */
bool node_ledger_sync_busy(const node_ledger_sync_t *self);
/*  True when this node is behind: a usable peer reported a head more than one block above
 *  our own at NOW_MS. HEAD and BEST (may be NULL) receive our head height and the highest
 *  head a peer reported (0 if none). A head that cannot be read counts as not behind. */
bool node_ledger_sync_behind(const node_ledger_sync_t *self, uint64_t now_ms, uint64_t *head,
                             uint64_t *best);
void node_ledger_sync_stats(const node_ledger_sync_t *self, node_ledger_sync_stats_t *out);

#endif

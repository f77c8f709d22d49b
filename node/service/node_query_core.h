/*  node_query_core: a query runner's decisions, sans-IO: for every (query enclave, buy)
 *  this runner served, when to ask the enclave for its signed USAGE count and when to
 *  submit a USAGE_CLAIM with it; and which committed block each query enclave's light
 *  client is fed next (the chain feed, below). node_query.c is its shell (it sees the QUERY
 *  answers the runner relays, calls USAGE and CHAIN_BLOCK, builds and submits the tx, reads
 *  the ledger).
 *
 *  Rules:
 *  - A served query (node_query_core_served) makes its entry dirty. A dirty entry is asked
 *    for its USAGE at most every NODE_QUERY_CLAIM_MS (or at once after
 *    node_query_core_flush, which `genie claim` on the runner triggers).
 *  - A USAGE answer whose count is above what the ledger has for the entry (confirmed) and
 *    above what was last submitted is submitted as a USAGE_CLAIM (the usage report the
 *    enclave signed, as it is). One submission per entry at a time.
 *  - An admitted claim that the ledger has not confirmed after NODE_QUERY_COMMIT_WAIT_MS is
 *    asked for again (the enclave's count is cumulative, so a fresh report supersedes a
 *    lost one). A refused submission makes the entry dirty again.
 *  - node_query_core_confirmed gives the ledger's claimed count for the entry; an entry
 *    whose confirmed count reaches what the enclave reported is clean.
 *  - At most NODE_QUERY_ENTRIES entries: a new one takes the place of the oldest clean
 *    one; when every entry is unsettled the new one is refused (false) and its usage is
 *    claimed when the buy is served again after room was made.
 */
#ifndef GENIE_NODE_QUERY_CORE_H
#define GENIE_NODE_QUERY_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

#define NODE_QUERY_ENTRIES 4096u
#define NODE_QUERY_CLAIM_MS 5000u
#define NODE_QUERY_COMMIT_WAIT_MS 20000u
#define NODE_QUERY_USAGE_MAX                                                                       \
    512u /* bytes of one encoded usage report (>= PROTO_USAGE_MAX_BYTES)                           \
          */

typedef struct node_query_core_t node_query_core_t;

typedef enum {
    NODE_QUERY_ACT_USAGE = 1, /* call USAGE [buy_id] on ENCLAVE_ID */
    NODE_QUERY_ACT_CLAIM      /* submit USAGE_CLAIM with USAGE (USAGE_LEN bytes) */
} node_query_act_kind_t;

/*  An action; USAGE borrowed from the core until its next call. */
typedef struct {
    node_query_act_kind_t kind;
    uint64_t tag;
    uint8_t enclave_id[32];
    uint8_t buy_id[32];
    uint64_t count; /* CLAIM: the count the report carries */
    const uint8_t *usage;
    size_t usage_len;
} node_query_act_t;

/*  One entry, for status. */
typedef struct {
    uint8_t enclave_id[32];
    uint8_t buy_id[32];
    bool dirty;
    uint64_t reported;  /* the enclave's last USAGE count */
    uint64_t submitted; /* the count of the last admitted claim */
    uint64_t confirmed; /* the ledger's claimed count */
} node_query_entry_t;

/*  A new core (caller destroys), or NULL when out of memory. */
node_query_core_t *node_query_core_new(void);
void node_query_core_destroy(node_query_core_t **self_p);

/*  The runner relayed a QUERY for BUY_ID that enclave ENCLAVE_ID answered (served). false
 *  when the entry table is full of unsettled entries (see above). */
bool node_query_core_served(node_query_core_t *self, const uint8_t enclave_id[static 32],
                            const uint8_t buy_id[static 32], uint64_t now_ms);
/*  Ask every dirty or unconfirmed entry at the next call, ignoring the interval. */
void node_query_core_flush(node_query_core_t *self);

/*  The next action at NOW_MS into *ACT: true, or false when none is due. */
bool node_query_core_next(node_query_core_t *self, uint64_t now_ms, node_query_act_t *act);

/*  The USAGE answer to action TAG: RC 0 with the report USAGE (LEN bytes, copied) whose
 *  count is COUNT (the shell decoded and verified it: its enclave and buy are the
 *  action's), or RC != 0 (the call failed or the enclave refused). */
void node_query_core_usage(node_query_core_t *self, uint64_t tag, int rc, uint64_t count,
                           const uint8_t *usage, size_t len, uint64_t now_ms);
/*  What submitting claim TAG gave: RC 0 (admitted) or the refusal's code. */
void node_query_core_submitted(node_query_core_t *self, uint64_t tag, int rc, uint64_t now_ms);
/*  The ledger's claimed count CLAIMED of ENCLAVE_ID for BUY_ID. */
void node_query_core_confirmed(node_query_core_t *self, const uint8_t enclave_id[static 32],
                               const uint8_t buy_id[static 32], uint64_t claimed);

/*  Entries (for status and for the shell's ledger reads): entry I (< count) into *OUT. */
size_t node_query_core_count(const node_query_core_t *self);
bool node_query_core_entry(const node_query_core_t *self, size_t i, node_query_entry_t *out);

/* ---- the chain feed ----
 *  A query enclave's light client follows the authority set only through the certified
 *  blocks it is fed that hold AUTH_VOTE txs (ledger_light.h). The shell scans each
 *  committed block once, in height order (node_query_core_scan_from says where to go on,
 *  at most NODE_QUERY_SCAN_MAX blocks per call, so that a long chain is caught up over
 *  several ticks of the loop), and notes the heights whose block holds a vote. Every
 *  enclave is then fed, one block at a time, the vote blocks above its light height up to
 *  the scanned height: the list of vote heights is rebuilt at each start of the node (a
 *  scan from height 1), a restarted enclave starts again from 0. */

#define NODE_QUERY_SCAN_MAX 512u

/*  The first height the shell scans next (the scanned height + 1). */
uint64_t node_query_core_scan_from(const node_query_core_t *self);
/*  Block HEIGHT was scanned (it must be node_query_core_scan_from's) and holds an AUTH_VOTE
 *  tx when VOTE. false (nothing recorded) when HEIGHT is not the next one or when out of
 *  memory. */
bool node_query_core_scanned(node_query_core_t *self, uint64_t height, bool vote);
/*  The next block to feed a light client at height LIGHT: the lowest scanned vote height
 *  above LIGHT into *HEIGHT (true), or false when it has every vote block scanned so far. */
bool node_query_core_feed_next(const node_query_core_t *self, uint64_t light, uint64_t *height);
/*  Vote blocks seen so far (for status). */
size_t node_query_core_votes(const node_query_core_t *self);

#endif

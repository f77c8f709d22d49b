/*  node_ledger_int: what node_ledger.c, node_ledger_sync.c and node_ledger_rpc.c share:
 *  the node_ledger_t struct and a few internal functions. Not for other modules.
 */
#ifndef GENIE_NODE_LEDGER_INT_H
#define GENIE_NODE_LEDGER_INT_H

#include <czmq.h>
#include <stdatomic.h>

#include "ledger/ledger_admit.h"
#include "ledger/ledger_block.h"
#include "ledger/ledger_consensus.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_mempool.h"
#include "ledger/ledger_store.h"
#include "node/app/node_datadir.h"
#include "node/service/node_ledger.h"
#include "node/service/node_ledger_check.h"
#include "node/service/node_ledger_outbox.h"
#include "node/service/node_ledger_sync.h"
#include "node/service/node_ledger_verifier.h"
#include "node/service/node_signlog.h"
#include "proto/proto_sigbatch.h"

#define NL_SIGKEYS_SLOTS 4096 /* decoded public keys kept (about 80 bytes each) */
#define NL_TIMERS_MAX 64      /* pending consensus timers (never cancelled; oldest dropped) */
#define NL_STATES_MAX 8       /* executed blocks of the current height, by hash */
#define NL_ROOM_MARGIN (4u * NODE_LEDGER_SUBMIT_MAX) /* see s_prepare_submit */
#define NL_TRIM_MS 1000      /* how often freed heap pages go back to the system (malloc_trim) */
#define NL_REGOSSIP_MS 5000  /* pending local txs are offered again this often */
#define NL_REGOSSIP_MAX 2048 /* at most this many of them per round (in turn) */
#define NL_EXPIRE_MS 1000    /* how often txs behind a nonce gap are checked for expiry */
#define NL_TICK_MS 250       /* periodic work: STATUS, sync checks (ledger_sync_params_default) */
#define NL_TICK_IDLE_MS 1000 /* the tick while the sync has nothing to fetch */
/* A validator that did not propose a block sends its DECIDED itself if none came
   NL_DECIDED_BACKUP_MS after its commit, plus NL_DECIDED_STAGGER_MS per validator between
   the proposer and it in the set's order (node_ledger_room.c). */
#define NL_DECIDED_BACKUP_MS 1000
#define NL_DECIDED_STAGGER_MS 500

typedef struct node_ledger_t node_ledger_t;

typedef struct {
    bool used;
    int id; /* zloop timer id */
    uint64_t height;
    uint32_t round;
    ledger_cons_step_t step;
} nl_timer_t;

typedef struct {
    bool used;
    uint8_t hash[LEDGER_ID_LEN];
    uint64_t height;
    ledger_state_t *state;
} nl_cached_t;

/*  How late messages arrive: count, sum and maximum of a delay, and how many were over
 *  NL_LATE_MS. */
#define NL_LATE_MS 100
typedef struct {
    uint64_t n, sum_ms, max_ms, over;
} nl_delay_t;

static inline void nl_delay_add(nl_delay_t *d, uint64_t ms)
{
    d->n++;
    d->sum_ms += ms;
    if (ms > d->max_ms)
        d->max_ms = ms;
    if (ms > NL_LATE_MS)
        d->over++;
}

typedef struct {
    uint64_t txs_in, txs_rejected, blocks_committed, broadcast_failures, timers_dropped,
        persist_failures, txs_dropped_busy, /* sync: node_ledger_sync_stats */
        txs_regossiped, txs_expired;        /* local txs offered again; gap expiries */
    uint64_t consensus_in;                  /* proposals and votes that reached this node */
    uint64_t decided_in, decided_sent, decided_backups; /* DECIDEDs received; sent (by us as
                                                           proposer, or as a backup) */
    /* microseconds the loop spent (monotonic clock): building proposals, executing
     * proposed blocks, saving the signing record, committing to the store, updating the
     * mempool after a commit; and from starting a height to committing it */
    uint64_t us_build, us_validate, us_persist, us_commit, us_pool_update, us_height;
    /* gossiped txs and proposals: from the origin's send to their arrival at the loop;
     * gossiped txs: from the loop to the verifier and back */
    nl_delay_t gossip_txs, gossip_proposals, verifier;
} nl_stats_t;

struct node_ledger_t {
    node_ledger_deps_t deps; /* what it was built from (borrowed) */
    zloop_t *loop;
    char dir[NODE_DATADIR_PATH_MAX];       /* DATADIR/ledger */
    char signstate[NODE_DATADIR_PATH_MAX]; /* DATADIR/ledger/signstate */
    ledger_genesis_t *genesis;
    ledger_genesis_params_t params;
    uint8_t chain_id[LEDGER_ID_LEN];
    ledger_store_t *store;
    ledger_mempool_t *pool;
    proto_sigkeys_t *sigkeys; /* decoded senders' keys, shared by the RPC threads and the
                                 verifier (thread-safe) */
    proto_key_t *vkey;        /* validator key, NULL for a follower */
    ledger_cons_t *cons;
    node_signlog_t *signlog; /* validators only */
    nl_timer_t timers[NL_TIMERS_MAX];
    nl_cached_t states[NL_STATES_MAX];
    uint8_t *built; /* the block last handed to the core by get_block */
    size_t built_len;
    int pace_timer;            /* one-shot: start the next height; -1 when none */
    int tick_timer;            /* one-shot, re-armed: NL_TICK_MS or NL_TICK_IDLE_MS; -1: none */
    uint64_t tick_due;         /* when it fires (wall ms) */
    int decided_timer;         /* one-shot: our backup DECIDED of decided_pending; -1: none */
    uint64_t decided_pending;  /* the height whose DECIDED we send if none comes (0: none) */
    uint64_t decided_seen;     /* highest height whose DECIDED we sent or received (checked) */
    uint64_t pace_not_before;  /* block interval: no new height before this (wall ms) */
    uint64_t trimmed_ms;       /* last malloc_trim */
    uint64_t regossiped_ms;    /* last re-gossip of pending local txs */
    uint64_t expired_ms;       /* last ledger_mempool_expire */
    int64_t height_started_us; /* monotonic, when the current height started */
    atomic_size_t pool_room;   /* ledger_mempool_room as of the last change: read by RPC threads */
    node_ledger_verifier_t *verifier; /* checks gossiped txs; NULL until started */
    node_ledger_outbox_t *outbox;     /* admitted txs waiting to be gossiped together */
    bool started;
    node_ledger_sync_t *sync; /* block sync (node_ledger_sync.h) */
    nl_stats_t st;
};

/*  Periodic pool work (from the tick): every NL_EXPIRE_MS drops txs that waited too long
 *  behind a nonce gap; every NL_REGOSSIP_MS offers the pending local txs (accepted from
 *  this node's clients) to the network again, through the outbox, so txs accepted while
 *  the node was cut off reach the others after the heal. */
void nl_pool_tick(node_ledger_t *self, uint64_t now_ms);

/*  The p2p node, or NULL while there is none. */
p2p_node_t *nl_p2p(node_ledger_t *self);

/*  Wall-clock milliseconds (block times, heartbeat, core timers). */
uint64_t nl_now(void);

/*  The store's head; a zeroed head if it cannot be read (logged). */
ledger_head_t nl_head(node_ledger_t *self);

/*  The committed authority set as a consensus validator set. 0, or LEDGER_E_CORRUPT when
 *  the store holds none (or an unusable one). */
int nl_valset(node_ledger_t *self, ledger_valset_t *vs);

/*  After the store's head moved (commit or sync): drops executed states and the built
 *  block, and updates the mempool with BLOCK (LEN bytes). */
void nl_after_commit(node_ledger_t *self, const uint8_t *block, size_t len);

/*  Starts the consensus height after the head now if it is not started yet (after sync,
 *  or when a peer is already there). */
void nl_start_next(node_ledger_t *self, const char *why);

/*  Brings the fast ledger tick (NL_TICK_MS) back at once if the tick is slow and the sync
 *  has work (a peer's head above ours): call after anything that may tell of one. */
void nl_tick_check(node_ledger_t *self);

/*  Starts the next height if it is due (block interval passed, and txs waiting, the
 *  heartbeat due, or peers already there); else arms the pacing timer. */
void nl_pace_check(node_ledger_t *self);

/*  Reads BLOCK's header into H and its hash into OUT without copying it. */
bool nl_block_header(const uint8_t *block, size_t len, ledger_header_t *h, uint8_t out[static 32]);

/*  After a commit (by consensus or a DECIDED): the next height is not started before
 *  block_interval_ms after the block's time; a validator's pacing timer is armed. */
void nl_pace_after_commit(node_ledger_t *self);

/* node_ledger_room.c (the consensus room, proposals and votes in, DECIDED) */
/*  A proposal or vote (KIND) whose origin is FROM (DATA borrowed): to the consensus core,
 *  and a height above ours as a sync hint. SENT_MS: the origin's clock. */
void nl_on_consensus(node_ledger_t *self, uint32_t kind, const uint8_t from[static 32],
                     const uint8_t *data, size_t len, uint64_t sent_ms);

/*  Joins NODE_LEDGER_ROOM (a validator, at start). 0, or NODE_E_FAILED with ERR. */
int nl_room_join(node_ledger_t *self, char *err, size_t err_cap);
/*  The core's broadcast: TYPE's DATA posted in the room, wrapped [type, bytes]. */
void nl_room_post(node_ledger_t *self, uint32_t type, const uint8_t *data, size_t len);
/*  Block HEIGHT (BLOCK, CERT borrowed) was committed by our consensus: its DECIDED goes out
 *  now if we proposed it, else after the backup delay if no one else's came. */
void nl_decided_committed(node_ledger_t *self, uint64_t height, const uint8_t *block, size_t len,
                          const uint8_t *cert, size_t cert_len);
/*  A DECIDED gossip whose origin is FROM (DATA borrowed). */
void nl_on_decided(node_ledger_t *self, const uint8_t from[static 32], const uint8_t *data,
                   size_t len);

/* node_ledger_keys.c (start-up; 0, or a negative code with one line in ERR) */
/*  self->vkey from --validator-key PATH; warns if it is no authority (yet). */
int nl_key_from_file(node_ledger_t *self, const char *path, char *err, size_t err_cap);
/*  self->vkey: the first unencrypted account key in DATADIR/accounts/ that is an authority. */
int nl_key_from_accounts(node_ledger_t *self, char *err, size_t err_cap);
/*  Opens self->signstate into self->signlog and restores its last record into the core. */
int nl_signlog_restore(node_ledger_t *self, char *err, size_t err_cap);

/* node_ledger_txs.c */
/*  A gossiped tx or tx_batch: queued for the verifier, admitted when its verdicts come. */
void nl_on_gossip_txs(node_ledger_t *self, uint32_t kind, const uint8_t *data, size_t len);
/*  The verifier's verdicts (node_ledger_verdicts_fn): admits the good txs, counts the
 *  others, runs the pacing check if any was admitted. */
void nl_on_verdicts(void *ctx, const uint8_t *recs, size_t len, uint64_t waited_ms);

/*  Admits TX (LEN bytes) to the mempool (SIG_VERIFIED: its signature was checked by the
 *  caller, on these bytes), counting it in the stats. TXID and WHY may be NULL. Returns
 *  LEDGER_OK or the reason code. The caller runs nl_pace_check after a batch. */
int nl_admit(node_ledger_t *self, const uint8_t *tx, size_t len, bool sig_verified, uint8_t *txid,
             char *err, size_t err_cap);

/*  The outbox's sender (node_ledger_outbox_send_fn): p2p broadcast, failures counted. */
int nl_outbox_send(void *ctx, uint32_t kind, const uint8_t *data, size_t len);
/*  Gossips N admitted txs (copied) through the outbox (node_ledger_outbox.h). */
void nl_gossip_txs(node_ledger_t *self, const uint8_t *const *txs, const size_t *lens, size_t n);

#endif

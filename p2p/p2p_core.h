/*  p2p_core: the sans-IO protocol core of the p2p layer.
 *
 *  A pure state machine: it is fed raw messages from authenticated links together with
 *  the current time, and timer ticks; it answers through the io callbacks below (send
 *  bytes to a peer, dial a peer, hang up, deliver events). It owns no socket and reads no
 *  clock, and its only randomness is a PRNG seeded from its configuration, so a
 *  deterministic simulation can run many cores in one process and replay any seed.
 *
 *  What it does: HELLO handshake (chain id check, self-signed record), peer exchange of
 *  signed expiring records, ping after silence and expiry after longer silence, dialing
 *  with exponential backoff up to a target degree, Kademlia iterative lookup (k closest,
 *  alpha queries in flight), acknowledged and retried unicast, gossip with deduplication
 *  by message hash before any signature check, flooding in small networks and a bounded
 *  mesh in large ones, IHAVE/IWANT repair of lost messages, rooms (topics) with member-only
 *  routing and a posting-policy callback, misbehaviour scores, rate limits and bans.
 *
 *  Re-entrancy: io callbacks must not call back into the core; they queue or send.
 */
#ifndef GENIE_P2P_CORE_H
#define GENIE_P2P_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2p/p2p_record.h"
#include "proto/proto_key.h"

typedef struct p2p_core_t p2p_core_t;

#define P2P_TRANSIENT_SLACK 8

typedef struct {
    void *ctx;
    /* Transport: send DATA (an encoded envelope, borrowed) to linked/dialed PEER. True
       if the transport took it (queued on a live link), false if it dropped it at once
       (no route, queue full): the gossip layer counts only what was taken as sent. */
    bool (*send)(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len);
    /* Transport: open a link to PEER at ENDPOINT (the core sends HELLO right after). */
    void (*dial)(void *ctx, const uint8_t peer[static 32], const char *endpoint);
    /* Transport: close any link to PEER and forget its route. */
    void (*hangup)(void *ctx, const uint8_t peer[static 32]);

    /* Events. */
    void (*on_deliver)(void *ctx, const char *topic, uint32_t kind, const uint8_t origin[static 32],
                       const uint8_t *data, size_t len, uint64_t time_ms);
    /* A unicast of KIND (>= P2P_KIND_USER_MIN, e.g. a proto_msgtype_t) addressed to us,
       delivered once (already acknowledged). */
    void (*on_unicast)(void *ctx, const uint8_t from[static 32], uint32_t kind, const uint8_t *data,
                       size_t len);
    /* ENDPOINT is NULL when the lookup failed. */
    void (*on_lookup_done)(void *ctx, uint64_t lookup_id, const uint8_t target[static 32],
                           const char *endpoint);
    /* STATUS 0: acknowledged by the destination; -1: could not find or reach it. */
    void (*on_send_done)(void *ctx, uint64_t send_id, int status, const char *reason);
    /* Room posting policy; NULL means everyone may post. */
    bool (*policy)(void *ctx, const char *topic, const uint8_t origin[static 32],
                   const uint8_t *data, size_t len);
} p2p_io_t;

typedef struct {
    size_t target_degree;       /* links we try to keep (default 8) */
    size_t max_links;           /* links kept, inbound included (default 32); lookups and
                                   unicast may open P2P_TRANSIENT_SLACK short-lived ones more */
    size_t flood_max;           /* up to this many topic peers: flood; above: mesh (4) */
    size_t mesh_degree;         /* mesh size per topic in mesh mode (2): picks stop when
                                   the peers we picked and those that picked us reach it */
    size_t room_min_links;      /* links to other members kept per joined room (3) */
    size_t table_capacity;      /* known peers (1024) */
    size_t seen_capacity;       /* ids remembered for dedup (65536) */
    uint64_t seen_ttl_ms;       /* (120000) */
    size_t mcache_capacity;     /* messages kept for IWANT (4096) */
    size_t mcache_bytes;        /* (8 MiB) */
    uint64_t mcache_ttl_ms;     /* (30000) */
    uint64_t heartbeat_ms;      /* IHAVE / maintenance period (200) */
    uint64_t ping_after_ms;     /* ping a silent link after (5000) */
    uint64_t expire_after_ms;   /* drop a silent link after (15000) */
    uint64_t hello_timeout_ms;  /* a dial must complete HELLO within (5000) */
    uint64_t backoff_max_ms;    /* dial backoff cap (60000) */
    uint64_t record_ttl_ms;     /* our record's validity (3600000) */
    uint64_t lookup_timeout_ms; /* per query (2000) */
    uint64_t send_retry_ms;     /* unicast retry period (1000), 5 tries */
    uint32_t rate_per_s;        /* messages per second per link (20000) */
    uint32_t rate_burst;        /* (40000) */
    int32_t ban_score;          /* score at or below which a peer is banned (-100) */
    uint64_t ban_ms;            /* (600000) */
    size_t max_queued_unicast;  /* pending unicasts (1024; and P2P_UNICAST_QUEUE_BYTES) */
    bool link_auth;             /* the transport authenticates LINK_PEER (the ZeroMQ shell: a
                                   link's CURVE key is the Curve25519 form of the peer's node
                                   id), so a direct message, whose sender must be the link
                                   peer, is not checked again by its envelope signature; gossip
                                   always is (false) */
} p2p_params_t;

/*  Defaults listed above. */
void p2p_params_default(p2p_params_t *p);

typedef struct {
    const proto_key_t *key; /* node key, borrowed */
    uint8_t chain_id[32];
    const char *endpoints[P2P_REC_ENDPOINTS]; /* our listen endpoints (copied) */
    size_t n_endpoints;
    uint32_t roles;
    uint64_t rng_seed;
    const char *agent; /* e.g. "genie/0.1.0" (copied) */
    p2p_params_t params;
} p2p_core_config_t;

/*  NULL on OOM or bad config. IO is copied. */
p2p_core_t *p2p_core_new(const p2p_core_config_t *cfg, const p2p_io_t *io, uint64_t now_ms);
/*  Frees everything; tolerates NULL; sets *self_p to NULL. Does not call io. */
void p2p_core_destroy(p2p_core_t **self_p);
/*  Sends BYE to every link (call before destroy on a clean shutdown). */
void p2p_core_shutdown(p2p_core_t *self, uint64_t now_ms);

/*  A seed peer to dial (its record is learned in the handshake). 0, P2P_E_ADDR_ENDPOINT
 *  (ENDPOINT is not tcp://HOST:PORT), P2P_E_SELF (ID is ours) or P2P_E_TOO_MANY_SEEDS. */
int p2p_core_add_seed(p2p_core_t *self, const uint8_t id[static 32], const char *endpoint,
                      uint64_t now_ms);
/*  Known-peer persistence (p2p_table_save/load format). Save: 0 or P2P_E_NOMEM. Load: the
 *  number of records loaded (>= 0), or P2P_E_PEER_LIST if BUF is not a saved peer list. */
int p2p_core_save_peers(p2p_core_t *self, uint64_t now_ms, uint8_t **out, size_t *out_len);
int p2p_core_load_peers(p2p_core_t *self, const uint8_t *buf, size_t len, uint64_t now_ms);

/*  A message from the authenticated link peer LINK_PEER (raw envelope bytes). */
void p2p_core_on_message(p2p_core_t *self, const uint8_t link_peer[static 32], const uint8_t *data,
                         size_t len, uint64_t now_ms);
/*  One raw message received from a link, for p2p_core_on_messages. Borrowed. */
typedef struct {
    const uint8_t *peer; /* the authenticated link peer's 32-byte node id */
    const uint8_t *data; /* the raw envelope bytes */
    size_t len;
} p2p_inmsg_t;
/*  The N messages a transport received in one wakeup, handled in order with exactly the
 *  outcome of N calls of p2p_core_on_message, except that the signatures of the new gossip
 *  messages among them are checked together (proto_sig_check_batch: the same verdicts at a
 *  fraction of the cost). Any N; MSGS and what it points to are only read during the call. */
void p2p_core_on_messages(p2p_core_t *self, const p2p_inmsg_t *msgs, size_t n, uint64_t now_ms);
/*  The transport reports a link it failed to establish or lost. */
void p2p_core_on_link_down(p2p_core_t *self, const uint8_t peer[static 32], uint64_t now_ms);
/*  Timers: call at least every heartbeat_ms/2. */
void p2p_core_tick(p2p_core_t *self, uint64_t now_ms);

/*  The acknowledgements of received unicasts (PROTOCOL.md §5.7) wait in the core, so that
 *  what the message asked for (an enclave's answer, a sync answer) goes before them: an ack
 *  costs a signature here and a check at the sender, and its retry waits 1 s. The
 *  transport sends them within P2P_ACK_DELAY_MS of the first one queued (pending: how many
 *  wait); p2p_core_tick sends them too, and a full queue (P2P_ACKS_MAX) goes at once. */
#define P2P_ACK_DELAY_MS 10u
size_t p2p_core_acks_pending(const p2p_core_t *self);
void p2p_core_flush_acks(p2p_core_t *self, uint64_t now_ms);

/*  Node-wide broadcast of KIND (e.g. a transaction) to every node. 0, P2P_E_KIND (KIND <
 *  P2P_KIND_USER_MIN), P2P_E_TOO_BIG (LEN > P2P_PAYLOAD_MAX) or proto_envelope_seal's code. */
int p2p_core_broadcast(p2p_core_t *self, uint32_t kind, const uint8_t *data, size_t len,
                       uint64_t now_ms);
/*  Rooms. Join: 0 (also when already a member), P2P_E_ROOM_NAME or P2P_E_TOO_MANY_ROOMS.
 *  Leave: 0 or P2P_E_NOT_MEMBER. */
int p2p_core_room_join(p2p_core_t *self, const char *room, uint64_t now_ms);
int p2p_core_room_leave(p2p_core_t *self, const char *room, uint64_t now_ms);
bool p2p_core_room_member(const p2p_core_t *self, const char *room);
/*  Posts DATA to ROOM (we must be a member). 0, P2P_E_NOT_MEMBER, P2P_E_TOO_BIG (LEN >
 *  P2P_PAYLOAD_MAX) or proto_envelope_seal's code. */
int p2p_core_room_post(p2p_core_t *self, const char *room, const uint8_t *data, size_t len,
                       uint64_t now_ms);
size_t p2p_core_rooms(const p2p_core_t *self, const char **names, size_t max);

/*  Unicast of KIND (>= P2P_KIND_USER_MIN) to DEST: looks it up and dials it if needed,
 *  retries until acknowledged. DATA is copied. Returns a send id (> 0) reported later
 *  through on_send_done, or 0 if refused now (bad kind, too large, to ourselves, queue
 *  full). */
uint64_t p2p_core_send(p2p_core_t *self, const uint8_t dest[static 32], uint32_t kind,
                       const uint8_t *data, size_t len, uint64_t now_ms);
/*  Unacknowledged unicast (msg_id 0) of KIND to DEST, sent once if a link to DEST is up:
 *  no lookup, no dial, no retry, no on_send_done. For messages a neighbour may miss (the
 *  ledger's periodic STATUS). True if handed to the transport. */
bool p2p_core_send_once(p2p_core_t *self, const uint8_t dest[static 32], uint32_t kind,
                        const uint8_t *data, size_t len, uint64_t now_ms);
/*  Iterative lookup of TARGET's endpoint; result through on_lookup_done. Returns an id
 *  (> 0), or 0 if refused now. A known target is answered at once (still via callback). */
uint64_t p2p_core_lookup(p2p_core_t *self, const uint8_t target[static 32], uint64_t now_ms);

/*  Peer listing for status output. */
typedef struct {
    uint8_t id[32];
    char endpoint[P2P_ENDPOINT_MAX];
    uint32_t roles;
    char rooms[P2P_REC_ROOMS][P2P_ROOM_NAME_MAX]; /* the rooms its record lists */
    uint8_t n_rooms;
    uint64_t last_seen_ms;
    int32_t score;
    bool linked;
    bool banned;
} p2p_peer_info_t;
size_t p2p_core_peers(p2p_core_t *self, uint64_t now_ms, p2p_peer_info_t *out, size_t max);
size_t p2p_core_link_count(const p2p_core_t *self);
/*  The ids of the peers we hold an established regular link with (handshake done; not a
 *  transient link opened for a lookup or unicast): at most MAX into OUT; returns how many.
 *  For messages only neighbours need (the layer above sends them with p2p_core_send). */
size_t p2p_core_linked(const p2p_core_t *self, uint8_t (*out)[32], size_t max);

/*  Counters for tests, benchmarks and status (proto/PROTOCOL.md, "Rejections and
 *  counters", says which refusal counts where). All count since the core started. */
#define P2P_STATS_TYPES 14
typedef struct {
    uint64_t msgs_in, msgs_out;   /* envelopes received from links / sent (each copy) */
    uint64_t bytes_in, bytes_out; /* their bytes */
    uint64_t dup_dropped;         /* received again (same envelope hash): dropped before checks */
    uint64_t bad_sig;             /* signature does not verify, signer is not the link peer, or
                                     a HELLO's record is not the peer's or does not verify */
    uint64_t malformed;           /* does not decode, breaks a rule, too large, or stale
                                     (oversized and stale are also counted on their own) */
    uint64_t rate_limited;        /* over a link's token bucket */
    uint64_t policy_dropped;      /* room posts the posting policy refused */
    uint64_t banned;              /* bans imposed */
    uint64_t delivered;           /* gossip messages handed to on_deliver (own room posts too) */
    uint64_t iwant_served;        /* cached messages re-sent on IWANT */
    uint64_t oversized;           /* frames above PROTO_ENVELOPE_MAX (also in malformed) */
    uint64_t stale;               /* signed time too far from ours (also in malformed) */
    uint64_t wrong_chain;         /* HELLOs on another chain id */
    uint64_t send_refused;        /* messages the transport refused at once (a link's queue
                                     full, no route): also in msgs_out */
    size_t seen_entries, mcache_entries, mcache_bytes, table_entries; /* current sizes */
    size_t links;                         /* links with the handshake done */
    uint64_t in_by_type[P2P_STATS_TYPES]; /* envelopes past the duplicate check by envelope
                                             type (PROTO_MSG_HELLO 1 .. IWANT 13; 0: others) */
} p2p_stats_t;
void p2p_core_stats(const p2p_core_t *self, p2p_stats_t *out);

/*  True if a link peer with this Curve25519 key is banned at NOW (for the transport's
 *  authentication handler, which sees only CURVE keys). */
bool p2p_core_curve_banned(p2p_core_t *self, const uint8_t curve_pub[static 32], uint64_t now_ms);
/*  Our node id (32 bytes, owned by the core). */
const uint8_t *p2p_core_id(const p2p_core_t *self);

#endif

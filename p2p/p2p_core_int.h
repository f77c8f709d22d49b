/*  p2p_core_int: the core's internal state, shared by p2p_core.c (links, handshake,
 *  dispatch, scoring), p2p_gossip.c (topics, mesh, rooms, repair) and p2p_lookup.c
 *  (Kademlia lookups and unicast). Not part of the public API.
 */
#ifndef GENIE_P2P_CORE_INT_H
#define GENIE_P2P_CORE_INT_H

#include "p2p/p2p_core.h"
#include "p2p/p2p_msg.h"
#include "p2p/p2p_seen.h"
#include "p2p/p2p_table.h"
#include "proto/proto_envelope.h"
#include "proto/proto_log.h"

#define P2P_KIND_RECORD 0u /* internal gossip kind: a node's new peer record */
#define P2P_MAX_TOPICS (P2P_REC_ROOMS + 1)
#define P2P_MAX_LOOKUPS 64
#define P2P_LOOKUP_ALPHA 3
#define P2P_SHORTLIST 32
#define P2P_SEND_TRIES 5
#define P2P_BANS 256
#define P2P_ACKS_MAX 64    /* unicast acks waiting (p2p_core_flush_acks) */
#define P2P_IHAVE_MS 1000u /* how often a link may get an IHAVE */
/* A link's IHAVE round looks at most this many cached messages (those put since its last
   round, oldest first; the rest wait for the next round): 128 KiB of ids at most. */
#define P2P_IHAVE_SCAN 4096u
#define P2P_KNOWN_MIN 1024u /* ids remembered per link as known to it / sent to it: */
#define P2P_KNOWN_MAX                                                                              \
    65536u                      /* half the message cache's capacity (a round's worth at the       \
                                   cache's rate), within these bounds */
#define P2P_WANT_RETRY_MS 1000u /* an id asked for (IWANT) is not asked again before */
#define P2P_WANT_GRACE_MS 250u  /* an id advertised to us is asked for if not here by then */
#define P2P_WANTS_MAX 32768u    /* ids asked for and not yet received (the queue grows) */
#define FRESH_PAST_MS 90000u    /* signed time accepted this far behind ours... */
#define FRESH_FUTURE_MS 30000u  /* ...and this far ahead */

/* Score penalties. */
#define P2P_PEN_MALFORMED 10
#define P2P_PEN_BAD_SIG 20
#define P2P_PEN_PROTOCOL 5
#define P2P_PEN_RATE 1
#define P2P_PEN_OVERSIZED 20
/* A room post the posting policy refuses: the link peer relayed (or made) a post an honest
   node, which forwards only what its own policy accepts, would not have; as much as a
   malformed message, so about ten in ten seconds ban it. */
#define P2P_PEN_POLICY 10

/* Every way the core refuses a message from a peer (proto/PROTOCOL.md has the table):
   p2p_reject counts it in p2p_stats, takes the score from the link (a peer at or below
   ban_score is banned) and logs it at DEBUG, rate-limited per kind and per core. */
typedef enum {
    P2P_RJ_OVERSIZED = 0, /* frame above PROTO_ENVELOPE_MAX: malformed + oversized, 20 */
    P2P_RJ_ENVELOPE,      /* the envelope does not decode: malformed, 10 */
    P2P_RJ_BODY,          /* a body does not decode: malformed, 10 */
    P2P_RJ_PROTOCOL,      /* decodes but breaks a rule (reserved kind, unicast for someone
                             else, a type p2p does not carry): malformed, 5 */
    P2P_RJ_NOT_SENDER,    /* a direct message signed by another node than the link's: bad_sig, 20 */
    P2P_RJ_BAD_SIG,       /* the envelope signature does not verify: bad_sig, 20 */
    P2P_RJ_STALE,         /* signed time outside -90 s..+30 s of ours: malformed + stale, 0 */
    P2P_RJ_RATE,          /* over the link's token bucket: rate_limited, 1 */
    P2P_RJ_POLICY,        /* the room's posting policy said no: policy_dropped, 10 */
    P2P_RJ_COUNT
} p2p_reject_t;

/* Per-core log rate limits (one line per second per kind of event). */
typedef struct {
    proto_log_limit_t reject[P2P_RJ_COUNT];
    proto_log_limit_t ban, wrong_chain, version, bad_hello, link_up, link_down, full, refused;
} p2p_log_limits_t;

typedef struct {
    bool used;
    uint8_t id[32];
    bool outbound;   /* we dialed it */
    bool hello_recv; /* handshake done once we got its HELLO */
    bool transient;  /* opened for a lookup or unicast, pruned when idle */
    uint64_t opened_ms;
    uint64_t last_recv_ms;
    uint64_t last_ping_ms;
    uint64_t last_use_ms;   /* last app-level use (for transient pruning) */
    uint64_t last_hello_ms; /* last HELLO we sent on it (retransmitted until answered) */
    double tokens;
    uint64_t tokens_ms;
    int32_t score;
    uint64_t score_ms;
    p2p_record_t rec;      /* its record (rooms) once hello_recv */
    p2p_seen_t *known;     /* gossip ids it has shown it has (it sent them to us, or
                              advertised them): IHAVE and forwarding skip these; NULL (out
                              of memory) = knows nothing */
    p2p_seen_t *sent;      /* gossip ids we sent it or advertised to it in an IHAVE (the
                              transport took them): IHAVE skips these */
    uint64_t ihave_seq;    /* message-cache put number up to which its IHAVE rounds have
                              looked (0: a new link is offered the whole cache) */
    uint64_t send_refused; /* messages to it the transport refused (queue full) */
} p2p_link_t;

typedef struct {
    uint8_t id[32];
    uint8_t curve[32];
    uint64_t until_ms;
} p2p_ban_t;

#define P2P_MAX_SEEDS 64
#define P2P_ROTATE_MS 10000u     /* how often a node dials one extra known peer */
#define P2P_LONG_IHAVE_MS 10000u /* ...and every this often, the whole message cache */

/* An id advertised to us (IHAVE) that we have not received: asked for (IWANT) at DUE_MS,
   P2P_WANT_GRACE_MS after the IHAVE, then again every P2P_WANT_RETRY_MS (of another
   member of the topic if that peer went away) until it arrives or the message cache's
   time-to-live has passed since the IHAVE. */
typedef struct {
    uint8_t id[32];
    uint8_t peer[32];
    uint8_t topic; /* index in p2p_core_t.topics */
    uint64_t first_ms, due_ms;
} p2p_want_t;
#define P2P_HELLO_RESEND_MS 1000u

typedef struct {
    bool used;
    uint8_t id[32];
    char endpoint[P2P_ENDPOINT_MAX];
    uint64_t next_ms;
    uint32_t fails;
} p2p_seed_t;

/* A topic's mesh (used above flood_max topic links): the peers we picked (MESH, each told
   by a graft, an IHAVE without ids, once the transport took it) and the peers that picked
   us (GRAFTED). Forwarding goes to both, so every mesh edge carries messages both ways
   and every member hears from at least the peers it picked; we pick more only while both
   together are fewer than mesh_degree. */
typedef struct {
    char name[P2P_ROOM_NAME_MAX]; /* "" = node-wide */
    bool used;
    uint8_t mesh[16][32];
    bool told[16]; /* mesh[i] got our graft */
    size_t n_mesh;
    uint8_t grafted[16][32];
    size_t n_grafted;
} p2p_topic_t;

typedef enum { LK_NEW = 0, LK_DIALING, LK_QUERIED, LK_DONE, LK_FAILED } p2p_cand_state_t;

typedef struct {
    uint8_t id[32];
    char endpoint[P2P_ENDPOINT_MAX];
    p2p_cand_state_t state;
    uint64_t sent_ms;
    uint64_t req_id;
} p2p_cand_t;

typedef struct {
    bool used;
    uint64_t id;
    uint8_t target[32];
    uint64_t started_ms;
    p2p_cand_t cands[P2P_SHORTLIST];
    size_t n_cands;
    uint64_t send_id; /* nonzero when this lookup serves a pending unicast */
} p2p_lookup_t;

typedef struct p2p_unicast_pending_t {
    uint64_t send_id;
    uint8_t dest[32];
    uint64_t msg_id;
    uint32_t kind;
    uint8_t *payload;
    size_t len;
    int tries;
    uint64_t next_ms;
    uint64_t deadline_ms;
    bool resolving; /* waiting for a lookup or a dial */
    int resolves;   /* lookups/dials started for it */
    struct p2p_unicast_pending_t *next;
} p2p_unicast_pending_t;

/* What is already known of a message's envelope signature (p2p_batch.c checks the
   signatures of the gossip messages of one wakeup together). */
typedef enum { P2P_SIG_UNKNOWN = 0, P2P_SIG_VALID, P2P_SIG_INVALID } p2p_sig_t;

/* Scratch of p2p_core_on_messages (p2p_batch.c). */
typedef struct p2p_batch_t p2p_batch_t;

struct p2p_core_t {
    const proto_key_t *key;
    uint8_t id[32];
    uint8_t chain_id[32];
    p2p_params_t p;
    p2p_io_t io;
    char agent[P2P_AGENT_MAX];
    uint64_t rng;
    uint64_t seq;
    uint64_t next_req;

    p2p_record_t self_rec;
    uint64_t self_rec_refresh_ms;

    p2p_table_t *table;
    p2p_seen_t *seen;
    p2p_mcache_t *mcache;

    p2p_link_t *links;
    size_t n_links_cap;

    p2p_ban_t bans[P2P_BANS];
    uint64_t bans_until_ms; /* the latest until_ms of any ban: none is in force from then */

    p2p_topic_t topics[P2P_MAX_TOPICS];
    uint64_t last_heartbeat_ms;
    uint64_t last_peers_ms;

    p2p_lookup_t lookups[P2P_MAX_LOOKUPS];
    uint64_t next_lookup_id;
    p2p_unicast_pending_t *unicasts;
    size_t n_unicasts;
    size_t unicast_bytes; /* their payloads' bytes (at most P2P_UNICAST_QUEUE_BYTES) */
    uint64_t next_send_id;
    struct {
        uint8_t to[32];
        uint64_t msg_id;
    } acks[P2P_ACKS_MAX]; /* acks of received unicasts not sent yet */
    size_t n_acks;

    p2p_stats_t st;
    p2p_log_limits_t lim;
    p2p_records_msg_t rx_records; /* decode scratch: too big for the stack */
    double stranger_tokens;       /* BYEs we may still send to unlinked peers */
    uint64_t stranger_ms;
    p2p_seed_t seeds[P2P_MAX_SEEDS]; /* redialed until their record is known */
    bool announce_pending;           /* our record has not been gossiped over a link yet */
    uint64_t next_rotate_ms;
    uint64_t last_long_ihave_ms;
    uint64_t last_ihave_ms;
    p2p_seen_t *wanted; /* ids we sent IWANT for lately */
    p2p_want_t *wants;  /* [wants_cap]: ids advertised, not yet here */
    size_t n_wants, wants_cap;
    uint64_t wants_due_ms;              /* the earliest due_ms of wants (valid while n_wants > 0) */
    p2p_mcache_ref_t *ihave_refs;       /* [P2P_IHAVE_SCAN]: IHAVE scratch */
    uint8_t ihave_out[P2P_IDS_MAX][32]; /* IHAVE scratch: one link's share */
    p2p_batch_t *batch;                 /* p2p_core_on_messages scratch */
};

/* p2p_core.c */
uint64_t p2p_rand(p2p_core_t *c);
/* First 4 bytes of ID in hex, for log lines. */
void p2p_short_id(const uint8_t id[static 32], char out[static 9]);
/* Forgets a link and tells the transport to hang up; FAILED backs off redialing. */
void p2p_link_close(p2p_core_t *c, p2p_link_t *l, uint64_t now, bool failed);
/* Links that count against max_links (transient ones do not). */
size_t p2p_link_count_regular(const p2p_core_t *c);
/* Sends our HELLO to PEER; HAVE_YOURS says we already hold its HELLO. */
void p2p_send_hello(p2p_core_t *c, const uint8_t peer[static 32], bool have_yours, uint64_t now);
void p2p_send_bye(p2p_core_t *c, const uint8_t peer[static 32], const char *reason, uint64_t now);
/* Sends up to 16 random known records to PEER. */
void p2p_send_peers(p2p_core_t *c, const uint8_t peer[static 32], uint64_t now);
p2p_link_t *p2p_link_find(p2p_core_t *c, const uint8_t id[static 32]);
/* Established link (handshake complete) or NULL. */
p2p_link_t *p2p_link_ready(p2p_core_t *c, const uint8_t id[static 32]);
/* Opens an outbound link: dial + HELLO. NULL if full, banned or already linked. */
p2p_link_t *p2p_link_dial(p2p_core_t *c, const uint8_t id[static 32], const char *endpoint,
                          bool transient, uint64_t now);
/* Seals BODY as TYPE and sends it to PEER. 0, proto_envelope_seal's code, or P2P_E_NOMEM
   (p2p_send_wr: the writer ran out of memory). */
int p2p_send_msg(p2p_core_t *c, const uint8_t peer[static 32], uint32_t type, const uint8_t *body,
                 size_t len, uint64_t now);
/* Hands RAW to the transport for PEER (L its link, or NULL) and counts it; a refusal
   (queue full, no route) is counted in send_refused, per link too, and logged at DEBUG.
   True if the transport took it. */
bool p2p_send_raw(p2p_core_t *c, p2p_link_t *l, const uint8_t peer[static 32], const uint8_t *raw,
                  size_t len, uint64_t now);
/* Sends a writer's content as TYPE to PEER and frees the writer. */
int p2p_send_wr(p2p_core_t *c, const uint8_t peer[static 32], uint32_t type, proto_wr_t *w,
                uint64_t now);
void p2p_penalize(p2p_core_t *c, p2p_link_t *l, int32_t points, uint64_t now);
/* Refuses a message from PEER (L its link, or NULL) for WHY: counts, scores, logs. */
void p2p_reject(p2p_core_t *c, p2p_link_t *l, const uint8_t peer[static 32], p2p_reject_t why,
                uint64_t now);
bool p2p_is_banned(const p2p_core_t *c, const uint8_t id[static 32], uint64_t now);
/* p2p_score.c: takes a token from L's bucket; false (nothing taken) when it is empty. */
bool p2p_rate_ok(p2p_core_t *c, p2p_link_t *l, uint64_t now);
/* Bumps our record (rooms changed or refresh) and announces it. */
void p2p_self_record_update(p2p_core_t *c, uint64_t now);
/* Verifies and stores a record learned from anyone; updates the link copy. True if the
   record is valid (newly stored, or already known at this or a newer seq). */
bool p2p_learn_record(p2p_core_t *c, const p2p_record_t *rec, uint64_t now);
size_t p2p_link_count_ready(const p2p_core_t *c);

/* Notes that link L has shown it has gossip message ID. */
void p2p_link_knows(p2p_link_t *l, const uint8_t id[static 32], uint64_t now);

/* Handles one message from LINK_PEER (p2p_core_on_message's steps); KNOWN_ID (may be
   NULL) is its envelope id when already computed, SIG its signature's verdict when
   already checked. */
void p2p_on_one(p2p_core_t *c, const uint8_t link_peer[static 32], const uint8_t *data, size_t len,
                const uint8_t *known_id, p2p_sig_t sig, uint64_t now);

/* p2p_batch.c */
p2p_batch_t *p2p_batch_new(void);
void p2p_batch_destroy(p2p_batch_t **self_p);

/* p2p_gossip.c */
p2p_topic_t *p2p_topic_find(p2p_core_t *c, const char *name);
bool p2p_link_in_topic(const p2p_link_t *l, const char *topic);
int p2p_gossip_publish(p2p_core_t *c, const char *topic, uint32_t kind, const uint8_t *data,
                       size_t len, uint64_t now);
void p2p_gossip_on_msg(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env,
                       const uint8_t *raw, size_t raw_len, const uint8_t id[static 32],
                       uint64_t now);
void p2p_gossip_heartbeat(p2p_core_t *c, uint64_t now);

/* p2p_repair.c: IHAVE / IWANT. */
void p2p_repair_on_ihave(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env,
                         uint64_t now);
void p2p_repair_on_iwant(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env,
                         uint64_t now);
/* The per-second IHAVE rounds (every P2P_LONG_IHAVE_MS from the cache's start) and the
   retried IWANTs; called by p2p_gossip_heartbeat. */
void p2p_repair_tick(p2p_core_t *c, uint64_t now);
void p2p_gossip_link_gone(p2p_core_t *c, const uint8_t id[static 32]);
/* True if L gets topic T's messages by forwarding (flood, or a mesh member either way). */
bool p2p_gossip_forwards_to(p2p_core_t *c, p2p_topic_t *t, const p2p_link_t *l);
/* FROM picked us for topic T's mesh (it sent an IHAVE without ids). */
void p2p_gossip_on_graft(p2p_core_t *c, p2p_link_t *from, p2p_topic_t *t);

/* p2p_lookup.c */
void p2p_lookup_on_find_node(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env,
                             uint64_t now);
void p2p_lookup_on_nodes(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env,
                         uint64_t now);
void p2p_lookup_link_ready(p2p_core_t *c, const uint8_t id[static 32], uint64_t now);
void p2p_lookup_link_failed(p2p_core_t *c, const uint8_t id[static 32], uint64_t now);
void p2p_lookup_tick(p2p_core_t *c, uint64_t now);
void p2p_unicast_on_msg(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env, uint64_t now);
void p2p_unicast_on_ack(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env, uint64_t now);
void p2p_lookup_free_all(p2p_core_t *c);

#endif

/*  tool_link: one link to a real genie-node, made exactly as a genie-node makes it, for
 *  the hostile-peer test tools (genie-evil, genie-forge).
 *
 *  A ZeroMQ DEALER, CurveZMQ client pinned to the Curve25519 form of the target's
 *  Ed25519 node id, its own CURVE keys derived from a fresh Ed25519 node key. The link
 *  sends whatever frames the tool gives it (sealed or not), introduces itself with a
 *  signed HELLO whose peer record lists no endpoint (so the target never dials it back
 *  nor advertises it), and reads what comes back: every envelope is counted by type, the
 *  target's HELLO marks the link up, a BYE's reason is kept, a PING is answered with a
 *  PONG, and then the tool's own handler (tool_link_set_rx) sees the envelope.
 *
 *  Every wait is bounded by a time given by the caller, every loop by a count.
 *  Not thread-safe: one thread owns a link.
 */
#ifndef GENIE_TOOL_LINK_H
#define GENIE_TOOL_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2p/p2p_msg.h"
#include "p2p/p2p_record.h"
#include "proto/proto_envelope.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"

#define TOOL_LINK_RX_TYPES 16 /* envelope types counted one by one (the p2p ones) */

typedef struct tool_link_t tool_link_t;

/* What went over the link so far. */
typedef struct {
    uint64_t sent, sent_bytes, send_failed; /* frames handed to ZeroMQ, and refusals */
    uint64_t pongs_sent;                    /* answers to the target's PINGs */
    uint64_t rx[TOOL_LINK_RX_TYPES];        /* envelopes received, by type */
    uint64_t rx_other;                      /* undecodable, or of a type >= the above */
    bool linked;                            /* the target's HELLO arrived */
    char bye_reason[P2P_REASON_MAX];        /* the last BYE's reason ("" if none) */
} tool_link_stats_t;

/* Called for every decoded envelope after the link's own handling. ENV and its body are
   borrowed for the call. The handler must not send (queue the work, send after
   tool_link_drain returns): a send may drain the socket and re-enter the handler. */
typedef void(tool_link_rx_fn)(void *ctx, const proto_envelope_t *env);

/*  Parses TEXT "NODEID@tcp://IP:PORT" (64 hex digits, '@', an endpoint p2p accepts) into
 *  ID and ENDPOINT. 0, or -1 if it is not of that form. */
int tool_link_parse_target(const char *text, uint8_t id[static 32],
                           char endpoint[static P2P_ENDPOINT_MAX]);

/*  Generates a node key and connects to ENDPOINT as a CURVE client of TARGET_ID (nothing
 *  is sent yet; ZeroMQ connects in the background and reconnects every 100 ms). Returns
 *  the link (caller destroys), or NULL with one line in ERR. */
tool_link_t *tool_link_new(const uint8_t target_id[static 32], const char *endpoint, char *err,
                           size_t err_cap);

/*  Closes the socket (lingering at most 5 s for queued frames) and wipes the key;
 *  tolerates NULL; sets *self_p to NULL. */
void tool_link_destroy(tool_link_t **self_p);

/*  Installs the tool's handler (FN may be NULL: none). */
void tool_link_set_rx(tool_link_t *self, tool_link_rx_fn *fn, void *ctx);

/*  Our node identity (owned by the link) and counters (owned by the link). */
const proto_key_t *tool_link_key(const tool_link_t *self);
const tool_link_stats_t *tool_link_stats(const tool_link_t *self);

/*  Sends one frame, as is. While ZeroMQ's queue is full it reads what arrived and
 *  retries, until DEADLINE_MS (zclock_mono). 0, or -1 (counted in send_failed). */
int tool_link_send(tool_link_t *self, const uint8_t *data, size_t len, int64_t deadline_ms);

/*  Seals BODY (LEN bytes) as an envelope of TYPE from KEY (the link's own or another),
 *  with the link's next sequence number and the wall clock. *OUT is malloc'd (caller
 *  frees). 0 or -1. */
int tool_link_seal(tool_link_t *self, const proto_key_t *key, uint32_t type, const uint8_t *body,
                   size_t len, uint8_t **out, size_t *out_len);

/*  As tool_link_seal, with the body taken from W, which is freed (also on error). */
int tool_link_seal_wr(tool_link_t *self, const proto_key_t *key, uint32_t type, proto_wr_t *w,
                      uint8_t **out, size_t *out_len);

/*  Seals W's content (W is freed) as TYPE from our key and sends it. 0 or -1. */
int tool_link_send_wr(tool_link_t *self, uint32_t type, proto_wr_t *w, int64_t deadline_ms);

/*  A PING with a random nonce from KEY, sealed into *OUT (caller frees). 0 or -1. */
int tool_link_ping(tool_link_t *self, const proto_key_t *key, uint8_t **out, size_t *out_len);

/*  Sends our signed HELLO (have_yours false) carrying CHAIN_ID and AGENT. 0 or -1. */
int tool_link_hello(tool_link_t *self, const uint8_t chain_id[static 32], const char *agent,
                    int64_t deadline_ms);

/*  Reads what has arrived, waiting up to WAIT_MS (0: not at all) for the first message. */
void tool_link_drain(tool_link_t *self, int wait_ms);

/*  Waits up to WAIT_MS until envelopes of TYPE (< TOOL_LINK_RX_TYPES) number more than
 *  BEFORE. True if they do. */
bool tool_link_wait_type(tool_link_t *self, uint32_t type, uint64_t before, int wait_ms);

/*  Flush barrier: a fresh PING after everything sent, then up to WAIT_MS for its PONG. A
 *  link is one ordered connection, so the PONG means the target has handled every
 *  earlier message. True if it came. */
bool tool_link_barrier(tool_link_t *self, int wait_ms);

#endif

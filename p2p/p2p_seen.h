/*  p2p_seen: the gossip layer's bounded memories.
 *
 *  p2p_seen_t remembers message ids (32-byte hashes) for deduplication: at most CAPACITY
 *  ids, each for at most TTL_MS; the oldest is evicted first. Lookup and insert are O(1)
 *  average (open addressing over a ring of insertion order).
 *  p2p_mcache_t keeps the raw bytes of recent messages (at most CAPACITY messages and
 *  MAX_BYTES in total, each for at most TTL_MS) so that a peer that missed one can ask
 *  for it by id (IWANT), and lists the recent ids of a topic for IHAVE.
 *  Pure data structures: no I/O, times are passed in.
 */
#ifndef GENIE_P2P_SEEN_H
#define GENIE_P2P_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct p2p_seen_t p2p_seen_t;

p2p_seen_t *p2p_seen_new(size_t capacity, uint64_t ttl_ms);
void p2p_seen_destroy(p2p_seen_t **self_p);
/*  True if ID was seen and has not aged out at NOW. */
bool p2p_seen_has(p2p_seen_t *s, const uint8_t id[static 32], uint64_t now_ms);
/*  Records ID at NOW. Returns true if it was new, false if already present. */
bool p2p_seen_add(p2p_seen_t *s, const uint8_t id[static 32], uint64_t now_ms);
size_t p2p_seen_count(const p2p_seen_t *s);

typedef struct p2p_mcache_t p2p_mcache_t;

p2p_mcache_t *p2p_mcache_new(size_t capacity, size_t max_bytes, uint64_t ttl_ms);
void p2p_mcache_destroy(p2p_mcache_t **self_p);
/*  Stores a copy of DATA under ID for TOPIC. Returns 0, P2P_E_ARG (NULL topic, NULL data with
 *  a length), P2P_E_TOO_BIG (past the byte budget) or P2P_E_NOMEM. */
int p2p_mcache_put(p2p_mcache_t *c, const uint8_t id[static 32], const char *topic,
                   const uint8_t *data, size_t len, uint64_t now_ms);
/*  Borrowed bytes of message ID (valid until the next put), or NULL. */
const uint8_t *p2p_mcache_get(p2p_mcache_t *c, const uint8_t id[static 32], uint64_t now_ms,
                              size_t *len);
/*  Ids of TOPIC's messages stored at or after SINCE_MS, newest first, at most MAX;
 *  returns how many were written. */
size_t p2p_mcache_recent(p2p_mcache_t *c, const char *topic, uint64_t since_ms, uint64_t now_ms,
                         uint8_t (*ids)[32], size_t max);
/*  Every put is numbered (1, 2, ...: the mcache's own sequence, in ring order). The put
 *  number of message ID, or 0 when it is not held (or aged out). */
uint64_t p2p_mcache_seq_of(p2p_mcache_t *c, const uint8_t id[static 32], uint64_t now_ms);
/*  The put number of the newest put (0 before the first). */
uint64_t p2p_mcache_last_seq(const p2p_mcache_t *c);
/*  A held message as p2p_mcache_after lists it; ID and TOPIC are borrowed (valid until the
 *  next put). */
typedef struct {
    const uint8_t *id; /* 32 bytes */
    const char *topic;
    uint64_t seq; /* its put number */
} p2p_mcache_ref_t;
/*  The held messages put after put number AFTER, oldest first, at most MAX into OUT;
 *  returns how many. A caller that keeps the last SEQ it saw as AFTER walks every message
 *  once (those evicted in between are skipped). */
size_t p2p_mcache_after(p2p_mcache_t *c, uint64_t after, uint64_t now_ms, p2p_mcache_ref_t *out,
                        size_t max);
size_t p2p_mcache_count(const p2p_mcache_t *c);
size_t p2p_mcache_bytes(const p2p_mcache_t *c);

#endif

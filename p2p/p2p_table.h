/*  p2p_table: the bounded table of known peers (Kademlia k-buckets of peer records).
 *
 *  Entries are verified, unexpired peer records plus local bookkeeping (last seen, dial
 *  failures and backoff, score, ban). Bucket i holds ids whose XOR distance to our own id
 *  has its highest set bit at position 255-i (i = count of leading zero bits); each bucket
 *  holds at most P2P_BUCKET_K entries and the table at most its capacity. When a bucket is
 *  full, a newcomer replaces the entry with the oldest last_seen that is not linked, and
 *  is dropped if every entry is linked. A newer record (higher seq) for a known id
 *  replaces the old one in place.
 *  Pure data structure: no I/O, no clock (times are passed in).
 */
#ifndef GENIE_P2P_TABLE_H
#define GENIE_P2P_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2p/p2p_record.h"

#define P2P_BUCKET_K 16

typedef struct p2p_table_t p2p_table_t;

typedef struct {
    p2p_record_t rec;
    uint64_t last_seen_ms; /* last message from it (0 = never) */
    uint64_t next_dial_ms; /* don't dial before this (backoff) */
    uint32_t dial_failures;
    int32_t score; /* misbehaviour score, negative is bad */
    uint64_t banned_until_ms;
    bool linked; /* maintained by the core */
} p2p_entry_t;

typedef enum {
    P2P_TABLE_ADDED = 0,
    P2P_TABLE_UPDATED = 1, /* newer seq replaced the old record */
    P2P_TABLE_STALE = 2,   /* we already have this seq or a newer one */
    P2P_TABLE_FULL = 3,    /* bucket full of linked entries: not stored */
    P2P_TABLE_SELF = 4,    /* our own id: never stored */
    P2P_TABLE_EXPIRED = 5  /* record expired at NOW */
} p2p_table_result_t;

/*  New table for our id SELF holding at most CAPACITY entries. NULL on OOM. */
p2p_table_t *p2p_table_new(const uint8_t self[static P2P_ID_LEN], size_t capacity);
void p2p_table_destroy(p2p_table_t **self_p);

/*  Inserts or updates REC (already verified by the caller). */
p2p_table_result_t p2p_table_put(p2p_table_t *t, const p2p_record_t *rec, uint64_t now_ms);
/*  Entry for ID or NULL. The pointer stays valid until the next put/remove/expire. */
p2p_entry_t *p2p_table_get(p2p_table_t *t, const uint8_t id[static P2P_ID_LEN]);
void p2p_table_remove(p2p_table_t *t, const uint8_t id[static P2P_ID_LEN]);
/*  Drops unlinked entries whose record expired at NOW; returns how many. */
size_t p2p_table_expire(p2p_table_t *t, uint64_t now_ms);

size_t p2p_table_count(const p2p_table_t *t);
/*  The I-th entry in a stable but unspecified order (0 <= i < count). */
p2p_entry_t *p2p_table_at(p2p_table_t *t, size_t i);

/*  Up to MAX entries closest to TARGET by XOR distance, nearest first, skipping banned
 *  ones at NOW; returns how many were written to OUT. */
size_t p2p_table_closest(p2p_table_t *t, const uint8_t target[static P2P_ID_LEN], uint64_t now_ms,
                         p2p_entry_t **out, size_t max);

/*  Compares the XOR distances of A and B to TARGET: <0 if A is closer, 0 equal, >0. */
int p2p_xor_cmp(const uint8_t target[static P2P_ID_LEN], const uint8_t a[static P2P_ID_LEN],
                const uint8_t b[static P2P_ID_LEN]);
/*  Bucket index of ID relative to SELF (0..255), or -1 if ID == SELF. */
int p2p_bucket_index(const uint8_t self[static P2P_ID_LEN], const uint8_t id[static P2P_ID_LEN]);

/*  Serializes every unexpired record (for DATADIR/peers.dat): a msgpack array of records.
 *  *out is malloc'd (caller frees). 0 or P2P_E_NOMEM. */
int p2p_table_save(const p2p_table_t *t, uint64_t now_ms, uint8_t **out, size_t *out_len);
/*  Loads records saved by p2p_table_save, verifying each signature and skipping invalid
 *  or expired ones. Returns the number loaded (>= 0), or P2P_E_PEER_LIST if the buffer is
 *  not a well-formed record list (then nothing is loaded). */
int p2p_table_load(p2p_table_t *t, const uint8_t *buf, size_t len, uint64_t now_ms);

#endif

/*  p2p_table: the bounded k-bucket table of known peers (see p2p_table.h).
 *
 *  All storage is allocated once at _new: a dense array of CAPACITY entries (the first
 *  COUNT in use, so p2p_table_at is an index) and, per bucket, the slot numbers of its
 *  members (at most P2P_BUCKET_K), so finding an id scans one bucket. Removing an entry
 *  moves the last one into its slot, which is why entry pointers only live until the next
 *  put/remove/expire. A table can never hold more than 256 * P2P_BUCKET_K entries, so a
 *  larger capacity is clamped to that.
 *
 *  Eviction. A newcomer to a full bucket replaces that bucket's unlinked entry with the
 *  oldest last_seen (ties: the one stored first); if every entry there is linked it is
 *  not stored (FULL). When the table as a whole is full, the victim is the oldest
 *  unlinked entry of the fullest bucket that has one (ties: the newcomer's own bucket,
 *  then the farthest), which keeps the table spread over all distances; FULL if no entry
 *  anywhere is unlinked.
 */
#include "p2p/p2p_table.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_BUCKETS 256
#define TABLE_MAX (TABLE_BUCKETS * P2P_BUCKET_K)

struct p2p_table_t {
    uint8_t self[P2P_ID_LEN];
    size_t capacity;
    size_t count;
    p2p_entry_t *entries; /* [capacity], the first COUNT in use */
    uint64_t *stored;     /* [capacity], serial of each entry's insertion (eviction tie-break) */
    uint64_t serial;
    uint8_t bucket_n[TABLE_BUCKETS];
    uint16_t members[TABLE_BUCKETS][P2P_BUCKET_K]; /* slot numbers of each bucket's entries */
};

p2p_table_t *p2p_table_new(const uint8_t self[static P2P_ID_LEN], size_t capacity)
{
    p2p_table_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    memcpy(t->self, self, P2P_ID_LEN);
    t->capacity = capacity < TABLE_MAX ? capacity : TABLE_MAX;
    size_t alloc = t->capacity ? t->capacity : 1;
    t->entries = calloc(alloc, sizeof *t->entries);
    t->stored = calloc(alloc, sizeof *t->stored);
    if (!t->entries || !t->stored)
        p2p_table_destroy(&t);
    return t;
}

void p2p_table_destroy(p2p_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    p2p_table_t *t = *self_p;
    free(t->entries);
    free(t->stored);
    free(t);
    *self_p = NULL;
}

int p2p_xor_cmp(const uint8_t target[static P2P_ID_LEN], const uint8_t a[static P2P_ID_LEN],
                const uint8_t b[static P2P_ID_LEN])
{
    for (size_t i = 0; i < P2P_ID_LEN; i++) {
        uint8_t da = a[i] ^ target[i];
        uint8_t db = b[i] ^ target[i];
        if (da != db)
            return da < db ? -1 : 1;
    }
    return 0;
}

int p2p_bucket_index(const uint8_t self[static P2P_ID_LEN], const uint8_t id[static P2P_ID_LEN])
{
    for (int i = 0; i < P2P_ID_LEN; i++) {
        uint8_t x = self[i] ^ id[i];
        if (x) {
            int lz = 0;
            while (!(x & 0x80)) {
                x = (uint8_t)(x << 1);
                lz++;
            }
            return i * 8 + lz;
        }
    }
    return -1;
}

/*  Slot of ID within bucket B, or -1; its position in the member list in *pos if wanted. */
static int s_find_in_bucket(const p2p_table_t *t, int b, const uint8_t *id, size_t *pos)
{
    for (size_t m = 0; m < t->bucket_n[b]; m++) {
        uint16_t slot = t->members[b][m];
        if (memcmp(t->entries[slot].rec.id, id, P2P_ID_LEN) == 0) {
            if (pos)
                *pos = m;
            return slot;
        }
    }
    return -1;
}

/*  Slot of ID or -1. */
static int s_find(const p2p_table_t *t, const uint8_t *id)
{
    int b = p2p_bucket_index(t->self, id);
    return b < 0 ? -1 : s_find_in_bucket(t, b, id, NULL);
}

/*  Bucket of the entry in SLOT (in *B) and its position in that bucket's member list. */
static size_t s_member_of(const p2p_table_t *t, size_t slot, int *b)
{
    size_t pos = 0;
    *b = p2p_bucket_index(t->self, t->entries[slot].rec.id);
    int found = *b < 0 ? -1 : s_find_in_bucket(t, *b, t->entries[slot].rec.id, &pos);
    assert(found == (int)slot); /* else our own bookkeeping is broken */
    (void)found;
    return pos;
}

/*  Removes the entry in SLOT; the last entry moves into SLOT. */
static void s_remove_slot(p2p_table_t *t, size_t slot)
{
    int b;
    size_t pos = s_member_of(t, slot, &b);
    t->members[b][pos] = t->members[b][--t->bucket_n[b]];

    size_t last = t->count - 1;
    if (slot != last) {
        int lb;
        size_t lpos = s_member_of(t, last, &lb);
        t->entries[slot] = t->entries[last];
        t->stored[slot] = t->stored[last];
        t->members[lb][lpos] = (uint16_t)slot;
    }
    memset(&t->entries[last], 0, sizeof t->entries[last]);
    t->count--;
}

/*  Slot of bucket B's unlinked entry with the oldest last_seen (ties: stored first),
 *  or -1 if every entry of B is linked. */
static int s_victim_in_bucket(const p2p_table_t *t, int b)
{
    int best = -1;
    for (size_t m = 0; m < t->bucket_n[b]; m++) {
        uint16_t slot = t->members[b][m];
        const p2p_entry_t *e = &t->entries[slot];
        if (e->linked)
            continue;
        if (best < 0 || e->last_seen_ms < t->entries[best].last_seen_ms ||
            (e->last_seen_ms == t->entries[best].last_seen_ms && t->stored[slot] < t->stored[best]))
            best = slot;
    }
    return best;
}

/*  Victim when the whole table is full and a newcomer belongs to bucket OWN: see the file
 *  comment. -1 if every entry is linked. */
static int s_victim_in_table(const p2p_table_t *t, int own)
{
    int best = s_victim_in_bucket(t, own);
    int best_n = best >= 0 ? t->bucket_n[own] : -1;
    for (int b = 0; b < TABLE_BUCKETS; b++) {
        if (b == own || t->bucket_n[b] <= best_n)
            continue;
        int v = s_victim_in_bucket(t, b);
        if (v >= 0) {
            best = v;
            best_n = t->bucket_n[b];
        }
    }
    return best;
}

p2p_table_result_t p2p_table_put(p2p_table_t *t, const p2p_record_t *rec, uint64_t now_ms)
{
    int b = p2p_bucket_index(t->self, rec->id);
    if (b < 0)
        return P2P_TABLE_SELF;
    if (rec->expiry_ms <= now_ms)
        return P2P_TABLE_EXPIRED;

    int slot = s_find_in_bucket(t, b, rec->id, NULL);
    if (slot >= 0) {
        p2p_entry_t *e = &t->entries[slot];
        if (rec->seq <= e->rec.seq)
            return P2P_TABLE_STALE;
        e->rec = *rec; /* bookkeeping stays */
        return P2P_TABLE_UPDATED;
    }

    if (t->bucket_n[b] >= P2P_BUCKET_K) {
        int v = s_victim_in_bucket(t, b);
        if (v < 0)
            return P2P_TABLE_FULL;
        s_remove_slot(t, (size_t)v);
    } else if (t->count >= t->capacity) {
        int v = s_victim_in_table(t, b);
        if (v < 0)
            return P2P_TABLE_FULL;
        s_remove_slot(t, (size_t)v);
    }

    size_t at = t->count++;
    memset(&t->entries[at], 0, sizeof t->entries[at]);
    t->entries[at].rec = *rec;
    t->stored[at] = t->serial++;
    t->members[b][t->bucket_n[b]++] = (uint16_t)at;
    return P2P_TABLE_ADDED;
}

p2p_entry_t *p2p_table_get(p2p_table_t *t, const uint8_t id[static P2P_ID_LEN])
{
    int slot = s_find(t, id);
    return slot < 0 ? NULL : &t->entries[slot];
}

void p2p_table_remove(p2p_table_t *t, const uint8_t id[static P2P_ID_LEN])
{
    int slot = s_find(t, id);
    if (slot >= 0)
        s_remove_slot(t, (size_t)slot);
}

size_t p2p_table_expire(p2p_table_t *t, uint64_t now_ms)
{
    size_t dropped = 0;
    size_t i = 0;
    while (i < t->count) {
        const p2p_entry_t *e = &t->entries[i];
        if (!e->linked && e->rec.expiry_ms <= now_ms) {
            s_remove_slot(t, i); /* the last entry moves into I: look at I again */
            dropped++;
        } else {
            i++;
        }
    }
    return dropped;
}

size_t p2p_table_count(const p2p_table_t *t)
{
    return t->count;
}

p2p_entry_t *p2p_table_at(p2p_table_t *t, size_t i)
{
    return i < t->count ? &t->entries[i] : NULL;
}

size_t p2p_table_closest(p2p_table_t *t, const uint8_t target[static P2P_ID_LEN], uint64_t now_ms,
                         p2p_entry_t **out, size_t max)
{
    size_t n = 0;
    if (max == 0)
        return 0;
    /* OUT is kept sorted; each candidate is placed by binary search (ids are unique, so
     * distances never tie). */
    for (size_t i = 0; i < t->count; i++) {
        p2p_entry_t *e = &t->entries[i];
        if (e->banned_until_ms > now_ms)
            continue;
        if (n == max && p2p_xor_cmp(target, e->rec.id, out[n - 1]->rec.id) >= 0)
            continue;
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (p2p_xor_cmp(target, out[mid]->rec.id, e->rec.id) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (n < max)
            n++;
        memmove(&out[lo + 1], &out[lo], (n - 1 - lo) * sizeof *out);
        out[lo] = e;
    }
    return n;
}

int p2p_table_save(const p2p_table_t *t, uint64_t now_ms, uint8_t **out, size_t *out_len)
{
    uint32_t n = 0;
    for (size_t i = 0; i < t->count; i++)
        if (t->entries[i].rec.expiry_ms > now_ms)
            n++;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, n);
    for (size_t i = 0; i < t->count; i++)
        if (t->entries[i].rec.expiry_ms > now_ms)
            p2p_record_write(&w, &t->entries[i].rec);
    *out = proto_wr_take(&w, out_len);
    proto_wr_free(&w);
    return *out ? 0 : P2P_E_NOMEM;
}

int p2p_table_load(p2p_table_t *t, const uint8_t *buf, size_t len, uint64_t now_ms)
{
    if (!buf)
        return P2P_E_PEER_LIST;
    p2p_record_t rec;
    proto_rd_t r;
    uint32_t n = 0;

    /* First pass: the whole buffer must be a well-formed list, else nothing is loaded. */
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_max(&r, TABLE_MAX, &n) != PROTO_OK)
        return P2P_E_PEER_LIST;
    for (uint32_t i = 0; i < n; i++)
        if (p2p_record_read(&r, &rec) != PROTO_OK)
            return P2P_E_PEER_LIST;
    if (proto_rd_finish(&r) != PROTO_OK)
        return P2P_E_PEER_LIST;

    /* Second pass: put every record whose signature verifies. */
    int loaded = 0;
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_max(&r, TABLE_MAX, &n) != PROTO_OK)
        return P2P_E_PEER_LIST;
    for (uint32_t i = 0; i < n; i++) {
        if (p2p_record_read(&r, &rec) != PROTO_OK)
            return P2P_E_PEER_LIST;
        if (!p2p_record_verify(&rec))
            continue;
        p2p_table_result_t res = p2p_table_put(t, &rec, now_ms);
        if (res == P2P_TABLE_ADDED || res == P2P_TABLE_UPDATED)
            loaded++;
    }
    return loaded;
}

/*  p2p_seen: the gossip layer's bounded dedup cache and message cache (see p2p_seen.h).
 *
 *  Both keep their entries in a ring in insertion order (the oldest at the head, so
 *  evicting it is O(1)) and find them through an open-addressing hash index over the
 *  ring: a power-of-two table of at least twice the capacity (load <= 1/2, so a probe
 *  always meets an empty slot), linear probing, each slot holding a ring position + 1
 *  (0 = empty) and the low 32 bits of the id's hash, so probes and deletions read the
 *  ring only for a slot whose hash matches. Ids are uniformly distributed 32-byte hashes,
 *  so their first 8 bytes are the hash. Deletion is by backward shift, with no tombstones,
 *  so probe chains stay as short and lookups as correct after a million evictions as
 *  after none.
 *
 *  An entry can leave the index before it reaches the head (an id re-added after it aged
 *  out when times run backwards, a message put again after it aged out); its ring slot is
 *  then dead and is skipped when it reaches the head.
 *
 *  Aging: an entry stored at T is gone at NOW once NOW - T >= TTL (a NOW earlier than T
 *  counts as age 0). Expired entries are dropped from the head on every add/put; lookups
 *  ignore expired entries that are still there. A capacity of 0 is refused (NULL).
 *  All storage but the message bytes is allocated at _new.
 */
#include "p2p/p2p_seen.h"

#include "proto/proto_err.h"

#include <stdlib.h>
#include <string.h>

#define ID_LEN 32
#define NOT_FOUND SIZE_MAX
/* Ring positions are stored as uint32_t + 1, and the index is 2x the capacity. */
#define CAPACITY_MAX ((size_t)1 << 28)

/* ---- hash index over a ring of ids ---- */

typedef struct {
    uint32_t pos; /* ring position + 1, 0 = empty */
    uint32_t tag; /* the id's hash (low 32 bits): its home, and a first comparison */
} seen_slot_t;

typedef struct {
    seen_slot_t *slot;
    size_t mask; /* table size - 1 (below 2^32: the tag holds every home bit) */
} seen_index_t;

static int s_index_init(seen_index_t *x, size_t capacity)
{
    size_t size = 16;
    while (size < 2 * capacity)
        size *= 2;
    x->slot = calloc(size, sizeof *x->slot);
    x->mask = size - 1;
    return x->slot ? 0 : P2P_E_NOMEM;
}

static uint32_t s_tag(const uint8_t *id)
{
    uint64_t h;
    memcpy(&h, id, sizeof h);
    return (uint32_t)h;
}

/*  Index position holding ID (whose ring is IDS), or NOT_FOUND. Only slots whose tag
 *  matches read the ring (a miss costs the index's cache lines alone). */
static size_t s_index_find(const seen_index_t *x, uint8_t (*ids)[ID_LEN], const uint8_t *id)
{
    const uint32_t tag = s_tag(id);
    for (size_t i = tag & x->mask;; i = (i + 1) & x->mask) {
        const seen_slot_t *v = &x->slot[i];
        if (v->pos == 0)
            return NOT_FOUND;
        if (v->tag == tag && memcmp(ids[v->pos - 1], id, ID_LEN) == 0)
            return i;
    }
}

/*  Indexes ring position POS (its id must not be indexed yet). */
static void s_index_insert(seen_index_t *x, uint8_t (*ids)[ID_LEN], size_t pos)
{
    const uint32_t tag = s_tag(ids[pos]);
    size_t i = tag & x->mask;
    while (x->slot[i].pos != 0)
        i = (i + 1) & x->mask;
    x->slot[i] = (seen_slot_t){.pos = (uint32_t)pos + 1, .tag = tag};
}

/*  Empties index position I and shifts later members of its probe run back, so that no
 *  lookup ever passes an empty slot before reaching its key. */
static void s_index_delete_at(seen_index_t *x, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & x->mask;
        if (x->slot[j].pos == 0)
            break;
        size_t home = x->slot[j].tag & x->mask;
        /* The entry at J may fill the hole at I unless its home lies cyclically in (I, J]. */
        if (((j - home) & x->mask) >= ((j - i) & x->mask)) {
            x->slot[i] = x->slot[j];
            i = j;
        }
    }
    x->slot[i] = (seen_slot_t){0};
}

/*  Ring position OFFSET places after HEAD in a ring of CAPACITY (> 0) slots. */
static size_t s_ring_at(size_t head, size_t offset, size_t capacity)
{
    size_t pos = head + offset; /* both < capacity <= CAPACITY_MAX: no overflow */
    return pos >= capacity ? pos - capacity : pos;
}

static bool s_aged(uint64_t at_ms, uint64_t now_ms, uint64_t ttl_ms)
{
    return now_ms >= at_ms && now_ms - at_ms >= ttl_ms;
}

/* ---- p2p_seen ---- */

struct p2p_seen_t {
    size_t capacity;
    uint64_t ttl_ms;
    uint8_t (*ids)[ID_LEN]; /* ring [capacity] */
    uint64_t *at_ms;        /* ring [capacity]: when each id was added */
    size_t head;            /* ring position of the oldest */
    size_t used;            /* ring slots in use (live or dead) */
    size_t live;            /* ids in the index */
    seen_index_t index;
};

p2p_seen_t *p2p_seen_new(size_t capacity, uint64_t ttl_ms)
{
    if (capacity == 0 || capacity > CAPACITY_MAX)
        return NULL;
    p2p_seen_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->capacity = capacity;
    s->ttl_ms = ttl_ms;
    s->ids = calloc(capacity, sizeof *s->ids);
    s->at_ms = calloc(capacity, sizeof *s->at_ms);
    if (!s->ids || !s->at_ms || s_index_init(&s->index, capacity) != 0)
        p2p_seen_destroy(&s);
    return s;
}

void p2p_seen_destroy(p2p_seen_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    p2p_seen_t *s = *self_p;
    free(s->ids);
    free(s->at_ms);
    free(s->index.slot);
    free(s);
    *self_p = NULL;
}

/*  Drops the ring's head, unindexing it unless its slot is dead. */
static void s_seen_pop(p2p_seen_t *s)
{
    size_t at = s_index_find(&s->index, s->ids, s->ids[s->head]);
    if (at != NOT_FOUND && s->index.slot[at].pos - 1 == s->head) {
        s_index_delete_at(&s->index, at);
        s->live--;
    }
    s->head = s_ring_at(s->head, 1, s->capacity);
    s->used--;
}

bool p2p_seen_has(p2p_seen_t *s, const uint8_t id[static 32], uint64_t now_ms)
{
    size_t at = s_index_find(&s->index, s->ids, id);
    return at != NOT_FOUND && !s_aged(s->at_ms[s->index.slot[at].pos - 1], now_ms, s->ttl_ms);
}

bool p2p_seen_add(p2p_seen_t *s, const uint8_t id[static 32], uint64_t now_ms)
{
    while (s->used > 0 && s_aged(s->at_ms[s->head], now_ms, s->ttl_ms))
        s_seen_pop(s);

    size_t at = s_index_find(&s->index, s->ids, id);
    if (at != NOT_FOUND) {
        if (!s_aged(s->at_ms[s->index.slot[at].pos - 1], now_ms, s->ttl_ms))
            return false;
        s_index_delete_at(&s->index, at); /* its ring slot is dead from now on */
        s->live--;
    }
    if (s->used == s->capacity)
        s_seen_pop(s);

    size_t pos = s_ring_at(s->head, s->used, s->capacity);
    memcpy(s->ids[pos], id, ID_LEN);
    s->at_ms[pos] = now_ms;
    s->used++;
    s_index_insert(&s->index, s->ids, pos);
    s->live++;
    return true;
}

size_t p2p_seen_count(const p2p_seen_t *s)
{
    return s->live;
}

/* ---- p2p_mcache ---- */

typedef struct {
    uint8_t *blob; /* malloc'd: LEN message bytes, then the NUL-terminated topic; NULL = dead */
    size_t len;
    uint64_t at_ms;
    uint64_t seq; /* its put number: ring order, one more than the slot before */
} mcache_msg_t;

struct p2p_mcache_t {
    size_t capacity;
    size_t max_bytes;
    uint64_t ttl_ms;
    uint8_t (*ids)[ID_LEN]; /* ring [capacity] */
    mcache_msg_t *msgs;     /* ring [capacity] */
    size_t head;            /* ring position of the oldest */
    size_t used;            /* ring slots in use (live or dead) */
    size_t live;            /* messages held */
    size_t bytes;           /* sum of their lengths */
    uint64_t last_seq;      /* the put number of the newest slot (0: none yet) */
    seen_index_t index;
};

p2p_mcache_t *p2p_mcache_new(size_t capacity, size_t max_bytes, uint64_t ttl_ms)
{
    if (capacity == 0 || capacity > CAPACITY_MAX)
        return NULL;
    p2p_mcache_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->capacity = capacity;
    c->max_bytes = max_bytes;
    c->ttl_ms = ttl_ms;
    c->ids = calloc(capacity, sizeof *c->ids);
    c->msgs = calloc(capacity, sizeof *c->msgs);
    if (!c->ids || !c->msgs || s_index_init(&c->index, capacity) != 0)
        p2p_mcache_destroy(&c);
    return c;
}

void p2p_mcache_destroy(p2p_mcache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    p2p_mcache_t *c = *self_p;
    if (c->msgs)
        for (size_t i = 0; i < c->capacity; i++)
            free(c->msgs[i].blob);
    free(c->msgs);
    free(c->ids);
    free(c->index.slot);
    free(c);
    *self_p = NULL;
}

/*  Frees the message in ring position POS, found at index position AT. */
static void s_mcache_drop(p2p_mcache_t *c, size_t pos, size_t at)
{
    mcache_msg_t *m = &c->msgs[pos];
    s_index_delete_at(&c->index, at);
    c->bytes -= m->len;
    c->live--;
    free(m->blob);
    m->blob = NULL;
    m->len = 0;
}

/*  Drops the ring's head (freeing it unless its slot is dead). */
static void s_mcache_pop(p2p_mcache_t *c)
{
    if (c->msgs[c->head].blob) {
        size_t at = s_index_find(&c->index, c->ids, c->ids[c->head]);
        if (at != NOT_FOUND)
            s_mcache_drop(c, c->head, at);
    }
    c->head = s_ring_at(c->head, 1, c->capacity);
    c->used--;
}

int p2p_mcache_put(p2p_mcache_t *c, const uint8_t id[static 32], const char *topic,
                   const uint8_t *data, size_t len, uint64_t now_ms)
{
    if (!topic || (!data && len > 0))
        return P2P_E_ARG;
    if (len > c->max_bytes)
        return P2P_E_TOO_BIG;
    size_t topic_len = strlen(topic);
    if (topic_len >= SIZE_MAX - len)
        return P2P_E_TOO_BIG;

    while (c->used > 0 && s_aged(c->msgs[c->head].at_ms, now_ms, c->ttl_ms))
        s_mcache_pop(c);

    size_t at = s_index_find(&c->index, c->ids, id);
    if (at != NOT_FOUND) {
        size_t pos = c->index.slot[at].pos - 1;
        if (!s_aged(c->msgs[pos].at_ms, now_ms, c->ttl_ms))
            return 0; /* ids are content hashes: we already hold these bytes */
        s_mcache_drop(c, pos, at);
    }

    uint8_t *blob = malloc(len + topic_len + 1);
    if (!blob)
        return P2P_E_NOMEM;
    if (len > 0)
        memcpy(blob, data, len);
    memcpy(blob + len, topic, topic_len + 1);

    while (c->used > 0 && (c->used == c->capacity || len > c->max_bytes - c->bytes))
        s_mcache_pop(c);

    size_t pos = s_ring_at(c->head, c->used, c->capacity);
    memcpy(c->ids[pos], id, ID_LEN);
    c->msgs[pos] = (mcache_msg_t){.blob = blob, .len = len, .at_ms = now_ms, .seq = ++c->last_seq};
    c->used++;
    s_index_insert(&c->index, c->ids, pos);
    c->live++;
    c->bytes += len;
    return 0;
}

const uint8_t *p2p_mcache_get(p2p_mcache_t *c, const uint8_t id[static 32], uint64_t now_ms,
                              size_t *len)
{
    size_t at = s_index_find(&c->index, c->ids, id);
    if (at == NOT_FOUND)
        return NULL;
    const mcache_msg_t *m = &c->msgs[c->index.slot[at].pos - 1];
    if (s_aged(m->at_ms, now_ms, c->ttl_ms))
        return NULL;
    if (len)
        *len = m->len;
    return m->blob;
}

size_t p2p_mcache_recent(p2p_mcache_t *c, const char *topic, uint64_t since_ms, uint64_t now_ms,
                         uint8_t (*ids)[32], size_t max)
{
    size_t n = 0;
    if (!topic)
        return 0;
    for (size_t k = c->used; k > 0 && n < max; k--) {
        size_t pos = s_ring_at(c->head, k - 1, c->capacity);
        const mcache_msg_t *m = &c->msgs[pos];
        if (!m->blob || m->at_ms < since_ms || s_aged(m->at_ms, now_ms, c->ttl_ms))
            continue;
        if (strcmp((const char *)m->blob + m->len, topic) != 0)
            continue;
        memcpy(ids[n++], c->ids[pos], ID_LEN);
    }
    return n;
}

uint64_t p2p_mcache_seq_of(p2p_mcache_t *c, const uint8_t id[static 32], uint64_t now_ms)
{
    size_t at = s_index_find(&c->index, c->ids, id);
    if (at == NOT_FOUND)
        return 0;
    const mcache_msg_t *m = &c->msgs[c->index.slot[at].pos - 1];
    return s_aged(m->at_ms, now_ms, c->ttl_ms) ? 0 : m->seq;
}

uint64_t p2p_mcache_last_seq(const p2p_mcache_t *c)
{
    return c->last_seq;
}

size_t p2p_mcache_after(p2p_mcache_t *c, uint64_t after, uint64_t now_ms, p2p_mcache_ref_t *out,
                        size_t max)
{
    if (c->used == 0 || max == 0)
        return 0;
    /* slot head + k holds put number seq(head) + k: start right after AFTER */
    uint64_t head_seq = c->msgs[c->head].seq;
    size_t k = after >= head_seq ? (size_t)(after - head_seq + 1) : 0;
    size_t n = 0;
    for (; k < c->used && n < max; k++) {
        size_t pos = s_ring_at(c->head, k, c->capacity);
        const mcache_msg_t *m = &c->msgs[pos];
        if (!m->blob || s_aged(m->at_ms, now_ms, c->ttl_ms))
            continue;
        out[n++] = (p2p_mcache_ref_t){
            .id = c->ids[pos], .topic = (const char *)m->blob + m->len, .seq = m->seq};
    }
    return n;
}

size_t p2p_mcache_count(const p2p_mcache_t *c)
{
    return c->live;
}

size_t p2p_mcache_bytes(const p2p_mcache_t *c)
{
    return c->bytes;
}

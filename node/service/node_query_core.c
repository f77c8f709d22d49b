/*  node_query_core: a query runner's usage-claim and chain-feed decisions, sans-IO (see
 *  node_query_core.h).
 */
#include "node/service/node_query_core.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    bool used;
    node_query_entry_t e;
    uint64_t seq;      /* order of creation (the oldest clean entry is replaced) */
    uint64_t ask_tag;  /* a USAGE call in flight (0: none) */
    uint64_t last_ask; /* when the last USAGE call was made */
    bool asked_once;
    uint8_t *usage; /* a report waiting to be submitted */
    size_t usage_len;
    uint64_t usage_count;
    uint64_t claim_tag; /* a submission in flight (0: none) */
    uint64_t submitted_ms;
} s_entry_t;

struct node_query_core_t {
    s_entry_t *entries; /* NODE_QUERY_ENTRIES */
    size_t n;           /* used entries */
    uint64_t seq, next_tag;
    /* the chain feed */
    uint64_t scanned; /* blocks 1..scanned were scanned */
    uint64_t *votes;  /* heights of the scanned blocks holding a vote, increasing */
    size_t n_votes, cap_votes;
};

node_query_core_t *node_query_core_new(void)
{
    node_query_core_t *self = calloc(1, sizeof *self);
    if (!self || !(self->entries = calloc(NODE_QUERY_ENTRIES, sizeof *self->entries))) {
        free(self);
        return NULL;
    }
    self->next_tag = 1;
    return self;
}

void node_query_core_destroy(node_query_core_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_query_core_t *self = *self_p;
    for (size_t i = 0; i < NODE_QUERY_ENTRIES; i++)
        free(self->entries[i].usage);
    free(self->entries);
    free(self->votes);
    free(self);
    *self_p = NULL;
}

static bool s_settled(const s_entry_t *s)
{
    return !s->e.dirty && !s->ask_tag && !s->claim_tag && !s->usage &&
           s->e.confirmed >= s->e.reported && s->e.confirmed >= s->e.submitted;
}

static s_entry_t *s_find(node_query_core_t *self, const uint8_t enclave_id[static 32],
                         const uint8_t buy_id[static 32])
{
    for (size_t i = 0; i < NODE_QUERY_ENTRIES; i++) {
        s_entry_t *s = &self->entries[i];
        if (s->used && memcmp(s->e.buy_id, buy_id, 32) == 0 &&
            memcmp(s->e.enclave_id, enclave_id, 32) == 0)
            return s;
    }
    return NULL;
}

bool node_query_core_served(node_query_core_t *self, const uint8_t enclave_id[static 32],
                            const uint8_t buy_id[static 32], uint64_t now_ms)
{
    (void)now_ms;
    s_entry_t *s = s_find(self, enclave_id, buy_id);
    if (!s) {
        s_entry_t *free_slot = NULL, *oldest_clean = NULL;
        for (size_t i = 0; i < NODE_QUERY_ENTRIES && !free_slot; i++) {
            s_entry_t *c = &self->entries[i];
            if (!c->used)
                free_slot = c;
            else if (s_settled(c) && (!oldest_clean || c->seq < oldest_clean->seq))
                oldest_clean = c;
        }
        s = free_slot ? free_slot : oldest_clean;
        if (!s)
            return false;
        if (!s->used)
            self->n++;
        free(s->usage);
        memset(s, 0, sizeof *s);
        s->used = true;
        s->seq = ++self->seq;
        memcpy(s->e.enclave_id, enclave_id, 32);
        memcpy(s->e.buy_id, buy_id, 32);
    }
    s->e.dirty = true;
    return true;
}

void node_query_core_flush(node_query_core_t *self)
{
    for (size_t i = 0; i < NODE_QUERY_ENTRIES; i++)
        self->entries[i].asked_once = false; /* the interval does not hold for the next ask */
}

/* Whether entry S is due for a USAGE call at NOW. */
static bool s_ask_due(const s_entry_t *s, uint64_t now_ms)
{
    if (s->ask_tag || s->claim_tag || s->usage)
        return false;
    bool lost =
        s->e.submitted > s->e.confirmed && now_ms >= s->submitted_ms + NODE_QUERY_COMMIT_WAIT_MS;
    if (!s->e.dirty && !lost)
        return false;
    return !s->asked_once || now_ms >= s->last_ask + NODE_QUERY_CLAIM_MS;
}

bool node_query_core_next(node_query_core_t *self, uint64_t now_ms, node_query_act_t *act)
{
    memset(act, 0, sizeof *act);
    /* submissions first: a report in hand is worth more than a new one */
    for (size_t i = 0; i < NODE_QUERY_ENTRIES; i++) {
        s_entry_t *s = &self->entries[i];
        if (!s->used || !s->usage || s->claim_tag)
            continue;
        s->claim_tag = self->next_tag++;
        act->kind = NODE_QUERY_ACT_CLAIM;
        act->tag = s->claim_tag;
        memcpy(act->enclave_id, s->e.enclave_id, 32);
        memcpy(act->buy_id, s->e.buy_id, 32);
        act->count = s->usage_count;
        act->usage = s->usage;
        act->usage_len = s->usage_len;
        return true;
    }
    for (size_t i = 0; i < NODE_QUERY_ENTRIES; i++) {
        s_entry_t *s = &self->entries[i];
        if (!s->used || !s_ask_due(s, now_ms))
            continue;
        s->ask_tag = self->next_tag++;
        s->last_ask = now_ms;
        s->asked_once = true;
        s->e.dirty = false; /* served again while asking: dirty again */
        act->kind = NODE_QUERY_ACT_USAGE;
        act->tag = s->ask_tag;
        memcpy(act->enclave_id, s->e.enclave_id, 32);
        memcpy(act->buy_id, s->e.buy_id, 32);
        return true;
    }
    return false;
}

static s_entry_t *s_by_tag(node_query_core_t *self, uint64_t tag, bool claim)
{
    if (tag == 0)
        return NULL;
    for (size_t i = 0; i < NODE_QUERY_ENTRIES; i++) {
        s_entry_t *s = &self->entries[i];
        if (s->used && (claim ? s->claim_tag : s->ask_tag) == tag)
            return s;
    }
    return NULL;
}

void node_query_core_usage(node_query_core_t *self, uint64_t tag, int rc, uint64_t count,
                           const uint8_t *usage, size_t len, uint64_t now_ms)
{
    (void)now_ms;
    s_entry_t *s = s_by_tag(self, tag, false);
    if (!s)
        return;
    s->ask_tag = 0;
    if (rc != 0 || !usage || len == 0 || len > NODE_QUERY_USAGE_MAX) {
        s->e.dirty = true; /* asked again after the interval */
        return;
    }
    if (count > s->e.reported)
        s->e.reported = count;
    bool lost =
        s->e.submitted > s->e.confirmed && now_ms >= s->submitted_ms + NODE_QUERY_COMMIT_WAIT_MS;
    if (count <= s->e.confirmed || (count <= s->e.submitted && !lost))
        return; /* nothing new to claim */
    uint8_t *copy = malloc(len);
    if (!copy) {
        s->e.dirty = true;
        return;
    }
    memcpy(copy, usage, len);
    free(s->usage);
    s->usage = copy;
    s->usage_len = len;
    s->usage_count = count;
}

void node_query_core_submitted(node_query_core_t *self, uint64_t tag, int rc, uint64_t now_ms)
{
    s_entry_t *s = s_by_tag(self, tag, true);
    if (!s)
        return;
    s->claim_tag = 0;
    if (rc == 0) {
        s->e.submitted = s->usage_count;
        s->submitted_ms = now_ms;
    } else {
        s->e.dirty = true;
    }
    free(s->usage);
    s->usage = NULL;
    s->usage_len = 0;
}

void node_query_core_confirmed(node_query_core_t *self, const uint8_t enclave_id[static 32],
                               const uint8_t buy_id[static 32], uint64_t claimed)
{
    s_entry_t *s = s_find(self, enclave_id, buy_id);
    if (s && claimed > s->e.confirmed)
        s->e.confirmed = claimed;
}

size_t node_query_core_count(const node_query_core_t *self)
{
    return self->n;
}

bool node_query_core_entry(const node_query_core_t *self, size_t i, node_query_entry_t *out)
{
    size_t k = 0;
    for (size_t j = 0; j < NODE_QUERY_ENTRIES; j++) {
        if (!self->entries[j].used)
            continue;
        if (k++ == i) {
            *out = self->entries[j].e;
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- the chain feed */

uint64_t node_query_core_scan_from(const node_query_core_t *self)
{
    return self->scanned + 1;
}

bool node_query_core_scanned(node_query_core_t *self, uint64_t height, bool vote)
{
    if (height != self->scanned + 1)
        return false;
    if (vote && self->n_votes == self->cap_votes) {
        size_t cap = self->cap_votes ? 2 * self->cap_votes : 16;
        uint64_t *v = realloc(self->votes, cap * sizeof *v);
        if (!v)
            return false;
        self->votes = v;
        self->cap_votes = cap;
    }
    if (vote)
        self->votes[self->n_votes++] = height;
    self->scanned = height;
    return true;
}

bool node_query_core_feed_next(const node_query_core_t *self, uint64_t light, uint64_t *height)
{
    size_t lo = 0, hi = self->n_votes; /* the first vote above LIGHT: binary search */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->votes[mid] <= light)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == self->n_votes)
        return false;
    *height = self->votes[lo];
    return true;
}

size_t node_query_core_votes(const node_query_core_t *self)
{
    return self->n_votes;
}

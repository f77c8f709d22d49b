/*  p2p_batch: p2p_core_on_messages, the messages of one transport wakeup handled together.
 *
 *  Under load a node wakes up to tens or hundreds of messages, most of them gossip, and the
 *  check of each new gossip message's signature is most of what a delivered copy costs.
 *  So a batch is handled in two passes. The first looks at each message without changing
 *  any state: its id (kept for the second pass), and whether it is a gossip message from a
 *  link whose handshake is done, not seen before (nor earlier in the batch), decodable and
 *  fresh; the signatures of those are then checked together (proto_sig_check_batch, which
 *  gives every signature the verdict proto_sig_check would). The second pass hands every
 *  message, in order, to the one-message path (p2p_on_one) with its id and verdict, so the
 *  outcome (delivery, forwarding, counters, scores, bans) is that of one call per message:
 *  a message whose link went away or was banned in between is refused there as before,
 *  and its signature check was only wasted work, bounded by the batch. One exception to
 *  "one call per message": a link that sent a message the batch holds an earlier copy of
 *  is marked as knowing it before the second pass, so the forward of the first copy skips
 *  it (the later copy would have marked it only after that forward).
 */
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_core_int.h"
#include "proto/proto_msgtype.h"
#include "proto/proto_sigbatch.h"

#define P2P_BATCH_MAX 256        /* messages per pass (two signature chunks) */
#define P2P_BATCH_SLOTS 512      /* open-addressing set of the batch's candidate ids */
#define P2P_BATCH_KEY_SLOTS 1024 /* decoded origin keys kept (proto_sigkeys_t) */

struct p2p_batch_t {
    uint8_t ids[P2P_BATCH_MAX][32];
    p2p_sig_t sig[P2P_BATCH_MAX];
    proto_envelope_t env[P2P_BATCH_MAX]; /* candidate k's envelope */
    uint8_t hash[P2P_BATCH_MAX][32];     /* ...the hash its signature covers */
    proto_sigcheck_t items[P2P_BATCH_MAX];
    bool ok[P2P_BATCH_MAX];
    size_t who[P2P_BATCH_MAX]; /* message index of candidate k */
    size_t dup[P2P_BATCH_MAX]; /* messages repeating an earlier candidate of the batch */
    size_t n_dup;
    uint16_t slot[P2P_BATCH_SLOTS]; /* candidate index + 1, 0 = free */
    proto_sigkeys_t *keys;
};

p2p_batch_t *p2p_batch_new(void)
{
    p2p_batch_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->keys = proto_sigkeys_new(P2P_BATCH_KEY_SLOTS);
    if (!b->keys) {
        free(b);
        return NULL;
    }
    return b;
}

void p2p_batch_destroy(p2p_batch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    proto_sigkeys_destroy(&(*self_p)->keys);
    free(*self_p);
    *self_p = NULL;
}

/* True if ID is already a candidate of this batch; otherwise records it as candidate K. */
static bool s_batch_dup(p2p_batch_t *b, const uint8_t id[static 32], size_t k)
{
    uint64_t h;
    memcpy(&h, id, sizeof h); /* ids are hashes: any 8 bytes are uniform */
    for (size_t i = (size_t)h % P2P_BATCH_SLOTS;; i = (i + 1) % P2P_BATCH_SLOTS) {
        if (b->slot[i] == 0) {
            b->slot[i] = (uint16_t)(k + 1);
            return false;
        }
        if (memcmp(b->ids[b->who[b->slot[i] - 1]], id, 32) == 0)
            return true;
    }
}

/* First pass over MSGS[0..N) (N <= P2P_BATCH_MAX): ids, and the verdicts of the new gossip
   signatures checked together. Changes no core state. */
static void s_prepare(p2p_core_t *c, const p2p_inmsg_t *msgs, size_t n, uint64_t now)
{
    p2p_batch_t *b = c->batch;
    size_t k = 0;
    memset(b->slot, 0, sizeof b->slot);
    b->n_dup = 0;
    for (size_t i = 0; i < n; i++) {
        const p2p_inmsg_t *m = &msgs[i];
        b->sig[i] = P2P_SIG_UNKNOWN;
        if (m->len > PROTO_ENVELOPE_MAX)
            continue; /* refused before any hashing */
        proto_envelope_id(m->data, m->len, b->ids[i]);
        if (!p2p_link_ready(c, m->peer) || p2p_seen_has(c->seen, b->ids[i], now))
            continue;
        proto_envelope_t *e = &b->env[k];
        if (proto_envelope_decode(m->data, m->len, e) != PROTO_OK || e->type != PROTO_MSG_GOSSIP ||
            e->time_ms + FRESH_PAST_MS < now || e->time_ms > now + FRESH_FUTURE_MS)
            continue;
        b->who[k] = i;
        if (s_batch_dup(b, b->ids[i], k)) {
            b->dup[b->n_dup++] = i;
            continue;
        }
        proto_envelope_signing_hash(e, b->hash[k]);
        b->items[k] = (proto_sigcheck_t){
            .pk = e->sender, .sig = e->sig, .msg = b->hash[k], .len = sizeof b->hash[k]};
        k++;
    }
    if (k == 0)
        return;
    /* one candidate too: the decoded-key table spares it the key's square root */
    proto_sig_check_batch(b->keys, b->items, k, b->ok);
    for (size_t j = 0; j < k; j++)
        b->sig[b->who[j]] = b->ok[j] ? P2P_SIG_VALID : P2P_SIG_INVALID;
}

void p2p_core_on_messages(p2p_core_t *c, const p2p_inmsg_t *msgs, size_t n, uint64_t now_ms)
{
    for (size_t base = 0; base < n; base += P2P_BATCH_MAX) {
        const size_t m = n - base < P2P_BATCH_MAX ? n - base : P2P_BATCH_MAX;
        s_prepare(c, msgs + base, m, now_ms);
        /* A link that sent a message again later in the batch has it: its first copy is
           not forwarded back to it (the forward skips links known to have a message). */
        for (size_t j = 0; j < c->batch->n_dup; j++) {
            const size_t i = c->batch->dup[j];
            p2p_link_knows(p2p_link_find(c, msgs[base + i].peer), c->batch->ids[i], now_ms);
        }
        for (size_t i = 0; i < m; i++) {
            const p2p_inmsg_t *in = &msgs[base + i];
            const bool hashed = in->len <= PROTO_ENVELOPE_MAX;
            p2p_on_one(c, in->peer, in->data, in->len, hashed ? c->batch->ids[i] : NULL,
                       c->batch->sig[i], now_ms);
        }
    }
}

/*  p2p_core_testutil: what the tests that drive one p2p_core by hand share (test_p2p_core,
 *  test_p2p_policy, test_p2p_batch): a core's config, a dial callback that does nothing,
 *  sealed envelopes (any body, and a HELLO) to feed it, and a link brought up by a HELLO.
 * Header-only, included once per test executable. */
#ifndef GENIE_P2P_CORE_TESTUTIL_H
#define GENIE_P2P_CORE_TESTUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_core.h"
#include "p2p/p2p_msg.h"
#include "proto/proto_envelope.h"
#include "proto/proto_msgtype.h"

/* The config of a core for KEY on chain CHAIN_BYTE (32 times), listening on one local
   endpoint, default params, randomness from RNG_SEED. */
static inline void p2p_testutil_config(p2p_core_config_t *cfg, const proto_key_t *key,
                                       uint8_t chain_byte, uint64_t rng_seed)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->key = key;
    memset(cfg->chain_id, chain_byte, 32);
    cfg->endpoints[0] = "tcp://127.0.0.1:7000";
    cfg->n_endpoints = 1;
    cfg->rng_seed = rng_seed;
    p2p_params_default(&cfg->params);
}

/* An io.dial that dials nothing (the tests feed messages by hand). */
static inline void p2p_testutil_dial_none(void *ctx, const uint8_t peer[static 32],
                                          const char *endpoint)
{
    (void)ctx;
    (void)peer;
    (void)endpoint;
}

/* An io.send whose transport takes every message (and sends it nowhere). */
static inline bool p2p_testutil_send_taken(void *ctx, const uint8_t peer[static 32],
                                           const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)peer;
    (void)data;
    (void)len;
    return true;
}

/* An io.hangup that does nothing. */
static inline void p2p_testutil_hangup_none(void *ctx, const uint8_t peer[static 32])
{
    (void)ctx;
    (void)peer;
}

/* Seals W's content (W freed) as TYPE from KEY with SEQ at NOW; *LEN set; NULL if W or the
   seal failed. The caller frees. */
static inline uint8_t *p2p_testutil_seal(const proto_key_t *key, uint32_t type, proto_wr_t *w,
                                         uint64_t seq, uint64_t now, size_t *len)
{
    size_t blen = 0;
    const uint8_t *body = proto_wr_data(w, &blen);
    uint8_t *out = NULL;
    if (!body || proto_envelope_seal(key, type, seq, now, body, blen, &out, len) != PROTO_OK)
        out = NULL;
    proto_wr_free(w);
    return out;
}

/* A sealed HELLO from KEY on chain CHAIN_BYTE at NOW (no endpoints: a node that only dials
   out), in room ROOM when not NULL; *LEN set. The caller frees. */
static inline uint8_t *p2p_testutil_hello(const proto_key_t *key, uint8_t chain_byte,
                                          const char *room, uint64_t now, size_t *len)
{
    p2p_hello_t h;
    memset(&h, 0, sizeof h);
    memset(h.chain_id, chain_byte, 32);
    h.record.seq = now;
    h.record.expiry_ms = now + 3600000;
    if (room) {
        snprintf(h.record.rooms[0], sizeof h.record.rooms[0], "%s", room);
        h.record.n_rooms = 1;
    }
    p2p_record_sign(&h.record, key);
    snprintf(h.agent, sizeof h.agent, "test");
    h.have_yours = true;
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_hello(&w, &h);
    return p2p_testutil_seal(key, PROTO_MSG_HELLO, &w, now, now, len);
}

/* Feeds core C a HELLO from PEER (p2p_testutil_hello's) as if it came over PEER's link:
   the link is then up. False when the HELLO could not be made. */
static inline bool p2p_testutil_link(p2p_core_t *c, const proto_key_t *peer, uint8_t chain_byte,
                                     const char *room, uint64_t now)
{
    size_t len = 0;
    uint8_t *hello = p2p_testutil_hello(peer, chain_byte, room, now, &len);
    if (!hello)
        return false;
    p2p_core_on_message(c, proto_key_public(peer), hello, len, now);
    free(hello);
    return true;
}

#endif

/*  test_sigbatch_signers: batches in which signers repeat (gossip from a few origins, txs
 *  from a few senders) share one point per key in the batch equation; every verdict must
 *  still be proto_sig_check's.
 *
 *  Seeded rounds (the seed is printed) build batches of 2..300 signatures (so chunks of
 *  128 and a remainder) from 1..6 keys, with a random share of them broken: a flipped bit
 *  in R or s, a message changed after signing, another signer's key named, s + L (not
 *  canonical). The batch's verdicts, with and without a decoded-key table, must equal
 *  proto_sig_check's one by one, and the count returned must be the number of valid ones.
 *  A last case: one signer, every signature valid but one, in the middle of a full chunk.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_key.h"
#include "proto/proto_sigbatch.h"
#include "testutil.h"

#define MAX_SIGS 300
#define N_KEYS 6
#define MSG_LEN 40
#define ROUNDS 12

typedef struct {
    uint8_t pk[32];
    uint8_t sig[64];
    uint8_t msg[MSG_LEN];
} t_sig_t;

static uint64_t t_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* s + L: the same point equation, a non-canonical scalar (refused). */
static void t_add_order(uint8_t s[32])
{
    static const uint8_t l[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                  0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        unsigned v = (unsigned)s[i] + l[i] + carry;
        s[i] = (uint8_t)v;
        carry = v >> 8;
    }
}

/* Checks SIGS[0..N) in one batch (with and without KEYS) against single checks. */
static void t_check(proto_sigkeys_t *keys, const t_sig_t *sigs, size_t n)
{
    proto_sigcheck_t items[MAX_SIGS];
    bool ok[MAX_SIGS], ok_keys[MAX_SIGS];
    size_t valid = 0;
    for (size_t i = 0; i < n; i++)
        items[i] = (proto_sigcheck_t){
            .pk = sigs[i].pk, .sig = sigs[i].sig, .msg = sigs[i].msg, .len = MSG_LEN};
    size_t got = proto_sig_check_batch(NULL, items, n, ok);
    size_t got_keys = proto_sig_check_batch(keys, items, n, ok_keys);
    for (size_t i = 0; i < n; i++) {
        bool one = proto_sig_check(sigs[i].pk, sigs[i].msg, MSG_LEN, sigs[i].sig);
        valid += one;
        CHECK_EQ(ok[i], one);
        CHECK_EQ(ok_keys[i], one);
    }
    CHECK_EQ(got, valid);
    CHECK_EQ(got_keys, valid);
}

int main(void)
{
    if (proto_crypto_init() != 0) {
        fprintf(stderr, "cannot initialise libsodium\n");
        return 1;
    }
    uint64_t seed = testutil_seed("test_sigbatch_signers");
    uint64_t rng = seed * 2 + 1;
    proto_key_t *k[N_KEYS];
    for (int i = 0; i < N_KEYS; i++) {
        uint8_t s[PROTO_SEED_LEN] = {0};
        memcpy(s, &seed, sizeof seed);
        s[PROTO_SEED_LEN - 1] = (uint8_t)(i + 1);
        k[i] = proto_key_from_seed(s);
        REQUIRE(k[i] != NULL);
    }
    proto_sigkeys_t *keys = proto_sigkeys_new(16);
    t_sig_t *sigs = calloc(MAX_SIGS, sizeof *sigs);
    REQUIRE(keys != NULL && sigs != NULL);
    for (int round = 0; round < ROUNDS; round++) {
        size_t n = 2 + (size_t)(t_rand(&rng) % (MAX_SIGS - 1));
        size_t signers = 1 + (size_t)(t_rand(&rng) % N_KEYS);
        unsigned bad_pct = (unsigned)(t_rand(&rng) % 4) * 5; /* 0, 5, 10 or 15 % */
        for (size_t i = 0; i < n; i++) {
            t_sig_t *s = &sigs[i];
            const proto_key_t *key = k[t_rand(&rng) % signers];
            for (size_t b = 0; b < MSG_LEN; b++)
                s->msg[b] = (uint8_t)t_rand(&rng);
            memcpy(s->pk, proto_key_public(key), 32);
            proto_key_sign(key, s->msg, MSG_LEN, s->sig);
            if (t_rand(&rng) % 100 >= bad_pct)
                continue;
            switch (t_rand(&rng) % 4) {
            case 0:
                s->sig[t_rand(&rng) % 64] ^= (uint8_t)(1u << (t_rand(&rng) % 8));
                break;
            case 1:
                s->msg[t_rand(&rng) % MSG_LEN] ^= 1;
                break;
            case 2:
                memcpy(s->pk, proto_key_public(k[(t_rand(&rng) % signers + 1) % N_KEYS]), 32);
                break;
            default:
                t_add_order(s->sig + 32);
                break;
            }
        }
        t_check(keys, sigs, n);
    }
    /* One signer, a full chunk, one bad signature in the middle. */
    for (size_t i = 0; i < PROTO_SIGBATCH_CHUNK; i++) {
        for (size_t b = 0; b < MSG_LEN; b++)
            sigs[i].msg[b] = (uint8_t)(i + b);
        memcpy(sigs[i].pk, proto_key_public(k[0]), 32);
        proto_key_sign(k[0], sigs[i].msg, MSG_LEN, sigs[i].sig);
    }
    sigs[PROTO_SIGBATCH_CHUNK / 2].msg[0] ^= 0x80;
    t_check(keys, sigs, PROTO_SIGBATCH_CHUNK);
    free(sigs);
    proto_sigkeys_destroy(&keys);
    for (int i = 0; i < N_KEYS; i++)
        proto_key_destroy(&k[i]);
    return testutil_done("test_sigbatch_signers");
}

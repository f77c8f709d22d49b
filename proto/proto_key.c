/*  proto_key: Ed25519 key pairs held in locked, guarded memory (libsodium). Signing is
 *  libsodium's; verifying is the chain's one signature rule, proto_sigbatch's. */
#include "proto/proto_key.h"

#include <sodium.h>

#include "proto/proto_sigbatch.h"
#include <string.h>

struct proto_key_t {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

int proto_crypto_init(void)
{
    return sodium_init() < 0 ? PROTO_E_CRYPTO : 0;
}

static proto_key_t *s_alloc(void)
{
    proto_key_t *key = sodium_malloc(sizeof *key);
    return key;
}

proto_key_t *proto_key_generate(void)
{
    proto_key_t *key = s_alloc();
    if (!key)
        return NULL;
    if (crypto_sign_keypair(key->pk, key->sk) != 0) {
        proto_key_destroy(&key);
        return NULL;
    }
    return key;
}

proto_key_t *proto_key_from_seed(const uint8_t seed[static PROTO_SEED_LEN])
{
    proto_key_t *key = s_alloc();
    if (!key)
        return NULL;
    if (crypto_sign_seed_keypair(key->pk, key->sk, seed) != 0) {
        proto_key_destroy(&key);
        return NULL;
    }
    return key;
}

void proto_key_destroy(proto_key_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_free(*self_p); /* sodium_free wipes before unmapping */
    *self_p = NULL;
}

const uint8_t *proto_key_public(const proto_key_t *key)
{
    return key->pk;
}

void proto_key_seed(const proto_key_t *key, uint8_t out[static PROTO_SEED_LEN])
{
    crypto_sign_ed25519_sk_to_seed(out, key->sk);
}

void proto_key_sign(const proto_key_t *key, const uint8_t *msg, size_t len,
                    uint8_t sig[static PROTO_SIG_LEN])
{
    crypto_sign_detached(sig, NULL, msg, len, key->sk);
}

bool proto_sig_verify(const uint8_t pk[static PROTO_PUBKEY_LEN], const uint8_t *msg, size_t len,
                      const uint8_t sig[static PROTO_SIG_LEN])
{
    return proto_sig_check(pk, msg, len, sig);
}

int proto_key_curve_secret(const proto_key_t *key, uint8_t out[static 32])
{
    return crypto_sign_ed25519_sk_to_curve25519(out, key->sk) == 0 ? 0 : PROTO_E_CRYPTO;
}

int proto_key_curve_public(const uint8_t ed_pk[static PROTO_PUBKEY_LEN], uint8_t out[static 32])
{
    return crypto_sign_ed25519_pk_to_curve25519(out, ed_pk) == 0 ? 0 : PROTO_E_INVALID;
}

void proto_hash(const char *domain, const uint8_t *data, size_t len,
                uint8_t out[static PROTO_HASH_LEN])
{
    crypto_generichash_state st;
    static const uint8_t zero = 0;
    crypto_generichash_init(&st, NULL, 0, PROTO_HASH_LEN);
    crypto_generichash_update(&st, (const uint8_t *)domain, strlen(domain));
    crypto_generichash_update(&st, &zero, 1);
    crypto_generichash_update(&st, data, len);
    crypto_generichash_final(&st, out, PROTO_HASH_LEN);
}

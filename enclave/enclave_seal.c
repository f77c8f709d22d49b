/*  enclave_seal: sealing to an enclave's box key and to disk (see enclave_seal.h). */
#include "enclave/enclave_seal.h"

#include <sodium.h>
#include <string.h>

#define TO_DOMAIN "genie/enclave/seal-to/v1"
#define DISK_AD_DOMAIN "genie/enclave/seal-disk/v1"
#define DISK_VERSION 1
#define DONATION_TAG "genie/donation/1" /* 16 bytes */
#define EPK_LEN crypto_box_PUBLICKEYBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES

_Static_assert(sizeof DONATION_TAG - 1 == 16, "donation tag is 16 bytes");
/* the header's literal matches libsodium's sizes (both sides expand alike, by design)
   NOLINTNEXTLINE(misc-redundant-expression) */
_Static_assert(ENCLAVE_SEAL_TO_OVERHEAD == EPK_LEN + TAG_LEN, "seal-to overhead");
_Static_assert(ENCLAVE_SEAL_DISK_OVERHEAD == 1 + NONCE_LEN + TAG_LEN, "seal-disk overhead");
_Static_assert(crypto_scalarmult_BYTES == 32, "X25519 shared secret");
_Static_assert(crypto_box_SECRETKEYBYTES == 32, "X25519 secret key");

void enclave_seal_donation_context(const uint8_t spec_id[static 32],
                                   const uint8_t data_id[static 32],
                                   uint8_t out[static ENCLAVE_SEAL_DONATION_CONTEXT_LEN])
{
    memcpy(out, DONATION_TAG, 16);
    memcpy(out + 16, spec_id, 32);
    memcpy(out + 48, data_id, 32);
}

size_t enclave_seal_to_len(size_t plain_len)
{
    return plain_len + ENCLAVE_SEAL_TO_OVERHEAD;
}

size_t enclave_seal_open_len(size_t sealed_len)
{
    return sealed_len < ENCLAVE_SEAL_TO_OVERHEAD ? 0 : sealed_len - ENCLAVE_SEAL_TO_OVERHEAD;
}

size_t enclave_seal_disk_len(size_t plain_len)
{
    return plain_len + ENCLAVE_SEAL_DISK_OVERHEAD;
}

size_t enclave_seal_disk_open_len(size_t sealed_len)
{
    return sealed_len < ENCLAVE_SEAL_DISK_OVERHEAD ? 0 : sealed_len - ENCLAVE_SEAL_DISK_OVERHEAD;
}

/* The one-time key of a message: H(domain || 0 || shared || epk || box_pk). */
static void s_to_key(const uint8_t shared[static 32], const uint8_t epk[static 32],
                     const uint8_t box_pk[static 32], uint8_t key[static 32])
{
    static const uint8_t zero = 0;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)TO_DOMAIN, sizeof TO_DOMAIN - 1);
    crypto_generichash_update(&st, &zero, 1);
    crypto_generichash_update(&st, shared, 32);
    crypto_generichash_update(&st, epk, 32);
    crypto_generichash_update(&st, box_pk, 32);
    crypto_generichash_final(&st, key, 32);
    sodium_memzero(&st, sizeof st);
}

int enclave_seal_to(const uint8_t box_pk[static 32], const uint8_t *context, size_t ctx_len,
                    const uint8_t *plain, size_t len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    static const uint8_t nonce[NONCE_LEN]; /* zero: each key seals one message */
    uint8_t esk[32], shared[32], key[32];
    int rc = PROTO_OK;
    *out_len = 0;
    if (len > ENCLAVE_SEAL_MAX_PLAIN || ctx_len > ENCLAVE_SEAL_CONTEXT_MAX ||
        out_cap < enclave_seal_to_len(len))
        return PROTO_E_TOO_BIG;
    crypto_box_keypair(out, esk); /* the ephemeral public key leads the sealed bytes */
    if (crypto_scalarmult(shared, esk, box_pk) != 0) {
        rc = PROTO_E_CRYPTO; /* BOX_PK is a low-order point */
        goto out;
    }
    s_to_key(shared, out, box_pk, key);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + EPK_LEN, NULL, plain, len,
                                               ctx_len ? context : NULL, ctx_len, NULL, nonce, key);
    *out_len = enclave_seal_to_len(len);
out:
    sodium_memzero(esk, sizeof esk);
    sodium_memzero(shared, sizeof shared);
    sodium_memzero(key, sizeof key);
    return rc;
}

int enclave_seal_open(const uint8_t box_pk[static 32], const uint8_t box_sk[static 32],
                      const uint8_t *context, size_t ctx_len, const uint8_t *sealed, size_t len,
                      uint8_t *out, size_t out_cap, size_t *out_len)
{
    static const uint8_t nonce[NONCE_LEN];
    uint8_t shared[32], key[32];
    int rc = PROTO_OK;
    *out_len = 0;
    if (len < ENCLAVE_SEAL_TO_OVERHEAD)
        return PROTO_E_TRUNCATED;
    size_t plain_len = enclave_seal_open_len(len);
    if (plain_len > ENCLAVE_SEAL_MAX_PLAIN || ctx_len > ENCLAVE_SEAL_CONTEXT_MAX ||
        out_cap < plain_len)
        return PROTO_E_TOO_BIG;
    if (crypto_scalarmult(shared, box_sk, sealed) != 0) {
        rc = PROTO_E_DECRYPT; /* a low-order ephemeral key: not made by enclave_seal_to */
        goto out;
    }
    s_to_key(shared, sealed, box_pk, key);
    unsigned long long got = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &got, NULL, sealed + EPK_LEN, len - EPK_LEN,
                                                   ctx_len ? context : NULL, ctx_len, nonce,
                                                   key) != 0) {
        sodium_memzero(out, plain_len);
        rc = PROTO_E_DECRYPT;
        goto out;
    }
    *out_len = (size_t)got;
out:
    sodium_memzero(shared, sizeof shared);
    sodium_memzero(key, sizeof key);
    return rc;
}

/* Associated data of a disk seal: domain || 0 || version || measurement. */
static void s_disk_ad(const uint8_t measurement[static 32],
                      uint8_t ad[static sizeof DISK_AD_DOMAIN + 1 + 32])
{
    memcpy(ad, DISK_AD_DOMAIN, sizeof DISK_AD_DOMAIN); /* with its NUL as separator */
    ad[sizeof DISK_AD_DOMAIN] = DISK_VERSION;
    memcpy(ad + sizeof DISK_AD_DOMAIN + 1, measurement, 32);
}

int enclave_seal_disk(const uint8_t seal_key[static 32], const uint8_t measurement[static 32],
                      const uint8_t *plain, size_t len, uint8_t *out, size_t out_cap,
                      size_t *out_len)
{
    uint8_t ad[sizeof DISK_AD_DOMAIN + 1 + 32];
    *out_len = 0;
    if (len > ENCLAVE_SEAL_MAX_PLAIN || out_cap < enclave_seal_disk_len(len))
        return PROTO_E_TOO_BIG;
    s_disk_ad(measurement, ad);
    out[0] = DISK_VERSION;
    randombytes_buf(out + 1, NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + NONCE_LEN, NULL, plain, len, ad, sizeof ad,
                                               NULL, out + 1, seal_key);
    *out_len = enclave_seal_disk_len(len);
    return PROTO_OK;
}

int enclave_seal_disk_open(const uint8_t seal_key[static 32], const uint8_t measurement[static 32],
                           const uint8_t *sealed, size_t len, uint8_t *out, size_t out_cap,
                           size_t *out_len)
{
    uint8_t ad[sizeof DISK_AD_DOMAIN + 1 + 32];
    *out_len = 0;
    if (len < ENCLAVE_SEAL_DISK_OVERHEAD)
        return PROTO_E_TRUNCATED;
    if (sealed[0] != DISK_VERSION)
        return PROTO_E_VERSION;
    size_t plain_len = enclave_seal_disk_open_len(len);
    if (plain_len > ENCLAVE_SEAL_MAX_PLAIN || out_cap < plain_len)
        return PROTO_E_TOO_BIG;
    s_disk_ad(measurement, ad);
    unsigned long long got = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &got, NULL, sealed + 1 + NONCE_LEN,
                                                   len - 1 - NONCE_LEN, ad, sizeof ad, sealed + 1,
                                                   seal_key) != 0) {
        sodium_memzero(out, plain_len);
        return PROTO_E_DECRYPT;
    }
    *out_len = (size_t)got;
    return PROTO_OK;
}

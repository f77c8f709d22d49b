/*  enclave_grant: sealing and opening key grants (see enclave_grant.h). */
#include "enclave/enclave_grant.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_seal.h"

#define GRANT_TAG "genie/key-grant/v1" /* 18 bytes */

_Static_assert(sizeof GRANT_TAG - 1 == 18, "grant tag is 18 bytes");
_Static_assert(ENCLAVE_GRANT_LEN == 64u + ENCLAVE_SEAL_TO_OVERHEAD, "grant length");

void enclave_grant_context(const uint8_t spec_id[static 32], const uint8_t data_id[static 32],
                           uint8_t out[static ENCLAVE_GRANT_CONTEXT_LEN])
{
    memcpy(out, GRANT_TAG, 18);
    memcpy(out + 18, spec_id, 32);
    memcpy(out + 50, data_id, 32);
}

int enclave_grant_seal(const uint8_t box_pk[static 32], const uint8_t spec_id[static 32],
                       const uint8_t data_id[static 32], const uint8_t salt[static 32],
                       const uint8_t key[static 32], uint8_t **out, size_t *out_len)
{
    uint8_t ctx[ENCLAVE_GRANT_CONTEXT_LEN], plain[64];
    *out = NULL;
    *out_len = 0;
    uint8_t *g = malloc(ENCLAVE_GRANT_LEN);
    if (!g)
        return PROTO_E_NOMEM;
    enclave_grant_context(spec_id, data_id, ctx);
    memcpy(plain, salt, 32);
    memcpy(plain + 32, key, 32);
    size_t n = 0;
    int rc =
        enclave_seal_to(box_pk, ctx, sizeof ctx, plain, sizeof plain, g, ENCLAVE_GRANT_LEN, &n);
    sodium_memzero(plain, sizeof plain);
    if (rc != PROTO_OK || n != ENCLAVE_GRANT_LEN) {
        free(g);
        return rc != PROTO_OK ? rc : PROTO_E_CRYPTO;
    }
    *out = g;
    *out_len = n;
    return PROTO_OK;
}

int enclave_grant_open(const uint8_t box_pk[static 32], const uint8_t box_sk[static 32],
                       const uint8_t spec_id[static 32], const uint8_t data_id[static 32],
                       const uint8_t *grant, size_t len, uint8_t salt[static 32],
                       uint8_t key[static 32])
{
    uint8_t ctx[ENCLAVE_GRANT_CONTEXT_LEN], plain[64];
    size_t n = 0;
    int rc = ENCLAVE_E_GRANT;
    if (grant && len == ENCLAVE_GRANT_LEN) {
        enclave_grant_context(spec_id, data_id, ctx);
        if (enclave_seal_open(box_pk, box_sk, ctx, sizeof ctx, grant, len, plain, sizeof plain,
                              &n) == PROTO_OK &&
            n == sizeof plain)
            rc = PROTO_OK;
    }
    if (rc == PROTO_OK) {
        memcpy(salt, plain, 32);
        memcpy(key, plain + 32, 32);
    } else {
        sodium_memzero(salt, 32);
        sodium_memzero(key, 32);
    }
    sodium_memzero(plain, sizeof plain);
    return rc;
}

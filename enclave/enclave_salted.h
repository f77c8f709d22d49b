/*  enclave_salted: internal helper the senders in enclave/ share (the validation and the
 *  donation sealers): seal SALT || DATA to an enclave's box key under a context. Not
 *  installed; included only by the .c files of enclave/. */
#ifndef GENIE_ENCLAVE_SALTED_H
#define GENIE_ENCLAVE_SALTED_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_seal.h"
#include "enclave/enclave_wire.h"

/* Seals the 32-byte SALT followed by DATA (LEN bytes) to BOX_PK under CTX (CTX_LEN bytes)
   into a new buffer *OUT of *OUT_LEN bytes (the caller frees it). The plaintext copy is
   wiped. Returns PROTO_OK, PROTO_E_TOO_BIG (the result would not fit a wire blob),
   PROTO_E_NOMEM, or enclave_seal_to's error; *OUT is NULL on error. */
static inline int enclave_salted_seal(const uint8_t box_pk[static 32], const uint8_t *ctx,
                                      size_t ctx_len, const uint8_t salt[static 32],
                                      const uint8_t *data, size_t len, uint8_t **out,
                                      size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (len > ENCLAVE_WIRE_MAX_BLOB - 32 - ENCLAVE_SEAL_TO_OVERHEAD)
        return PROTO_E_TOO_BIG;
    uint8_t *plain = malloc(32 + len);
    size_t cap = enclave_seal_to_len(32 + len);
    uint8_t *sealed = malloc(cap);
    int rc = PROTO_E_NOMEM;
    if (!plain || !sealed)
        goto out;
    memcpy(plain, salt, 32);
    if (len)
        memcpy(plain + 32, data, len);
    rc = enclave_seal_to(box_pk, ctx, ctx_len, plain, 32 + len, sealed, cap, out_len);
    if (rc == PROTO_OK) {
        *out = sealed;
        sealed = NULL;
    }
out:
    if (plain) {
        sodium_memzero(plain, 32 + len);
        free(plain);
    }
    free(sealed);
    return rc;
}

#endif

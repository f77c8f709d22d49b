/*  enclave_blob: the data owner's encrypted blob (secretstream over 64 KiB chunks).
 *  The format and its rules are in enclave_blob.h.
 */
#include "enclave/enclave_blob.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto/proto_bytes.h"

#define S_STREAM crypto_secretstream_xchacha20poly1305
#define S_MAGIC "GNDB"
#define S_PREFIX_LEN (4u + 1u + 8u) /* magic, version, length */

_Static_assert(crypto_secretstream_xchacha20poly1305_HEADERBYTES == 24, "stream header size");
_Static_assert(crypto_secretstream_xchacha20poly1305_ABYTES == ENCLAVE_BLOB_CHUNK_ABYTES,
               "chunk overhead");
_Static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES == ENCLAVE_BLOB_KEY_LEN, "key size");

/* Number of chunks for PLAIN_LEN bytes (at least one: an empty plaintext has one empty
   final chunk). */
static uint64_t s_chunks(uint64_t plain_len)
{
    return plain_len == 0 ? 1 : (plain_len + ENCLAVE_BLOB_CHUNK - 1) / ENCLAVE_BLOB_CHUNK;
}

size_t enclave_blob_sealed_len(uint64_t plain_len)
{
    if (plain_len > ENCLAVE_BLOB_MAX_PLAIN)
        return 0;
    return (size_t)(ENCLAVE_BLOB_HEADER_LEN + plain_len +
                    s_chunks(plain_len) * ENCLAVE_BLOB_CHUNK_ABYTES);
}

void enclave_blob_keygen(uint8_t key[static ENCLAVE_BLOB_KEY_LEN])
{
    crypto_secretstream_xchacha20poly1305_keygen(key);
}

int enclave_blob_seal(const uint8_t key[static ENCLAVE_BLOB_KEY_LEN], const uint8_t *data,
                      size_t len, uint8_t **out, size_t *out_len)
{
    int rc = PROTO_OK;
    crypto_secretstream_xchacha20poly1305_state st;
    *out = NULL;
    *out_len = 0;
    if ((uint64_t)len > ENCLAVE_BLOB_MAX_PLAIN)
        return ENCLAVE_E_BLOB;
    size_t total = enclave_blob_sealed_len(len);
    uint8_t *blob = malloc(total);
    if (!blob)
        return PROTO_E_NOMEM;
    memcpy(blob, S_MAGIC, 4);
    blob[4] = (uint8_t)ENCLAVE_BLOB_VERSION;
    proto_be64_put(blob + 5, (uint64_t)len);
    if (crypto_secretstream_xchacha20poly1305_init_push(&st, blob + S_PREFIX_LEN, key) != 0) {
        rc = PROTO_E_CRYPTO;
        goto err;
    }
    uint64_t n = s_chunks(len);
    size_t at = ENCLAVE_BLOB_HEADER_LEN, off = 0;
    for (uint64_t i = 0; i < n; i++) {
        size_t piece = (i + 1 < n) ? ENCLAVE_BLOB_CHUNK : len - off;
        uint8_t tag = (i + 1 < n) ? crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
                                  : crypto_secretstream_xchacha20poly1305_TAG_FINAL;
        const uint8_t *ad = i == 0 ? blob : NULL;
        unsigned long long adlen = i == 0 ? ENCLAVE_BLOB_HEADER_LEN : 0;
        unsigned long long clen = 0;
        if (crypto_secretstream_xchacha20poly1305_push(
                &st, blob + at, &clen, piece ? data + off : NULL, piece, ad, adlen, tag) != 0) {
            rc = PROTO_E_CRYPTO;
            goto err;
        }
        at += (size_t)clen;
        off += piece;
    }
    if (at != total || off != len) {
        rc = PROTO_E_CRYPTO;
        goto err;
    }
    sodium_memzero(&st, sizeof st);
    *out = blob;
    *out_len = total;
    return PROTO_OK;
err:
    sodium_memzero(&st, sizeof st);
    free(blob);
    return rc;
}

int enclave_blob_peek_len(const uint8_t *blob, size_t len, uint64_t *plain_len)
{
    *plain_len = 0;
    if (!blob || len < ENCLAVE_BLOB_HEADER_LEN)
        return ENCLAVE_E_BLOB;
    if (memcmp(blob, S_MAGIC, 4) != 0 || blob[4] != ENCLAVE_BLOB_VERSION)
        return ENCLAVE_E_BLOB;
    uint64_t declared = proto_be64_get(blob + 5);
    if (declared > ENCLAVE_BLOB_MAX_PLAIN || enclave_blob_sealed_len(declared) != len)
        return ENCLAVE_E_BLOB;
    *plain_len = declared;
    return PROTO_OK;
}

int enclave_blob_open(const uint8_t key[static ENCLAVE_BLOB_KEY_LEN], const uint8_t *blob,
                      size_t len, uint8_t **data, size_t *data_len)
{
    crypto_secretstream_xchacha20poly1305_state st;
    uint64_t plain_len = 0;
    *data = NULL;
    *data_len = 0;
    int rc = enclave_blob_peek_len(blob, len, &plain_len);
    if (rc != PROTO_OK)
        return rc;
    uint8_t *plain = sodium_malloc((size_t)plain_len);
    if (!plain)
        return PROTO_E_NOMEM;
    if (crypto_secretstream_xchacha20poly1305_init_pull(&st, blob + S_PREFIX_LEN, key) != 0) {
        rc = ENCLAVE_E_BLOB_DECRYPT;
        goto err;
    }
    uint64_t n = s_chunks(plain_len);
    size_t at = ENCLAVE_BLOB_HEADER_LEN, off = 0;
    for (uint64_t i = 0; i < n; i++) {
        size_t piece = (i + 1 < n) ? ENCLAVE_BLOB_CHUNK : (size_t)plain_len - off;
        uint8_t want = (i + 1 < n) ? crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
                                   : crypto_secretstream_xchacha20poly1305_TAG_FINAL;
        const uint8_t *ad = i == 0 ? blob : NULL;
        unsigned long long adlen = i == 0 ? ENCLAVE_BLOB_HEADER_LEN : 0;
        unsigned long long mlen = 0;
        unsigned char tag = 0xff;
        if (crypto_secretstream_xchacha20poly1305_pull(&st, plain + off, &mlen, &tag, blob + at,
                                                       piece + ENCLAVE_BLOB_CHUNK_ABYTES, ad,
                                                       adlen) != 0 ||
            mlen != piece || tag != want) {
            rc = ENCLAVE_E_BLOB_DECRYPT;
            goto err;
        }
        at += piece + ENCLAVE_BLOB_CHUNK_ABYTES;
        off += piece;
    }
    if (at != len || off != plain_len) { /* cannot happen after peek_len; kept as a guard */
        rc = ENCLAVE_E_BLOB;
        goto err;
    }
    sodium_memzero(&st, sizeof st);
    *data = plain;
    *data_len = (size_t)plain_len;
    return PROTO_OK;
err:
    sodium_memzero(&st, sizeof st);
    sodium_free(plain); /* sodium_free wipes before unmapping */
    return rc;
}

void enclave_blob_plain_free(uint8_t *data)
{
    sodium_free(data);
}

void enclave_blob_address(const uint8_t *blob, size_t len, uint8_t out[static 32])
{
    crypto_generichash(out, 32, blob, len, NULL, 0);
}

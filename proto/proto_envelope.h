/*  proto_envelope: the signed msgpack envelope every message between nodes travels in.
 *
 *  Wire form: a fixed-order 7-element array
 *      [version, type, sender, seq, time_ms, body, signature]
 *  version u8 (=PROTO_VERSION), type u16 (registered in proto_msgtype), sender bin32
 *  (Ed25519 node public key), seq u64, time_ms u64, body bin (the type's own msgpack,
 *  at most the type's max_body), signature bin64.
 *  The signature is Ed25519 by the sender over
 *      BLAKE2b-256("genie/envelope/v1" || 0x00 || msgpack([version,type,sender,seq,time_ms,body]))
 *  Decoding is strict: PROTO_ENVELOPE_MAX bytes at most, exact arity, shortest encodings,
 *  no trailing bytes. Decoding does not verify the signature, so a gossip layer can drop
 *  a duplicate by its hash before paying for a verification; call proto_envelope_verify.
 */
#ifndef GENIE_PROTO_ENVELOPE_H
#define GENIE_PROTO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"
#include "proto/proto_key.h"

#define PROTO_VERSION 1
#define PROTO_ENVELOPE_MAX (1024u * 1024u + 256u)
#define PROTO_ENVELOPE_OVERHEAD 128u /* upper bound of envelope bytes around the body */

typedef struct {
    uint32_t version;
    uint32_t type;
    uint8_t sender[PROTO_PUBKEY_LEN];
    uint64_t seq;
    uint64_t time_ms;
    const uint8_t *body; /* borrowed: points into the buffer given to encode/decode */
    size_t body_len;
    uint8_t sig[PROTO_SIG_LEN];
} proto_envelope_t;

/*  Builds, signs and encodes an envelope from KEY (the sender). On success *out is a
 *  malloc'd buffer the caller frees and 0 is returned; on failure a proto_err_t. */
int proto_envelope_seal(const proto_key_t *key, uint32_t type, uint64_t seq, uint64_t time_ms,
                        const uint8_t *body, size_t body_len, uint8_t **out,
                        size_t *out_len) PROTO_WUR;

/*  Strictly decodes BUF into ENV (ENV->body points into BUF, which must outlive ENV).
 *  Does not check the signature. Returns PROTO_OK or a proto_err_t. */
int proto_envelope_decode(const uint8_t *buf, size_t len, proto_envelope_t *env) PROTO_WUR;

/*  The type of the envelope in BUF from its first fields alone (the array head, the
 *  version, the type), without decoding the rest: for a receiver that sorts frames before
 *  it decodes them (p2p batches gossip for a shared signature check). 0 and *TYPE, or a
 *  proto_err_t when the frame does not start like an envelope of this version (the full
 *  decode would refuse it too). An answer of 0 says nothing about the rest of the frame. */
int proto_envelope_peek_type(const uint8_t *buf, size_t len, uint32_t *type) PROTO_WUR;

/*  Checks ENV's signature against its sender. PROTO_OK or PROTO_E_BAD_SIG. */
int proto_envelope_verify(const proto_envelope_t *env) PROTO_WUR;

/*  decode + verify in one call. */
int proto_envelope_open(const uint8_t *buf, size_t len, proto_envelope_t *env) PROTO_WUR;

/*  The 32-byte hash that ENV's signature covers. */
void proto_envelope_signing_hash(const proto_envelope_t *env, uint8_t out[static PROTO_HASH_LEN]);

/*  Identity of a message for deduplication: BLAKE2b-256 of its raw bytes. */
void proto_envelope_id(const uint8_t *buf, size_t len, uint8_t out[static PROTO_HASH_LEN]);

#endif

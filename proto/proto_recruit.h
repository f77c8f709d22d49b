/*  proto_recruit: the recruitment post, what a registered trainer broadcasts in the
 *  `recruitment` room (gossip room post, message type PROTO_MSG_RECRUITMENT) to call data
 *  owners to a registered model spec.
 *
 *  A fixed-order msgpack array of 6:
 *      [version 1, spec id (bin 32: the txid of the SPEC_REGISTER tx),
 *       trainer account (bin 32: the Ed25519 account key that signs), time_ms (u64, the
 *       trainer's wall clock), note (str, at most 256 bytes of UTF-8 without control
 *       characters), signature (bin 64)]
 *  The signature is Ed25519 by the trainer account over
 *      BLAKE2b-256("genie/recruitment/v1" || 0x00 || the first five fields as an array of 5)
 *  under the chain's signature rule (proto_sig_verify).
 *
 *  Decoding is strict and canonical (encode(decode(b)) == b) and bounded
 *  (PROTO_RECRUIT_MAX_BYTES). Whether the signer is the registered trainer of a registered
 *  spec is the ledger's to say: node/service/node_market.c checks that in the room policy.
 */
#ifndef GENIE_PROTO_RECRUIT_H
#define GENIE_PROTO_RECRUIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"

#define PROTO_RECRUIT_VERSION 1
#define PROTO_RECRUIT_NOTE_MAX 256
/*  Largest encoding: 1 + 1 + 34 + 34 + 9 + (3 + 256) + 66 = 404 bytes, rounded up. */
#define PROTO_RECRUIT_MAX_BYTES 512
/*  A post is fresh while its time is less than this far from the reader's clock. */
#define PROTO_RECRUIT_FRESH_MS (10u * 60u * 1000u)

/*  A recruitment post (plain data). */
typedef struct {
    uint32_t version;
    uint8_t spec_id[32];
    uint8_t trainer[32]; /* the signing account */
    uint64_t time_ms;
    char note[PROTO_RECRUIT_NOTE_MAX + 1]; /* NUL-terminated */
    uint8_t sig[64];
} proto_recruit_t;

/*  Signs R with the trainer account KEY (borrowed): sets r->version, r->trainer (KEY's
 *  public key) and r->sig over the other fields (spec_id, time_ms and note as the caller
 *  set them). Returns 0, PROTO_E_INVALID (a note too long or not acceptable text) or
 *  PROTO_E_NOMEM. */
int proto_recruit_sign(proto_recruit_t *r, const proto_key_t *key) PROTO_WUR;
/*  The hash the signature covers, into OUT (zeroed on allocation failure). */
void proto_recruit_signing_hash(const proto_recruit_t *r, uint8_t out[static 32]);
void proto_recruit_write(proto_wr_t *w, const proto_recruit_t *r);
/*  New malloc'd encoding in *OUT, *LEN (the caller frees it). 0 or PROTO_E_NOMEM. */
int proto_recruit_encode(const proto_recruit_t *r, uint8_t **out, size_t *len) PROTO_WUR;
/*  Strict reads: proto_mp.h's reader codes, PROTO_E_VERSION, PROTO_E_INVALID (a note with
 *  a control character); *OUT zeroed on error. decode also refuses trailing bytes and more
 *  than PROTO_RECRUIT_MAX_BYTES (PROTO_E_TOO_BIG). */
int proto_recruit_read(proto_rd_t *rd, proto_recruit_t *out) PROTO_WUR;
int proto_recruit_decode(const uint8_t *buf, size_t len, proto_recruit_t *out) PROTO_WUR;
/*  Verifies R's signature by r->trainer. 0, PROTO_E_VERSION, PROTO_E_INVALID (a note out
 *  of its domain), PROTO_E_BAD_SIG or PROTO_E_NOMEM. */
int proto_recruit_verify(const proto_recruit_t *r) PROTO_WUR;
/*  True when R's time is less than PROTO_RECRUIT_FRESH_MS from NOW_MS (either side). */
bool proto_recruit_fresh(const proto_recruit_t *r, uint64_t now_ms);
/*  True when NOTE (LEN bytes) is an acceptable note: at most PROTO_RECRUIT_NOTE_MAX bytes,
 *  valid UTF-8 (as proto_mp reads it), no byte below 0x20 and no DEL. */
bool proto_recruit_note_ok(const char *note, size_t len);

#endif

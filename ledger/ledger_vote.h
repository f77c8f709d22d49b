/*  ledger_vote: the signed messages of the consensus protocol and the commit certificate.
 *
 *  Consensus (ledger_consensus.h) runs among the authorities, the validator set: Ed25519
 *  account keys of equal voting power, at most LEDGER_VALSET_MAX of them, in the order the
 *  ledger lists them. A quorum is more than two thirds: floor(2n/3) + 1 of n. The proposer
 *  of (height, round) is validators[(height + round) mod n], a plain round-robin.
 *
 *  Three signed messages (fixed-order msgpack arrays, canonical encoding, proto/proto_mp.h):
 *
 *    Proposal  [chain_id bin32, height uint, round uint, pol_round uint|nil,
 *               timestamp_ms uint, proposer bin32, block_hash bin32, signature bin64,
 *               block bin]
 *        signature = Ed25519(proposer, H("genie/proposal/v1", array of fields 0..6)).
 *        The block bytes are bound by block_hash, which the receiver checks against its
 *        own hash of the bytes (ledger_cons does); so a signature costs one small hash
 *        whatever the block size. pol_round is nil or a round below `round`.
 *    Vote      [chain_id bin32, type uint (1 prevote, 2 precommit), height uint,
 *               round uint, block_hash bin32|nil, validator bin32, signature bin64]
 *        signature = Ed25519(validator, H("genie/vote/v1", array of fields 0..5)).
 *        A nil hash is a vote for "no block".
 *    Certificate [height uint, round uint, block_hash bin32,
 *                 [[validator index uint, signature bin64], ...]]
 *        the precommit signatures of a quorum for block_hash at (height, round); indexes
 *        into the validator set of that height, strictly increasing. Not signed itself:
 *        each entry is the signature of the precommit vote it stands for, whose chain id
 *        the verifier supplies. It is stored with the block.
 *
 *  The chain id is inside everything signed, so a vote cannot be replayed on another chain.
 *  Decoders accept only canonical encodings within the limits below, so that
 *  encode(decode(b)) == b; they do not check signatures (the *_verify functions do).
 */
#ifndef GENIE_LEDGER_VOTE_H
#define GENIE_LEDGER_VOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "proto/proto_err.h"

#define LEDGER_VALSET_MAX 64
#define LEDGER_CHAIN_ID_LEN 32
/* Largest height and round a message may carry (room for +1 without overflow). */
#define LEDGER_HEIGHT_MAX (UINT64_C(1) << 62)
#define LEDGER_ROUND_MAX (UINT32_C(1) << 30)
/* A proposal travels as one envelope body of type proposal (1 MiB): the block gets all of
 * it but a fixed 512 bytes for the other fields. */
#define LEDGER_PROPOSAL_MAX (1024u * 1024u)
#define LEDGER_PROPOSAL_BLOCK_MAX (LEDGER_PROPOSAL_MAX - 512u)
/* Bytes of an encoded vote (at most 184) and certificate (at most 4,404). */
#define LEDGER_VOTE_MAX 256u
#define LEDGER_CERT_MAX 8192u

#define LEDGER_VOTE_WUR PROTO_WUR

/* ---- validator set ---- */

typedef struct {
    size_t n;
    uint8_t keys[LEDGER_VALSET_MAX][PROTO_PUBKEY_LEN];
} ledger_valset_t;

/*  Appends KEY. 0, LEDGER_E_TOO_BIG if the set is full (LEDGER_VALSET_MAX), or
 *  LEDGER_E_DUPLICATE if it already holds KEY. An empty set is
 *  `ledger_valset_t vs = {0}`. */
int ledger_valset_add(ledger_valset_t *vs, const uint8_t key[static PROTO_PUBKEY_LEN]);
/*  Index of KEY in VS, or -1. */
int ledger_valset_find(const ledger_valset_t *vs, const uint8_t key[static PROTO_PUBKEY_LEN]);
/*  Votes needed for a quorum: floor(2n/3) + 1. */
size_t ledger_valset_quorum(const ledger_valset_t *vs);
/*  Index of the proposer of (HEIGHT, ROUND): (HEIGHT + ROUND) mod n. VS must not be empty. */
size_t ledger_valset_proposer(const ledger_valset_t *vs, uint64_t height, uint32_t round);

/* ---- votes ---- */

typedef enum { LEDGER_VOTE_PREVOTE = 1, LEDGER_VOTE_PRECOMMIT = 2 } ledger_vote_type_t;

typedef struct {
    uint8_t chain_id[LEDGER_CHAIN_ID_LEN];
    uint8_t type;    /* ledger_vote_type_t */
    uint64_t height; /* <= LEDGER_HEIGHT_MAX */
    uint32_t round;  /* <= LEDGER_ROUND_MAX */
    bool has_hash;   /* false: a vote for nil (hash is then all zero) */
    uint8_t hash[PROTO_HASH_LEN];
    uint8_t validator[PROTO_PUBKEY_LEN];
    uint8_t sig[PROTO_SIG_LEN];
} ledger_vote_t;

/*  The hash the vote's signature covers (fields 0..5, domain "genie/vote/v1"). */
void ledger_vote_signing_hash(const ledger_vote_t *v, uint8_t out[static PROTO_HASH_LEN]);
/*  Sets v->validator to KEY's public key and signs V with it. */
void ledger_vote_sign(ledger_vote_t *v, const proto_key_t *key);
/*  True if v->sig is v->validator's signature of V. */
bool ledger_vote_verify(const ledger_vote_t *v) LEDGER_VOTE_WUR;
/*  Writes V (all seven fields) to W. */
void ledger_vote_write(proto_wr_t *w, const ledger_vote_t *v);
/*  Encodes V into a new buffer *OUT (caller frees). PROTO_OK or PROTO_E_NOMEM. */
int ledger_vote_encode(const ledger_vote_t *v, uint8_t **out, size_t *out_len) LEDGER_VOTE_WUR;
/*  Decodes BUF into OUT (zeroed on error). PROTO_OK or a proto_err_t. */
int ledger_vote_decode(const uint8_t *buf, size_t len, ledger_vote_t *out) LEDGER_VOTE_WUR;

/* ---- proposals ---- */

typedef struct {
    uint8_t chain_id[LEDGER_CHAIN_ID_LEN];
    uint64_t height;
    uint32_t round;
    int32_t pol_round;     /* -1: none; else 0..round-1 */
    uint64_t timestamp_ms; /* the proposer's clock (informative) */
    uint8_t proposer[PROTO_PUBKEY_LEN];
    uint8_t block_hash[PROTO_HASH_LEN];
    uint8_t sig[PROTO_SIG_LEN];
    const uint8_t *block; /* borrowed: the encoder's input, or a view into the decoded
                             buffer (valid while that buffer is) */
    size_t block_len;     /* <= LEDGER_PROPOSAL_BLOCK_MAX */
} ledger_proposal_t;

/*  The hash the proposal's signature covers (fields 0..6, domain "genie/proposal/v1"). */
void ledger_proposal_signing_hash(const ledger_proposal_t *p, uint8_t out[static PROTO_HASH_LEN]);
/*  Sets p->proposer to KEY's public key and signs P with it. */
void ledger_proposal_sign(ledger_proposal_t *p, const proto_key_t *key);
/*  True if p->sig is p->proposer's signature of P (block_hash is not checked against the
 *  block bytes: that hash is the application's, see ledger_cons_io_t.hash). */
bool ledger_proposal_verify(const ledger_proposal_t *p) LEDGER_VOTE_WUR;
void ledger_proposal_write(proto_wr_t *w, const ledger_proposal_t *p);
/*  Encodes P into a new buffer *OUT (caller frees). PROTO_OK, PROTO_E_TOO_BIG (block too
 *  long) or PROTO_E_NOMEM. */
int ledger_proposal_encode(const ledger_proposal_t *p, uint8_t **out,
                           size_t *out_len) LEDGER_VOTE_WUR;
/*  Decodes BUF into OUT; out->block points into BUF. OUT is zeroed on error. */
int ledger_proposal_decode(const uint8_t *buf, size_t len, ledger_proposal_t *out) LEDGER_VOTE_WUR;

/*  The default identity of a block given as bytes: H("genie/consensus-value/v1", BLOCK). */
void ledger_vote_value_hash(const uint8_t *block, size_t len, uint8_t out[static PROTO_HASH_LEN]);

/* ---- commit certificates ---- */

typedef struct {
    uint8_t index; /* into the validator set */
    uint8_t sig[PROTO_SIG_LEN];
} ledger_cert_sig_t;

typedef struct {
    uint64_t height;
    uint32_t round;
    uint8_t block_hash[PROTO_HASH_LEN];
    size_t n_sigs; /* 1..LEDGER_VALSET_MAX once decoded */
    ledger_cert_sig_t sigs[LEDGER_VALSET_MAX];
} ledger_cert_t;

void ledger_cert_write(proto_wr_t *w, const ledger_cert_t *cert);
/*  Encodes CERT into a new buffer *OUT (caller frees). PROTO_OK, PROTO_E_TOO_LONG (more
 *  than LEDGER_VALSET_MAX entries) or PROTO_E_NOMEM. */
int ledger_cert_encode(const ledger_cert_t *cert, uint8_t **out, size_t *out_len) LEDGER_VOTE_WUR;
/*  Decodes BUF into OUT (zeroed on error). Entries must be 1..LEDGER_VALSET_MAX with
 *  strictly increasing indexes (PROTO_E_INVALID otherwise). Signatures are not checked. */
int ledger_cert_decode(const uint8_t *buf, size_t len, ledger_cert_t *out) LEDGER_VOTE_WUR;
/*  Checks that CERT proves HASH final on chain CHAIN_ID under validator set VS: the block
 *  hash matches, every index is in VS and appears once, every signature is that
 *  validator's precommit for (cert->height, cert->round, HASH), and they reach a quorum.
 *  The caller checks cert->height is the height it expects. PROTO_OK, PROTO_E_INVALID or
 *  PROTO_E_BAD_SIG. */
int ledger_cert_verify(const ledger_cert_t *cert, const ledger_valset_t *vs,
                       const uint8_t chain_id[static LEDGER_CHAIN_ID_LEN],
                       const uint8_t hash[static PROTO_HASH_LEN]) LEDGER_VOTE_WUR;

#endif

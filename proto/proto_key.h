/*  proto_key: Ed25519 key pairs for node identities and ledger accounts.
 *
 *  A node key is the p2p identity; its Curve25519 form (libsodium's conversion) is the
 *  node's CurveZMQ key. Account keys are ledger identities and are kept apart from node
 *  keys. The secret key lives in sodium_malloc'd, locked memory and is wiped on destroy.
 */
#ifndef GENIE_PROTO_KEY_H
#define GENIE_PROTO_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto/proto_err.h"

#define PROTO_PUBKEY_LEN 32
#define PROTO_SEED_LEN 32
#define PROTO_SIG_LEN 64
#define PROTO_HASH_LEN 32

typedef struct proto_key_t proto_key_t;

/*  Initializes libsodium; call once before anything else. 0 or PROTO_E_CRYPTO. */
int proto_crypto_init(void) PROTO_WUR;

/*  New random key pair. NULL on failure. Caller destroys. */
proto_key_t *proto_key_generate(void);
/*  Key pair from a 32-byte seed (the seed is not kept). NULL on failure. */
proto_key_t *proto_key_from_seed(const uint8_t seed[static PROTO_SEED_LEN]);
/*  Wipes and frees the key; tolerates NULL; sets *self_p to NULL. */
void proto_key_destroy(proto_key_t **self_p);

/*  The 32-byte public key (owned by KEY). */
const uint8_t *proto_key_public(const proto_key_t *key);
/*  Copies the 32-byte seed to OUT (caller wipes it). */
void proto_key_seed(const proto_key_t *key, uint8_t out[static PROTO_SEED_LEN]);

/*  Detached Ed25519 signature of MSG. */
void proto_key_sign(const proto_key_t *key, const uint8_t *msg, size_t len,
                    uint8_t sig[static PROTO_SIG_LEN]);
/*  True if SIG is PK's signature of MSG under the chain's signature rule (proto/PROTOCOL.md,
 *  "Signature rule"): exactly proto_sig_check (proto_sigbatch.h), never libsodium's
 *  crypto_sign_verify_detached, whose verdicts differ and change between its releases.
 *  Signatures made by proto_key_sign (plain Ed25519) always pass. */
bool proto_sig_verify(const uint8_t pk[static PROTO_PUBKEY_LEN], const uint8_t *msg, size_t len,
                      const uint8_t sig[static PROTO_SIG_LEN]) PROTO_WUR;

/*  Curve25519 forms for CurveZMQ. Secret: 0 or PROTO_E_CRYPTO, caller wipes OUT. Public: 0
 *  or PROTO_E_INVALID (a point that is not a valid Ed25519 key). */
int proto_key_curve_secret(const proto_key_t *key, uint8_t out[static 32]) PROTO_WUR;
int proto_key_curve_public(const uint8_t ed_pk[static PROTO_PUBKEY_LEN],
                           uint8_t out[static 32]) PROTO_WUR;

/*  Domain-separated BLAKE2b-256: H(domain || 0x00 || data). */
void proto_hash(const char *domain, const uint8_t *data, size_t len,
                uint8_t out[static PROTO_HASH_LEN]);

#endif

/*  proto_keystore: key files in a node's datadir.
 *
 *  A keystore file holds one Ed25519 key: the node key (DATADIR/node.key) or an account
 *  key (DATADIR/accounts/<hex public key>.key). Files are created with mode 0600 in one
 *  atomic step (write a temporary file, fsync, rename) and a load refuses a file that
 *  group or others can read. With a passphrase, the seed is encrypted with
 *  XChaCha20-Poly1305 under a key derived by Argon2id (libsodium crypto_pwhash) from the
 *  passphrase and a random salt; without one it is stored in the clear (node keys, and
 *  test networks). Every buffer that held a secret is wiped. The format is documented in
 *  proto/PROTOCOL.md ("Keystore files").
 */
#ifndef GENIE_PROTO_KEYSTORE_H
#define GENIE_PROTO_KEYSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/proto_err.h"
#include "proto/proto_key.h"

typedef enum { PROTO_KS_NODE = 1, PROTO_KS_ACCOUNT = 2 } proto_ks_kind_t;

/*  Public facts about a keystore file; reading them needs no passphrase. */
typedef struct {
    proto_ks_kind_t kind;
    uint8_t pub[PROTO_PUBKEY_LEN];
    bool encrypted;
    uint64_t created_ms;
} proto_ks_info_t;

/*  Writes KEY to PATH (must not exist). PASSPHRASE NULL or "" stores it unencrypted.
 *  Returns PROTO_OK or an error. */
int proto_keystore_save(const char *path, const proto_key_t *key, proto_ks_kind_t kind,
                        const char *passphrase) PROTO_WUR;

/*  Reads the key at PATH into *out (caller destroys). PASSPHRASE may be NULL for an
 *  unencrypted file. Returns PROTO_OK or an error. INFO may be NULL. */
int proto_keystore_load(const char *path, const char *passphrase, proto_key_t **out,
                        proto_ks_info_t *info) PROTO_WUR;

/*  Reads only the public facts of the file at PATH (permissions are checked too). */
int proto_keystore_inspect(const char *path, proto_ks_info_t *info) PROTO_WUR;

/*  Stable message for an error code. */
const char *proto_keystore_strerror(int err);

#endif

/*  node_datadir: a node's data directory on disk.
 *
 *  Layout (all created by us with owner-only permissions):
 *    DIR/            mode 0700
 *    DIR/LOCK        holds an exclusive flock while a genie-node runs; contains its pid
 *    DIR/node.key    the node key (keystore kind NODE, unencrypted), made on first start
 *    DIR/accounts/   mode 0700; account keys, one file <hex public key>.key each
 *    DIR/chain_id    hex chain id this datadir belongs to, written on first start
 *    DIR/genesis.json copy of the --genesis file given on first start (absent for the
 *                    built-in development genesis)
 *
 *  The node opens it with node_datadir_open, which takes the lock, for its whole life.
 *  The CLI's key commands use the path-based functions below, which need no lock (a
 *  running node never writes under accounts/, and key files are created atomically).
 *  Every file written here is written atomically (temporary file, fsync, rename, fsync
 *  of the directory), so a crash never leaves a half-written file behind.
 */
#ifndef GENIE_NODE_DATADIR_H
#define GENIE_NODE_DATADIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/proto_key.h"
#include "proto/proto_keystore.h"
#include "proto/proto_err.h"

#define NODE_DATADIR_PATH_MAX 4096

typedef struct node_datadir_t node_datadir_t;

/*  Creates PATH (and missing parents, mode 0700) and DIR/accounts/ if needed, takes the
 *  exclusive lock on DIR/LOCK (non-blocking) and writes our pid into it. NULL with one
 *  line in ERR on failure, e.g. "datadir /x is in use by another genie-node (pid 42)".
 *  Caller destroys (which releases the lock). */
node_datadir_t *node_datadir_open(const char *path, char *err, size_t err_cap);

/*  Removes DIR/LOCK and releases the lock; tolerates NULL; sets *self_p to NULL. */
void node_datadir_destroy(node_datadir_t **self_p);

/*  The directory path as given (owned by SELF). */
const char *node_datadir_path(const node_datadir_t *self);

/*  Loads DIR/node.key, or creates it on first start. Sets *key (caller destroys) and
 *  *created. -1 with one line in ERR on failure (unreadable, wrong kind, encrypted,
 *  bad permissions...). */
int node_datadir_node_key(node_datadir_t *self, proto_key_t **key, bool *created, char *err,
                          size_t err_cap) PROTO_WUR;

/*  Binds the datadir to a chain. CHAIN_ID is the id computed from GENESIS (LEN bytes;
 *  GENESIS NULL for the built-in development genesis, which is not stored). On first
 *  start, writes DIR/genesis.json (if GENESIS) and then DIR/chain_id. Later, refuses
 *  (-1, ERR) when DIR/chain_id differs from CHAIN_ID. */
int node_datadir_chain_bind(node_datadir_t *self, const uint8_t chain_id[static 32],
                            const uint8_t *genesis, size_t len, char *err,
                            size_t err_cap) PROTO_WUR;

/*  Reads a whole file of at most MAX bytes into a new buffer (*data, caller frees; one
 *  extra NUL byte is appended but not counted in *len). -1 with ERR on failure; errno
 *  is kept (ENOENT when the file does not exist, EFBIG when it is too large). */
int node_datadir_read_file(const char *path, size_t max, uint8_t **data, size_t *len, char *err,
                           size_t err_cap) PROTO_WUR;

/*  Writes DATA (LEN bytes) to PATH atomically with MODE: PATH.tmp.<pid> is written,
 *  fsynced, renamed over PATH, and the directory is fsynced. Replaces an existing PATH.
 *  -1 with ERR on failure (the temporary file is removed). */
int node_datadir_write_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
                            size_t err_cap) PROTO_WUR;

/*  One key file found by node_datadir_key_list. */
typedef struct {
    char path[NODE_DATADIR_PATH_MAX];
    int rc;               /* PROTO_OK, or the keystore error found inspecting it */
    proto_ks_info_t info; /* valid when rc == PROTO_OK */
} node_datadir_keyinfo_t;

/*  Lists DATADIR/node.key (if present) then every *.key file in DATADIR/accounts/, sorted
 *  by name, reading only their public parts (proto_keystore_inspect; secrets are never
 *  loaded). Sets *list (caller frees with free()) and *count. A missing datadir or
 *  accounts/ gives an empty list. -1 with ERR on failure. */
int node_datadir_key_list(const char *datadir, node_datadir_keyinfo_t **list, size_t *count,
                          char *err, size_t err_cap) PROTO_WUR;

/*  Creates a new account key in DATADIR/accounts/<hex public key>.key (creating
 *  DATADIR and accounts/ with mode 0700 if missing). PASSPHRASE NULL or "" stores it
 *  unencrypted. Writes the public key to PUB and the file path to PATH_OUT (PATH_CAP
 *  bytes; may be NULL). -1 with ERR on failure. */
int node_datadir_account_new(const char *datadir, const char *passphrase,
                             uint8_t pub[static PROTO_PUBKEY_LEN], char *path_out, size_t path_cap,
                             char *err, size_t err_cap) PROTO_WUR;

#endif

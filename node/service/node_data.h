/*  node_data: the data owner's service of genie-node (--role data-owner): an encrypted,
 *  content-addressed store of the owner's data files in the datadir, their registration
 *  on the ledger, consent and the audit trail (issue 15, flows 2, 3 and 7).
 *
 *  Store (DATADIR/data/, mode 0700, its two folders too):
 *    blobs/<address hex>    the ciphertext of one file in enclave_blob format (libsodium
 *                           secretstream under the record's data key); address =
 *                           BLAKE2b-256 of the blob (enclave_blob_address). Mode 0600.
 *    records/<data id hex>  msgpack, mode 0600, the record of one file:
 *                           [version 1, id bin32, salt bin32, key bin32, address bin32,
 *                            type u32 (PROTO_DATA_*), name str (<= NODE_DATA_NAME_MAX),
 *                            size u64 (plaintext bytes, 1..NODE_DATA_MAX),
 *                            created_ms u64]
 *  data id = the salted commitment proto_data_commit(salt, plaintext). Both files are
 *  written atomically (node_datadir_write_file: temp file, fsync, rename, fsync of the
 *  folder); temp files a crash left behind are removed when the store opens (a record's
 *  temp file holds a data key). A record is read strictly: a file that does not decode,
 *  whose id is not its name, or with a bad field is refused with a reason (NODE_E_CORRUPT);
 *  a blob whose BLAKE2b-256 is not its address is refused the same way.
 *
 *  The plaintext never leaves the node except sealed to a validation enclave (data_add)
 *  or, through node_data_plain, to a training enclave (node_market). It is never logged
 *  and never written: it lives in sodium_malloc'd memory, wiped when freed.
 *
 *  RPC methods (node_data_register; on a node without the service they answer an
 *  application error "this node is not a data-owner"):
 *    data_add {path, type: "genotype"|"phenotype", name?, enclave?: hex32}
 *        reads the file PATH (the CLI and the node share the machine), has it validated
 *        by a registered VALIDATION enclave (ENCLAVE; else one this node runs; else the
 *        newest active registered ones, in turn, through node_enclave_relay_call), checks
 *        the signed report (registered key, commitment, type, every check passed), encrypts
 *        the file into the store under a fresh key and submits DATA_REGISTER signed by the
 *        node account. The answer is deferred until the enclave answers:
 *        -> {data_id, txid, address, enclave, type, name, size, size_class, records,
 *            checks_run, checks_passed, time_ms: {read (enclave lookup and file read),
 *            seal (commitment, sealing), enclave (relay, validation, answer), store
 *            (report check, encryption, fsync'd writes), submit (tx signed and admitted),
 *            total}} (the wait for the block not counted)
 *    data_list {} -> [{data_id, name, type, size, local, status, height, status_height}]
 *        the node account's records on the ledger and the local ones (status "active",
 *        "withdrawn", or "unregistered" for a local record the ledger does not have yet)
 *    data_show {data_id} -> one record as above plus address, validator, owner, uses
 *    data_withdraw {data_id} -> {txid}        (DATA_WITHDRAW)
 *    consent_set {data_id?, allow_types, allow_purposes, deny_types, deny_purposes,
 *                 max_epsilon_milli, min_audits, auditors} -> {txid}   (CONSENT_SET)
 *    consent_show {data_id?} -> {set: bool, target, ..., effective?}
 *    consent_revoke {data_id?} -> {txid}      (CONSENT_REVOKE)
 *    audit {data_id?} -> [{data_id, use, height, actor, spec_id, txid}] (every record of
 *        the account when no id is given)
 */
#ifndef GENIE_NODE_DATA_H
#define GENIE_NODE_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

typedef struct node_app_t node_app_t;
typedef struct node_data_t node_data_t;

/* Largest data file (1,000 KiB): sealed with its request framing it fits one relayed
   enclave call (NODE_ENCLAVE_RELAY_REQ_MAX) and so one p2p envelope. */
#define NODE_DATA_MAX (1000u * 1024u)
/* Longest record name (bytes of printable ASCII). */
#define NODE_DATA_NAME_MAX 64u
/* Most local records the store lists. */
#define NODE_DATA_RECORDS_MAX 4096u
/* data_add calls waiting for an enclave at once. */
#define NODE_DATA_ADDS_MAX 8u

/*  What the store knows of a local record (no secrets). */
typedef struct {
    uint8_t id[32];      /* the salted commitment */
    uint8_t address[32]; /* BLAKE2b-256 of the blob */
    uint32_t type;       /* PROTO_DATA_GENOTYPE / PROTO_DATA_PHENOTYPE */
    char name[NODE_DATA_NAME_MAX + 1];
    uint64_t size; /* plaintext bytes */
    uint64_t created_ms;
} node_data_info_t;

/*  Opens (creating, mode 0700) DATADIR/data/, blobs/ and records/, and removes temp files
 *  a crash left there. APP (may be NULL: the store alone, as in unit tests) gives the
 *  ledger, relay and account data_add needs. NULL with one line in ERR on failure. Caller
 *  destroys. */
node_data_t *node_data_new(node_app_t *app, const char *datadir, char *err, size_t cap);

/*  Wipes pending data_add calls (their RPC answered with an error) and frees; tolerates
 *  NULL; sets *self_p to NULL. */
void node_data_destroy(node_data_t **self_p);

/*  Stores DATA (LEN bytes, 1..NODE_DATA_MAX, borrowed) with SALT: encrypts it under a
 *  fresh data key into blobs/, writes the record (TYPE, NAME (may be NULL), now), and
 *  fills *OUT (may be NULL). 0, NODE_E_PARAMS (size, type or name refused), NODE_E_IO,
 *  or an encryption error, with ERR filled; nothing is left on disk on failure. */
int node_data_put(node_data_t *self, const uint8_t *data, size_t len, const uint8_t salt[static 32],
                  uint32_t type, const char *name, node_data_info_t *out, char *err,
                  size_t cap) PROTO_WUR;

/*  As node_data_put with the blob already made: KEY (the data key the blob BLOB (BLOB_LEN
 *  bytes, borrowed) was sealed under), SALT, ID (the commitment) and the plaintext SIZE.
 *  The blob's address is computed here. Same errors. */
int node_data_put_blob(node_data_t *self, const uint8_t id[static 32],
                       const uint8_t salt[static 32], const uint8_t key[static 32],
                       const uint8_t *blob, size_t blob_len, uint64_t size, uint32_t type,
                       const char *name, node_data_info_t *out, char *err, size_t cap) PROTO_WUR;

/*  The record of local data ID into *OUT. 0, NODE_E_NOT_FOUND, NODE_E_CORRUPT (the
 *  record file is refused: the reason in ERR) or NODE_E_IO. */
int node_data_info(node_data_t *self, const uint8_t id[static 32], node_data_info_t *out, char *err,
                   size_t cap) PROTO_WUR;

/*  Removes local record ID and its blob (a registration that failed). 0 or
 *  NODE_E_NOT_FOUND. */
int node_data_remove(node_data_t *self, const uint8_t id[static 32]) PROTO_WUR;

/*  The plaintext of local record ID (sodium_malloc'd; free with node_data_plain_free) and
 *  its salt. 0, NODE_E_NOT_FOUND, NODE_E_CORRUPT (record or blob refused, or the blob
 *  does not decrypt to the committed data) or NODE_E_IO, with ERR filled. */
int node_data_plain(node_data_t *self, const uint8_t id[static 32], uint8_t **data, size_t *len,
                    uint8_t salt[static 32], char *err, size_t cap) PROTO_WUR;
/*  Wipes and frees a plaintext from node_data_plain (NULL is fine). */
void node_data_plain_free(uint8_t *data, size_t len);

/*  Data key, salt and blob address of local record ID (secrets: the caller wipes).
 *  0, NODE_E_NOT_FOUND, NODE_E_CORRUPT or NODE_E_IO. */
int node_data_secrets(node_data_t *self, const uint8_t id[static 32], uint8_t key[static 32],
                      uint8_t salt[static 32], uint8_t address[static 32]) PROTO_WUR;

/*  The ciphertext blob stored under ADDRESS (malloc'd, caller frees), checked against its
 *  address. 0, NODE_E_NOT_FOUND, NODE_E_CORRUPT (its hash is not ADDRESS) or NODE_E_IO. */
int node_data_blob(node_data_t *self, const uint8_t address[static 32], uint8_t **blob,
                   size_t *len) PROTO_WUR;

/*  Local record ids (at most MAX, sorted) into OUT; their number. Files that are not
 *  records (temp files, other names) are skipped. */
size_t node_data_ids(node_data_t *self, uint8_t (*out)[32], size_t max);

/*  Strict decode of the bytes BUF (LEN, borrowed) of a record file that must be the record
 *  of WANT_ID: its public part into *OUT (the secrets in it are read and wiped). 0, or
 *  NODE_E_CORRUPT with the reason in ERR (does not decode, another version, its id is not
 *  WANT_ID, a field out of bounds). What node_data_info applies to records/<id>; public for
 *  the fuzz harness. */
int node_data_record_check(const uint8_t *buf, size_t len, const uint8_t want_id[static 32],
                           node_data_info_t *out, char *err, size_t cap) PROTO_WUR;

/*  ceil(log2(BYTES)) (0 for 0 and 1): the size class DATA_REGISTER records. */
uint32_t node_data_size_class(uint64_t bytes);

/*  "genotype" / "phenotype" to PROTO_DATA_*: 0 when NAME is neither. And back ("?"). */
uint32_t node_data_type_parse(const char *name);
const char *node_data_type_name(uint32_t type);

/*  The data-owner service of APP, or NULL on a node without it (node_app.c). */
node_data_t *node_app_data(node_app_t *app);

/*  Adds the RPC methods above to APP. 0, or node_app_methods_add's code. */
int node_data_register(node_app_t *app);

#endif

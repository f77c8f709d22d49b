/*  ledger_genesis: the chain's genesis (genesis.json), its chain id, and height 0.
 *
 *  genesis.json is one JSON object with exactly these keys:
 *      "chain_name"          string, 1..64 chars of [A-Za-z0-9._-]
 *      "authorities"         array of 1..LEDGER_AUTHORITIES_MAX distinct hex Ed25519
 *                            public keys (64 hex digits, valid curve points)
 *      "attestation_service" hex Ed25519 public key of the attestation service that
 *                            certifies enclave platforms (proto_attest.h); OPTIONAL:
 *                            absent, the chain has none (all zeros in the struct and
 *                            the canonical encoding) and no enclave can register
 *      "balances"            object {hex public key: amount}, amounts integers
 *                            0..2^63-1 (JSON's safe range in jansson), at most
 *                            LEDGER_GENESIS_BALANCES_MAX entries, total <= 2^64-1
 *      "block_interval_ms"   integer 1..3,600,000
 *      "heartbeat_ms"        integer block_interval_ms..86,400,000 (longest time
 *                            without a block: empty blocks only this often)
 *      "max_block_bytes"     integer 1,024..LEDGER_BLOCK_MAX_BYTES
 *      "max_block_txs"       integer 1..LEDGER_BLOCK_MAX_TXS
 *      "genesis_time_ms"     integer 0..2^63-1 (time of block 0, ms since the epoch)
 *  Parsing is strict: unknown or missing (required) keys, duplicate keys (also two spellings of one
 *  hex key), wrong types, out-of-range numbers and bad hex are errors with a message
 *  naming the key.
 *
 *  chain id = H("genie/genesis/v1", canonical msgpack of the parsed genesis), NOT of the
 *  JSON text: whitespace, key order, hex case and the order of authorities and balances
 *  do not change it. The canonical encoding is the fixed-order array
 *      [1 (version), chain_name str, authorities [bin32...] sorted,
 *       attestation_service bin32, balances [[account bin32, amount uint64]...] sorted by
 *       account, block_interval_ms, heartbeat_ms, max_block_bytes, max_block_txs,
 *       genesis_time_ms]
 *  Every node checks its chain id against its peers' (hello).
 *
 *  Height 0 (ledger_genesis_apply): the state gets the balances (nonce 0), the
 *  authority set and, when named, the attestation service's key (state key 'g' 'a',
 *  which the enclave registry verifies quotes against); block 0 is [chain_id, 0, zero prev,
 * genesis_time_ms, zero proposer, round 0, tx_root of no txs, state_root] with no txs and no
 * certificate.
 */
#ifndef GENIE_LEDGER_GENESIS_H
#define GENIE_LEDGER_GENESIS_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_state.h"
#include "ledger/ledger_store.h"
#include "ledger/ledger_tx.h"

#define LEDGER_GENESIS_BALANCES_MAX 100000
#define LEDGER_CHAIN_NAME_MAX 64
#define LEDGER_GENESIS_FILE_MAX (16u << 20) /* bytes of genesis.json */

typedef struct ledger_genesis_t ledger_genesis_t;

/*  Chain parameters from genesis (the scalar part). */
typedef struct {
    char chain_name[LEDGER_CHAIN_NAME_MAX + 1];
    uint8_t attestation_service[LEDGER_ID_LEN];
    uint64_t block_interval_ms;
    uint64_t heartbeat_ms;
    uint64_t max_block_bytes;
    uint64_t max_block_txs;
    uint64_t genesis_time_ms;
} ledger_genesis_params_t;

typedef struct {
    uint8_t account[LEDGER_ID_LEN];
    uint64_t amount;
} ledger_balance_t;

/*  Builds a genesis from its parts (validated like the JSON; AUTHORITIES and BALANCES
 *  are copied, any order). On success *OUT (caller destroys). Returns LEDGER_OK or
 *  LEDGER_E_INVALID with a message in ERR (ERRLEN bytes, may be NULL), LEDGER_E_NOMEM. */
int ledger_genesis_new(const ledger_genesis_params_t *params,
                       const uint8_t (*authorities)[LEDGER_ID_LEN], size_t n_authorities,
                       const ledger_balance_t *balances, size_t n_balances, ledger_genesis_t **out,
                       char *err, size_t errlen) PROTO_WUR;

/*  Parses genesis JSON TEXT (LEN bytes). Same results as ledger_genesis_new, plus
 *  LEDGER_E_MALFORMED for text that is not JSON. */
int ledger_genesis_parse(const char *text, size_t len, ledger_genesis_t **out, char *err,
                         size_t errlen) PROTO_WUR;
/*  Reads and parses the file PATH (at most LEDGER_GENESIS_FILE_MAX bytes); LEDGER_E_STORE
 *  if it cannot be read. */
int ledger_genesis_load(const char *path, ledger_genesis_t **out, char *err,
                        size_t errlen) PROTO_WUR;

void ledger_genesis_destroy(ledger_genesis_t **self_p);

const uint8_t *ledger_genesis_chain_id(const ledger_genesis_t *g);
const ledger_genesis_params_t *ledger_genesis_params(const ledger_genesis_t *g);
/*  Sorted authorities (owned by G), *n set. */
const uint8_t (*ledger_genesis_authorities(const ledger_genesis_t *g, size_t *n))[LEDGER_ID_LEN];
/*  Balances sorted by account (owned by G), *n set. */
const ledger_balance_t *ledger_genesis_balances(const ledger_genesis_t *g, size_t *n);
/*  The canonical msgpack encoding the chain id hashes (owned by G). */
const uint8_t *ledger_genesis_canonical(const ledger_genesis_t *g, size_t *len);

/*  Writes G as genesis.json to PATH (must not exist; mode 0644). 0, or PROTO_E_IO (errno
 *  set; also when PATH exists, EEXIST, or the JSON could not be made). */
int ledger_genesis_write(const ledger_genesis_t *g, const char *path) PROTO_WUR;

/*  Applies G to STORE: on an empty store writes the genesis state and block 0 (one
 *  synced batch); on a store that has a chain checks it is G's chain. LEDGER_OK,
 *  LEDGER_E_WRONG_CHAIN (the database holds another chain), LEDGER_E_STORE,
 *  LEDGER_E_NOMEM. */
int ledger_genesis_apply(const ledger_genesis_t *g, ledger_store_t *store) PROTO_WUR;

/*  Test-network helper (for `genie genesis new --authorities N`): creates in directory
 *  DIR (must exist) N authority keys saved as unencrypted account keystores
 *  DIR/authority-<i>.key (i = 1..N), an attestation-service key DIR/attestation.key, and
 *  DIR/genesis.json with those keys, BALANCE for every authority, the default limits
 *  (block interval 1 s, heartbeat 10 s, max block bytes LEDGER_BLOCK_MAX_BYTES, max
 *  block txs LEDGER_BLOCK_MAX_TXS) and TIME_MS. On success *OUT (may be NULL) gets the
 *  genesis (caller destroys). LEDGER_OK, LEDGER_E_INVALID, LEDGER_E_STORE (a file exists
 *  or cannot be written), LEDGER_E_NOMEM; message in ERR. */
int ledger_genesis_create(const char *dir, const char *chain_name, size_t n_authorities,
                          uint64_t balance, uint64_t time_ms, ledger_genesis_t **out, char *err,
                          size_t errlen) PROTO_WUR;

#endif

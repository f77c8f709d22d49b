/*  ledger_state: the ledger's key/value state as seen while a block is executed.
 *
 *  A ledger_state_t is the write set of one block over the store's committed state:
 *  reads go through the current tx's overlay, then the block's pending writes, then the
 *  database (ledger_store) at its head; writes stay in memory until ledger_store_commit
 *  puts them, with the block, into one LevelDB write batch. Nothing here touches disk.
 *
 *  Transactions are atomic: ledger_state_apply_tx runs a tx inside an overlay that is
 *  merged into the block's writes only if the tx succeeds. A block is executed as
 *  apply_tx for each tx in order, ledger_state_end_block, then ledger_state_finish,
 *  which freezes the write set and gives the state root:
 *
 *      writes_digest(h) = H("genie/writes/v1", msgpack([[key bin, value bin | nil], ...]))
 *                         over every key written in block h, sorted by key bytes
 *                         (memcmp order, a prefix first), nil for a deleted key;
 *      state_root(h)    = H("genie/state/v1", state_root(h-1) || writes_digest(h)),
 *                         with state_root(-1) = 32 zero bytes (genesis is height 0).
 *
 *  Cheap (proportional to the block, not the state), deterministic, and any divergence
 *  between two nodes persists in every later root. Only state keys are covered; the
 *  store's own indexes (blocks, tx index, head) are not state.
 *
 *  State keys (first byte = kind; all integers big-endian):
 *      'a' account[32]                 -> balance u64 || nonce u64        (16 bytes)
 *      'u'                             -> authorities: sorted concatenation of 32-byte
 *                                         keys (1..LEDGER_AUTHORITIES_MAX)
 *      'v' action u8 || subject[32]    -> voters for (action, subject): sorted
 *                                         concatenation of 32-byte keys
 *      'g' 'a'                         -> the attestation service's key (32 bytes), written
 *                                         at genesis when genesis names one
 *      'e' enclave id[32]              -> an enclave record (ledger_contract_enclave.c)
 *      'n'                             -> the enclave directory: enclave ids in
 *                                         registration order (32 bytes each)
 *      'd' measurement[32]             -> audits of a measurement, sorted by auditor
 *      'r' what u8 || target[32]       -> revoked platform key (1) / measurement (2):
 *                                         the height it was revoked at, u64
 *      'w' what u8 || target[32]       -> revocation voters: sorted 32-byte keys
 *  The data owner's contracts (ledger_data.c has the record layouts; a "list" at K is its
 *  length u32 at K and entry I at K || I u32):
 *      'o' data id[32]                 -> a data record (121 bytes)
 *      'p' owner[32]                   -> list: the owner's data ids, registration order
 *      'i' data id[32]                 -> list: the record's audit trail (105-byte entries)
 *      'c' owner[32] || data id[32]    -> a consent (data id zero: the owner's default)
 *      't' account[32]                 -> a trainer
 *      's' spec id[32]                 -> a model spec
 *      'l'                             -> list: the spec ids, registration order
 *      'x' spec id[32] || data id[32]  -> a donor record (84 bytes)
 *      'y' spec id[32]                 -> list: the spec's donors' data ids, in order
 *      'k' data id[32] || enclave[32]  -> a key grant: spec id[32] || sealed grant
 *  Training jobs, models, buys and settlement (ledger_model.c has the layouts):
 *      'j' job id[32]                  -> a training job
 *      'h' spec id[32]                 -> the spec's current job id[32] || jobs started u32
 *      'm' model id[32]                -> a published model
 *      'f'                             -> list: every model id, publication order
 *      'f' spec id[32]                 -> list: the spec's model ids
 *      'q' model id[32] || owner[32]   -> the owner's used records in the model
 *      'q' owner[32]                   -> list: models where the owner has used records
 *      'b' buy id[32]                  -> a buy (its escrow)
 *      'b' buy id[32] || enclave id[32] -> the count that query enclave has claimed
 *      'z' account[32]                 -> role earnings (runner + trainer), u64
 *      'z' model id[32] || party u8    -> a donor pool: credited u64 || paid u64
 *      'z' model id[32] || data id[32] -> paid to that record so far, u64
 *  New contracts take a new lowercase letter. The store uses other bytes (ledger_store.h).
 *
 *  A state is used by one thread at a time. Memory is bounded by the block it executes.
 */
#ifndef GENIE_LEDGER_STATE_H
#define GENIE_LEDGER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_tx.h"

#define LEDGER_KEY_MAX 128            /* bytes in a state key */
#define LEDGER_VALUE_MAX (256 * 1024) /* bytes in a state value */
#define LEDGER_AUTHORITIES_MAX 64

#define LEDGER_KEY_ACCOUNT 'a'
#define LEDGER_KEY_AUTHORITIES 'u'
#define LEDGER_KEY_VOTE 'v'
#define LEDGER_KEY_CONFIG 'g'
#define LEDGER_CONFIG_ATTESTATION 'a'
#define LEDGER_KEY_ENCLAVE 'e'
#define LEDGER_KEY_ENCLAVE_DIR 'n'
#define LEDGER_KEY_AUDIT 'd'
#define LEDGER_KEY_REVOKED 'r'
#define LEDGER_KEY_REVOKE_VOTE 'w'
#define LEDGER_KEY_DATA 'o'
#define LEDGER_KEY_DATA_OWNER 'p'
#define LEDGER_KEY_DATA_USES 'i'
#define LEDGER_KEY_CONSENT 'c'
#define LEDGER_KEY_TRAINER 't'
#define LEDGER_KEY_SPEC 's'
#define LEDGER_KEY_SPEC_DIR 'l'
#define LEDGER_KEY_DONOR 'x'
#define LEDGER_KEY_DONOR_DIR 'y'
#define LEDGER_KEY_GRANT 'k'
#define LEDGER_KEY_JOB 'j'
#define LEDGER_KEY_SPEC_JOB 'h'
#define LEDGER_KEY_MODEL 'm'
#define LEDGER_KEY_MODEL_DIR 'f'
#define LEDGER_KEY_MODEL_USED 'q'
#define LEDGER_KEY_BUY 'b'
#define LEDGER_KEY_EARN 'z'

typedef struct ledger_store_t ledger_store_t;
/* ledger_state_t is declared in ledger_contract.h */

typedef struct {
    uint64_t balance;
    uint64_t nonce; /* the nonce the account's next tx must carry */
} ledger_account_t;

/*  New empty write set over STORE's committed state (borrowed; NULL = an empty
 *  database, for tests). Remembers the store's head so a commit on top of another head
 *  is refused. NULL on allocation failure. Caller destroys. */
ledger_state_t *ledger_state_new(ledger_store_t *store);
/*  Frees ST; tolerates NULL; sets *self_p to NULL. */
void ledger_state_destroy(ledger_state_t **self_p);
/*  Forgets every write and unfreezes ST (and re-reads the store's head). */
void ledger_state_reset(ledger_state_t *st);

/* ---- raw key/value access (contracts) ---- */

/*  Value of KEY: LEDGER_OK with *val (malloc'd, caller frees; non-NULL even when empty)
 *  and *vlen, LEDGER_E_NOT_FOUND, or LEDGER_E_STORE / LEDGER_E_CORRUPT / LEDGER_E_NOMEM. */
int ledger_state_get(ledger_state_t *st, const uint8_t *key, size_t klen, uint8_t **val,
                     size_t *vlen) PROTO_WUR;
/*  Sets KEY to VAL (copied). LEDGER_OK or LEDGER_E_NOMEM. */
int ledger_state_put(ledger_state_t *st, const uint8_t *key, size_t klen, const uint8_t *val,
                     size_t vlen) PROTO_WUR;
/*  Deletes KEY. LEDGER_OK or LEDGER_E_NOMEM. */
int ledger_state_del(ledger_state_t *st, const uint8_t *key, size_t klen) PROTO_WUR;

/* ---- typed access ---- */

/*  Account PUB; an account never seen reads as zero balance, zero nonce. */
int ledger_state_account(ledger_state_t *st, const uint8_t pub[static LEDGER_ID_LEN],
                         ledger_account_t *out) PROTO_WUR;
int ledger_state_set_account(ledger_state_t *st, const uint8_t pub[static LEDGER_ID_LEN],
                             const ledger_account_t *acct) PROTO_WUR;
/*  Current authority set, sorted, into OUT (room for LEDGER_AUTHORITIES_MAX); *n set. */
int ledger_state_authorities(ledger_state_t *st, uint8_t out[][LEDGER_ID_LEN], size_t *n) PROTO_WUR;
/*  Replaces the authority set with KEYS (1..LEDGER_AUTHORITIES_MAX distinct keys, any
 *  order; stored sorted). LEDGER_OK, LEDGER_E_INVALID or LEDGER_E_NOMEM. */
int ledger_state_set_authorities(ledger_state_t *st, const uint8_t (*keys)[LEDGER_ID_LEN],
                                 size_t n) PROTO_WUR;

/*  Account codec (16 bytes), shared with the store. */
void ledger_account_encode(const ledger_account_t *a, uint8_t out[static 16]);
void ledger_account_decode(const uint8_t in[static 16], ledger_account_t *a);

/* ---- execution ---- */

/*  Applies TX (decoded, its stateless checks and signature already done by the caller)
 *  atomically: nonce must equal the sender's nonce (LEDGER_E_NONCE_USED below,
 *  LEDGER_E_NONCE_GAP above), the nonce is bumped, the contract applies the body. On any
 *  refusal nothing is written and ERR (ERR_CAP bytes, may be NULL) says why. */
int ledger_state_apply_tx(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                          size_t err_cap) PROTO_WUR;

/*  As apply_tx would, but only the checks a mempool makes against committed state: the
 *  nonce is not compared, the contract's admit rule runs. Writes nothing. */
int ledger_state_admit_tx(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                          size_t err_cap) PROTO_WUR;

/*  Runs every contract's end-of-block hook, in table order. */
int ledger_state_end_block(ledger_state_t *st) PROTO_WUR;

/*  Freezes ST (further writes are a bug), sorts the writes and computes
 *  ROOT = H("genie/state/v1", PREV_ROOT || writes_digest). LEDGER_OK or LEDGER_E_NOMEM. */
int ledger_state_finish(ledger_state_t *st, const uint8_t prev_root[static LEDGER_ID_LEN],
                        uint8_t root[static LEDGER_ID_LEN]) PROTO_WUR;

/*  True once finished; *root (may be NULL) gets the root. */
bool ledger_state_finished(const ledger_state_t *st, uint8_t *root);

/*  Head hash of the store when ST was created or reset (zeros for an empty store). */
const uint8_t *ledger_state_base(const ledger_state_t *st);
/*  Height and time (Unix ms) of that head block: the block ST executes is height + 1 and
 *  builds on a block of that time. Contracts that need a clock (the enclave registry's
 *  certificate expiry and quote freshness) use this time, which every node agrees on before
 *  the block's txs run. Both 0 for an empty store. */
uint64_t ledger_state_base_height(const ledger_state_t *st);
uint64_t ledger_state_base_time(const ledger_state_t *st);

/*  Writes, in insertion order before finish and in key order after. Entry I: key, and the
 *  value (*val NULL for a deletion). Pointers are owned by ST and valid until its next
 *  write. */
size_t ledger_state_write_count(const ledger_state_t *st);
void ledger_state_write_at(const ledger_state_t *st, size_t i, const uint8_t **key, size_t *klen,
                           const uint8_t **val, size_t *vlen);

#endif

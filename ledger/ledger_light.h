/*  ledger_light: a light client of the ledger, for code that must check the chain on its
 *  own without holding it (a query enclave checking a payment): it knows the chain id and
 *  the authority set from the genesis, and accepts a tx as committed only with an
 *  inclusion proof (ledger_proof.h) whose block header carries a commit certificate of
 *  that set and whose Merkle path ties the tx to the header's tx_root.
 *
 *  Pure code: no LevelDB, no files, no clock, no randomness, only malloc; it runs inside
 *  the seccomp-locked genie-enclave. Not thread-safe (one owner).
 *
 *  Authority changes. The set that certifies block h + 1 is the set after block h. The
 *  client moves its set only through ledger_light_advance: its owner feeds it, in height
 *  order, every certified block that holds authority votes (AUTH_VOTE txs; feeding other
 *  blocks too is harmless), and it tallies the votes with the contract's rule
 *  (ledger_authority.h) exactly as the ledger does, keeping the vote lists that stay open
 *  across blocks (at most LEDGER_LIGHT_LISTS_MAX). Honest limits:
 *  - a client not fed a block with votes keeps the old set (and open lists): it refuses
 *    proofs certified by a new set it was not shown, and may accept proofs certified by
 *    an old set that still reaches a quorum of it. It cannot tell that a block was
 *    withheld, since it sees only the blocks it is fed.
 *  - it remembers the last LEDGER_LIGHT_SETS_MAX sets with the heights they certify, and
 *    checks a proof against the set in force at the proof's height; a proof of a block
 *    older than the oldest remembered set is refused. For heights above the last block
 *    fed it assumes no change since.
 */
#ifndef GENIE_LEDGER_LIGHT_H
#define GENIE_LEDGER_LIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_proof.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_err.h"

#define LEDGER_LIGHT_SETS_MAX 8
#define LEDGER_LIGHT_LISTS_MAX 128

typedef struct ledger_light_t ledger_light_t;

/*  A new client from the canonical genesis bytes GENESIS (LEN bytes, as
 *  ledger_genesis_canonical gives them; read strictly: version 1, sorted distinct valid
 *  authority keys, sorted balances, nothing after): the chain id is H("genie/genesis/v1",
 *  GENESIS) and the genesis authorities certify from height 1. On success *OUT (caller
 *  destroys). LEDGER_E_MALFORMED (bytes that are not a canonical genesis) or
 *  LEDGER_E_NOMEM, with a message in ERR (ERR_CAP bytes, may be NULL). */
int ledger_light_new(const uint8_t *genesis, size_t len, ledger_light_t **out, char *err,
                     size_t err_cap) PROTO_WUR;
/*  Frees the client; tolerates NULL; sets *self_p to NULL. */
void ledger_light_destroy(ledger_light_t **self_p);

/*  The chain id (32 bytes, owned by SELF). */
const uint8_t *ledger_light_chain_id(const ledger_light_t *self);
/*  The current authority set (sorted; owned by SELF, valid until the next advance). */
const ledger_valset_t *ledger_light_authorities(const ledger_light_t *self);
/*  Height of the last block fed to ledger_light_advance (0: none). */
uint64_t ledger_light_height(const ledger_light_t *self);

typedef struct {
    uint8_t txid[32];
    uint64_t height;
    uint64_t time_ms;  /* the block's time */
    const uint8_t *tx; /* points INTO the proof buffer */
    size_t tx_len;
} ledger_light_tx_t;

/*  Checks PROOF (LEN bytes, ledger_proof.h): it decodes; its header decodes and names this
 *  chain; the certificate decodes, names the header's height and hash, and verifies
 *  (ledger_cert_verify) against the set in force at that height; and the tx's txid at
 *  index of n_txs with the path gives the header's tx_root (ledger_merkle_verify). On
 *  success fills *OUT (out->tx points into PROOF) and returns LEDGER_OK; otherwise
 *  LEDGER_E_PROOF with the reason in ERR. The tx itself is not decoded. */
int ledger_light_verify_tx(const ledger_light_t *self, const uint8_t *proof, size_t len,
                           ledger_light_tx_t *out, char *err, size_t err_cap) PROTO_WUR;

/*  Feeds the certified block BLOCK (LEN bytes) with its certificate CERT (CERT_LEN bytes):
 *  the block must decode, be of this chain, lie above the last block fed, carry txs that
 *  give its tx_root, and its certificate must verify against the current set. Its
 *  AUTH_VOTE txs are then tallied (ledger_authority.h); a decided change moves the set,
 *  which certifies from the next height on. All or nothing: on error the client is
 *  unchanged. LEDGER_OK; LEDGER_E_PROOF (not such a block, or a vote the rule refuses:
 *  a certified block the client cannot follow); LEDGER_E_FULL (more than
 *  LEDGER_LIGHT_LISTS_MAX open vote lists); LEDGER_E_NOMEM; reason in ERR. */
int ledger_light_advance(ledger_light_t *self, const uint8_t *block, size_t len,
                         const uint8_t *cert, size_t cert_len, char *err, size_t err_cap) PROTO_WUR;

#endif

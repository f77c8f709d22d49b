/*  ledger_contract_token: the TRANSFER contract (native token).
 *
 *  body = [to bin32, amount uint64]
 *  - check: amount > 0.
 *  - admit (mempool): the sender's committed balance covers the amount.
 *  - apply: the sender's balance must cover the amount (LEDGER_E_FUNDS) and the
 *    receiver's balance must not pass UINT64_MAX (LEDGER_E_OVERFLOW); then amount moves.
 *    A transfer to oneself is allowed: it is checked like any other (balance covers the
 *    amount) and leaves the balance unchanged (only the nonce moves). Receiving creates
 *    the account. No fees.
 *  - `to` is any 32 bytes: it is not checked to be a valid Ed25519 point (that costs a
 *    point decompression per tx); an amount sent to bytes that are no one's public key is
 *    burned, so clients check the address they send to.
 */
#include <string.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_state.h"
#include "proto/proto_err.h"

int ledger_contract_transfer_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    ledger_transfer_t *t = &body->transfer;
    int rc = proto_rd_array_exact(r, 2);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, LEDGER_ID_LEN, t->to);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT64_MAX, &t->amount);
    return rc;
}

void ledger_contract_transfer_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    proto_wr_array(w, 2);
    proto_wr_bin(w, body->transfer.to, LEDGER_ID_LEN);
    proto_wr_uint(w, body->transfer.amount);
}

int ledger_contract_transfer_check(const ledger_tx_t *tx, char *err, size_t err_cap)
{
    if (tx->body.transfer.amount == 0)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID, "transfer amount must be positive");
    return LEDGER_OK;
}

int ledger_contract_transfer_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                   size_t err_cap)
{
    ledger_account_t a;
    int rc = ledger_state_account(st, tx->from, &a);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the sender's account");
    if (a.balance < tx->body.transfer.amount)
        return proto_err_fail(err, err_cap, LEDGER_E_FUNDS, "insufficient balance");
    return LEDGER_OK;
}

int ledger_contract_transfer_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                   size_t err_cap)
{
    const ledger_transfer_t *t = &tx->body.transfer;
    ledger_account_t from, to;
    int rc = ledger_state_account(st, tx->from, &from);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the sender's account");
    if (from.balance < t->amount)
        return proto_err_fail(err, err_cap, LEDGER_E_FUNDS, "insufficient balance");
    if (memcmp(tx->from, t->to, LEDGER_ID_LEN) == 0)
        return LEDGER_OK; /* self-transfer: nothing moves */
    if ((rc = ledger_state_account(st, t->to, &to)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the receiver's account");
    if (to.balance > UINT64_MAX - t->amount)
        return proto_err_fail(err, err_cap, LEDGER_E_OVERFLOW, "receiver balance would overflow");
    from.balance -= t->amount;
    to.balance += t->amount;
    if ((rc = ledger_state_set_account(st, tx->from, &from)) != LEDGER_OK ||
        (rc = ledger_state_set_account(st, t->to, &to)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "out of memory");
    return LEDGER_OK;
}

uint8_t *ledger_contract_transfer_tx(const proto_key_t *key,
                                     const uint8_t chain_id[static LEDGER_ID_LEN], uint64_t nonce,
                                     const uint8_t to[static LEDGER_ID_LEN], uint64_t amount,
                                     size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    memcpy(tx.chain_id, chain_id, LEDGER_ID_LEN);
    tx.nonce = nonce;
    tx.type = LEDGER_TX_TRANSFER;
    memcpy(tx.body.transfer.to, to, LEDGER_ID_LEN);
    tx.body.transfer.amount = amount;
    return ledger_tx_sign(&tx, key, len);
}

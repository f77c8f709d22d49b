/*  ledger_contract_settle: paid queries and their settlement, three native contracts of
 *  issue 16 (jobs and publications are in ledger_contract_model.c; state and reads in
 *  ledger_model.c).
 *
 *  QUERY_BUY       body = [model_id bin32, count u32, code_hash bin32]
 *  - check: 1 <= count <= LEDGER_BUY_COUNT_MAX (1,000,000) (LEDGER_E_INVALID).
 *  - apply: the model exists (LEDGER_E_ESCROW); cost = the spec's price * count, refused
 *    when it passes UINT64_MAX (LEDGER_E_ESCROW); the sender's balance covers it
 *    (LEDGER_E_FUNDS). The cost leaves the balance into the buy's escrow: the buy (id =
 *    txid) {buyer, model, count, claimed 0, price, escrow = cost, code_hash, height}. A free
 *    model (price 0) is bought the same way (the query enclave needs the buy).
 *  USAGE_CLAIM     body = [usage bin (an encoded proto_usage)]
 *  - any sender (the query enclave's runner submits it; the enclave's signature counts).
 *  - apply: the usage decodes and verifies (LEDGER_E_USAGE); its enclave
 *    ledger_enclave_id(enclave_pk) is a registered QUERY enclave, not revoked (its own
 *    status, platform key and measurement; a retired one may still claim what it served)
 *    and runs the model's query measurement (LEDGER_E_USAGE); the buy exists
 *    (LEDGER_E_ESCROW) and is for the usage's model (LEDGER_E_USAGE); new = count - what
 *    this enclave claimed for this buy before, 0 refused (LEDGER_E_USAGE: a replayed or
 *    stale report); the buy has queries left (LEDGER_E_ESCROW: spent). paid = min(new,
 *    queries left); fee = price * paid leaves the escrow and is split with floors:
 *    runner = fee * share_runner_bp / 10000 to the enclave's runner account, trainer =
 *    fee * share_trainer_bp / 10000 to the spec's trainer, donors = fee - runner - trainer;
 *    party i's part = donors * weight_bp_i / 10000, the remainder to party 0; each party's
 *    part is credited to the model's pool of that party. Runner and trainer credits are
 *    role earnings of the account (not its balance); an earnings or pool total that would
 *    pass UINT64_MAX is refused (LEDGER_E_OVERFLOW). The enclave's claimed count for the
 *    buy becomes the report's count (served queries past what was bought are not paid and
 *    cannot be claimed later).
 *  EARNINGS_CLAIM  body = [model_id bin32 (all zero: role earnings only)]
 *  - apply: with a model id, the model exists (LEDGER_E_ESCROW). Owed = the sender's role
 *    earnings, plus with a model id, for each of the sender's records the model used (party
 *    p of n_p records): floor(credited_p / n_p) - what that record was paid before. Nothing
 *    owed is refused (LEDGER_E_NOTHING_OWED); a balance past UINT64_MAX too
 *    (LEDGER_E_OVERFLOW). Role earnings go to zero, each record's paid and its pool's paid
 *    go up by what it is owed, and the total moves into the balance. The pool keeps its
 *    dust (less than n_p units per party) until later credits make it whole.
 *  Conservation: balances + escrows + role earnings + pools (credited - paid) is the same
 *  before and after each of the three (test_ledger_settle sums it).
 *  admit (mempool) runs the same rules as apply against committed state, writing nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_data.h"
#include "ledger/ledger_data_int.h"
#include "ledger/ledger_model.h"
#include "ledger/ledger_model_int.h"
#include "ledger/ledger_state.h"
#include "proto/proto_attest.h"
#include "proto/proto_publish.h"

static const uint8_t s_zero[32];

/* The model ID (LEDGER_E_ESCROW when there is none) and, with S, its spec. */
static int s_model(ledger_state_t *st, const uint8_t id[static 32], ledger_model_t *m,
                   ledger_spec_t *s, char *err, size_t err_cap)
{
    int rc = ledger_model_get(st, id, m);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, LEDGER_E_ESCROW, "no such model");
    if (rc == LEDGER_OK && s)
        rc = ledger_spec_get(st, m->spec_id, s);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc == LEDGER_E_NOT_FOUND ? LEDGER_E_CORRUPT : rc,
                              "cannot read the model or its spec");
    return LEDGER_OK;
}

/* Adds V to the u64 *ACC unless it would pass UINT64_MAX. */
static int s_add(uint64_t *acc, uint64_t v, char *err, size_t err_cap)
{
    if (*acc > UINT64_MAX - v)
        return proto_err_fail(err, err_cap, LEDGER_E_OVERFLOW, "an amount would pass UINT64_MAX");
    *acc += v;
    return LEDGER_OK;
}

/* ------------------------------------------------------------ QUERY_BUY */

int ledger_contract_query_buy_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    ledger_query_buy_t *b = &body->query_buy;
    uint64_t count = 0;
    memset(b, 0, sizeof *b);
    int rc = proto_rd_array_exact(r, 3);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, b->model_id);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT32_MAX, &count);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, b->code_hash);
    b->count = (uint32_t)count;
    return rc;
}

void ledger_contract_query_buy_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    const ledger_query_buy_t *b = &body->query_buy;
    proto_wr_array(w, 3);
    proto_wr_bin(w, b->model_id, 32);
    proto_wr_uint(w, b->count);
    proto_wr_bin(w, b->code_hash, 32);
}

int ledger_contract_query_buy_check(const ledger_tx_t *tx, char *err, size_t err_cap)
{
    uint32_t n = tx->body.query_buy.count;
    if (n < 1 || n > LEDGER_BUY_COUNT_MAX)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID, "a buy is of 1..1,000,000 queries");
    return LEDGER_OK;
}

/* The buy's rules: the price per query into *PRICE, the sender's account into *A. */
static int s_buy_rules(ledger_state_t *st, const ledger_tx_t *tx, uint64_t *price,
                       ledger_account_t *a, char *err, size_t err_cap)
{
    const ledger_query_buy_t *b = &tx->body.query_buy;
    ledger_model_t *m = malloc(sizeof *m);
    ledger_spec_t *s = malloc(sizeof *s);
    int rc;
    if (!m || !s) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = s_model(st, b->model_id, m, s, err, err_cap)) != LEDGER_OK)
        goto out;
    *price = s->price;
    if (b->count && s->price > UINT64_MAX / b->count) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_ESCROW, "the buy's cost passes UINT64_MAX");
        goto out;
    }
    if ((rc = ledger_state_account(st, tx->from, a)) != LEDGER_OK) {
        proto_err_fail(err, err_cap, rc, "cannot read the sender's account");
        goto out;
    }
    if (a->balance < s->price * b->count) {
        rc =
            proto_err_fail(err, err_cap, LEDGER_E_FUNDS, "insufficient balance for the buy's cost");
    }
out:
    free(m);
    free(s);
    return rc;
}

int ledger_contract_query_buy_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                    size_t err_cap)
{
    uint64_t price;
    ledger_account_t a;
    return s_buy_rules(st, tx, &price, &a, err, err_cap);
}

int ledger_contract_query_buy_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                    size_t err_cap)
{
    const ledger_query_buy_t *q = &tx->body.query_buy;
    uint64_t price = 0;
    ledger_account_t a;
    int rc = s_buy_rules(st, tx, &price, &a, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    ledger_buy_t b = {.count = q->count,
                      .price = price,
                      .escrow = price * q->count,
                      .height = ledger_state_base_height(st) + 1};
    ledger_tx_id(tx->bytes, tx->len, b.id);
    memcpy(b.buyer, tx->from, 32);
    memcpy(b.model_id, q->model_id, 32);
    memcpy(b.code_hash, q->code_hash, 32);
    a.balance -= b.escrow;
    if ((rc = ledger_state_set_account(st, tx->from, &a)) != LEDGER_OK ||
        (rc = ledger_buy_put(st, &b)) != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "out of memory");
    return rc;
}

/* ------------------------------------------------------------ USAGE_CLAIM */

int ledger_contract_usage_claim_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    memset(&body->usage_claim, 0, sizeof body->usage_claim);
    return ledger_body_bin_decode(r, PROTO_USAGE_MAX_BYTES, &body->usage_claim.usage,
                                  &body->usage_claim.usage_len);
}

void ledger_contract_usage_claim_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    ledger_body_bin_encode(w, body->usage_claim.usage, body->usage_claim.usage_len);
}

/* What a usage claim settles. */
typedef struct {
    proto_usage_t u;
    uint8_t enclave_id[32];
    ledger_enclave_t enclave;
    ledger_buy_t buy;
    ledger_model_t model;
    ledger_spec_t spec;
    uint64_t paid; /* queries paid */
    uint64_t fee;  /* price * paid */
    uint64_t runner, trainer;
    uint64_t parts[PROTO_PUBLISH_PARTIES_MAX];
} s_usage_t;

/* The usage's enclave: a registered QUERY enclave, nothing of it revoked. */
static int s_usage_enclave(ledger_state_t *st, s_usage_t *x, char *err, size_t err_cap)
{
    bool rev_p = false, rev_m = false;
    ledger_enclave_id(x->u.enclave_pk, x->enclave_id);
    int rc = ledger_enclave_get(st, x->enclave_id, &x->enclave);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, LEDGER_E_USAGE,
                              "the usage report's enclave is not registered");
    if (rc == LEDGER_OK)
        rc = ledger_enclave_revoked(st, LEDGER_REVOKE_PLATFORM, x->enclave.platform_pk, &rev_p,
                                    NULL);
    if (rc == LEDGER_OK)
        rc = ledger_enclave_revoked(st, LEDGER_REVOKE_MEASUREMENT, x->enclave.measurement, &rev_m,
                                    NULL);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the enclave registry");
    if (x->enclave.kind != PROTO_ATTEST_KIND_QUERY)
        return proto_err_fail(err, err_cap, LEDGER_E_USAGE,
                              "the usage report's enclave is not a query enclave");
    if (x->enclave.status == LEDGER_ENCLAVE_REVOKED || rev_p || rev_m)
        return proto_err_fail(err, err_cap, LEDGER_E_USAGE,
                              "the usage report's enclave is revoked");
    return LEDGER_OK;
}

/* The split of x->fee (ledger_contract_settle.c's header). */
static void s_usage_split(s_usage_t *x)
{
    x->runner = ledger_bp_of(x->fee, x->spec.share_runner_bp);
    x->trainer = ledger_bp_of(x->fee, x->spec.share_trainer_bp);
    uint64_t donors = x->fee - x->runner - x->trainer, given = 0;
    for (size_t i = 0; i < x->model.n_parties; i++) {
        x->parts[i] = ledger_bp_of(donors, x->model.parties[i].weight_bp);
        given += x->parts[i];
    }
    x->parts[0] += donors - given;
}

static int s_usage_rules(ledger_state_t *st, const ledger_tx_t *tx, s_usage_t *x, char *err,
                         size_t err_cap)
{
    const ledger_usage_claim_t *b = &tx->body.usage_claim;
    uint64_t before = 0;
    if (proto_usage_decode(b->usage, b->usage_len, &x->u) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_USAGE, "the usage report does not decode");
    if (proto_usage_verify(&x->u) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_USAGE,
                              "the usage report's signature does not verify");
    int rc = s_usage_enclave(st, x, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    rc = ledger_buy_get(st, x->u.buy_id, &x->buy);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, LEDGER_E_ESCROW, "no such buy");
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the buy");
    if (memcmp(x->buy.model_id, x->u.model_id, 32) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_USAGE,
                              "the buy is for another model than the usage report's");
    if ((rc = s_model(st, x->buy.model_id, &x->model, &x->spec, err, err_cap)) != LEDGER_OK)
        return rc == LEDGER_E_ESCROW ? LEDGER_E_CORRUPT : rc;
    if (memcmp(x->enclave.measurement, x->model.query_measurement, 32) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_USAGE,
                              "the enclave does not run the model's query measurement");
    if ((rc = ledger_buy_claimed(st, x->buy.id, x->enclave_id, &before)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the buy's claims");
    if (x->u.count <= before)
        return proto_err_fail(err, err_cap, LEDGER_E_USAGE,
                              "the usage report adds no queries to what this enclave claimed");
    uint64_t left = x->buy.count - x->buy.claimed;
    if (left == 0)
        return proto_err_fail(err, err_cap, LEDGER_E_ESCROW, "the buy is spent");
    uint64_t more = x->u.count - before;
    x->paid = more < left ? more : left;
    x->fee = x->buy.price * x->paid; /* <= price * count, checked at buy */
    if (x->fee > x->buy.escrow)
        return proto_err_fail(err, err_cap, LEDGER_E_CORRUPT,
                              "the buy's escrow is short of its queries left");
    s_usage_split(x);
    return LEDGER_OK;
}

int ledger_contract_usage_claim_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                      size_t err_cap)
{
    s_usage_t *x = calloc(1, sizeof *x);
    if (!x)
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    int rc = s_usage_rules(st, tx, x, err, err_cap);
    free(x);
    return rc;
}

/* Credits V to ACCOUNT's role earnings. */
static int s_credit_role(ledger_state_t *st, const uint8_t account[static 32], uint64_t v,
                         char *err, size_t err_cap)
{
    uint64_t e = 0;
    int rc = ledger_earnings_role(st, account, &e);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the earnings");
    if (v == 0)
        return LEDGER_OK;
    if ((rc = s_add(&e, v, err, err_cap)) != LEDGER_OK)
        return rc;
    if ((rc = ledger_earnings_role_put(st, account, e)) != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "out of memory");
    return rc;
}

int ledger_contract_usage_claim_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                      size_t err_cap)
{
    s_usage_t *x = calloc(1, sizeof *x);
    if (!x)
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    int rc = s_usage_rules(st, tx, x, err, err_cap);
    if (rc == LEDGER_OK)
        rc = s_credit_role(st, x->enclave.runner, x->runner, err, err_cap);
    if (rc == LEDGER_OK)
        rc = s_credit_role(st, x->spec.trainer, x->trainer, err, err_cap);
    for (size_t i = 0; i < x->model.n_parties && rc == LEDGER_OK; i++) {
        uint64_t credited, paid;
        if ((rc = ledger_pool_get(st, x->model.id, (uint32_t)i, &credited, &paid)) != LEDGER_OK) {
            proto_err_fail(err, err_cap, rc, "cannot read the donor pools");
            break;
        }
        if (x->parts[i] == 0)
            continue;
        if ((rc = s_add(&credited, x->parts[i], err, err_cap)) != LEDGER_OK)
            break;
        if ((rc = ledger_pool_put(st, x->model.id, (uint32_t)i, credited, paid)) != LEDGER_OK)
            proto_err_fail(err, err_cap, rc, "out of memory");
    }
    if (rc == LEDGER_OK) {
        x->buy.claimed += (uint32_t)x->paid;
        x->buy.escrow -= x->fee;
        if ((rc = ledger_buy_put(st, &x->buy)) != LEDGER_OK ||
            (rc = ledger_buy_claimed_put(st, x->buy.id, x->enclave_id, x->u.count)) != LEDGER_OK)
            proto_err_fail(err, err_cap, rc, "out of memory");
    }
    free(x);
    return rc;
}

/* ------------------------------------------------------------ EARNINGS_CLAIM */

int ledger_contract_earnings_claim_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    memset(&body->earnings_claim, 0, sizeof body->earnings_claim);
    return ledger_body_id_decode(r, body->earnings_claim.model_id);
}

void ledger_contract_earnings_claim_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    ledger_body_bin_encode(w, body->earnings_claim.model_id, 32);
}

/* With WRITE, pays the sender's donor share of model M (its used records) and adds it to
 *TOTAL; without, only adds what it would pay. */
static int s_claim_model(ledger_state_t *st, const ledger_tx_t *tx, const ledger_model_t *m,
                         bool write, uint64_t *total, char *err, size_t err_cap)
{
    ledger_used_rec_t *recs = NULL;
    size_t n = 0;
    int rc = ledger_model_used_get(st, m->id, tx->from, &recs, &n);
    if (rc != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "cannot read the account's used records");
    for (size_t i = 0; i < n && rc == LEDGER_OK; i++) {
        uint32_t p = recs[i].party;
        uint64_t credited, pool_paid, paid;
        if (p >= m->n_parties) {
            rc = proto_err_fail(err, err_cap, LEDGER_E_CORRUPT, "a used record names no party");
            break;
        }
        if ((rc = ledger_pool_get(st, m->id, p, &credited, &pool_paid)) != LEDGER_OK ||
            (rc = ledger_record_paid(st, m->id, recs[i].data_id, &paid)) != LEDGER_OK) {
            proto_err_fail(err, err_cap, rc, "cannot read the donor pools");
            break;
        }
        uint64_t owed = ledger_record_owed(credited, m->parties[p].n_records, paid);
        if (owed == 0)
            continue;
        if ((rc = s_add(total, owed, err, err_cap)) != LEDGER_OK)
            break;
        if (write &&
            ((rc = ledger_record_paid_put(st, m->id, recs[i].data_id, paid + owed)) != LEDGER_OK ||
             (rc = ledger_pool_put(st, m->id, p, credited, pool_paid + owed)) != LEDGER_OK))
            proto_err_fail(err, err_cap, rc, "out of memory");
    }
    free(recs);
    return rc;
}

/* The claim: with WRITE pays it; the sender's account (read) into *A, the total in *TOTAL. */
static int s_earnings(ledger_state_t *st, const ledger_tx_t *tx, bool write, ledger_account_t *a,
                      uint64_t *total, char *err, size_t err_cap)
{
    const ledger_earnings_claim_t *b = &tx->body.earnings_claim;
    *total = 0;
    int rc = ledger_earnings_role(st, tx->from, total);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the earnings");
    if (memcmp(b->model_id, s_zero, 32) != 0) {
        ledger_model_t *m = malloc(sizeof *m);
        if (!m)
            return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
        rc = s_model(st, b->model_id, m, NULL, err, err_cap);
        if (rc == LEDGER_OK)
            rc = s_claim_model(st, tx, m, write, total, err, err_cap);
        free(m);
        if (rc != LEDGER_OK)
            return rc;
    }
    if (*total == 0)
        return proto_err_fail(err, err_cap, LEDGER_E_NOTHING_OWED, "nothing owed");
    if ((rc = ledger_state_account(st, tx->from, a)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the sender's account");
    if (a->balance > UINT64_MAX - *total)
        return proto_err_fail(err, err_cap, LEDGER_E_OVERFLOW, "the balance would pass UINT64_MAX");
    return LEDGER_OK;
}

int ledger_contract_earnings_claim_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                         size_t err_cap)
{
    ledger_account_t a;
    uint64_t total;
    return s_earnings(st, tx, false, &a, &total, err, err_cap);
}

int ledger_contract_earnings_claim_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                         size_t err_cap)
{
    ledger_account_t a;
    uint64_t total;
    int rc = s_earnings(st, tx, true, &a, &total, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    a.balance += total;
    if ((rc = ledger_earnings_role_put(st, tx->from, 0)) != LEDGER_OK ||
        (rc = ledger_state_set_account(st, tx->from, &a)) != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "out of memory");
    return rc;
}

/* ------------------------------------------------------------ client helpers */

uint8_t *ledger_contract_query_buy_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                      uint64_t nonce, const uint8_t model_id[static 32],
                                      uint32_t count, const uint8_t code_hash[static 32],
                                      size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    memcpy(tx.body.query_buy.model_id, model_id, 32);
    tx.body.query_buy.count = count;
    memcpy(tx.body.query_buy.code_hash, code_hash, 32);
    return ledger_data_sign(&tx, key, chain_id, nonce, LEDGER_TX_QUERY_BUY, len);
}

uint8_t *ledger_contract_usage_claim_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                        uint64_t nonce, const uint8_t *usage, size_t usage_len,
                                        size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    if (usage_len > PROTO_USAGE_MAX_BYTES || (!usage && usage_len))
        return NULL;
    tx.body.usage_claim.usage = usage;
    tx.body.usage_claim.usage_len = usage_len;
    return ledger_data_sign(&tx, key, chain_id, nonce, LEDGER_TX_USAGE_CLAIM, len);
}

uint8_t *ledger_contract_earnings_claim_tx(const proto_key_t *key,
                                           const uint8_t chain_id[static 32], uint64_t nonce,
                                           const uint8_t *model_id, size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    if (model_id)
        memcpy(tx.body.earnings_claim.model_id, model_id, 32);
    return ledger_data_sign(&tx, key, chain_id, nonce, LEDGER_TX_EARNINGS_CLAIM, len);
}

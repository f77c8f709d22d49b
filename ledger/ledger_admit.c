/*  ledger_admit: parse, replay check and batched signature check of txs (see
 *  ledger_admit.h).
 */
#include "ledger/ledger_admit.h"

#include <stdlib.h>
#include <string.h>

/*  Scratch of one signature batch. */
typedef struct {
    uint8_t hash[PROTO_SIGBATCH_CHUNK][PROTO_HASH_LEN];
    proto_sigcheck_t check[PROTO_SIGBATCH_CHUNK];
    size_t where[PROTO_SIGBATCH_CHUNK];
    bool ok[PROTO_SIGBATCH_CHUNK];
} s_batch_t;

static void s_flush(s_batch_t *b, size_t m, proto_sigkeys_t *keys, ledger_admit_verdict_t *out)
{
    if (m == 0)
        return;
    proto_sig_check_batch(keys, b->check, m, b->ok);
    for (size_t j = 0; j < m; j++)
        if (!b->ok[j]) {
            ledger_admit_verdict_t *v = &out[b->where[j]];
            v->rc = proto_err_fail(v->why, sizeof v->why, LEDGER_E_BAD_SIG,
                                   "signature does not verify");
        }
}

int ledger_admit_check(const uint8_t *const *txs, const size_t *lens, size_t n,
                       const uint8_t chain_id[static LEDGER_ID_LEN], ledger_store_t *store,
                       proto_sigkeys_t *keys, const bool *skip_sig, ledger_admit_verdict_t *out)
{
    s_batch_t *b = NULL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        ledger_admit_verdict_t *v = &out[i];
        ledger_account_t acct;
        v->why[0] = '\0';
        v->rc = ledger_tx_parse(txs[i], lens[i], chain_id, false, &v->tx, v->why, sizeof v->why);
        if (v->rc == LEDGER_OK && store &&
            ledger_store_account(store, v->tx.from, &acct) == LEDGER_OK && v->tx.nonce < acct.nonce)
            v->rc = proto_err_fail(v->why, sizeof v->why, LEDGER_E_NONCE_USED,
                                   "nonce already used (replayed transaction)");
        if (v->rc != LEDGER_OK) {
            if (!v->why[0])
                proto_err_fail(v->why, sizeof v->why, v->rc, "%s", proto_err_str(v->rc));
            continue;
        }
        if (skip_sig && skip_sig[i])
            continue;
        if (!b && !(b = malloc(sizeof *b)))
            return LEDGER_E_NOMEM;
        ledger_tx_sighash(&v->tx, b->hash[m]);
        b->check[m] = (proto_sigcheck_t){
            .pk = v->tx.from, .sig = v->tx.sig, .msg = b->hash[m], .len = PROTO_HASH_LEN};
        b->where[m++] = i;
        if (m == PROTO_SIGBATCH_CHUNK) {
            s_flush(b, m, keys, out);
            m = 0;
        }
    }
    if (b)
        s_flush(b, m, keys, out);
    free(b);
    return LEDGER_OK;
}

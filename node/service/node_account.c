/*  node_account: loading the node's own signing account and submitting what it signs
 *  (see node_account.h). */
#include "node/service/node_account.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_state.h"
#include "node/app/node_app.h"
#include "node/app/node_datadir.h"
#include "node/service/node_ledger_local.h"
#include "proto/proto_hex.h"
#include "proto/proto_keystore.h"

int node_account_load(const char *datadir, const char *id_hex, proto_key_t **key, char *err,
                      size_t err_cap)
{
    *key = NULL;
    uint8_t want[32];
    if (id_hex && (strlen(id_hex) != 64 || proto_hex_decode(id_hex, want, sizeof want) != 0))
        return proto_err_fail(err, err_cap, NODE_E_PARAMS, "account '%s' is not 64 hex characters",
                              id_hex);
    node_datadir_keyinfo_t *list = NULL;
    size_t n = 0, accounts = 0;
    char msg[256];
    if (node_datadir_key_list(datadir, &list, &n, msg, sizeof msg) != 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot list the account keys: %s", msg);
    const node_datadir_keyinfo_t *pick = NULL;
    for (size_t i = 0; i < n; i++) {
        if (list[i].rc != PROTO_OK || list[i].info.kind != PROTO_KS_ACCOUNT)
            continue;
        accounts++;
        if (!id_hex || memcmp(list[i].info.pub, want, 32) == 0)
            pick = &list[i];
    }
    int rc = 0;
    if (!pick && id_hex)
        rc = proto_err_fail(err, err_cap, NODE_E_NOT_FOUND, "no key for account %s in %s/accounts/",
                            id_hex, datadir);
    else if (!pick || (!id_hex && accounts > 1))
        proto_err_fail(err, err_cap, 0, "%s account keys in %s/accounts/%s",
                       accounts ? "several" : "no", datadir,
                       accounts ? ": choose one with --account ID" : "");
    else {
        const char *pass = pick->info.encrypted ? getenv("GENIE_PASSPHRASE") : NULL;
        if (pick->info.encrypted && !pass)
            rc =
                proto_err_fail(err, err_cap, NODE_E_FAILED,
                               "the account key %s is encrypted: set GENIE_PASSPHRASE", pick->path);
        else if ((rc = proto_keystore_load(pick->path, pass, key, NULL)) != PROTO_OK)
            rc = proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot open the account key %s: %s",
                                pick->path, proto_err_str(rc));
    }
    free(list);
    return rc;
}

int node_account_nonce(node_app_t *app, uint64_t *nonce, char *err, size_t err_cap)
{
    const proto_key_t *key = node_app_account(app);
    node_ledger_t *ledger = node_app_ledger(app);
    if (!key)
        return proto_err_fail(err, err_cap, NODE_E_NO_ACCOUNT,
                              "this node has no account key (see genie-node --help, --account)");
    if (!ledger)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "this node has no ledger");
    int rc = node_ledger_local_next_nonce(ledger, proto_key_public(key), nonce);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the account's nonce: %s",
                              proto_err_str(rc));
    return 0;
}

int node_account_submit(node_app_t *app, const uint8_t *tx, size_t len, uint8_t txid[static 32],
                        char *err, size_t err_cap)
{
    node_ledger_t *ledger = node_app_ledger(app);
    if (!ledger)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "this node has no ledger");
    if (node_ledger_local_syncing(ledger))
        return proto_err_fail(err, err_cap, LEDGER_E_SYNCING,
                              "the node is behind the network: try again when it has caught up");
    char why[LEDGER_ERR_MAX] = "";
    int rc = node_ledger_local_submit(ledger, tx, len, txid, why, sizeof why);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "the tx was refused: %s",
                              why[0] ? why : proto_err_str(rc));
    return 0;
}

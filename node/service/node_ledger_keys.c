/*  node_ledger_keys: the validator key and the signing record of the node's ledger at
 *  start-up (see node_ledger_int.h): --validator-key FILE (passphrase from
 *  $GENIE_PASSPHRASE when encrypted), or the first unencrypted account key in
 *  DATADIR/accounts/ that is an authority; the signing record restored from
 *  DATADIR/ledger/signstate (node_signlog.h) into the consensus core.
 */
#include <stdlib.h>

#include "node/service/node_ledger_int.h"
#include "proto/proto_err.h"
#include "proto/proto_keystore.h"
#include "proto/proto_log.h"

#define SIGNSTATE_MAX (4u * 1024 * 1024)     /* one signing record */
#define SIGNSTATE_LOG_MAX (8u * 1024 * 1024) /* the log is rewritten before it passes this */

static bool s_is_authority(node_ledger_t *self, const uint8_t pub[static 32])
{
    ledger_valset_t vs;
    return nl_valset(self, &vs) == 0 && ledger_valset_find(&vs, pub) >= 0;
}

int nl_key_from_file(node_ledger_t *self, const char *path, char *err, size_t err_cap)
{
    proto_ks_info_t info;
    int rc = proto_keystore_inspect(path, &info);
    if (rc != PROTO_OK)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "--validator-key %s: %s", path,
                              proto_keystore_strerror(rc));
    const char *pass = info.encrypted ? getenv("GENIE_PASSPHRASE") : NULL;
    if (info.encrypted && (!pass || !pass[0]))
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "--validator-key %s is encrypted: set GENIE_PASSPHRASE", path);
    rc = proto_keystore_load(path, pass, &self->vkey, &info);
    if (rc != PROTO_OK)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "--validator-key %s: %s", path,
                              proto_keystore_strerror(rc));
    if (!s_is_authority(self, proto_key_public(self->vkey)))
        GLOG(WARN, LEDGER,
             "--validator-key %s is not an authority of this chain (yet): "
             "following until it is voted in",
             path);
    return 0;
}

int nl_key_from_accounts(node_ledger_t *self, char *err, size_t err_cap)
{
    const char *datadir = self->deps.datadir;
    node_datadir_keyinfo_t *list = NULL;
    size_t n = 0;
    char msg[512];
    if (node_datadir_key_list(datadir, &list, &n, msg, sizeof msg) != 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot list %s/accounts: %s", datadir,
                              msg);
    bool encrypted_match = false;
    for (size_t i = 0; i < n && !self->vkey; i++) {
        if (list[i].rc != PROTO_OK || list[i].info.kind != PROTO_KS_ACCOUNT ||
            !s_is_authority(self, list[i].info.pub))
            continue;
        if (list[i].info.encrypted) {
            encrypted_match = true;
            continue;
        }
        int rc = proto_keystore_load(list[i].path, NULL, &self->vkey, NULL);
        if (rc != PROTO_OK)
            GLOG(WARN, LEDGER, "cannot load %s: %s", list[i].path, proto_keystore_strerror(rc));
    }
    free(list);
    if (self->vkey)
        return 0;
    return proto_err_fail(err, err_cap, NODE_E_FAILED,
                          "--role authority but no validator key: %s/accounts/ holds no "
                          "unencrypted key of an authority of this chain%s (copy the "
                          "authority's key file there, or give --validator-key FILE)",
                          datadir,
                          encrypted_match ? " (an encrypted one needs --validator-key)" : "");
}

int nl_signlog_restore(node_ledger_t *self, char *err, size_t err_cap)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char msg[512];
    self->signlog = node_signlog_open(self->signstate, SIGNSTATE_MAX, SIGNSTATE_LOG_MAX, &data,
                                      &len, msg, sizeof msg);
    if (!self->signlog)
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "%s (refusing to sign without the signing record: it protects "
                              "against double-signing)",
                              msg);
    if (!data)
        return 0;
    int rc = ledger_cons_restore(self->cons, data, len);
    free(data);
    if (rc != PROTO_OK)
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "%s is not a valid signing record (%s): refusing to sign without "
                              "it (it protects against double-signing)",
                              self->signstate, proto_err_str(rc));
    GLOG(INFO, LEDGER, "signing record restored from %s", self->signstate);
    return 0;
}

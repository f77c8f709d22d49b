/*  node_ledger_enclave: the enclave registry's JSON-RPC method (registered with the
 *  ledger's methods by node_ledger_rpc.c).
 *
 *    enclave_list {kind?: "validation"|"training"|"query"}
 *        -> [{id, runner, kind, measurement, sign_pk, box_pk, platform_pk, height,
 *             status: "active"|"revoked", revoked_height (when revoked),
 *             measurement_revoked, platform_revoked,
 *             audits: [{auditor, report_hash, verdict: "ok"|"bad", height}, ...]}, ...]
 *        in registration order, read from committed state. A bad kind answers -32602.
 */
#ifndef GENIE_NODE_LEDGER_ENCLAVE_H
#define GENIE_NODE_LEDGER_ENCLAVE_H

#include <jansson.h>
#include <stddef.h>

#include "node/app/node_app.h"

/*  The enclave_list method (a node_app_method_fn). */
json_t *node_ledger_enclave_list(node_app_t *app, const char *method, json_t *params, int *code,
                                 char *err, size_t cap);

#endif

/*  node_data_int: what the data owner's service files share (node_data.c: the store;
 *  node_data_add.c: the data_add flow; node_data_rpc.c: the other RPC methods). Not for
 *  other modules.
 */
#ifndef GENIE_NODE_DATA_INT_H
#define GENIE_NODE_DATA_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "node/app/node_datadir.h"
#include "ledger/ledger_state.h"
#include "node/service/node_data.h"

#define NODE_DATA_CANDIDATES 4 /* validation enclaves data_add tries in turn */

/*  One data_add waiting for its validation enclave. Every secret is wiped when it ends. */
typedef struct {
    bool used;
    node_data_t *owner;
    uint64_t rpc_token; /* its deferred RPC answer (0: none) */
    uint8_t salt[32];
    uint8_t commit[32];
    uint8_t *plain; /* the file (sodium_malloc'd) until the report is checked */
    size_t plain_len;
    uint64_t size;
    uint32_t type;
    char name[NODE_DATA_NAME_MAX + 1];
    uint8_t cand[NODE_DATA_CANDIDATES][32];    /* enclave ids to try, in order */
    uint8_t cand_pk[NODE_DATA_CANDIDATES][32]; /* their registered signing keys */
    uint8_t cand_box[NODE_DATA_CANDIDATES][32];
    bool cand_local[NODE_DATA_CANDIDATES]; /* this node's runner runs it */
    size_t n_cand, at;                     /* the candidate being asked */
    double t_start, t_read, t_sent; /* monotonic ms: the call, the file read, the last seal */
    char last_why[192];
} node_data_add_t;

struct node_data_t {
    node_app_t *app; /* NULL: the store alone */
    char dir[NODE_DATADIR_PATH_MAX];
    char blobs[NODE_DATADIR_PATH_MAX];
    char records[NODE_DATADIR_PATH_MAX];
    node_data_add_t adds[NODE_DATA_ADDS_MAX];
};

/*  Wipes and frees what ADD holds and marks it free (its RPC is not answered here). */
void node_data_add_clear(node_data_add_t *add);

/*  A read-only state over APP's committed ledger (caller destroys), or NULL without a
 *  ledger (or memory). node_data_rpc.c. */
ledger_state_t *node_data_ledger_state(node_app_t *app);

/*  The data_add RPC method (node_data_add.c). */
json_t *node_data_rpc_add(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                          size_t cap);

#endif

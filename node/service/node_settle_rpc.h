/*  node_settle_rpc: the control API of training jobs, published models, paid queries and
 *  settlement (issue 16; the contracts are ledger/ledger_model.h's). Reads come from the
 *  committed ledger; txs are signed with the node account (node_account.h) and submitted
 *  through the node's own ledger.
 *
 *  Methods (params as a JSON object; ids are 64 hex characters):
 *    train_start {spec_id, coordinator, rounds, query_measurement}
 *        -> {txid, job_id}                                        (TRAIN_START)
 *    models {spec_id?} -> [model...]      model_show {model_id} -> model + job + spec
 *    query_buy {model_id, count} -> {txid, buy_id, count, price, cost, code_file}
 *        A fresh 32-byte access code (randombytes_buf) is written first, atomically and
 *        mode 0600, to DATADIR/access/<buy id>.code (64 hex characters and a newline),
 *        then QUERY_BUY carries its hash; the code is wiped from memory. A refused buy's
 *        file is removed.
 *    buy_show {buy_id} -> the buy and its escrow
 *    earnings {} -> {account, balance, role, models [{model_id, n_records, owed}], owed}
 *    claim {model_id?} -> {txids [...], role, models [...], owed}: with a model id one
 *        EARNINGS_CLAIM of it; without, one per model where the account is owed a donor
 *        share (the first also takes the role earnings), or one role-only claim; refused
 *        when nothing is owed.
 */
#ifndef GENIE_NODE_SETTLE_RPC_H
#define GENIE_NODE_SETTLE_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

typedef struct node_app_t node_app_t;

#define NODE_SETTLE_ACCESS_DIR "access"

/*  Registers the methods above on APP. 0, or node_app_methods_add's code. */
int node_settle_register(node_app_t *app);

/*  The path of the access code of BUY_ID in DATADIR into OUT (CAP bytes). 0, or NODE_E_TOO_BIG
 *  when it does not fit. */
int node_settle_access_path(const char *datadir, const uint8_t buy_id[static 32], char *out,
                            size_t cap) PROTO_WUR;

/*  Reads the access code of BUY_ID kept in DATADIR into CODE (32 bytes; the caller wipes
 *  it). 0; NODE_E_NOT_FOUND when there is no such file; NODE_E_CORRUPT when it is not 64
 *  hex characters (and a newline), or readable by group or others; with ERR filled. */
int node_settle_access_load(const char *datadir, const uint8_t buy_id[static 32],
                            uint8_t code[static 32], char *err, size_t err_cap) PROTO_WUR;

#endif

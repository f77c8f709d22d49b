/*  ledger_data_int: what the data owner's contracts (ledger_contract_data.c,
 *  ledger_contract_market.c) share with their state modules (ledger_data.c, and
 *  ledger_data_body.c for the body lists): state keys, the body list readers, record writers, and
 * the contract rows' functions (the table in ledger_contract.c). Not for other modules (they use
 * ledger_data.h).
 */
#ifndef GENIE_LEDGER_DATA_INT_H
#define GENIE_LEDGER_DATA_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_data.h"
#include "ledger/ledger_tx.h"
#include "proto/proto_mp.h"

#define LEDGER_DATA_REC_LEN (32 + 4 + 4 + 32 + 32 + 8 + 1 + 8)
#define LEDGER_DATA_USE_LEN (1 + 8 + 32 + 32 + 32)
#define LEDGER_DONOR_REC_LEN (32 + 32 + 8 + 8 + 4)
#define LEDGER_DATA_KEY1_LEN (1 + 32)
#define LEDGER_DATA_KEY2_LEN (1 + 32 + 32)

/*  KEY = PREFIX || A (LEDGER_DATA_KEY1_LEN bytes). */
void ledger_data_key1(uint8_t key[LEDGER_DATA_KEY1_LEN], uint8_t prefix,
                      const uint8_t a[static 32]);
/*  KEY = PREFIX || A || B (LEDGER_DATA_KEY2_LEN bytes). */
void ledger_data_key2(uint8_t key[LEDGER_DATA_KEY2_LEN], uint8_t prefix, const uint8_t a[static 32],
                      const uint8_t b[static 32]);

/* ---- body lists (decode_body reads them with these; check/apply copy them out) ---- */

/*  Reads an array of at most MAX_N strings of at most CAP - 1 bytes into OUT (rows of CAP
 *  bytes, NUL-terminated); *N their count. PROTO_OK or the reader's error. */
int ledger_rd_strs(proto_rd_t *r, uint32_t max_n, char *out, size_t cap, uint32_t *n);
/*  Reads an array of at most MAX_N 32-byte bins into OUT; *N their count. */
int ledger_rd_bin32s(proto_rd_t *r, uint32_t max_n, uint8_t (*out)[32], uint32_t *n);
/*  Reads an array of at most MAX_N strings of at most MAX_LEN bytes from R into the view V
 *  (pointing into R's buffer). PROTO_OK or the reader's error. */
int ledger_list_rd_str(proto_rd_t *r, uint32_t max_n, size_t max_len, ledger_list_view_t *v);
/*  Reads an array of at most MAX_N 32-byte bins from R into V. */
int ledger_list_rd_bin32(proto_rd_t *r, uint32_t max_n, ledger_list_view_t *v);
/*  Copies a string list view (decoded with MAX_LEN <= CAP - 1) into OUT (rows of CAP
 *  bytes, NUL-terminated, room for at least v->n rows). PROTO_OK or the reader's error. */
int ledger_list_strs(const ledger_list_view_t *v, char *out, size_t cap);
/*  Copies a bin32 list view into OUT (room for v->n rows). */
int ledger_list_bin32(const ledger_list_view_t *v, uint8_t (*out)[32]);
/*  The consent B sets, as the record it will become (owner and height not set). PROTO_OK
 *  or the reader's error. */
int ledger_consent_from_body(const ledger_consent_set_t *b, ledger_consent_t *out);
/*  The spec B registers (id, trainer, height, n_donors not set). */
int ledger_spec_from_body(const ledger_spec_register_t *b, ledger_spec_t *out);

/* ---- records ---- */

/*  Lists are indexed (ledger_data.c): the length u32 at KEY, entry I at KEY || I (u32).
 *  The length of the list at KEY into *N (0 when absent); LEDGER_E_CORRUPT past MAX. */
int ledger_data_list_count(ledger_state_t *st, const uint8_t *key, size_t klen, size_t max,
                           size_t *n) PROTO_WUR;
/*  LEDGER_OK if the list at KEY (length at most MAX) holds fewer than ROOM entries; else
 *  LEDGER_E_DATA_RULE with FULL_MSG in ERR, or a store error (LEDGER_E_CORRUPT past MAX)
 *  with READ_MSG in ERR (ERR_CAP bytes, may be NULL). Its length into *N when N is not NULL (0 on a
 * store error). */
int ledger_data_list_room(ledger_state_t *st, const uint8_t *key, size_t klen, size_t max,
                          size_t room, const char *read_msg, const char *full_msg, char *err,
                          size_t err_cap, size_t *n) PROTO_WUR;
/*  The 32-byte id list at KEY: *IDS (malloc'd, NULL when empty) of *N. LEDGER_E_CORRUPT if
 *  its length is past MAX or an entry is missing or not 32 bytes. */
int ledger_data_ids(ledger_state_t *st, const uint8_t *key, size_t klen, size_t max, uint8_t **ids,
                    size_t *n) PROTO_WUR;
/*  Appends ID to the list at KEY, refusing (LEDGER_E_DATA_RULE, FULL_MSG in ERR) when it
 *  already holds MAX. */
int ledger_data_ids_append(ledger_state_t *st, const uint8_t *key, size_t klen, size_t max,
                           const uint8_t id[static 32], const char *full_msg, char *err,
                           size_t err_cap) PROTO_WUR;
/*  Writes record D under its id. */
int ledger_data_put(ledger_state_t *st, const ledger_data_t *d) PROTO_WUR;
/*  Appends an audit trail entry to record ID's trail: LEDGER_E_DATA_RULE when the trail
 *  is full (LEDGER_DATA_USES_MAX - 1 entries: the last slot is kept for WITHDRAWN, which
 *  always fits). SPEC may be NULL (zero). */
int ledger_data_use_add(ledger_state_t *st, const uint8_t id[static 32], uint32_t use,
                        const uint8_t actor[static 32], const uint8_t *spec,
                        const uint8_t txid[static 32], uint64_t height, char *err,
                        size_t err_cap) PROTO_WUR;
/*  Writes consent C (its owner and data id are the key). */
int ledger_consent_put(ledger_state_t *st, const ledger_consent_t *c) PROTO_WUR;
int ledger_trainer_put(ledger_state_t *st, const ledger_trainer_t *t) PROTO_WUR;
/*  Writes spec S under its id (n_donors is not stored: the donor list is). */
int ledger_spec_put(ledger_state_t *st, const ledger_spec_t *s) PROTO_WUR;
int ledger_donor_put(ledger_state_t *st, const ledger_donor_t *d) PROTO_WUR;
/*  LEDGER_OK if (SPEC, DATA) is a donor, LEDGER_E_NOT_FOUND if not, or a store error. */
int ledger_donor_get(ledger_state_t *st, const uint8_t spec_id[static 32],
                     const uint8_t data_id[static 32], ledger_donor_t *out) PROTO_WUR;
int ledger_key_grant_put(ledger_state_t *st, const uint8_t data_id[static 32],
                         const uint8_t enclave_id[static 32], const uint8_t spec_id[static 32],
                         const uint8_t *grant, size_t len) PROTO_WUR;

/* ---- shared rules ---- */

/*  The enclave ID, registered, of KIND, active, platform key and measurement not revoked,
 *  into *E; else CODE (or a store error) with the reason in ERR. */
int ledger_data_enclave_usable(ledger_state_t *st, const uint8_t id[static 32], uint32_t kind,
                               int code, ledger_enclave_t *e, char *err, size_t err_cap) PROTO_WUR;
/*  Record ID, owned by FROM, into *D (any status); else LEDGER_E_DATA_RULE (missing, or
 *  someone else's) or a store error, with the reason in ERR. */
int ledger_data_owned(ledger_state_t *st, const uint8_t id[static 32],
                      const uint8_t from[static 32], ledger_data_t *d, char *err,
                      size_t err_cap) PROTO_WUR;
/*  Sets TX's chain id, nonce and type and signs it with KEY (ledger_tx_sign's result). */
uint8_t *ledger_data_sign(ledger_tx_t *tx, const proto_key_t *key,
                          const uint8_t chain_id[static 32], uint64_t nonce, uint32_t type,
                          size_t *len);

/* ---- the rows' functions ---- */

LEDGER_CONTRACT_ROW_DECL(data_register)
LEDGER_CONTRACT_ROW_DECL(data_withdraw)
LEDGER_CONTRACT_ROW_DECL(consent_set)
LEDGER_CONTRACT_ROW_DECL(consent_revoke)
LEDGER_CONTRACT_ROW_DECL(trainer_register)
LEDGER_CONTRACT_ROW_DECL(spec_register)
LEDGER_CONTRACT_ROW_DECL(donor_register)
LEDGER_CONTRACT_ROW_DECL(key_authorize)

#endif

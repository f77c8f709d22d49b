/*  ledger_enclave_int: what the enclave registry's contracts (ledger_contract_enclave.c)
 *  share with its state module (ledger_enclave.c): state keys, the record codec, optional
 *  reads. Not for other modules (they use ledger_contract.h's reads).
 */
#ifndef GENIE_LEDGER_ENCLAVE_INT_H
#define GENIE_LEDGER_ENCLAVE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_contract.h"

#define LEDGER_ENCLAVE_REC_LEN (32 + 4 + 32 * 4 + 8 + 1 + 8)
#define LEDGER_ENCLAVE_AUDIT_LEN (32 + 32 + 1 + 8)
#define LEDGER_ENCLAVE_TKEY_LEN (2 + LEDGER_ID_LEN) /* 'r' / 'w' what target */
#define LEDGER_ENCLAVE_EKEY_LEN (1 + LEDGER_ID_LEN) /* 'e' id, 'd' measurement */

/*  KEY (LEDGER_ENCLAVE_EKEY_LEN bytes) = PREFIX || ID. */
void ledger_enclave_key(uint8_t *key, uint8_t prefix, const uint8_t id[static LEDGER_ID_LEN]);
/*  KEY = PREFIX || WHAT (one byte) || TARGET. */
void ledger_enclave_tkey(uint8_t key[LEDGER_ENCLAVE_TKEY_LEN], uint8_t prefix, uint32_t what,
                         const uint8_t target[static LEDGER_ID_LEN]);
/*  E's record (its id is the key, not part of the record). */
void ledger_enclave_rec_encode(const ledger_enclave_t *e, uint8_t out[LEDGER_ENCLAVE_REC_LEN]);
/*  The value at KEY into *VAL (malloc'd) / *VLEN; *VAL NULL and LEDGER_OK when absent. */
int ledger_enclave_get_opt(ledger_state_t *st, const uint8_t *key, size_t klen, uint8_t **val,
                           size_t *vlen) PROTO_WUR;
/*  The directory: *IDS (malloc'd, NULL when empty) of *N 32-byte ids, registration order.
 *  LEDGER_E_CORRUPT if its length is not a multiple of 32 or past LEDGER_ENCLAVES_MAX. */
int ledger_enclave_dir(ledger_state_t *st, uint8_t **ids, size_t *n) PROTO_WUR;

#endif

/*  enclave_grant: a key grant, the data owner's authorization for one training enclave to
 *  open one stored blob for one model spec (issue 15, key-authorization donation).
 *
 *  A grant is SALT (32) || DATA KEY (32) sealed with enclave_seal_to (enclave_seal.h) to
 *  the training enclave's box key under the context
 *      "genie/key-grant/v1" (18 bytes) || spec id (32) || data id (32),
 *  so it is ENCLAVE_GRANT_LEN (112) bytes, opens only inside that enclave, and only for
 *  that spec and that record (a grant made for another spec or record is refused). The
 *  owner publishes it on the ledger in a KEY_AUTHORIZE tx (ledger_key_grant_get reads it
 *  back) and sends it with a DONATE_KEYED request; the runner that relays either sees only
 *  the sealed bytes. With the salt the enclave recomputes the registered commitment over
 *  the data it decrypts from the blob (enclave_blob.h) and so checks it is the registered
 *  record.
 *
 *  No allocation on the open side beyond the caller's buffers; no system call besides the
 *  random generator's getrandom when sealing.
 */
#ifndef GENIE_ENCLAVE_GRANT_H
#define GENIE_ENCLAVE_GRANT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

/* Length of a grant: enclave_seal_to_len(32 + 32). */
#define ENCLAVE_GRANT_LEN (64u + 48u)
/* The largest grant a request or a tx may carry (room for a later format). */
#define ENCLAVE_GRANT_MAX 256u
/* Length of a grant context. */
#define ENCLAVE_GRANT_CONTEXT_LEN (18u + 32u + 32u)

/*  Writes the context of a grant, "genie/key-grant/v1" || SPEC_ID || DATA_ID, into OUT. */
void enclave_grant_context(const uint8_t spec_id[static 32], const uint8_t data_id[static 32],
                           uint8_t out[static ENCLAVE_GRANT_CONTEXT_LEN]);

/*  Owner's side: seals SALT and the data KEY to the training enclave's box key BOX_PK for
 *  (SPEC_ID, DATA_ID). *OUT (malloc'd, ENCLAVE_GRANT_LEN bytes, caller frees; ciphertext
 *  only) and *OUT_LEN. Returns 0; PROTO_E_CRYPTO (BOX_PK is a low-order point);
 *  PROTO_E_NOMEM. *OUT is NULL on failure. The plaintext copy is wiped. */
int enclave_grant_seal(const uint8_t box_pk[static 32], const uint8_t spec_id[static 32],
                       const uint8_t data_id[static 32], const uint8_t salt[static 32],
                       const uint8_t key[static 32], uint8_t **out, size_t *out_len) PROTO_WUR;

/*  Enclave's side: opens GRANT (LEN bytes) with the enclave's box key pair (BOX_PK, BOX_SK)
 *  for (SPEC_ID, DATA_ID) into SALT and KEY (secrets: the caller wipes them). Returns 0, or
 *  ENCLAVE_E_GRANT (not ENCLAVE_GRANT_LEN bytes, sealed to another enclave, made for
 *  another spec or record, or tampered); on failure SALT and KEY are wiped. */
int enclave_grant_open(const uint8_t box_pk[static 32], const uint8_t box_sk[static 32],
                       const uint8_t spec_id[static 32], const uint8_t data_id[static 32],
                       const uint8_t *grant, size_t len, uint8_t salt[static 32],
                       uint8_t key[static 32]) PROTO_WUR;

#endif

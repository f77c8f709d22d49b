/*  ledger_contract: the native contract table (see ledger_contract.h). One row per tx
 *  type; a new contract is one more row here. */
#include "ledger/ledger_contract.h"

#include <string.h>

#include "ledger/ledger_data_int.h"
#include "ledger/ledger_model_int.h"

/* ---- bodies of one field ---- */

int ledger_body_bin_decode(proto_rd_t *r, size_t max, const uint8_t **bytes, size_t *len)
{
    *bytes = NULL;
    *len = 0;
    int rc = proto_rd_array_exact(r, 1);
    return rc == PROTO_OK ? proto_rd_bin(r, max, bytes, len) : rc;
}

int ledger_body_id_decode(proto_rd_t *r, uint8_t id[static 32])
{
    memset(id, 0, 32);
    int rc = proto_rd_array_exact(r, 1);
    return rc == PROTO_OK ? proto_rd_bin_exact(r, 32, id) : rc;
}

void ledger_body_bin_encode(proto_wr_t *w, const uint8_t *bytes, size_t len)
{
    proto_wr_array(w, 1);
    proto_wr_bin(w, bytes, len);
}

/* ---- the table ---- */

/* Contract NAME's row for TYPE with CHECK and ADMIT (either may be NULL) and no end_block:
   a data owner's contract (ledger_contract_data.c, ledger_contract_market.c), issue 16's
   (ledger_contract_model.c, ledger_contract_settle.c), or ENCLAVE_RETIRE. */
#define ROW(TYPE, NAME, CHECK, ADMIT)                                                              \
    {                                                                                              \
        .type = (TYPE), .name = #NAME, .decode_body = ledger_contract_##NAME##_decode,             \
        .encode_body = ledger_contract_##NAME##_encode, .check = (CHECK), .admit = (ADMIT),        \
        .apply = ledger_contract_##NAME##_apply, .end_block = NULL,                                \
    }
#define DATA_ROW(TYPE, NAME)                                                                       \
    ROW(TYPE, NAME, ledger_contract_##NAME##_check, ledger_contract_##NAME##_admit)
/* A row whose body's decode is its whole stateless check. */
#define NOCHECK_ROW(TYPE, NAME) ROW(TYPE, NAME, NULL, ledger_contract_##NAME##_admit)

static const ledger_contract_t s_contracts[] = {
    {
        .type = LEDGER_TX_TRANSFER,
        .name = "transfer",
        .decode_body = ledger_contract_transfer_decode,
        .encode_body = ledger_contract_transfer_encode,
        .check = ledger_contract_transfer_check,
        .admit = ledger_contract_transfer_admit,
        .apply = ledger_contract_transfer_apply,
        .end_block = NULL,
    },
    {
        .type = LEDGER_TX_AUTH_VOTE,
        .name = "auth_vote",
        .decode_body = ledger_contract_auth_vote_decode,
        .encode_body = ledger_contract_auth_vote_encode,
        .check = ledger_contract_auth_vote_check,
        .admit = ledger_contract_auth_vote_admit,
        .apply = ledger_contract_auth_vote_apply,
        .end_block = ledger_contract_authority_end_block,
    },
    {
        .type = LEDGER_TX_ENCLAVE_REGISTER,
        .name = "enclave_register",
        .decode_body = ledger_contract_enclave_register_decode,
        .encode_body = ledger_contract_enclave_register_encode,
        .check = ledger_contract_enclave_register_check,
        .admit = ledger_contract_enclave_register_admit,
        .apply = ledger_contract_enclave_register_apply,
        .end_block = NULL,
    },
    {
        .type = LEDGER_TX_ENCLAVE_AUDIT,
        .name = "enclave_audit",
        .decode_body = ledger_contract_enclave_audit_decode,
        .encode_body = ledger_contract_enclave_audit_encode,
        .check = ledger_contract_enclave_audit_check,
        .admit = ledger_contract_enclave_audit_admit,
        .apply = ledger_contract_enclave_audit_apply,
        .end_block = NULL,
    },
    {
        .type = LEDGER_TX_ENCLAVE_REVOKE,
        .name = "enclave_revoke",
        .decode_body = ledger_contract_enclave_revoke_decode,
        .encode_body = ledger_contract_enclave_revoke_encode,
        .check = ledger_contract_enclave_revoke_check,
        .admit = ledger_contract_enclave_revoke_admit,
        .apply = ledger_contract_enclave_revoke_apply,
        .end_block = NULL,
    },
    DATA_ROW(LEDGER_TX_DATA_REGISTER, data_register),
    NOCHECK_ROW(LEDGER_TX_DATA_WITHDRAW, data_withdraw),
    DATA_ROW(LEDGER_TX_CONSENT_SET, consent_set),
    NOCHECK_ROW(LEDGER_TX_CONSENT_REVOKE, consent_revoke),
    ROW(LEDGER_TX_TRAINER_REGISTER, trainer_register, ledger_contract_trainer_register_check, NULL),
    DATA_ROW(LEDGER_TX_SPEC_REGISTER, spec_register),
    NOCHECK_ROW(LEDGER_TX_DONOR_REGISTER, donor_register),
    DATA_ROW(LEDGER_TX_KEY_AUTHORIZE, key_authorize),
    NOCHECK_ROW(LEDGER_TX_ENCLAVE_RETIRE, enclave_retire),
    DATA_ROW(LEDGER_TX_TRAIN_START, train_start),
    NOCHECK_ROW(LEDGER_TX_MODEL_PUBLISH, model_publish),
    DATA_ROW(LEDGER_TX_QUERY_BUY, query_buy),
    NOCHECK_ROW(LEDGER_TX_USAGE_CLAIM, usage_claim),
    NOCHECK_ROW(LEDGER_TX_EARNINGS_CLAIM, earnings_claim),
};

const ledger_contract_t *ledger_contract_find(uint32_t type)
{
    for (size_t i = 0; i < sizeof s_contracts / sizeof s_contracts[0]; i++)
        if (s_contracts[i].type == type)
            return &s_contracts[i];
    return NULL;
}

const ledger_contract_t *ledger_contract_all(size_t *count)
{
    *count = sizeof s_contracts / sizeof s_contracts[0];
    return s_contracts;
}

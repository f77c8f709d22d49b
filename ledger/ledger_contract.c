/*  ledger_contract: the native contract table (see ledger_contract.h). One row per tx
 *  type; a new contract is one more row here. */
#include "ledger/ledger_contract.h"
#include "ledger/ledger_data_int.h"
#include "ledger/ledger_model_int.h"

/* A data owner's contract (ledger_contract_data.c, ledger_contract_market.c), or issue 16's
   (ledger_contract_model.c, ledger_contract_settle.c). */
#define DATA_ROW(TYPE, NAME)                                                                       \
    {                                                                                              \
        .type = (TYPE), .name = #NAME, .decode_body = ledger_contract_##NAME##_decode,             \
        .encode_body = ledger_contract_##NAME##_encode, .check = ledger_contract_##NAME##_check,   \
        .admit = ledger_contract_##NAME##_admit, .apply = ledger_contract_##NAME##_apply,          \
        .end_block = NULL,                                                                         \
    }

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
    DATA_ROW(LEDGER_TX_DATA_WITHDRAW, data_withdraw),
    DATA_ROW(LEDGER_TX_CONSENT_SET, consent_set),
    DATA_ROW(LEDGER_TX_CONSENT_REVOKE, consent_revoke),
    DATA_ROW(LEDGER_TX_TRAINER_REGISTER, trainer_register),
    DATA_ROW(LEDGER_TX_SPEC_REGISTER, spec_register),
    DATA_ROW(LEDGER_TX_DONOR_REGISTER, donor_register),
    DATA_ROW(LEDGER_TX_KEY_AUTHORIZE, key_authorize),
    {
        .type = LEDGER_TX_ENCLAVE_RETIRE,
        .name = "enclave_retire",
        .decode_body = ledger_contract_enclave_retire_decode,
        .encode_body = ledger_contract_enclave_retire_encode,
        .check = ledger_contract_enclave_retire_check,
        .admit = ledger_contract_enclave_retire_admit,
        .apply = ledger_contract_enclave_retire_apply,
        .end_block = NULL,
    },
    DATA_ROW(LEDGER_TX_TRAIN_START, train_start),
    DATA_ROW(LEDGER_TX_MODEL_PUBLISH, model_publish),
    DATA_ROW(LEDGER_TX_QUERY_BUY, query_buy),
    DATA_ROW(LEDGER_TX_USAGE_CLAIM, usage_claim),
    DATA_ROW(LEDGER_TX_EARNINGS_CLAIM, earnings_claim),
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

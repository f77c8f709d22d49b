/*  proto_err: names of every layer's error codes (see proto_err.h for the convention). */
#include "proto/proto_err.h"

#include <stdarg.h>
#include <stdio.h>

static const char *s_ledger_name(int err)
{
    switch (err) {
    case LEDGER_E_MALFORMED:
        return "malformed";
    case LEDGER_E_TOO_BIG:
        return "too-big";
    case LEDGER_E_UNKNOWN_TYPE:
        return "unknown-type";
    case LEDGER_E_WRONG_CHAIN:
        return "wrong-chain";
    case LEDGER_E_BAD_SIG:
        return "bad-signature";
    case LEDGER_E_NONCE_USED:
        return "nonce-used";
    case LEDGER_E_NONCE_GAP:
        return "nonce-gap";
    case LEDGER_E_INVALID:
        return "invalid";
    case LEDGER_E_FUNDS:
        return "insufficient-funds";
    case LEDGER_E_OVERFLOW:
        return "overflow";
    case LEDGER_E_NOT_AUTHORITY:
        return "not-authority";
    case LEDGER_E_AUTH_RULE:
        return "authority-rule";
    case LEDGER_E_DUPLICATE:
        return "duplicate";
    case LEDGER_E_NONCE_TAKEN:
        return "nonce-taken";
    case LEDGER_E_FULL:
        return "full";
    case LEDGER_E_BAD_BLOCK:
        return "bad-block";
    case LEDGER_E_NOT_FOUND:
        return "not-found";
    case LEDGER_E_STORE:
        return "store-error";
    case LEDGER_E_CORRUPT:
        return "corrupt";
    case LEDGER_E_SYNCING:
        return "syncing";
    case LEDGER_E_EXPIRED:
        return "expired";
    case LEDGER_E_NO_ATTESTATION:
        return "no_attestation";
    case LEDGER_E_NOT_RUNNER:
        return "not_runner";
    case LEDGER_E_ENCLAVE_RULE:
        return "enclave_rule";
    case LEDGER_E_DATA_RULE:
        return "data_rule";
    case LEDGER_E_CONSENT:
        return "consent";
    case LEDGER_E_NOT_TRAINER:
        return "not_trainer";
    case LEDGER_E_RECEIPT:
        return "receipt";
    case LEDGER_E_PROOF:
        return "proof";
    case LEDGER_E_DOUBLE_SIGN:
        return "double-sign refused";
    case LEDGER_E_JOB:
        return "training job rule";
    case LEDGER_E_PUBLISH:
        return "model publication refused";
    case LEDGER_E_ESCROW:
        return "escrow rule";
    case LEDGER_E_USAGE:
        return "usage claim refused";
    case LEDGER_E_NOTHING_OWED:
        return "nothing owed";
    case LEDGER_E_NOMEM:
        return "out-of-memory";
    case LEDGER_E_FAILED:
        return "failed";
    default:
        return NULL;
    }
}

static const char *s_proto_name(int err)
{
    switch (err) {
    case PROTO_OK:
        return "ok";
    case PROTO_E_TRUNCATED:
        return "truncated";
    case PROTO_E_TYPE:
        return "wrong type";
    case PROTO_E_ARITY:
        return "wrong arity";
    case PROTO_E_TOO_LONG:
        return "field too long";
    case PROTO_E_TOO_BIG:
        return "message too big";
    case PROTO_E_TRAILING:
        return "trailing bytes";
    case PROTO_E_VERSION:
        return "unsupported version";
    case PROTO_E_UNKNOWN_TYPE:
        return "unknown message type";
    case PROTO_E_BAD_SIG:
        return "bad signature";
    case PROTO_E_NONCANONICAL:
        return "non-canonical encoding";
    case PROTO_E_RANGE:
        return "integer out of range";
    case PROTO_E_NOMEM:
        return "out of memory";
    case PROTO_E_INVALID:
        return "invalid field";
    case PROTO_E_IO:
        return "i/o error";
    case PROTO_E_CRYPTO:
        return "cryptographic primitive failed";
    case PROTO_E_DECRYPT:
        return "decryption failed";
    case PROTO_E_KS_FORMAT:
        return "not a keystore file";
    case PROTO_E_KS_PERMS:
        return "key file permissions too open";
    case PROTO_E_KS_NEED_PASSPHRASE:
        return "passphrase needed";
    case PROTO_E_KS_BAD_PASSPHRASE:
        return "wrong passphrase";
    case PROTO_E_KS_EXISTS:
        return "file exists";
    case PROTO_E_FAILED:
        return "failed";
    default:
        return NULL;
    }
}

static const char *s_enclave_name(int err)
{
    switch (err) {
    case ENCLAVE_E_BAD_SIG:
        return "quote signature does not verify";
    case ENCLAVE_E_CERT_BAD_SIG:
        return "platform certificate signature does not verify";
    case ENCLAVE_E_CERT_EXPIRED:
        return "platform certificate expired";
    case ENCLAVE_E_CERT_NOT_YET_VALID:
        return "platform certificate not yet valid";
    case ENCLAVE_E_PLATFORM_MISMATCH:
        return "platform key does not match its certificate";
    case ENCLAVE_E_UNCERTIFIED:
        return "platform not certified";
    case ENCLAVE_E_REVOKED_PLATFORM:
        return "platform revoked";
    case ENCLAVE_E_REVOKED_MEASUREMENT:
        return "measurement revoked";
    case ENCLAVE_E_MEASUREMENT_MISMATCH:
        return "measurement mismatch";
    case ENCLAVE_E_NONCE_MISMATCH:
        return "nonce mismatch";
    case ENCLAVE_E_STALE:
        return "quote too old";
    case ENCLAVE_E_FUTURE:
        return "quote time in the future";
    case ENCLAVE_E_KEY_PERMS:
        return "key file permissions too open";
    case ENCLAVE_E_REPORT_BAD_SIG:
        return "enclave signature does not verify";
    case ENCLAVE_E_SIGNER_MISMATCH:
        return "signed by another enclave";
    case ENCLAVE_E_KIND:
        return "invalid enclave kind";
    case ENCLAVE_E_JOB:
        return "no such training job, or out of order";
    case ENCLAVE_E_FED_MSG:
        return "federated message refused";
    case ENCLAVE_E_FAILED:
        return "failed";
    case ENCLAVE_E_TIMEOUT:
        return "enclave timed out";
    case ENCLAVE_E_DEAD:
        return "enclave process gone";
    case ENCLAVE_E_PROTOCOL:
        return "enclave protocol violation";
    case ENCLAVE_E_WRONG_KIND:
        return "request not served by this enclave kind";
    case ENCLAVE_E_COMMIT:
        return "data does not match its commitment";
    case ENCLAVE_E_FULL:
        return "enclave memory for data is full";
    case ENCLAVE_E_SANDBOX:
        return "enclave lockdown failed";
    case ENCLAVE_E_SPAWN:
        return "enclave could not be started";
    case ENCLAVE_E_ATTEST:
        return "enclave report body not as expected";
    case ENCLAVE_E_BLOB:
        return "not a well-formed data blob";
    case ENCLAVE_E_BLOB_DECRYPT:
        return "data blob does not decrypt (wrong key or tampered)";
    case ENCLAVE_E_GRANT:
        return "key grant does not open for this enclave";
    case ENCLAVE_E_CHAIN:
        return "no chain set, or another chain";
    case ENCLAVE_E_PROOF:
        return "inclusion proof does not verify";
    case ENCLAVE_E_PAYMENT:
        return "no payment proof for this buy";
    case ENCLAVE_E_SPENT:
        return "access code spent (query count used up)";
    case ENCLAVE_E_ACCESS_CODE:
        return "wrong access code";
    case ENCLAVE_E_WRONG_MODEL:
        return "buy is for another model";
    case ENCLAVE_E_NO_MODEL:
        return "model not loaded";
    case ENCLAVE_E_MODEL:
        return "sealed model is not the published one";
    case ENCLAVE_E_GAP:
        return "chain block does not follow the light client's height";
    default:
        return NULL;
    }
}

static const char *s_p2p_name(int err)
{
    switch (err) {
    case P2P_E_ADDR_FORM:
        return "not a node address (NODEID@tcp://HOST:PORT)";
    case P2P_E_ADDR_ID:
        return "bad node id (want 64 hex characters)";
    case P2P_E_ADDR_ENDPOINT:
        return "bad endpoint (want tcp://HOST:PORT)";
    case P2P_E_ROOM_NAME:
        return "bad room name (1-63 characters of a-z 0-9 . _ -)";
    case P2P_E_TOO_MANY_ROOMS:
        return "too many rooms";
    case P2P_E_NOT_MEMBER:
        return "not a member of the room";
    case P2P_E_TOO_BIG:
        return "message too big";
    case P2P_E_KIND:
        return "message kind reserved for the p2p layer";
    case P2P_E_NOMEM:
        return "out of memory";
    case P2P_E_SELF:
        return "that is this node itself";
    case P2P_E_TOO_MANY_SEEDS:
        return "too many seeds";
    case P2P_E_LISTEN:
        return "cannot listen on the endpoint";
    case P2P_E_PEER_LIST:
        return "not a saved peer list";
    case P2P_E_ARG:
        return "invalid argument";
    case P2P_E_FAILED:
        return "failed";
    default:
        return NULL;
    }
}

static const char *s_node_name(int err)
{
    switch (err) {
    case NODE_E_PARAMS:
        return "bad parameter";
    case NODE_E_CONNECT:
        return "cannot connect to the node";
    case NODE_E_TRANSPORT:
        return "control API connection failed";
    case NODE_E_RPC:
        return "the node answered with an error";
    case NODE_E_NO_ENCLAVE:
        return "no such enclave on this runner";
    case NODE_E_TIMEOUT:
        return "timed out";
    case NODE_E_BUSY:
        return "busy: too much in flight";
    case NODE_E_NOT_FOUND:
        return "not found";
    case NODE_E_NO_ACCOUNT:
        return "no account key";
    case NODE_E_CORRUPT:
        return "stored data refused";
    case NODE_E_IO:
        return "store i/o error";
    case NODE_E_REFUSED:
        return "refused";
    case NODE_E_NOMEM:
        return "out of memory";
    case NODE_E_EXISTS:
        return "already exists";
    case NODE_E_FULL:
        return "table full";
    case NODE_E_TOO_BIG:
        return "too long";
    case NODE_E_FETCH:
        return "blob transfer refused (size, order or content hash)";
    case NODE_E_FAILED:
        return "failed";
    default:
        return NULL;
    }
}

static const char *s_ml_name(int err)
{
    switch (err) {
    case ML_E_PARSE:
        return "malformed data";
    case ML_E_TOO_BIG:
        return "data too big";
    case ML_E_ARG:
        return "invalid argument";
    case ML_E_NOT_FOUND:
        return "not found";
    case ML_E_EMPTY:
        return "no records";
    case ML_E_HTS:
        return "htslib failure";
    case ML_E_ONE_CLASS:
        return "only one class present";
    case ML_E_SHAPE:
        return "dimensions disagree";
    case ML_E_NOT_CONVERGED:
        return "optimiser did not converge";
    case ML_E_SINGULAR:
        return "matrix not positive definite";
    case ML_E_MODEL:
        return "invalid model";
    case ML_E_WEIGHTS:
        return "malformed weights file";
    case ML_E_NO_VARIANCE:
        return "no variance";
    case ML_E_SPEC:
        return "invalid training parameters";
    case ML_E_BUDGET:
        return "privacy budget exhausted";
    case ML_E_FED_MSG:
        return "unacceptable federated message";
    case ML_E_FED_QUORUM:
        return "federated round without quorum";
    case ML_E_FAILED:
        return "failed";
    case ML_E_ALLELE:
        return "allele mismatch";
    default:
        return NULL;
    }
}

const char *proto_err_str(int err)
{
    const char *name = NULL;
    if (err <= 0 && err > P2P_E_FIRST)
        name = s_proto_name(err);
    else if (err <= P2P_E_FIRST && err > LEDGER_E_FIRST)
        name = s_p2p_name(err);
    else if (err <= LEDGER_E_FIRST && err > ENCLAVE_E_FIRST)
        name = s_ledger_name(err);
    else if (err <= ENCLAVE_E_FIRST && err > ML_E_FIRST)
        name = s_enclave_name(err);
    else if (err <= ML_E_FIRST && err > NODE_E_FIRST)
        name = s_ml_name(err);
    else if (err <= NODE_E_FIRST && err > NODE_E_FIRST - 100)
        name = s_node_name(err);
    return name ? name : "unknown error";
}

static void s_format(char *err, size_t err_cap, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void s_format(char *err, size_t err_cap, const char *fmt, va_list ap)
{
    if (err && err_cap)
        vsnprintf(err, err_cap, fmt, ap);
}

int proto_err_fail(char *err, size_t err_cap, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_format(err, err_cap, fmt, ap);
    va_end(ap);
    return code;
}

/*  ledger_vote: codecs, signatures and checks of proposals, votes and commit certificates
 *  (see ledger_vote.h for the wire formats). */
#include "ledger/ledger_vote.h"

#include <assert.h>
#include <string.h>

#include "proto/proto_err.h"

#define VOTE_DOMAIN "genie/vote/v1"
#define PROPOSAL_DOMAIN "genie/proposal/v1"
#define VALUE_DOMAIN "genie/consensus-value/v1"
#define VOTE_FIELDS 7
#define PROPOSAL_FIELDS 9
#define PROPOSAL_SIGNED_FIELDS 7
#define CERT_FIELDS 4

/* ---- validator set ---- */

int ledger_valset_add(ledger_valset_t *vs, const uint8_t key[static PROTO_PUBKEY_LEN])
{
    if (vs->n >= LEDGER_VALSET_MAX)
        return LEDGER_E_TOO_BIG;
    if (ledger_valset_find(vs, key) >= 0)
        return LEDGER_E_DUPLICATE;
    memcpy(vs->keys[vs->n++], key, PROTO_PUBKEY_LEN);
    return 0;
}

int ledger_valset_find(const ledger_valset_t *vs, const uint8_t key[static PROTO_PUBKEY_LEN])
{
    for (size_t i = 0; i < vs->n && i < LEDGER_VALSET_MAX; i++)
        if (memcmp(vs->keys[i], key, PROTO_PUBKEY_LEN) == 0)
            return (int)i;
    return -1;
}

size_t ledger_valset_quorum(const ledger_valset_t *vs)
{
    return vs->n * 2 / 3 + 1;
}

size_t ledger_valset_proposer(const ledger_valset_t *vs, uint64_t height, uint32_t round)
{
    assert(vs->n > 0);
    return (size_t)((height % vs->n + round % vs->n) % vs->n);
}

/* ---- helpers ---- */

/* Hashes what W holds under DOMAIN and frees W; a failed writer gives a hash of nothing
   anybody signed (all zero). */
static void s_hash_writer(proto_wr_t *w, const char *domain, uint8_t out[static PROTO_HASH_LEN])
{
    size_t len;
    const uint8_t *data = proto_wr_data(w, &len);
    if (data)
        proto_hash(domain, data, len, out);
    else
        memset(out, 0, PROTO_HASH_LEN);
    proto_wr_free(w);
}

static int s_take(proto_wr_t *w, uint8_t **out, size_t *out_len)
{
    int err = w->err;
    *out = proto_wr_take(w, out_len);
    proto_wr_free(w);
    if (*out)
        return PROTO_OK;
    *out_len = 0;
    return err != PROTO_OK ? err : PROTO_E_NOMEM;
}

/* Reads nil (*present = false) or a 32-byte bin into OUT. */
static int s_rd_opt_hash(proto_rd_t *r, bool *present, uint8_t out[static 32])
{
    if (proto_rd_peek_nil(r)) {
        *present = false;
        return proto_rd_nil(r);
    }
    *present = true;
    return proto_rd_bin_exact(r, 32, out);
}

/* ---- votes ---- */

static void s_vote_write_fields(proto_wr_t *w, const ledger_vote_t *v, uint32_t arity)
{
    proto_wr_array(w, arity);
    proto_wr_bin(w, v->chain_id, LEDGER_CHAIN_ID_LEN);
    proto_wr_uint(w, v->type);
    proto_wr_uint(w, v->height);
    proto_wr_uint(w, v->round);
    if (v->has_hash)
        proto_wr_bin(w, v->hash, PROTO_HASH_LEN);
    else
        proto_wr_nil(w);
    proto_wr_bin(w, v->validator, PROTO_PUBKEY_LEN);
}

void ledger_vote_signing_hash(const ledger_vote_t *v, uint8_t out[static PROTO_HASH_LEN])
{
    proto_wr_t w;
    proto_wr_init(&w);
    s_vote_write_fields(&w, v, VOTE_FIELDS - 1);
    s_hash_writer(&w, VOTE_DOMAIN, out);
}

void ledger_vote_sign(ledger_vote_t *v, const proto_key_t *key)
{
    uint8_t h[PROTO_HASH_LEN];
    memcpy(v->validator, proto_key_public(key), PROTO_PUBKEY_LEN);
    ledger_vote_signing_hash(v, h);
    proto_key_sign(key, h, sizeof h, v->sig);
}

bool ledger_vote_verify(const ledger_vote_t *v)
{
    uint8_t h[PROTO_HASH_LEN];
    ledger_vote_signing_hash(v, h);
    return proto_sig_verify(v->validator, h, sizeof h, v->sig);
}

void ledger_vote_write(proto_wr_t *w, const ledger_vote_t *v)
{
    s_vote_write_fields(w, v, VOTE_FIELDS);
    proto_wr_bin(w, v->sig, PROTO_SIG_LEN);
}

int ledger_vote_encode(const ledger_vote_t *v, uint8_t **out, size_t *out_len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    ledger_vote_write(&w, v);
    return s_take(&w, out, out_len);
}

int ledger_vote_decode(const uint8_t *buf, size_t len, ledger_vote_t *out)
{
    proto_rd_t r;
    uint64_t type = 0, round = 0;
    memset(out, 0, sizeof *out);
    if (len > LEDGER_VOTE_MAX)
        return PROTO_E_TOO_BIG;
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_exact(&r, VOTE_FIELDS) ||
        proto_rd_bin_exact(&r, LEDGER_CHAIN_ID_LEN, out->chain_id) ||
        proto_rd_uint(&r, LEDGER_VOTE_PRECOMMIT, &type) ||
        proto_rd_uint(&r, LEDGER_HEIGHT_MAX, &out->height) ||
        proto_rd_uint(&r, LEDGER_ROUND_MAX, &round) ||
        s_rd_opt_hash(&r, &out->has_hash, out->hash) ||
        proto_rd_bin_exact(&r, PROTO_PUBKEY_LEN, out->validator) ||
        proto_rd_bin_exact(&r, PROTO_SIG_LEN, out->sig) || proto_rd_finish(&r))
        goto fail;
    if (type != LEDGER_VOTE_PREVOTE && type != LEDGER_VOTE_PRECOMMIT) {
        r.err = PROTO_E_RANGE;
        goto fail;
    }
    out->type = (uint8_t)type;
    out->round = (uint32_t)round;
    return PROTO_OK;
fail:
    memset(out, 0, sizeof *out);
    return r.err != PROTO_OK ? r.err : PROTO_E_INVALID;
}

/* ---- proposals ---- */

static void s_proposal_write_signed(proto_wr_t *w, const ledger_proposal_t *p, uint32_t arity)
{
    proto_wr_array(w, arity);
    proto_wr_bin(w, p->chain_id, LEDGER_CHAIN_ID_LEN);
    proto_wr_uint(w, p->height);
    proto_wr_uint(w, p->round);
    if (p->pol_round >= 0)
        proto_wr_uint(w, (uint64_t)p->pol_round);
    else
        proto_wr_nil(w);
    proto_wr_uint(w, p->timestamp_ms);
    proto_wr_bin(w, p->proposer, PROTO_PUBKEY_LEN);
    proto_wr_bin(w, p->block_hash, PROTO_HASH_LEN);
}

void ledger_proposal_signing_hash(const ledger_proposal_t *p, uint8_t out[static PROTO_HASH_LEN])
{
    proto_wr_t w;
    proto_wr_init(&w);
    s_proposal_write_signed(&w, p, PROPOSAL_SIGNED_FIELDS);
    s_hash_writer(&w, PROPOSAL_DOMAIN, out);
}

void ledger_proposal_sign(ledger_proposal_t *p, const proto_key_t *key)
{
    uint8_t h[PROTO_HASH_LEN];
    memcpy(p->proposer, proto_key_public(key), PROTO_PUBKEY_LEN);
    ledger_proposal_signing_hash(p, h);
    proto_key_sign(key, h, sizeof h, p->sig);
}

bool ledger_proposal_verify(const ledger_proposal_t *p)
{
    uint8_t h[PROTO_HASH_LEN];
    ledger_proposal_signing_hash(p, h);
    return proto_sig_verify(p->proposer, h, sizeof h, p->sig);
}

void ledger_proposal_write(proto_wr_t *w, const ledger_proposal_t *p)
{
    s_proposal_write_signed(w, p, PROPOSAL_FIELDS);
    proto_wr_bin(w, p->sig, PROTO_SIG_LEN);
    proto_wr_bin(w, p->block, p->block_len);
}

int ledger_proposal_encode(const ledger_proposal_t *p, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (p->block_len > LEDGER_PROPOSAL_BLOCK_MAX)
        return PROTO_E_TOO_BIG;
    proto_wr_t w;
    proto_wr_init(&w);
    ledger_proposal_write(&w, p);
    return s_take(&w, out, out_len);
}

int ledger_proposal_decode(const uint8_t *buf, size_t len, ledger_proposal_t *out)
{
    proto_rd_t r;
    uint64_t round = 0, pol = 0;
    bool has_pol = false;
    memset(out, 0, sizeof *out);
    if (len > LEDGER_PROPOSAL_MAX)
        return PROTO_E_TOO_BIG;
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_exact(&r, PROPOSAL_FIELDS) ||
        proto_rd_bin_exact(&r, LEDGER_CHAIN_ID_LEN, out->chain_id) ||
        proto_rd_uint(&r, LEDGER_HEIGHT_MAX, &out->height) ||
        proto_rd_uint(&r, LEDGER_ROUND_MAX, &round))
        goto fail;
    if (proto_rd_peek_nil(&r)) {
        if (proto_rd_nil(&r))
            goto fail;
    } else {
        if (proto_rd_uint(&r, LEDGER_ROUND_MAX, &pol))
            goto fail;
        has_pol = true;
    }
    if (proto_rd_uint(&r, UINT64_MAX, &out->timestamp_ms) ||
        proto_rd_bin_exact(&r, PROTO_PUBKEY_LEN, out->proposer) ||
        proto_rd_bin_exact(&r, PROTO_HASH_LEN, out->block_hash) ||
        proto_rd_bin_exact(&r, PROTO_SIG_LEN, out->sig) ||
        proto_rd_bin(&r, LEDGER_PROPOSAL_BLOCK_MAX, &out->block, &out->block_len) ||
        proto_rd_finish(&r))
        goto fail;
    if (has_pol && pol >= round) {
        r.err = PROTO_E_INVALID;
        goto fail;
    }
    out->round = (uint32_t)round;
    out->pol_round = has_pol ? (int32_t)pol : -1;
    return PROTO_OK;
fail:
    memset(out, 0, sizeof *out);
    return r.err != PROTO_OK ? r.err : PROTO_E_INVALID;
}

void ledger_vote_value_hash(const uint8_t *block, size_t len, uint8_t out[static PROTO_HASH_LEN])
{
    proto_hash(VALUE_DOMAIN, block, len, out);
}

/* ---- certificates ---- */

void ledger_cert_write(proto_wr_t *w, const ledger_cert_t *cert)
{
    proto_wr_array(w, CERT_FIELDS);
    proto_wr_uint(w, cert->height);
    proto_wr_uint(w, cert->round);
    proto_wr_bin(w, cert->block_hash, PROTO_HASH_LEN);
    proto_wr_array(w, (uint32_t)cert->n_sigs);
    for (size_t i = 0; i < cert->n_sigs; i++) {
        proto_wr_array(w, 2);
        proto_wr_uint(w, cert->sigs[i].index);
        proto_wr_bin(w, cert->sigs[i].sig, PROTO_SIG_LEN);
    }
}

int ledger_cert_encode(const ledger_cert_t *cert, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (cert->n_sigs > LEDGER_VALSET_MAX)
        return PROTO_E_TOO_LONG;
    proto_wr_t w;
    proto_wr_init(&w);
    ledger_cert_write(&w, cert);
    return s_take(&w, out, out_len);
}

int ledger_cert_decode(const uint8_t *buf, size_t len, ledger_cert_t *out)
{
    proto_rd_t r;
    uint64_t round = 0;
    uint32_t n = 0;
    memset(out, 0, sizeof *out);
    if (len > LEDGER_CERT_MAX)
        return PROTO_E_TOO_BIG;
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_exact(&r, CERT_FIELDS) ||
        proto_rd_uint(&r, LEDGER_HEIGHT_MAX, &out->height) ||
        proto_rd_uint(&r, LEDGER_ROUND_MAX, &round) ||
        proto_rd_bin_exact(&r, PROTO_HASH_LEN, out->block_hash) ||
        proto_rd_array_max(&r, LEDGER_VALSET_MAX, &n))
        goto fail;
    if (n == 0) {
        r.err = PROTO_E_INVALID;
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t idx = 0;
        if (proto_rd_array_exact(&r, 2) || proto_rd_uint(&r, LEDGER_VALSET_MAX - 1, &idx) ||
            proto_rd_bin_exact(&r, PROTO_SIG_LEN, out->sigs[i].sig))
            goto fail;
        if (i > 0 && idx <= out->sigs[i - 1].index) {
            r.err = PROTO_E_INVALID; /* unsorted or repeated: not canonical */
            goto fail;
        }
        out->sigs[i].index = (uint8_t)idx;
    }
    if (proto_rd_finish(&r))
        goto fail;
    out->round = (uint32_t)round;
    out->n_sigs = n;
    return PROTO_OK;
fail:
    memset(out, 0, sizeof *out);
    return r.err != PROTO_OK ? r.err : PROTO_E_INVALID;
}

int ledger_cert_verify(const ledger_cert_t *cert, const ledger_valset_t *vs,
                       const uint8_t chain_id[static LEDGER_CHAIN_ID_LEN],
                       const uint8_t hash[static PROTO_HASH_LEN])
{
    bool seen[LEDGER_VALSET_MAX] = {false};
    if (memcmp(cert->block_hash, hash, PROTO_HASH_LEN) != 0)
        return PROTO_E_INVALID;
    if (vs->n == 0 || vs->n > LEDGER_VALSET_MAX || cert->n_sigs > LEDGER_VALSET_MAX ||
        cert->height > LEDGER_HEIGHT_MAX || cert->round > LEDGER_ROUND_MAX)
        return PROTO_E_INVALID;
    /* Structure first (cheap), signatures after. */
    for (size_t i = 0; i < cert->n_sigs; i++) {
        uint8_t idx = cert->sigs[i].index;
        if (idx >= vs->n || seen[idx])
            return PROTO_E_INVALID;
        seen[idx] = true;
    }
    if (cert->n_sigs < ledger_valset_quorum(vs))
        return PROTO_E_INVALID;
    ledger_vote_t v = {.type = LEDGER_VOTE_PRECOMMIT,
                       .height = cert->height,
                       .round = cert->round,
                       .has_hash = true};
    memcpy(v.chain_id, chain_id, LEDGER_CHAIN_ID_LEN);
    memcpy(v.hash, hash, PROTO_HASH_LEN);
    for (size_t i = 0; i < cert->n_sigs; i++) {
        memcpy(v.validator, vs->keys[cert->sigs[i].index], PROTO_PUBKEY_LEN);
        memcpy(v.sig, cert->sigs[i].sig, PROTO_SIG_LEN);
        if (!ledger_vote_verify(&v))
            return PROTO_E_BAD_SIG;
    }
    return PROTO_OK;
}

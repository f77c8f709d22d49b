/*  enclave_kind_query: the query kind and the light client every kind can be (see
 *  enclave_kind.h and enclave/README.md, "Queries and the light client").
 *
 *  CHAIN makes the enclave a light client of the one chain INIT bound it to (its quote's
 *  report data names that chain id; ledger_light.h, from the canonical genesis);
 *  CHAIN_BLOCK feeds it the certified blocks that hold authority votes, in height order, so
 *  that it follows the authority set as the ledger moves it. MODEL_LOAD opens a model
 *  sealed to the enclave by a training enclave, and keeps it only if a certified block of
 *  that chain holds a MODEL_PUBLISH tx whose publication is the sealed one and whose model
 *  hash is the model's. QUERY is paid: the first query of a buy carries the inclusion proof
 *  of its QUERY_BUY tx, which the enclave checks itself; it then keeps {buy -> model, count,
 *  used, code hash} and answers only an asker who knows the access code, until the buy's
 *  count of rows is used. USAGE signs the count served.
 *
 *  The enclave reads the two tx types itself (s_tx_read, s_publish_body, s_buy_body) rather
 *  than through ledger_tx_decode, whose contract table reaches the whole ledger (state,
 *  LevelDB); the formats are PROTOCOL.md's §6.9, and test_enclave_query feeds it txs made by
 *  the ledger's own encoder and accepted by its contracts.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_kind.h"
#include "enclave/enclave_prog.h"
#include "enclave/enclave_seal.h"
#include "ledger/ledger_block.h"
#include "ledger/ledger_light.h"
#include "ledger/ledger_tx.h"
#include "ml/ml_model.h"
#include "proto/proto_publish.h"

_Static_assert(ENCLAVE_WIRE_MAX_PROOF == LEDGER_PROOF_MAX_BYTES,
               "the wire carries any inclusion proof");

#define S_BUY_COUNT_MAX 1000000u /* QUERY_BUY's count bound (ledger_contract_model.c) */
#define S_TABLE_MIN 64u

typedef struct {
    bool live;
    uint8_t id[32];   /* model id: txid of its MODEL_PUBLISH */
    uint8_t hash[32]; /* ml_model_hash */
    ml_model_t *model;
} s_model_t;

typedef struct {
    bool live;
    uint8_t buy_id[32];
    uint8_t model_id[32];
    uint8_t code_hash[32];
    uint64_t count; /* rows paid for */
    uint64_t used;  /* rows served */
} s_buy_t;

struct enclave_query_t {
    s_model_t models[ENCLAVE_QUERY_MAX_MODELS];
    s_buy_t *buys; /* open addressing, linear probing, never deleted */
    size_t cap;    /* a power of two, >= 2 * n */
    size_t n;
    uint8_t sip_key[crypto_shorthash_KEYBYTES];
};

enclave_query_t *enclave_query_new(void)
{
    enclave_query_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = S_TABLE_MIN;
    self->buys = calloc(self->cap, sizeof *self->buys);
    if (!self->buys) {
        free(self);
        return NULL;
    }
    randombytes_buf(self->sip_key, sizeof self->sip_key);
    return self;
}

/* Frees a model after overwriting its weights with zeros (a sealed model is the trainer's
   secret; ml_model_destroy frees without wiping). */
static void s_model_drop(s_model_t *m)
{
    if (m->model) {
        double *zero = calloc(ml_model_p(m->model) + 1, sizeof *zero);
        if (zero && ml_model_set_params(m->model, zero, 0.0) != PROTO_OK)
            zero[0] = 0; /* nothing else to do: the model is freed below either way */
        free(zero);
        ml_model_destroy(&m->model);
    }
    sodium_memzero(m, sizeof *m);
}

void enclave_query_destroy(enclave_query_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    enclave_query_t *self = *self_p;
    for (size_t i = 0; i < ENCLAVE_QUERY_MAX_MODELS; i++)
        s_model_drop(&self->models[i]);
    if (self->buys) {
        sodium_memzero(self->buys, self->cap * sizeof *self->buys);
        free(self->buys);
    }
    sodium_memzero(self, sizeof *self);
    free(self);
    *self_p = NULL;
}

/* ---- the buy table ---- */

static size_t s_slot(const enclave_query_t *q, const uint8_t id[32], size_t cap)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, id, 32, q->sip_key);
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof h; i++)
        v = v << 8 | h[i];
    return (size_t)(v & (cap - 1));
}

static s_buy_t *s_buy_find(enclave_query_t *q, const uint8_t id[32])
{
    for (size_t i = s_slot(q, id, q->cap);; i = (i + 1) & (q->cap - 1)) {
        s_buy_t *b = &q->buys[i];
        if (!b->live)
            return NULL; /* the table is never full: cap >= 2 n */
        if (memcmp(b->buy_id, id, 32) == 0)
            return b;
    }
}

/* Doubles the table. */
static int s_buy_grow(enclave_query_t *q)
{
    size_t cap = q->cap * 2;
    s_buy_t *t = calloc(cap, sizeof *t);
    if (!t)
        return PROTO_E_NOMEM;
    for (size_t i = 0; i < q->cap; i++) {
        if (!q->buys[i].live)
            continue;
        size_t j = s_slot(q, q->buys[i].buy_id, cap);
        while (t[j].live)
            j = (j + 1) & (cap - 1);
        t[j] = q->buys[i];
    }
    sodium_memzero(q->buys, q->cap * sizeof *q->buys);
    free(q->buys);
    q->buys = t;
    q->cap = cap;
    return PROTO_OK;
}

/* Adds buy B (not present); *OUT the stored entry. ENCLAVE_E_FULL past
   ENCLAVE_QUERY_MAX_BUYS: a buy is never evicted, since forgetting one would let its proof
   start its count again. */
static int s_buy_add(enclave_query_t *q, const s_buy_t *b, s_buy_t **out)
{
    if (q->n >= ENCLAVE_QUERY_MAX_BUYS)
        return ENCLAVE_E_FULL;
    int rc;
    if (2 * (q->n + 1) > q->cap && (rc = s_buy_grow(q)))
        return rc;
    size_t i = s_slot(q, b->buy_id, q->cap);
    while (q->buys[i].live)
        i = (i + 1) & (q->cap - 1);
    q->buys[i] = *b;
    q->buys[i].live = true;
    q->n++;
    *out = &q->buys[i];
    return PROTO_OK;
}

/* ---- certified txs ---- */

/* The parts of a tx the enclave reads: [chain_id bin32, from bin32, nonce uint, type uint,
   body, sig bin64] (ledger_tx.h); BODY is a view of the body's encoding. */
typedef struct {
    uint8_t chain_id[32];
    uint32_t type;
    const uint8_t *body;
    size_t body_len;
} s_tx_t;

static int s_tx_read(const uint8_t *buf, size_t len, s_tx_t *out)
{
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    uint8_t from[32], sig[64];
    uint64_t nonce = 0, type = 0;
    if (proto_rd_array_exact(&r, LEDGER_TX_FIELDS) || proto_rd_bin_exact(&r, 32, out->chain_id) ||
        proto_rd_bin_exact(&r, 32, from) || proto_rd_uint(&r, UINT64_MAX, &nonce) ||
        proto_rd_uint(&r, UINT32_MAX, &type))
        return r.err;
    size_t start = r.pos;
    if (proto_rd_skip(&r, 8))
        return r.err;
    out->type = (uint32_t)type;
    out->body = buf + start;
    out->body_len = r.pos - start;
    if (proto_rd_bin_exact(&r, 64, sig))
        return r.err;
    return proto_rd_finish(&r);
}

/* MODEL_PUBLISH body: [publication bin]. */
static int s_publish_body(const s_tx_t *tx, const uint8_t **pub, size_t *len)
{
    proto_rd_t r;
    proto_rd_init(&r, tx->body, tx->body_len);
    if (proto_rd_array_exact(&r, 1) || proto_rd_bin(&r, PROTO_PUBLISH_MAX_BYTES, pub, len))
        return r.err;
    return proto_rd_finish(&r);
}

/* QUERY_BUY body: [model_id bin32, count uint 1..1,000,000, code_hash bin32]. */
static int s_buy_body(const s_tx_t *tx, s_buy_t *b)
{
    proto_rd_t r;
    proto_rd_init(&r, tx->body, tx->body_len);
    if (proto_rd_array_exact(&r, 3) || proto_rd_bin_exact(&r, 32, b->model_id) ||
        proto_rd_uint(&r, S_BUY_COUNT_MAX, &b->count) || proto_rd_bin_exact(&r, 32, b->code_hash))
        return r.err;
    if (b->count == 0)
        return PROTO_E_RANGE;
    return proto_rd_finish(&r);
}

/* Verifies PROOF with the enclave's light client and reads its tx into *TX (views into
   PROOF); *TXID its id. ENCLAVE_E_CHAIN (no CHAIN yet), ENCLAVE_E_PROOF. */
static int s_proven_tx(const enclave_state_t *st, const uint8_t *proof, size_t len, s_tx_t *tx,
                       uint8_t txid[static 32], char *err, size_t err_cap)
{
    if (!st->light)
        return proto_err_fail(err, err_cap, ENCLAVE_E_CHAIN, "no chain: CHAIN first");
    ledger_light_tx_t lt;
    memset(&lt, 0, sizeof lt);
    char why[128] = "";
    if (ledger_light_verify_tx(st->light, proof, len, &lt, why, sizeof why) != PROTO_OK)
        return proto_err_fail(err, err_cap, ENCLAVE_E_PROOF, "proof refused: %s", why);
    if (s_tx_read(lt.tx, lt.tx_len, tx) != PROTO_OK ||
        memcmp(tx->chain_id, ledger_light_chain_id(st->light), 32) != 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_PROOF, "proven tx unreadable");
    memcpy(txid, lt.txid, 32);
    return PROTO_OK;
}

/* ---- CHAIN ---- */

int enclave_kind_chain(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans, char *err,
                       size_t err_cap)
{
    ledger_light_t *light = NULL;
    char why[128] = "";
    int rc =
        ledger_light_new(req->u.chain.genesis, req->u.chain.genesis_len, &light, why, sizeof why);
    if (rc)
        return proto_err_fail(err, err_cap, rc, "genesis refused: %s", why);
    /* bound at INIT: the quote names this chain, so a host cannot swap in a genesis whose
       authorities it controls and forge the proofs this enclave then accepts */
    if (sodium_memcmp(ledger_light_chain_id(light), st->chain_id, 32) != 0) {
        ledger_light_destroy(&light);
        return proto_err_fail(err, err_cap, ENCLAVE_E_CHAIN,
                              "genesis is not the chain this enclave is bound to");
    }
    if (st->light) /* the same chain again: keep the client (it may have advanced) */
        ledger_light_destroy(&light);
    else
        st->light = light;
    ans->type = ENCLAVE_ANS_CHAIN;
    memcpy(ans->u.chain.chain_id, ledger_light_chain_id(st->light), 32);
    return PROTO_OK;
}

/* ---- CHAIN_BLOCK ---- */

_Static_assert(ENCLAVE_WIRE_MAX_BLOCK == LEDGER_BLOCK_MAX_BYTES &&
                   ENCLAVE_WIRE_MAX_CERT == LEDGER_CERT_MAX_BYTES,
               "the wire carries any committed block and certificate");

/* The height a committed block's header names; LEDGER_E_PROOF when it does not decode. */
static int s_block_height(const uint8_t *block, size_t len, uint64_t *height)
{
    ledger_block_t *b = NULL;
    int rc = ledger_block_decode(block, len, &b);
    if (rc == PROTO_E_NOMEM)
        return rc;
    if (rc != PROTO_OK)
        return LEDGER_E_PROOF;
    *height = ledger_block_header(b)->height;
    ledger_block_destroy(&b);
    return PROTO_OK;
}

int enclave_kind_chain_block(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                             char *err, size_t err_cap)
{
    const struct enclave_req_chain_block *c = &req->u.chain_block;
    if (!st->light)
        return proto_err_fail(err, err_cap, ENCLAVE_E_CHAIN, "no chain: CHAIN first");
    uint64_t at = ledger_light_height(st->light);
    ans->type = ENCLAVE_ANS_LIGHT;
    if (c->height == 0 || c->height <= at) { /* a probe, or a block already passed */
        ans->u.light.height = at;
        return PROTO_OK;
    }
    if (c->after != at)
        return proto_err_fail(err, err_cap, ENCLAVE_E_GAP, "fed up to %llu, not %llu",
                              (unsigned long long)at, (unsigned long long)c->after);
    uint64_t named = 0;
    int rc = s_block_height(c->block, c->block_len, &named);
    if (rc == PROTO_E_NOMEM)
        return rc;
    if (rc != PROTO_OK || named != c->height)
        return proto_err_fail(err, err_cap, ENCLAVE_E_PROOF, "not the block at %llu",
                              (unsigned long long)c->height);
    char why[128] = "";
    rc = ledger_light_advance(st->light, c->block, c->block_len, c->cert, c->cert_len, why,
                              sizeof why);
    if (rc == LEDGER_E_NOMEM)
        return PROTO_E_NOMEM;
    if (rc == LEDGER_E_FULL)
        return proto_err_fail(err, err_cap, ENCLAVE_E_FULL, "vote lists full: %s", why);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, ENCLAVE_E_PROOF, "block refused: %s", why);
    ans->u.light.height = ledger_light_height(st->light);
    return PROTO_OK;
}

/* ---- MODEL_LOAD ---- */

/* Opens the sealed [model bin, publication bin] into *PLAIN (sodium_malloc'd, *PLEN bytes;
   the caller frees) and decodes the model into *MODEL and the publication's bytes into
   *PUB / *PUB_LEN (views into *PLAIN). */
static int s_model_open(const enclave_state_t *st, const enclave_req_t *req, uint8_t **plain,
                        size_t *plen, ml_model_t **model, const uint8_t **pub, size_t *pub_len,
                        char *err, size_t err_cap)
{
    const uint8_t *c = req->u.model_load.sealed;
    size_t clen = req->u.model_load.sealed_len;
    if (clen < crypto_box_SEALBYTES)
        return proto_err_fail(err, err_cap, PROTO_E_TRUNCATED, "sealed model too short");
    *plen = clen - crypto_box_SEALBYTES;
    *plain = sodium_malloc(*plen ? *plen : 1);
    if (!*plain)
        return PROTO_E_NOMEM;
    if (crypto_box_seal_open(*plain, c, clen, st->box_pk, st->secrets->box_sk) != 0)
        return proto_err_fail(err, err_cap, PROTO_E_DECRYPT, "sealed model does not open here");
    proto_rd_t r;
    proto_rd_init(&r, *plain, *plen);
    const uint8_t *mb = NULL;
    size_t mlen = 0;
    if (proto_rd_array_exact(&r, 2) || proto_rd_bin(&r, ML_MODEL_MAX_BYTES, &mb, &mlen) ||
        proto_rd_bin(&r, PROTO_PUBLISH_MAX_BYTES, pub, pub_len) || proto_rd_finish(&r))
        return proto_err_fail(err, err_cap, r.err, "sealed model malformed");
    char why[128] = "";
    int rc = ml_model_decode(mb, mlen, model, why, sizeof why);
    sodium_memzero(why, sizeof why); /* may quote model bytes */
    if (rc)
        return proto_err_fail(err, err_cap, rc, "model does not decode");
    return PROTO_OK;
}

/* Checks the publication PUB (bytes) is the proven tx's and names MODEL's hash. */
static int s_model_check(const s_tx_t *tx, const uint8_t *pub, size_t pub_len,
                         const ml_model_t *model, uint8_t hash[static 32], char *err,
                         size_t err_cap)
{
    const uint8_t *tpub = NULL;
    size_t tlen = 0;
    if (tx->type != LEDGER_TX_MODEL_PUBLISH || s_publish_body(tx, &tpub, &tlen) != PROTO_OK)
        return proto_err_fail(err, err_cap, ENCLAVE_E_MODEL, "proven tx is not a MODEL_PUBLISH");
    if (tlen != pub_len || memcmp(tpub, pub, pub_len) != 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_MODEL, "publication is not the published");
    proto_publish_t *p = malloc(sizeof *p);
    if (!p)
        return PROTO_E_NOMEM;
    int rc = proto_publish_decode(pub, pub_len, p);
    if (rc == PROTO_OK && proto_publish_verify(p) != PROTO_OK)
        rc = PROTO_E_BAD_SIG;
    ml_model_hash(model, hash);
    if (rc)
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_MODEL, "publication refused (%d)", rc);
    else if (sodium_memcmp(p->model_hash, hash, 32) != 0)
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_MODEL, "model hash is not the published");
    free(p);
    return rc;
}

int enclave_kind_model_load(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                            char *err, size_t err_cap)
{
    enclave_query_t *q = st->query;
    uint8_t *plain = NULL, id[32], hash[32];
    size_t plen = 0, pub_len = 0;
    const uint8_t *pub = NULL;
    ml_model_t *model = NULL;
    s_tx_t tx;
    int rc = s_proven_tx(st, req->u.model_load.proof, req->u.model_load.proof_len, &tx, id, err,
                         err_cap);
    if (rc == PROTO_OK)
        rc = s_model_open(st, req, &plain, &plen, &model, &pub, &pub_len, err, err_cap);
    if (rc == PROTO_OK)
        rc = s_model_check(&tx, pub, pub_len, model, hash, err, err_cap);
    if (rc)
        goto out;
    s_model_t *slot = NULL;
    for (size_t i = 0; i < ENCLAVE_QUERY_MAX_MODELS && !slot; i++)
        if (q->models[i].live && memcmp(q->models[i].id, id, 32) == 0)
            slot = &q->models[i]; /* loaded again: the same model, replaced */
    for (size_t i = 0; i < ENCLAVE_QUERY_MAX_MODELS && !slot; i++)
        if (!q->models[i].live)
            slot = &q->models[i];
    if (!slot) {
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_FULL, "already %u models",
                            ENCLAVE_QUERY_MAX_MODELS);
        goto out;
    }
    s_model_drop(slot);
    slot->live = true;
    memcpy(slot->id, id, 32);
    memcpy(slot->hash, hash, 32);
    slot->model = model;
    model = NULL;
    ans->type = ENCLAVE_ANS_LOADED;
    memcpy(ans->u.loaded.model_id, id, 32);
    memcpy(ans->u.loaded.model_hash, hash, 32);
out:
    if (model) {
        s_model_t tmp = {.model = model};
        s_model_drop(&tmp);
    }
    if (plain)
        sodium_free(plain); /* wipes */
    return rc;
}

/* ---- QUERY ---- */

/* The buy of REQ: known, or proven now by the request's proof. */
static int s_buy_get(enclave_state_t *st, const enclave_req_t *req, s_buy_t **out, char *err,
                     size_t err_cap)
{
    enclave_query_t *q = st->query;
    s_buy_t *b = s_buy_find(q, req->u.query.buy_id);
    if (!b) {
        if (!req->u.query.buy_proof_len)
            return proto_err_fail(err, err_cap, ENCLAVE_E_PAYMENT, "unknown buy and no proof");
        s_tx_t tx;
        uint8_t txid[32];
        int rc = s_proven_tx(st, req->u.query.buy_proof, req->u.query.buy_proof_len, &tx, txid, err,
                             err_cap);
        if (rc)
            return rc;
        if (memcmp(txid, req->u.query.buy_id, 32) != 0)
            return proto_err_fail(err, err_cap, ENCLAVE_E_PROOF, "proof of another tx");
        s_buy_t nb;
        memset(&nb, 0, sizeof nb);
        memcpy(nb.buy_id, txid, 32);
        if (tx.type != LEDGER_TX_QUERY_BUY || s_buy_body(&tx, &nb) != PROTO_OK)
            return proto_err_fail(err, err_cap, ENCLAVE_E_PAYMENT, "proven tx is not a buy");
        if ((rc = s_buy_add(q, &nb, &b)))
            return proto_err_fail(err, err_cap, rc, "buy table full");
    }
    if (memcmp(b->model_id, req->u.query.model_id, 32) != 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_WRONG_MODEL, "buy is for another model");
    *out = b;
    return PROTO_OK;
}

/* Decodes the opened query PLAIN: the reply key, the access code, and the rows into a new
 *X of P columns. */
static int s_query_read(const uint8_t *plain, size_t len, size_t p, uint8_t reply_pk[static 32],
                        uint8_t code[static 32], ml_mat_t **x)
{
    proto_rd_t r;
    proto_rd_init(&r, plain, len);
    uint32_t n = 0, cols = 0;
    if (proto_rd_array_exact(&r, 3) || proto_rd_bin_exact(&r, 32, reply_pk) ||
        proto_rd_bin_exact(&r, 32, code) || proto_rd_array_max(&r, ENCLAVE_QUERY_MAX_ROWS, &n))
        return r.err;
    if (n == 0)
        return PROTO_E_RANGE;
    /* every value takes 9 bytes: a row count and width beyond the plaintext are refused
       before anything is allocated */
    if (p == 0 || p > (len - r.pos) / 9 / n)
        return ML_E_SHAPE;
    *x = ml_mat_new(n, p);
    if (!*x)
        return PROTO_E_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        if (proto_rd_array_max(&r, UINT32_MAX, &cols))
            return r.err;
        if (cols != p)
            return ML_E_SHAPE;
        double *row = ml_mat_row(*x, i);
        for (size_t j = 0; j < p; j++)
            if (proto_rd_f64(&r, &row[j]))
                return r.err;
    }
    return proto_rd_finish(&r);
}

/* Seals [used, count, predictions] to REPLY_PK into *BLOB. */
static int s_result_seal(const enclave_req_t *req, const uint8_t reply_pk[static 32],
                         const s_buy_t *b, uint64_t used, const double *pred, size_t n,
                         uint8_t **blob, size_t *blob_len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 3);
    proto_wr_uint(&w, used);
    proto_wr_uint(&w, b->count);
    proto_wr_array(&w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        proto_wr_f64(&w, pred[i]);
    size_t plen = 0;
    const uint8_t *plain = proto_wr_data(&w, &plen);
    int rc = plain ? PROTO_OK : (w.err ? w.err : PROTO_E_NOMEM);
    uint8_t ctx[ENCLAVE_QUERY_CONTEXT_MAX];
    size_t ctx_len = enclave_query_context(true, req->u.query.model_id, req->u.query.buy_id, ctx);
    size_t cap = plain ? enclave_seal_to_len(plen) : 0;
    if (rc == PROTO_OK && !(*blob = malloc(cap)))
        rc = PROTO_E_NOMEM;
    if (rc == PROTO_OK)
        rc = enclave_seal_to(reply_pk, ctx, ctx_len, plain, plen, *blob, cap, blob_len);
    proto_wr_free(&w);
    return rc;
}

int enclave_kind_query(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                       uint8_t **blob, char *err, size_t err_cap)
{
    /* the payment first (a proof is checked whatever the enclave holds), then the model */
    enclave_query_t *q = st->query;
    s_buy_t *b = NULL;
    int rc = s_buy_get(st, req, &b, err, err_cap);
    if (rc)
        return rc;
    const s_model_t *m = NULL;
    for (size_t i = 0; i < ENCLAVE_QUERY_MAX_MODELS && !m; i++)
        if (q->models[i].live && memcmp(q->models[i].id, req->u.query.model_id, 32) == 0)
            m = &q->models[i];
    if (!m)
        return proto_err_fail(err, err_cap, ENCLAVE_E_NO_MODEL, "model not loaded here");
    const uint8_t *sealed = req->u.query.sealed;
    size_t slen = req->u.query.sealed_len, plen = enclave_seal_open_len(slen), got = 0;
    if (slen < ENCLAVE_SEAL_TO_OVERHEAD)
        return proto_err_fail(err, err_cap, PROTO_E_TRUNCATED, "sealed query too short");
    uint8_t *plain = sodium_malloc(plen ? plen : 1);
    uint8_t reply_pk[32], code[32], code_hash[32];
    ml_mat_t *x = NULL;
    double *pred = NULL;
    if (!plain)
        return PROTO_E_NOMEM;
    uint8_t ctx[ENCLAVE_QUERY_CONTEXT_MAX];
    size_t ctx_len = enclave_query_context(false, req->u.query.model_id, req->u.query.buy_id, ctx);
    rc = enclave_seal_open(st->box_pk, st->secrets->box_sk, ctx, ctx_len, sealed, slen, plain, plen,
                           &got);
    if (rc) {
        rc = proto_err_fail(err, err_cap, rc, "query does not open (key, model or buy)");
        goto out;
    }
    if ((rc = s_query_read(plain, got, ml_model_p(m->model), reply_pk, code, &x))) {
        rc = proto_err_fail(err, err_cap, rc, "query malformed or not the model's width");
        goto out;
    }
    proto_access_code_hash(code, code_hash);
    if (sodium_memcmp(code_hash, b->code_hash, 32) != 0) {
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_ACCESS_CODE, "wrong access code");
        goto out;
    }
    if (x->rows > b->count - b->used) {
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_SPENT, "%llu of %llu rows used",
                            (unsigned long long)b->used, (unsigned long long)b->count);
        goto out;
    }
    if (!(pred = malloc(x->rows * sizeof *pred))) {
        rc = PROTO_E_NOMEM;
        goto out;
    }
    if ((rc = ml_model_predict(m->model, x, pred))) {
        rc = proto_err_fail(err, err_cap, rc, "prediction failed");
        goto out;
    }
    size_t blen = 0;
    if ((rc = s_result_seal(req, reply_pk, b, b->used + x->rows, pred, x->rows, blob, &blen))) {
        rc = proto_err_fail(err, err_cap, rc, "reply key refused");
        goto out;
    }
    b->used += x->rows; /* counted once the answer exists */
    ans->type = ENCLAVE_ANS_QUERY;
    ans->u.blob.bytes = *blob;
    ans->u.blob.len = blen;
out:
    if (pred) {
        sodium_memzero(pred, x->rows * sizeof *pred);
        free(pred);
    }
    if (x) {
        sodium_memzero(x->v, x->rows * x->cols * sizeof *x->v); /* the asker's inputs */
        ml_mat_destroy(&x);
    }
    sodium_memzero(code, sizeof code);
    sodium_free(plain);
    return rc;
}

/* ---- USAGE ---- */

int enclave_kind_usage(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                       uint8_t **blob, char *err, size_t err_cap)
{
    s_buy_t *b = s_buy_find(st->query, req->u.usage.buy_id);
    if (!b)
        return proto_err_fail(err, err_cap, ENCLAVE_E_PAYMENT, "unknown buy");
    proto_usage_t u;
    memset(&u, 0, sizeof u);
    u.version = 1;
    memcpy(u.model_id, b->model_id, 32);
    memcpy(u.buy_id, b->buy_id, 32);
    u.count = b->used;
    u.time_ms = enclave_kind_now_ms();
    memcpy(u.enclave_pk, st->sign_pk, 32);
    size_t len = 0;
    int rc = proto_usage_sign(&u, st->secrets->sign_sk);
    if (rc == PROTO_OK)
        rc = proto_usage_encode(&u, blob, &len);
    if (rc)
        return proto_err_fail(err, err_cap, rc, "usage not signed");
    ans->type = ENCLAVE_ANS_USAGE;
    ans->u.blob.bytes = *blob;
    ans->u.blob.len = len;
    return PROTO_OK;
}

/*  enclave_kind_training: the training kind's donations (DONATE, DONATE_KEYED, STATS, DROP).
 *
 *  A donation arrives sealed to this enclave's box key under the context of its model spec
 *  and data id (enclave_seal_donation_context). The enclave opens it into sodium_malloc
 *  memory, recomputes the owner's salted commitment over the data, compares it with the
 *  registered one the request names, and keeps the data (only in its own memory, bounded by
 *  ENCLAVE_TRAIN_MAX_DONATIONS and ENCLAVE_TRAIN_MAX_BYTES) until a DROP for its data id or
 *  the end of the process; then it signs a donation receipt. A keyed donation (DONATE_KEYED)
 *  brings instead the owner's stored blob (enclave_blob.h) and a key grant sealed to this
 *  enclave for that spec and data id (enclave_grant.h): the enclave opens the grant, then
 *  the blob with the granted key, and checks the commitment against the data id; the rest
 *  is the same. No request returns held data: STATS gives counts. The federated training
 *  jobs (enclave_kind_train_fed.c) read the held donations through enclave_train_view and
 *  wipe them after their evaluation (enclave_train_wipe_spec).
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_blob.h"
#include "enclave/enclave_grant.h"
#include "enclave/enclave_kind.h"
#include "enclave/enclave_prog.h"
#include "proto/proto_report.h"
#include "enclave/enclave_seal.h"

typedef struct {
    uint8_t spec_id[32];
    uint8_t data_id[32];
    uint8_t commitment[32];
    uint8_t donor[32]; /* the donor account the request named */
    uint8_t *plain;    /* sodium_malloc: salt (32) || data */
    size_t plain_len;
} s_donation_t;

struct enclave_train_t {
    s_donation_t *items; /* ENCLAVE_TRAIN_MAX_DONATIONS slots, the first `count` in use */
    size_t count;
    uint64_t bytes; /* data bytes held (salts not counted) */
};

enclave_train_t *enclave_train_new(void)
{
    enclave_train_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->items = calloc(ENCLAVE_TRAIN_MAX_DONATIONS, sizeof *self->items);
    if (!self->items) {
        free(self);
        return NULL;
    }
    return self;
}

static void s_wipe(s_donation_t *d)
{
    if (d->plain)
        sodium_free(d->plain); /* wipes, then unmaps */
    sodium_memzero(d, sizeof *d);
}

void enclave_train_destroy(enclave_train_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    enclave_train_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        s_wipe(&self->items[i]);
    free(self->items);
    free(self);
    *self_p = NULL;
}

static s_donation_t *s_find(enclave_train_t *t, const uint8_t spec_id[32],
                            const uint8_t data_id[32])
{
    for (size_t i = 0; i < t->count; i++)
        if (memcmp(t->items[i].data_id, data_id, 32) == 0 &&
            memcmp(t->items[i].spec_id, spec_id, 32) == 0)
            return &t->items[i];
    return NULL;
}

/* Signs the receipt of donation D (opened and checked) for DONOR, and on success keeps D
   (the store takes its plaintext) and fills ANS with the receipt in *BLOB. On failure D is
   left to the caller. */
static int s_keep(enclave_state_t *st, s_donation_t *d, const uint8_t donor[static 32],
                  enclave_ans_t *ans, uint8_t **blob)
{
    enclave_train_t *t = st->train;
    proto_receipt_t r;
    memset(&r, 0, sizeof r);
    memcpy(r.spec_id, d->spec_id, 32);
    memcpy(r.data_id, d->data_id, 32);
    memcpy(r.donor, donor, 32);
    memcpy(d->donor, donor, 32);
    memcpy(r.data_commitment, d->commitment, 32);
    r.time_ms = enclave_kind_now_ms();
    size_t len = 0;
    int rc;
    if ((rc = proto_receipt_sign(&r, st->secrets->sign_sk)) ||
        (rc = proto_receipt_encode(&r, blob, &len)))
        return rc;
    t->items[t->count++] = *d;
    t->bytes += d->plain_len - 32;
    ans->type = ENCLAVE_ANS_RECEIPT;
    ans->u.blob.bytes = *blob;
    ans->u.blob.len = len;
    return PROTO_OK;
}

int enclave_kind_donate(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                        uint8_t **blob, char *err, size_t err_cap)
{
    enclave_train_t *t = st->train;
    const size_t sealed_len = req->u.donate.sealed_len;
    const size_t plain_cap = enclave_seal_open_len(sealed_len);
    if (sealed_len < ENCLAVE_SEAL_TO_OVERHEAD + 32)
        return proto_err_fail(err, err_cap, PROTO_E_TRUNCATED, "sealed donation too short");
    if (s_find(t, req->u.donate.spec_id, req->u.donate.data_id))
        return proto_err_fail(err, err_cap, PROTO_E_INVALID, "donation already held");
    if (t->count >= ENCLAVE_TRAIN_MAX_DONATIONS ||
        t->bytes + (plain_cap - 32) > ENCLAVE_TRAIN_MAX_BYTES)
        return proto_err_fail(err, err_cap, ENCLAVE_E_FULL, "enclave holds %zu donations, %llu B",
                              t->count, (unsigned long long)t->bytes);

    s_donation_t d;
    memset(&d, 0, sizeof d);
    d.plain = sodium_malloc(plain_cap);
    if (!d.plain)
        return PROTO_E_NOMEM;
    uint8_t ctx[ENCLAVE_SEAL_DONATION_CONTEXT_LEN];
    enclave_seal_donation_context(req->u.donate.spec_id, req->u.donate.data_id, ctx);
    int rc = enclave_seal_open(st->box_pk, st->secrets->box_sk, ctx, sizeof ctx,
                               req->u.donate.sealed, sealed_len, d.plain, plain_cap, &d.plain_len);
    if (rc) {
        rc = proto_err_fail(err, err_cap, rc, "donation does not open with this enclave's key");
        goto err;
    }
    proto_data_commit(d.plain, d.plain + 32, d.plain_len - 32, d.commitment);
    if (sodium_memcmp(d.commitment, req->u.donate.commitment, 32) != 0) {
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_COMMIT,
                            "data does not match the registered commitment");
        goto err;
    }
    memcpy(d.spec_id, req->u.donate.spec_id, 32);
    memcpy(d.data_id, req->u.donate.data_id, 32);
    if ((rc = s_keep(st, &d, req->u.donate.donor, ans, blob)))
        goto err;
    return PROTO_OK;
err:
    s_wipe(&d);
    return rc;
}

int enclave_kind_donate_keyed(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                              uint8_t **blob, char *err, size_t err_cap)
{
    enclave_train_t *t = st->train;
    const uint8_t *spec_id = req->u.donate_keyed.spec_id, *data_id = req->u.donate_keyed.data_id;
    uint64_t plain_len = 0;
    int rc =
        enclave_blob_peek_len(req->u.donate_keyed.blob, req->u.donate_keyed.blob_len, &plain_len);
    if (rc)
        return proto_err_fail(err, err_cap, rc, "not a well-formed data blob");
    if (s_find(t, spec_id, data_id))
        return proto_err_fail(err, err_cap, PROTO_E_INVALID, "donation already held");
    if (t->count >= ENCLAVE_TRAIN_MAX_DONATIONS || t->bytes + plain_len > ENCLAVE_TRAIN_MAX_BYTES)
        return proto_err_fail(err, err_cap, ENCLAVE_E_FULL, "enclave holds %zu donations, %llu B",
                              t->count, (unsigned long long)t->bytes);

    s_donation_t d;
    memset(&d, 0, sizeof d);
    uint8_t salt[32], key[32];
    uint8_t *data = NULL;
    size_t data_len = 0;
    rc = enclave_grant_open(st->box_pk, st->secrets->box_sk, spec_id, data_id,
                            req->u.donate_keyed.grant, req->u.donate_keyed.grant_len, salt, key);
    if (rc) {
        rc = proto_err_fail(err, err_cap, rc, "key grant does not open in this enclave");
        goto err;
    }
    rc = enclave_blob_open(key, req->u.donate_keyed.blob, req->u.donate_keyed.blob_len, &data,
                           &data_len);
    if (rc) {
        rc = proto_err_fail(err, err_cap, rc, "data blob does not open with the granted key");
        goto err;
    }
    proto_data_commit(salt, data, data_len, d.commitment);
    if (sodium_memcmp(d.commitment, data_id, 32) != 0) {
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_COMMIT,
                            "data does not match the registered commitment");
        goto err;
    }
    d.plain_len = 32 + data_len;
    if (!(d.plain = sodium_malloc(d.plain_len))) {
        rc = PROTO_E_NOMEM;
        goto err;
    }
    memcpy(d.plain, salt, 32);
    if (data_len)
        memcpy(d.plain + 32, data, data_len);
    memcpy(d.spec_id, spec_id, 32);
    memcpy(d.data_id, data_id, 32);
    if ((rc = s_keep(st, &d, req->u.donate_keyed.donor, ans, blob)))
        goto err;
    goto out;
err:
    s_wipe(&d);
out:
    enclave_blob_plain_free(data);
    sodium_memzero(salt, sizeof salt);
    sodium_memzero(key, sizeof key);
    return rc;
}

int enclave_kind_stats(enclave_state_t *st, enclave_ans_t *ans)
{
    ans->type = ENCLAVE_ANS_STATS;
    ans->u.stats.donations = st->train->count;
    ans->u.stats.bytes = st->train->bytes;
    return PROTO_OK;
}

/* Wipes item I (swap-remove: order does not matter). */
static void s_remove(enclave_train_t *t, size_t i)
{
    t->bytes -= t->items[i].plain_len - 32;
    s_wipe(&t->items[i]);
    t->items[i] = t->items[t->count - 1];
    sodium_memzero(&t->items[t->count - 1], sizeof t->items[0]);
    t->count--;
}

int enclave_kind_drop(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans)
{
    enclave_train_t *t = st->train;
    bool found = false;
    for (size_t i = 0; i < t->count;) {
        if (memcmp(t->items[i].data_id, req->u.drop.data_id, 32) != 0) {
            i++;
            continue;
        }
        s_remove(t, i);
        found = true;
    }
    ans->type = ENCLAVE_ANS_DROPPED;
    ans->u.dropped.found = found;
    return PROTO_OK;
}

/* ---- what the training jobs read (enclave_kind_train_*.c) ---- */

size_t enclave_train_count(const enclave_train_t *t)
{
    return t->count;
}

void enclave_train_view(const enclave_train_t *t, size_t i, enclave_donation_view_t *out)
{
    const s_donation_t *d = &t->items[i];
    out->spec_id = d->spec_id;
    out->data_id = d->data_id;
    out->donor = d->donor;
    out->data = d->plain + 32;
    out->len = d->plain_len - 32;
}

bool enclave_train_wipe(enclave_train_t *t, const uint8_t spec_id[static 32],
                        const uint8_t data_id[static 32])
{
    s_donation_t *d = s_find(t, spec_id, data_id);
    if (!d)
        return false;
    s_remove(t, (size_t)(d - t->items));
    return true;
}

size_t enclave_train_wipe_spec(enclave_train_t *t, const uint8_t spec_id[static 32])
{
    size_t n = 0;
    for (size_t i = 0; i < t->count;) {
        if (memcmp(t->items[i].spec_id, spec_id, 32) != 0) {
            i++;
            continue;
        }
        s_remove(t, i);
        n++;
    }
    return n;
}

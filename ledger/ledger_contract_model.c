/*  ledger_contract_model: training jobs and model publications, two native contracts of
 *  issue 16 (the escrow and settlement ones are in ledger_contract_settle.c; state and
 *  reads in ledger_model.c).
 *
 *  TRAIN_START    body = [spec_id bin32, coordinator enclave_id bin32, rounds u32,
 *                         query_measurement bin32]
 *  - check: 1 <= rounds <= LEDGER_TRAIN_ROUNDS_MAX (100); the query measurement is not all
 *    zero (LEDGER_E_INVALID).
 *  - apply: the spec exists (LEDGER_E_DATA_RULE); the sender is its trainer
 *    (LEDGER_E_NOT_TRAINER); it has at least min_donors donors and has started fewer than
 *    LEDGER_JOBS_PER_SPEC_MAX jobs (LEDGER_E_JOB); the coordinator is a registered TRAINING
 *    enclave, active, platform key and measurement not revoked, running the spec's
 *    measurement (LEDGER_E_ENCLAVE_RULE). Writes the job (id = txid, RUNNING) and makes it
 *    the spec's current job; a still RUNNING previous job becomes REPLACED (a published one
 *    stays PUBLISHED).
 *  MODEL_PUBLISH  body = [publication bin (an encoded proto_publish)]
 *  - any sender (the coordinator's runner submits it; the enclave's signature is what
 *    counts).
 *  - apply: the publication decodes and verifies (LEDGER_E_PUBLISH); its job exists, is the
 *    spec's current job and RUNNING (LEDGER_E_JOB), and names the publication's spec
 *    (LEDGER_E_PUBLISH); its signer ledger_enclave_id(enclave_pk) is the job's coordinator,
 *    still usable as TRAIN_START requires (LEDGER_E_PUBLISH); every party is a registered
 *    TRAINING enclave, not revoked (a retired one is fine: it trained), running the spec's
 *    measurement (LEDGER_E_PUBLISH); every set bit of the bitmap names a donor seq below the
 *    spec's donor count, that donor's enclave is one of the parties, each party's count of
 *    such donors is its n_records, and proto_publish_records_root of their data ids is
 *    records_root (LEDGER_E_PUBLISH); fewer than LEDGER_MODELS_MAX models exist and the
 *    spec has fewer than LEDGER_MODELS_PER_SPEC_MAX, and every used record's audit trail has
 *    room (LEDGER_E_DATA_RULE). Writes the model (id = txid), appends it to the model
 *    directory and the spec's models, marks the job PUBLISHED (with the model id), indexes
 *    each donor account's used records (data id, party) for settlement, appends the model
 *    to those accounts' model lists, and writes a TRAINED audit entry (actor = the
 *    coordinator enclave, spec, txid) on every used record. A record withdrawn after
 *    training still counts: the model used it.
 *  admit (mempool) runs the same rules as apply against committed state, writing nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_data.h"
#include "ledger/ledger_data_int.h"
#include "ledger/ledger_model.h"
#include "ledger/ledger_model_int.h"
#include "ledger/ledger_state.h"
#include "proto/proto_attest.h"
#include "proto/proto_publish.h"

static const uint8_t s_zero[32];

/* The spec ID into *S (LEDGER_E_DATA_RULE when there is none). */
static int s_spec(ledger_state_t *st, const uint8_t id[static 32], ledger_spec_t *s, char *err,
                  size_t err_cap)
{
    int rc = ledger_spec_get(st, id, s);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, LEDGER_E_DATA_RULE, "no such model spec");
    if (rc != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "cannot read the model spec");
    return rc;
}

/* ------------------------------------------------------------ TRAIN_START */

int ledger_contract_train_start_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    ledger_train_start_t *b = &body->train_start;
    uint64_t rounds = 0;
    memset(b, 0, sizeof *b);
    int rc = proto_rd_array_exact(r, 4);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, b->spec_id);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, b->coordinator);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT32_MAX, &rounds);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, b->query_measurement);
    b->rounds = (uint32_t)rounds;
    return rc;
}

void ledger_contract_train_start_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    const ledger_train_start_t *b = &body->train_start;
    proto_wr_array(w, 4);
    proto_wr_bin(w, b->spec_id, 32);
    proto_wr_bin(w, b->coordinator, 32);
    proto_wr_uint(w, b->rounds);
    proto_wr_bin(w, b->query_measurement, 32);
}

int ledger_contract_train_start_check(const ledger_tx_t *tx, char *err, size_t err_cap)
{
    const ledger_train_start_t *b = &tx->body.train_start;
    if (b->rounds < 1 || b->rounds > LEDGER_TRAIN_ROUNDS_MAX)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID, "rounds must be 1..100");
    if (memcmp(b->query_measurement, s_zero, 32) == 0)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "a query enclave measurement is required");
    return LEDGER_OK;
}

static int s_train_rules(ledger_state_t *st, const ledger_tx_t *tx, ledger_spec_t *s,
                         uint8_t cur[static 32], uint32_t *started, char *err, size_t err_cap)
{
    const ledger_train_start_t *b = &tx->body.train_start;
    ledger_enclave_t e;
    int rc = s_spec(st, b->spec_id, s, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    if (memcmp(s->trainer, tx->from, 32) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_NOT_TRAINER,
                              "sender is not the spec's trainer");
    if (s->n_donors < s->min_donors)
        return proto_err_fail(err, err_cap, LEDGER_E_JOB,
                              "the spec has fewer donors than its min_donors");
    if ((rc = ledger_spec_jobs(st, b->spec_id, cur, started)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the spec's jobs");
    if (*started >= LEDGER_JOBS_PER_SPEC_MAX)
        return proto_err_fail(err, err_cap, LEDGER_E_JOB,
                              "the spec has started the most jobs it may");
    rc = ledger_data_enclave_usable(st, b->coordinator, PROTO_ATTEST_KIND_TRAINING,
                                    LEDGER_E_ENCLAVE_RULE, &e, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    if (memcmp(e.measurement, s->measurement, 32) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_ENCLAVE_RULE,
                              "the coordinator does not run the spec's measurement");
    return LEDGER_OK;
}

int ledger_contract_train_start_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                      size_t err_cap)
{
    uint8_t cur[32];
    uint32_t started;
    ledger_spec_t *s = malloc(sizeof *s);
    if (!s)
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    int rc = s_train_rules(st, tx, s, cur, &started, err, err_cap);
    free(s);
    return rc;
}

int ledger_contract_train_start_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                      size_t err_cap)
{
    const ledger_train_start_t *b = &tx->body.train_start;
    uint8_t cur[32];
    uint32_t started;
    ledger_spec_t *s = malloc(sizeof *s);
    if (!s)
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    int rc = s_train_rules(st, tx, s, cur, &started, err, err_cap);
    free(s);
    if (rc != LEDGER_OK)
        return rc;
    if (memcmp(cur, s_zero, 32) != 0) {
        ledger_job_t old;
        if ((rc = ledger_job_get(st, cur, &old)) != LEDGER_OK)
            return proto_err_fail(err, err_cap, rc == LEDGER_E_NOT_FOUND ? LEDGER_E_CORRUPT : rc,
                                  "cannot read the spec's current job");
        if (old.status == LEDGER_JOB_RUNNING) {
            old.status = LEDGER_JOB_REPLACED;
            if ((rc = ledger_job_put(st, &old)) != LEDGER_OK)
                return proto_err_fail(err, err_cap, rc, "out of memory");
        }
    }
    ledger_job_t j = {.rounds = b->rounds,
                      .height = ledger_state_base_height(st) + 1,
                      .status = LEDGER_JOB_RUNNING};
    ledger_tx_id(tx->bytes, tx->len, j.id);
    memcpy(j.spec_id, b->spec_id, 32);
    memcpy(j.coordinator, b->coordinator, 32);
    memcpy(j.query_measurement, b->query_measurement, 32);
    if ((rc = ledger_job_put(st, &j)) != LEDGER_OK ||
        (rc = ledger_spec_jobs_put(st, b->spec_id, j.id, started + 1)) != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "out of memory");
    return rc;
}

/* ------------------------------------------------------------ MODEL_PUBLISH */

int ledger_contract_model_publish_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    memset(&body->model_publish, 0, sizeof body->model_publish);
    return ledger_body_bin_decode(r, PROTO_PUBLISH_MAX_BYTES, &body->model_publish.publication,
                                  &body->model_publish.publication_len);
}

void ledger_contract_model_publish_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    ledger_body_bin_encode(w, body->model_publish.publication, body->model_publish.publication_len);
}

/* One used record: its owner (the donor account), data id and party. */
typedef struct {
    uint8_t owner[32];
    uint8_t data_id[32];
    uint8_t party;
} s_used_t;

/* What the rules learn and apply writes. */
typedef struct {
    proto_publish_t pub;
    uint8_t enclave[32]; /* the coordinator's id */
    ledger_job_t job;
    ledger_spec_t spec;
    s_used_t *used; /* n_used, sorted by owner then data id */
    size_t n_used;
} s_publish_t;

static int s_used_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 64); /* owner then data id */
}

/* The publication's job and signer. */
static int s_publish_job(ledger_state_t *st, s_publish_t *x, char *err, size_t err_cap)
{
    ledger_enclave_t e;
    uint8_t cur[32];
    uint32_t started;
    int rc = ledger_job_get(st, x->pub.job_id, &x->job);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, LEDGER_E_JOB, "no such training job");
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the job");
    if (memcmp(x->job.spec_id, x->pub.spec_id, 32) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_PUBLISH,
                              "the publication names another spec than its job's");
    if ((rc = ledger_spec_jobs(st, x->job.spec_id, cur, &started)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the spec's jobs");
    if (memcmp(cur, x->job.id, 32) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_JOB, "the job is not the spec's current job");
    if (x->job.status != LEDGER_JOB_RUNNING)
        return proto_err_fail(err, err_cap, LEDGER_E_JOB,
                              "the job is not running (published already)");
    ledger_enclave_id(x->pub.enclave_pk, x->enclave);
    if (memcmp(x->enclave, x->job.coordinator, 32) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_PUBLISH,
                              "the publication is not signed by the job's coordinator");
    return ledger_data_enclave_usable(st, x->enclave, PROTO_ATTEST_KIND_TRAINING, LEDGER_E_PUBLISH,
                                      &e, err, err_cap);
}

/* Every party a registered, unrevoked TRAINING enclave of the spec's measurement. */
static int s_publish_parties(ledger_state_t *st, const s_publish_t *x, char *err, size_t err_cap)
{
    for (size_t i = 0; i < x->pub.n_parties; i++) {
        ledger_enclave_t e;
        int rc = ledger_enclave_get(st, x->pub.parties[i].enclave_id, &e);
        if (rc == LEDGER_E_NOT_FOUND)
            return proto_err_fail(err, err_cap, LEDGER_E_PUBLISH,
                                  "a party is not a registered enclave");
        if (rc != LEDGER_OK)
            return proto_err_fail(err, err_cap, rc, "cannot read the enclave registry");
        if (e.kind != PROTO_ATTEST_KIND_TRAINING || e.status == LEDGER_ENCLAVE_REVOKED ||
            memcmp(e.measurement, x->spec.measurement, 32) != 0)
            return proto_err_fail(
                err, err_cap, LEDGER_E_PUBLISH,
                "a party is not an unrevoked training enclave of the spec's measurement");
    }
    return LEDGER_OK;
}

/* The donors behind the bitmap, into x->used (sorted), checked against the parties and
   records_root. */
static int s_publish_records(ledger_state_t *st, s_publish_t *x, char *err, size_t err_cap)
{
    const proto_publish_t *p = &x->pub;
    uint32_t per_party[PROTO_PUBLISH_PARTIES_MAX] = {0};
    size_t bits = p->bitmap_len * 8;
    /* the last byte is nonzero (proto_publish's rule): its highest set bit bounds the seqs */
    if (bits - 8 >= x->spec.n_donors || p->n_records > x->spec.n_donors)
        return proto_err_fail(err, err_cap, LEDGER_E_PUBLISH,
                              "the bitmap names donors past the spec's donor count");
    x->used = calloc(p->n_records, sizeof *x->used);
    uint8_t(*ids)[32] = malloc((size_t)p->n_records * 32);
    if (!x->used || !ids) {
        free(ids);
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    }
    int rc = LEDGER_OK;
    size_t n = 0;
    for (size_t s = 0; s < bits && rc == LEDGER_OK; s++) {
        if (!(p->bitmap[s / 8] >> (s % 8) & 1))
            continue;
        ledger_donor_t d;
        if (s >= x->spec.n_donors || n >= p->n_records) {
            rc = proto_err_fail(err, err_cap, LEDGER_E_PUBLISH,
                                "the bitmap names donors past the spec's donor count");
            break;
        }
        if ((rc = ledger_donor_by_seq(st, x->spec.id, (uint32_t)s, &d)) != LEDGER_OK) {
            proto_err_fail(err, err_cap, rc, "cannot read the spec's donors");
            break;
        }
        size_t q = 0;
        while (q < p->n_parties && memcmp(p->parties[q].enclave_id, d.enclave_id, 32) != 0)
            q++;
        if (q == p->n_parties) {
            rc = proto_err_fail(err, err_cap, LEDGER_E_PUBLISH,
                                "a used record's donation went to an enclave that is not a party");
            break;
        }
        per_party[q]++;
        memcpy(x->used[n].owner, d.owner, 32);
        memcpy(x->used[n].data_id, d.data_id, 32);
        x->used[n].party = (uint8_t)q;
        memcpy(ids[n], d.data_id, 32);
        n++;
    }
    for (size_t q = 0; q < p->n_parties && rc == LEDGER_OK; q++)
        if (per_party[q] != p->parties[q].n_records) {
            rc = proto_err_fail(err, err_cap, LEDGER_E_PUBLISH,
                                "a party's n_records is not its count of used donors");
        }
    if (rc == LEDGER_OK) {
        uint8_t root[32];
        proto_publish_records_root_inplace(ids, n, root);
        if (memcmp(root, p->records_root, 32) != 0) {
            rc = proto_err_fail(err, err_cap, LEDGER_E_PUBLISH,
                                "records_root is not the root of the used records' data ids");
        }
    }
    free(ids);
    x->n_used = n;
    if (rc == LEDGER_OK && n > 1)
        qsort(x->used, n, sizeof *x->used, s_used_cmp);
    return rc;
}

/* Room in the directories and in every used record's trail. */
static int s_publish_room(ledger_state_t *st, const s_publish_t *x, char *err, size_t err_cap)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN];
    const uint8_t dir[1] = {LEDGER_KEY_MODEL_DIR};
    const char *read_msg = "cannot read the ledger state";
    int rc = ledger_data_list_room(st, dir, sizeof dir, LEDGER_MODELS_MAX, LEDGER_MODELS_MAX,
                                   read_msg, "the model directory is full", err, err_cap, NULL);
    ledger_data_key1(key, LEDGER_KEY_MODEL_DIR, x->spec.id);
    if (rc == LEDGER_OK)
        rc = ledger_data_list_room(st, key, sizeof key, LEDGER_MODELS_PER_SPEC_MAX,
                                   LEDGER_MODELS_PER_SPEC_MAX, read_msg,
                                   "the spec has the most models it may have", err, err_cap, NULL);
    for (size_t i = 0; i < x->n_used && rc == LEDGER_OK; i++) {
        ledger_data_key1(key, LEDGER_KEY_DATA_USES, x->used[i].data_id);
        rc = ledger_data_list_room(st, key, sizeof key, LEDGER_DATA_USES_MAX,
                                   LEDGER_DATA_USES_MAX - 1, read_msg,
                                   "a used record's audit trail is full", err, err_cap, NULL);
    }
    return rc;
}

static int s_publish_rules(ledger_state_t *st, const ledger_tx_t *tx, s_publish_t *x, char *err,
                           size_t err_cap)
{
    const ledger_model_publish_t *b = &tx->body.model_publish;
    if (proto_publish_decode(b->publication, b->publication_len, &x->pub) != PROTO_OK)
        return proto_err_fail(
            err, err_cap, LEDGER_E_PUBLISH,
            "the model publication does not decode (or breaks a publication rule)");
    if (proto_publish_verify(&x->pub) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_PUBLISH,
                              "the model publication's signature does not verify");
    int rc = s_publish_job(st, x, err, err_cap);
    if (rc == LEDGER_OK)
        rc = s_spec(st, x->job.spec_id, &x->spec, err, err_cap);
    if (rc == LEDGER_OK)
        rc = s_publish_parties(st, x, err, err_cap);
    if (rc == LEDGER_OK)
        rc = s_publish_records(st, x, err, err_cap);
    if (rc == LEDGER_OK)
        rc = s_publish_room(st, x, err, err_cap);
    return rc;
}

static void s_publish_free(s_publish_t **x_p)
{
    if (*x_p) {
        free((*x_p)->used);
        free(*x_p);
        *x_p = NULL;
    }
}

int ledger_contract_model_publish_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                        size_t err_cap)
{
    s_publish_t *x = calloc(1, sizeof *x);
    if (!x)
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    int rc = s_publish_rules(st, tx, x, err, err_cap);
    s_publish_free(&x);
    return rc;
}

/* The used-record index of each donor account (x->used is sorted by owner). */
static int s_publish_index(ledger_state_t *st, const s_publish_t *x, const uint8_t model_id[32],
                           char *err, size_t err_cap)
{
    int rc = LEDGER_OK;
    ledger_used_rec_t *recs = calloc(x->n_used ? x->n_used : 1, sizeof *recs);
    if (!recs)
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    for (size_t i = 0; i < x->n_used && rc == LEDGER_OK;) {
        size_t j = i;
        while (j < x->n_used && memcmp(x->used[j].owner, x->used[i].owner, 32) == 0) {
            memcpy(recs[j - i].data_id, x->used[j].data_id, 32);
            recs[j - i].party = x->used[j].party;
            j++;
        }
        uint8_t key[LEDGER_DATA_KEY1_LEN];
        if ((rc = ledger_model_used_put(st, model_id, x->used[i].owner, recs, j - i)) !=
            LEDGER_OK) {
            proto_err_fail(err, err_cap, rc, "out of memory");
            break;
        }
        ledger_data_key1(key, LEDGER_KEY_MODEL_USED, x->used[i].owner);
        rc = ledger_data_ids_append(st, key, sizeof key, LEDGER_MODELS_MAX, model_id,
                                    "the account's model list is full", err, err_cap);
        i = j;
    }
    free(recs);
    return rc;
}

int ledger_contract_model_publish_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                        size_t err_cap)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN];
    const uint8_t dir[1] = {LEDGER_KEY_MODEL_DIR};
    s_publish_t *x = calloc(1, sizeof *x);
    ledger_model_t *m = calloc(1, sizeof *m);
    int rc = LEDGER_E_NOMEM;
    if (!x || !m) {
        proto_err_fail(err, err_cap, rc, "out of memory");
        goto out;
    }
    if ((rc = s_publish_rules(st, tx, x, err, err_cap)) != LEDGER_OK)
        goto out;
    const proto_publish_t *p = &x->pub;
    ledger_tx_id(tx->bytes, tx->len, m->id);
    memcpy(m->spec_id, p->spec_id, 32);
    memcpy(m->job_id, p->job_id, 32);
    memcpy(m->model_hash, p->model_hash, 32);
    memcpy(m->query_measurement, x->job.query_measurement, 32);
    memcpy(m->coordinator, x->enclave, 32);
    m->n_train = p->n_train;
    m->n_test = p->n_test;
    m->n_records = p->n_records;
    m->n_metrics = p->n_metrics;
    memcpy(m->metrics, p->metrics, sizeof m->metrics);
    m->n_parties = p->n_parties;
    memcpy(m->parties, p->parties, sizeof m->parties);
    m->time_ms = p->time_ms;
    m->height = ledger_state_base_height(st) + 1;
    if ((rc = ledger_model_put(st, m)) != LEDGER_OK) {
        proto_err_fail(err, err_cap, rc, "out of memory");
        goto out;
    }
    rc = ledger_data_ids_append(st, dir, sizeof dir, LEDGER_MODELS_MAX, m->id,
                                "the model directory is full", err, err_cap);
    ledger_data_key1(key, LEDGER_KEY_MODEL_DIR, m->spec_id);
    if (rc == LEDGER_OK)
        rc = ledger_data_ids_append(st, key, sizeof key, LEDGER_MODELS_PER_SPEC_MAX, m->id,
                                    "the spec has the most models it may have", err, err_cap);
    if (rc != LEDGER_OK)
        goto out;
    x->job.status = LEDGER_JOB_PUBLISHED;
    memcpy(x->job.model_id, m->id, 32);
    if ((rc = ledger_job_put(st, &x->job)) != LEDGER_OK) {
        proto_err_fail(err, err_cap, rc, "out of memory");
        goto out;
    }
    if ((rc = s_publish_index(st, x, m->id, err, err_cap)) != LEDGER_OK)
        goto out;
    for (size_t i = 0; i < x->n_used && rc == LEDGER_OK; i++)
        rc = ledger_data_use_add(st, x->used[i].data_id, LEDGER_USE_TRAINED, x->enclave, m->spec_id,
                                 m->id, m->height, err, err_cap);
out:
    s_publish_free(&x);
    free(m);
    return rc;
}

/* ------------------------------------------------------------ client helpers */

uint8_t *ledger_contract_train_start_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                        uint64_t nonce, const uint8_t spec_id[static 32],
                                        const uint8_t coordinator[static 32], uint32_t rounds,
                                        const uint8_t query_measurement[static 32], size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    ledger_train_start_t *b = &tx.body.train_start;
    memcpy(b->spec_id, spec_id, 32);
    memcpy(b->coordinator, coordinator, 32);
    b->rounds = rounds;
    memcpy(b->query_measurement, query_measurement, 32);
    return ledger_data_sign(&tx, key, chain_id, nonce, LEDGER_TX_TRAIN_START, len);
}

uint8_t *ledger_contract_model_publish_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                          uint64_t nonce, const uint8_t *publication,
                                          size_t pub_len, size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    if (pub_len > PROTO_PUBLISH_MAX_BYTES || (!publication && pub_len))
        return NULL;
    tx.body.model_publish.publication = publication;
    tx.body.model_publish.publication_len = pub_len;
    return ledger_data_sign(&tx, key, chain_id, nonce, LEDGER_TX_MODEL_PUBLISH, len);
}

/*  ledger_data_body: the lists inside the data owner's tx bodies (ledger_list_view_t,
 *  ledger_tx.h): reading them strictly in decode_body (every count and length bounded),
 *  and copying them out into the ledger_data.h structs for check and apply. Also the
 *  string and key array readers the state records share.
 */
#include <string.h>

#include "ledger/ledger_data.h"
#include "ledger/ledger_data_int.h"

/* ------------------------------------------------------------ body lists */

int ledger_list_rd_str(proto_rd_t *r, uint32_t max_n, size_t max_len, ledger_list_view_t *v)
{
    size_t start = r->pos;
    uint32_t n = 0;
    int rc = proto_rd_array_max(r, max_n, &n);
    for (uint32_t i = 0; rc == PROTO_OK && i < n; i++) {
        const char *p;
        size_t len;
        rc = proto_rd_str(r, max_len, &p, &len);
    }
    if (rc != PROTO_OK)
        return rc;
    v->raw = r->buf + start;
    v->len = r->pos - start;
    v->n = n;
    return PROTO_OK;
}

int ledger_list_rd_bin32(proto_rd_t *r, uint32_t max_n, ledger_list_view_t *v)
{
    size_t start = r->pos;
    uint32_t n = 0;
    uint8_t tmp[32];
    int rc = proto_rd_array_max(r, max_n, &n);
    for (uint32_t i = 0; rc == PROTO_OK && i < n; i++)
        rc = proto_rd_bin_exact(r, 32, tmp);
    if (rc != PROTO_OK)
        return rc;
    v->raw = r->buf + start;
    v->len = r->pos - start;
    v->n = n;
    return PROTO_OK;
}

int ledger_rd_strs(proto_rd_t *r, uint32_t max_n, char *out, size_t cap, uint32_t *n)
{
    int rc = proto_rd_array_max(r, max_n, n);
    for (uint32_t i = 0; rc == PROTO_OK && i < *n; i++)
        rc = proto_rd_str_copy(r, out + i * cap, cap);
    return rc;
}

int ledger_rd_bin32s(proto_rd_t *r, uint32_t max_n, uint8_t (*out)[32], uint32_t *n)
{
    int rc = proto_rd_array_max(r, max_n, n);
    for (uint32_t i = 0; rc == PROTO_OK && i < *n; i++)
        rc = proto_rd_bin_exact(r, 32, out[i]);
    return rc;
}

int ledger_list_strs(const ledger_list_view_t *v, char *out, size_t cap)
{
    proto_rd_t r;
    uint32_t n;
    proto_rd_init(&r, v->raw, v->len);
    int rc = ledger_rd_strs(&r, v->n, out, cap, &n);
    return rc == PROTO_OK ? proto_rd_finish(&r) : rc;
}

int ledger_list_bin32(const ledger_list_view_t *v, uint8_t (*out)[32])
{
    proto_rd_t r;
    uint32_t n;
    proto_rd_init(&r, v->raw, v->len);
    int rc = ledger_rd_bin32s(&r, v->n, out, &n);
    return rc == PROTO_OK ? proto_rd_finish(&r) : rc;
}

static int s_names_view(const ledger_list_view_t *v, ledger_names_t *out)
{
    out->n = v->n;
    return ledger_list_strs(v, &out->v[0][0], sizeof out->v[0]);
}

int ledger_consent_from_body(const ledger_consent_set_t *b, ledger_consent_t *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->data_id, b->data_id, 32);
    int rc = s_names_view(&b->allow_types, &out->allow_types);
    if (rc == PROTO_OK)
        rc = s_names_view(&b->allow_purposes, &out->allow_purposes);
    if (rc == PROTO_OK)
        rc = s_names_view(&b->deny_types, &out->deny_types);
    if (rc == PROTO_OK)
        rc = s_names_view(&b->deny_purposes, &out->deny_purposes);
    out->max_epsilon_milli = b->max_epsilon_milli;
    out->min_audits = b->min_audits;
    out->n_auditors = b->auditors.n;
    if (rc == PROTO_OK)
        rc = ledger_list_bin32(&b->auditors, out->auditors);
    return rc;
}

/* Copies LEN bytes of S into OUT (CAP bytes, LEN < CAP), NUL-terminated. */
static int s_copy_str(char *out, size_t cap, const char *s, size_t len)
{
    if (len >= cap)
        return PROTO_E_TOO_LONG;
    memcpy(out, s, len);
    out[len] = '\0';
    return PROTO_OK;
}

int ledger_spec_from_body(const ledger_spec_register_t *b, ledger_spec_t *out)
{
    memset(out, 0, sizeof *out);
    int rc = s_copy_str(out->model_type, sizeof out->model_type, b->model_type, b->model_type_len);
    if (rc == PROTO_OK)
        rc = s_copy_str(out->purpose, sizeof out->purpose, b->purpose, b->purpose_len);
    if (rc == PROTO_OK)
        rc = s_copy_str(out->label, sizeof out->label, b->label, b->label_len);
    out->n_features = b->features.n;
    if (rc == PROTO_OK)
        rc = ledger_list_strs(&b->features, &out->features[0][0], sizeof out->features[0]);
    memcpy(out->measurement, b->measurement, 32);
    out->min_donors = b->min_donors;
    out->max_epsilon_milli = b->max_epsilon_milli;
    out->aggregation = b->aggregation;
    out->price = b->price;
    out->share_donors_bp = b->share_donors_bp;
    out->share_trainer_bp = b->share_trainer_bp;
    out->share_runner_bp = b->share_runner_bp;
    return rc;
}

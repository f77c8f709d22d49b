/*  ml_fed: federated averaging messages, coordinator and party (see ml_fed.h). */
#include "ml/ml_fed.h"

#include <float.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_log.h"
#include "proto/proto_mp.h"

/* ---- messages ---- */

#define S_F64_TAG 0xcb /* msgpack float 64 */

/* Reads one finite float64 (proto_rd_f64; a non-finite one is PROTO_E_INVALID here); the
 * first error sticks as in proto_rd. */
static int s_rd_f64(proto_rd_t *r, double *v)
{
    int rc = proto_rd_f64(r, v);
    if (rc == PROTO_E_RANGE)
        rc = r->err = PROTO_E_INVALID;
    return rc;
}

static void s_put_f64(uint8_t *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    p[0] = S_F64_TAG;
    for (int i = 8; i >= 1; i--) {
        p[i] = (uint8_t)u;
        u >>= 8;
    }
}

static bool s_kind_ok(uint64_t k)
{
    return k == ML_FED_GLOBAL || k == ML_FED_UPDATE || k == ML_FED_DONE;
}

int ml_fed_msg_encode(const ml_fed_msg_t *m, uint8_t **buf, size_t *len)
{
    if (!s_kind_ok(m->kind) || m->party >= ML_FED_PARTIES_MAX || m->n > ML_FED_SAMPLES_MAX ||
        m->dim > ML_FED_DIM_MAX || (m->dim && !m->w) || ((m->kind == ML_FED_UPDATE) != (m->n != 0)))
        return ML_E_SPEC;
    uint8_t *fl = malloc(m->dim ? m->dim * 9 : 1);
    if (!fl)
        return PROTO_E_NOMEM;
    for (size_t j = 0; j < m->dim; j++) {
        if (!isfinite(m->w[j])) {
            free(fl);
            return ML_E_SPEC;
        }
        s_put_f64(fl + 9 * j, m->w[j]);
    }
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 5);
    proto_wr_uint(&w, (uint64_t)m->kind);
    proto_wr_uint(&w, m->round);
    proto_wr_uint(&w, m->party);
    proto_wr_uint(&w, m->n);
    proto_wr_array(&w, (uint32_t)m->dim);
    proto_wr_raw(&w, fl, m->dim * 9);
    free(fl);
    *buf = proto_wr_take(&w, len);
    int rc = *buf ? 0 : (w.err ? w.err : PROTO_E_NOMEM);
    proto_wr_free(&w);
    return rc;
}

int ml_fed_msg_decode(const uint8_t *buf, size_t len, size_t max_dim, ml_fed_msg_t *m)
{
    memset(m, 0, sizeof *m);
    if (max_dim > ML_FED_DIM_MAX)
        max_dim = ML_FED_DIM_MAX;
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    uint64_t kind = 0, round = 0, party = 0, n = 0;
    uint32_t dim = 0;
    if (proto_rd_array_exact(&r, 5) || proto_rd_uint(&r, ML_FED_DONE, &kind) ||
        proto_rd_uint(&r, UINT32_MAX, &round) ||
        proto_rd_uint(&r, ML_FED_PARTIES_MAX - 1, &party) ||
        proto_rd_uint(&r, ML_FED_SAMPLES_MAX, &n) ||
        proto_rd_array_max(&r, (uint32_t)max_dim, &dim))
        return r.err;
    if (!s_kind_ok(kind))
        return PROTO_E_RANGE;
    if ((kind == ML_FED_UPDATE) != (n != 0))
        return PROTO_E_INVALID;
    if ((size_t)dim > (r.len - r.pos) / 9) /* never allocate for bytes that are not there */
        return PROTO_E_TRUNCATED;
    m->kind = (ml_fed_kind_t)kind;
    m->round = (uint32_t)round;
    m->party = (uint32_t)party;
    m->n = n;
    m->dim = dim;
    if (dim) {
        m->w = malloc((size_t)dim * sizeof *m->w);
        if (!m->w)
            return PROTO_E_NOMEM;
    }
    for (size_t j = 0; j < dim; j++)
        if (s_rd_f64(&r, &m->w[j]))
            return r.err;
    return proto_rd_finish(&r);
}

void ml_fed_msg_clear(ml_fed_msg_t *m)
{
    free(m->w);
    memset(m, 0, sizeof *m);
}

/* ---- differentially private aggregation ---- */

#define S_NOISE_STREAM 0x61676764ull /* "aggd": the coordinator's noise stream */

int ml_fed_agg_noise_for(double eps, double delta, uint32_t rounds, double *z)
{
    *z = 0.0;
    if (rounds == 0)
        return ML_E_SPEC;
    return ml_dp_sigma_for(eps, delta, 1.0, rounds, z);
}

int ml_fed_agg_eps(double z, uint32_t rounds, double delta, double *eps)
{
    *eps = 0.0;
    if (!(z > 0.0) || !isfinite(z) || rounds == 0)
        return ML_E_SPEC;
    return ml_dp_eps(1.0, z, rounds, delta, eps);
}

/* D = U - G clamped to finite values, scaled to L2 norm <= CLIP. The norm is taken with
 * the largest magnitude factored out, so it does not overflow. */
static void s_clip_delta(const double *u, const double *g, size_t dim, double clip, double *d)
{
    double amax = 0.0;
    for (size_t j = 0; j < dim; j++) {
        double x = u[j] - g[j];
        if (!isfinite(x))
            x = x > 0 ? DBL_MAX : -DBL_MAX;
        d[j] = x;
        amax = fmax(amax, fabs(x));
    }
    if (amax == 0.0)
        return;
    double s = 0.0;
    for (size_t j = 0; j < dim; j++) {
        double y = d[j] / amax;
        s += y * y;
    }
    double norm = amax * sqrt(s); /* may be +inf: then the scale below is 0 or tiny */
    if (norm <= clip)
        return;
    double f = clip / amax / sqrt(s); /* = clip / norm without forming norm */
    for (size_t j = 0; j < dim; j++)
        d[j] *= f;
}

int ml_fed_agg_dp(const ml_robust_rule_t *rule, const double *global, const double *const *upd,
                  size_t m, size_t dim, double clip, double noise, ml_sgd_rng_t *rng, double *out,
                  double *sens, char *err, size_t err_cap)
{
    double s = 0.0;
    if (sens)
        *sens = 0.0;
    if (!(noise >= 0.0) || !isfinite(noise) || (noise > 0.0 && !rng))
        return proto_err_fail(err, err_cap, ML_E_SPEC, "noise multiplier %g", noise);
    int rc = ml_robust_sensitivity(rule, m, clip, &s);
    if (rc != 0)
        return proto_err_fail(err, err_cap, rc, "%s over %zu updates with clip %g",
                              ml_robust_kind_str(rule->kind), m, clip);
    if (m == 0 || dim == 0 || dim > ML_FED_DIM_MAX || m > ML_FED_PARTIES_MAX)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "dimension %zu or %zu updates", dim, m);
    double *d = malloc(m * dim * sizeof *d), *agg = malloc(dim * sizeof *agg);
    const double **v = malloc(m * sizeof *v);
    double *w = malloc(m * sizeof *w);
    if (!d || !agg || !v || !w) {
        rc = proto_err_fail(err, err_cap, PROTO_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < m; i++) {
        s_clip_delta(upd[i], global, dim, clip, d + i * dim);
        v[i] = d + i * dim;
        w[i] = 1.0;
    }
    rc = ml_robust_aggregate(rule, v, w, m, dim, agg, NULL, err, err_cap);
    if (rc != 0)
        goto out;
    double std = noise * s;
    for (size_t j = 0; j < dim; j++)
        out[j] = global[j] + agg[j] + (std > 0.0 ? std * ml_sgd_rng_gauss(rng) : 0.0);
    if (sens)
        *sens = s;
out:
    if (d)
        sodium_memzero(d, m * dim * sizeof *d);
    if (agg)
        sodium_memzero(agg, dim * sizeof *agg);
    free(d);
    free(agg);
    free(v);
    free(w);
    return rc;
}

/* ---- coordinator ---- */

typedef struct {
    uint32_t party;
    uint8_t *buf;
    size_t len;
} s_out_t;

struct ml_fed_coord_t {
    ml_fed_spec_t spec; /* w0 cleared after copying */
    double *w;          /* dim: global weights */
    double *upd;        /* parties x dim: this round's updates */
    double *n;          /* parties: their sample counts */
    uint8_t *have;      /* parties: update received this round */
    uint32_t have_count;
    uint32_t round; /* 0 before start, rounds + 1 when done */
    uint32_t retries;
    uint64_t deadline;
    bool failed;
    s_out_t *out; /* parties */
    size_t out_n;
    ml_fed_stats_t stats;
    ml_sgd_rng_t rng;   /* the aggregation's noise */
    ml_dp_acct_t *acct; /* party-level accountant (NULL without noise) */
    double noise_std;   /* of the last round */
};

int ml_fed_spec_check(const ml_fed_spec_t *s, char *err, size_t err_cap)
{
    if (s->parties == 0 || s->parties > ML_FED_PARTIES_MAX)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "parties %u not in 1..%d", s->parties,
                              ML_FED_PARTIES_MAX);
    if (s->rounds == 0 || s->rounds == UINT32_MAX)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "rounds must be >= 1");
    if (s->dim == 0 || s->dim > ML_FED_DIM_MAX)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "dimension %zu not in 1..%u", s->dim,
                              ML_FED_DIM_MAX);
    if (s->quorum > s->parties)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "quorum %u above %u parties", s->quorum,
                              s->parties);
    if (s->round_timeout == 0)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "round timeout must be >= 1");
    if (s->w0)
        for (size_t j = 0; j < s->dim; j++)
            if (!isfinite(s->w0[j]))
                return proto_err_fail(err, err_cap, ML_E_SPEC, "initial weight %zu not finite", j);
    if (!(s->clip >= 0.0) || !isfinite(s->clip) || !(s->noise >= 0.0) || !isfinite(s->noise))
        return proto_err_fail(err, err_cap, ML_E_SPEC, "clip %g and noise %g: finite, >= 0",
                              s->clip, s->noise);
    /* the rule must work with as few updates as may close a round */
    int rc = ml_robust_check(&s->rule, s->quorum ? s->quorum : s->parties, err, err_cap);
    if (rc != 0 || s->noise == 0.0)
        return rc;
    if (s->clip == 0.0)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "aggregation noise needs a clip norm");
    if (!(s->dp_delta > 0.0 && s->dp_delta < 1.0) || !(s->dp_eps_max > 0.0))
        return proto_err_fail(err, err_cap, ML_E_SPEC,
                              "aggregation dp: delta in (0,1) and eps max > 0");
    double e = 0.0;
    rc = ml_fed_agg_eps(s->noise, s->rounds, s->dp_delta, &e);
    if (rc != 0)
        return proto_err_fail(err, err_cap, rc, "aggregation dp: accountant refused the plan");
    if (e > s->dp_eps_max)
        return proto_err_fail(err, err_cap, ML_E_BUDGET,
                              "aggregation dp: %u rounds at noise %.4g would spend party-level "
                              "epsilon %.4g above the budget %.4g",
                              s->rounds, s->noise, e, s->dp_eps_max);
    return 0;
}

ml_fed_coord_t *ml_fed_coord_new(const ml_fed_spec_t *spec)
{
    if (ml_fed_spec_check(spec, NULL, 0) != 0)
        return NULL;
    ml_fed_coord_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->spec = *spec;
    c->spec.w0 = NULL;
    if (c->spec.quorum == 0)
        c->spec.quorum = spec->parties;
    size_t k = spec->parties, d = spec->dim;
    c->w = calloc(d, sizeof *c->w);
    c->upd = calloc(k * d, sizeof *c->upd);
    c->n = calloc(k, sizeof *c->n);
    c->have = calloc(k, 1);
    c->out = calloc(k, sizeof *c->out);
    if (!c->w || !c->upd || !c->n || !c->have || !c->out) {
        ml_fed_coord_destroy(&c);
        return NULL;
    }
    if (spec->w0)
        memcpy(c->w, spec->w0, d * sizeof *c->w);
    c->deadline = UINT64_MAX;
    ml_sgd_rng_init(&c->rng, spec->seed, S_NOISE_STREAM);
    c->spec.seed = 0;
    if (spec->noise > 0.0 && !(c->acct = ml_dp_acct_new(spec->dp_delta, spec->dp_eps_max)))
        ml_fed_coord_destroy(&c);
    return c;
}

static void s_outbox_clear(ml_fed_coord_t *c)
{
    for (size_t i = 0; i < c->out_n; i++)
        free(c->out[i].buf);
    c->out_n = 0;
}

void ml_fed_coord_destroy(ml_fed_coord_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ml_fed_coord_t *c = *self_p;
    if (c->out)
        s_outbox_clear(c);
    free(c->out);
    free(c->w);
    free(c->upd);
    free(c->n);
    free(c->have);
    ml_sgd_rng_wipe(&c->rng);
    ml_dp_acct_destroy(&c->acct);
    free(c);
    *self_p = NULL;
}

/* Queues KIND with the global weights for every party (ONLY_SILENT: those without an
 * update this round). */
static int s_send_all(ml_fed_coord_t *c, ml_fed_kind_t kind, bool only_silent)
{
    for (uint32_t p = 0; p < c->spec.parties; p++) {
        if (only_silent && c->have[p])
            continue;
        ml_fed_msg_t m = {.kind = kind,
                          .round = kind == ML_FED_DONE ? c->spec.rounds : c->round,
                          .party = p,
                          .n = 0,
                          .dim = c->spec.dim,
                          .w = c->w};
        s_out_t *o = &c->out[c->out_n];
        int rc = ml_fed_msg_encode(&m, &o->buf, &o->len);
        if (rc != 0) {
            s_outbox_clear(c);
            return rc;
        }
        o->party = p;
        c->out_n++;
    }
    return 0;
}

static void s_round_reset(ml_fed_coord_t *c, uint64_t now)
{
    memset(c->have, 0, c->spec.parties);
    c->have_count = 0;
    c->retries = 0;
    c->deadline =
        now > UINT64_MAX - c->spec.round_timeout ? UINT64_MAX - 1 : now + c->spec.round_timeout;
}

int ml_fed_coord_start(ml_fed_coord_t *self, uint64_t now)
{
    s_outbox_clear(self);
    if (self->round != 0)
        return ML_E_SPEC;
    self->round = 1;
    s_round_reset(self, now);
    return s_send_all(self, ML_FED_GLOBAL, false);
}

/* Aggregates the updates received, then starts the next round or ends. */
static int s_close_round(ml_fed_coord_t *c, uint64_t now, ml_fed_event_t *ev)
{
    size_t k = 0, d = c->spec.dim;
    const double *vecs[ML_FED_PARTIES_MAX];
    double wts[ML_FED_PARTIES_MAX];
    for (uint32_t p = 0; p < c->spec.parties; p++)
        if (c->have[p]) {
            vecs[k] = c->upd + (size_t)p * d;
            wts[k++] = c->n[p];
        }
    double *next = malloc(d * sizeof *next);
    if (!next)
        return PROTO_E_NOMEM;
    char why[128];
    int rc = 0;
    if (c->acct) /* charged before anything is released; the plan was checked up front */
        rc = ml_dp_acct_spend(c->acct, 1.0, c->spec.noise, 1);
    if (rc != 0) {
        GLOG(WARN, ML, "fed round %u: the aggregation's privacy budget is spent", c->round);
        free(next);
        c->failed = true;
        return rc;
    }
    double sens = 0.0;
    if (c->spec.clip > 0.0)
        rc = ml_fed_agg_dp(&c->spec.rule, c->w, vecs, k, d, c->spec.clip, c->spec.noise, &c->rng,
                           next, &sens, why, sizeof why);
    else
        rc = ml_robust_aggregate(&c->spec.rule, vecs, wts, k, d, next, NULL, why, sizeof why);
    c->noise_std = c->spec.noise * sens;
    if (rc != 0) {
        GLOG(WARN, ML, "fed round %u: aggregation failed: %s", c->round, why);
        free(next);
        return rc;
    }
    memcpy(c->w, next, d * sizeof *next);
    free(next);
    c->stats.rounds_closed++;
    c->stats.updates_used += k;
    c->stats.dropped += c->spec.parties - k;
    c->round++;
    if (c->round > c->spec.rounds) {
        c->deadline = UINT64_MAX;
        *ev = ML_FED_EV_DONE;
        return s_send_all(c, ML_FED_DONE, false);
    }
    s_round_reset(c, now);
    *ev = ML_FED_EV_ROUND;
    return s_send_all(c, ML_FED_GLOBAL, false);
}

int ml_fed_coord_input(ml_fed_coord_t *self, const uint8_t *msg, size_t len, uint64_t now,
                       ml_fed_event_t *ev)
{
    *ev = ML_FED_EV_NONE;
    s_outbox_clear(self);
    if (self->failed)
        return ML_E_FED_QUORUM;
    if (self->round == 0)
        return ML_E_SPEC;
    ml_fed_msg_t m;
    int rc = ml_fed_msg_decode(msg, len, self->spec.dim, &m);
    if (rc != 0)
        goto out;
    if (m.kind != ML_FED_UPDATE || m.party >= self->spec.parties || m.dim != self->spec.dim) {
        rc = ML_E_FED_MSG;
        goto out;
    }
    if (ml_fed_coord_done(self) || m.round != self->round) {
        self->stats.ignored_stale++;
        *ev = ML_FED_EV_IGNORED;
        goto out;
    }
    if (self->have[m.party]) {
        self->stats.ignored_dup++;
        *ev = ML_FED_EV_IGNORED;
        goto out;
    }
    memcpy(self->upd + (size_t)m.party * self->spec.dim, m.w, m.dim * sizeof *m.w);
    self->n[m.party] = (double)m.n;
    self->have[m.party] = 1;
    self->have_count++;
    if (self->have_count == self->spec.parties)
        rc = s_close_round(self, now, ev);
out:
    ml_fed_msg_clear(&m);
    return rc;
}

int ml_fed_coord_tick(ml_fed_coord_t *self, uint64_t now, ml_fed_event_t *ev)
{
    *ev = ML_FED_EV_NONE;
    s_outbox_clear(self);
    if (self->failed)
        return ML_E_FED_QUORUM;
    if (self->round == 0 || ml_fed_coord_done(self) || now < self->deadline)
        return 0;
    if (self->have_count >= self->spec.quorum)
        return s_close_round(self, now, ev);
    if (self->retries >= self->spec.max_retries) {
        self->failed = true;
        GLOG(WARN, ML, "fed round %u: %u of %u updates after %u resends", self->round,
             self->have_count, self->spec.parties, self->retries);
        return ML_E_FED_QUORUM;
    }
    uint32_t retries = self->retries + 1;
    self->stats.resends++;
    self->deadline = now > UINT64_MAX - self->spec.round_timeout ? UINT64_MAX - 1
                                                                 : now + self->spec.round_timeout;
    self->retries = retries;
    *ev = ML_FED_EV_RESENT;
    return s_send_all(self, ML_FED_GLOBAL, true);
}

size_t ml_fed_coord_outbox_count(const ml_fed_coord_t *self)
{
    return self->out_n;
}

void ml_fed_coord_outbox_get(const ml_fed_coord_t *self, size_t i, uint32_t *party,
                             const uint8_t **buf, size_t *len)
{
    *party = self->out[i].party;
    *buf = self->out[i].buf;
    *len = self->out[i].len;
}

const double *ml_fed_coord_weights(const ml_fed_coord_t *self)
{
    return self->w;
}

uint32_t ml_fed_coord_round(const ml_fed_coord_t *self)
{
    return self->round;
}

bool ml_fed_coord_done(const ml_fed_coord_t *self)
{
    return self->round > self->spec.rounds;
}

uint64_t ml_fed_coord_deadline(const ml_fed_coord_t *self)
{
    return self->deadline;
}

void ml_fed_coord_stats(const ml_fed_coord_t *self, ml_fed_stats_t *out)
{
    *out = self->stats;
}

double ml_fed_coord_eps(const ml_fed_coord_t *self)
{
    return self->acct ? ml_dp_acct_eps(self->acct) : 0.0;
}

double ml_fed_coord_noise_std(const ml_fed_coord_t *self)
{
    return self->noise_std;
}

/* ---- party ---- */

struct ml_fed_party_t {
    ml_fed_party_opts_t o;
    const ml_mat_t *x;
    const double *y;
    size_t dim;
    ml_sgd_rng_t rng;
    ml_dp_acct_t *acct;  /* NULL without DP */
    uint32_t last_round; /* last round answered, 0 for none */
    uint8_t *last;       /* its encoded update */
    size_t last_len;
    double *final; /* dim, once done */
    double *w;     /* dim: training scratch */
};

int ml_fed_party_check(const ml_fed_party_opts_t *o, size_t n, double *eps, char *err,
                       size_t err_cap)
{
    if (eps)
        *eps = 0.0;
    if (o->id >= ML_FED_PARTIES_MAX)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "party id %u too large", o->id);
    if (o->rounds == 0)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "planned rounds must be >= 1");
    int rc = ml_sgd_opts_check(&o->sgd, n, err, err_cap);
    if (rc != 0 || !o->sgd.dp)
        return rc;
    if (!(o->dp_delta > 0.0 && o->dp_delta < 1.0) || !(o->dp_eps_max > 0.0))
        return proto_err_fail(err, err_cap, ML_E_SPEC, "dp: delta in (0,1) and eps max > 0");
    double q, e;
    uint64_t steps = ml_sgd_steps(&o->sgd, n, &q) * o->rounds;
    rc = ml_dp_eps(q, o->sgd.noise, steps, o->dp_delta, &e);
    if (rc != 0)
        return proto_err_fail(err, err_cap, rc, "dp: accountant refused the parameters");
    if (eps)
        *eps = e;
    if (e > o->dp_eps_max)
        return proto_err_fail(err, err_cap, ML_E_BUDGET,
                              "dp: %u rounds would spend epsilon %.4g above the budget %.4g",
                              o->rounds, e, o->dp_eps_max);
    return 0;
}

ml_fed_party_t *ml_fed_party_new(const ml_fed_party_opts_t *opts, const ml_mat_t *x,
                                 const double *y)
{
    if (!x || !y || ml_fed_party_check(opts, x->rows, NULL, NULL, 0) != 0)
        return NULL;
    ml_fed_party_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->o = *opts;
    p->x = x;
    p->y = y;
    p->dim = x->cols + 1;
    ml_sgd_rng_init(&p->rng, opts->seed, opts->id);
    p->w = calloc(p->dim, sizeof *p->w);
    if (opts->sgd.dp)
        p->acct = ml_dp_acct_new(opts->dp_delta, opts->dp_eps_max);
    if (!p->w || (opts->sgd.dp && !p->acct))
        ml_fed_party_destroy(&p);
    return p;
}

void ml_fed_party_destroy(ml_fed_party_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ml_fed_party_t *p = *self_p;
    ml_sgd_rng_wipe(&p->rng);
    ml_dp_acct_destroy(&p->acct);
    free(p->last);
    free(p->final);
    free(p->w);
    free(p);
    *self_p = NULL;
}

static int s_copy_out(const uint8_t *src, size_t len, uint8_t **out, size_t *out_len)
{
    *out = malloc(len);
    if (!*out)
        return PROTO_E_NOMEM;
    memcpy(*out, src, len);
    *out_len = len;
    return 0;
}

int ml_fed_party_step(ml_fed_party_t *self, const uint8_t *in, size_t in_len, uint8_t **out,
                      size_t *out_len, char *err, size_t err_cap)
{
    *out = NULL;
    *out_len = 0;
    ml_fed_msg_t m;
    int rc = ml_fed_msg_decode(in, in_len, self->dim, &m);
    if (rc != 0) {
        rc = proto_err_fail(err, err_cap, rc, "bad coordinator message: %s", proto_err_str(rc));
        goto out;
    }
    if (m.party != self->o.id || m.dim != self->dim || m.kind == ML_FED_UPDATE || m.round == 0) {
        rc = proto_err_fail(err, err_cap, ML_E_FED_MSG,
                            "message for party %u, round %u, dim %zu, kind %d not for us", m.party,
                            m.round, m.dim, (int)m.kind);
        goto out;
    }
    if (m.kind == ML_FED_DONE) {
        if (!self->final) {
            self->final = m.w;
            m.w = NULL;
        }
        goto out;
    }
    if (self->final || m.round < self->last_round)
        goto out; /* stale */
    if (m.round == self->last_round) {
        rc = s_copy_out(self->last, self->last_len, out, out_len);
        goto out;
    }
    if (self->acct) {
        double q;
        uint64_t steps = ml_sgd_steps(&self->o.sgd, self->x->rows, &q);
        double eps;
        rc = ml_dp_acct_peek(self->acct, q, self->o.sgd.noise, steps, &eps);
        if (rc == 0 && eps > ml_dp_acct_budget(self->acct))
            rc = ML_E_BUDGET;
        if (rc != 0) {
            rc =
                proto_err_fail(err, err_cap, rc, "round %u would pass the privacy budget", m.round);
            goto out;
        }
    }
    if (self->dim > 0) /* m.w is NULL for an empty model: memcpy from NULL is undefined */
        memcpy(self->w, m.w, self->dim * sizeof *self->w);
    rc =
        ml_sgd_train(self->x, self->y, self->w, &self->o.sgd, &self->rng, self->acct, err, err_cap);
    if (rc != 0)
        goto out;
    ml_fed_msg_t u = {.kind = ML_FED_UPDATE,
                      .round = m.round,
                      .party = self->o.id,
                      .n = self->x->rows,
                      .dim = self->dim,
                      .w = self->w};
    uint8_t *enc;
    size_t enc_len;
    rc = ml_fed_msg_encode(&u, &enc, &enc_len);
    if (rc != 0)
        goto out;
    free(self->last);
    self->last = enc;
    self->last_len = enc_len;
    self->last_round = m.round;
    rc = s_copy_out(enc, enc_len, out, out_len);
out:
    ml_fed_msg_clear(&m);
    return rc;
}

const double *ml_fed_party_final(const ml_fed_party_t *self)
{
    return self->final;
}

double ml_fed_party_eps(const ml_fed_party_t *self)
{
    return self->acct ? ml_dp_acct_eps(self->acct) : 0.0;
}

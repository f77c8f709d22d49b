/*  ml_fed: federated averaging as a sans-IO coordinator and party.
 *
 *  K parties (training enclaves, each with its own donors' data) train one logistic model.
 *  Round r: the coordinator sends the global weights to every party; each party runs E
 *  local epochs of (DP-)SGD from them on its own data (ml_sgd.h) and answers with its new
 *  weights and its sample count; the coordinator combines the answers with the spec's
 *  aggregation rule (ml_robust.h) into the next global weights. After the last round it
 *  sends the final weights to every party in a "done" message.
 *
 *  Nothing here does I/O or reads a clock. The coordinator takes (state, input, now) and
 *  leaves outgoing messages in an outbox; the caller (the node over p2p unicast, or the
 *  in-process simulation of the tests) delivers them and calls ml_fed_coord_tick with the
 *  time so that deadlines pass. Times are opaque uint64 ticks (the node uses milliseconds).
 *  A party that does not answer before the round's deadline is dropped from that round;
 *  when fewer than the quorum answered, the round's weights are sent again to the silent
 *  parties with a new deadline, up to max_retries times, after which the training fails.
 *  Lost, duplicated and reordered messages are expected: an update for another round or a
 *  second update from a party in one round is ignored (and counted), and a party answers a
 *  repeated "round r" message with the update it already computed for r (so a resend never
 *  spends privacy budget twice).
 *
 *  Wire format: one msgpack fixed-order array, canonical (proto_mp), of
 *      [kind, round, party, n_samples, [w_0 .. w_{dim-1}]]
 *  kind 1 = global weights (coordinator to party), 2 = update (party to coordinator),
 *  3 = done (final weights); every w is a float64 (0xcb) and finite. n_samples is 0 in
 *  messages from the coordinator and >= 1 in updates. Rounds are numbered from 1.
 *
 *  The sample count is the party's own claim: the plain mean weights by it, so a party
 *  that is not trusted (not attested) can buy weight by lying; the robust rules ignore it.
 *
 *  Differential privacy of the aggregation (party-level). With spec.clip = S > 0 every
 *  round the coordinator takes each answering party's delta (its weights minus the global
 *  weights), scales it down to L2 norm <= S, combines the m clipped deltas with the rule
 *  weighing every party equally (sample counts are ignored: a claimed count could buy the
 *  whole weight), and with spec.noise = z > 0 adds to each coordinate of the combined delta
 *  an independent Gaussian of std z * sens, where sens = ml_robust_sensitivity(rule, m, S)
 *  is the L2 sensitivity to one party's update being replaced (mean 2S/m, median 2S or S,
 *  trimmed mean 2S/(m - 2 floor(beta m)), Krum 2S; proof in ml_robust.h). Each round is
 *  then a Gaussian mechanism of noise multiplier z on the released global weights, whose
 *  RDP at order alpha is alpha / (2 z^2) (ml_dp at q = 1); the rounds compose in the
 *  coordinator's ml_dp accountant against spec.dp_eps_max at spec.dp_delta, and a spec
 *  whose planned rounds would pass it is refused (ML_E_BUDGET). The guarantee is about a
 *  whole party (one enclave's entire contribution, every record of every donor it holds),
 *  on every global model it sends, the final one included (post-processing); it implies
 *  the same record-level guarantee, beside the parties' own DP-SGD (record-level,
 *  ml_fed_party_opts_t). It does not cover who answered which round (m), nor anything the
 *  caller computes from the parties' updates outside this coordinator. The noise comes
 *  from ml_sgd_rng (ChaCha20 seeded by spec.seed, Box-Muller normals); the guarantee
 *  assumes real-valued noise: floating-point sampling has the known, small deviations of
 *  Mironov 2012, not corrected here. Retries resend the same weights and release nothing
 *  new, so they are not charged.
 */
#ifndef GENIE_ML_FED_H
#define GENIE_ML_FED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/ml_dp.h"
#include "ml/ml_mat.h"
#include "ml/ml_robust.h"
#include "ml/ml_sgd.h"
#include "proto/proto_err.h"

#define ML_FED_PARTIES_MAX 1024
#define ML_FED_DIM_MAX (1u << 20)       /* weights per message */
#define ML_FED_SAMPLES_MAX (1ull << 40) /* a party's claimed sample count */

/*  Defaults of the aggregation's DP for a job that does not say (enclave_train_config):
 *  the clip norm S of a party's delta per round, and the party-level epsilon of all the
 *  rounds together. See the top of this file for what they mean and what they cost. */
#define ML_FED_AGG_CLIP_DEFAULT 0.2
#define ML_FED_AGG_EPS_DEFAULT 500.0

typedef enum { ML_FED_GLOBAL = 1, ML_FED_UPDATE = 2, ML_FED_DONE = 3 } ml_fed_kind_t;

/*  A decoded message. W is owned by the message (ml_fed_msg_clear frees it). */
typedef struct {
    ml_fed_kind_t kind;
    uint32_t round;
    uint32_t party;
    uint64_t n;
    size_t dim;
    double *w;
} ml_fed_msg_t;

/*  Encodes M into a new buffer (*BUF, *LEN; the caller frees it with free()).
 *  ML_E_SPEC if a field is out of range or a weight is not finite; PROTO_E_NOMEM. */
int ml_fed_msg_encode(const ml_fed_msg_t *m, uint8_t **buf, size_t *len);
/*  Decodes BUF strictly into M (which the caller clears afterwards, also on error), with
 *  at most MAX_DIM weights (<= ML_FED_DIM_MAX). Errors: the proto_rd codes for malformed
 *  or non-canonical msgpack (PROTO_E_TYPE for a weight not a float64), PROTO_E_RANGE for
 *  a kind, party or count out of range, PROTO_E_INVALID for a non-finite weight or an n
 *  that does not fit the kind, PROTO_E_NOMEM. */
int ml_fed_msg_decode(const uint8_t *buf, size_t len, size_t max_dim, ml_fed_msg_t *m) PROTO_WUR;
/*  Frees M's weights and zeroes it; tolerates a zeroed message. */
void ml_fed_msg_clear(ml_fed_msg_t *m);

/* ---- coordinator ---- */

typedef struct {
    uint32_t parties; /* K, 1..ML_FED_PARTIES_MAX */
    uint32_t rounds;  /* >= 1 */
    size_t dim;       /* weights per model (features + 1), 1..ML_FED_DIM_MAX */
    ml_robust_rule_t rule;
    uint32_t quorum;        /* updates needed to close a round at its deadline, 1..K
                               (0: K; the rule must accept this many) */
    uint64_t round_timeout; /* ticks from a round's (re)start to its deadline, >= 1 */
    uint32_t max_retries;   /* deadlines without quorum in one round before failing */
    const double *w0;       /* initial weights (dim), or NULL for zeros; copied */
    /* party-level DP of the aggregation (see the top of this file): */
    double clip;       /* S: L2 bound of each party's delta, finite >= 0; 0: no clipping,
                          sample-weighted mean and multi-Krum, and no noise */
    double noise;      /* z: noise multiplier, finite >= 0; 0: no noise. > 0 needs clip > 0 */
    double dp_delta;   /* the guarantee's delta, in (0, 1) when noise > 0 */
    double dp_eps_max; /* its budget (> 0 when noise > 0): the rounds must stay within it */
    uint64_t seed;     /* the noise stream */
} ml_fed_spec_t;

typedef enum {
    ML_FED_EV_NONE = 0,    /* input accepted; the round waits for more */
    ML_FED_EV_IGNORED = 1, /* stale, duplicate or after the end: dropped */
    ML_FED_EV_ROUND = 2,   /* a round closed; the next round's messages are in the outbox */
    ML_FED_EV_RESENT = 3,  /* a deadline without quorum; the round was sent again */
    ML_FED_EV_DONE = 4     /* the last round closed; "done" messages are in the outbox */
} ml_fed_event_t;

typedef struct {
    uint32_t rounds_closed;
    uint64_t updates_used;  /* updates aggregated, over all rounds */
    uint64_t ignored_stale; /* updates for another round, or after the end */
    uint64_t ignored_dup;   /* second update of a party in one round */
    uint64_t dropped;       /* party-rounds closed without that party's update */
    uint64_t resends;       /* deadlines without quorum */
} ml_fed_stats_t;

typedef struct ml_fed_coord_t ml_fed_coord_t;

/*  0 if SPEC is usable, else ML_E_SPEC with the reason in ERR, or ML_E_BUDGET when the
 *  planned rounds at noise z would spend more than dp_eps_max at dp_delta. */
int ml_fed_spec_check(const ml_fed_spec_t *spec, char *err, size_t err_cap);

/*  The smallest noise multiplier z (to within 1e-4 relative) whose ROUNDS aggregations stay
 *  within (EPS, DELTA) party-level, into *Z (ml_dp_sigma_for at q = 1). ML_E_SPEC on bad
 *  arguments or when no z up to 1e4 meets the budget. */
int ml_fed_agg_noise_for(double eps, double delta, uint32_t rounds, double *z) PROTO_WUR;

/*  Party-level epsilon at DELTA of ROUNDS aggregations at noise multiplier Z > 0, into *EPS.
 *  ML_E_SPEC on bad arguments. */
int ml_fed_agg_eps(double z, uint32_t rounds, double delta, double *eps) PROTO_WUR;

/*  One aggregation as the coordinator does it (pure; the coordinator's own step): the M
 *  updates UPD[i] (DIM doubles each) as deltas from GLOBAL, each clipped to L2 norm <= CLIP
 *  (> 0), combined by RULE with equal weights, plus Gaussian noise of std NOISE * sens per
 *  coordinate drawn from RNG (NOISE >= 0; 0 draws nothing), added back to GLOBAL into OUT
 *  (DIM; may not alias the inputs). *SENS (may be NULL) gets ml_robust_sensitivity(RULE,
 *  M, CLIP). Non-finite deltas (overflow) are clamped before clipping, so OUT is finite
 *  for finite inputs. Errors: ML_E_SPEC (rule invalid for M, bad CLIP or NOISE),
 *  PROTO_E_NOMEM. */
int ml_fed_agg_dp(const ml_robust_rule_t *rule, const double *global, const double *const *upd,
                  size_t m, size_t dim, double clip, double noise, ml_sgd_rng_t *rng, double *out,
                  double *sens, char *err, size_t err_cap);
/*  New coordinator for SPEC (copied); NULL if the spec is invalid or memory ran out. */
ml_fed_coord_t *ml_fed_coord_new(const ml_fed_spec_t *spec);
void ml_fed_coord_destroy(ml_fed_coord_t **self_p);

/*  Every call below first empties the outbox, so take its messages before the next call.
 *  Starts round 1 at NOW: one global message per party in the outbox. ML_E_SPEC if already
 *  started; PROTO_E_NOMEM. */
int ml_fed_coord_start(ml_fed_coord_t *self, uint64_t now);
/*  One message from a party, received at NOW. *EV says what happened. Errors (the message
 *  is dropped and the state unchanged): decode errors as ml_fed_msg_decode, ML_E_FED_MSG
 *  for a well-formed message that no party may send here (not an update, party out of
 *  range, wrong dimension, n = 0), ML_E_SPEC before start, ML_E_FED_QUORUM after a
 *  failure, PROTO_E_NOMEM, and ML_E_SPEC from the rule. */
int ml_fed_coord_input(ml_fed_coord_t *self, const uint8_t *msg, size_t len, uint64_t now,
                       ml_fed_event_t *ev);
/*  Passes time: when NOW reaches the round's deadline the round closes with the updates it
 *  has (ML_FED_EV_ROUND / _DONE) if they reach the quorum, else it is sent again to the
 *  silent parties (ML_FED_EV_RESENT), or the training fails with ML_E_FED_QUORUM after
 *  max_retries resends. ML_FED_EV_NONE when nothing was due. */
int ml_fed_coord_tick(ml_fed_coord_t *self, uint64_t now, ml_fed_event_t *ev);

/*  Outgoing messages: their number, and the I-th (the party it is for, bytes owned by the
 *  coordinator until its next call). */
size_t ml_fed_coord_outbox_count(const ml_fed_coord_t *self);
void ml_fed_coord_outbox_get(const ml_fed_coord_t *self, size_t i, uint32_t *party,
                             const uint8_t **buf, size_t *len);
/*  The current global weights (spec.dim doubles, owned by the coordinator). */
const double *ml_fed_coord_weights(const ml_fed_coord_t *self);
/*  Round in progress (1-based; 0 before start; rounds + 1 once done). */
uint32_t ml_fed_coord_round(const ml_fed_coord_t *self);
bool ml_fed_coord_done(const ml_fed_coord_t *self);
/*  Tick at which the current round's deadline passes (UINT64_MAX when none is pending). */
uint64_t ml_fed_coord_deadline(const ml_fed_coord_t *self);
void ml_fed_coord_stats(const ml_fed_coord_t *self, ml_fed_stats_t *out);
/*  Party-level epsilon spent so far by the aggregation's noise (at spec.dp_delta; 0
 *  without noise). */
double ml_fed_coord_eps(const ml_fed_coord_t *self);
/*  The std of the noise added in the last closed round (z * sens; 0 without noise or
 *  before the first round). */
double ml_fed_coord_noise_std(const ml_fed_coord_t *self);

/* ---- party ---- */

typedef struct {
    uint32_t id;       /* this party's index, < spec.parties */
    uint32_t rounds;   /* planned rounds (to check the privacy budget up front) */
    ml_sgd_opts_t sgd; /* local epochs, batch, lr, l2, DP settings */
    double dp_delta;   /* DP: the guarantee's delta */
    double dp_eps_max; /* DP: the smallest budget among this party's donors' consents */
    uint64_t seed;     /* local SGD and DP noise stream */
} ml_fed_party_opts_t;

typedef struct ml_fed_party_t ml_fed_party_t;

/*  0 if OPTS can train on N examples for all planned rounds, with the planned epsilon into
 *  *EPS (0 without DP; may be NULL); ML_E_SPEC for bad options, ML_E_BUDGET when the plan
 *  would pass dp_eps_max (the training must not start). */
int ml_fed_party_check(const ml_fed_party_opts_t *opts, size_t n, double *eps, char *err,
                       size_t err_cap);
/*  New party training on X (n x p) with 0/1 labels Y, both borrowed (they must outlive the
 *  party). NULL if ml_fed_party_check fails or memory ran out. */
ml_fed_party_t *ml_fed_party_new(const ml_fed_party_opts_t *opts, const ml_mat_t *x,
                                 const double *y);
void ml_fed_party_destroy(ml_fed_party_t **self_p);

/*  Handles one message from the coordinator. For round r's global weights: trains from
 *  them and puts the update in *OUT (*OUT_LEN bytes, freed by the caller with free());
 *  a repeat of the round answered last gets the same update again; an older round gets
 *  nothing (*OUT = NULL). A done message stores the final weights (ml_fed_party_final).
 *  Errors: decode errors, ML_E_FED_MSG (not for this party, wrong dimension, wrong kind),
 *  ML_E_BUDGET when the round's steps would pass the budget (nothing trained, nothing
 *  sent), ML_E_SPEC and PROTO_E_NOMEM from training. */
int ml_fed_party_step(ml_fed_party_t *self, const uint8_t *in, size_t in_len, uint8_t **out,
                      size_t *out_len, char *err, size_t err_cap);
/*  Final weights (dim doubles) once a done message arrived, else NULL. */
const double *ml_fed_party_final(const ml_fed_party_t *self);
/*  Epsilon spent so far by this party's training (0 without DP). */
double ml_fed_party_eps(const ml_fed_party_t *self);

#endif

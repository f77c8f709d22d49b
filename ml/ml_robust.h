/*  ml_robust: aggregation rules that combine K parties' model vectors into one.
 *
 *  The plain rule is the sample-weighted mean of federated averaging (McMahan et al. 2017);
 *  the robust rules bound what a minority of poisoned parties can do:
 *  - coordinate-wise median (unweighted; the mean of the two middle values when K is even);
 *  - trimmed mean with parameter beta in [0, 0.5): per coordinate, the floor(beta K)
 *    smallest and largest values are dropped and the rest averaged (unweighted);
 *  - Krum with parameter f (Byzantine parties tolerated, K >= 2f + 3): the vector whose
 *    summed squared distance to its K - f - 2 nearest others is smallest (Blanchard et al.
 *    2017);
 *  - multi-Krum with parameter f and m: the m vectors of lowest Krum score, the scores
 *    recomputed over the remaining candidates after each pick (the selection of Bulyan,
 *    El Mhamdi et al. 2018), averaged with their sample weights; m = 0 means K - f.
 *  At most ML_ROBUST_K_MAX vectors.
 *  The robust rules ignore the parties' sample counts on purpose: a count is what a party
 *  claims, and a liar would otherwise buy weight with it.
 */
#ifndef GENIE_ML_ROBUST_H
#define GENIE_ML_ROBUST_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

#define ML_ROBUST_K_MAX 4096

typedef enum {
    ML_ROBUST_MEAN = 0,
    ML_ROBUST_MEDIAN = 1,
    ML_ROBUST_TRIMMED_MEAN = 2,
    ML_ROBUST_KRUM = 3,
    ML_ROBUST_MULTI_KRUM = 4
} ml_robust_kind_t;

/*  A rule and its parameter: beta for the trimmed mean, f for (multi-)Krum; m for
 *  multi-Krum only (0: K - f). */
typedef struct {
    ml_robust_kind_t kind;
    double param;
    size_t m;
} ml_robust_rule_t;

/*  Stable lowercase name of KIND ("mean", "median", "trimmed-mean", "krum", "multi-krum"),
 *  or "unknown". */
const char *ml_robust_kind_str(ml_robust_kind_t kind);
/*  Parses a name of ml_robust_kind_str into *KIND; ML_E_SPEC if unknown. */
int ml_robust_kind_parse(const char *name, ml_robust_kind_t *kind) PROTO_WUR;

/*  0 if RULE can aggregate K vectors, else ML_E_SPEC with the reason in ERR. */
int ml_robust_check(const ml_robust_rule_t *rule, size_t k, char *err, size_t err_cap);

/*  Aggregates the K vectors V[0..k) of DIM doubles each, with sample weights W[0..k)
 *  (positive; used by the mean and multi-Krum), into OUT (DIM doubles; may not alias V).
 *  SELECTED (may be NULL, K entries) is set to 1 for the vectors the rule used whole
 *  (Krum's pick, multi-Krum's picks; every vector for the other rules) and 0 otherwise.
 *  Errors: ML_E_SPEC (rule invalid for K, bad weight), PROTO_E_NOMEM. */
int ml_robust_aggregate(const ml_robust_rule_t *rule, const double *const *v, const double *w,
                        size_t k, size_t dim, double *out, uint8_t *selected, char *err,
                        size_t err_cap);

/*  The L2 sensitivity of ml_robust_aggregate under RULE over M inputs, all with EQUAL
 *  weights and L2 norm <= CLIP: the most the output can move, in L2 norm, when ONE input
 *  is replaced by any other of norm <= CLIP (the other M - 1 fixed), into *SENS:
 *  - mean: 2 CLIP / M;
 *  - coordinate-wise median: 2 CLIP when M is odd, CLIP when M is even;
 *  - trimmed mean: 2 CLIP / (M - 2 floor(beta M));
 *  - Krum, multi-Krum: 2 CLIP.
 *  Why. Replacing input i by i' changes it by d = v_i' - v_i, ||d|| <= 2 CLIP. The
 *  coordinate-wise rules average, per coordinate j, the order statistics of ranks [lo, hi)
 *  (median: the middle one or two; trimmed mean: all but lo = floor(beta M) at each end;
 *  mean: all). Move v_ij continuously to v'_ij: at each instant only the slot of the sorted
 *  column that v_ij occupies moves, at speed 1 (ties swap equal values), so the sum of the
 *  ranks [lo, hi) moves by at most |d_j| in total and their average by |d_j| / (hi - lo).
 *  Over the coordinates, the output moves by at most ||d|| / (hi - lo) <= 2 CLIP / (hi -
 *  lo). Krum outputs one input and multi-Krum an average of inputs, and one replaced input
 *  can change the selection entirely; any two points of the ball of radius CLIP are at
 *  most 2 CLIP apart, and that bound is reached (M = 1), so 2 CLIP. The adjacency is
 *  replacement (the parties of a job are named in it and public; one party's update may
 *  be anything); under add/remove adjacency with a fixed denominator the mean's bound
 *  would be CLIP / M. With sample weights instead of equal ones, a party that claims a
 *  huge count takes all the weight and the mean's bound becomes 2 CLIP: that is why the
 *  differentially private aggregation (ml_fed.h) weighs parties equally.
 *  ML_E_SPEC if RULE cannot aggregate M inputs or CLIP is not finite and > 0. */
int ml_robust_sensitivity(const ml_robust_rule_t *rule, size_t m, double clip,
                          double *sens) PROTO_WUR;

#endif

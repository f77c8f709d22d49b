#!/usr/bin/env bash
# bench_ml.sh: the ml/ benchmark, side by side with the tools the field uses, in one run:
#  - logistic regression on scikit-learn's breast-cancer table: genie's fit time and test
#    AUC vs scikit-learn's LogisticRegression (lbfgs, C = 1) on the same split and scaling;
#  - a synthetic cohort (default 5,000 samples x 20,000 SNPs): genie's PRS training time and
#    peak memory against the int8 dosage matrix; VCF read rate (genotypes/s) of genie's
#    ml_geno_read_vcf vs `bcftools view` and `plink2 --vcf` import; applying a trained and a dense (all SNPs)
#    PRS with genie (on the in-memory dosages) vs `plink2 --score` (on its .pgen), with the
#    largest score difference.
# Installs plink2, bcftools and python3-sklearn with apt-get when missing (and root).
# No pass/fail: it prints figures and ratios. BLAS runs single-threaded
# (OPENBLAS_NUM_THREADS=1, as in an enclave); plink2 runs with --threads 1.
#
# usage: scripts/bench_ml.sh [BUILD_DIR]
# Environment: ML_BENCH_N, ML_BENCH_M, ML_BENCH_K (cohort size, causal SNPs: 5000, 20000,
# 50), ML_BENCH_REPS (logistic fits timed, 200).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${1:-${BUILD_DIR:-build-bench}}
N=${ML_BENCH_N:-5000}
M=${ML_BENCH_M:-20000}
K=${ML_BENCH_K:-50}
REPS=${ML_BENCH_REPS:-200}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}

if [ ! -x "$BUILD_DIR/tests/bench_ml" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DGENIE_SANITIZE=OFF \
        -DGENIE_BENCH=ON >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target bench_ml >/dev/null
fi
bench="$BUILD_DIR/tests/bench_ml"

need=()
command -v plink2 >/dev/null || need+=(plink2)
command -v bcftools >/dev/null || need+=(bcftools)
/usr/bin/python3 -c 'import sklearn' 2>/dev/null || need+=(python3-sklearn)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y "${need[@]}" >/dev/null
  else
    echo "bench_ml.sh: missing ${need[*]} (not root: not installing; those rows are skipped)"
  fi
fi
PY=/usr/bin/python3
/usr/bin/python3 -c 'import sklearn' 2>/dev/null || PY=python3

work="$(mktemp -d "${TMPDIR:-/tmp}/genie-bench-ml.XXXXXX")"
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
# result KEY FILE: the value of KEY in the RESULT lines of FILE
result() { grep -o "$1=[^ ]*" "$2" | head -n 1 | cut -d= -f2; }

echo "== ml: logistic regression, breast-cancer table (569 x 30), C = 1, OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS"
csv=$($PY -c 'import os, sklearn.datasets as d; print(os.path.join(os.path.dirname(d.__file__), "data", "breast_cancer.csv"))' 2>/dev/null || echo /usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv)
"$bench" logistic "$csv" "$work" "$REPS" | tee "$work/logistic.out"
g_ms=$(result logistic_fit_ms "$work/logistic.out")
g_auc=$(result auc "$work/logistic.out")
if $PY -c 'import sklearn' 2>/dev/null; then
  $PY - "$work" "$REPS" <<'PYEOF' | tee "$work/sk.out"
import sys, time, warnings
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score
work, reps = sys.argv[1], int(sys.argv[2])
X, y = load_breast_cancer(return_X_y=True)
tr = np.loadtxt(work + "/train.txt", dtype=int); te = np.loadtxt(work + "/test.txt", dtype=int)
sc = StandardScaler().fit(X[tr]); Xtr = sc.transform(X[tr]); Xte = sc.transform(X[te])
ts = []
for _ in range(reps):
    t0 = time.perf_counter(); m = LogisticRegression(C=1.0).fit(Xtr, y[tr]); ts.append(time.perf_counter() - t0)
ts.sort()
auc = roc_auc_score(y[te], m.predict_proba(Xte)[:, 1])
print("scikit-learn LogisticRegression (lbfgs, default tol): median fit %.3f ms over %d fits, test AUC %.6f" % (ts[len(ts) // 2] * 1e3, reps, auc))
print("RESULT sk_fit_ms=%.6f sk_auc=%.6f" % (ts[len(ts) // 2] * 1e3, auc))
PYEOF
  s_ms=$(result sk_fit_ms "$work/sk.out")
  s_auc=$(result sk_auc "$work/sk.out")
  awk -v g="$g_ms" -v s="$s_ms" -v ga="$g_auc" -v sa="$s_auc" 'BEGIN {
    printf "ratio: genie fits %.1fx faster than scikit-learn (target >= 5x); AUC difference %.2e (target <= 0.005)\n", s / g, (ga > sa ? ga - sa : sa - ga) }'
else
  echo "scikit-learn not available: comparison skipped"
fi

echo
echo "== ml: polygenic risk score, synthetic cohort $N samples x $M SNPs ($K causal, h2 0.5)"
"$bench" prs "$N" "$M" "$K" "$work" | tee "$work/prs.out"
geno=$((N * M))
vcf="$work/cohort.vcf.gz"
"$bench" vcf "$vcf" | tee "$work/vcf.out"
g_rate=$(result vcf_rate "$work/vcf.out")
if command -v bcftools >/dev/null; then
  t0=$(now); bcftools view -Ou -o /dev/null "$vcf"; t1=$(now)
  awk -v t0="$t0" -v t1="$t1" -v g="$geno" -v r="$g_rate" 'BEGIN { printf "bcftools view (decode to BCF): %.2f s, %.3g genotypes/s; genie reads %.2fx that rate\n", t1 - t0, g / (t1 - t0), r / (g / (t1 - t0)) }'
fi
if command -v plink2 >/dev/null; then
  t0=$(now)
  plink2 --vcf "$vcf" --make-pgen --out "$work/cohort" --threads 1 >/dev/null
  t1=$(now)
  awk -v t0="$t0" -v t1="$t1" -v g="$geno" -v r="$g_rate" 'BEGIN { printf "plink2 --vcf import (to .pgen): %.2f s, %.3g genotypes/s; genie reads %.2fx that rate\n", t1 - t0, g / (t1 - t0), r / (g / (t1 - t0)) }'
  for kind in trained dense; do
    t0=$(now)
    plink2 --pfile "$work/cohort" --score "$work/prs_$kind.tsv" 1 2 3 header cols=+scoresums \
      --threads 1 --out "$work/plink_$kind" >/dev/null
    t1=$(now)
    g_apply=$(result "apply_${kind}_ms" "$work/prs.out")
    # Largest |genie - plink2| over the samples (plink2's SCORE1_SUM column, which plink2
    # prints with 6 significant digits), and how many samples agree to every printed digit.
    diff=$(awk 'function fl(y) { return (y < 0 && y != int(y)) ? int(y) - 1 : int(y) }
                NR == FNR { g[$1] = $2; next }
                FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "SCORE1_SUM") c = i; next }
                { d = g[$1] - $c; if (d < 0) d = -d; a = $c < 0 ? -$c : $c
                  tol = a > 0 ? 0.5 * 10 ^ (fl(log(a) / log(10)) - 5) * 1.000001 : 1e-12
                  n++; if (d <= tol) ok++; if (d > m) m = d }
                END { printf "%.3g; %d of %d samples agree to all 6 digits plink2 prints", m, ok, n }' \
           "$work/genie_$kind.txt" "$work/plink_$kind.sscore")
    awk -v t0="$t0" -v t1="$t1" -v g="$g_apply" -v k="$kind" -v d="$diff" 'BEGIN {
      printf "plink2 --score (%s): %.1f ms; genie %.1f ms (in memory): genie %.1fx faster; max |score difference| %s\n", k, (t1 - t0) * 1e3, g, (t1 - t0) * 1e3 / g, d }'
  done
fi

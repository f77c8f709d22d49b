#!/usr/bin/env python3
"""test_ml_cli: the offline `genie ml` commands (validate, train, eval, predict) on real files.

Runs the real genie binary (no node) on:
- scikit-learn's breast-cancer table (the Debian python3-sklearn copy; its first line is a
  count header, so the test writes a clean CSV with an id column and a 0/1 label), split by
  the test into a training and a held-out file with a printed seed;
- a synthetic cohort written by the genie-cohort tool (VCF, 23andMe files + reference list,
  phenotype CSV).
Checks: validate passes good files and fails corrupted ones with a reason (exit 1, one error
line); train prints the model hash, which is stable across two runs with the same seed and
changes with the seed; eval on held-out breast-cancer rows gives AUC > 0.9 (and, when
/usr/bin/python3 has scikit-learn, within 0.005 of LogisticRegression's on the same split);
predict prints one score per sample; a PRS and a genotype logistic model train and apply
across VCF and 23andMe inputs; every --json output parses; bad usage exits 2 with one
error line.

    python3 test_ml_cli.py --bindir BUILD_DIR
"""

import csv
import json
import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import Runner, expect, parse_args, run_cli  # noqa: E402

BC_SRC = "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
SPLIT_SEED = 20261207
COHORT_SEED = 11
TIMEOUT = 120.0


def ml(r, args, json_out=False):
    return run_cli(r.bindir, ["ml"] + args, json_out=json_out, timeout=TIMEOUT)


def one_error(res, code):
    expect(res.returncode == code, "exit %d, wanted %d: %r" % (res.returncode, code, res))
    lines = res.error_lines()
    expect(len(lines) == 1, "wanted one error line, got %r" % res.stderr)
    return lines[0]


def write_bc(r):
    """Clean copies of the breast-cancer table: all rows, a training part, a held-out part."""
    with open(BC_SRC) as f:
        rows = list(csv.reader(f))
    n, p = int(rows[0][0]), int(rows[0][1])
    header = ["id"] + ["f%02d" % i for i in range(p)] + ["benign"]
    data = [["s%03d" % i] + row for i, row in enumerate(rows[1:1 + n])]
    expect(len(data) == n == 569 and all(len(row) == p + 2 for row in data), "breast cancer shape")
    print("split seed %d" % SPLIT_SEED)
    idx = list(range(n))
    random.Random(SPLIT_SEED).shuffle(idx)
    test = set(idx[:n // 4])
    paths = {}
    for name, keep in (("all", lambda i: True), ("train", lambda i: i not in test),
                       ("test", lambda i: i in test)):
        path = os.path.join(r.tmp, "bc_%s.csv" % name)
        with open(path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(row for i, row in enumerate(data) if keep(i))
        paths[name] = path
    return paths


def make_cohort(r):
    out = os.path.join(r.tmp, "cohort")
    print("cohort seed %d" % COHORT_SEED)
    p = subprocess.run([os.path.join(r.bindir, "genie-cohort"), "--out", out, "--samples", "300",
                        "--snps", "400", "--causal", "5", "--h2", "0.6", "--prevalence", "0.3",
                        "--seed", str(COHORT_SEED)], capture_output=True, text=True,
                       timeout=TIMEOUT)
    expect(p.returncode == 0, "genie-cohort failed: %s" % p.stderr)
    return out


def check_help(r):
    c = run_cli(r.bindir, ["--help"])
    expect(c.returncode == 0, "genie --help exit %d" % c.returncode)
    for cmd in ("ml validate", "ml train", "ml eval", "ml predict", "--23andme", "--covariates"):
        expect(cmd in c.stdout, "genie --help does not mention %r" % cmd)
    c = run_cli(r.bindir, ["ml", "train", "--help"])
    expect(c.returncode == 0 and "--model logistic|linear|prs" in c.stdout, repr(c))


def check_validate(r, bc, coh):
    first = sorted(os.listdir(os.path.join(coh, "23andme")))[0]
    good = [(bc["all"], "phenotype"), (os.path.join(coh, "phenotypes.csv"), "phenotype"),
            (os.path.join(coh, "cohort.vcf.gz"), "genotype"),
            (os.path.join(coh, "cohort.vcf"), "genotype"),
            (os.path.join(coh, "23andme", first), "genotype")]
    for path, kind in good:
        c = ml(r, ["validate", path], json_out=True)
        expect(c.returncode == 0 and c.json, "validate %s: %r" % (path, c))
        expect(c.json["ok"] is True and c.json["type"] == kind and c.json["reason"] == "ok",
               "validate %s: %r" % (path, c.json))
        expect(c.json["records"] >= 300 and "format" in c.json["checks"], repr(c.json))
    h = ml(r, ["validate", good[2][0]])
    expect(h.returncode == 0 and re.search(r"^hwe:\s+pass$", h.stdout, re.M), repr(h))
    # corrupted 23andMe file: a genotype letter outside the alphabet
    with open(os.path.join(coh, "23andme", first)) as f:
        lines = f.read().splitlines()
    rec = [i for i, l in enumerate(lines) if l and not l.startswith("#")][5]
    fields = lines[rec].split("\t")
    fields[3] = "AZ"
    lines[rec] = "\t".join(fields)
    bad23 = os.path.join(r.tmp, "bad23.txt")
    with open(bad23, "w") as f:
        f.write("\n".join(lines) + "\n")
    c = ml(r, ["validate", bad23], json_out=True)
    line = one_error(c, 1)
    expect("failed validation" in line and "line %d" % (rec + 1) in line, line)
    # VCF records with a position that is not a number, and with a REF outside ACGTN
    with open(os.path.join(coh, "cohort.vcf")) as f:
        vcf = f.read().splitlines()
    for col, value, want in ((1, "x12", "bad position"), (3, "Z", "alleles")):
        bad = list(vcf)
        fields = bad[-3].split("\t")
        fields[col] = value
        bad[-3] = "\t".join(fields)
        badvcf = os.path.join(r.tmp, "bad%d.vcf" % col)
        with open(badvcf, "w") as f:
            f.write("\n".join(bad) + "\n")
        line = one_error(ml(r, ["validate", badvcf]), 1)
        expect("failed validation" in line and want in line, line)
    # a phenotype table whose age is out of range
    with open(os.path.join(coh, "phenotypes.csv")) as f:
        pheno = f.read().splitlines()
    cols = pheno[4].split(",")
    cols[1] = "700"
    pheno[4] = ",".join(cols)
    badcsv = os.path.join(r.tmp, "bad_pheno.csv")
    with open(badcsv, "w") as f:
        f.write("\n".join(pheno) + "\n")
    c = ml(r, ["validate", badcsv, "--type", "phenotype"], json_out=True)
    one_error(c, 1)
    rep = json.loads(c.stdout)
    expect(rep["ok"] is False and "ranges" in rep["failed"] and rep["reason"] != "ok", repr(rep))


def train_bc(r, bc, out, seed):
    c = ml(r, ["train", "--data", bc["train"], "--label", "benign", "--model", "logistic",
               "--seed", str(seed), "--out", out], json_out=True)
    expect(c.returncode == 0 and c.json, "train: %r" % c)
    expect(HEX64.match(c.json["hash"]) and c.json["kind"] == "logistic", repr(c.json))
    expect(c.json["features"] == 30 and c.json["n_train"] + c.json["n_test"] == 427, repr(c.json))
    expect(c.json["auc_test"] > 0.9, "held-out AUC of the internal split %r" % c.json)
    expect(os.path.exists(out), "no model file")
    return c.json


def check_train_stable(r, bc):
    m1, m2, m3 = (os.path.join(r.tmp, n) for n in ("bc1.model", "bc2.model", "bc3.model"))
    a = train_bc(r, bc, m1, 5)
    b = train_bc(r, bc, m2, 5)
    c = train_bc(r, bc, m3, 6)
    expect(a["hash"] == b["hash"], "same seed, different hashes %s %s" % (a["hash"], b["hash"]))
    with open(m1, "rb") as f1, open(m2, "rb") as f2:
        expect(f1.read() == f2.read(), "same seed, different model bytes")
    expect(c["hash"] != a["hash"], "another seed gave the same model")
    human = ml(r, ["train", "--data", bc["train"], "--label", "benign", "--model", "logistic",
                   "--seed", "5", "--out", m2])
    expect(human.returncode == 0 and re.search(r"^hash:\s+%s$" % a["hash"], human.stdout, re.M),
           "human output lacks the hash: %r" % human)
    print("train: hash %s, internal held-out AUC %.4f" % (a["hash"], a["auc_test"]))


def check_eval_heldout(r, bc):
    model = os.path.join(r.tmp, "bc_all_train.model")
    c = ml(r, ["train", "--data", bc["train"], "--label", "benign", "--model", "logistic",
               "--test-frac", "0", "--out", model], json_out=True)
    expect(c.returncode == 0 and c.json and c.json["n_test"] == 0, repr(c))
    e = ml(r, ["eval", model, "--data", bc["test"], "--label", "benign"], json_out=True)
    expect(e.returncode == 0 and e.json, "eval: %r" % e)
    met = e.json["metrics"]
    expect(e.json["samples"] == 142 and e.json["hash"] == c.json["hash"], repr(e.json))
    expect(met["auc_eval"] > 0.9 and met["accuracy_eval"] > 0.85, "held-out metrics %r" % met)
    print("eval: held-out AUC %.4f accuracy %.4f log-loss %.4f" %
          (met["auc_eval"], met["accuracy_eval"], met["logloss_eval"]))
    sk = "/usr/bin/python3"
    code = ("import sys, numpy as np\n"
            "from sklearn.linear_model import LogisticRegression\n"
            "from sklearn.preprocessing import StandardScaler\n"
            "from sklearn.metrics import roc_auc_score\n"
            "tr = np.genfromtxt(sys.argv[1], delimiter=',', skip_header=1)[:, 1:]\n"
            "te = np.genfromtxt(sys.argv[2], delimiter=',', skip_header=1)[:, 1:]\n"
            "s = StandardScaler().fit(tr[:, :-1])\n"
            "m = LogisticRegression(C=1.0, max_iter=10000).fit(s.transform(tr[:, :-1]), tr[:, -1])\n"
            "print(roc_auc_score(te[:, -1], m.predict_proba(s.transform(te[:, :-1]))[:, 1]))\n")
    p = subprocess.run([sk, "-c", code, bc["train"], bc["test"]], capture_output=True, text=True,
                       timeout=TIMEOUT) if os.access(sk, os.X_OK) else None
    if p is None or p.returncode != 0:
        print("scikit-learn comparison skipped (no scikit-learn under %s)" % sk)
        return
    ref = float(p.stdout.strip())
    print("scikit-learn LogisticRegression held-out AUC %.4f (genie %.4f)" % (ref, met["auc_eval"]))
    expect(abs(ref - met["auc_eval"]) <= 0.005, "AUC differs from scikit-learn's by more than 0.005")


def check_predict(r, bc):
    model = os.path.join(r.tmp, "bc1.model")
    c = ml(r, ["predict", model, "--data", bc["all"]])
    expect(c.returncode == 0, "predict: %r" % c)
    lines = c.stdout.splitlines()
    expect(len(lines) == 569, "%d prediction lines for 569 samples" % len(lines))
    for i, line in enumerate(lines):
        sid, score = line.split("\t")
        expect(sid == "s%03d" % i and 0.0 <= float(score) <= 1.0, "bad line %r" % line)
    j = ml(r, ["predict", model, "--data", bc["test"]], json_out=True)
    expect(j.returncode == 0 and j.json and len(j.json["predictions"]) == 142, repr(j))
    expect(all(0 <= p["score"] <= 1 for p in j.json["predictions"]), "score out of [0, 1]")
    out = os.path.join(r.tmp, "scores.tsv")
    f = ml(r, ["predict", model, "--data", bc["all"], "--out", out])
    expect(f.returncode == 0 and f.stdout == "", repr(f))
    with open(out) as fh:
        expect(fh.read().splitlines() == lines, "--out file differs from stdout")


def check_cohort_models(r, coh):
    pheno = os.path.join(coh, "phenotypes.csv")
    vcf = os.path.join(coh, "cohort.vcf.gz")
    ref = os.path.join(coh, "reference.tsv")
    d23 = os.path.join(coh, "23andme")
    prs = os.path.join(r.tmp, "prs.model")
    c = ml(r, ["train", "--data", pheno, "--genotypes", vcf, "--label", "quant", "--model", "prs",
               "--p-threshold", "1e-4", "--out", prs], json_out=True)
    expect(c.returncode == 0 and c.json and c.json["kind"] == "prs", "prs train: %r" % c)
    expect("reading VCF" in c.stderr and "300 samples x 400 SNPs" in c.stderr,
           "no progress on stderr: %r" % c.stderr)
    expect(c.json["r2_test"] > 0.2, "PRS held-out R2 %r" % c.json)
    print("prs: held-out R2 %.3f with %d SNPs (h2 0.6, N 300, M 400)" %
          (c.json["r2_test"], c.json["features"]))
    e = ml(r, ["eval", prs, "--data", pheno, "--ref", ref, "--23andme", d23, "--label", "quant"],
           json_out=True)
    expect(e.returncode == 0 and e.json and e.json["metrics"]["r2_eval"] > 0.2, "prs eval %r" % e)
    lg = os.path.join(r.tmp, "geno_logistic.model")
    c = ml(r, ["train", "--data", pheno, "--ref", ref, "--23andme", d23, "--label", "trait",
               "--model", "logistic", "--covariates", "age,sex", "--l2", "10", "--out", lg],
           json_out=True)
    expect(c.returncode == 0 and c.json and c.json["features"] == 402, "geno logistic: %r" % c)
    p = ml(r, ["predict", lg, "--data", pheno, "--genotypes", vcf], json_out=True)
    expect(p.returncode == 0 and p.json and len(p.json["predictions"]) == 300, repr(p))
    q = ml(r, ["predict", prs, "--genotypes", vcf])
    expect(q.returncode == 0 and len(q.stdout.splitlines()) == 300, repr(q))
    lin = os.path.join(r.tmp, "linear.model")
    c = ml(r, ["train", "--data", pheno, "--label", "quant", "--model", "linear",
               "--covariates", "age,sex,bmi", "--out", lin], json_out=True)
    expect(c.returncode == 0 and c.json and "r2_test" in c.json, "linear on a CSV: %r" % c)
    # feature selection: three rsids from a file (comments, blank lines) plus sex one-hot
    with open(os.path.join(coh, "cohort.vcf")) as f:
        rsids = [l.split("\t")[2] for l in f if not l.startswith("#")][:3]
    ffile = os.path.join(r.tmp, "features.txt")
    with open(ffile, "w") as f:
        f.write("# chosen SNPs\n%s\n\n%s\n%s\n" % tuple(rsids))
    sel = os.path.join(r.tmp, "selected.model")
    c = ml(r, ["train", "--data", pheno, "--genotypes", vcf, "--label", "quant", "--model",
               "linear", "--features-file", ffile, "--covariates", "sex", "--out", sel],
           json_out=True)
    expect(c.returncode == 0 and c.json and c.json["features"] == 4, "--features-file: %r" % c)
    c = ml(r, ["train", "--data", pheno, "--genotypes", vcf, "--label", "quant", "--model", "prs",
               "--features", ",".join(rsids[:2]), "--p-threshold", "1", "--out", sel],
           json_out=True)
    expect(c.returncode == 0 and c.json and c.json["features"] <= 2, "prs --features: %r" % c)
    c = ml(r, ["train", "--data", pheno, "--genotypes", vcf, "--label", "quant", "--model", "prs",
               "--features", "rs_absent", "--out", sel])
    expect("rs_absent" in one_error(c, 1), "absent rsid not named")
    # --id: the id column need not be the first
    moved = os.path.join(r.tmp, "pheno_id_last.csv")
    with open(pheno) as f, open(moved, "w") as g:
        for line in f.read().splitlines():
            cols = line.split(",")
            g.write(",".join(cols[1:] + cols[:1]) + "\n")
    lg2 = os.path.join(r.tmp, "geno_logistic_id.model")
    c = ml(r, ["train", "--data", moved, "--id", "id", "--genotypes", vcf, "--label", "trait",
               "--model", "logistic", "--covariates", "age,sex", "--l2", "10", "--out", lg2],
           json_out=True)
    expect(c.returncode == 0 and c.json and c.json["features"] == 402, "--id: %r" % c)


def check_bad_usage(r, bc):
    model = os.path.join(r.tmp, "bc1.model")
    usage = [
        ["ml", "validate"],
        ["ml", "validate", bc["all"], "--type", "blood"],
        ["ml", "validate", bc["all"], "extra"],
        ["ml", "train", "--data", bc["all"]],
        ["ml", "train", "--data", bc["all"], "--label", "benign", "--model", "forest",
         "--out", "x"],
        ["ml", "train", "--data", bc["all"], "--label", "benign", "--model", "logistic",
         "--out", "x", "--test-frac", "2"],
        ["ml", "train", "--data", bc["all"], "--label", "benign", "--model", "logistic",
         "--out", "x", "--seed", "-1"],
        ["ml", "train", "--data", bc["all"], "--label", "benign", "--model", "prs", "--out", "x"],
        ["ml", "train", "--label"],
        ["ml", "eval", model, "--data", bc["all"]],
        ["ml", "eval", "--data", bc["all"], "--label", "benign"],
        ["ml", "predict", model],
        ["ml", "predict", model, "--data", bc["all"], "--bogus"],
        ["ml", "predict", model, "--ref", "r.tsv", "--data", bc["all"]],
        ["ml"],
    ]
    for args in usage:
        one_error(run_cli(r.bindir, args, timeout=TIMEOUT), 2)
    errors = [
        ["ml", "validate", os.path.join(r.tmp, "missing.csv")],
        ["ml", "train", "--data", bc["all"], "--label", "nope", "--model", "logistic",
         "--out", os.path.join(r.tmp, "x.model")],
        ["ml", "train", "--data", bc["all"], "--label", "f00", "--model", "logistic",
         "--out", os.path.join(r.tmp, "x.model")],
        ["ml", "eval", bc["all"], "--data", bc["all"], "--label", "benign"],
        ["ml", "predict", model, "--data", os.path.join(r.tmp, "bad_pheno_none.csv")],
    ]
    for args in errors:
        one_error(run_cli(r.bindir, args, timeout=TIMEOUT), 1)


def main():
    args = parse_args()
    with Runner("test_ml_cli", args) as r:
        if not os.path.exists(BC_SRC):
            print("%s missing (python3-sklearn not installed)" % BC_SRC)
            return 1
        bc = r.check("breast-cancer CSV copies", write_bc, r)
        coh = r.check("synthetic cohort", make_cohort, r)
        r.check("help lists the ml commands", check_help, r)
        if bc and coh:
            r.check("validate: good files pass, corrupted ones fail with a reason",
                    check_validate, r, bc, coh)
            r.check("cohort: PRS and genotype models over VCF and 23andMe", check_cohort_models,
                    r, coh)
        if bc:
            r.check("train: hash printed, stable for a seed", check_train_stable, r, bc)
            r.check("eval on held-out breast cancer rows", check_eval_heldout, r, bc)
            r.check("predict: one score per sample", check_predict, r, bc)
            r.check("bad usage exits 2, errors exit 1, one line each", check_bad_usage, r, bc)
    return r.exit_code()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""test_train_poison: a training with a poisoned party still meets the spec's accuracy
thanks to the robust rule (issue 16), through real processes: genie-node, genie-enclave,
the ledger, p2p relays and a paid query, with nothing in-process.

The world is tests/bench/bench_train_net.py's build_world (genie_testlib's helpers): a
1-authority testnet naming an attestation service; 3 certified runners, one training
enclave each (runner1 also runs the validation and the query enclave); a trainer whose
logistic spec (age, bmi, quant -> trait) has the MEDIAN as its aggregation rule; 3 data
owners, each adding one phenotype table of ROWS rows cut from one genie-cohort cohort
(prevalence 0.5) and donating it to its own training enclave. Owner 3 is the poisoner: its
table has the label column flipped (trait 0 <-> 1) before it is added; the table is well
formed and passes the validation enclave like any other.

Named checks, in order:
  1. the world: 3 runners, 3 training enclaves, 3 donors; owner 3's labels flipped.
  2. `genie train start` (runner1's enclave the coordinator, ROUNDS rounds, the node's
     default aggregation DP on: agg_eps 500 at delta 1e-5); the model is published on the
     ledger with all 3 parties and loaded by the query enclave (same hash, bench's train());
     `genie model show` on the trainer's node gives the same hash and metrics. The ledger's
     "accuracy" is measured on the parties' pooled holdout, where the poisoner's third has
     flipped labels: a model right on a fraction a of clean rows scores about
     (2a + (1 - a)) / 3 there (<= 2/3), one that follows the poisoner about 1/3. It must
     be at least LEDGER_ACC_MIN (0.50), between the two.
  3. A user buys a query per row and runs the model, in the query enclave, on QUERY_ROWS
     rows of the cohort nobody donated (clean labels; rows with a missing value left out):
     the fraction classified right (prediction >= 0.5 for trait 1) must be at least
     CLEAN_ACC_MIN (0.85), which a clean training reaches with margin.

Measured before choosing the thresholds (ASan build, 2 cores shared with other helpers'
builds and a CI run; `--measure` prints without checking, `--rule mean` runs the same world
with the mean, `--clean` with no poisoning; the seed is the cohort's; the training itself is
not reproducible: the job's seed comes from its id and the aggregation noise from
randombytes in the enclave), 5 rounds, clean accuracy / ledger accuracy:
  150 rows per owner, 200 query rows (this test's sizes), cohort seeds 1611..1624:
    median, poisoned (15 runs, 1611 twice): clean 0.912 .. 0.995 (mean 0.958),
                                            ledger 0.621 .. 0.691
    mean,   poisoned (4 runs, 1611..1614): clean 0.891 .. 0.952, ledger 0.614 .. 0.671
    median, clean    (2 runs, 1611, 1612): clean 0.959 .. 0.985, ledger 0.965 .. 0.989
  80 rows per owner, 100 query rows, cohort seeds 1601..1603:
    median, poisoned (4 runs): clean 0.884 .. 0.958, ledger 0.553 .. 0.689
    mean,   poisoned (3 runs): clean 0.853 .. 0.913, ledger 0.600 .. 0.660
    median and mean, clean (4 runs, 1601, 1602): clean 0.937 .. 0.978, ledger 0.957 .. 1.0
The median keeps a poisoned training at a clean training's level. The poisoned MEAN is
lower on average but not reliably below a threshold the median meets with margin: with 3
parties of equal size the node's aggregation DP (on, and not settable by a spec yet) clips
every party's update and weighs the parties equally, so the flipped party only slows the
honest direction down (sum of two honest updates minus one). So this test checks the median
only; tests/unit/enclave/test_enclave_fed.c shows the contrast where it holds (a poisoner
with most of the records under the sample-weighted mean without aggregation DP).
The contribution weights are NOT checked: they are Shapley values of the pooled-holdout
accuracy, where the poisoner's own flipped holdout rewards it (it got 0 to 6667 bp of 10000
in the runs above, the median's included).

    python3 test_train_poison.py --bindir BUILD_DIR [--keep] [--seed N] [--rule R]
        [--clean] [--rows N] [--rounds N] [--measure]
--measure prints the accuracies without checking them against the thresholds.
"""

import argparse
import csv
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "bench"))

from genie_testlib import (HEIGHT_TIMEOUT, WAIT_S, Runner, balance, expect,  # noqa: E402
                           start_funded_user, wait_for)
from bench_train_net import build_world, train  # noqa: E402

RUNNERS = 3
ROWS = 150          # rows of each owner's table
QUERY_ROWS = 200    # the user's clean held-out rows
ROUNDS = 5
POISONED = 2        # owner 3 (0-based), its own training enclave on runner3
PREVALENCE = 0.5
COHORT_SEED = 1611
CLEAN_ACC_MIN = 0.85   # on the clean held-out rows, through the query enclave
LEDGER_ACC_MIN = 0.50  # the published metric, on the pooled (partly flipped) holdout
LABEL = "trait"


def parse_args(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True, help="build directory holding genie-node")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--seed", type=int, default=COHORT_SEED, help="the cohort's seed")
    ap.add_argument("--rule", default="median", choices=("mean", "median", "trimmed", "krum"))
    ap.add_argument("--clean", action="store_true", help="no poisoned party")
    ap.add_argument("--rows", type=int, default=ROWS)
    ap.add_argument("--rounds", type=int, default=ROUNDS)
    ap.add_argument("--measure", action="store_true", help="print, do not check, accuracies")
    return ap.parse_args(argv)


def flip_labels(path):
    """Rewrites the table at PATH with its label column flipped (0 <-> 1). Returns how
    many rows it flipped."""
    with open(path) as f:
        rows = list(csv.reader(f))
    col = rows[0].index(LABEL)
    n = 0
    for row in rows[1:]:
        expect(row[col] in ("0", "1"), "label %r in %s" % (row[col], path))
        row[col] = "1" if row[col] == "0" else "0"
        n += 1
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return n


def check_world(r, args, st):
    flipped = {}

    def poison(k, paths):
        if k == POISONED and not args.clean:
            flipped[k] = sum(flip_labels(p) for p in paths)
    st.update(build_world(r, RUNNERS, RUNNERS, RUNNERS, 1, args.rows, query_rows=QUERY_ROWS,
                          aggregation=args.rule, cohort_seed=args.seed, prevalence=PREVALENCE,
                          tables_hook=poison))
    expect(len(st["t"]) == RUNNERS and len(st["owners"]) == RUNNERS, "world: %r" % st.keys())
    expect(args.clean or flipped.get(POISONED) == args.rows, "flipped %r" % flipped)
    print("  spec %s... rule %s; owner%d's %s" % (
        st["spec"][:16], args.rule, POISONED + 1,
        "labels flipped (%d rows)" % args.rows if not args.clean else "labels kept (--clean)"))
    return True


def check_train(r, args, st):
    t0 = time.monotonic()
    phases, status, seen, _ = train(st, args.rounds)
    model, local = status["model"], status["local"]
    acc = model["metrics"]["accuracy"]
    st["model"], st["train_s"], st["ledger_acc"] = model, time.monotonic() - t0, acc
    print("  published in %.1f s, loaded at %.1f s; rounds %d; metrics %r; weights %r" % (
        phases["published"], phases["loaded"], local.get("rounds", 0), model["metrics"],
        [p["weight_bp"] for p in model["parties"]]))
    expect(len(model["parties"]) == RUNNERS and model["n_records"] == RUNNERS
           and local.get("rounds") == args.rounds, "model: %r, local %r" % (model, local))
    # the same on the ledger of the trainer (`genie model show`)
    c = st["trainer"].cli("model", "show", model["id"])
    expect(c.returncode == 0 and c.json and c.json["model_hash"] == model["model_hash"],
           "model show: %r" % c)
    shown = c.json["metrics"]["accuracy"]
    expect(abs(shown - acc) < 1e-9, "model show's accuracy %r, train status's %r" % (shown, acc))
    print("  ledger accuracy (pooled holdout, %d samples): %.4f (threshold %.2f)" % (
        model["n_test"], acc, LEDGER_ACC_MIN))
    expect(args.measure or acc >= LEDGER_ACC_MIN,
           "the ledger's accuracy %.4f < %.2f" % (acc, LEDGER_ACC_MIN))
    return True


def clean_rows(st):
    """The user's rows (never donated) without missing values: (path, labels)."""
    with open(st["query_file"]) as f:
        rows = list(csv.reader(f))
    body = [x for x in rows[1:] if "" not in x and "NA" not in x]
    path = os.path.join(os.path.dirname(st["query_file"]), "clean.csv")
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([rows[0]] + body)
    col = rows[0].index(LABEL)
    return path, [int(x[col]) for x in body]


def check_query(r, args, st):
    net, model = st["net"], st["model"]
    path, labels = clean_rows(st)
    expect(len(labels) >= QUERY_ROWS // 2, "too few clean rows (%d)" % len(labels))
    peers = [st["auth"].address(), st["runners"][0].address()]
    user, account = start_funded_user(net, peers, model["height"], 10 * len(labels))
    c = user.cli("query", "buy", model["id"], "--count", str(len(labels)), "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json, "query buy: %r" % c)
    wait_for(lambda: balance(user, account) < 10 * len(labels), timeout=HEIGHT_TIMEOUT,
             interval=0.2, what="the buy's cost leaves the balance")
    c = user.cli("query", "run", model["id"], "--input", path, timeout=120)
    expect(c.returncode == 0 and c.json and len(c.json["predictions"]) == len(labels),
           "query run: %r" % c)
    preds = c.json["predictions"]
    right = sum(1 for p, y in zip(preds, labels) if (p >= 0.5) == (y == 1))
    acc = right / len(labels)
    print("  clean held-out accuracy through the query enclave: %d of %d = %.4f "
          "(threshold %.2f; %d positives)" % (right, len(labels), acc, CLEAN_ACC_MIN,
                                             sum(labels)))
    print("RESULT rule=%s poisoned=%s seed=%d rows=%d rounds=%d ledger_acc=%.4f clean_acc=%.4f"
          " train_s=%.1f" % (args.rule, not args.clean, args.seed, args.rows, args.rounds,
                             st["ledger_acc"], acc, st["train_s"]))
    expect(args.measure or acc >= CLEAN_ACC_MIN,
           "clean accuracy %.4f < %.2f" % (acc, CLEAN_ACC_MIN))
    return True


def main():
    args = parse_args()
    print("test_train_poison: cohort seed %d (--seed), rule %s, %s, %d rows per owner, "
          "%d rounds" % (args.seed, args.rule, "clean" if args.clean else
                         "owner%d poisoned" % (POISONED + 1), args.rows, args.rounds))
    with Runner("test_train_poison", args) as r:
        st = {}
        for what, fn in (("3 runners, 3 training enclaves, 3 donors, one poisoned", check_world),
                         ("the training publishes a model the query enclave loads", check_train),
                         ("the model's clean held-out accuracy through paid queries",
                          check_query)):
            if r.check(what, fn, r, args, st) is None:
                break
    sys.exit(r.exit_code())


if __name__ == "__main__":
    main()

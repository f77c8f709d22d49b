#!/usr/bin/env python3
"""test_query_burst: a burst of paid queries larger than the enclave relay's bound on calls
in flight to one runner (NODE_ENCLAVE_RELAY_PEER_MAX, 8) is answered in full, with real
processes (issue 16's query path: the user's node seals, p2p unicast to the runner, the
runner's relay, the query enclave, back).

Scenarios (named checks, in order):
  1. A 1-authority testnet with an attestation service; runner1 (the authority's account)
     spawns a validation, a training and a query enclave.
  2. A trainer and a logistic spec (age, bmi, quant -> trait; 2 donors); two data owners
     each donate a 40-row slice of a genie-cohort table (seed printed) to runner1's
     training enclave; `genie train start` (1 round) publishes the model and the query
     enclave loads it.
  3. A funded user buys BUY queries; one query (with the buy's proof) answers with used 1.
  4. BURST query_run calls of one row at once (threads, one RPC connection each, more than
     8): every one answers (none refused: the user's node holds the calls the relay has no
     room for and sends them as calls end), each with one prediction in [0, 1], and the
     used counts they carry are exactly 2..BURST+1 (each query counted once); the buy has
     BUY - BURST - 1 queries left (a last query says so).

    python3 test_query_burst.py --bindir BUILD_DIR [--keep]
"""

import csv
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (HEIGHT_TIMEOUT, WAIT_S, add_data, expect,  # noqa: E402
                           recruit_until_offered, register_spec, run_ledger_steps,
                           spawn_registered, start_account_node, start_certified_runner,
                           start_funded_user, start_trainer, wait_for)

BURST = 24
BUY = 40
COHORT_SEED = 1616
FEATURES = ["age", "bmi", "quant"]


def check_testnet(net, st):
    st["as_key"], _ = net.start_attested()
    r1, _ = start_certified_runner(net, st["as_key"], "runner1", peers=[net.nodes[0].address()])
    st["runner1"] = r1
    st["validation"] = spawn_registered(r1, "validation")
    st["t1"] = spawn_registered(r1, "training")
    st["query"] = spawn_registered(r1, "query")
    st["reg"] = max(st[k]["registered_height"] for k in ("validation", "t1", "query"))
    return True


def slices(r):
    """Three 40-row tables of a genie-cohort phenotype table: two to donate, the user's."""
    out = os.path.join(r.tmp, "cohort")
    print("  cohort seed %d" % COHORT_SEED)
    p = subprocess.run([os.path.join(r.bindir, "genie-cohort"), "--out", out, "--samples",
                        "120", "--snps", "20", "--csv", "--seed", str(COHORT_SEED)],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, "genie-cohort: %r" % p.stderr)
    with open(os.path.join(out, "phenotypes.csv")) as f:
        rows = list(csv.reader(f))
    paths = []
    for k in range(3):
        path = os.path.join(r.tmp, "slice-%d.csv" % k)
        with open(path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(rows[0])
            w.writerows(rows[1 + k * 40:1 + (k + 1) * 40])
        paths.append(path)
    return rows[0], paths


def check_model(net, st):
    auth, r1 = net.nodes[0], st["runner1"]
    trainer, _, _ = start_trainer(net, [auth.address(), r1.address()], st["reg"])
    spec = register_spec(trainer, st["t1"]["measurement"], ",".join(FEATURES), "trait", 2, 0,
                         1, "6000,3000,1000")["spec_id"]
    st["header"], paths = slices(net.r)
    st["user_rows"] = paths[2]
    for k in range(2):
        owner, _ = start_account_node(net, "owner%d" % k, "data-owner",
                                      [auth.address(), r1.address(), trainer.address()],
                                      st["reg"])
        add_data(owner, paths[k], "phenotype")
        c = owner.cli("consent", "set", "--allow-types", "logistic", "--allow-purposes",
                      "research", "--max-epsilon", "1", "--wait", WAIT_S)
        expect(c.returncode == 0, "consent set: %r" % c)
        recruit_until_offered(trainer, spec, [owner])
        c = owner.cli("donate", spec, "--wait", WAIT_S, timeout=120)
        expect(c.returncode == 0 and c.json and all(d["ok"] for d in c.json["donations"]),
               "donate: %r" % c)
    c = trainer.cli("train", "start", spec, "--coordinator", st["t1"]["id"], "--rounds", "1",
                    "--query-measurement", st["query"]["measurement"], "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json, "train start: %r" % c)
    got = {}

    def loaded():
        s = r1.call("train_status", {"spec": spec})
        model = s.get("model")
        if not model or (s.get("local") or {}).get("phase") != "done":
            return False
        got["model"] = model
        for e in r1.call("query_status").get("enclaves", []):
            if e["enclave"] == st["query"]["id"]:
                return any(m["model"] == model["id"] for m in e["models"])
        return False
    wait_for(loaded, timeout=HEIGHT_TIMEOUT * 4, interval=0.3,
             what="the model published and loaded")
    st["model"] = got["model"]
    print("  model %s... published and loaded in query enclave %s..." %
          (st["model"]["id"][:16], st["query"]["id"][:16]))
    return True


def query_params(st, k):
    """query_run params for the user's row K (its features as numbers)."""
    with open(st["user_rows"]) as f:
        rows = list(csv.reader(f))
    idx = [rows[0].index(x) for x in FEATURES]
    good = []
    for row in rows[1:]:
        try:
            good.append([float(row[i]) for i in idx])
        except ValueError:
            continue
    return {"model": st["model"]["id"], "columns": FEATURES, "rows": [good[k % len(good)]]}


def check_buy(net, st):
    user, _ = start_funded_user(net, [net.nodes[0].address(), st["runner1"].address()],
                                st["model"]["height"], 1000)
    st["user"] = user
    c = user.cli("query", "buy", st["model"]["id"], "--count", str(BUY), "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json, "query buy: %r" % c)
    res = user.call("query_run", query_params(st, 0), timeout=60)
    expect(res["used"] == 1 and res["count"] == BUY and len(res["predictions"]) == 1,
           "first query: %r" % res)
    print("  bought %d queries; the first (with the buy's proof) answered, used 1" % BUY)
    return True


def check_burst(net, st):
    user, out, lock = st["user"], [], threading.Lock()
    start = threading.Barrier(BURST)

    def one(k):
        start.wait()
        try:
            res = ("ok", user.call("query_run", query_params(st, k + 1), timeout=60))
        except (RuntimeError, OSError, ValueError) as e:
            res = ("refused", str(e))
        with lock:
            out.append(res)
    threads = [threading.Thread(target=one, args=(k,)) for k in range(BURST)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    refused = [x for s, x in out if s != "ok"]
    expect(len(out) == BURST and not refused, "%d of %d answered; refused: %r" %
           (len(out) - len(refused), BURST, refused[:3]))
    answers = [x for _, x in out]
    expect(all(len(a["predictions"]) == 1 and 0.0 <= a["predictions"][0] <= 1.0
               for a in answers), "predictions: %r" % answers)
    used = sorted(a["used"] for a in answers)
    expect(used == list(range(2, BURST + 2)), "used counts %r, not 2..%d" % (used, BURST + 1))
    res = user.call("query_run", query_params(st, 0), timeout=60)
    expect(res["used"] == BURST + 2, "after the burst: %r" % res)
    print("  %d concurrent queries (relay bound: 8 a runner) all answered, used counts "
          "2..%d; then used %d of %d" % (BURST, BURST + 1, res["used"], BUY))
    return True


if __name__ == "__main__":
    run_ledger_steps("test_query_burst", (
        ("a testnet with a certified runner and its enclaves", check_testnet),
        ("a model trained from two owners' donations, loaded in the query enclave",
         check_model),
        ("a funded user buys queries; the first answers", check_buy),
        ("a burst of queries over the relay's bound is answered in full", check_burst),
    ))

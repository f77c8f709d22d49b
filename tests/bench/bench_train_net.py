#!/usr/bin/env python3
"""bench_train_net: federated training through real nodes on loopback (issue 16), timed
from `genie train start` to the model published on the ledger and loaded in a query enclave.

Builds the marketplace with real processes (tests/integration/genie_testlib.py's helpers,
as test_train_query.py does): a 1-authority testnet whose genesis names an attestation
service; RUNNERS certified enclave runners (runner1 holds the authority's account and runs
the validation and query enclaves); ENCLAVES training enclaves spread over the runners;
a trainer with a logistic spec (age, bmi, quant -> trait, no DP); OWNERS data-owner nodes,
each adding RECORDS phenotype tables of ROWS rows cut from one genie-cohort cohort,
consenting, and donating them (sealed) to one training enclave: enclave k is spawned just
before its owners donate (donations go to the newest one), so every enclave holds records.
Then, timed (each phase from `train start`):
  committed   `genie train start SPEC --coordinator T1 --rounds N --query-measurement Q
              --wait` returned (TRAIN_START committed)
  running     the coordinator's runner picked the job up (train status: a local phase)
  prepared    every party prepared (TRAIN_PREPARE answered, records checked)
  published   the job published on the coordinator's ledger (MODEL_PUBLISH committed)
  loaded      runner1's query enclave loaded the model (MODEL_SEAL at the coordinator,
              MODEL_LOAD with the publish proof), its hash the ledger's
with the rounds seen, the model's metrics and the parties' records; CPU-s of every process
over the training and the load average.

The default is the demo's cohort (scripts/testnet_demo.sh: 2 runners, a training enclave
on each, 40-row tables); --big is issue 16's cohort, 5,000 donor
records (the ledger takes up to LEDGER_DONORS_PER_SPEC_MAX, 8,192, for one spec) over 4
training enclaves on 4 runners (8 owners of 625 one-row records each: an account registers
at most 1,024), which takes a
few minutes of set-up (every record is validated, registered on the ledger and donated
through the relay).

    python3 bench_train_net.py --bindir BUILD_DIR [--runners R] [--enclaves E]
        [--owners O] [--records K] [--rows N] [--rounds N] [--big] [--burn K] [--keep]
No pass/fail: it prints figures. Numbers from a loaded machine are upper bounds.
"""

import argparse
import concurrent.futures
import csv
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

from genie_testlib import (HEIGHT_TIMEOUT, WAIT_S, LedgerNet, Runner, expect,  # noqa: E402
                           recruit_until_offered, register_spec, spawn_registered,
                           start_account_node, start_certified_runner, start_trainer, wait_for)
from benchlib import Burn, CpuMeter, loadavg  # noqa: E402

FEATURES = "age,bmi,quant"
LABEL = "trait"
SHARES = "6000,3000,1000"
COHORT_SEED = 16


class Clock:
    """Prints each set-up step with the seconds it took."""

    def __init__(self):
        self.t = time.monotonic()

    def step(self, what):
        now = time.monotonic()
        print("  [%6.1f s] %s" % (now - self.t, what), flush=True)
        self.t = now


def cohort_tables(r, n_tables, rows, extra_rows, seed=COHORT_SEED, prevalence=None):
    """genie-cohort's phenotypes.csv (cohort SEED; the trait's PREVALENCE, default
    genie-cohort's) cut into N_TABLES tables of ROWS rows (paths), and a table of
    EXTRA_ROWS further rows (the user's queries; its path last)."""
    out = os.path.join(r.tmp, "cohort")
    samples = n_tables * rows + extra_rows
    p = subprocess.run([os.path.join(r.bindir, "genie-cohort"), "--out", out, "--samples",
                        str(samples), "--snps", "20", "--csv", "--seed", str(seed)]
                       + (["--prevalence", str(prevalence)] if prevalence else []),
                       capture_output=True, text=True, timeout=300)
    expect(p.returncode == 0, "genie-cohort: %r" % p.stderr)
    with open(os.path.join(out, "phenotypes.csv")) as f:
        table = list(csv.reader(f))
    header, body = table[0], table[1:]
    expect(len(body) >= samples, "genie-cohort made %d rows, not %d" % (len(body), samples))
    tdir = os.path.join(r.tmp, "tables")
    os.makedirs(tdir)
    paths = []
    for k in range(n_tables + 1):
        chunk = body[k * rows:(k + 1) * rows] if k < n_tables else body[n_tables * rows:]
        path = os.path.join(tdir, "t%05d.csv" % k)
        with open(path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(chunk)
        paths.append(path)
    return paths


def add_records(owner, paths, threads):
    """data_add of every table of PATHS on OWNER (RPC, THREADS at a time; a call is tried
    again while the validation enclave is not reachable yet), then waits until the owner's
    ledger holds every record. Returns the data ids."""
    def one(path):
        deadline = time.monotonic() + 120
        while True:
            try:
                return owner.call("data_add", {"path": path, "type": "phenotype",
                                               "name": os.path.basename(path)}, timeout=120)
            except RuntimeError as e:  # a node started moments ago: not linked yet
                if time.monotonic() > deadline or ("refused" in str(e)
                                                   and "try again" not in str(e)):
                    raise
                time.sleep(0.5)
    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        res = list(ex.map(one, paths))
    ids = [x["data_id"] for x in res]

    def committed():
        res = owner.call("data_list")
        rows = res if isinstance(res, list) else res.get("records", res.get("data", []))
        active = {d["data_id"] for d in rows if d.get("status") == "active"}
        return active >= set(ids)
    wait_for(committed, timeout=max(60.0, len(ids) * 0.2), interval=0.5,
             what="%s's records on the ledger" % owner.name)
    return ids


def donate_each(owner, spec, ids, threads):
    """The donate RPC for each record of IDS on OWNER (THREADS at a time; a call refused
    because too many donations or relay calls are in flight is tried again). Returns the
    donations' answers (one each)."""
    def one(d):
        deadline = time.monotonic() + 120
        while True:
            try:
                res = owner.call("donate", {"offer": spec, "data_id": d}, timeout=120)
                return res["donations"][0]
            except RuntimeError as e:
                if time.monotonic() > deadline or ("in flight" not in str(e)
                                                   and "try again" not in str(e)):
                    raise
                time.sleep(0.05)
    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        return list(ex.map(one, ids))


def build_world(r, runners=2, enclaves=2, owners=4, records=1, rows=40, query_rows=200,
                log_level="info", add_threads=6, aggregation="mean", cohort_seed=COHORT_SEED,
                prevalence=None, tables_hook=None):
    """The marketplace up to the donations (see the module's docstring); the spec's
    AGGREGATION rule (mean, median, trimmed, krum), the cohort's COHORT_SEED and trait
    PREVALENCE (cohort_tables); TABLES_HOOK(k, paths), if given, is called with owner k's
    (0-based) table paths before they are added (e.g. to rewrite them). Returns the state:
    net, auth, runners [node], t [training enclave entries], query (entry), trainer, spec,
    owners [{node, account, data}], query_file (the user's rows), pids {name: pid}."""
    ck = Clock()
    net = LedgerNet(r)
    st = {"net": net}
    st["as_key"], _ = net.start_attested()
    auth = st["auth"] = net.nodes[0]
    ck.step("authority at height 1 (genesis names an attestation service)")
    rs = []
    for i in range(runners):
        peers = [auth.address()] + [x.address() for x in rs[:1]]
        node, _ = start_certified_runner(net, st["as_key"], "runner%d" % (i + 1),
                                         own_account=i > 0, peers=peers, log_level=log_level)
        rs.append(node)
    st["runners"] = rs
    ck.step("%d certified runner(s)" % runners)
    st["validation"] = spawn_registered(rs[0], "validation")
    st["query"] = spawn_registered(rs[0], "query")
    st["t"] = [spawn_registered(rs[0], "training")]
    reg = max(e["registered_height"] for e in (st["validation"], st["query"], st["t"][0]))
    ck.step("runner1's validation, query and first training enclave registered")
    peers = [auth.address()] + [x.address() for x in rs]
    trainer, _, _ = start_trainer(net, peers, reg)
    st["trainer"] = trainer
    n_records = owners * records
    st["spec"] = register_spec(trainer, st["t"][0]["measurement"], FEATURES, LABEL, n_records,
                               0, 1, SHARES, aggregation=aggregation)["spec_id"]
    ck.step("trainer and spec %s... (logistic, %s, %d donors wanted)" %
            (st["spec"][:16], aggregation, n_records))
    tables = cohort_tables(r, n_records, rows, query_rows, cohort_seed, prevalence)
    st["query_file"] = tables[-1]
    ck.step("cohort: %d tables of %d rows, %d rows for the user" % (n_records, rows, query_rows))
    st["owners"] = []
    for k in range(owners):
        group = k * enclaves // owners  # owners spread evenly over the enclaves
        if group >= len(st["t"]):
            st["t"].append(spawn_registered(rs[group % runners], "training"))
        node, account = start_account_node(net, "owner%d" % (k + 1), "data-owner",
                                           peers + [trainer.address()], reg,
                                           log_level=log_level)
        if tables_hook is not None:
            tables_hook(k, tables[k * records:(k + 1) * records])
        ids = add_records(node, tables[k * records:(k + 1) * records], add_threads)
        c = node.cli("consent", "set", "--allow-types", "logistic", "--allow-purposes",
                     "research", "--max-epsilon", "1", "--wait", WAIT_S)
        expect(c.returncode == 0, "consent set: %r" % c)
        recruit_until_offered(trainer, st["spec"], [node])
        if records <= 8:  # `genie donate SPEC`: every matching record at once
            c = node.cli("donate", st["spec"], "--wait", WAIT_S, timeout=120)
            expect(c.returncode == 0 and c.json, "donate: %r" % c)
            d = c.json["donations"]
        else:  # one record a call (a node has 16 donations in flight at most)
            d = donate_each(node, st["spec"], ids, add_threads)
        want = st["t"][group]["id"]
        expect(len(d) == records and all(x["ok"] and x["enclave"] == want for x in d),
               "owner%d donations: %d of %d ok, to %r" %
               (k + 1, sum(1 for x in d if x["ok"]), records,
                sorted({x["enclave"][:16] for x in d})))
        st["owners"].append({"node": node, "account": account, "data": ids})
        ck.step("owner%d: %d record(s) added, consent set, donated to training enclave %d (%s)"
                % (k + 1, records, group + 1, rs[group % runners].name))
    wait_for(lambda: donors(trainer, st["spec"]) >= n_records, timeout=HEIGHT_TIMEOUT,
             interval=0.5, what="the spec's donors")
    pids = {"auth": auth.pid, "trainer": trainer.pid}
    for node in rs:
        pids[node.name] = node.pid
        for e in node.call("enclave_local"):
            pids["%s/%s-%d" % (node.name, e["kind"], e["local"])] = e["pid"]
    for o in st["owners"]:
        pids[o["node"].name] = o["node"].pid
    st["pids"] = pids
    return st


def donors(node, spec):
    c = node.cli("spec", "list")
    return [s for s in (c.json or []) if s["spec_id"] == spec][0]["donors"]


def train(st, rounds, poll=0.05):
    """`train start` with runner1's first training enclave as the coordinator; waits until
    the model is published and loaded in runner1's query enclave. Returns (phases
    {name: seconds since start}, the model (train status's), rounds seen, CPU-s)."""
    trainer, r1 = st["trainer"], st["runners"][0]
    spec, coord, q = st["spec"], st["t"][0]["id"], st["query"]
    cpu = CpuMeter(st["pids"])
    cpu.start()
    t0 = time.monotonic()
    c = trainer.cli("train", "start", spec, "--coordinator", coord, "--rounds", str(rounds),
                    "--query-measurement", q["measurement"], "--wait", WAIT_S)
    phases = {"committed": time.monotonic() - t0}
    expect(c.returncode == 0 and c.json, "train start: %r" % c)
    got = {"rounds": set()}

    def published():
        s = r1.call("train_status", {"spec": spec})
        now = time.monotonic() - t0
        local = s.get("local") or {}
        if local.get("phase") == "failed":
            raise AssertionError("training failed: %s" % local.get("why"))
        if local:
            phases.setdefault("running", now)
            if local.get("round"):
                got["rounds"].add(local["round"])
            ps = local.get("parties") or []
            if ps and all(p.get("prepared") for p in ps):
                phases.setdefault("prepared", now)
        if (s.get("job") or {}).get("status") == "published" and local.get("phase") == "done":
            phases.setdefault("published", now)
            got["s"] = s
            return True
        return False
    wait_for(published, timeout=600, interval=poll, what="the model published")
    model = got["s"]["model"]

    def loaded():
        for e in r1.call("query_status").get("enclaves", []):
            if e["enclave"] == q["id"]:
                return any(m["model"] == model["id"] and m["model_hash"] == model["model_hash"]
                           for m in e["models"])
        return False
    wait_for(loaded, timeout=HEIGHT_TIMEOUT * 4, interval=poll, what="the query enclave loads it")
    phases["loaded"] = time.monotonic() - t0
    return phases, got["s"], sorted(got["rounds"]), cpu.stop()


def print_training(phases, status, rounds_seen, cpu, wall):
    model, local = status["model"], status["local"]
    print("  phases (s since `train start`): " + ", ".join(
        "%s %.2f" % (k, phases[k]) for k in ("committed", "running", "prepared", "published",
                                             "loaded") if k in phases))
    print("  rounds %d (seen in progress: %s); parties %d; records used %d, left out %d" %
          (local.get("rounds", 0), rounds_seen or "-", len(model["parties"]),
           model["n_records"], local.get("excluded", 0)))
    print("  model %s... hash %s..., metrics %r" % (model["id"][:16], model["model_hash"][:16],
                                                  model["metrics"]))
    print("  CPU-s over the %.1f s: %s" % (wall, ", ".join(
        "%s %.2f" % (k, v) for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]) if v >= 0.01)))
    print("  load average %s" % loadavg())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--runners", type=int, default=2)
    ap.add_argument("--enclaves", type=int, default=2, help="training enclaves (default 2)")
    ap.add_argument("--owners", type=int, default=4)
    ap.add_argument("--records", type=int, default=1, help="records per owner (default 1)")
    ap.add_argument("--rows", type=int, default=40, help="rows per record (default 40)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--big", action="store_true",
                    help="5,000 one-row donor records (8 owners) over 4 enclaves on 4 runners")
    ap.add_argument("--burn", type=int, default=0,
                    help="CPU-bound loops beside the training (default 0)")
    args = ap.parse_args()
    if args.big:
        # issue 16: 5,000 donors (a spec takes up to 8,192, LEDGER_DONORS_PER_SPEC_MAX);
        # an account registers at most 1,024 records (LEDGER_DATA_PER_OWNER_MAX): 8 x 625
        args.runners, args.enclaves, args.owners, args.records, args.rows = 4, 4, 8, 625, 1
    if not (1 <= args.runners <= 8 and args.runners <= args.enclaves <= 16
            and args.enclaves <= args.owners and 1 <= args.records <= 1024 and args.rows >= 1
            and args.owners * args.records <= 16000 and 1 <= args.rounds <= 50):
        raise SystemExit("bad sizes (1..8 runners <= enclaves <= 16 <= owners ...)")
    with Runner("bench_train_net", args) as r:
        print("set-up: %d runner(s), %d training enclave(s), %d owner(s) x %d record(s) x %d "
              "row(s) = %d donor records, %d rows" % (
                  args.runners, args.enclaves, args.owners, args.records, args.rows,
                  args.owners * args.records, args.owners * args.records * args.rows))
        t0 = time.monotonic()
        st = build_world(r, args.runners, args.enclaves, args.owners, args.records, args.rows,
                         query_rows=20)
        print("  set-up took %.1f s" % (time.monotonic() - t0))
        print()
        with open(st["net"].genesis) as f:
            interval = json.load(f).get("block_interval_ms")
        print("training, %d round(s), %d CPU-bound loop(s) beside (%d cores), load average %s; "
              "the testnet's block interval %s ms (each committed tx waits for a block):"
              % (args.rounds, args.burn, os.cpu_count() or 0, loadavg(), interval))
        with Burn(args.burn):
            t1 = time.monotonic()
            phases, status, seen, cpu = train(st, args.rounds)
            wall = time.monotonic() - t1
        print_training(phases, status, seen, cpu, wall)
        r.passed += 1
    sys.exit(0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""test_testnet_demo: `scripts/testnet.sh demo` runs from start to end on the built programs,
and the testnet it makes is left running (KEEP=1) and stopped (down) as documented.

Scenarios (named checks, in order):
  1. `KEEP=1 NO_BUILD=1 scripts/testnet.sh demo` (15 nodes on free ports, in a temporary
     TESTNET_DIR, with --bindir's programs) exits 0. The demo checks each of its own steps
     (it exits non-zero naming the step that failed); on top, its output must show the
     whole story of issue 16 in order, with each step's ledger fact: the user funded, the
     enclaves registered, the spec, 7 records validated and registered, the consents (deny
     by default, Alice's per-record override), the offer matched or refused with its reason
     on each owner, Alice's sealed donation to runner1's enclave, Bob's, Carol's and Dave's
     refusals, the audit, Dave's keyed donation, 4 donors over the two runners, Erin's
     withdrawal, the training (train status while it runs), the publication (hash, metrics,
     3 records, weights summing to 10000), the same hash in the query enclave, 3 answered
     queries and 2 refused (spent, wrong code), the exact fee split with the conservation
     sum, the audit trails (TRAINED by the coordinating enclave in that model) and the
     canary, then "demo done".
  2. The kept network, read independently of the demo's own checks: the model on the
     ledger (3 records, two parties, weights 10000) has the hash the query enclave loaded;
     the buy has 3 claimed and 20 left in escrow; the owners' audit trails.
  3. Canary (issue 16's canary test over the whole flow): the canary planted in the owners'
     files (the demo's originals/CANARY) is, as text or hex, in no file under the test's
     directory but the originals: no datadir (stores, ledgers, the publication), no node log
     (the runners log every relayed message in hex at trace level), not in the demo's
     transcript (every CLI output the trainer, runners and user got) nor its stderr.
  4. KEEP=1 left all 15 nodes running: `testnet.sh status` lists each with a height;
     `testnet.sh down` then stops every node process and removes the pid files.
  5. A demo that cannot start (a port of its range taken by a listening socket) exits
     non-zero naming the port, and leaves no node running.

    python3 test_testnet_demo.py --bindir BUILD_DIR [--keep]
"""

import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (Runner, donors, expect, expect_no_canary, parse_args,  # noqa: E402
                           run_cli, wait_for)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "testnet.sh")
NODES = 15
DEMO_TIMEOUT = 420
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def ports_free(base, count):
    for p in range(base, base + count):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            return False
        finally:
            s.close()
    return True


def pick_base(rng, count):
    """A BASE_PORT with COUNT free ports, below the kernel's ephemeral range."""
    for _ in range(200):
        base = rng.randrange(20000, 31000)
        if ports_free(base, count):
            return base
    raise AssertionError("no %d free consecutive ports found" % count)


def script(st, *args, extra_env=None, timeout=60):
    env = dict(os.environ, TESTNET_DIR=st["dir"], BASE_PORT=str(st["base"]),
               BUILD_DIR=st["bindir"], NO_BUILD="1")
    env.update(extra_env or {})
    # files, not pipes: with KEEP=1 the script ends while its nodes run on
    out_path = os.path.join(os.path.dirname(st["dir"]), "script.out")
    err_path = os.path.join(os.path.dirname(st["dir"]), "script.err")
    t0 = time.monotonic()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        p = subprocess.run([SCRIPT] + list(args), stdout=out, stderr=err,
                           stdin=subprocess.DEVNULL, env=env, timeout=timeout)
    p.elapsed = time.monotonic() - t0
    with open(out_path) as f:
        p.stdout = f.read()
    with open(err_path) as f:
        p.stderr = f.read()
    p.text = ANSI.sub("", p.stdout)
    return p


def node_pids(st):
    pids = {}
    for i in range(NODES):
        path = os.path.join(st["dir"], "node%d" % i, "pid")
        if os.path.exists(path):
            with open(path) as f:
                pids[i] = int(f.read().strip())
    return pids


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (not reaped: the script that started it has exited) counts as gone
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def cleanup(st):
    """Stops whatever a failed check left running: `down`, then any pid still alive."""
    if not os.path.isdir(st.get("dir", "")):
        return
    seen = node_pids(st)
    try:
        script(st, "down", timeout=60)
    except subprocess.TimeoutExpired:
        pass
    for pid in seen.values():
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def in_order(text, needles):
    """Each needle found after the previous one; returns the first one missing, or None."""
    pos = 0
    for n in needles:
        at = text.find(n, pos)
        if at < 0:
            return n
        pos = at + len(n)
    return None


def facts(text):
    """The demo's "fact:" lines, in order."""
    return [ln.split("fact: ", 1)[1] for ln in text.splitlines() if "   fact: " in ln]


def check_demo(st):
    st["base"] = pick_base(st["rng"], NODES)
    print("  BASE_PORT %d, TESTNET_DIR %s" % (st["base"], st["dir"]))
    p = script(st, "demo", extra_env={"KEEP": "1"}, timeout=DEMO_TIMEOUT)
    st["demo"] = p
    if p.returncode != 0:
        print(p.text[-6000:])
        print(p.stderr[-3000:])
    expect(p.returncode == 0, "demo exited %d: %s" % (p.returncode, p.stderr.strip()[-500:]))
    t = p.text
    missing = in_order(t, [
        "15 nodes up",
        "transfer ", "the user's balance is 1000",
        "attest certify", "3 enclaves of runner1 registered",
        "Acme Genomics", "donors 0/3",
        "7 records validated and registered",
        "deny by default",
        "genie recruit",
        "match    ", "model type logistic and purpose research allowed",
        "model type logistic is denied",
        "needs 1 audit, has 0",
        "the offer matches Alice's table, Erin's and Frank's",
        "Alice's table is in runner1's training enclave",
        "refused  model type logistic is denied",
        "purpose research is denied",
        "refused  needs 1 audit, has 0",
        "verdict:         ok",
        "1 audit (needs 1)",
        "donors 4/3",
        "4 donors: Alice at runner1's enclave",
        "is WITHDRAWN on the ledger",
        "started on the ledger",
        "round ",
        "Erin's withdrawn record was left out",
        "3 records used, weights ",
        "equals the one published on the ledger",
        "3 queries answered; a spent code and a wrong code refused by the enclave",
        "split exactly",
        "TRAINED in model",
        "in none of",
        "demo done"])
    expect(missing is None, "the demo's output lacks %r (in order)" % missing)
    f = facts(t)
    expect(len(f) >= 14, "too few facts: %r" % f)
    m = re.search(r"sum conserved: (\d+) = (\d+)", t)
    expect(m and m.group(1) == m.group(2) and int(m.group(1)) >= 1000,
           "the conservation sum: %r" % (m and m.group(0)))
    m2 = re.search(r"fee (\d+) split exactly: runner (\d+), trainer (\d+), donors (\d+) "
                   r"\(claimed (\d+), dust (\d+)\)", t)
    expect(m2, "no fee split fact")
    fee, runner, trainer, donors, claimed, dust = (int(x) for x in m2.groups())
    expect(fee == 30 and runner == 3 and trainer == 9 and donors == 18
           and claimed + dust == donors and 0 <= dust < 3, "the split: %s" % m2.group(0))
    expect(t.count("refused") >= 5, "refusals: %d" % t.count("refused"))
    m = re.search(r"demo done in (\d+)s", t)
    st["demo_s"] = int(m.group(1)) if m else None
    print("  demo exited 0 in %.1f s (it says %s s); %s; %s" %
          (p.elapsed, st["demo_s"], m2.group(0), re.search(r"sum conserved: .*", t).group(0)))
    return True


def g(st, i, *args):
    c = run_cli(st["bindir"], ["--datadir", os.path.join(st["dir"], "node%d" % i)] + list(args),
                json_out=True, timeout=30)
    expect(c.returncode == 0 and c.json is not None, "genie %s on node %d: %r" % (args, i, c))
    return c.json


def check_ledger(st):
    """Reads the kept network's ledger and the runner's query enclave directly."""
    models = g(st, 14, "models")
    expect(len(models) == 1, "models: %r" % models)
    m = models[0]
    expect(m["n_records"] == 3 and len(m["parties"]) == 2
           and sum(p["weight_bp"] for p in m["parties"]) == 10000
           and sorted(p["n_records"] for p in m["parties"]) == [1, 2] and m["metrics"],
           "model: %r" % m)
    q = g(st, 4, "query", "status")
    loaded = [x for e in q["enclaves"] for x in e["models"] or [] if x["model"] == m["model_id"]]
    expect(len(loaded) == 1 and loaded[0]["model_hash"] == m["model_hash"],
           "the query enclave's model %r, the ledger's hash %s" % (q, m["model_hash"]))
    usage = [u for u in q.get("usage", []) if u["confirmed"] == 3]
    expect(len(usage) == 1, "usage: %r" % q.get("usage"))
    # the owners' trails: Alice (8), Dave (11), Frank (13) trained; Erin (12) withdrawn
    want = {8: "TRAINED", 9: None, 10: None, 11: "TRAINED", 12: "WITHDRAWN", 13: "TRAINED"}
    for i, use in want.items():
        a = g(st, i, "audit")
        uses = [u["use"] for u in (a if isinstance(a, list) else a["uses"])]
        if use:
            expect(use in uses, "node %d's audit: %r" % (i, uses))
        expect("TRAINED" not in uses or use == "TRAINED", "node %d's audit: %r" % (i, uses))
        trained = [u for u in (a if isinstance(a, list) else a["uses"]) if u["use"] == "TRAINED"]
        expect(all(u["txid"] == m["model_id"] and u["actor"] == m["coordinator"]
                   for u in trained), "node %d's TRAINED: %r" % (i, trained))
    print("  model %s...: 3 records at 2 parties, hash %s... loaded by the query enclave; "
          "usage 3 confirmed; audit trails as told" % (m["model_id"][:16], m["model_hash"][:16]))
    return True


def check_canary(st):
    originals = os.path.join(st["dir"], "originals")
    with open(os.path.join(originals, "CANARY")) as f:
        canary = f.read().strip()
    expect(canary.startswith("GENIE-DEMO-CANARY-"), "canary %r" % canary)
    planted = [n for n in os.listdir(originals)
               if n != "CANARY" and canary.encode() in open(os.path.join(originals, n), "rb").read()]
    expect(len(planted) >= 7, "the canary is planted in only %r" % planted)
    top = os.path.dirname(st["dir"])  # the testnet and the demo's stdout and stderr
    scanned = expect_no_canary(top, canary, originals)
    logs = [os.path.join(st["dir"], "node%d" % i, "node.log") for i in (4, 5)]
    relayed = sum(open(p, "rb").read().count(b"relay request of call") for p in logs)
    expect(relayed >= 10, "the runners traced too few relayed requests (%d)" % relayed)
    expect(os.path.getsize(os.path.join(st["dir"], "demo.out")) > 10000, "no transcript")
    print("  canary (text and hex) planted in %d files, in none of %d others (datadirs, "
          "logs with %d relayed requests traced, the transcript)" %
          (len(planted), scanned, relayed))
    return True


def check_keep_down(st):
    pids = node_pids(st)
    expect(len(pids) == NODES and all(alive(x) for x in pids.values()),
           "KEEP=1: not every node is running: %r" % pids)
    p = script(st, "status")
    expect(p.returncode == 0, "status: %r" % p.stderr)
    rows = [ln.split() for ln in p.text.splitlines()[1:] if ln.strip()]
    expect(len(rows) == NODES and all(r[4].isdigit() and int(r[4]) > 0 for r in rows),
           "status rows: %s" % p.text)
    heights = [int(r[4]) for r in rows]
    p = script(st, "down")
    expect(p.returncode == 0 and "testnet stopped" in p.text, "down: %r" % p.stderr)
    wait_for(lambda: not any(alive(x) for x in pids.values()), timeout=15, interval=0.1,
             what="every node to exit")
    expect(not node_pids(st), "pid files left after down")
    print("  15 nodes kept running (heights %d..%d), then stopped by down" %
          (min(heights), max(heights)))
    return True


def check_failure(st):
    st["base"] = pick_base(st["rng"], NODES)
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", st["base"] + 3))
    blocker.listen(1)
    try:
        p = script(st, "demo", timeout=120)
    finally:
        blocker.close()
    expect(p.returncode != 0 and "port %d" % (st["base"] + 3) in p.stderr
           and "already in use" in p.stderr, "demo with a taken port: rc %d, %r" %
           (p.returncode, p.stderr))
    pids = node_pids(st)
    expect(not any(alive(x) for x in pids.values()), "nodes left running: %r" % pids)
    print("  refused: %s" % p.stderr.strip().splitlines()[0])
    return True


def main():
    args = parse_args()
    with Runner("test_testnet_demo", args) as r:
        seed = int.from_bytes(os.urandom(4), "big")
        print("seed %d" % seed)
        st = {"bindir": r.bindir, "dir": os.path.join(r.tmp, "testnet"),
              "rng": random.Random(seed)}
        for exe in ("genie-enclave", "genie-cohort"):
            expect(os.access(os.path.join(r.bindir, exe), os.X_OK), "%s not built" % exe)
        try:
            steps = (("the demo tells the whole story and exits 0", check_demo),
                     ("the kept network's ledger and query enclave agree with the story",
                      check_ledger),
                     ("canary: the owners' data is in no datadir, log or output", check_canary),
                     ("KEEP=1 leaves the testnet running; down stops it", check_keep_down),
                     ("a demo that cannot start says why and leaves nothing running",
                      check_failure))
            for what, fn in steps:
                if r.check(what, fn, st) is None:
                    break
        finally:
            cleanup(st)
    sys.exit(r.exit_code())


if __name__ == "__main__":
    main()

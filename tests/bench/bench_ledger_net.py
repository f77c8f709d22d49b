#!/usr/bin/env python3
"""bench_ledger_net: ledger throughput and latency with real genie-node processes (issue 4).

For each scenario (1 authority, then 4 authority processes on this machine; separate
networks), it writes a genesis (`genie genesis new`), sets block_interval_ms (and
heartbeat_ms) and funds --senders accounts that genie-txgen derives from a random seed
(genesis.json is edited before any node starts), starts the authorities, and runs
genie-txgen against node 0: --count pre-signed transfers submitted with tx_submit_batch
(--batch txs a request) over --conns connections, as fast as the node takes them or at
--rate tx/s. It prints:

  - committed tx/s: bench txs committed / (last bench block seen at node 0 - first submit);
  - p50/p99 submit-to-final latency: for every accepted tx, the moment its block's height
    first appeared at node 0 (head polled every 20 ms) minus the moment txgen posted it
    (at full speed this is mostly time queued in the mempool: use --rate for latency);
  - resident memory of every node (VmRSS and its anonymous / file-backed parts now, peaks
    sampled every 0.5 s, VmHWM) and the database size (du DATADIR/ledger) before and after;
  - each node's ledger_stats counters;
  - the Ed25519 verify rate of this machine (bench_envelope: one process, and one per CPU
    at once), libsodium's one at a time and proto_sigbatch's batched rate (what the nodes
    use), against the verifications the committed rate needs (each authority checks every
    tx's signature once).

    python3 bench_ledger_net.py --bindir BUILD_DIR [--count 1000000] [--authorities 1,4]
           [--interval-ms 60,200] [--rate 0] [--senders 1024] [--batch 256] [--conns 4]
           [--keep]

No pass/fail: it prints figures. Numbers from a loaded machine are lower bounds.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from genie_testlib import Node, place_key, run_cli, start_fresh  # noqa: E402

START_TIMEOUT = 60.0
POLL_S = 0.02


class Runner:
    """The little of genie_testlib.Runner that Node needs: bindir, tmp, track."""

    def __init__(self, bindir, tmp):
        self.bindir = bindir
        self.tmp = tmp
        self.nodes = []

    def track(self, node):
        if node not in self.nodes:
            self.nodes.append(node)

    def kill_all(self):
        for n in self.nodes:
            n.kill()


def du(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def proc_mem(pid):
    """(VmRSS, VmHWM, RssAnon, RssFile) in bytes."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return (out.get("VmRSS", 0), out.get("VmHWM", 0), out.get("RssAnon", 0),
            out.get("RssFile", 0))


def proc_cpu_s(pid):
    """User + system CPU seconds the process has used so far."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))
    except (OSError, IndexError, ValueError):
        return 0.0


def proc_majflt(pid):
    """Major page faults (reads from disk) of the process so far."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rpartition(")")[2].split()[9])
    except (OSError, IndexError, ValueError):
        return 0


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))
    return s[k]


def mib(b):
    return b / (1024.0 * 1024.0)


class HeadWatch(threading.Thread):
    """Polls node 0's head every 20 ms; remembers when each height first appeared."""

    def __init__(self, node):
        super().__init__(daemon=True)
        self.node = node
        self.seen = {}
        self.last = None
        self.stop_flag = False
        self.errors = 0

    def run(self):
        while not self.stop_flag:
            try:
                h = self.node.call("head", timeout=5.0)["height"]
            except Exception:  # noqa: BLE001 -- a slow answer under load is not fatal
                self.errors += 1
                time.sleep(POLL_S)
                continue
            now = time.time() * 1000.0
            if self.last is None:
                self.last = h
                self.seen[h] = now
            elif h > self.last:
                for x in range(self.last + 1, h + 1):
                    self.seen[x] = now
                self.last = h
            time.sleep(POLL_S)


def scenario(args, n_auth, interval_ms, verify_rate):
    tmp = tempfile.mkdtemp(prefix="bench-ledger-%d-" % n_auth)
    r = Runner(args.bindir, tmp)
    gdir = os.path.join(tmp, "genesis")
    c = run_cli(args.bindir, ["genesis", "new", "--authorities", str(n_auth), "--out", gdir],
                json_out=True)
    if c.returncode != 0 or not c.json:
        raise RuntimeError("genesis new failed: %r" % c)
    gpath = os.path.join(gdir, "genesis.json")
    with open(gpath) as f:
        g = json.load(f)
    g["block_interval_ms"] = interval_ms
    g["heartbeat_ms"] = max(interval_ms, 2000)
    seed = os.urandom(32).hex()
    txgen = os.path.join(args.bindir, "genie-txgen")
    ids = subprocess.run([txgen, "--print-senders", str(args.senders), "--seed", seed],
                         capture_output=True, text=True, check=True, timeout=60).stdout.split()
    for a in ids:  # fund the load generator's senders
        g["balances"][a] = 10 ** 12
    with open(gpath, "w") as f:
        json.dump(g, f)
    keys = [os.path.join(gdir, "authority-%d.key" % i) for i in range(1, n_auth + 1)]
    try:
        prev = None
        for i in range(1, n_auth + 1):
            n = Node(r, "auth%d" % i, roles="authority", genesis=gpath,
                     peers=[prev.address()] if prev else [], log_level="info")
            place_key(keys[i - 1], n.datadir)
            start_fresh(n, timeout=START_TIMEOUT)
            prev = n
        nodes = r.nodes
        node0 = nodes[0]
        deadline = time.monotonic() + START_TIMEOUT
        while min(x.call("head")["height"] for x in nodes) < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("no block within %.0f s" % START_TIMEOUT)
            time.sleep(0.1)
        db_before = [du(os.path.join(x.datadir, "ledger")) for x in nodes]
        watch = HeadWatch(node0)
        watch.start()
        time.sleep(0.2)
        h_start = watch.last

        peak = [0] * len(nodes)
        peak_anon = [0] * len(nodes)
        stop_mem = [False]

        def sample_mem():
            while not stop_mem[0]:
                for i, x in enumerate(nodes):
                    m = proc_mem(x.pid)
                    peak[i] = max(peak[i], m[0])
                    peak_anon[i] = max(peak_anon[i], m[2])
                time.sleep(0.5)

        mt = threading.Thread(target=sample_mem, daemon=True)
        mt.start()

        out = os.path.join(tmp, "txgen.out")
        cmd = [txgen, "--datadir", node0.datadir, "--senders", str(args.senders), "--seed", seed,
               "--count", str(args.count), "--rate", str(args.rate), "--seconds",
               str(args.seconds), "--batch", str(args.batch), "--conns", str(args.conns),
               "--out", out]
        print("-- %d authorit%s: %s" % (n_auth, "y" if n_auth == 1 else "ies",
                                        " ".join(os.path.basename(a) if a.startswith(tmp) else a
                                                 for a in cmd[1:3]) + " ..."))
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.seconds + 120)
        for line in p.stdout.splitlines():
            if not args.verbose and re.match(r"txgen: t=", line):
                continue
            print("   " + line)
        if p.stderr.strip():
            print("   txgen stderr: " + p.stderr.strip().splitlines()[-1])
        submits = {}
        with open(out) as f:
            for line in f:
                txid, ms = line.split()
                submits[txid] = float(ms)
        first_submit = min(submits.values()) if submits else time.time() * 1000

        # wait until every accepted tx is seen in a block at node 0 (or --drain-s passes);
        # the block queries below would load node 0 while it still commits the last txs
        # (slowing the very heights they measure), so first wait for its mempool to empty
        deadline = time.monotonic() + args.drain_s
        while time.monotonic() < deadline:
            try:
                if node0.call("ledger_stats", timeout=10.0)["mempool"].get("count", 0) == 0:
                    break
            except Exception:  # noqa: BLE001 -- a slow answer under load is not fatal
                pass
            time.sleep(0.2)
        time.sleep(2 * POLL_S)  # let the head watch see the last commit
        found = {}
        blk_info = {}  # height -> (block time = its proposal, proposer)
        scanned = h_start
        while time.monotonic() < deadline and len(found) < len(submits):
            top = watch.last
            while scanned < top:
                scanned += 1
                b = node0.call("block", {"height": scanned}, timeout=10.0)
                blk_info[scanned] = (b.get("time_ms", 0), b.get("proposer", ""))
                for t in b.get("txids", []):
                    if t in submits:
                        found[t] = scanned
            time.sleep(0.1)
        watch.stop_flag = True
        watch.join(timeout=5)
        stop_mem[0] = True
        mt.join(timeout=5)

        lat = [watch.seen[h] - submits[t] for t, h in found.items() if h in watch.seen]
        last_h = max(found.values()) if found else None
        t_end = watch.seen.get(last_h, time.time() * 1000) if last_h else time.time() * 1000
        elapsed = (t_end - first_submit) / 1000.0
        tps = len(found) / elapsed if elapsed > 0 else 0
        blocks = (last_h - h_start) if last_h else 0
        mems = [proc_mem(x.pid) for x in nodes]
        db_after = [du(os.path.join(x.datadir, "ledger")) for x in nodes]
        node_stats = [x.call("ledger_stats") for x in nodes]
        print("   committed: %d of %d accepted txs in %.2f s (first submit to last block seen) "
              "= %.0f tx/s, %d blocks (%.0f tx/block)"
              % (len(found), len(submits), elapsed, tps, blocks,
                 len(found) / blocks if blocks else 0))
        print("   submit-to-final latency (node 0): p50 %.0f ms, p99 %.0f ms, max %.0f ms "
              "(%d txs; head polled every %d ms)"
              % (pct(lat, 50), pct(lat, 99), max(lat) if lat else float("nan"), len(lat),
                 POLL_S * 1000))
        # the slowest 1%: did they miss blocks (committed after their submit, without them)
        # or wait in a slow height?
        if lat:
            cut = pct(lat, 99)
            slow = [(t, h) for t, h in found.items()
                    if h in watch.seen and watch.seen[h] - submits[t] >= cut]
            seen_sorted = sorted(watch.seen.items())
            missed = [sum(1 for hh, ms in seen_sorted if hh < h and ms > submits[t])
                      for t, h in slow]
            if missed:
                print("   slowest 1%% (%d txs, >= %.0f ms): blocks committed after their submit "
                      "without them: p50 %d, max %d"
                      % (len(missed), cut, pct(missed, 50), max(missed)))
            # proposals made after a tx's submit (block time later) that did not include it,
            # and which node proposed the block that did: a tx that only the node it was
            # submitted to includes was late to reach the others
            order = sorted(blk_info.items())
            passed = [sum(1 for hh, (bt, _) in order if hh < h and bt > submits[t])
                      for t, h in slow]
            names = {st["consensus"].get("validator", ""): x.name
                     for x, st in zip(nodes, node_stats)}
            by = {}
            for _, h in slow:
                who = names.get(blk_info.get(h, (0, ""))[1], "?")
                by[who] = by.get(who, 0) + 1
            if passed:
                print("   slowest 1%%: proposals after their submit without them: p50 %d, max %d; "
                      "included by %s" % (pct(passed, 50), max(passed),
                                          ", ".join("%s %d" % kv for kv in sorted(by.items()))))
        for i, x in enumerate(nodes):
            print("   %s: VmRSS %.1f MiB (RssAnon %.1f, RssFile %.1f; peaks sampled: VmRSS %.1f, "
                  "RssAnon %.1f; VmHWM %.1f), ledger db %.1f -> %.1f MiB"
                  % (x.name, mib(mems[i][0]), mib(mems[i][2]), mib(mems[i][3]), mib(peak[i]),
                     mib(peak_anon[i]), mib(mems[i][1]), mib(db_before[i]), mib(db_after[i])))
        for x, st in zip(nodes, node_stats):
            print("   %s ledger_stats: disk_bytes %d, txs_in %d, txs_rejected %d, "
                  "txs_dropped_busy %d, mempool %d, "
                  "rounds %d, round_skips %d, blocks committed by consensus %d, synced %d"
                  % (x.name, st.get("disk_bytes", 0), st["node"].get("txs_in", 0),
                     st["node"].get("txs_rejected", 0), st["node"].get("txs_dropped_busy", 0),
                     st["mempool"].get("count", 0),
                     st["consensus"].get("rounds", 0), st["consensus"].get("round_skips", 0),
                     st["node"].get("blocks_committed", 0), st["node"].get("blocks_synced", 0)))
            nb = max(1, st["node"].get("blocks_committed", 0))
            print("   %s CPU %.1f s (%.0f us/tx), %d major page faults; loop ms per committed block: build %.1f, "
                  "execute proposal %.1f, signing record %.1f, store commit %.1f, "
                  "mempool update %.1f; height start to commit %.1f"
                  % (x.name, proc_cpu_s(x.pid), 1e6 * proc_cpu_s(x.pid) / max(1, len(found)),
                     proc_majflt(x.pid),
                     *[st["node"].get(k, 0) / 1000.0 / nb
                       for k in ("us_build", "us_validate", "us_persist", "us_commit",
                                 "us_pool_update", "us_height")]))
            lates = []
            for k, label in (("gossip_txs_late", "gossiped txs arrived"),
                             ("gossip_proposals_late", "proposals arrived"),
                             ("verifier_wait", "verifier answered")):
                d = st["node"].get(k)
                if d and d.get("count"):
                    lates.append("%s after %.1f ms mean, %d max, %d of %d over 100 ms"
                                 % (label, d["mean_ms"], d["max_ms"], d["over_100ms"],
                                    d["count"]))
            if lates:
                print("   %s: %s" % (x.name, "; ".join(lates)))
        if found and tps > 0 and len(found) < 1000000:  # measured outright otherwise
            per_tx = (db_after[0] - db_before[0]) / float(len(found))
            print("   EXTRAPOLATION to 1,000,000 transfers (not measured; linear from %d): "
                  "%.0f s at %.0f tx/s, ledger db ~%.0f MiB per node (%.0f B/transfer); "
                  "RSS beyond the %.1f MiB seen here not predicted"
                  % (len(found), 1e6 / tps, tps, mib(db_before[0] + per_tx * 1e6), per_tx,
                     mib(max(m[1] for m in mems))))
        if verify_rate and verify_rate.get("raw"):
            need = tps * n_auth
            print("   bound: %.0f tx/s x %d authorities = %.0f signature checks/s, %.0f%% of "
                  "this machine's %.0f libsodium verify/s on all CPUs at once%s"
                  % (tps, n_auth, need, 100.0 * need / verify_rate["raw"], verify_rate["raw"],
                     ", %.0f%% of its %.0f batched checks/s" % (
                         100.0 * need / verify_rate["batch"], verify_rate["batch"])
                     if verify_rate.get("batch") else ""))
        if len(found) < len(submits):
            print("   WARNING: %d accepted txs not seen committed within %.0f s"
                  % (len(submits) - len(found), args.drain_s))
        return {"authorities": n_auth, "tps": tps, "p50": pct(lat, 50), "p99": pct(lat, 99),
                "interval": interval_ms}
    finally:
        r.kill_all()
        if args.keep:
            print("   kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def verify_rate_of(bindir, procs=1):
    """Ed25519 verifications per second, {"raw": libsodium one at a time, "batch":
    proto_sigbatch in batches, "known": the same with the keys already decoded}: of one
    bench_envelope process, or the sum of PROCS of them run at once. None if bench_envelope
    is missing or failed."""
    b = os.path.join(bindir, "tests", "bench_envelope")
    if not os.access(b, os.X_OK):
        return None
    try:
        ps = [subprocess.Popen([b], stdout=subprocess.PIPE, text=True) for _ in range(procs)]
        outs = [p.communicate(timeout=300)[0] for p in ps]
    except (OSError, subprocess.TimeoutExpired):
        return None
    total = {"raw": 0.0, "batch": 0.0, "known": 0.0}
    for out in outs:
        for key, name in (("raw", "raw ed25519 verify"), ("batch", "sigbatch check batch"),
                          ("known", "sigbatch batch warm keys")):
            rates = [float(m.group(1)) for m in
                     re.finditer(re.escape(name) + r"\s+body=\S+\s+([\d.]+) /s", out)]
            if not rates:
                return None
            total[key] += max(rates)
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--count", type=int, default=1000000, help="transfers per scenario")
    ap.add_argument("--authorities", default="1,4")
    ap.add_argument("--interval-ms", default=None,
                    help="genesis block_interval_ms, one for all scenarios or one per "
                         "--authorities entry (default: 60 for 1 authority, else 200)")
    ap.add_argument("--rate", type=float, default=0, help="txgen target tx/s (0: max)")
    ap.add_argument("--senders", type=int, default=1024, help="funded sender accounts")
    ap.add_argument("--batch", type=int, default=256, help="txs per tx_submit_batch")
    ap.add_argument("--conns", type=int, default=4, help="txgen HTTP connections")
    ap.add_argument("--seconds", type=float, default=1200, help="txgen time bound")
    ap.add_argument("--drain-s", type=float, default=120, help="wait for commits after txgen")
    ap.add_argument("--verbose", action="store_true", help="txgen's per-second lines too")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    auths = [int(x) for x in args.authorities.split(",") if x]
    if args.interval_ms is None:
        ivals = [60 if n == 1 else 200 for n in auths]
    else:
        ivals = [int(x) for x in args.interval_ms.split(",") if x]
    if len(ivals) == 1:
        ivals = ivals * len(auths)
    if len(ivals) != len(auths):
        ap.error("--interval-ms wants one value or one per --authorities entry")
    vr = verify_rate_of(args.bindir)
    vr_all = verify_rate_of(args.bindir, os.cpu_count() or 1)
    print("== bench_ledger_net: %d transfers per scenario, block_interval_ms %s, %d CPUs, "
          "load %s" % (args.count, ",".join(map(str, ivals)), os.cpu_count(),
                       open("/proc/loadavg").read().split()[0]))
    print("   raw Ed25519 verify on this machine: %s"
          % ("%.0f /s in one process, %.0f /s in %d at once (bench_envelope)"
             % (vr["raw"], (vr_all or {}).get("raw", 0), os.cpu_count() or 1) if vr
             else "unknown (bench_envelope not built)"))
    if vr:
        print("   batched checks (proto_sigbatch, what the nodes use): %.0f /s in one process, "
              "%.0f /s in %d at once; with the senders' keys decoded before (the nodes keep "
              "them): %.0f /s, %.0f /s"
              % (vr["batch"], (vr_all or {}).get("batch", 0), os.cpu_count() or 1, vr["known"],
                 (vr_all or {}).get("known", 0)))
    results = []
    for n, iv in zip(auths, ivals):
        try:
            results.append(scenario(args, n, iv, vr_all))
        except Exception as e:  # noqa: BLE001 -- report and go on with the next scenario
            print("   scenario with %d authorities failed: %s" % (n, e))
    print("== summary")
    for x in results:
        print("   %d authorit%s (block interval %d ms): %.0f tx/s committed, latency p50 %.0f ms "
              "p99 %.0f ms (%.1f intervals)"
              % (x["authorities"], "y" if x["authorities"] == 1 else "ies", x["interval"],
                 x["tps"], x["p50"], x["p99"], x["p99"] / x["interval"]))


if __name__ == "__main__":
    main()

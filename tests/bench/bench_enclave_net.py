#!/usr/bin/env python3
"""bench_enclave_net: the enclave-runner role on a loopback testnet (real processes).

Starts a 1-authority testnet whose genesis names an attestation service, an enclave-runner
node (certified platform) and a data-owner node linked to it, then prints:
  - spawn-to-registered time for one enclave of each kind: `enclave_spawn` (measure, fork,
    exec, lock down, key generation, INIT, quote) and until the runner sees its automatic
    ENCLAVE_REGISTER committed (which waits for the next block);
  - validation and donation through the runner for 1, 2, 4 and 6 kB records, p50/p99 of
    the path `genie data validate|donate` reports (path_ms: seal to the enclave's box key,
    owner node -> p2p unicast -> runner -> enclave (open, check, sign) -> back, verify the
    signed report/receipt), and of the whole CLI process (start, enclave_list lookup,
    the path), next to the published figures for the same sizes (58-725 ms without SGX,
    278-1,366 ms with SGX);
  - each enclave's resident memory (VmRSS) idle after spawn (target under 8 MiB) and
    after the runs (the training enclave then holds every donation in memory);
  - beside the same load, the machine's floor for such a path: bench_wakeup_ring, 12
    processes passing the largest record around a ring of pipes (12 sequential wake-ups
    with no work between them, about the path's count), p50/p99 of as many round trips.
Targets: donation path for 6 kB under 5 ms p99.

    python3 bench_enclave_net.py --bindir BUILD_DIR [--runs N] [--sizes 1,2,4,6] [--burn K]
--sizes: the record sizes (kB) to run; --burn K: K CPU-bound loops (`sh -c 'while :; do :;
done'`) run beside the timed runs (started after the setup, killed before the memory
figures), to show the path on a machine doing other work: with K = the number of cores
every hop of the path waits for a CPU the loops hold.
No pass/fail: it prints figures. Numbers from a loaded machine are upper bounds: the load
average before and after the timed runs is printed with them (other processes' work, not
the --burn loops', is what a "quiet" run cannot control).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from genie_testlib import (LedgerNet, Node, place_key, run_cli, start_fresh,  # noqa: E402
                           wait_for, wait_heights, Runner)

SIZES_KB = (1, 2, 4, 6)
PUBLISHED = "published (same sizes): 58-725 ms without SGX, 278-1,366 ms with SGX"


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


def rss(pid):
    """(VmRSS, VmHWM) of PID in kB."""
    with open("/proc/%d/status" % pid) as f:
        st = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
    return int(st["VmRSS"].split()[0]), int(st["VmHWM"].split()[0])


def record_file(tmp, cohort_csv, kb):
    """A phenotype CSV of about KB kB: the header and whole rows of genie-cohort's table."""
    with open(cohort_csv) as f:
        lines = f.read().splitlines()
    out, size = [lines[0]], len(lines[0]) + 1
    i = 1
    while size < kb * 1000:
        row = lines[1 + (i - 1) % (len(lines) - 1)]
        # distinct sample ids so repeated rows stay plausible
        parts = row.split(",")
        parts[0] = "s%06d" % i
        row = ",".join(parts)
        out.append(row)
        size += len(row) + 1
        i += 1
    path = os.path.join(tmp, "record_%dkB.csv" % kb)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path, os.path.getsize(path)


def setup(r):
    net = LedgerNet(r)
    c = run_cli(r.bindir, ["genesis", "new", "--authorities", "1", "--out", net.dir],
                json_out=True)
    assert c.returncode == 0, c
    as_key = c.json["attestation_key"]
    with open(net.genesis) as f:
        runner_id = json.load(f)["authorities"][0]
    net.start_authorities(1, timeout=60)
    wait_heights(net.nodes, 1, 60)
    auth = net.nodes[0]
    runner = Node(r, "runner", roles="enclave-runner", genesis=net.genesis,
                  peers=[auth.address()], log_level="info")
    place_key(os.path.join(net.dir, "authority-1.key"), runner.datadir)
    start_fresh(runner, timeout=60)
    pk = runner.call("enclave_platform")["platform_pk"]
    cert = os.path.join(r.tmp, "runner.cert")
    c = run_cli(r.bindir, ["attest", "certify", "--as-key", as_key, "--platform", pk,
                           "--runner", "bench-runner", "--account", runner_id, "--days", "1",
                           "--out", cert], json_out=True)
    assert c.returncode == 0, c
    assert runner.cli("enclave", "cert-install", cert).returncode == 0
    return net, auth, runner


def spawn_all(runner):
    out = {}
    for kind in ("validation", "training", "query"):
        t0 = time.monotonic()
        res = runner.call("enclave_spawn", {"kind": kind})
        t_spawn = time.monotonic() - t0
        got = {}

        def reg():
            for e in runner.call("enclave_local"):
                if e["local"] == res["local"] and e["registration"] == "registered":
                    got["e"] = e
                    return True
            return False
        wait_for(reg, timeout=60, interval=0.005, what="registration")
        t_reg = time.monotonic() - t0
        out[kind] = got["e"]
        print("  %-10s spawn+attest (RPC) %7.1f ms   spawn to registered %7.1f ms (height %d)"
              % (kind, t_spawn * 1e3, t_reg * 1e3, got["e"]["registered_height"]))
    return out


class Burn:
    """K CPU-bound shell loops beside the timed runs (killed on exit, by pid)."""

    def __init__(self, k):
        self.procs = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(k)]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()
        return False


def wakeup_ring(bindir, size, runs):
    """bench_wakeup_ring's {p50_ms, p99_ms, max_ms} for 12 hops of SIZE bytes, or None
    when the program is not built (GENIE_BENCH=OFF)."""
    for exe in (os.path.join(bindir, "tests", "bench_wakeup_ring"),
                os.path.join(bindir, "bench_wakeup_ring")):
        if os.path.exists(exe):
            p = subprocess.run([exe, "--hops", "12", "--bytes", str(size), "--runs", str(runs),
                                "--json"], capture_output=True, text=True, timeout=600)
            if p.returncode != 0:
                raise SystemExit("bench_wakeup_ring: %s" % p.stderr.strip())
            return json.loads(p.stdout)
    return None


def run_path(owner, cmd, path, enclave, runs):
    paths, wall = [], []
    for _ in range(runs):
        t0 = time.monotonic()
        c = owner.cli("data", cmd, path, "--enclave", enclave)
        wall.append((time.monotonic() - t0) * 1e3)
        if c.returncode != 0 or not c.json or not c.json.get("signature_valid"):
            raise SystemExit("data %s failed: %r" % (cmd, c))
        paths.append(c.json["path_ms"])
    return paths, wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--sizes", default=",".join(str(k) for k in SIZES_KB),
                    help="record sizes in kB, comma-separated (default 1,2,4,6)")
    ap.add_argument("--burn", type=int, default=0,
                    help="CPU-bound loops beside the timed runs (default 0)")
    args = ap.parse_args()
    sizes = tuple(int(k) for k in args.sizes.split(","))
    if not sizes or any(k < 1 or k > 190 for k in sizes) or args.burn < 0:
        raise SystemExit("--sizes wants kB values 1..190, --burn a count >= 0")
    with Runner("bench_enclave_net", args) as r:
        net, auth, runner = setup(r)
        print("spawn to registered (block interval of the testnet applies to the commit):")
        encl = spawn_all(runner)
        time.sleep(1.0)  # let the enclaves settle idle
        idle = {k: rss(e["pid"])[0] for k, e in encl.items()}
        owner = Node(r, "owner", roles="data-owner", genesis=net.genesis,
                     peers=[auth.address(), runner.address()], log_level="info")
        start_fresh(owner, timeout=60)
        wait_heights([owner], encl["query"]["registered_height"], 60)
        cohort = os.path.join(r.tmp, "cohort")
        subprocess.run([os.path.join(r.bindir, "genie-cohort"), "--out", cohort, "--samples",
                        "200", "--snps", "50", "--csv", "--seed", "3"], check=True,
                       capture_output=True, timeout=60)
        files = [record_file(r.tmp, os.path.join(cohort, "phenotypes.csv"), kb)
                 for kb in sizes]
        # warm up (links, first calls)
        wait_for(lambda: owner.cli("data", "validate", files[0][0], "--enclave",
                                   encl["validation"]["id"]).returncode == 0,
                 timeout=30, interval=0.2, what="first validation")
        print()
        print("through the runner, %d runs each (owner -> p2p -> runner -> enclave -> back),"
              " %d CPU-bound loop(s) beside (%d cores):" % (args.runs, args.burn,
                                                            os.cpu_count() or 0))
        print("  %-9s %6s  %-22s  %-22s  %s" % ("", "bytes", "path p50 / p99 (ms)",
                                                 "CLI process p50 / p99", ""))
        load0 = os.getloadavg()
        with Burn(args.burn):
            for (path, size), kb in zip(files, sizes):
                for cmd, kind in (("validate", "validation"), ("donate", "training")):
                    p, w = run_path(owner, cmd, path, encl[kind]["id"], args.runs)
                    print("  %-9s %6d  %8.2f / %8.2f     %8.2f / %8.2f" %
                          (cmd, size, pct(p, 50), pct(p, 99), pct(w, 50), pct(w, 99)))
            # the largest donation asked of the runner node itself: no p2p hop
            p, w = run_path(runner, "donate", files[-1][0], encl["training"]["id"], args.runs)
            print("  %-9s %6d  %8.2f / %8.2f     %8.2f / %8.2f   (asked of the runner itself:"
                  " no p2p hop)" % ("donate", files[-1][1], pct(p, 50), pct(p, 99), pct(w, 50),
                                    pct(w, 99)))
            ring_size = min(files[-1][1], 65536)  # bench_wakeup_ring's --bytes limit
            ring = wakeup_ring(r.bindir, ring_size, args.runs)
            if ring:
                print("  %-9s %6d  %8.2f / %8.2f     (the machine's floor: 12 processes in a"
                      " ring of pipes, max %.2f ms)" % ("ring", ring_size, ring["p50_ms"],
                                                        ring["p99_ms"], ring["max_ms"]))
        load1 = os.getloadavg()
        print("  load average (1/5/15 min) before %.2f/%.2f/%.2f, after %.2f/%.2f/%.2f"
              % (load0 + load1))
        print("  " + PUBLISHED)
        print()
        print("enclave resident memory: idle after spawn (target < 8 MiB) / after the runs:")
        for e in runner.call("enclave_local"):
            after = rss(e["pid"])
            print("  %-10s pid %6d  idle VmRSS %6d kB   after the runs %6d kB (VmHWM %d kB)" %
                  (e["kind"], e["pid"], idle[e["kind"]], after[0], after[1]))
        print("  runner node VmRSS %d kB" % rss(runner.pid)[0])
        r.passed += 1
    sys.exit(0)


if __name__ == "__main__":
    main()

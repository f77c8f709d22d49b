#!/usr/bin/env python3
"""bench_data_add: `genie data add` on a loopback testnet (real processes), the data owner's
registration path without the wait for the block.

Starts a 1-authority testnet with an attestation service, an enclave-runner node, and a
node that is both an enclave runner and a data owner (so files up to 1,000 KiB validate in
its own enclave), plus a plain data-owner node that reaches the first runner by p2p unicast
(files up to about 250 KiB: one unicast). For synthetic 23andMe files of 1 kB to 1,000 KiB
it adds each file RUNS times and prints p50/p99 of the node's own total (data_add's time_ms:
enclave lookup and file read, commitment and sealing, the enclave's validation and signed
report, report check, encryption and fsync'd writes of blob and record, the tx signed and
admitted), its parts' p50, and the CLI process's wall time.
Target (issue 15): under 50 ms p50 for a 1 MB genotype file.

    python3 bench_data_add.py --bindir BUILD_DIR [--runs N]
No pass/fail: it prints figures. Numbers from a loaded machine are upper bounds.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from genie_testlib import (LedgerNet, Node, place_key, run_cli, start_fresh,  # noqa: E402
                           wait_for, wait_heights, Runner)

LOCAL_KB = (1, 10, 100, 1000)
REMOTE_KB = (1, 10, 100, 200)
PARTS = ("read", "seal", "enclave", "store", "submit")


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


def runner_node(net, as_key, runner_id, name, roles, peers):
    r = net.r
    node = Node(r, name, roles=roles, genesis=net.genesis, peers=peers, log_level="info")
    place_key(os.path.join(net.dir, "authority-1.key"), node.datadir)
    start_fresh(node, timeout=60)
    pk = node.cli("enclave", "platform").json["platform_pk"]
    cert = os.path.join(r.tmp, name + ".cert")
    c = run_cli(r.bindir, ["attest", "certify", "--as-key", as_key, "--platform", pk, "--runner",
                           name, "--account", runner_id, "--days", "30", "--out", cert],
                json_out=True)
    assert c.returncode == 0, c
    assert node.cli("enclave", "cert-install", cert).returncode == 0
    local = node.cli("enclave", "spawn", "validation").json["local"]
    got = {}

    def registered():
        for e in node.cli("enclave", "local").json or []:
            if e["local"] == local and e["registration"] == "registered":
                got["e"] = e
                return True
        return False
    wait_for(registered, timeout=90, interval=0.2, what="enclave registered")
    return node, got["e"]


def files_of(r, sizes_kb):
    """Synthetic 23andMe files of about each size: the header and whole SNP lines."""
    out = os.path.join(r.tmp, "cohort")
    p = subprocess.run([os.path.join(r.bindir, "genie-cohort"), "--out", out, "--samples", "1",
                        "--snps", "46000", "--23andme", "--seed", "21"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    d23 = os.path.join(out, "23andme")
    with open(os.path.join(d23, os.listdir(d23)[0])) as f:
        lines = f.read().splitlines(keepends=True)
    head = [l for l in lines if l.startswith("#")]
    body = [l for l in lines if not l.startswith("#")]
    files = {}
    for kb in sizes_kb:
        want = min(kb * 1000, 1000 * 1024)
        text = "".join(head)
        for l in body:
            if len(text) + len(l) > want:
                break
            text += l
        path = os.path.join(r.tmp, "g%dk.txt" % kb)
        with open(path, "w") as f:
            f.write(text)
        files[kb] = path
    return files


def measure(node, path, runs):
    totals, walls, parts = [], [], {k: [] for k in PARTS}
    for _ in range(runs):
        t0 = time.monotonic()
        c = node.cli("data", "add", path, "--type", "genotype", timeout=120)
        walls.append((time.monotonic() - t0) * 1e3)
        if c.returncode != 0:
            return None, " ".join(c.error_lines())
        tm = c.json["time_ms"]
        totals.append(tm["total"])
        for k in PARTS:
            parts[k].append(tm[k])
    return (totals, walls, parts), None


def report(label, kb, path, res, err):
    size = os.path.getsize(path)
    if res is None:
        print("  %-7s %5d kB (%7d B): refused: %s" % (label, kb, size, err))
        return
    totals, walls, parts = res
    print("  %-7s %5d kB (%7d B): node p50 %7.2f ms  p99 %7.2f ms | %s | CLI p50 %7.1f ms" %
          (label, kb, size, pct(totals, 50), pct(totals, 99),
           " ".join("%s %.2f" % (k, pct(parts[k], 50)) for k in PARTS), pct(walls, 50)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    with Runner("bench_data_add", args) as r:
        net = LedgerNet(r)
        c = run_cli(r.bindir, ["genesis", "new", "--authorities", "1", "--out", net.dir],
                    json_out=True)
        as_key = c.json["attestation_key"]
        net.start_authorities(1, timeout=60)
        wait_heights(net.nodes, 1, 60)
        with open(net.genesis) as f:
            runner_id = json.load(f)["authorities"][0]
        auth = net.nodes[0]
        runner, _ = runner_node(net, as_key, runner_id, "runner", "enclave-runner",
                                [auth.address()])
        both, e = runner_node(net, as_key, runner_id, "both", "enclave-runner,data-owner",
                              [auth.address()])
        owner = Node(r, "owner", roles="data-owner", genesis=net.genesis,
                     peers=[auth.address(), runner.address()], log_level="info")
        run_cli(r.bindir, ["--datadir", owner.datadir, "key", "new", "--no-passphrase"])
        start_fresh(owner, timeout=60)
        wait_heights([both, owner], e["registered_height"], 60)
        files = files_of(r, sorted(set(LOCAL_KB + REMOTE_KB)))
        print("data add, %d runs per size (other helpers were building beside it):" % args.runs)
        for kb in LOCAL_KB:
            res, err = measure(both, files[kb], args.runs)
            report("local", kb, files[kb], res, err)
        for kb in REMOTE_KB:
            res, err = measure(owner, files[kb], args.runs)
            report("relayed", kb, files[kb], res, err)
        r.passed += 1
    sys.exit(0)


if __name__ == "__main__":
    main()

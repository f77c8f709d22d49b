#!/usr/bin/env python3
"""test_ledger_batch: batched submission and tx_batch gossip with real genie-node processes.

Set-up: `genie genesis new --authorities 3`, genesis.json edited (before any node starts)
to fund 8 accounts derived by genie-txgen from a seed and to shorten the block interval;
three authority nodes in a chain.

Checks:
  1. tx_submit_batch refuses bad params (-32602: no array, empty, over 1,024 txs) and
     answers one result per tx, in order, each on its own: non-hex, a tx for another
     chain, a bad signature and a duplicate are refused with a reason while the good tx
     beside them is admitted.
  2. genie-txgen submits 2,000 pre-signed transfers from the 8 accounts as tx_submit_batch
     requests of 100 over two connections to node 1 only: all accepted (exit 0). They
     reach nodes 2 and 3 as tx_batch gossip (checked on the loop-side counters: each node
     admitted txs it never got over RPC), are committed, and every node ends with the
     same head, each sender's nonce at 250 and an empty mempool; no tx was dropped by a
     busy verifier.
  3. A hostile peer (genie-evil --mode txflood) gossips 300 tx_batch messages of 100
     transfers each with broken signatures to node 2: every one of the 30,000 is refused
     there (checked on node 2's verifier thread, or dropped unchecked when its bounded
     queue is full: refused + 100 x dropped batches = 30,000), no node's mempool keeps any,
     blocks keep being committed on all three while and after it happens, and 200 good
     transfers submitted afterwards commit everywhere.
A malformed tx_batch from a peer is covered by the unit and fuzz tests of
ledger_tx_batch_each (tests/unit/ledger/test_ledger_tx.c, tests/fuzz).

    python3 test_ledger_batch.py --bindir BUILD_DIR [--keep]
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (LedgerNet, Runner, expect, ledger_head,  # noqa: E402
                           parse_args, run_cli, wait_for, wait_heights)

START_TIMEOUT = 60.0
COMMIT_TIMEOUT = 180.0  # ASan builds, two cores shared with other tests
SENDERS = 8
COUNT = 2000
SEED = "5e" * 32


class Net(LedgerNet):
    def __init__(self, r):
        super().__init__(r)
        self.senders = []


def txgen(r, *args, timeout=COMMIT_TIMEOUT):
    return subprocess.run([os.path.join(r.bindir, "genie-txgen")] + list(args),
                          capture_output=True, text=True, timeout=timeout)


def check_start(net):
    r = net.r
    c = run_cli(r.bindir, ["genesis", "new", "--authorities", "3", "--out", net.dir],
                json_out=True)
    expect(c.returncode == 0 and c.json, "genesis new failed: %r" % c)
    p = txgen(r, "--print-senders", str(SENDERS), "--seed", SEED, timeout=30)
    net.senders = p.stdout.split()
    expect(p.returncode == 0 and len(net.senders) == SENDERS, "print-senders: %r" % p)
    with open(net.genesis) as f:
        g = json.load(f)
    for a in net.senders:
        g["balances"][a] = 1000000
    g["block_interval_ms"] = 200
    g["heartbeat_ms"] = 2000
    with open(net.genesis, "w") as f:
        json.dump(g, f)
    net.start_authorities(3, timeout=START_TIMEOUT)
    wait_heights(net.nodes, 1, COMMIT_TIMEOUT)
    return True


def rpc_error(node, method, params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    status, resp = node.rpc_raw(body)
    expect(status == 200 and "error" in resp, "%s %r answered %r" % (method, params, resp))
    return resp["error"]


def check_batch_answers(net):
    n1 = net.nodes[0]
    for params in ({}, {"txs": "00"}, {"txs": []}, {"txs": ["00"] * 1025}):
        e = rpc_error(n1, "tx_submit_batch", params)
        expect(e["code"] == -32602 and "'txs'" in e["message"], "%r: %r" % (params, e))
    # two signed transfers of sender 0 (nonces 0 and 1), not submitted
    p = txgen(net.r, "--datadir", n1.datadir, "--senders", "1", "--seed", SEED, "--count", "2",
              "--dry-run")
    lines = [l.split() for l in p.stdout.splitlines() if len(l.split()) == 2]
    expect(p.returncode == 0 and len(lines) == 2, "txgen --dry-run: %r" % p)
    (id0, tx0), (id1, tx1) = lines
    bad_sig = tx1[:-2] + ("00" if tx1[-2:] != "00" else "01")
    res = n1.call("tx_submit_batch", {"txs": [tx0, tx0, bad_sig, "zz", "00" * 10]})
    r = res["results"]
    expect(res["accepted"] == 1 and res["rejected"] == 4 and len(r) == 5, "batch: %r" % res)
    expect(r[0].get("txid") == id0, "good tx: %r" % r[0])
    expect("duplicate" in r[1].get("error", ""), "duplicate: %r" % r[1])
    expect("bad-sig" in r[2].get("error", "") or "signature" in r[2].get("error", ""),
           "bad signature: %r" % r[2])
    expect("malformed" in r[3].get("error", "") and "error" in r[4], "junk: %r" % r[3:])
    res = n1.call("tx_submit_batch", {"txs": [tx1]})
    expect(res["accepted"] == 1 and res["results"][0].get("txid") == id1, "tx1: %r" % res)
    return True


def check_load(net):
    n1 = net.nodes[0]
    out = os.path.join(net.r.tmp, "txgen.out")
    p = txgen(net.r, "--datadir", n1.datadir, "--senders", str(SENDERS), "--seed", SEED,
              "--count", str(COUNT), "--batch", "100", "--conns", "2", "--out", out, "--quiet",
              "--seconds", "150")
    print("     " + " ".join(l for l in p.stdout.splitlines() if "done" in l), flush=True)
    expect(p.returncode == 0, "txgen: exit %d: %s %s" % (p.returncode, p.stdout, p.stderr))
    with open(out) as f:
        accepted = [line.split()[0] for line in f if line.strip()]
    expect(len(accepted) == COUNT, "accepted %d of %d" % (len(accepted), COUNT))

    def settled():
        heads = [ledger_head(n) for n in net.nodes]
        if None in heads or len({h["hash"] for h in heads}) != 1:
            return False
        for n in net.nodes:
            if n.call("ledger_stats")["mempool"]["count"] != 0:
                return False
            for a in net.senders:
                acct = n.call("account", {"id": a})
                want = COUNT // SENDERS + (2 if a == net.senders[0] else 0)
                if acct["nonce"] != want:
                    return False
        return True
    wait_for(settled, COMMIT_TIMEOUT, interval=0.5,
             what="every sender's txs committed on all three nodes")
    for i, n in enumerate(net.nodes):
        st = n.call("ledger_stats")["node"]
        print("     %s: txs_in %d, txs_rejected %d, txs_dropped_busy %d"
              % (n.name, st["txs_in"], st["txs_rejected"], st["txs_dropped_busy"]), flush=True)
        expect(st["txs_dropped_busy"] == 0, "%s dropped gossiped txs: %r" % (n.name, st))
        if i > 0:  # they got no RPC submissions: what they admitted came as gossip
            expect(st["txs_in"] > 0, "%s admitted no gossiped tx: %r" % (n.name, st))
    for i, txid in enumerate(accepted[:: COUNT // 20]):
        for n in net.nodes:
            s = n.call("tx_status", {"txid": txid})
            expect(s["status"] == "committed", "%s: %s is %r" % (n.name, txid, s))
    return True


FLOOD_MSGS = 300
FLOOD_TXS = 100  # genie-evil's EVIL_TXFLOOD_TXS


def check_txflood(net):
    n2 = net.nodes[1]
    h0 = max(ledger_head(n)["height"] for n in net.nodes)
    before = n2.call("ledger_stats")["node"]
    p = subprocess.run([os.path.join(net.r.bindir, "genie-evil"), "--target", n2.address(),
                        "--datadir", n2.datadir, "--mode", "txflood", "--count",
                        str(FLOOD_MSGS), "--seconds", "60", "--flush-seconds", "60"],
                       capture_output=True, text=True, timeout=150)
    print("     " + p.stdout.strip(), flush=True)
    expect(p.returncode == 0 and "flushed=yes" in p.stdout, "genie-evil: %r" % p)

    def all_refused():
        st = n2.call("ledger_stats")["node"]
        done = (st["txs_rejected"] - before["txs_rejected"] +
                FLOOD_TXS * (st["txs_dropped_busy"] - before["txs_dropped_busy"]))
        return done == FLOOD_MSGS * FLOOD_TXS and st
    st = wait_for(all_refused, COMMIT_TIMEOUT, interval=0.5,
                  what="node 2 to refuse (or drop) all %d flooded txs" % (FLOOD_MSGS * FLOOD_TXS))
    print("     node 2: txs_rejected +%d, txs_dropped_busy +%d batches, txs_in +%d"
          % (st["txs_rejected"] - before["txs_rejected"],
             st["txs_dropped_busy"] - before["txs_dropped_busy"],
             st["txs_in"] - before["txs_in"]), flush=True)
    expect(st["txs_in"] == before["txs_in"], "node 2 admitted a flooded tx: %r" % st)
    for n in net.nodes:
        expect(n.alive(), "%s died" % n.name)
        expect(n.call("ledger_stats")["mempool"]["count"] == 0, "%s holds txs" % n.name)
    wait_heights(net.nodes, h0 + 2, COMMIT_TIMEOUT, what="blocks after the flood")
    out = os.path.join(net.r.tmp, "after.out")
    p = txgen(net.r, "--datadir", n2.datadir, "--senders", str(SENDERS), "--seed", SEED,
              "--count", "200", "--batch", "50", "--out", out, "--quiet")
    expect(p.returncode == 0, "txgen after the flood: %s %s" % (p.stdout, p.stderr))
    with open(out) as f:
        ids = [line.split()[0] for line in f if line.strip()]
    expect(len(ids) == 200, "accepted %d of 200 after the flood" % len(ids))
    wait_for(lambda: all(n.call("tx_status", {"txid": ids[-1]})["status"] == "committed"
                         for n in net.nodes), COMMIT_TIMEOUT, interval=0.5,
             what="the last tx after the flood to commit everywhere")
    return True


def main():
    args = parse_args()
    with Runner("test_ledger_batch", args) as r:
        net = Net(r)
        if r.check("3 authorities with 8 funded txgen senders start", check_start, net):
            r.check("tx_submit_batch params and per-tx answers", check_batch_answers, net)
            r.check("2,000 batched transfers commit on all three nodes", check_load, net)
            r.check("a flood of badly signed tx_batches is refused, blocks go on", check_txflood,
                    net)
    sys.exit(r.exit_code())


if __name__ == "__main__":
    main()

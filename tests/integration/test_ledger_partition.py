#!/usr/bin/env python3
"""test_ledger_partition: a follower cut off from the authorities for 60 s loses none of
the transfers it accepted meanwhile once the network heals.

Every node runs in a network namespace of its own made by the test (names carry the
test's pid and a random suffix), joined by a veth pair to a bridge in another namespace,
on a private /24 that exists only inside those namespaces. Each genie-node runs under
`ip netns exec` and listens on its namespace's address; its RPC (127.0.0.1 there) is
reached from inside the namespace too (the genie CLI under `ip netns exec`, raw calls
after setns). Namespaces, veth pairs and processes are removed on every exit path
(finally, atexit, SIGTERM/SIGINT/SIGHUP; a pid-named sweep for runs killed outright).

Scenarios (named checks, in order):
  1. Four authorities and one follower (heartbeat 2 s) commit blocks across the bridge.
  2. Steady state: two sender accounts whose keys only the follower holds are funded by
     authority 1; a transfer submitted to the follower commits on every node.
  3. The follower's veth is taken out of the bridge for 60 s (its packets vanish, its
     link stays up). Meanwhile transfers from both senders are submitted to the follower
     (about two a second) and must be accepted; a refusal with "syncing" is retried and
     counted, any other refusal fails. The authorities keep committing (and commit
     transfers of their own); the follower's head does not move, and none of its
     transfers is known to the authorities at the end of the cut (the cut is real).
  4. Heal: within a bounded wait every accepted transfer is committed on every node
     (tx_status), the receiver's balance is the sum of the amounts, each sender's nonce
     is its count of transfers and its balance what it was funded minus what it sent,
     and all five nodes hold the same block at the final height; a later transfer from
     each sender, submitted through an authority, commits too (no account is wedged).

The transfers reach the authorities only because the follower offers its pending local
transactions again until they commit (node_ledger_txs.c, nl_pool_tick): 60 s is longer
than the gossip cache keeps a message for IWANT.

Skips (exit 77, reason printed) when not root or network namespaces are unavailable.

    python3 test_ledger_partition.py --bindir BUILD_DIR [--keep]
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_netns import NetnsLab, NetnsNode, netns_unavailable  # noqa: E402
from genie_testlib import (LedgerNet, Runner, block_hash, expect, ledger_head,  # noqa: E402
                           parse_args, place_key, run_cli, start_nodes, wait_for, wait_heights)

SKIP = 77
HEARTBEAT_MS = 2000
START_TIMEOUT = 60.0
HEIGHT_TIMEOUT = 90.0
COMMIT_WAIT_S = 60       # genie tx transfer --wait in the steady state
CUT_S = 60.0             # how long the follower is cut off
SUBMIT_EVERY_S = 0.5     # pacing of the follower's transfers during the cut
HEAL_TIMEOUT = 90.0      # every accepted transfer committed on every node within this
FUND = 10 ** 6           # each sender's funding (authority 1 has 10**9)


def new_account(r, datadir):
    """A fresh unencrypted account key in DATADIR/accounts/; returns its id."""
    c = run_cli(r.bindir, ["--datadir", datadir, "key", "new", "--no-passphrase"],
                json_out=True)
    expect(c.returncode == 0 and c.json, "key new: %r" % c)
    return c.json["account_id"]


def tx_status(node, txid):
    try:
        return node.call("tx_status", {"txid": txid}, timeout=5.0)
    except (OSError, RuntimeError, ValueError):
        return None


def check_start(lab, net, st):
    r = net.r
    net.new_genesis(4, heartbeat_ms=HEARTBEAT_MS)
    auths = []
    for i in range(1, 5):
        n = NetnsNode(r, "auth%d" % i, lab.add_host("auth%d" % i), roles="authority",
                      genesis=net.genesis,
                      peers=[auths[0].address()] if auths else [])
        place_key(os.path.join(net.dir, "authority-%d.key" % i), n.datadir)
        auths.append(n)
        if i == 1:
            n.start(timeout=START_TIMEOUT)
    start_nodes(auths[1:], timeout=START_TIMEOUT)
    f = NetnsNode(r, "follower", lab.add_host("follower"), roles="user", genesis=net.genesis,
                  peers=[auths[0].address(), auths[1].address()])
    os.makedirs(f.datadir, mode=0o700, exist_ok=True)
    st["senders"] = [new_account(r, f.datadir), new_account(r, f.datadir)]
    f.start(timeout=START_TIMEOUT)
    net.nodes = auths + [f]
    st["f"] = f
    print("  namespaces %s-*, subnet %s.0/24, follower at %s"
          % (lab.tag, lab.subnet, lab.hosts["follower"]["addr"]))
    wait_heights(net.nodes, 2, HEIGHT_TIMEOUT)
    return True


def check_steady(net, st):
    r, a1, f = net.r, net.nodes[0], st["f"]
    st["to"] = new_account(r, os.path.join(r.tmp, "wallet"))
    st["to_auth"] = new_account(r, os.path.join(r.tmp, "wallet-auth"))
    for s in st["senders"]:  # funded through authority 1's node, its own account
        c = a1.cli("tx", "transfer", s, str(FUND))
        expect(c.returncode == 0 and c.json and c.json["status"] == "pending",
               "funding %s: %r" % (s, c))
        st.setdefault("funding", []).append(c.json["txid"])
        print("  funding %s: txid %s nonce %d" % (s[:12], c.json["txid"][:12], c.json["nonce"]))

    def funded():
        return all((tx_status(f, t) or {}).get("status") == "committed" for t in st["funding"])
    try:
        wait_for(funded, HEIGHT_TIMEOUT, interval=0.5, what="the senders' funding")
    except TimeoutError as e:
        raise AssertionError("%s: auth1 says %r, the follower %r; auth1 ledger_stats %r" % (
            e, [tx_status(a1, t) for t in st["funding"]],
            [tx_status(f, t) for t in st["funding"]], a1.call("ledger_stats")))
    c = f.cli("tx", "transfer", st["to"], "7", "--from", st["senders"][0], "--wait",
              str(COMMIT_WAIT_S), timeout=COMMIT_WAIT_S + 30)
    expect(c.returncode == 0 and c.json and c.json["status"] == "committed",
           "steady-state transfer through the follower: %r" % c)
    st["sent"] = [{"txid": c.json["txid"], "from": st["senders"][0], "amount": 7,
                   "nonce": c.json["nonce"]}]
    wait_heights(net.nodes, c.json["height"], HEIGHT_TIMEOUT)
    for n in net.nodes:
        s = tx_status(n, c.json["txid"])
        expect(s and s["status"] == "committed", "%s: steady transfer %r" % (n.name, s))
    return True


def check_cut(lab, net, st):
    f, auths = st["f"], net.nodes[:4]
    h_auth0 = max(ledger_head(n)["height"] for n in auths)
    h_f0 = ledger_head(f)["height"]
    lab.cut("follower")
    t0 = time.monotonic()
    syncing, auth_txs, i, k = 0, [], 0, 0
    while time.monotonic() - t0 < CUT_S:
        frm = st["senders"][i % 2]
        amount = 100 + i
        c = f.cli("tx", "transfer", st["to"], str(amount), "--from", frm)
        if c.returncode == 0 and c.json and c.json.get("status") == "pending":
            st["sent"].append({"txid": c.json["txid"], "from": frm, "amount": amount,
                               "nonce": c.json["nonce"]})
            i += 1
        else:
            expect("syncing" in c.stderr, "cut-off follower refused a transfer: %r" % c)
            syncing += 1
        k += 1
        if k % 10 == 1:  # the authorities' side keeps its own traffic
            a = auths[len(auth_txs) % 4]
            c = a.cli("tx", "transfer", st["to_auth"], "1")
            expect(c.returncode == 0 and c.json, "%s transfer during the cut: %r" % (a.name, c))
            auth_txs.append(c.json["txid"])
        time.sleep(SUBMIT_EVERY_S)  # pacing, not synchronisation
    cut_s = time.monotonic() - t0
    during = st["sent"][1:]
    st["syncing"], st["auth_txs"], st["cut_s"] = syncing, auth_txs, cut_s
    print("  cut for %.1f s: the follower accepted %d transfers (%d refused as syncing and "
          "resubmitted); the authorities took %d of their own" % (cut_s, len(during),
                                                                  syncing, len(auth_txs)))
    expect(len(during) >= 20, "too few transfers accepted during the cut: %d" % len(during))
    h_auth1 = max(ledger_head(n)["height"] for n in auths)
    h_f1 = ledger_head(f)["height"]
    print("  heights during the cut: authorities %d -> %d, follower %d -> %d"
          % (h_auth0, h_auth1, h_f0, h_f1))
    expect(h_auth1 >= h_auth0 + 5, "authorities stalled during the cut")
    expect(h_f1 <= h_auth0 + 1, "the follower's head moved while cut off: %d -> %d"
           % (h_f0, h_f1))
    for t in during:
        s = tx_status(auths[0], t["txid"])
        expect(s and s["status"] == "unknown",
               "auth1 knows a tx sent to the cut-off follower: %r (the cut leaks)" % s)
        s = tx_status(f, t["txid"])
        expect(s and s["status"] == "pending", "follower: %r" % s)
    st["heal_from"] = time.monotonic()
    lab.heal("follower")
    return True


def check_heal(net, st):
    f, nodes = st["f"], net.nodes
    txids = [t["txid"] for t in st["sent"]] + st["auth_txs"]
    missing = {n.name: {t: None for t in txids} for n in nodes}  # txid -> last status

    def all_committed():  # committed stays committed: ask only about the others
        for n in nodes:
            left = missing[n.name]
            for t in list(left):
                s = tx_status(n, t)
                if s and s["status"] == "committed":
                    del left[t]
                else:
                    left[t] = s and s["status"]
                    break  # this node is not done yet: ask again next round
        return not any(missing.values())

    try:
        wait_for(all_committed, HEAL_TIMEOUT, interval=1.0,
                 what="every accepted transfer committed on every node")
    except TimeoutError as e:
        for n in nodes:  # the full picture for the report
            missing[n.name] = {t: (tx_status(n, t) or {}).get("status")
                               for t in missing[n.name]}
        lost = {k: (len(v), [(t[:12], s) for t, s in list(v.items())[:5]])
                for k, v in missing.items() if v}
        stats = f.call("ledger_stats") if f.alive() else None
        raise AssertionError("%s; not committed (count, first few): %r; follower stats %r"
                             % (e, lost, stats))
    took = time.monotonic() - st["heal_from"]
    heights = [tx_status(nodes[0], t)["height"] for t in txids]
    print("  all %d transfers committed on all 5 nodes %.1f s after the heal (heights %d..%d)"
          % (len(txids), took, min(heights), max(heights)))
    top = max(heights)
    wait_heights(nodes, top, HEIGHT_TIMEOUT)
    for n in nodes:  # same tx at the same height everywhere
        for t in txids[:: max(1, len(txids) // 20)]:
            a, b = tx_status(nodes[0], t), tx_status(n, t)
            expect(a["height"] == b["height"] and a["index"] == b["index"],
                   "%s: %s at %r, auth1 has %r" % (n.name, t[:12], b, a))
    hashes = {block_hash(n, top) for n in nodes}
    expect(len(hashes) == 1 and None not in hashes, "block %d differs: %r" % (top, hashes))
    # the senders are not wedged: each one's next transfer, through an authority, commits
    acc = os.path.join(f.datadir, "accounts")
    for name in os.listdir(acc):
        place_key(os.path.join(acc, name), nodes[0].datadir)
    for s in st["senders"]:
        c = nodes[0].cli("tx", "transfer", st["to"], "3", "--from", s, "--wait",
                         str(COMMIT_WAIT_S), timeout=COMMIT_WAIT_S + 30)
        expect(c.returncode == 0 and c.json and c.json["status"] == "committed",
               "a later transfer from %s through auth1: %r" % (s[:12], c))
        st["sent"].append({"txid": c.json["txid"], "from": s, "amount": 3,
                           "nonce": c.json["nonce"]})
        top = max(top, c.json["height"])
    wait_heights(nodes, top, HEIGHT_TIMEOUT)
    total = sum(t["amount"] for t in st["sent"])
    for n in nodes:
        acct = n.call("account", {"id": st["to"]})
        expect(acct["balance"] == total, "%s: receiver balance %r, want %d"
               % (n.name, acct, total))
        acct = n.call("account", {"id": st["to_auth"]})
        expect(acct["balance"] == len(st["auth_txs"]), "%s: authorities' receiver %r, want %d"
               % (n.name, acct, len(st["auth_txs"])))
        for s in st["senders"]:
            mine = [t for t in st["sent"] if t["from"] == s]
            acct = n.call("account", {"id": s})
            want = FUND - sum(t["amount"] for t in mine)
            expect(acct["nonce"] == len(mine) and acct["balance"] == want,
                   "%s: sender %s %r, want nonce %d balance %d"
                   % (n.name, s[:12], acct, len(mine), want))
    stats = f.call("ledger_stats")
    print("  follower re-offered %s pending tx(s) in all; mempool now %s"
          % (stats["node"].get("txs_regossiped"), stats.get("mempool")))
    return True


def main():
    args = parse_args()
    reason = netns_unavailable()
    if reason:
        print("test_ledger_partition: SKIP: %s" % reason, flush=True)
        sys.exit(SKIP)
    lab = NetnsLab()
    r = None
    try:
        with Runner("test_ledger_partition", args) as r:
            net, st = LedgerNet(r), {}
            ok = r.check("4 authorities and a follower in namespaces commit blocks",
                         check_start, lab, net, st) is not None
            ok = ok and r.check("steady state: transfers commit", check_steady, net,
                                st) is not None
            ok = ok and r.check("follower cut off for %d s accepts transfers" % CUT_S,
                                check_cut, lab, net, st) is not None
            if ok:
                r.check("after the heal every accepted transfer commits", check_heal, net, st)
    finally:
        lab.close()
    sys.exit(r.exit_code() if r else 1)


if __name__ == "__main__":
    main()

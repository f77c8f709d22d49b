#!/usr/bin/env python3
"""test_ledger_txpath: what happens to a transaction a cut-off node accepted.

Scenarios (named checks, in order):
  1. Four authorities commit blocks (heartbeat 2 s).
  2. A follower started with no peer at all (cut off) accepts two transfers: T3 from
     authority 3's account and X from authority 4's; its broadcasts reach nobody. While
     it is cut off, authority 4 itself commits Y, another transfer with X's nonce.
  3. After 35 s (longer than the gossip caches keep a message for IWANT, so only the
     follower's own re-offering can deliver T3), a bridge node joins with the follower
     and authority 1 as peers: the follower syncs, and
       - T3 commits (the follower offers its pending local txs again every 5 s);
       - X answers tx_status "replaced" with replaced_by Y, and `genie tx status` prints
         "replaced by Y".
Before the re-offering, T3 stayed pending in the follower's pool forever.

    python3 test_ledger_txpath.py --bindir BUILD_DIR [--keep]
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (LedgerNet, Node, Runner, expect, parse_args,  # noqa: E402
                           place_key, run_cli, start_fresh, wait_for, wait_heights)

HEARTBEAT_MS = 2000
START_TIMEOUT = 60.0
HEIGHT_TIMEOUT = 120.0
CUT_OFF_S = 35.0          # > the 30 s mcache ttl of the gossip layer
COMMIT_TIMEOUT = 90.0


def key_id(r, name, key_path):
    """The account id of keystore KEY_PATH (via `genie key list` on a datadir of its own)."""
    d = os.path.join(r.tmp, "keyid-" + name)
    place_key(key_path, d)
    c = run_cli(r.bindir, ["--datadir", d, "key", "list"], json_out=True)
    expect(c.returncode == 0 and c.json, "key list: %r" % c)
    ids = [k["id"] for k in c.json if k.get("kind") == "account"]
    expect(len(ids) == 1, "key list of one key: %r" % c.json)
    return ids[0]


def fresh_account(r):
    d = os.path.join(r.tmp, "wallet")
    c = run_cli(r.bindir, ["--datadir", d, "key", "new", "--no-passphrase"], json_out=True)
    expect(c.returncode == 0 and c.json, "key new: %r" % c)
    return c.json["account_id"]


def check_start(net):
    net.new_genesis(4, heartbeat_ms=HEARTBEAT_MS)
    net.start_authorities(4, timeout=START_TIMEOUT)
    wait_heights(net.nodes, 2, HEIGHT_TIMEOUT)
    return True


def check_cut_off(net, st):
    r = net.r
    st["id3"] = key_id(r, "3", os.path.join(net.dir, "authority-3.key"))
    st["id4"] = key_id(r, "4", os.path.join(net.dir, "authority-4.key"))
    st["to"] = fresh_account(r)
    f = Node(r, "cutoff", roles="user", genesis=net.genesis, peers=[])
    place_key(os.path.join(net.dir, "authority-3.key"), f.datadir)
    place_key(os.path.join(net.dir, "authority-4.key"), f.datadir)
    start_fresh(f, timeout=START_TIMEOUT)
    st["f"] = f
    for name, frm, amount in (("t3", st["id3"], 300), ("x", st["id4"], 400)):
        c = f.cli("tx", "transfer", st["to"], str(amount), "--from", frm)
        expect(c.returncode == 0 and c.json and c.json["status"] == "pending",
               "cut-off follower did not accept %s: %r" % (name, c))
        expect(c.json["nonce"] == 0, "%s: nonce %r" % (name, c.json))
        st[name] = c.json["txid"]
    # authority 4 spends its nonce 0 itself, through its own node
    c = net.nodes[3].cli("tx", "transfer", st["to"], "5", "--wait", str(int(COMMIT_TIMEOUT)),
                         timeout=COMMIT_TIMEOUT + 30)
    expect(c.returncode == 0 and c.json and c.json["status"] == "committed",
           "authority 4's own transfer: %r" % c)
    expect(c.json["nonce"] == 0, "Y's nonce: %r" % c.json)
    st["y"] = c.json["txid"]
    for k in ("t3", "x"):
        s = f.call("tx_status", {"txid": st[k]})
        expect(s["status"] == "pending", "cut off: %s is %r" % (k, s))
    return True


def check_heal(net, st):
    f = st["f"]
    time.sleep(CUT_OFF_S)  # not synchronisation: the time a partition lasts
    bridge = Node(net.r, "bridge", roles="user", genesis=net.genesis,
                  peers=[f.address(), net.nodes[0].address()])
    start_fresh(bridge, timeout=START_TIMEOUT)
    net.nodes.append(bridge)

    def committed():
        s = net.nodes[0].call("tx_status", {"txid": st["t3"]})
        return s if s["status"] == "committed" else None
    s = wait_for(committed, COMMIT_TIMEOUT, interval=0.5,
                 what="T3, accepted while cut off, to commit")
    print("  T3 committed at height %d" % s["height"])

    def replaced():
        s = f.call("tx_status", {"txid": st["x"]})
        return s if s["status"] != "pending" else None
    s = wait_for(replaced, COMMIT_TIMEOUT, interval=0.5, what="X to leave the follower's pool")
    expect(s["status"] == "replaced" and s.get("replaced_by") == st["y"],
           "X should be replaced by Y %s: %r" % (st["y"], s))
    c = f.cli("tx", "status", st["x"], json_out=False)
    expect(c.returncode == 0 and ("replaced by %s" % st["y"]) in c.stdout,
           "genie tx status of X: %r" % c)
    # the follower syncs past T3's block: authority 3's nonce 1 there too, not syncing
    def synced():
        a = f.call("account", {"id": st["id3"]})
        return a if a["nonce"] == 1 and a.get("syncing") is False else None
    wait_for(synced, HEIGHT_TIMEOUT, interval=0.5, what="the follower to sync past T3")


def main():
    args = parse_args()
    with Runner("test_ledger_txpath", args) as r:
        net = LedgerNet(r)
        st = {}
        if r.check("4 authorities commit blocks", check_start, net) is None:
            sys.exit(r.exit_code())
        if r.check("a cut-off follower accepts transfers", check_cut_off, net, st) is None:
            sys.exit(r.exit_code())
        r.check("after the heal its txs commit or say what replaced them", check_heal, net, st)
    sys.exit(r.exit_code())


if __name__ == "__main__":
    main()

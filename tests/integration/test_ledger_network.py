#!/usr/bin/env python3
"""test_ledger_network: the ledger replicated across real genie-node processes.

Scenarios (named checks, in order; later ones build on earlier ones):
  1. `genie genesis new --authorities 4` writes genesis.json and four authority keys;
     four authority nodes (each with its authority-<i>.key in DATADIR/accounts/, seeded
     in a chain) commit blocks: height >= 2 on every node.
  2. An authority node whose key is not in DATADIR/accounts/ fails to start with one
     clear error line (exit 1). Bad RPC parameters answer -32602, a malformed tx is
     rejected with a reason, and a node without a ledger genesis says so.
  3. A transfer from authority 1's account to a fresh account commits on all four nodes
     at the same height with the same block hash, and the balance is visible on all; its
     `genie ledger proof` verifies offline (`genie ledger verify-proof`), flipped it does not.
  4. One authority killed with SIGKILL: the other three keep committing and another
     transfer commits.
  5. A second authority killed: the two left make no progress for 5 s, and every block
     they hold agrees (no fork); the first one killed restarts (and catches up), and
     progress resumes on the three.
  6. A fifth node (no authority) started later syncs the chain: same hash at the
     height the others had when it started. While it is behind (it heard a head more
     than one block above its own) it refuses transfers with "rejected: syncing: head H,
     network at least H2" and its `account` answer says "syncing": true; once caught up
     a transfer through it (authority 3's account, whose key it holds) is accepted and
     commits. (Whether a refusal is seen depends on how fast it catches up; every
     refusal must be that one, and the number seen is printed.)

The genesis's heartbeat is lowered to 2 s (genesis.json edited before any node starts) so
empty blocks come often enough to watch heights grow.

    python3 test_ledger_network.py --bindir BUILD_DIR [--keep]
"""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (LedgerNet, Node, Runner, block_hash, expect, free_port,  # noqa: E402
                           ledger_head, parse_args, place_key, run_cli, run_node_once, start_fresh,
                           wait_for, wait_heights)

HEARTBEAT_MS = 2000
START_TIMEOUT = 60.0
HEIGHT_TIMEOUT = 120.0   # generous: ASan builds, two cores shared with other tests
COMMIT_WAIT_S = 90       # genie tx transfer --wait
HALT_WATCH = 5.0
SETTLE = 3.0             # after a kill, let a block already certified land
STOP_TIMEOUT = 20.0
AMOUNT = 1000


class Net(LedgerNet):

    def survivors(self):
        return [n for n in self.nodes if n.alive()]


def check_genesis_and_start(net):
    r = net.r
    c = run_cli(r.bindir, ["genesis", "new", "--authorities", "4", "--out", net.dir],
                json_out=True)
    expect(c.returncode == 0 and c.json, "genesis new failed: %r" % c)
    expect(len(c.json["authority_keys"]) == 4, "genesis new: %r" % c.json)
    for i in range(1, 5):
        expect(os.path.exists(os.path.join(net.dir, "authority-%d.key" % i)),
               "authority-%d.key missing" % i)
    with open(net.genesis) as f:
        g = json.load(f)
    expect(len(g["authorities"]) == 4 and len(g["balances"]) == 4, "genesis: %r" % g)
    g["heartbeat_ms"] = HEARTBEAT_MS
    with open(net.genesis, "w") as f:
        json.dump(g, f)
    net.start_authorities(4, timeout=START_TIMEOUT)
    chains = {n.status()["chain_id"] for n in net.nodes}
    expect(len(chains) == 1, "nodes disagree on the chain id: %r" % chains)
    auths = net.nodes[0].call("authorities")
    expect(sorted(auths) == sorted(g["authorities"]), "authorities: %r" % auths)
    wait_heights(net.nodes, 2, HEIGHT_TIMEOUT)
    return True


def transfer(net, node, to):
    c = node.cli("tx", "transfer", to, str(AMOUNT), "--wait", str(COMMIT_WAIT_S),
                 timeout=COMMIT_WAIT_S + 30)
    expect(c.returncode == 0 and c.json, "tx transfer failed: %r" % c)
    expect(c.json["status"] == "committed", "transfer not committed: %r" % c.json)
    return c.json


def check_committed_everywhere(nodes, tx, to, balance):
    height = tx["height"]
    wait_heights(nodes, height, HEIGHT_TIMEOUT, what="every node to reach %d" % height)
    hashes = set()
    for n in nodes:
        st = n.call("tx_status", {"txid": tx["txid"]})
        expect(st["status"] == "committed" and st["height"] == height,
               "%s: tx status %r (want committed at %d)" % (n.name, st, height))
        hashes.add(block_hash(n, height))
        acct = n.call("account", {"id": to})
        expect(acct["balance"] == balance, "%s: balance %r, want %d" % (n.name, acct, balance))
    expect(len(hashes) == 1 and None not in hashes,
           "block %d differs between nodes: %r" % (height, hashes))


def fresh_account(net):
    d = os.path.join(net.r.tmp, "wallet")
    c = run_cli(net.r.bindir, ["--datadir", d, "key", "new", "--no-passphrase"], json_out=True)
    expect(c.returncode == 0 and c.json, "key new: %r" % c)
    return c.json["account_id"]


def check_proof(net, tx):
    """`genie ledger proof` of the committed transfer, checked offline by `genie ledger
    verify-proof` against genesis.json; the same file with one byte flipped is refused."""
    path = os.path.join(net.r.tmp, "transfer.proof")
    c = net.nodes[1].cli("ledger", "proof", tx["txid"], "--out", path)
    expect(c.returncode == 0 and c.json and c.json["height"] == tx["height"],
           "ledger proof: %r" % c)
    c = run_cli(net.r.bindir, ["ledger", "verify-proof", path, "--genesis", net.genesis],
                json_out=True)
    expect(c.returncode == 0 and c.json and c.json["verified"] and
           c.json["txid"] == tx["txid"] and c.json["height"] == tx["height"] and
           c.json["type_name"] == "transfer", "verify-proof: %r" % c)
    with open(path, "rb") as f:
        proof = bytearray(f.read())
    proof[len(proof) // 2] ^= 1
    bad = os.path.join(net.r.tmp, "transfer.proof.bad")
    with open(bad, "wb") as f:
        f.write(bytes(proof))
    c = run_cli(net.r.bindir, ["ledger", "verify-proof", bad, "--genesis", net.genesis])
    expect(c.returncode == 1, "a flipped proof verified: %r" % c)


def check_transfer(net, to):
    tx = transfer(net, net.nodes[0], to)
    check_committed_everywhere(net.nodes, tx, to, AMOUNT)
    check_proof(net, tx)
    return tx


def check_one_down(net, to):
    victim = net.nodes[3]
    victim.send_signal(signal.SIGKILL)
    victim.wait_exit(STOP_TIMEOUT)
    alive = net.survivors()
    start = max(ledger_head(n)["height"] for n in alive)
    wait_heights(alive, start + 2, HEIGHT_TIMEOUT, what="progress with 3 of 4")
    tx = transfer(net, net.nodes[1], to)  # authority 2 pays this time
    check_committed_everywhere(alive, tx, to, 2 * AMOUNT)


def no_fork(nodes):
    heads = [ledger_head(n)["height"] for n in nodes]
    for h in range(1, min(heads) + 1):
        hashes = {block_hash(n, h) for n in nodes}
        expect(len(hashes) == 1 and None not in hashes, "fork at height %d: %r" % (h, hashes))


def check_two_down(net):
    victim = net.nodes[2]
    victim.send_signal(signal.SIGKILL)
    victim.wait_exit(STOP_TIMEOUT)
    alive = net.survivors()
    time.sleep(SETTLE)
    before = [ledger_head(n)["height"] for n in alive]
    time.sleep(HALT_WATCH)
    after = [ledger_head(n)["height"] for n in alive]
    expect(before == after, "heights moved with 2 of 4 authorities: %r -> %r" % (before, after))
    no_fork(alive)
    # The first one killed comes back: it catches up, and 3 of 4 is a quorum again.
    back = net.nodes[3]
    back.start(timeout=START_TIMEOUT)
    alive = net.survivors()
    target = max(after) + 2
    wait_heights(alive, target, HEIGHT_TIMEOUT, what="progress after a restart")
    no_fork(alive)


def check_late_sync(net):
    alive = net.survivors()
    target = max(ledger_head(n)["height"] for n in alive)
    late = Node(net.r, "late", roles="user", genesis=net.genesis,
                peers=[net.nodes[0].address()])
    place_key(os.path.join(net.dir, "authority-3.key"), late.datadir)
    start_fresh(late, timeout=START_TIMEOUT)
    net.nodes.append(late)
    to = fresh_account(net)
    refused, deadline, tx = 0, time.time() + HEIGHT_TIMEOUT, None
    while tx is None:
        c = late.cli("tx", "transfer", to, str(AMOUNT), timeout=COMMIT_WAIT_S)
        if c.returncode == 0 and c.json:
            tx = c.json
            break
        expect("rejected: syncing: head " in c.stderr and "network at least" in c.stderr,
               "late node refused a transfer for another reason than syncing: %r" % c)
        refused += 1
        expect(time.time() < deadline, "late node still refuses transfers: %r" % c)
        time.sleep(0.2)
    print("  late node: %d transfer(s) refused as syncing before one was accepted" % refused)
    # Accepted means caught up at that moment; a peer's STATUS of a newer height may still
    # show it behind again for a moment (the network moves on while it syncs), so wait.
    deadline = time.time() + HEIGHT_TIMEOUT
    acct = late.call("account", {"id": tx["from"]})
    while acct.get("syncing") is not False:
        expect(time.time() < deadline, "caught-up late node's account: %r" % acct)
        time.sleep(0.2)
        acct = late.call("account", {"id": tx["from"]})
    wait_heights([late], target, HEIGHT_TIMEOUT, what="the late node to sync to %d" % target)
    done = late.cli("tx", "status", tx["txid"], timeout=COMMIT_WAIT_S)
    deadline = time.time() + COMMIT_WAIT_S
    while not (done.json and done.json.get("status") == "committed"):
        expect(time.time() < deadline, "late node's accepted transfer not committed: %r" % done)
        time.sleep(0.5)
        done = late.cli("tx", "status", tx["txid"], timeout=COMMIT_WAIT_S)
    want = block_hash(net.nodes[0], target)
    got = block_hash(late, target)
    expect(want is not None and want == got,
           "late node's block %d is %r, the chain's is %r" % (target, got, want))
    no_fork([net.nodes[0], late])


def rpc_error(node, method, params):
    """The JSON-RPC error object of a call expected to fail."""
    req = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        req["params"] = params
    status, resp = node.rpc_raw(json.dumps(req))
    expect(resp is not None and "error" in resp,
           "%s %r should fail: HTTP %s %r" % (method, params, status, resp))
    return resp["error"]


def check_bad_input(net):
    n = net.nodes[0]
    for method, params in (("tx_submit", {"tx": "zz"}), ("tx_submit", {}),
                           ("account", {"id": "12"}), ("block", {}),
                           ("block", {"hash": "xyz"}), ("tx_status", {"txid": 5})):
        e = rpc_error(n, method, params)
        expect(e["code"] == -32602 and e["message"], "%s %r: %r" % (method, params, e))
    e = rpc_error(n, "tx_submit", {"tx": "9600"})
    expect(e["code"] == -32000 and "rejected" in e["message"], "malformed tx: %r" % e)
    e = rpc_error(n, "block", {"height": 10 ** 9})
    expect(e["code"] == -32000 and "no such block" in e["message"], "far block: %r" % e)
    st = n.call("tx_status", {"txid": "ab" * 32})
    expect(st["status"] == "unknown", "unknown txid: %r" % st)
    # A node without a ledger genesis answers the ledger methods with one clear error.
    dev = start_fresh(Node(net.r, "devnode"), timeout=START_TIMEOUT)
    e = rpc_error(dev, "head", None)
    expect(e["code"] == -32000 and "without a ledger" in e["message"], "dev node head: %r" % e)
    expect(dev.stop(timeout=STOP_TIMEOUT) == 0, "dev node did not stop cleanly")


def check_no_key(r, genesis):
    d = os.path.join(r.tmp, "nokey")
    p = run_node_once(r.bindir, ["--datadir", d, "--listen",
                                 "tcp://127.0.0.1:%d" % free_port(), "--role", "authority",
                                 "--genesis", genesis], timeout=START_TIMEOUT)
    errs = [l for l in p.stderr.splitlines() if l.startswith("genie-node: error:")]
    expect(p.returncode == 1 and len(errs) == 1 and "validator key" in errs[0],
           "authority without a key: exit %d %r" % (p.returncode, p.stderr))


def main():
    args = parse_args()
    with Runner("test_ledger_network", args) as r:
        net = Net(r)
        ok = r.check("genesis new, 4 authorities commit blocks", check_genesis_and_start, net)
        r.check("authority without its key fails with one line", check_no_key, r, net.genesis)
        r.check("bad RPC input is refused with a reason", check_bad_input, net)
        if ok is None and not net.nodes:
            sys.exit(r.exit_code())
        to = r.check("fresh account", fresh_account, net)
        if to:
            r.check("transfer commits on all 4 nodes", check_transfer, net, to)
            r.check("one authority killed: chain goes on", check_one_down, net, to)
        r.check("two killed: halt without fork, resume on restart", check_two_down, net)
        r.check("late node syncs the chain", check_late_sync, net)
    sys.exit(r.exit_code())


if __name__ == "__main__":
    main()

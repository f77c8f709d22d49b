#!/usr/bin/env python3
"""test_ledger_decided: consensus messages stay among the validators; followers follow
the chain from DECIDED messages alone (real genie-node processes).

Checks (in order):
  1. Four authority nodes (genesis heartbeat 2 s) and two followers (role user, one
     linked to the last authority, one to the first follower) start. Each authority
     is in the `consensus` room (`rooms`); no follower is.
  2. Everyone reaches height 4 with the same block hashes; on each follower, no
     proposal or vote ever reached the ledger (ledger_stats: node.consensus_in == 0,
     consensus.proposals_in == votes_in == 0) and its blocks came as DECIDEDs
     (node.blocks_decided > 0); the authorities sent DECIDEDs (decided_sent > 0).
  3. A transfer submitted through the far follower commits, and both followers hold it
     at the same height and hash as the authorities.
  4. Posting by RPC into the `consensus` room is refused with a reason.
  5. One authority killed (SIGKILL): the followers keep following (height grows by 3
     more blocks on all survivors, same hashes), still without a proposal or vote.

    python3 test_ledger_decided.py --bindir BUILD_DIR [--keep]
"""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (Node, block_hash, expect, ledger_head, place_key,  # noqa: E402
                           run_cli, run_ledger_steps, start_fresh, wait_for, wait_heights)

HEARTBEAT_MS = 2000
START_TIMEOUT = 60.0
HEIGHT_TIMEOUT = 120.0
COMMIT_WAIT_S = 90
AMOUNT = 1000


def _start(net, st):
    r = net.r
    net.new_genesis(4, heartbeat_ms=HEARTBEAT_MS)
    auths = net.start_authorities(4, timeout=START_TIMEOUT)
    f1 = Node(r, "follow1", roles="user", genesis=net.genesis, peers=[auths[-1].address()])
    start_fresh(f1, timeout=START_TIMEOUT)
    f2 = Node(r, "follow2", roles="user", genesis=net.genesis, peers=[f1.address()])
    place_key(os.path.join(net.dir, "authority-2.key"), f2.datadir)
    start_fresh(f2, timeout=START_TIMEOUT)
    st["auths"], st["followers"] = list(auths), [f1, f2]
    net.nodes += [f1, f2]
    for n in st["auths"]:
        rooms = [x["room"] for x in n.call("rooms")]
        expect("consensus" in rooms, "%s is not in the consensus room: %r" % (n.name, rooms))
    for n in st["followers"]:
        rooms = [x["room"] for x in n.call("rooms")]
        expect("consensus" not in rooms, "follower %s is in the consensus room" % n.name)
    return True


def _no_consensus_traffic(n):
    s = n.call("ledger_stats")
    expect(s["node"]["consensus_in"] == 0 and s["consensus"]["proposals_in"] == 0 and
           s["consensus"]["votes_in"] == 0,
           "follower %s received consensus messages: node %r consensus %r" %
           (n.name, s["node"], s["consensus"]))
    return s


def _same_chain(nodes, upto):
    for h in range(1, upto + 1):
        hashes = {block_hash(n, h) for n in nodes}
        expect(len(hashes) == 1 and None not in hashes, "block %d differs: %r" % (h, hashes))


def _follow(net, st):
    nodes = st["auths"] + st["followers"]
    wait_heights(nodes, 4, HEIGHT_TIMEOUT)
    _same_chain(nodes, 4)
    for n in st["followers"]:
        s = _no_consensus_traffic(n)
        expect(s["node"]["blocks_decided"] > 0, "%s applied no DECIDED: %r" % (n.name, s["node"]))
        print("%s: blocks_decided %d blocks_synced %d decided_in %d" %
              (n.name, s["node"]["blocks_decided"], s["node"]["blocks_synced"],
               s["node"]["decided_in"]))
    sent = sum(n.call("ledger_stats")["node"]["decided_sent"] for n in st["auths"])
    expect(sent > 0, "no authority sent a DECIDED")
    return True


def _transfer(net, st):
    f2 = st["followers"][1]
    c = run_cli(net.r.bindir, ["--datadir", os.path.join(net.r.tmp, "wallet"), "key", "new",
                               "--no-passphrase"], json_out=True)
    expect(c.returncode == 0 and c.json, "key new: %r" % c)
    to = c.json["account_id"]
    c = f2.cli("tx", "transfer", to, str(AMOUNT), "--wait", str(COMMIT_WAIT_S),
               timeout=COMMIT_WAIT_S + 30)
    expect(c.returncode == 0 and c.json and c.json["status"] == "committed",
           "transfer through a follower: %r" % c)
    height = c.json["height"]
    nodes = st["auths"] + st["followers"]
    wait_heights(nodes, height, HEIGHT_TIMEOUT)
    hashes = {block_hash(n, height) for n in nodes}
    expect(len(hashes) == 1 and None not in hashes, "block %d differs: %r" % (height, hashes))
    for n in nodes:
        acct = n.call("account", {"id": to})
        expect(acct["balance"] == AMOUNT, "%s: balance %r" % (n.name, acct))
    return True


def _post_refused(net, st):
    n = st["auths"][0]
    try:
        n.call("room_post", {"room": "consensus", "text": "hello"})
    except RuntimeError as e:
        expect("consensus" in str(e), "refusal without a reason: %r" % e)
        return True
    expect(False, "a text post into the consensus room was accepted")
    return False


def _kill_one(net, st):
    victim = st["auths"][0]
    victim.kill()
    alive = st["auths"][1:] + st["followers"]
    base = max(ledger_head(n)["height"] for n in alive)
    wait_heights(alive, base + 3, HEIGHT_TIMEOUT)
    _same_chain(alive, base + 3)
    for n in st["followers"]:
        _no_consensus_traffic(n)
    backups = sum(n.call("ledger_stats")["node"]["decided_backups"] for n in st["auths"][1:])
    print("after the kill: heights >= %d everywhere, backup DECIDEDs sent %d" %
          (base + 3, backups))
    return True


if __name__ == "__main__":
    run_ledger_steps("test_ledger_decided", [
        ("four authorities and two followers start; only authorities in the room", _start),
        ("followers follow from DECIDEDs with no proposal or vote", _follow),
        ("a transfer through a follower commits everywhere", _transfer),
        ("an RPC post into the consensus room is refused", _post_refused),
        ("followers keep following with one authority killed", _kill_one),
    ])

#!/usr/bin/env python3
"""test_recruit_late: a data owner that joins after the trainer's one `genie recruit` still
sees the offer, because the trainer's node posts it again every NODE_MARKET_REPOST_MS
(30 s), with real processes.

Scenarios (named checks, in order):
  1. A 1-authority testnet; a trainer node registers itself and a logistic spec, and runs
     `genie recruit SPEC` once.
  2. Once the trainer's log says it posted again by itself (by then the first post's
     envelope has left the gossip caches, 30 s, so no repair could bring it), a data-owner
     node starts (linked to the authority and the trainer; nobody calls recruit again).
     It lists the offer within 75 s (two re-post intervals and a half), and it is the same
     signed post (same time_ms and note) the trainer's `recruit` answered with: the node
     re-sends its post, it does not make a new one. Without the re-posting the trainer's
     log never has that line and the check fails.

    python3 test_recruit_late.py --bindir BUILD_DIR [--keep]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (Node, expect, run_cli, run_ledger_steps, start_fresh,  # noqa: E402
                           wait_for, wait_heights)

START_TIMEOUT = 60.0
HEIGHT_TIMEOUT = 60.0
OFFER_TIMEOUT = 75.0
WAIT_S = "60"


def new_account(r, node):
    c = run_cli(r.bindir, ["--datadir", node.datadir, "key", "new", "--no-passphrase"],
                json_out=True)
    expect(c.returncode == 0 and c.json, "key new: %r" % c)
    return c.json["account_id"]


def check_recruit_once(net, st):
    r = net.r
    c = run_cli(r.bindir, ["genesis", "new", "--authorities", "1", "--out", net.dir],
                json_out=True)
    expect(c.returncode == 0 and c.json, "genesis new failed: %r" % c)
    net.start_authorities(1, timeout=START_TIMEOUT)
    wait_heights(net.nodes, 1, HEIGHT_TIMEOUT)
    trainer = Node(r, "trainer", roles="trainer", genesis=net.genesis,
                   peers=[net.nodes[0].address()])
    new_account(r, trainer)
    start_fresh(trainer, timeout=START_TIMEOUT)
    st["trainer"] = trainer
    wait_heights([trainer], 1, HEIGHT_TIMEOUT)
    c = None

    def registered():
        nonlocal c  # the node may still be catching up for a moment ("behind the network")
        c = trainer.cli("trainer", "register", "Late Labs", "--wait", WAIT_S)
        return c.returncode == 0 or "behind" not in c.stderr
    wait_for(registered, timeout=30, interval=0.5, what="trainer register")
    expect(c.returncode == 0 and c.json["status"] == "committed", "trainer register: %r" % c)
    c = trainer.cli("spec", "register", "--model-type", "logistic", "--purpose", "research",
                    "--features", "age,bmi", "--label", "trait", "--measurement", "ab" * 32,
                    "--min-donors", "1", "--max-epsilon", "1.0", "--aggregation", "mean",
                    "--price", "5", "--shares", "6000,3000,1000", "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json["status"] == "committed", "spec register: %r" % c)
    st["spec"] = c.json["spec_id"]
    st["spec_height"] = c.json.get("tx_height") or 1
    c = trainer.cli("recruit", st["spec"], "--note", "posted once")
    expect(c.returncode == 0 and c.json["spec_id"] == st["spec"], "recruit: %r" % c)
    st["post_time"] = c.json["time_ms"]
    print("  spec %s... recruited once at %d" % (st["spec"][:16], st["post_time"]))
    return True


def reposts(trainer, spec):
    with open(trainer.log_path) as f:
        return sum("re-posted recruitment for spec %s" % spec[:16] in line for line in f)


def check_late_owner(net, st):
    r, trainer = net.r, st["trainer"]
    wait_for(lambda: reposts(trainer, st["spec"]) >= 1, timeout=60, interval=0.5,
             what="the trainer's first re-post")
    owner = Node(r, "owner", roles="data-owner", genesis=net.genesis,
                 peers=[net.nodes[0].address(), trainer.address()])
    new_account(r, owner)
    start_fresh(owner, timeout=START_TIMEOUT)
    wait_heights([owner], st["spec_height"], HEIGHT_TIMEOUT)
    got = {}

    def offered():
        c = owner.cli("offers")
        mine = [o for o in (c.json or []) if c.returncode == 0 and o["offer"] == st["spec"]]
        got["o"] = mine[0] if mine else None
        return got["o"] is not None
    wait_for(offered, timeout=OFFER_TIMEOUT, interval=0.5, what="the offer on the late owner")
    o = got["o"]
    expect(o["time_ms"] == st["post_time"] and o["note"] == "posted once",
           "the late owner's offer is not the trainer's post: %r" % o)
    reposted = reposts(trainer, st["spec"])
    print("  the late owner has the offer (post of %d, re-posted %d times)" %
          (o["time_ms"], reposted))
    return True


if __name__ == "__main__":
    run_ledger_steps("test_recruit_late", (
        ("a trainer posts its spec's recruitment once", check_recruit_once),
        ("an owner that starts later still gets the offer", check_late_owner)))

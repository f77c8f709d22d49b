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

from genie_testlib import (expect, offer_of, register_spec, run_ledger_steps,  # noqa: E402
                           start_account_node, start_trainer, wait_for)

OFFER_TIMEOUT = 75.0


def check_recruit_once(net, st):
    net.start_attested()
    trainer, _, c = start_trainer(net, [net.nodes[0].address()], 1, "Late Labs")
    expect(c.json["status"] == "committed", "trainer register: %r" % c)
    st["trainer"] = trainer
    spec = register_spec(trainer, "ab" * 32, "age,bmi", "trait", 1, "1.0", 5, "6000,3000,1000")
    st["spec"] = spec["spec_id"]
    st["spec_height"] = spec.get("tx_height") or 1
    c = trainer.cli("recruit", st["spec"], "--note", "posted once")
    expect(c.returncode == 0 and c.json["spec_id"] == st["spec"], "recruit: %r" % c)
    st["post_time"] = c.json["time_ms"]
    print("  spec %s... recruited once at %d" % (st["spec"][:16], st["post_time"]))
    return True


def reposts(trainer, spec):
    with open(trainer.log_path) as f:
        return sum("re-posted recruitment for spec %s" % spec[:16] in line for line in f)


def check_late_owner(net, st):
    trainer = st["trainer"]
    wait_for(lambda: reposts(trainer, st["spec"]) >= 1, timeout=60, interval=0.5,
             what="the trainer's first re-post")
    owner, _ = start_account_node(net, "owner", "data-owner",
                                  [net.nodes[0].address(), trainer.address()], st["spec_height"])
    got = {}

    def offered():
        got["o"] = offer_of(owner, st["spec"])
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

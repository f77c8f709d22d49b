#!/usr/bin/env python3
"""test_ledger_forge: a synced block with a bad commit certificate is never applied.

`genie genesis new --authorities 4` makes the chain; ONE follower node (role user) runs it
and no authority does, so nothing can produce a block: the follower stays at block 0
unless a block offered by sync is applied. genie-forge (tests/tools/genie_forge.c) then
links to the follower as a peer, claims a head of 2 and answers the follower's sync
requests with a real block 1 (a transfer signed by authority 1, right prev hash, tx root
and state root) under a forged certificate. Each bad mode runs once, answering three
requests (after three failures the follower ignores that peer for a minute, so the next
run is asked at once). After each one:

  - the follower's head is still block 0 (height and hash), blocks_synced is 0;
  - node.sync_bad_blocks grew by exactly the number of answers;
  - its log names the expected refusal once per answer ("bad certificate (bad
    signature)", "(invalid field)", or "malformed certificate"), and never "does not
    execute" (the block itself is fine: only the certificate is wrong);
  - the follower is alive and answers RPC.

  empty   a zero-length certificate is a malformed answer: dropped before it is
          buffered, counted against the peer at once (sync_bad_blocks + 1, the request
          ends without waiting for its timeout).
  valid   (control, last) a real quorum certificate: the block IS applied, height 1 with
          the hash genie-forge reports, authority 1's nonce moves to 1. This proves the
          test can fail.

At the end the follower stops cleanly on SIGTERM and its log holds no sanitizer report.

    python3 test_ledger_forge.py --bindir BUILD_DIR [--keep]
"""

import os
import re
import shlex
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (Node, Runner, expect, ledger_head, parse_args,  # noqa: E402
                           run_cli, start_fresh, wait_for)

START_TIMEOUT = 60.0
FORGE_SECONDS = 20        # genie-forge --seconds (bad modes are asked within a second)
VALID_SECONDS = 30        # bound on the valid run (the follower asks within a tick or two)
FORGE_SLACK = 30.0        # subprocess bound beyond --seconds (the barrier and start-up)
APPLY_TIMEOUT = 10.0
STOP_TIMEOUT = 20.0
ANSWERS = 3               # node_ledger_int.h NL_PEER_MAX_FAILS

BAD_SIG = "has a bad certificate (bad signature): not applied"
INVALID = "has a bad certificate (invalid field): not applied"
MALFORMED = "synced block 1: malformed certificate"
# mode -> the follower's log line for each refused answer (node/node_ledger_sync.c)
BAD_MODES = [
    ("outsiders", BAD_SIG),    # quorum-sized, signed by keys that are no authorities
    ("minority", INVALID),     # 2 of 4 authorities: below the quorum of 3
    ("wronghash", INVALID),    # a real quorum certificate of another block 1
    ("wrongheight", BAD_SIG),  # says height 1, the quorum signed height 2
    ("wronground", BAD_SIG),   # says round 0, the quorum signed round 1
    ("wrongchain", BAD_SIG),   # the quorum signed on another chain id
    ("repeated", MALFORMED),   # one authority's signature three times, same index
    ("relabeled", BAD_SIG),    # one authority's signature under three indexes
    ("garbage", MALFORMED),    # random bytes
    ("truncated", MALFORMED),  # the valid certificate cut short
]
NOT_EXECUTED = "does not execute"
APPLIED = re.compile(r"INFO .*synced block \d+ [0-9a-f]{16}")
SANITIZER = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
SUMMARY = re.compile(r'(\w+)=("[^"]*"|\S+)')


class Ctx:
    def __init__(self, r):
        self.r = r
        self.forge = os.path.join(r.bindir, "genie-forge")
        self.gdir = os.path.join(r.tmp, "genesis")
        self.genesis = os.path.join(self.gdir, "genesis.json")
        self.keys = []
        self.node = None
        self.address = None
        self.genesis_head = None
        self.log_mark = 0


def ledger_stats(node):
    return node.call("ledger_stats", timeout=10.0)


def log_since(ctx):
    """The follower's log lines written since the last call."""
    with open(ctx.node.log_path, "rb") as f:
        f.seek(ctx.log_mark)
        data = f.read()
    ctx.log_mark += len(data)
    return data.decode(errors="replace").splitlines()


def run_forge(ctx, mode, count, seconds=FORGE_SECONDS):
    """Runs genie-forge to completion (bounded); returns its parsed summary."""
    cmd = [ctx.forge, "--target", ctx.address, "--genesis", ctx.genesis, "--mode", mode,
           "--count", str(count), "--seconds", str(seconds)]
    for k in ctx.keys:
        cmd += ["--key", k]
    shown = " ".join(shlex.quote(c) for c in cmd[1:]).replace(ctx.address, "FOLLOWER")
    print("     $ genie-forge %s" % shown.replace(ctx.gdir + "/", ""), flush=True)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=seconds + FORGE_SLACK)
    expect(p.returncode == 0, "genie-forge %s exit %d: %s%s" % (mode, p.returncode, p.stdout,
                                                                p.stderr[-2000:]))
    lines = [l for l in p.stdout.splitlines() if l.startswith("genie-forge: ")]
    expect(len(lines) == 1, "genie-forge printed no summary line: %r" % p.stdout)
    print("     " + lines[0], flush=True)
    s = {k: v.strip('"') for k, v in SUMMARY.findall(lines[0])}
    expect(s["linked"] == "yes", "the follower did not answer the HELLO: %r" % s)
    expect(s["flushed"] == "yes", "the follower did not answer the PING after the answers")
    expect(s["block_txs"] == "1", "the forged block should hold one transfer: %r" % s)
    return s


def follower_unchanged(ctx, label):
    n = ctx.node
    expect(n.alive(), "the follower died (exit %s) after %s:\n%s"
           % (n.proc.poll(), label, n.log_tail(30)))
    st = n.call("status", timeout=10.0)
    expect(st.get("pid") == n.pid, "status after %s: %r" % (label, st))
    head = ledger_head(n)
    expect(head is not None and head["height"] == 0 and head["hash"] == ctx.genesis_head,
           "after %s the follower's head moved: %r (genesis %s)"
           % (label, head, ctx.genesis_head))


def show(label, before, after):
    keys = ("sync_requests", "sync_bad_blocks", "sync_timeouts", "blocks_synced")
    print("     follower after %-11s height %d, %s" % (label + ":", after["height"], " ".join(
        "%s %d%+d" % (k, after["node"][k], after["node"][k] - before["node"][k])
        for k in keys)), flush=True)


# ---- checks ----

def check_start(ctx):
    r = ctx.r
    c = run_cli(r.bindir, ["genesis", "new", "--authorities", "4", "--out", ctx.gdir],
                json_out=True)
    expect(c.returncode == 0 and c.json, "genesis new failed: %r" % c)
    ctx.keys = c.json["authority_keys"]
    expect(len(ctx.keys) == 4, "genesis new: %r" % c.json)
    ctx.node = Node(r, "follower", roles="user", genesis=ctx.genesis)
    start_fresh(ctx.node, timeout=START_TIMEOUT)
    ctx.address = ctx.node.address()
    head = ledger_head(ctx.node)
    expect(head is not None and head["height"] == 0, "fresh follower head: %r" % head)
    ctx.genesis_head = head["hash"]
    log_since(ctx)
    return True


def check_bad_mode(ctx, mode, reason):
    before = ledger_stats(ctx.node)
    s = run_forge(ctx, mode, ANSWERS)
    expect(s["asked_from"] == "1", "the follower asked from %s, want 1" % s["asked_from"])
    answered = int(s["answered"])
    expect(answered >= 1, "the follower never asked for blocks: %r" % s)
    after = ledger_stats(ctx.node)
    show(mode, before, after)
    follower_unchanged(ctx, mode)
    d_bad = after["node"]["sync_bad_blocks"] - before["node"]["sync_bad_blocks"]
    expect(d_bad == answered, "sync_bad_blocks grew by %d for %d forged answers"
           % (d_bad, answered))
    expect(after["node"]["blocks_synced"] == 0, "blocks_synced %d"
           % after["node"]["blocks_synced"])
    lines = log_since(ctx)
    refused = [l for l in lines if reason in l]
    expect(len(refused) == answered, "want %d log lines '%s', got %d:\n%s"
           % (answered, reason, len(refused), "\n".join(lines[-20:])))
    expect(not any(NOT_EXECUTED in l or APPLIED.search(l) for l in lines),
           "the forged block reached execution:\n%s" % "\n".join(lines[-20:]))
    print("     follower log: %s" % refused[0].split("  ", 1)[-1].strip(), flush=True)


def check_empty(ctx):
    before = ledger_stats(ctx.node)
    s = run_forge(ctx, "empty", 1)
    expect(s["answered"] == "1" and s["cert_bytes"] == "0", "empty: %r" % s)
    after = ledger_stats(ctx.node)
    show("empty", before, after)
    follower_unchanged(ctx, "empty")
    expect(after["node"]["sync_bad_blocks"] == before["node"]["sync_bad_blocks"] + 1,
           "an empty certificate was not counted against the peer")
    expect(after["node"]["blocks_synced"] == 0, "blocks_synced moved")
    lines = log_since(ctx)
    expect(any("malformed sync answer" in l for l in lines),
           "no 'malformed sync answer' in the follower's log:\n%s" % "\n".join(lines[-20:]))


def check_valid(ctx):
    before = ledger_stats(ctx.node)
    s = run_forge(ctx, "valid", 1, seconds=VALID_SECONDS)
    expect(s["answered"] == "1", "the follower never asked the valid peer: %r" % s)
    payer = s["payer"]
    head = wait_for(lambda: (ledger_head(ctx.node) or {}).get("height") == 1 and
                    ledger_head(ctx.node), APPLY_TIMEOUT, interval=0.1,
                    what="the validly certified block to be applied")
    expect(head["hash"] == s["block_hash"], "applied block %s, genie-forge offered %s"
           % (head["hash"], s["block_hash"]))
    after = ledger_stats(ctx.node)
    show("valid", before, after)
    expect(after["node"]["blocks_synced"] == 1, "blocks_synced %d"
           % after["node"]["blocks_synced"])
    expect(after["node"]["sync_bad_blocks"] == before["node"]["sync_bad_blocks"],
           "the valid certificate was counted bad")
    acct = ctx.node.call("account", {"id": payer})
    expect(acct["nonce"] == 1, "authority 1's nonce after the block: %r" % acct)
    lines = log_since(ctx)
    expect(any("synced block 1 %s" % s["block_hash"][:16] in l for l in lines),
           "no 'synced block 1' line in the follower's log")


def check_stop(ctx):
    n = ctx.node
    rc = n.stop(timeout=STOP_TIMEOUT)
    expect(rc == 0, "the follower exited %s on SIGTERM" % rc)
    with open(n.log_path, errors="replace") as f:
        bad = [l.rstrip() for l in f if any(m in l for m in SANITIZER)]
    expect(not bad, "sanitizer report in the follower's log:\n%s" % "\n".join(bad[:10]))


def main():
    args = parse_args()
    t0 = time.monotonic()
    with Runner("test_ledger_forge", args) as r:
        ctx = Ctx(r)
        if not os.access(ctx.forge, os.X_OK):
            raise SystemExit("test_ledger_forge: %s not found (build first)" % ctx.forge)
        if r.check("genesis with 4 authorities, one follower at block 0", check_start, ctx):
            for mode, reason in BAD_MODES:
                r.check("forged certificate '%s' is not applied" % mode, check_bad_mode, ctx,
                        mode, reason)
            r.check("empty certificate is dropped, not applied", check_empty, ctx)
            r.check("control: a valid certificate IS applied", check_valid, ctx)
            r.check("follower stops cleanly, no sanitizer report", check_stop, ctx)
        print("test_ledger_forge: %.1f s" % (time.monotonic() - t0), flush=True)
    sys.exit(r.exit_code())


if __name__ == "__main__":
    main()

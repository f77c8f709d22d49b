#!/usr/bin/env python3
"""test_testnet_demo: `scripts/testnet.sh demo` runs from start to end on the built programs,
and the testnet it makes is left running (KEEP=1) and stopped (down) as documented.

Scenarios (named checks, in order):
  1. `KEEP=1 NO_BUILD=1 scripts/testnet.sh demo` (9 nodes on free ports, in a temporary
     TESTNET_DIR, with --bindir's programs) exits 0. The demo checks each of its own steps
     (it exits non-zero naming the step that failed); on top, its output must show the
     data owner's flow in order: three genomes validated and registered, deny by default,
     the recruitment offer matched on each owner with its reason (Alice matches, Bob
     "model type logistic is denied", Carol "needs 1 audit, has 0"), Alice's sealed
     donation, Bob's and Carol's refusals, the audit that makes Carol match, her keyed
     donation, 2 donors on the spec, Carol's audit trail (VALIDATED, KEY_AUTHORIZED,
     DONATED), Alice's withdrawal (WITHDRAWN), the refused donation of the withdrawn record,
     the canary in no datadir, and the closing "demo done".
  2. KEEP=1 left all 9 nodes running `testnet.sh status`
     lists each with a height; `testnet.sh down` then stops every node process and removes
     the pid files.
  3. A demo that cannot start (a port of its range taken by a listening socket) exits
     non-zero naming the port, and leaves no node running.

    python3 test_testnet_demo.py --bindir BUILD_DIR [--keep]
"""

import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import Runner, expect, parse_args, wait_for  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "testnet.sh")
NODES = 9
DEMO_TIMEOUT = 420
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def ports_free(base, count):
    for p in range(base, base + count):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            return False
        finally:
            s.close()
    return True


def pick_base(rng, count):
    """A BASE_PORT with COUNT free ports, below the kernel's ephemeral range."""
    for _ in range(200):
        base = rng.randrange(20000, 31000)
        if ports_free(base, count):
            return base
    raise AssertionError("no %d free consecutive ports found" % count)


def script(st, *args, extra_env=None, timeout=60):
    env = dict(os.environ, TESTNET_DIR=st["dir"], BASE_PORT=str(st["base"]),
               BUILD_DIR=st["bindir"], NO_BUILD="1")
    env.update(extra_env or {})
    # files, not pipes: with KEEP=1 the script ends while its nodes run on
    out_path = os.path.join(os.path.dirname(st["dir"]), "script.out")
    err_path = os.path.join(os.path.dirname(st["dir"]), "script.err")
    t0 = time.monotonic()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        p = subprocess.run([SCRIPT] + list(args), stdout=out, stderr=err,
                           stdin=subprocess.DEVNULL, env=env, timeout=timeout)
    p.elapsed = time.monotonic() - t0
    with open(out_path) as f:
        p.stdout = f.read()
    with open(err_path) as f:
        p.stderr = f.read()
    p.text = ANSI.sub("", p.stdout)
    return p


def node_pids(st):
    pids = {}
    for i in range(NODES):
        path = os.path.join(st["dir"], "node%d" % i, "pid")
        if os.path.exists(path):
            with open(path) as f:
                pids[i] = int(f.read().strip())
    return pids


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (not reaped: the script that started it has exited) counts as gone
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def cleanup(st):
    """Stops whatever a failed check left running: `down`, then any pid still alive."""
    if not os.path.isdir(st.get("dir", "")):
        return
    seen = node_pids(st)
    try:
        script(st, "down", timeout=60)
    except subprocess.TimeoutExpired:
        pass
    for pid in seen.values():
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def in_order(text, needles):
    """Each needle found after the previous one; returns the first one missing, or None."""
    pos = 0
    for n in needles:
        at = text.find(n, pos)
        if at < 0:
            return n
        pos = at + len(n)
    return None


def check_demo(st):
    st["base"] = pick_base(st["rng"], NODES)
    print("  BASE_PORT %d, TESTNET_DIR %s" % (st["base"], st["dir"]))
    p = script(st, "demo", extra_env={"KEEP": "1"}, timeout=DEMO_TIMEOUT)
    st["demo"] = p
    if p.returncode != 0:
        print(p.text[-6000:])
        print(p.stderr[-3000:])
    expect(p.returncode == 0, "demo exited %d: %s" % (p.returncode, p.stderr.strip()[-500:]))
    t = p.text
    expect(t.count("tx_status:       committed") >= 4, "data adds and withdrawal committed")
    missing = in_order(t, [
        "9 nodes up",
        "attest certify", "registered",
        "Acme Genomics", "donors 0/2",
        "adds alice-genome.txt", "tx_status:       committed",
        "adds bob-genome.txt", "tx_status:       committed",
        "adds carol-genome.txt", "tx_status:       committed",
        "deny by default",
        "genie recruit",
        "match    ", "model type logistic and purpose research allowed",
        "no       ", "model type logistic is denied",
        "no       ", "needs 1 audit, has 0",
        "  donated  ",
        "refused  model type logistic is denied",
        "refused  needs 1 audit, has 0",
        "verdict:         ok",
        "1 audit (needs 1)",
        "  donated  ",
        "donors 2/2",
        "VALIDATED", "KEY_AUTHORIZED", "DONATED",
        "VALIDATED", "DONATED", "WITHDRAWN",
        "refused  withdrawn",
        "in none of",
        "hello from node 1",
        "signed recruitment posts only",
        "delivered to",
        "demo done"])
    expect(missing is None, "the demo's output lacks %r (in order)" % missing)
    m = re.search(r"demo done in (\d+)s", t)
    print("  demo exited 0 in %.1f s (it says %s s)" % (p.elapsed, m.group(1) if m else "?"))
    return True


def check_keep_down(st):
    pids = node_pids(st)
    expect(len(pids) == NODES and all(alive(x) for x in pids.values()),
           "KEEP=1: not every node is running: %r" % pids)
    p = script(st, "status")
    expect(p.returncode == 0, "status: %r" % p.stderr)
    rows = [ln.split() for ln in p.text.splitlines()[1:] if ln.strip()]
    expect(len(rows) == NODES and all(r[4].isdigit() and int(r[4]) > 0 for r in rows),
           "status rows: %s" % p.text)
    heights = [int(r[4]) for r in rows]
    p = script(st, "down")
    expect(p.returncode == 0 and "testnet stopped" in p.text, "down: %r" % p.stderr)
    wait_for(lambda: not any(alive(x) for x in pids.values()), timeout=15, interval=0.1,
             what="every node to exit")
    expect(not node_pids(st), "pid files left after down")
    print("  9 nodes kept running (heights %d..%d), then stopped by down" %
          (min(heights), max(heights)))
    return True


def check_failure(st):
    st["base"] = pick_base(st["rng"], NODES)
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", st["base"] + 3))
    blocker.listen(1)
    try:
        p = script(st, "demo", timeout=120)
    finally:
        blocker.close()
    expect(p.returncode != 0 and "port %d" % (st["base"] + 3) in p.stderr
           and "already in use" in p.stderr, "demo with a taken port: rc %d, %r" %
           (p.returncode, p.stderr))
    pids = node_pids(st)
    expect(not any(alive(x) for x in pids.values()), "nodes left running: %r" % pids)
    print("  refused: %s" % p.stderr.strip().splitlines()[0])
    return True


def main():
    args = parse_args()
    with Runner("test_testnet_demo", args) as r:
        seed = int.from_bytes(os.urandom(4), "big")
        print("seed %d" % seed)
        st = {"bindir": r.bindir, "dir": os.path.join(r.tmp, "testnet"),
              "rng": random.Random(seed)}
        for exe in ("genie-enclave", "genie-cohort"):
            expect(os.access(os.path.join(r.bindir, exe), os.X_OK), "%s not built" % exe)
        try:
            steps = (("the demo runs the data owner's whole flow and exits 0", check_demo),
                     ("KEEP=1 leaves the testnet running; down stops it", check_keep_down),
                     ("a demo that cannot start says why and leaves nothing running",
                      check_failure))
            for what, fn in steps:
                if r.check(what, fn, st) is None:
                    break
        finally:
            cleanup(st)
    sys.exit(r.exit_code())


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""test_enclave_async: a runner's enclave calls do not hold up its node, with real processes.

An enclave that takes long to answer is simulated exactly: its process is stopped
(SIGSTOP), so a call to it stays in flight until the test continues it (SIGCONT); no
timing decides the outcome.

Scenarios (named checks, in order):
  1. A 1-authority testnet whose genesis names an attestation service commits blocks.
  2. A certified runner (--role enclave-runner) spawns a training and a validation enclave;
     both are registered. A user node is linked to the runner.
  3. enclave_call's request, decoded off the loop by the method's prepare step: positional
     params work (a local PING, a PING relayed with wait), upper-case hex too; a request
     that is not hex, of odd length or empty is refused with the method's message. The
     request as the RPC's binary part (Content-Type application/x-genie-rpc: JSON, NUL,
     raw bytes; what `genie data donate` sends) is answered locally and relayed; a binary
     part with a hex request too, an empty one, and one sent to a method that takes none
     are refused.
  4. The training enclave is stopped; two enclave_call RPCs (PING, then STATS) to it are
     sent to the runner and wait there. While they wait, the same runner: answers
     `enclave local` (the enclave shows 2 calls queued), answers `genie status`, takes a
     transfer (`genie tx transfer` through it) that commits in a block its ledger
     follows, and relays the user node's call to its other
     enclave (a PONG comes back by p2p unicast). Then the training enclave is continued
     and both waiting calls get their real answers, in order (PONG, then STATS), not a
     timeout: they were in flight all along.
  5. Stopped again, the training enclave gets 32 calls queued (its bound): a 33rd is
     refused at once ("calls waiting already"); then it is killed (SIGKILL): all 32 calls
     fail with a reason that says the enclave died, and the runner restarts it.
  6. The validation enclave is stopped (SIGSTOP) with a call queued, then stopped by
     `genie enclave stop`: the call fails saying the enclave was stopped.

    python3 test_enclave_async.py --bindir BUILD_DIR [--keep]
"""

import base64
import json
import os
import signal
import sys
import threading
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (HEIGHT_TIMEOUT, START_TIMEOUT, Node, expect,  # noqa: E402
                           ledger_head, run_ledger_steps, spawn_registered, start_certified_runner,
                           start_fresh, wait_for, wait_heights, wait_registered)

CALL_WAIT = 60.0  # an RPC's own wait for its deferred answer
QUEUE_MAX = 32  # NODE_ENCLAVE_QUEUE_MAX: calls one enclave may have waiting

# enclave requests and answers (enclave/enclave_wire.h): [version 1, type, ...]
PING = bytes([0x92, 0x01, 0x02])
STATS = bytes([0x92, 0x01, 0x05])
PONG = bytes([0x92, 0x01, 0x42])
STATS_ANS_HEAD = bytes([0x94, 0x01, 0x45])


def check_start(net, st):
    st["as_key"], st["runner_id"] = net.start_attested()
    return True


def local_of(runner, local):
    """RUNNER's enclave_local entry (RPC: polled fast while calls queue) of LOCAL."""
    for e in runner.call("enclave_local"):
        if e["local"] == local:
            return e
    raise AssertionError("enclave %d not in enclave_local" % local)


def check_runner(net, st):
    runner, _ = start_certified_runner(net, st["as_key"], "runner", certify_as="runner-1")
    st["runner"] = runner
    st["enclaves"] = {}
    for kind in ("training", "validation"):
        e = spawn_registered(runner, kind)
        expect(e["spawn"]["pid"] > 0, "spawn %s: %r" % (kind, e["spawn"]))
        st["enclaves"][kind] = e
    user = Node(net.r, "user", genesis=net.genesis,
                peers=[net.nodes[0].address(), runner.address()])
    start_fresh(user, timeout=START_TIMEOUT)
    st["user"] = user
    return True


class Call(threading.Thread):
    """An enclave_call RPC to the runner, waiting in a thread for its deferred answer."""

    def __init__(self, node, enclave, request):
        super().__init__(daemon=True)
        self.node, self.enclave, self.request = node, enclave, request
        self.result, self.error = None, None

    def run(self):
        try:
            self.result = self.node.call("enclave_call", {"enclave": self.enclave,
                                                          "request": self.request.hex()},
                                         timeout=CALL_WAIT)
        except Exception as e:  # noqa: BLE001 - the test inspects it
            self.error = str(e)


def queue_calls(runner, e, requests):
    """Starts an enclave_call thread per request for enclave E, each only once the one
    before is queued on the runner (so their order is known); returns the threads once
    all are queued (enclave_local counts them)."""
    calls = []
    for i, req in enumerate(requests):
        c = Call(runner, e["id"], req)
        c.start()
        calls.append(c)
        want = i + 1
        wait_for(lambda: local_of(runner, e["local"])["calls"] >= want or
                 any(not x.is_alive() for x in calls),
                 timeout=30, interval=0.05, what="%d calls queued" % want)
        expect(all(x.is_alive() for x in calls),
               "a call to a stopped enclave ended early: %r" %
               [(x.result, x.error) for x in calls])
    return calls


def call_error(node, params):
    """The error text of an enclave_call with PARAMS that must fail."""
    try:
        res = node.call("enclave_call", params, timeout=CALL_WAIT)
    except RuntimeError as e:
        return str(e)
    raise AssertionError("enclave_call %r answered %r" % (params, res))


def call_binary(node, method, params, part):
    """A JSON-RPC call to NODE with PART as its binary part (node_rpc.h): (result, None) or
    (None, the error object)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                       "params": params}).encode() + b"\0" + part
    req = urllib.request.Request("http://%s/" % node.rpc_addr(), data=body, method="POST",
                                 headers={"Content-Type": "application/x-genie-rpc"})
    req.add_header("Authorization", "Basic " + base64.b64encode(node.cookie().encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=CALL_WAIT) as resp:
            data = json.loads(resp.read())
    except urllib.error.HTTPError as e:
        data = json.loads(e.read())
    return data.get("result"), data.get("error")


def check_binary(runner, user, t, v):
    """The request as the binary part: answered locally and relayed; refused with hex too,
    empty, or to a method that takes no binary part."""
    res, err = call_binary(runner, "enclave_call", {"enclave": t["id"]}, PING)
    expect(err is None and bytes.fromhex(res["answer"]) == PONG, "binary, local: %r" % err)
    res, err = call_binary(user, "enclave_call", {"enclave": v["id"], "wait": True}, PING)
    expect(err is None and res.get("state") == "done" and bytes.fromhex(res["answer"]) == PONG,
           "binary, relayed with wait: %r %r" % (res, err))
    for params, part, method, want in (
            ({"enclave": t["id"], "request": PING.hex()}, PING, "enclave_call", "not both"),
            ({"enclave": t["id"]}, b"", "enclave_call", "1 to"),
            ({}, PING, "enclave_local", "takes no binary part"),
            # a method whose own prepare step makes an attachment (the ledger's signature
            # checks) must not drop the part unseen
            (["00"], PING, "tx_submit", "takes no binary part")):
        res, err = call_binary(runner, method, params, part)
        expect(res is None and err["code"] == -32602 and want in err["message"],
               "%s with a binary part %r: %r %r" % (method, part, res, err))


def check_request(net, st):
    runner, user = st["runner"], st["user"]
    t, v = st["enclaves"]["training"], st["enclaves"]["validation"]
    res = runner.call("enclave_call", [t["id"], PING.hex()], timeout=CALL_WAIT)
    expect(bytes.fromhex(res["answer"]) == PONG, "positional, local: %r" % res)
    res = runner.call("enclave_call", {"enclave": t["id"], "request": PING.hex().upper()},
                      timeout=CALL_WAIT)
    expect(bytes.fromhex(res["answer"]) == PONG, "upper-case hex: %r" % res)
    res = user.call("enclave_call", [v["id"], PING.hex(), None, True], timeout=CALL_WAIT)
    expect(res.get("state") == "done" and bytes.fromhex(res["answer"]) == PONG,
           "positional, relayed with wait: %r" % res)
    for bad, want in (("zz0102", "not hex"), (PING.hex()[:-1], "hex of an encoded"),
                      ("", "hex of an encoded")):
        for node, eid in ((runner, t["id"]), (user, v["id"])):
            err = call_error(node, {"enclave": eid, "request": bad})
            expect(want in err, "request %r: %r" % (bad, err))
    err = call_error(runner, [t["id"], 12])
    expect("request" in err, "a request that is no string: %r" % err)
    check_binary(runner, user, t, v)
    print("  positional and upper-case requests answered; bad hex refused: %s" % err)
    return True


def check_loop_free(net, st):
    runner, user = st["runner"], st["user"]
    t, v = st["enclaves"]["training"], st["enclaves"]["validation"]
    os.kill(t["pid"], signal.SIGSTOP)
    try:
        calls = queue_calls(runner, t, [PING, STATS])
        # the runner's loop is free while they wait:
        s = runner.status()  # `genie status` (RPC)
        expect(s, "status: %r" % s)
        h0 = ledger_head(runner)["height"]
        # a transfer submitted to the runner (RPC), gossiped to the authority (p2p), in a
        # block the runner commits (no empty block comes before the 10 s heartbeat)
        c = runner.cli("tx", "transfer", "11" * 32, "1", "--wait", "30", timeout=60)
        expect(c.returncode == 0 and c.json and c.json["status"] == "committed",
               "transfer through the runner: %r" % c)
        wait_heights([runner], c.json["height"], HEIGHT_TIMEOUT, what="the runner's head")
        res = user.call("enclave_call", {"enclave": v["id"], "request": PING.hex(),
                                         "wait": True}, timeout=CALL_WAIT)
        expect(res.get("state") == "done" and bytes.fromhex(res["answer"]) == PONG,
               "relay to the other enclave: %r" % res)
        expect(all(c.is_alive() for c in calls), "the waiting calls ended while stopped")
        print("  while 2 calls waited on a stopped enclave: status answered, a transfer "
              "committed at %d (head was %d), a relayed call answered" %
              (c.json["height"], h0))
    finally:
        os.kill(t["pid"], signal.SIGCONT)
    for c in calls:
        c.join(CALL_WAIT + 5)
    expect(calls[0].error is None and bytes.fromhex(calls[0].result["answer"]) == PONG,
           "the PING: %r %r" % (calls[0].result, calls[0].error))
    expect(calls[1].error is None and
           bytes.fromhex(calls[1].result["answer"])[:3] == STATS_ANS_HEAD,
           "the STATS: %r %r" % (calls[1].result, calls[1].error))
    e = local_of(runner, t["local"])
    expect(e["restarts"] == 0 and e["pid"] == t["pid"] and e["calls"] == 0,
           "the enclave was not killed: %r" % e)
    return True


def check_death(net, st):
    runner = st["runner"]
    t = st["enclaves"]["training"]
    os.kill(t["pid"], signal.SIGSTOP)
    try:
        calls = [Call(runner, t["id"], PING) for _ in range(QUEUE_MAX)]
        for c in calls:
            c.start()
        wait_for(lambda: local_of(runner, t["local"])["calls"] == QUEUE_MAX or
                 any(not c.is_alive() for c in calls),
                 timeout=60, interval=0.05, what="%d calls queued" % QUEUE_MAX)
        expect(all(c.is_alive() for c in calls), "a queued call ended early")
        try:
            runner.call("enclave_call", {"enclave": t["id"], "request": PING.hex()},
                        timeout=CALL_WAIT)
            full = None
        except RuntimeError as e:
            full = str(e)
        expect(full and "calls waiting already" in full, "a call past the bound: %r" % full)
        print("  call %d is refused: %s" % (QUEUE_MAX + 1, full))
    finally:
        os.kill(t["pid"], signal.SIGKILL)
    for c in calls:
        c.join(CALL_WAIT + 5)
        expect(c.result is None and c.error and "died" in c.error,
               "a queued call to a killed enclave: %r %r" % (c.result, c.error))
    print("  %d queued calls failed: %s" % (len(calls), calls[-1].error))
    e = wait_registered(runner, t["local"], not_id=t["id"])
    expect(e["restarts"] == 1 and e["pid"] != t["pid"] and e["calls"] == 0,
           "restart: %r" % e)
    return True


def check_stop(net, st):
    runner = st["runner"]
    v = st["enclaves"]["validation"]
    os.kill(v["pid"], signal.SIGSTOP)
    calls = queue_calls(runner, v, [PING])
    c = runner.cli("enclave", "stop", str(v["local"]))
    expect(c.returncode == 0, "enclave stop: %r" % c)
    calls[0].join(CALL_WAIT + 5)
    expect(calls[0].result is None and "stopped" in (calls[0].error or ""),
           "a call to a stopped enclave: %r %r" % (calls[0].result, calls[0].error))
    print("  its call failed: %s" % calls[0].error)
    return True


STEPS = [
    ("a 1-authority attested testnet commits blocks", check_start),
    ("a runner with a training and a validation enclave, a linked user node", check_runner),
    ("enclave_call's request: positional, upper-case, malformed", check_request),
    ("calls waiting on a stopped enclave leave the runner's loop free", check_loop_free),
    ("a full queue refuses; queued calls fail when their enclave dies", check_death),
    ("a queued call fails when its enclave is stopped", check_stop),
]


def main():
    run_ledger_steps("test_enclave_async", STEPS)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""test_foundation: genie-node and the genie CLI at the foundation level.

Starts real nodes on loopback and checks: start-up files and their modes, status over
the CLI (JSON and human), the datadir lock, flag errors, a taken listen port, RPC
authentication and parse errors, account keys (with and without passphrase), clean
shutdown on SIGTERM and on `genie stop`, restart with the same identity, chain id
binding, and the CLI against a stopped node.

    python3 test_foundation.py --bindir BUILD_DIR
"""

import json
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (Node, Runner, expect, file_mode, free_port, parse_args,  # noqa: E402
                           place_key, run_cli, run_node_once)

HEX64 = re.compile(r"^[0-9a-f]{64}$")
STOP_TIMEOUT = 10.0


def check_help(r):
    p = run_node_once(r.bindir, ["--help"])
    expect(p.returncode == 0, "genie-node --help exit %d" % p.returncode)
    for flag in ("--datadir", "--listen", "--peer", "--role", "--genesis", "--rpc",
                 "--log-level", "--log-file", "--help", "--version"):
        expect(flag in p.stdout, "genie-node --help does not mention %s" % flag)
    expect("CurveZMQ" in p.stdout and "genie status" in p.stdout,
           "--help does not explain why --peer needs the node id")
    c = run_cli(r.bindir, ["--help"])
    expect(c.returncode == 0, "genie --help exit %d" % c.returncode)
    for cmd in ("status", "stop", "key new", "key list", "help"):
        expect(cmd in c.stdout, "genie --help does not list %r" % cmd)
    c = run_cli(r.bindir, ["help"])
    expect(c.returncode == 0 and "key new" in c.stdout, "genie help: %r" % c)


def check_bad_flags(r):
    d = os.path.join(r.tmp, "badflags")
    ok_listen = "tcp://127.0.0.1:%d" % free_port()
    cases = [
        [],                                                   # nothing
        ["--listen", ok_listen],                              # no --datadir
        ["--datadir", d],                                     # no --listen
        ["--datadir", d, "--listen", "127.0.0.1:7000"],       # no tcp://
        ["--datadir", d, "--listen", ok_listen, "--peer", "abc@tcp://127.0.0.1:7000"],
        ["--datadir", d, "--listen", ok_listen, "--role", "miner"],
        ["--datadir", d, "--listen", ok_listen, "--log-level", "loud"],
        ["--datadir", d, "--listen", ok_listen, "--rpc", "0.0.0.0:8000"],
        ["--datadir", d, "--listen", ok_listen, "--bogus"],
        ["--datadir", d, "--listen", ok_listen, "--datadir"],
        ["--datadir", d, "--listen", ok_listen, "stray"],
    ]
    for args in cases:
        p = run_node_once(r.bindir, args)
        expect(p.returncode == 2, "%r: exit %d, want 2 (stderr %r)" % (args, p.returncode,
                                                                        p.stderr))
        errs = [l for l in p.stderr.splitlines() if l.startswith("genie-node: error:")]
        expect(len(errs) == 1, "%r: want one error line, got %r" % (args, p.stderr))
        expect("genie-node --help" in p.stderr, "%r: no hint to --help" % (args,))
        expect(p.stdout == "", "%r: printed on stdout: %r" % (args, p.stdout))
    expect(not os.path.exists(d), "a usage error created the datadir")
    # CLI usage errors: exit 2, one line.
    for args in (["--datadir", d, "frobnicate"], ["--datadir", d, "key"], ["--bogus"], []):
        c = run_cli(r.bindir, args)
        expect(c.returncode == 2, "genie %r: exit %d, want 2" % (args, c.returncode))
        expect(len(c.error_lines()) == 1, "genie %r: stderr %r" % (args, c.stderr))


def check_startup_files(a):
    dd = a.datadir
    for f in ("rpc.addr", "rpc.cookie", "node.key", "LOCK", "chain_id"):
        expect(os.path.exists(os.path.join(dd, f)), "%s missing after start" % f)
    expect(file_mode(dd) == 0o700, "datadir mode %o" % file_mode(dd))
    expect(file_mode(os.path.join(dd, "accounts")) == 0o700, "accounts/ not 0700")
    expect(file_mode(os.path.join(dd, "rpc.cookie")) == 0o600, "rpc.cookie not 0600")
    expect(file_mode(os.path.join(dd, "node.key")) == 0o600, "node.key not 0600")
    with open(os.path.join(dd, "LOCK")) as f:
        expect(f.read().strip() == str(a.pid), "LOCK does not hold the node's pid")
    expect(re.match(r"^127\.0\.0\.1:\d+$", a.rpc_addr()), "rpc.addr %r" % a.rpc_addr())


def check_status_json(r, a):
    after = a.cli("status")  # --json after the command
    before = run_cli(r.bindir, ["--json", "--datadir", a.datadir, "status"])
    expect(before.returncode == 0, "genie --json status: %r" % before)
    for s in (after.json, json.loads(before.stdout)):
        expect(s is not None, "status --json: %r" % after)
        expect(HEX64.match(s["node_id"]), "node_id %r" % s["node_id"])
        expect(s["listen"] == a.listen, "listen %r, want %r" % (s["listen"], a.listen))
        expect(s["roles"] == ["authority", "trainer"], "roles %r" % s["roles"])
        expect(s["address"] == "%s@%s" % (s["node_id"], a.listen[0]),
               "address %r" % s["address"])
        expect(HEX64.match(s["chain_id"]), "chain_id %r" % s["chain_id"])
        expect(s["pid"] == a.pid, "pid %r, want %r" % (s["pid"], a.pid))
        expect(s["version"] == "0.1.0", "version %r" % s["version"])
        expect(isinstance(s["uptime_s"], int) and s["uptime_s"] >= 0,
               "uptime %r" % s["uptime_s"])
    return after.json["node_id"]


def check_status_human(a, node_id):
    r = a.cli("status", json_out=False)
    expect(r.returncode == 0, "status failed: %r" % r)
    expect(node_id in r.stdout, "human status lacks the node id: %r" % r.stdout)
    expect(("%s@%s" % (node_id, a.listen[0])) in r.stdout, "human status lacks the address")
    expect(re.search(r"^roles:\s+authority, trainer$", r.stdout, re.M), "roles line: %r" % r.stdout)


def check_rpc_url_mode(r, a, node_id):
    url = "http://%s/" % a.rpc_addr()
    cookie = os.path.join(a.datadir, "rpc.cookie")
    c = run_cli(r.bindir, ["--rpc", url, "--cookie", cookie, "status"], json_out=True)
    expect(c.returncode == 0 and c.json["node_id"] == node_id, "--rpc/--cookie status: %r" % c)


def check_datadir_in_use(r, a):
    p = run_node_once(r.bindir, ["--datadir", a.datadir, "--listen",
                                 "tcp://127.0.0.1:%d" % free_port()])
    expect(p.returncode == 1, "second node on the datadir: exit %d" % p.returncode)
    errs = [l for l in p.stderr.splitlines() if l.startswith("genie-node: error:")]
    expect(len(errs) == 1 and "in use" in errs[0] and ("pid %d" % a.pid) in errs[0],
           "in-use message: %r" % p.stderr)
    expect(a.alive(), "the first node died")
    expect(os.path.exists(os.path.join(a.datadir, "rpc.cookie")),
           "the second node removed the first one's cookie")


def check_port_taken(r, a):
    d = os.path.join(r.tmp, "porttaken")
    p = run_node_once(r.bindir, ["--datadir", d, "--listen", a.listen[0]])
    expect(p.returncode == 1, "listen on a taken port: exit %d (stderr %r)" % (p.returncode,
                                                                             p.stderr))
    errs = [l for l in p.stderr.splitlines() if l.startswith("genie-node: error:")]
    expect(len(errs) == 1 and a.listen[0] in errs[0], "taken-port message: %r" % p.stderr)
    expect(not os.path.exists(os.path.join(d, "LOCK")), "LOCK left behind after failure")
    expect(not os.path.exists(os.path.join(d, "rpc.cookie")), "cookie left after failure")
    expect(a.alive(), "the first node died")


def check_rpc_auth(a):
    body = '{"jsonrpc":"2.0","id":1,"method":"status"}'
    for auth in ("__cookie__:" + "0" * 64, None, "someone:else"):
        status, resp = a.rpc_raw(body, auth=auth)
        expect(status == 401, "auth %r: HTTP %d, want 401" % (auth, status))
        expect(resp is not None and resp.get("error", {}).get("code") == -32001,
               "auth %r: body %r" % (auth, resp))
    status, resp = a.rpc_raw(body)
    expect(status == 200 and resp["result"]["pid"] == a.pid, "right cookie: %r" % resp)


def check_rpc_errors(a):
    status, resp = a.rpc_raw('{"jsonrpc":"2.0","id":1,"method":')
    expect(resp is not None and resp.get("error", {}).get("code") == -32700,
           "malformed JSON: HTTP %d %r" % (status, resp))
    status, resp = a.rpc_raw('{"jsonrpc":"2.0","id":7,"method":"no_such_method"}')
    expect(resp is not None and resp.get("error", {}).get("code") == -32601,
           "unknown method: HTTP %d %r" % (status, resp))
    expect(a.alive(), "node died on bad RPC")


def check_keys(r, a, node_id):
    # Unencrypted account key.
    k1 = a.cli("key", "new", "--no-passphrase")
    expect(k1.returncode == 0 and k1.json, "key new --no-passphrase: %r" % k1)
    id1 = k1.json["account_id"]
    expect(HEX64.match(id1) and k1.json["encrypted"] is False, "key new: %r" % k1.json)
    path1 = os.path.join(a.datadir, "accounts", id1 + ".key")
    expect(os.path.exists(path1) and file_mode(path1) == 0o600, "account key file/mode")
    # Encrypted, passphrase from a file (first line only).
    pw = os.path.join(r.tmp, "passphrase.txt")
    with open(pw, "w") as f:
        f.write("correct horse battery staple\nignored second line\n")
    k2 = a.cli("key", "new", "--passphrase-file", pw)
    expect(k2.returncode == 0 and k2.json and k2.json["encrypted"] is True,
           "key new --passphrase-file: %r" % k2)
    id2 = k2.json["account_id"]
    path2 = os.path.join(a.datadir, "accounts", id2 + ".key")
    expect(file_mode(path2) == 0o600, "encrypted key file mode %o" % file_mode(path2))
    with open(path2, "rb") as f:
        expect(b"correct horse" not in f.read(), "passphrase stored in the key file")
    # Encrypted, passphrase from the environment; human output.
    k3 = a.cli("key", "new", json_out=False, env={"GENIE_PASSPHRASE": "from-env"})
    expect(k3.returncode == 0, "key new with GENIE_PASSPHRASE: %r" % k3)
    m = re.search(r"^account:\s+([0-9a-f]{64})$", k3.stdout, re.M)
    expect(m, "human key new output: %r" % k3.stdout)
    id3 = m.group(1)
    # No passphrase source and no terminal: a clear error, no file.
    before = set(os.listdir(os.path.join(a.datadir, "accounts")))
    k4 = a.cli("key", "new", env={"GENIE_PASSPHRASE": None})
    expect(k4.returncode == 1 and len(k4.error_lines()) == 1
           and "--no-passphrase" in k4.stderr, "key new without a passphrase: %r" % k4)
    expect(set(os.listdir(os.path.join(a.datadir, "accounts"))) == before,
           "a failed key new left a file")
    # Usage errors.
    k5 = a.cli("key", "new", "--no-passphrase", "--passphrase-file", pw)
    expect(k5.returncode == 2, "conflicting key new flags: %r" % k5)
    # Listing: the node key plus the three accounts, public parts only.
    lst = a.cli("key", "list")
    expect(lst.returncode == 0 and isinstance(lst.json, list), "key list --json: %r" % lst)
    by_id = {e["id"]: e for e in lst.json}
    expect(by_id.get(node_id, {}).get("kind") == "node"
           and by_id[node_id]["encrypted"] is False, "node key in list: %r" % lst.json)
    for acc, enc in ((id1, False), (id2, True), (id3, True)):
        e = by_id.get(acc)
        expect(e and e["kind"] == "account" and e["encrypted"] is enc,
               "account %s in list: %r" % (acc[:8], e))
    # (and the authority key the test placed in accounts/)
    expect(len(lst.json) == 5, "key list has %d entries, want 5" % len(lst.json))
    human = a.cli("key", "list", json_out=False)
    expect(human.returncode == 0 and id2 in human.stdout and node_id in human.stdout,
           "human key list: %r" % human)
    # Works without a running node and without --datadir it is a usage error.
    c = run_cli(r.bindir, ["key", "list"])
    expect(c.returncode == 2, "key list without --datadir: %r" % c)


def check_sigterm(r, a, node_id):
    code = a.stop(signal.SIGTERM, timeout=STOP_TIMEOUT)
    expect(code == 0, "exit status after SIGTERM: %d" % code)
    for f in ("rpc.cookie", "rpc.addr", "LOCK"):
        expect(not os.path.exists(os.path.join(a.datadir, f)), "%s left after SIGTERM" % f)
    with open(a.log_path) as f:
        expect("shutdown complete" in f.read(), "no 'shutdown complete' in the log")
    # The lock is free: a new node starts on the same datadir with the same identity.
    b = Node(r, "a", listen=a.listen, roles="authority,trainer", datadir=a.datadir).start()
    s = b.status()
    expect(s["node_id"] == node_id, "node id changed across restart")
    return b


def check_cli_stop(b):
    c = b.cli("stop", json_out=False)
    expect(c.returncode == 0, "genie stop: %r" % c)
    code = b.wait_exit(STOP_TIMEOUT)
    expect(code == 0, "exit status after genie stop: %d" % code)
    expect(not os.path.exists(os.path.join(b.datadir, "rpc.cookie")), "cookie left after stop")


def check_status_stopped(b):
    c = b.cli("status")
    expect(c.returncode == 1, "status against a stopped node: exit %d" % c.returncode)
    lines = c.error_lines()
    expect(len(lines) == 1 and ("not running" in lines[0] or "running" in lines[0]
                                or "cannot connect" in lines[0]),
           "status against a stopped node: %r" % c.stderr)


def check_sigint(r):
    n = Node(r, "sigint").start()
    code = n.stop(signal.SIGINT, timeout=STOP_TIMEOUT)
    expect(code == 0, "exit status after SIGINT: %d" % code)
    expect(not os.path.exists(os.path.join(n.datadir, "LOCK")), "LOCK left after SIGINT")


def check_genesis(r):
    # A p2p-only network named by --chain-name: the datadir is bound to its chain id.
    n = Node(r, "genesis", extra=["--chain-name", "one"]).start()
    chain = n.status()["chain_id"]
    expect(n.stop(timeout=STOP_TIMEOUT) == 0, "chain-name node did not stop cleanly")
    # Another network on the same datadir is refused.
    p = run_node_once(r.bindir, ["--datadir", n.datadir, "--listen", n.listen[0],
                                 "--chain-name", "two"])
    errs = [l for l in p.stderr.splitlines() if l.startswith("genie-node: error:")]
    expect(p.returncode == 1 and len(errs) == 1 and "chain" in errs[0],
           "different chain: exit %d %r" % (p.returncode, p.stderr))
    m = Node(r, "genesis", datadir=n.datadir, listen=n.listen,
             extra=["--chain-name", "one"]).start()
    expect(m.status()["chain_id"] == chain, "same --chain-name, other chain id")
    expect(m.stop(timeout=STOP_TIMEOUT) == 0, "chain-name node did not stop cleanly")
    # A ledger genesis is copied to DIR/genesis.json and used from there on restart.
    gdir = os.path.join(r.tmp, "genesis-one")
    c = run_cli(r.bindir, ["genesis", "new", "--authorities", "1", "--out", gdir])
    expect(c.returncode == 0, "genesis new: %r" % c)
    g1 = os.path.join(gdir, "genesis.json")
    with open(g1) as f:
        g1_text = f.read()
    n = Node(r, "ledger", genesis=g1).start()
    chain = n.status()["chain_id"]
    expect(n.stop(timeout=STOP_TIMEOUT) == 0, "genesis node did not stop cleanly")
    with open(os.path.join(n.datadir, "genesis.json")) as f:
        expect(f.read() == g1_text, "genesis.json is not a copy of --genesis")
    m = Node(r, "ledger", datadir=n.datadir, listen=n.listen).start()
    expect(m.status()["chain_id"] == chain, "stored genesis not used on restart")
    expect(m.stop(timeout=STOP_TIMEOUT) == 0, "genesis node did not stop cleanly")
    # Files that are not a ledger genesis, and roles that need a ledger without one: a
    # start-up error with the reason, exit 1, and no datadir left behind.
    bad = {"random": os.urandom(200), "empty": b"", "truncated": g1_text[:120].encode(),
           "json-not-genesis": b'{"chain": "one"}\n'}
    cases = []
    for name, data in bad.items():
        path = os.path.join(r.tmp, "bad-%s.json" % name)
        with open(path, "wb") as f:
            f.write(data)
        cases.append((["--role", "authority", "--genesis", path], "not a valid ledger genesis"))
        cases.append((["--genesis", path], "not a valid ledger genesis"))
    for role in ("authority", "data-owner", "trainer", "enclave-runner", "auditor"):
        cases.append((["--role", role], "needs a ledger"))
        cases.append((["--role", role, "--chain-name", "one"], "needs a ledger"))
    cases.append((["--genesis", os.path.join(r.tmp, "missing.json")], "missing.json"))
    for i, (args, want) in enumerate(cases):
        d = os.path.join(r.tmp, "refused-%d" % i)
        p = run_node_once(r.bindir, ["--datadir", d, "--listen",
                                     "tcp://127.0.0.1:%d" % free_port()] + args)
        errs = [l for l in p.stderr.splitlines() if l.startswith("genie-node: error:")]
        expect(p.returncode == 1 and len(errs) == 1 and want in errs[0],
               "%r: exit %d, want 1 with %r: %r" % (args, p.returncode, want, p.stderr))
        expect(not os.path.exists(d), "%r: a datadir was created although refused" % (args,))


def check_block_params(a):
    # A height of the wrong type is answered about the height, not about a hash.
    for params, want in (({"height": "abc"}, "'height'"), ({"height": -1}, "'height'"),
                         ({"hash": "xyz"}, "'hash'"), (["abc"], "'hash'"), ({}, "give")):
        try:
            a.call("block", params)
            expect(False, "block %r answered" % (params,))
        except RuntimeError as e:
            expect(want in str(e) and "-32602" in str(e), "block %r: %s" % (params, e))
    expect(a.call("block", {"height": 0})["height"] == 0, "block 0 (genesis) not served")


def check_status_rooms(a):
    # the authority role (a validator key) joins room consensus at start (node_ledger), the
    # trainer role room recruitment (node_market)
    expect(a.status()["rooms"] == ["consensus", "recruitment"],
           "status rooms before joining: %r" % a.status()["rooms"])
    j = a.cli("room", "join", "lobby")
    expect(j.returncode == 0, "room join: %r" % j)
    expect(a.status()["rooms"] == ["consensus", "recruitment", "lobby"],
           "status rooms: %r" % a.status()["rooms"])
    human = a.cli("status", json_out=False)
    expect(re.search(r"^rooms:\s+consensus, recruitment, lobby$", human.stdout, re.M),
           "human status: %r" % human.stdout)
    lv = a.cli("room", "leave", "lobby")
    expect(lv.returncode == 0 and a.status()["rooms"] == ["consensus", "recruitment"],
           "room leave: %r" % lv)


def run_checks(r):
    r.check("help texts", check_help, r)
    r.check("bad flags exit 2 with one line", check_bad_flags, r)
    gdir = os.path.join(r.tmp, "genesis-a")
    c = run_cli(r.bindir, ["genesis", "new", "--authorities", "1", "--out", gdir])
    expect(c.returncode == 0, "genesis new: %r" % c)
    a = Node(r, "a", roles="authority,trainer", genesis=os.path.join(gdir, "genesis.json"))
    place_key(os.path.join(gdir, "authority-1.key"), a.datadir)
    if r.check("node starts and answers", a.start) is None:
        return
    r.check("start-up files and modes", check_startup_files, a)
    node_id = r.check("status --json", check_status_json, r, a)
    if node_id:
        r.check("status human output", check_status_human, a, node_id)
        r.check("status through --rpc URL --cookie FILE", check_rpc_url_mode, r, a, node_id)
    r.check("second node on the same datadir", check_datadir_in_use, r, a)
    r.check("listen port already taken", check_port_taken, r, a)
    r.check("rpc with wrong credentials", check_rpc_auth, a)
    r.check("rpc parse and method errors", check_rpc_errors, a)
    r.check("block parameters", check_block_params, a)
    r.check("status shows the rooms", check_status_rooms, a)
    if node_id:
        r.check("account keys", check_keys, r, a, node_id)
        b = r.check("SIGTERM stops cleanly; restart keeps the id", check_sigterm, r, a,
                    node_id)
        if b:
            r.check("genie stop", check_cli_stop, b)
            r.check("status against a stopped node", check_status_stopped, b)
    r.check("SIGINT stops cleanly", check_sigint, r)
    r.check("genesis and chain id binding", check_genesis, r)


def main():
    args = parse_args()
    with Runner("test_foundation", args) as r:  # kills every node on the way out
        run_checks(r)
    return r.exit_code()


if __name__ == "__main__":
    sys.exit(main())

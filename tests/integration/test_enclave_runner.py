#!/usr/bin/env python3
"""test_enclave_runner: the enclave-runner role end to end, with real processes.

Scenarios (named checks, in order):
  1. A 1-authority testnet whose genesis names an attestation service commits blocks.
  2. A runner node (--role enclave-runner) makes its platform key on first start
     (DIR/platform/platform.key, mode 0600, uncertified); the attestation service
     certifies it naming the runner account (whose key the runner holds), and
     `genie enclave cert-install` installs the certificate.
  3. `genie enclave spawn` of each kind: every enclave runs, and is registered on the
     ledger automatically (`enclave local` says registered with a height; `enclave list`
     on another node shows it with the runner account, kind and measurement).
  4. kill -9 of the training enclave's process: the runner restarts it (restarts 1, a new
     pid) and registers the new start (a new enclave id, listed on the ledger), then
     retires the old start's registration (ENCLAVE_RETIRE): `enclave list` on another node
     shows the old id "retired" (at or after the new one's height) and the new one
     "active".
  5. A data-owner node (linked to the runner, and to a second runner without enclaves,
     which its calls may try first) validates a CSV phenotype table and a 23andMe
     file (made by genie-cohort) with `genie data validate`: each is sealed by the CLI to
     the validation enclave's registered box key, relayed by p2p unicast through the
     runner, and the signed report verifies against the registered signing key and
     commits to the file; `genie data donate` seals a file to the training enclave and the
     receipt verifies the same way.
  6. What the runner handles is sealed only: its relay refuses a plaintext VALIDATE
     request (the one enclave request type that carries data in clear), and a marker
     string of the donated file appears in none of the runner's logs. (The runner's memory
     is not inspected: it only ever holds the sealed request and the answer, because the
     relay passes the bytes on without a key to open them; the simulation cannot prove
     more, see enclave/README.md.)
  7. `genie enclave stop` stops one, and its registration is listed "retired"; the
     runner's shutdown stops the rest (no enclave process is left).
  8. Their registrations stay active on the ledger (their enclaves are gone): the runner,
     started again on the same datadir with no enclave spawned, retires each of them by
     itself, and none of the runner's registrations is left active.

    python3 test_enclave_runner.py --bindir BUILD_DIR [--keep]
"""

import os
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (HEIGHT_TIMEOUT, Node, REG_TIMEOUT, START_TIMEOUT,  # noqa: E402
                           certify_runner, enclave_local, expect, run_ledger_steps,
                           spawn_registered, start_fresh, start_runner, wait_for, wait_heights,
                           wait_registered)

KINDS = ("validation", "training", "query")


def check_start(net, st):
    st["as_key"], st["runner_id"] = net.start_attested()
    return True


def check_runner_platform(net, st):
    # the runner account: the key the certificate will name (here the authority's account,
    # which exists on the chain)
    runner, account = start_runner(net, "runner")
    expect(account == st["runner_id"], "runner account %s" % account)
    st["runner"] = runner
    key = os.path.join(runner.datadir, "platform", "platform.key")
    expect(os.path.exists(key) and stat.S_IMODE(os.stat(key).st_mode) == 0o600,
           "platform.key missing or not 0600")
    c = runner.cli("enclave", "platform")
    expect(c.returncode == 0 and c.json and c.json["certified"] is False, "platform: %r" % c)
    installed = certify_runner(net, runner, st["as_key"], "runner-1", st["runner_id"])
    expect(installed["platform_pk"] == c.json["platform_pk"]
           and installed["runner_account"] == st["runner_id"], "cert-install: %r" % installed)
    st["platform_pk"] = installed["platform_pk"]
    return True


def local_of(runner, local):
    """RUNNER's `enclave local` entry of LOCAL, which must be there."""
    e = enclave_local(runner, local)
    expect(e is not None, "enclave %d not in %s's enclave local" % (local, runner.name))
    return e


def listed(node, eid):
    c = node.cli("enclave", "list")
    expect(c.returncode == 0, "enclave list: %r" % c)
    for e in c.json:
        if e["id"] == eid:
            return e
    return None


def check_spawn_register(net, st):
    runner, auth = st["runner"], net.nodes[0]
    st["enclaves"] = {}
    for kind in KINDS:
        t0 = time.monotonic()
        e = spawn_registered(runner, kind)
        expect(e["spawn"]["kind"] == kind and e["spawn"]["pid"] > 0, "spawn %s: %r" % (kind, e))
        print("  %s: local %d, pid %d, registered at height %d (%.2f s after spawn)" %
              (kind, e["local"], e["pid"], e["registered_height"], time.monotonic() - t0))
        expect(e["status"] == "running" and e["restarts"] == 0, "local: %r" % e)
        le = listed(auth, e["id"])
        expect(le is not None and le["kind"] == kind and le["runner"] == st["runner_id"]
               and le["measurement"] == e["measurement"] and le["status"] == "active"
               and le["platform_pk"] == st["platform_pk"], "listed: %r" % le)
        st["enclaves"][kind] = e
    return True


def check_restart(net, st):
    runner, auth = st["runner"], net.nodes[0]
    old = st["enclaves"]["training"]
    os.kill(old["pid"], signal.SIGKILL)
    e = wait_registered(runner, old["local"], not_id=old["id"])
    expect(e["restarts"] == 1 and e["pid"] != old["pid"] and e["status"] == "running",
           "after kill -9: %r" % e)
    expect(listed(auth, e["id"]) is not None, "the new start is not listed")
    print("  restarted: pid %d -> %d, enclave %s... -> %s..., registered at %d" %
          (old["pid"], e["pid"], old["id"][:12], e["id"][:12], e["registered_height"]))
    # the old start's registration is retired by the runner; the new one stays active
    gone = wait_retired(auth, old["id"])
    expect(gone["retired_height"] >= e["registered_height"] and gone["kind"] == "training"
           and gone["runner"] == st["runner_id"], "old start after retirement: %r" % gone)
    new = listed(auth, e["id"])
    expect(new is not None and new["status"] == "active", "new start: %r" % new)
    print("  old enclave %s... retired at height %d; %s... active" %
          (old["id"][:12], gone["retired_height"], e["id"][:12]))
    st["enclaves"]["training"] = e
    return True


def wait_retired(node, eid, timeout=REG_TIMEOUT):
    got = {}

    def ok():
        got["e"] = listed(node, eid)
        return got["e"] is not None and got["e"]["status"] == "retired"
    wait_for(ok, timeout=timeout, interval=0.2, what="enclave %s... retired" % eid[:12])
    return got["e"]


def check_data_owner(net, st):
    r, runner, auth = net.r, st["runner"], net.nodes[0]
    # a second runner that runs no enclave: the owner's calls (which name no runner) may try
    # it first, and must then go on to the runner that has the enclave
    idle = Node(r, "runner2", roles="enclave-runner", genesis=net.genesis,
                peers=[auth.address()])
    start_fresh(idle, timeout=START_TIMEOUT)
    owner = Node(r, "owner", roles="data-owner", genesis=net.genesis,
                 peers=[auth.address(), idle.address(), runner.address()])
    start_fresh(owner, timeout=START_TIMEOUT)
    st["owner"] = owner
    cohort = os.path.join(r.tmp, "cohort")
    p = subprocess.run([os.path.join(r.bindir, "genie-cohort"), "--out", cohort, "--samples",
                        "40", "--snps", "200", "--csv", "--23andme", "--seed", "7"],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, "genie-cohort: %r" % p.stderr)
    csv = os.path.join(cohort, "phenotypes.csv")
    d23 = os.path.join(cohort, "23andme")
    g = os.path.join(d23, sorted(os.listdir(d23))[0])
    # wait until the owner sees the registrations and is linked to the runner
    wait_heights([owner], st["enclaves"]["training"]["registered_height"], HEIGHT_TIMEOUT)
    val = st["enclaves"]["validation"]["id"]
    for path, typ in ((csv, "csv"), (g, "23andme")):
        c = None

        def ok():
            nonlocal c
            c = owner.cli("data", "validate", path, "--enclave", val, "--type", typ)
            if c.returncode != 0:
                print("  (not yet: %s)" % " ".join(c.error_lines()))
            return c.returncode == 0
        wait_for(ok, timeout=30, interval=0.5, what="validate %s" % typ)
        j = c.json
        expect(j["signature_valid"] is True and j["commitment_matches"] is True
               and j["records"] > 0 and j["acceptable"] is True, "validate %s: %r" % (typ, j))
        print("  validated %s: %d records, %d/%d checks, signed by the registered key" %
              (typ, j["records"], j["checks_passed"], j["checks_run"]))
    # a file with a marker, donated to the training enclave
    marker = "GENIE-PLAINTEXT-MARKER-%d" % os.getpid()
    with open(csv) as f:
        text = f.read()
    lines = text.splitlines()
    donated = os.path.join(r.tmp, "donation.csv")
    with open(donated, "w") as f:
        f.write("\n".join(lines) + "\n")
        f.write("# %s\n" % marker)
    st["marker"] = marker
    tr = st["enclaves"]["training"]["id"]
    c = owner.cli("data", "donate", csv, "--enclave", tr, "--donor", st["runner_id"])
    expect(c.returncode == 0 and c.json["signature_valid"] is True
           and c.json["commitment_matches"] is True and c.json["donor"] == st["runner_id"],
           "donate: %r" % c)
    print("  donation receipt for data %s... verifies against the registered key" %
          c.json["data_id"][:16])
    c = owner.cli("data", "donate", donated, "--enclave", tr)
    expect(c.returncode == 0, "donate (marker file): %r" % c)
    # the validation enclave is not a training enclave: a donation to it is refused
    c = owner.cli("data", "donate", csv, "--enclave", val)
    expect(c.returncode != 0, "donate to a validation enclave: %r" % c)
    return True


def check_sealed_only(net, st):
    runner, owner = st["runner"], st["owner"]
    # a plaintext VALIDATE: [version 1, type 3, data type 2, salt bin32, data bin]
    data = ("id,%s\n1,2\n" % st["marker"]).encode()
    req = bytes([0x95, 0x01, 0x03, 0x02, 0xc4, 32]) + bytes(32) + bytes([0xc4, len(data)]) + data
    val = st["enclaves"]["validation"]["id"]
    res = owner.call("enclave_call", {"enclave": val, "request": req.hex()})
    expect("call" in res, "enclave_call: %r" % res)

    got = {}

    def done():
        got["r"] = owner.call("enclave_call_result", {"call": res["call"]})
        return got["r"]["state"] != "pending"
    wait_for(done, timeout=20, interval=0.05, what="the relay's answer")
    expect(got["r"]["state"] == "failed" and "not relayed" in got["r"]["error"],
           "plaintext VALIDATE was relayed: %r" % got["r"])
    print("  plaintext request refused: %s" % got["r"]["error"])
    with open(runner.log_path, "rb") as f:
        log = f.read()
    expect(st["marker"].encode() not in log, "the runner's log holds the plaintext marker")
    return True


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def check_stop(net, st):
    runner = st["runner"]
    q = st["enclaves"]["query"]
    c = runner.cli("enclave", "stop", str(q["local"]))
    expect(c.returncode == 0, "stop: %r" % c)
    expect(local_of(runner, q["local"])["status"] == "stopped", "not stopped")
    expect(not alive(q["pid"]), "the stopped enclave's process is still there")
    gone = wait_retired(net.nodes[0], q["id"])
    print("  stopped query enclave %s... retired at height %d" %
          (q["id"][:12], gone["retired_height"]))
    pids = [local_of(runner, e["local"])["pid"] for e in st["enclaves"].values()
            if e["kind"] != "query"]
    runner.stop()
    for p in pids:
        expect(not alive(p), "enclave pid %d survived the runner's shutdown" % p)
    return True


def check_leftovers(net, st):
    """The runner stopped with registrations still active (its validation and training
    enclaves died with it): started again on the same datadir, with no enclave spawned,
    it retires every one of them by itself (its sweep of the committed registry)."""
    auth, runner = net.nodes[0], st["runner"]
    c = auth.cli("enclave", "list")
    expect(c.returncode == 0 and isinstance(c.json, list), "enclave list: %r" % c)
    left = [e["id"] for e in c.json
            if e["runner"] == st["runner_id"] and e["status"] == "active"]
    expect(len(left) >= 2, "the stopped runner left no active registration: %r" % c.json)
    start_fresh(runner, timeout=START_TIMEOUT)
    heights = [wait_retired(auth, eid)["retired_height"] for eid in left]
    c = auth.cli("enclave", "list")
    active = [e for e in c.json or []
              if e["runner"] == st["runner_id"] and e["status"] == "active"]
    expect(c.returncode == 0 and not active, "still active after the restart: %r" % active)
    print("  restarted runner retired %d registrations of its earlier run (heights %s)" %
          (len(left), ", ".join(str(h) for h in heights)))
    runner.stop()
    return True


STEPS = (
    ("a 1-authority testnet with an attestation service", check_start),
    ("a runner's platform key is made, certified and installed", check_runner_platform),
    ("spawned enclaves of each kind register automatically", check_spawn_register),
    ("a killed enclave is restarted and re-registered", check_restart),
    ("a data owner validates and donates through the runner", check_data_owner),
    ("the runner relays sealed bytes only", check_sealed_only),
    ("enclave stop, and the runner's shutdown, stop the enclaves", check_stop),
    ("a restarted runner retires what its earlier run left registered", check_leftovers),
)


def main():
    run_ledger_steps("test_enclave_runner", STEPS)


if __name__ == "__main__":
    main()

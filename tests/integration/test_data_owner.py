#!/usr/bin/env python3
"""test_data_owner: the data owner's side (issue 15): data registration, consent, audit and
withdrawal, with real processes.

Scenarios (named checks, in order):
  1. A 1-authority testnet whose genesis names an attestation service commits blocks; an
     enclave runner (certified platform) spawns a validation enclave that registers.
  2. A data-owner node (--role data-owner, its own fresh account key, linked to the
     authority and the runner) runs `genie data add FILE --type genotype` on a synthetic
     23andMe file (genie-cohort) holding a canary string: the node seals it to the
     registered validation enclave, which the runner reaches by p2p unicast; the signed
     report is checked, the file is encrypted into DATADIR/data (records 0600) and
     DATA_REGISTER commits (--wait). The ledger record names the validation enclave.
  3. `genie data list` / `data show` show the record (active, local, its height and its
     VALIDATED use).
  4. Consent: deny by default shown before anything is set; `consent set` (default:
     allow prs,logistic for research, deny commercial, max epsilon 1.5, 1 audit) and a
     per-record override (`--data ID`, wildcard types) round trip through `consent show`
     (the override is the one in force); `consent revoke` of the override puts the default
     back in force, of the default shows deny by default again; bad names are refused.
  5. `genie data withdraw ID` marks the record withdrawn (with its height); a second
     withdrawal is refused with the reason; `genie audit` shows VALIDATED and WITHDRAWN
     with their heights and txids.
  6. Bad input is refused with a reason: a malformed file, a file over 1,000 KiB, an
     unknown --type (CLI usage error, and the RPC's own refusal), a missing file, an
     --enclave that is no registered validation enclave.
  7. Larger files: a 200 KiB and a 600 KiB genotype file register through the runner (a
     relayed call carries up to 1 MiB - 8 KiB: one p2p unicast).
  8. A node that is both a runner and a data owner validates a file of nearly 1,000 KiB
     in its own enclave (chosen before the first runner's), and registers it.
  9. Canary: the unique string in the added file is afterwards found in no file under any
     datadir and in no log (the owner's original file excepted).

    python3 test_data_owner.py --bindir BUILD_DIR [--keep]
"""

import json
import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (HEIGHT_TIMEOUT, WAIT_S, add_data, expect, expect_no_canary,  # noqa: E402
                           run_ledger_steps, spawn_registered, start_account_node,
                           start_certified_runner, wait_heights)

NODE_DATA_MAX = 1000 * 1024


def runner_node(net, st, name, roles):
    """A node NAME with ROLES whose simulated platform is certified for the authority's
    account, running one registered validation enclave. Returns (node, enclave id,
    registered height)."""
    node, _ = start_certified_runner(net, st["as_key"], name, roles=roles)
    e = spawn_registered(node, "validation")
    return node, e["id"], e["registered_height"]


def check_testnet(net, st):
    st["as_key"], st["runner_id"] = net.start_attested()
    st["runner"], st["val"], st["val_height"] = runner_node(net, st, "runner", "enclave-runner")
    print("  validation enclave %s... registered at height %d" %
          (st["val"][:16], st["val_height"]))
    return True


def make_files(r, st):
    cohort = os.path.join(r.tmp, "cohort")
    p = subprocess.run([os.path.join(r.bindir, "genie-cohort"), "--out", cohort, "--samples",
                        "4", "--snps", "300", "--23andme", "--seed", "15"],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, "genie-cohort: %r" % p.stderr)
    d23 = os.path.join(cohort, "23andme")
    with open(os.path.join(d23, sorted(os.listdir(d23))[0])) as f:
        lines = f.read().splitlines()
    # the canary: a unique comment line among the file's leading comments
    st["canary"] = "GENIE-CANARY-%d-%s" % (os.getpid(), os.urandom(6).hex())
    files = os.path.join(r.tmp, "owner-files")  # the owner's originals (excepted below)
    os.makedirs(files)
    st["files"] = files
    st["genome"] = os.path.join(files, "genome.txt")
    with open(st["genome"], "w") as f:
        f.write(lines[0] + "\n# note: %s\n" % st["canary"] + "\n".join(lines[1:]) + "\n")
    st["malformed"] = os.path.join(files, "malformed.txt")
    with open(st["malformed"], "w") as f:
        f.write("this is not a genotype file\n\x01\x02 garbage, %s\n" % st["canary"])
    st["oversized"] = os.path.join(files, "oversized.txt")
    with open(st["oversized"], "w") as f:
        f.write("#" * (NODE_DATA_MAX + 1))


def check_add(net, st):
    owner, st["account"] = start_account_node(
        net, "owner", "data-owner", [net.nodes[0].address(), st["runner"].address()],
        st["val_height"])
    st["owner"] = owner
    make_files(net.r, st)
    j = add_data(owner, st["genome"], "genotype", "my genome").json
    expect(j["tx_status"] == "committed" and j["tx_height"] > 0, "not committed: %r" % j)
    expect(j["enclave"] == st["val"] and j["type"] == "genotype" and j["name"] == "my genome"
           and j["checks_passed"] == j["checks_run"] and j["records"] == 300
           and j["size"] == os.path.getsize(st["genome"]), "data add: %r" % j)
    st["id"] = j["data_id"]
    st["add_height"] = j["tx_height"]
    print("  data %s... registered at height %d (%d bytes, size class %d, %d records)" %
          (st["id"][:16], j["tx_height"], j["size"], j["size_class"], j["records"]))
    rec = os.path.join(owner.datadir, "data", "records", st["id"])
    blob = os.path.join(owner.datadir, "data", "blobs", j["address"])
    for path in (rec, blob):
        expect(os.path.exists(path) and stat.S_IMODE(os.stat(path).st_mode) == 0o600,
               "%s missing or not 0600" % path)
    expect(stat.S_IMODE(os.stat(os.path.join(owner.datadir, "data")).st_mode) == 0o700,
           "data/ not 0700")
    return True


def check_list_show(net, st):
    owner = st["owner"]
    c = owner.cli("data", "list")
    expect(c.returncode == 0 and isinstance(c.json, list), "data list: %r" % c)
    mine = [e for e in c.json if e["data_id"] == st["id"]]
    expect(len(mine) == 1 and mine[0]["status"] == "active" and mine[0]["local"] is True
           and mine[0]["height"] == st["add_height"] and mine[0]["name"] == "my genome",
           "data list: %r" % c.json)
    c = owner.cli("data", "list", json_out=False)
    expect(c.returncode == 0 and st["id"] in c.stdout and "active" in c.stdout,
           "data list (text): %r" % c)
    c = owner.cli("data", "show", st["id"])
    expect(c.returncode == 0 and c.json["validator"] == st["val"]
           and c.json["owner"] == st["account"] and c.json["status"] == "active"
           and c.json["address"] == c.json["ledger_address"], "data show: %r" % c)
    uses = c.json["uses"]
    expect(len(uses) == 1 and uses[0]["use"] == "VALIDATED" and uses[0]["actor"] == st["val"]
           and uses[0]["height"] == st["add_height"], "uses: %r" % uses)
    c = owner.cli("data", "show", "00" * 32)
    expect(c.returncode != 0 and "no data record" in c.stderr, "show unknown: %r" % c)
    return True


def check_consent(net, st):
    owner, did = st["owner"], st["id"]
    c = owner.cli("consent", "show")
    expect(c.returncode == 0 and c.json["set"] is False and "deny by default" in c.json["allows"],
           "consent show (none): %r" % c)
    c = owner.cli("consent", "show", json_out=False)
    expect(c.returncode == 0 and "deny by default" in c.stdout, "consent show text: %r" % c)
    c = owner.cli("consent", "set", "--allow-types", "prs,logistic", "--allow-purposes",
                  "research", "--deny-purposes", "commercial", "--max-epsilon", "1.5",
                  "--min-audits", "1", "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json["tx_status"] == "committed", "consent set: %r" % c)
    c = owner.cli("consent", "show")
    j = c.json
    expect(c.returncode == 0 and j["set"] is True and j["target"] == "default"
           and j["allow_types"] == ["prs", "logistic"] and j["allow_purposes"] == ["research"]
           and j["deny_purposes"] == ["commercial"] and j["deny_types"] == []
           and j["max_epsilon_milli"] == 1500 and j["min_audits"] == 1, "consent show: %r" % j)
    # a per-record override with the explicit wildcard
    c = owner.cli("consent", "set", "--data", did, "--allow-types", "*", "--allow-purposes",
                  "research", "--max-epsilon", "0.5", "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json["tx_status"] == "committed", "consent set --data: %r" % c)
    c = owner.cli("consent", "show", "--data", did)
    j = c.json
    expect(c.returncode == 0 and j["set"] is True and j["target"] == did
           and j["allow_types"] == ["*"] and j["effective"]["target"] == did
           and j["effective"]["max_epsilon_milli"] == 500, "consent show --data: %r" % j)
    # an empty allow list allows nothing: said so
    c = owner.cli("consent", "set", "--data", did, "--allow-purposes", "research",
                  "--wait", WAIT_S)
    expect(c.returncode == 0, "consent set (no types): %r" % c)
    c = owner.cli("consent", "show", "--data", did)
    expect(c.json["allow_types"] == [] and "nothing" in c.json["allows"], "empty allow: %r" % c)
    # revoking the override puts the default in force again
    c = owner.cli("consent", "revoke", "--data", did, "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json["tx_status"] == "committed", "revoke --data: %r" % c)
    c = owner.cli("consent", "show", "--data", did)
    expect(c.json["set"] is False and c.json["effective"]["target"] == "default",
           "after revoke --data: %r" % c.json)
    c = owner.cli("consent", "revoke", "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json["tx_status"] == "committed", "revoke: %r" % c)
    c = owner.cli("consent", "show", "--data", did)
    expect(c.json["set"] is False and "deny by default" in c.json["effective"],
           "after revoke: %r" % c.json)
    c = owner.cli("consent", "revoke")
    expect(c.returncode != 0 and "no consent is set" in c.stderr, "revoke none: %r" % c)
    # bad names and values are refused with the reason
    for args, why in ((("--allow-types", "PRS"), "is not a name"),
                      (("--allow-types", "a" * 33), "is not a name"),
                      (("--allow-purposes", "research,,x"), "non-empty"),
                      (("--max-epsilon", "1.2345"), "--max-epsilon"),
                      (("--auditors", "zz"), "auditors")):
        c = owner.cli("consent", "set", *args)
        expect(c.returncode != 0 and why in c.stderr, "consent set %r: %r" % (args, c))
    return True


def check_withdraw_audit(net, st):
    owner, did = st["owner"], st["id"]
    c = owner.cli("data", "withdraw", did, "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json["tx_status"] == "committed", "withdraw: %r" % c)
    wh = c.json["tx_height"]
    c = owner.cli("data", "show", did)
    expect(c.json["status"] == "withdrawn" and c.json["status_height"] == wh,
           "after withdraw: %r" % c.json)
    c = owner.cli("data", "withdraw", did)
    expect(c.returncode != 0 and "withdrawn at height %d" % wh in c.stderr,
           "second withdraw: %r" % c)
    c = owner.cli("audit")
    expect(c.returncode == 0 and isinstance(c.json, list), "audit: %r" % c)
    uses = [(u["use"], u["height"]) for u in c.json if u["data_id"] == did]
    expect(uses == [("VALIDATED", st["add_height"]), ("WITHDRAWN", wh)], "audit: %r" % c.json)
    expect(all(len(u["txid"]) == 64 for u in c.json), "audit txids: %r" % c.json)
    c = owner.cli("audit", did, json_out=False)
    expect(c.returncode == 0 and "VALIDATED" in c.stdout and "WITHDRAWN" in c.stdout,
           "audit (text): %r" % c)
    print("  audit: VALIDATED at %d, WITHDRAWN at %d" % (st["add_height"], wh))
    return True


def check_bad_input(net, st):
    owner = st["owner"]
    c = owner.cli("data", "add", st["malformed"], "--type", "genotype", timeout=120)
    expect(c.returncode == 1 and "refused" in c.stderr, "malformed: %r" % c)
    print("  malformed: %s" % " ".join(c.error_lines()))
    c = owner.cli("data", "add", st["oversized"], "--type", "genotype")
    expect(c.returncode == 1 and "too large" in c.stderr and str(NODE_DATA_MAX) in c.stderr,
           "oversized: %r" % c)
    print("  oversized: %s" % " ".join(c.error_lines()))
    c = owner.cli("data", "add", st["genome"], "--type", "vcf")
    expect(c.returncode == 2 and "--type genotype" in c.stderr, "bad --type: %r" % c)
    res = owner.rpc_raw(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "data_add",
                                    "params": {"path": st["genome"], "type": "vcf"}}))
    expect("genotype or phenotype" in json.dumps(res), "RPC bad type: %r" % (res,))
    c = owner.cli("data", "add", os.path.join(st["files"], "nope"), "--type", "genotype")
    expect(c.returncode == 1 and "cannot read" in c.stderr, "missing file: %r" % c)
    c = owner.cli("data", "add", st["genome"], "--type", "genotype", "--enclave", "ab" * 32)
    expect(c.returncode == 1 and "not an active registered validation enclave" in c.stderr,
           "unknown --enclave: %r" % c)
    # nothing refused was stored
    c = owner.cli("data", "list")
    expect([e["data_id"] for e in c.json] == [st["id"]], "refused files stored: %r" % c.json)
    expect(len(os.listdir(os.path.join(owner.datadir, "data", "records"))) == 1,
           "a refused file left a record")
    return True


def genome_file(r, st, name, snps):
    out = os.path.join(r.tmp, "cohort-" + name)
    p = subprocess.run([os.path.join(r.bindir, "genie-cohort"), "--out", out, "--samples", "1",
                        "--snps", str(snps), "--23andme", "--seed", "16"],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, "genie-cohort: %r" % p.stderr)
    d23 = os.path.join(out, "23andme")
    with open(os.path.join(d23, os.listdir(d23)[0])) as f:
        text = f.read()
    path = os.path.join(st["files"], name)
    with open(path, "w") as f:  # the canary again, so the scan covers these too
        f.write("# %s\n" % st["canary"] + text)
    return path


def check_larger(net, st):
    r, owner = net.r, st["owner"]
    path = genome_file(r, st, "g200k.txt", 10000)
    size = os.path.getsize(path)
    expect(190 * 1024 < size < 250 * 1024, "200 KiB file is %d bytes" % size)
    c = owner.cli("data", "add", path, "--type", "genotype", "--wait", WAIT_S, timeout=120)
    expect(c.returncode == 0 and c.json["tx_status"] == "committed" and c.json["size"] == size
           and c.json["size_class"] == 18, "200 KiB add: %r" % c)
    print("  %d bytes: registered at height %d" % (size, c.json["tx_height"]))
    path = genome_file(r, st, "g600k.txt", 28000)
    size = os.path.getsize(path)
    c = owner.cli("data", "add", path, "--type", "genotype", "--wait", WAIT_S, timeout=120)
    expect(c.returncode == 0 and c.json["tx_status"] == "committed" and c.json["size"] == size,
           "600 KiB through the runner: %r" % c)
    print("  %d bytes: registered at height %d" % (size, c.json["tx_height"]))
    return True


def check_local_enclave(net, st):
    """A node that is both a runner and a data owner validates in its own enclave: it is
    chosen before the other registered one, and a file of nearly 1,000 KiB fits."""
    r = net.r
    node, own, h = runner_node(net, st, "owner2", "enclave-runner,data-owner")
    wait_heights([node], h, HEIGHT_TIMEOUT)
    path = genome_file(r, st, "g1000k.txt", 45500)
    size = os.path.getsize(path)
    expect(900 * 1024 < size <= NODE_DATA_MAX, "the ~1,000 KiB file is %d bytes" % size)
    c = node.cli("data", "add", path, "--type", "genotype", "--wait", WAIT_S, timeout=120)
    expect(c.returncode == 0 and c.json["tx_status"] == "committed" and c.json["enclave"] == own
           and c.json["size"] == size and c.json["size_class"] == 20, "local add: %r" % c)
    print("  %d bytes validated in the node's own enclave %s..., registered at height %d" %
          (size, own[:16], c.json["tx_height"]))
    c = node.cli("data", "show", c.json["data_id"])
    expect(c.returncode == 0 and c.json["validator"] == own and c.json["owner"] == st["runner_id"],
           "local show: %r" % c)
    return True


def check_canary(net, st):
    r = net.r
    scanned = expect_no_canary(r.tmp, st["canary"], st["files"], min_files=20, hex_too=False)
    print("  canary in none of %d files (datadirs, ledgers, logs)" % scanned)
    return True


STEPS = (
    ("a testnet with a registered validation enclave", check_testnet),
    ("data add validates, encrypts and registers a genotype file", check_add),
    ("data list and data show", check_list_show),
    ("consent set, show and revoke; deny by default", check_consent),
    ("data withdraw and the audit trail", check_withdraw_audit),
    ("bad files and arguments are refused with a reason", check_bad_input),
    ("larger files through the runner", check_larger),
    ("a runner that is also a data owner validates locally", check_local_enclave),
    ("canary: the plaintext is in no datadir and no log", check_canary),
)


def main():
    run_ledger_steps("test_data_owner", STEPS)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""test_enclave_ledger: the enclave registry end to end, with real processes.

Scenarios (named checks, in order):
  1. A 1-authority testnet whose genesis names an attestation service (the
     attestation.key `genie genesis new` writes) commits blocks.
  2. The attestation service certifies a simulated platform (`genie attest certify`, the
     platform key from tests/tools/genie-quote), the platform installs the certificate and
     quotes a training enclave of genie-enclave's measurement (`genie enclave measure`)
     bound to the chain's id; `genie quote verify` says "valid" with the fields (kind, chain
     id), and refuses a wrong nonce and a
     wrong measurement with their reasons.
  3. `genie enclave register QUOTE --kind training` (signed by the runner account the
     certificate names) commits; `genie enclave list` shows the enclave (kind, measurement,
     keys, runner, active), `--kind query` shows none.
  4. Forged and wrong quotes are refused with their reasons, offline and by the ledger: a
     tampered platform signature, a quote of an uncertified platform, a quote of an enclave
     bound to another chain id (report data), a training quote registered as a query
     enclave, the same enclave twice; none of them is listed.
  5. `genie enclave audit` is listed with the enclave; `genie enclave revoke measurement`
     (the only authority's vote, a majority) marks the enclave revoked, and a fresh quote
     of that measurement is refused.

    python3 test_enclave_ledger.py --bindir BUILD_DIR [--keep]
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import attest_certify, expect, run_cli, run_ledger_steps  # noqa: E402

COMMIT_WAIT_S = 60


def tool(r, *args):
    """Runs BINDIR/genie-quote ARGS; returns (returncode, stdout stripped, stderr)."""
    p = subprocess.run([os.path.join(r.bindir, "genie-quote")] + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout.strip(), p.stderr


def check_start(net, st):
    st["as_key"], st["runner_id"] = net.start_attested()
    with open(net.genesis) as f:
        g = json.load(f)
    expect(len(g.get("attestation_service", "")) == 64, "genesis names no AS: %r" % g)
    return True


def check_certify_and_quote(net, st):
    r = net.r
    plat = os.path.join(r.tmp, "platform")
    rc, pk, err = tool(r, "pubkey", "--platform", plat)
    expect(rc == 0 and len(pk) == 64, "genie-quote pubkey: %r %r" % (pk, err))
    cert = os.path.join(r.tmp, "platform.cert")
    c = attest_certify(r, st["as_key"], pk, "runner-1", st["runner_id"], cert)
    expect(c.json and c.json["platform"] == pk, "certify: %r" % c)
    rc, _, err = tool(r, "install", "--platform", plat, "--cert", cert)
    expect(rc == 0, "install: %r" % err)
    c = run_cli(r.bindir, ["enclave", "measure", os.path.join(r.bindir, "genie-enclave"),
                           "--kind", "training"], json_out=True)
    expect(c.returncode == 0 and c.json and len(c.json["training"]) == 64, "measure: %r" % c)
    m = c.json["training"]
    chain = net.nodes[0].status()["chain_id"]
    q = os.path.join(r.tmp, "training.quote")
    nonce = "ab" * 32
    rc, sign_pk, err = tool(r, "make", "--platform", plat, "--measurement", m, "--kind",
                            "training", "--chain", chain, "--nonce", nonce, "--out", q)
    expect(rc == 0 and len(sign_pk) == 64, "make: %r" % err)
    c = run_cli(r.bindir, ["quote", "verify", q, "--genesis", net.genesis, "--nonce", nonce,
                           "--measurement", m, "--max-age", "300"])
    expect(c.returncode == 0 and c.stdout.startswith("valid\n"), "quote verify: %r" % c)
    for field in ("training", chain, m, sign_pk, pk, "runner-1", st["runner_id"]):
        expect(field in c.stdout, "quote verify does not print %s: %r" % (field, c.stdout))
    c = run_cli(r.bindir, ["quote", "verify", q, "--genesis", net.genesis, "--nonce", "cd" * 32])
    expect(c.returncode == 1 and any("nonce" in l for l in c.error_lines()),
           "wrong nonce: %r" % c)
    c = run_cli(r.bindir, ["quote", "verify", q, "--genesis", net.genesis, "--measurement",
                           "00" * 32])
    expect(c.returncode == 1 and any("measurement" in l for l in c.error_lines()),
           "wrong measurement: %r" % c)
    st.update(plat=plat, m=m, quote=q, sign_pk=sign_pk, platform_pk=pk, chain=chain)
    return True


def check_register(net, st):
    auth = net.nodes[0]
    c = auth.cli("enclave", "register", st["quote"], "--kind", "training", "--wait",
                 str(COMMIT_WAIT_S), timeout=COMMIT_WAIT_S + 30)
    expect(c.returncode == 0 and c.json and c.json["status"] == "committed",
           "register: %r" % c)
    st["enclave"] = c.json["enclave"]
    c = auth.cli("enclave", "list")
    expect(c.returncode == 0 and isinstance(c.json, list) and len(c.json) == 1,
           "enclave list: %r" % c)
    e = c.json[0]
    expect(e["id"] == st["enclave"] and e["kind"] == "training" and e["measurement"] == st["m"]
           and e["sign_pk"] == st["sign_pk"] and e["platform_pk"] == st["platform_pk"]
           and e["runner"] == st["runner_id"] and e["status"] == "active"
           and e["audits"] == [], "listed enclave: %r" % e)
    c = auth.cli("enclave", "list", "--kind", "query")
    expect(c.returncode == 0 and c.json == [], "list --kind query: %r" % c)
    c = auth.cli("enclave", "list", json_out=False)
    expect(c.returncode == 0 and st["enclave"] in c.stdout and "active" in c.stdout,
           "human list: %r" % c)
    return True


def refused(c, reason):
    return c.returncode != 0 and any(reason in l for l in c.error_lines())


def check_refusals(net, st):
    r = net.r
    auth = net.nodes[0]
    forged = os.path.join(r.tmp, "forged.quote")
    rc, _, err = tool(r, "make", "--platform", st["plat"], "--measurement", st["m"], "--kind",
                      "training", "--chain", st["chain"], "--tamper", "--out", forged)
    expect(rc == 0, "make --tamper: %r" % err)
    c = run_cli(r.bindir, ["quote", "verify", forged, "--genesis", net.genesis])
    expect(refused(c, "quote signature does not verify"), "verify forged: %r" % c)
    c = auth.cli("enclave", "register", forged, "--kind", "training")
    expect(refused(c, "quote signature does not verify"), "register forged: %r" % c)
    print("  forged: %s" % c.error_lines()[0])

    plat2 = os.path.join(r.tmp, "platform2")
    unc = os.path.join(r.tmp, "uncertified.quote")
    rc, _, err = tool(r, "make", "--platform", plat2, "--measurement", st["m"], "--kind",
                      "training", "--chain", st["chain"], "--out", unc)
    expect(rc == 0, "make (uncertified): %r" % err)
    c = run_cli(r.bindir, ["quote", "verify", unc, "--genesis", net.genesis])
    expect(refused(c, "platform not certified"), "verify uncertified: %r" % c)
    c = auth.cli("enclave", "register", unc, "--kind", "training")
    expect(refused(c, "no platform certificate"), "register uncertified: %r" % c)
    print("  uncertified: %s" % c.error_lines()[0])

    # an enclave bound to another chain (its runner could feed it a genesis of its own)
    other = os.path.join(r.tmp, "other-chain.quote")
    fake = ("%02x" % (int(st["chain"][:2], 16) ^ 1)) + st["chain"][2:]
    rc, _, err = tool(r, "make", "--platform", st["plat"], "--measurement", st["m"], "--kind",
                      "training", "--chain", fake, "--out", other)
    expect(rc == 0, "make (other chain): %r" % err)
    c = run_cli(r.bindir, ["quote", "verify", other, "--genesis", net.genesis])
    expect(refused(c, "not that of an enclave bound to the chain"), "verify other chain: %r" % c)
    c = auth.cli("enclave", "register", other, "--kind", "training")
    expect(refused(c, "not bound to this chain"), "register other chain: %r" % c)
    print("  other chain: %s" % c.error_lines()[0])

    c = auth.cli("enclave", "register", st["quote"], "--kind", "query")
    expect(refused(c, "declared kind"), "register as another kind: %r" % c)
    print("  wrong kind: %s" % c.error_lines()[0])
    c = auth.cli("enclave", "register", st["quote"], "--kind", "training")
    expect(refused(c, "already registered"), "register twice: %r" % c)
    print("  twice: %s" % c.error_lines()[0])
    c = auth.cli("enclave", "list")
    expect(c.returncode == 0 and len(c.json) == 1, "after refusals: %r" % c)
    return True


def check_audit_revoke(net, st):
    r = net.r
    auth = net.nodes[0]
    report = "5e" * 32
    c = auth.cli("enclave", "audit", st["m"], report, "ok", "--wait", str(COMMIT_WAIT_S),
                 timeout=COMMIT_WAIT_S + 30)
    expect(c.returncode == 0 and c.json and c.json["status"] == "committed", "audit: %r" % c)
    c = auth.cli("enclave", "list")
    a = c.json[0]["audits"] if c.returncode == 0 and c.json else None
    expect(a and len(a) == 1 and a[0]["verdict"] == "ok" and a[0]["report_hash"] == report
           and a[0]["auditor"] == st["runner_id"], "audit not listed: %r" % c)
    # one authority of one: its vote is a majority, the measurement is revoked at once
    c = auth.cli("enclave", "revoke", "measurement", st["m"], "--wait", str(COMMIT_WAIT_S),
                 timeout=COMMIT_WAIT_S + 30)
    expect(c.returncode == 0 and c.json and c.json["status"] == "committed", "revoke: %r" % c)
    c = auth.cli("enclave", "list")
    e = c.json[0] if c.returncode == 0 and c.json else {}
    expect(e.get("status") == "revoked" and e.get("measurement_revoked") is True
           and e.get("revoked_height", 0) > e.get("height", 0), "after revoke: %r" % c)
    fresh = os.path.join(r.tmp, "fresh.quote")
    rc, _, err = tool(r, "make", "--platform", st["plat"], "--measurement", st["m"], "--kind",
                      "training", "--chain", st["chain"], "--out", fresh)
    expect(rc == 0, "make (fresh): %r" % err)
    c = auth.cli("enclave", "register", fresh, "--kind", "training")
    expect(refused(c, "measurement revoked"), "register under a revoked measurement: %r" % c)
    print("  revoked measurement: %s" % c.error_lines()[0])
    c = auth.cli("enclave", "revoke", "measurement", st["m"])
    expect(refused(c, "already revoked"), "revoke twice: %r" % c)
    return True


STEPS = (
    ("a 1-authority testnet with an attestation service", check_start),
    ("certify a platform, quote, verify offline", check_certify_and_quote),
    ("register the enclave and list it", check_register),
    ("forged and wrong quotes are refused with their reasons", check_refusals),
    ("an audit is listed; a revoked measurement marks and refuses", check_audit_revoke),
)


if __name__ == "__main__":
    run_ledger_steps("test_enclave_ledger", STEPS)

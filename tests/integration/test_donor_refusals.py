#!/usr/bin/env python3
"""test_donor_refusals: the ledger refuses forged, replayed and revoked-enclave donation
receipts (issue 15), with real processes and a hostile peer.

Scenarios (named checks, in order):
  1. A 1-authority testnet (attestation service in genesis); a runner spawns a validation
     and a training enclave, both registered (test_market's setup).
  2. A trainer registers itself and a logistic/research spec on the training enclave's
     measurement (test_market's).
  3. Two data owners add a genotype file each; owner1 allows logistic/research, owner4
     allows anything. The trainer posts the spec; both see the offer.
  4. owner1 donates (`genie donate --wait`): DONOR_REGISTER commits; the donate answer
     carries the receipt the enclave signed (hex), which the ledger lists as a donor.
  5. Forged receipts, each in a DONOR_REGISTER signed by the owner's own account (the
     right nonce) and sent to the owner's node by genie-evil as gossip (a tx_batch): the
     node refuses each (ledger_stats txs_rejected rises, its log names the contract's
     reason, the txid stays unknown), and tx_submit of the same tx over RPC is refused
     with the contract's reason:
       - owner1's receipt with its signature's last byte flipped: "signature does not
         verify";
       - owner1's receipt with one byte of the signed body (the data id) flipped: the same;
       - owner1's receipt made out by owner4 to owner4's record, donor and commitment
         (enclave key and signature kept): "signature does not verify";
       - the same, re-signed by a fresh key put in as the enclave's (the signature now
         verifies): "training enclave not registered".
  6. Replays: owner1's real receipt in a second DONOR_REGISTER of owner1's (new nonce)
     is refused "already a donor ... receipt replayed"; the same receipt in owner4's
     DONOR_REGISTER is refused "names another donor". The spec still lists one donor.
  7. Revocation: owner4 adds a second record B; fresh receipts nothing registers are made
     for both its records A and B (`genie data donate --salt`: the raw enclave tool, with
     each record's own salt read from its record file); they verify and name owner4's
     records, and the ledger still lists one donor. Control: A's receipt, sent by
     genie-evil, commits (2 donors). Then the authority revokes the runner's platform
     (`genie enclave revoke platform`, committed; the registry marks its enclaves
     revoked). owner4's donation of B is refused by its node before anything leaves ("the
     spec's training enclave is revoked"); B's receipt, made while the enclave was in
     good standing, is refused by the contract with "enclave revoked", and so is owner1's
     registered receipt (the contract checks the enclave before the duplicate).

    python3 test_donor_refusals.py --bindir BUILD_DIR [--keep]
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (WAIT_S, donate, donors, expect, offer_of, record_of,  # noqa: E402
                           recruit_until_offered, run_ledger_steps, wait_for)
from test_market import check_testnet, check_trainer, start_owner  # noqa: E402

REJECT_TIMEOUT = 30.0


def check_owners(net, st):
    start_owner(net, st, "owner1", 0)
    start_owner(net, st, "owner4", 1)
    names = ("owner1", "owner4")
    _, offers = recruit_until_offered(st["trainer"], st["spec"],
                                      [st["owners"][n]["node"] for n in names], note="refusals")
    for name in names:
        o = st["owners"][name]
        row = record_of(offers[name], o["data"])
        expect(row["match"] is True, "%s does not match: %r" % (name, row))
    return True


def check_donate(net, st):
    o1, spec = st["owners"]["owner1"], st["spec"]
    c = donate(o1["node"], spec, "--wait", WAIT_S)
    expect(c.returncode == 0, "donate owner1: %r" % c)
    d = c.json["donations"]
    expect(len(d) == 1 and d[0]["ok"] is True and d[0]["status"] == "committed"
           and len(d[0].get("receipt", "")) > 300, "donate owner1: %r" % c.json)
    st["receipt"] = d[0]["receipt"]
    expect(donors(o1["node"], spec) == 1, "spec donors after owner1")
    print("  owner1 donated; receipt %d bytes from enclave %s..." %
          (len(st["receipt"]) // 2, d[0]["enclave"][:12]))
    return True


def account_key(node):
    acc = os.path.join(node.datadir, "accounts")
    names = sorted(os.listdir(acc))
    expect(len(names) == 1, "accounts of %s: %r" % (node.name, names))
    return os.path.join(acc, names[0])


def rejected(node):
    return node.call("ledger_stats")["node"]["txs_rejected"]


def evil_donor(net, st, owner, forge, receipt=None, refused=True):
    """genie-evil --mode donor from OWNER's account to OWNER's node with FORGE; waits until
    the node refused the gossiped tx (REFUSED), else until it committed. Returns (tx hex,
    txid)."""
    o = st["owners"][owner]
    node = o["node"]
    nonce = node.call("account", {"id": o["account"]})["next_nonce"]
    before = rejected(node)
    args = [os.path.join(net.r.bindir, "genie-evil"), "--target", node.address(), "--datadir",
            node.datadir, "--mode", "donor", "--receipt", receipt or st["receipt"],
            "--account-key", account_key(node), "--nonce", str(nonce), "--seconds", "20"]
    if forge in ("claim", "resign"):
        args += ["--forge", forge, "--data", o["data"]]
    elif forge:
        args += ["--forge", forge]
    p = subprocess.run(args, capture_output=True, text=True, timeout=90)
    expect(p.returncode == 0 and "flushed=yes" in p.stdout and " tx=" in p.stdout,
           "genie-evil: %r" % p)
    fields = dict(kv.split("=", 1) for kv in p.stdout.split() if "=" in kv)
    if not refused:
        wait_for(lambda: node.call("tx_status", {"txid": fields["txid"]})["status"] ==
                 "committed", timeout=REJECT_TIMEOUT, interval=0.1,
                 what="%s's gossiped DONOR_REGISTER committed" % owner)
        return fields["tx"], fields["txid"]
    wait_for(lambda: rejected(node) > before, timeout=REJECT_TIMEOUT, interval=0.1,
             what="%s's node refuses the gossiped tx (%s)" % (owner, forge))
    s = node.call("tx_status", {"txid": fields["txid"]})
    expect(s["status"] == "unknown", "gossiped tx %s: %r" % (forge, s))
    return fields["tx"], fields["txid"]


def refused_by_rpc(node, tx_hex, reason):
    """tx_submit of TX_HEX is refused and the error names REASON."""
    try:
        res = node.call("tx_submit", {"tx": tx_hex})
    except RuntimeError as e:
        msg = str(e)
        expect(reason in msg, "tx_submit refused, but not for %r: %s" % (reason, msg))
        return msg
    expect(False, "tx_submit admitted a tx that should be refused (%s): %r" % (reason, res))


def log_count(node, text):
    """How many 'tx refused' lines of NODE's log name TEXT."""
    with open(node.log_path, "rb") as f:
        return sum(1 for line in f if b"tx refused: " in line and text.encode() in line)


def forged_case(net, st, owner, forge, reason, receipt=None):
    node = st["owners"][owner]["node"]
    before = log_count(node, reason)
    tx, txid = evil_donor(net, st, owner, forge, receipt)
    wait_for(lambda: log_count(node, reason) > before, timeout=REJECT_TIMEOUT, interval=0.1,
             what="%s's log names %r" % (owner, reason))
    msg = refused_by_rpc(node, tx, reason)
    why = msg.split("rejected: ")[-1].split("'")[0].split('"')[0]
    print("  %-10s %s refused (gossip and RPC): %s" % (forge or "as is", owner, why))


def check_forged(net, st):
    n = len(st["receipt"]) // 2
    # the receipt is [version, enclave_pk, spec_id, data_id, donor, commitment, time, sig]:
    # data_id's bytes follow 1 (array) + 1 (version) + 2 x 34 (enclave key and spec id, each
    # a bin32 with its 2-byte header) + 2 (data_id's header): flip its 6th byte
    data_byte = 1 + 1 + 34 + 34 + 2 + 5
    bad_sig = "donation receipt signature does not verify"
    forged_case(net, st, "owner1", "flip:%d" % (n - 1), bad_sig)
    forged_case(net, st, "owner1", "flip:%d" % data_byte, bad_sig)
    forged_case(net, st, "owner4", "claim", bad_sig)
    forged_case(net, st, "owner4", "resign", "training enclave not registered")
    expect(donors(st["owners"]["owner1"]["node"], st["spec"]) == 1, "donors changed")
    return True


def check_replay(net, st):
    forged_case(net, st, "owner1", None,
                "already a donor of this spec with this record: receipt replayed")
    forged_case(net, st, "owner4", None, "donation receipt names another donor")
    expect(donors(st["owners"]["owner1"]["node"], st["spec"]) == 1, "donors changed")
    return True


def record_salt(node, data_id):
    """The salt of local record DATA_ID, read from its record file (DATADIR/data/records/ID:
    msgpack [version, id bin32, salt bin32, ...], node_data.c)."""
    with open(os.path.join(node.datadir, "data", "records", data_id), "rb") as f:
        rec = f.read()
    expect(rec[0] == 0x99 and rec[2:4] == b"\xc4\x20" and rec[4:36].hex() == data_id
           and rec[36:38] == b"\xc4\x20", "record file of %s: unexpected layout" % data_id)
    return rec[38:70].hex()


def raw_receipt(st, owner, path, data_id):
    """A fresh receipt nothing registers: OWNER's registered record DATA_ID (file PATH)
    sealed to the training enclave by `genie data donate` with the record's own salt."""
    o = st["owners"][owner]
    c = o["node"].cli("data", "donate", path, "--enclave", st["training"]["id"], "--spec",
                      st["spec"], "--donor", o["account"], "--salt",
                      record_salt(o["node"], data_id))
    expect(c.returncode == 0 and c.json["signature_valid"] is True
           and c.json["commitment_matches"] is True and c.json["data_id"] == data_id
           and c.json["donor"] == o["account"], "data donate: %r" % c)
    return c.json["receipt"]


def check_revoked(net, st):
    auth, runner, spec = net.nodes[0], st["runner"], st["spec"]
    o4 = st["owners"]["owner4"]
    # owner4's second record, B
    c = o4["node"].cli("data", "add", st["genomes"][2], "--type", "genotype", "--name", "b",
                       "--wait", WAIT_S, timeout=120)
    expect(c.returncode == 0 and c.json["tx_status"] == "committed", "data add B: %r" % c)
    data_b = c.json["data_id"]
    # fresh receipts for owner4's two records, which nothing registered
    fresh_a = raw_receipt(st, "owner4", st["genomes"][1], o4["data"])
    fresh_b = raw_receipt(st, "owner4", st["genomes"][2], data_b)
    expect(donors(o4["node"], spec) == 1, "the raw donations registered something")
    # control: while the enclave is in good standing, A's receipt registers owner4
    evil_donor(net, st, "owner4", None, receipt=fresh_a, refused=False)
    expect(donors(o4["node"], spec) == 2, "owner4's receipt A did not register")
    print("  control: a fresh receipt from `data donate --salt` registers owner4 (2 donors)")
    pk = runner.cli("enclave", "platform").json["platform_pk"]
    c = auth.cli("enclave", "revoke", "platform", pk, "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json.get("status") == "committed",
           "enclave revoke platform: %r" % c)

    def unusable():
        return offer_of(o4["node"], spec)["enclave"] is None
    wait_for(unusable, timeout=30, interval=0.2, what="owner4 sees the enclave revoked")
    c = donate(o4["node"], spec, "--data", data_b)
    expect(c.returncode != 0 and c.json and c.json["donations"][0]["state"] == "refused"
           and "revoked" in c.json["donations"][0]["error"], "owner4 donate: %r" % c)
    print("  owner4's donation refused by its node: %s" % c.json["donations"][0]["error"])
    # B's receipt, fresh and made while the enclave was in good standing, and owner1's
    forged_case(net, st, "owner4", None, "enclave revoked", receipt=fresh_b)
    forged_case(net, st, "owner1", None, "enclave revoked")
    expect(donors(o4["node"], spec) == 2, "donors changed")
    return True


STEPS = (
    ("a testnet with a runner's validation and training enclaves", check_testnet),
    ("a trainer registers itself and a model spec", check_trainer),
    ("two owners add data and see the offer", check_owners),
    ("owner1 donates and keeps the enclave's receipt", check_donate),
    ("forged receipts are refused by the contract", check_forged),
    ("replayed receipts are refused by the contract", check_replay),
    ("a revoked enclave's receipt is refused", check_revoked),
)


if __name__ == "__main__":
    run_ledger_steps("test_donor_refusals", STEPS)

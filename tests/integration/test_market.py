#!/usr/bin/env python3
"""test_market: trainers, model specs, recruitment, offers and donation (issue 15), with
real processes.

Scenarios (named checks, in order):
  1. A 1-authority testnet whose genesis names an attestation service; an enclave runner
     (certified platform) spawns a validation and a training enclave, both registered.
  2. A trainer node (--role trainer, its own account) runs `genie trainer register` and
     `genie spec register` (logistic regression for research, the training enclave's
     measurement, epsilon 1.0); `genie spec list` shows the spec with its trainer's name.
  3. Three data-owner nodes (each its own account, linked to the authority, the runner
     and the trainer) each add a synthetic 23andMe file (`genie data add`) and set a
     different consent: owner1 allows logistic for research; owner2 allows only prs;
     owner3 allows logistic for research but wants 1 audit of the enclave.
  4. `genie recruit SPEC` on the trainer reaches every owner: `genie offers` lists the
     offer on each, and the matching is right for each, with the reason: owner1 matches,
     owner2 "model type logistic not allowed", owner3 "needs 1 audit, has 0".
  5. Recruitment posts signed by an account no ledger knows (genie-evil --mode recruit,
     linked to owner1), for the registered spec and for a random one, reach no one:
     owner1's p2p_stats policy_dropped rises by exactly their number, no owner's offer
     changes, and `room post recruitment` is refused on a node (signed posts only).
  6. `genie donate SPEC --wait` on owner1: the record is sealed to the training enclave
     through the runner, the receipt verifies, DONOR_REGISTER commits; the ledger lists
     the donor (`spec list` donors, `offers` donated) and `genie audit` shows DONATED by
     the training enclave. Owner2's and owner3's donations are refused before anything
     leaves, with their reasons; a second donation of owner1's record is refused (also in
     key mode).
  7. An auditor's ENCLAVE_AUDIT (`genie enclave audit MEASUREMENT HASH ok`) makes owner3's
     offer match ("audit"), and its donation then lands, in key mode (--mode key: the
     data key sealed to the enclave in a KEY_AUTHORIZE grant, the stored ciphertext blob
     relayed with it); `genie audit` shows VALIDATED, KEY_AUTHORIZED, DONATED.
  8. A fourth owner started with --auto-donate, whose consent allows the spec, donates by
     itself when the trainer posts again (no donate command); owner2 (no match) and the
     owners without the flag do not.
  9. Canary: a unique string in each owner's file is afterwards in no file under any
     datadir (stores, ledgers) and in no node's log, the runner's included; the runner
     runs at trace level, where it logs the hex of every request and answer it relays
     (the first 4 KiB of each), and the canary's hex encoding is in no file either.

    python3 test_market.py --bindir BUILD_DIR [--keep]
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (HEIGHT_TIMEOUT, WAIT_S, add_data, audit_uses, donate,  # noqa: E402
                           donors, expect, expect_no_canary, offer_of, record_of,
                           recruit_until_offered, register_spec, run_ledger_steps, spawn_registered,
                           start_account_node, start_certified_runner, start_trainer, wait_for)


def check_testnet(net, st):
    st["as_key"], st["runner_id"] = net.start_attested()
    # at trace level the runner logs the hex of every request and answer it relays (the
    # first 4 KiB of each): the canary check reads them
    st["runner"], _ = start_certified_runner(net, st["as_key"], "runner",
                                             certify_as="runner-1", log_level="trace")
    for kind in ("validation", "training"):
        st[kind] = spawn_registered(st["runner"], kind)
    st["reg_height"] = max(st["validation"]["registered_height"],
                           st["training"]["registered_height"])
    return True


def check_trainer(net, st):
    trainer, st["trainer_account"], c = start_trainer(
        net, [net.nodes[0].address(), st["runner"].address()], st["reg_height"])
    st["trainer"] = trainer
    expect(c.json["status"] == "committed" and c.json["account"] == st["trainer_account"],
           "trainer register: %r" % c)
    meas = st["training"]["measurement"]
    st["spec"] = register_spec(trainer, meas, "rs1,rs2,age", "t2d", 2, "1.0", 10,
                               "6000,3000,1000")["spec_id"]
    c = trainer.cli("spec", "list")
    mine = [s for s in c.json or [] if s["spec_id"] == st["spec"]]
    expect(c.returncode == 0 and len(mine) == 1 and mine[0]["trainer_name"] == "Acme Genomics"
           and mine[0]["trainer"] == st["trainer_account"] and mine[0]["measurement"] == meas
           and mine[0]["max_epsilon_milli"] == 1000 and mine[0]["donors"] == 0
           and mine[0]["features"] == ["rs1", "rs2", "age"], "spec list: %r" % c)
    # refused before anything is signed
    c = trainer.cli("spec", "register", "--model-type", "Logistic!", "--purpose", "research",
                    "--features", "a", "--label", "l", "--measurement", meas, "--min-donors",
                    "1", "--max-epsilon", "1", "--aggregation", "mean", "--price", "1",
                    "--shares", "5000,5000,0")
    expect(c.returncode != 0 and "model_type" in c.stderr, "bad model type: %r" % c)
    c = trainer.cli("spec", "register", "--model-type", "prs", "--purpose", "research",
                    "--features", "a", "--label", "l", "--measurement", meas, "--min-donors",
                    "1", "--max-epsilon", "1", "--aggregation", "mean", "--price", "1",
                    "--shares", "5000,4000,0")
    expect(c.returncode != 0 and "10000" in c.stderr, "shares not summing: %r" % c)
    print("  spec %s... registered by trainer %s..." % (st["spec"][:16],
                                                        st["trainer_account"][:16]))
    return True


CONSENTS = {
    "owner1": ["--allow-types", "logistic", "--allow-purposes", "research",
               "--max-epsilon", "2"],
    "owner2": ["--allow-types", "prs", "--allow-purposes", "research", "--max-epsilon", "2"],
    "owner3": ["--allow-types", "logistic,prs", "--allow-purposes", "research",
               "--max-epsilon", "2", "--min-audits", "1"],
    "owner4": ["--allow-types", "*", "--allow-purposes", "*", "--max-epsilon", "5"],
}


def genomes(r, st):
    if "genomes" in st:
        return st["genomes"]
    cohort = os.path.join(r.tmp, "cohort")
    p = subprocess.run([os.path.join(r.bindir, "genie-cohort"), "--out", cohort, "--samples",
                        "4", "--snps", "200", "--23andme", "--seed", "21"],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, "genie-cohort: %r" % p.stderr)
    d23 = os.path.join(cohort, "23andme")
    # the owners' originals, each with a unique canary comment line (checked at the end)
    st["canary"] = "GENIE-MARKET-CANARY-%d-%s" % (os.getpid(), os.urandom(6).hex())
    st["files"] = os.path.join(r.tmp, "owner-files")
    os.makedirs(st["files"])
    st["genomes"] = []
    for i, name in enumerate(sorted(os.listdir(d23))):
        with open(os.path.join(d23, name)) as f:
            lines = f.read().splitlines()
        path = os.path.join(st["files"], "genome-%d.txt" % i)
        with open(path, "w") as f:
            f.write(lines[0] + "\n# note: %s-%d\n" % (st["canary"], i) + "\n".join(lines[1:])
                    + "\n")
        st["genomes"].append(path)
    expect(len(st["genomes"]) >= 4, "cohort: %r" % st["genomes"])
    return st["genomes"]


def start_owner(net, st, name, index, extra=()):
    """Data owner NAME (linked to the authority, the runner and the trainer) with its own
    account, the genotype file genomes()[INDEX] added and CONSENTS[NAME] set; recorded in
    st["owners"][NAME] as {node, account, data}. Returns the node."""
    owner, account = start_account_node(
        net, name, "data-owner",
        [net.nodes[0].address(), st["runner"].address(), st["trainer"].address()],
        st["reg_height"], extra=extra)
    c = add_data(owner, genomes(net.r, st)[index], "genotype", name)
    expect(c.json["tx_status"] == "committed", "%s data add: %r" % (name, c.json))
    data_id = c.json["data_id"]
    c = owner.cli("consent", "set", *CONSENTS[name], "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json["tx_status"] == "committed",
           "%s consent set: %r" % (name, c))
    st.setdefault("owners", {})[name] = {"node": owner, "account": account, "data": data_id}
    print("  %s: account %s..., data %s..." % (name, account[:12], data_id[:12]))
    return owner


def check_owners(net, st):
    for i, name in enumerate(("owner1", "owner2", "owner3")):
        start_owner(net, st, name, i)
    return True


def check_recruit(net, st):
    trainer, spec = st["trainer"], st["spec"]
    want = {"owner1": (True, "logistic"), "owner2": (False, "model type logistic not allowed"),
            "owner3": (False, "needs 1 audit, has 0")}
    post, offers = recruit_until_offered(trainer, spec,
                                         [st["owners"][n]["node"] for n in want],
                                         note="type 2 diabetes risk, 2 donors wanted")
    expect(post["trainer"] == st["trainer_account"], "recruit: %r" % post)
    st["post_time"] = post["time_ms"]
    for name, (match, why) in want.items():
        o = st["owners"][name]
        offer = offers[name]
        expect(offer["trainer"] == st["trainer_account"]
               and offer["trainer_name"] == "Acme Genomics"
               and offer["note"] == "type 2 diabetes risk, 2 donors wanted"
               and offer["spec"]["model_type"] == "logistic"
               and offer["enclave"]["id"] == st["training"]["id"], "%s offer: %r" % (name, offer))
        row = record_of(offer, o["data"])
        expect(row["match"] is match and why in row["why"] and row["donated"] is False,
               "%s matching: %r (want %r, %r)" % (name, row, match, why))
        print("  %s: %s (%s)" % (name, "match" if match else "no match", row["why"]))
    c = st["owners"]["owner2"]["node"].cli("offers", json_out=False)
    expect(c.returncode == 0 and "model type logistic not allowed" in c.stdout
           and spec in c.stdout, "offers (text): %r" % c)
    return True


def stats(node):
    return node.call("p2p_stats")


def check_forged(net, st):
    r, spec = net.r, st["spec"]
    o1 = st["owners"]["owner1"]["node"]
    before = stats(o1)["policy_dropped"]
    offers_before = {n: offer_of(o["node"], spec) for n, o in st["owners"].items()}
    sent = 0
    for spec_arg in (spec, None):
        args = [os.path.join(r.bindir, "genie-evil"), "--target", o1.address(), "--datadir",
                o1.datadir, "--mode", "recruit", "--count", "3", "--seconds", "20"]
        if spec_arg:
            args += ["--spec", spec_arg]
        p = subprocess.run(args, capture_output=True, text=True, timeout=90)
        expect(p.returncode == 0 and "flushed=yes" in p.stdout, "genie-evil: %r" % p)
        sent += 3
    after = stats(o1)["policy_dropped"]
    expect(after - before == sent, "policy_dropped %d -> %d, %d posts" % (before, after, sent))
    for n, o in st["owners"].items():
        cur = offer_of(o["node"], spec)
        expect(cur["time_ms"] == offers_before[n]["time_ms"]
               and cur["trainer"] == st["trainer_account"], "%s offer changed: %r" % (n, cur))
        c = o["node"].cli("offers")
        expect(len(c.json) == 1, "%s has other offers: %r" % (n, c.json))
    c = o1.cli("room", "post", "recruitment", "hello")
    expect(c.returncode != 0 and "recruit" in c.stderr, "room post recruitment: %r" % c)
    print("  %d unregistered posts refused by owner1 (policy_dropped %d -> %d), none delivered"
          % (sent, before, after))
    return True


def check_donate(net, st):
    spec, tr = st["spec"], st["training"]["id"]
    o1 = st["owners"]["owner1"]
    c = donate(o1["node"], spec, "--wait", WAIT_S)
    expect(c.returncode == 0, "donate owner1: %r" % c)
    d = c.json["donations"]
    expect(len(d) == 1 and d[0]["ok"] is True and d[0]["data_id"] == o1["data"]
           and d[0]["enclave"] == tr and d[0]["receipt_time_ms"] > 0
           and d[0]["status"] == "committed", "donate owner1: %r" % c.json)
    expect(donors(o1["node"], spec) == 1, "spec donors after owner1")
    row = record_of(offer_of(o1["node"], spec), o1["data"])
    expect(row["donated"] is True, "offers donated: %r" % row)
    uses = audit_uses(o1["node"], o1["data"])
    donated = [u for u in uses if u["use"] == "DONATED"]
    expect(len(donated) == 1 and donated[0]["actor"] == tr and donated[0]["spec_id"] == spec,
           "audit DONATED: %r" % uses)
    print("  owner1 donated: receipt from %s..., DONOR_REGISTER %s... at height %d" %
          (tr[:12], d[0]["txid"][:12], donated[0]["height"]))
    for name, why in (("owner2", "model type logistic not allowed"),
                      ("owner3", "needs 1 audit, has 0")):
        o = st["owners"][name]
        c = donate(o["node"], spec)
        expect(c.returncode != 0 and c.json and c.json["donations"][0]["state"] == "refused"
               and why in c.json["donations"][0]["error"], "%s donate: %r" % (name, c))
        print("  %s refused: %s" % (name, c.json["donations"][0]["error"]))
    c = donate(o1["node"], spec)
    expect(c.returncode != 0 and "already a registered donor" in c.json["donations"][0]["error"],
           "second donation: %r" % c)
    c = donate(o1["node"], spec, "--mode", "key")
    expect(c.returncode != 0 and "already a registered donor" in c.json["donations"][0]["error"],
           "second donation (key mode): %r" % c)
    expect(donors(o1["node"], spec) == 1, "spec donors changed")
    return True


def check_audit(net, st):
    auth, spec = net.nodes[0], st["spec"]
    o3 = st["owners"]["owner3"]
    c = auth.cli("enclave", "audit", st["training"]["measurement"], "ab" * 32, "ok",
                 "--wait", WAIT_S)
    expect(c.returncode == 0, "enclave audit: %r" % c)
    got = {}

    def matches():
        got["row"] = record_of(offer_of(o3["node"], spec), o3["data"])
        return got["row"]["match"] is True
    wait_for(matches, timeout=HEIGHT_TIMEOUT, interval=0.3, what="owner3 matches after the audit")
    expect("audit" in got["row"]["why"], "owner3 why: %r" % got["row"])
    # key mode: the data key goes to the enclave in a ledger grant, the blob stays ciphertext
    c = donate(o3["node"], spec, "--data", o3["data"], "--mode", "key", "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json["donations"][0]["ok"] is True, "owner3 donate: %r" % c)
    expect(donors(o3["node"], spec) == 2, "spec donors after owner3")
    uses = [u["use"] for u in audit_uses(o3["node"], o3["data"])]
    expect(uses == ["VALIDATED", "KEY_AUTHORIZED", "DONATED"], "owner3 audit: %r" % uses)
    with open(st["runner"].log_path, "rb") as f:  # the runner fetched the blob from owner3
        expect(b"keyed donation: fetched the data blob" in f.read(),
               "the runner's log does not show the blob fetch")
    print("  after one audit, owner3 matches (%s) and donated by key authorization (%s)" %
          (got["row"]["why"], ", ".join(uses)))
    return True


def check_auto(net, st):
    spec = st["spec"]
    o4 = start_owner(net, st, "owner4", 3, extra=["--auto-donate"])
    data4 = st["owners"]["owner4"]["data"]
    # every owner gets the new post (newer than the first step's), and nothing more is
    # donated but owner4's
    others = [st["owners"][n]["node"] for n in ("owner1", "owner2", "owner3")]
    post, _ = recruit_until_offered(st["trainer"], spec, [o4] + others, note="second call")
    expect(post["time_ms"] > st["post_time"], "the second post is not newer: %r" % post)
    got = {}

    def donated():
        got["row"] = record_of(offer_of(o4, spec), data4)
        return got["row"]["donated"] is True
    wait_for(donated, timeout=HEIGHT_TIMEOUT, interval=0.3, what="owner4 auto-donated")
    expect(donors(o4, spec) == 3, "spec donors after auto-donate")
    row = record_of(offer_of(st["owners"]["owner2"]["node"], spec), st["owners"]["owner2"]["data"])
    expect(row["donated"] is False, "owner2 donated: %r" % row)
    expect(donors(o4, spec) == 3, "a donation without --auto-donate")
    with open(o4.log_path, "rb") as f:
        expect(b"donated record" in f.read(), "owner4's log does not say it donated")
    print("  owner4 (--auto-donate) donated on the second post; spec donors: 3")
    return True


def check_withdraw(net, st):
    """owner1 withdraws its donated record: the runner drops it from the training enclave
    (DROP, in its log), the audit trail ends with WITHDRAWN, and it cannot be donated
    again."""
    o1 = st["owners"]["owner1"]
    c = o1["node"].cli("data", "withdraw", o1["data"], "--wait", WAIT_S)
    expect(c.returncode == 0, "withdraw: %r" % c)
    needle = ("dropped withdrawn data %s..." % o1["data"][:16]).encode()

    def dropped():
        with open(st["runner"].log_path, "rb") as f:
            return needle in f.read()
    wait_for(dropped, timeout=HEIGHT_TIMEOUT, interval=0.3,
             what="the runner drops the withdrawn record from its training enclave")
    uses = [u["use"] for u in audit_uses(o1["node"], o1["data"])]
    expect(uses[-1] == "WITHDRAWN", "audit after withdraw: %r" % uses)
    c = donate(o1["node"], st["spec"], "--data", o1["data"])
    expect(c.returncode != 0, "donating a withdrawn record: %r" % c)
    print("  owner1 withdrew: the training enclave dropped it; audit %s; donating it again "
          "is refused" % ", ".join(uses))
    return True


def check_canary(net, st):
    """After the whole flow (three donations, sealed and keyed, through the runner), the
    canary of the owners' files is in no file under the test's directory but the originals:
    no datadir (stores, ledgers, LevelDB), no log of any node (the runner's included). The
    runner ran at trace level, where it logs the hex of the first 4 KiB of every request
    and answer it relays (lines overlapping by 64 bytes): the canary's hex encoding is
    looked for too, so plaintext passing through the runner would be caught."""
    expect(len(st["canary"]) <= 64, "the canary is longer than the trace lines overlap")
    scanned = expect_no_canary(net.r.tmp, st["canary"], st["files"], min_files=40)
    # the check is not vacuous: the runner's log holds the relayed bytes, the donations'
    # sealed requests (about as long as the files) among them
    with open(st["runner"].log_path, "rb") as f:
        log = f.read()
    calls = len(re.findall(rb"relay request of call \d+ with ", log))
    answers = len(re.findall(rb"relay answer of call \d+ with ", log))
    sizes = [os.path.getsize(g) for g in st["genomes"][:4]]
    expect(calls >= 7 and answers >= 7, "the runner traced %d requests, %d answers (want the "
           "4 validations and 3 donations)" % (calls, answers))
    expect(b" +256: " in log,
           "the runner's trace holds no hex beyond the first line")
    print("  canary (text and hex) in none of %d files (datadirs, ledgers, logs); the runner "
          "traced %d relayed requests and %d answers in hex (files of %d-%d bytes)" %
          (scanned, calls, answers, min(sizes), max(sizes)))
    return True


STEPS = (
    ("a testnet with a runner's validation and training enclaves", check_testnet),
    ("a trainer registers itself and a model spec", check_trainer),
    ("three data owners add data under different consents", check_owners),
    ("a registered trainer's post reaches every owner, matched per consent", check_recruit),
    ("posts from an unregistered account reach no one and are scored", check_forged),
    ("a matching record is donated with a verified receipt; others refused", check_donate),
    ("an audit of the enclave lets the owner who requires one donate", check_audit),
    ("--auto-donate donates by itself", check_auto),
    ("a withdrawn record is dropped by the enclave and refused", check_withdraw),
    ("canary: the donated files are in no datadir and no log", check_canary),
)


if __name__ == "__main__":
    run_ledger_steps("test_market", STEPS)

#!/usr/bin/env python3
"""test_settle: training jobs, published models, paid queries and settlement (issue 16's
contracts, `genie train start`, `models`, `model show`, `query buy`, `earnings`, `claim`),
with real processes.

The training and query enclaves that will sign publications and usage reports come with
other parts of issue 16; until they run here, tests/tools/genie-settle stands in for them:
an enclave whose key derives from a seed, quoted by a certified simulated platform and
registered by the runner like any enclave, signs the publication and the usage report the
ledger then checks exactly as it will check the real ones.

Scenarios (named checks, in order):
  1. A 1-authority testnet naming an attestation service; an enclave runner spawns a
     validation and a training enclave (registered); a trainer registers a spec (min 2
     donors, price 10, shares 6000/3000/1000); owner1 and owner4 add a genotype file each
     and allow the spec; the trainer recruits.
  2. `genie train start` with one donor is refused (min_donors); after owner4's donation
     (2 donors), and once a second certified platform quotes the stand-in training enclave
     S (the spec's measurement) and query enclave Q (measurement QM) and the runner
     registers both, it commits; `--rounds 0` is refused before anything is signed.
  3. S publishes the job's model over both donations (party: the runner's training
     enclave, weight 10000); `genie models` and `genie model show` list it with its hash,
     records and price; each owner's `genie audit` shows TRAINED.
  4. `genie earnings` shows nothing owed to owner1; `genie claim` is refused (nothing owed).
  5. A user funded by the authority buys 7 queries: `genie query buy --wait` moves 70 from
     its balance into the buy's escrow (balances checked through `genie account`, escrow
     through buy_show); the access code is in DATADIR/access/<buy>.code, mode 0600, 64 hex
     characters; a buy of an unknown model and of 0 queries are refused, nothing spent.
  6. Q's usage report of 3 queries settles: fee 30 = runner 3 + trainer 9 + donors 18
     (9 per record); `genie earnings` shows them; owner1 and the trainer `genie claim` and
     their balances rise by exactly 9; the same report again is refused; the user's
     balance plus everything owed and in escrow is still the 1,000 it was given.

    python3 test_settle.py --bindir BUILD_DIR [--keep]
"""

import json
import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (HEIGHT_TIMEOUT, WAIT_S, attest_certify, audit_uses,  # noqa: E402
                           balance, donate, expect, recruit_until_offered, register_spec,
                           run_ledger_steps, spawn_registered, start_certified_runner,
                           start_funded_user, start_trainer, wait_for)
from test_market import start_owner  # noqa: E402

QM = "51" * 32           # the query enclaves' measurement the job names
S_SEED = "a1" * 32       # the stand-in training (coordinating) enclave
Q_SEED = "a2" * 32       # the stand-in query enclave
FUND = 1000


def tool(r, *args):
    p = subprocess.run([os.path.join(r.bindir, "genie-settle")] + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, "genie-settle %s: %s" % (args[0], p.stderr))
    return p.stdout.strip()


def wait_tx(node, txid):
    got = {}

    def committed():
        c = node.cli("tx", "status", txid)
        got["c"] = c
        return c.returncode == 0 and c.json and c.json.get("status") == "committed"
    wait_for(committed, timeout=HEIGHT_TIMEOUT, interval=0.2, what="tx %s committed" % txid[:12])


def submit_raw(node, tx_hex):
    """tx_submit of a tx the stand-in tool signed; waits until committed; its txid."""
    res = node.call("tx_submit", {"tx": tx_hex})
    txid = res["txid"] if isinstance(res, dict) else res[0]["txid"]
    wait_tx(node, txid)
    return txid


def check_world(net, st):
    st["as_key"], st["runner_id"] = net.start_attested()
    runner, _ = start_certified_runner(net, st["as_key"], "runner", certify_as="runner-1")
    st["runner"] = runner
    for kind in ("validation", "training"):
        st[kind] = spawn_registered(runner, kind)
    st["reg_height"] = max(st["validation"]["registered_height"],
                           st["training"]["registered_height"])
    trainer, st["trainer_account"], _ = start_trainer(
        net, [net.nodes[0].address(), runner.address()], st["reg_height"])
    st["trainer"] = trainer
    st["spec"] = register_spec(trainer, st["training"]["measurement"], "rs1,rs2", "t2d", 2,
                               "1.0", 10, "6000,3000,1000")["spec_id"]
    for i, name in ((0, "owner1"), (3, "owner4")):
        start_owner(net, st, name, i)
    recruit_until_offered(trainer, st["spec"],
                          [st["owners"][n]["node"] for n in ("owner1", "owner4")])
    print("  spec %s... (min 2 donors, price 10); owners 1 and 4 have the offer"
          % st["spec"][:16])
    return True


def check_stand_ins(net, st):
    r, runner = net.r, st["runner"]
    plat = os.path.join(r.tmp, "platform-2")
    p = subprocess.run([os.path.join(r.bindir, "genie-quote"), "pubkey", "--platform", plat],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, "genie-quote pubkey: %r" % p.stderr)
    cert = os.path.join(r.tmp, "platform-2.cert")
    attest_certify(r, st["as_key"], p.stdout.strip(), "runner-2", st["runner_id"], cert)
    p = subprocess.run([os.path.join(r.bindir, "genie-quote"), "install", "--platform", plat,
                        "--cert", cert], capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, "install: %r" % p.stderr)
    for name, seed, meas, kind in (("S", S_SEED, st["training"]["measurement"], "training"),
                                   ("Q", Q_SEED, QM, "query")):
        quote = os.path.join(r.tmp, name + ".quote")
        st[name] = tool(r, "quote", "--platform", plat, "--seed", seed, "--measurement", meas,
                        "--kind", kind, "--chain", runner.status()["chain_id"], "--out", quote)
        c = runner.cli("enclave", "register", quote, "--kind", kind, "--from", st["runner_id"],
                       "--wait", WAIT_S)
        expect(c.returncode == 0, "register %s: %r" % (name, c))
        print("  stand-in %s enclave %s %s... registered" % (kind, name, st[name][:16]))
    return True


def check_train_start(net, st):
    trainer, spec = st["trainer"], st["spec"]
    o1, o4 = st["owners"]["owner1"], st["owners"]["owner4"]
    c = donate(o1["node"], spec, "--wait", WAIT_S)
    expect(c.returncode == 0, "donate owner1: %r" % c)
    st["S"] = tool(net.r, "id", "--seed", S_SEED)
    args = ("train", "start", spec, "--coordinator", st["S"], "--rounds", "3",
            "--query-measurement", QM)
    c = trainer.cli(*args)
    expect(c.returncode != 0 and "min_donors" in c.stderr, "train start with 1 donor: %r" % c)
    print("  1 donor: refused (%s)" % c.error_lines()[0][:90])
    c = donate(o4["node"], spec, "--wait", WAIT_S)
    expect(c.returncode == 0, "donate owner4: %r" % c)
    c = trainer.cli("train", "start", spec, "--coordinator", st["S"], "--rounds", "0",
                    "--query-measurement", QM)
    expect(c.returncode == 2, "rounds 0: %r" % c)
    # the stand-ins register after the donations: a donation goes to the newest training
    # enclave of the spec's measurement, and the stand-in S runs nowhere
    check_stand_ins(net, st)
    c = trainer.cli(*args, "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json["status"] == "committed", "train start: %r" % c)
    st["job"] = c.json["job_id"]
    # the donors in seq order: owner1 then owner4 (both through the runner's enclave)
    st["used"] = [o1["data"], o4["data"]]
    print("  2 donors: job %s... committed" % st["job"][:16])
    return True


def check_publish(net, st):
    r, auth, trainer = net.r, net.nodes[0], st["trainer"]
    used = ",".join("%d:%s" % (i, d) for i, d in enumerate(st["used"]))
    tx = tool(r, "publish", "--seed", S_SEED, "--chain", auth.status()["chain_id"],
              "--account-seed", "c1" * 32, "--job", st["job"], "--spec", st["spec"],
              "--used", used, "--parties", "%s:2:10000" % st["training"]["id"],
              "--model-hash", "4d" * 32)
    st["model"] = submit_raw(auth, tx)
    c = trainer.cli("models", "--spec", st["spec"])
    expect(c.returncode == 0 and len(c.json) == 1 and c.json[0]["model_id"] == st["model"]
           and c.json[0]["model_hash"] == "4d" * 32 and c.json[0]["n_records"] == 2,
           "models: %r" % c)
    c = trainer.cli("model", "show", st["model"])
    expect(c.returncode == 0 and c.json["job"]["status"] == "published"
           and c.json["spec"]["price"] == 10 and c.json["query_measurement"] == QM
           and c.json["coordinator"] == st["S"]
           and c.json["parties"][0]["enclave_id"] == st["training"]["id"],
           "model show: %r" % c)
    c = trainer.cli("model", "show", st["model"], json_out=False)
    expect(c.returncode == 0 and "accuracy" in c.stdout and "10 per query" in c.stdout,
           "model show (text): %r" % c)
    for name in ("owner1", "owner4"):
        o = st["owners"][name]
        uses = audit_uses(o["node"], o["data"])
        trained = [u for u in uses if u["use"] == "TRAINED"]
        expect(len(trained) == 1 and trained[0]["actor"] == st["S"]
               and trained[0]["txid"] == st["model"], "%s audit: %r" % (name, uses))
    print("  model %s... published; TRAINED in both owners' audit trails" % st["model"][:16])
    return True


def check_nothing_owed(net, st):
    o1 = st["owners"]["owner1"]["node"]
    c = o1.cli("earnings")
    expect(c.returncode == 0 and c.json["owed"] == 0 and c.json["role"] == 0
           and [m["model_id"] for m in c.json["models"]] == [st["model"]]
           and c.json["models"][0]["n_records"] == 1, "earnings: %r" % c)
    c = o1.cli("claim")
    expect(c.returncode != 0 and "nothing is owed" in c.stderr, "claim: %r" % c)
    print("  owner1: nothing owed yet; claim refused (%s)" % c.error_lines()[0][:70])
    return True


def check_buy(net, st):
    user, st["user_account"] = start_funded_user(net, [net.nodes[0].address()],
                                                 st["reg_height"], FUND)
    st["user"] = user
    c = user.cli("query", "buy", "ab" * 32, "--count", "5")
    expect(c.returncode != 0 and "no model" in c.stderr, "buy of an unknown model: %r" % c)
    c = user.cli("query", "buy", st["model"], "--count", "0")
    expect(c.returncode == 2, "buy of 0: %r" % c)
    c = user.cli("query", "buy", st["model"], "--count", "7", "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json["status"] == "committed" and c.json["cost"] == 70,
           "query buy: %r" % c)
    st["buy"] = c.json["buy_id"]
    path = c.json["code_file"]
    expect(path == os.path.join(user.datadir, "access", st["buy"] + ".code"), "code file path")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    with open(path) as f:
        code = f.read()
    expect(mode == 0o600 and len(code) == 65 and code.endswith("\n")
           and all(ch in "0123456789abcdef" for ch in code[:64]), "code file: %o %r" % (mode, code))
    expect(balance(user, st["user_account"]) == FUND - 70, "balance after the buy")
    b = user.call("buy_show", {"buy_id": st["buy"]})
    expect(b["escrow"] == 70 and b["count"] == 7 and b["claimed"] == 0
           and b["buyer"] == st["user_account"] and b["model_id"] == st["model"],
           "buy_show: %r" % b)
    print("  user bought 7 queries: balance %d -> %d, escrow 70, code file 0600" %
          (FUND, FUND - 70))
    return True


def check_settle(net, st):
    r, auth, user, trainer = net.r, net.nodes[0], st["user"], st["trainer"]
    tx = tool(r, "usage", "--seed", Q_SEED, "--chain", auth.status()["chain_id"],
              "--account-seed", "c2" * 32, "--model", st["model"], "--buy", st["buy"],
              "--count", "3")
    submit_raw(auth, tx)
    b = user.call("buy_show", {"buy_id": st["buy"]})
    expect(b["escrow"] == 40 and b["claimed"] == 3, "escrow after 3 queries: %r" % b)
    o1, o4 = st["owners"]["owner1"]["node"], st["owners"]["owner4"]["node"]
    for node, want in ((o1, 9), (o4, 9)):
        c = node.cli("earnings")
        expect(c.returncode == 0 and c.json["owed"] == want, "donor earnings: %r" % c)
    c = trainer.cli("earnings")
    expect(c.returncode == 0 and c.json["role"] == 9, "trainer earnings: %r" % c)
    for node, account in ((o1, st["owners"]["owner1"]["account"]),
                          (trainer, st["trainer_account"])):
        before = balance(node, account)
        c = node.cli("claim", "--wait", WAIT_S)
        expect(c.returncode == 0 and c.json["owed"] == 9, "claim: %r" % c)
        wait_for(lambda: balance(node, account) == before + 9, timeout=HEIGHT_TIMEOUT,
                 interval=0.2, what="the claim in the balance")
        c = node.cli("claim")
        expect(c.returncode != 0 and "nothing is owed" in c.stderr, "second claim: %r" % c)
    # the same count again (another sender, so another tx) adds nothing: refused
    again = tool(r, "usage", "--seed", Q_SEED, "--chain", auth.status()["chain_id"],
                 "--account-seed", "c3" * 32, "--model", st["model"], "--buy", st["buy"],
                 "--count", "3")
    try:
        res = json.dumps(auth.call("tx_submit", {"tx": again}))
    except RuntimeError as e:
        res = str(e)
    expect("adds no queries" in res, "the same usage count again: %r" % res)
    # conservation of the user's 1,000 units: its balance, the escrow, what owner1 and the
    # trainer were paid (9 each), what owner4 is owed, and the runner's 3 (10% of 30, role
    # earnings of the runner account, the authority's)
    total = (balance(user, st["user_account"]) + b["escrow"] + 9 + 9  # owner1, trainer paid
             + o4.cli("earnings").json["owed"] + 3)                     # owner4 owed, runner
    expect(total == FUND, "conservation: %d != %d" % (total, FUND))
    print("  usage of 3 settled: runner 3, trainer 9, donors 9 + 9; owner1 and the trainer "
          "claimed 9 each; 1,000 units accounted for")
    return True


STEPS = (
    ("a testnet with a runner, a trainer's spec and two owners", check_world),
    ("train start refused below min_donors, accepted at it (stand-in enclaves registered)",
     check_train_start),
    ("a publication by the coordinator writes the model and TRAINED", check_publish),
    ("earnings show nothing owed; claim refused", check_nothing_owed),
    ("query buy moves the price into escrow", check_buy),
    ("a usage report settles by the shares; claims pay exactly", check_settle),
)


if __name__ == "__main__":
    run_ledger_steps("test_settle", STEPS)

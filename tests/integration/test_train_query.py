#!/usr/bin/env python3
"""test_train_query: federated training, a published model, paid queries and settlement
(issue 16, flows 5 and 6), with real processes.

Scenarios (named checks, in order):
  1. A 1-authority testnet whose genesis names an attestation service; runner1 (the
     authority's account) spawns a validation, a training and a query enclave; runner2 (its
     own account) is certified too. Every enclave registers.
  2. A trainer registers and registers a logistic spec over a synthetic phenotype table
     (features age, bmi, quant; label trait; no DP; price 10; shares 60/30/10 %).
  3. Two data owners, each with two slices of the cohort's phenotypes.csv (genie-cohort):
     ownerA donates both to runner1's training enclave (the only one then); runner2 then
     spawns its training enclave (the newest, so donations go there) and ownerB donates
     both to it. The spec has 4 donors at 2 enclaves; ownerB then withdraws one record.
  3b. Forged TRAIN_PREPAREs (enclave_wire's encoding, built here) relayed by an owner's
     node: one for a made-up job (with an empty eligible list) is refused by runner1's
     relay before its training enclave sees it, and the enclave's STATS still shows both
     its donations afterwards.
  4. `genie train start` with runner1's training enclave as the coordinator and the query
     enclave's measurement: runner1's node_train drives TRAIN_PREPARE to both parties (one
     across p2p unicast to runner2), FED_STEP rounds, PUBLISH and MODEL_PUBLISH; `genie
     train status` shows the job published, the withdrawn record left out (runner1 holds 2
     used records, runner2 1), the model on the ledger (its parties, weights summing to
     10000, metrics), and each used record's audit trail has TRAINED by the coordinator
     (the withdrawn one none). Once runner2's ledger shows the job running, a forged
     TRAIN_PREPARE for it with an empty eligible list, relayed by an owner's node to
     runner2's enclave, is refused by runner2 (the list is not what its ledger makes
     eligible); the job's parties still prepare with all their eligible records.
  5. runner1's query enclave follows the chain (CHAIN), gets the model sealed by the
     coordinator (MODEL_SEAL with its quote) and loads it with the MODEL_PUBLISH proof: the
     hash it answers equals the ledger's model hash.
  6. A user (funded by a transfer) runs `genie query buy MODEL --count 5` and `genie query
     run MODEL --input FILE` on 3 rows: 3 predictions in [0, 1], 3 of 5 used. Refused: 3
     more rows (spent); the 2 left answer (text output: one line a row). Refused too: a
     buy id the ledger does not know, a run on a node without a buy, and a run with a
     wrong access code (by the enclave).
  7. Settlement: runner1 claims the usage (`genie query status --flush`), the ledger's
     claimed count becomes 5; `genie claim` on each account moves its share into its
     balance: the runner's and the trainer's exactly fee * share / 10000, each owner's
     exactly floor(pool / records) per record of its party's pool (the published weight);
     what the user paid is conserved to the unit (escrow left + moved + pool dust).
  8. A peer's PUBLISH (to the coordinator) and CHAIN (to the query enclave) are refused by
     runner1's relay: only the runner itself sends them.
  9. Canary: the owners' row ids (a unique string) are afterwards in no file under the
     test's directory but the originals (datadirs, ledgers, every log; both runners log
     the hex of every relayed request and answer at trace level).

    python3 test_train_query.py --bindir BUILD_DIR [--keep]
"""

import csv
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (HEIGHT_TIMEOUT, WAIT_S, add_data, audit_uses, balance,  # noqa: E402
                           expect, expect_no_canary, recruit_until_offered, register_spec,
                           run_ledger_steps, spawn_registered, start_account_node,
                           start_certified_runner, start_funded_user, start_trainer, stop_clean,
                           wait_for)

TRAIN_TIMEOUT = 180.0
PRICE = 10
SHARES = (6000, 3000, 1000)  # donors, trainer, runner (basis points)
BUY_COUNT = 5
COHORT_SEED = 16


def certified_runner(net, st, name, own_account):
    """Runner NAME at trace level (linked to the authority and runner1 once it runs),
    certified for the authority's account or, with OWN_ACCOUNT, one of its own; kept as
    st[NAME], its account as st[NAME_account]."""
    peers = [net.nodes[0].address()] + [st[k].address() for k in ("runner1",) if k in st]
    st[name], st[name + "_account"] = start_certified_runner(
        net, st["as_key"], name, own_account=own_account, peers=peers, log_level="trace")
    return st[name]


def check_testnet(net, st):
    st["as_key"], _ = net.start_attested()
    r1 = certified_runner(net, st, "runner1", own_account=False)
    st["validation"] = spawn_registered(r1, "validation")
    st["t1"] = spawn_registered(r1, "training")
    st["query"] = spawn_registered(r1, "query")
    certified_runner(net, st, "runner2", own_account=True)
    st["reg_height"] = max(st[k]["registered_height"] for k in ("validation", "t1", "query"))
    return True


def check_trainer(net, st):
    trainer, st["trainer_account"], _ = start_trainer(
        net, [net.nodes[0].address(), st["runner1"].address()], st["reg_height"])
    st["trainer"] = trainer
    st["spec"] = register_spec(trainer, st["t1"]["measurement"], "age,bmi,quant", "trait", 4,
                               0, PRICE, ",".join(str(x) for x in SHARES))["spec_id"]
    print("  spec %s... (logistic on age, bmi, quant -> trait)" % st["spec"][:16])
    return True


def cohort_slices(r, st):
    out = os.path.join(r.tmp, "cohort")
    print("  cohort seed %d" % COHORT_SEED)
    p = subprocess.run([os.path.join(r.bindir, "genie-cohort"), "--out", out, "--samples",
                        "200", "--snps", "50", "--csv", "--seed", str(COHORT_SEED)],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, "genie-cohort: %r" % p.stderr)
    with open(os.path.join(out, "phenotypes.csv")) as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    expect(header[:1] == ["id"] and "trait" in header and "quant" in header,
           "phenotypes.csv header: %r" % header)
    st["header"] = header
    # the owners' row ids carry a canary (checked at the end in every file and log)
    st["canary"] = "GENIE-TQ-CANARY-%d-%s" % (os.getpid(), os.urandom(6).hex())
    st["files"] = os.path.join(r.tmp, "owner-files")
    os.makedirs(st["files"])
    paths = []
    for k in range(5):  # four donated slices of 40 rows, and the user's queries
        path = os.path.join(st["files"] if k < 4 else r.tmp, "slice-%d.csv" % k)
        rows_k = body[k * 40:(k + 1) * 40]
        if k < 4:
            rows_k = [["%s-%d-%d" % (st["canary"], k, i)] + row[1:]
                      for i, row in enumerate(rows_k)]
        with open(path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows_k)
        paths.append(path)
    return paths


def start_owner(net, st, name, files):
    """Data owner NAME (linked to the authority, both runners and the trainer) with its own
    account and the phenotype tables FILES added, consenting to logistic models for
    research; kept in st["owners"][NAME] as {node, account, data: [ids]}."""
    owner, account = start_account_node(
        net, name, "data-owner", [net.nodes[0].address(), st["runner1"].address(),
                                  st["runner2"].address(), st["trainer"].address()],
        st["reg_height"])
    ids = [add_data(owner, path, "phenotype", "%s-%d" % (name, i)).json["data_id"]
           for i, path in enumerate(files)]
    c = owner.cli("consent", "set", "--allow-types", "logistic", "--allow-purposes", "research",
                  "--max-epsilon", "1", "--wait", WAIT_S)
    expect(c.returncode == 0, "%s consent set: %r" % (name, c))
    st.setdefault("owners", {})[name] = {"node": owner, "account": account, "data": ids}
    return owner


def donate_all(st, name, enclave):
    o = st["owners"][name]
    recruit_until_offered(st["trainer"], st["spec"], [o["node"]])
    c = o["node"].cli("donate", st["spec"], "--wait", WAIT_S, timeout=120)
    expect(c.returncode == 0 and c.json, "%s donate: %r" % (name, c))
    d = c.json["donations"]
    expect(len(d) == 2 and all(x["ok"] and x["enclave"] == enclave for x in d),
           "%s donations: %r" % (name, d))
    print("  %s donated %d records to %s..." % (name, len(d), enclave[:16]))


def check_donors(net, st):
    files = cohort_slices(net.r, st)
    st["query_file"] = files[4]
    start_owner(net, st, "ownerA", files[0:2])
    donate_all(st, "ownerA", st["t1"]["id"])
    st["t2"] = spawn_registered(st["runner2"], "training")
    start_owner(net, st, "ownerB", files[2:4])
    donate_all(st, "ownerB", st["t2"]["id"])
    c = st["trainer"].cli("spec", "list")
    spec = [s for s in c.json if s["spec_id"] == st["spec"]][0]
    expect(spec["donors"] == 4, "spec donors: %r" % spec)
    # ownerB withdraws its second record: it stays a donor on the ledger, but is no longer
    # eligible, so the training must leave it out
    ob = st["owners"]["ownerB"]
    c = ob["node"].cli("data", "withdraw", ob["data"][1], "--wait", WAIT_S)
    expect(c.returncode == 0, "withdraw: %r" % c)
    st["withdrawn"] = ob["data"][1]
    st["withdraw_height"] = c.json.get("tx_height") or 0
    print("  ownerB withdrew %s... (a donor record no longer eligible)" % ob["data"][1][:16])
    return True


# ---- enclave_wire requests built here (msgpack, as enclave_wire_req_encode writes them)

def mp_uint(v):
    if v < 0x80:
        return bytes([v])
    if v < 0x100:
        return b"\xcc" + bytes([v])
    return b"\xce" + v.to_bytes(4, "big")


def mp_bin(b):
    expect(len(b) < 256, "mp_bin: short bins only")
    return b"\xc4" + bytes([len(b)]) + b


def mp_read_uint(b, off):
    """The msgpack unsigned int at B[OFF]."""
    t = b[off]
    if t < 0x80:
        return t
    size = {0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8}[t]
    return int.from_bytes(b[off + 1:off + 1 + size], "big")


def train_prepare(job, spec, parties, party, coordinator, eligible, query_m, attest_pk):
    """TRAIN_PREPARE (type 11): [1, 11, job_id, spec_id, config, party, parties [[sign_pk,
    box_pk]...], coordinator, eligible [data_id...], query_measurement, attest_pk]: an
    array of 11."""
    out = b"\x9b" + mp_uint(1) + mp_uint(11) + mp_bin(job) + mp_bin(spec)
    out += mp_bin(b"\x90") + mp_uint(party) + bytes([0x90 | len(parties)])
    for sign_pk, box_pk in parties:
        out += b"\x92" + mp_bin(sign_pk) + mp_bin(box_pk)
    out += mp_uint(coordinator) + bytes([0x90 | len(eligible)])
    for d in eligible:
        out += mp_bin(d)
    return out + mp_bin(query_m) + mp_bin(attest_pk)


def enclave_keys(node, enclave):
    """(sign_pk, box_pk) of the registered training enclave ENCLAVE (the ledger's)."""
    for e in node.call("enclave_list", {"kind": "training"}):
        if e["id"] == enclave:
            return bytes.fromhex(e["sign_pk"]), bytes.fromhex(e["box_pk"])
    raise AssertionError("enclave %s not registered" % enclave)


def attest_pk(net):
    with open(net.genesis) as f:
        return bytes.fromhex(json.load(f)["attestation_service"])


def enclave_stats(node, enclave):
    """STATS of ENCLAVE through NODE's relay: the donations it holds."""
    state, ans = relay_call(node, enclave, b"\x92\x01\x05")
    expect(state in ("answer", "done"), "STATS: %s %r" % (state, ans))
    a = bytes.fromhex(ans)
    expect(a[:3] == b"\x94\x01\x45", "STATS answer: %r" % ans)  # [1, 69 STATS, n, bytes]
    return mp_read_uint(a, 3)


def check_forged_unknown_job(net, st):
    """A TRAIN_PREPARE for a job the ledger does not know, with an empty eligible list
    (what would make the enclave wipe every donation of the spec), relayed to runner1's
    training enclave by an owner's node: runner1 refuses it; the enclave keeps both of
    ownerA's donations (none withdrawn)."""
    peer, t1 = st["owners"]["ownerA"]["node"], st["t1"]["id"]
    before = enclave_stats(peer, t1)
    expect(before == 2, "runner1's training enclave holds %d donations, not 2" % before)
    keys = enclave_keys(peer, t1)
    req = train_prepare(os.urandom(32), bytes.fromhex(st["spec"]), [keys], 0, 0, [],
                        bytes.fromhex(st["query"]["measurement"]), attest_pk(net))
    state, detail = relay_call(peer, t1, req)
    expect(state == "failed" and "TRAIN_PREPARE refused by the runner" in detail
           and "no such training job" in detail, "forged TRAIN_PREPARE: %s %r" % (state, detail))
    after = enclave_stats(peer, t1)
    expect(after == before, "donations after the forged TRAIN_PREPARE: %d of %d" %
           (after, before))
    print("  made-up job refused by runner1: %s; STATS still %d donations" % (detail, after))
    return True


def forged_empty_list(net, st, job):
    """A TRAIN_PREPARE for the running JOB with an empty eligible list, relayed by an
    owner's node to runner2's enclave (party 1, runner1's the coordinator): runner2 reads
    the job on its own ledger and refuses the list."""
    spec = st["spec"]

    def running():
        j = status(st["runner2"], spec).get("job") or {}
        return j.get("id") == job and j.get("status") in ("running", "published")
    wait_for(running, timeout=HEIGHT_TIMEOUT, interval=0.1, what="runner2's ledger has the job")
    peer, t1, t2 = st["owners"]["ownerB"]["node"], st["t1"]["id"], st["t2"]["id"]
    req = train_prepare(bytes.fromhex(job), bytes.fromhex(spec),
                        [enclave_keys(peer, t1), enclave_keys(peer, t2)], 1, 0, [],
                        bytes.fromhex(st["query"]["measurement"]), attest_pk(net))
    state, detail = relay_call(peer, t2, req)
    # the job runs for seconds; should it have published already, the refusal says so
    expect(state == "failed" and "TRAIN_PREPARE refused by the runner" in detail
           and ("names 0 records" in detail or "not running" in detail),
           "forged TRAIN_PREPARE with an empty list: %s %r" % (state, detail))
    print("  empty eligible list for the running job refused by runner2: %s" % detail)


def status(node, spec):
    c = node.cli("train", "status", spec)
    expect(c.returncode == 0 and c.json, "train status: %r" % c)
    return c.json


def check_train(net, st):
    trainer, spec = st["trainer"], st["spec"]
    c = trainer.cli("train", "start", spec, "--coordinator", st["t1"]["id"], "--rounds", "3",
                    "--query-measurement", st["query"]["measurement"], "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json, "train start: %r" % c)
    st["job"] = c.json.get("job_id") or c.json.get("txid")
    forged_empty_list(net, st, st["job"])
    got = {}

    def published():
        got["s"] = status(st["runner1"], spec)
        local = got["s"].get("local") or {}
        if local.get("phase") == "failed":
            raise AssertionError("training failed: %s" % local.get("why"))
        return ((got["s"].get("job") or {}).get("status") == "published"
                and local.get("phase") == "done")
    wait_for(published, timeout=TRAIN_TIMEOUT, interval=0.5, what="the model published")
    s = got["s"]
    local, model = s["local"], s["model"]
    expect(local["phase"] == "done" and local["rounds"] == 3 and len(local["parties"]) == 2
           and local["excluded"] == 1, "local status: %r" % local)
    want_records = {st["t1"]["id"]: 2, st["t2"]["id"]: 1}  # ownerB's withdrawn one left out
    for p in local["parties"]:
        n = want_records[p["enclave"]]
        expect(p["prepared"] and p["eligible"] == n and p["n_records"] == n
               and p["coordinator"] == (p["enclave"] == st["t1"]["id"]), "party: %r" % p)
    expect(model and len(model["parties"]) == 2 and model["n_records"] == 3
           and sum(p["weight_bp"] for p in model["parties"]) == 10000
           and all(p["n_records"] == want_records[p["enclave"]] for p in model["parties"]),
           "model: %r" % model)
    # the audit trails: TRAINED by the coordinator on each used record, not on the withdrawn
    for o in st["owners"].values():
        for d in o["data"]:
            uses = audit_uses(o["node"], d)
            trained = [u for u in uses if u["use"] == "TRAINED"]
            if d == st["withdrawn"]:
                expect(not trained, "the withdrawn record was trained on: %r" % uses)
            else:
                expect(len(trained) == 1 and trained[0]["actor"] == st["t1"]["id"]
                       and trained[0]["spec_id"] == st["spec"], "audit of %s: %r" % (d, uses))
    st["model"] = model["id"]
    st["model_hash"] = model["model_hash"]
    st["parties"] = model["parties"]
    st["model_height"] = model["height"]
    c = st["runner1"].cli("train", "status", spec, json_out=False)
    expect(c.returncode == 0 and "round 3 of 3" in c.stdout and "(coordinator)" in c.stdout
           and model["model_hash"] in c.stdout, "train status (text): %r" % c)
    ts = status(trainer, spec)  # the trainer sees the ledger's part
    expect(ts["model"]["model_hash"] == model["model_hash"] and ts["local"] is None,
           "trainer's status: %r" % ts)
    print("  model %s... published: hash %s..., metrics %r, weights %r" %
          (model["id"][:16], model["model_hash"][:16], model["metrics"],
           [p["weight_bp"] for p in model["parties"]]))
    return True


def check_loaded(net, st):
    runner, got = st["runner1"], {}

    def loaded():
        c = runner.cli("query", "status")
        for e in (c.json or {}).get("enclaves", []):
            if e["enclave"] == st["query"]["id"]:
                got["e"] = e
                return any(m["model"] == st["model"] for m in e["models"])
        return False
    wait_for(loaded, timeout=HEIGHT_TIMEOUT, interval=0.5, what="the query enclave loads it")
    e = got["e"]
    m = [m for m in e["models"] if m["model"] == st["model"]][0]
    expect(e["chain"] is True and m["model_hash"] == st["model_hash"], "loaded: %r" % e)
    print("  query enclave %s... loaded model %s... with hash %s... (= the ledger's)" %
          (e["enclave"][:16], st["model"][:16], m["model_hash"][:16]))
    return True


def query_rows(st, n, name):
    path = os.path.join(os.path.dirname(st["query_file"]), name)
    with open(st["query_file"]) as f:
        rows = list(csv.reader(f))
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(rows[0])
        w.writerows([r for r in rows[1:] if "" not in r][:n])
    return path


def check_query(net, st):
    auth = net.nodes[0]
    user, st["user_account"] = start_funded_user(
        net, [auth.address(), st["runner1"].address()], st["model_height"], 1000)
    st["user"] = user
    st["balances0"] = {k: balance(auth, st[k]) for k in
                       ("user_account", "trainer_account", "runner1_account")}
    c = user.cli("query", "buy", st["model"], "--count", str(BUY_COUNT), "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json, "query buy: %r" % c)
    st["buy"] = c.json.get("buy_id") or c.json.get("txid")
    expect(balance(auth, st["user_account"]) == st["balances0"]["user_account"]
           - PRICE * BUY_COUNT, "the buy's cost did not leave the balance")
    c = user.cli("query", "run", st["model"], "--input", query_rows(st, 3, "q3.csv"),
                 timeout=120)
    expect(c.returncode == 0 and c.json, "query run: %r" % c)
    preds = c.json["predictions"]
    expect(len(preds) == 3 and all(0.0 <= p <= 1.0 for p in preds)
           and c.json["used"] == 3 and c.json["count"] == BUY_COUNT
           and c.json["buy"] == st["buy"], "query run: %r" % c.json)
    print("  3 predictions %r (3 of %d used)" % ([round(p, 4) for p in preds], BUY_COUNT))
    st["preds"] = preds
    # spent: 3 more rows than the 2 left
    c = user.cli("query", "run", st["model"], "--input", query_rows(st, 3, "q3b.csv"))
    expect(c.returncode != 0 and "refused" in c.stderr, "spent count: %r" % c)
    print("  refused (spent): %s" % " ".join(c.error_lines()))
    # the 2 left, in text form: one "id<TAB>prediction" line a row
    c = user.cli("query", "run", st["model"], "--input", query_rows(st, 2, "q2.csv"),
                 json_out=False)
    lines = c.stdout.strip().splitlines()
    expect(c.returncode == 0 and len(lines) == 2
           and all(len(x.split("\t")) == 2 and 0.0 <= float(x.split("\t")[1]) <= 1.0
                   for x in lines) and "5 of 5 queries used" in c.stderr,
           "query run (text): %r" % c)
    st["used"] = BUY_COUNT
    # a buy the ledger does not know
    c = user.cli("query", "run", st["model"], "--input", query_rows(st, 1, "q1.csv"),
                 "--buy", "ab" * 32)
    expect(c.returncode != 0 and "buy" in c.stderr, "unknown buy: %r" % c)
    # a node with no buy at all
    c = st["trainer"].cli("query", "run", st["model"], "--input", query_rows(st, 1, "q1.csv"))
    expect(c.returncode != 0 and "buy" in c.stderr, "no buy: %r" % c)
    # the right buy with a wrong access code: the enclave refuses
    access = os.path.join(st["trainer"].datadir, "access")
    os.makedirs(access, exist_ok=True)
    path = os.path.join(access, st["buy"] + ".code")
    with open(path, "w") as f:
        f.write("00" * 32 + "\n")
    os.chmod(path, 0o600)
    c = st["trainer"].cli("query", "run", st["model"], "--input", query_rows(st, 1, "q1.csv"),
                          "--buy", st["buy"])
    expect(c.returncode != 0 and "refused" in c.stderr, "wrong code: %r" % c)
    print("  refused: unknown buy, no buy, wrong access code (%s)" % " ".join(c.error_lines()))
    return True


def usage_claims(runner, buy):
    """The cumulative query counts RUNNER submitted in USAGE_CLAIMs for BUY, in order (its
    log: "usage of buy <first 16 hex> claimed: N queries"), each claimed once."""
    needle = re.compile(r"usage of buy %s claimed: (\d+) queries" % buy[:16])
    with open(runner.log_path, errors="replace") as f:
        counts = [int(m.group(1)) for m in needle.finditer(f.read())]
    return sorted(set(counts))


def check_settle(net, st):
    auth, runner = net.nodes[0], st["runner1"]
    c = runner.cli("query", "status", "--flush")
    expect(c.returncode == 0, "query status --flush: %r" % c)

    def claimed():
        c = runner.cli("query", "status")
        return any(u["buy"] == st["buy"] and u["confirmed"] == st["used"]
                   for u in (c.json or {}).get("usage", []))
    wait_for(claimed, timeout=HEIGHT_TIMEOUT, interval=0.5, what="the usage claimed")
    fee = PRICE * st["used"]
    # the runner may claim the usage in more than one USAGE_CLAIM (cumulative counts: the 3
    # queries it served first, then all 5 at the flush), and the contract splits each
    # claim's fee with floors: the claims it submitted are in its log
    counts = usage_claims(runner, st["buy"])
    expect(counts and counts[-1] == st["used"], "usage claims of the buy: %r" % counts)
    runner_part = trainer_part = 0
    parties = st["parties"]
    pools = [0] * len(parties)
    for new in (b - a for a, b in zip([0] + counts, counts)):
        # each claim: runner and trainer fee * share / 10000, the donors the rest; party p's
        # part floor(donors * weight / 10000), the remainder to party 0; an owner holding
        # n_p of party p's records is paid floor(pool_p / n_p) per record
        claim_fee = PRICE * new
        runner_part += claim_fee * SHARES[2] // 10000
        trainer_part += claim_fee * SHARES[1] // 10000
        donors_part = claim_fee - claim_fee * SHARES[2] // 10000 - claim_fee * SHARES[1] // 10000
        parts = [donors_part * p["weight_bp"] // 10000 for p in parties]
        parts[0] += donors_part - sum(parts)
        pools = [x + y for x, y in zip(pools, parts)]
    holder = {st["t1"]["id"]: "ownerA", st["t2"]["id"]: "ownerB"}
    want = {"runner1_account": runner_part, "trainer_account": trainer_part}
    for p, pool in zip(parties, pools):
        want[holder[p["enclave"]]] = (pool // p["n_records"]) * p["n_records"]
    expect(set(want) == {"runner1_account", "trainer_account", "ownerA", "ownerB"},
           "parties: %r" % parties)
    nodes = {"trainer_account": (st["trainer"], st["trainer_account"]),
             "runner1_account": (runner, st["runner1_account"])}
    for n, o in st["owners"].items():
        nodes[n] = (o["node"], o["account"])
    moved = {}
    for key, (node, acct) in nodes.items():
        before = balance(auth, acct)
        c = node.cli("earnings")
        expect(c.returncode == 0, "earnings %s: %r" % (key, c))
        c = node.cli("claim", "--wait", WAIT_S)
        expect(c.returncode == 0 or (want[key] == 0 and "owed" in c.stderr),
               "claim %s: %r" % (key, c))
        moved[key] = balance(auth, acct) - before
    expect(moved == want, "moved %r, want %r" % (moved, want))
    dust = fee - sum(moved.values())
    expect(0 <= dust < 4, "dust %d" % dust)
    # conservation: what left the user's balance is in the escrow, in the balances it
    # moved to, or left in the pools (the dust)
    buy = auth.call("buy_show", {"buy_id": st["buy"]})
    expect(buy["claimed"] == st["used"] and buy["escrow"] == PRICE * (BUY_COUNT - st["used"]),
           "buy: %r" % buy)
    spent = st["balances0"]["user_account"] - balance(auth, st["user_account"])
    expect(spent == buy["escrow"] + sum(moved.values()) + dust,
           "not conserved: user paid %d, escrow %d, moved %d, dust %d" %
           (spent, buy["escrow"], sum(moved.values()), dust))
    print("  fee %d (claimed as %s queries): runner %d, trainer %d, ownerA %d, ownerB %d "
          "(dust %d left in the pools)" % (fee, " then ".join(str(x) for x in counts),
                                          moved["runner1_account"], moved["trainer_account"],
                                          moved["ownerA"], moved["ownerB"], dust))
    return True


def relay_call(node, enclave, request):
    """enclave_call through NODE's relay; the final answer or error (text)."""
    res = node.call("enclave_call", {"enclave": enclave, "request": request.hex()})
    if "answer" in res:
        return "answer", res["answer"]
    got = {}

    def done():
        got["r"] = node.call("enclave_call_result", {"call": res["call"]})
        return got["r"]["state"] != "pending"
    wait_for(done, timeout=30, interval=0.2, what="the relayed call ends")
    return got["r"]["state"], got["r"].get("error") or got["r"].get("answer")


def check_runner_only(net, st):
    """A peer cannot ask the coordinator for PUBLISH (its answer holds the model in clear)
    nor feed a query enclave another CHAIN: runner1 refuses both before its enclaves see
    them. The same PUBLISH on runner1's own relay path is the driver's (node_train.c)."""
    job = bytes.fromhex(st["job"])
    bin32 = b"\xc4\x20"
    publish = b"\x94\x01\x0d" + bin32 + job + b"\x91" + bin32 + bytes(32)
    chain = b"\x93\x01\x0a\xc4\x04" + b"\x90\x90\x90\x90"
    for what, enclave, req in (("PUBLISH", st["t1"]["id"], publish),
                               ("CHAIN", st["query"]["id"], chain)):
        state, detail = relay_call(st["user"], enclave, req)
        expect(state == "failed" and "not relayed" in detail,
               "%s from a peer: %s %r" % (what, state, detail))
        print("  %s from the user's node refused by runner1: %s" % (what, detail))
    return True


def check_canary(net, st):
    """The owners' row ids (the canary) are in no file under the test's directory but the
    owners' originals: no datadir (stores, ledgers, the model's publication), no log of any
    node (both runners ran at trace level, where the relay logs the hex of what it
    carries: FED_STEP messages, MODEL_SEAL answers), no answer the user got."""
    scanned = expect_no_canary(net.r.tmp, st["canary"], st["files"], min_files=40)
    with open(st["runner2"].log_path, "rb") as f:
        log = f.read()
    expect(log.count(b"relay request of call") >= 5,
           "runner2 traced too few relayed requests to make the check mean something")
    print("  canary (text and hex) in none of %d files (datadirs, ledgers, logs)" % scanned)
    return True


def check_stop(net, st):
    """Both runners (a finished job, loaded models, usage entries, relay calls done) stop
    cleanly: 'shutdown complete', and no sanitizer report in their logs."""
    stop_clean([st[name] for name in ("runner1", "runner2")])
    print("  both runners stopped cleanly")
    return True


if __name__ == "__main__":
    run_ledger_steps("test_train_query", (
        ("a testnet with two certified runners and their enclaves", check_testnet),
        ("a trainer and a logistic spec", check_trainer),
        ("four donations at two training enclaves, one withdrawn", check_donors),
        ("a forged TRAIN_PREPARE for a made-up job is refused; donations stay",
         check_forged_unknown_job),
        ("federated training publishes a model", check_train),
        ("the query enclave loads the published model (same hash)", check_loaded),
        ("paid queries answer; unpaid, spent and wrong-code ones are refused", check_query),
        ("usage is claimed and the fee split moves exactly the shares", check_settle),
        ("a peer's PUBLISH or CHAIN is refused by the runner", check_runner_only),
        ("canary: the owners' rows are in no datadir, log or answer", check_canary),
        ("the runners stop cleanly", check_stop),
    ))

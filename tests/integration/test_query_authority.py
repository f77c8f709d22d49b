#!/usr/bin/env python3
"""test_query_authority: a query enclave follows an authority change (issue 16), with real
processes. The enclave checks every payment proof against the authority set it follows
from the genesis as a light client; the set moves only when its runner feeds it the
certified blocks holding AUTH_VOTE txs (CHAIN_BLOCK, node_query_chain.c).

Scenarios (named checks, in order):
  1-5. test_train_query's set-up, reused as it is: a 1-authority attested testnet, two
     certified runners and their enclaves, a trainer and its spec, four donations (one
     withdrawn), a federated training that publishes a model, and runner1's query enclave
     loading it.
  6. A second validator node (auth2, a fresh account key given with --validator-key, not
     an authority yet) joins and syncs.
  7. auth1 votes auth2 in: `genie authority vote add AUTH2 --key-file authority-1.key`
     (an AUTH_VOTE tx). `genie authorities` then lists both (the new set's quorum is 2 of
     2); the same vote again is refused with the contract's reason (already a member), and
     so is a vote signed by a key that is not an authority.
  8. runner1's query service feeds its query enclave the vote block: query_status shows
     the enclave's light height at or above the vote's height, and runner1's log says so.
  9. A user buys queries AFTER the change (its QUERY_BUY is committed above the vote, in a
     block certified by both authorities) and `genie query run` is answered by the
     enclave: 3 predictions in [0, 1], 3 of 5 used. Without the feed the enclave would
     refuse this proof (test_enclave_query_chain shows that refusal on a real process).
     A CHAIN_BLOCK relayed by the user's node is refused by runner1 (the runner's own).
  9b. A query enclave spawned on runner1 after the change (its light client starts from
     the genesis set) is fed the vote block, loads the model, and answers a second buy's
     query (query_run picks the newest enclave).
  10. runner1 and auth2 stop cleanly (no sanitizer report).

    python3 test_query_authority.py --bindir BUILD_DIR [--keep]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_train_query as tq  # noqa: E402
from genie_testlib import (HEIGHT_TIMEOUT, START_TIMEOUT, WAIT_S, Node,  # noqa: E402
                           authority_account, expect, new_account, run_ledger_steps,
                           spawn_registered, start_fresh, start_funded_user, stop_clean,
                           wait_for, wait_heights)

BUY_COUNT = 5


def check_second_validator(net, st):
    auth = net.nodes[0]
    node = Node(net.r, "auth2", roles="authority", genesis=net.genesis,
                peers=[auth.address(), st["runner1"].address()])
    st["auth2_account"] = new_account(net.r, node)
    accounts = os.path.join(node.datadir, "accounts")
    keys = [k for k in os.listdir(accounts) if k.endswith(".key")]
    expect(len(keys) == 1, "auth2's accounts: %r" % keys)
    node.extra = ["--validator-key", os.path.join(accounts, keys[0])]
    start_fresh(node, timeout=START_TIMEOUT)
    head = auth.call("head")["height"]
    wait_heights([node], head, HEIGHT_TIMEOUT)
    st["auth2"] = node
    print("  auth2 (account %s...) synced to %d, not an authority yet" %
          (st["auth2_account"][:16], head))
    return True


def check_vote(net, st):
    auth = net.nodes[0]
    pub = authority_account(net)
    # auth2's own key is not an authority yet: its vote for itself is refused
    outsider = st["auth2"].cli("authority", "vote", "add", st["auth2_account"])
    expect(outsider.returncode != 0 and "not a current authority" in outsider.stderr,
           "a vote from a key that is not an authority: %r" % (outsider,))
    # the authority's vote, signed with its keystore (the file --validator-key reads)
    c = auth.cli("authority", "vote", "add", st["auth2_account"], "--key-file",
                 os.path.join(net.dir, "authority-1.key"))
    expect(c.returncode == 0 and c.json, "authority vote: %r" % (c,))
    expect(c.json["from"] == pub and c.json["action"] == "add", "authority vote: %r" % c.json)
    txid = c.json["txid"]
    got = {}

    def committed():
        got["s"] = auth.call("tx_status", {"txid": txid})
        return got["s"]["status"] == "committed"
    wait_for(committed, timeout=HEIGHT_TIMEOUT, interval=0.2, what="the AUTH_VOTE committed")
    hv = got["s"]["height"]
    st["vote_height"] = hv
    auths = auth.call("authorities")
    expect(sorted(auths) == sorted([pub, st["auth2_account"]]),
           "authorities after the vote: %r" % auths)
    again = auth.cli("authority", "vote", "add", st["auth2_account"], "--key-file",
                     os.path.join(net.dir, "authority-1.key"))
    expect(again.returncode != 0 and "already an authority" in again.stderr,
           "a second vote to add a member: %r" % (again,))
    print("  AUTH_VOTE %s... committed at %d; authorities now %d; a repeated vote and an "
          "outsider's vote refused" % (txid[:16], hv, len(auths)))
    return True


def wait_fed(st, enclave, model=False):
    """Waits until runner1's query status shows ENCLAVE's light height at or above the
    vote (and, with MODEL, the model loaded); returns (the status, the enclave's entry)."""
    runner, got = st["runner1"], {}

    def fed():
        c = runner.cli("query", "status")
        got["s"] = c.json or {}
        for e in got["s"].get("enclaves", []):
            if e["enclave"] == enclave:
                got["e"] = e
                return e.get("light", 0) >= st["vote_height"] and (
                    not model or any(m["model"] == st["model"] for m in e["models"]))
        return False
    wait_for(fed, timeout=HEIGHT_TIMEOUT, interval=0.3, what="the query enclave fed the vote")
    return got["s"], got["e"]


def check_fed(net, st):
    runner = st["runner1"]
    s, e = wait_fed(st, st["query"]["id"])
    expect(s["vote_blocks"] >= 1 and s["scanned"] >= st["vote_height"], "query status: %r" % s)
    with open(runner.log_path, errors="replace") as f:
        log = f.read()
    expect("follows the authority votes up to block %d" % e["light"] in log,
           "runner1's log does not show the feed")
    print("  query enclave %s... light height %d (vote at %d); %d vote block(s) of %d scanned"
          % (e["enclave"][:16], e["light"], st["vote_height"], s["vote_blocks"], s["scanned"]))
    return True


def buy_and_run(st, enclave, rows_file):
    """The user buys BUY_COUNT queries (committed above the vote, certified by both
    authorities) and runs 3 rows: answered by ENCLAVE. Returns (buy id, its height, the
    predictions)."""
    auth, user = st["auth1"], st["user"]
    c = user.cli("query", "buy", st["model"], "--count", str(BUY_COUNT), "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json, "query buy: %r" % c)
    buy = c.json.get("buy_id") or c.json.get("txid")
    where = auth.call("tx_status", {"txid": buy})
    expect(where["status"] == "committed" and where["height"] > st["vote_height"],
           "the buy is not above the vote: %r" % where)
    cert = auth.call("block", {"height": where["height"]})["certificate"]
    expect(cert and cert["signers"] == 2, "the buy's block certificate: %r" % cert)
    c = user.cli("query", "run", st["model"], "--input", tq.query_rows(st, 3, rows_file),
                 timeout=120)
    expect(c.returncode == 0 and c.json, "query run after the change: %r" % c)
    preds = c.json["predictions"]
    expect(len(preds) == 3 and all(0.0 <= p <= 1.0 for p in preds) and c.json["used"] == 3
           and c.json["count"] == BUY_COUNT and c.json["buy"] == buy
           and c.json["enclave"] == enclave, "query run: %r" % c.json)
    print("  buy %s... at %d (certified by 2), answered by %s...: 3 predictions %r" %
          (buy[:16], where["height"], enclave[:16], [round(p, 4) for p in preds]))
    return buy, where["height"], preds


def check_query_after(net, st):
    auth = net.nodes[0]
    st["auth1"] = auth
    st["user"], _ = start_funded_user(net, [auth.address(), st["runner1"].address()],
                                      st["vote_height"], 1000)
    user = st["user"]
    buy_and_run(st, st["query"]["id"], "qa3.csv")
    # a peer cannot feed the enclave: runner1's relay refuses CHAIN_BLOCK (here a probe)
    probe = b"\x96\x01\x11\x00\x00\xc4\x00\xc4\x00"
    state, detail = tq.relay_call(user, st["query"]["id"], probe)
    expect(state == "failed" and "not relayed" in detail, "CHAIN_BLOCK from a peer: %s %r" %
           (state, detail))
    print("  CHAIN_BLOCK from the user's node refused by runner1: %s" % detail)
    return True


def check_fresh_enclave(net, st):
    """A query enclave spawned after the change starts from the genesis set: the runner
    feeds it the vote block (catch-up from genesis), it loads the model, and as the newest
    query enclave it answers the next buy's query."""
    fresh = spawn_registered(st["runner1"], "query")
    _, e = wait_fed(st, fresh["id"], model=True)
    print("  fresh query enclave %s...: light height %d, model loaded" %
          (fresh["id"][:16], e["light"]))
    buy_and_run(st, fresh["id"], "qb3.csv")
    return True


def check_stop(net, st):
    stop_clean([st[name] for name in ("runner1", "auth2")])
    print("  runner1 and auth2 stopped cleanly")
    return True


if __name__ == "__main__":
    run_ledger_steps("test_query_authority", (
        ("a testnet with two certified runners and their enclaves", tq.check_testnet),
        ("a trainer and a logistic spec", tq.check_trainer),
        ("four donations at two training enclaves, one withdrawn", tq.check_donors),
        ("federated training publishes a model", tq.check_train),
        ("the query enclave loads the published model", tq.check_loaded),
        ("a second validator joins (not an authority yet)", check_second_validator),
        ("the authority votes it in: two authorities", check_vote),
        ("the runner feeds its query enclave the vote block", check_fed),
        ("a query bought after the change is answered", check_query_after),
        ("a query enclave spawned after the change catches up and answers",
         check_fresh_enclave),
        ("runner1 and auth2 stop cleanly", check_stop),
    ))

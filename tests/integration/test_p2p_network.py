#!/usr/bin/env python3
"""test_p2p_network: the p2p layer with real genie-node processes on loopback.

Scenarios (each a named check):
  1. A 16-node network (--max-peers 6, so every node has non-neighbours) where every node
     starts with exactly one seed (a random earlier node) becomes connected; room "r1" (10 members) gets 20 posts from several members
     and every member, poster included, logs each post exactly once; the 6 others (in
     room "r2") see none of them, and an r2 post does not reach r1.
  2. Lookup of a node the asker has no link with returns that node's listen endpoint.
  3. A line of 6 nodes: unicast from one end to the node 4 hops away is delivered and
     logged once; a lookup of the far end succeeds; a send to an id nobody has fails
     with "cannot deliver" (exit 1).
  4. A node of the 16 stopped and restarted with no --peer links up again from
     DATADIR/peers.dat, re-joins r1 and receives a new post; its unicast is delivered.

The random choices (seeds, members, posters) come from one PRNG whose seed is printed
at the start; set GENIE_TEST_SEED to replay a run.

    python3 test_p2p_network.py --bindir BUILD_DIR [--keep]
"""

import collections
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genie_testlib import (Node, Runner, expect, free_ports, hop_distances,  # noqa: E402
                           linked_graph, parse_args, peers_dump, port_taken, read_log,
                           start_fresh, start_nodes, wait_for)

DEFAULT_SEED = 20240611
NET_SIZE = 16
N_MEMBERS = 10
N_POSTERS = 4
N_POSTS = 20
CHAIN_LEN = 6
CHAIN_HOPS = 4

# Bounded waits, generous for ASan builds sharing two cores with another test.
CONNECT_TIMEOUT = 90.0
MAX_PEERS = 6            # links per node in the 16-node network: with 16 nodes and at
                         # most 6 links each, every node has non-neighbours, so a lookup
                         # always takes the iterative path
PROBE_ROUND_WAIT = 10.0  # per round of probe posts
CONVERGE_TIMEOUT = 90.0
DELIVERY_TIMEOUT = 60.0
DUP_SETTLE = 3.0         # after delivery, wait this long for late duplicates
RELINK_TIMEOUT = 60.0
CLI_TIMEOUT = 90.0       # subprocess bound around a CLI call that itself waits --timeout 30
STOP_TIMEOUT = 15.0
BUDGET = 420.0           # start no new scenario after this (ctest kills at 600 s)


class Net:
    """A set of nodes with their ids, for graph and log helpers."""

    def __init__(self, label):
        self.label = label
        self.nodes = []  # index -> Node
        self.ids = []    # index -> node id

    def add(self, node):
        self.nodes.append(node)
        self.ids.append(node.call("status")["node_id"])
        return len(self.nodes) - 1

    def by_id(self):
        return dict(zip(self.ids, self.nodes))

    def name(self, nid):
        return "%s%d" % (self.label, self.ids.index(nid)) if nid in self.ids else nid[:8]

    def graph(self):
        return linked_graph(self.by_id())

    def dump(self):
        return peers_dump(self.by_id(), self.name)


def texts(node, room=None):
    """Counter of message texts in NODE's room log (or inbox when ROOM is None)."""
    msgs = read_log(node, "room_tail" if room else "inbox", room)
    return collections.Counter(m.get("text") for m in msgs), msgs


def stats(node):
    return node.call("p2p_stats")


def missing_report(net, idxs, room, want):
    """Which of WANT (texts) each node of IDXS lacks, plus its link count."""
    lines = []
    for i in idxs:
        n = net.nodes[i]
        try:
            have, _ = texts(n, room)
            miss = [t for t in want if have[t] == 0]
            if miss:
                lines.append("  %s lacks %d: %s (links %d)" % (
                    n.name, len(miss), ", ".join(miss[:5]), stats(n)["links"]))
        except (OSError, RuntimeError, ValueError) as e:
            lines.append("  %s: cannot read %s: %s" % (n.name, room, e))
    return "\n".join(lines)


def wait_all_have(net, idxs, room, want, timeout):
    """Waits until every node of IDXS logged every text of WANT in ROOM (None: inbox)."""
    want = list(want)

    def done():
        for i in idxs:
            have, _ = texts(net.nodes[i], room)
            if any(have[t] == 0 for t in want):
                return False
        return True

    try:
        wait_for(done, timeout, interval=0.5, what="%d messages at %d nodes" % (len(want),
                                                                               len(idxs)))
    except TimeoutError as e:
        raise AssertionError("%s\n%s\nlinks:\n%s" % (e, missing_report(net, idxs, room, want),
                                                     net.dump()))


# ---- scenario 1: a 16-node network and rooms ----

def listen_on(port):
    return ["tcp://127.0.0.1:%d" % port]


def check_start_network(r, rng, ports):
    """Node 0 alone, then node i seeded with one random earlier node."""
    net = Net("n")
    seeds = {}
    for i in range(NET_SIZE):
        peers = []
        if i > 0:
            seeds[i] = rng.randrange(i)
            peers = [net.nodes[seeds[i]].call("status")["address"]]
        net.add(start_fresh(Node(r, "n%d" % i, listen=listen_on(ports[i]), peers=peers,
                                 extra=["--max-peers", str(MAX_PEERS)])))
    print("  seeds: %s" % " ".join("n%d<-n%d" % (i, s) for i, s in sorted(seeds.items())))
    return net


def check_connected(net):
    def reached():
        dist = hop_distances(net.graph(), net.ids[0])
        return len(dist) == len(net.ids) and dist
    try:
        dist = wait_for(reached, CONNECT_TIMEOUT, interval=0.5, what="n0 to reach all nodes")
    except TimeoutError as e:
        raise AssertionError("%s\n%s" % (e, net.dump()))
    degrees = [len(v) for v in net.graph().values()]
    print("  connected: max hops from n0 %d, degree min %d max %d" % (
        max(dist.values()), min(degrees), max(degrees)))
    return dist


def join_room(net, idxs, room):
    for i in idxs:
        res = net.nodes[i].cli("room", "join", room)
        expect(res.returncode == 0 and res.json and res.json.get("member") is True,
               "%s room join %s: %r" % (net.nodes[i].name, room, res))


def converge_room(net, idxs, room, tag):
    """Rounds of probe posts, one per member, until one round reaches every member:
    then every member knows enough of the others (the wait on that condition replaces a
    fixed settling sleep). Returns the probe texts posted."""
    posted = []
    deadline = time.monotonic() + CONVERGE_TIMEOUT
    for rnd in range(1, 100):
        probes = []
        for i in idxs:
            t = "probe %s %s round %d from %s" % (tag, room, rnd, net.nodes[i].name)
            net.nodes[i].call("room_post", {"room": room, "text": t})
            probes.append(t)
        posted += probes
        try:
            wait_all_have(net, idxs, room, probes, min(PROBE_ROUND_WAIT,
                                                       max(1.0, deadline - time.monotonic())))
            print("  %s: %d members converged after %d probe round(s)" % (room, len(idxs), rnd))
            return posted
        except AssertionError as e:
            if time.monotonic() >= deadline:
                raise AssertionError("room %s never converged in %.0f s: %s"
                                     % (room, CONVERGE_TIMEOUT, e))
    raise AssertionError("room %s: too many probe rounds" % room)


def check_rooms_ready(net, members, others):
    join_room(net, members, "r1")
    join_room(net, others, "r2")
    rooms = net.nodes[members[0]].cli("rooms")
    expect(rooms.returncode == 0 and [x["room"] for x in rooms.json] == ["r1"],
           "rooms of a member: %r" % rooms)
    p1 = converge_room(net, members, "r1", "a")
    p2 = converge_room(net, others, "r2", "a")
    return p1, p2


def check_room_posts(net, rng, members, others, probes, seed):
    """20 posts from several members: each member logs each exactly once; non-members
    none."""
    posters = rng.sample(members, N_POSTERS)
    before = {i: stats(net.nodes[i])["delivered"] for i in others}
    posts = []  # (poster index, text)
    for k in range(N_POSTS):
        p = posters[k % len(posters)]
        t = "r1 post %d from n%d (seed %d)" % (k, p, seed)
        res = net.nodes[p].cli("room", "post", "r1", t)
        expect(res.returncode == 0 and res.json and res.json.get("posted") is True,
               "n%d room post: %r" % (p, res))
        posts.append((p, t))
    want = [t for _, t in posts]
    wait_all_have(net, members, "r1", want, DELIVERY_TIMEOUT)
    time.sleep(DUP_SETTLE)  # give duplicates, if any, a chance to show up
    problems = []
    for i in members:
        have, msgs = texts(net.nodes[i], "r1")
        for p, t in posts:
            if have[t] != 1:
                problems.append("n%d has %r %d times" % (i, t, have[t]))
        for t, c in have.items():
            if c > 1 and t not in want:
                problems.append("n%d has %r %d times" % (i, t, c))
        senders = {m["text"]: m["from"] for m in msgs}
        for p, t in posts:
            if senders.get(t) not in (None, net.ids[p]):
                problems.append("n%d logs %r from %s, want n%d" % (i, t, net.name(senders[t]),
                                                                   p))
        unknown = set(have) - set(want) - set(probes)
        if unknown:
            problems.append("n%d has unexpected texts %r" % (i, sorted(unknown)[:3]))
    expect(not problems, "exactly-once violated:\n  " + "\n  ".join(problems[:30]))
    # Non-members: room_tail r1 is refused, r2 holds no r1 text, delivered did not grow.
    for i in others:
        n = net.nodes[i]
        try:
            n.call("room_tail", {"room": "r1"})
            raise AssertionError("n%d (not a member) can read r1" % i)
        except RuntimeError as e:
            expect("not a member" in str(e), "n%d room_tail r1: %s" % (i, e))
        have, _ = texts(n, "r2")
        leaked = [t for t in have if t and t.startswith("r1 ")]
        expect(not leaked, "non-member n%d logged r1 posts in r2: %r" % (i, leaked[:3]))
        grew = stats(n)["delivered"] - before[i]
        expect(grew < N_POSTS, "non-member n%d: delivered grew by %d during the r1 posts"
               % (i, grew))
    print("  %d posts from %s: each logged once by all %d members, by no other node" % (
        N_POSTS, ",".join("n%d" % p for p in posters), len(members)))


def check_room_isolation(net, members, others, seed):
    """An r2 post reaches the r2 members and no r1 member."""
    p = others[0]
    t = "r2 post from n%d (seed %d)" % (p, seed)
    net.nodes[p].call("room_post", {"room": "r2", "text": t})
    wait_all_have(net, others, "r2", [t], DELIVERY_TIMEOUT)
    time.sleep(DUP_SETTLE)
    for i in others:
        have, _ = texts(net.nodes[i], "r2")
        expect(have[t] == 1, "n%d has the r2 post %d times" % (i, have[t]))
    for i in members:
        have, _ = texts(net.nodes[i], "r1")
        expect(have[t] == 0, "r1 member n%d logged the r2 post in r1" % i)


# ---- scenario 2: lookup of a non-neighbour ----

def check_lookup_non_neighbour(net, rng):
    byid = net.by_id()
    candidates, unknown = [], []
    for a in range(NET_SIZE):
        peers = {p["id"]: p for p in net.nodes[a].call("peers")}
        for t in range(NET_SIZE):
            if t == a or peers.get(net.ids[t], {}).get("linked"):
                continue
            candidates.append((a, t))
            if net.ids[t] not in peers:
                unknown.append((a, t))
    expect(candidates, "every node is linked with every other: no non-neighbour to look "
           "up\n%s" % net.dump())
    a, t = rng.choice(unknown or candidates)
    res = net.nodes[a].cli("lookup", net.ids[t], "--timeout", "30", timeout=CLI_TIMEOUT)
    expect(res.returncode == 0 and res.json, "n%d lookup n%d: %r\n%s" % (a, t, res, net.dump()))
    expect(res.json.get("state") == "done" and res.json.get("node_id") == net.ids[t],
           "lookup answer %r" % res.json)
    expect(res.json.get("endpoint") == byid[net.ids[t]].listen[0],
           "n%d lookup n%d: endpoint %r, want %r" % (a, t, res.json.get("endpoint"),
                                                      net.nodes[t].listen[0]))
    print("  n%d looked up n%d (%s in its table; %d non-neighbour pairs, %d unknown)" % (
        a, t, "not" if (a, t) in unknown else "already", len(candidates), len(unknown)))


# ---- scenario 3: a line of 6 nodes ----

def check_start_line(r):
    """A line 0-1-2-3-4-5. Each inner node has --max-peers 2 and both neighbours as
    seeds, each end --max-peers 1 and its one neighbour: every node starts at its
    target degree, so none dials others it learns about (a node below its target
    degree does, which is why seeding only i-1 gives no line). The ids are needed
    before the seeds are given, so each node is started once alone first to make its
    key."""
    pre = [start_fresh(Node(r, "line%d" % i)) for i in range(CHAIN_LEN)]
    ids = [n.call("status")["node_id"] for n in pre]
    for n in pre:
        expect(n.stop(timeout=STOP_TIMEOUT) == 0, "%s did not stop cleanly" % n.name)
    for attempt in range(3):
        for n in pre:
            if os.path.exists(os.path.join(n.datadir, "peers.dat")):
                os.remove(os.path.join(n.datadir, "peers.dat"))  # a line from scratch
        eps = ["tcp://127.0.0.1:%d" % p for p in free_ports(CHAIN_LEN)]
        nodes = []
        for i in range(CHAIN_LEN):
            ends = i in (0, CHAIN_LEN - 1)
            peers = ["%s@%s" % (ids[j], eps[j]) for j in (i - 1, i + 1) if 0 <= j < CHAIN_LEN]
            nodes.append(Node(r, "line%d" % i, listen=[eps[i]], datadir=pre[i].datadir,
                              peers=peers, extra=["--max-peers", "1" if ends else "2"]))
        try:
            start_nodes(nodes)
            break
        except RuntimeError:
            taken = any(port_taken(n) for n in nodes)
            for n in nodes:
                n.stop(timeout=STOP_TIMEOUT)
            if attempt == 2 or not taken:
                raise
            print("  a listen port was taken: starting the line again on new ports")
    net = Net("line")
    for n in nodes:
        net.add(n)
    return net


def linked_ids(node):
    return {p["id"] for p in node.call("peers") if p.get("linked")}


def check_line_topology(net):
    def settled():
        # every link of the line is up as seen from both of its ends (a link one end
        # already reports may still be finishing its handshake at the other)
        for i in range(CHAIN_LEN):
            mine = linked_ids(net.nodes[i])
            if any(net.ids[j] not in mine for j in (i - 1, i + 1) if 0 <= j < CHAIN_LEN):
                return False
        return net.graph()
    try:
        g = wait_for(settled, CONNECT_TIMEOUT, interval=0.5, what="the line to link up")
    except TimeoutError as e:
        raise AssertionError("%s\n%s" % (e, net.dump()))
    dist = hop_distances(g, net.ids[0])
    hops = dist.get(net.ids[CHAIN_HOPS])
    expect(hops is not None and hops >= CHAIN_HOPS,
           "line0 to line%d is %s hops, want >= %d:\n%s" % (CHAIN_HOPS, hops, CHAIN_HOPS,
                                                             net.dump()))
    print("  line0 -> line%d: %d hops" % (CHAIN_HOPS, hops))
    return hops


def check_unicast_far(net, seed):
    src, dst = net.nodes[0], net.nodes[CHAIN_HOPS]
    t = "unicast over %d hops (seed %d)" % (CHAIN_HOPS, seed)
    known = net.ids[CHAIN_HOPS] in {p["id"] for p in src.call("peers")}
    print("  line0 %s line%d's record before the send" % ("has" if known else "lacks",
                                                          CHAIN_HOPS))
    res = src.cli("send", net.ids[CHAIN_HOPS], t, "--timeout", "30", json_out=False,
                  timeout=CLI_TIMEOUT)
    expect(res.returncode == 0 and "delivered" in res.stdout,
           "send line0 -> line%d: %r\n%s" % (CHAIN_HOPS, res, net.dump()))
    # Acknowledged means logged; wait a little anyway, then for late duplicates.
    wait_for(lambda: texts(dst)[0][t] > 0, DELIVERY_TIMEOUT, interval=0.5,
             what="the unicast in line%d's inbox" % CHAIN_HOPS)
    time.sleep(DUP_SETTLE)
    have, msgs = texts(dst)
    expect(have[t] == 1, "line%d's inbox has the text %d times" % (CHAIN_HOPS, have[t]))
    frm = [m["from"] for m in msgs if m.get("text") == t]
    expect(frm == [net.ids[0]], "unicast logged from %r, want line0" % frm)
    for i, n in enumerate(net.nodes):
        if i != CHAIN_HOPS:
            expect(texts(n)[0][t] == 0, "line%d also logged the unicast" % i)


def check_lookup_line_end(net):
    last = CHAIN_LEN - 1
    res = net.nodes[0].cli("lookup", net.ids[last], "--timeout", "30", timeout=CLI_TIMEOUT)
    expect(res.returncode == 0 and res.json, "line0 lookup line%d: %r" % (last, res))
    expect(res.json.get("endpoint") == net.nodes[last].listen[0],
           "endpoint %r, want %r" % (res.json.get("endpoint"), net.nodes[last].listen[0]))


def check_send_nobody(net, rng):
    nobody = "%064x" % rng.getrandbits(256)
    expect(nobody not in net.ids, "random id collides")
    res = net.nodes[0].cli("send", nobody, "to nobody", "--timeout", "30", json_out=False,
                           timeout=CLI_TIMEOUT)
    expect(res.returncode == 1, "send to an unknown id: exit %d, want 1: %r" % (
        res.returncode, res))
    lines = res.error_lines()
    expect(len(lines) == 1 and ("cannot deliver" in lines[0] or "not found" in lines[0]),
           "send to an unknown id: stderr %r" % res.stderr)
    expect("timed out" not in lines[0], "the CLI gave up before the node did: %r" % lines)
    print("  %s" % lines[0])


# ---- scenario 4: restart without a seed ----

def check_restart_rejoins(r, net, members, seed):
    k = next(i for i in members if i != 0)
    old = net.nodes[k]
    code = old.stop(signal.SIGTERM, timeout=STOP_TIMEOUT)
    expect(code == 0, "n%d exit status after SIGTERM: %d" % (k, code))
    peers_dat = os.path.join(old.datadir, "peers.dat")
    expect(os.path.exists(peers_dat) and os.path.getsize(peers_dat) > 0,
           "n%d left no peers.dat" % k)
    new = Node(r, old.name, listen=old.listen, datadir=old.datadir,
               extra=["--max-peers", str(MAX_PEERS)]).start()
    net.nodes[k] = new
    expect(new.call("status")["node_id"] == net.ids[k], "node id changed across restart")
    try:
        wait_for(lambda: stats(new)["links"] >= 1, RELINK_TIMEOUT, interval=0.5,
                 what="n%d to link up without seeds" % k)
    except TimeoutError as e:
        raise AssertionError("%s\n%s" % (e, new.log_tail(30)))
    expect(new.call("rooms") == [], "rooms survived a restart: %r" % new.call("rooms"))
    join_room(net, [k], "r1")
    poster = next(i for i in members if i != k)
    # wait until the others route r1 to it again (probe posts until one reaches all)
    converge_room(net, [poster, k], "r1", "rejoin")
    t = "r1 post after n%d restarted (seed %d)" % (k, seed)
    net.nodes[poster].call("room_post", {"room": "r1", "text": t})
    wait_all_have(net, members, "r1", [t], DELIVERY_TIMEOUT)
    time.sleep(DUP_SETTLE)
    for i in members:
        have, _ = texts(net.nodes[i], "r1")
        expect(have[t] == 1, "n%d has the post %d times" % (i, have[t]))
    print("  n%d restarted with %d links; post from n%d reached it" % (
        k, stats(new)["links"], poster))
    return k


def check_restarted_unicast(net, k, seed):
    """A restarted node's unicasts are not mistaken for ones it sent before."""
    t = "unicast from restarted n%d (seed %d)" % (k, seed)
    res = net.nodes[k].cli("send", net.ids[0], t, "--timeout", "30", json_out=False,
                           timeout=CLI_TIMEOUT)
    expect(res.returncode == 0, "send n%d -> n0: %r" % (k, res))
    wait_for(lambda: texts(net.nodes[0])[0][t] == 1, DELIVERY_TIMEOUT, interval=0.5,
             what="the unicast in n0's inbox")


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def check_no_crash(r, net):
    """Every node of the network is still running and no node log holds a sanitizer
    report (stopped and restarted nodes included)."""
    dead = [n.name for n in net.nodes if not n.alive()]
    expect(not dead, "nodes died: %s" % ", ".join(dead))
    reports = []
    for f in sorted(os.listdir(r.tmp)):
        if f.endswith(".log"):
            with open(os.path.join(r.tmp, f), errors="replace") as fh:
                for line in fh:
                    if any(m in line for m in SANITIZER_MARKS):
                        reports.append("%s: %s" % (f, line.strip()))
    expect(not reports, "sanitizer reports:\n  " + "\n  ".join(reports[:20]))


def over_budget(r, t0, what):
    """True (and counted as a failure) when the run has used its time budget, so that
    later scenarios are skipped rather than cut off by ctest with nodes left running."""
    if time.monotonic() - t0 < BUDGET:
        return False
    r.failed += 1
    print("FAIL skipped %s: the run passed its %.0f s budget" % (what, BUDGET))
    return True


def run_checks(r, seed):
    t0 = time.monotonic()
    rng = random.Random(seed)
    ports = free_ports(NET_SIZE)  # distinct, unlike repeated free_port()
    net = r.check("start %d nodes, one random earlier seed each" % NET_SIZE,
                  check_start_network, r, rng, ports)
    if net is None:
        return
    if r.check("network becomes connected", check_connected, net) is None:
        print(net.dump())
        return
    members = sorted(rng.sample(range(NET_SIZE), N_MEMBERS))
    others = [i for i in range(NET_SIZE) if i not in members]
    print("  r1 members: %s; r2: %s" % (" ".join("n%d" % i for i in members),
                                        " ".join("n%d" % i for i in others)))
    probes = r.check("rooms r1 and r2 joined and converged", check_rooms_ready, net,
                     members, others)
    if probes is not None:
        r.check("r1 posts logged exactly once by members, never by others",
                check_room_posts, net, rng, members, others, probes[0], seed)
        r.check("r2 post stays in r2", check_room_isolation, net, members, others, seed)
    r.check("lookup of a non-neighbour", check_lookup_non_neighbour, net, rng)

    line = None
    if not over_budget(r, t0, "the line"):
        line = r.check("start a line of %d nodes" % CHAIN_LEN, check_start_line, r)
    if line is not None and r.check("line topology: %d hops to line%d" % (CHAIN_HOPS,
                                                                         CHAIN_HOPS),
                                    check_line_topology, line) is not None:
        r.check("unicast %d hops away delivered once" % CHAIN_HOPS, check_unicast_far, line,
                seed)
        r.check("lookup of the far end of the line", check_lookup_line_end, line)
        r.check("send to an unknown id fails clearly", check_send_nobody, line, rng)
    for n in (line.nodes if line else []):
        n.kill()  # frees CPU for the rest

    if probes is not None and not over_budget(r, t0, "the restart"):
        k = r.check("restart without --peer rejoins and gets r1 posts", check_restart_rejoins,
                    r, net, members, seed)
        if k is not None:
            r.check("unicast from the restarted node", check_restarted_unicast, net, k, seed)
    r.check("no node crashed, no sanitizer report", check_no_crash, r, net)


def main():
    args = parse_args()
    seed = int(os.environ.get("GENIE_TEST_SEED", DEFAULT_SEED))
    print("test_p2p_network: seed %d (GENIE_TEST_SEED=%d to replay)" % (seed, seed),
          flush=True)
    t0 = time.monotonic()
    with Runner("test_p2p_network", args) as r:  # kills every node on the way out
        run_checks(r, seed)
        print("test_p2p_network: %.0f s" % (time.monotonic() - t0))
    return r.exit_code()


if __name__ == "__main__":
    sys.exit(main())

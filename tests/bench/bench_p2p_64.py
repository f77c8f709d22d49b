#!/usr/bin/env python3
"""bench_p2p_64: what a 64-node testnet costs at rest, how fast it forms, and how well it
carries broadcasts and lookups.

Builds a testnet like `scripts/testnet.sh up 64` does: a ledger genesis with AUTHORITIES
(4) authorities and an empty block every HEARTBEAT_MS (2000), node i listening on
tcp://127.0.0.1:BASE_PORT+i (BASE_PORT 21000 by default: below the kernel's ephemeral
range, /proc/sys/net/ipv4/ip_local_port_range, where outgoing connections and --rpc port
0 land; a port already taken is reported before anything starts). Node 0 starts first;
the other 63 start in parallel, each seeded with node 0. Then:

  form      seconds from the start of the 63 until every node has at least K linked
            peers and the link graph is connected (BFS over "peers" linked)
  idle      CPU seconds per second of all nodes together (utime + stime from
            /proc/PID/stat) over IDLE_SECONDS (30) with nothing to do but the ledger's
            empty blocks and the p2p upkeep, printed next to the load average (the
            machine may be shared: the figure is an upper bound); by thread (the loop,
            ZeroMQ's I/O thread, the store's trimmer...) with their voluntary context
            switches (wakeups); envelopes per node per second, by type
  broadcast every node joins room "bench"; BROADCASTS posts from random nodes, each must
            reach all 64 logs: delivered (post, node) pairs, and the p50/p99/max latency
  lookup    LOOKUPS lookups of random non-neighbours: how many succeed, their time, and
            the hop distance between the two nodes in the link graph

There is no pass/fail: it prints figures. Use a Release build (scripts/bench.sh).

    python3 tests/bench/bench_p2p_64.py --bindir build-bench [--nodes 64] [--idle 30]
"""

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration"))

from genie_testlib import Node, wait_for  # noqa: E402
from benchlib import Fleet, cpu_seconds, percentile  # noqa: E402

ROOM = "bench"
START_TIMEOUT = 120.0
FORM_TIMEOUT = 180.0
DELIVER_TIMEOUT = 30.0
LOOKUP_TIMEOUT = 20.0


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def check_ports(base, n):
    """Exits with a clear message if a port of BASE..BASE+N-1 is taken or ephemeral."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        lo, hi = (int(x) for x in f.read().split())
    if base + n - 1 >= lo and base <= hi:
        raise SystemExit("bench_p2p_64: ports %d..%d overlap the ephemeral range %d..%d; "
                         "use --base-port below %d" % (base, base + n - 1, lo, hi, lo - n))
    for p in range(base, base + n):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            # as ZeroMQ binds: a port in TIME_WAIT from an earlier run is usable
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", p))
            except OSError as e:
                raise SystemExit("bench_p2p_64: port %d is in use (%s); pick another "
                                 "--base-port" % (p, e.strerror))


def make_genesis(fleet, authorities, heartbeat_ms):
    gen = os.path.join(fleet.tmp, "genesis")
    subprocess.run([os.path.join(fleet.bindir, "genie"), "genesis", "new", "--authorities",
                    str(authorities), "--out", gen], check=True, stdout=subprocess.DEVNULL)
    path = os.path.join(gen, "genesis.json")
    with open(path) as f:
        g = json.load(f)
    g["heartbeat_ms"] = max(heartbeat_ms, g["block_interval_ms"])
    with open(path, "w") as f:
        json.dump(g, f, indent=2)
    return gen


def new_node(fleet, i, base, gen, authorities, peers):
    datadir = os.path.join(fleet.tmp, "n%02d" % i)
    os.makedirs(os.path.join(datadir, "accounts"), mode=0o700)
    role = "user"
    if i < authorities:
        role = "authority"
        dst = os.path.join(datadir, "accounts", "authority.key")
        shutil.copyfile(os.path.join(gen, "authority-%d.key" % (i + 1)), dst)
        os.chmod(dst, 0o600)
    return Node(fleet, "n%02d" % i, listen=["tcp://127.0.0.1:%d" % (base + i)], roles=role,
                peers=peers, genesis=os.path.join(gen, "genesis.json"), datadir=datadir,
                log_level="info")


def thread_cpu(pids):
    """{thread name: (CPU seconds, voluntary context switches)} summed over the threads of
    PIDS (/proc/PID/task/TID): where a node's CPU goes (its loop, ZeroMQ's I/O thread...)."""
    out = {}
    for pid in pids:
        try:
            tids = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for tid in tids:
            base = "/proc/%d/task/%s/" % (pid, tid)
            try:
                with open(base + "stat") as f:
                    stat = f.read()
                with open(base + "status") as f:
                    vol = [line for line in f if line.startswith("voluntary_ctxt_switches:")]
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat.rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))
            sw = int(vol[0].split()[1]) if vol else 0
            c, w = out.get(name, (0.0, 0))
            out[name] = (c + cpu, w + sw)
    return out


def link_graph(nodes, ids):
    by_id = {nid: i for i, nid in enumerate(ids)}
    adj = {i: set() for i in range(len(nodes))}
    for i, n in enumerate(nodes):
        for p in n.call("peers", timeout=10.0):
            j = by_id.get(p["id"])
            if p.get("linked") and j is not None:
                adj[i].add(j)
                adj[j].add(i)
    return adj


def distances(adj, src):
    dist, todo = {src: 0}, [src]
    while todo:
        nxt = []
        for u in todo:
            for v in adj[u]:
                if v not in dist:
                    dist[v] = dist[u] + 1
                    nxt.append(v)
        todo = nxt
    return dist


def start(fleet, args):
    gen = make_genesis(fleet, args.authorities, args.heartbeat_ms)
    first = new_node(fleet, 0, args.base_port, gen, args.authorities, []).start(
        timeout=START_TIMEOUT)
    seed = first.address()
    rest = [new_node(fleet, i, args.base_port, gen, args.authorities, [seed])
            for i in range(1, args.nodes)]
    t0 = time.monotonic()
    for n in rest:
        n.start(wait=False)
    for n in rest:
        n.wait_ready(START_TIMEOUT)
    nodes = [first] + rest
    ids = [n.call("status")["node_id"] for n in nodes]
    t_up = time.monotonic() - t0

    def formed():
        adj = link_graph(nodes, ids)
        if min(len(v) for v in adj.values()) < args.k:
            return None
        return adj if len(distances(adj, 0)) == len(nodes) else None

    adj = wait_for(formed, FORM_TIMEOUT, interval=0.5,
                   what="every node with %d+ links, all connected" % args.k)
    t_form = time.monotonic() - t0
    deg = sorted(len(v) for v in adj.values())
    print("start: %d nodes answering %.1f s after the parallel start; formed (every node "
          ">= %d links, connected) after %.1f s; link degree min %d, median %d, max %d"
          % (len(nodes), t_up, args.k, t_form, deg[0], deg[len(deg) // 2], deg[-1]),
          flush=True)
    return nodes, ids


def measure_idle(nodes, seconds):
    time.sleep(5.0)  # let the start-up traffic (record gossip, first blocks) settle
    pids = [n.pid for n in nodes]
    la0 = loadavg()
    s0 = [n.call("p2p_stats") for n in nodes]
    l0 = [ledger_node_stats(n) for n in nodes]
    th0 = thread_cpu(pids)
    c0 = sum(cpu_seconds(p) for p in pids)
    t0 = time.monotonic()
    time.sleep(seconds)
    c1 = sum(cpu_seconds(p) for p in pids)
    dt = time.monotonic() - t0
    th1 = thread_cpu(pids)
    s1 = [n.call("p2p_stats") for n in nodes]
    l1 = [ledger_node_stats(n) for n in nodes]
    rate = (c1 - c0) / dt
    print("idle: %.3f CPU-s/s for all %d nodes over %.0f s (%.2f ms per node per second); "
          "load average before %s, after %s"
          % (rate, len(nodes), dt, rate / len(nodes) * 1000.0, la0, loadavg()), flush=True)

    by_thread = sorted(((name, c - th0[name][0], w - th0[name][1])
                        for name, (c, w) in th1.items() if name in th0), key=lambda x: -x[1])
    print("idle: by thread (all nodes): " + ", ".join(
        "%s %.3f CPU-s/s, %.0f wakeups/s" % (name, c / dt, w / dt)
        for name, c, w in by_thread if c > 0 or w > 0), flush=True)

    def per_node_s(key):
        return sum(b[key] - a[key] for a, b in zip(s0, s1)) / len(nodes) / dt

    print("idle: per node per second: %.1f envelopes in (%.1f duplicates dropped), %.1f out, "
          "%.0f bytes in; %.1f delivered"
          % (per_node_s("msgs_in"), per_node_s("dup_dropped"), per_node_s("msgs_out"),
             per_node_s("bytes_in"), per_node_s("delivered")), flush=True)
    by = {k: sum(b["in_by_type"][k] - a["in_by_type"][k] for a, b in zip(s0, s1))
          / len(nodes) / dt for k in s1[0]["in_by_type"]}
    print("idle: per node per second by type (duplicates excluded): "
          + ", ".join("%s %.1f" % (k, v) for k, v in sorted(by.items(), key=lambda kv: -kv[1])
                      if v >= 0.05), flush=True)
    keys = ("consensus_in", "decided_in", "blocks_decided", "blocks_committed", "blocks_synced")
    for label, want in (("authority", True), ("follower", False)):
        sel = [(a, b) for a, b in zip(l0, l1) if a and b and bool(a["validator"]) == want]
        if sel:
            print("idle: ledger per %s node per second (%d nodes): " % (label, len(sel))
                  + ", ".join("%s %.2f" % (k, sum(b.get(k, 0) - a.get(k, 0) for a, b in sel)
                                           / len(sel) / dt) for k in keys), flush=True)
    return rate


def ledger_node_stats(n):
    """The node's ledger counters (ledger_stats "node", with "validator" from "consensus"),
    or None without a ledger."""
    try:
        st = n.call("ledger_stats")
    except (OSError, RuntimeError, ValueError):
        return None
    out = dict(st.get("node", {}))
    out["validator"] = st.get("consensus", {}).get("validator")
    return out


def broadcasts(nodes, ids, count, rng):
    for n in nodes:
        n.call("room_join", {"room": ROOM})
    # membership records must spread before a post can reach every member: probe until
    # one post reaches all logs (bounded)
    lat, delivered, full = [], 0, 0
    marks = [n.call("room_tail", {"room": ROOM, "after": 1 << 62})["last"] for n in nodes]

    def texts_since(n, mk):
        return n.call("room_tail", {"room": ROOM, "after": mk}, timeout=30.0)["messages"]

    probe = "probe"
    nodes[0].call("room_post", {"room": ROOM, "text": probe})
    t0 = time.monotonic()
    wait_for(lambda: all(any(m.get("text") == probe for m in texts_since(n, mk))
                         for n, mk in zip(nodes, marks)), 60.0, interval=0.5,
             what="the probe post in every node's room log")
    print("broadcast: room %s joined by all; a probe post reached every node %.1f s after "
          "it was sent" % (ROOM, time.monotonic() - t0), flush=True)
    marks = [n.call("room_tail", {"room": ROOM, "after": 1 << 62})["last"] for n in nodes]
    origins = [rng.randrange(len(nodes)) for _ in range(count)]
    sent = []
    for k, o in enumerate(origins):
        text = "bcast %d" % k
        nodes[o].call("room_post", {"room": ROOM, "text": text})
        sent.append((ids[o], text))
        time.sleep(0.2)

    def all_in():
        got = 0
        for n, mk in zip(nodes, marks):
            have = {(m["from"], m.get("text")) for m in texts_since(n, mk)}
            got += sum(1 for s in sent if s in have)
        return got == len(sent) * len(nodes)

    try:
        wait_for(all_in, DELIVER_TIMEOUT, interval=0.5, what="every broadcast everywhere")
    except TimeoutError:
        pass
    per_post = {s: 0 for s in sent}
    for i, (n, mk) in enumerate(zip(nodes, marks)):
        for m in texts_since(n, mk):
            key = (m["from"], m.get("text"))
            if key in per_post:
                per_post[key] += 1
                delivered += 1
                if m["from"] != ids[i]:
                    lat.append(m["recv_ms"] - m["time_ms"])
    full = sum(1 for v in per_post.values() if v == len(nodes))
    print("broadcast: %d posts from random nodes: %d of them reached all %d nodes; "
          "%d of %d (post, node) deliveries; latency p50 %.0f ms, p99 %.0f ms, max %.0f ms"
          % (count, full, len(nodes), delivered, count * len(nodes), percentile(lat, 0.5),
             percentile(lat, 0.99), max(lat) if lat else float("nan")), flush=True)


def lookups(nodes, ids, count, rng):
    adj = link_graph(nodes, ids)
    done, times, hops = 0, [], []
    tried = 0
    for _ in range(count * 10):
        if tried == count:
            break
        a, b = rng.randrange(len(nodes)), rng.randrange(len(nodes))
        if a == b or b in adj[a]:
            continue
        tried += 1
        d = distances(adj, a).get(b)
        t0 = time.monotonic()
        lid = nodes[a].call("lookup", {"node_id": ids[b]})["id"]

        def finished():
            r = nodes[a].call("lookup_result", {"id": lid})
            return r if r["state"] != "pending" else None

        try:
            r = wait_for(finished, LOOKUP_TIMEOUT, interval=0.05, what="a lookup")
        except TimeoutError:
            continue
        if r["state"] == "done" and r.get("endpoint") == nodes[b].listen[0]:
            done += 1
            times.append((time.monotonic() - t0) * 1000.0)
            if d is not None:
                hops.append(d)
    print("lookup: %d of %d lookups of non-neighbours found the right endpoint; time p50 "
          "%.0f ms, max %.0f ms (including the RPC polling, 50 ms steps); graph distance "
          "between the two nodes mean %.2f, max %d"
          % (done, tried, percentile(times, 0.5), max(times) if times else float("nan"),
             sum(hops) / len(hops) if hops else float("nan"), max(hops) if hops else 0),
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bindir", required=True, help="build directory holding genie-node")
    ap.add_argument("--nodes", type=int, default=64)
    ap.add_argument("--authorities", type=int, default=4)
    ap.add_argument("--heartbeat-ms", type=int, default=2000,
                    help="empty block interval of the genesis (testnet.sh's default)")
    ap.add_argument("--base-port", type=int, default=21000)
    ap.add_argument("--k", type=int, default=4, help="links every node must have to count "
                    "the network as formed")
    ap.add_argument("--idle", type=float, default=30.0, help="idle measurement, seconds")
    ap.add_argument("--broadcasts", type=int, default=5)
    ap.add_argument("--lookups", type=int, default=10)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    if args.nodes < 2 or not 1 <= args.authorities <= args.nodes:
        raise SystemExit("bench_p2p_64: want 2+ nodes and 1..nodes authorities")
    check_ports(args.base_port, args.nodes)
    print("bench_p2p_64: %d nodes (%d authorities, a block every %d ms), ports %d..%d, seed "
          "%d, %d CPUs, load average %s" % (args.nodes, args.authorities, args.heartbeat_ms,
                                            args.base_port, args.base_port + args.nodes - 1,
                                            seed, os.cpu_count() or 0, loadavg()), flush=True)
    fleet = Fleet(args.bindir, args.keep, "bench_p2p_64")
    try:
        nodes, ids = start(fleet, args)
        measure_idle(nodes, args.idle)
        broadcasts(nodes, ids, args.broadcasts, rng)
        lookups(nodes, ids, args.lookups, rng)
        dead = [n.name for n in nodes if not n.alive()]
        if dead:
            print("warning: nodes died during the benchmark: %s" % " ".join(dead))
    finally:
        fleet.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""bench_p2p: room broadcast throughput, latency, CPU and memory of a real genie network.

Starts NODES genie-node processes on loopback (node i seeded with a random earlier node),
waits until the link graph is connected (BFS over "peers" linked), has every node join
room "bench", lets the membership records spread (3 s and a probe post that must reach
every member), then runs one measurement per load. In a run, ORIGINS nodes post at the
same time through the node's own paced poster (RPC room_post_many {room, count, rate,
size}: the node posts COUNT messages "flood <n> xxxx..." of SIZE bytes at RATE per
second); the load 250 means 250/s per origin, so 4 origins offer 1000/s.

A node keeps the last 4096 messages of a room, so a run posts at most 4000 messages in
all: the send window is --seconds, or shorter at high rates (4 x 750/s lasts 1.33 s).
Nothing is read while the posts spread (the benchmark only polls each log's last
sequence number); afterwards every log is read over the control API (room_tail, 512 per
call, paging with "after"), so the reads cost the nodes nothing during the measurement.

Figures per run (only the benchmark's own posts count):
  all/s      posts logged by all NODES nodes, divided by the send window, or by the time
             from the first post to the last delivery anywhere (done s) when the network
             did not keep up (a window figure would then only restate the offered load)
  msgs-short posts missing from at least one log; missing: (post, node) pairs never logged
  dups       extra copies of a post in one node's log (should be 0)
  p50/p99/max delivery latency: recv_ms - time_ms over every (post, receiving node) pair,
             the origin excluded (both are this machine's clock, in ms)
  cpu s/1k   CPU seconds (utime + stime of all node processes, /proc/PID/stat) per 1000
             posts over the run (window and drain), and the same minus what the idle
             network (pings, heartbeats) burns in that time
  us/copy    the run's CPU per delivered copy (a post logged by a node other than its
             origin), in microseconds, over the window and the drain
  win us/copy the same over the send window alone: the nodes' CPU from the first post to
             the window's end over the copies logged by then (win done: their share of
             all copies). The nodes' CPU is read from /proc before the benchmark asks
             them anything after the run (p2p_stats, the log reads), so neither is counted;
             only the light polling of each log's last sequence number (one control call
             per node every 0.5 s) falls inside
  in/copy    envelopes the nodes received (p2p_stats msgs_in, all types) per delivered copy:
             1 would be one copy each and nothing else
  us/in      the run's CPU per envelope received (us/copy over in/copy): the nodes pick
             their mesh at random, so in/copy, and us/copy with it, differ between starts
  rss/hwm    VmRSS max and mean over the nodes after the run, and the largest VmHWM (MiB)
After the table: per run, the messages re-sent on IWANT and the sends the transports
refused (p2p_stats send_refused, where the node reports it), and this machine's signature
check rates at the end of the run (bench_envelope --sig, if built), the yardstick of
us/copy. --log-level debug (with --keep) logs refused sends in the nodes' logs.
There is no pass/fail: it prints figures. Use a Release build (scripts/bench.sh).

    python3 tests/bench/bench_p2p.py --bindir build-bench [--loads 125,250,750] [--seconds 8]
"""

import argparse
import os
import random
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration"))

from genie_testlib import Node, wait_for  # noqa: E402
from benchlib import Fleet, cpu_seconds, mem_kb, percentile  # noqa: E402

ROOM = "bench"
READ_MAX = 512          # node_p2p.c: READ_MAX messages per room_tail call
LOG_CAP = 4096          # node_p2p.c: ROOM_LOG_CAP
CONNECT_TIMEOUT = 120.0
JOIN_SETTLE = 3.0
PROBE_TIMEOUT = 60.0
RUN_MAX_POSTS = 4000    # posts per run, so that every node's log holds the whole run
DRAIN_QUIET = 4.0       # a run ends when no node logged anything new for this long...
DRAIN_MAX = 60.0        # ...or this long after the send window, whichever comes first
IDLE_SECONDS = 3.0


def total_cpu(nodes):
    return sum(cpu_seconds(n.pid) for n in nodes)


def room_last(node):
    return node.call("room_tail", {"room": ROOM, "after": 1 << 62}, timeout=30.0)["last"]


def mark(what):
    """Appends WHAT to the file named by $BENCH_P2P_MARKS, if set (a profiler attached to
    the nodes can wait for a run's send window there)."""
    path = os.environ.get("BENCH_P2P_MARKS")
    if path:
        with open(path, "a") as f:
            f.write(what + "\n")


def p2p_totals(nodes):
    """The p2p counters (p2p_stats) summed over NODES."""
    out = {}
    for n in nodes:
        for k, v in n.call("p2p_stats", timeout=30.0).items():
            if isinstance(v, int):
                out[k] = out.get(k, 0) + v
    return out


# ---- network set-up ----

def start_network(fleet, n_nodes, rng, log_level):
    nodes = []
    for i in range(n_nodes):
        peers = [rng.choice(nodes).address()] if nodes else []
        nodes.append(Node(fleet, "n%02d" % i, peers=peers, log_level=log_level).start())
    ids = [n.status()["node_id"] for n in nodes]
    by_id = dict(zip(ids, range(n_nodes)))

    def connected():
        adj = {i: set() for i in range(n_nodes)}
        for i, n in enumerate(nodes):
            for p in n.call("peers", timeout=10.0):
                j = by_id.get(p["id"])
                if p.get("linked") and j is not None:
                    adj[i].add(j)
                    adj[j].add(i)
        seen, todo = {0}, [0]
        while todo:
            for v in adj[todo.pop()]:
                if v not in seen:
                    seen.add(v)
                    todo.append(v)
        return len(seen) == n_nodes and adj

    t0 = time.monotonic()
    adj = wait_for(connected, CONNECT_TIMEOUT, interval=0.5, what="a connected network")
    degrees = sorted(len(v) for v in adj.values())
    print("network: %d nodes connected in %.1f s (link degree min %d, median %d, max %d)"
          % (n_nodes, time.monotonic() - t0, degrees[0], degrees[len(degrees) // 2],
             degrees[-1]), flush=True)
    return nodes, ids


def join_and_probe(nodes):
    for n in nodes:
        n.call("room_join", {"room": ROOM})
    time.sleep(JOIN_SETTLE)
    deadline = time.monotonic() + PROBE_TIMEOUT
    k = 0
    while True:
        marks = [room_last(n) for n in nodes]
        text = "probe %d" % k
        k += 1
        nodes[0].call("room_post", {"room": ROOM, "text": text})
        end = time.monotonic() + 5.0
        while time.monotonic() < end:
            if all(any(m.get("text") == text for m in
                       n.call("room_tail", {"room": ROOM, "after": mk})["messages"])
                   for n, mk in zip(nodes, marks)):
                print("room %s: a probe post reached all %d members" % (ROOM, len(nodes)),
                      flush=True)
                return
            time.sleep(0.2)
        if time.monotonic() >= deadline:
            raise SystemExit("bench_p2p: probe posts do not reach every member of %s" % ROOM)


# ---- one run ----

def read_since(node, after):
    """NODE's room messages with seq > AFTER (pages of READ_MAX), and the number of
    sequence numbers skipped (messages the log evicted before we read them)."""
    out, gaps = [], 0
    for _ in range(LOG_CAP // READ_MAX + 4):
        page = node.call("room_tail", {"room": ROOM, "after": after}, timeout=60.0)["messages"]
        if not page:
            break
        if page[0]["seq"] > after + 1:
            gaps += page[0]["seq"] - after - 1
        out.extend(page)
        after = page[-1]["seq"]
    return out, gaps


def run_load(nodes, ids, origins, per_origin_rate, max_seconds, size, idle_cpu_rate):
    """One run: ORIGINS each post at PER_ORIGIN_RATE for a window of at most MAX_SECONDS,
    shortened so that every node's log holds the whole run (LOG_CAP) and nothing has to
    be read while the posts spread. Returns the figures."""
    offered = per_origin_rate * len(origins)
    seconds = min(max_seconds, RUN_MAX_POSTS / offered)
    count = max(1, int(per_origin_rate * seconds))
    seconds = count / float(per_origin_rate)
    total = count * len(origins)
    marks = [room_last(n) for n in nodes]
    stats0 = p2p_totals(nodes)
    cpu0 = total_cpu(nodes)
    t0 = time.monotonic()
    mark("start %.6f" % t0)
    for o in origins:
        got = nodes[o].call("room_post_many", {"room": ROOM, "count": count,
                                               "rate": per_origin_rate, "size": size})
        if got.get("rate") != per_origin_rate or got.get("count") != count:
            raise SystemExit("bench_p2p: room_post_many took %r" % got)
    # wait for the window, then until every log holds every post or nothing moves
    window_end = t0 + seconds
    last_counts, last_change = None, time.monotonic()
    cpu_win, copies_win = None, 0
    while True:
        time.sleep(min(0.5, max(0.0, window_end - time.monotonic())) if cpu_win is None else 0.5)
        if cpu_win is None and time.monotonic() >= window_end:
            # the send window alone: its CPU and the copies delivered by its end (every
            # post is made by then: the logs hold TOTAL of their own origins' posts)
            cpu_win = total_cpu(nodes) - cpu0
            counts = [room_last(n) - mk for n, mk in zip(nodes, marks)]
            copies_win = max(0, sum(counts) - total)
        else:
            counts = [room_last(n) - mk for n, mk in zip(nodes, marks)]
        now = time.monotonic()
        if counts != last_counts:
            last_counts, last_change = counts, now
        if now < window_end:
            continue
        if min(counts) >= total or now - last_change >= DRAIN_QUIET or \
                now - window_end >= DRAIN_MAX:
            break
    wall = (last_change if min(counts) < total else now) - t0
    mark("end %.6f" % time.monotonic())
    cpu_run = total_cpu(nodes) - cpu0
    wall_all = time.monotonic() - t0
    stats1 = p2p_totals(nodes)
    mems = [mem_kb(n.pid) for n in nodes]
    logs, gaps = [], 0
    for n, mk in zip(nodes, marks):
        msgs, g = read_since(n, mk)
        logs.append(msgs)
        gaps += g

    origin_ids = {ids[o] for o in origins}
    where = {}      # (origin id, n) -> number of nodes that logged it
    dups = 0
    lat = []
    first_ms, last_ms = None, None
    for i, msgs in enumerate(logs):
        mine = set()
        for m in msgs:
            text = m.get("text", "")
            if m["from"] not in origin_ids or not text.startswith("flood "):
                continue
            try:
                key = (m["from"], int(text.split(" ", 2)[1]))
            except (IndexError, ValueError):
                continue
            if key in mine:
                dups += 1
                continue
            mine.add(key)
            where[key] = where.get(key, 0) + 1
            if m["from"] != ids[i]:
                lat.append(m["recv_ms"] - m["time_ms"])
            first_ms = m["time_ms"] if first_ms is None else min(first_ms, m["time_ms"])
            last_ms = m["recv_ms"] if last_ms is None else max(last_ms, m["recv_ms"])
    everywhere = sum(1 for v in where.values() if v == len(nodes))
    pairs = sum(where.values())
    lat.sort()
    rss = [r for r, _ in mems]
    done_s = (last_ms - first_ms) / 1000.0 if lat else float("nan")
    return {
        "label": "%d x %g/s, %.2g s" % (len(origins), per_origin_rate, seconds),
        "offered": offered, "posted": total, "all": everywhere,
        "all_rate": everywhere / max(seconds, done_s if lat else 0.0),
        "short": total - everywhere, "missing": total * len(nodes) - pairs,
        "dups": dups, "p50": percentile(lat, 0.50), "p99": percentile(lat, 0.99),
        "max": lat[-1] if lat else float("nan"), "done_s": done_s,
        "cpu": cpu_run, "cpu_1k": cpu_run / (total / 1000.0),
        "cpu_copy_us": cpu_run / max(1, pairs - total) * 1e6,
        "cpu_copy_win_us": cpu_win / copies_win * 1e6 if copies_win else float("nan"),
        "copies_win": copies_win / float(max(1, pairs - total)),
        "in_copy": (stats1["msgs_in"] - stats0["msgs_in"]) / float(max(1, pairs - total)),
        "cpu_in_us": cpu_run / max(1, stats1["msgs_in"] - stats0["msgs_in"]) * 1e6,
        "cpu_1k_busy": max(0.0, cpu_run - idle_cpu_rate * wall_all) / (total / 1000.0),
        "rss_max": max(rss) / 1024.0, "rss_mean": sum(rss) / len(rss) / 1024.0,
        "hwm_max": max(h for _, h in mems) / 1024.0,
        "gaps": gaps, "wall": wall,
        "repair": {k: stats1[k] - stats0.get(k, 0)
                   for k in ("iwant_served", "send_refused") if k in stats1},
        "refused": {k: stats1.get(k, 0) - stats0.get(k, 0)
                    for k in ("bad_sig", "malformed", "rate_limited", "banned")
                    if stats1.get(k, 0) != stats0.get(k, 0)},
    }


def print_table(runs, n_nodes):
    head = ("load", "offered/s", "posted", "all-%d/s" % n_nodes, "msgs-short",
            "missing", "dups", "p50 ms", "p99 ms", "max ms", "done s", "cpu s/1k",
            "(over idle)", "us/copy", "win us/copy", "win done", "in/copy", "us/in", "rss max", "rss mean", "hwm max")
    rows = []
    for r in runs:
        rows.append((r["label"], "%d" % r["offered"], "%d" % r["posted"], "%.0f" % r["all_rate"],
                     "%d" % r["short"], "%d" % r["missing"], "%d" % r["dups"],
                     "%.0f" % r["p50"], "%.0f" % r["p99"], "%.0f" % r["max"],
                     "%.1f" % r["done_s"], "%.3f" % r["cpu_1k"], "%.3f" % r["cpu_1k_busy"],
                     "%.0f" % r["cpu_copy_us"], "%.0f" % r["cpu_copy_win_us"],
                     "%.0f%%" % (100.0 * r["copies_win"]), "%.2f" % r["in_copy"],
                     "%.0f" % r["cpu_in_us"],
                     "%.1f" % r["rss_max"], "%.1f" % r["rss_mean"], "%.1f" % r["hwm_max"]))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    line = "  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(head, widths)))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
    print("all-%d/s: posts logged by every node per second of the send window, or of the "
          "time from the first post to the last delivery (done s) when that is longer"
          % n_nodes)
    print("cpu s/1k: CPU seconds of all %d nodes per 1000 posts over the run; (over idle): "
          "minus the idle network's CPU for the same time; rss/hwm in MiB per node" % n_nodes)
    print("us/copy: CPU microseconds of all nodes per delivered copy (post logged by a node "
          "other than its origin) over the window and the drain; win us/copy: the same over "
          "the send window alone (its CPU over the copies delivered by its end, win done of "
          "all copies); in/copy: envelopes received by all nodes (p2p_stats msgs_in: posts, "
          "copies, repair, pings) per delivered copy; us/in: the run's CPU per envelope received "
          "(the mesh the nodes pick differs from start to start, and with it in/copy)")
    for r in runs:
        if r["refused"]:
            print("warning: %s: the nodes refused messages (p2p_stats): %s"
                  % (r["label"], " ".join("%s %d" % kv for kv in sorted(r["refused"].items()))))
        if r["gaps"]:
            print("warning: %s: %d logged messages were evicted before the read (counted as "
                  "missing)" % (r["label"], r["gaps"]))


def print_sig_rates(bindir):
    """Prints this machine's signature-check rates now (bench_envelope --sig), the yardstick
    of us/copy: each delivered copy needs one check of its origin's signature."""
    exe = os.path.join(bindir, "tests", "bench_envelope")
    if not os.access(exe, os.X_OK):
        print("signature checks: %s not built (-DGENIE_BENCH=ON)" % exe)
        return
    out = subprocess.run([exe, "--sig"], capture_output=True, text=True, timeout=120).stdout
    for line in out.splitlines():
        parts = line.split()
        try:
            rate = float(parts[-2])
        except (IndexError, ValueError):
            continue
        print("signature checks on this machine: %-24s %8.0f /s  %6.1f us each"
              % (" ".join(parts[:-3]), rate, 1e6 / rate if rate > 0 else float("nan")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bindir", required=True, help="build directory holding genie-node")
    ap.add_argument("--nodes", type=int, default=16)
    ap.add_argument("--origins", type=int, default=4)
    ap.add_argument("--loads", default="125,250,750",
                    help="comma-separated posts per second per origin, one run each")
    ap.add_argument("--seconds", type=float, default=8.0,
                    help="longest send window; a run posts at most %d messages in all"
                    % RUN_MAX_POSTS)
    ap.add_argument("--size", type=int, default=200, help="post size in bytes")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--log-level", default="info",
                    help="the nodes' --log-level (debug logs refused sends; with --keep)")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    loads = [int(x) for x in args.loads.split(",") if x.strip()]  # the RPC wants integers
    if args.origins > args.nodes or args.nodes < 2 or not loads or min(loads) < 1:
        raise SystemExit("bench_p2p: want 2+ nodes, origins <= nodes, and a load")
    print("bench_p2p: %d nodes, %d origins, loads %s/s per origin, %g s each, %d-byte posts, "
          "seed %d, %d CPUs" % (args.nodes, args.origins, args.loads, args.seconds, args.size,
                                seed, os.cpu_count() or 0), flush=True)
    fleet = Fleet(args.bindir, args.keep, "bench_p2p")
    try:
        nodes, ids = start_network(fleet, args.nodes, rng, args.log_level)
        join_and_probe(nodes)
        origins = rng.sample(range(args.nodes), args.origins)
        print("origins: %s" % " ".join(nodes[o].name for o in origins), flush=True)
        idle0 = total_cpu(nodes)
        time.sleep(IDLE_SECONDS)
        idle = (total_cpu(nodes) - idle0) / IDLE_SECONDS
        print("idle network: %.3f CPU s per second (all nodes)" % idle, flush=True)
        runs = []
        for load in loads:
            r = run_load(nodes, ids, origins, load, args.seconds, args.size, idle)
            print("run %s: %d posted, %d on all %d nodes, done in %.1f s"
                  % (r["label"], r["posted"], r["all"], args.nodes, r["wall"]), flush=True)
            runs.append(r)
            time.sleep(2.0)
        dead = [n.name for n in nodes if not n.alive()]
        print()
        print_table(runs, args.nodes)
        for r in runs:
            rep = r["repair"]
            print("repair %s: %d messages re-sent on IWANT, sends refused by the transport: %s"
                  % (r["label"], rep.get("iwant_served", 0),
                     rep["send_refused"] if "send_refused" in rep
                     else "n/a (p2p_stats does not report send_refused)"))
        print_sig_rates(args.bindir)
        if dead:
            print("warning: nodes died during the benchmark: %s" % " ".join(dead))
    finally:
        fleet.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

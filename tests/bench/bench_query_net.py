#!/usr/bin/env python3
"""bench_query_net: paid queries through one query enclave, via real nodes on loopback
(issue 16: target >= 1,000 queries/s with p99 under 20 ms for a logistic model).

Set-up (real processes, bench_train_net.build_world: genie_testlib's helpers as
test_train_query.py uses them): a 1-authority testnet with an attestation service; runner1
(certified) with a validation, a training and a query enclave; a trainer and a logistic
spec (age, bmi, quant -> trait); OWNERS data owners donating 40-row phenotype tables;
`genie train start` (1 round by default) until the model is published and loaded in the
query enclave; a user node of its own (linked to the authority and runner1), funded by a
transfer, buys QUERIES+ queries (`genie query buy MODEL --count N --wait`).

Then the user's queries go through the user's OWN node, as `genie query run` sends them:
the `query_run` RPC (HTTP Basic auth with DATADIR/rpc.cookie, as node/rpc's client does)
makes the user's node seal the row to the query enclave with a fresh reply key and the
buy's access code (the buy's inclusion proof only the first time it sends that buy to that
enclave), unicast it by p2p (ZeroMQ over loopback TCP) to runner1, whose relay queues it
to the enclave (a genie-enclave process: checks the payment, runs the model, counts the
use, seals the answer to the reply key); the answer comes back the same way and the user's
node opens it. Measured:
  - one query through the CLI (`genie query run MODEL --input FILE`, a 1-row file), CLI
    process wall time p50/p99 over CLI_RUNS runs: what a user waits for per command;
  - QUERIES queries of one row from CLIENTS concurrent RPC clients (keep-alive HTTP, one
    thread and one connection each, closed loop: each sends its next query as soon as its
    answer arrives, so the offered load is what the path can take, well above 1,000/s when
    the path allows it): queries/s, p50/p99/max latency per query as the client sees it
    (request written to answer read), refusals (must be 0: any error answer counts),
    CPU-s of each process (nodes, enclaves, this script) per query, the load average;
    repeated REPEAT times, each quiet and, with --burn K, again with K CPU-bound loops
    (`sh -c 'while :; do :; done'`) beside;
  - this machine's Ed25519 verify rate in the same run (bench_query's libsodium loop).
Every answer is checked: one prediction in [0, 1], the buy's used count grows.

    python3 bench_query_net.py --bindir BUILD_DIR [--queries N] [--clients C] [--repeat R]
        [--burn K] [--cli-runs N] [--owners N] [--rounds N] [--keep]
No pass/fail: it prints figures. Numbers from a loaded machine are upper bounds.
"""

import argparse
import base64
import csv
import json
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

from genie_testlib import (HEIGHT_TIMEOUT, WAIT_S, Runner, balance, expect,  # noqa: E402
                           start_account_node, wait_for)
from benchlib import Burn, CpuMeter, loadavg, percentile, verify_rate  # noqa: E402
from bench_train_net import build_world, train  # noqa: E402

TARGET = "target (issue 16): >= 1,000 queries/s with p99 < 20 ms"


class RpcConn:
    """One keep-alive HTTP/1.1 connection to a node's control API (127.0.0.1), with the
    node's cookie as Basic credentials, as the genie CLI authenticates."""

    def __init__(self, node):
        host, port = node.rpc_addr().rsplit(":", 1)
        self.addr = (host, int(port))
        self.auth = "Basic " + base64.b64encode(node.cookie().encode()).decode()
        self.sock = None
        self.buf = b""
        self.reconnects = -1

    def _connect(self):
        if self.sock:
            self.sock.close()
        self.sock = socket.create_connection(self.addr, timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.reconnects += 1

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the node closed the connection")
        self.buf += data

    def call(self, body):
        """POSTs BODY (bytes); returns (HTTP status, parsed JSON)."""
        if self.sock is None:
            self._connect()
        head = ("POST / HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % (self.addr[0], self.addr[1], self.auth, len(body))).encode()
        try:
            self.sock.sendall(head + body)
            while b"\r\n\r\n" not in self.buf:
                self._recv()
        except (ConnectionError, OSError):
            self._connect()  # a closed keep-alive connection: once more on a new one
            self.sock.sendall(head + body)
            while b"\r\n\r\n" not in self.buf:
                self._recv()
        hdr, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = hdr.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, v in
                  (x.split(":", 1) for x in lines[1:] if ":" in x)}
        n = int(fields.get("content-length", "0"))
        while len(self.buf) < n:
            self._recv()
        data, self.buf = self.buf[:n], self.buf[n:]
        if fields.get("connection", "").lower() == "close":
            self.sock.close()
            self.sock = None
        return status, json.loads(data) if data else None

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None


def numbers(vals):
    """VALS as floats, or None when one is missing (NA, empty) or not a number."""
    try:
        return [float(v) for v in vals]
    except ValueError:
        return None


def query_bodies(path, model, features, n=256):
    """Up to N JSON-RPC query_run bodies (bytes) of one row each from the CSV at PATH (its
    rows with every feature present)."""
    with open(path) as f:
        table = list(csv.reader(f))
    header = table[0]
    idx = [header.index(x) for x in features]
    bodies = []
    for row in table[1:]:
        vals = numbers([row[i] for i in idx])
        if vals is None:
            continue
        req = {"jsonrpc": "2.0", "id": len(bodies) + 1, "method": "query_run",
               "params": {"model": model, "columns": features,
                          "rows": [vals]}}
        bodies.append(json.dumps(req).encode())
        if len(bodies) == n:
            break
    expect(bodies, "no complete row in %s" % path)
    return bodies


def load(user, bodies, queries, clients):
    """QUERIES query_run calls from CLIENTS threads (one keep-alive connection each),
    closed loop. Returns (wall seconds, latencies ms of the answered ones, refusals
    [message], reconnects)."""
    lock = threading.Lock()
    state = {"next": 0}
    lat, refused = [], []
    conns = [RpcConn(user) for _ in range(clients)]
    for c in conns:
        c._connect()  # connected before the clock starts
        c.reconnects = 0
    start = threading.Barrier(clients + 1)

    def worker(conn):
        mine, bad = [], []
        start.wait()
        while True:
            with lock:
                k = state["next"]
                if k >= queries:
                    break
                state["next"] = k + 1
            body = bodies[k % len(bodies)]
            t0 = time.perf_counter()
            try:
                status, resp = conn.call(body)
            except (OSError, ValueError) as e:
                bad.append("connection: %s" % e)
                continue
            dt = (time.perf_counter() - t0) * 1e3
            res = (resp or {}).get("result") if status == 200 else None
            preds = (res or {}).get("predictions")
            if not res or not isinstance(preds, list) or len(preds) != 1 \
                    or not 0.0 <= preds[0] <= 1.0:
                bad.append("HTTP %d %s" % (status, json.dumps((resp or {}).get("error"))[:200]))
                continue
            mine.append(dt)
        with lock:
            lat.extend(mine)
            refused.extend(bad)

    threads = [threading.Thread(target=worker, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    reconnects = sum(c.reconnects for c in conns)
    for c in conns:
        c.close()
    return wall, lat, refused, reconnects


def cli_runs(user, model, path, runs):
    """`genie query run MODEL --input PATH` RUNS times: wall ms of each CLI process."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        c = user.cli("query", "run", model, "--input", path)
        out.append((time.perf_counter() - t0) * 1e3)
        expect(c.returncode == 0 and c.json and len(c.json["predictions"]) == 1,
               "query run: %r" % c)
    return out


def one_row_file(src, dst, features):
    with open(src) as f:
        table = list(csv.reader(f))
    with open(dst, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(table[0])
        idx = [table[0].index(x) for x in features]
        w.writerow([r for r in table[1:] if numbers([r[i] for i in idx])][0])
    return dst


def perf_start(out_dir, pids):
    """`perf record` (user-space cycles, 2 kHz) of the user's node, runner1 and its query
    enclave (PIDS' "user", "runner1", "runner1/query-*"), into OUT_DIR/<name>.data."""
    os.makedirs(out_dir, exist_ok=True)
    procs = []
    for name, pid in pids.items():
        if name in ("user", "runner1") or name.startswith("runner1/query"):
            path = os.path.join(out_dir, name.replace("/", "_") + ".data")
            if os.environ.get("BENCH_PERF_TRACE"):  # syscall counts instead of a profile
                cmd = ["perf", "trace", "-s", "-p", str(pid), "-o", path + ".txt"]
            else:
                cmd = ["perf", "record", "-q", "-F", "2000", "-p", str(pid), "-o", path]
            procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
    time.sleep(0.5)  # perf attaches
    return procs


def perf_stop(procs):
    for p in procs:
        p.send_signal(2)  # SIGINT: perf writes its file and exits
        p.wait(timeout=30)


def phase_line(label, wall, lat, refused, cpu, n_ok):
    qps = n_ok / wall if wall > 0 else 0.0
    top = sorted(((k, v) for k, v in cpu.items() if v >= 0.005), key=lambda kv: -kv[1])
    per = ", ".join("%s %.2f (%.0f us/q)" % (k, v, v / max(n_ok, 1) * 1e6) for k, v in top)
    print("  %-12s %6d ok in %6.2f s: %7.0f queries/s   p50 %6.2f  p99 %6.2f  max %7.2f ms"
          "   refusals %d" % (label, n_ok, wall, qps, percentile(lat, 0.50),
                              percentile(lat, 0.99), max(lat) if lat else float("nan"),
                              len(refused)))
    print("         CPU-s: %s" % per)
    print("         load average after: %s" % loadavg())
    for msg in sorted(set(refused))[:3]:
        print("         refused: %s" % msg)
    return qps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--queries", type=int, default=5000, help="queries per phase (5000)")
    ap.add_argument("--clients", default="8",
                    help="concurrent RPC clients; a comma-separated list runs each (8)")
    ap.add_argument("--repeat", type=int, default=1, help="phases (each quiet, then burn)")
    ap.add_argument("--burn", type=int, default=0, help="CPU-bound loops in a second run")
    ap.add_argument("--cli-runs", type=int, default=20)
    ap.add_argument("--owners", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--log-level", default="info", help="the nodes' log level (info)")
    ap.add_argument("--perf", metavar="DIR",
                    help="record `perf record` profiles of the user's node, runner1 and the "
                         "query enclave during the first phase into DIR (perf must be there)")
    args = ap.parse_args()
    clients = [int(x) for x in args.clients.split(",")]
    if not (clients and all(1 <= c <= 64 for c in clients) and args.queries >= 1
            and args.repeat >= 1 and args.burn >= 0 and args.cli_runs >= 1
            and args.owners >= 1):
        raise SystemExit("bad options")
    phases = args.repeat * (2 if args.burn else 1) * len(clients)
    count = args.queries * phases + args.cli_runs + 16
    expect(count <= 1000000, "at most 1,000,000 queries in one buy")
    with Runner("bench_query_net", args) as r:
        print("set-up (real processes on loopback, nodes at log level %s):" % args.log_level)
        t0 = time.monotonic()
        st = build_world(r, runners=1, enclaves=1, owners=args.owners, records=1, rows=40,
                         query_rows=300, log_level=args.log_level)
        phases_t, status, _, _ = train(st, args.rounds)
        model = status["model"]
        print("  trained and loaded in %.1f s (from train start: published %.2f s, loaded "
              "%.2f s); metrics %r" % (phases_t["loaded"], phases_t["published"],
                                       phases_t["loaded"], model["metrics"]))
        auth, r1 = st["auth"], st["runners"][0]
        user, account = start_account_node(st["net"], "user", "user",
                                           [auth.address(), r1.address()], model["height"],
                                           log_level=args.log_level)
        c = auth.cli("tx", "transfer", account, str(count + 1000), "--wait", WAIT_S)
        expect(c.returncode == 0, "transfer: %r" % c)
        wait_for(lambda: balance(user, account) == count + 1000, timeout=HEIGHT_TIMEOUT,
                 interval=0.2, what="the user's balance")
        c = user.cli("query", "buy", model["id"], "--count", str(count), "--wait", WAIT_S)
        expect(c.returncode == 0 and c.json, "query buy: %r" % c)
        buy = c.json.get("buy_id") or c.json.get("txid")
        print("  user bought %d queries (buy %s...); set-up took %.1f s" %
              (count, buy[:16], time.monotonic() - t0))
        features = ["age", "bmi", "quant"]
        bodies = query_bodies(st["query_file"], model["id"], features)
        # the first query carries the buy's proof (the enclave checks it and keeps the buy)
        conn = RpcConn(user)
        status_code, resp = conn.call(bodies[0])
        conn.close()
        expect(status_code == 200 and resp and "result" in resp, "first query: %r" % resp)
        print("  first query (with the buy's inclusion proof): prediction %.4f, used %d of %d"
              % (resp["result"]["predictions"][0], resp["result"]["used"],
                 resp["result"]["count"]))
        pids = dict(st["pids"])
        pids["user"] = user.pid
        for name in list(pids):  # only the processes on the query path and the authority
            if name.startswith(("owner", "trainer")) or "/training" in name \
                    or "/validation" in name:
                del pids[name]
        one = one_row_file(st["query_file"], os.path.join(r.tmp, "one-row.csv"), features)
        print()
        print("machine: %d cores, load average %s; other helpers' builds and tests may run "
              "beside" % (os.cpu_count() or 0, loadavg()))
        vr = verify_rate(r.bindir)
        print("Ed25519 verify on this machine (bench_query's libsodium loop, same run): %s /s"
              % (vr if vr else "n/a (bench_query not built)"))
        w = cli_runs(user, model["id"], one, args.cli_runs)
        print("one query through the CLI (`genie query run MODEL --input FILE`, 1 row, %d "
              "runs): process wall p50 %.1f ms, p99 %.1f ms" %
              (args.cli_runs, percentile(w, 0.5), percentile(w, 0.99)))
        print()
        print("%d queries of one row per phase, C keep-alive RPC clients in a closed loop "
              "through the user's node -> p2p -> runner1 -> query enclave -> back; %s" %
              (args.queries, TARGET))
        for i, n_clients, burn in ((i, c, b) for i in range(args.repeat) for c in clients
                                   for b in ([0, args.burn] if args.burn else [0])):
            cpu = CpuMeter(pids)
            first = i == 0 and n_clients == clients[0] and not burn
            prof = perf_start(args.perf, pids) if args.perf and first else []
            with Burn(burn):
                cpu.start()
                wall, lat, refused, rec = load(user, bodies, args.queries, n_clients)
                used = cpu.stop()
            perf_stop(prof)
            label = "C=%d %s" % (n_clients, "quiet" if burn == 0 else "burn%d" % burn)
            phase_line(label, wall, lat, refused, used, len(lat))
            if rec:
                print("         (%d reconnects)" % rec)
        vr2 = verify_rate(r.bindir)
        print("Ed25519 verify on this machine after the runs: %s /s" % (vr2 or "n/a"))
        r.passed += 1
    sys.exit(0)


if __name__ == "__main__":
    main()

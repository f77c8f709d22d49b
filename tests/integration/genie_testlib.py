"""genie_testlib: shared helpers for genie's integration tests (python3 stdlib only).

An integration test starts real genie-node processes and drives them with the genie CLI
and raw JSON-RPC. This module gives it:

- parse_args(): the --bindir BUILD_DIR argument every test takes (ctest passes it);
- free_port(): a TCP port that was free a moment ago (bind port 0, close);
- wait_for(): poll a condition with a bounded timeout;
- Node: one genie-node process (start, wait until rpc.addr appears, raw RPC, CLI calls,
  SIGTERM/stop with bounded waits, log tail for failure messages);
- run_cli(): run the genie CLI once (optionally with --json, parsed);
- Runner: named checks, "N passed, N failed" at the end, and a process registry whose
  children are always killed (use `with Runner(...) as r:`).
- ledger helpers (LedgerNet, wait_heights, block_hash, place_key);
- network namespaces (root only): NetnsLab makes namespaces joined by veth pairs to a
  bridge and can cut/heal a host; NetnsNode runs a Node inside one (see the section at
  the end).

Every wait is bounded; nothing here sleeps without a deadline.
"""

import argparse
import atexit
import base64
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

DEFAULT_TIMEOUT = 20.0  # seconds; ASan builds start slower than plain ones


def parse_args(argv=None):
    """Parses the common test arguments: --bindir BUILD_DIR (required), --keep (keep the
    temporary directory for inspection)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True, help="build directory holding genie-node and genie")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return ap.parse_args(argv)


def free_port(host="127.0.0.1"):
    """A TCP port that was free when we checked (bind port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for(cond, timeout=DEFAULT_TIMEOUT, interval=0.05, what="condition"):
    """Calls cond() until it returns a truthy value, which is returned. Raises
    TimeoutError naming WHAT after TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def file_mode(path):
    """Permission bits of PATH (e.g. 0o600)."""
    return os.stat(path).st_mode & 0o777


class CliResult:
    """Outcome of one CLI run: returncode, stdout, stderr, and json (parsed stdout when
    --json was asked and stdout parsed, else None)."""

    def __init__(self, proc, want_json):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.json = None
        if want_json and proc.returncode == 0:
            try:
                self.json = json.loads(proc.stdout)
            except ValueError:
                self.json = None

    def error_lines(self, prog="genie"):
        """Lines of stderr that start with "PROG: error:"."""
        return [l for l in self.stderr.splitlines() if l.startswith(prog + ": error:")]

    def __repr__(self):
        return "CliResult(rc=%r, stdout=%r, stderr=%r)" % (self.returncode, self.stdout[-500:],
                                                          self.stderr[-500:])


def run_cli(bindir, args, json_out=False, timeout=DEFAULT_TIMEOUT, env=None, stdin_data=None,
            prefix=()):
    """Runs BINDIR/genie ARGS (a list), adding --json when JSON_OUT. stdin is /dev/null
    unless STDIN_DATA is given, so the CLI never sees a terminal. ENV entries are added
    to the current environment (a value None removes the variable). PREFIX is put before
    the command (e.g. ["ip", "netns", "exec", NS] to run it in a network namespace)."""
    cmd = list(prefix) + [os.path.join(bindir, "genie")] + list(args)
    if json_out:
        cmd.append("--json")
    full_env = dict(os.environ)
    for k, v in (env or {}).items():
        if v is None:
            full_env.pop(k, None)
        else:
            full_env[k] = v
    proc = subprocess.run(cmd, input=stdin_data, stdin=None if stdin_data is not None
                          else subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, env=full_env)
    return CliResult(proc, json_out)


def run_node_once(bindir, args, timeout=DEFAULT_TIMEOUT):
    """Runs BINDIR/genie-node ARGS expecting it to exit by itself (usage errors, start-up
    failures); returns the CompletedProcess. Raises TimeoutExpired (after killing it) if
    it keeps running."""
    cmd = [os.path.join(bindir, "genie-node")] + list(args)
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


class Node:
    """One genie-node process.

    Node(runner, name, listen=None, roles="user", peers=(), genesis=None, rpc=None,
         extra=(), datadir=None)
    LISTEN is a list of endpoints (default: one tcp://127.0.0.1:<free port>). The datadir
    defaults to TMP/NAME; the process's stdout+stderr go to TMP/NAME.log.
    """

    def __init__(self, runner, name, listen=None, roles="user", peers=(), genesis=None,
                 rpc=None, extra=(), datadir=None, log_level="debug"):
        self.runner = runner
        self.bindir = runner.bindir
        self.name = name
        self.datadir = datadir or os.path.join(runner.tmp, name)
        self.listen = list(listen) if listen else ["tcp://127.0.0.1:%d" % free_port()]
        self.roles = roles
        self.peers = list(peers)
        self.genesis = genesis
        self.rpc = rpc
        self.extra = list(extra)
        self.log_level = log_level
        self.log_path = os.path.join(runner.tmp, name + ".log")
        self.proc = None
        self._log = None

    def argv(self):
        args = [os.path.join(self.bindir, "genie-node"), "--datadir", self.datadir]
        for ep in self.listen:
            args += ["--listen", ep]
        for p in self.peers:
            args += ["--peer", p]
        if self.roles:
            args += ["--role", self.roles]
        if self.genesis:
            args += ["--genesis", self.genesis]
        if self.rpc:
            args += ["--rpc", self.rpc]
        if self.log_level:
            args += ["--log-level", self.log_level]
        return args + self.extra

    def start(self, wait=True, timeout=DEFAULT_TIMEOUT):
        """Starts the process (registered with the runner so it is always killed) and,
        with WAIT, waits until it answers on its control API. Returns self."""
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        self.runner.track(self)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=DEFAULT_TIMEOUT):
        """Waits until DATADIR/rpc.addr and rpc.cookie exist and the "status" method
        answers with this process's pid (so files left by an earlier, killed node are not
        mistaken for readiness). Raises with the log tail if the process exits first or
        the wait times out."""

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s before it was ready:\n%s"
                                   % (self.name, self.proc.returncode, self.log_tail()))
            try:
                return self.call("status", timeout=2.0).get("pid") == self.proc.pid
            except (OSError, ValueError, RuntimeError, KeyError):
                return False

        try:
            wait_for(ready, timeout, interval=0.1, what="%s to answer on rpc" % self.name)
        except TimeoutError as e:
            raise TimeoutError("%s\n%s" % (e, self.log_tail()))
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid

    def rpc_addr(self):
        with open(os.path.join(self.datadir, "rpc.addr")) as f:
            return f.read().strip()

    def cookie(self):
        with open(os.path.join(self.datadir, "rpc.cookie")) as f:
            return f.read().strip()

    def rpc_raw(self, body, auth="cookie", timeout=DEFAULT_TIMEOUT):
        """POSTs BODY (bytes or str) to the node's control API. AUTH: "cookie" (the right
        credentials), None (none), or a "user:password" string. Returns (http_status,
        parsed JSON body or None)."""
        if isinstance(body, str):
            body = body.encode()
        req = urllib.request.Request("http://%s/" % self.rpc_addr(), data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        if auth == "cookie":
            auth = self.cookie()
        if auth is not None:
            req.add_header("Authorization",
                           "Basic " + base64.b64encode(auth.encode()).decode())
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, data = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, data = e.code, e.read()
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    def call(self, method, params=None, timeout=DEFAULT_TIMEOUT):
        """JSON-RPC call with the right cookie; returns the result or raises RuntimeError
        with the error object."""
        req = {"jsonrpc": "2.0", "id": 1, "method": method}
        if params is not None:
            req["params"] = params
        status, resp = self.rpc_raw(json.dumps(req), timeout=timeout)
        if status != 200 or resp is None or "error" in resp:
            raise RuntimeError("%s %s: HTTP %s %r" % (self.name, method, status, resp))
        return resp["result"]

    def cli(self, *args, json_out=True, timeout=DEFAULT_TIMEOUT, env=None):
        """Runs `genie --datadir DATADIR ARGS` (with --json by default)."""
        return run_cli(self.bindir, ["--datadir", self.datadir] + list(args),
                       json_out=json_out, timeout=timeout, env=env)

    def status(self):
        """`genie status --json`, parsed; raises on failure."""
        r = self.cli("status")
        if r.returncode != 0 or r.json is None:
            raise RuntimeError("%s status failed: %r" % (self.name, r))
        return r.json

    def address(self):
        """The node's full address, NODEID@tcp://IP:PORT, for other nodes' --peer."""
        return self.status()["address"]

    def send_signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def wait_exit(self, timeout=DEFAULT_TIMEOUT):
        """Waits (bounded) for the process to exit; returns its exit status. Kills it and
        raises TimeoutError if it does not exit in time."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TimeoutError("%s did not exit within %.1f s" % (self.name, timeout))

    def stop(self, sig=signal.SIGTERM, timeout=DEFAULT_TIMEOUT):
        """Sends SIG and waits for the exit status."""
        self.send_signal(sig)
        return self.wait_exit(timeout)

    def kill(self):
        """SIGKILL and reap; safe to call at any time."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self._log:
            self._log.close()
            self._log = None

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join("  [%s] %s" % (self.name, l) for l in lines[-n:])
        except OSError:
            return "  [%s] (no log)" % self.name


class Runner:
    """Named checks with a pass/fail count, a temporary directory, and a registry of
    node processes that are always killed on exit.

        with Runner("test_foundation", args) as r:
            r.check("node starts", fn)   # fn raises AssertionError (or anything) to fail
        sys.exit(r.exit_code())
    """

    def __init__(self, name, args):
        self.name = name
        self.bindir = os.path.abspath(args.bindir)
        self.keep = args.keep
        self.tmp = tempfile.mkdtemp(prefix="genie-%s-" % name)
        self.passed = 0
        self.failed = 0
        self.nodes = []
        for exe in ("genie-node", "genie"):
            path = os.path.join(self.bindir, exe)
            if not os.access(path, os.X_OK):
                raise SystemExit("%s: %s not found (build first)" % (name, path))

    def track(self, node):
        if node not in self.nodes:
            self.nodes.append(node)

    def check(self, what, fn, *args, **kwargs):
        """Runs fn(*args, **kwargs); counts and reports the outcome. Returns fn's value,
        or None if it failed."""
        t0 = time.monotonic()
        try:
            value = fn(*args, **kwargs)
        except Exception as e:  # a failed check must not stop the others
            self.failed += 1
            print("FAIL %s (%.1f s): %s: %s" % (what, time.monotonic() - t0,
                                               type(e).__name__, e), flush=True)
            traceback.print_exc(limit=3, file=sys.stdout)
            for n in self.nodes:
                if n.proc is not None:
                    print(n.log_tail(15))
            return None
        self.passed += 1
        print("ok   %s (%.1f s)" % (what, time.monotonic() - t0), flush=True)
        return value

    def kill_all(self):
        for n in self.nodes:
            n.kill()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.kill_all()
        if exc is not None and not isinstance(exc, SystemExit):
            self.failed += 1
            print("FAIL %s aborted: %s: %s" % (self.name, type(exc).__name__, exc))
            traceback.print_exception(exc_type, exc, tb, file=sys.stdout)
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed), flush=True)
        if self.failed == 0 and not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("%s: files kept in %s" % (self.name, self.tmp))
        return exc is not None and not isinstance(exc, SystemExit)

    def exit_code(self):
        return 0 if self.failed == 0 and self.passed > 0 else 1


def expect(cond, message):
    """Raises AssertionError(MESSAGE) unless COND."""
    if not cond:
        raise AssertionError(message)


# ---- multi-node helpers (p2p tests) ----

def free_ports(count, host="127.0.0.1"):
    """COUNT distinct TCP ports that were free a moment ago. Unlike COUNT calls to
    free_port(), which the kernel may answer with the same port twice, every socket
    stays bound until all are picked."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind((host, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def start_nodes(nodes, timeout=DEFAULT_TIMEOUT):
    """Starts every node of NODES at once, then waits until each answers on its control
    API (bounded by TIMEOUT per node). Returns NODES."""
    for n in nodes:
        n.start(wait=False)
    for n in nodes:
        n.wait_ready(timeout)
    return nodes


def port_taken(node):
    """True if NODE's last start failed because its listen port was taken (ports from
    free_port() can be handed to another process before the node binds them)."""
    return (not node.alive()) and "Address already in use" in node.log_tail(5)


def start_fresh(node, tries=3, timeout=DEFAULT_TIMEOUT):
    """Starts a node whose endpoint nobody knows yet; if its listen port turns out to be
    taken, retries on another free port (at most TRIES starts). Returns NODE."""
    for attempt in range(tries):
        try:
            return node.start(timeout=timeout)
        except RuntimeError:
            if attempt + 1 == tries or not port_taken(node):
                raise
            node.kill()
            node.listen = ["tcp://127.0.0.1:%d" % free_port()]
    return node


def read_log(node, method, room=None, timeout=DEFAULT_TIMEOUT):
    """Every message of NODE's "room_tail" (ROOM) or "inbox" log, paging with "after"
    (the node answers at most 512 per call). Returns the list of message objects."""
    out, after = [], 0
    for _ in range(10000):  # bound: 10000 pages of up to 512
        params = {"after": after}
        if room is not None:
            params["room"] = room
        page = node.call(method, params, timeout=timeout)["messages"]
        if not page:
            return out
        out.extend(page)
        after = page[-1]["seq"]
    raise RuntimeError("%s %s: more pages than expected" % (node.name, method))


def linked_graph(nodes):
    """Undirected graph of links as the nodes report them: {node_id: set(node_id)}, an
    edge when either end lists the other as "linked" in "peers". NODES maps node id to
    Node; nodes that do not answer contribute no edges."""
    graph = {nid: set() for nid in nodes}
    for nid, n in nodes.items():
        try:
            peers = n.call("peers", timeout=5.0)
        except (OSError, RuntimeError, ValueError):
            continue
        for p in peers:
            if p.get("linked"):
                graph[nid].add(p["id"])
                graph.setdefault(p["id"], set()).add(nid)
    return graph


def hop_distances(graph, src):
    """Breadth-first hop counts from SRC over GRAPH ({id: set(id)}): {id: hops}."""
    dist, frontier = {src: 0}, [src]
    while frontier:
        nxt = []
        for u in frontier:
            for v in graph.get(u, ()):
                if v not in dist:
                    dist[v] = dist[u] + 1
                    nxt.append(v)
        frontier = nxt
    return dist


def peers_dump(nodes, label=None):
    """Human summary of each node's linked peers, for failure messages. NODES maps node
    id to Node; LABEL(node_id) names an id (default: its first 8 hex digits)."""
    label = label or (lambda nid: nid[:8])
    lines = []
    for nid, n in nodes.items():
        try:
            peers = n.call("peers", timeout=5.0)
            linked = sorted(label(p["id"]) for p in peers if p.get("linked"))
            lines.append("  %s (%s): linked %s, known %d" % (n.name, label(nid),
                                                              " ".join(linked), len(peers)))
        except (OSError, RuntimeError, ValueError) as e:
            lines.append("  %s (%s): peers failed: %s" % (n.name, label(nid), e))
    return "\n".join(lines)


# ---- ledger helpers (ledger tests) ----

def ledger_head(node, timeout=5.0):
    """NODE's ledger head ({height, hash, state_root, time_ms}), or None if it does not
    answer."""
    try:
        return node.call("head", timeout=timeout)
    except (OSError, RuntimeError, ValueError):
        return None


def wait_heights(nodes, minimum, timeout=DEFAULT_TIMEOUT, what=None):
    """Waits until every node of NODES has a ledger head of at least MINIMUM; returns
    their heads (a list). Raises TimeoutError listing the heights seen."""
    last = {}

    def ok():
        for n in nodes:
            h = ledger_head(n)
            last[n.name] = h["height"] if h else None
        return all(v is not None and v >= minimum for v in last.values())

    try:
        wait_for(ok, timeout, interval=0.25, what=what or "height >= %d" % minimum)
    except TimeoutError as e:
        raise TimeoutError("%s; heights: %r" % (e, last))
    return [ledger_head(n) for n in nodes]


def block_hash(node, height, timeout=5.0):
    """Hash of NODE's block at HEIGHT, or None if it has none (or does not answer)."""
    try:
        return node.call("block", {"height": height}, timeout=timeout)["hash"]
    except (OSError, RuntimeError, ValueError, KeyError):
        return None


def place_key(key_path, datadir, name=None):
    """Copies the keystore KEY_PATH into DATADIR/accounts/ (as NAME, default its own name)
    with the modes a node insists on (0700 directories, 0600 file). Returns the copy's path."""
    acc = os.path.join(datadir, "accounts")
    os.makedirs(acc, mode=0o700, exist_ok=True)
    os.chmod(datadir, 0o700)
    dst = os.path.join(acc, name or os.path.basename(key_path))
    shutil.copyfile(key_path, dst)
    os.chmod(dst, 0o600)
    return dst


class LedgerNet:
    """A ledger testnet in a test's temporary directory: genesis files in DIR (written by
    `genie genesis new --out DIR`), and the nodes started so far."""

    def __init__(self, r):
        self.r = r
        self.dir = os.path.join(r.tmp, "genesis")
        self.genesis = os.path.join(self.dir, "genesis.json")
        self.nodes = []

    def start_authorities(self, count, timeout=DEFAULT_TIMEOUT):
        """Starts authority nodes auth1..authCOUNT, each with its authority-<i>.key from
        DIR and the previous one as its peer; appends them to nodes."""
        prev = None
        for i in range(1, count + 1):
            n = Node(self.r, "auth%d" % i, roles="authority", genesis=self.genesis,
                     peers=[prev.address()] if prev else [])
            place_key(os.path.join(self.dir, "authority-%d.key" % i), n.datadir)
            start_fresh(n, timeout=timeout)
            self.nodes.append(n)
            prev = n
        return self.nodes

    def start_attested(self, timeout=DEFAULT_TIMEOUT, height_timeout=DEFAULT_TIMEOUT):
        """Writes a 1-authority genesis that names an attestation service (`genie genesis
        new`), starts the authority and waits for height 1. Returns (the attestation
        service's key file, the authority's account id)."""
        c = run_cli(self.r.bindir, ["genesis", "new", "--authorities", "1", "--out", self.dir],
                    json_out=True)
        expect(c.returncode == 0 and c.json, "genesis new failed: %r" % c)
        as_key = c.json["attestation_key"]
        self.start_authorities(1, timeout=timeout)
        wait_heights(self.nodes, 1, height_timeout)
        with open(self.genesis) as f:
            account = json.load(f)["authorities"][0]
        return as_key, account


def scan_for(top, needles, skip_dir=None):
    """Every file under TOP (except under SKIP_DIR) that holds one of NEEDLES (bytes): the
    canary scans of the data owner's tests. Returns (files scanned, [(path, index of the
    needle)])."""
    scanned, hits = 0, []
    skip = os.path.abspath(skip_dir) if skip_dir else None
    for root, dirs, files in os.walk(top):
        if skip and os.path.abspath(root) == skip:
            continue
        for name in files:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            scanned += 1
            hits += [(path, i) for i, n in enumerate(needles) if n in data]
    return scanned, hits


def run_ledger_steps(name, steps, argv=None):
    """The main of a test that runs named checks on one ledger testnet: parses the
    arguments, then runs each (what, fn) of STEPS as Runner.check(what, fn, net, st) with
    one LedgerNet and one state dict, stopping at the first that fails; exits with the
    Runner's status."""
    args = parse_args(argv)
    with Runner(name, args) as r:
        net = LedgerNet(r)
        st = {}
        for what, fn in steps:
            if r.check(what, fn, net, st) is None:
                break
    sys.exit(r.exit_code())


def attest_certify(r, as_key, platform_pk, runner, account, out):
    """`genie attest certify`: the attestation service's key file AS_KEY certifies
    PLATFORM_PK for runner name RUNNER and runner ACCOUNT for 30 days, into the file OUT.
    Returns the CliResult (checked: exit status 0)."""
    c = run_cli(r.bindir, ["attest", "certify", "--as-key", as_key, "--platform", platform_pk,
                           "--runner", runner, "--account", account, "--days", "30",
                           "--out", out], json_out=True)
    expect(c.returncode == 0, "certify: %r" % c)
    return c


# ---- network namespaces (partition tests; root only) ----

CLONE_NEWNET = 0x40000000
NETNS_PREFIX = "gtn"  # every namespace a test makes is named gtn<pid>-<hex>-<role>


class Interrupted(BaseException):
    """Raised in the main thread by NetnsLab's signal handlers (SIGTERM, SIGINT, SIGHUP).
    A BaseException, so Runner.check does not swallow it: it unwinds to the `with Runner`
    (which kills the nodes) and the test's finally (which removes the namespaces)."""


def _ip(*args, timeout=10.0):
    """Runs `ip ARGS`; returns the CompletedProcess (text, captured)."""
    return subprocess.run(["ip"] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


def _ip_ok(*args):
    p = _ip(*args)
    if p.returncode != 0:
        raise RuntimeError("ip %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                    p.stderr.strip()))
    return p.stdout


def netns_unavailable():
    """None when this process can make network namespaces and veth pairs (root, iproute2,
    `ip netns add` works); otherwise the reason, for a test to print when it skips."""
    if os.geteuid() != 0:
        return "not root (network namespaces need CAP_SYS_ADMIN)"
    if shutil.which("ip") is None:
        return "no 'ip' command (iproute2)"
    probe = "%s%d-probe" % (NETNS_PREFIX, os.getpid())
    try:
        p = _ip("netns", "add", probe)
        if p.returncode != 0:
            return "ip netns add failed: %s" % p.stderr.strip()
        p = _ip("-n", probe, "link", "add", "p0", "type", "veth", "peer", "name", "p1")
        if p.returncode != 0:
            return "cannot make a veth pair: %s" % p.stderr.strip()
    except (OSError, subprocess.SubprocessError) as e:
        return "ip failed: %s" % e
    finally:
        _ip("netns", "del", probe)
    return None


def _netns_pids(ns):
    p = _ip("netns", "pids", ns)
    return [int(x) for x in p.stdout.split() if x.isdigit()] if p.returncode == 0 else []


def _netns_remove(ns):
    """Kills every process left in NS (a namespace a test made, so they are its own
    processes), then deletes NS (its veth ends go with it)."""
    for pid in _netns_pids(ns):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for _ in range(50):  # bounded: let the kernel reap what was killed
        if not _netns_pids(ns):
            break
        time.sleep(0.05)
    _ip("netns", "del", ns)


def netns_sweep_stale():
    """Removes namespaces left by earlier test runs that were killed outright (SIGKILL
    runs no handler): those named NETNS_PREFIX<pid>-... whose pid is no longer alive."""
    p = _ip("netns", "list")
    for line in p.stdout.splitlines() if p.returncode == 0 else []:
        name = line.split()[0] if line.split() else ""
        if not name.startswith(NETNS_PREFIX):
            continue
        pid = name[len(NETNS_PREFIX):].split("-")[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # its creator still runs
        except ProcessLookupError:
            pass
        except OSError:
            continue
        _netns_remove(name)


class in_netns:
    """`with in_netns(NS):` runs the block with this thread in network namespace NS, so
    sockets it opens (e.g. an RPC call to a node's 127.0.0.1 control API) live there;
    the thread's own namespace is restored on exit."""

    _libc = None

    def __init__(self, ns):
        self.ns = ns
        self.home = None

    @classmethod
    def _setns(cls, fd):
        if cls._libc is None:
            cls._libc = ctypes.CDLL(None, use_errno=True)
        if cls._libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns: %s" % os.strerror(e))

    def __enter__(self):
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            fd = os.open("/run/netns/" + self.ns, os.O_RDONLY)
            try:
                self._setns(fd)
            finally:
                os.close(fd)
        except BaseException:
            os.close(self.home)
            raise
        return self

    def __exit__(self, *exc):
        try:
            self._setns(self.home)
        finally:
            os.close(self.home)
        return False


def _pdeathsig():
    """preexec_fn: the child gets SIGKILL when the test process dies, even by SIGKILL."""
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class NetnsLab:
    """Network namespaces made by one test run: a bridge namespace (bridge br0) and one
    namespace per host, each joined to br0 by a veth pair (eth0 in the host, v<i> on the
    bridge), on a private /24 that exists only inside these namespaces.

        lab = NetnsLab()          # installs signal handlers and an atexit cleanup
        try:
            h = lab.add_host("auth1")   # {"ns": name, "addr": "10.x.y.z"}
            lab.cut("auth1"); lab.heal("auth1")
        finally:
            lab.close()           # idempotent; kills what runs inside, deletes all

    Namespace names carry this process's pid and a random suffix (netns_sweep_stale
    removes those of dead runs)."""

    def __init__(self):
        netns_sweep_stale()
        self.tag = "%s%d-%s" % (NETNS_PREFIX, os.getpid(), os.urandom(3).hex())
        rnd = os.urandom(2)
        self.subnet = "10.%d.%d" % (100 + rnd[0] % 100, rnd[1])
        self.bridge = self.tag + "-br"
        self.hosts = {}
        self.made = []
        self.closed = False
        self.old_handlers = {}
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            self.old_handlers[sig] = signal.signal(sig, self._on_signal)
        atexit.register(self.close)
        _ip_ok("netns", "add", self.bridge)
        self.made.append(self.bridge)
        _ip_ok("-n", self.bridge, "link", "set", "lo", "up")
        _ip_ok("-n", self.bridge, "link", "add", "br0", "type", "bridge")
        _ip_ok("-n", self.bridge, "link", "set", "br0", "up")

    def _on_signal(self, signum, frame):
        raise Interrupted("signal %d" % signum)

    def add_host(self, name):
        """Makes namespace <tag>-NAME with loopback up and eth0 (the next address of the
        /24) joined to the bridge. Returns {"ns", "addr", "veth"}."""
        i = len(self.hosts)
        ns, veth = "%s-%s" % (self.tag, name), "v%d" % i
        _ip_ok("netns", "add", ns)
        self.made.append(ns)
        _ip_ok("-n", ns, "link", "set", "lo", "up")
        _ip_ok("-n", self.bridge, "link", "add", veth, "type", "veth", "peer", "name", "eth0",
               "netns", ns)
        _ip_ok("-n", self.bridge, "link", "set", veth, "master", "br0")
        _ip_ok("-n", self.bridge, "link", "set", veth, "up")
        addr = "%s.%d" % (self.subnet, i + 2)
        _ip_ok("-n", ns, "addr", "add", addr + "/24", "dev", "eth0")
        _ip_ok("-n", ns, "link", "set", "eth0", "up")
        self.hosts[name] = {"ns": ns, "addr": addr, "veth": veth}
        return self.hosts[name]

    def cut(self, name):
        """Takes NAME's veth out of the bridge: its packets vanish silently (its link stays
        up, nothing is refused), like a partition."""
        _ip_ok("-n", self.bridge, "link", "set", self.hosts[name]["veth"], "nomaster")

    def heal(self, name):
        _ip_ok("-n", self.bridge, "link", "set", self.hosts[name]["veth"], "master", "br0")

    def close(self):
        """Kills every process inside the lab's namespaces and deletes them (the veth
        pairs and the bridge go with them); restores the signal handlers. Idempotent."""
        if self.closed:
            return
        self.closed = True
        for sig in self.old_handlers:
            signal.signal(sig, signal.SIG_IGN)
        try:
            for ns in reversed(self.made):
                _netns_remove(ns)
        finally:
            for sig, h in self.old_handlers.items():
                signal.signal(sig, h)


class NetnsNode(Node):
    """A Node run inside network namespace HOST["ns"] (`ip netns exec`, which execs, so
    the Popen pid is genie-node's), listening on HOST["addr"]:PORT. Its RPC (127.0.0.1 in
    that namespace) is reached from there: call() switches this thread in, cli() runs
    `ip netns exec NS genie ...`. The process is killed if the test process dies."""

    def __init__(self, runner, name, host, port=7000, **kw):
        super().__init__(runner, name, listen=["tcp://%s:%d" % (host["addr"], port)], **kw)
        self.ns = host["ns"]

    def argv(self):
        return ["ip", "netns", "exec", self.ns] + super().argv()

    def start(self, wait=True, timeout=DEFAULT_TIMEOUT):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, preexec_fn=_pdeathsig)
        self.runner.track(self)
        if wait:
            self.wait_ready(timeout)
        return self

    def rpc_raw(self, body, auth="cookie", timeout=DEFAULT_TIMEOUT):
        with in_netns(self.ns):
            return super().rpc_raw(body, auth=auth, timeout=timeout)

    def cli(self, *args, json_out=True, timeout=DEFAULT_TIMEOUT, env=None):
        return run_cli(self.bindir, ["--datadir", self.datadir] + list(args),
                       json_out=json_out, timeout=timeout, env=env,
                       prefix=["ip", "netns", "exec", self.ns])

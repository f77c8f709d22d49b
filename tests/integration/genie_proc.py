"""genie_proc: real genie processes for the integration tests (python3 stdlib only).

The lowest layer of genie_testlib (which re-exports every name here, so tests import from
genie_testlib alone):

- the timeouts every wait uses (DEFAULT_TIMEOUT, START_TIMEOUT, HEIGHT_TIMEOUT, ...);
- parse_args(): the --bindir BUILD_DIR argument every test takes (ctest passes it);
- free_port(): a TCP port that was free a moment ago (bind port 0, close);
- wait_for(): poll a condition with a bounded timeout;
- run_cli() / run_node_once(): the genie CLI or genie-node run once, bounded;
- Node: one genie-node process (start, wait until rpc.addr appears, raw RPC, CLI calls,
  SIGTERM/stop with bounded waits, log tail for failure messages);
- Runner: named checks, "N passed, N failed" at the end, and a process registry whose
  children are always killed (use `with Runner(...) as r:`); expect().

Every wait is bounded; nothing here sleeps without a deadline.
"""

import argparse
import base64
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
# the marketplace tests' waits (seconds), for the helpers of the section at the end
START_TIMEOUT = 60.0   # a node answering on its control API (ASan, a busy machine)
HEIGHT_TIMEOUT = 60.0  # a node reaching a height, a balance or a status it waits for
REG_TIMEOUT = 90.0     # a spawned enclave registered on the ledger
OFFER_TIMEOUT = 90.0   # every owner holding the newest recruitment offer
WAIT_S = "60"          # the CLI's --wait SECONDS (commit of what it submits)


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


def stop_clean(nodes):
    """Stops each of NODES and expects it stopped cleanly: 'shutdown complete' in its log
    and no sanitizer report ('Sanitizer', 'runtime error')."""
    for node in nodes:
        node.stop()
        with open(node.log_path, "rb") as f:
            log = f.read()
        expect(b"shutdown complete" in log and b"Sanitizer" not in log
               and b"runtime error" not in log, "%s did not stop cleanly" % node.name)

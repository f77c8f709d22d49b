"""genie_netns: network namespaces for genie's partition tests (root only; python3 stdlib).

NetnsLab makes network namespaces joined by veth pairs to a bridge namespace and can
cut/heal a host (take its veth off the bridge, put it back); NetnsNode runs a
genie_testlib.Node inside one (`ip netns exec`); in_netns switches the calling thread
into one (for RPC to a node's 127.0.0.1 control API there); netns_unavailable() says why
a test must skip. Every namespace, veth and process a lab makes is removed on every exit
path (close(), atexit, SIGTERM/SIGINT/SIGHUP; those of runs killed outright are swept by
the next lab).
"""

import atexit
import ctypes
import os
import shutil
import signal
import subprocess
import time

from genie_testlib import DEFAULT_TIMEOUT, Node, run_cli

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

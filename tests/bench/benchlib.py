"""benchlib: what the network benchmarks (bench_p2p.py, bench_p2p_64.py) share: the fleet of
node processes that genie_testlib.Node runs in, and readings from /proc."""

import os
import shutil
import tempfile

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Fleet:
    """What genie_testlib.Node expects of its runner: bindir, tmp, track(). NAME prefixes
    messages and the temporary directory; close() kills every node and removes the files
    unless KEEP."""

    def __init__(self, bindir, keep, name):
        self.bindir = os.path.abspath(bindir)
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix="genie-%s-" % name.replace("_", "-"))
        self.keep = keep
        self.nodes = []
        for exe in ("genie-node", "genie"):
            if not os.access(os.path.join(self.bindir, exe), os.X_OK):
                raise SystemExit("%s: %s/%s not found (build first)" % (name, self.bindir, exe))

    def track(self, node):
        if node not in self.nodes:
            self.nodes.append(node)

    def close(self):
        for n in self.nodes:
            n.kill()
        if self.keep:
            print("%s: files kept in %s" % (self.name, self.tmp))
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def cpu_seconds(pid):
    """User + system CPU seconds of process PID so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(CLK_TCK)


def mem_kb(pid):
    """(VmRSS, VmHWM) of process PID in kB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0])
    return out.get("VmRSS", 0), out.get("VmHWM", 0)


def percentile(vals, q):
    """The Q-quantile (0..1, nearest rank) of VALS; nan when empty."""
    if not vals:
        return float("nan")
    vals = sorted(vals)
    return vals[min(len(vals) - 1, max(0, int(round(q * (len(vals) - 1)))))]


# ---- additions for the marketplace benchmarks (bench_query_net.py, bench_train_net.py) ----

class Burn:
    """K CPU-bound shell loops (`sh -c 'while :; do :; done'`) beside a timed phase, as a
    context manager: started on entry, killed (by pid) and reaped on exit."""

    def __init__(self, k):
        self.k = k
        self.procs = []

    def __enter__(self):
        import subprocess
        self.procs = [subprocess.Popen(["sh", "-c", "while :; do :; done"])
                      for _ in range(self.k)]
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()
        self.procs = []
        return False


def loadavg():
    """The 1, 5 and 15 minute load averages (a string, as /proc/loadavg has them)."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def verify_rate(bindir):
    """This machine's Ed25519 verifications per second, measured now by the bench_query
    program of BINDIR (libsodium, its "Ed25519 verify on this machine" line), or None when
    that program is not built (configure with -DGENIE_BENCH=ON)."""
    import re
    import subprocess
    exe = os.path.join(bindir, "tests", "bench_query")
    if not os.access(exe, os.X_OK):
        return None
    p = subprocess.run([exe, "50"], capture_output=True, text=True, timeout=120)
    m = re.search(r"Ed25519 verify on this machine, same run: (\d+) /s", p.stdout)
    return int(m.group(1)) if m else None


class CpuMeter:
    """CPU seconds of named processes over a phase: start() reads them, stop() returns
    {name: CPU-s used since} (a process gone meanwhile counts what was last read)."""

    def __init__(self, pids):
        self.pids = dict(pids)  # name -> pid
        self.t0 = {}

    def _read(self):
        out = {}
        for name, pid in self.pids.items():
            try:
                out[name] = cpu_seconds(pid)
            except OSError:
                out[name] = self.t0.get(name, 0.0)
        out["(this script)"] = sum(os.times()[:2])
        return out

    def start(self):
        self.t0 = self._read()

    def stop(self):
        t1 = self._read()
        return {k: t1[k] - self.t0.get(k, 0.0) for k in t1}

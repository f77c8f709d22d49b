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

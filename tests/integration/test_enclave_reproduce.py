#!/usr/bin/env python3
"""test_enclave_reproduce: genie-enclave builds reproducibly, so an auditor who rebuilds it
from source gets the measurement a runner registers.

Runs scripts/enclave-reproduce.sh (the training kind's measurement): it copies the committed tree (git archive HEAD) into two directories with different
path lengths, builds genie-enclave in each (Release, its own build directory), and compares
the binaries' measurements (BLAKE2b-256 over the binary and the kind). The test asserts
the script's verdict, that both SHA-256 lines and both measurement lines are equal, and
(through the script's verdict) that the build path does not appear in the binary. Skips
(exit 77) outside a git checkout.

    python3 test_enclave_reproduce.py --bindir BUILD_DIR   (--bindir is accepted and unused)
"""

import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "enclave-reproduce.sh")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir")
    ap.parse_args()
    if subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True).returncode:
        print("SKIP: not a git checkout (the script builds from git archive HEAD)")
        return 77
    env = dict(os.environ, JOBS=os.environ.get("JOBS", "2"))
    p = subprocess.run([SCRIPT, "training"], capture_output=True, text=True, env=env,
                       timeout=540)
    out = p.stdout + p.stderr
    print(out)
    failures = []
    if p.returncode != 0 or "same measurement" not in out:
        failures.append("the script did not report the same measurement (exit %d)" % p.returncode)
    sha = re.findall(r"build [AB]: sha256 ([0-9a-f]{64})", out)
    meas = re.findall(r"measurement \(training\) [AB]: ([0-9a-f]{64})", out)
    if len(sha) != 2 or sha[0] != sha[1]:
        failures.append("the two binaries differ: %s" % sha)
    if len(meas) != 2 or meas[0] != meas[1]:
        failures.append("the two measurements differ: %s" % meas)
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("ok: two builds in different directories, one measurement %s" % meas[0])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

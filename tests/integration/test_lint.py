#!/usr/bin/env python3
"""test_lint: scripts/lint.sh format catches a misformatted file, and --fix repairs it.

Works on temporary files only (never on the tree, which need not be formatted for this
test to pass): a small C file written in the project's style (.clang-format) passes
`scripts/lint.sh format FILE`; the same file with broken indentation, a brace on the wrong
line and an over-long line fails it (non-zero exit, the file named on stderr); `--fix`
rewrites it and it passes again, byte-identical to the well-formatted original. Also
checks that the style comes from the repository's .clang-format even though the file lives
outside the tree (LLVM's default, 2-space indent, would reject the good file).

    python3 test_lint.py --bindir BUILD_DIR      (--bindir is accepted and unused)
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LINT = os.path.join(ROOT, "scripts", "lint.sh")

GOOD = """\
/* A file in the project's style: 4-space indent, Linux braces, 100 columns. */
#include <stddef.h>

static int s_sum(const int *v, size_t n)
{
    int total = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] > 0)
            total += v[i];
    }
    return total;
}

int lint_probe_sum(const int *v, size_t n);
int lint_probe_sum(const int *v, size_t n)
{
    return s_sum(v, n);
}
"""

BAD = """\
/* A file in the project's style: 4-space indent, Linux braces, 100 columns. */
#include <stddef.h>

static int s_sum(const int *v, size_t n) {
  int total = 0;
  for (size_t i = 0; i < n; i++)
  {
        if (v[i] > 0) total += v[i];
  }
  return total;
}

int lint_probe_sum(const int *v,
                   size_t n);
int lint_probe_sum(const int *v, size_t n)
{
    return s_sum(v,     n);
}
"""


def run(args):
    return subprocess.run([LINT] + args, capture_output=True, text=True, timeout=120)


def expect(cond, msg, proc=None):
    if not cond:
        print("FAIL: " + msg)
        if proc is not None:
            print("exit %d\nstdout:\n%s\nstderr:\n%s" % (proc.returncode, proc.stdout, proc.stderr))
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir")
    ap.add_argument("--keep", action="store_true")
    ap.parse_args()
    if shutil.which("clang-format-14") is None and shutil.which("clang-format") is None:
        print("FAIL: clang-format is not installed (scripts/bootstrap.sh installs it)")
        return 1
    tmp = tempfile.mkdtemp(prefix="genie-lint-")
    try:
        good = os.path.join(tmp, "good.c")
        bad = os.path.join(tmp, "bad.c")
        with open(good, "w") as f:
            f.write(GOOD)
        with open(bad, "w") as f:
            f.write(BAD)

        p = run(["format", good])
        expect(p.returncode == 0, "well-formatted file refused", p)

        p = run(["format", good, bad])
        expect(p.returncode != 0, "misformatted file accepted", p)
        expect(bad in p.stderr, "misformatted file not named", p)
        expect(good not in p.stderr, "well-formatted file named as differing", p)

        p = run(["format", "--fix", bad])
        expect(p.returncode == 0, "--fix failed", p)
        p = run(["format", bad])
        expect(p.returncode == 0, "file still differs after --fix", p)
        with open(bad) as f:
            fixed = f.read()
        expect(fixed == GOOD, "--fix result differs from the expected text:\n" + fixed)

        p = run(["bogus"])
        expect(p.returncode == 2, "unknown command not refused with exit 2", p)
        print("PASS test_lint")
        return 0
    finally:
        if not os.environ.get("GENIE_TEST_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

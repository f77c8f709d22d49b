#!/usr/bin/env bash
# enclave-reproduce.sh: shows that genie-enclave builds reproducibly, i.e. that an auditor
# who rebuilds it from source gets the measurement the runner registered.
#
# usage: scripts/enclave-reproduce.sh [KIND]     (KIND: validation|training|query; default
#                                                 validation)
#
# Copies the committed source tree (git archive HEAD, so the working tree's uncommitted
# files play no part) into two different directories with different path lengths, builds
# genie-enclave there (Release, no sanitizers, each with its own build directory), and
# prints both binaries' SHA-256 and measurements (genie-measure: BLAKE2b-256 over the
# binary and the kind, as enclave_measure_path computes it). Exits 0 if the measurements
# are equal, 1 if not (then `cmp -l` the two binaries and `diffoscope` them).
# Needs the same toolchain (compiler, binutils, libraries) in both builds: reproducible
# means same source + same toolchain -> same bytes.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kind="${1:-validation}"
work="$(mktemp -d "${TMPDIR:-/tmp}/genie-reproduce.XXXXXX")"
trap 'rm -rf "$work"' EXIT
jobs="${JOBS:-2}"

build_one() { # SRC_DIR BUILD_DIR
    mkdir -p "$1"
    git -C "$root" archive HEAD | tar -x -C "$1"
    cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DGENIE_SANITIZE=OFF -DGENIE_FUZZ=OFF \
        -DGENIE_BENCH=OFF -DGENIE_WERROR=ON >/dev/null
    cmake --build "$2" --target genie-enclave genie-measure -j"$jobs" >/dev/null
}

a_src="$work/a/src"
a_build="$work/a/build"
b_src="$work/second-auditor/checkout/genie"
b_build="$work/second-auditor/out-of-tree-build"
echo "enclave-reproduce: building $(git -C "$root" rev-parse --short HEAD) in $a_src"
build_one "$a_src" "$a_build"
echo "enclave-reproduce: building it again in $b_src"
build_one "$b_src" "$b_build"

m_a="$("$a_build/genie-measure" "$a_build/genie-enclave" "$kind")"
m_b="$("$a_build/genie-measure" "$b_build/genie-enclave" "$kind")"
echo "build A: sha256 $(sha256sum "$a_build/genie-enclave" | cut -d' ' -f1)"
echo "build B: sha256 $(sha256sum "$b_build/genie-enclave" | cut -d' ' -f1)"
echo "measurement ($kind) A: $m_a"
echo "measurement ($kind) B: $m_b"
if [ "$m_a" = "$m_b" ]; then
    if grep -a -q -e "$work" "$a_build/genie-enclave"; then
        echo "enclave-reproduce: equal, but build A's binary names its build path" >&2
        exit 1
    fi
    echo "enclave-reproduce: same measurement"
    exit 0
fi
echo "enclave-reproduce: DIFFERENT measurements; differing bytes:" >&2
cmp -l "$a_build/genie-enclave" "$b_build/genie-enclave" | head -20 >&2 || true
exit 1

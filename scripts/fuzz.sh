#!/usr/bin/env bash
# fuzz.sh: build the libFuzzer harnesses (tests/fuzz/fuzz_*.c) with clang, ASan and UBSan
# into build-fuzz/, then fuzz one target or all of them for SECONDS each.
#
# usage: scripts/fuzz.sh [TARGET|all] [SECONDS]
#   TARGET   a harness name without the fuzz_ prefix (envelope, mp, ...); default all
#   SECONDS  fuzzing time per target; default 60
#   FUZZ_CMAKE_ARGS (environment) extra arguments for the cmake configure step
#
# Each run starts from a scratch copy of tests/fuzz/corpus/TARGET/, so the committed seed
# corpus never grows; new inputs and any crash artifacts stay in the scratch directory,
# whose path is printed. A crash is reported and the script exits 1; copy a minimised
# crash input into the seed corpus once it is fixed, so the replay test keeps it fixed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:-all}"
seconds="${2:-60}"
build="$root/build-fuzz"

if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: scripts/fuzz.sh [TARGET|all] [SECONDS]" >&2
    exit 2
fi
if ! command -v clang >/dev/null; then
    echo "fuzz.sh: clang not found (apt-get install clang)" >&2
    exit 2
fi

# The harnesses themselves get -fsanitize=fuzzer from tests/CMakeLists.txt; the libraries
# they exercise need the coverage instrumentation too, or libFuzzer fuzzes blind.
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGENIE_FUZZ=ON -DGENIE_SANITIZE=ON -DGENIE_BENCH=OFF -DGENIE_WERROR=ON \
    -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" ${FUZZ_CMAKE_ARGS:-} >/dev/null

if [ "$target" = all ]; then
    targets=()
    for src in "$root"/tests/fuzz/fuzz_*.c; do
        name="$(basename "$src" .c)"
        targets+=("${name#fuzz_}")
    done
else
    if [ ! -f "$root/tests/fuzz/fuzz_$target.c" ]; then
        echo "fuzz.sh: no harness tests/fuzz/fuzz_$target.c" >&2
        exit 2
    fi
    targets=("$target")
fi

build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
cmake --build "$build" --target "${build_targets[@]}" -j"$(nproc)"

# Largest input worth generating per target: an envelope may be PROTO_ENVELOPE_MAX
# (1 MiB + 256) bytes; the raw reader's widths are all reached well below 70 KB.
max_len_for() {
    case "$1" in
        envelope) echo $((1024 * 1024 + 257)) ;;
        mp) echo 70000 ;;
        *) echo 65536 ;;
    esac
}

scratch="$(mktemp -d "${TMPDIR:-/tmp}/genie-fuzz.XXXXXX")"
echo "fuzz.sh: scratch directory $scratch"
status=0
for t in "${targets[@]}"; do
    bin="$(find "$build" -type f -name "fuzz_$t" -perm -u+x | head -n 1)"
    if [ -z "$bin" ]; then
        echo "fuzz.sh: fuzz_$t was not built" >&2
        exit 1
    fi
    corpus="$scratch/$t/corpus"
    artifacts="$scratch/$t/artifacts"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "$root/tests/fuzz/corpus/$t" ]; then
        cp -R "$root/tests/fuzz/corpus/$t/." "$corpus/"
    fi
    log="$scratch/$t/fuzz.log"
    echo "== fuzz_$t for ${seconds}s (max_len $(max_len_for "$t")), log $log"
    set +e
    "$bin" "$corpus" \
        -max_total_time="$seconds" \
        -max_len="$(max_len_for "$t")" \
        -timeout=10 \
        -rss_limit_mb=4096 \
        -print_final_stats=1 \
        -artifact_prefix="$artifacts/" >"$log" 2>&1
    rc=$?
    set -e
    grep -E '^(stat::|#[0-9]+ *DONE|Done [0-9]+ runs)' "$log" || true
    if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$artifacts")" ]; then
        echo "fuzz.sh: fuzz_$t FAILED (exit $rc); artifacts in $artifacts:" >&2
        ls -l "$artifacts" >&2 || true
        grep -E -m 20 'ERROR|invariant broken|SUMMARY|Test unit written' "$log" >&2 || true
        status=1
    else
        echo "fuzz_$t: ok"
    fi
done
exit "$status"

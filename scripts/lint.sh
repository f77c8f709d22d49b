#!/usr/bin/env bash
# Checked style: formatting against .clang-format and static analysis with clang-tidy against
# .clang-tidy (both at the repository root). Every finding is printed and makes the exit
# status non-zero; scripts/test.sh runs this after the build.
#
#   scripts/lint.sh                      format + analyse
#   scripts/lint.sh format [--fix] [FILE...]
#        clang-format --dry-run --Werror on FILEs (default: every tracked .c/.h); prints each
#        file that differs. --fix rewrites them in place instead.
#   scripts/lint.sh analyse [FILE...]
#        clang-tidy on FILEs (default: every project .c listed in the build directory's
#        compile_commands.json), headers of the project included; runs JOBS in parallel.
#
# Environment: BUILD_DIR (default build-test; configured here if it has no
# compile_commands.json), JOBS (default: number of cores), CLANG_FORMAT / CLANG_TIDY
# (default: clang-format-14 / clang-tidy-14, or the unversioned names).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

BUILD_DIR=${BUILD_DIR:-build-test}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
JOBS=${JOBS:-$(nproc)}

s_pick() { # first of the named programs that exists
    local p
    for p in "$@"; do
        if command -v "$p" >/dev/null 2>&1; then
            echo "$p"
            return 0
        fi
    done
    echo "lint: none of $* is installed (scripts/bootstrap.sh installs them)" >&2
    return 1
}

s_usage() {
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
}

# format [--fix] [FILE...]
s_format() {
    local fix=0 files=() f bad=()
    if [ "${1:-}" = "--fix" ]; then
        fix=1
        shift
    fi
    local cf
    cf=$(s_pick ${CLANG_FORMAT:-clang-format-14 clang-format})
    if [ $# -gt 0 ]; then
        files=("$@")
    else
        mapfile -t files < <(cd "$ROOT" && git ls-files '*.c' '*.h' | sed "s|^|$ROOT/|")
    fi
    # Explicit style file: a FILE outside the tree (a test's temporary copy) is still
    # checked against the project's style, not clang-format's fallback.
    local style="file:$ROOT/.clang-format"
    if [ "$fix" -eq 1 ]; then
        printf '%s\0' "${files[@]}" | xargs -0 -r -n 16 "$cf" --style="$style" -i
        return 0
    fi
    for f in "${files[@]}"; do
        if ! "$cf" --style="$style" --dry-run --Werror "$f" >/dev/null 2>&1; then
            bad+=("$f")
        fi
    done
    if [ ${#bad[@]} -gt 0 ]; then
        echo "lint: ${#bad[@]} of ${#files[@]} files differ from .clang-format" \
             "(scripts/lint.sh format --fix rewrites them):" >&2
        for f in "${bad[@]}"; do
            echo "  ${f#"$ROOT"/}" >&2
        done
        return 1
    fi
    echo "lint: format: ${#files[@]} files ok"
}

# analyse [FILE...]
s_analyse() {
    local ct files=()
    ct=$(s_pick ${CLANG_TIDY:-clang-tidy-14 clang-tidy})
    if [ ! -f "$BUILD_DIR/compile_commands.json" ]; then
        cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGENIE_WERROR=ON \
              -DGENIE_SANITIZE=ON -DGENIE_BENCH=ON -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
    fi
    if [ $# -gt 0 ]; then
        files=("$@")
    else
        # Project translation units: the compile database's files that git tracks (no
        # generated sources, nothing from the build directory).
        mapfile -t files < <(python3 - "$BUILD_DIR/compile_commands.json" "$ROOT" <<'EOF'
import json, os, subprocess, sys
db, root = sys.argv[1], sys.argv[2]
tracked = set(subprocess.run(["git", "-C", root, "ls-files", "*.c"], check=True,
                             capture_output=True, text=True).stdout.split())
seen = set()
for e in json.load(open(db)):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(f, root)
    if rel in tracked and rel not in seen:
        seen.add(rel)
        print(f)
EOF
        )
    fi
    local out rc=0
    out=$(mktemp)
    # Biggest files first so the two queues end together.
    printf '%s\0' "${files[@]}" | xargs -0 ls -S | tr '\n' '\0' |
        xargs -0 -r -P "$JOBS" -n 4 "$ct" -p "$BUILD_DIR" --quiet \
              --config-file="$ROOT/.clang-tidy" >"$out" 2>/dev/null || rc=$?
    # Keep each finding once (a header's finding is reported by every file including it).
    local findings
    findings=$(grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error):' "$out" | sort -u || true)
    if [ -n "$findings" ]; then
        # Print each finding with its context lines, once.
        awk '
            /^[^ ].*:[0-9]+:[0-9]+: (warning|error):/ { keep = !($0 in seen); seen[$0] = 1 }
            keep { print }
        ' "$out" | sed "s|^$ROOT/||" >&2
        echo "lint: analyse: $(printf '%s\n' "$findings" | wc -l) findings in ${#files[@]} files" >&2
        rm -f "$out"
        return 1
    fi
    if [ "$rc" -ne 0 ]; then
        cat "$out" >&2
        echo "lint: analyse: clang-tidy failed (exit $rc)" >&2
        rm -f "$out"
        return 1
    fi
    rm -f "$out"
    echo "lint: analyse: ${#files[@]} files, no findings"
}

cmd=${1:-all}
[ $# -gt 0 ] && shift
case "$cmd" in
    format) s_format "$@" ;;
    analyse | analyze) s_analyse "$@" ;;
    all)
        rc=0
        s_format || rc=1
        s_analyse || rc=1
        exit $rc
        ;;
    -h | --help | help) s_usage ;;
    *)
        s_usage >&2
        exit 2
        ;;
esac

#!/usr/bin/env bash
# The test command: installs what is missing, configures and builds genie with warnings as
# errors and with AddressSanitizer + UndefinedBehaviorSanitizer, checks style
# (scripts/lint.sh: clang-format and clang-tidy, any finding fails the run), then runs the
# whole ctest suite (unit tests, fuzz seed corpora, deterministic simulations, integration tests with
# real node processes on loopback).
#   scripts/test.sh [ctest args...]     e.g. scripts/test.sh -R p2p
# Environment: BUILD_DIR (default build-test), JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh

BUILD_DIR=${BUILD_DIR:-build-test}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGENIE_WERROR=ON \
      -DGENIE_SANITIZE=ON -DGENIE_BENCH=ON >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
BUILD_DIR="$BUILD_DIR" JOBS="$JOBS" scripts/lint.sh

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD_DIR"
ctest --output-on-failure -j "$JOBS" "$@"

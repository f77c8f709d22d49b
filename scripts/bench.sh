#!/usr/bin/env bash
# bench.sh: the benchmark command. Builds a Release tree without sanitizers (build-bench/),
# runs every benchmark program built from tests/bench/bench_*.c (envelope seal/verify rates
# next to raw Ed25519 on this machine, paid queries through one query enclave
# (bench_query: queries/s, p50/p99, beside this machine's Ed25519 verify rate), ...), then the p2p network benchmark
# tests/bench/bench_p2p.py: 16 real nodes on loopback, room broadcasts from 4 origins at
# increasing loads, with throughput, loss, duplicates, latency, CPU and memory; and the
# ledger benchmark tests/bench/bench_ledger_net.py: one million transfers through 1 and 4
# authority processes (tx/s, finality latency, memory, database size), then 4 authorities
# at fixed offered loads (3,000 to 6,000 tx/s) for finality latency; and the data owner's
# benchmark tests/bench/bench_donate.py: data add and sealed donation of 1 kB to 1 MB
# genotype files, local and relayed, next to bench_crypto_rate's libsodium rates; and the
# paid-query and training benchmarks through real nodes on loopback (issue 16):
# tests/bench/bench_query_net.py (a trained logistic model loaded in one query enclave; a
# user's queries through its own node's query_run RPC -> p2p unicast -> the runner's relay
# -> the enclave -> back, from 8 then 16 keep-alive RPC clients: queries/s, p50/p99/max,
# refusals, CPU-s per process, load average, this machine's Ed25519 verify rate, and one
# query through `genie query run`) and tests/bench/bench_train_net.py (the demo's cohort:
# 2 runners, 2 training enclaves, 4 owners; `train start` to the model published on the
# ledger and loaded in the query enclave, by phase; --big: 5,000 donor records (issue 16)
# over 4 enclaves on 4 runners, not run here: a few minutes of
# set-up). The whole run takes about 20 minutes.
# No pass/fail: it prints figures. Numbers from a loaded machine are lower bounds.
#
# usage: scripts/bench.sh [bench_p2p.py options...]   e.g. scripts/bench.sh --loads 125,500
# Environment: BUILD_DIR (default build-bench), JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh

BUILD_DIR=${BUILD_DIR:-build-bench}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DGENIE_SANITIZE=OFF \
      -DGENIE_BENCH=ON >/dev/null

# Build only what the benchmarks run (the daemon, the CLI, the bench programs), so that a
# unit test which does not build in Release cannot stop the benchmark.
targets=(genie-node genie genie-txgen genie-enclave genie-cohort)
for src in tests/bench/bench_*.c; do
  [ -e "$src" ] && targets+=("$(basename "$src" .c)")
done
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${targets[@]}"

echo
echo "== machine: $(nproc) CPUs, $(uname -srm), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for b in "$BUILD_DIR"/tests/bench_*; do
  [ -f "$b" ] && [ -x "$b" ] || continue
  echo
  echo "== $(basename "$b")"
  "$b"
done

echo
scripts/bench_ml.sh "$BUILD_DIR"

echo
echo "== bench_p2p"
python3 tests/bench/bench_p2p.py --bindir "$BUILD_DIR" "$@"
echo
echo "== bench_p2p_64: a 64-node testnet (4 authorities): time to form, idle CPU, broadcasts, lookups"
python3 tests/bench/bench_p2p_64.py --bindir "$BUILD_DIR"
echo
echo "== bench_ledger_net: one million transfers, 1 authority then 4, as fast as they go"
python3 tests/bench/bench_ledger_net.py --bindir "$BUILD_DIR"
echo
echo "== bench_ledger_net: 4 authorities at a fixed offered load (finality latency)"
for rate in 3000 4000 5000 5500 6000; do
  python3 tests/bench/bench_ledger_net.py --bindir "$BUILD_DIR" --authorities 4 --interval-ms 200 \
    --count $((rate * 20)) --rate "$rate" --conns 2 --batch 50
done
echo
echo "== bench_enclave_net: spawn to registered, validation/donation through the runner (1-6 kB), idle enclave memory, the machine's wake-up ring beside"
python3 tests/bench/bench_enclave_net.py --bindir "$BUILD_DIR"
echo
echo "== bench_donate: data add and sealed donation of 1 kB-1 MB genotype files, local and relayed, next to the libsodium encryption rate"
python3 tests/bench/bench_donate.py --bindir "$BUILD_DIR"
echo
echo "== bench_query_net: paid queries through real nodes (user node -> p2p -> runner -> query enclave), 8 and 16 RPC clients"
python3 tests/bench/bench_query_net.py --bindir "$BUILD_DIR" --queries 3000 --clients 8,16
echo
echo "== bench_train_net: train start to the model published and loaded, the demo's cohort (2 runners, 4 owners)"
python3 tests/bench/bench_train_net.py --bindir "$BUILD_DIR"

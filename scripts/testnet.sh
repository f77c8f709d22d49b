#!/usr/bin/env bash
# A local genie testnet on loopback.
#   scripts/testnet.sh up [N]      start N new nodes (default 4) on a new ledger whose
#                                  authorities are the first AUTHORITIES nodes (default all);
#                                  nodes start in parallel waves (1, 1, 2, 4, 8, ...): node
#                                  i>0 gets one seed, a node of an earlier wave
#   scripts/testnet.sh status      show each node's id, links, rooms and ledger head
#   scripts/testnet.sh down        stop every node cleanly
#   scripts/testnet.sh demo        build, start 15 nodes (4 authorities, 2 enclave runners, a
#                                  trainer, an auditor, 6 data owners, a user) and tell the
#                                  whole story: registration, recruitment, donation, one
#                                  withdrawal, federated training across the two runners,
#                                  publication, paid queries, settlement, audit trails, the
#                                  canary; stops the network at the end; exits non-zero
#                                  naming the step that failed (scripts/testnet_demo.sh)
# Environment: TESTNET_DIR (default ./testnet), BASE_PORT (default 21100: below the kernel's
# ephemeral range, where outgoing connections and --rpc port 0 land), BUILD_DIR
# (default build), AUTHORITIES, HEARTBEAT_MS (empty-block period, default 2000),
# RUNNER (index of a node started as an enclave runner; none by default),
# NO_BUILD=1 (use BUILD_DIR's programs as they are: no install, no build),
# ROLES (roles by node index, e.g. "5=trainer 6=data-owner"; a node given a role there, or an
# auditor, trainer or data-owner node, without an account key gets a new unencrypted one in
# DATADIR/accounts/ at start), LOG_LEVELS (log level by node index, e.g. "4=trace";
# default LOG_LEVEL or info),
# KEEP=1 keeps the demo network running.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TESTNET_DIR=${TESTNET_DIR:-$ROOT/testnet}
BASE_PORT=${BASE_PORT:-21100}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
NODE=$BUILD_DIR/genie-node
CLI=$BUILD_DIR/genie

STEP=""
say() { STEP=$*; printf '\033[1m== %s\033[0m\n' "$*"; }
die() { echo "testnet: error: $*" >&2; exit 1; }

build() {
  if [ "${NO_BUILD:-0}" = 1 ]; then
    local b
    for b in "$NODE" "$CLI" "$BUILD_DIR/genie-enclave" "$BUILD_DIR/genie-cohort"; do
      [ -x "$b" ] || die "NO_BUILD=1 but $b is missing"
    done
    return 0
  fi
  scripts/bootstrap.sh
  if [ ! -x "$NODE" ] || [ ! -x "$CLI" ] || [ ! -x "$BUILD_DIR/genie-enclave" ] ||
     [ ! -x "$BUILD_DIR/genie-cohort" ] ||
     [ -n "$(find node p2p proto ledger enclave ml CMakeLists.txt -newer "$NODE" -print -quit 2>/dev/null)" ]; then
    say "building genie (Release) in $BUILD_DIR"
    cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DGENIE_SANITIZE=OFF -DGENIE_BENCH=ON >/dev/null
    cmake --build "$BUILD_DIR" -j "$(nproc)" --target genie-node genie genie-enclave genie-cohort >/dev/null
  fi
}

json() { # json FIELD-EXPRESSION  (reads JSON on stdin)
  python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

g() { local i=$1; shift; "$CLI" --datadir "$TESTNET_DIR/node$i" "$@"; }

node_id() { g "$1" --json status | json 'd["node_id"]'; }

wait_ready() { # wait_ready I
  for _ in $(seq 1 300); do
    [ -f "$TESTNET_DIR/node$1/rpc.addr" ] && g "$1" status >/dev/null 2>&1 && return 0
    if ! running "$(cat "$TESTNET_DIR/node$1/pid" 2>/dev/null || echo 0)"; then
      tail -n 5 "$TESTNET_DIR/node$1/node.out" "$TESTNET_DIR/node$1/node.log" >&2 || true
      die "node $1 exited during start-up"
    fi
    sleep 0.1
  done
  die "node $1 did not become ready"
}

count_nodes() { ls -d "$TESTNET_DIR"/node* 2>/dev/null | wc -l; }

check_ports() { # check_ports N: every port BASE_PORT..BASE_PORT+N-1 must be free
  local lo hi
  read -r lo hi < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { lo=32768; hi=60999; }
  if [ $((BASE_PORT + $1 - 1)) -ge "$lo" ] && [ "$BASE_PORT" -le "$hi" ]; then
    echo "testnet: warning: ports $BASE_PORT..$((BASE_PORT + $1 - 1)) overlap the kernel's ephemeral range $lo..$hi; a port may be taken by an outgoing connection" >&2
  fi
  python3 - "$BASE_PORT" "$1" <<'PY' || die "choose another BASE_PORT"
import socket, sys
base, n = int(sys.argv[1]), int(sys.argv[2])
for p in range(base, base + n):
    s = socket.socket()
    # as ZeroMQ binds: a port in TIME_WAIT after a stopped testnet is free to listen on
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p))
    except OSError as e:
        sys.exit("testnet: error: port %d (BASE_PORT=%d + %d) is already in use: %s"
                 % (p, base, p - base, e.strerror))
    finally:
        s.close()
PY
}

start_node() { # start_node I SEED: starts node I in the background (its datadir exists)
  local i=$1 seed=$2 dir=$TESTNET_DIR/node$1 port=$((BASE_PORT + $1))
  local role=user
  if [ "$i" -lt "$auth" ]; then
    role=authority
    [ -f "$dir/accounts/authority.key" ] || install -m 0600 "$gen/authority-$((i + 1)).key" "$dir/accounts/authority.key"
  elif [ "$i" = "${RUNNER:-}" ]; then
    role=enclave-runner
  fi
  local keyed=0 level=${LOG_LEVEL:-info} r
  if [ "$i" -ge "$auth" ]; then
    for r in ${ROLES:-}; do [ "${r%%=*}" = "$i" ] && { role=${r#*=}; keyed=1; }; done
  fi
  for r in ${LOG_LEVELS:-}; do [ "${r%%=*}" = "$i" ] && level=${r#*=}; done
  case ",$role," in
    *,data-owner,* | *,trainer,* | *,auditor,*) keyed=1 ;;
  esac
  if [ "$keyed" = 1 ] && [ -z "$(ls -A "$dir/accounts")" ]; then
    # the account the node signs its own txs with (a runner's earns its fees)
    "$CLI" --datadir "$dir" key new --no-passphrase >/dev/null || die "node $i: key new failed"
  fi
  local args=(--datadir "$dir" --listen "tcp://127.0.0.1:$port" --role "$role"
              --genesis "$gen/genesis.json"
              --log-file "$dir/node.log" --log-level "$level")
  [ -n "$seed" ] && args+=(--peer "$seed")
  # its own stdout and stderr go to a file: a node must not hold the script's output open
  # (`scripts/testnet.sh up | tee` would never end)
  "$NODE" "${args[@]}" >>"$dir/node.out" 2>&1 </dev/null &
  echo $! > "$dir/pid"
}

up() {
  local n=${1:-4}
  [ "$n" -ge 1 ] && [ "$n" -le 64 ] || die "N must be 1..64"
  build
  if [ -d "$TESTNET_DIR" ] && [ "$(count_nodes)" -gt 0 ]; then
    for d in "$TESTNET_DIR"/node*; do
      if [ -f "$d/pid" ] && running "$(cat "$d/pid")"; then
        die "a testnet is already running in $TESTNET_DIR (scripts/testnet.sh down first)"
      fi
    done
  fi
  rm -rf "$TESTNET_DIR" # a new testnet each time: new keys, new genesis
  auth=${AUTHORITIES:-$n}
  [ "$auth" -ge 1 ] && [ "$auth" -le "$n" ] || die "AUTHORITIES must be 1..$n"
  mkdir -p "$TESTNET_DIR"
  gen=$TESTNET_DIR/genesis
  for i in $(seq 0 $((n - 1))); do mkdir -p -m 0700 "$TESTNET_DIR/node$i" "$TESTNET_DIR/node$i/accounts"; done
  if [ ! -f "$gen/genesis.json" ]; then
    "$CLI" genesis new --authorities "$auth" --out "$gen" >/dev/null
    # a livelier testnet than the default: an empty block every HEARTBEAT_MS
    python3 - "$gen/genesis.json" "${HEARTBEAT_MS:-2000}" <<'PY'
import json, sys
path, hb = sys.argv[1], int(sys.argv[2])
g = json.load(open(path))
g["heartbeat_ms"] = max(hb, g["block_interval_ms"])
json.dump(g, open(path, "w"), indent=2)
PY
  fi
  check_ports "$n"
  # Waves: node 0; then node 1; then 2-3; then 4-7; ... Node i's seed is node i - 2^k (k:
  # its wave), which started in an earlier wave, so a wave needs only earlier ids and all
  # of its nodes start together.
  local -a ids=()
  start_node 0 ""
  wait_ready 0
  ids[0]=$(node_id 0)
  local lo=1
  while [ "$lo" -lt "$n" ]; do
    local hi=$((2 * lo - 1)); [ "$hi" -ge "$n" ] && hi=$((n - 1))
    for i in $(seq "$lo" "$hi"); do
      local s=$((i - lo))
      start_node "$i" "${ids[$s]}@tcp://127.0.0.1:$((BASE_PORT + s))"
    done
    for i in $(seq "$lo" "$hi"); do wait_ready "$i"; done
    for i in $(seq "$lo" "$hi"); do ids[$i]=$(node_id "$i"); done
    lo=$((hi + 1))
  done
  say "$n nodes up in $TESTNET_DIR (ports $BASE_PORT..$((BASE_PORT + n - 1))), $auth of them authorities"
}

node_indexes() { ls -d "$TESTNET_DIR"/node* 2>/dev/null | sed 's/.*node//' | sort -n; }

status_row() { # status_row I: node I's line of the status table
  local i=$1 st id listen links rooms height head
  if ! st=$(g "$i" --json status 2>/dev/null); then
    printf '%-6s %s\n' "$i" "(not running)"; return 0
  fi
  id=$(json 'd["node_id"][:16]' <<<"$st")
  listen=$(json '" ".join(d["listen"])' <<<"$st")
  read -r height head < <(g "$i" --json head 2>/dev/null | json 'str(d["height"]) + " " + d["hash"][:16]' 2>/dev/null || echo "- -")
  links=$(g "$i" --json peers 2>/dev/null | json 'sum(1 for p in d if p["linked"])' 2>/dev/null || echo -)
  rooms=$(g "$i" --json rooms 2>/dev/null | json '",".join(r["room"] for r in d) or "-"' 2>/dev/null || echo -)
  printf '%-6s %-18s %-24s %-6s %-7s %-18s %s\n' "$i" "$id" "$listen" "$links" "$height" "$head" "$rooms"
}

status() { # every node's row at once (each takes a few CLI calls), printed in order
  [ "$(count_nodes)" -gt 0 ] || die "no testnet in $TESTNET_DIR"
  local tmp i; tmp=$(mktemp -d)
  local -a pids=()
  for i in $(node_indexes); do status_row "$i" > "$tmp/$i" & pids+=($!); done
  wait "${pids[@]}" || true
  printf '%-6s %-18s %-24s %-6s %-7s %-18s %s\n' NODE ID LISTEN LINKS HEIGHT HEAD ROOMS
  for i in $(node_indexes); do cat "$tmp/$i"; done
  rm -rf "$tmp"
}

# running PID: a genie-node process that has not exited (a zombie no one reaps yet, as
# after KEEP=1 once the script is gone, has exited; a pid reused by another program is not ours)
running() {
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "${st%% *}" != Z ] && tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -q genie-node
}

down() { # TERM to every node at once; KILL what is still running 5 s later
  [ -d "$TESTNET_DIR" ] || return 0
  local d pid left
  local -a pids=()
  for d in "$TESTNET_DIR"/node*; do
    [ -f "$d/pid" ] || continue
    pid=$(cat "$d/pid")
    if running "$pid"; then kill -TERM "$pid" 2>/dev/null && pids+=("$pid"); fi
  done
  for _ in $(seq 1 50); do
    left=0
    for pid in "${pids[@]}"; do running "$pid" && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do running "$pid" && kill -KILL "$pid" 2>/dev/null; done
  rm -f "$TESTNET_DIR"/node*/pid
  say "testnet stopped"
}

# ------------------------------------------------------------------------------- the demo
# in scripts/testnet_demo.sh (sourced: it uses the helpers above)

case "${1:-}" in
  up) shift; up "$@" ;;
  status) status ;;
  down) down ;;
  demo) . "$ROOT/scripts/testnet_demo.sh"; demo ;;
  *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; [ -z "${1:-}" ] && exit 2; exit 2 ;;
esac

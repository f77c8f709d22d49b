#!/usr/bin/env bash
# A local genie testnet on loopback.
#   scripts/testnet.sh up [N]      start N new nodes (default 4) on a new ledger whose
#                                  authorities are the first AUTHORITIES nodes (default all);
#                                  nodes start in parallel waves (1, 1, 2, 4, 8, ...): node
#                                  i>0 gets one seed, a node of an earlier wave
#   scripts/testnet.sh status      show each node's id, links, rooms and ledger head
#   scripts/testnet.sh down        stop every node cleanly
#   scripts/testnet.sh demo        build, start 6 nodes (4 authorities, node 4 an enclave
#                                  runner), and walk through blocks, a transfer, enclaves
#                                  (certify, spawn, register, validate, donate), rooms,
#                                  lookup and unicast; stops the network at the end
# Environment: TESTNET_DIR (default ./testnet), BASE_PORT (default 21100: below the kernel's
# ephemeral range, where outgoing connections and --rpc port 0 land), BUILD_DIR
# (default build), AUTHORITIES, HEARTBEAT_MS (empty-block period, default 2000),
# RUNNER (index of a node started as an enclave runner; none by default),
# KEEP=1 keeps the demo network running.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TESTNET_DIR=${TESTNET_DIR:-$ROOT/testnet}
BASE_PORT=${BASE_PORT:-21100}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
NODE=$BUILD_DIR/genie-node
CLI=$BUILD_DIR/genie

say() { printf '\033[1m== %s\033[0m\n' "$*"; }
die() { echo "testnet: error: $*" >&2; exit 1; }

build() {
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
    if ! kill -0 "$(cat "$TESTNET_DIR/node$1/pid" 2>/dev/null || echo 0)" 2>/dev/null; then
      tail -n 5 "$TESTNET_DIR/node$1/node.log" >&2 || true
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
  local args=(--datadir "$dir" --listen "tcp://127.0.0.1:$port" --role "$role"
              --genesis "$gen/genesis.json"
              --log-file "$dir/node.log" --log-level "${LOG_LEVEL:-info}")
  [ -n "$seed" ] && args+=(--peer "$seed")
  "$NODE" "${args[@]}" &
  echo $! > "$dir/pid"
}

up() {
  local n=${1:-4}
  [ "$n" -ge 1 ] && [ "$n" -le 64 ] || die "N must be 1..64"
  build
  if [ -d "$TESTNET_DIR" ] && [ "$(count_nodes)" -gt 0 ]; then
    for d in "$TESTNET_DIR"/node*; do
      if [ -f "$d/pid" ] && kill -0 "$(cat "$d/pid")" 2>/dev/null; then
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

status() {
  [ "$(count_nodes)" -gt 0 ] || die "no testnet in $TESTNET_DIR"
  printf '%-6s %-18s %-24s %-6s %-7s %-18s %s\n' NODE ID LISTEN LINKS HEIGHT HEAD ROOMS
  for d in "$TESTNET_DIR"/node*; do
    local i=${d##*node}
    if ! g "$i" status >/dev/null 2>&1; then
      printf '%-6s %s\n' "$i" "(not running)"; continue
    fi
    local id listen links rooms height head
    id=$(g "$i" --json status | json 'd["node_id"][:16]')
    read -r height head < <(g "$i" --json head 2>/dev/null | json 'str(d["height"]) + " " + d["hash"][:16]' 2>/dev/null || echo "- -")
    listen=$(g "$i" --json status | json '" ".join(d["listen"])')
    links=$(g "$i" --json peers | json 'sum(1 for p in d if p["linked"])')
    rooms=$(g "$i" --json rooms | json '",".join(r["room"] for r in d) or "-"')
    printf '%-6s %-18s %-24s %-6s %-7s %-18s %s\n' "$i" "$id" "$listen" "$links" "$height" "$head" "$rooms"
  done
}

down() {
  [ -d "$TESTNET_DIR" ] || return 0
  for d in "$TESTNET_DIR"/node*; do
    [ -f "$d/pid" ] || continue
    local pid; pid=$(cat "$d/pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$d/pid"
  done
  say "testnet stopped"
}

# The enclave part of the demo: node 4 (an enclave runner) gets its platform certified by the
# testnet's attestation service for the account RUNNER_ACCOUNT, spawns a validation and a
# training enclave that register themselves on the ledger, and node 5, a data owner, has a
# synthetic phenotype table validated and then donates it, sealed end to end.
enclaves() {
  local account=$1 pk
  say "node 4 runs enclaves: the attestation service named in genesis certifies its platform key (genie attest certify)"
  pk=$(g 4 --json enclave platform | json 'd["platform_pk"]')
  "$CLI" attest certify --as-key "$gen/attestation.key" --platform "$pk" --runner node4 \
    --account "$account" --days 30 --out "$TESTNET_DIR/runner.cert"
  g 4 enclave cert-install "$TESTNET_DIR/runner.cert"
  say "node 4 spawns a validation and a training enclave; each is attested and registers itself on the ledger"
  local kind
  for kind in validation training; do g 4 enclave spawn "$kind"; done
  local t
  for t in $(seq 1 60); do
    [ "$(g 4 --json enclave local | json 'sum(1 for e in d if e.get("registration") == "registered")')" -ge 2 ] && break
    sleep 0.5
  done
  g 4 enclave local
  local val tr
  val=$(g 4 --json enclave local | json '[e["id"] for e in d if e["kind"] == "validation"][0]')
  tr=$(g 4 --json enclave local | json '[e["id"] for e in d if e["kind"] == "training"][0]')
  say "node 2 reads the enclave registry from its copy of the ledger (genie enclave list)"
  for t in $(seq 1 30); do g 2 enclave list | grep -q "${tr:0:16}" && break; sleep 0.5; done
  g 2 enclave list
  say "node 5, a data owner, makes a synthetic cohort (genie-cohort) and has its phenotype table validated"
  "$BUILD_DIR/genie-cohort" --out "$TESTNET_DIR/cohort" --samples 40 --snps 200 --csv --seed 7 >/dev/null
  for t in $(seq 1 30); do
    g 5 data validate "$TESTNET_DIR/cohort/phenotypes.csv" --enclave "$val" --type csv && break
    sleep 1
  done
  say "node 5 donates the table to the training enclave: sealed to its key, relayed by node 4, receipt signed by the enclave"
  g 5 data donate "$TESTNET_DIR/cohort/phenotypes.csv" --enclave "$tr"
}

demo() {
  local n=6
  down >/dev/null 2>&1 || true
  rm -rf "$TESTNET_DIR"
  trap '[ "${KEEP:-0}" = 1 ] || down' EXIT
  RUNNER=4 AUTHORITIES=4 up $n
  say "4 authorities run the proof-of-authority ledger; nodes 4 (an enclave runner) and 5 follow it"
  say "each node was given one node of an earlier start-up wave as its seed; peer exchange does the rest"
  sleep 4
  status
  say "node 0's view of the network (genie peers)"
  g 0 peers
  say "the authorities (genie authorities)"
  g 0 authorities
  local to; to=$(g 4 --json key new --no-passphrase | json 'd.get("account_id") or d.get("id") or d.get("account")')
  say "node 0's authority pays 250 tokens to a fresh account made on node 4 (genie tx transfer)"
  local tx; tx=$(g 0 --json tx transfer "$to" 250 --wait 30 | json 'd["txid"]')
  echo "txid $tx"
  sleep 2
  for i in $(seq 0 $((n - 1))); do
    say "node $i sees it (genie tx status, genie account)"
    g "$i" tx status "$tx"
    g "$i" account "$to"
  done
  enclaves "$to"
  status
  say "nodes 1, 3 and 5 join the room 'recruitment'; node 2 does not"
  for i in 1 3 5; do g "$i" room join recruitment; done
  sleep 2
  say "node 1 posts a recruitment offer"
  g 1 room post recruitment "model=prs-cardio purpose=research price=5"
  sleep 1
  for i in 3 5; do
    say "node $i's room (genie room tail recruitment --no-follow)"
    g "$i" room tail recruitment --no-follow
  done
  say "node 2 is not a member and never sees the post:"
  g 2 room tail recruitment --no-follow 2>&1 || true
  local target; target=$(node_id 5)
  say "node 0 looks up node 5 by id (genie lookup)"
  g 0 lookup "$target"
  say "node 0 sends node 5 a direct, acknowledged message (genie send)"
  g 0 send "$target" "hello from node 0"
  say "node 5's inbox"
  g 5 inbox --no-follow
  say "demo done$( [ "${KEEP:-0}" = 1 ] && echo ': network left running (scripts/testnet.sh down to stop)')"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  status) status ;;
  down) down ;;
  demo) demo ;;
  *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; [ -z "${1:-}" ] && exit 2; exit 2 ;;
esac

#!/usr/bin/env bash
# A local genie testnet on loopback.
#   scripts/testnet.sh up [N]      start N new nodes (default 4) on a new ledger whose
#                                  authorities are the first AUTHORITIES nodes (default all);
#                                  nodes start in parallel waves (1, 1, 2, 4, 8, ...): node
#                                  i>0 gets one seed, a node of an earlier wave
#   scripts/testnet.sh status      show each node's id, links, rooms and ledger head
#   scripts/testnet.sh down        stop every node cleanly
#   scripts/testnet.sh demo        build, start 9 nodes (4 authorities, an enclave runner, a
#                                  trainer, 3 data owners) and walk through blocks, a transfer,
#                                  enclaves, the data owner's whole flow (data add, consent,
#                                  recruitment, offers, sealed and keyed donation, audit,
#                                  withdrawal), rooms, lookup and unicast; stops the network
#                                  at the end; exits non-zero naming the step that failed
# Environment: TESTNET_DIR (default ./testnet), BASE_PORT (default 21100: below the kernel's
# ephemeral range, where outgoing connections and --rpc port 0 land), BUILD_DIR
# (default build), AUTHORITIES, HEARTBEAT_MS (empty-block period, default 2000),
# RUNNER (index of a node started as an enclave runner; none by default),
# NO_BUILD=1 (use BUILD_DIR's programs as they are: no install, no build),
# ROLES (more roles by node index, e.g. "5=trainer 6=data-owner"; a trainer or data-owner
# node without an account key gets a new unencrypted one in DATADIR/accounts/ at start),
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
  if [ "$i" -ge "$auth" ]; then
    local r
    for r in ${ROLES:-}; do [ "${r%%=*}" = "$i" ] && role=${r#*=}; done
  fi
  case ",$role," in
    *,data-owner,* | *,trainer,*) # the account the node signs its own txs with
      if [ -z "$(ls -A "$dir/accounts")" ]; then
        "$CLI" --datadir "$dir" key new --no-passphrase >/dev/null || die "node $i: key new failed"
      fi ;;
  esac
  local args=(--datadir "$dir" --listen "tcp://127.0.0.1:$port" --role "$role"
              --genesis "$gen/genesis.json"
              --log-file "$dir/node.log" --log-level "${LOG_LEVEL:-info}")
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
# Nodes: 0-3 authorities, 4 an enclave runner, 5 a trainer, 6-8 data owners (Alice, Bob and
# Carol). Every step is checked: a failed command, a missing outcome or a refusal
# that does not come (or comes without its reason) ends the demo with an error naming it.

OWNERS="6 7 8"
owner_name() { case $1 in 6) echo Alice ;; 7) echo Bob ;; 8) echo "Carol" ;; esac; }

# wait_until SECONDS WHAT COMMAND...: polls COMMAND (quietly) until it succeeds.
wait_until() {
  local t=$1 what=$2; shift 2
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || die "timed out after ${t}s waiting for $what"
    sleep 0.3
  done
}

# refused WHY COMMAND...: COMMAND must fail, saying WHY; its output is shown.
refused() {
  local why=$1 out rc=0; shift
  out=$("$@" 2>&1) || rc=$?
  printf '%s\n' "$out"
  [ "$rc" -ne 0 ] || die "expected a refusal ('$why') but it succeeded: $*"
  grep -qF -- "$why" <<<"$out" || die "refused without the reason '$why': $*"
}

# expect WHAT PYTHON-EXPRESSION (JSON on stdin as d): dies unless the expression is true.
expect() {
  local what=$1 ok
  ok=$(json "bool($2)") || die "cannot check $what"
  [ "$ok" = True ] || die "$what"
}

enclaves_registered() {
  [ "$(g 4 --json enclave local | json 'sum(1 for e in d if e.get("registration") == "registered")')" -ge 2 ]
}
sees_enclave() { g "$1" --json enclave list | json "any(e['id'] == '$2' for e in d)" | grep -qx True; }
room_has() { local out; out=$(g "$1" room tail "$2" --no-follow) && grep -qF -- "$3" <<<"$out"; }

# demo_failed RC COMMAND FUNCTION ARGS: the demo's ERR trap (set -E: it runs where the
# command failed; a genie call shows its arguments). Says which step and command failed.
demo_failed() {
  [ "$BASH_SUBSHELL" = 0 ] || return 0
  local cmd=$2
  [ "$3" = g ] && cmd="genie $4"
  echo "testnet: error: the demo failed (exit $1) at the step \"${STEP:0:100}\": $cmd" >&2
}

# The enclave part: node 4 gets its platform certified by the testnet's attestation service
# for the account ACCOUNT and spawns a validation and a training enclave, which register
# themselves on the ledger.
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
  wait_until 60 "both enclaves to register" enclaves_registered
  g 4 enclave local
  tr=$(g 4 --json enclave local | json '[e["id"] for e in d if e["kind"] == "training"][0]')
  meas=$(g 4 --json enclave local | json '[e["measurement"] for e in d if e["kind"] == "training"][0]')
  reg_height=$(g 4 --json enclave local | json 'max(e["registered_height"] for e in d)')
  say "node 2 reads the enclave registry from its copy of the ledger (genie enclave list)"
  wait_until 30 "node 2 to see the training enclave" sees_enclave 2 "$tr"
  g 2 enclave list
}

tx_committed() { g "$1" --json tx status "$2" | json 'd["status"]' | grep -qx committed; }
height_at_least() { [ "$(g "$1" --json head | json 'd["height"]')" -ge "$2" ]; }

# The trainer: node 5 registers itself and a model spec that trains in the training
# enclave's measurement. Sets SPEC.
trainer() {
  say "node 5 is a trainer (--role trainer, its own account; no fees on this ledger, so it needs no tokens): genie trainer register"
  wait_until 60 "node 5 to reach height $reg_height" height_at_least 5 "$reg_height"
  g 5 trainer register "Acme Genomics" --wait 30
  say "node 5 registers a model spec: logistic regression for research, trained only in the enclave of measurement ${meas:0:16}..., epsilon 1.0, 2 donors minimum (genie spec register; its id is the txid)"
  SPEC=$(g 5 --json spec register --model-type logistic --purpose research --features rs1,rs2,age \
    --label t2d --measurement "$meas" --min-donors 2 --max-epsilon 1.0 --aggregation mean \
    --price 10 --shares 6000,3000,1000 --wait 30 | json 'd["spec_id"]')
  echo "spec $SPEC"
  g 5 spec list
}

# The data owners: each makes a synthetic genome (genie-cohort), adds it (validated in the
# validation enclave through the runner, encrypted at home, registered) and sets its consent.
# Each file carries a unique canary line, looked for in every datadir at the end. Sets
# DATA_6, DATA_7, DATA_8 and CANARY.
owners() {
  say "genie-cohort makes synthetic 23andMe genomes for the three data owners (no real person's data); each gets a unique canary line"
  "$BUILD_DIR/genie-cohort" --out "$TESTNET_DIR/cohort" --samples 3 --snps 300 --23andme --seed 15 >/dev/null
  local -a files=("$TESTNET_DIR"/cohort/23andme/*.txt) # sorted by the glob
  [ "${#files[@]}" -ge 3 ] || die "genie-cohort made ${#files[@]} genomes, not 3"
  CANARY="GENIE-DEMO-CANARY-$$-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  mkdir -m 0700 "$TESTNET_DIR/originals" # the owners' own files, outside every datadir
  local i k=0 out f
  for i in $OWNERS; do
    f=$TESTNET_DIR/originals/$(owner_name "$i" | tr '[:upper:]' '[:lower:]')-genome.txt
    { head -n 1 "${files[$k]}"; echo "# $CANARY-$i"; tail -n +2 "${files[$k]}"; } > "$f"
    k=$((k + 1))
    say "node $i ($(owner_name "$i"), --role data-owner) adds $(basename "$f"): sealed to the validation enclave through node 4, checked, encrypted into node $i's own store; the ledger gets a salted commitment, the signed report and the ciphertext's address (genie data add)"
    wait_until 60 "node $i to reach height $reg_height" height_at_least "$i" "$reg_height"
    local tries=0
    until out=$(g "$i" data add "$f" --type genotype --name "$(owner_name "$i")'s genome" --wait 30 2>&1); do
      tries=$((tries + 1))
      [ "$tries" -lt 20 ] || { printf '%s\n' "$out" >&2; die "node $i: data add failed"; }
      echo "(not yet: $(tail -n 1 <<<"$out"))"; sleep 1
    done
    printf '%s\n' "$out"
    printf -v "DATA_$i" '%s' "$(g "$i" --json data list | json 'd[0]["data_id"]')"
  done
  say "Alice's records (genie data list) and one of them as the ledger has it (genie data show)"
  g 6 data list
  g 6 data show "$DATA_6"
  say "consent is deny by default: nothing is allowed until the owner says so (genie consent show on node 6)"
  g 6 consent show
  say "each owner sets a default consent, a tx on the ledger (genie consent set)"
  g 6 consent set --allow-types logistic,prs --allow-purposes research --deny-purposes commercial --max-epsilon 2 --wait 30 >/dev/null
  g 7 consent set --allow-types '*' --allow-purposes research --deny-types logistic --max-epsilon 2 --wait 30 >/dev/null
  g 8 consent set --allow-types logistic --allow-purposes research --max-epsilon 2 --min-audits 1 --wait 30 >/dev/null
  local -A what=([6]="logistic and prs models for research, never commercial use"
                 [7]="any model for research except logistic"
                 [8]="logistic models for research, only in an enclave someone has audited")
  for i in $OWNERS; do
    say "$(owner_name "$i") allows ${what[$i]} (genie consent show on node $i)"
    g "$i" consent show
  done
}

has_offer() { g "$1" --json offers | json "any(o['offer'] == '$SPEC' for o in d)" | grep -qx True; }
row_match() { # row_match NODE DATA: the offer row of DATA matches
  g "$1" --json offers | json "[r['match'] for o in d if o['offer'] == '$SPEC' for r in o['records'] if r['data_id'] == '$2'][0]" | grep -qx True
}
uses() { g "$1" --json audit "$2" | json '",".join(u["use"] for u in (d if isinstance(d, list) else d["uses"]))'; }
donors() { g "$1" --json spec list | json "[s['donors'] for s in d if s['spec_id'] == '$SPEC'][0]"; }

market() {
  say "node 5 posts a signed recruitment offer for its spec in room 'recruitment' (genie recruit); every node checks it against the ledger (a registered trainer, its own spec) before passing it on"
  g 5 recruit "$SPEC" --note "type 2 diabetes risk, 2 donors wanted"
  local i
  for i in $OWNERS; do wait_until 30 "the offer to reach node $i" has_offer "$i"; done
  for i in $OWNERS; do
    say "$(owner_name "$i")'s node matches the offer against its consent, locally (genie offers on node $i)"
    g "$i" offers
  done
  row_match 6 "$DATA_6" || die "Alice's record should match the spec"
  ! row_match 7 "$DATA_7" || die "Bob's record should not match the spec"
  ! row_match 8 "$DATA_8" || die "Carol's record should not match yet"

  say "Alice donates (genie donate, sealed mode): her node checks the training enclave on the ledger, seals the genome to its key, node 4 relays only ciphertext; the enclave checks the commitment and signs a receipt; DONOR_REGISTER carries it"
  g 6 donate "$SPEC" --wait 60
  say "Bob's node refuses to donate, before anything leaves it:"
  refused "model type logistic is denied" g 7 donate "$SPEC"
  say "so does Carol's: its consent wants an audited enclave, and nobody has audited this one yet"
  refused "needs 1 audit, has 0" g 8 donate "$SPEC"

  say "an auditor (the account of authority node 1) reviews the training enclave and publishes its verdict with the hash of its report (genie enclave audit)"
  printf 'audit of genie-enclave (training), measurement %s\nreproducible build checked; sandbox and sealing reviewed; verdict: ok\n' "$meas" > "$TESTNET_DIR/audit-report.txt"
  local rh; rh=$(python3 -c 'import hashlib,sys; print(hashlib.blake2b(open(sys.argv[1],"rb").read(), digest_size=32).hexdigest())' "$TESTNET_DIR/audit-report.txt")
  g 1 enclave audit "$meas" "$rh" ok --wait 30
  wait_until 30 "Carol's record to match after the audit" row_match 8 "$DATA_8"
  say "now the offer matches on Carol's node (genie offers on node 8)"
  g 8 offers
  say "Carol donates in key mode: her node publishes the data key sealed to the enclave in a KEY_AUTHORIZE tx and sends the ciphertext from its store as it is; only the enclave can open it (genie donate --mode key)"
  g 8 donate "$SPEC" --data "$DATA_8" --mode key --wait 60
  say "the spec's donors, on the ledger (genie spec list on the trainer's node)"
  g 5 spec list
  [ "$(donors 5)" = 2 ] || die "the spec should have 2 donors, has $(donors 5)"

  say "every use of Carol's record, from the ledger (genie audit on node 8)"
  g 8 audit
  [ "$(uses 8 "$DATA_8")" = VALIDATED,KEY_AUTHORIZED,DONATED ] || die "node 8's audit trail: $(uses 8 "$DATA_8")"
  say "Alice takes her record back (genie data withdraw): enclaves drop it, and no training that starts after this block may use it"
  g 6 data withdraw "$DATA_6" --wait 30
  say "Alice's audit trail now ends with WITHDRAWN (genie audit on node 6)"
  g 6 audit
  [ "$(uses 6 "$DATA_6")" = VALIDATED,DONATED,WITHDRAWN ] || die "node 6's audit trail: $(uses 6 "$DATA_6")"
  say "donating the withdrawn record is refused, with the reason"
  refused "withdrawn" g 6 donate "$SPEC" --data "$DATA_6"
  say "the owners' files went only into enclaves: their canary lines are in no datadir, ledger, store or log of any node"
  local hits; hits=$(grep -rlF -- "$CANARY" "$TESTNET_DIR"/node* 2>/dev/null || true)
  [ -z "$hits" ] || die "the canary is in: $hits"
  echo "$CANARY: in none of $(find "$TESTNET_DIR"/node* -type f | wc -l) files"
}

demo() {
  local n=9
  down >/dev/null 2>&1 || true
  rm -rf "$TESTNET_DIR"
  trap '[ "${KEEP:-0}" = 1 ] || down' EXIT
  set -E
  trap 'demo_failed $? "$BASH_COMMAND" "${FUNCNAME[0]:-}" "$*"' ERR
  RUNNER=4 AUTHORITIES=4 ROLES="5=trainer 6=data-owner 7=data-owner 8=data-owner" up $n
  say "4 authorities run the proof-of-authority ledger; node 4 (an enclave runner), node 5 (a trainer) and nodes 6-8 (data owners) follow it"
  say "each node was given one node of an earlier start-up wave as its seed; peer exchange does the rest"
  local i
  for i in $(seq 0 $((n - 1))); do wait_until 30 "node $i's first block" height_at_least "$i" 1; done
  status
  say "node 0's view of the network (genie peers)"
  g 0 peers
  say "the authorities (genie authorities)"
  g 0 authorities
  local to; to=$(g 4 --json key new --no-passphrase | json 'd.get("account_id") or d.get("id") or d.get("account")')
  say "node 0's authority pays 250 tokens to a fresh account made on node 4, the runner's account (genie tx transfer)"
  local tx; tx=$(g 0 --json tx transfer "$to" 250 --wait 30 | json 'd["txid"]')
  echo "txid $tx"
  say "every node sees it committed, and the balance (genie tx status, genie account)"
  local i st
  for i in $(seq 0 $((n - 1))); do
    wait_until 30 "node $i to commit the transfer" tx_committed "$i" "$tx"
    st=$(g "$i" --json tx status "$tx")
    printf 'node %s: %s at height %s; account %s... balance %s\n' "$i" "$(json 'd["status"]' <<<"$st")" \
      "$(json 'd.get("height")' <<<"$st")" "${to:0:16}" "$(g "$i" --json account "$to" | json 'd["balance"]')"
  done
  local tr meas reg_height SPEC DATA_6 DATA_7 DATA_8 CANARY
  enclaves "$to"
  trainer
  owners
  market
  status
  say "nodes 1, 3 and 5 join the room 'lobby'; node 2 does not"
  for i in 1 3 5; do g "$i" room join lobby; done
  sleep 2
  say "node 1 posts in it"
  g 1 room post lobby "hello from node 1"
  for i in 3 5; do
    wait_until 10 "the post to reach node $i" room_has "$i" lobby "hello from node 1"
    say "node $i's room (genie room tail lobby --no-follow)"
    g "$i" room tail lobby --no-follow
  done
  say "node 2 is not a member and never sees the post:"
  g 2 room tail lobby --no-follow 2>&1 || true
  say "room 'recruitment' takes only signed posts of registered trainers: a plain post is refused"
  refused "signed recruitment posts only" g 1 room post recruitment "hello"
  local target; target=$(node_id 8)
  say "node 0 looks up node 8 by id (genie lookup)"
  g 0 lookup "$target"
  say "node 0 sends node 8 a direct, acknowledged message (genie send)"
  g 0 send "$target" "hello from node 0"
  say "node 8's inbox"
  g 8 inbox --no-follow
  say "demo done in ${SECONDS}s$( [ "${KEEP:-0}" = 1 ] && echo ': network left running (scripts/testnet.sh down to stop)')"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  status) status ;;
  down) down ;;
  demo) demo ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; [ -z "${1:-}" ] && exit 2; exit 2 ;;
esac

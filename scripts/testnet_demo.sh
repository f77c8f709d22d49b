# shellcheck shell=bash disable=SC2154  # gen, CLI, BUILD_DIR...: set by testnet.sh
# The whole story of genie on a local testnet (issue 16), sourced by scripts/testnet.sh,
# which is the entry point: `scripts/testnet.sh demo`.
#
# Cast (node indexes): 0-3 ledger authorities; 4 runner1 (validation, training and query
# enclaves); 5 runner2 (a second training enclave); 6 a trainer; 7 an auditor; 8-13 six
# data owners with different consents; 14 a user who buys queries. Story: registration,
# recruitment, donation (sealed and key-authorized), one withdrawal, federated training
# across the two runners, publication, the model loaded in the query enclave, paid
# queries (and refused ones), settlement with the conservation sum, each owner's audit
# trail, and the canary check. Every step is checked: a failed command, a missing outcome
# or a refusal that does not come ends the demo with an error naming the step.
#
# Uses testnet.sh's helpers (g, json, say, die, up, down, status) and its variables.

OWNERS="8 9 10 11 12 13"
RUNNER1=4 RUNNER2=5 TRAINER=6 AUDITOR=7 USER=14
PRICE=10 BUY=5 SHARES=6000,3000,1000
owner_name() {
  case $1 in 8) echo Alice ;; 9) echo Bob ;; 10) echo Carol ;; 11) echo Dave ;;
    12) echo Erin ;; 13) echo Frank ;; esac
}
lower() { tr '[:upper:]' '[:lower:]' <<<"$1"; }

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

# fact TEXT: a ledger fact the demo checked, printed as such (the test looks for these).
fact() { printf '   fact: %s\n' "$*"; }

# demo_failed RC COMMAND FUNCTION ARGS: the demo's ERR trap (set -E: it runs where the
# command failed; a genie call shows its arguments). Says which step and command failed.
demo_failed() {
  [ "$BASH_SUBSHELL" = 0 ] || return 0
  local cmd=$2
  [ "$3" = g ] && cmd="genie $4"
  echo "testnet: error: the demo failed (exit $1) at the step \"${STEP:0:100}\": $cmd" >&2
}

tx_committed() { g "$1" --json tx status "$2" | json 'd["status"]' | grep -qx committed; }
height_at_least() { [ "$(g "$1" --json head | json 'd["height"]')" -ge "$2" ]; }
account_of() { g "$1" --json key list | json '[k for k in d if k.get("kind", "account") != "node"][0]["id"]'; }
balance() { g 0 --json account "$1" | json 'd["balance"]'; }
balance_on() { g "$1" --json account "${ACCT[$1]}" | json 'd["balance"]'; } # I's own, on its node
sum_balances() { local s=0 a; for a in "${ACCT[@]}"; do s=$((s + $(balance "$a"))); done; echo "$s"; }
# rpc I METHOD PARAMS-JSON: one call of node I's control API (for reads the CLI lacks)
rpc() {
  python3 - "$TESTNET_DIR/node$1" "$2" "$3" <<'PY'
import base64, json, sys, urllib.request
d, method, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
addr, cookie = (open("%s/%s" % (d, f)).read().strip() for f in ("rpc.addr", "rpc.cookie"))
req = urllib.request.Request("http://%s/" % addr, method="POST", data=json.dumps(
    {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode(), headers={
    "Content-Type": "application/json", "Authorization": "Basic " + base64.b64encode(cookie.encode()).decode()})
r = json.load(urllib.request.urlopen(req, timeout=20))
if "error" in r:
    sys.exit("rpc %s: %s" % (method, r["error"]))
print(json.dumps(r["result"]))
PY
}
sees_enclave() { g "$1" --json enclave list | json "any(e['id'] == '$2' for e in d)" | grep -qx True; }

# spawn RUNNER KIND: spawns an enclave and waits until the ledger has it; prints its id.
spawn() {
  local r=$1 kind=$2 loc
  loc=$(g "$r" --json enclave spawn "$kind" | json 'd["local"]')
  wait_until 90 "node $r's $kind enclave to register" enclave_registered "$r" "$loc"
  g "$r" --json enclave local | json "[e['id'] for e in d if e['local'] == $loc][0]"
}
enclave_registered() {
  g "$1" --json enclave local | json "any(e['local'] == $2 and e['registration'] == 'registered' for e in d)" | grep -qx True
}
enclave_field() { # enclave_field RUNNER ID FIELD
  g "$1" --json enclave local | json "[e['$3'] for e in d if e['id'] == '$2'][0]"
}

# certify RUNNER: the testnet's attestation service certifies RUNNER's platform key for
# its account.
certify() {
  local r=$1 pk
  pk=$(g "$r" --json enclave platform | json 'd["platform_pk"]')
  "$CLI" attest certify --as-key "$gen/attestation.key" --platform "$pk" --runner "node$r" \
    --account "${ACCT[$r]}" --days 30 --out "$TESTNET_DIR/runner$r.cert"
  g "$r" enclave cert-install "$TESTNET_DIR/runner$r.cert"
}

registration() {
  say "the roles' accounts (each node made its own key at start; genie key list)"
  local i
  for i in $RUNNER1 $RUNNER2 $TRAINER $AUDITOR $OWNERS $USER; do ACCT[$i]=$(account_of "$i"); done
  printf '  runner1  %s\n  runner2  %s\n  trainer  %s\n  auditor  %s\n  user     %s\n' \
    "${ACCT[$RUNNER1]}" "${ACCT[$RUNNER2]}" "${ACCT[$TRAINER]}" "${ACCT[$AUDITOR]}" "${ACCT[$USER]}"
  for i in $OWNERS; do printf '  %-8s %s\n' "$(owner_name "$i")" "${ACCT[$i]}"; done
  say "node 0's authority pays the user 1000 tokens to buy queries with (genie tx transfer)"
  local tx; tx=$(g 0 --json tx transfer "${ACCT[$USER]}" 1000 --wait 30 | json 'd["txid"]')
  wait_until 30 "the user's node to commit the transfer" tx_committed "$USER" "$tx"
  fact "transfer $tx committed; the user's balance is $(balance "${ACCT[$USER]}")"

  say "runners 1 and 2 (nodes 4 and 5): the attestation service named in genesis certifies each platform key for the runner's account (genie attest certify, enclave cert-install)"
  certify "$RUNNER1"
  certify "$RUNNER2"
  say "runner1 spawns a validation, a training and a query enclave; each is attested and registers itself on the ledger (ENCLAVE_REGISTER with its quote)"
  VAL=$(spawn "$RUNNER1" validation)
  T1=$(spawn "$RUNNER1" training)
  Q1=$(spawn "$RUNNER1" query)
  MEAS=$(enclave_field "$RUNNER1" "$T1" measurement)
  QMEAS=$(enclave_field "$RUNNER1" "$Q1" measurement)
  REG_HEIGHT=$(g "$RUNNER1" --json enclave local | json 'max(e["registered_height"] for e in d)')
  g "$RUNNER1" enclave local
  wait_until 30 "the trainer to see the query enclave" sees_enclave "$TRAINER" "$Q1"
  say "the enclave registry as the trainer's node reads it from its copy of the ledger (genie enclave list)"
  g "$TRAINER" enclave list
  fact "3 enclaves of runner1 registered by height $REG_HEIGHT: validation ${VAL:0:16}, training ${T1:0:16} (measurement ${MEAS:0:16}), query ${Q1:0:16} (measurement ${QMEAS:0:16})"

  say "node 6 is a trainer: it registers itself and a model spec, logistic regression for research on age, bmi and quant -> trait, trained only in enclaves of measurement ${MEAS:0:16}, at least 3 donors, federated mean aggregation, no DP noise (epsilon 0: a small demo cohort), price $PRICE a query, fee shares donors/trainer/runner $SHARES bp (genie trainer register, spec register)"
  wait_until 60 "the trainer to reach height $REG_HEIGHT" height_at_least "$TRAINER" "$REG_HEIGHT"
  g "$TRAINER" trainer register "Acme Genomics" --wait 30
  SPEC=$(g "$TRAINER" --json spec register --model-type logistic --purpose research \
    --features age,bmi,quant --label trait --measurement "$MEAS" --min-donors 3 \
    --max-epsilon 0 --aggregation mean --price "$PRICE" --shares "$SHARES" --wait 30 |
    json 'd["spec_id"]')
  g "$TRAINER" spec list
  fact "spec $SPEC registered by the trainer"
}

# The owners' files: genie-cohort makes a synthetic cohort (phenotypes.csv, 23andMe
# genomes); each owner gets a 40-row phenotype slice (a small biobank), Alice her genome
# too. Every row id and the genome carry the canary.
cohort() {
  say "genie-cohort makes a synthetic cohort (no real person's data): each owner gets a 40-row phenotype table (age, sex, bmi, trait, quant), Alice her 23andMe genome too; a canary string is planted in every owner's file"
  "$BUILD_DIR/genie-cohort" --out "$TESTNET_DIR/cohort" --samples 300 --snps 300 --csv \
    --23andme --seed 16
  CANARY="GENIE-DEMO-CANARY-$$-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  mkdir -m 0700 "$TESTNET_DIR/originals" # the owners' own files, outside every datadir
  printf '%s\n' "$CANARY" > "$TESTNET_DIR/originals/CANARY"
  # shellcheck disable=SC2086 # OWNERS: one argument each
  python3 - "$TESTNET_DIR/cohort/phenotypes.csv" "$TESTNET_DIR/originals" "$CANARY" \
    "$TESTNET_DIR/query.csv" $OWNERS <<'PY'
import csv, sys
src, out, canary, query, owners = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
rows = list(csv.reader(open(src)))
header, body = rows[0], rows[1:]
for k, o in enumerate(owners):
    with open("%s/phenotypes-%s.csv" % (out, o), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows([["%s-%s-%d" % (canary, o, i)] + r[1:] for i, r in enumerate(body[k * 40:(k + 1) * 40])])
with open(query, "w", newline="") as f:  # the user's own rows: not the owners'
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    w.writerows([r for r in body[240:] if "" not in r][:8])
PY
  local -a genomes=("$TESTNET_DIR"/cohort/23andme/*.txt) # sorted by the glob
  local g1=${genomes[0]}
  { head -n 1 "$g1"; echo "# $CANARY-genome"; tail -n +2 "$g1"; } > "$TESTNET_DIR/originals/alice-genome.txt"
}

# add_data OWNER FILE TYPE NAME: data add once the owner's node is linked with runner1 (the
# validation enclave's), tried again while the enclave is not yet known to the owner's
# node or the link went; output to FILE.out.
add_data() {
  local i=$1 f=$2 type=$3 name=$4 tries=0
  until reach "$i" "$RUNNER1" && g "$i" data add "$f" --type "$type" --name "$name" --wait 30 > "$f.out" 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 20 ] || { cat "$f.out" >&2; return 1; }
    sleep 1
  done
}
data_id() { # data_id OWNER NAME
  g "$1" --json data list | json "[r['data_id'] for r in d if r.get('name') == '$2'][0]"
}

owners() {
  cohort
  say "the six data owners add their files at the same time (genie data add): each file is sealed to the validation enclave through runner1, checked there, encrypted into the owner's own store; the ledger gets a salted commitment, the signed validation report and the ciphertext's address"
  local i pids=() f
  for i in $OWNERS; do
    wait_until 60 "node $i to reach height $REG_HEIGHT" height_at_least "$i" "$REG_HEIGHT"
  done
  for i in $OWNERS; do
    add_data "$i" "$TESTNET_DIR/originals/phenotypes-$i.csv" phenotype "$(lower "$(owner_name "$i")")-table" &
    pids+=($!)
  done
  add_data 8 "$TESTNET_DIR/originals/alice-genome.txt" genotype alice-genome & pids+=($!)
  for i in "${pids[@]}"; do wait "$i" || die "a data add failed (see above)"; done
  for i in $OWNERS; do
    say "$(owner_name "$i") (node $i) added phenotypes-$i.csv"
    cat "$TESTNET_DIR/originals/phenotypes-$i.csv.out"
    PHENO[$i]=$(data_id "$i" "$(lower "$(owner_name "$i")")-table")
  done
  say "Alice added her genome too"
  cat "$TESTNET_DIR/originals/alice-genome.txt.out"
  GENOME=$(data_id 8 alice-genome)
  rm -f "$TESTNET_DIR"/originals/*.out
  fact "7 records validated and registered (DATA_REGISTER committed): $(for i in $OWNERS; do printf '%s ' "${PHENO[$i]:0:12}"; done)${GENOME:0:12}"

  say "consent is deny by default: nothing is allowed until the owner says so (genie consent show on Alice's node)"
  g 8 consent show
  say "each owner sets a consent, a tx on the ledger (genie consent set); Alice also overrides it for her genome alone (--data): that record may go only to polygenic risk scores"
  g 8 consent set --allow-types logistic,prs --allow-purposes research --max-epsilon 1 --wait 30 >/dev/null &
  pids=($!)
  g 9 consent set --allow-types '*' --allow-purposes research --deny-types logistic --max-epsilon 1 --wait 30 >/dev/null & pids+=($!)
  g 10 consent set --allow-types logistic --allow-purposes commercial --deny-purposes research --max-epsilon 1 --wait 30 >/dev/null & pids+=($!)
  g 11 consent set --allow-types logistic --allow-purposes research --max-epsilon 1 --min-audits 1 --wait 30 >/dev/null & pids+=($!)
  g 12 consent set --allow-types logistic --allow-purposes research --max-epsilon 1 --wait 30 >/dev/null & pids+=($!)
  g 13 consent set --allow-types logistic --allow-purposes research --max-epsilon 1 --wait 30 >/dev/null & pids+=($!)
  for i in "${pids[@]}"; do wait "$i" || die "a consent set failed"; done
  g 8 consent set --data "$GENOME" --allow-types prs --allow-purposes research --max-epsilon 1 --wait 30 >/dev/null
  local -A what=([8]="logistic and prs models for research (her genome: prs only)"
                 [9]="any model for research except logistic"
                 [10]="logistic models, for commercial use only: never research"
                 [11]="logistic models for research, only in an enclave someone has audited"
                 [12]="logistic models for research" [13]="logistic models for research")
  for i in $OWNERS; do
    say "$(owner_name "$i") allows ${what[$i]} (genie consent show)"
    g "$i" consent show
  done
  say "Alice's genome has its own consent (genie consent show --data)"
  g 8 consent show --data "$GENOME"
}

has_offer() { g "$1" --json offers | json "any(o['offer'] == '$SPEC' for o in d)" | grep -qx True; }
row_match() { # row_match NODE DATA: the offer row of DATA matches
  g "$1" --json offers | json "[r['match'] for o in d if o['offer'] == '$SPEC' for r in o['records'] if r['data_id'] == '$2'][0]" | grep -qx True
}
uses() { g "$1" --json audit "$2" | json '",".join(u["use"] for u in (d if isinstance(d, list) else d["uses"]))'; }
donors() { g "$1" --json spec list | json "[s['donors'] for s in d if s['spec_id'] == '$SPEC'][0]"; }
# linked I NODEID: node I has a p2p link with node NODEID now.
linked() { g "$1" --json peers | json "any(p['id'] == '$2' and p['linked'] for p in d)" | grep -qx True; }
# reach I RUNNER: waits until node I is linked with runner node RUNNER. A node reaches an
# enclave only through the runners it is linked with at that moment, and with 15 nodes the
# overlay rotates links above its target degree (8 + 2), except links to room members:
# so the runners are in a room, and the demo waits for the link before each call.
reach() { wait_until 60 "node $1 to link with node $2" linked "$1" "${NID[$2]}"; }
# donate_json OWNER RUNNER ARGS: donate (once linked with the runner of the enclave the
# donation goes to); its JSON. A try that finds the link gone is made again (4 tries).
donate_json() {
  local i=$1 r=$2 tries=0 out; shift 2
  until reach "$i" "$r" && out=$(g "$i" --json donate "$SPEC" "$@" --wait 60 2>"$TESTNET_DIR/donate.err"); do
    tries=$((tries + 1))
    [ "$tries" -lt 4 ] || { cat "$TESTNET_DIR/donate.err" >&2; die "$(owner_name "$i") could not donate"; }
    echo "(not yet: $(tail -n 1 "$TESTNET_DIR/donate.err"))" >&2
    sleep 1
  done
  printf '%s\n' "$out"
}
# donated OWNER RUNNER ARGS: donate_json, its donations shown; sets DONATED_TO (the
# enclaves of the donations that went through, comma separated).
donated() {
  local i=$1 out; out=$(donate_json "$@")
  json '"\n".join("  %s  %-9s %s" % (x["data_id"][:16], x.get("state", "?"), "to enclave %s, DONOR_REGISTER %s" % (x["enclave"][:16], x["txid"][:16]) if x["ok"] else x.get("error", "")) for x in d["donations"])' <<<"$out"
  DONATED_TO=$(json '",".join(x["enclave"] for x in d["donations"] if x["ok"])' <<<"$out")
}

offers_everywhere() { # the trainer posts again now and then: a post that reached a node before its ledger had the spec was refused by the room's policy
  local i n=0
  for i in $OWNERS; do has_offer "$i" || n=$((n + 1)); done
  [ "$n" = 0 ] && return 0
  g "$TRAINER" recruit "$SPEC" --note "type 2 diabetes risk, 3 donors wanted" >/dev/null
  return 1
}

recruitment() {
  say "the trainer posts a signed recruitment offer for its spec in room 'recruitment' (genie recruit); every node checks it against the ledger (a registered trainer, its own spec) before passing it on"
  g "$TRAINER" recruit "$SPEC" --note "type 2 diabetes risk, 3 donors wanted"
  local i end=$((SECONDS + 60))
  until offers_everywhere; do
    [ "$SECONDS" -lt "$end" ] || die "timed out waiting for the offer to reach every owner"
    sleep 1
  done
  for i in $OWNERS; do
    say "$(owner_name "$i")'s node matches the offer against its consent, locally (genie offers)"
    g "$i" offers
  done
  row_match 8 "${PHENO[8]}" || die "Alice's table should match the spec"
  ! row_match 8 "$GENOME" || die "Alice's genome should not match the spec"
  ! row_match 9 "${PHENO[9]}" || die "Bob's table should not match the spec"
  ! row_match 10 "${PHENO[10]}" || die "Carol's table should not match the spec"
  ! row_match 11 "${PHENO[11]}" || die "Dave's table should not match yet"
  row_match 12 "${PHENO[12]}" || die "Erin's table should match the spec"
  row_match 13 "${PHENO[13]}" || die "Frank's table should match the spec"
  fact "the offer matches Alice's table, Erin's and Frank's; not Alice's genome, Bob's, Carol's or Dave's"
}

donation() {
  local e
  say "Alice donates (genie donate, sealed mode): her node checks the training enclave on the ledger and seals her table to its key (her genome stays home: its consent does not allow the spec); runner1 relays only ciphertext; the enclave checks the commitment and signs a receipt; DONOR_REGISTER carries it"
  donated 8 "$RUNNER1"
  e=$DONATED_TO
  [ "$e" = "$T1" ] || die "Alice's donation went to '$e', not runner1's training enclave"
  fact "Alice's table is in runner1's training enclave ${T1:0:16}"
  say "Bob's node refuses to donate, before anything leaves it:"
  refused "model type logistic is denied" g 9 donate "$SPEC"
  say "so does Carol's: her consent denies research"
  refused "purpose research is denied" g 10 donate "$SPEC"
  say "and Dave's: his consent wants an audited enclave, and nobody has audited this one yet"
  refused "needs 1 audit, has 0" g 11 donate "$SPEC"

  say "runner2 spawns its own training enclave, same program and measurement; donations now go to the newest one, so the data is spread over two runners"
  T2=$(spawn "$RUNNER2" training)
  [ "$(enclave_field "$RUNNER2" "$T2" measurement)" = "$MEAS" ] || die "runner2's training enclave has another measurement"
  g "$RUNNER2" enclave local
  wait_until 30 "Dave's node to see runner2's enclave" sees_enclave 11 "$T2"

  say "the auditor (node 7, --role auditor) reviews the training enclave's program and publishes its verdict with the hash of its report (genie enclave audit)"
  printf 'audit of genie-enclave (training), measurement %s\nreproducible build checked; sandbox and sealing reviewed; verdict: ok\n' "$MEAS" > "$TESTNET_DIR/audit-report.txt"
  local rh; rh=$(python3 -c 'import hashlib,sys; print(hashlib.blake2b(open(sys.argv[1],"rb").read(), digest_size=32).hexdigest())' "$TESTNET_DIR/audit-report.txt")
  g "$AUDITOR" enclave audit "$MEAS" "$rh" ok --wait 30
  wait_until 30 "Dave's table to match after the audit" row_match 11 "${PHENO[11]}"
  say "now the offer matches on Dave's node (genie offers)"
  g 11 offers
  say "Dave donates in key mode: his node publishes the data key sealed to the enclave in a KEY_AUTHORIZE tx and sends the ciphertext from its store as it is; only the enclave can open it (genie donate --mode key)"
  donated 11 "$RUNNER2" --data "${PHENO[11]}" --mode key
  e=$DONATED_TO
  [ "$e" = "$T2" ] || die "Dave's donation went to '$e', not runner2's training enclave"
  say "Erin and Frank donate, sealed, to runner2's enclave"
  for i in 12 13; do
    donated "$i" "$RUNNER2"
    e=$DONATED_TO
    [ "$e" = "$T2" ] || die "$(owner_name "$i")'s donation went to '$e', not runner2's training enclave"
  done
  say "the spec's donors, on the ledger (genie spec list on the trainer's node)"
  g "$TRAINER" spec list
  [ "$(donors "$TRAINER")" = 4 ] || die "the spec should have 4 donors, has $(donors "$TRAINER")"
  fact "4 donors: Alice at runner1's enclave ${T1:0:16}; Dave (key mode), Erin and Frank at runner2's ${T2:0:16}"
  [ "$(uses 11 "${PHENO[11]}")" = VALIDATED,KEY_AUTHORIZED,DONATED ] || die "Dave's audit trail: $(uses 11 "${PHENO[11]}")"

  say "Erin changes her mind before any training and takes her table back (genie data withdraw): enclaves drop it, and no training that starts after this block may use it"
  g 12 data withdraw "${PHENO[12]}" --wait 30
  [ "$(uses 12 "${PHENO[12]}")" = VALIDATED,DONATED,WITHDRAWN ] || die "Erin's audit trail: $(uses 12 "${PHENO[12]}")"
  fact "Erin's record ${PHENO[12]:0:16} is WITHDRAWN on the ledger; it stays a donor record, but is no longer eligible"
}

train_json() { g "$1" --json train status "$SPEC"; }
published() {
  local s; s=$(train_json "$RUNNER1") || return 1
  json '(d.get("job") or {}).get("status") == "published" and (d.get("local") or {}).get("phase") == "done"' <<<"$s" | grep -qx True
}

training() {
  say "the trainer starts the training job (genie train start, TRAIN_START): runner1's training enclave coordinates, 3 federated rounds, and the model may go only to query enclaves of measurement ${QMEAS:0:16}"
  reach "$RUNNER1" "$RUNNER2"
  JOB=$(g "$TRAINER" --json train start "$SPEC" --coordinator "$T1" --rounds 3 \
    --query-measurement "$QMEAS" --wait 30 | json 'd["job_id"]')
  fact "job $JOB started on the ledger"
  say "runner1 sees the job, asks the ledger which donor records are still eligible, prepares both enclaves (runner2's over p2p unicast), and relays the sealed FED_STEP messages between them; the aggregation (the spec's rule, and DP noise when the spec asks for it) happens in the coordinating enclave. genie train status on runner1 while it runs:"
  local end=$((SECONDS + 240)) last="" s line
  while ! published; do
    [ "$SECONDS" -lt "$end" ] || die "timed out after 240s waiting for the model to be published"
    s=$(train_json "$RUNNER1" 2>/dev/null) || { sleep 0.5; continue; }
    line=$(json '"job %s; runner1: %s" % ((d.get("job") or {}).get("status"), "phase %s, round %s of %s, %d parties prepared" % (d["local"]["phase"], d["local"]["round"], d["local"]["rounds"], sum(1 for p in d["local"].get("parties") or [] if p.get("prepared"))) if d.get("local") else "not picked up yet")' <<<"$s")
    [ "$(json '(d.get("local") or {}).get("phase")' <<<"$s")" != failed ] ||
      die "the training failed: $(json '(d.get("local") or {}).get("why")' <<<"$s")"
    [ "$line" = "$last" ] || { echo "  $(date +%T.%N | cut -c1-12)  $line"; last=$line; }
    sleep 0.1
  done
  say "done: genie train status on runner1 (the ledger's job and model, and its own view of the parties)"
  g "$RUNNER1" train status "$SPEC"
  s=$(train_json "$RUNNER1")
  json 'd["local"]["excluded"] == 1 and len(d["local"]["parties"]) == 2' <<<"$s" | grep -qx True ||
    die "runner1's status: $s"
  json "{p['enclave']: (p['eligible'], p['n_records']) for p in d['local']['parties']} == {'$T1': (1, 1), '$T2': (2, 2)}" <<<"$s" |
    grep -qx True || die "the parties' records: $s"
  MODEL=$(json 'd["model"]["id"]' <<<"$s")
  MODEL_HASH=$(json 'd["model"]["model_hash"]' <<<"$s")
  fact "Erin's withdrawn record was left out: runner1's enclave used 1 record, runner2's 2 (of 3 donated)"

  say "the publication, on the ledger (genie models and genie model show on the user's node): the model's hash, metrics on a held-out split, the records used (a commitment), the parties' contribution weights, signed by the coordinating enclave; the weights themselves are not on the ledger"
  wait_until 30 "the user's node to see the model" model_known "$USER"
  g "$USER" models
  g "$USER" model show "$MODEL"
  s=$(g "$USER" --json model show "$MODEL")
  json "d['model_hash'] == '$MODEL_HASH' and d['n_records'] == 3 and len(d['parties']) == 2 and sum(p['weight_bp'] for p in d['parties']) == 10000 and len(d['metrics']) > 0" <<<"$s" |
    grep -qx True || die "the published model: $s"
  PARTIES=$(json 'json.dumps(d["parties"])' <<<"$s")
  fact "model $MODEL published: hash ${MODEL_HASH:0:16}, 3 records used, weights $(json '" + ".join(str(p["weight_bp"]) for p in d["parties"])' <<<"$s") = 10000 bp, metrics $(json '", ".join("%s %.3f" % (k, v) for k, v in d["metrics"].items())' <<<"$s")"
}
model_known() { g "$1" --json models | json "any(m['model_id'] == '$MODEL' for m in d)" | grep -qx True; }

model_loaded() {
  g "$RUNNER1" --json query status | json "any(m['model'] == '$MODEL' for e in d['enclaves'] if e['enclave'] == '$Q1' for m in e['models'])" | grep -qx True
}

queries() {
  say "runner1's query enclave follows the chain as a light client from genesis; the coordinating enclave sealed the model to it (its quote has the job's query measurement), and it loaded it with the MODEL_PUBLISH tx's inclusion proof (genie query status on runner1)"
  wait_until 60 "the query enclave to load the model" model_loaded
  g "$RUNNER1" query status
  local h; h=$(g "$RUNNER1" --json query status | json "[m['model_hash'] for e in d['enclaves'] if e['enclave'] == '$Q1' for m in e['models'] if m['model'] == '$MODEL'][0]")
  [ "$h" = "$MODEL_HASH" ] || die "the query enclave loaded hash $h, the ledger has $MODEL_HASH"
  fact "the query enclave's model hash ${h:0:16}... equals the one published on the ledger"

  BAL0=$(sum_balances)
  say "the user buys $BUY queries (genie query buy, QUERY_BUY): $((PRICE * BUY)) tokens go from its balance into escrow; the access code stays in its datadir"
  wait_until 30 "the user's node to see its funds" user_funded
  BUYID=$(g "$USER" --json query buy "$MODEL" --count "$BUY" --wait 30 | json 'd["buy_id"]')
  fact "buy $BUYID: escrow $((PRICE * BUY)), user balance $(balance "${ACCT[$USER]}")"
  head -n 4 "$TESTNET_DIR/query.csv" > "$TESTNET_DIR/query3.csv"
  say "the user runs 3 rows (genie query run): its node seals them with a fresh reply key and the access code; the query enclave checks the payment by itself (the buy tx, its block's commit certificate, against the authorities it follows from genesis), answers sealed to the user"
  reach "$USER" "$RUNNER1"
  g "$USER" query run "$MODEL" --input "$TESTNET_DIR/query3.csv"
  say "3 more rows when only $((BUY - 3)) are paid: the enclave refuses (spent)"
  reach "$USER" "$RUNNER1"
  refused "refused" g "$USER" query run "$MODEL" --input "$TESTNET_DIR/query3.csv"
  say "the trainer knows the buy id (it is on the ledger) but not its access code; with a guessed code the enclave refuses"
  mkdir -m 0700 "$TESTNET_DIR/node$TRAINER/access" 2>/dev/null || true
  od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$TESTNET_DIR/node$TRAINER/access/$BUYID.code"
  chmod 0600 "$TESTNET_DIR/node$TRAINER/access/$BUYID.code"
  reach "$TRAINER" "$RUNNER1"
  refused "refused" g "$TRAINER" query run "$MODEL" --input "$TESTNET_DIR/query3.csv" --buy "$BUYID"
  rm -f "$TESTNET_DIR/node$TRAINER/access/$BUYID.code"
  fact "3 queries answered; a spent code and a wrong code refused by the enclave"
}
user_funded() { [ "$(g "$USER" --json account "${ACCT[$USER]}" | json 'd["balance"]')" -ge $((PRICE * BUY)) ]; }
usage_claimed() {
  g "$RUNNER1" --json query status | json "any(u['buy'] == '$BUYID' and u['confirmed'] == 3 for u in d.get('usage', []))" | grep -qx True
}

settlement() {
  say "runner1 claims the usage: its query enclave signs the count it served for the buy, the node submits USAGE_CLAIM; the settlement contract splits the fee by the spec's shares, the donors' part by the published weights (genie query status --flush)"
  g "$RUNNER1" query status --flush >/dev/null
  wait_until 60 "the usage claim to commit" usage_claimed
  g "$RUNNER1" query status
  local fee=$((PRICE * 3)) i who moved=0 before after top=0
  local want_runner=0 want_trainer=0 want_t1=0 want_t2=0 dust=0
  local -A want=()
  # the exact split: runner and trainer floor(fee * share / 10000), the donors the rest;
  # each party's pool floor(donors * weight / 10000) (the remainder to party 0), paid
  # floor(pool / records) per record of the party
  eval "$(python3 - "$fee" "$SHARES" "$PARTIES" "$T1" "$T2" <<'PY'
import json, sys
fee, shares, parties, t1, t2 = int(sys.argv[1]), sys.argv[2].split(","), json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
donors_bp, trainer_bp, runner_bp = (int(s) for s in shares)
runner, trainer = fee * runner_bp // 10000, fee * trainer_bp // 10000
donors = fee - runner - trainer
pools = [donors * p["weight_bp"] // 10000 for p in parties]
pools[0] += donors - sum(pools)
per = {p["enclave_id"]: pools[k] // p["n_records"] for k, p in enumerate(parties)}
dust = sum(pools[k] - per[p["enclave_id"]] * p["n_records"] for k, p in enumerate(parties))
print("want_runner=%d want_trainer=%d want_t1=%d want_t2=%d dust=%d" % (runner, trainer, per[t1], per[t2], dust))
PY
  )"
  want[$RUNNER1]=$want_runner want[$TRAINER]=$want_trainer want[$RUNNER2]=0
  want[8]=$want_t1 want[11]=$want_t2 want[13]=$want_t2 want[9]=0 want[10]=0 want[12]=0
  say "what each role is owed, then claims (genie earnings, genie claim on each node): runner $want_runner, trainer $want_trainer, each record at runner1's enclave $want_t1, at runner2's $want_t2"
  for i in $RUNNER1 $RUNNER2 $TRAINER $OWNERS; do
    case $i in "$RUNNER1") who=runner1 ;; "$RUNNER2") who=runner2 ;; "$TRAINER") who=trainer ;;
      *) who=$(owner_name "$i") ;; esac
    echo "-- $who (node $i): genie earnings; genie claim"
    g "$i" earnings
    before=$(balance_on "$i")
    if [ "${want[$i]}" -gt 0 ]; then
      g "$i" claim --wait 30
    else
      refused "owed" g "$i" claim --wait 30
    fi
    after=$(balance_on "$i")
    top=$(g "$i" --json head | json 'd["height"]')
    [ $((after - before)) = "${want[$i]}" ] || die "$who was paid $((after - before)), the shares say ${want[$i]}"
    moved=$((moved + after - before))
  done
  wait_until 30 "node 0 to reach height $top (the last claim)" height_at_least 0 "$top"
  local escrow buy; buy=$(rpc 0 buy_show "{\"buy_id\": \"$BUYID\"}")
  escrow=$(json 'd["escrow"]' <<<"$buy")
  if [ "$(json 'd["claimed"]' <<<"$buy")" != 3 ] || [ "$escrow" != $((PRICE * (BUY - 3))) ]; then
    die "the buy after the claim: $buy"
  fi
  local bal1; bal1=$(sum_balances)
  say "conservation: every unit the user paid is in the escrow, in a balance it moved to, or dust left in the pools"
  printf '  before the buy: balances %s\n  after settlement: balances %s + escrow %s + pool dust %s = %s\n' \
    "$BAL0" "$bal1" "$escrow" "$dust" "$((bal1 + escrow + dust))"
  [ $((bal1 + escrow + dust)) = "$BAL0" ] || die "not conserved: $BAL0 before, $((bal1 + escrow + dust)) after"
  [ "$moved" = $((fee - dust)) ] || die "moved $moved of the fee $fee (dust $dust)"
  fact "fee $fee split exactly: runner $want_runner, trainer $want_trainer, donors $((fee - want_runner - want_trainer)) (claimed $((moved - want_runner - want_trainer)), dust $dust); sum conserved: $BAL0 = $((bal1 + escrow + dust))"
}

audit_trails() {
  local i want
  for i in $OWNERS; do
    say "$(owner_name "$i")'s audit trail: who used the data and how (BY: the enclave or account; TXID: for TRAINED, the model), from the ledger (genie audit)"
    g "$i" audit
  done
  local -A trail=([8]="VALIDATED,DONATED,TRAINED" [9]="VALIDATED" [10]="VALIDATED"
                  [11]="VALIDATED,KEY_AUTHORIZED,DONATED,TRAINED" [12]="VALIDATED,DONATED,WITHDRAWN"
                  [13]="VALIDATED,DONATED,TRAINED")
  for i in $OWNERS; do
    [ "$(uses "$i" "${PHENO[$i]}")" = "${trail[$i]}" ] || die "$(owner_name "$i")'s audit trail: $(uses "$i" "${PHENO[$i]}")"
  done
  [ "$(uses 8 "$GENOME")" = VALIDATED ] || die "Alice's genome's audit trail: $(uses 8 "$GENOME")"
  for i in 8 11 13; do
    g "$i" --json audit "${PHENO[$i]}" | json "[u for u in (d if isinstance(d, list) else d['uses']) if u['use'] == 'TRAINED'] == [u for u in (d if isinstance(d, list) else d['uses']) if u['use'] == 'TRAINED' and u['actor'] == '$T1' and u['txid'] == '$MODEL' and u['spec_id'] == '$SPEC']" |
      grep -qx True || die "$(owner_name "$i")'s TRAINED entry does not name the model and the coordinating enclave"
  done
  fact "TRAINED in model ${MODEL:0:16} by enclave ${T1:0:16} on Alice's, Dave's and Frank's tables; none on Erin's (withdrawn), Bob's, Carol's or Alice's genome"
}

canary() {
  say "the owners' files went only into enclaves: the canary (text and hex) is in no datadir, ledger, store, node log (runners log every relayed message in hex at trace level) or anything the demo's trainer, runners and user were told (this transcript)"
  local hex hits n
  hex=$(printf '%s' "$CANARY" | od -An -tx1 | tr -d ' \n')
  hits=$(grep -rlaF -e "$CANARY" -e "$hex" --exclude-dir=originals --exclude-dir=cohort "$TESTNET_DIR" 2>/dev/null || true)
  [ -z "$hits" ] || die "the canary is in: $hits"
  n=$(find "$TESTNET_DIR" -type f -not -path '*/originals/*' -not -path '*/cohort/*' | wc -l)
  fact "canary $(printf '%s' "$CANARY" | sha256sum | cut -c1-12) (sha256) in none of $n files"
}

# demo_exit: the EXIT trap: stops the network (unless KEEP=1), lets the transcript end.
demo_exit() {
  [ "${KEEP:-0}" = 1 ] || down
  if [ -n "${TEE_PID:-}" ]; then exec >&-; wait "$TEE_PID" 2>/dev/null || true; fi
}

demo() {
  local n=15
  down >/dev/null 2>&1 || true
  rm -rf "$TESTNET_DIR"
  trap demo_exit EXIT
  set -E
  trap 'demo_failed $? "$BASH_COMMAND" "${FUNCNAME[0]:-}" "$*"' ERR
  AUTHORITIES=4 LOG_LEVELS="$RUNNER1=trace $RUNNER2=trace" \
    ROLES="$RUNNER1=enclave-runner $RUNNER2=enclave-runner $TRAINER=trainer $AUDITOR=auditor 8=data-owner 9=data-owner 10=data-owner 11=data-owner 12=data-owner 13=data-owner $USER=user" up $n
  # the transcript: everything the trainer, the runners and the user were shown
  exec > >(tee "$TESTNET_DIR/demo.out")
  TEE_PID=$!
  say "4 authorities run the proof-of-authority ledger; nodes 4 and 5 are enclave runners, 6 a trainer, 7 an auditor, 8-13 data owners (Alice, Bob, Carol, Dave, Erin, Frank), 14 a user"
  local i
  for i in $(seq 0 $((n - 1))); do wait_until 60 "node $i's first block" height_at_least "$i" 1; done
  status
  say "the authorities (genie authorities)"
  g 0 authorities
  say "the two runners join room 'runners' (genie room join): the overlay keeps its links to room members when it rotates links, so the nodes that reach enclaves through a runner stay linked with it"
  g "$RUNNER1" room join runners
  g "$RUNNER2" room join runners
  local -A ACCT=() PHENO=() NID=()
  NID[$RUNNER1]=$(node_id "$RUNNER1") NID[$RUNNER2]=$(node_id "$RUNNER2")
  local VAL T1 T2 Q1 MEAS QMEAS REG_HEIGHT SPEC GENOME CANARY JOB MODEL MODEL_HASH PARTIES BUYID BAL0
  registration
  owners
  recruitment
  donation
  training
  queries
  settlement
  audit_trails
  canary
  say "demo done in ${SECONDS}s$( [ "${KEEP:-0}" = 1 ] && echo ': network left running (scripts/testnet.sh down to stop)')"
}

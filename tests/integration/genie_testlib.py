"""genie_testlib: shared helpers for genie's integration tests (python3 stdlib only).

An integration test starts real genie-node processes and drives them with the genie CLI
and raw JSON-RPC. This module gives it:

- from genie_proc.py (re-exported here): parse_args(), free_port(), wait_for(),
  run_cli(), the Node process and the Runner of named checks;
- multi-node helpers (free_ports, start_nodes, the link graph and hop distances);
- ledger helpers (LedgerNet, wait_heights, block_hash, place_key, run_ledger_steps);
- marketplace helpers, the world the enclave/data/market tests build on a LedgerNet:
  certified enclave runners and their registered enclaves (start_certified_runner,
  spawn_registered), nodes with accounts of their own (start_account_node), a trainer and
  its spec (start_trainer, register_spec), data (add_data), the recruitment offer reaching
  the owners (recruit_until_offered), donations, audit trails, balances, a funded user
  (start_funded_user) and the canary check (expect_no_canary);
- network namespaces for partition tests (root only) are in genie_netns.py.

Every wait is bounded; nothing here sleeps without a deadline.
"""

import json
import os
import shutil
import socket
import sys
import time

from genie_proc import (  # noqa: F401  (re-exported: tests import from genie_testlib)
    DEFAULT_TIMEOUT, START_TIMEOUT, HEIGHT_TIMEOUT, REG_TIMEOUT, OFFER_TIMEOUT, WAIT_S,
    parse_args, free_port, wait_for, file_mode, CliResult, run_cli, run_node_once, Node,
    Runner, expect, stop_clean)


# ---- multi-node helpers (p2p tests) ----

def free_ports(count, host="127.0.0.1"):
    """COUNT distinct TCP ports that were free a moment ago. Unlike COUNT calls to
    free_port(), which the kernel may answer with the same port twice, every socket
    stays bound until all are picked."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind((host, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def start_nodes(nodes, timeout=DEFAULT_TIMEOUT):
    """Starts every node of NODES at once, then waits until each answers on its control
    API (bounded by TIMEOUT per node). Returns NODES."""
    for n in nodes:
        n.start(wait=False)
    for n in nodes:
        n.wait_ready(timeout)
    return nodes


def port_taken(node):
    """True if NODE's last start failed because its listen port was taken (ports from
    free_port() can be handed to another process before the node binds them)."""
    return (not node.alive()) and "Address already in use" in node.log_tail(5)


def start_fresh(node, tries=3, timeout=DEFAULT_TIMEOUT):
    """Starts a node whose endpoint nobody knows yet; if its listen port turns out to be
    taken, retries on another free port (at most TRIES starts). Returns NODE."""
    for attempt in range(tries):
        try:
            return node.start(timeout=timeout)
        except RuntimeError:
            if attempt + 1 == tries or not port_taken(node):
                raise
            node.kill()
            node.listen = ["tcp://127.0.0.1:%d" % free_port()]
    return node


def read_log(node, method, room=None, timeout=DEFAULT_TIMEOUT):
    """Every message of NODE's "room_tail" (ROOM) or "inbox" log, paging with "after"
    (the node answers at most 512 per call). Returns the list of message objects."""
    out, after = [], 0
    for _ in range(10000):  # bound: 10000 pages of up to 512
        params = {"after": after}
        if room is not None:
            params["room"] = room
        page = node.call(method, params, timeout=timeout)["messages"]
        if not page:
            return out
        out.extend(page)
        after = page[-1]["seq"]
    raise RuntimeError("%s %s: more pages than expected" % (node.name, method))


def linked_graph(nodes):
    """Undirected graph of links as the nodes report them: {node_id: set(node_id)}, an
    edge when either end lists the other as "linked" in "peers". NODES maps node id to
    Node; nodes that do not answer contribute no edges."""
    graph = {nid: set() for nid in nodes}
    for nid, n in nodes.items():
        try:
            peers = n.call("peers", timeout=5.0)
        except (OSError, RuntimeError, ValueError):
            continue
        for p in peers:
            if p.get("linked"):
                graph[nid].add(p["id"])
                graph.setdefault(p["id"], set()).add(nid)
    return graph


def hop_distances(graph, src):
    """Breadth-first hop counts from SRC over GRAPH ({id: set(id)}): {id: hops}."""
    dist, frontier = {src: 0}, [src]
    while frontier:
        nxt = []
        for u in frontier:
            for v in graph.get(u, ()):
                if v not in dist:
                    dist[v] = dist[u] + 1
                    nxt.append(v)
        frontier = nxt
    return dist


def peers_dump(nodes, label=None):
    """Human summary of each node's linked peers, for failure messages. NODES maps node
    id to Node; LABEL(node_id) names an id (default: its first 8 hex digits)."""
    label = label or (lambda nid: nid[:8])
    lines = []
    for nid, n in nodes.items():
        try:
            peers = n.call("peers", timeout=5.0)
            linked = sorted(label(p["id"]) for p in peers if p.get("linked"))
            lines.append("  %s (%s): linked %s, known %d" % (n.name, label(nid),
                                                              " ".join(linked), len(peers)))
        except (OSError, RuntimeError, ValueError) as e:
            lines.append("  %s (%s): peers failed: %s" % (n.name, label(nid), e))
    return "\n".join(lines)


# ---- ledger helpers (ledger tests) ----

def ledger_head(node, timeout=5.0):
    """NODE's ledger head ({height, hash, state_root, time_ms}), or None if it does not
    answer."""
    try:
        return node.call("head", timeout=timeout)
    except (OSError, RuntimeError, ValueError):
        return None


def wait_heights(nodes, minimum, timeout=DEFAULT_TIMEOUT, what=None):
    """Waits until every node of NODES has a ledger head of at least MINIMUM; returns
    their heads (a list). Raises TimeoutError listing the heights seen."""
    last = {}

    def ok():
        for n in nodes:
            h = ledger_head(n)
            last[n.name] = h["height"] if h else None
        return all(v is not None and v >= minimum for v in last.values())

    try:
        wait_for(ok, timeout, interval=0.25, what=what or "height >= %d" % minimum)
    except TimeoutError as e:
        raise TimeoutError("%s; heights: %r" % (e, last))
    return [ledger_head(n) for n in nodes]


def block_hash(node, height, timeout=5.0):
    """Hash of NODE's block at HEIGHT, or None if it has none (or does not answer)."""
    try:
        return node.call("block", {"height": height}, timeout=timeout)["hash"]
    except (OSError, RuntimeError, ValueError, KeyError):
        return None


def place_key(key_path, datadir, name=None):
    """Copies the keystore KEY_PATH into DATADIR/accounts/ (as NAME, default its own name)
    with the modes a node insists on (0700 directories, 0600 file). Returns the copy's path."""
    acc = os.path.join(datadir, "accounts")
    os.makedirs(acc, mode=0o700, exist_ok=True)
    os.chmod(datadir, 0o700)
    dst = os.path.join(acc, name or os.path.basename(key_path))
    shutil.copyfile(key_path, dst)
    os.chmod(dst, 0o600)
    return dst


class LedgerNet:
    """A ledger testnet in a test's temporary directory: genesis files in DIR (written by
    `genie genesis new --out DIR`), and the nodes started so far."""

    def __init__(self, r):
        self.r = r
        self.dir = os.path.join(r.tmp, "genesis")
        self.genesis = os.path.join(self.dir, "genesis.json")
        self.nodes = []

    def new_genesis(self, authorities, **fields):
        """Writes a genesis of AUTHORITIES authorities and their keys into DIR (`genie
        genesis new`), then sets FIELDS (e.g. heartbeat_ms=2000) in genesis.json. Returns
        (the command's JSON answer, the genesis as written)."""
        c = run_cli(self.r.bindir, ["genesis", "new", "--authorities", str(authorities),
                                    "--out", self.dir], json_out=True)
        expect(c.returncode == 0 and c.json, "genesis new failed: %r" % c)
        with open(self.genesis) as f:
            g = json.load(f)
        g.update(fields)
        with open(self.genesis, "w") as f:
            json.dump(g, f)
        return c.json, g

    def start_authorities(self, count, timeout=DEFAULT_TIMEOUT):
        """Starts authority nodes auth1..authCOUNT, each with its authority-<i>.key from
        DIR and the previous one as its peer; appends them to nodes."""
        prev = None
        for i in range(1, count + 1):
            n = Node(self.r, "auth%d" % i, roles="authority", genesis=self.genesis,
                     peers=[prev.address()] if prev else [])
            place_key(os.path.join(self.dir, "authority-%d.key" % i), n.datadir)
            start_fresh(n, timeout=timeout)
            self.nodes.append(n)
            prev = n
        return self.nodes

    def start_attested(self, timeout=START_TIMEOUT, height_timeout=HEIGHT_TIMEOUT):
        """Writes a 1-authority genesis that names an attestation service (`genie genesis
        new`), starts the authority and waits for height 1. Returns (the attestation
        service's key file, the authority's account id)."""
        c = run_cli(self.r.bindir, ["genesis", "new", "--authorities", "1", "--out", self.dir],
                    json_out=True)
        expect(c.returncode == 0 and c.json, "genesis new failed: %r" % c)
        as_key = c.json["attestation_key"]
        self.start_authorities(1, timeout=timeout)
        wait_heights(self.nodes, 1, height_timeout)
        with open(self.genesis) as f:
            account = json.load(f)["authorities"][0]
        return as_key, account


def scan_for(top, needles, skip_dir=None):
    """Every file under TOP (except under SKIP_DIR) that holds one of NEEDLES (bytes): the
    canary scans of the data owner's tests. Returns (files scanned, [(path, index of the
    needle)])."""
    scanned, hits = 0, []
    skip = os.path.abspath(skip_dir) if skip_dir else None
    for root, dirs, files in os.walk(top):
        if skip and os.path.abspath(root) == skip:
            continue
        for name in files:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            scanned += 1
            hits += [(path, i) for i, n in enumerate(needles) if n in data]
    return scanned, hits


def expect_no_canary(top, canary, skip_dir, min_files=0, hex_too=True):
    """The canary check of the data tests: CANARY, a unique string planted in the owners'
    original files (kept under SKIP_DIR), is in no file under TOP but those (datadirs,
    stores, ledgers, logs, transcripts), as text nor, with HEX_TOO, hex-encoded (the way
    a runner at trace level logs what it relays). More than MIN_FILES files must have been
    scanned. Returns how many were."""
    needles = (canary.encode(), canary.encode().hex().encode()) if hex_too else \
        (canary.encode(),)
    scanned, found = scan_for(top, needles, skip_dir=skip_dir)
    hits = [(path, "hex" if i else "text") for path, i in found]
    expect(not hits, "the canary is in %r" % hits)
    expect(scanned > min_files, "too few files scanned (%d)" % scanned)
    return scanned


def run_ledger_steps(name, steps, argv=None):
    """The main of a test that runs named checks on one ledger testnet: parses the
    arguments, then runs each (what, fn) of STEPS as Runner.check(what, fn, net, st) with
    one LedgerNet and one state dict, stopping at the first that fails; exits with the
    Runner's status."""
    args = parse_args(argv)
    with Runner(name, args) as r:
        net = LedgerNet(r)
        st = {}
        for what, fn in steps:
            if r.check(what, fn, net, st) is None:
                break
    sys.exit(r.exit_code())


def attest_certify(r, as_key, platform_pk, runner, account, out):
    """`genie attest certify`: the attestation service's key file AS_KEY certifies
    PLATFORM_PK for runner name RUNNER and runner ACCOUNT for 30 days, into the file OUT.
    Returns the CliResult (checked: exit status 0)."""
    c = run_cli(r.bindir, ["attest", "certify", "--as-key", as_key, "--platform", platform_pk,
                           "--runner", runner, "--account", account, "--days", "30",
                           "--out", out], json_out=True)
    expect(c.returncode == 0, "certify: %r" % c)
    return c


# ---- marketplace helpers (enclave runners, trainers, data owners, users) ----
#
# The marketplace tests (test_market, test_donor_refusals, test_settle, test_train_query,
# test_data_owner, test_enclave_runner, test_recruit_late) build the same world on a
# LedgerNet made by start_attested(): enclave runners with certified platforms and
# registered enclaves, a trainer with a registered spec, data owners with accounts and
# data, users with funds. These are the shared steps; each checks what it does (`expect`)
# and every wait is bounded (START_TIMEOUT ... WAIT_S, at the top).


def new_account(r, node):
    """Makes a fresh account key (no passphrase) in NODE's datadir with `genie key new`
    (R: the Runner); the node signs with it once started. Returns the account id (hex)."""
    c = run_cli(r.bindir, ["--datadir", node.datadir, "key", "new", "--no-passphrase"],
                json_out=True)
    expect(c.returncode == 0 and c.json, "key new: %r" % c)
    return c.json["account_id"]


def start_account_node(net, name, roles, peers, height=None, extra=(), log_level="debug"):
    """Starts node NAME (ROLES, NET's genesis, linked to PEERS: addresses) with an account
    of its own (new_account) and, given HEIGHT, waits until its ledger reaches it (what it
    needs to see, e.g. the enclaves' registrations). Returns (node, account id)."""
    node = Node(net.r, name, roles=roles, genesis=net.genesis, peers=peers, extra=extra,
                log_level=log_level)
    account = new_account(net.r, node)
    start_fresh(node, timeout=START_TIMEOUT)
    if height is not None:
        wait_heights([node], height, HEIGHT_TIMEOUT)
    return node, account


def authority_account(net, index=0):
    """The account id of NET's authority INDEX (0-based), read from its genesis: the
    account whose key is DIR/authority-<INDEX+1>.key."""
    with open(net.genesis) as f:
        return json.load(f)["authorities"][index]


def certify_runner(net, node, as_key, certify_as, account):
    """Certifies NODE's simulated platform: reads its platform key (`genie enclave
    platform`), has the attestation service (key file AS_KEY) certify it for runner name
    CERTIFY_AS and runner ACCOUNT (attest_certify, into TMP/<node name>.cert), and installs
    the certificate (`genie enclave cert-install`, which must say certified). Returns the
    cert-install answer (JSON: certified, runner_account, ...) with "platform_pk" added."""
    c = node.cli("enclave", "platform")
    expect(c.returncode == 0 and c.json, "enclave platform: %r" % c)
    pk = c.json["platform_pk"]
    cert = os.path.join(net.r.tmp, node.name + ".cert")
    attest_certify(net.r, as_key, pk, certify_as, account, cert)
    c = node.cli("enclave", "cert-install", cert)
    expect(c.returncode == 0 and c.json and c.json["certified"] is True,
           "cert-install: %r" % c)
    c.json["platform_pk"] = pk
    return c.json


def start_runner(net, name, own_account=False, roles="enclave-runner", peers=None,
                 log_level="debug"):
    """Starts an enclave runner NAME (ROLES; linked to PEERS, default the first authority),
    its platform not yet certified. Its runner account is the first authority's (its key
    copied in) unless OWN_ACCOUNT, then a fresh one. At log level "trace" a runner logs the
    hex of every request and answer it relays (the canary checks read them). Returns
    (node, runner account id)."""
    node = Node(net.r, name, roles=roles, genesis=net.genesis, log_level=log_level,
                peers=peers if peers is not None else [net.nodes[0].address()])
    if own_account:
        account = new_account(net.r, node)
    else:
        place_key(os.path.join(net.dir, "authority-1.key"), node.datadir)
        account = authority_account(net)
    start_fresh(node, timeout=START_TIMEOUT)
    return node, account


def start_certified_runner(net, as_key, name, own_account=False, certify_as=None,
                           roles="enclave-runner", peers=None, log_level="debug"):
    """start_runner, then certify_runner: the runner's platform certified by the
    attestation service (key file AS_KEY) for runner name CERTIFY_AS (default NAME) and
    the runner's account. Returns (node, runner account id)."""
    node, account = start_runner(net, name, own_account, roles, peers, log_level)
    certify_runner(net, node, as_key, certify_as or name, account)
    return node, account


def enclave_local(runner, local):
    """RUNNER's `genie enclave local` entry of its enclave number LOCAL (local, kind, pid,
    status, restarts, id, measurement, registration, registered_height ...), or None."""
    c = runner.cli("enclave", "local")
    for e in (c.json or []) if c.returncode == 0 else []:
        if e["local"] == local:
            return e
    return None


def wait_registered(runner, local, not_id=None, timeout=REG_TIMEOUT):
    """Waits until RUNNER's enclave LOCAL runs and is registered on the ledger (a height
    above 0) under an id other than NOT_ID (a restarted enclave registers anew). Returns
    its enclave_local entry."""
    got = {}

    def ok():
        e = got["e"] = enclave_local(runner, local)
        return (e is not None and e["registration"] == "registered"
                and e["registered_height"] > 0 and e["id"] != not_id
                and e["status"] == "running")
    wait_for(ok, timeout=timeout, interval=0.2, what="%s's enclave %d registered"
             % (runner.name, local))
    return got["e"]


def spawn_registered(runner, kind, timeout=REG_TIMEOUT):
    """`genie enclave spawn KIND` on RUNNER (a certified runner), then waits until the
    runner has registered the enclave (wait_registered). Returns its enclave_local entry;
    the spawn answer (JSON) is under "spawn"."""
    c = runner.cli("enclave", "spawn", kind)
    expect(c.returncode == 0 and c.json, "spawn %s: %r" % (kind, c))
    e = wait_registered(runner, c.json["local"], timeout=timeout)
    e["spawn"] = c.json
    print("  %s: %s enclave %s... registered at height %d" %
          (runner.name, kind, e["id"][:16], e["registered_height"]))
    return e


def register_trainer(trainer, display_name):
    """`genie trainer register DISPLAY_NAME --wait` on TRAINER, tried again (every 0.5 s,
    30 s at most) while its node says it is still catching up ("behind" the network).
    Returns the CliResult (checked: exit status 0)."""
    got = {}

    def done():
        c = got["c"] = trainer.cli("trainer", "register", display_name, "--wait", WAIT_S)
        return c.returncode == 0 or "behind" not in c.stderr
    wait_for(done, timeout=30, interval=0.5, what="trainer register")
    expect(got["c"].returncode == 0, "trainer register: %r" % got["c"])
    return got["c"]


def start_trainer(net, peers, height, display_name="Acme Genomics", name="trainer"):
    """Starts a trainer node NAME (start_account_node: its own account, linked to PEERS,
    at HEIGHT at least) and registers it as trainer DISPLAY_NAME (register_trainer).
    Returns (node, account id, the register CliResult)."""
    node, account = start_account_node(net, name, "trainer", peers, height)
    return node, account, register_trainer(node, display_name)


def register_spec(trainer, measurement, features, label, min_donors, max_epsilon, price,
                  shares, model_type="logistic", purpose="research", aggregation="mean"):
    """`genie spec register ... --wait` on TRAINER: a MODEL_TYPE model for PURPOSE over
    FEATURES (comma separated) predicting LABEL, trained in enclaves of MEASUREMENT, with
    MIN_DONORS, MAX_EPSILON, AGGREGATION, a PRICE per query and SHARES (basis points for
    donors, trainer, runner, e.g. "6000,3000,1000"). Checks it committed; returns the
    answer (JSON: spec_id, status, tx_height ...)."""
    c = trainer.cli("spec", "register", "--model-type", model_type, "--purpose", purpose,
                    "--features", features, "--label", label, "--measurement", measurement,
                    "--min-donors", str(min_donors), "--max-epsilon", str(max_epsilon),
                    "--aggregation", aggregation, "--price", str(price), "--shares", shares,
                    "--wait", WAIT_S)
    expect(c.returncode == 0 and c.json and c.json["status"] == "committed",
           "spec register: %r" % c)
    return c.json


def add_data(owner, path, dtype, name=None, timeout=60.0):
    """`genie data add PATH --type DTYPE [--name NAME] --wait` on the data owner OWNER,
    tried again every second (TIMEOUT s at most) while it fails: a node started moments
    ago may not reach a validation enclave yet. Returns the last CliResult (exit status 0;
    its json has data_id, tx_status ...)."""
    got = {}
    args = ["data", "add", path, "--type", dtype] + (["--name", name] if name else [])

    def added():
        c = got["c"] = owner.cli(*args, "--wait", WAIT_S, timeout=120)
        if c.returncode != 0:
            print("  (not yet: %s)" % " ".join(c.error_lines()))
        return c.returncode == 0
    wait_for(added, timeout=timeout, interval=1.0, what="%s data add" % owner.name)
    return got["c"]


def offer_of(node, spec):
    """NODE's offer (`genie offers`) of SPEC, or None: trainer, spec, enclave, note,
    time_ms (the newest post's), and its records with their matching."""
    c = node.cli("offers")
    expect(c.returncode == 0 and isinstance(c.json, list), "offers: %r" % c)
    for o in c.json:
        if o["offer"] == spec:
            return o
    return None


def record_of(offer, data_id):
    """The row of record DATA_ID in OFFER (match, why, donated); it must be there once."""
    rows = [x for x in offer["records"] if x["data_id"] == data_id]
    expect(len(rows) == 1, "record %s not in the offer: %r" % (data_id, offer))
    return rows[0]


def recruit_until_offered(trainer, spec, owners, note=None, timeout=OFFER_TIMEOUT,
                          repost_every=5.0):
    """The recruitment step: `genie recruit SPEC [--note NOTE]` on TRAINER, then waits
    until every node of OWNERS holds the offer of the newest post (its time_ms), posting
    again every REPOST_EVERY seconds while one lacks it: a post that reaches an owner
    before its ledger holds the spec is refused by the recruitment room's policy, and the
    network does not send it again. Waiting for the newest post leaves no post of this
    step in flight. Returns (the newest post's answer (JSON: trainer, time_ms ...),
    {owner node name: its offer})."""
    state = {"post": None, "at": 0.0, "offers": {}}
    args = ["recruit", spec] + (["--note", note] if note is not None else [])

    def everyone():
        now = time.monotonic()
        if state["post"] is None or now - state["at"] >= repost_every:
            c = trainer.cli(*args)
            expect(c.returncode == 0 and c.json, "recruit: %r" % c)
            state["post"], state["at"] = c.json, now
        for n in owners:
            o = offer_of(n, spec)
            if o is None or o["time_ms"] < state["post"]["time_ms"]:
                return False
            state["offers"][n.name] = o
        return True
    wait_for(everyone, timeout=timeout, interval=0.2,
             what="the offer of %s... on %s" % (spec[:12], ", ".join(n.name for n in owners)))
    return state["post"], state["offers"]


def donate(owner, spec, *args):
    """`genie donate SPEC ARGS` on OWNER; its JSON is parsed also when it exits 1 (nothing
    donated: the reasons are in it). Returns the CliResult."""
    c = owner.cli("donate", spec, *args, timeout=120)
    if c.json is None and c.stdout.strip():
        try:
            c.json = json.loads(c.stdout)
        except ValueError:
            pass
    return c


def donors(node, spec):
    """How many donors NODE's ledger lists for SPEC (`genie spec list`)."""
    c = node.cli("spec", "list")
    expect(c.returncode == 0, "spec list: %r" % c)
    return [s for s in c.json if s["spec_id"] == spec][0]["donors"]


def audit_uses(node, data_id):
    """The uses of record DATA_ID in its owner NODE's audit trail (`genie audit`): a list
    of {use, actor, txid, height, spec_id ...}, oldest first."""
    c = node.cli("audit", data_id)
    expect(c.returncode == 0 and c.json is not None, "audit %s: %r" % (data_id, c))
    return c.json if isinstance(c.json, list) else c.json.get("uses", [])


def balance(node, account):
    """ACCOUNT's balance as NODE's ledger has it (`genie account`)."""
    c = node.cli("account", account)
    expect(c.returncode == 0 and c.json, "account: %r" % c)
    return c.json["balance"]


def start_funded_user(net, peers, height, amount, name="user"):
    """Starts a user node NAME with an account of its own (start_account_node, linked to
    PEERS, at HEIGHT at least) and funds it: the first authority transfers AMOUNT
    (committed), and the user's node waits until it sees that balance. Returns (node,
    account id)."""
    auth = net.nodes[0]
    user, account = start_account_node(net, name, "user", peers, height)
    c = auth.cli("tx", "transfer", account, str(amount), "--wait", WAIT_S)
    expect(c.returncode == 0, "transfer: %r" % c)
    wait_for(lambda: balance(user, account) == amount, timeout=HEIGHT_TIMEOUT, interval=0.2,
             what="%s's node sees its balance" % name)
    return user, account


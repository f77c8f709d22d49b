/*  node_config: genie-node's flags (see node_config.h).
 *
 *  Parsing is getopt_long with '+' (stop at the first non-option; argv is never
 *  permuted) and ':' (report a missing value ourselves); opterr is 0 so getopt prints
 *  nothing. Every message names the flag and the rule it broke. Endpoints are checked
 *  with the p2p layer's own rule (p2p_endpoint_ok), so what parses here also binds there.
 */
#include "node/app/node_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_record.h"
#include "proto/proto_hex.h"
#include "proto/proto_key.h"
#include "proto/proto_err.h"

struct node_config_t {
    node_config_action_t action;
    char *datadir;
    char *listen[NODE_MAX_LISTEN];
    size_t n_listen;
    char *peers[NODE_MAX_PEERS];
    size_t n_peers;
    uint32_t roles;
    bool roles_set;
    char *genesis;
    char *chain_name;
    char *rpc; /* NULL when off */
    bool rpc_set;
    proto_log_level_t log_level;
    bool log_level_set;
    char *log_file;
    uint32_t max_peers; /* 0 = default */
    char *validator_key;
    char *platform_cert;
    char *account;
    bool auto_donate;
};

static const char *const s_role_names[NODE_ROLE_COUNT] = {
    "authority", "data-owner", "trainer", "enclave-runner", "user", "auditor"};

enum {
    OPT_DATADIR = 256,
    OPT_LISTEN,
    OPT_PEER,
    OPT_ROLE,
    OPT_GENESIS,
    OPT_CHAIN_NAME,
    OPT_RPC,
    OPT_LOG_LEVEL,
    OPT_LOG_FILE,
    OPT_MAX_PEERS,
    OPT_VALIDATOR_KEY,
    OPT_PLATFORM_CERT,
    OPT_ACCOUNT,
    OPT_AUTO_DONATE,
    OPT_VERSION,
    OPT_HELP = 'h'
};

static const struct option s_options[] = {
    {"datadir", required_argument, NULL, OPT_DATADIR},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"peer", required_argument, NULL, OPT_PEER},
    {"role", required_argument, NULL, OPT_ROLE},
    {"genesis", required_argument, NULL, OPT_GENESIS},
    {"chain-name", required_argument, NULL, OPT_CHAIN_NAME},
    {"rpc", required_argument, NULL, OPT_RPC},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"log-file", required_argument, NULL, OPT_LOG_FILE},
    {"max-peers", required_argument, NULL, OPT_MAX_PEERS},
    {"validator-key", required_argument, NULL, OPT_VALIDATOR_KEY},
    {"platform-cert", required_argument, NULL, OPT_PLATFORM_CERT},
    {"account", required_argument, NULL, OPT_ACCOUNT},
    {"auto-donate", no_argument, NULL, OPT_AUTO_DONATE},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0}};

static const char s_help[] =
    "usage: genie-node --datadir DIR --listen tcp://IP:PORT [options]\n"
    "\n"
    "Runs one genie node: the p2p identity and links, the control API (JSON-RPC) used\n"
    "by the 'genie' CLI, and the roles chosen with --role.\n"
    "\n"
    "required:\n"
    "  --datadir DIR         node state: node.key, accounts/, chain_id, genesis.json,\n"
    "                        LOCK, rpc.addr and rpc.cookie. Created (mode 0700) if\n"
    "                        missing; one running node per datadir.\n"
    "  --listen tcp://IP:PORT\n"
    "                        endpoint to accept peers on (repeat for up to 4);\n"
    "                        HOST is an IPv4 address, a name or [IPv6], PORT 1-65535.\n"
    "\n"
    "options:\n"
    "  --peer NODEID@tcp://IP:PORT\n"
    "                        a node to connect to at start (repeat for up to 64).\n"
    "                        NODEID (64 hex) is the peer's id: links are CurveZMQ-\n"
    "                        encrypted to its key. 'genie status' on the peer prints\n"
    "                        its full address in exactly this form.\n"
    "  --role ROLES          comma list of: authority, data-owner, trainer,\n"
    "                        enclave-runner, user, auditor (default: user)\n"
    "  --genesis FILE        the ledger's genesis.json ('genie genesis new' writes\n"
    "                        one): the node keeps the chain in DIR/ledger and its\n"
    "                        chain id is the genesis's. Kept as DIR/genesis.json (used\n"
    "                        when --genesis is omitted later); a file that is not a\n"
    "                        valid ledger genesis is a start-up error.\n"
    "  --chain-name NAME     run the p2p layer only, on the network named NAME (chain\n"
    "                        id: BLAKE2b of NAME's bytes, see proto/PROTOCOL.md), with\n"
    "                        no ledger. Without --genesis, a stored genesis.json or\n"
    "                        --chain-name, the node runs p2p only on the built-in\n"
    "                        development network 'genie-devnet-v1'. Every role but 'user'\n"
    "                        needs a ledger.\n"
    "  --validator-key FILE  with --role authority: the authority's account keystore\n"
    "                        (passphrase from $GENIE_PASSPHRASE if encrypted). Default:\n"
    "                        the first unencrypted key in DIR/accounts/ that is an\n"
    "                        authority of the chain.\n"
    "  --platform-cert FILE  with --role enclave-runner: install FILE (the certificate\n"
    "                        'genie attest certify' issued for this runner's platform\n"
    "                        key) before spawning enclaves; it is kept in\n"
    "                        DIR/platform/. The platform key itself is made on first\n"
    "                        start (DIR/platform/platform.key, mode 0600). Enclaves\n"
    "                        are registered from the key in DIR/accounts/ that the\n"
    "                        certificate names as the runner account.\n"
    "  --account ID          the account (64 hex characters) whose key in DIR/accounts/\n"
    "                        signs the txs the node makes itself (data-owner, trainer:\n"
    "                        data registration, consent, donations; passphrase from\n"
    "                        $GENIE_PASSPHRASE if encrypted). Default: the only account\n"
    "                        key in DIR/accounts/, if there is exactly one.\n"
    "  --auto-donate         data-owner: donate each record once to each new offer its\n"
    "                        consent allows (the checks of 'genie donate')\n"
    "  --rpc 127.0.0.1:PORT  control API address (default 127.0.0.1:0: a free port,\n"
    "                        written to DIR/rpc.addr). Loopback only. 'off' disables it.\n"
    "  --log-level LEVEL     error, warn, info, debug or trace (default: info)\n"
    "  --log-file FILE       append the log to FILE instead of stderr\n"
    "  --max-peers N         links kept with other nodes, 1-256 (default 32; the node\n"
    "                        dials up to min(N, 8) itself). Short-lived links opened\n"
    "                        for lookups and direct messages may add up to 8 more.\n"
    "  -h, --help            print this help and exit\n"
    "  --version             print the version and exit\n"
    "\n"
    "Stop the node with SIGINT, SIGTERM or 'genie --datadir DIR stop'.\n"
    "Exit status: 0 after a clean stop, 1 on a start-up error, 2 on a usage error.\n";

node_config_t *node_config_new(void)
{
    node_config_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->action = NODE_CONFIG_RUN;
    self->roles = NODE_ROLE_DEFAULT;
    self->log_level = LOG_LVL_INFO;
    self->rpc = strdup("127.0.0.1:0");
    if (!self->rpc) {
        free(self);
        return NULL;
    }
    return self;
}

void node_config_destroy(node_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_config_t *self = *self_p;
    free(self->datadir);
    for (size_t i = 0; i < self->n_listen; i++)
        free(self->listen[i]);
    for (size_t i = 0; i < self->n_peers; i++)
        free(self->peers[i]);
    free(self->genesis);
    free(self->chain_name);
    free(self->rpc);
    free(self->log_file);
    free(self->validator_key);
    free(self->platform_cert);
    free(self->account);
    free(self);
    *self_p = NULL;
}

/*  Decimal port in [0, 65535] (for --rpc, where 0 asks for a free port). */
static bool s_port_ok(const char *text)
{
    size_t n = strlen(text);
    if (n == 0 || n > 5)
        return false;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)text[i]))
            return false;
        v = v * 10 + (unsigned long)(text[i] - '0');
    }
    return v <= 65535;
}

/*  "NODEID@tcp://HOST:PORT" with a 64-hex-digit node id. */
static int s_peer_check(const char *text, char *err, size_t err_cap)
{
    uint8_t id[PROTO_PUBKEY_LEN];
    char ep[P2P_ENDPOINT_MAX];
    switch (p2p_address_parse(text, id, ep)) {
    case 0:
        return 0;
    case P2P_E_ADDR_ID:
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "--peer '%s': the node id before '@' must be 64 hex characters "
                              "(the peer's 'genie status' prints its full address)",
                              text);
    case P2P_E_ADDR_ENDPOINT:
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "--peer '%s': the endpoint after '@' must look like tcp://IP:PORT "
                              "(PORT 1-65535)",
                              text);
    default:
        return proto_err_fail(
            err, err_cap, NODE_E_FAILED,
            "--peer '%s' must be NODEID@tcp://IP:PORT (NODEID: 64 hex characters)", text);
    }
}

/*  --rpc: "off", or a loopback IPv4 address (127.0.0.0/8) or "localhost" and a port.
 *  Sets *out to a new string ("127.0.0.1:PORT" form) or NULL for off. */
static int s_rpc_parse(const char *text, char **out, char *err, size_t err_cap)
{
    *out = NULL;
    if (strcmp(text, "off") == 0)
        return 0;
    const char *colon = strrchr(text, ':');
    if (!colon || !s_port_ok(colon + 1))
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "--rpc '%s' must be 127.0.0.1:PORT or 'off'", text);
    char host[64];
    size_t host_len = (size_t)(colon - text);
    if (host_len == 0 || host_len >= sizeof host)
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "--rpc '%s' must be 127.0.0.1:PORT or 'off'", text);
    memcpy(host, text, host_len);
    host[host_len] = '\0';
    struct in_addr addr;
    bool loopback = false;
    if (strcmp(host, "localhost") == 0) {
        snprintf(host, sizeof host, "127.0.0.1");
        loopback = true;
    } else if (inet_pton(AF_INET, host, &addr) == 1) {
        loopback = (ntohl(addr.s_addr) >> 24) == 127;
    }
    if (!loopback)
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "--rpc '%s' is not a loopback address: the control API only listens "
                              "on 127.0.0.1 (or use --rpc off)",
                              text);
    size_t n = strlen(host) + 1 + strlen(colon + 1) + 1;
    *out = malloc(n);
    if (!*out)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
    snprintf(*out, n, "%s:%s", host, colon + 1);
    return 0;
}

int node_config_roles_parse(const char *text, uint32_t *roles, char *err, size_t err_cap)
{
    uint32_t mask = 0;
    const char *p = text;
    if (*p == '\0')
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "--role needs at least one role (authority, data-owner, "
                              "trainer, enclave-runner, user, auditor)");
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int found = -1;
        for (int i = 0; i < NODE_ROLE_COUNT; i++) {
            if (strlen(s_role_names[i]) == len && strncmp(p, s_role_names[i], len) == 0)
                found = i;
        }
        if (found < 0)
            return proto_err_fail(err, err_cap, NODE_E_FAILED,
                                  "unknown role '%.*s' in --role (roles: authority, data-owner, "
                                  "trainer, enclave-runner, user, auditor)",
                                  (int)(len > 64 ? 64 : len), p);
        mask |= 1u << found;
        if (!end)
            break;
        p = end + 1;
    }
    *roles = mask;
    return 0;
}

const char *node_config_role_name(uint32_t role)
{
    for (int i = 0; i < NODE_ROLE_COUNT; i++)
        if (role == (1u << i))
            return s_role_names[i];
    return NULL;
}

/*  Stores a copy of VALUE in *slot, refusing a second occurrence of the flag. */
static int s_set_once(char **slot, const char *flag, const char *value, char *err, size_t err_cap)
{
    if (*slot)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "%s given twice", flag);
    if (value[0] == '\0')
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "%s needs a non-empty value", flag);
    *slot = strdup(value);
    return *slot ? 0 : proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
}

static int s_listen_add(node_config_t *self, const char *value, char *err, size_t err_cap)
{
    if (!p2p_endpoint_ok(value))
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "--listen '%s' must look like tcp://IP:PORT (PORT 1-65535)", value);
    if (self->n_listen == NODE_MAX_LISTEN)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "too many --listen (at most %d)",
                              NODE_MAX_LISTEN);
    for (size_t i = 0; i < self->n_listen; i++)
        if (strcmp(self->listen[i], value) == 0)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "--listen '%s' given twice", value);
    self->listen[self->n_listen] = strdup(value);
    if (!self->listen[self->n_listen])
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
    self->n_listen++;
    return 0;
}

static int s_peer_add(node_config_t *self, const char *value, char *err, size_t err_cap)
{
    if (s_peer_check(value, err, err_cap) != 0)
        return NODE_E_FAILED;
    if (self->n_peers == NODE_MAX_PEERS)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "too many --peer (at most %d)",
                              NODE_MAX_PEERS);
    for (size_t i = 0; i < self->n_peers; i++)
        if (strcmp(self->peers[i], value) == 0)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "--peer '%s' given twice", value);
    self->peers[self->n_peers] = strdup(value);
    if (!self->peers[self->n_peers])
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
    self->n_peers++;
    return 0;
}

/*  Name of the long option written in TOKEN ("--name" or "--name=value"), for messages. */
static void s_token_name(const char *token, char *out, size_t cap)
{
    size_t len = strcspn(token, "=");
    if (len > 64)
        len = 64;
    snprintf(out, cap, "%.*s", (int)len, token);
}

/*  Applies one recognised option. */
static int s_apply(node_config_t *self, int opt, const char *value, char *err, size_t err_cap)
{
    switch (opt) {
    case OPT_DATADIR:
        return s_set_once(&self->datadir, "--datadir", value, err, err_cap);
    case OPT_LISTEN:
        return s_listen_add(self, value, err, err_cap);
    case OPT_PEER:
        return s_peer_add(self, value, err, err_cap);
    case OPT_ROLE:
        if (self->roles_set)
            return proto_err_fail(err, err_cap, NODE_E_FAILED,
                                  "--role given twice (use one comma list)");
        self->roles_set = true;
        return node_config_roles_parse(value, &self->roles, err, err_cap);
    case OPT_GENESIS:
        if (self->chain_name)
            return proto_err_fail(err, err_cap, NODE_E_FAILED,
                                  "--genesis and --chain-name exclude each other");
        return s_set_once(&self->genesis, "--genesis", value, err, err_cap);
    case OPT_CHAIN_NAME:
        if (self->genesis)
            return proto_err_fail(err, err_cap, NODE_E_FAILED,
                                  "--genesis and --chain-name exclude each other");
        if (!*value || strlen(value) > 64)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "--chain-name wants 1 to 64 bytes");
        return s_set_once(&self->chain_name, "--chain-name", value, err, err_cap);
    case OPT_RPC: {
        if (self->rpc_set)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "--rpc given twice");
        self->rpc_set = true;
        char *rpc = NULL;
        if (s_rpc_parse(value, &rpc, err, err_cap) != 0)
            return NODE_E_FAILED;
        free(self->rpc);
        self->rpc = rpc;
        return 0;
    }
    case OPT_LOG_LEVEL:
        if (self->log_level_set)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "--log-level given twice");
        self->log_level_set = true;
        if (proto_log_level_parse(value, &self->log_level) != 0)
            return proto_err_fail(err, err_cap, NODE_E_FAILED,
                                  "--log-level '%s' is not one of error, warn, info, debug, trace",
                                  value);
        return 0;
    case OPT_LOG_FILE:
        return s_set_once(&self->log_file, "--log-file", value, err, err_cap);
    case OPT_MAX_PEERS: {
        if (self->max_peers)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "--max-peers given twice");
        char *end = NULL;
        long v = strtol(value, &end, 10);
        if (!*value || *end || v < 1 || v > 256)
            return proto_err_fail(err, err_cap, NODE_E_FAILED,
                                  "--max-peers '%s' is not a number from 1 to 256", value);
        self->max_peers = (uint32_t)v;
        return 0;
    }
    case OPT_VALIDATOR_KEY:
        return s_set_once(&self->validator_key, "--validator-key", value, err, err_cap);
    case OPT_PLATFORM_CERT:
        return s_set_once(&self->platform_cert, "--platform-cert", value, err, err_cap);
    case OPT_ACCOUNT: {
        uint8_t id[32];
        if (strlen(value) != 64 || proto_hex_decode(value, id, sizeof id) != 0)
            return proto_err_fail(err, err_cap, NODE_E_FAILED,
                                  "--account '%s' is not an account id (64 hex characters)", value);
        return s_set_once(&self->account, "--account", value, err, err_cap);
    }
    case OPT_AUTO_DONATE:
        self->auto_donate = true;
        return 0;
    default:
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "internal error: unhandled option");
    }
}

int node_config_parse(node_config_t *self, int argc, char *const argv[], char *err, size_t err_cap)
{
    if (!self || argc < 1 || !argv)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "internal error: no arguments");
    optind = 0; /* glibc: full re-initialisation, so parse may run more than once */
    opterr = 0;
    for (;;) {
        int index = -1;
        int opt = getopt_long(argc, argv, "+:h", s_options, &index);
        if (opt == -1)
            break;
        const char *token = argv[optind - 1] ? argv[optind - 1] : "";
        char name[80];
        if (opt == '?') {
            if (strncmp(token, "--", 2) == 0) {
                s_token_name(token, name, sizeof name);
                if (strchr(token, '=') && optopt != 0)
                    return proto_err_fail(err, err_cap, NODE_E_FAILED, "option '%s' takes no value",
                                          name);
                return proto_err_fail(err, err_cap, NODE_E_FAILED, "unknown option '%s'", name);
            }
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "unknown option '-%c'",
                                  optopt ? optopt : '?');
        }
        if (opt == ':') {
            s_token_name(token, name, sizeof name);
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "option '%s' needs a value", name);
        }
        /* getopt_long accepts unambiguous abbreviations ("--data"); we accept only the
         * names --help documents. */
        if (index >= 0) {
            const char *flag =
                (optarg && optind >= 2 && optarg == argv[optind - 1]) ? argv[optind - 2] : token;
            s_token_name(flag, name, sizeof name);
            if (strcmp(name + 2, s_options[index].name) != 0)
                return proto_err_fail(err, err_cap, NODE_E_FAILED,
                                      "unknown option '%s' (did you mean '--%s'?)", name,
                                      s_options[index].name);
        }
        if (opt == OPT_HELP) {
            self->action = NODE_CONFIG_HELP;
            return 0;
        }
        if (opt == OPT_VERSION) {
            self->action = NODE_CONFIG_VERSION;
            return 0;
        }
        /* "--datadir --listen x": getopt takes "--listen" as the value; say so. */
        if (optarg && strncmp(optarg, "--", 2) == 0 && index >= 0)
            return proto_err_fail(err, err_cap, NODE_E_FAILED,
                                  "option '--%s' needs a value (got '%s')", s_options[index].name,
                                  optarg);
        if (s_apply(self, opt, optarg ? optarg : "", err, err_cap) != 0)
            return NODE_E_FAILED;
    }
    if (optind < argc)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "unexpected argument '%s'",
                              argv[optind]);
    if (!self->datadir)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "--datadir DIR is required");
    if (self->n_listen == 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "--listen tcp://IP:PORT is required");
    return 0;
}

const char *node_config_help(void)
{
    return s_help;
}

node_config_action_t node_config_action(const node_config_t *self)
{
    return self->action;
}

const char *node_config_datadir(const node_config_t *self)
{
    return self->datadir;
}

size_t node_config_listen_count(const node_config_t *self)
{
    return self->n_listen;
}

const char *node_config_listen(const node_config_t *self, size_t i)
{
    return i < self->n_listen ? self->listen[i] : NULL;
}

size_t node_config_peer_count(const node_config_t *self)
{
    return self->n_peers;
}

const char *const *node_config_peers(const node_config_t *self)
{
    return (const char *const *)self->peers;
}

uint32_t node_config_roles(const node_config_t *self)
{
    return self->roles;
}

const char *node_config_genesis(const node_config_t *self)
{
    return self->genesis;
}

const char *node_config_rpc(const node_config_t *self)
{
    return self->rpc;
}

proto_log_level_t node_config_log_level(const node_config_t *self)
{
    return self->log_level;
}

uint32_t node_config_max_peers(const node_config_t *self)
{
    return self->max_peers;
}

const char *node_config_log_file(const node_config_t *self)
{
    return self->log_file;
}

const char *node_config_chain_name(const node_config_t *self)
{
    return self->chain_name;
}

const char *node_config_validator_key(const node_config_t *self)
{
    return self->validator_key;
}

const char *node_config_platform_cert(const node_config_t *self)
{
    return self->platform_cert;
}

const char *node_config_account(const node_config_t *self)
{
    return self->account;
}

bool node_config_auto_donate(const node_config_t *self)
{
    return self->auto_donate;
}

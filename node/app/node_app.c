/*  node_app: start-up, event loop, RPC method table and shutdown of genie-node
 *  (see node_app.h).
 *
 *  Signals: CZMQ's handler (zsys_catch_interrupts) is installed for both SIGINT and
 *  SIGTERM; it sets zsys_interrupted and, when it lands on the main thread, interrupts
 *  zmq_poll so zloop_start returns. A signal delivered to another thread (libmicrohttpd's)
 *  only sets the flag, so a short periodic timer also checks it.
 */
#include "node/app/node_app.h"

#include "node/service/node_enclave.h"
#include "node/service/node_enclave_relay.h"
#include "node/service/node_ledger.h"
#include "node/service/node_market.h"
#include "node/service/node_settle_rpc.h"
#include "node/service/node_p2p.h"
#include "node/service/node_query.h"
#include "node/service/node_train.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node/rpc/node_rpc.h"
#include "node/service/node_account.h"
#include "node/service/node_data.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_err.h"

_Static_assert(NODE_MAX_LISTEN == P2P_MAX_LISTEN, "listen limits must agree");
_Static_assert(NODE_ENDPOINT_MAX == P2P_ENDPOINT_MAX, "endpoint limits must agree");

#define GENESIS_DOMAIN "genie/genesis/v1"
#define GENESIS_DEV "genie-devnet-v1"
#define GENESIS_MAX (16u * 1024 * 1024)
#define INTERRUPT_CHECK_MS 1000
/* "stop" replies first: the loop keeps running this long so the HTTP answer is written
 * before the RPC server is torn down. */
#define STOP_DELAY_MS 200

typedef struct {
    char name[NODE_APP_METHOD_NAME_MAX];
    node_app_method_fn *fn;
    node_app_prepare_fn *prepare; /* NULL: none */
    bool binary;                  /* the step takes the request's binary part */
} s_method_t;

struct node_app_t {
    const node_config_t *cfg;
    node_datadir_t *datadir;
    proto_key_t *key;
    char node_id[2 * PROTO_PUBKEY_LEN + 1];
    uint8_t chain_id[PROTO_HASH_LEN];
    uint8_t *genesis; /* genesis file bytes, NULL for the built-in dev genesis */
    size_t genesis_len;
    zloop_t *loop;
    p2p_node_t *p2p;
    node_p2p_t *p2p_state;       /* room logs and inbox behind the p2p RPC methods */
    ledger_genesis_t *lgenesis;  /* the parsed ledger genesis until the ledger takes it */
    node_ledger_t *ledger;       /* NULL: no ledger genesis, p2p only */
    node_enclave_t *enclave;     /* NULL unless --role enclave-runner */
    node_enclave_relay_t *relay; /* enclave calls by p2p unicast */
    proto_key_t *account;        /* the account the node signs its own txs with, or NULL */
    node_data_t *data;           /* NULL unless --role data-owner */
    node_market_t *market;       /* recruitment, offers, donation */
    node_train_t *train;         /* training jobs this runner coordinates (runners) */
    node_query_t *query;         /* paid queries: runner and user sides (with a ledger) */
    node_rpc_t *rpc;
    s_method_t methods[NODE_APP_METHODS_MAX];
    size_t n_methods;
    struct timespec started;
    bool stopping;
};

/* ---------------------------------------------------------------- RPC methods */

static json_t *s_rpc_status(node_app_t *self, const char *method, json_t *params, int *err_code,
                            char *err_msg, size_t err_cap)
{
    json_t *roles = json_array();
    json_t *listen = json_array();
    uint32_t mask = node_config_roles(self->cfg);
    for (int i = 0; i < NODE_ROLE_COUNT; i++)
        if (mask & (1u << i))
            json_array_append_new(roles, json_string(node_config_role_name(1u << i)));
    size_t n = self->p2p ? p2p_node_listen_count(self->p2p) : 0;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(listen, json_string(p2p_node_listen_endpoint(self->p2p, i)));
    char address[2 * PROTO_PUBKEY_LEN + 1 + P2P_ENDPOINT_MAX + 1] = "";
    if (n > 0)
        snprintf(address, sizeof address, "%s@%s", self->node_id,
                 p2p_node_listen_endpoint(self->p2p, 0));
    char chain[2 * PROTO_HASH_LEN + 1];
    proto_hex_encode(self->chain_id, sizeof self->chain_id, chain);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    json_int_t uptime = (json_int_t)(now.tv_sec - self->started.tv_sec);

    json_t *result =
        json_pack("{s:s, s:s, s:o, s:o, s:s, s:I, s:s, s:I}", "node_id", self->node_id, "address",
                  address, "roles", roles, "listen", listen, "chain_id", chain, "uptime_s", uptime,
                  "version", NODE_VERSION, "pid", (json_int_t)getpid());
    if (!result) {
        *err_code = NODE_RPC_E_INTERNAL;
        snprintf(err_msg, err_cap, "out of memory");
        return NULL;
    }
    const char *names[P2P_REC_ROOMS];
    size_t n_rooms = self->p2p ? p2p_node_rooms(self->p2p, names, P2P_REC_ROOMS) : 0;
    json_t *rooms = json_array();
    for (size_t i = 0; i < n_rooms; i++)
        json_array_append_new(rooms, json_string(names[i]));
    json_object_set_new(result, "rooms", rooms);
    return result;
}

static json_t *s_rpc_stop(node_app_t *self, const char *method, json_t *params, int *err_code,
                          char *err_msg, size_t err_cap)
{
    GLOG(INFO, NODE, "stop requested over RPC");
    node_app_stop(self);
    return json_pack("{s:b}", "stopping", 1);
}

/*  The method table. A new method: its handler above (or in another file, declared in
 *  that file's header) and one line here. */
static int s_methods_register(node_app_t *self)
{
    static int (*const services[])(node_app_t *) = {
        node_p2p_register,           node_ledger_register, node_enclave_register,
        node_enclave_relay_register, node_data_register,   node_market_register,
        node_settle_register,        node_train_register,  node_query_register};
    int rc = node_app_method_add(self, "status", s_rpc_status);
    if (rc == 0)
        rc = node_app_method_add(self, "stop", s_rpc_stop);
    for (size_t i = 0; i < sizeof services / sizeof services[0] && rc == 0; i++)
        rc = services[i](self); /* the first failure's code */
    return rc;
}

int node_app_method_add(node_app_t *self, const char *name, node_app_method_fn *fn)
{
    return node_app_method_add_prepared(self, name, fn, NULL);
}

int node_app_methods_add(node_app_t *self, const node_app_method_t *table, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = node_app_method_add(self, table[i].name, table[i].fn);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int node_app_method_add_prepared(node_app_t *self, const char *name, node_app_method_fn *fn,
                                 node_app_prepare_fn *prepare)
{
    return node_app_method_add_binary(self, name, fn, prepare, false);
}

int node_app_method_add_binary(node_app_t *self, const char *name, node_app_method_fn *fn,
                               node_app_prepare_fn *prepare, bool binary)
{
    if (!self || (binary && !prepare) || self->rpc || !name || !fn ||
        strlen(name) >= NODE_APP_METHOD_NAME_MAX || name[0] == '\0')
        return NODE_E_PARAMS;
    if (self->n_methods == NODE_APP_METHODS_MAX)
        return NODE_E_FULL;
    for (size_t i = 0; i < self->n_methods; i++)
        if (strcmp(self->methods[i].name, name) == 0)
            return NODE_E_EXISTS;
    s_method_t *m = &self->methods[self->n_methods++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->fn = fn;
    m->prepare = prepare;
    m->binary = binary;
    return 0;
}

static const s_method_t *s_method_find(const node_app_t *self, const char *method)
{
    for (size_t i = 0; method && i < self->n_methods; i++)
        if (strcmp(self->methods[i].name, method) == 0)
            return &self->methods[i];
    return NULL;
}

/*  node_rpc's prepare step, on an HTTP thread: the method's own, if it has one. A binary
 *  part (*ATT on entry) reaches only a step added as taking one; for any other method it
 *  is left in place, which node_rpc refuses (-32602), so a step that makes its own
 *  attachment cannot drop it unseen. The table is read-only once the RPC server runs. */
static int s_rpc_prepare(void *ctx, const char *method, json_t *params, json_t **new_params,
                         void **att, size_t *att_len, int *err_code, char *err_msg, size_t err_cap)
{
    const s_method_t *m = s_method_find(ctx, method);
    if (!m || !m->prepare || (*att && !m->binary))
        return 0;
    return m->prepare(ctx, params, new_params, att, att_len, err_code, err_msg, err_cap);
}

const void *node_app_rpc_attachment(const node_app_t *self, size_t *len)
{
    return node_rpc_attachment(self->rpc, len);
}

uint64_t node_app_rpc_defer(node_app_t *self)
{
    return self->rpc ? node_rpc_defer(self->rpc) : 0;
}

int node_app_rpc_complete(node_app_t *self, uint64_t token, json_t *result, int code,
                          const char *message)
{
    if (!self->rpc) {
        json_decref(result);
        return NODE_E_NOT_FOUND;
    }
    return node_rpc_complete(self->rpc, token, result, code, message);
}

/*  node_rpc's handler: looks METHOD up in the table. */
static json_t *s_rpc_handler(void *ctx, const char *method, json_t *params, int *err_code,
                             char *err_msg, size_t err_cap)
{
    node_app_t *self = ctx;
    const s_method_t *m = s_method_find(self, method);
    if (m) {
        GLOG(DEBUG, RPC, "rpc %s", method);
        return m->fn(self, method, params, err_code, err_msg, err_cap);
    }
    *err_code = NODE_RPC_E_METHOD;
    snprintf(err_msg, err_cap, "method not found: %.64s", method);
    return NULL;
}

/* ---------------------------------------------------------------- loop handlers */

static int s_on_rpc(zloop_t *loop, zsock_t *sock, void *arg)
{
    node_app_t *self = arg;
    node_rpc_dispatch(self->rpc);
    return 0;
}

static int s_on_interrupt_check(zloop_t *loop, int timer_id, void *arg)
{
    return zsys_interrupted ? -1 : 0;
}

static int s_on_stop(zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

void node_app_stop(node_app_t *self)
{
    if (!self || self->stopping)
        return;
    self->stopping = true;
    if (zloop_timer(self->loop, STOP_DELAY_MS, 1, s_on_stop, self) < 0)
        zsys_interrupted = 1; /* cannot happen short of OOM; the check timer ends the loop */
}

/* ---------------------------------------------------------------- start-up */

/*  Parses the genesis bytes as a ledger genesis.json into self->lgenesis. Anything else
 *  (random bytes, an empty or truncated file, a JSON file that is not a genesis) is a
 *  start-up error naming SOURCE and the reason: a node given a genesis runs its ledger or
 *  does not start. */
static int s_ledger_genesis(node_app_t *self, const char *source, char *err, size_t err_cap)
{
    char msg[512];
    if (ledger_genesis_parse((const char *)self->genesis, self->genesis_len, &self->lgenesis, msg,
                             sizeof msg) == LEDGER_OK)
        return 0;
    return proto_err_fail(err, err_cap, NODE_E_FAILED, "%s is not a valid ledger genesis: %s",
                          source, msg);
}

/*  Roles other than 'user' act on the ledger: without one they are a start-up error. */
static int s_roles_check(node_app_t *self, char *err, size_t err_cap)
{
    uint32_t roles = node_config_roles(self->cfg) & ~(uint32_t)NODE_ROLE_USER;
    if (self->lgenesis || !roles)
        return 0;
    for (uint32_t bit = 1; bit; bit <<= 1)
        if (roles & bit)
            return proto_err_fail(err, err_cap, NODE_E_FAILED,
                                  "--role %s needs a ledger: start the node with --genesis FILE "
                                  "(the network's genesis.json)",
                                  node_config_role_name(bit));
    return 0;
}

/*  Reads and parses the --genesis file, if one was given, and checks the roles against
 *  it, before anything is created on disk: a bad genesis or a role without a ledger
 *  leaves no datadir behind. (A stored DIR/genesis.json is read by s_chain_setup.) */
static int s_genesis_read(node_app_t *self, char *err, size_t err_cap)
{
    char msg[512], source[NODE_DATADIR_PATH_MAX + 16];
    const char *given = node_config_genesis(self->cfg);
    if (!given) {
        struct stat st;
        char stored[NODE_DATADIR_PATH_MAX];
        snprintf(stored, sizeof stored, "%s/genesis.json", node_config_datadir(self->cfg));
        if (node_config_chain_name(self->cfg) || stat(stored, &st) != 0)
            return s_roles_check(self, err, err_cap);
        return 0;
    }
    if (node_datadir_read_file(given, GENESIS_MAX, &self->genesis, &self->genesis_len, msg,
                               sizeof msg) != 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot use --genesis: %s", msg);
    snprintf(source, sizeof source, "--genesis %s", given);
    if (s_ledger_genesis(self, source, err, err_cap) != 0)
        return NODE_E_FAILED;
    return s_roles_check(self, err, err_cap);
}

/*  Chain id from --genesis, else DIR/genesis.json, else --chain-name, else the built-in
 *  development network; then binds the datadir to it (a newly given genesis is copied to
 *  DIR/genesis.json). */
static int s_chain_setup(node_app_t *self, char *err, size_t err_cap)
{
    char msg[512];
    char stored[NODE_DATADIR_PATH_MAX];
    char given[NODE_DATADIR_PATH_MAX + 16];
    const char *source = NULL;
    const char *name = node_config_chain_name(self->cfg);
    bool from_store = false;

    snprintf(stored, sizeof stored, "%s/genesis.json", node_datadir_path(self->datadir));
    if (self->genesis) {
        snprintf(given, sizeof given, "--genesis %s", node_config_genesis(self->cfg));
        source = given;
    } else if (!name) {
        if (node_datadir_read_file(stored, GENESIS_MAX, &self->genesis, &self->genesis_len, msg,
                                   sizeof msg) == 0) {
            from_store = true;
            source = stored;
        } else if (errno != ENOENT) {
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "%s", msg);
        }
    }
    if (from_store && s_ledger_genesis(self, source, err, err_cap) != 0)
        return NODE_E_FAILED;
    if (from_store && s_roles_check(self, err, err_cap) != 0)
        return NODE_E_FAILED;
    if (self->lgenesis) {
        memcpy(self->chain_id, ledger_genesis_chain_id(self->lgenesis), sizeof self->chain_id);
    } else {
        source = name ? "--chain-name" : "built-in development network";
        if (!name)
            name = GENESIS_DEV;
        proto_hash(GENESIS_DOMAIN, (const uint8_t *)name, strlen(name), self->chain_id);
    }
    if (node_datadir_chain_bind(self->datadir, self->chain_id, from_store ? NULL : self->genesis,
                                self->genesis_len, err, err_cap) != 0)
        return NODE_E_FAILED;
    char hex[2 * PROTO_HASH_LEN + 1];
    proto_hex_encode(self->chain_id, sizeof self->chain_id, hex);
    if (self->lgenesis)
        GLOG(INFO, NODE, "chain id %s (ledger genesis from %s)", hex, source);
    else
        GLOG(WARN, NODE, "chain id %s (%s): this node runs without a ledger", hex, source);
    return 0;
}

static int s_p2p_start(node_app_t *self, char *err, size_t err_cap)
{
    p2p_config_t pcfg;
    memset(&pcfg, 0, sizeof pcfg);
    pcfg.key = self->key;
    pcfg.n_listen = node_config_listen_count(self->cfg);
    for (size_t i = 0; i < pcfg.n_listen; i++)
        pcfg.listen[i] = node_config_listen(self->cfg, i);
    pcfg.seeds = node_config_peers(self->cfg);
    pcfg.n_seeds = node_config_peer_count(self->cfg);
    memcpy(pcfg.chain_id, self->chain_id, sizeof pcfg.chain_id);
    pcfg.roles = node_config_roles(self->cfg);
    pcfg.max_peers = node_config_max_peers(self->cfg);
    pcfg.datadir = node_datadir_path(self->datadir);
    self->p2p_state = node_p2p_new();
    if (!self->p2p_state)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
    node_p2p_callbacks(self->p2p_state, &pcfg.cb);
    node_p2p_set_ledger(self->p2p_state, self->ledger);
    self->relay = node_enclave_relay_new(self);
    if (!self->relay)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
    node_p2p_set_enclave(self->p2p_state, node_enclave_relay_on_unicast, self->relay);
    self->p2p = p2p_node_new(&pcfg, self->loop, err, err_cap);
    if (!self->p2p)
        return NODE_E_FAILED;
    return 0;
}

/*  Loads the node account (node_account.h) when the node has a ledger: --account must
 *  name a key that opens; without it, a missing, ambiguous or unopenable key is only a
 *  warning for the roles that sign their own txs (their methods then answer
 *  NODE_E_NO_ACCOUNT). */
static int s_account_setup(node_app_t *self, char *err, size_t err_cap)
{
    if (!self->ledger)
        return 0;
    const char *want = node_config_account(self->cfg);
    char msg[512] = "";
    int rc =
        node_account_load(node_datadir_path(self->datadir), want, &self->account, msg, sizeof msg);
    if (rc != 0 && want)
        return proto_err_fail(err, err_cap, rc, "%s", msg);
    char hex[65];
    if (self->account) {
        proto_hex_encode(proto_key_public(self->account), 32, hex);
        GLOG(INFO, NODE, "txs this node makes are signed by account %s", hex);
    } else if (node_config_roles(self->cfg) & (NODE_ROLE_DATA_OWNER | NODE_ROLE_TRAINER)) {
        GLOG(WARN, NODE, "no account for the txs this node makes: %s", msg);
    }
    return 0;
}

node_data_t *node_app_data(node_app_t *self)
{
    return self->data;
}

const proto_key_t *node_app_account(node_app_t *self)
{
    return self->account;
}

static int s_rpc_start(node_app_t *self, char *err, size_t err_cap)
{
    const char *bind = node_config_rpc(self->cfg);
    if (!bind) {
        GLOG(INFO, RPC, "control API disabled (--rpc off)");
        return 0;
    }
    char msg[512];
    self->rpc = node_rpc_new_prepared(bind, node_datadir_path(self->datadir), s_rpc_handler,
                                      s_rpc_prepare, self, msg, sizeof msg);
    if (!self->rpc)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot start the control API on %s: %s",
                              bind, msg);
    if (zloop_reader(self->loop, node_rpc_socket(self->rpc), s_on_rpc, self) != 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "cannot register the control API on the event loop");
    return 0;
}

static int s_identity_setup(node_app_t *self, char *err, size_t err_cap)
{
    bool created = false;
    if (node_datadir_node_key(self->datadir, &self->key, &created, err, err_cap) != 0)
        return NODE_E_FAILED;
    proto_hex_encode(proto_key_public(self->key), PROTO_PUBKEY_LEN, self->node_id);
    char tag[9];
    snprintf(tag, sizeof tag, "%.8s", self->node_id);
    proto_log_set_tag(tag);
    GLOG(INFO, NODE, "node id %s (%s)", self->node_id,
         created ? "new key written to node.key" : "loaded from node.key");
    return 0;
}

node_app_t *node_app_new(const node_config_t *cfg, char *err, size_t err_cap)
{
    node_app_t *self = calloc(1, sizeof *self);
    if (!self) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
        return NULL;
    }
    self->cfg = cfg;
    clock_gettime(CLOCK_MONOTONIC, &self->started);

    proto_log_set_level(node_config_log_level(cfg));
    const char *log_file = node_config_log_file(cfg);
    if (log_file && proto_log_set_file(log_file) != 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot open log file %s: %s", log_file,
                       strerror(errno));
        goto err;
    }
    if (proto_crypto_init() != 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot initialise libsodium");
        goto err;
    }
    /* Broken pipes are reported by write(); never let one kill the node. */
    signal(SIGPIPE, SIG_IGN);
    if (!zsys_init()) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot initialise ZeroMQ");
        goto err;
    }
    zsys_catch_interrupts(); /* SIGINT and SIGTERM, even with ZSYS_SIGHANDLER=false */
    GLOG(INFO, NODE, "genie-node %s starting, pid %ld", NODE_VERSION, (long)getpid());

    if (s_genesis_read(self, err, err_cap) != 0)
        goto err;
    self->datadir = node_datadir_open(node_config_datadir(cfg), err, err_cap);
    if (!self->datadir)
        goto err;
    if (s_identity_setup(self, err, err_cap) != 0)
        goto err;
    if (s_chain_setup(self, err, err_cap) != 0)
        goto err;
    if (s_methods_register(self) != 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "internal error: cannot register RPC methods");
        goto err;
    }
    self->loop = zloop_new();
    if (!self->loop) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot create the event loop");
        goto err;
    }
    if (zloop_timer(self->loop, INTERRUPT_CHECK_MS, 0, s_on_interrupt_check, self) < 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot create a timer");
        goto err;
    }
    if (self->lgenesis && !(self->ledger = node_ledger_new(self, &self->lgenesis, err, err_cap)))
        goto err;
    if (s_p2p_start(self, err, err_cap) != 0)
        goto err;
    if (self->ledger && node_ledger_start(self->ledger, err, err_cap) != 0)
        goto err;
    if ((node_config_roles(cfg) & NODE_ROLE_ENCLAVE_RUNNER) &&
        !(self->enclave = node_enclave_new(self, err, err_cap)))
        goto err;
    if (s_account_setup(self, err, err_cap) != 0)
        goto err;
    if ((node_config_roles(cfg) & NODE_ROLE_DATA_OWNER) &&
        !(self->data = node_data_new(self, node_datadir_path(self->datadir), err, err_cap)))
        goto err;
    if (!(self->market = node_market_new(self, err, err_cap)))
        goto err;
    node_p2p_set_market(self->p2p_state, self->market);
    if (self->enclave && !(self->train = node_train_new(self, err, err_cap)))
        goto err;
    if (self->ledger && !(self->query = node_query_new(self, err, err_cap)))
        goto err;
    if (s_rpc_start(self, err, err_cap) != 0)
        goto err;
    return self;
err:
    if (log_file && err) /* on stderr the main prints it; a log file should have it too */
        GLOG(ERROR, NODE, "start-up failed: %s", err);
    node_app_destroy(&self);
    return NULL;
}

int node_app_run(node_app_t *self)
{
    GLOG(INFO, NODE, "node %s running", self->node_id);
    /* Returns when a signal interrupts it or a timer returns -1 (stop, or the interrupt
     * check); every way out is a clean stop. */
    (void)zloop_start(self->loop);
    GLOG(INFO, NODE, "stopping (%s)", self->stopping ? "stop requested" : "signal");
    return 0;
}

void node_app_destroy(node_app_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_app_t *self = *self_p;
    bool started = self->loop != NULL;
    p2p_node_destroy(&self->p2p);
    /* the RPC server before the ledger: its HTTP threads' prepare steps read the ledger */
    if (self->rpc && self->loop)
        zloop_reader_end(self->loop, node_rpc_socket(self->rpc));
    node_data_destroy(&self->data); /* answers the data_add calls still waiting */
    node_rpc_destroy(&self->rpc);
    node_enclave_destroy(&self->enclave); /* stops the enclaves; before the ledger */
    node_ledger_destroy(&self->ledger);
    ledger_genesis_destroy(&self->lgenesis);
    node_p2p_destroy(&self->p2p_state);
    node_enclave_relay_destroy(&self->relay);
    node_market_destroy(&self->market); /* after the relay: no answer can reach it now */
    node_train_destroy(&self->train);   /* likewise; before the loop (its timer) */
    node_query_destroy(&self->query);
    zloop_destroy(&self->loop);
    node_datadir_destroy(&self->datadir);
    proto_key_destroy(&self->key);
    proto_key_destroy(&self->account);
    free(self->genesis);
    if (started)
        GLOG(INFO, NODE, "shutdown complete");
    free(self);
    *self_p = NULL;
}

const node_config_t *node_app_config(const node_app_t *self)
{
    return self->cfg;
}

zloop_t *node_app_loop(node_app_t *self)
{
    return self->loop;
}

p2p_node_t *node_app_p2p(node_app_t *self)
{
    return self->p2p;
}

node_p2p_t *node_app_p2p_state(node_app_t *self)
{
    return self->p2p_state;
}

node_ledger_t *node_app_ledger(node_app_t *self)
{
    return self->ledger;
}

node_enclave_t *node_app_enclave(node_app_t *self)
{
    return self->enclave;
}

node_market_t *node_app_market(node_app_t *self)
{
    return self->market;
}

node_train_t *node_app_train(node_app_t *self)
{
    return self->train;
}

node_query_t *node_app_query(node_app_t *self)
{
    return self->query;
}

node_enclave_relay_t *node_app_enclave_relay(node_app_t *self)
{
    return self->relay;
}

const proto_key_t *node_app_key(const node_app_t *self)
{
    return self->key;
}

node_datadir_t *node_app_datadir(node_app_t *self)
{
    return self->datadir;
}

const char *node_app_node_id(const node_app_t *self)
{
    return self->node_id;
}

const uint8_t *node_app_chain_id(const node_app_t *self)
{
    return self->chain_id;
}

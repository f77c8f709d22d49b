/*  node_cli_ledger: CLI commands of the ledger.
 *
 *    genesis new --authorities N --out DIR [--balance AMOUNT] [--chain-name NAME]
 *        writes DIR/genesis.json and the keys (ledger_genesis_create); no node needed.
 *    tx transfer TO AMOUNT [--from ACCOUNT_ID] [--wait SEC] [--passphrase-file FILE]
 *        signs a transfer locally with an account key of DATADIR/accounts/ (the only one,
 *        or --from), with the nonce the node's `account` method gives as next_nonce and
 *        the chain id of its `status`; submits it with tx_submit; --wait polls tx_status
 *        until it is committed. An encrypted key's passphrase comes from FILE, else
 *        $GENIE_PASSPHRASE, else the terminal.
 *    tx status TXID | account ID | head | block HEIGHT|HASH | authorities
 *        read the node's ledger over RPC.
 *    ledger proof TXID [--out FILE]
 *        the inclusion proof of a committed tx (RPC ledger_proof): with --out written to
 *        FILE as raw bytes (mode 0644, FILE must not exist), else printed as hex.
 *    ledger verify-proof FILE --genesis GENESIS.json
 *        checks a proof offline, as a light client of the chain of GENESIS.json would
 *        (ledger_light.h: the genesis authority set; no node needed): FILE holds the raw
 *        proof or its hex; prints the txid, height, block time and tx type; exit 1 with
 *        the reason when it does not verify.
 *  Every command prints JSON with --json.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_light.h"
#include "ledger/ledger_proof.h"
#include "node/cli/node_cli.h"
#include "node/app/node_datadir.h"
#include "proto/proto_hex.h"
#include "proto/proto_keystore.h"

#define KV_WIDTH 12
#define PASS_MAX 1024
#define POLL_MS 200
#define DEFAULT_BALANCE UINT64_C(1000000000)
#define DEFAULT_CHAIN_NAME "genie-testnet"

static int s_parse_id(const char *text, uint8_t out[static 32])
{
    return strlen(text) == 64 && proto_hex_decode(text, out, 32) == 0 ? 0 : NODE_E_PARAMS;
}

/*  Runs METHOD with PARAMS (stolen) and prints the result with --json, else PRINT(result). */
static int s_call_print(node_cli_t *cli, const char *method, json_t *params,
                        void (*print)(const json_t *))
{
    json_t *r = NULL;
    int rc = node_cli_call(cli, method, params, &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli))
        node_cli_print_json(r);
    else
        print(r);
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- genesis new */

int node_cli_cmd_genesis_new(node_cli_t *cli, int argc, char **argv)
{
    const char *n_text = NULL, *out = NULL, *bal_text = NULL, *name = NULL;
    const node_cli_opt_t opts[] = {{"--authorities", &n_text, NULL},
                                   {"--out", &out, NULL},
                                   {"--balance", &bal_text, NULL},
                                   {"--chain-name", &name, NULL},
                                   {NULL, NULL, NULL}};
    if (node_cli_opts("genesis new", argc, argv, opts, NULL, 0, NULL) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    if (!name)
        name = DEFAULT_CHAIN_NAME;
    uint64_t n = 0, balance = DEFAULT_BALANCE;
    if (!n_text || node_cli_parse_u64(n_text, &n) != 0 || n < 1 || n > LEDGER_AUTHORITIES_MAX)
        return node_cli_usage("'genesis new' needs --authorities N (1-%d)", LEDGER_AUTHORITIES_MAX);
    if (!out)
        return node_cli_usage("'genesis new' needs --out DIR");
    if (bal_text && (node_cli_parse_u64(bal_text, &balance) != 0 || balance > (uint64_t)INT64_MAX ||
                     balance > UINT64_MAX / n))
        return node_cli_usage("--balance wants an integer 0..2^63-1 (total within 2^64-1)");
    if (mkdir(out, 0700) != 0 && errno != EEXIST)
        return node_cli_fail("cannot create %s: %s", out, strerror(errno));
    char err[512];
    ledger_genesis_t *g = NULL;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t time_ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
    int rc = ledger_genesis_create(out, name, (size_t)n, balance, time_ms, &g, err, sizeof err);
    if (rc != LEDGER_OK)
        return node_cli_fail("genesis new: %s", err);
    char chain[65];
    proto_hex_encode(ledger_genesis_chain_id(g), 32, chain);
    char path[NODE_DATADIR_PATH_MAX];
    if (node_cli_json(cli)) {
        json_t *j = json_object();
        json_t *keys = json_array();
        for (uint64_t i = 1; i <= n; i++) {
            snprintf(path, sizeof path, "%s/authority-%" PRIu64 ".key", out, i);
            json_array_append_new(keys, json_string(path));
        }
        json_object_set_new(j, "chain_id", json_string(chain));
        json_object_set_new(j, "chain_name", json_string(name));
        snprintf(path, sizeof path, "%s/genesis.json", out);
        json_object_set_new(j, "genesis", json_string(path));
        json_object_set_new(j, "authority_keys", keys);
        snprintf(path, sizeof path, "%s/attestation.key", out);
        json_object_set_new(j, "attestation_key", json_string(path));
        json_object_set_new(j, "balance", json_integer((json_int_t)balance));
        node_cli_print_json(j);
        json_decref(j);
    } else {
        node_cli_print_kv(KV_WIDTH, "chain id", "%s", chain);
        node_cli_print_kv(KV_WIDTH, "chain name", "%s", name);
        node_cli_print_kv(KV_WIDTH, "genesis", "%s/genesis.json", out);
        for (uint64_t i = 1; i <= n; i++)
            node_cli_print_kv(KV_WIDTH, "authority",
                              "%s/authority-%" PRIu64 ".key (balance %" PRIu64 ")", out, i,
                              balance);
        node_cli_print_kv(KV_WIDTH, "attestation", "%s/attestation.key", out);
        printf("\nEach authority node needs its authority-<i>.key in DATADIR/accounts/ and\n"
               "--role authority --genesis %s/genesis.json.\n",
               out);
    }
    ledger_genesis_destroy(&g);
    return NODE_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- keys */

/*  Passphrase of an encrypted key: FILE's first line, else $GENIE_PASSPHRASE, else asked
 *  on the terminal. */
static int s_passphrase(const char *file, const char *keyfile, char *pass, size_t cap)
{
    if (file) {
        int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            return node_cli_fail("cannot read passphrase file %s: %s", file, strerror(errno));
        int rc = node_cli_read_line(fd, pass, cap, &(size_t){0});
        close(fd);
        return rc == 0 ? NODE_CLI_EXIT_OK : node_cli_fail("cannot read a passphrase from %s", file);
    }
    const char *env = getenv("GENIE_PASSPHRASE");
    if (env && env[0]) {
        if (strlen(env) >= cap)
            return node_cli_fail("GENIE_PASSPHRASE is too long");
        memcpy(pass, env, strlen(env) + 1);
        return NODE_CLI_EXIT_OK;
    }
    if (!isatty(STDIN_FILENO))
        return node_cli_fail("%s is encrypted: give --passphrase-file FILE or set "
                             "GENIE_PASSPHRASE",
                             keyfile);
    struct termios old, quiet;
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return node_cli_fail("cannot read the terminal: %s", strerror(errno));
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    fprintf(stderr, "passphrase for %s: ", keyfile);
    fflush(stderr);
    (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    int rc = node_cli_read_line(STDIN_FILENO, pass, cap, &(size_t){0});
    (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    return rc == 0 ? NODE_CLI_EXIT_OK : node_cli_fail("cannot read the passphrase");
}

/*  Loads the account key FROM (hex; NULL: the only account key) of DATADIR into *key
 *  (node_cli.h). */
int node_cli_account_key(const char *datadir, const char *from, const char *pass_file,
                         proto_key_t **key)
{
    node_datadir_keyinfo_t *list = NULL;
    size_t n = 0;
    char err[512];
    uint8_t want[32];
    if (from && s_parse_id(from, want) != 0)
        return node_cli_usage("--from wants an account id (64 hex characters)");
    if (node_datadir_key_list(datadir, &list, &n, err, sizeof err) != 0)
        return node_cli_fail("%s", err);
    const node_datadir_keyinfo_t *pick = NULL;
    size_t accounts = 0;
    for (size_t i = 0; i < n; i++) {
        if (list[i].rc != PROTO_OK || list[i].info.kind != PROTO_KS_ACCOUNT)
            continue;
        accounts++;
        if (from ? memcmp(list[i].info.pub, want, 32) == 0 : !pick)
            pick = &list[i];
    }
    int rc = NODE_CLI_EXIT_OK;
    if (!pick || (!from && accounts > 1)) {
        if (!pick && from)
            rc = node_cli_fail("no key for account %s in %s/accounts/", from, datadir);
        else if (!pick)
            rc = node_cli_fail("no account key in %s/accounts/ ('genie key new' makes one)",
                               datadir);
        else
            rc = node_cli_usage("%s/accounts/ holds %zu account keys: choose one with --from ID",
                                datadir, accounts);
        free(list);
        return rc;
    }
    char pass[PASS_MAX];
    memset(pass, 0, sizeof pass);
    if (pick->info.encrypted)
        rc = s_passphrase(pass_file, pick->path, pass, sizeof pass);
    if (rc == NODE_CLI_EXIT_OK) {
        int ks = proto_keystore_load(pick->path, pick->info.encrypted ? pass : NULL, key, NULL);
        if (ks != PROTO_OK)
            rc = node_cli_fail("%s: %s", pick->path, proto_keystore_strerror(ks));
    }
    sodium_memzero(pass, sizeof pass);
    free(list);
    return rc;
}

/* ---------------------------------------------------------------- tx */

/*  Polls tx_status for TXID until committed or WAIT_S pass (node_cli.h). */
int node_cli_wait_committed(node_cli_t *cli, const char *txid, long wait_s, json_t **result)
{
    for (long waited = 0;; waited += POLL_MS) {
        json_t *r = NULL;
        int rc = node_cli_call(cli, "tx_status", json_pack("{s:s}", "txid", txid), &r);
        if (rc != NODE_CLI_EXIT_OK)
            return rc;
        if (strcmp(node_cli_jstr(r, "status"), "committed") == 0 || waited >= wait_s * 1000) {
            *result = r;
            return NODE_CLI_EXIT_OK;
        }
        json_decref(r);
        node_cli_sleep_ms(POLL_MS);
    }
}

/*  Loads the keystore file PATH into *KEY (node_cli.h). */
int node_cli_key_file(const char *path, const char *pass_file, proto_key_t **key)
{
    proto_ks_info_t info;
    int ks = proto_keystore_inspect(path, &info);
    if (ks != PROTO_OK)
        return node_cli_fail("%s: %s", path, proto_keystore_strerror(ks));
    if (info.kind != PROTO_KS_ACCOUNT)
        return node_cli_fail("%s is not an account key", path);
    char pass[PASS_MAX];
    memset(pass, 0, sizeof pass);
    int rc = info.encrypted ? s_passphrase(pass_file, path, pass, sizeof pass) : NODE_CLI_EXIT_OK;
    if (rc == NODE_CLI_EXIT_OK) {
        ks = proto_keystore_load(path, info.encrypted ? pass : NULL, key, NULL);
        if (ks != PROTO_OK)
            rc = node_cli_fail("%s: %s", path, proto_keystore_strerror(ks));
    }
    sodium_memzero(pass, sizeof pass);
    return rc;
}

/*  Signs with KEY, submits and optionally waits for a tx (node_cli.h). */
int node_cli_tx_submit_key(node_cli_t *cli, const proto_key_t *key, uint64_t wait_s,
                           node_cli_tx_build_fn *build, const void *ctx, node_cli_tx_t *out)
{
    memset(out, 0, sizeof *out);
    json_t *st = NULL, *acct = NULL, *sub = NULL;
    uint8_t *tx = NULL;
    char *hex = NULL;
    int rc;
    proto_hex_encode(proto_key_public(key), 32, out->account);
    if ((rc = node_cli_call(cli, "status", NULL, &st)) != NODE_CLI_EXIT_OK ||
        (rc = node_cli_call(cli, "account", json_pack("{s:s}", "id", out->account), &acct)) !=
            NODE_CLI_EXIT_OK)
        goto out;
    uint8_t chain[32];
    json_t *nn = json_object_get(acct, "next_nonce");
    if (s_parse_id(node_cli_jstr(st, "chain_id"), chain) != 0 || !json_is_integer(nn) ||
        json_integer_value(nn) < 0) {
        rc = node_cli_fail("malformed answer from the node");
        goto out;
    }
    out->nonce = (uint64_t)json_integer_value(nn);
    size_t len = 0;
    tx = build(ctx, key, chain, out->nonce, &len);
    hex = tx ? malloc(2 * len + 1) : NULL;
    if (!hex) {
        rc = node_cli_fail("cannot build the transaction");
        goto out;
    }
    proto_hex_encode(tx, len, hex);
    if ((rc = node_cli_call(cli, "tx_submit", json_pack("{s:s}", "tx", hex), &sub)) !=
        NODE_CLI_EXIT_OK)
        goto out;
    const char *txid = node_cli_jstr(sub, "txid");
    if (!(out->txid = strdup(txid))) {
        rc = node_cli_fail("out of memory");
        goto out;
    }
    if (wait_s) {
        if ((rc = node_cli_wait_committed(cli, txid, (long)wait_s, &out->done)) != NODE_CLI_EXIT_OK)
            goto out;
        if (strcmp(node_cli_jstr(out->done, "status"), "committed") != 0)
            rc = node_cli_fail("tx %s not committed after %" PRIu64 " s (status %s)", txid, wait_s,
                               node_cli_jstr(out->done, "status"));
    }
out:
    free(tx);
    free(hex);
    json_decref(st);
    json_decref(acct);
    json_decref(sub);
    return rc;
}

/*  Signs with a datadir account key, submits and optionally waits for a tx (node_cli.h). */
int node_cli_tx_sign_submit(node_cli_t *cli, const char *command, const char *from,
                            const char *pass_file, uint64_t wait_s, node_cli_tx_build_fn *build,
                            const void *ctx, node_cli_tx_t *out)
{
    memset(out, 0, sizeof *out);
    const char *datadir = NULL;
    int rc = node_cli_need_datadir(cli, command, &datadir);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    proto_key_t *key = NULL;
    if ((rc = node_cli_account_key(datadir, from, pass_file, &key)) == NODE_CLI_EXIT_OK)
        rc = node_cli_tx_submit_key(cli, key, wait_s, build, ctx, out);
    proto_key_destroy(&key);
    return rc;
}

void node_cli_tx_clear(node_cli_tx_t *tx)
{
    free(tx->txid);
    json_decref(tx->done);
    memset(tx, 0, sizeof *tx);
}

typedef struct {
    uint8_t to[32];
    uint64_t amount;
} s_transfer_t;

static uint8_t *s_build_transfer(const void *ctx, const proto_key_t *key, const uint8_t chain[32],
                                 uint64_t nonce, size_t *len)
{
    const s_transfer_t *t = ctx;
    return ledger_contract_transfer_tx(key, chain, nonce, t->to, t->amount, len);
}

int node_cli_cmd_tx_transfer(node_cli_t *cli, int argc, char **argv)
{
    const char *pos[2];
    int npos = 0;
    const char *from = NULL, *wait_text = NULL, *pass_file = NULL;
    const node_cli_opt_t opts[] = {{"--from", &from, NULL},
                                   {"--wait", &wait_text, NULL},
                                   {"--passphrase-file", &pass_file, NULL},
                                   {NULL, NULL, NULL}};
    if (node_cli_opts("tx transfer", argc, argv, opts, pos, 2, &npos) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    uint8_t to[32];
    uint64_t amount = 0, wait_s = 0;
    if (npos != 2)
        return node_cli_usage("'tx transfer' needs TO AMOUNT");
    if (s_parse_id(pos[0], to) != 0)
        return node_cli_usage("TO must be an account id (64 hex characters)");
    if (node_cli_parse_u64(pos[1], &amount) != 0 || amount == 0)
        return node_cli_usage("AMOUNT must be a positive integer");
    if (wait_text && (node_cli_parse_u64(wait_text, &wait_s) != 0 || wait_s < 1 || wait_s > 3600))
        return node_cli_usage("--wait wants seconds (1-3600)");
    s_transfer_t tr = {.amount = amount};
    memcpy(tr.to, to, 32);
    node_cli_tx_t tx = {0};
    int rc = node_cli_tx_sign_submit(cli, "tx transfer", from, pass_file, wait_s, s_build_transfer,
                                     &tr, &tx);
    if (rc != NODE_CLI_EXIT_OK)
        goto out;
    const char *txid = tx.txid, *id = tx.account;
    json_t *done = tx.done;
    if (node_cli_json(cli)) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I}", "txid", txid, "from", id, "to", pos[0],
                              "amount", (json_int_t)amount, "nonce", (json_int_t)tx.nonce);
        if (done)
            json_object_set(j, "status", json_object_get(done, "status"));
        else
            json_object_set_new(j, "status", json_string("pending"));
        if (done) {
            json_object_set(j, "height", json_object_get(done, "height"));
            json_object_set(j, "index", json_object_get(done, "index"));
        }
        node_cli_print_json(j);
        json_decref(j);
    } else {
        node_cli_print_kv(KV_WIDTH, "txid", "%s", txid);
        node_cli_print_kv(KV_WIDTH, "from", "%s", id);
        node_cli_print_kv(KV_WIDTH, "nonce", "%" PRIu64, tx.nonce);
        if (done)
            node_cli_print_kv(KV_WIDTH, "committed",
                              "height %" JSON_INTEGER_FORMAT ", index %" JSON_INTEGER_FORMAT,
                              node_cli_jint(done, "height"), node_cli_jint(done, "index"));
        else
            node_cli_print_kv(KV_WIDTH, "status", "submitted");
    }
out:
    node_cli_tx_clear(&tx);
    return rc;
}

static void s_print_tx_status(const json_t *r)
{
    node_cli_print_kv(KV_WIDTH, "txid", "%s", node_cli_jstr(r, "txid"));
    const char *st = node_cli_jstr(r, "status");
    if (json_is_string(json_object_get(r, "replaced_by")))
        node_cli_print_kv(KV_WIDTH, "status", "replaced by %s (%s)",
                          node_cli_jstr(r, "replaced_by"), node_cli_jstr(r, "reason"));
    else if (json_is_string(json_object_get(r, "reason")))
        node_cli_print_kv(KV_WIDTH, "status", "%s (%s)", st, node_cli_jstr(r, "reason"));
    else
        node_cli_print_kv(KV_WIDTH, "status", "%s", st);
    if (json_is_integer(json_object_get(r, "height"))) {
        node_cli_print_kv(KV_WIDTH, "height", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "height"));
        node_cli_print_kv(KV_WIDTH, "index", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "index"));
    }
}

int node_cli_cmd_tx_status(node_cli_t *cli, int argc, char **argv)
{
    uint8_t id[32];
    if (argc != 1 || s_parse_id(argv[0], id) != 0)
        return node_cli_usage("'tx status' needs TXID (64 hex characters)");
    return s_call_print(cli, "tx_status", json_pack("{s:s}", "txid", argv[0]), s_print_tx_status);
}

/* ---------------------------------------------------------------- reads */

static void s_print_account(const json_t *r)
{
    node_cli_print_kv(KV_WIDTH, "account", "%s", node_cli_jstr(r, "id"));
    node_cli_print_kv(KV_WIDTH, "balance", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "balance"));
    node_cli_print_kv(KV_WIDTH, "nonce", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "nonce"));
    node_cli_print_kv(KV_WIDTH, "next nonce", "%" JSON_INTEGER_FORMAT,
                      node_cli_jint(r, "next_nonce"));
}

int node_cli_cmd_account(node_cli_t *cli, int argc, char **argv)
{
    uint8_t id[32];
    if (argc != 1 || s_parse_id(argv[0], id) != 0)
        return node_cli_usage("'account' needs ID (64 hex characters)");
    return s_call_print(cli, "account", json_pack("{s:s}", "id", argv[0]), s_print_account);
}

static void s_print_head(const json_t *r)
{
    node_cli_print_kv(KV_WIDTH, "height", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "height"));
    node_cli_print_kv(KV_WIDTH, "hash", "%s", node_cli_jstr(r, "hash"));
    node_cli_print_kv(KV_WIDTH, "state root", "%s", node_cli_jstr(r, "state_root"));
    node_cli_print_kv(KV_WIDTH, "time ms", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "time_ms"));
}

int node_cli_cmd_head(node_cli_t *cli, int argc, char **argv)
{
    if (argc > 0)
        return node_cli_usage("'head' takes no arguments (got '%s')", argv[0]);
    return s_call_print(cli, "head", NULL, s_print_head);
}

static void s_print_block(const json_t *r)
{
    s_print_head(r);
    node_cli_print_kv(KV_WIDTH, "prev hash", "%s", node_cli_jstr(r, "prev_hash"));
    node_cli_print_kv(KV_WIDTH, "proposer", "%s", node_cli_jstr(r, "proposer"));
    node_cli_print_kv(KV_WIDTH, "round", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "round"));
    node_cli_print_kv(KV_WIDTH, "tx root", "%s", node_cli_jstr(r, "tx_root"));
    node_cli_print_kv(KV_WIDTH, "size", "%" JSON_INTEGER_FORMAT " bytes", node_cli_jint(r, "size"));
    const json_t *cert = json_object_get(r, "certificate");
    if (json_is_object(cert))
        node_cli_print_kv(KV_WIDTH, "certificate",
                          "round %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT " signers",
                          node_cli_jint(cert, "round"), node_cli_jint(cert, "signers"));
    else
        node_cli_print_kv(KV_WIDTH, "certificate", "none (genesis)");
    node_cli_print_kv(KV_WIDTH, "txs", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "tx_count"));
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(r, "txids"), i, t) printf("  %s\n", json_string_value(t));
}

int node_cli_cmd_block(node_cli_t *cli, int argc, char **argv)
{
    uint64_t height = 0;
    uint8_t hash[32];
    if (argc != 1)
        return node_cli_usage("'block' needs HEIGHT or HASH");
    json_t *params;
    if (node_cli_parse_u64(argv[0], &height) == 0 && height <= (uint64_t)INT64_MAX &&
        strlen(argv[0]) < 64)
        params = json_pack("{s:I}", "height", (json_int_t)height);
    else if (s_parse_id(argv[0], hash) == 0)
        params = json_pack("{s:s}", "hash", argv[0]);
    else
        return node_cli_usage("'block' needs HEIGHT (a number) or HASH (64 hex characters)");
    return s_call_print(cli, "block", params, s_print_block);
}

static void s_print_authorities(const json_t *r)
{
    size_t i;
    json_t *a;
    json_array_foreach(r, i, a) puts(json_string_value(a));
}

int node_cli_cmd_authorities(node_cli_t *cli, int argc, char **argv)
{
    if (argc > 0)
        return node_cli_usage("'authorities' takes no arguments (got '%s')", argv[0]);
    return s_call_print(cli, "authorities", NULL, s_print_authorities);
}

/* ---------------------------------------------------------------- proofs */

/*  Writes LEN bytes of BUF to the new file PATH (0644). 0, or NODE_E_IO with errno set. */
static int s_write_new(const char *path, const uint8_t *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0)
        return NODE_E_IO;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, buf + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            unlink(path);
            errno = e;
            return NODE_E_IO;
        }
        off += (size_t)n;
    }
    if (close(fd) != 0) {
        unlink(path);
        return NODE_E_IO;
    }
    return 0;
}

int node_cli_cmd_ledger_proof(node_cli_t *cli, int argc, char **argv)
{
    const char *out = NULL, *pos[1];
    int n_pos = 0;
    const node_cli_opt_t opts[] = {{"--out", &out, NULL}, {NULL, NULL, NULL}};
    uint8_t id[32];
    if (node_cli_opts("ledger proof", argc, argv, opts, pos, 1, &n_pos) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    if (n_pos != 1 || s_parse_id(pos[0], id) != 0)
        return node_cli_usage("'ledger proof' needs TXID (64 hex characters)");
    json_t *r = NULL;
    int rc = node_cli_call(cli, "ledger_proof", json_pack("{s:s}", "txid", pos[0]), &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    const char *hex = node_cli_jstr(r, "proof");
    size_t hlen = strlen(hex);
    uint8_t *proof = NULL;
    if (hlen % 2 != 0 || hlen / 2 > LEDGER_PROOF_MAX_BYTES || !(proof = malloc(hlen / 2 + 1)) ||
        proto_hex_decode(hex, proof, hlen / 2) != 0) {
        free(proof);
        json_decref(r);
        return node_cli_fail("the node answered a malformed proof");
    }
    if (out && s_write_new(out, proof, hlen / 2) != 0) {
        rc = node_cli_fail("cannot write %s: %s", out, strerror(errno));
    } else if (node_cli_json(cli)) {
        if (out)
            json_object_set_new(r, "out", json_string(out));
        node_cli_print_json(r);
    } else {
        node_cli_print_kv(KV_WIDTH, "txid", "%s", node_cli_jstr(r, "txid"));
        node_cli_print_kv(KV_WIDTH, "height", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "height"));
        if (out)
            node_cli_print_kv(KV_WIDTH, "proof", "%s (%zu bytes)", out, hlen / 2);
        else
            node_cli_print_kv(KV_WIDTH, "proof", "%s", hex);
    }
    free(proof);
    json_decref(r);
    return rc;
}

/*  The proof in BUF (LEN bytes): raw, or hex text (whitespace around it ignored), which
 *  is decoded in place. */
static size_t s_unhex(uint8_t *buf, size_t len)
{
    size_t a = 0, b = len;
    while (a < b && strchr(" \t\r\n", buf[a]) && buf[a])
        a++;
    while (b > a && strchr(" \t\r\n", buf[b - 1]) && buf[b - 1])
        b--;
    if (b == a || (b - a) % 2 != 0)
        return len;
    for (size_t i = a; i < b; i++)
        if (!strchr("0123456789abcdefABCDEF", buf[i]) || !buf[i])
            return len;
    size_t n = (b - a) / 2;
    for (size_t i = 0; i < n; i++) {
        char pair[3] = {(char)buf[a + 2 * i], (char)buf[a + 2 * i + 1], 0};
        buf[i] = (uint8_t)strtoul(pair, NULL, 16);
    }
    return n;
}

int node_cli_cmd_ledger_verify_proof(node_cli_t *cli, int argc, char **argv)
{
    const char *genesis = NULL, *pos[1];
    int n_pos = 0;
    const node_cli_opt_t opts[] = {{"--genesis", &genesis, NULL}, {NULL, NULL, NULL}};
    if (node_cli_opts("ledger verify-proof", argc, argv, opts, pos, 1, &n_pos) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    if (n_pos != 1 || !genesis)
        return node_cli_usage("'ledger verify-proof' needs FILE and --genesis GENESIS.json");
    char err[256];
    ledger_genesis_t *g = NULL;
    ledger_light_t *light = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = NODE_CLI_EXIT_OK;
    if (ledger_genesis_load(genesis, &g, err, sizeof err) != LEDGER_OK)
        return node_cli_fail("%s: %s", genesis, err);
    size_t glen = 0;
    const uint8_t *gbytes = ledger_genesis_canonical(g, &glen);
    if (ledger_light_new(gbytes, glen, &light, err, sizeof err) != LEDGER_OK) {
        rc = node_cli_fail("%s: %s", genesis, err);
        goto out;
    }
    if ((rc = node_cli_read_file(pos[0], 2 * LEDGER_PROOF_MAX_BYTES + 2, &buf, &len)) !=
        NODE_CLI_EXIT_OK)
        goto out;
    len = s_unhex(buf, len);
    ledger_light_tx_t tx;
    if (ledger_light_verify_tx(light, buf, len, &tx, err, sizeof err) != LEDGER_OK) {
        rc = node_cli_fail("%s does not verify: %s", pos[0], err);
        goto out;
    }
    ledger_tx_t decoded;
    const ledger_contract_t *c = NULL;
    bool known = ledger_tx_decode(tx.tx, tx.tx_len, &decoded) == PROTO_OK;
    if (known)
        c = ledger_contract_find(decoded.type);
    char txid[65], chain[65];
    proto_hex_encode(tx.txid, 32, txid);
    proto_hex_encode(ledger_light_chain_id(light), 32, chain);
    if (node_cli_json(cli)) {
        json_t *j = json_pack("{s:b, s:s, s:s, s:I, s:I, s:I}", "verified", 1, "txid", txid,
                              "chain_id", chain, "height", (json_int_t)tx.height, "time_ms",
                              (json_int_t)tx.time_ms, "tx_bytes", (json_int_t)tx.tx_len);
        json_object_set_new(j, "type", known ? json_integer(decoded.type) : json_null());
        json_object_set_new(j, "type_name", c ? json_string(c->name) : json_null());
        node_cli_print_json(j);
        json_decref(j);
    } else {
        node_cli_print_kv(KV_WIDTH, "verified", "yes (certified by the genesis authorities)");
        node_cli_print_kv(KV_WIDTH, "txid", "%s", txid);
        node_cli_print_kv(KV_WIDTH, "chain id", "%s", chain);
        node_cli_print_kv(KV_WIDTH, "height", "%" PRIu64, tx.height);
        node_cli_print_kv(KV_WIDTH, "time ms", "%" PRIu64, tx.time_ms);
        if (known)
            node_cli_print_kv(KV_WIDTH, "tx type", "%u (%s)", (unsigned)decoded.type,
                              c ? c->name : "unknown");
        else
            node_cli_print_kv(KV_WIDTH, "tx type", "unknown (the tx does not decode here)");
    }
out:
    if (buf)
        sodium_free(buf);
    ledger_light_destroy(&light);
    ledger_genesis_destroy(&g);
    return rc;
}

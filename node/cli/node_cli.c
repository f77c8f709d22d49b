/*  node_cli: global options, the command table, dispatch and output helpers of the
 *  genie CLI (see node_cli.h). Command handlers live in node_cli_<concern>.c.
 */
#include "node/cli/node_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "node/app/node_config.h"
#include "node/rpc/node_rpc_client.h"
#include "proto/proto_key.h"

struct node_cli_t {
    const char *datadir;
    const char *rpc_url;
    const char *cookie;
    bool json;
    node_rpc_client_t *client; /* made on first node_cli_call */
};

static int s_cmd_help(node_cli_t *cli, int argc, char **argv);

/*  The command table. A new command: one row here plus its handler. */
static const node_cli_cmd_t s_commands[] = {
    {"status", "", "show the node's id, address, roles, listen endpoints, chain id",
     node_cli_cmd_status},
    {"stop", "", "stop the node cleanly", node_cli_cmd_stop},
    {"peers", "", "list known peers: id, endpoint, linked, score, last seen, roles",
     node_cli_cmd_peers},
    {"lookup", "NODE_ID [--timeout SEC]", "find the endpoint of any node by iterative lookup",
     node_cli_cmd_lookup},
    {"send", "NODE_ID TEXT [--timeout SEC]", "deliver TEXT to a node, acknowledged",
     node_cli_cmd_send},
    {"inbox", "[--after SEQ] [--count N] [--no-follow]",
     "show (and follow) direct messages; --json prints JSON Lines (one object a message)",
     node_cli_cmd_inbox},
    {"rooms", "", "list the rooms this node is a member of", node_cli_cmd_rooms},
    {"room join", "NAME", "become a member of room NAME", node_cli_cmd_room_join},
    {"room leave", "NAME", "leave room NAME", node_cli_cmd_room_leave},
    {"room post", "NAME TEXT", "post TEXT to every member of room NAME (members only)",
     node_cli_cmd_room_post},
    {"room tail", "NAME [--after SEQ] [--count N] [--no-follow]",
     "show (and follow) the posts of room NAME; --json prints JSON Lines (one object a post)",
     node_cli_cmd_room_tail},
    {"key new", "[--passphrase-file FILE] [--no-passphrase]",
     "create an encrypted account key, print its id", node_cli_cmd_key_new},
    {"key list", "", "list node and account keys (public ids only)", node_cli_cmd_key_list},
    {"genesis new", "--authorities N --out DIR [--balance AMOUNT] [--chain-name NAME]",
     "write a ledger genesis.json and its authority keys (no node needed)",
     node_cli_cmd_genesis_new},
    {"tx transfer", "TO AMOUNT [--from ACCOUNT_ID] [--wait SEC] [--passphrase-file FILE]",
     "sign a transfer with an account key of the datadir and submit it", node_cli_cmd_tx_transfer},
    {"tx status", "TXID", "where a transaction is: committed (height, index), pending, unknown",
     node_cli_cmd_tx_status},
    {"account", "ID", "an account's balance, nonce and next nonce", node_cli_cmd_account},
    {"head", "", "the ledger's head: height, hash, state root, time", node_cli_cmd_head},
    {"block", "HEIGHT|HASH", "a block's header, txids and certificate", node_cli_cmd_block},
    {"authorities", "", "the current authority set", node_cli_cmd_authorities},
    {"authority vote",
     "add|remove KEY [--key-file FILE | --from ACCOUNT_ID] [--wait SEC] [--passphrase-file FILE]",
     "an authority's vote to add or remove KEY (applies once more than half voted)",
     node_cli_cmd_authority_vote},
    {"ledger proof", "TXID [--out FILE]",
     "the inclusion proof of a committed tx (raw bytes to FILE, else hex)",
     node_cli_cmd_ledger_proof},
    {"ledger verify-proof", "FILE --genesis GENESIS.json",
     "check a tx's inclusion proof offline against the genesis authorities (no node needed)",
     node_cli_cmd_ledger_verify_proof},
    {"enclave list", "[--kind K]",
     "registered enclaves (kind, measurement, keys, status) with their audits",
     node_cli_cmd_enclave_list},
    {"enclave register", "QUOTE --kind K [--from ACCOUNT_ID] [--wait SEC] [--passphrase-file FILE]",
     "submit ENCLAVE_REGISTER for a quote file, signed by the runner's account key",
     node_cli_cmd_enclave_register},
    {"enclave audit", "MEASUREMENT REPORT_HASH ok|bad [--from ACCOUNT_ID] [--wait SEC]",
     "submit an audit verdict on a measurement (replaces this account's previous one)",
     node_cli_cmd_enclave_audit},
    {"enclave revoke", "platform|measurement HEX [--from ACCOUNT_ID] [--wait SEC]",
     "an authority's vote to revoke a platform key or a measurement (majority revokes)",
     node_cli_cmd_enclave_revoke},
    {"enclave measure", "FILE [--kind K]",
     "an enclave executable's measurement (for each kind, or K's; no node needed)",
     node_cli_cmd_enclave_measure},
    {"enclave spawn", "KIND", "on an enclave runner: spawn, attest and register an enclave of KIND",
     node_cli_cmd_enclave_spawn},
    {"enclave stop", "ID", "on an enclave runner: stop enclave ID (local number or enclave id)",
     node_cli_cmd_enclave_stop},
    {"enclave local", "",
     "on an enclave runner: its enclaves (pid, status, restarts, registration)",
     node_cli_cmd_enclave_local},
    {"enclave platform", "", "on an enclave runner: its platform key and certificate",
     node_cli_cmd_enclave_platform},
    {"enclave cert-install", "FILE",
     "on an enclave runner: install the platform certificate FILE ('attest certify' wrote it)",
     node_cli_cmd_enclave_cert_install},
    {"data add", "FILE --type genotype|phenotype [--name N] [--enclave ID] [--wait SEC]",
     "on a data-owner node: validate FILE in an enclave, encrypt it, register it",
     node_cli_cmd_data_add},
    {"data list", "", "on a data-owner node: its data records and their status",
     node_cli_cmd_data_list},
    {"data show", "ID", "one data record with its audit trail", node_cli_cmd_data_show},
    {"data withdraw", "ID [--wait SEC]", "withdraw data record ID (DATA_WITHDRAW)",
     node_cli_cmd_data_withdraw},
    {"consent set",
     "[--data ID] --allow-types A,B --allow-purposes P [--deny-types X] [--deny-purposes Y] "
     "[--max-epsilon E] [--min-audits N] [--auditors HEX,..]",
     "set the default consent (or one record's; --wait SEC); deny by default, * = any",
     node_cli_cmd_consent_set},
    {"consent show", "[--data ID]", "the consent set (and the one in force for a record)",
     node_cli_cmd_consent_show},
    {"consent revoke", "[--data ID] [--wait SEC]", "revoke a consent (back to deny by default)",
     node_cli_cmd_consent_revoke},
    {"audit", "[DATA_ID]", "every use of this node's data records, with heights",
     node_cli_cmd_audit},
    {"data validate", "FILE --enclave ID [--type csv|23andme] [--runner NODEID]",
     "seal FILE to validation enclave ID, have it validated, verify the signed report",
     node_cli_cmd_data_validate},
    {"data donate", "FILE --enclave ID [--spec HEX] [--donor HEX] [--salt HEX] [--runner NODEID]",
     "seal FILE to training enclave ID, donate it, verify the signed receipt",
     node_cli_cmd_data_donate},
    {"trainer register", "NAME [--wait SEC]",
     "register the node account as a trainer named NAME (again: rename)",
     node_cli_cmd_trainer_register},
    {"spec register",
     "--model-type T --purpose P --features A,B --label L --measurement HEX --min-donors N "
     "--max-epsilon E --aggregation mean|median|trimmed|krum --price N --shares D,T,R "
     "[--wait SEC]",
     "register a model spec (its id is the txid); the node account must be a trainer",
     node_cli_cmd_spec_register},
    {"spec list", "", "registered model specs with their trainer and donor count",
     node_cli_cmd_spec_list},
    {"recruit", "SPEC_ID [--note TEXT]",
     "post a signed recruitment offer for one of this trainer's specs in room recruitment "
     "(the node posts it again every 30 s while it runs, for owners who join later)",
     node_cli_cmd_recruit},
    {"offers", "",
     "recruitment offers received, and which local records match each (and why, or why not)",
     node_cli_cmd_offers},
    {"donate", "OFFER [--data ID] [--mode sealed|key] [--wait SEC]",
     "donate matching local records to OFFER's training enclave; register as donor",
     node_cli_cmd_donate},
    {"train start", "SPEC --coordinator ENCLAVE --rounds N --query-measurement HEX [--wait SEC]",
     "start a training job of SPEC (TRAIN_START; the node account must be its trainer)",
     node_cli_cmd_train_start},
    {"models", "[--spec ID]", "published models (hash, metrics, records used), oldest first",
     node_cli_cmd_models},
    {"model show", "ID", "one published model with its job, spec, price and parties",
     node_cli_cmd_model_show},
    {"query buy", "MODEL --count N [--wait SEC]",
     "pay N queries of MODEL into escrow; the access code stays in DATADIR/access/ (0600)",
     node_cli_cmd_query_buy},
    {"earnings", "", "what the node account is owed: role earnings and donor shares per model",
     node_cli_cmd_earnings},
    {"claim", "[--model ID] [--wait SEC]",
     "move what is owed into the balance (no --model: role earnings and every owed model)",
     node_cli_cmd_claim},
    {"train status", "SPEC",
     "a spec's training job and model; on the coordinating runner, rounds and parties",
     node_cli_cmd_train_status},
    {"query run", "MODEL --input FILE [--buy ID]",
     "predictions for the rows of a CSV from a query enclave, paid by a buy's access code",
     node_cli_cmd_query_run},
    {"query status", "[--flush]",
     "on a query runner: its query enclaves' models and the usage claimed per buy",
     node_cli_cmd_query_status},
    {"attest certify",
     "--as-key KEYSTORE --platform PK --runner NAME --account ID --days N --out FILE",
     "issue a platform certificate with the attestation service's key (no node needed)",
     node_cli_cmd_attest_certify},
    {"quote verify", "FILE --genesis GENESIS [--nonce HEX] [--measurement HEX] [--max-age S]",
     "verify a quote offline against genesis's attestation service: \"valid\" or the reason",
     node_cli_cmd_quote_verify},
    {"ml validate", "FILE [--type genotype|phenotype]",
     "check a VCF/23andMe/CSV file as the validation enclave does", node_cli_cmd_ml_validate},
    {"ml train",
     "--data CSV [GENOTYPES] --label COL --model logistic|linear|prs --out MODEL [OPTIONS]",
     "fit a model on a seeded split; print its hash and held-out metrics", node_cli_cmd_ml_train},
    {"ml eval", "MODEL --data CSV [GENOTYPES] --label COL",
     "metrics of MODEL on labelled data (AUC, accuracy, log-loss, R2)", node_cli_cmd_ml_eval},
    {"ml predict", "MODEL [--data CSV] [GENOTYPES] [--out FILE]",
     "print one line per sample: id, score", node_cli_cmd_ml_predict},
    {"help", "", "print this help", s_cmd_help},
};

#define N_COMMANDS (sizeof s_commands / sizeof s_commands[0])

/* ---------------------------------------------------------------- output helpers */

static void s_vprint_error(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static void s_vprint_error(const char *fmt, va_list ap)
{
    fputs("genie: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int node_cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vprint_error(fmt, ap);
    va_end(ap);
    return NODE_CLI_EXIT_ERROR;
}

int node_cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vprint_error(fmt, ap);
    va_end(ap);
    fputs("try 'genie help'\n", stderr);
    return NODE_CLI_EXIT_USAGE;
}

void node_cli_print_json(const json_t *value)
{
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (text) {
        puts(text);
        free(text);
    }
}

void node_cli_print_kv(int width, const char *key, const char *fmt, ...)
{
    char label[64];
    snprintf(label, sizeof label, "%s:", key);
    printf("%-*s ", width, label);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

int node_cli_opts(const char *cmd, int argc, char **argv, const node_cli_opt_t *opts,
                  const char **pos, int max_pos, int *n_pos)
{
    int n = 0;
    for (int i = 0; i < argc;) {
        const node_cli_opt_t *o = opts;
        int got = 0;
        const char *v = NULL;
        for (; o->name; o++) {
            if (o->value) {
                if ((got = node_cli_opt_value(argc, argv, &i, o->name, &v)) != 0)
                    break;
            } else if (strcmp(argv[i], o->name) == 0) {
                got = 1;
                i++;
                break;
            }
        }
        if (got < 0)
            return NODE_CLI_EXIT_USAGE; /* node_cli_opt_value printed it */
        if (o->name) {
            if (o->value ? *o->value != NULL : *o->flag)
                return node_cli_usage("'%s': %s given twice", cmd, o->name);
            if (o->value)
                *o->value = v;
            else
                *o->flag = true;
            continue;
        }
        if (strncmp(argv[i], "--", 2) == 0)
            return node_cli_usage("'%s' does not take '%s'", cmd, argv[i]);
        if (n >= max_pos)
            return node_cli_usage("'%s': unexpected argument '%s'", cmd, argv[i]);
        pos[n++] = argv[i++];
    }
    if (n_pos)
        *n_pos = n;
    return NODE_CLI_EXIT_OK;
}

int node_cli_opt_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *arg = argv[*i];
    size_t len = strlen(name);
    if (strncmp(arg, name, len) != 0)
        return 0;
    if (arg[len] == '=') {
        if (arg[len + 1] == '\0') {
            node_cli_usage("option '%s' needs a value", name);
            return NODE_E_PARAMS;
        }
        *value = arg + len + 1;
        *i += 1;
        return 1;
    }
    if (arg[len] != '\0')
        return 0;
    if (*i + 1 >= argc || argv[*i + 1][0] == '\0' || strncmp(argv[*i + 1], "--", 2) == 0) {
        node_cli_usage("option '%s' needs a value", name);
        return NODE_E_PARAMS;
    }
    *value = argv[*i + 1];
    *i += 2;
    return 1;
}

/* ---------------------------------------------------------------- state and RPC */

bool node_cli_json(const node_cli_t *cli)
{
    return cli->json;
}

const char *node_cli_datadir(const node_cli_t *cli)
{
    return cli->datadir;
}

int node_cli_need_datadir(node_cli_t *cli, const char *command, const char **datadir)
{
    if (!cli->datadir)
        return node_cli_usage("'%s' works on a datadir: give --datadir DIR", command);
    *datadir = cli->datadir;
    return NODE_CLI_EXIT_OK;
}

int node_cli_call(node_cli_t *cli, const char *method, json_t *params, json_t **result)
{
    return node_cli_call_bin(cli, method, params, NULL, 0, result);
}

int node_cli_call_bin(node_cli_t *cli, const char *method, json_t *params, const void *bin,
                      size_t bin_len, json_t **result)
{
    char err[1024];
    *result = NULL;
    if (!cli->client) {
        if (cli->rpc_url)
            cli->client = node_rpc_client_new(cli->rpc_url, cli->cookie, err, sizeof err);
        else if (cli->datadir)
            cli->client = node_rpc_client_from_datadir(cli->datadir, err, sizeof err);
        else {
            json_decref(params);
            return node_cli_usage("no node given: use --datadir DIR (or --rpc URL "
                                  "--cookie FILE)");
        }
        if (!cli->client) {
            json_decref(params);
            return node_cli_fail("%s", err);
        }
    }
    int rc = node_rpc_client_call_bin(cli->client, method, params, bin, bin_len, 0, result, err,
                                      sizeof err);
    if (rc == NODE_E_CONNECT)
        return node_cli_fail("%s (is genie-node running?)", err);
    if (rc != 0)
        return node_cli_fail("%s: %s", method, err);
    return NODE_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- help */

static void s_print_help(void)
{
    enum { COL = 22 }; /* longer usages get the summary on the next line */
    printf("usage: genie [--datadir DIR | --rpc URL --cookie FILE] [--json] COMMAND [ARGS]\n"
           "\n"
           "The command-line client of genie-node. Key commands work on the datadir\n"
           "directly; the others talk to the running node over its control API.\n"
           "\n"
           "options:\n"
           "  --datadir DIR         the node's data directory (the node is found through\n"
           "                        DIR/rpc.addr and DIR/rpc.cookie)\n"
           "  --rpc URL             the node's control API, http://127.0.0.1:PORT/ (instead\n"
           "                        of finding it through --datadir)\n"
           "  --cookie FILE         credentials for --rpc: the node's DIR/rpc.cookie\n"
           "  --json                print results as JSON (also accepted after the command)\n"
           "  -h, --help            print this help\n"
           "  --version             print the version\n"
           "\n"
           "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        char usage[160];
        snprintf(usage, sizeof usage, "%s%s%s", s_commands[i].name,
                 s_commands[i].args[0] ? " " : "", s_commands[i].args);
        if (strlen(usage) < COL - 1)
            printf("  %-*s%s\n", COL, usage, s_commands[i].summary);
        else
            printf("  %s\n  %-*s%s\n", usage, COL, "", s_commands[i].summary);
    }
    printf("\n"
           "'key new' reads the passphrase from the first line of FILE, else from\n"
           "$GENIE_PASSPHRASE, else asks twice on the terminal; --no-passphrase stores the\n"
           "key unencrypted. The address 'status' prints (NODEID@tcp://IP:PORT) is what\n"
           "other nodes take as --peer.\n"
           "\n"
           "The 'ml' commands need no node. Data: a phenotype CSV (header, id in the first\n"
           "column or --id COL; numeric and categorical columns) alone, whose features are\n"
           "--covariates or every other column; or genotypes (--genotypes VCF/BCF, plain or\n"
           "bgzip; or 23andMe files, --23andme FILE or DIR of *.txt named by sample id, read\n"
           "against --ref TSV of rsid chrom pos ref alt) joined to the CSV by sample id, whose\n"
           "features are the SNP dosages (all, or --features) plus --covariates (categorical\n"
           "columns one-hot). logistic needs a 0/1 label; linear and prs a numeric one; prs\n"
           "fits SNPs only (screened at --p-threshold, default 5e-8). Features are\n"
           "standardised on the training split and the scaling is stored in the model.\n"
           "  GENOTYPES: --genotypes VCF | --ref TSV --23andme FILE|DIR [--23andme ...]\n"
           "  train OPTIONS: --l2 X (penalty, default 1; prs: relative ridge, default 0.01)\n"
           "    --features RSID,... | --features-file F   --covariates COL,...\n"
           "    --test-frac F (held out, default 0.2)  --seed N (split, default 1)\n"
           "    --p-threshold P (prs)  --id COL (the CSV's id column; all ml commands)\n"
           "  Every ml command takes --json; progress goes to stderr.\n"
           "\n"
           "'genie COMMAND --help' shows one command. Exit status: 0 on success, 1 on an\n"
           "error, 2 on a usage error.\n");
}

static int s_cmd_help(node_cli_t *cli, int argc, char **argv)
{
    if (argc > 0)
        return node_cli_usage("'help' takes no arguments");
    s_print_help();
    return NODE_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- dispatch */

/*  Number of words of NAME that match ARGV (all of them, or 0). */
static int s_match(const char *name, int argc, char **argv)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", name);
    int words = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (words >= argc || strcmp(argv[words], w) != 0)
            return 0;
        words++;
    }
    return words;
}

/*  True if WORD is the first word of a multi-word command ("key"). */
static bool s_is_group(const char *word)
{
    size_t len = strlen(word);
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strncmp(s_commands[i].name, word, len) == 0 && s_commands[i].name[len] == ' ')
            return true;
    return false;
}

static int s_group_usage(const char *word)
{
    char list[512] = "";
    size_t len = strlen(word);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strncmp(s_commands[i].name, word, len) == 0 && s_commands[i].name[len] == ' ') {
            if (list[0])
                strncat(list, ", ", sizeof list - strlen(list) - 1);
            strncat(list, s_commands[i].name, sizeof list - strlen(list) - 1);
        }
    }
    return list[0] ? node_cli_usage("'%s' needs a subcommand: %s", word, list)
                   : node_cli_usage("unknown command '%s'", word);
}

/*  Runs the command at ARGV[0..ARGC). */
static int s_dispatch(node_cli_t *cli, int argc, char **argv)
{
    const node_cli_cmd_t *cmd = NULL;
    int words = 0;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        int n = s_match(s_commands[i].name, argc, argv);
        if (n > words) {
            words = n;
            cmd = &s_commands[i];
        }
    }
    if (!cmd) {
        if (s_is_group(argv[0]))
            return s_group_usage(argv[0]);
        return node_cli_usage("unknown command '%s'", argv[0]);
    }
    /* The command's own arguments, without --json (accepted anywhere). */
    int n_args = 0;
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args)
        return node_cli_fail("out of memory");
    bool help = false;
    for (int i = words; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            cli->json = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            help = true;
        else
            args[n_args++] = argv[i];
    }
    int rc;
    if (help) {
        printf("usage: genie [options] %s%s%s\n%s\n", cmd->name, cmd->args[0] ? " " : "", cmd->args,
               cmd->summary);
        rc = NODE_CLI_EXIT_OK;
    } else {
        rc = cmd->fn(cli, n_args, args);
    }
    free(args);
    return rc;
}

/*  Stores global option NAME's VALUE in *SLOT once. Exit status. */
static int s_global_set(const char **slot, const char *name, int got, const char *value)
{
    if (got < 0)
        return NODE_CLI_EXIT_USAGE; /* node_cli_opt_value printed it */
    if (*slot)
        return node_cli_usage("%s given twice", name);
    *slot = value;
    return NODE_CLI_EXIT_OK;
}

int node_cli_main(int argc, char **argv)
{
    node_cli_t cli = {0};
    int rc = NODE_CLI_EXIT_OK;
    int i = 1;
    if (proto_crypto_init() != 0)
        return node_cli_fail("cannot initialise libsodium");
    while (i < argc && rc == NODE_CLI_EXIT_OK) {
        const char *arg = argv[i];
        const char *value = NULL;
        int got;
        if (strcmp(arg, "--json") == 0) {
            cli.json = true;
            i++;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            s_print_help();
            goto out;
        } else if (strcmp(arg, "--version") == 0) {
            printf("genie %s\n", NODE_VERSION);
            goto out;
        } else if ((got = node_cli_opt_value(argc, argv, &i, "--datadir", &value)) != 0) {
            rc = s_global_set(&cli.datadir, "--datadir", got, value);
        } else if ((got = node_cli_opt_value(argc, argv, &i, "--rpc", &value)) != 0) {
            rc = s_global_set(&cli.rpc_url, "--rpc", got, value);
        } else if ((got = node_cli_opt_value(argc, argv, &i, "--cookie", &value)) != 0) {
            rc = s_global_set(&cli.cookie, "--cookie", got, value);
        } else if (arg[0] == '-') {
            rc = node_cli_usage("unknown option '%s'", arg);
        } else {
            break;
        }
    }
    if (rc != NODE_CLI_EXIT_OK)
        goto out;
    if (cli.cookie && !cli.rpc_url) {
        rc = node_cli_usage("--cookie is only used with --rpc URL");
        goto out;
    }
    if (i >= argc) {
        rc = node_cli_usage("no command given");
        goto out;
    }
    rc = s_dispatch(&cli, argc - i, argv + i);
out:
    node_rpc_client_destroy(&cli.client);
    return rc;
}

/* ---------------------------------------------------------------- helpers */

void node_cli_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

const char *node_cli_jstr(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "-";
}

json_int_t node_cli_jint(const json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

int node_cli_parse_u64(const char *text, uint64_t *out)
{
    if (!text[0] || strlen(text) > 20)
        return NODE_E_PARAMS;
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return NODE_E_PARAMS;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return NODE_E_PARAMS;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int node_cli_wait_opt(const char *text, long *wait_s)
{
    uint64_t v = 0;
    *wait_s = 0;
    if (!text)
        return NODE_CLI_EXIT_OK;
    if (node_cli_parse_u64(text, &v) != 0 || v < 1 || v > 3600)
        return node_cli_usage("--wait wants seconds (1-3600)");
    *wait_s = (long)v;
    return NODE_CLI_EXIT_OK;
}

int node_cli_wait_tx(node_cli_t *cli, json_t *out, long wait_s, json_t **result)
{
    *result = NULL;
    if (wait_s <= 0)
        return NODE_CLI_EXIT_OK;
    json_t *st = NULL;
    int rc = node_cli_wait_committed(cli, node_cli_jstr(out, "txid"), wait_s, &st);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    json_object_set_new(out, "tx_status", json_string(node_cli_jstr(st, "status")));
    if (json_object_get(st, "height"))
        json_object_set(out, "tx_height", json_object_get(st, "height"));
    *result = st;
    return NODE_CLI_EXIT_OK;
}

int node_cli_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return node_cli_fail("cannot read %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
        (uint64_t)sb.st_size > max) {
        close(fd);
        return node_cli_fail("%s: not a regular file of 1 to %zu bytes", path, max);
    }
    size_t n = (size_t)sb.st_size, got = 0;
    uint8_t *p = sodium_malloc(n);
    while (p && got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!p || got != n) {
        sodium_free(p);
        return node_cli_fail("cannot read %s", path);
    }
    *buf = p;
    *len = n;
    return NODE_CLI_EXIT_OK;
}

int node_cli_wait_status(node_cli_t *cli, json_t *out, const char *txid, long wait_s)
{
    if (!wait_s || !txid)
        return NODE_CLI_EXIT_OK;
    json_t *done = NULL;
    int rc = node_cli_wait_committed(cli, txid, wait_s, &done);
    if (rc == NODE_CLI_EXIT_OK) {
        const char *status = node_cli_jstr(done, "status");
        json_object_set_new(out, "status", json_string(status));
        if (strcmp(status, "committed") != 0)
            rc = node_cli_fail("transaction %.64s not committed after %ld s (%s)", txid, wait_s,
                               status);
    }
    json_decref(done);
    return rc;
}

void node_cli_print_flat(node_cli_t *cli, json_t *o, int kv_width)
{
    if (node_cli_json(cli)) {
        node_cli_print_json(o);
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (json_is_string(v))
            node_cli_print_kv(kv_width, key, "%s", json_string_value(v));
        else if (json_is_integer(v))
            node_cli_print_kv(kv_width, key, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    }
}

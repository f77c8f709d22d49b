/*  node_cli: the genie command-line tool.
 *
 *  genie [--datadir DIR | --rpc URL --cookie FILE] [--json] COMMAND [ARGS]
 *
 *  Commands are rows of one table (name, arguments, summary, handler) in node_cli.c; a
 *  name may be several words ("key new"). Adding a command is one row plus one handler,
 *  which may live in its own file (node_cli_key.c, node_cli_node.c, ...) and is declared
 *  below. --json is accepted before or after the command; "--help" after a command
 *  prints that command's usage.
 *
 *  Output conventions, shared by every handler through the helpers below: with --json,
 *  the JSON result on stdout (2-space indent); otherwise short aligned "key: value"
 *  lines or a small table. Errors: one line "genie: error: ..." on stderr, exit status 1;
 *  usage errors add "try 'genie help'" and exit 2.
 */
#ifndef GENIE_NODE_CLI_H
#define GENIE_NODE_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ml/ml_csv.h"
#include "ml/ml_geno.h"
#include "ml/ml_model.h"
#include "ml/ml_prs.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"

#define NODE_CLI_EXIT_OK 0
#define NODE_CLI_EXIT_ERROR 1
#define NODE_CLI_EXIT_USAGE 2

/*  Process-level state of one CLI run: global options and the RPC client. */
typedef struct node_cli_t node_cli_t;

/*  A command handler. ARGV holds the ARGC arguments after the command's words (--json
 *  already removed). Returns the exit status (NODE_CLI_EXIT_*). */
typedef int(node_cli_cmd_fn)(node_cli_t *cli, int argc, char **argv);

typedef struct {
    const char *name;    /* "status", "key new" */
    const char *args;    /* usage of the arguments, "" if none */
    const char *summary; /* one line for help */
    node_cli_cmd_fn *fn;
} node_cli_cmd_t;

/*  Runs the CLI on the process arguments; returns the exit status. Everything it prints
 *  goes to stdout (results) or stderr (errors, prompts). */
int node_cli_main(int argc, char **argv);

/* ---- helpers for handlers ---- */

/*  True when --json was given. */
bool node_cli_json(const node_cli_t *cli);

/*  The --datadir given, or NULL. */
const char *node_cli_datadir(const node_cli_t *cli);

/*  Sets *datadir to --datadir, or prints a usage error naming COMMAND and returns
 *  NODE_CLI_EXIT_USAGE. Returns NODE_CLI_EXIT_OK on success. */
int node_cli_need_datadir(node_cli_t *cli, const char *command, const char **datadir);

/*  Calls METHOD on the node (PARAMS stolen, may be NULL), connecting on first use
 *  through --rpc/--cookie or DIR/rpc.addr. Returns NODE_CLI_EXIT_OK with *result (new
 *  reference, caller decrefs), or prints one error line and returns the exit status. */
int node_cli_call(node_cli_t *cli, const char *method, json_t *params, json_t **result);

/*  node_cli_call with a binary part BIN (BIN_LEN bytes, borrowed) sent as raw bytes beside
 *  the JSON (node_rpc_client_call_bin), for a method that takes one (enclave_call). */
int node_cli_call_bin(node_cli_t *cli, const char *method, json_t *params, const void *bin,
                      size_t bin_len, json_t **result);

/*  Prints VALUE as indented JSON and a newline on stdout. */
void node_cli_print_json(const json_t *value);

/*  Prints "KEY:" padded to WIDTH columns, then the formatted value and a newline. */
void node_cli_print_kv(int width, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*  Prints "genie: error: <message>" on stderr; returns NODE_CLI_EXIT_ERROR. */
int node_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*  Reads the whole regular file PATH (1 to MAX bytes) into *BUF, locked memory from
 *  sodium_malloc (the caller frees it with sodium_free: it may hold an owner's data), and
 *  *LEN. NODE_CLI_EXIT_OK, or the failure's exit status with the reason printed. */
int node_cli_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);

/*  Prints "genie: error: <message>" and "try 'genie help'" on stderr; returns
 *  NODE_CLI_EXIT_USAGE. */
int node_cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*  Option with a value: if ARGV[*I] is "NAME VALUE" or "NAME=VALUE", sets *VALUE,
 *  advances *I past it and returns 1; returns 0 if ARGV[*I] is another option, and
 *  NODE_E_PARAMS (after printing a usage error) if the value is missing. */
int node_cli_opt_value(int argc, char **argv, int *i, const char *name, const char **value);

/*  One option a command takes: NAME ("--from") and where its value goes (*VALUE), or, for
 *  a flag without a value (VALUE NULL), *FLAG set to true. */
typedef struct {
    const char *name;
    const char **value;
    bool *flag;
} node_cli_opt_t;

/*  Parses a command's ARGC words ARGV against OPTS (ended by a {NULL} row): each option
 *  at most once, valued ones as "NAME VALUE" or "NAME=VALUE"; any other word starting with
 *  "--" is refused; the rest are positional, kept in order in POS (at most MAX_POS; the
 *  count in *N_POS; POS and N_POS may be NULL when MAX_POS is 0). CMD names the command in
 *  usage errors. Returns NODE_CLI_EXIT_OK, or NODE_CLI_EXIT_USAGE with the error printed. */
int node_cli_opts(const char *cmd, int argc, char **argv, const node_cli_opt_t *opts,
                  const char **pos, int max_pos, int *n_pos);

/*  Reads one line from FD into BUF (CAP bytes, NUL-terminated, newline and a trailing CR
 *  stripped; *LEN its length) without stdio buffering, for passphrases. 0 on success (also
 *  at EOF), NODE_E_IO on a read error (errno set), NODE_E_TOO_BIG if the line does not
 *  fit. */
int node_cli_read_line(int fd, char *buf, size_t cap, size_t *len);

/*  Sleeps MS milliseconds (polling loops of commands that wait). */
void node_cli_sleep_ms(long ms);
/*  String member KEY of OBJ, or "-" when absent or not a string (for printing). Borrowed. */
const char *node_cli_jstr(const json_t *obj, const char *key);
/*  Integer member KEY of OBJ, or 0. */
json_int_t node_cli_jint(const json_t *obj, const char *key);
/*  TEXT as a decimal uint64 (digits only, no sign, no overflow) into *OUT. 0, or
 *  NODE_E_PARAMS. */
int node_cli_parse_u64(const char *text, uint64_t *out) PROTO_WUR;

/*  Loads the account key FROM (64 hex; NULL: the datadir's only account key) of DATADIR's
 *  accounts/ into *KEY (caller destroys); an encrypted key's passphrase comes from
 *  PASS_FILE, else $GENIE_PASSPHRASE, else the terminal. Returns the exit status (an error
 *  line printed). node_cli_ledger.c. */
int node_cli_account_key(const char *datadir, const char *from, const char *pass_file,
                         proto_key_t **key);
/*  Polls tx_status for TXID until it is committed or WAIT_S seconds pass; *RESULT (caller
 *  decrefs) is the last answer. Returns the exit status. node_cli_ledger.c. */
int node_cli_wait_committed(node_cli_t *cli, const char *txid, long wait_s, json_t **result);
/*  What a tx-submitting command builds: BUILD signs the tx with KEY for CHAIN and NONCE
 *  (malloc'd bytes, *LEN; NULL on failure) from CTX. */
typedef uint8_t *(node_cli_tx_build_fn)(const void *ctx, const proto_key_t *key,
                                        const uint8_t chain[32], uint64_t nonce, size_t *len);
/*  A signed, submitted tx: its id, the signing account (hex), the nonce used and, after a
 *  wait, the last tx_status answer (NULL without one). node_cli_tx_clear frees it. */
typedef struct {
    char *txid;
    char account[65];
    uint64_t nonce;
    json_t *done;
} node_cli_tx_t;
/*  Signs the tx BUILD makes (from CTX) with the account key FROM of the datadir (as
 *  node_cli_account_key, PASS_FILE for its passphrase) at the node's chain id and the
 *  account's next nonce, submits it with tx_submit and, with WAIT_S > 0, waits for its
 *  commit (a tx not committed in time is an error line). COMMAND names the command in
 *  errors. Fills *OUT (node_cli_tx_clear it on any return). Returns the exit status (an
 *  error line printed). node_cli_ledger.c. */
int node_cli_tx_sign_submit(node_cli_t *cli, const char *command, const char *from,
                            const char *pass_file, uint64_t wait_s, node_cli_tx_build_fn *build,
                            const void *ctx, node_cli_tx_t *out);
/*  As node_cli_tx_sign_submit with KEY (borrowed) instead of a datadir account key. */
int node_cli_tx_submit_key(node_cli_t *cli, const proto_key_t *key, uint64_t wait_s,
                           node_cli_tx_build_fn *build, const void *ctx, node_cli_tx_t *out);
/*  Loads the account keystore file PATH into *KEY (caller destroys), asking for its
 *  passphrase as node_cli_account_key does. Returns the exit status (an error line
 *  printed). node_cli_ledger.c. */
int node_cli_key_file(const char *path, const char *pass_file, proto_key_t **key);
void node_cli_tx_clear(node_cli_tx_t *tx);
/*  A --wait TEXT (NULL: no wait, 0) into *WAIT_S seconds (1..3600). Returns the exit status
 *  (a usage line printed when TEXT is not such a number). node_cli.c. */
int node_cli_wait_opt(const char *text, long *wait_s);
/*  With WAIT_S > 0: waits (node_cli_wait_committed) for the tx whose "txid" OUT names and
 *  adds its "tx_status" and, when known, "tx_height" to OUT; *RESULT (caller decrefs) is the
 *  last tx_status answer. *RESULT is NULL when WAIT_S <= 0 or the wait failed. Returns the
 *  exit status of the wait (committed or not). node_cli.c. */
int node_cli_wait_tx(node_cli_t *cli, json_t *out, long wait_s, json_t **result);
/*  With WAIT_S > 0 and a TXID: waits (node_cli_wait_committed) and records the tx's status
 *  in OUT as "status"; a tx not committed in time is an error line and a failing exit
 *  status. Returns the exit status (OK at once without a wait). node_cli.c. */
int node_cli_wait_status(node_cli_t *cli, json_t *out, const char *txid, long wait_s);
/*  Prints O: as JSON with --json, else its string and integer members as "key: value"
 *  lines with keys padded to KV_WIDTH (node_cli_print_kv). node_cli.c. */
void node_cli_print_flat(node_cli_t *cli, json_t *o, int kv_width);

/* ---- command handlers (one per table row) ---- */

/* node_cli_node.c: commands that talk to a running node */
int node_cli_cmd_status(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_stop(node_cli_t *cli, int argc, char **argv);

/* node_cli_p2p.c: the p2p layer (peers, lookup, unicast, rooms) */
int node_cli_cmd_peers(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_lookup(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_send(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_inbox(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_rooms(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_room_join(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_room_leave(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_room_post(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_room_tail(node_cli_t *cli, int argc, char **argv);

/* node_cli_key.c: commands on the datadir's key files (no node needed) */
int node_cli_cmd_key_new(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_key_list(node_cli_t *cli, int argc, char **argv);

/* node_cli_ledger.c: the ledger (genesis new needs no node; the others use its RPC) */
int node_cli_cmd_genesis_new(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_tx_transfer(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_tx_status(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_account(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_head(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_block(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_authorities(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_authority_vote(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_ledger_proof(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_ledger_verify_proof(node_cli_t *cli, int argc, char **argv);

/* node_cli_enclave.c: the enclave registry and offline attestation tools */
int node_cli_cmd_enclave_list(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_enclave_register(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_enclave_audit(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_enclave_revoke(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_enclave_measure(node_cli_t *cli, int argc, char **argv);
/* node_cli_enclave_run.c: the enclave-runner commands */
int node_cli_cmd_enclave_spawn(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_enclave_stop(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_enclave_local(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_enclave_platform(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_enclave_cert_install(node_cli_t *cli, int argc, char **argv);
/* node_cli_data.c: the data owner's sealed calls to enclaves */
int node_cli_cmd_data_validate(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_data_donate(node_cli_t *cli, int argc, char **argv);
/* node_cli_data.c: the data service (data add/list/show/withdraw) */
int node_cli_cmd_data_add(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_data_list(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_data_show(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_data_withdraw(node_cli_t *cli, int argc, char **argv);
/* node_cli_consent.c: consent and the audit trail */
int node_cli_cmd_consent_set(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_consent_show(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_consent_revoke(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_audit(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_attest_certify(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_quote_verify(node_cli_t *cli, int argc, char **argv);

/* node_cli_market.c: trainers, specs, recruitment, offers and donation (node_market) */
int node_cli_cmd_trainer_register(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_spec_register(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_spec_list(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_recruit(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_offers(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_donate(node_cli_t *cli, int argc, char **argv);
/* node_cli_settle.c: training jobs, models, paid queries and settlement (node_settle_rpc) */
int node_cli_cmd_train_start(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_models(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_model_show(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_query_buy(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_earnings(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_claim(node_cli_t *cli, int argc, char **argv);
/* node_cli_train.c / node_cli_query.c: training progress and paid queries (issue 16) */
int node_cli_cmd_train_status(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_query_run(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_query_status(node_cli_t *cli, int argc, char **argv);
/* node_cli_ml.c: offline ML commands (no node needed; they run ml/ in this process) */
int node_cli_cmd_ml_validate(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_ml_train(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_ml_eval(node_cli_t *cli, int argc, char **argv);
int node_cli_cmd_ml_predict(node_cli_t *cli, int argc, char **argv);

/* node_cli_ml_data.c: the data the ml commands read (shared by node_cli_ml.c) */

#define NODE_CLI_ML_MAX_23 64 /* --23andme arguments (each a file or a directory) */

/*  Where the data comes from: a phenotype CSV and/or genotypes (a VCF/BCF, or 23andMe files
 *  read against a reference TSV). Strings borrowed from argv. */
typedef struct {
    const char *data;      /* --data CSV */
    const char *id_column; /* --id COL (default: the CSV's first column) */
    const char *genotypes; /* --genotypes VCF/BCF */
    const char *ref;       /* --ref TSV (with --23andme) */
    const char *g23[NODE_CLI_ML_MAX_23];
    size_t n_g23;
} node_cli_ml_src_t;

/*  What was loaded. Both members owned (node_cli_ml_data_free). HASHES: BLAKE2b-256 of every
 *  input file, recorded in trained models. */
typedef struct {
    ml_table_t *table; /* NULL without --data */
    ml_geno_t *geno;   /* NULL without genotypes */
    uint8_t (*hashes)[32];
    size_t n_hashes;
} node_cli_ml_data_t;

/*  Parses a data option (--data --id --genotypes --ref --23andme) at ARGV[*I] into SRC:
 *  1 consumed (I advanced), 0 not a data option, NODE_E_PARAMS usage error (printed). */
int node_cli_ml_src_opt(int argc, char **argv, int *i, node_cli_ml_src_t *src);
/*  Checks SRC is a usable combination; prints a usage error and returns NODE_CLI_EXIT_USAGE,
 *  or NODE_CLI_EXIT_OK. NEED_TABLE: --data is required. */
int node_cli_ml_src_check(const node_cli_ml_src_t *src, bool need_table);
/*  Loads SRC into *OUT (zeroed first), with progress on stderr. Returns 0 or an ML_E_ / PROTO_E_
 *  code with the detail in ERR. On error *OUT is freed. */
int node_cli_ml_load(const node_cli_ml_src_t *src, node_cli_ml_data_t *out, char *err,
                     size_t cap) PROTO_WUR;
void node_cli_ml_data_free(node_cli_ml_data_t *d);
/*  A genotype set with no SNPs whose samples are the table's rows (to join a CSV alone). */
ml_geno_t *node_cli_ml_table_samples(const ml_table_t *t);

/*  Samples to score: genotyped samples that have a table row (or all of them without a
 *  table), else the table's rows; with LABEL, only those with a present label (*Y gets them,
 *  *BINARY says whether all are 0/1). Arrays owned by the struct (node_cli_ml_rows_free). */
typedef struct {
    size_t n;
    size_t *gi, *ti;  /* genotype row / table row of each sample (SIZE_MAX: none) */
    const char **ids; /* borrowed from the data */
    double *y;        /* NULL without a label */
    bool binary;
} node_cli_ml_rows_t;
int node_cli_ml_rows(const node_cli_ml_data_t *d, const char *label, node_cli_ml_rows_t *out,
                     char *err, size_t cap) PROTO_WUR;
void node_cli_ml_rows_free(node_cli_ml_rows_t *r);
/*  The features of model M (by feature id: an rsid, a numeric column, or "column=level") for
 *  rows IDX[0..K) of R, into a new K x p matrix *X; missing values take the model's scaling
 *  mean (else the SNP mean or 0). Errors: ML_E_NOT_FOUND (a feature is absent), NOMEM. */
int node_cli_ml_features(const ml_model_t *m, const node_cli_ml_data_t *d,
                         const node_cli_ml_rows_t *r, const size_t *idx, size_t k, ml_mat_t **x,
                         char *err, size_t cap) PROTO_WUR;
/*  A PRS dosage view over rows IDX[0..K) of R and SNP columns COLS[0..M) (NULL: all), with its
 *  own copied dosages (node_cli_ml_view_free). Errors: PROTO_E_NOMEM, ML_E_ARG (no genotypes). */
int node_cli_ml_view(const node_cli_ml_data_t *d, const node_cli_ml_rows_t *r, const size_t *idx,
                     size_t k, const size_t *cols, size_t m, ml_dosage_view_t *v, char *err,
                     size_t cap) PROTO_WUR;
void node_cli_ml_view_free(ml_dosage_view_t *v);
/*  V written with thousands separators ("5,000") into BUF; returns BUF. */
const char *node_cli_ml_count(size_t v, char buf[static 32]);
/*  Prints "genie: MESSAGE" on stderr (progress). */
void node_cli_ml_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

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

#include "proto/proto_err.h"

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

/*  Prints VALUE as indented JSON and a newline on stdout. */
void node_cli_print_json(const json_t *value);

/*  Prints "KEY:" padded to WIDTH columns, then the formatted value and a newline. */
void node_cli_print_kv(int width, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*  Prints "genie: error: <message>" on stderr; returns NODE_CLI_EXIT_ERROR. */
int node_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*  Prints "genie: error: <message>" and "try 'genie help'" on stderr; returns
 *  NODE_CLI_EXIT_USAGE. */
int node_cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*  Option with a value: if ARGV[*I] is "NAME VALUE" or "NAME=VALUE", sets *VALUE,
 *  advances *I past it and returns 1; returns 0 if ARGV[*I] is another option, and -1
 *  (after printing a usage error) if the value is missing. */
int node_cli_opt_value(int argc, char **argv, int *i, const char *name, const char **value);

/*  Reads one line from FD into BUF (CAP bytes, NUL-terminated, newline and a trailing CR
 *  stripped; *LEN its length) without stdio buffering, for passphrases. 0 on success (also
 *  at EOF), -1 on a read error, -2 if the line does not fit. */
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

#endif

/*  node_config: the command line of genie-node, parsed and validated.
 *
 *  node_config_parse turns argv into a checked configuration without printing anything
 *  or exiting: every bad flag, missing value or unknown option gives -1 and one line
 *  saying what is wrong, which the main prints as "genie-node: error: ..." (exit 2).
 *  Checks are syntactic only (shapes of endpoints, node ids, role names, log levels);
 *  whether a port can be bound or a file read is found out at start-up.
 *
 *  The help text (node_config_help) documents exactly the flags parsed here.
 */
#ifndef GENIE_NODE_CONFIG_H
#define GENIE_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_log.h"
#include "proto/proto_err.h"

#define NODE_VERSION "0.1.0"
#define NODE_MAX_LISTEN 4 /* equals P2P_MAX_LISTEN (checked in node_app.c) */
#define NODE_MAX_PEERS 64
#define NODE_ENDPOINT_MAX 128 /* equals P2P_ENDPOINT_MAX, including the NUL */
#define NODE_NODEID_HEX_LEN 64

/*  Roles a node takes on (--role); a bitmask, carried opaquely by the p2p layer. */
typedef enum {
    NODE_ROLE_AUTHORITY = 1u << 0,
    NODE_ROLE_DATA_OWNER = 1u << 1,
    NODE_ROLE_TRAINER = 1u << 2,
    NODE_ROLE_ENCLAVE_RUNNER = 1u << 3,
    NODE_ROLE_USER = 1u << 4,
    NODE_ROLE_AUDITOR = 1u << 5
} node_role_t;

#define NODE_ROLE_COUNT 6
#define NODE_ROLE_DEFAULT NODE_ROLE_USER

/*  What the command line asks for. */
typedef enum {
    NODE_CONFIG_RUN = 0, /* start the node */
    NODE_CONFIG_HELP,    /* print node_config_help() and exit 0 */
    NODE_CONFIG_VERSION  /* print the version and exit 0 */
} node_config_action_t;

typedef struct node_config_t node_config_t;

/*  Empty configuration (defaults: --rpc 127.0.0.1:0, --log-level info, role user).
 *  NULL on allocation failure. Caller destroys. */
node_config_t *node_config_new(void);

/*  Frees the configuration and every string it copied; tolerates NULL; sets *self_p to
 *  NULL. */
void node_config_destroy(node_config_t **self_p);

/*  Parses ARGV (ARGC entries, ARGV[0] the program name) into SELF, which must be fresh.
 *  Strings are copied; ARGV is not modified. Uses getopt_long (not thread-safe; resets
 *  its state first, so it may be called repeatedly). Returns 0 (see node_config_action),
 *  or NODE_E_FAILED with one line (no program prefix, no newline) in ERR (ERR_CAP bytes).
 *  --help / --version win over anything after them and skip the required-flag checks. */
int node_config_parse(node_config_t *self, int argc, char *const argv[], char *err,
                      size_t err_cap) PROTO_WUR;

/*  The --help text (static, ends with a newline). */
const char *node_config_help(void);

/*  Parses a comma list of role names into a bitmask. 0 or NODE_E_FAILED with ERR filled. */
int node_config_roles_parse(const char *text, uint32_t *roles, char *err, size_t err_cap) PROTO_WUR;

/*  Name of the single role bit ROLE ("authority", ...), or NULL if it is not one. */
const char *node_config_role_name(uint32_t role);

/*  Accessors; strings are owned by SELF and live until it is destroyed. */
node_config_action_t node_config_action(const node_config_t *self);
const char *node_config_datadir(const node_config_t *self);
size_t node_config_listen_count(const node_config_t *self);
const char *node_config_listen(const node_config_t *self, size_t i);
size_t node_config_peer_count(const node_config_t *self);
/*  Peers as given ("NODEID@tcp://IP:PORT"), as an array of N strings. */
const char *const *node_config_peers(const node_config_t *self);
uint32_t node_config_roles(const node_config_t *self);
/*  --genesis FILE, or NULL when not given. */
const char *node_config_genesis(const node_config_t *self);
/*  --chain-name NAME (a p2p-only network), or NULL when not given. */
const char *node_config_chain_name(const node_config_t *self);
/*  RPC bind address "127.0.0.1:PORT", or NULL for --rpc off. */
const char *node_config_rpc(const node_config_t *self);
proto_log_level_t node_config_log_level(const node_config_t *self);
/*  --log-file FILE, or NULL for stderr. */
const char *node_config_log_file(const node_config_t *self);
/*  --max-peers, or 0 when not given (the p2p default applies). */
uint32_t node_config_max_peers(const node_config_t *self);
/*  --validator-key FILE, or NULL when not given. */
const char *node_config_validator_key(const node_config_t *self);
/*  --platform-cert FILE, or NULL when not given. */
const char *node_config_platform_cert(const node_config_t *self);
/*  --account ID (64 hex characters, checked), or NULL when not given. */
const char *node_config_account(const node_config_t *self);
/*  --auto-donate: the market service donates matching offers by itself. */
bool node_config_auto_donate(const node_config_t *self);

#endif

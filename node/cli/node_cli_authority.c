/*  node_cli_authority: the authorities' own command, a vote to change their set.
 *
 *    authority vote add|remove KEY [--key-file FILE | --from ACCOUNT_ID] [--wait SEC]
 *                   [--passphrase-file FILE]
 *        signs an AUTH_VOTE tx (ledger_contract_authority.c: [action, subject]) with the
 *        voting authority's key and submits it. The key is the authority's account keystore
 *        (the file genie-node --validator-key reads) given as --key-file, or an account key
 *        of DATADIR/accounts/ (the only one, or --from). The change applies in the block
 *        where more than half of the current authorities have voted for it; the node
 *        refuses a vote from a key that is not an authority, a second vote by the same
 *        authority, or a change that makes no sense now (adding a member, removing the
 *        last authority), with the reason. --wait polls tx_status until the vote is
 *        committed; `genie authorities` shows the set.
 *  Prints JSON with --json.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_tx.h"
#include "node/cli/node_cli.h"
#include "proto/proto_hex.h"

#define KV_WIDTH 12

typedef struct {
    uint32_t action;
    uint8_t subject[32];
} s_vote_t;

static uint8_t *s_build_vote(const void *ctx, const proto_key_t *key, const uint8_t chain[32],
                             uint64_t nonce, size_t *len)
{
    const s_vote_t *v = ctx;
    return ledger_contract_auth_vote_tx(key, chain, nonce, v->action, v->subject, len);
}

static void s_print(node_cli_t *cli, const node_cli_tx_t *tx, const char *action,
                    const char *subject)
{
    const json_t *done = tx->done;
    if (node_cli_json(cli)) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I}", "txid", tx->txid, "from", tx->account,
                              "action", action, "subject", subject, "nonce", (json_int_t)tx->nonce);
        json_object_set_new(j, "status",
                            done ? json_string(node_cli_jstr(done, "status"))
                                 : json_string("pending"));
        if (done && json_is_integer(json_object_get(done, "height")))
            json_object_set_new(j, "height", json_integer(node_cli_jint(done, "height")));
        node_cli_print_json(j);
        json_decref(j);
        return;
    }
    node_cli_print_kv(KV_WIDTH, "txid", "%s", tx->txid);
    node_cli_print_kv(KV_WIDTH, "from", "%s", tx->account);
    node_cli_print_kv(KV_WIDTH, "vote", "%s %s", action, subject);
    node_cli_print_kv(KV_WIDTH, "nonce", "%" PRIu64, tx->nonce);
    if (done)
        node_cli_print_kv(KV_WIDTH, "committed", "height %" JSON_INTEGER_FORMAT,
                          node_cli_jint(done, "height"));
    else
        node_cli_print_kv(KV_WIDTH, "status", "submitted");
}

int node_cli_cmd_authority_vote(node_cli_t *cli, int argc, char **argv)
{
    const char *pos[2];
    int npos = 0;
    const char *from = NULL, *key_file = NULL, *wait_text = NULL, *pass_file = NULL;
    const node_cli_opt_t opts[] = {{"--from", &from, NULL},
                                   {"--key-file", &key_file, NULL},
                                   {"--wait", &wait_text, NULL},
                                   {"--passphrase-file", &pass_file, NULL},
                                   {NULL, NULL, NULL}};
    if (node_cli_opts("authority vote", argc, argv, opts, pos, 2, &npos) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    if (npos != 2)
        return node_cli_usage("'authority vote' needs add|remove KEY");
    s_vote_t v = {0};
    if (strcmp(pos[0], "add") == 0)
        v.action = LEDGER_AUTH_ADD;
    else if (strcmp(pos[0], "remove") == 0)
        v.action = LEDGER_AUTH_REMOVE;
    else
        return node_cli_usage("'authority vote' wants add or remove, not '%s'", pos[0]);
    if (strlen(pos[1]) != 64 || proto_hex_decode(pos[1], v.subject, 32) != 0)
        return node_cli_usage("KEY must be an authority's public key (64 hex characters)");
    if (key_file && from)
        return node_cli_usage("give --key-file or --from, not both");
    long wait_s = 0;
    int rc = node_cli_wait_opt(wait_text, &wait_s);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    node_cli_tx_t tx = {0};
    if (key_file) {
        proto_key_t *key = NULL;
        rc = node_cli_key_file(key_file, pass_file, &key);
        if (rc == NODE_CLI_EXIT_OK)
            rc = node_cli_tx_submit_key(cli, key, (uint64_t)wait_s, s_build_vote, &v, &tx);
        proto_key_destroy(&key);
    } else {
        rc = node_cli_tx_sign_submit(cli, "authority vote", from, pass_file, (uint64_t)wait_s,
                                     s_build_vote, &v, &tx);
    }
    if (rc == NODE_CLI_EXIT_OK)
        s_print(cli, &tx, pos[0], pos[1]);
    node_cli_tx_clear(&tx);
    return rc;
}

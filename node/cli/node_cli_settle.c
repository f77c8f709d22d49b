/*  node_cli_settle: training jobs, models, paid queries and settlement, each a call of the
 *  node's settlement methods (node/service/node_settle_rpc.h); the node signs with its own
 *  account key:
 *
 *    train start SPEC --coordinator ENCLAVE --rounds N --query-measurement HEX [--wait SEC]
 *    models [--spec ID]
 *    model show ID
 *    query buy MODEL --count N [--wait SEC]   (the node keeps the access code in
 *                                               DATADIR/access/<buy id>.code, mode 0600)
 *    earnings
 *    claim [--model ID] [--wait SEC]           (no model: role earnings and every model
 *                                               where the account is owed a donor share)
 *
 *  --wait SEC waits until the transaction(s) are committed. Every command prints JSON with
 *  --json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/cli/node_cli.h"

#define KV 18

int node_cli_cmd_train_start(node_cli_t *cli, int argc, char **argv)
{
    const char *spec = NULL, *coord = NULL, *rounds = NULL, *qm = NULL, *wait_text = NULL;
    const node_cli_opt_t opts[] = {{"--coordinator", &coord, NULL},
                                   {"--rounds", &rounds, NULL},
                                   {"--query-measurement", &qm, NULL},
                                   {"--wait", &wait_text, NULL},
                                   {NULL, NULL, NULL}};
    long wait_s;
    uint64_t n;
    int rc = node_cli_opts("train start", argc, argv, opts, &spec, 1, NULL);
    if (rc != NODE_CLI_EXIT_OK || (rc = node_cli_wait_opt(wait_text, &wait_s)) != NODE_CLI_EXIT_OK)
        return rc;
    if (!spec || !coord || !rounds || !qm)
        return node_cli_usage("'train start' needs SPEC, --coordinator ENCLAVE, --rounds N and "
                              "--query-measurement HEX");
    if (node_cli_parse_u64(rounds, &n) != 0 || n < 1 || n > 100)
        return node_cli_usage("--rounds wants a number 1..100");
    json_t *r = NULL;
    json_t *params = json_pack("{s:s,s:s,s:I,s:s}", "spec_id", spec, "coordinator", coord, "rounds",
                               (json_int_t)n, "query_measurement", qm);
    if ((rc = node_cli_call(cli, "train_start", params, &r)) != NODE_CLI_EXIT_OK)
        return rc;
    rc = node_cli_wait_status(cli, r, node_cli_jstr(r, "txid"), wait_s);
    node_cli_print_flat(cli, r, KV);
    json_decref(r);
    return rc;
}

static void s_print_model(const json_t *m, bool full)
{
    printf("model %s\n", node_cli_jstr(m, "model_id"));
    node_cli_print_kv(KV, "  spec", "%s", node_cli_jstr(m, "spec_id"));
    node_cli_print_kv(KV, "  model hash", "%s", node_cli_jstr(m, "model_hash"));
    node_cli_print_kv(
        KV, "  records",
        "%" JSON_INTEGER_FORMAT " (train %" JSON_INTEGER_FORMAT ", test %" JSON_INTEGER_FORMAT ")",
        node_cli_jint(m, "n_records"), node_cli_jint(m, "n_train"), node_cli_jint(m, "n_test"));
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(m, "metrics"), name, v)
    {
        char key[40];
        snprintf(key, sizeof key, "  %s", name);
        node_cli_print_kv(KV, key, "%.6f", json_real_value(v));
    }
    node_cli_print_kv(KV, "  height", "%" JSON_INTEGER_FORMAT, node_cli_jint(m, "height"));
    if (!full)
        return;
    node_cli_print_kv(KV, "  job", "%s", node_cli_jstr(m, "job_id"));
    node_cli_print_kv(KV, "  coordinator", "%s", node_cli_jstr(m, "coordinator"));
    node_cli_print_kv(KV, "  query enclaves", "%s", node_cli_jstr(m, "query_measurement"));
    const json_t *spec = json_object_get(m, "spec");
    if (json_is_object(spec))
        node_cli_print_kv(KV, "  price", "%" JSON_INTEGER_FORMAT " per query",
                          node_cli_jint(spec, "price"));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(m, "parties"), i, p)
    {
        char key[40];
        snprintf(key, sizeof key, "  party %zu", i);
        node_cli_print_kv(KV, key, "%s  %" JSON_INTEGER_FORMAT " records  weight %.2f%%",
                          node_cli_jstr(p, "enclave_id"), node_cli_jint(p, "n_records"),
                          (double)node_cli_jint(p, "weight_bp") / 100.0);
    }
}

int node_cli_cmd_models(node_cli_t *cli, int argc, char **argv)
{
    const char *spec = NULL;
    const node_cli_opt_t opts[] = {{"--spec", &spec, NULL}, {NULL, NULL, NULL}};
    int rc = node_cli_opts("models", argc, argv, opts, NULL, 0, NULL);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    json_t *r = NULL;
    if ((rc = node_cli_call(cli, "models", spec ? json_pack("{s:s}", "spec_id", spec) : NULL,
                            &r)) != NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli)) {
        node_cli_print_json(r);
    } else {
        size_t i;
        json_t *m;
        if (json_array_size(r) == 0)
            printf("no models published\n");
        json_array_foreach(r, i, m) s_print_model(m, false);
    }
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_model_show(node_cli_t *cli, int argc, char **argv)
{
    const char *id = NULL;
    int rc = node_cli_opts("model show", argc, argv, (const node_cli_opt_t[]){{NULL, NULL, NULL}},
                           &id, 1, NULL);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (!id)
        return node_cli_usage("'model show' needs a model id");
    json_t *r = NULL;
    if ((rc = node_cli_call(cli, "model_show", json_pack("{s:s}", "model_id", id), &r)) !=
        NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli))
        node_cli_print_json(r);
    else
        s_print_model(r, true);
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_query_buy(node_cli_t *cli, int argc, char **argv)
{
    const char *model = NULL, *count = NULL, *wait_text = NULL;
    const node_cli_opt_t opts[] = {
        {"--count", &count, NULL}, {"--wait", &wait_text, NULL}, {NULL, NULL, NULL}};
    long wait_s;
    uint64_t n;
    int rc = node_cli_opts("query buy", argc, argv, opts, &model, 1, NULL);
    if (rc != NODE_CLI_EXIT_OK || (rc = node_cli_wait_opt(wait_text, &wait_s)) != NODE_CLI_EXIT_OK)
        return rc;
    if (!model || !count)
        return node_cli_usage("'query buy' needs MODEL and --count N");
    if (node_cli_parse_u64(count, &n) != 0 || n < 1 || n > 1000000)
        return node_cli_usage("--count wants a number of queries 1..1000000");
    json_t *r = NULL;
    if ((rc = node_cli_call(cli, "query_buy",
                            json_pack("{s:s,s:I}", "model_id", model, "count", (json_int_t)n),
                            &r)) != NODE_CLI_EXIT_OK)
        return rc;
    rc = node_cli_wait_status(cli, r, node_cli_jstr(r, "txid"), wait_s);
    node_cli_print_flat(cli, r, KV);
    json_decref(r);
    return rc;
}

int node_cli_cmd_earnings(node_cli_t *cli, int argc, char **argv)
{
    int rc = node_cli_opts("earnings", argc, argv, (const node_cli_opt_t[]){{NULL, NULL, NULL}},
                           NULL, 0, NULL);
    json_t *r = NULL;
    if (rc != NODE_CLI_EXIT_OK || (rc = node_cli_call(cli, "earnings", NULL, &r)) != 0)
        return rc;
    if (node_cli_json(cli)) {
        node_cli_print_json(r);
    } else {
        node_cli_print_kv(KV, "account", "%s", node_cli_jstr(r, "account"));
        node_cli_print_kv(KV, "balance", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "balance"));
        node_cli_print_kv(KV, "role earnings", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "role"));
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(r, "models"), i, m)
        {
            char key[40];
            snprintf(key, sizeof key, "model %.16s", node_cli_jstr(m, "model_id"));
            node_cli_print_kv(
                KV, key, "%" JSON_INTEGER_FORMAT " owed (%" JSON_INTEGER_FORMAT " records used)",
                node_cli_jint(m, "owed"), node_cli_jint(m, "n_records"));
        }
        node_cli_print_kv(KV, "owed in all", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "owed"));
    }
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_claim(node_cli_t *cli, int argc, char **argv)
{
    const char *model = NULL, *wait_text = NULL;
    const node_cli_opt_t opts[] = {
        {"--model", &model, NULL}, {"--wait", &wait_text, NULL}, {NULL, NULL, NULL}};
    long wait_s;
    int rc = node_cli_opts("claim", argc, argv, opts, NULL, 0, NULL);
    if (rc != NODE_CLI_EXIT_OK || (rc = node_cli_wait_opt(wait_text, &wait_s)) != NODE_CLI_EXIT_OK)
        return rc;
    json_t *r = NULL;
    if ((rc = node_cli_call(cli, "claim", model ? json_pack("{s:s}", "model_id", model) : NULL,
                            &r)) != NODE_CLI_EXIT_OK)
        return rc;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(r, "txids"), i, t)
    {
        if (rc == NODE_CLI_EXIT_OK)
            rc = node_cli_wait_status(cli, r, json_string_value(t), wait_s);
    }
    if (rc == NODE_CLI_EXIT_OK && json_object_get(r, "error"))
        rc = node_cli_fail("%s", node_cli_jstr(r, "error"));
    if (node_cli_json(cli)) {
        node_cli_print_json(r);
    } else {
        node_cli_print_kv(KV, "claimed", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "owed"));
        node_cli_print_kv(KV, "role earnings", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "role"));
        json_array_foreach(json_object_get(r, "txids"), i, t)
            node_cli_print_kv(KV, "txid", "%s", json_string_value(t));
        if (json_object_get(r, "status"))
            node_cli_print_kv(KV, "status", "%s", node_cli_jstr(r, "status"));
    }
    json_decref(r);
    return rc;
}

/*  node_cli_train: training progress (node/service/node_train.h):
 *
 *    train status SPEC     the spec's current job and published model on the ledger and,
 *                          on the runner that drives the job, its phase, rounds done /
 *                          total, parties and their counts
 *
 *  (`train start` is node_cli_settle.c's.) Prints JSON with --json.
 */
#include <stdio.h>
#include <string.h>

#include "node/cli/node_cli.h"

#define KV 14

static void s_print_job(const json_t *job)
{
    node_cli_print_kv(KV, "job", "%s", node_cli_jstr(job, "id"));
    node_cli_print_kv(KV, "status", "%s", node_cli_jstr(job, "status"));
    node_cli_print_kv(KV, "coordinator", "%s", node_cli_jstr(job, "coordinator"));
    node_cli_print_kv(KV, "rounds", "%" JSON_INTEGER_FORMAT, node_cli_jint(job, "rounds"));
    node_cli_print_kv(KV, "started at", "%" JSON_INTEGER_FORMAT, node_cli_jint(job, "height"));
}

static void s_print_model(const json_t *m)
{
    node_cli_print_kv(KV, "model", "%s", node_cli_jstr(m, "id"));
    node_cli_print_kv(KV, "model hash", "%s", node_cli_jstr(m, "model_hash"));
    node_cli_print_kv(KV, "samples",
                      "%" JSON_INTEGER_FORMAT " train, %" JSON_INTEGER_FORMAT
                      " test, %" JSON_INTEGER_FORMAT " records",
                      node_cli_jint(m, "n_train"), node_cli_jint(m, "n_test"),
                      node_cli_jint(m, "n_records"));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(m, "metrics"), key, v)
        node_cli_print_kv(KV, key, "%.6f", json_number_value(v));
    size_t i;
    json_array_foreach(json_object_get(m, "parties"), i, v)
        printf("  party %zu  %.16s  %" JSON_INTEGER_FORMAT " records  weight %" JSON_INTEGER_FORMAT
               " bp\n",
               i, node_cli_jstr(v, "enclave"), node_cli_jint(v, "n_records"),
               node_cli_jint(v, "weight_bp"));
}

static void s_print_local(const json_t *l)
{
    node_cli_print_kv(KV, "phase", "%s", node_cli_jstr(l, "phase"));
    node_cli_print_kv(KV, "progress", "round %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT,
                      node_cli_jint(l, "round"), node_cli_jint(l, "rounds"));
    const char *why = node_cli_jstr(l, "why");
    if (why[0] && strcmp(why, "-") != 0)
        node_cli_print_kv(KV, "note", "%s", why);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(l, "parties"), i, p) printf(
        "  party %zu  %.16s%s  eligible %" JSON_INTEGER_FORMAT "  records %" JSON_INTEGER_FORMAT
        "  dropped %" JSON_INTEGER_FORMAT "  %s\n",
        i, node_cli_jstr(p, "enclave"),
        json_is_true(json_object_get(p, "coordinator")) ? " (coordinator)" : "",
        node_cli_jint(p, "eligible"), node_cli_jint(p, "n_records"), node_cli_jint(p, "dropped"),
        json_is_true(json_object_get(p, "prepared")) ? "prepared" : "not prepared");
}

int node_cli_cmd_train_status(node_cli_t *cli, int argc, char **argv)
{
    const char *spec = NULL;
    int rc = node_cli_opts("train status", argc, argv, (const node_cli_opt_t[]){{NULL, NULL, NULL}},
                           &spec, 1, NULL);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (!spec)
        return node_cli_usage("'train status' needs SPEC (a spec id)");
    json_t *r = NULL;
    if ((rc = node_cli_call(cli, "train_status", json_pack("{s:s}", "spec", spec), &r)) !=
        NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli)) {
        node_cli_print_json(r);
    } else {
        node_cli_print_kv(KV, "spec", "%s", node_cli_jstr(r, "spec"));
        json_t *job = json_object_get(r, "job"), *model = json_object_get(r, "model");
        json_t *local = json_object_get(r, "local");
        if (json_is_object(job))
            s_print_job(job);
        else
            printf("no training job for this spec\n");
        if (json_is_object(model))
            s_print_model(model);
        if (json_is_object(local))
            s_print_local(local);
    }
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

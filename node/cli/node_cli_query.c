/*  node_cli_query: paid queries (node/service/node_query.h):
 *
 *    query run MODEL --input FILE [--buy ID]
 *        FILE: a CSV whose header names the model's features (the first column is the row
 *        id, as in the phenotype files); the node seals the rows with a fresh reply key to
 *        a query enclave of the model with the buy's access code, and opens the answer:
 *        one prediction per row. Without --buy, the newest buy of this node's account for
 *        the model with an access code in its datadir.
 *    query status [--flush]
 *        on a query runner: its query enclaves (chain, loaded models with their hashes)
 *        and the usage of each buy served (reported, submitted, confirmed); --flush asks
 *        every served buy's usage now and claims it.
 *
 *  (`query buy` is node_cli_settle.c's.) Prints JSON with --json.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ml/ml_csv.h"
#include "node/cli/node_cli.h"

#define KV 14

/* The CSV at PATH as {columns, rows} (every non-id column; a missing or non-numeric
   value is null) into *PARAMS, and the row ids into *IDS. Exit status. */
static int s_input(const char *path, json_t *params, json_t **ids)
{
    char err[256];
    ml_table_t *t = NULL;
    ml_csv_opts_t opts = ml_csv_opts_default();
    opts.max_rows = 1024;
    if (ml_csv_load(path, &opts, &t, err, sizeof err) != 0)
        return node_cli_fail("%s: %s", path, err);
    json_t *cols = json_array(), *rows = json_array();
    *ids = json_array();
    size_t idc = ml_table_id_col(t);
    for (size_t j = 0; j < ml_table_cols(t); j++)
        if (j != idc)
            json_array_append_new(cols, json_string(ml_table_col_name(t, j)));
    for (size_t i = 0; i < ml_table_rows(t); i++) {
        json_t *row = json_array();
        for (size_t j = 0; j < ml_table_cols(t); j++) {
            if (j == idc)
                continue;
            double v = ml_table_num(t, i, j);
            json_array_append_new(row, isfinite(v) ? json_real(v) : json_null());
        }
        json_array_append_new(rows, row);
        json_array_append_new(*ids, json_string(ml_table_id(t, i)));
    }
    ml_table_destroy(&t);
    json_object_set_new(params, "columns", cols);
    json_object_set_new(params, "rows", rows);
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_query_run(node_cli_t *cli, int argc, char **argv)
{
    const char *model = NULL, *input = NULL, *buy = NULL;
    const node_cli_opt_t opts[] = {
        {"--input", &input, NULL}, {"--buy", &buy, NULL}, {NULL, NULL, NULL}};
    int rc = node_cli_opts("query run", argc, argv, opts, &model, 1, NULL);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (!model || !input)
        return node_cli_usage("'query run' needs MODEL and --input FILE");
    json_t *params = json_pack("{s:s}", "model", model), *ids = NULL, *r = NULL;
    if (buy)
        json_object_set_new(params, "buy", json_string(buy));
    if ((rc = s_input(input, params, &ids)) != NODE_CLI_EXIT_OK) {
        json_decref(params);
        json_decref(ids);
        return rc;
    }
    if ((rc = node_cli_call(cli, "query_run", params, &r)) != NODE_CLI_EXIT_OK) {
        json_decref(ids);
        return rc;
    }
    if (node_cli_json(cli)) {
        json_object_set(r, "ids", ids);
        node_cli_print_json(r);
    } else {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(r, "predictions"), i, p)
            printf("%s\t%.6f\n", json_string_value(json_array_get(ids, i)), json_number_value(p));
        fprintf(stderr,
                "buy %.16s: %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
                " queries used (enclave %.16s)\n",
                node_cli_jstr(r, "buy"), node_cli_jint(r, "used"), node_cli_jint(r, "count"),
                node_cli_jstr(r, "enclave"));
    }
    json_decref(ids);
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_query_status(node_cli_t *cli, int argc, char **argv)
{
    bool flush = false;
    const node_cli_opt_t opts[] = {{"--flush", NULL, &flush}, {NULL, NULL, NULL}};
    int rc = node_cli_opts("query status", argc, argv, opts, NULL, 0, NULL);
    json_t *r = NULL;
    if (rc != NODE_CLI_EXIT_OK ||
        (rc = node_cli_call(cli, "query_status", json_pack("{s:b}", "flush", flush), &r)) !=
            NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli)) {
        node_cli_print_json(r);
    } else {
        size_t i, k;
        json_t *e, *m;
        json_array_foreach(json_object_get(r, "enclaves"), i, e)
        {
            printf("enclave %.16s  chain %s  %s\n", node_cli_jstr(e, "enclave"),
                   json_is_true(json_object_get(e, "chain")) ? "ok" : "not yet",
                   node_cli_jstr(e, "why"));
            json_array_foreach(json_object_get(e, "models"), k, m)
                printf("  model %.16s  hash %s\n", node_cli_jstr(m, "model"),
                       node_cli_jstr(m, "model_hash"));
        }
        json_array_foreach(json_object_get(r, "usage"), i, e) printf(
            "buy %.16s  enclave %.16s  reported %" JSON_INTEGER_FORMAT
            "  submitted %" JSON_INTEGER_FORMAT "  confirmed %" JSON_INTEGER_FORMAT "\n",
            node_cli_jstr(e, "buy"), node_cli_jstr(e, "enclave"), node_cli_jint(e, "reported"),
            node_cli_jint(e, "submitted"), node_cli_jint(e, "confirmed"));
    }
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

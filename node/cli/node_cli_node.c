/*  node_cli_node: CLI commands that talk to a running genie-node over its control API
 *  (status, stop). */
#include <stdio.h>
#include <string.h>

#include "node/cli/node_cli.h"

#define KV_WIDTH 10

/*  Prints the string members of array ARR joined by SEP, or "-" when empty. */
static void s_print_joined(const json_t *arr, const char *sep)
{
    size_t i;
    json_t *v;
    bool any = false;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v)) {
            printf("%s%s", any ? sep : "", json_string_value(v));
            any = true;
        }
    }
    if (!any)
        fputs("-", stdout);
}

int node_cli_cmd_status(node_cli_t *cli, int argc, char **argv)
{
    json_t *result = NULL;
    if (argc > 0)
        return node_cli_usage("'status' takes no arguments (got '%s')", argv[0]);
    int rc = node_cli_call(cli, "status", NULL, &result);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli)) {
        node_cli_print_json(result);
    } else if (!json_is_object(result)) {
        rc = node_cli_fail("status: malformed answer from the node");
    } else {
        node_cli_print_kv(KV_WIDTH, "node id", "%s", node_cli_jstr(result, "node_id"));
        node_cli_print_kv(KV_WIDTH, "address", "%s", node_cli_jstr(result, "address"));
        printf("%-*s ", KV_WIDTH, "roles:");
        s_print_joined(json_object_get(result, "roles"), ", ");
        putchar('\n');
        printf("%-*s ", KV_WIDTH, "listen:");
        s_print_joined(json_object_get(result, "listen"), " ");
        putchar('\n');
        printf("%-*s ", KV_WIDTH, "rooms:");
        s_print_joined(json_object_get(result, "rooms"), ", ");
        putchar('\n');
        node_cli_print_kv(KV_WIDTH, "chain id", "%s", node_cli_jstr(result, "chain_id"));
        node_cli_print_kv(KV_WIDTH, "uptime", "%" JSON_INTEGER_FORMAT " s",
                          json_integer_value(json_object_get(result, "uptime_s")));
        node_cli_print_kv(KV_WIDTH, "version", "%s", node_cli_jstr(result, "version"));
        node_cli_print_kv(KV_WIDTH, "pid", "%" JSON_INTEGER_FORMAT,
                          json_integer_value(json_object_get(result, "pid")));
    }
    json_decref(result);
    return rc;
}

int node_cli_cmd_stop(node_cli_t *cli, int argc, char **argv)
{
    json_t *result = NULL;
    if (argc > 0)
        return node_cli_usage("'stop' takes no arguments (got '%s')", argv[0]);
    int rc = node_cli_call(cli, "stop", NULL, &result);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli))
        node_cli_print_json(result);
    else
        puts("node stopping");
    json_decref(result);
    return rc;
}

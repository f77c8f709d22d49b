/*  node_cli_enclave_run: the enclave-runner commands of the genie CLI, all through the
 *  runner node's control API (node/service/node_enclave.h):
 *    enclave spawn KIND          spawn, attest and (automatically) register an enclave
 *    enclave stop ID             stop one (its local number or enclave id)
 *    enclave local               the runner's enclaves: pid, status, restarts, registration
 *    enclave cert-install FILE   install the platform certificate `genie attest certify`
 *                                wrote (FILE holds its wire form)
 *    enclave platform            the runner's platform key and certificate
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/cli/node_cli.h"
#include "node/app/node_datadir.h"
#include "proto/proto_attest.h"
#include "proto/proto_hex.h"

#define KV_WIDTH 18

static int s_no_more(int argc, const char *cmd, char **argv, int from)
{
    if (argc > from)
        return node_cli_usage("'%s' does not take '%s'", cmd, argv[from]);
    return NODE_CLI_EXIT_OK;
}

static int s_print(node_cli_t *cli, json_t *r, void (*text)(const json_t *))
{
    if (node_cli_json(cli))
        node_cli_print_json(r);
    else
        text(r);
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

static void s_print_spawn(const json_t *r)
{
    node_cli_print_kv(KV_WIDTH, "local", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "local"));
    node_cli_print_kv(KV_WIDTH, "kind", "%s", node_cli_jstr(r, "kind"));
    node_cli_print_kv(KV_WIDTH, "pid", "%" JSON_INTEGER_FORMAT, node_cli_jint(r, "pid"));
    node_cli_print_kv(KV_WIDTH, "enclave", "%s", node_cli_jstr(r, "id"));
}

int node_cli_cmd_enclave_spawn(node_cli_t *cli, int argc, char **argv)
{
    if (argc < 1)
        return node_cli_usage("'enclave spawn' needs KIND (validation, training or query)");
    int rc = s_no_more(argc, "enclave spawn", argv, 1);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    json_t *r = NULL;
    rc = node_cli_call(cli, "enclave_spawn", json_pack("{s:s}", "kind", argv[0]), &r);
    return rc != NODE_CLI_EXIT_OK ? rc : s_print(cli, r, s_print_spawn);
}

static void s_print_stop(const json_t *r)
{
    printf("stopped enclave %" JSON_INTEGER_FORMAT "\n", node_cli_jint(r, "local"));
}

int node_cli_cmd_enclave_stop(node_cli_t *cli, int argc, char **argv)
{
    if (argc < 1)
        return node_cli_usage("'enclave stop' needs ID (a local number or an enclave id)");
    int rc = s_no_more(argc, "enclave stop", argv, 1);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    json_t *r = NULL;
    rc = node_cli_call(cli, "enclave_stop", json_pack("{s:s}", "id", argv[0]), &r);
    return rc != NODE_CLI_EXIT_OK ? rc : s_print(cli, r, s_print_stop);
}

static void s_print_local(const json_t *arr)
{
    size_t i;
    json_t *e;
    if (json_array_size(arr) == 0) {
        puts("no enclaves on this runner");
        return;
    }
    json_array_foreach(arr, i, e)
    {
        if (i)
            putchar('\n');
        node_cli_print_kv(KV_WIDTH, "local", "%" JSON_INTEGER_FORMAT, node_cli_jint(e, "local"));
        node_cli_print_kv(KV_WIDTH, "enclave", "%s", node_cli_jstr(e, "id"));
        node_cli_print_kv(KV_WIDTH, "kind", "%s", node_cli_jstr(e, "kind"));
        node_cli_print_kv(KV_WIDTH, "pid", "%" JSON_INTEGER_FORMAT, node_cli_jint(e, "pid"));
        node_cli_print_kv(KV_WIDTH, "status", "%s", node_cli_jstr(e, "status"));
        node_cli_print_kv(KV_WIDTH, "restarts", "%" JSON_INTEGER_FORMAT,
                          node_cli_jint(e, "restarts"));
        node_cli_print_kv(KV_WIDTH, "registration", "%s", node_cli_jstr(e, "registration"));
        node_cli_print_kv(KV_WIDTH, "registered height", "%" JSON_INTEGER_FORMAT,
                          node_cli_jint(e, "registered_height"));
        node_cli_print_kv(KV_WIDTH, "measurement", "%s", node_cli_jstr(e, "measurement"));
    }
}

int node_cli_cmd_enclave_local(node_cli_t *cli, int argc, char **argv)
{
    int rc = s_no_more(argc, "enclave local", argv, 0);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    json_t *r = NULL;
    rc = node_cli_call(cli, "enclave_local", NULL, &r);
    return rc != NODE_CLI_EXIT_OK ? rc : s_print(cli, r, s_print_local);
}

static void s_print_platform(const json_t *r)
{
    node_cli_print_kv(KV_WIDTH, "platform", "%s", node_cli_jstr(r, "platform_pk"));
    node_cli_print_kv(KV_WIDTH, "backend", "%s", node_cli_jstr(r, "backend"));
    bool cert = json_is_true(json_object_get(r, "certified"));
    node_cli_print_kv(KV_WIDTH, "certified", "%s", cert ? "yes" : "no");
    if (cert) {
        node_cli_print_kv(KV_WIDTH, "runner", "%s", node_cli_jstr(r, "runner_name"));
        node_cli_print_kv(KV_WIDTH, "runner account", "%s", node_cli_jstr(r, "runner_account"));
        node_cli_print_kv(KV_WIDTH, "expires (ms)", "%" JSON_INTEGER_FORMAT,
                          node_cli_jint(r, "expires_ms"));
    }
}

int node_cli_cmd_enclave_platform(node_cli_t *cli, int argc, char **argv)
{
    int rc = s_no_more(argc, "enclave platform", argv, 0);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    json_t *r = NULL;
    rc = node_cli_call(cli, "enclave_platform", NULL, &r);
    return rc != NODE_CLI_EXIT_OK ? rc : s_print(cli, r, s_print_platform);
}

int node_cli_cmd_enclave_cert_install(node_cli_t *cli, int argc, char **argv)
{
    if (argc < 1)
        return node_cli_usage("'enclave cert-install' needs FILE (a platform certificate)");
    int rc = s_no_more(argc, "enclave cert-install", argv, 1);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    uint8_t *buf = NULL;
    size_t len = 0;
    char msg[256];
    if (node_datadir_read_file(argv[0], PROTO_ATTEST_CERT_MAX_BYTES, &buf, &len, msg, sizeof msg) !=
        0)
        return node_cli_fail("%s", msg);
    proto_attest_cert_t cert;
    if (proto_attest_cert_decode(buf, len, &cert) != PROTO_OK) {
        free(buf);
        return node_cli_fail("%s is not a platform certificate", argv[0]);
    }
    char *hex = malloc(2 * len + 1);
    if (!hex) {
        free(buf);
        return node_cli_fail("out of memory");
    }
    proto_hex_encode(buf, len, hex);
    free(buf);
    json_t *r = NULL;
    rc = node_cli_call(cli, "enclave_cert_install", json_pack("{s:s}", "cert", hex), &r);
    free(hex);
    return rc != NODE_CLI_EXIT_OK ? rc : s_print(cli, r, s_print_platform);
}

/*  node_cli_consent: the data owner's consent and audit commands, through the node's data
 *  service (node/service/node_data.h; --role data-owner with an account key):
 *
 *    consent set [--data ID] --allow-types a,b --allow-purposes p [--deny-types x]
 *                [--deny-purposes y] [--max-epsilon E] [--min-audits N]
 *                [--auditors HEX,...] [--wait SEC]
 *        CONSENT_SET for the owner's default (no --data) or one record. Names: 1..32 of
 *        [a-z0-9_-], or * (the explicit wildcard); an allow list left out allows nothing.
 *        E is a decimal epsilon with at most 3 decimals (1.5), recorded in thousandths.
 *    consent show [--data ID]       the consent set for that target (and, for a record,
 *                                   the one in force); "deny by default" when none
 *    consent revoke [--data ID] [--wait SEC]   CONSENT_REVOKE
 *    audit [DATA_ID]                every use of the account's records (or one): what,
 *                                   who (enclave id / account), spec, height, txid
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/cli/node_cli.h"

#define KV_WIDTH 18
#define LIST_MAX 16

/*  A comma list TEXT (may be NULL: empty) as a JSON array of strings into *OUT. */
static int s_list(const char *opt, const char *text, json_t **out)
{
    *out = json_array();
    if (!text)
        return NODE_CLI_EXIT_OK;
    const char *p = text;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == 0 || n > 64 || json_array_size(*out) == LIST_MAX) {
            json_decref(*out);
            *out = NULL;
            return node_cli_usage("%s wants a comma list of at most %d non-empty names", opt,
                                  LIST_MAX);
        }
        json_array_append_new(*out, json_stringn(p, n));
        if (!c)
            return NODE_CLI_EXIT_OK;
        p = c + 1;
    }
}

/*  "1", "0.25", "2.125" as thousandths. 0 or NODE_E_PARAMS. */
static int s_epsilon_milli(const char *text, uint64_t *out)
{
    uint64_t whole = 0, frac = 0;
    int digits = 0;
    const char *p = text;
    if (!*p)
        return NODE_E_PARAMS;
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (uint64_t)(*p - '0');
        if (whole > 4000000)
            return NODE_E_PARAMS;
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
            frac = frac * 10 + (uint64_t)(*p - '0');
        if (digits == 0)
            return NODE_E_PARAMS;
    }
    if (*p)
        return NODE_E_PARAMS;
    for (; digits < 3; digits++)
        frac *= 10;
    *out = whole * 1000 + frac;
    return *out <= UINT32_MAX ? 0 : NODE_E_PARAMS;
}

/*  Prints the {txid} answer R (stolen), after waiting WAIT_S seconds for it to commit. */
static int s_tx_done(node_cli_t *cli, json_t *r, long wait_s)
{
    json_t *st = NULL;
    int rc = node_cli_wait_tx(cli, r, wait_s, &st);
    if (st && strcmp(node_cli_jstr(st, "status"), "committed") != 0)
        rc = node_cli_fail("the tx did not commit: %s %s", node_cli_jstr(st, "status"),
                           node_cli_jstr(st, "reason"));
    json_decref(st);
    if (node_cli_json(cli)) {
        node_cli_print_json(r);
    } else {
        node_cli_print_kv(KV_WIDTH, "txid", "%s", node_cli_jstr(r, "txid"));
        if (json_object_get(r, "tx_status"))
            node_cli_print_kv(KV_WIDTH, "status", "%s at height %" JSON_INTEGER_FORMAT,
                              node_cli_jstr(r, "tx_status"), node_cli_jint(r, "tx_height"));
    }
    json_decref(r);
    return rc;
}

static int s_data_arg(const char *id)
{
    if (id && (strlen(id) != 64 || strspn(id, "0123456789abcdefABCDEF") != 64))
        return node_cli_usage("--data wants a data id (64 hex characters)");
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_consent_set(node_cli_t *cli, int argc, char **argv)
{
    const char *data = NULL, *at = NULL, *ap = NULL, *dt = NULL, *dp = NULL, *eps = NULL,
               *audits = NULL, *auditors = NULL, *wait_text = NULL;
    const node_cli_opt_t opts[] = {{"--data", &data, NULL},         {"--allow-types", &at, NULL},
                                   {"--allow-purposes", &ap, NULL}, {"--deny-types", &dt, NULL},
                                   {"--deny-purposes", &dp, NULL},  {"--max-epsilon", &eps, NULL},
                                   {"--min-audits", &audits, NULL}, {"--auditors", &auditors, NULL},
                                   {"--wait", &wait_text, NULL},    {NULL, NULL, NULL}};
    if (node_cli_opts("consent set", argc, argv, opts, NULL, 0, NULL) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    uint64_t eps_milli = 0, min_audits = 0;
    long wait_s = 0;
    if (s_data_arg(data) != NODE_CLI_EXIT_OK || node_cli_wait_opt(wait_text, &wait_s) != 0)
        return NODE_CLI_EXIT_USAGE;
    if (eps && s_epsilon_milli(eps, &eps_milli) != 0)
        return node_cli_usage("--max-epsilon wants a decimal number with at most 3 decimals");
    if (audits && (node_cli_parse_u64(audits, &min_audits) != 0 || min_audits > 1000))
        return node_cli_usage("--min-audits wants a count (0-1000)");
    json_t *lists[5] = {NULL};
    const char *names[5] = {"allow_types", "allow_purposes", "deny_types", "deny_purposes",
                            "auditors"};
    const char *texts[5] = {at, ap, dt, dp, auditors};
    const char *flags[5] = {"--allow-types", "--allow-purposes", "--deny-types", "--deny-purposes",
                            "--auditors"};
    json_t *params = json_object();
    for (int i = 0; i < 5; i++) {
        if (s_list(flags[i], texts[i], &lists[i]) != NODE_CLI_EXIT_OK) {
            json_decref(params);
            return NODE_CLI_EXIT_USAGE;
        }
        json_object_set_new(params, names[i], lists[i]);
    }
    if (data)
        json_object_set_new(params, "data_id", json_string(data));
    json_object_set_new(params, "max_epsilon_milli", json_integer((json_int_t)eps_milli));
    json_object_set_new(params, "min_audits", json_integer((json_int_t)min_audits));
    json_t *r = NULL;
    int rc = node_cli_call(cli, "consent_set", params, &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    return s_tx_done(cli, r, wait_s);
}

static void s_names_kv(const char *key, json_t *arr)
{
    char buf[LIST_MAX * 34 + 8] = "";
    size_t i, n = 0;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? "," : "",
                              json_string_value(v) ? json_string_value(v) : "?");
        if (n >= sizeof buf)
            break;
    }
    node_cli_print_kv(KV_WIDTH, key, "%s", json_array_size(arr) ? buf : "(none)");
}

static void s_consent_print(const char *title, json_t *c)
{
    if (json_is_string(c)) {
        node_cli_print_kv(KV_WIDTH, title, "%s", json_string_value(c));
        return;
    }
    if (json_is_false(json_object_get(c, "set"))) {
        node_cli_print_kv(KV_WIDTH, title, "%s: %s", node_cli_jstr(c, "target"),
                          node_cli_jstr(c, "allows"));
        return;
    }
    node_cli_print_kv(KV_WIDTH, title, "%s (set at height %" JSON_INTEGER_FORMAT ")",
                      node_cli_jstr(c, "target"), node_cli_jint(c, "height"));
    s_names_kv("allow types", json_object_get(c, "allow_types"));
    s_names_kv("allow purposes", json_object_get(c, "allow_purposes"));
    s_names_kv("deny types", json_object_get(c, "deny_types"));
    s_names_kv("deny purposes", json_object_get(c, "deny_purposes"));
    json_int_t e = node_cli_jint(c, "max_epsilon_milli");
    node_cli_print_kv(KV_WIDTH, "max epsilon", "%" JSON_INTEGER_FORMAT ".%03d", e / 1000,
                      (int)(e % 1000));
    node_cli_print_kv(KV_WIDTH, "min audits", "%" JSON_INTEGER_FORMAT,
                      node_cli_jint(c, "min_audits"));
    s_names_kv("auditors", json_object_get(c, "auditors"));
    node_cli_print_kv(KV_WIDTH, "allows", "%s", node_cli_jstr(c, "allows"));
}

int node_cli_cmd_consent_show(node_cli_t *cli, int argc, char **argv)
{
    const char *data = NULL;
    const node_cli_opt_t opts[] = {{"--data", &data, NULL}, {NULL, NULL, NULL}};
    if (node_cli_opts("consent show", argc, argv, opts, NULL, 0, NULL) != NODE_CLI_EXIT_OK ||
        s_data_arg(data) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    json_t *r = NULL;
    int rc = node_cli_call(cli, "consent_show",
                           data ? json_pack("{s:s}", "data_id", data) : json_object(), &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli)) {
        node_cli_print_json(r);
    } else {
        s_consent_print("consent", r);
        if (json_object_get(r, "effective"))
            s_consent_print("in force", json_object_get(r, "effective"));
    }
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_consent_revoke(node_cli_t *cli, int argc, char **argv)
{
    const char *data = NULL, *wait_text = NULL;
    long wait_s = 0;
    const node_cli_opt_t opts[] = {
        {"--data", &data, NULL}, {"--wait", &wait_text, NULL}, {NULL, NULL, NULL}};
    if (node_cli_opts("consent revoke", argc, argv, opts, NULL, 0, NULL) != NODE_CLI_EXIT_OK ||
        s_data_arg(data) != NODE_CLI_EXIT_OK || node_cli_wait_opt(wait_text, &wait_s) != 0)
        return NODE_CLI_EXIT_USAGE;
    json_t *r = NULL;
    int rc = node_cli_call(cli, "consent_revoke",
                           data ? json_pack("{s:s}", "data_id", data) : json_object(), &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    return s_tx_done(cli, r, wait_s);
}

int node_cli_cmd_audit(node_cli_t *cli, int argc, char **argv)
{
    const char *data = NULL;
    const node_cli_opt_t opts[] = {{NULL, NULL, NULL}};
    if (node_cli_opts("audit", argc, argv, opts, &data, 1, NULL) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    if (data && (strlen(data) != 64 || strspn(data, "0123456789abcdefABCDEF") != 64))
        return node_cli_usage("DATA_ID: 64 hex characters");
    json_t *r = NULL;
    int rc =
        node_cli_call(cli, "audit", data ? json_pack("{s:s}", "data_id", data) : json_object(), &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli)) {
        node_cli_print_json(r);
        json_decref(r);
        return NODE_CLI_EXIT_OK;
    }
    printf("%-8s  %-14s  %-16s  %-64s  %-16s  %s\n", "HEIGHT", "USE", "DATA_ID", "BY", "SPEC",
           "TXID");
    size_t i;
    json_t *e;
    json_array_foreach(r, i, e)
    {
        printf("%-8" JSON_INTEGER_FORMAT "  %-14s  %-16.16s  %-64s  %-16.16s  %s\n",
               node_cli_jint(e, "height"), node_cli_jstr(e, "use"), node_cli_jstr(e, "data_id"),
               node_cli_jstr(e, "actor"), node_cli_jstr(e, "spec_id"), node_cli_jstr(e, "txid"));
    }
    if (json_array_size(r) == 0)
        printf("(no uses recorded)\n");
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

/*  node_cli_market: the trainer's and the data owner's market commands, each a call of
 *  the node's market methods (node/service/node_market.h); the node signs with its own
 *  account key:
 *
 *    trainer register NAME [--wait SEC]
 *    spec register --model-type T --purpose P --features A,B --label L --measurement HEX
 *        --min-donors N --max-epsilon E --aggregation mean|median|trimmed|krum --price N
 *        --shares D,T,R [--wait SEC]     (E decimal, e.g. 1.5; shares in basis points)
 *    spec list
 *    recruit SPEC_ID [--note TEXT]       (posts in room `recruitment`; the node posts
 *                                         it again every 30 s while it runs)
 *    offers                              (received offers, matched against each local
 *                                         record's consent in force, with the reason)
 *    donate OFFER [--data ID] [--mode sealed|key] [--wait SEC]
 *
 *  --wait SEC waits until the transaction (each donation's DONOR_REGISTER) is committed.
 *  Every command prints JSON with --json.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/cli/node_cli.h"

#define KV 14

int node_cli_cmd_trainer_register(node_cli_t *cli, int argc, char **argv)
{
    const char *name = NULL, *wait_text = NULL;
    const node_cli_opt_t opts[] = {{"--wait", &wait_text, NULL}, {NULL, NULL, NULL}};
    long wait_s;
    int rc = node_cli_opts("trainer register", argc, argv, opts, &name, 1, NULL);
    if (rc != NODE_CLI_EXIT_OK || (rc = node_cli_wait_opt(wait_text, &wait_s)) != NODE_CLI_EXIT_OK)
        return rc;
    if (!name)
        return node_cli_usage("'trainer register' needs NAME");
    json_t *r = NULL;
    if ((rc = node_cli_call(cli, "trainer_register", json_pack("{s:s}", "name", name), &r)) !=
        NODE_CLI_EXIT_OK)
        return rc;
    json_object_set_new(r, "name", json_string(name));
    rc = node_cli_wait_status(cli, r, node_cli_jstr(r, "txid"), wait_s);
    node_cli_print_flat(cli, r, KV);
    json_decref(r);
    return rc;
}

/* A comma list into a JSON array of strings (empty items refused). */
static json_t *s_list(const char *text)
{
    json_t *arr = json_array();
    const char *p = text;
    while (arr && p && *p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == 0) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, json_stringn(p, n));
        p = c ? c + 1 : NULL;
        if (c && !*p) { /* a trailing comma */
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* A decimal like "1", "0.5", "2.125" as thousandths into *MILLI. 0 or NODE_E_PARAMS. */
static int s_milli(const char *text, uint64_t *milli)
{
    uint64_t whole = 0, frac = 0;
    int digits = 0;
    const char *p = text;
    if (!p || !*p)
        return NODE_E_PARAMS;
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (uint64_t)(*p - '0');
        if (whole > 4000000)
            return NODE_E_PARAMS;
    }
    if (p == text)
        return NODE_E_PARAMS;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            if (++digits > 3)
                return NODE_E_PARAMS;
            frac = frac * 10 + (uint64_t)(*p - '0');
        }
        if (digits == 0)
            return NODE_E_PARAMS;
        for (; digits < 3; digits++)
            frac *= 10;
    }
    if (*p)
        return NODE_E_PARAMS;
    *milli = whole * 1000 + frac;
    return *milli <= UINT32_MAX ? 0 : NODE_E_PARAMS;
}

int node_cli_cmd_spec_register(node_cli_t *cli, int argc, char **argv)
{
    const char *type = NULL, *purpose = NULL, *features = NULL, *label = NULL, *meas = NULL,
               *min_donors = NULL, *eps = NULL, *agg = NULL, *price = NULL, *shares = NULL,
               *wait_text = NULL;
    const node_cli_opt_t opts[] = {
        {"--model-type", &type, NULL},   {"--purpose", &purpose, NULL},
        {"--features", &features, NULL}, {"--label", &label, NULL},
        {"--measurement", &meas, NULL},  {"--min-donors", &min_donors, NULL},
        {"--max-epsilon", &eps, NULL},   {"--aggregation", &agg, NULL},
        {"--price", &price, NULL},       {"--shares", &shares, NULL},
        {"--wait", &wait_text, NULL},    {NULL, NULL, NULL}};
    long wait_s;
    int rc = node_cli_opts("spec register", argc, argv, opts, NULL, 0, NULL);
    if (rc != NODE_CLI_EXIT_OK || (rc = node_cli_wait_opt(wait_text, &wait_s)) != NODE_CLI_EXIT_OK)
        return rc;
    if (!type || !purpose || !features || !label || !meas || !min_donors || !eps || !agg ||
        !price || !shares)
        return node_cli_usage("'spec register' needs --model-type, --purpose, --features, "
                              "--label, --measurement, --min-donors, --max-epsilon, "
                              "--aggregation, --price and --shares");
    uint64_t n_donors, eps_milli, price_v;
    if (node_cli_parse_u64(min_donors, &n_donors) != 0 || n_donors < 1 || n_donors > UINT32_MAX)
        return node_cli_usage("--min-donors wants a number of at least 1");
    if (s_milli(eps, &eps_milli) != 0)
        return node_cli_usage("--max-epsilon wants a decimal number (at most 3 decimals)");
    if (node_cli_parse_u64(price, &price_v) != 0)
        return node_cli_usage("--price wants a whole number of tokens");
    json_t *feat = s_list(features), *sh = s_list(shares), *sh_n = json_array();
    bool ok = feat && sh && json_array_size(sh) == 3;
    for (size_t i = 0; ok && i < 3; i++) {
        uint64_t v;
        ok = node_cli_parse_u64(json_string_value(json_array_get(sh, i)), &v) == 0 && v <= 10000;
        json_array_append_new(sh_n, json_integer((json_int_t)v));
    }
    json_decref(sh);
    if (!ok) {
        json_decref(feat);
        json_decref(sh_n);
        return node_cli_usage("--features wants A,B,...; --shares D,T,R (basis points)");
    }
    json_t *params =
        json_pack("{s:s,s:s,s:o,s:s,s:s,s:I,s:I,s:s,s:I,s:o}", "model_type", type, "purpose",
                  purpose, "features", feat, "label", label, "measurement", meas, "min_donors",
                  (json_int_t)n_donors, "max_epsilon_milli", (json_int_t)eps_milli, "aggregation",
                  agg, "price", (json_int_t)price_v, "shares", sh_n);
    json_t *r = NULL;
    if ((rc = node_cli_call(cli, "spec_register", params, &r)) != NODE_CLI_EXIT_OK)
        return rc;
    rc = node_cli_wait_status(cli, r, node_cli_jstr(r, "txid"), wait_s);
    node_cli_print_flat(cli, r, KV);
    json_decref(r);
    return rc;
}

int node_cli_cmd_spec_list(node_cli_t *cli, int argc, char **argv)
{
    int rc = node_cli_opts("spec list", argc, argv, (const node_cli_opt_t[]){{NULL, NULL, NULL}},
                           NULL, 0, NULL);
    json_t *r = NULL;
    if (rc != NODE_CLI_EXIT_OK || (rc = node_cli_call(cli, "spec_list", NULL, &r)) != 0)
        return rc;
    if (node_cli_json(cli)) {
        node_cli_print_json(r);
    } else {
        size_t i;
        json_t *s;
        if (json_array_size(r) == 0)
            printf("no specs registered\n");
        json_array_foreach(r, i, s)
        {
            printf("%s  %s/%s  label %s  donors %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
                   "  price %" JSON_INTEGER_FORMAT "  trainer %.16s (%s)\n",
                   node_cli_jstr(s, "spec_id"), node_cli_jstr(s, "model_type"),
                   node_cli_jstr(s, "purpose"), node_cli_jstr(s, "label"),
                   node_cli_jint(s, "donors"), node_cli_jint(s, "min_donors"),
                   node_cli_jint(s, "price"), node_cli_jstr(s, "trainer"),
                   node_cli_jstr(s, "trainer_name"));
        }
    }
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_recruit(node_cli_t *cli, int argc, char **argv)
{
    const char *spec = NULL, *note = NULL;
    const node_cli_opt_t opts[] = {{"--note", &note, NULL}, {NULL, NULL, NULL}};
    int rc = node_cli_opts("recruit", argc, argv, opts, &spec, 1, NULL);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (!spec)
        return node_cli_usage("'recruit' needs SPEC_ID");
    json_t *params = json_pack("{s:s}", "spec_id", spec);
    if (note)
        json_object_set_new(params, "note", json_string(note));
    json_t *r = NULL;
    if ((rc = node_cli_call(cli, "recruit", params, &r)) != NODE_CLI_EXIT_OK)
        return rc;
    node_cli_print_flat(cli, r, KV);
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

static void s_print_offer(const json_t *o)
{
    const json_t *spec = json_object_get(o, "spec");
    printf("offer %s\n", node_cli_jstr(o, "offer"));
    node_cli_print_kv(KV, "  trainer", "%s (%s)", node_cli_jstr(o, "trainer_name"),
                      node_cli_jstr(o, "trainer"));
    if (json_is_object(spec)) {
        node_cli_print_kv(KV, "  model", "%s for %s, label %s", node_cli_jstr(spec, "model_type"),
                          node_cli_jstr(spec, "purpose"), node_cli_jstr(spec, "label"));
        node_cli_print_kv(KV, "  epsilon", "%.3f",
                          (double)node_cli_jint(spec, "max_epsilon_milli") / 1000.0);
        node_cli_print_kv(KV, "  donors", "%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT,
                          node_cli_jint(spec, "donors"), node_cli_jint(spec, "min_donors"));
    }
    const json_t *e = json_object_get(o, "enclave");
    if (json_is_object(e))
        node_cli_print_kv(KV, "  enclave", "%s (%" JSON_INTEGER_FORMAT " audits)",
                          node_cli_jstr(e, "id"), node_cli_jint(e, "audits"));
    else
        node_cli_print_kv(KV, "  enclave", "none: %s", node_cli_jstr(o, "enclave_why"));
    if (*node_cli_jstr(o, "note"))
        node_cli_print_kv(KV, "  note", "%s", node_cli_jstr(o, "note"));
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(o, "records"), i, r)
    {
        bool donated = json_is_true(json_object_get(r, "donated"));
        printf("  %-8s %.16s %-16.16s %s\n",
               donated                                     ? "donated"
               : json_is_true(json_object_get(r, "match")) ? "match"
                                                           : "no",
               node_cli_jstr(r, "data_id"), node_cli_jstr(r, "name"), node_cli_jstr(r, "why"));
    }
}

int node_cli_cmd_offers(node_cli_t *cli, int argc, char **argv)
{
    int rc = node_cli_opts("offers", argc, argv, (const node_cli_opt_t[]){{NULL, NULL, NULL}}, NULL,
                           0, NULL);
    json_t *r = NULL;
    if (rc != NODE_CLI_EXIT_OK || (rc = node_cli_call(cli, "offers", NULL, &r)) != 0)
        return rc;
    if (node_cli_json(cli)) {
        node_cli_print_json(r);
    } else {
        size_t i;
        json_t *o;
        if (json_array_size(r) == 0)
            printf("no offers received\n");
        json_array_foreach(r, i, o) s_print_offer(o);
    }
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_donate(node_cli_t *cli, int argc, char **argv)
{
    const char *offer = NULL, *data = NULL, *mode = NULL, *wait_text = NULL;
    const node_cli_opt_t opts[] = {{"--data", &data, NULL},
                                   {"--mode", &mode, NULL},
                                   {"--wait", &wait_text, NULL},
                                   {NULL, NULL, NULL}};
    long wait_s;
    int rc = node_cli_opts("donate", argc, argv, opts, &offer, 1, NULL);
    if (rc != NODE_CLI_EXIT_OK || (rc = node_cli_wait_opt(wait_text, &wait_s)) != NODE_CLI_EXIT_OK)
        return rc;
    if (!offer)
        return node_cli_usage("'donate' needs OFFER (a spec id from 'genie offers')");
    if (mode && strcmp(mode, "sealed") != 0 && strcmp(mode, "key") != 0)
        return node_cli_usage("--mode wants sealed or key");
    json_t *params = json_pack("{s:s}", "offer", offer);
    if (data)
        json_object_set_new(params, "data_id", json_string(data));
    if (mode)
        json_object_set_new(params, "mode", json_string(mode));
    json_t *r = NULL;
    if ((rc = node_cli_call(cli, "donate", params, &r)) != NODE_CLI_EXIT_OK)
        return rc;
    size_t i, ok = 0;
    json_t *d, *list = json_object_get(r, "donations");
    json_array_foreach(list, i, d)
    {
        if (!json_is_true(json_object_get(d, "ok")))
            continue;
        if (wait_s &&
            node_cli_wait_status(cli, d, node_cli_jstr(d, "txid"), wait_s) != NODE_CLI_EXIT_OK)
            json_object_set_new(d, "ok", json_false());
        else
            ok++;
    }
    if (node_cli_json(cli)) {
        node_cli_print_json(r);
    } else {
        json_array_foreach(list, i, d)
        {
            bool good = json_is_true(json_object_get(d, "ok"));
            printf("%.16s  %s  %s\n", node_cli_jstr(d, "data_id"), node_cli_jstr(d, "state"),
                   good ? node_cli_jstr(d, "txid") : node_cli_jstr(d, "error"));
        }
    }
    rc = ok > 0 ? NODE_CLI_EXIT_OK : node_cli_fail("nothing was donated");
    json_decref(r);
    return rc;
}

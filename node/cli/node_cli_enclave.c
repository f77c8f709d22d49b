/*  node_cli_enclave: CLI commands of the enclave registry and the offline attestation tools.
 *
 *    enclave list [--kind K]
 *        the node's enclave_list RPC: registered enclaves, status, audits.
 *    enclave register QUOTE --kind K [--from ID] [--wait SEC] [--passphrase-file FILE]
 *        reads the quote file (its wire form, proto_attest.h), signs ENCLAVE_REGISTER
 *        (measurement taken from the quote) with the runner's account key of
 *        DATADIR/accounts/ and submits it with tx_submit; --wait polls until committed.
 *    enclave audit MEASUREMENT REPORT_HASH ok|bad [--from ID] [--wait SEC] [...]
 *    enclave revoke platform|measurement HEX [--from ID] [--wait SEC] [...]
 *        ENCLAVE_AUDIT (any account) and ENCLAVE_REVOKE (an authority's vote), signed and
 *        submitted the same way.
 *    enclave measure FILE [--kind K]
 *        enclave_measure of FILE for K, or for each kind; no node needed.
 *    attest certify --as-key KEYSTORE --platform PK --runner NAME --account ID --days N
 *                   --out FILE [--passphrase-file FILE]
 *        the attestation service issues a platform certificate valid from now for N days
 *        (proto_attest_cert_issue) and writes its wire form to FILE; no node needed.
 *    quote verify FILE --genesis GENESIS [--nonce HEX] [--measurement HEX] [--max-age S]
 *        verifies the quote offline against the attestation service genesis names, at the
 *        current time (certificate window; quote at most S seconds old, default 600, and
 *        at most 600 s ahead), and wants report data of an enclave bound to GENESIS's
 *        chain id (an enclave of another chain is invalid here: ENCLAVE_E_CHAIN); prints
 *        "valid" and the quote's fields, its kind and chain id (exit 0) or
 *        "genie: error: invalid: NAME: detail" (exit 1).
 *  Every command prints JSON with --json.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "enclave/enclave_measure.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_genesis.h"
#include "node/cli/node_cli.h"
#include "proto/proto_attest.h"
#include "proto/proto_hex.h"
#include "proto/proto_keystore.h"

#define KV_WIDTH 16
#define PASS_MAX 1024
#define DEFAULT_MAX_AGE_S 600u
#define MAX_SKEW_MS (600u * 1000u)
#define MAX_DAYS 3650u

static uint64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int s_hex32(const char *text, uint8_t out[static 32])
{
    return text && strlen(text) == 64 && proto_hex_decode(text, out, 32) == 0 ? 0 : NODE_E_PARAMS;
}

static json_t *s_hexj(const uint8_t *p, size_t n)
{
    char buf[129];
    proto_hex_encode(p, n, buf);
    return json_string(buf);
}

static int s_kind_parse(const char *name, uint32_t *out)
{
    for (uint32_t k = PROTO_ATTEST_KIND_VALIDATION; k <= PROTO_ATTEST_KIND_QUERY; k++) {
        if (strcmp(name, proto_attest_kind_name(k)) == 0) {
            *out = k;
            return 0;
        }
    }
    return NODE_E_PARAMS;
}

/* ---------------------------------------------------------------- enclave list */

static void s_print_list(const json_t *arr)
{
    size_t i;
    json_t *e;
    if (json_array_size(arr) == 0) {
        puts("no enclaves registered");
        return;
    }
    json_array_foreach(arr, i, e)
    {
        if (i)
            putchar('\n');
        node_cli_print_kv(KV_WIDTH, "enclave", "%s", node_cli_jstr(e, "id"));
        node_cli_print_kv(KV_WIDTH, "kind", "%s", node_cli_jstr(e, "kind"));
        node_cli_print_kv(KV_WIDTH, "status", "%s", node_cli_jstr(e, "status"));
        node_cli_print_kv(KV_WIDTH, "measurement", "%s", node_cli_jstr(e, "measurement"));
        node_cli_print_kv(KV_WIDTH, "runner", "%s", node_cli_jstr(e, "runner"));
        node_cli_print_kv(KV_WIDTH, "platform", "%s", node_cli_jstr(e, "platform_pk"));
        node_cli_print_kv(KV_WIDTH, "sign pk", "%s", node_cli_jstr(e, "sign_pk"));
        node_cli_print_kv(KV_WIDTH, "box pk", "%s", node_cli_jstr(e, "box_pk"));
        node_cli_print_kv(KV_WIDTH, "height", "%" JSON_INTEGER_FORMAT, node_cli_jint(e, "height"));
        size_t j;
        json_t *a;
        json_t *audits = json_object_get(e, "audits");
        if (json_array_size(audits) == 0)
            node_cli_print_kv(KV_WIDTH, "audits", "none");
        json_array_foreach(audits, j, a)
        {
            node_cli_print_kv(KV_WIDTH, "audit",
                              "%s by %.16s... (report %.16s..., height %" JSON_INTEGER_FORMAT ")",
                              node_cli_jstr(a, "verdict"), node_cli_jstr(a, "auditor"),
                              node_cli_jstr(a, "report_hash"), node_cli_jint(a, "height"));
        }
    }
}

int node_cli_cmd_enclave_list(node_cli_t *cli, int argc, char **argv)
{
    const char *kind = NULL;
    const node_cli_opt_t opts[] = {{"--kind", &kind, NULL}, {NULL, NULL, NULL}};
    if (node_cli_opts("enclave list", argc, argv, opts, NULL, 0, NULL) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    uint32_t k;
    if (kind && s_kind_parse(kind, &k) != 0)
        return node_cli_usage("--kind wants validation, training or query");
    json_t *r = NULL;
    int rc = node_cli_call(cli, "enclave_list", kind ? json_pack("{s:s}", "kind", kind) : NULL, &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli))
        node_cli_print_json(r);
    else
        s_print_list(r);
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- signed txs */

/*  The options every tx-submitting command takes. */
typedef struct {
    const char *from, *wait_text, *pass_file;
    uint64_t wait_s;
} s_txopts_t;

/*  Parses a tx option at ARGV[*I]: 1 consumed, 0 not one, NODE_E_PARAMS usage error
 *  (printed). */
static int s_txopt(int argc, char **argv, int *i, s_txopts_t *o)
{
    const char *v = NULL;
    int got;
    if ((got = node_cli_opt_value(argc, argv, i, "--from", &v)) > 0)
        o->from = v;
    else if (got == 0 && (got = node_cli_opt_value(argc, argv, i, "--wait", &v)) > 0)
        o->wait_text = v;
    else if (got == 0 && (got = node_cli_opt_value(argc, argv, i, "--passphrase-file", &v)) > 0)
        o->pass_file = v;
    return got;
}

static int s_txopts_check(s_txopts_t *o)
{
    if (o->wait_text &&
        (node_cli_parse_u64(o->wait_text, &o->wait_s) != 0 || o->wait_s < 1 || o->wait_s > 3600))
        return node_cli_usage("--wait wants seconds (1-3600)");
    return NODE_CLI_EXIT_OK;
}

/*  node_cli_tx_sign_submit with O's options; on success *TXID_OUT (caller frees) and
 *  *STATUS ("pending" or "committed"). */
static int s_sign_submit(node_cli_t *cli, const char *command, const s_txopts_t *o,
                         node_cli_tx_build_fn *build, const void *ctx, char **txid_out,
                         const char **status)
{
    node_cli_tx_t tx = {0};
    int rc =
        node_cli_tx_sign_submit(cli, command, o->from, o->pass_file, o->wait_s, build, ctx, &tx);
    *txid_out = NULL;
    if (rc == NODE_CLI_EXIT_OK) {
        *status = tx.done ? "committed" : "pending";
        *txid_out = tx.txid;
        tx.txid = NULL;
    }
    node_cli_tx_clear(&tx);
    return rc;
}

/*  Prints the outcome: with --json the object J (stolen) plus txid and status, else
 *  "key: value" lines of J's string members. */
static void s_print_tx(node_cli_t *cli, json_t *j, const char *txid, const char *status)
{
    json_object_set_new(j, "txid", json_string(txid));
    json_object_set_new(j, "status", json_string(status));
    if (node_cli_json(cli)) {
        node_cli_print_json(j);
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            if (json_is_string(v))
                node_cli_print_kv(KV_WIDTH, k, "%s", json_string_value(v));
        }
    }
    json_decref(j);
}

/* ---------------------------------------------------------------- enclave register */

typedef struct {
    uint32_t kind;
    const uint8_t *quote;
    size_t len;
    uint8_t measurement[32];
} s_register_t;

static uint8_t *s_build_register(const void *ctx, const proto_key_t *key, const uint8_t chain[32],
                                 uint64_t nonce, size_t *len)
{
    const s_register_t *r = ctx;
    return ledger_contract_enclave_register_tx(key, chain, nonce, r->kind, r->measurement, r->quote,
                                               r->len, len);
}

int node_cli_cmd_enclave_register(node_cli_t *cli, int argc, char **argv)
{
    const char *file = NULL, *kind_text = NULL;
    s_txopts_t o = {0};
    for (int i = 0; i < argc;) {
        const char *v = NULL;
        int got = node_cli_opt_value(argc, argv, &i, "--kind", &v);
        if (got > 0)
            kind_text = v;
        else if (got == 0 && (got = s_txopt(argc, argv, &i, &o)) == 0) {
            if (strncmp(argv[i], "--", 2) == 0 || file)
                return node_cli_usage("'enclave register' does not take '%s'", argv[i]);
            file = argv[i++];
        }
        if (got < 0)
            return NODE_CLI_EXIT_USAGE;
    }
    s_register_t r = {0};
    if (!file)
        return node_cli_usage("'enclave register' needs QUOTE (a quote file)");
    if (!kind_text || s_kind_parse(kind_text, &r.kind) != 0)
        return node_cli_usage("'enclave register' needs --kind validation|training|query");
    int rc = s_txopts_check(&o);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    uint8_t *qb = NULL;
    char *txid = NULL;
    const char *status = NULL;
    proto_attest_quote_t q;
    if ((rc = node_cli_read_file(file, LEDGER_ENCLAVE_QUOTE_MAX, &qb, &r.len)) != NODE_CLI_EXIT_OK)
        return rc;
    int prc = proto_attest_quote_decode(qb, r.len, &q);
    if (prc != PROTO_OK) {
        sodium_free(qb);
        return node_cli_fail("%s: not a quote (%s)", file, proto_err_str(prc));
    }
    r.quote = qb;
    memcpy(r.measurement, q.measurement, 32);
    rc = s_sign_submit(cli, "enclave register", &o, s_build_register, &r, &txid, &status);
    sodium_free(qb);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    uint8_t eid[32];
    ledger_enclave_id(q.body.sign_pk, eid);
    s_print_tx(cli,
               json_pack("{s:o, s:s, s:o}", "enclave", s_hexj(eid, 32), "kind", kind_text,
                         "measurement", s_hexj(q.measurement, 32)),
               txid, status);
    free(txid);
    return NODE_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- enclave audit, revoke */

typedef struct {
    uint8_t a[32], b[32];
    uint32_t v;
} s_pair_t;

static uint8_t *s_build_audit(const void *ctx, const proto_key_t *key, const uint8_t chain[32],
                              uint64_t nonce, size_t *len)
{
    const s_pair_t *p = ctx;
    return ledger_contract_enclave_audit_tx(key, chain, nonce, p->a, p->b, p->v, len);
}

static uint8_t *s_build_revoke(const void *ctx, const proto_key_t *key, const uint8_t chain[32],
                               uint64_t nonce, size_t *len)
{
    const s_pair_t *p = ctx;
    return ledger_contract_enclave_revoke_tx(key, chain, nonce, p->v, p->a, len);
}

/*  Reads the positional arguments of a tx command (exactly N of them) and its tx options. */
static int s_positional(const char *command, int argc, char **argv, const char **pos, int n,
                        s_txopts_t *o)
{
    int got_n = 0;
    for (int i = 0; i < argc;) {
        int got = s_txopt(argc, argv, &i, o);
        if (got < 0)
            return NODE_CLI_EXIT_USAGE;
        if (got > 0)
            continue;
        if (strncmp(argv[i], "--", 2) == 0 || got_n == n)
            return node_cli_usage("'%s' does not take '%s'", command, argv[i]);
        pos[got_n++] = argv[i++];
    }
    if (got_n != n)
        return node_cli_usage("'%s' needs %d arguments (see 'genie %s --help')", command, n,
                              command);
    return s_txopts_check(o);
}

int node_cli_cmd_enclave_audit(node_cli_t *cli, int argc, char **argv)
{
    const char *pos[3];
    s_txopts_t o = {0};
    int rc = s_positional("enclave audit", argc, argv, pos, 3, &o);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    s_pair_t p = {0};
    if (s_hex32(pos[0], p.a) != 0 || s_hex32(pos[1], p.b) != 0)
        return node_cli_usage("MEASUREMENT and REPORT_HASH want 64 hex characters each");
    if (strcmp(pos[2], "ok") == 0)
        p.v = LEDGER_AUDIT_OK;
    else if (strcmp(pos[2], "bad") == 0)
        p.v = LEDGER_AUDIT_BAD;
    else
        return node_cli_usage("the verdict is ok or bad");
    char *txid = NULL;
    const char *status = NULL;
    if ((rc = s_sign_submit(cli, "enclave audit", &o, s_build_audit, &p, &txid, &status)) !=
        NODE_CLI_EXIT_OK)
        return rc;
    s_print_tx(cli,
               json_pack("{s:s, s:s, s:s}", "measurement", pos[0], "report_hash", pos[1], "verdict",
                         pos[2]),
               txid, status);
    free(txid);
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_enclave_revoke(node_cli_t *cli, int argc, char **argv)
{
    const char *pos[2];
    s_txopts_t o = {0};
    int rc = s_positional("enclave revoke", argc, argv, pos, 2, &o);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    s_pair_t p = {0};
    if (strcmp(pos[0], "platform") == 0)
        p.v = LEDGER_REVOKE_PLATFORM;
    else if (strcmp(pos[0], "measurement") == 0)
        p.v = LEDGER_REVOKE_MEASUREMENT;
    else
        return node_cli_usage("revoke a platform or a measurement");
    if (s_hex32(pos[1], p.a) != 0)
        return node_cli_usage("the target wants 64 hex characters");
    char *txid = NULL;
    const char *status = NULL;
    if ((rc = s_sign_submit(cli, "enclave revoke", &o, s_build_revoke, &p, &txid, &status)) !=
        NODE_CLI_EXIT_OK)
        return rc;
    s_print_tx(cli, json_pack("{s:s, s:s}", "what", pos[0], "target", pos[1]), txid, status);
    free(txid);
    return NODE_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- enclave measure */

int node_cli_cmd_enclave_measure(node_cli_t *cli, int argc, char **argv)
{
    const char *file = NULL, *kind = NULL;
    const node_cli_opt_t opts[] = {{"--kind", &kind, NULL}, {NULL, NULL, NULL}};
    if (node_cli_opts("enclave measure", argc, argv, opts, &file, 1, NULL) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    if (!file)
        return node_cli_usage("'enclave measure' needs FILE (an enclave executable)");
    uint32_t k;
    if (kind && s_kind_parse(kind, &k) != 0)
        return node_cli_usage("--kind wants validation, training or query");
    json_t *j = json_object();
    for (uint32_t i = PROTO_ATTEST_KIND_VALIDATION; i <= PROTO_ATTEST_KIND_QUERY; i++) {
        const char *name = proto_attest_kind_name(i);
        if (kind && strcmp(kind, name) != 0)
            continue;
        uint8_t m[ENCLAVE_MEASUREMENT_LEN];
        char err[256];
        int rc = enclave_measure_path(file, name, m, err, sizeof err);
        if (rc != 0) {
            json_decref(j);
            return node_cli_fail("%s: %s", file, err);
        }
        char hex[65];
        proto_hex_encode(m, sizeof m, hex);
        json_object_set_new(j, name, json_string(hex));
        if (!node_cli_json(cli))
            node_cli_print_kv(KV_WIDTH, name, "%s", hex);
    }
    if (node_cli_json(cli))
        node_cli_print_json(j);
    json_decref(j);
    return NODE_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- attest certify */

/* Loads the keystore PATH, asking for a passphrase (FILE, else $GENIE_PASSPHRASE) only if
   it is encrypted. */
static int s_load_key(const char *path, const char *pass_file, proto_key_t **key)
{
    int ks = proto_keystore_load(path, NULL, key, NULL);
    if (ks == PROTO_E_KS_NEED_PASSPHRASE) {
        char pass[PASS_MAX];
        memset(pass, 0, sizeof pass);
        const char *env = getenv("GENIE_PASSPHRASE");
        if (pass_file) {
            int fd = open(pass_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
            int lrc = fd < 0 ? NODE_E_IO : node_cli_read_line(fd, pass, sizeof pass, &(size_t){0});
            if (fd >= 0)
                close(fd);
            if (lrc != 0)
                return node_cli_fail("cannot read a passphrase from %s", pass_file);
        } else if (env && strlen(env) < sizeof pass) {
            memcpy(pass, env, strlen(env) + 1);
        } else {
            return node_cli_fail("%s is encrypted: give --passphrase-file FILE or set "
                                 "GENIE_PASSPHRASE",
                                 path);
        }
        ks = proto_keystore_load(path, pass, key, NULL);
        sodium_memzero(pass, sizeof pass);
    }
    if (ks != PROTO_OK)
        return node_cli_fail("%s: %s", path, proto_keystore_strerror(ks));
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_attest_certify(node_cli_t *cli, int argc, char **argv)
{
    const char *as_path = NULL, *platform = NULL, *runner = NULL, *account = NULL,
               *days_text = NULL, *out = NULL, *pass_file = NULL;
    const node_cli_opt_t opts[] = {{"--as-key", &as_path, NULL},
                                   {"--platform", &platform, NULL},
                                   {"--runner", &runner, NULL},
                                   {"--account", &account, NULL},
                                   {"--days", &days_text, NULL},
                                   {"--out", &out, NULL},
                                   {"--passphrase-file", &pass_file, NULL},
                                   {NULL, NULL, NULL}};
    if (node_cli_opts("attest certify", argc, argv, opts, NULL, 0, NULL) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    uint8_t pk[32], acct[32];
    uint64_t days = 0;
    if (!as_path || !out)
        return node_cli_usage("'attest certify' needs --as-key KEYSTORE and --out FILE");
    if (s_hex32(platform, pk) != 0)
        return node_cli_usage("--platform wants the platform key (64 hex characters)");
    if (!runner)
        return node_cli_usage("'attest certify' needs --runner NAME");
    if (s_hex32(account, acct) != 0)
        return node_cli_usage("--account wants the runner's account id (64 hex characters)");
    if (!days_text || node_cli_parse_u64(days_text, &days) != 0 || days < 1 || days > MAX_DAYS)
        return node_cli_usage("--days wants 1-%u", MAX_DAYS);
    proto_key_t *as = NULL;
    int rc = s_load_key(as_path, pass_file, &as);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    proto_attest_cert_t cert;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char err[256];
    uint64_t now = s_now_ms();
    int prc = proto_attest_cert_issue(as, pk, runner, acct, now, now + days * 86400000u, &cert, err,
                                      sizeof err);
    proto_key_destroy(&as);
    if (prc != PROTO_OK)
        return node_cli_fail("certify: %s", err);
    if (proto_attest_cert_encode(&cert, &bytes, &len) != PROTO_OK)
        return node_cli_fail("out of memory");
    FILE *f = fopen(out, "wb");
    bool ok = f && fwrite(bytes, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    free(bytes);
    if (!ok)
        return node_cli_fail("cannot write %s: %s", out, strerror(errno));
    if (node_cli_json(cli)) {
        json_t *j =
            json_pack("{s:s, s:o, s:s, s:o, s:I, s:I}", "out", out, "platform", s_hexj(pk, 32),
                      "runner", runner, "account", s_hexj(acct, 32), "issued_ms",
                      (json_int_t)cert.issued_ms, "expires_ms", (json_int_t)cert.expires_ms);
        node_cli_print_json(j);
        json_decref(j);
    } else {
        node_cli_print_kv(KV_WIDTH, "certificate", "%s (%zu bytes)", out, len);
        node_cli_print_kv(KV_WIDTH, "platform", "%s", platform);
        node_cli_print_kv(KV_WIDTH, "runner", "%s (%s)", runner, account);
        node_cli_print_kv(KV_WIDTH, "valid", "%" PRIu64 " .. %" PRIu64 " (ms)", cert.issued_ms,
                          cert.expires_ms);
    }
    return NODE_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- quote verify */

/* The kind whose report data Q carries for an enclave bound to CHAIN_ID, or NULL (another
   chain's enclave, or no genie enclave's report data). */
static const char *s_quote_kind(const proto_attest_quote_t *q, const uint8_t chain_id[static 32])
{
    for (uint32_t k = PROTO_ATTEST_KIND_VALIDATION; k <= PROTO_ATTEST_KIND_QUERY; k++) {
        uint8_t rd[PROTO_ATTEST_REPORT_DATA_LEN];
        proto_attest_report_data(k, chain_id, rd);
        if (memcmp(rd, q->body.report_data, sizeof rd) == 0)
            return proto_attest_kind_name(k);
    }
    return NULL;
}

static void s_print_quote(node_cli_t *cli, const proto_attest_quote_t *q, const char *kind,
                          const uint8_t chain_id[static 32])
{
    json_t *j = json_object();
    json_object_set_new(j, "valid", json_true());
    json_object_set_new(j, "kind", json_string(kind));
    json_object_set_new(j, "chain_id", s_hexj(chain_id, 32));
    json_object_set_new(j, "measurement", s_hexj(q->measurement, 32));
    json_object_set_new(j, "sign_pk", s_hexj(q->body.sign_pk, 32));
    json_object_set_new(j, "box_pk", s_hexj(q->body.box_pk, 32));
    json_object_set_new(j, "nonce", s_hexj(q->body.nonce, 32));
    json_object_set_new(j, "time_ms", json_integer((json_int_t)q->time_ms));
    json_object_set_new(j, "platform_pk", s_hexj(q->platform_pk, 32));
    json_object_set_new(j, "runner", json_string(q->cert.runner_name));
    json_object_set_new(j, "runner_account", s_hexj(q->cert.runner_account, 32));
    json_object_set_new(j, "cert_expires_ms", json_integer((json_int_t)q->cert.expires_ms));
    if (node_cli_json(cli)) {
        node_cli_print_json(j);
    } else {
        puts("valid");
        const char *keys[] = {"kind",  "chain_id",    "measurement", "sign_pk",       "box_pk",
                              "nonce", "platform_pk", "runner",      "runner_account"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            node_cli_print_kv(KV_WIDTH, keys[i], "%s",
                              json_is_string(json_object_get(j, keys[i]))
                                  ? node_cli_jstr(j, keys[i])
                                  : "unknown");
        node_cli_print_kv(KV_WIDTH, "time_ms", "%" PRIu64, q->time_ms);
        node_cli_print_kv(KV_WIDTH, "cert expires_ms", "%" PRIu64, q->cert.expires_ms);
    }
    json_decref(j);
}

int node_cli_cmd_quote_verify(node_cli_t *cli, int argc, char **argv)
{
    const char *file = NULL, *genesis = NULL, *nonce_text = NULL, *meas_text = NULL,
               *age_text = NULL;
    const node_cli_opt_t opts[] = {{"--genesis", &genesis, NULL},
                                   {"--nonce", &nonce_text, NULL},
                                   {"--measurement", &meas_text, NULL},
                                   {"--max-age", &age_text, NULL},
                                   {NULL, NULL, NULL}};
    if (node_cli_opts("quote verify", argc, argv, opts, &file, 1, NULL) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    uint8_t nonce[32], meas[32];
    uint64_t max_age = DEFAULT_MAX_AGE_S;
    if (!file || !genesis)
        return node_cli_usage("'quote verify' needs FILE and --genesis GENESIS");
    if (nonce_text && s_hex32(nonce_text, nonce) != 0)
        return node_cli_usage("--nonce wants 64 hex characters");
    if (meas_text && s_hex32(meas_text, meas) != 0)
        return node_cli_usage("--measurement wants 64 hex characters");
    if (age_text && (node_cli_parse_u64(age_text, &max_age) != 0 || max_age < 1 ||
                     max_age > UINT64_MAX / 1000u))
        return node_cli_usage("--max-age wants seconds (at least 1)");
    char err[512];
    ledger_genesis_t *g = NULL;
    if (ledger_genesis_load(genesis, &g, err, sizeof err) != LEDGER_OK)
        return node_cli_fail("%s: %s", genesis, err);
    uint8_t as_pk[32], chain_id[32];
    static const uint8_t zero[32];
    memcpy(as_pk, ledger_genesis_params(g)->attestation_service, 32);
    memcpy(chain_id, ledger_genesis_chain_id(g), 32);
    ledger_genesis_destroy(&g);
    if (memcmp(as_pk, zero, 32) == 0)
        return node_cli_fail("%s names no attestation service: no quote can be valid", genesis);
    uint8_t *qb = NULL;
    size_t qlen = 0;
    int rc = node_cli_read_file(file, PROTO_ATTEST_QUOTE_MAX_BYTES, &qb, &qlen);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    proto_attest_quote_t q;
    int prc = proto_attest_quote_decode(qb, qlen, &q);
    sodium_free(qb);
    if (prc != PROTO_OK)
        return node_cli_fail("invalid: %s: the file is not a quote", proto_err_str(prc));
    proto_attest_policy_t pol;
    memset(&pol, 0, sizeof pol);
    pol.want_measurement = meas_text ? meas : NULL;
    pol.want_nonce = nonce_text ? nonce : NULL;
    pol.now_ms = s_now_ms();
    pol.max_age_ms = max_age * 1000u;
    pol.max_skew_ms = MAX_SKEW_MS;
    prc = proto_attest_quote_verify(&q, as_pk, &pol, err, sizeof err);
    if (prc != PROTO_OK)
        return node_cli_fail("invalid: %s: %s", proto_err_str(prc), err);
    const char *kind = s_quote_kind(&q, chain_id);
    if (!kind)
        return node_cli_fail("invalid: %s: the report data is not that of an enclave bound to "
                             "the chain of %s",
                             proto_err_str(ENCLAVE_E_CHAIN), genesis);
    s_print_quote(cli, &q, kind, chain_id);
    return NODE_CLI_EXIT_OK;
}

/*  node_cli_data: the data owner's data commands.
 *
 *  Through the node's data service (node/service/node_data.h; the node must run with
 *  --role data-owner and an account key):
 *    data add FILE --type genotype|phenotype [--name N] [--enclave ID] [--wait SEC]
 *        the node reads FILE (given to it as an absolute path: the CLI and the node share
 *        the machine), has it validated by a registered validation enclave, encrypts it
 *        into its store and submits DATA_REGISTER; prints the data id and txid, and with
 *        --wait the height it committed at.
 *    data list                      the account's records (and local ones not registered)
 *    data show ID                   one record, with its audit trail
 *    data withdraw ID [--wait SEC]  DATA_WITHDRAW
 *
 *  Sealed calls to enclaves made by the CLI itself (its enclave_call method,
 *  node/service/node_enclave_relay.h), kept as tools that register nothing:
 *
 *    data validate FILE --enclave ID [--type csv|23andme] [--runner NODEID]
 *        seals FILE (with a fresh salt) to the validation enclave ID's box key, has it
 *        validated, and verifies the signed report: signed by the enclave's registered
 *        signing key, committing to exactly this salt and file.
 *    data donate FILE --enclave ID [--spec HEX32] [--donor HEX32] [--salt HEX32]
 *                [--runner NODEID]
 *        seals FILE to the training enclave ID for (spec, data id = the data's salted
 *        commitment) and verifies the donation receipt the same way; the JSON has the
 *        encoded receipt (hex). --salt: commit with this salt instead of a fresh one (a
 *        registered record's, to get a receipt for it that nothing registers: tests).
 *
 *  For validate and donate, the enclave's keys come from the ledger (enclave_list: it
 *  must be active). The CLI never sends the file in clear to the node: the node and the
 *  runner see the sealed request only. With --json, the report / receipt fields and the
 *  verification verdict are printed as JSON, with path_ms: the time from sealing to the
 *  verified answer (seal, the node's relay to the runner, the enclave's open, check and
 *  signature, verification), without the process start and the enclave_list lookup.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "enclave/enclave_prog.h"
#include "proto/proto_report.h"
#include "enclave/enclave_wire.h"
#include "node/cli/node_cli.h"
#include "proto/proto_hex.h"

#define KV_WIDTH 16
#define DATA_MAX (200u * 1024u) /* what one relayed request carries */
#define POLL_US 200             /* the answer is polled every 0.2 ms */
#define WAIT_MS 20000

typedef struct {
    const char *file;
    const char *enclave;
    const char *type;
    const char *spec;
    const char *donor;
    const char *salt;
    const char *runner;
} s_opts_t;

static double s_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int s_hex32(const char *text, uint8_t out[32])
{
    return text && strlen(text) == 64 && proto_hex_decode(text, out, 32) == 0 ? 0 : NODE_E_PARAMS;
}

static int s_parse(const char *cmd, int argc, char **argv, bool donate, s_opts_t *o)
{
    memset(o, 0, sizeof *o);
    const node_cli_opt_t validate[] = {{"--enclave", &o->enclave, NULL},
                                       {"--type", &o->type, NULL},
                                       {"--runner", &o->runner, NULL},
                                       {NULL, NULL, NULL}};
    const node_cli_opt_t donation[] = {
        {"--enclave", &o->enclave, NULL}, {"--runner", &o->runner, NULL},
        {"--spec", &o->spec, NULL},       {"--donor", &o->donor, NULL},
        {"--salt", &o->salt, NULL},       {NULL, NULL, NULL}};
    if (node_cli_opts(cmd, argc, argv, donate ? donation : validate, &o->file, 1, NULL) !=
        NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    if (!o->file)
        return node_cli_usage("'%s' needs FILE", cmd);
    if (!o->enclave)
        return node_cli_usage("'%s' needs --enclave ID", cmd);
    return NODE_CLI_EXIT_OK;
}

/*  The registered enclave ID (hex) of KIND: its signing and box keys. */
static int s_enclave_keys(node_cli_t *cli, const char *id, const char *kind, uint8_t sign_pk[32],
                          uint8_t box_pk[32])
{
    json_t *r = NULL;
    int rc = node_cli_call(cli, "enclave_list", json_pack("{s:s}", "kind", kind), &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    size_t i;
    json_t *e;
    rc = -1;
    json_array_foreach(r, i, e)
    {
        if (strcmp(node_cli_jstr(e, "id"), id) != 0)
            continue;
        if (strcmp(node_cli_jstr(e, "status"), "active") != 0)
            rc = node_cli_fail("enclave %.64s is %s", id, node_cli_jstr(e, "status"));
        else if (s_hex32(node_cli_jstr(e, "sign_pk"), sign_pk) != 0 ||
                 s_hex32(node_cli_jstr(e, "box_pk"), box_pk) != 0)
            rc = node_cli_fail("enclave_list answered a malformed enclave");
        else
            rc = NODE_CLI_EXIT_OK;
        break;
    }
    json_decref(r);
    if (rc == -1)
        rc = node_cli_fail("no %s enclave %.64s is registered", kind, id);
    return rc;
}

/*  Sends the encoded request REQ to enclave ID through the node and waits for the answer:
 *  *FRAME (malloc'd) holds the encoded answer. */
static int s_call(node_cli_t *cli, const s_opts_t *o, const uint8_t *req, size_t len,
                  uint8_t **frame, size_t *frame_len)
{
    /* the request goes as raw bytes beside the JSON (no hex, no JSON text to parse); wait:
       the node answers when the runner does (older nodes answer with a call to poll) */
    json_t *params = json_pack("{s:s, s:b}", "enclave", o->enclave, "wait", 1);
    if (o->runner)
        json_object_set_new(params, "runner", json_string(o->runner));
    json_t *r = NULL;
    int rc = node_cli_call_bin(cli, "enclave_call", params, req, len, &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    json_int_t call = node_cli_jint(r, "call");
    if (strcmp(node_cli_jstr(r, "state"), "failed") == 0) {
        rc = node_cli_fail("enclave call failed: %s", node_cli_jstr(r, "error"));
        json_decref(r);
        return rc;
    }
    for (long waited_us = 0; call > 0 && !json_object_get(r, "answer"); waited_us += POLL_US) {
        json_decref(r);
        r = NULL;
        if (waited_us > WAIT_MS * 1000L)
            return node_cli_fail("no answer from the runner in %d ms", WAIT_MS);
        struct timespec ts = {0, POLL_US * 1000L};
        nanosleep(&ts, NULL);
        rc = node_cli_call(cli, "enclave_call_result", json_pack("{s:I}", "call", call), &r);
        if (rc != NODE_CLI_EXIT_OK)
            return rc;
        const char *state = node_cli_jstr(r, "state");
        if (strcmp(state, "failed") == 0) {
            rc = node_cli_fail("enclave call failed: %s", node_cli_jstr(r, "error"));
            json_decref(r);
            return rc;
        }
    }
    const char *ans = node_cli_jstr(r, "answer");
    size_t n = strlen(ans) / 2;
    *frame = malloc(n ? n : 1);
    if (!*frame || strlen(ans) % 2 || proto_hex_decode(ans, *frame, n) != 0) {
        free(*frame);
        *frame = NULL;
        json_decref(r);
        return node_cli_fail("the node answered a malformed enclave answer (%.80s)", ans);
    }
    *frame_len = n;
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

/*  Decodes FRAME as an answer of WANT type into *ANS, or fails with the enclave's error. */
static int s_answer(const uint8_t *frame, size_t len, enclave_ans_type_t want, enclave_ans_t *ans)
{
    if (enclave_wire_ans_decode(frame, len, ans) != PROTO_OK)
        return node_cli_fail("the enclave's answer does not decode");
    if (ans->type == ENCLAVE_ANS_ERROR)
        return node_cli_fail("the enclave refused: %s (%s)", ans->u.error.msg,
                             proto_err_str(ans->u.error.code));
    if (ans->type != want)
        return node_cli_fail("the enclave answered an unexpected message (%d)", (int)ans->type);
    return NODE_CLI_EXIT_OK;
}

/* Encodes R, calls the enclave through the node and checks the answer is a WANT; *FRAME
   (caller frees, also on failure) holds the bytes *A points into. Exit status. */
static int s_exchange(node_cli_t *cli, const s_opts_t *o, const enclave_req_t *r,
                      enclave_ans_type_t want, uint8_t **frame, size_t *frame_len, enclave_ans_t *a)
{
    uint8_t *req = NULL;
    size_t req_len = 0;
    *frame = NULL;
    int rc = enclave_wire_req_encode(r, &req, &req_len);
    if (rc != PROTO_OK)
        return node_cli_fail("cannot encode the request: %s", proto_err_str(rc));
    rc = s_call(cli, o, req, req_len, frame, frame_len);
    free(req);
    if (rc == NODE_CLI_EXIT_OK)
        rc = s_answer(*frame, *frame_len, want, a);
    return rc;
}

static json_t *s_hexj(const uint8_t *p, size_t n)
{
    char buf[129];
    proto_hex_encode(p, n, buf);
    return json_string(buf);
}

static void s_print(node_cli_t *cli, json_t *o)
{
    if (node_cli_json(cli)) {
        node_cli_print_json(o);
    } else {
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v)
        {
            if (json_is_string(v))
                node_cli_print_kv(KV_WIDTH, key, "%s", json_string_value(v));
            else if (json_is_integer(v))
                node_cli_print_kv(KV_WIDTH, key, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            else if (json_is_real(v))
                node_cli_print_kv(KV_WIDTH, key, "%.3f", json_real_value(v));
            else if (json_is_boolean(v))
                node_cli_print_kv(KV_WIDTH, key, "%s", json_is_true(v) ? "yes" : "no");
        }
    }
    json_decref(o);
}

int node_cli_cmd_data_validate(node_cli_t *cli, int argc, char **argv)
{
    s_opts_t o;
    int rc = s_parse("data validate", argc, argv, false, &o);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    uint32_t type = PROTO_DATA_GENOTYPE;
    const char *dot = strrchr(o.file, '.');
    if (o.type ? strcmp(o.type, "csv") == 0 : (dot && strcmp(dot, ".csv") == 0))
        type = PROTO_DATA_PHENOTYPE;
    else if (o.type && strcmp(o.type, "23andme") != 0)
        return node_cli_usage("--type wants csv or 23andme");
    uint8_t sign_pk[32], box_pk[32], salt[32], commit[32];
    rc = s_enclave_keys(cli, o.enclave, "validation", sign_pk, box_pk);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    uint8_t *data = NULL, *sealed = NULL, *frame = NULL;
    size_t len = 0, sealed_len = 0, frame_len = 0;
    if ((rc = node_cli_read_file(o.file, DATA_MAX, &data, &len)) != NODE_CLI_EXIT_OK)
        return rc;
    double t0 = s_ms(); /* the path: seal, relay, open and check, answer, verify */
    randombytes_buf(salt, sizeof salt);
    proto_data_commit(salt, data, len, commit);
    rc = enclave_prog_validation_seal(box_pk, type, salt, data, len, &sealed, &sealed_len);
    sodium_free(data); /* the plaintext is not needed past this point */
    if (rc != PROTO_OK)
        return node_cli_fail("cannot seal %s: %s", o.file, proto_err_str(rc));
    enclave_req_t r;
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_VALIDATE_SEALED;
    r.u.validate_sealed.data_type = type;
    r.u.validate_sealed.sealed = sealed;
    r.u.validate_sealed.sealed_len = sealed_len;
    enclave_ans_t a;
    proto_report_t rep;
    rc = s_exchange(cli, &o, &r, ENCLAVE_ANS_REPORT, &frame, &frame_len, &a);
    free(sealed);
    if (rc == NODE_CLI_EXIT_OK && proto_report_decode(a.u.blob.bytes, a.u.blob.len, &rep) != 0)
        rc = node_cli_fail("the validation report does not decode");
    free(frame);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    int vrc = proto_report_verify(&rep, sign_pk);
    bool same = sodium_memcmp(rep.data_commitment, commit, 32) == 0;
    double path_ms = s_ms() - t0;
    json_t *out = json_object();
    json_object_set_new(out, "enclave", json_string(o.enclave));
    json_object_set_new(out, "type", json_string(type == PROTO_DATA_PHENOTYPE ? "csv" : "23andme"));
    json_object_set_new(out, "records", json_integer((json_int_t)rep.record_count));
    json_object_set_new(out, "checks_run", json_integer(rep.checks_run));
    json_object_set_new(out, "checks_passed", json_integer(rep.checks_passed));
    json_object_set_new(out, "acceptable", json_boolean(rep.checks_passed == rep.checks_run));
    json_object_set_new(out, "commitment", s_hexj(rep.data_commitment, 32));
    json_object_set_new(out, "salt", s_hexj(salt, 32));
    json_object_set_new(out, "time_ms", json_integer((json_int_t)rep.time_ms));
    json_object_set_new(out, "signature_valid", json_boolean(vrc == 0));
    json_object_set_new(out, "commitment_matches", json_boolean(same));
    json_object_set_new(out, "bytes", json_integer((json_int_t)len));
    json_object_set_new(out, "path_ms", json_real(path_ms));
    s_print(cli, out);
    if (vrc != 0)
        return node_cli_fail("the report is not signed by the registered enclave key: %s",
                             proto_err_str(vrc));
    if (!same)
        return node_cli_fail("the report commits to other data than this file");
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_data_donate(node_cli_t *cli, int argc, char **argv)
{
    s_opts_t o;
    int rc = s_parse("data donate", argc, argv, true, &o);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    uint8_t spec[32] = {0}, donor[32] = {0}, salt[32];
    if ((o.spec && s_hex32(o.spec, spec) != 0) || (o.donor && s_hex32(o.donor, donor) != 0) ||
        (o.salt && s_hex32(o.salt, salt) != 0))
        return node_cli_usage("--spec, --donor and --salt want 64 hex characters");
    uint8_t sign_pk[32], box_pk[32], commit[32];
    rc = s_enclave_keys(cli, o.enclave, "training", sign_pk, box_pk);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    uint8_t *data = NULL, *sealed = NULL, *frame = NULL;
    size_t len = 0, sealed_len = 0, frame_len = 0;
    if ((rc = node_cli_read_file(o.file, DATA_MAX, &data, &len)) != NODE_CLI_EXIT_OK)
        return rc;
    double t0 = s_ms();
    if (!o.salt)
        randombytes_buf(salt, sizeof salt);
    proto_data_commit(salt, data, len, commit);
    /* the data id: the salted commitment (a data registration's id once the ledger has them) */
    rc = enclave_prog_donation_seal(box_pk, spec, commit, salt, data, len, &sealed, &sealed_len);
    sodium_free(data);
    if (rc != PROTO_OK)
        return node_cli_fail("cannot seal %s: %s", o.file, proto_err_str(rc));
    enclave_req_t r;
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_DONATE;
    memcpy(r.u.donate.spec_id, spec, 32);
    memcpy(r.u.donate.data_id, commit, 32);
    memcpy(r.u.donate.donor, donor, 32);
    memcpy(r.u.donate.commitment, commit, 32);
    r.u.donate.sealed = sealed;
    r.u.donate.sealed_len = sealed_len;
    enclave_ans_t a;
    proto_receipt_t rec;
    char receipt_hex[2 * PROTO_REPORT_MAX_BYTES + 1]; /* a decoded receipt is at most that */
    rc = s_exchange(cli, &o, &r, ENCLAVE_ANS_RECEIPT, &frame, &frame_len, &a);
    free(sealed);
    if (rc == NODE_CLI_EXIT_OK && proto_receipt_decode(a.u.blob.bytes, a.u.blob.len, &rec) != 0)
        rc = node_cli_fail("the donation receipt does not decode");
    if (rc == NODE_CLI_EXIT_OK)
        proto_hex_encode(a.u.blob.bytes, a.u.blob.len, receipt_hex);
    free(frame);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    int vrc = proto_receipt_verify(&rec, sign_pk);
    bool same = sodium_memcmp(rec.data_commitment, commit, 32) == 0 &&
                memcmp(rec.spec_id, spec, 32) == 0 && memcmp(rec.donor, donor, 32) == 0;
    double path_ms = s_ms() - t0;
    json_t *out = json_object();
    json_object_set_new(out, "enclave", json_string(o.enclave));
    json_object_set_new(out, "spec", s_hexj(rec.spec_id, 32));
    json_object_set_new(out, "data_id", s_hexj(rec.data_id, 32));
    json_object_set_new(out, "donor", s_hexj(rec.donor, 32));
    json_object_set_new(out, "commitment", s_hexj(rec.data_commitment, 32));
    json_object_set_new(out, "salt", s_hexj(salt, 32));
    json_object_set_new(out, "time_ms", json_integer((json_int_t)rec.time_ms));
    json_object_set_new(out, "receipt", json_string(receipt_hex));
    json_object_set_new(out, "signature_valid", json_boolean(vrc == 0));
    json_object_set_new(out, "commitment_matches", json_boolean(same));
    json_object_set_new(out, "bytes", json_integer((json_int_t)len));
    json_object_set_new(out, "path_ms", json_real(path_ms));
    s_print(cli, out);
    if (vrc != 0)
        return node_cli_fail("the receipt is not signed by the registered enclave key: %s",
                             proto_err_str(vrc));
    if (!same)
        return node_cli_fail("the receipt is for other data than this donation");
    return NODE_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- the data service */

/*  Prints the {txid} answer OUT (stolen), after waiting WAIT_S seconds (0: none) for it to
 *  commit; a tx that did not commit is printed, then reported. Exit status. */
static int s_tx_print(node_cli_t *cli, json_t *out, long wait_s)
{
    json_t *st = NULL;
    int rc = node_cli_wait_tx(cli, out, wait_s, &st);
    if (rc != NODE_CLI_EXIT_OK) {
        json_decref(out);
        return rc;
    }
    s_print(cli, out);
    if (st && strcmp(node_cli_jstr(st, "status"), "committed") != 0) {
        const char *why = node_cli_jstr(st, "reason");
        rc = strcmp(why, "-") != 0 ? node_cli_fail("the tx was refused: %s", why)
                                   : node_cli_fail("the tx did not commit in %ld s", wait_s);
    }
    json_decref(st);
    return rc;
}

/*  A 64-hex id argument. */
static int s_id_arg(const char *what, const char *text)
{
    uint8_t id[32];
    return s_hex32(text, id) == 0 ? NODE_CLI_EXIT_OK
                                  : node_cli_usage("%s: 64 hex characters", what);
}

int node_cli_cmd_data_add(node_cli_t *cli, int argc, char **argv)
{
    const char *file = NULL, *type = NULL, *name = NULL, *enclave = NULL, *wait_text = NULL;
    const node_cli_opt_t opts[] = {{"--type", &type, NULL},
                                   {"--name", &name, NULL},
                                   {"--enclave", &enclave, NULL},
                                   {"--wait", &wait_text, NULL},
                                   {NULL, NULL, NULL}};
    long wait_s = 0;
    if (node_cli_opts("data add", argc, argv, opts, &file, 1, NULL) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    if (!file)
        return node_cli_usage("'data add' needs FILE");
    if (!type || (strcmp(type, "genotype") != 0 && strcmp(type, "phenotype") != 0))
        return node_cli_usage("'data add' needs --type genotype or --type phenotype");
    if (enclave && s_id_arg("--enclave", enclave) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    if (node_cli_wait_opt(wait_text, &wait_s) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    char path[PATH_MAX];
    if (!realpath(file, path))
        return node_cli_fail("cannot read %s: %s", file, strerror(errno));
    json_t *params = json_pack("{s:s, s:s}", "path", path, "type", type);
    if (name)
        json_object_set_new(params, "name", json_string(name));
    if (enclave)
        json_object_set_new(params, "enclave", json_string(enclave));
    json_t *r = NULL;
    int rc = node_cli_call(cli, "data_add", params, &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    return s_tx_print(cli, r, wait_s);
}

static void s_list_print(json_t *arr)
{
    printf("%-64s  %-9s  %-12s  %8s  %9s  %s\n", "DATA_ID", "TYPE", "STATUS", "HEIGHT", "BYTES",
           "NAME");
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        char status[32];
        snprintf(status, sizeof status, "%s", node_cli_jstr(e, "status"));
        printf("%-64s  %-9s  %-12s  %8" JSON_INTEGER_FORMAT "  %9" JSON_INTEGER_FORMAT "  %s\n",
               node_cli_jstr(e, "data_id"), node_cli_jstr(e, "type"), status,
               node_cli_jint(e, "height"), node_cli_jint(e, "size"), node_cli_jstr(e, "name"));
    }
    if (json_array_size(arr) == 0)
        printf("(no data records)\n");
}

int node_cli_cmd_data_list(node_cli_t *cli, int argc, char **argv)
{
    const node_cli_opt_t opts[] = {{NULL, NULL, NULL}};
    if (node_cli_opts("data list", argc, argv, opts, NULL, 0, NULL) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    json_t *r = NULL;
    int rc = node_cli_call(cli, "data_list", json_object(), &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli))
        node_cli_print_json(r);
    else
        s_list_print(r);
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_data_show(node_cli_t *cli, int argc, char **argv)
{
    const char *id = NULL;
    const node_cli_opt_t opts[] = {{NULL, NULL, NULL}};
    if (node_cli_opts("data show", argc, argv, opts, &id, 1, NULL) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    if (!id)
        return node_cli_usage("'data show' needs ID");
    if (s_id_arg("ID", id) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    json_t *r = NULL;
    int rc = node_cli_call(cli, "data_show", json_pack("{s:s}", "data_id", id), &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli)) {
        node_cli_print_json(r);
        json_decref(r);
        return NODE_CLI_EXIT_OK;
    }
    json_t *uses = json_incref(json_object_get(r, "uses"));
    json_object_del(r, "uses");
    s_print(cli, r);
    size_t i;
    json_t *u;
    json_array_foreach(uses, i, u)
    {
        printf("use: %-14s height %-8" JSON_INTEGER_FORMAT " by %s  tx %s\n",
               node_cli_jstr(u, "use"), node_cli_jint(u, "height"), node_cli_jstr(u, "actor"),
               node_cli_jstr(u, "txid"));
    }
    json_decref(uses);
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_data_withdraw(node_cli_t *cli, int argc, char **argv)
{
    const char *id = NULL, *wait_text = NULL;
    const node_cli_opt_t opts[] = {{"--wait", &wait_text, NULL}, {NULL, NULL, NULL}};
    long wait_s = 0;
    if (node_cli_opts("data withdraw", argc, argv, opts, &id, 1, NULL) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    if (!id)
        return node_cli_usage("'data withdraw' needs ID");
    if (s_id_arg("ID", id) != NODE_CLI_EXIT_OK || node_cli_wait_opt(wait_text, &wait_s) != 0)
        return NODE_CLI_EXIT_USAGE;
    json_t *r = NULL;
    int rc = node_cli_call(cli, "data_withdraw", json_pack("{s:s}", "data_id", id), &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    return s_tx_print(cli, r, wait_s);
}

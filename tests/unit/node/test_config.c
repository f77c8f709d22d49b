/*  test_config: genie-node's flag parsing (node_config). Valid flag sets parse into the
 *  expected values; every class of bad flag gives -1 and a message naming the problem,
 *  without printing or exiting. */
#include <stdio.h>
#include <string.h>

#include "node/app/node_config.h"
#include "proto/proto_err.h"
#include "testutil.h"

#define ID_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/*  Parses ARGV into a fresh config; returns it (caller destroys) and the result in *rc. */
static node_config_t *s_parse(int argc, char **argv, int *rc, char *err, size_t cap)
{
    node_config_t *cfg = node_config_new();
    CHECK(cfg != NULL);
    err[0] = '\0';
    *rc = node_config_parse(cfg, argc, argv, err, cap);
    return cfg;
}

/*  Expects ARGV to fail with a message containing NEEDLE. */
static void s_expect_error(int argc, char **argv, const char *needle)
{
    char err[512];
    int rc = 0;
    node_config_t *cfg = s_parse(argc, argv, &rc, err, sizeof err);
    CHECK_EQ(rc, NODE_E_FAILED);
    CHECK(err[0] != '\0');
    CHECK(strchr(err, '\n') == NULL);
    if (!strstr(err, needle)) {
        fprintf(stderr, "expected '%s' in error '%s'\n", needle, err);
        CHECK(strstr(err, needle) != NULL);
    }
    node_config_destroy(&cfg);
    CHECK(cfg == NULL);
}

static void s_test_minimal(void)
{
    char *argv[] = {"genie-node", "--datadir", "/tmp/d", "--listen", "tcp://127.0.0.1:7000"};
    char err[512];
    int rc;
    node_config_t *cfg = s_parse(ARGC(argv), argv, &rc, err, sizeof err);
    CHECK_EQ(rc, 0);
    CHECK_EQ(node_config_action(cfg), NODE_CONFIG_RUN);
    CHECK(strcmp(node_config_datadir(cfg), "/tmp/d") == 0);
    CHECK_EQ(node_config_listen_count(cfg), 1u);
    CHECK(strcmp(node_config_listen(cfg, 0), "tcp://127.0.0.1:7000") == 0);
    CHECK(node_config_listen(cfg, 1) == NULL);
    CHECK_EQ(node_config_peer_count(cfg), 0u);
    CHECK_EQ(node_config_roles(cfg), (uint32_t)NODE_ROLE_USER);
    CHECK(node_config_genesis(cfg) == NULL);
    CHECK(strcmp(node_config_rpc(cfg), "127.0.0.1:0") == 0);
    CHECK_EQ(node_config_log_level(cfg), LOG_LVL_INFO);
    CHECK(node_config_log_file(cfg) == NULL);
    CHECK(!node_config_auto_donate(cfg));
    node_config_destroy(&cfg);
    node_config_destroy(&cfg); /* tolerates NULL */
}

/*  --auto-donate is a flag: set when given, refused with a value. */
static void s_test_auto_donate(void)
{
    char *argv[] = {"genie-node",        "--datadir", "d",          "--listen",
                    "tcp://127.0.0.1:1", "--role",    "data-owner", "--auto-donate"};
    char err[512];
    int rc;
    node_config_t *cfg = s_parse(ARGC(argv), argv, &rc, err, sizeof err);
    CHECK_EQ(rc, 0);
    CHECK(node_config_auto_donate(cfg));
    node_config_destroy(&cfg);
    char *bad[] = {"genie-node", "--datadir",         "d",
                   "--listen",   "tcp://127.0.0.1:1", "--auto-donate=yes"};
    s_expect_error(ARGC(bad), bad, "takes no value");
    CHECK(strstr(node_config_help(), "--auto-donate") != NULL);
}

static void s_test_full(void)
{
    char *argv[] = {"genie-node",  "--datadir=/tmp/d2",
                    "--listen",    "tcp://127.0.0.1:7000",
                    "--listen",    "tcp://0.0.0.0:7001",
                    "--listen",    "tcp://[::1]:7002",
                    "--listen",    "tcp://node-a.example:7003",
                    "--peer",      ID_A "@tcp://127.0.0.1:7100",
                    "--peer",      ID_A "@tcp://10.0.0.2:7100",
                    "--role",      "authority,data-owner,trainer,enclave-runner,user,auditor",
                    "--genesis",   "/tmp/genesis.json",
                    "--rpc",       "127.0.0.1:8332",
                    "--log-level", "debug",
                    "--log-file",  "/tmp/node.log"};
    char err[512];
    int rc;
    node_config_t *cfg = s_parse(ARGC(argv), argv, &rc, err, sizeof err);
    CHECK_EQ(rc, 0);
    if (rc != 0)
        fprintf(stderr, "unexpected error: %s\n", err);
    CHECK(strcmp(node_config_datadir(cfg), "/tmp/d2") == 0);
    CHECK_EQ(node_config_listen_count(cfg), 4u);
    CHECK(strcmp(node_config_listen(cfg, 3), "tcp://node-a.example:7003") == 0);
    CHECK_EQ(node_config_peer_count(cfg), 2u);
    CHECK(strcmp(node_config_peers(cfg)[1], ID_A "@tcp://10.0.0.2:7100") == 0);
    CHECK_EQ(node_config_roles(cfg),
             (uint32_t)(NODE_ROLE_AUTHORITY | NODE_ROLE_DATA_OWNER | NODE_ROLE_TRAINER |
                        NODE_ROLE_ENCLAVE_RUNNER | NODE_ROLE_USER | NODE_ROLE_AUDITOR));
    CHECK(strcmp(node_config_genesis(cfg), "/tmp/genesis.json") == 0);
    CHECK(strcmp(node_config_rpc(cfg), "127.0.0.1:8332") == 0);
    CHECK_EQ(node_config_log_level(cfg), LOG_LVL_DEBUG);
    CHECK(strcmp(node_config_log_file(cfg), "/tmp/node.log") == 0);
    node_config_destroy(&cfg);
}

static void s_test_rpc_forms(void)
{
    char err[512];
    int rc;
    char *off[] = {"genie-node", "--datadir", "d", "--listen", "tcp://127.0.0.1:1", "--rpc", "off"};
    node_config_t *cfg = s_parse(ARGC(off), off, &rc, err, sizeof err);
    CHECK_EQ(rc, 0);
    CHECK(node_config_rpc(cfg) == NULL);
    node_config_destroy(&cfg);

    char *local[] = {"genie-node", "--datadir",     "d", "--listen", "tcp://127.0.0.1:1",
                     "--rpc",      "localhost:9000"};
    cfg = s_parse(ARGC(local), local, &rc, err, sizeof err);
    CHECK_EQ(rc, 0);
    CHECK(strcmp(node_config_rpc(cfg), "127.0.0.1:9000") == 0);
    node_config_destroy(&cfg);

    char *lo8[] = {"genie-node",        "--datadir", "d",          "--listen",
                   "tcp://127.0.0.1:1", "--rpc",     "127.0.0.2:0"};
    cfg = s_parse(ARGC(lo8), lo8, &rc, err, sizeof err);
    CHECK_EQ(rc, 0);
    CHECK(strcmp(node_config_rpc(cfg), "127.0.0.2:0") == 0);
    node_config_destroy(&cfg);
}

static void s_test_help_version(void)
{
    char err[512];
    int rc;
    char *help[] = {"genie-node", "--help"};
    node_config_t *cfg = s_parse(ARGC(help), help, &rc, err, sizeof err);
    CHECK_EQ(rc, 0);
    CHECK_EQ(node_config_action(cfg), NODE_CONFIG_HELP);
    node_config_destroy(&cfg);

    char *h[] = {"genie-node", "--datadir", "d", "-h"};
    cfg = s_parse(ARGC(h), h, &rc, err, sizeof err);
    CHECK_EQ(rc, 0);
    CHECK_EQ(node_config_action(cfg), NODE_CONFIG_HELP);
    node_config_destroy(&cfg);

    char *ver[] = {"genie-node", "--version"};
    cfg = s_parse(ARGC(ver), ver, &rc, err, sizeof err);
    CHECK_EQ(rc, 0);
    CHECK_EQ(node_config_action(cfg), NODE_CONFIG_VERSION);
    node_config_destroy(&cfg);

    /* The help text documents every flag we parse. */
    const char *text = node_config_help();
    const char *flags[] = {"--datadir", "--listen",    "--peer",     "--role", "--genesis",
                           "--rpc",     "--log-level", "--log-file", "--help", "--version"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        CHECK(strstr(text, flags[i]) != NULL);
    CHECK(strstr(text, "CurveZMQ") != NULL);
}

static void s_test_roles(void)
{
    char err[256];
    uint32_t roles = 0;
    CHECK_EQ(node_config_roles_parse("trainer", &roles, err, sizeof err), 0);
    CHECK_EQ(roles, (uint32_t)NODE_ROLE_TRAINER);
    CHECK_EQ(node_config_roles_parse("authority,auditor", &roles, err, sizeof err), 0);
    CHECK_EQ(roles, (uint32_t)(NODE_ROLE_AUTHORITY | NODE_ROLE_AUDITOR));
    CHECK_EQ(node_config_roles_parse("", &roles, err, sizeof err), NODE_E_FAILED);
    CHECK_EQ(node_config_roles_parse("user,", &roles, err, sizeof err), NODE_E_FAILED);
    CHECK_EQ(node_config_roles_parse("miner", &roles, err, sizeof err), NODE_E_FAILED);
    CHECK(strstr(err, "miner") != NULL);
    CHECK(strcmp(node_config_role_name(NODE_ROLE_ENCLAVE_RUNNER), "enclave-runner") == 0);
    CHECK(node_config_role_name(3) == NULL);
}

static void s_test_errors(void)
{
    /* missing required flags */
    char *no_datadir[] = {"genie-node", "--listen", "tcp://127.0.0.1:7000"};
    s_expect_error(ARGC(no_datadir), no_datadir, "--datadir");
    char *no_listen[] = {"genie-node", "--datadir", "d"};
    s_expect_error(ARGC(no_listen), no_listen, "--listen");
    char *nothing[] = {"genie-node"};
    s_expect_error(ARGC(nothing), nothing, "required");

    /* missing values, unknown options, stray arguments */
    char *no_value[] = {"genie-node", "--listen", "tcp://127.0.0.1:7000", "--datadir"};
    s_expect_error(ARGC(no_value), no_value, "'--datadir' needs a value");
    char *flag_as_value[] = {"genie-node", "--datadir", "--listen", "tcp://127.0.0.1:7000"};
    s_expect_error(ARGC(flag_as_value), flag_as_value, "needs a value");
    char *unknown[] = {"genie-node", "--datadir", "d", "--frobnicate"};
    s_expect_error(ARGC(unknown), unknown, "unknown option '--frobnicate'");
    char *unknown_short[] = {"genie-node", "-x"};
    s_expect_error(ARGC(unknown_short), unknown_short, "unknown option '-x'");
    char *abbrev[] = {"genie-node", "--data", "d", "--listen", "tcp://127.0.0.1:7000"};
    s_expect_error(ARGC(abbrev), abbrev, "unknown option '--data'");
    char *abbrev_eq[] = {"genie-node", "--listen=tcp://127.0.0.1:7000", "--datad=d"};
    s_expect_error(ARGC(abbrev_eq), abbrev_eq, "unknown option '--datad'");
    char *abbrev_help[] = {"genie-node", "--he"};
    s_expect_error(ARGC(abbrev_help), abbrev_help, "unknown option '--he'");
    char *help_value[] = {"genie-node", "--help=yes"};
    s_expect_error(ARGC(help_value), help_value, "takes no value");
    char *stray[] = {"genie-node", "--datadir", "d", "--listen", "tcp://127.0.0.1:7000", "extra"};
    s_expect_error(ARGC(stray), stray, "unexpected argument 'extra'");
    char *empty[] = {"genie-node", "--datadir", "", "--listen", "tcp://127.0.0.1:7000"};
    s_expect_error(ARGC(empty), empty, "non-empty");

    /* bad --listen */
    char *bad_listen[] = {"127.0.0.1:7000",      "udp://127.0.0.1:7000", "tcp://127.0.0.1",
                          "tcp://:7000",         "tcp://127.0.0.1:x",    "tcp://127.0.0.1:70000",
                          "tcp://bad_host:7000", "tcp://[::1:7000",      "tcp://127.0.0.1:0",
                          "tcp://*:7000",        "tcp://127.0.0.1:*"};
    for (size_t i = 0; i < sizeof bad_listen / sizeof bad_listen[0]; i++) {
        char *argv[] = {"genie-node", "--datadir", "d", "--listen", bad_listen[i]};
        s_expect_error(ARGC(argv), argv, "--listen");
    }
    char *too_many[] = {"genie-node",        "--datadir",         "d",
                        "--listen",          "tcp://127.0.0.1:1", "--listen",
                        "tcp://127.0.0.1:2", "--listen",          "tcp://127.0.0.1:3",
                        "--listen",          "tcp://127.0.0.1:4", "--listen",
                        "tcp://127.0.0.1:5"};
    s_expect_error(ARGC(too_many), too_many, "too many --listen");
    char *dup_listen[] = {"genie-node", "--datadir",        "d", "--listen", "tcp://127.0.0.1:1",
                          "--listen",   "tcp://127.0.0.1:1"};
    s_expect_error(ARGC(dup_listen), dup_listen, "given twice");

    /* bad --peer */
    char *bad_peer[] = {
        "tcp://127.0.0.1:7000",      /* no node id */
        "abcd@tcp://127.0.0.1:7000", /* short id */
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg@tcp://127.0.0.1:1",
        ID_A "@127.0.0.1:7000",    /* no tcp:// */
        ID_A "@tcp://127.0.0.1:0", /* port 0 */
        ID_A "@tcp://*:7000",      /* wildcard host */
    };
    for (size_t i = 0; i < sizeof bad_peer / sizeof bad_peer[0]; i++) {
        char *argv[] = {"genie-node",        "--datadir", "d",        "--listen",
                        "tcp://127.0.0.1:1", "--peer",    bad_peer[i]};
        s_expect_error(ARGC(argv), argv, "--peer");
    }
    char *peer_id[] = {"genie-node",
                       "--datadir",
                       "d",
                       "--listen",
                       "tcp://127.0.0.1:1",
                       "--peer",
                       "abcd@tcp://127.0.0.1:7000"};
    s_expect_error(ARGC(peer_id), peer_id, "64 hex characters");

    /* too many peers */
    {
        static char peers[NODE_MAX_PEERS + 1][96];
        char *argv[5 + 2 * (NODE_MAX_PEERS + 1)];
        int argc = 0;
        argv[argc++] = "genie-node";
        argv[argc++] = "--datadir";
        argv[argc++] = "d";
        argv[argc++] = "--listen";
        argv[argc++] = "tcp://127.0.0.1:1";
        for (int i = 0; i <= NODE_MAX_PEERS; i++) {
            snprintf(peers[i], sizeof peers[i], ID_A "@tcp://127.0.0.1:%d", 1000 + i);
            argv[argc++] = "--peer";
            argv[argc++] = peers[i];
        }
        s_expect_error(argc, argv, "too many --peer");
    }

    /* roles */
    char *bad_role[] = {"genie-node", "--datadir",      "d", "--listen", "tcp://127.0.0.1:1",
                        "--role",     "authority,miner"};
    s_expect_error(ARGC(bad_role), bad_role, "unknown role 'miner'");
    char *two_roles[] = {"genie-node", "--datadir", "d",      "--listen", "tcp://127.0.0.1:1",
                         "--role",     "user",      "--role", "trainer"};
    s_expect_error(ARGC(two_roles), two_roles, "--role given twice");

    /* log level */
    char *bad_level[] = {"genie-node",        "--datadir",   "d",   "--listen",
                         "tcp://127.0.0.1:1", "--log-level", "loud"};
    s_expect_error(ARGC(bad_level), bad_level, "--log-level 'loud'");

    /* --rpc: non-loopback, malformed, duplicate */
    char *rpc_public[] = {"genie-node",        "--datadir", "d",           "--listen",
                          "tcp://127.0.0.1:1", "--rpc",     "0.0.0.0:8332"};
    s_expect_error(ARGC(rpc_public), rpc_public, "loopback");
    char *rpc_lan[] = {"genie-node", "--datadir",       "d", "--listen", "tcp://127.0.0.1:1",
                       "--rpc",      "192.168.1.5:8332"};
    s_expect_error(ARGC(rpc_lan), rpc_lan, "loopback");
    char *rpc_bad[] = {"genie-node",        "--datadir", "d",        "--listen",
                       "tcp://127.0.0.1:1", "--rpc",     "127.0.0.1"};
    s_expect_error(ARGC(rpc_bad), rpc_bad, "--rpc");
    char *rpc_dup[] = {"genie-node", "--datadir",   "d",     "--listen", "tcp://127.0.0.1:1",
                       "--rpc",      "127.0.0.1:1", "--rpc", "off"};
    s_expect_error(ARGC(rpc_dup), rpc_dup, "--rpc given twice");

    /* duplicates of single-valued flags */
    char *dup_datadir[] = {"genie-node", "--datadir",        "a", "--datadir", "b",
                           "--listen",   "tcp://127.0.0.1:1"};
    s_expect_error(ARGC(dup_datadir), dup_datadir, "--datadir given twice");
}

/*  The parser resets getopt, so one process can parse several times (the tests above
 *  already rely on it); an error leaves nothing behind for the next parse either. */
static void s_test_reparse(void)
{
    char err[512];
    int rc;
    char *bad[] = {"genie-node", "--bogus"};
    node_config_t *cfg = s_parse(ARGC(bad), bad, &rc, err, sizeof err);
    CHECK_EQ(rc, NODE_E_FAILED);
    node_config_destroy(&cfg);
    char *good[] = {"genie-node", "--datadir", "d", "--listen", "tcp://127.0.0.1:1"};
    cfg = s_parse(ARGC(good), good, &rc, err, sizeof err);
    CHECK_EQ(rc, 0);
    node_config_destroy(&cfg);
}

int main(void)
{
    s_test_minimal();
    s_test_full();
    s_test_rpc_forms();
    s_test_help_version();
    s_test_roles();
    s_test_errors();
    s_test_reparse();
    s_test_auto_donate();
    return testutil_done("test_config");
}

/*  test_node_cli: the `genie` command line (node/cli/) in-process, without a node.
 *  - The helpers: node_cli_parse_u64 (digits only, no sign, no overflow), node_cli_opt_value
 *    ("NAME VALUE", "NAME=VALUE", a missing value), node_cli_opts (values, flags,
 *    positionals; an option twice, an unknown option, one positional too many refused),
 * node_cli_read_line (CR/LF stripped, EOF, a line too long), node_cli_jstr / node_cli_jint on
 * absent and mistyped members.
 *  - Dispatch: every command `genie help` lists answers `--help` with its usage line and
 *    exit 0; an unknown command, a group without its subcommand, missing arguments and
 *    unknown options are usage errors (exit 2) with a message; a command that needs a node
 *    fails cleanly (exit 1, "is genie-node running") when none is there.
 *  - Offline commands end to end in a temporary directory: `key new --no-passphrase`
 *    then `key list` shows the key; `genesis new` writes a genesis that `quote verify`
 *    reads (and refuses a quote file that is not a quote); `enclave measure` prints the same
 *    64 hex digits twice and another for another kind.
 *  Output is captured by pointing fds 1 and 2 at a temporary file.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/cli/node_cli.h"
#include "testutil.h"

/* Runs `genie ARGV...` in-process with stdout and stderr captured into OUT (CAP bytes,
   NUL-terminated). Returns the exit status. */
static int s_run(char *out, size_t cap, const char *const *argv_in)
{
    char *argv[32]; /* owned copies: commands may reorder their arguments */
    int argc = 0;
    argv[argc++] = strdup("genie");
    for (; argv_in[argc - 1] && argc < 31; argc++)
        argv[argc] = strdup(argv_in[argc - 1]);
    argv[argc] = NULL;
    for (int k = 0; k < argc; k++)
        REQUIRE(argv[k] != NULL);
    char path[] = "/tmp/genie-test-cli-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    REQUIRE(so >= 0 && se >= 0);
    dup2(fd, 1);
    dup2(fd, 2);
    int rc = node_cli_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    ssize_t n = pread(fd, out, cap - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    for (int k = 0; k < argc; k++)
        free(argv[k]);
    return rc;
}

#define RUN(out, ...) s_run((out), sizeof(out), (const char *const[]){__VA_ARGS__, NULL})

static void test_helpers(void)
{
    uint64_t v = 7;
    CHECK_EQ(node_cli_parse_u64("0", &v), 0);
    CHECK_EQ(v, 0u);
    CHECK_EQ(node_cli_parse_u64("18446744073709551615", &v), 0);
    CHECK_EQ(v, UINT64_MAX);
    const char *bad[] = {"", "-1", "+1", "18446744073709551616", "1x", " 1", "0x10", "1.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(node_cli_parse_u64(bad[i], &v) != 0);

    char *args[] = {"--from", "abc", "--wait=5", "--wait", "--x"};
    const char *val = NULL;
    int i = 0;
    CHECK_EQ(node_cli_opt_value(5, args, &i, "--from", &val), 1);
    CHECK(val && strcmp(val, "abc") == 0);
    CHECK_EQ(i, 2);
    CHECK_EQ(node_cli_opt_value(5, args, &i, "--wait", &val), 1);
    CHECK(val && strcmp(val, "5") == 0);
    CHECK_EQ(i, 3);
    i = 4;
    CHECK_EQ(node_cli_opt_value(5, args, &i, "--wait", &val), 0); /* another option */
    CHECK_EQ(node_cli_opt_value(5, args, &i, "--w", &val), 0);    /* a prefix is not it */
    fflush(stderr);
    int se = dup(2), nul = open("/dev/null", O_WRONLY);
    REQUIRE(se >= 0 && nul >= 0);
    dup2(nul, 2);
    i = 3;
    int next_is_option = node_cli_opt_value(5, args, &i, "--wait", &val); /* then "--x" */
    i = 3;
    int last = node_cli_opt_value(4, args, &i, "--wait", &val); /* nothing after it */
    dup2(se, 2);
    close(se);
    close(nul);
    CHECK_EQ(next_is_option, NODE_E_PARAMS);
    CHECK_EQ(last, NODE_E_PARAMS);

    /* The option table: values, a flag, positionals, and each refusal. */
    const char *from = NULL, *pos[2] = {NULL, NULL};
    bool flag = false;
    const node_cli_opt_t opts[] = {
        {"--from", &from, NULL}, {"--flag", NULL, &flag}, {NULL, NULL, NULL}};
    char *good[] = {"a", "--from=x", "--flag", "b"};
    int npos = -1;
    CHECK_EQ(node_cli_opts("t", 4, good, opts, pos, 2, &npos), NODE_CLI_EXIT_OK);
    CHECK(npos == 2 && strcmp(pos[0], "a") == 0 && strcmp(pos[1], "b") == 0);
    CHECK(from && strcmp(from, "x") == 0 && flag);
    char *twice[] = {"--from", "x", "--from", "y"}, *flag2[] = {"--flag", "--flag"},
         *unknown[] = {"--nope"}, *extra[] = {"a", "b", "c"}, *noval[] = {"--from"};
    struct {
        char **argv;
        int argc;
    } bads[] = {{twice, 4}, {flag2, 2}, {unknown, 1}, {extra, 3}, {noval, 1}};
    fflush(stderr);
    int se2 = dup(2), nul2 = open("/dev/null", O_WRONLY);
    REQUIRE(se2 >= 0 && nul2 >= 0);
    dup2(nul2, 2);
    int refused = 0;
    for (size_t k = 0; k < sizeof bads / sizeof bads[0]; k++) {
        from = NULL;
        flag = false;
        refused += node_cli_opts("t", bads[k].argc, bads[k].argv, opts, pos, 2, &npos) ==
                   NODE_CLI_EXIT_USAGE;
    }
    dup2(se2, 2);
    close(se2);
    close(nul2);
    CHECK_EQ(refused, 5);

    int p[2];
    REQUIRE(pipe(p) == 0);
    const char text[] = "secret\r\nnext\n";
    REQUIRE(write(p[1], text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
    close(p[1]);
    char line[8];
    size_t len = 0;
    CHECK_EQ(node_cli_read_line(p[0], line, sizeof line, &len), 0);
    CHECK(len == 6 && strcmp(line, "secret") == 0);
    CHECK_EQ(node_cli_read_line(p[0], line, sizeof line, &len), 0);
    CHECK(len == 4 && strcmp(line, "next") == 0);
    CHECK_EQ(node_cli_read_line(p[0], line, sizeof line, &len), 0); /* EOF */
    CHECK_EQ(len, 0u);
    close(p[0]);
    REQUIRE(pipe(p) == 0);
    REQUIRE(write(p[1], "far-too-long\n", 13) == 13);
    close(p[1]);
    CHECK_EQ(node_cli_read_line(p[0], line, sizeof line, &len), NODE_E_TOO_BIG);
    close(p[0]);

    json_t *obj = json_pack("{s:s, s:i, s:i}", "name", "x", "n", 42, "num_as_name", 5);
    REQUIRE(obj != NULL);
    CHECK(strcmp(node_cli_jstr(obj, "name"), "x") == 0);
    CHECK(strcmp(node_cli_jstr(obj, "absent"), "-") == 0);
    CHECK(strcmp(node_cli_jstr(obj, "num_as_name"), "-") == 0);
    CHECK_EQ(node_cli_jint(obj, "n"), 42);
    CHECK_EQ(node_cli_jint(obj, "name"), 0);
    CHECK_EQ(node_cli_jint(obj, "absent"), 0);
    json_decref(obj);
}

static void test_dispatch(void)
{
    static char out[65536];
    CHECK_EQ(RUN(out, "help"), NODE_CLI_EXIT_OK);
    /* Every command line of the help ("  NAME ARGS  SUMMARY"): NAME --help answers. */
    size_t checked = 0;
    char *save = NULL, *copy = strdup(out);
    REQUIRE(copy != NULL);
    /* the "commands:" section runs to the next empty line (strtok_r skips empty lines, so
       split by hand) */
    char *l = strstr(copy, "\ncommands:\n");
    REQUIRE(l != NULL);
    char *end = strstr(l + 1, "\n\n");
    if (end)
        end[1] = '\0';
    for (l = strtok_r(l + 11, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "  ", 2) != 0 || l[2] == ' ' || l[2] == '-')
            continue;
        char w1[32] = "", w2[32] = "";
        if (sscanf(l + 2, "%31s %31s", w1, w2) < 1)
            continue;
        bool two =
            w2[0] >= 'a' && w2[0] <= 'z' && strchr(w2, '|') == NULL && strcmp(w1, "help") != 0;
        static char usage[4096];
        int rc = two ? RUN(usage, w1, w2, "--help") : RUN(usage, w1, "--help");
        if (rc != 0 || !strstr(usage, "usage: genie"))
            printf("'%s%s%s --help' -> %d: %s\n", w1, two ? " " : "", two ? w2 : "", rc, usage);
        CHECK_EQ(rc, NODE_CLI_EXIT_OK);
        CHECK(strstr(usage, "usage: genie") != NULL);
        checked++;
    }
    free(copy);
    printf("test_node_cli: %zu commands answer --help\n", checked);
    CHECK(checked >= 30);

    CHECK_EQ(RUN(out, "nosuch"), NODE_CLI_EXIT_USAGE);
    CHECK(strstr(out, "unknown command") != NULL);
    CHECK_EQ(RUN(out, "tx"), NODE_CLI_EXIT_USAGE);
    CHECK(strstr(out, "needs a subcommand") != NULL);
    CHECK_EQ(RUN(out, "tx", "transfer"), NODE_CLI_EXIT_USAGE);
    CHECK_EQ(RUN(out, "key", "list", "--bogus"), NODE_CLI_EXIT_USAGE);
    CHECK_EQ(RUN(out, "--bogus", "status"), NODE_CLI_EXIT_USAGE);
    CHECK_EQ(RUN(out, "tx", "status"), NODE_CLI_EXIT_USAGE);
    CHECK_EQ(s_run(out, sizeof out, (const char *const[]){NULL}), NODE_CLI_EXIT_USAGE);
    const char *dir = testutil_tmpdir();
    CHECK_EQ(RUN(out, "--datadir", dir, "status"), NODE_CLI_EXIT_ERROR);
    CHECK(strstr(out, "is genie-node running") != NULL);
    CHECK_EQ(RUN(out, "--datadir", dir, "head"), NODE_CLI_EXIT_ERROR);
    testutil_rmtree(dir);
}

static void test_offline(void)
{
    static char out[16384];
    const char *dir = testutil_tmpdir();
    char datadir[512], gdir[512], gfile[600], junk[600];
    snprintf(datadir, sizeof datadir, "%s/node", dir);
    snprintf(gdir, sizeof gdir, "%s/genesis", dir);
    REQUIRE(mkdir(datadir, 0700) == 0);
    CHECK_EQ(RUN(out, "--datadir", datadir, "key", "new", "--no-passphrase"), NODE_CLI_EXIT_OK);
    char id[65] = "";
    const char *hex = out;
    while (*hex && !(strspn(hex, "0123456789abcdef") >= 64))
        hex++;
    CHECK(*hex != '\0');
    if (*hex)
        memcpy(id, hex, 64);
    CHECK_EQ(RUN(out, "--datadir", datadir, "key", "list"), NODE_CLI_EXIT_OK);
    CHECK(id[0] && strstr(out, id) != NULL);

    CHECK_EQ(RUN(out, "genesis", "new", "--authorities", "2", "--out", gdir), NODE_CLI_EXIT_OK);
    snprintf(gfile, sizeof gfile, "%s/genesis.json", gdir);
    struct stat st;
    CHECK_EQ(stat(gfile, &st), 0);
    CHECK_EQ(RUN(out, "genesis", "new", "--authorities", "0", "--out", gdir), NODE_CLI_EXIT_USAGE);
    snprintf(junk, sizeof junk, "%s/junk.quote", dir);
    FILE *f = fopen(junk, "w");
    REQUIRE(f != NULL);
    fputs("not a quote", f);
    fclose(f);
    CHECK(RUN(out, "quote", "verify", junk, "--genesis", gfile) != NODE_CLI_EXIT_OK);
    CHECK(strstr(out, "invalid") != NULL || strstr(out, "error") != NULL);

    static char m1[1024], m2[1024], m3[1024];
    CHECK_EQ(RUN(m1, "enclave", "measure", junk), NODE_CLI_EXIT_OK);
    CHECK_EQ(RUN(m2, "enclave", "measure", junk), NODE_CLI_EXIT_OK);
    CHECK_EQ(RUN(m3, "enclave", "measure", junk, "--kind", "query"), NODE_CLI_EXIT_OK);
    CHECK(strcmp(m1, m2) == 0);
    CHECK(strcmp(m1, m3) != 0);
    snprintf(junk, sizeof junk, "%s/absent", dir);
    CHECK_EQ(RUN(out, "enclave", "measure", junk), NODE_CLI_EXIT_ERROR);
    testutil_rmtree(dir);
}

int main(void)
{
    test_helpers();
    test_dispatch();
    test_offline();
    return testutil_done("test_node_cli");
}

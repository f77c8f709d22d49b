/*  node_cli_key: CLI commands on the key files of a datadir (key new, key list).
 *
 *  They work on DIR directly and need no running node. Passphrases are read into one
 *  stack buffer, without stdio (whose buffers we could not wipe), and wiped with
 *  sodium_memzero on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "node/cli/node_cli.h"
#include "node/app/node_datadir.h"
#include "proto/proto_hex.h"

#define PASS_MAX 1024
#define KV_WIDTH 10

int node_cli_read_line(int fd, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t got = read(fd, &c, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return NODE_E_IO;
        if (got == 0 || c == '\n')
            break;
        if (n + 1 >= cap)
            return NODE_E_TOO_BIG;
        buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *len = n;
    return 0;
}

static int s_pass_from_file(const char *path, char *pass, size_t cap)
{
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return node_cli_fail("cannot read passphrase file %s: %s", path, strerror(errno));
    int rc = node_cli_read_line(fd, pass, cap, &len);
    int saved = errno;
    close(fd);
    if (rc == NODE_E_IO)
        return node_cli_fail("cannot read passphrase file %s: %s", path, strerror(saved));
    if (rc == NODE_E_TOO_BIG)
        return node_cli_fail("passphrase in %s is too long (at most %d bytes)", path, PASS_MAX - 1);
    if (len == 0)
        return node_cli_fail("passphrase file %s is empty (use --no-passphrase to store the "
                             "key unencrypted)",
                             path);
    return NODE_CLI_EXIT_OK;
}

/*  Prompts with PROMPT on stderr and reads a line from the terminal on stdin with echo
 *  off. */
static int s_prompt(const char *prompt, char *buf, size_t cap)
{
    struct termios old, quiet;
    size_t len = 0;
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return node_cli_fail("cannot read the terminal: %s", strerror(errno));
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ICANON;
    fputs(prompt, stderr);
    fflush(stderr);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
        return node_cli_fail("cannot turn terminal echo off: %s", strerror(errno));
    int rc = node_cli_read_line(STDIN_FILENO, buf, cap, &len);
    (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    if (rc == NODE_E_IO)
        return node_cli_fail("cannot read the terminal: %s", strerror(errno));
    if (rc == NODE_E_TOO_BIG)
        return node_cli_fail("passphrase too long (at most %d bytes)", PASS_MAX - 1);
    return NODE_CLI_EXIT_OK;
}

static int s_pass_from_tty(char *pass, size_t cap)
{
    char again[PASS_MAX];
    int rc = s_prompt("passphrase for the new key: ", pass, cap);
    if (rc != NODE_CLI_EXIT_OK)
        goto out;
    if (pass[0] == '\0') {
        rc = node_cli_fail("empty passphrase (use --no-passphrase to store the key "
                           "unencrypted)");
        goto out;
    }
    rc = s_prompt("repeat the passphrase: ", again, sizeof again);
    if (rc != NODE_CLI_EXIT_OK)
        goto out;
    size_t len = strlen(pass);
    if (strlen(again) != len || sodium_memcmp(pass, again, len) != 0)
        rc = node_cli_fail("the passphrases do not match");
out:
    sodium_memzero(again, sizeof again);
    return rc;
}

/*  Fills PASS from the first available source. */
static int s_pass_get(const char *file, char *pass, size_t cap)
{
    if (file)
        return s_pass_from_file(file, pass, cap);
    const char *env = getenv("GENIE_PASSPHRASE");
    if (env && env[0]) {
        if (strlen(env) >= cap)
            return node_cli_fail("GENIE_PASSPHRASE is too long (at most %d bytes)", PASS_MAX - 1);
        memcpy(pass, env, strlen(env) + 1);
        return NODE_CLI_EXIT_OK;
    }
    if (isatty(STDIN_FILENO))
        return s_pass_from_tty(pass, cap);
    return node_cli_fail("no passphrase for the new key: give --passphrase-file FILE, set "
                         "GENIE_PASSPHRASE, run on a terminal to be asked, or pass "
                         "--no-passphrase to store it unencrypted");
}

int node_cli_cmd_key_new(node_cli_t *cli, int argc, char **argv)
{
    const char *datadir = NULL;
    const char *file = NULL;
    bool no_pass = false;
    char pass[PASS_MAX];
    char path[NODE_DATADIR_PATH_MAX];
    char err[1024];
    uint8_t pub[PROTO_PUBKEY_LEN];
    char hex[2 * PROTO_PUBKEY_LEN + 1];
    int rc;

    memset(pass, 0, sizeof pass);
    const node_cli_opt_t opts[] = {{"--passphrase-file", &file, NULL},
                                   {"--no-passphrase", NULL, &no_pass},
                                   {NULL, NULL, NULL}};
    if (node_cli_opts("key new", argc, argv, opts, NULL, 0, NULL) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    if (file && no_pass)
        return node_cli_usage("--passphrase-file and --no-passphrase exclude each other");
    rc = node_cli_need_datadir(cli, "key new", &datadir);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (!no_pass) {
        rc = s_pass_get(file, pass, sizeof pass);
        if (rc != NODE_CLI_EXIT_OK)
            goto out;
    }
    if (node_datadir_account_new(datadir, no_pass ? NULL : pass, pub, path, sizeof path, err,
                                 sizeof err) != 0) {
        rc = node_cli_fail("%s", err);
        goto out;
    }
    proto_hex_encode(pub, sizeof pub, hex);
    if (node_cli_json(cli)) {
        json_t *j =
            json_pack("{s:s, s:s, s:b}", "account_id", hex, "file", path, "encrypted", !no_pass);
        node_cli_print_json(j);
        json_decref(j);
    } else {
        node_cli_print_kv(KV_WIDTH, "account", "%s", hex);
        node_cli_print_kv(KV_WIDTH, "file", "%s", path);
        node_cli_print_kv(KV_WIDTH, "encrypted", "%s", no_pass ? "no" : "yes");
    }
    rc = NODE_CLI_EXIT_OK;
out:
    sodium_memzero(pass, sizeof pass);
    return rc;
}

static const char *s_kind_name(proto_ks_kind_t kind)
{
    return kind == PROTO_KS_NODE ? "node" : kind == PROTO_KS_ACCOUNT ? "account" : "unknown";
}

int node_cli_cmd_key_list(node_cli_t *cli, int argc, char **argv)
{
    const char *datadir = NULL;
    node_datadir_keyinfo_t *list = NULL;
    size_t n = 0;
    char err[1024];
    char hex[2 * PROTO_PUBKEY_LEN + 1];
    if (argc > 0)
        return node_cli_usage("'key list' takes no arguments (got '%s')", argv[0]);
    int rc = node_cli_need_datadir(cli, "key list", &datadir);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (node_datadir_key_list(datadir, &list, &n, err, sizeof err) != 0)
        return node_cli_fail("%s", err);
    if (node_cli_json(cli)) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *e;
            if (list[i].rc == PROTO_OK) {
                proto_hex_encode(list[i].info.pub, PROTO_PUBKEY_LEN, hex);
                e = json_pack("{s:s, s:s, s:b, s:I, s:s}", "kind", s_kind_name(list[i].info.kind),
                              "id", hex, "encrypted", list[i].info.encrypted, "created_ms",
                              (json_int_t)list[i].info.created_ms, "file", list[i].path);
            } else {
                e = json_pack("{s:s, s:s}", "file", list[i].path, "error",
                              proto_keystore_strerror(list[i].rc));
            }
            json_array_append_new(arr, e);
        }
        node_cli_print_json(arr);
        json_decref(arr);
    } else if (n == 0) {
        printf("no keys in %s (the node key is made on the node's first start; "
               "'genie key new' makes an account key)\n",
               datadir);
    } else {
        printf("%-8s %-9s %s\n", "KIND", "ENCRYPTED", "ID");
        for (size_t i = 0; i < n; i++) {
            if (list[i].rc == PROTO_OK) {
                proto_hex_encode(list[i].info.pub, PROTO_PUBKEY_LEN, hex);
                printf("%-8s %-9s %s\n", s_kind_name(list[i].info.kind),
                       list[i].info.encrypted ? "yes" : "no", hex);
            } else {
                printf("%-8s %-9s %s: %s\n", "?", "?", list[i].path,
                       proto_keystore_strerror(list[i].rc));
            }
        }
    }
    free(list);
    return NODE_CLI_EXIT_OK;
}

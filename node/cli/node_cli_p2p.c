/*  node_cli_p2p: CLI commands of the p2p layer: peers, lookup, send, inbox, rooms,
 *  room join/leave/post/tail. Asynchronous operations (lookup, send) are started over RPC
 *  and polled until they finish or the timeout passes; tail/inbox follow by polling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/cli/node_cli.h"

#define POLL_MS 100
#define FOLLOW_MS 200
#define DEFAULT_TIMEOUT_S 20

/* Parses "--timeout SEC" among ARGV, leaving positional arguments in POS. */
static int s_parse(int argc, char **argv, const char **pos, int npos, int *timeout_s,
                   const char *cmd)
{
    int n = 0;
    const char *v = NULL;
    const node_cli_opt_t opts[] = {{"--timeout", &v, NULL}, {NULL, NULL, NULL}};
    if (node_cli_opts(cmd, argc, argv, opts, pos, npos, &n) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    uint64_t t = 0;
    if (v && (node_cli_parse_u64(v, &t) != 0 || t < 1 || t > 3600))
        return node_cli_usage("%s: --timeout wants seconds (1-3600)", cmd);
    if (v)
        *timeout_s = (int)t;
    if (n != npos)
        return node_cli_usage("%s: missing argument", cmd);
    return NODE_CLI_EXIT_OK;
}

/* Polls METHOD {id} until its state is no longer "pending"; *result is the final answer. */
static int s_poll(node_cli_t *cli, const char *method, json_int_t id, int timeout_s,
                  json_t **result)
{
    for (long waited = 0;; waited += POLL_MS) {
        json_t *r = NULL;
        int rc = node_cli_call(cli, method, json_pack("{s:I}", "id", id), &r);
        if (rc != NODE_CLI_EXIT_OK)
            return rc;
        if (strcmp(node_cli_jstr(r, "state"), "pending") != 0) {
            *result = r;
            return NODE_CLI_EXIT_OK;
        }
        json_decref(r);
        if (waited >= (long)timeout_s * 1000)
            return node_cli_fail("timed out after %d s", timeout_s);
        node_cli_sleep_ms(POLL_MS);
    }
}

int node_cli_cmd_peers(node_cli_t *cli, int argc, char **argv)
{
    if (argc > 0)
        return node_cli_usage("'peers' takes no arguments (got '%s')", argv[0]);
    json_t *r = NULL;
    int rc = node_cli_call(cli, "peers", NULL, &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli)) {
        node_cli_print_json(r);
    } else {
        printf("%-16s %-26s %-8s %-6s %-9s %s\n", "ID", "ENDPOINT", "LINKED", "SCORE", "LAST SEEN",
               "ROLES ROOMS");
        size_t i;
        json_t *p;
        json_array_foreach(r, i, p)
        {
            char seen[32] = "never";
            json_t *ago = json_object_get(p, "last_seen_ago_s");
            if (json_is_integer(ago))
                snprintf(seen, sizeof seen, "%" JSON_INTEGER_FORMAT "s ago",
                         json_integer_value(ago));
            const char *id = node_cli_jstr(p, "id");
            printf("%.16s %-26s %-8s %-6" JSON_INTEGER_FORMAT " %-9s ", id,
                   node_cli_jstr(p, "endpoint"),
                   json_is_true(json_object_get(p, "banned"))   ? "banned"
                   : json_is_true(json_object_get(p, "linked")) ? "yes"
                                                                : "no",
                   json_integer_value(json_object_get(p, "score")), seen);
            size_t k;
            json_t *role;
            json_array_foreach(json_object_get(p, "roles"), k, role)
                printf("%s%s", k ? "," : "", json_string_value(role));
            json_t *room;
            json_array_foreach(json_object_get(p, "rooms"), k, room)
                printf("%s%s", k ? "," : " ", json_string_value(room));
            putchar('\n');
        }
    }
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_lookup(node_cli_t *cli, int argc, char **argv)
{
    const char *pos[1];
    int timeout_s = DEFAULT_TIMEOUT_S;
    int rc = s_parse(argc, argv, pos, 1, &timeout_s, "lookup");
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    json_t *r = NULL;
    rc = node_cli_call(cli, "lookup", json_pack("{s:s}", "node_id", pos[0]), &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    json_int_t id = json_integer_value(json_object_get(r, "id"));
    json_decref(r);
    r = NULL;
    if ((rc = s_poll(cli, "lookup_result", id, timeout_s, &r)) != NODE_CLI_EXIT_OK)
        return rc;
    if (strcmp(node_cli_jstr(r, "state"), "done") != 0) {
        rc = node_cli_fail("lookup of %s failed: %s", pos[0], node_cli_jstr(r, "reason"));
    } else if (node_cli_json(cli)) {
        json_object_set_new(r, "node_id", json_string(pos[0]));
        node_cli_print_json(r);
    } else {
        node_cli_print_kv(9, "node id", "%s", pos[0]);
        node_cli_print_kv(9, "endpoint", "%s", node_cli_jstr(r, "endpoint"));
    }
    json_decref(r);
    return rc;
}

int node_cli_cmd_send(node_cli_t *cli, int argc, char **argv)
{
    const char *pos[2];
    int timeout_s = DEFAULT_TIMEOUT_S;
    int rc = s_parse(argc, argv, pos, 2, &timeout_s, "send");
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    json_t *r = NULL;
    rc = node_cli_call(cli, "send", json_pack("{s:s,s:s}", "node_id", pos[0], "text", pos[1]), &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    json_int_t id = json_integer_value(json_object_get(r, "id"));
    json_decref(r);
    r = NULL;
    if ((rc = s_poll(cli, "send_result", id, timeout_s, &r)) != NODE_CLI_EXIT_OK)
        return rc;
    if (strcmp(node_cli_jstr(r, "state"), "done") != 0)
        rc = node_cli_fail("cannot deliver to %s: %s", pos[0], node_cli_jstr(r, "reason"));
    else if (node_cli_json(cli))
        node_cli_print_json(r);
    else
        printf("delivered to %.16s\n", pos[0]);
    json_decref(r);
    return rc;
}

/* Prints one logged message: a JSON line, or "time from: text". */
static void s_print_msg(node_cli_t *cli, const json_t *m)
{
    if (node_cli_json(cli)) {
        char *line = json_dumps(m, JSON_COMPACT);
        if (line) {
            puts(line);
            free(line);
        }
    } else {
        time_t t = (time_t)(json_integer_value(json_object_get(m, "time_ms")) / 1000);
        struct tm tm;
        char when[16];
        localtime_r(&t, &tm);
        strftime(when, sizeof when, "%H:%M:%S", &tm);
        const char *text = json_string_value(json_object_get(m, "text"));
        printf("%s %.16s: %s%s\n", when, node_cli_jstr(m, "from"), text ? "" : "(binary) ",
               text ? text : node_cli_jstr(m, "hex"));
    }
    fflush(stdout);
}

/* Shared by `room tail` and `inbox`: read METHOD from --after, print, maybe follow. */
static int s_follow(node_cli_t *cli, const char *method, const char *room, int argc, char **argv)
{
    json_int_t after = 0;
    long count = -1;
    bool no_follow = false;
    const char *after_text = NULL, *count_text = NULL;
    const node_cli_opt_t opts[] = {{"--after", &after_text, NULL},
                                   {"--count", &count_text, NULL},
                                   {"--no-follow", NULL, &no_follow},
                                   {NULL, NULL, NULL}};
    const char *cmd = room ? "room tail" : method;
    if (node_cli_opts(cmd, argc, argv, opts, NULL, 0, NULL) != NODE_CLI_EXIT_OK)
        return NODE_CLI_EXIT_USAGE;
    uint64_t u = 0;
    if (after_text && (node_cli_parse_u64(after_text, &u) != 0 || u > (uint64_t)INT64_MAX))
        return node_cli_usage("--after wants a sequence number (0 or more)");
    after = (json_int_t)u;
    if (count_text && (node_cli_parse_u64(count_text, &u) != 0 || u < 1 || u > 1000000))
        return node_cli_usage("--count wants a positive number (up to 1000000)");
    if (count_text)
        count = (long)u;
    bool follow = !no_follow;
    long printed = 0;
    for (;;) {
        json_t *r = NULL;
        json_t *params = room ? json_pack("{s:s,s:I}", "room", room, "after", after)
                              : json_pack("{s:I}", "after", after);
        int rc = node_cli_call(cli, method, params, &r);
        if (rc != NODE_CLI_EXIT_OK)
            return rc;
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(r, "messages"), i, m)
        {
            s_print_msg(cli, m);
            after = json_integer_value(json_object_get(m, "seq"));
            if (count > 0 && ++printed >= count) {
                json_decref(r);
                return NODE_CLI_EXIT_OK;
            }
        }
        json_decref(r);
        if (!follow)
            return NODE_CLI_EXIT_OK;
        node_cli_sleep_ms(FOLLOW_MS);
    }
}

int node_cli_cmd_inbox(node_cli_t *cli, int argc, char **argv)
{
    return s_follow(cli, "inbox", NULL, argc, argv);
}

int node_cli_cmd_room_tail(node_cli_t *cli, int argc, char **argv)
{
    if (argc < 1 || strncmp(argv[0], "--", 2) == 0)
        return node_cli_usage("room tail: missing room name");
    return s_follow(cli, "room_tail", argv[0], argc - 1, argv + 1);
}

/* room join/leave NAME, room post NAME TEXT */
static int s_room_simple(node_cli_t *cli, const char *method, int argc, char **argv, int nargs)
{
    if (argc != nargs)
        return node_cli_usage("%s: expected %s", method, nargs == 1 ? "NAME" : "NAME TEXT");
    json_t *params = nargs == 1 ? json_pack("{s:s}", "room", argv[0])
                                : json_pack("{s:s,s:s}", "room", argv[0], "text", argv[1]);
    json_t *r = NULL;
    int rc = node_cli_call(cli, method, params, &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli))
        node_cli_print_json(r);
    else if (strcmp(method, "room_join") == 0)
        printf("joined %s\n", argv[0]);
    else if (strcmp(method, "room_leave") == 0)
        printf("left %s\n", argv[0]);
    else
        printf("posted to %s\n", argv[0]);
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

int node_cli_cmd_room_join(node_cli_t *cli, int argc, char **argv)
{
    return s_room_simple(cli, "room_join", argc, argv, 1);
}

int node_cli_cmd_room_leave(node_cli_t *cli, int argc, char **argv)
{
    return s_room_simple(cli, "room_leave", argc, argv, 1);
}

int node_cli_cmd_room_post(node_cli_t *cli, int argc, char **argv)
{
    return s_room_simple(cli, "room_post", argc, argv, 2);
}

int node_cli_cmd_rooms(node_cli_t *cli, int argc, char **argv)
{
    if (argc > 0)
        return node_cli_usage("'rooms' takes no arguments (got '%s')", argv[0]);
    json_t *r = NULL;
    int rc = node_cli_call(cli, "rooms", NULL, &r);
    if (rc != NODE_CLI_EXIT_OK)
        return rc;
    if (node_cli_json(cli)) {
        node_cli_print_json(r);
    } else {
        size_t i;
        json_t *room;
        if (json_array_size(r) == 0)
            puts("(no rooms)");
        json_array_foreach(r, i, room)
            printf("%-24s %" JSON_INTEGER_FORMAT " messages\n", node_cli_jstr(room, "room"),
                   json_integer_value(json_object_get(room, "last")));
    }
    json_decref(r);
    return NODE_CLI_EXIT_OK;
}

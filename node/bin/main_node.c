/*  genie-node: the daemon's entry point. Parses flags, starts the node, runs it until a
 *  signal or "genie stop", and shuts it down. Exit status: 0 after a clean stop, 1 on a
 *  start-up error, 2 on a usage error. Everything else lives in node/node_app.c. */
#include <stdio.h>

#include "node/app/node_app.h"
#include "node/app/node_config.h"
#include "proto/proto_log.h"

int main(int argc, char **argv)
{
    char err[1024] = "";
    int status = 1;
    node_app_t *app = NULL;
    node_config_t *cfg = node_config_new();
    if (!cfg) {
        fprintf(stderr, "genie-node: error: out of memory\n");
        return 1;
    }
    if (node_config_parse(cfg, argc, argv, err, sizeof err) != 0) {
        fprintf(stderr, "genie-node: error: %s\ntry 'genie-node --help'\n", err);
        status = 2;
        goto out;
    }
    if (node_config_action(cfg) == NODE_CONFIG_HELP) {
        fputs(node_config_help(), stdout);
        status = 0;
        goto out;
    }
    if (node_config_action(cfg) == NODE_CONFIG_VERSION) {
        printf("genie-node %s\n", NODE_VERSION);
        status = 0;
        goto out;
    }
    app = node_app_new(cfg, err, sizeof err);
    if (!app) {
        fprintf(stderr, "genie-node: error: %s\n", err);
        goto out;
    }
    status = node_app_run(app) == 0 ? 0 : 1;
out:
    node_app_destroy(&app);
    node_config_destroy(&cfg);
    proto_log_close();
    return status;
}

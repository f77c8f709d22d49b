/*  genie: the command-line client's entry point; everything lives in node/node_cli.c. */
#include "node/cli/node_cli.h"

int main(int argc, char **argv)
{
    return node_cli_main(argc, argv);
}

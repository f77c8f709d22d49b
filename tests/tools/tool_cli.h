/*  tool_cli: command-line plumbing the test tools share (genie-evil, genie-forge): their
 *  one-line error form "PROG: error: MESSAGE" on stderr, and mode names.
 */
#ifndef GENIE_TOOL_CLI_H
#define GENIE_TOOL_CLI_H

#include <stddef.h>

/*  Prints "PROG: error: " and the formatted message on one line, then USAGE, on stderr.
 *  Returns 2, the usage exit status of the tools. */
int tool_cli_usage(const char *prog, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*  Prints "PROG: error: " and the formatted message on one line on stderr. Returns -1. */
int tool_cli_fail(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*  Index of NAME among the N strings of NAMES, or -1. */
int tool_cli_find(const char *const *names, size_t n, const char *name);

#endif

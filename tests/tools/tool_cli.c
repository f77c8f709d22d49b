/*  tool_cli: command-line plumbing the test tools share (see tool_cli.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tests/tools/tool_cli.h"

static void s_verror(const char *prog, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: error: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
}

int tool_cli_usage(const char *prog, const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_verror(prog, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s", usage);
    return 2;
}

int tool_cli_fail(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_verror(prog, fmt, ap);
    va_end(ap);
    return -1;
}

int tool_cli_find(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

/*  proto_log: level/category logger writing one line per event to stderr or a file. */
#include "proto/proto_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static _Atomic int s_level = LOG_LVL_INFO;
static _Atomic int s_fd = STDERR_FILENO;
static char s_tag[24];

static const char *const s_level_names[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};
static const char *const s_cat_names[LOG_CAT_COUNT] = {"NODE", "NET", "LEDGER", "ENCLAVE",
                                                       "ML",   "RPC", "PROTO"};

int proto_log_level_parse(const char *text, proto_log_level_t *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    if (!text)
        return PROTO_E_INVALID;
    for (int i = 0; i < 5; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (proto_log_level_t)i;
            return 0;
        }
    }
    return PROTO_E_INVALID;
}

void proto_log_set_level(proto_log_level_t level)
{
    atomic_store(&s_level, (int)level);
}

proto_log_level_t proto_log_get_level(void)
{
    return (proto_log_level_t)atomic_load(&s_level);
}

int proto_log_set_file(const char *path)
{
    int fd = STDERR_FILENO;
    if (path) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
            return PROTO_E_IO;
    }
    int old = atomic_exchange(&s_fd, fd);
    if (old != STDERR_FILENO)
        close(old);
    return 0;
}

void proto_log_set_tag(const char *tag)
{
    if (!tag)
        s_tag[0] = '\0';
    else
        snprintf(s_tag, sizeof s_tag, "%s", tag);
}

void proto_log_close(void)
{
    int old = atomic_exchange(&s_fd, STDERR_FILENO);
    if (old != STDERR_FILENO)
        close(old);
}

bool proto_log_enabled(proto_log_level_t level)
{
    return (int)level <= atomic_load(&s_level);
}

bool proto_log_ratelimit(int64_t *last_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (*last_ms != 0 && now - *last_ms < 1000)
        return false;
    *last_ms = now;
    return true;
}

bool proto_log_limit_take(proto_log_limit_t *limit, uint64_t now_ms, uint64_t *suppressed)
{
    if (limit->used && now_ms < limit->last_ms + PROTO_LOG_LIMIT_MS && now_ms >= limit->last_ms) {
        limit->suppressed++;
        return false;
    }
    if (suppressed)
        *suppressed = limit->suppressed;
    limit->suppressed = 0;
    limit->last_ms = now_ms;
    limit->used = true;
    return true;
}

static void s_vwrite(proto_log_level_t level, proto_log_cat_t cat, uint64_t suppressed,
                     const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

void proto_log_write(proto_log_level_t level, proto_log_cat_t cat, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vwrite(level, cat, 0, fmt, ap);
    va_end(ap);
}

void proto_log_write_sup(proto_log_level_t level, proto_log_cat_t cat, uint64_t suppressed,
                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vwrite(level, cat, suppressed, fmt, ap);
    va_end(ap);
}

static void s_vwrite(proto_log_level_t level, proto_log_cat_t cat, uint64_t suppressed,
                     const char *fmt, va_list ap)
{
    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %-7s %s%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, s_level_names[level],
                     (unsigned)cat < LOG_CAT_COUNT ? s_cat_names[cat] : "?", s_tag,
                     s_tag[0] ? " " : "");
    if (n < 0)
        return;
    size_t used = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    int m = vsnprintf(line + used, sizeof line - used, fmt, ap);
    if (m < 0)
        return;
    used += (size_t)m < sizeof line - used ? (size_t)m : sizeof line - used - 1;
    if (suppressed && used < sizeof line - 1) {
        m = snprintf(line + used, sizeof line - used, " (%llu more suppressed)",
                     (unsigned long long)suppressed);
        if (m > 0)
            used += (size_t)m < sizeof line - used ? (size_t)m : sizeof line - used - 1;
    }
    /* Replace control characters so peer-supplied text cannot forge log lines. */
    for (size_t i = 0; i < used; i++)
        if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
            line[i] = '?';
    if (used >= sizeof line - 1)
        used = sizeof line - 2;
    line[used++] = '\n';
    ssize_t w = write(atomic_load(&s_fd), line, used);
    (void)w;
}

/*  proto_log: the one logger of genie, with levels and categories.
 *
 *  Libraries never printf; they call GLOG(level, category, fmt, ...). The node sets the
 *  threshold and the destination once at start-up (stderr by default, or a file).
 *  Anything a peer can trigger is logged at DEBUG or rate-limited: GLOG_LIMITED with a
 *  proto_log_limit_t owned by the logging instance (a p2p core, a ledger...), so that
 *  several instances in one process (a simulation) do not silence each other, or
 *  GLOG_RATELIMITED, whose state is one static per call site shared by the whole process.
 *  The logger is process-wide configuration, set before threads start, and is safe to
 *  call from several threads (each line is written with one write call).
 */
#ifndef GENIE_PROTO_LOG_H
#define GENIE_PROTO_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include "proto/proto_err.h"

typedef enum {
    LOG_LVL_ERROR = 0,
    LOG_LVL_WARN = 1,
    LOG_LVL_INFO = 2,
    LOG_LVL_DEBUG = 3,
    LOG_LVL_TRACE = 4
} proto_log_level_t;

typedef enum {
    LOG_CAT_NODE = 0,
    LOG_CAT_NET,
    LOG_CAT_LEDGER,
    LOG_CAT_ENCLAVE,
    LOG_CAT_ML,
    LOG_CAT_RPC,
    LOG_CAT_PROTO,
    LOG_CAT_COUNT
} proto_log_cat_t;

/*  Parses "error|warn|info|debug|trace". Returns 0 and sets *out, or PROTO_E_INVALID. */
int proto_log_level_parse(const char *text, proto_log_level_t *out) PROTO_WUR;

/*  Sets the global threshold; messages above it are dropped cheaply. */
void proto_log_set_level(proto_log_level_t level);
proto_log_level_t proto_log_get_level(void);

/*  Sends output to PATH (appending, created 0600) instead of stderr. NULL restores stderr.
 *  Returns 0, or PROTO_E_IO (errno set) if the file cannot be opened (output stays where
 *  it was). */
int proto_log_set_file(const char *path) PROTO_WUR;

/*  Adds a fixed tag to every line (e.g. the short node id), so interleaved testnet logs
 *  can be told apart. TAG is copied; NULL clears it. */
void proto_log_set_tag(const char *tag);

/*  Closes the log file if one is open. */
void proto_log_close(void);

bool proto_log_enabled(proto_log_level_t level);
void proto_log_write(proto_log_level_t level, proto_log_cat_t cat, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define GLOG(level, cat, ...)                                                                      \
    do {                                                                                           \
        if (proto_log_enabled(LOG_LVL_##level))                                                    \
            proto_log_write(LOG_LVL_##level, LOG_CAT_##cat, __VA_ARGS__);                          \
    } while (0)

/*  At most one line per second per call site, process-wide (every instance in the process
 *  shares it): for events a peer can trigger in bulk where no instance state is at hand.
 *  Prefer GLOG_LIMITED. */
#define GLOG_RATELIMITED(level, cat, ...)                                                          \
    do {                                                                                           \
        static int64_t s_last_log_ms_;                                                             \
        if (proto_log_enabled(LOG_LVL_##level) && proto_log_ratelimit(&s_last_log_ms_))            \
            proto_log_write(LOG_LVL_##level, LOG_CAT_##cat, __VA_ARGS__);                          \
    } while (0)

/*  True at most once per second for the given call-site timestamp. */
bool proto_log_ratelimit(int64_t *last_ms);

/*  Per-instance rate limit of one kind of log line: owned by the instance that logs
 *  (zero-initialise it; no allocation, nothing to free). */
typedef struct {
    uint64_t last_ms;    /* when the last line was written (caller's clock) */
    uint64_t suppressed; /* lines dropped since then */
    bool used;           /* a line was written at least once */
} proto_log_limit_t;

#define PROTO_LOG_LIMIT_MS 1000u

/*  True if a line may be written at NOW_MS (the caller's clock, any epoch, monotone):
 *  at most one per PROTO_LOG_LIMIT_MS per LIMIT. On true, *SUPPRESSED (may be NULL) is the
 *  number of lines dropped since the last one written, and the count restarts. */
bool proto_log_limit_take(proto_log_limit_t *limit, uint64_t now_ms, uint64_t *suppressed);

/*  proto_log_write, with " (N more suppressed)" appended when SUPPRESSED > 0. */
void proto_log_write_sup(proto_log_level_t level, proto_log_cat_t cat, uint64_t suppressed,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*  At most one line per second per LIMIT (a proto_log_limit_t *, per instance) at the
 *  caller's clock NOW_MS; a line after a quiet spell says how many were suppressed. */
#define GLOG_LIMITED(limit, now_ms, level, cat, ...)                                               \
    do {                                                                                           \
        uint64_t sup_n_;                                                                           \
        if (proto_log_enabled(LOG_LVL_##level) &&                                                  \
            proto_log_limit_take((limit), (now_ms), &sup_n_))                                      \
            proto_log_write_sup(LOG_LVL_##level, LOG_CAT_##cat, sup_n_, __VA_ARGS__);              \
    } while (0)

#endif

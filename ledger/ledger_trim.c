/*  ledger_trim: trim passes over LevelDB's table mappings and the thread that runs them
 *  (see ledger_trim.h for why, and for the choice of madvise advice).
 */
#include "ledger/ledger_trim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto_log.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21 /* Linux 5.4; older C libraries lack the name */
#endif

struct ledger_trim_t {
    char *dir;
    pthread_t thread;
    pthread_mutex_t lock; /* guards started, stop */
    pthread_cond_t wake;  /* signalled by the thread once named, by destroy */
    bool started;
    bool stop;
    int statm; /* /proc/self/statm, open for the thread's life (-1 if it could not be) */
};

/* ---- one pass ---- */

/* True if [LO, HI) is, right now, exactly one mapping of the file PATH. */
static bool s_still_mapped(unsigned long lo, unsigned long hi, const char *path)
{
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/map_files/%lx-%lx", lo, hi);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return false;
    target[n] = '\0';
    return strcmp(target, path) == 0;
}

/* Drops the pages of [LO, HI) from the resident set; see ledger_trim.h. */
static bool s_advise(unsigned long lo, unsigned long hi)
{
    if (madvise((void *)lo, hi - lo, MADV_PAGEOUT) == 0)
        return true;
    return errno == EINVAL && madvise((void *)lo, hi - lo, MADV_DONTNEED) == 0;
}

long ledger_trim_pass(const char *dir)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return -1;
    size_t dlen = strlen(dir);
    long total = 0;
    char line[PATH_MAX + 256];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8];
        int path_at = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &path_at) != 3 ||
            path_at == 0)
            continue;
        char *path = line + path_at;
        path[strcspn(path, "\n")] = '\0';
        size_t plen = strlen(path);
        /* LevelDB maps tables read-only and shared; " (deleted)" tables do not end in .ldb */
        if (strcmp(perms, "r--s") != 0 || plen < dlen + 5 || strncmp(path, dir, dlen) != 0 ||
            path[dlen] != '/' || strcmp(path + plen - 4, ".ldb") != 0 || hi <= lo)
            continue;
        if (s_still_mapped(lo, hi, path) && s_advise(lo, hi))
            total += (long)(hi - lo);
    }
    fclose(f);
    return total;
}

/* ---- the thread ---- */

/* File-backed resident pages of the process ("shared" in /proc/self/statm), read again
   from the start of the file the thread keeps open. */
static bool s_file_pages(const ledger_trim_t *self, unsigned long *pages)
{
    char buf[128];
    ssize_t n = self->statm >= 0 ? pread(self->statm, buf, sizeof buf - 1, 0) : -1;
    if (n <= 0)
        return false;
    buf[n] = '\0';
    unsigned long size, resident;
    return sscanf(buf, "%lu %lu %lu", &size, &resident, pages) == 3;
}

/* Runs a pass; returns the file-backed resident pages after it (0 if unknown). */
static unsigned long s_pass(ledger_trim_t *self, bool *warned)
{
    if (ledger_trim_pass(self->dir) < 0 && !*warned) {
        *warned = true;
        GLOG(WARN, LEDGER, "cannot read /proc/self/maps: LevelDB tables stay resident");
    }
    unsigned long pages = 0;
    return s_file_pages(self, &pages) ? pages : 0;
}

static void *s_main(void *arg)
{
    ledger_trim_t *self = arg;
    prctl(PR_SET_NAME, LEDGER_TRIM_THREAD_NAME, 0, 0, 0);
    self->statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    pthread_mutex_lock(&self->lock);
    self->started = true;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    long page = sysconf(_SC_PAGESIZE);
    unsigned long grow = LEDGER_TRIM_GROW_BYTES / (unsigned long)(page > 0 ? page : 4096);
    bool warned = false;
    unsigned long base = s_pass(self, &warned), last = base;
    long poll_ms = LEDGER_TRIM_POLL_MS;
    pthread_mutex_lock(&self->lock);
    while (!self->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += poll_ms / 1000;
        until.tv_nsec += (poll_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!self->stop && pthread_cond_timedwait(&self->wake, &self->lock, &until) == 0)
            ; /* spurious wake-ups wait on */
        if (self->stop)
            break;
        pthread_mutex_unlock(&self->lock);
        unsigned long pages;
        bool known = s_file_pages(self, &pages);
        if (known && pages >= base + grow) {
            base = s_pass(self, &warned);
        } else if (known && pages < base) {
            base = pages; /* growth counts from the lowest point since the last pass */
        }
        /* at rest (no growth since the last read) the next read is a second away */
        poll_ms = known && pages <= last ? LEDGER_TRIM_IDLE_POLL_MS : LEDGER_TRIM_POLL_MS;
        if (known)
            last = pages;
        pthread_mutex_lock(&self->lock);
    }
    pthread_mutex_unlock(&self->lock);
    if (self->statm >= 0)
        close(self->statm);
    return NULL;
}

ledger_trim_t *ledger_trim_new(const char *dir)
{
    ledger_trim_t *self = calloc(1, sizeof *self);
    if (!self || !(self->dir = strdup(dir))) {
        free(self);
        GLOG(WARN, LEDGER, "cannot start the trimmer: out of memory");
        return NULL;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&self->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&self->lock, NULL);
    /* the thread inherits a mask with every signal blocked: signals go to other threads */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&self->thread, NULL, s_main, self);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        GLOG(WARN, LEDGER, "cannot start the trimmer thread: %s", strerror(rc));
        pthread_mutex_destroy(&self->lock);
        pthread_cond_destroy(&self->wake);
        free(self->dir);
        free(self);
        return NULL;
    }
    /* returns with the thread running under its name (tests look for it) */
    pthread_mutex_lock(&self->lock);
    while (!self->started)
        pthread_cond_wait(&self->wake, &self->lock);
    pthread_mutex_unlock(&self->lock);
    return self;
}

void ledger_trim_destroy(ledger_trim_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ledger_trim_t *self = *self_p;
    pthread_mutex_lock(&self->lock);
    self->stop = true;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    pthread_join(self->thread, NULL);
    pthread_mutex_destroy(&self->lock);
    pthread_cond_destroy(&self->wake);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

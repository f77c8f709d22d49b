/*  bench_wakeup_ring: this machine's floor for a chain of wake-ups, the yardstick next to
 *  which the enclave call path (tests/bench/bench_enclave_net.py) is read.
 *
 *  HOPS processes in a ring of pipes pass one message of BYTES bytes around: each blocks in
 *  read() until its predecessor writes, then writes it on. One round trip is HOPS
 *  sequential wake-ups of HOPS processes with no work between them, the shape of the path
 *  (CLI -> HTTP thread -> loop -> I/O thread -> ... -> back: about 12 wake-ups). RUNS round
 *  trips, with a 5 ms pause between them (the path's runs are apart too); it prints p50,
 *  p99 and the largest, in ms, or with --json one object {"hops", "bytes", "runs", "p50_ms",
 *  "p99_ms", "max_ms"}. Run it beside the same load as the path to see what the machine
 *  alone gives. No pass/fail.
 *
 *      bench_wakeup_ring [--hops N (2-32, default 12)] [--bytes B (1-65536, default 6000)]
 *                        [--runs R (1-100000, default 200)] [--json]
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_enclave_util.h"

#define RING_MAX_HOPS 32
#define RING_MAX_BYTES 65536
#define RING_PAUSE_NS 5000000L

/* Reads (WRITE false) or writes exactly LEN bytes of BUF on FD. 0, or -1 at end of file
   or on an error. */
static int s_full(int fd, char *buf, size_t len, bool write_)
{
    for (size_t done = 0; done < len;) {
        ssize_t r = write_ ? write(fd, buf + done, len - done) : read(fd, buf + done, len - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

/* Moves exactly LEN bytes from IN to OUT through BUF. 0, or -1 at end of file or error. */
static int s_relay(int in, int out, char *buf, size_t len)
{
    return s_full(in, buf, len, false) == 0 ? s_full(out, buf, len, true) : -1;
}

static long s_arg(const char *v, long lo, long hi, const char *name)
{
    char *end = NULL;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || x < lo || x > hi) {
        fprintf(stderr, "bench_wakeup_ring: %s wants %ld..%ld\n", name, lo, hi);
        exit(2);
    }
    return x;
}

int main(int argc, char **argv)
{
    long hops = 12, bytes = 6000, runs = 200;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--hops") == 0)
            hops = s_arg(i + 1 < argc ? argv[++i] : NULL, 2, RING_MAX_HOPS, "--hops");
        else if (strcmp(argv[i], "--bytes") == 0)
            bytes = s_arg(i + 1 < argc ? argv[++i] : NULL, 1, RING_MAX_BYTES, "--bytes");
        else if (strcmp(argv[i], "--runs") == 0)
            runs = s_arg(i + 1 < argc ? argv[++i] : NULL, 1, 100000, "--runs");
        else if (strcmp(argv[i], "--json") == 0)
            json = true;
        else {
            fprintf(stderr,
                    "usage: bench_wakeup_ring [--hops N] [--bytes B] [--runs R] [--json]\n");
            return 2;
        }
    }
    int fds[RING_MAX_HOPS][2];
    for (long i = 0; i < hops; i++)
        if (pipe(fds[i]) != 0) {
            perror("bench_wakeup_ring: pipe");
            return 1;
        }
    static char buf[RING_MAX_BYTES];
    pid_t kids[RING_MAX_HOPS];
    long n_kids = 0;
    /* process i (1..hops-1) reads pipe i-1 and writes pipe i; this one writes pipe 0 and
       reads pipe hops-1 */
    for (long i = 1; i < hops; i++) {
        pid_t p = fork();
        if (p < 0) {
            perror("bench_wakeup_ring: fork");
            break;
        }
        if (p == 0) {
            for (long k = 0; k < hops; k++) { /* keep only this hop's two ends */
                if (k != i - 1)
                    close(fds[k][0]);
                if (k != i)
                    close(fds[k][1]);
            }
            while (s_relay(fds[i - 1][0], fds[i][1], buf, (size_t)bytes) == 0)
                ;
            _exit(0);
        }
        kids[n_kids++] = p;
    }
    double *rt = calloc((size_t)runs, sizeof *rt);
    int rc = n_kids == hops - 1 && rt ? 0 : 1;
    memset(buf, 0x5a, (size_t)bytes);
    long done = 0;
    for (; rc == 0 && done < runs; done++) {
        double t0 = bench_now_us();
        /* the write fits one pipe's room (at most 64 KiB), so it never waits for the read */
        if (s_full(fds[0][1], buf, (size_t)bytes, true) != 0 ||
            s_full(fds[hops - 1][0], buf, (size_t)bytes, false) != 0) {
            fprintf(stderr, "bench_wakeup_ring: the ring broke at run %ld\n", done);
            rc = 1;
            break;
        }
        rt[done] = (bench_now_us() - t0) / 1e3;
        struct timespec pause = {0, RING_PAUSE_NS};
        nanosleep(&pause, NULL);
    }
    for (long i = 0; i < hops; i++) { /* end of file stops every hop */
        close(fds[i][0]);
        close(fds[i][1]);
    }
    for (long i = 0; i < n_kids; i++) {
        if (rc)
            kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
    if (rc == 0) {
        qsort(rt, (size_t)runs, sizeof *rt, bench_cmp_double);
        /* the nearest rank, as bench_enclave_net.py's pct() */
        long k50 = (long)((double)(runs - 1) * 0.50 + 0.5);
        long k99 = (long)((double)(runs - 1) * 0.99 + 0.5);
        double p50 = rt[k50], p99 = rt[k99], mx = rt[runs - 1];
        if (json)
            printf("{\"hops\": %ld, \"bytes\": %ld, \"runs\": %ld, \"p50_ms\": %.3f, "
                   "\"p99_ms\": %.3f, \"max_ms\": %.3f}\n",
                   hops, bytes, runs, p50, p99, mx);
        else
            printf("wakeup ring: %ld processes, %ld bytes, %ld round trips: p50 %.3f ms, p99 "
                   "%.3f ms, max %.3f ms\n",
                   hops, bytes, runs, p50, p99, mx);
    }
    free(rt);
    return rc;
}

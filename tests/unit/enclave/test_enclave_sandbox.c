/*  test_enclave_sandbox: the enclave lockdown, tested by breaking it.
 *
 *  Each forbidden call runs in its own child: fork, enclave_sandbox_apply() on one end of a
 *  socketpair, then the call; the child must die of SIGSYS (seccomp's KILL_PROCESS), never
 *  reach the _exit after it. A control child does everything the enclave loop does (socket
 *  I/O, malloc/free big and small, sodium_malloc, keys, randomness, the clock) and exits 0;
 *  while it waits, /proc shows its NoNewPrivs, seccomp mode and core limit.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "enclave/enclave_sandbox.h"
#include "testutil.h"

typedef enum {
    DO_NOTHING, /* control: allowed work only */
    DO_OPEN,
    DO_OPENAT,
    DO_SOCKET,
    DO_CONNECT,
    DO_EXECVE,
    DO_PTRACE,
    DO_FORK,
    DO_WRITE_STDOUT,
    DO_READ_STDIN,
    DO_MMAP_EXEC,
    DO_MPROTECT_EXEC,
    DO_COUNT
} action_t;

static const char *s_names[DO_COUNT] = {
    "control", "open", "openat",   "socket",  "connect",         "execve",
    "ptrace",  "fork", "write(1)", "read(0)", "mmap(PROT_EXEC)", "mprotect(PROT_EXEC)"};

/* The allowed work of an enclave loop. Returns 0 if it all worked. */
static int s_allowed_work(int sock)
{
    uint8_t *big = malloc(4u << 20); /* mmap'd by malloc */
    uint8_t *small = malloc(100);
    if (!big || !small)
        return 1;
    memset(big, 1, 4u << 20);
    big = realloc(big, 8u << 20); /* mremap */
    if (!big)
        return 1;
    free(big);
    free(small);
    uint8_t *sec = sodium_malloc(96);
    if (!sec)
        return 1;
    uint8_t pk[32];
    if (crypto_sign_keypair(pk, sec) != 0)
        return 1;
    randombytes_buf(sec + 64, 32);
    sodium_free(sec);
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 1;
    if (send(sock, "ready", 5, MSG_NOSIGNAL) != 5)
        return 1;
    char c;
    if (read(sock, &c, 1) != 1) /* waits for the parent's look at /proc */
        return 1;
    return 0;
}

static void s_child(action_t what, int sock)
{
    char err[160];
    if (enclave_sandbox_apply(sock, err, sizeof err) != 0)
        _exit(3);
    switch (what) {
    case DO_NOTHING:
        _exit(s_allowed_work(sock));
    case DO_OPEN:
        (void)syscall(SYS_open, "/etc/hostname", O_RDONLY);
        break;
    case DO_OPENAT:
        (void)openat(AT_FDCWD, "/etc/hostname", O_RDONLY);
        break;
    case DO_SOCKET:
        (void)socket(AF_INET, SOCK_STREAM, 0);
        break;
    case DO_CONNECT: {
        struct sockaddr sa = {.sa_family = AF_UNIX};
        (void)connect(sock, &sa, sizeof sa);
        break;
    }
    case DO_EXECVE: {
        char *const argv[] = {NULL};
        (void)execve("/bin/true", argv, argv);
        break;
    }
    case DO_PTRACE:
        (void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        break;
    case DO_FORK:
        (void)syscall(SYS_fork);
        break;
    case DO_WRITE_STDOUT:
        (void)!write(1, "x", 1);
        break;
    case DO_READ_STDIN: {
        char c;
        (void)!read(0, &c, 1);
        break;
    }
    case DO_MMAP_EXEC:
        (void)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        break;
    case DO_MPROTECT_EXEC: {
        void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        (void)mprotect(p, 4096, PROT_READ | PROT_EXEC);
        break;
    }
    default:
        break;
    }
    _exit(4); /* survived a forbidden call */
}

/* Reads /proc/PID/FILE into BUF (NUL-terminated). */
static bool s_proc(pid_t pid, const char *file, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return true;
}

static void s_run(action_t what)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(sv[0]);
        s_child(what, sv[1]);
    }
    close(sv[1]);
    if (what == DO_NOTHING) {
        char buf[4096];
        CHECK(read(sv[0], buf, 5) == 5 && memcmp(buf, "ready", 5) == 0);
        CHECK(s_proc(pid, "status", buf, sizeof buf));
        CHECK(strstr(buf, "NoNewPrivs:\t1") != NULL);
        CHECK(strstr(buf, "Seccomp:\t2") != NULL);
        CHECK(s_proc(pid, "limits", buf, sizeof buf));
        const char *core = strstr(buf, "Max core file size");
        CHECK(core && strncmp(core + 26, "0                    0", 22) == 0);
        CHECK(write(sv[0], "g", 1) == 1);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    close(sv[0]);
    if (what == DO_NOTHING) {
        printf("  %-20s exited %d\n", s_names[what], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    } else {
        printf("  %-20s %s %d\n", s_names[what],
               WIFSIGNALED(status) ? "killed by signal" : "exited",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
    }
}

int main(void)
{
    CHECK(sodium_init() >= 0);
    char err[160];
    CHECK(enclave_sandbox_apply(-1, err, sizeof err) == ENCLAVE_E_SANDBOX);
    for (action_t a = DO_NOTHING; a < DO_COUNT; a++)
        s_run(a);
    return testutil_done("test_enclave_sandbox");
}

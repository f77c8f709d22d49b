/*  enclave_sandbox: prctl + rlimit + a libseccomp allow-list (see enclave_sandbox.h).
 *
 *  The allow-list is short on purpose and written once here; test_enclave_sandbox.c breaks
 *  it (open, socket, execve, a write to another fd, an executable mapping: each kills its
 *  child with SIGSYS). Why each call is allowed:
 *    read, write, sendto   the socket only (arg 0 == sock_fd); sendto is send(MSG_NOSIGNAL)
 *    mmap, mprotect        malloc, sodium_malloc's guard pages; never PROT_EXEC
 *    munmap, brk, mremap   malloc / free / realloc
 *    madvise               sodium_malloc (MADV_DONTDUMP / MADV_DODUMP), free of large chunks
 *    mlock, munlock        sodium_malloc / sodium_free keep secrets and held data out of swap
 *    clock_gettime         report and receipt times (the vDSO answers unless it is absent)
 *    getrandom             libsodium's randombytes (settled on it before lockdown)
 *    exit_group            the end
 *  Measured (strace -f on test_enclave_host, Release build): after the filter the enclaves
 *  made exactly read and sendto on fd 3, mmap, mprotect, munmap, madvise, mlock, munlock,
 *  getrandom and exit_group. brk, mremap, write and clock_gettime are kept for what the
 *  same code reaches on other inputs (a grown heap, a realloc'd answer buffer, a system
 *  without a vDSO clock). The process is single-threaded, so no futex; it installs no
 *  signal handler, so no rt_sigreturn (both only in sanitizer builds, below).
 */
#include "enclave/enclave_sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__)
#define ENCLAVE_SANDBOX_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define ENCLAVE_SANDBOX_SANITIZED 1
#endif
#endif

/* Calls allowed with any arguments. */
static const int s_allowed[] = {
    SCMP_SYS(munmap),        SCMP_SYS(brk),       SCMP_SYS(mremap),
    SCMP_SYS(madvise),       SCMP_SYS(mlock),     SCMP_SYS(munlock),
    SCMP_SYS(clock_gettime), SCMP_SYS(getrandom), SCMP_SYS(exit_group),
};

#if defined(ENCLAVE_SANDBOX_SANITIZED)
/* Sanitizer builds only (the tests run ASan+UBSan). Under strace the sanitized enclave loop
   makes no call beyond the list above; these are what a sanitizer REPORT needs, so a bug
   found inside a locked-down enclave is printed instead of ending in a bare SIGSYS:
   write to fd 2 (added in s_rules), readlink("/proc/self/exe") for the module name,
   getpid/gettid for the report header, sched_yield for the report lock, and
   rt_sigprocmask/tgkill/rt_sigaction for the abort at its end, rt_sigreturn for the
   runtime's own signal handlers, futex for its internal locks; and sigaltstack, which
   ASan's _exit interceptor calls (test_enclave_sandbox's children end with _exit; without
   it they die of SIGSYS at their exit). genie-enclave also sets
   symbolize=0 and color=never (enclave/bin/main_enclave.c): symbolizing would open files
   and start a process, which stays forbidden. Measured: an ASan heap overflow in a locked
   child prints the report's head (kind, address, access) and is then killed (SIGSYS) when
   the runtime opens /proc/self/maps for the stack, which stays forbidden too; reproduce a
   bug out of the sandbox for the stack. A release build has none of these. */
static const int s_allowed_sanitizer[] = {
    SCMP_SYS(sigaltstack), SCMP_SYS(readlink),       SCMP_SYS(getpid), SCMP_SYS(gettid),
    SCMP_SYS(sched_yield), SCMP_SYS(rt_sigprocmask), SCMP_SYS(tgkill), SCMP_SYS(rt_sigaction),
};
#endif

static int s_fail(char *err, size_t err_cap, const char *step, int e)
{
    return proto_err_fail(err, err_cap, ENCLAVE_E_SANDBOX, "sandbox: %s: %s", step,
                          strerror(e < 0 ? -e : e));
}

/* An argument comparison with every field named (libseccomp's SCMP_A* macros leave
   datum_b to the compiler, which clang's -Wmissing-field-initializers refuses). */
static struct scmp_arg_cmp s_arg(unsigned arg, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
    return (struct scmp_arg_cmp){.arg = arg, .op = op, .datum_a = a, .datum_b = b};
}

/* Adds the rules of the filter; 0 or a negative errno from libseccomp, *step named. */
static int s_rules(scmp_filter_ctx ctx, int fd, const char **step)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof s_allowed / sizeof s_allowed[0]; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, s_allowed[i], 0);
    *step = "allow-list";
    if (rc)
        return rc;
    const scmp_datum_t ufd = (scmp_datum_t)fd;
    *step = "socket rules";
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 1,
                               s_arg(0, SCMP_CMP_EQ, ufd, 0))))
        return rc;
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
                               s_arg(0, SCMP_CMP_EQ, ufd, 0))))
        return rc;
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1,
                               s_arg(0, SCMP_CMP_EQ, ufd, 0))))
        return rc;
    *step = "memory rules";
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                               s_arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))))
        return rc;
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                               s_arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))))
        return rc;
#if defined(ENCLAVE_SANDBOX_SANITIZED)
    *step = "sanitizer rules";
    for (size_t i = 0; rc == 0 && i < sizeof s_allowed_sanitizer / sizeof s_allowed_sanitizer[0];
         i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, s_allowed_sanitizer[i], 0);
    if (rc == 0 && fd != 2)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, s_arg(0, SCMP_CMP_EQ, 2, 0));
#endif
    return rc;
}

int enclave_sandbox_apply(int sock_fd, char *err, size_t err_cap)
{
    if (sock_fd < 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_SANDBOX, "sandbox: bad socket fd");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return s_fail(err, err_cap, "PR_SET_NO_NEW_PRIVS", errno);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return s_fail(err, err_cap, "PR_SET_DUMPABLE", errno);
    const struct rlimit no_core = {0, 0};
    if (setrlimit(RLIMIT_CORE, &no_core) != 0)
        return s_fail(err, err_cap, "RLIMIT_CORE", errno);

    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx)
        return s_fail(err, err_cap, "seccomp_init", ENOMEM);
    const char *step = "rules";
    int rc = s_rules(ctx, sock_fd, &step);
    if (rc == 0) {
        step = "seccomp_load";
        rc = seccomp_load(ctx);
    }
    seccomp_release(ctx);
    if (rc != 0)
        return s_fail(err, err_cap, step, rc);
    return PROTO_OK;
}

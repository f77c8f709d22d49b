/*  genie-enclave: the enclave program. Started by the host (enclave/enclave_host.c) with
 *  argv {"genie-enclave", KIND}, an empty environment, /dev/null (or the host's stderr) on
 *  fds 0-2 and its socket on fd 3, nothing else.
 *
 *  It refuses to run otherwise (another argv, any environment, any other fd, fd 3 not a
 *  socket), settles libsodium on getrandom, locks itself down (enclave_sandbox.h) before
 *  reading anything, and then serves the host (enclave_prog_run) until the host closes the
 *  socket. Exit status: 0 after a clean close; 1 broken stream; 2 bad start-up conditions;
 *  3 lockdown failed. A forbidden system call ends it with SIGSYS.
 */
#include <dirent.h>
#include <fcntl.h>
#include <htslib/hts.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enclave/enclave_prog.h"
#include "enclave/enclave_sandbox.h"
#include "enclave/enclave_wire.h"

extern char **environ;

#if defined(__SANITIZE_ADDRESS__)
/* Sanitizer builds only: LeakSanitizer's exit-time scan stops the world with ptrace from a
   helper thread, which the seccomp filter (rightly) kills; leaks are checked by the unit
   tests that run the same code in-process. Symbolizing a report would open files and
   start llvm-symbolizer, and color detection calls ioctl: both forbidden (see
   enclave_sandbox.c). The environment is empty, so ASAN_OPTIONS cannot say it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0:symbolize=0:color=never";
}
#endif

/* Writes a start-up refusal to fd 2 (before lockdown only). */
static int s_cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* One qsort of more than 1 KiB (see main). */
static void s_settle_qsort(void)
{
    size_t v[256];
    for (size_t i = 0; i < 256; i++)
        v[i] = 255 - i;
    qsort(v, 256, sizeof v[0], s_cmp_size);
}

static int s_refuse(int code, const char *what)
{
    fprintf(stderr, "genie-enclave: %s\n", what);
    return code;
}

/* True if the process has exactly fds 0-3 open. Reads /proc/self/fd (before lockdown). */
static bool s_only_fds_0_to_3(void)
{
    for (int fd = 0; fd <= 3; fd++)
        if (fcntl(fd, F_GETFD) < 0)
            return false;
    DIR *d = opendir("/proc/self/fd");
    if (!d) { /* no /proc: probe the usual range instead */
        for (int fd = 4; fd < 4096; fd++)
            if (fcntl(fd, F_GETFD) >= 0)
                return false;
        return true;
    }
    bool ok = true;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *end = NULL;
        long fd = strtol(de->d_name, &end, 10);
        if (end == de->d_name || *end != '\0')
            continue; /* not a descriptor number */
        if (fd > 3 && fd != dirfd(d))
            ok = false;
    }
    closedir(d);
    return ok;
}

int main(int argc, char **argv)
{
    enclave_kind_t kind;
    if (argc != 2 || enclave_kind_parse(argv[1], &kind) != 0)
        return s_refuse(2, "usage: genie-enclave validation|training|query (started by a host)");
    if (environ && environ[0])
        return s_refuse(2, "refusing to run with an environment");
    if (!s_only_fds_0_to_3())
        return s_refuse(2, "refusing to run with fds other than 0-3");
    struct stat st;
    if (fstat(ENCLAVE_WIRE_FD, &st) != 0 || !S_ISSOCK(st.st_mode))
        return s_refuse(2, "fd 3 is not a socket");
    if (sodium_init() < 0)
        return s_refuse(2, "libsodium failed to initialise");
    uint8_t settle[16]; /* first randombytes call picks getrandom before lockdown */
    randombytes_buf(settle, sizeof settle);
    sodium_memzero(settle, sizeof settle);

    /* htslib (ml/'s VCF parser) logs warnings to stderr; a write to fd 2 is forbidden after
       lockdown (outside sanitizer builds) and would kill the enclave on a mere warning. */
    hts_set_log_level(HTS_LOG_OFF);

    /* glibc's qsort (before 2.37) asks sysinfo for the machine's memory the first time it
       sorts more than 1 KiB, then keeps the answer: sort once now, so the training jobs'
       sorts (ml_split, proto_publish's records root, the enclave's id lists) need no
       syscall the filter does not allow. */
    s_settle_qsort();

    char err[160];
    if (enclave_sandbox_apply(ENCLAVE_WIRE_FD, err, sizeof err) != 0)
        return s_refuse(3, err);
    return enclave_prog_run(ENCLAVE_WIRE_FD, kind) == 0 ? 0 : 1;
}

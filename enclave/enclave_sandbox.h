/*  enclave_sandbox: the lockdown a genie-enclave process applies to itself before it reads
 *  its first request.
 *
 *  In order: PR_SET_NO_NEW_PRIVS (no setuid gain, and required for an unprivileged seccomp
 *  filter), PR_SET_DUMPABLE 0 (no ptrace attach or /proc/PID/mem by the same user, no core),
 *  RLIMIT_CORE 0, then a libseccomp filter whose default action is SCMP_ACT_KILL_PROCESS
 *  and whose allow-list is exactly what the enclave loop makes (see enclave_sandbox.c):
 *  read/write/send on its one socket, memory management (no executable mappings), the
 *  clock, getrandom, futex, exit. open/openat, socket, connect, execve, ptrace and every
 *  other call kill the whole process with SIGSYS.
 *
 *  Call it once, single-threaded, after everything that needs a forbidden call is done
 *  (sodium_init() and a first randombytes_buf(), so libsodium has settled on getrandom).
 *  It cannot be undone: a process stays locked down until it exits.
 */
#ifndef GENIE_ENCLAVE_SANDBOX_H
#define GENIE_ENCLAVE_SANDBOX_H

#include <stddef.h>

#include "proto/proto_err.h"

/*  Locks the calling process down; SOCK_FD is the one fd it may read and write (and, in
 *  sanitizer builds, fd 2 for the sanitizers' reports). 0, or ENCLAVE_E_SANDBOX with the
 *  step that failed in ERR (the caller must then exit: the process may be half locked). */
int enclave_sandbox_apply(int sock_fd, char *err, size_t err_cap) PROTO_WUR;

#endif

/*  getpid() for genie-node, cached. libzmq asks getpid() before every wait on a socket's
 *  signaler (its fork check: a child must not use its parent's sockets), so each
 *  ZMQ_EVENTS check of zmq_poll, two per socket per loop iteration, costs a getpid and a
 *  poll system call: half the system calls of the node's loop. On the paravirtualised
 *  guests we run on a system call costs over a microsecond (getpid 1.16 us, measured).
 *  Defined in the executable, this getpid interposes on libc's for every library; a
 *  fork()ed child forgets the cached value (pthread_atfork), so libzmq's check still sees
 *  the child's own pid. genie-node creates processes only with fork() (enclave_host.c).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_int s_pid; /* 0: not known */
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void s_forget(void)
{
    atomic_store(&s_pid, 0);
}

static void s_register(void)
{
    (void)pthread_atfork(NULL, NULL, s_forget);
}

pid_t getpid(void)
{
    int pid = atomic_load_explicit(&s_pid, memory_order_relaxed);
    if (pid == 0) {
        pthread_once(&s_once, s_register);
        pid = (int)syscall(SYS_getpid);
        atomic_store_explicit(&s_pid, pid, memory_order_relaxed);
    }
    return (pid_t)pid;
}

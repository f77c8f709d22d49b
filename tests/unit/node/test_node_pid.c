/*  test_node_pid: genie-node's cached getpid (node/bin/node_pid.c) answers the kernel's
 *  pid, the same on every call and in every thread, and a fork()ed child gets its own pid
 *  (the cache is forgotten in the child), also when the parent had asked before the fork.
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static void *s_thread(void *arg)
{
    *(pid_t *)arg = getpid();
    return NULL;
}

static void test_same_pid(void)
{
    pid_t real = (pid_t)syscall(SYS_getpid);
    CHECK_EQ(getpid(), real);
    CHECK_EQ(getpid(), real);
    pid_t in_thread = 0;
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, s_thread, &in_thread), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(in_thread, real);
}

static void test_fork_child(void)
{
    pid_t parent = getpid(); /* cached before the fork */
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        /* exit status 0: the child's getpid is its own, twice */
        pid_t real = (pid_t)syscall(SYS_getpid);
        _exit(getpid() == real && getpid() == real && real != parent ? 0 : 1);
    }
    int st = -1;
    CHECK_EQ(waitpid(child, &st, 0), child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_EQ(getpid(), parent);
}

int main(void)
{
    test_same_pid();
    test_fork_child();
    return testutil_done("test_node_pid");
}

/*  test_enclave_host_async: the split call API of enclave_host (enclave_host_call_send +
 *  enclave_host_call_poll on enclave_host_fd), with real genie-enclave processes.
 *
 *  Shows: a PING sent without waiting is answered through poll once the fd is readable; a
 *  second call while one is in flight is refused (one call per host); a 4 MiB request that
 *  does not fit the socket buffer goes out in pieces as the fd turns writable and its
 *  answer (the enclave's refusal of garbage) comes back whole; supervise while a call is in
 *  flight leaves its answer on the socket for the call; a call to a stopped (SIGSTOP)
 *  enclave is not done until its deadline, then fails ENCLAVE_E_TIMEOUT and the child is
 *  killed and restarted by supervise; a child killed while a call is in flight makes the
 *  call fail ENCLAVE_E_DEAD; enclave_host_stop with a call in flight ends the call. The
 *  random seed of the test data is printed.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "enclave/enclave_host.h"
#include "enclave/enclave_platform.h"
#include "enclave_host_testutil.h"
#include "proto/proto_key.h"
#include "testutil.h"

#ifndef GENIE_ENCLAVE_EXE
#error "GENIE_ENCLAVE_EXE (the genie-enclave binary) must be defined by tests/CMakeLists.txt"
#endif

/* Waits for H's fd to be ready for the call in flight (or its deadline), then polls once.
   The poll's result; *DONE as poll says. */
static int s_step(enclave_host_t *h, bool *done, enclave_ans_t *ans, uint8_t **frame,
                  size_t *frame_len, char *err, size_t cap)
{
    struct pollfd p = {.fd = enclave_host_fd(h),
                       .events =
                           (short)(POLLIN | (enclave_host_call_wants_write(h) ? POLLOUT : 0))};
    int64_t left = enclave_host_call_left_ms(h);
    (void)poll(&p, 1, left > 10000 ? 10000 : (int)left);
    return enclave_host_call_poll(h, done, ans, frame, frame_len, err, cap);
}

/* Runs the call in flight on H to its end; its result. */
static int s_finish(enclave_host_t *h, enclave_ans_t *ans, uint8_t **frame, size_t *frame_len,
                    char *err, size_t cap)
{
    bool done = false;
    int rc = 0;
    while (!done)
        rc = s_step(h, &done, ans, frame, frame_len, err, cap);
    return rc;
}

static void s_test_ping(enclave_host_t *h)
{
    enclave_req_t req = {.type = ENCLAVE_REQ_PING};
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    char err[256] = "";
    bool done = true;
    CHECK_EQ(enclave_host_call_poll(h, &done, &ans, &frame, &flen, err, sizeof err),
             ENCLAVE_E_PROTOCOL); /* nothing in flight */
    CHECK(!done);
    CHECK(!enclave_host_call_pending(h));
    CHECK_EQ(enclave_host_call_left_ms(h), -1);
    CHECK_EQ(enclave_host_call_send(h, &req, -1, err, sizeof err), 0);
    CHECK(enclave_host_call_pending(h));
    CHECK(enclave_host_call_left_ms(h) > 0);
    CHECK(enclave_host_fd(h) >= 0);
    /* one call in flight per host */
    CHECK_EQ(enclave_host_call_send(h, &req, -1, err, sizeof err), ENCLAVE_E_PROTOCOL);
    enclave_req_t init = {.type = ENCLAVE_REQ_INIT};
    CHECK_EQ(enclave_host_call_send(h, &init, -1, err, sizeof err), ENCLAVE_E_PROTOCOL);
    CHECK_EQ(s_finish(h, &ans, &frame, &flen, err, sizeof err), 0);
    CHECK_EQ(ans.type, ENCLAVE_ANS_PONG);
    CHECK(frame != NULL);
    CHECK(!enclave_host_call_pending(h));
    free(frame);
}

/* A request larger than the socket buffer: written in pieces by poll. */
static void s_test_large(enclave_host_t *h, unsigned seed)
{
    size_t n = 4u * 1024u * 1024u;
    uint8_t *junk = malloc(n);
    REQUIRE(junk != NULL);
    randombytes_buf_deterministic(junk, n,
                                  (const uint8_t[32]){(uint8_t)seed, (uint8_t)(seed >> 8),
                                                      (uint8_t)(seed >> 16),
                                                      (uint8_t)(seed >> 24)});
    enclave_req_t req;
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_DONATE;
    req.u.donate.sealed = junk;
    req.u.donate.sealed_len = n;
    char err[256] = "";
    CHECK_EQ(enclave_host_call_send(h, &req, 20000, err, sizeof err), 0);
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    bool done = false;
    /* the first poll writes what the socket buffer takes: not all of 4 MiB */
    CHECK_EQ(enclave_host_call_poll(h, &done, &ans, &frame, &flen, err, sizeof err), 0);
    CHECK(!done);
    CHECK(enclave_host_call_wants_write(h));
    int rc = s_finish(h, &ans, &frame, &flen, err, sizeof err);
    /* garbage sealed data is refused by the enclave: an ERROR answer, not a transport error */
    CHECK(rc < 0 && rc != ENCLAVE_E_DEAD && rc != ENCLAVE_E_TIMEOUT && rc != PROTO_E_IO);
    CHECK(frame == NULL);
    CHECK(enclave_host_running(h));
    free(junk);
    /* the stream is in step: the next call is answered */
    s_test_ping(h);
}

/* supervise while a call is in flight does not read the call's answer. */
static void s_test_supervise_in_flight(enclave_host_t *h)
{
    enclave_req_t req = {.type = ENCLAVE_REQ_PING};
    char err[256] = "";
    CHECK_EQ(enclave_host_call_send(h, &req, -1, err, sizeof err), 0);
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    bool done = false;
    CHECK_EQ(enclave_host_call_poll(h, &done, &ans, &frame, &flen, err, sizeof err), 0);
    if (!done) { /* wait until the answer is on the socket */
        struct pollfd p = {.fd = enclave_host_fd(h), .events = POLLIN};
        CHECK_EQ(poll(&p, 1, 10000), 1);
        CHECK_EQ(enclave_host_supervise(h, 0, err, sizeof err), 0);
        CHECK_EQ(s_finish(h, &ans, &frame, &flen, err, sizeof err), 0);
    }
    CHECK_EQ(ans.type, ENCLAVE_ANS_PONG);
    free(frame);
}

/* A frozen enclave: the call is not done until its deadline, then the child is killed. */
static void s_test_timeout(enclave_host_t *h)
{
    pid_t pid = enclave_host_pid(h);
    uint32_t restarts = enclave_host_restarts(h);
    REQUIRE(pid > 0);
    CHECK_EQ(kill(pid, SIGSTOP), 0);
    enclave_req_t req = {.type = ENCLAVE_REQ_PING};
    char err[256] = "";
    CHECK_EQ(enclave_host_call_send(h, &req, 300, err, sizeof err), 0);
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    bool done = false;
    int rc = 0, polls = 0;
    while (!done) {
        rc = s_step(h, &done, &ans, &frame, &flen, err, sizeof err);
        polls++;
    }
    CHECK(polls >= 1);
    CHECK_EQ(rc, ENCLAVE_E_TIMEOUT);
    CHECK(strstr(err, "killed") != NULL);
    CHECK(!enclave_host_running(h));
    CHECK(!enclave_host_call_pending(h));
    CHECK(WIFSIGNALED(enclave_host_last_status(h)));
    /* supervise restarts it (backoff of this host: 10 ms) */
    for (int i = 0; i < 50 && !enclave_host_running(h); i++)
        CHECK_EQ(enclave_host_supervise(h, 100, err, sizeof err), 0);
    CHECK(enclave_host_running(h));
    CHECK(enclave_host_pid(h) != pid);
    CHECK_EQ(enclave_host_restarts(h), restarts + 1);
    s_test_ping(h);
}

/* The child dies while a call is in flight. */
static void s_test_dead(enclave_host_t *h)
{
    pid_t pid = enclave_host_pid(h);
    REQUIRE(pid > 0);
    CHECK_EQ(kill(pid, SIGSTOP), 0); /* it cannot answer before it dies */
    enclave_req_t req = {.type = ENCLAVE_REQ_PING};
    char err[256] = "";
    CHECK_EQ(enclave_host_call_send(h, &req, 10000, err, sizeof err), 0);
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    bool done = false;
    CHECK_EQ(enclave_host_call_poll(h, &done, &ans, &frame, &flen, err, sizeof err), 0);
    CHECK(!done);
    CHECK_EQ(kill(pid, SIGKILL), 0);
    CHECK_EQ(s_finish(h, &ans, &frame, &flen, err, sizeof err), ENCLAVE_E_DEAD);
    CHECK(frame == NULL);
    CHECK(!enclave_host_running(h));
    for (int i = 0; i < 50 && !enclave_host_running(h); i++)
        CHECK_EQ(enclave_host_supervise(h, 100, err, sizeof err), 0);
    CHECK(enclave_host_running(h));
    s_test_ping(h);
}

/* stop with a call in flight ends the call. */
static void s_test_stop(enclave_host_t *h)
{
    pid_t pid = enclave_host_pid(h);
    REQUIRE(pid > 0);
    CHECK_EQ(kill(pid, SIGSTOP), 0);
    enclave_req_t req = {.type = ENCLAVE_REQ_PING};
    char err[256] = "";
    CHECK_EQ(enclave_host_call_send(h, &req, 10000, err, sizeof err), 0);
    CHECK(enclave_host_call_pending(h));
    int status = 0;
    CHECK_EQ(enclave_host_stop(h, &status), 0); /* SIGTERM, then SIGKILL after the grace */
    CHECK(!enclave_host_call_pending(h));
    CHECK_EQ(enclave_host_fd(h), -1);
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    bool done = true;
    CHECK_EQ(enclave_host_call_poll(h, &done, &ans, &frame, &flen, err, sizeof err),
             ENCLAVE_E_PROTOCOL);
    CHECK_EQ(enclave_host_call_send(h, &req, -1, err, sizeof err), ENCLAVE_E_DEAD);
}

int main(void)
{
    CHECK(proto_crypto_init() == 0);
    unsigned seed = (unsigned)time(NULL);
    printf("seed %u\n", seed);
    const char *dir = testutil_tmpdir();
    proto_key_t *as = NULL;
    enclave_platform_t *plat = enclave_testutil_platform(dir, "runner-async", &as);

    enclave_host_opts_t o;
    enclave_host_opts_default(&o);
    o.backoff_min_ms = 10;
    o.backoff_max_ms = 200;
    o.stop_grace_ms = 200;
    o.inherit_stderr = true;
    enclave_host_t *h =
        enclave_testutil_host_start(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_TRAINING, plat, &o);
    s_test_ping(h);
    s_test_large(h, seed);
    s_test_supervise_in_flight(h);
    s_test_timeout(h);
    s_test_dead(h);
    s_test_stop(h);
    enclave_host_destroy(&h);
    CHECK(h == NULL);

    enclave_platform_destroy(&plat);
    proto_key_destroy(&as);
    testutil_rmtree(dir);
    return testutil_done("test_enclave_host_async");
}

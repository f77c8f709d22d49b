/*  enclave_host: spawn, attest, call, supervise and stop one genie-enclave process (see
 *  enclave_host.h).
 */
#define _GNU_SOURCE /* close_range */
#include "enclave/enclave_host.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "enclave/enclave_measure.h"

struct enclave_host_t {
    char *exe_path;
    enclave_kind_t kind;
    enclave_platform_t *platform; /* borrowed */
    enclave_host_opts_t opts;
    pid_t pid; /* -1: none */
    int fd;    /* our end of the socket, -1: none */
    bool stopped;
    bool has_quote;
    proto_attest_quote_t quote;
    uint8_t measurement[32];
    int64_t started_ms;
    int64_t restart_at_ms; /* when a dead child is due for restart; -1: none scheduled */
    uint32_t backoff_ms;
    uint32_t restarts;
    uint32_t failures_in_row;
    int last_status;
    /* the call in flight (enclave_host_call_send .. enclave_host_call_poll) */
    bool call_busy;
    int64_t call_deadline; /* monotonic ms */
    uint8_t *out;          /* the request frame (length prefix + request) not yet written */
    size_t out_len, out_off;
    uint8_t hdr[4]; /* the answer's length prefix as it arrives */
    size_t hdr_got;
    uint8_t *in; /* the answer's body as it arrives (hdr_got == 4) */
    size_t in_len, in_got;
};

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void enclave_host_opts_default(enclave_host_opts_t *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->start_timeout_ms = 5000;
    opts->call_timeout_ms = 10000;
    opts->stop_grace_ms = 2000;
    opts->backoff_min_ms = 100;
    opts->backoff_max_ms = 30000;
    opts->stable_ms = 60000;
}

enclave_host_t *enclave_host_new(const char *exe_path, enclave_kind_t kind,
                                 enclave_platform_t *platform, const enclave_host_opts_t *opts)
{
    if (!exe_path || !platform || !enclave_kind_name(kind))
        return NULL;
    enclave_host_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->exe_path = strdup(exe_path);
    if (!self->exe_path) {
        free(self);
        return NULL;
    }
    self->kind = kind;
    self->platform = platform;
    if (opts)
        self->opts = *opts;
    else
        enclave_host_opts_default(&self->opts);
    if (self->opts.backoff_min_ms == 0)
        self->opts.backoff_min_ms = 1;
    if (self->opts.backoff_max_ms < self->opts.backoff_min_ms)
        self->opts.backoff_max_ms = self->opts.backoff_min_ms;
    self->pid = -1;
    self->fd = -1;
    self->restart_at_ms = -1;
    self->backoff_ms = self->opts.backoff_min_ms;
    self->last_status = -1;
    return self;
}

/* Forgets the call in flight, wiping what was written and read of it. */
static void s_call_reset(enclave_host_t *self)
{
    if (self->out) {
        sodium_memzero(self->out, self->out_len);
        free(self->out);
    }
    if (self->in) {
        sodium_memzero(self->in, self->in_got);
        free(self->in);
    }
    self->out = self->in = NULL;
    self->out_len = self->out_off = self->in_len = self->in_got = self->hdr_got = 0;
    sodium_memzero(self->hdr, sizeof self->hdr);
    self->call_busy = false;
}

/* Kills (SIGKILL) and reaps the child, closes the socket. */
static void s_kill(enclave_host_t *self)
{
    s_call_reset(self);
    if (self->fd >= 0) {
        close(self->fd);
        self->fd = -1;
    }
    if (self->pid > 0) {
        kill(self->pid, SIGKILL);
        int status = 0;
        while (waitpid(self->pid, &status, 0) < 0 && errno == EINTR)
            ;
        self->last_status = status;
        self->pid = -1;
    }
}

/* Waits up to MS for the child to close its end (exit). True if it did. */
static bool s_wait_hup(int fd, int ms)
{
    int64_t deadline = s_now_ms() + ms;
    for (;;) {
        int64_t left = deadline - s_now_ms();
        if (left < 0)
            left = 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = poll(&p, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return false;
        uint8_t buf[256];
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return true;
        sodium_memzero(buf, sizeof buf); /* a stray answer: ignore it */
        if (left == 0)
            return false;
    }
}

int enclave_host_stop(enclave_host_t *self, int *status)
{
    if (status)
        *status = -1;
    self->stopped = true;
    self->restart_at_ms = -1;
    s_call_reset(self); /* an answer still coming is read and dropped by s_wait_hup */
    if (self->pid <= 0) {
        s_kill(self);
        return PROTO_OK;
    }
    int grace = self->opts.stop_grace_ms > 0 ? self->opts.stop_grace_ms : 0;
    shutdown(self->fd, SHUT_WR); /* the enclave reads EOF, wipes, exits */
    if (!s_wait_hup(self->fd, grace)) {
        kill(self->pid, SIGTERM);
        if (!s_wait_hup(self->fd, grace))
            kill(self->pid, SIGKILL);
    }
    close(self->fd);
    self->fd = -1;
    int st = 0;
    while (waitpid(self->pid, &st, 0) < 0 && errno == EINTR)
        ;
    self->pid = -1;
    self->last_status = st;
    if (status)
        *status = st;
    return PROTO_OK;
}

void enclave_host_destroy(enclave_host_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    enclave_host_t *self = *self_p;
    (void)enclave_host_stop(self, NULL);
    free(self->exe_path);
    sodium_memzero(self, sizeof *self);
    free(self);
    *self_p = NULL;
}

/* In the child between fork and exec: only async-signal-safe calls. Never returns. */
static void s_child(int sock, int exe, bool keep_stderr, char *const argv[], char *const envp[])
{
    if (sock <= 3 && (sock = fcntl(sock, F_DUPFD_CLOEXEC, 4)) < 0)
        _exit(127);
    if (exe <= 3 && (exe = fcntl(exe, F_DUPFD_CLOEXEC, 4)) < 0)
        _exit(127);
    /* not CLOEXEC: if the host had no fd 0 (1, 2), this IS fd 0 and dup2 onto itself
       would leave the flag set; above 3 it is closed below */
    int null = open("/dev/null", O_RDWR);
    if (null < 0)
        _exit(127);
    if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || (!keep_stderr && dup2(null, 2) < 0))
        _exit(127);
    if (dup2(sock, ENCLAVE_WIRE_FD) < 0)
        _exit(127);
    /* every fd from 4 up is closed, except the executable's (CLOEXEC: gone at exec) */
    if (exe > 4)
        close_range(4, (unsigned)exe - 1, 0);
    close_range((unsigned)exe + 1, ~0u, 0);
    fexecve(exe, argv, envp);
    _exit(127);
}

/* The INIT exchange and the quote. */
static int s_attest(enclave_host_t *self, char *err, size_t err_cap)
{
    enclave_req_t req;
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_INIT;
    req.u.init.kind = self->kind;
    memcpy(req.u.init.chain_id, self->opts.chain_id, 32);
    if (self->opts.nonce_fn)
        self->opts.nonce_fn(self->opts.on_quote_ctx, self, req.u.init.nonce);
    else
        randombytes_buf(req.u.init.nonce, sizeof req.u.init.nonce);
    int rc = enclave_platform_seal_key(self->platform, self->measurement, req.u.init.seal_key);
    uint8_t *buf = NULL, *frame = NULL;
    size_t len = 0, frame_len = 0;
    if (rc == PROTO_OK)
        rc = enclave_wire_req_encode(&req, &buf, &len);
    uint8_t nonce[32];
    memcpy(nonce, req.u.init.nonce, 32);
    sodium_memzero(&req, sizeof req);
    if (rc)
        return proto_err_fail(err, err_cap, rc, "INIT: %s", proto_err_str(rc));
    rc = enclave_wire_send_free(self->fd, &buf, len); /* wipes the seal key */
    if (rc == PROTO_OK)
        rc = enclave_wire_recv(self->fd, self->opts.start_timeout_ms, &frame, &frame_len);
    if (rc == PROTO_E_IO)
        return proto_err_fail(err, err_cap, ENCLAVE_E_DEAD, "enclave exited before answering");
    if (rc)
        return proto_err_fail(err, err_cap, rc, "INIT answer: %s", proto_err_str(rc));
    enclave_ans_t ans;
    rc = enclave_wire_ans_decode(frame, frame_len, &ans);
    if (rc == PROTO_OK && ans.type == ENCLAVE_ANS_ERROR)
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_PROTOCOL, "enclave refused INIT: %s",
                            ans.u.error.msg);
    else if (rc || ans.type != ENCLAVE_ANS_INIT)
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_PROTOCOL, "INIT answer malformed");
    else {
        uint8_t want[64];
        enclave_wire_report_data(self->kind, self->opts.chain_id, want);
        if (sodium_memcmp(ans.u.init.nonce, nonce, 32) != 0 ||
            sodium_memcmp(ans.u.init.report_data, want, 64) != 0)
            rc = proto_err_fail(err, err_cap, ENCLAVE_E_ATTEST, "report body: wrong %s",
                                sodium_memcmp(ans.u.init.nonce, nonce, 32) ? "nonce"
                                                                           : "report data");
    }
    if (rc == PROTO_OK) {
        proto_attest_body_t body;
        memcpy(body.sign_pk, ans.u.init.sign_pk, 32);
        memcpy(body.box_pk, ans.u.init.box_pk, 32);
        memcpy(body.report_data, ans.u.init.report_data, 64);
        memcpy(body.nonce, ans.u.init.nonce, 32);
        rc = enclave_platform_quote(self->platform, self->measurement, &body, &self->quote);
        if (rc)
            rc = proto_err_fail(err, err_cap, rc, "platform quote: %s", proto_err_str(rc));
        self->has_quote = rc == PROTO_OK;
    }
    free(frame);
    return rc;
}

int enclave_host_start(enclave_host_t *self, char *err, size_t err_cap)
{
    if (self->pid > 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_PROTOCOL, "enclave already running");
    const char *kind = enclave_kind_name(self->kind);
    char arg0[] = "genie-enclave";
    char arg1[16];
    snprintf(arg1, sizeof arg1, "%s", kind);
    char *const argv[] = {arg0, arg1, NULL};
    char *const envp[] = {NULL};
    int sv[2] = {-1, -1};
    int rc;
    self->has_quote = false;
    self->stopped = false;
    int exe = open(self->exe_path, O_RDONLY | O_CLOEXEC);
    if (exe < 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_SPAWN, "open %s: %s", self->exe_path,
                              strerror(errno));
    if ((rc = enclave_measure_fd(exe, kind, self->measurement, err, err_cap)))
        goto out;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_SPAWN, "socketpair: %s", strerror(errno));
        goto out;
    }
    bool keep_stderr = self->opts.inherit_stderr;
    pid_t pid = fork();
    if (pid < 0) {
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_SPAWN, "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0)
        s_child(sv[1], exe, keep_stderr, argv, envp);
    close(sv[1]);
    sv[1] = -1;
    self->pid = pid;
    self->fd = sv[0];
    sv[0] = -1;
    self->started_ms = s_now_ms();
    rc = s_attest(self, err, err_cap);
    if (rc) {
        s_kill(self);
        goto out;
    }
    if (self->opts.on_quote)
        self->opts.on_quote(self->opts.on_quote_ctx, self, &self->quote);
out:
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    close(exe);
    return rc;
}

/* Reaps a child that died (or is dying) and schedules its restart. */
static void s_reap_dead(enclave_host_t *self)
{
    s_kill(self); /* SIGKILL is harmless to a dead child and ends a misbehaving one */
    int64_t now = s_now_ms();
    if (now - self->started_ms >= (int64_t)self->opts.stable_ms) {
        self->backoff_ms = self->opts.backoff_min_ms;
        self->failures_in_row = 0;
    }
    self->restart_at_ms = now + self->backoff_ms;
    uint64_t next = (uint64_t)self->backoff_ms * 2;
    self->backoff_ms =
        next > self->opts.backoff_max_ms ? self->opts.backoff_max_ms : (uint32_t)next;
}

/* Writes what the socket takes of the request now. 0, or PROTO_E_IO (the peer is gone). */
static int s_flush(enclave_host_t *self)
{
    while (self->out_off < self->out_len) {
        ssize_t n = send(self->fd, self->out + self->out_off, self->out_len - self->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return PROTO_OK;
        if (n <= 0)
            return PROTO_E_IO;
        self->out_off += (size_t)n;
    }
    if (self->out) { /* all written: the request's bytes are not kept */
        sodium_memzero(self->out, self->out_len);
        free(self->out);
        self->out = NULL;
    }
    return PROTO_OK;
}

int enclave_host_call_send(enclave_host_t *self, const enclave_req_t *req, int timeout_ms,
                           char *err, size_t err_cap)
{
    if (req->type == ENCLAVE_REQ_INIT)
        return proto_err_fail(err, err_cap, ENCLAVE_E_PROTOCOL, "INIT is the host's own");
    if (self->call_busy)
        return proto_err_fail(err, err_cap, ENCLAVE_E_PROTOCOL,
                              "a call is already in flight (one at a time)");
    if (self->pid <= 0 || self->fd < 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_DEAD, "no enclave running");
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = enclave_wire_req_encode(req, &buf, &len);
    if (rc)
        return proto_err_fail(err, err_cap, rc, "request: %s", proto_err_str(rc));
    if (len > ENCLAVE_WIRE_MAX_FRAME || !(self->out = malloc(len + 4))) {
        sodium_memzero(buf, len);
        free(buf);
        rc = len > ENCLAVE_WIRE_MAX_FRAME ? PROTO_E_TOO_BIG : PROTO_E_NOMEM;
        return proto_err_fail(err, err_cap, rc, "request: %s", proto_err_str(rc));
    }
    self->out[0] = (uint8_t)(len >> 24);
    self->out[1] = (uint8_t)(len >> 16);
    self->out[2] = (uint8_t)(len >> 8);
    self->out[3] = (uint8_t)len;
    memcpy(self->out + 4, buf, len);
    sodium_memzero(buf, len);
    free(buf);
    self->out_len = len + 4;
    self->out_off = 0;
    self->call_busy = true;
    self->call_deadline = s_now_ms() + (timeout_ms < 0 ? self->opts.call_timeout_ms : timeout_ms);
    if (s_flush(self) != PROTO_OK) { /* what the socket takes now; the rest in poll */
        s_reap_dead(self);
        return proto_err_fail(err, err_cap, ENCLAVE_E_DEAD, "enclave died");
    }
    return PROTO_OK;
}

int enclave_host_fd(const enclave_host_t *self)
{
    return self->pid > 0 ? self->fd : -1;
}

bool enclave_host_call_pending(const enclave_host_t *self)
{
    return self->call_busy;
}

bool enclave_host_call_wants_write(const enclave_host_t *self)
{
    return self->call_busy && self->out_off < self->out_len;
}

int64_t enclave_host_call_left_ms(const enclave_host_t *self)
{
    if (!self->call_busy)
        return -1;
    int64_t left = self->call_deadline - s_now_ms();
    return left > 0 ? left : 0;
}

/* Reads what has arrived of the answer. 0 with *WHOLE set once the frame is complete;
   PROTO_E_IO (closed or failed), PROTO_E_TOO_BIG (a length over the frame limit),
   PROTO_E_NOMEM. */
static int s_fill(enclave_host_t *self, bool *whole)
{
    *whole = false;
    for (;;) {
        uint8_t *dst;
        size_t want;
        if (self->hdr_got < 4) {
            dst = self->hdr + self->hdr_got;
            want = 4 - self->hdr_got;
        } else {
            if (self->in_got == self->in_len) {
                *whole = true;
                return PROTO_OK;
            }
            dst = self->in + self->in_got;
            want = self->in_len - self->in_got;
        }
        ssize_t n = recv(self->fd, dst, want, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return PROTO_OK;
        if (n <= 0)
            return PROTO_E_IO;
        if (self->hdr_got < 4) {
            self->hdr_got += (size_t)n;
            if (self->hdr_got < 4)
                continue;
            size_t len = (size_t)self->hdr[0] << 24 | (size_t)self->hdr[1] << 16 |
                         (size_t)self->hdr[2] << 8 | self->hdr[3];
            if (len > ENCLAVE_WIRE_MAX_FRAME)
                return PROTO_E_TOO_BIG;
            if (!(self->in = malloc(len ? len : 1)))
                return PROTO_E_NOMEM;
            self->in_len = len;
            self->in_got = 0;
        } else {
            self->in_got += (size_t)n;
        }
    }
}

int enclave_host_call_poll(enclave_host_t *self, bool *done, enclave_ans_t *ans, uint8_t **frame,
                           size_t *frame_len, char *err, size_t err_cap)
{
    *done = false;
    *frame = NULL;
    *frame_len = 0;
    memset(ans, 0, sizeof *ans);
    if (!self->call_busy)
        return proto_err_fail(err, err_cap, ENCLAVE_E_PROTOCOL, "no call in flight");
    *done = true; /* unless the answer is not whole yet, below */
    if (self->pid <= 0 || self->fd < 0) {
        s_call_reset(self);
        return proto_err_fail(err, err_cap, ENCLAVE_E_DEAD, "enclave died");
    }
    bool whole = false;
    int rc = s_flush(self);
    if (rc == PROTO_OK)
        rc = s_fill(self, &whole);
    if (rc == PROTO_E_IO) {
        s_reap_dead(self);
        return proto_err_fail(err, err_cap, ENCLAVE_E_DEAD, "enclave died");
    }
    if (rc == PROTO_OK && !whole && s_now_ms() >= self->call_deadline)
        rc = ENCLAVE_E_TIMEOUT;
    if (rc) {
        /* timeout or an oversized frame: the stream is out of step, end the child */
        s_reap_dead(self);
        return proto_err_fail(err, err_cap, rc, "call: %s (enclave killed)", proto_err_str(rc));
    }
    if (!whole) {
        *done = false;
        return PROTO_OK;
    }
    uint8_t *in = self->in;
    size_t in_len = self->in_len;
    self->in = NULL; /* handed over: s_call_reset must not free it */
    s_call_reset(self);
    rc = enclave_wire_ans_decode(in, in_len, ans);
    if (rc == PROTO_OK && ans->type == ENCLAVE_ANS_ERROR) {
        rc = proto_err_fail(err, err_cap, ans->u.error.code, "%s", ans->u.error.msg);
        memset(ans, 0, sizeof *ans);
    } else if (rc) {
        rc = proto_err_fail(err, err_cap, rc, "answer: %s", proto_err_str(rc));
    }
    if (rc) {
        sodium_memzero(in, in_len);
        free(in);
        return rc;
    }
    *frame = in;
    *frame_len = in_len;
    return PROTO_OK;
}

int enclave_host_call(enclave_host_t *self, const enclave_req_t *req, int timeout_ms,
                      enclave_ans_t *ans, uint8_t **frame, size_t *frame_len, char *err,
                      size_t err_cap)
{
    *frame = NULL;
    *frame_len = 0;
    memset(ans, 0, sizeof *ans);
    int rc = enclave_host_call_send(self, req, timeout_ms, err, err_cap);
    if (rc)
        return rc;
    for (;;) {
        bool done = false;
        rc = enclave_host_call_poll(self, &done, ans, frame, frame_len, err, err_cap);
        if (done)
            return rc;
        struct pollfd p = {
            .fd = self->fd,
            .events = (short)(POLLIN | (enclave_host_call_wants_write(self) ? POLLOUT : 0))};
        int64_t left = enclave_host_call_left_ms(self);
        if (poll(&p, 1, left > 60000 ? 60000 : (int)left) < 0 && errno != EINTR) {
            s_reap_dead(self);
            return proto_err_fail(err, err_cap, PROTO_E_IO, "poll: %s", strerror(errno));
        }
    }
}

int enclave_host_supervise(enclave_host_t *self, int wait_ms, char *err, size_t err_cap)
{
    if (self->stopped)
        return proto_err_fail(err, err_cap, ENCLAVE_E_DEAD, "enclave stopped");
    if (self->call_busy)
        return PROTO_OK; /* its reader owns the socket: enclave_host_call_poll sees a death */
    int64_t deadline = s_now_ms() + (wait_ms > 0 ? wait_ms : 0);
    if (self->pid > 0) {
        int64_t left = deadline - s_now_ms();
        if (!s_wait_hup(self->fd, left > 0 ? (int)left : 0))
            return PROTO_OK; /* alive */
        s_reap_dead(self);
    }
    if (self->opts.max_restarts && self->failures_in_row >= self->opts.max_restarts)
        return proto_err_fail(err, err_cap, ENCLAVE_E_DEAD, "gave up after %u restarts",
                              self->failures_in_row);
    int64_t now = s_now_ms();
    if (self->restart_at_ms < 0)
        self->restart_at_ms = now;
    if (self->restart_at_ms > deadline)
        return PROTO_OK; /* restart pending */
    if (self->restart_at_ms > now) {
        struct timespec ts = {(time_t)((self->restart_at_ms - now) / 1000),
                              (long)((self->restart_at_ms - now) % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    self->restart_at_ms = -1;
    self->failures_in_row++;
    int rc = enclave_host_start(self, err, err_cap);
    if (rc) {
        s_reap_dead(self); /* schedules the next attempt after a longer backoff */
        return rc;
    }
    self->restarts++;
    return PROTO_OK;
}

bool enclave_host_given_up(const enclave_host_t *self)
{
    return self->pid <= 0 && self->opts.max_restarts &&
           self->failures_in_row >= self->opts.max_restarts;
}

bool enclave_host_running(const enclave_host_t *self)
{
    return self->pid > 0;
}

pid_t enclave_host_pid(const enclave_host_t *self)
{
    return self->pid > 0 ? self->pid : -1;
}

const proto_attest_quote_t *enclave_host_quote(const enclave_host_t *self)
{
    return self->has_quote ? &self->quote : NULL;
}

void enclave_host_measurement(const enclave_host_t *self, uint8_t out[static 32])
{
    memcpy(out, self->measurement, 32);
}

uint32_t enclave_host_restarts(const enclave_host_t *self)
{
    return self->restarts;
}

int enclave_host_last_status(const enclave_host_t *self)
{
    return self->last_status;
}

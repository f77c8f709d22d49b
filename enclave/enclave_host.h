/*  enclave_host: the host (enclave-runner) side of one genie-enclave process: spawn it
 *  measured and locked down, attest it, call it, supervise it, stop it.
 *
 *  Start: the host opens the executable, measures it through that fd
 *  (enclave_measure_fd, with the kind as program identifier), makes a socketpair, forks;
 *  the child keeps only /dev/null on fds 0-2 (or the host's stderr on 2, if asked) and its
 *  socket end on fd 3, closes every other fd, and fexecve()s the measured fd with argv
 *  {"genie-enclave", kind} and an empty environment, so what runs is what was measured and
 *  no secret travels in argv or the environment. The enclave locks itself down, makes its
 *  keys, and the host sends INIT {kind, fresh nonce, the platform's seal key for the
 *  measurement, the chain id of opts.chain_id}; the enclave answers with its report body
 *  (signing key, box key, report data, nonce), which the host checks (nonce echoed, report
 *  data the kind's bound to that chain) and has the
 *  platform quote (enclave_platform_quote). The quote is reported through the on_quote
 *  callback, at the first start and after every restart, so the node can (re-)register it.
 *
 *  Calls are request/answer on the socket, ONE CALL IN FLIGHT PER HOST (the enclave is
 *  single-threaded and answers in order; a second request is refused until the first is
 *  answered, failed or timed out). Two ways to call: enclave_host_call waits for the answer
 *  (tests, tools, benchmarks); enclave_host_call_send + enclave_host_call_poll never block,
 *  for an event loop: send queues the request, the owner watches enclave_host_fd (readable,
 *  and writable while enclave_host_call_wants_write) and calls poll when it is ready and at
 *  least once after enclave_host_call_left_ms; poll writes what the socket takes, buffers
 *  what arrived of the length-prefixed answer (bounded by ENCLAVE_WIRE_MAX_FRAME) and
 *  reports the answer once whole. A call that times out kills the
 *  child (a late answer would otherwise be taken for the next request's); a dead child is
 *  noticed by enclave_host_supervise(), which restarts it with exponential backoff
 *  (backoff_min_ms doubling to backoff_max_ms, reset once a child has run stable_ms).
 *
 *  Not thread-safe: one owner (the node's enclave-runner loop) calls everything. The host
 *  only ever handles what it sends and what it gets back: donations and queries are sealed
 *  to the enclave's box key before they reach it, so it relays ciphertext only.
 */
#ifndef GENIE_ENCLAVE_HOST_H
#define GENIE_ENCLAVE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "enclave/enclave_platform.h"
#include "proto/proto_attest.h"
#include "enclave/enclave_wire.h"
#include "proto/proto_err.h"

typedef struct enclave_host_t enclave_host_t;

/*  Called after each successful start with the enclave's new quote (borrowed: copy what you
 *  keep). */
typedef void (*enclave_host_quote_fn)(void *ctx, enclave_host_t *host,
                                      const proto_attest_quote_t *quote);

/*  Chooses the nonce of a start's INIT (the quote's nonce), e.g. the ledger's head block
 *  hash so a verifier sees the quote is fresh. Optional: a random nonce otherwise. */
typedef void (*enclave_host_nonce_fn)(void *ctx, enclave_host_t *host, uint8_t nonce[32]);

typedef struct {
    int start_timeout_ms;    /* wait for the INIT answer; default 5000 */
    int call_timeout_ms;     /* default timeout of a call (timeout_ms < 0); default 10000 */
    int stop_grace_ms;       /* stop: wait this long after closing, then after SIGTERM */
    uint32_t backoff_min_ms; /* first restart delay; default 100 */
    uint32_t backoff_max_ms; /* largest restart delay; default 30000 */
    uint32_t stable_ms;      /* a child that ran this long resets the backoff; default 60000 */
    uint32_t max_restarts;   /* give up after this many restarts in a row; 0: never */
    bool inherit_stderr;     /* the child's fd 2 is the host's stderr (else /dev/null) */
    enclave_host_quote_fn on_quote;
    void *on_quote_ctx;             /* also passed to nonce_fn */
    enclave_host_nonce_fn nonce_fn; /* NULL: random nonces */
    /* The chain the enclave is bound to for its life, sent in INIT: its quote's report data
       names it (the ledger registers only quotes bound to its own chain id, a coordinating
       training enclave seals models only to query enclaves bound to its own) and CHAIN
       must be that chain's genesis. The runner's ledger chain id (ledger_genesis_chain_id);
       all zeros (the default) binds to no real chain: for tests without a ledger. */
    uint8_t chain_id[32];
} enclave_host_opts_t;

/*  Fills OPTS with the defaults above. */
void enclave_host_opts_default(enclave_host_opts_t *opts);

/*  A host for the executable at EXE_PATH (copied) as an enclave of KIND on PLATFORM
 *  (borrowed: it must outlive the host). OPTS is copied (NULL: defaults). Nothing is
 *  started yet. NULL on a bad kind or out of memory. */
enclave_host_t *enclave_host_new(const char *exe_path, enclave_kind_t kind,
                                 enclave_platform_t *platform, const enclave_host_opts_t *opts);

/*  Stops the child (enclave_host_stop) and frees the host; tolerates NULL; sets *self_p to
 *  NULL. */
void enclave_host_destroy(enclave_host_t **self_p);

/*  Measures, spawns and attests the enclave (see above); calls on_quote. 0, or
 *  ENCLAVE_E_SPAWN (open, socketpair, fork), ENCLAVE_E_DEAD (the child exited before
 *  answering), ENCLAVE_E_TIMEOUT, ENCLAVE_E_PROTOCOL / ENCLAVE_E_ATTEST (an answer that is
 *  not a report body for this kind, nonce and opts.chain_id), or the measurement's or the
 *  platform's code; any started child is killed and reaped on failure. A host already
 *  running returns ENCLAVE_E_PROTOCOL. Detail in ERR. */
int enclave_host_start(enclave_host_t *self, char *err, size_t err_cap) PROTO_WUR;

/*  Sends REQ and waits for its answer (TIMEOUT_MS; < 0: the host's call_timeout_ms).
 *  On 0, *ANS is a non-error answer whose byte fields point into *FRAME (malloc'd, the
 *  caller frees it; *FRAME_LEN bytes). An ERROR answer is returned as its (negative) code
 *  with its message in ERR and no frame. Also ENCLAVE_E_DEAD (no child, or it died),
 *  ENCLAVE_E_TIMEOUT (the child is then killed), an encoding or decoding code, or
 *  PROTO_E_IO. INIT cannot be sent through here (ENCLAVE_E_PROTOCOL). */
int enclave_host_call(enclave_host_t *self, const enclave_req_t *req, int timeout_ms,
                      enclave_ans_t *ans, uint8_t **frame, size_t *frame_len, char *err,
                      size_t err_cap) PROTO_WUR;

/*  Starts a call: encodes REQ and writes what the socket takes of it now, without blocking
 *  (the rest goes out in enclave_host_call_poll); nothing is read, so the call is never
 *  over when this returns 0. Its deadline is now + TIMEOUT_MS (< 0: call_timeout_ms).
 *  0, ENCLAVE_E_PROTOCOL (INIT, or a call already in flight), ENCLAVE_E_DEAD (no child, or
 *  it is gone: reaped, restart scheduled),
 *  or the encoder's code (PROTO_E_TOO_BIG, PROTO_E_NOMEM); detail in ERR. */
int enclave_host_call_send(enclave_host_t *self, const enclave_req_t *req, int timeout_ms,
                           char *err, size_t err_cap) PROTO_WUR;

/*  Advances the call in flight without blocking: writes what the socket takes of the
 *  request, reads what arrived of the answer. *DONE false (and 0): not answered yet, call
 *  again when the fd is ready or the deadline passed. *DONE true: the call is over and the
 *  result is enclave_host_call's: 0 with *ANS / *FRAME (malloc'd, the caller frees; wipe
 *  it first if the answer carries secrets), an ERROR answer's code with its message in
 *  ERR, ENCLAVE_E_DEAD (the child died: reaped, restart scheduled), ENCLAVE_E_TIMEOUT or
 *  PROTO_E_TOO_BIG (the child is killed), a decoding code. With no call in flight:
 *  ENCLAVE_E_PROTOCOL, *DONE false. */
int enclave_host_call_poll(enclave_host_t *self, bool *done, enclave_ans_t *ans, uint8_t **frame,
                           size_t *frame_len, char *err, size_t err_cap) PROTO_WUR;

/*  The socket to watch while a call is in flight (it changes at every restart: look it up
 *  again after each poll), or -1 with no child. Borrowed: the host closes it. */
int enclave_host_fd(const enclave_host_t *self);
/*  True between enclave_host_call_send and the poll that ends the call. */
bool enclave_host_call_pending(const enclave_host_t *self);
/*  True while part of the request is still to be written (watch the fd for writing). */
bool enclave_host_call_wants_write(const enclave_host_t *self);
/*  Milliseconds until the call in flight times out (0: due now), -1 with none. */
int64_t enclave_host_call_left_ms(const enclave_host_t *self);

/*  Supervision step; call it from the owner's loop. While a call is in flight it does
 *  nothing (the call's poll notices a death) and returns 0. Waits up to WAIT_MS (0: just looks) for
 *  the child to die; a dead child is reaped and a restart scheduled after the backoff; a
 *  restart due within WAIT_MS is waited for and made (calling on_quote). Returns 0 (running,
 *  or a restart pending), the start's code if a restart failed (another is scheduled), or
 *  ENCLAVE_E_DEAD once max_restarts is exhausted (enclave_host_given_up() then says so) or
 *  after enclave_host_stop. */
int enclave_host_supervise(enclave_host_t *self, int wait_ms, char *err, size_t err_cap) PROTO_WUR;

/*  Stops the child (a call in flight is forgotten: its caller treats it as failed): closes
 *  the socket's write side (the enclave wipes and exits), then
 *  SIGTERM after stop_grace_ms, then SIGKILL after another stop_grace_ms; reaps it.
 *  No restart follows. *STATUS (may be NULL) gets waitpid's status, or -1 if nothing ran.
 *  Returns 0. */
int enclave_host_stop(enclave_host_t *self, int *status);

/*  True once supervision gave up (max_restarts failed restarts in a row). */
bool enclave_host_given_up(const enclave_host_t *self);
/*  True while a child is running (as far as the host has noticed). */
bool enclave_host_running(const enclave_host_t *self);
/*  The running child's pid, or -1. */
pid_t enclave_host_pid(const enclave_host_t *self);
/*  The current quote (valid until the next restart), or NULL if none. */
const proto_attest_quote_t *enclave_host_quote(const enclave_host_t *self);
/*  The measurement of the last start (zeros before the first). */
void enclave_host_measurement(const enclave_host_t *self, uint8_t out[static 32]);
/*  How many times the child was restarted after dying. */
uint32_t enclave_host_restarts(const enclave_host_t *self);
/*  waitpid status of the last child that died or was stopped, or -1. */
int enclave_host_last_status(const enclave_host_t *self);

#endif

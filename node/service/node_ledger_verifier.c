/*  node_ledger_verifier: the worker thread checking gossiped txs (see
 *  node_ledger_verifier.h). A job is one frame [kind byte][payload]; the answer is one
 *  frame of check records (empty if memory ran out); an empty job stops the worker.
 */
#include "node/service/node_ledger_verifier.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/service/node_ledger_check.h"
#include "proto/proto_err.h"
#include "proto/proto_msgtype.h"

#define S_JOB_TX 1
#define S_JOB_BATCH 2

typedef struct {
    char endpoint[96];
    uint8_t chain_id[32];
    ledger_store_t *store; /* read-only use: committed nonces (thread-safe reads) */
    proto_sigkeys_t *keys; /* thread-safe */
} s_worker_args_t;

struct node_ledger_verifier_t {
    zloop_t *loop;
    zsock_t *pipe; /* PAIR to the worker */
    pthread_t thread;
    bool thread_started;
    s_worker_args_t args;
    node_ledger_verdicts_fn fn;
    void *ctx;
    size_t inflight; /* jobs sent, verdicts not back yet */
    size_t first;    /* sent_ms index of the oldest job out (answered in order) */
    uint64_t sent_ms[NODE_LEDGER_VERIFY_QUEUE];
};

/*  The worker: answers every job with its records (empty on memory failure) until an
 *  empty frame (or the context ending) stops it. */
static void *s_worker(void *arg)
{
    const s_worker_args_t *a = arg;
    zsock_t *pipe = zsock_new(ZMQ_PAIR);
    if (!pipe || zsock_connect(pipe, "%s", a->endpoint) != 0) {
        zsock_destroy(&pipe);
        return NULL;
    }
    zframe_t *ready = zframe_new(NULL, 0); /* connected: jobs can be queued now */
    if (!ready || zframe_send(&ready, pipe, 0) != 0) {
        zframe_destroy(&ready);
        zsock_destroy(&pipe);
        return NULL;
    }
    for (;;) {
        zframe_t *job = zframe_recv(pipe);
        if (!job || zframe_size(job) == 0) {
            zframe_destroy(&job);
            break;
        }
        node_ledger_recs_t out = {0};
        const uint8_t *jd = zframe_data(job);
        uint32_t kind = jd[0] == S_JOB_TX ? PROTO_MSG_TX : PROTO_MSG_TX_BATCH;
        if (node_ledger_check_gossip(kind, jd + 1, zframe_size(job) - 1, a->chain_id, a->store,
                                     a->keys, &out) != 0)
            out.len = 0;
        zframe_destroy(&job);
        zframe_t *ans = zframe_new(out.buf, out.len);
        node_ledger_recs_free(&out);
        if (!ans || zframe_send(&ans, pipe, 0) != 0) {
            zframe_destroy(&ans);
            break;
        }
    }
    zsock_destroy(&pipe);
    return NULL;
}

/*  Verdicts back from the worker. */
static int s_on_verdicts(zloop_t *loop, zsock_t *sock, void *arg)
{
    (void)loop;
    node_ledger_verifier_t *self = arg;
    zframe_t *ans;
    while ((ans = zframe_recv(sock))) { /* rcvtimeo 0: stops when nothing waits */
        uint64_t waited = 0;
        if (self->inflight > 0) {
            uint64_t sent = self->sent_ms[self->first], now = (uint64_t)zclock_time();
            waited = now > sent ? now - sent : 0;
            self->first = (self->first + 1) % NODE_LEDGER_VERIFY_QUEUE;
            self->inflight--;
        }
        self->fn(self->ctx, zframe_data(ans), zframe_size(ans), waited);
        zframe_destroy(&ans);
    }
    return 0;
}

node_ledger_verifier_t *node_ledger_verifier_new(zloop_t *loop, const uint8_t chain_id[static 32],
                                                 ledger_store_t *store, proto_sigkeys_t *keys,
                                                 node_ledger_verdicts_fn fn, void *ctx, char *err,
                                                 size_t err_cap)
{
    node_ledger_verifier_t *self = calloc(1, sizeof *self);
    if (!self) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
        return NULL;
    }
    self->loop = loop;
    self->fn = fn;
    self->ctx = ctx;
    snprintf(self->args.endpoint, sizeof self->args.endpoint, "inproc://genie-verify-%p",
             (void *)self);
    memcpy(self->args.chain_id, chain_id, 32);
    self->args.store = store;
    self->args.keys = keys;
    self->pipe = zsock_new(ZMQ_PAIR);
    if (!self->pipe || zsock_bind(self->pipe, "%s", self->args.endpoint) != 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot create the verifier pipe");
        goto err;
    }
    zsock_set_sndhwm(self->pipe, 2 * NODE_LEDGER_VERIFY_QUEUE);
    zsock_set_rcvtimeo(self->pipe, 10000);
    if (pthread_create(&self->thread, NULL, s_worker, &self->args) != 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot start the verifier thread");
        goto err;
    }
    self->thread_started = true;
    /* a PAIR queues nothing before its peer is connected: wait for the worker's hello */
    zframe_t *ready = zframe_recv(self->pipe);
    bool up = ready && zframe_size(ready) == 0;
    zframe_destroy(&ready);
    if (!up) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "the verifier thread did not start");
        goto err;
    }
    zsock_set_rcvtimeo(self->pipe, 0);
    if (zloop_reader(loop, self->pipe, s_on_verdicts, self) != 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot watch the verifier pipe");
        goto err;
    }
    return self;
err:
    node_ledger_verifier_destroy(&self);
    return NULL;
}

void node_ledger_verifier_destroy(node_ledger_verifier_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_ledger_verifier_t *self = *self_p;
    if (self->pipe)
        zloop_reader_end(self->loop, self->pipe);
    if (self->thread_started) {
        zframe_t *stop = zframe_new(NULL, 0);
        /* the worker reads every job, so the stop frame gets through unless it is gone */
        zsock_set_sndtimeo(self->pipe, 2000);
        if (stop && zframe_send(&stop, self->pipe, 0) != 0)
            zframe_destroy(&stop);
        pthread_join(self->thread, NULL);
    }
    zsock_destroy(&self->pipe);
    free(self);
    *self_p = NULL;
}

int node_ledger_verifier_submit(node_ledger_verifier_t *self, uint32_t kind, const uint8_t *data,
                                size_t len)
{
    if (self->inflight >= NODE_LEDGER_VERIFY_QUEUE)
        return NODE_E_BUSY;
    zframe_t *job = zframe_new(NULL, len + 1);
    if (!job)
        return NODE_E_NOMEM;
    zframe_data(job)[0] = kind == PROTO_MSG_TX ? S_JOB_TX : S_JOB_BATCH;
    if (len)
        memcpy(zframe_data(job) + 1, data, len);
    if (zframe_send(&job, self->pipe, ZFRAME_DONTWAIT) != 0) {
        zframe_destroy(&job);
        return NODE_E_BUSY;
    }
    self->sent_ms[(self->first + self->inflight) % NODE_LEDGER_VERIFY_QUEUE] =
        (uint64_t)zclock_time();
    self->inflight++;
    return 0;
}

size_t node_ledger_verifier_inflight(const node_ledger_verifier_t *self)
{
    return self->inflight;
}

/*  fed_relay: the runner's part in test_enclave_fed: the sealed FED_STEP messages of a
 *  federated job relayed between real training enclaves until the coordinator is done,
 *  with tampered and lost messages on request (fed_world.h).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_host.h"
#include "fed_world.h"
#include "testutil.h"

typedef struct {
    uint32_t to, from;
    uint8_t *msg;
    size_t len;
} s_msg_t;

typedef struct {
    s_msg_t *m;
    size_t head, n, cap;
} s_queue_t;

static void s_push(s_queue_t *q, uint32_t to, uint32_t from, const uint8_t *msg, size_t len)
{
    if (q->head + q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 64;
        q->m = realloc(q->m, q->cap * sizeof *q->m);
        REQUIRE(q->m != NULL);
    }
    s_msg_t *e = &q->m[q->head + q->n++];
    e->to = to;
    e->from = from;
    e->msg = malloc(len);
    REQUIRE(e->msg != NULL);
    memcpy(e->msg, msg, len);
    e->len = len;
}

/* FED_STEP to party TO from FROM; queues its out messages; the call's code; the answer's
   state and round into *STATE and *ROUND when not NULL. */
static int s_step_round(fed_party_t *ps, const uint8_t job[32], uint32_t to, uint32_t from,
                        const uint8_t *msg, size_t len, s_queue_t *q, uint32_t *state,
                        uint32_t *round)
{
    enclave_req_t req;
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_FED_STEP;
    memcpy(req.u.fed_step.job_id, job, 32);
    req.u.fed_step.from = from;
    req.u.fed_step.msg = msg;
    req.u.fed_step.msg_len = len;
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    char err[256] = "";
    int rc = enclave_host_call(ps[to].h, &req, -1, &ans, &frame, &flen, err, sizeof err);
    if (rc == 0) {
        CHECK_EQ(ans.type, ENCLAVE_ANS_FED_OUT);
        for (size_t i = 0; i < ans.u.fed_out.n_out; i++)
            s_push(q, ans.u.fed_out.out[i].to, to, ans.u.fed_out.out[i].msg,
                   ans.u.fed_out.out[i].len);
        if (state)
            *state = ans.u.fed_out.state;
        if (round)
            *round = ans.u.fed_out.round;
        CHECK(ans.u.fed_out.state != ENCLAVE_FED_FAILED);
    }
    CHECK(fed_no_canary(frame, flen));
    CHECK(fed_no_canary((const uint8_t *)err, strlen(err)));
    free(frame);
    return rc;
}

static int s_step(fed_party_t *ps, const uint8_t job[32], uint32_t to, uint32_t from,
                  const uint8_t *msg, size_t len, s_queue_t *q, uint32_t *state)
{
    return s_step_round(ps, job, to, from, msg, len, q, state, NULL);
}

/* Relays until the coordinator is done (fed_world.h). */
uint32_t fed_relay(fed_party_t *ps, const uint8_t job[32], uint32_t coord, bool tamper, bool lossy)
{
    s_queue_t q = {0};
    uint32_t state = 0, cstate = 0, rounds_done = 11; /* s_config's 10 rounds, then done */
    CHECK_EQ(s_step(ps, job, coord, ENCLAVE_WIRE_FED_TICK, NULL, 0, &q, &cstate), 0);
    size_t steps = 0, lost = 0, ticks = 0;
    bool lost_start = false, lost_done = false;
    int lost_up = 0;
    uint32_t cround = 0;
    while (cstate != ENCLAVE_FED_DONE) {
        if (q.n == 0) {
            /* nothing in flight: only a tick moves the job on */
            REQUIRE(++ticks < 20);
            CHECK_EQ(s_step(ps, job, coord, ENCLAVE_WIRE_FED_TICK, NULL, 0, &q, &cstate), 0);
            continue;
        }
        s_msg_t e = q.m[q.head++];
        q.n--;
        bool drop = false;
        if (lossy && cround == 0 && e.to == 2 && !lost_start)
            drop = lost_start = true;
        else if (lossy && cround == rounds_done && e.to == 2 && e.from == coord && !lost_done)
            drop = lost_done = true;
        else if (lossy && cround == rounds_done && e.to == coord && lost_up < 2) {
            drop = true;
            lost_up++;
        }
        if (drop) {
            lost++;
            free(e.msg);
            continue;
        }
        if (tamper && e.to == coord) {
            tamper = false;
            uint32_t other = (e.from + 1) % K == coord ? (e.from + 2) % K : (e.from + 1) % K;
            e.msg[e.len / 2] ^= 0x01;
            CHECK_EQ(s_step(ps, job, e.to, e.from, e.msg, e.len, &q, NULL), ENCLAVE_E_FED_MSG);
            e.msg[e.len / 2] ^= 0x01;
            CHECK_EQ(s_step(ps, job, e.to, other, e.msg, e.len, &q, NULL), ENCLAVE_E_FED_MSG);
            CHECK_EQ(s_step(ps, job, other, e.from, e.msg, e.len, &q, NULL), ENCLAVE_E_FED_MSG);
            CHECK_EQ(s_step(ps, job, e.to, e.to, e.msg, e.len, &q, NULL), ENCLAVE_E_FED_MSG);
        }
        CHECK_EQ(s_step_round(ps, job, e.to, e.from, e.msg, e.len, &q, &state,
                              e.to == coord ? &cround : NULL),
                 0);
        if (e.to == coord)
            cstate = state;
        free(e.msg);
        REQUIRE(++steps < 10000);
    }
    for (size_t i = q.head; i < q.head + q.n; i++)
        free(q.m[i].msg);
    free(q.m);
    printf("  relayed %zu messages, %zu lost, %zu ticks\n", steps, lost, ticks);
    if (lossy)
        CHECK(lost == 4);
    return cstate;
}

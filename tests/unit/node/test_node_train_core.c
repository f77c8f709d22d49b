/*  test_node_train_core: the training-job driver's decisions (node_train_core), driven
 *  with fabricated enclave answers: the plan (parties, eligible records, the cap on
 *  parties), the PREPARE / RUN / PUBLISH / SUBMIT phases of a job that succeeds (a small
 *  simulated federation: the coordinator sends each party a message per round, each party
 *  answers it), retries of transport failures, refusals, a failed party, a flooding party,
 *  stale answers and the deadline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/service/node_train_core.h"
#include "tests/unit/testutil.h"

static void s_id(uint8_t out[32], uint8_t tag, uint32_t n)
{
    memset(out, 0, 32);
    out[0] = tag;
    out[30] = (uint8_t)(n >> 8);
    out[31] = (uint8_t)n;
}

/* Enclaves E1 < E2 < E3 (ids ordered), E9 not usable. */
static node_train_enclave_t s_enc[3];

static void s_setup_enclaves(void)
{
    for (uint32_t i = 0; i < 3; i++) {
        s_id(s_enc[i].id, 0xE0, i + 1);
        memset(s_enc[i].sign_pk, (int)(0x10 + i), 32);
        memset(s_enc[i].box_pk, (int)(0x20 + i), 32);
    }
}

static node_train_job_t s_job(const uint8_t coord[32], uint32_t rounds)
{
    node_train_job_t j;
    memset(&j, 0, sizeof j);
    s_id(j.job_id, 0x10, 1);
    s_id(j.spec_id, 0x5b, 1);
    memcpy(j.coordinator, coord, 32);
    j.rounds = rounds;
    return j;
}

/* 10 donors: 0..3 at E1, 4..7 at E2, 8 at E9 (unusable), 9 at E2 ineligible. */
static size_t s_donors(node_train_donor_t *d)
{
    for (uint32_t i = 0; i < 10; i++) {
        memset(&d[i], 0, sizeof d[i]);
        s_id(d[i].data_id, 0xDA, 100 - i); /* descending ids: the core sorts per party */
        d[i].eligible = true;
        if (i < 4)
            memcpy(d[i].enclave_id, s_enc[0].id, 32);
        else if (i < 8 || i == 9)
            memcpy(d[i].enclave_id, s_enc[1].id, 32);
        else
            s_id(d[i].enclave_id, 0xE9, 9);
    }
    d[9].eligible = false;
    return 10;
}

static void test_plan(void)
{
    node_train_donor_t d[10];
    size_t n = s_donors(d);
    node_train_job_t job = s_job(s_enc[2].id, 3); /* the coordinator holds no records */
    node_train_core_t *c = NULL;
    char err[256];
    REQUIRE(node_train_core_new(&job, d, n, s_enc, 3, 0, &c, err, sizeof err) == 0);
    CHECK_EQ(node_train_core_n_parties(c), 3u);
    CHECK_EQ(node_train_core_coordinator(c), 2u);
    CHECK_EQ(node_train_core_n_excluded(c), 2u); /* the one at E9 and the ineligible one */
    node_train_party_t p;
    node_train_enclave_t e;
    REQUIRE(node_train_core_party(c, 0, &p, &e));
    CHECK(memcmp(e.id, s_enc[0].id, 32) == 0 && memcmp(e.box_pk, s_enc[0].box_pk, 32) == 0);
    CHECK_EQ(p.n_eligible, 4u);
    size_t k = 0;
    const uint8_t(*ids)[32] = node_train_core_party_eligible(c, 1, &k);
    CHECK_EQ(k, 4u);
    for (size_t i = 1; i < k; i++)
        CHECK(memcmp(ids[i - 1], ids[i], 32) < 0); /* sorted */
    ids = node_train_core_party_eligible(c, 2, &k);
    CHECK_EQ(k, 0u); /* the coordinator holds none */
    (void)ids;
    const uint8_t(*all)[32] = node_train_core_donors(c, &k);
    CHECK(k == 10 && memcmp(all[9], d[9].data_id, 32) == 0); /* seq order kept */
    CHECK(!node_train_core_party(c, 3, &p, NULL));
    node_train_core_destroy(&c);
    CHECK(c == NULL);

    /* refusals */
    node_train_job_t bad = s_job(d[8].enclave_id, 3);
    CHECK_EQ(node_train_core_new(&bad, d, n, s_enc, 3, 0, &c, err, sizeof err), NODE_E_PARAMS);
    CHECK(strstr(err, "coordinator") != NULL);
    bad = s_job(s_enc[0].id, 0);
    CHECK_EQ(node_train_core_new(&bad, d, n, s_enc, 3, 0, &c, err, sizeof err), NODE_E_PARAMS);
    for (size_t i = 0; i < n; i++)
        d[i].eligible = false;
    CHECK_EQ(node_train_core_new(&job, d, n, s_enc, 3, 0, &c, err, sizeof err), NODE_E_PARAMS);
    CHECK(strstr(err, "no usable donor") != NULL);
    CHECK(c == NULL);
}

/* 20 usable enclaves, enclave i holding i + 1 records: the coordinator (the one with 1)
   and the 15 with the most records are kept. */
static void test_party_cap(void)
{
    enum { NE = 20 };
    node_train_enclave_t enc[NE];
    node_train_donor_t *d = calloc(NE * (NE + 1) / 2, sizeof *d);
    REQUIRE(d != NULL);
    size_t n = 0;
    for (uint32_t i = 0; i < NE; i++) {
        memset(&enc[i], 0, sizeof enc[i]);
        s_id(enc[i].id, 0xE0, 200 - i); /* ids descending: the plan orders them */
        for (uint32_t r = 0; r <= i; r++) {
            s_id(d[n].data_id, 0xDA, (uint32_t)n);
            memcpy(d[n].enclave_id, enc[i].id, 32);
            d[n++].eligible = true;
        }
    }
    node_train_job_t job = s_job(enc[0].id, 1);
    node_train_core_t *c = NULL;
    char err[256];
    REQUIRE(node_train_core_new(&job, d, n, enc, NE, 0, &c, err, sizeof err) == 0);
    CHECK_EQ(node_train_core_n_parties(c), (size_t)NODE_TRAIN_PARTIES_MAX);
    size_t used = 0;
    bool have_coord = false;
    for (uint32_t p = 0; p < node_train_core_n_parties(c); p++) {
        node_train_party_t st;
        REQUIRE(node_train_core_party(c, p, &st, NULL));
        used += st.n_eligible;
        if (p > 0) {
            node_train_party_t prev;
            REQUIRE(node_train_core_party(c, p - 1, &prev, NULL));
            CHECK(memcmp(prev.enclave_id, st.enclave_id, 32) < 0);
        }
        if (memcmp(st.enclave_id, enc[0].id, 32) == 0) {
            have_coord = true;
            CHECK_EQ(node_train_core_coordinator(c), p);
        } else {
            CHECK(st.n_eligible >= NE - 15 + 1); /* enclaves 5..19 (6..20 records) */
        }
    }
    CHECK(have_coord);
    CHECK_EQ(used + node_train_core_n_excluded(c), n);
    CHECK_EQ(node_train_core_n_excluded(c), 2u + 3u + 4u + 5u); /* enclaves 1..4 left out */
    node_train_core_destroy(&c);
    free(d);
}

/* ---- a simulated federation: the coordinator (party C) sends, on a tick, "round r" to
   every other party; each answers with "ack r" to C; once C has every ack of the round it
   moves on; after ROUNDS rounds it answers state 2. ---- */
typedef struct {
    uint32_t n, coord, rounds, round, acks;
    bool sent; /* this round's messages sent */
    uint64_t steps, ticks;
} s_fed_t;

/* Answers action A as the simulated party would: fills ANS (OUT is its messages). */
static void s_fed_answer(s_fed_t *f, const node_train_act_t *a, node_train_ans_t *ans,
                         node_train_out_t *out, uint8_t bufs[][8])
{
    memset(ans, 0, sizeof *ans);
    ans->state = 1;
    size_t k = 0;
    if (a->party == f->coord) {
        if (a->from == NODE_TRAIN_TICK_FROM) {
            f->ticks++;
        } else {
            REQUIRE(a->msg_len == 8 && memcmp(a->msg, "ack", 3) == 0);
            CHECK_EQ((uint32_t)a->msg[7], f->round);
            f->acks++;
        }
        if (f->acks == f->n - 1 && f->sent) {
            f->round++;
            f->acks = 0;
            f->sent = false;
        }
        if (f->round < f->rounds && !f->sent) {
            for (uint32_t p = 0; p < f->n; p++) {
                if (p == f->coord)
                    continue;
                memcpy(bufs[k], "round..", 7);
                bufs[k][7] = (uint8_t)f->round;
                out[k].to = p;
                out[k].msg = bufs[k];
                out[k].len = 8;
                k++;
            }
            f->sent = true;
        }
        ans->round = f->round;
        ans->state = f->round >= f->rounds ? 2 : 1;
    } else {
        f->steps++;
        REQUIRE(a->msg_len == 8 && memcmp(a->msg, "round..", 7) == 0);
        memcpy(bufs[k], "ack....", 7);
        bufs[k][7] = a->msg[7];
        out[k].to = f->coord;
        out[k].msg = bufs[k];
        out[k].len = 8;
        k++;
    }
    ans->out = out;
    ans->n_out = k;
}

static node_train_core_t *s_core_3(uint32_t rounds, uint64_t deadline)
{
    node_train_donor_t d[10];
    size_t n = s_donors(d);
    node_train_job_t job = s_job(s_enc[2].id, rounds); /* 3 parties */
    job.deadline_ms = deadline;
    node_train_core_t *c = NULL;
    char err[256];
    REQUIRE(node_train_core_new(&job, d, n, s_enc, 3, 1000, &c, err, sizeof err) == 0);
    return c;
}

/* Answers every PREPARE action at NOW. */
static void s_prepare_all(node_train_core_t *c, uint64_t now)
{
    node_train_act_t a;
    uint64_t tags[NODE_TRAIN_PARTIES_MAX];
    size_t n = 0;
    while (node_train_core_next(c, now, &a)) {
        REQUIRE(a.kind == NODE_TRAIN_ACT_PREPARE && n < NODE_TRAIN_PARTIES_MAX);
        tags[n++] = a.tag;
    }
    CHECK_EQ(n, node_train_core_n_parties(c));
    for (size_t i = 0; i < n; i++) {
        node_train_ans_t ans = {.n_records = 4, .n_train = 3, .n_test = 1};
        node_train_core_answer(c, tags[i], &ans, now);
    }
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_RUN);
}

/* Runs the federation until the core stops asking (answers at once); returns the
   number of actions. Fails the test when it does not settle. */
static size_t s_pump(node_train_core_t *c, s_fed_t *f, uint64_t *now, node_train_act_t *last)
{
    size_t acts = 0;
    for (int guard = 0; guard < 10000; guard++) {
        node_train_act_t a;
        if (!node_train_core_next(c, *now, &a)) {
            if (node_train_core_phase(c) != NODE_TRAIN_RUN)
                return acts;
            *now += NODE_TRAIN_TICK_MS;
            continue;
        }
        acts++;
        if (a.kind != NODE_TRAIN_ACT_STEP) {
            *last = a;
            return acts;
        }
        node_train_ans_t ans;
        node_train_out_t out[NODE_TRAIN_PARTIES_MAX];
        uint8_t bufs[NODE_TRAIN_PARTIES_MAX][8];
        s_fed_answer(f, &a, &ans, out, bufs);
        node_train_core_answer(c, a.tag, &ans, *now);
    }
    CHECK(!"the job did not settle");
    return acts;
}

static void test_job_ok(void)
{
    node_train_core_t *c = s_core_3(4, 0);
    uint64_t now = 1000;
    /* PREPARE: one transport failure is retried after the delay, not at once */
    node_train_act_t a, b, x;
    REQUIRE(node_train_core_next(c, now, &a) && a.kind == NODE_TRAIN_ACT_PREPARE);
    REQUIRE(node_train_core_next(c, now, &b) && b.kind == NODE_TRAIN_ACT_PREPARE);
    REQUIRE(node_train_core_next(c, now, &x) && x.kind == NODE_TRAIN_ACT_PREPARE);
    CHECK(a.party != b.party && b.party != x.party && a.party != x.party);
    CHECK(!node_train_core_next(c, now, &x) || x.kind != NODE_TRAIN_ACT_PREPARE);
    node_train_ans_t fail = {.rc = NODE_E_TIMEOUT, .why = "timeout"};
    node_train_core_answer(c, a.tag, &fail, now);
    CHECK(strstr(node_train_core_why(c), "timeout") != NULL);
    CHECK(!node_train_core_next(c, now + 10, &x));
    node_train_ans_t ok = {.n_records = 4, .n_train = 3, .n_test = 1, .dropped = 1};
    node_train_core_answer(c, b.tag, &ok, now);
    node_train_core_answer(c, b.tag, &ok, now); /* a duplicate: ignored */
    node_train_core_answer(c, 999, &ok, now);   /* unknown */
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_PREPARE);
    now += NODE_TRAIN_RETRY_MS;
    REQUIRE(node_train_core_next(c, now, &x) && x.kind == NODE_TRAIN_ACT_PREPARE);
    CHECK_EQ(x.party, a.party);
    node_train_core_answer(c, x.tag, &ok, now);
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_PREPARE); /* b's answer still missing? */
    node_train_party_t st;
    uint32_t missing = 0;
    for (uint32_t p = 0; p < 3; p++)
        if (node_train_core_party(c, p, &st, NULL) && !st.prepared)
            missing++;
    CHECK_EQ(missing, 1u); /* the third PREPARE is still unanswered */
    node_train_ans_t ok3 = {.n_records = 2};
    REQUIRE(node_train_core_party(c, b.party, &st, NULL) && st.prepared && st.dropped == 1);
    /* the third one answered: RUN */
    uint64_t third = 0;
    for (uint64_t t = 1; t < 10; t++)
        if (t != a.tag && t != b.tag && t != x.tag) {
            node_train_core_answer(c, t, &ok3, now);
            if (node_train_core_phase(c) == NODE_TRAIN_RUN) {
                third = t;
                break;
            }
        }
    CHECK(third != 0);
    REQUIRE(node_train_core_phase(c) == NODE_TRAIN_RUN);

    /* RUN: the first action is a tick to the coordinator */
    s_fed_t f = {.n = 3, .coord = node_train_core_coordinator(c), .rounds = 4};
    node_train_act_t last;
    memset(&last, 0, sizeof last);
    size_t acts = s_pump(c, &f, &now, &last);
    CHECK(acts > 0);
    CHECK_EQ(f.steps, 4u * 2u); /* every round message reached both other parties */
    CHECK_EQ(node_train_core_round(c), 4u);
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_PUBLISH);
    REQUIRE(last.kind == NODE_TRAIN_ACT_PUBLISH);
    CHECK_EQ(last.party, f.coord);
    CHECK(!node_train_core_next(c, now, &x)); /* one PUBLISH at a time */

    /* a refused PUBLISH goes back to RUN (ticks) and is asked again after the delay */
    node_train_ans_t refused = {.refused = true, .why = "evaluation not finished"};
    node_train_core_answer(c, last.tag, &refused, now);
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_RUN);
    now += 1;
    node_train_act_t t1;
    REQUIRE(node_train_core_next(c, now + NODE_TRAIN_TICK_MS, &t1));
    CHECK(t1.kind == NODE_TRAIN_ACT_STEP && t1.from == NODE_TRAIN_TICK_FROM);
    node_train_ans_t done = {.state = 2, .round = 4};
    node_train_core_answer(c, t1.tag, &done, now);
    now += NODE_TRAIN_RETRY_MS + NODE_TRAIN_TICK_MS;
    REQUIRE(node_train_core_next(c, now, &x));
    REQUIRE(x.kind == NODE_TRAIN_ACT_PUBLISH);
    static const uint8_t pub[] = {0x97, 1, 2, 3};
    node_train_ans_t pa = {.publication = pub, .publication_len = sizeof pub};
    node_train_core_answer(c, x.tag, &pa, now);
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_SUBMIT);
    size_t plen = 0;
    CHECK(node_train_core_publication(c, &plen) && plen == sizeof pub);

    /* SUBMIT: refused, retried after the delay; admitted; not committed, submitted again */
    REQUIRE(node_train_core_next(c, now, &x) && x.kind == NODE_TRAIN_ACT_SUBMIT);
    CHECK(x.msg_len == sizeof pub && memcmp(x.msg, pub, sizeof pub) == 0);
    node_train_core_submitted(c, x.tag, -207, NULL, "syncing", now);
    CHECK(!node_train_core_next(c, now, &x));
    now += NODE_TRAIN_RETRY_MS;
    REQUIRE(node_train_core_next(c, now, &x) && x.kind == NODE_TRAIN_ACT_SUBMIT);
    uint8_t txid[32], got[32];
    memset(txid, 0x77, 32);
    CHECK(!node_train_core_txid(c, got));
    node_train_core_submitted(c, x.tag, 0, txid, NULL, now);
    CHECK(node_train_core_txid(c, got) && memcmp(got, txid, 32) == 0);
    CHECK(!node_train_core_next(c, now + NODE_TRAIN_COMMIT_WAIT_MS - 1, &x));
    REQUIRE(node_train_core_next(c, now + NODE_TRAIN_COMMIT_WAIT_MS, &x));
    CHECK_EQ(x.kind, NODE_TRAIN_ACT_SUBMIT);
    node_train_core_submitted(c, x.tag, 0, txid, NULL, now);
    node_train_core_published(c, now);
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_DONE);
    CHECK(!node_train_core_next(c, now + 1000000, &x));
    node_train_core_abort(c, "late"); /* DONE stays DONE */
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_DONE);
    node_train_core_destroy(&c);
}

/* Messages to one party go one at a time and in order; a failed delivery is retried
   first; after NODE_TRAIN_RETRIES failures the job fails. */
static void test_order_and_retry(void)
{
    node_train_core_t *c = s_core_3(1, 0);
    uint64_t now = 1000;
    s_prepare_all(c, now);
    uint32_t co = node_train_core_coordinator(c), other = co == 0 ? 1 : 0;
    node_train_act_t t;
    REQUIRE(node_train_core_next(c, now, &t) && t.from == NODE_TRAIN_TICK_FROM);
    uint8_t m1[] = "first", m2[] = "second";
    node_train_out_t out[2] = {{other, m1, sizeof m1}, {other, m2, sizeof m2}};
    node_train_ans_t ans = {.state = 1, .out = out, .n_out = 2};
    node_train_core_answer(c, t.tag, &ans, now);
    CHECK_EQ(node_train_core_queued(c), 2u);
    node_train_act_t a, x;
    REQUIRE(node_train_core_next(c, now, &a) && a.kind == NODE_TRAIN_ACT_STEP);
    CHECK(a.party == other && a.from == co && a.msg_len == sizeof m1);
    /* the second message waits for the first; the coordinator gets a tick meanwhile */
    while (node_train_core_next(c, now, &x))
        CHECK(x.party != other);
    node_train_ans_t fail = {.rc = NODE_E_CONNECT, .why = "runner unreachable"};
    for (uint32_t i = 0; i < NODE_TRAIN_RETRIES; i++) {
        node_train_core_answer(c, a.tag, &fail, now);
        CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_RUN);
        CHECK(!node_train_core_next(c, now, &x) || x.party != other);
        now += NODE_TRAIN_RETRY_MS;
        bool again = false;
        while (node_train_core_next(c, now, &x))
            if (x.party == other) {
                again = true;
                a = x;
                break;
            }
        REQUIRE(again);
        CHECK(a.msg_len == sizeof m1 && memcmp(a.msg, m1, sizeof m1) == 0); /* still first */
    }
    node_train_core_answer(c, a.tag, &fail, now);
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_FAILED);
    CHECK(strstr(node_train_core_why(c), "unreachable") != NULL);
    CHECK(!node_train_core_next(c, now, &x));
    node_train_core_destroy(&c);
}

/* A PREPARE its party's runner refuses (a relay error: its ledger disagrees with the
   plan) is retried with backoff, 1x, 2x, 4x NODE_TRAIN_RETRY_MS, and the job goes on when a
   retry is prepared; NODE_TRAIN_RETRIES + 1 refusals fail the job. */
static void test_prepare_refused_retry(void)
{
    for (int give_up = 0; give_up < 2; give_up++) {
        node_train_core_t *c = s_core_3(2, 0);
        uint64_t now = 1000;
        node_train_act_t a, x;
        REQUIRE(node_train_core_next(c, now, &a) && a.kind == NODE_TRAIN_ACT_PREPARE);
        uint32_t party = a.party;
        while (node_train_core_next(c, now, &x)) /* the others prepare */
            if (x.kind == NODE_TRAIN_ACT_PREPARE) {
                node_train_ans_t ok = {.n_records = 1, .n_train = 1};
                node_train_core_answer(c, x.tag, &ok, now);
            }
        node_train_ans_t refused = {.rc = NODE_E_REFUSED,
                                    .why = "runner: TRAIN_PREPARE refused by the runner: the "
                                           "eligible list names record 0011..."};
        for (uint32_t i = 0; i < NODE_TRAIN_RETRIES; i++) {
            node_train_core_answer(c, a.tag, &refused, now);
            CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_PREPARE);
            uint64_t delay = (uint64_t)NODE_TRAIN_RETRY_MS << i;
            CHECK(!node_train_core_next(c, now + delay - 1, &x)); /* not before the backoff */
            now += delay;
            REQUIRE(node_train_core_next(c, now, &a));
            CHECK(a.kind == NODE_TRAIN_ACT_PREPARE && a.party == party);
        }
        if (give_up) {
            node_train_core_answer(c, a.tag, &refused, now);
            CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_FAILED);
            CHECK(strstr(node_train_core_why(c), "refused by the runner") != NULL);
        } else {
            node_train_ans_t ok = {.n_records = 2, .n_train = 2};
            node_train_core_answer(c, a.tag, &ok, now);
            CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_RUN);
        }
        node_train_core_destroy(&c);
    }
}

static void test_failures(void)
{
    uint64_t now = 1000;
    node_train_act_t a, x;
    /* a refused PREPARE fails the job */
    node_train_core_t *c = s_core_3(2, 0);
    REQUIRE(node_train_core_next(c, now, &a));
    node_train_ans_t refused = {.refused = true, .why = "privacy budget exceeded"};
    node_train_core_answer(c, a.tag, &refused, now);
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_FAILED);
    CHECK(strstr(node_train_core_why(c), "privacy budget") != NULL);
    node_train_core_destroy(&c);

    /* a party answering state 3 fails it */
    c = s_core_3(2, 0);
    s_prepare_all(c, now);
    REQUIRE(node_train_core_next(c, now, &a));
    node_train_ans_t failed = {.state = 3, .round = 1};
    node_train_core_answer(c, a.tag, &failed, now);
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_FAILED);
    node_train_core_destroy(&c);

    /* a refused delivery drops that message and counts it; the job goes on */
    c = s_core_3(2, 0);
    s_prepare_all(c, now);
    REQUIRE(node_train_core_next(c, now, &a));
    node_train_ans_t bad_msg = {.refused = true, .why = "message does not open"};
    node_train_core_answer(c, a.tag, &bad_msg, now);
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_RUN);
    CHECK(strstr(node_train_core_why(c), "does not open") != NULL);
    node_train_party_t ps;
    REQUIRE(node_train_core_party(c, a.party, &ps, NULL));
    CHECK_EQ(ps.refused, 1u);
    node_train_core_destroy(&c);

    /* a message to a party that does not exist, or an empty one */
    c = s_core_3(2, 0);
    s_prepare_all(c, now);
    REQUIRE(node_train_core_next(c, now, &a));
    uint8_t m[4] = {1, 2, 3, 4};
    node_train_out_t bad = {7, m, sizeof m};
    node_train_ans_t ans = {.state = 1, .out = &bad, .n_out = 1};
    node_train_core_answer(c, a.tag, &ans, now);
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_FAILED);
    node_train_core_destroy(&c);

    /* a flooding party: more than NODE_TRAIN_QUEUE_MAX messages waiting */
    c = s_core_3(2, 0);
    s_prepare_all(c, now);
    uint32_t co = node_train_core_coordinator(c), other = co == 0 ? 1 : 0;
    node_train_out_t *flood = calloc(NODE_TRAIN_QUEUE_MAX + 1, sizeof *flood);
    REQUIRE(flood != NULL);
    for (size_t i = 0; i <= NODE_TRAIN_QUEUE_MAX; i++)
        flood[i] = (node_train_out_t){other, m, sizeof m};
    REQUIRE(node_train_core_next(c, now, &a));
    ans = (node_train_ans_t){.state = 1, .out = flood, .n_out = NODE_TRAIN_QUEUE_MAX + 1};
    node_train_core_answer(c, a.tag, &ans, now);
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_FAILED);
    CHECK(strstr(node_train_core_why(c), "queue full") != NULL);
    free(flood);
    node_train_core_destroy(&c);

    /* the deadline */
    c = s_core_3(2, 5000);
    REQUIRE(node_train_core_next(c, 4000, &a));
    CHECK(!node_train_core_next(c, 5001, &x));
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_FAILED);
    CHECK(strstr(node_train_core_why(c), "deadline") != NULL);
    node_train_core_answer(c, a.tag, &refused, 5002); /* late answers change nothing */
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_FAILED);
    node_train_core_destroy(&c);

    /* the ledger replaced the job */
    c = s_core_3(2, 0);
    node_train_core_abort(c, "a newer job replaced this one");
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_FAILED);
    CHECK(strstr(node_train_core_why(c), "newer job") != NULL);
    node_train_core_destroy(&c);

    /* PUBLISH refused NODE_TRAIN_PUBLISH_TRIES times fails the job */
    c = s_core_3(1, 0);
    s_prepare_all(c, now);
    s_fed_t f = {.n = 3, .coord = node_train_core_coordinator(c), .rounds = 1};
    node_train_act_t last;
    uint32_t tries = 0;
    while (node_train_core_phase(c) != NODE_TRAIN_FAILED && tries < 100) {
        memset(&last, 0, sizeof last);
        s_pump(c, &f, &now, &last);
        if (last.kind != NODE_TRAIN_ACT_PUBLISH)
            break;
        tries++;
        node_train_core_answer(c, last.tag, &refused, now);
        now += NODE_TRAIN_RETRY_MS;
    }
    CHECK_EQ(tries, NODE_TRAIN_PUBLISH_TRIES);
    CHECK_EQ(node_train_core_phase(c), NODE_TRAIN_FAILED);
    node_train_core_destroy(&c);
    node_train_core_destroy(&c); /* NULL-safe */
}

int main(void)
{
    s_setup_enclaves();
    test_plan();
    test_party_cap();
    test_job_ok();
    test_order_and_retry();
    test_prepare_refused_retry();
    test_failures();
    return testutil_done("test_node_train_core");
}

/*  node_train_core: the decisions of the coordinator runner's training-job driver, as a
 *  sans-IO state machine (no ledger, no enclave, no clock of its own): which training
 *  enclaves take part and with which data records, what to send next given the enclaves'
 *  answers, when to tick the coordinator, when to retry and when to give up.
 *  node_train.c is its thin shell: it reads the ledger, encodes each action into an
 *  enclave request (enclave_wire), calls the enclave through the relay and feeds the
 *  decoded answer back in.
 *
 *  The plan (node_train_core_new): DONORS are the spec's donor records in the spec's
 *  donor seq order, each with the enclave that holds it and whether it is still eligible
 *  (record active, consent still allows the spec: the shell decides with
 *  ledger_donation_allowed); ENCLAVES are the usable training enclaves (registered,
 *  active, TRAINING, the spec's measurement, neither measurement nor platform revoked).
 *  A donor is used when it is eligible and its enclave is usable. The parties are the
 *  coordinator plus every usable enclave holding at least one used donor, ordered by
 *  enclave id; past NODE_TRAIN_PARTIES_MAX, the enclaves with the most used donors are
 *  kept (the coordinator always), the rest left out (their records are not used).
 *
 *  The job then runs through these phases:
 *    PREPARE  one TRAIN_PREPARE per party (all at once); every party must answer PREPARED.
 *             A relay failure (timeout, runner unreachable, or the party's runner refusing
 *             the request because its own ledger disagrees: a withdrawal committed after
 *             the plan was read, a ledger behind; node_enclave_prepare.h) is retried with
 *             backoff (NODE_TRAIN_RETRY_MS, then twice as long each time), at most
 *             NODE_TRAIN_RETRIES times; an enclave's refusal (an ERROR answer) fails the
 *             job (a party that cannot train would make every weight wrong).
 *    RUN      pumps FED_STEP: each message a party's FED_OUT names is delivered to its
 *             recipient (FIFO; at most one call in flight per party, so a party sees its
 *             messages in order), and the coordinator gets a tick (from = 0xFFFFFFFF) every
 *             NODE_TRAIN_TICK_MS when nothing else is in flight to it. A delivery that fails
 *             in transport is retried (at the head of the queue) like PREPARE; a dropped
 *             tick is not. A message the recipient refuses (ERROR: tampered, misdirected,
             stale) is dropped and counted; the job goes on (its deadline bounds it). A
             party answering state 3 (failed) fails the job.
 *             The phase ends when the coordinator answered state 2 (done), no message
 *             waits and no call is in flight.
 *    PUBLISH  asks the coordinator for the signed publication. A refusal (the evaluation
 *             exchange not finished) goes back to RUN and is asked again after
 *             NODE_TRAIN_RETRY_MS, at most NODE_TRAIN_PUBLISH_TRIES times.
 *    SUBMIT   the shell submits MODEL_PUBLISH with the publication; a refused submission
 *             is tried again after NODE_TRAIN_RETRY_MS, one not committed after
 *             NODE_TRAIN_COMMIT_WAIT_MS is submitted again, at most
 *             NODE_TRAIN_PUBLISH_TRIES submissions in all.
 *    DONE     the ledger shows the job PUBLISHED (node_train_core_published).
 *    FAILED   with a reason (node_train_core_why); also when the deadline passes or the
 *             ledger no longer names the job as its spec's current RUNNING job.
 *
 *  Bounds: at most NODE_TRAIN_QUEUE_MAX messages and NODE_TRAIN_QUEUE_BYTES bytes wait;
 *  more fails the job (a party flooding the coordinator). Everything an answer carries is
 *  copied; answers are matched by tag, a stale or unknown tag is ignored.
 */
#ifndef GENIE_NODE_TRAIN_CORE_H
#define GENIE_NODE_TRAIN_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

#define NODE_TRAIN_PARTIES_MAX 16 /* = PROTO_PUBLISH_PARTIES_MAX */
#define NODE_TRAIN_DONORS_MAX 65536u
#define NODE_TRAIN_QUEUE_MAX 1024u
#define NODE_TRAIN_QUEUE_BYTES (64u * 1024u * 1024u)
#define NODE_TRAIN_MSG_MAX (1024u * 1024u - 16u * 1024u) /* one FED_STEP message */
#define NODE_TRAIN_TICK_MS 200u
#define NODE_TRAIN_RETRIES 3u
#define NODE_TRAIN_RETRY_MS 1000u
#define NODE_TRAIN_COMMIT_WAIT_MS 20000u
#define NODE_TRAIN_PUBLISH_TRIES 10u
#define NODE_TRAIN_TICK_FROM 0xFFFFFFFFu

typedef struct node_train_core_t node_train_core_t;

/*  One donor record of the spec (the DONORS argument is in donor seq order). */
typedef struct {
    uint8_t data_id[32];
    uint8_t enclave_id[32]; /* the training enclave its receipt names */
    bool eligible;          /* active, and the consent in force still allows the spec */
} node_train_donor_t;

/*  A usable training enclave. */
typedef struct {
    uint8_t id[32];
    uint8_t sign_pk[32];
    uint8_t box_pk[32];
} node_train_enclave_t;

/*  The job as the ledger names it. */
typedef struct {
    uint8_t job_id[32];
    uint8_t spec_id[32];
    uint8_t coordinator[32]; /* the coordinator enclave's id */
    uint32_t rounds;
    uint64_t deadline_ms; /* the job fails when NOW passes it (0: never) */
} node_train_job_t;

typedef enum {
    NODE_TRAIN_PREPARE = 1,
    NODE_TRAIN_RUN,
    NODE_TRAIN_PUBLISH,
    NODE_TRAIN_SUBMIT,
    NODE_TRAIN_DONE,
    NODE_TRAIN_FAILED
} node_train_phase_t;

typedef enum {
    NODE_TRAIN_ACT_PREPARE = 1, /* TRAIN_PREPARE to PARTY (node_train_core_party_*) */
    NODE_TRAIN_ACT_STEP,        /* FED_STEP [job, FROM, MSG] to PARTY; a tick when FROM is
                                   NODE_TRAIN_TICK_FROM (MSG empty) */
    NODE_TRAIN_ACT_PUBLISH,     /* PUBLISH [job, donors in seq order] to PARTY (coordinator) */
    NODE_TRAIN_ACT_SUBMIT       /* submit MODEL_PUBLISH with the publication MSG */
} node_train_act_kind_t;

/*  An action for the shell. MSG is borrowed from the core until its next call. */
typedef struct {
    node_train_act_kind_t kind;
    uint64_t tag; /* the answer names it (node_train_core_answer / _submitted) */
    uint32_t party;
    uint32_t from;
    const uint8_t *msg;
    size_t msg_len;
} node_train_act_t;

/*  One message of a FED_OUT answer (borrowed from the answer). */
typedef struct {
    uint32_t to;
    const uint8_t *msg;
    size_t len;
} node_train_out_t;

/*  A decoded answer to a PREPARE, STEP or PUBLISH action. Fields not of its kind are
 *  ignored; pointers are borrowed for the call. */
typedef struct {
    int rc;          /* 0: the enclave answered; else the transport failure's code */
    bool refused;    /* the enclave refused (an ERROR answer, or an unexpected one) */
    const char *why; /* with rc != 0 or refused (may be NULL) */
    uint32_t n_records, n_train, n_test, dropped; /* PREPARED */
    uint32_t state, round;                        /* FED_OUT: 1 running, 2 done, 3 failed */
    const node_train_out_t *out;
    size_t n_out;
    const uint8_t *publication; /* PUBLICATION: the encoded, signed proto_publish */
    size_t publication_len;
} node_train_ans_t;

/*  A party's view, for status. */
typedef struct {
    uint8_t enclave_id[32];
    uint32_t n_eligible;                          /* data records sent as eligible */
    bool prepared;                                /* answered PREPARED */
    uint32_t n_records, n_train, n_test, dropped; /* from its PREPARED */
    uint32_t state;                               /* its last FED_OUT state (0: none yet) */
    uint64_t delivered;                           /* messages delivered to it */
    uint64_t refused;                             /* messages or ticks it refused */
} node_train_party_t;

/*  Plans JOB over DONORS (N, in seq order) and the usable ENCLAVES (N_ENC); every array
 *  is copied. *OUT (caller destroys) or NODE_E_PARAMS with ERR saying why: the
 *  coordinator is not a usable enclave, no donor is usable, N over NODE_TRAIN_DONORS_MAX,
 *  ROUNDS 0; NODE_E_FAILED when out of memory. The job starts in PREPARE at NOW_MS. */
int node_train_core_new(const node_train_job_t *job, const node_train_donor_t *donors, size_t n,
                        const node_train_enclave_t *enclaves, size_t n_enc, uint64_t now_ms,
                        node_train_core_t **out, char *err, size_t err_cap) PROTO_WUR;
/*  Frees; tolerates NULL; sets *self_p to NULL. */
void node_train_core_destroy(node_train_core_t **self_p);

/*  The next action to take at NOW_MS into *ACT: true, or false when nothing is to be done
 *  now (waiting for answers, a retry delay or the next tick). The shell calls it until it
 *  answers false, carrying out each action (and feeding its answer back) in turn. */
bool node_train_core_next(node_train_core_t *self, uint64_t now_ms, node_train_act_t *act);

/*  The answer ANS to the action TAG at NOW_MS. An unknown or stale TAG is ignored. */
void node_train_core_answer(node_train_core_t *self, uint64_t tag, const node_train_ans_t *ans,
                            uint64_t now_ms);

/*  What the MODEL_PUBLISH submission TAG gave: RC 0 (admitted, TXID) or the refusal's code
 *  with WHY. */
void node_train_core_submitted(node_train_core_t *self, uint64_t tag, int rc, const uint8_t *txid,
                               const char *why, uint64_t now_ms);

/*  The ledger shows the job PUBLISHED: the job is DONE. */
void node_train_core_published(node_train_core_t *self, uint64_t now_ms);
/*  The ledger no longer runs the job (replaced by a newer one, ...): FAILED with WHY
 *  unless it is DONE already. */
void node_train_core_abort(node_train_core_t *self, const char *why);
/*  Fails the job when NOW passed its deadline; node_train_core_next calls it too. */
void node_train_core_check_deadline(node_train_core_t *self, uint64_t now_ms);

/* ---- reads (for the shell and for status) ---- */
node_train_phase_t node_train_core_phase(const node_train_core_t *self);
/*  "prepare", "run", "publish", "submit", "done", "failed" (static). */
const char *node_train_core_phase_name(node_train_phase_t phase);
/*  Why the job failed, or the last transient trouble (owned by SELF, "" when none). */
const char *node_train_core_why(const node_train_core_t *self);
const node_train_job_t *node_train_core_job(const node_train_core_t *self);
/*  The coordinator's last reported round. */
uint32_t node_train_core_round(const node_train_core_t *self);
size_t node_train_core_n_parties(const node_train_core_t *self);
/*  Index of the coordinator among the parties. */
uint32_t node_train_core_coordinator(const node_train_core_t *self);
/*  Party P (< n_parties) into *OUT; its keys into *ENC (may be NULL). false when P is out
 *  of range. */
bool node_train_core_party(const node_train_core_t *self, uint32_t p, node_train_party_t *out,
                           node_train_enclave_t *enc);
/*  The data ids of party P's used records (borrowed, *N of them; NULL when none). */
const uint8_t (*node_train_core_party_eligible(const node_train_core_t *self, uint32_t p,
                                               size_t *n))[32];
/*  Every donor's data id in seq order (borrowed, *N of them), for PUBLISH. */
const uint8_t (*node_train_core_donors(const node_train_core_t *self, size_t *n))[32];
/*  Data ids that are left out (ineligible, or at an unusable or dropped enclave). */
size_t node_train_core_n_excluded(const node_train_core_t *self);
/*  The publication the coordinator signed (borrowed; NULL before PUBLISH answered). */
const uint8_t *node_train_core_publication(const node_train_core_t *self, size_t *len);
/*  The MODEL_PUBLISH txid last admitted (false when none yet). */
bool node_train_core_txid(const node_train_core_t *self, uint8_t out[static 32]);
/*  Messages waiting in the queue. */
size_t node_train_core_queued(const node_train_core_t *self);

#endif

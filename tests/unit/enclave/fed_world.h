/*  fed_world: what test_enclave_fed.c and fed_relay.c share: the parties (real training
 *  enclaves behind enclave_host), the canary every donated file holds, and the relay.
 *  Its includer defines _GNU_SOURCE first (memmem).
 */
#ifndef GENIE_TEST_FED_WORLD_H
#define GENIE_TEST_FED_WORLD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "enclave/enclave_host.h"

#define K 3 /* parties */
/* In every donated file: it must never show in anything that leaves an enclave. */
#define S_CANARY "canary-7f3a91c2"

typedef struct {
    enclave_host_t *h;
    uint8_t sign_pk[32], box_pk[32];
} fed_party_t;

/* True when the canary is nowhere in B (N bytes). */
static inline bool fed_no_canary(const uint8_t *b, size_t n)
{
    return !b || memmem(b, n, S_CANARY, strlen(S_CANARY)) == NULL;
}

/* Relays until the coordinator is done: the queue is drained, and while the coordinator
   still waits it is ticked (at its second tick in a phase it sends again what is
   missing). With TAMPER, the first message to the coordinator is first delivered with a
   flipped byte, as from another party, to another party and as from itself (all refused).
   With LOSSY, some messages outside ml_fed's rounds are lost: the first to party 2 before
   round 1 (its START), and after the last round the first to party 2 (its "done") and the
   first two from the parties (LOCAL or REPORT). The coordinator's last state. */
uint32_t fed_relay(fed_party_t *ps, const uint8_t job[32], uint32_t coord, bool tamper, bool lossy);

#endif

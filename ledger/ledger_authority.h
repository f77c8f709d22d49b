/*  ledger_authority: the authority set's voting rule as pure functions, shared by the
 *  AUTH_VOTE contract (ledger_contract_authority.c, over the ledger state) and the light
 *  client (ledger_light.c, over certified blocks it is fed), so both move the set alike.
 *
 *  The rule (proto/PROTOCOL.md §6.2): a vote [action, subject] is cast by a current
 *  authority and must make sense against the set the block started with; at the end of
 *  the block, each vote list written in it (in the order first written) whose voters that
 *  are authorities of that starting set are more than half of it is decided: the change
 *  applies to the set being built when still possible, else is dropped; either way the
 *  list is cleared. A list without a majority stays open for later blocks.
 *  No allocation, no I/O.
 */
#ifndef GENIE_LEDGER_AUTHORITY_H
#define GENIE_LEDGER_AUTHORITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_state.h"
#include "ledger/ledger_tx.h"

/*  Whether AUTH (N keys, the block's starting set) lets FROM vote ACTION on SUBJECT:
 *  LEDGER_OK, LEDGER_E_NOT_AUTHORITY (FROM is not in AUTH), or LEDGER_E_AUTH_RULE
 *  (adding a member, adding to a full set, removing a non-member or the last authority),
 *  with the reason in ERR (ERR_CAP bytes, may be NULL). The action itself is checked statelessly
 * before (ledger_contract_auth_vote_check). */
int ledger_authority_vote_rule(const uint8_t (*auth)[LEDGER_ID_LEN], size_t n,
                               const uint8_t from[static LEDGER_ID_LEN], uint32_t action,
                               const uint8_t subject[static LEDGER_ID_LEN], char *err,
                               size_t err_cap);

typedef enum {
    LEDGER_AUTHORITY_OPEN = 0,    /* no majority: the list stays */
    LEDGER_AUTHORITY_APPLIED = 1, /* majority: CUR changed; clear the list */
    LEDGER_AUTHORITY_DROPPED = 2  /* majority, but the change is impossible now; clear it */
} ledger_authority_outcome_t;

/*  End-of-block decision of one vote list for ACTION on SUBJECT that N_VOTERS members of
 *  the block's starting set of N_START authorities have voted for. CUR (room for
 *  LEDGER_AUTHORITIES_MAX, *N_CUR keys) is the set being built by the block's earlier
 *  decisions; an applied add appends SUBJECT, an applied remove takes it out keeping the
 *  order (the caller sorts the final set). */
ledger_authority_outcome_t ledger_authority_tally(size_t n_start, size_t n_voters, uint32_t action,
                                                  const uint8_t subject[static LEDGER_ID_LEN],
                                                  uint8_t (*cur)[LEDGER_ID_LEN], size_t *n_cur);

#endif

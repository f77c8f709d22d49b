/*  ledger_authority: the authority voting rule (see ledger_authority.h). */
#include "ledger/ledger_authority.h"

#include <string.h>

#include "proto/proto_err.h"

static bool s_has(const uint8_t (*keys)[LEDGER_ID_LEN], size_t n, const uint8_t *k)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(keys[i], k, LEDGER_ID_LEN) == 0)
            return true;
    return false;
}

int ledger_authority_vote_rule(const uint8_t (*auth)[LEDGER_ID_LEN], size_t n,
                               const uint8_t from[static LEDGER_ID_LEN], uint32_t action,
                               const uint8_t subject[static LEDGER_ID_LEN], char *err,
                               size_t err_cap)
{
    if (!s_has(auth, n, from))
        return proto_err_fail(err, err_cap, LEDGER_E_NOT_AUTHORITY,
                              "sender is not a current authority");
    bool member = s_has(auth, n, subject);
    if (action == LEDGER_AUTH_ADD) {
        if (member)
            return proto_err_fail(err, err_cap, LEDGER_E_AUTH_RULE,
                                  "subject is already an authority");
        if (n >= LEDGER_AUTHORITIES_MAX)
            return proto_err_fail(err, err_cap, LEDGER_E_AUTH_RULE, "authority set is full");
    } else {
        if (!member)
            return proto_err_fail(err, err_cap, LEDGER_E_AUTH_RULE, "subject is not an authority");
        if (n <= 1)
            return proto_err_fail(err, err_cap, LEDGER_E_AUTH_RULE,
                                  "cannot remove the last authority");
    }
    return LEDGER_OK;
}

ledger_authority_outcome_t ledger_authority_tally(size_t n_start, size_t n_voters, uint32_t action,
                                                  const uint8_t subject[static LEDGER_ID_LEN],
                                                  uint8_t (*cur)[LEDGER_ID_LEN], size_t *n_cur)
{
    if (n_voters * 2 <= n_start)
        return LEDGER_AUTHORITY_OPEN;
    size_t n = *n_cur;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(cur[i], subject, LEDGER_ID_LEN) != 0)
            continue;
        if (action != LEDGER_AUTH_REMOVE || n <= 1)
            return LEDGER_AUTHORITY_DROPPED;
        memmove(cur[i], cur[i + 1], (n - i - 1) * LEDGER_ID_LEN);
        *n_cur = n - 1;
        return LEDGER_AUTHORITY_APPLIED;
    }
    if (action != LEDGER_AUTH_ADD || n >= LEDGER_AUTHORITIES_MAX)
        return LEDGER_AUTHORITY_DROPPED;
    memcpy(cur[n], subject, LEDGER_ID_LEN);
    *n_cur = n + 1;
    return LEDGER_AUTHORITY_APPLIED;
}

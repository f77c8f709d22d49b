/*  ledger_contract_authority: the AUTH_VOTE contract, changes to the authority set by
 *  majority vote of the current authorities.
 *
 *  body = [action uint32 (1 add, 2 remove), subject bin32]
 *  - check: action is add or remove; an added subject is a valid Ed25519 public key.
 *  - apply: the sender must be a current authority (LEDGER_E_NOT_AUTHORITY); the change
 *    must make sense now (LEDGER_E_AUTH_RULE: adding a member, removing a non-member,
 *    removing the last authority, adding past LEDGER_AUTHORITIES_MAX, voting twice). The
 *    vote is recorded under 'v' action subject (voters sorted; voters that are no
 *    longer authorities are pruned whenever the list is written).
 *  - end of block: every vote list written in this block is counted against the set the
 *    block started with; when more than half of those authorities have voted for the same
 *    (action, subject), the change applies (in the order the lists were first written in
 *    the block) and its votes are cleared. The authority set for height h+1 is therefore
 *    read from the state after block h. A change that has become impossible by then (two
 *    removals that together would empty the set, a full set) is dropped and its votes are
 *    cleared too. A change is evaluated only when a vote for it is cast in the block.
 *  - admit (mempool): the same rules as apply against committed state.
 *  The vote rule and the end-of-block decision are ledger_authority.h's pure functions,
 *  which the light client (ledger_light.h) applies to the blocks it is fed.
 *  Open proposals (vote lists) are not bounded in number: only current authorities can
 *  open one, and each list holds at most LEDGER_AUTHORITIES_MAX voters.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_authority.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_state.h"
#include "proto/proto_err.h"

#define VOTE_KEY_LEN (2 + LEDGER_ID_LEN)

typedef struct {
    uint8_t keys[LEDGER_AUTHORITIES_MAX][LEDGER_ID_LEN];
    size_t n;
} s_set_t;

int ledger_contract_auth_vote_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    ledger_auth_vote_t *v = &body->auth_vote;
    uint64_t action = 0;
    int rc = proto_rd_array_exact(r, 2);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT32_MAX, &action);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, LEDGER_ID_LEN, v->subject);
    v->action = (uint32_t)action;
    return rc;
}

void ledger_contract_auth_vote_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    proto_wr_array(w, 2);
    proto_wr_uint(w, body->auth_vote.action);
    proto_wr_bin(w, body->auth_vote.subject, LEDGER_ID_LEN);
}

int ledger_contract_auth_vote_check(const ledger_tx_t *tx, char *err, size_t err_cap)
{
    const ledger_auth_vote_t *v = &tx->body.auth_vote;
    uint8_t curve[32];
    if (v->action != LEDGER_AUTH_ADD && v->action != LEDGER_AUTH_REMOVE)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "authority vote action must be add (1) or remove (2)");
    if (v->action == LEDGER_AUTH_ADD && proto_key_curve_public(v->subject, curve) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "added authority is not a valid Ed25519 public key");
    return LEDGER_OK;
}

static bool s_has(const uint8_t (*keys)[LEDGER_ID_LEN], size_t n, const uint8_t *k)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(keys[i], k, LEDGER_ID_LEN) == 0)
            return true;
    return false;
}

static void s_vote_key(uint8_t key[VOTE_KEY_LEN], uint32_t action, const uint8_t *subject)
{
    key[0] = LEDGER_KEY_VOTE;
    key[1] = (uint8_t)action;
    memcpy(key + 2, subject, LEDGER_ID_LEN);
}

/* The rules shared by admit and apply; AUTH is the current set (ledger_authority.h). */
static int s_rules(const s_set_t *auth, const ledger_tx_t *tx, char *err, size_t err_cap)
{
    const ledger_auth_vote_t *v = &tx->body.auth_vote;
    return ledger_authority_vote_rule((const uint8_t(*)[LEDGER_ID_LEN])auth->keys, auth->n,
                                      tx->from, v->action, v->subject, err, err_cap);
}

static int s_read_set(ledger_state_t *st, s_set_t *set, char *err, size_t err_cap)
{
    int rc = ledger_state_authorities(st, set->keys, &set->n);
    if (rc != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "cannot read the authority set");
    return rc;
}

/* Reads the voter list at KEY into VOTERS (at most LEDGER_AUTHORITIES_MAX kept: only
   those in AUTH when AUTH is given). */
static int s_read_voters(ledger_state_t *st, const uint8_t key[VOTE_KEY_LEN], const s_set_t *auth,
                         s_set_t *voters)
{
    voters->n = 0;
    uint8_t *val;
    size_t vlen;
    int rc = ledger_state_get(st, key, VOTE_KEY_LEN, &val, &vlen);
    if (rc == LEDGER_E_NOT_FOUND)
        return LEDGER_OK;
    if (rc != LEDGER_OK)
        return rc;
    if (vlen % LEDGER_ID_LEN != 0) {
        free(val);
        return LEDGER_E_CORRUPT;
    }
    for (size_t i = 0; i < vlen / LEDGER_ID_LEN; i++) {
        const uint8_t *k = val + i * LEDGER_ID_LEN;
        if (auth && !s_has((const uint8_t(*)[LEDGER_ID_LEN])auth->keys, auth->n, k))
            continue;
        if (voters->n == LEDGER_AUTHORITIES_MAX) {
            free(val);
            return LEDGER_E_CORRUPT;
        }
        memcpy(voters->keys[voters->n++], k, LEDGER_ID_LEN);
    }
    free(val);
    return LEDGER_OK;
}

int ledger_contract_auth_vote_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                    size_t err_cap)
{
    s_set_t auth;
    int rc = s_read_set(st, &auth, err, err_cap);
    return rc != LEDGER_OK ? rc : s_rules(&auth, tx, err, err_cap);
}

int ledger_contract_auth_vote_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                    size_t err_cap)
{
    const ledger_auth_vote_t *v = &tx->body.auth_vote;
    s_set_t auth, voters;
    int rc = s_read_set(st, &auth, err, err_cap);
    if (rc != LEDGER_OK || (rc = s_rules(&auth, tx, err, err_cap)) != LEDGER_OK)
        return rc;
    uint8_t key[VOTE_KEY_LEN];
    s_vote_key(key, v->action, v->subject);
    if ((rc = s_read_voters(st, key, &auth, &voters)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the votes");
    /* insert tx->from in sorted position */
    size_t pos = 0;
    while (pos < voters.n && memcmp(voters.keys[pos], tx->from, LEDGER_ID_LEN) < 0)
        pos++;
    if (pos < voters.n && memcmp(voters.keys[pos], tx->from, LEDGER_ID_LEN) == 0)
        return proto_err_fail(err, err_cap, LEDGER_E_AUTH_RULE, "already voted for this change");
    /* voters.n < auth.n <= LEDGER_AUTHORITIES_MAX since tx->from is a member not yet in it */
    memmove(voters.keys[pos + 1], voters.keys[pos], (voters.n - pos) * LEDGER_ID_LEN);
    memcpy(voters.keys[pos], tx->from, LEDGER_ID_LEN);
    voters.n++;
    if ((rc = ledger_state_put(st, key, sizeof key, &voters.keys[0][0],
                               voters.n * LEDGER_ID_LEN)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "out of memory");
    return LEDGER_OK;
}

int ledger_contract_authority_end_block(ledger_state_t *st)
{
    s_set_t start, cur, voters;
    char why[LEDGER_ERR_MAX] = "";
    int rc = s_read_set(st, &start, why, sizeof why);
    if (rc != LEDGER_OK)
        return rc;
    if (start.n == 0)
        return LEDGER_OK; /* genesis is being written */
    cur = start;
    bool changed = false;
    size_t count = ledger_state_write_count(st); /* lists written by this block's votes */
    for (size_t i = 0; i < count; i++) {
        const uint8_t *k, *val;
        size_t klen, vlen;
        ledger_state_write_at(st, i, &k, &klen, &val, &vlen);
        if (klen != VOTE_KEY_LEN || k[0] != LEDGER_KEY_VOTE || !val)
            continue;
        uint8_t key[VOTE_KEY_LEN];
        memcpy(key, k, sizeof key); /* the entry may move once we write */
        if ((rc = s_read_voters(st, key, &start, &voters)) != LEDGER_OK)
            return rc;
        ledger_authority_outcome_t o =
            ledger_authority_tally(start.n, voters.n, key[1], key + 2, cur.keys, &cur.n);
        if (o == LEDGER_AUTHORITY_OPEN)
            continue;
        changed |= o == LEDGER_AUTHORITY_APPLIED;
        if ((rc = ledger_state_del(st, key, sizeof key)) != LEDGER_OK)
            return rc;
    }
    if (changed)
        return ledger_state_set_authorities(st, (const uint8_t(*)[LEDGER_ID_LEN])cur.keys, cur.n);
    return LEDGER_OK;
}

uint8_t *ledger_contract_auth_vote_tx(const proto_key_t *key,
                                      const uint8_t chain_id[static LEDGER_ID_LEN], uint64_t nonce,
                                      uint32_t action, const uint8_t subject[static LEDGER_ID_LEN],
                                      size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    memcpy(tx.chain_id, chain_id, LEDGER_ID_LEN);
    tx.nonce = nonce;
    tx.type = LEDGER_TX_AUTH_VOTE;
    tx.body.auth_vote.action = action;
    memcpy(tx.body.auth_vote.subject, subject, LEDGER_ID_LEN);
    return ledger_tx_sign(&tx, key, len);
}

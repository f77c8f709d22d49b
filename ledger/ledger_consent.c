/*  ledger_consent: the pure rules of the data owner's side: what a name is, and whether a
 *  consent allows a model spec in an enclave with given audits (ledger_consent_match). No
 *  state and no I/O: the DONOR_REGISTER and KEY_AUTHORIZE contracts call the match with
 *  what they read from the ledger, and a data owner's node calls the very same function
 *  to match recruitment offers locally, so both always agree.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ledger/ledger_data.h"

bool ledger_name_valid(const char *s, size_t len, bool wildcard_ok)
{
    if (len == 1 && s[0] == '*')
        return wildcard_ok;
    if (len == 0 || len > LEDGER_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool ledger_text_valid(const char *s, size_t len)
{
    if (len == 0 || len > LEDGER_TEXT_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* Whether NAMES lists NAME or the wildcard. */
static bool s_listed(const ledger_names_t *names, const char *name)
{
    for (uint32_t i = 0; i < names->n && i < LEDGER_CONSENT_LIST_MAX; i++)
        if (strcmp(names->v[i], "*") == 0 || strcmp(names->v[i], name) == 0)
            return true;
    return false;
}

static bool s_trusted(const ledger_consent_t *c, const uint8_t auditor[static 32])
{
    if (c->n_auditors == 0)
        return true;
    for (uint32_t i = 0; i < c->n_auditors && i < LEDGER_CONSENT_LIST_MAX; i++)
        if (memcmp(c->auditors[i], auditor, 32) == 0)
            return true;
    return false;
}

/* OK audits of distinct trusted auditors among AUDITS[0..N). */
static size_t s_count_audits(const ledger_consent_t *c, const ledger_audit_t *audits, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (audits[i].verdict != LEDGER_AUDIT_OK || !s_trusted(c, audits[i].auditor))
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = audits[j].verdict == LEDGER_AUDIT_OK &&
                   memcmp(audits[j].auditor, audits[i].auditor, 32) == 0;
        if (!seen)
            count++;
    }
    return count;
}

static int s_answer(int rc, char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int s_answer(int rc, char *why, size_t cap, const char *fmt, ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int ledger_consent_match(const ledger_consent_t *c, const ledger_spec_t *s,
                         const ledger_audit_t *audits, size_t n, char *why, size_t why_cap)
{
    if (s_listed(&c->deny_types, s->model_type))
        return s_answer(LEDGER_E_CONSENT, why, why_cap, "model type %s is denied", s->model_type);
    if (s_listed(&c->deny_purposes, s->purpose))
        return s_answer(LEDGER_E_CONSENT, why, why_cap, "purpose %s is denied", s->purpose);
    if (!s_listed(&c->allow_types, s->model_type))
        return s_answer(LEDGER_E_CONSENT, why, why_cap, "model type %s not allowed", s->model_type);
    if (!s_listed(&c->allow_purposes, s->purpose))
        return s_answer(LEDGER_E_CONSENT, why, why_cap, "purpose %s not allowed", s->purpose);
    if (s->max_epsilon_milli > c->max_epsilon_milli)
        return s_answer(LEDGER_E_CONSENT, why, why_cap,
                        "spec epsilon %u.%03u above the %u.%03u allowed",
                        s->max_epsilon_milli / 1000, s->max_epsilon_milli % 1000,
                        c->max_epsilon_milli / 1000, c->max_epsilon_milli % 1000);
    size_t have = s_count_audits(c, audits, n);
    if (have < c->min_audits)
        return s_answer(LEDGER_E_CONSENT, why, why_cap, "needs %u audit%s%s, has %zu",
                        c->min_audits, c->min_audits == 1 ? "" : "s",
                        c->n_auditors ? " by trusted auditors" : "", have);
    return s_answer(LEDGER_OK, why, why_cap,
                    "model type %s and purpose %s allowed, epsilon %u.%03u within %u.%03u, "
                    "%zu audit%s (needs %u)",
                    s->model_type, s->purpose, s->max_epsilon_milli / 1000,
                    s->max_epsilon_milli % 1000, c->max_epsilon_milli / 1000,
                    c->max_epsilon_milli % 1000, have, have == 1 ? "" : "s", c->min_audits);
}

/*  test_ledger_consent: the pure consent match (ledger_consent.c) and the name rules:
 *  deny by default (no allow list, an empty one), explicit wildcards, deny beats allow
 *  (also a wildcard deny), the epsilon bound (equal passes), min audits counted from OK
 *  verdicts of distinct auditors, only trusted ones when the consent lists any, and the
 *  one-line reasons the CLI shows.
 */
#include <string.h>

#include "ledger/ledger_data.h"
#include "testutil.h"

static void s_names(ledger_names_t *n, const char *a, const char *b)
{
    memset(n, 0, sizeof *n);
    if (a)
        strcpy(n->v[n->n++], a);
    if (b)
        strcpy(n->v[n->n++], b);
}

static void s_spec(ledger_spec_t *s, const char *type, const char *purpose, uint32_t eps)
{
    memset(s, 0, sizeof *s);
    strcpy(s->model_type, type);
    strcpy(s->purpose, purpose);
    s->max_epsilon_milli = eps;
}

static ledger_audit_t s_audit(uint8_t who, uint32_t verdict)
{
    ledger_audit_t a;
    memset(&a, 0, sizeof a);
    memset(a.auditor, who, 32);
    a.verdict = verdict;
    return a;
}

static void test_deny_by_default(void)
{
    ledger_consent_t c;
    ledger_spec_t s;
    char why[160];
    memset(&c, 0, sizeof c);
    c.max_epsilon_milli = 10000;
    s_spec(&s, "prs", "research", 1000);
    /* nothing allowed at all */
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, why, sizeof why), LEDGER_E_CONSENT);
    CHECK(strcmp(why, "model type prs not allowed") == 0);
    /* types allowed, purposes empty */
    s_names(&c.allow_types, "prs", NULL);
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, why, sizeof why), LEDGER_E_CONSENT);
    CHECK(strcmp(why, "purpose research not allowed") == 0);
    /* another purpose */
    s_names(&c.allow_purposes, "clinical", NULL);
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, why, sizeof why), LEDGER_E_CONSENT);
    s_names(&c.allow_purposes, "clinical", "research");
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, why, sizeof why), LEDGER_OK);
    CHECK(strstr(why, "allowed") != NULL);
    /* a name is matched whole, not by prefix */
    s_spec(&s, "prs2", "research", 1000);
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, NULL, 0), LEDGER_E_CONSENT);
}

static void test_wildcard_and_deny(void)
{
    ledger_consent_t c;
    ledger_spec_t s;
    char why[160];
    memset(&c, 0, sizeof c);
    c.max_epsilon_milli = 10000;
    s_names(&c.allow_types, "*", NULL);
    s_names(&c.allow_purposes, "*", NULL);
    s_spec(&s, "logistic", "commercial", 1000);
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, why, sizeof why), LEDGER_OK);
    /* deny beats allow, for a purpose and for a type */
    s_names(&c.deny_purposes, "commercial", NULL);
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, why, sizeof why), LEDGER_E_CONSENT);
    CHECK(strcmp(why, "purpose commercial is denied") == 0);
    s_spec(&s, "logistic", "research", 1000);
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, why, sizeof why), LEDGER_OK);
    s_names(&c.deny_types, "gwas", "logistic");
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, why, sizeof why), LEDGER_E_CONSENT);
    CHECK(strcmp(why, "model type logistic is denied") == 0);
    /* a named allow does not beat a wildcard deny */
    s_names(&c.deny_types, NULL, NULL);
    s_names(&c.allow_types, "logistic", NULL);
    s_names(&c.deny_purposes, "*", NULL);
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, why, sizeof why), LEDGER_E_CONSENT);
    CHECK(strcmp(why, "purpose research is denied") == 0);
}

static void test_epsilon(void)
{
    ledger_consent_t c;
    ledger_spec_t s;
    char why[160];
    memset(&c, 0, sizeof c);
    s_names(&c.allow_types, "prs", NULL);
    s_names(&c.allow_purposes, "research", NULL);
    c.max_epsilon_milli = 1000;
    s_spec(&s, "prs", "research", 2000);
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, why, sizeof why), LEDGER_E_CONSENT);
    CHECK(strcmp(why, "spec epsilon 2.000 above the 1.000 allowed") == 0);
    s.max_epsilon_milli = 1001;
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, why, sizeof why), LEDGER_E_CONSENT);
    s.max_epsilon_milli = 1000;
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, why, sizeof why), LEDGER_OK);
    CHECK(strstr(why, "epsilon 1.000 within 1.000") != NULL);
}

static void test_audits(void)
{
    ledger_consent_t c;
    ledger_spec_t s;
    char why[160];
    memset(&c, 0, sizeof c);
    s_names(&c.allow_types, "prs", NULL);
    s_names(&c.allow_purposes, "research", NULL);
    c.max_epsilon_milli = 1000;
    c.min_audits = 2;
    s_spec(&s, "prs", "research", 500);
    ledger_audit_t a[4] = {s_audit(1, LEDGER_AUDIT_OK), s_audit(1, LEDGER_AUDIT_OK),
                           s_audit(2, LEDGER_AUDIT_BAD), s_audit(3, LEDGER_AUDIT_OK)};
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, why, sizeof why), LEDGER_E_CONSENT);
    CHECK(strcmp(why, "needs 2 audits, has 0") == 0);
    /* the same auditor twice counts once; a BAD verdict not at all */
    CHECK_EQ(ledger_consent_match(&c, &s, a, 3, why, sizeof why), LEDGER_E_CONSENT);
    CHECK(strcmp(why, "needs 2 audits, has 1") == 0);
    CHECK_EQ(ledger_consent_match(&c, &s, a, 4, why, sizeof why), LEDGER_OK);
    CHECK(strstr(why, "2 audits (needs 2)") != NULL);
    /* trusted auditors only: 3 is not trusted, 2 is but said BAD */
    memset(c.auditors[0], 1, 32);
    memset(c.auditors[1], 2, 32);
    c.n_auditors = 2;
    CHECK_EQ(ledger_consent_match(&c, &s, a, 4, why, sizeof why), LEDGER_E_CONSENT);
    CHECK(strcmp(why, "needs 2 audits by trusted auditors, has 1") == 0);
    a[2].verdict = LEDGER_AUDIT_OK;
    CHECK_EQ(ledger_consent_match(&c, &s, a, 4, why, sizeof why), LEDGER_OK);
    /* zero required: no audits needed */
    c.min_audits = 0;
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, why, sizeof why), LEDGER_OK);
    /* a short WHY buffer is cut, never overrun */
    char tiny[8];
    CHECK_EQ(ledger_consent_match(&c, &s, NULL, 0, tiny, sizeof tiny), LEDGER_OK);
    CHECK(strlen(tiny) == sizeof tiny - 1);
}

static void test_names(void)
{
    CHECK(ledger_name_valid("prs", 3, false));
    CHECK(ledger_name_valid("a-b_9", 5, false));
    CHECK(!ledger_name_valid("*", 1, false));
    CHECK(ledger_name_valid("*", 1, true));
    CHECK(!ledger_name_valid("**", 2, true));
    CHECK(!ledger_name_valid("p*", 2, true));
    CHECK(!ledger_name_valid("", 0, true));
    CHECK(!ledger_name_valid("Prs", 3, true));
    CHECK(!ledger_name_valid("a b", 3, true));
    CHECK(!ledger_name_valid("a.b", 3, true));
    char longname[LEDGER_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname);
    CHECK(ledger_name_valid(longname, LEDGER_NAME_MAX, false));
    CHECK(!ledger_name_valid(longname, LEDGER_NAME_MAX + 1, false));
    CHECK(ledger_text_valid("Acme Genomics, Ltd.", 19));
    CHECK(!ledger_text_valid("", 0));
    CHECK(!ledger_text_valid("a\nb", 3));
    CHECK(!ledger_text_valid("caf\xc3\xa9", 5));
}

int main(void)
{
    test_deny_by_default();
    test_wildcard_and_deny();
    test_epsilon();
    test_audits();
    test_names();
    return testutil_done("test_ledger_consent");
}

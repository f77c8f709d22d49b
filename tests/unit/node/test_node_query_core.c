/*  test_node_query_core: a query runner's usage-claim decisions (node_query_core), driven
 *  with fabricated USAGE answers and ledger confirmations: the first ask is at once, the
 *  next ones spaced by the interval (or at once after a flush), a grown count is submitted
 *  once, a refused or lost claim is asked again, nothing is submitted when nothing is new,
 *  and the bounded table keeps unsettled entries. The chain feed: blocks are scanned in
 *  height order only (a height out of order is refused and records nothing); a light
 *  client is given the vote blocks above its height one after the other, up to the scanned
 *  height only, none once caught up; 100,000 scanned blocks with every 7th a vote block
 *  (the list grows) give every vote block in turn from any height.
 */
#include <stdlib.h>
#include <string.h>

#include "node/service/node_query_core.h"
#include "tests/unit/testutil.h"

static void s_id(uint8_t out[32], uint8_t tag, uint32_t n)
{
    memset(out, 0, 32);
    out[0] = tag;
    out[28] = (uint8_t)(n >> 24);
    out[29] = (uint8_t)(n >> 16);
    out[30] = (uint8_t)(n >> 8);
    out[31] = (uint8_t)n;
}

static const uint8_t s_report[] = {0x96, 1, 2, 3, 4, 5};

static void test_claim_flow(void)
{
    node_query_core_t *q = node_query_core_new();
    REQUIRE(q != NULL);
    uint8_t enc[32], buy[32];
    s_id(enc, 0xE0, 1);
    s_id(buy, 0xB0, 1);
    node_query_act_t a, x;
    uint64_t now = 1000;
    CHECK(!node_query_core_next(q, now, &a)); /* nothing served */
    CHECK(node_query_core_served(q, enc, buy, now));
    CHECK(node_query_core_served(q, enc, buy, now)); /* same entry */
    CHECK_EQ(node_query_core_count(q), 1u);
    /* the first ask is at once */
    REQUIRE(node_query_core_next(q, now, &a));
    CHECK(a.kind == NODE_QUERY_ACT_USAGE && memcmp(a.buy_id, buy, 32) == 0 &&
          memcmp(a.enclave_id, enc, 32) == 0);
    CHECK(!node_query_core_next(q, now, &x)); /* one call in flight */
    node_query_core_usage(q, a.tag, 0, 3, s_report, sizeof s_report, now);
    REQUIRE(node_query_core_next(q, now, &a));
    CHECK(a.kind == NODE_QUERY_ACT_CLAIM && a.count == 3 && a.usage_len == sizeof s_report);
    CHECK(!node_query_core_next(q, now, &x));
    node_query_core_submitted(q, a.tag, 0, now);
    node_query_entry_t e;
    REQUIRE(node_query_core_entry(q, 0, &e));
    CHECK(e.submitted == 3 && e.reported == 3 && e.confirmed == 0 && !e.dirty);
    CHECK(!node_query_core_next(q, now + 1000, &x));
    node_query_core_confirmed(q, enc, buy, 3);
    /* confirmed: nothing to do, ever, until served again */
    CHECK(!node_query_core_next(q, now + 10u * NODE_QUERY_COMMIT_WAIT_MS, &x));

    /* served again: asked only after the interval */
    now += 100;
    CHECK(node_query_core_served(q, enc, buy, now));
    CHECK(!node_query_core_next(q, now, &x));
    now = 1000 + NODE_QUERY_CLAIM_MS;
    REQUIRE(node_query_core_next(q, now, &a) && a.kind == NODE_QUERY_ACT_USAGE);
    /* the count did not grow (the query was refused by the enclave, say): no claim */
    node_query_core_usage(q, a.tag, 0, 3, s_report, sizeof s_report, now);
    CHECK(!node_query_core_next(q, now + 1, &x));

    /* a flush asks at once */
    CHECK(node_query_core_served(q, enc, buy, now + 1));
    CHECK(!node_query_core_next(q, now + 2, &x));
    node_query_core_flush(q);
    REQUIRE(node_query_core_next(q, now + 2, &a) && a.kind == NODE_QUERY_ACT_USAGE);
    node_query_core_usage(q, a.tag, 0, 7, s_report, sizeof s_report, now + 2);
    REQUIRE(node_query_core_next(q, now + 2, &a) && a.kind == NODE_QUERY_ACT_CLAIM);
    CHECK_EQ(a.count, 7u);
    /* refused: dirty again, asked after the interval, submitted again */
    node_query_core_submitted(q, a.tag, -210, now + 2);
    CHECK(!node_query_core_next(q, now + 3, &x));
    now += 2 + NODE_QUERY_CLAIM_MS;
    REQUIRE(node_query_core_next(q, now, &a) && a.kind == NODE_QUERY_ACT_USAGE);
    node_query_core_usage(q, a.tag, 0, 7, s_report, sizeof s_report, now);
    REQUIRE(node_query_core_next(q, now, &a) && a.kind == NODE_QUERY_ACT_CLAIM);
    node_query_core_submitted(q, a.tag, 0, now);
    /* admitted but never confirmed: after the commit wait it is asked again and, the
       count being the same, submitted again */
    CHECK(!node_query_core_next(q, now + NODE_QUERY_COMMIT_WAIT_MS - 1, &x));
    now += NODE_QUERY_COMMIT_WAIT_MS;
    REQUIRE(node_query_core_next(q, now, &a) && a.kind == NODE_QUERY_ACT_USAGE);
    node_query_core_usage(q, a.tag, 0, 7, s_report, sizeof s_report, now);
    REQUIRE(node_query_core_next(q, now, &a) && a.kind == NODE_QUERY_ACT_CLAIM);
    CHECK_EQ(a.count, 7u);
    node_query_core_submitted(q, a.tag, 0, now);
    node_query_core_confirmed(q, enc, buy, 7);
    CHECK(!node_query_core_next(q, now + 10u * NODE_QUERY_COMMIT_WAIT_MS, &x));

    /* a failed USAGE call is asked again after the interval; stale tags are ignored */
    CHECK(node_query_core_served(q, enc, buy, now));
    now += NODE_QUERY_CLAIM_MS;
    REQUIRE(node_query_core_next(q, now, &a) && a.kind == NODE_QUERY_ACT_USAGE);
    node_query_core_usage(q, a.tag + 100, 0, 9, s_report, sizeof s_report, now);
    node_query_core_usage(q, a.tag, NODE_E_TIMEOUT, 0, NULL, 0, now);
    CHECK(!node_query_core_next(q, now + 1, &x));
    REQUIRE(node_query_core_next(q, now + NODE_QUERY_CLAIM_MS, &a));
    CHECK_EQ(a.kind, NODE_QUERY_ACT_USAGE);
    node_query_core_destroy(&q);
    CHECK(q == NULL);
    node_query_core_destroy(&q);
}

static void test_table_bound(void)
{
    node_query_core_t *q = node_query_core_new();
    REQUIRE(q != NULL);
    uint8_t enc[32], buy[32];
    s_id(enc, 0xE0, 1);
    for (uint32_t i = 0; i < NODE_QUERY_ENTRIES; i++) {
        s_id(buy, 0xB0, i);
        REQUIRE(node_query_core_served(q, enc, buy, 0));
    }
    s_id(buy, 0xB1, 0);
    CHECK(!node_query_core_served(q, enc, buy, 0)); /* all unsettled: refused */
    /* settle entry 5: ask, report, submit, confirm; then a new buy takes its place */
    node_query_act_t a;
    uint32_t settled = 0;
    while (node_query_core_next(q, 0, &a)) {
        if (a.kind == NODE_QUERY_ACT_USAGE) {
            uint8_t five[32];
            s_id(five, 0xB0, 5);
            bool is5 = memcmp(a.buy_id, five, 32) == 0;
            node_query_core_usage(q, a.tag, is5 ? 0 : NODE_E_TIMEOUT, 1, s_report, sizeof s_report,
                                  0);
        } else {
            node_query_core_submitted(q, a.tag, 0, 0);
            node_query_core_confirmed(q, a.enclave_id, a.buy_id, a.count);
            settled++;
        }
    }
    CHECK_EQ(settled, 1u);
    CHECK(node_query_core_served(q, enc, buy, 0));
    CHECK_EQ(node_query_core_count(q), (size_t)NODE_QUERY_ENTRIES);
    node_query_entry_t e;
    bool found = false;
    for (size_t i = 0; i < node_query_core_count(q); i++)
        if (node_query_core_entry(q, i, &e) && memcmp(e.buy_id, buy, 32) == 0)
            found = e.dirty;
    CHECK(found);
    CHECK(!node_query_core_entry(q, NODE_QUERY_ENTRIES, &e));
    node_query_core_destroy(&q);
}

static void test_chain_feed(void)
{
    node_query_core_t *q = node_query_core_new();
    REQUIRE(q != NULL);
    uint64_t h = 0;
    CHECK_EQ(node_query_core_scan_from(q), 1u);
    CHECK(!node_query_core_feed_next(q, 0, &h)); /* nothing scanned */
    CHECK(!node_query_core_scanned(q, 2, true)); /* not the next height */
    CHECK(!node_query_core_scanned(q, 0, true));
    CHECK(node_query_core_scanned(q, 1, false));
    CHECK(node_query_core_scanned(q, 2, true));
    CHECK(!node_query_core_scanned(q, 2, true)); /* again */
    CHECK(node_query_core_scanned(q, 3, false));
    CHECK(node_query_core_scanned(q, 4, true));
    CHECK_EQ(node_query_core_scan_from(q), 5u);
    CHECK_EQ(node_query_core_votes(q), 2u);
    CHECK(node_query_core_feed_next(q, 0, &h) && h == 2);
    CHECK(node_query_core_feed_next(q, 1, &h) && h == 2);
    CHECK(node_query_core_feed_next(q, 2, &h) && h == 4);
    CHECK(node_query_core_feed_next(q, 3, &h) && h == 4);
    CHECK(!node_query_core_feed_next(q, 4, &h));  /* caught up */
    CHECK(!node_query_core_feed_next(q, 90, &h)); /* above the scan (another feeder) */
    node_query_core_destroy(&q);

    q = node_query_core_new();
    REQUIRE(q != NULL);
    bool ok = true;
    for (uint64_t i = 1; i <= 100000 && ok; i++)
        ok = node_query_core_scanned(q, i, i % 7 == 0);
    CHECK(ok);
    CHECK_EQ(node_query_core_votes(q), (size_t)(100000 / 7));
    uint64_t light = 0, fed = 0;
    while (node_query_core_feed_next(q, light, &h)) {
        ok &= h > light && h % 7 == 0 && h - light <= 7;
        light = h;
        fed++;
    }
    CHECK(ok);
    CHECK_EQ(fed, (uint64_t)(100000 / 7));
    CHECK(node_query_core_feed_next(q, 12345, &h) && h == 12348);
    node_query_core_destroy(&q);
}

int main(void)
{
    test_claim_flow();
    test_table_bound();
    test_chain_feed();
    return testutil_done("test_node_query_core");
}

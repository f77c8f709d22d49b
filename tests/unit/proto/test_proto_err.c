/*  test_proto_err: the one error convention's string function and detail buffer.
 *
 *  Checks: every code a layer names (proto -1..-99, p2p -100..-199, ledger -200..-299,
 *  enclave -300..-399, ml -400..-499, node -500..-599) has a name no other code of the same
 *  layer has; the codes added for the last bare -1 returns (P2P_E_ROOM_NAME ..
 *  P2P_E_ARG, LEDGER_E_DOUBLE_SIGN, NODE_E_NOMEM .. NODE_E_TOO_BIG) are named; codes
 *  outside every range are "unknown error"; proto_err_fail returns its code, writes the
 *  formatted detail (truncated to the buffer) and accepts a NULL buffer.
 */
#include <stdio.h>
#include <string.h>

#include "proto/proto_err.h"
#include "testutil.h"

static void test_names_unique_per_layer(void)
{
    size_t named = 0;
    for (int first = 0; first > -600; first -= 100) {
        for (int e = first - 1; e > first - 100; e--) {
            const char *s = proto_err_str(e);
            CHECK(s != NULL);
            if (strcmp(s, "unknown error") == 0)
                continue;
            named++;
            for (int f = first - 1; f > e; f--)
                CHECK(strcmp(s, proto_err_str(f)) != 0);
        }
    }
    CHECK(named > 100); /* all six layers have codes */
}

static void test_new_codes_named(void)
{
    static const int codes[] = {
        P2P_E_ROOM_NAME, P2P_E_TOO_MANY_ROOMS, P2P_E_NOT_MEMBER, P2P_E_TOO_BIG,
        P2P_E_KIND,      P2P_E_NOMEM,          P2P_E_SELF,       P2P_E_TOO_MANY_SEEDS,
        P2P_E_LISTEN,    P2P_E_PEER_LIST,      P2P_E_ARG,        LEDGER_E_DOUBLE_SIGN,
        NODE_E_NOMEM,    NODE_E_EXISTS,        NODE_E_FULL,      NODE_E_TOO_BIG};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        CHECK(strcmp(proto_err_str(codes[i]), "unknown error") != 0);
    CHECK(strcmp(proto_err_str(0), "ok") == 0);
    CHECK(strcmp(proto_err_str(1), "unknown error") == 0);
    CHECK(strcmp(proto_err_str(-600), "unknown error") == 0);
    CHECK(strcmp(proto_err_str(-1000), "unknown error") == 0);
}

static void test_fail(void)
{
    char err[16];
    CHECK_EQ(proto_err_fail(err, sizeof err, NODE_E_FULL, "table %s at %d", "methods", 64),
             NODE_E_FULL);
    CHECK(strcmp(err, "table methods a") == 0); /* truncated to 15 characters */
    CHECK_EQ(proto_err_fail(NULL, 0, P2P_E_NOT_MEMBER, "room %s", "x"), P2P_E_NOT_MEMBER);
    err[0] = 'z';
    CHECK_EQ(proto_err_fail(err, 0, PROTO_E_IO, "not written"), PROTO_E_IO);
    CHECK(err[0] == 'z');
}

int main(void)
{
    test_names_unique_per_layer();
    test_new_codes_named();
    test_fail();
    return testutil_done("test_proto_err");
}

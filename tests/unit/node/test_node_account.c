/*  test_node_account: which account key a node signs its own txs with (node_account_load):
 *  none, the only one, one of several by --account, an unknown id, an encrypted key with
 *  and without $GENIE_PASSPHRASE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/app/node_datadir.h"
#include "node/service/node_account.h"
#include "proto/proto_hex.h"
#include "testutil.h"

static void s_new(const char *dir, const char *pass, uint8_t pub[32])
{
    char err[256];
    REQUIRE(node_datadir_account_new(dir, pass, pub, NULL, 0, err, sizeof err) == 0);
}

int main(void)
{
    const char *dir = testutil_tmpdir();
    char err[256], hex[65];
    proto_key_t *key = NULL;
    uint8_t a[32], b[32], c[32];

    /* no key: no account, and no error (the node warns) */
    CHECK_EQ(node_account_load(dir, NULL, &key, err, sizeof err), 0);
    CHECK(key == NULL);
    CHECK(strstr(err, "no account keys") != NULL);

    /* the only key */
    s_new(dir, NULL, a);
    CHECK_EQ(node_account_load(dir, NULL, &key, err, sizeof err), 0);
    REQUIRE(key != NULL);
    CHECK(memcmp(proto_key_public(key), a, 32) == 0);
    proto_key_destroy(&key);

    /* two keys: none without --account, either one with it */
    s_new(dir, NULL, b);
    CHECK_EQ(node_account_load(dir, NULL, &key, err, sizeof err), 0);
    CHECK(key == NULL);
    CHECK(strstr(err, "--account") != NULL);
    proto_hex_encode(b, 32, hex);
    CHECK_EQ(node_account_load(dir, hex, &key, err, sizeof err), 0);
    REQUIRE(key != NULL);
    CHECK(memcmp(proto_key_public(key), b, 32) == 0);
    proto_key_destroy(&key);

    /* an id with no key; not an id */
    memset(hex, 'a', 64);
    CHECK_EQ(node_account_load(dir, hex, &key, err, sizeof err), NODE_E_NOT_FOUND);
    CHECK(key == NULL);
    CHECK_EQ(node_account_load(dir, "xyz", &key, err, sizeof err), NODE_E_PARAMS);

    /* an encrypted key opens with $GENIE_PASSPHRASE only */
    s_new(dir, "correct horse", c);
    proto_hex_encode(c, 32, hex);
    unsetenv("GENIE_PASSPHRASE");
    CHECK_EQ(node_account_load(dir, hex, &key, err, sizeof err), NODE_E_FAILED);
    CHECK(strstr(err, "GENIE_PASSPHRASE") != NULL);
    setenv("GENIE_PASSPHRASE", "wrong", 1);
    CHECK_EQ(node_account_load(dir, hex, &key, err, sizeof err), NODE_E_FAILED);
    CHECK(key == NULL);
    setenv("GENIE_PASSPHRASE", "correct horse", 1);
    CHECK_EQ(node_account_load(dir, hex, &key, err, sizeof err), 0);
    REQUIRE(key != NULL);
    CHECK(memcmp(proto_key_public(key), c, 32) == 0);
    proto_key_destroy(&key);

    testutil_rmtree(dir);
    return testutil_done("test_node_account");
}

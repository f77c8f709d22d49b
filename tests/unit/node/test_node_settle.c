/*  test_node_settle: the access codes a buyer's node keeps (node_settle_rpc.h): where the
 *  code of a buy lives in the datadir and how it is read back.
 *
 *  Shows: the path is DATADIR/access/<buy id hex>.code; a 0600 file of 64 hex characters
 *  (with or without its newline) loads to the 32 bytes; a missing file is
 *  NODE_E_NOT_FOUND; a file readable by group or others, one of the wrong length or with a
 *  non-hex character is NODE_E_CORRUPT and leaves the output zeroed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/service/node_settle_rpc.h"
#include "proto/proto_hex.h"
#include "testutil.h"

static void s_write(const char *path, const char *text, mode_t mode)
{
    (void)unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    REQUIRE(close(fd) == 0);
    REQUIRE(chmod(path, mode) == 0);
}

int main(void)
{
    const char *dir = testutil_tmpdir();
    char sub[512], path[512], want[512], hex[65], err[256];
    uint8_t buy[32], code[32], expect[32];
    memset(buy, 0x3c, 32);
    for (int i = 0; i < 32; i++)
        expect[i] = (uint8_t)(i * 7 + 1);
    proto_hex_encode(expect, 32, hex);
    snprintf(sub, sizeof sub, "%s/access", dir);
    REQUIRE(mkdir(sub, 0700) == 0);
    CHECK_EQ(node_settle_access_path(dir, buy, path, sizeof path), 0);
    snprintf(want, sizeof want, "%s/access/%s.code", dir,
             "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c");
    CHECK(strcmp(path, want) == 0);
    char tiny[8];
    CHECK_EQ(node_settle_access_path(dir, buy, tiny, sizeof tiny), NODE_E_TOO_BIG);

    CHECK_EQ(node_settle_access_load(dir, buy, code, err, sizeof err), NODE_E_NOT_FOUND);
    char line[80];
    snprintf(line, sizeof line, "%s\n", hex);
    s_write(path, line, 0600);
    CHECK_EQ(node_settle_access_load(dir, buy, code, err, sizeof err), 0);
    CHECK(memcmp(code, expect, 32) == 0);
    s_write(path, hex, 0600); /* no newline */
    CHECK_EQ(node_settle_access_load(dir, buy, code, err, sizeof err), 0);
    CHECK(memcmp(code, expect, 32) == 0);
    s_write(path, line, 0644);
    CHECK_EQ(node_settle_access_load(dir, buy, code, err, sizeof err), NODE_E_CORRUPT);
    CHECK(strstr(err, "chmod 600") != NULL);
    static const uint8_t zero[32];
    CHECK(memcmp(code, zero, 32) == 0);
    line[10] = 'g';
    s_write(path, line, 0600);
    CHECK_EQ(node_settle_access_load(dir, buy, code, err, sizeof err), NODE_E_CORRUPT);
    CHECK(memcmp(code, zero, 32) == 0);
    s_write(path, "abcd\n", 0600);
    CHECK_EQ(node_settle_access_load(dir, buy, code, err, sizeof err), NODE_E_CORRUPT);
    testutil_rmtree(dir);
    return testutil_done("test_node_settle");
}

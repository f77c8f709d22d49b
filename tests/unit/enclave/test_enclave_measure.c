/*  test_enclave_measure: measurements of enclave executables (enclave_measure).
 *
 *  Shows: the measurement is exactly the documented BLAKE2b-256 input (recomputed here
 *  independently); the fd, path and in-memory forms agree, also for files larger than the
 *  read chunk and for an empty file; measuring leaves the fd's offset alone (so the same
 *  fd can be fexecve'd); a flipped byte anywhere, an appended byte, or another kind gives
 *  another measurement; the same bytes in another file (a rebuild elsewhere) give the same
 *  one; invalid kinds, directories and missing files are refused with their codes.
 *  The executable's bytes derive from a seed printed at start (GENIE_TEST_SEED=N).
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enclave/enclave_measure.h"
#include "proto/proto_key.h"
#include "enclave_testutil.h"
#include "testutil.h"

static void s_write(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    CHECK_EQ(done, n);
    close(fd);
}

/* The documented construction, written out independently. */
static void s_expected(const uint8_t *exe, size_t len, const char *kind, uint8_t out[32])
{
    uint8_t buf[64];
    size_t dlen = strlen("genie/enclave/measure/v1");
    memcpy(buf, "genie/enclave/measure/v1", dlen);
    buf[dlen] = 0;
    for (int i = 0; i < 8; i++)
        buf[dlen + 1 + (size_t)i] = (uint8_t)((uint64_t)len >> (8 * i));
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, buf, dlen + 9);
    crypto_generichash_update(&st, exe, len);
    uint8_t klen = (uint8_t)strlen(kind);
    crypto_generichash_update(&st, &klen, 1);
    crypto_generichash_update(&st, (const uint8_t *)kind, klen);
    crypto_generichash_final(&st, out, 32);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    unsigned long long v = enclave_testutil_seed_init();
    const uint8_t *seed = enclave_testutil_seed;

    const size_t len = 200000 + (size_t)(v % 1000); /* more than three 64 KiB chunks */
    uint8_t *exe = malloc(len + 1);
    randombytes_buf_deterministic(exe, len, seed);
    const char *dir = testutil_tmpdir();
    char path[300], path2[300], err[200];
    snprintf(path, sizeof path, "%s/genie-enclave", dir);
    snprintf(path2, sizeof path2, "%s/rebuilt", dir);
    s_write(path, exe, len);
    s_write(path2, exe, len);

    uint8_t m_path[32], m_fd[32], m_buf[32], m_exp[32], m[32];
    s_expected(exe, len, "validation", m_exp);
    CHECK_EQ(enclave_measure_path(path, "validation", m_path, err, sizeof err), PROTO_OK);
    CHECK_EQ(enclave_measure_buf(exe, len, "validation", m_buf), PROTO_OK);
    CHECK(memcmp(m_path, m_exp, 32) == 0);
    CHECK(memcmp(m_buf, m_exp, 32) == 0);

    /* the fd form reads from offset 0 and leaves the offset where it was */
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    CHECK_EQ(lseek(fd, 12345, SEEK_SET), 12345);
    CHECK_EQ(enclave_measure_fd(fd, "validation", m_fd, err, sizeof err), PROTO_OK);
    CHECK(memcmp(m_fd, m_exp, 32) == 0);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 12345);
    CHECK_EQ(enclave_measure_fd(fd, "Validation", m, err, sizeof err), ENCLAVE_E_KIND);
    close(fd);

    /* the same bytes elsewhere (a reproducible rebuild): the same measurement */
    CHECK_EQ(enclave_measure_path(path2, "validation", m, NULL, 0), PROTO_OK);
    CHECK(memcmp(m, m_exp, 32) == 0);

    /* the kind is part of the identity */
    CHECK_EQ(enclave_measure_path(path, "training", m, NULL, 0), PROTO_OK);
    CHECK(memcmp(m, m_exp, 32) != 0);
    /* lengths are framed: moving a byte from the binary into the kind changes it */
    exe[len] = 'x';
    uint8_t m_a[32], m_b[32];
    CHECK_EQ(enclave_measure_buf(exe, len, "xy", m_a), PROTO_OK);
    CHECK_EQ(enclave_measure_buf(exe, len + 1, "y", m_b), PROTO_OK);
    CHECK(memcmp(m_a, m_b, 32) != 0);

    /* a tampered binary: one flipped bit at the start, middle, a chunk edge, the end */
    const size_t at[] = {0, 1, 65535, 65536, len / 2, len - 1};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        exe[at[i]] ^= 0x04;
        s_write(path2, exe, len);
        CHECK_EQ(enclave_measure_path(path2, "validation", m, NULL, 0), PROTO_OK);
        CHECK(memcmp(m, m_exp, 32) != 0);
        exe[at[i]] ^= 0x04;
    }
    /* an appended byte, a dropped byte */
    s_write(path2, exe, len + 1);
    CHECK_EQ(enclave_measure_path(path2, "validation", m, NULL, 0), PROTO_OK);
    CHECK(memcmp(m, m_exp, 32) != 0);
    s_write(path2, exe, len - 1);
    CHECK_EQ(enclave_measure_path(path2, "validation", m, NULL, 0), PROTO_OK);
    CHECK(memcmp(m, m_exp, 32) != 0);

    /* an empty file */
    s_write(path2, exe, 0);
    s_expected(exe, 0, "query", m_exp);
    CHECK_EQ(enclave_measure_path(path2, "query", m, NULL, 0), PROTO_OK);
    CHECK(memcmp(m, m_exp, 32) == 0);
    CHECK_EQ(enclave_measure_buf(NULL, 0, "query", m), PROTO_OK);
    CHECK(memcmp(m, m_exp, 32) == 0);

    /* a real executable: this test itself */
    CHECK_EQ(enclave_measure_path("/proc/self/exe", "validation", m, err, sizeof err), PROTO_OK);

    /* kinds */
    CHECK(enclave_kind_valid("validation") && enclave_kind_valid("model-2.v1_a"));
    CHECK(!enclave_kind_valid("") && !enclave_kind_valid(NULL));
    CHECK(!enclave_kind_valid("a b") && !enclave_kind_valid("a/b") && !enclave_kind_valid("A"));
    CHECK(enclave_kind_valid("abcdefghijklmnopqrstuvwxyz012345"));   /* 32 */
    CHECK(!enclave_kind_valid("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
    CHECK_EQ(enclave_measure_path(path, "", m, NULL, 0), ENCLAVE_E_KIND);
    CHECK_EQ(enclave_measure_buf(exe, len, "é", m), ENCLAVE_E_KIND);

    /* not a regular file, missing file */
    err[0] = 0;
    CHECK_EQ(enclave_measure_path(dir, "validation", m, err, sizeof err), PROTO_E_IO);
    CHECK(strstr(err, "regular") != NULL);
    snprintf(path2, sizeof path2, "%s/missing", dir);
    CHECK_EQ(enclave_measure_path(path2, "validation", m, err, sizeof err), PROTO_E_IO);
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    CHECK_EQ(enclave_measure_fd(pipefd[0], "validation", m, NULL, 0), PROTO_E_IO);
    close(pipefd[0]);
    close(pipefd[1]);
    CHECK_EQ(enclave_measure_fd(-1, "validation", m, NULL, 0), PROTO_E_IO);

    free(exe);
    testutil_rmtree(dir);
    return testutil_done("test_enclave_measure");
}

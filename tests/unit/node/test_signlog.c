/*  test_signlog: the signing record's append-only log (node_signlog). The newest record
 *  comes back after a reopen; a crash cut anywhere into the last append gives back the
 *  record before it (never a mix, never nothing); a flipped byte likewise; the log is
 *  rewritten to one record on open and when it would pass its bound; an earlier version's
 *  whole-file record is taken; a file without any valid record refuses to open; the file
 *  is mode 0600. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/service/node_signlog.h"
#include "proto/proto_err.h"
#include "testutil.h"

#define MAXREC 4096
#define COMPACT (16 * 1024)

static char s_path[512];

/*  Record number I: I+1 bytes of a pattern depending on I (so records differ in length). */
static size_t s_rec(unsigned i, uint8_t *buf)
{
    size_t n = (i * 37u) % 900u + 1;
    for (size_t k = 0; k < n; k++)
        buf[k] = (uint8_t)(i * 131u + k);
    return n;
}

static node_signlog_t *s_open(uint8_t **last, size_t *len)
{
    char err[512] = "";
    node_signlog_t *log = node_signlog_open(s_path, MAXREC, COMPACT, last, len, err, sizeof err);
    if (!log)
        fprintf(stderr, "open: %s\n", err);
    return log;
}

/*  Reopens and checks the record is record I (or none if I < 0). */
static void s_expect(int i)
{
    uint8_t *last = NULL, want[MAXREC];
    size_t len = 0;
    node_signlog_t *log = s_open(&last, &len);
    CHECK(log != NULL);
    if (i < 0) {
        CHECK(last == NULL);
    } else {
        size_t n = s_rec((unsigned)i, want);
        CHECK(last != NULL && len == n && memcmp(last, want, n) == 0);
    }
    free(last);
    node_signlog_destroy(&log);
    CHECK(log == NULL);
}

static size_t s_file_size(void)
{
    struct stat st;
    return stat(s_path, &st) == 0 ? (size_t)st.st_size : 0;
}

static uint8_t *s_slurp(size_t *len)
{
    *len = s_file_size();
    uint8_t *buf = malloc(*len ? *len : 1);
    FILE *f = fopen(s_path, "rb");
    CHECK(f && buf && fread(buf, 1, *len, f) == *len);
    if (f)
        fclose(f);
    return buf;
}

static void s_spill(const uint8_t *buf, size_t len)
{
    FILE *f = fopen(s_path, "wb");
    CHECK(f && fwrite(buf, 1, len, f) == len);
    if (f)
        fclose(f);
}

static void s_test_roundtrip(void)
{
    uint8_t *last = NULL, rec[MAXREC];
    size_t len = 0;
    char err[256];
    node_signlog_t *log = s_open(&last, &len);
    CHECK(log != NULL && last == NULL);
    struct stat st;
    CHECK(stat(s_path, &st) == 0 && (st.st_mode & 0777) == 0600);
    for (unsigned i = 0; i < 10; i++) {
        size_t n = s_rec(i, rec);
        CHECK_EQ(node_signlog_append(log, rec, n, err, sizeof err), 0);
    }
    CHECK_EQ(node_signlog_appends(log), 10u);
    CHECK_EQ(node_signlog_append(log, rec, 0, err, sizeof err), NODE_E_FAILED);
    CHECK_EQ(node_signlog_append(log, rec, MAXREC + 1, err, sizeof err), NODE_E_FAILED);
    CHECK(strstr(err, "limit") != NULL);
    node_signlog_destroy(&log);
    s_expect(9);
    /* reopening rewrote the log to its one record */
    CHECK_EQ(s_file_size(), NODE_SIGNLOG_MAGIC_LEN + s_rec(9, rec) + NODE_SIGNLOG_OVERHEAD);
    s_expect(9);
}

/*  True if the log at s_path opens with record I as its record. */
static bool s_holds(unsigned i)
{
    uint8_t *got = NULL, want[MAXREC];
    size_t glen = 0;
    node_signlog_t *log = s_open(&got, &glen);
    size_t n = s_rec(i, want);
    bool ok = log && got && glen == n && memcmp(got, want, n) == 0;
    free(got);
    node_signlog_destroy(&log);
    return ok;
}

/*  A new, empty log at s_path. */
static node_signlog_t *s_fresh(void)
{
    uint8_t *last = NULL;
    size_t len = 0;
    unlink(s_path);
    node_signlog_t *log = s_open(&last, &len);
    CHECK(last == NULL);
    return log;
}

/*  Every cut of the last append, and every flipped byte in it, gives the one before. */
static void s_test_torn(void)
{
    uint8_t rec[MAXREC];
    char err[256];
    node_signlog_t *log = s_fresh();
    CHECK(log != NULL);
    for (unsigned i = 20; i < 23; i++)
        CHECK_EQ(node_signlog_append(log, rec, s_rec(i, rec), err, sizeof err), 0);
    size_t before = s_file_size();
    CHECK_EQ(node_signlog_append(log, rec, s_rec(23, rec), err, sizeof err), 0);
    node_signlog_destroy(&log);
    size_t full_len = 0;
    uint8_t *full = s_slurp(&full_len);
    int bad = 0;
    for (size_t cut = before; cut < full_len; cut++) {
        s_spill(full, cut);
        bad += !s_holds(22);
    }
    CHECK_EQ(bad, 0);
    for (size_t at = before; at < full_len; at++) {
        full[at] ^= 0x40;
        s_spill(full, full_len);
        full[at] ^= 0x40;
        bad += !s_holds(22);
    }
    CHECK_EQ(bad, 0);
    s_spill(full, full_len);
    s_expect(23);
    free(full);
}

/*  The log stays under its bound: appends past it rewrite it to the newest record. */
static void s_test_compact(void)
{
    uint8_t rec[MAXREC];
    char err[256];
    node_signlog_t *log = s_fresh();
    CHECK(log != NULL);
    size_t biggest = 0;
    for (unsigned i = 0; i < 200; i++) {
        CHECK_EQ(node_signlog_append(log, rec, s_rec(i, rec), err, sizeof err), 0);
        if (s_file_size() > biggest)
            biggest = s_file_size();
    }
    CHECK(biggest <= COMPACT);
    CHECK(node_signlog_rewrites(log) > 1); /* the open and at least one more */
    CHECK(node_signlog_appends(log) + node_signlog_rewrites(log) == 201);
    node_signlog_destroy(&log);
    s_expect(199);
}

/*  An earlier version's file (the record alone), an empty log, and files with no record. */
static void s_test_files(void)
{
    uint8_t legacy[300];
    for (size_t k = 0; k < sizeof legacy; k++)
        legacy[k] = (uint8_t)(k * 7);
    s_spill(legacy, sizeof legacy);
    uint8_t *last = NULL;
    size_t len = 0;
    node_signlog_t *log = s_open(&last, &len);
    CHECK(log && last && len == sizeof legacy && memcmp(last, legacy, len) == 0);
    free(last);
    node_signlog_destroy(&log);
    size_t flen = 0;
    uint8_t *f = s_slurp(&flen);
    CHECK(flen >= NODE_SIGNLOG_MAGIC_LEN &&
          memcmp(f, NODE_SIGNLOG_MAGIC, NODE_SIGNLOG_MAGIC_LEN) == 0);
    free(f);
    log = s_open(&last, &len); /* now as a log, same record */
    CHECK(log && last && len == sizeof legacy && memcmp(last, legacy, len) == 0);
    free(last);
    node_signlog_destroy(&log);

    s_spill((const uint8_t *)NODE_SIGNLOG_MAGIC, NODE_SIGNLOG_MAGIC_LEN);
    s_expect(-1);

    char err[256];
    uint8_t junk[64];
    memcpy(junk, NODE_SIGNLOG_MAGIC, NODE_SIGNLOG_MAGIC_LEN);
    memset(junk + NODE_SIGNLOG_MAGIC_LEN, 0xee, sizeof junk - NODE_SIGNLOG_MAGIC_LEN);
    s_spill(junk, sizeof junk);
    log = node_signlog_open(s_path, MAXREC, COMPACT, &last, &len, err, sizeof err);
    CHECK(log == NULL && last == NULL && strstr(err, "no valid signing record") != NULL);
    s_spill(junk, 0); /* an empty file is not a record either */
    log = node_signlog_open(s_path, MAXREC, COMPACT, &last, &len, err, sizeof err);
    CHECK(log == NULL && last == NULL);
    log = node_signlog_open(s_path, MAXREC, 100, &last, &len, err, sizeof err);
    CHECK(log == NULL && strstr(err, "bad limits") != NULL);
}

/*  The parser alone: sequence numbers must rise; a repeated one ends the log. */
static void s_test_parse_seq(void)
{
    uint8_t rec[MAXREC];
    char err[256];
    node_signlog_t *log = s_fresh();
    CHECK_EQ(node_signlog_append(log, rec, s_rec(1, rec), err, sizeof err), 0);
    node_signlog_destroy(&log);
    size_t flen = 0;
    uint8_t *f = s_slurp(&flen);
    size_t one = flen - NODE_SIGNLOG_MAGIC_LEN;
    uint8_t *twice = malloc(flen + one);
    memcpy(twice, f, flen);
    memcpy(twice + flen, f + NODE_SIGNLOG_MAGIC_LEN, one); /* the same record (seq) again */
    const uint8_t *r = NULL;
    size_t rlen = 0;
    uint64_t seq = 0;
    CHECK_EQ(node_signlog_parse(twice, flen + one, MAXREC, &r, &rlen, &seq), 0);
    CHECK(r == twice + NODE_SIGNLOG_MAGIC_LEN + 12 && rlen == s_rec(1, rec));
    CHECK_EQ(node_signlog_parse(twice, flen, 10, &r, &rlen, &seq),
             NODE_E_NOT_FOUND); /* over the max */
    free(twice);
    free(f);
}

int main(void)
{
    const char *dir = testutil_tmpdir();
    snprintf(s_path, sizeof s_path, "%s/signstate", dir);
    s_test_roundtrip();
    s_test_torn();
    s_test_compact();
    s_test_files();
    s_test_parse_seq();
    testutil_rmtree(dir);
    return testutil_done("test_signlog");
}

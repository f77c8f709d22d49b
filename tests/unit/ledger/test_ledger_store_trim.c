/*  test_ledger_store_trim: a trim pass (ledger_store_trim_resident) drops the pages of the
 *  store's LevelDB table mappings from the resident set, and reads still work afterwards;
 *  the store's own trimmer thread does the same with no call, and is gone after destroy. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <leveldb/c.h>

#include "ledger/ledger_store.h"
#include "ledger/ledger_trim.h"
#include "testutil.h"

/*  Bytes of this store's .ldb mappings resident now (Rss of /proc/self/smaps). */
static long s_resident_ldb(const char *dir)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[4096];
    bool in = false;
    long kb = 0;
    size_t dlen = strlen(dir);
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        int at = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &at) == 2 && at > 0) {
            const char *path = line + at;
            in = strncmp(path, dir, dlen) == 0 && strstr(path, ".ldb") != NULL;
            continue;
        }
        long v;
        if (in && sscanf(line, "Rss: %ld kB", &v) == 1)
            kb += v;
    }
    fclose(f);
    return kb * 1024;
}

/*  Reads every STEP-th raw key back; returns how many are missing or wrong at byte AT. */
static size_t s_bad_reads(ledger_store_t *s, uint32_t step, size_t at)
{
    size_t bad = 0;
    uint8_t key[8] = {'Z'};
    for (uint32_t i = 0; i < 12000; i += step) {
        memcpy(key + 1, &i, sizeof i);
        uint8_t buf[2048];
        size_t n = 0;
        if (ledger_store_get_small(s, key, 5, buf, sizeof buf, &n) != LEDGER_OK || n != 1024 ||
            buf[at] != 0x5a)
            bad++;
    }
    return bad;
}

/*  Threads of this process: all of them, or only those named NAME. */
static int s_threads(const char *name)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (!name) {
            n++;
            continue;
        }
        char path[300], comm[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
        FILE *f = fopen(path, "r");
        if (f && fgets(comm, sizeof comm, f)) {
            comm[strcspn(comm, "\n")] = '\0';
            n += strcmp(comm, name) == 0;
        }
        if (f)
            fclose(f);
    }
    closedir(d);
    return n;
}

/*  Writes 12,000 raw keys of 1 KiB (outside the store's key space) into DIR with LevelDB
 *  itself: enough to be flushed into table files. */
static void s_fill(const char *dir)
{
    leveldb_options_t *o = leveldb_options_create();
    leveldb_options_set_create_if_missing(o, 1);
    leveldb_options_set_write_buffer_size(o, 1u << 20);
    char *lerr = NULL;
    leveldb_t *db = leveldb_open(o, dir, &lerr);
    CHECK(db != NULL && lerr == NULL);
    leveldb_free(lerr);
    lerr = NULL;
    leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
    uint8_t key[8], val[1024];
    memset(val, 0x5a, sizeof val);
    for (uint32_t i = 0; db && i < 12000; i++) {
        key[0] = 'Z';
        memcpy(key + 1, &i, sizeof i);
        leveldb_put(db, wo, (const char *)key, 5, (const char *)val, sizeof val, &lerr);
        CHECK(lerr == NULL);
    }
    leveldb_writeoptions_destroy(wo);
    if (db)
        leveldb_close(db);
    leveldb_options_destroy(o);
}

/*  One pass by hand, with the trimmer stopped so that only the pass trims. */
static void test_pass(void)
{
    char dir[256], err[256];
    snprintf(dir, sizeof dir, "%s", testutil_tmpdir());
    s_fill(dir);
    ledger_store_t *s = NULL;
    CHECK_EQ(ledger_store_open(dir, &s, err, sizeof err), LEDGER_OK);
    if (!s)
        return;
    ledger_store_trim_stop(s);
    CHECK_EQ(s_threads(LEDGER_TRIM_THREAD_NAME), 0);
    CHECK_EQ(s_bad_reads(s, 7, 100), 0u);
    long before = s_resident_ldb(dir);
    CHECK(before > 0); /* the reads above touched mapped table pages */
    long advised = ledger_store_trim_resident(s);
    CHECK(advised > 0);
    long after = s_resident_ldb(dir);
    CHECK(after >= 0 && after < before);
    /* the data is still there: pages fault back in (from the disk: MADV_PAGEOUT also
       drops them from the page cache) */
    CHECK_EQ(s_bad_reads(s, 13, 1000), 0u);
    ledger_store_destroy(&s);
    testutil_rmtree(dir);
}

/*  No pass by hand: the store's trimmer thread brings the tables' resident pages down on
 *  its own, and destroy ends it. The store is opened through a symbolic link, which
 *  /proc/self/maps resolves. */
static void test_thread(void)
{
    char dir[256], link[300], err[256];
    snprintf(dir, sizeof dir, "%s", testutil_tmpdir());
    snprintf(link, sizeof link, "%s.link", dir);
    CHECK_EQ(symlink(dir, link), 0);
    s_fill(dir); /* LevelDB's own background thread has started by now, for good */
    int threads = s_threads(NULL);
    CHECK(threads > 0);
    ledger_store_t *s = NULL;
    CHECK_EQ(ledger_store_open(link, &s, err, sizeof err), LEDGER_OK);
    if (!s)
        return;
    CHECK_EQ(s_threads(LEDGER_TRIM_THREAD_NAME), 1);
    CHECK_EQ(s_bad_reads(s, 1, 0), 0u); /* every key: about 12 MiB of table pages */
    /* untrimmed, about 12 MiB would stay; the thread lets at most LEDGER_TRIM_GROW_BYTES
       of growth stand */
    long resident = -1;
    for (int i = 0; i < 300; i++) { /* wait up to 3 s, done as soon as it holds */
        resident = s_resident_ldb(dir);
        if (resident >= 0 && resident < (long)LEDGER_TRIM_GROW_BYTES)
            break;
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    CHECK(resident >= 0 && resident < (long)LEDGER_TRIM_GROW_BYTES);
    CHECK_EQ(s_bad_reads(s, 11, 500), 0u);
    ledger_store_destroy(&s);
    CHECK_EQ(s_threads(LEDGER_TRIM_THREAD_NAME), 0);
    CHECK_EQ(s_threads(NULL), threads);
    unlink(link);
    testutil_rmtree(dir);
}

int main(void)
{
    test_pass();
    test_thread();
    return testutil_done("test_ledger_store_trim");
}

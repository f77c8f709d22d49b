/*  test_ledger_store_trim: ledger_store_trim_resident drops the pages of the store's
 *  LevelDB table mappings from the resident set, and reads still work afterwards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leveldb/c.h>

#include "ledger/ledger_store.h"
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

int main(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s", testutil_tmpdir());
    char err[256];
    /* raw keys (outside the store's key space) written with LevelDB itself, enough of
       them to be flushed into table files */
    leveldb_options_t *o = leveldb_options_create();
    leveldb_options_set_create_if_missing(o, 1);
    leveldb_options_set_write_buffer_size(o, 1u << 20);
    char *lerr = NULL;
    leveldb_t *db = leveldb_open(o, dir, &lerr);
    CHECK(db != NULL && lerr == NULL);
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
    ledger_store_t *s = NULL;
    CHECK_EQ(ledger_store_open(dir, &s, err, sizeof err), LEDGER_OK);
    if (!s)
        return testutil_done("test_ledger_store_trim");
    CHECK_EQ(s_bad_reads(s, 7, 100), 0u);
    long before = s_resident_ldb(dir);
    CHECK(before > 0); /* the reads above touched mapped table pages */
    long advised = ledger_store_trim_resident(s);
    CHECK(advised > 0);
    long after = s_resident_ldb(dir);
    CHECK(after >= 0 && after < before);
    /* the data is still there: pages fault back in from the page cache */
    CHECK_EQ(s_bad_reads(s, 13, 1000), 0u);
    ledger_store_destroy(&s);
    testutil_rmtree(dir);
    return testutil_done("test_ledger_store_trim");
}

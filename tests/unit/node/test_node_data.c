/*  test_node_data: the data owner's encrypted store (node/service/node_data.h) on its own:
 *  a round trip (put, info, plain, secrets, blob, ids), file modes, a temp file left by a
 *  crash between write and rename, corrupted records and blobs refused with a reason,
 *  bounds, removal, size classes, and a canary: the plaintext is in no file of the store.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "enclave/enclave_blob.h"
#include "node/service/node_data.h"
#include "proto/proto_hex.h"
#include "proto/proto_report.h"
#include "testutil.h"

#define CANARY "CANARY-node-data-7f3a9c"

static char s_dir[512];

static void s_path(char *out, size_t cap, const char *sub, const uint8_t id[32])
{
    char hex[65];
    proto_hex_encode(id, 32, hex);
    snprintf(out, cap, "%s/data/%s/%s", s_dir, sub, hex);
}

static int s_mode(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static void s_write(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    if (n)
        REQUIRE(fwrite(p, 1, n, f) == n);
    fclose(f);
}

static uint8_t *s_read(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(sz > 0 ? (size_t)sz : 1);
    *n = fread(p, 1, (size_t)sz, f);
    fclose(f);
    return p;
}

/*  A synthetic 23andMe-style file of about LEN bytes with the canary in a comment, from
 *  the seeded generator. */
static char *s_genotype(size_t len, uint64_t *seed, size_t *out_len)
{
    char *buf = malloc(len + 128);
    size_t n =
        (size_t)snprintf(buf, len + 128, "# %s\n# rsid\tchromosome\tposition\tgenotype\n", CANARY);
    static const char bases[] = "ACGT";
    for (unsigned i = 1; n + 40 < len; i++) {
        *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
        n += (size_t)snprintf(buf + n, len + 128 - n, "rs%u\t%u\t%u\t%c%c\n", 1000 + i,
                              (unsigned)(*seed >> 60) % 22 + 1, 10000 + i * 7,
                              bases[(*seed >> 33) & 3], bases[(*seed >> 35) & 3]);
    }
    *out_len = n;
    return buf;
}

static bool s_contains(const uint8_t *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0)
            return true;
    return false;
}

/*  True if NEEDLE occurs in any regular file under DIR (recursively). */
static bool s_found_under(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    char path[1024];
    while (!found && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            found = s_found_under(path, needle);
        } else if (S_ISREG(st.st_mode)) {
            size_t n = 0;
            uint8_t *p = s_read(path, &n);
            found = p && s_contains(p, n, needle);
            free(p);
        }
    }
    closedir(d);
    return found;
}

static void t_round_trip(uint64_t *seed)
{
    char err[256] = "";
    node_data_t *st = node_data_new(NULL, s_dir, err, sizeof err);
    REQUIRE(st != NULL);
    size_t len = 0;
    char *file = s_genotype(200 * 1024, seed, &len);
    uint8_t salt[32], commit[32];
    randombytes_buf(salt, sizeof salt);
    proto_data_commit(salt, (const uint8_t *)file, len, commit);
    node_data_info_t info;
    CHECK_EQ(node_data_put(st, (const uint8_t *)file, len, salt, PROTO_DATA_GENOTYPE, "my genome",
                           &info, err, sizeof err),
             0);
    CHECK(memcmp(info.id, commit, 32) == 0); /* the data id is the salted commitment */
    CHECK_EQ(info.size, len);
    CHECK_EQ(info.type, (uint32_t)PROTO_DATA_GENOTYPE);
    CHECK(strcmp(info.name, "my genome") == 0);

    node_data_info_t again;
    CHECK_EQ(node_data_info(st, info.id, &again, err, sizeof err), 0);
    CHECK(memcmp(&again, &info, sizeof info) == 0);

    uint8_t *plain = NULL, salt2[32];
    size_t plain_len = 0;
    CHECK_EQ(node_data_plain(st, info.id, &plain, &plain_len, salt2, err, sizeof err), 0);
    CHECK(plain_len == len && plain && memcmp(plain, file, len) == 0);
    CHECK(memcmp(salt2, salt, 32) == 0);
    node_data_plain_free(plain, plain_len);

    uint8_t key[32], salt3[32], addr[32];
    CHECK_EQ(node_data_secrets(st, info.id, key, salt3, addr), 0);
    CHECK(memcmp(addr, info.address, 32) == 0 && memcmp(salt3, salt, 32) == 0);
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    CHECK_EQ(node_data_blob(st, addr, &blob, &blob_len), 0);
    CHECK_EQ(blob_len, enclave_blob_sealed_len(len));
    uint8_t a2[32];
    enclave_blob_address(blob, blob_len, a2);
    CHECK(memcmp(a2, addr, 32) == 0);
    uint8_t *opened = NULL;
    size_t opened_len = 0;
    CHECK_EQ(enclave_blob_open(key, blob, blob_len, &opened, &opened_len), 0);
    CHECK(opened_len == len && memcmp(opened, file, len) == 0);
    enclave_blob_plain_free(opened);
    sodium_memzero(key, sizeof key);
    free(blob);

    uint8_t ids[4][32];
    CHECK_EQ(node_data_ids(st, ids, 4), (size_t)1);
    CHECK(memcmp(ids[0], info.id, 32) == 0);

    /* modes: records and blobs 0600, folders 0700 */
    char path[1024];
    s_path(path, sizeof path, "records", info.id);
    CHECK_EQ(s_mode(path), 0600);
    s_path(path, sizeof path, "blobs", info.address);
    CHECK_EQ(s_mode(path), 0600);
    snprintf(path, sizeof path, "%s/data", s_dir);
    CHECK_EQ(s_mode(path), 0700);
    snprintf(path, sizeof path, "%s/data/records", s_dir);
    CHECK_EQ(s_mode(path), 0700);

    /* the canary: nowhere in the store */
    CHECK(!s_found_under(s_dir, CANARY));

    /* a second store over the same folder sees the same record */
    node_data_destroy(&st);
    CHECK(st == NULL);
    st = node_data_new(NULL, s_dir, err, sizeof err);
    REQUIRE(st != NULL);
    CHECK_EQ(node_data_info(st, info.id, &again, err, sizeof err), 0);
    CHECK_EQ(node_data_remove(st, info.id), 0);
    CHECK_EQ(node_data_info(st, info.id, &again, err, sizeof err), NODE_E_NOT_FOUND);
    CHECK_EQ(node_data_blob(st, info.address, &blob, &blob_len), NODE_E_NOT_FOUND);
    CHECK_EQ(node_data_remove(st, info.id), NODE_E_NOT_FOUND);
    node_data_destroy(&st);
    free(file);
}

/*  A crash between the temp file's write and its rename leaves NAME.tmp.PID: the record
 *  in force is the old one, the temp file is no record, and the next open removes it (it
 *  may hold a data key). */
static void t_crash_between_temp_and_rename(uint64_t *seed)
{
    char err[256] = "";
    node_data_t *st = node_data_new(NULL, s_dir, err, sizeof err);
    REQUIRE(st != NULL);
    size_t len = 0;
    char *file = s_genotype(4096, seed, &len);
    uint8_t salt[32];
    randombytes_buf(salt, sizeof salt);
    node_data_info_t info;
    REQUIRE(node_data_put(st, (const uint8_t *)file, len, salt, PROTO_DATA_GENOTYPE, "a", &info,
                          err, sizeof err) == 0);
    char rec[1024], tmp[1100], other[1100];
    s_path(rec, sizeof rec, "records", info.id);
    size_t good_len = 0;
    uint8_t *good = s_read(rec, &good_len);
    /* the interrupted write of a new version of this record: half of it in the temp file */
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", rec, 99999);
    s_write(tmp, good, good_len / 2);
    /* and the interrupted first write of another record */
    uint8_t other_id[32];
    randombytes_buf(other_id, sizeof other_id);
    s_path(other, sizeof other, "records", other_id);
    strcat(other, ".tmp.4242");
    s_write(other, good, good_len);

    uint8_t ids[4][32];
    CHECK_EQ(node_data_ids(st, ids, 4), (size_t)1);
    node_data_info_t again;
    CHECK_EQ(node_data_info(st, info.id, &again, err, sizeof err), 0);
    CHECK(memcmp(&again, &info, sizeof info) == 0);
    CHECK_EQ(node_data_info(st, other_id, &again, err, sizeof err), NODE_E_NOT_FOUND);
    uint8_t *plain = NULL, s2[32];
    size_t plain_len = 0;
    CHECK_EQ(node_data_plain(st, info.id, &plain, &plain_len, s2, err, sizeof err), 0);
    CHECK(plain_len == len && memcmp(plain, file, len) == 0);
    node_data_plain_free(plain, plain_len);
    node_data_destroy(&st);

    /* the restart removes the leftovers */
    st = node_data_new(NULL, s_dir, err, sizeof err);
    REQUIRE(st != NULL);
    CHECK(access(tmp, F_OK) != 0);
    CHECK(access(other, F_OK) != 0);
    CHECK_EQ(node_data_info(st, info.id, &again, err, sizeof err), 0);
    CHECK_EQ(node_data_remove(st, info.id), 0);
    node_data_destroy(&st);
    free(good);
    free(file);
}

/*  Expects node_data_info of ID to refuse the record with WHY in the reason. */
static void s_expect_corrupt(node_data_t *st, const uint8_t id[32], const char *why)
{
    char err[256] = "";
    node_data_info_t info;
    CHECK_EQ(node_data_info(st, id, &info, err, sizeof err), NODE_E_CORRUPT);
    CHECK(strstr(err, why) != NULL);
    if (!strstr(err, why))
        fprintf(stderr, "  wanted '%s' in '%s'\n", why, err);
    uint8_t *plain = NULL, salt[32];
    size_t n = 0;
    CHECK_EQ(node_data_plain(st, id, &plain, &n, salt, err, sizeof err), NODE_E_CORRUPT);
    CHECK(plain == NULL);
}

static void t_corrupt_records(uint64_t *seed)
{
    char err[256] = "";
    node_data_t *st = node_data_new(NULL, s_dir, err, sizeof err);
    REQUIRE(st != NULL);
    size_t len = 0;
    char *file = s_genotype(3000, seed, &len);
    uint8_t salt[32];
    node_data_info_t a, b;
    randombytes_buf(salt, sizeof salt);
    REQUIRE(node_data_put(st, (const uint8_t *)file, len, salt, PROTO_DATA_GENOTYPE, "a", &a, err,
                          sizeof err) == 0);
    randombytes_buf(salt, sizeof salt);
    REQUIRE(node_data_put(st, (const uint8_t *)file, len, salt, PROTO_DATA_PHENOTYPE, "b", &b, err,
                          sizeof err) == 0);
    CHECK(memcmp(a.id, b.id, 32) != 0); /* same file, another salt: another id */
    char pa[1024], pb[1024];
    s_path(pa, sizeof pa, "records", a.id);
    s_path(pb, sizeof pb, "records", b.id);
    size_t la = 0, lb = 0;
    uint8_t *ra = s_read(pa, &la), *rb = s_read(pb, &lb);
    REQUIRE(ra && rb);

    s_write(pa, "not msgpack at all", 18);
    s_expect_corrupt(st, a.id, "does not decode");
    s_write(pa, ra, la - 3); /* truncated */
    s_expect_corrupt(st, a.id, "does not decode");
    uint8_t *longer = malloc(la + 1);
    memcpy(longer, ra, la);
    longer[la] = 0xc0; /* trailing nil */
    s_write(pa, longer, la + 1);
    s_expect_corrupt(st, a.id, "does not decode");
    free(longer);
    s_write(pa, rb, lb); /* another record's bytes under this name */
    s_expect_corrupt(st, a.id, "its id is not its file name");
    uint8_t *v2 = malloc(la);
    memcpy(v2, ra, la);
    v2[1] = 2; /* [fixarray 9, version 2, ...] */
    s_write(pa, v2, la);
    s_expect_corrupt(st, a.id, "version 2");
    free(v2);
    s_write(pa, "", 0);
    s_expect_corrupt(st, a.id, "does not decode");
    /* the intact record still opens */
    uint8_t *plain = NULL, s2[32];
    size_t n = 0;
    CHECK_EQ(node_data_plain(st, b.id, &plain, &n, s2, err, sizeof err), 0);
    node_data_plain_free(plain, n);

    /* a blob whose bytes are not its address: refused on read */
    char bpath[1024];
    s_path(bpath, sizeof bpath, "blobs", b.address);
    size_t bl = 0;
    uint8_t *blob = s_read(bpath, &bl);
    REQUIRE(blob != NULL);
    blob[bl / 2] ^= 0x01;
    s_write(bpath, blob, bl);
    uint8_t *got = NULL;
    size_t got_len = 0;
    CHECK_EQ(node_data_blob(st, b.address, &got, &got_len), NODE_E_CORRUPT);
    CHECK(got == NULL);
    CHECK_EQ(node_data_plain(st, b.id, &plain, &n, s2, err, sizeof err), NODE_E_CORRUPT);
    CHECK(strstr(err, "blob") != NULL);
    /* a valid blob of other data under this address: refused the same way */
    uint8_t key[32];
    enclave_blob_keygen(key);
    uint8_t *other = NULL;
    size_t other_len = 0;
    REQUIRE(enclave_blob_seal(key, (const uint8_t *)"other", 5, &other, &other_len) == 0);
    s_write(bpath, other, other_len);
    CHECK_EQ(node_data_blob(st, b.address, &got, &got_len), NODE_E_CORRUPT);
    /* the blob missing */
    unlink(bpath);
    CHECK_EQ(node_data_blob(st, b.address, &got, &got_len), NODE_E_NOT_FOUND);
    CHECK_EQ(node_data_plain(st, b.id, &plain, &n, s2, err, sizeof err), NODE_E_NOT_FOUND);
    /* removal works on refused records too */
    CHECK_EQ(node_data_remove(st, a.id), 0);
    CHECK_EQ(node_data_remove(st, b.id), 0);
    free(other);
    free(blob);
    free(ra);
    free(rb);
    free(file);
    node_data_destroy(&st);
}

static void t_bounds(void)
{
    char err[256] = "";
    node_data_t *st = node_data_new(NULL, s_dir, err, sizeof err);
    REQUIRE(st != NULL);
    uint8_t salt[32] = {1};
    uint8_t *big = calloc(1, NODE_DATA_MAX + 1);
    node_data_info_t info;
    CHECK_EQ(node_data_put(st, big, 0, salt, PROTO_DATA_GENOTYPE, NULL, &info, err, sizeof err),
             NODE_E_PARAMS);
    CHECK_EQ(node_data_put(st, big, NODE_DATA_MAX + 1, salt, PROTO_DATA_GENOTYPE, NULL, &info, err,
                           sizeof err),
             NODE_E_PARAMS);
    CHECK(strstr(err, "1 to 1024000 bytes") != NULL);
    CHECK_EQ(node_data_put(st, big, 10, salt, 7, NULL, &info, err, sizeof err), NODE_E_PARAMS);
    CHECK_EQ(
        node_data_put(st, big, 10, salt, PROTO_DATA_GENOTYPE, "tab\there", &info, err, sizeof err),
        NODE_E_PARAMS);
    char longname[NODE_DATA_NAME_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK_EQ(
        node_data_put(st, big, 10, salt, PROTO_DATA_GENOTYPE, longname, &info, err, sizeof err),
        NODE_E_PARAMS);
    uint8_t ids[2][32];
    CHECK_EQ(node_data_ids(st, ids, 2), (size_t)0); /* nothing left behind */
    CHECK_EQ(node_data_put(st, big, NODE_DATA_MAX, salt, PROTO_DATA_GENOTYPE, NULL, &info, err,
                           sizeof err),
             0);
    uint8_t *plain = NULL, s2[32];
    size_t n = 0;
    CHECK_EQ(node_data_plain(st, info.id, &plain, &n, s2, err, sizeof err), 0);
    CHECK_EQ(n, (size_t)NODE_DATA_MAX);
    node_data_plain_free(plain, n);
    CHECK_EQ(node_data_remove(st, info.id), 0);
    node_data_destroy(&st);
    free(big);

    CHECK_EQ(node_data_size_class(0), 0u);
    CHECK_EQ(node_data_size_class(1), 0u);
    CHECK_EQ(node_data_size_class(2), 1u);
    CHECK_EQ(node_data_size_class(3), 2u);
    CHECK_EQ(node_data_size_class(1024), 10u);
    CHECK_EQ(node_data_size_class(1025), 11u);
    CHECK_EQ(node_data_size_class(NODE_DATA_MAX), 20u);
    CHECK_EQ(node_data_type_parse("genotype"), (uint32_t)PROTO_DATA_GENOTYPE);
    CHECK_EQ(node_data_type_parse("phenotype"), (uint32_t)PROTO_DATA_PHENOTYPE);
    CHECK_EQ(node_data_type_parse("vcf"), 0u);
    CHECK_EQ(node_data_type_parse(NULL), 0u);

    /* a store over a path that is a file: refused with a reason */
    char file[600];
    snprintf(file, sizeof file, "%s/plainfile", s_dir);
    s_write(file, "x", 1);
    CHECK(node_data_new(NULL, file, err, sizeof err) == NULL);
    CHECK(strlen(err) > 0);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    uint64_t seed = testutil_seed("test_node_data");
    snprintf(s_dir, sizeof s_dir, "%s", testutil_tmpdir());
    t_round_trip(&seed);
    t_crash_between_temp_and_rename(&seed);
    t_corrupt_records(&seed);
    t_bounds();
    testutil_rmtree(s_dir);
    return testutil_done("test_node_data");
}

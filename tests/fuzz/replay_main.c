/*  replay_main: runs a libFuzzer harness over its seed corpus outside fuzz builds.
 *
 *  Usage: fuzz_<target> CORPUS_DIR. Every regular file in CORPUS_DIR (names starting with
 *  '.' are ignored) is read into an exactly sized heap buffer, so AddressSanitizer sees
 *  any read past its end, and handed to LLVMFuzzerTestOneInput in sorted name order.
 *  A harness reports a bug by aborting. Exits 0 after "fuzz replay: N passed, 0 failed";
 *  exits 1 if the directory is missing, holds no inputs, or a file cannot be read, so the
 *  test never passes on nothing.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads PATH whole into a malloc'd buffer of exactly its size (1 byte for an empty
   file). NULL on failure. */
static uint8_t *s_read_file(const char *path, size_t *len)
{
    uint8_t *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0)
        goto out;
    *len = (size_t)st.st_size;
    buf = malloc(*len ? *len : 1);
    if (buf && *len && fread(buf, 1, *len, f) != *len) {
        free(buf);
        buf = NULL;
    }
out:
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 1;
    }
    const char *dir_path = argv[1];
    DIR *dir = opendir(dir_path);
    if (!dir) {
        fprintf(stderr, "fuzz replay: cannot open corpus directory %s\n", dir_path);
        return 1;
    }
    char **names = NULL;
    size_t count = 0, cap = 0;
    int rc = 1;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown)
                goto out;
            names = grown;
        }
        names[count] = strdup(de->d_name);
        if (!names[count])
            goto out;
        count++;
    }
    if (count > 0)
        qsort(names, count, sizeof *names, s_cmp);

    size_t passed = 0, failed = 0;
    for (size_t i = 0; i < count; i++) {
        size_t plen = strlen(dir_path) + strlen(names[i]) + 2;
        char *path = malloc(plen);
        if (!path)
            goto out;
        snprintf(path, plen, "%s/%s", dir_path, names[i]);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        size_t len = 0;
        uint8_t *buf = s_read_file(path, &len);
        if (!buf) {
            fprintf(stderr, "fuzz replay: cannot read %s\n", path);
            failed++;
        } else {
            LLVMFuzzerTestOneInput(buf, len);
            passed++;
            free(buf);
        }
        free(path);
    }
    printf("fuzz replay: %zu passed, %zu failed\n", passed, failed);
    if (passed == 0)
        fprintf(stderr, "fuzz replay: no inputs in %s\n", dir_path);
    rc = passed > 0 && failed == 0 ? 0 : 1;
out:
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    closedir(dir);
    return rc;
}

/*  fuzz_ml_23andme: libFuzzer harness for the 23andMe raw-file reader (ml/ml_geno.h).
 *
 *  Any input must scan or be refused with one of the reader's codes and a message that
 *  names its line. A scan that succeeds must agree with a visitor that counts records; the
 *  lenient-alphabet scan (what ml_validate uses) must accept whatever the strict one does,
 *  with the same counts; and reading against a fixed reference list (plain, strand-flip,
 *  ambiguous, indel, haploid SNPs) must give dosages in {-1, 0, 1, 2} and counters that add
 *  up. A broken invariant calls abort().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_geno.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_ml_23andme: invariant broken: %s\n", what);
        abort();
    }
}

static bool s_code_ok(int rc)
{
    return rc == ML_E_PARSE || rc == ML_E_TOO_BIG || rc == ML_E_EMPTY || rc == PROTO_E_NOMEM;
}

static int s_count(void *arg, const ml_23_record_t *rec, size_t line)
{
    uint64_t *n = arg;
    s_require(rec->rsid_len > 0 && rec->chrom_len > 0 && rec->pos > 0 && line > 0, "record");
    s_require(rec->a1 != 0 || rec->a2 == 0, "no second allele without a first");
    (*n)++;
    return 0;
}

static const char s_ref[] = "rs1\t1\t100\tA\tG\n"
                            "rs2\t1\t200\tA\tC\n"
                            "rs3\t1\t300\tA\tT\n"
                            "rs4\t2\t400\tAT\tA\n"
                            "rs5\tX\t500\tC\tT\n"
                            "i6\tMT\t600\tD\tI\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    ml_geno_stats_t st, st2;
    uint64_t visited = 0;
    int rc = ml_geno_scan_23andme(data, size, NULL, s_count, &visited, &st, err, sizeof err);
    s_require(rc == 0 || s_code_ok(rc), "known code");
    s_require(rc == 0 || err[0], "message on error");
    s_require(rc != ML_E_PARSE || strstr(err, "line ") != NULL, "parse errors name a line");
    if (rc == 0)
        s_require(visited == st.records && st.calls == st.records && st.missing <= st.records,
                  "counts");
    ml_geno_limits_t any = ml_geno_limits_default();
    any.any_alleles = true;
    int rc2 = ml_geno_scan_23andme(data, size, &any, NULL, NULL, &st2, err, sizeof err);
    s_require(rc2 == 0 || s_code_ok(rc2), "known code (lenient)");
    if (rc == 0)
        s_require(rc2 == 0 && st2.records == st.records && st2.missing == st.missing,
                  "lenient accepts what strict accepts");

    ml_snpref_t *ref = NULL;
    ml_geno_t *g = NULL;
    s_require(
        ml_snpref_parse((const uint8_t *)s_ref, sizeof s_ref - 1, NULL, &ref, err, sizeof err) == 0,
        "reference list");
    int rc3 = ml_geno_parse_23andme(data, size, ref, "fuzz", NULL, &g, &st2, err, sizeof err);
    s_require(rc3 == rc, "reading agrees with scanning");
    if (g) {
        s_require(g->n_samples == 1 && g->n_snps == 6, "shape");
        size_t called = 0;
        for (size_t j = 0; j < 6; j++) {
            s_require(g->dosage[j] >= -1 && g->dosage[j] <= 2, "dosage range");
            called += g->dosage[j] >= 0;
        }
        s_require(st2.not_in_ref + st2.duplicates + st2.allele_errors + called <= st2.records,
                  "counters add up");
        s_require(st2.flipped + st2.ambiguous <= called, "flips and ambiguous are calls");
    }
    ml_geno_destroy(&g);
    ml_snpref_destroy(&ref);
    return 0;
}

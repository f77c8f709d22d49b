/*  ml_geno_vcf: VCF and BCF genotypes through htslib, the one boundary where htslib's types
 *  become an ml_geno_t (see ml_geno.h). Usage follows htslib's own test/test-vcf-api.c:
 *  bcf_hdr_read, then bcf_read / bcf_unpack per record, bcf_get_genotypes for GT and
 *  bcf_get_format_float for DS. Records are gathered SNP-major (one row of N calls per
 *  record, as they arrive) and transposed once at the end to the sample-major matrix.
 */
#include <htslib/hts.h>
#include <htslib/kstring.h>
#include <htslib/vcf.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_geno.h"

#define S_MAX_CELLS ((size_t)1 << 31)

typedef struct {
    size_t n, m, cap; /* samples, SNPs so far, SNP capacity */
    int8_t *call;     /* cap * n, SNP-major */
    float *ds;        /* cap * n, SNP-major, or NULL until a DS is seen */
    char **rsid, **chrom, **ref, **alt;
    uint32_t *pos;
    uint8_t *flags;
} s_acc_t;

static void s_acc_free(s_acc_t *a)
{
    for (size_t j = 0; j < a->m; j++) {
        free(a->rsid[j]);
        free(a->chrom[j]);
        free(a->ref[j]);
        free(a->alt[j]);
    }
    free(a->call);
    free(a->ds);
    free(a->rsid);
    free(a->chrom);
    free(a->ref);
    free(a->alt);
    free(a->pos);
    free(a->flags);
    memset(a, 0, sizeof *a);
}

#define S_GROW(ptr, count)                                                                         \
    do {                                                                                           \
        void *np_ = realloc((ptr), (count) * sizeof *(ptr));                                       \
        if (!np_)                                                                                  \
            return PROTO_E_NOMEM;                                                                  \
        (ptr) = np_;                                                                               \
    } while (0)

static int s_acc_grow(s_acc_t *a)
{
    if (a->m < a->cap)
        return 0;
    size_t cap = a->cap ? a->cap * 2 : 256;
    S_GROW(a->call, cap * a->n);
    if (a->ds)
        S_GROW(a->ds, cap * a->n);
    S_GROW(a->rsid, cap);
    S_GROW(a->chrom, cap);
    S_GROW(a->ref, cap);
    S_GROW(a->alt, cap);
    S_GROW(a->pos, cap);
    S_GROW(a->flags, cap);
    a->cap = cap;
    return 0;
}

static int s_acc_enable_ds(s_acc_t *a)
{
    a->ds = malloc((a->cap * a->n + 1) * sizeof *a->ds);
    if (!a->ds)
        return PROTO_E_NOMEM;
    for (size_t k = 0; k < a->m * a->n; k++)
        a->ds[k] = NAN;
    return 0;
}

/* One record's calls into row a->m. */
static void s_record_calls(s_acc_t *a, const int32_t *gt, int ngt, const float *ds, int nds,
                           ml_geno_stats_t *st)
{
    size_t n = a->n;
    int8_t *row = a->call + a->m * n;
    float *drow = a->ds ? a->ds + a->m * n : NULL;
    int ploidy = ngt > 0 ? ngt / (int)n : 0, dsn = nds > 0 ? nds / (int)n : 0;
    for (size_t i = 0; i < n; i++) {
        int alt = 0, called = 0;
        bool miss = ploidy == 0;
        for (int k = 0; k < ploidy; k++) {
            int32_t v = gt[i * (size_t)ploidy + (size_t)k];
            if (v == bcf_int32_vector_end)
                break;
            if (bcf_gt_is_missing(v)) {
                miss = true;
                continue;
            }
            called++;
            alt += bcf_gt_allele(v) > 0;
        }
        int8_t d = -1;
        if (!miss && called == 1)
            d = (int8_t)(2 * alt);
        else if (!miss && called == 2)
            d = (int8_t)alt;
        float dv = NAN;
        if (dsn > 0) {
            float x = ds[i * (size_t)dsn];
            if (!bcf_float_is_missing(x) && !bcf_float_is_vector_end(x) && isfinite(x) &&
                x >= 0.0f && x <= 2.0f)
                dv = x;
        }
        if (d < 0 && !isnan(dv))
            d = (int8_t)lrintf(dv);
        if (drow)
            drow[i] = dv;
        row[i] = d;
        st->calls++;
        st->missing += d < 0;
    }
}

static int s_record_map(s_acc_t *a, const bcf_hdr_t *hdr, bcf1_t *rec)
{
    size_t j = a->m;
    const char *chrom = bcf_seqname(hdr, rec);
    char buf[128];
    const char *id = rec->d.id;
    if (!chrom)
        chrom = ".";
    if (!id || !strcmp(id, ".")) {
        snprintf(buf, sizeof buf, "%.64s:%lld", chrom, (long long)rec->pos + 1);
        id = buf;
    }
    a->rsid[j] = strdup(id);
    a->chrom[j] = strdup(chrom);
    a->ref[j] = strdup(rec->d.allele[0]);
    a->alt[j] = strdup(rec->d.allele[1]);
    a->pos[j] = (uint32_t)(rec->pos + 1);
    if (!a->rsid[j] || !a->chrom[j] || !a->ref[j] || !a->alt[j]) {
        a->m++; /* so s_acc_free frees the partial strings */
        return PROTO_E_NOMEM;
    }
    size_t lr = strlen(a->ref[j]), la = strlen(a->alt[j]);
    uint8_t f = lr != la ? ML_GENO_INDEL : 0;
    if (lr == 1 && la == 1) {
        char r = a->ref[j][0], t = a->alt[j][0];
        if ((r == 'A' && t == 'T') || (r == 'T' && t == 'A') || (r == 'C' && t == 'G') ||
            (r == 'G' && t == 'C'))
            f |= ML_GENO_AMBIGUOUS;
    }
    a->flags[j] = f;
    return 0;
}

/* Moves the accumulated SNP-major data into a new sample-major ml_geno_t. */
static int s_finish(s_acc_t *a, const bcf_hdr_t *hdr, ml_geno_t **out)
{
    size_t n = a->n, m = a->m;
    ml_geno_t *g = ml_geno_new(n, m);
    if (!g)
        return PROTO_E_NOMEM;
    if (a->ds && !(g->ds = malloc((n * m + 1) * sizeof *g->ds)))
        goto nomem;
    for (size_t i = 0; i < n; i++)
        if (!(g->sample_ids[i] = strdup(hdr->samples[i])))
            goto nomem;
    for (size_t j = 0; j < m; j++) {
        for (size_t i = 0; i < n; i++) {
            g->dosage[i * m + j] = a->call[j * n + i];
            if (g->ds)
                g->ds[i * m + j] = a->ds[j * n + i];
        }
        g->rsids[j] = a->rsid[j];
        g->chrom[j] = a->chrom[j];
        g->ref[j] = a->ref[j];
        g->alt[j] = a->alt[j];
        a->rsid[j] = a->chrom[j] = a->ref[j] = a->alt[j] = NULL;
        g->pos[j] = a->pos[j];
        g->flags[j] = a->flags[j];
    }
    *out = g;
    return 0;
nomem:
    ml_geno_destroy(&g);
    return PROTO_E_NOMEM;
}

/* The stored type (BCF_BT_*) of FORMAT field TAG in the unpacked REC, or -1 if absent. */
static int s_fmt_type(const bcf_hdr_t *hdr, const bcf1_t *rec, const char *tag)
{
    int id = bcf_hdr_id2int(hdr, BCF_DT_ID, tag);
    if (id < 0)
        return -1;
    for (int k = 0; k < rec->n_fmt; k++)
        if (rec->d.fmt[k].id == id)
            return rec->d.fmt[k].p ? rec->d.fmt[k].type : -1;
    return -1;
}

/* Record source: a file through bcf_read, or buffer lines through vcf_parse. */
typedef int (*s_next_fn)(void *src, bcf_hdr_t *hdr, bcf1_t *rec); /* 0, -1 at end, < -1 */

static int s_next_file(void *src, bcf_hdr_t *hdr, bcf1_t *rec)
{
    return bcf_read((htsFile *)src, hdr, rec);
}

/* A text VCF in memory: the caller's bytes, walked line by line. */
typedef struct {
    const char *p, *end;
    kstring_t line;
} s_mem_t;

/* Next line into m->line (NUL-terminated, no line end); false at the end of the buffer.
 *NUL is set when the line holds a NUL byte. */
static bool s_mem_line(s_mem_t *m, bool *nul, bool *nomem)
{
    *nul = *nomem = false;
    if (m->p >= m->end)
        return false;
    const char *nl = memchr(m->p, '\n', (size_t)(m->end - m->p));
    const char *e = nl ? nl : m->end;
    size_t n = (size_t)(e - m->p);
    if (n && e[-1] == '\r')
        n--;
    m->line.l = 0;
    if (kputsn(m->p, n, &m->line) < 0) {
        *nomem = true;
        return false;
    }
    *nul = memchr(m->p, 0, n) != NULL;
    m->p = nl ? nl + 1 : m->end;
    return true;
}

static int s_next_mem(void *src, bcf_hdr_t *hdr, bcf1_t *rec)
{
    s_mem_t *m = src;
    bool nul, nomem;
    for (;;) {
        if (!s_mem_line(m, &nul, &nomem))
            return nomem ? -3 : -1;
        if (nul)
            return -2;
        if (m->line.l == 0)
            continue;
        return vcf_parse(&m->line, hdr, rec) == 0 ? 0 : -2;
    }
}

/* Builds a header from the buffer's '#' lines with htslib's own line parsers (no file or
   index access, unlike vcf_hdr_read, which looks for a .tbi/.csi beside its file name). */
static int s_mem_header(s_mem_t *m, bcf_hdr_t **out, char *err, size_t err_cap)
{
    static const char *fixed[] = {"#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"};
    bcf_hdr_t *h = bcf_hdr_init("r");
    bool nul, nomem;
    size_t line = 0;
    int rc = 0;
    if (!h)
        return PROTO_E_NOMEM;
    for (;;) {
        line++;
        if (!s_mem_line(m, &nul, &nomem)) {
            rc = nomem ? PROTO_E_NOMEM
                       : proto_err_fail(err, err_cap, ML_E_HTS, "line %zu: no #CHROM line", line);
            break;
        }
        char *s = m->line.s;
        if (nul || s[0] != '#') {
            rc = proto_err_fail(err, err_cap, ML_E_HTS, "line %zu: %s", line,
                                nul ? "NUL byte in the header" : "header line without '#'");
            break;
        }
        if (s[1] == '#') {
            if (bcf_hdr_append(h, s) != 0)
                rc =
                    proto_err_fail(err, err_cap, ML_E_HTS, "line %zu: malformed header line", line);
            if (rc)
                break;
            continue;
        }
        /* the #CHROM line: 8 fixed columns, FORMAT, then the samples */
        char *save = NULL, *tok = strtok_r(s, "\t", &save);
        size_t col = 0;
        for (; tok && col < 8 && !rc; col++, tok = strtok_r(NULL, "\t", &save))
            if (strcmp(tok, fixed[col]) != 0)
                rc = proto_err_fail(err, err_cap, ML_E_HTS, "line %zu, column %zu: expected %s",
                                    line, col + 1, fixed[col]);
        if (!rc && col < 8)
            rc = proto_err_fail(err, err_cap, ML_E_HTS, "line %zu: short #CHROM line", line);
        if (!rc && tok) {
            if (strcmp(tok, "FORMAT") != 0)
                rc = proto_err_fail(err, err_cap, ML_E_HTS, "line %zu, column 9: expected FORMAT",
                                    line);
            for (tok = strtok_r(NULL, "\t", &save); tok && !rc; tok = strtok_r(NULL, "\t", &save))
                if (bcf_hdr_add_sample(h, tok) != 0)
                    rc = proto_err_fail(err, err_cap, ML_E_HTS, "line %zu: bad sample '%.64s'",
                                        line, tok);
        }
        if (!rc && bcf_hdr_sync(h) != 0)
            rc = proto_err_fail(err, err_cap, ML_E_HTS, "line %zu: inconsistent header", line);
        break;
    }
    if (rc) {
        bcf_hdr_destroy(h);
        return rc;
    }
    *out = h;
    return 0;
}

static int s_read(bcf_hdr_t *hdr, s_next_fn next, void *src, const char *what,
                  const ml_geno_limits_t *limits, ml_geno_t **out, ml_geno_stats_t *stats,
                  char *err, size_t err_cap)
{
    ml_geno_limits_t lim = limits ? *limits : ml_geno_limits_default();
    ml_geno_stats_t st = {0};
    s_acc_t a = {0};
    bcf1_t *rec = NULL;
    int32_t *gt = NULL;
    float *dsraw = NULL;
    int ngt_arr = 0, nds_arr = 0, rc = 0;
    a.n = (size_t)bcf_hdr_nsamples(hdr);
    if (a.n == 0) {
        rc = proto_err_fail(err, err_cap, ML_E_EMPTY, "%s: no samples", what);
        goto out;
    }
    if (a.n > lim.max_samples) {
        rc = proto_err_fail(err, err_cap, ML_E_TOO_BIG, "%s: %zu samples exceed %zu", what, a.n,
                            lim.max_samples);
        goto out;
    }
    if (!(rec = bcf_init())) {
        rc = PROTO_E_NOMEM;
        goto out;
    }
    int ret;
    while ((ret = next(src, hdr, rec)) == 0) {
        st.records++;
        if (rec->errcode & ~(BCF_ERR_CTG_UNDEF | BCF_ERR_TAG_UNDEF)) {
            rc = proto_err_fail(err, err_cap, ML_E_HTS, "%s: record %llu: malformed (code %d)",
                                what, (unsigned long long)st.records, rec->errcode);
            goto out;
        }
        if (rec->pos < 0 || rec->pos >= (int64_t)UINT32_MAX) {
            rc = proto_err_fail(err, err_cap, ML_E_HTS, "%s: record %llu: bad position", what,
                                (unsigned long long)st.records);
            goto out;
        }
        if (bcf_unpack(rec, BCF_UN_ALL) < 0) {
            rc = proto_err_fail(err, err_cap, ML_E_HTS, "%s: record %llu: cannot unpack", what,
                                (unsigned long long)st.records);
            goto out;
        }
        if (rec->n_allele != 2) {
            st.skipped++;
            continue;
        }
        /* htslib's bcf_get_format_values calls exit(1) on a field whose stored type it does
           not expect (e.g. a GT kept as text when the header lacks it), so each field's
           encoding is checked here first */
        int gt_type = s_fmt_type(hdr, rec, "GT"), ds_type = s_fmt_type(hdr, rec, "DS");
        if (gt_type >= 0 && gt_type != BCF_BT_INT8 && gt_type != BCF_BT_INT16 &&
            gt_type != BCF_BT_INT32) {
            rc = proto_err_fail(err, err_cap, ML_E_HTS, "%s: record %llu: GT is not genotypes",
                                what, (unsigned long long)st.records);
            goto out;
        }
        int ngt = gt_type >= 0 ? bcf_get_genotypes(hdr, rec, &gt, &ngt_arr) : -3;
        int nds =
            ds_type == BCF_BT_FLOAT ? bcf_get_format_float(hdr, rec, "DS", &dsraw, &nds_arr) : -3;
        if (ngt <= 0 && nds <= 0) {
            st.skipped++;
            continue;
        }
        if (a.m == lim.max_snps || (a.m + 1) * a.n > S_MAX_CELLS) {
            rc = proto_err_fail(err, err_cap, ML_E_TOO_BIG, "%s: more than %zu SNPs", what, a.m);
            goto out;
        }
        if ((rc = s_acc_grow(&a)) != 0 || (nds > 0 && !a.ds && (rc = s_acc_enable_ds(&a))))
            goto out;
        s_record_calls(&a, gt, ngt, dsraw, nds, &st);
        if ((rc = s_record_map(&a, hdr, rec)) != 0)
            goto out;
        a.m++;
    }
    if (ret == -3) {
        rc = PROTO_E_NOMEM;
        goto out;
    }
    if (ret < -1) {
        rc = proto_err_fail(err, err_cap, ML_E_HTS, "%s: record %llu: htslib could not parse it",
                            what, (unsigned long long)st.records + 1);
        goto out;
    }
    rc = s_finish(&a, hdr, out);
out:
    if (stats)
        *stats = st;
    free(gt);
    free(dsraw);
    if (rec)
        bcf_destroy(rec);
    s_acc_free(&a);
    return rc;
}

int ml_geno_read_vcf(const char *path, const ml_geno_limits_t *limits, ml_geno_t **out,
                     ml_geno_stats_t *stats, char *err, size_t err_cap)
{
    *out = NULL;
    htsFile *fp = hts_open(path, "r");
    if (!fp)
        return proto_err_fail(err, err_cap, ML_E_HTS, "cannot open %s", path);
    int rc;
    bcf_hdr_t *hdr = bcf_hdr_read(fp);
    if (!hdr)
        rc = proto_err_fail(err, err_cap, ML_E_HTS, "%s: not a VCF/BCF (no valid header)", path);
    else
        rc = s_read(hdr, s_next_file, fp, path, limits, out, stats, err, err_cap);
    if (hdr)
        bcf_hdr_destroy(hdr);
    hts_close(fp);
    return rc;
}

int ml_geno_parse_vcf(const uint8_t *data, size_t len, const ml_geno_limits_t *limits,
                      ml_geno_t **out, ml_geno_stats_t *stats, char *err, size_t err_cap)
{
    ml_geno_limits_t lim = limits ? *limits : ml_geno_limits_default();
    *out = NULL;
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!data && len)
        return proto_err_fail(err, err_cap, ML_E_ARG, "no data");
    if (len > lim.max_bytes)
        return proto_err_fail(err, err_cap, ML_E_TOO_BIG, "%zu bytes exceed %zu", len,
                              lim.max_bytes);
    s_mem_t m = {.p = (const char *)data, .end = (const char *)data + len};
    bcf_hdr_t *hdr = NULL;
    int rc = s_mem_header(&m, &hdr, err, err_cap);
    if (!rc)
        rc = s_read(hdr, s_next_mem, &m, "buffer", &lim, out, stats, err, err_cap);
    if (hdr)
        bcf_hdr_destroy(hdr);
    free(m.line.s);
    return rc;
}

void ml_geno_hts_quiet(void)
{
    hts_set_log_level(HTS_LOG_OFF);
}

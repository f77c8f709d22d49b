/*  ml_geno: the genotype matrix, 23andMe-style raw files and reference SNP lists (see
 *  ml_geno.h). VCF/BCF through htslib lives in ml_geno_vcf.c.
 *
 *  The 23andMe scanner walks the caller's buffer line by line with memchr and validates
 *  each field in place: no allocation, so the validation enclave can run it on a donated
 *  buffer. Reading against a reference list adds one hash lookup per record.
 */
#include "ml/ml_geno.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RSID_MAX 64

ml_geno_limits_t ml_geno_limits_default(void)
{
    ml_geno_limits_t l = {
        .max_bytes = (size_t)256 << 20,
        .max_snps = 2000000,
        .max_samples = 100000,
    };
    return l;
}

ml_geno_t *ml_geno_new(size_t n_samples, size_t n_snps)
{
    if (n_snps && n_samples > SIZE_MAX / n_snps / sizeof(float))
        return NULL;
    ml_geno_t *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->n_samples = n_samples;
    g->n_snps = n_snps;
    g->dosage = malloc(n_samples * n_snps + 1);
    g->rsids = calloc(n_snps + 1, sizeof *g->rsids);
    g->chrom = calloc(n_snps + 1, sizeof *g->chrom);
    g->pos = calloc(n_snps + 1, sizeof *g->pos);
    g->ref = calloc(n_snps + 1, sizeof *g->ref);
    g->alt = calloc(n_snps + 1, sizeof *g->alt);
    g->flags = calloc(n_snps + 1, 1);
    g->sample_ids = calloc(n_samples + 1, sizeof *g->sample_ids);
    if (!g->dosage || !g->rsids || !g->chrom || !g->pos || !g->ref || !g->alt || !g->flags ||
        !g->sample_ids) {
        ml_geno_destroy(&g);
        return NULL;
    }
    memset(g->dosage, -1, n_samples * n_snps);
    return g;
}

void ml_geno_destroy(ml_geno_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ml_geno_t *g = *self_p;
    if (!g->arena)
        for (size_t j = 0; j < g->n_snps; j++) {
            if (g->rsids)
                free(g->rsids[j]);
            if (g->chrom)
                free(g->chrom[j]);
            if (g->ref)
                free(g->ref[j]);
            if (g->alt)
                free(g->alt[j]);
        }
    if (g->sample_ids)
        for (size_t i = 0; i < g->n_samples; i++)
            free(g->sample_ids[i]);
    free(g->arena);
    free(g->dosage);
    free(g->ds);
    free(g->rsids);
    free(g->chrom);
    free(g->pos);
    free(g->ref);
    free(g->alt);
    free(g->flags);
    free(g->sample_ids);
    free(g);
    *self_p = NULL;
}

/* ---- small shared pieces ---- */

static uint64_t s_fnv(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    /* FNV's low bits (the table index) mix poorly: finish with murmur3's fmix64 */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static char s_comp(char a)
{
    switch (a) {
    case 'A':
        return 'T';
    case 'T':
        return 'A';
    case 'C':
        return 'G';
    case 'G':
        return 'C';
    default:
        return 0;
    }
}

static bool s_is_allele(char a)
{
    return a == 'A' || a == 'C' || a == 'G' || a == 'T' || a == 'D' || a == 'I';
}

static bool s_allele_ok(char a, bool any)
{
    return any ? a > ' ' && a < 127 : s_is_allele(a);
}

static bool s_rsid_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '-';
}

static bool s_chrom_ok(const char *s, size_t n)
{
    if (n == 1 && (s[0] == 'X' || s[0] == 'Y' || (s[0] >= '1' && s[0] <= '9')))
        return true;
    if (n == 2 && ((s[0] == 'X' && s[1] == 'Y') || (s[0] == 'M' && s[1] == 'T')))
        return true;
    if (n == 2 && s[0] >= '1' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9')
        return s[0] == '1' || s[1] <= '2';
    return false;
}

static bool s_parse_pos(const char *s, size_t n, uint32_t *out)
{
    if (n == 0 || n > 10)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v == 0 || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Splits [s, e) at tabs into at most MAX fields; returns the field count (MAX + 1 when
   there are more). */
static size_t s_split_tabs(const char *s, const char *e, const char **f, size_t *fl, size_t max)
{
    size_t n = 0;
    for (;;) {
        const char *t = memchr(s, '\t', (size_t)(e - s));
        const char *end = t ? t : e;
        if (n == max)
            return max + 1;
        f[n] = s;
        fl[n] = (size_t)(end - s);
        n++;
        if (!t)
            return n;
        s = t + 1;
    }
}

static int s_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, char *err,
                       size_t err_cap)
{
    FILE *f = fopen(path, "rb");
    *buf = NULL;
    *len = 0;
    if (!f)
        return proto_err_fail(err, err_cap, PROTO_E_IO, "cannot open %s: %s", path,
                              strerror(errno));
    size_t cap = 0, n = 0;
    uint8_t *b = NULL;
    int rc = 0;
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                rc = proto_err_fail(err, err_cap, ML_E_TOO_BIG, "%s exceeds %zu bytes", path, max);
                break;
            }
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(b, cap);
            if (!nb) {
                rc = PROTO_E_NOMEM;
                break;
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (!got) {
            if (ferror(f))
                rc = proto_err_fail(err, err_cap, PROTO_E_IO, "cannot read %s", path);
            break;
        }
    }
    fclose(f);
    if (rc) {
        free(b);
        return rc;
    }
    *buf = b;
    *len = n;
    return 0;
}

/* Finds the end of the line starting at P in [P, END): sets *E to it (before "\n" or
   "\r\n") and returns where the next line starts. */
static const char *s_line_end(const char *p, const char *end, const char **e)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    *e = nl ? nl : end;
    if (*e > p && (*e)[-1] == '\r')
        (*e)--;
    return nl ? nl + 1 : end;
}

/* ---- 23andMe scanner ---- */

int ml_geno_scan_23andme(const uint8_t *data, size_t len, const ml_geno_limits_t *limits,
                         ml_23_visit_fn visit, void *arg, ml_geno_stats_t *stats, char *err,
                         size_t err_cap)
{
    ml_geno_limits_t lim = limits ? *limits : ml_geno_limits_default();
    ml_geno_stats_t st = {0};
    if (!data && len)
        return proto_err_fail(err, err_cap, ML_E_ARG, "no data");
    if (len > lim.max_bytes)
        return proto_err_fail(err, err_cap, ML_E_TOO_BIG, "%zu bytes exceed %zu", len,
                              lim.max_bytes);
    const char *p = (const char *)data, *end = p + len;
    size_t line = 0;
    int rc = 0;
    while (p < end && !rc) {
        line++;
        const char *e, *next = s_line_end(p, end, &e);
        if (e == p || *p == '#') {
            p = next;
            continue;
        }
        const char *f[4];
        size_t fl[4];
        size_t nf = s_split_tabs(p, e, f, fl, 4);
        if (nf != 4) {
            rc = proto_err_fail(err, err_cap, ML_E_PARSE,
                                "line %zu, column %zu: expected 4 tab-separated fields", line,
                                nf > 4 ? (size_t)5 : nf);
            break;
        }
        if (st.records == 0 && fl[0] == 4 && !memcmp(f[0], "rsid", 4)) {
            p = next; /* the column header line */
            continue;
        }
        bool ok = fl[0] > 0 && fl[0] <= S_RSID_MAX;
        for (size_t k = 0; ok && k < fl[0]; k++)
            ok = s_rsid_char(f[0][k]);
        if (!ok) {
            rc = proto_err_fail(err, err_cap, ML_E_PARSE, "line %zu, column 1: bad SNP id", line);
            break;
        }
        if (!s_chrom_ok(f[1], fl[1])) {
            rc = proto_err_fail(err, err_cap, ML_E_PARSE, "line %zu, column 2: bad chromosome",
                                line);
            break;
        }
        ml_23_record_t r = {.rsid = f[0], .rsid_len = fl[0], .chrom = f[1], .chrom_len = fl[1]};
        if (!s_parse_pos(f[2], fl[2], &r.pos)) {
            rc = proto_err_fail(err, err_cap, ML_E_PARSE, "line %zu, column 3: bad position", line);
            break;
        }
        const char *g = f[3];
        if ((fl[3] == 2 && g[0] == '-' && g[1] == '-') || (fl[3] == 1 && g[0] == '-')) {
            st.missing++;
        } else if ((fl[3] == 1 || fl[3] == 2) && s_allele_ok(g[0], lim.any_alleles) &&
                   (fl[3] == 1 || s_allele_ok(g[1], lim.any_alleles))) {
            r.a1 = g[0];
            r.a2 = 0;
            if (fl[3] == 2)
                r.a2 = g[1];
        } else {
            rc = proto_err_fail(err, err_cap, ML_E_PARSE,
                                "line %zu, column 4: bad genotype (alleles A C G T D I, or --)",
                                line);
            break;
        }
        if (st.records == lim.max_snps) {
            rc = proto_err_fail(err, err_cap, ML_E_TOO_BIG, "line %zu: more than %zu records", line,
                                lim.max_snps);
            break;
        }
        st.records++;
        st.calls++;
        if (visit)
            rc = visit(arg, &r, line);
        p = next;
    }
    if (!rc && st.records == 0)
        rc = proto_err_fail(err, err_cap, ML_E_EMPTY, "no genotype records");
    if (stats)
        *stats = st;
    return rc;
}

/* ---- reference SNP lists ---- */

struct ml_snpref_t {
    size_t n, cap;
    char *arena; /* per SNP: rsid\0 chrom\0 ref\0 alt\0 */
    size_t arena_len, arena_cap;
    size_t *off; /* n offsets of each SNP's rsid */
    uint32_t *pos;
    char *ref1, *alt1; /* one-letter codes for 23andMe matching: ACGT, D/I, or '?' */
    uint32_t *slot;    /* hash: index + 1, 0 = empty */
    size_t slot_cap;
};

void ml_snpref_destroy(ml_snpref_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ml_snpref_t *r = *self_p;
    free(r->arena);
    free(r->off);
    free(r->pos);
    free(r->ref1);
    free(r->alt1);
    free(r->slot);
    free(r);
    *self_p = NULL;
}

size_t ml_snpref_count(const ml_snpref_t *r)
{
    return r->n;
}

static const char *s_ref_rsid(const ml_snpref_t *r, size_t k)
{
    return r->arena + r->off[k];
}

static const char *s_ref_next(const char *s)
{
    return s + strlen(s) + 1;
}

/* Finds RSID (N bytes) in R: its index, or SIZE_MAX. *SLOT gets the probe's end slot. */
static size_t s_ref_find(const ml_snpref_t *r, const char *rsid, size_t n, size_t *slot)
{
    size_t mask = r->slot_cap - 1, k = (size_t)s_fnv(rsid, n) & mask;
    for (;; k = (k + 1) & mask) {
        uint32_t e = r->slot[k];
        if (!e) {
            if (slot)
                *slot = k;
            return SIZE_MAX;
        }
        const char *s = s_ref_rsid(r, e - 1);
        if (strlen(s) == n && !memcmp(s, rsid, n))
            return e - 1;
    }
}

static int s_ref_grow(ml_snpref_t *r, size_t extra)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        size_t *off = realloc(r->off, cap * sizeof *off);
        if (off)
            r->off = off;
        uint32_t *pos = realloc(r->pos, cap * sizeof *pos);
        if (pos)
            r->pos = pos;
        char *a = realloc(r->ref1, cap), *b = a ? realloc(r->alt1, cap) : NULL;
        if (a)
            r->ref1 = a;
        if (b)
            r->alt1 = b;
        if (!off || !pos || !a || !b)
            return PROTO_E_NOMEM;
        r->cap = cap;
    }
    if (!r->arena || r->arena_cap - r->arena_len < extra) {
        size_t cap = r->arena_cap ? r->arena_cap : 65536;
        while (cap - r->arena_len < extra)
            cap *= 2;
        char *a = realloc(r->arena, cap);
        if (!a)
            return PROTO_E_NOMEM;
        r->arena = a;
        r->arena_cap = cap;
    }
    return 0;
}

/* The one-letter codes 23andMe calls are matched against. */
static void s_ref_codes(const char *ref, const char *alt, char *r1, char *a1)
{
    size_t lr = strlen(ref), la = strlen(alt);
    if (lr == 1 && la == 1) {
        *r1 = ref[0];
        *a1 = alt[0];
    } else if (lr != la) {
        *r1 = lr < la ? 'D' : 'I';
        *a1 = lr < la ? 'I' : 'D';
    } else {
        *r1 = *a1 = '?';
    }
}

/* Appends one SNP (strings of the given lengths). */
static int s_ref_add(ml_snpref_t *r, const char *const *f, const size_t *fl, uint32_t pos)
{
    size_t need = fl[0] + fl[1] + fl[2] + fl[3] + 4;
    int rc = s_ref_grow(r, need);
    if (rc)
        return rc;
    r->off[r->n] = r->arena_len;
    for (int k = 0; k < 4; k++) {
        memcpy(r->arena + r->arena_len, f[k], fl[k]);
        r->arena_len += fl[k];
        r->arena[r->arena_len++] = 0;
    }
    r->pos[r->n] = pos;
    const char *ref = s_ref_next(s_ref_next(s_ref_rsid(r, r->n)));
    s_ref_codes(ref, s_ref_next(ref), &r->ref1[r->n], &r->alt1[r->n]);
    r->n++;
    return 0;
}

static int s_ref_index(ml_snpref_t *r, char *err, size_t err_cap)
{
    size_t cap = 16;
    while (cap < 2 * r->n + 2)
        cap *= 2;
    r->slot = calloc(cap, sizeof *r->slot);
    if (!r->slot)
        return PROTO_E_NOMEM;
    r->slot_cap = cap;
    for (size_t k = 0; k < r->n; k++) {
        const char *s = s_ref_rsid(r, k);
        size_t slot = 0;
        if (s_ref_find(r, s, strlen(s), &slot) != SIZE_MAX)
            return proto_err_fail(err, err_cap, ML_E_PARSE, "duplicate rsid '%.64s' in the list",
                                  s);
        r->slot[slot] = (uint32_t)(k + 1);
    }
    return 0;
}

static bool s_alleles_ok(const char *s, size_t n)
{
    if (n == 0 || n > 256)
        return false;
    if (n == 1 && (s[0] == 'D' || s[0] == 'I'))
        return true;
    for (size_t i = 0; i < n; i++)
        if (s[i] != 'A' && s[i] != 'C' && s[i] != 'G' && s[i] != 'T' && s[i] != 'N')
            return false;
    return true;
}

/* Completes R, built so far with first error RC: refuses an empty list (EMPTY_MSG says so),
   indexes it, and hands it to *OUT; on any error R is destroyed and the code returned. */
static int s_ref_finish(ml_snpref_t *r, int rc, const char *empty_msg, ml_snpref_t **out, char *err,
                        size_t err_cap)
{
    if (!rc && r->n == 0)
        rc = proto_err_fail(err, err_cap, ML_E_EMPTY, "%s", empty_msg);
    if (!rc)
        rc = s_ref_index(r, err, err_cap);
    if (rc) {
        ml_snpref_destroy(&r);
        return rc;
    }
    *out = r;
    return 0;
}

int ml_snpref_parse(const uint8_t *data, size_t len, const ml_geno_limits_t *limits,
                    ml_snpref_t **out, char *err, size_t err_cap)
{
    ml_geno_limits_t lim = limits ? *limits : ml_geno_limits_default();
    *out = NULL;
    if (!data && len)
        return proto_err_fail(err, err_cap, ML_E_ARG, "no data");
    if (len > lim.max_bytes)
        return proto_err_fail(err, err_cap, ML_E_TOO_BIG, "%zu bytes exceed %zu", len,
                              lim.max_bytes);
    ml_snpref_t *r = calloc(1, sizeof *r);
    if (!r)
        return PROTO_E_NOMEM;
    const char *p = (const char *)data, *end = p + len;
    size_t line = 0;
    int rc = 0;
    while (p < end && !rc) {
        line++;
        const char *e, *next = s_line_end(p, end, &e);
        const char *f[5];
        size_t fl[5];
        uint32_t pos = 0;
        if (e == p || *p == '#') {
            p = next;
            continue;
        }
        size_t nf = s_split_tabs(p, e, f, fl, 5);
        bool id_ok = nf == 5 && fl[0] > 0 && fl[0] <= S_RSID_MAX;
        for (size_t k = 0; id_ok && k < fl[0]; k++)
            id_ok = s_rsid_char(f[0][k]);
        bool chrom_ok = nf == 5 && fl[1] > 0 && fl[1] <= 32 && !memchr(f[1], 0, fl[1]);
        if (nf != 5)
            rc = proto_err_fail(err, err_cap, ML_E_PARSE,
                                "line %zu, column %zu: expected 5 tab-separated fields", line,
                                nf > 5 ? (size_t)6 : nf);
        else if (!id_ok)
            rc = proto_err_fail(err, err_cap, ML_E_PARSE, "line %zu, column 1: bad SNP id", line);
        else if (!chrom_ok)
            rc = proto_err_fail(err, err_cap, ML_E_PARSE, "line %zu, column 2: bad chromosome",
                                line);
        else if (!s_parse_pos(f[2], fl[2], &pos))
            rc = proto_err_fail(err, err_cap, ML_E_PARSE, "line %zu, column 3: bad position", line);
        else if (!s_alleles_ok(f[3], fl[3]))
            rc = proto_err_fail(err, err_cap, ML_E_PARSE, "line %zu, column 4: bad REF allele",
                                line);
        else if (!s_alleles_ok(f[4], fl[4]) || (fl[3] == fl[4] && !memcmp(f[3], f[4], fl[3])))
            rc = proto_err_fail(err, err_cap, ML_E_PARSE, "line %zu, column 5: bad ALT allele",
                                line);
        else if (r->n == lim.max_snps)
            rc = proto_err_fail(err, err_cap, ML_E_TOO_BIG, "line %zu: more than %zu SNPs", line,
                                lim.max_snps);
        else {
            const char *ff[4] = {f[0], f[1], f[3], f[4]};
            size_t ffl[4] = {fl[0], fl[1], fl[3], fl[4]};
            rc = s_ref_add(r, ff, ffl, pos);
        }
        p = next;
    }
    return s_ref_finish(r, rc, "no SNPs in the reference list", out, err, err_cap);
}

int ml_snpref_load(const char *path, const ml_geno_limits_t *limits, ml_snpref_t **out, char *err,
                   size_t err_cap)
{
    ml_geno_limits_t lim = limits ? *limits : ml_geno_limits_default();
    uint8_t *buf = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = s_read_file(path, lim.max_bytes, &buf, &len, err, err_cap);
    if (!rc)
        rc = ml_snpref_parse(buf, len, &lim, out, err, err_cap);
    free(buf);
    return rc;
}

int ml_snpref_from_geno(const ml_geno_t *g, ml_snpref_t **out, char *err, size_t err_cap)
{
    *out = NULL;
    ml_snpref_t *r = calloc(1, sizeof *r);
    if (!r)
        return PROTO_E_NOMEM;
    int rc = 0;
    for (size_t j = 0; j < g->n_snps && !rc; j++) {
        const char *f[4] = {g->rsids[j], g->chrom[j], g->ref[j], g->alt[j]};
        size_t fl[4] = {strlen(f[0]), strlen(f[1]), strlen(f[2]), strlen(f[3])};
        rc = s_ref_add(r, f, fl, g->pos[j]);
    }
    return s_ref_finish(r, rc, "no SNPs", out, err, err_cap);
}

/* ---- 23andMe against a reference list ---- */

typedef struct {
    const ml_snpref_t *ref;
    ml_geno_t *g;
    uint8_t *seen;
    ml_geno_stats_t st;
} s_call_ctx_t;

static int s_visit_call(void *arg, const ml_23_record_t *rec, size_t line)
{
    s_call_ctx_t *c = arg;
    (void)line;
    size_t k = s_ref_find(c->ref, rec->rsid, rec->rsid_len, NULL);
    if (k == SIZE_MAX) {
        c->st.not_in_ref++;
        return 0;
    }
    if (c->seen[k]) {
        c->st.duplicates++;
        return 0;
    }
    c->seen[k] = 1;
    if (!rec->a1)
        return 0; /* no call: stays -1 */
    char R = c->ref->ref1[k], A = c->ref->alt1[k];
    char al[2] = {rec->a1, rec->a2};
    int n = rec->a2 ? 2 : 1;
    bool direct = true, flip = true;
    int cnt_d = 0, cnt_f = 0;
    for (int t = 0; t < n; t++) {
        char cp = s_comp(al[t]);
        direct = direct && (al[t] == R || al[t] == A);
        flip = flip && cp && (cp == R || cp == A);
        cnt_d += al[t] == A;
        cnt_f += cp == A;
    }
    if (R == '?' || (!direct && !flip)) {
        c->st.allele_errors++;
        return 0;
    }
    int cnt = direct ? cnt_d : cnt_f;
    if (s_comp(R) == A) {
        c->st.ambiguous++;
        c->g->flags[k] |= ML_GENO_AMBIGUOUS;
    } else if (!direct) {
        c->st.flipped++;
        c->g->flags[k] |= ML_GENO_FLIPPED;
    }
    c->g->dosage[k] = (int8_t)(n == 1 ? 2 * cnt : cnt);
    return 0;
}

/* Gives G (1 x n) the reference list's SNP map, pointing into one copy of its arena. */
static int s_geno_map_from_ref(ml_geno_t *g, const ml_snpref_t *r)
{
    g->arena = malloc(r->arena_len + 1);
    if (!g->arena)
        return PROTO_E_NOMEM;
    memcpy(g->arena, r->arena, r->arena_len);
    for (size_t k = 0; k < r->n; k++) {
        char *s = g->arena + r->off[k];
        g->rsids[k] = s;
        g->chrom[k] = s = s + strlen(s) + 1;
        g->ref[k] = s = s + strlen(s) + 1;
        g->alt[k] = s + strlen(s) + 1;
        g->pos[k] = r->pos[k];
        if (strlen(g->ref[k]) != strlen(g->alt[k]))
            g->flags[k] |= ML_GENO_INDEL;
    }
    return 0;
}

int ml_geno_parse_23andme(const uint8_t *data, size_t len, const ml_snpref_t *ref,
                          const char *sample_id, const ml_geno_limits_t *limits, ml_geno_t **out,
                          ml_geno_stats_t *stats, char *err, size_t err_cap)
{
    *out = NULL;
    if (!ref || !sample_id)
        return proto_err_fail(err, err_cap, ML_E_ARG, "no reference list or sample id");
    s_call_ctx_t c = {.ref = ref};
    int rc = PROTO_E_NOMEM;
    c.g = ml_geno_new(1, ref->n);
    c.seen = calloc(ref->n + 1, 1);
    if (!c.g || !c.seen || !(c.g->sample_ids[0] = strdup(sample_id)) ||
        s_geno_map_from_ref(c.g, ref))
        goto out;
    ml_geno_stats_t scan = {0};
    rc = ml_geno_scan_23andme(data, len, limits, s_visit_call, &c, &scan, err, err_cap);
    c.st.records = scan.records;
    c.st.calls = scan.calls;
    c.st.missing = scan.missing;
    if (stats)
        *stats = c.st;
    if (!rc) {
        *out = c.g;
        c.g = NULL;
    }
out:
    ml_geno_destroy(&c.g);
    free(c.seen);
    return rc;
}

int ml_geno_load_23andme(const char *path, const ml_snpref_t *ref, const char *sample_id,
                         const ml_geno_limits_t *limits, ml_geno_t **out, ml_geno_stats_t *stats,
                         char *err, size_t err_cap)
{
    ml_geno_limits_t lim = limits ? *limits : ml_geno_limits_default();
    uint8_t *buf = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = s_read_file(path, lim.max_bytes, &buf, &len, err, err_cap);
    if (!rc)
        rc = ml_geno_parse_23andme(buf, len, ref, sample_id, &lim, out, stats, err, err_cap);
    free(buf);
    return rc;
}

/* ---- stacking and helpers ---- */

static char *s_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

int ml_geno_stack(const ml_geno_t *const *parts, size_t n, ml_geno_t **out, char *err,
                  size_t err_cap)
{
    *out = NULL;
    if (n == 0 || !parts[0])
        return proto_err_fail(err, err_cap, ML_E_ARG, "nothing to stack");
    size_t m = parts[0]->n_snps, total = 0;
    bool any_ds = false;
    for (size_t k = 0; k < n; k++) {
        if (!parts[k] || parts[k]->n_snps != m)
            return proto_err_fail(err, err_cap, ML_E_ARG, "part %zu has another SNP count", k);
        for (size_t j = 0; j < m; j++)
            if (strcmp(parts[k]->rsids[j], parts[0]->rsids[j]) != 0)
                return proto_err_fail(err, err_cap, ML_E_ARG, "part %zu differs at SNP %zu", k, j);
        total += parts[k]->n_samples;
        any_ds = any_ds || parts[k]->ds;
    }
    ml_geno_t *g = ml_geno_new(total, m);
    if (!g)
        return PROTO_E_NOMEM;
    if (any_ds && !(g->ds = malloc((total * m + 1) * sizeof *g->ds)))
        goto nomem;
    for (size_t j = 0; j < m; j++) {
        const ml_geno_t *s = parts[0];
        g->pos[j] = s->pos[j];
        g->flags[j] = s->flags[j];
        if (!(g->rsids[j] = s_dup(s->rsids[j])) || !(g->chrom[j] = s_dup(s->chrom[j])) ||
            !(g->ref[j] = s_dup(s->ref[j])) || !(g->alt[j] = s_dup(s->alt[j])))
            goto nomem;
        for (size_t k = 1; k < n; k++)
            g->flags[j] |= parts[k]->flags[j];
    }
    size_t row = 0;
    for (size_t k = 0; k < n; k++) {
        const ml_geno_t *s = parts[k];
        memcpy(g->dosage + row * m, s->dosage, s->n_samples * m);
        for (size_t i = 0; i < s->n_samples; i++) {
            if (!(g->sample_ids[row + i] = s_dup(s->sample_ids[i])))
                goto nomem;
            for (size_t j = 0; any_ds && j < m; j++)
                g->ds[(row + i) * m + j] = s->ds ? s->ds[i * m + j] : NAN;
        }
        row += s->n_samples;
    }
    *out = g;
    return 0;
nomem:
    ml_geno_destroy(&g);
    return PROTO_E_NOMEM;
}

void ml_geno_col_means(const ml_geno_t *g, double *mean)
{
    size_t m = g->n_snps;
    for (size_t j = 0; j < m; j++) {
        uint64_t sum = 0, cnt = 0;
        for (size_t i = 0; i < g->n_samples; i++) {
            int8_t d = g->dosage[i * m + j];
            if (d >= 0) {
                sum += (uint64_t)d;
                cnt++;
            }
        }
        mean[j] = cnt ? (double)sum / (double)cnt : 0.0;
    }
}

bool ml_geno_find_snp(const ml_geno_t *g, const char *rsid, size_t *j)
{
    for (size_t k = 0; k < g->n_snps; k++)
        if (g->rsids[k] && !strcmp(g->rsids[k], rsid)) {
            *j = k;
            return true;
        }
    return false;
}

double ml_geno_call_rate(const ml_geno_t *g)
{
    size_t cells = g->n_samples * g->n_snps, miss = 0;
    for (size_t k = 0; k < cells; k++)
        miss += g->dosage[k] < 0;
    return cells ? 1.0 - (double)miss / (double)cells : 1.0;
}

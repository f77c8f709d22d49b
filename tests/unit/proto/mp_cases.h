/*  mp_cases: private to test_mp (test_mp.c, mp_scalars.c, mp_containers.c). The helpers
 *  shared by the cases (defined in test_mp.c) and every case main runs, by the file that
 *  holds it. A case records its results with CHECK (testutil.h).
 */
#ifndef GENIE_MP_CASES_H
#define GENIE_MP_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_mp.h"

/* ---- helpers (test_mp.c) ---- */

/*  Decodes HEX (no spaces) into OUT (CAP bytes); returns the length. Aborts on bad hex. */
size_t mpt_unhex(const char *hex, uint8_t *out, size_t cap);
/*  An exactly sized heap copy of BUF[0..LEN) (never NULL, even for LEN 0). */
uint8_t *mpt_dup(const uint8_t *buf, size_t len);
/*  True if W holds exactly the bytes written as HEX. */
bool mpt_wr_is(const proto_wr_t *w, const char *hex);
/*  Reader over the bytes of HEX held in STORE. */
void mpt_rd_hex(proto_rd_t *r, const char *hex, uint8_t *store, size_t cap);

/* ---- scalars (mp_scalars.c): uint, bin / str, UTF-8, str_copy, bool / nil ---- */

void mpt_test_uint_roundtrip(void);
void mpt_test_uint_errors(void);
void mpt_test_blob_roundtrip(bool is_str);
void mpt_test_blob_errors(void);
void mpt_test_utf8(void);
void mpt_test_str_copy(void);
void mpt_test_bool_nil(void);

/* ---- containers (mp_containers.c): arrays, skip, compound truncation ---- */

void mpt_test_array_roundtrip(void);
void mpt_test_array_errors(void);
void mpt_test_skip_kinds(void);
void mpt_test_skip_depth(void);
void mpt_test_skip_deep(void);
void mpt_test_skip_errors(void);
void mpt_test_compound_truncation(void);

/* ---- reader-wide and writer cases (test_mp.c) ---- */

void mpt_test_trailing(void);
void mpt_test_sticky(void);
void mpt_test_writer_vectors(void);
void mpt_test_err_str(void);

#endif

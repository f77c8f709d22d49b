/*  enclave_measure: the measurement of an enclave, the identity a quote attests.
 *
 *  measurement = BLAKE2b-256("genie/enclave/measure/v1" || 0x00
 *                            || u64le(executable length) || executable bytes
 *                            || u8(kind length) || kind)
 *
 *  The kind (the program identifier: "validation", "training", "query", or a model's
 *  program name later) is hashed in so that the same binary started as two different
 *  programs has two different identities. Lengths are framed so no two (binary, kind)
 *  pairs share an input. The executable is hashed whole: any flipped byte (a tampered
 *  binary) gives another measurement. Reproducible builds (same source, same toolchain,
 *  another directory) give the same bytes, hence the same measurement.
 *
 *  The host measures the executable through the file descriptor it will fexecve, so what
 *  is measured is what runs. The fd should name an immutable file (a read-only install, or
 *  a sealed memfd): a file rewritten between measuring and exec defeats any measurement.
 */
#ifndef GENIE_ENCLAVE_MEASURE_H
#define GENIE_ENCLAVE_MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

#define ENCLAVE_MEASUREMENT_LEN 32
/*  Longest kind / program identifier, in bytes. */
#define ENCLAVE_KIND_MAX 32
/*  Largest executable measured (bigger files are refused with PROTO_E_TOO_BIG). */
#define ENCLAVE_EXE_MAX_BYTES (256u * 1024u * 1024u)

/*  True if KIND is a valid kind: 1..ENCLAVE_KIND_MAX bytes of [a-z0-9._-]. */
bool enclave_kind_valid(const char *kind);

/*  Measures the regular file open on FD (read with pread from offset 0 to its end; the
 *  fd's file offset is left unchanged, so it can be fexecve'd afterwards) as the program
 *  KIND into OUT. Returns 0; ENCLAVE_E_KIND (invalid KIND); PROTO_E_IO (not a regular
 *  file, read error, or the file changed size while read); PROTO_E_TOO_BIG. Detail in ERR
 *  (ERR_CAP bytes, may be NULL). Reads in 64 KiB chunks. */
int enclave_measure_fd(int fd, const char *kind, uint8_t out[static ENCLAVE_MEASUREMENT_LEN],
                       char *err, size_t err_cap) PROTO_WUR;

/*  As enclave_measure_fd, opening PATH read-only (O_CLOEXEC) and closing it. */
int enclave_measure_path(const char *path, const char *kind,
                         uint8_t out[static ENCLAVE_MEASUREMENT_LEN], char *err,
                         size_t err_cap) PROTO_WUR;

/*  As enclave_measure_fd over an executable image held in memory (EXE, LEN bytes).
 *  Returns 0, ENCLAVE_E_KIND or PROTO_E_TOO_BIG. */
int enclave_measure_buf(const uint8_t *exe, size_t len, const char *kind,
                        uint8_t out[static ENCLAVE_MEASUREMENT_LEN]) PROTO_WUR;

#endif

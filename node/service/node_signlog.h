/*  node_signlog: the consensus core's signing record on disk, as an append-only log.
 *
 *  The core hands over its signing record (double-sign protection, ledger_consensus.h)
 *  before every proposal and vote it sends, and may send only once the record is durable.
 *  Writing a whole new file each time (temporary file, fsync, rename, fsync of the
 *  directory) costs several disk flushes per step; appending to one open file costs one
 *  fdatasync. So the file is a log:
 *
 *      "GSIGLOG1"                                  8-byte magic
 *      record*:  len u32 LE | seq u64 LE | data (len bytes) | check (16 bytes)
 *
 *  check = the first 16 bytes of H("genie/signlog/v1", len | seq | data) (proto_hash).
 *  Reading takes records from the start while they are whole, check out, have
 *  1 <= len <= the caller's maximum and a seq above the one before; the last such record
 *  is the signing record. A crash in the middle of an append leaves a record that fails
 *  these tests: the one before it is then the record, which is safe, since the core sends
 *  nothing signed until the append has returned.
 *
 *  On open the file is read and rewritten atomically (node_datadir_write_file) to hold
 *  only its last record, so torn tails never stay; the same rewrite replaces the log when
 *  an append would take it past its size bound, and after a failed append (whatever a
 *  failed write left at the end is then gone with the old file). A file without the magic
 *  is a signing record written whole by an earlier version: it is taken as the record.
 *  Files are mode 0600.
 */
#ifndef GENIE_NODE_SIGNLOG_H
#define GENIE_NODE_SIGNLOG_H

#include <stddef.h>
#include <stdint.h>
#include "proto/proto_err.h"

#define NODE_SIGNLOG_MAGIC "GSIGLOG1"
#define NODE_SIGNLOG_MAGIC_LEN 8
#define NODE_SIGNLOG_OVERHEAD 28 /* bytes a record adds: len, seq, check */

typedef struct node_signlog_t node_signlog_t;

/*  Finds the signing record in the bytes of a signlog file BUF (LEN bytes): the last valid
 *  record as described above, or, without the magic, the whole buffer (if 1..MAX_RECORD
 *  bytes). *REC points into BUF, *SEQ is the record's sequence number (0 for a whole-file
 *  record). 0 when found; NODE_E_NOT_FOUND when BUF holds no record (an empty log, or a bad
 *  first one). */
int node_signlog_parse(const uint8_t *buf, size_t len, size_t max_record, const uint8_t **rec,
                       size_t *rec_len, uint64_t *seq) PROTO_WUR;

/*  Writes DATA (LEN bytes, 1..UINT32_MAX) framed as a record of sequence SEQ into OUT,
 *  which has room for LEN + NODE_SIGNLOG_OVERHEAD bytes; returns the bytes written. (Logs
 *  are written by node_signlog_append; this is for tests and fuzzing.) */
size_t node_signlog_encode(const uint8_t *data, size_t len, uint64_t seq, uint8_t *out);

/*  Opens the log at PATH, creating it if absent. *LAST gets a copy of the signing record
 *  found in it (caller frees) or NULL if the file was absent or empty. A file that exists
 *  but holds no valid record (or is over the size bound) is an error: the node must not
 *  sign without its record. Records are at most MAX_RECORD bytes; the log is rewritten
 *  when it would pass COMPACT_BYTES (at least one record always fits). NULL with ERR on
 *  failure. Caller destroys. */
node_signlog_t *node_signlog_open(const char *path, size_t max_record, size_t compact_bytes,
                                  uint8_t **last, size_t *last_len, char *err, size_t err_cap);

/*  Appends DATA (1..max_record bytes) as the newest signing record and makes it durable
 *  (fdatasync). 0, or NODE_E_FAILED with ERR (then the record may or may not be the newest on disk;
 *  the next append rewrites the log). */
int node_signlog_append(node_signlog_t *self, const uint8_t *data, size_t len, char *err,
                        size_t err_cap) PROTO_WUR;

/*  Appends and rewrites done so far (for statistics and tests). */
uint64_t node_signlog_appends(const node_signlog_t *self);
uint64_t node_signlog_rewrites(const node_signlog_t *self);

/*  Closes the file; tolerates NULL; sets *self_p to NULL. */
void node_signlog_destroy(node_signlog_t **self_p);

#endif

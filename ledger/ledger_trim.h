/*  ledger_trim: keeps LevelDB's table mappings out of the process's resident set.
 *
 *  LevelDB 1.23 reads table files through read-only shared mappings (up to 1,000 of them
 *  on 64-bit, not configurable from its C API), so every table page it touches (lookups,
 *  and above all compaction, which reads whole tables) stays counted in the process's
 *  resident set until the table is closed. A node with a growing database would reach
 *  any memory bound. A trim pass finds the mappings of the .ldb files of one directory in
 *  /proc/self/maps and advises the kernel to drop their pages from this process.
 *
 *  The advice is MADV_PAGEOUT (Linux >= 5.4), checked in test_ledger_store_trim to take
 *  the pages out of the resident set. It is the safe choice, not the cheap one: a range
 *  read from /proc/self/maps may have been unmapped by LevelDB (a table closed after a
 *  compaction) and reused by another mapping before the advice lands; MADV_DONTNEED on a
 *  private anonymous range (a malloc arena, a thread stack) would zero it, losing data,
 *  while MADV_PAGEOUT on any range only reclaims what it can (anonymous pages go to swap,
 *  or stay where there is none; clean file pages are dropped, dirty ones are left) and
 *  never changes what the memory holds. Its cost: it also drops the table pages from the
 *  page cache (MADV_DONTNEED leaves them there), so a table page read again after a pass
 *  comes from the disk. MADV_COLD only ages pages: they stay resident (measured), so it
 *  does not help. On a kernel without MADV_PAGEOUT (madvise fails with EINVAL) a pass
 *  falls back to MADV_DONTNEED, which is safe on the store's own mappings (read-only,
 *  shared, file-backed: the data stays in the page cache).
 *
 *  Before advising a range the pass checks it is still a mapping of that very file:
 *  readlink("/proc/self/map_files/LO-HI") names the mapping whose bounds are exactly
 *  LO-HI (readable by the process itself, without privileges, since Linux 4.3). A range
 *  it cannot check (no such link any more, or map_files not readable) is skipped. What is
 *  left is the window between that check and madvise (microseconds), in which LevelDB
 *  would have to unmap the table and another mapping land on the same addresses; then
 *  MADV_PAGEOUT costs that mapping a page-in, and only the MADV_DONTNEED fallback could
 *  lose data.
 *
 *  The trimmer (ledger_trim_new) is a thread doing passes on its own: every
 *  LEDGER_TRIM_POLL_MS (LEDGER_TRIM_IDLE_POLL_MS after a read that saw no growth, so an
 *  idle node wakes it once a second) it reads /proc/self/statm (cheap) and runs a pass when the
 *  process's file-backed resident pages ("shared") grew by LEDGER_TRIM_GROW_BYTES since
 *  the last pass (counted from the lowest point seen since), and only then. Passes are
 *  kept rare on purpose: each one also evicts the tables' hot pages (bloom filters, index
 *  blocks) from the page cache, and every lookup then reads them from the disk again,
 *  blocking the thread that reads. With a pass per 256 KiB of growth a 4-authority
 *  benchmark of one million transfers ran at 3,263 tx/s; with one per 4 MiB, at 4,019
 *  tx/s, at a peak VmHWM of 58 MiB. A pass every 10 s besides (as there was once) cost
 *  each node of a 4-authority benchmark at 5,000 tx/s about 50 major page faults in 20 s,
 *  against 0 to 6 with no pass, while the bound above does not need it. The thread is
 *  named "genie-trim" and runs with every signal blocked.
 */
#ifndef GENIE_LEDGER_TRIM_H
#define GENIE_LEDGER_TRIM_H

#define LEDGER_TRIM_POLL_MS 100           /* how often the trimmer reads statm */
#define LEDGER_TRIM_IDLE_POLL_MS 1000     /* ... after a read that saw no growth */
#define LEDGER_TRIM_GROW_BYTES (4u << 20) /* file-backed growth that triggers a pass */
#define LEDGER_TRIM_THREAD_NAME "genie-trim"

typedef struct ledger_trim_t ledger_trim_t;

/*  One pass over the .ldb mappings of directory DIR (as /proc/self/maps spells it: an
 *  absolute path without symbolic links). Safe at any time and from any thread, also
 *  while LevelDB reads and compacts. Returns the bytes of mappings advised, or -1 if
 *  /proc/self/maps cannot be read. */
long ledger_trim_pass(const char *dir);

/*  Starts a trimmer thread for DIR (copied) and returns once it runs under its name.
 *  Returns NULL (and logs) if it cannot (out of memory, no thread). The caller destroys
 *  it. */
ledger_trim_t *ledger_trim_new(const char *dir);

/*  Wakes the thread, joins it (it ends at once, also in the middle of a wait) and frees
 *  the trimmer; tolerates NULL; sets *self_p to NULL. */
void ledger_trim_destroy(ledger_trim_t **self_p);

#endif

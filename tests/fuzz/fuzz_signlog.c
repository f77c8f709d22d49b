/*  fuzz_signlog: libFuzzer harness for the signing-record log's reader (node_signlog_parse),
 *  which reads DIR/ledger/signstate at every start of a validator.
 *
 *  The first input byte chooses the mode, the rest is the body:
 *    even: the body is a file: whatever it holds, parse must not crash, and a record it
 *          finds lies inside the body and is 1..MAX bytes;
 *    odd:  the body is cut into records (each: a length byte, then that many bytes, at
 *          least one) framed with rising sequence numbers after the magic, and the log is
 *          cut after byte (second input byte * 7 % its length, or kept whole when that
 *          byte is 0xff): parse must find exactly the last record that is whole before the
 *          cut (or none when none is).
 *  A broken invariant calls abort(), which libFuzzer (and tests/fuzz/replay_main.c)
 *  report as a crash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/service/node_signlog.h"
#include "tests/fuzz/fuzz_util.h"

#define MAX 200
#define RECORDS_MAX 16

static void s_file(const uint8_t *body, size_t len)
{
    const uint8_t *rec = NULL;
    size_t rlen = 0;
    uint64_t seq = 0;
    if (node_signlog_parse(body, len, MAX, &rec, &rlen, &seq) == 0)
        fuzz_require(rec >= body && rlen >= 1 && rlen <= MAX && rlen <= len &&
                         (size_t)(rec - body) <= len - rlen,
                     "record outside the file or over the limit");
    else
        fuzz_require(rec == NULL && rlen == 0, "no record but output set");
}

static void s_log(const uint8_t *body, size_t len)
{
    if (len < 1)
        return;
    uint8_t cut_byte = body[0];
    body++;
    len--;
    static uint8_t log[NODE_SIGNLOG_MAGIC_LEN + RECORDS_MAX * (255 + NODE_SIGNLOG_OVERHEAD)];
    size_t ends[RECORDS_MAX], starts[RECORDS_MAX], lens[RECORDS_MAX], n = 0;
    size_t at = NODE_SIGNLOG_MAGIC_LEN;
    memcpy(log, NODE_SIGNLOG_MAGIC, NODE_SIGNLOG_MAGIC_LEN);
    size_t i = 0;
    while (i < len && n < RECORDS_MAX) {
        size_t rl = body[i++];
        if (rl == 0 || rl > MAX || rl > len - i)
            break;
        starts[n] = at + 12;
        lens[n] = rl;
        at += node_signlog_encode(body + i, rl, 100 + n, log + at);
        ends[n++] = at;
        i += rl;
    }
    size_t cut = cut_byte == 0xff ? at : (size_t)cut_byte * 7 % at;
    const uint8_t *rec = NULL;
    size_t rlen = 0;
    uint64_t seq = 0;
    int rc = node_signlog_parse(log, cut, MAX, &rec, &rlen, &seq);
    size_t whole = 0;
    while (whole < n && ends[whole] <= cut)
        whole++;
    if (cut < NODE_SIGNLOG_MAGIC_LEN) { /* no magic: taken as an earlier version's record */
        fuzz_require(rc == (cut ? 0 : NODE_E_NOT_FOUND) && (!cut || (rec == log && rlen == cut)),
                     "short file not taken whole");
        return;
    }
    if (whole == 0) {
        fuzz_require(rc == NODE_E_NOT_FOUND, "record found in a log with none whole");
        return;
    }
    size_t k = whole - 1;
    fuzz_require(rc == 0 && rec == log + starts[k] && rlen == lens[k] && seq == 100 + k,
                 "not the last whole record");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] % 2 == 0)
        s_file(data + 1, size - 1);
    else
        s_log(data + 1, size - 1);
    return 0;
}

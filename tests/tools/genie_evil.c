/*  genie-evil: a hostile peer for fault tests against a real genie-node.
 *
 *  It connects to one node exactly as a genie-node would (tool_link.h: a ZeroMQ DEALER,
 *  CurveZMQ client pinned to the Curve25519 form of the target's Ed25519 node id, its own
 *  CURVE keys derived from a fresh Ed25519 node key), introduces itself with a valid signed
 *  HELLO (unless the mode is about the HELLO itself), then misbehaves in one way and
 *  prints a one-line summary of what it sent and what came back. Its peer record lists no
 *  endpoint, so the target never dials it back and never advertises it to others.
 *
 *      genie-evil --target NODEID@tcp://IP:PORT (--chain HEX | --datadir DIR) --mode MODE
 *                 [--count N] [--rate R] [--seconds S] [--flush-seconds F]
 *
 *  Modes (N is --count, default 10000; every mode but wrongchain sends a valid HELLO first
 *  and waits up to 5 s for the target's HELLO):
 *    garbage     N frames of random bytes, 1..4096 long
 *    oversized   N frames (default 1, at most 8) of 1.2 MiB: over the envelope maximum,
 *                under the transport's frame limit, so the target's core counts each (20
 *                points: five ban us); then a PING, answered unless we are banned
 *    truncated   N valid signed PINGs, each cut short at a random length
 *    forged      N well-formed envelopes with bad signatures (own key with a flipped
 *                signature byte; another key's PING; another key's GOSSIP, flipped)
 *    replay      one valid signed PING sent N times (only the first may be answered)
 *    flood       N valid distinct GOSSIP messages, topic "" kind 999, 200-byte payload
 *    txflood     N valid distinct GOSSIP messages of kind tx_batch, each with 100 transfers
 *                of the chain (--chain) from a fresh key whose signatures are broken (one
 *                byte flipped): the costliest thing to check a peer can send a ledger node
 *    wrongchain  a valid HELLO carrying another chain id (expects a BYE)
 *    hello       a valid HELLO, then idle (answering PINGs) for --seconds: a control
 *    recruit     N room posts in `recruitment`, each a well-formed, validly signed
 *                recruitment post (proto_recruit) for spec --spec HEX (default: random)
 *                by a fresh account no ledger knows: what the room's posting policy
 *                refuses (and scores)
 *    donor       one DONOR_REGISTER tx carrying the donation receipt --receipt HEX,
 *                altered by --forge: none (as given: a replay); flip:K (byte K xor 0x01);
 *                claim (the receipt made out to our account and to record --data HEX,
 *                data id and commitment, its enclave key and signature kept); resign
 *                (as claim, then signed by a fresh key put in as the enclave's),
 *                signed by the account key --account-key FILE (unencrypted, or
 *                $GENIE_PASSPHRASE) with nonce --nonce N, sent to the target as gossip of
 *                kind tx_batch (what a peer relaying a tx does); the summary adds txid=HEX
 *                and tx=HEX, so a test can also submit it by RPC to read the refusal
 *  --rate R paces sends at R per second (default 0: as fast as possible). --seconds S
 *  (default 20) bounds the sending time. replay, flood and txflood then send a fresh PING and wait
 *  for its PONG (at most --flush-seconds, default 30; 0 skips it): a link is one ordered
 *  connection, so the answer means the target has handled everything before it
 *  (flushed=yes in the summary). The socket then lingers at most 5 s.
 *
 *  Output: one line on stdout, "genie-evil: mode=M id=HEX sent=N ...", key=value pairs a
 *  test can parse (id is our node id, to look for in the target's peer list; sent counts
 *  every frame, the HELLO and PINGs included; rx_* count what came back). Exit 0 when
 *  the run happened (whatever the target did), 1 on a local failure, 2 on a usage error.
 *  A test tool: it never loops without a count and a deadline.
 */
#include <czmq.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_data.h"
#include "ledger/ledger_tx.h"
#include "p2p/p2p_msg.h"
#include "p2p/p2p_record.h"
#include "proto/proto_hex.h"
#include "proto/proto_key.h"
#include "proto/proto_keystore.h"
#include "proto/proto_msgtype.h"
#include "proto/proto_recruit.h"
#include "proto/proto_report.h"
#include "tests/tools/tool_cli.h"
#include "tests/tools/tool_link.h"

#define EVIL_PROG "genie-evil"
#define EVIL_HELLO_WAIT_MS 5000
#define EVIL_GARBAGE_MAX 4096
#define EVIL_OVERSIZED_BYTES (1258291u) /* 1.2 MiB, over the node's 1 MiB + 256 */
#define EVIL_OVERSIZED_MAX 8
#define EVIL_FLOOD_KIND 999u
#define EVIL_FLOOD_PAYLOAD 200u
#define EVIL_TXFLOOD_TXS 100u

typedef enum {
    EVIL_GARBAGE,
    EVIL_OVERSIZED,
    EVIL_TRUNCATED,
    EVIL_FORGED,
    EVIL_REPLAY,
    EVIL_FLOOD,
    EVIL_WRONGCHAIN,
    EVIL_HELLO,
    EVIL_TXFLOOD,
    EVIL_RECRUIT,
    EVIL_DONOR
} evil_mode_t;

static const char *const s_mode_names[] = {"garbage", "oversized", "truncated",  "forged",
                                           "replay",  "flood",     "wrongchain", "hello",
                                           "txflood", "recruit",   "donor"};

typedef struct {
    uint8_t target_id[32];
    char endpoint[P2P_ENDPOINT_MAX];
    uint8_t chain_id[32];
    evil_mode_t mode;
    uint64_t count;
    bool count_set;
    double rate;
    double seconds;
    double flush_seconds;
    uint8_t spec_id[32]; /* recruit: the spec the posts name */
    /* donor: the receipt (decoded from --receipt), how to alter it, the signing account */
    uint8_t receipt[PROTO_REPORT_MAX_BYTES];
    size_t receipt_len;
    long forge_byte; /* -1: none; else the byte --forge flip:K flips */
    bool forge_claim, forge_resign;
    uint8_t data_id[32]; /* claim, resign: the record the receipt is made out to */
    bool data_set;
    const char *account_key;
    uint64_t nonce;
    bool nonce_set;
} evil_opts_t;

typedef struct {
    evil_opts_t o;
    tool_link_t *link;
    const proto_key_t *key; /* our node identity (the link's) */
    proto_key_t *other;     /* a second key, for signatures that do not match the link */
    int64_t start_ms;       /* monotonic */
    int64_t deadline_ms;    /* monotonic */
    char note[64];          /* extra result of the mode, e.g. "pong_after=yes" */
    char *tx_hex;           /* donor: the tx sent, in hex (malloc'd), and its id */
    char txid_hex[65];
    const char *flushed; /* "yes": the target answered a PING sent after everything */
} evil_t;

#define EVIL_USAGE                                                                                 \
    "usage: genie-evil --target NODEID@tcp://IP:PORT (--chain HEX | --datadir DIR)\n"              \
    "                  --mode MODE [--count N] [--rate R] [--seconds S] [--flush-seconds F]\n"     \
    "                  [--spec HEX] [--receipt HEX --account-key FILE --nonce N\n"                 \
    "                  [--forge none|flip:K|claim|resign] [--data HEX]]\n"                         \
    "modes: garbage oversized truncated forged replay flood wrongchain hello txflood recruit\n"    \
    "       donor\n"

/* Reads DIR/chain_id (64 hex digits and optional whitespace) into OUT. 0 or -1. */
static int s_read_chain_file(const char *dir, uint8_t out[static 32])
{
    char path[4096], text[128] = "";
    snprintf(path, sizeof path, "%s/chain_id", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        text[--n] = '\0';
    return proto_hex_decode(text, out, 32);
}

static int s_parse(int argc, char **argv, evil_opts_t *o)
{
    const char *target = NULL, *chain = NULL, *datadir = NULL, *mode = NULL;
    bool spec_set = false;
    memset(o, 0, sizeof *o);
    o->forge_byte = -1;
    o->count = 10000;
    o->seconds = 20;
    o->flush_seconds = 30;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s", EVIL_USAGE);
            return 1; /* main turns it into exit 0 */
        }
        if (i + 1 >= argc)
            return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "%s wants a value", a);
        const char *v = argv[++i];
        char *end = NULL;
        if (strcmp(a, "--target") == 0) {
            target = v;
        } else if (strcmp(a, "--chain") == 0) {
            chain = v;
        } else if (strcmp(a, "--datadir") == 0) {
            datadir = v;
        } else if (strcmp(a, "--mode") == 0) {
            mode = v;
        } else if (strcmp(a, "--count") == 0) {
            unsigned long long c = strtoull(v, &end, 10);
            if (*v == '\0' || *end || c == 0 || c > 10000000ull)
                return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "--count wants 1-10000000, got '%s'",
                                      v);
            o->count = c;
            o->count_set = true;
        } else if (strcmp(a, "--rate") == 0) {
            o->rate = strtod(v, &end);
            if (*v == '\0' || *end || !(o->rate >= 0) || o->rate > 1e7)
                return tool_cli_usage(EVIL_PROG, EVIL_USAGE,
                                      "--rate wants messages per second (0 = unpaced), got '%s'",
                                      v);
        } else if (strcmp(a, "--seconds") == 0) {
            o->seconds = strtod(v, &end);
            if (*v == '\0' || *end || !(o->seconds > 0) || o->seconds > 3600)
                return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "--seconds wants 0-3600, got '%s'", v);
        } else if (strcmp(a, "--spec") == 0) {
            if (strlen(v) != 64 || proto_hex_decode(v, o->spec_id, 32) != 0)
                return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "--spec wants 64 hex digits");
            spec_set = true;
        } else if (strcmp(a, "--receipt") == 0) {
            size_t hl = strlen(v);
            if (hl == 0 || hl % 2 || hl / 2 > sizeof o->receipt ||
                proto_hex_decode(v, o->receipt, hl / 2) != 0)
                return tool_cli_usage(EVIL_PROG, EVIL_USAGE,
                                      "--receipt wants hex of at most %u bytes",
                                      (unsigned)sizeof o->receipt);
            o->receipt_len = hl / 2;
        } else if (strcmp(a, "--forge") == 0) {
            if (strncmp(v, "flip:", 5) == 0) {
                o->forge_byte = strtol(v + 5, &end, 10);
                if (v[5] == '\0' || *end || o->forge_byte < 0 ||
                    o->forge_byte >= (long)sizeof o->receipt)
                    return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "bad --forge '%s'", v);
            } else if (strcmp(v, "claim") == 0) {
                o->forge_claim = true;
            } else if (strcmp(v, "resign") == 0) {
                o->forge_claim = o->forge_resign = true;
            } else if (strcmp(v, "none") != 0) {
                return tool_cli_usage(EVIL_PROG, EVIL_USAGE,
                                      "--forge wants none, flip:K, claim or resign, got '%s'", v);
            }
        } else if (strcmp(a, "--data") == 0) {
            if (strlen(v) != 64 || proto_hex_decode(v, o->data_id, 32) != 0)
                return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "--data wants 64 hex digits");
            o->data_set = true;
        } else if (strcmp(a, "--account-key") == 0) {
            o->account_key = v;
        } else if (strcmp(a, "--nonce") == 0) {
            o->nonce = strtoull(v, &end, 10);
            if (*v == '\0' || *end)
                return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "--nonce wants a number, got '%s'", v);
            o->nonce_set = true;
        } else if (strcmp(a, "--flush-seconds") == 0) {
            o->flush_seconds = strtod(v, &end);
            if (*v == '\0' || *end || !(o->flush_seconds >= 0) || o->flush_seconds > 600)
                return tool_cli_usage(EVIL_PROG, EVIL_USAGE,
                                      "--flush-seconds wants 0-600, got '%s'", v);
        } else {
            return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "unknown option '%s'", a);
        }
    }
    if (!target || !mode)
        return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "%s", "--target and --mode are required");
    if (tool_link_parse_target(target, o->target_id, o->endpoint) != 0)
        return tool_cli_usage(EVIL_PROG, EVIL_USAGE,
                              "bad --target '%s' (want NODEID@tcp://IP:PORT)", target);
    if (chain) {
        if (proto_hex_decode(chain, o->chain_id, 32) != 0)
            return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "--chain wants 64 hex digits, got '%s'",
                                  chain);
    } else if (datadir) {
        if (s_read_chain_file(datadir, o->chain_id) != 0)
            return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "cannot read a chain id from %s/chain_id",
                                  datadir);
    } else {
        return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "%s",
                              "give --chain HEX or --datadir DIR (the target's chain id)");
    }
    int m = tool_cli_find(s_mode_names, sizeof s_mode_names / sizeof s_mode_names[0], mode);
    if (m < 0)
        return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "unknown --mode '%s'", mode);
    o->mode = (evil_mode_t)m;
    if (!spec_set)
        randombytes_buf(o->spec_id, sizeof o->spec_id);
    if (o->mode == EVIL_DONOR) {
        if (!o->receipt_len || !o->account_key || !o->nonce_set)
            return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "%s",
                                  "--mode donor wants --receipt, --account-key and --nonce");
        if (o->forge_claim && !o->data_set)
            return tool_cli_usage(EVIL_PROG, EVIL_USAGE, "%s",
                                  "--forge claim and resign want --data");
        if (o->forge_byte >= (long)o->receipt_len)
            return tool_cli_usage(EVIL_PROG, EVIL_USAGE,
                                  "--forge flip:%ld is past the %zu-byte "
                                  "receipt",
                                  o->forge_byte, o->receipt_len);
    }
    if (o->mode == EVIL_OVERSIZED) {
        if (!o->count_set)
            o->count = 1;
        if (o->count > EVIL_OVERSIZED_MAX)
            o->count = EVIL_OVERSIZED_MAX;
    }
    return 0;
}

static bool s_expired(const evil_t *e)
{
    return zclock_mono() >= e->deadline_ms;
}

/* ---- sending ---- */

/* Sends one frame within the run's deadline. 0 or -1. */
static int s_send(evil_t *e, const uint8_t *data, size_t len)
{
    return tool_link_send(e->link, data, len, e->deadline_ms);
}

static void s_drain(evil_t *e, int wait_ms)
{
    tool_link_drain(e->link, wait_ms);
}

static uint64_t s_rx(const evil_t *e, uint32_t type)
{
    return tool_link_stats(e->link)->rx[type];
}

/* Waits until message I is due at --rate (no wait when unpaced). */
static void s_pace(evil_t *e, uint64_t i)
{
    if (e->o.rate <= 0)
        return;
    int64_t due = e->start_ms + (int64_t)((double)i * 1000.0 / e->o.rate);
    while (zclock_mono() < due && !s_expired(e))
        s_drain(e, (int)(due - zclock_mono()));
}

static int s_ping(evil_t *e, const proto_key_t *key, uint8_t **out, size_t *out_len)
{
    return tool_link_ping(e->link, key, out, out_len);
}

static int s_gossip(evil_t *e, const proto_key_t *key, uint64_t n, uint8_t **out, size_t *out_len)
{
    uint8_t payload[EVIL_FLOOD_PAYLOAD];
    int k = snprintf((char *)payload, sizeof payload, "evil flood %llu ", (unsigned long long)n);
    memset(payload + k, 'x', sizeof payload - (size_t)k);
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_gossip(&w, "", EVIL_FLOOD_KIND, payload, sizeof payload);
    return tool_link_seal_wr(e->link, key, PROTO_MSG_GOSSIP, &w, out, out_len);
}

/* Gossip of kind tx_batch: EVIL_TXFLOOD_TXS transfers from TX_KEY with nonces N*100..,
   each signature with its last byte flipped. */
static int s_tx_batch(evil_t *e, const proto_key_t *tx_key, uint64_t n, uint8_t **out,
                      size_t *out_len)
{
    uint8_t *txs[EVIL_TXFLOOD_TXS] = {0};
    size_t lens[EVIL_TXFLOOD_TXS];
    int rc = -1;
    for (size_t k = 0; k < EVIL_TXFLOOD_TXS; k++) {
        txs[k] = ledger_contract_transfer_tx(tx_key, e->o.chain_id, n * EVIL_TXFLOOD_TXS + k,
                                             e->o.chain_id, 1, &lens[k]);
        if (!txs[k])
            goto done;
        txs[k][lens[k] - 1] ^= 0x01; /* the last byte of the signature */
    }
    proto_wr_t body, w;
    proto_wr_init(&body);
    ledger_tx_batch_write(&body, (const uint8_t *const *)txs, lens, EVIL_TXFLOOD_TXS);
    size_t blen;
    const uint8_t *b = proto_wr_data(&body, &blen);
    proto_wr_init(&w);
    if (b) {
        p2p_msg_write_gossip(&w, "", PROTO_MSG_TX_BATCH, b, blen);
        rc = tool_link_seal_wr(e->link, e->key, PROTO_MSG_GOSSIP, &w, out, out_len);
    } else {
        proto_wr_free(&w);
    }
    proto_wr_free(&body);
done:
    for (size_t k = 0; k < EVIL_TXFLOOD_TXS; k++)
        free(txs[k]);
    return rc;
}

/* Flush barrier (tool_link_barrier), at most --flush-seconds (0: none); sets e->flushed
   to "yes" or "no". */
static void s_barrier(evil_t *e)
{
    if (e->o.flush_seconds <= 0)
        return;
    bool ok = tool_link_barrier(e->link, (int)(e->o.flush_seconds * 1000.0));
    e->flushed = ok ? "yes" : "no";
}

/* ---- modes ---- */

static void s_mode_garbage(evil_t *e)
{
    uint8_t *buf = malloc(EVIL_GARBAGE_MAX);
    for (uint64_t i = 0; buf && i < e->o.count && !s_expired(e); i++) {
        s_pace(e, i);
        size_t len = 1 + randombytes_uniform(EVIL_GARBAGE_MAX);
        randombytes_buf(buf, len);
        /* Never start like an envelope (fixarray 7, array16, array32): a random prefix that
           parses up to a bad version byte is a "wrong version" hang-up, not garbage. */
        if (buf[0] == 0x97 || buf[0] == 0xdc || buf[0] == 0xdd)
            buf[0] = 0xc1; /* never used in msgpack */
        s_send(e, buf, len);
        if ((i & 1023) == 0)
            s_drain(e, 0);
    }
    free(buf);
}

static void s_mode_oversized(evil_t *e)
{
    uint8_t *buf = malloc(EVIL_OVERSIZED_BYTES);
    if (!buf)
        return;
    randombytes_buf(buf, EVIL_OVERSIZED_BYTES);
    for (uint64_t i = 0; i < e->o.count && !s_expired(e); i++) {
        s_send(e, buf, EVIL_OVERSIZED_BYTES);
        s_drain(e, 300);
    }
    free(buf);
    /* Below the ban the link itself should still be served: a PING must be answered. */
    bool pong = false;
    for (int tries = 0; tries < 10 && !pong; tries++) {
        uint8_t *out = NULL;
        size_t out_len = 0;
        uint64_t before = s_rx(e, PROTO_MSG_PONG);
        if (s_ping(e, e->key, &out, &out_len) == 0)
            s_send(e, out, out_len);
        free(out);
        pong = tool_link_wait_type(e->link, PROTO_MSG_PONG, before, 500);
    }
    snprintf(e->note, sizeof e->note, "pong_after=%s", pong ? "yes" : "no");
}

static void s_mode_truncated(evil_t *e)
{
    for (uint64_t i = 0; i < e->o.count && !s_expired(e); i++) {
        s_pace(e, i);
        uint8_t *out = NULL;
        size_t out_len = 0;
        if (s_ping(e, e->key, &out, &out_len) == 0 && out_len > 1)
            s_send(e, out, 1 + randombytes_uniform((uint32_t)out_len - 1));
        free(out);
        if ((i & 1023) == 0)
            s_drain(e, 0);
    }
}

static void s_mode_forged(evil_t *e)
{
    for (uint64_t i = 0; i < e->o.count && !s_expired(e); i++) {
        s_pace(e, i);
        uint8_t *out = NULL;
        size_t out_len = 0;
        int rc;
        switch (i % 3) {
        case 0: /* our own PING, one signature byte flipped */
            rc = s_ping(e, e->key, &out, &out_len);
            if (rc == 0)
                out[out_len - 1 - randombytes_uniform(PROTO_SIG_LEN)] ^= 0x01;
            break;
        case 1: /* a PING signed by another key: not the link's identity */
            rc = s_ping(e, e->other, &out, &out_len);
            break;
        default: /* a "relayed" GOSSIP from another origin with a bad signature */
            rc = s_gossip(e, e->other, i, &out, &out_len);
            if (rc == 0)
                out[out_len - 1 - randombytes_uniform(PROTO_SIG_LEN)] ^= 0x80;
            break;
        }
        if (rc == 0)
            s_send(e, out, out_len);
        free(out);
        if ((i & 1023) == 0)
            s_drain(e, 0);
    }
}

static void s_mode_replay(evil_t *e)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    if (s_ping(e, e->key, &out, &out_len) != 0)
        return;
    for (uint64_t i = 0; i < e->o.count && !s_expired(e); i++) {
        s_pace(e, i);
        s_send(e, out, out_len);
        if ((i & 1023) == 0)
            s_drain(e, 0);
    }
    free(out);
    s_drain(e, 300);
    /* PONGs to the replayed PING: 1 if the target answers a message only once */
    snprintf(e->note, sizeof e->note, "replay_answered=%llu",
             (unsigned long long)s_rx(e, PROTO_MSG_PONG));
    s_barrier(e);
}

static void s_mode_flood(evil_t *e)
{
    for (uint64_t i = 0; i < e->o.count && !s_expired(e); i++) {
        s_pace(e, i);
        uint8_t *out = NULL;
        size_t out_len = 0;
        if (s_gossip(e, e->key, i, &out, &out_len) == 0)
            s_send(e, out, out_len);
        free(out);
        if ((i & 1023) == 0)
            s_drain(e, 0);
    }
    s_barrier(e);
}

static void s_mode_txflood(evil_t *e)
{
    proto_key_t *tx_key = proto_key_generate();
    for (uint64_t i = 0; tx_key && i < e->o.count && !s_expired(e); i++) {
        s_pace(e, i);
        uint8_t *out = NULL;
        size_t out_len = 0;
        if (s_tx_batch(e, tx_key, i, &out, &out_len) == 0)
            s_send(e, out, out_len);
        free(out);
        if ((i & 63) == 0)
            s_drain(e, 0);
    }
    proto_key_destroy(&tx_key);
    s_barrier(e);
}

/* Room posts in `recruitment`, each signed by a fresh account no ledger registered. */
static void s_mode_recruit(evil_t *e)
{
    for (uint64_t i = 0; i < e->o.count && !s_expired(e); i++) {
        s_pace(e, i);
        proto_key_t *account = proto_key_generate();
        proto_recruit_t post;
        memset(&post, 0, sizeof post);
        memcpy(post.spec_id, e->o.spec_id, 32);
        post.time_ms = (uint64_t)zclock_time();
        snprintf(post.note, sizeof post.note, "evil recruitment post %llu", (unsigned long long)i);
        uint8_t *body = NULL, *out = NULL;
        size_t len = 0, out_len = 0;
        if (account && proto_recruit_sign(&post, account) == PROTO_OK &&
            proto_recruit_encode(&post, &body, &len) == PROTO_OK) {
            proto_wr_t w;
            proto_wr_init(&w);
            p2p_msg_write_gossip(&w, "recruitment", 1, body, len);
            if (tool_link_seal_wr(e->link, e->key, PROTO_MSG_GOSSIP, &w, &out, &out_len) == 0)
                s_send(e, out, out_len);
        }
        free(out);
        free(body);
        proto_key_destroy(&account);
        s_drain(e, 0);
    }
    s_barrier(e);
}

/* The receipt of --receipt, altered as --forge says (claim and resign make it out to
   DONOR), into OUT (*LEN, at most PROTO_REPORT_MAX_BYTES). 0 or -1. */
static int s_donor_receipt(const evil_opts_t *o, const uint8_t donor[static 32], uint8_t *out,
                           size_t *len)
{
    memcpy(out, o->receipt, o->receipt_len);
    *len = o->receipt_len;
    if (o->forge_byte >= 0)
        out[o->forge_byte] ^= 0x01;
    if (!o->forge_claim)
        return 0;
    proto_receipt_t r;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], *enc = NULL;
    size_t n = 0;
    int rc = -1;
    crypto_sign_keypair(pk, sk);
    if (proto_receipt_decode(out, *len, &r) != PROTO_OK)
        goto out;
    memcpy(r.donor, donor, 32);
    memcpy(r.data_id, o->data_id, 32);
    memcpy(r.data_commitment, o->data_id, 32);
    if (o->forge_resign && proto_receipt_sign(&r, sk) != PROTO_OK)
        goto out;
    if (proto_receipt_encode(&r, &enc, &n) == PROTO_OK && n <= PROTO_REPORT_MAX_BYTES) {
        memcpy(out, enc, n);
        *len = n;
        rc = 0;
    }
out:
    sodium_memzero(sk, sizeof sk);
    free(enc);
    return rc;
}

/* One DONOR_REGISTER of the (altered) receipt, signed by --account-key, gossiped as a
   tx_batch of one. */
static void s_mode_donor(evil_t *e)
{
    proto_key_t *account = NULL;
    uint8_t receipt[PROTO_REPORT_MAX_BYTES], *tx = NULL, *out = NULL;
    size_t rlen = 0, tlen = 0, out_len = 0;
    int rc = proto_keystore_load(e->o.account_key, getenv("GENIE_PASSPHRASE"), &account, NULL);
    if (rc != PROTO_OK) {
        snprintf(e->note, sizeof e->note, "error=\"account key: %s\"", proto_err_str(rc));
        return;
    }
    if (s_donor_receipt(&e->o, proto_key_public(account), receipt, &rlen) != 0) {
        snprintf(e->note, sizeof e->note, "error=\"cannot decode or re-sign the receipt\"");
        goto out;
    }
    tx =
        ledger_contract_donor_register_tx(account, e->o.chain_id, e->o.nonce, receipt, rlen, &tlen);
    if (!tx || !(e->tx_hex = malloc(2 * tlen + 1))) {
        snprintf(e->note, sizeof e->note, "error=\"cannot build the tx\"");
        goto out;
    }
    proto_hex_encode(tx, tlen, e->tx_hex);
    uint8_t txid[32];
    ledger_tx_id(tx, tlen, txid);
    proto_hex_encode(txid, 32, e->txid_hex);
    proto_wr_t body, w;
    proto_wr_init(&body);
    const uint8_t *const txs[1] = {tx};
    ledger_tx_batch_write(&body, txs, &tlen, 1);
    size_t blen;
    const uint8_t *b = proto_wr_data(&body, &blen);
    proto_wr_init(&w);
    if (b) {
        p2p_msg_write_gossip(&w, "", PROTO_MSG_TX_BATCH, b, blen);
        if (tool_link_seal_wr(e->link, e->key, PROTO_MSG_GOSSIP, &w, &out, &out_len) == 0)
            s_send(e, out, out_len);
    } else {
        proto_wr_free(&w);
    }
    proto_wr_free(&body);
    s_barrier(e);
out:
    free(out);
    free(tx);
    proto_key_destroy(&account);
}

static void s_mode_hello(evil_t *e)
{
    while (!s_expired(e))
        s_drain(e, 100);
}

/* ---- main ---- */

static int s_setup(evil_t *e)
{
    char err[256];
    e->link = tool_link_new(e->o.target_id, e->o.endpoint, err, sizeof err);
    e->other = proto_key_generate();
    if (!e->link || !e->other) {
        tool_cli_fail(EVIL_PROG, "%s", e->link ? "cannot generate a key" : err);
        return -1;
    }
    e->key = tool_link_key(e->link);
    return 0;
}

static void s_summary(const evil_t *e)
{
    const tool_link_stats_t *st = tool_link_stats(e->link);
    char id[65], target[9];
    proto_hex_encode(proto_key_public(e->key), 32, id);
    proto_hex_encode(e->o.target_id, 4, target);
    printf("genie-evil: mode=%s id=%s target=%s sent=%llu bytes=%llu send_failed=%llu "
           "linked=%s rx_hello=%llu rx_pong=%llu rx_peers=%llu rx_ihave=%llu rx_bye=%llu "
           "rx_other=%llu pongs_sent=%llu flushed=%s bye=\"%s\"%s%s seconds=%.2f%s%s%s%s\n",
           s_mode_names[e->o.mode], id, target, (unsigned long long)st->sent,
           (unsigned long long)st->sent_bytes, (unsigned long long)st->send_failed,
           st->linked ? "yes" : "no", (unsigned long long)st->rx[PROTO_MSG_HELLO],
           (unsigned long long)st->rx[PROTO_MSG_PONG], (unsigned long long)st->rx[PROTO_MSG_PEERS],
           (unsigned long long)st->rx[PROTO_MSG_IHAVE], (unsigned long long)st->rx[PROTO_MSG_BYE],
           (unsigned long long)st->rx_other, (unsigned long long)st->pongs_sent,
           e->flushed ? e->flushed : "n/a", st->bye_reason, e->note[0] ? " " : "", e->note,
           (double)(zclock_mono() - e->start_ms) / 1000.0, e->tx_hex ? " txid=" : "",
           e->tx_hex ? e->txid_hex : "", e->tx_hex ? " tx=" : "", e->tx_hex ? e->tx_hex : "");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    evil_t e;
    memset(&e, 0, sizeof e);
    int rc = s_parse(argc, argv, &e.o);
    if (rc != 0)
        return rc == 1 ? 0 : rc; /* 1: --help */
    if (proto_crypto_init() != 0 || !zsys_init()) {
        tool_cli_fail(EVIL_PROG, "%s", "cannot initialise libsodium / ZeroMQ");
        return 1;
    }
    zsys_handler_set(NULL);
    rc = 1;
    if (s_setup(&e) != 0)
        goto out;
    e.start_ms = zclock_mono();
    e.deadline_ms = e.start_ms + (int64_t)(e.o.seconds * 1000.0);

    uint8_t chain[32];
    memcpy(chain, e.o.chain_id, 32);
    if (e.o.mode == EVIL_WRONGCHAIN)
        chain[0] ^= 0xff;
    if (tool_link_hello(e.link, chain, "genie-evil/0.1", e.deadline_ms) != 0) {
        tool_cli_fail(EVIL_PROG, "%s", "cannot send HELLO");
        goto out;
    }
    if (e.o.mode == EVIL_WRONGCHAIN) {
        tool_link_wait_type(e.link, PROTO_MSG_BYE, 0, EVIL_HELLO_WAIT_MS);
        s_drain(&e, 200);
    } else {
        tool_link_wait_type(e.link, PROTO_MSG_HELLO, 0, EVIL_HELLO_WAIT_MS);
        /* the sending window starts now, not before the handshake */
        e.start_ms = zclock_mono();
        e.deadline_ms = e.start_ms + (int64_t)(e.o.seconds * 1000.0);
    }
    switch (e.o.mode) {
    case EVIL_GARBAGE:
        s_mode_garbage(&e);
        break;
    case EVIL_OVERSIZED:
        s_mode_oversized(&e);
        break;
    case EVIL_TRUNCATED:
        s_mode_truncated(&e);
        break;
    case EVIL_FORGED:
        s_mode_forged(&e);
        break;
    case EVIL_REPLAY:
        s_mode_replay(&e);
        break;
    case EVIL_FLOOD:
        s_mode_flood(&e);
        break;
    case EVIL_WRONGCHAIN:
        break;
    case EVIL_HELLO:
        s_mode_hello(&e);
        break;
    case EVIL_TXFLOOD:
        s_mode_txflood(&e);
        break;
    case EVIL_RECRUIT:
        s_mode_recruit(&e);
        break;
    case EVIL_DONOR:
        s_mode_donor(&e);
        break;
    }
    s_drain(&e, 300);
    s_summary(&e);
    rc = 0;
out:
    /* lingers up to EVIL_LINGER_MS; only the flush barrier proves the target got it all */
    tool_link_destroy(&e.link);
    proto_key_destroy(&e.other);
    free(e.tx_hex);
    return rc;
}

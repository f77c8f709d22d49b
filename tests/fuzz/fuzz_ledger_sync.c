/*  fuzz_ledger_sync: libFuzzer harness for the block sync core's inputs
 *  (ledger/ledger_sync.h): STATUS, SYNC_REQ, SYNC_BLOCKS and DECIDED from a peer.
 *
 *  The first input byte chooses the target (modulo 4; the seed corpus uses 0..3) and the
 *  rest is the body:
 *      0 a STATUS broadcast   1 a unicast from any peer (served, or dropped as unasked)
 *      2 a unicast from the peer a request in flight went to (blocks 6..21 asked)
 *      3 a DECIDED gossip (only a copy of an old height may be taken: dropped)
 *  The core's chain is 5 blocks high and serves block bytes for any height it has. For any
 *  body nothing may crash; a function returns PROTO_OK or a negative code; and since no
 *  input can carry a certificate of the fixed authority's key, nothing may ever be applied
 *  (io.apply aborts); ledger_sync_unicast_kind must agree with what on_unicast accepted.
 */
#include "fuzz_util.h"
#include "ledger/ledger_sync.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"

static const uint8_t s_chain[32] = {'f', 'u', 'z', 'z', '-', 's', 'y', 'n', 'c'};
static const uint8_t s_peer[32] = {1, 2, 3};

static bool s_head(void *ctx, uint64_t *height, uint8_t hash[static 32])
{
    (void)ctx;
    *height = 5;
    memset(hash, 0x55, 32);
    return true;
}

static bool s_valset(void *ctx, ledger_valset_t *vs)
{
    (void)ctx;
    static uint8_t key[32];
    static bool have;
    if (!have) { /* a fixed authority nobody outside holds the secret of */
        uint8_t seed[32] = {9};
        proto_key_t *k = proto_key_from_seed(seed);
        if (!k)
            return false;
        memcpy(key, proto_key_public(k), 32);
        proto_key_destroy(&k);
        have = true;
    }
    memset(vs, 0, sizeof *vs);
    return ledger_valset_add(vs, key) == 0;
}

static bool s_read(void *ctx, uint64_t height, uint8_t **block, size_t *len, uint8_t **cert,
                   size_t *cert_len)
{
    (void)ctx;
    if (height == 0 || height > 5)
        return false;
    *block = malloc(8);
    *cert = malloc(4);
    if (!*block || !*cert) {
        free(*block);
        free(*cert);
        return false;
    }
    memset(*block, (int)height, 8);
    memset(*cert, 0xcc, 4);
    *len = 8;
    *cert_len = 4;
    return true;
}

static bool s_identify(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                       uint8_t out[static 32])
{
    (void)ctx;
    (void)height;
    ledger_vote_value_hash(block, len, out);
    return len > 0;
}

static int s_apply(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                   const uint8_t *cert, size_t cert_len)
{
    (void)ctx, (void)height, (void)block, (void)len, (void)cert, (void)cert_len;
    fuzz_require(false, "a block without a valid certificate was applied");
    return -1;
}

static bool s_send(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len)
{
    (void)ctx, (void)peer;
    fuzz_require(ledger_sync_unicast_kind(data, len) != LEDGER_SYNC_MSG_NONE,
                 "the core sent something that is not a ledger unicast");
    return true;
}

static bool s_broadcast(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx, (void)data, (void)len;
    return true;
}

static ledger_sync_t *s_core(void)
{
    ledger_sync_io_t io = {.head = s_head,
                           .valset = s_valset,
                           .read = s_read,
                           .identify = s_identify,
                           .apply = s_apply,
                           .send = s_send,
                           .broadcast = s_broadcast};
    ledger_sync_t *core = ledger_sync_new(s_chain, &io, NULL);
    fuzz_require(core != NULL, "ledger_sync_new");
    return core;
}

static int s_case_status(const uint8_t *body, size_t len)
{
    ledger_sync_t *core = s_core();
    int rc = ledger_sync_on_status(core, s_peer, body, len, 1000);
    ledger_sync_destroy(&core);
    return rc;
}

static int s_case_unicast(const uint8_t *body, size_t len)
{
    ledger_sync_t *core = s_core();
    int rc = ledger_sync_on_unicast(core, s_peer, body, len, 1000);
    fuzz_require(rc != PROTO_OK || ledger_sync_unicast_kind(body, len) != LEDGER_SYNC_MSG_NONE,
                 "on_unicast accepted what unicast_kind calls no ledger message");
    ledger_sync_destroy(&core);
    return rc;
}

static int s_case_asked(const uint8_t *body, size_t len)
{
    ledger_sync_t *core = s_core();
    ledger_sync_peer_seen(core, s_peer, 40, 1000);
    ledger_sync_tick(core, 1000);
    fuzz_require(ledger_sync_busy(core), "no request went out to a peer 35 blocks ahead");
    int rc = ledger_sync_on_unicast(core, s_peer, body, len, 1001);
    ledger_sync_tick(core, 20000); /* the request times out (or was done) */
    ledger_sync_destroy(&core);
    return rc;
}

static int s_case_decided(const uint8_t *body, size_t len)
{
    ledger_sync_t *core = s_core();
    ledger_sync_decided_t what = LEDGER_SYNC_DECIDED_APPLIED;
    int rc = ledger_sync_on_decided(core, s_peer, body, len, 1000, &what);
    fuzz_require(rc == PROTO_OK ? what == LEDGER_SYNC_DECIDED_OLD
                                : what == LEDGER_SYNC_DECIDED_REFUSED,
                 "a DECIDED without a valid certificate was believed");
    fuzz_require(ledger_sync_best_height(core, 1000) == 0, "a forged DECIDED made a sync hint");
    ledger_sync_destroy(&core);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_case_fn *const cases[] = {s_case_status, s_case_unicast, s_case_asked,
                                          s_case_decided};
    static bool init;
    if (!init) {
        fuzz_require(proto_crypto_init() == 0, "proto_crypto_init");
        init = true;
    }
    int rc = fuzz_dispatch(data, size, cases, sizeof cases / sizeof cases[0]);
    fuzz_require(rc <= 0, "a positive result");
    return 0;
}

/*  test_ledger_tx: transaction codec, signatures, ids and stateless checks.
 *  Also a usage example: build a tx with ledger_contract_transfer_tx, decode it with
 *  ledger_tx_decode, check it with ledger_tx_check. */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_tx.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "testutil.h"

static uint8_t s_chain[LEDGER_ID_LEN];
static uint8_t s_other_chain[LEDGER_ID_LEN];

static proto_key_t *s_key(uint8_t seed_byte)
{
    uint8_t seed[PROTO_SEED_LEN];
    memset(seed, seed_byte, sizeof seed);
    return proto_key_from_seed(seed);
}

/* Writes a tx-shaped array with arbitrary fields; N_FIELDS may differ from 6. */
typedef struct {
    uint32_t n_fields;
    size_t chain_len, from_len, sig_len;
    uint64_t nonce;
    uint64_t type;
    bool body_ok;
    bool trailing;
} s_shape_t;

static uint8_t *s_shaped(const s_shape_t *sh, size_t *len)
{
    uint8_t buf[128] = {0};
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, sh->n_fields);
    if (sh->n_fields > 0)
        proto_wr_bin(&w, buf, sh->chain_len);
    if (sh->n_fields > 1)
        proto_wr_bin(&w, buf, sh->from_len);
    if (sh->n_fields > 2)
        proto_wr_uint(&w, sh->nonce);
    if (sh->n_fields > 3)
        proto_wr_uint(&w, sh->type);
    if (sh->n_fields > 4) {
        if (sh->body_ok) {
            proto_wr_array(&w, 2);
            proto_wr_bin(&w, buf, 32);
            proto_wr_uint(&w, 5);
        } else {
            proto_wr_array(&w, 3);
            proto_wr_bin(&w, buf, 32);
            proto_wr_uint(&w, 5);
            proto_wr_nil(&w);
        }
    }
    if (sh->n_fields > 5)
        proto_wr_bin(&w, buf, sh->sig_len);
    for (uint32_t i = 6; i < sh->n_fields; i++)
        proto_wr_nil(&w);
    if (sh->trailing)
        proto_wr_nil(&w);
    uint8_t *out = proto_wr_take(&w, len);
    proto_wr_free(&w);
    return out;
}

static int s_decode_shape(const s_shape_t *sh)
{
    size_t len;
    uint8_t *b = s_shaped(sh, &len);
    ledger_tx_t tx;
    int rc = ledger_tx_decode(b, len, &tx);
    free(b);
    return rc;
}

static void test_round_trip(void)
{
    proto_key_t *alice = s_key(1), *bob = s_key(2);
    size_t len;
    uint8_t *bytes =
        ledger_contract_transfer_tx(alice, s_chain, 7, proto_key_public(bob), 1234567, &len);
    CHECK(bytes != NULL);
    ledger_tx_t tx;
    CHECK_EQ(ledger_tx_decode(bytes, len, &tx), PROTO_OK);
    CHECK(memcmp(tx.chain_id, s_chain, 32) == 0);
    CHECK(memcmp(tx.from, proto_key_public(alice), 32) == 0);
    CHECK_EQ(tx.nonce, 7u);
    CHECK_EQ(tx.type, (uint32_t)LEDGER_TX_TRANSFER);
    CHECK(memcmp(tx.body.transfer.to, proto_key_public(bob), 32) == 0);
    CHECK_EQ(tx.body.transfer.amount, 1234567u);
    CHECK(tx.bytes == bytes && tx.len == len);
    CHECK(ledger_tx_verify_sig(&tx));
    char why[LEDGER_ERR_MAX] = "";
    CHECK_EQ(ledger_tx_check(&tx, s_chain, true, why, sizeof why), LEDGER_OK);

    /* re-encoding gives the same bytes */
    proto_wr_t w;
    proto_wr_init(&w);
    CHECK_EQ(ledger_tx_write(&w, &tx), PROTO_OK);
    size_t n;
    const uint8_t *again = proto_wr_data(&w, &n);
    CHECK(n == len && memcmp(again, bytes, len) == 0);
    proto_wr_free(&w);

    /* the signature covers H("genie/tx/v1", [first five fields]) */
    proto_wr_init(&w);
    proto_wr_array(&w, 5);
    proto_wr_bin(&w, tx.chain_id, 32);
    proto_wr_bin(&w, tx.from, 32);
    proto_wr_uint(&w, tx.nonce);
    proto_wr_uint(&w, tx.type);
    ledger_contract_transfer_encode(&w, &tx.body);
    const uint8_t *five = proto_wr_data(&w, &n);
    uint8_t want[32], got[32];
    proto_hash("genie/tx/v1", five, n, want);
    ledger_tx_sighash(&tx, got);
    CHECK(memcmp(want, got, 32) == 0);
    CHECK(proto_sig_verify(tx.from, want, 32, tx.sig));
    proto_wr_free(&w);

    /* txid = H("genie/txid/v1", bytes), deterministic (Ed25519 is) */
    uint8_t id1[32], id2[32];
    ledger_tx_id(bytes, len, id1);
    proto_hash("genie/txid/v1", bytes, len, id2);
    CHECK(memcmp(id1, id2, 32) == 0);
    size_t len2;
    uint8_t *bytes2 =
        ledger_contract_transfer_tx(alice, s_chain, 7, proto_key_public(bob), 1234567, &len2);
    CHECK(len2 == len && memcmp(bytes2, bytes, len) == 0);
    free(bytes2);

    /* auth vote round trip */
    size_t vlen;
    uint8_t *vote = ledger_contract_auth_vote_tx(alice, s_chain, 0, LEDGER_AUTH_ADD,
                                                 proto_key_public(bob), &vlen);
    CHECK(vote != NULL);
    CHECK_EQ(ledger_tx_decode(vote, vlen, &tx), PROTO_OK);
    CHECK_EQ(tx.type, (uint32_t)LEDGER_TX_AUTH_VOTE);
    CHECK_EQ(tx.body.auth_vote.action, (uint32_t)LEDGER_AUTH_ADD);
    CHECK(memcmp(tx.body.auth_vote.subject, proto_key_public(bob), 32) == 0);
    CHECK_EQ(ledger_tx_check(&tx, s_chain, true, why, sizeof why), LEDGER_OK);
    proto_wr_init(&w);
    CHECK_EQ(ledger_tx_write(&w, &tx), PROTO_OK);
    again = proto_wr_data(&w, &n);
    CHECK(n == vlen && memcmp(again, vote, vlen) == 0);
    proto_wr_free(&w);
    free(vote);

    free(bytes);
    proto_key_destroy(&alice);
    proto_key_destroy(&bob);
}

static void test_decode_limits(void)
{
    proto_key_t *alice = s_key(1);
    size_t len;
    uint8_t *bytes = ledger_contract_transfer_tx(alice, s_chain, 1, s_chain, 10, &len);
    ledger_tx_t tx;

    /* every strict prefix fails, and never reads past its end */
    int prefix_ok = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t *p = malloc(i ? i : 1);
        memcpy(p, bytes, i);
        if (ledger_tx_decode(p, i, &tx) == PROTO_OK)
            prefix_ok++;
        free(p);
    }
    CHECK_EQ(prefix_ok, 0);
    CHECK(tx.bytes == NULL); /* zeroed on error */

    /* trailing byte */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, bytes, len);
    longer[len] = 0xc0;
    CHECK_EQ(ledger_tx_decode(longer, len + 1, &tx), PROTO_E_TRAILING);
    free(longer);

    /* oversized: refused before parsing */
    uint8_t *big = calloc(1, LEDGER_TX_MAX_BYTES + 1);
    CHECK_EQ(ledger_tx_decode(big, LEDGER_TX_MAX_BYTES + 1, &tx), PROTO_E_TOO_BIG);
    char why[LEDGER_ERR_MAX] = "";
    CHECK_EQ(ledger_tx_parse(big, LEDGER_TX_MAX_BYTES + 1, s_chain, true, &tx, why, sizeof why),
             LEDGER_E_TOO_BIG);
    free(big);

    s_shape_t ok = {.n_fields = 6,
                    .chain_len = 32,
                    .from_len = 32,
                    .sig_len = 64,
                    .nonce = 1,
                    .type = LEDGER_TX_TRANSFER,
                    .body_ok = true};
    CHECK_EQ(s_decode_shape(&ok), PROTO_OK);
    s_shape_t sh = ok;
    sh.n_fields = 5;
    CHECK_EQ(s_decode_shape(&sh), PROTO_E_ARITY);
    sh.n_fields = 7;
    CHECK_EQ(s_decode_shape(&sh), PROTO_E_ARITY);
    sh = ok;
    sh.chain_len = 31;
    CHECK_EQ(s_decode_shape(&sh), PROTO_E_INVALID);
    sh.chain_len = 33;
    CHECK_EQ(s_decode_shape(&sh), PROTO_E_TOO_LONG);
    sh = ok;
    sh.from_len = 0;
    CHECK_EQ(s_decode_shape(&sh), PROTO_E_INVALID);
    sh = ok;
    sh.sig_len = 63;
    CHECK_EQ(s_decode_shape(&sh), PROTO_E_INVALID);
    sh.sig_len = 65;
    CHECK_EQ(s_decode_shape(&sh), PROTO_E_TOO_LONG);
    sh = ok;
    sh.type = 99;
    CHECK_EQ(s_decode_shape(&sh), PROTO_E_UNKNOWN_TYPE);
    sh.type = (uint64_t)UINT32_MAX + 1;
    CHECK_EQ(s_decode_shape(&sh), PROTO_E_RANGE);
    sh = ok;
    sh.nonce = UINT64_MAX; /* any u64 nonce decodes */
    CHECK_EQ(s_decode_shape(&sh), PROTO_OK);
    sh = ok;
    sh.body_ok = false;
    CHECK_EQ(s_decode_shape(&sh), PROTO_E_ARITY);
    sh = ok;
    sh.trailing = true;
    CHECK_EQ(s_decode_shape(&sh), PROTO_E_TRAILING);

    /* non-canonical nonce: 1 written as uint16 (0xcd 0x00 0x01) */
    size_t n;
    uint8_t *b = s_shaped(&ok, &n);
    /* layout: 0x96, c4 20 <32>, c4 20 <32>, nonce byte at offset 69 */
    CHECK_EQ(b[69], 0x01);
    uint8_t *nc = malloc(n + 2);
    memcpy(nc, b, 69);
    nc[69] = 0xcd;
    nc[70] = 0x00;
    nc[71] = 0x01;
    memcpy(nc + 72, b + 70, n - 70);
    CHECK_EQ(ledger_tx_decode(nc, n + 2, &tx), PROTO_E_NONCANONICAL);
    CHECK_EQ(ledger_tx_parse(nc, n + 2, s_chain, true, &tx, why, sizeof why), LEDGER_E_MALFORMED);
    CHECK(strcmp(why, proto_err_str(PROTO_E_NONCANONICAL)) == 0);
    free(nc);
    /* a string where the chain id's bin belongs */
    b[1] = 0xd9; /* str8 */
    CHECK_EQ(ledger_tx_decode(b, n, &tx), PROTO_E_TYPE);
    free(b);

    /* negative amount */
    sh = ok;
    uint8_t *neg = s_shaped(&sh, &n);
    /* body: 0x92 c4 20 <32> 05 -> replace 05 by 0xff (negative fixint) */
    CHECK_EQ(neg[n - 67], 0x05);
    neg[n - 67] = 0xff;
    CHECK_EQ(ledger_tx_decode(neg, n, &tx), PROTO_E_TYPE);
    free(neg);

    free(bytes);
    proto_key_destroy(&alice);
}

static void test_rejections(void)
{
    proto_key_t *alice = s_key(1), *mallory = s_key(3);
    char why[LEDGER_ERR_MAX] = "";
    ledger_tx_t tx;
    size_t len;
    uint8_t *bytes = ledger_contract_transfer_tx(alice, s_chain, 0, s_chain, 10, &len);

    /* wrong chain */
    CHECK_EQ(ledger_tx_parse(bytes, len, s_other_chain, true, &tx, why, sizeof why),
             LEDGER_E_WRONG_CHAIN);
    CHECK(why[0] != '\0');

    /* tampered: amount changed after signing */
    uint8_t *t = malloc(len);
    memcpy(t, bytes, len);
    CHECK_EQ(t[len - 67], 10);
    t[len - 67] = 11;
    CHECK_EQ(ledger_tx_parse(t, len, s_chain, true, &tx, why, sizeof why), LEDGER_E_BAD_SIG);
    CHECK_EQ(ledger_tx_parse(t, len, s_chain, false, &tx, why, sizeof why),
             LEDGER_OK); /* sig skipped */
    /* tampered signature */
    memcpy(t, bytes, len);
    t[len - 1] ^= 1;
    CHECK_EQ(ledger_tx_parse(t, len, s_chain, true, &tx, why, sizeof why), LEDGER_E_BAD_SIG);
    free(t);

    /* forged: mallory signs a tx claiming to be from alice */
    ledger_tx_t forged;
    memset(&forged, 0, sizeof forged);
    memcpy(forged.chain_id, s_chain, 32);
    forged.type = LEDGER_TX_TRANSFER;
    forged.body.transfer.amount = 5;
    size_t flen;
    uint8_t *fb = ledger_tx_sign(&forged, mallory, &flen);
    CHECK(fb != NULL);
    memcpy(fb + 2 + 34 + 1, proto_key_public(alice), 32); /* overwrite from */
    CHECK_EQ(ledger_tx_parse(fb, flen, s_chain, true, &tx, why, sizeof why), LEDGER_E_BAD_SIG);
    CHECK(memcmp(tx.from, proto_key_public(alice), 32) == 0);
    free(fb);

    /* stateless rules */
    size_t zlen;
    uint8_t *zero = ledger_contract_transfer_tx(alice, s_chain, 0, s_chain, 0, &zlen);
    CHECK_EQ(ledger_tx_parse(zero, zlen, s_chain, true, &tx, why, sizeof why), LEDGER_E_INVALID);
    free(zero);
    size_t alen;
    uint8_t *act =
        ledger_contract_auth_vote_tx(alice, s_chain, 0, 3, proto_key_public(mallory), &alen);
    CHECK_EQ(ledger_tx_parse(act, alen, s_chain, true, &tx, why, sizeof why), LEDGER_E_INVALID);
    free(act);
    uint8_t not_a_point[32];
    memset(not_a_point, 0xff, sizeof not_a_point);
    act = ledger_contract_auth_vote_tx(alice, s_chain, 0, LEDGER_AUTH_ADD, not_a_point, &alen);
    CHECK_EQ(ledger_tx_parse(act, alen, s_chain, true, &tx, why, sizeof why), LEDGER_E_INVALID);
    free(act);
    /* removing is allowed for any subject bytes at this level (state decides) */
    act = ledger_contract_auth_vote_tx(alice, s_chain, 0, LEDGER_AUTH_REMOVE, not_a_point, &alen);
    CHECK_EQ(ledger_tx_parse(act, alen, s_chain, true, &tx, why, sizeof why), LEDGER_OK);
    free(act);

    /* malformed */
    static const uint8_t junk[] = {0x96, 0xc4, 0x20};
    CHECK_EQ(ledger_tx_parse(junk, sizeof junk, s_chain, true, &tx, why, sizeof why),
             LEDGER_E_MALFORMED);
    CHECK_EQ(ledger_tx_parse(NULL, 0, s_chain, true, &tx, why, sizeof why), LEDGER_E_MALFORMED);

    /* signing an unknown type fails; writing one too */
    ledger_tx_t unk;
    memset(&unk, 0, sizeof unk);
    unk.type = 77;
    size_t ulen;
    CHECK(ledger_tx_sign(&unk, alice, &ulen) == NULL);
    proto_wr_t w;
    proto_wr_init(&w);
    CHECK_EQ(ledger_tx_write(&w, &unk), PROTO_E_UNKNOWN_TYPE);
    proto_wr_free(&w);

    free(bytes);
    proto_key_destroy(&alice);
    proto_key_destroy(&mallory);
}

static void test_registry_and_names(void)
{
    size_t n;
    const ledger_contract_t *all = ledger_contract_all(&n);
    CHECK(n >= 2);
    for (size_t i = 0; i < n; i++) {
        CHECK(all[i].name && all[i].decode_body && all[i].encode_body && all[i].apply);
        CHECK(ledger_contract_find(all[i].type) == &all[i]);
        for (size_t j = 0; j < i; j++)
            CHECK(all[j].type != all[i].type);
    }
    CHECK(ledger_contract_find(0) == NULL);
    CHECK(strcmp(ledger_contract_find(LEDGER_TX_TRANSFER)->name, "transfer") == 0);
    CHECK(strcmp(proto_err_str(LEDGER_E_NONCE_USED), "nonce-used") == 0);
    CHECK(strcmp(proto_err_str(12345), "unknown error") == 0);
    for (int e = LEDGER_E_FIRST - 1; e >= LEDGER_E_NOMEM; e--)
        CHECK(strcmp(proto_err_str(e), "unknown error") != 0);
}

/* tx_batch: written and walked back; malformed batches are refused before any visit. */
typedef struct {
    size_t n;
    const uint8_t *seen[4];
    size_t lens[4];
    size_t stop_after; /* 0: never */
} s_walk_t;

static int s_visit(void *ctx, const uint8_t *tx, size_t len)
{
    s_walk_t *w = ctx;
    if (w->n < 4) {
        w->seen[w->n] = tx;
        w->lens[w->n] = len;
    }
    w->n++;
    return w->stop_after && w->n == w->stop_after ? 42 : 0;
}

static void test_batch(void)
{
    proto_key_t *k = s_key(9);
    size_t l1, l2;
    uint8_t *t1 = ledger_contract_transfer_tx(k, s_chain, 0, s_chain, 1, &l1);
    uint8_t *t2 = ledger_contract_transfer_tx(k, s_chain, 1, s_chain, 2, &l2);
    const uint8_t *txs[2] = {t1, t2};
    size_t lens[2] = {l1, l2};
    proto_wr_t w;
    proto_wr_init(&w);
    ledger_tx_batch_write(&w, txs, lens, 2);
    size_t blen;
    const uint8_t *b = proto_wr_data(&w, &blen);
    s_walk_t walk = {0};
    CHECK_EQ(ledger_tx_batch_each(b, blen, LEDGER_TX_BATCH_MAX, s_visit, &walk), PROTO_OK);
    CHECK_EQ(walk.n, 2u);
    CHECK(walk.lens[0] == l1 && memcmp(walk.seen[0], t1, l1) == 0);
    CHECK(walk.lens[1] == l2 && memcmp(walk.seen[1], t2, l2) == 0);
    /* the visitor stops the walk with its own value */
    walk = (s_walk_t){.stop_after = 1};
    CHECK_EQ(ledger_tx_batch_each(b, blen, LEDGER_TX_BATCH_MAX, s_visit, &walk), 42);
    CHECK_EQ(walk.n, 1u);
    /* over the caller's limit, cut short, trailing bytes: refused, nothing visited */
    walk = (s_walk_t){0};
    CHECK(ledger_tx_batch_each(b, blen, 1, s_visit, &walk) != PROTO_OK);
    CHECK(ledger_tx_batch_each(b, blen - 1, LEDGER_TX_BATCH_MAX, s_visit, &walk) != PROTO_OK);
    uint8_t *longer = malloc(blen + 1);
    memcpy(longer, b, blen);
    longer[blen] = 0;
    CHECK_EQ(ledger_tx_batch_each(longer, blen + 1, LEDGER_TX_BATCH_MAX, s_visit, &walk),
             PROTO_E_TRAILING);
    free(longer);
    static const uint8_t empty[] = {0x90}, not_array[] = {0xc4, 0x01, 0x00},
                         not_bin[] = {0x91, 0x01};
    CHECK_EQ(ledger_tx_batch_each(empty, sizeof empty, LEDGER_TX_BATCH_MAX, s_visit, &walk),
             PROTO_E_ARITY);
    CHECK(ledger_tx_batch_each(not_array, sizeof not_array, 8, s_visit, &walk) != PROTO_OK);
    CHECK(ledger_tx_batch_each(not_bin, sizeof not_bin, 8, s_visit, &walk) != PROTO_OK);
    CHECK_EQ(walk.n, 0u);
    /* an element over the tx size limit */
    proto_wr_t big;
    proto_wr_init(&big);
    uint8_t *huge = calloc(1, LEDGER_TX_MAX_BYTES + 1);
    proto_wr_array(&big, 1);
    proto_wr_bin(&big, huge, LEDGER_TX_MAX_BYTES + 1);
    const uint8_t *bb = proto_wr_data(&big, &blen);
    CHECK_EQ(ledger_tx_batch_each(bb, blen, 8, s_visit, &walk), PROTO_E_TOO_LONG);
    CHECK_EQ(walk.n, 0u);
    free(huge);
    proto_wr_free(&big);
    proto_wr_free(&w);
    free(t1);
    free(t2);
    proto_key_destroy(&k);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    proto_hash("test/chain", (const uint8_t *)"a", 1, s_chain);
    proto_hash("test/chain", (const uint8_t *)"b", 1, s_other_chain);
    test_round_trip();
    test_decode_limits();
    test_rejections();
    test_registry_and_names();
    test_batch();
    return testutil_done("test_ledger_tx");
}

/*  fuzz_sigbatch: libFuzzer harness for proto_sigbatch, which decodes the keys and
 *  signatures of every transaction a node receives (point and scalar decoding, then the
 *  group equation).
 *
 *  Input: [32-byte key][64-byte signature][message]; shorter inputs are zero-padded.
 *  Invariants, for any input (a broken one calls abort()):
 *  - whatever libsodium's crypto_sign_verify_detached accepts, the module's rule alone
 *    (proto_sig_check_rule, no libsodium fast path) accepts: the premise of the fast path;
 *  - proto_sig_check (fast path first) and the rule alone give the same verdict;
 *  - inside a batch with good signatures around it (two copies of the input, so both a
 *    batch that passes and one that falls back to single checks are exercised), the
 *    input's verdict is proto_sig_check's and the good signatures stay good.
 *  The seed corpus (tests/fuzz/gen_corpus.c) holds good signatures, s + L, small-order and
 *  non-canonical keys and R, and a signature only the cofactored rule accepts.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_key.h"
#include "proto/proto_sigbatch.h"
#include "proto/proto_sigbatch_int.h"
#include "tests/fuzz/fuzz_util.h"

#define GOOD 3
#define MSG_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (proto_crypto_init() != 0)
        abort();
    uint8_t head[96] = {0};
    memcpy(head, data, size < sizeof head ? size : sizeof head);
    const uint8_t *msg = size > sizeof head ? data + sizeof head : head; /* any pointer */
    size_t mlen = size > sizeof head ? size - sizeof head : 0;
    if (mlen > MSG_MAX)
        mlen = MSG_MAX;
    const uint8_t *pk = head, *sig = head + 32;

    const bool single = proto_sig_check(pk, msg, mlen, sig);
    const bool rule = proto_sig_check_rule(pk, msg, mlen, sig);
    if (crypto_sign_verify_detached(sig, msg, mlen, pk) == 0)
        fuzz_require(rule, "a signature libsodium accepts is refused by the rule");
    fuzz_require(single == rule, "the fast path and the rule disagree");

    /* good signatures around the input, from fixed seeds */
    uint8_t gpk[GOOD][32], gsig[GOOD][64], gmsg[GOOD][8];
    for (int i = 0; i < GOOD; i++) {
        uint8_t seed[32] = {(uint8_t)(i + 1)}, sk[64];
        crypto_sign_seed_keypair(gpk[i], sk, seed);
        memset(gmsg[i], 'a' + i, sizeof gmsg[i]);
        crypto_sign_detached(gsig[i], NULL, gmsg[i], sizeof gmsg[i], sk);
        sodium_memzero(sk, sizeof sk);
    }
    proto_sigcheck_t items[GOOD + 2];
    for (int i = 0; i < GOOD; i++)
        items[i] = (proto_sigcheck_t){.pk = gpk[i], .sig = gsig[i], .msg = gmsg[i], .len = 8};
    items[GOOD] = items[1];
    items[1] = (proto_sigcheck_t){.pk = pk, .sig = sig, .msg = msg, .len = mlen};
    items[GOOD + 1] = items[1];
    /* without a key table, then through one of 4 slots (cold, then warm: the input's key
       may now come from the table) */
    proto_sigkeys_t *keys = proto_sigkeys_new(4);
    fuzz_require(keys != NULL, "no key table");
    for (int pass = 0; pass < 3; pass++) {
        bool ok[GOOD + 2];
        size_t n = proto_sig_check_batch(pass ? keys : NULL, items, GOOD + 2, ok);
        fuzz_require(ok[1] == single && ok[GOOD + 1] == single, "batch and single verdicts differ");
        fuzz_require(ok[0] && ok[2] && ok[GOOD], "a good signature refused in a batch");
        fuzz_require(n == GOOD + 2u * single, "the count of valid signatures is wrong");
    }
    proto_sigkeys_destroy(&keys);
    return 0;
}

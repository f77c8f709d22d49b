/*  enclave_platform: the platform an enclave runs on, the part a hardware TEE provides.
 *
 *  In SGX terms the platform is the CPU (which measures the enclave and derives its sealing
 *  keys) plus Intel's quoting enclave (which signs quotes with a key Intel certified). Here
 *  it holds:
 *    - an Ed25519 platform key that signs quotes (proto/proto_attest.h),
 *    - a 32-byte platform secret from which sealing keys derive, one per measurement
 *      (seal key = keyed BLAKE2b-256(platform secret; "genie/enclave/seal-key/v1" ||
 *      measurement)), so a different binary cannot unseal another's data,
 *    - the certificate the attestation service issued for the platform key.
 *
 *  The type is opaque with a table of operations inside: enclave_platform_sim_open() is one
 *  constructor (the simulated backend, enclave_platform_sim.c, whose secrets live in a key
 *  file on the runner's disk); a hardware backend (Gramine/SGX, SEV-SNP, TDX) is another
 *  constructor, and callers do not change. Not thread-safe: one owner calls it.
 *
 *  What the simulation cannot give: the platform key and secret are readable by whoever
 *  can read the key file or the runner's memory (root, the runner's own user). See
 *  enclave/README.md, "Attestation".
 */
#ifndef GENIE_ENCLAVE_PLATFORM_H
#define GENIE_ENCLAVE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_attest.h"
#include "proto/proto_err.h"

typedef struct enclave_platform_t enclave_platform_t;

/*  Opens the simulated platform whose state lives in directory DIR (created 0700 if
 *  missing): DIR/platform.key (created on first use with a fresh random platform key and
 *  secret, mode 0600; refused with ENCLAVE_E_KEY_PERMS if group or others may access it,
 *  or another user owns it) and DIR/platform.cert (optional; loaded if present and refused
 *  if it does not decode or names another platform key). Secrets are held in sodium_malloc
 *  memory and wiped on destroy. Returns NULL on failure with the detail in ERR (ERR_CAP
 *  bytes, may be NULL); the caller destroys the platform. */
enclave_platform_t *enclave_platform_sim_open(const char *dir, char *err, size_t err_cap);

/*  Wipes and frees the platform; tolerates NULL; sets *self_p to NULL. */
void enclave_platform_destroy(enclave_platform_t **self_p);

/*  Backend name: "sim" for the simulated platform. Static string. */
const char *enclave_platform_backend(const enclave_platform_t *self);

/*  The platform's Ed25519 public key (the one a certificate names). */
void enclave_platform_pubkey(const enclave_platform_t *self, uint8_t pk[static 32]);

/*  Installs CERT (copied) as the platform's certificate and stores it (DIR/platform.cert,
 *  written to a temporary file, synced and renamed). CERT must name this platform's key
 *  (else ENCLAVE_E_PLATFORM_MISMATCH); its signature and window are not checked here (the
 *  platform does not know the AS key; verifiers do). Returns 0, PROTO_E_IO or
 *  PROTO_E_NOMEM; on error the previous certificate stays. */
int enclave_platform_set_cert(enclave_platform_t *self, const proto_attest_cert_t *cert) PROTO_WUR;

/*  The installed certificate (owned by SELF, valid until the next set_cert or destroy), or
 *  NULL if none. */
const proto_attest_cert_t *enclave_platform_cert(const enclave_platform_t *self);

/*  Makes a quote: MEASUREMENT (what the host measured and started) and BODY (what the
 *  enclave stated) plus the platform's current time, signed by the platform key; the
 *  certificate is carried if one is installed (else has_cert is false and verifiers refuse
 *  the quote as uncertified). Fills *OUT. Returns 0 or PROTO_E_NOMEM. */
int enclave_platform_quote(enclave_platform_t *self, const uint8_t measurement[static 32],
                           const proto_attest_body_t *body, proto_attest_quote_t *out) PROTO_WUR;

/*  Derives the sealing key of the enclave with MEASUREMENT into KEY (the caller wipes it
 *  with sodium_memzero). Same platform and measurement, same key; anything else, another
 *  key. Returns 0 or PROTO_E_CRYPTO. */
int enclave_platform_seal_key(enclave_platform_t *self, const uint8_t measurement[static 32],
                              uint8_t key[static 32]) PROTO_WUR;

/* ---- for backends only ---- */

/*  What a backend provides. IMPL is the backend's state, owned by the platform once
 *  enclave_platform_new succeeds. */
typedef struct {
    const char *name; /* static, e.g. "sim" */
    /*  The platform's Ed25519 public key. */
    void (*pubkey)(void *impl, uint8_t pk[static 32]);
    /*  Completes Q (measurement, body, version and certificate already set): sets
     *  time_ms, platform_pk and sig. 0 or a negative code. */
    int (*sign_quote)(void *impl, proto_attest_quote_t *q);
    /*  Derives the seal key of MEASUREMENT. 0 or a negative code. */
    int (*seal_key)(void *impl, const uint8_t measurement[static 32], uint8_t key[static 32]);
    /*  Stores the encoded certificate (BYTES, LEN) durably. 0 or a negative code. */
    int (*store_cert)(void *impl, const uint8_t *bytes, size_t len);
    /*  Wipes and frees IMPL. */
    void (*destroy)(void *impl);
} enclave_platform_ops_t;

/*  Wraps a backend: OPS (static, borrowed), IMPL (owned on success), CERT (copied, may be
 *  NULL: the certificate the backend loaded). NULL if memory ran out (IMPL untouched). */
enclave_platform_t *enclave_platform_new(const enclave_platform_ops_t *ops, void *impl,
                                         const proto_attest_cert_t *cert);

#endif

/*  enclave_platform: the backend-independent half of the platform interface (see
 *  enclave_platform.h): the installed certificate and the assembly of quotes. */
#include "enclave/enclave_platform.h"

#include <stdlib.h>
#include <string.h>

struct enclave_platform_t {
    const enclave_platform_ops_t *ops;
    void *impl;
    bool has_cert;
    proto_attest_cert_t cert;
};

enclave_platform_t *enclave_platform_new(const enclave_platform_ops_t *ops, void *impl,
                                         const proto_attest_cert_t *cert)
{
    enclave_platform_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->ops = ops;
    self->impl = impl;
    if (cert) {
        self->cert = *cert;
        self->has_cert = true;
    }
    return self;
}

void enclave_platform_destroy(enclave_platform_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    enclave_platform_t *self = *self_p;
    if (self->impl)
        self->ops->destroy(self->impl);
    free(self);
    *self_p = NULL;
}

const char *enclave_platform_backend(const enclave_platform_t *self)
{
    return self->ops->name;
}

void enclave_platform_pubkey(const enclave_platform_t *self, uint8_t pk[static 32])
{
    self->ops->pubkey(self->impl, pk);
}

int enclave_platform_set_cert(enclave_platform_t *self, const proto_attest_cert_t *cert)
{
    uint8_t pk[32];
    self->ops->pubkey(self->impl, pk);
    if (memcmp(pk, cert->platform_pk, 32) != 0)
        return ENCLAVE_E_PLATFORM_MISMATCH;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = proto_attest_cert_encode(cert, &bytes, &len);
    if (rc != PROTO_OK)
        return rc;
    rc = self->ops->store_cert(self->impl, bytes, len);
    free(bytes);
    if (rc != PROTO_OK)
        return rc;
    self->cert = *cert;
    self->has_cert = true;
    return PROTO_OK;
}

const proto_attest_cert_t *enclave_platform_cert(const enclave_platform_t *self)
{
    return self->has_cert ? &self->cert : NULL;
}

int enclave_platform_quote(enclave_platform_t *self, const uint8_t measurement[static 32],
                           const proto_attest_body_t *body, proto_attest_quote_t *out)
{
    memset(out, 0, sizeof *out);
    out->version = PROTO_ATTEST_QUOTE_VERSION;
    memcpy(out->measurement, measurement, 32);
    out->body = *body;
    if (self->has_cert) {
        out->has_cert = true;
        out->cert = self->cert;
    }
    int rc = self->ops->sign_quote(self->impl, out);
    if (rc != PROTO_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

int enclave_platform_seal_key(enclave_platform_t *self, const uint8_t measurement[static 32],
                              uint8_t key[static 32])
{
    return self->ops->seal_key(self->impl, measurement, key);
}

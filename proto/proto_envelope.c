/*  proto_envelope: seal, decode and verify the signed envelope (see proto_envelope.h). */
#include "proto/proto_envelope.h"

#include <string.h>

#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"

#define DOMAIN "genie/envelope/v1"
#define ENVELOPE_FIELDS 7

/* Writes the six signed fields as one msgpack array (the bytes the signature covers). */
static void s_write_signed_part(proto_wr_t *w, const proto_envelope_t *env)
{
    proto_wr_array(w, ENVELOPE_FIELDS - 1);
    proto_wr_uint(w, env->version);
    proto_wr_uint(w, env->type);
    proto_wr_bin(w, env->sender, PROTO_PUBKEY_LEN);
    proto_wr_uint(w, env->seq);
    proto_wr_uint(w, env->time_ms);
    proto_wr_bin(w, env->body, env->body_len);
}

void proto_envelope_signing_hash(const proto_envelope_t *env, uint8_t out[static PROTO_HASH_LEN])
{
    proto_wr_t w;
    size_t len;
    proto_wr_init(&w);
    s_write_signed_part(&w, env);
    const uint8_t *data = proto_wr_data(&w, &len);
    if (data)
        proto_hash(DOMAIN, data, len, out);
    else
        memset(out, 0, PROTO_HASH_LEN); /* allocation failed: a hash nothing signs */
    proto_wr_free(&w);
}

int proto_envelope_seal(const proto_key_t *key, uint32_t type, uint64_t seq, uint64_t time_ms,
                        const uint8_t *body, size_t body_len, uint8_t **out, size_t *out_len)
{
    const proto_msgtype_info_t *info = proto_msgtype_lookup(type);
    if (!info)
        return PROTO_E_UNKNOWN_TYPE;
    if (body_len > info->max_body)
        return PROTO_E_TOO_BIG;
    proto_envelope_t env = {.version = PROTO_VERSION,
                            .type = type,
                            .seq = seq,
                            .time_ms = time_ms,
                            .body = body,
                            .body_len = body_len};
    memcpy(env.sender, proto_key_public(key), PROTO_PUBKEY_LEN);

    uint8_t hash[PROTO_HASH_LEN];
    proto_wr_t w;
    proto_wr_init(&w);
    s_write_signed_part(&w, &env);
    size_t signed_len;
    const uint8_t *signed_bytes = proto_wr_data(&w, &signed_len);
    if (!signed_bytes) {
        proto_wr_free(&w);
        return PROTO_E_NOMEM;
    }
    proto_hash(DOMAIN, signed_bytes, signed_len, hash);
    proto_key_sign(key, hash, sizeof hash, env.sig);

    /* The envelope is the signed array with its header widened to 7 and the signature
       appended: re-encode rather than splice, so the header stays canonical. */
    proto_wr_free(&w);
    proto_wr_init(&w);
    proto_wr_array(&w, ENVELOPE_FIELDS);
    proto_wr_uint(&w, env.version);
    proto_wr_uint(&w, env.type);
    proto_wr_bin(&w, env.sender, PROTO_PUBKEY_LEN);
    proto_wr_uint(&w, env.seq);
    proto_wr_uint(&w, env.time_ms);
    proto_wr_bin(&w, env.body, env.body_len);
    proto_wr_bin(&w, env.sig, PROTO_SIG_LEN);
    *out = proto_wr_take(&w, out_len);
    return *out ? PROTO_OK : PROTO_E_NOMEM;
}

/*  Starts R on BUF and reads the envelope's array head, version (this one) and type
 *  (into *TYPE): what decoding and peeking share. PROTO_OK or the reader's code. */
static int s_head(proto_rd_t *r, const uint8_t *buf, size_t len, uint64_t *type)
{
    uint64_t version;
    if (len > PROTO_ENVELOPE_MAX)
        return PROTO_E_TOO_BIG;
    proto_rd_init(r, buf, len);
    if (proto_rd_array_exact(r, ENVELOPE_FIELDS) || proto_rd_uint(r, UINT8_MAX, &version))
        return r->err;
    if (version != PROTO_VERSION)
        return PROTO_E_VERSION;
    if (proto_rd_uint(r, UINT16_MAX, type))
        return r->err;
    return PROTO_OK;
}

int proto_envelope_decode(const uint8_t *buf, size_t len, proto_envelope_t *env)
{
    uint64_t type, seq, time_ms;
    const uint8_t *body;
    size_t body_len;
    proto_rd_t r;

    memset(env, 0, sizeof *env);
    int rc = s_head(&r, buf, len, &type);
    if (rc != PROTO_OK)
        return rc;
    const proto_msgtype_info_t *info = proto_msgtype_lookup((uint32_t)type);
    if (!info)
        return PROTO_E_UNKNOWN_TYPE;
    if (proto_rd_bin_exact(&r, PROTO_PUBKEY_LEN, env->sender) ||
        proto_rd_uint(&r, UINT64_MAX, &seq) || proto_rd_uint(&r, UINT64_MAX, &time_ms) ||
        proto_rd_bin(&r, info->max_body, &body, &body_len) ||
        proto_rd_bin_exact(&r, PROTO_SIG_LEN, env->sig) || proto_rd_finish(&r)) {
        int err = r.err;
        memset(env, 0, sizeof *env);
        return err;
    }
    env->version = PROTO_VERSION;
    env->type = (uint32_t)type;
    env->seq = seq;
    env->time_ms = time_ms;
    env->body = body;
    env->body_len = body_len;
    return PROTO_OK;
}

int proto_envelope_peek_type(const uint8_t *buf, size_t len, uint32_t *type)
{
    proto_rd_t r;
    uint64_t t;
    int rc = s_head(&r, buf, len, &t);
    if (rc == PROTO_OK)
        *type = (uint32_t)t;
    return rc;
}

int proto_envelope_verify(const proto_envelope_t *env)
{
    uint8_t hash[PROTO_HASH_LEN];
    proto_envelope_signing_hash(env, hash);
    return proto_sig_verify(env->sender, hash, sizeof hash, env->sig) ? PROTO_OK : PROTO_E_BAD_SIG;
}

int proto_envelope_open(const uint8_t *buf, size_t len, proto_envelope_t *env)
{
    int rc = proto_envelope_decode(buf, len, env);
    if (rc)
        return rc;
    return proto_envelope_verify(env);
}

void proto_envelope_id(const uint8_t *buf, size_t len, uint8_t out[static PROTO_HASH_LEN])
{
    proto_hash("genie/msgid/v1", buf, len, out);
}

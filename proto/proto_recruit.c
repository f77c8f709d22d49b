/*  proto_recruit: recruitment posts (see proto_recruit.h for the format). */
#include "proto/proto_recruit.h"

#include <sodium.h>
#include <string.h>

#include "proto/proto_codec.h"

#define RECRUIT_DOMAIN "genie/recruitment/v1"
#define RECRUIT_FIELDS 6

bool proto_recruit_note_ok(const char *note, size_t len)
{
    if (!note || len > PROTO_RECRUIT_NOTE_MAX)
        return false;
    return proto_codec_no_controls(note, len) &&
           proto_codec_utf8_ok(note, len, PROTO_RECRUIT_NOTE_MAX);
}

/* The length of R's note, or SIZE_MAX when it is not NUL-terminated in its buffer. */
static size_t s_note_len(const proto_recruit_t *r)
{
    size_t n = strnlen(r->note, sizeof r->note);
    return n == sizeof r->note ? SIZE_MAX : n;
}

static void s_part(proto_wr_t *w, const proto_recruit_t *r, uint32_t n)
{
    size_t note_len = s_note_len(r);
    proto_wr_array(w, n);
    proto_wr_uint(w, r->version);
    proto_wr_bin(w, r->spec_id, 32);
    proto_wr_bin(w, r->trainer, 32);
    proto_wr_uint(w, r->time_ms);
    proto_wr_str(w, r->note, note_len == SIZE_MAX ? PROTO_RECRUIT_NOTE_MAX : note_len);
}

/* The hash the signature covers; PROTO_E_NOMEM (OUT zeroed) on failure. */
static int s_hash(const proto_recruit_t *r, uint8_t out[static 32])
{
    proto_wr_t w;
    proto_wr_init(&w);
    s_part(&w, r, RECRUIT_FIELDS - 1);
    return proto_codec_hash(&w, RECRUIT_DOMAIN, out);
}

void proto_recruit_signing_hash(const proto_recruit_t *r, uint8_t out[static 32])
{
    (void)s_hash(r, out);
}

static bool s_fields_ok(const proto_recruit_t *r)
{
    size_t n = s_note_len(r);
    return n != SIZE_MAX && proto_recruit_note_ok(r->note, n);
}

int proto_recruit_sign(proto_recruit_t *r, const proto_key_t *key)
{
    if (!s_fields_ok(r))
        return PROTO_E_INVALID;
    r->version = PROTO_RECRUIT_VERSION;
    memcpy(r->trainer, proto_key_public(key), 32);
    uint8_t hash[32];
    if (s_hash(r, hash) != PROTO_OK)
        return PROTO_E_NOMEM;
    proto_key_sign(key, hash, sizeof hash, r->sig);
    return PROTO_OK;
}

void proto_recruit_write(proto_wr_t *w, const proto_recruit_t *r)
{
    s_part(w, r, RECRUIT_FIELDS);
    proto_wr_bin(w, r->sig, 64);
}

static void s_write(proto_wr_t *w, const void *r)
{
    proto_recruit_write(w, r);
}

int proto_recruit_encode(const proto_recruit_t *r, uint8_t **out, size_t *len)
{
    return proto_codec_encode(s_write, r, out, len);
}

int proto_recruit_read(proto_rd_t *rd, proto_recruit_t *out)
{
    uint64_t time_ms;
    memset(out, 0, sizeof *out);
    if (proto_codec_read_head(rd, RECRUIT_FIELDS, PROTO_RECRUIT_VERSION))
        goto err;
    if (proto_rd_bin_exact(rd, 32, out->spec_id) || proto_rd_bin_exact(rd, 32, out->trainer) ||
        proto_rd_uint(rd, UINT64_MAX, &time_ms) ||
        proto_rd_str_copy(rd, out->note, sizeof out->note) || proto_rd_bin_exact(rd, 64, out->sig))
        goto err;
    out->version = PROTO_RECRUIT_VERSION;
    out->time_ms = time_ms;
    if (!proto_codec_no_controls(out->note, strlen(out->note))) {
        rd->err = PROTO_E_INVALID;
        goto err;
    }
    return PROTO_OK;
err:
    return proto_codec_fail(rd, out, sizeof *out);
}

static int s_read(proto_rd_t *rd, void *out)
{
    return proto_recruit_read(rd, out);
}

int proto_recruit_decode(const uint8_t *buf, size_t len, proto_recruit_t *out)
{
    return proto_codec_decode(s_read, buf, len, PROTO_RECRUIT_MAX_BYTES, out, sizeof *out);
}

int proto_recruit_verify(const proto_recruit_t *r)
{
    if (r->version != PROTO_RECRUIT_VERSION)
        return PROTO_E_VERSION;
    if (!s_fields_ok(r))
        return PROTO_E_INVALID;
    uint8_t hash[32];
    if (s_hash(r, hash) != PROTO_OK)
        return PROTO_E_NOMEM;
    return proto_sig_verify(r->trainer, hash, sizeof hash, r->sig) ? PROTO_OK : PROTO_E_BAD_SIG;
}

bool proto_recruit_fresh(const proto_recruit_t *r, uint64_t now_ms)
{
    uint64_t d = r->time_ms > now_ms ? r->time_ms - now_ms : now_ms - r->time_ms;
    return d < PROTO_RECRUIT_FRESH_MS;
}

/*  p2p_record: signed, expiring peer records (see p2p_record.h).
 *
 *  The struct is the source of truth: signing and verifying re-encode the six signed
 *  fields from the struct with the canonical writer, so a record that was decoded,
 *  stored and re-sent verifies exactly when the original did. The reader checks the
 *  syntax of every endpoint and room name and rejects duplicate rooms, but leaves the
 *  signature to the caller (the core verifies once, after cheap checks).
 */
#include "p2p/p2p_record.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "proto/proto_hex.h"

#define DOMAIN "genie/peer-record/v1"
#define RECORD_FIELDS 7
#define TCP_PREFIX "tcp://"
#define TCP_PREFIX_LEN (sizeof TCP_PREFIX - 1)
/* Longest hostname or address between "tcp://" and ":PORT". */
#define HOST_MAX (P2P_ENDPOINT_MAX - 16)
/* Longest IPv6 literal between the brackets (INET6_ADDRSTRLEN - 1). */
#define IPV6_TEXT_MAX 45

/* ---- syntax ---- */

static bool s_room_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool p2p_room_name_ok(const char *name)
{
    if (!name)
        return false;
    size_t len = strnlen(name, P2P_ROOM_NAME_MAX);
    if (len == 0 || len >= P2P_ROOM_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!s_room_char(name[i]))
            return false;
    return true;
}

static bool s_host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
}

/* HOST[0..len) is a hostname or IPv4 literal (1..HOST_MAX of [A-Za-z0-9.-]) or a
   bracketed IPv6 literal that inet_pton accepts. */
static bool s_host_ok(const char *host, size_t len)
{
    if (len == 0 || len > HOST_MAX)
        return false;
    if (host[0] == '[') {
        if (len < 3 || host[len - 1] != ']' || len - 2 > IPV6_TEXT_MAX)
            return false;
        char text[IPV6_TEXT_MAX + 1];
        memcpy(text, host + 1, len - 2);
        text[len - 2] = '\0';
        struct in6_addr addr;
        return inet_pton(AF_INET6, text, &addr) == 1;
    }
    for (size_t i = 0; i < len; i++)
        if (!s_host_char(host[i]))
            return false;
    return true;
}

/* PORT[0..len) is 1..65535 in decimal without leading zeros. */
static bool s_port_ok(const char *port, size_t len)
{
    if (len == 0 || len > 5 || port[0] == '0')
        return false;
    unsigned long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (port[i] < '0' || port[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(port[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

int p2p_address_parse(const char *text, uint8_t id[static 32],
                      char endpoint[static P2P_ENDPOINT_MAX])
{
    const char *at = text ? strchr(text, '@') : NULL;
    char hex[2 * 32 + 1];
    if (!at)
        return P2P_E_ADDR_FORM;
    if (at - text != 64)
        return P2P_E_ADDR_ID;
    memcpy(hex, text, 64);
    hex[64] = '\0';
    if (proto_hex_decode(hex, id, 32) != 0)
        return P2P_E_ADDR_ID;
    if (!p2p_endpoint_ok(at + 1))
        return P2P_E_ADDR_ENDPOINT;
    snprintf(endpoint, P2P_ENDPOINT_MAX, "%s", at + 1);
    return 0;
}

bool p2p_endpoint_ok(const char *ep)
{
    if (!ep)
        return false;
    size_t len = strnlen(ep, P2P_ENDPOINT_MAX);
    if (len >= P2P_ENDPOINT_MAX || len <= TCP_PREFIX_LEN ||
        memcmp(ep, TCP_PREFIX, TCP_PREFIX_LEN) != 0)
        return false;
    const char *host = ep + TCP_PREFIX_LEN;
    const char *colon = strrchr(host, ':'); /* the port follows the last colon */
    if (!colon)
        return false;
    return s_host_ok(host, (size_t)(colon - host)) &&
           s_port_ok(colon + 1, len - (size_t)(colon + 1 - ep));
}

/* ---- signing ---- */

static size_t s_n_endpoints(const p2p_record_t *rec)
{
    return rec->n_endpoints <= P2P_REC_ENDPOINTS ? rec->n_endpoints : P2P_REC_ENDPOINTS;
}

static size_t s_n_rooms(const p2p_record_t *rec)
{
    return rec->n_rooms <= P2P_REC_ROOMS ? rec->n_rooms : P2P_REC_ROOMS;
}

/* Writes the first six fields (everything but the signature) after an array header of
   N_FIELDS. Counts are clamped to the arrays so a corrupt struct cannot be over-read. */
static void s_write_fields(proto_wr_t *w, const p2p_record_t *rec, uint32_t n_fields)
{
    size_t n_ep = s_n_endpoints(rec), n_rooms = s_n_rooms(rec);
    proto_wr_array(w, n_fields);
    proto_wr_bin(w, rec->id, P2P_ID_LEN);
    proto_wr_array(w, (uint32_t)n_ep);
    for (size_t i = 0; i < n_ep; i++)
        proto_wr_str(w, rec->endpoints[i], strnlen(rec->endpoints[i], P2P_ENDPOINT_MAX));
    proto_wr_uint(w, rec->roles);
    proto_wr_array(w, (uint32_t)n_rooms);
    for (size_t i = 0; i < n_rooms; i++)
        proto_wr_str(w, rec->rooms[i], strnlen(rec->rooms[i], P2P_ROOM_NAME_MAX));
    proto_wr_uint(w, rec->seq);
    proto_wr_uint(w, rec->expiry_ms);
}

/* The hash the signature covers. False only if the writer ran out of memory. */
static bool s_signing_hash(const p2p_record_t *rec, uint8_t out[static PROTO_HASH_LEN])
{
    proto_wr_t w;
    size_t len;
    proto_wr_init(&w);
    s_write_fields(&w, rec, RECORD_FIELDS - 1);
    const uint8_t *data = proto_wr_data(&w, &len);
    if (data)
        proto_hash(DOMAIN, data, len, out);
    proto_wr_free(&w);
    return data != NULL;
}

void p2p_record_sign(p2p_record_t *rec, const proto_key_t *key)
{
    uint8_t hash[PROTO_HASH_LEN];
    memcpy(rec->id, proto_key_public(key), P2P_ID_LEN);
    if (s_signing_hash(rec, hash))
        proto_key_sign(key, hash, sizeof hash, rec->sig);
    else
        memset(rec->sig, 0, sizeof rec->sig); /* out of memory: a signature that fails */
}

bool p2p_record_verify(const p2p_record_t *rec)
{
    uint8_t hash[PROTO_HASH_LEN];
    if (rec->n_endpoints > P2P_REC_ENDPOINTS || rec->n_rooms > P2P_REC_ROOMS)
        return false;
    if (!s_signing_hash(rec, hash))
        return false;
    return proto_sig_verify(rec->id, hash, sizeof hash, rec->sig);
}

/* ---- wire form ---- */

void p2p_record_write(proto_wr_t *w, const p2p_record_t *rec)
{
    assert(rec->n_endpoints <= P2P_REC_ENDPOINTS && rec->n_rooms <= P2P_REC_ROOMS);
    s_write_fields(w, rec, RECORD_FIELDS);
    proto_wr_bin(w, rec->sig, PROTO_SIG_LEN);
}

/* Records a semantic error in R (sticky, like the reader's own) and returns it. */
static int s_invalid(proto_rd_t *r)
{
    if (r->err == PROTO_OK)
        r->err = PROTO_E_INVALID;
    return r->err;
}

int p2p_record_read(proto_rd_t *r, p2p_record_t *rec)
{
    uint32_t n_ep, n_rooms;
    uint64_t roles;

    memset(rec, 0, sizeof *rec);
    if (proto_rd_array_exact(r, RECORD_FIELDS) || proto_rd_bin_exact(r, P2P_ID_LEN, rec->id) ||
        proto_rd_array_max(r, P2P_REC_ENDPOINTS, &n_ep))
        goto err;
    for (uint32_t i = 0; i < n_ep; i++) {
        if (proto_rd_str_copy(r, rec->endpoints[i], P2P_ENDPOINT_MAX))
            goto err;
        if (!p2p_endpoint_ok(rec->endpoints[i])) {
            s_invalid(r);
            goto err;
        }
    }
    rec->n_endpoints = (uint8_t)n_ep;
    if (proto_rd_uint(r, UINT32_MAX, &roles) || proto_rd_array_max(r, P2P_REC_ROOMS, &n_rooms))
        goto err;
    rec->roles = (uint32_t)roles;
    for (uint32_t i = 0; i < n_rooms; i++) {
        if (proto_rd_str_copy(r, rec->rooms[i], P2P_ROOM_NAME_MAX))
            goto err;
        if (!p2p_room_name_ok(rec->rooms[i])) {
            s_invalid(r);
            goto err;
        }
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(rec->rooms[i], rec->rooms[j]) == 0) {
                s_invalid(r);
                goto err;
            }
        }
    }
    rec->n_rooms = (uint8_t)n_rooms;
    if (proto_rd_uint(r, UINT64_MAX, &rec->seq) || proto_rd_uint(r, UINT64_MAX, &rec->expiry_ms) ||
        proto_rd_bin_exact(r, PROTO_SIG_LEN, rec->sig))
        goto err;
    return PROTO_OK;
err:
    memset(rec, 0, sizeof *rec);
    return r->err != PROTO_OK ? r->err : PROTO_E_INVALID;
}

bool p2p_record_has_room(const p2p_record_t *rec, const char *name)
{
    size_t n = s_n_rooms(rec);
    for (size_t i = 0; i < n; i++)
        if (strncmp(rec->rooms[i], name, P2P_ROOM_NAME_MAX) == 0)
            return true;
    return false;
}

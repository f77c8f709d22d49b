/*  proto_bytes: big-endian integers in byte buffers, for database keys and values (LevelDB
 *  keys sort bytewise, so heights stored big-endian sort by height) and length prefixes.
 *  One copy for the whole tree.
 */
#ifndef GENIE_PROTO_BYTES_H
#define GENIE_PROTO_BYTES_H

#include <stdint.h>

/*  Writes V into P[0..8) most significant byte first. */
static inline void proto_be64_put(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/*  Reads P[0..8) as a big-endian integer. */
static inline uint64_t proto_be64_get(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/*  Writes V into P[0..4) most significant byte first. */
static inline void proto_be32_put(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/*  Reads P[0..4) as a big-endian integer. */
static inline uint32_t proto_be32_get(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif

/*  proto_hex: lowercase hex for ids and keys shown to people. */
#ifndef GENIE_PROTO_HEX_H
#define GENIE_PROTO_HEX_H

#include <stddef.h>
#include <stdint.h>
#include "proto/proto_err.h"

/*  Writes 2*N hex digits and a NUL to OUT (which holds 2*N+1 bytes). */
void proto_hex_encode(const uint8_t *in, size_t n, char *out);
/*  Decodes exactly 2*N hex digits from TEXT (NUL-terminated) into OUT. 0 or -1. */
int proto_hex_decode(const char *text, uint8_t *out, size_t n) PROTO_WUR;

#endif

/* test_tls_build.h - a tiny builder of TLS byte strings for the TLS unit tests: bytes, nested
 * length-prefixed blocks (patched on close), and hand-built hellos wrapped in records. Each
 * length field's position is remembered so tests can corrupt them one by one. */
#ifndef TA_TLS_BUILD_H
#define TA_TLS_BUILD_H

#include <stdint.h>
#include <string.h>

#define BLD_MAX 70000
#define BLD_DEPTH 16
#define BLD_LENS 256

struct bld {
    uint8_t b[BLD_MAX];
    size_t n;
    size_t open_at[BLD_DEPTH];
    int open_w[BLD_DEPTH];
    int depth;
    size_t len_at[BLD_LENS];   /* every length field written: offset and width */
    int len_w[BLD_LENS];
    int nlens;
};

static inline void b_u8(struct bld *b, unsigned v) { b->b[b->n++] = (uint8_t)v; }
static inline void b_u16(struct bld *b, unsigned v) { b_u8(b, v >> 8); b_u8(b, v & 0xFF); }
static inline void b_u24(struct bld *b, unsigned v) { b_u8(b, v >> 16); b_u16(b, v & 0xFFFF); }
static inline void b_bytes(struct bld *b, const void *p, size_t n) { memcpy(b->b + b->n, p, n); b->n += n; }
static inline void b_fill(struct bld *b, unsigned v, size_t n) { memset(b->b + b->n, (int)v, n); b->n += n; }

/* Open a block with a w-byte length prefix; b_close patches it. */
static void b_open(struct bld *b, int w)
{
    b->open_at[b->depth] = b->n;
    b->open_w[b->depth++] = w;
    if (b->nlens < BLD_LENS) {
        b->len_at[b->nlens] = b->n;
        b->len_w[b->nlens++] = w;
    }
    b_fill(b, 0, (size_t)w);
}

static void b_close(struct bld *b)
{
    size_t at = b->open_at[--b->depth];
    int w = b->open_w[b->depth];
    size_t len = b->n - at - (size_t)w;
    for (int i = w - 1; i >= 0; i--, len >>= 8)
        b->b[at + (size_t)i] = (uint8_t)(len & 0xFF);
}

/* Wrap the handshake bytes msg[0..len) in records of content type t, at most frag bytes each. */
static size_t b_records(uint8_t *out, unsigned t, const uint8_t *msg, size_t len, size_t frag)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += frag) {
        size_t n = len - i < frag ? len - i : frag;
        out[o++] = (uint8_t)t;
        out[o++] = 3;
        out[o++] = 1;
        out[o++] = (uint8_t)(n >> 8);
        out[o++] = (uint8_t)n;
        memcpy(out + o, msg + i, n);
        o += n;
    }
    return o;
}

/* A ClientHello message (handshake header included) offering TLS 1.3 and 1.2. */
static void b_client_hello(struct bld *b, uint8_t sid_byte, unsigned key_group)
{
    static const char alpn1[] = "h2", alpn2[] = "http/1.1", host[] = "example.com";
    b_u8(b, 1);
    b_open(b, 3);
    b_u16(b, 0x0303);
    b_fill(b, 0xAB, 32);
    b_open(b, 1); b_fill(b, sid_byte, 32); b_close(b);
    b_open(b, 2); b_u16(b, 0x1A1A); b_u16(b, 0x1301); b_u16(b, 0xC02F); b_u16(b, 0x00FF);
    b_u16(b, 0x5600); b_close(b);
    b_open(b, 1); b_u8(b, 0); b_close(b);
    b_open(b, 2);
    b_u16(b, 0); b_open(b, 2); b_open(b, 2); b_u8(b, 0); b_open(b, 2);
    b_bytes(b, host, strlen(host)); b_close(b); b_close(b); b_close(b);
    b_u16(b, 10); b_open(b, 2); b_open(b, 2); b_u16(b, 0x0A0A); b_u16(b, 0x001D); b_u16(b, 0x0017);
    b_close(b); b_close(b);
    b_u16(b, 11); b_open(b, 2); b_open(b, 1); b_u8(b, 0); b_close(b); b_close(b);
    b_u16(b, 13); b_open(b, 2); b_open(b, 2); b_u16(b, 0x0403); b_u16(b, 0x0804); b_close(b); b_close(b);
    b_u16(b, 16); b_open(b, 2); b_open(b, 2); b_open(b, 1); b_bytes(b, alpn1, 2); b_close(b);
    b_open(b, 1); b_bytes(b, alpn2, 8); b_close(b); b_close(b); b_close(b);
    b_u16(b, 22); b_open(b, 2); b_close(b);
    b_u16(b, 23); b_open(b, 2); b_close(b);
    b_u16(b, 35); b_open(b, 2); b_close(b);
    b_u16(b, 43); b_open(b, 2); b_open(b, 1); b_u16(b, 0x0A0A); b_u16(b, 0x0304); b_u16(b, 0x0303);
    b_close(b); b_close(b);
    b_u16(b, 51); b_open(b, 2); b_open(b, 2); b_u16(b, key_group); b_open(b, 2); b_fill(b, 0x55, 32);
    b_close(b); b_close(b); b_close(b);
    b_u16(b, 0xFF01); b_open(b, 2); b_open(b, 1); b_close(b); b_close(b);
    b_close(b);
    b_close(b);
}

/* A ServerHello message. version13: supported_versions 0x0304 + key_share; hrr: special random. */
static void b_server_hello(struct bld *b, uint8_t sid_byte, int version13, int hrr)
{
    static const uint8_t hrr_random[32] = {
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C };
    b_u8(b, 2);
    b_open(b, 3);
    b_u16(b, 0x0303);
    if (hrr)
        b_bytes(b, hrr_random, 32);
    else
        b_fill(b, 0xCD, 32);
    b_open(b, 1); b_fill(b, sid_byte, 32); b_close(b);
    b_u16(b, version13 ? 0x1301 : 0xC02F);
    b_u8(b, 0);
    b_open(b, 2);
    if (version13) {
        b_u16(b, 43); b_open(b, 2); b_u16(b, 0x0304); b_close(b);
        b_u16(b, 51); b_open(b, 2); b_u16(b, 0x0017);
        if (!hrr) { b_open(b, 2); b_fill(b, 0x66, 65); b_close(b); }
        b_close(b);
    } else {
        b_u16(b, 0xFF01); b_open(b, 2); b_open(b, 1); b_close(b); b_close(b);
        b_u16(b, 23); b_open(b, 2); b_close(b);
        b_u16(b, 16); b_open(b, 2); b_open(b, 2); b_open(b, 1); b_bytes(b, "h2", 2); b_close(b);
        b_close(b); b_close(b);
    }
    b_close(b);
    b_close(b);
}

#endif

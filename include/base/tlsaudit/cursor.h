/* cursor.h - bounds-checked reading of wire bytes: every packet byte goes through these. */
#ifndef TLSAUDIT_CURSOR_H
#define TLSAUDIT_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A read position p inside [p, end). Readers return false, and leave the cursor unchanged,
 * when fewer bytes remain than asked for. */
struct ta_cur {
    const uint8_t *p;
    const uint8_t *end;
};

/* A zero-copy view of bytes inside a buffer the caller owns. */
struct ta_slice {
    const uint8_t *ptr;
    size_t len;
};

static inline struct ta_cur ta_cur_make(const uint8_t *p, size_t len)
{
    struct ta_cur c = { p, p + len };
    return c;
}

static inline size_t ta_cur_left(const struct ta_cur *c) { return (size_t)(c->end - c->p); }
static inline bool ta_cur_empty(const struct ta_cur *c) { return c->p >= c->end; }

static inline bool ta_cur_skip(struct ta_cur *c, size_t n)
{
    if (n > ta_cur_left(c))
        return false;
    c->p += n;
    return true;
}

static inline bool ta_cur_u8(struct ta_cur *c, uint8_t *v)
{
    if (ta_cur_left(c) < 1)
        return false;
    *v = c->p[0];
    c->p += 1;
    return true;
}

static inline bool ta_cur_u16(struct ta_cur *c, uint16_t *v)
{
    if (ta_cur_left(c) < 2)
        return false;
    *v = (uint16_t)((c->p[0] << 8) | c->p[1]);
    c->p += 2;
    return true;
}

static inline bool ta_cur_u24(struct ta_cur *c, uint32_t *v)
{
    if (ta_cur_left(c) < 3)
        return false;
    *v = ((uint32_t)c->p[0] << 16) | ((uint32_t)c->p[1] << 8) | c->p[2];
    c->p += 3;
    return true;
}

static inline bool ta_cur_u32(struct ta_cur *c, uint32_t *v)
{
    if (ta_cur_left(c) < 4)
        return false;
    *v = ((uint32_t)c->p[0] << 24) | ((uint32_t)c->p[1] << 16) | ((uint32_t)c->p[2] << 8) | c->p[3];
    c->p += 4;
    return true;
}

/* Peek without moving: the byte at offset off, if present. */
static inline bool ta_cur_peek8(const struct ta_cur *c, size_t off, uint8_t *v)
{
    if (off >= ta_cur_left(c))
        return false;
    *v = c->p[off];
    return true;
}

/* Take n bytes as a slice. */
static inline bool ta_cur_slice(struct ta_cur *c, size_t n, struct ta_slice *s)
{
    if (n > ta_cur_left(c))
        return false;
    s->ptr = c->p;
    s->len = n;
    c->p += n;
    return true;
}

/* Take n bytes as a sub-cursor (for a block whose length was read separately). */
static inline bool ta_cur_sub(struct ta_cur *c, size_t n, struct ta_cur *sub)
{
    if (n > ta_cur_left(c))
        return false;
    sub->p = c->p;
    sub->end = c->p + n;
    c->p += n;
    return true;
}

/* Length-prefixed vectors (RFC 8446 section 3.4): a 1-, 2- or 3-byte length, then that many bytes.
 * The caller must consume the sub-cursor exactly (check ta_cur_empty) for a strict parse. */
static inline bool ta_cur_vec8(struct ta_cur *c, struct ta_cur *sub)
{
    struct ta_cur save = *c;
    uint8_t n;
    if (!ta_cur_u8(c, &n) || !ta_cur_sub(c, n, sub)) {
        *c = save;
        return false;
    }
    return true;
}

static inline bool ta_cur_vec16(struct ta_cur *c, struct ta_cur *sub)
{
    struct ta_cur save = *c;
    uint16_t n;
    if (!ta_cur_u16(c, &n) || !ta_cur_sub(c, n, sub)) {
        *c = save;
        return false;
    }
    return true;
}

static inline bool ta_cur_vec24(struct ta_cur *c, struct ta_cur *sub)
{
    struct ta_cur save = *c;
    uint32_t n;
    if (!ta_cur_u24(c, &n) || !ta_cur_sub(c, n, sub)) {
        *c = save;
        return false;
    }
    return true;
}

#endif

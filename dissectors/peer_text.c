/* peer_text.c - a peer's text copied for the record (peer_text.h). */
#include "peer_text.h"
#include "tlsaudit/cursor.h"

/* See peer_text.h. Through the cursor: the copy never reads past len. */
bool ta__text_copy(char *dst, size_t cap, const uint8_t *src, size_t len)
{
    struct ta_cur c = ta_cur_make(src, len);
    size_t i = 0;
    uint8_t b;
    bool nul = false;

    if (!cap)
        return false;
    while (i + 1 < cap && ta_cur_u8(&c, &b)) {
        nul |= b == 0;
        dst[i++] = b ? (char)b : '?';
    }
    dst[i] = '\0';
    return nul;
}

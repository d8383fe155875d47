/* peer_text.h - a peer's text (a banner, an EHLO name, an SNI, ALPN, a certificate's name) copied
 * for the record: capped, NUL-terminated, never cut short at a NUL inside it. Shared by the text
 * protocols and TLS; private to the dissectors. */
#ifndef TLSAUDIT_PEER_TEXT_H
#define TLSAUDIT_PEER_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copy at most cap-1 bytes of src (len bytes) into dst, NUL-terminated. A NUL byte becomes '?', so
 * the text is neither cut short silently nor ("outlook.office365.com\0.evil.example") taken for a
 * name it is not; other bytes are kept as sent (escaped on output). Returns whether a NUL was
 * replaced. */
bool ta__text_copy(char *dst, size_t cap, const uint8_t *src, size_t len);

#endif

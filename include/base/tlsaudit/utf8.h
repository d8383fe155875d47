/* utf8.h - strict UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF) and the
 * code points a terminal acts on: the one rule for every string tlsaudit prints, the report
 * writers' (output.c) and the error and log lines' (util.c) alike. */
#ifndef TLSAUDIT_UTF8_H
#define TLSAUDIT_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the valid UTF-8 sequence at s and its code point, or 0 when s[0] does not
 * start one. s is NUL-terminated, so reading continuation bytes stops at the NUL. */
size_t ta_utf8_seq(const unsigned char *s, uint32_t *cp);
/* Code points a terminal may act on: C0, DEL, C1, bidi embeddings/overrides/isolates. */
bool ta_utf8_term_control(uint32_t cp);
/* Length of the longest prefix of the NUL-terminated p that is valid UTF-8 without a terminal
 * control: what may be printed as it is. */
size_t ta_utf8_plain(const unsigned char *p);

#endif

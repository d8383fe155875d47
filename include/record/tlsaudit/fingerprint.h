/* fingerprint.h - JA3, JA3S and JA4 client/server fingerprints (hashes through libcrypto). */
#ifndef TLSAUDIT_FINGERPRINT_H
#define TLSAUDIT_FINGERPRINT_H

#include <stddef.h>
#include "tlsaudit/handshake.h"

#define TA_JA3_HEX 33   /* 32 hex digits + NUL */
#define TA_JA4_LEN 40   /* "t13d1516h2_8daaf6152771_b186095e22b6" + NUL */

/* JA3 (Salesforce definition; GREASE excluded): md5 hex of
 * "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats". Returns 0, or -1
 * when no ClientHello is present (out becomes ""). The full string goes to str if not NULL. */
int ta_ja3(const struct ta_client_hello *ch, char out[TA_JA3_HEX], char *str, size_t strlen_);
/* JA3S: md5 of "SSLVersion,Cipher,Extensions" of the ServerHello. */
int ta_ja3s(const struct ta_server_hello *sh, char out[TA_JA3_HEX], char *str, size_t strlen_);
/* JA4 (FoxIO, BSD-3-Clause part only): "t13d1516h2_8daaf6152771_b186095e22b6". transport is
 * 't' for TCP, 'q' for QUIC. */
int ta_ja4(const struct ta_client_hello *ch, char transport, char out[TA_JA4_LEN]);
/* JA3 and JA4 of the record's ClientHello and JA3S of its ServerHello ("" for a hello that is
 * absent): copied from hs->fp when it is ready, computed otherwise. */
void ta_hs_fingerprints(const struct ta_hs *hs, char ja3[TA_JA3_HEX], char ja3s[TA_JA3_HEX],
                        char ja4[TA_JA4_LEN]);
/* Fill hs->fp (ta_hs_fingerprints) and set hs->fp.ready. Called once per record by the engine
 * thread that settles it, so the one store writer does not hash. */
void ta_hs_fingerprint(struct ta_hs *hs);

#endif

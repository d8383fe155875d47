/* names.h - labels for wire values: TLS versions, cipher suites, alerts, groups. One table each. */
#ifndef TLSAUDIT_NAMES_H
#define TLSAUDIT_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "SSL 2.0", "SSL 3.0", "TLS 1.0" .. "TLS 1.3", "TLS 1.3 draft 28", "TLS 1.3 (Facebook 0xFB1A)",
 * "GREASE"; unknown values as "0x1234". Writes into buf (>= 32 bytes) and returns it; 0 gives "". */
const char *ta_version_label(uint16_t v, char *buf, size_t buflen);

/* IANA name of a cipher suite ("TLS_RSA_WITH_AES_128_CBC_SHA"), or NULL when unassigned. */
const char *ta_cipher_name(uint16_t id);
/* SSLv2 cipher spec name ("SSL_CK_RC4_128_WITH_MD5"), or NULL. */
const char *ta_cipher_v2_name(uint32_t spec);
/* True for suites a compliance report should flag: NULL, EXPORT, RC4, DES/3DES, anonymous. */
bool ta_cipher_weak(uint16_t id);
/* The same for a suite negotiated under version: also true for a CBC suite with a SHA-1 MAC
 * under SSL 3.0 or TLS 1.0 (implicit IVs: BEAST; MAC-then-encrypt: Lucky 13, POODLE on SSL 3.0).
 * version 0 (unknown) applies the version-independent rule only. */
bool ta_cipher_weak_in(uint16_t id, uint16_t version);

/* Alert description name ("protocol_version"), or NULL. */
const char *ta_alert_name(uint8_t desc);

/* Registry names for the hello lists (src/record/names.c; NULL when the value has no name there, and
 * "GREASE" for the RFC 8701 values where that registry reserves them). Extension types, e.g.
 * "server_name"; supported groups, e.g. "x25519"; signature schemes, e.g.
 * "rsa_pss_rsae_sha256"; EC point formats, e.g. "uncompressed". */
const char *ta_ext_name(uint16_t type);
const char *ta_group_name(uint16_t group);
const char *ta_sigalg_name(uint16_t scheme);
const char *ta_point_format_name(uint8_t fmt);

/* Anomaly bits (enum ta_anomaly) as names joined by ' ' in bit order: "truncated_hello
 * long_line"; an unnamed bit as "0x10000". Writes into buf and returns it ("" for 0). */
const char *ta_anomalies_label(uint32_t mask, char *buf, size_t buflen);

#endif

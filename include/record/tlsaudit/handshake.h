/* handshake.h - everything tlsaudit records about one connection: endpoints, the plaintext prelude
 * (SMTP/IMAP/POP3/FTP), the TLS hellos, alert and certificate. One of these is the row the store
 * writes. Fixed size: it lives in a pool allocated at start-up, never per packet. */
#ifndef TLSAUDIT_HANDSHAKE_H
#define TLSAUDIT_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>
#include "tlsaudit/addr.h"
#include "tlsaudit/common.h"
#include "tlsaudit/encap.h"

/* Caps: a hostile hello may list thousands of values; we keep the first N and set a flag. */
#define TA_MAX_CIPHERS 256
#define TA_MAX_EXTS 64
#define TA_MAX_GROUPS 64
#define TA_MAX_SIGALGS 64
#define TA_MAX_VERSIONS 16
#define TA_MAX_POINTFMTS 8
#define TA_MAX_KEYSHARES 16
#define TA_SNI_MAX 256         /* host_name is at most 255 bytes (RFC 6066 3) + NUL */
#define TA_ALPN_MAX 256        /* ALPN protocol names, comma-separated, as text */
#define TA_TEXT_MAX 256        /* banners, host names, certificate names */
#define TA_SAN_MAX 1024        /* certificate SANs, comma-separated */

/* Application protocol carried by (or upgraded to) TLS. Stored as its name (ta_app_name). */
enum ta_app {
    TA_APP_UNKNOWN = 0,
    TA_APP_TLS,       /* TLS from the first byte; name from port: https, smtps, imaps ... */
    TA_APP_SMTP,
    TA_APP_IMAP,
    TA_APP_POP3,
    TA_APP_FTP,
    TA_APP_OTHER,     /* generic plaintext prelude then TLS (XMPP, LDAP, ...) */
    TA_APP_QUIC       /* TLS inside QUIC; name from ALPN: h3 -> https, doq -> doq ... */
};

/* Anomalies: named, counted events, stored as a bitmask with the row. */
enum ta_anomaly {
    TA_AN_TRUNCATED_HELLO   = 1u << 0,  /* flow ended inside a hello */
    TA_AN_BAD_RECORD        = 1u << 1,  /* record header invalid (type, version, length) */
    TA_AN_BAD_HANDSHAKE     = 1u << 2,  /* handshake message length or body inconsistent */
    TA_AN_BAD_EXTENSION     = 1u << 3,  /* extension block or one extension malformed */
    TA_AN_LIST_CAPPED       = 1u << 4,  /* a list exceeded its TA_MAX_* cap */
    TA_AN_STREAM_GAP        = 1u << 5,  /* bytes missing in reassembly (loss, cap, pool) */
    TA_AN_NO_TLS_AFTER_STARTTLS = 1u << 6, /* 220/OK to STARTTLS, then no TLS */
    TA_AN_CERT_UNPARSED     = 1u << 7,  /* certificate present but not parseable */
    TA_AN_DUPLICATE_HELLO   = 1u << 8,  /* a second ClientHello/ServerHello on the flow */
    TA_AN_CAP_REACHED       = 1u << 9,  /* handshake longer than the reassembly cap */
    TA_AN_NOT_TLS           = 1u << 10, /* bytes after the prelude are not TLS */
    TA_AN_DIR_SWAPPED       = 1u << 11, /* mid-stream flow: client decided by the ClientHello */
    TA_AN_LONG_LINE         = 1u << 12, /* plaintext prelude line over 2048 bytes (consumed, skipped) */
    TA_AN_QUIC_RETRY        = 1u << 13, /* QUIC: the server sent a Retry (address validation) */
    TA_AN_QUIC_VN           = 1u << 14, /* QUIC: the server sent a Version Negotiation */
    TA_AN_QUIC_UNDECRYPTED  = 1u << 15  /* QUIC: an Initial packet did not decrypt (forged, corrupt) */
};

struct ta_client_hello {
    bool present;
    bool sslv2;                       /* SSLv2 record format (pure or compatible hello) */
    uint16_t record_version;          /* version in the record header */
    uint16_t legacy_version;          /* ClientHello.legacy_version (client_version) */
    uint16_t versions[TA_MAX_VERSIONS]; /* supported_versions, wire order, GREASE kept */
    uint8_t nversions;
    bool has_supported_versions;
    uint16_t ciphers[TA_MAX_CIPHERS]; /* wire order, GREASE kept (fingerprints skip them) */
    uint16_t nciphers;
    uint32_t ciphers_v2[TA_MAX_CIPHERS]; /* SSLv2 3-byte cipher specs (pure SSLv2 only) */
    uint16_t nciphers_v2;
    uint16_t exts[TA_MAX_EXTS];       /* extension types, wire order */
    uint8_t nexts;
    uint16_t groups[TA_MAX_GROUPS];   /* supported_groups */
    uint8_t ngroups;
    uint8_t point_formats[TA_MAX_POINTFMTS];
    uint8_t npoint_formats;
    uint16_t sigalgs[TA_MAX_SIGALGS]; /* signature_algorithms */
    uint8_t nsigalgs;
    uint16_t key_shares[TA_MAX_KEYSHARES]; /* key_share groups */
    uint8_t nkey_shares;
    uint8_t session_id_len;
    uint8_t compression_methods;      /* count */
    char sni[TA_SNI_MAX];             /* raw bytes as sent, NUL-terminated; escape on output */
    char alpn[TA_ALPN_MAX];           /* offered protocols, comma-separated */
    bool session_ticket;              /* session_ticket extension present */
    bool session_ticket_data;         /* ... and non-empty (resumption attempt) */
    bool psk;                         /* pre_shared_key present (TLS 1.3 resumption attempt) */
    bool ems;                         /* extended_master_secret */
    bool reneg_info;                  /* renegotiation_info ext or SCSV 0x00FF */
    bool etm;                         /* encrypt_then_mac */
    bool fallback_scsv;               /* TLS_FALLBACK_SCSV 0x5600 offered */
    uint16_t cut_version;             /* without present: the legacy_version of a ClientHello
                                       * whose rest never arrived (snap length, lost segments;
                                       * anomaly truncated_hello), 0 when none */
    uint64_t ts_us;
};

struct ta_server_hello {
    bool present;                     /* a final ServerHello (not an HRR) */
    bool sslv2;                       /* SSLv2 SERVER-HELLO */
    bool hrr;                         /* a HelloRetryRequest was seen before it */
    uint16_t record_version;
    uint16_t legacy_version;
    uint16_t selected_version;        /* supported_versions, 0 when absent */
    uint16_t cipher;                  /* chosen cipher suite */
    uint32_t cipher_v2;               /* SSLv2 chosen cipher spec (first of the server's list) */
    uint8_t compression;
    uint16_t exts[TA_MAX_EXTS];
    uint8_t nexts;
    uint16_t key_share;               /* group of the server's key_share, 0 when none */
    char alpn[TA_ALPN_MAX];           /* chosen protocol */
    bool resumed;                     /* session id echoed, or pre_shared_key accepted */
    bool ems, reneg_info, etm;
    uint16_t cut_version;             /* without present: the legacy_version of a ServerHello
                                       * whose rest never arrived, 0 when none */
    uint64_t ts_us;
};

struct ta_alert {
    bool present;
    uint8_t dir;                      /* enum ta_dir of the sender */
    uint8_t level;                    /* 1 warning, 2 fatal */
    uint8_t description;              /* RFC 8446 6 AlertDescription */
};

struct ta_cert {
    bool present;                     /* a Certificate message was seen in clear */
    uint8_t chain_len;
    char subject_cn[TA_TEXT_MAX];
    char issuer[TA_TEXT_MAX];         /* one-line issuer DN */
    char sans[TA_SAN_MAX];            /* DNS and IP SANs, comma-separated */
    int64_t not_before, not_after;    /* Unix seconds, UTC */
    char key_type[16];                /* "RSA", "EC", "Ed25519", ... */
    uint16_t key_bits;
};

/* Plaintext prelude of a mail/FTP session (and the generic STARTTLS fallback). */
struct ta_mail {
    bool present;                     /* a text prelude was dissected */
    uint16_t greeting_code;           /* 220, or 0 for "* OK"/"+OK" */
    char greeting_host[TA_TEXT_MAX];  /* first word after the code (SMTP/FTP), or banner host */
    char greeting[TA_TEXT_MAX];       /* banner text as sent (escaped on output) */
    char client_name[TA_TEXT_MAX];    /* EHLO/HELO argument */
    char capabilities[TA_TEXT_MAX];   /* EHLO/CAPA keywords, space-separated */
    bool starttls_offered;
    bool starttls_sent;               /* client asked (STARTTLS / STLS / AUTH TLS) */
    bool starttls_refused;            /* server answered 454/502/NO/-ERR ... */
    bool starttls_accepted;           /* server answered 220/OK/+OK/234 */
    bool auth_in_clear;               /* AUTH / LOGIN / USER+PASS before any TLS */
    bool mail_in_clear;               /* MAIL FROM / message transfer before any TLS */
    uint32_t prelude_bytes;           /* plaintext bytes before TLS (generic fallback) */
};

/* The whole record for one connection. */
struct ta_hs {
    /* endpoints (client = SYN sender, or ClientHello sender mid-stream) */
    uint8_t ipver;
    uint8_t transport;                /* enum ta_l4 */
    struct ta_addr client, server;
    uint16_t client_port, server_port;
    uint64_t ts_first_us;             /* first packet of the flow seen */
    uint64_t ts_last_us;
    /* application */
    uint8_t app;                      /* enum ta_app */
    bool starttls;                    /* TLS began after a plaintext upgrade */
    uint16_t ndpi_master, ndpi_app;   /* nDPI protocol ids */
    char ndpi_name[48];               /* nDPI's name for them ("TLS.Microsoft365"), set by the engine */
    /* TLS */
    struct ta_client_hello ch;
    struct ta_server_hello sh;
    struct ta_alert alert;
    struct ta_cert cert;
    struct ta_mail mail;
    uint32_t anomalies;               /* enum ta_anomaly bits */
    bool handshake_done;              /* nothing more to learn: write the row */
    uint8_t seq;                      /* this record's index on its connection (0 = first): a
                                       * connection may carry several handshakes (a new
                                       * ClientHello, a retry after a fatal alert) */
    struct ta_encap enc;              /* outermost tunnel, VLAN, VNI, SGT of the flow's packets
                                       * (the client's when its packets carry them) */
    /* JA3, JA3S and JA4 of the hellos ("" = none), computed by ta_hs_fingerprint
     * (fingerprint.h) on the thread that built the record, so the one store writer does not
     * hash. Sizes: TA_JA3_HEX and TA_JA4_LEN, checked in fingerprint.c. */
    struct {
        bool ready;                   /* the three below are computed */
        char ja3[33], ja3s[33], ja4[40];
    } fp;
};

/* Application label of a record (src/record/handshake.c): "https", "smtp", "imaps", "xmpp", "tls" ... taken from
 * hs.app and the server port. Version labels are in names.h. */
const char *ta_app_name(const struct ta_hs *hs);

/* The version a handshake negotiated: ServerHello.supported_versions if present, else its legacy
 * version; 0x0002 for SSLv2; 0 when there was no final ServerHello. From a ServerHello cut short
 * (cut_version), only what its legacy_version proves: SSL 3.0 to TLS 1.1, else 0 (TLS 1.2 and
 * 1.3 both send 0x0303 there). */
uint16_t ta_hs_negotiated_version(const struct ta_hs *hs);
/* The highest version the client offered (supported_versions without GREASE, else legacy). From
 * a ClientHello cut short, only what its legacy_version proves: SSL 3.0 to TLS 1.1 (a client
 * offering more sends 0x0303 and says the rest in an extension), else 0. */
uint16_t ta_hs_client_max_version(const struct ta_hs *hs);
/* True when the record has a hello of either side, whole or cut short (cut_version): worth a
 * handshakes row. */
bool ta_hs_has_hello(const struct ta_hs *hs);
/* True when the server answered with a final ServerHello, whole or cut short. */
bool ta_hs_server_answered(const struct ta_hs *hs);
/* True when the value is a GREASE value (RFC 8701: 0x?A?A with both bytes equal). */
static inline bool ta_is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

#endif

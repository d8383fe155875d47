/* hs.c - derived facts of one handshake record: negotiated version, highest version the client
 * offered (RFC 8446 4.2.1 supported_versions) and the application label. */
#include <string.h>

#include "tlsaudit/handshake.h"

/* What the legacy_version of a hello cut short proves: a version below TLS 1.2 (SSL 3.0 to TLS
 * 1.1) is the one sent; 0x0303 is sent by TLS 1.2 and 1.3 alike, so it proves nothing. */
static uint16_t cut_proves(uint16_t v)
{
    return v >= 0x0300 && v <= 0x0302 ? v : 0;
}

/* The version a handshake negotiated. An SSLv2 SERVER-HELLO means SSL 2.0; a final ServerHello
 * gives supported_versions.selected_version when the extension was there (TLS 1.3, RFC 8446
 * 4.2.1: "legacy_version" is then 0x0303 and says nothing), else its legacy_version. 0 when no
 * final ServerHello was seen (a HelloRetryRequest alone does not count); of one cut short, what
 * its legacy_version proves. */
uint16_t ta_hs_negotiated_version(const struct ta_hs *hs)
{
    if (hs == NULL)
        return 0;
    if (hs->sh.sslv2)
        return 0x0002;
    if (!hs->sh.present)
        return cut_proves(hs->sh.cut_version);
    return hs->sh.selected_version ? hs->sh.selected_version : hs->sh.legacy_version;
}

/* Ordering key of a version a client may offer, or 0 for values that do not take part in "the
 * highest": GREASE, DTLS (a TLS-over-TCP tool never negotiates it) and unknown code points.
 * Key = (equivalent final version << 8) | sub-rank, so every TLS 1.3 draft or experiment ranks
 * as TLS 1.3 but below the final 0x0304, and later drafts above earlier ones. */
static uint32_t version_rank(uint16_t v)
{
    if (ta_is_grease(v))
        return 0;
    if (v == 0x0002 || (v & 0xFF00) == 0x0300)
        return ((uint32_t)v << 8) | 0xFF;
    if ((v & 0xFF00) == 0x7F00 && (v & 0xFF) < 0xFF)          /* TLS 1.3 draft n */
        return (0x0304u << 8) | (v & 0xFF);
    if (v >= 0x7E01 && v <= 0x7E0F)                           /* Google experiments (draft 18+) */
        return (0x0304u << 8) | 0x12;
    if (v == 0xFB17 || v == 0xFB1A)                           /* Facebook Fizz: drafts 23, 26 */
        return (0x0304u << 8) | (v & 0xFF);
    return 0;
}

/* The highest version the client offered: from supported_versions when the extension was sent
 * and holds at least one rankable value, else the hello's legacy_version (for a pure SSLv2
 * CLIENT-HELLO that is 0x0002; a v2 hello with version 0 still counts as SSL 2.0). 0 when no
 * ClientHello was seen; of one cut short, what its legacy_version proves. */
uint16_t ta_hs_client_max_version(const struct ta_hs *hs)
{
    if (hs == NULL)
        return 0;
    if (!hs->ch.present)
        return cut_proves(hs->ch.cut_version);
    const struct ta_client_hello *ch = &hs->ch;
    if (ch->has_supported_versions) {
        uint16_t best = 0;
        uint32_t best_rank = 0;
        uint8_t n = ch->nversions <= TA_MAX_VERSIONS ? ch->nversions : TA_MAX_VERSIONS;
        for (uint8_t i = 0; i < n; i++) {
            uint32_t r = version_rank(ch->versions[i]);
            if (r > best_rank) {
                best_rank = r;
                best = ch->versions[i];
            }
        }
        if (best != 0)
            return best;
    }
    if (ch->sslv2 && ch->legacy_version == 0)
        return 0x0002;
    return ch->legacy_version;
}

/* See handshake.h. */
bool ta_hs_has_hello(const struct ta_hs *hs)
{
    return hs->ch.present || hs->sh.present || hs->ch.cut_version || hs->sh.cut_version;
}

/* See handshake.h. */
bool ta_hs_server_answered(const struct ta_hs *hs)
{
    return hs->sh.present || hs->sh.cut_version;
}

/* Label of a TLS-from-the-first-byte session, by server port (IANA service names where there is
 * one). 587 is the submission port whose standard form is STARTTLS (RFC 6409); a session that
 * starts TLS at once there is implicit-TLS SMTP all the same, so it is labelled "smtps" like 465
 * (RFC 8314 3.3): the label says how SMTP was protected, not which port convention was used. */
static const char *tls_app_by_port(uint16_t port)
{
    switch (port) {
    case 443: case 8443: case 4443: return "https";
    case 465: case 587: return "smtps";
    case 993: return "imaps";
    case 995: return "pop3s";
    case 990: return "ftps";
    case 636: return "ldaps";
    case 853: return "dot";
    case 5061: return "sips";
    case 5223: return "xmpps";
    case 3389: return "rdp";
    default: return "tls";
    }
}

/* Label of a generic plaintext prelude followed by TLS (STARTTLS-like upgrades the mail
 * dissectors do not own), by server port. */
static const char *other_app_by_port(uint16_t port)
{
    switch (port) {
    case 5222: case 5269: return "xmpp";
    case 389: return "ldap";
    case 5432: return "postgresql";
    case 3306: return "mysql";
    case 6667: return "irc";
    case 1080: return "socks";
    case 3389: return "rdp";
    case 21: return "ftp";
    case 143: return "imap";
    case 110: return "pop3";
    case 25: case 587: return "smtp";
    default: return "other";
    }
}

/* Label of a QUIC handshake from its ALPN: the server's choice, else the client's first offer.
 * HTTP/3 ("h3", and the drafts' "h3-29" ...) is labelled "https" like HTTP over TLS on TCP: the
 * label names the application, the transport column says it went over QUIC. DNS over QUIC
 * (RFC 9250, "doq") is "doq", SMB over QUIC "smb"; anything else, or no ALPN, is "quic". */
static const char *quic_app(const struct ta_hs *hs)
{
    const char *a = hs->sh.alpn[0] ? hs->sh.alpn : hs->ch.alpn;
    size_t n = strcspn(a, ",");
    if ((n == 2 && strncmp(a, "h3", 2) == 0) || (n > 3 && strncmp(a, "h3-", 3) == 0))
        return "https";
    if (n >= 3 && strncmp(a, "doq", 3) == 0)
        return "doq";
    if (n == 3 && strncmp(a, "smb", 3) == 0)
        return "smb";
    return "quic";
}

/* Application label stored with the record. The mail/FTP dissectors set hs->app when they saw
 * the plaintext protocol (STARTTLS upgrades are labelled with the plain protocol name: "smtp",
 * not "smtps"); TLS from the first byte and generic preludes are named from the server port,
 * QUIC from its ALPN (quic_app). A record whose app was never decided is labelled like TLS when it has a ClientHello, else
 * "unknown". Never NULL. */
const char *ta_app_name(const struct ta_hs *hs)
{
    if (hs == NULL)
        return "unknown";
    switch (hs->app) {
    case TA_APP_SMTP: return "smtp";
    case TA_APP_IMAP: return "imap";
    case TA_APP_POP3: return "pop3";
    case TA_APP_FTP: return "ftp";
    case TA_APP_TLS: return tls_app_by_port(hs->server_port);
    case TA_APP_OTHER: return other_app_by_port(hs->server_port);
    case TA_APP_QUIC: return quic_app(hs);
    default:
        return hs->ch.present || hs->ch.cut_version ? tls_app_by_port(hs->server_port)
                                                    : "unknown";
    }
}

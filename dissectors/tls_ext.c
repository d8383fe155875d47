/* tls_ext.c - hello extensions: the ones tlsaudit records, each parsed strictly.
 * RFC 8446 4.2 (supported_versions, key_share, pre_shared_key, signature_algorithms,
 * supported_groups), RFC 6066 3 (server_name), RFC 8422 5.1 (ec_point_formats), RFC 7301
 * (ALPN), RFC 5077 (session_ticket), RFC 7627 (extended_master_secret), RFC 5746
 * (renegotiation_info), RFC 7366 (encrypt_then_mac).
 *
 * Every parser gets exactly the extension's body and returns false unless it is consumed
 * exactly; what was read before an error is kept. */
#include <string.h>

#include "tls_int.h"

enum {
    TLS_EXT_SERVER_NAME = 0,
    TLS_EXT_SUPPORTED_GROUPS = 10,
    TLS_EXT_EC_POINT_FORMATS = 11,
    TLS_EXT_SIGNATURE_ALGORITHMS = 13,
    TLS_EXT_ALPN = 16,
    TLS_EXT_ENCRYPT_THEN_MAC = 22,
    TLS_EXT_EXTENDED_MASTER_SECRET = 23,
    TLS_EXT_SESSION_TICKET = 35,
    TLS_EXT_PRE_SHARED_KEY = 41,
    TLS_EXT_SUPPORTED_VERSIONS = 43,
    TLS_EXT_KEY_SHARE = 51,
    TLS_EXT_RENEGOTIATION_INFO = 0xFF01
};

/* A list of 16-bit values (the whole of v) into a capped array. False on an odd length. */
static bool ext_u16_list(struct ta_hs *hs, struct ta_cur v, uint16_t *arr, uint8_t *n, size_t cap)
{
    uint16_t x;
    if (ta_cur_left(&v) % 2 != 0)
        return false;
    while (ta_cur_u16(&v, &x)) {
        if (*n < cap)
            arr[(*n)++] = x;
        else
            hs->anomalies |= TA_AN_LIST_CAPPED;
    }
    return true;
}

/* A 2-byte-length-prefixed list of 16-bit values that makes up the whole body. */
static bool ext_vec16_u16(struct ta_hs *hs, struct ta_cur b, uint16_t *arr, uint8_t *n, size_t cap)
{
    struct ta_cur v;
    if (!ta_cur_vec16(&b, &v) || !ta_cur_empty(&b))
        return false;
    return ext_u16_list(hs, v, arr, n, cap);
}

/* Copy a slice as text into dst (capacity cap, NUL-terminated), appended after a comma when dst
 * is not empty. False (and nothing appended) when it does not fit. */
static bool ext_append(char *dst, size_t cap, struct ta_slice s)
{
    size_t used = strlen(dst);
    size_t need = s.len + (used ? 1 : 0);
    if (need >= cap - used)
        return false;
    if (used)
        dst[used++] = ',';
    (void)ta__text_copy(dst + used, cap - used, s.ptr, s.len);
    return true;
}

/* server_name (RFC 6066 3): ServerNameList<1..2^16-1> of { name_type, opaque<1..2^16-1> }.
 * The first host_name (type 0) is kept as sent (a NUL as '?'), at most 255 bytes. */
static bool ext_sni(struct ta_hs *hs, struct ta_cur b)
{
    struct ta_cur list;
    if (!ta_cur_vec16(&b, &list) || !ta_cur_empty(&b))
        return false;
    while (!ta_cur_empty(&list)) {
        uint8_t type;
        struct ta_cur name;
        struct ta_slice s;
        if (!ta_cur_u8(&list, &type) || !ta_cur_vec16(&list, &name))
            return false;
        if (type != 0 || hs->ch.sni[0] != '\0')
            continue;
        (void)ta_cur_slice(&name, ta_cur_left(&name), &s);
        if (s.len > TA_SNI_MAX - 1) {
            s.len = TA_SNI_MAX - 1;
            hs->anomalies |= TA_AN_LIST_CAPPED;
        }
        if (ta__text_copy(hs->ch.sni, sizeof hs->ch.sni, s.ptr, s.len))
            hs->anomalies |= TA_AN_BAD_EXTENSION;   /* a host name holds no NUL (RFC 6066 3) */
    }
    return true;
}

/* ALPN (RFC 7301 3.1): ProtocolNameList<2..2^16-1> of ProtocolName<1..2^8-1>, comma-separated
 * into dst. A server must name exactly one (server == true). */
static bool ext_alpn(struct ta_hs *hs, struct ta_cur b, char *dst, size_t cap, bool server)
{
    struct ta_cur list;
    unsigned count = 0;
    if (!ta_cur_vec16(&b, &list) || !ta_cur_empty(&b))
        return false;
    while (!ta_cur_empty(&list)) {
        struct ta_cur name;
        struct ta_slice s;
        if (!ta_cur_vec8(&list, &name) || ta_cur_empty(&name))
            return false;
        (void)ta_cur_slice(&name, ta_cur_left(&name), &s);
        if (!ext_append(dst, cap, s))
            hs->anomalies |= TA_AN_LIST_CAPPED;
        count++;
    }
    return server ? count == 1 : count > 0;
}

/* key_share in a ClientHello (RFC 8446 4.2.8): client_shares<0..2^16-1> of
 * { NamedGroup group; opaque key_exchange<1..2^16-1> }; only the groups are kept. */
static bool ext_key_share_client(struct ta_hs *hs, struct ta_cur b)
{
    struct ta_client_hello *ch = &hs->ch;
    struct ta_cur list;
    if (!ta_cur_vec16(&b, &list) || !ta_cur_empty(&b))
        return false;
    while (!ta_cur_empty(&list)) {
        uint16_t group;
        struct ta_cur key;
        if (!ta_cur_u16(&list, &group) || !ta_cur_vec16(&list, &key))
            return false;
        if (ch->nkey_shares < TA_MAX_KEYSHARES)
            ch->key_shares[ch->nkey_shares++] = group;
        else
            hs->anomalies |= TA_AN_LIST_CAPPED;
    }
    return true;
}

/* pre_shared_key in a ClientHello (RFC 8446 4.2.11): identities<7..2^16-1>, binders<33..2^16-1>. */
static bool ext_psk_client(struct ta_cur b)
{
    struct ta_cur ids, binders;
    return ta_cur_vec16(&b, &ids) && ta_cur_vec16(&b, &binders) && ta_cur_empty(&b) &&
           !ta_cur_empty(&ids) && !ta_cur_empty(&binders);
}

/* renegotiation_info (RFC 5746 3.2): renegotiated_connection<0..255>. */
static bool ext_reneg(struct ta_cur b)
{
    struct ta_cur v;
    return ta_cur_vec8(&b, &v) && ta_cur_empty(&b);
}

/* One ClientHello extension. Unknown types are accepted as they are. */
bool ta__tls_ext_client(struct ta_hs *hs, uint16_t type, struct ta_cur b)
{
    struct ta_client_hello *ch = &hs->ch;
    struct ta_cur v;
    uint8_t fmt;
    switch (type) {
    case TLS_EXT_SERVER_NAME:
        return ext_sni(hs, b);
    case TLS_EXT_SUPPORTED_GROUPS:
        return ext_vec16_u16(hs, b, ch->groups, &ch->ngroups, TA_MAX_GROUPS);
    case TLS_EXT_EC_POINT_FORMATS:
        if (!ta_cur_vec8(&b, &v) || !ta_cur_empty(&b))
            return false;
        while (ta_cur_u8(&v, &fmt)) {
            if (ch->npoint_formats < TA_MAX_POINTFMTS)
                ch->point_formats[ch->npoint_formats++] = fmt;
            else
                hs->anomalies |= TA_AN_LIST_CAPPED;
        }
        return true;
    case TLS_EXT_SIGNATURE_ALGORITHMS:
        return ext_vec16_u16(hs, b, ch->sigalgs, &ch->nsigalgs, TA_MAX_SIGALGS);
    case TLS_EXT_ALPN:
        return ext_alpn(hs, b, ch->alpn, sizeof ch->alpn, false);
    case TLS_EXT_ENCRYPT_THEN_MAC:
        ch->etm = true;
        return ta_cur_empty(&b);
    case TLS_EXT_EXTENDED_MASTER_SECRET:
        ch->ems = true;
        return ta_cur_empty(&b);
    case TLS_EXT_SESSION_TICKET:
        ch->session_ticket = true;
        ch->session_ticket_data = !ta_cur_empty(&b);
        return true;
    case TLS_EXT_PRE_SHARED_KEY:
        ch->psk = true;
        return ext_psk_client(b);
    case TLS_EXT_SUPPORTED_VERSIONS:
        ch->has_supported_versions = true;
        if (!ta_cur_vec8(&b, &v) || !ta_cur_empty(&b))
            return false;
        return ext_u16_list(hs, v, ch->versions, &ch->nversions, TA_MAX_VERSIONS);
    case TLS_EXT_KEY_SHARE:
        return ext_key_share_client(hs, b);
    case TLS_EXT_RENEGOTIATION_INFO:
        ch->reneg_info = true;
        return ext_reneg(b);
    default:
        return true;
    }
}

/* One ServerHello extension (final ServerHello only). */
bool ta__tls_ext_server(struct ta_hs *hs, uint16_t type, struct ta_cur b)
{
    struct ta_server_hello *sh = &hs->sh;
    struct ta_cur key;
    uint16_t sel;
    switch (type) {
    case TLS_EXT_ALPN:
        return ext_alpn(hs, b, sh->alpn, sizeof sh->alpn, true);
    case TLS_EXT_ENCRYPT_THEN_MAC:
        sh->etm = true;
        return ta_cur_empty(&b);
    case TLS_EXT_EXTENDED_MASTER_SECRET:
        sh->ems = true;
        return ta_cur_empty(&b);
    case TLS_EXT_RENEGOTIATION_INFO:
        sh->reneg_info = true;
        return ext_reneg(b);
    case TLS_EXT_PRE_SHARED_KEY:
        /* selected_identity: the server accepted one of the client's PSKs. */
        if (!ta_cur_u16(&b, &sel) || !ta_cur_empty(&b))
            return false;
        sh->resumed = true;
        return true;
    case TLS_EXT_SUPPORTED_VERSIONS:
        return ta_cur_u16(&b, &sh->selected_version) && ta_cur_empty(&b);
    case TLS_EXT_KEY_SHARE:
        /* server_share: one KeyShareEntry. */
        return ta_cur_u16(&b, &sh->key_share) && ta_cur_vec16(&b, &key) && ta_cur_empty(&b);
    default:
        return true;
    }
}

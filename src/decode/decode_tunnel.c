/* decode_tunnel.c - tunnels and tags between the link layer and the client's IP packet: what a
 * remote or cloud mirror wraps around the frames it copies.
 *
 * RFC 3032 (MPLS label stack), RFC 4385 and RFC 4448 (Ethernet pseudowire, control word),
 * RFC 2516 (PPPoE session), RFC 2784 and RFC 2890 (GRE, key and sequence number), RFC 1701
 * (GRE routing: refused), draft-foschiano-erspan (ERSPAN type I, II and III), RFC 7348 (VXLAN),
 * RFC 8926 (GENEVE), Cisco MetaData (EtherType 0x8909: version, length, option, SGT, next
 * EtherType), RFC 2003 and RFC 4213 (IP in IP). Every byte is read through the cursor.
 *
 * Each tunnel calls back into decode.c for the layer it carries, so a tunnel may hold another;
 * tun_enter bounds the nesting at TA_DECODE_MAX_TUNNELS. The flow key is the innermost 5-tuple
 * (the outer addresses are the mirror's): inner layers simply overwrite the outer ones in
 * struct ta_pkt. A tunnel header that is short or inconsistent, or a payload type we do not know,
 * is never guessed at: tun_failed names the kind and the packet is counted, not decoded. */
#include <stddef.h>

#include "decode_int.h"
#include "tlsaudit/cursor.h"
#include "tlsaudit/packet.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define ETHERTYPE_MPLS 0x8847       /* MPLS unicast */
#define ETHERTYPE_MPLS_MC 0x8848    /* MPLS multicast */
#define ETHERTYPE_PPPOE 0x8864      /* PPPoE session stage (discovery 0x8863 is non-IP) */
#define ETHERTYPE_CMD 0x8909        /* Cisco MetaData */
#define ETHERTYPE_TEB 0x6558        /* transparent Ethernet bridging: an Ethernet frame */
#define GRE_PROTO_ERSPAN2 0x88BE    /* ERSPAN type I (no sequence number) or II */
#define GRE_PROTO_ERSPAN3 0x22EB

#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

#define GRE_C 0x8000                /* checksum present */
#define GRE_R 0x4000                /* routing present (RFC 1701) */
#define GRE_K 0x2000                /* key present */
#define GRE_S 0x1000                /* sequence number present */
#define GRE_VERSION 0x0007

#define UDP_PORT_VXLAN 4789
#define UDP_PORT_GENEVE 6081
#define VXLAN_FLAG_I 0x08           /* the VNI is valid */

#define MPLS_MAX_LABELS 16          /* a longer stack is malformed */
#define ERSPAN3_FT_ETHERNET 0
#define ERSPAN3_FT_IP 2

/* Enter one more tunnel (or tag) of kind. The first one entered is the outermost, the row's
 * `tunnel` (a Cisco MetaData tag is not a tunnel). Tags outside a tunnel describe the mirror's
 * network, not the client's: entering a tunnel forgets the VLAN seen so far. False, with
 * tun_too_deep set, beyond TA_DECODE_MAX_TUNNELS. */
static bool tun_enter(struct ta_pkt *out, uint8_t kind)
{
    if (out->tun_depth >= TA_DECODE_MAX_TUNNELS) {
        out->tun_too_deep = true;
        return false;
    }
    out->tun_depth++;
    if (kind == TA_TUN_CMD)
        return true;
    if (out->enc.tunnel == TA_TUN_NONE)
        out->enc.tunnel = kind;
    out->enc.has &= (uint8_t)~TA_ENC_VLAN;
    out->enc.vlan = 0;
    return true;
}

/* The tunnel of kind could not be decoded (header or payload type): rc, charged to kind. */
static int tun_fail(struct ta_pkt *out, uint8_t kind, int rc)
{
    if (!out->tun_failed)
        out->tun_failed = kind;
    return rc;
}

/* Hand the frame at c, beginning with EtherType type, back to the decoder's loop. */
static int inner_ethertype(const struct ta_cur *c, uint16_t type, struct ta_pkt *out)
{
    out->inner = *c;
    out->inner_type = type;
    out->inner_kind = TA__INNER_ETHERTYPE;
    out->inner_fail = 0;
    return TA_HANDOFF;
}

/* Hand the IP packet at c back to the decoder's loop. */
static int inner_ip(const struct ta_cur *c, struct ta_pkt *out)
{
    out->inner = *c;
    out->inner_type = 0;
    out->inner_kind = TA__INNER_IP;
    out->inner_fail = 0;
    return TA_HANDOFF;
}

/* An Ethernet frame inside a tunnel: addresses, then its EtherType. */
static int tun_ether(struct ta_cur *c, struct ta_pkt *out)
{
    uint16_t type;

    if (!ta_cur_skip(c, 12) || !ta_cur_u16(c, &type))
        return TA_MALFORMED;
    return inner_ethertype(c, type, out);
}

/* MPLS (RFC 3032 2.1): 4-byte entries (label 20, TC 3, S 1, TTL 8) until the bottom of stack
 * bit. The stack does not say what it carries; like every analyser we guess from the first
 * nibble: 4 IPv4, 6 IPv6, 0 the pseudowire control word (RFC 4385 3: first nibble 0) before
 * an Ethernet frame, anything else an Ethernet frame without control word (RFC 4448). */
static int tun_mpls(struct ta_cur *c, struct ta_pkt *out)
{
    uint32_t entry = 0;
    uint8_t first;
    int n = 0;

    if (!tun_enter(out, TA_TUN_MPLS))
        return TA_MALFORMED;
    do {
        if (n++ >= MPLS_MAX_LABELS || !ta_cur_u32(c, &entry))
            return tun_fail(out, TA_TUN_MPLS, TA_MALFORMED);
    } while (!(entry & 0x100));
    if (!ta_cur_peek8(c, 0, &first))
        return tun_fail(out, TA_TUN_MPLS, TA_MALFORMED);
    switch (first >> 4) {
    case 4:
    case 6:
        return inner_ip(c, out);
    case 0:
        if (!ta_cur_skip(c, 4))
            return tun_fail(out, TA_TUN_MPLS, TA_MALFORMED);
        return tun_ether(c, out);
    default:
        return tun_ether(c, out);
    }
}

/* PPPoE session (RFC 2516 4): version/type 0x11, code 0, session id, length of the PPP frame,
 * then the PPP protocol (RFC 1661 2, 1332, 5072): IPv4 0x0021 or IPv6 0x0057. A compressed
 * (1-byte, odd) protocol field is accepted. PPP control protocols (LCP, IPCP ...) are non-IP. */
static int tun_pppoe(struct ta_cur *c, struct ta_pkt *out)
{
    uint8_t vt, code, b;
    uint16_t len, proto;

    if (!tun_enter(out, TA_TUN_PPPOE))
        return TA_MALFORMED;
    if (!ta_cur_u8(c, &vt) || !ta_cur_u8(c, &code) || !ta_cur_skip(c, 2) || !ta_cur_u16(c, &len) ||
        vt != 0x11 || code != 0)
        return tun_fail(out, TA_TUN_PPPOE, TA_MALFORMED);
    if (len < ta_cur_left(c))
        c->end = c->p + len; /* Ethernet padding */
    if (!ta_cur_peek8(c, 0, &b))
        return tun_fail(out, TA_TUN_PPPOE, TA_MALFORMED);
    if (b & 1) {
        proto = b;
        (void)ta_cur_skip(c, 1); /* peeked: present */
    } else if (!ta_cur_u16(c, &proto)) {
        return tun_fail(out, TA_TUN_PPPOE, TA_MALFORMED);
    }
    if (proto == PPP_IPV4 || proto == PPP_IPV6)
        return inner_ip(c, out);
    return TA_UNSUPPORTED;
}

/* Cisco MetaData (EtherType 0x8909): version 1, length 1 (8-byte units), one option whose
 * type is 1 (the Security Group Tag), the 16-bit SGT, then the EtherType of what follows. */
static int tun_cmd(struct ta_cur *c, struct ta_pkt *out)
{
    uint8_t ver, len;
    uint16_t opt, sgt, type;

    if (!tun_enter(out, TA_TUN_CMD))
        return TA_MALFORMED;
    if (!ta_cur_u8(c, &ver) || !ta_cur_u8(c, &len) || !ta_cur_u16(c, &opt) ||
        !ta_cur_u16(c, &sgt) || !ta_cur_u16(c, &type) || ver != 1 || len != 1 ||
        (opt & 0x1FFF) != 1)
        return tun_fail(out, TA_TUN_CMD, TA_MALFORMED);
    out->enc.sgt = sgt;
    out->enc.has |= TA_ENC_SGT;
    return inner_ethertype(c, type, out);
}

/* See decode_int.h. */
int ta__decode_ethertype_tunnel(struct ta_cur *c, uint16_t type, struct ta_pkt *out)
{
    switch (type) {
    case ETHERTYPE_MPLS:
    case ETHERTYPE_MPLS_MC:
        return tun_mpls(c, out);
    case ETHERTYPE_PPPOE:
        return tun_pppoe(c, out);
    case ETHERTYPE_CMD:
        return tun_cmd(c, out);
    default:
        return TA_UNSUPPORTED;
    }
}

/* ERSPAN type II (ver 1) and III (ver 2) headers after GRE; type I has none (GRE 0x88BE without
 * a sequence number). II: ver 4, VLAN 12, COS 3, En 2, T 1, session 10, reserved 12, index 20.
 * III: ver 4, VLAN 12, COS 3, BSO 2, T 1, session 10, timestamp 32, SGT 16, P 1, FT 5, hardware
 * id 6, D 1, Gra 2, O 1, then an 8-byte platform sub-header when O is set; FT 0 is an Ethernet
 * frame, 2 an IP packet. The mirrored frame's VLAN (when non-zero) and SGT are kept; tags in
 * the frame itself, read after, are nearer the client and win. */
static int tun_erspan(struct ta_cur *c, struct ta_pkt *out, uint8_t kind)
{
    uint16_t w0, w1, sgt, flags;
    uint8_t ft;

    if (!tun_enter(out, kind))
        return TA_MALFORMED;
    if (kind == TA_TUN_ERSPAN1)
        return tun_ether(c, out);
    if (!ta_cur_u16(c, &w0) || !ta_cur_u16(c, &w1) || (w0 >> 12) != (kind == TA_TUN_ERSPAN2 ? 1 : 2))
        return tun_fail(out, kind, TA_MALFORMED);
    if (w0 & 0x0FFF) {
        out->enc.vlan = w0 & 0x0FFF;
        out->enc.has |= TA_ENC_VLAN;
    }
    if (kind == TA_TUN_ERSPAN2) {
        if (!ta_cur_skip(c, 4))
            return tun_fail(out, kind, TA_MALFORMED);
        return tun_ether(c, out);
    }
    if (!ta_cur_skip(c, 4) || !ta_cur_u16(c, &sgt) || !ta_cur_u16(c, &flags) ||
        ((flags & 1) && !ta_cur_skip(c, 8)))
        return tun_fail(out, kind, TA_MALFORMED);
    if (sgt) {
        out->enc.sgt = sgt;
        out->enc.has |= TA_ENC_SGT;
    }
    ft = (uint8_t)((flags >> 10) & 0x1F);
    if (ft == ERSPAN3_FT_ETHERNET)
        return tun_ether(c, out);
    if (ft == ERSPAN3_FT_IP)
        return inner_ip(c, out);
    return tun_fail(out, kind, TA_UNSUPPORTED);
}

/* GRE (RFC 2784 2, RFC 2890 2): flags and version 0, protocol type, then checksum and reserved
 * (C), key (K), sequence number (S), 4 bytes each. Routing (R, RFC 1701) and version 1 (PPTP's
 * enhanced GRE) are refused. The protocol type is an EtherType; 0x6558 is an Ethernet frame,
 * 0x88BE/0x22EB ERSPAN. */
static int tun_gre(struct ta_cur *c, struct ta_pkt *out)
{
    uint16_t flags, proto;
    int rc;

    if (!ta_cur_u16(c, &flags) || !ta_cur_u16(c, &proto))
        return tun_fail(out, TA_TUN_GRE, TA_MALFORMED);
    if ((flags & (GRE_R | GRE_VERSION)) ||
        ((flags & GRE_C) && !ta_cur_skip(c, 4)) || ((flags & GRE_K) && !ta_cur_skip(c, 4)) ||
        ((flags & GRE_S) && !ta_cur_skip(c, 4)))
        return tun_fail(out, TA_TUN_GRE, TA_MALFORMED);
    if (proto == GRE_PROTO_ERSPAN2)
        return tun_erspan(c, out, (flags & GRE_S) ? TA_TUN_ERSPAN2 : TA_TUN_ERSPAN1);
    if (proto == GRE_PROTO_ERSPAN3)
        return tun_erspan(c, out, TA_TUN_ERSPAN3);
    if (!tun_enter(out, TA_TUN_GRE))
        return TA_MALFORMED;
    if (proto == ETHERTYPE_TEB)
        return tun_ether(c, out);
    rc = inner_ethertype(c, proto, out);
    out->inner_fail = TA_TUN_GRE;   /* PPP (PPTP), WCCP, NSH ... inside: not ours, GRE's count */
    return rc;
}

/* See decode_int.h. */
bool ta__decode_ip_is_tunnel(uint8_t proto)
{
    return proto == 4 || proto == 41 || proto == 47;
}

/* See decode_int.h. IP in IP (RFC 2003 3, RFC 4213 3.5): the inner header's version must be the
 * one the protocol number announces. out->ipver is still the outer packet's. */
int ta__decode_ip_tunnel(uint8_t proto, struct ta_cur *c, struct ta_pkt *out)
{
    uint8_t kind, v;

    if (proto == 47)
        return tun_gre(c, out);
    if (out->ipver == 4)
        kind = proto == 4 ? TA_TUN_IP4IN4 : TA_TUN_IP6IN4;
    else
        kind = proto == 4 ? TA_TUN_IP4IN6 : TA_TUN_IP6IN6;
    if (!tun_enter(out, kind))
        return TA_MALFORMED;
    if (!ta_cur_peek8(c, 0, &v) || (v >> 4) != (proto == 4 ? 4 : 6))
        return tun_fail(out, kind, TA_MALFORMED);
    return inner_ip(c, out);
}

/* See decode_int.h. Only the destination port says VXLAN or GENEVE (the source port is a hash
 * of the inner flow). */
bool ta__decode_udp_is_tunnel(const struct ta_pkt *out)
{
    return out->dport == UDP_PORT_VXLAN || out->dport == UDP_PORT_GENEVE ||
           (out->vxlan_port != 0 && out->dport == out->vxlan_port);
}

/* VXLAN (RFC 7348 5): flags with I set, 24 reserved bits, the 24-bit VNI, 8 reserved bits,
 * then an Ethernet frame. */
static int tun_vxlan(struct ta_cur *c, struct ta_pkt *out)
{
    uint8_t flags;
    uint32_t vni;

    if (!tun_enter(out, TA_TUN_VXLAN))
        return TA_MALFORMED;
    if (!ta_cur_u8(c, &flags) || !ta_cur_skip(c, 3) || !ta_cur_u32(c, &vni) ||
        !(flags & VXLAN_FLAG_I))
        return tun_fail(out, TA_TUN_VXLAN, TA_MALFORMED);
    out->enc.vni = vni >> 8;
    out->enc.has |= TA_ENC_VNI;
    return tun_ether(c, out);
}

/* GENEVE (RFC 8926 3.4): version 0 (2 bits), options length in 4-byte words (6 bits), O, C,
 * 6 reserved bits, the protocol type (an EtherType: 0x6558 Ethernet, or IPv4/IPv6), the
 * 24-bit VNI, 8 reserved bits, then the options, skipped whole by their length. */
static int tun_geneve(struct ta_cur *c, struct ta_pkt *out)
{
    uint8_t vo, fl;
    uint16_t proto;
    uint32_t vni;

    if (!tun_enter(out, TA_TUN_GENEVE))
        return TA_MALFORMED;
    if (!ta_cur_u8(c, &vo) || !ta_cur_u8(c, &fl) || !ta_cur_u16(c, &proto) ||
        !ta_cur_u32(c, &vni) || (vo >> 6) != 0 || !ta_cur_skip(c, (size_t)(vo & 0x3F) * 4))
        return tun_fail(out, TA_TUN_GENEVE, TA_MALFORMED);
    out->enc.vni = vni >> 8;
    out->enc.has |= TA_ENC_VNI;
    if (proto == ETHERTYPE_TEB)
        return tun_ether(c, out);
    if (proto == ETHERTYPE_IPV4 || proto == ETHERTYPE_IPV6)
        return inner_ethertype(c, proto, out);
    return tun_fail(out, TA_TUN_GENEVE, TA_UNSUPPORTED);
}

/* See decode_int.h. */
int ta__decode_udp_tunnel(struct ta_cur *c, struct ta_pkt *out)
{
    if (out->dport == UDP_PORT_GENEVE)
        return tun_geneve(c, out);
    return tun_vxlan(c, out);
}

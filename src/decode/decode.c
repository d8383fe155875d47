/* decode.c - link layer (Ethernet/VLAN, Linux cooked, raw IP, BSD loopback) to TCP/UDP.
 * Tunnels and tags between them (MPLS, PPPoE, GRE, ERSPAN, VXLAN, GENEVE, Cisco MetaData, IP in
 * IP) are removed by decode_tunnel.c, which calls back into this file for each inner layer.
 *
 * RFC 791 (IPv4), RFC 8200 (IPv6 and its extension headers), RFC 4302 (AH), RFC 9293 (TCP),
 * RFC 768 (UDP), IEEE 802.1Q (VLAN tags, QinQ). Link headers follow the tcpdump.org LINKTYPE_
 * descriptions. Every byte is read through the cursor; pointers in struct ta_pkt are views into
 * the caller's capture buffer. */
#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <string.h>

#include "decode_int.h"
#include "tlsaudit/cursor.h"
#include "tlsaudit/packet.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define ETHERTYPE_VLAN 0x8100    /* IEEE 802.1Q customer tag */
#define ETHERTYPE_QINQ 0x88A8    /* IEEE 802.1ad service tag */
#define ETHERTYPE_QINQ_OLD 0x9100 /* pre-standard QinQ outer tag */

#define DECODE_MAX_VLAN 8        /* tags removed before we call the frame malformed */
#define DECODE_MAX_V6_EXT 16     /* IPv6 extension headers walked before giving up */

/* LINKTYPE_RAW as written in files; libpcap maps it to DLT_RAW, but be liberal. */
#define LINKTYPE_RAW 101
/* DLT_RAW is 14 on OpenBSD and 12 elsewhere: accept the other value too. */
#define DLT_RAW_ALT 14

/* Address families found in DLT_NULL/DLT_LOOP headers, per capturing OS. */
#define NULL_AF_INET 2
#define NULL_AF_INET6_LINUX 10
#define NULL_AF_INET6_WINDOWS 23  /* Npcap loopback adapter */
#define NULL_AF_INET6_BSD 24      /* NetBSD, OpenBSD */
#define NULL_AF_INET6_FREEBSD 28
#define NULL_AF_INET6_DARWIN 30

#define IPPROTO_NUM_TCP 6
#define IPPROTO_NUM_UDP 17

/* What the link layer says follows it; L3_DONE: the link layer decoded everything already. */
enum l3_kind { L3_NONE, L3_IPV4, L3_IPV6, L3_ANY, L3_DONE };

bool ta_decode_linktype_supported(int dlt)
{
    switch (dlt) {
    case DLT_NULL:
    case DLT_EN10MB:
    case DLT_RAW:
    case DLT_RAW_ALT:
    case LINKTYPE_RAW:
    case DLT_LOOP:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_IPV4:
    case DLT_IPV6:
        return true;
    default:
        return false;
    }
}

/* Map an EtherType to what follows. */
static enum l3_kind l3_from_ethertype(uint16_t type)
{
    if (type == ETHERTYPE_IPV4)
        return L3_IPV4;
    if (type == ETHERTYPE_IPV6)
        return L3_IPV6;
    return L3_NONE;
}

/* Remove any stack of 802.1Q / 802.1ad / 0x9100 tags whose outer TPID is *type; each tag is a
 * 2-byte TCI then the next EtherType. Returns TA_OK with *type the inner EtherType, or
 * TA_MALFORMED when a tag is cut short or the stack is deeper than DECODE_MAX_VLAN. */
static int link_vlan(struct ta_cur *c, uint16_t *type, struct ta_pkt *out)
{
    while (*type == ETHERTYPE_VLAN || *type == ETHERTYPE_QINQ || *type == ETHERTYPE_QINQ_OLD) {
        if (out->vlan_depth >= DECODE_MAX_VLAN)
            return TA_MALFORMED;
        uint16_t tci;
        if (!ta_cur_u16(c, &tci) || !ta_cur_u16(c, type))
            return TA_MALFORMED;
        out->vlan_depth++;
        out->enc.vlan = tci & 0x0FFF; /* the innermost tag is the one nearest the client */
        out->enc.has |= TA_ENC_VLAN;
    }
    return TA_OK;
}

/* Ethernet II: 6-byte destination, 6-byte source, EtherType. An 802.3 length field (<= 1500)
 * means LLC, which never carries the IP we look for on modern networks: non-IP. */
static int link_ether(struct ta_cur *c, struct ta_pkt *out, enum l3_kind *kind)
{
    uint16_t type;

    if (!ta_cur_skip(c, 12) || !ta_cur_u16(c, &type))
        return TA_MALFORMED;
    *kind = L3_DONE;
    return ta__decode_ethertype(c, type, out);
}

/* Linux cooked v1 (16 bytes): packet type, ARPHRD type, address length, 8 address bytes, then
 * the protocol. The protocol is an EtherType for IP; when the kernel did not strip the VLAN tag
 * it is 0x8100 and the tag follows, so tags are removed as on Ethernet. */
static int link_sll(struct ta_cur *c, struct ta_pkt *out, enum l3_kind *kind)
{
    uint16_t proto;

    if (!ta_cur_skip(c, 14) || !ta_cur_u16(c, &proto))
        return TA_MALFORMED;
    *kind = L3_DONE;
    return ta__decode_ethertype(c, proto, out);
}

/* Linux cooked v2 (20 bytes): protocol first, then reserved, interface index, ARPHRD type,
 * packet type, address length and 8 address bytes. */
static int link_sll2(struct ta_cur *c, struct ta_pkt *out, enum l3_kind *kind)
{
    uint16_t proto;

    if (!ta_cur_u16(c, &proto) || !ta_cur_skip(c, 18))
        return TA_MALFORMED;
    *kind = L3_DONE;
    return ta__decode_ethertype(c, proto, out);
}

/* BSD loopback: a 4-byte address family. DLT_LOOP writes it in network order; DLT_NULL in the
 * capturing host's order, which we do not know, so a value with its upper half set is taken as
 * the other byte order (families are small numbers). AF_INET6 differs per OS. */
static int link_null(struct ta_cur *c, bool network_order, enum l3_kind *kind)
{
    uint32_t af;

    if (!ta_cur_u32(c, &af))
        return TA_MALFORMED;
    if (!network_order && (af & 0xFFFF0000u) != 0)
        af = ((af & 0xFFu) << 24) | ((af & 0xFF00u) << 8) | ((af >> 8) & 0xFF00u) | (af >> 24);
    switch (af) {
    case NULL_AF_INET:
        *kind = L3_IPV4;
        break;
    case NULL_AF_INET6_LINUX:
    case NULL_AF_INET6_WINDOWS:
    case NULL_AF_INET6_BSD:
    case NULL_AF_INET6_FREEBSD:
    case NULL_AF_INET6_DARWIN:
        *kind = L3_IPV6;
        break;
    default:
        *kind = L3_NONE;
        break;
    }
    return TA_OK;
}

/* Dispatch on the link type; leaves c at the network header. */
static int link_decode(int dlt, struct ta_cur *c, struct ta_pkt *out, enum l3_kind *kind)
{
    switch (dlt) {
    case DLT_EN10MB:
        return link_ether(c, out, kind);
    case DLT_LINUX_SLL:
        return link_sll(c, out, kind);
    case DLT_LINUX_SLL2:
        return link_sll2(c, out, kind);
    case DLT_NULL:
        return link_null(c, false, kind);
    case DLT_LOOP:
        return link_null(c, true, kind);
    case DLT_RAW:
    case DLT_RAW_ALT:
    case LINKTYPE_RAW:
        *kind = L3_ANY;
        return TA_OK;
    case DLT_IPV4:
        *kind = L3_IPV4;
        return TA_OK;
    case DLT_IPV6:
        *kind = L3_IPV6;
        return TA_OK;
    default:
        return TA_UNSUPPORTED;
    }
}

/* TCP header (RFC 9293 3.1). c holds the captured part of the segment, seg_len is the length
 * the IP header claims. The whole header, options included, must be captured and lie within
 * the segment; the payload is what follows, clipped to what was captured. */
static int l4_tcp(struct ta_cur *c, uint32_t seg_len, struct ta_pkt *out)
{
    uint8_t off_res, flags;
    uint32_t hlen;

    if (seg_len < 20)
        return TA_MALFORMED;
    if (!ta_cur_u16(c, &out->sport) || !ta_cur_u16(c, &out->dport) || !ta_cur_u32(c, &out->seq) ||
        !ta_cur_u32(c, &out->ack) || !ta_cur_u8(c, &off_res) || !ta_cur_u8(c, &flags) ||
        !ta_cur_skip(c, 6)) /* window, checksum, urgent pointer */
        return TA_MALFORMED;
    hlen = (uint32_t)(off_res >> 4) * 4;
    if (hlen < 20 || hlen > seg_len || !ta_cur_skip(c, hlen - 20))
        return TA_MALFORMED;
    out->l4 = TA_L4_TCP;
    out->tcp_flags = flags;
    out->payload_len = (uint32_t)ta_cur_left(c);
    out->payload = out->payload_len ? c->p : NULL; /* a cut was flagged by ip_clip */
    if (seg_len - hlen > out->payload_len)
        out->payload_lost = seg_len - hlen - out->payload_len;
    return TA_OK;
}

/* UDP header (RFC 768). The length field must cover the header and fit the IP payload; a zero
 * length is a jumbogram (RFC 2675) and takes the IP length. Bytes past the UDP length (padding)
 * are not payload. */
static int l4_udp(struct ta_cur *c, uint32_t seg_len, struct ta_pkt *out)
{
    uint16_t ulen16;
    uint32_t ulen;

    if (seg_len < 8)
        return TA_MALFORMED;
    if (!ta_cur_u16(c, &out->sport) || !ta_cur_u16(c, &out->dport) || !ta_cur_u16(c, &ulen16) ||
        !ta_cur_skip(c, 2)) /* checksum */
        return TA_MALFORMED;
    ulen = ulen16 ? ulen16 : seg_len;
    if (ulen < 8 || ulen > seg_len)
        return TA_MALFORMED;
    if (ta_cur_left(c) > ulen - 8)
        c->end = c->p + (ulen - 8);
    out->l4 = TA_L4_UDP;
    out->payload_len = (uint32_t)ta_cur_left(c);
    out->payload = out->payload_len ? c->p : NULL; /* a cut was flagged by ip_clip */
    if (ta__decode_udp_is_tunnel(out))
        return ta__decode_udp_tunnel(c, out);
    return TA_OK;
}

/* Transport dispatch: TCP and UDP are decoded, anything else is TA_OK with l4 = TA_L4_OTHER. */
static int l4_decode(uint8_t proto, struct ta_cur *c, uint32_t seg_len, struct ta_pkt *out)
{
    if (proto == IPPROTO_NUM_TCP)
        return l4_tcp(c, seg_len, out);
    if (proto == IPPROTO_NUM_UDP)
        return l4_udp(c, seg_len, out);
    if (ta__decode_ip_is_tunnel(proto))
        return ta__decode_ip_tunnel(proto, c, out);
    out->l4 = TA_L4_OTHER;
    return TA_OK;
}

/* Clip the network-layer cursor to the length the IP header claims (stripping link padding) or
 * mark the packet truncated when the capture stopped earlier. Sets l3_len. */
static void ip_clip(struct ta_cur *c, const uint8_t *l3, uint32_t ip_len, struct ta_pkt *out)
{
    size_t avail = (size_t)(c->end - l3);

    if (ip_len < avail)
        c->end = l3 + ip_len;
    else if (ip_len > avail)
        out->truncated = true;
    out->l3_len = (uint32_t)(c->end - l3);
}

/* The rest of the packet at c is a fragment's part of its datagram: claimed bytes of it the IP
 * header says, of which the capture kept what c holds. */
static void frag_take(struct ta_cur *c, uint8_t proto, uint32_t claimed, struct ta_pkt *out)
{
    uint32_t have = (uint32_t)ta_cur_left(c);

    out->ip_fragment = true;
    out->l4 = TA_L4_OTHER;
    out->frag.proto = proto;
    out->frag.data = c->p;
    out->frag.len = have;
    out->frag.lost = claimed > have ? claimed - have : 0;
}

/* IPv4 (RFC 791 3.1). Checks version, IHL >= 5 and total length; a zero total length is what
 * TCP segmentation offload leaves in packets captured on the sending host, so it is taken as
 * "everything captured". Fragments (MF set or a non-zero offset) are flagged and their transport
 * left undecoded (only the first carries its header): out->frag says what the flow layer's
 * reassembly needs. */
static int ip4_decode(struct ta_cur *c, struct ta_pkt *out)
{
    const uint8_t *l3 = c->p;
    uint8_t vihl, proto;
    uint16_t tot_len, id, frag;
    uint32_t ihl, ip_len;
    struct ta_slice src, dst;

    if (!ta_cur_u8(c, &vihl) || (vihl >> 4) != 4)
        return TA_MALFORMED;
    ihl = (uint32_t)(vihl & 0x0F) * 4;
    if (ihl < 20)
        return TA_MALFORMED;
    if (!ta_cur_skip(c, 1) || !ta_cur_u16(c, &tot_len) || !ta_cur_u16(c, &id) ||
        !ta_cur_u16(c, &frag) || !ta_cur_skip(c, 1) || !ta_cur_u8(c, &proto) ||
        !ta_cur_skip(c, 2) || !ta_cur_slice(c, 4, &src) || !ta_cur_slice(c, 4, &dst) ||
        !ta_cur_skip(c, ihl - 20))
        return TA_MALFORMED;
    ip_len = tot_len ? tot_len : (uint32_t)(c->end - l3);
    if (ip_len < ihl)
        return TA_MALFORMED;
    out->ipver = 4;
    memset(out->src.b, 0, 10);
    memset(out->dst.b, 0, 10);
    out->src.b[10] = out->src.b[11] = 0xFF;
    out->dst.b[10] = out->dst.b[11] = 0xFF;
    memcpy(out->src.b + 12, src.ptr, 4);
    memcpy(out->dst.b + 12, dst.ptr, 4);
    out->l3 = l3;
    ip_clip(c, l3, ip_len, out);
    if ((frag & 0x3FFF) != 0) { /* MF flag or fragment offset */
        out->frag.id = id;
        out->frag.offset = (uint32_t)(frag & 0x1FFF) * 8;
        out->frag.more = (frag & 0x2000) != 0;
        frag_take(c, proto, ip_len - ihl, out);
        return TA_OK;
    }
    return l4_decode(proto, c, ip_len - ihl, out);
}

/* Length in bytes of the IPv6 extension header *nh at c, or 0 when *nh is not an extension
 * header we walk (transport, ESP, no-next-header, unknown). Reads nothing beyond c. */
static int ip6_ext_len(uint8_t nh, const struct ta_cur *c, uint32_t *len)
{
    uint8_t hlen;

    switch (nh) {
    case 0:   /* hop-by-hop options */
    case 43:  /* routing */
    case 60:  /* destination options */
    case 135: /* mobility */
    case 139: /* HIP */
    case 140: /* shim6 */
        if (!ta_cur_peek8(c, 1, &hlen))
            return TA_MALFORMED;
        *len = ((uint32_t)hlen + 1) * 8;
        return TA_OK;
    case 51:  /* AH: length in 4-byte units, minus 2 (RFC 4302 2.2) */
        if (!ta_cur_peek8(c, 1, &hlen))
            return TA_MALFORMED;
        *len = ((uint32_t)hlen + 2) * 4;
        return TA_OK;
    case 44:  /* fragment: fixed 8 bytes */
        *len = 8;
        return TA_OK;
    default:
        *len = 0;
        return TA_OK;
    }
}

/* Walk the IPv6 extension header chain (RFC 8200 4.1) starting with next header *nh; on return
 * *nh is the upper-layer protocol and *seg_len what the IP header claims remains for it. A
 * fragment header makes the packet a fragment unless it is atomic (offset 0, M = 0, RFC 6946).
 * ESP (50) and no-next-header (59) end the walk as "other" transport. */
static int ip6_walk(struct ta_cur *c, uint8_t *nh, uint32_t *seg_len, struct ta_pkt *out)
{
    for (int i = 0; i < DECODE_MAX_V6_EXT; i++) {
        uint32_t len;
        uint8_t next;
        uint16_t frag;
        uint32_t id;
        struct ta_cur h;

        if (ip6_ext_len(*nh, c, &len) != TA_OK)
            return TA_MALFORMED;
        if (len == 0)
            return TA_OK;
        if (len > *seg_len || !ta_cur_sub(c, len, &h) || !ta_cur_u8(&h, &next))
            return TA_MALFORMED;
        if (*nh == 44) {
            if (!ta_cur_skip(&h, 1) || !ta_cur_u16(&h, &frag) || !ta_cur_u32(&h, &id))
                return TA_MALFORMED;
            if ((frag & 0xFFF9) != 0) { /* offset (upper 13 bits) or M (bit 0) */
                out->ip_fragment = true;
                out->frag.id = id;
                out->frag.offset = (uint32_t)(frag & 0xFFF8);
                out->frag.more = (frag & 1) != 0;
            }
        }
        *seg_len -= len;
        *nh = next;
        if (out->ip_fragment)
            return TA_OK;
    }
    return TA_MALFORMED;
}

/* IPv6 (RFC 8200 3). A zero payload length (jumbogram, or offload on the capturing host) takes
 * everything captured. */
static int ip6_decode(struct ta_cur *c, struct ta_pkt *out)
{
    const uint8_t *l3 = c->p;
    uint32_t vtcfl, seg_len;
    uint16_t plen;
    uint8_t nh;
    struct ta_slice src, dst;

    if (!ta_cur_u32(c, &vtcfl) || (vtcfl >> 28) != 6)
        return TA_MALFORMED;
    if (!ta_cur_u16(c, &plen) || !ta_cur_u8(c, &nh) || !ta_cur_skip(c, 1) ||
        !ta_cur_slice(c, 16, &src) || !ta_cur_slice(c, 16, &dst))
        return TA_MALFORMED;
    seg_len = plen ? plen : (uint32_t)ta_cur_left(c);
    out->ipver = 6;
    memcpy(out->src.b, src.ptr, 16);
    memcpy(out->dst.b, dst.ptr, 16);
    out->l3 = l3;
    ip_clip(c, l3, seg_len + 40, out);
    if (ip6_walk(c, &nh, &seg_len, out) != TA_OK)
        return TA_MALFORMED;
    if (out->ip_fragment) {
        frag_take(c, nh, seg_len, out);
        return TA_OK;
    }
    return l4_decode(nh, c, seg_len, out);
}

/* Network layer dispatch; L3_ANY (raw IP) looks at the version nibble. */
static int ip_decode(enum l3_kind kind, struct ta_cur *c, struct ta_pkt *out)
{
    uint8_t v;

    if (kind == L3_DONE)
        return TA_OK;
    if (kind == L3_ANY) {
        if (!ta_cur_peek8(c, 0, &v))
            return TA_MALFORMED;
        kind = (v >> 4) == 4 ? L3_IPV4 : (v >> 4) == 6 ? L3_IPV6 : L3_NONE;
        if (kind == L3_NONE)
            return TA_MALFORMED;
    }
    if (kind == L3_IPV4)
        return ip4_decode(c, out);
    if (kind == L3_IPV6)
        return ip6_decode(c, out);
    return TA_UNSUPPORTED;
}

/* See decode_int.h. */
int ta__decode_ethertype(struct ta_cur *c, uint16_t type, struct ta_pkt *out)
{
    if (link_vlan(c, &type, out) != TA_OK)
        return TA_MALFORMED;
    switch (l3_from_ethertype(type)) {
    case L3_IPV4:
        return ip4_decode(c, out);
    case L3_IPV6:
        return ip6_decode(c, out);
    default:
        return ta__decode_ethertype_tunnel(c, type, out);
    }
}

/* See decode_int.h. */
int ta__decode_ip(struct ta_cur *c, struct ta_pkt *out)
{
    return ip_decode(L3_ANY, c, out);
}

/* A tunnel handed back the frame it carries (TA_HANDOFF): decode it here, again and again for a
 * tunnel inside a tunnel, so that decode.c calls the tunnels and never the reverse. A GRE
 * payload that turns out not to be IP (anything below it answering TA_UNSUPPORTED without
 * charging a tunnel itself) is charged to GRE, as the undecoded_gre counter says. */
static int decode_inner(int rc, struct ta_pkt *out)
{
    uint8_t fail = 0;

    while (rc == TA_HANDOFF) {
        struct ta_cur c = out->inner;
        if (out->inner_fail && !fail)
            fail = out->inner_fail;
        if (out->inner_kind == TA__INNER_IP)
            rc = ta__decode_ip(&c, out);
        else
            rc = ta__decode_ethertype(&c, out->inner_type, out);
    }
    if (rc == TA_UNSUPPORTED && fail && !out->tun_failed)
        out->tun_failed = fail;
    return rc;
}

/* Count the outcome of one decode in the statistics (not the packet itself). */
static void decode_count(int rc, const struct ta_pkt *out, struct ta_decode_stats *st)
{
    if (out->tun_too_deep) {
        st->tunnel_too_deep++;
        return;
    }
    if (out->tun_failed && out->tun_failed < TA_TUN_COUNT && rc != TA_OK) {
        st->undecoded[out->tun_failed]++;
        return;
    }
    if (rc == TA_OK && out->tun_depth)
        st->tunneled++;
    if (rc == TA_UNSUPPORTED) {
        st->non_ip++;
        return;
    }
    if (rc != TA_OK) {
        st->malformed++;
        return;
    }
    if (out->ip_fragment)
        st->ip_fragments++;
    else if (out->l4 == TA_L4_OTHER)
        st->other_l4++;
    if (out->truncated)
        st->truncated++;
}

/* Decode one frame (see packet.h). */
int ta_decode(int dlt, const uint8_t *data, uint32_t caplen, struct ta_pkt *out,
              struct ta_decode_stats *st)
{
    return ta_decode_with(NULL, dlt, data, caplen, out, st);
}

/* Decode one frame (see packet.h). ts_us and wire_len keep whatever the caller put there. An
 * unknown link type counts as non-IP. */
int ta_decode_with(const struct ta_decode_opts *opts, int dlt, const uint8_t *data,
                   uint32_t caplen, struct ta_pkt *out, struct ta_decode_stats *st)
{
    uint64_t ts_us = out->ts_us;
    uint32_t wire_len = out->wire_len;
    struct ta_cur c = ta_cur_make(data, data ? caplen : 0);
    enum l3_kind kind = L3_NONE;
    int rc;

    memset(out, 0, sizeof(*out));
    out->ts_us = ts_us;
    out->wire_len = wire_len;
    out->vxlan_port = opts ? opts->vxlan_port : 0;
    rc = link_decode(dlt, &c, out, &kind);
    if (rc == TA_OK)
        rc = ip_decode(kind, &c, out);
    rc = decode_inner(rc, out);
    if (st) {
        st->packets++;
        decode_count(rc, out, st);
    }
    return rc;
}

/* See packet.h. */
void ta_pkt_outer_of(const struct ta_pkt *p, struct ta_pkt_outer *o)
{
    memset(o, 0, sizeof(*o));
    o->enc = p->enc;
    o->vxlan_port = p->vxlan_port;
    o->vlan_depth = p->vlan_depth;
    o->tun_depth = p->tun_depth;
}

/* See packet.h. The datagram goes through the same IP decode and tunnel loop as a packet, with
 * the outer layers' context put back first, so its flow is the one its unfragmented packets
 * make. */
int ta_decode_datagram(const struct ta_pkt_outer *outer, const uint8_t *ip, uint32_t len,
                       struct ta_pkt *out, struct ta_decode_stats *st)
{
    struct ta_cur c = ta_cur_make(ip, ip ? len : 0);
    int rc;

    memset(out, 0, sizeof(*out));
    out->enc = outer->enc;
    out->vxlan_port = outer->vxlan_port;
    out->vlan_depth = outer->vlan_depth;
    out->tun_depth = outer->tun_depth;
    rc = decode_inner(ip_decode(L3_ANY, &c, out), out);
    if (st)
        decode_count(rc, out, st);
    return rc;
}


/* packet.h - one decoded packet: link layer to transport, as views into the capture buffer. */
#ifndef TLSAUDIT_PACKET_H
#define TLSAUDIT_PACKET_H

#include <stdbool.h>
#include <stdint.h>
#include "tlsaudit/addr.h"
#include "tlsaudit/common.h"
#include "tlsaudit/cursor.h"
#include "tlsaudit/encap.h"

enum ta_l4 { TA_L4_OTHER = 0, TA_L4_TCP = 6, TA_L4_UDP = 17 };

#define TA_TCP_FIN 0x01
#define TA_TCP_SYN 0x02
#define TA_TCP_RST 0x04
#define TA_TCP_PSH 0x08
#define TA_TCP_ACK 0x10

/* One IP fragment (RFC 791 3.2, RFC 8200 4.5): the part of its datagram it carries. */
struct ta_frag {
    const uint8_t *data;       /* the fragment's bytes after the IP header (and, for IPv6, after
                                * the Fragment header): captured ones only */
    uint32_t len;              /* bytes captured */
    uint32_t lost;             /* bytes the IP length claims beyond them (snap length) */
    uint32_t offset;           /* where they go in the datagram's payload, in bytes */
    uint32_t id;               /* IPv4 Identification or IPv6 Fragment Identification */
    uint8_t proto;             /* IPv4 Protocol or the Fragment header's Next Header */
    bool more;                 /* more fragments follow (MF, M) */
};

/* Decoded packet. Pointers point into the caller's capture buffer and are valid only during the
 * pcap callback that produced them. */
struct ta_pkt {
    uint64_t ts_us;            /* capture time, microseconds since the Unix epoch (UTC) */
    uint32_t wire_len;         /* original length on the wire */
    uint8_t ipver;             /* 4 or 6 */
    uint8_t l4;                /* enum ta_l4 (IP protocol number for TCP/UDP, else TA_L4_OTHER) */
    uint8_t tcp_flags;         /* TA_TCP_* */
    uint8_t vlan_depth;        /* number of 802.1Q/802.1ad tags removed */
    bool ip_fragment;          /* IPv4/IPv6 fragment (first or later): transport not decoded;
                                * what reassembly needs is in frag */
    bool truncated;            /* captured length shorter than the IP/TCP lengths claim */
    struct ta_addr src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;         /* TCP only */
    const uint8_t *l3;         /* start of the IP header (for nDPI) */
    uint32_t l3_len;           /* bytes from l3 to the end of the captured data, clipped to IP total length */
    const uint8_t *payload;    /* transport payload (TCP/UDP), may be NULL when payload_len == 0 */
    uint32_t payload_len;      /* payload bytes actually captured */
    uint32_t payload_lost;     /* TCP: payload bytes the lengths claim beyond the captured ones */
    struct ta_frag frag;       /* ip_fragment only */
    struct ta_encap enc;       /* encapsulation context; addresses and ports are the innermost */
    uint8_t tun_depth;         /* tunnels removed (at most TA_DECODE_MAX_TUNNELS) */
    uint8_t tun_failed;        /* enum ta_tunnel whose header or payload could not be decoded */
    bool tun_too_deep;         /* more than TA_DECODE_MAX_TUNNELS tunnels nested */
    uint16_t vxlan_port;       /* from struct ta_decode_opts (the decoder's own use) */
    /* The decoder's own use: the frame a tunnel found inside itself, decoded next by the
     * decoder's loop (decode_int.h, TA_HANDOFF), so the decoder and the tunnels never call
     * each other. */
    struct ta_cur inner;
    uint16_t inner_type;       /* its EtherType, when inner_kind is an EtherType */
    uint8_t inner_kind;        /* what it begins with (decode_int.h) */
    uint8_t inner_fail;        /* enum ta_tunnel charged if it turns out not to be IP (GRE) */
};

#define TA_DECODE_MAX_TUNNELS 4 /* a tunnel inside a tunnel ..., four deep at most */

/* Decoding statistics, one counter per reason a packet was not fully decoded. */
struct ta_decode_stats {
    uint64_t packets;
    uint64_t non_ip;           /* ARP, LLDP, ... */
    uint64_t malformed;        /* headers that lie or are cut short */
    uint64_t ip_fragments;     /* IPv4 or IPv6 fragments (reassembled by the flow layer's defrag.h) */
    uint64_t other_l4;         /* ICMP, SCTP, ... */
    uint64_t truncated;        /* snaplen cut into the payload */
    uint64_t tunneled;         /* IP packets decoded inside at least one tunnel or CMD tag */
    uint64_t undecoded[TA_TUN_COUNT]; /* per kind: header malformed or payload unknown */
    uint64_t tunnel_too_deep;  /* more than TA_DECODE_MAX_TUNNELS nested */
};

/* True when tlsaudit can decode this DLT_ link type (pcap_datalink() value). */
bool ta_decode_linktype_supported(int dlt);

/* Decode one captured frame of link type dlt into *out (ts_us and wire_len are left for the
 * caller to set). Returns TA_OK for an IPv4/IPv6 packet (any L4), TA_UNSUPPORTED for non-IP
 * frames, TA_MALFORMED when a header is short or inconsistent; a tunnel whose header is
 * malformed or whose payload is unknown sets tun_failed (or tun_too_deep) and is counted per
 * kind in st->undecoded, not as malformed or non-IP. Updates *st when not NULL.
 * Never reads outside [data, data + caplen). */
int ta_decode(int dlt, const uint8_t *data, uint32_t caplen, struct ta_pkt *out,
              struct ta_decode_stats *st);

/* Decoder options (all zero: the defaults of ta_decode). */
struct ta_decode_opts {
    uint16_t vxlan_port;       /* a UDP port decoded as VXLAN besides 4789 (0 = none) */
};
/* ta_decode with options; opts may be NULL. */
int ta_decode_with(const struct ta_decode_opts *opts, int dlt, const uint8_t *data,
                   uint32_t caplen, struct ta_pkt *out, struct ta_decode_stats *st);

/* What the layers outside an IP packet said about it (VLAN tags, tunnels): kept with a
 * fragment while its datagram is reassembled, and given back to the decoder with the whole
 * datagram, so that it decodes as if it had come in one piece. */
struct ta_pkt_outer {
    struct ta_encap enc;
    uint16_t vxlan_port;
    uint8_t vlan_depth;
    uint8_t tun_depth;
};

/* The outer context of a decoded packet. */
void ta_pkt_outer_of(const struct ta_pkt *p, struct ta_pkt_outer *o);

/* Decode a datagram rebuilt from fragments: ip is a whole IPv4 or IPv6 packet (len bytes), outer
 * what was outside its fragments. Fills *out as ta_decode does (ts_us and wire_len are left for
 * the caller) and counts in *st (when not NULL) as for a packet, except that st->packets is not
 * moved: the fragments were the packets. Never reads outside [ip, ip + len). */
int ta_decode_datagram(const struct ta_pkt_outer *outer, const uint8_t *ip, uint32_t len,
                       struct ta_pkt *out, struct ta_decode_stats *st);

#endif

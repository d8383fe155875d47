/* decode_int.h - private to the decoder: decode.c (link, IP, TCP/UDP) calls decode_tunnel.c
 * (MPLS, PPPoE, GRE, ERSPAN, VXLAN, GENEVE, Cisco MetaData, IP in IP) for a tunnel's header; the
 * tunnel does not decode what it carries but answers TA_HANDOFF with the inner frame in
 * out->inner (an EtherType or an IP packet), and decode.c's loop decodes that (Zeek's packet
 * analyzers forward the same way). Calls go one way; every tunnel's depth check bounds the
 * loop by TA_DECODE_MAX_TUNNELS. */
#ifndef TA_DECODE_INT_H
#define TA_DECODE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "tlsaudit/cursor.h"
#include "tlsaudit/packet.h"

/* What a tunnel's inner frame begins with (struct ta_pkt.inner_kind). */
enum { TA__INNER_ETHERTYPE = 1, TA__INNER_IP = 2 };

/* decode.c */

/* What follows an EtherType at c: 802.1Q/802.1ad tags, then IPv4 or IPv6 (decoded down to the
 * transport), a tunnel or tag EtherType (ta__decode_ethertype_tunnel), or TA_UNSUPPORTED for
 * anything else (non-IP). */
int ta__decode_ethertype(struct ta_cur *c, uint16_t type, struct ta_pkt *out);
/* An IP packet at c, IPv4 or IPv6 by its version nibble, down to the transport. */
int ta__decode_ip(struct ta_cur *c, struct ta_pkt *out);

/* decode_tunnel.c */

/* Tunnel and tag EtherTypes: MPLS, PPPoE session, Cisco MetaData. TA_UNSUPPORTED (non-IP) for
 * any other type. Like every tunnel function below: TA_HANDOFF with the inner frame in out, or
 * TA_MALFORMED / TA_UNSUPPORTED. */
int ta__decode_ethertype_tunnel(struct ta_cur *c, uint16_t type, struct ta_pkt *out);
/* True for the IP protocols carrying a tunnel: 4 (IPv4), 41 (IPv6), 47 (GRE). */
bool ta__decode_ip_is_tunnel(uint8_t proto);
/* The payload of such an IP packet at c (already clipped to the IP length). */
int ta__decode_ip_tunnel(uint8_t proto, struct ta_cur *c, struct ta_pkt *out);
/* True when the UDP datagram just decoded into out goes to a tunnel port (VXLAN 4789 or
 * out->vxlan_port, GENEVE 6081). */
bool ta__decode_udp_is_tunnel(const struct ta_pkt *out);
/* Its payload at c: the tunnel header, then the inner frame. */
int ta__decode_udp_tunnel(struct ta_cur *c, struct ta_pkt *out);

#endif

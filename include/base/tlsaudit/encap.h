/* encap.h - where a packet came from beyond its addresses: the tunnel a mirror wrapped it in,
 * its VLAN, VNI and Security Group Tag. Shared by the decoder (which fills it), the record
 * (which keeps it per flow) and the store (which writes it). */
#ifndef TLSAUDIT_ENCAP_H
#define TLSAUDIT_ENCAP_H

#include <stdint.h>

/* Encapsulations the decoder removes (src/decode/decode_tunnel.c). Names: ta_tunnel_name. */
enum ta_tunnel {
    TA_TUN_NONE = 0,
    TA_TUN_MPLS,               /* MPLS label stack (0x8847/0x8848) */
    TA_TUN_PPPOE,              /* PPPoE session (0x8864) */
    TA_TUN_GRE,                /* GRE (IP protocol 47), IP or Ethernet (0x6558) payload */
    TA_TUN_ERSPAN1,            /* ERSPAN type I: GRE 0x88BE without sequence number or header */
    TA_TUN_ERSPAN2,            /* ERSPAN type II in GRE (0x88BE) */
    TA_TUN_ERSPAN3,            /* ERSPAN type III in GRE (0x22EB) */
    TA_TUN_VXLAN,              /* VXLAN (UDP 4789 or the configured port) */
    TA_TUN_GENEVE,             /* GENEVE (UDP 6081) */
    TA_TUN_CMD,                /* Cisco MetaData (0x8909): a tag, never the `tunnel` of a row */
    TA_TUN_IP4IN4,             /* IP in IP: IPv4 in IPv4 (protocol 4) */
    TA_TUN_IP6IN4,             /* IPv6 in IPv4 (protocol 41) */
    TA_TUN_IP4IN6,             /* IPv4 in IPv6 (next header 4) */
    TA_TUN_IP6IN6,             /* IPv6 in IPv6 (next header 41) */
    TA_TUN_COUNT
};

#define TA_ENC_VLAN 0x01       /* struct ta_encap.vlan is set */
#define TA_ENC_VNI 0x02        /* .vni is set */
#define TA_ENC_SGT 0x04        /* .sgt is set */

/* Where a packet came from, beyond its addresses: the outermost tunnel, the VLAN id of the
 * innermost 802.1Q tag (or of an ERSPAN header when the mirrored frame had none), the VXLAN or
 * GENEVE network identifier and the Cisco TrustSec Security Group Tag. */
struct ta_encap {
    uint8_t tunnel;            /* enum ta_tunnel, never TA_TUN_CMD; TA_TUN_NONE when none */
    uint8_t has;               /* TA_ENC_* */
    uint16_t vlan;             /* 12-bit VLAN id */
    uint16_t sgt;              /* 16-bit SGT */
    uint32_t vni;              /* 24-bit VNI */
};

/* Name of a tunnel kind ("vxlan", "erspan3", "ip6in4" ...), NULL for TA_TUN_NONE/CMD. */
const char *ta_tunnel_name(uint8_t tunnel);

#endif

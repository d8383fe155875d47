/* encap.c - names of the tunnel kinds (encap.h). */
#include <stddef.h>

#include "tlsaudit/encap.h"

/* See encap.h. */
const char *ta_tunnel_name(uint8_t tunnel)
{
    static const char *const names[TA_TUN_COUNT] = {
        [TA_TUN_MPLS] = "mpls", [TA_TUN_PPPOE] = "pppoe", [TA_TUN_GRE] = "gre",
        [TA_TUN_ERSPAN1] = "erspan1", [TA_TUN_ERSPAN2] = "erspan2", [TA_TUN_ERSPAN3] = "erspan3",
        [TA_TUN_VXLAN] = "vxlan", [TA_TUN_GENEVE] = "geneve", [TA_TUN_IP4IN4] = "ip4in4",
        [TA_TUN_IP6IN4] = "ip6in4", [TA_TUN_IP4IN6] = "ip4in6", [TA_TUN_IP6IN6] = "ip6in6",
    };
    return tunnel < TA_TUN_COUNT ? names[tunnel] : NULL;
}

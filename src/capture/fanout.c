/* fanout.c - how live workers share an interface: their packet sockets join one PACKET_FANOUT
 * group (packet(7)) whose classic BPF program (PACKET_FANOUT_CBPF) picks the worker of each
 * packet from the pair of IP addresses alone, added so that both directions give the same sum.
 *
 * Why addresses and not the kernel's flow hash (PACKET_FANOUT_HASH): every packet of a
 * connection carries the same two addresses, fragments included, so a connection, its IP
 * fragments and both its directions always reach one worker. The kernel's hash takes the ports
 * where it finds them: a fragment without them (IPv6, or any fragment inside a tunnel) went by
 * its addresses while the rest of its connection went by ports, so the worker that rebuilt the
 * datagram was often not the one that held its flow; and a VXLAN mirror, whose outer source
 * port differs between the two directions, split connections too. Outer IPv4 fragments needed
 * the kernel's reassembly first (FLAG_DEFRAG), which on lo, where a packet socket sees each
 * fragment twice, delivered no datagram at all. With the address pair every worker rebuilds
 * its own fragments, as one worker does. Suricata's ip-pair load balancing makes the same choice.
 * The price: all connections between two hosts, and a whole tunnel (one pair of outer
 * addresses), are read by one worker.
 *
 * The program reads the addresses at fixed offsets from the network header (SKF_NET_OFF), so
 * neither the link type nor IPv4 options nor IPv6 extension headers move them. The kernel has
 * already taken the outer VLAN tag off (skb->protocol is what it carried); a second tag (QinQ)
 * is stepped over here. Anything else (ARP, MPLS, PPPoE ...) goes to the first worker. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include "capture_int.h"

#define VLAN_TAG_LEN 4
#define PROG_MAX 96u                  /* the program below is 73 instructions */

struct prog {
    struct sock_filter f[PROG_MAX];
    unsigned n;
    bool bad;                         /* more than PROG_MAX, or a jump too far: not given */
};

static unsigned op(struct prog *p, uint16_t code, uint32_t k)
{
    if (p->n == PROG_MAX) {
        p->bad = true;
        return p->n;
    }
    p->f[p->n] = (struct sock_filter){ code, 0, 0, k };
    return p->n++;
}

/* A conditional jump whose targets are patched in later (target - (jump + 1), forward and at
 * most 255 instructions in classic BPF). */
static void patch(struct prog *p, unsigned jump, unsigned jt, unsigned jf)
{
    if (p->bad || jump >= p->n || jt <= jump || jf <= jump || jt - jump > 256 ||
        jf - jump > 256) {
        p->bad = true;
        return;
    }
    p->f[jump].jt = (uint8_t)(jt - jump - 1);
    p->f[jump].jf = (uint8_t)(jf - jump - 1);
}

/* Sum the n 32-bit words at the network header + at (source and destination are next to each
 * other in both IPv4 and IPv6, so one run covers both), into A; jump to the mix (patched). */
static unsigned sum_words(struct prog *p, uint32_t at, unsigned n)
{
    op(p, BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + at);
    for (unsigned i = 1; i < n; i++) {
        op(p, BPF_MISC | BPF_TAX, 0);
        op(p, BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + at + 4 * i);
        op(p, BPF_ALU | BPF_ADD | BPF_X, 0);
    }
    return op(p, BPF_JMP | BPF_JA, 0);
}

/* The group's program, into p; false if it did not fit (a change to this file went wrong). */
static bool build(struct prog *p)
{
    unsigned j_v4, j_v6, j_vlan, j_qinq, j_in4, j_in6, ja[4], other, mix;
    unsigned v4, v6, vlan, in4, in6;

    *p = (struct prog){ .n = 0 };
    op(p, BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_AD_OFF + SKF_AD_PROTOCOL);
    j_v4 = op(p, BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP);
    j_v6 = op(p, BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6);
    j_vlan = op(p, BPF_JMP | BPF_JEQ | BPF_K, ETH_P_8021Q);
    j_qinq = op(p, BPF_JMP | BPF_JEQ | BPF_K, ETH_P_8021AD);
    vlan = op(p, BPF_LD | BPF_H | BPF_ABS, (uint32_t)SKF_NET_OFF + 2);  /* the inner type */
    j_in4 = op(p, BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP);
    j_in6 = op(p, BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6);
    other = op(p, BPF_RET | BPF_K, 0);
    v4 = p->n;
    ja[0] = sum_words(p, 12, 2);                        /* IPv4: source, destination */
    v6 = p->n;
    ja[1] = sum_words(p, 8, 8);                         /* IPv6: 16 + 16 bytes */
    in4 = p->n;
    ja[2] = sum_words(p, VLAN_TAG_LEN + 12, 2);
    in6 = p->n;
    ja[3] = sum_words(p, VLAN_TAG_LEN + 8, 8);
    /* Mix the sum so that its remainder by the number of workers depends on all its bits. */
    mix = op(p, BPF_MISC | BPF_TAX, 0);
    op(p, BPF_ALU | BPF_RSH | BPF_K, 16);
    op(p, BPF_ALU | BPF_XOR | BPF_X, 0);
    op(p, BPF_ALU | BPF_MUL | BPF_K, 0x45d9f3bu);
    op(p, BPF_MISC | BPF_TAX, 0);
    op(p, BPF_ALU | BPF_RSH | BPF_K, 16);
    op(p, BPF_ALU | BPF_XOR | BPF_X, 0);
    op(p, BPF_RET | BPF_A, 0);

    patch(p, j_v4, v4, j_v6);
    patch(p, j_v6, v6, j_vlan);
    patch(p, j_vlan, vlan, j_qinq);
    patch(p, j_qinq, vlan, other);
    patch(p, j_in4, in4, j_in6);
    patch(p, j_in6, in6, other);
    for (unsigned i = 0; i < 4 && !p->bad; i++)
        p->f[ja[i]].k = mix - ja[i] - 1;
    return !p->bad;
}

/* See capture_int.h. */
int ta__fanout_join(pcap_t *p, const char *iface, uint16_t id, bool set_prog, char *errbuf)
{
    uint32_t val = id | (uint32_t)PACKET_FANOUT_CBPF << 16;
    int fd = pcap_fileno(p);
    struct prog prog;
    struct sock_fprog fprog;

    if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &val, sizeof(val)) != 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot join PACKET_FANOUT group %u: %s", iface,
                 (unsigned)id, fd < 0 ? "no socket" : strerror(errno));
        return TA_ERR_IO;
    }
    if (!set_prog)
        return TA_OK;
    if (!build(&prog)) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: the PACKET_FANOUT program does not fit (%u "
                 "instructions at most)", iface, PROG_MAX);
        return TA_ERR_IO;
    }
    fprog.len = (unsigned short)prog.n;
    fprog.filter = prog.f;
    if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, &fprog, sizeof(fprog)) != 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot give PACKET_FANOUT group %u its program: %s",
                 iface, (unsigned)id, strerror(errno));
        return TA_ERR_IO;
    }
    return TA_OK;
}

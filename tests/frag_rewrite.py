#!/usr/bin/python3
"""frag_rewrite.py - cut the outer IP packet of every Ethernet frame longer than an MTU into
fragments with scapy, as a 1,500-byte path fragments an ERSPAN or GRE mirror's packets.

Usage: frag_rewrite.py IN.pcap OUT.pcap MTU

IPv4 packets are cut by scapy's fragment() (DF cleared), IPv6 packets by fragment6() after a
Fragment header is put behind the fixed header. Frames up to MTU bytes of IP are copied as
they are; every fragment keeps its frame's time. Prints how many frames were cut."""
import sys

from scapy.all import IP, IPv6, Ether, IPv6ExtHdrFragment, fragment, fragment6, rdpcap, wrpcap


def cut(frame, mtu):
    """The frame, or its fragments as frames, with the frame's time."""
    ip = frame.payload
    if isinstance(ip, IP) and len(ip) > mtu:
        ip.flags = 0
        parts = fragment(ip, fragsize=(mtu - 4 * ip.ihl) // 8 * 8)
    elif isinstance(ip, IPv6) and len(ip) > mtu:
        inner, nh = ip.payload, ip.nh
        head = ip.copy()
        head.remove_payload()
        del head.nh
        del head.plen
        parts = fragment6(head / IPv6ExtHdrFragment(nh=nh) / inner, mtu)
    else:
        return [frame]
    out = []
    for p in parts:
        f = Ether(src=frame.src, dst=frame.dst, type=frame.type) / p
        f.time = frame.time
        out.append(f)
    return out


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    mtu = int(argv[3])
    frames, cuts = [], 0
    for frame in rdpcap(argv[1]):
        parts = cut(frame, mtu)
        cuts += len(parts) > 1
        frames.extend(parts)
    wrpcap(argv[2], frames)
    print("%d frames cut into fragments" % cuts)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

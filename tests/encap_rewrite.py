#!/usr/bin/env python3
"""encap_rewrite.py - wrap the frames of a real capture in the encapsulations a mirror adds.

Usage: encap_rewrite.py KIND IN.pcap OUT.pcap
       encap_rewrite.py --list

IN is a classic pcap of Ethernet frames (tests/data/encap/inner.pcap: real openssl handshakes
captured on a veth pair by tests/encap-make.sh). Every frame is wrapped, byte for byte, in the
headers of KIND and written with its original timestamp; nothing inside the client's IP packet
changes, so tlsaudit must read the same rows from OUT as from IN. Deterministic: same input,
same output (tests/it_encap.sh checks the committed files are this tool's output).

Used for what this kernel cannot make: Cisco MetaData and PPPoE (no Linux device makes them) and,
on kernels built without GRE, ERSPAN, GENEVE, IP-in-IP or MPLS routing, those too (see
tests/data/encap/README.md). Formats: RFC 3032/4385/4448 (MPLS, pseudowire control word),
RFC 2516 (PPPoE), RFC 2784/2890 (GRE), draft-foschiano-erspan (ERSPAN I/II/III), RFC 8926
(GENEVE), RFC 7348 (VXLAN), RFC 2003/4213 (IP in IP), Cisco MetaData (0x8909).
Outer addresses are the mirror's: 10.200.0.1 and 10.200.0.2 (fd00:200::1, fd00:200::2)."""
import struct
import sys

# Outer endpoints of the tunnels (a mirror source and the sensor / two routers).
V4_A, V4_B = bytes([10, 200, 0, 1]), bytes([10, 200, 0, 2])
V6_A = bytes.fromhex("fd000200000000000000000000000001")
V6_B = bytes.fromhex("fd000200000000000000000000000002")
MAC_A, MAC_B = bytes.fromhex("525400c80001"), bytes.fromhex("525400c80002")


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\xd4\xc3\xb2\xa1":
        raise SystemExit(f"{path}: expected a little-endian microsecond pcap")
    linktype = struct.unpack("<I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit(f"{path}: expected Ethernet frames (linktype 1), got {linktype}")
    off, frames = 24, []
    while off + 16 <= len(data):
        sec, usec, incl, _orig = struct.unpack("<IIII", data[off:off + 16])
        frames.append((sec, usec, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return frames


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for sec, usec, frame in frames:
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            f.write(frame)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f">{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(payload_type, payload, to_b=True):
    dst, src = (MAC_B, MAC_A) if to_b else (MAC_A, MAC_B)
    return dst + src + struct.pack(">H", payload_type) + payload


def ipv4(proto, payload, to_b=True, ident=0):
    src, dst = (V4_A, V4_B) if to_b else (V4_B, V4_A)
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64,
                    proto, 0, src, dst)
    h = h[:10] + struct.pack(">H", csum(h)) + h[12:]
    return h + payload


def ipv6(nh, payload, to_b=True):
    src, dst = (V6_A, V6_B) if to_b else (V6_B, V6_A)
    return struct.pack(">IHBB", 6 << 28, len(payload), nh, 64) + src + dst + payload


def udp(sport, dport, payload):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def gre(proto, payload, key=None, seq=None, checksum=False):
    flags = (0x8000 if checksum else 0) | (0x2000 if key is not None else 0) | \
            (0x1000 if seq is not None else 0)
    opt = b""
    if checksum:
        opt += b"\0\0\0\0"
    if key is not None:
        opt += struct.pack(">I", key)
    if seq is not None:
        opt += struct.pack(">I", seq)
    h = struct.pack(">HH", flags, proto) + opt
    if checksum:
        c = csum(h + payload)
        h = h[:4] + struct.pack(">H", c) + h[6:]
    return h + payload


def split(frame):
    """(ethertype, payload after the Ethernet header) of an untagged frame."""
    return struct.unpack(">H", frame[12:14])[0], frame[14:]


def ip_version(frame):
    _t, p = split(frame)
    return p[0] >> 4


def tcp_src(frame):
    """(source address, source port) of a TCP frame, with its TCP header; None otherwise."""
    t, p = split(frame)
    if t == 0x0800 and p[9] == 6:
        tcp = p[(p[0] & 15) * 4:]
        return (p[12:16], tcp[0:2]), tcp
    if t == 0x86DD and p[6] == 6:
        return (p[8:24], p[40:42]), p[40:]
    return None, None


def from_client(frame, clients):
    return tcp_src(frame)[0] in clients


def mpls(labels, payload):
    out = b""
    for i, lab in enumerate(labels):
        bos = 1 if i == len(labels) - 1 else 0
        out += struct.pack(">I", (lab << 12) | (bos << 8) | 64)
    return out + payload


def erspan2(frame, session, index=0, vlan=0):
    return struct.pack(">HHI", (1 << 12) | vlan, session & 0x3FF, index) + frame


def erspan3(frame, session, ts, sgt=0, vlan=0, sub=False):
    w2 = (0 << 10) | (1 if sub else 0)  # FT 0 (Ethernet), O = sub-header present
    h = struct.pack(">HHIHH", (2 << 12) | vlan, session & 0x3FF, ts, sgt, w2)
    if sub:
        h += struct.pack(">II", (3 << 26), ts)  # platform id 3, then a timestamp word
    return h + frame


def geneve(proto, payload, vni, options=b""):
    assert len(options) % 4 == 0
    return struct.pack(">BBHI", len(options) // 4, 0, proto, vni << 8) + options + payload


def vxlan(payload, vni, flags=0x08):
    return struct.pack(">BxxxI", flags, vni << 8) + payload


# Each kind: f(frame, i, client) -> new frame. client: the frame was sent by the client.
def k_qinq(f, i, c):
    return f[:12] + struct.pack(">HHHH", 0x88A8, 100, 0x8100, 200) + f[12:]


def k_mpls_ip(f, i, c):
    _t, p = split(f)
    return eth(0x8847, mpls([1001, 2002], p), c)


def k_mpls_pw(f, i, c):
    return eth(0x8847, mpls([3003, 4004], b"\0\0" + struct.pack(">H", i & 0xFFFF) + f), c)


def k_mpls_pw_nocw(f, i, c):
    return eth(0x8847, mpls([5005], f), c)


def k_pppoe(f, i, c):
    t, p = split(f)
    proto = 0x0021 if t == 0x0800 else 0x0057
    ppp = struct.pack(">H", proto) + p
    return eth(0x8864, struct.pack(">BBHH", 0x11, 0, 0x2a2a, len(ppp)) + ppp, c)


def k_cmd(f, i, c):
    # As a TrustSec switch mirrors them: the client's frames carry the SGT, the server's do not.
    if not c:
        return f
    t, p = split(f)
    return f[:12] + struct.pack(">HBBHHH", 0x8909, 1, 1, 0x0001, 1234, t) + p


def k_cmd_both(f, i, c):
    # Both directions tagged, each with its own SGT: the client 1234, the server 99.
    t, p = split(f)
    return f[:12] + struct.pack(">HBBHHH", 0x8909, 1, 1, 0x0001, 1234 if c else 99, t) + p


def k_gre_ip(f, i, c):
    t, p = split(f)
    return eth(0x0800, ipv4(47, gre(t, p), c, i), c)


def k_gre_opts(f, i, c):
    t, p = split(f)
    return eth(0x0800, ipv4(47, gre(t, p, key=77, seq=i, checksum=True), c, i), c)


def k_gretap(f, i, c):
    return eth(0x0800, ipv4(47, gre(0x6558, f, key=99), c, i), c)


def k_erspan1(f, i, c):
    return eth(0x0800, ipv4(47, gre(0x88BE, f), True, i), True)


def k_erspan2(f, i, c):
    return eth(0x0800, ipv4(47, gre(0x88BE, erspan2(f, 7, index=3), seq=i), True, i), True)


def k_erspan3(f, i, c):
    # The client's frames with the optional platform sub-header, the server's without.
    return eth(0x0800, ipv4(47, gre(0x22EB, erspan3(f, 8, 1000 + i, sgt=4321, vlan=55, sub=c),
                                     seq=i), True, i), True)


def k_ip6erspan2(f, i, c):
    return eth(0x86DD, ipv6(47, gre(0x88BE, erspan2(f, 9), seq=i), True), True)


def k_geneve(f, i, c):
    # The client's frames with one option (class 0x0103, type 0x80, 4 bytes of data), the
    # server's without; both carry the Ethernet frame (0x6558).
    opts = struct.pack(">HBB", 0x0103, 0x80, 1) + b"\x01\x02\x03\x04" if c else b""
    return eth(0x0800, ipv4(17, udp(40000 + (i % 7), 6081, geneve(0x6558, f, 4242, opts)), c, i), c)


def k_geneve_ip(f, i, c):
    t, p = split(f)
    return eth(0x0800, ipv4(17, udp(40001, 6081, geneve(t, p, 4343)), c, i), c)


def k_ip_in_ip4(f, i, c):
    t, p = split(f)
    return eth(0x0800, ipv4(4 if t == 0x0800 else 41, p, c, i), c)


def k_ip_in_ip6(f, i, c):
    t, p = split(f)
    return eth(0x86DD, ipv6(4 if t == 0x0800 else 41, p, c), c)


def k_nested(f, i, c):
    # Four encapsulations, the most the decoder takes: QinQ + MPLS + pseudowire (control word),
    # in it an Ethernet frame with Cisco MetaData and a VLAN tag, carrying IPv4 GRE with a key,
    # carrying IPv4 UDP VXLAN, carrying the client's frame.
    inner = eth(0x0800, ipv4(17, udp(50000, 4789, vxlan(f, 31337)), c, i), c)
    g = ipv4(47, gre(0x6558, inner, key=5), c, i)
    mid = eth(0x8909, struct.pack(">BBHHH", 1, 1, 1, 77, 0x8100) + struct.pack(">HH", 300, 0x0800)
              + g, c)
    pw = mpls([6006, 7007], b"\0\0\0\0" + mid)
    return MAC_B + MAC_A + struct.pack(">HHHH", 0x88A8, 10, 0x8100, 20) + struct.pack(">H", 0x8847) + pw


def k_too_deep(f, i, c):
    # One more than the decoder takes: the nested frame inside another GRE tunnel.
    return eth(0x0800, ipv4(47, gre(0x6558, k_nested(f, i, c)), c, i), c)


def k_undecodable(f, i, c):
    # Each frame broken in one way, by its index: never a row, each counted by its kind.
    t, p = split(f)
    n = i % 8
    if n == 0:   # GRE version 1 (PPTP's enhanced GRE): not ours
        return eth(0x0800, ipv4(47, struct.pack(">HH", 0x0001, t) + p, c, i), c)
    if n == 1:   # VXLAN without the I flag
        return eth(0x0800, ipv4(17, udp(40000, 4789, vxlan(f, 1, flags=0)), c, i), c)
    if n == 2:   # MPLS stack that never reaches the bottom of stack bit
        return eth(0x8847, struct.pack(">II", (1 << 12) | 64, (2 << 12) | 64), c)
    if n == 3:   # GENEVE with a protocol type that is neither Ethernet nor IP
        return eth(0x0800, ipv4(17, udp(40000, 6081, geneve(0x88CC, p, 5)), c, i), c)
    if n == 4:   # PPPoE with version/type 2/2
        return eth(0x8864, struct.pack(">BBHHH", 0x22, 0, 1, len(p) + 2, 0x0021) + p, c)
    if n == 5:   # Cisco MetaData version 2
        return f[:12] + struct.pack(">HBBHHH", 0x8909, 2, 1, 1, 5, t) + p
    if n == 6:   # ERSPAN type II header claiming version 3
        return eth(0x0800, ipv4(47, gre(0x88BE, struct.pack(">HHI", 3 << 12, 1, 0) + f, seq=i),
                                c, i), c)
    # IPv4 protocol 4 (IPv4 in IPv4) carrying an IPv6 header
    return eth(0x0800, ipv4(4, ipv6(59, b""), c, i), c)


KINDS = {
    "qinq": k_qinq, "mpls-ip": k_mpls_ip, "mpls-pw": k_mpls_pw, "mpls-pw-nocw": k_mpls_pw_nocw,
    "pppoe": k_pppoe, "cmd": k_cmd, "cmd-both": k_cmd_both, "gre-ip": k_gre_ip, "gre-opts": k_gre_opts,
    "gretap": k_gretap, "erspan1": k_erspan1, "erspan2": k_erspan2, "erspan3": k_erspan3,
    "ip6erspan2": k_ip6erspan2, "geneve": k_geneve, "geneve-ip": k_geneve_ip,
    "ip-in-ip4": k_ip_in_ip4, "ip-in-ip6": k_ip_in_ip6, "nested": k_nested,
    "too-deep": k_too_deep, "undecodable": k_undecodable,
}


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        print("\n".join(KINDS))
        return 0
    if len(argv) != 4 or argv[1] not in KINDS:
        sys.stderr.write(__doc__)
        return 2
    frames = read_pcap(argv[2])
    if not frames:
        raise SystemExit(f"{argv[2]}: no frames")
    # The client of a connection is the sender of its SYN: its address and port mark its frames.
    clients = set()
    for _s, _u, f in frames:
        src, tcp = tcp_src(f)
        if src and tcp[13] & 0x12 == 0x02:
            clients.add(src)
    out = [(s, u, KINDS[argv[1]](f, i, from_client(f, clients)))
           for i, (s, u, f) in enumerate(frames)]
    write_pcap(argv[3], out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

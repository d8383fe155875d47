#!/usr/bin/env python3
"""floodgen.py - write a deterministic flood capture (classic pcap, Ethernet) for tests/it_flood.sh.

Usage: floodgen.py OUT.pcap [SPLICE.pcap] [COPIES]

One million TCP flows, interleaved, 100 microseconds apart (100 s of capture time, well under the
300 s idle timeout, so the flow cap and not the timeout must bound memory):
  - 500,000 spoofed SYNs (SYN flood) from 10.0.0.0/8 sources to 192.0.2.10:443;
  - 200,000 scan probes: 4 scanners (172.16.0.1-4) SYN every port 1..50000 of 192.0.2.20, each
    answered by a RST+ACK;
  - 300,000 short clients (100.64.0.0/10): SYN, SYN+ACK, then 5 bytes of a TLS record header
    (16 03 01 00 c8) and nothing more, so each such flow wants a reassembly buffer and an analysis
    context that it never gives back until evicted.
Then COPIES (default 3) copies of the handshake in SPLICE.pcap (e.g. pcaps/tls10.pcap, an IPv4
capture of one connection), client rewritten to 198.51.100.N:50000+N and server to
203.0.113.10, one second apart after the flood. Same arguments, same bytes."""
import random
import struct
import sys

REC = struct.Struct("<IIII")
ETH_IP_TCP = struct.Struct(">6s6sH" "BBHHHBBH4s4s" "HHIIBBHHH")
MAC_A = b"\x02\x00\x00\x00\x00\x01"
MAC_B = b"\x02\x00\x00\x00\x00\x02"
SYN, RST, ACK, PSH = 0x02, 0x04, 0x10, 0x08
T0 = 1763900000  # capture start, Unix seconds


def ip4(a, b, c, d):
    return bytes((a, b, c, d))


def checksum(hdr):
    s = sum(struct.unpack(">10H", hdr))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def packet(out, ts_us, src, dst, sport, dport, seq, ack, flags, payload=b""):
    """Append one Ethernet/IPv4/TCP frame (IP checksum left 0: the decoder does not check it)."""
    total = 40 + len(payload)
    frame = ETH_IP_TCP.pack(MAC_B, MAC_A, 0x0800, 0x45, 0, total, 1, 0x4000, 64, 6, 0, src, dst,
                            sport, dport, seq, ack, 0x50, flags, 65535, 0, 0) + payload
    out.write(REC.pack(T0 + ts_us // 1000000, ts_us % 1000000, len(frame), len(frame)))
    out.write(frame)


def flood(out, rnd):
    syn_srv, scan_srv, tls_srv = ip4(192, 0, 2, 10), ip4(192, 0, 2, 20), ip4(192, 0, 2, 30)
    hdr = bytes((0x16, 0x03, 0x01, 0x00, 0xC8))
    t = 0
    for i in range(500000):
        t += 100
        # SYN flood: a fresh spoofed source per packet.
        src = ip4(10, rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 255))
        packet(out, t, src, syn_srv, rnd.randrange(1024, 65536), 443, rnd.getrandbits(32), 0, SYN)
        if i < 200000:
            # Port scan: SYN, and the closed port's RST+ACK.
            scanner = ip4(172, 16, 0, 1 + i // 50000)
            port = 1 + i % 50000
            seq = rnd.getrandbits(32)
            packet(out, t + 10, scanner, scan_srv, 40000 + i % 4, port, seq, 0, SYN)
            packet(out, t + 20, scan_srv, scanner, port, 40000 + i % 4, 0, seq + 1, RST | ACK)
        if i < 300000:
            # A short client: handshake, then the first bytes of a TLS record, then silence.
            cli = ip4(100, 64 + (i >> 16 & 63), i >> 8 & 255, i & 255)
            sport = 1024 + i % 60000
            cseq, sseq = rnd.getrandbits(32), rnd.getrandbits(32)
            packet(out, t + 30, cli, tls_srv, sport, 443, cseq, 0, SYN)
            packet(out, t + 40, tls_srv, cli, 443, sport, sseq, cseq + 1, SYN | ACK)
            packet(out, t + 50, cli, tls_srv, sport, 443, cseq + 1, sseq + 1, PSH | ACK, hdr)
    return t


def splice(out, path, copies, t_end):
    """Append rewritten copies of every IPv4 frame of an Ethernet pcap."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\xd4\xc3\xb2\xa1" or struct.unpack("<I", data[20:24])[0] != 1:
        raise SystemExit(f"{path}: need a little-endian microsecond Ethernet pcap")
    frames, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, orig = REC.unpack(data[off:off + 16])
        frames.append((sec * 1000000 + usec, bytearray(data[off + 16:off + 16 + incl]), orig))
        off += 16 + incl
    first = frames[0][1]
    client, cport = bytes(first[26:30]), struct.unpack(">H", first[34:36])[0]
    for n in range(1, copies + 1):
        base = t_end + n * 1000000
        new_cli, new_srv, new_port = ip4(198, 51, 100, n), ip4(203, 0, 113, 10), 50000 + n
        for ts, frame, orig in frames:
            fr = bytearray(frame)
            from_client = bytes(fr[26:30]) == client and struct.unpack(">H", fr[34:36])[0] == cport
            fr[26:30], fr[30:34] = (new_cli, new_srv) if from_client else (new_srv, new_cli)
            pofs = 34 if from_client else 36
            fr[pofs:pofs + 2] = struct.pack(">H", new_port)
            fr[24:26] = b"\0\0"
            fr[24:26] = struct.pack(">H", checksum(bytes(fr[14:34])))
            t = base + ts - frames[0][0]
            out.write(REC.pack(T0 + t // 1000000, t % 1000000, len(fr), orig))
            out.write(fr)


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    rnd = random.Random(20261123)
    with open(sys.argv[1], "wb", buffering=1 << 20) as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        t_end = flood(out, rnd)
        if len(sys.argv) > 2:
            splice(out, sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3, t_end)


if __name__ == "__main__":
    main()

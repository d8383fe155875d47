#!/usr/bin/env python3
"""pcap2corpus.py - make the seed corpora of the fuzz targets from real captures.

Usage: pcap2corpus.py OUTDIR PCAP...   (scripts use: fuzz/tools/pcap2corpus.py fuzz/corpus pcaps/*.pcap)

Writes, for each classic pcap file (Ethernet, raw IP, Linux cooked or BSD loopback):
  OUTDIR/packet/<name>      every frame in fuzz_packet's format (link-type byte, flags byte, then
                            u16 length + u8 time step (x 50 ms) + frame); nDPI on for every
                            other file so both engine variants get seeds
  OUTDIR/mail/<name>        for SMTP/IMAP/POP3/FTP captures: the TCP payloads in capture order,
                            in fuzz_mail's format (dissector byte, u16 server port, then chunks of
                            u16 header (bit 15 = server to client, low bits = length) + bytes)
  OUTDIR/dns/<name>-<n>     each UDP payload from source port 53 (one DNS message per file)
  OUTDIR/dns/*              a few hand-made responses (CNAME chain, AAAA, pointer loop, query)
  OUTDIR/stream/*           a few hand-made reassembly programs (in order, out of order,
                            overlaps, wrap, pool exhaustion)
Deterministic: same captures, same files."""
import os
import struct
import sys

# Index of the link type in fuzz_dlts[] of fuzz_packet.c.
DLT_INDEX = {1: 0, 12: 1, 0: 2, 108: 3, 113: 4, 276: 5, 228: 6, 229: 7, 101: 8, 14: 9}
# Dissector byte of fuzz_mail.c: SMTP, IMAP, POP3, FTP, GENERIC.
MAIL_KIND = {25: 0, 587: 0, 2525: 0, 143: 1, 110: 2, 21: 3}


def read_pcap(path):
    """Yield (linktype, ts_us, frame) for each record of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise SystemExit(f"{path}: not a classic pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    frames = []
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        frame = data[off:off + incl]
        off += incl
        frames.append((sec * 1000000 + (frac // 1000 if nano else frac), frame))
    return linktype, frames


def ip_of(linktype, frame):
    """Return the IP packet inside a frame, or None."""
    if linktype == 1:
        off, etype = 12, None
        while off + 2 <= len(frame):
            etype = struct.unpack(">H", frame[off:off + 2])[0]
            if etype in (0x8100, 0x88A8):
                off += 4
                continue
            break
        return frame[off + 2:] if etype in (0x0800, 0x86DD) else None
    if linktype in (0, 108):
        return frame[4:]
    if linktype == 113:
        return frame[16:]
    if linktype == 276:
        return frame[20:]
    return frame


def transport(ip):
    """(proto, src, dst, sport, dport, flags, payload) of an IPv4/IPv6 TCP/UDP packet, or None."""
    if not ip:
        return None
    if ip[0] >> 4 == 4:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        proto, src, dst, l4 = ip[9], ip[12:16], ip[16:20], ip[ihl:total]
    elif ip[0] >> 4 == 6:
        plen = struct.unpack(">H", ip[4:6])[0]
        proto, src, dst, l4 = ip[6], ip[8:24], ip[24:40], ip[40:40 + plen]
    else:
        return None
    if proto == 6 and len(l4) >= 20:
        sport, dport = struct.unpack(">HH", l4[:4])
        doff = (l4[12] >> 4) * 4
        return proto, src, dst, sport, dport, l4[13], l4[doff:]
    if proto == 17 and len(l4) >= 8:
        sport, dport = struct.unpack(">HH", l4[:4])
        return proto, src, dst, sport, dport, 0, l4[8:]
    return None


def packet_seed(linktype, frames, ndpi):
    out = bytearray([DLT_INDEX.get(linktype, 0), 1 if ndpi else 0])
    last = frames[0][0] if frames else 0
    for ts, frame in frames:
        step = min(255, max(0, (ts - last) // 50000))
        last = ts
        frame = frame[:65535]
        out += struct.pack(">HB", len(frame), step) + frame
    return bytes(out)


def mail_seed(linktype, frames):
    client = None
    kind = port = None
    out = bytearray()
    for _ts, frame in frames:
        t = transport(ip_of(linktype, frame))
        if not t or t[0] != 6:
            continue
        _proto, src, _dst, sport, dport, flags, payload = t
        if client is None and flags & 0x12 == 0x02:
            client = (src, sport)
            port = dport
            kind = MAIL_KIND.get(dport, 4)
        if client is None or not payload:
            continue
        s2c = (src, sport) != client
        for i in range(0, len(payload), 0x3FFF):  # bit 14 of the header marks a loss
            chunk = payload[i:i + 0x3FFF]
            out += struct.pack(">H", (0x8000 if s2c else 0) | len(chunk)) + chunk
    if kind is None or not out:
        return None
    return bytes([kind]) + struct.pack(">H", port) + bytes(out)


def stream_seeds():
    """Reassembly programs for fuzz_stream (see its header for the op encoding)."""
    def seg(stream, off, ln, mult=0):
        return bytes([0, stream | (mult << 6)]) + struct.pack(">I", off << 16) + bytes([ln])
    hdr = bytes([1, 4]) + struct.pack(">II", 1000, 0xFFFFFF00)
    return {
        "in-order": hdr + seg(0, 0, 100) + seg(0, 100, 200) + seg(1, 0, 50),
        "out-of-order": hdr + seg(0, 300, 100) + seg(0, 100, 100) + seg(0, 0, 100)
        + seg(0, 200, 100),
        "overlap": hdr + seg(0, 50, 100) + seg(0, 0, 120) + seg(0, 0, 255),
        "holes": hdr + b"".join(seg(0, 100 + 40 * i, 10) for i in range(10)) + seg(0, 0, 255, 3),
        "exhaust": bytes([0, 0]) + struct.pack(">II", 5, 7) + seg(0, 10, 5) + seg(1, 10, 5)
        + seg(1, 0, 10),
        "policy": hdr + bytes([2, 0, 1]) + seg(0, 0, 255, 3) + bytes([2, 0, 4, 3, 0])
        + bytes([2, 0, 0, 3, 0]) + bytes([4, 0]) + struct.pack(">I", 77) + seg(0, 0, 20)
        + bytes([5, 1]) + struct.pack(">I", 1234) + seg(1, 0, 30),
        "wrap": hdr + bytes([1, 0]) + struct.pack(">I", 0xFFFF0000) + bytes([40]) + seg(0, 0, 60),
    }


def dns_seeds():
    """Hand-made DNS responses: CNAME chain with compression, AAAA, pointer loop, a query."""
    def name(*labels):
        return b"".join(bytes([len(x)]) + x for x in labels) + b"\0"
    q = name(b"outlook", b"office365", b"com")
    hdr = struct.pack(">HHHHHH", 0x1234, 0x8180, 1, 3, 0, 0)
    rr_cname = b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 60, 12) + b"\x07OUTLOOK\x03ms3\xc0\x14"
    rr_a = b"\xc0\x2d" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([52, 96, 1, 2])
    rr_aaaa = b"\xc0\x2d" + struct.pack(">HHIH", 28, 1, 60, 16) + bytes(range(16))
    loop = struct.pack(">HHHHHH", 1, 0x8180, 0, 1, 0, 0) + b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) + bytes(4)
    return {
        "cname-a-aaaa": hdr + q + struct.pack(">HH", 1, 1) + rr_cname + rr_a + rr_aaaa,
        "loop": loop,
        "query": struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + q + struct.pack(">HH", 1, 1),
    }


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    outdir = sys.argv[1]
    for sub in ("packet", "mail", "dns", "stream"):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)
    for i, path in enumerate(sorted(sys.argv[2:])):
        name = os.path.splitext(os.path.basename(path))[0]
        linktype, frames = read_pcap(path)
        with open(os.path.join(outdir, "packet", name), "wb") as f:
            f.write(packet_seed(linktype, frames, i % 2 == 1))
        m = mail_seed(linktype, frames)
        if m and any(k in name for k in ("smtp", "imap", "pop3", "ftp")):
            with open(os.path.join(outdir, "mail", name), "wb") as f:
                f.write(m)
        n = 0
        for _ts, frame in frames:
            t = transport(ip_of(linktype, frame))
            if t and t[0] == 17 and t[3] == 53 and t[6]:
                with open(os.path.join(outdir, "dns", f"{name}-{n}"), "wb") as f:
                    f.write(t[6])
                n += 1
    for name, msg in dns_seeds().items():
        with open(os.path.join(outdir, "dns", name), "wb") as f:
            f.write(msg)
    for name, prog in stream_seeds().items():
        with open(os.path.join(outdir, "stream", name), "wb") as f:
            f.write(prog)


if __name__ == "__main__":
    main()

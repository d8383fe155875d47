#!/usr/bin/env python3
"""pcapng2corpus.py OUTDIR PCAP... - seeds for fuzz_pcapng from the project's own captures.

Each seed is a pcapng file without its first 4 bytes (the Section Header's type, which the
caller of the reader has read). From the first packets of each classic pcap (Ethernet) it
writes, in both byte orders:
  mixed-<order>: interface 0 Ethernet (microseconds), interface 1 raw IP (LINKTYPE_RAW, the
    Ethernet header cut off; nanoseconds, if_tsresol 9) with an if_tsoffset, interface 2
    Ethernet in units of 2^-20 s; Enhanced Packet blocks on each, a Simple Packet block, an
    obsolete Packet block, a name-resolution block (skipped), an Interface Statistics block
    (isb_ifdrop, isb_osdrop), and a second section.
"""
import struct
import sys


def pad(b):
    return b + b"\0" * (-len(b) % 4)


def block(e, btype, body):
    n = 12 + len(pad(body))
    return struct.pack(e + "II", btype, n) + pad(body) + struct.pack(e + "I", n)


def option(e, code, value):
    return struct.pack(e + "HH", code, len(value)) + pad(value)


def shb(e):
    return block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(e, linktype, opts=b""):
    return block(e, 1, struct.pack(e + "HHI", linktype, 0, 262144) + opts +
                 (option(e, 0, b"") if opts else b""))


def epb(e, ifid, units, data):
    return block(e, 6, struct.pack(e + "IIIII", ifid, units >> 32, units & 0xFFFFFFFF,
                                   len(data), len(data)) + pad(data))


def read_pcap(path, limit):
    with open(path, "rb") as f:
        raw = f.read()
    magic = struct.unpack("<I", raw[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off, out = 24, []
    while off + 16 <= len(raw) and len(out) < limit:
        sec, usec, incl, orig = struct.unpack(e + "IIII", raw[off:off + 16])
        out.append((sec, usec, raw[off + 16:off + 16 + incl]))
        off += 16 + incl
    return out


def seed(e, pkts):
    s = shb(e) + idb(e, 1) + idb(e, 101, option(e, 9, b"\x09") + option(e, 14, struct.pack(e + "q", 3600)))
    s += idb(e, 1, option(e, 9, b"\x94"))
    s += block(e, 4, option(e, 1, b"\x0a\x00\x00\x01example.test\0") + option(e, 0, b""))
    for i, (sec, usec, data) in enumerate(pkts):
        k = i % 3
        if k == 0:
            s += epb(e, 0, sec * 1000000 + usec, data)
        elif k == 1:
            s += epb(e, 1, (sec - 3600) * 1000000000 + usec * 1000, data[14:])
        else:
            s += epb(e, 2, (sec << 20) + (usec << 20) // 1000000, data)
    sec, usec, data = pkts[0]
    s += block(e, 3, struct.pack(e + "I", len(data)) + pad(data))
    units = sec * 1000000 + usec
    s += block(e, 2, struct.pack(e + "HHIIII", 0, 0, units >> 32, units & 0xFFFFFFFF, len(data),
                                 len(data)) + pad(data))
    s += block(e, 5, struct.pack(e + "III", 0, 0, 0) + option(e, 5, struct.pack(e + "Q", 3)) +
               option(e, 7, struct.pack(e + "Q", 4)) + option(e, 0, b""))
    s += shb(e) + idb(e, 101) + epb(e, 0, sec * 1000000 + usec, pkts[-1][2][14:])
    return s[4:]


def main():
    out, paths = sys.argv[1], sys.argv[2:]
    for p in paths:
        name = p.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        pkts = read_pcap(p, 8)
        for e, tag in (("<", "le"), (">", "be")):
            with open(f"{out}/{name}-mixed-{tag}", "wb") as f:
                f.write(seed(e, pkts))


if __name__ == "__main__":
    main()

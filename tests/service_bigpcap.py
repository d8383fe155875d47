#!/usr/bin/env python3
"""service_bigpcap.py IN.pcap OUT.pcap N - a large capture for the progress tests: the TCP
connections of IN (classic pcap, Ethernet, IPv4, no options) repeated N times, each copy with
its own client port and a later time, so every copy is a connection of its own. Checksums are
not recomputed (tlsaudit does not check them). Offline only: nothing is sent anywhere."""
import struct
import sys


def main():
    src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = open(src, 'rb').read()
    head, off, pkts = data[:24], 24, []
    while off + 16 <= len(data):
        ts, us, cl, ol = struct.unpack('<IIII', data[off:off + 16])
        pkts.append((ts, us, ol, bytearray(data[off + 16:off + 16 + cl])))
        off += 16 + cl
    base = pkts[0][0]
    with open(dst, 'wb') as out:
        out.write(head)
        for i in range(n):
            port = 1024 + i % 60000
            for ts, us, ol, frame in pkts:
                f = bytearray(frame)
                ihl = (f[14] & 0x0f) * 4
                tcp = 14 + ihl
                sport, dport = struct.unpack('>HH', f[tcp:tcp + 4])
                if sport != 443 and sport != 25:   # client to server: the source port
                    f[tcp:tcp + 2] = struct.pack('>H', port)
                else:
                    f[tcp + 2:tcp + 4] = struct.pack('>H', port)
                t = base + (ts - base) + i // 100
                out.write(struct.pack('<IIII', t, us, len(f), ol) + bytes(f))


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""pcap_redate.py IN OUT EPOCH_SECONDS - copy a classic pcap file (either byte order, micro- or
nanosecond magic) with its records moved in time so that the first starts at EPOCH_SECONDS; the
gaps between records are kept. For the retention tests, which need captures dated relative to
the clock of the machine that runs them (records past 2106 do not fit the format: refused)."""
import struct
import sys


def main():
    src, dst, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = open(src, 'rb').read()
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        end = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        end = '>'
    else:
        sys.exit('pcap_redate.py: %s: not a classic pcap file' % src)
    out = bytearray(data[:24])
    pos, shift = 24, None
    while pos + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(end + 'IIII', data[pos:pos + 16])
        if pos + 16 + incl > len(data):
            sys.exit('pcap_redate.py: %s: record cut short at byte %d' % (src, pos))
        if shift is None:
            shift = start - sec
        new = sec + shift
        if not 0 <= new < 2 ** 32:
            sys.exit('pcap_redate.py: %d is outside the pcap time range' % new)
        out += struct.pack(end + 'IIII', new, frac, incl, orig) + data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
    open(dst, 'wb').write(out)


if __name__ == '__main__':
    main()

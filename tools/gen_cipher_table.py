#!/usr/bin/env python3
"""gen_cipher_table.py - write src/record/cipher_table.c from tools/iana-tls-cipher-suites.csv.

Usage (from the repository root):
    python3 tools/gen_cipher_table.py > src/record/cipher_table.c

The CSV holds the IANA TLS Cipher Suites registry as "value,name" lines (comments start with
'#', the first non-comment line is the header). The 16 GREASE values of RFC 8701 are added here
with the name "GREASE" so one sorted table answers every lookup. The script refuses input that is
unsorted, duplicated, out of range or not a plain identifier, so the C side can trust the table
(bsearch needs ascending unique ids).
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CSV = os.path.join(HERE, "iana-tls-cipher-suites.csv")
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def fail(msg):
    sys.stderr.write("gen_cipher_table: %s\n" % msg)
    sys.exit(1)


def read_csv(path):
    rows = []
    header_seen = False
    with open(path, encoding="ascii") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not header_seen:
                if line != "value,name":
                    fail("%s:%d: expected header 'value,name'" % (path, lineno))
                header_seen = True
                continue
            parts = line.split(",")
            if len(parts) != 2:
                fail("%s:%d: expected 2 fields" % (path, lineno))
            value, name = parts
            if not re.match(r"^0x[0-9A-Fa-f]{4}$", value):
                fail("%s:%d: bad value %r" % (path, lineno, value))
            if not NAME_RE.match(name):
                fail("%s:%d: bad name %r" % (path, lineno, name))
            rows.append((int(value, 16), name, lineno))
    return rows


def main():
    rows = read_csv(CSV)
    prev = -1
    for value, _name, lineno in rows:
        if value <= prev:
            fail("line %d: 0x%04X not in ascending order or duplicated" % (lineno, value))
        prev = value
    table = {value: name for value, name, _ in rows}
    for hi in range(16):
        grease = (hi << 12) | 0x0A00 | (hi << 4) | 0x0A
        if grease in table:
            fail("0x%04X is GREASE (RFC 8701) but the CSV names it" % grease)
        table[grease] = "GREASE"

    out = sys.stdout
    out.write("/* cipher_table.c - GENERATED, do not edit: IANA TLS cipher suite names (RFC 8447 registry)\n")
    out.write(" * plus the RFC 8701 GREASE values, sorted by id for bsearch in src/record/names.c.\n")
    out.write(" * Regenerate: python3 tools/gen_cipher_table.py > src/record/cipher_table.c\n")
    out.write(" * Source data: tools/iana-tls-cipher-suites.csv (see its header for origin and date). */\n")
    out.write('#include "names_int.h"\n\n')
    out.write("const struct ta__cipher_entry ta__cipher_table[] = {\n")
    for value in sorted(table):
        out.write('    { 0x%04X, "%s" },\n' % (value, table[value]))
    out.write("};\n\n")
    out.write("const size_t ta__cipher_table_len = sizeof(ta__cipher_table) / sizeof(ta__cipher_table[0]);\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""encap_rows.py - compare the handshakes rows of two tlsaudit databases field by field.

Usage: encap_rows.py A.db B.db [TOLERANCE_US]

Rows are ordered by SNI (then client port) and compared column by column: every column of the
handshakes table but id, run_id and the encapsulation context (tunnel, vlan, vni, sgt), which
is what differs between a handshake seen through a tunnel and the same handshake without it.
With a tolerance, ts_us may differ by that many microseconds (two interfaces of one host
timestamp the same packet apart) and the ts text is not compared. Prints every difference and
exits 1 on any, or when the row counts differ or are below 1."""
import sqlite3
import sys


def rows(path, skip):
    db = sqlite3.connect(path)
    cols = [r[1] for r in db.execute("PRAGMA table_info(handshakes)") if r[1] not in skip]
    sql = "SELECT %s FROM handshakes ORDER BY sni, client_port" % ", ".join(cols)
    return cols, db.execute(sql).fetchall()


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    tol = int(argv[3]) if len(argv) == 4 else 0
    skip = {"id", "run_id", "tunnel", "vlan", "vni", "sgt"} | ({"ts"} if tol else set())
    ca, ra = rows(argv[1], skip)
    cb, rb = rows(argv[2], skip)
    bad = 0
    if ca != cb:
        print("columns differ: %s vs %s" % (ca, cb))
        return 1
    if len(ra) != len(rb) or not ra:
        print("row count %d vs %d" % (len(ra), len(rb)))
        bad = 1
    for a, b in zip(ra, rb):
        for c, x, y in zip(ca, a, b):
            if c == "ts_us" and x is not None and y is not None and abs(x - y) <= tol:
                continue
            if x != y:
                print("%s: %s: %r != %r" % (a[ca.index("sni")], c, x, y))
                bad = 1
    print("columns compared: %d, rows: %d" % (len(ca), len(ra)))
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv))

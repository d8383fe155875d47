#!/bin/bash
# it_quic_tshark.sh - tlsaudit's QUIC handshakes against tshark's own QUIC decryption: for every
# capture of the shared corpus ($TA_SHARED_PCAPS) in which tshark finds a ClientHello or
# ServerHello inside QUIC, each QUIC connection tshark sees (keyed by its UDP 4-tuple, client
# side first) must have a tlsaudit row with transport 'quic' and the same SNI (first
# ClientHello), negotiated version (supported_versions of the last ServerHello) and cipher suite.
# Every capture named in SOURCES.tsv as exercising QUIC must contribute at least one handshake,
# so a capture that tshark (or tlsaudit) silently stops reading fails the test. No exceptions
# list: every QUIC handshake must agree.
# Exit 77 (skipped) when tshark, python3 or the shared captures are missing.
set -u
BIN=${TA_BIN:-}
SHARED=${TA_SHARED_PCAPS:-}

skip() { echo "SKIPPED: it_quic_tshark: $*"; exit 77; }
command -v tshark >/dev/null || skip "tshark not installed"
command -v python3 >/dev/null || skip "python3 not installed"
[ -n "$BIN" ] && [ -x "$BIN" ] || skip "tlsaudit binary not built (TA_BIN='$BIN')"
[ -n "$SHARED" ] && [ -s "$SHARED/SOURCES.tsv" ] || skip "shared captures absent (TA_SHARED_PCAPS='$SHARED')"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The captures SOURCES.tsv says exercise QUIC (column 1 file, column 6 what it exercises).
mapfile -t named < <(awk -F'\t' 'NR > 1 && tolower($6) ~ /quic/ { print $1 }' "$SHARED/SOURCES.tsv")
[ ${#named[@]} -gt 0 ] || skip "no QUIC capture listed in $SHARED/SOURCES.tsv"

n=0
for base in "${named[@]}"; do
    f="$SHARED/$base"
    [ -s "$f" ] || { echo "FAIL: $base is listed in SOURCES.tsv but missing"; exit 1; }
    n=$((n + 1))
    "$BIN" capture -q --db "$tmp/$n.db" -r "$f" >"$tmp/$n.log" 2>&1
    "$BIN" query sessions --db "$tmp/$n.db" --format csv --all >"$tmp/$n.csv" 2>>"$tmp/$n.log" ||
        { echo "FAIL: $base: query sessions failed: $(head -c 300 "$tmp/$n.log")"; exit 1; }
    tshark -r "$f" -Y 'quic && (tls.handshake.type == 1 || tls.handshake.type == 2)' \
        -T fields -E separator='|' -E occurrence=a -E aggregator=',' \
        -e ip.src -e ipv6.src -e udp.srcport -e ip.dst -e ipv6.dst -e udp.dstport \
        -e tls.handshake.type -e tls.handshake.extensions_server_name \
        -e tls.handshake.extensions.supported_version -e tls.handshake.ciphersuite \
        >"$tmp/$n.tshark" 2>/dev/null
    printf '%s\t%s\t%s\n' "$base" "$tmp/$n.csv" "$tmp/$n.tshark" >>"$tmp/index"
done

python3 - "$tmp/index" <<'PY'
import csv, ipaddress, sys

def ip(s):
    try:
        return str(ipaddress.ip_address(s.strip()))
    except ValueError:
        return s.strip()

def parts(field):
    return [p for p in field.split(",") if p != ""]

def hexnum(s):
    s = (s or "").strip()
    return int(s, 16) if s.lower().startswith("0x") else (int(s) if s.isdigit() else None)

VERSIONS = {"TLS 1.3": 0x0304, "TLS 1.2": 0x0303}

def read_tshark(path):
    """One entry per QUIC connection (4-tuple, client first): the first ClientHello's SNI, the
    last ServerHello's selected version and cipher (a HelloRetryRequest comes before it)."""
    hs = {}
    for line in open(path, errors="replace"):
        f = line.rstrip("\n").split("|")
        if len(f) < 10:
            continue
        src = ip((parts(f[0]) or parts(f[1]) or [""])[-1])
        dst = ip((parts(f[3]) or parts(f[4]) or [""])[-1])
        sport, dport = int(parts(f[2])[-1]), int(parts(f[5])[-1])
        types, sni, sv, cs = parts(f[6]), parts(f[7]), parts(f[8]), parts(f[9])
        # A frame may hold both hellos of nothing else; the fields are in message order.
        if "1" in types:
            h = hs.setdefault((src, sport, dst, dport), {})
            if "ch" not in h:
                h["ch"] = True
                h["sni"] = sni[0] if sni else ""
        if "2" in types:
            h = hs.setdefault((dst, dport, src, sport), {})
            h["sh"] = True
            # the ServerHello's own supported_version and suite are the last ones listed
            h["version"] = hexnum(sv[-1]) if sv else None
            h["cipher"] = hexnum(cs[-1]) if cs else None
    return hs

def read_tlsaudit(path):
    rows = {}
    for r in csv.DictReader(open(path, newline="", errors="replace")):
        if r.get("transport") != "quic":
            continue
        key = (ip(r["client_ip"]), int(r["client_port"]), ip(r["server_ip"]), int(r["server_port"]))
        rows.setdefault(key, []).append(r)
    return rows

total = agreed = 0
failures = []
for line in open(sys.argv[1]):
    base, csv_path, tshark_path = line.rstrip("\n").split("\t")
    ts, ta = read_tshark(tshark_path), read_tlsaudit(csv_path)
    if not ts:
        failures.append("%s: tshark found no QUIC hello (capture listed as QUIC)" % base)
        continue
    extra = sorted(set(ta) - set(ts))
    for key in extra:
        failures.append("%s %s: tlsaudit row that tshark does not see" % (base, key))
    per_file = 0
    for key, h in sorted(ts.items()):
        total += 1
        rows = ta.get(key)
        diffs = []
        if not rows:
            diffs.append("no tlsaudit quic row")
        elif len(rows) != 1:
            diffs.append("%d rows for one connection" % len(rows))
        else:
            r = rows[0]
            if h.get("ch") and (r["sni"] or "") != h["sni"]:
                diffs.append("sni tlsaudit %r tshark %r" % (r["sni"], h["sni"]))
            if h.get("sh"):
                mine_v = VERSIONS.get(r["version"], r["version"])
                if mine_v != h["version"]:
                    diffs.append("version tlsaudit %r tshark %r" % (r["version"], h["version"]))
                mine_c = hexnum(r.get("cipher_id", ""))
                if mine_c != h["cipher"]:
                    diffs.append("cipher tlsaudit %r tshark %r" % (r.get("cipher_id"), h["cipher"]))
            elif r["version"]:
                diffs.append("tlsaudit has version %r, tshark saw no ServerHello" % r["version"])
        if diffs:
            failures.append("%s %s: %s" % (base, key, "; ".join(diffs)))
        else:
            agreed += 1
            per_file += 1
    print("%s: %d QUIC handshakes, %d agree" % (base, len(ts), per_file))

print("QUIC handshakes compared: %d, agreeing: %d" % (total, agreed))
for f in failures:
    print("FAIL: " + f)
sys.exit(1 if failures or total == 0 else 0)
PY

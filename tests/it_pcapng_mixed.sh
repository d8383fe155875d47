#!/bin/bash
# it_pcapng_mixed.sh - a pcapng file whose interfaces have different link types (what mergecap of
# an Ethernet and a Linux "any" capture, or dumpcap -i eth0 -i any, writes) is read whole by
# tlsaudit's own pcapng reader (src/capture/pcapng.c), each packet with its interface's link type.
# Real traffic on the loopback of a network namespace the test creates:
#   handshake 1, TLS 1.0 to 127.0.8.10:P1 (SNI legacy.mixed.example.test), by tcpdump -i lo
#     (EN10MB, 1) into a.pcap;
#   handshake 2, TLS 1.2 to 127.0.8.12:P2 (SNI modern.mixed.example.test), by tcpdump -i any
#     (Linux cooked, LINUX_SLL2 276 on Debian 12) into b.pcap;
# each file alone (through libpcap) giving its handshake, merged by mergecap into mixed.pcapng,
# whose IDBs must say link types 1 and 276 (and capinfos two encapsulations). Then:
#   1. capture -r mixed.pcapng: exit 0, both handshakes with their SNI and versions; `query
#      legacy` lists the TLS 1.0 client;
#   2. --filter 'tcp port P1' keeps handshake 1 only, 'tcp port P2' handshake 2 only (a filter
#      compiled for each link type, applied to each packet);
#   3. --workers 2, stdin (-r -) and the file gzipped give the same handshakes;
#   4. the file cut in the middle of the first packet block of interface 1 (handshake 2's first
#      packet): exit 1, a message naming the file that says "truncated", handshake 1 kept and
#      the run row marking the damage (as it_badcaptures.sh asks of a cut pcap);
#   5. handshake 3 recorded by dumpcap: its pcapng ends with an Interface Statistics block that
#      says 0 dropped (no drops counted, no warning); with its isb_ifdrop set to 5 the run counts
#      5 drops, the capture warns and the HTML report says so (one and two engine threads).
# Root only (a network namespace, tcpdump).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (a network namespace, tcpdump)"
for tool in openssl tcpdump ip mergecap capinfos gzip dumpcap; do
    command -v "$tool" >/dev/null || skip "$tool not installed (scripts/install-deps.sh)"
done
ns_start ta-ngmix

SRV1=127.0.8.10 SRV2=127.0.8.12
P1=$((46000 + $$ % 1000))
P2=$((P1 + 1))
SNI1=legacy.mixed.example.test SNI2=modern.mixed.example.test
ns_cert mixed.example.test "$IT_TMP/c.pem" "$IT_TMP/k.pem"

# hello ADDR PORT SNI VERSION: one handshake (openssl s_client -VERSION) to ADDR:PORT.
hello() { ns_hello "$1" "$2" "$4" "$IT_TMP/c.pem" "$IT_TMP/k.pem" -servername "$3"; }

# Both captures run across both handshakes; each port filter keeps one handshake per file.
ns_tcpdump "$IT_TMP/a.pcap" lo "tcp port $P1"
pid_a=$TCPDUMP_PID
ns_tcpdump "$IT_TMP/b.pcap" any "tcp port $P2"
pid_b=$TCPDUMP_PID
hello "$SRV1" "$P1" "$SNI1" tls1
sleep 0.3    # handshake 2's packets all come after handshake 1's in the merged file
hello "$SRV2" "$P2" "$SNI2" tls1_2
sleep 0.5
ns_tcpdump_stop "$pid_a" "$IT_TMP/a.pcap"
ns_tcpdump_stop "$pid_b" "$IT_TMP/b.pcap"

# Handshake 3 recorded by dumpcap, Wireshark's recorder: a pcapng of its own making, which ends
# with an Interface Statistics block (isb_ifdrop: what it lost).
P3=$((P1 + 2))
: >"$IT_TMP/dumpcap.log"
ip netns exec "$NS" timeout 60 dumpcap -q -i lo -f "tcp port $P3" -w "$IT_TMP/dc.pcapng" \
    >"$IT_TMP/dumpcap.log" 2>&1 &
pid_dc=$!
IT_CLEANUP_PIDS+=("$pid_dc")
for _ in $(seq 200); do grep -q "Capturing on" "$IT_TMP/dumpcap.log" && break; sleep 0.05; done
grep -q "Capturing on" "$IT_TMP/dumpcap.log" || die "dumpcap did not start: $(cat "$IT_TMP/dumpcap.log")"
hello "$SRV1" "$P3" "$SNI1" tls1_2
sleep 0.5
kill -INT "$pid_dc"
wait "$pid_dc" 2>/dev/null

# ngwalk FILE idb|cut|isb [OUT]: the link types of FILE's interface descriptions, one a line;
# or (cut) the offset of the middle of its first packet block (EPB 6, OPB 2) on interface 1; or
# (isb) the isb_ifdrop of each Interface Statistics block, after FILE is copied to OUT with each
# of them set to 5.
ngwalk() {
    python3 - "$@" <<'EOF'
import struct, sys
b, what = open(sys.argv[1], "rb").read(), sys.argv[2]
if what == "isb":
    out, off = bytearray(b), 0
    while off + 12 <= len(b):
        end = "<" if b[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        btype, blen = struct.unpack_from(end + "II", b, off)
        o = off + 20
        while btype == 5 and o + 4 <= off + blen - 4:
            code, olen = struct.unpack_from(end + "HH", b, o)
            if code == 0:
                break
            if code == 5 and olen == 8:
                print(struct.unpack_from(end + "Q", b, o + 4)[0])
                struct.pack_into(end + "Q", out, o + 4, 5)
            o += 4 + olen + (-olen % 4)
        off += blen
    open(sys.argv[3], "wb").write(out)
    sys.exit(0)
off, end = 0, "<"
while off + 12 <= len(b):
    if b[off:off + 4] == b"\x0a\x0d\x0d\x0a":
        end = "<" if b[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
    btype, blen = struct.unpack_from(end + "II", b, off)
    if btype == 1 and what == "idb":
        print(struct.unpack_from(end + "H", b, off + 8)[0])
    if btype in (6, 2) and what == "cut":
        if struct.unpack_from(end + ("I" if btype == 6 else "H"), b, off + 8)[0] == 1:
            print(off + blen // 2)
            break
    off += blen
EOF
}

# hs DB: the handshakes stored, in port order.
hs() { sql "$1" "SELECT server_port, sni, client_max_version, version FROM handshakes
                 ORDER BY server_port, id"; }
H1="$P1|$SNI1|769|769"
H2="$P2|$SNI2|771|771"

# The reference: each file alone, one link type each, read through libpcap as before.
for f in a b; do
    db=$(fresh_db "ref-$f")
    ta_capture "$db" "$IT_TMP/$f.pcap" || die "capture of $f.pcap failed: $(cat "$IT_TMP/capture.err")"
    ref=$H1
    [ "$f" = b ] && ref=$H2
    assert_eq "$(hs "$db")" "$ref" "$f.pcap alone: its handshake only"
done

MIX=$IT_TMP/mixed.pcapng
mergecap -F pcapng -w "$MIX" "$IT_TMP/a.pcap" "$IT_TMP/b.pcap" || die "mergecap failed"
assert_eq "$(ngwalk "$MIX" idb | tr '\n' ' ')" "1 276 " \
    "mixed.pcapng: two interfaces, Ethernet (1) and Linux cooked v2 (276)"
# capinfos, independently (its brackets hold Wireshark's own encapsulation numbers).
info=$(capinfos -M "$MIX" 2>&1)
assert_in "$info" "File encapsulation:  per-packet" "capinfos: one link type per packet"
assert_in "$info" "Encapsulation = Ethernet (" "capinfos: an Ethernet interface"
assert_in "$info" "Encapsulation = Linux cooked-mode capture v2 (" \
    "capinfos: a Linux cooked (SLL2) interface"

# --- 1. the whole file -------------------------------------------------------------------------
db=$(fresh_db mixed)
ta_capture "$db" "$MIX"
assert_eq "$?" 0 "mixed link types: exit 0 ($(head -c 300 "$IT_TMP/capture.err"))"
assert_eq "$(hs "$db")" "$H1"$'\n'"$H2" "mixed link types: both handshakes, SNI and versions"
assert_eq "$(sql "$db" "SELECT clean FROM runs")" 1 "mixed link types: the run is clean"
assert_eq "$(query "$db" legacy --all | csv_cols client_ip,versions,handshakes)" \
    "$(printf '127.0.0.1\tTLS 1.0\t1')" "mixed link types: the TLS 1.0 client is listed"

# --- 2. a filter on each link type ---------------------------------------------------------------
for case in "$P1|$H1" "$P2|$H2"; do
    port=${case%%|*}
    db=$(fresh_db "filter-$port")
    "$TA_BIN" capture -q --db "$db" --filter "tcp port $port" -r "$MIX" 2>"$IT_TMP/capture.err"
    assert_eq "$?" 0 "--filter 'tcp port $port': exit 0 ($(head -c 300 "$IT_TMP/capture.err"))"
    assert_eq "$(hs "$db")" "${case#*|}" "--filter 'tcp port $port': that handshake only"
done

# --- 3. two engine threads, stdin, gzip ----------------------------------------------------------
db=$(fresh_db workers)
"$TA_BIN" capture -q --workers 2 --db "$db" -r "$MIX" 2>"$IT_TMP/capture.err"
assert_eq "$?" 0 "--workers 2: exit 0 ($(head -c 300 "$IT_TMP/capture.err"))"
assert_eq "$(hs "$db")" "$H1"$'\n'"$H2" "--workers 2: both handshakes"

db=$(fresh_db stdin)
"$TA_BIN" capture -q --db "$db" -r - <"$MIX" 2>"$IT_TMP/capture.err"
assert_eq "$?" 0 "stdin: exit 0 ($(head -c 300 "$IT_TMP/capture.err"))"
assert_eq "$(hs "$db")" "$H1"$'\n'"$H2" "stdin: both handshakes"

gzip -k "$MIX" || die "gzip failed"
db=$(fresh_db gzip)
ta_capture "$db" "$MIX.gz"
assert_eq "$?" 0 "gzipped: exit 0 ($(head -c 300 "$IT_TMP/capture.err"))"
assert_eq "$(hs "$db")" "$H1"$'\n'"$H2" "gzipped: both handshakes"

# --- 4. cut short --------------------------------------------------------------------------------
# In the middle of handshake 2's first packet: everything of handshake 1 comes before it.
cut=$(ngwalk "$MIX" cut)
[ -n "$cut" ] || die "no packet block on interface 1 in $MIX"
head -c "$cut" "$MIX" >"$IT_TMP/cut.pcapng"
db=$(fresh_db cut)
out=$("$TA_BIN" capture -q --db "$db" -r "$IT_TMP/cut.pcapng" 2>&1)
assert_eq "$?" 1 "cut in a packet block: exit 1"
assert_in "$out" "$IT_TMP/cut.pcapng" "... the message names the file"
assert_in "$out" "truncated" "... and says why"
assert_eq "$(hs "$db")" "$H1" "... handshake 1, before the cut, is kept"
assert_eq "$(sql "$db" "SELECT clean, error LIKE '%cut.pcapng%' FROM runs")" "0|1" \
    "... the run row marks the damage and names the file"

# --- 5. what the recorder dropped ------------------------------------------------------------------
# dumpcap's file says it lost nothing: no drops counted, no warning. The same file saying it
# lost 5 (its isb_ifdrop set so): the run counts them, the capture warns, the report says so.
H3="$P3|$SNI1|771|771"
assert_eq "$(ngwalk "$IT_TMP/dc.pcapng" isb "$IT_TMP/dropped.pcapng")" 0 \
    "dumpcap wrote one Interface Statistics block, 0 dropped"
db=$(fresh_db dumpcap)
out=$("$TA_BIN" capture --db "$db" -r "$IT_TMP/dc.pcapng" 2>&1)
assert_eq "$?" 0 "dumpcap's pcapng: exit 0 ($out)"
assert_eq "$(hs "$db")" "$H3" "dumpcap's pcapng: its handshake"
assert_eq "$(sql "$db" "SELECT drops || '|' || if_drops FROM runs")" "0|0" "... nothing dropped"
case $out in
*incomplete*) fail "dumpcap's pcapng: a warning of drops that did not happen: $out" ;;
*) pass ;;
esac
for w in 1 2; do
    db=$(fresh_db "dropped-$w")
    out=$("$TA_BIN" capture --workers "$w" --db "$db" -r "$IT_TMP/dropped.pcapng" 2>&1)
    assert_eq "$?" 0 "a recorder that dropped 5, --workers $w: exit 0 ($out)"
    assert_eq "$(hs "$db")" "$H3" "... --workers $w: the handshake"
    assert_eq "$(sql "$db" "SELECT drops FROM runs")" 5 "... --workers $w: 5 drops in the run"
    assert_in "$out" "the capture was incomplete: 5 packets were dropped" \
        "... --workers $w: the capture says so"
done
"$TA_BIN" report --db "$db" --out "$IT_TMP/report.html" 2>"$IT_TMP/report.err" ||
    fail "report: $(cat "$IT_TMP/report.err")"
assert_in "$(tr -d '\n' <"$IT_TMP/report.html")" "5 packets were dropped by the kernel or the interface" \
    "the report's warning counts them"

it_done

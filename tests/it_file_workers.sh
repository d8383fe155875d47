#!/bin/bash
# it_file_workers.sh - `capture -r FILE --workers N` (a reader thread, N engine threads chosen by
# flow hash, src/capture/source_file_mt.c) stores exactly what the one-thread file source stores:
# for every capture of pcaps/ (and of the shared corpus when present) read with 1, 2 and 3 engine
# threads, the whole `query sessions --all` CSV, the DNS answers and the run counters equal the
# one-thread run's (rows compared sorted: the order of inserts is the threads'), and so do they
# for all captures in one run, whose files lie hours apart: with engines that expired flows by
# wall time, every flow would end at the first check. With --idle-timeout 1 flows end by the
# idle timeout in packet time while the next file is read.
#
# Not compared: flows_timed_out. An engine checks for idle flows every 256 of its packets and
# when the reader says how far packet time has gone, so a flow idle past the timeout may be ended
# by the timeout with engine threads and by the end of input in one thread (the same record); and
# a flow that idles past the timeout and then goes on may be split into two by one and not the
# other (seen here with --idle-timeout 1, hence no equality asked of that run).
# Last, the run row of a FIFO read with engine threads counts packets while the read goes on.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

need_pcap "$TA_PCAPS/tls12.pcap"

COUNTERS="packets, bytes, flows, flows_evicted, handshakes, ip_fragments, malformed, non_ip, pool_exhausted, clean"

# dump DB: what a run stored, in an order that does not depend on the threads.
dump() {
    query "$1" sessions --all | sort
    sql "$1" "SELECT ts_us, name, ipver, addr, cname FROM dns_answers ORDER BY 1, 2, 3, 4, 5"
    sql "$1" "SELECT ts_us, client_ip, client_port, server_ip, app, greeting_code, starttls_accepted,
                     o365, o365_service, o365_reason FROM mail_sessions ORDER BY 1, 2, 3"
    sql "$1" "SELECT $COUNTERS FROM runs"
}

# compare NAME OPTS... -- FILES...: one-thread run against --workers 1, 2, 3 with the same OPTS.
compare() {
    local name=$1 opts=() files=() f w db1 dbw rc1
    shift
    while [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    for f in "$@"; do files+=(-r "$f"); done
    db1=$(fresh_db "$name-1t")
    "$TA_BIN" capture -q --db "$db1" "${opts[@]}" "${files[@]}" 2>"$IT_TMP/capture.err"
    rc1=$?        # 1 for a capture libpcap cannot read to its end: the same is asked of N threads
    dump "$db1" >"$IT_TMP/one.txt"
    for w in 1 2 3; do
        dbw=$(fresh_db "$name-w$w")
        "$TA_BIN" capture -q --db "$dbw" --workers "$w" "${opts[@]}" "${files[@]}" 2>"$IT_TMP/capture.err"
        assert_eq "$?" "$rc1" "$name: --workers $w exit status ($(head -c 300 "$IT_TMP/capture.err"))"
        dump "$dbw" >"$IT_TMP/w.txt"
        if cmp -s "$IT_TMP/one.txt" "$IT_TMP/w.txt"; then
            pass
        else
            fail "$name: --workers $w differs from one thread: $(diff "$IT_TMP/one.txt" "$IT_TMP/w.txt" | head -6)"
        fi
    done
}

shopt -s nullglob
all=("$TA_PCAPS"/*.pcap)
for pcap in "${all[@]}"; do
    compare "$(basename "$pcap" .pcap)" -- "$pcap"
done
if [ -n "${TA_SHARED_PCAPS:-}" ] && [ -d "$TA_SHARED_PCAPS" ]; then
    for pcap in "$TA_SHARED_PCAPS"/*.pcap "$TA_SHARED_PCAPS"/*.pcapng; do
        compare "shared-$(basename "$pcap")" -- "$pcap"
    done
else
    echo "it_file_workers: shared captures not found; the project's own captures only"
fi

# Every capture in one run (by name: their times go back and forth, it_time_order.sh).
compare all -- "${all[@]}"
# A flow left open (a ClientHello, no answer), then 10 s later the other captures one after
# another: with --idle-timeout 1 it ends by the timeout in packet time while they are read.
python3 "$TA_SRC/tests/pcap_redate.py" "$TA_PCAPS/tls12.pcap" "$IT_TMP/open-full.pcap" 1790000000 ||
    die "pcap_redate.py failed"
later=()
for f in "${all[@]}"; do
    later+=("$IT_TMP/later-${#later[@]}.pcap")
    python3 "$TA_SRC/tests/pcap_redate.py" "$f" "${later[-1]}" $((1790000010 + ${#later[@]} * 20)) ||
        die "pcap_redate.py failed"
done
python3 - "$IT_TMP/idle.pcap" "$IT_TMP/open-full.pcap" "${later[@]}" <<'PY' || die "cannot join the captures"
import struct, sys
out, first, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
def records(path, limit=None):
    d = open(path, 'rb').read()
    e = '<' if d[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    o, n = 24, 0
    while o + 16 <= len(d) and (limit is None or n < limit):
        cap = struct.unpack(e + 'I', d[o + 8:o + 12])[0]
        yield d[o:o + 16 + cap]
        o, n = o + 16 + cap, n + 1
head = open(first, 'rb').read(24)
with open(out, 'wb') as w:
    w.write(head)
    for r in records(first, 4):           # SYN, SYN-ACK, ACK, ClientHello
        w.write(r)
    for p in rest:
        for r in records(p):
            w.write(r)
PY
for w in 1 2; do
    db=$(fresh_db "idle1-w$w")
    "$TA_BIN" capture -q --db "$db" --workers "$w" --idle-timeout 1 -r "$IT_TMP/idle.pcap" 2>/dev/null
    assert_eq "$?" 0 "a flow left open, --idle-timeout 1, --workers $w: exit status"
    assert_eq "$(sql "$db" "SELECT flows_timed_out >= 1, time_back FROM runs")" "1|0" \
        "a flow left open, --idle-timeout 1, --workers $w: ended by the idle timeout"
    assert_eq "$(sql "$db" "SELECT client_hello, server_hello FROM handshakes WHERE ts_us < 1790000005000000")" \
        "1|0" "a flow left open, --workers $w: its ClientHello stored alone"
done

# While a long file is read with engine threads, the run row follows it (the writer's tick sums
# what the reader and each engine thread publish), as with one thread: `tlsaudit status` sees the
# read progress. The file is a FIFO: ten copies of office365.pcap's packets (950), the first five
# written, then the test waits for the row to count packets before it writes the rest; the run
# ends with all 950 counted.
python3 - "$TA_PCAPS/office365.pcap" "$IT_TMP/long1.pcap" "$IT_TMP/long2.pcap" <<'PY'
import struct, sys
src, out1, out2 = sys.argv[1:4]
data = open(src, 'rb').read()
hdr, recs, off = data[:24], [], 24
endian = '<' if data[:4] == b'\xd4\xc3\xb2\xa1' else '>'
while off + 16 <= len(data):
    sec, usec, incl, orig = struct.unpack(endian + 'IIII', data[off:off + 16])
    recs.append((sec, usec, data[off + 16:off + 16 + incl], orig))
    off += 16 + incl
def copies(first, last):
    b = b''
    for k in range(first, last):
        for sec, usec, pkt, orig in recs:
            b += struct.pack(endian + 'IIII', sec + 600 * k, usec, len(pkt), orig) + pkt
    return b
open(out1, 'wb').write(hdr + copies(0, 5))
open(out2, 'wb').write(copies(5, 10))
PY
long=$(fresh_db long)
mkfifo "$IT_TMP/long.fifo"
"$TA_BIN" capture -q --workers 2 --db "$long" -r "$IT_TMP/long.fifo" 2>"$IT_TMP/long.err" &
cap=$!
exec {lf}>"$IT_TMP/long.fifo"
cat "$IT_TMP/long1.pcap" >&$lf
seen=0
for _ in $(seq 300); do
    seen=$(sql "$long" "SELECT COALESCE(max(packets), 0) FROM runs" 2>/dev/null)
    [ "${seen:-0}" -gt 0 ] && break
    sleep 0.1
done
assert_eq "$([ "${seen:-0}" -ge 256 ] && echo yes)" yes \
    "--workers 2 reading a FIFO: the run row counts packets while the read goes on ($seen)"
cat "$IT_TMP/long2.pcap" >&$lf
exec {lf}>&-
wait "$cap"
assert_eq "$?" 0 "--workers 2 reading a FIFO: exit 0"
assert_eq "$(sql "$long" "SELECT packets FROM runs")" 950 "--workers 2 reading a FIFO: every packet counted"

# Options: --workers with -r is accepted in range, refused outside it.
"$TA_BIN" capture --db "$IT_TMP/x.db" -r "$TA_PCAPS/tls12.pcap" --workers 17 2>/dev/null
assert_eq "$?" 2 "--workers 17 with -r: usage error"

it_done

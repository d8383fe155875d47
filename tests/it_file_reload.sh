#!/bin/bash
# it_file_reload.sh - SIGHUP while `capture -r` reads: the new filter applies from the next read,
# and the rest of the file is still read: without --workers, with --workers 1 and 2.
#
# The file is a FIFO the test writes in two parts, so the SIGHUP falls at a known point:
#   part 1: a pcap header, the handshake of pcaps/tls12.pcap (port 443), one filler packet;
#   then the config's filter changes from "tcp port 443 or udp port 9" to "tcp port 587 or udp
#   port 9" and the capture gets SIGHUP; once its log says the config was re-read,
#   part 2: one filler packet, then pcaps/tls13.pcap (port 443) and pcaps/smtp-starttls-tls12.pcap
#   (port 587).
# Filler packets are UDP to port 9 (discard), which both filters pass and the engine ignores.
# A reader blocked on the FIFO sees the reload's wake-up after the packet it is reading, so the
# first packet of part 2 may still meet the old filter: that is the filler's job.
# Expected: the tls12 handshake (before), the SMTP one (after), not the tls13 one (filtered), and
# the run reads both parts: its packet count includes part 2's packets that passed.
# The same stream as a pcapng file (tlsaudit's own reader, src/capture/pcapng.c, which follows
# the wake-up as libpcap's broken loop does): without --workers and with --workers 2.
# Last, a SIGHUP that lands during the start-up (see startup_sighup below).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/service_lib.sh
. "$(dirname "$0")/service_lib.sh"

need_pcap "$TA_PCAPS/tls12.pcap"
need_pcap "$TA_PCAPS/tls13.pcap"
need_pcap "$TA_PCAPS/smtp-starttls-tls12.pcap"
command -v python3 >/dev/null || skip "python3 not installed (writes the pcap parts)"

# parts.py OUT1 OUT2 PCAPS_DIR [pcapng]: the two parts of the stream (pcap, or pcapng with one
# Ethernet interface; microseconds).
cat >"$IT_TMP/parts.py" <<'PY'
import struct, sys
out1, out2, d = sys.argv[1], sys.argv[2], sys.argv[3]

def packets(path):
    data = open(path, 'rb').read()
    magic, = struct.unpack('<I', data[:4])
    assert magic == 0xa1b2c3d4, path + ': not a little-endian microsecond pcap'
    assert struct.unpack('<I', data[20:24])[0] == 1, path + ': not Ethernet'
    off, recs = 24, []
    while off + 16 <= len(data):
        sec, usec, cap, wire = struct.unpack('<IIII', data[off:off + 16])
        recs.append((sec, usec, data[off + 16:off + 16 + cap], wire))
        off += 16 + cap
    return recs

def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def filler(sec):
    payload = b'filler'
    udp = struct.pack('!HHHH', 40009, 9, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 2]))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    frame = b'\x00' * 12 + b'\x08\x00' + ip + udp
    return (sec, 0, frame, len(frame))

ng = len(sys.argv) > 4 and sys.argv[4] == 'pcapng'

def block(btype, body):
    body += b'\0' * (-len(body) % 4)
    return struct.pack('<II', btype, 12 + len(body)) + body + struct.pack('<I', 12 + len(body))

def write(path, recs, header):
    with open(path, 'wb') as f:
        if header and ng:
            f.write(block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1)))
            f.write(block(1, struct.pack('<HHI', 1, 0, 65535)))
        elif header:
            f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for sec, usec, frame, wire in recs:
            if ng:
                t = sec * 1000000 + usec
                f.write(block(6, struct.pack('<IIIII', 0, t >> 32, t & 0xFFFFFFFF, len(frame),
                                             wire) + frame))
            else:
                f.write(struct.pack('<IIII', sec, usec, len(frame), wire) + frame)

a = packets(d + '/tls12.pcap')
b = packets(d + '/tls13.pcap') + packets(d + '/smtp-starttls-tls12.pcap')
t0 = a[-1][0] + 1
# part 2 keeps time moving forward: its flows start after part 1's
b = [(t0 + 1 + i // 1000, usec, fr, w) for i, (_, usec, fr, w) in enumerate(b)]
write(out1, a + [filler(t0)], True)
write(out2, [filler(t0 + 1)] + b, False)
PY
python3 "$IT_TMP/parts.py" "$IT_TMP/part1" "$IT_TMP/part2" "$TA_PCAPS" ||
    die "cannot write the pcap parts"
python3 "$IT_TMP/parts.py" "$IT_TMP/ng-part1" "$IT_TMP/ng-part2" "$TA_PCAPS" pcapng ||
    die "cannot write the pcapng parts"

# one_run WORKERS [ng-]: the scenario above with --workers WORKERS (0: without --workers, the
# reader's own engine, source_file.c; otherwise source_file_mt.c), from the pcap parts or (ng-)
# the pcapng ones
one_run() {
    local w=$1 pre=${2:-}
    local fifo=$IT_TMP/in-$pre$w.pcap db=$IT_TMP/reload-$pre$w.db
    local conf=$IT_TMP/reload-$pre$w.conf out=$IT_TMP/cap-$pre$w.out cap fd
    rm -f "$fifo"
    mkfifo "$fifo"
    printf 'db = %s\nfilter = tcp port 443 or udp port 9\nlog-level = info\n' "$db" >"$conf"
    local wopt=()
    [ "$w" -gt 0 ] && wopt=(--workers "$w")
    "$TA_BIN" capture --config "$conf" -r "$fifo" "${wopt[@]}" >"$out" 2>&1 &
    cap=$!
    IT_CLEANUP_PIDS+=("$cap")
    exec {fd}>"$fifo"
    cat "$IT_TMP/${pre}part1" >&"$fd"
    wait_sql "$db" "SELECT count(*) FROM runs" 1 || die "${pre}workers $w: capture did not start: $(cat "$out")"
    printf 'db = %s\nfilter = tcp port 587 or udp port 9\nlog-level = info\n' "$db" >"$conf"
    kill -HUP "$cap"
    wait_log "$out" "SIGHUP: config re-read" ||
        { exec {fd}>&-; die "${pre}workers $w: no reload logged: $(cat "$out")"; }
    cat "$IT_TMP/${pre}part2" >&"$fd"
    exec {fd}>&-
    wait "$cap" || fail "${pre}workers $w: capture exited with $?: $(tail -3 "$out")"
    assert_eq "$(sql "$db" "SELECT server_port, COALESCE(sni, '') FROM handshakes ORDER BY ts_us")" \
        "443|www.example.test
587|" "${pre}workers $w: before SIGHUP port 443 stored, after it port 587 stored and 443 filtered"
    assert_eq "$(sql "$db" "SELECT count(*) FROM runs")" 1 "${pre}workers $w: one run"
    assert_in "$(cat "$out")" "applied: filter" "${pre}workers $w: the log names the filter as applied"
}

one_run 0
one_run 1
one_run 2
one_run 0 ng-
one_run 2 ng-

# A SIGHUP during the start-up is a reload asked for, not the end of the process (SIGHUP's
# default action): a service manager may send it at any time. The --config file is a FIFO, so
# the capture waits in its start-up, opening it, until the test writes it; the SIGHUP lands
# there. The reload is taken at the run's first tick and reads the config again (the FIFO's
# second write): the run ends by itself, with its handshake and reloads = 1.
startup_sighup() {
    local fifo=$IT_TMP/startup.conf sdb cap i
    sdb=$(fresh_db startup)
    mkfifo "$fifo"
    "$TA_BIN" capture --config "$fifo" --db "$sdb" -r "$TA_PCAPS/tls12.pcap" \
        >"$IT_TMP/startup.out" 2>&1 &
    cap=$!
    for i in $(seq 200); do
        [ "$(cat "/proc/$cap/wchan" 2>/dev/null)" = wait_for_partner ] && break
        sleep 0.05
    done
    if [ "$(cat "/proc/$cap/wchan" 2>/dev/null)" != wait_for_partner ]; then
        kill -9 "$cap" 2>/dev/null
        echo "SKIPPED CASE: $IT_NAME: SIGHUP during the start-up: /proc/PID/wchan does not show" \
            "the capture waiting for its config FIFO on this kernel"
        return
    fi
    kill -HUP "$cap"
    timeout 20 sh -c 'printf "log-level = info\n" >"$1"' sh "$fifo" ||
        fail "SIGHUP during the start-up: the capture did not read its config (it died?)"
    timeout 20 sh -c 'printf "log-level = info\n" >"$1"' sh "$fifo" ||
        fail "SIGHUP during the start-up: no reload read the config again"
    timeout 20 tail --pid="$cap" -f /dev/null
    kill -9 "$cap" 2>/dev/null
    wait "$cap"
    assert_eq "$?" 0 "SIGHUP during the start-up: the capture ends by itself, exit 0"
    assert_eq "$(sql "$sdb" "SELECT count(*) FROM handshakes")|$(sql "$sdb" "SELECT reloads FROM runs")" \
        "1|1" "SIGHUP during the start-up: the handshake stored, one reload in the run row"
}
startup_sighup
it_done

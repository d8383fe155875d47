#!/bin/bash
# it_workers_frag.sh - live capture with several workers reads fragmented connections whole. The
# workers' packet sockets share one PACKET_FANOUT group that spreads packets by their pair of IP
# addresses (src/capture/fanout.c), so a connection, both its directions and its IP fragments
# reach one worker. (The kernel's flow hash, used before, sent IPv6 fragments by addresses and
# the rest of their connection by ports: the worker that rebuilt a server flight was often not
# the one that held its flow, and the handshake was read in part.)
#   1. Sixteen TLS 1.2 connections (eight IPv4 and eight IPv6 copies of pcaps/tls12.pcap and
#      pcaps/tls12-ipv6.pcap, each client at an address of its own) whose server flights are
#      cut into fragments for a 576-byte path (tests/frag_rewrite.py), replayed with tcpreplay
#      into one end of a veth pair between two network namespaces of the test's own
#      (tests/encap_netns.sh) and read live at the other with --workers 2: the same rows as a
#      one-thread read of the file, every datagram rebuilt, and both workers given packets.
#   2. A VXLAN mirror whose two sides use different outer source ports, whole and fragmented:
#      the rows of a one-thread read (the kernel's hash, used before, split its connections).
#   3. Frames cut short (the program cannot read their addresses) among whole ones: read and
#      counted as one thread reads the file.
#   4. lo, which hands a packet socket each fragment twice (sent and received), with --workers
#      2: a fragmented UDP datagram is rebuilt (the kernel's reassembly for the group, used
#      before, delivered nothing there).
# Skipped (77) when not root, or without ip(8) netns support, tcpreplay or scapy.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "live capture in network namespaces needs root"
command -v ip >/dev/null || skip "ip(8) not installed (scripts/install-deps.sh)"
command -v tcpreplay >/dev/null || skip "tcpreplay not installed (scripts/install-deps.sh)"
/usr/bin/python3 -c 'import scapy' 2>/dev/null || skip "python3-scapy not installed"
need_pcap "$TA_PCAPS/tls12.pcap"
need_pcap "$TA_PCAPS/tls12-ipv6.pcap"

# 1. The file: sixteen connections, each client alone at its address, 10 ms apart.
/usr/bin/python3 - "$TA_PCAPS/tls12.pcap" "$TA_PCAPS/tls12-ipv6.pcap" "$IT_TMP/many.pcap" <<'PY' ||
import sys
from scapy.all import IP, IPv6, TCP, rdpcap, wrpcap
v4, v6, out = rdpcap(sys.argv[1]), rdpcap(sys.argv[2]), []
for i in range(8):
    for pkts, six in ((v4, False), (v6, True)):
        first = pkts[0]
        client = (first[IPv6].src, first[TCP].sport) if six else (first[IP].src, first[TCP].sport)
        for p in pkts:
            q = p.copy()
            ip, tcp = (q[IPv6], q[TCP]) if six else (q[IP], q[TCP])
            from_client = (ip.src, tcp.sport) == client
            caddr = "fd77:1::%d" % (i + 1) if six else "10.77.1.%d" % (i + 1)
            saddr = "fd77:2::1" if six else "10.77.2.1"
            ip.src, ip.dst = (caddr, saddr) if from_client else (saddr, caddr)
            if from_client:
                tcp.sport = 40000 + i
            else:
                tcp.dport = 40000 + i
            del tcp.chksum
            if not six:
                del ip.chksum
            q.time = p.time + (2 * i + six) * 0.01
            out.append(q)
out.sort(key=lambda q: q.time)
wrpcap(sys.argv[3], out)
PY
    die "cannot write the sixteen connections"
said=$(/usr/bin/python3 "$TA_SRC/tests/frag_rewrite.py" "$IT_TMP/many.pcap" "$IT_TMP/frag.pcap" \
    576 2>&1) ||
    die "frag_rewrite.py: $said"
assert_ge "${said%% *}" 16 "frag_rewrite.py cut every server flight ($said)"

ref=$(fresh_db ref)
ta_capture "$ref" "$IT_TMP/frag.pcap" || die "one-thread capture of the file failed"
cols="client_ip, client_port, server_ip, server_port, version, cipher_id, sni, established, ja3,
      ja4"
assert_eq "$(sql "$ref" "SELECT count(*), count(version), sum(established) FROM handshakes")" \
    "16|16|16" "one thread: sixteen whole handshakes"

. "$TA_SRC/tests/encap_netns.sh"
trap 'enc_ns_down; it_cleanup' EXIT
enc_ns_up || skip "cannot create the namespaces $ENC_NS_C, $ENC_NS_S"

# replay_live NAME FILE FILTER: FILE replayed into c0 while `capture -v -i s0 --workers 2 -f
# FILTER` reads s0 into a fresh database ($db, its output $IT_TMP/NAME.out).
replay_live() {
    db=$(fresh_db "$1-live")
    start_capture_ns "$ENC_NS_S" "$db" "$IT_TMP/$1.out" -v -i s0 --workers 2 -f "$3"
    enc_c tcpreplay -q -i c0 "$2" >"$IT_TMP/replay.out" 2>&1 ||
        die "tcpreplay $1: $(cat "$IT_TMP/replay.out")"
    sleep 1.5    # the last flows end; a worker's counters are published every second
    stop_capture "$cap_pid" "$IT_TMP/$1.out"
}

replay_live live "$IT_TMP/frag.pcap" "tcp port 443 or ip[6:2] & 0x1fff != 0 or ip6[6] = 44"

assert_eq "$(sql "$db" "SELECT $cols FROM handshakes ORDER BY client_ip")" \
    "$(sql "$ref" "SELECT $cols FROM handshakes ORDER BY client_ip")" \
    "--workers 2, live: the same sixteen handshakes as one thread reading the file"
assert_eq "$(sql "$db" "SELECT ip_reassembled, ip_incomplete, drops FROM runs")" \
    "$(sql "$ref" "SELECT ip_reassembled, 0, 0 FROM runs")" \
    "--workers 2, live: every datagram rebuilt, none given up, no drops"
for w in 0 1; do
    n=$(sed -n "s/.*s0: worker $w read \([0-9]*\) packets.*/\1/p" "$IT_TMP/live.out")
    assert_ge "${n:-0}" 1 "worker $w read packets ($(grep -c 'worker' "$IT_TMP/live.out") lines)"
done

# 2. A VXLAN mirror (tests/data/encap/vxlan.pcap, made by Linux VXLAN devices: each side's
#    outer UDP source port is its own), whole and with its outer packets cut for a 576-byte
#    path: the rows of a one-thread read of the same file.
need_pcap "$TA_DATA/encap/vxlan.pcap"
said=$(/usr/bin/python3 "$TA_SRC/tests/frag_rewrite.py" "$TA_DATA/encap/vxlan.pcap" \
    "$IT_TMP/vxlan-576.pcap" 576 2>&1) || die "frag_rewrite.py: $said"
for f in "$TA_DATA/encap/vxlan.pcap" "$IT_TMP/vxlan-576.pcap"; do
    name=$(basename "$f" .pcap)
    ref=$(fresh_db "$name-ref")
    ta_capture "$ref" "$f" || die "$name: one-thread capture of the file failed"
    replay_live "$name" "$f" "udp or ip[6:2] & 0x1fff != 0"
    assert_ge "$(sql "$ref" "SELECT count(*) FROM handshakes WHERE established")" 3 \
        "$name: the file's handshakes"
    assert_eq "$(sql "$db" "SELECT $cols, tunnel, vni FROM handshakes ORDER BY sni")" \
        "$(sql "$ref" "SELECT $cols, tunnel, vni FROM handshakes ORDER BY sni")" \
        "$name, --workers 2, live: the rows of one thread reading the file"
done

# 3. Hostile frames, whose addresses the group's program cannot read (IPv4 and IPv6 headers cut
#    short, a frame that is only an Ethernet header), among whole ones: the capture goes on, and
#    counts them as one thread reading the file does.
/usr/bin/python3 - "$IT_TMP/runts.pcap" <<'PY' || die "cannot write the cut frames"
import sys
from scapy.all import Ether, IP, IPv6, UDP, Raw, wrpcap
e4 = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x0800)
e6 = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x86dd)
whole4 = e4 / IP(src="10.77.3.1", dst="10.77.3.2") / UDP(sport=5000, dport=9) / Raw(b"x" * 40)
whole6 = e6 / IPv6(src="fd77:3::1", dst="fd77:3::2") / UDP(sport=5000, dport=9) / Raw(b"x" * 40)
frames = [whole4, Ether(bytes(whole4)[:14 + 12]), whole6, Ether(bytes(whole6)[:14 + 20]),
          Ether(bytes(whole4)[:14]), whole4]
for i, f in enumerate(frames):
    f.time = 1700000000 + i * 0.01
wrpcap(sys.argv[1], frames)
PY
ref=$(fresh_db runts-ref)
ta_capture "$ref" "$IT_TMP/runts.pcap" || die "one-thread capture of the cut frames failed"
assert_ge "$(sql "$ref" "SELECT malformed FROM runs")" 2 "one thread: the cut frames are malformed"
replay_live runts "$IT_TMP/runts.pcap" "ether src 02:00:00:00:00:01"
assert_eq "$(sql "$db" "SELECT packets, malformed FROM runs")" \
    "$(sql "$ref" "SELECT packets, malformed FROM runs")" \
    "cut frames, --workers 2, live: read and counted as one thread reads the file"

# 4. lo, two workers, a 3,000-byte UDP datagram over a 1,280-byte MTU.
ns_start wfrag-lo
in_ns ip link set lo mtu 1280 || die "cannot set lo's MTU in $NS"
trap 'enc_ns_down; ns_cleanup' EXIT
db=$(fresh_db lo)
start_capture_ns "$NS" "$db" "$IT_TMP/lo.out" -i lo --workers 2 \
    -f "udp port 9 or ip[6:2] & 0x1fff != 0"
in_ns python3 -c '
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x" * 3000, ("127.0.0.1", 9))' ||
    die "cannot send over lo"
sleep 1.5
stop_capture "$cap_pid" "$IT_TMP/lo.out"
assert_eq "$(sql "$db" "SELECT ip_fragments, ip_reassembled, ip_incomplete FROM runs")" "3|1|0" \
    "lo, --workers 2: the three fragments read and the datagram rebuilt"

it_done

#!/bin/bash
# it_lost_segments.sh - a plaintext STARTTLS dialogue read past a segment the capture missed.
# A loaded sensor or a span port drops packets; a segment of the dialogue that never made it to
# the capture (its receiver acknowledged it, so it is never sent again) used to stop the
# dialogue, and the TLS hello behind STARTTLS was never read: the printer upgrading SMTP to
# TLS 1.0 was invisible. The stream now steps over such a hole once the peer acknowledged the
# bytes held beyond it, and the dialogue goes on (ta_stream_skip_hole).
#
# For every bundled STARTTLS capture, each plaintext segment is deleted in turn (editcap); each
# cut capture must give the TLS handshake of the whole one: application, starttls, negotiated and
# offered versions; the row carries the stream_gap anomaly; the legacy list equals the whole
# capture's; the mail session row is kept. Without the server's greeting the protocol is
# recognised by the client's first command (EHLO, a tagged CAPABILITY, CAPA, AUTH TLS ...);
# without the client's first command the dialogue goes on from the next one. Deleting the
# ServerHello's own segment still loses that hello (a TLS record cannot be resumed in its
# middle).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

command -v editcap >/dev/null || skip "editcap (wireshark-common) not installed (scripts/install-deps.sh)"
command -v tshark >/dev/null || skip "tshark not installed (scripts/install-deps.sh)"

hs() { sql "$1" "SELECT app, starttls, ifnull(version, ''), ifnull(client_max_version, '')
                 FROM handshakes WHERE client_hello OR server_hello ORDER BY client_port"; }

n=0
for name in smtp-starttls-tls10 smtp-starttls-tls11 smtp-starttls-tls12 smtp-starttls-tls13 \
            imap-starttls imap-starttls-tls10 pop3-stls ftp-auth-tls; do
    pcap=$TA_PCAPS/$name.pcap
    need_pcap "$pcap"
    whole=$(fresh_db "$name")
    ta_capture "$whole" "$pcap" || fail "$name: capture: $(cat "$IT_TMP/capture.err")"
    ref=$(hs "$whole")
    assert_in "$ref" "|1|" "($name: the whole capture has an upgrade)"
    legacy_ref=$("$TA_BIN" query legacy --all --db "$whole" --format csv)
    # the plaintext segments: payload before the first TLS record of the connection
    frames=$(tshark -r "$pcap" -Y 'tcp.len > 0' -T fields -e frame.number -e tcp.payload 2>/dev/null |
             awk -F'\t' 'substr($2, 1, 4) == "1603" { exit } { print $1 }')
    [ -n "$frames" ] || die "$name: no plaintext segment found"
    for f in $frames; do
        cut=$IT_TMP/$name-no$f.pcap
        editcap "$pcap" "$cut" "$f" || die "editcap $name $f"
        db=$(fresh_db "$name-no$f")
        ta_capture "$db" "$cut" || fail "$name without frame $f: capture: $(cat "$IT_TMP/capture.err")"
        assert_eq "$(hs "$db")" "$ref" "$name without frame $f: the handshake behind STARTTLS"
        assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes WHERE anomalies & 32 = 0
                                AND (client_hello OR server_hello)")" 0 \
            "$name without frame $f: the row says bytes were lost (stream_gap)"
        assert_eq "$("$TA_BIN" query legacy --all --db "$db" --format csv)" "$legacy_ref" \
            "$name without frame $f: legacy list"
        assert_eq "$(sql "$db" "SELECT count(*), sum(starttls_accepted) FROM mail_sessions")" \
            "1|1" "$name without frame $f: its mail session, STARTTLS accepted"
        n=$((n + 1))
    done
done
assert_ge "$n" 35 "segments deleted"

# The ServerHello's segment itself: TLS is not resumed in the middle of a record.
pcap=$TA_PCAPS/smtp-starttls-tls10.pcap
f=$(tshark -r "$pcap" -Y 'tls.handshake.type == 2' -T fields -e frame.number 2>/dev/null | head -1)
editcap "$pcap" "$IT_TMP/no-sh.pcap" "$f" || die "editcap"
db=$(fresh_db no-sh)
ta_capture "$db" "$IT_TMP/no-sh.pcap" || fail "without the ServerHello: capture"
assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes WHERE server_hello")" 0 \
    "without the ServerHello's segment: no ServerHello invented"
assert_eq "$(sql "$db" "SELECT client_max_version FROM handshakes WHERE client_hello")" 769 \
    "without the ServerHello's segment: the ClientHello is still read"

it_done

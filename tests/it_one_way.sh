#!/bin/bash
# it_one_way.sh - captures that hold one direction of each connection only: a span port fed one
# direction of a link, or asymmetric routing that sends the answers another way. Every bundled
# capture (real openssl, swaks and Python traffic) is split by tshark into what the clients sent
# and what the servers sent, and each half is read alone:
#  - the clients' half gives every ClientHello's offered version, behind STARTTLS too, and every
#    mail session with what the client said in it (EHLO name, STARTTLS, AUTH and mail in clear);
#  - the servers' half gives every negotiated version, behind STARTTLS too: a server that answers
#    in TLS where a reply line was due has accepted an upgrade whose command was not seen; and
#    every refusal: a server whose first bytes are a plaintext alert refused a hello not seen;
# each as the whole captures give them, so a TLS 1.0 client is found from either half.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

command -v tshark >/dev/null || skip "tshark not installed"

whole=() cside=() sside=()
for f in "$TA_PCAPS"/*.pcap; do
    b=$(basename "$f" .pcap)
    # The clients: the senders of SYNs without ACK (every bundled TCP connection starts with one).
    filt=$(tshark -r "$f" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' \
        -T fields -e ip.src -e ipv6.src -e tcp.srcport 2>/dev/null |
        awk -F'\t' '{ a = $1 != "" ? "ip.src == " $1 : "ipv6.src == " $2;
                      printf "%s(%s && tcp.srcport == %s)", n++ ? " || " : "", a, $3 }')
    [ -n "$filt" ] || continue
    tshark -r "$f" -Y "tcp && ($filt)" -w "$IT_TMP/c-$b.pcap" 2>/dev/null || die "tshark -w failed"
    tshark -r "$f" -Y "tcp && !($filt)" -w "$IT_TMP/s-$b.pcap" 2>/dev/null || die "tshark -w failed"
    whole+=(-r "$f") cside+=(-r "$IT_TMP/c-$b.pcap") sside+=(-r "$IT_TMP/s-$b.pcap")
done
assert_ge "${#whole[@]}" 40 "(the bundled captures are here: $((${#whole[@]} / 2)) with TCP)"

dw=$(fresh_db whole)
dc=$(fresh_db clients)
ds=$(fresh_db servers)
"$TA_BIN" capture -q --db "$dw" "${whole[@]}" || fail "whole captures: exit $?"
"$TA_BIN" capture -q --db "$dc" "${cside[@]}" || fail "clients' half: exit $?"
"$TA_BIN" capture -q --db "$ds" "${sside[@]}" || fail "servers' half: exit $?"

# versions DB COLUMN: client_port and COLUMN of the rows where COLUMN is known.
versions() { sql "$1" "SELECT client_port, $2 FROM handshakes WHERE $2 IS NOT NULL
                       ORDER BY client_port, ts_us"; }
# rows DB: rows per connection, and which ones had a HelloRetryRequest.
rows() { sql "$1" "SELECT client_port, count(*), sum(hrr) FROM handshakes GROUP BY client_port
                   ORDER BY client_port"; }
ref=$(rows "$dw")
assert_in "$ref" "|1|1" "(the whole captures have a handshake with a HelloRetryRequest)"
# The clients' half of tls13-hrr.pcap: its second ClientHello has the first one's random, so it
# answered a HelloRetryRequest (RFC 8446 4.1.2): one row with hrr, as from the whole capture.
assert_eq "$(rows "$dc")" "$ref" "clients' half: one row per handshake, HelloRetryRequest known"
# upgrades DB: the handshakes behind a plaintext dialogue, with their application.
upgrades() { sql "$1" "SELECT DISTINCT client_port, app FROM handshakes WHERE starttls = 1
                       AND app IN ('smtp', 'imap', 'pop3', 'ftp') ORDER BY client_port"; }
ref=$(upgrades "$dw")
assert_ge "$(wc -l <<<"$ref")" 8 "(the whole captures have STARTTLS upgrades)"
assert_eq "$(upgrades "$dc")" "$ref" "clients' half: every STARTTLS upgrade, with its application"
assert_eq "$(upgrades "$ds")" "$ref" "servers' half: every STARTTLS upgrade, with its application"
ref=$(versions "$dw" client_max_version)
assert_ge "$(wc -l <<<"$ref")" 20 "(the whole captures have offered versions)"
assert_eq "$(versions "$dc" client_max_version)" "$ref" \
    "clients' half: every offered version, as the whole captures give it"
ref=$(versions "$dw" version)
assert_ge "$(wc -l <<<"$ref")" 20 "(the whole captures have negotiated versions)"
assert_eq "$(versions "$ds" version)" "$ref" \
    "servers' half: every negotiated version, as the whole captures give it"
# A refusal: the server's fatal alert, its first bytes when its direction is all there is.
refusals() { sql "$1" "SELECT client_port, alert_level, alert_desc, alert_dir FROM handshakes
                       WHERE alert_desc IS NOT NULL ORDER BY client_port"; }
ref=$(refusals "$dw")
assert_ge "$(wc -l <<<"$ref")" 3 "(the whole captures have refused handshakes)"
assert_eq "$(refusals "$ds")" "$ref" "servers' half: every refusal (the server's alert), as whole"
assert_eq "$(sql "$ds" "SELECT count(*) FROM handshakes WHERE app = 'other'")" 0 \
    "servers' half: no connection taken for an unknown protocol with a prelude"
assert_eq "$(sql "$ds" "SELECT count(*) FROM mail_sessions WHERE starttls_accepted = 1")" \
    "$(sql "$dw" "SELECT count(*) FROM mail_sessions WHERE starttls_accepted = 1")" \
    "servers' half: each accepted upgrade is recorded as accepted"
# The clients' half of the mail protocols: the client's first command names the protocol; what
# the client said is as in the whole capture (its name, STARTTLS, AUTH and mail in clear, the
# upgrade taken: a TLS hello after STARTTLS), what only the server says is unknown.
said() { sql "$1" "SELECT client_port, app, client_name, starttls_sent, starttls_accepted,
                   auth_in_clear, mail_in_clear, handshake_id IS NOT NULL FROM mail_sessions
                   ORDER BY client_port"; }
ref=$(said "$dw")
for app in smtp imap pop3 ftp; do
    assert_in "$ref" "|$app|" "(the whole captures have $app sessions)"
done
assert_eq "$(said "$dc")" "$ref" "clients' half: every mail session, with what the client said"
assert_eq "$(sql "$dc" "SELECT count(*) FROM mail_sessions WHERE
                        greeting_code IS NOT NULL OR greeting <> '' OR capabilities <> ''")" 0 \
    "clients' half: no greeting and no capabilities invented"
for d in "$dc" "$ds"; do
    assert_in "$(query "$d" legacy --all | csv_cols client_ip,versions)" "TLS 1.0" \
        "a TLS 1.0 client is listed from $(basename "$d" .db)' half alone"
done

it_done

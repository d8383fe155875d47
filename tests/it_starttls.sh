#!/bin/bash
# it_starttls.sh - the project's SMTP/IMAP/POP3/FTP captures (real swaks and openssl s_client
# sessions against pcaps/starttls_server.py): each mail session row (greeting host, STARTTLS
# offered/sent/accepted/refused, AUTH and MAIL in clear) and the TLS handshake it hands over to
# (app, starttls = 1, version, cipher), as in tests/data/starttls-expected.tsv; then the
# plaintext report over all of them.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

EXPECTED=$TA_DATA/starttls-expected.tsv
[ -s "$EXPECTED" ] || die "$EXPECTED missing"
need_pcap "$TA_PCAPS/smtp-starttls-tls10.pcap"

files=$(awk -F'\t' '!/^#/ { print $1 }' "$EXPECTED" | uniq)
all=()
for name in $files; do
    pcap=$TA_PCAPS/$name.pcap
    [ -s "$pcap" ] || { fail "$name: capture $pcap missing"; continue; }
    all+=("$pcap")
    db=$(fresh_db "$name")
    ta_capture "$db" "$pcap"
    assert_eq "$?" 0 "$name: capture exit status ($(head -c 300 "$IT_TMP/capture.err"))"
    got=$(sql "$db" "SELECT m.app, m.greeting_host, m.starttls_offered, m.starttls_sent,
        m.starttls_accepted, m.starttls_refused, m.auth_in_clear, m.mail_in_clear,
        ifnull(h.app, '-'), ifnull(h.starttls, '-'),
        CASE WHEN h.version IS NULL THEN '-' ELSE printf('0x%04X', h.version) END,
        CASE WHEN h.cipher_id IS NULL THEN '-' ELSE printf('0x%04X', h.cipher_id) END
        FROM mail_sessions m LEFT JOIN handshakes h ON h.id = m.handshake_id
        ORDER BY m.ts_us, m.id" | tr '|' '\t')
    assert_eq "$got" "$(expected_rows "$EXPECTED" "$name")" "$name: mail session and its handshake"
    # A session that never upgraded must not have produced a handshake row at all.
    if [ "$(expected_rows "$EXPECTED" "$name" | cut -f9)" = "-" ]; then
        assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes")" 0 "$name: no handshake row"
    fi
done

# Everything in one database: the reports.
db=$(fresh_db all)
ta_capture "$db" "${all[@]}"
assert_eq "$?" 0 "all STARTTLS captures: exit status"

# sessions: the upgraded handshakes, app and starttls columns as the query tool prints them.
got=$(query "$db" sessions --all | csv_cols server_ip,server_port,app,starttls,version,cipher_id | sort)
assert_eq "$got" "$(printf '%s\n' \
    "127.0.5.10	25	smtp	1	TLS 1.0	0xC014" \
    "127.0.5.11	25	smtp	1	TLS 1.1	0x002F" \
    "127.0.5.12	587	smtp	1	TLS 1.2	0xC030" \
    "127.0.5.13	25	smtp	1	TLS 1.3	0x1302" \
    "127.0.6.1	143	imap	1	TLS 1.2	0xC02F" \
    "127.0.6.2	143	imap	1	TLS 1.0	0x0035" \
    "127.0.6.3	110	pop3	1	TLS 1.2	0xCCA8" \
    "127.0.6.4	21	ftp	1	TLS 1.2	0x009C")" "sessions report over the STARTTLS captures"

# --app filters.
assert_eq "$(query "$db" sessions --all --app imap | csv_cols server_ip | sort | tr '\n' ' ')" \
    "127.0.6.1 127.0.6.2 " "sessions --app imap"
assert_eq "$(query "$db" sessions --all --app smtp --version 'TLS 1.0' | csv_cols server_ip)" \
    "127.0.5.10" "sessions --app smtp --version 'TLS 1.0'"

# plaintext: the three SMTP sessions that stayed in clear, with what they exposed.
cols=server_ip,app,greeting_host,starttls_offered,starttls_sent,starttls_accepted,starttls_refused,auth_in_clear,mail_in_clear
got=$(query "$db" plaintext --all | csv_cols "$cols" | grep -E '^127\.0\.5\.1[456]	' | sort)
assert_eq "$got" "$(printf '%s\n' \
    "127.0.5.14	smtp	relay.example.test	0	0	0	0	1	1" \
    "127.0.5.15	smtp	mx.example.test	1	0	0	0	0	1" \
    "127.0.5.16	smtp	mx.example.test	1	1	0	1	0	0")" "plaintext report: sessions left in clear"
# ... one row per captured session, no more.
assert_eq "$(query "$db" plaintext --all | csv_cols server_ip | wc -l)" \
    "$(sql "$db" "SELECT count(*) FROM mail_sessions")" "plaintext report: one row per session"
assert_eq "$(sql "$db" "SELECT count(*) FROM mail_sessions")" "${#all[@]}" "one mail session per capture"
# The report's own filters.
# (--no-starttls: the SMTP server that never advertised it; the POP3/FTP sessions where s_client
# sent STLS/AUTH TLS without asking CAPA/FEAT first are not asserted either way here.)
assert_eq "$(query "$db" plaintext --no-starttls | csv_cols server_ip | grep '^127\.0\.5\.' | sort | tr '\n' ' ')" \
    "127.0.5.14 " "plaintext --no-starttls (SMTP)"
assert_eq "$(query "$db" plaintext --offered-unused | csv_cols server_ip)" "127.0.5.15" \
    "plaintext --offered-unused"
# None of these servers is Office 365.
assert_eq "$(query "$db" plaintext --o365 | csv_cols server_ip)" "" "plaintext --o365"

it_done

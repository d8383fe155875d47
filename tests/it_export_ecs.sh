#!/bin/bash
# it_export_ecs.sh - `tlsaudit export --format ecs`: every line is JSON, every ECS field has the
# type the ECS field reference (version 8.11) gives it, the rows are exactly the database's, and
# --follow with --cursor survives a restart without repeating or skipping a row.
. "$(dirname "$0")/lib.sh"

db=$(fresh_db ecs)
args=()
for f in "$TA_PCAPS"/*.pcap "$TA_DATA/hostile-sni.pcap"; do args+=(-r "$f"); done
"$TA_BIN" capture -q --db "$db" --sensor edge-1 "${args[@]}" 2>"$IT_TMP/capture.err" \
    || die "capture: $(cat "$IT_TMP/capture.err")"

# check_ecs FILE: python validates every line; prints "lines handshakes mail" on success.
check_ecs() {
    python3 - "$1" <<'EOF'
import ipaddress, json, re, sys
# ECS 8.11 field reference: type of every ECS field we emit ("[]" = ECS normalises it to an array).
ECS = {
    "@timestamp": "date", "ecs.version": "keyword",
    "event.kind": "keyword", "event.category": "keyword[]", "event.type": "keyword[]",
    "event.module": "keyword", "event.dataset": "keyword", "event.id": "keyword",
    "event.outcome": "keyword",
    "observer.name": "keyword", "observer.product": "keyword", "observer.vendor": "keyword",
    "observer.version": "keyword",
    "source.ip": "ip", "source.port": "long",
    "destination.ip": "ip", "destination.port": "long", "destination.domain": "keyword",
    "network.transport": "keyword", "network.type": "keyword", "network.protocol": "keyword",
    "tls.version": "keyword", "tls.version_protocol": "keyword", "tls.cipher": "keyword",
    "tls.established": "boolean", "tls.resumed": "boolean", "tls.next_protocol": "keyword",
    "tls.client.server_name": "keyword", "tls.client.ja3": "keyword",
    "tls.client.supported_ciphers": "keyword[]", "tls.server.ja3s": "keyword",
    "tls.server.x509.subject.common_name": "keyword[]",
    "tls.server.x509.issuer.distinguished_name": "keyword",
    "tls.server.x509.alternative_names": "keyword[]",
    "tls.server.x509.not_before": "date", "tls.server.x509.not_after": "date",
    "tls.server.x509.public_key_algorithm": "keyword",
    "tls.server.x509.public_key_size": "long",
}
ALLOWED = {  # ECS allowed values for the categorisation fields
    "event.kind": {"event"}, "event.outcome": {"success", "failure", "unknown"},
    "event.category": {"network"}, "event.type": {"connection", "protocol"},
    "tls.version_protocol": {"tls", "ssl"}, "network.type": {"ipv4", "ipv6"},
}
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

def ok_scalar(t, v):
    if t == "keyword":
        return isinstance(v, str) and v != ""
    if t == "long":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "date":
        return isinstance(v, str) and DATE.match(v) is not None
    if t == "ip":
        try:
            ipaddress.ip_address(v)
            return True
        except ValueError:
            return False
    return False

def flat(prefix, obj, out):
    for k, v in obj.items():
        key = prefix + k
        if isinstance(v, dict):
            flat(key + ".", v, out)
        else:
            out[key] = v

bad, hs, mail, n = 0, 0, 0, 0
for lineno, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    n += 1
    try:
        doc = json.loads(line)
    except ValueError as e:
        print("line %d: not JSON: %s" % (lineno, e)); bad += 1; continue
    f = {}
    flat("", doc, f)
    for k, v in f.items():
        if k.startswith("tlsaudit."):
            continue
        t = ECS.get(k)
        if t is None:
            print("line %d: %s is not an ECS field we declare" % (lineno, k)); bad += 1; continue
        if t.endswith("[]"):
            good = isinstance(v, list) and v and all(ok_scalar(t[:-2], x) for x in v)
        else:
            good = ok_scalar(t, v)
        if good and k in ALLOWED:
            good = all(x in ALLOWED[k] for x in (v if isinstance(v, list) else [v]))
        if not good:
            print("line %d: %s = %r is not a valid ECS %s" % (lineno, k, v, t)); bad += 1
    for need in ("@timestamp", "source.ip", "source.port", "destination.ip", "destination.port",
                 "event.dataset", "network.transport", "observer.name"):
        if need not in f:
            print("line %d: %s missing" % (lineno, need)); bad += 1
    ds = f.get("event.dataset")
    if ds == "tlsaudit.handshake":
        hs += 1
        if not isinstance(f.get("tls.established"), bool):
            print("line %d: tls.established missing" % lineno); bad += 1
    elif ds == "tlsaudit.mail_session":
        mail += 1
    else:
        print("line %d: event.dataset %r" % (lineno, ds)); bad += 1
if bad:
    sys.exit(1)
print(n, hs, mail)
EOF
}

out=$IT_TMP/all.jsonl
"$TA_BIN" export --db "$db" --format ecs >"$out" 2>"$IT_TMP/export.err"
assert_eq "$?" 0 "export exits 0"
want="$(sql "$db" "SELECT (SELECT count(*) FROM handshakes) + (SELECT count(*) FROM mail_sessions),
                          (SELECT count(*) FROM handshakes), (SELECT count(*) FROM mail_sessions)" | tr '|' ' ')"
got=$(check_ecs "$out")
assert_eq "$?" 0 "every line is JSON with ECS types"
assert_eq "$got" "$want" "one line per handshake and per mail session"
assert_ge "$(sql "$db" "SELECT count(*) FROM mail_sessions")" 1 "the captures hold mail sessions"

# Values: the tls10.pcap handshake is TLS 1.0 in ECS spelling; sources match the rows; the
# sensor is observer.name; the hostile SNI survives as a JSON string.
vals=$(python3 - "$out" <<'EOF'
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
hs = [d for d in docs if d["event"]["dataset"] == "tlsaudit.handshake"]
print(sorted({d["tls"].get("version", "") for d in hs if "tls" in d}))
print(sorted({d["observer"]["name"] for d in docs}))
print(" ".join("%s:%d>%s:%d" % (d["source"]["ip"], d["source"]["port"], d["destination"]["ip"],
                                d["destination"]["port"]) for d in hs))
print(sum(1 for d in hs if d["tls"]["established"]))
EOF
)
rows=$(sql "$db" "SELECT group_concat(client_ip || ':' || client_port || '>' || server_ip || ':' || server_port, ' ')
                  FROM (SELECT * FROM handshakes ORDER BY id)")
assert_in "$(sed -n 1p <<<"$vals")" "'1.0'" "TLS 1.0 as tls.version \"1.0\""
assert_in "$(sed -n 1p <<<"$vals")" "'1.3'" "TLS 1.3 as tls.version \"1.3\""
assert_eq "$(sed -n 2p <<<"$vals")" "['edge-1']" "observer.name is the sensor"
assert_eq "$(sed -n 3p <<<"$vals")" "$rows" "source/destination of every handshake, in id order"
assert_eq "$(sed -n 4p <<<"$vals")" "$(sql "$db" "SELECT sum(established) FROM handshakes")" "tls.established"

# --since: only rows at or after the time.
mid=$(sql "$db" "SELECT ts FROM handshakes ORDER BY ts_us LIMIT 1 OFFSET 10")
"$TA_BIN" export --db "$db" --format ecs --since "$mid" >"$IT_TMP/since.jsonl"
assert_eq "$(wc -l <"$IT_TMP/since.jsonl")" \
    "$(sql "$db" "SELECT (SELECT count(*) FROM handshakes WHERE ts >= '$mid') + (SELECT count(*) FROM mail_sessions WHERE ts >= '$mid')")" \
    "--since keeps rows at or after the time"

# --follow with a cursor: start on a database with one capture, add a second while following,
# stop, add a third, restart: every row exactly once over the three outputs.
fdb=$(fresh_db follow)
cur=$IT_TMP/cursor
ta_capture "$fdb" "$TA_PCAPS/tls10.pcap" "$TA_PCAPS/smtp-starttls-tls10.pcap" || die "capture 1"
"$TA_BIN" export --db "$fdb" --format ecs --follow --cursor "$cur" --interval 0.1 >"$IT_TMP/f1.jsonl" &
fpid=$!
IT_CLEANUP_PIDS+=("$fpid")
ta_capture "$fdb" "$TA_PCAPS/tls12.pcap" "$TA_PCAPS/smtp-starttls-tls12.pcap" || die "capture 2"
total=$(sql "$fdb" "SELECT (SELECT count(*) FROM handshakes) + (SELECT count(*) FROM mail_sessions)")
for _ in $(seq 100); do
    [ "$(wc -l <"$IT_TMP/f1.jsonl")" -ge "$total" ] && break
    sleep 0.1
done
kill -TERM "$fpid"
wait "$fpid"
assert_eq "$?" 0 "export --follow ends cleanly on SIGTERM"
assert_eq "$(wc -l <"$IT_TMP/f1.jsonl")" "$total" "--follow wrote the rows added while it ran"
ta_capture "$fdb" "$TA_PCAPS/tls13.pcap" "$TA_PCAPS/smtp-plain-auth.pcap" || die "capture 3"
"$TA_BIN" export --db "$fdb" --format ecs --cursor "$cur" >"$IT_TMP/f2.jsonl"
assert_eq "$?" 0 "export with the cursor after a restart"
total=$(sql "$fdb" "SELECT (SELECT count(*) FROM handshakes) + (SELECT count(*) FROM mail_sessions)")
ids=$(cat "$IT_TMP/f1.jsonl" "$IT_TMP/f2.jsonl" | python3 -c '
import json, sys
ids = [json.loads(l)["event"]["id"] for l in sys.stdin]
print(len(ids), len(set(ids)))')
assert_eq "$ids" "$total $total" "every row exactly once across the restart"
"$TA_BIN" export --db "$fdb" --format ecs --cursor "$cur" >"$IT_TMP/f3.jsonl"
assert_eq "$(wc -c <"$IT_TMP/f3.jsonl")" 0 "nothing new: nothing written"

# A cursor file that is not one is refused rather than silently restarting from zero.
echo garbage >"$IT_TMP/badcursor"
"$TA_BIN" export --db "$fdb" --format ecs --cursor "$IT_TMP/badcursor" >/dev/null 2>"$IT_TMP/bad.err"
assert_eq "$?" 1 "a bad cursor file is an error"

it_done

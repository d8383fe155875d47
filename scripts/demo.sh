#!/bin/sh
# demo.sh - the main job on the bundled captures: build, capture every pcaps/ file into one
# database, then list the clients still using legacy TLS toward Office 365 (and everywhere), and
# write the compliance report page (build/demo-report.html, or $TLSAUDIT_REPORT).
set -eu
cd "$(dirname "$0")/.."
sh scripts/build.sh build
bin=./build/tlsaudit
db=${TLSAUDIT_DB:-build/demo.db}
rm -f "$db" "$db-wal" "$db-shm"
set --
for f in pcaps/*.pcap pcaps/*.pcapng; do
    [ -e "$f" ] && set -- "$@" -r "$f"
done
"$bin" capture --db "$db" "$@"
"$bin" query summary --db "$db"
echo
echo "== Clients using legacy TLS, every destination =="
"$bin" query legacy --db "$db" --all
echo
echo "== Clients still using SSL 3.0 / TLS 1.0 / TLS 1.1 toward Office 365 =="
"$bin" query legacy --db "$db"
echo
report=${TLSAUDIT_REPORT:-build/demo-report.html}
"$bin" report --db "$db" --out "$report"
echo "== Compliance report written to $(cd "$(dirname "$report")" && pwd)/$(basename "$report") =="
echo "   open it in a browser, or print it (A4 or Letter); no script, nothing fetched"

#!/bin/sh
# demo.sh - the main job on the bundled captures: build, capture every pcaps/ file into one
# database, then list the clients still using legacy TLS toward Office 365 (and everywhere).
set -eu
cd "$(dirname "$0")/.."
sh scripts/build.sh build
db=${TLSAUDIT_DB:-build/demo.db}
rm -f "$db" "$db-wal" "$db-shm"
set --
for f in pcaps/*.pcap pcaps/*.pcapng; do
    [ -e "$f" ] && set -- "$@" -r "$f"
done
./build/tlsaudit capture --db "$db" "$@"
./build/tlsaudit query summary --db "$db"
echo
echo "== Clients using legacy TLS, every destination =="
./build/tlsaudit query legacy --db "$db" --all
echo
echo "== Clients still using SSL 3.0 / TLS 1.0 / TLS 1.1 toward Office 365 =="
./build/tlsaudit query legacy --db "$db"

#!/bin/bash
# it_flood.sh - a million short flows must not grow memory past a fixed ceiling, and the
# handshakes that matter must still be recorded.
#
# fuzz/tools/floodgen.py writes (deterministically) 1,000,000 TCP flows in 100 s of capture time:
# 500,000 spoofed SYNs, 200,000 port-scan probes answered by RST, 300,000 clients that send the
# first 5 bytes of a TLS record and stall (each wants a reassembly buffer and an analysis
# context), then three copies of the real TLS 1.0 handshake of pcaps/tls10.pcap rewritten to
# 198.51.100.1-3 -> 203.0.113.10. `capture --max-flows 65536` runs under /usr/bin/time -v.
# Checks: exit 0; peak RSS under RSS_CEILING_KB; the run row counts every packet, about a million
# flows, flows_evicted > 0 and pool_exhausted > 0, and ends clean; the three spliced handshakes
# are stored (TLS 1.0, SNI, established) and `query legacy` reports them.
#
# Memory: measured 2026-11-23 (gcc RelWithDebInfo, nDPI on): 73 MB peak RSS with --max-flows
# 65536, 98 MB with the default 262144 (17 MB for a one-connection capture), since stalled
# analyses are settled early once the 4096 analysis contexts are busy (181 MB before that). What
# remains is the flow table, the contexts with the first page of a stream buffer each, and
# SQLite's 16 MiB page cache. The ceiling leaves ~40% margin for allocator and library differences;
# sanitizer builds (shadow memory) are skipped for the RSS check only.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

RSS_CEILING_KB=104000
need_pcap "$TA_PCAPS/tls10.pcap"
[ -x /usr/bin/time ] || skip "/usr/bin/time (GNU time) is needed for the peak RSS"

pcap=$IT_TMP/flood.pcap
python3 "$TA_SRC/fuzz/tools/floodgen.py" "$pcap" "$TA_PCAPS/tls10.pcap" 3 ||
    die "floodgen.py failed"
db=$(fresh_db flood)

start=$(date +%s)
/usr/bin/time -v "$TA_BIN" capture -q --db "$db" -r "$pcap" --max-flows 65536 \
    2>"$IT_TMP/time.txt"
rc=$?
echo "capture: exit $rc in $(($(date +%s) - start)) s"
assert_eq "$rc" 0 "capture of the flood exits 0 ($(grep -v '^	' "$IT_TMP/time.txt" | head -3))"

rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$IT_TMP/time.txt")
echo "peak RSS: ${rss:-?} kB (ceiling $RSS_CEILING_KB kB)"
if sanitizer_build; then
    echo "sanitizer build: peak RSS not checked (ASan shadow memory)"
else
    if [ -n "$rss" ] && [ "$rss" -lt "$RSS_CEILING_KB" ]; then
        pass
    else
        fail "peak RSS ${rss:-?} kB is not under the ceiling $RSS_CEILING_KB kB"
    fi
fi

# 500,000 + 2 x 200,000 + 3 x 300,000 flood packets + 3 x 16 handshake packets.
run=$(sql "$db" "SELECT packets, clean, flows_evicted > 0, pool_exhausted > 0, error IS NULL
                 FROM runs")
assert_eq "$run" "1800048|1|1|1|1" "runs: packets, clean, flows_evicted > 0, pool_exhausted > 0, no error"
flows=$(sql "$db" "SELECT flows FROM runs")
assert_ge "$flows" 990000 "runs.flows (distinct flows seen; a few random SYN flood sources collide)"
echo "runs: $(sql "$db" "SELECT 'flows=' || flows || ' evicted=' || flows_evicted ||
                           ' pool_exhausted=' || pool_exhausted FROM runs")"

got=$(sql "$db" "SELECT client_ip, client_port, server_ip, server_port, version, sni, established
                 FROM handshakes WHERE client_ip LIKE '198.51.100.%' ORDER BY client_ip")
assert_eq "$got" "198.51.100.1|50001|203.0.113.10|443|769|legacy.example.test|1
198.51.100.2|50002|203.0.113.10|443|769|legacy.example.test|1
198.51.100.3|50003|203.0.113.10|443|769|legacy.example.test|1" "spliced handshakes recorded"
n=$(query "$db" legacy --all --client 198.51.100.0/24 | csv_cols client_ip | sort -u | wc -l)
assert_eq "$n" 3 "query legacy --client 198.51.100.0/24 lists the three TLS 1.0 clients"
it_done

#!/bin/bash
# it_report_browser.sh - the report page in a real browser: Debian's chromium, headless, loads
# the page from a file (scripts/install-deps.sh installs chromium and poppler-utils).
#   - bundled captures: the screenshot is not blank (many colours, a real share of ink); the DOM
#     dump holds one offender row per `query legacy` client; the DOM has exactly the elements
#     the page wrote (same census per tag as the file) and nothing unsafe; --print-to-pdf gives a
#     PDF whose text (pdftotext) holds the headline figures;
#   - hostile captures (tests/data/hostile-html.pcap: <script>, quotes, javascript: in an SNI
#     and an SMTP greeting; tests/data/hostile-sni.pcap: controls and invalid UTF-8): the DOM
#     again has only the page's own elements, and the hostile strings are there as text.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

command -v chromium >/dev/null || skip "chromium not installed (scripts/install-deps.sh)"
command -v pdftotext >/dev/null || skip "pdftotext not installed (poppler-utils)"
PAGE="python3 $TA_SRC/tests/report_page.py"

# browser ARGS...: headless chromium with nothing reaching out (no network services, no sync),
# a profile of its own; bounded in time.
browser() {
    local prof
    prof=$(mktemp -d "$IT_TMP/profile.XXXXXX")
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-extensions --user-data-dir="$prof" --hide-scrollbars "$@" 2>>"$IT_TMP/chromium.log"
}

# census FILE: element counts per tag (the BAD lines dropped)
census() { $PAGE elements "$1" | grep -v '^BAD'; }

# --- bundled captures -----------------------------------------------------------------------------
db=$(fresh_db bundled)
ta_capture "$db" "$TA_PCAPS"/*.pcap || die "capture failed: $(cat "$IT_TMP/capture.err")"
"$TA_BIN" report --db "$db" --out "$IT_TMP/r.html" || die "report failed"

browser --window-size=1280,1400 --screenshot="$IT_TMP/shot.png" "file://$IT_TMP/r.html" >/dev/null
[ -s "$IT_TMP/shot.png" ] || die "no screenshot (see $IT_TMP/chromium.log)"
read -r w h colours ink < <(python3 "$TA_SRC/tests/png_colours.py" "$IT_TMP/shot.png")
assert_eq "$w x $h" "1280 x 1400" "screenshot size"
assert_ge "$colours" 50 "the screenshot has many colours (text, charts, cards), not a blank page"
assert_ge "$ink" 10 "at least 10% of the screenshot is not white"

browser --dump-dom "file://$IT_TMP/r.html" >"$IT_TMP/dom.html"
assert_ge "$(wc -c <"$IT_TMP/dom.html")" 1000 "the DOM dump is not empty"
for ip in $(query "$db" legacy | csv_cols client_ip); do
    assert_in "$(cat "$IT_TMP/dom.html")" "class=\"off\" id=\"o-" "offender rows in the DOM"
    assert_eq "$(grep -c "data-client=\"$ip\"" "$IT_TMP/dom.html")" 1 "offender row of $ip in the DOM"
done
assert_eq "$(census "$IT_TMP/dom.html")" "$(census "$IT_TMP/r.html")" \
    "bundled: the DOM holds exactly the elements of the file"
assert_eq "$($PAGE elements "$IT_TMP/dom.html" | grep '^BAD' || true)" "" "bundled: nothing unsafe in the DOM"

browser --print-to-pdf="$IT_TMP/r.pdf" --no-pdf-header-footer "file://$IT_TMP/r.html" >/dev/null
[ -s "$IT_TMP/r.pdf" ] || die "no PDF (see $IT_TMP/chromium.log)"
pdftotext "$IT_TMP/r.pdf" "$IT_TMP/r.txt" || fail "pdftotext failed"
text=$(tr -s ' \n' ' ' <"$IT_TMP/r.txt")
n=$(query "$db" legacy | csv_cols client_ip | wc -l)
hs=$(query "$db" summary | csv_cols section,key,handshakes | awk -F'\t' '$1 == "legacy" && $2 == "o365" { print $3 }')
assert_in "$text" "$n clients still use SSL or TLS 1.0/1.1 toward Office 365" "PDF: legacy O365 clients"
assert_in "$text" "Legacy TLS toward Office 365" "PDF: the title"
# the six headline cards print their numbers alone on a line, in page order
cards=$(grep -E '^[0-9][0-9,]*$' "$IT_TMP/r.txt" | head -6 | tr -d , | tr '\n' ' ')
figs=$($PAGE figures "$IT_TMP/r.html")
want=""
for id in h-legacy-clients h-legacy-hs h-refused-clients h-moved-clients h-all-legacy-clients h-nofs-hs; do
    want="$want$(awk -v n="$id" '$1 == "id" && $2 == n { print $3 }' <<<"$figs") "
done
assert_eq "$cards" "$want" "PDF: the headline cards hold the page's figures"
assert_eq "$(cut -d' ' -f1-2 <<<"$cards")" "$n $hs" "PDF: legacy O365 clients and handshakes = query legacy/summary"

# --- hostile captures -----------------------------------------------------------------------------
[ -s "$TA_DATA/hostile-html.pcap" ] || die "tests/data/hostile-html.pcap missing (tests/data/hostile-html-make.sh)"
hdb=$(fresh_db hostile)
ta_capture "$hdb" "$TA_DATA/hostile-html.pcap" "$TA_DATA/hostile-sni.pcap" ||
    die "capture failed: $(cat "$IT_TMP/capture.err")"
sni='"><script>alert(1)</script><img src=x onerror=alert(2)>'"'"'javascript:alert(3)'
host='"><script>alert(4)</script><svg/onload=alert(5)>javascript:alert(6)'
assert_eq "$(sql "$hdb" "SELECT count(*) FROM handshakes WHERE sni = '$(sed "s/'/''/g" <<<"$sni")'")" 1 \
    "the hostile SNI is stored as sent"
assert_eq "$(sql "$hdb" "SELECT count(*) FROM mail_sessions WHERE greeting_host = '$host'")" 1 \
    "the hostile greeting host is stored as sent"
"$TA_BIN" report --db "$hdb" --all --out "$IT_TMP/h.html" || die "hostile report failed"
assert_eq "$($PAGE elements "$IT_TMP/h.html" | grep '^BAD' || true)" "" "hostile: nothing unsafe in the file"
browser --dump-dom "file://$IT_TMP/h.html" >"$IT_TMP/hdom.html"
assert_ge "$(wc -c <"$IT_TMP/hdom.html")" 1000 "hostile: the DOM dump is not empty"
assert_eq "$(census "$IT_TMP/hdom.html")" "$(census "$IT_TMP/h.html")" \
    "hostile: the DOM holds exactly the elements the page wrote"
assert_eq "$($PAGE elements "$IT_TMP/hdom.html" | grep '^BAD' || true)" "" "hostile: nothing unsafe in the DOM"
for t in script img svg iframe; do
    assert_eq "$(census "$IT_TMP/hdom.html" | awk -v t="$t" '$1 == t { print $2 }')" \
        "$(grep -o "<$t[ >]" "$IT_TMP/h.html" | wc -l | sed 's/^0$//')" "hostile: <$t> only where the page put one"
done
dtext=$($PAGE text "$IT_TMP/hdom.html")
assert_in "$dtext" "$sni" "hostile: the SNI is shown as text"
assert_in "$dtext" "$host" "hostile: the greeting host is shown as text"
assert_in "$dtext" '<iframe src="javascript:alert(7)"></iframe>' "hostile: the banner is shown as text"
assert_in "$dtext" '=2+5,"q'"'"'"\x1B[31m' "hostile: the control-laden SNI is shown escaped"
browser --window-size=1280,1400 --screenshot="$IT_TMP/hshot.png" "file://$IT_TMP/h.html" >/dev/null
read -r w h colours ink < <(python3 "$TA_SRC/tests/png_colours.py" "$IT_TMP/hshot.png")
assert_ge "$colours" 50 "hostile: the page still renders"

it_done

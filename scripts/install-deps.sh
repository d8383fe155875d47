#!/bin/sh
# install-deps.sh - every Debian 12 package tlsaudit needs to build, test and make its captures.
# Run as root (or with sudo). Safe to run again. chromium and poppler-utils (pdftotext) are for
# the report tests (tests/it_report_browser.sh: headless screenshot, DOM dump, print to PDF);
# systemd-container (systemd-nspawn) and debootstrap for tests/it_service_nspawn.sh, which boots
# systemd in a container to start the service for real. faketime (libfaketime) is for
# tests/it_clock_back.sh, which steps the capture's own clock back, never the machine's.
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, non-interactively. (wireshark-common
# is named too: the pcapng tests call its dumpcap, mergecap, editcap and capinfos.)
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
    build-essential cmake pkg-config git ca-certificates \
    libpcap-dev libndpi-dev libsqlite3-dev sqlite3 libssl-dev openssl zlib1g-dev gzip \
    libpq-dev postgresql postgresql-client \
    clang libclang-rt-14-dev clang-tools cppcheck \
    tcpdump tshark wireshark-common tcpreplay socat swaks python3 python3-scapy dnsutils \
    iproute2 procps \
    valgrind time libndpi-bin faketime \
    ngtcp2-client ngtcp2-server systemd util-linux curl systemd-container debootstrap \
    chromium poppler-utils
# ngtcp2-server enables an ngtcp2d service (localhost:7777, where systemd runs); the QUIC tests
# start their own servers inside a network namespace and do not need it.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now ngtcp2d.service >/dev/null 2>&1 || true
fi

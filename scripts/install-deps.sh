#!/bin/sh
# install-deps.sh - every Debian 12 package tlsaudit needs to build, test and make its captures.
# Run as root (or with sudo). Safe to run again.
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
    build-essential cmake pkg-config git ca-certificates \
    libpcap-dev libndpi-dev libsqlite3-dev sqlite3 libssl-dev openssl \
    libpq-dev postgresql postgresql-client \
    clang libclang-rt-14-dev \
    tcpdump tshark tcpreplay socat swaks python3 dnsutils iproute2 procps \
    valgrind time libndpi-bin

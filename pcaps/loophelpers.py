#!/usr/bin/env python3
"""loophelpers.py - loopback-only helpers for pcaps/make-pcaps.sh: a one-shot DNS server, a DNS
client, and a TCP relay that sends the client's bytes in small segments.

  dns-server --listen ADDR --name NAME=CNAME... --a NAME=IPV4 ... [--ready-file F]
      answers queries (RFC 1035) for the configured names with the CNAME chain and A record,
      then exits after --count queries or --deadline seconds. The addresses in the answers are
      data only: nothing is ever sent to them.
  dns-query --server ADDR --bind ADDR NAME
      sends one A query and waits for the answer (used where dig is not installed).
  relay --listen ADDR:PORT --connect ADDR:PORT --chunk N
      forwards one connection; client-to-server bytes go out N at a time with TCP_NODELAY and a
      short pause, so a ClientHello spans several TCP segments on the wire.
  refuse-relay --listen ADDR:PORT --connect ADDR:PORT
      plays a server that refuses the client's first TLS record with a fatal protocol_version
      alert and keeps the connection open, then forwards the rest of it to the real server.
  retry-client --connect ADDR:PORT --servername NAME
      offers TLS 1.0 only (a ClientHello made by OpenSSL through the ssl module), reads the
      alert, then runs a real TLS handshake (TLS 1.2 or newer) on the same TCP connection.
"""
import argparse
import os
import random
import signal
import socket
import struct
import sys
import threading
import time


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def read_qname(msg, off):
    labels = []
    while msg[off] != 0:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode())
        off += 1 + n
    return ".".join(labels), off + 1


def dns_server(a):
    cnames = dict(x.split("=", 1) for x in a.cname)
    addrs = dict(x.split("=", 1) for x in a.a)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.listen, 53))
    if a.ready_file:
        with open(a.ready_file, "w") as f:
            f.write(f"{os.getpid()}\n")
    for _ in range(a.count):
        msg, peer = s.recvfrom(512)
        qid, _flags, qd = struct.unpack("!HHH", msg[:6])
        qname, end = read_qname(msg, 12)
        qtype, _qclass = struct.unpack("!HH", msg[end:end + 4])
        question = msg[12:end + 4]
        answers = []
        name = qname.lower()
        for _step in range(8):
            if name in cnames:
                rdata = encode_name(cnames[name])
                answers.append(encode_name(name) + struct.pack("!HHIH", 5, 1, 300, len(rdata)) + rdata)
                name = cnames[name]
            else:
                break
        if qtype == 1 and name in addrs:
            rdata = socket.inet_aton(addrs[name])
            answers.append(encode_name(name) + struct.pack("!HHIH", 1, 1, 20, 4) + rdata)
        rcode = 0 if answers else 3
        hdr = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, len(answers), 0, 0)
        s.sendto(hdr + question + b"".join(answers), peer)
    s.close()


def dns_query(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.bind, 0))
    s.settimeout(5)
    qid = random.randrange(65536)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + encode_name(a.name) + struct.pack("!HH", 1, 1)
    s.sendto(q, (a.server, 53))
    msg, _ = s.recvfrom(512)
    ancount = struct.unpack("!H", msg[6:8])[0]
    print(f"{a.name}: {ancount} answers, rcode {msg[3] & 15}")
    s.close()


def pump(src, dst, chunk, pause):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            for i in range(0, len(data), chunk):
                dst.sendall(data[i:i + chunk])
                if pause:
                    time.sleep(pause)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        part = sock.recv(n - len(buf))
        if not part:
            raise EOFError("connection closed")
        buf += part
    return buf


def relay_one(a, chunk, pause, first=None):
    """Accept one connection on a.listen, let first(client) talk to it alone if given, then
    forward both ways to a.connect (client-to-server bytes `chunk` at a time)."""
    lhost, lport = a.listen.rsplit(":", 1)
    chost, cport = a.connect.rsplit(":", 1)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((lhost, int(lport)))
    srv.listen(1)
    if a.ready_file:
        with open(a.ready_file, "w") as f:
            f.write(f"{os.getpid()}\n")
    cli, _ = srv.accept()
    if first:
        first(cli)
    up = socket.create_connection((chost, int(cport)), timeout=10)
    up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t1 = threading.Thread(target=pump, args=(cli, up, chunk, pause))
    t2 = threading.Thread(target=pump, args=(up, cli, 65536, 0))
    t1.start()
    t2.start()
    t1.join()
    t2.join()
    cli.close()
    up.close()
    srv.close()


def relay(a):
    relay_one(a, a.chunk, 0.01)


def refuse_first_record(cli):
    hdr = recv_exact(cli, 5)
    recv_exact(cli, struct.unpack("!H", hdr[3:5])[0])
    # Alert record: TLS 1.0 record version, level fatal (2), protocol_version (70).
    cli.sendall(bytes([21, 3, 1, 0, 2, 2, 70]))


def refuse_relay(a):
    relay_one(a, 65536, 0, refuse_first_record)


def retry_client(a):
    import ssl
    host, port = a.connect.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname = False
    old.verify_mode = ssl.CERT_NONE
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    old.minimum_version = ssl.TLSVersion.TLSv1
    old.maximum_version = ssl.TLSVersion.TLSv1
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = old.wrap_bio(inc, out, server_hostname=a.servername)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    sock.sendall(out.read())
    alert = recv_exact(sock, 7)
    print(f"retry-client: first attempt answered {alert.hex()}", flush=True)
    new = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    new.check_hostname = False
    new.verify_mode = ssl.CERT_NONE
    tls = new.wrap_socket(sock, server_hostname=a.servername)
    print(f"retry-client: second attempt {tls.version()} {tls.cipher()[0]}", flush=True)
    tls.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--deadline", type=int, default=30)
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dns-server")
    d.add_argument("--listen", required=True)
    d.add_argument("--cname", action="append", default=[])
    d.add_argument("--a", action="append", default=[])
    d.add_argument("--count", type=int, default=1)
    d.add_argument("--ready-file")
    q = sub.add_parser("dns-query")
    q.add_argument("--server", required=True)
    q.add_argument("--bind", default="127.0.0.1")
    q.add_argument("name")
    r = sub.add_parser("relay")
    r.add_argument("--listen", required=True)
    r.add_argument("--connect", required=True)
    r.add_argument("--chunk", type=int, default=64)
    r.add_argument("--ready-file")
    f = sub.add_parser("refuse-relay")
    f.add_argument("--listen", required=True)
    f.add_argument("--connect", required=True)
    f.add_argument("--ready-file")
    c = sub.add_parser("retry-client")
    c.add_argument("--connect", required=True)
    c.add_argument("--servername", required=True)
    a = p.parse_args()
    for addr in (getattr(a, "listen", None), getattr(a, "connect", None), getattr(a, "server", None)):
        if addr and not addr.startswith("127."):
            sys.exit(f"loophelpers: {addr}: loopback addresses only")
    signal.alarm(a.deadline)
    {"dns-server": dns_server, "dns-query": dns_query, "relay": relay,
     "refuse-relay": refuse_relay, "retry-client": retry_client}[a.cmd](a)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""tfo_hello.py - real TLS handshakes over TCP Fast Open (RFC 7413), for tests/it_tfo.sh.

  tfo_hello.py server ADDR PORT CERT KEY N   accept N TLS connections on a listener with
                                             TCP_FASTOPEN set (it accepts data on the SYN)
  tfo_hello.py client ADDR PORT SNI          one TLS handshake whose ClientHello is sent with
                                             sendto(MSG_FASTOPEN): it rides on the SYN when the
                                             kernel holds a Fast Open cookie for ADDR (else the
                                             SYN asks for one and the hello follows the handshake)
  tfo_hello.py inspect PCAP                  per connection: client port, bytes on its SYN, how
                                             many of them the SYN+ACK acknowledged

Needs net.ipv4.tcp_fastopen with client and server bits (3) in the namespace. The server prints
READY when listening, the client the negotiated version. Each side gives up after 20 s."""
import signal
import socket
import ssl
import struct
import sys

def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def server(addr, port, cert, key, n):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.socket(family(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
    ls.bind((addr, port))
    ls.listen(16)
    ls.settimeout(20)
    print("READY", flush=True)
    for _ in range(n):
        conn, _peer = ls.accept()
        conn.settimeout(10)
        try:
            with ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)  # until the client closes
        except (OSError, ssl.SSLError) as e:
            print("server:", e, flush=True)
    ls.close()


def client(addr, port, sni):
    # ssl.SSLSocket refuses a socket that is not connected yet, so the handshake runs over
    # memory BIOs and its first flight (the ClientHello) goes out with sendto(MSG_FASTOPEN),
    # which connects and, holding a cookie, puts the data on the SYN.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    rbio, wbio = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(rbio, wbio, server_hostname=sni)
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    signal.alarm(20)  # blocking socket: sendto(MSG_FASTOPEN) then waits for the connection
    connected = False
    while True:
        try:
            tls.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        out = wbio.read()
        if out and not connected:
            s.sendto(out, socket.MSG_FASTOPEN, (addr, port))
            connected = True
        elif out:
            s.sendall(out)
        if done:
            break
        data = s.recv(16384)
        if not data:
            raise SystemExit("client: connection closed during the handshake")
        rbio.write(data)
    print(tls.version(), flush=True)
    s.close()


def inspect(path):
    """Per TCP connection of an Ethernet pcap (IPv4/IPv6), in the order of their SYNs: the
    client's port, the bytes its SYN carried and how many of them the SYN+ACK acknowledged.
    Proves what a test exercised."""
    data = open(path, "rb").read()
    off, conns = 24, {}
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        f = data[off + 16:off + 16 + incl]
        off += 16 + incl
        et = struct.unpack(">H", f[12:14])[0]
        if et == 0x0800 and f[23] == 6:
            ip = f[14:]
            tcp = ip[(ip[0] & 15) * 4:struct.unpack(">H", ip[2:4])[0]]
        elif et == 0x86DD and f[20] == 6:
            ip = f[14:]
            tcp = ip[40:40 + struct.unpack(">H", ip[4:6])[0]]
        else:
            continue
        sport, dport, seq, ack = struct.unpack(">HHII", tcp[:12])
        flags, plen = tcp[13], len(tcp) - (tcp[12] >> 4) * 4
        if flags & 0x12 == 0x02:
            conns[sport] = [seq, plen, None]
        elif flags & 0x12 == 0x12 and dport in conns:
            conns[dport][2] = (ack - conns[dport][0] - 1) & 0xFFFFFFFF
    for port, (_isn, plen, acked) in conns.items():  # in the order of their SYNs
        print("%d syn_data=%d synack_acked=%s" % (port, plen, acked))


def main(argv):
    if len(argv) == 7 and argv[1] == "server":
        server(argv[2], int(argv[3]), argv[4], argv[5], int(argv[6]))
    elif len(argv) == 5 and argv[1] == "client":
        client(argv[2], int(argv[3]), argv[4])
    elif len(argv) == 3 and argv[1] == "inspect":
        inspect(argv[2])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

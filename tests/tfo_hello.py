#!/usr/bin/env python3
"""tfo_hello.py - real TLS handshakes over TCP Fast Open (RFC 7413), for tests/it_tfo.sh.

  tfo_hello.py server ADDR PORT CERT KEY N   accept N TLS connections on a listener with
                                             TCP_FASTOPEN set (it accepts data on the SYN)
  tfo_hello.py client ADDR PORT SNI          one TLS handshake whose ClientHello is sent with
                                             sendto(MSG_FASTOPEN): it rides on the SYN when the
                                             kernel holds a Fast Open cookie for ADDR (else the
                                             SYN asks for one and the hello follows the handshake)

Needs net.ipv4.tcp_fastopen with client and server bits (3) in the namespace. The server prints
READY when listening, the client the negotiated version. Each side gives up after 20 s."""
import signal
import socket
import ssl
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


def main(argv):
    if len(argv) == 7 and argv[1] == "server":
        server(argv[2], int(argv[3]), argv[4], argv[5], int(argv[6]))
    elif len(argv) == 5 and argv[1] == "client":
        client(argv[2], int(argv[3]), argv[4])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""quic2corpus.py - make the seed corpus of fuzz_quic (fuzz/fuzz_quic.c).

Usage: quic2corpus.py OUTDIR [PCAP...]   (OUTDIR is fuzz/corpus/quic)

Writes:
  rfc9001-initials     the protected client and server Initials of RFC 9001 appendix A, raw
  rfc9369-client       the QUIC v2 client Initial of RFC 9369 appendix A, raw
  sealed-<version>     the RFC's ClientHello in three CRYPTO frames, last piece first, then the
                       RFC's ServerHello (ACK + CRYPTO), as "seal" chunks for v1, v2, draft-29
  sealed-hrr-cap       a HelloRetryRequest-shaped ServerHello then a CRYPTO frame past the cap
  retry-vn             a Retry and a Version Negotiation from the server, raw
  <pcap>-<n>           for each classic pcap given (QUIC made on loopback by Debian's ngtcp2, as
                       tests/it_quic_live.sh does), the UDP payloads of its n-th UDP flow in
                       order, raw, direction by who sent first
Deterministic: same inputs, same files."""
import os
import struct
import sys

RFC9001_CLIENT = (
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934")
RFC9001_SERVER = (
    "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
    "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
    "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
    "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
    "2158407dd074ee")
RFC9369_CLIENT_HEAD = "d76b3343cf088394c8f03e5157080000449ea0c95e82"
# RFC 9001 A.2: the ClientHello (inside the CRYPTO frame); A.3: the server's payload (ACK, CRYPTO
# with the ServerHello).
CLIENT_HELLO = (
    "010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c00000413011302"
    "010000c000000010000e00000b6578616d706c652e636f6dff01000100000a00080006001d001700180010000700"
    "0504616c706e000500050100000000003300260024001d00209370b2c9caa47fbabaf4559fedba753de171fa71f5"
    "0f1ce15d43e994ec74d748002b0003020304000d0010000e0403050306030203080408050806002d00020101001c"
    "00024001003900320408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394"
    "c8f03e51570806048000ffff")
SERVER_PAYLOAD = (
    "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5430b9a04"
    "5a1200130100002e00330024001d00209d3c940d89690b84d08a60993c144eca684d1081287c834d5311bcf32b"
    "b9da1a002b00020304")
HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"


def chunk(data, s2c=False, seal=False):
    hdr = (0x8000 if s2c else 0) | (0x4000 if seal else 0) | len(data)
    assert len(data) < 0x4000
    return struct.pack(">H", hdr) + data


def varint(v):
    for n, pre in ((1, 0), (2, 0x40), (4, 0x80), (8, 0xC0)):
        if v < 1 << (8 * n - 2):
            return (v | (pre << (8 * n - 8))).to_bytes(n, "big")
    raise ValueError(v)


def crypto(off, data):
    return b"\x06" + varint(off) + varint(len(data)) + data


def sealed(version_bits):
    ch = bytes.fromhex(CLIENT_HELLO)
    cuts = [0, 50, 140, len(ch)]
    frames = [crypto(cuts[i], ch[cuts[i]:cuts[i + 1]]) for i in range(3)]
    out = bytes([version_bits])
    out += chunk(frames[2] + b"\x00" * 20, seal=True)
    out += chunk(frames[0] + b"\x01" + b"\x00" * 1000, seal=True)
    out += chunk(frames[1] + b"\x00" * 20, seal=True)
    out += chunk(bytes.fromhex(SERVER_PAYLOAD), s2c=True, seal=True)
    return out


def sealed_hrr_cap():
    hrr = bytes.fromhex("0303" + HRR_RANDOM) + b"\x00\x13\x01\x00\x00\x06\x00\x2b\x00\x02\x03\x04"
    msg = b"\x02" + len(hrr).to_bytes(3, "big") + hrr
    out = bytes([0])
    out += chunk(crypto(0, bytes.fromhex(CLIENT_HELLO)) + b"\x00" * 900, seal=True)
    out += chunk(crypto(0, msg), s2c=True, seal=True)
    out += chunk(crypto(9000, b"\x02\x00\x00\x10" + b"\x00" * 16), s2c=True, seal=True)
    return out


def retry_vn():
    retry = bytes.fromhex("f000000001") + b"\x02cc" + b"\x04rtry" + b"\x77" * 24
    vn = b"\x80\x00\x00\x00\x00" + b"\x02cc" + b"\x08fuzzdcid" + bytes.fromhex("000000016b3343cf")
    out = bytes([0])
    out += chunk(crypto(0, bytes.fromhex(CLIENT_HELLO)) + b"\x00" * 900, seal=True)
    out += chunk(retry, s2c=True) + chunk(vn, s2c=True)
    return out


def read_pcap(path):
    """Yield (linktype, frame) for each record of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        yield linktype, data[off + 16:off + 16 + caplen]
        off += 16 + caplen


def udp_payload(linktype, frame):
    """(src, sport, dst, dport, payload) of an Ethernet/raw IPv4 or IPv6 UDP frame, or None."""
    if linktype == 1:
        etype = struct.unpack(">H", frame[12:14])[0]
        ip = frame[14:]
    else:
        ip = frame
        etype = 0x0800 if ip[:1] and ip[0] >> 4 == 4 else 0x86DD
    if etype == 0x0800 and len(ip) >= 20 and ip[9] == 17:
        hl = (ip[0] & 15) * 4
        src, dst, udp = ip[12:16], ip[16:20], ip[hl:]
    elif etype == 0x86DD and len(ip) >= 40 and ip[6] == 17:
        src, dst, udp = ip[8:24], ip[24:40], ip[40:]
    else:
        return None
    if len(udp) < 8:
        return None
    sport, dport = struct.unpack(">HH", udp[:4])
    return src, sport, dst, dport, udp[8:]


def from_pcap(path):
    flows = {}
    for lt, fr in read_pcap(path):
        u = udp_payload(lt, fr)
        if not u:
            continue
        src, sport, dst, dport, pay = u
        key = tuple(sorted([(src, sport), (dst, dport)]))
        fl = flows.setdefault(key, {"client": (src, sport), "chunks": []})
        if len(fl["chunks"]) < 24 and len(pay) < 0x4000:
            fl["chunks"].append(chunk(pay, s2c=(src, sport) != fl["client"]))
    return [bytes([0]) + b"".join(f["chunks"]) for f in flows.values()]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {
        "rfc9001-initials": bytes([0]) + chunk(bytes.fromhex(RFC9001_CLIENT)) +
        chunk(bytes.fromhex(RFC9001_SERVER), s2c=True),
        "rfc9369-client-head": bytes([1]) + chunk(bytes.fromhex(RFC9369_CLIENT_HEAD)),
        "sealed-v1": sealed(0),
        "sealed-v2": sealed(1),
        "sealed-draft29": sealed(2),
        "sealed-cut": sealed(4),
        "sealed-hrr-cap": sealed_hrr_cap(),
        "retry-vn": retry_vn(),
    }
    for path in sys.argv[2:]:
        base = os.path.splitext(os.path.basename(path))[0]
        for i, s in enumerate(from_pcap(path)):
            seeds["%s-%d" % (base, i)] = s
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()

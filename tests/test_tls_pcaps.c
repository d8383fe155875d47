/* test_tls_pcaps.c - the TLS dissector on real captures (TA_SHARED_PCAPS), fields checked against
 * values read with tshark / openssl. The first TCP flow of each capture is fed per direction in
 * capture order, as the engine would (bytes delivered once contiguous; unconsumed bytes kept and
 * given back with the next ones); the engine itself is not used. Skips loudly when the captures are absent. */
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

#include "check.h"
#include "dis_mem_fixture.h"
#include "tls_int.h"

#define MAX_SEGS 512
#define STREAM_MAX (1 << 16)

/* The first flow of a capture: each direction's bytes placed by sequence number, and the
 * segments in capture order so delivery can be replayed as the engine would (bytes handed over
 * once contiguous, so out-of-order segments wait for the gap to fill). */
struct flow {
    struct ta_ctx ctx;
    uint8_t addr[2][16];          /* [0] client, [1] server (first 4 bytes for IPv4) */
    uint16_t port[2];
    int alen;
    bool known;
    uint32_t isn[2];
    bool isn_known[2];
    uint8_t stream[2][STREAM_MAX];
    struct { uint8_t d; uint32_t off, len; bool seen; } seg[MAX_SEGS];
    int nsegs;
    uint32_t delivered[2];
    uint8_t buf[2][STREAM_MAX];
    size_t held[2];
    int rc[2];
};

static struct flow fl;

/* Record one TCP payload of direction d at its stream offset. */
static void flow_payload(enum ta_dir d, uint32_t seq, const uint8_t *p, size_t len)
{
    uint32_t off;
    if (!fl.isn_known[d]) {
        fl.isn_known[d] = true;
        fl.isn[d] = seq;
    }
    off = seq - fl.isn[d];
    if (off >= STREAM_MAX || len > STREAM_MAX - off || fl.nsegs == MAX_SEGS)
        return;
    memcpy(fl.stream[d] + off, p, len);
    fl.seg[fl.nsegs].d = (uint8_t)d;
    fl.seg[fl.nsegs].off = off;
    fl.seg[fl.nsegs++].len = (uint32_t)len;
}

/* Feed bytes [from, to) of direction d, keeping what the dissector leaves unconsumed. */
static void flow_feed(enum ta_dir d, uint32_t from, uint32_t to)
{
    size_t used = 0;
    if (fl.rc[d] != TA_OK || fl.ctx.hs.handshake_done)
        return;
    memcpy(fl.buf[d] + fl.held[d], fl.stream[d] + from, to - from);
    fl.held[d] += to - from;
    fl.rc[d] = ta_dissector_tls.feed(&fl.ctx, d, fl.buf[d], fl.held[d], &used);
    CHECK(used <= fl.held[d]);
    memmove(fl.buf[d], fl.buf[d] + used, fl.held[d] - used);
    fl.held[d] -= used;
}

/* Replay the segments in capture order; each one may make more bytes contiguous. */
static void flow_replay(void)
{
    for (int i = 0; i < fl.nsegs; i++) {
        enum ta_dir d = (enum ta_dir)fl.seg[i].d;
        uint32_t end = fl.delivered[d];
        bool grew = true;
        fl.seg[i].seen = true;
        while (grew) {
            grew = false;
            for (int j = 0; j <= i; j++)
                if (fl.seg[j].seen && fl.seg[j].d == d && fl.seg[j].off <= end &&
                    fl.seg[j].off + fl.seg[j].len > end) {
                    end = fl.seg[j].off + fl.seg[j].len;
                    grew = true;
                }
        }
        if (end > fl.delivered[d]) {
            flow_feed(d, fl.delivered[d], end);
            fl.delivered[d] = end;
        }
    }
}

/* Ethernet (802.1Q), IPv4/IPv6, TCP: pass the first flow's payloads to flow_payload. */
static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *pkt)
{
    struct ta_cur c = ta_cur_make(pkt, h->caplen), ip;
    uint16_t et, iplen, sport, dport;
    uint8_t vihl, proto = 0, off, flags;
    uint32_t seq;
    struct ta_slice src, dst;
    (void)user;
    if (!ta_cur_skip(&c, 12) || !ta_cur_u16(&c, &et))
        return;
    while (et == 0x8100 && ta_cur_skip(&c, 2) && ta_cur_u16(&c, &et))
        ;
    ip = c;
    if (et == 0x0800) {
        if (!ta_cur_u8(&ip, &vihl) || !ta_cur_skip(&ip, 1) || !ta_cur_u16(&ip, &iplen) ||
            !ta_cur_skip(&ip, 5) || !ta_cur_u8(&ip, &proto) || !ta_cur_skip(&ip, 2) ||
            !ta_cur_slice(&ip, 4, &src) || !ta_cur_slice(&ip, 4, &dst))
            return;
        c.end = c.p + iplen < c.end ? c.p + iplen : c.end;
        (void)ta_cur_skip(&c, (size_t)(vihl & 0x0F) * 4);
    } else if (et == 0x86DD) {
        if (!ta_cur_skip(&ip, 4) || !ta_cur_u16(&ip, &iplen) || !ta_cur_u8(&ip, &proto) ||
            !ta_cur_skip(&ip, 1) || !ta_cur_slice(&ip, 16, &src) || !ta_cur_slice(&ip, 16, &dst))
            return;
        c.p = ip.p;
        c.end = c.p + iplen < c.end ? c.p + iplen : c.end;
    } else {
        return;
    }
    if (proto != 6 || !ta_cur_u16(&c, &sport) || !ta_cur_u16(&c, &dport) || !ta_cur_u32(&c, &seq) ||
        !ta_cur_skip(&c, 4) || !ta_cur_u8(&c, &off) || !ta_cur_u8(&c, &flags) ||
        !ta_cur_skip(&c, (size_t)(off >> 4) * 4 - 14))
        return;
    if (!fl.known) {   /* client: sender of the SYN, else of the first segment */
        int cl = (flags & 0x12) == 0x12 ? 1 : 0;
        memcpy(fl.addr[cl], src.ptr, src.len);
        memcpy(fl.addr[!cl], dst.ptr, dst.len);
        fl.port[cl] = sport;
        fl.port[!cl] = dport;
        fl.alen = (int)src.len;
        fl.known = true;
    }
    enum ta_dir d;
    if ((int)src.len != fl.alen)
        return;
    if (sport == fl.port[0] && dport == fl.port[1] && !memcmp(src.ptr, fl.addr[0], src.len))
        d = TA_DIR_C2S;
    else if (sport == fl.port[1] && dport == fl.port[0] && !memcmp(src.ptr, fl.addr[1], src.len))
        d = TA_DIR_S2C;
    else
        return;
    if (flags & 0x02) {
        fl.isn_known[d] = true;
        fl.isn[d] = seq + 1;
        return;
    }
    if (!ta_cur_empty(&c))
        flow_payload(d, seq, c.p, ta_cur_left(&c));
}

/* Run the first flow of one capture; false (and a failed check) when it cannot be read. */
static bool run(const char *dir, const char *name)
{
    char path[1024], err[PCAP_ERRBUF_SIZE];
    pcap_t *p;
    memset(&fl, 0, sizeof fl);
    fl.ctx.mem = test_dis_mem();
    ta_dissector_tls.start(&fl.ctx);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    p = pcap_open_offline(path, err);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "%s: %s\n", path, err);
        return false;
    }
    pcap_loop(p, -1, on_packet, NULL);
    pcap_close(p);
    flow_replay();
    if (!fl.ctx.hs.handshake_done)
        ta_dissector_tls.finish(&fl.ctx);
    printf("%s: ch=%d sh=%d v=0x%04x cipher=0x%04x sni=%s alert=%d/%d cert=%s done=%d an=0x%x\n",
           name, fl.ctx.hs.ch.present, fl.ctx.hs.sh.present, fl.ctx.hs.sh.selected_version,
           fl.ctx.hs.sh.cipher, fl.ctx.hs.ch.sni, fl.ctx.hs.alert.level,
           fl.ctx.hs.alert.description, fl.ctx.hs.cert.subject_cn, fl.ctx.hs.handshake_done,
           fl.ctx.hs.anomalies);
    return true;
}

static const struct ta_hs *hs = &fl.ctx.hs;

static void t_tls11(const char *d)
{
    if (!run(d, "zeek__tls1_1.pcap"))
        return;
    CHECK_INT(hs->ch.record_version, 0x0301);
    CHECK_INT(hs->ch.legacy_version, 0x0302);
    CHECK_INT(hs->ch.nciphers, 50);            /* cipher_suites_length 100 */
    CHECK_INT(hs->ch.ciphers[0], 0xC014);
    CHECK_INT(hs->ch.nexts, 4);
    CHECK_INT(hs->ch.exts[3], 15);
    CHECK_INT(hs->sh.legacy_version, 0x0302);
    CHECK_INT(hs->sh.cipher, 0xC013);
    CHECK_INT(hs->sh.nexts, 3);
    CHECK(hs->sh.reneg_info);
    CHECK(hs->cert.present);
    CHECK_STR(hs->cert.subject_cn, "*.google.com");
    CHECK_STR(hs->cert.issuer, "CN=Google Internet Authority G2,O=Google Inc,C=US");
    CHECK(strncmp(hs->cert.sans, "*.google.com,*.android.com,", 27) == 0);
    CHECK_INT(hs->cert.not_before, 1509544136);
    CHECK_INT(hs->cert.not_after, 1516800660);
    CHECK_STR(hs->cert.key_type, "RSA");
    CHECK_INT(hs->cert.key_bits, 2048);
    CHECK(hs->handshake_done);
    CHECK_INT(hs->anomalies & ~(uint32_t)TA_AN_LIST_CAPPED, 0);
}

static void t_tls12(const char *d)
{
    if (!run(d, "zeek__tls1.2.pcap"))
        return;
    CHECK_INT(hs->ch.legacy_version, 0x0303);
    CHECK_INT(hs->ch.nciphers, 80);
    CHECK_INT(hs->ch.ciphers[0], 0xC030);
    CHECK_INT(hs->ch.nexts, 5);
    CHECK_INT(hs->ch.session_id_len, 0);
    CHECK_INT(hs->sh.cipher, 0x0004);
    CHECK(!hs->sh.resumed);
    CHECK_STR(hs->cert.subject_cn, "*.taleo.net");
    CHECK_STR(hs->cert.sans, "*.taleo.net,taleo.net");
    CHECK(hs->cert.chain_len >= 2);
    CHECK(hs->handshake_done);
    CHECK_INT(hs->anomalies, 0);
}

static void t_hrr(const char *d)
{
    if (!run(d, "zeek__hrr.pcap"))
        return;
    CHECK(hs->sh.hrr);
    CHECK(hs->sh.present);
    CHECK_INT(hs->sh.selected_version, 0x0304);
    CHECK_INT(hs->sh.cipher, 0x1302);
    CHECK_INT(hs->ch.nciphers, 4);
    CHECK_INT(hs->ch.key_shares[0], 21);       /* first ClientHello kept (second: 23) */
    CHECK_INT(hs->ch.nexts, 9);
    CHECK(hs->ch.reneg_info);                  /* SCSV 0x00FF */
    CHECK_INT(hs->anomalies, 0);
    CHECK(hs->handshake_done);
}

static void t_psk(const char *d)
{
    if (!run(d, "zeek__tls13_psk_succesfull.pcap"))
        return;
    CHECK(hs->ch.psk);
    CHECK_INT(hs->ch.nciphers, 57);
    CHECK_INT(hs->ch.exts[9], 41);
    CHECK_INT(hs->sh.selected_version, 0x0304);
    CHECK_INT(hs->sh.cipher, 0x1303);
    CHECK_INT(hs->sh.key_share, 29);
    CHECK(hs->sh.resumed);
    CHECK(!hs->cert.present);
    CHECK(hs->handshake_done);
    CHECK_INT(hs->anomalies, 0);
}

static void t_big_hellos(const char *d)
{
    if (run(d, "ndpi__tls_ech.pcapng")) {
        CHECK_STR(hs->ch.sni, "performance.radar.cloudflare.com");
        CHECK_STR(hs->ch.alpn, "h2,http/1.1");
        CHECK_INT(hs->ch.nciphers, 16);
        CHECK_INT(hs->ch.ciphers[0], 0xAAAA);
        CHECK_INT(hs->ch.nexts, 18);
        CHECK_INT(hs->ch.exts[14], 65037);
        CHECK_INT(hs->ch.nversions, 3);
        CHECK_INT(hs->ch.versions[0], 0xDADA);
        CHECK_INT(hs->ch.key_shares[0], 6682);
        CHECK_INT(hs->sh.selected_version, 0x0304);
        CHECK_INT(hs->sh.cipher, 0x1301);
        CHECK_INT(hs->anomalies, 0);
    }
    if (run(d, "zeek__chrome-1250-tls-x25519-kyber.pcap")) {
        CHECK_STR(hs->ch.sni, "lh3.google.com");
        CHECK_INT(hs->ch.nexts, 18);
        CHECK_INT(hs->ch.nkey_shares, 3);
        CHECK_INT(hs->ch.key_shares[1], 25497);
        CHECK_INT(hs->sh.key_share, 25497);
        CHECK_INT(hs->sh.cipher, 0x1301);
        CHECK(hs->handshake_done);
        CHECK_INT(hs->anomalies, 0);
    }
}

static void t_draft28(const char *d)
{
    if (!run(d, "suricata__tls13-draft28__tls13_draft28.pcap"))
        return;
    CHECK_STR(hs->ch.sni, "localhost");
    CHECK_INT(hs->ch.nciphers, 29);
    CHECK_INT(hs->ch.versions[0], 0x7F1C);
    CHECK_INT(hs->sh.selected_version, 0x7F1C);
    CHECK_INT(hs->sh.cipher, 0x1302);
    CHECK_INT(hs->sh.key_share, 23);
    CHECK(hs->handshake_done);
    CHECK_INT(hs->anomalies, 0);
}

static void t_sslv2(const char *d)
{
    if (run(d, "zeek__ssl-v2.pcap")) {
        CHECK(hs->ch.sslv2);
        CHECK_INT(hs->ch.legacy_version, 0x0002);
        CHECK_INT(hs->ch.nciphers_v2, 7);
        CHECK_INT(hs->ch.ciphers_v2[0], 0x0700C0);
        CHECK_INT(hs->ch.nciphers, 0);
        CHECK(hs->sh.present);
        CHECK(hs->sh.sslv2);
        CHECK_INT(hs->sh.legacy_version, 0x0002);
        CHECK_INT(hs->sh.cipher_v2, 0x0700C0);
        CHECK(!hs->sh.resumed);
        CHECK_STR(hs->cert.subject_cn, "plesk");
        CHECK_STR(hs->cert.key_type, "RSA");
        CHECK_INT(hs->cert.key_bits, 2048);
        CHECK(hs->handshake_done);
        CHECK_INT(hs->anomalies, 0);
    }
    if (run(d, "suricata__sslv2-tls-upgrade-01__ssl-v2-s1.pcap")) {
        CHECK(hs->ch.sslv2);
        CHECK_INT(hs->ch.record_version, 0x0002);
        CHECK_INT(hs->ch.legacy_version, 0x0301);
        CHECK_INT(hs->ch.nciphers, 20);
        CHECK_INT(hs->ch.ciphers[0], 0x0039);
        CHECK_INT(hs->ch.nciphers_v2, 0);
        CHECK(hs->sh.present);
        CHECK(!hs->sh.sslv2);
        CHECK_INT(hs->sh.legacy_version, 0x0301);
        CHECK_INT(hs->sh.cipher, 0x0039);
        CHECK_STR(hs->cert.subject_cn, "sigdb.secteam.netscreen.com");
        CHECK(hs->handshake_done);
        CHECK_INT(hs->anomalies, 0);
    }
}

static void t_alerts(const char *d)
{
    if (run(d, "flowtest__tls_version_error.pcap")) {
        CHECK(hs->ch.present);
        CHECK(!hs->sh.present);
        CHECK(hs->alert.present);
        CHECK_INT(hs->alert.level, 2);
        CHECK_INT(hs->alert.description, 70);
        CHECK_INT(hs->alert.dir, TA_DIR_S2C);
        CHECK(hs->handshake_done);
    }
    if (run(d, "zeek__tls-1.2-handshake-failure.pcap")) {
        CHECK_INT(hs->ch.nciphers, 9);
        CHECK(!hs->sh.present);
        CHECK_INT(hs->alert.level, 2);
        CHECK_INT(hs->alert.description, 40);
        CHECK(hs->handshake_done);
    }
}

int main(void)
{
    const char *d = getenv("TA_SHARED_PCAPS");
    char probe[1024];
    FILE *f;
    if (d) {
        snprintf(probe, sizeof probe, "%s/zeek__tls1.2.pcap", d);
        f = fopen(probe, "rb");
        if (f)
            fclose(f);
        else
            d = NULL;
    }
    if (!d) {
        printf("SKIPPED: TA_SHARED_PCAPS not set or captures absent; no capture checked\n");
        return CHECK_DONE();
    }
    t_tls11(d);
    t_tls12(d);
    t_hrr(d);
    t_psk(d);
    t_big_hellos(d);
    t_draft28(d);
    t_sslv2(d);
    t_alerts(d);
    return CHECK_DONE();
}

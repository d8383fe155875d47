/* test_dns.c - passive DNS parser: hand-built responses (A, AAAA, CNAME chains, compression,
 * pointer loops, every truncation) and every DNS response of the shared captures, whose answer
 * counts must equal tshark's. */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tlsaudit/common.h"
#include "tlsaudit/cursor.h"
#include "tlsaudit/dns.h"

/* ---- a tiny message builder for hand-made responses ---- */
struct mb {
    uint8_t b[1200];
    size_t n;
};

static void put8(struct mb *m, unsigned v) { m->b[m->n++] = (uint8_t)v; }
static void put16(struct mb *m, unsigned v) { put8(m, v >> 8); put8(m, v & 0xff); }
static void put32(struct mb *m, uint32_t v) { put16(m, v >> 16); put16(m, v & 0xffff); }

/* Labels of a dotted name, without the terminating zero (so a pointer may follow). */
static void put_labels(struct mb *m, const char *name)
{
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        put8(m, (unsigned)l);
        memcpy(m->b + m->n, name, l);
        m->n += l;
        name += l + (dot ? 1 : 0);
    }
}

static void put_name(struct mb *m, const char *name) { put_labels(m, name); put8(m, 0); }
static void put_ptr(struct mb *m, unsigned off) { put16(m, 0xC000u | off); }

static void put_header(struct mb *m, unsigned flags, unsigned qd, unsigned an)
{
    m->n = 0;
    put16(m, 0x1234);
    put16(m, flags);
    put16(m, qd);
    put16(m, an);
    put16(m, 0);
    put16(m, 0);
}

/* Record header after the owner name; rdlength given. */
static void put_rr(struct mb *m, unsigned type, unsigned klass, unsigned rdlen)
{
    put16(m, type);
    put16(m, klass);
    put32(m, 300);
    put16(m, rdlen);
}

/* ---- collecting answers ---- */
struct ans {
    char name[TA_DNS_NAME_MAX];
    uint8_t ipver;
    char addr[64];
    char cname[TA_DNS_NAME_MAX];
};

struct got {
    struct ans a[64];
    int n;
};

static void collect(void *arg, const char *name, uint8_t ipver, const struct ta_addr *addr,
                    const char *cname)
{
    struct got *g = arg;
    if (g->n >= (int)TA_ARRAY_LEN(g->a))
        return;
    struct ans *a = &g->a[g->n++];
    snprintf(a->name, sizeof(a->name), "%s", name);
    a->ipver = ipver;
    a->addr[0] = a->cname[0] = '\0';
    if (addr && ipver == 4)
        inet_ntop(AF_INET, addr->b + 12, a->addr, sizeof(a->addr));
    else if (addr)
        inet_ntop(AF_INET6, addr->b, a->addr, sizeof(a->addr));
    if (cname)
        snprintf(a->cname, sizeof(a->cname), "%s", cname);
}

/* Response: outlook.office365.com CNAME outlook.ha.office365.com, A 52.96.1.2, AAAA, with
 * compression pointers into the question and into the first CNAME's rdata. */
static void build_chain(struct mb *m)
{
    put_header(m, 0x8180, 1, 3);
    put_name(m, "Outlook.Office365.com");          /* offset 12 */
    put16(m, 1);
    put16(m, 1);
    put_ptr(m, 12);                                /* answer 1: owner = question name */
    put_rr(m, 5, 1, 5);
    size_t target = m->n;
    put_labels(m, "outlook.ha");                   /* outlook.ha + pointer to office365.com */
    put_ptr(m, 12 + 8);
    m->b[target - 1] = (uint8_t)(m->n - target);   /* fix rdlength */
    put_ptr(m, (unsigned)target);                  /* answer 2: A */
    put_rr(m, 1, 1, 4);
    put8(m, 52); put8(m, 96); put8(m, 1); put8(m, 2);
    put_ptr(m, (unsigned)target);                  /* answer 3: AAAA */
    put_rr(m, 28, 1, 16);
    static const uint8_t v6[16] = { 0x26, 0x03, 0x10, 0x26, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    memcpy(m->b + m->n, v6, 16);
    m->n += 16;
}

static void test_chain(void)
{
    struct mb m;
    struct got g = { .n = 0 };
    build_chain(&m);
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_OK);
    CHECK_INT(g.n, 3);
    CHECK_STR(g.a[0].name, "outlook.office365.com");
    CHECK_INT(g.a[0].ipver, 0);
    CHECK_STR(g.a[0].cname, "outlook.ha.office365.com");
    CHECK_STR(g.a[1].name, "outlook.ha.office365.com");
    CHECK_INT(g.a[1].ipver, 4);
    CHECK_STR(g.a[1].addr, "52.96.1.2");
    CHECK_INT(g.a[2].ipver, 6);
    CHECK_STR(g.a[2].addr, "2603:1026::1");

    /* Cut at every length: never crashes, never reports anything, always malformed. */
    int bad = 0, calls = 0;
    for (size_t len = 0; len < m.n; len++) {
        struct got t = { .n = 0 };
        uint8_t *copy = malloc(len ? len : 1);   /* exact size, so ASan sees any overread */
        memcpy(copy, m.b, len);
        if (ta_dns_parse(copy, len, collect, &t) != TA_MALFORMED)
            bad++;
        calls += t.n;
        free(copy);
    }
    CHECK_INT(bad, 0);
    CHECK_INT(calls, 0);
}

static void test_simple_types(void)
{
    struct mb m;
    struct got g = { .n = 0 };

    /* No question, one MX (skipped), one A of class CH (skipped), one A. */
    put_header(&m, 0x8400, 0, 3);
    put_name(&m, "example.org");
    put_rr(&m, 15, 1, 4);
    put16(&m, 10);
    put_ptr(&m, 12);
    put_ptr(&m, 12);
    put_rr(&m, 1, 3, 4);
    put32(&m, 0x01020304);
    put_ptr(&m, 12);
    put_rr(&m, 1, 1, 4);
    put32(&m, 0xC0000201);
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_OK);
    CHECK_INT(g.n, 1);
    CHECK_STR(g.a[0].name, "example.org");
    CHECK_STR(g.a[0].addr, "192.0.2.1");

    /* A query is not ours. */
    m.b[2] = 0x01;
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_UNSUPPORTED);
    /* NXDOMAIN: fine, nothing to report. */
    g.n = 0;
    m.b[2] = 0x81;
    m.b[3] = 0x83;
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_OK);
    CHECK_INT(g.n, 0);

    /* A with a 5-byte rdata is malformed. */
    put_header(&m, 0x8180, 0, 1);
    put_name(&m, "x.test");
    put_rr(&m, 1, 1, 5);
    put32(&m, 1);
    put8(&m, 0);
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_MALFORMED);
    /* CNAME: rdlength past the end, or bytes after the name inside rdata, is malformed. */
    put_header(&m, 0x8180, 0, 1);
    put_name(&m, "x.test");
    put_rr(&m, 5, 1, 4);
    put_name(&m, "ab");   /* 4 bytes: 02 'a' 'b' 00 */
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_OK);
    m.b[m.n - 6 + 1] = 5; /* rdlength 5 with one byte less present */
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_MALFORMED);
    put8(&m, 0);          /* now 5 bytes present: name plus one stray byte */
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_MALFORMED);
}

static void test_hostile_names(void)
{
    struct mb m;
    struct got g = { .n = 0 };

    /* Pointer to itself in the answer owner name. */
    put_header(&m, 0x8180, 0, 1);
    put_ptr(&m, 12);
    put_rr(&m, 1, 1, 4);
    put32(&m, 1);
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_MALFORMED);
    CHECK_INT(g.n, 0);

    /* Two pointers pointing at each other (a loop of length two, via a label). */
    put_header(&m, 0x8180, 0, 1);
    put8(&m, 1); put8(&m, 'a'); put_ptr(&m, 16);   /* 12: "a" -> 16 */
    put8(&m, 1); put8(&m, 'b'); put_ptr(&m, 12);   /* 16: "b" -> 12 */
    put_rr(&m, 1, 1, 4);
    put32(&m, 1);
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_MALFORMED);

    /* Pointer beyond the end of the message. */
    put_header(&m, 0x8180, 0, 1);
    put_ptr(&m, 0x3fff);
    put_rr(&m, 1, 1, 4);
    put32(&m, 1);
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_MALFORMED);

    /* Reserved label types 01 and 10. */
    put_header(&m, 0x8180, 0, 1);
    put8(&m, 0x41);
    put8(&m, 0);
    put_rr(&m, 1, 1, 4);
    put32(&m, 1);
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_MALFORMED);

    /* 256 wire bytes: four 62-byte labels (4 * 63) + a 2-byte label (3) + root = 256. */
    char big[300];
    size_t k = 0;
    for (int l = 0; l < 4; l++) {
        memset(big + k, 'a', 62);
        k += 62;
        big[k++] = '.';
    }
    memcpy(big + k, "bb", 3);
    put_header(&m, 0x8180, 0, 1);
    put_name(&m, big);
    put_rr(&m, 1, 1, 4);
    put32(&m, 1);
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_MALFORMED);
    big[k + 1] = '\0';   /* one byte shorter: exactly 255, accepted */
    put_header(&m, 0x8180, 0, 1);
    put_name(&m, big);
    put_rr(&m, 1, 1, 4);
    put32(&m, 1);
    g.n = 0;
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_OK);
    CHECK_INT(g.n, 1);
    CHECK_INT(strlen(g.a[0].name), 4 * 63 + 1);

    /* Control bytes, a dot, a backslash and upper case inside labels. */
    put_header(&m, 0x8180, 0, 1);
    put8(&m, 5);
    put8(&m, 'A'); put8(&m, 0x01); put8(&m, '.'); put8(&m, '\\'); put8(&m, 0xff);
    put_name(&m, "Example");
    put_rr(&m, 1, 1, 4);
    put32(&m, 1);
    g.n = 0;
    CHECK_INT(ta_dns_parse(m.b, m.n, collect, &g), TA_OK);
    CHECK_INT(g.n, 1);
    CHECK_STR(g.a[0].name, "a\\001\\046\\092\\255.example");
}

/* ---- every DNS response of the shared captures ---- */
struct expect {
    unsigned frame, answers;
};

/* Answer counts per response frame from
 *   tshark -r F -Y dns.flags.response==1 -T fields -e frame.number -e dns.count.answers
 * (0 where RCODE != 0); every answer section in these captures holds only A/AAAA/CNAME. */
static const struct expect teams_exp[] = {
    {11, 1}, {249, 0}, {257, 2}, {262, 3}, {264, 3}, {333, 4}, {383, 2}, {424, 2}, {587, 3},
    {665, 5}, {720, 2}, {721, 2}, {723, 3}, {728, 3}, {730, 6}, {744, 0}, {1022, 6}, {1081, 4},
    {1139, 5}, {1162, 2}, {1241, 0}, {1373, 0},
};
static const struct expect kakao_exp[] = { {2869, 2} };
static const struct expect smtp_exp[] = { {2, 2} };

/* The UDP payload from source port 53 of an Ethernet or Linux-cooked frame, if any. */
static bool udp53_payload(int dlt, const uint8_t *data, uint32_t caplen, struct ta_cur *out)
{
    struct ta_cur c = ta_cur_make(data, caplen);
    uint16_t et, sport, dport, ulen;
    uint8_t vihl, proto = 0;

    if (dlt == DLT_EN10MB) {
        if (!ta_cur_skip(&c, 12) || !ta_cur_u16(&c, &et))
            return false;
    } else if (dlt == DLT_LINUX_SLL) {
        if (!ta_cur_skip(&c, 14) || !ta_cur_u16(&c, &et))
            return false;
    } else {
        return false;
    }
    if (et == 0x0800) {
        if (!ta_cur_peek8(&c, 0, &vihl) || !ta_cur_peek8(&c, 9, &proto) ||
            !ta_cur_skip(&c, (size_t)(vihl & 0x0f) * 4))
            return false;
    } else if (et == 0x86DD) {
        if (!ta_cur_peek8(&c, 6, &proto) || !ta_cur_skip(&c, 40))
            return false;
    } else {
        return false;
    }
    if (proto != 17 || !ta_cur_u16(&c, &sport) || !ta_cur_u16(&c, &dport) ||
        !ta_cur_u16(&c, &ulen) || !ta_cur_skip(&c, 2) || sport != 53 || ulen < 8)
        return false;
    return ta_cur_sub(&c, ulen - 8u, out);
}

/* Parse every response of one capture; compare frame numbers and answer counts. */
static void check_capture(const char *dir, const char *file, const struct expect *exp, size_t nexp,
                          struct got *keep, unsigned keep_frame)
{
    char path[1024], err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const uint8_t *data;
    unsigned frame = 0;
    size_t seen = 0, prefixes = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    pcap_t *p = pcap_open_offline(path, err);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    while (pcap_next_ex(p, &h, &data) == 1) {
        struct ta_cur msg;
        frame++;
        if (!udp53_payload(pcap_datalink(p), data, h->caplen, &msg))
            continue;
        struct got g = { .n = 0 };
        int rc = ta_dns_parse(msg.p, ta_cur_left(&msg), collect, &g);
        if (rc == TA_UNSUPPORTED)
            continue;
        CHECK_INT(rc, TA_OK);
        CHECK(seen < nexp);
        if (seen < nexp) {
            CHECK_INT(frame, exp[seen].frame);
            CHECK_INT(g.n, exp[seen].answers);
            seen++;
        }
        if (keep && frame == keep_frame)
            *keep = g;
        /* Every prefix of a real response: no crash (ASan sees exact-size copies), and never
         * more answers than the whole message has. */
        for (size_t len = 0; len < ta_cur_left(&msg); len++) {
            struct got t = { .n = 0 };
            uint8_t *copy = malloc(len ? len : 1);
            struct ta_cur cut = msg;
            struct ta_slice sl;
            if (!copy || !ta_cur_slice(&cut, len, &sl)) {
                free(copy);
                break;
            }
            memcpy(copy, sl.ptr, len);
            (void)ta_dns_parse(copy, len, collect, &t);
            if (t.n > g.n)
                CHECK_INT(t.n, g.n);
            free(copy);
        }
        prefixes++;
    }
    CHECK_INT(prefixes, nexp);
    CHECK_INT(seen, nexp);
    pcap_close(p);
}

static void test_captures(void)
{
    const char *dir = getenv("TA_SHARED_PCAPS");
    static struct got g730;
    if (!dir) {
        printf("SKIPPED: capture checks (TA_SHARED_PCAPS not set)\n");
        return;
    }
    char probe[1024];
    snprintf(probe, sizeof(probe), "%s/ndpi__teams.pcap", dir);
    FILE *f = fopen(probe, "rb");
    if (!f) {
        printf("SKIPPED: capture checks (%s absent)\n", probe);
        return;
    }
    fclose(f);
    check_capture(dir, "ndpi__teams.pcap", teams_exp, TA_ARRAY_LEN(teams_exp), &g730, 730);
    check_capture(dir, "ndpi__KakaoTalk_talk.pcap", kakao_exp, TA_ARRAY_LEN(kakao_exp), NULL, 0);
    check_capture(dir, "zeek__smtp.pcap", smtp_exp, TA_ARRAY_LEN(smtp_exp), NULL, 0);
    /* Frame 730: outlook.office.com -> ... -> k-0002.k-msedge.net A 13.107.18.11 (tshark). */
    CHECK_INT(g730.n, 6);
    CHECK_STR(g730.a[0].name, "outlook.office.com");
    CHECK_STR(g730.a[0].cname, "substrate.office.com");
    CHECK_STR(g730.a[5].name, "k-0002.k-msedge.net");
    CHECK_STR(g730.a[5].addr, "13.107.18.11");
}

int main(void)
{
    test_chain();
    test_simple_types();
    test_hostile_names();
    test_captures();
    return CHECK_DONE();
}

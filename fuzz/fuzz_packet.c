/* fuzz_packet.c - libFuzzer target for the whole per-packet path: decode, flow table, reassembly,
 * dissectors, nDPI, records out (ta_engine_packet, include/engine/tlsaudit/engine.h).
 *
 * Input format (fuzz/tools/pcap2corpus.py writes seeds in it from real captures):
 *   byte 0      link type: index into fuzz_dlts[] (modulo its size)
 *   byte 1      bit 0: classify with nDPI; bit 1: expire idle flows after every frame
 *   then frames, each: u16 big-endian length, u8 time step (x 50 ms), the frame bytes.
 * Tiny caps (64 flows, 16 analysis contexts and stream buffers of 4 KiB) so eviction, context
 * and buffer-pool exhaustion happen within a few frames. The sink touches every field of each
 * record and checks that its text fields are NUL-terminated inside their arrays. */
#include <pcap/dlt.h>
#include <stdint.h>
#include <string.h>

#include "tlsaudit/dns.h"
#include "tlsaudit/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int fuzz_dlts[] = { DLT_EN10MB, DLT_RAW, DLT_NULL, DLT_LOOP, DLT_LINUX_SLL,
                                 DLT_LINUX_SLL2, DLT_IPV4, DLT_IPV6, 101, 14 };

static volatile uint64_t fuzz_sink_sum;

/* True when the array s[0..n) holds a NUL (the field is a C string that stays inside it). */
static int fuzz_terminated(const char *s, size_t n)
{
    return memchr(s, 0, n) != NULL;
}

/* Record sink: load every byte of the record (a record built from freed or out-of-bounds
 * memory shows up under ASan here) and check the text fields and list counts against caps. */
static void fuzz_record(void *arg, const struct ta_hs *hs)
{
    const uint8_t *b = (const uint8_t *)hs;
    uint64_t sum = 0;
    (void)arg;
    for (size_t i = 0; i < sizeof *hs; i++)
        sum += b[i];
    if (!fuzz_terminated(hs->ch.sni, sizeof hs->ch.sni) ||
        !fuzz_terminated(hs->ch.alpn, sizeof hs->ch.alpn) ||
        !fuzz_terminated(hs->sh.alpn, sizeof hs->sh.alpn) ||
        !fuzz_terminated(hs->cert.subject_cn, sizeof hs->cert.subject_cn) ||
        !fuzz_terminated(hs->cert.issuer, sizeof hs->cert.issuer) ||
        !fuzz_terminated(hs->cert.sans, sizeof hs->cert.sans) ||
        !fuzz_terminated(hs->cert.key_type, sizeof hs->cert.key_type) ||
        !fuzz_terminated(hs->mail.greeting_host, sizeof hs->mail.greeting_host) ||
        !fuzz_terminated(hs->mail.greeting, sizeof hs->mail.greeting) ||
        !fuzz_terminated(hs->mail.client_name, sizeof hs->mail.client_name) ||
        !fuzz_terminated(hs->mail.capabilities, sizeof hs->mail.capabilities) ||
        !fuzz_terminated(hs->ndpi_name, sizeof hs->ndpi_name) ||
        hs->ch.nciphers > TA_MAX_CIPHERS || hs->ch.nexts > TA_MAX_EXTS ||
        hs->ch.ngroups > TA_MAX_GROUPS || hs->ch.nsigalgs > TA_MAX_SIGALGS ||
        hs->ch.nversions > TA_MAX_VERSIONS || hs->ch.npoint_formats > TA_MAX_POINTFMTS ||
        hs->ch.nkey_shares > TA_MAX_KEYSHARES || hs->sh.nexts > TA_MAX_EXTS ||
        hs->ch.nciphers_v2 > TA_MAX_CIPHERS)
        __builtin_trap();
    sum += strlen(ta_app_name(hs));
    sum += ta_hs_negotiated_version(hs) + ta_hs_client_max_version(hs);
    fuzz_sink_sum += sum;
}

/* DNS answer callback: names never hold control bytes or upper case (dns.h). */
static void fuzz_dns_answer(void *arg, const char *name, uint8_t ipver, const struct ta_addr *addr,
                            const char *cname)
{
    (void)arg;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            __builtin_trap();
    if ((ipver == 0) != (addr == NULL) || (ipver == 0) != (cname != NULL))
        __builtin_trap();
    fuzz_sink_sum += strlen(name) + (cname ? strlen(cname) : 0);
}

static void fuzz_dns(void *arg, uint64_t ts_us, const uint8_t *msg, size_t len)
{
    (void)ts_us;
    (void)ta_dns_parse(msg, len, fuzz_dns_answer, arg);
}

/* One engine per nDPI setting, made once: flushing after every input ends every flow, so the
 * next input starts from an empty table (only counters carry over). */
static struct ta_engine *fuzz_engine(int ndpi)
{
    static struct ta_engine *engines[2];
    static const struct ta_engine_sink sink = { fuzz_record, fuzz_dns, NULL };
    if (!engines[ndpi]) {
        struct ta_engine_config cfg;
        char err[512];
        ta_engine_config_default(&cfg);
        cfg.max_flows = 64;
        cfg.max_analyzing = 16;
        cfg.stream_bufs = 16;
        cfg.stream_buf_size = 4096;
        cfg.idle_timeout_s = 5;
        cfg.ndpi = ndpi != 0;
        engines[ndpi] = ta_engine_new(&cfg, &sink, err);
        if (!engines[ndpi])
            __builtin_trap();
    }
    return engines[ndpi];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ta_engine *e;
    uint64_t ts = 1700000000000000ull;
    int dlt, flags;

    if (size < 2)
        return 0;
    dlt = fuzz_dlts[data[0] % (sizeof fuzz_dlts / sizeof fuzz_dlts[0])];
    flags = data[1];
    e = fuzz_engine(flags & 1);
    data += 2;
    size -= 2;
    while (size >= 3) {
        size_t len = (size_t)data[0] << 8 | data[1];
        uint8_t step = data[2];
        data += 3;
        size -= 3;
        if (len > size)
            len = size;
        ts += (uint64_t)step * 50000u;
        ta_engine_packet(e, dlt, ts, data, (uint32_t)len, (uint32_t)len + (step & 1) * 100u);
        if (flags & 2)
            ta_engine_expire(e, ts);
        data += len;
        size -= len;
    }
    ta_engine_flush(e);
    return 0;
}

/* fuzz_quic.c - libFuzzer target for the QUIC dissector (include/dissectors/tlsaudit/quic.h): the probe,
 * the datagram walk (long headers, coalesced packets, Retry, Version Negotiation, decryption),
 * Initial frames, CRYPTO reassembly and the TLS hellos behind them.
 *
 * Random bytes almost never authenticate, so the harness can also seal: a chunk marked "seal"
 * holds plaintext frames that become a valid Initial (keys from the DCID "fuzzdcid", or for the
 * server from the same DCID with header DCID "cc"), which lets the fuzzer reach the frame
 * parser, the reassembly and the hello parser; raw chunks reach the header parser and the
 * decryption failures.
 *
 * Input format (fuzz/tools/quic2corpus.py writes seeds in it):
 *   byte 0      bits 0-1: version of sealed chunks (v1, v2, draft-29, v1); bit 2: the capture
 *               says every datagram is cut by the snap length
 *   then chunks, each: u16 big-endian header (bit 15 server to client, bit 14 seal, bits 0-13
 *   length), then that many bytes.
 * The first chunk starts the flow (as the engine does after ta_quic_probe). After the last one
 * the flow is finished and the record's text fields and list counts are checked. */
#include <stdint.h>
#include <string.h>

#include "fuzz_mem.h"
#include "quic_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t fuzz_versions[4] = { 0x00000001u, 0x6b3343cfu, 0xff00001du, 0x00000001u };
static const uint8_t fuzz_dcid[8] = { 'f', 'u', 'z', 'z', 'd', 'c', 'i', 'd' };

static struct ta_quic_crypto *fuzz_qc;
static struct ta_ctx fuzz_ctx;

static struct ta_quic_state fuzz_st;
static uint8_t fuzz_pkt[QUIC_PKT_MAX];
static volatile uint64_t fuzz_sink_sum;

/* Seal frames into an Initial of direction dir; returns its length (0: frames too short or
 * too long, the chunk is then fed raw). */
static size_t fuzz_seal(const struct ta__quic_ver *v, enum ta_dir dir, const uint8_t *frames,
                        size_t n, uint32_t pn)
{
    struct ta__quic_keys k;
    if (ta__quic_keys_derive(fuzz_qc, v, fuzz_dcid, sizeof fuzz_dcid, dir, &k) != TA_OK)
        return 0;
    if (dir == TA_DIR_C2S)
        return ta__quic_seal_initial(fuzz_qc, &k, v, fuzz_dcid, sizeof fuzz_dcid,
                                     (const uint8_t *)"cc", 2, pn, frames, n, fuzz_pkt,
                                     sizeof fuzz_pkt);
    return ta__quic_seal_initial(fuzz_qc, &k, v, (const uint8_t *)"cc", 2, (const uint8_t *)"ss",
                                 2, pn, frames, n, fuzz_pkt, sizeof fuzz_pkt);
}

/* The record must hold NUL-terminated text and list counts within their caps. */
static void fuzz_check(const struct ta_hs *hs)
{
    if (!memchr(hs->ch.sni, 0, sizeof hs->ch.sni) || !memchr(hs->ch.alpn, 0, sizeof hs->ch.alpn) ||
        !memchr(hs->sh.alpn, 0, sizeof hs->sh.alpn) || hs->ch.nciphers > TA_MAX_CIPHERS ||
        hs->ch.nexts > TA_MAX_EXTS || hs->ch.ngroups > TA_MAX_GROUPS ||
        hs->ch.nsigalgs > TA_MAX_SIGALGS || hs->ch.nversions > TA_MAX_VERSIONS ||
        hs->ch.nkey_shares > TA_MAX_KEYSHARES || hs->sh.nexts > TA_MAX_EXTS ||
        (hs->handshake_done && !(hs->ch.present && hs->sh.present)))
        __builtin_trap();
    fuzz_sink_sum += strlen(hs->ch.sni) + strlen(hs->ch.alpn) + hs->anomalies +
                     strlen(ta_app_name(hs));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct ta__quic_ver *v;
    bool cut, started = false;
    uint32_t pn[2] = { 0, 0 };
    if (!fuzz_qc && !(fuzz_qc = ta_quic_crypto_new()))
        __builtin_trap();
    if (size < 1)
        return 0;
    v = ta__quic_version(fuzz_versions[data[0] & 3]);
    cut = (data[0] & 4) != 0;
    data++;
    size--;
    memset(&fuzz_ctx, 0, sizeof fuzz_ctx);
    fuzz_ctx.mem = fuzz_mem();
    while (size >= 2) {
        unsigned hdr = (unsigned)data[0] << 8 | data[1];
        size_t len = hdr & 0x3fff;
        enum ta_dir dir = (hdr & 0x8000) ? TA_DIR_S2C : TA_DIR_C2S;
        const uint8_t *d = data + 2;
        size_t n;
        data += 2;
        size -= 2;
        if (len > size)
            len = size;
        data += len;
        size -= len;
        if ((hdr & 0x4000) && (n = fuzz_seal(v, dir, d, len, pn[dir]++)) > 0)
            d = fuzz_pkt;
        else
            n = len;
        if (!started) {
            fuzz_sink_sum += (uint64_t)ta_quic_probe(fuzz_qc, d, n, cut);
            ta_quic_start(&fuzz_ctx, &fuzz_st, d, n);
            started = true;
        }
        if (ta_quic_datagram(fuzz_qc, &fuzz_ctx, &fuzz_st, dir, d, n, cut) == TA_DONE)
            break;
    }
    if (started) {
        ta_quic_finish(&fuzz_ctx, &fuzz_st);
        fuzz_check(&fuzz_ctx.hs);
    }
    return 0;
}

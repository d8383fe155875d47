/* test_pcapng_libpcap.c - tlsaudit's own pcapng reader (src/capture/pcapng.h) against libpcap
 * on real files: every pcapng file of pcaps/ and of the shared corpus (TA_SHARED_PCAPS; that part
 * skipped loudly when absent), every capture of pcaps/ rewritten here as a big-endian pcapng in
 * nanoseconds with a time offset, and three files built here (raw IP; two binary time
 * resolutions, an SPB and an OPB; Ethernet and Linux cooked interfaces) are read by both, packet
 * by packet: link type, time in microseconds, lengths and bytes, and the same end. Where
 * libpcap stops at an interface of another link type, ours must go on to the end of the file.
 * (Block by block, hostile blocks and streams: test_pcapng.c.) */
#include <dirent.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "pcapng.h"
#include "pcapng_build.h"

/* --- 1. against libpcap ----------------------------------------------------------------------- */

/* path read by libpcap and by ours, packet by packet. Returns the packets both gave; *after
 * counts ours past the point where libpcap stopped at an interface of another link type or
 * snap length, its limit and not the file's (-1 when libpcap did not stop there). */
static long compare_file(const char *path, long *after)
{
    char e[PCAP_ERRBUF_SIZE];
    uint8_t magic[4];
    long n = 0;
    int failed = ta_check_failed;
    *after = -1;
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, e);
    FILE *f = fopen(path, "rb");
    if (!p || !f || fread(magic, 1, 4, f) != 4) {
        fprintf(stderr, "%s: cannot be read (%s)\n", path, p ? "fopen or fread" : e);
        CHECK(!"the file can be read by both");
        if (p)
            pcap_close(p);
        if (f)
            fclose(f);
        return 0;
    }
    struct ta__ng_reader *r = ta__ng_open(f);
    CHECK(r != NULL);
    for (int before = ta_check_failed; r && ta_check_failed == before; n++) {
        struct pcap_pkthdr *h;
        const u_char *d;
        struct ta__ng_pkt pkt;
        int lr = pcap_next_ex(p, &h, &d), nr = ta__ng_next(r, &pkt);
        if (lr == 1 && nr == 1) {
            CHECK_INT(pkt.dlt, pcap_datalink(p));
            CHECK(pkt.ts_us == (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec);
            CHECK_INT(pkt.caplen, h->caplen);
            CHECK_INT(pkt.len, h->len);
            CHECK(pkt.caplen != h->caplen || memcmp(pkt.data, d, h->caplen) == 0);
            if (ta_check_failed > before)
                fprintf(stderr, "  ours: dlt %d, %" PRIu64 " us, %u/%u bytes; libpcap: dlt %d, "
                        "%lld.%06lld s, %u/%u bytes\n", pkt.dlt, pkt.ts_us, pkt.caplen, pkt.len,
                        pcap_datalink(p), (long long)h->ts.tv_sec, (long long)h->ts.tv_usec,
                        h->caplen, h->len);
            continue;
        }
        if (lr == PCAP_ERROR && strstr(pcap_geterr(p), "different from the")) {
            for (*after = 0; nr == 1; nr = ta__ng_next(r, &pkt))
                ++*after;
            CHECK_INT(nr, 0);                               /* ours reads on, to the end */
        } else {
            CHECK_INT(nr, lr == PCAP_ERROR_BREAK ? 0 : lr == PCAP_ERROR ? -1 : 1);
        }
        if (ta_check_failed > before)
            fprintf(stderr, "  libpcap said %d (%s), ours %d (%s)\n", lr,
                    lr == PCAP_ERROR ? pcap_geterr(p) : "", nr, r->err);
        break;
    }
    if (ta_check_failed > failed)
        fprintf(stderr, "  (%s, packet %ld)\n", path, n);
    ta__ng_close(r);
    fclose(f);
    pcap_close(p);
    return n;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Every pcapng file of dir compared with libpcap; returns how many. */
static int compare_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort), files = 0;
    for (int i = 0; i < n; i++) {
        char path[1024];
        long after;
        if (has_suffix(names[i]->d_name, ".pcapng")) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
            long got = compare_file(path, &after);
            printf("%s: %ld packets as libpcap reads them\n", path, got);
            CHECK_INT(after, -1);
            files++;
        }
        free(names[i]);
    }
    free(n >= 0 ? names : NULL);
    return files;
}

/* The bytes of k written to dir/name. */
static void write_k(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(k.b, 1, k.n, f) != k.n || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
    k.n = 0;
}

/* Every Ethernet capture of pcaps/ rewritten as a big-endian pcapng, in nanoseconds from an
 * offset of 1000 s, and compared with libpcap reading the rewrite. */
static void rewrite_pcaps(const char *pcaps, const char *tmp)
{
    struct dirent **names;
    int n = scandir(pcaps, &names, NULL, alphasort), files = 0;
    for (int i = 0; i < n; i++) {
        char in[1400], out[1400], e[PCAP_ERRBUF_SIZE];
        struct pcap_pkthdr *h;
        const u_char *d;
        long packets = 0, after;
        snprintf(in, sizeof in, "%.1000s/%s", pcaps, names[i]->d_name);
        snprintf(out, sizeof out, "%s/%sng", tmp, names[i]->d_name);
        pcap_t *p = has_suffix(in, ".pcap")
            ? pcap_open_offline_with_tstamp_precision(in, PCAP_TSTAMP_PRECISION_NANO, e) : NULL;
        free(names[i]);
        if (!p || pcap_datalink(p) != DLT_EN10MB) {
            if (p)
                pcap_close(p);
            continue;
        }
        k.n = 0;
        k.be = true;
        shb(&k, 1);
        idb(&k, LT_EN10MB, (uint32_t)pcap_snapshot(p), 9, 1000);
        while (pcap_next_ex(p, &h, &d) == 1 && k.n + h->caplen + 64 < sizeof k.b) {
            uint64_t ns = ((uint64_t)h->ts.tv_sec - 1000u) * 1000000000u + (uint64_t)h->ts.tv_usec;
            open_block(&k, 6);
            put(&k, 0, 4), put(&k, ns >> 32, 4), put(&k, ns & 0xFFFFFFFFu, 4);
            put(&k, h->caplen, 4), put(&k, h->len, 4);
            put_bytes(&k, d, h->caplen);
            close_block(&k);
            packets++;
        }
        pcap_close(p);
        write_k(out);
        CHECK_INT(compare_file(out, &after), packets);
        files++;
    }
    free(n >= 0 ? names : NULL);
    printf("%s: %d captures rewritten as pcapng, read as libpcap reads them\n", pcaps, files);
    CHECK(files >= 10);
}

/* Files built here, read by libpcap and by ours: raw IP (LINKTYPE 101, which libpcap gives as
 * DLT_RAW) in nanoseconds with an offset, with an OPB; Ethernet with two binary time
 * resolutions, one with an offset (libpcap drops what is below the microsecond), and an SPB cut
 * to interface 0's snap length; and interfaces of two link types, which libpcap stops at. */
static void built_files(const char *tmp)
{
    char path[1100];
    long after;
    k.n = 0;
    k.be = true;
    shb(&k, 1);
    idb(&k, LT_RAW, 64, 9, -3600);
    epb(&k, 0, (T0 + 3600) * 1000000000u + 999999999u, 40, 40);
    opb(&k, 0, T0 * 1000000000u + 1, 20, 20);
    snprintf(path, sizeof path, "%s/raw.pcapng", tmp);
    write_k(path);
    CHECK_INT(compare_file(path, &after), 2);
    CHECK_INT(after, -1);

    shb(&k, 1);
    idb(&k, LT_EN10MB, 64, 0x80 | 20, 0);
    idb(&k, LT_EN10MB, 64, 0x80 | 10, 5);
    epb(&k, 0, (T0 << 20) | 0xFFFFF, 64, 1500);
    epb(&k, 1, (T0 << 10) | 1, 60, 60);
    opb(&k, 1, (T0 << 10) | 1023, 20, 20);
    spb(&k, 100, 100);          /* (no time: libpcap would add interface 0's offset to 0) */
    snprintf(path, sizeof path, "%s/binary.pcapng", tmp);
    write_k(path);
    CHECK_INT(compare_file(path, &after), 4);
    CHECK_INT(after, -1);

    k.be = false;
    shb(&k, 1);
    idb(&k, LT_EN10MB, 65535, -1, 0);
    epb(&k, 0, T0 * 1000000u, 60, 60);
    epb(&k, 0, T0 * 1000000u + 1, 60, 60);
    idb(&k, LT_SLL2, 65535, -1, 0);
    epb(&k, 1, T0 * 1000000u + 2, 44, 44);
    epb(&k, 0, T0 * 1000000u + 3, 60, 60);
    snprintf(path, sizeof path, "%s/mixed.pcapng", tmp);
    write_k(path);
    CHECK_INT(compare_file(path, &after), 2);               /* libpcap stops at the 2nd IDB */
    CHECK_INT(after, 2);                                    /* ours reads both packets after it */
}

int main(void)
{
    char tmp[] = "/tmp/ta-test_pcapng_libpcap.XXXXXX", pcaps[1024];
    const char *src = getenv("TA_SRC"), *shared = getenv("TA_SHARED_PCAPS");
    DIR *d;

    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 2;
    }
    built_files(tmp);
    snprintf(pcaps, sizeof pcaps, "%s/pcaps", src ? src : ".");
    printf("%s: %d pcapng files\n", pcaps, compare_dir(pcaps));
    rewrite_pcaps(pcaps, tmp);
    if (shared && (d = opendir(shared)) != NULL) {
        closedir(d);
        CHECK(compare_dir(shared) >= 1);
    } else {
        printf("==================================================================\n"
               "SKIPPED (part): the shared captures are absent (TA_SHARED_PCAPS='%s'); their\n"
               "pcapng files were not compared with libpcap\n"
               "==================================================================\n",
               shared ? shared : "");
    }
    check_dir_done(tmp);
    return CHECK_DONE();
}

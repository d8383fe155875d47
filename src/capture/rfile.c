/* rfile.c - one capture file of `capture -r`, read the same way by both file sources: a pcap file
 * through libpcap, a pcapng file through pcapng.c, which gives each packet its own interface's
 * link type (libpcap 1.10 reads one link type per file). The filter is libpcap's BPF either
 * way: on a pcapng file it is compiled once per link type met and run on each packet. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_int.h"
#include "pcapng.h"
#include "tlsaudit/packet.h"

#define NG_SNAP 262144                 /* snap length of the programs compiled for a pcapng file */

/* The first 4 bytes of f, put back (glibc's ungetc takes them all back): the format. false
 * when f holds fewer (libpcap says what is wrong with it). */
static bool peek_magic(FILE *f, uint32_t *magic)
{
    unsigned char m[4];
    size_t n = fread(m, 1, sizeof m, f);
    bool ok = n == sizeof m;
    *magic = ok ? ((uint32_t)m[0] << 24) | ((uint32_t)m[1] << 16) | ((uint32_t)m[2] << 8) | m[3]
                : 0;
    if (ok && *magic == TA__NG_MAGIC)
        return true;                   /* pcapng.c starts after the type it was given */
    while (n > 0)
        if (ungetc(m[--n], f) == EOF)
            return false;
    return ok;
}

/* See capture_int.h. Why the buffer: libpcap reads each record through fread, and with glibc's
 * default 4 KiB buffer a 2 GB file costs half a million read(2) calls. A gzip-compressed file is
 * read through zlib (gz_file.c). libpcap's and zlib's messages often name the file already:
 * it is named once. */
int ta__rfile_open(struct ta__rfile *rf, const char *path, char *buf, char *errbuf)
{
    char pe[PCAP_ERRBUF_SIZE] = "";
    uint32_t magic = 0;
    FILE *f;

    memset(rf, 0, sizeof *rf);
    if (strcmp(path, "-") == 0)
        f = stdin;
    else if (ta__gz_is(path))
        f = ta__gz_fopen(path, pe);
    else if (!(f = fopen(path, "rb")))
        snprintf(pe, sizeof pe, "%s", strerror(errno));
    if (!f) {
        snprintf(errbuf, TA_ERRBUF_SIZE, strstr(pe, path) ? "%.0s%s" : "%s: %s", path, pe);
        return TA_ERR_IO;
    }
    if (buf && f != stdin)
        (void)setvbuf(f, buf, _IOFBF, TA_FILE_BUFFER);
    rf->f = f;
    if (peek_magic(f, &magic) && magic == TA__NG_MAGIC) {
        if (!(rf->ng = ta__ng_open(f))) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: out of memory", path);
            ta__rfile_close(rf);
            return TA_ERR_NOMEM;
        }
        return TA_OK;
    }
    rf->p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, pe);
    if (!rf->p) {
        snprintf(errbuf, TA_ERRBUF_SIZE, strstr(pe, path) ? "%.0s%s" : "%s: %s", path, pe);
        ta__rfile_close(rf);
        return TA_ERR_IO;
    }
    rf->dlt = pcap_datalink(rf->p);
    return TA_OK;
}

static void drop_programs(struct ta__rfile *rf)
{
    for (unsigned i = 0; i < rf->nprog; i++)
        pcap_freecode(&rf->prog[i].bpf);
    rf->nprog = 0;
    rf->last = NULL;
}

/* See capture_int.h. */
void ta__rfile_close(struct ta__rfile *rf)
{
    drop_programs(rf);
    if (rf->p)
        pcap_close(rf->p);             /* closes f, never stdin */
    else if (rf->f && rf->f != stdin)
        fclose(rf->f);
    ta__ng_close(rf->ng);
    memset(rf, 0, sizeof *rf);
}

/* Compile text for link type dlt into bpf. TA_OK, or TA_ERR_IO with libpcap's reason in errbuf. */
static int compile_for(int dlt, const char *text, struct bpf_program *bpf, char *errbuf)
{
    pcap_t *dead = pcap_open_dead(dlt, NG_SNAP);
    int rc = TA_OK;
    if (!dead || pcap_compile(dead, bpf, text, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        const char *n = pcap_datalink_val_to_name(dlt);
        snprintf(errbuf, TA_ERRBUF_SIZE, "filter '%s' on link type %s (%d): %s", text,
                 n ? n : "unknown", dlt, dead ? pcap_geterr(dead) : "cannot compile");
        rc = TA_ERR_IO;
    }
    if (dead)
        pcap_close(dead);
    return rc;
}

/* The program of link type dlt (compiled at its first packet), or NULL with why in errbuf (the
 * caller names the file). */
static struct ta__rfile_prog *program(struct ta__rfile *rf, int dlt, char *errbuf)
{
    if (rf->last && rf->last->dlt == dlt)
        return rf->last;
    for (unsigned i = 0; i < rf->nprog; i++)
        if (rf->prog[i].dlt == dlt)
            return rf->last = &rf->prog[i];
    if (rf->nprog == TA__RFILE_PROGS) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "filter '%.300s': more than %d link types in one file",
                 rf->filter, TA__RFILE_PROGS);
        return NULL;
    }
    struct ta__rfile_prog *pr = &rf->prog[rf->nprog];
    if (compile_for(dlt, rf->filter, &pr->bpf, errbuf) != TA_OK)
        return NULL;
    pr->dlt = dlt;
    rf->nprog++;
    return rf->last = pr;
}

/* See capture_int.h. */
int ta__rfile_prepare(struct ta__rfile *rf, const char *name, const char *filter, char *errbuf)
{
    if (rf->p)
        return ta__capture_prepare(rf->p, name, filter, &rf->dlt, errbuf);
    drop_programs(rf);
    snprintf(rf->filter, sizeof rf->filter, "%s", filter ? filter : "");
    /* a filter that cannot be is said now, not at the first packet: Ethernet's program, kept */
    char why[TA_ERRBUF_SIZE];
    if (rf->filter[0] && !program(rf, DLT_EN10MB, why)) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%.200s: %.700s", name, why);
        return TA_ERR_IO;
    }
    return TA_OK;
}

/* A link type the decoder does not know is said once per file: its frames are counted as
 * frames that do not decode, as a frame the decoder cannot read is. */
static void warn_linktype(struct ta__rfile *rf, int dlt, uint32_t ifid, const char *name)
{
    for (unsigned i = 0; i < rf->nwarned; i++)
        if (rf->warned[i] == dlt)
            return;
    if (rf->nwarned < TA__RFILE_PROGS)
        rf->warned[rf->nwarned++] = dlt;
    const char *n = pcap_datalink_val_to_name(dlt);
    TA_LOG(TA_LOG_WARN, "%s: interface %u has link type %s (%d), which tlsaudit does not decode: "
           "its packets are counted, not analysed", name, ifid, n ? n : "unknown", dlt);
}

/* pcap files: libpcap's records, with the file's link type. */
struct tramp {
    ta__rfile_fn fn;
    void *user;
    int dlt;
};

static void tramp_cb(u_char *u, const struct pcap_pkthdr *h, const u_char *bytes)
{
    const struct tramp *t = (const struct tramp *)(void *)u;
    t->fn(t->user, t->dlt, h, bytes);
}

/* See capture_int.h. */
int ta__rfile_dispatch(struct ta__rfile *rf, int max, ta__rfile_fn fn, void *user,
                       const char *name, char *errbuf)
{
    if (rf->p) {
        struct tramp t = { fn, user, rf->dlt };
        int n = pcap_dispatch(rf->p, max, tramp_cb, (u_char *)&t);
        if (n == PCAP_ERROR)
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s", pcap_geterr(rf->p));
        return n;
    }
    int n = 0;
    unsigned wakes = ta__capture_wakes();
    while (n < max) {
        struct ta__ng_pkt pkt;
        int rc = ta__ng_next(rf->ng, &pkt);
        if (rc < 0) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s", rf->ng->err);
            return PCAP_ERROR;
        }
        if (rc == 0)
            break;
        struct pcap_pkthdr h = {
            .ts = { .tv_sec = (time_t)(pkt.ts_us / 1000000u),
                    .tv_usec = (suseconds_t)(pkt.ts_us % 1000000u) },
            .caplen = pkt.caplen, .len = pkt.len,
        };
        if (pkt.dlt != rf->dlt) {      /* the link type changed: one the decoder knows? */
            rf->dlt = pkt.dlt;
            if (!ta_decode_linktype_supported(pkt.dlt))
                warn_linktype(rf, pkt.dlt, pkt.ifid, name);
        }
        if (rf->filter[0]) {
            struct ta__rfile_prog *pr = program(rf, pkt.dlt, errbuf);
            if (!pr)
                return PCAP_ERROR;
            if (!pcap_offline_filter(&pr->bpf, &h, pkt.data))
                continue;
        }
        fn(user, pkt.dlt, &h, pkt.data);
        n++;
        /* as pcap_breakloop ends pcap_dispatch: after the packet at hand (a SIGHUP's new
         * filter then applies from the next one) */
        if (ta__capture_stopping() || ta__capture_wakes() != wakes)
            return PCAP_ERROR_BREAK;
    }
    return n;
}

/* See capture_int.h. */
void ta__rfile_follow(struct ta__filter_box *fb, struct ta__rfile *rf, const char *name,
                      unsigned *seen)
{
    char text[TA_FILTER_MAX], why[TA_ERRBUF_SIZE];

    if (rf->p) {
        ta__filter_follow(fb, rf->p, name, seen);
        return;
    }
    if (!ta__filter_take(fb, seen, text))
        return;
    /* every link type met so far must take it, or the previous filter stays */
    for (unsigned i = 0; i < rf->nprog; i++) {
        struct bpf_program bpf;
        if (text[0] && compile_for(rf->prog[i].dlt, text, &bpf, why) != TA_OK) {
            TA_LOG(TA_LOG_ERROR, "%s: new %s (the previous one stays)", name, why);
            return;
        }
        if (text[0])
            pcap_freecode(&bpf);
    }
    drop_programs(rf);
    snprintf(rf->filter, sizeof rf->filter, "%s", text);
}

/* See capture_int.h. */
uint64_t ta__rfile_drops(const struct ta__rfile *rf)
{
    return rf->ng ? ta__ng_drops(rf->ng) : 0;
}

/* See capture_int.h. */
void ta__rfile_read_error(const char *why, const char *name, uint64_t packets, char *errbuf)
{
    snprintf(errbuf, TA_ERRBUF_SIZE, "%.200s: %.700s (stopped after %llu packets)", name, why,
             (unsigned long long)packets);
}

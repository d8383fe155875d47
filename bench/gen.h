/* gen.h - benchmark capture generator: seed flows (templates) read from real loopback captures,
 * and what the ground truth needs to know about each (offered/negotiated TLS version, SNI,
 * whether the seed names Microsoft 365). Shared by gen_seed.c (reading) and gen.c (writing). */
#ifndef TA_BENCH_GEN_H
#define TA_BENCH_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Seed payloads are cut into segments that fit a 1500-byte MTU with the segment's options,
 * for IPv4 and IPv6 alike (loopback captures carry up to 64 KiB per segment). */
#define GEN_SEG_ROOM 1440u
#define GEN_MAX_OPT 40u
#define GEN_SNI_MAX 256u
#define GEN_SEED_NAME_MAX 96u
/* Bytes of each direction reassembled to read the hellos and see application data. */
#define GEN_STREAM_CAP (256u * 1024u)

enum { GEN_C2S = 0, GEN_S2C = 1 };

#define GEN_TH_FIN 0x01u
#define GEN_TH_SYN 0x02u
#define GEN_TH_RST 0x04u
#define GEN_TH_PSH 0x08u
#define GEN_TH_ACK 0x10u

/* One TCP segment of a seed flow, already cut to GEN_SEG_ROOM. */
struct gen_pkt {
    uint8_t dir;                 /* GEN_C2S or GEN_S2C */
    uint8_t flags;
    uint8_t optlen;
    uint8_t opt[GEN_MAX_OPT];
    uint16_t win;
    uint32_t rseq;               /* sequence number relative to the direction's ISN */
    uint32_t rack;               /* acknowledgement relative to the other direction's ISN */
    uint32_t paylen;
    const uint8_t *pay;          /* points into the template's payload arena */
};

/* One TCP flow of a seed capture: what gets replicated. */
struct gen_tmpl {
    char seed[GEN_SEED_NAME_MAX];  /* file name without directory, '#n' flow number appended */
    uint16_t server_port;
    struct gen_pkt *pk;
    size_t npk;
    size_t close_at;             /* first FIN/RST segment (bulk data goes before it), or npk */
    uint32_t next_rseq[2];       /* relative sequence after the last byte before close_at */
    uint32_t base[2];            /* relative sequence of the first data byte (1 after a SYN) */
    uint32_t rec_left[2];        /* bytes still owed to a TLS record unfinished at close_at */
    bool has_close;
    /* Ground truth read from the seed's hellos (independently of tlsaudit). */
    bool tls;                    /* a ClientHello (or SSLv2 CLIENT-HELLO) was found */
    bool sslv2;
    bool hrr;
    bool server_hello;           /* a final ServerHello */
    bool alert_first;            /* the server answered the hello with an alert */
    bool appdata;                /* application data records seen: the session is in use */
    bool ms_named;               /* the flow names Microsoft 365 (SNI, certificate, greeting) */
    uint16_t offered_max;        /* highest version the client offered (GREASE ignored) */
    uint16_t negotiated;         /* version of the final ServerHello, 0 when none */
    char sni[GEN_SNI_MAX];
};

struct gen_seeds {
    struct gen_tmpl *t;
    size_t n;
    size_t cap;
};

/* Read every TCP flow of the capture at path into s (UDP and other packets are skipped).
 * Returns the number of flows added, or -1 with a message on stderr. */
int gen_seed_load(struct gen_seeds *s, const char *path);

/* True when the flow's outcome is a legacy protocol: the version negotiated, or when no
 * ServerHello came the highest version offered, is below TLS 1.2 (SSL 2.0/3.0, TLS 1.0/1.1). */
bool gen_tmpl_legacy(const struct gen_tmpl *t);

/* Human label of a wire version ("TLS 1.0", "SSL 3.0", "-" for 0). */
const char *gen_version_name(uint16_t v);

#endif

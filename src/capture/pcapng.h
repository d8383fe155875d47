/* pcapng.h - pcapng files read by tlsaudit itself (pcapng.c), so that each packet carries its
 * own interface's link type: libpcap 1.10 reads one link type per file and stops at the first
 * interface of another (dumpcap -i eth0 -i any, mergecap of an Ethernet and a Linux "any"
 * capture). Private to the capture layer.
 *
 * The format: draft-ietf-opsawg-pcapng (sections, blocks, options). Blocks read:
 *   - Section Header (SHB): byte order of the section, version 1.x; a new section forgets the
 *     interfaces of the one before;
 *   - Interface Description (IDB): link type, snap length, if_tsresol (9), if_tsoffset (14);
 *   - Enhanced Packet (EPB), Simple Packet (SPB, interface 0, no time), and the obsolete Packet
 *     Block (OPB);
 *   - Interface Statistics (ISB): the packets the recording tool says were dropped on the
 *     interface (isb_ifdrop, 5) and by the OS (isb_osdrop, 7), counted since its start: the
 *     latest ISB of an interface holds its total;
 *   - any other block type is skipped whole (name resolution, decryption secrets, custom
 *     blocks).
 * Every length is checked against the block it is in: a packet is hostile input, and so is the
 * file that holds it. */
#ifndef TLSAUDIT_CAPTURE_PCAPNG_H
#define TLSAUDIT_CAPTURE_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TA__NG_MAGIC 0x0A0D0D0Au        /* the Section Header block type, first in every file */
#define TA__NG_MAX_IF 4096u             /* interfaces per section (dumpcap's limit is far below) */
#define TA__NG_BLOCK_MAX (16u << 20)    /* longest section, interface or packet block read;
                                         * longer blocks of other types are skipped */
#define TA__NG_ERR 160                  /* room for a message */

/* One interface of the current section. */
struct ta__ng_if {
    int dlt;                            /* the file's LINKTYPE_ value, but DLT_RAW for
                                         * LINKTYPE_RAW (101) and DLT_ATM_RFC1483 for 100, as
                                         * libpcap maps them (the few others it maps, BSD/OS
                                         * SLIP and PPP, no decoder here reads) */
    uint32_t snaplen;
    uint8_t tsresol;                    /* if_tsresol: bit 7 clear 10^-n, set 2^-n; default 6 */
    int64_t tsoffset;                   /* if_tsoffset: seconds added to every time */
    uint64_t drops;                     /* isb_ifdrop + isb_osdrop of its latest ISB, 0 = none */
};

/* What one block said. */
struct ta__ng_pkt {
    int dlt;                            /* the packet's interface's link type */
    uint32_t ifid;
    uint64_t ts_us;                     /* microseconds since the epoch (0: an SPB has none) */
    uint32_t caplen, len;               /* bytes present, bytes on the wire */
    const uint8_t *data;                /* inside the block given to ta__ng_block */
};

/* The state of a section: byte order and interfaces. Zeroed = before the first SHB. */
struct ta__ng_section {
    bool seen;                          /* an SHB was read */
    bool swap;                          /* the section is little-endian (the cursor reads
                                         * big-endian: its integers are swapped) */
    uint32_t nif;
    struct ta__ng_if *ifs;              /* TA__NG_MAX_IF entries, the caller's */
};

/* Pure: one whole block b[0..n) (type, length, body, trailing length) into s and pkt. Returns 1
 * for a packet (pkt filled, pkt->data points into b), 0 for any other block (an SHB or IDB
 * changes s), -1 when the block is malformed, with why in err (TA__NG_ERR). A block before the
 * first SHB, a packet on an interface not described, a length past the block are malformed. */
int ta__ng_block(struct ta__ng_section *s, const uint8_t *b, size_t n, struct ta__ng_pkt *pkt,
                 char *err);

/* The block length field of a block header (8 bytes: type, length) in section s's byte order;
 * for an SHB the byte order comes from its byte-order magic, the 4 bytes after the header (hdr
 * then holds 12 bytes). 0 when the header is not a block: the SHB's magic is neither order. */
uint32_t ta__ng_block_len(const struct ta__ng_section *s, const uint8_t *hdr);

/* The drops section s's interfaces have recorded so far (the sum of their latest ISBs). */
uint64_t ta__ng_section_drops(const struct ta__ng_section *s);

/* Microseconds since the epoch of a timestamp in units of interface i (tsresol, tsoffset),
 * held between 0 and UINT64_MAX. */
uint64_t ta__ng_ts_us(const struct ta__ng_if *i, uint64_t units);

/* A pcapng stream being read. */
struct ta__ng_reader {
    FILE *f;
    struct ta__ng_section sec;
    struct ta__ng_if ifs[TA__NG_MAX_IF];
    uint8_t *buf;                       /* the current block; grown up to TA__NG_BLOCK_MAX */
    size_t cap;
    uint64_t blocks;                    /* blocks read, for messages */
    uint64_t drops_before;              /* drops recorded by the sections before this one */
    char err[TA__NG_ERR + 32];          /* "block N: " and the block's reason */
};

/* Start reading f, whose first 4 bytes (the SHB's type) were already read by the caller. NULL
 * when out of memory. The reader does not own f. */
struct ta__ng_reader *ta__ng_open(FILE *f);
/* The next packet: 1 (pkt filled, its data valid until the next call), 0 at the end of the
 * file, -1 on a malformed block or a read error (why in r->err; what came before stands). */
int ta__ng_next(struct ta__ng_reader *r, struct ta__ng_pkt *pkt);
/* Packets the recording tool said it dropped (ISBs), in every section read so far. */
uint64_t ta__ng_drops(const struct ta__ng_reader *r);
void ta__ng_close(struct ta__ng_reader *r);

#endif

/* fuzz_pcapng.c - libFuzzer target for tlsaudit's pcapng reader (src/capture/pcapng.h): the
 * input is a pcapng file after its first 4 bytes (the Section Header's type, which the caller
 * reads to tell the format), read through fmemopen block by block as `capture -r` reads a file.
 * Checks what pcapng.h promises of each packet: its bytes lie inside the reader's block buffer,
 * and it names an interface the section described; every byte is read (ASan sees a bad one). */
#define _GNU_SOURCE   /* fmemopen */
#include <stdint.h>
#include <stdio.h>

#include "pcapng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint32_t fuzz_sum;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f;
    struct ta__ng_reader *r;
    struct ta__ng_pkt pkt;
    int rc;

    if (size == 0 || !(f = fmemopen((void *)data, size, "rb")))
        return 0;
    if (!(r = ta__ng_open(f))) {
        fclose(f);
        return 0;
    }
    while ((rc = ta__ng_next(r, &pkt)) == 1) {
        if (pkt.data < r->buf || pkt.caplen > r->cap ||
            pkt.data + pkt.caplen > r->buf + r->cap || pkt.ifid >= r->sec.nif ||
            pkt.dlt != r->sec.ifs[pkt.ifid].dlt)
            __builtin_trap();
        uint32_t s = pkt.dlt;
        for (uint32_t i = 0; i < pkt.caplen; i++)
            s += pkt.data[i];
        fuzz_sum += s;
    }
    if (rc < 0 && r->err[0] == '\0')
        __builtin_trap();              /* an error always says why */
    ta__ng_close(r);
    fclose(f);
    return 0;
}

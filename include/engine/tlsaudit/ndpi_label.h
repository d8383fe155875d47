/* ndpi_label.h - nDPI labels of the flows under analysis (nDPI 4.2). nDPI is given only
 * the packets of flows that carry an analysis context, and only until it has decided. */
#ifndef TLSAUDIT_NDPI_LABEL_H
#define TLSAUDIT_NDPI_LABEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ta_ndpi;
struct ndpi_flow_struct;

/* One flow's classification state; embedded in the analysis context, so no allocation per flow. */
struct ta_ndpi_state {
    uint16_t master, app;   /* nDPI protocol ids */
    uint8_t packets;        /* packets given to nDPI */
    bool done;              /* nDPI decided (or gave up): no more packets */
    bool used;              /* the nDPI flow struct holds state that must be freed */
};

/* Create the detection module (all protocols enabled). NULL on failure. */
struct ta_ndpi *ta_ndpi_new(void);
void ta_ndpi_free(struct ta_ndpi *c);

/* Size of the opaque nDPI flow struct the caller must reserve (aligned to 8). */
size_t ta_ndpi_flow_size(void);

/* Give one packet (IP header at l3, l3_len bytes) of the flow to nDPI unless it has decided. */
void ta_ndpi_packet(struct ta_ndpi *c, struct ta_ndpi_state *cs, void *nflow,
                        const uint8_t *l3, uint32_t l3_len, uint64_t ts_us);
/* Settle the result (nDPI's give-up guess when undecided) and write nDPI's name
 * ("TLS.Microsoft365") into name. Frees nDPI's per-flow allocations; the state can be reused
 * after ta_ndpi_reset. */
void ta_ndpi_finish(struct ta_ndpi *c, struct ta_ndpi_state *cs, void *nflow,
                        char *name, size_t namelen);
void ta_ndpi_reset(struct ta_ndpi_state *cs, void *nflow);

#endif

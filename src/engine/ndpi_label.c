/* ndpi_label.c - nDPI 4.2 labels for the flows under analysis: one detection module, flow structs owned by the caller.
 *
 * nDPI 4.2 reports the client's offered TLS version, dissects no TLS after STARTTLS and
 * reassembles in order only, so it is used here for the application label alone (Microsoft365,
 * Outlook, Teams ...); every handshake field comes from tlsaudit's own dissectors. */
#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

#include "tlsaudit/ndpi_label.h"

#define TA_NDPI_MAX_PACKETS 24  /* nDPI decides TLS/SNI-based protocols within a few packets */

struct ta_ndpi {
    struct ndpi_detection_module_struct *ndpi;
};

struct ta_ndpi *ta_ndpi_new(void)
{
    struct ta_ndpi *c = calloc(1, sizeof(*c));
    NDPI_PROTOCOL_BITMASK all;

    if (!c)
        return NULL;
    c->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
    if (!c->ndpi) {
        free(c);
        return NULL;
    }
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
    ndpi_finalize_initialization(c->ndpi);
    return c;
}

void ta_ndpi_free(struct ta_ndpi *c)
{
    if (!c)
        return;
    if (c->ndpi)
        ndpi_exit_detection_module(c->ndpi);
    free(c);
}

size_t ta_ndpi_flow_size(void)
{
    return (SIZEOF_FLOW_STRUCT + 7u) & ~(size_t)7u;
}

void ta_ndpi_packet(struct ta_ndpi *c, struct ta_ndpi_state *cs, void *nflow,
                        const uint8_t *l3, uint32_t l3_len, uint64_t ts_us)
{
    ndpi_protocol p;

    if (cs->done || !l3 || l3_len == 0)
        return;
    if (l3_len > 65535)
        l3_len = 65535;
    cs->used = true;
    p = ndpi_detection_process_packet(c->ndpi, nflow, l3, (unsigned short)l3_len, ts_us / 1000);
    cs->master = p.master_protocol;
    cs->app = p.app_protocol;
    cs->packets++;
    if ((p.app_protocol != NDPI_PROTOCOL_UNKNOWN &&
         !ndpi_extra_dissection_possible(c->ndpi, nflow)) ||
        cs->packets >= TA_NDPI_MAX_PACKETS)
        cs->done = true;
}

void ta_ndpi_finish(struct ta_ndpi *c, struct ta_ndpi_state *cs, void *nflow,
                        char *name, size_t namelen)
{
    ndpi_protocol p = { .master_protocol = cs->master, .app_protocol = cs->app };

    if (cs->used && cs->app == NDPI_PROTOCOL_UNKNOWN) {
        uint8_t guessed = 0;
        p = ndpi_detection_giveup(c->ndpi, nflow, 1, &guessed);
        cs->master = p.master_protocol;
        cs->app = p.app_protocol;
    }
    cs->done = true;
    if (name && namelen) {
        name[0] = '\0';
        if (cs->master != NDPI_PROTOCOL_UNKNOWN || cs->app != NDPI_PROTOCOL_UNKNOWN)
            ndpi_protocol2name(c->ndpi, p, name, (u_int)namelen);
    }
    if (cs->used) {
        ndpi_free_flow_data(nflow);
        cs->used = false;
    }
}

void ta_ndpi_reset(struct ta_ndpi_state *cs, void *nflow)
{
    memset(cs, 0, sizeof(*cs));
    memset(nflow, 0, SIZEOF_FLOW_STRUCT);
}

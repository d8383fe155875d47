/* engine_quic.h - the engine's QUIC side (src/engine/engine_quic.c): UDP flows that begin with a QUIC
 * client Initial, in a flow table and a context pool of their own, sized from the engine's
 * configuration at start-up. Private to the engine. */
#ifndef TLSAUDIT_ENGINE_QUIC_H
#define TLSAUDIT_ENGINE_QUIC_H

#include <stdint.h>
#include "tlsaudit/ndpi_label.h"
#include "tlsaudit/engine.h"
#include "tlsaudit/packet.h"
#include "tlsaudit/counters.h"

struct ta__quic_engine;
struct ta_dis_mem;

/* Tables for max(16, max_flows / 4) QUIC flows and max(4, max_analyzing / 4) handshakes read
 * at once, allocated here once; cls is the engine's nDPI module (NULL without nDPI), sink where
 * records go, dis_mem the engine's dissector memory (every context reaches it). NULL when memory
 * or libcrypto fails. */
struct ta__quic_engine *ta__quic_engine_new(const struct ta_engine_config *cfg,
                                            struct ta_ndpi *cls,
                                            const struct ta_engine_sink *sink,
                                            struct ta_dis_mem *dis_mem);
void ta__quic_engine_free(struct ta__quic_engine *q);
/* One decoded UDP packet (not DNS). Costs a few byte checks unless it is a long-header packet;
 * a flow is created only for a client's first Initial (ta_quic_probe). */
void ta__quic_engine_packet(struct ta__quic_engine *q, const struct ta_pkt *pkt);
/* End flows idle for the engine's idle timeout at now_us; end every flow. */
void ta__quic_engine_expire(struct ta__quic_engine *q, uint64_t now_us);
void ta__quic_engine_flush(struct ta__quic_engine *q);
/* End the flows whose last packet came after after_us (the packets' time went back: engine.c). */
void ta__quic_engine_end_after(struct ta__quic_engine *q, uint64_t after_us);
/* Add the QUIC counters to rs (flows, evictions, timeouts, records, pool exhaustion). */
void ta__quic_engine_stats(const struct ta__quic_engine *q, struct ta_run_stats *rs);
/* Flows in the table and contexts in use now, and their caps (for tests). */
void ta__quic_engine_usage(const struct ta__quic_engine *q, uint32_t *flows, uint32_t *max_flows,
                           uint32_t *contexts, uint32_t *max_contexts);

/* The record's endpoints by role (client, server, ports, IP version, transport) and the flow's
 * first and last times (the first kept when the record has one), for the TCP and QUIC sides
 * (endpoints.c). */
struct ta_flow;
struct ta_hs;
void ta__engine_fill_endpoints(const struct ta_flow *f, struct ta_hs *hs);

#endif

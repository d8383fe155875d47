/* engine.h - the per-packet path: decode, flow lookup, reassembly, dissectors, records out. */
#ifndef TLSAUDIT_ENGINE_H
#define TLSAUDIT_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include "tlsaudit/handshake.h"
#include "tlsaudit/counters.h"
#include "tlsaudit/packet.h"

struct ta_engine_config {
    uint32_t max_flows;        /* flow table cap (default 262144) */
    uint32_t max_analyzing;    /* flows analysed at once: analysis contexts (default 4096) */
    uint32_t stream_bufs;      /* reassembly buffers in the pool (default 4096) */
    uint32_t stream_buf_size;  /* bytes per buffer = per-direction reassembly cap (default 32768) */
    uint32_t idle_timeout_s;   /* TCP idle timeout (default 300) */
    bool ndpi;                 /* classify with nDPI (default true) */
    uint16_t vxlan_port;       /* a UDP port decoded as VXLAN besides 4789 (default 0: none) */
};

/* Where records go: the store in production, a test's collector in unit tests. */
struct ta_engine_sink {
    void (*record)(void *arg, const struct ta_hs *hs);
    void (*dns)(void *arg, uint64_t ts_us, const uint8_t *msg, size_t len);
    void *arg;
};

struct ta_engine;

void ta_engine_config_default(struct ta_engine_config *cfg);
/* All memory is allocated here, once. NULL with a message in errbuf on failure. */
struct ta_engine *ta_engine_new(const struct ta_engine_config *cfg, const struct ta_engine_sink *sink,
                                char *errbuf);
void ta_engine_free(struct ta_engine *e);

/* One captured frame of link type dlt. */
void ta_engine_packet(struct ta_engine *e, int dlt, uint64_t ts_us, const uint8_t *data,
                      uint32_t caplen, uint32_t wire_len);
/* Where an engine hands the IP datagrams it rebuilt from fragments (ip, len: the whole packet;
 * outer: what was outside its fragments): fn answers true when it took the datagram (the reader
 * of `capture -r --workers N` gives it to the engine thread of its flow, which reads it with
 * ta_engine_datagram), false to let this engine read it. Without one, the engine reads every
 * datagram it rebuilt. */
typedef bool (*ta_engine_datagram_fn)(void *arg, uint64_t ts_us, const struct ta_pkt_outer *outer,
                                      const uint8_t *ip, uint32_t len);
void ta_engine_on_datagram(struct ta_engine *e, ta_engine_datagram_fn fn, void *arg);
/* One IP datagram rebuilt from fragments (by this engine or another one's reassembly): ip is
 * the whole packet, outer what was outside its fragments. */
void ta_engine_datagram(struct ta_engine *e, uint64_t ts_us, const struct ta_pkt_outer *outer,
                        const uint8_t *ip, uint32_t len);
/* End idle flows (packet or wall time now_us); called by the capture loop between batches. A
 * time more than ta_engine_back_us behind the latest packet's (a reader's packet time that went
 * back, a clock stepped back) ends the flows of the later time, as TA_PKT_CLOCK_CONFIRM
 * packets that far back in a row do (engine.c, time_went_back). */
void ta_engine_expire(struct ta_engine *e, uint64_t now_us);
/* How far behind the latest packet time a packet, or an expiry time, is taken for the time
 * going back under cfg: half the shorter of the idle and fragment timeouts, at least 1 s.
 * A reader that keeps its own latest time for ta_engine_expire follows it back the same way. */
uint64_t ta_engine_back_us(const struct ta_engine_config *cfg);
/* End of input: settle and record every flow still under analysis. */
void ta_engine_flush(struct ta_engine *e);
/* Add the engine's counters into rs (packets, flows, evictions, records, decode counters). */
void ta_engine_stats(const struct ta_engine *e, struct ta_run_stats *rs);

#endif

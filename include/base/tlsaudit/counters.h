/* counters.h - the counters of one capture run, defined once.
 *
 * TA_RUN_COUNTERS(XX) lists every counter as XX(name, merge): the struct below, the runs table's
 * columns (the schema files, same names), the run-row UPDATE in the store, the `query runs` columns
 * and the sum over capture workers are all generated from it, so adding a counter is one line
 * here plus its column in a new schema file. merge is how two workers' values combine: SUM, or
 * MAX for a figure every handle reports for the whole interface (ps_ifdrop) or every engine
 * sees for itself (time_back). */
#ifndef TLSAUDIT_COUNTERS_H
#define TLSAUDIT_COUNTERS_H

#include <stdint.h>

#define TA_RUN_COUNTERS(XX)                                                                     \
    XX(packets, SUM)          /* packets read */                                                \
    XX(bytes, SUM)            /* bytes on the wire of those packets */                          \
    XX(drops, SUM)            /* live: pcap_stats ps_drop; files: a pcapng's recorded drops */  \
    XX(if_drops, MAX)         /* pcap_stats ps_ifdrop: the interface's, same on every handle */ \
    XX(flows, SUM)            /* flows tracked */                                               \
    XX(flows_evicted, SUM)    /* pushed out because the flow table was full */                  \
    XX(flows_timed_out, SUM)  /* closed by the idle timeout */                                  \
    XX(handshakes, SUM)       /* connection records written */                                  \
    XX(ip_fragments, SUM)     /* IP fragments seen */                                           \
    XX(malformed, SUM)        /* headers short or inconsistent */                               \
    XX(non_ip, SUM)           /* frames that were not IPv4/IPv6 */                              \
    XX(pool_exhausted, SUM)   /* analysis contexts or stream buffers not available */       \
    XX(tunneled, SUM)         /* packets decoded through a tunnel or tag (schema 003) */        \
    XX(undecoded_mpls, SUM)   /* encapsulations not decoded, per kind: malformed or unknown */  \
    XX(undecoded_pppoe, SUM)                                                                     \
    XX(undecoded_gre, SUM)                                                                       \
    XX(undecoded_erspan, SUM)                                                                    \
    XX(undecoded_vxlan, SUM)                                                                     \
    XX(undecoded_geneve, SUM)                                                                    \
    XX(undecoded_cmd, SUM)    /* Cisco MetaData */                                               \
    XX(undecoded_ipip, SUM)   /* 4in4, 6in4, 4in6, 6in6 */                                        \
    XX(tunnel_too_deep, SUM)  /* more nested encapsulations than decoded */                    \
    XX(truncated, SUM)        /* packets the analysis read, cut short by the snap length (014) */ \
    XX(ip_reassembled, SUM)   /* IP datagrams rebuilt from their fragments (015) */             \
    XX(ip_incomplete, SUM)    /* IP datagrams whose fragments never made them whole (015) */ \
    XX(time_back, MAX)        /* packets' time went back: flows open then ended (019) */

struct ta_run_stats {
#define TA__RUN_FIELD(name, merge) uint64_t name;
    TA_RUN_COUNTERS(TA__RUN_FIELD)
#undef TA__RUN_FIELD
};

/* Number of counters in the list. */
enum {
#define TA__RUN_ONE(name, merge) +1
    TA_RUN_COUNTER_COUNT = 0 TA_RUN_COUNTERS(TA__RUN_ONE)
#undef TA__RUN_ONE
};

/* Merge src into dst, counter by counter, as the list says (SUM or MAX). */
static inline void ta_run_stats_merge(struct ta_run_stats *dst, const struct ta_run_stats *src)
{
#define TA__RUN_SUM(a, b) ((a) + (b))
#define TA__RUN_MAX(a, b) ((a) > (b) ? (a) : (b))
#define TA__RUN_MERGE(name, merge) dst->name = TA__RUN_##merge(dst->name, src->name);
    TA_RUN_COUNTERS(TA__RUN_MERGE)
#undef TA__RUN_MERGE
#undef TA__RUN_MAX
#undef TA__RUN_SUM
}

/* The counters of rs as an array in list order (out has TA_RUN_COUNTER_COUNT slots). */
static inline void ta_run_stats_values(const struct ta_run_stats *rs, uint64_t *out)
{
    unsigned i = 0;
#define TA__RUN_VAL(name, merge) out[i++] = rs->name;
    TA_RUN_COUNTERS(TA__RUN_VAL)
#undef TA__RUN_VAL
}

/* Column names in list order, NULL-terminated (defined in src/base/counters.c). */
extern const char *const ta_run_counter_names[TA_RUN_COUNTER_COUNT + 1];

#endif

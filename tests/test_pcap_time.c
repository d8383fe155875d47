/* test_pcap_time.c - the time of a libpcap record header (ta__pcap_ts_us, capture_int.h): a
 * classic pcap file's unsigned 32-bit seconds that libpcap hands over as negative (dates past
 * January 2038) and corrupt microseconds come out as the unsigned fields they are, and dates past
 * 9999-12-31 are held there, so that no record time wraps or prints with a fifth year digit. */
#include <stdint.h>
#include <sys/time.h>

#include "capture_int.h"
#include "check.h"

static uint64_t ts(int64_t sec, int64_t usec)
{
    struct timeval tv = { .tv_sec = (time_t)sec, .tv_usec = (suseconds_t)usec };
    return ta__pcap_ts_us(&tv);
}

int main(void)
{
    CHECK(ts(0, 0) == 0);
    CHECK(ts(1764892800, 123456) == 1764892800123456ULL);           /* 2025-12-05 */
    /* 2066-11-26 in a classic pcap (0xB645F4D7 seconds), as libpcap's signed read gives it */
    CHECK(ts((int32_t)0xB645F4D7u, 7) == 0xB645F4D7ULL * 1000000u + 7);
    CHECK(ts(-1, 0) == 4294967295ULL * 1000000u);                   /* 2106-02-07, the last */
    /* microseconds a corrupt header says are negative: the unsigned field, not a wrap */
    CHECK(ts(1764892800, -1) == 1764892800ULL * 1000000u + 4294967295ULL);
    /* past 9999-12-31T23:59:59.999999Z: held there */
    CHECK(ts(253402300799LL, 999999) == TA__PCAP_TS_MAX_US);
    CHECK(ts(253402300799LL, 1000000) == TA__PCAP_TS_MAX_US);
    CHECK(ts(253402300800LL, 0) == TA__PCAP_TS_MAX_US);
    CHECK(ts(INT64_MAX / 2, 0) == TA__PCAP_TS_MAX_US);
    CHECK(TA__PCAP_TS_MAX_US < (uint64_t)INT64_MAX);
    return CHECK_DONE();
}

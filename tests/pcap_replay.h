/* pcap_replay.h - test helper: one TCP flow of a real capture, replayed packet by packet, each
 * direction's bytes handed over in stream order as soon as they are contiguous (the way the
 * engine's reassembly hands them to a dissector). For unit tests that drive a dissector with real
 * traffic without the engine; linked into them by tests/CMakeLists.txt. */
#ifndef TA_PCAP_REPLAY_H
#define TA_PCAP_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsaudit/common.h"

#define PCAP_REPLAY_MAX 65536   /* stream bytes kept per direction; later ones are dropped */
#define PCAP_REPLAY_FLOWS 16    /* client ports told apart per capture; later flows ignored */

/* Receives the bytes of direction dir that have just become contiguous, in stream order. */
typedef void pcap_replay_fn(void *arg, enum ta_dir dir, const uint8_t *p, size_t n);

/* Replay flow number `which` (0 = the first; flows are told apart by client port and numbered in
 * order of first appearance) of the capture at path, whose server listens on port: deliver is
 * called with arg each time one direction's contiguous stream grows. Links: Ethernet (802.1Q and
 * 802.1ad tags), BSD null/loopback, Linux cooked; IPv4 or IPv6; TCP. Stream offsets start after
 * the SYN (else at the first payload); of overlapping bytes the first copy wins. Returns false,
 * with the reason in err, when the capture cannot be opened (or memory is short). */
bool pcap_replay_flow(const char *path, uint16_t port, int which, pcap_replay_fn *deliver,
                      void *arg, char *err, size_t errlen);

#endif

/* quic.h - the TLS handshake inside QUIC Initial packets (RFC 9000, RFC 9001, RFC 9369): what the
 * engine's UDP path calls. The dissector decrypts the client's and the server's Initial packets
 * (their keys derive from the client's first Destination Connection ID, so any observer can),
 * reassembles their CRYPTO frames and gives the ClientHello and ServerHello to the same hello
 * parser the TCP path uses (dissectors/tls_hello.c). Handshake, 0-RTT and 1-RTT packets are
 * skipped: their keys come from the TLS exchange. Nothing is allocated per packet. */
#ifndef TLSAUDIT_QUIC_H
#define TLSAUDIT_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tlsaudit/common.h"
#include "tlsaudit/dissector.h"

/* Per-flow QUIC state (connection ids, keys, CRYPTO reassembly buffers): opaque, fixed size, kept
 * by the engine in a pool allocated at start-up. dissectors/quic_int.h checks that it fits. */
#define TA_QUIC_STATE_SIZE 12288
struct ta_quic_state {
    _Alignas(8) uint8_t opaque[TA_QUIC_STATE_SIZE];
};

/* libcrypto handles (HKDF, AES-128-GCM, AES-128-ECB) and the scratch buffer one packet is
 * decrypted in: one per engine, made at start-up. Not shared between threads. */
struct ta_quic_crypto;
struct ta_quic_crypto *ta_quic_crypto_new(void);
void ta_quic_crypto_free(struct ta_quic_crypto *qc);

/* Does this UDP payload begin with the first Initial packet of a QUIC connection (a client's)?
 * A long header of a known version (1, 2, draft-29..32), packet type Initial, a Destination
 * Connection ID of 8 to 20 bytes (RFC 9000 7.2), and a packet that decrypts with the client keys
 * derived from that id. A packet cut short by the capture's snap length (truncated) cannot be
 * authenticated and is accepted on its header alone, so the server's Initial can still be read.
 * Returns TA_OK or TA_UNSUPPORTED. Costs one key derivation and one AEAD open at most. */
int ta_quic_probe(struct ta_quic_crypto *qc, const uint8_t *data, size_t len, bool truncated);

/* A new flow whose first payload (the client's, accepted by ta_quic_probe) is data: reset st and
 * remember the connection id the Initial keys derive from. Sets ctx->hs.app = TA_APP_QUIC. */
void ta_quic_start(struct ta_ctx *ctx, struct ta_quic_state *st, const uint8_t *data, size_t len);

/* One UDP payload of the flow, sent in direction dir (truncated: cut by the snap length). Every
 * coalesced packet is walked; Initial packets are decrypted and their frames read; Retry and
 * Version Negotiation packets are recorded (anomalies quic_retry, quic_version_negotiation) and
 * the connection attempt that follows them is read too. Returns TA_OK (keep feeding) or TA_DONE
 * (nothing more to learn: the hellos are read, or the flow's packet budget is spent). */
int ta_quic_datagram(struct ta_quic_crypto *qc, struct ta_ctx *ctx, struct ta_quic_state *st,
                     enum ta_dir dir, const uint8_t *data, size_t len, bool truncated);

/* The flow ends: a hello whose CRYPTO bytes were still incomplete is flagged truncated_hello. */
void ta_quic_finish(struct ta_ctx *ctx, struct ta_quic_state *st);

#endif

/* quic_packet.c - the QUIC dissector's entry points: which datagram starts a connection, and the
 * walk over the coalesced packets of each datagram (RFC 9000 12.2), with the connection
 * attempts Retry and Version Negotiation start (RFC 9000 6, 17.2.1, 17.2.5; RFC 9001 5.2).
 *
 * Only long-header Initial packets are decrypted. Their keys come from the Destination
 * Connection ID of the client's first Initial; a Retry names the id the client's next Initials
 * derive from, and a client that starts over after a Version Negotiation may pick a new one, so
 * a client Initial that does not open with the keys in force is tried once with keys from its
 * own id. Each flow has a budget of datagrams and failed decryptions: past it the flow is done. */
#include <string.h>

#include "quic_int.h"

/* The keys of direction dir for version ver, derived on first use and after a change of
 * version (compatible version negotiation, RFC 9368, lets the server answer in another one) or
 * of connection id. NULL when libcrypto fails. */
static const struct ta__quic_keys *conn_keys(struct ta_quic_crypto *qc, struct ta__quic_conn *c,
                                             const struct ta__quic_ver *ver, enum ta_dir dir)
{
    struct ta__quic_keys *k = &c->keys[dir];
    if (k->valid && k->version == ver->version)
        return k;
    if (ta__quic_keys_derive(qc, ver, c->dcid, c->dcid_len, dir, k) != TA_OK)
        return NULL;
    return k;
}

/* A client Initial that did not open with the keys in force: is it a new connection attempt
 * whose keys derive from its own DCID? Only after a Version Negotiation, or while no
 * ClientHello was read (the flow may have begun with a packet the capture cut): otherwise an
 * injected Initial could steer the keys away from the real connection. On success the
 * connection adopts that id (the server's keys follow it) and, while the ClientHello is not read
 * yet, restarts the client's CRYPTO stream, which a new attempt sends from offset 0 again. */
static int client_restart(struct ta_quic_crypto *qc, struct ta_ctx *ctx, struct ta__quic_conn *c,
                          const struct ta__quic_hdr *h, uint64_t *pn, const uint8_t **plain,
                          size_t *plen)
{
    struct ta__quic_keys k;
    if ((ctx->hs.ch.present && !(c->flags & QUIC_F_VN)) ||
        h->dcid.len < QUIC_CID_MIN_INITIAL || h->dcid.len > QUIC_CID_MAX ||
        (h->dcid.len == c->dcid_len && memcmp(h->dcid.ptr, c->dcid, c->dcid_len) == 0) ||
        ta__quic_keys_derive(qc, h->ver, h->dcid.ptr, h->dcid.len, TA_DIR_C2S, &k) != TA_OK ||
        ta__quic_open(qc, &k, h, 0, pn, plain, plen) != TA_OK)
        return TA_MALFORMED;
    memcpy(c->dcid, h->dcid.ptr, h->dcid.len);
    c->dcid_len = (uint8_t)h->dcid.len;
    c->keys[TA_DIR_C2S] = k;
    c->keys[TA_DIR_S2C].valid = false;
    if (!ctx->hs.ch.present)
        ta__quic_reasm_reset(c, TA_DIR_C2S);
    return TA_OK;
}

/* One Initial packet of direction dir: decrypt, then read its frames. A packet the capture cut
 * cannot be authenticated: it is only noted (a ClientHello that was never read is then flagged
 * truncated when the flow ends). */
static void initial_packet(struct ta_quic_crypto *qc, struct ta_ctx *ctx, struct ta__quic_conn *c,
                           enum ta_dir dir, const struct ta__quic_hdr *h)
{
    const struct ta__quic_keys *k;
    const uint8_t *plain = NULL;
    size_t plen = 0;
    uint64_t pn = 0;
    int rc = TA_MALFORMED;
    if (h->cut) {
        if (dir == TA_DIR_C2S)
            c->flags |= QUIC_F_CLIENT_CUT;
        return;
    }
    k = conn_keys(qc, c, h->ver, dir);
    if (k)
        rc = ta__quic_open(qc, k, h, c->next_pn[dir], &pn, &plain, &plen);
    if (rc != TA_OK && dir == TA_DIR_C2S)
        rc = client_restart(qc, ctx, c, h, &pn, &plain, &plen);
    if (rc != TA_OK) {
        c->fails++;
        ctx->hs.anomalies |= TA_AN_QUIC_UNDECRYPTED;
        return;
    }
    if (pn + 1 > c->next_pn[dir])
        c->next_pn[dir] = pn + 1;
    if (!ta__quic_frames(ctx, c, dir, plain, plen))
        ctx->hs.anomalies |= TA_AN_BAD_RECORD;
}

/* A Retry from the server (RFC 9000 17.2.5): the client's next Initials use its Source
 * Connection ID as their DCID, and the Initial keys derive from that id from now on. */
static void retry_packet(struct ta_ctx *ctx, struct ta__quic_conn *c, const struct ta__quic_hdr *h)
{
    ctx->hs.anomalies |= TA_AN_QUIC_RETRY;
    c->flags |= QUIC_F_RETRY;
    if (h->scid.len == 0 || h->scid.len > QUIC_CID_MAX)
        return;
    memcpy(c->dcid, h->scid.ptr, h->scid.len);
    c->dcid_len = (uint8_t)h->scid.len;
    c->keys[TA_DIR_C2S].valid = false;
    c->keys[TA_DIR_S2C].valid = false;
}

/* Nothing more to learn: the ServerHello is read and the ClientHello too (or the client's side
 * can no longer give it: given up, or cut by the snap length), or the budget is spent. */
static bool conn_done(const struct ta_ctx *ctx, const struct ta__quic_conn *c)
{
    const struct ta_hs *hs = &ctx->hs;
    if (c->dgrams >= QUIC_MAX_DATAGRAMS || c->fails >= QUIC_MAX_FAILS)
        return true;
    if (!hs->sh.present && !c->rs[TA_DIR_S2C].done)
        return false;
    return hs->ch.present || c->rs[TA_DIR_C2S].done || (c->flags & QUIC_F_CLIENT_CUT);
}

int ta_quic_probe(struct ta_quic_crypto *qc, const uint8_t *data, size_t len, bool truncated)
{
    struct ta_cur d = ta_cur_make(data, len);
    struct ta__quic_hdr h;
    struct ta__quic_keys k;
    const uint8_t *plain;
    size_t plen;
    uint64_t pn;
    if (ta__quic_header(&d, &h) != TA_OK || h.type != QUIC_PT_INITIAL || !(h.first & 0x40) ||
        h.dcid.len < QUIC_CID_MIN_INITIAL)
        return TA_UNSUPPORTED;
    if (h.cut)
        return truncated ? TA_OK : TA_UNSUPPORTED;
    if (ta__quic_keys_derive(qc, h.ver, h.dcid.ptr, h.dcid.len, TA_DIR_C2S, &k) != TA_OK ||
        ta__quic_open(qc, &k, &h, 0, &pn, &plain, &plen) != TA_OK)
        return TA_UNSUPPORTED;
    return TA_OK;
}

void ta_quic_start(struct ta_ctx *ctx, struct ta_quic_state *st, const uint8_t *data, size_t len)
{
    struct ta__quic_conn *c = ta__quic_conn(st);
    struct ta_cur d = ta_cur_make(data, len);
    struct ta__quic_hdr h;
    memset(c, 0, sizeof(*c));
    ctx->hs.app = TA_APP_QUIC;
    if (ta__quic_header(&d, &h) == TA_OK && h.dcid.len <= QUIC_CID_MAX) {
        memcpy(c->dcid, h.dcid.ptr, h.dcid.len);
        c->dcid_len = (uint8_t)h.dcid.len;
    }
}

int ta_quic_datagram(struct ta_quic_crypto *qc, struct ta_ctx *ctx, struct ta_quic_state *st,
                     enum ta_dir dir, const uint8_t *data, size_t len, bool truncated)
{
    struct ta__quic_conn *c = ta__quic_conn(st);
    struct ta_cur d = ta_cur_make(data, len);
    (void)truncated;   /* a cut packet is told by its own Length field */
    if (conn_done(ctx, c))
        return TA_DONE;
    c->dgrams++;
    while (!ta_cur_empty(&d)) {
        struct ta__quic_hdr h;
        if (ta__quic_header(&d, &h) != TA_OK)
            break;   /* a short header (1-RTT) or an unknown version ends the walk */
        if (h.type == QUIC_PT_VN && dir == TA_DIR_S2C) {
            ctx->hs.anomalies |= TA_AN_QUIC_VN;
            c->flags |= QUIC_F_VN;
        } else if (h.type == QUIC_PT_RETRY && dir == TA_DIR_S2C) {
            retry_packet(ctx, c, &h);
        } else if (h.type == QUIC_PT_INITIAL) {
            initial_packet(qc, ctx, c, dir, &h);
        }
    }
    if (!conn_done(ctx, c))
        return TA_OK;
    if (ctx->hs.ch.present && ctx->hs.sh.present)
        ctx->hs.handshake_done = true;
    return TA_DONE;
}

void ta_quic_finish(struct ta_ctx *ctx, struct ta_quic_state *st)
{
    const struct ta__quic_conn *c = ta__quic_conn(st);
    const struct ta_hs *hs = &ctx->hs;
    bool client_short = !hs->ch.present && (c->rs[TA_DIR_C2S].highest > 0 ||
                                            (c->flags & QUIC_F_CLIENT_CUT));
    bool server_short = !hs->sh.present && c->rs[TA_DIR_S2C].highest > c->rs[TA_DIR_S2C].parsed;
    if (client_short || server_short)
        ctx->hs.anomalies |= TA_AN_TRUNCATED_HELLO;
}

/* endpoints.c - a record's endpoints and times from its flow, shared by the engine's TCP side
 * (engine.c) and QUIC side (engine_quic.c). */
#include "engine_quic.h"
#include "tlsaudit/flow.h"
#include "tlsaudit/handshake.h"

/* See engine_quic.h. */
void ta__engine_fill_endpoints(const struct ta_flow *f, struct ta_hs *hs)
{
    const struct ta_flow_key *k = &f->key;

    hs->ipver = k->ipver;
    hs->transport = k->l4;
    if (f->client_is_a) {
        hs->client = k->a; hs->client_port = k->pa;
        hs->server = k->b; hs->server_port = k->pb;
    } else {
        hs->client = k->b; hs->client_port = k->pb;
        hs->server = k->a; hs->server_port = k->pa;
    }
    if (!hs->ts_first_us)
        hs->ts_first_us = f->ts_first_us;
    hs->ts_last_us = f->ts_last_us;
}

/* hs_fixture.h - build the endpoint part of a connection record from address text, for the tests
 * that write records through the store. */
#ifndef TA_HS_FIXTURE_H
#define TA_HS_FIXTURE_H

#include <arpa/inet.h>
#include <string.h>

#include "tlsaudit/handshake.h"

/* Address text into the 16-byte form (IPv4 as ::ffff:a.b.c.d). */
static inline void hs_fixture_addr(struct ta_addr *a, const char *text)
{
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, text, a->b + 12) == 1) {
        a->b[10] = a->b[11] = 0xff;
        return;
    }
    inet_pton(AF_INET6, text, a->b);
}

/* A zeroed TLS-over-TCP record between cli:cport and srv:sport; IPv6 when cli contains ':'. */
static inline void hs_fixture(struct ta_hs *hs, const char *cli, uint16_t cport, const char *srv,
                              uint16_t sport)
{
    memset(hs, 0, sizeof *hs);
    hs->ipver = strchr(cli, ':') ? 6 : 4;
    hs->transport = 6;
    hs_fixture_addr(&hs->client, cli);
    hs_fixture_addr(&hs->server, srv);
    hs->client_port = cport;
    hs->server_port = sport;
    hs->app = TA_APP_TLS;
}

#endif

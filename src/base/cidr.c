/* cidr.c - parse IPv4/IPv6 address ranges into one 128-bit form (IPv4-mapped). */
#include <arpa/inet.h>
#include <string.h>
#include <stdlib.h>

#include "tlsaudit/cidr.h"

/* Clear the bits after the prefix. */
static void mask_net(uint8_t net[16], unsigned bits)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = bits > i * 8 ? bits - i * 8 : 0;
        if (keep < 8)
            net[i] &= (uint8_t)(0xff00u >> keep);
    }
}

bool ta_cidr_parse(const char *text, uint8_t net[16], unsigned *bits, int *ipver)
{
    char buf[64];
    const char *slash;
    unsigned long n;
    char *end;
    size_t len;

    if (!text || !(len = strlen(text)) || len >= sizeof(buf))
        return false;
    memcpy(buf, text, len + 1);
    slash = strchr(buf, '/');
    if (slash)
        buf[slash - buf] = '\0';
    if (inet_pton(AF_INET, buf, net + 12) == 1) {
        memset(net, 0, 10);
        net[10] = net[11] = 0xff;
        *ipver = 4;
        n = 32;
    } else if (inet_pton(AF_INET6, buf, net) == 1) {
        *ipver = 6;
        n = 128;
    } else {
        return false;
    }
    if (slash) {
        const char *d = text + (slash - buf) + 1;
        if (*d < '0' || *d > '9')
            return false;
        unsigned long v = strtoul(d, &end, 10);
        if (*end != '\0' || v > n)
            return false;
        n = v;
    }
    *bits = (unsigned)(*ipver == 4 ? 96 + n : n);
    mask_net(net, *bits);
    return true;
}

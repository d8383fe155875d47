/* addr.c - text form of struct ta_addr. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "tlsaudit/addr.h"

/* inet_ntop of the address; IPv4 from the last 4 bytes of the mapped form. On a too-small
 * buffer the result is the empty string. */
const char *ta_addr_str(const struct ta_addr *a, uint8_t ipver, char *buf, size_t buflen)
{
    const char *r;

    if (!buf || buflen == 0)
        return "";
    if (ipver == 4)
        r = inet_ntop(AF_INET, a->b + 12, buf, (socklen_t)buflen);
    else
        r = inet_ntop(AF_INET6, a->b, buf, (socklen_t)buflen);
    if (!r)
        buf[0] = '\0';
    return buf;
}

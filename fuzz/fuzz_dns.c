/* fuzz_dns.c - libFuzzer target for the passive DNS parser ta_dns_parse (RFC 1035,
 * include/dissectors/tlsaudit/dns.h): the input is one DNS message. Checks what dns.h promises of each
 * answer: a name and CNAME target of printable ASCII without upper case (everything else
 * escaped as \DDD), at most TA_DNS_NAME_MAX bytes, and an address exactly for A/AAAA. */
#include <stdint.h>
#include <string.h>

#include "tlsaudit/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t fuzz_total;

static void fuzz_name_check(const char *s)
{
    size_t n = strnlen(s, TA_DNS_NAME_MAX + 1);
    if (n == 0 || n > TA_DNS_NAME_MAX)
        __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e ||
            (s[i] >= 'A' && s[i] <= 'Z'))
            __builtin_trap();
}

static void fuzz_answer(void *arg, const char *name, uint8_t ipver, const struct ta_addr *addr,
                        const char *cname)
{
    size_t *count = arg;
    fuzz_name_check(name);
    if (ipver == 4 || ipver == 6) {
        if (!addr || cname)
            __builtin_trap();
        fuzz_total += addr->b[0] + addr->b[15];
    } else if (ipver == 0) {
        if (addr || !cname)
            __builtin_trap();
        fuzz_name_check(cname);
    } else {
        __builtin_trap();
    }
    (*count)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t count = 0;
    int rc = ta_dns_parse(data, size, fuzz_answer, &count);
    /* Answers are reported only for a message that was validated whole. */
    if (rc != TA_OK && count != 0)
        __builtin_trap();
    /* Each answer record takes at least 11 bytes after a 12-byte header. */
    if (count > size / 11)
        __builtin_trap();
    return 0;
}

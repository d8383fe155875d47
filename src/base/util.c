/* util.c - logging, error names and embedded-file lookup shared by every unit. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tlsaudit/common.h"
#include "tlsaudit/embedded.h"
#include "tlsaudit/utf8.h"

_Atomic int ta_log_level = TA_LOG_WARN;
static void (*log_observer)(void *arg, const char *line);
static void *log_observer_arg;

/* See common.h. */
void ta_log_observe(void (*fn)(void *arg, const char *line), void *arg)
{
    log_observer = fn;
    log_observer_arg = arg;
}

/* See common.h. */
void ta_fprint_err(FILE *fp, const char *prefix, const char *msg)
{
    static const char hex[] = "0123456789ABCDEF";
    char out[4 * TA_ERRBUF_SIZE + 2];
    size_t n = 0, k;
    uint32_t cp;

    for (const unsigned char *p = (const unsigned char *)msg; *p && n + 17 < sizeof(out); p += k) {
        k = ta_utf8_seq(p, &cp);
        if (k > 0 && !ta_utf8_term_control(cp)) {
            memcpy(out + n, p, k);
            n += k;
            continue;
        }
        k = k ? k : 1;          /* a terminal control, or a byte that starts no sequence */
        for (size_t i = 0; i < k; i++) {
            out[n++] = '\\', out[n++] = 'x';
            out[n++] = hex[p[i] >> 4], out[n++] = hex[p[i] & 15];
        }
    }
    out[n] = '\0';
    fprintf(fp, "%s%s\n", prefix, out);
}

/* See common.h. */
void ta_print_err(const char *prefix, const char *msg)
{
    ta_fprint_err(stderr, prefix, msg);
}

/* See common.h. The message is cut where the escaped line would be cut anyway. */
void ta_fprint_errf(FILE *fp, const char *prefix, const char *fmt, ...)
{
    char msg[4 * TA_ERRBUF_SIZE];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ta_fprint_err(fp, prefix, msg);
}

/* Write one log line to stderr with a level prefix. The line is formatted first and written
 * with one call, so lines from the capture workers and the writer thread never interleave. */
void ta__log(int lvl, const char *fmt, ...)
{
    static const char *const prefix[] = { "error", "warning", "info", "debug" };
    char pre[32], line[TA_ERRBUF_SIZE + 64];
    va_list ap;
    if (lvl < 0 || lvl > TA_LOG_DEBUG)
        lvl = TA_LOG_DEBUG;
    snprintf(pre, sizeof(pre), "tlsaudit: %s: ", prefix[lvl]);
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    ta_print_err(pre, line);
    if (lvl == TA_LOG_ERROR && log_observer)
        log_observer(log_observer_arg, line);
}

/* See common.h. */
size_t ta_put_u32(char *out, uint32_t v)
{
    char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* Text for a return code; never NULL. */
const char *ta_strerror(int rc)
{
    switch (rc) {
    case TA_OK: return "ok";
    case TA_NEED_MORE: return "need more data";
    case TA_DONE: return "done";
    case TA_HANDOFF: return "handed off to TLS";
    case TA_MALFORMED: return "malformed input";
    case TA_UNSUPPORTED: return "unsupported";
    case TA_ERR_NOMEM: return "capacity exhausted";
    case TA_ERR_IO: return "I/O or database error";
    case TA_ERR_ARG: return "bad argument";
    default: return "unknown error";
    }
}

/* Find an embedded file by its source-relative name; NULL if absent. */
const struct ta_embedded *ta_embedded_find(const char *name)
{
    for (const struct ta_embedded *e = ta_embedded_files; e->name; e++)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

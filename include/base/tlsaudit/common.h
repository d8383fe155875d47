/* common.h - return codes, directions and the one log macro shared by every tlsaudit unit. */
#ifndef TLSAUDIT_COMMON_H
#define TLSAUDIT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Return codes. Negative: errors; zero: success; positive: "not yet" answers. */
enum ta_rc {
    TA_OK = 0,
    TA_NEED_MORE = 1,     /* parser needs more bytes before it can decide */
    TA_DONE = 2,          /* dissector has everything it wants from this stream */
    TA_HANDOFF = 3,       /* text protocol upgraded: next byte belongs to TLS */
    TA_RESTART = 4,       /* a new handshake starts at the next byte: write the record, go on */
    TA_MALFORMED = -1,    /* input violates the protocol; anomaly recorded */
    TA_UNSUPPORTED = -2,  /* not ours / not implemented */
    TA_ERR_NOMEM = -3,    /* a capped table or pool is full */
    TA_ERR_IO = -4,       /* file, pcap or database error */
    TA_ERR_ARG = -5       /* bad argument from the caller */
};

/* Direction of a byte stream inside a flow. */
enum ta_dir { TA_DIR_C2S = 0, TA_DIR_S2C = 1 };

#define TA_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TA_ERRBUF_SIZE 1024

/* Logging: one macro, four levels, written to stderr. ta_log_level is set by the CLI (-v, -q)
 * and may change while threads log (SIGHUP re-reads it): hence atomic. */
enum ta_log_lvl { TA_LOG_ERROR = 0, TA_LOG_WARN = 1, TA_LOG_INFO = 2, TA_LOG_DEBUG = 3 };
extern _Atomic int ta_log_level;
void ta__log(int lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* fn (NULL: none) gets every error line logged from now on, after it is written, with arg; on
 * the logging thread. Set it while no other thread logs. (capture keeps the last error.) */
void ta_log_observe(void (*fn)(void *arg, const char *line), void *arg);
#define TA_LOG(lvl, ...) do { if ((lvl) <= ta_log_level) ta__log((lvl), __VA_ARGS__); } while (0)
/* prefix then msg and a newline on stderr in one write, with every control byte of msg written
 * \xHH: a message that quotes a file name or a peer's text never drives the terminal. TA_LOG
 * lines go through it too. */
void ta_print_err(const char *prefix, const char *msg);
/* ta_print_err to fp (query and report write their errors to the stream they are given). */
void ta_fprint_err(FILE *fp, const char *prefix, const char *msg);
/* ta_fprint_err of a printf-formatted message, for a line with several variable parts (a path
 * and a SQLite message): every part is escaped; prefix is written as it is, so keep it fixed. */
void ta_fprint_errf(FILE *fp, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Text name of a return code, for messages. */
const char *ta_strerror(int rc);
/* v in decimal at out (no NUL; out has room for 10 digits). Returns the digits written. Used on
 * the per-record path instead of snprintf (fingerprints, timestamps, JSON lists). */
size_t ta_put_u32(char *out, uint32_t v);

#endif

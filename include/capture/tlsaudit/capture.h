/* capture.h - the `tlsaudit capture` subcommand. */
#ifndef TLSAUDIT_CAPTURE_H
#define TLSAUDIT_CAPTURE_H

#include <stdatomic.h>

/* argv[0] is "capture". Returns the process exit status: 0 success, 1 error (data may be
 * incomplete: what was read before is stored), 2 usage. */
int ta_cmd_capture(int argc, char **argv);

/* What the layers above lend a capture. sync: the capture's own push to the central store
 * (--sync-to, `sync_to` in the config): called in a thread of its own once the database is
 * ready, it pushes db_path to `to` every interval_s seconds until *stop is set, then, when
 * *final is set, once more. NULL: --sync-to is refused. check: whether `to` is a string the
 * sync accepts (no password in it ...), before anything is opened: 0, or -1 with errbuf
 * (TA_ERRBUF_SIZE) set, which makes it a usage error. */
struct ta_capture_hooks {
    int (*check)(const char *to, char *errbuf);
    void (*sync)(const char *db_path, const char *to, double interval_s, atomic_int *stop,
                 atomic_int *final);
};

/* ta_cmd_capture with hooks (NULL: none). */
int ta_capture_main(int argc, char **argv, const struct ta_capture_hooks *hooks);

#endif

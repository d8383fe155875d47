/* reload.c - SIGHUP: read the --config file again and apply, without stopping the capture, what
 * can change while it runs (the BPF filter, the log level, the retention limits), name in one
 * log line what cannot ("changed in config, restart to apply"), and have the store load the
 * Office 365 endpoint list in force for the verdicts of the rows to come (ta_store_o365_reload).
 * A config file that no longer reads, or options the capture refuses, leave everything as it
 * was, with an error line.
 *
 * Which options changed is decided on the two readings of the file, key by key, without a list
 * of options (ta__config_diff): an option the command line gives is not compared, since the
 * command line wins over both readings. On the writer thread (service.c). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "capture_int.h"
#include "tlsaudit/clock.h"
#include "tlsaudit/common.h"

/* See capture_int.h. */
void ta__service_iso(uint64_t wall_us, char *buf, size_t cap)
{
    time_t t = (time_t)(wall_us / 1000000u);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, cap, "?");
}

/* Check that text compiles, then hand it to the readers (ta__filter_follow). TA_OK, or
 * TA_ERR_ARG with libpcap's message in errbuf. */
static int publish_filter(struct ta__filter_box *fb, const char *text, char *errbuf)
{
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    struct bpf_program prog;

    if (strlen(text) >= sizeof(fb->text)) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "filter longer than %d bytes", TA_FILTER_MAX - 1);
        if (dead)
            pcap_close(dead);
        return TA_ERR_ARG;
    }
    if (!dead || pcap_compile(dead, &prog, text, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "filter '%s': %s", text,
                 dead ? pcap_geterr(dead) : "cannot compile");
        if (dead)
            pcap_close(dead);
        return TA_ERR_ARG;
    }
    pcap_freecode(&prog);
    pcap_close(dead);
    pthread_mutex_lock(&fb->mu);
    snprintf(fb->text, sizeof(fb->text), "%s", text);
    pthread_mutex_unlock(&fb->mu);
    atomic_fetch_add_explicit(&fb->gen, 1, memory_order_release);
    ta__capture_wake();               /* an idle reader would wait for a packet to see it */
    return TA_OK;
}

/* Append ", name" (or "name") to buf. */
static void add_name(char *buf, size_t cap, const char *name)
{
    size_t off = strlen(buf);
    if (off < cap)
        snprintf(buf + off, cap - off, "%s%s", off ? ", " : "", name);
}

/* The retention limits of opts on the running store (the capture's defaults: 30 days live, for
 * ever for files), said in done. */
static void apply_retention(struct ta_store *st, const struct ta__capture_opts *opts, char *done,
                            size_t cap)
{
    int days = opts->retain_days >= 0 ? opts->retain_days : opts->iface ? 30 : 0;
    char what[96];
    (void)ta_store_commit(st);        /* see ta_store_change_retention */
    ta_store_change_retention(st, days, opts->max_db_bytes);
    if (days)
        snprintf(what, sizeof(what), "retention %d days", days);
    else
        snprintf(what, sizeof(what), "retention for ever");
    add_name(done, cap, what);
    if (opts->max_db_bytes) {
        snprintf(what, sizeof(what), "database cap %lld bytes", (long long)opts->max_db_bytes);
        add_name(done, cap, what);
    }
}

/* Apply the options that changed between the reading in force and cfg; opts is cfg parsed with
 * the command line. done gets what was applied, restart what was not. */
static void apply(struct ta__service *s, struct ta_store *st, const struct ta__config *cfg,
                  const struct ta__capture_opts *opts, char *done, char *restart, size_t cap)
{
    static const char *const levels[] = { "error", "warning", "info", "debug" };
    const struct option *longs = ta__capture_longopts();
    bool changed[TA_CONFIG_MAX_KEYS], level = false, retention = false;
    char errbuf[TA_ERRBUF_SIZE];

    ta__config_diff(s->cur, cfg, s->o->cmdline_keys, changed);
    for (int k = 0; k < TA_CONFIG_MAX_KEYS && longs[k].name; k++) {
        const char *name = longs[k].name;
        if (!changed[k])
            continue;
        if (strcmp(name, "filter") == 0) {
            const char *f = opts->filter ? opts->filter : "";
            if (publish_filter(&s->filter, f, errbuf) == TA_OK) {
                char what[TA_FILTER_MAX + 16];
                snprintf(what, sizeof(what), "filter '%s'", f);
                add_name(done, cap, what);
            } else {
                TA_LOG(TA_LOG_ERROR, "SIGHUP: %s: %s (the previous filter stays)",
                       s->o->config, errbuf);
            }
        } else if (strcmp(name, "log-level") == 0 || strcmp(name, "verbose") == 0 ||
                   strcmp(name, "quiet") == 0) {
            level = true;
        } else if (strcmp(name, "retain-days") == 0 || strcmp(name, "max-db-size") == 0) {
            retention = true;
        } else {
            add_name(restart, cap, name);
        }
    }
    if (level) {
        int l = opts->log_level < 0 ? 0 : opts->log_level > 3 ? 3 : opts->log_level;
        char what[32];
        ta_log_level = l;
        snprintf(what, sizeof(what), "log level %s", levels[l]);
        add_name(done, cap, what);
    }
    if (retention)
        apply_retention(st, opts, done, cap);
}

/* Read the config file again and apply it. False when it could not be read or was refused
 * (logged; nothing changed). */
static bool reload_config(struct ta__service *s, struct ta_store *st, char *done, char *restart,
                          size_t cap)
{
    struct ta__config cfg;
    struct ta__capture_opts opts;
    char errbuf[TA_ERRBUF_SIZE] = "";

    if (ta__config_read(s->o->config, ta__capture_longopts(), &cfg, errbuf) != TA_OK) {
        TA_LOG(TA_LOG_ERROR, "SIGHUP: %s; the running configuration stays", errbuf);
        ta__config_free(&cfg);
        return false;
    }
    if (ta__capture_reparse(s->o, &cfg, &opts) != 0) {
        TA_LOG(TA_LOG_ERROR, "SIGHUP: %s: options refused (see above); the running "
               "configuration stays", s->o->config);
        ta__capture_opts_free(&opts);
        ta__config_free(&cfg);
        return false;
    }
    apply(s, st, &cfg, &opts, done, restart, cap);
    ta__capture_opts_free(&opts);
    if (s->cur == &s->owned)
        ta__config_free(&s->owned);
    s->owned = cfg;                   /* the reading in force, for the next SIGHUP's diff */
    s->cur = &s->owned;
    return true;
}

/* See capture_int.h. */
void ta__service_reload(struct ta__service *s, struct ta_store *st)
{
    char done[TA_FILTER_MAX + 256] = "", restart[TA_FILTER_MAX + 256] = "";

    s->reloads++;
    ta__service_iso(ta_clock_wall_us(), s->reloaded, sizeof(s->reloaded));
    if (s->o->config && reload_config(s, st, done, restart, sizeof(restart))) {
        if (restart[0])
            TA_LOG(TA_LOG_WARN, "%s: %s changed in config, restart to apply", s->o->config,
                   restart);
    }
    ta_store_o365_reload(st);
    TA_LOG(TA_LOG_INFO, "SIGHUP: %s%s%s; Office 365 endpoint list reloaded",
           s->o->config ? "config re-read" : "no --config file",
           done[0] ? ", applied: " : (s->o->config ? ", nothing to apply" : ""), done);
}

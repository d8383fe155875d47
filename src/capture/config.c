/* config.c - the config file of `tlsaudit capture --config FILE` (installed as
 * /etc/tlsaudit/tlsaudit.conf): `key = value` lines, one option each, by its long name.
 *
 * Nothing here knows the options: each line becomes a "--key=value" argument (a flag: "--key")
 * checked against the same getopt table the command line goes through (options.c), and the
 * file's arguments are parsed before the command line's, so a new option of `tlsaudit capture`
 * is accepted here the day it is added to the table, and the command line wins. What this file
 * checks itself is what getopt could not name a line for: the syntax, unknown keys, a flag's
 * yes/no, a missing value. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture_int.h"
#include "tlsaudit/common.h"

#define CONFIG_LINE_MAX 4096          /* longest line (a BPF filter fits many times over) */
#define CONFIG_ENTRIES_MAX 1024       /* lines with an option */

/* True when key (len bytes) spells option name, '_' standing for '-' (sync_to = sync-to). */
static bool key_is(const char *name, const char *key, size_t len)
{
    if (strlen(name) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (name[i] != key[i] && !(name[i] == '-' && key[i] == '_'))
            return false;
    return true;
}

/* Index of the long option called name (len bytes) in longs, or -1. */
static int key_index(const struct option *longs, const char *name, size_t len)
{
    for (int i = 0; i < TA_CONFIG_MAX_KEYS && longs[i].name; i++)
        if (key_is(longs[i].name, name, len))
            return i;
    return -1;
}

/* s without leading and trailing blanks (in place). */
static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

/* A flag's value: 1 on, 0 off, -1 neither. */
static int flag_value(const char *v)
{
    static const char *const on[] = { "yes", "true", "on", "1" };
    static const char *const off[] = { "no", "false", "off", "0" };
    for (size_t i = 0; i < TA_ARRAY_LEN(on); i++) {
        if (strcasecmp(v, on[i]) == 0)
            return 1;
        if (strcasecmp(v, off[i]) == 0)
            return 0;
    }
    return -1;
}

/* Add one entry and its argument. TA_OK or TA_ERR_NOMEM. */
static int add_entry(struct ta__config *cfg, const struct option *longs, int key,
                     const char *value, int line)
{
    struct ta__config_entry *e;
    size_t len = strlen(longs[key].name) + 3 + (value ? strlen(value) + 1 : 0);
    char *arg = malloc(len);

    if (!arg)
        return TA_ERR_NOMEM;
    if (value)
        snprintf(arg, len, "--%s=%s", longs[key].name, value);
    else
        snprintf(arg, len, "--%s", longs[key].name);
    e = &cfg->e[cfg->n];
    e->key = key;
    e->line = line;
    e->value = value ? strdup(value) : NULL;
    if (value && !e->value) {
        free(arg);
        return TA_ERR_NOMEM;
    }
    cfg->n++;
    cfg->argv[cfg->argc++] = arg;
    return TA_OK;
}

/* One line (no newline). TA_OK, or TA_ERR_ARG with the reason in why. */
static int parse_line(struct ta__config *cfg, const struct option *longs, char *text, int line,
                      char *why, size_t whylen)
{
    char *s = trim(text), *eq, *key, *val;
    size_t vlen;
    int k, f;

    if (*s == '\0' || *s == '#')
        return TA_OK;
    if (!(eq = strchr(s, '='))) {
        snprintf(why, whylen, "expected 'key = value'");
        return TA_ERR_ARG;
    }
    *eq = '\0';
    key = trim(s);
    val = trim(eq + 1);
    vlen = strlen(val);
    if (vlen >= 2 && (val[0] == '"' || val[0] == '\'') && val[vlen - 1] == val[0]) {
        val[vlen - 1] = '\0';          /* one pair of quotes around the value is dropped */
        val++;
    }
    k = key_index(longs, key, strlen(key));
    if (k < 0 || strcmp(key, "config") == 0 || strcmp(key, "help") == 0) {
        snprintf(why, whylen, "unknown option '%.64s'%s", key,
                 k < 0 ? " (see tlsaudit capture --help: every long option, without --)" : "");
        return TA_ERR_ARG;
    }
    if (cfg->n >= CONFIG_ENTRIES_MAX) {
        snprintf(why, whylen, "more than %d options", CONFIG_ENTRIES_MAX);
        return TA_ERR_ARG;
    }
    if (longs[k].has_arg == no_argument) {
        if ((f = flag_value(val)) < 0) {
            snprintf(why, whylen, "'%s' takes yes or no, not '%.64s'", key, val);
            return TA_ERR_ARG;
        }
        return f ? add_entry(cfg, longs, k, NULL, line) : TA_OK;
    }
    if (*val == '\0') {
        snprintf(why, whylen, "'%s' needs a value", key);
        return TA_ERR_ARG;
    }
    return add_entry(cfg, longs, k, val, line);
}

/* See capture_int.h. Errors name the file and the line. */
int ta__config_read(const char *path, const struct option *longs, struct ta__config *cfg,
                    char *errbuf)
{
    char buf[CONFIG_LINE_MAX + 2], why[256];
    FILE *f;
    int line = 0, rc = TA_OK;

    memset(cfg, 0, sizeof(*cfg));
    cfg->path = strdup(path);
    cfg->e = calloc(CONFIG_ENTRIES_MAX, sizeof(*cfg->e));
    cfg->argv = calloc(CONFIG_ENTRIES_MAX + 1, sizeof(*cfg->argv));
    if (!cfg->path || !cfg->e || !cfg->argv) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: out of memory", path);
        return TA_ERR_NOMEM;
    }
    if (!(f = fopen(path, "r"))) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "config %s: %s", path, strerror(errno));
        return TA_ERR_IO;
    }
    while (rc == TA_OK && fgets(buf, sizeof(buf), f)) {
        size_t len = strlen(buf);
        line++;
        if (len > CONFIG_LINE_MAX && buf[len - 1] != '\n') {
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s:%d: line longer than %d bytes", path, line,
                     CONFIG_LINE_MAX);
            rc = TA_ERR_ARG;
            break;
        }
        if (strlen(buf) != len || memchr(buf, '\0', len)) {
            rc = TA_ERR_ARG;
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s:%d: NUL byte", path, line);
            break;
        }
        rc = parse_line(cfg, longs, buf, line, why, sizeof(why));
        if (rc == TA_ERR_ARG)
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s:%d: %s", path, line, why);
        else if (rc != TA_OK)
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: out of memory", path);
    }
    if (rc == TA_OK && ferror(f)) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "config %s: read error", path);
        rc = TA_ERR_IO;
    }
    fclose(f);
    return rc;
}

/* See capture_int.h. */
void ta__config_free(struct ta__config *cfg)
{
    for (int i = 0; i < cfg->n; i++)
        free(cfg->e[i].value);
    for (int i = 0; i < cfg->argc; i++)
        free(cfg->argv[i]);
    free(cfg->e);
    free(cfg->argv);
    free(cfg->path);
    memset(cfg, 0, sizeof(*cfg));
}

/* See capture_int.h. A separate getopt pass, silent (the real parse reports errors), over a
 * copy of argv so the caller's order is untouched. */
void ta__config_given(int argc, char **argv, const struct option *longs,
                      bool given[TA_CONFIG_MAX_KEYS])
{
    char shorts[128];
    char **copy = calloc((size_t)argc + 1, sizeof(*copy));
    size_t n = 0;
    int ch, idx, saved_opterr = opterr;

    memset(given, 0, TA_CONFIG_MAX_KEYS * sizeof(bool));
    if (!copy)
        return;
    /* The short letters: the long aliases whose value is a letter. */
    shorts[n++] = ':';
    for (int i = 0; longs[i].name && n + 2 < sizeof(shorts); i++) {
        if (longs[i].val > 0 && longs[i].val < 128) {
            shorts[n++] = (char)longs[i].val;
            if (longs[i].has_arg == required_argument)
                shorts[n++] = ':';
        }
    }
    shorts[n] = '\0';
    memcpy(copy, argv, (size_t)argc * sizeof(*copy));
    opterr = 0;
    optind = 0;
    while ((ch = getopt_long(argc, copy, shorts, longs, &idx)) != -1) {
        if (ch == '?' || ch == ':')
            continue;
        if (ch >= 128 || !strchr(shorts, ch)) {   /* long only: idx says which */
            if (idx >= 0 && idx < TA_CONFIG_MAX_KEYS)
                given[idx] = true;
            continue;
        }
        for (int i = 0; i < TA_CONFIG_MAX_KEYS && longs[i].name; i++)
            if (longs[i].val == ch)
                given[i] = true;
    }
    opterr = saved_opterr;
    free(copy);
}

/* The values of key in cfg joined by '\n' (a flag: "on"), into buf. */
static void key_values(const struct ta__config *cfg, int key, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < cfg->n && off < cap; i++) {
        if (cfg->e[i].key != key)
            continue;
        int w = snprintf(buf + off, cap - off, "%s%s", off ? "\n" : "",
                         cfg->e[i].value ? cfg->e[i].value : "on");
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

/* See capture_int.h. */
int ta__config_diff(const struct ta__config *a, const struct ta__config *b,
                    const bool given[TA_CONFIG_MAX_KEYS], bool changed[TA_CONFIG_MAX_KEYS])
{
    size_t cap = CONFIG_LINE_MAX * 4;
    char *va = malloc(cap), *vb = malloc(cap);
    int count = 0;

    memset(changed, 0, TA_CONFIG_MAX_KEYS * sizeof(bool));
    for (int k = 0; k < TA_CONFIG_MAX_KEYS && va && vb; k++) {
        if (given[k])
            continue;
        key_values(a, k, va, cap);
        key_values(b, k, vb, cap);
        if (strcmp(va, vb) != 0) {
            changed[k] = true;
            count++;
        }
    }
    free(va);
    free(vb);
    return count;
}

/* test_config.c - the config file of `tlsaudit capture --config` (src/capture/config.c) and its
 * parse through the capture's option table (options.c), on real files: lines to arguments,
 * errors with file and line, the command line winning, and the key-by-key comparison a SIGHUP
 * uses to tell what changed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_int.h"
#include "check.h"

static char dir[] = "/tmp/ta-test_config.XXXXXX";

/* Write text to dir/name; its path in a static buffer. */
static const char *write_conf(const char *name, const char *text)
{
    static char path[256];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
    return path;
}

/* Index of a long option in the capture's table, or -1. */
static int key(const char *name)
{
    const struct option *l = ta__capture_longopts();
    for (int i = 0; l[i].name; i++)
        if (strcmp(l[i].name, name) == 0)
            return i;
    return -1;
}

/* Lines become --key=value arguments in order; comments, blanks, quotes, flags. */
static void test_lines(void)
{
    struct ta__config cfg;
    char err[TA_ERRBUF_SIZE] = "";
    const char *p = write_conf("a.conf", "# comment\n\n  db = /x/y.db  \nfilter = \"tcp port 443\"\n"
                               "no-ndpi = yes\nverbose = no\nread = a.pcap\nread=b.pcap\r\n"
                               "workers = 2 # not a comment\n");

    CHECK_INT(ta__config_read(p, ta__capture_longopts(), &cfg, err), TA_OK);
    CHECK_INT(cfg.argc, 6);
    if (cfg.argc == 6) {
        CHECK_STR(cfg.argv[0], "--db=/x/y.db");
        CHECK_STR(cfg.argv[1], "--filter=tcp port 443");
        CHECK_STR(cfg.argv[2], "--no-ndpi");
        CHECK_STR(cfg.argv[3], "--read=a.pcap");
        CHECK_STR(cfg.argv[4], "--read=b.pcap");
        CHECK_STR(cfg.argv[5], "--workers=2 # not a comment");
        CHECK_INT(cfg.e[1].line, 4);
        CHECK_INT(cfg.e[1].key, key("filter"));
    }
    ta__config_free(&cfg);
}

/* Each bad line: TA_ERR_ARG and "FILE:LINE: why". */
static void test_errors(void)
{
    static const struct { const char *text, *why; int line; } cases[] = {
        { "db = x\nfilter tcp\n", "expected 'key = value'", 2 },
        { "\n\ncolour = blue\n", "unknown option 'colour'", 3 },
        { "config = /etc/x\n", "unknown option 'config'", 1 },
        { "help = yes\n", "unknown option 'help'", 1 },
        { "no-ndpi = maybe\n", "'no-ndpi' takes yes or no, not 'maybe'", 1 },
        { "db =\n", "'db' needs a value", 1 },
        { "--db = x\n", "unknown option '--db'", 1 },
        { "d = x\n", "unknown option 'd'", 1 },          /* no abbreviations */
    };
    for (size_t i = 0; i < TA_ARRAY_LEN(cases); i++) {
        struct ta__config cfg;
        char err[TA_ERRBUF_SIZE] = "", want[512];
        const char *p = write_conf("bad.conf", cases[i].text);
        CHECK_INT(ta__config_read(p, ta__capture_longopts(), &cfg, err), TA_ERR_ARG);
        snprintf(want, sizeof(want), "%s:%d: %s", p, cases[i].line, cases[i].why);
        CHECK(strncmp(err, want, strlen(want)) == 0);
        if (strncmp(err, want, strlen(want)) != 0)
            fprintf(stderr, "  got \"%s\"\n  want \"%s...\"\n", err, want);
        ta__config_free(&cfg);
    }
}

/* The capture's parse: the file first, the command line wins; -v/-q/--log-level. */
static void test_parse(void)
{
    struct ta__capture_opts o;
    const char *p = write_conf("p.conf", "db = from-file.db\nfilter = tcp\ninterface = eth9\n"
                               "log-level = debug\nmax-flows = 1000\n");
    char *argv[] = { "capture", "--config", (char *)p, "-f", "udp", "-q", NULL };

    CHECK_INT(ta__capture_parse(6, argv, &o), 0);
    CHECK_STR(o.db, "from-file.db");
    CHECK_STR(o.iface, "eth9");
    CHECK_STR(o.filter, "udp");                       /* command line */
    CHECK_INT(o.ecfg.max_flows, 1000);
    CHECK_INT(o.log_level, TA_LOG_ERROR);             /* -q after the file's debug */
    CHECK(o.quiet);
    CHECK(o.cmdline_keys[key("filter")]);             /* -f counts as filter */
    CHECK(o.cmdline_keys[key("quiet")]);
    CHECK(o.cmdline_keys[key("config")]);
    CHECK(!o.cmdline_keys[key("db")]);
    ta__capture_opts_free(&o);
}

/* What a SIGHUP compares: keys whose values differ, not those the command line gives. */
static void test_diff(void)
{
    struct ta__config a, b;
    bool given[TA_CONFIG_MAX_KEYS] = { false }, changed[TA_CONFIG_MAX_KEYS];
    char err[TA_ERRBUF_SIZE];
    const char *pa = "db = x\nfilter = tcp\nworkers = 2\nread = 1\nread = 2\nno-ndpi = yes\n";
    const char *pb = "db = x\nfilter = udp\nworkers = 4\nread = 1\nread = 3\n";

    CHECK_INT(ta__config_read(write_conf("d1.conf", pa), ta__capture_longopts(), &a, err), TA_OK);
    CHECK_INT(ta__config_read(write_conf("d2.conf", pb), ta__capture_longopts(), &b, err), TA_OK);
    given[key("workers")] = true;
    CHECK_INT(ta__config_diff(&a, &b, given, changed), 3);
    CHECK(changed[key("filter")]);
    CHECK(changed[key("read")]);                      /* the second value differs */
    CHECK(changed[key("no-ndpi")]);                   /* removed flag */
    CHECK(!changed[key("workers")]);                  /* the command line gives it */
    CHECK(!changed[key("db")]);
    CHECK_INT(ta__config_diff(&a, &a, given, changed), 0);
    ta__config_free(&a);
    ta__config_free(&b);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_lines();
    test_errors();
    test_parse();
    test_diff();
    check_dir_done(dir);
    return CHECK_DONE();
}

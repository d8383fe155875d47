/* main.c - the tlsaudit command: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "tlsaudit/capture.h"
#include "tlsaudit/commands.h"
#include "tlsaudit/common.h"
#include "tlsaudit/o365.h"
#include "tlsaudit/query.h"
#include "tlsaudit/report.h"

static void usage(FILE *out)
{
    fprintf(out,
        "tlsaudit %s - find clients still using SSL/TLS 1.0/1.1, above all toward Office 365\n"
        "\n"
        "usage: tlsaudit COMMAND [options]\n"
        "  capture    read pcap/pcapng files or a live interface into a SQLite database\n"
        "  query      report from the database: sessions, legacy, summary, plaintext, runs\n"
        "  report     the compliance report: one HTML page (or CSV/JSON tables)\n"
        "  endpoints  import or show the Microsoft 365 endpoint list in force\n"
        "  status     is a capture running into a database, and is it healthy\n"
        "  export     handshakes and mail sessions as ECS JSON lines (--follow for a shipper)\n"
        "  sync       push the database to a central PostgreSQL (--follow next to a capture)\n"
        "  version    print the version\n"
        "Run 'tlsaudit COMMAND --help' for a command's options; see tlsaudit(1).\n", TA_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "capture") == 0)
        return ta_cli_capture(argc - 1, argv + 1);
    if (strcmp(argv[1], "query") == 0)
        return ta_cli_query(argc - 1, argv + 1);
    if (strcmp(argv[1], "report") == 0)
        return ta_cli_report(argc - 1, argv + 1);
    if (strcmp(argv[1], "endpoints") == 0)
        return ta_cmd_endpoints(argc - 1, argv + 1);
    if (strcmp(argv[1], "status") == 0)
        return ta_cmd_status(argc - 1, argv + 1);
    if (strcmp(argv[1], "export") == 0)
        return ta_cmd_export(argc - 1, argv + 1);
    if (strcmp(argv[1], "sync") == 0)
        return ta_cmd_sync(argc - 1, argv + 1);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("tlsaudit %s\n", TA_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    ta_fprint_errf(stderr, "tlsaudit: ", "unknown command '%s'", argv[1]);
    usage(stderr);
    return 2;
}

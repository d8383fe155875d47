/* commands.h - the subcommands the tlsaudit binary dispatches to that live in the command layer
 * (src/cli/). capture and query export their own entry points from their layers. */
#ifndef TLSAUDIT_COMMANDS_H
#define TLSAUDIT_COMMANDS_H

/* `tlsaudit endpoints {import FILE.json|show} --db DB ...`; argv[0] is "endpoints".
 * Returns the process exit status (0 ok, 1 error, 2 usage). */
int ta_cmd_endpoints(int argc, char **argv);

/* `tlsaudit status --db DB [--format text|json|jsonl|csv]` (status_cmd.c); argv[0] is "status".
 * Returns 0 healthy, 1 degraded, 2 not running (or a usage error). */
int ta_cmd_status(int argc, char **argv);

/* `tlsaudit export --db FILE --format ecs ...` (src/cli/export_cmd.c): ECS JSON lines.
 * Returns 0 ok, 1 error, 2 usage. */
int ta_cmd_export(int argc, char **argv);

/* `tlsaudit sync --db FILE --to CONNINFO ...` (src/cli/sync_cmd.c): push to the central
 * PostgreSQL. Returns 0 ok, 1 error, 2 usage or refused (password in the string, name taken). */
int ta_cmd_sync(int argc, char **argv);

/* `tlsaudit query` and `tlsaudit report`: a --db naming the central PostgreSQL store is read
 * through a view of it (central_read_cmd.c); a file goes to ta_cmd_query / ta_cmd_report. */
int ta_cli_query(int argc, char **argv);
int ta_cli_report(int argc, char **argv);

/* `tlsaudit capture` with its own push to the central store (capture_cmd.c). */
int ta_cli_capture(int argc, char **argv);

#endif

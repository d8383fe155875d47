/* ecs_int.h - rows of the store as Elastic Common Schema (ECS 8.11) JSON lines, for
 * `tlsaudit export --format ecs` (src/cli/export_cmd.c writes them, src/cli/ecs.c shapes them).
 * Field names and types: tlsaudit(1), EXPORT; the test's type table is tests/it_export_ecs.sh. */
#ifndef TA_ECS_INT_H
#define TA_ECS_INT_H

#include <sqlite3.h>
#include <stdio.h>

#define TA_ECS_VERSION "8.11.0"

/* The SELECTs whose rows ta__ecs_handshake / ta__ecs_mail read, by column position. Each takes
 * ?1 = the id after which to start, ?2 = the lowest ts_us, ?3 = the row limit; rows in id order. */
extern const char ta__ecs_handshake_sql[];
extern const char ta__ecs_mail_sql[];

/* One row of ta__ecs_handshake_sql / ta__ecs_mail_sql as one JSON object and '\n' on fp. Every
 * string goes through ta_out_json_string (the JSON sink's one escaping function). */
void ta__ecs_handshake(FILE *fp, sqlite3_stmt *s);
void ta__ecs_mail(FILE *fp, sqlite3_stmt *s);

#endif

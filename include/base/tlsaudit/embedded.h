/* embedded.h - files compiled into the binary at build time (schema SQL, data files). */
#ifndef TLSAUDIT_EMBEDDED_H
#define TLSAUDIT_EMBEDDED_H

#include <stddef.h>

struct ta_embedded {
    const char *name;            /* path relative to the source tree, e.g. "schema/001_init.sql" */
    const unsigned char *data;   /* NUL-terminated for convenience; len excludes the NUL */
    size_t len;
};

/* Terminated by an entry with name == NULL; sorted: schema files by name, then data files. */
extern const struct ta_embedded ta_embedded_files[];

/* The embedded file with this exact name, or NULL. */
const struct ta_embedded *ta_embedded_find(const char *name);

#endif

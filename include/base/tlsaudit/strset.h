/* strset.h - a small growable set of distinct strings, joined sorted at the end: how the legacy
 * report (query) and the compliance page (report) list a client's destinations, fingerprints
 * and ciphers. Not for the packet path: it allocates. */
#ifndef TLSAUDIT_STRSET_H
#define TLSAUDIT_STRSET_H

#include <stddef.h>

struct ta_strset {
    char **v;
    size_t n, cap;
};

/* Add a copy of t unless it is NULL, empty or already there. 0, or -1 when out of memory. */
int ta_strset_add(struct ta_strset *s, const char *t);
/* The members sorted (strcmp) and joined by sep, malloc'd; NULL when out of memory. */
char *ta_strset_join(struct ta_strset *s, const char *sep);
/* Free the members; the set is empty again. */
void ta_strset_free(struct ta_strset *s);
/* ta_strset_join, then ta_strset_free. */
char *ta_strset_take(struct ta_strset *s, const char *sep);

#endif

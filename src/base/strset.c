/* strset.c - a small set of distinct strings (strset.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsaudit/strset.h"

/* See strset.h. A linear search: the sets hold a client's few destinations or fingerprints. */
int ta_strset_add(struct ta_strset *s, const char *t)
{
    if (!t || !*t)
        return 0;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], t) == 0)
            return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        char **nv = realloc(s->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strdup(t)))
        return -1;
    s->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* See strset.h. */
char *ta_strset_join(struct ta_strset *s, const char *sep)
{
    size_t len = 1, off = 0;
    char *out;
    if (s->n > 1)
        qsort(s->v, s->n, sizeof *s->v, cmp_str);
    for (size_t i = 0; i < s->n; i++)
        len += strlen(s->v[i]) + strlen(sep);
    out = malloc(len);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < s->n; i++)
        off += (size_t)snprintf(out + off, len - off, "%s%s", i ? sep : "", s->v[i]);
    return out;
}

/* See strset.h. */
void ta_strset_free(struct ta_strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* See strset.h. */
char *ta_strset_take(struct ta_strset *s, const char *sep)
{
    char *out = ta_strset_join(s, sep);
    ta_strset_free(s);
    return out;
}

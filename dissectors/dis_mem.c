/* dis_mem.c - the memory the dissectors share across the flows of one engine: made at start-up,
 * freed with the engine, never touched by another thread (no _Thread_local, no file state). */
#include <stdlib.h>

#include "dis_mem.h"
#include "tlsaudit/dissector.h"

/* See dissector.h. The certificate cache allocates its table at its first lookup. */
struct ta_dis_mem *ta_dis_mem_new(void)
{
    struct ta_dis_mem *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->certs = ta__tls_cert_cache_new();
    if (!m->certs) {
        free(m);
        return NULL;
    }
    return m;
}

/* See dissector.h. */
void ta_dis_mem_free(struct ta_dis_mem *m)
{
    if (!m)
        return;
    ta__tls_cert_cache_free(m->certs);
    free(m);
}

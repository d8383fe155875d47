/* dis_mem.h - the dissectors' shared memory (struct ta_dis_mem of dissector.h), private to the
 * dissectors and their tests. */
#ifndef TLSAUDIT_DIS_MEM_H
#define TLSAUDIT_DIS_MEM_H

#include <stdint.h>

#include "tls_cert_cache.h"

/* Largest handshake message we defragment. */
#define TLS_SCRATCH_MAX 65536u

struct ta_dis_mem {
    struct ta__cert_cache *certs;              /* NULL: parse every certificate */
    uint8_t tls_scratch[TLS_SCRATCH_MAX];      /* a message spanning records, put together */
};

#endif

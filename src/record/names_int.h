/* names_int.h - private to src/record/names.c and the generated src/record/cipher_table.c (and their tests). */
#ifndef TLSAUDIT_NAMES_INT_H
#define TLSAUDIT_NAMES_INT_H

#include <stddef.h>
#include <stdint.h>

/* One IANA cipher suite: the table is sorted by id, ids unique (checked by the generator and by
 * tests/test_names.c). */
struct ta__cipher_entry {
    uint16_t id;
    const char *name;
};

extern const struct ta__cipher_entry ta__cipher_table[];
extern const size_t ta__cipher_table_len;

#endif

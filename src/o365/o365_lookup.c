/* o365_lookup.c - the per-row lookups of the Office 365 rules made cheap: the address ranges of
 * the list in force hashed by (prefix length, masked network), and the exclusion table bucketed by
 * the last two labels of its patterns. Both are built once per classifier (o365.c) and answer
 * exactly what the linear functions they replace answer (ta__o365_find_addr in o365_match.c,
 * ta__o365_excluded in o365_exclude.c), which stay as the reference that tests/test_o365_lookup.c
 * compares them to on many addresses and names. Nothing is allocated per row. */
#include <stdlib.h>
#include <string.h>

#include "o365_int.h"
#include "tlsaudit/cidr.h"
#include "tlsaudit/common.h"
#include "tlsaudit/o365.h"

/* One range in the address hash: its masked network as two 64-bit words (memory order), its
 * prefix length and its index in the list's nets (+1; 0 marks an empty slot). */
struct addr_slot {
    uint64_t k0, k1;
    uint32_t bits, idx1;
};

struct ta__o365_addr_ix {
    const struct ta__o365_list *l;
    unsigned nlens;
    unsigned lens[129];          /* the prefix lengths present, longest first */
    uint64_t masks[129][2];      /* the mask of lens[i] in the words' memory order */
    size_t mask;                 /* slots - 1 (a power of two minus one) */
    struct addr_slot *slots;
};

/* The first `bits` bits set, as two words in memory order (so `&` masks bytes in place). */
static void prefix_mask(unsigned bits, uint64_t m[2])
{
    uint8_t b[16] = { 0 };
    unsigned full = bits / 8, rest = bits % 8;
    memset(b, 0xff, full);
    if (rest)
        b[full] = (uint8_t)(0xff00u >> rest);
    memcpy(&m[0], b, 8);
    memcpy(&m[1], b + 8, 8);
}

/* Mix of a masked network and its length (a multiply-xorshift; any spread will do). */
static size_t addr_hash(uint64_t k0, uint64_t k1, unsigned bits)
{
    uint64_t h = k0 * 0x9e3779b97f4a7c15ull ^ (k1 + bits) * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 31;
    h *= 0x165667b19e3779f9ull;
    return (size_t)(h ^ (h >> 29));
}

/* See o365_int.h. l->nets is sorted longest prefix first, then by endpoint id: the range
 * ta__o365_find_addr returns for an address is the first in that order that contains it, and all
 * ranges of one length that contain an address share its masked network (ta_cidr_parse clears
 * host bits; masked again here). So the hash keeps, per (length, network), the first range in
 * the list's order, and a lookup tries the lengths present, longest first. */
int ta__o365_addr_ix_new(const struct ta__o365_list *l, struct ta__o365_addr_ix **out)
{
    struct ta__o365_addr_ix *x = calloc(1, sizeof(*x));
    size_t n = 16;

    *out = NULL;
    if (!x)
        return TA_ERR_NOMEM;
    while (n < 2 * l->nnets)
        n *= 2;
    x->l = l;
    x->mask = n - 1;
    x->slots = calloc(n, sizeof(*x->slots));
    if (!x->slots) {
        free(x);
        return TA_ERR_NOMEM;
    }
    for (size_t i = 0; i < l->nnets; i++) {
        const struct ta__o365_net *net = &l->nets[i];
        uint64_t m[2], k0, k1;
        size_t h;
        if (net->bits > 128)
            continue;                /* ta_cidr_parse gives no such range */
        if (x->nlens == 0 || x->lens[x->nlens - 1] != net->bits) {
            x->lens[x->nlens] = net->bits;
            prefix_mask(net->bits, x->masks[x->nlens]);
            x->nlens++;
        }
        prefix_mask(net->bits, m);
        memcpy(&k0, net->net, 8);
        memcpy(&k1, net->net + 8, 8);
        k0 &= m[0];
        k1 &= m[1];
        h = addr_hash(k0, k1, net->bits) & x->mask;
        while (x->slots[h].idx1 && !(x->slots[h].bits == net->bits && x->slots[h].k0 == k0 &&
                                     x->slots[h].k1 == k1))
            h = (h + 1) & x->mask;
        if (x->slots[h].idx1)
            continue;                /* an earlier range of the same network and length wins */
        x->slots[h] = (struct addr_slot){ .k0 = k0, .k1 = k1, .bits = net->bits,
                                          .idx1 = (uint32_t)i + 1 };
    }
    *out = x;
    return TA_OK;
}

void ta__o365_addr_ix_free(struct ta__o365_addr_ix *x)
{
    if (!x)
        return;
    free(x->slots);
    free(x);
}

/* See o365_int.h. The text is parsed as ta__o365_find_addr parses it (a '/' is refused). */
const struct ta__o365_net *ta__o365_addr_ix_find(const struct ta__o365_addr_ix *x, const char *ip)
{
    uint8_t a[16];
    uint64_t a0, a1;
    unsigned bits;
    int ver;

    if (!ip || strchr(ip, '/') || !ta_cidr_parse(ip, a, &bits, &ver))
        return NULL;
    memcpy(&a0, a, 8);
    memcpy(&a1, a + 8, 8);
    for (unsigned i = 0; i < x->nlens; i++) {
        uint64_t k0 = a0 & x->masks[i][0], k1 = a1 & x->masks[i][1];
        size_t h = addr_hash(k0, k1, x->lens[i]) & x->mask;
        for (; x->slots[h].idx1; h = (h + 1) & x->mask)
            if (x->slots[h].bits == x->lens[i] && x->slots[h].k0 == k0 && x->slots[h].k1 == k1)
                return &x->l->nets[x->slots[h].idx1 - 1];
    }
    return NULL;
}

/* One exclusion under its key (the last two labels of its pattern). */
struct excl_ent {
    char key[TA__O365_KEY_MAX];
    size_t idx;                  /* position in the table: the first match wins */
};

struct ta__o365_excl_ix {
    const struct ta__o365_excl *tab;
    size_t n;
    size_t *wild, nwild;         /* patterns with no literal key: tried on every name, in order */
    struct excl_ent *ents;       /* the others, sorted by key, then position */
    size_t nents;
};

static int ent_cmp(const void *a, const void *b)
{
    const struct excl_ent *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* See o365_int.h. A name can match a pattern whose last two labels hold no '*' only if its own
 * last two labels are those (a '*' label takes whole labels from the left, and the pattern must
 * end where the name ends), so the name's key picks the only candidates besides the wild ones;
 * ta__o365_find_name buckets the list's patterns the same way. */
int ta__o365_excl_ix_new(struct ta__o365_excl_ix **out)
{
    struct ta__o365_excl_ix *x = calloc(1, sizeof(*x));

    *out = NULL;
    if (!x)
        return TA_ERR_NOMEM;
    x->tab = ta__o365_excl_table(&x->n);
    x->wild = calloc(x->n ? x->n : 1, sizeof(*x->wild));
    x->ents = calloc(x->n ? x->n : 1, sizeof(*x->ents));
    if (!x->wild || !x->ents) {
        ta__o365_excl_ix_free(x);
        return TA_ERR_NOMEM;
    }
    for (size_t i = 0; i < x->n; i++) {
        struct excl_ent *e = &x->ents[x->nents];
        ta__o365_name_key(x->tab[i].pattern, e->key);
        if (!e->key[0] || strchr(e->key, '*')) {
            x->wild[x->nwild++] = i;
            continue;
        }
        e->idx = i;
        x->nents++;
    }
    qsort(x->ents, x->nents, sizeof(*x->ents), ent_cmp);
    *out = x;
    return TA_OK;
}

void ta__o365_excl_ix_free(struct ta__o365_excl_ix *x)
{
    if (!x)
        return;
    free(x->wild);
    free(x->ents);
    free(x);
}

/* See o365_int.h. The lowest table position among the wild patterns and the key's bucket that
 * matches: what the linear scan of ta__o365_excluded finds first. */
const struct ta__o365_excl *ta__o365_excl_ix_find(const struct ta__o365_excl_ix *x,
                                                  const char *name, const char *key)
{
    size_t best = x->n, lo = 0, hi = x->nents;

    for (size_t i = 0; i < x->nwild; i++)
        if (ta_o365_pattern_match(x->tab[x->wild[i]].pattern, name)) {
            best = x->wild[i];
            break;
        }
    if (key[0]) {
        while (lo < hi) {        /* the first entry whose key is >= key */
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(x->ents[mid].key, key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t i = lo; i < x->nents && x->ents[i].idx < best &&
                            strcmp(x->ents[i].key, key) == 0; i++)
            if (ta_o365_pattern_match(x->tab[x->ents[i].idx].pattern, name)) {
                best = x->ents[i].idx;
                break;
            }
    }
    return best < x->n ? &x->tab[best] : NULL;
}

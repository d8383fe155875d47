/* test_flow.c - the flow table: keys in both directions, insert/find/remove with backward-shift
 * deletion under heavy collisions, LRU order, capacity. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tlsaudit/flow.h"

/* A TCP/IPv4 packet header between 10.0.0.a:pa and 10.0.0.b:pb (only the fields the key uses). */
static struct ta_pkt mkpkt(uint32_t a, uint16_t pa, uint32_t b, uint16_t pb)
{
    struct ta_pkt p;
    memset(&p, 0, sizeof(p));
    p.ipver = 4;
    p.l4 = TA_L4_TCP;
    p.src.b[10] = p.src.b[11] = 0xff;
    p.dst.b[10] = p.dst.b[11] = 0xff;
    p.src.b[12] = 10; p.src.b[14] = (uint8_t)(a >> 8); p.src.b[15] = (uint8_t)a;
    p.dst.b[12] = 10; p.dst.b[14] = (uint8_t)(b >> 8); p.dst.b[15] = (uint8_t)b;
    p.sport = pa;
    p.dport = pb;
    return p;
}

static void test_key_symmetry(void)
{
    struct ta_pkt p1 = mkpkt(1, 40000, 2, 443), p2 = mkpkt(2, 443, 1, 40000);
    struct ta_flow_key k1, k2;
    bool a1, a2;

    ta_flow_key_make(&p1, &k1, &a1);
    ta_flow_key_make(&p2, &k2, &a2);
    CHECK(memcmp(&k1, &k2, sizeof(k1)) == 0);
    CHECK(a1 != a2);
    /* same address, ports decide */
    p1 = mkpkt(1, 5000, 1, 443);
    ta_flow_key_make(&p1, &k1, &a1);
    CHECK_INT(k1.pa, 443);
    CHECK(!a1);
}

/* Insert n flows, remove every other one, and check every survivor is still found: backward-shift
 * deletion must not break probe chains. */
static void test_insert_remove(uint32_t n)
{
    struct ta_flow_table *ft = ta_flow_table_new(n);
    struct ta_flow_key *keys = calloc(n, sizeof(*keys));
    uint32_t h, found = 0, missing = 0;

    CHECK(ft != NULL);
    for (uint32_t i = 0; i < n; i++) {
        struct ta_pkt p = mkpkt(i, (uint16_t)(1000 + i), 60000, 443);
        bool a;
        ta_flow_key_make(&p, &keys[i], &a);
        CHECK(ta_flow_find(ft, &keys[i], &h) == NULL || !"absent before insert");
        if (!ta_flow_insert(ft, &keys[i], h, 1000000u * i))
            missing++;
    }
    CHECK_INT(missing, 0);
    CHECK_INT(ta_flow_count(ft), n);
    /* table full: the next insert fails */
    {
        struct ta_pkt p = mkpkt(9999, 1, 60001, 443);
        struct ta_flow_key k;
        bool a;
        ta_flow_key_make(&p, &k, &a);
        ta_flow_find(ft, &k, &h);
        CHECK(ta_flow_insert(ft, &k, h, 0) == NULL);
    }
    for (uint32_t i = 0; i < n; i += 2)
        ta_flow_remove(ft, ta_flow_find(ft, &keys[i], &h));
    for (uint32_t i = 0; i < n; i++) {
        struct ta_flow *f = ta_flow_find(ft, &keys[i], &h);
        if ((i % 2 == 1) == (f != NULL))
            found++;
        if (f)
            CHECK(memcmp(&f->key, &keys[i], sizeof(keys[i])) == 0);
    }
    CHECK_INT(found, n);
    CHECK_INT(ta_flow_count(ft), n / 2);
    /* LRU: oldest is the first odd flow (time = index seconds) */
    CHECK(ta_flow_oldest(ft) == ta_flow_find(ft, &keys[1], &h));
    /* touching it a second later moves it to the head */
    ta_flow_touch(ft, ta_flow_find(ft, &keys[1], &h), 1000000ull * (n + 5));
    CHECK(ta_flow_oldest(ft) == ta_flow_find(ft, &keys[3], &h));
    /* a touch within the same second does not reorder */
    ta_flow_touch(ft, ta_flow_find(ft, &keys[3], &h), 3000000ull + 10);
    CHECK(ta_flow_oldest(ft) == ta_flow_find(ft, &keys[3], &h));
    /* drain through the LRU */
    for (struct ta_flow *f; (f = ta_flow_oldest(ft)) != NULL;)
        ta_flow_remove(ft, f);
    CHECK_INT(ta_flow_count(ft), 0);
    /* slots are reusable */
    CHECK(ta_flow_find(ft, &keys[0], &h) == NULL);
    CHECK(ta_flow_insert(ft, &keys[0], h, 0) != NULL);
    free(keys);
    ta_flow_table_free(ft);
}

int main(void)
{
    test_key_symmetry();
    test_insert_remove(16);
    test_insert_remove(1000);
    test_insert_remove(65536);
    CHECK(ta_flow_table_new(0) == NULL);
    return CHECK_DONE();
}

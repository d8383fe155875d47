/* report_model.c - from the store's answers to the report's figures: legacy inventory rows folded
 * into one offender per client with a remediation hint, suites flagged as weak or without forward
 * secrecy, and the headline counts that need the offenders (refused, moved). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report_model.h"
#include "tlsaudit/common.h"
#include "tlsaudit/names.h"
#include "tlsaudit/strset.h"

const char *ta__rp_version(uint16_t v, char *buf, size_t len)
{
    if (v == 0)
        snprintf(buf, len, "none");
    else
        ta_version_label(v, buf, len);
    return buf;
}

/* What a destination port is for the mail and web services of Office 365. */
const char *ta__rp_port_role(int port, const char *app)
{
    switch (port) {
    case 587: return "SMTP AUTH submission";
    case 25: return "SMTP (MX, inbound mail)";
    case 465: return "SMTP submission (implicit TLS)";
    case 143: case 993: return "IMAP";
    case 110: case 995: return "POP";
    case 443: return "HTTPS";
    case 80: return "HTTP";
    default: return app && *app ? app : "other";
    }
}

const char *ta__rp_hint_key(enum ta_rp_hint h)
{
    switch (h) {
    case TA_RP_HINT_REFUSED: return "refused";
    case TA_RP_HINT_MOVED: return "moved";
    case TA_RP_HINT_SERVER: return "server";
    case TA_RP_HINT_CLIENT: return "client";
    }
    return "";
}

const char *ta__rp_hint_short(enum ta_rp_hint h)
{
    switch (h) {
    case TA_RP_HINT_REFUSED: return "Already failing: update, replace or relay via a TLS 1.2 gateway";
    case TA_RP_HINT_MOVED: return "Moved to TLS 1.2+: confirm";
    case TA_RP_HINT_SERVER: return "Client can do TLS 1.2+: fix the server side";
    case TA_RP_HINT_CLIENT: return "Update or replace, or relay via a TLS 1.2 gateway";
    }
    return "";
}

const char *ta__rp_short_ts(const char *ts, char *buf, size_t len)
{
    snprintf(buf, len, "%.16s", ts);
    if (strlen(buf) > 10 && buf[10] == 'T')
        buf[10] = ' ';
    return buf;
}

const char *ta__rp_hint_text(const struct ta_rp_offender *o)
{
    switch (o->hint) {
    case TA_RP_HINT_REFUSED:
        return "Already failing: the server refuses its legacy handshakes. Update or replace the "
               "client, or relay it through a TLS 1.2 gateway.";
    case TA_RP_HINT_MOVED:
        return "Moved: its latest handshakes use TLS 1.2 or newer. Confirm and close.";
    case TA_RP_HINT_SERVER:
        return "The client offers TLS 1.2 or newer but the server chose less: check the server "
               "or a middlebox in the path (or whether the destination is really Office 365).";
    case TA_RP_HINT_CLIENT:
        return "The client cannot do more than it used: update or replace it, or relay it "
               "through a TLS 1.2 gateway (e.g. an SMTP relay).";
    }
    return "";
}

const char *ta__rp_cipher(int id, uint32_t v2, char *buf, size_t len)
{
    const char *n = id >= 0 ? ta_cipher_name((uint16_t)id) : ta_cipher_v2_name(v2);
    if (n)
        snprintf(buf, len, "%s", n);
    else if (id >= 0)
        snprintf(buf, len, "0x%04X", (unsigned)id);
    else
        snprintf(buf, len, "0x%06X", (unsigned)v2);
    return buf;
}

bool ta__rp_cipher_weak(const struct ta_rd_cipher *c)
{
    return c->cipher_id >= 0 ? ta_cipher_weak_in((uint16_t)c->cipher_id, c->version) : true;
}

/* Key exchange without forward secrecy, read off the IANA name: static RSA key transport
 * (TLS_RSA_WITH_*, TLS_RSA_EXPORT_*, TLS_RSA_PSK_*) and static DH/ECDH (TLS_DH_*, TLS_ECDH_*,
 * not DHE/ECDHE). TLS 1.3 suites (TLS_AES_*, TLS_CHACHA20_*) always have it; SSL 2.0 never. */
bool ta__rp_cipher_no_fs(const struct ta_rd_cipher *c)
{
    if (c->cipher_id < 0)
        return true;
    const char *n = ta_cipher_name((uint16_t)c->cipher_id);
    if (!n)
        return false;
    return strncmp(n, "TLS_RSA_", 8) == 0 || strncmp(n, "TLS_DH_", 7) == 0 ||
           strncmp(n, "TLS_ECDH_", 9) == 0 || strncmp(n, "SSL_RSA_", 8) == 0;
}

struct fold {
    struct ta_strset dests, names, apps, ja3, ja4, reasons, ciphers;
    uint32_t vbits;   /* legacy versions seen: bit per kind */
    uint16_t vlist[8];
    size_t nv;
};

/* Fold one legacy inventory row into offender o. Returns 0 or -1 (out of memory). */
static int fold_row(struct ta_rp_offender *o, struct fold *fd, const struct ta_rd_inv *r)
{
    char d[TA_RD_NAME + 80], a[64], c[96];
    uint16_t v = r->version ? r->version : r->client_max;
    size_t i;
    snprintf(d, sizeof d, "%s%s%s%s", r->sni[0] ? r->sni : r->server_ip,
             r->service[0] ? " (" : "", r->service, r->service[0] ? ")" : "");
    snprintf(a, sizeof a, "%s/%d", r->app[0] ? r->app : r->transport, r->port);
    for (i = 0; i < fd->nv && fd->vlist[i] != v; i++)
        ;
    if (i == fd->nv && i < TA_ARRAY_LEN(fd->vlist))
        fd->vlist[fd->nv++] = v;
    if (ta_strset_add(&fd->dests, d) || ta_strset_add(&fd->apps, a) || ta_strset_add(&fd->ja3, r->ja3) ||
        ta_strset_add(&fd->ja4, r->ja4) || ta_strset_add(&fd->reasons, r->reason) ||
        (!r->sni[0] && ta_strset_add(&fd->names, r->name)) ||
        ((r->cipher_id >= 0 || r->cipher_v2) &&
         ta_strset_add(&fd->ciphers, ta__rp_cipher(r->cipher_id, r->cipher_v2, c, sizeof c))))
        return -1;
    if (o->hs == 0 || strcmp(r->first_seen, o->first_seen) < 0)
        snprintf(o->first_seen, sizeof o->first_seen, "%s", r->first_seen);
    if (strcmp(r->last_seen, o->last_seen) > 0)
        snprintf(o->last_seen, sizeof o->last_seen, "%s", r->last_seen);
    o->hs += r->hs;
    o->refused += r->refused;
    if (r->o365) {
        o->o365 = 1;
        o->o365_hs += r->hs;
        o->o365_refused += r->refused;
    }
    if (r->last_us > o->last_legacy_us)
        o->last_legacy_us = r->last_us;
    if (r->last_modern_us > o->last_modern_us)
        o->last_modern_us = r->last_modern_us;
    if (r->client_max_all > o->max_offered)
        o->max_offered = r->client_max_all;
    return 0;
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Close offender o: join its sets, pick its hint. */
static int finish(struct ta_rp_offender *o, struct fold *fd)
{
    char vs[8 * 40] = "", lab[40];
    size_t off = 0;
    qsort(fd->vlist, fd->nv, sizeof fd->vlist[0], cmp_u16);
    for (size_t i = 0; i < fd->nv; i++)
        off += (size_t)snprintf(vs + off, sizeof vs - off, "%s%s", i ? " " : "",
                                ta__rp_version(fd->vlist[i], lab, sizeof lab));
    o->versions = strdup(vs);
    o->dests = ta_strset_take(&fd->dests, ", ");
    o->names = ta_strset_take(&fd->names, ", ");
    o->apps = ta_strset_take(&fd->apps, " ");
    o->ja3 = ta_strset_take(&fd->ja3, " ");
    o->ja4 = ta_strset_take(&fd->ja4, " ");
    o->reasons = ta_strset_take(&fd->reasons, "; ");
    o->ciphers = ta_strset_take(&fd->ciphers, " ");
    if (o->refused == o->hs)
        o->hint = TA_RP_HINT_REFUSED;
    else if (o->last_modern_us > o->last_legacy_us)
        o->hint = TA_RP_HINT_MOVED;
    else if (o->max_offered >= 0x0303 && o->max_offered != 0xfeff && o->max_offered != 0xfefd)
        o->hint = TA_RP_HINT_SERVER;
    else
        o->hint = TA_RP_HINT_CLIENT;
    memset(fd, 0, sizeof *fd);
    return o->versions && o->dests && o->names && o->apps && o->ja3 && o->ja4 && o->reasons &&
           o->ciphers ? 0 : -1;
}

/* Most legacy handshakes first, then most recent, then address. */
static int cmp_off(const void *a, const void *b)
{
    const struct ta_rp_offender *x = a, *y = b;
    if (x->hs != y->hs)
        return x->hs > y->hs ? -1 : 1;
    if (x->last_legacy_us != y->last_legacy_us)
        return x->last_legacy_us > y->last_legacy_us ? -1 : 1;
    return strcmp(x->ip, y->ip);
}

/* Fold the legacy rows (ordered by client) into rp->off. */
static int offenders(struct ta_rp *rp, const struct ta_rd_vec *rows)
{
    struct fold fd;
    memset(&fd, 0, sizeof fd);
    rp->off = calloc(rows->n ? rows->n : 1, sizeof *rp->off);
    if (!rp->off)
        return -1;
    for (size_t i = 0; i < rows->n; i++) {
        const struct ta_rd_inv *r = TA_RD_AT(rows, struct ta_rd_inv, i);
        if (rp->noff == 0 || strcmp(rp->off[rp->noff - 1].ip, r->client_ip) != 0) {
            if (rp->noff && finish(&rp->off[rp->noff - 1], &fd))
                return -1;
            snprintf(rp->off[rp->noff++].ip, TA_RD_IP, "%s", r->client_ip);
        }
        if (fold_row(&rp->off[rp->noff - 1], &fd, r))
            return -1;
    }
    if (rp->noff && finish(&rp->off[rp->noff - 1], &fd))
        return -1;
    qsort(rp->off, rp->noff, sizeof *rp->off, cmp_off);
    for (size_t i = 0; i < rp->noff; i++) {
        const struct ta_rp_offender *o = &rp->off[i];
        if (!o->o365)
            continue;
        rp->o365_offenders++;
        rp->refused_clients += o->o365_refused > 0;
        rp->moved_clients += o->hint == TA_RP_HINT_MOVED;
        rp->server_side_clients += o->hint == TA_RP_HINT_SERVER;
    }
    return 0;
}

/* Keep only the suites the page flags; sum their handshakes. */
static void flag_ciphers(struct ta_rp *rp)
{
    size_t k = 0;
    for (size_t i = 0; i < rp->ciphers.n; i++) {
        struct ta_rd_cipher *c = TA_RD_AT(&rp->ciphers, struct ta_rd_cipher, i);
        bool weak = ta__rp_cipher_weak(c), nofs = ta__rp_cipher_no_fs(c);
        if (!weak && !nofs)
            continue;
        rp->weak_hs += weak ? c->hs : 0;
        rp->nofs_hs += nofs ? c->hs : 0;
        *TA_RD_AT(&rp->ciphers, struct ta_rd_cipher, k++) = *c;
    }
    rp->ciphers.n = k;
}

int ta__rp_build(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rp *rp)
{
    const struct ta_rd_ops *op = ta__rd_ops(src);
    struct ta_rd_vec rows = TA_RD_VEC(struct ta_rd_inv);
    const struct ta_rd_vec point = TA_RD_VEC(struct ta_rd_point);
    const struct ta_rd_vec group = TA_RD_VEC(struct ta_rd_group);
    const struct ta_rd_vec cipher = TA_RD_VEC(struct ta_rd_cipher);
    const struct ta_rd_vec mail = TA_RD_VEC(struct ta_rd_mail);
    /* SOURCE_DATE_EPOCH (reproducible-builds.org) fixes the "generated" time, so two reports of
     * the same data can be compared byte for byte */
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    time_t now = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
    struct tm tm;
    int rc;
    memset(rp, 0, sizeof *rp);
    rp->f = *f;
    rp->trend = point;
    rp->versions = rp->services = rp->apps = group;
    rp->ciphers = cipher;
    rp->mail = mail;
    gmtime_r(&now, &tm);
    strftime(rp->generated, sizeof rp->generated, "%Y-%m-%d %H:%M UTC", &tm);
    rc = op->meta(src, f, &rp->meta) || op->counts(src, f, &rp->counts) ||
         op->trend(src, f, &rp->trend) || op->versions(src, f, &rp->versions) ||
         op->services(src, f, &rp->services) || op->apps(src, f, &rp->apps) ||
         op->ciphers(src, f, &rp->ciphers) || op->mail(src, f, &rp->mail) ||
         op->legacy_rows(src, f, &rows) ? -1 : 0;
    if (rc == 0 && offenders(rp, &rows) != 0)
        rc = -1;
    ta__rd_vec_free(&rows);
    flag_ciphers(rp);
    return rc;
}

void ta__rp_free(struct ta_rp *rp)
{
    for (size_t i = 0; rp->off && i < rp->noff; i++) {
        struct ta_rp_offender *o = &rp->off[i];
        free(o->dests);
        free(o->names);
        free(o->apps);
        free(o->versions);
        free(o->ja3);
        free(o->ja4);
        free(o->reasons);
        free(o->ciphers);
    }
    free(rp->off);
    ta__rd_vec_free(&rp->trend);
    ta__rd_vec_free(&rp->versions);
    ta__rd_vec_free(&rp->services);
    ta__rd_vec_free(&rp->apps);
    ta__rd_vec_free(&rp->ciphers);
    ta__rd_vec_free(&rp->mail);
}

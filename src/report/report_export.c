/* report_export.c - the report's tables as data, complete (no page cap), through the output
 * layer's CSV and JSON writers (their escaping rules: output.h).
 *
 * --format json writes one object whose members are the tables, each an array of row objects;
 * --format csv writes one table (--table NAME, default offenders) with a header line. */
#include <string.h>

#include "report_model.h"
#include "tlsaudit/common.h"
#include "tlsaudit/output.h"

#define NUM(b, v) (snprintf((b), sizeof(b), "%lld", (long long)(v)), (b))

static int t_summary(struct ta_out *o, const struct ta_rp *rp)
{
    const struct ta_rd_counts *c = &rp->counts;
    const struct ta_rd_cov *v = &rp->meta.cov;
    const struct { const char *k; long long v; } kv[] = {
        { "o365_legacy_clients", c->o365_legacy_clients }, { "o365_clients", c->o365_clients },
        { "o365_legacy_handshakes", c->o365_legacy_hs }, { "o365_handshakes", c->o365_hs },
        { "all_legacy_clients", c->all_legacy_clients }, { "all_clients", c->all_clients },
        { "all_legacy_handshakes", c->all_legacy_hs }, { "all_handshakes", c->all_hs },
        { "refused_clients", rp->refused_clients }, { "moved_clients", rp->moved_clients },
        { "weak_cipher_handshakes", rp->weak_hs }, { "no_fs_handshakes", rp->nofs_hs },
        { "runs", v->runs }, { "packets", (long long)v->packets },
        { "kernel_drops", (long long)(v->drops + v->if_drops) },
        { "own_drops", (long long)v->pool_exhausted },
        { "flows_evicted", (long long)v->flows_evicted },
        { "truncated_packets", (long long)v->truncated },
        { "ip_datagrams_incomplete", (long long)v->ip_incomplete },
    };
    char b[32];
    for (size_t i = 0; i < TA_ARRAY_LEN(kv); i++) {
        const char *cells[] = { kv[i].k, NUM(b, kv[i].v) };
        if (ta_out_row(o, cells))
            return -1;
    }
    return 0;
}

static int t_offenders(struct ta_out *o, const struct ta_rp *rp)
{
    char b[4][32];
    for (size_t i = 0; i < rp->noff; i++) {
        const struct ta_rp_offender *f = &rp->off[i];
        const char *cells[] = { f->ip, f->dests, f->names, f->apps, f->versions,
                                f->max_offered ? ta__rp_version(f->max_offered, b[0], 32) : "",
                                f->first_seen, f->last_seen, NUM(b[1], f->hs),
                                NUM(b[2], f->refused), f->ja3, f->ja4, f->ciphers, f->reasons,
                                ta__rp_hint_key(f->hint), ta__rp_hint_text(f),
                                NUM(b[3], f->o365) };
        if (ta_out_row(o, cells))
            return -1;
    }
    return 0;
}

static int t_trend(struct ta_out *o, const struct ta_rp *rp)
{
    char b[4][40];
    for (size_t i = 0; i < rp->trend.n; i++) {
        const struct ta_rd_point *p = TA_RD_AT(&rp->trend, struct ta_rd_point, i);
        const char *cells[] = { p->day, p->o365 ? "o365" : "other",
                                p->version == TA_RD_ALLV ? "all" :
                                ta__rp_version(p->version, b[0], 40), NUM(b[1], p->hs),
                                NUM(b[2], p->clients), p->clients_exact ? "1" : "0" };
        if (ta_out_row(o, cells))
            return -1;
    }
    return 0;
}

static int t_versions(struct ta_out *o, const struct ta_rp *rp)
{
    char b[3][40];
    for (size_t i = 0; i < rp->versions.n; i++) {
        const struct ta_rd_group *g = TA_RD_AT(&rp->versions, struct ta_rd_group, i);
        const char *cells[] = { g->o365 ? "o365" : "other", ta__rp_version(g->version, b[0], 40),
                                NUM(b[1], g->hs), NUM(b[2], g->clients) };
        if (ta_out_row(o, cells))
            return -1;
    }
    return 0;
}

/* services and apps share the group columns. */
static int groups(struct ta_out *o, const struct ta_rd_vec *v)
{
    char b[6][32];
    for (size_t i = 0; i < v->n; i++) {
        const struct ta_rd_group *g = TA_RD_AT(v, struct ta_rd_group, i);
        const char *cells[] = { g->service, NUM(b[0], g->port), g->app,
                                g->o365 ? ta__rp_port_role(g->port, g->app) : "",
                                NUM(b[1], g->legacy_clients), NUM(b[2], g->legacy_hs),
                                NUM(b[3], g->legacy_refused), NUM(b[4], g->clients),
                                NUM(b[5], g->hs) };
        if (ta_out_row(o, cells))
            return -1;
    }
    return 0;
}

static int t_services(struct ta_out *o, const struct ta_rp *rp)
{
    return groups(o, &rp->services);
}

static int t_apps(struct ta_out *o, const struct ta_rp *rp)
{
    return groups(o, &rp->apps);
}

static int t_ciphers(struct ta_out *o, const struct ta_rp *rp)
{
    char name[96], lab[40], b[2][32];
    for (size_t i = 0; i < rp->ciphers.n; i++) {
        const struct ta_rd_cipher *c = TA_RD_AT(&rp->ciphers, struct ta_rd_cipher, i);
        const char *cells[] = { ta__rp_cipher(c->cipher_id, c->cipher_v2, name, sizeof name),
                                ta__rp_version(c->version, lab, sizeof lab),
                                c->o365 ? "o365" : "other", ta__rp_cipher_weak(c) ? "1" : "0",
                                ta__rp_cipher_no_fs(c) ? "1" : "0", NUM(b[0], c->hs),
                                NUM(b[1], c->clients) };
        if (ta_out_row(o, cells))
            return -1;
    }
    return 0;
}

static int t_mail(struct ta_out *o, const struct ta_rp *rp)
{
    char b[3][32];
    for (size_t i = 0; i < rp->mail.n; i++) {
        const struct ta_rd_mail *m = TA_RD_AT(&rp->mail, struct ta_rd_mail, i);
        const char *cells[] = { m->client_ip, m->server_ip, m->host, m->app, NUM(b[0], m->port),
                                m->o365 ? "1" : "0", m->service,
                                m->kinds & TA_RD_MAIL_AUTH ? "1" : "0",
                                m->kinds & TA_RD_MAIL_UNUSED ? "1" : "0",
                                m->kinds & TA_RD_MAIL_O365_CLEAR ? "1" : "0",
                                NUM(b[1], m->sessions), NUM(b[2], m->mail_in_clear),
                                m->first_seen, m->last_seen, m->banner };
        if (ta_out_row(o, cells))
            return -1;
    }
    return 0;
}

#define S(n) { n, false }
#define N(n) { n, true }
static const struct ta_out_col c_summary[] = { S("figure"), N("value") };
static const struct ta_out_col c_offenders[] = {
    S("client_ip"), S("destinations"), S("names"), S("apps"), S("versions"),
    S("highest_offered"), S("first_seen"), S("last_seen"), N("handshakes"), N("refused"),
    S("ja3"), S("ja4"), S("ciphers"), S("o365_reason"), S("hint"), S("hint_text"), N("o365"),
};
static const struct ta_out_col c_trend[] = { S("day"), S("group"), S("version"),
                                             N("handshakes"), N("clients"), N("clients_exact") };
static const struct ta_out_col c_versions[] = { S("group"), S("version"), N("handshakes"),
                                                N("clients") };
static const struct ta_out_col c_groups[] = {
    S("service"), N("port"), S("app"), S("role"), N("legacy_clients"), N("legacy_handshakes"),
    N("legacy_refused"), N("clients"), N("handshakes"),
};
static const struct ta_out_col c_ciphers[] = { S("cipher"), S("version"), S("group"), N("weak"),
                                               N("no_forward_secrecy"), N("handshakes"),
                                               N("clients") };
static const struct ta_out_col c_mail[] = {
    S("client_ip"), S("server_ip"), S("greeting_host"), S("app"), N("port"), N("o365"),
    S("o365_service"), N("auth_in_clear"), N("starttls_unused"), N("o365_no_tls"),
    N("sessions"), N("mail_in_clear"), S("first_seen"), S("last_seen"), S("greeting"),
};

static const struct table {
    const char *name;
    const struct ta_out_col *cols;
    size_t ncols;
    int (*rows)(struct ta_out *o, const struct ta_rp *rp);
} tables[] = {
    { "summary", c_summary, TA_ARRAY_LEN(c_summary), t_summary },
    { "offenders", c_offenders, TA_ARRAY_LEN(c_offenders), t_offenders },
    { "trend", c_trend, TA_ARRAY_LEN(c_trend), t_trend },
    { "versions", c_versions, TA_ARRAY_LEN(c_versions), t_versions },
    { "services", c_groups, TA_ARRAY_LEN(c_groups), t_services },
    { "apps", c_groups, TA_ARRAY_LEN(c_groups), t_apps },
    { "ciphers", c_ciphers, TA_ARRAY_LEN(c_ciphers), t_ciphers },
    { "mail", c_mail, TA_ARRAY_LEN(c_mail), t_mail },
};

/* One table through a writer; returns 0 or -1. */
static int one(FILE *fp, enum ta_out_format fmt, const struct table *t, const struct ta_rp *rp)
{
    struct ta_out *o = ta_out_new(fp, fmt, t->cols, t->ncols);
    if (!o)
        return -1;
    int rc = t->rows(o, rp);
    return ta_out_end(o) || rc ? -1 : 0;
}

/* See report_model.h. table NULL = every table (JSON) or offenders (CSV); an unknown name is
 * -2 so the caller can say which names exist. */
int ta__rp_export(FILE *fp, const struct ta_rp *rp, int json, const char *table)
{
    if (!json || table) {
        const char *want = table ? table : "offenders";
        for (size_t i = 0; i < TA_ARRAY_LEN(tables); i++)
            if (strcmp(tables[i].name, want) == 0)
                return one(fp, json ? TA_OUT_JSON : TA_OUT_CSV, &tables[i], rp);
        return -2;
    }
    fputs("{\n", fp);
    for (size_t i = 0; i < TA_ARRAY_LEN(tables); i++) {
        fprintf(fp, "%s\"%s\":\n", i ? ",\n" : "", tables[i].name);
        if (one(fp, TA_OUT_JSON, &tables[i], rp))
            return -1;
    }
    fputs("}\n", fp);
    return ferror(fp) ? -1 : 0;
}

/* dns.c: the asynchronous resolver of dns.h on libunbound: the context (resolv.conf or
 * dns_server, the DNSSEC trust anchor), requests with their deadline, single queries, and the
 * client name look-up (a PTR look-up, then an A or AAAA look-up of the name that must lead back
 * to the address). Queries run on unbound's own thread; their answers are picked up by a
 * libevent event on unbound's descriptor (ub_process), so every callback runs in the loop
 * thread. The generic look-up of one name and type (dns_lookup) is here too; the mail routing
 * requests (dns_mx, dns_tlsa) are in dns_route.c. */
#include <arpa/inet.h>
#include <ctype.h>
#include <event2/event.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unbound.h>
#include "config.h"
#include "dns_impl.h"
#include "mem.h"

/* Where distributions keep the root zone's trust anchor (Debian: dns-root-data, unbound-anchor).
 * Without one (or with dns_dnssec_validation = no), libunbound validates nothing and no
 * answer is secure, so DANE never applies. */
static const char *const trust_anchor_files[] = {
    "/usr/share/dns/root.key", "/var/lib/unbound/root.key", "/etc/unbound/root.key", NULL,
};
#define TA_LINE_MAX 4096
#define TA_LINES_MAX 64

/* ---- the context ---- */

static void lookups_free(struct dns *d);

static void on_ub(evutil_socket_t fd, short what, void *arg)
{
    struct dns *d = arg;
    ub_process(d->ctx);
}

/* Reads the first trust anchor file there is now (the file is not read again later, after a
 * chroot): its DS and DNSKEY lines, comments dropped. 0 (also with no file), or an ub error. */
static int add_trust_anchor(struct ub_ctx *ctx)
{
    for (int i = 0; trust_anchor_files[i]; i++) {
        FILE *f = fopen(trust_anchor_files[i], "r");
        if (f == NULL)
            continue;
        char line[TA_LINE_MAX];
        int r = 0, lines = 0;
        while (r == 0 && lines++ < TA_LINES_MAX && fgets(line, sizeof line, f)) {
            line[strcspn(line, ";\r\n")] = '\0';
            if (strstr(line, " DS ") || strstr(line, "\tDS\t") || strstr(line, " DNSKEY ") ||
                strstr(line, "\tDNSKEY\t"))
                r = ub_ctx_add_ta(ctx, line);
        }
        fclose(f);
        return r;
    }
    return 0;
}

/* The RFC 6761 names for testing and examples can have no signed delegation from the root:
 * answers for them are never validated (so a test's unsigned server works with a trust anchor
 * installed), and are never secure. */
static int test_domains_insecure(struct ub_ctx *ctx)
{
    static const char *const names[] = { "test.", "example.", "invalid.", NULL };
    int r = 0;
    for (int i = 0; r == 0 && names[i]; i++)
        r = ub_ctx_set_option(ctx, "domain-insecure:", names[i]);
    return r;
}

/* dns_server set: every query goes to that server only (no resolv.conf, no /etc/hosts), which
 * may be on a loopback address, and which answers for test. too (unbound would otherwise say
 * NXDOMAIN for that RFC 6761 domain itself), and for the reverse zones of private and
 * documentation addresses (an internal server knows its 10.x names; unbound would otherwise
 * answer NXDOMAIN for them itself, and SPF's ptr and %{p} would never see a PTR record). */
static int use_server(struct ub_ctx *ctx, const char *server, const char **what)
{
    static const char *const transparent[] = {
        "test. transparent", "2.0.192.in-addr.arpa. transparent",
        "100.51.198.in-addr.arpa. transparent", "113.0.203.in-addr.arpa. transparent",
        "8.b.d.0.1.0.0.2.ip6.arpa. transparent", NULL,
    };
    char fwd[INET6_ADDRSTRLEN + 8];
    *what = "dns_server must be addr or addr@port (IPv4 or IPv6)";
    if (dns_server_parse(server, fwd, sizeof fwd) != 0)
        return UB_SYNTAX;
    *what = "setting dns_server";
    int r = ub_ctx_set_option(ctx, "do-not-query-localhost:", "no");
    if (r == 0)
        r = ub_ctx_set_option(ctx, "unblock-lan-zones:", "yes");
    if (r == 0)
        r = ub_ctx_set_option(ctx, "insecure-lan-zones:", "yes");
    for (int i = 0; r == 0 && transparent[i]; i++)
        r = ub_ctx_set_option(ctx, "local-zone:", transparent[i]);
    return r ? r : ub_ctx_set_fwd(ctx, fwd);
}

struct dns *dns_open(char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "DNS resolver: cannot initialize libsodium");
        return NULL;
    }
    struct dns *d = xcalloc(1, sizeof *d);
    d->ctx = ub_ctx_create();
    int r = d->ctx ? 0 : UB_NOMEM;
    const char *what = "ub_ctx_create";
    const char *server = config_str("dns_server");
    if (r == 0 && *server)
        r = use_server(d->ctx, server, &what);
    if (r == 0 && !*server && (r = ub_ctx_resolvconf(d->ctx, NULL)) != 0)
        what = "reading /etc/resolv.conf";
    if (r == 0 && !*server && (r = ub_ctx_hosts(d->ctx, NULL)) != 0)
        what = "reading /etc/hosts";
    if (r == 0 && config_bool("dns_dnssec_validation") && (r = add_trust_anchor(d->ctx)) != 0)
        what = "reading the DNSSEC trust anchor";
    if (r == 0 && (r = test_domains_insecure(d->ctx)) != 0)
        what = "setting domain-insecure";
    if (r == 0 && (r = ub_ctx_async(d->ctx, 1)) != 0)
        what = "starting the resolver thread";
    if (r != 0) {
        snprintf(err, errlen, "DNS resolver: %s: %s", what, ub_strerror(r));
        if (d->ctx)
            ub_ctx_delete(d->ctx);
        free(d);
        return NULL;
    }
    return d;
}

void dns_attach(struct dns *d, struct event_base *base)
{
    d->base = base;
    d->ev = event_new(base, ub_fd(d->ctx), EV_READ | EV_PERSIST, on_ub, d);
    event_add(d->ev, NULL);
}

void dns_close(struct dns *d)
{
    if (d == NULL)
        return;
    if (d->ev)
        event_free(d->ev);
    ub_ctx_delete(d->ctx);
    free(d->names);
    lookups_free(d);
    free(d);
}

/* ---- requests ---- */

static void on_req_timer(evutil_socket_t fd, short what, void *arg)
{
    struct dns_req *r = arg;
    r->on_timer(r);
}

void dns_req_init(struct dns_req *r, struct dns *d, int timeout_ms,
                  void (*on_timer)(struct dns_req *r), void (*release)(struct dns_req *r))
{
    r->d = d;
    r->on_timer = on_timer;
    r->release = release;
    r->timer = evtimer_new(d->base, on_req_timer, r);
    if (timeout_ms < 0)
        timeout_ms = 0;
    if (timeout_ms > 3600 * 1000)
        timeout_ms = 3600 * 1000;
    struct timeval t = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    evtimer_add(r->timer, &t);
}

void dns_req_soon(struct dns_req *r)
{
    r->ready = true;
    event_del(r->timer);
    event_active(r->timer, EV_TIMEOUT, 0);
}

void dns_req_free_timer(struct dns_req *r)
{
    if (r->timer)
        event_free(r->timer);
    r->timer = NULL;
}

void dns_cancel(struct dns_req *r)
{
    if (r && !r->delivering)
        r->release(r);
}

/* ---- single queries ---- */

struct dns_query {
    int async_id;
    void (*cb)(void *arg, const struct dns_answer *a);
    void *arg;
};

static void on_result(void *arg, int err, struct ub_result *res)
{
    struct dns_query *q = arg;
    void (*cb)(void *, const struct dns_answer *) = q->cb;
    void *cbarg = q->arg;
    free(q);
    struct dns_answer a = { .rc = DNS_RC_TEMP };
    if (err == 0 && !res->bogus) {
        a.secure = res->secure != 0;
        a.ttl = res->ttl > 0 ? res->ttl : 0;
        if (res->rcode == 3 || res->nxdomain)
            a.rc = DNS_RC_NXDOMAIN;
        else if (res->rcode != 0)
            a.rc = DNS_RC_TEMP;
        else if (res->havedata && res->data[0]) {
            a.rc = DNS_RC_OK;
            a.data = res->data;
            a.len = res->len;
            while (a.data[a.count])
                a.count++;
        } else
            a.rc = DNS_RC_NODATA;
    }
    cb(cbarg, &a);
    if (err == 0)
        ub_resolve_free(res);
}

struct dns_query *dns_query_start(struct dns *d, const char *name, int type,
                                  void (*cb)(void *arg, const struct dns_answer *a), void *arg)
{
    struct dns_query *q = xcalloc(1, sizeof *q);
    q->cb = cb;
    q->arg = arg;
    if (ub_resolve_async(d->ctx, name, type, 1, q, on_result, &q->async_id) != 0) {
        free(q);
        return NULL;
    }
    return q;
}

void dns_query_cancel(struct dns *d, struct dns_query *q)
{
    if (q == NULL)
        return;
    ub_cancel(d->ctx, q->async_id);
    free(q);
}

/* ---- the verified name of a client address ---- */

struct name_req {
    struct dns_req base;
    struct dns_query *q;
    int family;
    unsigned char addr[16];
    char name[DNS_NAME_MAX];
    bool found;                 /* name is confirmed */
    bool complete;              /* every answer came (a result that may be kept) */
    int ttl;                    /* the smallest TTL of those answers */
    void (*cb)(void *arg, const char *name);
    void *arg;
};

static long long mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

static struct dns_name_entry *name_slot(struct dns *d, int family, const unsigned char *addr)
{
    size_t len = family == AF_INET ? 4 : 16;
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ addr[i]) * 16777619u;
    return &d->names[h % DNS_NAME_CACHE];
}

/* The kept result for the address, or NULL. */
static const struct dns_name_entry *name_cached(struct dns *d, int family,
                                                const unsigned char *addr)
{
    if (d->names == NULL)
        return NULL;
    const struct dns_name_entry *e = name_slot(d, family, addr);
    size_t len = family == AF_INET ? 4 : 16;
    if (e->expires == 0 || e->expires <= mono_seconds() || e->family != family ||
        memcmp(e->addr, addr, len) != 0)
        return NULL;
    return e;
}

static void name_keep(struct dns *d, const struct name_req *r)
{
    if (!r->complete || r->ttl <= 0)
        return;
    if (d->names == NULL)
        d->names = xcalloc(DNS_NAME_CACHE, sizeof *d->names);
    struct dns_name_entry *e = name_slot(d, r->family, r->addr);
    e->expires = mono_seconds() + (r->ttl < DNS_NAME_CACHE_TTL_MAX ? r->ttl
                                                                    : DNS_NAME_CACHE_TTL_MAX);
    e->family = r->family;
    memcpy(e->addr, r->addr, sizeof e->addr);
    e->found = r->found;
    snprintf(e->name, sizeof e->name, "%s", r->name);
}

/* An answer that ends the look-up or leads on: whether it may be kept, and for how long. */
static void name_answer(struct name_req *r, const struct dns_answer *a, bool last)
{
    if (a->rc == DNS_RC_TEMP) {
        r->complete = false;
        return;
    }
    if (r->ttl < 0 || a->ttl < r->ttl)
        r->ttl = a->ttl;
    r->complete = last;
}

static void name_release(struct dns_req *base)
{
    struct name_req *r = (struct name_req *)base;
    dns_query_cancel(base->d, r->q);
    dns_req_free_timer(base);
    free(r);
}

/* The deadline, or the result handed over: the callback gets a copy of the name, since r goes. */
static void name_timer(struct dns_req *base)
{
    struct name_req *r = (struct name_req *)base;
    char copy[sizeof r->name];
    snprintf(copy, sizeof copy, "%s", r->name);
    bool found = base->ready && r->found;
    if (base->ready)
        name_keep(base->d, r);
    void (*cb)(void *, const char *) = r->cb;
    void *arg = r->arg;
    name_release(base);
    cb(arg, found ? copy : NULL);
}

static void on_forward(void *arg, const struct dns_answer *a)
{
    struct name_req *r = arg;
    r->q = NULL;
    name_answer(r, a, true);
    size_t want = r->family == AF_INET ? 4 : 16;
    for (int i = 0; i < a->count; i++)
        if ((size_t)a->len[i] == want && memcmp(a->data[i], r->addr, want) == 0)
            r->found = true;
    dns_req_soon(&r->base);
}

static void on_ptr(void *arg, const struct dns_answer *a)
{
    struct name_req *r = arg;
    r->q = NULL;
    if (a->count < 1 || dns_wire_name((const unsigned char *)a->data[0], (size_t)a->len[0],
                                      r->name) <= 1) {
        name_answer(r, a, true);   /* no name: "unknown", kept as long as the answer */
        r->name[0] = '\0';
        dns_req_soon(&r->base);
        return;
    }
    name_answer(r, a, false);
    char query[sizeof r->name + 1];
    snprintf(query, sizeof query, "%s.", r->name);
    int type = r->family == AF_INET ? DNS_TYPE_A : DNS_TYPE_AAAA;
    r->q = dns_query_start(r->base.d, query, type, on_forward, r);
    if (r->q == NULL)
        dns_req_soon(&r->base);
}

/* The in-addr.arpa / ip6.arpa name of the address. */
static void reverse_name(const struct name_req *r, char *out, size_t size)
{
    size_t n = 0;
    if (r->family == AF_INET) {
        snprintf(out, size, "%u.%u.%u.%u.in-addr.arpa.", r->addr[3], r->addr[2], r->addr[1],
                 r->addr[0]);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0 && n + 4 < size; i--) {
        out[n++] = hex[r->addr[i] & 15];
        out[n++] = '.';
        out[n++] = hex[r->addr[i] >> 4];
        out[n++] = '.';
    }
    snprintf(out + n, size - n, "ip6.arpa.");
}

bool dns_client_name_kept(struct dns *d, const char *address, char *name, size_t size)
{
    unsigned char addr[16];
    int family = inet_pton(AF_INET, address, addr) == 1    ? AF_INET
                 : inet_pton(AF_INET6, address, addr) == 1 ? AF_INET6
                                                           : 0;
    const struct dns_name_entry *e = family ? name_cached(d, family, addr) : NULL;
    if (e == NULL)
        return false;
    snprintf(name, size, "%s", e->found ? e->name : "");
    return true;
}

struct dns_req *dns_client_name(struct dns *d, const char *address, int timeout_ms,
                                void (*cb)(void *arg, const char *name), void *arg)
{
    struct name_req *r = xcalloc(1, sizeof *r);
    r->cb = cb;
    r->arg = arg;
    r->ttl = -1;
    dns_req_init(&r->base, d, timeout_ms, name_timer, name_release);
    if (inet_pton(AF_INET, address, r->addr) == 1)
        r->family = AF_INET;
    else if (inet_pton(AF_INET6, address, r->addr) == 1)
        r->family = AF_INET6;
    else {
        dns_req_soon(&r->base);
        return &r->base;
    }
    const struct dns_name_entry *e = name_cached(d, r->family, r->addr);
    if (e) {
        r->found = e->found;
        snprintf(r->name, sizeof r->name, "%s", e->name);
        dns_req_soon(&r->base);   /* not kept again: it expires as first decided */
        return &r->base;
    }
    char query[128];
    reverse_name(r, query, sizeof query);
    r->q = dns_query_start(d, query, DNS_TYPE_PTR, on_ptr, r);
    if (r->q == NULL)
        dns_req_soon(&r->base);
    return &r->base;
}

/* ---- one question of any type (dns_lookup) ---- */

struct lookup_req {
    struct dns_req base;
    struct dns_query *q;
    int type;
    char query[DNS_NAME_MAX + 2];    /* the name asked, with its final dot */
    struct dns_records result;       /* TEMP until an answer comes */
    struct dns_record *records;      /* result.nrecords of them, with their TXT storage */
    void (*cb)(void *arg, const struct dns_records *r);
    void *arg;
};

static void records_free(struct dns_record *records, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)records[i].text);
        free((struct dns_txt_string *)records[i].strings);
    }
    free(records);
}

/* A copy of n records, their TXT storage included. */
static struct dns_record *records_copy(const struct dns_record *from, size_t n)
{
    struct dns_record *to = n ? xcalloc(n, sizeof *to) : NULL;
    for (size_t i = 0; i < n; i++) {
        to[i] = from[i];
        if (from[i].text) {
            char *text = xmalloc(from[i].textlen + 1);
            memcpy(text, from[i].text, from[i].textlen + 1);
            to[i].text = text;
        }
        if (from[i].strings) {
            struct dns_txt_string *strings = xcalloc(from[i].nstrings ? from[i].nstrings : 1,
                                                     sizeof *strings);
            memcpy(strings, from[i].strings, from[i].nstrings * sizeof *strings);
            to[i].strings = strings;
        }
    }
    return to;
}

static void lookup_release(struct dns_req *base)
{
    struct lookup_req *r = (struct lookup_req *)base;
    dns_query_cancel(base->d, r->q);
    dns_req_free_timer(base);
    records_free(r->records, r->result.nrecords);
    free(r);
}

/* ---- answers kept (dns_lookup_entry) ---- */

static struct dns_lookup_entry *lookup_slot(struct dns *d, const char *query, int type)
{
    uint32_t h = 2166136261u ^ (uint32_t)type;   /* FNV-1a */
    for (const char *p = query; *p; p++)
        h = (h ^ (unsigned char)tolower((unsigned char)*p)) * 16777619u;
    return &d->lookups[h % DNS_LOOKUP_CACHE];
}

static const struct dns_lookup_entry *lookup_cached(struct dns *d, const char *query, int type)
{
    if (d->lookups == NULL)
        return NULL;
    const struct dns_lookup_entry *e = lookup_slot(d, query, type);
    if (e->expires == 0 || e->expires <= mono_seconds() || e->type != type ||
        strcasecmp(e->name, query) != 0)
        return NULL;
    return e;
}

/* The memory an answer's copy takes. */
static size_t records_size(const struct dns_records *r)
{
    size_t size = r->nrecords * sizeof *r->records;
    for (size_t i = 0; i < r->nrecords; i++)
        size += r->records[i].textlen + r->records[i].nstrings * sizeof *r->records[i].strings;
    return size;
}

static void lookup_keep(struct dns *d, const char *query, const struct dns_records *r)
{
    /* a large answer (a zone's hundred TXT records) is not kept: the table stays small */
    if (r->rc == DNS_RC_TEMP || r->ttl <= 0 || strlen(query) >= DNS_NAME_MAX + 1 ||
        records_size(r) > DNS_LOOKUP_KEEP_MAX)
        return;
    if (d->lookups == NULL)
        d->lookups = xcalloc(DNS_LOOKUP_CACHE, sizeof *d->lookups);
    struct dns_lookup_entry *e = lookup_slot(d, query, r->type);
    records_free(e->records, e->result.nrecords);
    e->expires = mono_seconds() + (r->ttl < DNS_NAME_CACHE_TTL_MAX ? r->ttl
                                                                    : DNS_NAME_CACHE_TTL_MAX);
    e->type = r->type;
    snprintf(e->name, sizeof e->name, "%s", query);
    e->result = *r;
    e->records = records_copy(r->records, r->nrecords);
    e->result.records = e->records;
}

static void lookups_free(struct dns *d)
{
    for (size_t i = 0; d->lookups && i < DNS_LOOKUP_CACHE; i++)
        records_free(d->lookups[i].records, d->lookups[i].result.nrecords);
    free(d->lookups);
}

static void lookup_timer(struct dns_req *base)
{
    struct lookup_req *r = (struct lookup_req *)base;
    if (!base->ready)
        r->result.rc = DNS_RC_TEMP;   /* the deadline: no answer came (nothing is held) */
    base->delivering = true;
    r->cb(r->arg, &r->result);
    lookup_release(base);
}

/* One rdata item of the asked type into rec: 0, or -1 when it is malformed (left out). */
static int lookup_record(int type, const unsigned char *p, size_t len, struct dns_record *rec)
{
    memset(rec, 0, sizeof *rec);
    switch (type) {
    case DNS_TYPE_A:
    case DNS_TYPE_AAAA:
        if (len != (type == DNS_TYPE_A ? 4u : 16u))
            return -1;
        memcpy(rec->addr, p, len);
        rec->addrlen = len;
        return 0;
    case DNS_TYPE_MX:
        if (len < 3)
            return -1;
        rec->preference = (p[0] << 8) | p[1];
        return dns_wire_name_text(p + 2, len - 2, rec->host) == (int)(len - 2) ? 0 : -1;
    case DNS_TYPE_PTR:
    case DNS_TYPE_CNAME:
        return dns_wire_name_text(p, len, rec->host) == (int)len ? 0 : -1;
    case DNS_TYPE_TXT: {
        char *text = xmalloc(DNS_TXT_MAX + 1);
        struct dns_txt_string *strings = xcalloc(DNS_TXT_STRINGS_MAX, sizeof *strings);
        if (dns_parse_txt(p, len, rec, strings, DNS_TXT_STRINGS_MAX, text, DNS_TXT_MAX) != 0) {
            free(text);
            free(strings);
            return -1;
        }
        return 0;
    }
    default:
        return 0;
    }
}

static void on_lookup(void *arg, const struct dns_answer *a)
{
    struct lookup_req *r = arg;
    r->q = NULL;
    r->result.rc = a->rc;
    r->result.secure = a->secure;
    r->result.ttl = a->ttl;
    size_t max = (size_t)a->count < DNS_LOOKUP_RECORDS_MAX ? (size_t)a->count
                                                            : DNS_LOOKUP_RECORDS_MAX;
    r->records = max ? xcalloc(max, sizeof *r->records) : NULL;
    for (int i = 0; i < a->count; i++) {
        struct dns_record rec;
        if (lookup_record(r->type, (const unsigned char *)a->data[i], (size_t)a->len[i],
                          &rec) != 0)
            continue;
        r->result.count++;
        if (r->result.nrecords < max)
            r->records[r->result.nrecords++] = rec;
        else {
            free((char *)rec.text);
            free((struct dns_txt_string *)rec.strings);
        }
    }
    if (a->rc == DNS_RC_OK && r->result.count == 0)
        r->result.rc = DNS_RC_NODATA;   /* nothing usable of the asked type */
    r->result.records = r->records;
    lookup_keep(r->base.d, r->query, &r->result);
    dns_req_soon(&r->base);
}

struct dns_req *dns_lookup(struct dns *d, const char *name, int rrtype, int timeout_ms,
                           void (*cb)(void *arg, const struct dns_records *r), void *arg)
{
    struct lookup_req *r = xcalloc(1, sizeof *r);
    r->cb = cb;
    r->arg = arg;
    r->type = rrtype;
    r->result.type = rrtype;
    r->result.rc = DNS_RC_TEMP;
    dns_req_init(&r->base, d, timeout_ms, lookup_timer, lookup_release);
    size_t len = strlen(name);
    char query[DNS_NAME_MAX + 2];
    if (len == 0 || len >= DNS_NAME_MAX) {
        dns_req_soon(&r->base);       /* no such name can be asked: TEMP */
        return &r->base;
    }
    snprintf(query, sizeof query, "%s%s", name, name[len - 1] == '.' ? "" : ".");
    const struct dns_lookup_entry *kept = lookup_cached(d, query, rrtype);
    if (kept) {   /* answered from what was kept, in the next turn of the loop */
        r->result = kept->result;
        r->records = records_copy(kept->records, kept->result.nrecords);
        r->result.records = r->records;
        dns_req_soon(&r->base);
        return &r->base;
    }
    snprintf(r->query, sizeof r->query, "%s", query);
    r->q = dns_query_start(d, query, rrtype, on_lookup, r);
    if (r->q == NULL)
        dns_req_soon(&r->base);
    return &r->base;
}

/* ---- jobs: requests made of others (dns_job) ---- */

struct job_req {
    struct dns_req base;             /* its timer is the deadline */
    struct event *wake;
    void (*on_event)(void *arg, bool timeout);
    void (*on_cancel)(void *arg);
    void *arg;
};

static void job_free(struct job_req *r)
{
    dns_req_free_timer(&r->base);
    event_free(r->wake);
    free(r);
}

static void job_deadline(struct dns_req *base)
{
    struct job_req *r = (struct job_req *)base;
    r->on_event(r->arg, true);
}

static void job_release(struct dns_req *base)
{
    struct job_req *r = (struct job_req *)base;
    r->on_cancel(r->arg);
    job_free(r);
}

static void on_job_wake(evutil_socket_t fd, short what, void *arg)
{
    struct job_req *r = arg;
    r->on_event(r->arg, false);
}

struct dns_req *dns_job(struct dns *d, int timeout_ms, void (*on_event)(void *arg, bool timeout),
                        void (*on_cancel)(void *arg), void *arg)
{
    struct job_req *r = xcalloc(1, sizeof *r);
    r->on_event = on_event;
    r->on_cancel = on_cancel;
    r->arg = arg;
    r->wake = evtimer_new(d->base, on_job_wake, r);
    dns_req_init(&r->base, d, timeout_ms, job_deadline, job_release);
    return &r->base;
}

void dns_job_wake(struct dns_req *base)
{
    struct job_req *r = (struct job_req *)base;
    event_active(r->wake, EV_TIMEOUT, 0);
}

void dns_job_end(struct dns_req *base, void (*deliver)(void *arg), void *arg)
{
    base->delivering = true;
    if (deliver)
        deliver(arg);
    job_free((struct job_req *)base);
}

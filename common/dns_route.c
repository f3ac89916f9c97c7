/* dns_route.c: where mail goes (dns.h): dns_mx (the MX records of a name, then the A/AAAA
 * records of a few hosts at a time, in MX order) and dns_tlsa (the TLSA records of a server for
 * DANE), each a request of dns.c with one deadline, cancellable while its queries run. The
 * parsing, ordering and texts are in dns_mx.c. */
#include <event2/event.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "dns_impl.h"
#include "mem.h"

#define HOSTS_AT_ONCE 8          /* MX hosts whose addresses are looked up at the same time */

/* ---- dns_mx ---- */

struct mx_req;
struct host;

/* The A or AAAA look-up of one host. */
struct fam {
    struct mx_req *r;
    struct host *h;
    int family;
    bool wanted;                 /* inet_protocols enables this family */
    bool done;
    struct dns_query *q;
    enum dns_rc rc;
    size_t n;
    struct dns_addr *addrs;
};

struct host {
    struct dns_mx_host mx;
    struct fam f[2];             /* IPv4, IPv6 */
    bool done;
};

struct mx_req {
    struct dns_req base;
    char name[DNS_NAME_MAX];
    int port;
    size_t max;
    int protocols;
    enum dns_family_pref pref;
    struct dns_query *mxq;
    bool implicit;               /* the only host is name itself (no MX, or no MX look-up) */
    bool mx_secure;
    struct host *hosts;
    size_t nhosts, started, running;
    struct dns_target *targets;
    struct dns_mx_result result;
    void (*cb)(void *arg, const struct dns_mx_result *res);
    void *arg;
};

static void mx_release(struct dns_req *base)
{
    struct mx_req *r = (struct mx_req *)base;
    dns_query_cancel(base->d, r->mxq);
    for (size_t i = 0; i < r->nhosts; i++)
        for (int k = 0; k < 2; k++) {
            dns_query_cancel(base->d, r->hosts[i].f[k].q);
            free(r->hosts[i].f[k].addrs);
        }
    free(r->hosts);
    free(r->targets);
    dns_req_free_timer(base);
    free(r);
}

/* The result is known: no query is needed any more; the loop delivers it. */
static void mx_fail(struct mx_req *r, enum dns_mx_status status, const char *dsn,
                    const char *reason)
{
    r->result.status = status;
    snprintf(r->result.dsn, sizeof r->result.dsn, "%s", dsn);
    snprintf(r->result.reason, sizeof r->result.reason, "%s", reason);
    r->result.ntargets = 0;
    dns_req_soon(&r->base);
}

/* The host's status over its wanted families, and the record type to name in a reason. */
static enum dns_rc host_status(const struct host *h, const char **type)
{
    static const enum dns_rc order[] = { DNS_RC_OK, DNS_RC_TEMP, DNS_RC_NODATA, DNS_RC_NXDOMAIN };
    for (int o = 0; o < 4; o++)
        for (int k = 0; k < 2; k++) {
            const struct fam *f = &h->f[k];
            if (!f->wanted)
                continue;
            enum dns_rc rc = !f->done ? DNS_RC_TEMP : f->rc == DNS_RC_OK && f->n == 0
                                                          ? DNS_RC_NODATA : f->rc;
            if (rc == order[o]) {
                *type = k == 0 ? "A" : "AAAA";
                return rc;
            }
        }
    *type = "A";
    return DNS_RC_TEMP;
}

/* The targets of the hosts in order, up to max; with prefix_only, stops at the first host
 * still being looked up. The number of targets. */
static size_t build_targets(struct mx_req *r, bool prefix_only)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nhosts && n < r->max; i++) {
        struct host *h = &r->hosts[i];
        if (!h->done && prefix_only)
            break;
        const struct fam *v4 = &h->f[0], *v6 = &h->f[1];
        n = dns_add_targets(r->targets, n, r->max, &h->mx, r->mx_secure, v4->addrs,
                            v4->done && v4->rc == DNS_RC_OK ? v4->n : 0, v6->addrs,
                            v6->done && v6->rc == DNS_RC_OK ? v6->n : 0, r->pref, r->port);
    }
    return n;
}

/* Ends the address phase with what there is: the targets, or why there are none. */
static void mx_conclude(struct mx_req *r)
{
    for (size_t i = 0; i < r->nhosts; i++)
        for (int k = 0; k < 2; k++) {
            dns_query_cancel(r->base.d, r->hosts[i].f[k].q);
            r->hosts[i].f[k].q = NULL;
        }
    size_t n = build_targets(r, false);
    if (n > 0) {
        r->result.status = DNS_MX_OK;
        r->result.ntargets = n;
        dns_req_soon(&r->base);
        return;
    }
    char reason[sizeof r->result.reason];
    const char *type;
    for (size_t i = 0; i < r->nhosts; i++)
        if (host_status(&r->hosts[i], &type) == DNS_RC_TEMP) {
            dns_reason(reason, sizeof reason, r->hosts[i].mx.name, type, DNS_RC_TEMP);
            mx_fail(r, DNS_MX_TEMP, "4.4.3", reason);
            return;
        }
    enum dns_rc rc = host_status(&r->hosts[0], &type);       /* there is at least one host */
    dns_reason(reason, sizeof reason, r->hosts[0].mx.name, type, rc);
    mx_fail(r, DNS_MX_PERM, r->implicit && rc == DNS_RC_NXDOMAIN ? "5.1.2" : "5.4.4", reason);
}

static void host_done(struct host *h);
static void advance(struct mx_req *r);

static void on_addr(void *arg, const struct dns_answer *a)
{
    struct fam *f = arg;
    f->q = NULL;
    f->done = true;
    f->rc = a->rc;
    size_t want = f->family == AF_INET ? 4 : 16;
    if (a->rc == DNS_RC_OK) {
        f->addrs = xcalloc(DNS_MAX_HOST_ADDRS, sizeof *f->addrs);
        for (int i = 0; i < a->count && f->n < DNS_MAX_HOST_ADDRS; i++)
            if ((size_t)a->len[i] == want) {
                struct dns_addr *d = &f->addrs[f->n++];
                d->family = f->family;
                d->secure = a->secure;
                memcpy(d->bytes, a->data[i], want);
            }
    }
    if (f->h->f[0].done && f->h->f[1].done) {
        host_done(f->h);
        advance(f->r);
    }
}

static void host_done(struct host *h)
{
    h->done = true;
    h->f[0].r->running--;
}

/* Starts the look-ups of one host's addresses (a family that cannot be asked is done, TEMP). */
static void launch(struct mx_req *r, struct host *h)
{
    char query[DNS_NAME_MAX + 1];
    snprintf(query, sizeof query, "%s.", h->mx.name);
    r->running++;
    for (int k = 0; k < 2; k++) {
        struct fam *f = &h->f[k];
        f->r = r;
        f->h = h;
        f->family = k == 0 ? AF_INET : AF_INET6;
        f->wanted = (r->protocols & (k == 0 ? DNS_V4 : DNS_V6)) != 0;
        f->rc = DNS_RC_TEMP;
        f->done = !f->wanted;
    }
    for (int k = 0; k < 2; k++) {
        struct fam *f = &h->f[k];
        if (f->wanted) {
            f->q = dns_query_start(r->base.d, query, k == 0 ? DNS_TYPE_A : DNS_TYPE_AAAA,
                                   on_addr, f);
            f->done = f->q == NULL;
        }
    }
    if (h->f[0].done && h->f[1].done)
        host_done(h);
}

/* Starts more hosts while few run, and ends when the hosts done so far, in MX order, give
 * max addresses or every host is done. */
static void advance(struct mx_req *r)
{
    size_t have = build_targets(r, true);     /* hosts launched now add nothing to it */
    while (have < r->max && r->running < HOSTS_AT_ONCE && r->started < r->nhosts)
        launch(r, &r->hosts[r->started++]);
    if (have >= r->max || (r->running == 0 && r->started == r->nhosts))
        mx_conclude(r);
}

static void start_hosts(struct mx_req *r, struct dns_mx_host *mx, size_t n)
{
    r->hosts = xcalloc(n, sizeof *r->hosts);
    for (size_t i = 0; i < n; i++)
        r->hosts[i].mx = mx[i];
    r->nhosts = n;
    advance(r);
}

static void start_implicit(struct mx_req *r, bool secure)
{
    struct dns_mx_host self = { .preference = 0 };
    snprintf(self.name, sizeof self.name, "%s", r->name);
    r->implicit = true;
    r->mx_secure = secure;
    start_hosts(r, &self, 1);
}

static uint32_t uniform(uint32_t upper)
{
    return randombytes_uniform(upper);
}

static void on_mx(void *arg, const struct dns_answer *a)
{
    struct mx_req *r = arg;
    r->mxq = NULL;
    char reason[sizeof r->result.reason];
    if (a->rc == DNS_RC_TEMP || a->rc == DNS_RC_NXDOMAIN) {
        dns_reason(reason, sizeof reason, r->name, "MX", a->rc);
        if (a->rc == DNS_RC_TEMP)
            mx_fail(r, DNS_MX_TEMP, "4.4.3", reason);
        else
            mx_fail(r, DNS_MX_PERM, "5.1.2", reason);
        return;
    }
    if (a->rc == DNS_RC_NODATA) {
        start_implicit(r, a->secure);
        return;
    }
    struct dns_mx_host *mx = xcalloc(DNS_MAX_MX, sizeof *mx), one;
    size_t n = 0, null_mx = 0, records = 0;
    struct sockaddr_storage ss;
    socklen_t sl;
    for (int i = 0; i < a->count && records < DNS_MAX_MX_RECORDS; i++, records++) {
        if (dns_parse_mx((const unsigned char *)a->data[i], (size_t)a->len[i], &one) != 0)
            continue;
        if (one.name[0] == '\0')
            null_mx++;
        else if (dns_literal(one.name, 0, &ss, &sl) != 0)
            dns_mx_keep(mx, &n, DNS_MAX_MX, &one);   /* an MX naming an IP address is skipped */
    }
    if (null_mx > 0 && null_mx == records) {
        snprintf(reason, sizeof reason, "Domain %s does not accept mail (null MX)", r->name);
        mx_fail(r, DNS_MX_PERM, "5.1.10", reason);
    } else if (n == 0) {
        snprintf(reason, sizeof reason, "Host or domain name not found. Name service error for "
                 "name=%s type=MX: Malformed or unexpected name server reply", r->name);
        mx_fail(r, DNS_MX_PERM, "5.4.4", reason);
    } else {
        r->mx_secure = a->secure;
        start_hosts(r, mx, dns_mx_order(mx, n, uniform));
    }
    free(mx);
}

static void mx_deliver(struct mx_req *r)
{
    r->result.targets = r->result.ntargets ? r->targets : NULL;
    r->base.delivering = true;
    r->cb(r->arg, &r->result);
    mx_release(&r->base);
}

/* The deadline passed (or the result is ready): MX unanswered → TEMP; else what the hosts
 * answered so far (those still unanswered count as failed temporarily). */
static void mx_timer(struct dns_req *base)
{
    struct mx_req *r = (struct mx_req *)base;
    if (!base->ready && r->hosts == NULL) {
        char reason[sizeof r->result.reason];
        dns_reason(reason, sizeof reason, r->name, "MX", DNS_RC_TEMP);
        mx_fail(r, DNS_MX_TEMP, "4.4.3", reason);
    } else if (!base->ready) {
        mx_conclude(r);
    }
    mx_deliver(r);
}

/* A name for a reason text: printable, short. */
static void printable(char *out, size_t size, const char *in)
{
    size_t n = 0;
    for (; in[n] && n + 1 < size && n < 100; n++)
        out[n] = in[n] > ' ' && in[n] < 127 ? in[n] : '?';
    out[n] = '\0';
}

/* An IP address literal: one target, no query. */
static void mx_literal(struct mx_req *r, const char *name, const struct sockaddr_storage *ss,
                       socklen_t len)
{
    int bit = ss->ss_family == AF_INET ? DNS_V4 : DNS_V6;
    if (!(r->protocols & bit)) {
        char reason[sizeof r->result.reason];
        snprintf(reason, sizeof reason, "address %s: its address family is not enabled in "
                 "inet_protocols", r->name);
        mx_fail(r, DNS_MX_TEMP, "4.3.5", reason);
        return;
    }
    struct dns_target *t = &r->targets[0];
    snprintf(t->host, sizeof t->host, "%s", name);
    t->addr = *ss;
    t->addrlen = len;
    r->result.status = DNS_MX_OK;
    r->result.ntargets = 1;
    dns_req_soon(&r->base);
}

struct dns_req *dns_mx(struct dns *d, const char *name, bool use_mx, int port, int max_addrs,
                       int timeout_ms, void (*cb)(void *arg, const struct dns_mx_result *r),
                       void *arg)
{
    struct mx_req *r = xcalloc(1, sizeof *r);
    dns_req_init(&r->base, d, timeout_ms, mx_timer, mx_release);
    r->cb = cb;
    r->arg = arg;
    r->port = port;
    r->max = max_addrs <= 0 || max_addrs > DNS_MAX_TARGETS ? DNS_MAX_TARGETS : (size_t)max_addrs;
    r->targets = xcalloc(r->max, sizeof *r->targets);
    r->protocols = dns_protocols(config_str("inet_protocols"));
    if (dns_family_pref(config_str("smtp_address_preference"), &r->pref) != 0)
        r->pref = DNS_PREF_ANY;
    struct sockaddr_storage ss;
    socklen_t len;
    char reason[sizeof r->result.reason];
    if (r->protocols == 0) {
        snprintf(reason, sizeof reason, "inet_protocols must be all, ipv4 or ipv6");
        mx_fail(r, DNS_MX_TEMP, "4.3.5", reason);
    } else if (dns_literal(name, port, &ss, &len) == 0) {
        printable(r->name, sizeof r->name, name);
        mx_literal(r, name, &ss, len);
    } else if (dns_name_canon(name, r->name) != 0) {
        printable(r->name, sizeof r->name, name);
        snprintf(reason, sizeof reason, "Malformed domain name: %s", r->name);
        mx_fail(r, DNS_MX_PERM, "5.1.2", reason);
    } else if (!use_mx) {
        start_implicit(r, true);
    } else {
        char query[DNS_NAME_MAX + 1];
        snprintf(query, sizeof query, "%s.", r->name);
        r->mxq = dns_query_start(d, query, DNS_TYPE_MX, on_mx, r);
        if (r->mxq == NULL) {
            dns_reason(reason, sizeof reason, r->name, "MX", DNS_RC_TEMP);
            mx_fail(r, DNS_MX_TEMP, "4.4.3", reason);
        }
    }
    return &r->base;
}

/* ---- dns_tlsa ---- */

struct tlsa_req {
    struct dns_req base;
    struct dns_query *q;
    bool failed, secure;
    size_t count;
    struct dns_tlsa *records;
    void (*cb)(void *arg, bool failed, bool secure, const struct dns_tlsa *records,
               size_t count);
    void *arg;
};

static void tlsa_release(struct dns_req *base)
{
    struct tlsa_req *r = (struct tlsa_req *)base;
    dns_query_cancel(base->d, r->q);
    for (size_t i = 0; i < r->count; i++)
        free(r->records[i].data);
    free(r->records);
    dns_req_free_timer(base);
    free(r);
}

static void on_tlsa(void *arg, const struct dns_answer *a)
{
    struct tlsa_req *r = arg;
    r->q = NULL;
    r->failed = a->rc == DNS_RC_TEMP;
    r->secure = !r->failed && a->secure;
    if (a->rc == DNS_RC_OK && a->secure) {
        r->records = xcalloc(DNS_MAX_TLSA, sizeof *r->records);
        for (int i = 0; i < a->count && r->count < DNS_MAX_TLSA; i++) {
            struct dns_tlsa t;
            if (dns_parse_tlsa((const unsigned char *)a->data[i], (size_t)a->len[i], &t) != 0)
                continue;
            unsigned char *copy = xmalloc(t.len);
            memcpy(copy, t.data, t.len);
            t.data = copy;
            r->records[r->count++] = t;
        }
    }
    dns_req_soon(&r->base);
}

/* The answer (or the deadline: failed). */
static void tlsa_timer(struct dns_req *base)
{
    struct tlsa_req *r = (struct tlsa_req *)base;
    if (!base->ready) {
        r->failed = true;
        r->secure = false;
    }
    base->delivering = true;
    r->cb(r->arg, r->failed, r->secure, r->count ? r->records : NULL, r->count);
    tlsa_release(base);
}

struct dns_req *dns_tlsa(struct dns *d, const char *host, int port, int timeout_ms,
                         void (*cb)(void *arg, bool failed, bool secure,
                                    const struct dns_tlsa *records, size_t count),
                         void *arg)
{
    struct tlsa_req *r = xcalloc(1, sizeof *r);
    dns_req_init(&r->base, d, timeout_ms, tlsa_timer, tlsa_release);
    r->cb = cb;
    r->arg = arg;
    char name[DNS_NAME_MAX], query[DNS_NAME_MAX + 16];
    struct sockaddr_storage ss;
    socklen_t len;
    if (dns_literal(host, port, &ss, &len) == 0) {
        dns_req_soon(&r->base);           /* an address has no TLSA records: none, insecure */
        return &r->base;
    }
    r->failed = true;
    if (dns_name_canon(host, name) != 0 || port < 1 || port > 65535) {
        dns_req_soon(&r->base);
        return &r->base;
    }
    int n = snprintf(query, sizeof query, "_%d._tcp.%s.", port, name);
    if (n > 254) {                        /* longer than a name can be: there is none */
        r->failed = false;
        dns_req_soon(&r->base);
        return &r->base;
    }
    r->q = dns_query_start(d, query, DNS_TYPE_TLSA, on_tlsa, r);
    if (r->q == NULL)
        dns_req_soon(&r->base);
    return &r->base;
}

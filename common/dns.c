/* dns.c: the asynchronous resolver of dns.h on libunbound. Queries run on unbound's own thread;
 * their answers are picked up by a libevent event on unbound's descriptor (ub_process), so every
 * callback runs in the loop thread. A client name is a PTR look-up followed by an A or AAAA
 * look-up of the name that must lead back to the address. */
#include <arpa/inet.h>
#include <ctype.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>
#include "dns.h"
#include "mem.h"

#define TYPE_A 1
#define TYPE_PTR 12
#define TYPE_AAAA 28
#define CLASS_IN 1

struct dns {
    struct ub_ctx *ctx;
    struct event *ev;
    struct event_base *base;
};

struct dns_req {
    struct dns *d;
    int async_id;
    bool querying;              /* async_id refers to a query unbound still runs */
    int family;
    unsigned char addr[16];
    char name[256];
    struct event *timer;
    void (*cb)(void *arg, const char *name);
    void *arg;
};

static void on_ub(evutil_socket_t fd, short what, void *arg)
{
    struct dns *d = arg;
    ub_process(d->ctx);
}

struct dns *dns_open(char *err, size_t errlen)
{
    struct dns *d = xcalloc(1, sizeof *d);
    d->ctx = ub_ctx_create();
    int r = d->ctx ? 0 : -1;
    const char *what = "ub_ctx_create";
    if (r == 0 && (r = ub_ctx_resolvconf(d->ctx, NULL)) != 0)
        what = "reading /etc/resolv.conf";
    if (r == 0 && (r = ub_ctx_hosts(d->ctx, NULL)) != 0)
        what = "reading /etc/hosts";
    if (r == 0 && (r = ub_ctx_async(d->ctx, 1)) != 0)
        what = "starting the resolver thread";
    if (r != 0) {
        snprintf(err, errlen, "DNS resolver: %s: %s", what,
                 d->ctx ? ub_strerror(r) : "out of memory");
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

/* Ends the request: the callback gets a copy of the name, since r (which may hold it) goes. */
static void finish(struct dns_req *r, const char *name)
{
    char copy[sizeof r->name];
    if (name)
        snprintf(copy, sizeof copy, "%s", name);
    event_free(r->timer);
    void (*cb)(void *, const char *) = r->cb;
    void *arg = r->arg;
    free(r);
    cb(arg, name ? copy : NULL);
}

void dns_cancel(struct dns_req *r)
{
    if (r->querying)
        ub_cancel(r->d->ctx, r->async_id);
    event_free(r->timer);
    free(r);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct dns_req *r = arg;
    if (r->querying) {
        ub_cancel(r->d->ctx, r->async_id);
        r->querying = false;
    }
    finish(r, NULL);
}

/* Fails the request from the loop, not from inside the caller. */
static void fail_soon(struct dns_req *r)
{
    r->querying = false;
    event_del(r->timer);
    event_active(r->timer, EV_TIMEOUT, 0);
}

/* A PTR answer's domain name (wire format) in text, lower case, without the final dot;
 * -1 unless it is a plausible host name. */
static int ptr_name(const unsigned char *p, int len, char *out, size_t size)
{
    size_t n = 0;
    int i = 0;
    while (i < len && p[i] != 0) {
        int l = p[i++];
        if (l > 63 || i + l > len || n + (size_t)l + 2 > size)
            return -1;
        if (n)
            out[n++] = '.';
        for (int k = 0; k < l; k++) {
            unsigned char c = p[i + k];
            if (!isalnum(c) && c != '-' && c != '_')
                return -1;
            out[n++] = (char)tolower(c);
        }
        i += l;
    }
    out[n] = '\0';
    return n ? 0 : -1;
}

static void on_forward(void *arg, int err, struct ub_result *result)
{
    struct dns_req *r = arg;
    r->querying = false;
    bool confirmed = false;
    size_t want = r->family == AF_INET ? 4 : 16;
    for (int i = 0; err == 0 && result->havedata && result->data[i]; i++)
        if ((size_t)result->len[i] == want && memcmp(result->data[i], r->addr, want) == 0)
            confirmed = true;
    if (err == 0)
        ub_resolve_free(result);
    finish(r, confirmed ? r->name : NULL);
}

static void on_ptr(void *arg, int err, struct ub_result *result)
{
    struct dns_req *r = arg;
    r->querying = false;
    int ok = err == 0 && result->havedata && result->data[0] &&
             ptr_name((const unsigned char *)result->data[0], result->len[0], r->name,
                      sizeof r->name) == 0;
    if (err == 0)
        ub_resolve_free(result);
    if (!ok) {
        finish(r, NULL);
        return;
    }
    char query[sizeof r->name + 1];
    snprintf(query, sizeof query, "%s.", r->name);
    int type = r->family == AF_INET ? TYPE_A : TYPE_AAAA;
    if (ub_resolve_async(r->d->ctx, query, type, CLASS_IN, r, on_forward, &r->async_id) != 0) {
        finish(r, NULL);
        return;
    }
    r->querying = true;
}

/* The in-addr.arpa / ip6.arpa name of the address. */
static void reverse_name(const struct dns_req *r, char *out, size_t size)
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

struct dns_req *dns_client_name(struct dns *d, const char *address, int timeout_ms,
                                void (*cb)(void *arg, const char *name), void *arg)
{
    struct dns_req *r = xcalloc(1, sizeof *r);
    r->d = d;
    r->cb = cb;
    r->arg = arg;
    r->timer = evtimer_new(d->base, on_timeout, r);
    struct timeval t = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    evtimer_add(r->timer, &t);
    if (inet_pton(AF_INET, address, r->addr) == 1)
        r->family = AF_INET;
    else if (inet_pton(AF_INET6, address, r->addr) == 1)
        r->family = AF_INET6;
    else {
        fail_soon(r);
        return r;
    }
    char query[128];
    reverse_name(r, query, sizeof query);
    if (ub_resolve_async(d->ctx, query, TYPE_PTR, CLASS_IN, r, on_ptr, &r->async_id) != 0)
        fail_soon(r);
    else
        r->querying = true;
    return r;
}

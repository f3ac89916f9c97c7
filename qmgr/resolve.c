/* resolve.c: the queue manager's recipient resolver (see resolve.h): transport_maps in
 * transport(5) order (address, domain, .parent, *; the address and domain as mail/address.h
 * splits them), then the address class from mydestination and virtual_mailbox_domains, with
 * relayhost or the domain as the smtp next hop. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "address.h"
#include "config.h"
#include "lists.h"
#include "mem.h"
#include "resolve.h"

#define DOMAIN_MAX 255

struct resolver {
    struct domain_list *mydestination, *virtual_mailbox_domains;
    struct table_list *transport_maps;
    char relayhost[sizeof ((struct resolved *)0)->nexthop];
    char myhostname[sizeof ((struct resolved *)0)->nexthop];
};

/* ---- reading the configuration (lists: see lists.h) ---- */

/* Copies a single-valued parameter, trimmed; -1 with err when it does not fit. */
static int read_value(const char *param, char *out, size_t size, char *err, size_t errlen)
{
    const char *v = config_str(param);
    v += strspn(v, LIST_SEPARATORS);
    size_t n = strlen(v);
    while (n > 0 && strchr(LIST_SEPARATORS, v[n - 1]))
        n--;
    if (n >= size) {
        snprintf(err, errlen, "%s: value longer than %zu bytes", param, size - 1);
        return -1;
    }
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

struct resolver *resolver_open(char *err, size_t errlen)
{
    struct resolver *r = xcalloc(1, sizeof *r);
    if (domain_list_read("mydestination", &r->mydestination, err, errlen) < 0 ||
        domain_list_read("virtual_mailbox_domains", &r->virtual_mailbox_domains, err,
                         errlen) < 0 ||
        table_list_read("transport_maps", &r->transport_maps, err, errlen) < 0 ||
        read_value("relayhost", r->relayhost, sizeof r->relayhost, err, errlen) < 0 ||
        read_value("myhostname", r->myhostname, sizeof r->myhostname, err, errlen) < 0) {
        resolver_close(r);
        return NULL;
    }
    return r;
}

void resolver_close(struct resolver *r)
{
    if (!r)
        return;
    domain_list_free(r->mydestination);
    domain_list_free(r->virtual_mailbox_domains);
    table_list_free(r->transport_maps);
    free(r);
}

/* ---- lookups ---- */

/* The address class's transport and next hop; -1 with err on a table error. */
static int classify(struct resolver *r, const char *domain, struct resolved *out, char *err,
                    size_t errlen)
{
    int rc = domain[0] ? domain_list_match(r->mydestination, domain, err, errlen) : 1;
    if (rc < 0)
        return -1;
    if (rc > 0) {
        snprintf(out->transport, sizeof out->transport, "local");
        snprintf(out->nexthop, sizeof out->nexthop, "%s", domain[0] ? domain : r->myhostname);
        return 0;
    }
    if ((rc = domain_list_match(r->virtual_mailbox_domains, domain, err, errlen)) < 0)
        return -1;
    if (rc > 0) {
        snprintf(out->transport, sizeof out->transport, "virtual");
        snprintf(out->nexthop, sizeof out->nexthop, "%s", domain);
        return 0;
    }
    snprintf(out->transport, sizeof out->transport, "smtp");
    snprintf(out->nexthop, sizeof out->nexthop, "%s", r->relayhost[0] ? r->relayhost : domain);
    return 0;
}

/* transport(5) order: the address, the domain, each ".parent", then "*"; for each key the first
 * table that has it wins. 1 with *value, 0 when nothing matched, -1 with err. */
static int transport_find(struct resolver *r, const char *address, const char *domain,
                          const char **value, char *err, size_t errlen)
{
    const char *keys[DOMAIN_MAX + 4];
    size_t n = 0;
    keys[n++] = address;
    if (domain[0]) {
        keys[n++] = domain;
        for (const char *dot = strchr(domain, '.'); dot && dot[1]; dot = strchr(dot + 1, '.'))
            keys[n++] = dot;
    }
    keys[n++] = "*";
    for (size_t k = 0; k < n; k++) {
        int rc = table_list_find(r->transport_maps, keys[k], value, err, errlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int resolve_recipient(struct resolver *r, const char *address, struct resolved *out, char *err,
                      size_t errlen)
{
    struct mail_address a;
    if (strlen(address) >= sizeof out->recipient || address_split(address, &a) < 0) {
        snprintf(err, errlen, "<%.64s...>: address longer than %zu bytes", address,
                 sizeof out->recipient - 1);
        return -1;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->recipient, sizeof out->recipient, "%s", address);
    const char *domain = a.domain;
    if (strlen(domain) > DOMAIN_MAX) {
        snprintf(err, errlen, "<%.64s...>: domain longer than %d bytes", address, DOMAIN_MAX);
        return -1;
    }

    char key[ADDRESS_KEY_MAX];
    address_key(&a, key);
    const char *value = NULL;
    int rc = transport_find(r, key, domain, &value, err, errlen);
    if (rc < 0)
        return -1;
    char transport[sizeof out->transport] = "", nexthop[sizeof out->nexthop] = "";
    if (rc > 0) {
        value += strspn(value, " \t");
        size_t vn = strlen(value);
        while (vn > 0 && (value[vn - 1] == ' ' || value[vn - 1] == '\t'))
            vn--;
        const char *colon = memchr(value, ':', vn);
        size_t tn = colon ? (size_t)(colon - value) : vn;
        size_t hn = colon ? vn - tn - 1 : 0;
        if (tn >= sizeof transport || hn >= sizeof nexthop) {
            snprintf(err, errlen, "transport_maps: <%.64s>: value too long", address);
            return -1;
        }
        memcpy(transport, value, tn);
        transport[tn] = '\0';
        if (colon)
            memcpy(nexthop, colon + 1, hn);
        nexthop[hn] = '\0';
        if (transport[0] && nexthop[0]) {
            memcpy(out->transport, transport, sizeof transport);
            memcpy(out->nexthop, nexthop, sizeof nexthop);
            return 0;
        }
    }
    if (classify(r, domain, out, err, errlen) < 0)
        return -1;
    if (transport[0])
        memcpy(out->transport, transport, sizeof transport);
    if (nexthop[0])
        memcpy(out->nexthop, nexthop, sizeof nexthop);
    return 0;
}

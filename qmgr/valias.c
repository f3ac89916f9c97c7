/* valias.c: virtual_alias_maps expansion (Postfix's virtual(5)): an address is looked up by
 * mail/address.h's keys, user+ext@domain, user@domain (recipient_delimiter), then @domain (the
 * catch-all, which keeps the user part when the value is @other.domain), its local part
 * unquoted; each result is expanded again, so chains resolve in one step; an address that maps
 * to itself stays. Bounded in depth and in the number of addresses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "address.h"
#include "buf.h"
#include "config.h"
#include "lists.h"
#include "mem.h"
#include "qmgr.h"

#define VALIAS_DEPTH_MAX 20
#define VALIAS_ADDR_MAX 1000

struct valias {
    struct table_list *maps;
    char *delimiters;   /* recipient_delimiter */
};

struct valias *valias_open(char *err, size_t errlen)
{
    struct valias *v = xcalloc(1, sizeof *v);
    if (table_list_read("virtual_alias_maps", &v->maps, err, errlen) < 0) {
        free(v);
        return NULL;
    }
    v->delimiters = xstrdup(config_str("recipient_delimiter"));
    return v;
}

void valias_close(struct valias *v)
{
    if (v) {
        table_list_free(v->maps);
        free(v->delimiters);
        free(v);
    }
}

void valias_free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

struct expansion {
    char **list;
    size_t n;
    char *err;
    size_t errlen;
};

static int add_result(struct expansion *x, const char *address)
{
    for (size_t i = 0; i < x->n; i++)
        if (strcasecmp(x->list[i], address) == 0)
            return 0;   /* duplicates collapse */
    if (x->n >= VALIAS_ADDR_MAX) {
        snprintf(x->err, x->errlen, "virtual alias expansion has more than %d addresses",
                 VALIAS_ADDR_MAX);
        return -1;
    }
    x->list = xrealloc(x->list, (x->n + 1) * sizeof *x->list);
    x->list[x->n++] = xstrdup(address);
    return 0;
}

/* value with ext ("+sales") added to the local part of each of its addresses, as Postfix's
 * propagate_unmatched_extensions does by default for virtual aliases: info+sales@v matched by
 * info@v -> b@w gives b+sales@w. A result longer than an address is refused later. */
static char *propagate(const char *value, const char *ext)
{
    struct buf out;
    buf_init(&out, BUF_UNBOUNDED);
    char *copy = xstrdup(value);
    for (char *save = NULL, *item = strtok_r(copy, LIST_SEPARATORS, &save); item;
         item = strtok_r(NULL, LIST_SEPARATORS, &save)) {
        const char *at = address_at(item);
        size_t local = at ? (size_t)(at - item) : strlen(item);
        buf_printf(&out, "%s%.*s%s%s", out.len ? ", " : "", (int)local, item, ext,
                   item + local);
    }
    free(copy);
    return buf_steal(&out);
}

/* The value for address: 1 with a copy in *value (caller frees), 0 none, -1 error. */
static int lookup(struct valias *v, const char *address, char **value, char *err, size_t errlen)
{
    struct mail_address a;
    char keys[ADDRESS_KEYS_MAX][ADDRESS_KEY_MAX];
    if (address_split(address, &a) < 0)
        return 0;   /* longer than any address: no key could name it */
    int nkeys = address_lookup_keys(&a, v->delimiters, ADDRESS_KEYS_ADDRESS, keys);
    const char *found = NULL;
    int rc = 0, k = 0;
    while (rc == 0 && k < nkeys)
        rc = table_list_find(v->maps, keys[k++], &found, err, errlen);
    if (rc <= 0)
        return rc;
    /* the catch-all (the last key of an address with a domain) "@domain -> @other" keeps the
     * user part, as written */
    if (a.domain[0] && k == nkeys && found[0] == '@' && strpbrk(found, ", \t") == NULL) {
        char mapped[DELIVERY_ADDR_MAX * 2];
        snprintf(mapped, sizeof mapped, "%.*s%s", (int)(address_at(address) - address),
                 address, found);
        *value = xstrdup(mapped);
    } else if (k == 2 && nkeys == 3) {
        /* user@domain matched user+ext@domain: the extension goes on to the targets */
        *value = propagate(found, address_extension(a.local, v->delimiters));
    } else {
        *value = xstrdup(found);
    }
    return 1;
}

static int expand(struct valias *v, const char *address, int depth, struct expansion *x)
{
    if (depth > VALIAS_DEPTH_MAX) {
        snprintf(x->err, x->errlen, "virtual alias nesting deeper than %d at <%s>",
                 VALIAS_DEPTH_MAX, address);
        return -1;
    }
    char *value = NULL;
    int rc = lookup(v, address, &value, x->err, x->errlen);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return add_result(x, address);
    int result = 0;
    for (char *save = NULL, *item = strtok_r(value, LIST_SEPARATORS, &save); item && !result;
         item = strtok_r(NULL, LIST_SEPARATORS, &save)) {
        if (strlen(item) >= DELIVERY_ADDR_MAX) {
            snprintf(x->err, x->errlen, "virtual alias of <%s>: address too long", address);
            result = -1;
        } else if (strcasecmp(item, address) == 0) {
            result = add_result(x, item);   /* maps to itself: deliver here too */
        } else {
            result = expand(v, item, depth + 1, x);
        }
    }
    free(value);
    return result;
}

int valias_expand(struct valias *v, const char *address, char ***out, size_t *n, char *err,
                  size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (table_list_count(v->maps) == 0)
        return 0;
    char *value = NULL;
    int rc = lookup(v, address, &value, err, errlen);
    free(value);
    if (rc <= 0)
        return rc;
    struct expansion x = { NULL, 0, err, errlen };
    if (expand(v, address, 0, &x) < 0) {
        valias_free_list(x.list, x.n);
        return -1;
    }
    if (x.n == 1 && strcasecmp(x.list[0], address) == 0) {
        valias_free_list(x.list, x.n);
        return 0;   /* an alias to itself changes nothing */
    }
    *out = x.list;
    *n = x.n;
    return 1;
}

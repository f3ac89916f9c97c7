/* lists.c: reading tern.conf list parameters (domain lists and lists of tables) and matching
 * domains and keys against them, shared by smtpd's recipient policy and the queue manager's
 * resolver (see lists.h). */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "dict.h"
#include "lists.h"
#include "mem.h"

#define DOMAIN_MAX 255

struct domain_item {
    bool negate;               /* !item: a match means "not in the list" */
    char *pattern;             /* lower case; ".example.com" for subdomains; NULL for a table */
    struct dict *table;        /* looked up by domain, then by ".parent" for each parent */
};

struct domain_list {
    struct domain_item *items;
    size_t count;
};

struct table_list {
    struct dict **tables;
    size_t count;
};

/* ---- reading ---- */

void list_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* Doubles an array's room whenever count reaches a power of two. */
static void *grow(void *array, size_t count, size_t size)
{
    if (count == 0 || (count & (count - 1)) == 0)
        array = xrealloc(array, (count ? count * 2 : 1) * size);
    return array;
}

/* Cuts the next item off *sp (malloc'd), or NULL at the end: items are separated by commas and
 * white space, except inside braces (inline:{a=b, c=d}); dict_open reports unbalanced ones. */
static char *next_item(const char **sp)
{
    const char *s = *sp + strspn(*sp, LIST_SEPARATORS), *e = s;
    if (*s == '\0')
        return NULL;
    int depth = 0;
    for (; *e && (depth > 0 || !strchr(LIST_SEPARATORS, *e)); e++) {
        if (*e == '{')
            depth++;
        else if (*e == '}' && depth > 0)
            depth--;
    }
    *sp = e;
    return xstrndup(s, (size_t)(e - s));
}

int list_read(const char *param, int (*add)(void *arg, char *item, char *err, size_t errlen),
              void *arg, char *err, size_t errlen)
{
    char *copy = xstrdup(config_str(param)), *item, why[ERR_TEXT_MAX];
    const char *s = copy;
    size_t count = 0;
    int rc = 0;
    while (rc == 0 && (item = next_item(&s)) != NULL) {
        if (++count > LIST_MAX) {
            snprintf(why, sizeof why, "more than %d items", LIST_MAX);
            rc = -1;
        } else {
            rc = add(arg, item, why, sizeof why);
        }
        free(item);
    }
    free(copy);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", param, why);
    return rc;
}

static bool is_table(const char *item)
{
    return item[0] != '[' && strchr(item, ':') != NULL;
}

static int add_domain(void *list, char *item, char *err, size_t errlen)
{
    struct domain_list *l = list;
    struct domain_item d = { .negate = item[0] == '!' };
    char *s = item + d.negate;
    if (is_table(s)) {
        if (!(d.table = dict_open(s, err, errlen)))
            return -1;
    } else if (s[0] == '/') {
        snprintf(err, errlen, "%s: file names are not supported here (use texthash:%s)",
                 s, s);
        return -1;
    } else {
        size_t n = strlen(s);
        if (n > 1 && s[n - 1] == '.')
            s[--n] = '\0';
        if (n == 0 || n > DOMAIN_MAX + 1) {
            snprintf(err, errlen, "\"%.64s\": not a domain name", s);
            return -1;
        }
        list_lower(s);
        d.pattern = xstrdup(s);
    }
    l->items = grow(l->items, l->count, sizeof *l->items);
    l->items[l->count++] = d;
    return 0;
}

static int add_table(void *list, char *item, char *err, size_t errlen)
{
    struct table_list *m = list;
    struct dict *d;
    if (!is_table(item)) {
        snprintf(err, errlen, "\"%.64s\": not a table (expected type:name)", item);
        return -1;
    }
    if (!(d = dict_open(item, err, errlen)))
        return -1;
    m->tables = grow(m->tables, m->count, sizeof *m->tables);
    m->tables[m->count++] = d;
    return 0;
}

int domain_list_read(const char *param, struct domain_list **out, char *err, size_t errlen)
{
    struct domain_list *l = xcalloc(1, sizeof *l);
    if (list_read(param, add_domain, l, err, errlen) < 0) {
        domain_list_free(l);
        l = NULL;
    }
    *out = l;
    return l ? 0 : -1;
}

int table_list_read(const char *param, struct table_list **out, char *err, size_t errlen)
{
    struct table_list *m = xcalloc(1, sizeof *m);
    if (list_read(param, add_table, m, err, errlen) < 0) {
        table_list_free(m);
        m = NULL;
    }
    *out = m;
    return m ? 0 : -1;
}

void domain_list_free(struct domain_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].pattern);
        dict_close(l->items[i].table);
    }
    free(l->items);
    free(l);
}

void table_list_free(struct table_list *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->count; i++)
        dict_close(m->tables[i]);
    free(m->tables);
    free(m);
}

bool table_list_live(const struct table_list *m)
{
    for (size_t i = 0; m && i < m->count; i++)
        if (strncmp(dict_spec(m->tables[i]), "texthash:", 9) == 0)
            return false;
    return true;
}

void table_list_recheck(struct table_list *m)
{
    for (size_t i = 0; m && i < m->count; i++)
        dict_recheck(m->tables[i]);
}

size_t table_list_count(const struct table_list *m)
{
    return m ? m->count : 0;
}

/* ---- lookups ---- */

/* One table lookup: 1 found (*value set when value is not NULL), 0 not, -1 with err. */
static int lookup(struct dict *d, const char *key, const char **value, char *err, size_t errlen)
{
    const char *v;
    int rc = dict_lookup(d, key, &v, err, errlen);
    if (rc > 0 && value)
        *value = v;
    return rc;
}

int table_list_find(const struct table_list *m, const char *key, const char **value, char *err,
                    size_t errlen)
{
    for (size_t i = 0; m && i < m->count; i++) {
        int rc = lookup(m->tables[i], key, value, err, errlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* A table in a domain list holds the domain itself, or ".parent" for all its subdomains. */
static int table_has_domain(struct dict *d, const char *domain, char *err, size_t errlen)
{
    int rc = lookup(d, domain, NULL, err, errlen);
    for (const char *dot = strchr(domain, '.'); rc == 0 && dot && dot[1];
         dot = strchr(dot + 1, '.'))
        rc = lookup(d, dot, NULL, err, errlen);
    return rc;
}

static bool pattern_matches(const char *pattern, const char *domain)
{
    if (pattern[0] != '.')
        return strcmp(pattern, domain) == 0;
    size_t pn = strlen(pattern), dn = strlen(domain);
    return dn > pn && strcmp(domain + dn - pn, pattern) == 0;
}

int domain_list_match(const struct domain_list *l, const char *domain, char *err, size_t errlen)
{
    for (size_t i = 0; l && i < l->count; i++) {
        const struct domain_item *d = &l->items[i];
        int rc = d->table ? table_has_domain(d->table, domain, err, errlen)
                          : pattern_matches(d->pattern, domain);
        if (rc != 0)
            return rc < 0 ? -1 : !d->negate;
    }
    return 0;
}

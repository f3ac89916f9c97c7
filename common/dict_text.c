/* dict_text.c: the tables that live in memory: texthash: (a text source read once at open, so
 * unlike hash: it is not re-read when the file changes), inline:{k=v, ...} and static:value.
 * Entries sit in a small open-addressing hash table; lookups never allocate. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dict_impl.h"
#include "log.h"
#include "mem.h"
#include "safefile.h"

struct entry {
    char *key;     /* NULL: empty slot */
    char *value;
};

struct table {
    struct entry *slots;
    size_t cap;    /* a power of two, kept at least twice count so probes stay short */
    size_t count;
};

struct dict_mem {
    struct dict base;
    struct table t;
};

struct dict_static {
    struct dict base;
    char *value;
};

static size_t hash_key(const char *s)
{
    uint64_t h = 14695981039346656037ULL;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

static struct entry *table_slot(const struct table *t, const char *key)
{
    size_t i = hash_key(key) & (t->cap - 1);
    while (t->slots[i].key && strcmp(t->slots[i].key, key) != 0)
        i = (i + 1) & (t->cap - 1);
    return &t->slots[i];
}

static void table_init(struct table *t)
{
    t->cap = 16;
    t->count = 0;
    t->slots = xcalloc(t->cap, sizeof *t->slots);
}

static void table_grow(struct table *t)
{
    struct table bigger = { xcalloc(t->cap * 2, sizeof *t->slots), t->cap * 2, t->count };
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].key)
            *table_slot(&bigger, t->slots[i].key) = t->slots[i];
    free(t->slots);
    *t = bigger;
}

/* Keeps the first entry of a key, as Postfix does; returns false for a duplicate. */
static bool table_add(struct table *t, const char *key, const char *value)
{
    if ((t->count + 1) * 2 > t->cap)
        table_grow(t);
    struct entry *e = table_slot(t, key);
    if (e->key)
        return false;
    e->key = xstrdup(key);
    e->value = xstrdup(value);
    t->count++;
    return true;
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        free(t->slots[i].key);
        free(t->slots[i].value);
    }
    free(t->slots);
}

static int mem_lookup(struct dict *d, const char *key, const char **value, char *err, size_t errlen)
{
    struct entry *e = table_slot(&((struct dict_mem *)d)->t, key);
    if (!e->key)
        return 0;
    *value = e->value;
    return 1;
}

static void mem_release(struct dict *d)
{
    table_free(&((struct dict_mem *)d)->t);
}

static struct dict_mem *mem_new(const char *spec)
{
    struct dict_mem *m = xmalloc(sizeof *m);
    dict_base_init(&m->base, spec, mem_lookup, mem_release);
    table_init(&m->t);
    return m;
}

/* ---- texthash: ---- */

/* In slot order; the entries stay put while cb runs (lookups do not move them). */
static int texthash_walk(struct dict *d, int (*cb)(const char *key, const char *value, void *arg),
                         void *arg, char *err, size_t errlen)
{
    const struct table *t = &((struct dict_mem *)d)->t;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].key)
            continue;
        int rc = cb(t->slots[i].key, t->slots[i].value, arg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

struct texthash_load {
    struct table *t;
    const char *path;
    struct buf key;
};

static int texthash_add(const char *key, const char *value, long line, void *arg)
{
    struct texthash_load *l = arg;
    buf_set(&l->key, key);   /* the parser bounds keys to a line */
    dict_fold(l->key.data);
    if (!table_add(l->t, l->key.data, value))
        log_warn("%s:%ld: duplicate entry \"%s\" ignored", l->path, line, l->key.data);
    return 0;
}

struct dict *dict_texthash_open(const char *spec, const char *path, char *err, size_t errlen)
{
    struct buf text;
    buf_init(&text, DICT_SOURCE_MAX);
    if (safe_read_file(path, DICT_SOURCE_MAX, &text) < 0) {
        snprintf(err, errlen, "%s: cannot read %s: %s", spec, path, dict_read_reason(path, errno));
        buf_free(&text);
        return NULL;
    }
    struct dict_mem *m = mem_new(spec);
    m->base.walk = texthash_walk;
    struct texthash_load l = { &m->t, path, { 0 } };
    char perr[ERR_TEXT_MAX];
    buf_init(&l.key, DICT_LINE_MAX);
    int rc = dict_parse_lines(path, text.data, text.len, DICT_FORMAT_MAP, texthash_add, &l,
                              perr, sizeof perr);
    buf_free(&l.key);
    buf_free(&text);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", spec, perr);
        dict_close(&m->base);
        return NULL;
    }
    return &m->base;
}

/* ---- inline:{ key=value, { key = value with spaces, or commas }, key={value} } ---- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static char *trim(char *s)
{
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* "{ text }" -> "text"; anything else unchanged. */
static char *strip_braces(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '{' && s[n - 1] == '}') {
        s[n - 1] = '\0';
        return trim(s + 1);
    }
    return s;
}

/* Cuts the next item off *sp into *item: items are separated by commas or white space outside
 * braces. Returns 1 with an item, 0 at the end, -1 with err on unbalanced braces. */
static int next_item(char **sp, char **item, const char *spec, char *err, size_t errlen)
{
    char *s = *sp + strspn(*sp, ", \t\r\n\f\v");
    if (*s == '\0')
        return 0;
    char *e = s;
    int depth = 0;
    for (; *e && (depth > 0 || (*e != ',' && !is_space(*e))); e++) {
        if (*e == '{')
            depth++;
        else if (*e == '}' && --depth < 0)
            break;
    }
    if (depth != 0) {
        snprintf(err, errlen, "%s: %s", spec, depth > 0 ? "missing \"}\"" : "unbalanced \"}\"");
        return -1;
    }
    if (*e)
        *e++ = '\0';
    *sp = e;
    *item = s;
    return 1;
}

static int inline_item(struct table *t, char *item, const char *spec, char *err, size_t errlen)
{
    if (item[0] == '{') {
        size_t n = strlen(item);
        if (item[n - 1] != '}') {
            snprintf(err, errlen, "%s: text after \"}\" in \"%s\"", spec, item);
            return -1;
        }
        item = strip_braces(item);
    }
    char *eq = strchr(item, '=');
    if (!eq) {
        snprintf(err, errlen, "%s: missing \"=\" in \"%s\"", spec, item);
        return -1;
    }
    *eq = '\0';
    char *key = trim(item), *value = strip_braces(trim(eq + 1));
    if (*key == '\0' || *value == '\0') {
        snprintf(err, errlen, "%s: %s in \"%s=\"", spec, *key ? "missing value" : "missing key",
                 key);
        return -1;
    }
    dict_fold(key);
    if (!table_add(t, key, value))
        log_warn("%s: duplicate entry \"%s\" ignored", spec, key);
    return 0;
}

struct dict *dict_inline_open(const char *spec, const char *body, char *err, size_t errlen)
{
    char *copy = xstrdup(body), *s = trim(copy);
    size_t n = strlen(s);
    if (n < 2 || s[0] != '{' || s[n - 1] != '}') {
        snprintf(err, errlen, "%s: expected inline:{ key=value, ... }", spec);
        free(copy);
        return NULL;
    }
    s[n - 1] = '\0';
    s++;
    struct dict_mem *m = mem_new(spec);
    char *item;
    int rc;
    while ((rc = next_item(&s, &item, spec, err, errlen)) > 0)
        if ((rc = inline_item(&m->t, item, spec, err, errlen)) < 0)
            break;
    free(copy);
    if (rc < 0) {
        dict_close(&m->base);
        return NULL;
    }
    return &m->base;
}

/* ---- static:value (static:{ value with spaces } as in Postfix) ---- */

static int static_lookup(struct dict *d, const char *key, const char **value, char *err,
                         size_t errlen)
{
    *value = ((struct dict_static *)d)->value;
    return 1;
}

static void static_release(struct dict *d)
{
    free(((struct dict_static *)d)->value);
}

struct dict *dict_static_open(const char *spec, const char *value, char *err, size_t errlen)
{
    struct dict_static *s = xmalloc(sizeof *s);
    dict_base_init(&s->base, spec, static_lookup, static_release);
    s->base.any_key = true;
    char *copy = xstrdup(value);
    s->value = xstrdup(strip_braces(copy));
    free(copy);
    return &s->base;
}

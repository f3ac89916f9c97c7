/* dict.c: lookup tables named `type:name` (see dict.h): the dispatch on the type, key folding,
 * and the parser of the text sources shared by dict_build (hash:, btree:) and texthash:.
 * The parser is pure so the tests (and fuzzers) can feed it buffers directly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dict.h"
#include "dict_impl.h"
#include "mem.h"

enum dict_type { T_HASH, T_BTREE, T_TEXTHASH, T_INLINE, T_STATIC, T_UNIX, T_UNKNOWN };

static const struct { const char *name; enum dict_type type; } dict_types[] = {
    { "hash", T_HASH }, { "btree", T_BTREE }, { "texthash", T_TEXTHASH },
    { "inline", T_INLINE }, { "static", T_STATIC }, { "unix", T_UNIX },
};

/* Only ASCII: tolower() would depend on the locale, and Postfix folds bytes the same way. */
void dict_fold(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

void dict_base_init(struct dict *d, const char *spec,
                    int (*lookup)(struct dict *, const char *, const char **, char *, size_t),
                    void (*release)(struct dict *))
{
    d->spec = xstrdup(spec);
    buf_init(&d->key, DICT_LINE_MAX);
    d->lookup = lookup;
    d->release = release;
    d->walk = NULL;
    d->any_key = false;
    d->recheck = NULL;
}

void dict_recheck(struct dict *d)
{
    if (d->recheck)
        d->recheck(d);
}

const char *dict_read_reason(const char *path, int errnum)
{
    static _Thread_local char why[128];
    struct stat st;
    switch (errnum) {
    case ELOOP:
        if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
            return "it is a symbolic link (refused: a table source must be a regular file; "
                   "name the file the link points to)";
        break;
    case EINVAL:
        return "not a regular file";
    case EMLINK:
        return "it has more than one hard link (refused)";
    case EFBIG:
        snprintf(why, sizeof why, "larger than %ld bytes", (long)DICT_SOURCE_MAX);
        return why;
    default:
        break;
    }
    return strerror(errnum);
}

/* Splits `type:name`; returns the type, with *name pointing into spec (NULL without a colon). */
static enum dict_type split_spec(const char *spec, const char **name, char type[32])
{
    const char *colon = strchr(spec, ':');
    *name = NULL;
    type[0] = '\0';
    if (!colon)
        return T_UNKNOWN;
    *name = colon + 1;
    snprintf(type, 32, "%.*s", (int)(colon - spec < 31 ? colon - spec : 31), spec);
    for (size_t i = 0; i < sizeof dict_types / sizeof dict_types[0]; i++)
        if (strlen(dict_types[i].name) == (size_t)(colon - spec)
            && memcmp(dict_types[i].name, spec, (size_t)(colon - spec)) == 0)
            return dict_types[i].type;
    return T_UNKNOWN;
}

/* The common checks of dict_open and dict_build; returns T_UNKNOWN with err set on failure. */
static enum dict_type check_spec(const char *spec, const char **name, char type[32],
                                 char *err, size_t errlen)
{
    enum dict_type t = split_spec(spec, name, type);
    if (!*name) {
        snprintf(err, errlen, "%s: missing table type (expected type:name)", spec);
        return T_UNKNOWN;
    }
    if (t == T_UNKNOWN) {
        snprintf(err, errlen, "%s: unsupported table type \"%s\"", spec, type);
        return T_UNKNOWN;
    }
    if ((t == T_HASH || t == T_BTREE || t == T_TEXTHASH) && **name == '\0') {
        snprintf(err, errlen, "%s: missing file name", spec);
        return T_UNKNOWN;
    }
    return t;
}

struct dict *dict_open(const char *spec, char *err, size_t errlen)
{
    const char *name;
    char type[32];
    switch (check_spec(spec, &name, type, err, errlen)) {
    case T_HASH: return dict_db_open(spec, name, false, err, errlen);
    case T_BTREE: return dict_db_open(spec, name, true, err, errlen);
    case T_TEXTHASH: return dict_texthash_open(spec, name, err, errlen);
    case T_INLINE: return dict_inline_open(spec, name, err, errlen);
    case T_STATIC: return dict_static_open(spec, name, err, errlen);
    case T_UNIX: return dict_unix_open(spec, name, err, errlen);
    case T_UNKNOWN: break;
    }
    return NULL;
}

int dict_lookup(struct dict *d, const char *key, const char **value, char *err, size_t errlen)
{
    /* Source lines are bounded, so a longer key cannot be in a file-based table. */
    if (buf_set(&d->key, key) < 0) {
        if (!d->any_key)
            return 0;
        buf_reset(&d->key);
    }
    dict_fold(d->key.data);
    return d->lookup(d, d->key.data, value, err, errlen);
}

struct walk_filter {
    int (*cb)(const char *key, const char *value, void *arg);
    void *arg;
};

/* Markers, not entries: Sendmail-style readers take "@" as "the alias database is complete";
 * NIS-minded builders add the YP_ pair (upper case, so never a key a lookup could reach). */
static int walk_skip_markers(const char *key, const char *value, void *arg)
{
    struct walk_filter *f = arg;
    if ((strcmp(key, "@") == 0 && strcmp(value, "@") == 0)
        || strcmp(key, "YP_LAST_MODIFIED") == 0 || strcmp(key, "YP_MASTER_NAME") == 0)
        return 0;
    return f->cb(key, value, f->arg);
}

int dict_walk(struct dict *d, int (*cb)(const char *key, const char *value, void *arg), void *arg,
              char *err, size_t errlen)
{
    if (!d->walk) {
        snprintf(err, errlen, "%s: a table of this type cannot be listed", d->spec);
        return -1;
    }
    struct walk_filter f = { cb, arg };
    return d->walk(d, walk_skip_markers, &f, err, errlen);
}

const char *dict_spec(const struct dict *d)
{
    return d->spec;
}

void dict_close(struct dict *d)
{
    if (!d)
        return;
    d->release(d);
    free(d->spec);
    buf_free(&d->key);
    free(d);
}

long dict_build_why(const char *spec, enum dict_format format, enum dict_build_error *why,
                    char *err, size_t errlen)
{
    enum dict_build_error ignored;
    if (!why)
        why = &ignored;
    const char *name;
    char type[32];
    enum dict_type t = check_spec(spec, &name, type, err, errlen);
    *why = DICT_BUILD_ERR_SPEC;
    if (t == T_UNKNOWN)
        return -1;
    if (t != T_HASH && t != T_BTREE) {
        snprintf(err, errlen, "%s: table type \"%s\" is not built from a file", spec, type);
        return -1;
    }
    return dict_db_build(spec, name, t == T_BTREE, format, why, err, errlen);
}

long dict_build(const char *spec, enum dict_format format, char *err, size_t errlen)
{
    return dict_build_why(spec, format, NULL, err, errlen);
}

bool dict_type_is_built(const char *spec)
{
    const char *name;
    char type[32];
    enum dict_type t = split_spec(spec, &name, type);
    return t == T_HASH || t == T_BTREE;
}

/* ---- text source parser ---- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static char *skip_space(char *s)
{
    while (is_space(*s))
        s++;
    return s;
}

struct parse {
    const char *name;
    enum dict_format format;
    int (*cb)(const char *key, const char *value, long line, void *arg);
    void *arg;
    char *err;
    size_t errlen;
    struct buf entry;   /* the logical line: first line plus its continuations */
    long entry_line;    /* 0 when no entry is open */
};

/* Unquotes a "quoted" alias name in place; returns the byte after the closing quote or NULL. */
static char *unquote(char *s)
{
    char *out = s;
    for (char *in = s + 1; *in; in++) {
        if (*in == '"') {
            *out = '\0';
            return in + 1;
        }
        if (*in == '\\' && in[1])
            in++;
        *out++ = *in;
    }
    return NULL;
}

/* Alias names end at ':' (or white space before it); quoting lets a name hold those. */
static int split_alias(struct parse *p, char *s, char **value)
{
    char *rest;
    if (*s == '"') {
        rest = unquote(s);
        if (!rest) {
            snprintf(p->err, p->errlen, "%s:%ld: unterminated quoted name", p->name, p->entry_line);
            return -1;
        }
    } else {
        rest = s + strcspn(s, ": \t\r\n\f\v");
    }
    char *colon = skip_space(rest);
    if (*colon != ':') {
        *rest = '\0';
        snprintf(p->err, p->errlen, "%s:%ld: missing \":\" after name \"%s\"", p->name,
                 p->entry_line, s);
        return -1;
    }
    *rest = '\0';
    if (*s == '\0') {
        snprintf(p->err, p->errlen, "%s:%ld: empty name", p->name, p->entry_line);
        return -1;
    }
    *value = skip_space(colon + 1);
    return 0;
}

/* Postfix's postmap skips a key without a value with a warning; the parser is pure, and a line
 * silently dropped from a routing table is worse than a build that stops (the old .db stays in
 * place), so it is an error here, as it is in alias format. */
static int flush_entry(struct parse *p)
{
    if (!p->entry_line)
        return 0;
    char *key = p->entry.data, *value;
    if (p->format == DICT_FORMAT_ALIAS) {
        if (split_alias(p, key, &value) < 0)
            return -1;
    } else {
        value = key + strcspn(key, " \t\r\n\f\v");
        if (*value)
            *value++ = '\0';
        value = skip_space(value);
    }
    /* A quoted alias name can run onto continuation lines; keys stay within one line's bound. */
    if (strlen(key) > DICT_LINE_MAX) {
        snprintf(p->err, p->errlen, "%s:%ld: name longer than %d bytes", p->name, p->entry_line,
                  DICT_LINE_MAX);
        return -1;
    }
    if (*value == '\0') {
        snprintf(p->err, p->errlen, "%s:%ld: %s \"%s\" has no value", p->name, p->entry_line,
                  p->format == DICT_FORMAT_ALIAS ? "name" : "key", key);
        return -1;
    }
    if (strlen(value) > DICT_VALUE_MAX) {
        snprintf(p->err, p->errlen, "%s:%ld: value longer than %d bytes", p->name, p->entry_line,
                  DICT_VALUE_MAX);
        return -1;
    }
    long line = p->entry_line;
    p->entry_line = 0;
    return p->cb(key, value, line, p->arg);
}

/* One physical line, trailing white space already cut. */
static int parse_line(struct parse *p, const char *line, size_t n, long lineno)
{
    size_t i = 0;
    while (i < n && is_space(line[i]))
        i++;
    if (i == n || line[i] == '#')
        return 0;   /* blank and comment lines neither start nor end an entry */
    if (i > 0) {
        if (!p->entry_line) {
            snprintf(p->err, p->errlen, "%s:%ld: continuation line without an entry before it",
                      p->name, lineno);
            return -1;
        }
        if (buf_putc(&p->entry, ' ') < 0 || buf_append(&p->entry, line + i, n - i) < 0) {
            snprintf(p->err, p->errlen, "%s:%ld: value longer than %d bytes", p->name,
                     p->entry_line, DICT_VALUE_MAX);
            return -1;
        }
        return 0;
    }
    if (flush_entry(p) < 0)
        return -1;
    buf_reset(&p->entry);
    buf_append(&p->entry, line, n);   /* n <= DICT_LINE_MAX fits */
    p->entry_line = lineno;
    return 0;
}

int dict_parse_lines(const char *name, const char *text, size_t len, enum dict_format format,
                     int (*cb)(const char *key, const char *value, long line, void *arg),
                     void *arg, char *err, size_t errlen)
{
    struct parse p = { name, format, cb, arg, err, errlen, { 0 }, 0 };
    /* Room for a whole first line, the joining spaces and a value of DICT_VALUE_MAX. */
    buf_init(&p.entry, DICT_LINE_MAX + DICT_VALUE_MAX + 2);
    const char *s = text, *end = text + len;
    long lineno = 0;
    int rc = 0;
    while (rc == 0 && s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        lineno++;
        if (n > DICT_LINE_MAX) {
            snprintf(err, errlen, "%s:%ld: line longer than %d bytes", name, lineno, DICT_LINE_MAX);
            rc = -1;
        } else if (memchr(s, '\0', n)) {
            snprintf(err, errlen, "%s:%ld: NUL byte in line", name, lineno);
            rc = -1;
        } else {
            size_t t = n;
            while (t > 0 && is_space(s[t - 1]))
                t--;
            rc = parse_line(&p, s, t, lineno);
        }
        s = nl ? nl + 1 : end;
    }
    if (rc == 0)
        rc = flush_entry(&p);
    buf_free(&p.entry);
    return rc;
}

struct parse_shim {
    int (*cb)(const char *key, const char *value, void *arg);
    void *arg;
};

static int shim_cb(const char *key, const char *value, long line, void *arg)
{
    struct parse_shim *s = arg;
    return s->cb(key, value, s->arg);
}

int dict_parse_text(const char *name, const char *text, size_t len, enum dict_format format,
                    int (*cb)(const char *key, const char *value, void *arg), void *arg,
                    char *err, size_t errlen)
{
    struct parse_shim s = { cb, arg };
    return dict_parse_lines(name, text, len, format, shim_cb, &s, err, errlen);
}

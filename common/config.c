/* config.c: tern.conf in Postfix main.cf syntax, checked against the typed table of params.def.
 * Values are stored raw and expanded when read; every value is also expanded and type-checked
 * at load time, so a configuration that loads never fails later (see validate()). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "config.h"
#include "config_impl.h"
#include "log.h"
#include "mem.h"
#include "safefile.h"

#ifndef TERN_CONFIG_DIR
#define TERN_CONFIG_DIR "/etc/tern"
#endif

#define CONFIG_LINE_MAX (64 * 1024)       /* bytes of one line, and of one joined definition */
#define VALUE_MAX (1024 * 1024)           /* bytes of one expanded value */
#define EXPAND_DEPTH_MAX 20               /* nested $name levels; more is almost surely a loop */
#define EXPAND_REFS_MAX 100000            /* $name references in one expansion (fan-out bound) */
#define OVERRIDES_MAX 1000

const struct param_def param_table[] = {
#define PARAM(n, t, d, h) { n, t, d, h },
#define CHOICES(n, c)
#include "params.def"
#undef PARAM
#undef CHOICES
    { NULL, PARAM_STRING, NULL, NULL },
};

/* A name with its value: a file definition (line > 0), an override (line 0), or a cached
 * expansion. */
struct setting {
    char *name;
    char *value;
    int line;
};

struct settings {
    struct setting *v;
    size_t n, cap;
};

struct conf {
    struct settings file;   /* in the order of each name's last definition, so by line */
    char *path;             /* file name for messages */
    char *dir;              /* directory loaded, NULL after config_load_text */
};

/* Where values come from: a parsed file and overrides, either of which may be absent. With
 * both absent only the defaults of the table are seen (ternconf -d). */
struct source {
    const struct conf *conf;
    const struct settings *over;
};

static struct conf current;
static struct settings overrides;
static struct settings cache;      /* expanded values handed out by config_str */
static struct settings retired;    /* cached values replaced by an override, kept until load */

/* ---- settings lists ---- */

static const struct setting *settings_get(const struct settings *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

static void settings_append(struct settings *s, char *name, char *value, int line)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = (struct setting){ name, value, line };
}

static void settings_remove(struct settings *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].name, name) == 0) {
            free(s->v[i].name);
            free(s->v[i].value);
            memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
            s->n--;
            return;
        }
    }
}

/* The last definition wins and moves to the end, so the list stays in line order. */
static void settings_put(struct settings *s, const char *name, const char *value, int line)
{
    settings_remove(s, name);
    settings_append(s, xstrdup(name), xstrdup(value), line);
}

static void settings_free(struct settings *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].name);
        free(s->v[i].value);
    }
    free(s->v);
    *s = (struct settings){ 0 };
}

static void conf_free(struct conf *c)
{
    settings_free(&c->file);
    free(c->path);
    free(c->dir);
    *c = (struct conf){ 0 };
}

/* Cached expansions may still be in use by callers after an override, so they are only moved
 * aside; a load frees them (config_str's pointers live until the next config_load). */
static void cache_retire(void)
{
    for (size_t i = 0; i < cache.n; i++)
        settings_append(&retired, cache.v[i].name, cache.v[i].value, 0);
    cache.n = 0;
}

static void cache_clear(void)
{
    settings_free(&cache);
    settings_free(&retired);
}

/* ---- names and the table ---- */

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static size_t name_span(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && is_name_char(s[n]))
        n++;
    return n;
}

bool config_valid_name(const char *s, size_t len)
{
    return len > 0 && name_span(s, len) == len;
}

const struct param_def *param_find(const char *name)
{
    for (const struct param_def *p = param_table; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

static const char *raw_value(const struct source *src, const char *name, bool *explicit_setting)
{
    const struct setting *s;
    if (explicit_setting)
        *explicit_setting = false;
    if (src->over && (s = settings_get(src->over, name)) != NULL) {
        if (explicit_setting)
            *explicit_setting = true;
        return s->value;
    }
    if (src->conf && src->conf->dir && strcmp(name, "config_directory") == 0)
        return src->conf->dir;
    if (src->conf && (s = settings_get(&src->conf->file, name)) != NULL) {
        if (explicit_setting)
            *explicit_setting = true;
        return s->value;
    }
    const struct param_def *p = param_find(name);
    return p ? p->default_value : NULL;
}

/* ---- expansion ---- */

struct expander {
    const struct source *src;
    bool strict;        /* a malformed $ reference is an error (load checks); else copied as is */
    long refs;
    char why[256];      /* the reason, after a failure */
};

static int expand_text(struct expander *x, const char *s, size_t len, int depth, struct buf *out);

static int expand_fail(struct expander *x, const char *why)
{
    snprintf(x->why, sizeof x->why, "%s", why);
    return -1;
}

static int put(struct expander *x, struct buf *out, const char *p, size_t n)
{
    if (buf_append(out, p, n) < 0) {
        snprintf(x->why, sizeof x->why, "expanded value longer than %d bytes", VALUE_MAX);
        return -1;
    }
    return 0;
}

/* An empty myhostname means the system's host name, wherever it is used. */
static int put_hostname(struct expander *x, struct buf *out)
{
    char host[256];
    if (gethostname(host, sizeof host) < 0 || host[0] == '\0')
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    return put(x, out, host, strlen(host));
}

static int expand_name(struct expander *x, const char *name, size_t nlen, int depth,
                       struct buf *out)
{
    if (++x->refs > EXPAND_REFS_MAX) {
        snprintf(x->why, sizeof x->why, "more than %d $name references", EXPAND_REFS_MAX);
        return -1;
    }
    if (depth > EXPAND_DEPTH_MAX) {
        snprintf(x->why, sizeof x->why, "more than %d levels of $name expansion (a loop?)",
                 EXPAND_DEPTH_MAX);
        return -1;
    }
    char *n = xstrndup(name, nlen);
    const char *raw = raw_value(x->src, n, NULL);
    size_t start = out->len;
    int r = raw ? expand_text(x, raw, strlen(raw), depth + 1, out) : 0;
    if (r == 0 && out->len == start && strcmp(n, "myhostname") == 0)
        r = put_hostname(x, out);
    free(n);
    return r;
}

/* A malformed reference: an error for load checks, literal text elsewhere. */
static int bad_reference(struct expander *x, const char *why, struct buf *out, size_t *used)
{
    if (x->strict)
        return expand_fail(x, why);
    *used = 1;
    return put(x, out, "$", 1);
}

/* p points at "${" or "$(": ${name}, ${name?text} (text if name is non-empty) and
 * ${name:text} (text if name is empty); text may itself hold references. */
static int expand_braced(struct expander *x, const char *p, size_t len, int depth,
                         struct buf *out, size_t *used)
{
    char open = p[1], close = open == '{' ? '}' : ')';
    size_t end = 2;
    for (int nest = 1; end < len; end++) {
        if (p[end] == open)
            nest++;
        else if (p[end] == close && --nest == 0)
            break;
    }
    if (end >= len)
        return bad_reference(x, open == '{' ? "unbalanced \"{\"" : "unbalanced \"(\"", out, used);
    const char *inner = p + 2;
    size_t ilen = end - 2;
    size_t n = name_span(inner, ilen);
    if (n == 0)
        return bad_reference(x, "empty parameter name after \"$\"", out, used);
    *used = end + 1;
    if (n == ilen)
        return expand_name(x, inner, n, depth, out);
    char op = inner[n];
    if (op != '?' && op != ':')
        return bad_reference(x, "parameter name followed by a character other than ? or :",
                             out, used);
    size_t start = out->len;
    if (expand_name(x, inner, n, depth, out) < 0)
        return -1;
    bool non_empty = out->len > start;
    buf_truncate(out, start);
    if ((op == '?') != non_empty)
        return 0;
    return expand_text(x, inner + n + 1, ilen - n - 1, depth, out);
}

/* p points at a "$"; *used is set to the bytes consumed. */
static int expand_reference(struct expander *x, const char *p, size_t len, int depth,
                            struct buf *out, size_t *used)
{
    if (len >= 2 && p[1] == '$') {
        *used = 2;
        return put(x, out, "$", 1);
    }
    if (len >= 2 && (p[1] == '{' || p[1] == '('))
        return expand_braced(x, p, len, depth, out, used);
    size_t n = name_span(p + 1, len - 1);
    if (n == 0)
        return bad_reference(x, "\"$\" not followed by a parameter name (write $$ for a $)",
                             out, used);
    *used = n + 1;
    return expand_name(x, p + 1, n, depth, out);
}

static int expand_text(struct expander *x, const char *s, size_t len, int depth, struct buf *out)
{
    size_t i = 0;
    while (i < len) {
        const char *dollar = memchr(s + i, '$', len - i);
        size_t lit = dollar ? (size_t)(dollar - (s + i)) : len - i;
        if (put(x, out, s + i, lit) < 0)
            return -1;
        i += lit;
        if (i == len)
            break;
        size_t used = 0;
        if (expand_reference(x, s + i, len - i, depth, out, &used) < 0)
            return -1;
        i += used;
    }
    return 0;
}

/* Expands the value of a name (known or set), as a whole value. */
static int expand_param(struct expander *x, const char *name, struct buf *out)
{
    buf_reset(out);
    return expand_name(x, name, strlen(name), 0, out);
}

/* ---- value types ---- */

struct unit {
    char suffix;
    long long factor;
};

static const struct unit time_units[] = {
    { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 }, { 0, 0 },
};
static const struct unit size_units[] = {
    { 'k', 1024LL }, { 'K', 1024LL }, { 'm', 1024LL * 1024 }, { 'M', 1024LL * 1024 },
    { 'g', 1024LL * 1024 * 1024 }, { 'G', 1024LL * 1024 * 1024 }, { 0, 0 },
};

/* A non-negative number with at most one unit suffix; no suffix means a factor of 1. */
static int parse_scaled(const char *s, const struct unit *units, long long *out)
{
    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno != 0)
        return -1;
    long long factor = 1;
    if (*end != '\0') {
        const struct unit *u = units;
        while (u->suffix && u->suffix != *end)
            u++;
        if (!u->suffix || end[1] != '\0')
            return -1;
        factor = u->factor;
    }
    if (v > LLONG_MAX / factor)
        return -1;
    *out = v * factor;
    return 0;
}

int config_parse_time(const char *s, long long *seconds)
{
    return parse_scaled(s, time_units, seconds);
}

int config_parse_size(const char *s, long long *bytes)
{
    return parse_scaled(s, size_units, bytes);
}

int config_parse_int(const char *s, long long *out)
{
    if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1])))
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

int config_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "yes", "true", "1" }, *const no[] = { "no", "false", "0" };
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *out = strcasecmp(s, yes[i]) == 0;
            return 0;
        }
    }
    return -1;
}

static const char *type_name(enum param_type t)
{
    switch (t) {
    case PARAM_INT: return "integer";
    case PARAM_BOOL: return "boolean";
    case PARAM_TIME: return "time";
    case PARAM_SIZE: return "size";
    default: return "string";
    }
}

static const struct { const char *name, *choices; } param_choices[] = {
#define PARAM(n, t, d, h)
#define CHOICES(n, c) { n, c },
#include "params.def"
#undef PARAM
#undef CHOICES
};

/* The allowed values of name, or NULL when any value of its type will do. */
static const char *choices_of(const char *name)
{
    for (size_t i = 0; i < sizeof param_choices / sizeof param_choices[0]; i++)
        if (strcmp(param_choices[i].name, name) == 0)
            return param_choices[i].choices;
    return NULL;
}

static bool is_choice(const char *choices, const char *value)
{
    size_t n = strlen(value);
    for (const char *p = choices; *p;) {
        size_t w = strcspn(p, " ");
        if (w == n && n > 0 && strncmp(p, value, n) == 0)
            return true;
        p += w + (p[w] == ' ');
    }
    return false;
}

static int check_type(enum param_type t, const char *value)
{
    long long n;
    bool b;
    switch (t) {
    case PARAM_INT: return config_parse_int(value, &n);
    case PARAM_BOOL: return config_parse_bool(value, &b);
    case PARAM_TIME: return config_parse_time(value, &n);
    case PARAM_SIZE: return config_parse_size(value, &n);
    default: return 0;
    }
}

/* ---- validation: every value expands and has its type ---- */

/* Checks one name's value as seen through src; prefix ("file:line: ") starts the message. */
static int check_param(const struct source *src, const char *name, const char *prefix,
                       char *err, size_t errlen)
{
    struct expander x = { src, true, 0, "" };
    struct buf v;
    buf_init(&v, VALUE_MAX);
    int r = expand_param(&x, name, &v);
    const struct param_def *p = param_find(name);
    if (r < 0)
        snprintf(err, errlen, "%scannot expand %s: %s", prefix, name, x.why);
    else if (p && check_type(p->type, buf_str(&v)) < 0) {
        snprintf(err, errlen, "%sbad %s value \"%.100s\" for %s", prefix,
                 type_name(p->type), buf_str(&v), name);
        r = -1;
    } else if (p && choices_of(name) && !is_choice(choices_of(name), buf_str(&v))) {
        snprintf(err, errlen, "%sbad value \"%.100s\" for %s: use one of %s", prefix,
                 buf_str(&v), name, choices_of(name));
        r = -1;
    }
    buf_free(&v);
    return r;
}

/* File definitions first (in line order, so the first bad line is reported), then overrides,
 * then the defaults, which can only fail through a name they refer to. After this succeeds
 * every name in the table and every name set expands without error, which is why reads may
 * treat an expansion failure as fatal. */
static int validate(const struct conf *c, const struct settings *over, char *err, size_t errlen)
{
    struct source src = { c, over };
    char prefix[ERR_TEXT_MAX];
    for (size_t i = 0; i < c->file.n; i++) {
        const struct setting *s = &c->file.v[i];
        if (over && settings_get(over, s->name))
            continue;
        snprintf(prefix, sizeof prefix, "%.256s:%d: ", c->path, s->line);
        if (check_param(&src, s->name, prefix, err, errlen) < 0)
            return -1;
    }
    for (size_t i = 0; over && i < over->n; i++) {
        snprintf(prefix, sizeof prefix, "override %.100s=%.100s: ", over->v[i].name,
                 over->v[i].value);
        if (check_param(&src, over->v[i].name, prefix, err, errlen) < 0)
            return -1;
    }
    snprintf(prefix, sizeof prefix, "%.256s: ", c->path ? c->path : "defaults");
    for (const struct param_def *p = param_table; p->name; p++) {
        if (settings_get(&c->file, p->name) || (over && settings_get(over, p->name)))
            continue;
        if (check_param(&src, p->name, prefix, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* ---- parsing ---- */

/* Splits `name = value` (whitespace around both trimmed) into the two parts. */
int config_split_assignment(const char *s, size_t len, char **name, char **value, char *err,
                            size_t errlen)
{
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    const char *eq = memchr(s, '=', len);
    if (eq == NULL) {
        snprintf(err, errlen, "missing \"=\" in \"%.60s\"", s);
        return -1;
    }
    const char *ne = eq;
    while (ne > s && isspace((unsigned char)ne[-1]))
        ne--;
    const char *ns = s;
    while (ns < ne && isspace((unsigned char)*ns))
        ns++;
    if (ns == ne) {
        snprintf(err, errlen, "missing parameter name before \"=\"");
        return -1;
    }
    if (!config_valid_name(ns, (size_t)(ne - ns))) {
        snprintf(err, errlen, "bad parameter name \"%.*s\" (use letters, digits and _)",
                 (int)(ne - ns > 60 ? 60 : ne - ns), ns);
        return -1;
    }
    const char *vs = eq + 1, *end = s + len;
    while (vs < end && isspace((unsigned char)*vs))
        vs++;
    *name = xstrndup(ns, (size_t)(ne - ns));
    *value = xstrndup(vs, (size_t)(end - vs));
    return 0;
}

struct parser {
    struct conf *conf;
    bool quiet;              /* no warnings: a check of an edited file, not a load */
    struct buf def;          /* the definition being joined from its lines */
    int def_line;            /* its first line, 0 when none */
    char *err;
    size_t errlen;
};

static int parse_error(struct parser *ps, int line, const char *why)
{
    snprintf(ps->err, ps->errlen, "%.256s:%d: %.200s", ps->conf->path, line, why);
    return -1;
}

static int finish_definition(struct parser *ps)
{
    if (ps->def_line == 0)
        return 0;
    char *name, *value, why[ERR_TEXT_MAX];
    int line = ps->def_line;
    ps->def_line = 0;
    if (config_split_assignment(buf_str(&ps->def), ps->def.len, &name, &value, why,
                                sizeof why) < 0)
        return parse_error(ps, line, why);
    if (strcmp(name, "config_directory") == 0) {
        if (!ps->quiet)
            log_warn("%s:%d: config_directory is set at run time; ignoring this setting",
                     ps->conf->path, line);
    } else {
        if (!param_find(name) && !ps->quiet)
            log_warn("%s:%d: unknown parameter \"%s\"", ps->conf->path, line, name);
        settings_put(&ps->conf->file, name, value, line);
    }
    free(name);
    free(value);
    return 0;
}

/* One physical line (without its newline). Comment and blank lines are skipped even between
 * a definition and its continuation lines, as in Postfix. */
static int parse_line(struct parser *ps, const char *p, size_t n, int lineno)
{
    if (n > CONFIG_LINE_MAX)
        return parse_error(ps, lineno, "line longer than 65536 bytes");
    size_t start = 0;
    while (start < n && isspace((unsigned char)p[start]))
        start++;
    if (start == n || p[start] == '#')
        return 0;
    while (n > start && isspace((unsigned char)p[n - 1]))
        n--;
    if (start > 0) {
        if (ps->def_line == 0)
            return parse_error(ps, lineno, "indented line without a parameter definition "
                                           "before it");
        if (buf_putc(&ps->def, ' ') < 0 || buf_append(&ps->def, p + start, n - start) < 0)
            return parse_error(ps, lineno, "definition longer than 65536 bytes");
        return 0;
    }
    if (finish_definition(ps) < 0)
        return -1;
    ps->def_line = lineno;
    buf_reset(&ps->def);
    buf_append(&ps->def, p, n);   /* fits: n <= CONFIG_LINE_MAX */
    return 0;
}

static int parse_text(struct conf *c, const char *text, size_t len, bool quiet,
                      char *err, size_t errlen)
{
    if (strlen(text) != len) {
        snprintf(err, errlen, "%.256s: the file contains a NUL byte", c->path);
        return -1;
    }
    struct parser ps = { c, quiet, { 0 }, 0, err, errlen };
    buf_init(&ps.def, CONFIG_LINE_MAX);
    int r = 0, lineno = 0;
    const char *p = text, *end = text + len;
    while (r == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        r = parse_line(&ps, p, n, ++lineno);
        p += n + (nl != NULL);
    }
    if (r == 0)
        r = finish_definition(&ps);
    buf_free(&ps.def);
    return r;
}

/* Parses and checks text as the file `path` of directory dir; installs it only if it is good,
 * so a failed reload leaves the running configuration alone. */
static int load(const char *path, const char *dir, const char *text, size_t len,
                char *err, size_t errlen)
{
    struct conf c = { { 0 }, xstrdup(path), dir ? xstrdup(dir) : NULL };
    if (parse_text(&c, text, len, false, err, errlen) < 0 ||
        validate(&c, &overrides, err, errlen) < 0) {
        conf_free(&c);
        return -1;
    }
    conf_free(&current);
    current = c;
    cache_clear();
    return 0;
}

int config_load_text(const char *name, const char *text, char *err, size_t errlen)
{
    return load(name, NULL, text, strlen(text), err, errlen);
}

char *config_path(const char *dir)
{
    size_t n = strlen(dir);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_printf(&b, "%s%s%s", dir, n > 0 && dir[n - 1] == '/' ? "" : "/", CONFIG_FILE);
    return buf_steal(&b);
}

int config_read_file(const char *path, struct buf *text, char *err, size_t errlen)
{
    if (safe_read_file(path, CONFIG_FILE_MAX, text) == 0)
        return 0;
    if (errno == EFBIG)
        snprintf(err, errlen, "%.256s: file larger than %d bytes", path,
                 CONFIG_FILE_MAX);
    else
        snprintf(err, errlen, "%.256s: %s", path, strerror(errno));
    return -1;
}

int config_load(const char *dir, char *err, size_t errlen)
{
    char *path = config_path(dir);
    struct buf text;
    buf_init(&text, CONFIG_FILE_MAX);
    int r = config_read_file(path, &text, err, errlen);
    if (r == 0)
        r = load(path, dir, buf_str(&text), text.len, err, errlen);
    buf_free(&text);
    free(path);
    return r;
}

const char *config_dir(const char *cli_dir)
{
    if (cli_dir)
        return cli_dir;
    const char *env = getenv("TERN_CONFIG");
    if (env && *env)
        return env;
    return TERN_CONFIG_DIR;
}

/* NULL before the first config_load and after config_load_text. */
const char *config_loaded_dir(void)
{
    return current.dir;
}

/* ---- overrides ---- */

static void override_restore(const char *name, const char *old_value)
{
    if (old_value)
        settings_put(&overrides, name, old_value, 0);
    else
        settings_remove(&overrides, name);
}

/* The overridden value's own error comes without a prefix (the caller knows where the
 * override came from); a value it breaks elsewhere is reported where that value is set. */
int config_override(const char *assignment, char *err, size_t errlen)
{
    char *name, *value;
    if (config_split_assignment(assignment, strlen(assignment), &name, &value, err,
                                errlen) < 0)
        return -1;
    const struct setting *old = settings_get(&overrides, name);
    char *old_value = old ? xstrdup(old->value) : NULL;
    int r = 0;
    if (!old && overrides.n >= OVERRIDES_MAX) {
        snprintf(err, errlen, "more than %d overrides", OVERRIDES_MAX);
        r = -1;
    } else {
        if (!param_find(name))
            log_warn("override %s=%s: unknown parameter \"%s\"", name, value, name);
        settings_put(&overrides, name, value, 0);
        struct source src = { &current, &overrides };
        r = check_param(&src, name, "", err, errlen);
        if (r == 0)
            r = validate(&current, &overrides, err, errlen);
        if (r < 0)
            override_restore(name, old_value);
        else
            cache_retire();
    }
    free(old_value);
    free(name);
    free(value);
    return r;
}

/* ---- reads ---- */

static const struct param_def *known_param(const char *name, const char *getter)
{
    const struct param_def *p = param_find(name);
    if (p == NULL)
        log_fatal("%s: unknown parameter \"%s\" (not in params.def)", getter, name);
    return p;
}

/* Expansion at read time cannot fail for a validated configuration (see validate()), so a
 * failure here is fatal rather than a value callers would have to check. */
static char *expand_or_die(const struct source *src, const char *name, const char *text)
{
    struct expander x = { src, false, 0, "" };
    struct buf v;
    buf_init(&v, VALUE_MAX);
    int r = name ? expand_param(&x, name, &v) : expand_text(&x, text, strlen(text), 0, &v);
    if (r < 0) {
        if (name)
            log_fatal("cannot expand parameter %s: %s", name, x.why);
        log_fatal("cannot expand \"%.60s\": %s", text, x.why);
    }
    return buf_steal(&v);
}

const char *config_str(const char *name)
{
    known_param(name, "config_str");
    const struct setting *s = settings_get(&cache, name);
    if (s)
        return s->value;
    struct source src = { &current, &overrides };
    settings_append(&cache, xstrdup(name), expand_or_die(&src, name, NULL), 0);
    return cache.v[cache.n - 1].value;
}

static const char *typed_value(const char *name, enum param_type want, const char *getter)
{
    const struct param_def *p = known_param(name, getter);
    if (p->type != want)
        log_fatal("%s: parameter %s is of type %s, not %s", getter, name, type_name(p->type),
                  type_name(want));
    return config_str(name);
}

static _Noreturn void bad_value(const char *name, enum param_type t, const char *value)
{
    log_fatal("bad %s value \"%.100s\" for %s", type_name(t), value, name);
}

long long config_int(const char *name)
{
    const char *v = typed_value(name, PARAM_INT, "config_int");
    long long n;
    if (config_parse_int(v, &n) < 0)
        bad_value(name, PARAM_INT, v);
    return n;
}

bool config_bool(const char *name)
{
    const char *v = typed_value(name, PARAM_BOOL, "config_bool");
    bool b;
    if (config_parse_bool(v, &b) < 0)
        bad_value(name, PARAM_BOOL, v);
    return b;
}

long long config_time(const char *name)
{
    const char *v = typed_value(name, PARAM_TIME, "config_time");
    long long n;
    if (config_parse_time(v, &n) < 0)
        bad_value(name, PARAM_TIME, v);
    return n;
}

long long config_size(const char *name)
{
    const char *v = typed_value(name, PARAM_SIZE, "config_size");
    long long n;
    if (config_parse_size(v, &n) < 0)
        bad_value(name, PARAM_SIZE, v);
    return n;
}

/* Works for user-defined names set in the file too; NULL for a name neither in the table nor
 * set anywhere (so ternconf can report it). */
const char *config_raw(const char *name, bool *explicit_setting)
{
    struct source src = { &current, &overrides };
    return raw_value(&src, name, explicit_setting);
}

char *config_expand(const char *text)
{
    struct source src = { &current, &overrides };
    return expand_or_die(&src, NULL, text);
}

/* ---- what the listings and edits of config_admin.c need (config_impl.h) ---- */

char *config_value_copy(const char *name, bool defaults, bool raw)
{
    struct source src = { defaults ? NULL : &current, defaults ? NULL : &overrides };
    const char *v = raw_value(&src, name, NULL);
    if (v == NULL)
        return NULL;
    return raw ? xstrdup(v) : expand_or_die(&src, name, NULL);
}

size_t config_set_count(void)
{
    return current.file.n + overrides.n;
}

/* Adds the set names of s that are not in the table (user-defined ones), once each. */
static size_t add_user_names(const char **names, size_t n, const struct settings *s)
{
    for (size_t i = 0; i < s->n; i++) {
        bool seen = param_find(s->v[i].name) != NULL;
        for (size_t j = 0; j < n && !seen; j++)
            seen = strcmp(names[j], s->v[i].name) == 0;
        if (!seen)
            names[n++] = s->v[i].name;
    }
    return n;
}

size_t config_user_names(const char **names, size_t n)
{
    n = add_user_names(names, n, &current.file);
    return add_user_names(names, n, &overrides);
}

int config_check_text(const char *path, const char *dir, const char *text, size_t len,
                      char *err, size_t errlen)
{
    struct conf c = { { 0 }, xstrdup(path), xstrdup(dir) };
    int r = parse_text(&c, text, len, true, err, errlen) < 0 ||
                    validate(&c, NULL, err, errlen) < 0
                ? -1
                : 0;
    conf_free(&c);
    return r;
}

int config_check_trusted(char *err, size_t errlen)
{
    const char *dir = config_loaded_dir();
    if (dir == NULL) {
        snprintf(err, errlen, "no configuration loaded");
        return -1;
    }
    struct buf path;
    buf_init(&path, BUF_UNBOUNDED);
    int r = safe_check_trusted(dir, 0, err, errlen);
    const char *files[] = { CONFIG_FILE, MASTER_CONFIG_FILE };
    for (size_t i = 0; r == 0 && i < sizeof files / sizeof files[0]; i++) {
        buf_reset(&path);
        buf_printf(&path, "%s/%s", dir, files[i]);
        r = safe_check_trusted(buf_str(&path), 0, err, errlen);
    }
    if (r == 0 && *config_str("daemon_directory"))
        r = safe_check_trusted(config_str("daemon_directory"), 0, err, errlen);
    buf_free(&path);
    return r;
}

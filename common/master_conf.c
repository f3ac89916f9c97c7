/* master_conf.c: the parser of master.conf (Postfix master.cf columns), used by the master to
 * know which services to run and by `tern check`. Pure over the text; master_conf_load only
 * adds the bounded read of DIR/master.conf. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "config.h"
#include "master_conf.h"
#include "mem.h"
#include "safefile.h"

#define MASTER_FILE_MAX (1024 * 1024)
#define SERVICES_MAX 1000
#define WORDS_MAX 1000
#define NAME_MAX_LEN 255      /* service names and hosts */
#define PORT_NAME_MAX 32
#define COLUMNS 8             /* service type private unpriv chroot wakeup maxproc command */

struct word {
    const char *p;
    size_t len;
    int line;                 /* where the word is, for messages about it */
};

/* One entry: its words from the first line and its continuation lines. */
struct entry {
    struct word words[WORDS_MAX];
    size_t n;
    int line;
};

struct parse {
    const char *file;
    int default_maxproc;
    struct master_conf *out;
    size_t cap;
    char *err;
    size_t errlen;
};

static int fail(struct parse *ps, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parse *ps, int line, const char *fmt, ...)
{
    char why[ERR_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "%.200s:%d: %.290s", ps->file, line, why);
    return -1;
}

static char *word_dup(const struct word *w)
{
    return xstrndup(w->p, w->len);
}

/* Shows at most 60 bytes of a word in a message. */
#define WORD_FMT "\"%.*s\""
#define WORD_ARG(w) (int)((w)->len > 60 ? 60 : (w)->len), (w)->p

static bool word_is(const struct word *w, const char *s)
{
    return w->len == strlen(s) && memcmp(w->p, s, w->len) == 0;
}

/* ---- columns ---- */

static int parse_yes_no(struct parse *ps, const struct word *w, const char *column, bool dflt,
                        bool *out)
{
    if (word_is(w, "-"))
        *out = dflt;
    else if (word_is(w, "y") || word_is(w, "n"))
        *out = w->p[0] == 'y';
    else
        return fail(ps, w->line, "bad %s column " WORD_FMT " (use y, n or -)", column,
                    WORD_ARG(w));
    return 0;
}

/* A non-negative decimal number of at most 9 digits, so it always fits an int. */
static bool small_number(const char *p, size_t len, int *out)
{
    if (len == 0 || len > 9)
        return false;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)p[i]))
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

static int parse_wakeup(struct parse *ps, const struct word *w, struct service_def *s)
{
    s->wakeup = 0;
    s->wakeup_after_use = false;
    if (word_is(w, "-"))
        return 0;
    size_t len = w->len;
    if (len > 0 && w->p[len - 1] == '?') {
        s->wakeup_after_use = true;
        len--;
    }
    if (!small_number(w->p, len, &s->wakeup))
        return fail(ps, w->line, "bad wakeup column " WORD_FMT
                    " (use seconds, optionally followed by ?, or -)", WORD_ARG(w));
    return 0;
}

static int parse_maxproc(struct parse *ps, const struct word *w, struct service_def *s)
{
    if (word_is(w, "-"))
        s->maxproc = ps->default_maxproc;
    else if (!small_number(w->p, w->len, &s->maxproc))
        return fail(ps, w->line, "bad maxproc column " WORD_FMT
                    " (use a process limit, 0 for none, or -)", WORD_ARG(w));
    return 0;
}

static int parse_type(struct parse *ps, const struct word *w, struct service_def *s)
{
    if (word_is(w, "inet"))
        s->type = SERVICE_INET;
    else if (word_is(w, "unix"))
        s->type = SERVICE_UNIX;
    else
        return fail(ps, w->line, "unknown service type " WORD_FMT " (use inet or unix)",
                    WORD_ARG(w));
    return 0;
}

/* ---- service names ---- */

static bool valid_port(const char *port)
{
    size_t len = strlen(port);
    int number;
    if (small_number(port, len, &number))
        return number >= 1 && number <= 65535;
    if (len == 0 || len > PORT_NAME_MAX)
        return false;
    for (const char *p = port; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
            return false;
    return true;
}

/* Host names and IPv4/IPv6 addresses (a %zone included); resolving them is the master's job. */
static bool valid_host(const char *host)
{
    if (*host == '\0')
        return false;
    for (const char *p = host; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".-:%_", *p))
            return false;
    return true;
}

/* inet names: port, host:port, [v6]:port or *:port (the last like a bare port: the addresses
 * of inet_interfaces). A host may be a name; the master resolves it when it binds. */
static int split_inet(struct parse *ps, int line, struct service_def *s)
{
    const char *name = s->name, *colon;
    if (name[0] == '[') {
        const char *close = strchr(name, ']');
        if (close == NULL)
            return fail(ps, line, "bad inet service \"%s\": missing \"]\"", name);
        if (close[1] != ':')
            return fail(ps, line, "bad inet service \"%s\": missing port after \"]\"", name);
        s->host = xstrndup(name + 1, (size_t)(close - name - 1));
        colon = close + 1;
    } else if ((colon = strrchr(name, ':')) != NULL) {
        s->host = xstrndup(name, (size_t)(colon - name));
        if (strchr(s->host, ':'))
            return fail(ps, line, "bad inet service \"%s\": write an IPv6 address in "
                        "brackets, as in [::1]:25", name);
        if (strcmp(s->host, "*") == 0) {
            free(s->host);
            s->host = NULL;
        }
    }
    s->port = xstrdup(colon ? colon + 1 : name);
    if (s->host && !valid_host(s->host))
        return fail(ps, line, "bad inet service \"%s\": bad host \"%s\"", name, s->host);
    if (!valid_port(s->port))
        return fail(ps, line, "bad inet service \"%s\": port \"%s\" is neither a number from 1 "
                    "to 65535 nor a service name", name, s->port);
    return 0;
}

/* unix names become socket file names in private/ or public/. */
static int check_unix_name(struct parse *ps, int line, const char *name)
{
    bool ok = name[0] != '.' && name[0] != '-';
    for (const char *p = name; ok && *p; p++)
        ok = isalnum((unsigned char)*p) || strchr("._-", *p);
    if (!ok)
        return fail(ps, line, "bad unix service name \"%s\" (use letters, digits, \".\", \"-\" "
                    "and \"_\", not first \".\" or \"-\")", name);
    return 0;
}

static int parse_name(struct parse *ps, const struct word *w, struct service_def *s)
{
    if (w->len > NAME_MAX_LEN)
        return fail(ps, w->line, "service name longer than %d bytes", NAME_MAX_LEN);
    s->name = word_dup(w);
    return s->type == SERVICE_INET ? split_inet(ps, w->line, s)
                                   : check_unix_name(ps, w->line, s->name);
}

/* ---- command arguments ---- */

/* A value with no $ can be type-checked now, so a typo is caught by `tern check` rather than
 * when the service starts. */
static int check_override(struct parse *ps, int line, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    size_t nlen = eq ? (size_t)(eq - assignment) : 0;
    bool ok = nlen > 0;
    for (size_t i = 0; ok && i < nlen; i++)
        ok = isalnum((unsigned char)assignment[i]) || assignment[i] == '_';
    if (!ok)
        return fail(ps, line, "bad -o \"%.60s\" (expected name=value)", assignment);
    char *name = xstrndup(assignment, nlen);
    const struct param_def *p = param_find(name);
    const char *value = eq + 1;
    long long n;
    bool b;
    int bad = 0;
    if (p && !strchr(value, '$')) {
        switch (p->type) {
        case PARAM_INT: bad = config_parse_int(value, &n); break;
        case PARAM_BOOL: bad = config_parse_bool(value, &b); break;
        case PARAM_TIME: bad = config_parse_time(value, &n); break;
        case PARAM_SIZE: bad = config_parse_size(value, &n); break;
        default: break;
        }
    }
    static const char *const type_names[] = {
        [PARAM_STRING] = "string", [PARAM_INT] = "integer", [PARAM_BOOL] = "boolean",
        [PARAM_TIME] = "time", [PARAM_SIZE] = "size",
    };
    int r = bad ? fail(ps, line, "bad %s value \"%.100s\" for %s", type_names[p->type], value,
                       name) : 0;
    free(name);
    return r;
}

static char **new_list(size_t n)
{
    return xcalloc(n + 1, sizeof(char *));
}

/* Words after the command: `-o name=value` or `-oname=value` are overrides, the rest args. */
static int parse_args(struct parse *ps, const struct entry *e, struct service_def *s)
{
    size_t nargs = 0, nover = 0;
    s->overrides = new_list(e->n);
    s->args = new_list(e->n);
    for (size_t i = COLUMNS; i < e->n; i++) {
        const struct word *w = &e->words[i];
        if (!(w->len >= 2 && w->p[0] == '-' && w->p[1] == 'o')) {
            s->args[nargs++] = word_dup(w);
            continue;
        }
        char *assignment;
        if (w->len > 2)
            assignment = xstrndup(w->p + 2, w->len - 2);
        else if (i + 1 < e->n)
            assignment = word_dup(&e->words[++i]);
        else
            return fail(ps, w->line, "-o without name=value");
        s->overrides[nover++] = assignment;
        if (check_override(ps, e->words[i].line, assignment) < 0)
            return -1;
    }
    return 0;
}

/* ---- entries ---- */

static void service_free(struct service_def *s)
{
    free(s->name);
    free(s->host);
    free(s->port);
    free(s->command);
    for (char **p = s->overrides; p && *p; p++)
        free(*p);
    for (char **p = s->args; p && *p; p++)
        free(*p);
    free(s->overrides);
    free(s->args);
    memset(s, 0, sizeof *s);
}

static int check_duplicate(struct parse *ps, const struct service_def *s)
{
    const struct service_def *old = master_conf_find(ps->out, s->name, s->type);
    if (old)
        return fail(ps, s->line, "service \"%s\" (%s) is already defined at line %d", s->name,
                    s->type == SERVICE_INET ? "inet" : "unix", old->line);
    return 0;
}

static int build_service(struct parse *ps, const struct entry *e, struct service_def *s)
{
    const struct word *w = e->words;
    s->line = e->line;
    if (e->n < COLUMNS)
        return fail(ps, e->line, "expected %d columns (service type private unpriv chroot "
                    "wakeup maxproc command), found %zu", COLUMNS, e->n);
    if (parse_type(ps, &w[1], s) < 0 || parse_name(ps, &w[0], s) < 0 ||
        parse_yes_no(ps, &w[2], "private", true, &s->private_service) < 0 ||
        parse_yes_no(ps, &w[3], "unpriv", true, &s->unprivileged) < 0 ||
        parse_yes_no(ps, &w[4], "chroot", false, &s->chroot) < 0 ||
        parse_wakeup(ps, &w[5], s) < 0 || parse_maxproc(ps, &w[6], s) < 0)
        return -1;
    s->command = word_dup(&w[7]);
    if (parse_args(ps, e, s) < 0)
        return -1;
    return check_duplicate(ps, s);
}

static int finish_entry(struct parse *ps, struct entry *e)
{
    if (e->n == 0)
        return 0;
    if (ps->out->count >= SERVICES_MAX)
        return fail(ps, e->line, "more than %d services", SERVICES_MAX);
    struct service_def s = { 0 };
    int r = build_service(ps, e, &s);
    e->n = 0;
    if (r < 0) {
        service_free(&s);
        return -1;
    }
    if ((size_t)ps->out->count == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 16;
        ps->out->services = xrealloc(ps->out->services, ps->cap * sizeof *ps->out->services);
    }
    ps->out->services[ps->out->count++] = s;
    return 0;
}

static int add_words(struct parse *ps, struct entry *e, const char *p, size_t n, int line)
{
    size_t i = 0;
    for (;;) {
        while (i < n && isspace((unsigned char)p[i]))
            i++;
        if (i == n)
            return 0;
        size_t start = i;
        while (i < n && !isspace((unsigned char)p[i]))
            i++;
        if (e->n == WORDS_MAX)
            return fail(ps, line, "more than %d words in one entry", WORDS_MAX);
        e->words[e->n++] = (struct word){ p + start, i - start, line };
    }
}

/* One physical line: `#` comments and blank lines are skipped (also inside an entry); a line
 * that starts with whitespace continues the entry before it. */
static int parse_line(struct parse *ps, struct entry *e, const char *p, size_t n, int line)
{
    size_t i = 0;
    while (i < n && isspace((unsigned char)p[i]))
        i++;
    if (i == n || p[i] == '#')
        return 0;
    if (i == 0) {
        if (finish_entry(ps, e) < 0)
            return -1;
        e->line = line;
    } else if (e->n == 0) {
        return fail(ps, line, "indented line without a service entry before it");
    }
    return add_words(ps, e, p, n, line);
}

int master_conf_parse(const char *file, const char *text, int default_maxproc,
                      struct master_conf *out, char *err, size_t errlen)
{
    *out = (struct master_conf){ NULL, 0 };
    struct parse ps = { file, default_maxproc, out, 0, err, errlen };
    struct entry *e = xcalloc(1, sizeof *e);
    int r = 0, line = 0;
    const char *p = text;
    while (r == 0 && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        r = parse_line(&ps, e, p, n, ++line);
        p += n + (nl != NULL);
    }
    if (r == 0)
        r = finish_entry(&ps, e);
    free(e);
    if (r < 0)
        master_conf_free(out);
    return r;
}

int master_conf_load(const char *dir, int default_maxproc, struct master_conf *out,
                     char *err, size_t errlen)
{
    *out = (struct master_conf){ NULL, 0 };
    size_t dlen = strlen(dir);
    struct buf path, text;
    buf_init(&path, BUF_UNBOUNDED);
    buf_printf(&path, "%s%s%s", dir, dlen > 0 && dir[dlen - 1] == '/' ? "" : "/",
               MASTER_CONFIG_FILE);
    buf_init(&text, MASTER_FILE_MAX);
    int r = -1;
    if (safe_read_file(buf_str(&path), MASTER_FILE_MAX, &text) < 0) {
        if (errno == EFBIG)
            snprintf(err, errlen, "%.256s: file larger than %d bytes",
                     buf_str(&path), MASTER_FILE_MAX);
        else
            snprintf(err, errlen, "%.256s: %s", buf_str(&path), strerror(errno));
    } else if (strlen(buf_str(&text)) != text.len) {
        snprintf(err, errlen, "%.256s: the file contains a NUL byte",
                 buf_str(&path));
    } else {
        r = master_conf_parse(buf_str(&path), buf_str(&text), default_maxproc, out, err, errlen);
    }
    buf_free(&path);
    buf_free(&text);
    return r;
}

void master_conf_free(struct master_conf *conf)
{
    for (int i = 0; i < conf->count; i++)
        service_free(&conf->services[i]);
    free(conf->services);
    conf->services = NULL;
    conf->count = 0;
}

const struct service_def *master_conf_find(const struct master_conf *conf, const char *name,
                                           enum service_type type)
{
    for (int i = 0; i < conf->count; i++)
        if (conf->services[i].type == type && strcmp(conf->services[i].name, name) == 0)
            return &conf->services[i];
    return NULL;
}

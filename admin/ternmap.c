/* ternmap.c: the `ternmap` command, Postfix's postmap and postalias in one: builds hash: and
 * btree: tables from their text source (`key value` lines, or aliases(5) with -a) atomically,
 * looks keys up (-q) and lists tables (-s) through the code the daemons use (common/dict.h),
 * so keys are folded the same way. Exit codes are sysexits(3); -q exits 1 when nothing is found. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "buf.h"
#include "config.h"
#include "dict.h"
#include "log.h"
#include "mem.h"

#define NOT_FOUND 1   /* -q: no key found, as postmap -q */

struct options {
    const char *dir;
    bool alias;         /* -a: aliases(5) source and name: output */
    const char *query;  /* -q KEY, or "-" for keys on standard input */
    bool dump;          /* -s */
};

static _Noreturn void usage(void)
{
    fprintf(stderr,
            "usage: ternmap [-c dir] [-a] [type:]file ...\n"
            "       ternmap [-c dir] [-a] -q key|- [type:]file ...\n"
            "       ternmap [-c dir] [-a] -s [type:]file ...\n");
    exit(EX_USAGE);
}

static void parse_options(int argc, char **argv, struct options *o)
{
    int c;
    while ((c = getopt(argc, argv, "+ac:q:s")) != -1) {
        switch (c) {
        case 'a': o->alias = true; break;
        case 'c': o->dir = optarg; break;
        case 'q': o->query = optarg; break;
        case 's': o->dump = true; break;
        default: usage();
        }
    }
    if (optind == argc || (o->query && o->dump))
        usage();
}

/* tern.conf gives the log settings, so warnings also reach the mail log as postmap's do. It is
 * needed only when named (-c, $TERN_CONFIG): without, a missing default file is no error, so
 * tables can be built before tern is configured. */
static void load_config(const char *cli_dir)
{
    const char *dir = config_dir(cli_dir);
    if (!cli_dir && !getenv("TERN_CONFIG")) {
        struct buf path;
        buf_init(&path, BUF_UNBOUNDED);
        buf_printf(&path, "%s/%s", dir, CONFIG_FILE);
        bool missing = access(buf_str(&path), F_OK) < 0 && errno == ENOENT;
        buf_free(&path);
        if (missing)
            return;
    }
    char err[ERR_TEXT_MAX];
    if (config_load(dir, err, sizeof err) < 0)
        log_fatal_code(EX_CONFIG, "%s", err);
    log_open(config_str("syslog_name"), config_str("maillog_file"),
             config_str("syslog_facility"));
}

/* `type:name`, with hash: for a bare name (malloc'd). */
static char *table_spec(const char *arg)
{
    if (*arg == '\0')
        log_fatal_code(EX_USAGE, "empty table name");
    if (strchr(arg, ':'))
        return xstrdup(arg);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_printf(&b, "hash:%s", arg);
    return buf_steal(&b);
}

static bool has_type(const char *spec, const char *type)
{
    size_t n = strlen(type);
    return strncmp(spec, type, n) == 0 && spec[n] == ':';
}

/* The types ternmap works on: built ones, and texthash: for reading. */
static void check_type(const char *spec, bool reading)
{
    if (has_type(spec, "hash") || has_type(spec, "btree"))
        return;
    if (has_type(spec, "texthash")) {
        if (reading)
            return;
        log_fatal_code(EX_USAGE, "%s: a texthash: table is its text file, read when it is "
                       "opened: there is nothing to build", spec);
    }
    log_fatal_code(EX_USAGE, "%s: unsupported table type: ternmap works on hash: and btree: "
                   "tables (and texthash: with -q and -s)", spec);
}

/* ---- building ---- */

static int build_status(enum dict_build_error why)
{
    switch (why) {
    case DICT_BUILD_ERR_SPEC: return EX_USAGE;
    case DICT_BUILD_ERR_READ: return EX_NOINPUT;
    case DICT_BUILD_ERR_SOURCE: return EX_DATAERR;
    case DICT_BUILD_ERR_CREATE: return EX_CANTCREAT;
    case DICT_BUILD_ERR_WRITE: return EX_IOERR;
    }
    return EX_SOFTWARE;
}

/* Each table is built in turn; the first failure stops (its old .db stays in place). */
static int build_all(const struct options *o, int argc, char **argv)
{
    for (int i = optind; i < argc; i++) {
        char *spec = table_spec(argv[i]);
        check_type(spec, false);
        char err[ERR_TEXT_MAX];
        enum dict_build_error why;
        long n = dict_build_why(spec, o->alias ? DICT_FORMAT_ALIAS : DICT_FORMAT_MAP, &why, err,
                                sizeof err);
        free(spec);
        if (n < 0) {
            log_error("%s", err);
            return build_status(why);
        }
    }
    return EX_OK;
}

/* ---- reading ---- */

struct tables {
    struct dict **d;
    int n;
};

static void open_tables(int argc, char **argv, struct tables *t)
{
    t->n = argc - optind;
    t->d = xcalloc((size_t)t->n, sizeof *t->d);
    for (int i = 0; i < t->n; i++) {
        char *spec = table_spec(argv[optind + i]);
        check_type(spec, true);
        char err[ERR_TEXT_MAX];
        t->d[i] = dict_open(spec, err, sizeof err);
        free(spec);
        if (!t->d[i])
            log_fatal_code(EX_NOINPUT, "%s", err);
    }
}

static void close_tables(struct tables *t)
{
    for (int i = 0; i < t->n; i++)
        dict_close(t->d[i]);
    free(t->d);
}

/* An alias name as a source line must write it: quoted when it holds white space, ':' or '"',
 * or starts with '#'; inside quotes '"' and '\' get a backslash. */
static void print_alias_name(FILE *out, const char *name)
{
    bool quote = *name == '\0' || *name == '#' || strpbrk(name, " \t\r\n\f\v:\"") != NULL;
    if (!quote) {
        fputs(name, out);
        return;
    }
    putc('"', out);
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
            putc('\\', out);
        putc(*p, out);
    }
    putc('"', out);
}

/* `key<TAB>value`, or `name:<TAB>value` with -a: what postmap and postalias print, and a line
 * that a source may hold. */
static void print_entry(FILE *out, bool alias, const char *key, const char *value)
{
    if (alias) {
        print_alias_name(out, key);
        putc(':', out);
    } else {
        fputs(key, out);
    }
    putc('\t', out);
    fputs(value, out);
    putc('\n', out);
}

/* The first table that has key decides. 1 found, 0 not, -1 after a read error (logged). */
static int lookup(const struct tables *t, const char *key, const char **value)
{
    for (int i = 0; i < t->n; i++) {
        char err[ERR_TEXT_MAX];
        int r = dict_lookup(t->d[i], key, value, err, sizeof err);
        if (r < 0)
            log_error("%s", err);
        if (r != 0)
            return r;
    }
    return 0;
}

/* One line of standard input, at most DICT_LINE_MAX bytes without its newline. Returns 1, 0 at
 * the end, -1 for a longer line (read to its end). */
static int read_line(FILE *in, struct buf *line)
{
    buf_reset(line);
    bool any = false, too_long = false;
    int c;
    while ((c = getc(in)) != EOF) {
        any = true;
        if (c == '\n')
            break;
        if (!too_long && buf_putc(line, (char)c) < 0)
            too_long = true;
    }
    if (!any)
        return 0;
    return too_long ? -1 : 1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\f\v", s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* -q -: each line a key; prints `key value` for those found. */
static int query_stdin(const struct options *o, const struct tables *t, bool *found)
{
    struct buf line;
    buf_init(&line, DICT_KEY_MAX);
    long lineno = 0;
    int r, status = EX_OK;
    while (status == EX_OK && (r = read_line(stdin, &line)) != 0) {
        lineno++;
        if (r < 0) {
            log_warn("standard input:%ld: key longer than %zu bytes ignored", lineno, line.max);
            continue;
        }
        char *key = trim(line.data);
        const char *value;
        if (*key == '\0')
            continue;
        int got = lookup(t, key, &value);
        if (got < 0)
            status = EX_IOERR;
        else if (got > 0) {
            print_entry(stdout, o->alias, key, value);
            *found = true;
        }
    }
    if (ferror(stdin)) {
        log_error("cannot read standard input: %s", strerror(errno));
        status = EX_IOERR;
    }
    buf_free(&line);
    return status;
}

static int query(const struct options *o, const struct tables *t)
{
    bool found = false;
    int status = EX_OK;
    if (strcmp(o->query, "-") == 0) {
        status = query_stdin(o, t, &found);
    } else {
        const char *value;
        int got = lookup(t, o->query, &value);
        if (got < 0)
            status = EX_IOERR;
        else if (got > 0) {
            printf("%s\n", value);
            found = true;
        }
    }
    return status == EX_OK && !found ? NOT_FOUND : status;
}

static int dump_entry(const char *key, const char *value, void *arg)
{
    const bool *alias = arg;
    print_entry(stdout, *alias, key, value);
    return ferror(stdout) ? 1 : 0;
}

static int dump(const struct options *o, const struct tables *t)
{
    bool alias = o->alias;
    for (int i = 0; i < t->n; i++) {
        char err[ERR_TEXT_MAX];
        int r = dict_walk(t->d[i], dump_entry, &alias, err, sizeof err);
        if (r < 0) {
            log_error("%s", err);
            return EX_IOERR;
        }
        if (r > 0)
            break;   /* the output failed; reported below */
    }
    return EX_OK;
}

static int read_tables(const struct options *o, int argc, char **argv)
{
    struct tables t;
    open_tables(argc, argv, &t);
    int status = o->dump ? dump(o, &t) : query(o, &t);
    close_tables(&t);
    if (fflush(stdout) == EOF || ferror(stdout)) {
        log_error("cannot write the output: %s", strerror(errno));
        return EX_IOERR;
    }
    return status;
}

int main(int argc, char **argv)
{
    log_init("ternmap");
    log_set_stderr(true);
    struct options o = { 0 };
    parse_options(argc, argv, &o);
    load_config(o.dir);
    if (o.query || o.dump)
        return read_tables(&o, argc, argv);
    return build_all(&o, argc, argv);
}

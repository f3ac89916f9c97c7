/* ternconf.c: the `ternconf` command, tern's postconf: shows tern.conf parameters (all, only the
 * explicit ones, or the defaults), edits tern.conf in place (-e sets, -X removes) and shows the
 * master.conf entries one per line (-M, postconf -M's layout). Like postconf, values are shown
 * as written unless -x asks for them expanded. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "buf.h"
#include "config_admin.h"
#include "log.h"
#include "master_conf.h"

struct options {
    const char *dir;
    bool defaults, explicit_only, no_names, expand, edit, remove, master;
};

static _Noreturn void usage(void)
{
    fprintf(stderr,
            "usage: ternconf [-c dir] [-n | -d] [-h] [-x] [name ...]\n"
            "       ternconf [-c dir] -M [-x] [service[/type] ...]\n"
            "       ternconf [-c dir] -e 'name = value' ...\n"
            "       ternconf [-c dir] -X name ...\n");
    exit(EX_USAGE);
}

static void parse_options(int argc, char **argv, struct options *o)
{
    int c;
    while ((c = getopt(argc, argv, "+c:dehMnxX")) != -1) {
        switch (c) {
        case 'c': o->dir = optarg; break;
        case 'd': o->defaults = true; break;
        case 'e': o->edit = true; break;
        case 'h': o->no_names = true; break;
        case 'M': o->master = true; break;
        case 'n': o->explicit_only = true; break;
        case 'x': o->expand = true; break;
        case 'X': o->remove = true; break;
        default: usage();
        }
    }
    bool shows = o->defaults || o->explicit_only || o->no_names || o->expand;
    if ((o->defaults && o->explicit_only) || (o->edit && o->remove) ||
        ((o->edit || o->remove) && (shows || o->master || optind == argc)) ||
        (o->master && (o->defaults || o->explicit_only || o->no_names)))
        usage();
}

/* Maps a failed edit to sysexits: EINVAL is a configuration error (see config_edit_set). */
static int edit_status(int err)
{
    switch (err) {
    case EINVAL: return EX_CONFIG;
    case ENOENT: return EX_NOINPUT;
    case EACCES: case EPERM: case EROFS: return EX_CANTCREAT;
    default: return EX_IOERR;
    }
}

/* Each edit is atomic; they are applied in order and the first failure stops the rest. */
static int run_edits(const struct options *o, int argc, char **argv)
{
    const char *dir = config_dir(o->dir);
    for (int i = optind; i < argc; i++) {
        char err[ERR_TEXT_MAX];
        int r = o->edit ? config_edit_set(dir, argv[i], err, sizeof err)
                        : config_edit_remove(dir, argv[i], err, sizeof err);
        if (r < 0) {
            int status = edit_status(errno);
            log_error("%s", err);
            return status;
        }
    }
    return EX_OK;
}

/* ---- master.conf (-M) ---- */

static const char *yes_no(bool b)
{
    return b ? "y" : "n";
}

/* Appends text to line, starting at column col (postconf -M's layout: 0, 11, 17, 25, 33, 41,
 * 49, 57); a field that overflows its column is followed by one space only. */
static void put_column(struct buf *line, int col, const char *text)
{
    if (line->len > 0) {
        buf_putc(line, ' ');
        while (line->len < (size_t)col)
            buf_putc(line, ' ');
    }
    buf_puts(line, text);
}

/* One entry on one line: the columns as they take effect (`-` shown as y or n in the flag
 * columns, kept for "no wakeup" and "default_process_limit"), then the -o settings (expanded
 * with -x), then the arguments. */
static void print_service(FILE *out, const struct service_def *s, bool expand)
{
    static const int col[] = { 0, 11, 17, 25, 33, 41, 49, 57 };
    char wakeup[16] = "-", maxproc[16] = "-";
    if (s->wakeup > 0 || s->wakeup_after_use)
        snprintf(wakeup, sizeof wakeup, "%d%s", s->wakeup, s->wakeup_after_use ? "?" : "");
    if (s->maxproc >= 0)
        snprintf(maxproc, sizeof maxproc, "%d", s->maxproc);
    const char *fields[] = { s->name, s->type == SERVICE_INET ? "inet" : "unix",
                             yes_no(s->private_service), yes_no(s->unprivileged),
                             yes_no(s->chroot), wakeup, maxproc, s->command };
    struct buf line;
    buf_init(&line, BUF_UNBOUNDED);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        put_column(&line, col[i], fields[i]);
    for (char **o = s->overrides; *o; o++) {
        const char *eq = strchr(*o, '=');
        char *value = expand && eq ? config_expand(eq + 1) : NULL;
        if (value)
            buf_printf(&line, " -o %.*s=%s", (int)(eq - *o), *o, value);
        else
            buf_printf(&line, " -o %s", *o);
        free(value);
    }
    for (char **a = s->args; *a; a++)
        buf_printf(&line, " %s", *a);
    fprintf(out, "%s\n", buf_str(&line));
    buf_free(&line);
}

/* "name" matches the entries of that name, "name/type" the one of that type. */
static bool service_matches(const struct service_def *s, const char *request)
{
    const char *slash = strrchr(request, '/');
    size_t n = slash ? (size_t)(slash - request) : strlen(request);
    if (strlen(s->name) != n || strncmp(s->name, request, n) != 0)
        return false;
    return !slash || strcmp(slash + 1, s->type == SERVICE_INET ? "inet" : "unix") == 0;
}

/* Entries in master.conf order. A request that matches nothing gets a warning, and the
 * status stays 0, as with postconf -M. */
static void show_master(const struct options *o, int argc, char **argv)
{
    char err[ERR_TEXT_MAX];
    struct master_conf mc;
    /* -1 stands for `-` in the maxproc column, so it is shown as written */
    if (master_conf_load(config_dir(o->dir), -1, &mc, err, sizeof err) < 0)
        log_fatal_code(EX_CONFIG, "%s", err);
    for (int i = 0; i < mc.count; i++) {
        bool wanted = optind == argc;
        for (int a = optind; a < argc && !wanted; a++)
            wanted = service_matches(&mc.services[i], argv[a]);
        if (wanted)
            print_service(stdout, &mc.services[i], o->expand);
    }
    for (int a = optind; a < argc; a++) {
        bool matched = false;
        for (int i = 0; i < mc.count && !matched; i++)
            matched = service_matches(&mc.services[i], argv[a]);
        if (!matched)
            log_warn("unmatched request: \"%s\"", argv[a]);
    }
    master_conf_free(&mc);
}

static int show(const struct options *o, int argc, char **argv)
{
    if (!o->defaults) {
        char err[ERR_TEXT_MAX];
        if (config_load(config_dir(o->dir), err, sizeof err) < 0)
            log_fatal_code(EX_CONFIG, "%s", err);
    }
    if (o->master) {
        show_master(o, argc, argv);
    } else if (optind == argc) {
        config_print_all(stdout, o->defaults, o->explicit_only, o->no_names, !o->expand);
    } else {
        for (int i = optind; i < argc; i++) {
            bool explicit_setting = false;
            if (o->explicit_only && config_raw(argv[i], &explicit_setting) && !explicit_setting)
                continue;
            config_print(stdout, argv[i], o->defaults, o->no_names, !o->expand);
        }
    }
    if (fflush(stdout) == EOF || ferror(stdout)) {
        log_error("cannot write the output: %s", strerror(errno));
        return EX_IOERR;
    }
    return EX_OK;
}

int main(int argc, char **argv)
{
    log_init("ternconf");
    log_set_stderr(true);
    struct options o = { 0 };
    parse_options(argc, argv, &o);
    if (o.edit || o.remove)
        return run_edits(&o, argc, argv);
    return show(&o, argc, argv);
}

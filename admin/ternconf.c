/* ternconf.c: the `ternconf` command, tern's postconf: shows tern.conf parameters (all, only the
 * explicit ones, or the defaults) and edits tern.conf in place (-e sets, -X removes). Like
 * postconf, values are shown as written unless -x asks for them expanded. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "config.h"
#include "log.h"

struct options {
    const char *dir;
    bool defaults, explicit_only, no_names, expand, edit, remove;
};

static _Noreturn void usage(void)
{
    fprintf(stderr,
            "usage: ternconf [-c dir] [-n | -d] [-h] [-x] [name ...]\n"
            "       ternconf [-c dir] -e 'name = value' ...\n"
            "       ternconf [-c dir] -X name ...\n");
    exit(EX_USAGE);
}

static void parse_options(int argc, char **argv, struct options *o)
{
    int c;
    while ((c = getopt(argc, argv, "+c:dehnxX")) != -1) {
        switch (c) {
        case 'c': o->dir = optarg; break;
        case 'd': o->defaults = true; break;
        case 'e': o->edit = true; break;
        case 'h': o->no_names = true; break;
        case 'n': o->explicit_only = true; break;
        case 'x': o->expand = true; break;
        case 'X': o->remove = true; break;
        default: usage();
        }
    }
    bool shows = o->defaults || o->explicit_only || o->no_names || o->expand;
    if ((o->defaults && o->explicit_only) || (o->edit && o->remove) ||
        ((o->edit || o->remove) && (shows || optind == argc)))
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
        char err[CONFIG_ERR_MAX];
        int r = o->edit ? config_edit_set(dir, argv[i], err)
                        : config_edit_remove(dir, argv[i], err);
        if (r < 0) {
            int status = edit_status(errno);
            log_error("%s", err);
            return status;
        }
    }
    return EX_OK;
}

static int show(const struct options *o, int argc, char **argv)
{
    if (!o->defaults) {
        char err[CONFIG_ERR_MAX];
        if (config_load(config_dir(o->dir), err) < 0)
            log_fatal_code(EX_CONFIG, "%s", err);
    }
    if (optind == argc) {
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

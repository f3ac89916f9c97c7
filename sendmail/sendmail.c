/* sendmail.c: the sendmail(1) command (bin/sendmail; also mailq and newaliases by its name).
 * It is not set-uid: a message read on standard input goes to the set-gid terndrop helper as a
 * maildrop file (drop.h), which pickup(8) turns into a queue file. It takes the options real
 * callers use (cron, mutt, git send-email, PHP, unattended-upgrades, ...), ignores the old
 * -o/-O ones, and hands -bp/-q to ternqueue(1); -bs is smtp_stdio.c. Exit codes: sysexits.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>
#include "addrlist.h"
#include "config.h"
#include "dict.h"
#include "drop.h"
#include "lists.h"
#include "maildrop.h"
#include "qfile.h"
#include "sendmail.h"
#include "smtp_parse.h"

enum mode { MODE_DELIVER, MODE_SMTP, MODE_LIST, MODE_ALIASES, MODE_FLUSH };

struct args {
    enum mode mode;
    const char *config_dir;
    const char *sender;          /* -f / -r */
    const char *fullname;        /* -F */
    const char *notify;          /* -N */
    const char *ret;             /* -R */
    const char *envid;           /* -V */
    const char *body;            /* -B */
    const char *flush_arg;       /* -qI<id> / -qR<site>: "I..." / "R..." */
    bool extract;                /* -t */
    bool ignore_dots;            /* -i, -oi */
    bool verbose;
    bool queue_interval;         /* -q<time>: a daemon's queue run interval, ignored */
    char **rcpt;
    int nrcpt;
};

static _Noreturn void usage(const char *why, const char *what)
{
    fprintf(stderr, "sendmail: %s%s%s\n", why, what ? ": " : "", what ? what : "");
    fprintf(stderr, "usage: sendmail [-t] [-i] [-f sender] [-F name] [-N dsn] [-R ret] "
                    "[-V envid] [-B body] [-C dir] [--] recipient...\n"
                    "       sendmail -bs | -bp | -bi | -q | -qI<id> | -qR<site>\n");
    exit(EX_USAGE);
}

static bool takes_value(char c)
{
    return strchr("fFrNRVBCLhXO", c) != NULL;
}

/* One option letter with its value (when it takes one). */
static void option(struct args *a, char c, const char *value)
{
    switch (c) {
    case 'f': case 'r': a->sender = value; break;
    case 'F': a->fullname = value; break;
    case 'N': a->notify = value; break;
    case 'R': a->ret = value; break;
    case 'V': a->envid = value; break;
    case 'B': a->body = value; break;
    case 'C': a->config_dir = value; break;
    case 't': a->extract = true; break;
    case 'i': a->ignore_dots = true; break;
    case 'v': a->verbose = true; break;
    case 'I': a->mode = MODE_ALIASES; break;
    case 'L': case 'h': case 'X': case 'O':   /* syslog label, hop count, traffic log, options */
    case 'n': case 'U': case 'm': case 'e': case 'A': case 'G': case 'd':
        break;
    default: {
        char s[3] = { '-', c, '\0' };
        usage("unknown option", s);
    }
    }
}

static void mode_option(struct args *a, const char *v)
{
    if (strcmp(v, "m") == 0)
        a->mode = MODE_DELIVER;
    else if (strcmp(v, "s") == 0)
        a->mode = MODE_SMTP;
    else if (strcmp(v, "p") == 0)
        a->mode = MODE_LIST;
    else if (strcmp(v, "i") == 0)
        a->mode = MODE_ALIASES;
    else {
        char s[16];
        snprintf(s, sizeof s, "-b%.8s", v);
        usage("this mode is not supported (-bm, -bs, -bp and -bi are)", s);
    }
}

/* -q: run the queue now; -qI<id>, -qR<site>: one message, one site; -q<time> (a queue run
 * interval for a daemon) is accepted and ignored, as the queue manager runs by itself. */
static void queue_option(struct args *a, const char *v)
{
    if (v[0] == 'I' || v[0] == 'R') {
        if (v[1] == '\0')
            usage("-qI and -qR need a value", NULL);
        a->flush_arg = v;
        a->mode = MODE_FLUSH;
    } else if (v[0] == '\0') {
        a->mode = MODE_FLUSH;
    } else if (strspn(v, "0123456789smhdw") != strlen(v)) {
        usage("bad -q option", v);
    } else {
        a->queue_interval = true;
    }
}

static void parse_args(struct args *a, int argc, char **argv)
{
    const char *name = strrchr(argv[0], '/');
    name = name ? name + 1 : argv[0];
    if (strcmp(name, "mailq") == 0)
        a->mode = MODE_LIST;
    else if (strcmp(name, "newaliases") == 0)
        a->mode = MODE_ALIASES;
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0')
            break;
        for (const char *p = arg + 1; *p; p++) {
            char c = *p;
            if (c == 'o') {
                const char *v = p + 1;
                if (*v == '\0' && i + 1 < argc)
                    v = argv[++i];           /* "-o i" */
                if (strcmp(v, "i") == 0)
                    a->ignore_dots = true;   /* -oi; every other -oX is an old option */
                break;
            }
            if (c == 'b' || c == 'q') {
                const char *v = p + 1;
                if (c == 'b' && *v == '\0') {
                    if (++i == argc)
                        usage("-b needs a mode", NULL);
                    v = argv[i];
                }
                if (c == 'b')
                    mode_option(a, v);
                else
                    queue_option(a, v);
                break;
            }
            if (takes_value(c)) {
                const char *v = p + 1;
                if (*v == '\0') {
                    if (++i == argc) {
                        char s[3] = { '-', c, '\0' };
                        usage("this option needs a value", s);
                    }
                    v = argv[i];
                }
                option(a, c, v);
                break;
            }
            option(a, c, NULL);
        }
    }
    a->rcpt = argv + i;
    a->nrcpt = argc - i;
}

/* ---- the options that become message attributes ---- */

/* -N never | a list of success, failure, delay -> NOTIFY_* bits as text. */
static void notify_bits(const char *v, char out[16])
{
    unsigned bits = 0;
    char copy[128];
    snprintf(copy, sizeof copy, "%s", v);
    for (char *save, *w = strtok_r(copy, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
        if (strcasecmp(w, "never") == 0)
            bits |= NOTIFY_NEVER;
        else if (strcasecmp(w, "success") == 0)
            bits |= NOTIFY_SUCCESS;
        else if (strcasecmp(w, "failure") == 0)
            bits |= NOTIFY_FAILURE;
        else if (strcasecmp(w, "delay") == 0)
            bits |= NOTIFY_DELAY;
        else
            usage("bad -N value (never, or success, failure, delay)", v);
    }
    if (bits == 0 || ((bits & NOTIFY_NEVER) && bits != NOTIFY_NEVER))
        usage("bad -N value (never, or success, failure, delay)", v);
    snprintf(out, 16, "%u", bits);
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 32 || *s == 127)
            return false;
    return true;
}

/* Whether pickup will take addr as an address: an SMTP path once a domain is added to a bare
 * local part (pickup adds @$myorigin). */
static bool address_ok(const char *addr)
{
    char path[MAILDROP_FIELD_MAX + 32];
    int n = snprintf(path, sizeof path, strchr(addr, '@') ? "<%s>" : "<%s@x.invalid>", addr);
    if (n < 0 || (size_t)n >= sizeof path)
        return false;
    struct smtp_address parsed;
    int used = smtp_parse_path(path, (size_t)n, false, false, &parsed, NULL, 0);
    return used == n;
}

static int check_list_address(const char *addr, int bad, void *arg)
{
    if (bad || !address_ok(addr)) {
        fprintf(stderr, "sendmail: bad recipient address syntax: %s\n",
                bad ? (const char *)arg : addr);
        exit(EX_DATAERR);
    }
    return 0;
}

/* The envelope sender: -f as given ("" or <> for the null sender), else the login name. */
static void sender_of(const struct args *a, char *out, size_t size)
{
    if (a->sender) {
        const char *s = a->sender;
        size_t n = strlen(s);
        if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
            s++;
            n -= 2;
        }
        if (n > SMTP_PATH_MAX || !printable(s))
            usage("bad sender address", a->sender);
        snprintf(out, size, "%.*s", (int)n, s);
        if (out[0] && !address_ok(out))
            usage("bad sender address", a->sender);
        return;
    }
    struct passwd *pw = getpwuid(getuid());
    if (pw == NULL) {
        fprintf(stderr, "sendmail: no login name for user ID %lu\n", (unsigned long)getuid());
        exit(EX_NOUSER);
    }
    /* a login that is no dot-atom ("john smith", "AD\\john") becomes a quoted string */
    char quoted[2 * SMTP_LOCAL_MAX + 3];
    snprintf(quoted, sizeof quoted, "%s", pw->pw_name);
    if (!address_ok(quoted)) {
        size_t o = 0;
        quoted[o++] = '"';
        for (const char *p = pw->pw_name; *p && o < sizeof quoted - 3; p++) {
            if (*p == '"' || *p == '\\')
                quoted[o++] = '\\';
            quoted[o++] = *p;
        }
        quoted[o++] = '"';
        quoted[o] = '\0';
    }
    if (!address_ok(quoted)) {
        fprintf(stderr, "sendmail: the login name \"%s\" cannot be a mail address; use -f\n",
                pw->pw_name);
        exit(EX_NOUSER);
    }
    snprintf(out, size, "%s", quoted);
}

/* The full name for a From: line pickup may add: -F, else the account's name (GECOS). */
static void fullname_of(const struct args *a, char *out, size_t size)
{
    out[0] = '\0';
    if (a->fullname) {
        snprintf(out, size, "%s", a->fullname);
    } else {
        struct passwd *pw = getpwuid(getuid());
        if (pw && pw->pw_gecos)
            snprintf(out, size, "%.*s", (int)strcspn(pw->pw_gecos, ","), pw->pw_gecos);
    }
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 32 || *p == 127)
            *p = ' ';
}

/* ---- the command line submission ---- */

struct reader {
    bool ignore_dots;
    bool first;          /* nothing read yet: an mbox "From " line is dropped */
    bool line_start;
    int dot;             /* 1: "." at a line start held back; 2: ".\r" */
    bool skipping;       /* inside the dropped "From " line */
    unsigned long long size;
};

/* Feeds input bytes; returns true when a line with a single dot ended the message. */
static bool feed(struct reader *r, struct drop *d, const char *p, size_t n)
{
    size_t i = 0;
    if (r->first && n > 0) {
        r->first = false;
        if (n >= 5 && memcmp(p, "From ", 5) == 0)
            r->skipping = true;
    }
    size_t start = 0;
    for (; i < n; i++) {
        char c = p[i];
        if (r->skipping) {
            if (c == '\n') {
                r->skipping = false;
                r->line_start = true;
                start = i + 1;
            }
            continue;
        }
        if (r->dot) {
            if (c == '\n') {
                r->dot = 0;   /* the end marker, not content */
                return true;
            }
            if (c == '\r' && r->dot == 1) {
                r->dot = 2;
                continue;
            }
            drop_content(d, r->dot == 1 ? "." : ".\r", (size_t)r->dot);
            r->dot = 0;
            start = i;
        }
        if (r->line_start && c == '.' && !r->ignore_dots) {
            drop_content(d, p + start, i - start);
            r->dot = 1;
            r->line_start = false;
            start = i + 1;
            continue;
        }
        r->line_start = c == '\n';
    }
    if (!r->skipping && !r->dot && i > start)
        drop_content(d, p + start, i - start);
    return false;
}

/* Waits for input, sending what is buffered first so that terndrop never waits on it. */
static int wait_input(struct drop *d)
{
    struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
    for (;;) {
        int pr = poll(&pfd, 1, 0);
        if (pr == 0) {
            drop_flush(d);
            pr = poll(&pfd, 1, SENDMAIL_INPUT_TIMEOUT_MS);
        }
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            fprintf(stderr, "sendmail: no input for a day; giving up\n");
            return EX_TEMPFAIL;
        }
        return 0;
    }
}

/* Reads standard input into the drop. 0, or an exit code. */
static int read_message(const struct args *a, struct drop *d)
{
    struct reader r = { a->ignore_dots, true, true, 0, false, 0 };
    char buf[65536];
    size_t have = 0;   /* bytes held back until the "From " test can be made */
    for (;;) {
        int code = wait_input(d);
        if (code)
            return code;
        ssize_t n = read(STDIN_FILENO, buf + have, sizeof buf - have);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "sendmail: cannot read the message: %s\n", strerror(errno));
            return EX_IOERR;
        }
        if (n > 0 && r.first && have + (size_t)n < 5 && !memchr(buf, '\n', have + (size_t)n)) {
            have += (size_t)n;
            continue;
        }
        size_t got = have + (size_t)n;
        have = 0;
        if (got == 0)
            break;
        if (feed(&r, d, buf, got))
            break;
        if (n == 0)
            break;
        if (d->broken)
            break;   /* terndrop refused (too big, ...): it says why */
    }
    if (r.dot)   /* input ended right after a held-back dot: it was content */
        drop_content(d, r.dot == 1 ? "." : ".\r", (size_t)r.dot);
    return 0;
}

static int submit(const struct args *a, const struct sendmail_opts *o)
{
    if (a->nrcpt == 0 && !a->extract) {
        if (a->queue_interval)
            return EX_OK;   /* "sendmail -bd -q1h" style: the queue manager runs by itself */
        usage("no recipient addresses (give them as arguments, or use -t)", NULL);
    }
    char sender[SMTP_PATH_MAX + 1], fullname[256], notify[16] = "";
    sender_of(a, sender, sizeof sender);
    fullname_of(a, fullname, sizeof fullname);
    if (a->notify)
        notify_bits(a->notify, notify);
    if (a->ret && strcasecmp(a->ret, "full") != 0 && strcasecmp(a->ret, "hdrs") != 0)
        usage("bad -R value (full or hdrs)", a->ret);
    if (a->body && strcasecmp(a->body, "8bitmime") != 0 && strcasecmp(a->body, "7bit") != 0)
        usage("bad -B value (8BITMIME or 7BIT)", a->body);
    if (a->envid && (strlen(a->envid) > SMTP_ENVID_MAX || !printable(a->envid)))
        usage("bad -V value (printable, at most 100 characters)", a->envid);
    for (int i = 0; i < a->nrcpt; i++) {
        /* each argument is an address list, as pickup reads it */
        if (strlen(a->rcpt[i]) > MAILDROP_FIELD_MAX || !printable(a->rcpt[i]) ||
            addrlist_parse(a->rcpt[i], strlen(a->rcpt[i]), check_list_address, a->rcpt[i]) == 0)
            check_list_address(a->rcpt[i], 1, a->rcpt[i]);
    }

    struct drop d;
    if (drop_open(&d, o->terndrop, o->config_dir, sender) < 0)
        return EX_UNAVAILABLE;
    if (fullname[0])
        drop_attr(&d, "fullname", fullname);
    if (a->envid)
        drop_attr(&d, "envid", a->envid);
    if (a->ret)
        drop_attr(&d, "ret", strcasecmp(a->ret, "full") == 0 ? "FULL" : "HDRS");
    if (a->body)
        drop_attr(&d, "body", strcasecmp(a->body, "7bit") == 0 ? "7BIT" : "8BITMIME");
    if (notify[0])
        drop_attr(&d, "notify", notify);
    if (a->extract)
        drop_attr(&d, "extract", "yes");
    for (int i = 0; i < a->nrcpt; i++)
        drop_recipient(&d, a->rcpt[i]);
    int code = read_message(a, &d);
    if (code != 0) {
        drop_abort(&d);
        return code;
    }
    code = drop_close(&d);
    if (code == 0 && o->verbose)
        fprintf(stderr, "sendmail: the message is queued for delivery\n");
    return code;
}

/* ---- the other modes ---- */

/* mailq and the queue runs are ternqueue's: the program next to this one. */
static _Noreturn void run_ternqueue(const struct args *a, const char *what, const char *value)
{
    char self[PATH_MAX], prog[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "sendmail: cannot find my own program: %s\n", strerror(errno));
        exit(EX_OSERR);
    }
    self[n] = '\0';
    snprintf(prog, sizeof prog, "%s/ternqueue", dirname(self));
    char *argv[8];
    int i = 0;
    argv[i++] = "ternqueue";
    if (a->config_dir) {
        argv[i++] = "-c";
        argv[i++] = (char *)a->config_dir;
    }
    argv[i++] = (char *)what;
    if (value)
        argv[i++] = (char *)value;
    argv[i] = NULL;
    execv(prog, argv);
    fprintf(stderr, "sendmail: cannot run %s: %s\n", prog, strerror(errno));
    exit(EX_UNAVAILABLE);
}

/* A table that fails is reported and the next one is built: only the exit code remembers it, so
 * err (list_read's) only holds the message printed here. */
static int build_alias(void *arg, char *item, char *err, size_t errlen)
{
    int *code = arg;
    if (!dict_type_is_built(item)) {
        fprintf(stderr, "newaliases: %s: only hash: and btree: tables are built\n", item);
        *code = EX_CONFIG;
        return 0;
    }
    enum dict_build_error e;
    if (dict_build_why(item, DICT_FORMAT_ALIAS, &e, err, errlen) < 0) {
        fprintf(stderr, "newaliases: %s\n", err);
        *code = e == DICT_BUILD_ERR_READ     ? EX_NOINPUT
                : e == DICT_BUILD_ERR_SOURCE ? EX_DATAERR
                : e == DICT_BUILD_ERR_CREATE ? EX_CANTCREAT
                : e == DICT_BUILD_ERR_WRITE  ? EX_IOERR
                                             : EX_USAGE;
    }
    return 0;
}

/* newaliases: every table of alias_database, from its aliases(5) source. */
static int newaliases(void)
{
    int code = 0;
    char err[512];
    if (list_read("alias_database", build_alias, &code, err, sizeof err) < 0) {
        fprintf(stderr, "newaliases: %s\n", err);
        return EX_CONFIG;
    }
    return code;
}

int main(int argc, char **argv)
{
    if (argc < 1)
        return EX_USAGE;
    struct args a;
    memset(&a, 0, sizeof a);
    parse_args(&a, argc, argv);
    if (a.mode == MODE_LIST)
        run_ternqueue(&a, "-p", NULL);
    if (a.mode == MODE_FLUSH)
        run_ternqueue(&a, a.flush_arg == NULL ? "-f" : a.flush_arg[0] == 'I' ? "-i" : "-s",
                      a.flush_arg ? a.flush_arg + 1 : NULL);

    struct sendmail_opts o;
    memset(&o, 0, sizeof o);
    o.config_dir = config_dir(a.config_dir);
    char err[ERR_TEXT_MAX];
    if (config_load(o.config_dir, err, sizeof err) < 0) {
        fprintf(stderr, "sendmail: %s\n", err);
        return EX_CONFIG;
    }
    if (a.mode == MODE_ALIASES)
        return newaliases();
    const char *daemons = config_str("daemon_directory");
    char terndrop[PATH_MAX];
    snprintf(terndrop, sizeof terndrop, "%s/terndrop", daemons[0] ? daemons : TERN_DAEMON_DIR);
    o.terndrop = terndrop;
    o.myhostname = config_str("myhostname");
    o.size_limit = config_size("message_size_limit");
    o.verbose = a.verbose;
    if (a.mode == MODE_SMTP)
        return smtp_stdio_run(&o);
    return submit(&a, &o);
}

/* tern_setup.c: `tern setup [--links [--force]] [--root DIR]`, run as root after `make install`,
 * makes the installed tern the host's mail system: the user tern and group terndrop, the queue
 * directory, the set-gid helpers, the alias database, a self-signed TLS certificate, an empty
 * AUTH table, an empty DKIM signing table and the SRS key (when srs_domain is set) when there
 * are none, then `tern check`; with --links, the names other programs call
 * the mail system by point at tern's sendmail. It creates only what is missing, fixes only what
 * is wrong and says what it changed, so a second run changes nothing. --root DIR takes every
 * path under DIR (a DESTDIR tree, an image); the user and group are the running system's. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include <sodium.h>
#include "admin.h"
#include "buf.h"
#include "config.h"
#include "dict.h"
#include "lists.h"
#include "log.h"
#include "mem.h"
#include "priv.h"
#include "qdir.h"
#include "safefile.h"
#include "srs.h"

/* Where `make install` puts tern's sendmail, and the names Debian Policy 11.6 says programs call
 * the mail system by; --links makes those symbolic links to it. */
#define SENDMAIL_PATH TERN_SBIN_DIR "/sendmail"
static const char *const sendmail_links[] = {
    "/usr/sbin/sendmail", "/usr/lib/sendmail", "/usr/bin/mailq", "/usr/bin/newaliases", NULL,
};

/* The programs that run set-gid setgid_group: terndrop creates files in maildrop/ and ternqueue
 * reaches the sockets in public/, both of which only that group may use. */
static const struct {
    bool in_daemon_dir;    /* else in TERN_SBIN_DIR */
    const char *name;
} setgid_programs[] = {
    { true, "terndrop" },
    { false, "ternqueue" },
};

/* Written to a missing alias database source when no installed sample is found. */
static const char default_aliases[] =
    "# aliases: the local aliases of this host (aliases(5)); after a change run newaliases.\n"
    "postmaster: root\n";
static const char empty_sasl_users[] =
    "# sasl_users: logins for AUTH on the submission services, one `login HASH` a line; HASH\n"
    "# is what ternpasswd prints for the password (argon2id). Run `tern reload` after a change.\n";

static struct {
    const char *root;      /* "" or an absolute directory without a trailing slash */
    bool links, force;
    int changes;
    int code;              /* the first failure's sysexits code, or 0 */
} S = { .root = "" };

static void usage(void)
{
    fprintf(stderr, "usage: tern [-c config_dir] [-o name=value]... setup [--links [--force]] "
                    "[--root DIR]\n");
    exit(EX_USAGE);
}

static void failed(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failed(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(LOG_SEV_ERROR, fmt, ap);
    va_end(ap);
    if (S.code == 0)
        S.code = code;
}

/* path under --root (malloc'd). */
static char *rooted(const char *path)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_printf(&b, "%s%s", S.root, path);
    return buf_steal(&b);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Creates the missing directories above path (mode 0755), as `mkdir -p $(dirname path)`. */
static int make_parents(const char *path)
{
    char *p = xstrdup(path);
    int r = 0;
    for (char *slash = strchr(p + 1, '/'); slash && r == 0; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            r = -1;
        *slash = '/';
    }
    free(p);
    return r;
}

/* ---- the queue directory ---- */

struct dir_state {
    bool present;
    struct stat st;
};

static void queue_ids(struct qdir_ids *ids, bool *ok)
{
    char err[512];
    *ok = priv_lookup_user(config_str("mail_owner"), &ids->mail_owner, &ids->mail_owner_gid, err,
                           sizeof err) == 0 &&
          priv_lookup_group(config_str("setgid_group"), &ids->setgid_gid, err, sizeof err) == 0;
    if (!*ok)
        failed(EX_NOUSER, "%s", err);
    ids->root_uid = 0;
    ids->root_gid = 0;
}

static void snapshot_queue(const char *qdir, struct dir_state *states)
{
    struct buf path;
    buf_init(&path, BUF_UNBOUNDED);
    for (int i = 0; qdir_table[i].name; i++) {
        buf_set(&path, qdir);
        buf_printf(&path, "/%s", qdir_table[i].name);
        states[i].present = lstat(buf_str(&path), &states[i].st) == 0;
    }
    buf_free(&path);
}

static void setup_queue(void)
{
    struct qdir_ids ids;
    bool ok;
    queue_ids(&ids, &ok);
    if (!ok)
        return;
    char *qdir = rooted(config_str("queue_directory"));
    size_t n = 0;
    while (qdir_table[n].name)
        n++;
    struct dir_state *before = xcalloc(n, sizeof *before), *after = xcalloc(n, sizeof *after);
    snapshot_queue(qdir, before);
    char err[512];
    if (!before[0].present && make_parents(qdir) < 0) {
        failed(EX_CANTCREAT, "cannot create the directories above %s: %s", qdir, strerror(errno));
    } else if (qdir_setup(qdir, &ids, true, err, sizeof err) < 0) {
        failed(EX_CANTCREAT, "%s", err);
    } else {
        snapshot_queue(qdir, after);
        int created = 0, fixed = 0;
        for (size_t i = 0; i < n; i++) {
            if (!before[i].present)
                created++;
            else if (before[i].st.st_mode != after[i].st.st_mode ||
                     before[i].st.st_gid != after[i].st.st_gid)
                fixed++;
        }
        if (!before[0].present)
            log_info("created the queue directory %s", qdir);
        else if (created)
            log_info("created %d missing director%s of the queue directory %s", created,
                     created == 1 ? "y" : "ies", qdir);
        S.changes += created + fixed;
    }
    free(before);
    free(after);
    free(qdir);
}

/* ---- the set-gid programs ---- */

static void setup_setgid_program(const char *path, gid_t gid, const char *group)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        failed(EX_UNAVAILABLE, "%s: %s; install tern first (make install)", path,
               errno == ELOOP ? "a symbolic link" : strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        failed(EX_UNAVAILABLE, "%s: not a regular file", path);
    } else if (st.st_uid != 0 || st.st_nlink != 1) {
        /* root makes set-gid only a program that root installed (make install as root) */
        failed(EX_NOPERM, "%s: owned by uid %ld with %ld links: not made set-gid; install it "
               "as root", path, (long)st.st_uid, (long)st.st_nlink);
    } else if (st.st_gid != gid || (st.st_mode & 07777) != 02755) {
        /* the group first: chown clears the set-gid bit */
        if (fchown(fd, 0, gid) < 0 || fchmod(fd, 02755) < 0) {
            failed(EX_NOPERM, "%s: cannot make it root:%s mode 2755: %s", path, group,
                   strerror(errno));
        } else {
            log_info("%s: owner root, group %s, mode 2755 (was uid %ld, gid %ld, mode %04o)",
                     path, group, (long)st.st_uid, (long)st.st_gid,
                     (unsigned)(st.st_mode & 07777));
            S.changes++;
        }
    }
    close(fd);
}

static void setup_setgid_programs(const char *daemon_dir)
{
    const char *group = config_str("setgid_group");
    gid_t gid;
    char err[512];
    if (priv_lookup_group(group, &gid, err, sizeof err) < 0) {
        failed(EX_NOUSER, "setgid_group: %s", err);
        return;
    }
    if (gid == 0) {
        failed(EX_CONFIG, "setgid_group = %s: the set-gid programs must not get group root",
               group);
        return;
    }
    for (size_t i = 0; i < sizeof setgid_programs / sizeof setgid_programs[0]; i++) {
        struct buf b;
        buf_init(&b, BUF_UNBOUNDED);
        buf_printf(&b, "%s%s/%s", S.root,
                   setgid_programs[i].in_daemon_dir ? daemon_dir : TERN_SBIN_DIR,
                   setgid_programs[i].name);
        setup_setgid_program(buf_str(&b), gid, group);
        buf_free(&b);
    }
}

/* ---- tables: the alias database, the AUTH logins, the DKIM signing keys ---- */

static bool file_table(const char *spec)
{
    return dict_type_is_built(spec) || strncmp(spec, "texthash:", 9) == 0;
}

static bool stale(const char *source, const char *db)
{
    struct stat s, d;
    if (stat(db, &d) < 0)
        return true;
    if (stat(source, &s) < 0)
        return false;
    return s.st_mtim.tv_sec > d.st_mtim.tv_sec ||
           (s.st_mtim.tv_sec == d.st_mtim.tv_sec && s.st_mtim.tv_nsec > d.st_mtim.tv_nsec);
}

/* A file table of the configuration (hash:, btree:, texthash: with an absolute path): its
 * source is created from text when missing; a hash:/btree: .db is built when it is missing or
 * older than its source. */
static void ensure_table(const char *param, const char *spec, const char *text, mode_t mode,
                         enum dict_format format)
{
    const char *path = strchr(spec, ':') + 1;
    if (!file_table(spec) || path[0] != '/')
        return;
    char *source = rooted(path);
    if (!exists(source)) {
        if (make_parents(source) < 0 || safe_write_file(source, text, strlen(text), mode) < 0) {
            failed(EX_CANTCREAT, "%s: cannot create %s: %s", param, source, strerror(errno));
            free(source);
            return;
        }
        log_info("%s: created %s", param, source);
        S.changes++;
    }
    if (dict_type_is_built(spec)) {
        struct buf db, built;
        buf_init(&db, BUF_UNBOUNDED);
        buf_init(&built, BUF_UNBOUNDED);
        buf_printf(&db, "%s.db", source);
        buf_printf(&built, "%.*s:%s", (int)(path - spec - 1), spec, source);
        char err[ERR_TEXT_MAX];
        if (stale(source, buf_str(&db))) {
            long n = dict_build(buf_str(&built), format, err, sizeof err);
            if (n < 0) {
                failed(EX_DATAERR, "%s: %s", param, err);
            } else {
                log_info("%s: built %s (%ld entr%s)", param, buf_str(&db), n, n == 1 ? "y" : "ies");
                S.changes++;
            }
        }
        buf_free(&db);
        buf_free(&built);
    }
    free(source);
}

static void setup_aliases(void)
{
    /* the sample make install put next to tern.conf, else the one line every host needs */
    struct buf text;
    buf_init(&text, BUF_UNBOUNDED);
    char *sample = rooted(TERN_CONFIG_DIR "/aliases.sample");
    if (safe_read_file(sample, 1024 * 1024, &text) < 0)
        buf_set(&text, default_aliases);
    free(sample);
    char *list = xstrdup(config_str("alias_database")), *save = NULL;
    for (char *spec = strtok_r(list, ", \t", &save); spec; spec = strtok_r(NULL, ", \t", &save))
        if (strchr(spec, ':'))
            ensure_table("alias_database", spec, buf_str(&text), 0644, DICT_FORMAT_ALIAS);
    free(list);
    buf_free(&text);
}

static void setup_sasl_users(void)
{
    const char *spec = config_str("smtpd_sasl_users");
    if (strchr(spec, ':'))
        ensure_table("smtpd_sasl_users", spec, empty_sasl_users, 0600, DICT_FORMAT_MAP);
    spec = config_str("smtpd_sender_login_maps");
    if (strchr(spec, ':') && !strpbrk(spec, LIST_SEPARATORS))
        ensure_table("smtpd_sender_login_maps", spec, SENDER_LOGINS_TEXT, 0644,
                     DICT_FORMAT_MAP);
    /* the daemons read it at start: an install older than DKIM signing has none */
    spec = config_str("dkim_signing_keys");
    if (strchr(spec, ':'))
        ensure_table("dkim_signing_keys", spec, DKIM_SIGNING_KEYS_TEXT, 0644, DICT_FORMAT_MAP);
}

/* ---- TLS: a self-signed certificate when neither file exists ---- */

static void setup_tls(void)
{
    const char *cert = config_str("smtpd_tls_cert_file"), *key = config_str("smtpd_tls_key_file");
    if (*cert != '/' || *key != '/')
        return;
    char *rcert = rooted(cert), *rkey = rooted(key);
    bool have_cert = exists(rcert), have_key = exists(rkey);
    if (have_cert != have_key) {
        failed(EX_CONFIG, "%s exists but %s does not: smtpd needs both (smtpd_tls_cert_file, "
               "smtpd_tls_key_file)", have_cert ? rcert : rkey, have_cert ? rkey : rcert);
    } else if (!have_cert) {
        char host[256];
        snprintf(host, sizeof host, "%s", config_str("myhostname"));
        if (make_parents(rcert) < 0 || make_parents(rkey) < 0) {
            failed(EX_CANTCREAT, "cannot create the directory of %s: %s", rcert, strerror(errno));
        } else {
            tern_make_certificate(rcert, rkey, host);
            log_info("made a self-signed certificate for %s: %s, key %s; replace it with one "
                     "that clients can check", host, rcert, rkey);
            S.changes++;
        }
    }
    free(rcert);
    free(rkey);
}

/* ---- SRS: the key of srs_domain when it is missing ---- */

/* srs_key_file under --root; its default, under $config_directory, is there already. */
static char *srs_key_path(void)
{
    bool set;
    const char *raw = config_raw("srs_key_file", &set);
    const char *path = config_str("srs_key_file");
    if (!set || strncmp(raw, "$config_directory", 17) == 0 ||
        strncmp(raw, "${config_directory}", 19) == 0)
        return xstrdup(path);
    return rooted(path);
}

static void setup_srs(void)
{
    const char *domain = config_str("srs_domain");
    if (domain[strspn(domain, LIST_SEPARATORS)] == '\0') {
        log_info("srs_domain is not set: mail that aliases and .forward files send to other "
                 "domains keeps its sender, which SPF may refuse there; set it to a domain of "
                 "mydestination (`ternconf -e 'srs_domain = $myhostname'`) and run tern setup "
                 "again to make its key");
        return;
    }
    char *path = srs_key_path();
    char err[ERR_TEXT_MAX];
    struct srs_key key;
    if (!exists(path)) {
        if (make_parents(path) < 0)
            failed(EX_CANTCREAT, "cannot create the directory of %s: %s", path,
                   strerror(errno));
        else if (srs_key_generate(path, err, sizeof err) < 0)
            failed(EX_CANTCREAT, "%s", err);
        else {
            log_info("made the SRS key %s for srs_domain = %s", path, domain);
            S.changes++;
        }
    } else if (srs_key_load(path, &key, err, sizeof err) < 0) {
        failed(EX_CONFIG, "%s", err);
    }
    sodium_memzero(&key, sizeof key);
    free(path);
}

/* ---- sendmail, mailq, newaliases ---- */

/* Whether path (under --root) is tern's sendmail: a link to it, or the file itself. */
static bool is_ours(const char *path, const struct stat *ours)
{
    struct stat st;
    char target[PATH_MAX];
    if (lstat(path, &st) < 0)
        return false;
    if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0)
            return false;
        target[n] = '\0';
        return strcmp(target, SENDMAIL_PATH) == 0;
    }
    return S_ISREG(st.st_mode) && st.st_dev == ours->st_dev && st.st_ino == ours->st_ino;
}

/* Puts a link to SENDMAIL_PATH at path in one rename, so the name never goes missing. */
static int replace_with_link(const char *path)
{
    struct buf tmp;
    buf_init(&tmp, BUF_UNBOUNDED);
    buf_printf(&tmp, "%s.tern-setup.%ld", path, (long)getpid());
    unlink(buf_str(&tmp));
    int r = symlink(SENDMAIL_PATH, buf_str(&tmp));
    if (r == 0 && (r = rename(buf_str(&tmp), path)) < 0) {
        int saved = errno;
        unlink(buf_str(&tmp));
        errno = saved;
    }
    buf_free(&tmp);
    return r;
}

static void setup_link(const char *name, const struct stat *ours)
{
    char *path = rooted(name);
    struct stat st;
    if (is_ours(path, ours))
        goto out;
    if (lstat(path, &st) < 0) {
        if (make_parents(path) < 0 || symlink(SENDMAIL_PATH, path) < 0)
            failed(EX_CANTCREAT, "cannot link %s to %s: %s", path, SENDMAIL_PATH,
                   strerror(errno));
        else {
            log_info("linked %s -> %s", path, SENDMAIL_PATH);
            S.changes++;
        }
        goto out;
    }
    char was[PATH_MAX] = "";
    if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlink(path, was, sizeof was - 1);
        was[n > 0 ? n : 0] = '\0';
    } else if (!S_ISREG(st.st_mode)) {
        failed(EX_CANTCREAT, "%s is not a file or a symbolic link: not replacing it", path);
        goto out;
    } else if (!S.force) {
        failed(EX_CANTCREAT, "%s is a file that is not tern's sendmail (another mail system's?): "
               "not replacing it; remove it, or run `tern setup --links --force`", path);
        goto out;
    }
    if (replace_with_link(path) < 0) {
        failed(EX_CANTCREAT, "cannot replace %s with a link to %s: %s", path, SENDMAIL_PATH,
               strerror(errno));
    } else {
        if (was[0])
            log_info("linked %s -> %s (it pointed at %s)", path, SENDMAIL_PATH, was);
        else
            log_info("replaced the file %s with a link to %s (--force)", path, SENDMAIL_PATH);
        S.changes++;
    }
out:
    free(path);
}

static void setup_links(void)
{
    char *ours_path = rooted(SENDMAIL_PATH);
    struct stat ours;
    if (stat(ours_path, &ours) < 0 || !S_ISREG(ours.st_mode)) {
        failed(EX_UNAVAILABLE, "tern's sendmail is not installed at %s; install tern first "
               "(make install)", ours_path);
    } else if (S.links) {
        for (int i = 0; sendmail_links[i]; i++)
            setup_link(sendmail_links[i], &ours);
    } else {
        char *path = rooted(sendmail_links[0]);
        if (!is_ours(path, &ours))
            log_info("%s is not tern's sendmail: `tern setup --links` makes it, /usr/lib/sendmail, "
                     "/usr/bin/mailq and /usr/bin/newaliases point at %s", path, SENDMAIL_PATH);
        free(path);
    }
    free(ours_path);
}

/* ---- tern check, with the paths under --root ---- */

static void override(const char *name, const char *value)
{
    struct buf b;
    char err[ERR_TEXT_MAX];
    buf_init(&b, BUF_UNBOUNDED);
    buf_printf(&b, "%s=%s", name, value);
    if (config_override(buf_str(&b), err, sizeof err) < 0)
        failed(EX_CONFIG, "%s", err);
    buf_free(&b);
}

/* With --root, tern check must look at the tree, not at the running system: the queue, the
 * daemons and every file table are taken under DIR. Tables are rewritten in the raw values, so
 * a reference such as local_recipient_maps' $alias_maps follows the rewritten alias_maps. */
static void root_the_paths(const char *daemon_dir)
{
    char *queue = rooted(config_str("queue_directory")), *daemons = rooted(daemon_dir);
    override("queue_directory", queue);
    override("daemon_directory", daemons);
    free(queue);
    free(daemons);
    for (const struct param_def *p = param_table; p->name; p++) {
        size_t n = strlen(p->name);
        if (!(n > 5 && strcmp(p->name + n - 5, "_maps") == 0) &&
            strcmp(p->name, "alias_database") != 0)
            continue;
        bool set;
        struct buf value;
        buf_init(&value, BUF_UNBOUNDED);
        char *list = xstrdup(config_raw(p->name, &set)), *save = NULL;
        for (char *spec = strtok_r(list, ", \t", &save); spec;
             spec = strtok_r(NULL, ", \t", &save)) {
            const char *colon = strchr(spec, ':');
            buf_puts(&value, value.len ? " " : "");
            if (colon && file_table(spec) && colon[1] == '/')
                buf_printf(&value, "%.*s:%s%s", (int)(colon - spec), spec, S.root, colon + 1);
            else
                buf_puts(&value, spec);
        }
        override(p->name, buf_str(&value));
        free(list);
        buf_free(&value);
    }
}

static void check(const char *confdir, const char *daemon_dir)
{
    if (S.root[0])
        root_the_paths(daemon_dir);
    else if (*config_str("daemon_directory") == '\0')
        override("daemon_directory", daemon_dir);
    char err[ERR_TEXT_MAX];
    if (config_check_trusted(err, sizeof err) < 0)
        failed(EX_CONFIG, "the master would refuse to start as root: %s", err);
    int code = tern_check(confdir);
    if (code != 0 && S.code == 0)
        S.code = code;
}

/* Root acts on what the configuration says and makes programs set-gid: before any change, the
 * configuration, the daemon directory and the command directory (under --root) must be
 * controlled by root alone, or an ordinary user who owns the tree could steer it. */
static void require_root_controlled(const char *confdir, const char *daemon_dir)
{
    char resolved[PATH_MAX], err[2 * PATH_MAX];
    char *conf = NULL;
    char *daemons = rooted(daemon_dir), *sbin = rooted(TERN_SBIN_DIR);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_printf(&b, "%s/tern.conf", confdir);
    conf = buf_steal(&b);
    const char *paths[] = { confdir, conf, daemons, sbin };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (!exists(paths[i]) && i >= 2)
            continue;   /* not installed: setup_setgid_programs says so */
        if (safe_root_controlled(paths[i], resolved, err, sizeof err) < 0)
            log_fatal_code(EX_NOPERM, "nothing changed: root sets up only what root alone "
                           "controls: %s", err);
    }
    free(conf);
    free(daemons);
    free(sbin);
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--links") == 0) {
            S.links = true;
        } else if (strcmp(argv[i], "--force") == 0) {
            S.force = true;
        } else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
            static char root[PATH_MAX];
            const char *dir = argv[++i];
            if (dir[0] != '/')
                log_fatal_code(EX_USAGE, "--root %s: must be an absolute path", dir);
            if (realpath(dir, root) == NULL)
                log_fatal_code(EX_USAGE, "--root %s: %s", dir, strerror(errno));
            S.root = strcmp(root, "/") == 0 ? "" : root;
        } else {
            usage();
        }
    }
    if (S.force && !S.links)
        log_fatal_code(EX_USAGE, "--force is for --links: it replaces files in their place");
}

int tern_setup(const char *cli_config_dir, char **overrides, int noverrides, int argc, char **argv)
{
    parse_args(argc, argv);
    if (geteuid() != 0)
        log_fatal_code(EX_NOPERM, "tern setup must be run as root: it creates a user and a group "
                       "and hands files to them");
    umask(022);
    char *confdir = rooted(config_dir(cli_config_dir));
    char err[ERR_TEXT_MAX];
    if (config_load(confdir, err, sizeof err) < 0)
        log_fatal_code(EX_CONFIG, "%s", err);
    for (int i = 0; i < noverrides; i++)
        if (config_override(overrides[i], err, sizeof err) < 0)
            log_fatal_code(EX_CONFIG, "-o %s: %s", overrides[i], err);
    char *daemon_dir = xstrdup(*config_str("daemon_directory") ? config_str("daemon_directory")
                                                                : TERN_DAEMON_DIR);
    require_root_controlled(confdir, daemon_dir);
    S.changes += tern_ensure_accounts();
    setup_queue();
    setup_setgid_programs(daemon_dir);
    setup_aliases();
    setup_tls();
    setup_sasl_users();
    setup_srs();
    setup_links();
    check(confdir, daemon_dir);
    if (S.code)
        log_error("tern setup is not complete: see the errors above");
    else if (S.changes)
        log_info("made %d change%s; start the mail system with `systemctl enable --now tern` "
                 "or `tern start`", S.changes, S.changes == 1 ? "" : "s");
    else
        log_info("nothing to change: tern is set up");
    free(daemon_dir);
    free(confdir);
    return S.code;
}

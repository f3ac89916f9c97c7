/* tern_init.c: `tern init DIR`: a complete, self-contained instance in DIR: tern.conf,
 * master.conf, aliases (+ .db), an empty DKIM signing table and its key directory dkim/, the
 * queue directory spool/, the log log/mail.log, Maildir mailboxes under mail/ and the SRS key
 * srs.key, listening on 127.0.0.1. As root it uses the system user `tern` and group
 * `terndrop` (created when missing); as anyone else everything runs as that user. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "admin.h"
#include "buf.h"
#include "config.h"
#include "dict.h"
#include "log.h"
#include "mem.h"
#include "qdir.h"
#include "safefile.h"
#include "srs.h"
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sodium.h>

struct init_opts {
    const char *dir;
    int smtp_port, submission_port, smtps_port;
    char hostname[256];
};

/* master.conf entries written by init: a daemon not built yet is written commented out. */
static const struct {
    const char *service;   /* name, or the address the port of `port` is added to */
    int port;              /* 0 none, 1 smtp, 2 submission, 3 smtps */
    const char *columns;
    const char *command;
} services[] = {
    { "127.0.0.1", 1, "inet  n       -      n      -      -", "smtpd" },
    { "127.0.0.1", 2, "inet  n       -      n      -      -", "smtpd\n"
      "  -o syslog_name=tern/submission\n  -o smtpd_tls_security_level=encrypt\n"
      "  -o smtpd_sasl_auth_enable=yes\n  -o smtpd_require_auth=yes\n"
      "  -o smtpd_add_missing_headers=yes\n"
      "  -o smtpd_sender_restrictions=reject_sender_login_mismatch" },
    { "127.0.0.1", 3, "inet  n       -      n      -      -", "smtpd\n"
      "  -o syslog_name=tern/smtps\n  -o smtpd_tls_wrappermode=yes\n"
      "  -o smtpd_sasl_auth_enable=yes\n  -o smtpd_require_auth=yes\n"
      "  -o smtpd_add_missing_headers=yes\n"
      "  -o smtpd_sender_restrictions=reject_sender_login_mismatch" },
    { "pickup", 0, "unix  n       -      n      60     1", "pickup" },
    { "qmgr", 0, "unix  n       -      n      300    1", "qmgr" },
    { "showq", 0, "unix  n       -      n      -      -", "showq" },
    { "bounce", 0, "unix  -       -      n      -      0", "bounce" },
    { "smtp", 0, "unix  -       -      n      -      -", "smtp" },
    { "lmtp", 0, "unix  -       -      n      -      -", "smtp lmtp" },
    { "local", 0, "unix  -       n      n      -      -", "local" },
    { "virtual", 0, "unix  -       n      n      -      -", "virtual" },
};

const char *tern_daemon_dir(void)
{
    static char dir[PATH_MAX];
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            /* a build tree: bin/tern next to libexec/ and config.status */
            char probe[PATH_MAX + 32];
            snprintf(probe, sizeof probe, "%s/../config.status", exe);
            if (access(probe, F_OK) == 0) {
                snprintf(probe, sizeof probe, "%s/../libexec", exe);
                if (realpath(probe, dir))
                    return dir;
            }
        }
    }
    snprintf(dir, sizeof dir, "%s", TERN_DAEMON_DIR);
    return dir;
}

static void usage(void)
{
    fprintf(stderr, "usage: tern init DIR [--smtp-port N] [--submission-port N] "
                    "[--smtps-port N] [--hostname NAME]\n");
    exit(EX_USAGE);
}

static int parse_port(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end || v < 1 || v > 65535)
        log_fatal_code(EX_USAGE, "bad port number \"%s\"", s);
    return (int)v;
}

static void parse_hostname(const char *s, char *out, size_t size)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789.-") != n || s[0] == '.' || s[0] == '-')
        log_fatal_code(EX_USAGE, "bad host name \"%s\"", s);
    snprintf(out, size, "%s", s);
}

/* Runs a system tool with a fixed argument list (never a shell); `what` names it in errors. */
static void run_tool(const char *what, char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        log_fatal_code(EX_OSERR, "fork: %s", strerror(errno));
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        log_fatal_code(EX_OSERR, "%s: %s failed (status %d)", what, argv[0],
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int tern_ensure_accounts(void)
{
    int created = 0;
    if (getgrnam("terndrop") == NULL) {
        char *argv[] = { "/usr/sbin/groupadd", "--system", "terndrop", NULL };
        run_tool("creating the group terndrop", argv);
        log_info("created the system group terndrop");
        created++;
    }
    if (getpwnam("tern") == NULL) {
        char *argv[] = { "/usr/sbin/useradd", "--system", "--user-group", "--no-create-home",
                         "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                         "--comment", "tern mail system", "tern", NULL };
        run_tool("creating the user tern", argv);
        log_info("created the system user tern");
        created++;
    }
    return created;
}

/* Creates a directory (or takes the one there) and sets its mode through a descriptor opened
 * without following a symbolic link, so nobody can point the chmod elsewhere. */
static void make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        log_fatal_code(EX_CANTCREAT, "cannot create %s: %s", path, strerror(errno));
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fchmod(fd, mode) < 0)
        log_fatal_code(EX_CANTCREAT, "cannot set the mode of %s: %s", path,
                       errno == ELOOP ? "it is a symbolic link" : strerror(errno));
    close(fd);
}

static void write_file(const char *dir, const char *name, const struct buf *text, mode_t mode)
{
    struct buf path;
    buf_init(&path, BUF_UNBOUNDED);
    buf_printf(&path, "%s/%s", dir, name);
    if (safe_write_file(buf_str(&path), text->data, text->len, mode) < 0)
        log_fatal_code(EX_CANTCREAT, "cannot write %s: %s", buf_str(&path), strerror(errno));
    buf_free(&path);
}

static void write_tern_conf(const struct init_opts *o, const char *owner, const char *group)
{
    struct buf t;
    buf_init(&t, BUF_UNBOUNDED);
    time_t now = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %z", localtime(&now));
    buf_printf(&t,
        "# tern.conf: main configuration of this tern instance, written by `tern init` on %s.\n"
        "# Syntax and names as Postfix's main.cf; `ternconf -d` lists every parameter with its\n"
        "# default, `ternconf -n` what is set here, `ternconf -e 'name = value'` changes it.\n\n"
        "myhostname = %s\n"
        "mydestination = $myhostname, localhost\n"
        "mynetworks = 127.0.0.0/8 [::1]/128\n"
        "inet_interfaces = loopback-only\n\n"
        "queue_directory = %s/spool\n"
        "daemon_directory = %s\n"
        "mail_owner = %s\n"
        "setgid_group = %s\n\n"
        "maillog_file = %s/log/mail.log\n\n"
        "alias_maps = hash:%s/aliases\n"
        "alias_database = hash:%s/aliases\n"
        "# Maildir mailboxes: %s/mail/USER/\n"
        "mail_spool_directory = %s/mail/\n\n"
        "# TLS with a self-signed certificate made by tern init; replace it with a real one\n"
        "smtpd_tls_cert_file = %s/tls/cert.pem\n"
        "smtpd_tls_key_file = %s/tls/key.pem\n"
        "smtpd_tls_security_level = may\n"
        "# AUTH logins for submission: `login HASH` lines, HASH from ternpasswd\n"
        "smtpd_sasl_users = texthash:%s/sasl_users\n"
        "# which logins may send as which addresses on the submission services\n"
        "smtpd_sender_login_maps = texthash:%s/sender_logins\n"
        "# DKIM keys of the domains whose mail is signed: `tern dkim keygen DOMAIN SELECTOR`\n"
        "dkim_signing_keys = texthash:%s/dkim_signing_keys\n",
        date, o->hostname, o->dir, tern_daemon_dir(), owner, group, o->dir, o->dir, o->dir,
        o->dir, o->dir, o->dir, o->dir, o->dir, o->dir, o->dir);
    write_file(o->dir, CONFIG_FILE, &t, 0644);
    buf_free(&t);
}

static void write_master_conf(const struct init_opts *o)
{
    struct buf t, prog;
    buf_init(&t, BUF_UNBOUNDED);
    buf_init(&prog, BUF_UNBOUNDED);
    buf_puts(&t,
        "# master.conf: the services the tern master runs, in Postfix master.cf's columns.\n"
        "# A `-` means the default: private y, unpriv y, chroot n, wakeup 0, maxproc\n"
        "# $default_process_limit. Indented `-o name=value` lines override tern.conf.\n"
        "# Services whose program is not built yet are written commented out.\n#\n"
        "# service            type  private unpriv chroot wakeup maxproc command + args\n");
    const int ports[] = { 0, o->smtp_port, o->submission_port, o->smtps_port };
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        char name[64];
        if (services[i].port)
            snprintf(name, sizeof name, "%s:%d", services[i].service, ports[services[i].port]);
        else
            snprintf(name, sizeof name, "%s", services[i].service);
        char program[64];
        snprintf(program, sizeof program, "%s", services[i].command);
        program[strcspn(program, " \n")] = '\0';
        buf_set(&prog, tern_daemon_dir());
        buf_printf(&prog, "/%s", program);
        bool built = access(buf_str(&prog), X_OK) == 0;
        struct buf entry;
        buf_init(&entry, BUF_UNBOUNDED);
        buf_printf(&entry, "%-20s %s %s\n", name, services[i].columns, services[i].command);
        /* every line of an entry whose program is missing is commented out */
        for (char *line = entry.data; *line;) {
            char *nl = strchr(line, '\n');
            buf_printf(&t, "%s%.*s\n", built ? "" : "#(not built yet) ", (int)(nl - line), line);
            line = nl + 1;
        }
        buf_free(&entry);
    }
    write_file(o->dir, MASTER_CONFIG_FILE, &t, 0644);
    buf_free(&t);
    buf_free(&prog);
}

static void write_aliases(const struct init_opts *o)
{
    struct buf t;
    buf_init(&t, BUF_UNBOUNDED);
    buf_puts(&t,
        "# aliases: local aliases of this instance (aliases(5) format). After a change run\n"
        "# `newaliases` for this instance, or rebuild aliases.db with ternmap.\n"
        "postmaster: root\n"
        "mailer-daemon: postmaster\n"
        "abuse: postmaster\n"
        "hostmaster: postmaster\n"
        "webmaster: postmaster\n");
    write_file(o->dir, "aliases", &t, 0644);
    buf_free(&t);
    char spec[PATH_MAX + 16], err[ERR_TEXT_MAX];
    snprintf(spec, sizeof spec, "hash:%s/aliases", o->dir);
    if (dict_build(spec, DICT_FORMAT_ALIAS, err, sizeof err) < 0)
        log_fatal_code(EX_CANTCREAT, "%s", err);
}

/* So STARTTLS and port 465 work out of the box. The key is readable by its owner only. */
void tern_make_certificate(const char *cert_path, const char *key_path, const char *hostname)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name = x ? X509_get_subject_name(x) : NULL;
    char san[300];
    snprintf(san, sizeof san, "DNS:%s", hostname);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
    unsigned char serial[16];
    randombytes_buf(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    bool ok = key && x && name && ext && bn && X509_set_version(x, 2) &&
              BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
              X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
              X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 24 * 3600) &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                         (const unsigned char *)hostname, -1, -1, 0) &&
              X509_set_issuer_name(x, name) && X509_add_ext(x, ext, -1) &&
              X509_set_pubkey(x, key) && X509_sign(x, key, EVP_sha256()) > 0;
    const char *failed = NULL;
    int saved_errno = 0;
    if (ok) {
        failed = key_path;
        errno = 0;
        int fd = safe_open(key_path, O_WRONLY | O_CREAT | O_EXCL, 0600, (uid_t)-1);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        ok = f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
        ok = (f && fclose(f) == 0) && ok;
        saved_errno = errno;
    }
    if (ok) {
        failed = cert_path;
        errno = 0;
        int fd = safe_open(cert_path, O_WRONLY | O_CREAT | O_EXCL, 0644, (uid_t)-1);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        ok = f && PEM_write_X509(f, x);
        ok = (f && fclose(f) == 0) && ok;
        saved_errno = errno;
    }
    BN_free(bn);
    X509_EXTENSION_free(ext);
    X509_free(x);
    EVP_PKEY_free(key);
    if (!ok && failed == NULL)
        log_fatal_code(EX_CANTCREAT, "cannot make a TLS certificate for %s: OpenSSL failed",
                       hostname);
    if (!ok)
        log_fatal_code(EX_CANTCREAT, "cannot write %s: %s", failed,
                       saved_errno ? strerror(saved_errno) : "write error");
}

static void make_certificate(const struct init_opts *o)
{
    struct buf dir, cert, key;
    buf_init(&dir, BUF_UNBOUNDED);
    buf_init(&cert, BUF_UNBOUNDED);
    buf_init(&key, BUF_UNBOUNDED);
    buf_printf(&dir, "%s/tls", o->dir);
    make_dir(buf_str(&dir), 0755);
    buf_printf(&cert, "%s/cert.pem", buf_str(&dir));
    buf_printf(&key, "%s/key.pem", buf_str(&dir));
    tern_make_certificate(buf_str(&cert), buf_str(&key), o->hostname);
    buf_free(&dir);
    buf_free(&cert);
    buf_free(&key);
}

static void write_sasl_users(const struct init_opts *o)
{
    struct buf t;
    buf_init(&t, BUF_UNBOUNDED);
    buf_puts(&t, "# sasl_users: logins for AUTH on the submission services, one `login HASH` a\n"
                 "# line; HASH is what `ternpasswd` prints for the password (argon2id).\n");
    write_file(o->dir, "sasl_users", &t, 0600);
    buf_free(&t);
}

static void write_sender_logins(const struct init_opts *o)
{
    struct buf t;
    buf_init(&t, BUF_UNBOUNDED);
    buf_puts(&t, SENDER_LOGINS_TEXT);
    write_file(o->dir, "sender_logins", &t, 0644);
    buf_free(&t);
}

static void make_dkim(const struct init_opts *o, gid_t mail_owner_gid)
{
    struct buf t;
    buf_init(&t, BUF_UNBOUNDED);
    buf_puts(&t, DKIM_SIGNING_KEYS_TEXT);
    write_file(o->dir, "dkim_signing_keys", &t, 0644);
    buf_set(&t, o->dir);
    buf_puts(&t, "/dkim");
    tern_dkim_make_dir(buf_str(&t), mail_owner_gid);
    buf_free(&t);
}

/* SRS for forwarded mail: srs_domain is the host name (in mydestination, so bounces to SRS
 * addresses come back here), with a new key at srs_key_file's default place. */
static void make_srs(const struct init_opts *o)
{
    struct buf path, text;
    buf_init(&path, BUF_UNBOUNDED);
    buf_init(&text, BUF_UNBOUNDED);
    char err[ERR_TEXT_MAX];
    buf_printf(&path, "%s/srs.key", o->dir);
    if (srs_key_generate(buf_str(&path), err, sizeof err) < 0)
        log_fatal_code(EX_CANTCREAT, "%s", err);
    buf_puts(&text, "\n# SRS: mail that aliases and .forward files send on to other domains leaves "
                    "with its\n# sender rewritten into this domain, signed with the key in "
                    "srs_key_file\n# ($config_directory/srs.key)\nsrs_domain = $myhostname\n");
    buf_set(&path, o->dir);
    buf_printf(&path, "/%s", CONFIG_FILE);
    int fd = safe_open(buf_str(&path), O_WRONLY | O_APPEND, 0, (uid_t)-1);
    if (fd < 0 || write(fd, text.data, text.len) != (ssize_t)text.len || close(fd) < 0)
        log_fatal_code(EX_CANTCREAT, "cannot write %s: %s", buf_str(&path), strerror(errno));
    buf_free(&path);
    buf_free(&text);
}

static void make_instance_dirs(const struct init_opts *o, const struct qdir_ids *ids)
{
    struct buf p;
    buf_init(&p, BUF_UNBOUNDED);
    char err[512];
    buf_printf(&p, "%s/spool", o->dir);
    if (qdir_setup(buf_str(&p), ids, true, err, sizeof err) < 0)
        log_fatal_code(EX_CANTCREAT, "%s", err);
    buf_set(&p, o->dir);
    buf_puts(&p, "/log");
    make_dir(buf_str(&p), 0755);
    buf_puts(&p, "/mail.log");
    int fd = safe_open(buf_str(&p), O_WRONLY | O_CREAT | O_APPEND, 0640, (uid_t)-1);
    if (fd < 0)
        log_fatal_code(EX_CANTCREAT, "cannot create %s: %s", buf_str(&p), strerror(errno));
    close(fd);
    /* mailboxes: sticky and writable by all like /tmp, so each user's delivery can create its
     * own Maildir and nobody can remove another's */
    buf_set(&p, o->dir);
    buf_puts(&p, "/mail");
    make_dir(buf_str(&p), 01777);
    buf_free(&p);
}

int tern_init(int argc, char **argv)
{
    struct init_opts o = { NULL, 2525, 2587, 2465, "" };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            if (o.dir)
                usage();
            o.dir = a;
        } else if (i + 1 >= argc) {
            usage();
        } else if (strcmp(a, "--smtp-port") == 0) {
            o.smtp_port = parse_port(argv[++i]);
        } else if (strcmp(a, "--submission-port") == 0) {
            o.submission_port = parse_port(argv[++i]);
        } else if (strcmp(a, "--smtps-port") == 0) {
            o.smtps_port = parse_port(argv[++i]);
        } else if (strcmp(a, "--hostname") == 0) {
            parse_hostname(argv[++i], o.hostname, sizeof o.hostname);
        } else {
            usage();
        }
    }
    if (o.dir == NULL)
        usage();
    if (o.hostname[0] == '\0' && (gethostname(o.hostname, sizeof o.hostname) < 0 || !*o.hostname))
        snprintf(o.hostname, sizeof o.hostname, "localhost");
    o.hostname[sizeof o.hostname - 1] = '\0';
    umask(022);
    if (mkdir(o.dir, 0755) < 0 && errno != EEXIST)
        log_fatal_code(EX_CANTCREAT, "cannot create %s: %s", o.dir, strerror(errno));
    static char abs_dir[PATH_MAX];
    if (realpath(o.dir, abs_dir) == NULL)
        log_fatal_code(EX_CANTCREAT, "%s: %s", o.dir, strerror(errno));
    o.dir = abs_dir;
    /* everything root writes here must stay where it is put: the directory must be ours */
    char why[512];
    if (safe_check_trusted(o.dir, geteuid(), why, sizeof why) < 0)
        log_fatal_code(EX_CANTCREAT, "refusing to create an instance in %s", why);
    struct buf conf;
    buf_init(&conf, BUF_UNBOUNDED);
    buf_printf(&conf, "%s/%s", o.dir, CONFIG_FILE);
    if (access(buf_str(&conf), F_OK) == 0)
        log_fatal_code(EX_CANTCREAT, "%s already holds a tern instance (%s exists)", o.dir,
                       buf_str(&conf));
    buf_free(&conf);

    struct qdir_ids ids;
    const char *owner, *group;
    if (geteuid() == 0) {
        tern_ensure_accounts();
        struct passwd *pw = getpwnam("tern");
        struct group *gr = getgrnam("terndrop");
        if (pw == NULL || gr == NULL)
            log_fatal_code(EX_NOUSER, "the user tern or the group terndrop is missing");
        ids = (struct qdir_ids){ pw->pw_uid, pw->pw_gid, gr->gr_gid, 0, 0 };
        owner = "tern";
        group = "terndrop";
    } else {
        struct passwd *pw = getpwuid(getuid());
        struct group *gr = getgrgid(getgid());
        if (pw == NULL || gr == NULL)
            log_fatal_code(EX_NOUSER, "cannot find the name of uid %ld or gid %ld",
                           (long)getuid(), (long)getgid());
        ids = (struct qdir_ids){ getuid(), getgid(), getgid(), getuid(), getgid() };
        static char owner_name[256], group_name[256];
        snprintf(owner_name, sizeof owner_name, "%s", pw->pw_name);
        snprintf(group_name, sizeof group_name, "%s", gr->gr_name);
        owner = owner_name;
        group = group_name;
    }
    write_tern_conf(&o, owner, group);
    write_master_conf(&o);
    write_aliases(&o);
    make_certificate(&o);
    write_sasl_users(&o);
    write_sender_logins(&o);
    make_dkim(&o, ids.mail_owner_gid);
    make_srs(&o);
    make_instance_dirs(&o, &ids);
    log_info("created the instance %s: SMTP on 127.0.0.1:%d, submission %d, smtps %d; "
             "start it with: tern -c %s start", o.dir, o.smtp_port, o.submission_port,
             o.smtps_port, o.dir);
    return 0;
}

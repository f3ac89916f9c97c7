/* ternqueue.c: the queue from the shell, Postfix's postqueue and postsuper in one: -p/-j list
 * it (from the showq service; root reads the queue itself when that does not answer), -f, -i
 * and -s ask the queue manager to retry now; -d, -h, -H, -r and -v are for root
 * (ternqueue_super.c). Installed set-gid to setgid_group, like Postfix's postqueue, so that
 * every local user reaches public/showq and public/qmgr; the group is kept only until that
 * one connection is made, and only with a configuration that root alone can change. Exit
 * codes are sysexits(3). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "config.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "mem.h"
#include "priv.h"
#include "qadmin.h"
#include "qlist.h"
#include "safefile.h"
#include "ternqueue.h"
#include "ternqueue_print.h"

#define SHOWQ_CONNECT_MS 5000
#define SHOWQ_FIRST_MS 15000       /* for the first message: then root reads the queue itself */
#define SHOWQ_MESSAGE_MS 60000     /* for each later message of the listing */
#define FLUSH_CALL_MS 30000
#define SITE_MAX 255

bool tq_privileged;

static void usage(void)
{
    fprintf(stderr,
            "usage: ternqueue [-c config_dir] -p | -j | -f | -i queue_id | -s site\n"
            "       ternqueue [-c config_dir] -d|-h|-r queue_id|ALL|- [queue...]\n"
            "       ternqueue [-c config_dir] -H queue_id|ALL|-\n"
            "       ternqueue [-c config_dir] -v queue_id\n");
    exit(EX_USAGE);
}

/* ---- privileges ---- */

void tq_drop_group(void)
{
    gid_t g = getgid(), r, e, s;
    if (getegid() == g)
        return;
    if (setresgid(g, g, g) < 0 || getresgid(&r, &e, &s) < 0 || r != g || e != g || s != g)
        log_fatal_code(EX_OSERR, "cannot give up the set-gid group: %s", strerror(errno));
}

int tq_connect(const char *path, int timeout_ms)
{
    int fd = ipc_connect_unix(path, timeout_ms);
    int e = errno;
    tq_drop_group();
    errno = e;
    return fd;
}

/* A set-gid program must not let a user point it at a configuration of their own: the group
 * is kept only when the configuration directory and tern.conf belong to root and nobody else
 * can write them. Otherwise it is given up at once, and ternqueue goes on with the user's own
 * rights (enough for an instance the user runs). */
/* Returns the configuration directory to load: the group stays only when root controls the
 * directory, its tern.conf and the path to them, and then the resolved name is loaded so that
 * no symbolic link can be switched between the check and the load. */
static const char *guard_setgid(const char *cli_dir, char resolved[PATH_MAX])
{
    const char *dir = config_dir(cli_dir);
    if (getuid() == 0 || getegid() == getgid()) {
        tq_drop_group();
        return cli_dir;
    }
    char err[2 * PATH_MAX], path[PATH_MAX + 16], ignored[PATH_MAX];
    if (safe_root_controlled(dir, resolved, err, sizeof err) == 0 &&
        snprintf(path, sizeof path, "%s/%s", resolved, CONFIG_FILE) < (int)sizeof path &&
        safe_root_controlled(path, ignored, err, sizeof err) == 0)
        return resolved;
    tq_drop_group();
    return cli_dir;
}

static void open_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
            _exit(EX_OSERR);
}

static bool is_privileged(void)
{
    uid_t uid = getuid(), owner;
    gid_t gid;
    char err[256];
    return uid == 0 || (priv_lookup_user(config_str("mail_owner"), &owner, &gid, err,
                                          sizeof err) == 0 && owner == uid);
}

/* ---- -p and -j ---- */

struct listing {
    struct qprint *p;
    bool in_entry;
};

static int print_pair(const char *address, const char *reason, void *arg)
{
    qprint_rcpt(arg, address, reason);
    return 0;
}

/* One message of showq's answer: 1 for the end, 0 to go on, -1 with err. */
static int showq_message(struct listing *l, const struct ipc_msg *m, char *err, size_t errlen)
{
    static const char *const rcpts_required[] = { IPC_A_TYPE, NULL };
    static const char *const rcpts_allowed[] = { IPC_A_RECIPIENT, IPC_A_DELAY_REASON, NULL };
    const char *type = m->count ? m->attr[0].value : "";
    if (m->count == 0 || strcmp(m->attr[0].name, IPC_A_TYPE) != 0) {
        snprintf(err, errlen, "a message without its type");
        return -1;
    }
    if (strcmp(type, IPC_T_ENTRY) == 0) {
        struct qlist_entry e;
        if (qlist_decode_header(m, &e, err, errlen) < 0)
            return -1;
        if (l->in_entry)
            qprint_end(l->p);
        qprint_begin(l->p, &e);
        l->in_entry = true;
        return qlist_decode_pairs(m, print_pair, l->p, err, errlen) < 0 ? -1 : 0;
    }
    if (strcmp(type, IPC_T_RECIPIENTS) == 0) {
        if (!l->in_entry) {
            snprintf(err, errlen, "recipients without their entry");
            return -1;
        }
        if (ipc_check(m, rcpts_required, rcpts_allowed, err, errlen) < 0)
            return -1;
        return qlist_decode_pairs(m, print_pair, l->p, err, errlen) < 0 ? -1 : 0;
    }
    if (strcmp(type, IPC_T_END) == 0) {
        if (l->in_entry)
            qprint_end(l->p);
        l->in_entry = false;
        const char *status = ipc_get(m, IPC_A_STATUS);
        if (status == NULL || strcmp(status, IPC_STATUS_OK) != 0) {
            const char *reason = ipc_get(m, IPC_A_REASON);
            snprintf(err, errlen, "%s", reason ? reason : "the listing failed");
            return -1;
        }
        return 1;
    }
    snprintf(err, errlen, "a message of an unknown type");
    return -1;
}

/* The listing from showq on fd: 0; -1 when nothing came (another way may be tried; the
 * reason in reason); -2 when it broke off after a part was printed. */
static int list_showq(int fd, struct qprint *p, char *reason, size_t size)
{
    struct ipc_msg req, m;
    ipc_msg_init(&req);
    ipc_msg_init(&m);
    ipc_add(&req, IPC_A_TYPE, IPC_T_SHOWQ);
    struct listing l = { p, false };
    char err[ERR_TEXT_MAX] = "";
    int r = ipc_send(fd, &req, SHOWQ_MESSAGE_MS) < 0 ? -1 : 0;
    bool got_any = false;
    while (r == 0) {
        err[0] = '\0';
        if (ipc_recv(fd, &m, IPC_MSG_MAX_DEFAULT, got_any ? SHOWQ_MESSAGE_MS : SHOWQ_FIRST_MS,
                     err, sizeof err) < 0) {
            r = -1;
            break;
        }
        got_any = true;
        r = showq_message(&l, &m, err, sizeof err);
    }
    snprintf(reason, size, "%s", *err ? err : strerror(errno));
    ipc_msg_free(&req);
    ipc_msg_free(&m);
    if (r == 1)
        return 0;
    if (l.in_entry)
        qprint_end(p);
    if (!got_any)
        return -1;
    log_error("the queue listing broke off: %s", reason);
    return -2;
}

static int print_entry(const struct qlist_entry *e, void *arg)
{
    qprint_entry(arg, e);
    return 0;
}

static int cmd_list(bool json)
{
    struct qprint p;
    qprint_init(&p, stdout, json);
    char reason[256];
    int fd = tq_connect(IPC_SHOWQ_SOCKET, SHOWQ_CONNECT_MS);
    int r = -1, code = 0, errno_connect = errno;
    if (fd < 0) {
        snprintf(reason, sizeof reason, "%s", strerror(errno_connect));
    } else {
        r = list_showq(fd, &p, reason, sizeof reason);
        close(fd);
    }
    if (r == -1 && !tq_privileged) {
        if (fd < 0 && errno_connect == EACCES)
            log_error("cannot list the queue: %s/%s: permission denied (ternqueue must be "
                      "installed set-gid %s)", config_str("queue_directory"), IPC_SHOWQ_SOCKET,
                      config_str("setgid_group"));
        else
            log_error("cannot list the queue: the showq service does not answer at %s/%s: %s; "
                      "is the mail system running?", config_str("queue_directory"),
                      IPC_SHOWQ_SOCKET, reason);
        code = EX_UNAVAILABLE;
    } else if (r == -1) {
        /* root reads the queue itself, as Postfix's showq does in stand-alone mode */
        log_warn("the mail system is down (showq: %s): reading the queue directly", reason);
        qlist_walk(print_entry, qlist_log_warning, &p);
        qprint_finish(&p);
    } else if (r == -2) {
        code = EX_UNAVAILABLE;
    } else {
        qprint_finish(&p);
    }
    qprint_free(&p);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        log_error("cannot write the listing: %s", strerror(errno));
        code = EX_IOERR;
    }
    return code;
}

/* ---- -f, -i, -s ---- */

static bool valid_site(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SITE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f || s[i] == '@')
            return false;
    return true;
}

static int cmd_flush(const char *id, const char *site)
{
    struct ipc_msg req, reply;
    ipc_msg_init(&req);
    ipc_msg_init(&reply);
    ipc_add(&req, IPC_A_TYPE, IPC_T_FLUSH);
    if (id)
        ipc_add(&req, IPC_A_QUEUE_ID, id);
    if (site)
        ipc_add(&req, IPC_A_SITE, site);
    char err[ERR_TEXT_MAX] = "";
    int code = 0;
    int fd = tq_connect(IPC_QMGR_SOCKET, FLUSH_CALL_MS);
    if (fd < 0 && errno == EACCES) {
        log_error("cannot flush the queue: %s/%s: permission denied (ternqueue must be "
                  "installed set-gid %s, and the configuration controlled by root)",
                  config_str("queue_directory"), IPC_QMGR_SOCKET, config_str("setgid_group"));
        code = EX_UNAVAILABLE;
    } else if (fd < 0 || ipc_send(fd, &req, FLUSH_CALL_MS) < 0 ||
               ipc_recv(fd, &reply, IPC_MSG_MAX_DEFAULT, FLUSH_CALL_MS, err, sizeof err) < 0) {
        log_error("cannot flush the queue: the queue manager does not answer at %s/%s: %s",
                  config_str("queue_directory"), IPC_QMGR_SOCKET, *err ? err : strerror(errno));
        code = EX_UNAVAILABLE;
    } else if (ipc_get(&reply, IPC_A_STATUS) == NULL ||
               strcmp(ipc_get(&reply, IPC_A_STATUS), IPC_STATUS_OK) != 0) {
        const char *reason = ipc_get(&reply, IPC_A_REASON);
        log_error("%s", reason ? reason : "the queue manager refused to flush");
        code = strcmp(ipc_get(&reply, IPC_A_STATUS), IPC_STATUS_DEFER) == 0 ? EX_TEMPFAIL
               : id ? EX_NOINPUT : EX_UNAVAILABLE;
    }
    if (fd >= 0)
        close(fd);
    ipc_msg_free(&req);
    ipc_msg_free(&reply);
    return code;
}

/* ---- options ---- */

enum action { A_NONE, A_LIST, A_JSON, A_FLUSH, A_FLUSH_ID, A_FLUSH_SITE, A_SUPER, A_SHOW };

struct options {
    const char *config;
    enum action action;
    const char *arg;             /* -i, -s, -v */
    enum qadmin_op op;           /* A_SUPER */
    char **ids;                  /* A_SUPER: the -d/-h/-H/-r arguments */
    size_t nids;
};

static void set_action(struct options *o, enum action a)
{
    if (o->action != A_NONE && o->action != a)
        usage();
    o->action = a;
}

static void add_super(struct options *o, enum qadmin_op op, char *arg)
{
    if (o->action == A_SUPER && o->op != op)
        usage();
    set_action(o, A_SUPER);
    o->op = op;
    o->ids[o->nids++] = arg;
}

static void parse(int argc, char **argv, struct options *o)
{
    o->ids = xcalloc((size_t)argc + 1, sizeof *o->ids);
    int c;
    while ((c = getopt(argc, argv, "+c:pjfi:s:d:h:H:r:v:")) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'p': set_action(o, A_LIST); break;
        case 'j': set_action(o, A_JSON); break;
        case 'f': set_action(o, A_FLUSH); break;
        case 'i': set_action(o, A_FLUSH_ID); o->arg = optarg; break;
        case 's': set_action(o, A_FLUSH_SITE); o->arg = optarg; break;
        case 'v': set_action(o, A_SHOW); o->arg = optarg; break;
        case 'd': add_super(o, QADMIN_DELETE, optarg); break;
        case 'h': add_super(o, QADMIN_HOLD, optarg); break;
        case 'H': add_super(o, QADMIN_RELEASE, optarg); break;
        case 'r': add_super(o, QADMIN_REQUEUE, optarg); break;
        default: usage();
        }
    }
    if (o->action == A_NONE)
        usage();
}

/* The queue names after -d/-h/-r, as a bit set (0: none named). */
static unsigned parse_queues(const struct options *o, int argc, char **argv)
{
    unsigned bits = 0;
    for (int i = optind; i < argc; i++) {
        unsigned bit = qadmin_queue_bit(argv[i]);
        if (o->action != A_SUPER || o->op == QADMIN_RELEASE)
            usage();
        if (bit == 0)
            log_fatal_code(EX_USAGE, "%s: not a queue (use incoming, active, deferred or hold)",
                           argv[i]);
        if (!(bit & qadmin_queues(o->op)))
            log_fatal_code(EX_USAGE, "cannot %s messages in %s/", qadmin_op_name(o->op),
                           argv[i]);
        bits |= bit;
    }
    return bits;
}

static void load_config(const char *dir)
{
    char err[ERR_TEXT_MAX];
    if (config_load(dir, err, sizeof err) < 0)
        log_fatal_code(EX_CONFIG, "%s", err);
    const char *qdir = config_str("queue_directory");
    if (chdir(qdir) < 0)
        log_fatal_code(errno == ENOENT ? EX_CONFIG : EX_UNAVAILABLE,
                       "cannot enter the queue directory %s: %s", qdir, strerror(errno));
}

int main(int argc, char **argv)
{
    open_std_fds();
    log_init("ternqueue");
    log_set_stderr(true);
    struct options o;
    memset(&o, 0, sizeof o);
    parse(argc, argv, &o);
    unsigned queues = parse_queues(&o, argc, argv);
    char resolved[PATH_MAX];
    load_config(guard_setgid(o.config, resolved));
    tq_privileged = is_privileged();
    if (o.action == A_SUPER || o.action == A_SHOW) {
        tq_drop_group();
        if (!tq_privileged) {
            log_info("permission denied");
            free(o.ids);
            return EX_NOPERM;
        }
    }
    if (tq_privileged)   /* the admin's actions go to the mail log too */
        log_open(config_str("syslog_name"), config_str("maillog_file"),
                 config_str("syslog_facility"));

    int code = EX_SOFTWARE;
    char id[QFILE_ID_MAX];
    switch (o.action) {
    case A_LIST: code = cmd_list(false); break;
    case A_JSON: code = cmd_list(true); break;
    case A_FLUSH: code = cmd_flush(NULL, NULL); break;
    case A_FLUSH_ID:
        if (!qadmin_parse_id(o.arg, id, sizeof id))
            log_fatal_code(EX_USAGE, "%s: not a queue ID", o.arg);
        code = cmd_flush(id, NULL);
        break;
    case A_FLUSH_SITE:
        if (!valid_site(o.arg))
            log_fatal_code(EX_USAGE, "%s: not a domain name", o.arg);
        code = cmd_flush(NULL, o.arg);
        break;
    case A_SUPER: code = tq_super(o.op, o.ids, o.nids, queues); break;
    case A_SHOW:
        if (!qadmin_parse_id(o.arg, id, sizeof id))
            log_fatal_code(EX_USAGE, "%s: not a queue ID", o.arg);
        code = tq_show(id);
        break;
    case A_NONE: usage();
    }
    free(o.ids);
    return code;
}

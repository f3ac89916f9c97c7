/* ternqueue_super.c: ternqueue's commands for root (and the user the mail system runs as), as
 * Postfix's postsuper and postcat -q: -d delete, -h hold, -H release, -r requeue, through the
 * queue manager when it runs (it owns active/), else on the files directly with the same
 * code (queue/qadmin.c); -v shows one message, read from its file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "mem.h"
#include "qadmin.h"
#include "qfile.h"
#include "qlist.h"
#include "safefile.h"
#include "ternqueue.h"
#include "ternqueue_print.h"

#define QMGR_CONNECT_MS 10000
#define QMGR_CALL_MS 120000      /* ALL over a large queue takes the queue manager a while */
#define STDIN_LINE_MAX 64

/* ---- the queue IDs to act on ---- */

struct idlist {
    char (*v)[QFILE_ID_MAX];
    size_t n, cap;
    bool all;
    size_t bad;                  /* lines of standard input that were not queue IDs */
};

static void idlist_add(struct idlist *l, const char *id)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    snprintf(l->v[l->n++], QFILE_ID_MAX, "%s", id);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
                     s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* One ID a line; blank lines are skipped, a line that is not an ID is reported and skipped. */
static void read_stdin_ids(struct idlist *l)
{
    char line[STDIN_LINE_MAX + 2];
    size_t lineno = 0;
    while (fgets(line, sizeof line, stdin)) {
        lineno++;
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] != '\n' && !feof(stdin)) {
            int ch;
            while ((ch = getchar()) != EOF && ch != '\n')
                ;
            log_warn("standard input, line %zu: too long for a queue ID; skipped", lineno);
            l->bad++;
            continue;
        }
        char *text = trim(line), id[QFILE_ID_MAX];
        if (*text == '\0')
            continue;
        if (!qadmin_parse_id(text, id, sizeof id)) {
            log_warn("standard input, line %zu: \"%s\" is not a queue ID; skipped", lineno,
                     text);
            l->bad++;
            continue;
        }
        if (l->n >= QADMIN_STDIN_MAX)
            log_fatal_code(EX_DATAERR, "more than %d queue IDs on standard input",
                           QADMIN_STDIN_MAX);
        idlist_add(l, id);
    }
    if (ferror(stdin))
        log_fatal_code(EX_IOERR, "cannot read standard input: %s", strerror(errno));
}

static void collect_ids(char **args, size_t nargs, struct idlist *l)
{
    bool stdin_read = false;
    for (size_t i = 0; i < nargs; i++) {
        char id[QFILE_ID_MAX];
        if (strcmp(args[i], "ALL") == 0) {
            l->all = true;
        } else if (strcmp(args[i], "-") == 0) {
            if (!stdin_read)
                read_stdin_ids(l);
            stdin_read = true;
        } else if (qadmin_parse_id(args[i], id, sizeof id)) {
            idlist_add(l, id);
        } else {
            log_fatal_code(EX_USAGE, "%s: not a queue ID (nothing was changed)", args[i]);
        }
    }
}

/* ---- through the queue manager ---- */

struct result {
    unsigned long count;
    int code;
};

static void add_queues(struct ipc_msg *req, unsigned queues)
{
    for (unsigned bit = 1; bit <= QADMIN_Q_HOLD; bit <<= 1)
        if (queues & bit)
            ipc_add(req, IPC_A_QUEUE, qadmin_queue_name(bit));
}

static void take_reply(const struct ipc_msg *reply, struct result *res)
{
    const char *status = ipc_get(reply, IPC_A_STATUS);
    const char *reason = ipc_get(reply, IPC_A_REASON);
    if (status == NULL || strcmp(status, IPC_STATUS_OK) != 0) {
        bool denied = reason && strcmp(reason, IPC_REASON_DENIED) == 0;
        if (denied)
            log_info("%s", reason);
        else
            log_error("%s", reason ? reason : "the queue manager refused the request");
        res->code = denied ? EX_NOPERM : EX_SOFTWARE;
        return;
    }
    long long n;
    if (ipc_get_long(reply, IPC_A_COUNT, 0, 1LL << 40, &n) == 0)
        res->count += (unsigned long)n;
    for (size_t i = 0; i < reply->count; i++) {
        if (strcmp(reply->attr[i].name, IPC_A_MISSING) == 0)
            log_warn("%s: no such message", reply->attr[i].value);
        else if (strcmp(reply->attr[i].name, IPC_A_FAILED) == 0) {
            log_error("%s", reply->attr[i].value);
            res->code = EX_IOERR;
        }
    }
}

/* One request: 1 answered, 0 when the queue manager cannot be reached at all (errno), -1 when
 * it failed later (reported). */
static int qmgr_request(enum qadmin_op op, const struct idlist *l, size_t from, size_t n,
                        unsigned queues, struct result *res)
{
    int fd = tq_connect(IPC_QMGR_SOCKET, QMGR_CONNECT_MS);
    if (fd < 0)
        return 0;
    struct ipc_msg req, reply;
    ipc_msg_init(&req);
    ipc_msg_init(&reply);
    ipc_add(&req, IPC_A_TYPE, qadmin_op_name(op));
    if (l->all)
        ipc_add(&req, IPC_A_ALL, "yes");
    for (size_t i = from; i < from + n; i++)
        ipc_add(&req, IPC_A_QUEUE_ID, l->v[i]);
    add_queues(&req, queues);
    char err[ERR_TEXT_MAX] = "";
    int r = 1;
    if (ipc_send(fd, &req, QMGR_CALL_MS) < 0 ||
        ipc_recv(fd, &reply, IPC_MSG_MAX_DEFAULT, QMGR_CALL_MS, err, sizeof err) < 0) {
        log_error("the queue manager did not answer: %s (some messages may have been "
                  "changed; see the log)", *err ? err : strerror(errno));
        res->code = EX_UNAVAILABLE;
        r = -1;
    } else {
        take_reply(&reply, res);
    }
    close(fd);
    ipc_msg_free(&req);
    ipc_msg_free(&reply);
    return r;
}

/* ---- directly, when the queue manager does not run ---- */

/* Whether a master holds the lock of pid/master.pid (as `tern status` asks). */
static bool master_running(void)
{
    int fd = open("pid/master.pid", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    bool held = fcntl(fd, F_GETLK, &lk) == 0 && lk.l_type != F_UNLCK;
    close(fd);
    return held;
}

struct direct {
    enum qadmin_op op;
    struct result *res;
};

static void apply_one(enum qadmin_op op, const char *id, unsigned queues, bool report_missing,
                      struct result *res)
{
    char err[512];
    log_set_stderr(false);   /* "ID: removed" goes to the log; stderr gets the summary */
    int r = qadmin_apply(op, id, queues, err, sizeof err);
    log_set_stderr(true);
    if (r > 0)
        res->count++;
    else if (r < 0) {
        log_error("%s", err);
        res->code = EX_IOERR;
    } else if (report_missing) {
        log_warn("%s: no such message", id);
    }
}

static int apply_each(unsigned queue, const char *id, void *arg)
{
    struct direct *d = arg;
    apply_one(d->op, id, queue, false, d->res);
    return 0;
}

static void direct(enum qadmin_op op, const struct idlist *l, unsigned queues,
                   struct result *res)
{
    if (l->all) {
        struct direct d = { op, res };
        char err[512];
        if (qadmin_each(queues, apply_each, &d, err, sizeof err) < 0) {
            log_error("%s", err);
            res->code = EX_IOERR;
        }
    } else {
        for (size_t i = 0; i < l->n; i++)
            apply_one(op, l->v[i], queues, true, res);
    }
    qadmin_sync(QADMIN_Q_ALL);
}

static const char *summary_label(enum qadmin_op op)
{
    switch (op) {
    case QADMIN_DELETE: return "Deleted";
    case QADMIN_HOLD: return "Placed on hold";
    case QADMIN_RELEASE: return "Released from hold";
    case QADMIN_REQUEUE: return "Requeued";
    }
    return "?";
}

/* Sends the IDs in batches: 1 when every batch was answered (or one was refused), 0 when the
 * queue manager could not be reached at all (errno), -1 after a failure (reported). */
static int through_qmgr(enum qadmin_op op, const struct idlist *l, unsigned queues,
                        struct result *res)
{
    size_t total = l->all ? 0 : l->n, from = 0;
    do {
        size_t n = total - from < QADMIN_BATCH ? total - from : QADMIN_BATCH;
        int r = qmgr_request(op, l, from, n, queues, res);
        if (r == 0 && from > 0) {
            log_error("the queue manager went away: %s; the rest was not changed",
                      strerror(errno));
            res->code = EX_UNAVAILABLE;
            return -1;
        }
        if (r != 1)
            return r;
        from += n;
    } while (from < total && res->code != EX_NOPERM);
    return 1;
}

/* The queue manager cannot be reached: when the mail system is down nobody else moves files,
 * and ternqueue does the work itself. As root, only in a queue directory that only root can
 * change, as the master insists (docs/ARCHITECTURE.md, section 8), so that no subdirectory can
 * have been swapped for a link elsewhere. Whether it acted. */
static bool without_qmgr(enum qadmin_op op, const struct idlist *l, unsigned queues,
                         struct result *res)
{
    int e = errno;
    char err[PATH_MAX + 128];
    if ((e != ENOENT && e != ECONNREFUSED) || master_running()) {
        log_error("the queue manager does not answer at %s/%s: %s; nothing was changed",
                  config_str("queue_directory"), IPC_QMGR_SOCKET, strerror(e));
        res->code = EX_UNAVAILABLE;
        return false;
    }
    if (getuid() == 0 &&
        safe_check_trusted(config_str("queue_directory"), 0, err, sizeof err) < 0) {
        log_error("refusing to change the queue: %s", err);
        res->code = EX_CONFIG;
        return false;
    }
    direct(op, l, queues, res);
    return true;
}

int tq_super(enum qadmin_op op, char **args, size_t nargs, unsigned queues)
{
    struct idlist l;
    memset(&l, 0, sizeof l);
    collect_ids(args, nargs, &l);
    if (queues == 0)
        queues = qadmin_queues(op);
    struct result res = { 0, 0 };
    bool acted = true;   /* nothing named (only bad lines on standard input): 0 messages */
    if (l.all || l.n > 0) {
        int r = through_qmgr(op, &l, queues, &res);
        acted = r == 1 || res.count > 0 || (r == 0 && without_qmgr(op, &l, queues, &res));
    }
    if (acted && res.code != EX_NOPERM)
        log_info("%s: %lu message%s", summary_label(op), res.count, res.count == 1 ? "" : "s");
    free(l.v);
    if (res.code == 0 && l.bad)
        res.code = EX_DATAERR;
    return res.code;
}

/* ---- -v ---- */

static const char *const show_queues[] = { "incoming", "active", "deferred", "hold", "corrupt",
                                           NULL };

static void print_time(const char *label, time_t t)
{
    char when[64] = "?";
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
    printf("%s: %s\n", label, when);
}

static void print_field(const char *label, const char *data, size_t len)
{
    char *s = xstrndup(data, len);
    printf("%s: ", label);
    qprint_text(stdout, s);
    putchar('\n');
    free(s);
}

static void print_notify(const char *data, size_t len)
{
    char digits[4];
    size_t n = len < 3 ? len : 3;
    memcpy(digits, data, n);
    digits[n] = '\0';
    unsigned v = (unsigned)strtoul(digits, NULL, 10);
    static const struct { unsigned bit; const char *name; } names[] = {
        { NOTIFY_NEVER, "NEVER" }, { NOTIFY_SUCCESS, "SUCCESS" }, { NOTIFY_FAILURE, "FAILURE" },
        { NOTIFY_DELAY, "DELAY" } };
    printf("  notify:");
    const char *sep = " ";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (v & names[i].bit) {
            printf("%s%s", sep, names[i].name);
            sep = ",";
        }
    putchar('\n');
}

static void print_envelope(const char *data, size_t len, const struct qfile_envelope *env,
                           const struct qlist_entry *e, bool have_reasons)
{
    size_t pos = 0, pending = 0;
    int type;
    const char *rec;
    size_t rlen;
    while (pos < env->content_offset && qrec_get(data, len, &pos, &type, &rec, &rlen) == 1) {
        switch (type) {
        case QREC_TIME: print_time("arrival_time", (time_t)env->arrival); break;
        case QREC_SENDER:
            if (rlen == 0)
                printf("sender: <>\n");
            else
                print_field("sender", rec, rlen);
            break;
        case QREC_ATTR: print_field("named_attribute", rec, rlen); break;
        case QREC_RECIPIENT:
        case QREC_DONE: {
            char *a = xstrndup(rec, rlen);
            printf("recipient: ");
            qprint_text(stdout, a);
            printf(" (%s)\n", type == QREC_DONE ? "done" : "pending");
            if (type == QREC_RECIPIENT && have_reasons && pending < e->nrcpt &&
                e->rcpt[pending].reason[0]) {
                printf("  delay_reason: ");
                qprint_text(stdout, e->rcpt[pending].reason);
                putchar('\n');
            }
            pending += type == QREC_RECIPIENT;
            free(a);
            break;
        }
        case QREC_RCPT_NOTIFY: print_notify(rec, rlen); break;
        case QREC_RCPT_ORCPT: print_field("  orcpt", rec, rlen); break;
        default: break;
        }
    }
}

/* The message as delivered, as text: CRLF line ends become LF, as postcat shows them. */
static void print_content(const char *data, size_t len, const struct qfile_envelope *env)
{
    struct qfile_content_iter it = { 0, 0 };
    const char *rec;
    size_t rlen;
    bool cr = false;
    while (qfile_content_next(data, len, env, &it, &rec, &rlen)) {
        for (size_t i = 0; i < rlen; i++) {
            if (cr && rec[i] != '\n')
                putchar('\r');
            cr = rec[i] == '\r';
            if (!cr)
                putchar(rec[i]);
        }
    }
    if (cr)
        putchar('\r');
}

int tq_show(const char *id)
{
    const char *queue = NULL;
    char path[QFILE_ID_MAX + 16];
    struct stat st;
    for (const char *const *q = show_queues; *q && !queue; q++) {
        snprintf(path, sizeof path, "%s/%s", *q, id);
        if (lstat(path, &st) == 0)
            queue = *q;
    }
    if (queue == NULL) {
        log_error("%s: no such message", id);
        return EX_NOINPUT;
    }
    struct buf data;
    buf_init(&data, BUF_UNBOUNDED);
    struct qfile_envelope env;
    char why[ERR_TEXT_MAX] = "";
    if (qfile_read(path, qfile_read_limit(), &data, &env, why, sizeof why) < 0) {
        int e = errno;
        bool bad = e == EPROTO || e == EFBIG;   /* malformed or too large: its reason */
        log_error("%s: cannot read it: %s", path, bad ? why : strerror(e));
        buf_free(&data);
        return bad ? EX_DATAERR : EX_IOERR;
    }
    struct qlist_entry e;
    bool have_reasons = qlist_read_entry(queue, id, &e, NULL, 0) == 0;
    printf("*** ENVELOPE RECORDS %s ***\n", path);
    printf("queue_id: %s\nqueue_name: %s\nmessage_size: %zu\n", id, queue, env.content_size);
    if (strcmp(queue, "deferred") == 0)
        print_time("next_attempt", st.st_mtime);
    print_envelope(data.data, data.len, &env, &e, have_reasons);
    printf("*** MESSAGE CONTENTS %s ***\n", path);
    print_content(data.data, data.len, &env);
    printf("*** END OF MESSAGE %s ***\n", path);
    if (have_reasons)
        qlist_entry_free(&e);
    buf_free(&data);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        log_error("cannot write the message: %s", strerror(errno));
        return EX_IOERR;
    }
    return 0;
}

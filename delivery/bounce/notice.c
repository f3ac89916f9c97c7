/* notice.c: one notice of the bounce service (notice.h): the original from active/<ID>, the
 * records of its status log that ask for this kind of notice, the choice of recipient and
 * envelope sender (so that no notice loop can form), and the new queue file in incoming/. */
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "notice.h"
#include "statuslog.h"

#define RECORD_TEXT_MAX (16u << 10)    /* room one record takes in the notice, folded, twice */
#define NOTICE_TEXT_ROOM (64u << 10)   /* the notice's own header and texts */
#define BOUNDARY_MAX 70                /* RFC 2046 */

struct job {
    const char *id;
    enum dsn_kind kind;
    struct notice_result *res;
    char host[256];                    /* myhostname */
    char from[1024];                   /* the notice's envelope sender */
    bool postmaster_copy;
    struct buf file;                   /* active/<ID> */
    struct qfile_envelope env;
    struct buf content;                /* its message */
    struct dsn_records records;
};

static void defer(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A temporary failure: qmgr keeps the log and asks again later. Logged as a warning. */
static void defer(struct job *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->res->reason, sizeof j->res->reason, fmt, ap);
    va_end(ap);
    j->res->status = NOTICE_DEFER;
    log_warn("%s: %s", j->id, j->res->reason);
}

/* name, with @myhostname added when it has no domain. */
static void qualify(const char *name, const char *host, char *out, size_t size)
{
    if (strchr(name, '@'))
        snprintf(out, size, "%s", name);
    else
        snprintf(out, size, "%s@%s", name, host);
}

static int load_original(struct job *j)
{
    char path[QFILE_ID_MAX + 16];
    char why[ERR_TEXT_MAX] = "";
    snprintf(path, sizeof path, "active/%s", j->id);
    if (qfile_read(path, qfile_read_limit(), &j->file, &j->env, why, sizeof why) < 0) {
        int e = errno;
        defer(j, "cannot read the queue file %s: %s", path,
              e == EPROTO || e == EFBIG ? why : strerror(e));
        return -1;
    }
    if (qfile_content(j->file.data, j->file.len, &j->env, &j->content) < 0) {
        defer(j, "cannot read the message of %s: malformed or too large", path);
        return -1;
    }
    return 0;
}

/* Who gets the notice, from whom: 0 when nobody does. A notice from <> that fails goes once to
 * the postmaster from the double-bounce sender; mail from that sender is never answered, so a
 * failed postmaster copy ends the chain. */
static int choose_recipient(struct job *j)
{
    char double_bounce[1024];
    qualify(config_str("double_bounce_sender"), j->host, double_bounce, sizeof double_bounce);
    const char *sender = j->env.sender;
    if (strcasecmp(sender, double_bounce) == 0)
        return 0;
    if (sender[0] == '\0') {
        if (j->kind != DSN_FAILURE)
            return 0;
        qualify(config_str("2bounce_notice_recipient"), j->host, j->res->notice_to,
                sizeof j->res->notice_to);
        snprintf(j->from, sizeof j->from, "%s", double_bounce);
        j->postmaster_copy = true;
        return 1;
    }
    snprintf(j->res->notice_to, sizeof j->res->notice_to, "%s", sender);
    j->from[0] = '\0';
    return 1;
}

static int take_record(const struct status_record *r, void *arg)
{
    struct job *j = arg;
    dsn_records_add(&j->records, j->kind, r);
    return 0;
}

/* 1 when records ask for a notice, 0 when none does or there is no log, -1 deferred. */
static int load_records(struct job *j)
{
    static const char *const dirs[] = { "bounce", "defer", "trace" };
    char path[QFILE_ID_MAX + 16];
    snprintf(path, sizeof path, "%s/%s", dirs[j->kind], j->id);
    if (statuslog_read(path, NOTICE_LOG_MAX, take_record, j) < 0) {
        int e = errno;
        if (e == ENOENT)
            return 0;
        if (e == EPROTO)
            defer(j, "malformed status log %s", path);
        else if (e == EFBIG)
            defer(j, "status log %s is larger than %u bytes", path, NOTICE_LOG_MAX);
        else
            defer(j, "cannot read the status log %s: %s", path, strerror(e));
        return -1;
    }
    if (j->records.dropped)
        log_warn("%s: %zu records of recipients past %d are not listed in the notice", j->id,
                 j->records.dropped, NOTICE_RCPT_MAX);
    return j->records.n > 0;
}

/* <ID>.<random>/<host>: unique, at most 70 characters of those RFC 2046 allows. */
static void make_boundary(const char *id, const char *host, char *out, size_t size)
{
    unsigned char rnd[8];
    randombytes_buf(rnd, sizeof rnd);
    int n = snprintf(out, size, "%s.", id);
    for (size_t i = 0; i < sizeof rnd && n > 0 && (size_t)n + 3 < size; i++)
        n += snprintf(out + n, size - (size_t)n, "%02x", rnd[i]);
    if (n <= 0 || (size_t)n + 2 >= size)
        return;
    out[n++] = '/';
    for (const char *h = host; *h && (size_t)n + 1 < size && n < BOUNDARY_MAX; h++)
        out[n++] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-",
                          *h) ? *h : '-';
    out[n] = '\0';
}

static int format_notice(struct job *j, const char *new_id, struct buf *text)
{
    char boundary[BOUNDARY_MAX + 1], message_id[QFILE_ID_MAX + sizeof j->host + 4];
    make_boundary(new_id, j->host, boundary, sizeof boundary);
    snprintf(message_id, sizeof message_id, "<%s@%s>", new_id, j->host);
    size_t size_limit = (size_t)config_size("bounce_size_limit");
    struct dsn_message m = {
        .kind = j->kind,
        .reporting_mta = j->host,
        .queue_id = j->id,
        .envid = j->env.envid[0] ? j->env.envid : NULL,
        .sender = j->env.sender,
        .notice_to = j->res->notice_to,
        .postmaster_copy = j->postmaster_copy,
        .arrival = (time_t)j->env.arrival,
        .will_retry_until = j->kind == DSN_DELAY
            ? (time_t)j->env.arrival + (time_t)config_time("maximal_queue_lifetime") : 0,
        .records = j->records.r,
        .nrecords = j->records.n,
        .original = j->content.data,
        .original_len = j->content.len,
        .headers_only = strcasecmp(j->env.ret, "HDRS") == 0,
        .size_limit = size_limit,
        .boundary = boundary,
        .now = time(NULL),
        .message_id = message_id,
    };
    size_t original = size_limit < j->content.len ? size_limit : j->content.len;
    buf_init(text, original + NOTICE_TEXT_ROOM + j->records.n * RECORD_TEXT_MAX);
    return dsn_format(&m, text);
}

static int put_records(struct qfile *q, const struct job *j, const struct buf *text)
{
    struct qenvelope_rcpt to = { .address = j->res->notice_to };
    struct qenvelope e = { .sender = j->from, .rcpt = &to, .nrcpt = 1 };
    if (qfile_put_envelope(q, &e) < 0 || qfile_put_content(q, text->data, text->len) < 0)
        return -1;
    return qfile_finish(q);
}

static void write_notice(struct job *j)
{
    struct qfile *q = qfile_create();
    if (q == NULL) {
        defer(j, "cannot write the notice: cannot create a queue file: %s", strerror(errno));
        return;
    }
    struct buf text;
    if (format_notice(j, qfile_id(q), &text) < 0) {
        defer(j, "cannot write the notice: it would be larger than %zu bytes", text.max);
    } else if (put_records(q, j, &text) < 0 || qfile_commit_sync(q) < 0) {
        defer(j, "cannot write the notice: %s", strerror(errno));
    } else {
        j->res->status = NOTICE_QUEUED;
        snprintf(j->res->queue_id, sizeof j->res->queue_id, "%s", qfile_id(q));
    }
    buf_free(&text);
    if (j->res->status == NOTICE_QUEUED) {
        qfile_free(q);
        ipc_wakeup(IPC_QMGR_SOCKET);   /* a hint: qmgr scans incoming/ anyway */
    } else {
        qfile_abort(q);
    }
}

void notice_make(const char *queue_id, enum dsn_kind kind, struct notice_result *res)
{
    struct job job = { 0 };
    struct job *j = &job;
    memset(res, 0, sizeof *res);
    res->status = NOTICE_NONE;
    j->id = queue_id;
    j->kind = kind;
    j->res = res;
    buf_init(&j->file, BUF_UNBOUNDED);
    buf_init(&j->content, qfile_read_limit());
    dsn_records_init(&j->records, NOTICE_RCPT_MAX);
    snprintf(j->host, sizeof j->host, "%s", config_str("myhostname"));
    if (load_original(j) == 0 && choose_recipient(j) && load_records(j) > 0)
        write_notice(j);
    if (res->status != NOTICE_QUEUED)
        res->notice_to[0] = '\0';
    dsn_records_free(&j->records);
    buf_free(&j->content);
    buf_free(&j->file);
}

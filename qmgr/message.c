/* message.c: a message in active/: loading it (recipients, original recipients, NOTIFY),
 * routing each recipient (SRS addresses of srs_domain, virtual aliases, the resolver, error:
 * and discard:), recording each result (done mark in the queue file, defer/ bounce/ trace/
 * status logs, the Postfix-shaped log line), and finishing it: the notices (bounce, success,
 * delay) through the bounce service, then removal or a move to deferred/ with the next attempt
 * time as its mtime. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "ipc_proto.h"
#include "log.h"
#include "mem.h"
#include "qdir.h"
#include "qmgr.h"
#include "qspare.h"
#include "xtext.h"
#include "statuslog.h"

static TAILQ_HEAD(, qmsg) active_list = TAILQ_HEAD_INITIALIZER(active_list);
static size_t active_count;

#define ID_BUCKETS 4096
static struct qmsg *by_id[ID_BUCKETS];   /* the active messages by queue ID (ternqueue) */

/* set while a message is being loaded: results recorded then must not finish it yet */
static struct qmsg *loading;

static void message_finish(struct qmsg *m);

size_t message_active_count(void)
{
    return active_count;
}

static unsigned id_hash(const char *id)
{
    unsigned h = 2166136261u;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return h % ID_BUCKETS;
}

struct qmsg *message_find(const char *id)
{
    for (struct qmsg *m = by_id[id_hash(id)]; m; m = m->hnext)
        if (strcmp(m->id, id) == 0)
            return m;
    return NULL;
}

static void table_add(struct qmsg *m)
{
    unsigned h = id_hash(m->id);
    m->hnext = by_id[h];
    by_id[h] = m;
}

static void table_remove(struct qmsg *m)
{
    struct qmsg **pp = &by_id[id_hash(m->id)];
    while (*pp && *pp != m)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = m->hnext;
}

void message_each(void (*fn)(struct qmsg *m, void *arg), void *arg)
{
    /* fn may finish (and free) m: the next one is taken first */
    struct qmsg *m, *next;
    for (m = TAILQ_FIRST(&active_list); m; m = next) {
        next = TAILQ_NEXT(m, link);
        fn(m, arg);
    }
}

void message_admin(struct qmsg *m, enum qadmin_op op)
{
    if (m->admin_set && m->admin_op == QADMIN_DELETE)
        return;
    m->admin_set = true;
    m->admin_op = op;
    /* nothing more is sent: deliveries in flight end, queued ones are taken back (m may be
     * finished and freed by this) */
    schedule_withdraw_message(m);
}

static void status_path(char *out, size_t size, const char *dir, const char *id)
{
    snprintf(out, size, "%s/%s", dir, id);
}

/* ---- loading ---- */

struct load_ctx {
    struct qmsg *m;
};

static int load_rcpt(const struct qfile_rcpt *rc, void *arg)
{
    struct qmsg *m = ((struct load_ctx *)arg)->m;
    struct qrcpt *r = &m->rcpt[m->nrcpt++];
    r->address = xstrndup(rc->address, rc->address_len);
    r->notify = rc->notify;
    r->offset = rc->offset;
    r->state = rc->done ? QR_DONE : QR_TODO;
    char orig[DELIVERY_ADDR_MAX] = "";
    if (rc->orcpt && rc->orcpt_len > 7 && strncasecmp(rc->orcpt, "rfc822;", 7) == 0 &&
        xtext_decode(rc->orcpt + 7, rc->orcpt_len - 7, orig, sizeof orig) < 0)
        orig[0] = '\0';
    for (char *p = orig; *p; p++)      /* only printable text reaches logs and agents */
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    r->orig = xstrdup(orig);
    return 0;
}

static void move_to_corrupt(const char *id, const char *why)
{
    if (qdir_move("active", "corrupt", id) == 0)
        log_warn("%s: corrupt queue file moved to corrupt/: %s", id, why);
    else
        log_error("%s: corrupt queue file (%s), and it cannot be moved to corrupt/: %s", id, why,
                  strerror(errno));
}

/* A message larger than the readers load (qfile_read_limit) waits in hold/ for the admin. */
static void move_to_hold(const char *id)
{
    char from[QFILE_ID_MAX + 16], to[QFILE_ID_MAX + 16];
    snprintf(from, sizeof from, "active/%s", id);
    snprintf(to, sizeof to, "hold/%s", id);
    if (rename(from, to) == 0)
        log_warn("%s: queue file larger than %zu bytes, the most tern reads: moved to hold/",
                 id, qfile_read_limit());
    else
        log_error("%s: queue file too large to read, and it cannot be moved to hold/: %s", id,
                  strerror(errno));
}

static void free_message(struct qmsg *m)
{
    for (size_t i = 0; i < m->nrcpt; i++) {
        free(m->rcpt[i].address);
        free(m->rcpt[i].orig);
    }
    free(m->rcpt);
    free(m->sender);
    free(m);
}

/* An error: or discard: next hop: an optional leading status code, then the text. */
static void split_code(const char *text, char dsn[16], const char *fallback, const char **rest)
{
    size_t n = strcspn(text, " \t");
    if (n >= 5 && n < 16 && (text[0] == '4' || text[0] == '5' || text[0] == '2') &&
        text[1] == '.') {
        memcpy(dsn, text, n);
        dsn[n] = '\0';
        text += n;
        text += strspn(text, " \t");
    } else {
        snprintf(dsn, 16, "%s", fallback);
    }
    *rest = text;
}

/* Recipient i, which became addrs, goes on as a new queue file (forward.c). */
static void forward_rcpt(struct qmsg *m, size_t i, enum forward_kind kind, char *const *addrs,
                         size_t n)
{
    char newids[FORWARD_IDS_MAX], err[512];
    if (forward_write(m, i, NULL, NULL, kind, addrs, n, newids, err, sizeof err) < 0) {
        message_rcpt_deferred(m, i, "4.3.0", err, "none");
        return;
    }
    char text[FORWARD_IDS_MAX + 32];
    snprintf(text, sizeof text, "forwarded as %s", newids);
    message_rcpt_sent(m, i, "2.0.0", text, "none");
    scan_request_incoming();
}

/* An SRS address of srs_domain (a bounce to a copy tern forwarded, made here or sent through
 * pickup) goes back to the original sender: 1 when recipient i was handled so, 0 when it is
 * not such an address. A forged, malformed or expired one bounces. */
static int route_srs(struct qmsg *m, size_t i)
{
    const struct qsrs *s = qmgr_srs();
    if (s == NULL)
        return 0;
    char orig[SRS_ADDRESS_MAX];
    enum srs_status st = qsrs_reverse(s, m->rcpt[i].address, time(NULL), orig, sizeof orig);
    if (st == SRS_NOT_SRS)
        return 0;
    if (st != SRS_OK) {
        message_rcpt_bounced(m, i, "5.1.1", srs_status_text(st), "none");
        return 1;
    }
    log_info("%s: SRS recipient <%s> is <%s>", m->id, m->rcpt[i].address, orig);
    char *addrs[] = { orig };
    forward_rcpt(m, i, FORWARD_SRS_REVERSE, addrs, 1);
    return 1;
}

static void route(struct qmsg *m, size_t i)
{
    struct qrcpt *r = &m->rcpt[i];
    char err[512];
    char **list = NULL;
    size_t n = 0;
    if (route_srs(m, i))
        return;
    int rc = m->valias_expanded ? 0
                                : valias_expand(qmgr_valias(), r->address, &list, &n, err,
                                                sizeof err);
    if (rc < 0) {
        message_rcpt_deferred(m, i, "4.3.0", err, "none");
        return;
    }
    if (rc > 0) {
        forward_rcpt(m, i, FORWARD_VALIAS, list, n);
        valias_free_list(list, n);
        return;
    }
    struct resolved to;
    if (resolve_recipient(qmgr_resolver(), r->address, &to, err, sizeof err) < 0) {
        message_rcpt_deferred(m, i, "4.3.0", err, "none");
        return;
    }
    const char *text;
    char dsn[16];
    if (strcmp(to.transport, "error") == 0) {
        split_code(to.nexthop, dsn, "5.0.0", &text);
        if (dsn[0] == '4')
            message_rcpt_deferred(m, i, dsn, text[0] ? text : "deferred by transport_maps",
                                  "none");
        else
            message_rcpt_bounced(m, i, dsn[0] == '5' ? dsn : "5.0.0",
                                 text[0] ? text : "undeliverable by transport_maps", "none");
        return;
    }
    if (strcmp(to.transport, "discard") == 0) {
        split_code(to.nexthop, dsn, "2.0.0", &text);
        char why[STATUSLOG_TEXT_MAX];
        snprintf(why, sizeof why, "discarded%s%s", text[0] ? ": " : "", text);
        message_rcpt_sent(m, i, "2.0.0", why, "none");
        return;
    }
    schedule_add(m, i, &to);
}

/* A file that could not be read for a passing reason (out of descriptors or memory) goes back
 * to incoming/ for a later scan. */
static void put_back(const char *id, const char *why)
{
    char from[QFILE_ID_MAX + 16], to[QFILE_ID_MAX + 16];
    snprintf(from, sizeof from, "active/%s", id);
    snprintf(to, sizeof to, "incoming/%s", id);
    log_warn("%s: cannot read the queue file now (%s); it waits in incoming/", id, why);
    if (rename(from, to) < 0)
        log_error("%s: cannot move back to incoming/: %s", id, strerror(errno));
}

static bool log_exists(const char *dir, const char *id)
{
    char path[QFILE_ID_MAX + 16];
    status_path(path, sizeof path, dir, id);
    return access(path, F_OK) == 0;
}

/* The flag of qmsg that says whether status log dir/<id> exists. */
static bool *logged_flag(struct qmsg *m, const char *dir)
{
    return strcmp(dir, "bounce") == 0 ? &m->bounce_logged
           : strcmp(dir, "trace") == 0 ? &m->trace_logged : &m->defer_logged;
}

int message_load(const char *id)
{
    char path[QFILE_ID_MAX + 16];
    snprintf(path, sizeof path, "active/%s", id);
    struct stat st;
    struct buf data;
    buf_init(&data, BUF_UNBOUNDED);
    struct qfile_envelope env;
    char why[ERR_TEXT_MAX] = "not a regular file";
    if (lstat(path, &st) < 0) {
        if (errno != ENOENT)
            put_back(id, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode) || qfile_read(path, qfile_read_limit(), &data, &env, why,
                                           sizeof why) < 0) {
        int e = S_ISREG(st.st_mode) ? errno : EPROTO;
        buf_free(&data);
        if (e == EFBIG)
            move_to_hold(id);
        else if (e == EPROTO || e == EINVAL || e == EMLINK || e == ELOOP)
            move_to_corrupt(id, why);
        else if (e != ENOENT)
            put_back(id, strerror(e));
        return -1;
    }
    struct qmsg *m = xcalloc(1, sizeof *m);
    snprintf(m->id, sizeof m->id, "%s", id);
    m->sender = xstrdup(env.sender);
    m->arrival = env.arrival;
    m->active_time = qmgr_now();
    m->size = env.content_size;
    m->warned = (st.st_mode & QFILE_MODE_WARNED) != 0;
    m->valias_expanded = env.valias_expanded;
    m->rcpt = xcalloc(env.nrcpt ? env.nrcpt : 1, sizeof *m->rcpt);
    struct load_ctx ctx = { m };
    qfile_recipients(data.data, data.len, load_rcpt, &ctx);
    buf_free(&data);

    /* defer/<id> tells why recipients wait: from now on, the reasons of this pass */
    char log_path[QFILE_ID_MAX + 16];
    status_path(log_path, sizeof log_path, "defer", id);
    unlink(log_path);
    m->bounce_logged = log_exists("bounce", id);   /* pickup's, or an earlier pass's */
    m->trace_logged = log_exists("trace", id);

    TAILQ_INSERT_TAIL(&active_list, m, link);
    table_add(m);
    active_count++;
    log_info("%s: from=<%s>, size=%zu, nrcpt=%zu (queue active)", id, m->sender, m->size,
             m->nrcpt);
    loading = m;
    for (size_t i = 0; i < m->nrcpt; i++)
        if (m->rcpt[i].state == QR_TODO)
            route(m, i);
    loading = NULL;
    if (m->unfinished == 0)
        message_finish(m);
    return 0;
}

/* ---- recording results ---- */

static void fmt_seconds(char *out, size_t size, double s)
{
    if (s < 0)
        s = 0;
    if (s < 0.005)
        snprintf(out, size, "0");
    else if (s < 10)
        snprintf(out, size, "%.2g", s);
    else
        snprintf(out, size, "%.0f", s);
}

static void log_result(struct qmsg *m, size_t i, const char *relay, double start,
                       const char *dsn, const char *status, const char *text)
{
    const struct qrcpt *r = &m->rcpt[i];
    double now = qmgr_now();
    if (start <= 0)
        start = now;
    char total[32], a[32], b[32], d[32];
    fmt_seconds(total, sizeof total, now - m->arrival);
    fmt_seconds(a, sizeof a, m->active_time - m->arrival);
    fmt_seconds(b, sizeof b, start - m->active_time);
    fmt_seconds(d, sizeof d, now - start);
    char orig[DELIVERY_ADDR_MAX + 16] = "";
    if (r->orig[0] && strcasecmp(r->orig, r->address) != 0)
        snprintf(orig, sizeof orig, ", orig_to=<%s>", r->orig);
    log_info("%s: to=<%s>%s, relay=%s, delay=%s, delays=%s/%s/0/%s, dsn=%s, status=%s (%s)",
             m->id, r->address, orig, relay && relay[0] ? relay : "none", total, a, b, d, dsn,
             status, text);
}

static int append_status(struct qmsg *m, size_t i, const char *dir, const char *action,
                         const char *dsn, const char *text, const char *diag,
                         const char *remote_mta)
{
    struct status_record rec;
    memset(&rec, 0, sizeof rec);
    const struct qrcpt *r = &m->rcpt[i];
    snprintf(rec.recipient, sizeof rec.recipient, "%s", r->address);
    snprintf(rec.orig_recipient, sizeof rec.orig_recipient, "%s", r->orig);
    rec.notify = r->notify;
    snprintf(rec.status, sizeof rec.status, "%s", dsn);
    snprintf(rec.action, sizeof rec.action, "%s", action);
    snprintf(rec.remote_mta, sizeof rec.remote_mta, "%s", remote_mta ? remote_mta : "");
    snprintf(rec.diagnostic, sizeof rec.diagnostic, "%s", diag ? diag : "");
    snprintf(rec.reason, sizeof rec.reason, "%s", text);
    rec.when = (time_t)qmgr_now();
    char path[QFILE_ID_MAX + 16];
    status_path(path, sizeof path, dir, m->id);
    *logged_flag(m, dir) = true;   /* even a failed append may have made the file */
    if (statuslog_append(path, &rec) < 0) {
        log_error("%s: cannot append to %s: %s", m->id, path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The queue file is opened for each mark, so that active/ may hold more messages than this
 * process has descriptors. The marks reach the disk with sync_marks when the message stays in
 * the queue; a message whose recipients are all done is removed without that fsync (a crash
 * before the removal delivers again, as a crash between a delivery and its mark would). */
static void mark_done(struct qmsg *m, size_t i)
{
    char path[QFILE_ID_MAX + 16];
    snprintf(path, sizeof path, "active/%s", m->id);
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || qfile_mark_done(fd, m->rcpt[i].offset) < 0)
        log_error("%s: cannot mark <%s> delivered in the queue file: %s (it may be delivered "
                  "again)", m->id, m->rcpt[i].address, strerror(errno));
    else
        m->marks_unsynced = true;
    if (fd >= 0)
        close(fd);
    m->rcpt[i].state = QR_DONE;
}

/* Puts the done marks of a message that stays in the queue on disk, once for all of them. */
static void sync_marks(struct qmsg *m)
{
    if (!m->marks_unsynced)
        return;
    char path[QFILE_ID_MAX + 16];
    snprintf(path, sizeof path, "active/%s", m->id);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0)
        log_error("%s: cannot fsync the delivered marks of the queue file: %s (after a crash "
                  "its delivered recipients may be delivered again)", m->id, strerror(errno));
    if (fd >= 0)
        close(fd);
    m->marks_unsynced = false;
}

static double lifetime_of(const struct qmsg *m)
{
    return (double)(m->sender[0] ? qmgr_conf.lifetime : qmgr_conf.bounce_lifetime);
}

static void record_defer(struct qmsg *m, size_t i, const char *dsn, const char *text,
                         const char *diag, const char *remote_mta, const char *relay,
                         double start)
{
    if (qmgr_now() - m->arrival >= lifetime_of(m)) {
        /* too old: the recipient fails with the reason it was waiting for */
        if (append_status(m, i, "bounce", "failed", dsn, text, diag, remote_mta) == 0) {
            char why[STATUSLOG_TEXT_MAX + 64];
            snprintf(why, sizeof why, "%s", text);
            mark_done(m, i);
            log_result(m, i, relay, start, dsn, "expired, returned to sender", why);
            return;
        }
    }
    append_status(m, i, "defer", "delayed", dsn, text, diag, remote_mta);
    m->rcpt[i].state = QR_DEFERRED;
    m->deferred++;
    log_result(m, i, relay, start, dsn, "deferred", text);
}

static void record_bounce(struct qmsg *m, size_t i, const char *dsn, const char *text,
                          const char *diag, const char *remote_mta, const char *relay,
                          double start)
{
    if (append_status(m, i, "bounce", "failed", dsn, text, diag, remote_mta) < 0) {
        /* without its record the notice could not tell why: keep the recipient */
        record_defer(m, i, "4.3.0", "cannot record a delivery failure", NULL, NULL, relay,
                     start);
        return;
    }
    mark_done(m, i);
    log_result(m, i, relay, start, dsn, "bounced", text);
}

static void record_sent(struct qmsg *m, size_t i, const char *dsn, const char *action,
                        const char *text, const char *remote_mta, const char *relay,
                        double start)
{
    if ((m->rcpt[i].notify & NOTIFY_SUCCESS) && !(action && strcmp(action, "none") == 0))
        append_status(m, i, "trace", action && action[0] ? action : "delivered", dsn, text,
                      NULL, remote_mta);
    mark_done(m, i);
    log_result(m, i, relay, start, dsn, "sent", text);
}

void message_rcpt_deferred(struct qmsg *m, size_t i, const char *dsn, const char *reason,
                           const char *relay)
{
    record_defer(m, i, dsn, reason, NULL, NULL, relay, 0);
}

void message_rcpt_bounced(struct qmsg *m, size_t i, const char *dsn, const char *reason,
                          const char *relay)
{
    record_bounce(m, i, dsn, reason, NULL, NULL, relay, 0);
}

void message_rcpt_sent(struct qmsg *m, size_t i, const char *dsn, const char *text,
                       const char *relay)
{
    record_sent(m, i, dsn, "delivered", text, NULL, relay, 0);
}

/* A sent result with addresses to forward: the copy first, then the done mark. */
static void record_forward(struct qmsg *m, size_t i, const struct delivery_result *x,
                           double start)
{
    char newid[FORWARD_IDS_MAX], err[512];
    const char *sender = x->forward_sender[0] ? x->forward_sender : NULL;
    if (forward_write(m, i, sender, m->rcpt[i].address, FORWARD_ALIAS, x->forward, x->nforward,
                      newid, err, sizeof err) < 0) {
        record_defer(m, i, "4.3.0", err, NULL, NULL, x->relay, start);
        return;
    }
    char text[STATUSLOG_TEXT_MAX + FORWARD_IDS_MAX + 32];
    if (x->text[0] && strcmp(x->text, "forwarded") != 0)
        snprintf(text, sizeof text, "%s, forwarded as %s", x->text, newid);
    else
        snprintf(text, sizeof text, "forwarded as %s", newid);
    record_sent(m, i, x->dsn, x->action[0] ? x->action : "expanded", text, x->remote_mta,
                x->relay, start);
    scan_request_incoming();
}

void message_job_done(struct qjob *job, const struct delivery_reply *reply, const char *reason,
                      const char *reason_dsn)
{
    struct qmsg *m = job->msg;
    for (size_t k = 0; k < job->n; k++) {
        size_t i = job->idx[k];
        if (reply == NULL) {
            record_defer(m, i, reason_dsn ? reason_dsn : "4.3.0", reason, NULL, NULL,
                         job->dest ? "none" : "none", job->start);
            continue;
        }
        const struct delivery_result *x = &reply->result[k];
        switch (x->status) {
        case DELIVERY_SENT:
            if (x->nforward)
                record_forward(m, i, x, job->start);
            else
                record_sent(m, i, x->dsn, x->action, x->text, x->remote_mta, x->relay,
                            job->start);
            break;
        case DELIVERY_BOUNCE:
            record_bounce(m, i, x->dsn, x->text, x->diag, x->remote_mta, x->relay, job->start);
            break;
        default:
            record_defer(m, i, x->dsn, x->text, x->diag, x->remote_mta, x->relay, job->start);
            break;
        }
    }
    m->unfinished -= job->n;
    if (m->unfinished == 0 && loading != m)
        message_finish(m);
}

/* A job taken back before it was sent, because ternqueue put the message on hold, deleted or
 * requeued it: its recipients stay pending (their R records are untouched) and the action is
 * applied when the message leaves active/. */
void message_job_withdrawn(struct qjob *job)
{
    struct qmsg *m = job->msg;
    for (size_t k = 0; k < job->n; k++)
        m->rcpt[job->idx[k]].state = QR_TODO;
    m->unfinished -= job->n;
    if (m->unfinished == 0 && loading != m)
        message_finish(m);
}

/* ---- finishing: notices, then removal or deferred/ ---- */

enum { STEP_FAILURE, STEP_SUCCESS, STEP_DELAY, STEP_DONE };

static void finish_next(struct qmsg *m);

struct notice_call {
    struct qmsg *m;
    const char *kind;
};

static void on_notice(void *arg, const struct ipc_msg *reply, const char *error)
{
    struct notice_call *nc = arg;
    struct qmsg *m = nc->m;
    const char *kind = nc->kind;
    free(nc);
    const char *status = reply ? ipc_get(reply, IPC_A_STATUS) : NULL;
    if (status == NULL || strcmp(status, IPC_STATUS_OK) != 0) {
        const char *why = error ? error : reply ? ipc_get(reply, IPC_A_REASON) : NULL;
        log_warn("%s: cannot send the %s notice: %s", m->id, kind,
                 why ? why : "the bounce service refused");
        m->notice_failed = true;   /* the message stays until the notice is out */
        finish_next(m);
        return;
    }
    const char *newid = ipc_get(reply, IPC_A_QUEUE_ID);
    const char *dir = strcmp(kind, BOUNCE_KIND_FAILURE) == 0 ? "bounce"
                      : strcmp(kind, BOUNCE_KIND_SUCCESS) == 0 ? "trace" : NULL;
    if (newid && qfile_valid_id(newid)) {
        const char *who = m->sender[0] ? "sender" : "postmaster";
        const char *what = strcmp(kind, BOUNCE_KIND_FAILURE) == 0 ? "non-delivery"
                           : strcmp(kind, BOUNCE_KIND_SUCCESS) == 0 ? "delivery status"
                           : "delay";
        log_info("%s: %s %s notification: %s", m->id, who, what, newid);
        scan_request_incoming();
    } else if (strcmp(kind, BOUNCE_KIND_FAILURE) == 0 &&
               strcasecmp(m->sender, qmgr_conf.double_bounce) == 0) {
        log_warn("%s: undeliverable postmaster notification discarded", m->id);
    }
    if (dir) {
        char path[QFILE_ID_MAX + 16];
        status_path(path, sizeof path, dir, m->id);
        if (unlink(path) == 0 || errno == ENOENT)
            *logged_flag(m, dir) = false;
    } else {
        char path[QFILE_ID_MAX + 16];
        snprintf(path, sizeof path, "active/%s", m->id);
        if (chmod(path, QFILE_MODE | QFILE_MODE_WARNED) == 0)
            m->warned = true;
    }
    finish_next(m);
}

static bool ask_notice(struct qmsg *m, const char *kind)
{
    struct ipc_msg req;
    ipc_msg_init(&req);
    ipc_add(&req, IPC_A_TYPE, IPC_T_BOUNCE);
    ipc_add(&req, IPC_A_QUEUE_ID, m->id);
    ipc_add(&req, IPC_A_KIND, kind);
    struct notice_call *nc = xcalloc(1, sizeof *nc);
    nc->m = m;
    nc->kind = kind;
    call_start("private/bounce", &req, qmgr_conf.daemon_timeout, on_notice, nc);
    ipc_msg_free(&req);
    return true;
}

static void move_to_deferred(struct qmsg *m)
{
    double now = qmgr_now();
    double backoff = now - m->arrival;
    if (backoff < (double)qmgr_conf.min_backoff)
        backoff = (double)qmgr_conf.min_backoff;
    if (backoff > (double)qmgr_conf.max_backoff)
        backoff = (double)qmgr_conf.max_backoff;
    struct timespec times[2] = { { (time_t)now, 0 }, { (time_t)(now + backoff), 0 } };
    char from[QFILE_ID_MAX + 16], to[QFILE_ID_MAX + 16];
    snprintf(from, sizeof from, "active/%s", m->id);
    snprintf(to, sizeof to, "deferred/%s", m->id);
    if (utimensat(AT_FDCWD, from, times, AT_SYMLINK_NOFOLLOW) < 0)
        log_warn("%s: cannot set the retry time: %s", m->id, strerror(errno));
    if (rename(from, to) < 0)
        log_error("%s: cannot move to deferred/: %s (it stays in active/ until a restart)",
                  m->id, strerror(errno));
}

static void remove_message(struct qmsg *m)
{
    char path[QFILE_ID_MAX + 16];
    if (m->defer_logged) {
        status_path(path, sizeof path, "defer", m->id);
        unlink(path);
    }
    status_path(path, sizeof path, "active", m->id);
    if (qspare_retire(path, m->id) < 0) {
        log_error("%s: cannot remove %s: %s", m->id, path, strerror(errno));
        return;
    }
    /* kept in spare/ for reuse or unlinked; no fsync of active/: should the removal be lost in
     * a crash, the message is delivered again (a duplicate, never a loss) */
    log_info("%s: removed", m->id);
}

/* What ternqueue asked for while the message was in active/ (message_admin). */
static void apply_admin(struct qmsg *m, bool left)
{
    char from[QFILE_ID_MAX + 16], to[QFILE_ID_MAX + 16];
    snprintf(from, sizeof from, "active/%s", m->id);
    if (m->admin_op == QADMIN_DELETE) {
        qadmin_remove_logs(m->id, true);
        if (unlink(from) < 0)
            log_error("%s: cannot remove %s: %s", m->id, from, strerror(errno));
        else
            log_info("%s: removed", m->id);
        return;
    }
    if (!left) {   /* nothing is left to hold or requeue */
        remove_message(m);
        return;
    }
    const char *dir = m->admin_op == QADMIN_HOLD ? "hold" : "incoming";
    snprintf(to, sizeof to, "%s/%s", dir, m->id);
    if (m->admin_op == QADMIN_REQUEUE)
        qadmin_remove_logs(m->id, false);
    if (rename(from, to) < 0) {
        log_error("%s: cannot move to %s/: %s", m->id, dir, strerror(errno));
        move_to_deferred(m);
        return;
    }
    log_info("%s: %s", m->id, qadmin_op_done_text(m->admin_op));
    if (m->admin_op == QADMIN_REQUEUE)
        scan_request_incoming();
}

static void finish_next(struct qmsg *m)
{
    for (;;) {
        if (m->admin_set && m->admin_op == QADMIN_DELETE)
            break;   /* deleted: no notices */
        int step = m->notice_step++;
        switch (step) {
        case STEP_FAILURE:
            if (m->bounce_logged && ask_notice(m, BOUNCE_KIND_FAILURE))
                return;
            continue;
        case STEP_SUCCESS:
            if (m->trace_logged && ask_notice(m, BOUNCE_KIND_SUCCESS))
                return;
            continue;
        case STEP_DELAY:
            if (qmgr_conf.delay_warning > 0 && !m->warned && m->deferred > 0 &&
                qmgr_now() - m->arrival >= (double)qmgr_conf.delay_warning &&
                m->defer_logged && ask_notice(m, BOUNCE_KIND_DELAY))
                return;
            continue;
        default:
            break;
        }
        break;
    }
    if (m->notice_failed && qmgr_now() - m->arrival >= lifetime_of(m)) {
        /* a notice that could not be written for the whole lifetime will not be: the message
         * must not stay forever (the reasons stay in the log above) */
        log_error("%s: giving up on its delivery status notices after the queue lifetime; "
                  "the records in bounce/ and trace/ are dropped", m->id);
        char path[QFILE_ID_MAX + 16];
        status_path(path, sizeof path, "bounce", m->id);
        unlink(path);
        status_path(path, sizeof path, "trace", m->id);
        unlink(path);
        m->notice_failed = false;
        m->bounce_logged = m->trace_logged = false;
    }
    bool left = m->notice_failed || m->bounce_logged || m->trace_logged;
    for (size_t i = 0; i < m->nrcpt && !left; i++)
        left = m->rcpt[i].state != QR_DONE;
    if (left)
        sync_marks(m);
    if (m->admin_set)
        apply_admin(m, left);
    else if (left)
        move_to_deferred(m);
    else
        remove_message(m);
    TAILQ_REMOVE(&active_list, m, link);
    table_remove(m);
    active_count--;
    free_message(m);
    scan_capacity_freed();
}

static void message_finish(struct qmsg *m)
{
    m->notice_step = STEP_FAILURE;
    m->notice_failed = false;
    finish_next(m);
}

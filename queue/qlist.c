/* qlist.c: the queue listing of qlist.h: a bounded, envelope-only reader of queue files (the
 * content is skipped record by record, only its size is counted), the reasons of defer/ID,
 * the walk over the queues, and the entries' wire form for public/showq. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ipc_proto.h"
#include "mem.h"
#include "log.h"
#include "qlist.h"
#include "safefile.h"
#include "statuslog.h"

#define ADDRESS_SHOWN_MAX 2048    /* longer addresses (forged files only) are cut */
#define WIRE_CHUNK_BYTES (256u << 10)

const char *const qlist_queues[] = { "incoming", "active", "deferred", "hold", NULL };

/* ---- the envelope reader ---- */

static int fail(char *err, size_t errlen, const char *reason, int errnum)
{
    snprintf(err, errlen, "%s", reason);
    errno = errnum;
    return -1;
}

/* pread of exactly n bytes (fewer only at the end of the file); -1 with errno. */
static ssize_t read_at(int fd, void *p, size_t n, off_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (char *)p + done, n - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

/* Appends n bytes of the file at off to out. */
static int copy_data(int fd, off_t off, size_t n, struct buf *out)
{
    char chunk[16384];
    while (n > 0) {
        size_t want = n < sizeof chunk ? n : sizeof chunk;
        ssize_t got = read_at(fd, chunk, want, off);
        if (got < 0)
            return -1;
        if ((size_t)got != want || buf_append(out, chunk, want) < 0) {
            errno = EPROTO;
            return -1;
        }
        off += (off_t)want;
        n -= want;
    }
    return 0;
}

/* Walks the records of the file: the envelope ones are copied to records, the CONTENT and
 * trailer HEADER ones only counted (a trailer ATTR is not listed); END must come last. */
static int scan_records(int fd, unsigned long long size, struct buf *records,
                        struct qlist_envelope *env, char *err, size_t errlen)
{
    unsigned long long off = 0;
    bool content = false;
    for (;;) {
        if (off >= size)
            return fail(err, errlen, off == 0 ? "empty file" : "no end record", EPROTO);
        unsigned char head[QREC_HEAD_MAX];
        size_t avail = size - off < QREC_HEAD_MAX ? (size_t)(size - off) : QREC_HEAD_MAX;
        ssize_t got = read_at(fd, head, avail, (off_t)off);
        if (got < 0)
            return fail(err, errlen, "cannot read the file", errno);
        int type;
        size_t len, hlen;
        if (qrec_head(head, (size_t)got, &type, &len, &hlen) != QREC_HEAD_OK ||
            size - off - hlen < len)
            return fail(err, errlen, "truncated or malformed record", EPROTO);
        bool trailer_attr = content && type == QREC_ATTR;
        if (type == QREC_CONTENT || type == QREC_HEADER || type == QREC_END || trailer_attr) {
            if (!content)
                env->content_offset = (size_t)off;
            content = true;
            if (type == QREC_END) {
                if (len != 0)
                    return fail(err, errlen, "bad end record", EPROTO);
                if (off + hlen != size)
                    return fail(err, errlen, "data after the end record", EPROTO);
                return 0;
            }
            if (!trailer_attr)
                env->content_size += len;
        } else {
            if (content)
                return fail(err, errlen, "record out of order", EPROTO);
            if (records->len + hlen + len + QREC_HEAD_MAX > QLIST_ENVELOPE_MAX)
                return fail(err, errlen, "envelope too large", EFBIG);
            if (buf_append(records, head, hlen) < 0 ||
                copy_data(fd, (off_t)(off + hlen), len, records) < 0)
                return fail(err, errlen, "cannot read the file", errno);
        }
        off += hlen + len;
    }
}

static int count_rcpt(const struct qfile_rcpt *r, void *arg)
{
    (void)r;
    (void)arg;
    return 0;
}

/* Sender and arrival time from records the queue file reader has accepted. */
static void envelope_fields(const struct buf *records, struct qlist_envelope *env)
{
    size_t pos = 0;
    int type;
    const char *rec;
    size_t len;
    while (qrec_get(records->data, records->len, &pos, &type, &rec, &len) == 1) {
        if (type == QREC_TIME && len < 32) {
            char t[32];
            memcpy(t, rec, len);
            t[len] = '\0';
            env->arrival = strtod(t, NULL);
        } else if (type == QREC_SENDER && len < sizeof env->sender) {
            memcpy(env->sender, rec, len);
            env->sender[len] = '\0';
        } else if (type == QREC_RECIPIENT || type == QREC_DONE) {
            break;
        }
    }
}

int qlist_read_envelope(const char *path, struct buf *records, struct qlist_envelope *env,
                        char *err, size_t errlen)
{
    memset(env, 0, sizeof *env);
    buf_reset(records);
    int fd = safe_open_stat(path, O_RDONLY | O_NOFOLLOW, 0, &env->st);
    if (fd < 0) {
        struct stat st;
        if (errno == EACCES && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            !qfile_complete(st.st_mode))
            return fail(err, errlen, "still being written", ENOENT);   /* not a message yet */
        return fail(err, errlen, errno == ELOOP ? "a symbolic link" : "cannot open the file",
                    errno == ELOOP ? EPROTO : errno);
    }
    int r = -1;
    if (!S_ISREG(env->st.st_mode))
        fail(err, errlen, "not a regular file", EPROTO);
    else if (!qfile_complete(env->st.st_mode))
        /* root reads it, but it is no message yet */
        fail(err, errlen, "still being written", ENOENT);
    else
        r = scan_records(fd, (unsigned long long)env->st.st_size, records, env, err, errlen);
    int e = errno;
    close(fd);
    errno = e;
    if (r < 0)
        return -1;
    /* the envelope alone, ended, is a queue file without content: the strict reader checks
     * its order and form */
    if (qrec_put(records, QREC_END, "", 0) < 0)
        return fail(err, errlen, "envelope too large", EFBIG);
    if (qfile_recipients(records->data, records->len, count_rcpt, NULL) < 0)
        return fail(err, errlen, "malformed envelope", EPROTO);
    envelope_fields(records, env);
    return 0;
}

/* ---- reasons from defer/ID ---- */

struct reason_rec {
    char *rcpt;
    char *reason;
    size_t seq;
};

struct reasons {
    struct reason_rec *v;
    size_t n, cap;
};

static int collect_reason(const struct status_record *r, void *arg)
{
    struct reasons *rs = arg;
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 16;
        rs->v = xrealloc(rs->v, rs->cap * sizeof *rs->v);
    }
    rs->v[rs->n].rcpt = xstrdup(r->recipient);
    rs->v[rs->n].reason = xstrdup(r->reason);
    rs->v[rs->n].seq = rs->n;
    rs->n++;
    return 0;
}

static int cmp_reason(const void *a, const void *b)
{
    const struct reason_rec *x = a, *y = b;
    int c = strcmp(x->rcpt, y->rcpt);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The reason of the last record about rcpt, or "". */
static const char *find_reason(const struct reasons *rs, const char *rcpt)
{
    size_t lo = 0, hi = rs->n;   /* first index whose rcpt sorts after rcpt */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(rs->v[mid].rcpt, rcpt) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && strcmp(rs->v[lo - 1].rcpt, rcpt) == 0)
        return rs->v[lo - 1].reason;
    return "";
}

/* ---- entries ---- */

struct build {
    struct qlist_entry *e;
    const struct reasons *rs;
    size_t cap;
};

static int add_rcpt(const struct qfile_rcpt *r, void *arg)
{
    struct build *b = arg;
    if (r->done)
        return 0;
    struct qlist_entry *e = b->e;
    if (e->nrcpt == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        e->rcpt = xrealloc(e->rcpt, b->cap * sizeof *e->rcpt);
    }
    size_t n = r->address_len < ADDRESS_SHOWN_MAX ? r->address_len : ADDRESS_SHOWN_MAX;
    char *address = xstrndup(r->address, n);
    e->rcpt[e->nrcpt].address = address;
    e->rcpt[e->nrcpt].reason = find_reason(b->rs, address);
    e->nrcpt++;
    return 0;
}

int qlist_read_entry(const char *queue, const char *id, struct qlist_entry *e, char *err,
                     size_t errlen)
{
    memset(e, 0, sizeof *e);
    snprintf(e->queue, sizeof e->queue, "%s", queue);
    snprintf(e->id, sizeof e->id, "%s", id);
    char path[QLIST_QUEUE_NAME_MAX + QFILE_ID_MAX + 8];
    snprintf(path, sizeof path, "%s/%s", queue, id);
    struct buf records;
    buf_init(&records, QLIST_ENVELOPE_MAX);
    struct qlist_envelope env;
    if (qlist_read_envelope(path, &records, &env, err, errlen) < 0) {
        int saved = errno;
        buf_free(&records);
        errno = saved;
        return -1;
    }
    e->arrival = (long long)env.arrival;
    e->size = env.content_size;
    snprintf(e->sender, sizeof e->sender, "%s", env.sender);
    if (strcmp(queue, "deferred") == 0)
        e->next_attempt = (long long)env.st.st_mtime;

    struct reasons rs = { NULL, 0, 0 };
    snprintf(path, sizeof path, "defer/%s", id);
    if (statuslog_read(path, QLIST_DEFER_LOG_MAX, collect_reason, &rs) >= 0 && rs.n > 1)
        qsort(rs.v, rs.n, sizeof *rs.v, cmp_reason);
    struct build b = { e, &rs, 0 };
    qfile_recipients(records.data, records.len, add_rcpt, &b);
    buf_free(&records);
    e->reasons = xcalloc(rs.n ? rs.n : 1, sizeof *e->reasons);
    for (size_t i = 0; i < rs.n; i++) {
        free(rs.v[i].rcpt);
        e->reasons[e->nreasons++] = rs.v[i].reason;
    }
    free(rs.v);
    return 0;
}

void qlist_entry_free(struct qlist_entry *e)
{
    for (size_t i = 0; i < e->nrcpt; i++)
        free(e->rcpt[i].address);
    free(e->rcpt);
    for (size_t i = 0; i < e->nreasons; i++)
        free(e->reasons[i]);
    free(e->reasons);
    memset(e, 0, sizeof *e);
}

void qlist_log_warning(const char *queue, const char *id, const char *why, void *arg)
{
    (void)arg;
    if (id)
        log_warn("%s/%s: cannot list it: %s", queue, id, why);
    else
        log_warn("cannot read %s/: %s", queue, why);
}

long qlist_walk(int (*fn)(const struct qlist_entry *e, void *arg),
                void (*warn)(const char *queue, const char *id, const char *why, void *arg),
                void *arg)
{
    long count = 0;
    for (const char *const *q = qlist_queues; *q; q++) {
        DIR *d = opendir(*q);
        if (d == NULL) {
            if (warn)
                warn(*q, NULL, strerror(errno), arg);
            continue;
        }
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (!qfile_valid_id(de->d_name))
                continue;
            struct qlist_entry e;
            char why[ERR_TEXT_MAX];
            if (qlist_read_entry(*q, de->d_name, &e, why, sizeof why) < 0) {
                if (errno != ENOENT && warn)
                    warn(*q, de->d_name, why, arg);
                continue;
            }
            int stop = fn(&e, arg);
            qlist_entry_free(&e);
            count++;
            if (stop) {
                closedir(d);
                return -1;
            }
        }
        closedir(d);
    }
    return count;
}

/* ---- the wire form ---- */

int qlist_encode(const struct qlist_entry *e, int (*send)(const struct ipc_msg *m, void *arg),
                 void *arg)
{
    struct ipc_msg m;
    ipc_msg_init(&m);
    ipc_add(&m, IPC_A_TYPE, IPC_T_ENTRY);
    ipc_add(&m, IPC_A_QUEUE_NAME, e->queue);
    ipc_add(&m, IPC_A_QUEUE_ID, e->id);
    ipc_addf(&m, IPC_A_ARRIVAL_TIME, "%lld", e->arrival);
    ipc_addf(&m, IPC_A_MESSAGE_SIZE, "%llu", e->size);
    ipc_add(&m, IPC_A_SENDER, e->sender);
    if (e->next_attempt > 0)
        ipc_addf(&m, IPC_A_NEXT_ATTEMPT, "%lld", e->next_attempt);
    size_t i = 0;
    int rc;
    for (;;) {
        size_t pairs = 0, bytes = 0;
        while (i < e->nrcpt && pairs < SHOWQ_PAIRS_MAX && bytes < WIRE_CHUNK_BYTES) {
            ipc_add(&m, IPC_A_RECIPIENT, e->rcpt[i].address);
            ipc_add(&m, IPC_A_DELAY_REASON, e->rcpt[i].reason);
            bytes += strlen(e->rcpt[i].address) + strlen(e->rcpt[i].reason);
            pairs++;
            i++;
        }
        rc = send(&m, arg);
        ipc_msg_clear(&m);
        if (rc != 0 || i >= e->nrcpt)
            break;
        ipc_add(&m, IPC_A_TYPE, IPC_T_RECIPIENTS);
    }
    ipc_msg_free(&m);
    return rc;
}

static int number(const struct ipc_msg *m, const char *name, bool required, long long *out)
{
    if (ipc_get(m, name) == NULL && !required) {
        *out = 0;
        return 0;
    }
    return ipc_get_long(m, name, 0, INT64_MAX, out);
}

int qlist_decode_header(const struct ipc_msg *m, struct qlist_entry *e, char *err, size_t errlen)
{
    static const char *const required[] = { IPC_A_TYPE, IPC_A_QUEUE_NAME, IPC_A_QUEUE_ID,
                                            IPC_A_ARRIVAL_TIME, IPC_A_MESSAGE_SIZE,
                                            IPC_A_SENDER, NULL };
    static const char *const allowed[] = { IPC_A_NEXT_ATTEMPT, IPC_A_RECIPIENT,
                                           IPC_A_DELAY_REASON, NULL };
    memset(e, 0, sizeof *e);
    if (ipc_check(m, required, allowed, err, errlen) < 0)
        return -1;
    const char *queue = ipc_get(m, IPC_A_QUEUE_NAME), *id = ipc_get(m, IPC_A_QUEUE_ID);
    const char *sender = ipc_get(m, IPC_A_SENDER);
    long long arrival, size, next;
    if (strcmp(ipc_get(m, IPC_A_TYPE), IPC_T_ENTRY) != 0 || strlen(queue) >= sizeof e->queue ||
        !qfile_valid_id(id) || strlen(sender) >= sizeof e->sender ||
        number(m, IPC_A_ARRIVAL_TIME, true, &arrival) < 0 ||
        number(m, IPC_A_MESSAGE_SIZE, true, &size) < 0 ||
        number(m, IPC_A_NEXT_ATTEMPT, false, &next) < 0) {
        snprintf(err, errlen, "malformed queue entry");
        return -1;
    }
    snprintf(e->queue, sizeof e->queue, "%s", queue);
    snprintf(e->id, sizeof e->id, "%s", id);
    snprintf(e->sender, sizeof e->sender, "%s", sender);
    e->arrival = arrival;
    e->size = (unsigned long long)size;
    e->next_attempt = next;
    return 0;
}

int qlist_decode_pairs(const struct ipc_msg *m,
                       int (*fn)(const char *address, const char *reason, void *arg), void *arg,
                       char *err, size_t errlen)
{
    size_t pairs = 0;
    for (size_t i = 0; i < m->count; i++) {
        if (strcmp(m->attr[i].name, IPC_A_RECIPIENT) != 0) {
            if (strcmp(m->attr[i].name, IPC_A_DELAY_REASON) == 0) {
                snprintf(err, errlen, "a delay reason without its recipient");
                return -1;
            }
            continue;   /* the header's attributes */
        }
        if (i + 1 >= m->count || strcmp(m->attr[i + 1].name, IPC_A_DELAY_REASON) != 0 ||
            ++pairs > SHOWQ_PAIRS_MAX) {
            snprintf(err, errlen, "malformed recipient list");
            return -1;
        }
        int rc = fn(m->attr[i].value, m->attr[i + 1].value, arg);
        if (rc != 0)
            return rc;
        i++;
    }
    return 0;
}

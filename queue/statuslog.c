/* statuslog.c: the defer/<ID> and bounce/<ID> logs of statuslog.h: each record is one IPC
 * message (common/ipc.h) appended with a single write(2) and fsynced; the reader decodes the
 * file message by message and refuses anything malformed with EPROTO. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ipc.h"
#include "safefile.h"
#include "statuslog.h"

static const char *const required_names[] = { STATUSLOG_A_RECIPIENT, STATUSLOG_A_STATUS,
                                              STATUSLOG_A_ACTION, STATUSLOG_A_WHEN, NULL };
static const char *const allowed_names[] = { STATUSLOG_A_ORIG_RECIPIENT, STATUSLOG_A_NOTIFY,
                                             STATUSLOG_A_REMOTE_MTA, STATUSLOG_A_DIAGNOSTIC,
                                             STATUSLOG_A_REASON, NULL };

/* Adds a fixed-size field, never reading past its array even when it lacks a NUL. */
static int add_field(struct ipc_msg *m, const char *name, const char *field, size_t size)
{
    return ipc_add_len(m, name, field, strnlen(field, size - 1));
}

/* Copies value into dst[size], cut (not inside a UTF-8 sequence) when too long. */
static void copy_field(char *dst, size_t size, const char *value)
{
    size_t n = value ? strlen(value) : 0;
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)value[n] & 0xc0) == 0x80)
            n--;
    }
    if (n > 0)
        memcpy(dst, value, n);
    dst[n] = '\0';
}

static int encode_record(const struct status_record *r, struct buf *out)
{
    struct ipc_msg m;
    ipc_msg_init(&m);
    int rc = -1;
    if (add_field(&m, STATUSLOG_A_RECIPIENT, r->recipient, sizeof r->recipient) < 0
        || add_field(&m, STATUSLOG_A_ORIG_RECIPIENT, r->orig_recipient,
                     sizeof r->orig_recipient) < 0
        || ipc_addf(&m, STATUSLOG_A_NOTIFY, "%u", r->notify) < 0
        || add_field(&m, STATUSLOG_A_STATUS, r->status, sizeof r->status) < 0
        || add_field(&m, STATUSLOG_A_ACTION, r->action, sizeof r->action) < 0
        || add_field(&m, STATUSLOG_A_REMOTE_MTA, r->remote_mta, sizeof r->remote_mta) < 0
        || add_field(&m, STATUSLOG_A_DIAGNOSTIC, r->diagnostic, sizeof r->diagnostic) < 0
        || add_field(&m, STATUSLOG_A_REASON, r->reason, sizeof r->reason) < 0
        || ipc_addf(&m, STATUSLOG_A_WHEN, "%lld", (long long)r->when) < 0)
        errno = EINVAL;
    else if (ipc_encode(&m, out) < 0)
        errno = EMSGSIZE;
    else
        rc = 0;
    ipc_msg_free(&m);
    return rc;
}

int statuslog_append(const char *path, const struct status_record *r)
{
    struct buf b;
    buf_init(&b, IPC_MSG_MAX_DEFAULT);
    if (encode_record(r, &b) < 0) {
        int e = errno;
        buf_free(&b);
        errno = e;
        return -1;
    }
    int rc = -1;
    struct stat st;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        goto out;
    if (fstat(fd, &st) < 0)
        goto out;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        goto out;
    }
    ssize_t n;
    do
        n = write(fd, b.data, b.len);
    while (n < 0 && errno == EINTR);
    if (n >= 0 && (size_t)n != b.len) {
        /* a partial record would make the whole log unreadable: take it back */
        off_t end = lseek(fd, 0, SEEK_CUR);
        if (end >= n && ftruncate(fd, end - n) < 0) {
            /* nothing more can be done; the error below is what the caller sees */
        }
        errno = ENOSPC;
        goto out;
    }
    if (n < 0 || fsync(fd) < 0)
        goto out;
    /* a new log's directory entry must be on disk too before anyone acts on the record */
    if (st.st_size == 0 && fsync_parent(path) < 0)
        goto out;
    rc = 0;
out:;
    int e = errno;
    if (fd >= 0 && close(fd) < 0 && rc == 0) {
        e = errno;
        rc = -1;
    }
    buf_free(&b);
    errno = e;
    return rc;
}

static int decode_record(const struct ipc_msg *m, struct status_record *r)
{
    long long when, notify = 0;
    if (ipc_check(m, required_names, allowed_names, NULL, 0) < 0
        || ipc_get_long(m, STATUSLOG_A_WHEN, INT64_MIN, INT64_MAX, &when) < 0
        || (ipc_get(m, STATUSLOG_A_NOTIFY)
            && ipc_get_long(m, STATUSLOG_A_NOTIFY, 0, UINT32_MAX, &notify) < 0))
        return -1;
    memset(r, 0, sizeof *r);
    copy_field(r->recipient, sizeof r->recipient, ipc_get(m, STATUSLOG_A_RECIPIENT));
    copy_field(r->orig_recipient, sizeof r->orig_recipient,
               ipc_get(m, STATUSLOG_A_ORIG_RECIPIENT));
    r->notify = (unsigned)notify;
    copy_field(r->status, sizeof r->status, ipc_get(m, STATUSLOG_A_STATUS));
    copy_field(r->action, sizeof r->action, ipc_get(m, STATUSLOG_A_ACTION));
    copy_field(r->remote_mta, sizeof r->remote_mta, ipc_get(m, STATUSLOG_A_REMOTE_MTA));
    copy_field(r->diagnostic, sizeof r->diagnostic, ipc_get(m, STATUSLOG_A_DIAGNOSTIC));
    copy_field(r->reason, sizeof r->reason, ipc_get(m, STATUSLOG_A_REASON));
    r->when = (time_t)when;
    return 0;
}

long statuslog_read(const char *path, size_t max_bytes,
                    int (*cb)(const struct status_record *r, void *arg), void *arg)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    if (safe_read_file(path, max_bytes, &b) < 0) {
        int e = errno;
        buf_free(&b);
        errno = e;
        return -1;
    }
    struct ipc_msg m;
    ipc_msg_init(&m);
    struct status_record *r = malloc(sizeof *r);
    long count = 0;
    size_t pos = 0;
    int e = 0;
    if (r == NULL)
        e = ENOMEM;
    while (e == 0 && pos < b.len) {
        size_t used;
        if (ipc_decode(b.data + pos, b.len - pos, IPC_MSG_MAX_DEFAULT, &m, &used, NULL, 0) != 1
            || decode_record(&m, r) < 0) {
            e = EPROTO;   /* malformed, or a record cut short */
            break;
        }
        pos += used;
        count++;
        if (cb && cb(r, arg) != 0)
            break;
    }
    free(r);
    ipc_msg_free(&m);
    buf_free(&b);
    if (e != 0) {
        errno = e;
        return -1;
    }
    return count;
}

/* mbox.c: appending one message to an mbox file (see mbox.h): a dotlock (path.lock, O_EXCL,
 * a stale one removed after MBOX_STALE_LOCK seconds) and an fcntl lock, both tried a bounded
 * number of times; the "From " line; mboxrd quoting (a line matching ^>*From gets one more
 * '>'); LF line ends; a blank line after the message; fsync; and on any failure the file cut
 * back to its old size. The size is counted before anything is written, so a message that
 * would pass size_limit leaves the file untouched. On return errno tells the cause (EFBIG for
 * the size limit, ELOOP for a symbolic link, ...). */
#include "mbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "errtext.h"
#include "safefile.h"

#define MBOX_LOCK_TRIES 20          /* attempts at each lock */
#define MBOX_LOCK_DELAY_MS 500      /* between attempts: at most ~10 s per lock */
#define MBOX_STALE_LOCK 300         /* seconds after which a dotlock is taken as left over */

static void pause_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* 1 when the dotlock is held, 0 when the directory does not allow one (no write permission,
 * a read-only file system: nobody else can hold one there either, the fcntl lock remains),
 * -1 with err when it stays busy or cannot be made. */
static int dotlock_take(const char *lock, const char *path, char *err, size_t errlen)
{
    for (int tries = 0; tries < MBOX_LOCK_TRIES; tries++) {
        int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            return 1;
        }
        if (errno == EACCES || errno == EPERM || errno == EROFS)
            return 0;
        if (errno != EEXIST) {
            errtext_setf(err, errlen, "mailbox", path, "cannot create lock file %s: %s",
                         lock, strerror(errno));
            return -1;
        }
        struct stat st;
        if (lstat(lock, &st) == 0 && time(NULL) - st.st_mtime > MBOX_STALE_LOCK &&
            unlink(lock) == 0)
            continue;   /* a stale lock went away: try again at once */
        pause_ms(MBOX_LOCK_DELAY_MS);
    }
    errtext_setf(err, errlen, "mailbox", path, "lock file %s is busy", lock);
    errno = EAGAIN;
    return -1;
}

static int fcntl_lock(int fd, const char *path, char *err, size_t errlen)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    for (int tries = 0; tries < MBOX_LOCK_TRIES; tries++) {
        if (fcntl(fd, F_SETLK, &fl) == 0)
            return 0;
        if (errno != EAGAIN && errno != EACCES && errno != EINTR) {
            errtext_setf(err, errlen, "mailbox", path, "cannot lock: %s", strerror(errno));
            return -1;
        }
        pause_ms(MBOX_LOCK_DELAY_MS);
    }
    errtext_setf(err, errlen, "mailbox", path, "the file stays locked by another process");
    errno = EAGAIN;
    return -1;
}

/* Output through a small buffer; with fd < 0 it only counts. */
struct emit {
    int fd;
    int error;              /* errno of the first failed write, 0 */
    unsigned long long total;
    size_t used;
    char chunk[16384];
};

static void emit_flush(struct emit *e)
{
    if (e->fd >= 0 && e->used > 0 && e->error == 0 && write_all(e->fd, e->chunk, e->used) < 0)
        e->error = errno ? errno : EIO;
    e->used = 0;
}

static void emit(struct emit *e, const char *p, size_t n)
{
    e->total += n;
    if (e->fd < 0)
        return;
    while (n > 0) {
        size_t room = sizeof e->chunk - e->used;
        size_t k = n < room ? n : room;
        memcpy(e->chunk + e->used, p, k);
        e->used += k;
        p += k;
        n -= k;
        if (e->used == sizeof e->chunk)
            emit_flush(e);
    }
}

/* Whether the line (without its end) matches ^>*From : it must be quoted with one more '>'. */
static bool needs_quote(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] == '>')
        i++;
    return n - i >= 5 && memcmp(p + i, "From ", 5) == 0;
}

/* Emits text line by line: CRLF becomes LF, a last line without an end gets one. */
static void emit_lines(struct emit *e, const char *p, size_t n)
{
    size_t pos = 0;
    while (pos < n) {
        const char *s = p + pos;
        const char *nl = memchr(s, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - s) : n - pos;
        pos += len + (nl ? 1 : 0);
        if (nl && len > 0 && s[len - 1] == '\r')
            len--;
        if (needs_quote(s, len))
            emit(e, ">", 1);
        emit(e, s, len);
        emit(e, "\n", 1);
    }
}

/* The sender for the From line: no white space or control characters, which would end it. */
static void from_sender(const char *sender, char *out, size_t size)
{
    snprintf(out, size, "%s", *sender ? sender : "MAILER-DAEMON");
    for (char *p = out; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
            *p = '_';
}

static void emit_message(struct emit *e, const char *from_line, const char *head, size_t head_len,
                         const char *body, size_t body_len)
{
    emit(e, from_line, strlen(from_line));
    emit_lines(e, head, head_len);
    emit_lines(e, body, body_len);
    emit(e, "\n", 1);
    emit_flush(e);
}

/* Opens (creating) the mailbox; a reason in err and *temporary on failure. */
static int open_mbox(const char *path, bool owner_check, bool *temporary, char *err, size_t errlen)
{
    int fd = safe_open(path, O_WRONLY | O_APPEND | O_CREAT, 0600,
                       owner_check ? geteuid() : (uid_t)-1);
    if (fd >= 0)
        return fd;
    int e = errno;
    *temporary = false;
    if (e == ELOOP)
        errtext_setf(err, errlen, "mailbox", path, "is a symbolic link");
    else if (e == EINVAL || e == EISDIR)
        errtext_setf(err, errlen, "mailbox", path, "is not a regular file");
    else if (e == EPERM)
        errtext_setf(err, errlen, "mailbox", path, "is not owned by uid %ld", (long)geteuid());
    else if (e == EMLINK)
        errtext_setf(err, errlen, "mailbox", path, "has more than one hard link");
    else {
        *temporary = true;
        errtext_setf(err, errlen, "mailbox", path, "cannot open: %s", strerror(e));
    }
    errno = e;
    return -1;
}

int mbox_deliver(const char *path, const char *sender, const char *head, size_t head_len,
                 const char *body, size_t body_len, size_t size_limit, bool owner_check,
                 bool *temporary, char *err, size_t errlen)
{
    char lock[PATH_MAX], sender_text[600], date[64], from_line[700];
    int fd = -1, dotlock = 0, ret = -1, saved = 0;
    off_t old_size = -1;
    if (errlen > 0)
        err[0] = '\0';
    *temporary = true;

    if (snprintf(lock, sizeof lock, "%s.lock", path) >= (int)sizeof lock) {
        *temporary = false;
        errtext_setf(err, errlen, "mailbox", path, "path too long");
        saved = ENAMETOOLONG;
        goto out;
    }
    if ((dotlock = dotlock_take(lock, path, err, errlen)) < 0) {
        saved = errno;
        goto out;
    }
    if ((fd = open_mbox(path, owner_check, temporary, err, errlen)) < 0 ||
        fcntl_lock(fd, path, err, errlen) < 0) {
        saved = errno;
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        saved = errno;
        errtext_setf(err, errlen, "mailbox", path, "fstat: %s", strerror(errno));
        goto out;
    }
    old_size = st.st_size;

    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
    from_sender(sender, sender_text, sizeof sender_text);
    snprintf(from_line, sizeof from_line, "From %s %s\n", sender_text, date);

    struct emit count = { .fd = -1 };
    emit_message(&count, from_line, head, head_len, body, body_len);
    if (size_limit > 0 && (unsigned long long)old_size + count.total > size_limit) {
        *temporary = false;
        saved = EFBIG;
        errtext_setf(err, errlen, "mailbox", path, "mailbox size limit exceeded (%zu bytes)",
                     size_limit);
        old_size = -1;   /* nothing was written */
        goto out;
    }
    struct emit writer = { .fd = fd };
    emit_message(&writer, from_line, head, head_len, body, body_len);
    if (writer.error) {
        saved = writer.error;
        *temporary = saved != EFBIG;
        errtext_setf(err, errlen, "mailbox", path, "write: %s", strerror(saved));
        goto out;
    }
    if (fsync(fd) < 0) {
        saved = errno;
        errtext_setf(err, errlen, "mailbox", path, "fsync: %s", strerror(errno));
        goto out;
    }
    /* a mailbox made just now: its directory entry must be on disk before we say "sent"
     * (a spool the user may not read cannot be synced by the user; the file itself is) */
    if (old_size == 0 && fsync_parent(path) < 0 && errno != EACCES) {
        saved = errno;
        errtext_setf(err, errlen, "mailbox", path, "fsync of the directory: %s", strerror(errno));
        goto out;
    }
    ret = 0;

out:
    if (fd >= 0) {
        if (ret < 0 && old_size >= 0 && ftruncate(fd, old_size) == 0)
            (void)fsync(fd);
        close(fd);   /* releases the fcntl lock */
    }
    if (dotlock > 0)
        unlink(lock);
    if (ret < 0)
        errno = saved ? saved : EIO;
    return ret;
}

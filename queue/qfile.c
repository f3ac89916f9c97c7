/* qfile.c: the queue file of qfile.h: queue IDs, the buffered writer that creates
 * incoming/<ID> (mode 0200) and seals it complete (0600), the loading of a file for the strict
 * reader (qparse.c) and the done mark. The record codec is in qrecord.c, the envelope records in
 * qenvelope.c, the asynchronous commit (group directory fsync off the event loop) in qcommit.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "mem.h"
#include "config.h"
#include "qfile.h"
#include "qspare.h"
#include "safefile.h"

#define QFILE_FLUSH_AT (64u << 10)  /* the writer's buffer is flushed past this */
#define QFILE_INCOMING "incoming/"
#define QFILE_PATH_MAX (sizeof QFILE_INCOMING + QFILE_ID_MAX + 48)

/* ---- queue IDs ----
 * ID = 11 characters of the arrival time in microseconds since the epoch, then 1 to 13 of the
 * inode number (no leading zeros), both in base 31 with the alphabet below: digits and the
 * upper-case consonants, in ASCII order so that string order is numeric order. No vowels, so
 * an ID never spells a word; no lower case, so it never starts with 't' (temporary files).
 * 31^11 µs is about 806 years: the time part keeps its width until the year 2776, so IDs sort
 * by arrival; 31^13 > 2^64 covers any inode. Example: 1B6MV0P9TQ87KX. */
static const char id_alphabet[] = "0123456789BCDFGHJKLMNPQRSTVWXYZ";
#define ID_BASE 31u
#define ID_TIME_DIGITS 11
#define ID_INODE_DIGITS_MAX 13

static const char *id_digit(char c)
{
    return c ? strchr(id_alphabet, c) : NULL;
}

int qfile_make_id(uint64_t usec, uint64_t inode, char id[QFILE_ID_MAX])
{
    char ino[ID_INODE_DIGITS_MAX];
    int n = 0;
    do {
        ino[n++] = id_alphabet[inode % ID_BASE];
        inode /= ID_BASE;
    } while (inode);
    for (int i = ID_TIME_DIGITS - 1; i >= 0; i--) {
        id[i] = id_alphabet[usec % ID_BASE];
        usec /= ID_BASE;
    }
    if (usec) {   /* past the year 2776 */
        id[0] = '\0';
        errno = ERANGE;
        return -1;
    }
    for (int i = 0; i < n; i++)
        id[ID_TIME_DIGITS + i] = ino[n - 1 - i];
    id[ID_TIME_DIGITS + n] = '\0';
    return 0;
}

bool qfile_id_inode(const char *id, uint64_t *inode)
{
    if (!qfile_valid_id(id))
        return false;
    uint64_t v = 0;
    for (const char *p = id + ID_TIME_DIGITS; *p; p++) {
        uint64_t d = (uint64_t)(id_digit(*p) - id_alphabet);
        if (v > (UINT64_MAX - d) / ID_BASE)
            return false;
        v = v * ID_BASE + d;
    }
    *inode = v;
    return true;
}

bool qfile_valid_id(const char *name)
{
    size_t len = strlen(name);
    if (len < ID_TIME_DIGITS + 1 || len > ID_TIME_DIGITS + ID_INODE_DIGITS_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!id_digit(name[i]))
            return false;
    /* canonical inode part: no leading zero (an inode is never 0 anyway) */
    return name[ID_TIME_DIGITS] != '0' || len == ID_TIME_DIGITS + 1;
}

/* ---- the writer ---- */

struct qfile {
    int fd;
    int error;                    /* sticky errno of the first failure, 0 if none */
    struct buf out;               /* records not yet written */
    uint64_t dir_gen;             /* qcommit's number for the directory entry, 0 if none */
    off_t written;                /* bytes written to fd */
    off_t stale;                  /* size of a reused spare file (qspare.h): old bytes */
    char id[QFILE_ID_MAX];
    char path[QFILE_PATH_MAX];    /* incoming/<ID> once created */
};

bool qfile_complete(mode_t mode)
{
    return S_ISREG(mode) && (mode & S_IRUSR);
}

static uint64_t random_u64(void)
{
    uint64_t r;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r)
        return r;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30);
}

/* incoming/t<pid>.<counter>.<random>: unique among live processes by pid and counter; the
 * random part keeps a dead process's leftovers from colliding, and O_EXCL settles the rest. */
static int create_tmp(char *path, size_t size)
{
    static atomic_ulong counter;
    for (int attempt = 0; attempt < 8; attempt++) {
        unsigned long n = atomic_fetch_add(&counter, 1);
        snprintf(path, size, QFILE_INCOMING "t%ld.%lu.%016llx", (long)getpid(), n,
                 (unsigned long long)random_u64());
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      QFILE_MODE_WRITING);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

static void set_error(struct qfile *q, int err)
{
    if (!q->error)
        q->error = err;
}

static int fail_if_error(const struct qfile *q)
{
    if (!q->error)
        return 0;
    errno = q->error;
    return -1;
}

static int flush_out(struct qfile *q)
{
    if (fail_if_error(q) < 0)
        return -1;
    if (q->out.len && write_all(q->fd, q->out.data, q->out.len) < 0) {
        set_error(q, errno);
        return -1;
    }
    q->written += (off_t)q->out.len;
    buf_reset(&q->out);
    return 0;
}

/* The MAGIC and TIME records, the time being the one in the queue ID. */
static int put_header(struct qfile *q, const struct timespec *now)
{
    char t[48];
    int n = snprintf(t, sizeof t, "%lld.%06ld", (long long)now->tv_sec, now->tv_nsec / 1000);
    if (qfile_put(q, QREC_MAGIC, QREC_MAGIC_TEXT, strlen(QREC_MAGIC_TEXT)) < 0)
        return -1;
    return qfile_put(q, QREC_TIME, t, (size_t)n);
}

/* A new file: created under a temporary name, named by its ID at once. fd or -1 with errno. */
static int create_new(uint64_t usec, char id[QFILE_ID_MAX], char *path, size_t path_size)
{
    char tmp[QFILE_PATH_MAX];
    int fd = create_tmp(tmp, sizeof tmp);
    if (fd < 0)
        return -1;
    struct stat st;
    int e = 0;
    if (fstat(fd, &st) < 0 || qfile_make_id(usec, (uint64_t)st.st_ino, id) < 0)
        e = errno;
    else if (snprintf(path, path_size, QFILE_INCOMING "%s", id) < 0 || rename(tmp, path) < 0)
        e = errno;
    if (e) {
        unlink(tmp);
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

struct qfile *qfile_create(void)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) < 0)
        return NULL;
    uint64_t usec = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000;
    struct qfile *q = xcalloc(1, sizeof *q);
    q->fd = qspare_claim(usec, q->id, q->path, sizeof q->path, &q->stale);
    if (q->fd < 0)
        q->fd = create_new(usec, q->id, q->path, sizeof q->path);
    if (q->fd < 0) {
        int e = errno;
        free(q);
        errno = e;
        return NULL;
    }
    buf_init(&q->out, QFILE_FLUSH_AT + QREC_DATA_MAX + QREC_HEAD_MAX);
    if (put_header(q, &now) < 0) {
        int e = errno;
        qfile_abort(q);
        errno = e;
        return NULL;
    }
    return q;
}

const char *qfile_id(const struct qfile *q) { return q->id; }
int qfile_fd(const struct qfile *q) { return q->fd; }
const char *qfile_path(const struct qfile *q) { return q->path; }
uint64_t qfile_dir_gen(const struct qfile *q) { return q->dir_gen; }
void qfile_set_dir_gen(struct qfile *q, uint64_t gen) { q->dir_gen = gen; }

int qfile_put(struct qfile *q, enum qrec_type type, const void *data, size_t len)
{
    if (fail_if_error(q) < 0)
        return -1;
    if (len > QREC_DATA_MAX) {
        /* a file missing a record would be wrong, so this too is final */
        set_error(q, EMSGSIZE);
        return fail_if_error(q);
    }
    if (qrec_put(&q->out, type, data, len) < 0) {
        set_error(q, ENOBUFS);   /* cannot happen: the buffer holds a maximal record */
        return fail_if_error(q);
    }
    return q->out.len >= QFILE_FLUSH_AT ? flush_out(q) : 0;
}

int qfile_put_attr(struct qfile *q, const char *name, const char *value)
{
    if (fail_if_error(q) < 0)
        return -1;
    if (!*name || strchr(name, '=')) {
        set_error(q, EINVAL);
        return fail_if_error(q);
    }
    struct buf a;
    buf_init(&a, QREC_DATA_MAX);
    int r;
    if (buf_puts(&a, name) < 0 || buf_putc(&a, '=') < 0 || buf_puts(&a, value) < 0) {
        set_error(q, EMSGSIZE);
        r = fail_if_error(q);
    } else {
        r = qfile_put(q, QREC_ATTR, a.data, a.len);
    }
    buf_free(&a);
    return r;
}

int qfile_put_content(struct qfile *q, const void *data, size_t len)
{
    const char *p = data;
    for (size_t off = 0; off < len; off += QFILE_CONTENT_CHUNK) {
        size_t n = len - off < QFILE_CONTENT_CHUNK ? len - off : QFILE_CONTENT_CHUNK;
        if (qfile_put(q, QREC_CONTENT, p + off, n) < 0)
            return -1;
    }
    return 0;
}

int qfile_put_header(struct qfile *q, const char *field, size_t len)
{
    return qfile_put(q, QREC_HEADER, field, len);
}

int qfile_finish(struct qfile *q)
{
    if (qfile_put(q, QREC_END, NULL, 0) < 0 || flush_out(q) < 0)
        return -1;
    /* a reused spare's old bytes past the new END go */
    if (q->stale > q->written && ftruncate(q->fd, q->written) < 0) {
        set_error(q, errno);
        return -1;
    }
    return 0;
}

static void qfile_release(struct qfile *q)
{
    if (q->fd >= 0)
        close(q->fd);
    buf_free(&q->out);
    free(q);
}

void qfile_abort(struct qfile *q)
{
    if (!q)
        return;
    if (q->path[0])
        unlink(q->path);
    qfile_release(q);
}

void qfile_free(struct qfile *q)
{
    if (q)
        qfile_release(q);
}

/* The mode goes to 0600 before the fsync, so the fsync makes the mark durable with the data;
 * a reader may take the file from that instant (a failed fsync then may deliver a message the
 * client sends again: a duplicate, never a loss). */
int qfile_seal(struct qfile *q)
{
    if (fail_if_error(q) < 0)
        return -1;
    if (fchmod(q->fd, QFILE_MODE) < 0 || fsync(q->fd) < 0) {
        set_error(q, errno);
        return -1;
    }
    return 0;
}

/* On failure the caller removes the file (qfile_abort) and answers with a temporary error. */
int qfile_commit_sync(struct qfile *q)
{
    if (qfile_seal(q) < 0)
        return -1;
    if (fsync_dir("incoming") < 0) {
        set_error(q, errno);
        return -1;
    }
    return 0;
}

/* ---- loading a file ---- */

int qfile_read(const char *path, size_t max, struct buf *out, struct qfile_envelope *env,
               char *err, size_t errlen)
{
    memset(env, 0, sizeof *env);
    if (safe_read_file(path, max, out) < 0) {
        snprintf(err, errlen, "%s", errno == EFBIG ? "file too large" : "cannot read the file");
        return -1;
    }
    if (qfile_parse(out->data, out->len, env, err, errlen) < 0) {
        errno = EPROTO;
        return -1;
    }
    return 0;
}

size_t qfile_read_limit(void)
{
    /* not the current message_size_limit alone: mail queued under a larger one must still be
     * readable after the limit was lowered */
    size_t limit = (size_t)config_size("message_size_limit");
    if (limit < QFILE_CONTENT_MAX)
        limit = QFILE_CONTENT_MAX;
    return limit + (size_t)config_size("bounce_size_limit") + (16u << 20);
}

int qfile_mark_done(int fd, size_t offset)
{
    off_t off = (off_t)offset;
    if (off < 0 || (size_t)off != offset) {   /* not a file offset */
        errno = EINVAL;
        return -1;
    }
    char c;
    ssize_t n;
    do
        n = pread(fd, &c, 1, off);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    if (n == 1 && c == QREC_DONE)
        return 0;   /* already done */
    if (n != 1 || c != QREC_RECIPIENT) {
        errno = EINVAL;
        return -1;
    }
    c = QREC_DONE;
    do
        n = pwrite(fd, &c, 1, off);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    if (n != 1) {
        errno = EIO;
        return -1;
    }
    return 0;
}

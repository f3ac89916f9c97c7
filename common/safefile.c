/* safefile.c: file helpers of safefile.h: no final symlinks, regular files only, owner checks,
 * bounded reads, and durable atomic writes (fsync of the file, rename, fsync of the directory). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mem.h"
#include "safefile.h"

int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int safe_open_stat(const char *path, int flags, mode_t mode, struct stat *st)
{
    int fd = open(path, flags | O_CLOEXEC | O_NONBLOCK, mode);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    /* O_NONBLOCK guarded against FIFOs during open; it stays, as regular files ignore it */
    return fd;
}

/* safe_open, with the file's status in *st. */
static int open_checked(const char *path, int flags, mode_t mode, uid_t want_owner,
                        struct stat *st)
{
    int fd = safe_open_stat(path, flags | O_NOFOLLOW, mode, st);
    if (fd < 0)
        return -1;
    int err = 0;
    if (!S_ISREG(st->st_mode))
        err = EINVAL;
    else if (want_owner != (uid_t)-1 && st->st_uid != want_owner)
        err = EPERM;
    else if (st->st_nlink > 1)
        err = EMLINK;
    if (err) {
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int safe_open(const char *path, int flags, mode_t mode, uid_t want_owner)
{
    struct stat st;
    return open_checked(path, flags, mode, want_owner, &st);
}

int safe_read_file(const char *path, size_t max, struct buf *out)
{
    struct stat st;
    int fd = open_checked(path, O_RDONLY, 0, (uid_t)-1, &st);
    if (fd < 0)
        return -1;
    buf_reset(out);
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (out->len + (size_t)n > max || buf_append(out, chunk, (size_t)n) < 0) {
            errno = EFBIG;
            break;
        }
        /* the end: a read that came back empty, or short with as much as fstat saw (a
         * regular file reads short only at its end; one that grew is read on) */
        if (n == 0 || ((size_t)n < sizeof chunk && out->len == (size_t)st.st_size)) {
            close(fd);
            return 0;
        }
    }
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

int safe_check_trusted(const char *path, uid_t owner, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (st.st_uid != owner) {
        snprintf(err, errlen, "%s: owned by uid %ld, must be owned by uid %ld", path,
                 (long)st.st_uid, (long)owner);
        return -1;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(err, errlen, "%s: writable by group or others (mode %04o)", path,
                 (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}

int safe_root_controlled(const char *path, char resolved[4096], char *err, size_t errlen)
{
    if (realpath(path, resolved) == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char prefix[4096];
    size_t len = strlen(resolved);
    for (size_t i = 1; i <= len; i++) {
        if (i < len && resolved[i] != '/')
            continue;
        memcpy(prefix, resolved, i);
        prefix[i] = '\0';
        struct stat st;
        if (lstat(prefix, &st) < 0) {
            snprintf(err, errlen, "%s: %s", prefix, strerror(errno));
            return -1;
        }
        bool sticky_on_the_way = i < len && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
        if (st.st_uid != 0 || ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_on_the_way)) {
            snprintf(err, errlen, "%s: not controlled by root alone (owner uid %ld, mode %04o)",
                     prefix, (long)st.st_uid, (unsigned)(st.st_mode & 07777));
            return -1;
        }
    }
    return 0;
}

int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

int fsync_parent(const char *path)
{
    char *copy = xstrdup(path);
    int r = fsync_dir(dirname(copy));
    int e = errno;
    free(copy);
    errno = e;
    return r;
}

int safe_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    struct buf tmp;
    buf_init(&tmp, BUF_UNBOUNDED);
    buf_printf(&tmp, "%s.XXXXXX", path);
    /* a unique name: a crashed writer's leftover never blocks the next one */
    int fd = mkostemp(tmp.data, O_CLOEXEC);
    int r = -1, e = 0;
    if (fd < 0) {
        e = errno;
        goto out;
    }
    if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        e = errno;
        close(fd);
        unlink(buf_str(&tmp));
        goto out;
    }
    if (close(fd) < 0 || rename(buf_str(&tmp), path) < 0) {
        e = errno;
        unlink(buf_str(&tmp));
        goto out;
    }
    if (fsync_parent(path) < 0) {
        e = errno;
        goto out;
    }
    r = 0;
out:
    buf_free(&tmp);
    errno = e;
    return r;
}

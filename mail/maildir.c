/* maildir.c: delivery of one message into a Maildir (see maildir.h): tmp/ file created with
 * O_EXCL under a unique name, written with LF line ends, fsynced, moved into new/ (a rename
 * that never replaces, else link and unlink), then new/ fsynced. Every step works on directory
 * fds opened with O_NOFOLLOW. */
#include "maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "errtext.h"
#include "safefile.h"

#define MAILDIR_TRIES 16      /* names tried in tmp/ before giving up on EEXIST */
#define MAILDIR_NAME_MAX 1200 /* numbers plus a host of 255 bytes, each escaped to 4 */

static unsigned long maildir_counter;

/* Opens sub under at (AT_FDCWD for a path), creating it (mode 0700) when missing, refusing a
 * symlink or a non-directory. Returns an fd or -1 with errno. */
static int open_subdir(int at, const char *sub)
{
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(at, sub, flags);
    if (fd >= 0 || errno != ENOENT)
        return fd;
    if (mkdirat(at, sub, 0700) < 0 && errno != EEXIST)
        return -1;
    return openat(at, sub, flags);
}

/* The host name with '/' and ':' escaped as the Maildir specification asks. Looked up once a
 * process: a kept worker lives for seconds. */
static void escaped_host(char *out, size_t size)
{
    static char cached[MAILDIR_NAME_MAX / 2];
    if (cached[0] == '\0') {
        char host[256];
        if (gethostname(host, sizeof host) < 0 || host[0] == '\0')
            snprintf(host, sizeof host, "localhost");
        host[sizeof host - 1] = '\0';
        size_t o = 0;
        for (const char *h = host; *h != '\0' && o + 5 < sizeof cached; h++) {
            if (*h == '/' || *h == ':')
                o += (size_t)snprintf(cached + o, sizeof cached - o, "\\%03o", (unsigned char)*h);
            else
                cached[o++] = *h;
        }
        cached[o] = '\0';
    }
    snprintf(out, size, "%s", cached);
}

/* Writes head[0..head_len) and then body[0..body_len) to fd with each CRLF turned into LF (a
 * lone CR stays), through one buffer: a small message is one write(2). 0 or -1 with errno. */
static int write_lf(int fd, const char *head, size_t head_len, const char *body,
                    size_t body_len)
{
    char chunk[8192];
    size_t used = 0;
    const char *part[2] = { head, body };
    size_t len[2] = { head_len, body_len };
    for (int k = 0; k < 2; k++) {
        const char *p = part[k];
        size_t n = len[k];
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
                continue;
            chunk[used++] = p[i];
            if (used == sizeof chunk) {
                if (write_all(fd, chunk, used) < 0)
                    return -1;
                used = 0;
            }
        }
    }
    return used > 0 ? write_all(fd, chunk, used) : 0;
}

/* Whether a failed link(2) should be retried as a rename: the file system cannot link. */
static int link_unsupported(int e)
{
    return e == EXDEV || e == EPERM || e == EMLINK || e == ENOSYS || e == EOPNOTSUPP ||
           e == ENOTSUP;
}

int maildir_deliver(const char *dir, const char *head, size_t head_len, const char *body,
                    size_t body_len, char *name, size_t name_size, char *err, size_t errlen)
{
    int dfd = -1, tmpfd = -1, newfd = -1, curfd = -1, fd = -1, ret = -1;
    char host[MAILDIR_NAME_MAX / 2], base[MAILDIR_NAME_MAX];
    if (errlen > 0)
        err[0] = '\0';

    dfd = open_subdir(AT_FDCWD, dir);
    if (dfd < 0) {
        errtext_setf(err, errlen, "maildir", dir, "open: %s", strerror(errno));
        goto out;
    }
    static const char *const subs[] = {"tmp", "new", "cur"};
    int *fds[] = {&tmpfd, &newfd, &curfd};
    for (size_t i = 0; i < 3; i++) {
        *fds[i] = open_subdir(dfd, subs[i]);
        if (*fds[i] < 0) {
            errtext_setf(err, errlen, "maildir", dir, "open %s/: %s", subs[i], strerror(errno));
            goto out;
        }
    }

    escaped_host(host, sizeof host);
    for (int tries = 0; fd < 0; tries++) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        int n = snprintf(base, sizeof base, "%lld.M%ldP%ldQ%lu.%s", (long long)tv.tv_sec,
                         (long)tv.tv_usec, (long)getpid(), ++maildir_counter, host);
        if (n < 0 || (size_t)n >= sizeof base || (size_t)n + 4 >= name_size) {
            errtext_setf(err, errlen, "maildir", dir, "file name does not fit");
            goto out;
        }
        fd = openat(tmpfd, base, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0 && (errno != EEXIST || tries + 1 >= MAILDIR_TRIES)) {
            errtext_setf(err, errlen, "maildir", dir, "create tmp/%s: %s", base, strerror(errno));
            goto out;
        }
    }

    if (write_lf(fd, head, head_len, body, body_len) < 0) {
        errtext_setf(err, errlen, "maildir", dir, "write tmp/%s: %s", base, strerror(errno));
        goto drop_tmp;
    }
    if (fsync(fd) < 0) {
        errtext_setf(err, errlen, "maildir", dir, "fsync tmp/%s: %s", base, strerror(errno));
        goto drop_tmp;
    }
    int c = close(fd);
    fd = -1;
    if (c < 0) {
        errtext_setf(err, errlen, "maildir", dir, "close tmp/%s: %s", base, strerror(errno));
        goto drop_tmp;
    }

    /* into new/ without ever replacing a file there: a rename that refuses to, or where the
     * file system has none, link(2) and unlink as the Maildir specification has it */
    if (renameat2(tmpfd, base, newfd, base, RENAME_NOREPLACE) == 0) {
        /* delivered */
    } else if (errno != EINVAL && errno != ENOSYS) {
        errtext_setf(err, errlen, "maildir", dir, "rename tmp/%s to new/: %s",
                     base, strerror(errno));
        goto drop_tmp;
    } else if (linkat(tmpfd, base, newfd, base, 0) == 0) {
        /* delivered; a tmp/ entry that cannot go is only clutter readers clean up later */
        (void)unlinkat(tmpfd, base, 0);
    } else {
        int e = errno;
        struct stat st;
        if (!link_unsupported(e)) {
            errtext_setf(err, errlen, "maildir", dir, "link tmp/%s to new/: %s", base, strerror(e));
            goto drop_tmp;
        }
        /* rename would replace an existing file: refuse as link(2) would */
        if (fstatat(newfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            errtext_setf(err, errlen, "maildir", dir, "rename tmp/%s to new/: %s",
                         base, strerror(EEXIST));
            goto drop_tmp;
        }
        if (renameat(tmpfd, base, newfd, base) < 0) {
            errtext_setf(err, errlen, "maildir", dir, "rename tmp/%s to new/: %s",
                         base, strerror(errno));
            goto drop_tmp;
        }
    }
    if (fsync(newfd) < 0) {
        errtext_setf(err, errlen, "maildir", dir, "fsync new/: %s", strerror(errno));
        (void)unlinkat(newfd, base, 0);
        goto out;
    }
    snprintf(name, name_size, "new/%s", base);
    ret = 0;
    goto out;

drop_tmp:
    (void)unlinkat(tmpfd, base, 0);
out:
    if (fd >= 0)
        close(fd);
    int *all[] = {&dfd, &tmpfd, &newfd, &curfd};
    for (size_t i = 0; i < 4; i++)
        if (*all[i] >= 0)
            close(*all[i]);
    return ret;
}

int maildir_folder(const char *dir, const char *folder, char *out, size_t size)
{
    if (folder[0] == '\0' || strcmp(folder, ".") == 0 || strcmp(folder, "..") == 0 ||
        strchr(folder, '/'))
        return -1;
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    int len = snprintf(out, size, "%.*s/.%s", (int)n, dir, folder);
    if (len < 0 || (size_t)len >= size || strlen(dir) >= size)
        return -1;
    struct stat st;
    if (lstat(out, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid())
        return 1;
    snprintf(out, size, "%s", dir);
    return 0;
}

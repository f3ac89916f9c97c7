/* qdir.c: creates and checks the queue directories of qdir_table (see qdir.h), and moves files
 * between them. The queue directory itself and pid/ belong to root so an unprivileged daemon
 * cannot redirect what the root master writes there; everything mail flows through belongs to
 * mail_owner. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "qdir.h"

#define QDIR_PATH_MAX 300   /* a queue directory, '/', a file name (a queue ID or less) */

const struct qdir_entry qdir_table[] = {
    { ".", QDIR_ROOT, QDIR_GROUP_ROOT, 0755 },
    { "pid", QDIR_ROOT, QDIR_GROUP_ROOT, 0755 },
    { "maildrop", QDIR_MAIL_OWNER, QDIR_GROUP_SETGID, 01730 },
    { "public", QDIR_MAIL_OWNER, QDIR_GROUP_SETGID, 0710 },
    { "private", QDIR_MAIL_OWNER, QDIR_GROUP_OWNER, 0700 },
    { "incoming", QDIR_MAIL_OWNER, QDIR_GROUP_OWNER, 0700 },
    { "active", QDIR_MAIL_OWNER, QDIR_GROUP_OWNER, 0700 },
    { "deferred", QDIR_MAIL_OWNER, QDIR_GROUP_OWNER, 0700 },
    { "hold", QDIR_MAIL_OWNER, QDIR_GROUP_OWNER, 0700 },
    { "corrupt", QDIR_MAIL_OWNER, QDIR_GROUP_OWNER, 0700 },
    { "spare", QDIR_MAIL_OWNER, QDIR_GROUP_OWNER, 0700 },
    { "bounce", QDIR_MAIL_OWNER, QDIR_GROUP_OWNER, 0700 },
    { "defer", QDIR_MAIL_OWNER, QDIR_GROUP_OWNER, 0700 },
    { "trace", QDIR_MAIL_OWNER, QDIR_GROUP_OWNER, 0700 },
    { NULL, 0, 0, 0 },
};

static void wanted_ids(const struct qdir_entry *e, const struct qdir_ids *ids, uid_t *uid,
                       gid_t *gid)
{
    *uid = e->owner == QDIR_ROOT ? ids->root_uid : ids->mail_owner;
    switch (e->group) {
    case QDIR_GROUP_ROOT: *gid = ids->root_gid; break;
    case QDIR_GROUP_OWNER: *gid = ids->mail_owner_gid; break;
    default: *gid = ids->setgid_gid; break;
    }
}

static int check_one(int dirfd, const char *path, const struct qdir_entry *e,
                     const struct qdir_ids *ids, bool repair, char *err, size_t errlen)
{
    struct stat st;
    uid_t uid;
    gid_t gid;
    wanted_ids(e, ids, &uid, &gid);
    if (fstat(dirfd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a directory", path);
        return -1;
    }
    if (st.st_uid != uid) {
        snprintf(err, errlen, "%s: owned by uid %ld, must be uid %ld", path, (long)st.st_uid,
                 (long)uid);
        return -1;
    }
    mode_t perm = st.st_mode & 07777;
    /* a group other than the wanted one matters only where the group has access */
    if (st.st_gid != gid && (perm & 0070)) {
        snprintf(err, errlen, "%s: group %ld has access, must be group %ld", path,
                 (long)st.st_gid, (long)gid);
        return -1;
    }
    if (perm & ~e->mode) {
        snprintf(err, errlen, "%s: mode %04o is unsafe, must be %04o", path, (unsigned)perm,
                 (unsigned)e->mode);
        return -1;
    }
    if ((perm != e->mode || st.st_gid != gid) && !repair) {
        log_warn("%s: group %ld mode %04o, should be group %ld mode %04o", path,
                 (long)st.st_gid, (unsigned)perm, (long)gid, (unsigned)e->mode);
    } else if (perm != e->mode || st.st_gid != gid) {
        if ((st.st_gid != gid && fchown(dirfd, (uid_t)-1, gid) < 0) || fchmod(dirfd, e->mode) < 0) {
            snprintf(err, errlen, "%s: cannot restore group %ld mode %04o: %s", path, (long)gid,
                     (unsigned)e->mode, strerror(errno));
            return -1;
        }
        log_warn("%s: restored group %ld and mode %04o", path, (long)gid, (unsigned)e->mode);
    }
    return 0;
}

static int setup_one(const char *queue_dir, const struct qdir_entry *e, const struct qdir_ids *ids,
                     bool create, char *err, size_t errlen)
{
    char path[4096];
    uid_t uid;
    gid_t gid;
    wanted_ids(e, ids, &uid, &gid);
    if (strcmp(e->name, ".") == 0)
        snprintf(path, sizeof path, "%s", queue_dir);
    else
        snprintf(path, sizeof path, "%s/%s", queue_dir, e->name);

    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
            return -1;
        }
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && (fchown(fd, uid, gid) < 0 || fchmod(fd, e->mode) < 0)) {
            snprintf(err, errlen, "%s: cannot set owner %ld:%ld mode %04o: %s", path, (long)uid,
                     (long)gid, (unsigned)e->mode, strerror(errno));
            close(fd);
            return -1;
        }
    }
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path,
                 errno == ELOOP || errno == ENOTDIR ? "not a directory (or a symbolic link)"
                                                    : strerror(errno));
        return -1;
    }
    int r = check_one(fd, path, e, ids, create, err, errlen);
    close(fd);
    return r;
}

int qdir_setup(const char *queue_dir, const struct qdir_ids *ids, bool create, char *err,
               size_t errlen)
{
    if (queue_dir[0] != '/') {
        snprintf(err, errlen, "queue_directory %s: must be an absolute path", queue_dir);
        return -1;
    }
    for (const struct qdir_entry *e = qdir_table; e->name; e++)
        if (setup_one(queue_dir, e, ids, create, err, errlen) < 0)
            return -1;
    return 0;
}

int qdir_move(const char *from, const char *to, const char *name)
{
    char src[QDIR_PATH_MAX], dst[QDIR_PATH_MAX];
    int a = snprintf(src, sizeof src, "%s/%s", from, name);
    int b = snprintf(dst, sizeof dst, "%s/%s", to, name);
    if (a < 0 || b < 0 || (size_t)a >= sizeof src || (size_t)b >= sizeof dst) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return rename(src, dst);
}

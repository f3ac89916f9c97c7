/* qspare.c: spare queue files (see qspare.h): the per-process list of names to claim from,
 * the claim with its checks, and qmgr's side (retire, with a bounded count, and clear). */
#include "clock.h"
#include "qspare.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SPARE_DIR "spare"
#define SPARE_CACHE 64              /* names one process takes from a listing of spare/ */
#define SPARE_RECOUNT_MS 100        /* spare/ is listed to count it at most this often */

static char names[SPARE_CACHE][QFILE_ID_MAX];
static size_t names_len, names_next;
static bool seen_empty;                  /* the last listing found nothing, and... */
static struct timespec seen_empty_mtime; /* ...spare/ had this modification time */
static bool claims_unsupported;          /* the file system has no RENAME_NOREPLACE */


/* Fills names[] from spare/ (at most SPARE_CACHE queue IDs). false when it holds none. An
 * empty spare/ is listed again only once its modification time changed (one stat instead of a
 * listing for every file while nothing is delivered; a file kept within the same clock tick as
 * the empty listing waits for the next change). */
static bool list_spares(void)
{
    names_len = names_next = 0;
    struct stat st;
    if (seen_empty && stat(SPARE_DIR, &st) == 0 &&
        st.st_mtim.tv_sec == seen_empty_mtime.tv_sec &&
        st.st_mtim.tv_nsec == seen_empty_mtime.tv_nsec)
        return false;
    DIR *d = opendir(SPARE_DIR);
    if (d == NULL)
        return false;
    bool dated = fstat(dirfd(d), &st) == 0;
    struct dirent *e;
    while (names_len < SPARE_CACHE && (e = readdir(d)) != NULL)
        if (qfile_valid_id(e->d_name))
            memcpy(names[names_len++], e->d_name, strlen(e->d_name) + 1);
    closedir(d);
    seen_empty = names_len == 0 && dated;
    if (seen_empty)
        seen_empty_mtime = st.st_mtim;
    return names_len > 0;
}

/* Whether the file just renamed to path is a spare this process may write: the inode its name
 * gave, a regular file with no other link, this user's, still marked as being written. */
static bool claim_ok(int fd, uint64_t ino, off_t *stale_size)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return false;
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_ino != ino || st.st_nlink != 1 ||
        st.st_uid != geteuid() || (st.st_mode & 07777) != QFILE_MODE_WRITING)
        return false;
    *stale_size = st.st_size;
    return true;
}

int qspare_claim(uint64_t usec, char id[QFILE_ID_MAX], char *path, size_t path_size,
                 off_t *stale_size)
{
    for (int tries = 0; tries < SPARE_CACHE && !claims_unsupported; tries++) {
        if (names_next == names_len && !list_spares())
            return -1;
        const char *old = names[names_next++];
        uint64_t ino;
        char from[sizeof SPARE_DIR + QFILE_ID_MAX + 1];
        snprintf(from, sizeof from, SPARE_DIR "/%s", old);
        if (!qfile_id_inode(old, &ino) || qfile_make_id(usec, ino, id) < 0)
            continue;
        int n = snprintf(path, path_size, "incoming/%s", id);
        if (n < 0 || (size_t)n >= path_size)
            return -1;
        if (renameat2(AT_FDCWD, from, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
            if (errno == EINVAL || errno == ENOSYS)
                claims_unsupported = true;
            continue;   /* ENOENT: another process took it */
        }
        /* O_NONBLOCK: whatever was there, the open must not wait (a FIFO); writes to the
         * regular file it must be ignore it */
        int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (claim_ok(fd, ino, stale_size))
            return fd;
        /* not a spare to write over: only this process's new name for it goes */
        if (fd >= 0)
            close(fd);
        unlink(path);
    }
    return -1;
}

/* The number of files in spare/, about: every file kept adds one, and the directory is listed
 * again once the estimate reaches QSPARE_LARGE_KEEP, at most once a SPARE_RECOUNT_MS (claims
 * are not seen here, so between listings the estimate errs high: the bounds hold). */
static unsigned kept_estimate = QSPARE_KEEP_MAX;   /* unknown at first: listed */
static long long counted_at = -1;

static unsigned kept_now(void)
{
    long long now = clock_ms();
    if (kept_estimate < QSPARE_LARGE_KEEP ||
        (counted_at >= 0 && now - counted_at < SPARE_RECOUNT_MS))
        return kept_estimate;
    counted_at = now;
    DIR *d = opendir(SPARE_DIR);
    if (d == NULL)
        return kept_estimate = QSPARE_KEEP_MAX;   /* no room in what cannot be listed */
    unsigned n = 0;
    struct dirent *e;
    while (n < QSPARE_KEEP_MAX && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return kept_estimate = n;
}

int qspare_retire(const char *path, const char *id)
{
    struct stat st;
    char to[sizeof SPARE_DIR + QFILE_ID_MAX + 1];
    unsigned kept;
    if (qfile_valid_id(id) && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_nlink == 1 && (kept = kept_now()) < QSPARE_KEEP_MAX) {
        /* kept whole when small, or when large and few are kept; else emptied (the inode is
         * what counts) */
        bool whole = st.st_size <= QSPARE_SIZE_MAX ||
                     (st.st_size <= QSPARE_LARGE_MAX && kept < QSPARE_LARGE_KEEP);
        snprintf(to, sizeof to, SPARE_DIR "/%s", id);
        /* the mode first: the file must never be in spare/ looking complete */
        if (chmod(path, QFILE_MODE_WRITING) == 0 && (whole || truncate(path, 0) == 0) &&
            rename(path, to) == 0) {
            kept_estimate++;
            seen_empty = false;   /* not empty now, whatever this process last saw */
            return 0;
        }
    }
    return unlink(path);
}

void qspare_clear(void)
{
    DIR *d = opendir(SPARE_DIR);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[sizeof SPARE_DIR + 256 + 1];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, SPARE_DIR "/%s", e->d_name);
        unlink(path);
    }
    closedir(d);
}

/* safefile.h: file helpers for directories other users may write: no symlinks followed at the
 * last component (O_NOFOLLOW), only regular files, owner checks, and durable writes (fsync of
 * the file and of its directory). */
#ifndef TERN_SAFEFILE_H
#define TERN_SAFEFILE_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "buf.h"

/* Opens a regular file with O_NOFOLLOW|O_CLOEXEC|O_NONBLOCK plus flags (O_CREAT uses mode; the
 * O_NONBLOCK keeps a FIFO put in its place from blocking the open, and regular files ignore it,
 * so it stays set). Refuses a
 * non-regular file (EINVAL) or, when want_owner is not (uid_t)-1, one owned by someone else
 * (EPERM), or one with more than one hard link (EMLINK). Returns an fd or -1 with errno. */
int safe_open(const char *path, int flags, mode_t mode, uid_t want_owner);
/* The open and fstat under safe_open, refusing nothing, for readers whose checks and messages
 * are their own (made on *st, the status of the very file opened): opens path with
 * O_CLOEXEC|O_NONBLOCK plus flags, and O_NOFOLLOW only when flags has it (a reader with no more
 * than a user's rights may follow links). An fd with *st filled, or -1 with errno: of the open,
 * or of the fstat (the file is then closed again). */
int safe_open_stat(const char *path, int flags, mode_t mode, struct stat *st);
/* Reads at most max bytes of a regular file into out (replacing its content). A larger file
 * fails with EFBIG. */
int safe_read_file(const char *path, size_t max, struct buf *out);
/* Writes data to path atomically: a temporary file in the same directory, fsync, rename, fsync
 * of the directory. */
int safe_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* Whether root may trust path (a configuration file, a directory of programs, a program): it
 * must be owned by owner and writable by nobody else (no group or other write bit). Follows
 * symbolic links, as exec and open would. 0, or -1 with `path: reason` in err. */
int safe_check_trusted(const char *path, uid_t owner, char *err, size_t errlen);
/* Whether only root can change what path names, for a set-gid program that reads it for
 * another user: path is resolved (realpath) into resolved, and it and every directory above it
 * must belong to root and be writable by nobody else (a sticky directory of root's, like /tmp,
 * is fine on the way). Use the resolved name afterwards, so no symbolic link can be switched
 * between the check and the use. 0, or -1 with `path: reason` in err. */
int safe_root_controlled(const char *path, char resolved[4096], char *err, size_t errlen);
int fsync_dir(const char *dir);
int fsync_parent(const char *path);          /* fsync of the directory that holds path */
/* write(2)/read(2) that restart on EINTR and short counts. Return 0 or -1 with errno. */
int write_all(int fd, const void *p, size_t n);

#endif

/* qdir.h: the queue directory layout (DESIGN.md §2, docs/ARCHITECTURE.md): the name, owner and
 * mode of every queue directory. The master creates and checks them at start; `tern check` and
 * `tern init` use the same table. And the move of a file from one queue directory to another. */
#ifndef TERN_QDIR_H
#define TERN_QDIR_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum qdir_owner { QDIR_ROOT, QDIR_MAIL_OWNER };
enum qdir_group { QDIR_GROUP_ROOT, QDIR_GROUP_OWNER, QDIR_GROUP_SETGID };

struct qdir_entry {
    const char *name;         /* relative to queue_directory; "." is the queue directory */
    enum qdir_owner owner;
    enum qdir_group group;
    mode_t mode;
};

extern const struct qdir_entry qdir_table[];   /* terminated by a NULL name */

struct qdir_ids {
    uid_t mail_owner;       /* owner of the queue subdirectories */
    gid_t mail_owner_gid;
    gid_t setgid_gid;       /* group of maildrop/ and public/ */
    uid_t root_uid;         /* 0, or the running user when privilege separation is off */
    gid_t root_gid;
};

/* Creates the missing directories of the queue (when create) with their owners and modes, and
 * checks those that exist: a symlink, a non-directory, a wrong owner or group, or permission bits
 * beyond the table's (writable by others) make it fail with `queue_directory/name: reason` in
 * err. Missing permission bits are restored (with a warning). Returns 0 or -1. */
int qdir_setup(const char *queue_dir, const struct qdir_ids *ids, bool create, char *err,
               size_t errlen);

/* Moves from/name to to/name (queue directories, relative to the working directory: the queue
 * directory), e.g. a malformed file to corrupt/. 0, or -1 with errno (ENAMETOOLONG for a name
 * longer than a queue directory entry can be). */
int qdir_move(const char *from, const char *to, const char *name);

#endif

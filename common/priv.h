/* priv.h: user and group look-ups and the one way to give up root for good. */
#ifndef TERN_PRIV_H
#define TERN_PRIV_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Look up a user (uid and primary gid) or a group by name or decimal id. 0, or -1 with err. */
int priv_lookup_user(const char *name, uid_t *uid, gid_t *gid, char *err, size_t errlen);
int priv_lookup_group(const char *name, gid_t *gid, char *err, size_t errlen);

/* As root: optionally chroot to chroot_dir (after chdir to it), then setgroups to just gid,
 * setgid, setuid; then checks that real, effective and saved ids are the new ones and that
 * setuid(0) fails. Any failure is fatal (the process must not go on half-privileged).
 * As non-root with uid/gid equal to the current ones: only the chroot is impossible and fatal;
 * otherwise nothing to do. */
void priv_drop(uid_t uid, gid_t gid, const char *chroot_dir);

#endif

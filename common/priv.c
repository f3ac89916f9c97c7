/* priv.c: user and group look-ups and priv_drop, the one way a tern process gives up root
 * (see priv.h). Dropping is all-or-nothing: any step that fails ends the process, because a
 * half-privileged daemon is worse than a dead one. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "mem.h"
#include "priv.h"

#define LOOKUP_BUF_START 4096
#define LOOKUP_BUF_MAX (1024 * 1024)   /* a group with more members than this is an error */

/* Parses a decimal id; (id_t)-1 is rejected because set*id() treat it as "no change". */
static bool parse_id(const char *s, unsigned long long limit, unsigned long long *out)
{
    if (s[0] < '0' || s[0] > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v >= limit)
        return false;
    *out = v;
    return true;
}

/* getpw*_r and getgr*_r share one calling shape: retry with a bigger buffer on ERANGE, up to a
 * bound. Returns 0 found, 1 not found, or an errno value. */
typedef int (*lookup_fn)(const void *key, void *ent, char *buf, size_t len, bool *found);

static int lookup(lookup_fn fn, const void *key, void *ent)
{
    /* only numeric fields of the entry are used, so its strings may go with the buffer */
    int r = ERANGE;
    bool found = false;
    for (size_t len = LOOKUP_BUF_START; r == ERANGE && len <= LOOKUP_BUF_MAX; len *= 2) {
        char *buf = xmalloc(len);
        r = fn(key, ent, buf, len, &found);
        free(buf);
    }
    /* some libcs report "no such entry" as an error rather than a NULL result */
    if (r == 0 || r == ENOENT || r == ESRCH)
        return found ? 0 : 1;
    return r;
}

static int pw_by_name(const void *k, void *e, char *b, size_t n, bool *found)
{
    struct passwd *res = NULL;
    int r = getpwnam_r(k, e, b, n, &res);
    *found = res != NULL;
    return r;
}

static int pw_by_uid(const void *k, void *e, char *b, size_t n, bool *found)
{
    struct passwd *res = NULL;
    int r = getpwuid_r(*(const uid_t *)k, e, b, n, &res);
    *found = res != NULL;
    return r;
}

static int gr_by_name(const void *k, void *e, char *b, size_t n, bool *found)
{
    struct group *res = NULL;
    int r = getgrnam_r(k, e, b, n, &res);
    *found = res != NULL;
    return r;
}

static int lookup_failed(int r, const char *what, const char *name, char *err, size_t errlen)
{
    if (r == 1)
        snprintf(err, errlen, "unknown %s \"%s\"", what, name);
    else
        snprintf(err, errlen, "cannot look up %s \"%s\": %s", what, name, strerror(r));
    return -1;
}

/* A number still needs the passwd entry: the primary gid comes from it. */
int priv_lookup_user(const char *name, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
    struct passwd pw;
    unsigned long long id;
    int r;
    if (parse_id(name, (uid_t)-1, &id)) {
        uid_t u = (uid_t)id;
        r = lookup(pw_by_uid, &u, &pw);
    } else {
        r = lookup(pw_by_name, name, &pw);
    }
    if (r != 0)
        return lookup_failed(r, "user", name, err, errlen);
    *uid = pw.pw_uid;
    *gid = pw.pw_gid;
    return 0;
}

/* A number is taken as it is: a gid needs no group entry to be used. */
int priv_lookup_group(const char *name, gid_t *gid, char *err, size_t errlen)
{
    unsigned long long id;
    if (parse_id(name, (gid_t)-1, &id)) {
        *gid = (gid_t)id;
        return 0;
    }
    struct group gr;
    int r = lookup(gr_by_name, name, &gr);
    if (r != 0)
        return lookup_failed(r, "group", name, err, errlen);
    *gid = gr.gr_gid;
    return 0;
}

static void enter_chroot(const char *dir)
{
    /* chdir first so the working directory cannot stay outside the new root */
    if (chdir(dir) < 0)
        log_fatal("cannot chdir to %s: %s", dir, strerror(errno));
    if (chroot(".") < 0)
        log_fatal("cannot chroot to %s: %s", dir, strerror(errno));
    if (chdir("/") < 0)
        log_fatal("cannot chdir to / in %s: %s", dir, strerror(errno));
}

static void verify_dropped(uid_t uid, gid_t gid)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
        log_fatal("cannot read process ids: %s", strerror(errno));
    if (ru != uid || eu != uid || su != uid)
        log_fatal("uid change incomplete: real %ld effective %ld saved %ld, wanted %ld",
                  (long)ru, (long)eu, (long)su, (long)uid);
    if (rg != gid || eg != gid || sg != gid)
        log_fatal("gid change incomplete: real %ld effective %ld saved %ld, wanted %ld",
                  (long)rg, (long)eg, (long)sg, (long)gid);
    if (uid != 0 && setuid(0) == 0)
        log_fatal("privileges not dropped: setuid(0) succeeded after changing to uid %ld",
                  (long)uid);
}

static void drop_as_root(uid_t uid, gid_t gid, const char *chroot_dir)
{
    if (chroot_dir && *chroot_dir)
        enter_chroot(chroot_dir);
    if (setgroups(1, &gid) < 0)
        log_fatal("cannot set supplementary groups to %ld: %s", (long)gid, strerror(errno));
    if (setgid(gid) < 0)
        log_fatal("cannot set gid %ld: %s", (long)gid, strerror(errno));
    if (setuid(uid) < 0)
        log_fatal("cannot set uid %ld: %s", (long)uid, strerror(errno));
    verify_dropped(uid, gid);
}

void priv_drop(uid_t uid, gid_t gid, const char *chroot_dir)
{
    if (geteuid() == 0) {
        drop_as_root(uid, gid, chroot_dir);
        return;
    }
    if (chroot_dir && *chroot_dir)
        log_fatal("cannot chroot to %s: not running as root", chroot_dir);
    if (uid != getuid() || uid != geteuid() || gid != getgid() || gid != getegid())
        log_fatal("cannot change to uid %ld gid %ld: not running as root", (long)uid,
                  (long)gid);
}

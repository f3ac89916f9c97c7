/* pwcache.c: the remembered getpwnam_r of pwcache.h. */
#include "pwcache.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "mem.h"

#define PW_BUF_START 4096
#define PW_BUF_MAX (1024 * 1024)   /* a passwd entry larger than this is an error, not a loop */

struct slot {
    long long at;                  /* clock_ms() + 1 of the look-up; 0: empty */
    char *key, *name, *gecos, *dir, *shell;
    uid_t uid;
    gid_t gid;
};

static struct slot slots[PWCACHE_SLOTS];

static void slot_clear(struct slot *s)
{
    free(s->key);
    free(s->name);
    free(s->gecos);
    free(s->dir);
    free(s->shell);
    memset(s, 0, sizeof *s);
}

static void fill(const struct slot *s, struct pw_user *u)
{
    *u = (struct pw_user){ s->name, s->gecos, s->dir, s->shell, s->uid, s->gid };
}

/* The slot for key: its own, an empty one, or the oldest. */
static struct slot *slot_for(const char *key)
{
    struct slot *pick = &slots[0];
    for (size_t i = 0; i < PWCACHE_SLOTS; i++) {
        if (slots[i].at && strcmp(slots[i].key, key) == 0)
            return &slots[i];
        if (slots[i].at < pick->at)
            pick = &slots[i];
    }
    return pick;
}

int pwcache_lookup(const char *name, struct pw_user *u, char *err, size_t errlen)
{
    long long now = clock_ms() + 1;
    struct slot *s = slot_for(name);
    if (s->at && strcmp(s->key, name) == 0 && now - s->at < PWCACHE_MS) {
        fill(s, u);
        return 1;
    }
    struct passwd pw, *res = NULL;
    int r = ERANGE;
    for (size_t len = PW_BUF_START; r == ERANGE && len <= PW_BUF_MAX; len *= 2) {
        char *buf = xmalloc(len);
        r = getpwnam_r(name, &pw, buf, len, &res);
        if (r == 0 && res) {
            slot_clear(s);
            s->key = xstrdup(name);
            s->name = xstrdup(pw.pw_name);
            s->gecos = xstrdup(pw.pw_gecos ? pw.pw_gecos : "");
            s->dir = xstrdup(pw.pw_dir ? pw.pw_dir : "");
            s->shell = xstrdup(pw.pw_shell ? pw.pw_shell : "");
            s->uid = pw.pw_uid;
            s->gid = pw.pw_gid;
            s->at = now;
            free(buf);
            fill(s, u);
            return 1;
        }
        free(buf);
    }
    /* "no such user" is 0 with no result, or one of these depending on the NSS module;
     * anything else (an unreachable directory service, say) is an error */
    if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM)
        return 0;
    snprintf(err, errlen, "%s", strerror(r));
    return -1;
}

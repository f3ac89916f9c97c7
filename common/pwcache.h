/* pwcache.h: getpwnam_r for daemons that ask about the same users again and again (smtpd's
 * unix:passwd.byname table for local_recipient_maps, local's recipients): a scratch buffer that
 * grows as NSS asks, and a user found is remembered for PWCACHE_MS, PWCACHE_SLOTS of them, by
 * the name asked for (with the files NSS module each look-up reads the whole password file).
 * A user not found is asked again each time, so a new account is known at once. */
#ifndef TERN_PWCACHE_H
#define TERN_PWCACHE_H
#include <stddef.h>
#include <sys/types.h>

#define PWCACHE_MS 2000
#define PWCACHE_SLOTS 8

struct pw_user {
    const char *name, *gecos, *dir, *shell;   /* never NULL; valid until the next look-up */
    uid_t uid;
    gid_t gid;
};

/* 1 found (*u filled), 0 no such user, -1 a look-up error with its text in err. */
int pwcache_lookup(const char *name, struct pw_user *u, char *err, size_t errlen);

#endif

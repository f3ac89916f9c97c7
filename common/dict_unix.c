/* dict_unix.c: the unix:passwd.byname table, as Postfix has it: a login name gives its passwd
 * line "name:x:uid:gid:gecos:dir:shell" (the password never leaves the system database).
 * local_recipient_maps uses it so smtpd accepts mail for the system's users. A user found is
 * remembered for UNIX_CACHE_MS (UNIX_CACHE_SLOTS of them): with the files NSS module each
 * look-up reads the whole password file, once per recipient. One not found is asked again
 * each time, so a new user is known at once. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "dict_impl.h"
#include "mem.h"

#define PW_BUF_START 4096
#define PW_BUF_MAX (1024 * 1024)   /* a passwd entry larger than this is an error, not a loop */

#define UNIX_CACHE_SLOTS 8
#define UNIX_CACHE_MS 2000

struct unix_cached {
    long long at;       /* clock_ms() of the look-up; 0: empty */
    char *key;
    char *value;
};

struct dict_unix {
    struct dict base;
    char *pwbuf;        /* getpwnam_r's scratch space, grown on ERANGE up to PW_BUF_MAX */
    size_t pwsize;
    struct buf value;
    struct unix_cached cache[UNIX_CACHE_SLOTS];
};

/* The remembered line of key, or NULL. */
static const char *cache_get(struct dict_unix *u, const char *key, long long now)
{
    for (size_t i = 0; i < UNIX_CACHE_SLOTS; i++) {
        struct unix_cached *c = &u->cache[i];
        if (c->at && now - c->at < UNIX_CACHE_MS && strcmp(c->key, key) == 0)
            return c->value;
    }
    return NULL;
}

/* Remembers key's line in the slot of the same key, an expired one or the oldest. */
static void cache_put(struct dict_unix *u, const char *key, const char *value, long long now)
{
    struct unix_cached *slot = &u->cache[0];
    for (size_t i = 0; i < UNIX_CACHE_SLOTS; i++) {
        struct unix_cached *c = &u->cache[i];
        if (c->at && strcmp(c->key, key) == 0) {
            slot = c;
            break;
        }
        if (c->at < slot->at)
            slot = c;
    }
    free(slot->key);
    free(slot->value);
    slot->key = xstrdup(key);
    slot->value = xstrdup(value);
    slot->at = now;
}

/* getpwnam_r reports "no such user" as 0 with no result, or, depending on the NSS module, as
 * one of these; anything else (an unreachable directory service, say) is temporary. */
static bool not_found(int rc)
{
    return rc == 0 || rc == ENOENT || rc == ESRCH;
}

static int unix_getpw(struct dict_unix *u, const char *key, struct passwd *pw,
                      char err[DICT_ERR_MAX])
{
    struct passwd *res = NULL;
    int rc;
    while ((rc = getpwnam_r(key, pw, u->pwbuf, u->pwsize, &res)) == ERANGE
           && u->pwsize < PW_BUF_MAX) {
        u->pwsize *= 2;
        u->pwbuf = xrealloc(u->pwbuf, u->pwsize);
    }
    if (res)
        return 1;
    if (not_found(rc))
        return 0;
    dict_errf(err, "%s: cannot look up \"%s\": %s", u->base.spec, key, strerror(rc));
    return -1;
}

static int unix_lookup(struct dict *d, const char *key, const char **value, char *err)
{
    struct dict_unix *u = (struct dict_unix *)d;
    long long now = clock_ms();
    const char *kept = cache_get(u, key, now);
    if (kept) {
        *value = kept;
        return 1;
    }
    struct passwd pw;
    int rc = unix_getpw(u, key, &pw, err);
    if (rc <= 0)
        return rc;
    buf_reset(&u->value);
    if (buf_printf(&u->value, "%s:x:%lu:%lu:%s:%s:%s", pw.pw_name, (unsigned long)pw.pw_uid,
                   (unsigned long)pw.pw_gid, pw.pw_gecos ? pw.pw_gecos : "",
                   pw.pw_dir ? pw.pw_dir : "", pw.pw_shell ? pw.pw_shell : "") < 0) {
        dict_errf(err, "%s: entry of \"%s\" is longer than %d bytes", d->spec, key,
                  DICT_VALUE_MAX);
        return -1;
    }
    cache_put(u, key, u->value.data, now);
    *value = u->value.data;
    return 1;
}

static void unix_release(struct dict *d)
{
    struct dict_unix *u = (struct dict_unix *)d;
    free(u->pwbuf);
    buf_free(&u->value);
    for (size_t i = 0; i < UNIX_CACHE_SLOTS; i++) {
        free(u->cache[i].key);
        free(u->cache[i].value);
    }
}

struct dict *dict_unix_open(const char *spec, const char *name, char err[DICT_ERR_MAX])
{
    if (strcmp(name, "passwd.byname") != 0) {
        dict_errf(err, "%s: unsupported unix table \"%s\" (only passwd.byname)", spec, name);
        return NULL;
    }
    struct dict_unix *u = xcalloc(1, sizeof *u);
    dict_base_init(&u->base, spec, unix_lookup, unix_release);
    u->pwsize = PW_BUF_START;
    u->pwbuf = xmalloc(u->pwsize);
    buf_init(&u->value, DICT_VALUE_MAX);
    return &u->base;
}

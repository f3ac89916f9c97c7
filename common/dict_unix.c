/* dict_unix.c: the unix:passwd.byname table, as Postfix has it: a login name gives its passwd
 * line "name:x:uid:gid:gecos:dir:shell" (the password never leaves the system database).
 * local_recipient_maps uses it so smtpd accepts mail for the system's users; the look-ups go
 * through pwcache.h, which remembers a user found for a moment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dict_impl.h"
#include "mem.h"
#include "pwcache.h"

struct dict_unix {
    struct dict base;
    struct buf value;
};

static int unix_lookup(struct dict *d, const char *key, const char **value, char *err,
                       size_t errlen)
{
    struct dict_unix *u = (struct dict_unix *)d;
    struct pw_user pw;
    char why[256];
    int rc = pwcache_lookup(key, &pw, why, sizeof why);
    if (rc < 0)
        snprintf(err, errlen, "%s: cannot look up \"%s\": %s", d->spec, key, why);
    if (rc <= 0)
        return rc;
    buf_reset(&u->value);
    if (buf_printf(&u->value, "%s:x:%lu:%lu:%s:%s:%s", pw.name, (unsigned long)pw.uid,
                   (unsigned long)pw.gid, pw.gecos, pw.dir, pw.shell) < 0) {
        snprintf(err, errlen, "%s: entry of \"%s\" is longer than %d bytes", d->spec, key,
                  DICT_VALUE_MAX);
        return -1;
    }
    *value = u->value.data;
    return 1;
}

static void unix_release(struct dict *d)
{
    struct dict_unix *u = (struct dict_unix *)d;
    buf_free(&u->value);
}

struct dict *dict_unix_open(const char *spec, const char *name, char *err, size_t errlen)
{
    if (strcmp(name, "passwd.byname") != 0) {
        snprintf(err, errlen, "%s: unsupported unix table \"%s\" (only passwd.byname)", spec, name);
        return NULL;
    }
    struct dict_unix *u = xcalloc(1, sizeof *u);
    dict_base_init(&u->base, spec, unix_lookup, unix_release);
    buf_init(&u->value, DICT_VALUE_MAX);
    return &u->base;
}

/* dkim_signing.c: the signing table of dkim_signing.h: every key loaded at open (a key that
 * cannot be used stops the daemon at start, never a message later), and the domains kept
 * sorted so a look-up is a binary search per parent domain. Its text: dkim_signing_parse.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "config.h"
#include "dict.h"
#include "dkim_signing.h"
#include "errtext.h"
#include "mem.h"

#define PARAM "dkim_signing_keys"

/* ---- keys ---- */

int dkim_signing_load(const char *config_dir, const char *domain,
                      const struct dkim_signing_ref *ref, struct dkim_signing_key *key,
                      char *err, size_t errlen)
{
    memset(key, 0, sizeof *key);
    snprintf(key->domain, sizeof key->domain, "%s", domain);
    snprintf(key->selector, sizeof key->selector, "%s", ref->selector);
    if (dkim_signing_path(config_dir, ref->keyfile, key->path, sizeof key->path) < 0)
        return dkim_reason(err, errlen, "%s: selector %s: %s/%s: too long a file name", domain,
                           ref->selector, config_dir, ref->keyfile);
    char why[ERR_TEXT_MAX] = "";
    /* the file's own reason names the path ("PATH: Permission denied") */
    key->pkey = dkim_key_private_file(key->path, why, sizeof why);
    if (key->pkey == NULL)
        return dkim_reason(err, errlen, "%s: selector %s: %s", domain, ref->selector, why);
    key->type = (enum dkim_key_type)dkim_key_type_of(key->pkey);
    return 0;
}

void dkim_signing_key_free(struct dkim_signing_key *key)
{
    EVP_PKEY_free(key->pkey);
    key->pkey = NULL;
}

const char *dkim_signing_alg(const struct dkim_signing_key *key)
{
    return key->type == DKIM_KEY_ED25519 ? "ed25519-sha256" : "rsa-sha256";
}

/* ---- the table ---- */

struct signing_domain {
    char *name;
    size_t nkeys;
    struct dkim_signing_key keys[DKIM_SIGNING_SELECTORS_MAX];
};

struct dkim_signing_table {
    struct signing_domain *domains;   /* sorted by name once loaded */
    size_t count, cap;
    const char *config_dir;           /* during the load */
    char *err;
    size_t errlen;
};

static int load_entry(const char *key, const char *value, void *arg)
{
    struct dkim_signing_table *t = arg;
    char why[ERR_TEXT_MAX];
    if (!dkim_signing_domain_ok(key)) {
        errtext_setf(t->err, t->errlen, PARAM, key, "not a domain name");
        return 1;
    }
    struct dkim_signing_ref refs[DKIM_SIGNING_SELECTORS_MAX];
    size_t n;
    if (dkim_signing_parse(value, strlen(value), refs, &n, why, sizeof why) < 0) {
        errtext_setf(t->err, t->errlen, PARAM, key, "%s", why);
        return 1;
    }
    if (t->count == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->domains = xrealloc(t->domains, t->cap * sizeof *t->domains);
    }
    struct signing_domain *d = &t->domains[t->count++];
    memset(d, 0, sizeof *d);
    d->name = xstrdup(key);
    for (size_t i = 0; i < n; i++) {
        if (dkim_signing_load(t->config_dir, key, &refs[i], &d->keys[i], why, sizeof why) < 0) {
            snprintf(t->err, t->errlen, "%s: %s", PARAM, why);
            return 1;
        }
        d->nkeys++;
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct signing_domain *)a)->name,
                  ((const struct signing_domain *)b)->name);
}

/* Whether the file dict_open would read for spec is absent. */
static bool table_file_absent(const char *spec)
{
    const char *colon = strchr(spec, ':');
    if (colon == NULL || (!dict_type_is_built(spec) && strncmp(spec, "texthash:", 9) != 0))
        return false;
    char path[DKIM_SIGNING_KEYFILE_MAX + 8];
    snprintf(path, sizeof path, "%s%s", colon + 1, dict_type_is_built(spec) ? ".db" : "");
    struct stat st;
    return lstat(path, &st) < 0 && errno == ENOENT;
}

struct dkim_signing_table *dkim_signing_open(const char *spec, const char *config_dir,
                                             bool missing_ok, char *err, size_t errlen)
{
    struct dkim_signing_table *t = xcalloc(1, sizeof *t);
    if (spec[0] == '\0' || (missing_ok && table_file_absent(spec)))
        return t;
    char why[ERR_TEXT_MAX];
    struct dict *d = dict_open(spec, why, sizeof why);
    if (d == NULL) {
        snprintf(err, errlen, "%s: %s", PARAM, why);
        free(t);
        return NULL;
    }
    t->config_dir = config_dir;
    t->err = err;
    t->errlen = errlen;
    int r = dict_walk(d, load_entry, t, why, sizeof why);
    dict_close(d);
    if (r < 0)
        snprintf(err, errlen, "%s: %s", PARAM, why);
    if (r != 0) {
        dkim_signing_close(t);
        return NULL;
    }
    if (t->count)
        qsort(t->domains, t->count, sizeof *t->domains, by_name);
    for (size_t i = 1; i < t->count; i++)
        if (strcmp(t->domains[i - 1].name, t->domains[i].name) == 0) {
            errtext_setf(err, errlen, PARAM, t->domains[i].name, "listed twice");
            dkim_signing_close(t);
            return NULL;
        }
    return t;
}

struct dkim_signing_table *dkim_signing_open_config(char *err, size_t errlen)
{
    bool set = false;
    config_raw(PARAM, &set);
    const char *dir = config_str("config_directory");
    return dkim_signing_open(config_str(PARAM), dir[0] ? dir : config_loaded_dir(), !set, err,
                             errlen);
}

void dkim_signing_close(struct dkim_signing_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->count; i++) {
        for (size_t k = 0; k < t->domains[i].nkeys; k++)
            dkim_signing_key_free(&t->domains[i].keys[k]);
        free(t->domains[i].name);
    }
    free(t->domains);
    free(t);
}

size_t dkim_signing_domains(const struct dkim_signing_table *t)
{
    return t ? t->count : 0;
}

size_t dkim_signing_lookup(const struct dkim_signing_table *t, const char *domain,
                           const struct dkim_signing_key **keys)
{
    *keys = NULL;
    if (t == NULL || t->count == 0)
        return 0;
    char name[DKIM_DOMAIN_MAX];
    size_t n = strlen(domain);
    if (n && domain[n - 1] == '.')
        n--;
    if (n == 0 || n >= sizeof name)
        return 0;
    for (size_t i = 0; i < n; i++)
        name[i] = (char)(domain[i] >= 'A' && domain[i] <= 'Z' ? domain[i] + 32 : domain[i]);
    name[n] = '\0';
    for (const char *p = name; p;) {
        struct signing_domain probe = { .name = (char *)p };
        const struct signing_domain *d = bsearch(&probe, t->domains, t->count,
                                                 sizeof *t->domains, by_name);
        if (d) {
            *keys = d->keys;
            return d->nkeys;
        }
        p = strchr(p, '.');
        if (p)
            p++;
    }
    return 0;
}

/* vmailbox.c: the virtual delivery agent's table look-ups (see vmailbox.h): a recipient's
 * mailbox path, uid and gid, and the checks that keep a table value from pointing outside
 * virtual_mailbox_base or making the agent write as root. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "address.h"
#include "config.h"
#include "lists.h"
#include "mem.h"
#include "vmailbox.h"

/* The tables, each searched by the recipient's keys, and the parameters that name them. */
enum vtable { VT_MAILBOX, VT_UID, VT_GID, VT_COUNT };
static const char *const vtable_param[VT_COUNT] = {
    "virtual_mailbox_maps", "virtual_uid_maps", "virtual_gid_maps",
};

struct vmaps {
    struct table_list *tables[VT_COUNT];
    char *base;
    char *delimiters;
    long long minimum_uid;
};

struct vmaps *vmaps_open(char *err, size_t errlen)
{
    struct vmaps *m = xcalloc(1, sizeof *m);
    for (int t = 0; t < VT_COUNT; t++) {
        if (table_list_read(vtable_param[t], &m->tables[t], err, errlen) < 0) {
            vmaps_close(m);
            return NULL;
        }
    }
    m->base = xstrdup(config_str("virtual_mailbox_base"));
    m->delimiters = xstrdup(config_str("recipient_delimiter"));
    m->minimum_uid = config_int("virtual_minimum_uid");
    return m;
}

void vmaps_close(struct vmaps *m)
{
    if (!m)
        return;
    for (int t = 0; t < VT_COUNT; t++)
        table_list_free(m->tables[t]);
    free(m->base);
    free(m->delimiters);
    free(m);
}

/* The first key any table of l has: 1 with value copied into out, 0, or -1 with err. */
static int find_value(const struct table_list *l, char keys[][ADDRESS_KEY_MAX], int nkeys,
                      char *out, size_t size, char *err, size_t errlen)
{
    for (int i = 0; i < nkeys; i++) {
        const char *v;
        int rc = table_list_find(l, keys[i], &v, err, errlen);
        if (rc > 0)
            snprintf(out, size, "%s", v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int vmailbox_id(const char *s, unsigned long long *out)
{
    if (s[0] < '0' || s[0] > '9' || strlen(s) > 20)
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    /* (id_t)-1 means "no change" to set*id(); uid_t and gid_t are both 32 bits on Linux */
    if (errno != 0 || *end != '\0' || v >= (unsigned long long)(uid_t)-1)
        return -1;
    *out = v;
    return 0;
}

/* Whether the relative path has an empty, "." or ".." component (the trailing "/" of a
 * Maildir already removed). */
static bool bad_component(const char *value)
{
    for (const char *p = value;;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return true;
        if (p[n] == '\0')
            return false;
        p += n + 1;
    }
}

int vmailbox_path(const char *base, const char *value, struct vmailbox *out, char *err,
                  size_t errlen)
{
    if (base[0] != '/') {
        snprintf(err, errlen, "virtual_mailbox_base %s", base[0] ? "is not an absolute path"
                                                                  : "is not set");
        return -1;
    }
    size_t n = strlen(value);
    out->maildir = n > 0 && value[n - 1] == '/';
    if (out->maildir)
        n--;
    char rel[PATH_MAX];
    if (n == 0 || n >= sizeof rel || value[0] == '/') {
        snprintf(err, errlen, "mailbox \"%.200s\" is not a path relative to "
                 "virtual_mailbox_base", value);
        return -1;
    }
    memcpy(rel, value, n);
    rel[n] = '\0';
    if (bad_component(rel) || strpbrk(rel, "\n\r") != NULL) {
        snprintf(err, errlen, "mailbox \"%.200s\" has an empty, \".\" or \"..\" component",
                 value);
        return -1;
    }
    size_t bn = strlen(base);
    while (bn > 0 && base[bn - 1] == '/')
        bn--;
    int w = snprintf(out->path, sizeof out->path, "%.*s/%s", (int)bn, base, rel);
    out->base_len = bn;
    if (w < 0 || (size_t)w >= sizeof out->path) {
        snprintf(err, errlen, "mailbox \"%.200s\": path too long", value);
        return -1;
    }
    return 0;
}

/* The uid or gid of a recipient from one of the id tables; FOUND or the verdict that stops. */
static enum vmailbox_verdict find_id(const struct vmaps *m, enum vtable t,
                                     char keys[][ADDRESS_KEY_MAX], int nkeys,
                                     const char *address, unsigned long long *id, char *err,
                                     size_t errlen)
{
    char value[64], why[ERR_TEXT_MAX];
    const char *param = vtable_param[t];
    int rc = find_value(m->tables[t], keys, nkeys, value, sizeof value, why, sizeof why);
    if (rc < 0) {
        snprintf(err, errlen, "%s lookup of %s: %s", param, address, why);
        return VMAILBOX_TEMPORARY;
    }
    if (rc == 0) {
        snprintf(err, errlen, "no %s entry for %s", param, address);
        return VMAILBOX_CONFIG;
    }
    if (vmailbox_id(value, id) < 0) {
        snprintf(err, errlen, "%s: \"%s\" for %s is not a decimal id", param, value, address);
        return VMAILBOX_CONFIG;
    }
    return VMAILBOX_FOUND;
}

/* uid/gid 0 and uids below virtual_minimum_uid are refused: the writing never runs as root or
 * as a system account. */
static enum vmailbox_verdict check_ids(const struct vmaps *m, const char *address,
                                       unsigned long long uid, unsigned long long gid, char *err,
                                       size_t errlen)
{
    if (uid == 0) {
        snprintf(err, errlen, "virtual_uid_maps gives uid 0 for %s: refusing to deliver as root",
                 address);
        return VMAILBOX_CONFIG;
    }
    if (gid == 0) {
        snprintf(err, errlen, "virtual_gid_maps gives gid 0 for %s: refusing to deliver as "
                 "group root", address);
        return VMAILBOX_CONFIG;
    }
    if ((long long)uid < m->minimum_uid) {
        snprintf(err, errlen, "uid %llu for %s is below virtual_minimum_uid %lld", uid, address,
                 m->minimum_uid);
        return VMAILBOX_CONFIG;
    }
    return VMAILBOX_FOUND;
}

enum vmailbox_verdict vmailbox_find(const struct vmaps *m, const char *address,
                                    struct vmailbox *out, char *err, size_t errlen)
{
    char addr[ADDRESS_MAX], keys[ADDRESS_KEYS_MAX][ADDRESS_KEY_MAX], value[PATH_MAX],
        why[ERR_TEXT_MAX];
    snprintf(addr, sizeof addr, "%s", address);
    list_lower(addr);
    struct mail_address a;
    address_split(addr, &a);   /* addr fits: it was cut to ADDRESS_MAX */
    int nkeys = address_lookup_keys(&a, m->delimiters, ADDRESS_KEYS_ADDRESS, keys);

    int rc = find_value(m->tables[VT_MAILBOX], keys, nkeys, value, sizeof value, why,
                        sizeof why);
    if (rc < 0) {
        snprintf(err, errlen, "%s lookup of %s: %s", vtable_param[VT_MAILBOX], addr, why);
        return VMAILBOX_TEMPORARY;
    }
    if (rc == 0) {
        snprintf(err, errlen, "unknown user: \"%s\"", addr);
        return VMAILBOX_UNKNOWN;
    }
    if (vmailbox_path(m->base, value, out, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", addr, why);
        return VMAILBOX_CONFIG;
    }
    unsigned long long uid, gid;
    enum vmailbox_verdict v = find_id(m, VT_UID, keys, nkeys, addr, &uid, err, errlen);
    if (v == VMAILBOX_FOUND)
        v = find_id(m, VT_GID, keys, nkeys, addr, &gid, err, errlen);
    if (v == VMAILBOX_FOUND)
        v = check_ids(m, addr, uid, gid, err, errlen);
    if (v != VMAILBOX_FOUND)
        return v;
    out->uid = (uid_t)uid;
    out->gid = (gid_t)gid;
    return VMAILBOX_FOUND;
}

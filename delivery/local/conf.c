/* conf.c: the settings of one delivery request, alias_maps (kept open: each request looks at
 * the hash: or btree: files again, so a rebuilt table counts at once; texthash: is read afresh
 * for each request), default_privs, and system user look-ups for the local agent (through
 * pwcache.h: a burst of mail to one user reads the password database once, not once a
 * message). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "config.h"
#include "log.h"
#include "local.h"
#include "mem.h"
#include "pwcache.h"

static int add_class(void *arg, char *item, char *err, size_t errlen)
{
    unsigned *mask = arg;
    (void)err, (void)errlen;   /* an unknown class is ignored, never an error */
    list_lower(item);
    if (strcmp(item, "alias") == 0)
        *mask |= CLASS_ALIAS;
    else if (strcmp(item, "forward") == 0)
        *mask |= CLASS_FORWARD;
    else if (strcmp(item, "include") == 0)
        *mask |= CLASS_INCLUDE;
    else
        log_warn("ignoring \"%.64s\" in an allow_mail_to_* list (alias, forward, include)",
                 item);
    return 0;
}

static unsigned read_classes(const char *param)
{
    unsigned mask = 0;
    char err[512];
    if (list_read(param, add_class, &mask, err, sizeof err) < 0)
        log_warn("%s", err);
    return mask;
}

void conf_load(struct local_conf *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->delims, sizeof c->delims, "%s", config_str("recipient_delimiter"));
    snprintf(c->home_mailbox, sizeof c->home_mailbox, "%s", config_str("home_mailbox"));
    snprintf(c->spool, sizeof c->spool, "%s", config_str("mail_spool_directory"));
    snprintf(c->myhostname, sizeof c->myhostname, "%s", config_str("myhostname"));
    long long limit = config_size("mailbox_size_limit");
    c->size_limit = limit > 0 ? (size_t)limit : 0;
    snprintf(c->quarantine_folder, sizeof c->quarantine_folder, "%s",
             config_str("dmarc_quarantine_folder"));
    c->command_time_limit = config_time("command_time_limit");
    if (c->command_time_limit <= 0)
        c->command_time_limit = 1;
    c->allow_commands = read_classes("allow_mail_to_commands");
    c->allow_files = read_classes("allow_mail_to_files");
}

/* alias_maps kept open between requests when its tables see changes by themselves
 * (table_list_live); a texthash: table is read afresh for each request instead. */
static struct table_list *kept_aliases;

void conf_end(void)
{
    table_list_free(kept_aliases);
    kept_aliases = NULL;
}

void conf_free(struct local_conf *c)
{
    if (c->aliases != kept_aliases)
        table_list_free(c->aliases);
    c->aliases = NULL;
}

int conf_aliases(struct local_conf *c, struct table_list **t)
{
    if (!c->aliases_open && kept_aliases) {
        c->aliases_open = true;
        c->aliases = kept_aliases;
        c->aliases_err[0] = '\0';
        table_list_recheck(kept_aliases);   /* a rebuilt or removed file counts at once */
    }
    if (!c->aliases_open) {
        c->aliases_open = true;
        if (table_list_read("alias_maps", &c->aliases, c->aliases_err,
                            sizeof c->aliases_err) < 0) {
            c->aliases = NULL;
            if (c->aliases_err[0] == '\0')
                snprintf(c->aliases_err, sizeof c->aliases_err, "alias_maps: cannot open");
            log_warn("%s; deferring mail for local recipients", c->aliases_err);
        } else {
            c->aliases_err[0] = '\0';
            if (table_list_live(c->aliases))
                kept_aliases = c->aliases;
        }
    }
    *t = c->aliases;
    return c->aliases_err[0] ? -1 : 0;
}

/* A name getpwnam may be asked about: printable, no white space, '/' or ':'. */
static bool plausible_name(const char *name)
{
    if (*name == '\0' || strlen(name) >= sizeof ((struct identity *)0)->name)
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '/' || *p == ':')
            return false;
    return true;
}


/* A user (pwcache.h, which remembers one found for a moment): 1 found (id filled), 0 none,
 * -1 error. */
static int lookup_pw(const char *name, struct identity *id, char *err, size_t errlen)
{
    struct pw_user pw;
    char why[256];
    int r = pwcache_lookup(name, &pw, why, sizeof why);
    if (r < 0)
        snprintf(err, errlen, "cannot look up user \"%s\": %s", name, why);
    if (r <= 0)
        return r;
    memset(id, 0, sizeof *id);
    int n1 = snprintf(id->name, sizeof id->name, "%s", pw.name);
    int n2 = snprintf(id->home, sizeof id->home, "%s", pw.dir[0] ? pw.dir : "/");
    id->uid = pw.uid;
    id->gid = pw.gid;
    if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof id->name || (size_t)n2 >= sizeof id->home) {
        snprintf(err, errlen, "user \"%s\": name or home directory too long", name);
        return -1;
    }
    return 1;
}

const struct identity *conf_privs(struct local_conf *c)
{
    if (c->privs_state == 0) {
        const char *name = config_str("default_privs");
        int r = plausible_name(name) ? lookup_pw(name, &c->privs, c->privs_err, sizeof c->privs_err)
                                     : 0;
        if (r == 0)
            snprintf(c->privs_err, sizeof c->privs_err, "default_privs: unknown user \"%.64s\"",
                     name);
        else if (r > 0 && c->privs.uid == 0) {
            snprintf(c->privs_err, sizeof c->privs_err,
                     "default_privs: user \"%.64s\" has uid 0; refusing to deliver as root",
                     name);
            r = -1;
        }
        c->privs_state = r > 0 ? 1 : -1;
    }
    return c->privs_state > 0 ? &c->privs : NULL;
}

int conf_user(struct local_conf *c, const char *name, struct identity *id, char *err,
              size_t errlen)
{
    if (!plausible_name(name))
        return 0;
    int r = lookup_pw(name, id, err, errlen);
    if (r <= 0 || id->uid != 0)
        return r;
    const struct identity *privs = conf_privs(c);
    if (privs == NULL) {
        snprintf(err, errlen, "%s", c->privs_err);
        return -1;
    }
    id->is_root = true;
    id->uid = privs->uid;
    id->gid = privs->gid;
    return 1;
}

/* tern_check.c: `tern check`: validates tern.conf (already loaded by the caller), master.conf and
 * the programs it names, every lookup table the configuration uses, and the owners and modes of
 * the queue directories, without changing anything. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "admin.h"
#include "buf.h"
#include "config.h"
#include "dict.h"
#include "dkim_signing.h"
#include "log.h"
#include "master_conf.h"
#include "mem.h"
#include "priv.h"
#include "qdir.h"

static int errors;

static void check_services(const char *config_dir)
{
    struct master_conf conf;
    char err[ERR_TEXT_MAX];
    if (master_conf_load(config_dir, (int)config_int("default_process_limit"), &conf, err,
                         sizeof err) < 0) {
        log_error("%s", err);
        errors++;
        return;
    }
    for (int i = 0; i < conf.count; i++) {
        const struct service_def *s = &conf.services[i];
        struct buf path;
        buf_init(&path, BUF_UNBOUNDED);
        if (s->command[0] == '/')
            buf_puts(&path, s->command);
        else
            buf_printf(&path, "%s/%s", config_str("daemon_directory"), s->command);
        if (access(buf_str(&path), X_OK) < 0) {
            log_error("%s/%s:%d: service %s: %s: %s", config_dir, MASTER_CONFIG_FILE, s->line,
                      s->name, buf_str(&path), strerror(errno));
            errors++;
        }
        buf_free(&path);
    }
    master_conf_free(&conf);
}

static void check_table(const char *param, const char *spec)
{
    char err[ERR_TEXT_MAX];
    struct dict *d = dict_open(spec, err, sizeof err);
    if (d == NULL) {
        log_error("%s: %s", param, err);
        errors++;
        return;
    }
    dict_close(d);
    if (!dict_type_is_built(spec))
        return;
    const char *source = strchr(spec, ':') + 1;
    struct buf db;
    buf_init(&db, BUF_UNBOUNDED);
    buf_printf(&db, "%s.db", source);
    struct stat src, built;
    if (stat(source, &src) == 0 && stat(buf_str(&db), &built) == 0 &&
        src.st_mtime > built.st_mtime)
        log_warn("%s: %s is older than its source %s: rebuild it", param, buf_str(&db), source);
    buf_free(&db);
}

/* Every parameter that names tables: *_maps, and alias_database. */
static void check_tables(void)
{
    for (const struct param_def *p = param_table; p->name; p++) {
        size_t n = strlen(p->name);
        bool maps = n > 5 && strcmp(p->name + n - 5, "_maps") == 0;
        if (!maps && strcmp(p->name, "alias_database") != 0)
            continue;
        char *list = xstrdup(config_str(p->name)), *save = NULL;
        for (char *spec = strtok_r(list, ", \t", &save); spec; spec = strtok_r(NULL, ", \t", &save))
            check_table(p->name, spec);
        free(list);
    }
}

/* The DKIM signing table and every key it names, as smtpd and pickup will read them (as root:
 * a key is readable by root and mail_owner only). */
static void check_signing(void)
{
    char err[ERR_TEXT_MAX];
    struct dkim_signing_table *t = dkim_signing_open_config(err, sizeof err);
    if (t == NULL) {
        log_error("%s", err);
        errors++;
        return;
    }
    dkim_signing_close(t);
}

static void check_queue(void)
{
    struct qdir_ids ids;
    char err[512];
    const char *qdir = config_str("queue_directory");
    if (geteuid() == 0) {
        if (priv_lookup_user(config_str("mail_owner"), &ids.mail_owner, &ids.mail_owner_gid, err,
                             sizeof err) < 0 ||
            priv_lookup_group(config_str("setgid_group"), &ids.setgid_gid, err, sizeof err) < 0) {
            log_error("%s", err);
            errors++;
            return;
        }
        ids.root_uid = 0;
        ids.root_gid = 0;
    } else {
        ids.mail_owner = ids.root_uid = getuid();
        ids.mail_owner_gid = ids.setgid_gid = ids.root_gid = getgid();
    }
    struct stat st;
    if (stat(qdir, &st) < 0 && errno == ENOENT) {
        log_warn("queue_directory %s does not exist yet: `tern start` creates it", qdir);
        return;
    }
    if (qdir_setup(qdir, &ids, false, err, sizeof err) < 0) {
        log_error("%s", err);
        errors++;
    }
}

int tern_check(const char *config_dir)
{
    check_services(config_dir);
    check_tables();
    check_signing();
    check_queue();
    if (errors) {
        log_error("%d problem%s found", errors, errors == 1 ? "" : "s");
        return EX_CONFIG;
    }
    log_info("configuration %s is OK", config_dir);
    return 0;
}

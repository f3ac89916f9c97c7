/* master_conf.h: master.conf, in Postfix master.cf's column format:
 *   service type private unpriv chroot wakeup maxproc command [args]
 * with `-` for a column's default, `#` comments, indented continuation lines and
 * `-o name=value` overrides among the args. Parsed by the master and checked by `tern check`. */
#ifndef TERN_MASTER_CONF_H
#define TERN_MASTER_CONF_H
#include <stdbool.h>
#include <stddef.h>
#include "errtext.h"

enum service_type { SERVICE_INET, SERVICE_UNIX };

struct service_def {
    char *name;              /* column 1: "smtp", "127.0.0.1:2525", "[::1]:25", "qmgr" */
    enum service_type type;  /* column 2: inet or unix */
    char *host;              /* inet: address or host name to bind; NULL: inet_interfaces */
    char *port;              /* inet: port number or service name */
    bool private_service;    /* column 3: unix socket in private/ (y) or public/ (n); default y */
    bool unprivileged;       /* column 4: run as mail_owner; default y */
    bool chroot;             /* column 5: chroot to queue_directory; default n */
    int wakeup;              /* column 6: seconds between wake-up triggers, 0 = none */
    bool wakeup_after_use;   /* wakeup written as N?: only after the service was used */
    int maxproc;             /* column 7: process limit, 0 = unlimited; `-` = default_process_limit */
    char *command;           /* column 8: program name (in daemon_directory unless absolute) */
    char **overrides;        /* "-o name=value" settings, without the -o; NULL-terminated */
    char **args;             /* remaining arguments; NULL-terminated */
    int line;                /* line number in master.conf, for messages */
};

struct master_conf {
    struct service_def *services;
    int count;
};

/* Parses the text of master.conf (`file` names it in messages). default_maxproc replaces `-` in
 * the maxproc column. Returns 0, or -1 with `file:line: reason` in err. Pure: no I/O. */
int master_conf_parse(const char *file, const char *text, int default_maxproc,
                      struct master_conf *out, char *err, size_t errlen);
/* Reads DIR/master.conf and parses it. */
int master_conf_load(const char *dir, int default_maxproc, struct master_conf *out,
                     char *err, size_t errlen);
void master_conf_free(struct master_conf *conf);
const struct service_def *master_conf_find(const struct master_conf *conf, const char *name,
                                           enum service_type type);

#endif

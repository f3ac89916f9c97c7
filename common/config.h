/* config.h: tern.conf, in Postfix main.cf syntax, checked against the typed parameter table in
 * params.def (which holds every default). Values are expanded ($name, ${name}, ${name?x},
 * ${name:x}) when they are read, so later definitions and -o overrides take effect everywhere. */
#ifndef TERN_CONFIG_H
#define TERN_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "errtext.h"

enum param_type { PARAM_STRING, PARAM_INT, PARAM_BOOL, PARAM_TIME, PARAM_SIZE };

struct param_def {
    const char *name;
    enum param_type type;
    const char *default_value;   /* unexpanded, as in main.cf */
    const char *help;            /* one line, for tern.conf(5) */
};

/* The table, in params.def order, terminated by a NULL name. */
extern const struct param_def param_table[];
const struct param_def *param_find(const char *name);

#define CONFIG_FILE "tern.conf"
#define MASTER_CONFIG_FILE "master.conf"

/* Reads DIR/tern.conf (DIR: -c, else $TERN_CONFIG, else TERN_CONFIG_DIR; see config_dir()).
 * Unknown names log a warning (`file:line: unknown parameter "x"`); syntax and type errors fill
 * err with `file:line: reason` and return -1 (callers exit with EX_CONFIG, 78). A missing file
 * is an error too. Replaces any configuration loaded before; keeps overrides. */
int config_load(const char *dir, char *err, size_t errlen);
/* Parses text as if it were the file `name` (pure; used by config_load and the unit tests). */
int config_load_text(const char *name, const char *text, char *err, size_t errlen);
const char *config_dir(const char *cli_dir);          /* cli_dir, $TERN_CONFIG, or the default */
const char *config_loaded_dir(void);                  /* directory of the last config_load */

/* `-o name=value` and `ternconf`-style settings that win over the file. Returns -1 and fills err
 * for a malformed `name=value` or a value of the wrong type. */
int config_override(const char *assignment, char *err, size_t errlen);

/* Lookups of known parameters; a name missing from the table is a programming error (fatal).
 * Strings are expanded; the returned pointer is valid until the next config_load. An empty
 * myhostname reads as the system's host name ("localhost" when it has none), so
 * config_str("myhostname") is never empty and callers need no fallback of their own. */
const char *config_str(const char *name);
long long config_int(const char *name);
bool config_bool(const char *name);
long long config_time(const char *name);   /* seconds */
long long config_size(const char *name);   /* bytes */
/* The raw (unexpanded) value and whether it was set in the file or by an override. */
const char *config_raw(const char *name, bool *explicit_setting);

/* For a master running as root: the configuration directory, tern.conf, master.conf and
 * daemon_directory must belong to root and be writable by nobody else, because root acts on what
 * they say (safe_check_trusted). 0, or -1 with the reason in err. */
int config_check_trusted(char *err, size_t errlen);

/* Expands $name references in text (the same rules as values). Result is malloc'd. */
char *config_expand(const char *text);

/* Value parsers, shared with master.conf -o checks and the unit tests. Return 0 or -1. */
int config_parse_bool(const char *s, bool *out);
int config_parse_time(const char *s, long long *seconds);   /* 10, 10s, 5m, 2h, 1d, 1w */
int config_parse_size(const char *s, long long *bytes);     /* 1024, 10k, 10m, 1g */
int config_parse_int(const char *s, long long *out);

/* The listings and edits of ternconf are in config_admin.h. */

#endif

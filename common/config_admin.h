/* config_admin.h: tern.conf as ternconf shows and changes it: listings of the parameters and
 * in-place edits. Only the admin tools link it (config_admin.c); the daemons read the
 * configuration through config.h alone. */
#ifndef TERN_CONFIG_ADMIN_H
#define TERN_CONFIG_ADMIN_H
#include <stdbool.h>
#include <stdio.h>
#include "config.h"

/* Listings for ternconf: every parameter (defaults=true: default values), or only the ones
 * set explicitly (explicit_only). Values expanded unless raw. Format `name = value`,
 * or just the value with no_names. */
void config_print(FILE *out, const char *name, bool defaults, bool no_names, bool raw);
void config_print_all(FILE *out, bool defaults, bool explicit_only, bool no_names, bool raw);

/* Edits DIR/tern.conf in place, atomically (temp file, fsync, rename): sets name = value, keeping
 * comments and order (ternconf -e), or removes the named parameters (ternconf -X). The edited
 * text must load before it replaces the file. A configuration error sets errno to EINVAL (an
 * I/O error keeps its errno), so ternconf can tell the two apart. */
int config_edit_set(const char *dir, const char *assignment, char *err, size_t errlen);
int config_edit_remove(const char *dir, const char *name, char *err, size_t errlen);

#endif

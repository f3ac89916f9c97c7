/* config_impl.h: what config.c lends config_admin.c (the listings and edits only the admin
 * tools link): the values as a listing shows them, the names set beyond the table, and the
 * pieces of a load (the file's path and text, an assignment's parts, a quiet check of a whole
 * text). Nothing else includes it. */
#ifndef TERN_CONFIG_IMPL_H
#define TERN_CONFIG_IMPL_H
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "config.h"

#define CONFIG_FILE_MAX (1024 * 1024)     /* bytes of tern.conf */

/* name's value from the loaded file and overrides (defaults: from the table alone), raw or
 * expanded; malloc'd, NULL for a name neither set nor in the table. */
char *config_value_copy(const char *name, bool defaults, bool raw);
/* How many names the file and the overrides set; config_user_names appends to names[0..n) the
 * ones not in the table, once each, and returns the new count. */
size_t config_set_count(void);
size_t config_user_names(const char **names, size_t n);

char *config_path(const char *dir);   /* DIR/tern.conf, malloc'd */
int config_read_file(const char *path, struct buf *text, char *err, size_t errlen);
/* `name = value` with white space trimmed; -1 with the reason in err. */
int config_split_assignment(const char *s, size_t len, char **name, char **value, char *err,
                            size_t errlen);
bool config_valid_name(const char *s, size_t len);
/* Whether text, as the file path of dir, loads (syntax, types, expansions) without warnings
 * and without the overrides; 0, or -1 with err. */
int config_check_text(const char *path, const char *dir, const char *text, size_t len,
                      char *err, size_t errlen);

#endif

/* dict_impl.h: the interface between dict.c (dispatch, key folding, text parser) and the table
 * implementations in dict_db.c (hash:, btree:), dict_text.c (texthash:, inline:, static:) and
 * dict_unix.c (unix:passwd.byname).
 * Not for use outside common/dict*.c; everyone else includes dict.h. */
#ifndef TERN_DICT_IMPL_H
#define TERN_DICT_IMPL_H
#include <stdbool.h>
#include "buf.h"
#include "dict.h"

#define DICT_LINE_MAX DICT_KEY_MAX   /* longest source line, so also the longest key */

/* The part every table shares. An implementation embeds it as its first member, so dict.c can
 * free the whole allocation after calling release. */
struct dict {
    char *spec;
    struct buf key;   /* the folded lookup key, kept to avoid an allocation per lookup */
    /* key is already folded and at most DICT_LINE_MAX bytes. */
    int (*lookup)(struct dict *d, const char *key, const char **value, char *err, size_t errlen);
    void (*release)(struct dict *d);  /* frees what the implementation owns, not d itself */
    /* NULL for types that cannot be listed; dict_walk's contract, markers not yet skipped. */
    int (*walk)(struct dict *d, int (*cb)(const char *key, const char *value, void *arg),
                void *arg, char *err, size_t errlen);
    bool any_key;     /* static: answers even a key too long to fold */
    /* NULL for types that are always current; dict_recheck's contract. */
    void (*recheck)(struct dict *d);
};

void dict_base_init(struct dict *d, const char *spec,
                    int (*lookup)(struct dict *, const char *, const char **, char *, size_t),
                    void (*release)(struct dict *));
void dict_fold(char *s);                 /* ASCII lower case in place */

/* dict_parse_text with the line number where each entry starts, for build warnings. */
int dict_parse_lines(const char *name, const char *text, size_t len, enum dict_format format,
                     int (*cb)(const char *key, const char *value, long line, void *arg),
                     void *arg, char *err, size_t errlen);

/* Why the text source at path could not be read (errno from safe_read_file): says plainly
 * when it is a symbolic link, not a regular file, has several links or is too large. */
const char *dict_read_reason(const char *path, int errnum);

/* spec is the whole `type:name`, path the name part. */
struct dict *dict_db_open(const char *spec, const char *path, bool btree, char *err, size_t errlen);
long dict_db_build(const char *spec, const char *path, bool btree, enum dict_format format,
                   enum dict_build_error *why, char *err, size_t errlen);
struct dict *dict_texthash_open(const char *spec, const char *path, char *err, size_t errlen);
struct dict *dict_inline_open(const char *spec, const char *body, char *err, size_t errlen);
struct dict *dict_static_open(const char *spec, const char *value, char *err, size_t errlen);
struct dict *dict_unix_open(const char *spec, const char *name, char *err, size_t errlen);

#endif

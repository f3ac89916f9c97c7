/* dict.h: lookup tables named `type:name`, as Postfix names them:
 *   hash:/path, btree:/path   Berkeley DB 5.3 files /path.db, built from the text file /path
 *   texthash:/path            the text file itself, read into memory
 *   static:value              every key gives value
 *   inline:{k1=v1, k2=v2}     a small table written in the configuration
 *   unix:passwd.byname        the system users (getpwnam)
 * Keys are folded to lower case on lookup (and when built). .db files written by Postfix's
 * postmap/postalias (keys and values with or without a trailing NUL) are read correctly.
 * Text source format: `key value` lines (map) or `key: value` lines (alias); `#` comment lines,
 * blank lines ignored, lines starting with white space continue the previous entry. */
#ifndef TERN_DICT_H
#define TERN_DICT_H
#include <stdbool.h>
#include <stddef.h>

#define DICT_ERR_MAX 512
#define DICT_VALUE_MAX (64 * 1024)     /* longest value kept */
#define DICT_SOURCE_MAX (256L * 1024 * 1024)

struct dict;

enum dict_format { DICT_FORMAT_MAP, DICT_FORMAT_ALIAS };

/* Opens a table for reading. Returns NULL with err (`hash:/etc/aliases: reason`) on failure. */
struct dict *dict_open(const char *spec, char err[DICT_ERR_MAX]);
/* Looks key up. Returns 1 and sets *value (valid until the next lookup on d), 0 when the key is
 * absent, -1 with err on a read error (the caller must treat it as temporary). */
int dict_lookup(struct dict *d, const char *key, const char **value, char err[DICT_ERR_MAX]);
const char *dict_spec(const struct dict *d);     /* the `type:name` it was opened with */
void dict_close(struct dict *d);

/* Builds the table file of a hash: or btree: spec from its text source (the spec's name),
 * atomically (new file, then rename over /path.db). Keys are folded to lower case and written
 * with a trailing NUL, as Postfix does; alias tables also get the `@` -> `@` entry.
 * Returns the number of entries, or -1 with err (`/path:line: reason` for source errors). */
long dict_build(const char *spec, enum dict_format format, char err[DICT_ERR_MAX]);
/* Parses one text source into key/value pairs through cb (pure; used by build, texthash and
 * the tests). cb returns 0 to go on, -1 to stop with an error already in err. */
int dict_parse_text(const char *name, const char *text, size_t len, enum dict_format format,
                    int (*cb)(const char *key, const char *value, void *arg), void *arg,
                    char err[DICT_ERR_MAX]);
/* True for types that are files built by dict_build (hash, btree). */
bool dict_type_is_built(const char *spec);

#endif

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
#include "errtext.h"

#define DICT_KEY_MAX (64 * 1024)       /* longest key: a source line is no longer */
#define DICT_VALUE_MAX (64 * 1024)     /* longest value kept */
#define DICT_SOURCE_MAX (256L * 1024 * 1024)

struct dict;

enum dict_format { DICT_FORMAT_MAP, DICT_FORMAT_ALIAS };

/* Opens a table for reading. Returns NULL with err (`hash:/etc/aliases: reason`) on failure. */
struct dict *dict_open(const char *spec, char *err, size_t errlen);
/* Looks key up. Returns 1 and sets *value (valid until the next lookup on d), 0 when the key is
 * absent, -1 with err on a read error (the caller must treat it as temporary). */
int dict_lookup(struct dict *d, const char *key, const char **value, char *err, size_t errlen);
const char *dict_spec(const struct dict *d);     /* the `type:name` it was opened with */
/* hash:, btree: look at their file again (rebuilt? gone?) at most once a second; after this
 * the next lookup looks at once. Nothing for the other types. */
void dict_recheck(struct dict *d);
void dict_close(struct dict *d);

/* Calls cb for each entry of a table opened by dict_open: hash:, btree: and texthash: only.
 * Keys come as stored (folded), keys and values without a trailing NUL; the `@` -> `@` marker of
 * alias databases and the YP_LAST_MODIFIED and YP_MASTER_NAME entries some builders add are
 * skipped. The order is the table's own (btree: sorted by key; hash:, texthash: none in
 * particular). cb must not use d. It returns 0 to go on; another value (use a positive one)
 * stops the walk and is returned. Returns 0 after the last entry, or -1 with err on a read
 * error or for a type that cannot be listed (static:, inline:, unix:). */
int dict_walk(struct dict *d, int (*cb)(const char *key, const char *value, void *arg), void *arg,
              char *err, size_t errlen);

/* Builds the table file of a hash: or btree: spec from its text source (the spec's name),
 * atomically (new file, then rename over /path.db; the old file stays whole until the rename,
 * and a reader that has it open keeps reading it). Keys are folded to lower case and written
 * with a trailing NUL, as Postfix does; alias tables also get the `@` -> `@` entry. The new
 * file is readable by group and others only where the source is.
 * Returns the number of entries, or -1 with err (`/path:line: reason` for source errors). */
long dict_build(const char *spec, enum dict_format format, char *err, size_t errlen);

/* Why a build failed, so a command can choose its exit status (sysexits.h in parentheses). */
enum dict_build_error {
    DICT_BUILD_ERR_SPEC,     /* not a hash:/btree: spec (EX_USAGE) */
    DICT_BUILD_ERR_READ,     /* the source is missing, unreadable, a symbolic link or not a
                              * regular file (EX_NOINPUT) */
    DICT_BUILD_ERR_SOURCE,   /* the source is malformed: err is `/path:line: reason`, or too
                              * large (EX_DATAERR) */
    DICT_BUILD_ERR_CREATE,   /* the new file cannot be created or renamed (EX_CANTCREAT) */
    DICT_BUILD_ERR_WRITE,    /* writing or syncing the new file failed (EX_IOERR) */
};
/* dict_build that also says why it failed (why may be NULL). */
long dict_build_why(const char *spec, enum dict_format format, enum dict_build_error *why,
                    char *err, size_t errlen);
/* Parses one text source into key/value pairs through cb (pure; used by build, texthash and
 * the tests). cb returns 0 to go on, -1 to stop with an error already in err. */
int dict_parse_text(const char *name, const char *text, size_t len, enum dict_format format,
                    int (*cb)(const char *key, const char *value, void *arg), void *arg,
                    char *err, size_t errlen);
/* True for types that are files built by dict_build (hash, btree). */
bool dict_type_is_built(const char *spec);

#endif

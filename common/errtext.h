/* errtext.h: the size of the buffer a caller gives a function that says why it failed (its last
 * parameters `char *err, size_t errlen`, the convention of HACKING.md's "Errors"), and how to
 * fill one with a reason about a named thing. One size for every module, large enough that a
 * reason passed up and prefixed by its caller still fits. */
#ifndef TERN_ERRTEXT_H
#define TERN_ERRTEXT_H

#include <stddef.h>

#define ERR_TEXT_MAX 1024

/* Writes "KIND SUBJECT: " and the formatted text into err (cut to errlen; nothing when err is
 * NULL), e.g. errtext_setf(err, errlen, "maildir", dir, "fsync new/: %s", strerror(errno)). */
void errtext_setf(char *err, size_t errlen, const char *kind, const char *subject,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif

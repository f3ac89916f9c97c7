/* errtext.h: the size of the buffer a caller gives a function that says why it failed (its last
 * parameters `char *err, size_t errlen`, the convention of HACKING.md's "Errors"). One size for
 * every module, large enough that a reason passed up and prefixed by its caller still fits. */
#ifndef TERN_ERRTEXT_H
#define TERN_ERRTEXT_H

#define ERR_TEXT_MAX 1024

#endif

/* mem.h: allocation that never returns NULL (out of memory is fatal), used by every program. */
#ifndef TERN_MEM_H
#define TERN_MEM_H
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif

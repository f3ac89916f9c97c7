/* buf.h: the one string/buffer type of tern: growable, always NUL-terminated, with a hard size
 * bound so no input can make it grow without limit. */
#ifndef TERN_BUF_H
#define TERN_BUF_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data;   /* NUL-terminated; never NULL after buf_init */
    size_t len;   /* bytes used, excluding the NUL */
    size_t cap;   /* bytes allocated */
    size_t max;   /* largest len allowed; appends past it fail and change nothing */
};

#define BUF_UNBOUNDED ((size_t)-1 / 2)

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);                       /* len = 0, keeps memory */
/* Each append returns 0, or -1 (and leaves b unchanged) when the result would exceed b->max. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
/* buf_printf's arguments must not point into b (append and set may) */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
int buf_set(struct buf *b, const char *s);           /* reset + puts */
void buf_truncate(struct buf *b, size_t len);        /* len <= b->len */
void buf_consume(struct buf *b, size_t n);           /* drop the first n bytes */
char *buf_steal(struct buf *b);   /* returns data (caller frees); b must be buf_init'ed to reuse */
static inline const char *buf_str(const struct buf *b) { return b->data; }

#endif

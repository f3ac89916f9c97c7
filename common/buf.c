/* buf.c: the bounded growable buffer (see buf.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "mem.h"

void buf_init(struct buf *b, size_t max)
{
    b->cap = 64;
    b->data = xmalloc(b->cap);
    b->data[0] = '\0';
    b->len = 0;
    b->max = max;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->data[0] = '\0';
}

static int buf_reserve(struct buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return -1;
    size_t need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap;
        while (cap < need)
            cap = cap < BUF_UNBOUNDED / 2 ? cap * 2 : need;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    return 0;
}

static bool points_into(const struct buf *b, const void *p)
{
    return b->data && (const char *)p >= b->data && (const char *)p < b->data + b->cap;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    /* the source may be inside b, and b->data may move when it grows */
    bool inside = points_into(b, p);
    size_t off = inside ? (size_t)((const char *)p - b->data) : 0;
    if (buf_reserve(b, n) < 0)
        return -1;
    if (n)
        memmove(b->data + b->len, inside ? b->data + off : p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

int buf_set(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    if (n > b->max)
        return -1;
    if (points_into(b, s)) {
        memmove(b->data, s, n + 1);
        b->len = n;
        return 0;
    }
    buf_reset(b);
    return buf_append(b, s, n);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || buf_reserve(b, (size_t)n) < 0)
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

void buf_truncate(struct buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

char *buf_steal(struct buf *b)
{
    char *p = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

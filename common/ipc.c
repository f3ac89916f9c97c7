/* ipc.c: the IPC message type and its codec (see ipc.h for the wire format). Pure functions
 * over buffers, no I/O, so every internal conversation goes through one strict, testable
 * decoder; the blocking socket helpers are in ipc_io.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ipc.h"
#include "ipc_proto.h"
#include "mem.h"

#define IPC_LEN_DIGITS 7          /* so no length can overflow or allocate absurdly */
#define IPC_LEN_MAX 9999999u

void ipc_msg_init(struct ipc_msg *m)
{
    m->attr = NULL;
    m->count = m->cap = 0;
}

void ipc_msg_clear(struct ipc_msg *m)
{
    for (size_t i = 0; i < m->count; i++) {
        free(m->attr[i].name);
        free(m->attr[i].value);
    }
    m->count = 0;
}

void ipc_msg_free(struct ipc_msg *m)
{
    ipc_msg_clear(m);
    free(m->attr);
    ipc_msg_init(m);
}

static bool name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool valid_name(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++)
        if (n >= IPC_NAME_MAX || !name_char((unsigned char)name[n]))
            return false;
    return n > 0;
}

/* Stores an attribute already known to be valid (checked by the caller or the decoder). */
static void add_valid(struct ipc_msg *m, const char *name, size_t name_len, const char *value,
                      size_t value_len)
{
    if (m->count == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->attr = xrealloc(m->attr, m->cap * sizeof m->attr[0]);
    }
    struct ipc_attr *a = &m->attr[m->count++];
    a->name = xstrndup(name, name_len);
    a->value = xmalloc(value_len + 1);
    if (value_len)
        memcpy(a->value, value, value_len);
    a->value[value_len] = '\0';
    a->value_len = value_len;
}

int ipc_add_len(struct ipc_msg *m, const char *name, const char *value, size_t len)
{
    if (!valid_name(name) || memchr(value, '\0', len) != NULL || m->count >= IPC_ATTR_MAX)
        return -1;
    add_valid(m, name, strlen(name), value, len);
    return 0;
}

int ipc_add(struct ipc_msg *m, const char *name, const char *value)
{
    return ipc_add_len(m, name, value, strlen(value));
}

int ipc_addf(struct ipc_msg *m, const char *name, const char *fmt, ...)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    va_list ap;
    va_start(ap, fmt);
    int r = buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (r == 0)
        r = ipc_add_len(m, name, b.data, b.len);
    buf_free(&b);
    return r;
}

bool ipc_take_keep(struct ipc_msg *m)
{
    if (m->count == 0)
        return false;
    struct ipc_attr *a = &m->attr[m->count - 1];
    if (strcmp(a->name, IPC_A_KEEP) != 0 || strcmp(a->value, "1") != 0)
        return false;
    free(a->name);
    free(a->value);
    m->count--;
    return true;
}

const char *ipc_get(const struct ipc_msg *m, const char *name)
{
    for (size_t i = 0; i < m->count; i++)
        if (strcmp(m->attr[i].name, name) == 0)
            return m->attr[i].value;
    return NULL;
}

int ipc_get_long(const struct ipc_msg *m, const char *name, long long min, long long max,
                 long long *out)
{
    const char *v = ipc_get(m, name);
    if (v == NULL)
        return -1;
    /* strtoll alone would accept spaces, '+' and trailing junk */
    const char *digits = v[0] == '-' ? v + 1 : v;
    if (digits[0] < '0' || digits[0] > '9')
        return -1;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

static bool in_list(const char *const *list, const char *name)
{
    for (; list && *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

/* Required names count as allowed, so callers need not list them twice. A NULL `allowed`
 * means any name is acceptable. */
int ipc_check(const struct ipc_msg *m, const char *const *required, const char *const *allowed,
              char *err, size_t errlen)
{
    for (size_t i = 0; allowed && i < m->count; i++)
        if (!in_list(allowed, m->attr[i].name) && !in_list(required, m->attr[i].name)) {
            snprintf(err, errlen, "unexpected attribute");
            return -1;
        }
    for (; required && *required; required++)
        if (ipc_get(m, *required) == NULL) {
            snprintf(err, errlen, "missing required attribute");
            return -1;
        }
    return 0;
}

static size_t digit_count(size_t n)
{
    size_t d = 1;
    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

static size_t attr_payload_len(const struct ipc_attr *a)
{
    return strlen(a->name) + 1 + a->value_len;
}

int ipc_encode(const struct ipc_msg *m, struct buf *out)
{
    size_t payload = 0;
    for (size_t i = 0; i < m->count; i++) {
        size_t n = attr_payload_len(&m->attr[i]);
        payload += digit_count(n) + 1 + n + 1;
        if (payload > IPC_LEN_MAX)
            return -1;   /* the peer's decoder could not read it */
    }
    size_t start = out->len;
    int r = buf_printf(out, "%zu:", payload);
    for (size_t i = 0; r == 0 && i < m->count; i++) {
        const struct ipc_attr *a = &m->attr[i];
        r = buf_printf(out, "%zu:%s=", attr_payload_len(a), a->name);
        if (r == 0)
            r = buf_append(out, a->value, a->value_len);
        if (r == 0)
            r = buf_putc(out, ',');
    }
    if (r == 0)
        r = buf_putc(out, ',');
    if (r < 0)
        buf_truncate(out, start);
    return r;
}

/* Decoding walks the input once to validate it (and, on a second walk over input known to be
 * a whole valid message, to store it), so `out` is touched only for complete messages. */
struct cursor {
    const unsigned char *p;
    size_t len;            /* bytes available: never read at or past this */
    size_t pos;
    char *err;
    size_t errlen;
};

static int bad(struct cursor *c, const char *why)
{
    snprintf(c->err, c->errlen, "%s", why);
    return -1;
}

/* Reads `<digits>:` whose whole netstring (digits, colon, n bytes, comma) must fit in `room`
 * bytes; `too_big` is the reason given when it cannot. Fails as soon as the digits read so
 * far already make that impossible, since more digits only make the length larger. */
static int read_len(struct cursor *c, size_t room, const char *too_big, size_t *n)
{
    size_t k = 0, v = 0;
    for (;;) {
        if (c->pos + k >= c->len)
            return 0;
        unsigned char ch = c->p[c->pos + k];
        if (ch == ':')
            break;
        if (ch < '0' || ch > '9')
            return bad(c, k ? "length not followed by ':'" : "length expected");
        if (k == 1 && v == 0)
            return bad(c, "length with a leading zero");
        if (++k > IPC_LEN_DIGITS)
            return bad(c, "length has too many digits");
        v = v * 10 + (size_t)(ch - '0');
        if (k + 2 + v > room)
            return bad(c, too_big);
    }
    if (k == 0)
        return bad(c, "length expected");
    c->pos += k + 1;
    *n = v;
    return 1;
}

/* One `<n>:name=value,` ending no later than `end`. Returns 1 with the parts located. */
static int read_attr(struct cursor *c, size_t end, size_t *name_at, size_t *name_len,
                     size_t *value_at, size_t *value_len)
{
    size_t n;
    int r = read_len(c, end - c->pos, "attribute overruns the message", &n);
    if (r <= 0)
        return r;
    if (n < 2)
        return bad(c, "attribute too short");
    size_t start = c->pos, k = 0;
    for (;; k++) {
        if (start + k >= c->len)
            return 0;
        unsigned char ch = c->p[start + k];
        if (ch == '=')
            break;
        if (!name_char(ch))
            return bad(c, "bad character in attribute name");
        if (k + 1 > IPC_NAME_MAX)
            return bad(c, "attribute name too long");
        if (k + 1 >= n)
            return bad(c, "attribute without '='");
    }
    if (k == 0)
        return bad(c, "empty attribute name");
    size_t vat = start + k + 1, vlen = n - k - 1;
    size_t avail = c->len > vat ? c->len - vat : 0;
    if (memchr(c->p + vat, '\0', avail < vlen ? avail : vlen) != NULL)
        return bad(c, "NUL in attribute value");
    if (avail <= vlen)
        return 0;
    if (c->p[vat + vlen] != ',')
        return bad(c, "attribute not followed by ','");
    c->pos = vat + vlen + 1;
    *name_at = start;
    *name_len = k;
    *value_at = vat;
    *value_len = vlen;
    return 1;
}

static int walk(struct cursor *c, size_t max, struct ipc_msg *out)
{
    size_t n;
    int r = read_len(c, max, "message too large", &n);
    if (r <= 0)
        return r;
    size_t end = c->pos + n, count = 0;
    while (c->pos < end) {
        if (c->pos >= c->len)
            return 0;
        if (++count > IPC_ATTR_MAX)
            return bad(c, "too many attributes");
        size_t na, nl, va, vl;
        r = read_attr(c, end, &na, &nl, &va, &vl);
        if (r <= 0)
            return r;
        if (out)
            add_valid(out, (const char *)c->p + na, nl, (const char *)c->p + va, vl);
    }
    if (c->pos >= c->len)
        return 0;
    if (c->p[c->pos] != ',')
        return bad(c, "message not followed by ','");
    c->pos++;
    return 1;
}

int ipc_decode(const char *data, size_t len, size_t max, struct ipc_msg *out, size_t *used,
               char *err, size_t errlen)
{
    struct cursor c = { (const unsigned char *)data, len, 0, err, errlen };
    int r = walk(&c, max, NULL);
    if (r <= 0)
        return r;
    ipc_msg_clear(out);
    c.pos = 0;
    walk(&c, max, out);
    *used = c.pos;
    return 1;
}

/* maildrop.c: the maildrop file rules of maildrop.h: the record order and bounds that terndrop
 * enforces on what sendmail sends and pickup enforces again on what it reads, and a buffered
 * record reader over a descriptor with a per-read timeout (the record headers decoded by
 * qrec_head, as strictly as in queue files). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "maildrop.h"
#include "mem.h"

enum { ST_MAGIC, ST_SENDER, ST_ATTR, ST_RCPT, ST_CONTENT, ST_END };

static const char *const attr_names[] = { "fullname", "envid", "ret", "body", "notify",
                                          "extract", NULL };

void maildrop_check_init(struct maildrop_check *c, unsigned long long content_limit)
{
    memset(c, 0, sizeof *c);
    c->limit = content_limit;
}

/* Text fields: bounded, printable (8-bit bytes allowed for names and UTF-8 addresses), no
 * control characters, so nothing can break a log line or a header. */
static bool text_ok(const char *s, size_t len)
{
    if (len > MAILDROP_FIELD_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 32 || ch == 127)
            return false;
    }
    return true;
}

static bool attr_ok(const char *s, size_t len)
{
    const char *eq = memchr(s, '=', len);
    if (eq == NULL || !text_ok(s, len))
        return false;
    size_t n = (size_t)(eq - s);
    for (size_t i = 0; attr_names[i]; i++)
        if (strlen(attr_names[i]) == n && memcmp(attr_names[i], s, n) == 0)
            return true;
    return false;
}

static int fail(const char *reason, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", reason);
    errno = EPROTO;
    return -1;
}

int maildrop_check(struct maildrop_check *c, int type, const char *data, size_t len,
                   char *err, size_t errlen)
{
    if (c->ended)
        return fail("data after the end record", err, errlen);
    switch (type) {
    case QREC_MAGIC:
        if (c->stage != ST_MAGIC || len != strlen(MAILDROP_MAGIC_TEXT) ||
            memcmp(data, MAILDROP_MAGIC_TEXT, len) != 0)
            return fail("not a maildrop file", err, errlen);
        c->stage = ST_SENDER;
        return 0;
    case QREC_SENDER:
        if (c->stage != ST_SENDER)
            return fail("sender record out of order", err, errlen);
        if (!text_ok(data, len))
            return fail("bad sender", err, errlen);
        c->stage = ST_ATTR;
        return 0;
    case QREC_ATTR:
        if (c->stage != ST_ATTR)
            return fail("attribute record out of order", err, errlen);
        if (++c->nattr > MAILDROP_ATTR_MAX || !attr_ok(data, len))
            return fail("bad attribute", err, errlen);
        return 0;
    case QREC_RECIPIENT:
        if (c->stage != ST_ATTR && c->stage != ST_RCPT)
            return fail("recipient record out of order", err, errlen);
        if (++c->nrcpt > MAILDROP_RCPT_MAX)
            return fail("too many recipients", err, errlen);
        if (len == 0 || !text_ok(data, len))
            return fail("bad recipient", err, errlen);
        c->stage = ST_RCPT;
        return 0;
    case QREC_RCPT_NOTIFY:
    case QREC_RCPT_ORCPT:
        if (c->stage != ST_RCPT)
            return fail("recipient parameter without a recipient", err, errlen);
        if (!text_ok(data, len))
            return fail("bad recipient parameter", err, errlen);
        return 0;
    case QREC_CONTENT:
        if (c->stage < ST_SENDER + 1 || c->stage > ST_CONTENT)
            return fail("content record out of order", err, errlen);
        c->stage = ST_CONTENT;
        c->content += len;
        if (c->limit && c->content > c->limit) {
            snprintf(err, errlen, "message file too big");
            errno = EFBIG;
            return -1;
        }
        return 0;
    case QREC_END:
        if (c->stage < ST_SENDER + 1 || len != 0)
            return fail("end record out of order", err, errlen);
        c->ended = true;
        return 0;
    default:
        return fail("unknown record type", err, errlen);
    }
}

void maildrop_reader_init(struct maildrop_reader *r, int fd, int timeout_ms)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->timeout_ms = timeout_ms;
}

void maildrop_reader_free(struct maildrop_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* Makes at least want bytes available from pos. 1, 0 at end of input, -1 with errno. */
static int fill(struct maildrop_reader *r, size_t want)
{
    while (r->len - r->pos < want) {
        if (r->eof)
            return 0;
        if (r->pos > 0) {
            memmove(r->buf, r->buf + r->pos, r->len - r->pos);
            r->len -= r->pos;
            r->pos = 0;
        }
        if (r->cap < want || r->cap - r->len < 4096) {
            size_t cap = r->cap ? r->cap : 65536;
            while (cap < want || cap - r->len < 4096)
                cap *= 2;
            r->buf = xrealloc(r->buf, cap);
            r->cap = cap;
        }
        if (r->timeout_ms >= 0) {
            struct pollfd p = { r->fd, POLLIN, 0 };
            int n = poll(&p, 1, r->timeout_ms);
            if (n < 0 && errno == EINTR)
                continue;
            if (n == 0) {
                errno = ETIMEDOUT;
                return -1;
            }
            if (n < 0)
                return -1;
        }
        ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            r->eof = true;
        r->len += (size_t)n;
    }
    return 1;
}

int maildrop_read(struct maildrop_reader *r, int *type, const char **data, size_t *len)
{
    int rc = fill(r, 1);
    if (rc <= 0)
        return rc;
    /* the header under the rules of every record reader (qrec_head), a byte more at a time */
    size_t hlen, n;
    enum qrec_head_result h;
    while ((h = qrec_head(r->buf + r->pos, r->len - r->pos, type, &n, &hlen)) ==
           QREC_HEAD_SHORT) {
        if ((rc = fill(r, r->len - r->pos + 1)) <= 0) {
            if (rc == 0)
                errno = EPROTO;   /* truncated */
            return -1;
        }
    }
    if (h == QREC_HEAD_BAD) {
        errno = EPROTO;
        return -1;
    }
    if ((rc = fill(r, hlen + n)) <= 0) {
        if (rc == 0)
            errno = EPROTO;
        return -1;
    }
    *data = r->buf + r->pos + hlen;
    *len = n;
    r->pos += hlen + n;
    return 1;
}

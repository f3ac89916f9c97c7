/* reply.c: the reply parser and the EHLO extension reader of reply.h. Pure functions over the
 * lines the session hands in; every size is bounded. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "reply.h"

#define LINES_BUF_MAX ((size_t)REPLY_LINES_MAX * (REPLY_LINE_MAX + 1))

void reply_parser_init(struct reply_parser *p)
{
    memset(&p->reply, 0, sizeof p->reply);
    buf_init(&p->lines, LINES_BUF_MAX);
    p->done = false;
}

void reply_parser_free(struct reply_parser *p)
{
    buf_free(&p->lines);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of "C.S.D" at s (class c, subject and detail of 1-3 digits) followed by a space or
 * the end, else 0. */
static size_t enhanced_code(const char *s, size_t len, char c)
{
    if (len < 5 || s[0] != c || s[1] != '.')
        return 0;
    size_t i = 2;
    for (int part = 0; part < 2; part++) {
        size_t n = 0;
        while (i + n < len && is_digit(s[i + n]))
            n++;
        if (n == 0 || n > 3)
            return 0;
        i += n;
        if (part == 0) {
            if (i >= len || s[i] != '.')
                return 0;
            i++;
        }
    }
    return i == len || s[i] == ' ' ? i : 0;
}

static void append_text(struct smtp_reply *r, const char *line, size_t len)
{
    size_t at = strlen(r->text);
    if (at > 0 && at + 1 < sizeof r->text)
        r->text[at++] = ' ';
    for (size_t i = 0; i < len && at + 1 < sizeof r->text; i++) {
        unsigned char c = (unsigned char)line[i];
        r->text[at++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
    }
    r->text[at] = '\0';
}

static void start_reply(struct reply_parser *p)
{
    memset(&p->reply, 0, sizeof p->reply);
    buf_reset(&p->lines);
    p->done = false;
}

/* The enhanced code of the last line, else of the first that has one, else derived. */
static void finish_dsn(struct smtp_reply *r, const char *line, size_t len)
{
    char c = (char)('0' + reply_class(r->code));
    size_t n = len > 4 ? enhanced_code(line + 4, len - 4, c) : 0;
    if (n > 0) {
        memcpy(r->dsn, line + 4, n);
        r->dsn[n] = '\0';
        r->dsn_given = true;
    } else if (!r->dsn_given || r->dsn[0] != c) {
        snprintf(r->dsn, sizeof r->dsn, "%c.0.0", c);
        r->dsn_given = false;
    }
}

int reply_feed(struct reply_parser *p, const char *line, size_t len, char *err, size_t errlen)
{
    if (p->done)
        start_reply(p);
    if (len > REPLY_LINE_MAX) {
        snprintf(err, errlen, "reply line too long");
        return REPLY_ERROR;
    }
    if (len < 3 || line[0] < '2' || line[0] > '5' || !is_digit(line[1]) || !is_digit(line[2]) ||
        (len > 3 && line[3] != ' ' && line[3] != '-')) {
        snprintf(err, errlen, "malformed reply");
        return REPLY_ERROR;
    }
    struct smtp_reply *r = &p->reply;
    if (++r->nlines > REPLY_LINES_MAX) {
        snprintf(err, errlen, "too many lines in a reply");
        return REPLY_ERROR;
    }
    r->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    append_text(r, line, len);
    size_t body = len > 4 ? len - 4 : 0;
    if (buf_append(&p->lines, line + (len > 4 ? 4 : len), body) < 0 ||
        buf_putc(&p->lines, '\n') < 0) {
        snprintf(err, errlen, "reply too long");
        return REPLY_ERROR;
    }
    if (!r->dsn_given && len > 4) {
        size_t n = enhanced_code(line + 4, len - 4, line[0]);
        if (n > 0) {
            memcpy(r->dsn, line + 4, n);
            r->dsn[n] = '\0';
            r->dsn_given = true;
        }
    }
    if (len > 3 && line[3] == '-')
        return REPLY_MORE;
    finish_dsn(r, line, len);
    p->done = true;
    return REPLY_DONE;
}

/* Whether the line starts with the keyword kw followed by the end or a space. */
static bool keyword(const char *line, size_t len, const char *kw, const char **arg)
{
    size_t n = strlen(kw);
    if (len < n || strncasecmp(line, kw, n) != 0 || (len > n && line[n] != ' '))
        return false;
    *arg = line + n;
    return true;
}

static unsigned long long size_arg(const char *s, const char *end)
{
    while (s < end && *s == ' ')
        s++;
    unsigned long long v = 0;
    for (; s < end && is_digit(*s); s++) {
        if (v > (~0ULL - 9) / 10)
            return 0;            /* absurdly large: as good as no limit */
        v = v * 10 + (unsigned long long)(*s - '0');
    }
    return v;
}

void reply_caps(const char *lines, size_t len, struct smtp_caps *caps)
{
    memset(caps, 0, sizeof *caps);
    const char *end = lines + len;
    const char *p = memchr(lines, '\n', len);   /* the first line is the server's name */
    if (p == NULL)
        return;
    for (p++; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *arg;
        if (keyword(p, n, "PIPELINING", &arg))
            caps->pipelining = true;
        else if (keyword(p, n, "STARTTLS", &arg))
            caps->starttls = true;
        else if (keyword(p, n, "8BITMIME", &arg))
            caps->eightbitmime = true;
        else if (keyword(p, n, "SMTPUTF8", &arg))
            caps->smtputf8 = true;
        else if (keyword(p, n, "DSN", &arg))
            caps->dsn = true;
        else if (keyword(p, n, "SIZE", &arg)) {
            caps->size = true;
            caps->size_limit = size_arg(arg, p + n);
        }
        p += n + 1;
    }
}

/* auth_results.c: the Authentication-Results header field (RFC 8601): written from a list of
 * method results (values quoted where they must be, reason comments made safe, folded), and
 * the authserv-id read back from a field value. Pure: no I/O, no globals. */
#include "auth_results.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "errtext.h"

#define FOLD_COLUMN 78
#define COMMENT_DEPTH_MAX 64   /* nested comments read before a value is called malformed */

static bool is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* a byte of an RFC 2045 token: printable US-ASCII except the tspecials */
static bool is_token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* a byte of an RFC 5322 dot-atom (atext and ".") */
static bool is_atom_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"[]", c) == NULL;
}

static bool all_of(const char *s, size_t n, bool (*ok)(unsigned char))
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!ok((unsigned char)s[i]))
            return false;
    return true;
}

static bool has_ctl(const char *s)
{
    for (; *s; s++)
        if (is_ctl((unsigned char)*s))
            return true;
    return false;
}

/* a value written bare: a token, or for a property's pvalue also [local-part] "@" domain-name
 * with a dot-atom local part (an authserv-id is a token or a quoted-string) */
static bool bare_value(const char *v, bool pvalue)
{
    size_t n = strlen(v);
    if (all_of(v, n, is_token_char))
        return true;
    const char *at = strrchr(v, '@');
    if (!pvalue || at == NULL)
        return false;
    size_t ln = (size_t)(at - v);
    return (ln == 0 || all_of(v, ln, is_atom_char)) && at[1] != '.' &&
           all_of(at + 1, strlen(at + 1), is_token_char);
}

/* v bare, or as a quoted-string with '"' and '\' escaped */
static int put_value(struct buf *b, const char *v, bool pvalue)
{
    if (bare_value(v, pvalue))
        return buf_puts(b, v);
    if (buf_putc(b, '"') < 0)
        return -1;
    for (; *v; v++)
        if (((*v == '"' || *v == '\\') && buf_putc(b, '\\') < 0) || buf_putc(b, *v) < 0)
            return -1;
    return buf_putc(b, '"');
}

/* "(reason)": control characters as spaces, parentheses and backslashes escaped, cut to
 * AUTH_RESULTS_COMMENT_MAX bytes of the reason (not inside a UTF-8 sequence) */
static int put_comment(struct buf *b, const char *reason)
{
    size_t n = strnlen(reason, AUTH_RESULTS_COMMENT_MAX + 1);
    if (n > AUTH_RESULTS_COMMENT_MAX) {
        n = AUTH_RESULTS_COMMENT_MAX;
        while (n > 0 && ((unsigned char)reason[n] & 0xc0) == 0x80)
            n--;
    }
    if (buf_putc(b, '(') < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)reason[i];
        if (c == '(' || c == ')' || c == '\\') {
            if (buf_putc(b, '\\') < 0)
                return -1;
        } else if (is_ctl(c)) {
            c = ' ';
        }
        if (buf_putc(b, (char)c) < 0)
            return -1;
    }
    return buf_putc(b, ')');
}

/* the field being written: out, and where its current line started */
struct folder {
    struct buf *out;
    size_t line_start;
    const char *eol;
    bool first;
};

/* appends one piece (piece[0..n)), after a space or, when it would pass the fold column, a
 * line end and a tab */
static int put_piece(struct folder *f, const char *piece, size_t n)
{
    if (!f->first) {
        size_t col = f->out->len - f->line_start;
        if (col + 1 + n > FOLD_COLUMN) {
            if (buf_puts(f->out, f->eol) < 0)
                return -1;
            f->line_start = f->out->len;
        }
        if (buf_putc(f->out, f->line_start == f->out->len ? '\t' : ' ') < 0)
            return -1;
    }
    f->first = false;
    return buf_append(f->out, piece, n);
}

static bool token_name(const char *s)
{
    return s != NULL && all_of(s, strlen(s), is_token_char);
}

/* the pieces of one method's result into pieces (NUL-separated, in order); the last one gets
 * the ";" when another method follows */
static int method_pieces(const struct auth_results_method *m, bool more, struct buf *pieces,
                         char *err, size_t errlen)
{
    if (!token_name(m->method) || !token_name(m->result)) {
        errtext_setf(err, errlen, "Authentication-Results", m->method ? m->method : "(null)",
                     "method or result is not a token");
        return -1;
    }
    if (m->nprops > AUTH_RESULTS_PROPS_MAX) {
        errtext_setf(err, errlen, "Authentication-Results", m->method, "too many properties");
        return -1;
    }
    int rc = buf_puts(pieces, m->method) < 0 || buf_putc(pieces, '=') < 0 ||
             buf_puts(pieces, m->result) < 0 || buf_putc(pieces, 0) < 0;
    if (m->reason != NULL && m->reason[0] != '\0')
        rc |= put_comment(pieces, m->reason) < 0 || buf_putc(pieces, 0) < 0;
    for (size_t i = 0; i < m->nprops; i++) {
        const struct auth_results_prop *p = &m->props[i];
        if (!token_name(p->name) || strchr(p->name, '.') == NULL || p->value == NULL ||
            has_ctl(p->value)) {
            errtext_setf(err, errlen, "Authentication-Results", m->method,
                         "property %s: bad name or value", p->name ? p->name : "(null)");
            return -1;
        }
        rc |= buf_puts(pieces, p->name) < 0 || buf_putc(pieces, '=') < 0 ||
              put_value(pieces, p->value, true) < 0 || buf_putc(pieces, 0) < 0;
    }
    if (more && rc == 0) {
        buf_truncate(pieces, pieces->len - 1);   /* the ";" goes before the separator */
        rc |= buf_putc(pieces, ';') < 0 || buf_putc(pieces, 0) < 0;
    }
    if (rc != 0) {
        errtext_setf(err, errlen, "Authentication-Results", m->method, "too long");
        return -1;
    }
    return 0;
}

int auth_results_compose(const char *authserv_id, const struct auth_results_method *m,
                         size_t n, const char *eol, struct buf *out, char *err, size_t errlen)
{
    if (authserv_id == NULL || authserv_id[0] == '\0' || has_ctl(authserv_id)) {
        errtext_setf(err, errlen, "Authentication-Results", "authserv-id",
                     "empty or has a control character");
        return -1;
    }
    /* every piece, NUL-separated, then written folded; the bound is the caller's */
    struct buf pieces;
    buf_init(&pieces, out->max);
    int rc = buf_puts(&pieces, "Authentication-Results:") < 0 || buf_putc(&pieces, 0) < 0 ||
             put_value(&pieces, authserv_id, false) < 0 || buf_putc(&pieces, ';') < 0 ||
             buf_putc(&pieces, 0) < 0;
    if (n == 0 && rc == 0)
        rc = buf_puts(&pieces, "none") < 0 || buf_putc(&pieces, 0) < 0;
    if (rc != 0)
        errtext_setf(err, errlen, "Authentication-Results", "field", "too long");
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = method_pieces(&m[i], i + 1 < n, &pieces, err, errlen);
    if (rc != 0) {
        buf_free(&pieces);
        return -1;
    }
    size_t old = out->len;
    struct folder f = { out, out->len, eol, true };
    for (size_t at = 0; at < pieces.len && rc == 0;) {
        size_t len = strlen(pieces.data + at);
        rc = put_piece(&f, pieces.data + at, len);
        at += len + 1;
    }
    if (rc == 0)
        rc = buf_puts(out, eol);
    buf_free(&pieces);
    if (rc != 0) {
        buf_truncate(out, old);
        errtext_setf(err, errlen, "Authentication-Results", "field", "too long");
        return -1;
    }
    return 0;
}

/* ---- reading the authserv-id ---- */

/* past white space and comments from p; NULL when a comment is not closed (or nests deeper
 * than COMMENT_DEPTH_MAX) */
static const char *skip_cfws(const char *p, const char *e)
{
    int depth = 0;
    for (; p < e; p++) {
        if (depth == 0 && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '(')
            return p;
        if (*p == '(') {
            if (++depth > COMMENT_DEPTH_MAX)
                return NULL;
        } else if (*p == ')') {
            depth--;
        } else if (*p == '\\' && depth > 0) {
            if (++p == e)
                return NULL;
        }
    }
    return depth == 0 ? p : NULL;
}

/* a quoted-string at p (after its '"') unquoted into id; the byte after it, or NULL */
static const char *read_quoted(const char *p, const char *e, char *id, size_t idsize)
{
    size_t n = 0;
    for (; p < e && *p != '"'; p++) {
        if (*p == '\r' || *p == '\n')
            continue;   /* folding */
        if (*p == '\\' && ++p == e)
            return NULL;
        if ((is_ctl((unsigned char)*p) && *p != '\t') || n + 1 >= idsize)
            return NULL;   /* no NUL or control character gets into the id */
        id[n++] = *p;
    }
    if (p == e || n == 0)
        return NULL;
    id[n] = '\0';
    return p + 1;
}

static bool id_char(unsigned char c)
{
    return is_token_char(c) || c >= 0x80;
}

int auth_results_authserv_id(const char *value, size_t len, char *id, size_t idsize,
                             unsigned *version)
{
    const char *e = value + len;
    const char *p = skip_cfws(value, e);
    *version = 1;
    if (idsize > 0)
        id[0] = '\0';
    if (p == NULL || p == e || idsize == 0)
        return 0;
    if (*p == '"') {
        p = read_quoted(p + 1, e, id, idsize);
        if (p == NULL) {
            id[0] = '\0';
            return 0;
        }
    } else {
        const char *s = p;
        while (p < e && id_char((unsigned char)*p))
            p++;
        if (p == s || (size_t)(p - s) >= idsize)
            return 0;
        memcpy(id, s, (size_t)(p - s));
        id[p - s] = '\0';
    }
    /* an optional version: digits, then the end, CFWS or ";" */
    const char *v = skip_cfws(p, e);
    if (v == NULL || v == p)
        return 1;
    unsigned long n = 0;
    const char *d = v;
    while (d < e && *d >= '0' && *d <= '9' && d - v < 9)
        n = n * 10 + (unsigned long)(*d++ - '0');
    if (d > v && (d == e || (*d != '\0' && strchr(" \t\r\n(;", *d) != NULL)))
        *version = (unsigned)n;
    return 1;
}

bool auth_results_is_ours(const char *value, size_t len, const char *authserv_id)
{
    char id[AUTH_RESULTS_ID_MAX];
    unsigned version;
    return auth_results_authserv_id(value, len, id, sizeof id, &version) == 1 &&
           strcasecmp(id, authserv_id) == 0;
}

/* dkim_canon.c: the canonicalizations of dkim_canon.h. The body is a state machine over bytes
 * that holds back only what the next bytes decide (a CR, a run of white space, a run of empty
 * lines), so any split of the body gives the same hash. */
#include <string.h>
#include <strings.h>
#include "dkim_canon.h"
#include "dkim_sig.h"
#include "header_scanner.h"
#include "log.h"

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* simple: the bytes as they are, each bare LF made CRLF, a CRLF added if the field has none */
static int canon_simple(const char *f, size_t len, struct buf *out)
{
    for (size_t i = 0; i < len; i++) {
        if (f[i] == '\n' && (i == 0 || f[i - 1] != '\r') && buf_putc(out, '\r') < 0)
            return -1;
        if (buf_putc(out, f[i]) < 0)
            return -1;
    }
    if (len == 0 || f[len - 1] != '\n')
        return buf_append(out, "\r\n", 2);
    return 0;
}

/* relaxed (3.4.2): name in lower case without white space before the colon; the value
 * unfolded, runs of white space made one SP, none at its start or end */
static int canon_relaxed(const char *f, size_t len, struct buf *out)
{
    const char *colon = memchr(f, ':', len);
    size_t name = (size_t)(colon - f);
    while (name > 0 && is_wsp(f[name - 1]))
        name--;
    for (size_t i = 0; i < name; i++)
        if (buf_putc(out, lower(f[i])) < 0)
            return -1;
    if (buf_putc(out, ':') < 0)
        return -1;
    bool wsp = false, started = false;
    for (size_t i = name; i < len; i++) {
        char c = f[i];
        if (&f[i] <= colon || c == '\n' || (c == '\r' && i + 1 < len && f[i + 1] == '\n'))
            continue;
        if (is_wsp(c)) {
            wsp = true;
            continue;
        }
        if (wsp && started && buf_putc(out, ' ') < 0)
            return -1;
        wsp = false;
        started = true;
        if (buf_putc(out, c) < 0)
            return -1;
    }
    return buf_append(out, "\r\n", 2);
}

int dkim_canon_header(enum dkim_canon c, const char *field, size_t len, struct buf *out)
{
    if (memchr(field, ':', len) == NULL)
        return -1;
    size_t mark = out->len;
    int rc = c == DKIM_CANON_SIMPLE ? canon_simple(field, len, out)
                                    : canon_relaxed(field, len, out);
    if (rc < 0)
        buf_truncate(out, mark);
    return rc;
}

/* The lowest field named name in header[0..len) that is not one of taken[0..ntaken) (starts)
 * and is not the field at skip; false when there is none. */
static bool pick(const char *header, size_t len, const char *name, const size_t *taken,
                 size_t ntaken, size_t skip, struct header_field *out)
{
    struct header_fields it;
    struct header_field f;
    size_t nl = strlen(name);
    bool found = false;
    header_fields_init(&it, header, len);
    while (header_fields_next(&it, &f)) {
        if (f.name_len != nl || strncasecmp(header + f.start, name, nl) != 0 || f.start == skip)
            continue;
        bool used = false;
        for (size_t k = 0; k < ntaken && !used; k++)
            used = taken[k] == f.start;
        if (!used) {
            *out = f;
            found = true;
        }
    }
    return found;
}

int dkim_canon_signed_header(const char *header, size_t len,
                             const char (*names)[DKIM_FIELD_NAME_MAX], size_t count,
                             enum dkim_canon c, const char *sig_field, size_t sig_len,
                             struct buf *out)
{
    size_t taken[DKIM_HEADERS_MAX], ntaken = 0;
    size_t skip = sig_field >= header && sig_field < header + len ? (size_t)(sig_field - header)
                                                                  : (size_t)-1;
    size_t mark = out->len;
    struct buf stripped;
    struct header_field f;
    if (count > DKIM_HEADERS_MAX)
        return -1;
    for (size_t k = 0; k < count; k++) {
        if (!pick(header, len, names[k], taken, ntaken, skip, &f))
            continue;
        taken[ntaken++] = f.start;
        if (dkim_canon_header(c, header + f.start, f.end - f.start, out) < 0)
            goto fail;
    }
    buf_init(&stripped, sig_len + 2);
    int rc = dkim_sig_without_b(sig_field, sig_len, &stripped);
    if (rc == 0)
        rc = dkim_canon_header(c, stripped.data, stripped.len, out);
    buf_free(&stripped);
    if (rc < 0)
        goto fail;
    buf_truncate(out, out->len - 2);   /* its CRLF: 3.7 */
    return 0;
fail:
    buf_truncate(out, mark);
    return -1;
}

/* ---- the body ---- */

static void stage_flush(struct dkim_body_hash *h)
{
    if (h->staged > 0 && EVP_DigestUpdate(h->md, h->stage, h->staged) != 1)
        log_fatal("dkim: digest update failed");
    h->staged = 0;
}

/* Gives out canonical bytes: counted, and hashed up to the limit. */
static void emit(struct dkim_body_hash *h, const char *p, size_t n)
{
    size_t take = n;
    if (h->has_limit)
        take = h->length >= h->limit ? 0
               : h->limit - h->length < n ? (size_t)(h->limit - h->length) : n;
    h->length += n;
    for (size_t i = 0; i < take; i++) {
        if (h->staged == sizeof h->stage)
            stage_flush(h);
        h->stage[h->staged++] = (unsigned char)p[i];
    }
}

/* A byte that is not white space to collapse, nor a line end: the empty lines held back and
 * (relaxed) the white space before it are given out first. */
static void ordinary(struct dkim_body_hash *h, char c)
{
    if (!h->line_content) {
        for (; h->empty_lines > 0; h->empty_lines--)
            emit(h, "\r\n", 2);
        h->line_content = true;
    }
    if (h->wsp)
        emit(h, " ", 1);
    h->wsp = false;
    emit(h, &c, 1);
}

static void line_end(struct dkim_body_hash *h)
{
    if (h->line_content)
        emit(h, "\r\n", 2);
    else
        h->empty_lines++;   /* relaxed: a line of white space only is empty too */
    h->line_content = false;
    h->wsp = false;
}

void dkim_body_hash_init(struct dkim_body_hash *h, enum dkim_canon canon, enum dkim_hash hash,
                         bool has_limit, unsigned long long limit)
{
    memset(h, 0, sizeof *h);
    h->canon = canon;
    h->hash = hash;
    h->has_limit = has_limit;
    h->limit = limit;
    h->md = EVP_MD_CTX_new();
    if (h->md == NULL ||
        EVP_DigestInit_ex(h->md, hash == DKIM_HASH_SHA1 ? EVP_sha1() : EVP_sha256(), NULL) != 1)
        log_fatal("dkim: cannot start a digest");
}

void dkim_body_hash_feed(struct dkim_body_hash *h, const char *p, size_t n)
{
    bool relaxed = h->canon == DKIM_CANON_RELAXED;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (h->cr) {
            h->cr = false;
            if (c == '\n') {
                line_end(h);
                continue;
            }
            ordinary(h, '\r');
        }
        if (c == '\r')
            h->cr = true;
        else if (c == '\n')
            line_end(h);
        else if (relaxed && is_wsp(c))
            h->wsp = true;
        else
            ordinary(h, c);
    }
}

void dkim_body_hash_final(struct dkim_body_hash *h)
{
    if (h->cr) {
        h->cr = false;
        ordinary(h, '\r');
    }
    if (h->line_content)
        line_end(h);   /* the last line's missing CRLF */
    h->empty_lines = 0;
    if (h->canon == DKIM_CANON_SIMPLE && h->length == 0)
        emit(h, "\r\n", 2);
    stage_flush(h);
    unsigned len = 0;
    if (EVP_DigestFinal_ex(h->md, h->digest, &len) != 1)
        log_fatal("dkim: digest failed");
    h->digest_len = len;
}

void dkim_body_hash_free(struct dkim_body_hash *h)
{
    EVP_MD_CTX_free(h->md);
    h->md = NULL;
}

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
    size_t from = 0;   /* the run of bytes not copied yet */
    for (size_t i = 0; i < len; i++) {
        if (f[i] != '\n' || (i > 0 && f[i - 1] == '\r'))
            continue;
        if (buf_append(out, f + from, i - from) < 0 || buf_append(out, "\r", 1) < 0)
            return -1;
        from = i;
    }
    if (buf_append(out, f + from, len - from) < 0)
        return -1;
    if (len == 0 || f[len - 1] != '\n')
        return buf_append(out, "\r\n", 2);
    return 0;
}

static bool is_line_end(const char *f, size_t i, size_t len)
{
    return f[i] == '\n' || (f[i] == '\r' && i + 1 < len && f[i + 1] == '\n');
}

/* relaxed (3.4.2): name in lower case without white space before the colon; the value
 * unfolded, runs of white space made one SP, none at its start or end. Words are copied
 * whole. */
static int canon_relaxed(const char *f, size_t len, struct buf *out)
{
    const char *colon = memchr(f, ':', len);
    size_t name = (size_t)(colon - f);
    while (name > 0 && is_wsp(f[name - 1]))
        name--;
    char lowered[64];
    for (size_t i = 0; i < name; i += sizeof lowered) {
        size_t k = name - i < sizeof lowered ? name - i : sizeof lowered;
        for (size_t j = 0; j < k; j++)
            lowered[j] = lower(f[i + j]);
        if (buf_append(out, lowered, k) < 0)
            return -1;
    }
    if (buf_putc(out, ':') < 0)
        return -1;
    bool wsp = false, started = false;
    size_t i = (size_t)(colon - f) + 1;
    while (i < len) {
        if (is_line_end(f, i, len)) {
            i++;
            continue;
        }
        if (is_wsp(f[i])) {
            wsp = true;
            i++;
            continue;
        }
        size_t j = i + 1;   /* a word: up to white space or a line end */
        while (j < len && !is_wsp(f[j]) && !is_line_end(f, j, len))
            j++;
        if ((wsp && started && buf_putc(out, ' ') < 0) || buf_append(out, f + i, j - i) < 0)
            return -1;
        wsp = false;
        started = true;
        i = j;
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

/* The fields h= can pick (RFC 6376 5.4.2: each name from the bottom up, once per time h=
 * names it): of each name, only its last occurrences, as many as h= names it. At most
 * DKIM_HEADERS_MAX, so a header of many fields costs two walks and no memory. */
struct signed_fields {
    size_t rep[DKIM_HEADERS_MAX];     /* names[k] is names[rep[k]] (its first spelling) */
    size_t times[DKIM_HEADERS_MAX];   /* at rep: how often h= names it */
    size_t seen[DKIM_HEADERS_MAX];    /* at rep: occurrences in the header */
    struct field_ref {
        size_t start, end, rep;
        bool taken;
    } kept[DKIM_HEADERS_MAX];
    size_t nkept;
};

/* The index in names of the name of the field at f (its first spelling), or count: none. */
static size_t name_index(const char *f, size_t n, const char (*names)[DKIM_FIELD_NAME_MAX],
                         const struct signed_fields *sf, size_t count)
{
    for (size_t k = 0; k < count; k++)
        if (sf->rep[k] == k && strlen(names[k]) == n && strncasecmp(f, names[k], n) == 0)
            return k;
    return count;
}

static void signed_fields(const char *header, size_t len, size_t skip,
                          const char (*names)[DKIM_FIELD_NAME_MAX], size_t count,
                          struct signed_fields *sf)
{
    struct header_fields it;
    struct header_field f;
    sf->nkept = 0;
    for (size_t k = 0; k < count; k++) {
        size_t r = 0;
        while (strcasecmp(names[r], names[k]) != 0)
            r++;
        sf->rep[k] = r;
        sf->times[k] = sf->seen[k] = 0;
        sf->times[r]++;
    }
    header_fields_init(&it, header, len);   /* how often each name occurs */
    while (header_fields_next(&it, &f)) {
        size_t r = name_index(header + f.start, f.name_len, names, sf, count);
        if (f.start != skip && r < count)
            sf->seen[r]++;
    }
    header_fields_init(&it, header, len);   /* the last ones of each */
    while (header_fields_next(&it, &f)) {
        size_t r = name_index(header + f.start, f.name_len, names, sf, count);
        if (f.start == skip || r == count || sf->seen[r]-- > sf->times[r])
            continue;
        sf->kept[sf->nkept++] = (struct field_ref){ f.start, f.end, r, false };
    }
}

/* The lowest field not taken yet for names[k], or NULL. */
static struct field_ref *pick(struct signed_fields *sf, size_t k)
{
    for (size_t i = sf->nkept; i-- > 0;)
        if (!sf->kept[i].taken && sf->kept[i].rep == sf->rep[k])
            return &sf->kept[i];
    return NULL;
}

int dkim_canon_signed_header(const char *header, size_t len,
                             const char (*names)[DKIM_FIELD_NAME_MAX], size_t count,
                             enum dkim_canon c, const char *sig_field, size_t sig_len,
                             struct buf *out)
{
    size_t skip = sig_field >= header && sig_field < header + len ? (size_t)(sig_field - header)
                                                                  : (size_t)-1;
    size_t mark = out->len;
    struct buf stripped;
    struct signed_fields sf;
    if (count > DKIM_HEADERS_MAX)
        return -1;
    signed_fields(header, len, skip, names, count, &sf);
    for (size_t k = 0; k < count; k++) {
        struct field_ref *f = pick(&sf, k);
        if (f == NULL)
            continue;
        f->taken = true;
        if (dkim_canon_header(c, header + f->start, f->end - f->start, out) < 0)
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
    while (take > 0) {
        if (h->staged == sizeof h->stage)
            stage_flush(h);
        size_t room = sizeof h->stage - h->staged, k = take < room ? take : room;
        memcpy(h->stage + h->staged, p, k);
        h->staged += k;
        p += k;
        take -= k;
    }
}

/* A run of bytes that are neither white space to collapse nor line ends: the empty lines held
 * back and (relaxed) the white space before the run are given out first. */
static void ordinary(struct dkim_body_hash *h, const char *p, size_t n)
{
    if (!h->line_content) {
        for (; h->empty_lines > 0; h->empty_lines--)
            emit(h, "\r\n", 2);
        h->line_content = true;
    }
    if (h->wsp)
        emit(h, " ", 1);
    h->wsp = false;
    emit(h, p, n);
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

/* The bytes the body state machine must look at one by one; runs of others go out at once. */
static bool special(char c, bool relaxed)
{
    return c == '\r' || c == '\n' || (relaxed && is_wsp(c));
}

void dkim_body_hash_feed(struct dkim_body_hash *h, const char *p, size_t n)
{
    bool relaxed = h->canon == DKIM_CANON_RELAXED;
    size_t i = 0;
    while (i < n) {
        char c = p[i];
        if (h->cr) {
            h->cr = false;
            if (c == '\n') {
                line_end(h);
                i++;
                continue;
            }
            ordinary(h, "\r", 1);
        }
        if (!special(c, relaxed)) {
            size_t j = i + 1;
            while (j < n && !special(p[j], relaxed))
                j++;
            ordinary(h, p + i, j - i);
            i = j;
            continue;
        }
        if (c == '\r')
            h->cr = true;
        else if (c == '\n')
            line_end(h);
        else
            h->wsp = true;
        i++;
    }
}

void dkim_body_hash_final(struct dkim_body_hash *h)
{
    if (h->cr) {
        h->cr = false;
        ordinary(h, "\r", 1);
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

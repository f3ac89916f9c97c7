/* dkim_sign.c: the signer of dkim_sign.h. The field is composed with an empty b=, its header
 * data (dkim_canon_signed_header) signed, and the signature appended folded: what a verifier
 * strips from b= is exactly what was appended. */
#include <string.h>
#include <strings.h>
#include "base64.h"
#include "dkim_canon.h"
#include "dkim_key.h"
#include "dkim_sign.h"
#include "header_scanner.h"

#define FOLD_AT 78

const char *const dkim_sign_default_headers[] = {
    "From", "To", "Cc", "Subject", "Date", "Message-ID", "Reply-To", "In-Reply-To",
    "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-ID",
    "Content-Description", "Content-Disposition", "List-Id", "List-Help", "List-Unsubscribe",
    "List-Unsubscribe-Post", "List-Subscribe", "List-Post", "List-Owner", "List-Archive",
    NULL,
};

/* The field being composed, and the column its last line has reached. */
struct field {
    struct buf *out;
    size_t col;
};

/* Appends s: after a space, or on a new line ("\r\n\t") when it would pass FOLD_AT. */
static int put_word(struct field *f, const char *s, bool space)
{
    size_t n = strlen(s);
    if (f->col + n + 1 > FOLD_AT) {
        if (buf_puts(f->out, "\r\n\t") < 0)
            return -1;
        f->col = 8;
    } else if (space) {
        if (buf_putc(f->out, ' ') < 0)
            return -1;
        f->col++;
    }
    f->col += n;
    return buf_puts(f->out, s);
}

/* Appends a long value broken by folding where it reaches FOLD_AT (base64 allows white
 * space anywhere). */
static int put_chunks(struct field *f, const char *value)
{
    for (size_t i = 0, n = strlen(value); i < n;) {
        if (f->col >= FOLD_AT - 1) {
            if (buf_puts(f->out, "\r\n\t") < 0)
                return -1;
            f->col = 8;
        }
        size_t take = FOLD_AT - 1 - f->col;
        if (take > n - i)
            take = n - i;
        if (buf_append(f->out, value + i, take) < 0)
            return -1;
        f->col += take;
        i += take;
    }
    return 0;
}

static size_t count_fields(const char *header, size_t len, const char *name)
{
    struct header_fields it;
    struct header_field f;
    size_t n = 0, nl = strlen(name);
    header_fields_init(&it, header, len);
    while (header_fields_next(&it, &f))
        n += f.name_len == nl && strncasecmp(header + f.start, name, nl) == 0;
    return n;
}

/* h=: each name as often as it occurs (From once more), into names[]; -1 past the bound */
static long pick_names(const char *const *list, const char *header, size_t len,
                       char (*names)[DKIM_FIELD_NAME_MAX])
{
    size_t count = 0;
    for (size_t k = 0; list[k]; k++) {
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = strcasecmp(list[j], list[k]) == 0;
        if (seen || strlen(list[k]) >= DKIM_FIELD_NAME_MAX)
            continue;
        size_t n = count_fields(header, len, list[k]) + (strcasecmp(list[k], "from") == 0);
        for (; n > 0; n--) {
            if (count == DKIM_HEADERS_MAX)
                return -1;
            snprintf(names[count++], DKIM_FIELD_NAME_MAX, "%s", list[k]);
        }
    }
    return (long)count;
}

/* RSASSA-PKCS1-v1_5 with SHA-256 of data, or Ed25519 (pure) of SHA-256 of data (RFC 8463 3) */
static long sign_data(EVP_PKEY *key, const char *data, size_t n, unsigned char *sig,
                      size_t max)
{
    unsigned char digest[32];
    const unsigned char *msg = (const unsigned char *)data;
    const EVP_MD *md = EVP_sha256();
    if (dkim_key_type_of(key) == DKIM_KEY_ED25519) {
        if (EVP_Digest(data, n, digest, NULL, EVP_sha256(), NULL) != 1)
            return -1;
        msg = digest;
        n = sizeof digest;
        md = NULL;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = max;
    int ok = ctx && EVP_DigestSignInit(ctx, NULL, md, NULL, key) == 1 &&
             EVP_DigestSign(ctx, sig, &len, msg, n) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? (long)len : -1;
}

static int compose(const struct dkim_sign_params *p, char (*names)[DKIM_FIELD_NAME_MAX],
                   size_t count, const unsigned char *bh, size_t bh_len, bool ed25519,
                   struct field *f)
{
    char word[DKIM_DOMAIN_MAX + 8];
    if (buf_printf(f->out, "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed;",
                   ed25519 ? "ed25519-sha256" : "rsa-sha256") < 0)
        return -1;
    f->col = f->out->len;
    snprintf(word, sizeof word, "d=%s;", p->domain);
    if (put_word(f, word, true) < 0)
        return -1;
    snprintf(word, sizeof word, "s=%s;", p->selector);
    if (put_word(f, word, true) < 0)
        return -1;
    if (p->timestamp >= 0) {
        snprintf(word, sizeof word, "t=%lld;", p->timestamp);
        if (put_word(f, word, true) < 0)
            return -1;
    }
    for (size_t k = 0; k < count; k++) {
        snprintf(word, sizeof word, "%s%s%s", k == 0 ? "h=" : "", names[k],
                 k + 1 < count ? ":" : ";");
        if (put_word(f, word, k == 0) < 0)
            return -1;
    }
    char bhtag[BASE64_LEN(DKIM_DIGEST_MAX) + 5] = "bh=";
    base64_encode(bh, bh_len, bhtag + 3);
    strcat(bhtag, ";");
    /* b= starts a line of its own: its value is appended once signed */
    if (put_word(f, bhtag, true) < 0 || buf_puts(f->out, "\r\n\tb=") < 0)
        return -1;
    f->col = 10;
    return 0;
}

int dkim_sign(const struct dkim_sign_params *p, const char *header, size_t len,
              const unsigned char *bh, size_t bh_len, struct buf *out, char *err, size_t errlen)
{
    char names[DKIM_HEADERS_MAX][DKIM_FIELD_NAME_MAX];
    int type = dkim_key_type_of(p->key);
    if (type < 0)
        return dkim_reason(err, errlen, "dkim sign: the key is neither RSA nor Ed25519");
    if (bh_len == 0 || bh_len > DKIM_DIGEST_MAX || strlen(p->domain) >= DKIM_DOMAIN_MAX ||
        strlen(p->selector) >= DKIM_DOMAIN_MAX)
        return dkim_reason(err, errlen, "dkim sign: bad body hash, domain or selector");
    long count = pick_names(p->headers ? p->headers : dkim_sign_default_headers, header, len,
                            names);
    if (count < 0)
        return dkim_reason(err, errlen, "dkim sign: more than %d fields to sign",
                           DKIM_HEADERS_MAX);
    size_t mark = out->len;
    struct field f = { out, 0 };
    unsigned char sig[DKIM_SIG_MAX];
    long n = -1;
    if (compose(p, names, (size_t)count, bh, bh_len, type == DKIM_KEY_ED25519, &f) == 0) {
        /* relaxed: at most the header, the field and a CRLF per name */
        struct buf data;
        buf_init(&data, len + (out->len - mark) + 2 * DKIM_HEADERS_MAX + 16);
        if (dkim_canon_signed_header(header, len, (const char (*)[DKIM_FIELD_NAME_MAX])names,
                                     (size_t)count, DKIM_CANON_RELAXED, out->data + mark,
                                     out->len - mark, &data) == 0)
            n = sign_data(p->key, data.data, data.len, sig, sizeof sig);
        buf_free(&data);
    }
    char b64[BASE64_LEN(DKIM_SIG_MAX) + 1];
    if (n > 0) {
        base64_encode(sig, (size_t)n, b64);
        if (put_chunks(&f, b64) == 0 && buf_puts(out, "\r\n") == 0)
            return 0;
    }
    buf_truncate(out, mark);
    return dkim_reason(err, errlen, n > 0 ? "dkim sign: the field passes its buffer's bound"
                                          : "dkim sign: signing failed");
}

/* spf_macro.c: SPF macro strings (RFC 7208 section 7): the syntax check the record parser
 * runs on every domain-spec and modifier value, and the expansion the evaluator runs on them
 * and on explanation texts. No I/O: the caller hands in every value, %{p} too. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "errtext.h"
#include "spf_macro.h"

#define DIGITS_MAX 999   /* a larger transformer keeps every part anyway */

/* One piece of a macro string: a literal text, or a macro letter with its transformers. */
struct piece {
    bool macro;              /* a %{...}; else text[0..textlen) is literal */
    const char *text;
    size_t textlen;
    char letter;             /* lower case */
    bool upper;              /* the letter was upper case: URL-escape the value */
    int digits;              /* 0: keep every part */
    bool reverse;
    char delims[8];          /* "" means "." */
};

static bool literal_char(unsigned char c, enum spf_macro_use use)
{
    return (c >= 0x21 && c <= 0x7e && c != '%') || (c == ' ' && use == SPF_MACRO_EXPLANATION);
}

/* The piece at s[*pos..len), moving *pos past it. 0, or -1 with the reason. */
static int next_piece(const char *s, size_t len, size_t *pos, enum spf_macro_use use,
                      struct piece *p, char *err, size_t errlen)
{
    size_t i = *pos;
    memset(p, 0, sizeof *p);
    unsigned char c = (unsigned char)s[i];
    if (c != '%') {
        if (!literal_char(c, use)) {
            snprintf(err, errlen, "character 0x%02x not allowed in a macro string", c);
            return -1;
        }
        p->text = s + i;
        p->textlen = 1;
        *pos = i + 1;
        return 0;
    }
    if (i + 1 >= len) {
        snprintf(err, errlen, "'%%' at the end of a macro string");
        return -1;
    }
    static const char *const escapes[] = { "%%", "%_", "%-" };
    static const char *const expansions[] = { "%", " ", "%20" };
    for (int k = 0; k < 3; k++)
        if (s[i + 1] == escapes[k][1]) {
            p->text = expansions[k];
            p->textlen = strlen(expansions[k]);
            *pos = i + 2;
            return 0;
        }
    if (s[i + 1] != '{') {
        snprintf(err, errlen, "'%%' followed by '%c' (only %%{, %%%%, %%_ and %%-)",
                 isprint((unsigned char)s[i + 1]) ? s[i + 1] : '?');
        return -1;
    }
    i += 2;
    char letter = i < len ? (char)tolower((unsigned char)s[i]) : '\0';
    if (letter == '\0' || !strchr("slodiphcrtv", letter)) {
        snprintf(err, errlen, "unknown macro letter in %%{...}");
        return -1;
    }
    if (use != SPF_MACRO_EXPLANATION && strchr("crt", letter)) {
        snprintf(err, errlen, "macro %%{%c} is allowed only in an explanation", letter);
        return -1;
    }
    p->macro = true;
    p->letter = letter;
    p->upper = isupper((unsigned char)s[i]) != 0;
    i++;
    if (i < len && s[i] == '0') {
        snprintf(err, errlen, "a macro transformer must not be 0 or start with 0");
        return -1;
    }
    while (i < len && isdigit((unsigned char)s[i])) {
        p->digits = p->digits * 10 + (s[i] - '0');
        if (p->digits > DIGITS_MAX)
            p->digits = DIGITS_MAX;
        i++;
    }
    if (i < len && (s[i] == 'r' || s[i] == 'R')) {
        p->reverse = true;
        i++;
    }
    size_t nd = 0;
    while (i < len && strchr(".-+,/_=", s[i]) && s[i] != '\0') {
        if (nd + 1 < sizeof p->delims && !strchr(p->delims, s[i]))
            p->delims[nd++] = s[i];
        i++;
    }
    if (i >= len || s[i] != '}') {
        snprintf(err, errlen, "malformed macro %%{%c...} (no closing brace)", letter);
        return -1;
    }
    *pos = i + 1;
    return 0;
}

int spf_macro_check(const char *s, size_t len, enum spf_macro_use use, bool *ends_in_macro,
                    char *err, size_t errlen)
{
    bool last_macro = false;
    for (size_t pos = 0; pos < len;) {
        struct piece p;
        size_t start = pos;
        if (next_piece(s, len, &pos, use, &p, err, errlen) != 0)
            return -1;
        last_macro = s[start] == '%';
    }
    if (ends_in_macro)
        *ends_in_macro = last_macro;
    return 0;
}

bool spf_macro_uses_p(const char *s, size_t len)
{
    char err[ERR_TEXT_MAX];
    for (size_t pos = 0; pos < len;) {
        struct piece p;
        if (next_piece(s, len, &pos, SPF_MACRO_EXPLANATION, &p, err, sizeof err) != 0)
            return false;
        if (p.macro && p.letter == 'p')
            return true;
    }
    return false;
}

static const char *value_of(const struct spf_macro_values *v, char letter)
{
    const char *x = NULL;
    switch (letter) {
    case 's': x = v->s; break;
    case 'l': x = v->l; break;
    case 'o': x = v->o; break;
    case 'd': x = v->d; break;
    case 'i': x = v->i; break;
    case 'p': x = v->p; break;
    case 'v': x = v->v; break;
    case 'h': x = v->h; break;
    case 'c': x = v->c; break;
    case 'r': x = v->r; break;
    case 't': x = v->t; break;
    }
    return x ? x : "";
}

/* Appends text (URL-escaped when escape) to out[*n..size). false when it does not fit. */
static bool put(char *out, size_t size, size_t *n, const char *text, size_t len, bool escape)
{
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)text[k];
        char buf[4] = { (char)c, 0, 0, 0 };
        size_t w = 1;
        if (escape && !(isalnum(c) || strchr("-._~", c))) {
            snprintf(buf, sizeof buf, "%%%02X", c);
            w = 3;
        }
        if (*n + w >= size)
            return false;
        memcpy(out + *n, buf, w);
        *n += w;
    }
    return true;
}

/* The value of one macro with its transformers, appended to out. */
static bool put_macro(char *out, size_t size, size_t *n, const struct piece *p,
                      const struct spf_macro_values *v)
{
    const char *value = value_of(v, p->letter);
    const char *delims = p->delims[0] ? p->delims : ".";
    size_t len = strlen(value), nparts = 1;
    for (size_t k = 0; k < len; k++)
        nparts += strchr(delims, value[k]) != NULL;
    size_t *start = malloc((nparts + 1) * sizeof *start);
    if (start == NULL)
        return false;
    size_t np = 0;
    start[np++] = 0;
    for (size_t k = 0; k < len; k++)
        if (strchr(delims, value[k]))
            start[np++] = k + 1;
    start[np] = len + 1;   /* so part j is value[start[j] .. start[j+1]-1) */
    size_t keep = p->digits && (size_t)p->digits < nparts ? (size_t)p->digits : nparts;
    bool ok = true;
    for (size_t m = 0; ok && m < keep; m++) {
        /* kept parts, in output order: the last keep of the (possibly reversed) list */
        size_t j = p->reverse ? keep - 1 - m : nparts - keep + m;
        if (m > 0)
            ok = put(out, size, n, ".", 1, false);
        if (ok)
            ok = put(out, size, n, value + start[j], start[j + 1] - 1 - start[j], p->upper);
    }
    free(start);
    return ok;
}

int spf_macro_expand(const char *s, size_t len, enum spf_macro_use use,
                     const struct spf_macro_values *v, char *out, size_t size, char *err,
                     size_t errlen)
{
    size_t n = 0;
    if (size == 0)
        return -1;
    out[0] = '\0';
    for (size_t pos = 0; pos < len;) {
        struct piece p;
        if (next_piece(s, len, &pos, use, &p, err, errlen) != 0) {
            out[n] = '\0';
            return -1;
        }
        bool ok = p.macro ? put_macro(out, size, &n, &p, v)
                          : put(out, size, &n, p.text, p.textlen, false);
        if (!ok) {
            out[n < size ? n : size - 1] = '\0';
            snprintf(err, errlen, "macro expansion longer than %zu characters", size - 1);
            return -1;
        }
    }
    out[n] = '\0';
    return 0;
}

void spf_macro_fit_name(char *name)
{
    size_t len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        name[--len] = '\0';
    char *p = name;
    while (len > 253) {
        char *dot = strchr(p, '.');
        if (dot == NULL) {   /* one label longer than a name can be: nothing of it fits */
            p += len;
            len = 0;
            break;
        }
        len -= (size_t)(dot + 1 - p);
        p = dot + 1;
    }
    memmove(name, p, len + 1);
}

/* aliasparse.c: the aliases(5) / .forward value tokenizer of aliasparse.h: items split at
 * commas outside double quotes, trimmed, unquoted when wholly quoted, then classified by their
 * first characters. Nothing here looks anything up or touches a file. */
#include "aliasparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "mem.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* A control character other than the white space the trimming removes. */
static bool is_control(unsigned char c)
{
    return (c < 0x20 && !is_space((char)c)) || c == 0x7f;
}

static void trim(const char **p, size_t *n)
{
    while (*n > 0 && is_space(**p)) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*p)[*n - 1]))
        (*n)--;
}

static int fail(char *err, size_t errlen, const char *what, const char *item, size_t n)
{
    snprintf(err, errlen, "%s: \"%.*s%s\"", what, (int)(n > 60 ? 60 : n), item,
             n > 60 ? "..." : "");
    return -1;
}

static void add(struct alias_list *l, enum alias_item_type type, const char *text, size_t n,
                const char *dsn)
{
    l->item = xrealloc(l->item, (l->count + 1) * sizeof *l->item);
    struct alias_item *it = &l->item[l->count++];
    memset(it, 0, sizeof *it);
    it->type = type;
    it->text = xstrndup(text, n);
    snprintf(it->dsn, sizeof it->dsn, "%s", dsn ? dsn : "");
}

/* Whether p[0..n) is a DSN code for an error: item: 4.x.y or 5.x.y, 1-3 digits each part. */
static bool is_error_code(const char *p, size_t n)
{
    if (n < 5 || n > 9 || (p[0] != '4' && p[0] != '5') || p[1] != '.')
        return false;
    size_t i = 2, digits = 0, dots = 0;
    for (; i < n; i++) {
        if (p[i] == '.') {
            if (digits == 0 || ++dots > 1)
                return false;
            digits = 0;
        } else if (p[i] >= '0' && p[i] <= '9') {
            if (++digits > 3)
                return false;
        } else {
            return false;
        }
    }
    return dots == 1 && digits > 0;
}

static int add_error(struct alias_list *l, const char *p, size_t n)
{
    trim(&p, &n);
    size_t word = 0;
    while (word < n && !is_space(p[word]))
        word++;
    if (is_error_code(p, word)) {
        char dsn[16];
        snprintf(dsn, sizeof dsn, "%.*s", (int)word, p);
        const char *rest = p + word;
        size_t rn = n - word;
        trim(&rest, &rn);
        add(l, ALIAS_ERROR, rest, rn, dsn);
    } else {
        add(l, ALIAS_ERROR, p, n, "5.0.0");
    }
    return 0;
}

/* An address: no control characters, no white space outside quotes, "<addr>" unwrapped. */
static int add_address(struct alias_list *l, const char *p, size_t n, char *err, size_t errlen)
{
    if (n >= 2 && p[0] == '<' && p[n - 1] == '>') {
        p++;
        n -= 2;
        trim(&p, &n);
    }
    if (n == 0)
        return fail(err, errlen, "empty address", "<>", 2);
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        if (quoted && p[i] == '\\' && i + 1 < n) {
            i++;
            continue;
        }
        if (p[i] == '"')
            quoted = !quoted;
        else if (!quoted && (is_space(p[i]) || p[i] == '<' || p[i] == '>'))
            return fail(err, errlen, "not an address", p, n);
    }
    add(l, ALIAS_ADDRESS, p, n, NULL);
    return 0;
}

/* Classifies one trimmed, non-empty item. */
static int add_item(struct alias_list *l, const char *raw, size_t n, char *err, size_t errlen)
{
    if (n > ALIAS_ITEM_MAX)
        return fail(err, errlen, "item too long", raw, n);
    for (size_t i = 0; i < n; i++)
        if (is_control((unsigned char)raw[i]) || raw[i] == '\0')
            return fail(err, errlen, "control character in item", raw, n);
    if (l->count >= ALIAS_ITEMS_MAX)
        return fail(err, errlen, "too many items", raw, n);

    /* a wholly quoted item: its unescaped inside decides what it is */
    char inner[ALIAS_ITEM_MAX + 1];
    const char *s = raw;
    size_t sn = n;
    if (n >= 2 && raw[0] == '"') {
        size_t i = 1, o = 0;
        for (; i < n && raw[i] != '"'; i++) {
            if (raw[i] == '\\' && i + 1 < n)
                i++;
            inner[o++] = raw[i];
        }
        if (i == n - 1) {
            s = inner;
            sn = o;
            trim(&s, &sn);
        }
    }
    if (sn > 0 && s[0] == '|') {
        const char *c = s + 1;
        size_t cn = sn - 1;
        trim(&c, &cn);
        if (cn == 0)
            return fail(err, errlen, "empty command", raw, n);
        add(l, ALIAS_COMMAND, c, cn, NULL);
        return 0;
    }
    if (sn > 0 && s[0] == '/') {
        add(l, ALIAS_FILE, s, sn, NULL);
        return 0;
    }
    if (sn >= 9 && strncasecmp(s, ":include:", 9) == 0) {
        const char *pth = s + 9;
        size_t pn = sn - 9;
        trim(&pth, &pn);
        if (pn == 0 || pth[0] != '/')
            return fail(err, errlen, ":include: needs an absolute path", raw, n);
        add(l, ALIAS_INCLUDE, pth, pn, NULL);
        return 0;
    }
    if (sn >= 6 && strncasecmp(s, "error:", 6) == 0)
        return add_error(l, s + 6, sn - 6);
    if (sn > 0 && s[0] == '\\') {
        const char *u = s + 1;
        size_t un = sn - 1;
        for (size_t i = 0; i < un; i++)
            if (is_space(u[i]) || u[i] == '"' || u[i] == '/')
                return fail(err, errlen, "not a user name", raw, n);
        if (un == 0)
            return fail(err, errlen, "empty user name", raw, n);
        add(l, ALIAS_MAILBOX, u, un, NULL);
        return 0;
    }
    /* an address keeps its quotes: "john doe"@example.org is one local part */
    return add_address(l, raw, n, err, errlen);
}

/* Splits p[0..n) at commas outside double quotes. */
static int parse_list(const char *p, size_t n, struct alias_list *l, char *err, size_t errlen)
{
    size_t start = 0;
    while (start <= n) {
        size_t i = start;
        bool quoted = false;
        for (; i < n; i++) {
            if (quoted && p[i] == '\\' && i + 1 < n) {
                i++;
                continue;
            }
            if (p[i] == '"')
                quoted = !quoted;
            else if (p[i] == ',' && !quoted)
                break;
        }
        const char *item = p + start;
        size_t len = (i < n ? i : n) - start;
        trim(&item, &len);
        if (quoted)
            return fail(err, errlen, "unterminated quoted string", item, len);
        if (len > 0 && add_item(l, item, len, err, errlen) < 0)
            return -1;
        start = i + 1;
    }
    return 0;
}

int alias_parse(const char *text, size_t len, bool as_file, struct alias_list *out, char *err,
                size_t errlen)
{
    err[0] = '\0';
    if (!as_file)
        return parse_list(text, len, out, err, errlen);
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        const char *line = text + pos;
        size_t n = end - pos;
        trim(&line, &n);
        if (n > 0 && line[0] != '#' && parse_list(line, n, out, err, errlen) < 0)
            return -1;
        pos = end + 1;
    }
    return 0;
}

void alias_list_free(struct alias_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->item[i].text);
    free(l->item);
    l->item = NULL;
    l->count = 0;
}

const char *alias_type_name(enum alias_item_type t)
{
    switch (t) {
    case ALIAS_ADDRESS: return "address";
    case ALIAS_FILE: return "file";
    case ALIAS_COMMAND: return "command";
    case ALIAS_INCLUDE: return "include";
    case ALIAS_ERROR: return "error";
    default: return "mailbox";
    }
}

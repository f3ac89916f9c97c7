/* addrlist.c: the address-list parser of addrlist.h. One pass splits the text at commas and
 * semicolons outside quoted strings, comments and angle brackets; each element becomes the
 * text inside its last <...> when it has one (a name-addr), else the element itself (an
 * addr-spec), without comments and with white space outside quotes removed. */
#include <stdbool.h>
#include <string.h>
#include "addrlist.h"

struct element {
    char text[ADDRLIST_ADDR_MAX + 1];   /* the addr-spec outside <...>, comments dropped */
    size_t len;
    char angle[ADDRLIST_ADDR_MAX + 1];  /* inside the last <...> */
    size_t angle_len;
    bool has_angle, in_angle, too_long, control;
    bool after_angle;                   /* "<a@x>" was closed: only white space may follow */
};

static void add(char *buf, size_t *len, bool *too_long, char c)
{
    if (*len >= ADDRLIST_ADDR_MAX) {
        *too_long = true;
        return;
    }
    buf[(*len)++] = c;
}

static void put(struct element *e, char c)
{
    if (e->after_angle && !e->in_angle)
        e->control = true;   /* "<a@x> b@y": a missing comma; refused rather than guessed */
    if ((unsigned char)c < 32 || c == 127) {
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            e->control = true;
        return;
    }
    if (e->in_angle)
        add(e->angle, &e->angle_len, &e->too_long, c);
    else
        add(e->text, &e->len, &e->too_long, c);
}

/* Drops an old source route: "@a,@b:user@c" -> "user@c". */
static const char *strip_route(const char *s, size_t *len)
{
    if (*len && s[0] == '@') {
        const char *colon = memchr(s, ':', *len);
        if (colon) {
            *len -= (size_t)(colon + 1 - s);
            return colon + 1;
        }
    }
    return s;
}

static int finish(struct element *e, int (*cb)(const char *, int, void *), void *arg, int *count)
{
    const char *a = e->has_angle ? e->angle : e->text;
    size_t n = e->has_angle ? e->angle_len : e->len;
    a = strip_route(a, &n);
    char out[ADDRLIST_ADDR_MAX + 1];
    memcpy(out, a, n);
    out[n] = '\0';
    bool bad = e->too_long || e->control;
    memset(e, 0, sizeof *e);
    if (n == 0 && !bad)
        return 0;
    if (cb(out, bad, arg) != 0)
        return -1;
    (*count)++;
    return 0;
}

int addrlist_parse(const char *text, size_t len, int (*cb)(const char *addr, int bad, void *arg),
                   void *arg)
{
    struct element e;
    memset(&e, 0, sizeof e);
    int count = 0;
    int comment = 0;        /* nesting depth of (...) */
    bool quoted = false;    /* inside "..." */
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (quoted) {
            if (c == '\\' && i + 1 < len) {
                put(&e, c);
                put(&e, text[++i]);
                continue;
            }
            if (c == '"')
                quoted = false;
            if (c == '\t' || c == ' ')
                add(e.in_angle ? e.angle : e.text, e.in_angle ? &e.angle_len : &e.len,
                    &e.too_long, c);   /* white space inside quotes is part of the address */
            else
                put(&e, c);
            continue;
        }
        if (comment) {
            if (c == '\\' && i + 1 < len)
                i++;
            else if (c == '(')
                comment++;
            else if (c == ')')
                comment--;
            continue;
        }
        switch (c) {
        case '"':
            quoted = true;
            put(&e, c);
            break;
        case '(':
            comment = 1;
            break;
        case '<':
            /* a new angle address replaces what came before as the element's address */
            e.in_angle = true;
            e.has_angle = true;
            e.angle_len = 0;
            break;
        case '>':
            e.in_angle = false;
            e.after_angle = true;
            break;
        case ':':
            if (e.in_angle) {
                put(&e, c);    /* a source route */
            } else {
                /* "group name:" starts a group: what came before was its name */
                e.len = 0;
            }
            break;
        case ',':
        case ';':
            if (e.in_angle && c == ',') {
                put(&e, c);    /* a source route "@a,@b:" */
                break;
            }
            if (finish(&e, cb, arg, &count) < 0)
                return -1;
            break;
        case ' ':
        case '\t':
        case '\r':
        case '\n':
            break;   /* folding and the white space between words */
        default:
            put(&e, c);
        }
    }
    if (finish(&e, cb, arg, &count) < 0)
        return -1;
    return count;
}

/* header_scanner.c: the header scanner of header_scanner.h. A field line is a name of printable
 * ASCII other than the colon, optional white space (RFC 5322 4.5.3, obsolete, as Postfix
 * accepts it) and a colon; a line starting with a space or a tab continues the field before
 * it. The scanner is a state machine over bytes, so a feed may stop anywhere. */
#include <string.h>
#include "header_scanner.h"

enum {
    S_LINE_START,   /* at the start of a line (zero: the initial state) */
    S_CR,           /* a CR at the start of a line: an empty line if an LF follows */
    S_NAME,         /* in the name at the start of a line */
    S_NAME_WSP,     /* white space after the name: only more of it or the colon may follow */
    S_REST,         /* the rest of a field line or of a continuation line, up to its LF */
    S_DONE,         /* the header ended */
};

static const struct {
    const char *name;   /* lower case */
    enum header_name id;
} known_names[] = {
    { "received", HEADER_RECEIVED },
    { "date", HEADER_DATE },
    { "message-id", HEADER_MESSAGE_ID },
    { "from", HEADER_FROM },
    { "sender", HEADER_SENDER },
    { "to", HEADER_TO },
    { "cc", HEADER_CC },
    { "bcc", HEADER_BCC },
    { "delivered-to", HEADER_DELIVERED_TO },
    { "mime-version", HEADER_MIME_VERSION },
    { "content-type", HEADER_CONTENT_TYPE },
    { "content-transfer-encoding", HEADER_CONTENT_TRANSFER_ENCODING },
};

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A name matched in lower case: n bytes of a (already lower case) against the table. */
static enum header_name lookup(const char *a, size_t n)
{
    for (size_t i = 0; i < sizeof known_names / sizeof known_names[0]; i++)
        if (strlen(known_names[i].name) == n && memcmp(known_names[i].name, a, n) == 0)
            return known_names[i].id;
    return HEADER_OTHER;
}

enum header_name header_name_of(const char *name, size_t n)
{
    char low[HEADER_NAME_KEEP];
    if (n > sizeof low)
        return HEADER_OTHER;   /* longer than any name that matters */
    for (size_t i = 0; i < n; i++)
        low[i] = lower(name[i]);
    return lookup(low, n);
}

static bool is_name_byte(unsigned char c)
{
    return c > 32 && c < 127 && c != ':';
}

static bool is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

void header_scanner_init(struct header_scanner *s)
{
    memset(s, 0, sizeof *s);
}

static enum header_event ended(struct header_scanner *s, enum header_end by, size_t end,
                               size_t body)
{
    s->state = S_DONE;
    s->ended_by = by;
    s->end = end;
    s->body = body;
    return HEADER_EV_END;
}

/* The colon after a name: the line is a field. value is the offset after the colon. */
static enum header_event field(struct header_scanner *s, size_t value, struct header_field *f)
{
    s->state = S_REST;
    s->field_seen = true;
    f->name = s->name_len <= sizeof s->name ? lookup(s->name, s->name_len) : HEADER_OTHER;
    f->start = s->line;
    f->name_len = s->name_len;
    f->value = value;
    f->end = 0;
    return HEADER_EV_FIELD;
}

enum header_event header_scanner_feed(struct header_scanner *s, const char *p, size_t n,
                                      size_t *used, struct header_field *f)
{
    enum header_event ev = HEADER_EV_MORE;
    size_t i = 0;
    while (ev == HEADER_EV_MORE && i < n && s->state != S_DONE) {
        unsigned char c = (unsigned char)p[i];
        size_t at = s->offset + i;   /* the offset of c */
        switch (s->state) {
        case S_LINE_START:
            s->line = at;
            if (c == '\n') {
                ev = ended(s, HEADER_END_BLANK, at, at + 1);
                i++;
            } else if (c == '\r') {
                s->state = S_CR;
                i++;
            } else if (is_wsp(c) && s->field_seen) {
                s->state = S_REST;
                i++;
            } else if (is_name_byte(c)) {
                s->state = S_NAME;
                s->name[0] = lower((char)c);
                s->name_len = 1;
                i++;
            } else {
                ev = ended(s, HEADER_END_BODY, at, at);
            }
            break;
        case S_CR:
            if (c == '\n') {
                ev = ended(s, HEADER_END_BLANK, s->line, at + 1);
                i++;
            } else {
                ev = ended(s, HEADER_END_BODY, s->line, s->line);
            }
            break;
        case S_NAME:
        case S_NAME_WSP:
            if (c == ':') {
                ev = field(s, at + 1, f);
                i++;
            } else if (is_wsp(c)) {
                s->state = S_NAME_WSP;
                i++;
            } else if (s->state == S_NAME && is_name_byte(c)) {
                if (s->name_len < sizeof s->name)
                    s->name[s->name_len] = lower((char)c);
                s->name_len++;
                i++;
            } else {
                ev = ended(s, HEADER_END_BODY, s->line, s->line);
            }
            break;
        case S_REST: {
            /* the bulk of the header: the rest of the line in one step */
            const char *nl = memchr(p + i, '\n', n - i);
            if (nl == NULL) {
                i = n;
            } else {
                i = (size_t)(nl - p) + 1;
                s->state = S_LINE_START;
                s->line = s->offset + i;
            }
            break;
        }
        }
    }
    s->offset += i;
    *used = i;
    return s->state == S_DONE ? HEADER_EV_END : ev;
}

enum header_event header_scanner_finish(struct header_scanner *s)
{
    switch (s->state) {
    case S_DONE:
        break;
    case S_CR:
        ended(s, HEADER_END_BLANK, s->line, s->offset);
        break;
    case S_NAME:
    case S_NAME_WSP:
        ended(s, HEADER_END_BODY, s->line, s->line);
        break;
    default:   /* at a line start, or in a field: the header is all the input */
        ended(s, HEADER_END_INPUT, s->offset, s->offset);
        break;
    }
    return HEADER_EV_END;
}

size_t header_scanner_size(const struct header_scanner *s)
{
    if (s->state == S_DONE)
        return s->end;
    if (s->state == S_CR)
        return s->line;   /* a line starting with CR is never a field */
    return s->offset;
}

void header_fields_init(struct header_fields *it, const char *p, size_t len)
{
    memset(it, 0, sizeof *it);
    it->p = p;
    it->len = len;
}

/* The next event of the whole buffer: a field, or the end (the input's end ends it). */
static enum header_event next_event(struct header_fields *it, struct header_field *f)
{
    size_t used;
    enum header_event ev = header_scanner_feed(&it->scan, it->p + it->pos, it->len - it->pos,
                                               &used, f);
    it->pos += used;
    return ev == HEADER_EV_MORE ? header_scanner_finish(&it->scan) : ev;
}

bool header_fields_next(struct header_fields *it, struct header_field *f)
{
    if (!it->pending && next_event(it, &it->next) != HEADER_EV_FIELD)
        return false;
    /* a field ends where the next one starts, or where the header ends */
    *f = it->next;
    it->pending = next_event(it, &it->next) == HEADER_EV_FIELD;
    f->end = it->pending ? it->next.start : it->scan.end;
    return true;
}

size_t header_unfold(const char *v, size_t n, char *out, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\n' || (v[i] == '\r' && i + 1 < n && v[i + 1] == '\n'))
            continue;
        if (k + 1 < size)
            out[k++] = v[i];
    }
    out[k] = '\0';
    return k;
}

bool header_too_many_hops(int received, long long hopcount_limit)
{
    return hopcount_limit > 0 && received > hopcount_limit;
}

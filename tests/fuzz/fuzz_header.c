/* fuzz_header.c: libFuzzer target for the header scanner (mail/header_scanner.c): fed whole,
 * byte by byte and in uneven pieces it gives the same fields and the same end; every offset
 * stays inside the input; each field is a valid name, white space and a colon at a line start;
 * the iterator's fields cover the header from its first byte to its end; unfolding leaves no
 * line end and stays in its buffer. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_check.h"
#include "header_scanner.h"

struct result {
    struct header_field *fields;
    size_t n;
    struct header_scanner end;   /* the scanner once the header ended */
};

/* Scans data[0..size) in pieces: piece(i) gives the length of the i-th (0: all the rest). */
static void scan(const char *data, size_t size, size_t (*piece)(size_t i), struct result *r)
{
    struct header_scanner s;
    header_scanner_init(&s);
    r->n = 0;
    size_t pos = 0;
    bool ended = false;
    for (size_t i = 0; pos < size && !ended; i++) {
        size_t want = piece(i);
        size_t to = want == 0 || want > size - pos ? size : pos + want;
        while (pos < to && !ended) {
            size_t used;
            struct header_field f;
            enum header_event ev = header_scanner_feed(&s, data + pos, to - pos, &used, &f);
            FUZZ_CHECK(used <= to - pos);
            pos += used;
            FUZZ_CHECK(s.offset == pos);
            FUZZ_CHECK(header_scanner_size(&s) <= s.offset);
            if (ev == HEADER_EV_FIELD)
                r->fields[r->n++] = f;
            else if (ev == HEADER_EV_END)
                ended = true;
            else
                FUZZ_CHECK(pos == to);
        }
    }
    if (!ended)
        FUZZ_CHECK(header_scanner_finish(&s) == HEADER_EV_END);
    r->end = s;
}

static size_t whole(size_t i)
{
    (void)i;
    return 0;
}

static size_t one_byte(size_t i)
{
    (void)i;
    return 1;
}

static size_t uneven(size_t i)
{
    static const size_t sizes[] = { 3, 1, 7, 2, 13, 1, 1, 5 };
    return sizes[i % (sizeof sizes / sizeof sizes[0])];
}

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static void check_field(const char *data, size_t size, const struct header_field *f)
{
    FUZZ_CHECK(f->name_len > 0 && f->start + f->name_len < f->value && f->value <= size);
    FUZZ_CHECK(f->start == 0 || data[f->start - 1] == '\n');
    for (size_t i = f->start; i < f->start + f->name_len; i++) {
        unsigned char c = (unsigned char)data[i];
        FUZZ_CHECK(c > 32 && c < 127 && c != ':');
    }
    for (size_t i = f->start + f->name_len; i + 1 < f->value; i++)
        FUZZ_CHECK(is_wsp(data[i]));
    FUZZ_CHECK(data[f->value - 1] == ':');
    FUZZ_CHECK(f->name == header_name_of(data + f->start, f->name_len));
}

static void check_end(const char *data, size_t size, const struct header_scanner *s)
{
    FUZZ_CHECK(s->end <= s->body && s->body <= size);
    switch (s->ended_by) {
    case HEADER_END_BLANK:
        /* CRLF, LF, or a lone CR at the very end */
        FUZZ_CHECK((s->body - s->end == 1 && (data[s->end] == '\n' ||
                                              (data[s->end] == '\r' && s->body == size))) ||
                   (s->body - s->end == 2 && data[s->end] == '\r' && data[s->end + 1] == '\n'));
        break;
    case HEADER_END_BODY:
        FUZZ_CHECK(s->body == s->end && s->end < size);
        break;
    case HEADER_END_INPUT:
        FUZZ_CHECK(s->end == size && s->body == size);
        break;
    default:
        FUZZ_CHECK(!"an end");
    }
    FUZZ_CHECK(s->end == 0 || data[s->end - 1] == '\n' || s->end == size);
}

static bool same(const struct result *a, const struct result *b)
{
    if (a->n != b->n || a->end.ended_by != b->end.ended_by || a->end.end != b->end.end ||
        a->end.body != b->end.body)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->fields[i].name != b->fields[i].name || a->fields[i].start != b->fields[i].start ||
            a->fields[i].name_len != b->fields[i].name_len ||
            a->fields[i].value != b->fields[i].value)
            return false;
    return true;
}

/* The iterator: the same fields, back to back from 0 to the header's end. */
static void check_iterator(const char *data, size_t size, const struct result *r)
{
    struct header_fields it;
    struct header_field f;
    size_t k = 0, at = 0;
    char unfolded[64];
    header_fields_init(&it, data, size);
    while (header_fields_next(&it, &f)) {
        FUZZ_CHECK(k < r->n);
        FUZZ_CHECK(f.start == r->fields[k].start && f.value == r->fields[k].value);
        FUZZ_CHECK(f.name == r->fields[k].name && f.name_len == r->fields[k].name_len);
        FUZZ_CHECK(f.start == at && f.value <= f.end && f.end <= size);
        size_t n = header_unfold(data + f.value, f.end - f.value, unfolded, sizeof unfolded);
        FUZZ_CHECK(n < sizeof unfolded && n <= f.end - f.value && unfolded[n] == '\0');
        FUZZ_CHECK(memchr(unfolded, '\n', n) == NULL);
        at = f.end;
        k++;
    }
    FUZZ_CHECK(k == r->n && at == r->end.end);
    FUZZ_CHECK(!header_fields_next(&it, &f));
    FUZZ_CHECK(it.scan.ended_by == r->end.ended_by && it.scan.body == r->end.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    const char *data = (const char *)bytes;
    /* a field takes at least two bytes (a name and a colon) */
    struct header_field *store = malloc(3 * (size / 2 + 1) * sizeof *store);
    FUZZ_CHECK(store != NULL);
    struct result r[3] = { { store, 0, { 0 } },
                           { store + size / 2 + 1, 0, { 0 } },
                           { store + 2 * (size / 2 + 1), 0, { 0 } } };
    scan(data, size, whole, &r[0]);
    scan(data, size, one_byte, &r[1]);
    scan(data, size, uneven, &r[2]);
    FUZZ_CHECK(same(&r[0], &r[1]) && same(&r[0], &r[2]));
    for (size_t i = 0; i < r[0].n; i++) {
        check_field(data, size, &r[0].fields[i]);
        FUZZ_CHECK(i == 0 || r[0].fields[i].start >= r[0].fields[i - 1].value);
        FUZZ_CHECK(r[0].fields[i].value <= r[0].end.end);
    }
    check_end(data, size, &r[0].end);
    check_iterator(data, size, &r[0]);
    free(store);
    return 0;
}

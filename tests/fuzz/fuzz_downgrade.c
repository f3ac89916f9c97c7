/* fuzz_downgrade.c: libFuzzer target for the streamed 8-bit to 7-bit converter
 * (mail/mime_downgrade.c). The first byte chooses the lookahead and whether the rest is the body
 * of a fixed text/plain leaf; the next two, where the input is cut in two. Whatever the input:
 * fed whole, cut in two or byte by byte it gives the same output and results; each feed stays
 * within mime_downgrade_out_bound and holds no more than its bounds; 8-bit output is reported
 * exactly; nothing converted means the output is the input; a result within the lookahead is
 * the result of holding everything; and a leaf converted decodes back to its body, in lines of
 * at most 76 characters, with no 8-bit byte left unless the leaf was given up. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_check.h"
#include "mime_downgrade.h"

#define INPUT_MAX 8192
#define LEAF_HEADER "Content-Type: text/plain\r\n\r\n"

struct run {
    struct buf out;
    bool changed, eightbit_left, unconverted, too_deep;
};

static bool has_8bit(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] > 127)
            return true;
    return false;
}

/* Feeds in[0..len) in pieces of `piece` bytes, the first one cut at `cut` (0: no cut). */
static void run(const char *in, size_t len, size_t lookahead, size_t cut, size_t piece,
                struct run *r)
{
    struct mime_downgrade st;
    mime_downgrade_init(&st, lookahead);
    buf_init(&r->out, BUF_UNBOUNDED);
    size_t at = 0;
    while (at < len) {
        size_t n = at == 0 && cut > 0 ? cut : piece;
        if (n > len - at)
            n = len - at;
        size_t before = r->out.len, bound = mime_downgrade_out_bound(&st, n);
        FUZZ_CHECK(mime_downgrade_feed(&st, in + at, n, &r->out) == 0);
        FUZZ_CHECK(r->out.len - before <= bound);
        FUZZ_CHECK(st.hold.len <= lookahead && st.line.len <= MIME_DOWNGRADE_LINE_MAX + 1);
        at += n;
    }
    size_t before = r->out.len, bound = mime_downgrade_out_bound(&st, 0);
    FUZZ_CHECK(mime_downgrade_finish(&st, &r->out) == 0);
    FUZZ_CHECK(r->out.len - before <= bound);
    FUZZ_CHECK(mime_downgrade_feed(&st, "x", 1, &r->out) == -1);   /* finished */
    r->changed = mime_downgrade_changed(&st);
    r->eightbit_left = mime_downgrade_8bit_left(&st);
    r->unconverted = st.unconverted_8bit;
    r->too_deep = st.too_deep;
    mime_downgrade_free(&st);
    FUZZ_CHECK(r->eightbit_left == has_8bit(r->out.data, r->out.len));
}

static void check_same(const struct run *a, const struct run *b)
{
    FUZZ_CHECK(a->out.len == b->out.len && memcmp(a->out.data, b->out.data, a->out.len) == 0);
    FUZZ_CHECK(a->changed == b->changed && a->eightbit_left == b->eightbit_left);
    FUZZ_CHECK(a->unconverted == b->unconverted && a->too_deep == b->too_deep);
}

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The converted leaf: its header, then the quoted-printable of body[0..len). */
static void check_leaf(const struct buf *out, const char *body, size_t len)
{
    static const char head[] = "Content-Type: text/plain\r\nMIME-Version: 1.0\r\n"
                               "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    FUZZ_CHECK(out->len >= sizeof head - 1 && memcmp(out->data, head, sizeof head - 1) == 0);
    const char *p = out->data + sizeof head - 1, *end = out->data + out->len;
    size_t k = 0, col = 0;
    while (p < end) {
        FUZZ_CHECK((unsigned char)*p < 128);
        if (p[0] == '\r' && end - p >= 2 && p[1] == '\n') {
            FUZZ_CHECK(k + 2 <= len && body[k] == '\r' && body[k + 1] == '\n');
            k += 2;
            p += 2;
            col = 0;
        } else if (p[0] == '=') {
            FUZZ_CHECK(end - p >= 3);
            if (p[1] == '\r' && p[2] == '\n') {   /* a soft line break */
                col = 0;
            } else {
                FUZZ_CHECK(hex(p[1]) >= 0 && hex(p[2]) >= 0);
                FUZZ_CHECK(k < len && (unsigned char)body[k] == hex(p[1]) * 16 + hex(p[2]));
                k++;
                col += 3;
            }
            p += 3;
        } else {
            FUZZ_CHECK(*p != '\r' && *p != '\n');
            FUZZ_CHECK(k < len && body[k] == *p);
            k++;
            p++;
            col++;
        }
        FUZZ_CHECK(col <= 76);
    }
    FUZZ_CHECK(k == len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char input[INPUT_MAX + sizeof LEAF_HEADER];
    static const size_t lookaheads[] = { SIZE_MAX, 16, 64, 300 };
    if (size < 3)
        return 0;
    size_t lookahead = lookaheads[data[0] & 3];
    bool leaf = data[0] & 4;
    size_t cut = (size_t)data[1] << 8 | data[2];
    size_t n = size - 3 < INPUT_MAX ? size - 3 : INPUT_MAX;
    size_t len = 0;
    if (leaf) {
        memcpy(input, LEAF_HEADER, sizeof LEAF_HEADER - 1);
        len = sizeof LEAF_HEADER - 1;
    }
    memcpy(input + len, data + 3, n);
    len += n;
    cut = len > 0 ? cut % len : 0;

    struct run whole, two, bytes, all;
    run(input, len, lookahead, 0, len ? len : 1, &whole);
    run(input, len, lookahead, cut, len ? len : 1, &two);
    check_same(&whole, &two);
    run(input, len, lookahead, 0, 1, &bytes);
    check_same(&whole, &bytes);
    if (!whole.changed)
        FUZZ_CHECK(whole.out.len == len && memcmp(whole.out.data, input, len) == 0);
    run(input, len, SIZE_MAX, 0, len ? len : 1, &all);
    if (!whole.unconverted) {   /* (an entity given up may hide a nesting too deep) */
        FUZZ_CHECK(whole.out.len == all.out.len &&
                   memcmp(whole.out.data, all.out.data, all.out.len) == 0);
        FUZZ_CHECK(whole.changed == all.changed);
    }
    if (leaf && whole.changed)
        check_leaf(&whole.out, input + sizeof LEAF_HEADER - 1, len - (sizeof LEAF_HEADER - 1));
    if (leaf && !whole.unconverted)
        FUZZ_CHECK(!whole.eightbit_left);
    buf_free(&whole.out);
    buf_free(&two.out);
    buf_free(&bytes.out);
    buf_free(&all.out);
    return 0;
}

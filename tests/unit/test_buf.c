/* test_buf.c: unit tests of the bounded buffer (common/buf.c): growth, the hard size bound
 * (a failed append changes nothing), and the editing operations. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "unit.h"

static void assert_buf(const struct buf *b, const char *want)
{
    ck_assert_uint_eq(b->len, strlen(want));
    ck_assert_str_eq(b->data, want);
    ck_assert_uint_gt(b->cap, b->len);
    ck_assert_int_eq(b->data[b->len], '\0');
}

START_TEST(init_empty)
{
    struct buf b;
    buf_init(&b, 100);
    ck_assert_ptr_nonnull(b.data);
    assert_buf(&b, "");
    ck_assert_uint_eq(b.max, 100);
    buf_free(&b);
    ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(append_grows)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    char want[10001];
    for (int i = 0; i < 10000; i++) {
        char c = (char)('a' + i % 26);
        ck_assert_int_eq(buf_append(&b, &c, 1), 0);
        want[i] = c;
    }
    want[10000] = '\0';
    assert_buf(&b, want);
    buf_free(&b);
}
END_TEST

START_TEST(append_binary)
{
    struct buf b;
    buf_init(&b, 16);
    ck_assert_int_eq(buf_append(&b, "a\0b", 3), 0);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_mem_eq(b.data, "a\0b", 4);
    ck_assert_int_eq(buf_append(&b, NULL, 0), 0);
    ck_assert_uint_eq(b.len, 3);
    buf_free(&b);
}
END_TEST

START_TEST(puts_putc_printf)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    ck_assert_int_eq(buf_puts(&b, "hello"), 0);
    ck_assert_int_eq(buf_putc(&b, ','), 0);
    ck_assert_int_eq(buf_printf(&b, " %s %d %05.1f", "world", -42, 3.14159), 0);
    assert_buf(&b, "hello, world -42 003.1");
    /* a printf bigger than any initial allocation */
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(buf_printf(&b, "[%s]", big), 0);
    ck_assert_uint_eq(b.len, 22 + 2 + 4999);
    ck_assert_int_eq(b.data[22], '[');
    ck_assert_int_eq(b.data[b.len - 1], ']');
    ck_assert_int_eq(b.data[b.len], '\0');
    buf_free(&b);
}
END_TEST

START_TEST(max_bound)
{
    struct buf b;
    buf_init(&b, 8);
    ck_assert_int_eq(buf_puts(&b, "12345"), 0);
    ck_assert_int_eq(buf_puts(&b, "6789"), -1);
    assert_buf(&b, "12345");
    ck_assert_int_eq(buf_printf(&b, "%d", 6789), -1);
    assert_buf(&b, "12345");
    ck_assert_int_eq(buf_append(&b, "6789", 4), -1);
    assert_buf(&b, "12345");
    ck_assert_int_eq(buf_puts(&b, "678"), 0);   /* exactly max is allowed */
    assert_buf(&b, "12345678");
    ck_assert_int_eq(buf_putc(&b, '9'), -1);
    assert_buf(&b, "12345678");
    ck_assert_int_eq(buf_puts(&b, ""), 0);
    /* a length that would overflow len + n must fail, not wrap */
    ck_assert_int_eq(buf_append(&b, "x", (size_t)-1), -1);
    assert_buf(&b, "12345678");
    buf_free(&b);
}
END_TEST

START_TEST(max_zero)
{
    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(buf_putc(&b, 'a'), -1);
    ck_assert_int_eq(buf_puts(&b, ""), 0);
    assert_buf(&b, "");
    buf_free(&b);
}
END_TEST

START_TEST(truncate_shrinks)
{
    struct buf b;
    buf_init(&b, 100);
    buf_puts(&b, "abcdef");
    buf_truncate(&b, 3);
    assert_buf(&b, "abc");
    buf_truncate(&b, 3);
    assert_buf(&b, "abc");
    buf_truncate(&b, 0);
    assert_buf(&b, "");
    buf_puts(&b, "xy");
    assert_buf(&b, "xy");
    buf_free(&b);
}
END_TEST

START_TEST(consume)
{
    struct buf b;
    buf_init(&b, 100);
    buf_puts(&b, "line1\nline2\n");
    buf_consume(&b, 6);
    assert_buf(&b, "line2\n");
    buf_consume(&b, 0);
    assert_buf(&b, "line2\n");
    buf_consume(&b, 6);
    assert_buf(&b, "");
    buf_puts(&b, "abc");
    buf_consume(&b, 50);
    assert_buf(&b, "");
    /* space freed by consuming is usable again under the bound */
    buf_free(&b);
    buf_init(&b, 4);
    buf_puts(&b, "abcd");
    ck_assert_int_eq(buf_putc(&b, 'e'), -1);
    buf_consume(&b, 2);
    ck_assert_int_eq(buf_puts(&b, "ef"), 0);
    assert_buf(&b, "cdef");
    buf_free(&b);
}
END_TEST

START_TEST(set_and_reset)
{
    struct buf b;
    buf_init(&b, 5);
    ck_assert_int_eq(buf_set(&b, "abc"), 0);
    assert_buf(&b, "abc");
    ck_assert_int_eq(buf_set(&b, "vwxyz"), 0);
    assert_buf(&b, "vwxyz");
    ck_assert_int_eq(buf_set(&b, "toolong"), -1);
    assert_buf(&b, "vwxyz");
    ck_assert_int_eq(buf_set(&b, ""), 0);
    assert_buf(&b, "");
    buf_puts(&b, "abc");
    size_t cap = b.cap;
    buf_reset(&b);
    assert_buf(&b, "");
    ck_assert_uint_eq(b.cap, cap);
    buf_free(&b);
}
END_TEST

/* steal hands over the memory; the buffer must be initialised again before reuse, and
 * freeing it meanwhile must not free the stolen string */
START_TEST(steal)
{
    struct buf b;
    buf_init(&b, 50);
    buf_puts(&b, "taken");
    char *s = buf_steal(&b);
    ck_assert_str_eq(s, "taken");
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);
    ck_assert_str_eq(s, "taken");
    buf_init(&b, 50);
    ck_assert_int_eq(buf_puts(&b, "again"), 0);
    assert_buf(&b, "again");
    ck_assert_ptr_ne(b.data, s);
    ck_assert_str_eq(s, "taken");
    free(s);
    buf_free(&b);
}
END_TEST

static Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, init_empty);
    tcase_add_test(tc, append_grows);
    tcase_add_test(tc, append_binary);
    tcase_add_test(tc, puts_putc_printf);
    tcase_add_test(tc, max_bound);
    tcase_add_test(tc, max_zero);
    tcase_add_test(tc, truncate_shrinks);
    tcase_add_test(tc, consume);
    tcase_add_test(tc, set_and_reset);
    tcase_add_test(tc, steal);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(buf_suite());
}

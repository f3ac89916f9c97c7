/* test_spf_dns.c: unit tests of the resolver's pure parts SPF's look-ups added (common/dns_mx.c):
 * TXT record data into strings and their concatenation (several strings, none, empty ones,
 * malformed lengths, the bounds), and names in presentation format (escapes, case kept,
 * malformed and too long names). */
#include <check.h>
#include <string.h>
#include "dns_impl.h"
#include "unit.h"

START_TEST(txt_strings)
{
    static const unsigned char rdata[] = "\x07v=spf1 \x04-all\x00\x03" "abc";
    struct dns_record r;
    struct dns_txt_string s[8];
    char text[64];
    ck_assert_int_eq(dns_parse_txt(rdata, sizeof rdata - 1, &r, s, 8, text, 63), 0);
    ck_assert_uint_eq(r.nstrings, 4);
    ck_assert_uint_eq(r.textlen, 14);
    ck_assert_str_eq(r.text, "v=spf1 -allabc");
    ck_assert(!r.cut);
    ck_assert_uint_eq(s[1].offset, 7);
    ck_assert_uint_eq(s[1].len, 4);
    ck_assert_uint_eq(s[2].len, 0);
    ck_assert_uint_eq(s[3].offset, 11);
    /* no strings at all */
    ck_assert_int_eq(dns_parse_txt(rdata, 0, &r, s, 8, text, 63), 0);
    ck_assert_uint_eq(r.nstrings, 0);
    ck_assert_uint_eq(r.textlen, 0);
    /* a length past the end */
    ck_assert_int_eq(dns_parse_txt((const unsigned char *)"\x05" "abc", 4, &r, s, 8, text, 63),
                     -1);
    /* bounds: text and strings cut at a string's edge */
    ck_assert_int_eq(dns_parse_txt(rdata, sizeof rdata - 1, &r, s, 8, text, 10), 0);
    ck_assert(r.cut);
    ck_assert_str_eq(r.text, "v=spf1 ");
    ck_assert_int_eq(dns_parse_txt(rdata, sizeof rdata - 1, &r, s, 2, text, 63), 0);
    ck_assert(r.cut);
    ck_assert_uint_eq(r.nstrings, 2);
    ck_assert_str_eq(r.text, "v=spf1 -all");
}
END_TEST

START_TEST(names_in_presentation_format)
{
    char out[DNS_NAME_MAX];
    static const unsigned char plain[] = "\x04Mail\x07" "Example\x03" "com";
    ck_assert_int_eq(dns_wire_name_text(plain, sizeof plain, out), (int)sizeof plain);
    ck_assert_str_eq(out, "Mail.Example.com");
    static const unsigned char odd[] = "\x0b" "foo:bar/baz\x03" "a.b\x04" "x y\\";
    ck_assert_int_eq(dns_wire_name_text(odd, sizeof odd, out), (int)sizeof odd);
    ck_assert_str_eq(out, "foo:bar/baz.a\\.b.x\\032y\\\\");
    ck_assert_int_eq(dns_wire_name_text((const unsigned char *)"", 1, out), 1);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(dns_wire_name_text((const unsigned char *)"\x03" "ab", 3, out), -1);
    ck_assert_int_eq(dns_wire_name_text((const unsigned char *)"\x40", 1, out), -1);
    /* 100 labels of two bytes that each need an escape: too long in text */
    unsigned char wire[400];
    size_t n = 0;
    for (int i = 0; i < 100; i++) {
        wire[n++] = 2;
        wire[n++] = 1;
        wire[n++] = 2;
    }
    wire[n++] = 0;
    ck_assert_int_eq(dns_wire_name_text(wire, n, out), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("spf_dns");
    TCase *tc = tcase_create("spf_dns");
    tcase_add_test(tc, txt_strings);
    tcase_add_test(tc, names_in_presentation_format);
    suite_add_tcase(s, tc);
    return unit_run(s);
}

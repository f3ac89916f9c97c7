/* test_address.c: unit tests of mail/address.c: where the domain starts (quoted '@'), the
 * split (unquoting, escapes, case folding, 8-bit bytes, empty parts, final dots, address
 * literals, the length bound), extensions (several and multi-byte delimiters, at the start
 * and the end, list names), the table keys in Postfix's order, and writing an address back
 * with quotes only where they are needed. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "address.h"
#include "unit.h"

static struct mail_address a;

/* Splits s into a, from an exact-size copy so that the sanitizers see a read past its end;
 * the test fails when address_split does. */
static void split(const char *s)
{
    char *copy = strdup(s);
    ck_assert_ptr_nonnull(copy);
    memset(&a, 0x5a, sizeof a);
    int rc = address_split(copy, &a);
    free(copy);
    ck_assert_msg(rc == 0, "address_split(%s)", s);
}

START_TEST(domain_starts_at_the_last_unquoted_at)
{
    const char *s = "\"a@b\"@x.example";
    ck_assert_ptr_eq(address_at(s), s + 5);
    s = "a@b@x.example";
    ck_assert_ptr_eq(address_at(s), s + 3);
    s = "\"a\\\"@b\"@x";   /* "a\"@b"@x: the escaped quote does not end the string */
    ck_assert_ptr_eq(address_at(s), s + 7);
    ck_assert_ptr_null(address_at("\"a@b\""));
    ck_assert_ptr_null(address_at("postmaster"));
    ck_assert_ptr_null(address_at(""));
    s = "x@";
    ck_assert_ptr_eq(address_at(s), s + 1);
}
END_TEST

/* address, local part, domain */
static const char *const split_cases[][3] = {
    { "Joe+Lists@MX.Example.ORG", "joe+lists", "mx.example.org" },
    { "postmaster", "postmaster", "" },
    { "POSTMASTER", "postmaster", "" },
    { "a@b@X.example", "a@b", "x.example" },
    /* address literals keep their brackets; only ASCII letters are folded */
    { "u@[192.0.2.1]", "u", "[192.0.2.1]" },
    { "u@[IPv6:2001:DB8::1]", "u", "[ipv6:2001:db8::1]" },
    /* quotes that are not needed go */
    { "\"user\"@vdomain.example", "user", "vdomain.example" },
    { "\"User\"@VDomain.Example", "user", "vdomain.example" },
    /* quoted local parts with a space, an '@', escapes */
    { "\"a b\"@x", "a b", "x" },
    { "\"x;touch /tmp/a@b\"@mx.example", "x;touch /tmp/a@b", "mx.example" },
    { "\"a\\\"b\"@x", "a\"b", "x" },
    { "\"al\\ice\"@x", "alice", "x" },
    { "\"a\\\\\"@x", "a\\", "x" },
    { "\"a\\\"@b\"@x", "a\"@b", "x" },
    /* no domain: the '@' inside the quotes is part of the local part */
    { "\"a@b\"", "a@b", "" },
    /* only a local part that is one quoted string is unquoted */
    { "\"a\"b@x", "\"a\"b", "x" },
    { "a\"b\"@x", "a\"b\"", "x" },
    /* an unclosed quote hides the '@': all of it is the local part */
    { "\"a@x", "\"a@x", "" },
    { "\"a\\\"@x", "\"a\\\"@x", "" },
    /* empty parts */
    { "@x.example", "", "x.example" },
    { "\"\"@x.example", "", "x.example" },
    { "x@", "x", "" },
    { "@", "", "" },
    { "", "", "" },
    { "\"\"", "", "" },
    /* final dots go, but a domain is never left empty */
    { "u@Example.ORG.", "u", "example.org" },
    { "u@example.org..", "u", "example.org" },
    { "u@.", "u", "." },
    /* 8-bit bytes (UTF-8) are kept as they are; the ASCII around them is folded */
    { "J\xc3\xbcRGEN@B\xc3\xa4r.Example", "j\xc3\xbcrgen", "b\xc3\xa4r.example" },
    { "\"\xff\xfe\"@x", "\xff\xfe", "x" },
};

START_TEST(splits)
{
    const char *const *c = split_cases[_i];
    split(c[0]);
    ck_assert_msg(strcmp(a.local, c[1]) == 0 && strcmp(a.domain, c[2]) == 0,
                  "%s: local \"%s\", domain \"%s\"", c[0], a.local, a.domain);
}
END_TEST

START_TEST(split_bound)
{
    char s[ADDRESS_MAX + 1];
    memset(s, 'a', sizeof s);
    s[ADDRESS_MAX - 1] = '\0';   /* 511 bytes: fits */
    s[100] = '@';
    split(s);
    ck_assert_uint_eq(strlen(a.local), 100);
    ck_assert_uint_eq(strlen(a.domain), ADDRESS_MAX - 1 - 101);
    s[ADDRESS_MAX - 1] = 'a';
    s[ADDRESS_MAX] = '\0';       /* 512 bytes: too long */
    ck_assert_int_eq(address_split(s, &a), -1);
    ck_assert_str_eq(a.local, "");
    ck_assert_str_eq(a.domain, "");
}
END_TEST

/* local part, delimiters, "user|ext" (the local part alone when it has no extension) */
static const char *const extension_cases[][3] = {
    { "joe+lists", "+", "joe|lists" },
    { "joe+lists", "", "joe+lists" },
    { "joe", "+", "joe" },
    { "", "+", "" },
    /* several delimiters (recipient_delimiter may hold several bytes): the first one found
     * cuts, and later ones belong to the extension */
    { "a-b+c", "+-", "a|b+c" },
    { "a+b-c", "+-", "a|b-c" },
    { "joe+a+b", "+", "joe|a+b" },
    /* a delimiter first never cuts an empty user off; one at the end gives an empty one */
    { "+x", "+", "+x" },
    { "+joe-a+b", "+-", "+joe|a+b" },
    { "joe+", "+", "joe|" },
    { "+", "+", "+" },
    /* with '-' among the delimiters, mailing list names stay whole */
    { "owner-list", "-", "owner-list" },
    { "owner-list+x", "+-", "owner-list+x" },
    { "list-request", "+-", "list-request" },
    { "-request", "-", "-request" },
    { "owner-list", "+", "owner-list" },
    { "owner+list", "+", "owner|list" },
    { "my-list-requests", "-", "my|list-requests" },
    /* 8-bit delimiters and local parts */
    { "j\xc3\xbcrgen\xa7x", "\xa7", "j\xc3\xbcrgen|x" },
};

START_TEST(extensions)
{
    const char *const *c = extension_cases[_i];
    char got[256], *local = strdup(c[0]);   /* exact size, for the sanitizers */
    ck_assert_ptr_nonnull(local);
    const char *d = address_extension(local, c[1]);
    if (d) {
        ck_assert_ptr_nonnull(strchr(c[1], *d));
        snprintf(got, sizeof got, "%.*s|%s", (int)(d - local), local, d + 1);
    } else {
        snprintf(got, sizeof got, "%s", local);
    }
    free(local);
    ck_assert_msg(strcmp(got, c[2]) == 0, "%s with \"%s\": %s", c[0], c[1], got);
}
END_TEST

START_TEST(no_delimiters)
{
    ck_assert_ptr_null(address_extension("joe+lists", NULL));
}
END_TEST

static char keys[ADDRESS_KEYS_MAX][ADDRESS_KEY_MAX];

static const struct {
    const char *address, *delims;
    enum address_keys which;
    const char *keys;   /* separated by '|' */
} key_cases[] = {
    /* virtual(5) order */
    { "alice+tag@virt.example", "+", ADDRESS_KEYS_ADDRESS,
      "alice+tag@virt.example|alice@virt.example|@virt.example" },
    { "Alice+Tag@Virt.Example.", "+", ADDRESS_KEYS_ADDRESS,
      "alice+tag@virt.example|alice@virt.example|@virt.example" },
    /* without a delimiter setting the extension stays */
    { "alice+tag@virt.example", "", ADDRESS_KEYS_ADDRESS, "alice+tag@virt.example|@virt.example" },
    { "a-b+c@d", "+-", ADDRESS_KEYS_ADDRESS, "a-b+c@d|a@d|@d" },
    /* a delimiter first, or only in the domain, cuts nothing */
    { "+x@d", "+", ADDRESS_KEYS_ADDRESS, "+x@d|@d" },
    { "x@d+e", "+", ADDRESS_KEYS_ADDRESS, "x@d+e|@d+e" },
    /* quoted local parts are looked up unquoted */
    { "\"user\"@vdomain", "+", ADDRESS_KEYS_ADDRESS, "user@vdomain|@vdomain" },
    { "\"a b+c\"@x", "+", ADDRESS_KEYS_ADDRESS, "a b+c@x|a b@x|@x" },
    /* no domain: the local part alone; an empty local part: the catch-all alone */
    { "postmaster", "+", ADDRESS_KEYS_ADDRESS, "postmaster" },
    { "joe+x", "+", ADDRESS_KEYS_ADDRESS, "joe+x" },
    { "x@", "+", ADDRESS_KEYS_ADDRESS, "x" },
    { "@d", "+", ADDRESS_KEYS_ADDRESS, "@d" },
    { "\"\"@d", "+", ADDRESS_KEYS_ADDRESS, "@d" },
    /* aliases(5) and local recipients: the local part, with then without its extension */
    { "Joe+Lists@mx.example", "+", ADDRESS_KEYS_LOCAL, "joe+lists|joe" },
    { "joe+lists", "", ADDRESS_KEYS_LOCAL, "joe+lists" },
    { "\"joe\"@x", "+", ADDRESS_KEYS_LOCAL, "joe" },
    { "owner-list@x", "-", ADDRESS_KEYS_LOCAL, "owner-list" },
    { "+alice@x", "+-", ADDRESS_KEYS_LOCAL, "+alice" },
    { "@x", "+", ADDRESS_KEYS_LOCAL, "" },
};

START_TEST(lookup_keys)
{
    char got[ADDRESS_KEYS_MAX * ADDRESS_KEY_MAX] = "";
    split(key_cases[_i].address);
    int n = address_lookup_keys(&a, key_cases[_i].delims, key_cases[_i].which, keys);
    ck_assert_int_ge(n, 1);
    ck_assert_int_le(n, ADDRESS_KEYS_MAX);
    for (int i = 0; i < n; i++) {
        strcat(got, i ? "|" : "");
        strcat(got, keys[i]);
    }
    ck_assert_msg(strcmp(got, key_cases[_i].keys) == 0, "%s: %s", key_cases[_i].address, got);
}
END_TEST

START_TEST(key_of_the_longest_parts)
{
    /* keys have room for the longest local part and domain a struct holds */
    memset(a.local, 'l', sizeof a.local);
    a.local[ADDRESS_MAX - 1] = '\0';
    memset(a.domain, 'd', sizeof a.domain);
    a.domain[ADDRESS_MAX - 1] = '\0';
    char key[ADDRESS_KEY_MAX];
    address_key(&a, key);
    ck_assert_uint_eq(strlen(key), 2 * (ADDRESS_MAX - 1) + 1);
    ck_assert_int_eq(key[ADDRESS_MAX - 1], '@');
    ck_assert_int_eq(address_lookup_keys(&a, "", ADDRESS_KEYS_ADDRESS, keys), 2);
    ck_assert_str_eq(keys[0], key);
    ck_assert_str_eq(keys[1], key + ADDRESS_MAX - 1);
}
END_TEST

/* address, address_join of its split */
static const char *const join_cases[][2] = {
    /* quotes that are not needed go, the others stay */
    { "\"user\"@vdomain", "user@vdomain" },
    { "\"first.last\"@x", "first.last@x" },
    { "\"a b\"@x", "\"a b\"@x" },
    { "\"a\\\"b\"@x", "\"a\\\"b\"@x" },
    { "\"a\\\\b\"@x", "\"a\\\\b\"@x" },
    { "\"a@b\"@x", "\"a@b\"@x" },
    { "\"a@b\"", "\"a@b\"" },
    /* not a dot-string: dots first, last or twice, and the empty local part */
    { "\".a\"@x", "\".a\"@x" },
    { "\"a.\"@x", "\"a.\"@x" },
    { "\"a..b\"@x", "\"a..b\"@x" },
    { "@x", "\"\"@x" },
    /* atext, 8-bit bytes and a plain address stay as they are (folded) */
    { "A!#$%&'*+-/=?^_`{|}~z@X", "a!#$%&'*+-/=?^_`{|}~z@x" },
    { "j\xc3\xbcrgen@x", "j\xc3\xbcrgen@x" },
    { "postmaster", "postmaster" },
    { "x@", "x" },
    { "a\"b\"@x", "\"a\\\"b\\\"\"@x" },
};

/* The written address, and the same parts when it is split again. */
START_TEST(joins)
{
    char out[2 * ADDRESS_MAX + 3];
    split(join_cases[_i][0]);
    struct mail_address first = a;
    ck_assert_int_eq(address_join(&a, out, sizeof out), 0);
    ck_assert_str_eq(out, join_cases[_i][1]);
    split(out);
    ck_assert_str_eq(a.local, first.local);
    ck_assert_str_eq(a.domain, first.domain);
}
END_TEST

START_TEST(join_bound)
{
    split("\"a b\"@x");
    char out[8];
    ck_assert_int_eq(address_join(&a, out, sizeof out), 0);   /* "a b"@x is 7 bytes */
    ck_assert_str_eq(out, "\"a b\"@x");
    /* one byte short or less: -1, "" when there is room for it, nothing written past size */
    for (size_t size = 0; size < sizeof out; size++) {
        memset(out, 'z', sizeof out);
        ck_assert_int_eq(address_join(&a, out, size), -1);
        if (size > 0)
            ck_assert_int_eq(out[0], '\0');
        for (size_t i = size; i < sizeof out; i++)
            ck_assert_int_eq(out[i], 'z');
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("address");
    TCase *tc = tcase_create("address");
    tcase_add_test(tc, domain_starts_at_the_last_unquoted_at);
    tcase_add_loop_test(tc, splits, 0, (int)(sizeof split_cases / sizeof split_cases[0]));
    tcase_add_test(tc, split_bound);
    tcase_add_loop_test(tc, extensions, 0,
                        (int)(sizeof extension_cases / sizeof extension_cases[0]));
    tcase_add_test(tc, no_delimiters);
    tcase_add_loop_test(tc, lookup_keys, 0, (int)(sizeof key_cases / sizeof key_cases[0]));
    tcase_add_test(tc, key_of_the_longest_parts);
    tcase_add_loop_test(tc, joins, 0, (int)(sizeof join_cases / sizeof join_cases[0]));
    tcase_add_test(tc, join_bound);
    suite_add_tcase(s, tc);
    return unit_run(s);
}

/* test_address.c: unit tests of mail/address.c: where the domain starts (quoted '@'), the
 * split (unquoting, escapes, case folding, 8-bit bytes, empty parts, final dots, address
 * literals, the length bound), extensions (several and multi-byte delimiters, at the start
 * and the end, list names), the table keys in Postfix's order, and writing an address back
 * with quotes only where they are needed. */
#include <check.h>
#include <string.h>
#include "address.h"
#include "unit.h"

static struct mail_address a;

/* Splits s into a; the test fails when address_split does. */
static void split(const char *s)
{
    memset(&a, 0x5a, sizeof a);
    ck_assert_msg(address_split(s, &a) == 0, "address_split(%s)", s);
}

#define SPLITS_TO(s, local_, domain_)                                                     \
    do {                                                                                  \
        split(s);                                                                         \
        ck_assert_str_eq(a.local, local_);                                                \
        ck_assert_str_eq(a.domain, domain_);                                              \
    } while (0)

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

START_TEST(split_plain_and_case)
{
    SPLITS_TO("Joe+Lists@MX.Example.ORG", "joe+lists", "mx.example.org");
    SPLITS_TO("postmaster", "postmaster", "");
    SPLITS_TO("POSTMASTER", "postmaster", "");
    SPLITS_TO("a@b@X.example", "a@b", "x.example");
    /* address literals keep their brackets; only ASCII letters are folded */
    SPLITS_TO("u@[192.0.2.1]", "u", "[192.0.2.1]");
    SPLITS_TO("u@[IPv6:2001:DB8::1]", "u", "[ipv6:2001:db8::1]");
}
END_TEST

START_TEST(split_quoted)
{
    /* quotes that are not needed go */
    SPLITS_TO("\"user\"@vdomain.example", "user", "vdomain.example");
    SPLITS_TO("\"User\"@VDomain.Example", "user", "vdomain.example");
    /* quoted local parts with a space, an '@', escapes */
    SPLITS_TO("\"a b\"@x", "a b", "x");
    SPLITS_TO("\"x;touch /tmp/a@b\"@mx.example", "x;touch /tmp/a@b", "mx.example");
    SPLITS_TO("\"a\\\"b\"@x", "a\"b", "x");
    SPLITS_TO("\"al\\ice\"@x", "alice", "x");
    SPLITS_TO("\"a\\\\\"@x", "a\\", "x");
    SPLITS_TO("\"a\\\"@b\"@x", "a\"@b", "x");
    /* no domain: the '@' inside the quotes is part of the local part */
    SPLITS_TO("\"a@b\"", "a@b", "");
    /* only a local part that is one quoted string is unquoted */
    SPLITS_TO("\"a\"b@x", "\"a\"b", "x");
    SPLITS_TO("a\"b\"@x", "a\"b\"", "x");
    SPLITS_TO("\"a@x", "\"a@x", "");   /* an unclosed quote hides the '@' */
    SPLITS_TO("\"a\\\"@x", "\"a\\\"@x", "");   /* never closed: all of it is the local part */
}
END_TEST

START_TEST(split_empty_parts)
{
    SPLITS_TO("@x.example", "", "x.example");
    SPLITS_TO("\"\"@x.example", "", "x.example");
    SPLITS_TO("x@", "x", "");
    SPLITS_TO("@", "", "");
    SPLITS_TO("", "", "");
    SPLITS_TO("\"\"", "", "");
}
END_TEST

START_TEST(split_final_dots_and_8bit)
{
    SPLITS_TO("u@Example.ORG.", "u", "example.org");
    SPLITS_TO("u@example.org..", "u", "example.org");
    SPLITS_TO("u@.", "u", ".");
    /* 8-bit bytes (UTF-8) are kept as they are; the ASCII around them is folded */
    SPLITS_TO("J\xc3\xbcRGEN@B\xc3\xa4r.Example", "j\xc3\xbcrgen", "b\xc3\xa4r.example");
    SPLITS_TO("\"\xff\xfe\"@x", "\xff\xfe", "x");
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

/* The extension of local under delims, as "user|ext" ("user" alone when there is none). */
static const char *ext_of(const char *local, const char *delims)
{
    static char out[256];
    const char *d = address_extension(local, delims);
    if (d == NULL)
        return local;
    ck_assert_ptr_nonnull(strchr(delims, *d));
    snprintf(out, sizeof out, "%.*s|%s", (int)(d - local), local, d + 1);
    return out;
}

START_TEST(extensions)
{
    ck_assert_str_eq(ext_of("joe+lists", "+"), "joe|lists");
    ck_assert_str_eq(ext_of("joe+lists", ""), "joe+lists");
    ck_assert_str_eq(ext_of("joe+lists", NULL), "joe+lists");
    ck_assert_str_eq(ext_of("joe", "+"), "joe");
    ck_assert_str_eq(ext_of("", "+"), "");
    /* several delimiters (recipient_delimiter may hold several bytes): the first one found
     * cuts, and later ones belong to the extension */
    ck_assert_str_eq(ext_of("a-b+c", "+-"), "a|b+c");
    ck_assert_str_eq(ext_of("a+b-c", "+-"), "a|b-c");
    ck_assert_str_eq(ext_of("joe+a+b", "+"), "joe|a+b");
    /* a delimiter first never cuts an empty user off; one at the end gives an empty one */
    ck_assert_str_eq(ext_of("+x", "+"), "+x");
    ck_assert_str_eq(ext_of("+joe-a+b", "+-"), "+joe|a+b");
    ck_assert_str_eq(ext_of("joe+", "+"), "joe|");
    ck_assert_str_eq(ext_of("+", "+"), "+");
    /* with '-' among the delimiters, mailing list names stay whole */
    ck_assert_str_eq(ext_of("owner-list", "-"), "owner-list");
    ck_assert_str_eq(ext_of("owner-list+x", "+-"), "owner-list+x");
    ck_assert_str_eq(ext_of("list-request", "+-"), "list-request");
    ck_assert_str_eq(ext_of("-request", "-"), "-request");
    ck_assert_str_eq(ext_of("owner-list", "+"), "owner-list");
    ck_assert_str_eq(ext_of("owner+list", "+"), "owner|list");
    ck_assert_str_eq(ext_of("my-list-requests", "-"), "my|list-requests");
    /* 8-bit delimiters and local parts */
    ck_assert_str_eq(ext_of("j\xc3\xbcrgen\xa7x", "\xa7"), "j\xc3\xbcrgen|x");
}
END_TEST

static char keys[ADDRESS_KEYS_MAX][ADDRESS_KEY_MAX];

/* The keys of address s as one string "k1 k2 k3". */
static const char *keys_of(const char *s, const char *delims, enum address_keys which)
{
    static char out[4 * ADDRESS_KEY_MAX];
    split(s);
    int n = address_lookup_keys(&a, delims, which, keys);
    ck_assert_int_ge(n, 1);
    ck_assert_int_le(n, ADDRESS_KEYS_MAX);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        strcat(out, i ? " " : "");
        strcat(out, keys[i]);
    }
    return out;
}

START_TEST(address_keys)
{
    /* virtual(5) order */
    ck_assert_str_eq(keys_of("alice+tag@virt.example", "+", ADDRESS_KEYS_ADDRESS),
                     "alice+tag@virt.example alice@virt.example @virt.example");
    ck_assert_str_eq(keys_of("Alice+Tag@Virt.Example.", "+", ADDRESS_KEYS_ADDRESS),
                     "alice+tag@virt.example alice@virt.example @virt.example");
    /* without a delimiter setting the extension stays */
    ck_assert_str_eq(keys_of("alice+tag@virt.example", "", ADDRESS_KEYS_ADDRESS),
                     "alice+tag@virt.example @virt.example");
    ck_assert_str_eq(keys_of("a-b+c@d", "+-", ADDRESS_KEYS_ADDRESS), "a-b+c@d a@d @d");
    /* a delimiter first, or only in the domain, cuts nothing */
    ck_assert_str_eq(keys_of("+x@d", "+", ADDRESS_KEYS_ADDRESS), "+x@d @d");
    ck_assert_str_eq(keys_of("x@d+e", "+", ADDRESS_KEYS_ADDRESS), "x@d+e @d+e");
    /* quoted local parts are looked up unquoted */
    ck_assert_str_eq(keys_of("\"user\"@vdomain", "+", ADDRESS_KEYS_ADDRESS),
                     "user@vdomain @vdomain");
    ck_assert_str_eq(keys_of("\"a b+c\"@x", "+", ADDRESS_KEYS_ADDRESS), "a b+c@x a b@x @x");
    /* no domain: the local part alone; an empty local part: the catch-all alone */
    ck_assert_str_eq(keys_of("postmaster", "+", ADDRESS_KEYS_ADDRESS), "postmaster");
    ck_assert_str_eq(keys_of("joe+x", "+", ADDRESS_KEYS_ADDRESS), "joe+x");
    ck_assert_str_eq(keys_of("x@", "+", ADDRESS_KEYS_ADDRESS), "x");
    ck_assert_str_eq(keys_of("@d", "+", ADDRESS_KEYS_ADDRESS), "@d");
    ck_assert_str_eq(keys_of("\"\"@d", "+", ADDRESS_KEYS_ADDRESS), "@d");
}
END_TEST

START_TEST(local_keys)
{
    ck_assert_str_eq(keys_of("Joe+Lists@mx.example", "+", ADDRESS_KEYS_LOCAL), "joe+lists joe");
    ck_assert_str_eq(keys_of("joe+lists", "", ADDRESS_KEYS_LOCAL), "joe+lists");
    ck_assert_str_eq(keys_of("\"joe\"@x", "+", ADDRESS_KEYS_LOCAL), "joe");
    ck_assert_str_eq(keys_of("owner-list@x", "-", ADDRESS_KEYS_LOCAL), "owner-list");
    ck_assert_str_eq(keys_of("+alice@x", "+-", ADDRESS_KEYS_LOCAL), "+alice");
    ck_assert_str_eq(keys_of("@x", "+", ADDRESS_KEYS_LOCAL), "");
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

/* Splits s, writes it back, and checks both the result and that it splits the same again. */
static const char *join_of(const char *s)
{
    static char out[2 * ADDRESS_MAX + 3];
    split(s);
    struct mail_address first = a;
    ck_assert_int_eq(address_join(&a, out, sizeof out), 0);
    split(out);
    ck_assert_str_eq(a.local, first.local);
    ck_assert_str_eq(a.domain, first.domain);
    return out;
}

START_TEST(join_quotes_only_when_needed)
{
    ck_assert_str_eq(join_of("\"user\"@vdomain"), "user@vdomain");
    ck_assert_str_eq(join_of("\"first.last\"@x"), "first.last@x");
    ck_assert_str_eq(join_of("\"a b\"@x"), "\"a b\"@x");
    ck_assert_str_eq(join_of("\"a\\\"b\"@x"), "\"a\\\"b\"@x");
    ck_assert_str_eq(join_of("\"a\\\\b\"@x"), "\"a\\\\b\"@x");
    ck_assert_str_eq(join_of("\"a@b\"@x"), "\"a@b\"@x");
    ck_assert_str_eq(join_of("\"a@b\""), "\"a@b\"");
    /* not a dot-string: dots first, last or twice, and the empty local part */
    ck_assert_str_eq(join_of("\".a\"@x"), "\".a\"@x");
    ck_assert_str_eq(join_of("\"a.\"@x"), "\"a.\"@x");
    ck_assert_str_eq(join_of("\"a..b\"@x"), "\"a..b\"@x");
    ck_assert_str_eq(join_of("@x"), "\"\"@x");
    /* atext, 8-bit bytes and a plain address stay as they are (folded) */
    ck_assert_str_eq(join_of("A!#$%&'*+-/=?^_`{|}~z@X"), "a!#$%&'*+-/=?^_`{|}~z@x");
    ck_assert_str_eq(join_of("j\xc3\xbcrgen@x"), "j\xc3\xbcrgen@x");
    ck_assert_str_eq(join_of("postmaster"), "postmaster");
    ck_assert_str_eq(join_of("x@"), "x");
    ck_assert_str_eq(join_of("a\"b\"@x"), "\"a\\\"b\\\"\"@x");
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
    tcase_add_test(tc, split_plain_and_case);
    tcase_add_test(tc, split_quoted);
    tcase_add_test(tc, split_empty_parts);
    tcase_add_test(tc, split_final_dots_and_8bit);
    tcase_add_test(tc, split_bound);
    tcase_add_test(tc, extensions);
    tcase_add_test(tc, address_keys);
    tcase_add_test(tc, local_keys);
    tcase_add_test(tc, key_of_the_longest_parts);
    tcase_add_test(tc, join_quotes_only_when_needed);
    tcase_add_test(tc, join_bound);
    suite_add_tcase(s, tc);
    return unit_run(s);
}

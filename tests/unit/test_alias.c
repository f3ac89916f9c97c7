/* test_alias.c: unit tests of the local agent's pure address rules: the aliases(5) / .forward
 * value tokenizer (delivery/local/aliasparse.c: commas, quoting, |command, /file, :include:,
 * error:, \user, comments in files, errors) and the recipient address rules
 * (delivery/local/rcptaddr.c: user+ext@domain, self references, qualification). */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "aliasparse.h"
#include "delivery_proto.h"
#include "rcptaddr.h"
#include "unit.h"

static struct alias_list L;
static char err[256];

static void teardown(void)
{
    alias_list_free(&L);
}

static int parse(const char *text, bool as_file)
{
    alias_list_free(&L);
    return alias_parse(text, strlen(text), as_file, &L, err, sizeof err);
}

static void expect(size_t i, enum alias_item_type type, const char *text)
{
    ck_assert_uint_gt(L.count, i);
    ck_assert_msg(L.item[i].type == type, "item %zu: type %s, want %s", i,
                  alias_type_name(L.item[i].type), alias_type_name(type));
    ck_assert_str_eq(L.item[i].text, text);
}

START_TEST(addresses_and_commas)
{
    ck_assert_int_eq(parse("  joe, jane@example.org ,<bob@example.net>,,  ", false), 0);
    ck_assert_uint_eq(L.count, 3);
    expect(0, ALIAS_ADDRESS, "joe");
    expect(1, ALIAS_ADDRESS, "jane@example.org");
    expect(2, ALIAS_ADDRESS, "bob@example.net");
    /* a quoted local part stays one address, quotes and all */
    ck_assert_int_eq(parse("\"john doe\"@example.org, \"a,b\"", false), 0);
    ck_assert_uint_eq(L.count, 2);
    expect(0, ALIAS_ADDRESS, "\"john doe\"@example.org");
    expect(1, ALIAS_ADDRESS, "\"a,b\"");
}
END_TEST

START_TEST(commands)
{
    ck_assert_int_eq(parse("|/usr/bin/procmail -a x, \"|/bin/cmd a, b #c\" , | exit 75", false),
                     0);
    ck_assert_uint_eq(L.count, 3);
    expect(0, ALIAS_COMMAND, "/usr/bin/procmail -a x");
    expect(1, ALIAS_COMMAND, "/bin/cmd a, b #c");
    expect(2, ALIAS_COMMAND, "exit 75");
    /* backslash escapes inside quotes */
    ck_assert_int_eq(parse("\"|echo \\\"hi\\\" \\\\ there\"", false), 0);
    expect(0, ALIAS_COMMAND, "echo \"hi\" \\ there");
    ck_assert_int_eq(parse("|", false), -1);
    ck_assert_ptr_nonnull(strstr(err, "empty command"));
    ck_assert_int_eq(parse("\"|   \"", false), -1);
}
END_TEST

START_TEST(files_includes_errors)
{
    ck_assert_int_eq(parse("/var/mail/archive, \"/tmp/with space\", /srv/md/", false), 0);
    expect(0, ALIAS_FILE, "/var/mail/archive");
    expect(1, ALIAS_FILE, "/tmp/with space");
    expect(2, ALIAS_FILE, "/srv/md/");
    ck_assert_int_eq(parse(":include:/etc/mail/list, :INCLUDE: /x/y", false), 0);
    expect(0, ALIAS_INCLUDE, "/etc/mail/list");
    expect(1, ALIAS_INCLUDE, "/x/y");
    ck_assert_int_eq(parse(":include:relative", false), -1);
    ck_assert_ptr_nonnull(strstr(err, "absolute"));

    ck_assert_int_eq(parse("error:5.1.1 this user has left, Error: 4.2.1 full", false), 0);
    ck_assert_uint_eq(L.count, 2);
    expect(0, ALIAS_ERROR, "this user has left");
    ck_assert_str_eq(L.item[0].dsn, "5.1.1");
    expect(1, ALIAS_ERROR, "full");
    ck_assert_str_eq(L.item[1].dsn, "4.2.1");
    ck_assert_int_eq(parse("error:no code here", false), 0);
    expect(0, ALIAS_ERROR, "no code here");
    ck_assert_str_eq(L.item[0].dsn, "5.0.0");
    ck_assert_int_eq(parse("\"error:5.7.1 go away, now\"", false), 0);
    expect(0, ALIAS_ERROR, "go away, now");
    ck_assert_str_eq(L.item[0].dsn, "5.7.1");
    /* 2.x.y or a malformed code is text, not a code */
    ck_assert_int_eq(parse("error:2.0.0 fine", false), 0);
    ck_assert_str_eq(L.item[0].dsn, "5.0.0");
    expect(0, ALIAS_ERROR, "2.0.0 fine");
}
END_TEST

START_TEST(backslash_user)
{
    ck_assert_int_eq(parse("\\joe, joe@other", false), 0);
    expect(0, ALIAS_MAILBOX, "joe");
    expect(1, ALIAS_ADDRESS, "joe@other");
    ck_assert_int_eq(parse("\\", false), -1);
    ck_assert_int_eq(parse("\\a/b", false), -1);
}
END_TEST

START_TEST(bad_items)
{
    ck_assert_int_eq(parse("joe, \"unterminated", false), -1);
    ck_assert_ptr_nonnull(strstr(err, "unterminated"));
    ck_assert_uint_eq(L.count, 1);   /* the items before stay */
    ck_assert_int_eq(parse("john doe@example.org", false), -1);
    ck_assert_ptr_nonnull(strstr(err, "not an address"));
    ck_assert_int_eq(parse("a\001b", false), -1);
    ck_assert_ptr_nonnull(strstr(err, "control character"));
    ck_assert_int_eq(parse("<>", false), -1);
    char big[ALIAS_ITEM_MAX + 10];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(parse(big, false), -1);
    ck_assert_ptr_nonnull(strstr(err, "too long"));
}
END_TEST

START_TEST(files_with_comments)
{
    const char *text = "# my forward\n"
                       "  \\joe\n"
                       "\n"
                       "jane@example.org, bob\r\n"
                       "   # indented comment, |not a command\n"
                       "\"|/usr/bin/vacation joe\"\n"
                       "/home/joe/archive";
    ck_assert_int_eq(parse(text, true), 0);
    ck_assert_uint_eq(L.count, 5);
    expect(0, ALIAS_MAILBOX, "joe");
    expect(1, ALIAS_ADDRESS, "jane@example.org");
    expect(2, ALIAS_ADDRESS, "bob");
    expect(3, ALIAS_COMMAND, "/usr/bin/vacation joe");
    expect(4, ALIAS_FILE, "/home/joe/archive");
    /* in an alias value, a newline (a continuation line) is only white space */
    ck_assert_int_eq(parse("a,\n  b", false), 0);
    ck_assert_uint_eq(L.count, 2);
    /* '#' inside an alias value is not a comment */
    ck_assert_int_eq(parse("#x", false), 0);
    expect(0, ALIAS_ADDRESS, "#x");
}
END_TEST

START_TEST(split_addresses)
{
    struct rcpt_addr a;
    ck_assert_int_eq(rcpt_addr_split("Joe+Lists@MX.Example.ORG", "+", &a), 0);
    ck_assert_str_eq(a.local, "joe+lists");
    ck_assert_str_eq(a.user, "joe");
    ck_assert_str_eq(a.ext, "lists");
    ck_assert_str_eq(a.domain, "mx.example.org");
    ck_assert_int_eq(a.delim, '+');
    ck_assert_int_eq(rcpt_addr_split("joe+lists@x", "", &a), 0);
    ck_assert_str_eq(a.user, "joe+lists");
    ck_assert_int_eq(a.delim, 0);
    /* several delimiters; the first one found splits; none at the start */
    ck_assert_int_eq(rcpt_addr_split("+joe-a+b@x", "+-", &a), 0);
    ck_assert_str_eq(a.user, "+joe");
    ck_assert_str_eq(a.ext, "a+b");
    /* with '-', owner-* and *-request are names, not extensions */
    ck_assert_int_eq(rcpt_addr_split("owner-list@x", "-", &a), 0);
    ck_assert_str_eq(a.user, "owner-list");
    ck_assert_int_eq(rcpt_addr_split("list-request@x", "-", &a), 0);
    ck_assert_str_eq(a.user, "list-request");
    /* quoted local parts are unquoted; '@' inside quotes is not the domain */
    ck_assert_int_eq(rcpt_addr_split("\"x;touch /tmp/a@b\"@mx.example", "+", &a), 0);
    ck_assert_str_eq(a.user, "x;touch /tmp/a@b");
    ck_assert_str_eq(a.domain, "mx.example");
    ck_assert_int_eq(rcpt_addr_split("postmaster", "+", &a), 0);
    ck_assert_str_eq(a.domain, "");
    ck_assert_int_eq(rcpt_addr_split("@x", "+", &a), -1);
    ck_assert_int_eq(rcpt_addr_split("\"\"@x", "+", &a), -1);
    /* the extension of a quoted local part, and a final dot off the domain */
    ck_assert_int_eq(rcpt_addr_split("\"Joe+Lists\"@MX.Example.", "+", &a), 0);
    ck_assert_str_eq(a.user, "joe");
    ck_assert_str_eq(a.ext, "lists");
    ck_assert_str_eq(a.domain, "mx.example");
}
END_TEST

START_TEST(self_references)
{
    const char *names[2] = { "joe", "joe+x" };
    ck_assert(rcpt_addr_is_self("joe", names, 2, "mx.example"));
    ck_assert(rcpt_addr_is_self("JOE@MX.example", names, 2, "mx.example"));
    ck_assert(rcpt_addr_is_self("\"joe\"", names, 2, "mx.example"));
    ck_assert(rcpt_addr_is_self("joe+x", names, 2, "mx.example"));
    ck_assert(rcpt_addr_is_self("\"Joe\"@mx.example.", names, 2, "mx.example"));
    ck_assert(!rcpt_addr_is_self("joe@elsewhere.example", names, 2, "mx.example"));
    ck_assert(!rcpt_addr_is_self("joe@", names, 2, "mx.example"));
    ck_assert(!rcpt_addr_is_self("jane", names, 2, "mx.example"));
    const char *one[2] = { "joe", NULL };
    ck_assert(!rcpt_addr_is_self("joe+x", one, 2, "mx.example"));
}
END_TEST

START_TEST(qualification)
{
    char out[DELIVERY_ADDR_MAX];
    ck_assert_int_eq(rcpt_addr_qualify("jane", "mx.example", '+', NULL, "+", out, sizeof out), 0);
    ck_assert_str_eq(out, "jane@mx.example");
    ck_assert_int_eq(rcpt_addr_qualify("jane@x.org", "mx.example", '+', NULL, "+", out,
                                       sizeof out), 0);
    ck_assert_str_eq(out, "jane@x.org");
    /* the unmatched extension is carried over */
    ck_assert_int_eq(rcpt_addr_qualify("jane", "mx.example", '+', "lists", "+", out, sizeof out),
                     0);
    ck_assert_str_eq(out, "jane+lists@mx.example");
    ck_assert_int_eq(rcpt_addr_qualify("jane@x.org", "mx.example", '+', "lists", "+", out,
                                       sizeof out), 0);
    ck_assert_str_eq(out, "jane+lists@x.org");
    /* not onto an address with its own extension, nor a quoted local part */
    ck_assert_int_eq(rcpt_addr_qualify("jane+a", "mx.example", '+', "lists", "+", out,
                                       sizeof out), 0);
    ck_assert_str_eq(out, "jane+a@mx.example");
    ck_assert_int_eq(rcpt_addr_qualify("\"j d\"", "mx.example", '+', "lists", "+", out,
                                       sizeof out), 0);
    ck_assert_str_eq(out, "\"j d\"@mx.example");
    ck_assert_int_eq(rcpt_addr_qualify("jane", "", 0, NULL, "", out, sizeof out), 0);
    ck_assert_str_eq(out, "jane");
    char small[8];
    ck_assert_int_eq(rcpt_addr_qualify("jane", "mx.example", '+', NULL, "+", small,
                                       sizeof small), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alias");
    TCase *tc = tcase_create("tokenizer");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, addresses_and_commas);
    tcase_add_test(tc, commands);
    tcase_add_test(tc, files_includes_errors);
    tcase_add_test(tc, backslash_user);
    tcase_add_test(tc, bad_items);
    tcase_add_test(tc, files_with_comments);
    suite_add_tcase(s, tc);
    TCase *ta = tcase_create("addresses");
    tcase_add_test(ta, split_addresses);
    tcase_add_test(ta, self_references);
    tcase_add_test(ta, qualification);
    suite_add_tcase(s, ta);
    return unit_run(s);
}

/* test_smtp_rules.c: unit tests of the dialogue rules smtpd and sendmail -bs share
 * (mail/smtp_rules.c): each command line or argument below gets the reply the table gives (or
 * passes, "" in the table), and what passes is parsed into the structures. */
#include <check.h>
#include <string.h>
#include "smtp_rules.h"
#include "unit.h"

static struct smtp_command command(const char *line)
{
    struct smtp_command c;
    smtp_parse_command(line, strlen(line), &c);
    return c;
}

static const struct rule_case {
    const char *line;
    const char *reply;   /* "" when the command passes */
} mail_cases[] = {
    {"MAIL FROM:<a@example.org>", ""},
    {"MAIL FROM: <a@example.org>", ""},           /* spaces after the colon, as smtpd took */
    {"mail from:<>", ""},
    {"MAIL FROM:<a@example.org> SIZE=1000", ""},
    {"MAIL FROM:<a@example.org> SIZE=1001", "552 5.3.4 Message size exceeds fixed limit"},
    {"MAIL FROM <a@example.org>", "501 5.5.4 Syntax: MAIL FROM:<address>"},
    {"MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>"},
    {"MAIL FROM:a@example.org", "501 5.1.7 Bad sender address syntax"},
    {"MAIL FROM:<a@exa mple.org>", "501 5.1.7 Bad sender address syntax"},
    {"MAIL FROM:<a@example.org> FOO=1", "555 5.5.4 Unsupported option: "},
    {"MAIL FROM:<j\xc3\xb6rg@example.org>",
     "553 5.6.7 Must declare SMTPUTF8 to send an address with 8-bit characters"},
    {"MAIL FROM:<j\xc3\xb6rg@example.org> SMTPUTF8", ""},
};

START_TEST(mail_table)
{
    const struct rule_case *tc = &mail_cases[_i];
    struct smtp_command c = command(tc->line);
    struct smtp_address a;
    struct mail_params mp;
    char text[SMTP_RULE_REPLY_MAX];
    const char *r = smtp_rule_mail(&c, 1000, &a, &mp, text);
    if (tc->reply[0] == '\0') {
        ck_assert_msg(r == NULL, "%s: %s", tc->line, r);
        ck_assert_ptr_nonnull(strchr(tc->line, '<'));
    } else {
        ck_assert_msg(r != NULL, "%s passed", tc->line);
        ck_assert_msg(strncmp(r, tc->reply, strlen(tc->reply)) == 0, "%s: %s", tc->line, r);
    }
}
END_TEST

START_TEST(mail_fills_the_structures)
{
    struct smtp_command c = command("MAIL FROM:<a@example.org> SIZE=20 BODY=8BITMIME");
    struct smtp_address a;
    struct mail_params mp;
    char text[SMTP_RULE_REPLY_MAX];
    ck_assert_ptr_null(smtp_rule_mail(&c, 0, &a, &mp, text));
    ck_assert_str_eq(a.address, "a@example.org");
    ck_assert(mp.has_size && mp.size == 20 && mp.body == BODY_8BITMIME);
    /* size_limit 0: no limit */
    c = command("MAIL FROM:<> SIZE=99999999999");
    ck_assert_ptr_null(smtp_rule_mail(&c, 0, &a, &mp, text));
    ck_assert(a.null);
}
END_TEST

static const struct rule_case rcpt_cases[] = {
    {"RCPT TO:<b@example.org>", ""},
    {"RCPT TO: <b@example.org> NOTIFY=NEVER", ""},
    {"RCPT TO:<postmaster>", ""},
    {"RCPT TO:<>", "501 5.1.3 Bad recipient address syntax"},
    {"RCPT TO:<bob>", "501 5.1.3 Bad recipient address syntax"},
    {"RCPT <b@example.org>", "501 5.5.4 Syntax: RCPT TO:<address>"},
    {"RCPT TO:<b@example.org> NOTIFY=SOMETIMES", "555 5.5.4 Unsupported option: "},
    {"RCPT TO:<\xc3\xa9@example.org>",
     "553 5.6.7 Must declare SMTPUTF8 to send an address with 8-bit characters"},
};

START_TEST(rcpt_table)
{
    const struct rule_case *tc = &rcpt_cases[_i];
    struct smtp_command c = command(tc->line);
    struct smtp_address a;
    struct rcpt_params rp;
    char text[SMTP_RULE_REPLY_MAX];
    const char *r = smtp_rule_rcpt(&c, false, &a, &rp, text);
    if (tc->reply[0] == '\0')
        ck_assert_msg(r == NULL, "%s: %s", tc->line, r);
    else
        ck_assert_msg(r && strncmp(r, tc->reply, strlen(tc->reply)) == 0, "%s: %s", tc->line,
                      r ? r : "passed");
}
END_TEST

START_TEST(rcpt_with_smtputf8)
{
    struct smtp_command c = command("RCPT TO:<\xc3\xa9@example.org> NOTIFY=SUCCESS,FAILURE");
    struct smtp_address a;
    struct rcpt_params rp;
    char text[SMTP_RULE_REPLY_MAX];
    ck_assert_ptr_null(smtp_rule_rcpt(&c, true, &a, &rp, text));
    ck_assert_str_eq(a.address, "\xc3\xa9@example.org");
    ck_assert_uint_eq(rp.notify, NOTIFY_SUCCESS | NOTIFY_FAILURE);
}
END_TEST

START_TEST(helo_and_lines)
{
    struct smtp_command c = command("HELO client.example");
    ck_assert_ptr_null(smtp_rule_helo(&c));
    c = command("EHLO [192.0.2.1]");
    ck_assert_ptr_null(smtp_rule_helo(&c));
    c = command("EHLO");
    ck_assert_str_eq(smtp_rule_helo(&c), "501 5.5.4 Syntax: EHLO hostname");
    c = command("HELO a\tb");
    ck_assert_str_eq(smtp_rule_helo(&c), "501 5.5.4 Syntax: HELO hostname");

    ck_assert_ptr_null(smtp_rule_line("NOOP\tx", 6));
    ck_assert_str_eq(smtp_rule_line("NO\0OP", 5), "500 5.5.2 Error: bad character in command");
    ck_assert_ptr_nonnull(smtp_rule_line("NOOP\r", 5));
    ck_assert_ptr_nonnull(smtp_rule_line("NOOP\x7f", 5));
    ck_assert(smtp_text_printable("alice", 5));
    ck_assert(!smtp_text_printable("ali\tce", 6));
}
END_TEST

START_TEST(content_needs_mail_and_recipients)
{
    ck_assert_str_eq(smtp_rule_content(false, 0), SMTP_REPLY_NEED_MAIL);
    ck_assert_str_eq(smtp_rule_content(true, 0), "554 5.5.1 Error: no valid recipients");
    ck_assert_ptr_null(smtp_rule_content(true, 1));
}
END_TEST

#define TABLE(tc, test, cases) \
    tcase_add_loop_test(tc, test, 0, (int)(sizeof cases / sizeof cases[0]))

static Suite *smtp_rules_suite(void)
{
    Suite *s = suite_create("smtp_rules");
    TCase *tc = tcase_create("core");
    TABLE(tc, mail_table, mail_cases);
    tcase_add_test(tc, mail_fills_the_structures);
    TABLE(tc, rcpt_table, rcpt_cases);
    tcase_add_test(tc, rcpt_with_smtputf8);
    tcase_add_test(tc, helo_and_lines);
    tcase_add_test(tc, content_needs_mail_and_recipients);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(smtp_rules_suite());
}

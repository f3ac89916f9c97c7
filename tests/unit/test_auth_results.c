/* test_auth_results.c: unit tests of mail/auth_results.c: fields written as RFC 8601's examples
 * show them, values quoted only when they must be, reason comments that cannot break out,
 * folding, the errors; and the authserv-id (and version) read from RFC 8601's examples and
 * harder values (comments, quoted-strings, folding, malformed ones). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "auth_results.h"
#include "errtext.h"
#include "unit.h"

static char *compose(const char *id, const struct auth_results_method *m, size_t n,
                     size_t bound)
{
    struct buf out;
    char err[ERR_TEXT_MAX] = "";
    buf_init(&out, bound);
    int rc = auth_results_compose(id, m, n, "\r\n", &out, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    return buf_steal(&out);
}

START_TEST(compose_rfc_examples)
{
    char *s = compose("example.org", NULL, 0, 1000);
    ck_assert_str_eq(s, "Authentication-Results: example.org; none\r\n");
    free(s);

    struct auth_results_method spf = { "spf", "pass", NULL,
                                       { { "smtp.mailfrom", "example.net" } }, 1 };
    s = compose("example.com", &spf, 1, 1000);
    ck_assert_str_eq(s, "Authentication-Results: example.com; spf=pass smtp.mailfrom=example.net"
                        "\r\n");
    free(s);

    struct auth_results_method two[2] = {
        { "auth", "pass", "cram-md5", { { "smtp.auth", "sender@example.net" } }, 1 },
        { "spf", "pass", NULL, { { "smtp.mailfrom", "example.net" } }, 1 },
    };
    s = compose("example.com", two, 2, 1000);
    ck_assert_str_eq(s, "Authentication-Results: example.com; auth=pass (cram-md5)\r\n"
                        "\tsmtp.auth=sender@example.net; spf=pass smtp.mailfrom=example.net\r\n");
    free(s);
}
END_TEST

START_TEST(compose_folds_every_method)
{
    struct auth_results_method m[3] = {
        { "spf", "pass", NULL, { { "smtp.mailfrom", "bounces@mail.example.com" } }, 1 },
        { "dkim", "pass", "2048-bit key",
          { { "header.d", "example.com" }, { "header.s", "sel2024" },
            { "header.a", "rsa-sha256" }, { "header.b", "AbCdEfGh" } }, 4 },
        { "dmarc", "pass", NULL, { { "header.from", "example.com" } }, 1 },
    };
    char *s = compose("mx.tern.example", m, 3, 2000);
    ck_assert_str_eq(s,
                     "Authentication-Results: mx.tern.example; spf=pass\r\n"
                     "\tsmtp.mailfrom=bounces@mail.example.com; dkim=pass (2048-bit key)\r\n"
                     "\theader.d=example.com header.s=sel2024 header.a=rsa-sha256 header.b=AbCdEfGh;"
                     "\r\n\tdmarc=pass header.from=example.com\r\n");
    /* no line passes 78 columns */
    for (char *line = s, *end; (end = strstr(line, "\r\n")) != NULL; line = end + 2)
        ck_assert_int_le(end - line, 78);
    free(s);
}
END_TEST

START_TEST(compose_quoting)
{
    struct auth_results_method m = { "auth", "pass", NULL,
                                     { { "smtp.auth", "John Doe" },
                                       { "smtp.mailfrom", "a\"b\\c@x.example" },
                                       { "smtp.helo", "" },
                                       { "policy.x", "a=b" } }, 4 };
    char *s = compose("mx example", &m, 1, 1000);
    ck_assert_str_eq(s, "Authentication-Results: \"mx example\"; auth=pass smtp.auth=\"John Doe\""
                        "\r\n\tsmtp.mailfrom=\"a\\\"b\\\\c@x.example\" smtp.helo=\"\" policy.x=\"a=b\""
                        "\r\n");
    free(s);
    /* local-part@domain and a bare @domain stay bare; a dotted word is a token */
    struct auth_results_method d = { "dkim", "pass", NULL,
                                     { { "header.i", "@sub.example.com" },
                                       { "header.i", "first.last+tag@example.com" } }, 2 };
    s = compose("id@a.example", NULL, 0, 1000);   /* an authserv-id is a token or quoted */
    ck_assert_str_eq(s, "Authentication-Results: \"id@a.example\"; none\r\n");
    free(s);
    s = compose("a.example", &d, 1, 1000);
    ck_assert_str_eq(s, "Authentication-Results: a.example; dkim=pass header.i=@sub.example.com"
                        "\r\n\theader.i=first.last+tag@example.com\r\n");
    free(s);
}
END_TEST

START_TEST(compose_comment_safe)
{
    struct auth_results_method m = { "spf", "fail", "evil)\r\nX-Injected: yes (\\", { { 0 } },
                                     0 };
    char *s = compose("h.example", &m, 1, 1000);
    ck_assert_str_eq(s, "Authentication-Results: h.example; spf=fail (evil\\)  X-Injected: yes"
                        " \\(\\\\)\r\n");
    free(s);
    /* a long reason is cut, not inside a UTF-8 sequence */
    char reason[AUTH_RESULTS_COMMENT_MAX + 50];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    memcpy(reason + AUTH_RESULTS_COMMENT_MAX - 1, "\xc3\xa9", 2);
    m.reason = reason;
    s = compose("h.example", &m, 1, 1000);
    char *open = strchr(s, '(');
    char *close = strchr(s, ')');
    ck_assert_ptr_nonnull(open);
    ck_assert_ptr_nonnull(close);
    ck_assert_int_eq(close - open - 1, AUTH_RESULTS_COMMENT_MAX - 1);
    free(s);
}
END_TEST

START_TEST(compose_errors)
{
    struct buf out;
    char err[ERR_TEXT_MAX] = "";
    buf_init(&out, 1000);
    buf_puts(&out, "kept");
    struct auth_results_method bad[] = {
        { "sp f", "pass", NULL, { { 0 } }, 0 },
        { "spf", "pa;ss", NULL, { { 0 } }, 0 },
        { "spf", "pass", NULL, { { "mailfrom", "x" } }, 1 },
        { "spf", "pass", NULL, { { "smtp.mailfrom", "a\r\nb" } }, 1 },
        { "spf", "pass", NULL, { { "smtp.mailfrom", NULL } }, 1 },
        { "spf", "pass", NULL, { { 0 } }, AUTH_RESULTS_PROPS_MAX + 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        ck_assert_int_eq(auth_results_compose("h", &bad[i], 1, "\n", &out, err, sizeof err), -1);
        ck_assert(err[0] != '\0');
        ck_assert_str_eq(out.data, "kept");
    }
    ck_assert_int_eq(auth_results_compose("h\nx", NULL, 0, "\n", &out, err, sizeof err), -1);
    ck_assert_int_eq(auth_results_compose("", NULL, 0, "\n", &out, err, sizeof err), -1);
    buf_free(&out);
    /* the bound */
    buf_init(&out, 30);
    ck_assert_int_eq(auth_results_compose("example.org", NULL, 0, "\n", &out, err, sizeof err),
                     -1);
    ck_assert_uint_eq(out.len, 0);
    buf_free(&out);
    buf_init(&out, 42);   /* exactly "Authentication-Results: example.org; none\n" */
    ck_assert_int_eq(auth_results_compose("example.org", NULL, 0, "\n", &out, err, sizeof err),
                     0);
    buf_free(&out);
}
END_TEST

/* reads the authserv-id of s from an exact-size copy */
static int read_id(const char *s, char *id, size_t idsize, unsigned *version)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, s, n);
    int rc = auth_results_authserv_id(copy, n, id, idsize, version);
    free(copy);
    return rc;
}

START_TEST(authserv_id_examples)
{
    static const struct {
        const char *value, *id;
        unsigned version;
    } t[] = {
        /* RFC 8601 appendix B */
        { " example.org 1; none", "example.org", 1 },
        { " example.com; spf=pass smtp.mailfrom=example.net", "example.com", 1 },
        { " example.com;\r\n\tauth=pass (cram-md5) smtp.auth=sender@example.net;", "example.com",
          1 },
        { " mail-router.example.net; dkim=pass (good signature) header.d=newyork.example.com",
          "mail-router.example.net", 1 },
        /* harder ones */
        { "example.org 2 ; none", "example.org", 2 },
        { "(a (nested) comment)\r\n example.org(c)5(d);none", "example.org", 5 },
        { " \"Example Org\" 1; none", "Example Org", 1 },
        { " \"a\\\"b\"; none", "a\"b", 1 },
        { "example.org", "example.org", 1 },
        { "example.org 12345678901; none", "example.org", 1 },   /* not a version */
        { "example.org spf=pass", "example.org", 1 },
        { "\xc3\xa9xample.org; none", "\xc3\xa9xample.org", 1 },
        { "id@a.example; none", "id", 1 },
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        char id[AUTH_RESULTS_ID_MAX];
        unsigned version = 99;
        ck_assert_msg(read_id(t[i].value, id, sizeof id, &version) == 1, "%s", t[i].value);
        ck_assert_str_eq(id, t[i].id);
        ck_assert_uint_eq(version, t[i].version);
    }
}
END_TEST

START_TEST(authserv_id_malformed)
{
    static const char *const bad[] = {
        "", "   ", "(unclosed comment example.org", "\"unclosed", "\"\"; none", "; none",
        "(a)(b) ;none", "\"a\\", "(\\", "=x; none", "\"a\001b\"; none",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char id[AUTH_RESULTS_ID_MAX];
        unsigned version;
        ck_assert_msg(read_id(bad[i], id, sizeof id, &version) == 0, "%s", bad[i]);
        ck_assert_str_eq(id, "");
    }
    char id[8];
    unsigned version;
    ck_assert_int_eq(read_id("example.org", id, sizeof id, &version), 0);   /* too long */
    ck_assert_int_eq(read_id("\"example.org\"", id, sizeof id, &version), 0);
    ck_assert_int_eq(read_id("example", id, sizeof id, &version), 1);
}
END_TEST

START_TEST(is_ours)
{
    const char *v = " MX.Tern.Example 1; spf=pass smtp.mailfrom=a.example";
    ck_assert(auth_results_is_ours(v, strlen(v), "mx.tern.example"));
    ck_assert(!auth_results_is_ours(v, strlen(v), "mx.tern.example.net"));
    ck_assert(!auth_results_is_ours(v, strlen(v), "tern.example"));
    v = " \"mx.tern.example\"; none";
    ck_assert(auth_results_is_ours(v, strlen(v), "mx.tern.example"));
    v = " (mx.tern.example) other.example; none";
    ck_assert(!auth_results_is_ours(v, strlen(v), "mx.tern.example"));
}
END_TEST

static Suite *auth_results_suite(void)
{
    Suite *s = suite_create("auth_results");
    TCase *t = tcase_create("compose");
    tcase_add_test(t, compose_rfc_examples);
    tcase_add_test(t, compose_folds_every_method);
    tcase_add_test(t, compose_quoting);
    tcase_add_test(t, compose_comment_safe);
    tcase_add_test(t, compose_errors);
    suite_add_tcase(s, t);
    t = tcase_create("authserv-id");
    tcase_add_test(t, authserv_id_examples);
    tcase_add_test(t, authserv_id_malformed);
    tcase_add_test(t, is_ours);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return unit_run(auth_results_suite());
}

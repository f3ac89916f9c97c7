/* test_config.c: unit tests of common/config.c: main.cf syntax, $name expansion, types and
 * units, overrides, listings and the in-place edits behind `ternconf -e` and `-X`. Each test
 * runs in its own process (Check's fork mode), so the global configuration starts fresh. */
#include <check.h>
#include <sysexits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "config_admin.h"
#include "unit.h"

static char err[ERR_TEXT_MAX];

static void load_ok(const char *text)
{
    err[0] = '\0';
    int r = config_load_text("t.conf", text, err, sizeof err);
    ck_assert_msg(r == 0, "load failed: %s", err);
}

static void load_fails(const char *text, const char *expected)
{
    err[0] = '\0';
    ck_assert_int_eq(config_load_text("t.conf", text, err, sizeof err), -1);
    ck_assert_str_eq(err, expected);
}

/* Runs config_load_text with stderr sent to a file and returns what was written there. */
static char *load_capturing_stderr(const char *text, int *result)
{
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    *result = config_load_text("t.conf", text, err, sizeof err);
    dup2(saved, STDERR_FILENO);
    close(saved);
    static char out[4096];
    rewind(tmp);
    size_t n = fread(out, 1, sizeof out - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return out;
}

static char *print_to_string(const char *name, bool defaults, bool no_names, bool raw)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    config_print(f, name, defaults, no_names, raw);
    fclose(f);
    return s;
}

static char *print_all_to_string(bool defaults, bool explicit_only, bool no_names, bool raw)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    config_print_all(f, defaults, explicit_only, no_names, raw);
    fclose(f);
    return s;
}

/* ---- syntax ---- */

START_TEST(test_basic_and_trimming)
{
    load_ok("mydomain=example.org\n"
            "relayhost   =   [smtp.example.net]:587   \n"
            "mynetworks = 10.0.0.0/8   192.168.0.0/16\n");
    ck_assert_str_eq(config_str("mydomain"), "example.org");
    ck_assert_str_eq(config_str("relayhost"), "[smtp.example.net]:587");
    ck_assert_str_eq(config_str("mynetworks"), "10.0.0.0/8   192.168.0.0/16");
}
END_TEST

START_TEST(test_comments_and_blank_lines)
{
    load_ok("# a comment\n"
            "\n"
            "   # an indented comment is a comment too\n"
            "   \t \n"
            "relayhost = [mx]:25 # not a comment\n");
    ck_assert_str_eq(config_str("relayhost"), "[mx]:25 # not a comment");
}
END_TEST

START_TEST(test_continuation)
{
    load_ok("mydestination = a.example,\n"
            "    b.example,\n"
            "# a comment does not end the definition\n"
            "\tc.example   \n"
            "\n"
            "  d.example\n"
            "mydomain = x\n");
    ck_assert_str_eq(config_str("mydestination"), "a.example, b.example, c.example d.example");
    ck_assert_str_eq(config_str("mydomain"), "x");
}
END_TEST

START_TEST(test_continuation_without_definition)
{
    load_fails("# comment\n  mydomain = x\n",
               "t.conf:2: indented line without a parameter definition before it");
}
END_TEST

START_TEST(test_last_definition_wins)
{
    load_ok("mydomain = first\nrelayhost = r\nmydomain = second\n");
    ck_assert_str_eq(config_str("mydomain"), "second");
}
END_TEST

START_TEST(test_no_final_newline_and_crlf)
{
    load_ok("mydomain = a\r\nrelayhost = b");
    ck_assert_str_eq(config_str("mydomain"), "a");
    ck_assert_str_eq(config_str("relayhost"), "b");
}
END_TEST

START_TEST(test_empty_value)
{
    load_ok("relayhost =\nmydomain=\n");
    ck_assert_str_eq(config_str("relayhost"), "");
    ck_assert_str_eq(config_str("mydomain"), "");
}
END_TEST

START_TEST(test_syntax_errors)
{
    load_fails("mydomain = x\n\nrelayhost example.org\n",
               "t.conf:3: missing \"=\" in \"relayhost example.org\"");
    load_fails("# c\n= value\n", "t.conf:2: missing parameter name before \"=\"");
    load_fails("my-domain = x\n",
               "t.conf:1: bad parameter name \"my-domain\" (use letters, digits and _)");
    load_fails("my domain = x\n",
               "t.conf:1: bad parameter name \"my domain\" (use letters, digits and _)");
    /* the error is reported at the first line of a continued definition */
    load_fails("mydomain = a\nrelayhost\n  more text\n",
               "t.conf:2: missing \"=\" in \"relayhost more text\"");
}
END_TEST

START_TEST(test_failed_load_keeps_previous)
{
    load_ok("mydomain = kept\n");
    load_fails("mydomain = new\nbroken\n", "t.conf:2: missing \"=\" in \"broken\"");
    ck_assert_str_eq(config_str("mydomain"), "kept");
}
END_TEST

START_TEST(test_line_limits)
{
    size_t n = 64 * 1024 + 10;
    char *text = malloc(100 * 1024);
    memcpy(text, "mydomain = ", 11);
    memset(text + 11, 'a', n - 11);
    strcpy(text + n, "\n");
    load_fails(text, "t.conf:1: line longer than 65536 bytes");
    /* a continued definition is bounded as a whole */
    size_t half = 40 * 1024;
    memcpy(text, "mydomain = ", 11);
    memset(text + 11, 'a', half);
    memcpy(text + 11 + half, "\n ", 2);
    memset(text + 13 + half, 'b', half);
    strcpy(text + 13 + 2 * half, "\n");
    load_fails(text, "t.conf:2: definition longer than 65536 bytes");
    free(text);
}
END_TEST

START_TEST(test_nul_byte)
{
    char dir[64];
    unit_mkdtemp(dir, sizeof dir, "/tmp/tern-test-config-XXXXXX");
    char path[256];
    snprintf(path, sizeof path, "%s/tern.conf", dir);
    FILE *f = fopen(path, "w");
    fwrite("mydomain = a\0b\n", 1, 15, f);
    fclose(f);
    ck_assert_int_eq(config_load(dir, err, sizeof err), -1);
    char expected[512];
    snprintf(expected, sizeof expected, "%s: the file contains a NUL byte", path);
    ck_assert_str_eq(err, expected);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_unknown_parameter_warns)
{
    int r;
    const char *out = load_capturing_stderr("mydomain = d\nmy_custom = custom.$mydomain\n"
                                            "myorigin = $my_custom\n", &r);
    ck_assert_msg(r == 0, "load failed: %s", err);
    ck_assert_ptr_nonnull(strstr(out, "t.conf:2: unknown parameter \"my_custom\""));
    ck_assert_str_eq(config_str("myorigin"), "custom.d");
    bool explicit_setting = false;
    ck_assert_str_eq(config_raw("my_custom", &explicit_setting), "custom.$mydomain");
    ck_assert(explicit_setting);
    ck_assert_ptr_null(config_raw("never_defined", &explicit_setting));
}
END_TEST

/* ---- expansion ---- */

START_TEST(test_expansion_forms)
{
    load_ok("mydomain = example.org\n"
            "relay_domains = empty\n"
            "relayhost =\n"
            "a1 = $mydomain/${mydomain}/$(mydomain)\n"
            "a2 = [${mydomain?set}][${relayhost?set}]\n"
            "a3 = [${mydomain:unset}][${relayhost:unset}]\n"
            "a4 = $(mydomain?p)$(relayhost:q)\n"
            "a5 = cost $$5 and $${x}\n"
            "a6 = [$no_such_name][${no_such_name}]\n"
            "a7 = ${mydomain?at ${relay_domains} $mydomain}\n"
            "a8 = $mydomain.suffix-$mydomain\n");
    ck_assert_str_eq(config_raw("a1", NULL), "$mydomain/${mydomain}/$(mydomain)");
    char *v;
    const char *expect[][2] = {
        { "$a1", "example.org/example.org/example.org" },
        { "$a2", "[set][]" },
        { "$a3", "[][unset]" },
        { "$a4", "pq" },
        { "$a5", "cost $5 and ${x}" },
        { "$a6", "[][]" },
        { "$a7", "at empty example.org" },
        { "$a8", "example.org.suffix-example.org" },
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        v = config_expand(expect[i][0]);
        ck_assert_str_eq(v, expect[i][1]);
        free(v);
    }
}
END_TEST

START_TEST(test_expansion_is_lazy)
{
    /* myorigin's default is $myhostname; a later definition is seen */
    load_ok("mydestination = $myhostname, $mydomain\nmyhostname = mx.example.org\n"
            "mydomain = example.org\n");
    ck_assert_str_eq(config_str("myorigin"), "mx.example.org");
    ck_assert_str_eq(config_str("mydestination"), "mx.example.org, example.org");
}
END_TEST

START_TEST(test_expand_malformed_text_is_literal)
{
    load_ok("mydomain = d\n");
    char *v = config_expand("a $ b ${mydomain ${ $-");
    ck_assert_str_eq(v, "a $ b ${mydomain ${ $-");
    free(v);
}
END_TEST

START_TEST(test_malformed_reference_in_file)
{
    load_fails("mydomain = d\nrelayhost = ${mydomain\n",
               "t.conf:2: cannot expand relayhost: unbalanced \"{\"");
    load_fails("relayhost = price $ 5\n", "t.conf:1: cannot expand relayhost: \"$\" not "
               "followed by a parameter name (write $$ for a $)");
    load_fails("relayhost = ${mydomain!x}\n", "t.conf:1: cannot expand relayhost: parameter "
               "name followed by a character other than ? or :");
}
END_TEST

START_TEST(test_recursion_limit)
{
    load_fails("mydomain = $relayhost\nrelayhost = $mydomain\n",
               "t.conf:1: cannot expand mydomain: more than 20 levels of $name expansion "
               "(a loop?)");
    load_fails("x = ${x?y}\n",
               "t.conf:1: cannot expand x: more than 20 levels of $name expansion (a loop?)");
    /* a loop through a default: myorigin defaults to $myhostname */
    load_fails("myhostname = $myorigin\n",
               "t.conf:1: cannot expand myhostname: more than 20 levels of $name expansion "
               "(a loop?)");
}
END_TEST

/* p0 = $p1 ... p(n-1) = $pn, pn = end: n levels of references below p0. */
static char *chain(int n)
{
    char *text = malloc(64 * (size_t)(n + 1));
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "p%d = $p%d\n", i, i + 1);
    sprintf(text + len, "p%d = end\n", n);
    return text;
}

START_TEST(test_recursion_depth_bound)
{
    char *ok = chain(20), *deep = chain(21);
    load_ok(ok);
    ck_assert_str_eq(config_raw("p0", NULL), "$p1");
    char *v = config_expand("$p0");
    ck_assert_str_eq(v, "end");
    free(v);
    load_fails(deep, "t.conf:1: cannot expand p0: more than 20 levels of $name expansion "
               "(a loop?)");
    free(ok);
    free(deep);
}
END_TEST

START_TEST(test_expansion_size_bound)
{
    /* each level doubles: 2^20 * 64 bytes is past the 1 MiB bound on an expanded value */
    char *text = malloc(64 * 24 + 128);
    size_t len = 0;
    for (int i = 0; i < 20; i++)
        len += (size_t)sprintf(text + len, "q%d = $q%d$q%d\n", i, i + 1, i + 1);
    sprintf(text + len, "q20 = %064d\n", 0);
    load_fails(text, "t.conf:1: cannot expand q0: expanded value longer than 1048576 bytes");
    free(text);
}
END_TEST

START_TEST(test_expansion_work_bound)
{
    /* conditionals expand a name only to test it, so the output stays small while the
     * work doubles at each level */
    char *text = malloc(64 * 24);
    size_t len = 0;
    for (int i = 0; i < 20; i++)
        len += (size_t)sprintf(text + len, "r%d = ${r%d?x}${r%d?y}\n", i, i + 1, i + 1);
    sprintf(text + len, "r20 = z\n");
    load_fails(text, "t.conf:1: cannot expand r0: more than 100000 $name references");
    free(text);
}
END_TEST

static const char *system_host(void)
{
    static char host[256] = "";
    gethostname(host, sizeof host);
    if (host[0] == '\0')
        strcpy(host, "localhost");
    return host;
}

START_TEST(test_empty_myhostname_is_system_name)
{
    const char *host = system_host();
    load_ok("myhostname =\n");
    ck_assert_str_eq(config_str("myhostname"), host);
    ck_assert_str_eq(config_str("myorigin"), host);
    ck_assert_str_eq(config_raw("myhostname", NULL), "");
    /* the default is empty too */
    load_ok("");
    ck_assert_str_eq(config_str("myhostname"), host);
}
END_TEST

/* ---- types and units ---- */

START_TEST(test_parse_time)
{
    static const struct { const char *s; long long v; } good[] = {
        { "0", 0 }, { "10", 10 }, { "10s", 10 }, { "5m", 300 }, { "2h", 7200 },
        { "1d", 86400 }, { "1w", 604800 }, { "3600s", 3600 },
    };
    long long v;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ck_assert_msg(config_parse_time(good[i].s, &v) == 0, "%s", good[i].s);
        ck_assert_int_eq(v, good[i].v);
    }
    static const char *const bad[] = { "", "s", "10x", "-5", "10ss", " 10", "10 ", "1.5h",
                                       "10S", "99999999999999999999", "9999999999999999w" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(config_parse_time(bad[i], &v) == -1, "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(test_parse_size)
{
    static const struct { const char *s; long long v; } good[] = {
        { "0", 0 }, { "1024", 1024 }, { "10k", 10240 }, { "10K", 10240 },
        { "10m", 10485760 }, { "1g", 1073741824LL }, { "2G", 2147483648LL },
    };
    long long v;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ck_assert_msg(config_parse_size(good[i].s, &v) == 0, "%s", good[i].s);
        ck_assert_int_eq(v, good[i].v);
    }
    static const char *const bad[] = { "", "k", "1t", "-1", "1kb", "1 k", "99999999999g" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(config_parse_size(bad[i], &v) == -1, "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(test_parse_bool_and_int)
{
    static const struct { const char *s; bool v; } good[] = {
        { "yes", true }, { "YES", true }, { "True", true }, { "1", true },
        { "no", false }, { "No", false }, { "FALSE", false }, { "0", false },
    };
    bool b;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        b = !good[i].v;
        ck_assert_msg(config_parse_bool(good[i].s, &b) == 0, "%s", good[i].s);
        ck_assert(b == good[i].v);
    }
    static const char *const bad_bool[] = { "", "y", "n", "2", "yess", "on" };
    for (size_t i = 0; i < sizeof bad_bool / sizeof bad_bool[0]; i++)
        ck_assert_msg(config_parse_bool(bad_bool[i], &b) == -1, "accepted \"%s\"", bad_bool[i]);
    long long v;
    ck_assert_int_eq(config_parse_int("42", &v), 0);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(config_parse_int("-7", &v), 0);
    ck_assert_int_eq(v, -7);
    static const char *const bad_int[] = { "", "-", "5x", " 5", "+5", "1e3",
                                           "99999999999999999999" };
    for (size_t i = 0; i < sizeof bad_int / sizeof bad_int[0]; i++)
        ck_assert_msg(config_parse_int(bad_int[i], &v) == -1, "accepted \"%s\"", bad_int[i]);
}
END_TEST

START_TEST(test_typed_getters)
{
    load_ok("");
    ck_assert_int_eq(config_time("service_throttle_time"), 60);
    ck_assert_int_eq(config_time("maximal_queue_lifetime"), 5 * 86400);
    ck_assert_int_eq(config_int("default_process_limit"), 100);
    ck_assert_int_eq(config_size("message_size_limit"), 10240000);
    load_ok("service_throttle_time = 2m\ndefault_process_limit = 7\n"
            "message_size_limit = 10m\nheader_size_limit = ${no_such?1k}${no_such:2k}\n");
    ck_assert_int_eq(config_time("service_throttle_time"), 120);
    ck_assert_int_eq(config_int("default_process_limit"), 7);
    ck_assert_int_eq(config_size("message_size_limit"), 10485760);
    ck_assert_int_eq(config_size("header_size_limit"), 2048);
}
END_TEST

START_TEST(test_type_errors)
{
    load_fails("mydomain = x\nservice_throttle_time = soon\n",
               "t.conf:2: bad time value \"soon\" for service_throttle_time");
    load_fails("default_process_limit = many\n",
               "t.conf:1: bad integer value \"many\" for default_process_limit");
    load_fails("message_size_limit = 10t\n",
               "t.conf:1: bad size value \"10t\" for message_size_limit");
    /* the value is checked after expansion */
    load_fails("later = soon\n\nsmtpd_timeout = ${later}\n",
               "t.conf:3: bad time value \"soon\" for smtpd_timeout");
    /* parameters with a fixed set of values (CHOICES in params.def) */
    load_fails("inet_protocols = ipv5\n",
               "t.conf:1: bad value \"ipv5\" for inet_protocols: use one of all ipv4 ipv6");
    load_fails("syslog_facility = local8\n",
               "t.conf:1: bad value \"local8\" for syslog_facility: use one of mail daemon user "
               "local0 local1 local2 local3 local4 local5 local6 local7");
    char why[ERR_TEXT_MAX];
    ck_assert_int_eq(config_load_text("t.conf", "inet_protocols = ipv4\nsyslog_facility = local7\n",
                                      why, sizeof why), 0);
    ck_assert_str_eq(config_str("inet_protocols"), "ipv4");
}
END_TEST

START_TEST(test_defaults_are_valid)
{
    load_ok("");
    for (const struct param_def *p = param_table; p->name; p++) {
        ck_assert_ptr_eq(param_find(p->name), p);
        ck_assert_ptr_nonnull(config_str(p->name));
        ck_assert_ptr_nonnull(p->help);
    }
    ck_assert_ptr_null(param_find("no_such_parameter"));
    char want[512];
    snprintf(want, sizeof want, "%s, localhost.localdomain, localhost", system_host());
    ck_assert_str_eq(config_str("mydestination"), want);
}
END_TEST

START_TEST(test_unknown_getter_is_fatal)
{
    load_ok("my_custom = 1\n");
    config_str("my_custom");
}
END_TEST

START_TEST(test_wrong_type_getter_is_fatal)
{
    config_int("service_throttle_time");
}
END_TEST

/* ---- overrides ---- */

START_TEST(test_overrides)
{
    load_ok("smtpd_timeout = 300s\nmyorigin = $mydomain\n");
    const char *before = config_str("smtpd_timeout");
    ck_assert_int_eq(config_override("smtpd_timeout=10s", err, sizeof err), 0);
    ck_assert_int_eq(config_override("mydomain = override.example", err, sizeof err), 0);
    ck_assert_int_eq(config_time("smtpd_timeout"), 10);
    ck_assert_str_eq(config_str("myorigin"), "override.example");
    ck_assert_str_eq(before, "300s");   /* earlier results stay valid until the next load */
    bool explicit_setting = false;
    ck_assert_str_eq(config_raw("mydomain", &explicit_setting), "override.example");
    ck_assert(explicit_setting);
    /* overrides survive a reload */
    load_ok("smtpd_timeout = 1h\n");
    ck_assert_int_eq(config_time("smtpd_timeout"), 10);
}
END_TEST

START_TEST(test_override_errors)
{
    load_ok("smtpd_timeout = 1m\n");
    ck_assert_int_eq(config_override("smtpd_timeout=soon", err, sizeof err), -1);
    ck_assert_str_eq(err, "bad time value \"soon\" for smtpd_timeout");
    ck_assert_int_eq(config_time("smtpd_timeout"), 60);
    ck_assert_int_eq(config_override("smtpd_timeout", err, sizeof err), -1);
    ck_assert_str_eq(err, "missing \"=\" in \"smtpd_timeout\"");
    ck_assert_int_eq(config_override("=5", err, sizeof err), -1);
    ck_assert_str_eq(err, "missing parameter name before \"=\"");
    /* an override that breaks a value defined elsewhere is refused where that value is */
    load_ok("t = 5m\nmaster_stop_timeout = $t\n");
    ck_assert_int_eq(config_override("t=later", err, sizeof err), -1);
    ck_assert_str_eq(err, "t.conf:2: bad time value \"later\" for master_stop_timeout");
    ck_assert_int_eq(config_time("master_stop_timeout"), 300);
}
END_TEST

/* ---- directories and files ---- */

START_TEST(test_config_dir)
{
    unsetenv("TERN_CONFIG");
    ck_assert_str_eq(config_dir("/cli"), "/cli");
    ck_assert_str_eq(config_dir(NULL), TERN_CONFIG_DIR);
    setenv("TERN_CONFIG", "", 1);
    ck_assert_str_eq(config_dir(NULL), TERN_CONFIG_DIR);
    setenv("TERN_CONFIG", "/env", 1);
    ck_assert_str_eq(config_dir(NULL), "/env");
    ck_assert_str_eq(config_dir("/cli"), "/cli");
    unsetenv("TERN_CONFIG");
}
END_TEST

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
    unit_write_file(unit_fmt("%s/%s", tmpdir, name), text);
}

static char *read_conf(void)
{
    static char text[8192];
    char path[256];
    snprintf(path, sizeof path, "%s/tern.conf", tmpdir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void make_tmpdir(void)
{
    unit_mkdtemp(tmpdir, sizeof tmpdir, "/tmp/tern-test-config-XXXXXX");
}

static void remove_tmpdir(void)
{
    unit_rmtree(tmpdir);
}

START_TEST(test_load_from_directory)
{
    make_tmpdir();
    write_file("tern.conf", "mydomain = example.org\nconfig_directory = /elsewhere\n");
    ck_assert_msg(config_load(tmpdir, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(config_loaded_dir(), tmpdir);
    ck_assert_str_eq(config_str("config_directory"), tmpdir);
    ck_assert_str_eq(config_str("mydomain"), "example.org");
    remove_tmpdir();
    ck_assert_int_eq(config_load(tmpdir, err, sizeof err), -1);
    char expected[512];
    snprintf(expected, sizeof expected, "%s/tern.conf: No such file or directory", tmpdir);
    ck_assert_str_eq(err, expected);
}
END_TEST

START_TEST(test_file_size_bound)
{
    make_tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s/tern.conf", tmpdir);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 1024 * 1024 / 16 + 1; i++)
        fputs("# 16 bytes....\n\n", f);
    fclose(f);
    ck_assert_int_eq(config_load(tmpdir, err, sizeof err), -1);
    char expected[512];
    snprintf(expected, sizeof expected, "%s: file larger than 1048576 bytes", path);
    ck_assert_str_eq(err, expected);
    remove_tmpdir();
}
END_TEST

/* ---- listings ---- */

START_TEST(test_print)
{
    load_ok("myhostname = mx.example.org\nmy_custom = 1\n");
    char *s = print_to_string("myhostname", false, false, false);
    ck_assert_str_eq(s, "myhostname = mx.example.org\n");
    free(s);
    s = print_to_string("myorigin", false, true, false);
    ck_assert_str_eq(s, "mx.example.org\n");
    free(s);
    s = print_to_string("myorigin", false, false, true);
    ck_assert_str_eq(s, "myorigin = $myhostname\n");
    free(s);
    s = print_to_string("myhostname", true, false, false);
    char want[512];
    snprintf(want, sizeof want, "myhostname = %s\n", system_host());
    ck_assert_str_eq(s, want);
    free(s);
    s = print_to_string("relayhost", false, false, false);
    ck_assert_str_eq(s, "relayhost = \n");
    free(s);
    s = print_to_string("my_custom", false, false, true);
    ck_assert_str_eq(s, "my_custom = 1\n");
    free(s);
    s = print_to_string("no_such_name", false, false, true);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

START_TEST(test_print_all)
{
    load_ok("mydomain = example.org\nzz_custom = $mydomain\nmyhostname = mx\n");
    ck_assert_int_eq(config_override("smtpd_timeout=10s", err, sizeof err), 0);
    char *s = print_all_to_string(false, true, false, true);
    ck_assert_str_eq(s, "mydomain = example.org\nmyhostname = mx\nsmtpd_timeout = 10s\n"
                        "zz_custom = $mydomain\n");
    free(s);
    s = print_all_to_string(false, true, true, false);
    ck_assert_str_eq(s, "example.org\nmx\n10s\nexample.org\n");
    free(s);
    /* every parameter of the table, sorted, one line each */
    size_t table_size = 0;
    while (param_table[table_size].name)
        table_size++;
    s = print_all_to_string(true, false, false, true);
    size_t lines = 0;
    char prev[128] = "";
    for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        char name[128];
        ck_assert_int_eq(sscanf(line, "%127s", name), 1);
        ck_assert_msg(strcmp(prev, name) < 0, "%s after %s", name, prev);
        strcpy(prev, name);
    }
    ck_assert_uint_eq(lines, table_size);
    free(s);
    s = print_all_to_string(false, false, false, true);
    ck_assert_ptr_nonnull(strstr(s, "\nzz_custom = $mydomain\n"));
    ck_assert_ptr_nonnull(strstr(s, "\nmyorigin = $myhostname\n"));
    free(s);
}
END_TEST

/* ---- edits ---- */

static const char edit_base[] =
    "# tern.conf\n"
    "myhostname = mx.example.org\n"
    "mydestination = a,\n"
    "    b,\n"
    "# between continuation lines\n"
    "    c\n"
    "\n"
    "# relay\n"
    "relayhost = [smtp]:587";

START_TEST(test_edit_set_replaces_in_place)
{
    make_tmpdir();
    write_file("tern.conf", edit_base);
    ck_assert_msg(config_edit_set(tmpdir, "mydestination = $myhostname, localhost", err,
                                  sizeof err) == 0,
                  "%s", err);
    ck_assert_str_eq(read_conf(),
                     "# tern.conf\n"
                     "myhostname = mx.example.org\n"
                     "mydestination = $myhostname, localhost\n"
                     "# between continuation lines\n"
                     "\n"
                     "# relay\n"
                     "relayhost = [smtp]:587");
    ck_assert_msg(config_edit_set(tmpdir, "smtpd_timeout=30s", err, sizeof err) == 0, "%s", err);
    ck_assert_msg(config_edit_set(tmpdir, "relay_domains =", err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(read_conf(),
                     "# tern.conf\n"
                     "myhostname = mx.example.org\n"
                     "mydestination = $myhostname, localhost\n"
                     "# between continuation lines\n"
                     "\n"
                     "# relay\n"
                     "relayhost = [smtp]:587\n"
                     "smtpd_timeout = 30s\n"
                     "relay_domains =\n");
    ck_assert_msg(config_load(tmpdir, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(config_str("mydestination"), "mx.example.org, localhost");
    ck_assert_int_eq(config_time("smtpd_timeout"), 30);
    remove_tmpdir();
}
END_TEST

START_TEST(test_edit_set_duplicates)
{
    make_tmpdir();
    write_file("tern.conf", "mydomain = one\nrelayhost = r\nmydomain = two\n  more\n# end\n");
    ck_assert_msg(config_edit_set(tmpdir, "mydomain = three", err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(read_conf(), "mydomain = three\nrelayhost = r\n# end\n");
    remove_tmpdir();
}
END_TEST

START_TEST(test_edit_remove)
{
    make_tmpdir();
    write_file("tern.conf", edit_base);
    ck_assert_msg(config_edit_remove(tmpdir, "mydestination", err, sizeof err) == 0, "%s", err);
    ck_assert_msg(config_edit_remove(tmpdir, "relayhost", err, sizeof err) == 0, "%s", err);
    ck_assert_msg(config_edit_remove(tmpdir, "not_there", err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(read_conf(),
                     "# tern.conf\n"
                     "myhostname = mx.example.org\n"
                     "# between continuation lines\n"
                     "\n"
                     "# relay\n");
    ck_assert_int_eq(config_edit_remove(tmpdir, "bad-name", err, sizeof err), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_str_eq(err, "bad parameter name \"bad-name\" (use letters, digits and _)");
    remove_tmpdir();
}
END_TEST

START_TEST(test_edit_refuses_bad_values)
{
    make_tmpdir();
    write_file("tern.conf", edit_base);
    char expected[512];
    ck_assert_int_eq(config_edit_set(tmpdir, "service_throttle_time = soon", err, sizeof err), -1);
    ck_assert_int_eq(errno, EINVAL);
    snprintf(expected, sizeof expected,
             "%s/tern.conf:10: bad time value \"soon\" for service_throttle_time", tmpdir);
    ck_assert_str_eq(err, expected);
    ck_assert_str_eq(read_conf(), edit_base);
    ck_assert_int_eq(config_edit_set(tmpdir, "no equals sign", err, sizeof err), -1);
    ck_assert_str_eq(err, "missing \"=\" in \"no equals sign\"");
    ck_assert_int_eq(config_edit_set(tmpdir, "mydomain = ${x", err, sizeof err), -1);
    snprintf(expected, sizeof expected,
             "%s/tern.conf:10: cannot expand mydomain: unbalanced \"{\"", tmpdir);
    ck_assert_str_eq(err, expected);
    ck_assert_str_eq(read_conf(), edit_base);
    remove_tmpdir();
    ck_assert_int_eq(config_edit_set(tmpdir, "mydomain = x", err, sizeof err), -1);
    ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_edit_keeps_mode)
{
    make_tmpdir();
    write_file("tern.conf", "mydomain = x\n");
    char path[256];
    snprintf(path, sizeof path, "%s/tern.conf", tmpdir);
    chmod(path, 0640);
    ck_assert_msg(config_edit_set(tmpdir, "mydomain = y", err, sizeof err) == 0, "%s", err);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
    ck_assert_str_eq(read_conf(), "mydomain = y\n");
    remove_tmpdir();
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("syntax");
    tcase_add_test(tc, test_basic_and_trimming);
    tcase_add_test(tc, test_comments_and_blank_lines);
    tcase_add_test(tc, test_continuation);
    tcase_add_test(tc, test_continuation_without_definition);
    tcase_add_test(tc, test_last_definition_wins);
    tcase_add_test(tc, test_no_final_newline_and_crlf);
    tcase_add_test(tc, test_empty_value);
    tcase_add_test(tc, test_syntax_errors);
    tcase_add_test(tc, test_failed_load_keeps_previous);
    tcase_add_test(tc, test_line_limits);
    tcase_add_test(tc, test_nul_byte);
    tcase_add_test(tc, test_unknown_parameter_warns);
    suite_add_tcase(s, tc);

    tc = tcase_create("expansion");
    tcase_add_test(tc, test_expansion_forms);
    tcase_add_test(tc, test_expansion_is_lazy);
    tcase_add_test(tc, test_expand_malformed_text_is_literal);
    tcase_add_test(tc, test_malformed_reference_in_file);
    tcase_add_test(tc, test_recursion_limit);
    tcase_add_test(tc, test_recursion_depth_bound);
    tcase_add_test(tc, test_expansion_size_bound);
    tcase_add_test(tc, test_expansion_work_bound);
    tcase_add_test(tc, test_empty_myhostname_is_system_name);
    suite_add_tcase(s, tc);

    tc = tcase_create("types");
    tcase_add_test(tc, test_parse_time);
    tcase_add_test(tc, test_parse_size);
    tcase_add_test(tc, test_parse_bool_and_int);
    tcase_add_test(tc, test_typed_getters);
    tcase_add_test(tc, test_type_errors);
    tcase_add_test(tc, test_defaults_are_valid);
    tcase_add_exit_test(tc, test_unknown_getter_is_fatal, EX_SOFTWARE);
    tcase_add_exit_test(tc, test_wrong_type_getter_is_fatal, EX_SOFTWARE);
    suite_add_tcase(s, tc);

    tc = tcase_create("overrides");
    tcase_add_test(tc, test_overrides);
    tcase_add_test(tc, test_override_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_add_test(tc, test_config_dir);
    tcase_add_test(tc, test_load_from_directory);
    tcase_add_test(tc, test_file_size_bound);
    tcase_add_test(tc, test_print);
    tcase_add_test(tc, test_print_all);
    tcase_add_test(tc, test_edit_set_replaces_in_place);
    tcase_add_test(tc, test_edit_set_duplicates);
    tcase_add_test(tc, test_edit_remove);
    tcase_add_test(tc, test_edit_refuses_bad_values);
    tcase_add_test(tc, test_edit_keeps_mode);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(config_suite());
}

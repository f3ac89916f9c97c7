/* test_valias.c: unit tests of qmgr/valias.c: virtual_alias_maps expansion (one address, lists,
 * chains, the @domain catch-all with and without a user part, extensions and quoted local
 * parts, self-references, duplicates, nesting and size bounds, case folding, no tables). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "qmgr.h"
#include "unit.h"

static char tmpdir[64];

static void setup(void)
{
    unit_mkdtemp(tmpdir, sizeof tmpdir, "/tmp/test_valias.XXXXXX");
}

static void teardown(void)
{
    unit_rmtree(tmpdir);
}

/* Expands address under the given configuration text; returns the result as one string
 * "a b c", "" for no alias, or "ERROR" for a failure. */
static const char *expand_conf(const char *conf, const char *address)
{
    unit_load_config(conf, tmpdir);
    char err[256];
    struct valias *v = valias_open(err, sizeof err);
    ck_assert_msg(v != NULL, "%s", err);
    char **list;
    size_t n;
    int rc = valias_expand(v, address, &list, &n, err, sizeof err);
    static char out[4096];
    out[0] = '\0';
    if (rc < 0)
        snprintf(out, sizeof out, "ERROR");
    for (size_t i = 0; rc > 0 && i < n; i++) {
        strcat(out, i ? " " : "");
        strcat(out, list[i]);
    }
    if (rc > 0)
        valias_free_list(list, n);
    valias_close(v);
    return out;
}

/* The same under the given virtual_alias_maps value alone. */
static const char *expand(const char *maps, const char *address)
{
    return expand_conf(unit_fmt("virtual_alias_maps = %s\n", maps), address);
}

START_TEST(simple_and_lists)
{
    ck_assert_str_eq(expand("inline:{a@v.example=b@w.example}", "a@v.example"), "b@w.example");
    ck_assert_str_eq(expand("inline:{a@v.example=b@w.example}", "A@V.Example"), "b@w.example");
    ck_assert_str_eq(expand("inline:{a@v.example=b@w.example}", "c@v.example"), "");
    ck_assert_str_eq(expand("inline:{{a@v.example=b@w.example, c@w.example}}", "a@v.example"),
                     "b@w.example c@w.example");
}
END_TEST

START_TEST(chains_self_and_duplicates)
{
    /* a -> b -> c in one step */
    ck_assert_str_eq(expand("inline:{a@v.example=b@v.example, b@v.example=c@w.example}",
                            "a@v.example"), "c@w.example");
    /* a list that names itself keeps a copy for itself */
    ck_assert_str_eq(expand("inline:{{a@v.example=a@v.example, x@w.example}}", "a@v.example"),
                     "a@v.example x@w.example");
    /* an alias to itself alone changes nothing */
    ck_assert_str_eq(expand("inline:{a@v.example=a@v.example}", "a@v.example"), "");
    /* two routes to the same address deliver once */
    ck_assert_str_eq(expand("inline:{{l@v.example=m@v.example, n@v.example}, "
                            "m@v.example=z@w.example, n@v.example=z@w.example}", "l@v.example"),
                     "z@w.example");
}
END_TEST

START_TEST(catch_all)
{
    ck_assert_str_eq(expand("inline:{@v.example=postmaster@w.example}", "anyone@v.example"),
                     "postmaster@w.example");
    /* @domain -> @other keeps the user part */
    ck_assert_str_eq(expand("inline:{@v.example=@w.example}", "anyone@v.example"),
                     "anyone@w.example");
    /* the address wins over the catch-all */
    ck_assert_str_eq(expand("inline:{a@v.example=b@w.example, @v.example=c@w.example}",
                            "a@v.example"), "b@w.example");
}
END_TEST

START_TEST(extensions_and_quotes)
{
    const char *conf = "recipient_delimiter = +-\n"
                       "virtual_alias_maps = inline:{info@v.example=b@w.example, "
                       "info+sales@v.example=s@w.example, @c.example=@w.example, "
                       "owner@v.example=o@w.example}\n";
    /* user+ext@domain first, then user@domain (the first delimiter cuts) */
    ck_assert_str_eq(expand_conf(conf, "info+sales@v.example"), "s@w.example");
    /* an unmatched extension goes on to the targets (Postfix's propagate_unmatched_extensions) */
    ck_assert_str_eq(expand_conf(conf, "Info+Other@V.Example"), "b+other@w.example");
    ck_assert_str_eq(expand_conf(conf, "info-x+y@v.example"), "b-x+y@w.example");
    /* no delimiter setting: the extension stays part of the user */
    ck_assert_str_eq(expand("inline:{info@v.example=b@w.example}", "info+x@v.example"), "");
    /* mailing list names are not cut at '-' */
    ck_assert_str_eq(expand_conf(conf, "owner-list@v.example"), "");
    /* a quoted local part is looked up unquoted */
    ck_assert_str_eq(expand_conf(conf, "\"info\"@v.example"), "b@w.example");
    ck_assert_str_eq(expand_conf(conf, "\"Info+Sales\"@v.example"), "s@w.example");
    /* the catch-all keeps the user part as written, extension and quotes included */
    ck_assert_str_eq(expand_conf(conf, "joe+x@c.example"), "joe+x@w.example");
    ck_assert_str_eq(expand_conf(conf, "\"j d\"@c.example"), "\"j d\"@w.example");
    ck_assert_str_eq(expand_conf(conf, "\"a@b\"@c.example"), "\"a@b\"@w.example");
}
END_TEST

START_TEST(bounds)
{
    /* a loop a -> b -> a is cut by the nesting bound: an error, not a hang */
    ck_assert_str_eq(expand("inline:{a@v.example=b@v.example, b@v.example=a@v.example}",
                            "a@v.example"), "ERROR");
    /* no tables: nothing to expand */
    unit_load_config("", tmpdir);
    char err[256];
    struct valias *v = valias_open(err, sizeof err);
    ck_assert_ptr_nonnull(v);
    char **list;
    size_t n;
    ck_assert_int_eq(valias_expand(v, "a@v.example", &list, &n, err, sizeof err), 0);
    valias_close(v);
    /* more than 1000 addresses is refused */
    char path[128];
    snprintf(path, sizeof path, "%s/big", tmpdir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "big@v.example ");
    for (int i = 0; i < 1001; i++)
        fprintf(f, "%su%d@w.example", i ? "," : "", i);
    fprintf(f, "\n");
    fclose(f);
    ck_assert_str_eq(expand(unit_fmt("texthash:%s", path), "big@v.example"), "ERROR");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("valias");
    TCase *tc = tcase_create("valias");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, simple_and_lists);
    tcase_add_test(tc, chains_self_and_duplicates);
    tcase_add_test(tc, catch_all);
    tcase_add_test(tc, extensions_and_quotes);
    tcase_add_test(tc, bounds);
    suite_add_tcase(s, tc);
    return unit_run(s);
}

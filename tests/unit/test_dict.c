/* test_dict.c: unit tests of the lookup tables (common/dict.h): the text parser, building and
 * reading hash:/btree: files (including ones laid out the way Postfix's postmap writes them),
 * rebuild detection, and the in-memory texthash:, static: and inline: tables. */
#include <check.h>
#include <db.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "dict.h"
#include "unit.h"

static char tmpdir[64];

static const char *in_tmp(const char *name)
{
    return unit_fmt("%s/%s", tmpdir, name);
}

static const char *spec_of(const char *type, const char *name)
{
    return unit_fmt("%s:%s/%s", type, tmpdir, name);
}

static void write_file(const char *name, const char *text)
{
    ck_assert_int_eq(unit_write_file(in_tmp(name), text), 0);
}

static void setup(void)
{
    unit_mkdtemp(tmpdir, sizeof tmpdir, "/tmp/test_dict.XXXXXX");
}

static void teardown(void)
{
    unit_rmtree(tmpdir);
}

/* ---- parser ---- */

static int collect(const char *key, const char *value, void *arg)
{
    buf_printf(arg, "[%s]=[%s]\n", key, value);
    return 0;
}

static int parse(const char *text, enum dict_format format, struct buf *out, char *err,
                 size_t errlen)
{
    buf_init(out, BUF_UNBOUNDED);
    err[0] = '\0';
    return dict_parse_text("src", text, strlen(text), format, collect, out, err, errlen);
}

START_TEST(parse_map)
{
    struct buf out;
    char err[ERR_TEXT_MAX];
    const char *text = "# comment\n"
                       "Root   admin\n"
                       "\n"
                       "   # indented comment inside an entry\n"
                       "list\ta,\n"
                       "  b,\r\n"
                       "\t c   \n"
                       "key:colon  value with  inner spaces\n"
                       "last x";   /* no newline at the end */
    ck_assert_int_eq(parse(text, DICT_FORMAT_MAP, &out, err, sizeof err), 0);
    ck_assert_str_eq(out.data, "[Root]=[admin]\n"
                               "[list]=[a, b, c]\n"
                               "[key:colon]=[value with  inner spaces]\n"
                               "[last]=[x]\n");
    buf_free(&out);
}
END_TEST

START_TEST(parse_alias)
{
    struct buf out;
    char err[ERR_TEXT_MAX];
    const char *text = "postmaster: root\n"
                       "\"with space\": joe\n"
                       "\"a:b\\\"c\" : x\n"
                       "MAILER-DAEMON :postmaster\n"
                       "staff: ann,\n"
                       "    bob,\n"
                       "# gone\n"
                       "\t\"|/usr/bin/cmd arg\"\n";
    ck_assert_int_eq(parse(text, DICT_FORMAT_ALIAS, &out, err, sizeof err), 0);
    ck_assert_str_eq(out.data, "[postmaster]=[root]\n"
                               "[with space]=[joe]\n"
                               "[a:b\"c]=[x]\n"
                               "[MAILER-DAEMON]=[postmaster]\n"
                               "[staff]=[ann, bob, \"|/usr/bin/cmd arg\"]\n");
    buf_free(&out);
}
END_TEST

static void parse_fails(const char *text, enum dict_format format, const char *want)
{
    struct buf out;
    char err[ERR_TEXT_MAX];
    ck_assert_int_eq(parse(text, format, &out, err, sizeof err), -1);
    ck_assert_str_eq(err, want);
    buf_free(&out);
}

START_TEST(parse_errors)
{
    parse_fails("a b\n\n#c\nlonely\nz y\n", DICT_FORMAT_MAP, "src:4: key \"lonely\" has no value");
    parse_fails("  indented first\n", DICT_FORMAT_MAP,
                "src:1: continuation line without an entry before it");
    parse_fails("a: b\nnocolon x\n", DICT_FORMAT_ALIAS, "src:2: missing \":\" after name \"nocolon\"");
    parse_fails("\"open: x\n", DICT_FORMAT_ALIAS, "src:1: unterminated quoted name");
    parse_fails("a: b\nempty:\n", DICT_FORMAT_ALIAS, "src:2: name \"empty\" has no value");
    parse_fails(": x\n", DICT_FORMAT_ALIAS, "src:1: empty name");

    struct buf out;
    char err[ERR_TEXT_MAX];
    buf_init(&out, BUF_UNBOUNDED);
    const char nul[] = "a b\nc d\0e\n";
    ck_assert_int_eq(dict_parse_text("src", nul, sizeof nul - 1, DICT_FORMAT_MAP, collect, &out,
                                     err, sizeof err), -1);
    ck_assert_str_eq(err, "src:2: NUL byte in line");

    struct buf big;
    buf_init(&big, BUF_UNBOUNDED);
    buf_puts(&big, "a b\nk ");
    for (int i = 0; i < 64 * 1024; i++)
        buf_putc(&big, 'v');
    buf_puts(&big, "\n");
    buf_reset(&out);
    ck_assert_int_eq(dict_parse_text("src", big.data, big.len, DICT_FORMAT_MAP, collect, &out,
                                     err, sizeof err), -1);
    ck_assert_str_eq(err, "src:2: line longer than 65536 bytes");

    /* A quoted alias name continued over lines is still bounded. */
    buf_set(&big, "\"");
    for (int i = 0; i < 40000; i++)
        buf_putc(&big, 'a');
    buf_puts(&big, "\n ");
    for (int i = 0; i < 40000; i++)
        buf_putc(&big, 'b');
    buf_puts(&big, "\": x\n");
    ck_assert_int_eq(dict_parse_text("src", big.data, big.len, DICT_FORMAT_ALIAS, collect, &out,
                                     err, sizeof err), -1);
    ck_assert_str_eq(err, "src:1: name longer than 65536 bytes");
    buf_free(&big);
    buf_free(&out);
}
END_TEST

static int stop_at_second(const char *key, const char *value, void *arg)
{
    int *n = arg;
    if (++*n == 2)
        return -1;
    return 0;
}

START_TEST(parse_callback_stops)
{
    char err[ERR_TEXT_MAX];
    int n = 0;
    const char *text = "a 1\nb 2\nc 3\n";
    ck_assert_int_eq(dict_parse_text("src", text, strlen(text), DICT_FORMAT_MAP, stop_at_second,
                                     &n, err, sizeof err), -1);
    ck_assert_int_eq(n, 2);
}
END_TEST

/* ---- hash: and btree: ---- */

static void expect_value(struct dict *d, const char *key, const char *want)
{
    const char *value = NULL;
    char err[ERR_TEXT_MAX] = "";
    ck_assert_msg(dict_lookup(d, key, &value, err, sizeof err) == 1, "lookup %s: %s", key, err);
    ck_assert_str_eq(value, want);
}

static void expect_absent(struct dict *d, const char *key)
{
    const char *value = NULL;
    char err[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(dict_lookup(d, key, &value, err, sizeof err), 0);
}

static void build_and_read(const char *type)
{
    char err[ERR_TEXT_MAX] = "";
    write_file("map", "Root admin\nuser@Example.COM  local:user\ndup first\ndup second\n");
    const char *spec = spec_of(type, "map");
    ck_assert_msg(dict_build(spec, DICT_FORMAT_MAP, err, sizeof err) == 3, "%s", err);
    struct dict *d = dict_open(spec, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    ck_assert_str_eq(dict_spec(d), spec);
    expect_value(d, "ROOT", "admin");
    expect_value(d, "root", "admin");
    expect_value(d, "USER@example.com", "local:user");
    expect_value(d, "dup", "first");
    expect_absent(d, "nobody");
    expect_absent(d, "");
    /* No temporary file is left next to the table. */
    DIR *dir = opendir(tmpdir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dir)) != NULL)
        if (e->d_name[0] != '.')
            files++;
    closedir(dir);
    ck_assert_int_eq(files, 2);
    dict_close(d);
}

START_TEST(build_hash)
{
    build_and_read("hash");
    char err[ERR_TEXT_MAX];
    /* The file really is a hash: a btree: reader refuses it. */
    ck_assert_ptr_null(dict_open(spec_of("btree", "map"), err, sizeof err));
    ck_assert_msg(strstr(err, "cannot open") != NULL, "%s", err);
}
END_TEST

START_TEST(build_btree)
{
    build_and_read("btree");
}
END_TEST

START_TEST(build_alias)
{
    char err[ERR_TEXT_MAX] = "";
    write_file("aliases", "# sample\nPostmaster: root\nstaff: ann,\n  bob\n");
    const char *spec = spec_of("hash", "aliases");
    ck_assert_msg(dict_build(spec, DICT_FORMAT_ALIAS, err, sizeof err) == 2, "%s", err);
    struct dict *d = dict_open(spec, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    expect_value(d, "postmaster", "root");
    expect_value(d, "staff", "ann, bob");
    expect_value(d, "@", "@");
    dict_close(d);

    /* Keys and values are stored with their NUL, as Postfix does on Linux. */
    DB *db;
    ck_assert_int_eq(db_create(&db, NULL, 0), 0);
    ck_assert_int_eq(db->open(db, NULL, in_tmp("aliases.db"), NULL, DB_HASH, DB_RDONLY, 0), 0);
    DBT k = { .data = "postmaster", .size = 11 }, v = { .data = NULL };
    ck_assert_int_eq(db->get(db, NULL, &k, &v, 0), 0);
    ck_assert_int_eq(v.size, 5);
    ck_assert_mem_eq(v.data, "root", 5);
    k.size = 10;
    ck_assert_int_eq(db->get(db, NULL, &k, &v, 0), DB_NOTFOUND);
    db->close(db, 0);
}
END_TEST

START_TEST(build_errors)
{
    char err[ERR_TEXT_MAX];
    write_file("map", "good value\n");
    const char *spec = spec_of("hash", "map");
    ck_assert_int_eq(dict_build(spec, DICT_FORMAT_MAP, err, sizeof err), 1);

    /* A broken source leaves the old table in place and no temporary file behind. */
    write_file("map", "good changed\n\nbad\n");
    ck_assert_int_eq(dict_build(spec, DICT_FORMAT_MAP, err, sizeof err), -1);
    char want[ERR_TEXT_MAX];
    snprintf(want, sizeof want, "%s:3: key \"bad\" has no value", in_tmp("map"));
    ck_assert_str_eq(err, want);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.db.tmp.%ld", in_tmp("map"), (long)getpid());
    ck_assert_int_eq(access(tmp, F_OK), -1);
    struct dict *d = dict_open(spec, err, sizeof err);
    ck_assert_ptr_nonnull(d);
    expect_value(d, "good", "value");
    dict_close(d);

    spec = spec_of("hash", "missing");
    ck_assert_int_eq(dict_build(spec, DICT_FORMAT_MAP, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot read %s: No such file or directory", spec,
             in_tmp("missing"));
    ck_assert_str_eq(err, want);

    ck_assert_int_eq(dict_build("texthash:/etc/x", DICT_FORMAT_MAP, err, sizeof err), -1);
    ck_assert_str_eq(err, "texthash:/etc/x: table type \"texthash\" is not built from a file");
    ck_assert_int_eq(dict_build("cdb:/etc/x", DICT_FORMAT_MAP, err, sizeof err), -1);
    ck_assert_str_eq(err, "cdb:/etc/x: unsupported table type \"cdb\"");
}
END_TEST

/* Writes name.db the way postmap does, with or without the NUL after keys and values. */
static void write_postmap_db(const char *name, bool with_nul, const char *const *kv)
{
    DB *db;
    ck_assert_int_eq(db_create(&db, NULL, 0), 0);
    ck_assert_int_eq(db->open(db, NULL, in_tmp(name), NULL, DB_HASH, DB_CREATE, 0644), 0);
    for (; kv[0]; kv += 2) {
        DBT k = { .data = (void *)kv[0], .size = (u_int32_t)(strlen(kv[0]) + with_nul) };
        DBT v = { .data = (void *)kv[1], .size = (u_int32_t)(strlen(kv[1]) + with_nul) };
        ck_assert_int_eq(db->put(db, NULL, &k, &v, 0), 0);
    }
    ck_assert_int_eq(db->close(db, 0), 0);
}

START_TEST(read_postmap_files)
{
    static const char *const kv[] = { "root", "admin@example.org", "example.com", "OK", NULL };
    char err[ERR_TEXT_MAX];
    for (int with_nul = 0; with_nul <= 1; with_nul++) {
        write_postmap_db(with_nul ? "nul.db" : "plain.db", with_nul, kv);
        struct dict *d = dict_open(spec_of("hash", with_nul ? "nul" : "plain"), err, sizeof err);
        ck_assert_msg(d != NULL, "%s", err);
        expect_value(d, "Root", "admin@example.org");
        expect_value(d, "example.com", "OK");
        expect_absent(d, "roo");
        expect_absent(d, "example");
        dict_close(d);
    }
}
END_TEST

START_TEST(read_value_too_long)
{
    char *big = malloc(DICT_VALUE_MAX + 2);
    memset(big, 'x', DICT_VALUE_MAX + 1);
    big[DICT_VALUE_MAX + 1] = '\0';
    const char *kv[] = { "big", big, "fits", big + 1, NULL };
    write_postmap_db("big.db", true, kv);
    char err[ERR_TEXT_MAX];
    const char *spec = spec_of("hash", "big");
    struct dict *d = dict_open(spec, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    const char *value;
    ck_assert_int_eq(dict_lookup(d, "big", &value, err, sizeof err), -1);
    char want[ERR_TEXT_MAX];
    snprintf(want, sizeof want, "%s: value of \"big\" is longer than 65536 bytes", spec);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(dict_lookup(d, "fits", &value, err, sizeof err), 1);
    ck_assert_uint_eq(strlen(value), DICT_VALUE_MAX);
    dict_close(d);
    free(big);
}
END_TEST

static void sleep_past_second(void)
{
    struct timespec ts = { 1, 150 * 1000 * 1000 };
    nanosleep(&ts, NULL);
}

START_TEST(rebuild_detected)
{
    char err[ERR_TEXT_MAX], spec[256];
    snprintf(spec, sizeof spec, "%s", spec_of("hash", "map"));
    write_file("map", "key old\n");
    ck_assert_int_eq(dict_build(spec, DICT_FORMAT_MAP, err, sizeof err), 1);
    struct dict *d = dict_open(spec, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    expect_value(d, "key", "old");

    write_file("map", "key new\nadded yes\n");
    ck_assert_int_eq(dict_build(spec, DICT_FORMAT_MAP, err, sizeof err), 2);
    sleep_past_second();
    expect_value(d, "key", "new");
    expect_value(d, "added", "yes");

    /* A table that vanished is a temporary error, not stale answers. */
    ck_assert_int_eq(unlink(in_tmp("map.db")), 0);
    sleep_past_second();
    const char *value;
    ck_assert_int_eq(dict_lookup(d, "key", &value, err, sizeof err), -1);
    char want[ERR_TEXT_MAX];
    snprintf(want, sizeof want, "%s: cannot open %s: No such file or directory", spec,
             in_tmp("map.db"));
    ck_assert_str_eq(err, want);
    dict_close(d);
}
END_TEST

START_TEST(recheck_sees_a_rebuild_at_once)
{
    char err[ERR_TEXT_MAX], spec[256];
    snprintf(spec, sizeof spec, "%s", spec_of("hash", "map2"));
    write_file("map2", "key old\n");
    ck_assert_int_eq(dict_build(spec, DICT_FORMAT_MAP, err, sizeof err), 1);
    struct dict *d = dict_open(spec, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    expect_value(d, "key", "old");
    write_file("map2", "key new\n");
    ck_assert_int_eq(dict_build(spec, DICT_FORMAT_MAP, err, sizeof err), 1);
    dict_recheck(d);   /* no second has to pass */
    expect_value(d, "key", "new");
    ck_assert_int_eq(unlink(in_tmp("map2.db")), 0);
    dict_recheck(d);
    const char *value;
    ck_assert_int_eq(dict_lookup(d, "key", &value, err, sizeof err), -1);
    dict_close(d);
}
END_TEST

/* ---- dict_open errors, texthash:, static:, inline: ---- */

START_TEST(open_errors)
{
    char err[ERR_TEXT_MAX], want[ERR_TEXT_MAX];
    const char *spec = spec_of("hash", "nope");
    ck_assert_ptr_null(dict_open(spec, err, sizeof err));
    snprintf(want, sizeof want, "%s: cannot open %s: No such file or directory", spec,
             in_tmp("nope.db"));
    ck_assert_str_eq(err, want);
    ck_assert_ptr_null(dict_open("foo:/x", err, sizeof err));
    ck_assert_str_eq(err, "foo:/x: unsupported table type \"foo\"");
    ck_assert_ptr_null(dict_open("/etc/aliases", err, sizeof err));
    ck_assert_str_eq(err, "/etc/aliases: missing table type (expected type:name)");
    ck_assert_ptr_null(dict_open("hash:", err, sizeof err));
    ck_assert_str_eq(err, "hash:: missing file name");

    char huge[ERR_TEXT_MAX * 3];
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    memcpy(huge, "nosuch:", 7);
    ck_assert_ptr_null(dict_open(huge, err, sizeof err));
    ck_assert_uint_eq(strlen(err), sizeof err - 1);

    ck_assert(dict_type_is_built("hash:/etc/aliases"));
    ck_assert(dict_type_is_built("btree:/x"));
    ck_assert(!dict_type_is_built("texthash:/x"));
    ck_assert(!dict_type_is_built("hashy:/x"));
    ck_assert(!dict_type_is_built("hash"));
}
END_TEST

START_TEST(texthash)
{
    char err[ERR_TEXT_MAX], want[ERR_TEXT_MAX];
    write_file("t", "# virtual\nInfo@Example.com  ann\nlist a,\n b\ninfo@example.com second\n");
    struct dict *d = dict_open(spec_of("texthash", "t"), err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    expect_value(d, "INFO@example.COM", "ann");
    expect_value(d, "list", "a, b");
    expect_absent(d, "info");
    dict_close(d);

    write_file("bad", "ok yes\nbroken\n");
    const char *spec = spec_of("texthash", "bad");
    ck_assert_ptr_null(dict_open(spec, err, sizeof err));
    snprintf(want, sizeof want, "%s: %s:2: key \"broken\" has no value", spec, in_tmp("bad"));
    ck_assert_str_eq(err, want);

    spec = spec_of("texthash", "absent");
    ck_assert_ptr_null(dict_open(spec, err, sizeof err));
    snprintf(want, sizeof want, "%s: cannot read %s: No such file or directory", spec,
             in_tmp("absent"));
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(texthash_many)
{
    /* Enough entries to make the table grow several times. */
    struct buf text;
    buf_init(&text, BUF_UNBOUNDED);
    for (int i = 0; i < 5000; i++)
        buf_printf(&text, "Key%d value%d\n", i, i);
    write_file("many", text.data);
    buf_free(&text);
    char err[ERR_TEXT_MAX];
    struct dict *d = dict_open(spec_of("texthash", "many"), err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    char key[32], value[32];
    for (int i = 0; i < 5000; i += 7) {
        snprintf(key, sizeof key, "KEY%d", i);
        snprintf(value, sizeof value, "value%d", i);
        expect_value(d, key, value);
    }
    expect_absent(d, "key5000");
    dict_close(d);
}
END_TEST

START_TEST(static_table)
{
    char err[ERR_TEXT_MAX];
    struct dict *d = dict_open("static:OK", err, sizeof err);
    ck_assert_ptr_nonnull(d);
    expect_value(d, "anything", "OK");
    expect_value(d, "", "OK");
    char *huge = malloc(200000);
    memset(huge, 'k', 199999);
    huge[199999] = '\0';
    expect_value(d, huge, "OK");
    free(huge);
    ck_assert_str_eq(dict_spec(d), "static:OK");
    dict_close(d);
    d = dict_open("static:{ text with spaces }", err, sizeof err);
    ck_assert_ptr_nonnull(d);
    expect_value(d, "x", "text with spaces");
    dict_close(d);
}
END_TEST

START_TEST(inline_table)
{
    char err[ERR_TEXT_MAX];
    struct dict *d = dict_open("inline:{ A=1, b=2 c=3,,d=four }", err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    expect_value(d, "a", "1");
    expect_value(d, "B", "2");
    expect_value(d, "c", "3");
    expect_value(d, "d", "four");
    expect_absent(d, "e");
    dict_close(d);

    d = dict_open("inline:{ { k = v, with comma }, x={y z}, first=1, FIRST=2 }", err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    expect_value(d, "k", "v, with comma");
    expect_value(d, "x", "y z");
    expect_value(d, "first", "1");
    dict_close(d);

    d = dict_open("inline:{}", err, sizeof err);
    ck_assert_ptr_nonnull(d);
    expect_absent(d, "a");
    dict_close(d);

    ck_assert_ptr_null(dict_open("inline:a=b", err, sizeof err));
    ck_assert_str_eq(err, "inline:a=b: expected inline:{ key=value, ... }");
    ck_assert_ptr_null(dict_open("inline:{a=b, c}", err, sizeof err));
    ck_assert_str_eq(err, "inline:{a=b, c}: missing \"=\" in \"c\"");
    ck_assert_ptr_null(dict_open("inline:{a=b, {c=d}", err, sizeof err));
    ck_assert_str_eq(err, "inline:{a=b, {c=d}: missing \"}\"");
    ck_assert_ptr_null(dict_open("inline:{a=}", err, sizeof err));
    ck_assert_str_eq(err, "inline:{a=}: missing value in \"a=\"");
    ck_assert_ptr_null(dict_open("inline:{{a=b}c}", err, sizeof err));
    ck_assert_str_eq(err, "inline:{{a=b}c}: text after \"}\" in \"{a=b}c\"");
}
END_TEST

static Suite *dict_suite(void)
{
    Suite *s = suite_create("dict");
    TCase *tc = tcase_create("dict");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, parse_map);
    tcase_add_test(tc, parse_alias);
    tcase_add_test(tc, parse_errors);
    tcase_add_test(tc, parse_callback_stops);
    tcase_add_test(tc, build_hash);
    tcase_add_test(tc, build_btree);
    tcase_add_test(tc, build_alias);
    tcase_add_test(tc, build_errors);
    tcase_add_test(tc, read_postmap_files);
    tcase_add_test(tc, read_value_too_long);
    tcase_add_test(tc, rebuild_detected);
    tcase_add_test(tc, recheck_sees_a_rebuild_at_once);
    tcase_add_test(tc, open_errors);
    tcase_add_test(tc, texthash);
    tcase_add_test(tc, texthash_many);
    tcase_add_test(tc, static_table);
    tcase_add_test(tc, inline_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(dict_suite());
}

/* test_dict_walk.c: unit tests of what ternmap needs from the lookup tables (common/dict.h):
 * dict_walk over hash:, btree: and texthash: (markers skipped, NULs stripped, files written the
 * way Postfix's postalias does), the reasons dict_build_why gives for each kind of failure, the
 * source's permissions carried to the new file, and the message for a symlinked source. */
#include <check.h>
#include <db.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    unit_mkdtemp(tmpdir, sizeof tmpdir, "/tmp/test_dict_walk.XXXXXX");
}

static void teardown(void)
{
    unit_rmtree(tmpdir);
}

/* ---- dict_walk ---- */

static int collect(const char *key, const char *value, void *arg)
{
    buf_printf(arg, "[%s]=[%s]\n", key, value);
    return 0;
}

/* The walk of spec as "[key]=[value]" lines, sorted so hash order does not matter. */
static char *walk_sorted(const char *spec)
{
    char err[ERR_TEXT_MAX] = "";
    struct dict *d = dict_open(spec, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    struct buf out;
    buf_init(&out, BUF_UNBOUNDED);
    ck_assert_msg(dict_walk(d, collect, &out, err, sizeof err) == 0, "%s", err);
    dict_close(d);
    /* sort the lines */
    char *lines[64];
    size_t n = 0;
    for (char *save = NULL, *l = strtok_r(out.data, "\n", &save); l && n < 64;
         l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
            char *t = lines[j];
            lines[j] = lines[j - 1];
            lines[j - 1] = t;
        }
    struct buf sorted;
    buf_init(&sorted, BUF_UNBOUNDED);
    for (size_t i = 0; i < n; i++)
        buf_printf(&sorted, "%s\n", lines[i]);
    buf_free(&out);
    return buf_steal(&sorted);
}

START_TEST(walk_built_tables)
{
    static const char *const types[] = { "hash", "btree" };
    char err[ERR_TEXT_MAX];
    write_file("map", "Root admin\nuser@Example.COM  local:user\ndup first\ndup second\n");
    for (size_t i = 0; i < 2; i++) {
        const char *spec = spec_of(types[i], "map");
        ck_assert_msg(dict_build(spec, DICT_FORMAT_MAP, err, sizeof err) == 3, "%s", err);
        char *got = walk_sorted(spec);
        ck_assert_str_eq(got, "[dup]=[first]\n[root]=[admin]\n[user@example.com]=[local:user]\n");
        free(got);
    }
}
END_TEST

/* btree: lists in key order, the order of the file. */
START_TEST(walk_btree_sorted)
{
    char err[ERR_TEXT_MAX];
    write_file("map", "zeta 1\nalpha 2\nmike 3\n");
    const char *spec = spec_of("btree", "map");
    ck_assert_msg(dict_build(spec, DICT_FORMAT_MAP, err, sizeof err) == 3, "%s", err);
    struct dict *d = dict_open(spec, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    struct buf out;
    buf_init(&out, BUF_UNBOUNDED);
    ck_assert_int_eq(dict_walk(d, collect, &out, err, sizeof err), 0);
    ck_assert_str_eq(out.data, "[alpha]=[2]\n[mike]=[3]\n[zeta]=[1]\n");
    buf_free(&out);
    dict_close(d);
}
END_TEST

/* The "@" entry that dict_build adds to alias tables is not an alias. */
START_TEST(walk_alias_skips_marker)
{
    char err[ERR_TEXT_MAX];
    write_file("aliases", "Postmaster: root\nstaff: ann,\n  bob\n");
    const char *spec = spec_of("hash", "aliases");
    ck_assert_msg(dict_build(spec, DICT_FORMAT_ALIAS, err, sizeof err) == 2, "%s", err);
    char *got = walk_sorted(spec);
    ck_assert_str_eq(got, "[postmaster]=[root]\n[staff]=[ann, bob]\n");
    free(got);
}
END_TEST

/* Writes name.db as Postfix's postalias does (NULs after keys and values, or none), with its
 * markers: "@" and the YP_ pair. */
static void write_postalias_db(const char *name, bool with_nul)
{
    static const char *const kv[] = { "root", "admin", "@", "@", "YP_LAST_MODIFIED",
                                      "1795357031", "YP_MASTER_NAME", "vm", "list", "a, b",
                                      NULL };
    DB *db;
    ck_assert_int_eq(db_create(&db, NULL, 0), 0);
    ck_assert_int_eq(db->open(db, NULL, in_tmp(name), NULL, DB_HASH, DB_CREATE, 0644), 0);
    for (const char *const *p = kv; p[0]; p += 2) {
        DBT k = { .data = (void *)p[0], .size = (u_int32_t)(strlen(p[0]) + with_nul) };
        DBT v = { .data = (void *)p[1], .size = (u_int32_t)(strlen(p[1]) + with_nul) };
        ck_assert_int_eq(db->put(db, NULL, &k, &v, 0), 0);
    }
    ck_assert_int_eq(db->close(db, 0), 0);
}

START_TEST(walk_postalias_files)
{
    for (int with_nul = 0; with_nul <= 1; with_nul++) {
        write_postalias_db(with_nul ? "nul.db" : "plain.db", with_nul);
        char *got = walk_sorted(spec_of("hash", with_nul ? "nul" : "plain"));
        ck_assert_str_eq(got, "[list]=[a, b]\n[root]=[admin]\n");
        free(got);
    }
}
END_TEST

START_TEST(walk_texthash)
{
    write_file("text", "# comment\nKey1 one\nkey2 two\n  continued\n");
    char *got = walk_sorted(spec_of("texthash", "text"));
    ck_assert_str_eq(got, "[key1]=[one]\n[key2]=[two continued]\n");
    free(got);
}
END_TEST

static int stop_at_second(const char *key, const char *value, void *arg)
{
    return ++*(int *)arg == 2 ? 7 : 0;
}

START_TEST(walk_stops_when_asked)
{
    char err[ERR_TEXT_MAX];
    write_file("map", "a 1\nb 2\nc 3\nd 4\n");
    const char *specs[] = { spec_of("hash", "map"), spec_of("texthash", "map") };
    ck_assert_int_eq(dict_build(specs[0], DICT_FORMAT_MAP, err, sizeof err), 4);
    for (size_t i = 0; i < 2; i++) {
        struct dict *d = dict_open(specs[i], err, sizeof err);
        ck_assert_msg(d != NULL, "%s", err);
        int calls = 0;
        ck_assert_int_eq(dict_walk(d, stop_at_second, &calls, err, sizeof err), 7);
        ck_assert_int_eq(calls, 2);
        dict_close(d);
    }
}
END_TEST

START_TEST(walk_refused_types)
{
    static const char *const specs[] = { "static:x", "inline:{a=b}", "unix:passwd.byname" };
    for (size_t i = 0; i < 3; i++) {
        char err[ERR_TEXT_MAX], want[ERR_TEXT_MAX];
        struct dict *d = dict_open(specs[i], err, sizeof err);
        ck_assert_msg(d != NULL, "%s", err);
        struct buf out;
        buf_init(&out, BUF_UNBOUNDED);
        ck_assert_int_eq(dict_walk(d, collect, &out, err, sizeof err), -1);
        snprintf(want, sizeof want, "%s: a table of this type cannot be listed", specs[i]);
        ck_assert_str_eq(err, want);
        ck_assert_uint_eq(out.len, 0);
        buf_free(&out);
        dict_close(d);
    }
}
END_TEST

/* A value longer than tables allow, in a foreign file: an error, not a cut value. */
START_TEST(walk_value_too_long)
{
    char *big = malloc(DICT_VALUE_MAX + 2);
    memset(big, 'x', DICT_VALUE_MAX + 1);
    big[DICT_VALUE_MAX + 1] = '\0';
    DB *db;
    ck_assert_int_eq(db_create(&db, NULL, 0), 0);
    ck_assert_int_eq(db->open(db, NULL, in_tmp("big.db"), NULL, DB_BTREE, DB_CREATE, 0644), 0);
    DBT k = { .data = "big", .size = 4 }, v = { .data = big, .size = DICT_VALUE_MAX + 2 };
    ck_assert_int_eq(db->put(db, NULL, &k, &v, 0), 0);
    ck_assert_int_eq(db->close(db, 0), 0);
    char err[ERR_TEXT_MAX], want[ERR_TEXT_MAX];
    const char *spec = spec_of("btree", "big");
    struct dict *d = dict_open(spec, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    struct buf out;
    buf_init(&out, BUF_UNBOUNDED);
    ck_assert_int_eq(dict_walk(d, collect, &out, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: %s has a value longer than %d bytes", spec,
             in_tmp("big.db"), DICT_VALUE_MAX);
    ck_assert_str_eq(err, want);
    buf_free(&out);
    dict_close(d);
    free(big);
}
END_TEST

/* ---- dict_build_why ---- */

static enum dict_build_error build_fails(const char *spec, enum dict_format format, char *err,
                                         size_t errlen)
{
    enum dict_build_error why = (enum dict_build_error)-1;
    ck_assert_int_eq(dict_build_why(spec, format, &why, err, errlen), -1);
    return why;
}

START_TEST(build_why)
{
    char err[ERR_TEXT_MAX], want[ERR_TEXT_MAX];
    ck_assert_int_eq(build_fails("static:x", DICT_FORMAT_MAP, err, sizeof err),
                     DICT_BUILD_ERR_SPEC);
    ck_assert_int_eq(build_fails("nosuch:/x", DICT_FORMAT_MAP, err, sizeof err),
                     DICT_BUILD_ERR_SPEC);
    ck_assert_int_eq(build_fails("/x", DICT_FORMAT_MAP, err, sizeof err), DICT_BUILD_ERR_SPEC);

    ck_assert_int_eq(build_fails(spec_of("hash", "missing"), DICT_FORMAT_MAP, err, sizeof err),
                     DICT_BUILD_ERR_READ);

    write_file("bad", "root: x\nnocolon y\n");
    ck_assert_int_eq(build_fails(spec_of("hash", "bad"), DICT_FORMAT_ALIAS, err, sizeof err),
                     DICT_BUILD_ERR_SOURCE);
    snprintf(want, sizeof want, "%s:2: missing \":\" after name \"nocolon\"", in_tmp("bad"));
    ck_assert_str_eq(err, want);

    /* a directory where the table goes: the rename cannot replace it */
    write_file("blocked", "k v\n");
    ck_assert_int_eq(mkdir(in_tmp("blocked.db"), 0755), 0);
    ck_assert_int_eq(mkdir(in_tmp("blocked.db/x"), 0755), 0);
    ck_assert_int_eq(build_fails(spec_of("hash", "blocked"), DICT_FORMAT_MAP, err, sizeof err),
                     DICT_BUILD_ERR_CREATE);
    ck_assert_msg(strstr(err, "cannot rename") != NULL, "%s", err);
    /* and nothing is left behind */
    ck_assert_int_eq(access(unit_fmt("%s.db.tmp.%ld", in_tmp("blocked"), (long)getpid()), F_OK),
                     -1);

    /* a directory in the temporary file's place (only this process uses that name) */
    write_file("tmpblocked", "k v\n");
    const char *tmp = unit_fmt("%s.db.tmp.%ld", in_tmp("tmpblocked"), (long)getpid());
    ck_assert_int_eq(mkdir(tmp, 0755), 0);
    ck_assert_int_eq(build_fails(spec_of("hash", "tmpblocked"), DICT_FORMAT_MAP, err, sizeof err),
                     DICT_BUILD_ERR_CREATE);
    ck_assert_msg(strstr(err, "cannot create") != NULL, "%s", err);
    rmdir(tmp);

    /* dict_build is dict_build_why without the reason */
    ck_assert_int_eq(dict_build(spec_of("hash", "bad"), DICT_FORMAT_ALIAS, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:2: missing \":\" after name \"nocolon\"", in_tmp("bad"));
    ck_assert_str_eq(err, want);
}
END_TEST

/* Tables are built only from regular files; a symbolic link is named as such. */
START_TEST(build_symlink_source)
{
    char err[ERR_TEXT_MAX], want[ERR_TEXT_MAX];
    write_file("real", "k v\n");
    ck_assert_int_eq(symlink(in_tmp("real"), in_tmp("link")), 0);
    const char *spec = spec_of("hash", "link");
    ck_assert_int_eq(build_fails(spec, DICT_FORMAT_MAP, err, sizeof err), DICT_BUILD_ERR_READ);
    snprintf(want, sizeof want, "%s: cannot read %s: it is a symbolic link (refused: a table "
             "source must be a regular file; name the file the link points to)", spec,
             in_tmp("link"));
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(access(in_tmp("link.db"), F_OK), -1);

    /* texthash: reads the same way */
    ck_assert_ptr_null(dict_open(spec_of("texthash", "link"), err, sizeof err));
    ck_assert_msg(strstr(err, "it is a symbolic link") != NULL, "%s", err);

    ck_assert_int_eq(mkfifo(in_tmp("fifo"), 0600), 0);
    ck_assert_int_eq(build_fails(spec_of("hash", "fifo"), DICT_FORMAT_MAP, err, sizeof err),
                     DICT_BUILD_ERR_READ);
    ck_assert_msg(strstr(err, ": not a regular file") != NULL, "%s", err);
}
END_TEST

/* The new file is readable by group and others only where the source is, whatever the umask. */
START_TEST(build_mode_follows_source)
{
    char err[ERR_TEXT_MAX];
    mode_t old = umask(077);
    struct stat st;
    write_file("open", "k v\n");
    ck_assert_int_eq(chmod(in_tmp("open"), 0644), 0);
    ck_assert_msg(dict_build(spec_of("hash", "open"), DICT_FORMAT_MAP, err, sizeof err) == 1, "%s",
                  err);
    ck_assert_int_eq(stat(in_tmp("open.db"), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0644);

    write_file("secret", "k v\n");
    ck_assert_int_eq(chmod(in_tmp("secret"), 0640), 0);
    ck_assert_msg(dict_build(spec_of("btree", "secret"), DICT_FORMAT_MAP, err, sizeof err) == 1,
                  "%s", err);
    ck_assert_int_eq(stat(in_tmp("secret.db"), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0640);

    /* a rebuild after chmod follows the new mode */
    ck_assert_int_eq(chmod(in_tmp("secret"), 0600), 0);
    ck_assert_msg(dict_build(spec_of("btree", "secret"), DICT_FORMAT_MAP, err, sizeof err) == 1,
                  "%s", err);
    ck_assert_int_eq(stat(in_tmp("secret.db"), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    umask(old);
}
END_TEST

/* A reader that has the old file open keeps reading it, whole, after a rebuild. */
START_TEST(walk_old_file_after_rebuild)
{
    char err[ERR_TEXT_MAX];
    write_file("map", "a old\nb old\n");
    const char *spec = spec_of("btree", "map");
    ck_assert_int_eq(dict_build(spec, DICT_FORMAT_MAP, err, sizeof err), 2);
    struct dict *d = dict_open(spec, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    struct stat before, after;
    ck_assert_int_eq(stat(in_tmp("map.db"), &before), 0);
    write_file("map", "a new\nb new\nc new\n");
    ck_assert_int_eq(dict_build(spec, DICT_FORMAT_MAP, err, sizeof err), 3);
    ck_assert_int_eq(stat(in_tmp("map.db"), &after), 0);
    ck_assert(before.st_ino != after.st_ino);
    struct buf out;
    buf_init(&out, BUF_UNBOUNDED);
    /* within the same second the handle is not re-checked: the old inode is what it reads */
    ck_assert_int_eq(dict_walk(d, collect, &out, err, sizeof err), 0);
    ck_assert(strcmp(out.data, "[a]=[old]\n[b]=[old]\n") == 0
              || strcmp(out.data, "[a]=[new]\n[b]=[new]\n[c]=[new]\n") == 0);
    buf_free(&out);
    dict_close(d);
}
END_TEST

static Suite *dict_walk_suite(void)
{
    Suite *s = suite_create("dict_walk");
    TCase *tc = tcase_create("dict_walk");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, walk_built_tables);
    tcase_add_test(tc, walk_btree_sorted);
    tcase_add_test(tc, walk_alias_skips_marker);
    tcase_add_test(tc, walk_postalias_files);
    tcase_add_test(tc, walk_texthash);
    tcase_add_test(tc, walk_stops_when_asked);
    tcase_add_test(tc, walk_refused_types);
    tcase_add_test(tc, walk_value_too_long);
    tcase_add_test(tc, build_why);
    tcase_add_test(tc, build_symlink_source);
    tcase_add_test(tc, build_mode_follows_source);
    tcase_add_test(tc, walk_old_file_after_rebuild);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(dict_walk_suite());
}

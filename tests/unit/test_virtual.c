/* test_virtual.c: unit tests of the virtual delivery agent's parts: the table look-up order and
 * the checks on map values and ids (vmailbox.c), and the delivery child (vdeliver.c):
 * directories, Maildir and mbox results, the identity it writes as, the deadline, and how the
 * parent takes a child's report (a child that dies, a malformed report, a timeout). (The header
 * lines and the loop check are mail/header.c's, tested in test_local_misc.) */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "clock.h"
#include "../../tests/unit/unit.h"
#include "priv.h"
#include "vdeliver.h"
#include "vmailbox.h"

/* ---- vmailbox_path, vmailbox_id (the keys, in virtual(5) order, are mail/address.c's,
 * tested in test_address; vmailbox_find below uses them) ---- */

static int path_of(const char *base, const char *value, struct vmailbox *mb, char *err,
                   size_t errlen)
{
    memset(mb, 0, sizeof *mb);
    return vmailbox_path(base, value, mb, err, errlen);
}

START_TEST(path_joins_and_refuses)
{
    struct vmailbox mb;
    char err[ERR_TEXT_MAX];
    ck_assert_int_eq(path_of("/vmail", "virt.example/alice/", &mb, err, sizeof err), 0);
    ck_assert_str_eq(mb.path, "/vmail/virt.example/alice");
    ck_assert(mb.maildir);
    ck_assert_uint_eq(mb.base_len, 6);
    ck_assert_int_eq(path_of("/vmail//", "virt.example/bob", &mb, err, sizeof err), 0);
    ck_assert_str_eq(mb.path, "/vmail/virt.example/bob");
    ck_assert(!mb.maildir);
    ck_assert_uint_eq(mb.base_len, 6);
    ck_assert_int_eq(path_of("/", "bob", &mb, err, sizeof err), 0);
    ck_assert_str_eq(mb.path, "/bob");
    ck_assert_uint_eq(mb.base_len, 0);
    /* names that merely contain dots are fine */
    ck_assert_int_eq(path_of("/v", "a..b/.x/", &mb, err, sizeof err), 0);
    ck_assert_str_eq(mb.path, "/v/a..b/.x");

    static const char *const bad[] = { "../etc/passwd", "a/../../b", "a/..", "..", "a/./b",
                                       ".", "./", "a//b", "/etc/passwd", "", "/", "//",
                                       "a/b//", "a\nb" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(path_of("/vmail", bad[i], &mb, err, sizeof err) < 0, "accepted \"%s\"",
                      bad[i]);
        ck_assert_msg(err[0] != '\0', "no reason for \"%s\"", bad[i]);
    }
    ck_assert_int_eq(path_of("", "a/", &mb, err, sizeof err), -1);
    ck_assert_str_eq(err, "virtual_mailbox_base is not set");
    ck_assert_int_eq(path_of("vmail", "a/", &mb, err, sizeof err), -1);
    ck_assert_str_eq(err, "virtual_mailbox_base is not an absolute path");
    char longv[PATH_MAX + 10];
    memset(longv, 'a', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    ck_assert_int_eq(path_of("/vmail", longv, &mb, err, sizeof err), -1);
}
END_TEST

START_TEST(ids)
{
    unsigned long long id = 7;
    ck_assert_int_eq(vmailbox_id("5000", &id), 0);
    ck_assert_uint_eq(id, 5000);
    ck_assert_int_eq(vmailbox_id("0", &id), 0);
    ck_assert_uint_eq(id, 0);
    ck_assert_int_eq(vmailbox_id("4294967294", &id), 0);
    static const char *const bad[] = { "", "-1", "+5", " 5", "5 ", "5x", "vmail", "4294967295",
                                       "18446744073709551616", "0x10" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(vmailbox_id(bad[i], &id) < 0, "accepted \"%s\"", bad[i]);
}
END_TEST

/* ---- vmailbox_find ---- */

#define MAPS "virtual_mailbox_base = /vmail\n" \
    "virtual_mailbox_maps = inline:{ alice@virt.example=virt.example/alice/, " \
    "bob@virt.example=virt.example/bob, @catch.example=catch/all/, " \
    "evil@virt.example=../../etc/x, abs@virt.example=/etc/x }\n" \
    "recipient_delimiter = +\n"

static struct vmaps *open_maps(const char *conf)
{
    unit_load_config(conf, "/nonexistent");
    char err[ERR_TEXT_MAX] = "";
    struct vmaps *m = vmaps_open(err, sizeof err);
    ck_assert_msg(m != NULL, "vmaps_open: %s", err);
    return m;
}

static enum vmailbox_verdict find(struct vmaps *m, const char *addr, struct vmailbox *mb,
                                  char *err, size_t errlen)
{
    memset(mb, 0, sizeof *mb);
    err[0] = '\0';
    return vmailbox_find(m, addr, mb, err, errlen);
}

START_TEST(find_mailboxes)
{
    struct vmaps *m = open_maps(MAPS "virtual_uid_maps = static:5000\n"
                                "virtual_gid_maps = static:5001\n");
    struct vmailbox mb;
    char err[ERR_TEXT_MAX];
    ck_assert_int_eq(find(m, "alice@virt.example", &mb, err, sizeof err), VMAILBOX_FOUND);
    ck_assert_str_eq(mb.path, "/vmail/virt.example/alice");
    ck_assert(mb.maildir);
    ck_assert_int_eq(mb.uid, 5000);
    ck_assert_int_eq(mb.gid, 5001);
    /* upper case, an extension */
    ck_assert_int_eq(find(m, "BOB@Virt.Example", &mb, err, sizeof err), VMAILBOX_FOUND);
    ck_assert_str_eq(mb.path, "/vmail/virt.example/bob");
    ck_assert(!mb.maildir);
    ck_assert_int_eq(find(m, "alice+lists@virt.example", &mb, err, sizeof err), VMAILBOX_FOUND);
    ck_assert_str_eq(mb.path, "/vmail/virt.example/alice");
    /* a quoted local part is looked up unquoted: "alice" is alice */
    static const char *const quoted[][2] = {
        { "\"alice\"@virt.example", "/vmail/virt.example/alice" },
        { "\"Alice+Lists\"@Virt.Example", "/vmail/virt.example/alice" },
        { "\"b\\ob\"@virt.example", "/vmail/virt.example/bob" },
        { "\"x@y\"@catch.example", "/vmail/catch/all" },
    };
    for (size_t i = 0; i < sizeof quoted / sizeof quoted[0]; i++) {
        ck_assert_int_eq(find(m, quoted[i][0], &mb, err, sizeof err), VMAILBOX_FOUND);
        ck_assert_str_eq(mb.path, quoted[i][1]);
    }
    ck_assert_int_eq(find(m, "\"alice bob\"@virt.example", &mb, err, sizeof err), VMAILBOX_UNKNOWN);
    ck_assert_str_eq(err, "unknown user: \"\"alice bob\"@virt.example\"");
    /* the catch-all */
    ck_assert_int_eq(find(m, "anyone@catch.example", &mb, err, sizeof err), VMAILBOX_FOUND);
    ck_assert_str_eq(mb.path, "/vmail/catch/all");
    /* unknown */
    ck_assert_int_eq(find(m, "carol@virt.example", &mb, err, sizeof err), VMAILBOX_UNKNOWN);
    ck_assert_str_eq(err, "unknown user: \"carol@virt.example\"");
    ck_assert_int_eq(find(m, "Carol@Virt.Example", &mb, err, sizeof err), VMAILBOX_UNKNOWN);
    ck_assert_str_eq(err, "unknown user: \"carol@virt.example\"");
    /* values that leave the base */
    ck_assert_int_eq(find(m, "evil@virt.example", &mb, err, sizeof err), VMAILBOX_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "\"..\""));
    ck_assert_int_eq(find(m, "abs@virt.example", &mb, err, sizeof err), VMAILBOX_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "relative"));
    vmaps_close(m);
}
END_TEST

START_TEST(find_refuses_ids)
{
    struct vmailbox mb;
    char err[ERR_TEXT_MAX];
    struct vmaps *m = open_maps(MAPS "virtual_uid_maps = static:0\n"
                                "virtual_gid_maps = static:5000\n");
    ck_assert_int_eq(find(m, "alice@virt.example", &mb, err, sizeof err), VMAILBOX_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "uid 0"));
    vmaps_close(m);

    m = open_maps(MAPS "virtual_uid_maps = static:5000\nvirtual_gid_maps = static:0\n");
    ck_assert_int_eq(find(m, "alice@virt.example", &mb, err, sizeof err), VMAILBOX_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "gid 0"));
    vmaps_close(m);

    m = open_maps(MAPS "virtual_uid_maps = static:99\nvirtual_gid_maps = static:5000\n");
    ck_assert_int_eq(find(m, "alice@virt.example", &mb, err, sizeof err), VMAILBOX_CONFIG);
    ck_assert_str_eq(err, "uid 99 for alice@virt.example is below virtual_minimum_uid 100");
    vmaps_close(m);

    m = open_maps(MAPS "virtual_uid_maps = static:99\nvirtual_gid_maps = static:5000\n"
                  "virtual_minimum_uid = 99\n");
    ck_assert_int_eq(find(m, "alice@virt.example", &mb, err, sizeof err), VMAILBOX_FOUND);
    vmaps_close(m);

    m = open_maps(MAPS "virtual_uid_maps = static:vmail\nvirtual_gid_maps = static:5000\n");
    ck_assert_int_eq(find(m, "alice@virt.example", &mb, err, sizeof err), VMAILBOX_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "not a decimal id"));
    vmaps_close(m);

    /* per-address ids, with a catch-all, and an address with none */
    m = open_maps(MAPS "virtual_uid_maps = inline:{ alice@virt.example=6000, "
                  "@catch.example=6001 }\nvirtual_gid_maps = static:5000\n");
    ck_assert_int_eq(find(m, "alice+x@virt.example", &mb, err, sizeof err), VMAILBOX_FOUND);
    ck_assert_int_eq(mb.uid, 6000);
    ck_assert_int_eq(find(m, "\"alice\"@virt.example", &mb, err, sizeof err), VMAILBOX_FOUND);
    ck_assert_int_eq(mb.uid, 6000);
    ck_assert_int_eq(find(m, "z@catch.example", &mb, err, sizeof err), VMAILBOX_FOUND);
    ck_assert_int_eq(mb.uid, 6001);
    ck_assert_int_eq(find(m, "bob@virt.example", &mb, err, sizeof err), VMAILBOX_CONFIG);
    ck_assert_str_eq(err, "no virtual_uid_maps entry for bob@virt.example");
    vmaps_close(m);

    /* no uid table at all */
    m = open_maps(MAPS "virtual_gid_maps = static:5000\n");
    ck_assert_int_eq(find(m, "alice@virt.example", &mb, err, sizeof err), VMAILBOX_CONFIG);
    vmaps_close(m);

    /* no base */
    m = open_maps("virtual_mailbox_maps = static:x/\nvirtual_uid_maps = static:5000\n"
                  "virtual_gid_maps = static:5000\n");
    ck_assert_int_eq(find(m, "alice@virt.example", &mb, err, sizeof err), VMAILBOX_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "virtual_mailbox_base is not set"));
    vmaps_close(m);
}
END_TEST

START_TEST(open_fails_on_missing_table)
{
    unit_load_config("virtual_mailbox_maps = texthash:/nonexistent/vmailbox\n", "/x");
    char err[ERR_TEXT_MAX] = "";
    ck_assert_ptr_null(vmaps_open(err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "virtual_mailbox_maps"));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/vmailbox"));
}
END_TEST

/* ---- vdeliver ---- */

static char dir[64];

static void vd_setup(void)
{
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_virtual.XXXXXX");
}

static void vd_teardown(void)
{
    ck_assert_int_eq(unit_rmtree(dir), 0);
}

#define HEAD "Return-Path: <s@example.org>\r\nDelivered-To: alice@virt.example\r\n"
#define BODY "Subject: hi\r\n\r\nFrom here.\r\nbody\r\n"

static const struct vdeliver_job job = { "s@example.org", HEAD, sizeof HEAD - 1, BODY,
                                         sizeof BODY - 1, 0, "" };

/* A mailbox under dir: value as a virtual_mailbox_maps value. */
static struct vmailbox mailbox(const char *value, uid_t uid, gid_t gid)
{
    struct vmailbox mb;
    char err[ERR_TEXT_MAX];
    memset(&mb, 0, sizeof mb);
    ck_assert_msg(vmailbox_path(dir, value, &mb, err, sizeof err) == 0, "%s", err);
    mb.uid = uid;
    mb.gid = gid;
    return mb;
}

/* A result of vdeliver_write or vdeliver, as the tests look at it. */
struct outcome {
    enum delivery_status status;
    char dsn[16];
    char text[STATUSLOG_TEXT_MAX];
    char file[VDELIVER_FILE_MAX];
};

/* vdeliver_write as the test's own user: its report must be valid. */
static void write_as_self(const struct vmailbox *mb, const struct vdeliver_job *j,
                          struct outcome *o)
{
    struct ipc_msg report;
    ipc_msg_init(&report);
    vdeliver_write(mb, j, &report);
    const char *dsn, *text, *diag, *file = ipc_get(&report, VDELIVER_REPORT_A_FILE);
    ck_assert_int_eq(delivery_report_get(&report, &o->status, &dsn, &text, &diag), 0);
    ck_assert_str_eq(diag, "");
    ck_assert((o->status == DELIVERY_SENT) == (file != NULL));
    snprintf(o->dsn, sizeof o->dsn, "%s", dsn);
    snprintf(o->text, sizeof o->text, "%s", text);
    snprintf(o->file, sizeof o->file, "%s", file ? file : "");
    ipc_msg_free(&report);
}

/* Copies result 0 of reply and frees it. */
static void take_result(struct delivery_reply *reply, const char *file, struct outcome *o)
{
    const struct delivery_result *x = &reply->result[0];
    o->status = x->status;
    snprintf(o->dsn, sizeof o->dsn, "%s", x->dsn);
    snprintf(o->text, sizeof o->text, "%s", x->text);
    snprintf(o->file, sizeof o->file, "%s", file);
    delivery_reply_free(reply);
}

/* vdeliver, its result copied to o. */
static void deliver(const struct vmailbox *mb, long long deadline, struct outcome *o)
{
    struct delivery_reply reply;
    delivery_reply_init(&reply, 1);
    char file[VDELIVER_FILE_MAX] = "stale";
    vdeliver(mb, &job, deadline, &reply, 0, file);
    take_result(&reply, file, o);
}

static void read_file(const char *path, struct buf *out)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(out, chunk, n);
    fclose(f);
}

START_TEST(write_maildir_makes_directories)
{
    struct vmailbox mb = mailbox("dom/sub/alice/", getuid(), getgid());
    struct outcome o;
    write_as_self(&mb, &job, &o);
    ck_assert_int_eq(o.status, DELIVERY_SENT);
    ck_assert_str_eq(o.dsn, "2.0.0");
    ck_assert_str_eq(o.text, "delivered to maildir");
    ck_assert_int_eq(strncmp(o.file, unit_fmt("%s/dom/sub/alice/new/", dir),
                             strlen(dir) + 19), 0);
    struct stat st;
    ck_assert_int_eq(stat(unit_fmt("%s/dom", dir), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0700);
    ck_assert_int_eq(stat(unit_fmt("%s/dom/sub", dir), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0700);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    read_file(o.file, &b);
    ck_assert_str_eq(b.data, "Return-Path: <s@example.org>\nDelivered-To: alice@virt.example\n"
                             "Subject: hi\n\nFrom here.\nbody\n");
    buf_free(&b);
    /* existing directories are used as they are */
    write_as_self(&mb, &job, &o);
    ck_assert_int_eq(o.status, DELIVERY_SENT);
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/dom/sub/alice/new", dir)), 2);
}
END_TEST

/* A quarantined message goes to the folder when the Maildir has it, else to the inbox. */
START_TEST(write_maildir_quarantine_folder)
{
    struct vmailbox mb = mailbox("dom/bob/", getuid(), getgid());
    struct vdeliver_job q = job;
    q.folder = "Junk";
    struct outcome o;
    write_as_self(&mb, &q, &o);
    ck_assert_int_eq(o.status, DELIVERY_SENT);
    ck_assert_str_eq(o.text, "delivered to maildir");
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/dom/bob/new", dir)), 1);
    ck_assert_int_eq(mkdir(unit_fmt("%s/dom/bob/.Junk", dir), 0700), 0);
    write_as_self(&mb, &q, &o);
    ck_assert_int_eq(o.status, DELIVERY_SENT);
    ck_assert_str_eq(o.text, "delivered to maildir folder Junk (quarantine)");
    ck_assert_int_eq(strncmp(o.file, unit_fmt("%s/dom/bob/.Junk/new/", dir), strlen(dir) + 19),
                     0);
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/dom/bob/.Junk/new", dir)), 1);
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/dom/bob/new", dir)), 1);
    /* no quarantine: the inbox, folder or not */
    write_as_self(&mb, &job, &o);
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/dom/bob/new", dir)), 2);
}
END_TEST

START_TEST(write_refuses_a_file_in_the_way)
{
    ck_assert_int_eq(unit_write_file(unit_fmt("%s/dom", dir), "x"), 0);
    struct vmailbox mb = mailbox("dom/alice/", getuid(), getgid());
    struct outcome o;
    write_as_self(&mb, &job, &o);
    ck_assert_int_eq(o.status, DELIVERY_DEFER);
    ck_assert_str_eq(o.dsn, "4.2.0");
    ck_assert_str_eq(o.text, unit_fmt("%s/dom is not a directory", dir));
    /* the Maildir itself a file: the writer's own reason */
    mb = mailbox("dom/", getuid(), getgid());
    write_as_self(&mb, &job, &o);
    ck_assert_int_eq(o.status, DELIVERY_DEFER);
    ck_assert_str_eq(o.dsn, "4.2.0");
    ck_assert_ptr_nonnull(strstr(o.text, unit_fmt("%s/dom", dir)));
}
END_TEST

START_TEST(write_maildir_size_limit)
{
    struct vdeliver_job big = job;
    big.size_limit = big.head_len + big.body_len - 1;
    struct vmailbox mb = mailbox("alice/", getuid(), getgid());
    struct outcome o;
    write_as_self(&mb, &big, &o);
    ck_assert_int_eq(o.status, DELIVERY_BOUNCE);
    ck_assert_str_eq(o.dsn, "5.2.3");
    ck_assert_int_eq(unit_count_entries(unit_fmt("%s/alice/new", dir)), -1);
    big.size_limit++;
    write_as_self(&mb, &big, &o);
    ck_assert_int_eq(o.status, DELIVERY_SENT);
}
END_TEST

START_TEST(write_mbox)
{
    struct vmailbox mb = mailbox("dom/bob", getuid(), getgid());
    struct outcome o;
    write_as_self(&mb, &job, &o);
    ck_assert_int_eq(o.status, DELIVERY_SENT);
    ck_assert_str_eq(o.dsn, "2.0.0");
    ck_assert_str_eq(o.text, "delivered to mailbox");
    ck_assert_str_eq(o.file, unit_fmt("%s/dom/bob", dir));
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    read_file(o.file, &b);
    ck_assert_int_eq(strncmp(b.data, "From s@example.org ", 19), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "\nReturn-Path: <s@example.org>\n"
                                         "Delivered-To: alice@virt.example\nSubject: hi\n\n"
                                         ">From here.\nbody\n"));
    buf_free(&b);
    struct stat st;
    ck_assert_int_eq(stat(o.file, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
}
END_TEST

START_TEST(write_mbox_failures)
{
    /* not a regular file: for good */
    ck_assert_int_eq(mkdir(unit_fmt("%s/bob", dir), 0700), 0);
    struct vmailbox mb = mailbox("bob", getuid(), getgid());
    struct outcome o;
    write_as_self(&mb, &job, &o);
    ck_assert_int_eq(o.status, DELIVERY_BOUNCE);
    ck_assert_str_eq(o.dsn, "5.2.0");
    ck_assert_int_eq(strncmp(o.text, unit_fmt("cannot update mailbox %s/bob: ", dir),
                             strlen(dir) + 27), 0);
    /* full */
    struct vdeliver_job big = job;
    big.size_limit = 20;
    mb = mailbox("carol", getuid(), getgid());
    write_as_self(&mb, &big, &o);
    ck_assert_int_eq(o.status, DELIVERY_BOUNCE);
    ck_assert_str_eq(o.dsn, "5.2.2");
}
END_TEST

/* The uid and gid the delivery child takes: nobody's when the test runs as root (the test's
 * directory is given to it), else the test's own. */
static void delivery_ids(uid_t *uid, gid_t *gid)
{
    *uid = getuid();
    *gid = getgid();
    if (geteuid() != 0)
        return;
    char err[256];
    ck_assert_msg(priv_lookup_user("nobody", uid, gid, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(chown(dir, *uid, *gid), 0);
}

START_TEST(deliver_in_a_child_as_the_owner)
{
    uid_t uid;
    gid_t gid;
    delivery_ids(&uid, &gid);
    struct vmailbox mb = mailbox("dom/alice/", uid, gid);
    struct outcome o;
    deliver(&mb, clock_ms() + 30000, &o);
    ck_assert_msg(o.status == DELIVERY_SENT, "%s %s", o.dsn, o.text);
    ck_assert_str_eq(o.text, "delivered to maildir");
    struct stat st;
    ck_assert_int_eq(stat(o.file, &st), 0);
    ck_assert_int_eq(st.st_uid, uid);
    ck_assert_int_eq(st.st_gid, gid);
    ck_assert_int_eq(stat(unit_fmt("%s/dom", dir), &st), 0);
    ck_assert_int_eq(st.st_uid, uid);

    mb = mailbox("dom/bob", uid, gid);
    deliver(&mb, clock_ms() + 30000, &o);
    ck_assert_msg(o.status == DELIVERY_SENT, "%s %s", o.dsn, o.text);
    ck_assert_str_eq(o.text, "delivered to mailbox");
    ck_assert_int_eq(stat(o.file, &st), 0);
    ck_assert_int_eq(st.st_uid, uid);
}
END_TEST

START_TEST(deliver_past_the_deadline_is_deferred)
{
    uid_t uid;
    gid_t gid;
    delivery_ids(&uid, &gid);
    struct vmailbox mb = mailbox("alice/", uid, gid);
    struct outcome o;
    deliver(&mb, clock_ms() - 1, &o);
    ck_assert_int_eq(o.status, DELIVERY_DEFER);
    ck_assert_str_eq(o.dsn, "4.3.0");
    ck_assert_str_eq(o.text, unit_fmt("delivery to %s/alice did not finish within "
                                      "command_time_limit; stopped", dir));
}
END_TEST

/* A child still busy at the deadline (here: waiting for an mbox lock someone holds) is
 * killed; the mailbox is left as it was. */
START_TEST(deliver_overstaying_child_is_killed)
{
    uid_t uid;
    gid_t gid;
    delivery_ids(&uid, &gid);
    ck_assert_int_eq(unit_write_file(unit_fmt("%s/bob.lock", dir), ""), 0);
    struct vmailbox mb = mailbox("bob", uid, gid);
    struct outcome o;
    long long start = unit_now_ms();
    deliver(&mb, clock_ms() + 500, &o);
    ck_assert_int_lt(unit_now_ms() - start, 8000);   /* the lock wait alone is ~10 s */
    ck_assert_int_eq(o.status, DELIVERY_DEFER);
    ck_assert_str_eq(o.dsn, "4.3.0");
    ck_assert_ptr_nonnull(strstr(o.text, "did not finish within command_time_limit"));
    struct stat st;
    ck_assert_int_eq(stat(unit_fmt("%s/bob", dir), &st), -1);
}
END_TEST

START_TEST(deliver_never_as_root)
{
    struct vmailbox mb = mailbox("alice/", 0, 100);
    struct outcome o;
    deliver(&mb, clock_ms() + 30000, &o);
    ck_assert_int_eq(o.status, DELIVERY_DEFER);
    ck_assert_str_eq(o.dsn, "4.3.5");
    ck_assert_ptr_nonnull(strstr(o.text, "refusing"));
    mb = mailbox("alice/", 100, 0);
    deliver(&mb, clock_ms() + 30000, &o);
    ck_assert_str_eq(o.dsn, "4.3.5");
    ck_assert_int_eq(unit_count_entries(dir), 0);
}
END_TEST

/* How the parent reads the end of a child: result i and file from runas_run_until's result. */
static void result_of(enum runas_result r, const char *err, const char *const *attrs,
                      struct outcome *o)
{
    struct vmailbox mb = mailbox("alice/", 1000, 1000);
    struct ipc_msg report;
    ipc_msg_init(&report);
    for (size_t i = 0; attrs && attrs[i]; i += 2)
        ipc_add(&report, attrs[i], attrs[i + 1]);
    struct delivery_reply reply;
    delivery_reply_init(&reply, 1);
    char file[VDELIVER_FILE_MAX] = "stale";
    vdeliver_result(&mb, r, err, &report, &reply, 0, file);
    take_result(&reply, file, o);
    ipc_msg_free(&report);
}

/* o must be a 4.3.0 deferral of the mailbox dir/alice, saying why after its path. */
static void expect_deferred(const struct outcome *o, const char *why)
{
    ck_assert_int_eq(o->status, DELIVERY_DEFER);
    ck_assert_str_eq(o->dsn, "4.3.0");
    ck_assert_str_eq(o->text, unit_fmt("cannot deliver to %s/alice: %s", dir, why));
    ck_assert_str_eq(o->file, "");
}

static void expect_malformed(const char *const *attrs)
{
    struct outcome o;
    result_of(RUNAS_OK, "", attrs, &o);
    expect_deferred(&o, "malformed report from the delivery process");
}

START_TEST(result_from_reports)
{
    struct outcome o;
    const char *sent[] = { "status", "sent", "dsn", "2.0.0", "text", "delivered to maildir",
                           "file", "/v/alice/new/1.x\n", NULL };
    result_of(RUNAS_OK, "", sent, &o);
    ck_assert_int_eq(o.status, DELIVERY_SENT);
    ck_assert_str_eq(o.dsn, "2.0.0");
    ck_assert_str_eq(o.text, "delivered to maildir");
    ck_assert_str_eq(o.file, "/v/alice/new/1.x ");   /* printable: it goes into the log */
    const char *bounced[] = { "status", "bounce", "dsn", "5.2.2", "text", "full", NULL };
    result_of(RUNAS_OK, "", bounced, &o);
    ck_assert_int_eq(o.status, DELIVERY_BOUNCE);
    ck_assert_str_eq(o.dsn, "5.2.2");
    ck_assert_str_eq(o.text, "full");
    ck_assert_str_eq(o.file, "");
    /* reports that are not what a delivery child sends */
    const char *contradiction[] = { "status", "sent", "dsn", "5.0.0", "text", "x", "file", "f",
                                    NULL };
    const char *sent_without_file[] = { "status", "sent", "dsn", "2.0.0", "text", "x", NULL };
    const char *file_without_delivery[] = { "status", "defer", "dsn", "4.2.0", "text", "x",
                                            "file", "f", NULL };
    const char *forged_line[] = { "status", "defer", "dsn", "4.2.0", "text", "x\nto=<y>", NULL };
    const char *empty[] = { NULL };
    expect_malformed(contradiction);
    expect_malformed(sent_without_file);
    expect_malformed(file_without_delivery);
    expect_malformed(forged_line);
    expect_malformed(empty);
}
END_TEST

START_TEST(result_when_the_child_died_or_overstayed)
{
    struct outcome o;
    const char *stale[] = { "status", "sent", "dsn", "2.0.0", "text", "x", "file", "f", NULL };
    result_of(RUNAS_FAILED, "delivery process killed by signal 9", stale, &o);
    expect_deferred(&o, "delivery process killed by signal 9");
    result_of(RUNAS_TIMEOUT, "time limit exceeded", stale, &o);
    ck_assert_int_eq(o.status, DELIVERY_DEFER);
    ck_assert_str_eq(o.text, unit_fmt("delivery to %s/alice did not finish within "
                                      "command_time_limit; stopped", dir));
}
END_TEST

/* The pid of a child of parent other than self, within 5 s; 0 if none shows up. */
static pid_t find_child(pid_t parent, pid_t self)
{
    for (long long end = unit_now_ms() + 5000; unit_now_ms() < end; usleep(5000)) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            long pid = atol(e->d_name), ppid = 0;
            FILE *f = pid > 0 && pid != self ? fopen(unit_fmt("/proc/%ld/stat", pid), "r")
                                             : NULL;
            if (f && fscanf(f, "%*d %*s %*c %ld", &ppid) == 1 && ppid == parent) {
                fclose(f);
                closedir(d);
                return (pid_t)pid;
            }
            if (f)
                fclose(f);
        }
        if (d)
            closedir(d);
    }
    return 0;
}

/* A child killed while it writes (here: while it waits for an mbox lock) gives no report: the
 * recipient is deferred and the mailbox left as it was. */
START_TEST(deliver_child_that_dies)
{
    uid_t uid;
    gid_t gid;
    delivery_ids(&uid, &gid);
    runas_set_label("delivery process");
    ck_assert_int_eq(unit_write_file(unit_fmt("%s/bob.lock", dir), ""), 0);
    struct vmailbox mb = mailbox("bob", uid, gid);
    pid_t parent = getpid();
    pid_t killer = fork();
    ck_assert_int_ge(killer, 0);
    if (killer == 0) {
        pid_t child = find_child(parent, getpid());
        _exit(child > 0 && kill(child, SIGKILL) == 0 ? 0 : 1);
    }
    struct outcome o;
    long long start = unit_now_ms();
    deliver(&mb, clock_ms() + 30000, &o);
    ck_assert_int_lt(unit_now_ms() - start, 8000);   /* the lock wait alone is ~10 s */
    unit_expect_exit(killer, 10000, 0);
    ck_assert_int_eq(o.status, DELIVERY_DEFER);
    ck_assert_str_eq(o.dsn, "4.3.0");
    ck_assert_str_eq(o.text, unit_fmt("cannot deliver to %s/bob: delivery process killed by "
                                      "signal 9", dir));
    struct stat st;
    ck_assert_int_eq(stat(unit_fmt("%s/bob", dir), &st), -1);
}
END_TEST

/* Not root: only the process's own ids; another uid is deferred with the reason. */
static void check_not_root(uid_t uid, gid_t gid)
{
    struct vmailbox mb = mailbox("alice/", uid + 1, gid);
    struct outcome o;
    deliver(&mb, clock_ms() + 30000, &o);
    ck_assert_int_eq(o.status, DELIVERY_DEFER);
    ck_assert_str_eq(o.dsn, "4.3.5");
    ck_assert_ptr_nonnull(strstr(o.text, "does not run as root"));
    mb = mailbox("alice/", uid, gid);
    deliver(&mb, clock_ms() + 30000, &o);
    ck_assert_msg(o.status == DELIVERY_SENT, "%s %s", o.dsn, o.text);
}

START_TEST(deliver_when_not_root)
{
    uid_t uid;
    gid_t gid;
    delivery_ids(&uid, &gid);
    if (geteuid() != 0) {
        check_not_root(uid, gid);
        return;
    }
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        priv_drop(uid, gid, NULL);
        check_not_root(uid, gid);
        _exit(0);
    }
    unit_expect_exit(pid, 30000, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("virtual");
    TCase *tc = tcase_create("vmailbox");
    tcase_add_test(tc, path_joins_and_refuses);
    tcase_add_test(tc, ids);
    tcase_add_test(tc, find_mailboxes);
    tcase_add_test(tc, find_refuses_ids);
    tcase_add_test(tc, open_fails_on_missing_table);
    suite_add_tcase(s, tc);
    tc = tcase_create("vdeliver");
    tcase_add_checked_fixture(tc, vd_setup, vd_teardown);
    tcase_add_test(tc, write_maildir_makes_directories);
    tcase_add_test(tc, write_maildir_quarantine_folder);
    tcase_add_test(tc, write_refuses_a_file_in_the_way);
    tcase_add_test(tc, write_maildir_size_limit);
    tcase_add_test(tc, write_mbox);
    tcase_add_test(tc, write_mbox_failures);
    tcase_add_test(tc, deliver_in_a_child_as_the_owner);
    tcase_add_test(tc, deliver_past_the_deadline_is_deferred);
    tcase_add_test(tc, deliver_overstaying_child_is_killed);
    tcase_add_test(tc, deliver_never_as_root);
    tcase_add_test(tc, deliver_when_not_root);
    tcase_add_test(tc, result_from_reports);
    tcase_add_test(tc, result_when_the_child_died_or_overstayed);
    tcase_add_test(tc, deliver_child_that_dies);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}

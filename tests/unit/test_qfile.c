/* test_qfile.c: unit tests of queue/qfile.c, queue/qrecord.c, queue/qparse.c and
 * queue/qcommit.c: the record codec (the header decoder at every byte), queue IDs,
 * the writer (temporary name, mode, commit), the strict reader against forged and damaged
 * files, commits off the event loop, alone, in a burst and from several threads, and spare
 * files (queue/qspare.c): reuse, the checks of a claim, the bounds of retire. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "qcommit.h"
#include "qfile.h"
#include "qspare.h"
#include "unit.h"

/* ---- records ---- */

static void round_trip(int type, const char *data, size_t len, size_t want_head)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    ck_assert_int_eq(buf_puts(&b, "xy"), 0);   /* records need not start at 0 */
    ck_assert_int_eq(qrec_put(&b, type, data, len), 0);
    ck_assert_uint_eq(b.len, 2 + want_head + len);
    size_t pos = 2, got_len;
    int got_type;
    const char *got;
    ck_assert_int_eq(qrec_get(b.data, b.len, &pos, &got_type, &got, &got_len), 1);
    ck_assert_int_eq(got_type, type);
    ck_assert_uint_eq(got_len, len);
    ck_assert(len == 0 || memcmp(got, data, len) == 0);
    ck_assert_uint_eq(pos, b.len);
    ck_assert_int_eq(qrec_get(b.data, b.len, &pos, &got_type, &got, &got_len), 0);
    buf_free(&b);
}

START_TEST(record_round_trips)
{
    static const size_t lens[] = { 0, 1, 127, 128, 16383, 16384, 65536, QREC_DATA_MAX };
    static const size_t heads[] = { 2, 2, 2, 3, 3, 4, 4, 4 };
    char *data = malloc(QREC_DATA_MAX);
    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; i < QREC_DATA_MAX; i++)
        data[i] = "\r\n\0R\001E"[i % 6];   /* CR, LF, NUL and record type letters */
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        round_trip(QREC_CONTENT, data, lens[i], heads[i]);
    static const char addr[] = "a\r\nR\x05x@y\0z";
    round_trip(QREC_SENDER, addr, sizeof addr - 1, 2);
    free(data);
}
END_TEST

/* A forged address cannot end its record early: the data comes back whole as one record. */
START_TEST(record_data_is_never_structure)
{
    static const char evil[] = "x@y\nE\0\x00R\x07root@h\r\n";
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    ck_assert_int_eq(qrec_put(&b, QREC_RECIPIENT, evil, sizeof evil - 1), 0);
    ck_assert_int_eq(qrec_put(&b, QREC_END, NULL, 0), 0);
    size_t pos = 0, len;
    int type;
    const char *rec;
    ck_assert_int_eq(qrec_get(b.data, b.len, &pos, &type, &rec, &len), 1);
    ck_assert_int_eq(type, QREC_RECIPIENT);
    ck_assert_uint_eq(len, sizeof evil - 1);
    ck_assert_int_eq(qrec_get(b.data, b.len, &pos, &type, &rec, &len), 1);
    ck_assert_int_eq(type, QREC_END);
    ck_assert_int_eq(qrec_get(b.data, b.len, &pos, &type, &rec, &len), 0);
    buf_free(&b);
}
END_TEST

START_TEST(record_put_bounds)
{
    struct buf b;
    buf_init(&b, 10);
    ck_assert_int_eq(qrec_put(&b, QREC_SENDER, "12345678", 8), 0);   /* 2 + 8 = 10 */
    ck_assert_int_eq(qrec_put(&b, QREC_END, NULL, 0), -1);           /* full */
    ck_assert_uint_eq(b.len, 10);
    buf_reset(&b);
    ck_assert_int_eq(qrec_put(&b, QREC_SENDER, "123456789", 9), -1);  /* never half a record */
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);
    buf_init(&b, BUF_UNBOUNDED);
    char *big = calloc(1, QREC_DATA_MAX + 1);
    ck_assert_int_eq(qrec_put(&b, QREC_CONTENT, big, QREC_DATA_MAX + 1), -1);
    ck_assert_uint_eq(b.len, 0);
    free(big);
    buf_free(&b);
}
END_TEST

static int get_one(const char *data, size_t len)
{
    size_t pos = 0, rec_len;
    int type;
    const char *rec;
    return qrec_get(data, len, &pos, &type, &rec, &rec_len);
}

START_TEST(record_get_rejects_malformed)
{
    ck_assert_int_eq(get_one("", 0), 0);
    ck_assert_int_eq(get_one("S", 1), -1);                         /* no length */
    ck_assert_int_eq(get_one("S\x80", 2), -1);                     /* truncated varint */
    ck_assert_int_eq(get_one("S\x05" "abcd", 6), -1);              /* truncated data */
    ck_assert_int_eq(get_one("S\x80\x80\x80\x80\x80\x01", 7), -1); /* more than 5 bytes */
    ck_assert_int_eq(get_one("S\xff\xff\xff\xff\x0f", 6), -1);     /* 2^32-1: too big */
    ck_assert_int_eq(get_one("S\x81\x80\x40", 4), -1);             /* 2^20 + 1 */
    ck_assert_int_eq(get_one("S\x80\x00", 3), -1);                 /* not minimal */
    ck_assert_int_eq(get_one("S\x81\x00" "a", 4), -1);             /* not minimal */
    ck_assert_int_eq(get_one("S\x00", 2), 1);
    ck_assert_int_eq(get_one("S\x01" "a", 3), 1);
    /* exactly QREC_DATA_MAX is accepted (given the data) */
    size_t n = 4 + QREC_DATA_MAX;
    char *big = calloc(1, n);
    memcpy(big, "C\x80\x80\x40", 4);
    ck_assert_int_eq(get_one(big, n), 1);
    ck_assert_int_eq(get_one(big, n - 1), -1);
    free(big);
}
END_TEST

/* The header decoder on a buffer that may end anywhere: "need more" until the last byte of the
 * header, then the same verdict whatever follows; never a verdict from a partial varint. */
static enum qrec_head_result head_of(const char *p, size_t avail, size_t *len, size_t *hlen)
{
    int type = -1;
    *len = *hlen = 0;
    enum qrec_head_result r = qrec_head(p, avail, &type, len, hlen);
    if (r == QREC_HEAD_OK)
        ck_assert_int_eq(type, (unsigned char)p[0]);
    return r;
}

START_TEST(record_head_at_every_byte)
{
    static const size_t lens[] = { 0, 1, 127, 128, 16383, 16384, 65536, QREC_DATA_MAX };
    char *data = calloc(1, QREC_DATA_MAX);
    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        struct buf b;
        buf_init(&b, BUF_UNBOUNDED);
        ck_assert_int_eq(qrec_put(&b, QREC_CONTENT, data, lens[i]), 0);
        size_t hlen = b.len - lens[i], len, h;
        for (size_t k = 0; k < hlen; k++)
            ck_assert_int_eq(head_of(b.data, k, &len, &h), QREC_HEAD_SHORT);
        for (size_t k = hlen; k <= hlen + 2 && k <= b.len; k++) {
            ck_assert_int_eq(head_of(b.data, k, &len, &h), QREC_HEAD_OK);
            ck_assert_uint_eq(len, lens[i]);
            ck_assert_uint_eq(h, hlen);
        }
        /* qrec_get wants the whole record: every shorter cut is malformed */
        for (size_t k = 1; k < b.len; k += k < 8 ? 1 : b.len / 7)
            ck_assert_int_eq(get_one(b.data, k), -1);
        ck_assert_int_eq(get_one(b.data, b.len), 1);
        buf_free(&b);
    }
    free(data);
    /* malformed: a verdict at the byte that makes it so, "need more" before */
    static const struct { const char *head; size_t n; } bad[] = {
        { "S\x80\x00", 3 },                   /* not minimal: 0 in two bytes */
        { "S\x85\x80\x00", 4 },               /* not minimal: 5 in three bytes */
        { "S\x80\x80\x80\x80\x80", 6 },       /* a sixth varint byte would follow */
        { "S\x80\x80\x80\x80\x01", 6 },       /* 2^28 in five bytes: over the max */
        { "S\x81\x80\x40", 4 },               /* 2^20 + 1: over the max */
        { "S\xff\xff\xff\xff\x0f", 6 },       /* 2^32 - 1 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len, h;
        for (size_t k = 0; k < bad[i].n; k++)
            ck_assert_int_eq(head_of(bad[i].head, k, &len, &h), QREC_HEAD_SHORT);
        ck_assert_msg(head_of(bad[i].head, bad[i].n, &len, &h) == QREC_HEAD_BAD, "case %zu", i);
        ck_assert_int_eq(get_one(bad[i].head, bad[i].n), -1);
    }
}
END_TEST

/* ---- queue IDs ---- */

START_TEST(ids_fixed_width_time_part)
{
    static const uint64_t times[] = { 0, 1, 1000000, 1700000000000000ull, 1ull << 50,
                                      25408476896404830ull /* 31^11 - 1 */ };
    char id[QFILE_ID_MAX], first[QFILE_ID_MAX];
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        ck_assert_int_eq(qfile_make_id(times[i], 1, id), 0);
        ck_assert_uint_eq(strlen(id), 12);
        ck_assert(qfile_valid_id(id));
    }
    ck_assert_int_eq(qfile_make_id(25408476896404831ull, 1, id), -1);   /* the year 2776 */
    ck_assert_int_eq(qfile_make_id(UINT64_MAX, 1, id), -1);
    ck_assert_int_eq(qfile_make_id(1700000000000000ull, UINT64_MAX, id), 0);
    ck_assert_uint_lt(strlen(id), QFILE_ID_MAX);
    ck_assert(qfile_valid_id(id));
    ck_assert_int_eq(qfile_make_id(1700000000000000ull, 0, first), 0);
    ck_assert(qfile_valid_id(first));
    ck_assert_int_eq(strncmp(id, first, 11), 0);
    for (const char *p = id; *p; p++) {
        ck_assert(strchr("AEIOU", *p) == NULL);
        ck_assert((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z'));
    }
}
END_TEST

START_TEST(ids_sort_by_arrival)
{
    char prev[QFILE_ID_MAX], id[QFILE_ID_MAX];
    uint64_t t = 1700000000000000ull;
    ck_assert_int_eq(qfile_make_id(t, 987654321, prev), 0);
    srandom(42);
    for (int i = 0; i < 100000; i++) {
        t += 1 + (uint64_t)(random() % (i % 100 == 0 ? 1000000000 : 3));
        /* a later arrival sorts after, whatever the inodes */
        uint64_t ino = (uint64_t)random() << (random() % 32);
        ck_assert_int_eq(qfile_make_id(t, ino, id), 0);
        ck_assert_msg(strcmp(prev, id) < 0, "%s !< %s", prev, id);
        memcpy(prev, id, sizeof id);
    }
    /* and different inodes at the same time give different IDs */
    char a[QFILE_ID_MAX], b[QFILE_ID_MAX];
    qfile_make_id(t, 31, a);
    qfile_make_id(t, 1, b);
    ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(ids_validity)
{
    char id[QFILE_ID_MAX];
    ck_assert_int_eq(qfile_make_id(1700000000123456ull, 12345, id), 0);
    ck_assert(qfile_valid_id(id));
    ck_assert(!qfile_valid_id(""));
    ck_assert(!qfile_valid_id("t1B6MV0P9TQ8"));
    ck_assert(!qfile_valid_id("../x"));
    ck_assert(!qfile_valid_id("1B6MV0P9TQ8/7"));
    ck_assert(!qfile_valid_id("1B6MV0P9TQ8/"));
    ck_assert(!qfile_valid_id("/1B6MV0P9TQ87"));
    ck_assert(!qfile_valid_id("1B6MV0P9TQ8."));
    ck_assert(!qfile_valid_id("1B6MV0P9TQ8a"));
    ck_assert(!qfile_valid_id("1B6MV0P9TQ8A"));          /* a vowel */
    ck_assert(!qfile_valid_id("1B6MV0P9TQ8"));           /* no inode part */
    ck_assert(!qfile_valid_id("1B6MV0P9TQ807"));         /* leading zero in the inode */
    ck_assert(qfile_valid_id("1B6MV0P9TQ80"));
    ck_assert(qfile_valid_id("1B6MV0P9TQ8ZZZZZZZZZZZZZ"));   /* 24 characters */
    ck_assert(!qfile_valid_id("1B6MV0P9TQ8ZZZZZZZZZZZZZZ"));
    char longer[200];
    memset(longer, '7', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    ck_assert(!qfile_valid_id(longer));
}
END_TEST

START_TEST(ids_give_back_their_inode)
{
    char id[QFILE_ID_MAX];
    uint64_t ino = 0;
    const uint64_t inodes[] = { 1, 30, 31, 12345, 1073866, UINT64_MAX };
    for (size_t i = 0; i < sizeof inodes / sizeof inodes[0]; i++) {
        ck_assert_int_eq(qfile_make_id(1700000000123456ull, inodes[i], id), 0);
        ck_assert(qfile_id_inode(id, &ino));
        ck_assert_uint_eq(ino, inodes[i]);
    }
    ck_assert(!qfile_id_inode("1B6MV0P9TQ8ZZZZZZZZZZZZZ", &ino));   /* valid, past 2^64 */
    ck_assert(!qfile_id_inode("../x", &ino));
    ck_assert(!qfile_id_inode("t1B6MV0P9TQ87", &ino));
}
END_TEST

/* ---- the writer and the reader, in a temporary queue directory ---- */

static char qdir[64];
static char *old_cwd;

static void queue_setup(void)
{
    unit_mkdtemp(qdir, sizeof qdir, "/tmp/test_qfile.XXXXXX");
    old_cwd = getcwd(NULL, 0);
    ck_assert_int_eq(chdir(qdir), 0);
    ck_assert_int_eq(mkdir("incoming", 0700), 0);
    ck_assert_int_eq(mkdir("spare", 0700), 0);
}

static void queue_teardown(void)
{
    ck_assert_int_eq(chdir(old_cwd), 0);
    free(old_cwd);
    ck_assert_int_eq(unit_rmtree(qdir), 0);
}

/* Names in incoming/: how many, and how many temporary ones. */
static int count_incoming(int *temps)
{
    DIR *d = opendir("incoming");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    *temps = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        n++;
        if (e->d_name[0] == 't')
            (*temps)++;
        else
            ck_assert_msg(qfile_valid_id(e->d_name), "%s", e->d_name);
    }
    closedir(d);
    return n;
}

static const char content[] = "Subject: hi\r\n\r\nline \0 with NUL\r\n.\r\n";

static struct qfile *write_message(const char *sender, int nrcpt)
{
    struct qfile *q = qfile_create();
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(qfile_put(q, QREC_SENDER, sender, strlen(sender)), 0);
    ck_assert_int_eq(qfile_put_attr(q, "client_address", "127.0.0.1"), 0);
    ck_assert_int_eq(qfile_put_attr(q, "helo", "evil\r\nR\x05root"), 0);
    ck_assert_int_eq(qfile_put_attr(q, "envid", "QQ+2B1"), 0);
    ck_assert_int_eq(qfile_put_attr(q, "ret", "HDRS"), 0);
    for (int i = 0; i < nrcpt; i++) {
        char r[64];
        int n = snprintf(r, sizeof r, "user%d@example.org", i);
        ck_assert_int_eq(qfile_put(q, QREC_RECIPIENT, r, (size_t)n), 0);
        ck_assert_int_eq(qfile_put(q, QREC_RCPT_NOTIFY, "6", 1), 0);
        ck_assert_int_eq(qfile_put(q, QREC_RCPT_ORCPT, "rfc822;u@x", 10), 0);
    }
    ck_assert_int_eq(qfile_put(q, QREC_CONTENT, content, sizeof content - 1), 0);
    ck_assert_int_eq(qfile_put(q, QREC_CONTENT, "more\r\n", 6), 0);
    ck_assert_int_eq(qfile_finish(q), 0);
    return q;
}

/* The TIME record of a loaded file, in microseconds. */
static uint64_t time_record_usec(const struct buf *b)
{
    size_t pos = 0, len;
    int type;
    const char *rec;
    ck_assert_int_eq(qrec_get(b->data, b->len, &pos, &type, &rec, &len), 1);
    ck_assert_int_eq(qrec_get(b->data, b->len, &pos, &type, &rec, &len), 1);
    ck_assert_int_eq(type, QREC_TIME);
    char t[64];
    ck_assert_uint_lt(len, sizeof t);
    memcpy(t, rec, len);
    t[len] = '\0';
    long long sec;
    long usec;
    ck_assert_int_eq(sscanf(t, "%lld.%6ld", &sec, &usec), 2);
    return (uint64_t)sec * 1000000u + (uint64_t)usec;
}

START_TEST(write_commit_read)
{
    time_t before = time(NULL);
    struct qfile *q = write_message("sender@example.com", 3);
    char id[QFILE_ID_MAX], final[256];
    snprintf(id, sizeof id, "%s", qfile_id(q));
    snprintf(final, sizeof final, "%s", qfile_path(q));
    ck_assert(qfile_valid_id(id));
    ck_assert_str_eq(final + strlen("incoming/"), id);
    /* before the commit the file has its name but no read bit: no reader takes it */
    struct stat st;
    ck_assert_int_eq(lstat(final, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, QFILE_MODE_WRITING);
    ck_assert(!qfile_complete(st.st_mode));
    ck_assert_int_eq(qfile_commit_sync(q), 0);
    qfile_free(q);

    ck_assert_int_eq(lstat(final, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert(qfile_complete(st.st_mode));
    int temps;
    ck_assert_int_eq(count_incoming(&temps), 1);
    ck_assert_int_eq(temps, 0);

    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    struct qfile_envelope env;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_msg(qfile_read(final, 1 << 20, &b, &env, why, sizeof why) == 0, "%s", why);
    ck_assert_str_eq(env.sender, "sender@example.com");
    ck_assert_uint_eq(env.nrcpt, 3);
    ck_assert_str_eq(env.envid, "QQ+2B1");
    ck_assert_str_eq(env.ret, "HDRS");
    struct buf whole;
    buf_init(&whole, BUF_UNBOUNDED);
    ck_assert_int_eq(qfile_content(b.data, b.len, &env, &whole), 0);
    ck_assert_uint_eq(whole.len, sizeof content - 1 + 6);
    ck_assert_int_eq(memcmp(whole.data, content, sizeof content - 1), 0);
    ck_assert_int_eq(memcmp(whole.data + sizeof content - 1, "more\r\n", 6), 0);
    buf_free(&whole);
    struct buf small;
    buf_init(&small, 10);
    ck_assert_int_eq(qfile_content(b.data, b.len, &env, &small), -1);   /* bound reached */
    buf_free(&small);
    ck_assert(env.arrival >= (double)before && env.arrival <= (double)time(NULL) + 1);
    /* the ID is made of the arrival time of the TIME record and the file's inode */
    char want[QFILE_ID_MAX];
    ck_assert_int_eq(qfile_make_id(time_record_usec(&b), (uint64_t)st.st_ino, want), 0);
    ck_assert_str_eq(id, want);
    /* content_offset points at the first CONTENT record, whose data came back whole */
    size_t pos = env.content_offset, len;
    int type;
    const char *rec;
    ck_assert_int_eq(qrec_get(b.data, b.len, &pos, &type, &rec, &len), 1);
    ck_assert_int_eq(type, QREC_CONTENT);
    ck_assert_uint_eq(len, sizeof content - 1);
    ck_assert_int_eq(memcmp(rec, content, len), 0);
    buf_free(&b);
}
END_TEST

START_TEST(null_sender_and_no_content)
{
    struct qfile *q = qfile_create();
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(qfile_put(q, QREC_SENDER, "", 0), 0);
    ck_assert_int_eq(qfile_put(q, QREC_RECIPIENT, "a@b", 3), 0);
    ck_assert_int_eq(qfile_put(q, QREC_DONE, "c@d", 3), 0);
    ck_assert_int_eq(qfile_finish(q), 0);
    ck_assert_int_eq(qfile_commit_sync(q), 0);
    char final[256];
    snprintf(final, sizeof final, "%s", qfile_path(q));
    qfile_free(q);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    struct qfile_envelope env;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_msg(qfile_read(final, 1 << 20, &b, &env, why, sizeof why) == 0, "%s", why);
    ck_assert_str_eq(env.sender, "");
    ck_assert_uint_eq(env.nrcpt, 2);
    ck_assert_uint_eq(env.content_offset, b.len - 2);   /* where END is */
    buf_free(&b);
}
END_TEST

START_TEST(abort_leaves_nothing)
{
    struct qfile *q = write_message("a@b", 1);
    qfile_abort(q);
    q = qfile_create();
    ck_assert_ptr_nonnull(q);
    qfile_abort(q);
    int temps;
    ck_assert_int_eq(count_incoming(&temps), 0);
}
END_TEST

START_TEST(create_fails_without_incoming)
{
    ck_assert_int_eq(rmdir("incoming"), 0);
    errno = 0;
    ck_assert_ptr_null(qfile_create());
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_int_eq(mkdir("incoming", 0700), 0);
}
END_TEST

START_TEST(ids_unique)
{
    char prev[QFILE_ID_MAX] = "";
    for (int i = 0; i < 200; i++) {
        struct qfile *q = qfile_create();
        ck_assert_ptr_nonnull(q);
        /* the clock may not move between two files, but the inode differs */
        ck_assert_str_ne(prev, qfile_id(q));
        snprintf(prev, sizeof prev, "%s", qfile_id(q));
        qfile_abort(q);
    }
}
END_TEST

START_TEST(write_errors_are_sticky)
{
    struct qfile *q = qfile_create();
    ck_assert_ptr_nonnull(q);
    /* the descriptor now refuses writes: the flush past 64 KiB fails, and so does all after */
    int ro = open("/dev/null", O_RDONLY);
    ck_assert_int_ge(dup2(ro, qfile_fd(q)), 0);
    close(ro);
    char *chunk = calloc(1, 70000);
    ck_assert_int_eq(qfile_put(q, QREC_CONTENT, chunk, 70000), -1);
    ck_assert_int_eq(errno, EBADF);
    free(chunk);
    ck_assert_int_eq(qfile_put(q, QREC_CONTENT, "x", 1), -1);
    ck_assert_int_eq(qfile_put_attr(q, "a", "b"), -1);
    ck_assert_int_eq(qfile_finish(q), -1);
    ck_assert_int_eq(errno, EBADF);
    ck_assert_int_eq(qfile_commit_sync(q), -1);
    qfile_abort(q);
    int temps;
    ck_assert_int_eq(count_incoming(&temps), 0);
}
END_TEST

START_TEST(bad_records_refused_by_writer)
{
    struct qfile *q = qfile_create();
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(qfile_put_attr(q, "a=b", "c"), -1);
    ck_assert_int_eq(qfile_put(q, QREC_SENDER, "", 0), -1);   /* sticky */
    qfile_abort(q);
    q = qfile_create();
    ck_assert_ptr_nonnull(q);
    char *big = calloc(1, QREC_DATA_MAX + 1);
    ck_assert_int_eq(qfile_put(q, QREC_CONTENT, big, QREC_DATA_MAX + 1), -1);
    ck_assert_int_eq(qfile_finish(q), -1);
    free(big);
    qfile_abort(q);
}
END_TEST

/* ---- the reader against forged files ---- */

/* Writes the records given as (type, string) pairs, ended by a 0 type, to path. */
static void forge(const char *path, int first, ...)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    va_list ap;
    va_start(ap, first);
    for (int type = first; type; type = va_arg(ap, int)) {
        const char *data = va_arg(ap, const char *);
        ck_assert_int_eq(qrec_put(&b, type, data, strlen(data)), 0);
    }
    va_end(ap);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b.data, 1, b.len, f), b.len);
    fclose(f);
    buf_free(&b);
}

static const char *read_why(const char *path)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    struct qfile_envelope env;
    static char why[ERR_TEXT_MAX];   /* returned: read before the next call */
    why[0] = '\0';
    int r = qfile_read(path, 1 << 20, &b, &env, why, sizeof why);
    buf_free(&b);
    if (r == 0)
        return NULL;
    ck_assert_str_ne(why, "");
    return why;
}

#define HEAD QREC_MAGIC, QREC_MAGIC_TEXT, QREC_TIME, "1700000000.123456"

START_TEST(reader_accepts_forged_good_file)
{
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_ATTR, "helo=x", QREC_RECIPIENT, "c@d",
          QREC_RCPT_ORCPT, "rfc822;c@d", QREC_RCPT_NOTIFY, "2", QREC_DONE, "e@f",
          QREC_CONTENT, "x\r\n", QREC_END, "", 0);
    ck_assert_ptr_null(read_why("f"));
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    struct qfile_envelope env;
    ck_assert_int_eq(qfile_read("f", 1 << 20, &b, &env, NULL, 0), 0);
    ck_assert(env.arrival > 1700000000.12345 && env.arrival < 1700000000.12346);
    ck_assert_uint_eq(env.nrcpt, 2);
    buf_free(&b);
}
END_TEST

static int count_cb(const struct qfile_rcpt *rc, void *arg)
{
    (void)rc;
    ++*(int *)arg;
    return 0;
}

/* The trailer: header fields decided at the end of the message are delivered first. */
START_TEST(trailer_headers_come_first)
{
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_RECIPIENT, "c@d", QREC_CONTENT, "Received: x\r\n",
          QREC_CONTENT, "Subject: s\r\n\r\nbody\r\n", QREC_HEADER, "DKIM-Signature: d\r\n",
          QREC_ATTR, "quarantine=yes", QREC_HEADER, "Authentication-Results: a\r\n",
          QREC_END, "", 0);
    struct buf b, whole;
    buf_init(&b, BUF_UNBOUNDED);
    buf_init(&whole, BUF_UNBOUNDED);
    struct qfile_envelope env;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_msg(qfile_read("f", 1 << 20, &b, &env, why, sizeof why) == 0, "%s", why);
    const char *want = "DKIM-Signature: d\r\nAuthentication-Results: a\r\nReceived: x\r\n"
                       "Subject: s\r\n\r\nbody\r\n";
    ck_assert_int_eq(qfile_content(b.data, b.len, &env, &whole), 0);
    ck_assert_uint_eq(whole.len, strlen(want));
    ck_assert_int_eq(memcmp(whole.data, want, whole.len), 0);
    ck_assert_uint_eq(env.content_size, strlen(want));
    ck_assert_uint_gt(env.trailer_offset, env.content_offset);
    /* the recipients end before the content, whatever follows it */
    int n = 0;
    ck_assert_int_eq(qfile_recipients(b.data, b.len, count_cb, &n), 0);
    ck_assert_int_eq(n, 1);
    buf_free(&whole);
    buf_free(&b);

    /* a message without content may have a trailer; a file without one has trailer_offset 0 */
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_RECIPIENT, "c@d", QREC_HEADER, "X: y\r\n",
          QREC_END, "", 0);
    ck_assert_ptr_null(read_why("f"));
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_RECIPIENT, "c@d", QREC_CONTENT, "x\r\n",
          QREC_END, "", 0);
    buf_init(&b, BUF_UNBOUNDED);
    ck_assert_int_eq(qfile_read("f", 1 << 20, &b, &env, NULL, 0), 0);
    ck_assert_uint_eq(env.trailer_offset, 0);
    ck_assert_uint_eq(env.content_size, 3);
    buf_free(&b);

    /* nothing but HEADER and ATTR may follow the content once the trailer started */
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_CONTENT, "x", QREC_HEADER, "X: y\r\n",
          QREC_CONTENT, "z", QREC_END, "", 0);
    ck_assert_str_eq(read_why("f"), "record out of order");
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_CONTENT, "x", QREC_ATTR, "a=b",
          QREC_RECIPIENT, "c@d", QREC_END, "", 0);
    ck_assert_str_eq(read_why("f"), "record out of order");
}
END_TEST

START_TEST(reader_rejects_bad_files)
{
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_RECIPIENT, "c@d", QREC_CONTENT, "x", 0);
    ck_assert_str_eq(read_why("f"), "no end record");
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_RECIPIENT, "c@d", 'Z', "?", QREC_END, "", 0);
    ck_assert_str_eq(read_why("f"), "unknown record type");
    forge("f", QREC_TIME, "1.000000", QREC_MAGIC, QREC_MAGIC_TEXT, QREC_SENDER, "a@b",
          QREC_END, "", 0);
    ck_assert_str_eq(read_why("f"), "record out of order");
    forge("f", HEAD, QREC_RECIPIENT, "c@d", QREC_SENDER, "a@b", QREC_END, "", 0);
    ck_assert_str_eq(read_why("f"), "record out of order");
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_RECIPIENT, "c@d", QREC_ATTR, "x=y",
          QREC_END, "", 0);
    ck_assert_str_eq(read_why("f"), "record out of order");
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_RCPT_NOTIFY, "2", QREC_RECIPIENT, "c@d",
          QREC_END, "", 0);
    ck_assert_str_eq(read_why("f"), "record out of order");
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_CONTENT, "x", QREC_RECIPIENT, "c@d",
          QREC_END, "", 0);
    ck_assert_str_eq(read_why("f"), "record out of order");
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_SENDER, "a@b", QREC_END, "", 0);
    ck_assert_str_eq(read_why("f"), "record out of order");
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_END, "", QREC_END, "", 0);
    ck_assert_str_eq(read_why("f"), "data after the end record");
    forge("f", QREC_MAGIC, "tern-queue-2", QREC_TIME, "1.000000", QREC_SENDER, "",
          QREC_END, "", 0);
    ck_assert_str_eq(read_why("f"), "bad magic record");
    forge("f", QREC_MAGIC, QREC_MAGIC_TEXT, QREC_TIME, "1.5", QREC_SENDER, "", QREC_END, "", 0);
    ck_assert_str_eq(read_why("f"), "bad arrival time record");
    forge("f", QREC_MAGIC, QREC_MAGIC_TEXT, QREC_TIME, "x.000000", QREC_SENDER, "",
          QREC_END, "", 0);
    ck_assert_str_eq(read_why("f"), "bad arrival time record");
    forge("f", HEAD, QREC_SENDER, "", QREC_END, "x", 0);
    ck_assert_str_eq(read_why("f"), "bad end record");
    forge("f", HEAD, QREC_END, "", 0);
    ck_assert_str_eq(read_why("f"), "record out of order");   /* no sender */
    forge("f", 0);
    ck_assert_str_eq(read_why("f"), "empty file");
    ck_assert_str_eq(read_why("missing"), "cannot read the file");
}
END_TEST

START_TEST(reader_rejects_truncated_and_oversized)
{
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_RECIPIENT, "c@d", QREC_CONTENT, "hello",
          QREC_END, "", 0);
    struct stat st;
    ck_assert_int_eq(stat("f", &st), 0);
    ck_assert_ptr_null(read_why("f"));
    /* every shorter prefix is refused */
    for (off_t n = st.st_size - 1; n >= 0; n--) {
        ck_assert_int_eq(truncate("f", n), 0);
        ck_assert_msg(read_why("f") != NULL, "prefix of %ld accepted", (long)n);
    }
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_END, "", 0);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    struct qfile_envelope env;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(qfile_read("f", 10, &b, &env, why, sizeof why), -1);
    ck_assert_str_eq(why, "file too large");
    /* a sender that does not fit the envelope, or has a NUL, is refused */
    char longs[600];
    memset(longs, 'a', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    forge("f", HEAD, QREC_SENDER, longs, QREC_END, "", 0);
    ck_assert_int_eq(qfile_read("f", 1 << 20, &b, &env, why, sizeof why), -1);
    ck_assert_str_eq(why, "bad sender record");
    buf_free(&b);
}
END_TEST

START_TEST(reader_refuses_symlink)
{
    forge("f", HEAD, QREC_SENDER, "a@b", QREC_END, "", 0);
    ck_assert_int_eq(symlink("f", "link"), 0);
    ck_assert_ptr_nonnull(read_why("link"));
}
END_TEST

/* ---- recipients and marking them done ---- */

#define RCPTS_MAX 8

struct rcpts {
    size_t n;
    char addr[RCPTS_MAX][64];
    bool done[RCPTS_MAX];
    size_t offset[RCPTS_MAX];
    unsigned notify[RCPTS_MAX];
    char orcpt[RCPTS_MAX][64];
    size_t stop_after;   /* cb asks to stop after this many; 0 for never */
};

static int collect_rcpt(const struct qfile_rcpt *rc, void *arg)
{
    struct rcpts *r = arg;
    ck_assert_uint_lt(r->n, RCPTS_MAX);
    ck_assert_uint_lt(rc->address_len, sizeof r->addr[0]);
    memcpy(r->addr[r->n], rc->address, rc->address_len);
    r->addr[r->n][rc->address_len] = '\0';
    r->done[r->n] = rc->done;
    r->offset[r->n] = rc->offset;
    r->notify[r->n] = rc->notify;
    r->orcpt[r->n][0] = '\0';
    if (rc->orcpt) {
        ck_assert_uint_lt(rc->orcpt_len, sizeof r->orcpt[0]);
        memcpy(r->orcpt[r->n], rc->orcpt, rc->orcpt_len);
        r->orcpt[r->n][rc->orcpt_len] = '\0';
    }
    r->n++;
    return r->stop_after && r->n >= r->stop_after;
}

/* Loads path (which must pass qfile_read) and lists its recipients into *r. */
static void load_rcpts(const char *path, struct buf *b, struct rcpts *r)
{
    struct qfile_envelope env;
    char why[ERR_TEXT_MAX] = "";
    buf_reset(b);
    ck_assert_msg(qfile_read(path, 1 << 20, b, &env, why, sizeof why) == 0, "%s", why);
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(qfile_recipients(b->data, b->len, collect_rcpt, r), 0);
    ck_assert_uint_eq(r->n, env.nrcpt);
}

START_TEST(recipients_and_mark_done)
{
    struct qfile *q = write_message("s@x", 3);
    ck_assert_int_eq(qfile_commit_sync(q), 0);
    char final[256];
    snprintf(final, sizeof final, "%s", qfile_path(q));
    qfile_free(q);

    struct buf b, before;
    buf_init(&b, BUF_UNBOUNDED);
    buf_init(&before, BUF_UNBOUNDED);
    struct rcpts r;
    load_rcpts(final, &b, &r);
    ck_assert_uint_eq(r.n, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(r.addr[i], unit_fmt("user%zu@example.org", i));
        ck_assert(!r.done[i]);
        /* the NOTIFY and ORCPT records that follow come with it */
        ck_assert_uint_eq(r.notify[i], NOTIFY_SUCCESS | NOTIFY_FAILURE);
        ck_assert_str_eq(r.orcpt[i], "rfc822;u@x");
        ck_assert_uint_lt(r.offset[i], b.len);
        ck_assert_int_eq(b.data[r.offset[i]], QREC_RECIPIENT);
        /* the offset is the record's start: decoding from there gives the address back */
        size_t pos = r.offset[i], len;
        int type;
        const char *rec;
        ck_assert_int_eq(qrec_get(b.data, b.len, &pos, &type, &rec, &len), 1);
        ck_assert_int_eq(type, QREC_RECIPIENT);
        ck_assert_uint_eq(len, strlen(r.addr[i]));
        ck_assert_int_eq(memcmp(rec, r.addr[i], len), 0);
        if (i > 0)
            ck_assert_uint_gt(r.offset[i], r.offset[i - 1]);
    }
    size_t offsets[3] = { r.offset[0], r.offset[1], r.offset[2] };

    /* cb can stop the walk */
    struct rcpts some = { .stop_after = 1 };
    ck_assert_int_eq(qfile_recipients(b.data, b.len, collect_rcpt, &some), 0);
    ck_assert_uint_eq(some.n, 1);

    int fd = open(final, O_RDWR | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(qfile_mark_done(fd, offsets[1]), 0);
    load_rcpts(final, &b, &r);
    ck_assert_uint_eq(r.n, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(r.addr[i], unit_fmt("user%zu@example.org", i));
        ck_assert_uint_eq(r.offset[i], offsets[i]);
        ck_assert(r.done[i] == (i == 1));
    }
    ck_assert_int_eq(b.data[offsets[1]], QREC_DONE);

    /* marking again is a no-op */
    ck_assert_int_eq(buf_append(&before, b.data, b.len), 0);
    ck_assert_int_eq(qfile_mark_done(fd, offsets[1]), 0);
    load_rcpts(final, &b, &r);
    ck_assert_uint_eq(b.len, before.len);
    ck_assert_int_eq(memcmp(b.data, before.data, b.len), 0);

    /* an offset that is not at an R or D record's type byte is refused, changing nothing:
     * the MAGIC record, the byte after a recipient's type byte, past the end of the file */
    const size_t bad[] = { 0, offsets[0] + 1, offsets[2] + 2, b.len, b.len + 100 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        ck_assert_int_eq(qfile_mark_done(fd, bad[i]), -1);
        ck_assert_int_eq(errno, EINVAL);
    }
    load_rcpts(final, &b, &r);
    ck_assert_uint_eq(b.len, before.len);
    ck_assert_int_eq(memcmp(b.data, before.data, b.len), 0);
    ck_assert(!r.done[0] && r.done[1] && !r.done[2]);

    /* errors from the descriptor come back with errno */
    ck_assert_int_eq(close(fd), 0);
    int ro = open(final, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(ro, 0);
    ck_assert_int_eq(qfile_mark_done(ro, offsets[1]), 0);   /* done already: no write */
    errno = 0;
    ck_assert_int_eq(qfile_mark_done(ro, offsets[0]), -1);
    ck_assert_int_eq(errno, EBADF);
    ck_assert_int_eq(close(ro), 0);
    errno = 0;
    ck_assert_int_eq(qfile_mark_done(ro, offsets[0]), -1);
    ck_assert_int_eq(errno, EBADF);
    load_rcpts(final, &b, &r);
    ck_assert(!r.done[0] && r.done[1] && !r.done[2]);

    /* every truncated copy of the data is refused, and cb never sees a recipient of it */
    for (size_t n = 0; n < b.len; n++) {
        struct rcpts none = { 0 };
        ck_assert_msg(qfile_recipients(b.data, n, collect_rcpt, &none) == -1,
                      "prefix of %zu accepted", n);
        ck_assert_uint_eq(none.n, 0);
    }
    buf_free(&before);
    buf_free(&b);
}
END_TEST

/* Pure: forged data with a D record first, and malformed data. */
START_TEST(recipients_of_forged_data)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    ck_assert_int_eq(qrec_put(&b, QREC_MAGIC, QREC_MAGIC_TEXT, strlen(QREC_MAGIC_TEXT)), 0);
    ck_assert_int_eq(qrec_put(&b, QREC_TIME, "1700000000.000001", 17), 0);
    ck_assert_int_eq(qrec_put(&b, QREC_SENDER, "", 0), 0);
    size_t d_at = b.len;
    ck_assert_int_eq(qrec_put(&b, QREC_DONE, "a\0b@c", 5), 0);
    ck_assert_int_eq(qrec_put(&b, QREC_RCPT_NOTIFY, "2", 1), 0);
    size_t r_at = b.len;
    ck_assert_int_eq(qrec_put(&b, QREC_RECIPIENT, "", 0), 0);
    ck_assert_int_eq(qrec_put(&b, QREC_END, NULL, 0), 0);
    struct rcpts r = { 0 };
    ck_assert_int_eq(qfile_recipients(b.data, b.len, collect_rcpt, &r), 0);
    ck_assert_uint_eq(r.n, 2);
    ck_assert(r.done[0] && !r.done[1]);
    ck_assert_uint_eq(r.offset[0], d_at);
    ck_assert_uint_eq(r.offset[1], r_at);
    ck_assert_int_eq(memcmp(r.addr[0], "a\0b@c", 5), 0);
    ck_assert_str_eq(r.addr[1], "");
    /* an unknown record type, or data after END, makes the file malformed */
    b.data[r_at] = 'Z';
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(qfile_recipients(b.data, b.len, collect_rcpt, &r), -1);
    ck_assert_uint_eq(r.n, 0);
    b.data[r_at] = QREC_RECIPIENT;
    ck_assert_int_eq(qrec_put(&b, QREC_RECIPIENT, "x@y", 3), 0);
    ck_assert_int_eq(qfile_recipients(b.data, b.len, collect_rcpt, &r), -1);
    ck_assert_uint_eq(r.n, 0);
    ck_assert_int_eq(qfile_recipients("", 0, collect_rcpt, &r), -1);
    buf_free(&b);
}
END_TEST

/* ---- qcommit ---- */

#define BURST 200

struct pending {
    struct qfile *q;
    int calls;
    int error;
    pthread_t thread;
};

static int ncommitted;

static void on_commit(void *arg, int error)
{
    struct pending *p = arg;
    p->calls++;
    p->error = error;
    p->thread = pthread_self();
    ncommitted++;
}

static void loop_until_committed(struct event_base *base, int want)
{
    struct timeval tick = { 0, 20000 };
    for (int i = 0; i < 3000 && ncommitted < want; i++) {
        event_base_loopexit(base, &tick);
        event_base_loop(base, 0);
    }
    ck_assert_int_eq(ncommitted, want);
}

START_TEST(qcommit_burst)
{
    struct event_base *base = event_base_new();
    qcommit_init(base, 4);
    static struct pending p[BURST];
    ncommitted = 0;
    for (int i = 0; i < BURST; i++) {
        p[i] = (struct pending){ write_message("s@x", 1 + i % 3), 0, -1, 0 };
        qcommit_submit(p[i].q, on_commit, &p[i]);
    }
    loop_until_committed(base, BURST);
    for (int i = 0; i < BURST; i++) {
        ck_assert_int_eq(p[i].calls, 1);
        ck_assert_int_eq(p[i].error, 0);
        ck_assert(pthread_equal(p[i].thread, pthread_self()));
        struct stat st;
        ck_assert_int_eq(lstat(qfile_path(p[i].q), &st), 0);
        ck_assert(qfile_complete(st.st_mode));
        struct buf b;
        buf_init(&b, BUF_UNBOUNDED);
        struct qfile_envelope env;
        ck_assert_int_eq(qfile_read(qfile_path(p[i].q), 1 << 20, &b, &env, NULL, 0), 0);
        ck_assert_uint_eq(env.nrcpt, (size_t)(1 + i % 3));
        buf_free(&b);
        qfile_free(p[i].q);
    }
    int temps;
    ck_assert_int_eq(count_incoming(&temps), BURST);
    ck_assert_int_eq(temps, 0);
    qcommit_shutdown();
    event_base_free(base);
}
END_TEST

/* A failed commit reports its errno, its file is never marked complete, and the abort that
 * follows removes it. */
START_TEST(qcommit_failure_reported)
{
    struct event_base *base = event_base_new();
    qcommit_init(base, 2);
    ncommitted = 0;
    struct pending good = { write_message("s@x", 1), 0, -1, 0 };
    struct pending bad = { write_message("s@x", 1), 0, -1, 0 };
    qcommit_start(good.q);
    /* bad's descriptor becomes a pipe: the mode change goes to the pipe, its fsync fails */
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    ck_assert_int_ge(dup2(pfd[1], qfile_fd(bad.q)), 0);
    close(pfd[0]);
    close(pfd[1]);
    qcommit_submit(bad.q, on_commit, &bad);
    qcommit_submit(good.q, on_commit, &good);
    loop_until_committed(base, 2);
    ck_assert_int_eq(bad.calls, 1);
    ck_assert_int_eq(bad.error, EINVAL);
    struct stat st;
    ck_assert_int_eq(lstat(qfile_path(bad.q), &st), 0);
    ck_assert(!qfile_complete(st.st_mode));
    ck_assert_int_eq(good.error, 0);
    ck_assert_int_eq(lstat(qfile_path(good.q), &st), 0);
    ck_assert(qfile_complete(st.st_mode));
    char bad_path[256];
    snprintf(bad_path, sizeof bad_path, "%s", qfile_path(bad.q));
    qfile_abort(bad.q);
    ck_assert_int_ne(access(bad_path, F_OK), 0);
    qfile_free(good.q);
    qcommit_shutdown();
    event_base_free(base);
}
END_TEST

/* qcommit_shutdown lets queued commits finish (their callbacks run) before it returns. */
START_TEST(qcommit_shutdown_drains)
{
    struct event_base *base = event_base_new();
    qcommit_init(base, 2);
    ncommitted = 0;
    static struct pending p[20];
    for (int i = 0; i < 20; i++) {
        p[i] = (struct pending){ write_message("s@x", 1), 0, -1, 0 };
        qcommit_submit(p[i].q, on_commit, &p[i]);
    }
    qcommit_shutdown();
    ck_assert_int_eq(ncommitted, 20);
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(p[i].error, 0);
        ck_assert_int_eq(access(qfile_path(p[i].q), F_OK), 0);
        qfile_free(p[i].q);
    }
    event_base_free(base);
}
END_TEST

/* Synchronous commits from several threads at once (pickup-like programs, and the unique
 * temporary names under concurrency). */
static void *commit_many(void *arg)
{
    int *failures = arg;
    for (int i = 0; i < 50; i++) {
        struct qfile *q = qfile_create();
        if (!q || qfile_put(q, QREC_SENDER, "", 0) < 0
            || qfile_put(q, QREC_RECIPIENT, "a@b", 3) < 0 || qfile_finish(q) < 0
            || qfile_commit_sync(q) < 0) {
            (*failures)++;
            qfile_abort(q);
            continue;
        }
        qfile_free(q);
    }
    return NULL;
}

START_TEST(concurrent_sync_commits)
{
    pthread_t t[4];
    int failures[4] = { 0 };
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, commit_many, &failures[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(failures[i], 0);
    }
    int temps;
    ck_assert_int_eq(count_incoming(&temps), 200);
    ck_assert_int_eq(temps, 0);
}
END_TEST


/* ---- spare files (qspare.c) ---- */

static int count_dir(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* A committed message with body bytes of content; its ID and path are copied out. */
static ino_t committed(size_t body, char id[QFILE_ID_MAX], char path[256])
{
    struct qfile *q = qfile_create();
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(qfile_put(q, QREC_SENDER, "s@example.com", 13), 0);
    ck_assert_int_eq(qfile_put(q, QREC_RECIPIENT, "r@example.org", 13), 0);
    char *text = malloc(body + 1);
    memset(text, 'x', body);
    ck_assert_int_eq(qfile_put(q, QREC_CONTENT, text, body), 0);
    free(text);
    ck_assert_int_eq(qfile_finish(q), 0);
    ck_assert_int_eq(qfile_commit_sync(q), 0);
    snprintf(id, QFILE_ID_MAX, "%s", qfile_id(q));
    snprintf(path, 256, "%s", qfile_path(q));
    qfile_free(q);
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    return st.st_ino;
}

START_TEST(spare_file_is_reused)
{
    char id[QFILE_ID_MAX], path[256], spare[300];
    ino_t ino = committed(5000, id, path);
    ck_assert_int_eq(qspare_retire(path, id), 0);
    snprintf(spare, sizeof spare, "spare/%s", id);
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), -1);
    ck_assert_int_eq(lstat(spare, &st), 0);
    ck_assert_uint_eq(st.st_ino, ino);
    ck_assert_int_eq(st.st_mode & 07777, QFILE_MODE_WRITING);   /* never complete-looking */

    /* the next file is that inode, under a new ID, unreadable until sealed */
    struct qfile *q = qfile_create();
    ck_assert_ptr_nonnull(q);
    ck_assert_str_ne(qfile_id(q), id);
    uint64_t from_id;
    ck_assert(qfile_id_inode(qfile_id(q), &from_id));
    ck_assert_uint_eq(from_id, ino);
    ck_assert_int_eq(lstat(qfile_path(q), &st), 0);
    ck_assert_uint_eq(st.st_ino, ino);
    ck_assert(!qfile_complete(st.st_mode));
    ck_assert_int_eq(count_dir("spare"), 0);
    /* a much shorter message: the old bytes after it must go */
    ck_assert_int_eq(qfile_put(q, QREC_SENDER, "", 0), 0);
    ck_assert_int_eq(qfile_put(q, QREC_RECIPIENT, "a@b", 3), 0);
    ck_assert_int_eq(qfile_put(q, QREC_CONTENT, "short\r\n", 7), 0);
    ck_assert_int_eq(qfile_finish(q), 0);
    ck_assert_int_eq(qfile_commit_sync(q), 0);
    char newpath[256];
    snprintf(newpath, sizeof newpath, "%s", qfile_path(q));
    qfile_free(q);
    struct buf b, whole;
    buf_init(&b, BUF_UNBOUNDED);
    buf_init(&whole, BUF_UNBOUNDED);
    struct qfile_envelope env;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_msg(qfile_read(newpath, 1 << 20, &b, &env, why, sizeof why) == 0, "%s", why);
    ck_assert_str_eq(env.sender, "");
    ck_assert_uint_eq(env.nrcpt, 1);
    ck_assert_int_eq(qfile_content(b.data, b.len, &env, &whole), 0);
    ck_assert_uint_eq(whole.len, 7);
    ck_assert_int_eq(memcmp(whole.data, "short\r\n", 7), 0);
    ck_assert_int_eq(lstat(newpath, &st), 0);
    ck_assert_int_eq(st.st_size, (off_t)b.len);
    ck_assert_int_eq(st.st_mode & 07777, QFILE_MODE);
    buf_free(&b);
    buf_free(&whole);
    int temps;
    ck_assert_int_eq(count_incoming(&temps), 1);
}
END_TEST

START_TEST(spare_with_another_link_is_not_written)
{
    char id[QFILE_ID_MAX], path[256], spare[300];
    ino_t ino = committed(100, id, path);
    ck_assert_int_eq(qspare_retire(path, id), 0);
    snprintf(spare, sizeof spare, "spare/%s", id);
    /* as a crash between two directory writes could leave it: a second name */
    ck_assert_int_eq(link(spare, "other-name"), 0);
    struct stat before, st;
    ck_assert_int_eq(lstat("other-name", &before), 0);
    struct qfile *q = qfile_create();
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(lstat(qfile_path(q), &st), 0);
    ck_assert_uint_ne(st.st_ino, ino);   /* a new file, not the linked one */
    qfile_abort(q);
    ck_assert_int_eq(lstat("other-name", &st), 0);
    ck_assert_uint_eq(st.st_ino, ino);
    ck_assert_int_eq(st.st_size, before.st_size);
    ck_assert_uint_eq(st.st_nlink, 1);   /* only the claimed name went */
    ck_assert_int_eq(count_dir("spare"), 0);
    int temps;
    ck_assert_int_eq(count_incoming(&temps), 0);
}
END_TEST

START_TEST(spare_looking_complete_is_not_written)
{
    /* put there by hand, mode 0600, named as a spare (retire would have made it 0200) */
    int fd = open("by-hand", O_WRONLY | O_CREAT | O_EXCL, QFILE_MODE);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "old", 3), 3);
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    close(fd);
    char id[QFILE_ID_MAX], spare[300];
    ck_assert_int_eq(qfile_make_id(1700000000000000ull, (uint64_t)st.st_ino, id), 0);
    snprintf(spare, sizeof spare, "spare/%s", id);
    ck_assert_int_eq(rename("by-hand", spare), 0);
    struct qfile *q = qfile_create();
    ck_assert_ptr_nonnull(q);
    /* refused and removed, so a new (empty) file: its inode number may be the freed one */
    ck_assert_int_eq(lstat(qfile_path(q), &st), 0);
    ck_assert_int_eq(st.st_size, 0);
    qfile_abort(q);
    int temps;
    ck_assert_int_eq(count_incoming(&temps), 0);
    ck_assert_int_eq(count_dir("spare"), 0);
}
END_TEST

/* n empty spares made by hand, named with IDs of a made-up inode */
static void fill_spare(int n)
{
    for (int i = 0; i < n; i++) {
        char name[300], fid[QFILE_ID_MAX];
        ck_assert_int_eq(qfile_make_id(1700000000000000ull + (uint64_t)i, 7, fid), 0);
        snprintf(name, sizeof name, "spare/%s", fid);
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL, QFILE_MODE_WRITING);
        ck_assert_int_ge(fd, 0);
        close(fd);
    }
}

/* The size a retired file has in spare/ (it must be there, as the same inode, mode 0200). */
static off_t kept_size(const char *id, ino_t ino)
{
    char spare[300];
    struct stat st;
    snprintf(spare, sizeof spare, "spare/%s", id);
    ck_assert_int_eq(lstat(spare, &st), 0);
    ck_assert_uint_eq(st.st_ino, ino);
    ck_assert_int_eq(st.st_mode & 07777, QFILE_MODE_WRITING);
    return st.st_size;
}

START_TEST(retire_empties_large_files)
{
    char id[QFILE_ID_MAX], path[256];
    struct stat st;
    /* few kept: a file up to QSPARE_LARGE_MAX stays whole, a larger one is emptied */
    ino_t ino = committed(QSPARE_SIZE_MAX + 1, id, path);
    ck_assert_int_eq(qspare_retire(path, id), 0);
    ck_assert_int_eq(lstat(path, &st), -1);
    ck_assert_int_gt(kept_size(id, ino), QSPARE_SIZE_MAX);
    ino = committed(QSPARE_LARGE_MAX + 1, id, path);
    ck_assert_int_eq(qspare_retire(path, id), 0);
    ck_assert_int_eq(kept_size(id, ino), 0);
}
END_TEST

/* (each test runs in a process of its own: its qmgr side counts spare/ afresh) */
START_TEST(retire_empties_medium_files_when_many_are_kept)
{
    char id[QFILE_ID_MAX], path[256], id2[QFILE_ID_MAX], path2[256];
    ino_t ino = committed(QSPARE_SIZE_MAX + 1, id, path);
    ino_t ino2 = committed(100, id2, path2);
    fill_spare(QSPARE_LARGE_KEEP + 10);   /* after the files: no claim tries these */
    ck_assert_int_eq(qspare_retire(path, id), 0);
    ck_assert_int_eq(kept_size(id, ino), 0);
    ck_assert_int_eq(qspare_retire(path2, id2), 0);   /* small files stay whole */
    ck_assert_int_gt(kept_size(id2, ino2), 100);
    qspare_clear();
    ck_assert_int_eq(count_dir("spare"), 0);
}
END_TEST

START_TEST(retire_unlinks_when_spare_is_full)
{
    char id[QFILE_ID_MAX], path[256], spare[300];
    struct stat st;
    committed(100, id, path);
    fill_spare(QSPARE_KEEP_MAX);
    ck_assert_int_eq(qspare_retire(path, id), 0);
    ck_assert_int_eq(lstat(path, &st), -1);
    snprintf(spare, sizeof spare, "spare/%s", id);
    ck_assert_int_eq(lstat(spare, &st), -1);
    ck_assert_int_eq(count_dir("spare"), QSPARE_KEEP_MAX);
    qspare_clear();
    ck_assert_int_eq(count_dir("spare"), 0);
    /* retire is unlink for a name that is no queue ID */
    committed(100, id, path);
    ck_assert_int_eq(rename(path, "incoming/odd"), 0);
    ck_assert_int_eq(qspare_retire("incoming/odd", "odd"), 0);
    ck_assert_int_eq(count_dir("spare"), 0);
    ck_assert_int_eq(qspare_retire("incoming/odd", "odd"), -1);
    ck_assert_int_eq(errno, ENOENT);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("qfile");
    TCase *rec = tcase_create("records");
    tcase_add_test(rec, record_round_trips);
    tcase_add_test(rec, record_data_is_never_structure);
    tcase_add_test(rec, record_put_bounds);
    tcase_add_test(rec, record_get_rejects_malformed);
    tcase_add_test(rec, record_head_at_every_byte);
    tcase_add_test(rec, ids_fixed_width_time_part);
    tcase_add_test(rec, ids_sort_by_arrival);
    tcase_add_test(rec, ids_validity);
    tcase_add_test(rec, ids_give_back_their_inode);
    tcase_add_test(rec, recipients_of_forged_data);
    suite_add_tcase(s, rec);
    TCase *files = tcase_create("files");
    tcase_set_timeout(files, 120);
    tcase_add_checked_fixture(files, queue_setup, queue_teardown);
    tcase_add_test(files, write_commit_read);
    tcase_add_test(files, null_sender_and_no_content);
    tcase_add_test(files, abort_leaves_nothing);
    tcase_add_test(files, create_fails_without_incoming);
    tcase_add_test(files, ids_unique);
    tcase_add_test(files, write_errors_are_sticky);
    tcase_add_test(files, bad_records_refused_by_writer);
    tcase_add_test(files, reader_accepts_forged_good_file);
    tcase_add_test(files, reader_rejects_bad_files);
    tcase_add_test(files, trailer_headers_come_first);
    tcase_add_test(files, reader_rejects_truncated_and_oversized);
    tcase_add_test(files, reader_refuses_symlink);
    tcase_add_test(files, recipients_and_mark_done);
    tcase_add_test(files, qcommit_burst);
    tcase_add_test(files, qcommit_failure_reported);
    tcase_add_test(files, qcommit_shutdown_drains);
    tcase_add_test(files, concurrent_sync_commits);
    tcase_add_test(files, spare_file_is_reused);
    tcase_add_test(files, spare_with_another_link_is_not_written);
    tcase_add_test(files, spare_looking_complete_is_not_written);
    tcase_add_test(files, retire_empties_large_files);
    tcase_add_test(files, retire_empties_medium_files_when_many_are_kept);
    tcase_add_test(files, retire_unlinks_when_spare_is_full);
    suite_add_tcase(s, files);
    return unit_run(s);
}

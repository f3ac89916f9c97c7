/* test_qlist.c: unit tests of queue/qlist.c and admin/ternqueue_print.c: the envelope-only
 * reader (content skipped but counted, damaged files refused), entries with the reasons of
 * defer/ID, the walk over the queues, the wire form of public/showq (split into several
 * messages, strictly decoded), and both listing formats, mailq's and JSON's. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ipc_proto.h"
#include "qfile.h"
#include "qlist.h"
#include "statuslog.h"
#include "ternqueue_print.h"
#include "unit.h"

static char dir[64];

static void setup(void)
{
    unit_mkdtemp(dir, sizeof dir, "/tmp/test_qlist.XXXXXX");
    ck_assert_int_eq(chdir(dir), 0);
    static const char *const dirs[] = { "incoming", "active", "deferred", "hold", "defer" };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        ck_assert_int_eq(mkdir(dirs[i], 0700), 0);
}

static void teardown(void)
{
    ck_assert_int_eq(chdir("/"), 0);
    unit_rmtree(dir);
}

static void put(struct buf *b, int type, const char *data)
{
    ck_assert_int_eq(qrec_put(b, (enum qrec_type)type, data, strlen(data)), 0);
}

/* A queue file: sender, recipients ("R:addr" pending, "D:addr" done), content chunks. */
static void forge(struct buf *b, const char *sender, const char *const *rcpts,
                  const char *const *chunks)
{
    buf_init(b, BUF_UNBOUNDED);
    put(b, QREC_MAGIC, QREC_MAGIC_TEXT);
    put(b, QREC_TIME, "1700000000.250000");
    put(b, QREC_SENDER, sender);
    put(b, QREC_ATTR, "client_address=127.0.0.1");
    for (; rcpts && *rcpts; rcpts++) {
        put(b, (*rcpts)[0] == 'D' ? QREC_DONE : QREC_RECIPIENT, *rcpts + 2);
        put(b, QREC_RCPT_NOTIFY, "6");
    }
    for (; chunks && *chunks; chunks++)
        put(b, QREC_CONTENT, *chunks);
    put(b, QREC_END, "");
}

static void write_bytes(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static const char *const two_rcpts[] = { "R:a@example.org", "D:done@example.org",
                                         "R:b@example.net", NULL };
static const char *const two_chunks[] = { "Subject: x\r\n\r\n", "hello\r\n", NULL };
#define CONTENT_SIZE (sizeof "Subject: x\r\n\r\n" - 1 + sizeof "hello\r\n" - 1)

static void write_queue_file(const char *path, const char *sender)
{
    struct buf b;
    forge(&b, sender, two_rcpts, two_chunks);
    write_bytes(path, b.data, b.len);
    buf_free(&b);
}

static int count_cb(const struct qfile_rcpt *r, void *arg)
{
    (void)r;
    (*(int *)arg)++;
    return 0;
}

START_TEST(envelope_read_without_content)
{
    write_queue_file("incoming/f", "s@example.com");
    struct buf records;
    buf_init(&records, QLIST_ENVELOPE_MAX);
    struct qlist_envelope env;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(qlist_read_envelope("incoming/f", &records, &env, why, sizeof why), 0);
    ck_assert_str_eq(env.sender, "s@example.com");
    ck_assert(env.arrival > 1700000000.2 && env.arrival < 1700000000.3);
    ck_assert_uint_eq(env.content_size, CONTENT_SIZE);
    /* the envelope alone, ended: a queue file without content, with all three recipients */
    ck_assert(memmem(records.data, records.len, "hello", 5) == NULL);
    int n = 0;
    ck_assert_int_eq(qfile_recipients(records.data, records.len, count_cb, &n), 0);
    ck_assert_int_eq(n, 3);
    buf_free(&records);
}
END_TEST

/* Writes data as a file and expects the reader to refuse it with errno. */
static void refused(const char *data, size_t len, int err)
{
    write_bytes("incoming/bad", data, len);
    struct buf records;
    buf_init(&records, QLIST_ENVELOPE_MAX);
    struct qlist_envelope env;
    char why[ERR_TEXT_MAX] = "";
    errno = 0;
    ck_assert_int_eq(qlist_read_envelope("incoming/bad", &records, &env, why, sizeof why), -1);
    ck_assert_int_eq(errno, err);
    ck_assert_str_ne(why, "");
    buf_free(&records);
}

START_TEST(damaged_files_refused)
{
    struct buf b;
    forge(&b, "s@example.com", two_rcpts, two_chunks);
    refused(b.data, b.len - 2, EPROTO);          /* no END */
    refused(b.data, b.len - 9, EPROTO);          /* cut inside a content record */
    refused("", 0, EPROTO);                      /* empty */
    struct buf more;
    buf_init(&more, BUF_UNBOUNDED);
    buf_append(&more, b.data, b.len);
    put(&more, QREC_CONTENT, "after");
    refused(more.data, more.len, EPROTO);        /* data after END */
    buf_free(&more);
    /* a recipient after the content */
    buf_init(&more, BUF_UNBOUNDED);
    buf_append(&more, b.data, b.len - 2);
    put(&more, QREC_RECIPIENT, "late@example.org");
    put(&more, QREC_END, "");
    refused(more.data, more.len, EPROTO);
    buf_free(&more);
    /* envelope out of order: no magic first */
    buf_init(&more, BUF_UNBOUNDED);
    put(&more, QREC_SENDER, "x@y");
    put(&more, QREC_END, "");
    refused(more.data, more.len, EPROTO);
    buf_free(&more);
    /* a length varint that is not minimal */
    refused("V\x80\x00", 3, EPROTO);
    buf_free(&b);
    /* not a regular file, a symbolic link, and a missing one */
    struct buf records;
    buf_init(&records, QLIST_ENVELOPE_MAX);
    struct qlist_envelope env;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(mkdir("incoming/d", 0700), 0);
    ck_assert_int_eq(qlist_read_envelope("incoming/d", &records, &env, why, sizeof why), -1);
    write_queue_file("incoming/f", "s@example.com");
    ck_assert_int_eq(symlink("f", "incoming/l"), 0);
    ck_assert_int_eq(qlist_read_envelope("incoming/l", &records, &env, why, sizeof why), -1);
    errno = 0;
    ck_assert_int_eq(qlist_read_envelope("incoming/none", &records, &env, why, sizeof why), -1);
    ck_assert_int_eq(errno, ENOENT);
    buf_free(&records);
}
END_TEST

/* The record headers under the rules of qrec_get (qrec_head): cut at every byte, a varint that
 * is not minimal, has six bytes or says more than QREC_DATA_MAX, in the envelope (copied) or
 * in the content (only skipped), is refused. */
START_TEST(record_headers_strict)
{
    struct buf b;
    forge(&b, "s@example.com", two_rcpts, two_chunks);
    for (size_t n = 0; n < b.len; n++)
        refused(b.data, n, EPROTO);
    static const struct { const char *bytes; size_t n; } bad[] = {
        { "S\x80\x00", 3 }, { "S\x81\x00" "a", 4 }, { "S\x80\x80\x80\x80\x80\x01", 7 },
        { "S\x81\x80\x40", 4 }, { "C\x80\x00", 3 }, { "C\x83\x80\x00" "abc", 7 },
        { "C\x80\x80\x80\x80\x80\x01", 7 }, { "C\x81\x80\x40", 4 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct buf f;
        buf_init(&f, BUF_UNBOUNDED);
        put(&f, QREC_MAGIC, QREC_MAGIC_TEXT);
        put(&f, QREC_TIME, "1700000000.250000");
        if (bad[i].bytes[0] == QREC_CONTENT)
            put(&f, QREC_SENDER, "s@example.com");
        buf_append(&f, bad[i].bytes, bad[i].n);
        put(&f, QREC_END, "");
        refused(f.data, f.len, EPROTO);
        buf_free(&f);
    }
    /* a content record of exactly QREC_DATA_MAX is counted, not refused */
    struct buf f;
    buf_init(&f, BUF_UNBOUNDED);
    buf_append(&f, b.data, b.len - 2);
    char *big = calloc(1, QREC_DATA_MAX);
    ck_assert_int_eq(qrec_put(&f, QREC_CONTENT, big, QREC_DATA_MAX), 0);
    put(&f, QREC_END, "");
    write_bytes("incoming/big", f.data, f.len);
    struct buf records;
    buf_init(&records, QLIST_ENVELOPE_MAX);
    struct qlist_envelope env;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(qlist_read_envelope("incoming/big", &records, &env, why, sizeof why), 0);
    ck_assert_uint_eq(env.content_size, CONTENT_SIZE + QREC_DATA_MAX);
    free(big);
    buf_free(&records);
    buf_free(&f);
    buf_free(&b);
}
END_TEST

static void defer_record(const char *id, const char *rcpt, const char *reason)
{
    struct status_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.recipient, sizeof r.recipient, "%s", rcpt);
    snprintf(r.status, sizeof r.status, "4.4.1");
    snprintf(r.action, sizeof r.action, "delayed");
    snprintf(r.reason, sizeof r.reason, "%s", reason);
    r.when = 1700000100;
    ck_assert_int_eq(statuslog_append(unit_fmt("defer/%s", id), &r), 0);
}

#define ID1 "1B6MV0P9TQ87KX"
#define ID2 "1B6MV0P9TQ88KY"
#define ID3 "1B6MV0P9TQ8AKZ"

START_TEST(entry_with_reasons_and_next_attempt)
{
    write_queue_file("deferred/" ID1, "");
    struct timespec times[2] = { { 1800000000, 0 }, { 1800000000, 0 } };
    ck_assert_int_eq(utimensat(AT_FDCWD, "deferred/" ID1, times, 0), 0);
    defer_record(ID1, "b@example.net", "old reason");
    defer_record(ID1, "a@example.org", "connect to x: refused");
    defer_record(ID1, "b@example.net", "mailbox full");   /* the last one counts */
    struct qlist_entry e;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(qlist_read_entry("deferred", ID1, &e, why, sizeof why), 0);
    ck_assert_str_eq(e.queue, "deferred");
    ck_assert_str_eq(e.id, ID1);
    ck_assert_str_eq(e.sender, "");
    ck_assert_int_eq(e.arrival, 1700000000);
    ck_assert_int_eq(e.next_attempt, 1800000000);
    ck_assert_uint_eq(e.size, CONTENT_SIZE);
    ck_assert_uint_eq(e.nrcpt, 2);   /* the done one is not listed */
    ck_assert_str_eq(e.rcpt[0].address, "a@example.org");
    ck_assert_str_eq(e.rcpt[0].reason, "connect to x: refused");
    ck_assert_str_eq(e.rcpt[1].address, "b@example.net");
    ck_assert_str_eq(e.rcpt[1].reason, "mailbox full");
    qlist_entry_free(&e);
    /* in hold/, without a defer log: no reasons, no next attempt */
    write_queue_file("hold/" ID2, "s@example.com");
    ck_assert_int_eq(qlist_read_entry("hold", ID2, &e, why, sizeof why), 0);
    ck_assert_int_eq(e.next_attempt, 0);
    ck_assert_str_eq(e.rcpt[0].reason, "");
    qlist_entry_free(&e);
}
END_TEST

struct walked {
    char ids[8][QFILE_ID_MAX];
    char queues[8][QLIST_QUEUE_NAME_MAX];
    int n, warnings, stop_at;
};

static int walk_cb(const struct qlist_entry *e, void *arg)
{
    struct walked *w = arg;
    ck_assert_int_lt(w->n, 8);
    snprintf(w->ids[w->n], QFILE_ID_MAX, "%s", e->id);
    snprintf(w->queues[w->n], QLIST_QUEUE_NAME_MAX, "%s", e->queue);
    w->n++;
    return w->stop_at && w->n >= w->stop_at;
}

static void walk_warn(const char *queue, const char *id, const char *why, void *arg)
{
    (void)queue, (void)id, (void)why;
    ((struct walked *)arg)->warnings++;
}

START_TEST(walk_over_the_queues)
{
    write_queue_file("incoming/" ID1, "a@x");
    write_queue_file("incoming/t123.1.abc", "temporary@x");   /* being written: skipped */
    write_queue_file("incoming/" ID3, "writing@x");           /* no read bit yet: skipped */
    ck_assert_int_eq(chmod("incoming/" ID3, QFILE_MODE_WRITING), 0);
    write_queue_file("hold/" ID2, "b@x");
    write_bytes("deferred/1B6MV0P9TQ89KZ", "junk", 4);        /* damaged: a warning */
    struct walked w;
    memset(&w, 0, sizeof w);
    ck_assert_int_eq(qlist_walk(walk_cb, walk_warn, &w), 2);
    ck_assert_int_eq(w.n, 2);
    ck_assert_int_eq(w.warnings, 1);
    ck_assert_str_eq(w.queues[0], "incoming");   /* incoming, active, deferred, hold */
    ck_assert_str_eq(w.ids[0], ID1);
    ck_assert_str_eq(w.queues[1], "hold");
    memset(&w, 0, sizeof w);
    w.stop_at = 1;
    ck_assert_int_eq(qlist_walk(walk_cb, NULL, &w), -1);
    ck_assert_int_eq(w.n, 1);
}
END_TEST

/* ---- the wire form ---- */

struct wire {
    struct ipc_msg msgs[8];
    int n;
};

static int wire_send(const struct ipc_msg *m, void *arg)
{
    struct wire *w = arg;
    ck_assert_int_lt(w->n, 8);
    /* through the real framing, as the socket carries it */
    struct buf b;
    buf_init(&b, IPC_MSG_MAX_DEFAULT);
    ck_assert_int_eq(ipc_encode(m, &b), 0);
    size_t used;
    char why[ERR_TEXT_MAX] = "";
    ipc_msg_init(&w->msgs[w->n]);
    ck_assert_msg(ipc_decode(b.data, b.len, IPC_MSG_MAX_DEFAULT, &w->msgs[w->n], &used, why,
                             sizeof why) == 1, "%s", why);
    buf_free(&b);
    w->n++;
    return 0;
}

struct pairs {
    int n;
    char first[64], last[64], last_reason[64];
};

static int pair_cb(const char *address, const char *reason, void *arg)
{
    struct pairs *p = arg;
    if (p->n++ == 0)
        snprintf(p->first, sizeof p->first, "%s", address);
    snprintf(p->last, sizeof p->last, "%s", address);
    snprintf(p->last_reason, sizeof p->last_reason, "%s", reason);
    return 0;
}

START_TEST(wire_round_trip_in_several_messages)
{
    struct qlist_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.queue, sizeof e.queue, "deferred");
    snprintf(e.id, sizeof e.id, ID1);
    snprintf(e.sender, sizeof e.sender, "s@example.com");
    e.arrival = 1700000000;
    e.next_attempt = 1700000300;
    e.size = 12345;
    size_t n = SHOWQ_PAIRS_MAX * 2 + 7;
    e.rcpt = calloc(n, sizeof *e.rcpt);
    char (*addr)[32] = calloc(n, sizeof *addr);
    for (size_t i = 0; i < n; i++) {
        snprintf(addr[i], sizeof addr[i], "u%zu@example.org", i);
        e.rcpt[i].address = addr[i];
        e.rcpt[i].reason = i % 2 ? "busy\r\n, \"quoted\"" : "";
    }
    e.nrcpt = n;
    struct wire w;
    memset(&w, 0, sizeof w);
    ck_assert_int_eq(qlist_encode(&e, wire_send, &w), 0);
    ck_assert_int_eq(w.n, 3);
    ck_assert_str_eq(ipc_get(&w.msgs[0], IPC_A_TYPE), IPC_T_ENTRY);
    ck_assert_str_eq(ipc_get(&w.msgs[1], IPC_A_TYPE), IPC_T_RECIPIENTS);
    struct qlist_entry got;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(qlist_decode_header(&w.msgs[0], &got, why, sizeof why), 0);
    ck_assert_str_eq(got.queue, "deferred");
    ck_assert_str_eq(got.id, ID1);
    ck_assert_str_eq(got.sender, "s@example.com");
    ck_assert_int_eq(got.arrival, 1700000000);
    ck_assert_int_eq(got.next_attempt, 1700000300);
    ck_assert_uint_eq(got.size, 12345);
    struct pairs p;
    memset(&p, 0, sizeof p);
    for (int i = 0; i < w.n; i++)
        ck_assert_int_eq(qlist_decode_pairs(&w.msgs[i], pair_cb, &p, why, sizeof why), 0);
    ck_assert_int_eq(p.n, (int)n);
    ck_assert_str_eq(p.first, "u0@example.org");
    ck_assert_str_eq(p.last, unit_fmt("u%zu@example.org", n - 1));
    ck_assert_str_eq(p.last_reason, "");
    for (int i = 0; i < w.n; i++)
        ipc_msg_free(&w.msgs[i]);
    free(addr);
    free(e.rcpt);
}
END_TEST

START_TEST(wire_malformed_refused)
{
    struct ipc_msg m;
    ipc_msg_init(&m);
    struct qlist_entry e;
    char why[ERR_TEXT_MAX] = "";
    /* missing fields, a bad queue ID, an unknown attribute */
    ipc_add(&m, IPC_A_TYPE, IPC_T_ENTRY);
    ck_assert_int_eq(qlist_decode_header(&m, &e, why, sizeof why), -1);
    ipc_add(&m, IPC_A_QUEUE_NAME, "deferred");
    ipc_add(&m, IPC_A_QUEUE_ID, "../etc/passwd");
    ipc_add(&m, IPC_A_ARRIVAL_TIME, "1");
    ipc_add(&m, IPC_A_MESSAGE_SIZE, "2");
    ipc_add(&m, IPC_A_SENDER, "");
    ck_assert_int_eq(qlist_decode_header(&m, &e, why, sizeof why), -1);
    ipc_msg_clear(&m);
    ipc_add(&m, IPC_A_TYPE, IPC_T_ENTRY);
    ipc_add(&m, IPC_A_QUEUE_NAME, "deferred");
    ipc_add(&m, IPC_A_QUEUE_ID, ID1);
    ipc_add(&m, IPC_A_ARRIVAL_TIME, "-5");
    ipc_add(&m, IPC_A_MESSAGE_SIZE, "2");
    ipc_add(&m, IPC_A_SENDER, "");
    ck_assert_int_eq(qlist_decode_header(&m, &e, why, sizeof why), -1);
    /* pairs out of step */
    struct pairs p;
    memset(&p, 0, sizeof p);
    ipc_msg_clear(&m);
    ipc_add(&m, IPC_A_TYPE, IPC_T_RECIPIENTS);
    ipc_add(&m, IPC_A_RECIPIENT, "a@b");
    ck_assert_int_eq(qlist_decode_pairs(&m, pair_cb, &p, why, sizeof why), -1);
    ipc_msg_clear(&m);
    ipc_add(&m, IPC_A_TYPE, IPC_T_RECIPIENTS);
    ipc_add(&m, IPC_A_DELAY_REASON, "x");
    ck_assert_int_eq(qlist_decode_pairs(&m, pair_cb, &p, why, sizeof why), -1);
    ipc_msg_free(&m);
}
END_TEST

/* ---- the two formats ---- */

static char *print_to_string(bool json, const struct qlist_entry *entries, int n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    struct qprint p;
    qprint_init(&p, f, json);
    for (int i = 0; i < n; i++)
        qprint_entry(&p, &entries[i]);
    qprint_finish(&p);
    qprint_free(&p);
    fclose(f);
    return text;
}

static struct qlist_rcpt rcpts[] = {
    { "a@example.org", "connect to x: refused" },
    { "b@example.org", "connect to x: refused" },
    { "c@example.org", "" },
    { "d@example.org", "full" },
};

static void sample(struct qlist_entry *e, const char *queue, const char *sender)
{
    memset(e, 0, sizeof *e);
    snprintf(e->queue, sizeof e->queue, "%s", queue);
    snprintf(e->id, sizeof e->id, ID1);
    snprintf(e->sender, sizeof e->sender, "%s", sender);
    e->size = 2048;
    e->rcpt = rcpts;
    e->nrcpt = 4;
}

START_TEST(text_layout_as_mailq)
{
    setenv("TZ", "UTC", 1);
    tzset();
    struct qlist_entry e[2];
    sample(&e[0], "deferred", "");
    e[0].arrival = 1700000000;   /* Tue Nov 14 22:13:20 2023 UTC */
    sample(&e[1], "hold", "s@x");
    e[1].nrcpt = 1;
    e[1].rcpt = &rcpts[3];
    e[1].arrival = 1700000000 - 14 * 86400;
    char *text = print_to_string(false, e, 2);
    /* the reasons are right-aligned to column 78, the recipients indented 41 columns */
    const char *want =
        "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"
        ID1 "     2048 Tue Nov 14 22:13:20  MAILER-DAEMON\n"
        "                                                       (connect to x: refused)\n"
        "                                         a@example.org\n"
        "                                         b@example.org\n"
        "                                                          (reason unavailable)\n"
        "                                         c@example.org\n"
        "                                                                        (full)\n"
        "                                         d@example.org\n"
        "\n"
        ID1 "!    2048 Tue Oct 31 22:13:20  s@x\n"
        "                                                                        (full)\n"
        "                                         d@example.org\n"
        "\n"
        "-- 4 Kbytes in 2 Requests.\n";
    ck_assert_str_eq(text, want);
    free(text);
    text = print_to_string(false, e, 0);
    ck_assert_str_eq(text, "Mail queue is empty\n");
    free(text);
    /* an active message; control characters never reach the terminal */
    sample(&e[0], "active", "evil\x1b[2J@x");
    e[0].nrcpt = 0;
    text = print_to_string(false, e, 1);
    ck_assert_ptr_nonnull(strstr(text, ID1 "*    2048 "));
    ck_assert_ptr_nonnull(strstr(text, "evil?[2J@x\n"));
    ck_assert_ptr_nonnull(strstr(text, "-- 2 Kbytes in 1 Request.\n"));
    free(text);
}
END_TEST

START_TEST(json_objects_escaped)
{
    struct qlist_entry e;
    sample(&e, "deferred", "q\"uote\\back\x01\x7f\xc3\xa9\xff@x");
    e.arrival = 1700000000;
    e.next_attempt = 1700000600;
    e.nrcpt = 3;
    char *text = print_to_string(true, &e, 1);
    const char *want =
        "{\"queue_name\": \"deferred\", \"queue_id\": \"" ID1 "\", \"arrival_time\": 1700000000, "
        "\"message_size\": 2048, \"forced_expire\": false, "
        "\"sender\": \"q\\\"uote\\\\back\\u0001\\u007f\xc3\xa9\\ufffd@x\", "
        "\"next_attempt\": 1700000600, \"recipients\": ["
        "{\"address\": \"a@example.org\", \"delay_reason\": \"connect to x: refused\", "
        "\"next_attempt\": 1700000600}, "
        "{\"address\": \"b@example.org\", \"delay_reason\": \"connect to x: refused\", "
        "\"next_attempt\": 1700000600}, "
        "{\"address\": \"c@example.org\", \"next_attempt\": 1700000600}]}\n";
    ck_assert_str_eq(text, want);
    free(text);
    /* no next attempt outside deferred/; no footer for an empty queue */
    e.next_attempt = 0;
    e.nrcpt = 1;
    text = print_to_string(true, &e, 1);
    ck_assert_ptr_null(strstr(text, "next_attempt"));
    free(text);
    text = print_to_string(true, &e, 0);
    ck_assert_str_eq(text, "");
    free(text);
}
END_TEST

START_TEST(json_string_utf8_rules)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    /* control characters short; an overlong encoding and a surrogate are not UTF-8 (each of
     * their bytes becomes U+FFFD), nor is a sequence cut at the end; U+2080 and U+1F600 are */
    qprint_json_string(f, "\t\n\r\b\f/\xc0\xaf\xed\xa0\x80\xe2\x82\x80\xf0\x9f\x98\x80\xe2\x82");
    fclose(f);
    ck_assert_str_eq(text, "\\t\\n\\r\\b\\f/\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
                           "\xe2\x82\x80\xf0\x9f\x98\x80\\ufffd\\ufffd");
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("qlist");
    TCase *t = tcase_create("qlist");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, envelope_read_without_content);
    tcase_add_test(t, damaged_files_refused);
    tcase_add_test(t, record_headers_strict);
    tcase_add_test(t, entry_with_reasons_and_next_attempt);
    tcase_add_test(t, walk_over_the_queues);
    tcase_add_test(t, wire_round_trip_in_several_messages);
    tcase_add_test(t, wire_malformed_refused);
    tcase_add_test(t, text_layout_as_mailq);
    tcase_add_test(t, json_objects_escaped);
    tcase_add_test(t, json_string_utf8_rules);
    suite_add_tcase(s, t);
    return unit_run(s);
}

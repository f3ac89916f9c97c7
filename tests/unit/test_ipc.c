/* test_ipc.c: unit tests of the IPC codec (common/ipc.c), its reader for libevent buffers
 * (common/ipc_evbuffer.c) and its socket helpers (common/ipc_io.c): framing, bounds, malformed
 * input, messages arriving in pieces, timeouts and peers that go away.
 * (The look-ups and privilege drop of common/priv.c are tested in test_priv.c.) */
#include <check.h>
#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ipc.h"
#include "unit.h"

#define WAIT_CHILD_MS 3000

/* Encodes m into a fresh unbounded buffer. */
static void encode(const struct ipc_msg *m, struct buf *b)
{
    buf_init(b, BUF_UNBOUNDED);
    ck_assert_int_eq(ipc_encode(m, b), 0);
}

static int decode_str(const char *s, size_t len, size_t max, char *why, size_t whylen)
{
    struct ipc_msg m;
    ipc_msg_init(&m);
    size_t used = 0;
    why[0] = '\0';
    int r = ipc_decode(s, len, max, &m, &used, why, whylen);
    if (r < 0)
        ck_assert_str_ne(why, "");
    ipc_msg_free(&m);
    return r;
}

/* ---- codec ---- */

START_TEST(encode_exact)
{
    struct ipc_msg m;
    ipc_msg_init(&m);
    struct buf b;
    encode(&m, &b);
    ck_assert_str_eq(b.data, "0:,");
    buf_free(&b);
    ck_assert_int_eq(ipc_add(&m, "type", "wakeup"), 0);
    ck_assert_int_eq(ipc_add(&m, "a", ""), 0);
    encode(&m, &b);
    ck_assert_str_eq(b.data, "20:11:type=wakeup,2:a=,,");
    buf_free(&b);
    ipc_msg_free(&m);
}
END_TEST

START_TEST(round_trip)
{
    static const char nasty[] = "line1\r\nline2,3:4=5\xff\xe9\x80 ,,=:";
    struct ipc_msg m, out;
    ipc_msg_init(&m);
    ipc_msg_init(&out);
    ck_assert_int_eq(ipc_add(&m, "type", "deliver"), 0);
    ck_assert_int_eq(ipc_add(&m, "rcpt", nasty), 0);
    ck_assert_int_eq(ipc_add(&m, "rcpt", "second"), 0);
    ck_assert_int_eq(ipc_add(&m, "empty", ""), 0);
    ck_assert_int_eq(ipc_addf(&m, "size_2", "%d-%s", 42, "x"), 0);
    struct buf b;
    encode(&m, &b);
    /* stale content in out must be replaced, not appended to */
    ck_assert_int_eq(ipc_add(&out, "stale", "1"), 0);
    size_t used = 0;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(ipc_decode(b.data, b.len, b.len, &out, &used, why, sizeof why), 1);
    ck_assert_uint_eq(used, b.len);
    ck_assert_uint_eq(out.count, 5);
    ck_assert_ptr_null(ipc_get(&out, "stale"));
    ck_assert_str_eq(out.attr[0].name, "type");
    ck_assert_str_eq(out.attr[1].name, "rcpt");
    ck_assert_uint_eq(out.attr[1].value_len, strlen(nasty));
    ck_assert_mem_eq(out.attr[1].value, nasty, strlen(nasty));
    ck_assert_str_eq(out.attr[2].value, "second");
    ck_assert_str_eq(ipc_get(&out, "rcpt"), nasty);
    ck_assert_str_eq(ipc_get(&out, "empty"), "");
    ck_assert_uint_eq(out.attr[3].value_len, 0);
    ck_assert_str_eq(ipc_get(&out, "size_2"), "42-x");
    /* one byte less than the frame is over the bound */
    ck_assert_int_eq(ipc_decode(b.data, b.len, b.len - 1, &out, &used, why, sizeof why), -1);
    buf_free(&b);
    ipc_msg_free(&m);
    ipc_msg_free(&out);
}
END_TEST

START_TEST(incremental)
{
    struct ipc_msg m, out;
    ipc_msg_init(&m);
    ipc_msg_init(&out);
    ipc_add(&m, "type", "flush");
    ipc_add(&m, "reason", "a,b\n1:c=d,");
    ipc_add(&m, "x", "");
    struct buf b;
    encode(&m, &b);
    /* decode from a copy exactly i bytes long, so ASan catches any read past len */
    for (size_t i = 0; i < b.len; i++) {
        char *part = malloc(i ? i : 1);
        memcpy(part, b.data, i);
        size_t used = 0;
        char why[ERR_TEXT_MAX] = "";
        ck_assert_msg(ipc_decode(part, i, IPC_MSG_MAX_DEFAULT, &out, &used, why, sizeof why) == 0,
                      "prefix of %zu bytes: %s", i, *why ? why : "(decoded)");
        free(part);
    }
    size_t used = 0;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(ipc_decode(b.data, b.len, IPC_MSG_MAX_DEFAULT, &out, &used, why, sizeof why),
                     1);
    ck_assert_uint_eq(used, b.len);
    ck_assert_str_eq(ipc_get(&out, "reason"), "a,b\n1:c=d,");
    buf_free(&b);
    ipc_msg_free(&m);
    ipc_msg_free(&out);
}
END_TEST

START_TEST(back_to_back)
{
    struct ipc_msg a, b, out;
    ipc_msg_init(&a);
    ipc_msg_init(&b);
    ipc_msg_init(&out);
    ipc_add(&a, "type", "first");
    ipc_add(&b, "type", "second");
    ipc_add(&b, "n", "2");
    struct buf w;
    encode(&a, &w);
    size_t first_len = w.len;
    ck_assert_int_eq(ipc_encode(&b, &w), 0);
    size_t used = 0;
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(ipc_decode(w.data, w.len, 1000, &out, &used, why, sizeof why), 1);
    ck_assert_uint_eq(used, first_len);
    ck_assert_str_eq(ipc_get(&out, "type"), "first");
    ck_assert_uint_eq(out.count, 1);
    size_t used2 = 0;
    ck_assert_int_eq(ipc_decode(w.data + used, w.len - used, 1000, &out, &used2, why, sizeof why),
                     1);
    ck_assert_uint_eq(used + used2, w.len);
    ck_assert_str_eq(ipc_get(&out, "type"), "second");
    ck_assert_str_eq(ipc_get(&out, "n"), "2");
    buf_free(&w);
    ipc_msg_free(&a);
    ipc_msg_free(&b);
    ipc_msg_free(&out);
}
END_TEST

static const struct { const char *data; size_t len; const char *what; } malformed[] = {
#define S(s, what) { s, sizeof s - 1, what }
    S("00:,", "outer leading zero"),
    S("01", "outer leading zero, incomplete"),
    S("6:02:a=,,", "inner leading zero"),
    S("12345678", "eight digits"),
    S("1234567", "seven digits over the default max"),
    S("5:2:a=,x", "frame not ended by ','"),
    S("5:2:a=x,", "inner netstring not ended by ','"),
    S("6:2:a=,,", "outer length too long"),
    S("4:2:a=,,", "outer length too short for the inner one"),
    S("6:3:A=b,,", "upper case name"),
    S("8:5:a-b=c,,", "'-' in name"),
    S("8:5:a b=c,,", "space in name"),
    S("6:3:\xe9=b,,", "8-bit name"),
    S("5:2:=b,,", "empty name"),
    S("6:3:a=\0,,", "NUL in value"),
    S("5:2:ab,,", "no '='"),
    S("4:1:a,,", "attribute shorter than 'a='"),
    S("3:0:,,", "empty attribute"),
    S("hello", "garbage"),
    S(" 0:,", "leading space"),
    S("\r\n0:,", "leading CRLF"),
    S(":,", "no length"),
    S("-1:", "negative length"),
    S("1x:", "junk after digits"),
    S("5:2:a=,:", "junk after the frame"),
    S("6:4:a=b,,", "inner length overruns the outer one"),
#undef S
};

START_TEST(reject_malformed)
{
    char why[ERR_TEXT_MAX] = "";
    int r = decode_str(malformed[_i].data, malformed[_i].len, IPC_MSG_MAX_DEFAULT, why, sizeof why);
    ck_assert_msg(r == -1, "%s: got %d", malformed[_i].what, r);
}
END_TEST

START_TEST(valid_prefixes_need_more)
{
    static const char *const prefixes[] = { "", "1", "12", "12:", "12:3", "12:3:", "12:3:a",
                                            "12:3:a=", "12:3:a=b", "12:3:a=b,", "0", "0:" };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        char why[ERR_TEXT_MAX] = "";
        ck_assert_msg(decode_str(prefixes[i], strlen(prefixes[i]), 1000, why, sizeof why) == 0,
                      "\"%s\" rejected: %s", prefixes[i], *why ? why : "");
    }
}
END_TEST

START_TEST(name_length_limit)
{
    char name[IPC_NAME_MAX + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    struct ipc_msg m;
    ipc_msg_init(&m);
    ck_assert_int_eq(ipc_add(&m, name, "v"), -1);
    name[IPC_NAME_MAX] = '\0';
    ck_assert_int_eq(ipc_add(&m, name, "v"), 0);
    struct buf b;
    encode(&m, &b);
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(decode_str(b.data, b.len, 1000, why, sizeof why), 1);
    /* the same frame with the name one character longer */
    char wire[128];
    int n = snprintf(wire, sizeof wire, "%d:%d:%sn=v,,", IPC_NAME_MAX + 7, IPC_NAME_MAX + 3,
                     name);
    ck_assert_int_eq(decode_str(wire, (size_t)n, 1000, why, sizeof why), -1);
    buf_free(&b);
    ipc_msg_free(&m);
}
END_TEST

START_TEST(max_checked_before_payload)
{
    char why[ERR_TEXT_MAX] = "";
    /* the length prefix alone already exceeds max: no need to wait for the payload */
    ck_assert_int_eq(decode_str("9999999:", 8, 1000, why, sizeof why), -1);
    ck_assert_int_eq(decode_str("2000", 4, 1000, why, sizeof why), -1);
    ck_assert_int_eq(decode_str("99", 2, 1000, why, sizeof why), 0);
    /* without a size bound, the digit count still is one */
    ck_assert_int_eq(decode_str("9999999:", 8, (size_t)-1, why, sizeof why), 0);
    ck_assert_int_eq(decode_str("10000000", 8, (size_t)-1, why, sizeof why), -1);
    /* max counts the whole frame: "0:," is 3 bytes */
    ck_assert_int_eq(decode_str("0:,", 3, 3, why, sizeof why), 1);
    ck_assert_int_eq(decode_str("0:,", 3, 2, why, sizeof why), -1);
    ck_assert_int_eq(decode_str("5:2:a=,,", 8, 8, why, sizeof why), 1);
    ck_assert_int_eq(decode_str("5:2:a=,,", 8, 7, why, sizeof why), -1);
}
END_TEST

static char *many_attrs(size_t count, size_t *len)
{
    size_t payload = count * 5;   /* "2:a=," */
    char head[16];
    int h = snprintf(head, sizeof head, "%zu:", payload);
    *len = (size_t)h + payload + 1;
    char *s = malloc(*len);
    memcpy(s, head, (size_t)h);
    for (size_t i = 0; i < count; i++)
        memcpy(s + h + 5 * i, "2:a=,", 5);
    s[*len - 1] = ',';
    return s;
}

START_TEST(attr_count_limit)
{
    size_t len;
    char why[ERR_TEXT_MAX] = "";
    char *s = many_attrs(IPC_ATTR_MAX, &len);
    ck_assert_int_eq(decode_str(s, len, IPC_MSG_MAX_DEFAULT, why, sizeof why), 1);
    free(s);
    s = many_attrs(IPC_ATTR_MAX + 1, &len);
    ck_assert_int_eq(decode_str(s, len, IPC_MSG_MAX_DEFAULT, why, sizeof why), -1);
    free(s);

    struct ipc_msg m;
    ipc_msg_init(&m);
    for (int i = 0; i < IPC_ATTR_MAX; i++)
        ck_assert_int_eq(ipc_add(&m, "a", ""), 0);
    ck_assert_int_eq(ipc_add(&m, "a", ""), -1);
    ck_assert_uint_eq(m.count, IPC_ATTR_MAX);
    ipc_msg_free(&m);
}
END_TEST

START_TEST(add_validation)
{
    struct ipc_msg m;
    ipc_msg_init(&m);
    ck_assert_int_eq(ipc_add(&m, "", "v"), -1);
    ck_assert_int_eq(ipc_add(&m, "Type", "v"), -1);
    ck_assert_int_eq(ipc_add(&m, "a=b", "v"), -1);
    ck_assert_int_eq(ipc_add(&m, "a.b", "v"), -1);
    ck_assert_int_eq(ipc_add_len(&m, "a", "x\0y", 3), -1);
    ck_assert_uint_eq(m.count, 0);
    ck_assert_int_eq(ipc_add_len(&m, "a", "xyz", 2), 0);
    ck_assert_str_eq(ipc_get(&m, "a"), "xy");
    ipc_msg_clear(&m);
    ck_assert_uint_eq(m.count, 0);
    ck_assert_ptr_null(ipc_get(&m, "a"));
    ck_assert_int_eq(ipc_add(&m, "b_9", "v"), 0);
    ck_assert_str_eq(ipc_get(&m, "b_9"), "v");
    ipc_msg_free(&m);
}
END_TEST

START_TEST(encode_respects_bound)
{
    struct ipc_msg m;
    ipc_msg_init(&m);
    ipc_add(&m, "type", "wakeup");
    struct buf b;
    buf_init(&b, 10);
    buf_puts(&b, "keep");
    ck_assert_int_eq(ipc_encode(&m, &b), -1);
    ck_assert_str_eq(b.data, "keep");
    ck_assert_uint_eq(b.len, 4);
    buf_free(&b);
    ipc_msg_free(&m);
}
END_TEST

START_TEST(get_long_bounds)
{
    struct ipc_msg m;
    ipc_msg_init(&m);
    ipc_add(&m, "n", "42");
    ipc_add(&m, "n", "7");
    ipc_add(&m, "neg", "-5");
    ipc_add(&m, "big", "99999999999999999999");
    ipc_add(&m, "sp", " 5");
    ipc_add(&m, "plus", "+5");
    ipc_add(&m, "junk", "5x");
    ipc_add(&m, "empty", "");
    long long v = -1;
    ck_assert_int_eq(ipc_get_long(&m, "n", 0, 100, &v), 0);
    ck_assert_int_eq(v, 42);   /* the first value counts */
    ck_assert_int_eq(ipc_get_long(&m, "n", 42, 42, &v), 0);
    ck_assert_int_eq(ipc_get_long(&m, "n", 0, 41, &v), -1);
    ck_assert_int_eq(ipc_get_long(&m, "n", 43, 100, &v), -1);
    ck_assert_int_eq(ipc_get_long(&m, "neg", -10, 0, &v), 0);
    ck_assert_int_eq(v, -5);
    ck_assert_int_eq(ipc_get_long(&m, "neg", 0, 10, &v), -1);
    ck_assert_int_eq(ipc_get_long(&m, "big", 0, 100, &v), -1);
    ck_assert_int_eq(ipc_get_long(&m, "big", LLONG_MIN, LLONG_MAX, &v), -1);   /* overflow */
    ck_assert_int_eq(ipc_get_long(&m, "sp", 0, 100, &v), -1);
    ck_assert_int_eq(ipc_get_long(&m, "plus", 0, 100, &v), -1);
    ck_assert_int_eq(ipc_get_long(&m, "junk", 0, 100, &v), -1);
    ck_assert_int_eq(ipc_get_long(&m, "empty", 0, 100, &v), -1);
    ck_assert_int_eq(ipc_get_long(&m, "missing", 0, 100, &v), -1);
    ipc_msg_free(&m);
}
END_TEST

START_TEST(check_required_allowed)
{
    static const char *const required[] = { "type", "queue_id", NULL };
    static const char *const allowed[] = { "reason", NULL };
    struct ipc_msg m;
    ipc_msg_init(&m);
    ipc_add(&m, "type", "flush");
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(ipc_check(&m, required, allowed, why, sizeof why), -1);
    ck_assert_str_ne(why, "");
    ipc_add(&m, "queue_id", "ABC");
    ck_assert_int_eq(ipc_check(&m, required, allowed, why, sizeof why), 0);
    ipc_add(&m, "reason", "because");
    ck_assert_int_eq(ipc_check(&m, required, allowed, why, sizeof why), 0);
    ipc_add(&m, "intruder", "x");
    why[0] = '\0';
    ck_assert_int_eq(ipc_check(&m, required, allowed, why, sizeof why), -1);
    ck_assert_str_ne(why, "");
    ck_assert_int_eq(ipc_check(&m, required, NULL, why, sizeof why), 0);
    ck_assert_int_eq(ipc_check(&m, NULL, NULL, why, sizeof why), 0);
    ipc_msg_free(&m);
}
END_TEST

/* keep=1 is taken off a reply only as its last attribute, and only with the value 1. */
START_TEST(take_keep)
{
    struct ipc_msg m;
    ipc_msg_init(&m);
    ck_assert(!ipc_take_keep(&m));
    ipc_add(&m, "status", "ok");
    ipc_add(&m, "keep", "1");
    ck_assert(ipc_take_keep(&m));
    ck_assert_uint_eq(m.count, 1);
    ck_assert_ptr_null(ipc_get(&m, "keep"));
    ck_assert(!ipc_take_keep(&m));
    ipc_add(&m, "keep", "0");
    ck_assert(!ipc_take_keep(&m));
    ipc_msg_clear(&m);
    ipc_add(&m, "keep", "1");
    ipc_add(&m, "status", "ok");
    ck_assert(!ipc_take_keep(&m));
    ck_assert_uint_eq(m.count, 2);
    ipc_msg_free(&m);
}
END_TEST

/* ---- socket helpers ---- */

static void make_pair(int sv[2])
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

START_TEST(send_recv_pair)
{
    int sv[2];
    make_pair(sv);
    struct ipc_msg m, out;
    ipc_msg_init(&m);
    ipc_msg_init(&out);
    ipc_add(&m, "type", "flush");
    ipc_add(&m, "reason", "x\r\ny");
    ck_assert_int_eq(ipc_send(sv[0], &m, 1000), 0);
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(ipc_recv(sv[1], &out, 1000, 1000, why, sizeof why), 0);
    ck_assert_str_eq(ipc_get(&out, "type"), "flush");
    ck_assert_str_eq(ipc_get(&out, "reason"), "x\r\ny");
    ipc_msg_free(&m);
    ipc_msg_free(&out);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* A message far bigger than the socket buffer: the sender must loop while the reader reads. */
START_TEST(send_recv_large)
{
    int sv[2];
    make_pair(sv);
    size_t big = 600 * 1024;
    char *value = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        value[i] = (char)(1 + i % 250);
    value[big] = '\0';
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        struct ipc_msg m;
        ipc_msg_init(&m);
        ipc_add(&m, "data", value);
        _exit(ipc_send(sv[0], &m, 2000) == 0 ? 0 : 1);
    }
    close(sv[0]);
    struct ipc_msg out;
    ipc_msg_init(&out);
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(ipc_recv(sv[1], &out, IPC_MSG_MAX_DEFAULT, 2000, why, sizeof why), 0);
    ck_assert_uint_eq(out.attr[0].value_len, big);
    ck_assert_mem_eq(out.attr[0].value, value, big);
    unit_expect_exit(pid, WAIT_CHILD_MS, 0);
    ipc_msg_free(&out);
    free(value);
    close(sv[1]);
}
END_TEST

static void write_raw(int fd, const char *s, size_t n)
{
    ck_assert_int_eq(write(fd, s, n), (ssize_t)n);
}

START_TEST(recv_keeps_next_message)
{
    int sv[2];
    make_pair(sv);
    static const char two[] = "9:6:type=a,,9:6:type=b,,";
    write_raw(sv[0], two, sizeof two - 1);
    struct ipc_msg out;
    ipc_msg_init(&out);
    ck_assert_int_eq(ipc_recv(sv[1], &out, 1000, 1000, NULL, 0), 0);
    ck_assert_str_eq(ipc_get(&out, "type"), "a");
    ck_assert_int_eq(ipc_recv(sv[1], &out, 1000, 1000, NULL, 0), 0);
    ck_assert_str_eq(ipc_get(&out, "type"), "b");
    ipc_msg_free(&out);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(recv_eof_midway)
{
    int sv[2];
    make_pair(sv);
    write_raw(sv[0], "10:7:ty", 7);
    close(sv[0]);
    struct ipc_msg out;
    ipc_msg_init(&out);
    errno = 0;
    ck_assert_int_eq(ipc_recv(sv[1], &out, 1000, 1000, NULL, 0), -1);
    ck_assert_int_eq(errno, ECONNRESET);
    ipc_msg_free(&out);
    close(sv[1]);
}
END_TEST

START_TEST(recv_malformed)
{
    int sv[2];
    make_pair(sv);
    /* the peer keeps the socket open: rejection must not wait for more bytes */
    write_raw(sv[0], "10:7:TYPE=ab,,", 14);
    struct ipc_msg out;
    ipc_msg_init(&out);
    char why[ERR_TEXT_MAX] = "";
    errno = 0;
    ck_assert_int_eq(ipc_recv(sv[1], &out, 1000, 1000, why, sizeof why), -1);
    ck_assert_int_eq(errno, EPROTO);
    ck_assert_str_ne(why, "");
    ipc_msg_free(&out);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(recv_too_large)
{
    int sv[2];
    make_pair(sv);
    write_raw(sv[0], "5000:", 5);
    struct ipc_msg out;
    ipc_msg_init(&out);
    char why[ERR_TEXT_MAX] = "";
    long long t0 = unit_now_ms();
    errno = 0;
    ck_assert_int_eq(ipc_recv(sv[1], &out, 1000, 1000, why, sizeof why), -1);
    ck_assert_int_eq(errno, EPROTO);
    ck_assert_str_ne(why, "");
    ck_assert_int_lt(unit_now_ms() - t0, 500);
    ipc_msg_free(&out);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(recv_timeout)
{
    int sv[2];
    make_pair(sv);
    write_raw(sv[0], "10:7:ty", 7);   /* a partial message must not extend the deadline */
    struct ipc_msg out;
    ipc_msg_init(&out);
    long long t0 = unit_now_ms();
    errno = 0;
    ck_assert_int_eq(ipc_recv(sv[1], &out, 1000, 200, NULL, 0), -1);
    long long took = unit_now_ms() - t0;
    ck_assert_int_eq(errno, ETIMEDOUT);
    ck_assert_int_ge(took, 190);
    ck_assert_int_lt(took, 1500);
    ipc_msg_free(&out);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(send_to_closed_peer)
{
    int sv[2];
    make_pair(sv);
    close(sv[1]);
    struct ipc_msg m;
    ipc_msg_init(&m);
    ipc_add(&m, "type", "wakeup");
    errno = 0;
    /* SIGPIPE would kill the test here; MSG_NOSIGNAL turns it into EPIPE */
    ck_assert_int_eq(ipc_send(sv[0], &m, 1000), -1);
    ck_assert_int_eq(errno, EPIPE);
    ipc_msg_free(&m);
    close(sv[0]);
}
END_TEST

struct tmp_sock {
    char dir[64];
    char path[96];
    int fd;
};

static void listen_tmp(struct tmp_sock *t)
{
    unit_mkdtemp(t->dir, sizeof t->dir, "/tmp/test_ipc.XXXXXX");
    snprintf(t->path, sizeof t->path, "%s/sock", t->dir);
    t->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(t->fd, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", t->path);
    ck_assert_int_eq(bind(t->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(t->fd, 8), 0);
}

static void unlisten_tmp(struct tmp_sock *t)
{
    close(t->fd);
    unlink(t->path);
    rmdir(t->dir);
}

START_TEST(connect_unix)
{
    struct tmp_sock t;
    listen_tmp(&t);
    int fd = ipc_connect_unix(t.path, 1000);
    ck_assert_int_ge(fd, 0);
    ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    ck_assert(!(fcntl(fd, F_GETFL) & O_NONBLOCK));
    int peer = accept(t.fd, NULL, NULL);
    ck_assert_int_ge(peer, 0);
    struct ipc_msg m;
    ipc_msg_init(&m);
    ipc_add(&m, "type", "hello");
    ck_assert_int_eq(ipc_send(fd, &m, 1000), 0);
    ck_assert_int_eq(ipc_recv(peer, &m, 1000, 1000, NULL, 0), 0);
    ck_assert_str_eq(ipc_get(&m, "type"), "hello");
    ipc_msg_free(&m);
    close(peer);
    close(fd);
    unlisten_tmp(&t);
}
END_TEST

/* ipc_wakeup keeps its connection: two wakeups arrive on one, and when the server closed it
 * the next wakeup comes on a new one. */
START_TEST(wakeup_keeps_its_connection)
{
    struct tmp_sock t;
    listen_tmp(&t);
    ipc_wakeup(t.path);
    ipc_wakeup(t.path);
    int peer = accept(t.fd, NULL, NULL);
    ck_assert_int_ge(peer, 0);
    struct ipc_msg m;
    ipc_msg_init(&m);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(ipc_recv(peer, &m, 1000, 1000, NULL, 0), 0);
        ck_assert_str_eq(ipc_get(&m, "type"), "wakeup");
    }
    int fl = fcntl(t.fd, F_GETFL);
    ck_assert_int_eq(fcntl(t.fd, F_SETFL, fl | O_NONBLOCK), 0);
    ck_assert_int_eq(accept(t.fd, NULL, NULL), -1);   /* no second connection */
    ck_assert_int_eq(fcntl(t.fd, F_SETFL, fl), 0);
    close(peer);
    ipc_wakeup(t.path);
    peer = accept(t.fd, NULL, NULL);
    ck_assert_int_ge(peer, 0);
    ck_assert_int_eq(ipc_recv(peer, &m, 1000, 1000, NULL, 0), 0);
    ck_assert_str_eq(ipc_get(&m, "type"), "wakeup");
    ipc_msg_free(&m);
    close(peer);
    unlisten_tmp(&t);
}
END_TEST

START_TEST(connect_errors)
{
    struct tmp_sock t;
    listen_tmp(&t);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/nothing-here", t.dir);
    errno = 0;
    ck_assert_int_eq(ipc_connect_unix(missing, 1000), -1);
    ck_assert_int_eq(errno, ENOENT);
    char longpath[200];
    memset(longpath, 'x', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    errno = 0;
    ck_assert_int_eq(ipc_connect_unix(longpath, 1000), -1);
    ck_assert_int_eq(errno, ENAMETOOLONG);
    /* a socket file nobody listens on any more */
    close(t.fd);
    errno = 0;
    ck_assert_int_eq(ipc_connect_unix(t.path, 1000), -1);
    ck_assert_int_eq(errno, ECONNREFUSED);
    unlink(t.path);
    rmdir(t.dir);
}
END_TEST

/* One-shot server in a child: answers a request with status=ok and the request's type
 * echoed, or, when `silent`, accepts and then says nothing. */
static pid_t serve_once(int lfd, bool silent)
{
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid != 0)
        return pid;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        _exit(2);
    if (silent) {
        pause();
        _exit(0);
    }
    struct ipc_msg req, reply;
    ipc_msg_init(&req);
    ipc_msg_init(&reply);
    if (ipc_recv(fd, &req, 1000, 2000, NULL, 0) < 0 || ipc_get(&req, "type") == NULL)
        _exit(3);
    ipc_add(&reply, "status", "ok");
    ipc_add(&reply, "echo", ipc_get(&req, "type"));
    _exit(ipc_send(fd, &reply, 2000) == 0 ? 0 : 4);
}

START_TEST(call_server)
{
    struct tmp_sock t;
    listen_tmp(&t);
    pid_t pid = serve_once(t.fd, false);
    struct ipc_msg req, reply;
    ipc_msg_init(&req);
    ipc_msg_init(&reply);
    ipc_add(&req, "type", "flush");
    char why[ERR_TEXT_MAX] = "";
    ck_assert_int_eq(ipc_call(t.path, &req, &reply, 1000, 2000, why, sizeof why), 0);
    ck_assert_str_eq(ipc_get(&reply, "status"), "ok");
    ck_assert_str_eq(ipc_get(&reply, "echo"), "flush");
    unit_expect_exit(pid, WAIT_CHILD_MS, 0);
    ipc_msg_free(&req);
    ipc_msg_free(&reply);
    unlisten_tmp(&t);
}
END_TEST

START_TEST(call_timeout)
{
    struct tmp_sock t;
    listen_tmp(&t);
    pid_t pid = serve_once(t.fd, true);
    struct ipc_msg req, reply;
    ipc_msg_init(&req);
    ipc_msg_init(&reply);
    ipc_add(&req, "type", "flush");
    long long t0 = unit_now_ms();
    errno = 0;
    ck_assert_int_eq(ipc_call(t.path, &req, &reply, 1000, 200, NULL, 0), -1);
    ck_assert_int_eq(errno, ETIMEDOUT);
    ck_assert_int_lt(unit_now_ms() - t0, 1500);
    /* SIGKILL: Check's SIGTERM handler, inherited by the child, would kill the test too */
    kill(pid, SIGKILL);
    int status = unit_wait_child(pid, WAIT_CHILD_MS);
    ck_assert(WIFSIGNALED(status));
    ipc_msg_free(&req);
    ipc_msg_free(&reply);
    unlisten_tmp(&t);
}
END_TEST

/* ---- ipc_evbuffer_take ---- */

/* Each test's buffer (evb), the bytes of two messages back to back (pair: a wakeup of
 * first_len bytes, then a flush whose reason holds framing characters) and the message read. */
static struct evbuffer *evb;
static struct buf pair;
static size_t first_len;
static struct ipc_msg taken;

static void evb_setup(void)
{
    struct ipc_msg a, b;
    ipc_msg_init(&a);
    ipc_msg_init(&b);
    ipc_add(&a, "type", "wakeup");
    ipc_add(&b, "type", "flush");
    ipc_add(&b, "reason", "a,b\n1:c=d,");
    encode(&a, &pair);
    first_len = pair.len;
    ck_assert_int_eq(ipc_encode(&b, &pair), 0);
    ipc_msg_free(&a);
    ipc_msg_free(&b);
    evb = evbuffer_new();
    ipc_msg_init(&taken);
}

static void evb_teardown(void)
{
    ipc_msg_free(&taken);
    evbuffer_free(evb);
    buf_free(&pair);
}

static int take(size_t max, char *why, size_t whylen)
{
    why[0] = '\0';
    return ipc_evbuffer_take(evb, max, &taken, why, whylen);
}

START_TEST(evbuffer_partial_frames)
{
    char why[ERR_TEXT_MAX] = "";
    ipc_add(&taken, "stale", "1");
    /* nothing, then all of the first message but its last byte: wait, drain nothing */
    ck_assert_int_eq(take(IPC_MSG_MAX_DEFAULT, why, sizeof why), 0);
    evbuffer_add(evb, pair.data, first_len - 1);
    ck_assert_int_eq(take(IPC_MSG_MAX_DEFAULT, why, sizeof why), 0);
    ck_assert_uint_eq(evbuffer_get_length(evb), first_len - 1);
    ck_assert_str_eq(ipc_get(&taken, "stale"), "1");   /* untouched until a message is whole */
    /* its last byte and the start of the second: the first comes, the start stays */
    evbuffer_add(evb, pair.data + first_len - 1, 4);
    ck_assert_int_eq(take(IPC_MSG_MAX_DEFAULT, why, sizeof why), 1);
    ck_assert_uint_eq(taken.count, 1);
    ck_assert_str_eq(ipc_get(&taken, "type"), "wakeup");
    ck_assert_uint_eq(evbuffer_get_length(evb), 3);
    ck_assert_int_eq(take(IPC_MSG_MAX_DEFAULT, why, sizeof why), 0);
    /* the rest of the second */
    evbuffer_add(evb, pair.data + first_len + 3, pair.len - first_len - 3);
    ck_assert_int_eq(take(IPC_MSG_MAX_DEFAULT, why, sizeof why), 1);
    ck_assert_str_eq(ipc_get(&taken, "type"), "flush");
    ck_assert_str_eq(ipc_get(&taken, "reason"), "a,b\n1:c=d,");
    ck_assert_uint_eq(evbuffer_get_length(evb), 0);
    ck_assert_int_eq(take(IPC_MSG_MAX_DEFAULT, why, sizeof why), 0);
}
END_TEST

/* The same bytes arriving one at a time: each message comes exactly when its last byte does,
 * and never before. */
START_TEST(evbuffer_split_at_every_byte)
{
    char why[ERR_TEXT_MAX] = "";
    size_t n = 0;
    for (size_t i = 0; i < pair.len; i++) {
        evbuffer_add(evb, pair.data + i, 1);
        int r = take(IPC_MSG_MAX_DEFAULT, why, sizeof why);
        bool ends_one = i + 1 == first_len || i + 1 == pair.len;
        ck_assert_msg(r == (ends_one ? 1 : 0), "after byte %zu: %d (%s)", i, r,
                      *why ? why : "-");
        if (r == 1) {
            ck_assert_str_eq(ipc_get(&taken, "type"), n == 0 ? "wakeup" : "flush");
            ck_assert_uint_eq(evbuffer_get_length(evb), 0);
            n++;
        }
    }
    ck_assert_uint_eq(n, 2);
}
END_TEST

START_TEST(evbuffer_refuses_oversized_and_malformed)
{
    char why[ERR_TEXT_MAX] = "";
    /* a message of exactly max bytes is taken; with max one less, its length prefix alone is
     * refused, before any of the payload is there */
    evbuffer_add(evb, pair.data, first_len);
    ck_assert_int_eq(take(first_len, why, sizeof why), 1);
    evbuffer_add(evb, pair.data, 3);
    ck_assert_int_eq(take(first_len - 1, why, sizeof why), -1);
    ck_assert_str_eq(why, "message too large");
    evbuffer_drain(evb, evbuffer_get_length(evb));
    evbuffer_add_printf(evb, "9999999:");
    ck_assert_int_eq(take(IPC_MSG_MAX_DEFAULT, why, sizeof why), -1);
    ck_assert_str_eq(why, "message too large");
    /* garbage is refused at once, without waiting for more */
    evbuffer_drain(evb, evbuffer_get_length(evb));
    evbuffer_add_printf(evb, "12:x");
    ck_assert_int_eq(take(IPC_MSG_MAX_DEFAULT, why, sizeof why), -1);
    ck_assert_str_ne(why, "");
    evbuffer_drain(evb, evbuffer_get_length(evb));
    evbuffer_add_printf(evb, "x");
    ck_assert_int_eq(take(IPC_MSG_MAX_DEFAULT, why, sizeof why), -1);
    ck_assert_str_eq(why, "length expected");
}
END_TEST

static Suite *ipc_suite(void)
{
    Suite *s = suite_create("ipc");
    TCase *codec = tcase_create("codec");
    tcase_add_test(codec, encode_exact);
    tcase_add_test(codec, round_trip);
    tcase_add_test(codec, take_keep);
    tcase_add_test(codec, incremental);
    tcase_add_test(codec, back_to_back);
    tcase_add_loop_test(codec, reject_malformed, 0, sizeof malformed / sizeof malformed[0]);
    tcase_add_test(codec, valid_prefixes_need_more);
    tcase_add_test(codec, name_length_limit);
    tcase_add_test(codec, max_checked_before_payload);
    tcase_add_test(codec, attr_count_limit);
    tcase_add_test(codec, add_validation);
    tcase_add_test(codec, encode_respects_bound);
    tcase_add_test(codec, get_long_bounds);
    tcase_add_test(codec, check_required_allowed);
    suite_add_tcase(s, codec);

    TCase *evbuf = tcase_create("evbuffer");
    tcase_add_checked_fixture(evbuf, evb_setup, evb_teardown);
    tcase_add_test(evbuf, evbuffer_partial_frames);
    tcase_add_test(evbuf, evbuffer_split_at_every_byte);
    tcase_add_test(evbuf, evbuffer_refuses_oversized_and_malformed);
    suite_add_tcase(s, evbuf);

    TCase *io = tcase_create("io");
    tcase_set_timeout(io, 10);
    tcase_add_test(io, send_recv_pair);
    tcase_add_test(io, send_recv_large);
    tcase_add_test(io, recv_keeps_next_message);
    tcase_add_test(io, recv_eof_midway);
    tcase_add_test(io, recv_malformed);
    tcase_add_test(io, recv_too_large);
    tcase_add_test(io, recv_timeout);
    tcase_add_test(io, send_to_closed_peer);
    tcase_add_test(io, connect_unix);
    tcase_add_test(io, connect_errors);
    tcase_add_test(io, wakeup_keeps_its_connection);
    tcase_add_test(io, call_server);
    tcase_add_test(io, call_timeout);
    suite_add_tcase(s, io);
    return s;
}

int main(void)
{
    return unit_run(ipc_suite());
}

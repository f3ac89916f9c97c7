/* fuzz_qrecord.c: libFuzzer target for the record decoder of queue and maildrop files
 * (queue/qrecord.c) and the strict queue file reader over it (queue/qparse.c): a header decodes
 * the same from any prefix that holds it and is never decoded from less, every record read
 * encodes back to exactly its bytes (one encoding per record), the reader stays inside the
 * input, and a file it accepts walks and loads consistently. */
#include <stdbool.h>
#include <string.h>
#include "fuzz_check.h"
#include "qfile.h"

/* qrec_head on every prefix of the record at p agrees with it on the whole of p[0..avail). */
static void check_head(const unsigned char *p, size_t avail)
{
    int type = -1;
    size_t len = 0, hlen = 0;
    enum qrec_head_result whole = qrec_head(p, avail, &type, &len, &hlen);
    FUZZ_CHECK(whole == QREC_HEAD_OK || whole == QREC_HEAD_BAD || whole == QREC_HEAD_SHORT);
    if (whole == QREC_HEAD_OK) {
        FUZZ_CHECK(hlen >= 2 && hlen <= QREC_HEAD_MAX && hlen <= avail);
        FUZZ_CHECK(len <= QREC_DATA_MAX && type == p[0]);
        FUZZ_CHECK(hlen == 2 || p[hlen - 1] != 0);   /* minimal */
    }
    if (whole == QREC_HEAD_SHORT)
        FUZZ_CHECK(avail < QREC_HEAD_MAX);
    for (size_t k = 0; k < avail && k <= QREC_HEAD_MAX; k++) {
        int t2 = -1;
        size_t l2 = 0, h2 = 0;
        enum qrec_head_result part = qrec_head(p, k, &t2, &l2, &h2);
        if (whole == QREC_HEAD_OK && k >= hlen)
            FUZZ_CHECK(part == QREC_HEAD_OK && t2 == type && l2 == len && h2 == hlen);
        else if (whole == QREC_HEAD_OK || whole == QREC_HEAD_SHORT)
            FUZZ_CHECK(part == QREC_HEAD_SHORT);   /* never a verdict before the last byte */
        else
            FUZZ_CHECK(part != QREC_HEAD_OK);
    }
}

/* Walks data with qrec_get: each record re-encodes to its own bytes; returns whether the walk
 * reached the end cleanly. */
static bool check_walk(const char *data, size_t size, struct buf *again)
{
    size_t pos = 0;
    for (;;) {
        size_t start = pos;
        int type;
        const char *rec;
        size_t len;
        int got = qrec_get(data, size, &pos, &type, &rec, &len);
        if (got == 0) {
            FUZZ_CHECK(pos == size && again->len == size);
            FUZZ_CHECK(memcmp(again->data, data, size) == 0);
            return true;
        }
        if (got < 0) {
            FUZZ_CHECK(pos == start);
            int t;
            size_t l, h;
            enum qrec_head_result r = qrec_head(data + start, size - start, &t, &l, &h);
            FUZZ_CHECK(r != QREC_HEAD_OK || size - start - h < l);
            return false;
        }
        FUZZ_CHECK(got == 1 && pos > start && pos <= size);
        FUZZ_CHECK(rec >= data + start && rec + len == data + pos);
        check_head((const unsigned char *)data + start, size - start);
        FUZZ_CHECK(qrec_put(again, (enum qrec_type)type, rec, len) == 0);
        FUZZ_CHECK(again->len == pos);
        FUZZ_CHECK(memcmp(again->data + start, data + start, pos - start) == 0);
    }
}

struct walk {
    size_t n;
    size_t last_offset;
    const char *data;
    size_t size;
};

static int on_rcpt(const struct qfile_rcpt *r, void *arg)
{
    struct walk *w = arg;
    FUZZ_CHECK(r->offset < w->size && (w->n == 0 || r->offset > w->last_offset));
    FUZZ_CHECK(w->data[r->offset] == (r->done ? QREC_DONE : QREC_RECIPIENT));
    FUZZ_CHECK(r->address >= w->data && r->address + r->address_len <= w->data + w->size);
    FUZZ_CHECK(!r->orcpt ||
               (r->orcpt >= w->data && r->orcpt + r->orcpt_len <= w->data + w->size));
    FUZZ_CHECK((r->notify & ~15u) == 0);
    w->last_offset = r->offset;
    w->n++;
    return 0;
}

/* A file qfile_parse accepts: its recipients walk, its content loads. */
static void check_file(const char *data, size_t size, bool walked)
{
    struct qfile_envelope env;
    char why[ERR_TEXT_MAX] = "";
    if (qfile_parse(data, size, &env, why, sizeof why) < 0) {
        FUZZ_CHECK(why[0] != '\0');
        FUZZ_CHECK(qfile_recipients(data, size, on_rcpt, &(struct walk){ 0, 0, data, size }) ==
                   -1);
        return;
    }
    FUZZ_CHECK(walked && size > 0 && data[0] == QREC_MAGIC);
    FUZZ_CHECK(memchr(env.sender, '\0', sizeof env.sender) != NULL);
    FUZZ_CHECK(memchr(env.envid, '\0', sizeof env.envid) && memchr(env.ret, '\0', sizeof env.ret));
    FUZZ_CHECK(env.content_offset < size);
    FUZZ_CHECK(data[env.content_offset] == QREC_CONTENT || data[env.content_offset] == QREC_END ||
               env.content_offset == env.trailer_offset);
    FUZZ_CHECK(env.trailer_offset == 0 || (env.trailer_offset < size &&
               (data[env.trailer_offset] == QREC_HEADER || data[env.trailer_offset] == QREC_ATTR)));
    struct walk w = { 0, 0, data, size };
    FUZZ_CHECK(qfile_recipients(data, size, on_rcpt, &w) == 0);
    FUZZ_CHECK(w.n == env.nrcpt);
    struct buf content;
    buf_init(&content, size);
    FUZZ_CHECK(qfile_content(data, size, &env, &content) == 0);
    FUZZ_CHECK(content.len < size && content.len == env.content_size);
    buf_free(&content);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    check_head(data, size);
    struct buf again;
    buf_init(&again, BUF_UNBOUNDED);
    bool walked = check_walk(s, size, &again);
    buf_free(&again);
    check_file(s, size, walked);
    return 0;
}

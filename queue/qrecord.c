/* qrecord.c: the record codec of qrecord.h. Pure (no I/O, no global state) and linked by the
 * fuzz target tests/fuzz/fuzz_qrecord.c with little else. The decoder takes a buffer that may
 * hold only part of a record, so the streaming readers (the queue listing, maildrop files over
 * a pipe) decode headers with it too, under the same rules as the whole-file reader. */
#include <stdint.h>
#include "qrecord.h"

#define QREC_LEN_BYTES (QREC_HEAD_MAX - 1)   /* a length varint has at most 5 bytes */

static size_t varint_put(unsigned char *out, size_t v)
{
    size_t n = 0;
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        out[n++] = (unsigned char)(c | (v ? 0x80 : 0));
    } while (v);
    return n;
}

int qrec_put(struct buf *out, enum qrec_type type, const void *data, size_t len)
{
    if (len > QREC_DATA_MAX)
        return -1;
    unsigned char head[QREC_HEAD_MAX];
    head[0] = (unsigned char)type;
    size_t hlen = 1 + varint_put(head + 1, len);
    /* all or nothing: never leave half a record in out */
    if (out->len > out->max || out->max - out->len < hlen + len)
        return -1;
    if (buf_append(out, head, hlen) < 0 || buf_append(out, data, len) < 0)
        return -1;
    return 0;
}

enum qrec_head_result qrec_head(const void *p, size_t avail, int *type, size_t *len,
                                size_t *head_len)
{
    const unsigned char *b = p;
    uint64_t v = 0;
    for (size_t i = 0; i < QREC_LEN_BYTES; i++) {
        if (1 + i >= avail)
            return QREC_HEAD_SHORT;
        unsigned char c = b[1 + i];
        v |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            /* one encoding per length: a writer's bytes, never a forger's variant of them */
            if ((i > 0 && c == 0) || v > QREC_DATA_MAX)
                return QREC_HEAD_BAD;
            *type = b[0];
            *len = (size_t)v;
            *head_len = 2 + i;
            return QREC_HEAD_OK;
        }
    }
    return QREC_HEAD_BAD;
}

int qrec_get(const char *data, size_t len, size_t *pos, int *type, const char **rec,
             size_t *rec_len)
{
    if (*pos >= len)
        return 0;
    size_t avail = len - *pos, n, hlen;
    int t;
    if (qrec_head(data + *pos, avail, &t, &n, &hlen) != QREC_HEAD_OK || avail - hlen < n)
        return -1;
    *type = t;
    *rec = data + *pos + hlen;
    *rec_len = n;
    *pos += hlen + n;
    return 1;
}

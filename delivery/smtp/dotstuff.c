/* dotstuff.c: the wire form of message content (dotstuff.h). */
#include <string.h>
#include "dotstuff.h"

void dotstuff_init(struct dotstuff *st)
{
    st->bol = true;
    st->cr = false;
}

/* The length of the run of bytes at in[0..len) that holds no CR or LF. */
static size_t plain_run(const char *in, size_t len)
{
    size_t n = 0;
    while (n < len && in[n] != '\r' && in[n] != '\n')
        n++;
    return n;
}

int dotstuff_encode(struct dotstuff *st, const char *in, size_t len, struct buf *out)
{
    size_t start = out->len;
    struct dotstuff saved = *st;
    size_t i = 0;
    while (i < len) {
        char c = in[i];
        int rc = 0;
        if (st->cr) {
            st->cr = false;
            st->bol = true;
            rc = buf_append(out, "\r\n", 2);
            if (c == '\n') {
                if (rc < 0)
                    goto full;
                i++;
                continue;
            }
        }
        if (c == '\r') {
            st->cr = true;
            i++;
        } else if (c == '\n') {
            rc |= buf_append(out, "\r\n", 2);
            st->bol = true;
            i++;
        } else {
            /* a run of plain bytes goes out in one append, a leading '.' doubled */
            size_t n = plain_run(in + i, len - i);
            if (st->bol && c == '.')
                rc |= buf_append(out, ".", 1);
            rc |= buf_append(out, in + i, n);
            st->bol = false;
            i += n;
        }
        if (rc < 0)
            goto full;
    }
    return 0;
full:
    buf_truncate(out, start);
    *st = saved;
    return -1;
}

int dotstuff_finish(struct dotstuff *st, struct buf *out)
{
    size_t start = out->len;
    int rc = 0;
    if (st->cr || !st->bol)
        rc |= buf_append(out, "\r\n", 2);
    rc |= buf_append(out, ".\r\n", 3);
    if (rc < 0) {
        buf_truncate(out, start);
        return -1;
    }
    st->cr = false;
    st->bol = true;
    return 0;
}

bool content_has_8bit(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)data[i] & 0x80)
            return true;
    return false;
}

/* forward.c: a forwarded copy of a message as a new queue file in incoming/, for the addresses
 * an alias, a .forward file or virtual_alias_maps turned a recipient into. The copy keeps the
 * DSN envelope (ENVID, RET, the recipient's NOTIFY) and names the original recipient as ORCPT,
 * so notices and logs still show the address the mail was sent to. Written and committed
 * (mode 0600, fsync, fsync of incoming/) before the original recipient is marked done. */
#include <stdio.h>
#include <string.h>
#include "qmgr.h"
#include "xtext.h"

/* The ORCPT record of the copy: the original's, or rfc822;<the recipient> in xtext. */
static int put_orcpt(struct qfile *q, const struct qrcpt *r, const char *orcpt_record,
                     size_t orcpt_len)
{
    if (orcpt_record)
        return qfile_put(q, QREC_RCPT_ORCPT, orcpt_record, orcpt_len);
    char xt[DELIVERY_ADDR_MAX * 3 + 8];
    memcpy(xt, "rfc822;", 7);
    if (xtext_encode(r->address, strlen(r->address), xt + 7, sizeof xt - 7) < 0)
        return 0;   /* cannot happen for a bounded address; no ORCPT then */
    return qfile_put(q, QREC_RCPT_ORCPT, xt, strlen(xt));
}

struct find_orcpt {
    size_t offset;
    const char *orcpt;
    size_t len;
};

static int find_orcpt_cb(const struct qfile_rcpt *rc, void *arg)
{
    struct find_orcpt *f = arg;
    if (rc->offset != f->offset)
        return 0;
    f->orcpt = rc->orcpt;
    f->len = rc->orcpt_len;
    return 1;
}

int forward_write(struct qmsg *m, size_t i, const char *sender, const char *delivered_to,
                  bool valias, char *const *addrs, size_t naddrs, char newid[QFILE_ID_MAX],
                  char *err, size_t errlen)
{
    char path[QFILE_ID_MAX + 16];
    snprintf(path, sizeof path, "active/%s", m->id);
    struct buf data, content;
    buf_init(&data, BUF_UNBOUNDED);
    buf_init(&content, BUF_UNBOUNDED);
    struct qfile_envelope env;
    const char *why = NULL;
    struct qfile *q = NULL;
    int rc = -1;
    if (qfile_read(path, qfile_read_limit(), &data, &env, &why) < 0 ||
        qfile_content(data.data, data.len, &env, &content) < 0) {
        snprintf(err, errlen, "cannot read the queue file: %s", why ? why : "bad content");
        goto out;
    }
    struct find_orcpt f = { m->rcpt[i].offset, NULL, 0 };
    qfile_recipients(data.data, data.len, find_orcpt_cb, &f);
    if ((q = qfile_create()) == NULL) {
        snprintf(err, errlen, "cannot create a queue file: %m");
        goto out;
    }
    const char *s = sender ? sender : m->sender;
    int w = qfile_put(q, QREC_SENDER, s, strlen(s));
    if (env.envid[0])
        w |= qfile_put_attr(q, "envid", env.envid);
    if (env.ret[0])
        w |= qfile_put_attr(q, "ret", env.ret);
    char forwarded[64];
    snprintf(forwarded, sizeof forwarded, "%s", m->id);
    w |= qfile_put_attr(q, "forwarded_from", forwarded);
    if (valias)
        w |= qfile_put_attr(q, "valias_expanded", "yes");
    for (size_t k = 0; k < naddrs; k++) {
        w |= qfile_put(q, QREC_RECIPIENT, addrs[k], strlen(addrs[k]));
        if (m->rcpt[i].notify) {
            char num[16];
            snprintf(num, sizeof num, "%u", m->rcpt[i].notify);
            w |= qfile_put(q, QREC_RCPT_NOTIFY, num, strlen(num));
        }
        w |= put_orcpt(q, &m->rcpt[i], f.orcpt, f.len);
    }
    if (delivered_to) {
        struct buf h;
        buf_init(&h, BUF_UNBOUNDED);
        buf_printf(&h, "Delivered-To: %s\r\n", delivered_to);
        w |= qfile_put(q, QREC_CONTENT, h.data, h.len);
        buf_free(&h);
    }
    for (size_t off = 0; off < content.len; off += 65536) {
        size_t n = content.len - off < 65536 ? content.len - off : 65536;
        w |= qfile_put(q, QREC_CONTENT, content.data + off, n);
    }
    if (w != 0 || qfile_finish(q) < 0) {
        snprintf(err, errlen, "cannot write a queue file: %m");
        goto out;
    }
    snprintf(newid, QFILE_ID_MAX, "%s", qfile_id(q));
    if (qfile_commit_sync(q) < 0) {
        snprintf(err, errlen, "cannot commit a queue file: %m");
        goto out;
    }
    qfile_free(q);
    q = NULL;
    rc = 0;
out:
    if (q)
        qfile_abort(q);
    buf_free(&data);
    buf_free(&content);
    return rc;
}

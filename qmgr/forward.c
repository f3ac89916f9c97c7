/* forward.c: a forwarded copy of a message as a new queue file in incoming/, for the addresses
 * an alias, a .forward file or virtual_alias_maps turned a recipient into. The copy keeps the
 * DSN envelope (ENVID, RET, the recipient's NOTIFY) and names the original recipient as ORCPT,
 * so notices and logs still show the address the mail was sent to. Written and committed
 * (mode 0600, fsync, fsync of incoming/) before the original recipient is marked done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mem.h"
#include "qmgr.h"

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
    char why[ERR_TEXT_MAX] = "";
    struct qfile *q = NULL;
    int rc = -1;
    if (qfile_read(path, qfile_read_limit(), &data, &env, why, sizeof why) < 0 ||
        qfile_content(data.data, data.len, &env, &content) < 0) {
        snprintf(err, errlen, "cannot read the queue file: %s", *why ? why : "bad content");
        goto out;
    }
    struct find_orcpt f = { m->rcpt[i].offset, NULL, 0 };
    qfile_recipients(data.data, data.len, find_orcpt_cb, &f);
    if ((q = qfile_create()) == NULL) {
        snprintf(err, errlen, "cannot create a queue file: %m");
        goto out;
    }
    /* the ORCPT of the copies: the original's as stored, or rfc822;<the recipient>, which the
     * writer encodes */
    char *orcpt = f.orcpt ? xstrndup(f.orcpt, f.len) : NULL;
    struct qenvelope_rcpt *rcpt = xcalloc(naddrs ? naddrs : 1, sizeof *rcpt);
    for (size_t k = 0; k < naddrs; k++) {
        rcpt[k].address = addrs[k];
        rcpt[k].notify = m->rcpt[i].notify;
        rcpt[k].orcpt_record = orcpt;
        rcpt[k].orcpt_type = orcpt ? NULL : "rfc822";
        rcpt[k].orcpt = m->rcpt[i].address;
    }
    struct qenvelope e = {
        .sender = sender ? sender : m->sender,
        .envid_xtext = env.envid[0] ? env.envid : NULL,
        .ret = env.ret[0] ? env.ret : NULL,
        .forwarded_from = m->id,
        .valias_expanded = valias,
        .rcpt = rcpt,
        .nrcpt = naddrs,
    };
    int w = qfile_put_envelope(q, &e);
    free(rcpt);
    free(orcpt);
    if (delivered_to) {
        struct buf h;
        buf_init(&h, BUF_UNBOUNDED);
        buf_printf(&h, "Delivered-To: %s\r\n", delivered_to);
        w |= qfile_put_content(q, h.data, h.len);
        buf_free(&h);
    }
    w |= qfile_put_content(q, content.data, content.len);
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

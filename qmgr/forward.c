/* forward.c: a forwarded copy of a message as a new queue file in incoming/, for the addresses
 * an alias, a .forward file or virtual_alias_maps turned a recipient into. The copy keeps the
 * DSN envelope (ENVID, RET, the recipient's NOTIFY) and names the original recipient as ORCPT,
 * so notices and logs still show the address the mail was sent to. With SRS on, the sender of
 * a copy for other domains is rewritten into srs_domain (srs.c). Written and committed (mode
 * 0600, fsync, fsync of incoming/) before the original recipient is marked done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
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

/* What every copy of one forwarding shares. */
struct copy_source {
    struct qmsg *m;
    size_t i;
    const struct qfile_envelope *env;
    const struct buf *content;
    const char *orcpt;       /* the original's ORCPT record, or NULL */
    const char *delivered_to;
    bool valias;
};

/* Writes one copy for addrs with sender and finishes it (not committed yet): the file, or NULL
 * with err. */
static struct qfile *write_copy(const struct copy_source *c, const char *sender,
                                char *const *addrs, size_t naddrs, char *err, size_t errlen)
{
    struct qfile *q = qfile_create();
    if (q == NULL) {
        snprintf(err, errlen, "cannot create a queue file: %m");
        return NULL;
    }
    /* the ORCPT of the copies: the original's as stored, or rfc822;<the recipient>, which the
     * writer encodes */
    struct qenvelope_rcpt *rcpt = xcalloc(naddrs ? naddrs : 1, sizeof *rcpt);
    for (size_t k = 0; k < naddrs; k++) {
        rcpt[k].address = addrs[k];
        rcpt[k].notify = c->m->rcpt[c->i].notify;
        rcpt[k].orcpt_record = c->orcpt;
        rcpt[k].orcpt_type = c->orcpt ? NULL : "rfc822";
        rcpt[k].orcpt = c->m->rcpt[c->i].address;
    }
    struct qenvelope e = {
        .sender = sender,
        .envid_xtext = c->env->envid[0] ? c->env->envid : NULL,
        .ret = c->env->ret[0] ? c->env->ret : NULL,
        .forwarded_from = c->m->id,
        .valias_expanded = c->valias,
        .rcpt = rcpt,
        .nrcpt = naddrs,
    };
    int w = qfile_put_envelope(q, &e);
    free(rcpt);
    if (c->delivered_to) {
        struct buf h;
        buf_init(&h, BUF_UNBOUNDED);
        buf_printf(&h, "Delivered-To: %s\r\n", c->delivered_to);
        w |= qfile_put_content(q, h.data, h.len);
        buf_free(&h);
    }
    w |= qfile_put_content(q, c->content->data, c->content->len);
    if (w != 0 || qfile_finish(q) < 0) {
        snprintf(err, errlen, "cannot write a queue file: %m");
        qfile_abort(q);
        return NULL;
    }
    return q;
}

/* The SRS sender of the copy for the addresses in other domains: splits addrs into ours
 * (first *nlocal of local[]) and others' (remote[]), and puts the rewritten sender in srs.
 * 1 when there are others' and the sender was rewritten, 0 when the copy keeps its sender (SRS
 * off, the null sender, only our domains, a sender SRS cannot rewrite), -1 with err. */
static int srs_split(const char *sender, char *const *addrs, size_t naddrs, char **local,
                     size_t *nlocal, char **remote, size_t *nremote, char srs[SRS_ADDRESS_MAX],
                     char *err, size_t errlen)
{
    const struct qsrs *s = qmgr_srs();
    *nlocal = *nremote = 0;
    if (s == NULL || sender[0] == '\0')
        return 0;
    for (size_t k = 0; k < naddrs; k++) {
        int rc = qsrs_remote(s, addrs[k], err, errlen);
        if (rc < 0)
            return -1;
        if (rc)
            remote[(*nremote)++] = addrs[k];
        else
            local[(*nlocal)++] = addrs[k];
    }
    if (*nremote == 0)
        return 0;
    enum srs_status st = qsrs_forward(s, sender, time(NULL), srs, SRS_ADDRESS_MAX);
    if (st == SRS_MALFORMED)
        log_warn("sender <%s> cannot be rewritten for forwarding (%s): the copy keeps it",
                 sender, srs_status_text(st));
    return st == SRS_OK;
}

int forward_write(struct qmsg *m, size_t i, const char *sender, const char *delivered_to,
                  enum forward_kind kind, char *const *addrs, size_t naddrs,
                  char newids[FORWARD_IDS_MAX], char *err, size_t errlen)
{
    char path[QFILE_ID_MAX + 16];
    snprintf(path, sizeof path, "active/%s", m->id);
    struct buf data, content;
    buf_init(&data, BUF_UNBOUNDED);
    buf_init(&content, BUF_UNBOUNDED);
    struct qfile_envelope env;
    char why[ERR_TEXT_MAX] = "";
    struct qfile *q[2] = { NULL, NULL };
    char **local = xcalloc(naddrs ? naddrs : 1, sizeof *local);
    char **remote = xcalloc(naddrs ? naddrs : 1, sizeof *remote);
    char *orcpt = NULL;
    int rc = -1;
    if (qfile_read(path, qfile_read_limit(), &data, &env, why, sizeof why) < 0 ||
        qfile_content(data.data, data.len, &env, &content) < 0) {
        snprintf(err, errlen, "cannot read the queue file: %s", *why ? why : "bad content");
        goto out;
    }
    struct find_orcpt f = { m->rcpt[i].offset, NULL, 0 };
    qfile_recipients(data.data, data.len, find_orcpt_cb, &f);
    orcpt = f.orcpt ? xstrndup(f.orcpt, f.len) : NULL;
    struct copy_source c = { m, i, &env, &content, orcpt, delivered_to, kind == FORWARD_VALIAS };
    const char *from = sender ? sender : m->sender;
    char srs[SRS_ADDRESS_MAX];
    size_t nlocal = 0, nremote = 0;
    int rewrite = kind == FORWARD_SRS_REVERSE ? 0
                : srs_split(from, addrs, naddrs, local, &nlocal, remote, &nremote, srs, err,
                            errlen);
    if (rewrite < 0)
        goto out;
    /* a copy for our domains keeps the sender; the one for others' gets the SRS address */
    if (rewrite == 0)
        q[0] = write_copy(&c, from, addrs, naddrs, err, errlen);
    else if (nlocal == 0)
        q[0] = write_copy(&c, srs, remote, nremote, err, errlen);
    else if ((q[0] = write_copy(&c, from, local, nlocal, err, errlen)) != NULL)
        q[1] = write_copy(&c, srs, remote, nremote, err, errlen);
    if (q[0] == NULL || (rewrite && nlocal && q[1] == NULL))
        goto out;
    newids[0] = '\0';
    for (int k = 0; k < 2 && q[k]; k++) {
        char id[QFILE_ID_MAX];
        snprintf(id, sizeof id, "%s", qfile_id(q[k]));
        if (qfile_commit_sync(q[k]) < 0) {
            snprintf(err, errlen, "cannot commit a queue file: %m");
            goto out;
        }
        qfile_free(q[k]);
        q[k] = NULL;
        size_t len = strlen(newids);
        snprintf(newids + len, FORWARD_IDS_MAX - len, "%s%s", k ? " and " : "", id);
        if (rewrite && (k == 1 || nlocal == 0))
            log_info("%s: sender <%s> rewritten to <%s> for forwarding from %s", id, from, srs,
                     m->id);
    }
    rc = 0;
out:
    for (int k = 0; k < 2; k++)
        if (q[k])
            qfile_abort(q[k]);
    free(orcpt);
    free(local);
    free(remote);
    buf_free(&data);
    buf_free(&content);
    return rc;
}

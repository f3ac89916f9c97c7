/* qenvelope.c: qfile_put_envelope of qenvelope.h: a struct qenvelope as the envelope records of
 * a queue file. The DSN values given decoded are put in xtext here (xtext.h), the one place
 * the queue file's forms of ENVID and ORCPT are made. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mem.h"
#include "qfile.h"
#include "xtext.h"

/* A name=value record, or nothing when value is NULL. */
static int put_attr(struct qfile *q, const char *name, const char *value)
{
    return value ? qfile_put_attr(q, name, value) : 0;
}

/* An attribute or ORCPT record from a decoded value: prefix (may be "") then value in xtext. */
static int put_encoded(struct qfile *q, const char *attr, const char *type, const char *value)
{
    size_t size = (type ? strlen(type) + 1 : 0) + 3 * strlen(value) + 1;
    char *xt = xmalloc(size);
    int n = type ? xtext_orcpt(type, value, xt, size)
                 : xtext_encode(value, strlen(value), xt, size);
    int r;
    if (n < 0) {
        errno = EINVAL;   /* cannot happen: size holds the longest encoding */
        r = -1;
    } else if (attr) {
        r = qfile_put_attr(q, attr, xt);
    } else {
        r = qfile_put(q, QREC_RCPT_ORCPT, xt, (size_t)n);
    }
    free(xt);
    return r;
}

static int put_rcpt(struct qfile *q, const struct qenvelope_rcpt *rc)
{
    int r = qfile_put(q, QREC_RECIPIENT, rc->address, strlen(rc->address));
    if (rc->notify) {
        char num[16];
        int n = snprintf(num, sizeof num, "%u", rc->notify);
        r |= qfile_put(q, QREC_RCPT_NOTIFY, num, (size_t)n);
    }
    if (rc->orcpt_record)
        r |= qfile_put(q, QREC_RCPT_ORCPT, rc->orcpt_record, strlen(rc->orcpt_record));
    else if (rc->orcpt_type && rc->orcpt_type[0])
        r |= put_encoded(q, NULL, rc->orcpt_type, rc->orcpt);
    return r;
}

int qfile_put_envelope(struct qfile *q, const struct qenvelope *e)
{
    /* the writer's errors are sticky: one check at the end sees any of them */
    int r = qfile_put(q, QREC_SENDER, e->sender, strlen(e->sender));
    r |= put_attr(q, QATTR_CLIENT_NAME, e->client_name);
    r |= put_attr(q, QATTR_CLIENT_ADDRESS, e->client_address);
    r |= put_attr(q, QATTR_CLIENT_PORT, e->client_port);
    r |= put_attr(q, QATTR_HELO, e->helo);
    r |= put_attr(q, QATTR_PROTOCOL, e->protocol);
    r |= put_attr(q, QATTR_SASL_USERNAME, e->sasl_username);
    r |= put_attr(q, QATTR_TLS, e->tls);
    if (e->has_uid) {
        char uid[32];
        snprintf(uid, sizeof uid, "%lu", (unsigned long)e->uid);
        r |= qfile_put_attr(q, QATTR_UID, uid);
    }
    /* longer than RFC 3461 allows, the reader would not take it back: refused here */
    if ((e->envid_xtext && strlen(e->envid_xtext) > QENVID_XTEXT_MAX) ||
        (e->envid && strlen(e->envid) > QENVID_XTEXT_MAX / 3)) {
        errno = EINVAL;
        return -1;
    }
    if (e->envid_xtext)
        r |= qfile_put_attr(q, QATTR_ENVID, e->envid_xtext);
    else if (e->envid)
        r |= put_encoded(q, QATTR_ENVID, NULL, e->envid);
    r |= put_attr(q, QATTR_RET, e->ret);
    r |= put_attr(q, QATTR_BODY, e->body);
    if (e->smtputf8)
        r |= qfile_put_attr(q, QATTR_SMTPUTF8, QATTR_YES);
    r |= put_attr(q, QATTR_FORWARDED_FROM, e->forwarded_from);
    if (e->valias_expanded)
        r |= qfile_put_attr(q, QATTR_VALIAS_EXPANDED, QATTR_YES);
    for (size_t i = 0; i < e->nrcpt; i++)
        r |= put_rcpt(q, &e->rcpt[i]);
    return r ? -1 : 0;
}

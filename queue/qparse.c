/* qparse.c: the strict reader of qfile.h over a queue file held in memory: the record order
 * and forms (qfile_parse), the content and the recipients. Pure (no I/O, no global state), so
 * the fuzz target tests/fuzz/fuzz_qrecord.c links it with the record codec alone. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "qfile.h"

/* Where a record may appear: the envelope order of qfile.h as a sequence of sections. */
enum section {
    SEC_START, SEC_MAGIC, SEC_TIME, SEC_SENDER, SEC_ATTR, SEC_RCPT, SEC_CONTENT, SEC_TRAILER,
    SEC_END
};

struct reader {
    enum section sec;
    struct qfile_envelope *env;
    size_t offset;   /* of the current record */
    const char *why;
};

static bool parse_time(const char *s, size_t len, double *out)
{
    /* <digits>.<6 digits> */
    const char *dot = memchr(s, '.', len);
    if (!dot || dot == s || dot - s > 19 || (size_t)(s + len - dot) != 7)
        return false;
    double secs = 0, usec = 0;
    for (const char *p = s; p < s + len; p++) {
        if (p == dot)
            continue;
        if (*p < '0' || *p > '9')
            return false;
        if (p < dot)
            secs = secs * 10 + (*p - '0');
        else
            usec = usec * 10 + (*p - '0');
    }
    *out = secs + usec / 1e6;
    return true;
}

static bool is_rcpt(int type)
{
    return type == QREC_RECIPIENT || type == QREC_DONE;
}

/* The section a record of this type opens or continues, given the current one; -1 when the
 * record is out of order. */
static int next_section(enum section cur, int type)
{
    switch (type) {
    case QREC_MAGIC: return cur == SEC_START ? SEC_MAGIC : -1;
    case QREC_TIME: return cur == SEC_MAGIC ? SEC_TIME : -1;
    case QREC_SENDER: return cur == SEC_TIME ? SEC_SENDER : -1;
    case QREC_ATTR:
        if (cur == SEC_CONTENT || cur == SEC_TRAILER)
            return SEC_TRAILER;
        return cur == SEC_SENDER || cur == SEC_ATTR ? SEC_ATTR : -1;
    case QREC_HEADER: return cur >= SEC_SENDER && cur <= SEC_TRAILER ? SEC_TRAILER : -1;
    case QREC_RECIPIENT:
    case QREC_DONE:
    case QREC_RCPT_NOTIFY:
    case QREC_RCPT_ORCPT:
        if (cur == SEC_RCPT || (is_rcpt(type) && (cur == SEC_SENDER || cur == SEC_ATTR)))
            return SEC_RCPT;
        return -1;
    case QREC_CONTENT:
        return cur >= SEC_SENDER && cur <= SEC_CONTENT ? SEC_CONTENT : -1;
    case QREC_END: return cur >= SEC_SENDER && cur <= SEC_TRAILER ? SEC_END : -1;
    default: return -1;
    }
}

static bool known_type(int type)
{
    switch (type) {
    case QREC_MAGIC: case QREC_TIME: case QREC_SENDER: case QREC_ATTR: case QREC_RECIPIENT:
    case QREC_DONE: case QREC_RCPT_NOTIFY: case QREC_RCPT_ORCPT: case QREC_CONTENT:
    case QREC_HEADER: case QREC_END:
        return true;
    default:
        return false;
    }
}

/* Whether the ATTR record data[0..len) is "name=value": then the value in *value, *value_len. */
static bool attr_value(const char *data, size_t len, const char *name, const char **value,
                       size_t *value_len)
{
    size_t n = strlen(name);
    if (len <= n || memcmp(data, name, n) != 0 || data[n] != '=')
        return false;
    *value = data + n + 1;
    *value_len = len - n - 1;
    return true;
}

/* An attribute value the envelope keeps: non-empty, without NUL, fitting out; else it stays. */
static void copy_value(const char *v, size_t vlen, char *out, size_t size)
{
    if (vlen == 0 || vlen >= size || memchr(v, '\0', vlen))
        return;
    memcpy(out, v, vlen);
    out[vlen] = '\0';
}

static int reader_fail(struct reader *r, const char *why)
{
    r->why = why;
    return -1;
}

/* Checks one record against the section rules and fills in the envelope. */
static int reader_record(struct reader *r, int type, const char *data, size_t len)
{
    if (!known_type(type))
        return reader_fail(r, "unknown record type");
    int sec = next_section(r->sec, type);
    if (sec < 0)
        return reader_fail(r, "record out of order");
    struct qfile_envelope *env = r->env;
    if (sec == SEC_TRAILER && r->sec != SEC_TRAILER) {
        env->trailer_offset = r->offset;
        if (r->sec != SEC_CONTENT)
            env->content_offset = r->offset;   /* no content: it would start here */
    }
    switch (type) {
    case QREC_MAGIC:
        if (len != strlen(QREC_MAGIC_TEXT) || memcmp(data, QREC_MAGIC_TEXT, len) != 0)
            return reader_fail(r, "bad magic record");
        break;
    case QREC_TIME:
        if (!parse_time(data, len, &env->arrival))
            return reader_fail(r, "bad arrival time record");
        break;
    case QREC_SENDER:
        if (len >= sizeof env->sender || memchr(data, '\0', len))
            return reader_fail(r, "bad sender record");
        memcpy(env->sender, data, len);
        env->sender[len] = '\0';
        break;
    case QREC_ATTR: {
        const char *v;
        size_t vlen;
        if (attr_value(data, len, QATTR_ENVID, &v, &vlen))
            copy_value(v, vlen, env->envid, sizeof env->envid);
        else if (attr_value(data, len, QATTR_RET, &v, &vlen))
            copy_value(v, vlen, env->ret, sizeof env->ret);
        else if (attr_value(data, len, QATTR_BODY, &v, &vlen))
            copy_value(v, vlen, env->body, sizeof env->body);
        else if (attr_value(data, len, QATTR_SMTPUTF8, &v, &vlen) &&
                 vlen == strlen(QATTR_YES) && memcmp(v, QATTR_YES, vlen) == 0)
            env->smtputf8 = true;
        else if (attr_value(data, len, QATTR_VALIAS_EXPANDED, &v, &vlen) &&
                 vlen == strlen(QATTR_YES) && memcmp(v, QATTR_YES, vlen) == 0)
            env->valias_expanded = true;
        else if (attr_value(data, len, QATTR_QUARANTINE, &v, &vlen))
            copy_value(v, vlen, env->quarantine, sizeof env->quarantine);
        break;
    }
    case QREC_RECIPIENT:
    case QREC_DONE:
        env->nrcpt++;
        break;
    case QREC_CONTENT:
        if (r->sec != SEC_CONTENT)
            env->content_offset = r->offset;
        env->content_size += len;
        break;
    case QREC_HEADER:
        env->content_size += len;
        break;
    case QREC_END:
        if (len != 0)
            return reader_fail(r, "bad end record");
        if (r->sec != SEC_CONTENT && r->sec != SEC_TRAILER)
            env->content_offset = r->offset;   /* no content: it would start here */
        break;
    }
    r->sec = (enum section)sec;
    return 0;
}

/* env->nrcpt counts every recipient record, delivered (D) or not (R). */
int qfile_parse(const char *in, size_t in_len, struct qfile_envelope *env, char *err,
                size_t errlen)
{
    memset(env, 0, sizeof *env);
    struct reader r = { SEC_START, env, 0, NULL };
    size_t pos = 0;
    for (;;) {
        int type;
        const char *data;
        size_t len;
        r.offset = pos;
        int got = qrec_get(in, in_len, &pos, &type, &data, &len);
        if (got < 0) {
            snprintf(err, errlen, "truncated or malformed record");
            return -1;
        }
        if (got == 0)
            break;
        if (r.sec == SEC_END) {
            snprintf(err, errlen, "data after the end record");
            return -1;
        }
        if (reader_record(&r, type, data, len) < 0) {
            snprintf(err, errlen, "%s", r.why);
            return -1;
        }
    }
    if (r.sec != SEC_END) {
        snprintf(err, errlen, "%s", r.sec == SEC_START ? "empty file" : "no end record");
        return -1;
    }
    return 0;
}

enum { ITER_START, ITER_TRAILER, ITER_CONTENT, ITER_DONE };

bool qfile_content_next(const char *data, size_t len, const struct qfile_envelope *env,
                        struct qfile_content_iter *it, const char **piece, size_t *piece_len)
{
    for (;;) {
        if (it->phase == ITER_START) {
            it->phase = env->trailer_offset ? ITER_TRAILER : ITER_CONTENT;
            it->pos = env->trailer_offset ? env->trailer_offset : env->content_offset;
        }
        if (it->phase == ITER_DONE)
            return false;
        int type;
        if (qrec_get(data, len, &it->pos, &type, piece, piece_len) != 1) {
            it->phase = ITER_DONE;
            return false;
        }
        if (it->phase == ITER_TRAILER) {
            if (type == QREC_HEADER)
                return true;
            if (type != QREC_ATTR) {   /* END: the trailer's fields are out; now the content */
                it->phase = ITER_CONTENT;
                it->pos = env->content_offset;
            }
            continue;
        }
        if (type == QREC_CONTENT)
            return true;
        it->phase = ITER_DONE;
        return false;
    }
}

int qfile_content(const char *data, size_t len, const struct qfile_envelope *env,
                  struct buf *out)
{
    struct qfile_content_iter it = { 0, 0 };
    const char *p;
    size_t n;
    while (qfile_content_next(data, len, env, &it, &p, &n))
        if (buf_append(out, p, n) < 0)
            return -1;
    return 0;
}

static unsigned parse_notify(const char *s, size_t len)
{
    unsigned v = 0;
    if (len == 0 || len > 3)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v & (NOTIFY_NEVER | NOTIFY_SUCCESS | NOTIFY_FAILURE | NOTIFY_DELAY);
}

/* The whole file is checked first (as qfile_read does), so cb never sees part of a malformed
 * file. cb returning non-zero stops the walk early; that is not an error. */
int qfile_recipients(const char *data, size_t len,
                     int (*cb)(const struct qfile_rcpt *rcpt, void *arg), void *arg)
{
    struct qfile_envelope env;
    if (qfile_parse(data, len, &env, NULL, 0) < 0)
        return -1;
    size_t pos = 0;
    struct qfile_rcpt cur;
    bool have = false;
    for (;;) {
        size_t offset = pos;   /* of the record's type byte */
        int type;
        const char *rec;
        size_t rec_len;
        int got = qrec_get(data, len, &pos, &type, &rec, &rec_len);
        if (got < 0)
            return -1;   /* cannot happen: qfile_parse accepted it */
        if (have && (got == 0 || (type != QREC_RCPT_NOTIFY && type != QREC_RCPT_ORCPT))) {
            have = false;
            if (cb(&cur, arg) != 0)
                return 0;
        }
        if (got == 0)
            return 0;
        if (is_rcpt(type)) {
            memset(&cur, 0, sizeof cur);
            cur.address = rec;
            cur.address_len = rec_len;
            cur.done = type == QREC_DONE;
            cur.offset = offset;
            have = true;
        } else if (have && type == QREC_RCPT_NOTIFY) {
            cur.notify = parse_notify(rec, rec_len);
        } else if (have && type == QREC_RCPT_ORCPT) {
            cur.orcpt = rec;
            cur.orcpt_len = rec_len;
        } else if (type == QREC_CONTENT || type == QREC_HEADER || type == QREC_END) {
            return 0;
        }
    }
}


/* dkim_signer.c: the streamed signer of dkim_signer.h. Two header scans: one of the input,
 * held until its header ends, to decide from its From: field whether the message is signed;
 * one of the converter's output, to keep the header block that is signed and to find where
 * the hashed body starts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dkim_canon.h"
#include "dkim_sign.h"
#include "dkim_signer.h"
#include "dmarc_record.h"
#include "header_scanner.h"
#include "log.h"
#include "mem.h"
#include "mime_downgrade.h"
#include "qfile.h"

/* The converted header may be a little longer than the input's (a Content-Transfer-Encoding
 * field rewritten): room kept beyond header_limit. */
#define HEADER_SLACK 4096

enum phase {
    READING_HEADER,     /* the input's header is held in raw */
    SIGNING,            /* through the converter; header kept, body hashed */
    PASSING,            /* given back as it comes */
};

struct dkim_signer {
    const struct dkim_signing_table *table;
    size_t header_limit;
    long long timestamp;
    enum phase phase;
    enum dkim_signer_status status;    /* what finish says, unless signing fails */
    char why[256];

    /* READING_HEADER */
    struct buf raw;
    struct header_scanner in_scan;

    /* SIGNING */
    const struct dkim_signing_key *keys;
    size_t nkeys, nsigned;
    struct mime_downgrade conv;
    bool converting;
    struct buf hdr;                    /* the converted header, until out_scan ends */
    struct header_scanner out_scan;
    bool header_done;
    bool header_lost;                  /* hdr passed its bound: no signature */
    struct dkim_body_hash bh;
};

struct dkim_signer *dkim_signer_new(const struct dkim_signing_table *t, size_t header_limit,
                                    long long timestamp)
{
    struct dkim_signer *s = xcalloc(1, sizeof *s);
    s->table = t;
    s->header_limit = header_limit;
    s->timestamp = timestamp;
    s->phase = READING_HEADER;
    s->status = DKIM_SIGNER_NO_KEY;
    buf_init(&s->raw, BUF_UNBOUNDED);
    header_scanner_init(&s->in_scan);
    buf_init(&s->hdr, BUF_UNBOUNDED);
    header_scanner_init(&s->out_scan);
    return s;
}

static void not_signed(struct dkim_signer *s, const char *why)
{
    s->status = DKIM_SIGNER_NOT_SIGNED;
    snprintf(s->why, sizeof s->why, "%.*s", (int)sizeof s->why - 1, why);
}

/* Converted output p[0..n): the header kept until it ends, then the body hashed. */
static void take_output(struct dkim_signer *s, const char *p, size_t n)
{
    if (s->header_done) {
        dkim_body_hash_feed(&s->bh, p, n);
        return;
    }
    if (s->header_lost)
        return;
    if (buf_append(&s->hdr, p, n) < 0) {
        s->header_lost = true;
        not_signed(s, "out of memory");
        return;
    }
    while (s->out_scan.offset < s->hdr.len) {
        size_t used;
        struct header_field f;
        size_t at = s->out_scan.offset;
        if (header_scanner_feed(&s->out_scan, s->hdr.data + at, s->hdr.len - at, &used, &f) ==
            HEADER_EV_END)
            break;
    }
    if (!s->out_scan.ended_by &&
        header_scanner_size(&s->out_scan) > s->header_limit + HEADER_SLACK) {
        s->header_lost = true;
        not_signed(s, "header larger than header_size_limit");
    } else if (s->out_scan.ended_by) {
        s->header_done = true;
        dkim_body_hash_feed(&s->bh, s->hdr.data + s->out_scan.body,
                            s->hdr.len - s->out_scan.body);
    }
}

/* Feeds p[0..n) to the converter: its output goes to out, and is taken. */
static int convert(struct dkim_signer *s, const char *p, size_t n, struct buf *out, bool finish)
{
    size_t before = out->len;
    int r = finish ? mime_downgrade_finish(&s->conv, out)
                   : mime_downgrade_feed(&s->conv, p, n, out);
    if (r < 0)
        return -1;
    take_output(s, out->data + before, out->len - before);
    return 0;
}

/* The From: domain's keys, from the input header raw[0..in_scan.end); sets keys and status. */
static void find_keys(struct dkim_signer *s)
{
    struct header_fields it;
    struct header_field f, from = { 0 };
    int froms = 0;
    header_fields_init(&it, s->raw.data, s->in_scan.end);
    while (header_fields_next(&it, &f))
        if (f.name == HEADER_FROM && froms++ == 0)
            from = f;
    if (froms != 1) {
        not_signed(s, froms ? "several From: fields" : "no From: field");
        return;
    }
    char domain[DMARC_DOMAIN_MAX], why[128];
    enum dmarc_from r = dmarc_from_domain(s->raw.data + from.value, from.end - from.value,
                                          domain);
    if (r != DMARC_FROM_OK) {
        snprintf(why, sizeof why, "From: field with %s", dmarc_from_text(r));
        not_signed(s, why);
        return;
    }
    s->nkeys = dkim_signing_lookup(s->table, domain, &s->keys);
}

/* The input's header is complete (or too long): signed or passed from here on. */
static int decide(struct dkim_signer *s, struct buf *out)
{
    /* with an empty table signing is off: nothing to say */
    if (dkim_signing_domains(s->table) > 0 && s->in_scan.ended_by == 0)
        not_signed(s, "header larger than header_size_limit");
    else if (dkim_signing_domains(s->table) > 0)
        find_keys(s);
    if (s->nkeys == 0) {
        s->phase = PASSING;
        if (buf_append(out, s->raw.data, s->raw.len) < 0)
            return -1;
    } else {
        s->phase = SIGNING;
        size_t lookahead = s->header_limit > DKIM_SIGNER_LOOKAHEAD_MIN
                               ? s->header_limit : DKIM_SIGNER_LOOKAHEAD_MIN;
        mime_downgrade_init(&s->conv, lookahead);
        s->converting = true;
        dkim_body_hash_init(&s->bh, DKIM_CANON_RELAXED, DKIM_HASH_SHA256, false, 0);
        if (convert(s, s->raw.data, s->raw.len, out, false) < 0)
            return -1;
    }
    buf_free(&s->raw);
    buf_init(&s->raw, BUF_UNBOUNDED);
    return 0;
}

int dkim_signer_feed(struct dkim_signer *s, const char *p, size_t n, struct buf *out)
{
    switch (s->phase) {
    case PASSING:
        return buf_append(out, p, n);
    case SIGNING:
        return convert(s, p, n, out, false);
    case READING_HEADER:
        break;
    }
    if (buf_append(&s->raw, p, n) < 0)
        return -1;
    while (s->in_scan.offset < s->raw.len) {
        size_t used, at = s->in_scan.offset;
        struct header_field f;
        if (header_scanner_feed(&s->in_scan, s->raw.data + at, s->raw.len - at, &used, &f) ==
            HEADER_EV_END)
            break;
    }
    if (s->in_scan.ended_by || header_scanner_size(&s->in_scan) > s->header_limit)
        return decide(s, out);
    return 0;
}

/* Appends one signature per key; on a failure none (fields as it was). */
static void sign(struct dkim_signer *s, struct buf *fields)
{
    if (s->header_lost)
        return;
    size_t before = fields->len;
    for (size_t i = 0; i < s->nkeys; i++) {
        const struct dkim_signing_key *k = &s->keys[i];
        struct dkim_sign_params p = {
            .domain = k->domain,
            .selector = k->selector,
            .key = k->pkey,
            .timestamp = s->timestamp,
            .headers = NULL,
        };
        char err[200];
        if (dkim_sign(&p, s->hdr.data, s->out_scan.end, s->bh.digest, s->bh.digest_len, fields,
                      err, sizeof err) < 0) {
            buf_truncate(fields, before);
            char why[sizeof s->why + DKIM_SELECTOR_MAX + sizeof err];
            snprintf(why, sizeof why, "signing with s=%s failed: %s", k->selector, err);
            not_signed(s, why);
            s->nsigned = 0;
            return;
        }
        s->nsigned++;
    }
    s->status = DKIM_SIGNER_SIGNED;
}

enum dkim_signer_status dkim_signer_finish(struct dkim_signer *s, struct buf *out,
                                           struct buf *fields, char *why, size_t whylen)
{
    if (s->phase == READING_HEADER) {
        header_scanner_finish(&s->in_scan);
        if (decide(s, out) < 0)
            return DKIM_SIGNER_ERROR;
    }
    if (s->phase == SIGNING) {
        if (convert(s, NULL, 0, out, true) < 0)
            return DKIM_SIGNER_ERROR;
        if (!s->header_done && !s->header_lost) {
            header_scanner_finish(&s->out_scan);
            s->header_done = true;
            dkim_body_hash_feed(&s->bh, s->hdr.data + s->out_scan.body,
                                s->hdr.len - s->out_scan.body);
        }
        dkim_body_hash_final(&s->bh);
        sign(s, fields);
    }
    if (why)
        snprintf(why, whylen, "%s", s->status == DKIM_SIGNER_NOT_SIGNED ? s->why : "");
    return s->status;
}

size_t dkim_signer_count(const struct dkim_signer *s)
{
    return s->nsigned;
}

const struct dkim_signing_key *dkim_signer_key(const struct dkim_signer *s, size_t i)
{
    return i < s->nsigned ? &s->keys[i] : NULL;
}

bool dkim_signer_converted(const struct dkim_signer *s)
{
    return s->converting && mime_downgrade_changed(&s->conv);
}

bool dkim_signer_8bit_left(const struct dkim_signer *s)
{
    return s->converting && mime_downgrade_8bit_left(&s->conv);
}

void dkim_signer_free(struct dkim_signer *s)
{
    if (s == NULL)
        return;
    if (s->converting) {
        mime_downgrade_free(&s->conv);
        dkim_body_hash_free(&s->bh);
    }
    buf_free(&s->raw);
    buf_free(&s->hdr);
    free(s);
}

int dkim_signer_finish_file(struct dkim_signer *s, struct qfile *q, struct buf *out)
{
    struct buf fields;
    buf_init(&fields, BUF_UNBOUNDED);
    buf_reset(out);
    char why[256];
    enum dkim_signer_status st = dkim_signer_finish(s, out, &fields, why, sizeof why);
    int r = st == DKIM_SIGNER_ERROR ? -1 : qfile_put_content(q, out->data, out->len);
    struct header_fields it;
    struct header_field f;
    header_fields_init(&it, fields.data, fields.len);
    while (r == 0 && header_fields_next(&it, &f))
        r = qfile_put_header(q, fields.data + f.start, f.end - f.start);
    if (r == 0 && st == DKIM_SIGNER_NOT_SIGNED)
        log_info("%s: not signed: %s", qfile_id(q), why);
    for (size_t i = 0; r == 0 && i < dkim_signer_count(s); i++) {
        const struct dkim_signing_key *k = dkim_signer_key(s, i);
        log_info("%s: dkim signed d=%s s=%s a=%s", qfile_id(q), k->domain, k->selector,
                 dkim_signing_alg(k));
    }
    if (r == 0 && dkim_signer_8bit_left(s))
        log_warn("%s: 8-bit content that could not be converted before signing: a signature "
                 "may break if it is converted later", qfile_id(q));
    buf_free(&fields);
    if (st == DKIM_SIGNER_ERROR)
        errno = ENOMEM;
    return r;
}

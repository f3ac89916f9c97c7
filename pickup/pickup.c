/* pickup.c: the pickup service (libexec/pickup, pickup(8)), run by the master as mail_owner in
 * the queue directory. It turns the files that terndrop left in maildrop/ for sendmail(1) into
 * queue files in incoming/ with the same queue file writer smtpd uses, after checking every
 * record again (the file comes from an ordinary user), and adds what the message lacks: a
 * Received: line naming the user's uid, From:, Date: and Message-ID:. With sendmail -t it takes
 * the recipients from To:, Cc: and Bcc:; Bcc: lines are always removed. A message whose From:
 * domain has a key in dkim_signing_keys (read at start, as root) is DKIM-signed as queued, after
 * those edits (dkim_signer.h). It scans maildrop/ at start, when terndrop wakes it up
 * (public/pickup) and when the master's wakeup timer does. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "addrlist.h"
#include "config.h"
#include "dkim_signer.h"
#include "header_edit.h"
#include "header_scanner.h"
#include "ipc.h"
#include "ipc_proto.h"
#include "log.h"
#include "maildrop.h"
#include "mem.h"
#include "qdir.h"
#include "qfile.h"
#include "safefile.h"
#include "server.h"
#include "smtp_parse.h"
#include "statuslog.h"
#include "xtext.h"

#define STALE_TEMP_SECONDS (24 * 3600)   /* a terndrop that died left t<random> behind */

static struct {
    char myhostname[256];
    char myorigin[256];
    size_t header_limit;
    long long hopcount_limit;
} conf;

static struct dkim_signing_table *signing;   /* dkim_signing_keys, loaded at start */

/* One recipient of the message being converted. */
struct rcpt {
    char address[SMTP_PATH_MAX + 1];
    unsigned notify;
    char orcpt[MAILDROP_FIELD_MAX + 1];   /* "type;xtext" or "" */
};

struct conversion {
    char sender[SMTP_PATH_MAX + 1];
    bool smtputf8;
    char fullname[MAILDROP_FIELD_MAX + 1];
    char envid[MAILDROP_FIELD_MAX + 1];
    char ret[8], body[16];
    unsigned notify;          /* message-wide (sendmail -N) */
    bool extract;
    struct rcpt *rcpt;
    size_t nrcpt, cap;
    unsigned *seen;           /* hash set of recipient indexes + 1 (duplicates), SEEN_SLOTS */
    char **bad;               /* addresses skipped (each gets a failure record) */
    size_t nbad, skipped;     /* listed, and all of them */
    bool capped;              /* the recipient limit was reached (logged once) */
    const char *file;         /* the maildrop file name, for the log */
};

#define SEEN_SLOTS (2 * MAILDROP_RCPT_MAX)   /* open addressing, at most half full */
#define BAD_LISTED 100                        /* bad addresses named in the notice */

/* ---- addresses ---- */

/* Qualifies a bare local part with @myorigin and checks the result as an SMTP path. 0 with
 * the address in out, or -1. */
static int qualify(const char *addr, char out[SMTP_PATH_MAX + 1], bool *utf8)
{
    char path[MAILDROP_FIELD_MAX + 8 + sizeof conf.myorigin];
    int plen;
    if (strchr(addr, '@') == NULL)
        plen = snprintf(path, sizeof path, "<%s@%s>", addr, conf.myorigin);
    else
        plen = snprintf(path, sizeof path, "<%s>", addr);
    if (plen < 0 || (size_t)plen >= sizeof path)
        return -1;
    struct smtp_address a;
    int n = smtp_parse_path(path, strlen(path), false, true, &a, NULL, 0);
    if (n < 0 || (size_t)n != strlen(path))
        return -1;
    snprintf(out, SMTP_PATH_MAX + 1, "%s", a.address);
    if (a.utf8)
        *utf8 = true;
    return 0;
}

static unsigned address_hash(const char *s)
{
    unsigned h = 2166136261u;   /* FNV-1a over the lower-cased address */
    for (; *s; s++)
        h = (h ^ (unsigned char)((*s >= 'A' && *s <= 'Z') ? *s + 32 : *s)) * 16777619u;
    return h;
}

/* Looks q up in the duplicates set; adds index idx when absent. true when q was there. */
static bool seen_before(struct conversion *c, const char *q, size_t idx)
{
    if (c->seen == NULL)
        c->seen = xcalloc(SEEN_SLOTS, sizeof *c->seen);
    for (unsigned i = address_hash(q) % SEEN_SLOTS;; i = (i + 1) % SEEN_SLOTS) {
        if (c->seen[i] == 0) {
            c->seen[i] = (unsigned)idx + 1;
            return false;
        }
        if (strcasecmp(c->rcpt[c->seen[i] - 1].address, q) == 0)
            return true;
    }
}

/* An address that cannot be used: logged, and named in a failure notice to the sender. */
static void skip_address(struct conversion *c, const char *addr)
{
    c->skipped++;
    if (c->nbad == BAD_LISTED)
        return;
    log_warn("maildrop/%s: bad recipient address: %.100s", c->file, addr);
    c->bad = xrealloc(c->bad, (c->nbad + 1) * sizeof *c->bad);
    c->bad[c->nbad++] = xstrdup(addr[0] ? addr : "(empty)");
}

static void add_recipient(struct conversion *c, const char *addr, unsigned notify,
                          const char *orcpt)
{
    if (c->nrcpt == MAILDROP_RCPT_MAX) {
        if (!c->capped)
            log_warn("maildrop/%s: more than %d recipients; the rest are dropped", c->file,
                     MAILDROP_RCPT_MAX);
        c->capped = true;
        return;
    }
    char q[SMTP_PATH_MAX + 1];
    if (qualify(addr, q, &c->smtputf8) < 0) {
        skip_address(c, addr);
        return;
    }
    if (c->nrcpt == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->rcpt = xrealloc(c->rcpt, c->cap * sizeof *c->rcpt);
    }
    struct rcpt *r = &c->rcpt[c->nrcpt];
    snprintf(r->address, sizeof r->address, "%s", q);
    if (seen_before(c, q, c->nrcpt))
        return;   /* duplicates are delivered once */
    r->notify = notify ? notify : c->notify;
    snprintf(r->orcpt, sizeof r->orcpt, "%s", orcpt ? orcpt : "");
    c->nrcpt++;
}

struct list_arg {
    struct conversion *c;
    unsigned notify;
    const char *orcpt;
};

static int on_list_address(const char *addr, int bad, void *arg)
{
    struct list_arg *a = arg;
    if (bad) {
        skip_address(a->c, "(an address with control characters or too long)");
        return 0;
    }
    add_recipient(a->c, addr, a->notify, a->orcpt);
    return 0;
}

static void on_header_recipients(const char *value, size_t len, void *arg)
{
    struct list_arg a = { arg, 0, NULL };
    addrlist_parse(value, len, on_list_address, &a);
}

/* ---- the envelope ---- */

static unsigned parse_notify(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end || v > (NOTIFY_NEVER | NOTIFY_SUCCESS | NOTIFY_FAILURE | NOTIFY_DELAY))
        return 0;
    return (unsigned)v;
}

static void take_attr(struct conversion *c, const char *data, size_t len)
{
    char text[MAILDROP_FIELD_MAX + 1];
    snprintf(text, sizeof text, "%.*s", (int)len, data);
    char *value = strchr(text, '=');
    *value++ = '\0';   /* maildrop_check made sure there is one */
    if (strcmp(text, "fullname") == 0)
        snprintf(c->fullname, sizeof c->fullname, "%s", value);
    else if (strcmp(text, "envid") == 0 && strlen(value) <= SMTP_ENVID_MAX)
        snprintf(c->envid, sizeof c->envid, "%s", value);
    else if (strcmp(text, "ret") == 0 && (strcmp(value, "FULL") == 0 || strcmp(value, "HDRS") == 0))
        snprintf(c->ret, sizeof c->ret, "%s", value);
    else if (strcmp(text, "body") == 0 &&
             (strcmp(value, "7BIT") == 0 || strcmp(value, "8BITMIME") == 0))
        snprintf(c->body, sizeof c->body, "%s", value);
    else if (strcmp(text, "notify") == 0)
        c->notify = parse_notify(value);
    else if (strcmp(text, "extract") == 0)
        c->extract = strcmp(value, "yes") == 0;
}

/* ---- the content ---- */

/* Line ends become CRLF whatever they were (LF, CRLF, or a lone CR). */
struct crlf {
    bool cr;    /* the previous byte was a CR */
};

static int crlf_feed(struct crlf *n, const char *p, size_t len, struct buf *out)
{
    for (size_t i = 0; i < len; i++) {
        char ch = p[i];
        if (n->cr) {
            n->cr = false;
            if (ch == '\n')
                continue;   /* CRLF already written */
        }
        if (ch == '\r') {
            n->cr = true;
            if (buf_append(out, "\r\n", 2) < 0)
                return -1;
        } else if (ch == '\n') {
            if (buf_append(out, "\r\n", 2) < 0)
                return -1;
        } else if (buf_putc(out, ch) < 0) {
            return -1;
        }
    }
    return 0;
}

static void rfc5322_date(char *out, size_t size, time_t t)
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, size, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

/* A display name goes into From: as a quoted string unless it is plain words. */
static void put_from(struct buf *h, const struct conversion *c)
{
    const char *addr = c->sender[0] ? c->sender : "MAILER-DAEMON";
    if (c->fullname[0] == '\0') {
        buf_printf(h, "From: %s\r\n", addr);
        return;
    }
    bool plain = strspn(c->fullname, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789 !#$%&'*+-/=?^_`{|}~") == strlen(c->fullname);
    if (plain) {
        buf_printf(h, "From: %s <%s>\r\n", c->fullname, addr);
        return;
    }
    buf_puts(h, "From: \"");
    for (const char *p = c->fullname; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_putc(h, '\\');
        buf_putc(h, *p);
    }
    buf_printf(h, "\" <%s>\r\n", addr);
}

/* ---- one maildrop file ---- */

enum outcome { DONE, RETRY, CORRUPT };

struct job {
    struct conversion c;
    struct maildrop_reader r;
    struct maildrop_check chk;
    struct qfile *q;
    struct dkim_signer *signer;   /* NULL when no domain has a key */
    struct buf signed_out;        /* what the signer gives back, on its way to the file */
    uid_t uid;
    bool read_error;          /* the file could not be read (not: it is malformed) */
};

static int next_record(struct job *j, int *type, const char **data, size_t *len,
                       char *err, size_t errlen)
{
    int rc = maildrop_read(&j->r, type, data, len);
    if (rc <= 0) {
        int e = errno;
        snprintf(err, errlen, "%s", rc == 0 ? "no end record" : strerror(e));
        /* a read error other than a malformed record may pass: try the file again later */
        j->read_error = rc < 0 && e != EPROTO;
        return -1;
    }
    return maildrop_check(&j->chk, *type, *data, *len, err, errlen);
}

/* An ORCPT record of a maildrop file: "type;xtext" with a type of xchars and an xtext that
 * decodes to at most an SMTP ORCPT's length. */
static bool orcpt_ok(const char *orcpt)
{
    const char *semi = strchr(orcpt, ';');
    if (semi == NULL || semi == orcpt)
        return false;
    for (const char *p = orcpt; p < semi; p++)
        if (*p <= ' ' || *p > '~' || *p == '+' || *p == '=')
            return false;
    char decoded[SMTP_ORCPT_MAX + 1];
    return xtext_decode(semi + 1, strlen(semi + 1), decoded, sizeof decoded) >= 0;
}

/* Reads the envelope records; leaves the first CONTENT or the END record in type/data/len. */
static int read_envelope(struct job *j, int *type, const char **data, size_t *len,
                         char *err, size_t errlen)
{
    struct conversion *c = &j->c;
    bool have_sender = false;
    struct rcpt_param { char orcpt[MAILDROP_FIELD_MAX + 1]; unsigned notify; };
    char pending[MAILDROP_FIELD_MAX + 1] = "";
    bool have_pending = false;
    struct rcpt_param param = { "", 0 };
    for (;;) {
        if (next_record(j, type, data, len, err, errlen) < 0)
            return -1;
        if (*type != QREC_RCPT_NOTIFY && *type != QREC_RCPT_ORCPT && have_pending) {
            struct list_arg a = { c, param.notify, param.orcpt[0] ? param.orcpt : NULL };
            addrlist_parse(pending, strlen(pending), on_list_address, &a);
            have_pending = false;
            memset(&param, 0, sizeof param);
        }
        switch (*type) {
        case QREC_MAGIC:
            break;
        case QREC_SENDER: {
            char s[MAILDROP_FIELD_MAX + 1];
            snprintf(s, sizeof s, "%.*s", (int)*len, *data);
            bool utf8 = false;
            if (s[0] && qualify(s, c->sender, &utf8) < 0) {
                snprintf(err, errlen, "bad sender address");
                return -1;
            }
            c->smtputf8 |= utf8;
            have_sender = true;
            break;
        }
        case QREC_ATTR:
            take_attr(c, *data, *len);
            break;
        case QREC_RECIPIENT:
            snprintf(pending, sizeof pending, "%.*s", (int)*len, *data);
            have_pending = true;
            break;
        case QREC_RCPT_NOTIFY: {
            char s[32];
            snprintf(s, sizeof s, "%.*s", (int)(*len < 31 ? *len : 31), *data);
            param.notify = parse_notify(s);
            break;
        }
        case QREC_RCPT_ORCPT:
            /* "type;xtext", as smtpd stores it (a type, then valid xtext of an address no longer
             * than SMTP allows); anything else is dropped */
            snprintf(param.orcpt, sizeof param.orcpt, "%.*s", (int)*len, *data);
            if (!orcpt_ok(param.orcpt))
                param.orcpt[0] = '\0';
            break;
        default:   /* CONTENT or END */
            if (!have_sender) {
                snprintf(err, errlen, "no sender record");
                return -1;
            }
            return 0;
        }
    }
}

/* Collects content until the header is complete (or passes header_size_limit): the header in
 * hdr with CRLF line ends. type/data/len hold the record after what was used. */
static int read_header(struct job *j, struct crlf *norm, struct buf *hdr, struct header_info *hi,
                       int *type, const char **data, size_t *len, char *err, size_t errlen)
{
    memset(hi, 0, sizeof *hi);
    while (*type == QREC_CONTENT) {
        if (crlf_feed(norm, *data, *len, hdr) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        header_scan_more(hdr->data, hdr->len, hi);
        if (next_record(j, type, data, len, err, errlen) < 0)
            return -1;
        if (hi->complete || hdr->len > conf.header_limit)
            return 0;   /* a header past the limit: what follows is body */
    }
    /* END: the last line ends here even without a line end, and is a header field or not */
    if (hdr->len && hdr->data[hdr->len - 1] != '\n' && buf_append(hdr, "\r\n", 2) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    header_scan_more(hdr->data, hdr->len, hi);
    if (!hi->complete)
        hi->header_len = hdr->len;   /* header lines only, or nothing */
    return 0;
}

/* Content on its way to the queue file: through the signer when there is one (which gives back
 * what is stored: converted for signing, or as it came). */
static int put_content(struct job *j, const char *p, size_t n)
{
    if (j->signer == NULL)
        return qfile_put_content(j->q, p, n);
    buf_reset(&j->signed_out);
    if (dkim_signer_feed(j->signer, p, n, &j->signed_out) < 0) {
        errno = ENOMEM;
        return -1;
    }
    return qfile_put_content(j->q, j->signed_out.data, j->signed_out.len);
}

/* The content ended: the rest of the signer's bytes, then its DKIM-Signature: fields as
 * trailer header fields (delivered in front of the content). Logs what was signed. */
static int finish_signing(struct job *j)
{
    return j->signer ? dkim_signer_finish_file(j->signer, j->q, &j->signed_out) : 0;
}

/* The envelope of the queue file; a message that looped gets no recipients (each gets a failure
 * record instead). */
static int write_envelope(struct job *j, bool looped)
{
    struct conversion *c = &j->c;
    size_t n = looped ? 0 : c->nrcpt;
    struct qenvelope_rcpt *rcpt = xcalloc(n ? n : 1, sizeof *rcpt);
    for (size_t i = 0; i < n; i++) {
        rcpt[i].address = c->rcpt[i].address;
        rcpt[i].notify = c->rcpt[i].notify;
        /* the ORCPT as the maildrop file gave it ("type;xtext") */
        rcpt[i].orcpt_record = c->rcpt[i].orcpt[0] ? c->rcpt[i].orcpt : NULL;
    }
    struct qenvelope e = {
        .sender = c->sender,
        .protocol = "local",
        .has_uid = true,
        .uid = j->uid,
        .envid = c->envid[0] ? c->envid : NULL,
        .ret = c->ret[0] ? c->ret : NULL,
        .body = c->body[0] ? c->body : NULL,
        .smtputf8 = c->smtputf8,
        .rcpt = rcpt,
        .nrcpt = n,
    };
    int r = qfile_put_envelope(j->q, &e);
    free(rcpt);
    return r;
}

/* The header as it goes into the queue file: Received:, the user's fields without Bcc:, then
 * what is missing. What follows Received: is what gets signed. */
static int write_header(struct job *j, const char *hdr, const struct header_info *hi,
                        bool body_follows)
{
    struct conversion *c = &j->c;
    char date[64];
    rfc5322_date(date, sizeof date, time(NULL));
    struct buf h;
    buf_init(&h, BUF_UNBOUNDED);
    buf_printf(&h, "Received: by %s (tern, from userid %lu)\r\n\tid %s; %s\r\n",
               conf.myhostname, (unsigned long)j->uid, qfile_id(j->q), date);
    if (qfile_put_content(j->q, h.data, h.len) < 0) {
        buf_free(&h);
        return -1;
    }
    buf_reset(&h);
    header_rewrite(hdr, hi, false, &h, NULL, NULL);
    /* a last header line without a line end gets one */
    if (h.len >= 2 && h.data[h.len - 1] != '\n')
        buf_puts(&h, "\r\n");
    if (!hi->has_from)
        put_from(&h, c);
    if (!hi->has_date)
        buf_printf(&h, "Date: %s\r\n", date);
    if (!hi->has_msgid)
        buf_printf(&h, "Message-ID: <%s@%s>\r\n", qfile_id(j->q), conf.myhostname);
    if (hi->blank_line || body_follows)
        buf_puts(&h, "\r\n");
    int r = put_content(j, h.data, h.len);
    buf_free(&h);
    return r;
}

/* Failure records in bounce/ID, which qmgr finds when it loads the queue file and turns into a
 * notice to the sender: for each address that could not be used, for every recipient when the
 * message has looped, or for the message when no recipient is left. */
static int record_failure(struct job *j, const char *rcpt, const char *dsn, const char *reason)
{
    struct status_record rec;
    memset(&rec, 0, sizeof rec);
    snprintf(rec.recipient, sizeof rec.recipient, "%s", rcpt);
    snprintf(rec.status, sizeof rec.status, "%s", dsn);
    snprintf(rec.action, sizeof rec.action, "failed");
    snprintf(rec.reason, sizeof rec.reason, "%s", reason);
    rec.when = time(NULL);
    char path[QFILE_ID_MAX + 16];
    snprintf(path, sizeof path, "bounce/%s", qfile_id(j->q));
    return statuslog_append(path, &rec);
}

static int record_failures(struct job *j, bool looped)
{
    struct conversion *c = &j->c;
    for (size_t i = 0; i < c->nbad; i++)
        if (record_failure(j, c->bad[i], "5.1.3", "Bad recipient address syntax") < 0)
            return -1;
    if (c->skipped > c->nbad) {
        char text[128];
        snprintf(text, sizeof text, "%zu more bad recipient addresses", c->skipped - c->nbad);
        if (record_failure(j, "(more)", "5.1.3", text) < 0)
            return -1;
    }
    if (looped) {
        for (size_t i = 0; i < c->nrcpt; i++)
            if (record_failure(j, c->rcpt[i].address, "5.4.6",
                               "Too many hops: mail forwarding loop") < 0)
                return -1;
    }
    if (c->nrcpt == 0 && c->skipped == 0 &&
        record_failure(j, "undisclosed-recipients", "5.1.3",
                       "No recipient addresses found in message header") < 0)
        return -1;
    return 0;
}

static void drop_failures(struct job *j)
{
    char path[QFILE_ID_MAX + 16];
    snprintf(path, sizeof path, "bounce/%s", qfile_id(j->q));
    unlink(path);
}

static enum outcome convert(struct job *j, char *err, size_t errlen)
{
    struct conversion *c = &j->c;
    int type;
    const char *data;
    size_t len;
    if (read_envelope(j, &type, &data, &len, err, errlen) < 0)
        return j->read_error ? RETRY : CORRUPT;
    struct buf hdr;
    buf_init(&hdr, conf.header_limit + 2 * QFILE_CONTENT_CHUNK + 2 * QREC_DATA_MAX);
    struct crlf norm = { false };
    struct header_info hi;
    enum outcome out = CORRUPT;
    struct buf chunk;
    buf_init(&chunk, BUF_UNBOUNDED);
    bool failures = false;
    if (read_header(j, &norm, &hdr, &hi, &type, &data, &len, err, errlen) < 0)
        goto done;
    if (c->extract)
        header_rewrite(hdr.data, &hi, true, NULL, on_header_recipients, c);
    /* a message that went round too often is returned, not delivered (as smtpd refuses it) */
    bool looped = header_too_many_hops(hi.received, conf.hopcount_limit);
    out = RETRY;
    if ((j->q = qfile_create()) == NULL) {
        snprintf(err, errlen, "%s", strerror(errno));
        goto done;
    }
    const char *body = hdr.data + hi.header_len;
    size_t body_len = hdr.len - hi.header_len;
    if (dkim_signing_domains(signing) > 0)
        j->signer = dkim_signer_new(signing, conf.header_limit, (long long)time(NULL));
    if (write_envelope(j, looped) < 0 ||
        write_header(j, hdr.data, &hi, body_len > 0 || type == QREC_CONTENT) < 0 ||
        put_content(j, body, body_len) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        goto done;
    }
    /* the content ends with a line end, as SMTP will send it */
    bool line_end = body_len ? body[body_len - 1] == '\n' : true;
    while (type == QREC_CONTENT) {
        buf_reset(&chunk);
        if (crlf_feed(&norm, data, len, &chunk) < 0 ||
            put_content(j, chunk.data, chunk.len) < 0) {
            snprintf(err, errlen, "%s", strerror(errno));
            goto done;
        }
        if (chunk.len)
            line_end = chunk.data[chunk.len - 1] == '\n';
        if (next_record(j, &type, &data, &len, err, errlen) < 0) {
            out = j->read_error ? RETRY : CORRUPT;
            goto done;
        }
    }
    if ((!line_end && put_content(j, "\r\n", 2) < 0) || finish_signing(j) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        goto done;
    }
    failures = true;
    if (record_failures(j, looped) < 0 || qfile_finish(j->q) < 0 ||
        qfile_commit_sync(j->q) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        goto done;
    }
    if (looped)
        log_warn("%s: %d Received: lines, more than hopcount_limit: returned to the sender",
                 qfile_id(j->q), hi.received);
    out = DONE;
done:
    if (out != DONE && failures)
        drop_failures(j);
    buf_free(&chunk);
    buf_free(&hdr);
    return out;
}

static void move_to_corrupt(const char *name, const char *why)
{
    if (qdir_move("maildrop", "corrupt", name) == 0)
        log_warn("maildrop/%s: malformed file moved to corrupt/: %s", name, why);
    else
        log_error("maildrop/%s: malformed file (%s) cannot be moved to corrupt/: %s", name, why,
                  strerror(errno));
}

/* Converts maildrop/<name>. The file is removed only after its queue file is on disk; a crash
 * in between makes a duplicate, never a loss. */
static void pickup_file(const char *name)
{
    char path[300];
    snprintf(path, sizeof path, "maildrop/%s", name);
    struct stat st;
    int fd = safe_open_stat(path, O_RDONLY | O_NOFOLLOW, 0, &st);
    if (fd < 0) {
        if (errno != ENOENT)
            log_warn("%s: cannot open: %s", path, strerror(errno));
        return;
    }
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
        close(fd);
        move_to_corrupt(name, "not a regular file with one link");
        return;
    }
    struct job j;
    memset(&j, 0, sizeof j);
    j.uid = st.st_uid;
    j.c.file = name;
    buf_init(&j.signed_out, BUF_UNBOUNDED);
    maildrop_reader_init(&j.r, fd, -1);
    maildrop_check_init(&j.chk, qfile_read_limit());
    char why[ERR_TEXT_MAX] = "unknown error";
    enum outcome out = convert(&j, why, sizeof why);
    maildrop_reader_free(&j.r);
    close(fd);
    switch (out) {
    case DONE:
        log_info("%s: uid=%lu from=<%s>", qfile_id(j.q), (unsigned long)j.uid, j.c.sender);
        if (j.c.nrcpt == 0 && j.c.skipped == 0)
            log_warn("%s: no recipient addresses found; returned to the sender", qfile_id(j.q));
        qfile_free(j.q);
        if (unlink(path) < 0)
            log_error("%s: cannot remove it after queueing: %s", path, strerror(errno));
        ipc_wakeup(IPC_QMGR_SOCKET);
        break;
    case RETRY:
        log_warn("%s: cannot queue it now (%s); it stays in maildrop/", path, why);
        if (j.q)
            qfile_abort(j.q);
        break;
    case CORRUPT:
        if (j.q)
            qfile_abort(j.q);
        move_to_corrupt(name, why);
        break;
    }
    dkim_signer_free(j.signer);
    buf_free(&j.signed_out);
    free(j.c.rcpt);
    free(j.c.seen);
    for (size_t i = 0; i < j.c.nbad; i++)
        free(j.c.bad[i]);
    free(j.c.bad);
}

static void remove_stale_temp(const char *name)
{
    char path[300];
    snprintf(path, sizeof path, "maildrop/%s", name);
    struct stat st;
    if (lstat(path, &st) == 0 && time(NULL) - st.st_mtime > STALE_TEMP_SECONDS) {
        if (unlink(path) == 0)
            log_warn("%s: removed a file a submission left unfinished", path);
    }
}

static void scan(void)
{
    DIR *d = opendir("maildrop");
    if (d == NULL) {
        log_error("cannot open maildrop/: %s", strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (qfile_valid_id(e->d_name))
            pickup_file(e->d_name);
        else if (e->d_name[0] == 't')
            remove_stale_temp(e->d_name);
    }
    closedir(d);
}

/* Every connection (a wakeup from terndrop or the master) means: look at maildrop/ now. */
static void on_accept(int fd, const struct sockaddr *peer, socklen_t len)
{
    (void)peer;
    (void)len;
    close(fd);
    scan();
    server_client_done();
}

/* As root: the signing keys, which only root and mail_owner's group may read. A key that
 * cannot be used stops pickup here, never leaves a message unsigned. */
static void pre_jail(void)
{
    char err[ERR_TEXT_MAX];
    signing = dkim_signing_open_config(err, sizeof err);
    if (signing == NULL)
        log_fatal_code(EX_CONFIG, "%s", err);
}

static void post_jail(void)
{
    snprintf(conf.myhostname, sizeof conf.myhostname, "%s", config_str("myhostname"));
    snprintf(conf.myorigin, sizeof conf.myorigin, "%s", config_str("myorigin"));
    if (conf.myorigin[0] == '\0')
        snprintf(conf.myorigin, sizeof conf.myorigin, "%s", conf.myhostname);
    long long h = config_size("header_size_limit");
    conf.header_limit = h > 0 ? (size_t)h : 102400;
    conf.hopcount_limit = config_int("hopcount_limit");
    scan();
}

int main(int argc, char **argv)
{
    static const struct server_ops ops = {
        .name = "pickup",
        .max_clients = 1,
        .pre_jail = pre_jail,
        .post_jail = post_jail,
        .accept = on_accept,
    };
    server_main(argc, argv, &ops);
}

/* msgauth.c: the sender authentication of one message (msgauth.h). SPF runs from MAIL FROM;
 * the header is read as it streams (the mail layer's header scanner), and when it ends each
 * DKIM-Signature is parsed, its key looked up, and the DMARC policy of each From: domain asked
 * for, while the body goes through one hasher per kind of body hash. At the end, once every
 * look-up has answered (each bounded by the message's deadline), the signatures are checked
 * and DMARC evaluated, in a turn of the loop of its own. Only the caller's loop thread runs
 * here: a signature check (about 20 us for RSA 2048, 60 for 4096) costs less than handing it
 * to a worker thread and back did, and under load the other cores are busy with the rest of
 * the mail system. */
#include <event2/event.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "addrlist.h"
#include "auth_results.h"
#include "clock.h"
#include "dkim_canon.h"
#include "dkim_key.h"
#include "dkim_sig.h"
#include "dkim_verify.h"
#include "dmarc.h"
#include "dns.h"
#include "errtext.h"
#include "header_scanner.h"
#include "log.h"
#include "mem.h"
#include "msgauth.h"
#include "spf_check.h"

#define MSGAUTH_HEADER_MAX (4u << 20)   /* header kept for DKIM and From:; beyond: not checked */
#define MSGAUTH_SIGS_MAX 32             /* smtpd_dkim_signature_limit is cut to this */
#define MSGAUTH_FROMS_MAX 8             /* From: domains DMARC checks; more: refused (enforce) */
#define DMARC_NAME_MAX 253              /* a domain name DNS can ask for, in text */
#define KEY_NAME_MAX (DKIM_SELECTOR_MAX + DKIM_DOMAIN_MAX + 16)
#define REASON_MAX 160

#define DNS_A 1
#define DNS_TXT 16

struct msgauth;

/* One DKIM-Signature field. */
struct sig {
    size_t field, field_len;           /* in the kept header */
    bool usable;                       /* parsed: it is checked once its key is known */
    int key;                           /* index in keys[], or -1 */
    size_t kind;                       /* index in the body hashers, or DKIM_BODY_NONE */
    enum dkim_result result;
    char reason[REASON_MAX];
};

/* One key record look-up, shared by the signatures that name the same selector and domain. */
struct key {
    struct msgauth *m;
    char name[KEY_NAME_MAX];
    struct dns_req *req;
    bool done, have;
    struct dkim_key key;
    enum dkim_result result;           /* when not have: why */
    char reason[REASON_MAX];
};

/* One From: domain and its DMARC policy. */
struct from {
    struct msgauth *m;
    char domain[DMARC_DOMAIN_MAX];
    char names[2][DMARC_QNAME_MAX];
    int nnames, step;                  /* the name being asked */
    struct dns_req *req;
    bool done;
    enum dmarc_lookup lookup;
    struct dmarc_record record;
    char record_domain[DMARC_DOMAIN_MAX];
    bool exists;                       /* the domain exists (np=) */
    struct dmarc_outcome outcome;
};

struct msgauth {
    const struct msgauth_settings *set;
    struct dns *dns;
    const struct dmarc_psl *psl;
    long long deadline;                /* clock_ms */
    char ip[64], helo[256], sender[512];

    /* SPF */
    struct dns_req *spf_req;
    bool spf_done;
    struct spf_outcome spf;

    /* the header as it streams */
    struct header_scanner scan;
    struct buf header;
    bool header_ended, header_overflow;
    size_t header_len;                 /* the header block: fields, without the empty line */

    /* DKIM */
    struct dkim_signature *sigs;       /* parsed, nsigs of them (usable or not) */
    struct sig *sig;
    size_t nsigs, over_limit;          /* signatures not checked (smtpd_dkim_signature_limit) */
    struct dkim_body_hash *hash;
    size_t nhash;
    struct key *keys;
    size_t nkeys;

    /* DMARC */
    struct from *froms[MSGAUTH_FROMS_MAX];   /* each made when its domain is found */
    size_t nfroms;
    bool from_unusable;                /* a From: address DMARC cannot read: permerror (the
                                        * readable ones are checked all the same) */
    bool from_too_many;                /* more domains than MSGAUTH_FROMS_MAX */

    /* the end */
    struct event *ready;               /* all is in: the checks run in a turn of their own */
    bool finished, reported;
    void (*done)(void *arg);
    void *done_arg;
};

static int remaining_ms(const struct msgauth *m)
{
    long long left = m->deadline - clock_ms();
    return left < 1 ? 1 : left > 3600000 ? 3600000 : (int)left;
}

static bool all_done(const struct msgauth *m)
{
    if (!m->finished || (m->spf_req && !m->spf_done))
        return false;
    for (size_t i = 0; i < m->nkeys; i++)
        if (!m->keys[i].done)
            return false;
    for (size_t i = 0; i < m->nfroms; i++)
        if (!m->froms[i]->done)
            return false;
    return true;
}

/* Once everything is in: the checks run in the loop's next turn (never inside the caller's
 * msgauth_finish or a look-up's callback), then the caller's callback. */
static void maybe_ready(struct msgauth *m)
{
    if (m->reported || !all_done(m))
        return;
    m->reported = true;
    event_active(m->ready, EV_TIMEOUT, 0);
}

/* ---- SPF ---- */

static void on_spf(void *arg, const struct spf_outcome *o)
{
    struct msgauth *m = arg;
    m->spf = *o;
    m->spf_done = true;
    m->spf_req = NULL;
    maybe_ready(m);
}

static void on_ready(evutil_socket_t fd, short what, void *arg);

struct msgauth *msgauth_new(const struct msgauth_settings *set, struct dns *dns,
                            const struct dmarc_psl *psl, struct event_base *base,
                            const struct msgauth_client *client)
{
    struct msgauth *m = xcalloc(1, sizeof *m);
    m->set = set;
    m->dns = dns;
    m->psl = psl;
    if ((m->ready = event_new(base, -1, 0, on_ready, m)) == NULL)
        log_fatal("cannot make an event: out of memory");
    m->deadline = clock_ms() + set->timeout_ms;
    snprintf(m->ip, sizeof m->ip, "%s", client->ip);
    snprintf(m->helo, sizeof m->helo, "%s", client->helo);
    snprintf(m->sender, sizeof m->sender, "%s", client->sender);
    header_scanner_init(&m->scan);
    buf_init(&m->header, MSGAUTH_HEADER_MAX);
    if (set->spf || set->dmarc != MSGAUTH_DMARC_OFF) {   /* DMARC needs SPF's result too */
        struct spf_request req = { m->ip, m->sender, m->helo, set->myhostname,
                                   (long long)time(NULL) };
        m->spf_req = spf_check(dns, &req, (int)set->timeout_ms, on_spf, m);
    }
    return m;
}

/* ---- DKIM ---- */

/* Key records read before, by their text: OpenSSL 3 takes much longer to decode a public key
 * than to check a signature with it, and a busy sender's key is the same for every message.
 * Each slot holds a reference of its own to the key. */
#define KEY_CACHE 64
static struct kept_key {
    char *text;
    size_t len;
    struct dkim_key key;
} kept_keys[KEY_CACHE];

static unsigned key_hash(const char *t, size_t n)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)t[i]) * 16777619u;
    return h % KEY_CACHE;
}

/* dkim_key_parse, remembering what parsed: 0 with *key (its own reference), or -1. */
static int key_parse(const char *txt, size_t len, struct dkim_key *key, enum dkim_result *res,
                     char *why, size_t whylen)
{
    struct kept_key *k = &kept_keys[key_hash(txt, len)];
    if (k->text && k->len == len && memcmp(k->text, txt, len) == 0 &&
        EVP_PKEY_up_ref(k->key.pkey) == 1) {
        *key = k->key;
        return 0;
    }
    if (dkim_key_parse(txt, len, key, res, why, whylen) < 0)
        return -1;
    if (EVP_PKEY_up_ref(key->pkey) == 1) {
        if (k->text) {
            free(k->text);
            dkim_key_free(&k->key);
        }
        k->text = xmalloc(len + 1);
        memcpy(k->text, txt, len);
        k->len = len;
        k->key = *key;
    }
    return 0;
}

static void on_key(void *arg, const struct dns_records *r)
{
    struct key *k = arg;
    k->req = NULL;
    k->done = true;
    if (r->rc == DNS_RC_TEMP) {
        k->result = DKIM_TEMPERROR;
        snprintf(k->reason, sizeof k->reason, "key look-up failed");
    } else if (r->rc != DNS_RC_OK || r->nrecords == 0) {
        k->result = DKIM_PERMERROR;
        snprintf(k->reason, sizeof k->reason, "no key for signature");
    } else {
        /* several records: the first that is a key (RFC 6376 3.6.2.2 leaves it open) */
        for (size_t i = 0; i < r->nrecords && !k->have; i++) {
            enum dkim_result res;
            char why[REASON_MAX];
            if (key_parse(r->records[i].text, r->records[i].textlen, &k->key, &res, why,
                          sizeof why) == 0)
                k->have = true;
            else if (i == 0) {
                k->result = res;
                snprintf(k->reason, sizeof k->reason, "%s", why);
            }
        }
    }
    maybe_ready(k->m);
}

/* The key look-up a usable signature needs: one per selector and domain. */
static int key_for(struct msgauth *m, const struct dkim_signature *s)
{
    char name[KEY_NAME_MAX];
    snprintf(name, sizeof name, "%s._domainkey.%s", s->selector, s->domain);
    for (size_t i = 0; i < m->nkeys; i++)
        if (strcasecmp(m->keys[i].name, name) == 0)
            return (int)i;
    struct key *k = &m->keys[m->nkeys];
    memset(k, 0, sizeof *k);
    k->m = m;
    snprintf(k->name, sizeof k->name, "%s", name);
    m->nkeys++;
    k->req = dns_lookup(m->dns, name, DNS_TXT, remaining_ms(m), on_key, k);
    return (int)(m->nkeys - 1);
}

static bool is_dkim_signature(const char *p, size_t n)
{
    static const char name[] = "DKIM-Signature";
    return n == sizeof name - 1 && strncasecmp(p, name, n) == 0;
}

/* The DKIM-Signature fields found in the header, up to the limit (found[0..n), as header
 * fields): parsed, keys asked for. */
static void read_signatures(struct msgauth *m, const struct header_field *found, size_t n)
{
    const char *h = m->header.data;
    m->sigs = xmalloc(n * sizeof *m->sigs);   /* large: room for these only (each one is
                                               * cleared by dkim_sig_parse) */
    m->sig = xcalloc(n, sizeof *m->sig);
    m->keys = xcalloc(n, sizeof *m->keys);
    long long now = (long long)time(NULL);
    for (size_t i = 0; i < n; i++) {
        const struct header_field *f = &found[i];
        struct sig *s = &m->sig[m->nsigs];
        struct dkim_signature *ds = &m->sigs[m->nsigs];
        m->nsigs++;
        s->field = f->start;
        s->field_len = f->end - f->start;
        s->key = -1;
        s->kind = DKIM_BODY_NONE;
        if (dkim_sig_parse(h + f->value, f->end - f->value, now, ds, &s->result, s->reason,
                           sizeof s->reason) < 0)
            continue;
        s->usable = true;
        if (ds->alg != DKIM_ALG_RSA_SHA1)   /* fails without a key: no look-up */
            s->key = key_for(m, ds);
    }
    struct dkim_body_kind kinds[MSGAUTH_SIGS_MAX];
    size_t which[MSGAUTH_SIGS_MAX];
    m->nhash = dkim_body_kinds(m->sigs, m->nsigs, kinds, which);
    m->hash = xcalloc(m->nhash ? m->nhash : 1, sizeof *m->hash);
    for (size_t i = 0; i < m->nhash; i++)
        dkim_body_hash_init(&m->hash[i], kinds[i].canon, kinds[i].hash, kinds[i].has_limit,
                            kinds[i].limit);
    for (size_t i = 0; i < m->nsigs; i++)
        m->sig[i].kind = m->sig[i].usable ? which[i] : DKIM_BODY_NONE;
}

/* ---- DMARC ---- */

static void from_done(struct from *fr)
{
    fr->req = NULL;
    fr->done = true;
    maybe_ready(fr->m);
}

static void on_exists(void *arg, const struct dns_records *r)
{
    struct from *fr = arg;
    fr->exists = r->rc != DNS_RC_NXDOMAIN;
    from_done(fr);
}

static void ask_policy(struct from *fr);

static void on_policy(void *arg, const struct dns_records *r)
{
    struct from *fr = arg;
    struct msgauth *m = fr->m;
    if (r->rc == DNS_RC_TEMP) {
        fr->lookup = DMARC_LOOKUP_TEMPERROR;
        from_done(fr);
        return;
    }
    const char *texts[DNS_LOOKUP_RECORDS_MAX];
    size_t lens[DNS_LOOKUP_RECORDS_MAX], index;
    size_t n = r->rc == DNS_RC_OK ? r->nrecords : 0;
    for (size_t i = 0; i < n; i++) {
        texts[i] = r->records[i].text;
        lens[i] = r->records[i].textlen;
    }
    if (n > 0 && dmarc_record_pick(texts, lens, n, &index) == 1) {
        char why[REASON_MAX];
        int rc = dmarc_record_parse(texts[index], lens[index], &fr->record, why, sizeof why);
        fr->lookup = rc == 1 ? DMARC_LOOKUP_FOUND : rc < 0 ? DMARC_LOOKUP_PERMERROR
                                                           : DMARC_LOOKUP_NONE;
        snprintf(fr->record_domain, sizeof fr->record_domain, "%s",
                 fr->names[fr->step] + strlen("_dmarc."));
        /* np= is for a From: domain that does not exist, under a policy of its parent */
        if (rc == 1 && fr->record.np != DMARC_POLICY_UNSET &&
            strcmp(fr->record_domain, fr->domain) != 0) {
            fr->req = dns_lookup(m->dns, fr->domain, DNS_A, remaining_ms(m), on_exists, fr);
            return;
        }
        from_done(fr);
        return;
    }
    if (fr->step + 1 < fr->nnames) {   /* none at the From: domain: the organizational one */
        fr->step++;
        ask_policy(fr);
        return;
    }
    fr->lookup = DMARC_LOOKUP_NONE;
    from_done(fr);
}

static void ask_policy(struct from *fr)
{
    /* "_dmarc." and a long domain may be longer than a name DNS can ask for: no record can
     * be there, and the organizational domain is asked next */
    if (strlen(fr->names[fr->step]) > DMARC_NAME_MAX) {
        static const struct dns_records none = { .rc = DNS_RC_NXDOMAIN };
        on_policy(fr, &none);
        return;
    }
    fr->req = dns_lookup(fr->m->dns, fr->names[fr->step], DNS_TXT, remaining_ms(fr->m),
                         on_policy, fr);
}

struct from_walk {
    struct msgauth *m;
};

/* Each address of a From: field: its domain, once, for DMARC (RFC 7489 6.6.1: several
 * domains are each checked and the strictest failing policy applies). */
static int from_address(const char *addr, int bad, void *arg)
{
    struct msgauth *m = ((struct from_walk *)arg)->m;
    const char *at = strrchr(addr, '@');
    if (bad || at == NULL || at[1] == '\0' || strlen(at + 1) > DMARC_NAME_MAX + 1) {
        m->from_unusable = true;   /* an address DMARC cannot read: permerror */
        return 0;
    }
    char domain[DMARC_DOMAIN_MAX], org[DMARC_DOMAIN_MAX];
    snprintf(domain, sizeof domain, "%s", at + 1);
    size_t n = strlen(domain);
    while (n > 0 && domain[n - 1] == '.')
        domain[--n] = '\0';
    for (char *c = domain; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    if (n == 0 || n > DMARC_NAME_MAX || dmarc_org_domain(m->psl, domain, org) < 0) {
        m->from_unusable = true;
        return 0;
    }
    for (size_t i = 0; i < m->nfroms; i++)
        if (strcmp(m->froms[i]->domain, domain) == 0)
            return 0;
    if (m->nfroms == MSGAUTH_FROMS_MAX) {
        m->from_too_many = true;
        return 0;
    }
    struct from *fr = xcalloc(1, sizeof *fr);
    m->froms[m->nfroms++] = fr;
    fr->m = m;
    fr->exists = true;
    snprintf(fr->domain, sizeof fr->domain, "%s", domain);
    return 0;
}

/* The policy look-ups of the From: domains found. */
static void ask_policies(struct msgauth *m)
{
    for (size_t i = 0; i < m->nfroms; i++) {
        struct from *fr = m->froms[i];
        fr->nnames = dmarc_lookup_names(m->psl, fr->domain, fr->names);
        if (fr->nnames < 1) {
            fr->lookup = DMARC_LOOKUP_PERMERROR;
            fr->done = true;
            continue;
        }
        ask_policy(fr);
    }
}

/* One walk over the header: the DKIM-Signature fields (up to smtpd_dkim_signature_limit,
 * the rest counted) and the domains of the From: fields; then their look-ups. */
static void read_header(struct msgauth *m)
{
    const char *h = m->header.data;
    size_t limit = m->set->dkim_limit < MSGAUTH_SIGS_MAX ? m->set->dkim_limit : MSGAUTH_SIGS_MAX;
    bool dkim = m->set->dkim, dmarc = m->set->dmarc != MSGAUTH_DMARC_OFF;
    struct header_field found[MSGAUTH_SIGS_MAX];
    size_t nfound = 0;
    struct header_fields it;
    struct header_field f;
    struct from_walk w = { m };
    header_fields_init(&it, h, m->header_len);
    while (header_fields_next(&it, &f)) {
        if (dkim && is_dkim_signature(h + f.start, f.name_len)) {
            if (nfound < limit)
                found[nfound++] = f;
            else
                m->over_limit++;
        } else if (dmarc && f.name == HEADER_FROM) {
            addrlist_parse(h + f.value, f.end - f.value, from_address, &w);
        }
    }
    if (nfound > 0)
        read_signatures(m, found, nfound);
    if (dmarc)
        ask_policies(m);
}

/* ---- the content ---- */

static void body(struct msgauth *m, const char *p, size_t n)
{
    for (size_t i = 0; i < m->nhash; i++)
        dkim_body_hash_feed(&m->hash[i], p, n);
}

/* The header has ended: what it names is looked up now; the body bytes the scanner took go on
 * to the hashers. */
static void header_ended(struct msgauth *m)
{
    m->header_ended = true;
    m->header_len = m->scan.end;
    if (m->header_overflow)
        return;
    read_header(m);
    if (m->scan.body < m->header.len)
        body(m, m->header.data + m->scan.body, m->header.len - m->scan.body);
}

void msgauth_feed(struct msgauth *m, const char *p, size_t n)
{
    while (!m->header_ended && n > 0) {
        size_t used;
        struct header_field f;
        enum header_event ev = header_scanner_feed(&m->scan, p, n, &used, &f);
        if (!m->header_overflow && buf_append(&m->header, p, used) < 0)
            m->header_overflow = true;
        p += used;
        n -= used;
        if (ev == HEADER_EV_END)
            header_ended(m);
    }
    if (n > 0 && !m->header_overflow)
        body(m, p, n);
}

void msgauth_finish(struct msgauth *m, void (*done)(void *arg), void *arg)
{
    if (!m->header_ended) {
        header_scanner_finish(&m->scan);
        header_ended(m);
    }
    for (size_t i = 0; i < m->nhash; i++)
        dkim_body_hash_final(&m->hash[i]);
    m->finished = true;
    m->done = done;
    m->done_arg = arg;
    maybe_ready(m);
}

/* ---- the verdicts ---- */

static void check_signatures(struct msgauth *m)
{
    for (size_t i = 0; i < m->nsigs; i++) {
        struct sig *s = &m->sig[i];
        if (!s->usable)
            continue;
        const struct dkim_body_hash *h = s->kind == DKIM_BODY_NONE ? NULL : &m->hash[s->kind];
        if (s->key < 0) {   /* rsa-sha1 */
            s->result = dkim_verify(&m->sigs[i], m->header.data, m->header_len,
                                    m->header.data + s->field, s->field_len, h, NULL,
                                    s->reason, sizeof s->reason);
            continue;
        }
        const struct key *k = &m->keys[s->key];
        if (!k->have) {
            s->result = k->result;
            snprintf(s->reason, sizeof s->reason, "%s", k->reason);
            continue;
        }
        s->result = dkim_verify(&m->sigs[i], m->header.data, m->header_len,
                                m->header.data + s->field, s->field_len, h, &k->key, s->reason,
                                sizeof s->reason);
    }
}

static void check_dmarc(struct msgauth *m)
{
    struct dmarc_dkim dk[MSGAUTH_SIGS_MAX];
    size_t ndk = 0;
    for (size_t i = 0; i < m->nsigs; i++)
        if (m->sig[i].usable) {
            dk[ndk].domain = m->sigs[i].domain;
            dk[ndk].pass = m->sig[i].result == DKIM_PASS;
            ndk++;
        }
    bool spf_pass = m->spf_done && m->spf.result == SPF_RESULT_PASS;
    for (size_t i = 0; i < m->nfroms; i++) {
        struct from *fr = m->froms[i];
        struct dmarc_input in = {
            .from_domain = fr->domain,
            .from_exists = fr->exists,
            .lookup = fr->lookup,
            .record = fr->lookup == DMARC_LOOKUP_FOUND ? &fr->record : NULL,
            .record_domain = fr->record_domain,
            .spf_domain = m->spf_done && m->spf.domain[0] ? m->spf.domain : NULL,
            .spf_pass = spf_pass,
            .dkim = dk,
            .ndkim = ndk,
            /* a sample only matters under pct= below 100 (and costs a system call) */
            .sample = fr->lookup == DMARC_LOOKUP_FOUND && fr->record.pct < 100
                          ? (int)randombytes_uniform(100) : 0,
        };
        dmarc_evaluate(m->psl, &in, &fr->outcome);
    }
}

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    struct msgauth *m = arg;
    (void)fd, (void)what;
    check_signatures(m);
    check_dmarc(m);
    m->done(m->done_arg);
}

/* The strictest disposition among the From: domains that failed, and the domain. */
static enum dmarc_policy worst(const struct msgauth *m, const char **domain)
{
    enum dmarc_policy p = DMARC_POLICY_NONE;
    *domain = "";
    for (size_t i = 0; i < m->nfroms; i++) {
        const struct dmarc_outcome *o = &m->froms[i]->outcome;
        if (o->result == DMARC_RESULT_FAIL && o->disposition > p) {
            p = o->disposition;
            *domain = m->froms[i]->domain;
        }
    }
    return p;
}

void msgauth_verdict(const struct msgauth *m, struct msgauth_verdict *v)
{
    memset(v, 0, sizeof *v);
    if (m->set->dmarc != MSGAUTH_DMARC_ENFORCE)
        return;
    const char *domain;
    enum dmarc_policy p = worst(m, &domain);
    /* a From: that cannot be read, or too many domains to check, could hide the domain a
     * reader sees (RFC 7489 6.6.1: such messages are typically rejected) */
    if (m->from_unusable || m->from_too_many) {
        v->reject = true;
        snprintf(v->reply, sizeof v->reply, "550 5.7.1 Message rejected: %s",
                 m->from_too_many ? "more From: domains than DMARC checks"
                                  : "a From: address DMARC cannot read");
    } else if (p == DMARC_POLICY_REJECT) {
        v->reject = true;
        snprintf(v->reply, sizeof v->reply, "550 5.7.1 Message rejected by DMARC policy for %s",
                 domain);
    } else if (p == DMARC_POLICY_QUARANTINE) {
        v->quarantine = true;
    }
}

/* ---- Authentication-Results and the log ---- */

static const char *alg_name(enum dkim_alg a)
{
    return a == DKIM_ALG_ED25519_SHA256 ? "ed25519-sha256"
         : a == DKIM_ALG_RSA_SHA1 ? "rsa-sha1" : "rsa-sha256";
}

/* The methods of the field: spf, each dkim, each dmarc. */
struct methods {
    struct auth_results_method m[3 + MSGAUTH_SIGS_MAX + MSGAUTH_FROMS_MAX];
    size_t n;
    char dmarc_reason[MSGAUTH_FROMS_MAX][96];
};

static void add_spf(const struct msgauth *m, struct methods *x)
{
    if (!m->set->spf || !m->spf_done)
        return;
    struct auth_results_method *a = &x->m[x->n++];
    memset(a, 0, sizeof *a);
    a->method = "spf";
    a->result = spf_result_name(m->spf.result);
    a->reason = m->spf.reason[0] ? m->spf.reason : NULL;
    if (m->sender[0]) {
        a->props[a->nprops++] = (struct auth_results_prop){ "smtp.mailfrom", m->sender };
    } else if (m->helo[0]) {
        a->props[a->nprops++] = (struct auth_results_prop){ "smtp.helo", m->helo };
    }
}

static void add_dkim(const struct msgauth *m, struct methods *x)
{
    if (!m->set->dkim)
        return;
    if (m->nsigs == 0) {
        struct auth_results_method *a = &x->m[x->n++];
        memset(a, 0, sizeof *a);
        a->method = "dkim";
        a->result = "none";
        a->reason = m->header_overflow ? "header too large to check" : NULL;
        return;
    }
    for (size_t i = 0; i < m->nsigs; i++) {
        const struct sig *s = &m->sig[i];
        struct auth_results_method *a = &x->m[x->n++];
        memset(a, 0, sizeof *a);
        a->method = "dkim";
        a->result = dkim_result_word(s->result);
        a->reason = s->reason[0] ? s->reason : NULL;
        if (!s->usable)
            continue;
        const struct dkim_signature *d = &m->sigs[i];
        a->props[a->nprops++] = (struct auth_results_prop){ "header.d", d->domain };
        a->props[a->nprops++] = (struct auth_results_prop){ "header.s", d->selector };
        a->props[a->nprops++] = (struct auth_results_prop){ "header.a", alg_name(d->alg) };
    }
}

static void add_dmarc(const struct msgauth *m, struct methods *x)
{
    if (m->set->dmarc == MSGAUTH_DMARC_OFF)
        return;
    if (m->nfroms == 0 || m->from_unusable || m->from_too_many) {
        struct auth_results_method *a = &x->m[x->n++];
        memset(a, 0, sizeof *a);
        a->method = "dmarc";
        a->result = m->from_unusable || m->from_too_many ? "permerror" : "none";
        a->reason = m->header_overflow ? "header too large to check"
                  : m->from_too_many ? "more From: domains than checked"
                  : m->from_unusable ? "a From: address DMARC cannot read"
                                     : "no From: address";
    }
    for (size_t i = 0; i < m->nfroms; i++) {
        const struct from *fr = m->froms[i];
        const struct dmarc_outcome *o = &fr->outcome;
        struct auth_results_method *a = &x->m[x->n++];
        memset(a, 0, sizeof *a);
        a->method = "dmarc";
        a->result = dmarc_result_name(o->result);
        if (fr->lookup == DMARC_LOOKUP_FOUND) {
            snprintf(x->dmarc_reason[i], sizeof x->dmarc_reason[i], "p=%s dis=%s%s",
                     dmarc_policy_name(o->policy), dmarc_policy_name(o->disposition),
                     o->sampled_out ? " pct" : "");
            a->reason = x->dmarc_reason[i];
        }
        a->props[a->nprops++] = (struct auth_results_prop){ "header.from", fr->domain };
    }
}

static void methods_of(const struct msgauth *m, struct methods *x)
{
    x->n = 0;
    add_spf(m, x);
    add_dkim(m, x);
    add_dmarc(m, x);
}

int msgauth_results_field(const struct msgauth *m, struct buf *out)
{
    struct methods x;   /* each method used is set whole: nothing to clear */
    methods_of(m, &x);
    char err[ERR_TEXT_MAX];
    int rc = auth_results_compose(m->set->authserv_id, x.m, x.n, "\r\n", out, err,
                                  sizeof err);
    if (rc < 0)
        log_warn("cannot compose the Authentication-Results field: %s", err);
    return rc;
}

void msgauth_log(const struct msgauth *m, const char *queue_id)
{
    if (m->set->spf && m->spf_done)
        log_info("%s: spf=%s smtp.%s=<%s> client=[%s] (%s)", queue_id,
                 spf_result_name(m->spf.result), m->sender[0] ? "mailfrom" : "helo",
                 m->sender[0] ? m->sender : m->helo, m->ip, m->spf.reason);
    for (size_t i = 0; i < m->nsigs; i++) {
        const struct sig *s = &m->sig[i];
        if (s->usable)
            log_info("%s: dkim=%s header.d=%s header.s=%s header.a=%s%s%s%s", queue_id,
                     dkim_result_word(s->result), m->sigs[i].domain, m->sigs[i].selector,
                     alg_name(m->sigs[i].alg), s->reason[0] ? " (" : "", s->reason,
                     s->reason[0] ? ")" : "");
        else
            log_info("%s: dkim=%s (%s)", queue_id, dkim_result_word(s->result), s->reason);
    }
    if (m->over_limit)
        log_info("%s: dkim: %zu more signature%s not checked (smtpd_dkim_signature_limit)",
                 queue_id, m->over_limit, m->over_limit == 1 ? "" : "s");
    for (size_t i = 0; i < m->nfroms; i++) {
        const struct dmarc_outcome *o = &m->froms[i]->outcome;
        log_info("%s: dmarc=%s header.from=%s policy=%s disposition=%s%s", queue_id,
                 dmarc_result_name(o->result), m->froms[i]->domain,
                 dmarc_policy_name(o->policy), dmarc_policy_name(o->disposition),
                 o->sampled_out ? " (sampled out by pct=)" : "");
    }
    if (m->set->dmarc != MSGAUTH_DMARC_OFF &&
        (m->nfroms == 0 || m->from_unusable || m->from_too_many))
        log_info("%s: dmarc=%s (%s)", queue_id,
                 m->from_unusable || m->from_too_many ? "permerror" : "none",
                 m->from_too_many ? "more From: domains than checked"
                 : m->from_unusable ? "a From: address DMARC cannot read" : "no From: address");
}

void msgauth_free(struct msgauth *m)
{
    if (m == NULL)
        return;
    if (m->spf_req)
        dns_cancel(m->spf_req);
    for (size_t i = 0; i < m->nkeys; i++) {
        if (m->keys[i].req)
            dns_cancel(m->keys[i].req);
        if (m->keys[i].have)
            dkim_key_free(&m->keys[i].key);
    }
    for (size_t i = 0; i < m->nfroms; i++) {
        if (m->froms[i]->req)
            dns_cancel(m->froms[i]->req);
        free(m->froms[i]);
    }
    for (size_t i = 0; i < m->nhash; i++)
        dkim_body_hash_free(&m->hash[i]);
    free(m->hash);
    free(m->keys);
    free(m->sig);
    free(m->sigs);
    buf_free(&m->header);
    event_free(m->ready);
    free(m);
}

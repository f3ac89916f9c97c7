/* tern_dkim.c: `tern dkim keygen [-a ed25519|rsa] [-b BITS] DOMAIN SELECTOR` makes a signing key
 * in $config_directory/dkim/, adds it to the dkim_signing_keys table and prints the DNS record
 * to publish; `tern dkim check DOMAIN` looks up the records published for the domain's keys and
 * says, per selector, whether each is the key's public half. The daemons read the keys when
 * they start: `tern reload` after a change. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "admin.h"
#include "buf.h"
#include "config.h"
#include "dict.h"
#include "dkim_key.h"
#include "dkim_signing.h"
#include "dns.h"
#include "log.h"
#include "mem.h"
#include "priv.h"
#include "safefile.h"

#define KEY_DIR "dkim"
#define LOOKUP_TIMEOUT_MS 10000
#define TXT_STRING_MAX 255      /* a character-string of a TXT record */
#define TABLE_SOURCE_MAX (16L * 1024 * 1024)

_Noreturn static void usage(void)
{
    fprintf(stderr, "usage: tern [-c config_dir] dkim keygen [-a ed25519|rsa] "
                    "[-b 2048|3072|4096] DOMAIN SELECTOR\n"
                    "       tern [-c config_dir] dkim check DOMAIN\n");
    exit(EX_USAGE);
}

/* DOMAIN as a table key: lower case, no final dot; a usage error when it is no domain name. */
static void domain_arg(const char *arg, char out[DKIM_DOMAIN_MAX])
{
    size_t n = strlen(arg);
    if (n && arg[n - 1] == '.')
        n--;
    if (n >= DKIM_DOMAIN_MAX)
        log_fatal_code(EX_USAGE, "\"%s\" is not a domain name", arg);
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(arg[i] >= 'A' && arg[i] <= 'Z' ? arg[i] + 32 : arg[i]);
    out[n] = '\0';
    if (!dkim_signing_domain_ok(out))
        log_fatal_code(EX_USAGE, "\"%s\" is not a domain name", arg);
}

void tern_dkim_make_dir(const char *path, gid_t gid)
{
    if (mkdir(path, 0750) < 0 && errno != EEXIST)
        log_fatal_code(EX_CANTCREAT, "cannot create %s: %s", path, strerror(errno));
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fchown(fd, geteuid() == 0 ? 0 : (uid_t)-1, gid) < 0 || fchmod(fd, 0750) < 0)
        log_fatal_code(EX_CANTCREAT, "cannot make %s a directory of mode 0750: %s", path,
                       errno == ELOOP || errno == ENOTDIR ? "not a directory" : strerror(errno));
    close(fd);
}

/* The group the daemons run with (mail_owner's): it may read the keys. */
static gid_t key_group(void)
{
    uid_t uid;
    gid_t gid;
    char err[ERR_TEXT_MAX];
    if (geteuid() != 0)
        return getegid();
    if (priv_lookup_user(config_str("mail_owner"), &uid, &gid, err, sizeof err) < 0)
        log_fatal_code(EX_NOUSER, "%s", err);
    return gid;
}

/* The table's source file, for a table that can be edited: texthash:, hash: or btree: with an
 * absolute path. */
static const char *table_source(const char *spec)
{
    const char *colon = strchr(spec, ':');
    if (colon == NULL || colon[1] != '/' ||
        (!dict_type_is_built(spec) && strncmp(spec, "texthash:", 9) != 0))
        log_fatal_code(EX_CONFIG, "dkim_signing_keys = %s: only a texthash:, hash: or btree: "
                       "table with an absolute path can be edited; add the key yourself",
                       spec[0] ? spec : "(empty)");
    return colon + 1;
}

/* ---- the table's text ---- */

/* Where the entry of domain is in text: its lines are [*start, *end) (the key line and the
 * continuation lines after it). false when there is none. */
static bool find_entry(const char *text, size_t len, const char *domain, size_t *start,
                       size_t *end)
{
    size_t dl = strlen(domain);
    bool in = false;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t next = nl ? (size_t)(nl - text) + 1 : len;
        char c = text[pos];
        bool blank = strspn(text + pos, " \t\r") >= next - pos - (nl != NULL);
        bool continuation = (c == ' ' || c == '\t') && !blank;
        if (in && !continuation) {
            *end = pos;
            return true;
        }
        if (!in && !blank && c != '#' && !continuation) {
            size_t kl = strcspn(text + pos, " \t\r\n");
            if (kl == dl && strncasecmp(text + pos, domain, dl) == 0) {
                in = true;
                *start = pos;
            }
        }
        pos = next;
    }
    *end = len;
    return in;
}

/* The source with SELECTOR:KEYFILE added to domain's entry (a new line when it has none).
 * Exits when the entry is malformed or has the selector already. */
static void add_to_table(const struct buf *old, const char *domain, const char *item,
                         const char *selector, struct buf *out)
{
    size_t start, end;
    if (!find_entry(old->data, old->len, domain, &start, &end)) {
        buf_append(out, old->data, old->len);
        if (old->len && old->data[old->len - 1] != '\n')
            buf_putc(out, '\n');
        buf_printf(out, "%s %s\n", domain, item);
        return;
    }
    /* the value: the entry's text after the key */
    const char *value = old->data + start + strlen(domain);
    size_t vlen = old->data + end - value;
    struct dkim_signing_ref refs[DKIM_SIGNING_SELECTORS_MAX];
    size_t n;
    char err[ERR_TEXT_MAX];
    if (dkim_signing_parse(value, vlen, refs, &n, err, sizeof err) < 0)
        log_fatal_code(EX_DATAERR, "dkim_signing_keys: the entry of %s cannot be read: %s",
                       domain, err);
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(refs[i].selector, selector) == 0)
            log_fatal_code(EX_CANTCREAT, "dkim_signing_keys: %s has a key with selector %s "
                           "already (%s)", domain, selector, refs[i].keyfile);
    if (n == DKIM_SIGNING_SELECTORS_MAX)
        log_fatal_code(EX_CANTCREAT, "dkim_signing_keys: %s has %d keys already", domain,
                       DKIM_SIGNING_SELECTORS_MAX);
    /* appended to the entry's last line, before its line end */
    size_t at = end;
    while (at > start && (old->data[at - 1] == '\n' || old->data[at - 1] == '\r'))
        at--;
    buf_append(out, old->data, at);
    buf_printf(out, ", %s", item);
    buf_append(out, old->data + at, old->len - at);
    if (at == old->len)
        buf_putc(out, '\n');
}

/* The table's source with the new entry, in text (checked before the key is made: a selector
 * the domain has already stops here), and the mode to write it with. */
static void new_table_text(const char *spec, const char *domain, const char *selector,
                           const char *keyfile, struct buf *text, mode_t *mode)
{
    const char *source = table_source(spec);
    struct buf old, item;
    buf_init(&old, TABLE_SOURCE_MAX);
    buf_init(&item, BUF_UNBOUNDED);
    struct stat st;
    *mode = stat(source, &st) == 0 ? st.st_mode & 07777 : 0644;
    if (safe_read_file(source, TABLE_SOURCE_MAX, &old) < 0) {
        if (errno != ENOENT)
            log_fatal_code(EX_NOINPUT, "dkim_signing_keys: cannot read %s: %s", source,
                           strerror(errno));
        buf_set(&old, DKIM_SIGNING_KEYS_TEXT);
    }
    buf_printf(&item, "%s:%s", selector, keyfile);
    add_to_table(&old, domain, buf_str(&item), selector, text);
    buf_free(&old);
    buf_free(&item);
}

/* Rewrites the table's source (temporary file and rename) and rebuilds a hash:/btree: table.
 * 0, or a sysexits code (the message logged). */
static int write_table(const char *spec, const struct buf *text, mode_t mode)
{
    const char *source = table_source(spec);
    if (safe_write_file(source, text->data, text->len, mode) < 0) {
        log_error("dkim_signing_keys: cannot write %s: %s", source, strerror(errno));
        return EX_CANTCREAT;
    }
    char err[ERR_TEXT_MAX];
    enum dict_build_error why;
    if (dict_type_is_built(spec) && dict_build_why(spec, DICT_FORMAT_MAP, &why, err,
                                                   sizeof err) < 0) {
        log_error("dkim_signing_keys: %s", err);
        return why == DICT_BUILD_ERR_SOURCE ? EX_DATAERR : EX_CANTCREAT;
    }
    return 0;
}

/* ---- keygen ---- */

/* Writes pkey's private key to dir/name: O_EXCL|O_NOFOLLOW, mode 0640, group gid. */
static void write_key(const char *path, EVP_PKEY *pkey, gid_t gid)
{
    struct buf pem;
    buf_init(&pem, BUF_UNBOUNDED);
    if (dkim_key_private_to_pem(pkey, &pem) < 0)
        log_fatal_code(EX_SOFTWARE, "cannot write the key in PEM");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        log_fatal_code(EX_CANTCREAT, "cannot create %s: %s%s", path, strerror(errno),
                       errno == EEXIST ? " (an existing key is never overwritten)" : "");
    if (fchown(fd, geteuid() == 0 ? 0 : (uid_t)-1, gid) < 0 || fchmod(fd, 0640) < 0 ||
        write_all(fd, pem.data, pem.len) < 0 || fsync(fd) < 0) {
        int e = errno;
        unlink(path);
        log_fatal_code(EX_IOERR, "cannot write %s: %s", path, strerror(e));
    }
    close(fd);
    buf_free(&pem);
}

/* The record as a zone file line: the TXT strings at most 255 bytes each, the tags before p=
 * in a string of their own. */
static void print_record(const char *domain, const char *selector, EVP_PKEY *pkey)
{
    struct buf rec;
    buf_init(&rec, DKIM_KEY_RECORD_MAX);
    if (dkim_key_record(pkey, &rec) < 0)
        log_fatal_code(EX_SOFTWARE, "cannot write the key's record");
    const char *p = strstr(buf_str(&rec), "p=");
    size_t head = p ? (size_t)(p - rec.data) : rec.len;
    printf("%s._domainkey.%s. IN TXT ( \"%.*s\"", selector, domain, (int)head, rec.data);
    for (size_t i = head; i < rec.len; i += TXT_STRING_MAX) {
        size_t n = rec.len - i < TXT_STRING_MAX ? rec.len - i : TXT_STRING_MAX;
        printf(" \"%.*s\"", (int)n, rec.data + i);
    }
    printf(" )\n");
    fflush(stdout);
    buf_free(&rec);
}

static int keygen(const char *config_dir, int argc, char **argv)
{
    enum dkim_key_type type = DKIM_KEY_RSA;
    int bits = 0;
    int i = 2;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "-a") == 0) {
            const char *a = argv[++i];
            if (strcmp(a, "rsa") == 0)
                type = DKIM_KEY_RSA;
            else if (strcmp(a, "ed25519") == 0)
                type = DKIM_KEY_ED25519;
            else
                log_fatal_code(EX_USAGE, "-a %s: the algorithm is rsa or ed25519", a);
        } else if (strcmp(argv[i], "-b") == 0) {
            const char *b = argv[++i];
            bits = strcmp(b, "2048") == 0 ? 2048 : strcmp(b, "3072") == 0 ? 3072
                 : strcmp(b, "4096") == 0 ? 4096 : -1;
            if (bits < 0)
                log_fatal_code(EX_USAGE, "-b %s: an RSA key has 2048, 3072 or 4096 bits", b);
        } else {
            usage();
        }
    }
    if (argc - i != 2)
        usage();
    if (bits && type != DKIM_KEY_RSA)
        log_fatal_code(EX_USAGE, "-b is for RSA keys: an ed25519 key has no size to choose");
    if (bits == 0)
        bits = 2048;
    char domain[DKIM_DOMAIN_MAX];
    domain_arg(argv[i], domain);
    const char *selector = argv[i + 1];
    if (!dkim_signing_selector_ok(selector, strlen(selector)))
        log_fatal_code(EX_USAGE, "\"%s\" is not a selector (labels of letters, digits and "
                       "'-', separated by dots)", selector);
    const char *spec = config_str("dkim_signing_keys");

    struct buf dir, keyfile, path, table;
    buf_init(&dir, BUF_UNBOUNDED);
    buf_init(&keyfile, BUF_UNBOUNDED);
    buf_init(&path, BUF_UNBOUNDED);
    buf_init(&table, BUF_UNBOUNDED);
    buf_printf(&dir, "%s/%s", config_dir, KEY_DIR);
    /* the file name is the record's name: unique, as a selector has no '_' label */
    buf_printf(&keyfile, "%s/%s._domainkey.%s.key", KEY_DIR, selector, domain);
    buf_printf(&path, "%s/%s", config_dir, buf_str(&keyfile));
    mode_t mode;
    new_table_text(spec, domain, selector, buf_str(&keyfile), &table, &mode);
    gid_t gid = key_group();
    tern_dkim_make_dir(buf_str(&dir), gid);
    EVP_PKEY *pkey = dkim_key_generate(type, bits);
    if (pkey == NULL)
        log_fatal_code(EX_SOFTWARE, "cannot generate a key: OpenSSL failed");
    write_key(buf_str(&path), pkey, gid);
    int code = write_table(spec, &table, mode);
    if (code) {
        unlink(buf_str(&path));
        log_error("removed %s again", buf_str(&path));
    } else {
        char what[32];
        snprintf(what, sizeof what, type == DKIM_KEY_RSA ? "rsa %d bits" : "ed25519", bits);
        log_info("created %s (%s) and added it to %s for %s; publish this record, then run "
                 "`tern reload`:", buf_str(&path), what, spec, domain);
        print_record(domain, selector, pkey);
    }
    EVP_PKEY_free(pkey);
    buf_free(&dir);
    buf_free(&keyfile);
    buf_free(&path);
    buf_free(&table);
    return code;
}

/* ---- check ---- */

enum verdict { V_OK, V_LOOKUP_FAILED, V_MISSING, V_REVOKED, V_MISMATCH, V_NO_KEY };

static const char *const verdict_text[] = {
    "ok", "lookup failed", "missing", "revoked", "does not match", "key not readable",
};

struct selector_check {
    struct dkim_signing_key key;
    char name[DKIM_SELECTOR_MAX + DKIM_DOMAIN_MAX + 16];
    enum verdict verdict;
    char detail[256];
    struct event_base *base;
    int *pending;
};

/* The published records against the key: ok when one is its public half. */
static void on_answer(void *arg, const struct dns_records *r)
{
    struct selector_check *c = arg;
    if (r->rc == DNS_RC_TEMP) {
        c->verdict = V_LOOKUP_FAILED;
    } else if (r->rc != DNS_RC_OK || r->nrecords == 0) {
        c->verdict = V_MISSING;
    } else {
        bool match = false, key_seen = false, revoked = false;
        char bad[200] = "";
        for (size_t i = 0; i < r->nrecords && !match; i++) {
            struct dkim_key pub;
            enum dkim_result res;
            char why[ERR_TEXT_MAX];
            if (dkim_key_parse(r->records[i].text, r->records[i].textlen, &pub, &res, why,
                               sizeof why) == 0) {
                key_seen = true;
                match = EVP_PKEY_eq(pub.pkey, c->key.pkey) == 1;
                dkim_key_free(&pub);
            } else if (res == DKIM_FAIL && strstr(why, "revoked")) {
                revoked = true;
            } else if (bad[0] == '\0') {
                snprintf(bad, sizeof bad, "%.190s", why);
            }
        }
        c->verdict = match ? V_OK : key_seen ? V_MISMATCH : revoked ? V_REVOKED
                   : bad[0] ? V_MISMATCH : V_MISSING;
        if (c->verdict == V_MISMATCH && !key_seen)
            snprintf(c->detail, sizeof c->detail, "the record cannot be used: %s", bad);
    }
    if (--*c->pending == 0)
        event_base_loopbreak(c->base);
}

static int check(const char *config_dir, int argc, char **argv)
{
    if (argc != 3)
        usage();
    char domain[DKIM_DOMAIN_MAX];
    domain_arg(argv[2], domain);
    const char *spec = config_str("dkim_signing_keys");
    char err[ERR_TEXT_MAX];
    struct dict *d = spec[0] ? dict_open(spec, err, sizeof err) : NULL;
    if (d == NULL)
        log_fatal_code(EX_CONFIG, "dkim_signing_keys: %s", spec[0] ? err : "no table is set");
    const char *value;
    int found = dict_lookup(d, domain, &value, err, sizeof err);
    if (found < 0)
        log_fatal_code(EX_IOERR, "dkim_signing_keys: %s", err);
    if (found == 0)
        log_fatal_code(EX_NOUSER, "%s has no keys in %s", domain, spec);
    struct dkim_signing_ref refs[DKIM_SIGNING_SELECTORS_MAX];
    size_t n;
    if (dkim_signing_parse(value, strlen(value), refs, &n, err, sizeof err) < 0)
        log_fatal_code(EX_DATAERR, "dkim_signing_keys: %s: %s", domain, err);
    dict_close(d);

    struct dns *dns = dns_open(err, sizeof err);
    if (dns == NULL)
        log_fatal_code(EX_OSERR, "cannot start the resolver: %s", err);
    struct event_base *base = event_base_new();
    if (base == NULL)
        log_fatal_code(EX_OSERR, "cannot make an event loop");
    dns_attach(dns, base);
    struct selector_check *checks = xcalloc(n, sizeof *checks);
    int pending = 0;
    for (size_t i = 0; i < n; i++) {
        struct selector_check *c = &checks[i];
        snprintf(c->name, sizeof c->name, "%.255s._domainkey.%.255s", refs[i].selector,
                 domain);
        c->base = base;
        c->pending = &pending;
        if (dkim_signing_load(config_dir, domain, &refs[i], &c->key, err, sizeof err) < 0) {
            c->verdict = V_NO_KEY;
            snprintf(c->detail, sizeof c->detail, "%.250s", err);
            continue;
        }
        pending++;
        dns_lookup(dns, c->name, 16, LOOKUP_TIMEOUT_MS, on_answer, c);
    }
    if (pending)
        event_base_dispatch(base);
    int code = 0;
    for (size_t i = 0; i < n; i++) {
        struct selector_check *c = &checks[i];
        printf("%s: %s%s%s\n", c->name, verdict_text[c->verdict], c->detail[0] ? ": " : "",
               c->detail);
        /* 1 for a record to fix; else the first error's sysexits code */
        int this = c->verdict == V_OK ? 0 : c->verdict == V_LOOKUP_FAILED ? EX_TEMPFAIL
                 : c->verdict == V_NO_KEY ? EX_NOINPUT : 1;
        if (this == 1 || code == 0)
            code = this;
        dkim_signing_key_free(&c->key);
    }
    free(checks);
    dns_close(dns);
    event_base_free(base);
    return code;
}

int tern_dkim(const char *config_dir, int argc, char **argv)
{
    if (argc < 2)
        usage();
    if (strcmp(argv[1], "keygen") == 0)
        return keygen(config_dir, argc, argv);
    if (strcmp(argv[1], "check") == 0)
        return check(config_dir, argc, argv);
    usage();
}

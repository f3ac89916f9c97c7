/* srs.c: the Sender Rewriting Scheme: envelope senders rewritten into the SRS domain with an
 * HMAC-SHA256 (libsodium) over what a bounce must bring back, checked when it does; and the
 * key file, made once by `tern init`, read by the daemons. */
#include "srs.h"
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errtext.h"
#include "safefile.h"

#define KEY_HEX (2 * SRS_KEY_BYTES)
#define DAY_SECONDS 86400
#define STAMP_DAYS 1024   /* two base32 characters */

int srs_key_generate(const char *path, char *err, size_t errlen)
{
    unsigned char key[SRS_KEY_BYTES];
    char hex[KEY_HEX + 2];
    if (sodium_init() < 0) {
        errtext_setf(err, errlen, "SRS key", path, "libsodium cannot be initialised");
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        errtext_setf(err, errlen, "SRS key", path, "create: %s", strerror(errno));
        return -1;
    }
    randombytes_buf(key, sizeof key);
    sodium_bin2hex(hex, sizeof hex, key, sizeof key);
    hex[KEY_HEX] = '\n';
    int rc = fchmod(fd, 0600) < 0 || write_all(fd, hex, KEY_HEX + 1) < 0 || fsync(fd) < 0;
    int e = errno;
    sodium_memzero(key, sizeof key);
    sodium_memzero(hex, sizeof hex);
    if (close(fd) < 0 && rc == 0) {
        rc = 1;
        e = errno;
    }
    if (rc == 0 && fsync_parent(path) < 0) {
        rc = 1;
        e = errno;
    }
    if (rc != 0) {
        unlink(path);
        errtext_setf(err, errlen, "SRS key", path, "write: %s", strerror(e));
        return -1;
    }
    return 0;
}

int srs_key_load(const char *path, struct srs_key *key, char *err, size_t errlen)
{
    struct stat st;
    char text[KEY_HEX + 2];
    int fd = safe_open_stat(path, O_RDONLY | O_NOFOLLOW, 0, &st);
    if (fd < 0) {
        errtext_setf(err, errlen, "SRS key", path, "open: %s", strerror(errno));
        return -1;
    }
    const char *why = NULL;
    ssize_t n = 0;
    if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_mode & 077)
        why = "readable or writable by group or others";
    else if ((n = read(fd, text, sizeof text)) < 0)
        why = strerror(errno);
    close(fd);
    if (why == NULL && n > 0 && text[n - 1] == '\n')
        n--;
    size_t got = 0;
    if (why == NULL && (n != KEY_HEX ||
                        sodium_hex2bin(key->bytes, sizeof key->bytes, text, (size_t)n, NULL,
                                       &got, NULL) != 0 || got != SRS_KEY_BYTES))
        why = "not 64 hexadecimal digits";
    sodium_memzero(text, sizeof text);
    if (why != NULL) {
        sodium_memzero(key, sizeof *key);
        if (st.st_mode & 077 && S_ISREG(st.st_mode))
            errtext_setf(err, errlen, "SRS key", path, "%s (mode %04o)", why,
                         (unsigned)(st.st_mode & 07777));
        else
            errtext_setf(err, errlen, "SRS key", path, "%s", why);
        return -1;
    }
    return 0;
}

/* ---- the hash ---- */

static void hash_lower(crypto_auth_hmacsha256_state *st, const char *s)
{
    unsigned char c[64];
    size_t n = 0;
    for (; *s; s++) {
        c[n++] = (unsigned char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
        if (n == sizeof c) {
            crypto_auth_hmacsha256_update(st, c, n);
            n = 0;
        }
    }
    crypto_auth_hmacsha256_update(st, c, n);
}

/* The hash field: HMAC-SHA256 over "SRS0" or "SRS1" and three parts, each folded to lower case,
 * joined by '=' (unambiguous: only the last part may hold a '=', and an SRS1's middle part is
 * one character); its first 30 bits as SRS_HASH_CHARS base32 characters. SRS0: stamp, domain,
 * local part; SRS1: first domain, the SRS0 separator and rest. */
static void make_hash(const struct srs_key *key, int version, const char *a, const char *b,
                      const char *c, char out[SRS_HASH_CHARS + 1])
{
    static const char base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, key->bytes, sizeof key->bytes);
    const char *parts[] = { version ? "SRS1" : "SRS0", a, b, c };
    for (size_t i = 0; i < 4; i++) {
        hash_lower(&st, parts[i]);
        if (i < 3)
            crypto_auth_hmacsha256_update(&st, (const unsigned char *)"=", 1);
    }
    crypto_auth_hmacsha256_final(&st, mac);
    unsigned long bits = (unsigned long)mac[0] << 24 | (unsigned long)mac[1] << 16 |
                         (unsigned long)mac[2] << 8 | mac[3];
    for (int i = 0; i < SRS_HASH_CHARS; i++)
        out[i] = base32[(bits >> (27 - 5 * i)) & 31];
    out[SRS_HASH_CHARS] = '\0';
    sodium_memzero(&st, sizeof st);
}

/* ---- rewriting ---- */

static bool same_domain(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 0 && a[na - 1] == '.')
        na--;
    if (nb > 0 && b[nb - 1] == '.')
        nb--;
    return na == nb && strncasecmp(a, b, na) == 0;
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s + 32);
}

/* a written into out when it fits the bounds and reads back (so a bounce can be reversed;
 * an SRS0 of another forwarder with nothing after "SRS0=" would not) */
static enum srs_status put_address(const struct srs_address *a, char *out, size_t size)
{
    char whole[SRS_ADDRESS_MAX];
    struct srs_address back;
    if (srs_address_format(a, whole, sizeof whole) < 0 || srs_address_parse(whole, &back) != 1 ||
        snprintf(out, size, "%s", whole) >= (int)size) {
        if (size > 0)
            out[0] = '\0';
        return SRS_MALFORMED;
    }
    return SRS_OK;
}

enum srs_status srs_forward(const struct srs_key *key, const char *srs_domain,
                            const char *address, time_t now, char *out, size_t size)
{
    if (size > 0)
        out[0] = '\0';
    size_t len = strlen(address);
    if (len >= SRS_ADDRESS_MAX || size == 0)
        return SRS_MALFORMED;
    const char *at = strrchr(address, '@');
    if (len == 0 || at == NULL || at[1] == '\0' || same_domain(at + 1, srs_domain)) {
        snprintf(out, size, "%s", address);
        return strlen(out) == len ? SRS_UNCHANGED : SRS_MALFORMED;
    }
    size_t ln = (size_t)(at - address);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)address[i];
        if (c <= ' ' || c == 0x7f || c == '"' || c == '\\' || (i < ln && c == '@'))
            return SRS_MALFORMED;   /* a local part that needs quotes, a control character */
    }
    if (ln == 0 || strlen(at + 1) >= SRS_DOMAIN_MAX || strlen(srs_domain) >= SRS_DOMAIN_MAX)
        return SRS_MALFORMED;

    struct srs_address a, prev;
    memset(&a, 0, sizeof a);
    a.sep = '=';
    snprintf(a.at, sizeof a.at, "%s", srs_domain);
    int version;
    char local[SRS_LOCAL_MAX + 1];
    if (ln <= SRS_LOCAL_MAX && srs_address_is_srs(address, &version) &&
        (version == 0 || srs_address_parse(address, &prev) == 1)) {
        /* another forwarder's SRS address: SRS1 pointing at the first SRS domain */
        a.version = 1;
        if (version == 0) {
            snprintf(a.domain, sizeof a.domain, "%.*s", (int)strlen(at + 1), at + 1);
            a.srs0_sep = address[4];
            snprintf(a.local, sizeof a.local, "%.*s", (int)(ln - 5), address + 5);
        } else {
            snprintf(a.domain, sizeof a.domain, "%s", prev.domain);
            a.srs0_sep = prev.srs0_sep;
            snprintf(a.local, sizeof a.local, "%s", prev.local);
        }
        lower(a.domain);
        char sep[2] = { a.srs0_sep, '\0' };
        make_hash(key, 1, a.domain, sep, a.local, a.hash);
    } else {
        if (ln > SRS_LOCAL_MAX)
            return SRS_MALFORMED;
        a.version = 0;
        memcpy(local, address, ln);
        local[ln] = '\0';
        snprintf(a.domain, sizeof a.domain, "%s", at + 1);
        lower(a.domain);
        snprintf(a.local, sizeof a.local, "%s", local);
        srs_stamp_encode((unsigned long)(now / DAY_SECONDS), a.stamp);
        make_hash(key, 0, a.stamp, a.domain, a.local, a.hash);
    }
    return put_address(&a, out, size);
}

enum srs_status srs_reverse(const struct srs_key *key, const char *srs_domain,
                            const char *address, time_t now, char *out, size_t size)
{
    struct srs_address a;
    char want[SRS_HASH_CHARS + 1], got[SRS_HASH_MAX];
    if (size > 0)
        out[0] = '\0';
    if (strlen(address) >= SRS_ADDRESS_MAX) {
        int version;
        return srs_address_is_srs(address, &version) ? SRS_MALFORMED : SRS_NOT_SRS;
    }
    int rc = srs_address_parse(address, &a);
    if (rc == 0 || (rc == 1 && !same_domain(a.at, srs_domain)))
        return SRS_NOT_SRS;
    if (rc < 0)
        return SRS_MALFORMED;
    if (a.version == 0) {
        make_hash(key, 0, a.stamp, a.domain, a.local, want);
    } else {
        char sep[2] = { a.srs0_sep, '\0' };
        make_hash(key, 1, a.domain, sep, a.local, want);
    }
    snprintf(got, sizeof got, "%s", a.hash);
    for (char *p = got; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 32);
    if (strlen(got) != SRS_HASH_CHARS || sodium_memcmp(want, got, SRS_HASH_CHARS) != 0)
        return SRS_BAD_HASH;
    if (a.version == 0) {
        long today = (long)(now / DAY_SECONDS % STAMP_DAYS);
        long age = (today - srs_stamp_decode(a.stamp) + STAMP_DAYS) % STAMP_DAYS;
        if (age > SRS_MAX_AGE_DAYS && age != STAMP_DAYS - 1)   /* one day ahead: clock skew */
            return SRS_EXPIRED;
        rc = snprintf(out, size, "%s@%s", a.local, a.domain);
    } else {
        rc = snprintf(out, size, "SRS0%c%s@%s", a.srs0_sep, a.local, a.domain);
    }
    if (rc < 0 || (size_t)rc >= size) {
        if (size > 0)
            out[0] = '\0';
        return SRS_MALFORMED;
    }
    return SRS_OK;
}

const char *srs_status_text(enum srs_status s)
{
    switch (s) {
    case SRS_OK: return "ok";
    case SRS_UNCHANGED: return "not rewritten";
    case SRS_NOT_SRS: return "not an SRS address";
    case SRS_BAD_HASH: return "SRS address hash mismatch";
    case SRS_EXPIRED: return "SRS address expired";
    case SRS_MALFORMED: break;
    }
    return "malformed SRS address";
}

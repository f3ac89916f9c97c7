/* auth.c: SMTP AUTH for smtpd: strict base64, the PLAIN message parser and the exchange of one
 * AUTH command (all pure), and the smtpd_sasl_users table of argon2id hashes. Unknown logins
 * are checked against a dummy hash of the same cost, so neither the reply nor its timing tells a
 * client which logins exist. */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include "auth.h"
#include "base64.h"
#include "dict.h"
#include "log.h"
#include "mem.h"
#include "smtp_rules.h"

struct auth_users {
    struct dict *dict;
};

/* ---- base64 (RFC 4648 section 4; common/base64.h) ---- */

int auth_b64_decode(const char *in, size_t len, unsigned char *out, size_t size)
{
    if (len == 1 && in[0] == '=')
        return 0;   /* RFC 4954: an empty initial response */
    if (len / 4 > INT_MAX / 3)
        return -1;
    return (int)base64_decode(in, len, out, size, false);
}

/* Writes the encoding and a NUL, so size must exceed 4 * ceil(len / 3). */
int auth_b64_encode(const unsigned char *in, size_t len, char *out, size_t size)
{
    if (len > (size_t)INT_MAX / 4 * 3 - 3 || BASE64_LEN(len) >= size)
        return -1;
    return (int)base64_encode(in, len, out);
}

/* ---- PLAIN (RFC 4616) ---- */

int auth_parse_plain(const unsigned char *msg, size_t len, char login[AUTH_FIELD_MAX],
                     char password[AUTH_FIELD_MAX])
{
    login[0] = password[0] = '\0';
    const unsigned char *end1 = len > 0 ? memchr(msg, '\0', len) : NULL;
    if (end1 == NULL)
        return -1;
    size_t zlen = (size_t)(end1 - msg);
    const unsigned char *authcid = end1 + 1;
    const unsigned char *end2 = memchr(authcid, '\0', len - zlen - 1);
    if (end2 == NULL)
        return -1;
    size_t clen = (size_t)(end2 - authcid);
    const unsigned char *pass = end2 + 1;
    size_t plen = len - zlen - clen - 2;
    if (clen == 0 || zlen >= AUTH_FIELD_MAX || clen >= AUTH_FIELD_MAX || plen >= AUTH_FIELD_MAX)
        return -1;
    /* the login goes to the log and the Received: header: no control characters */
    if (memchr(pass, '\0', plen) != NULL || !smtp_text_printable((const char *)authcid, clen))
        return -1;
    if (zlen != 0 && (zlen != clen || memcmp(msg, authcid, clen) != 0))
        return -1;   /* no proxy authorization: one may only act as oneself */
    memcpy(login, authcid, clen);
    login[clen] = '\0';
    memcpy(password, pass, plen);
    password[plen] = '\0';
    return 0;
}

/* ---- the exchange (RFC 4954) ---- */

static const char MALFORMED[] = "501 5.5.2 Error: malformed authentication response";

static enum auth_next done(const char **reply, const char *text)
{
    *reply = text;
    return AUTH_NEXT_DONE;
}

enum auth_next auth_dialogue_response(struct auth_dialogue *d, const char *line, size_t len,
                                      char password[AUTH_FIELD_MAX], const char **reply)
{
    unsigned char msg[AUTH_LINE_MAX];
    enum auth_next next;
    *reply = NULL;
    password[0] = '\0';
    if (len == 1 && line[0] == '*')
        return done(reply, "501 5.7.0 Authentication aborted");
    int n = auth_b64_decode(line, len, msg, sizeof msg - 1);
    if (n < 0)
        return done(reply, MALFORMED);
    msg[n] = '\0';
    if (strcmp(d->mech, "PLAIN") == 0) {
        next = auth_parse_plain(msg, (size_t)n, d->login, password) < 0 ? done(reply, MALFORMED)
                                                                        : AUTH_NEXT_CHECK;
    } else if (d->step == 1) {
        /* the login goes into the log and Received:, so no control characters */
        if (n == 0 || n >= AUTH_FIELD_MAX || !smtp_text_printable((char *)msg, (size_t)n)) {
            next = done(reply, MALFORMED);
        } else {
            memcpy(d->login, msg, (size_t)n);
            d->login[n] = '\0';
            d->step = 2;
            *reply = "334 UGFzc3dvcmQ6";   /* "Password:" */
            next = AUTH_NEXT_CHALLENGE;
        }
    } else if (n >= AUTH_FIELD_MAX || memchr(msg, '\0', (size_t)n)) {
        next = done(reply, MALFORMED);
    } else {
        memcpy(password, msg, (size_t)n + 1);
        next = AUTH_NEXT_CHECK;
    }
    sodium_memzero(msg, sizeof msg);
    return next;
}

enum auth_next auth_dialogue_start(struct auth_dialogue *d, const char *args, size_t len,
                                   char password[AUTH_FIELD_MAX], const char **reply)
{
    memset(d, 0, sizeof *d);
    password[0] = '\0';
    size_t m = 0;
    while (m < len && args[m] != ' ')
        m++;
    if (m == 5 && strncasecmp(args, "PLAIN", 5) == 0)
        snprintf(d->mech, sizeof d->mech, "PLAIN");
    else if (m == 5 && strncasecmp(args, "LOGIN", 5) == 0)
        snprintf(d->mech, sizeof d->mech, "LOGIN");
    else
        return done(reply, "504 5.5.4 Unrecognized authentication type");
    d->step = 1;
    if (m < len)   /* an initial response */
        return auth_dialogue_response(d, args + m + 1, len - m - 1, password, reply);
    *reply = strcmp(d->mech, "PLAIN") == 0 ? "334 " : "334 VXNlcm5hbWU6";   /* "Username:" */
    return AUTH_NEXT_CHALLENGE;
}

/* ---- the users table ---- */

static char dummy_hash[crypto_pwhash_STRBYTES];
static bool dummy_ready;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

/* The hash of a random password nobody knows, at the cost ternpasswd uses. */
static void dummy_make(void)
{
    unsigned char pw[32];
    if (sodium_init() < 0)
        return;
    randombytes_buf(pw, sizeof pw);
    dummy_ready = crypto_pwhash_str(dummy_hash, (const char *)pw, sizeof pw,
                                    crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                    crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
    sodium_memzero(pw, sizeof pw);
}

struct auth_users *auth_users_open(const char *spec, char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "%s: cannot initialize libsodium", spec);
        return NULL;
    }
    pthread_once(&dummy_once, dummy_make);
    if (!dummy_ready) {
        snprintf(err, errlen, "%s: cannot make the dummy password hash: out of memory", spec);
        return NULL;
    }
    struct dict *d = dict_open(spec, err, errlen);
    if (d == NULL)
        return NULL;
    struct auth_users *u = xmalloc(sizeof *u);
    u->dict = d;
    return u;
}

int auth_users_hash(struct auth_users *u, const char *login, char *hash, size_t size)
{
    const char *value;
    char err[ERR_TEXT_MAX];
    if (size > 0)
        hash[0] = '\0';
    int r = dict_lookup(u->dict, login, &value, err, sizeof err);
    if (r < 0) {
        log_warn("%s", err);
        return -1;
    }
    if (r == 0)
        return 0;
    size_t n = strlen(value);
    if (n >= size) {
        log_warn("%s: the password hash of %s is too long (%zu bytes)", dict_spec(u->dict),
                 login, n);
        return -1;
    }
    memcpy(hash, value, n + 1);
    return 1;
}

bool auth_verify(const char *hash, const char *password)
{
    if (password == NULL)
        password = "";
    if (hash == NULL) {
        pthread_once(&dummy_once, dummy_make);
        /* the same work as a real check; nobody knows the dummy's password */
        int r = dummy_ready ? crypto_pwhash_str_verify(dummy_hash, password, strlen(password))
                            : -1;
        (void)r;
        return false;
    }
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void auth_users_close(struct auth_users *u)
{
    if (u == NULL)
        return;
    dict_close(u->dict);
    free(u);
}

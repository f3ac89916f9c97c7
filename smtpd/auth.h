/* auth.h: SMTP AUTH (RFC 4954) mechanisms PLAIN and LOGIN against the smtpd_sasl_users table,
 * which maps a login to an argon2id hash made by libsodium's crypto_pwhash_str (`ternpasswd`
 * prints one). The decoding and the exchange are pure; the password check is slow on purpose
 * and runs on a worker thread (auth_verify is thread-safe). */
#ifndef TERN_AUTH_H
#define TERN_AUTH_H
#include <stdbool.h>
#include <stddef.h>

#define AUTH_FIELD_MAX 256

/* base64 (RFC 4648, padding required) into out; returns the decoded length or -1. "=" alone
 * (an empty initial response) decodes to length 0. */
int auth_b64_decode(const char *in, size_t len, unsigned char *out, size_t size);
int auth_b64_encode(const unsigned char *in, size_t len, char *out, size_t size);
/* PLAIN: authzid NUL authcid NUL password (decoded). Each field at most AUTH_FIELD_MAX-1 bytes,
 * no NUL inside the password, authcid non-empty; authzid must be empty or equal to authcid.
 * 0 or -1. */
int auth_parse_plain(const unsigned char *msg, size_t len, char login[AUTH_FIELD_MAX],
                     char password[AUTH_FIELD_MAX]);

/* The exchange of one AUTH command (RFC 4954), PLAIN or LOGIN, without I/O: the session feeds
 * it AUTH's arguments, then each response line, and does what it answers. */
#define AUTH_LINE_MAX 12288            /* a response line (RFC 4954: 12288 octets) */
struct auth_dialogue {
    char mech[8];                      /* "PLAIN" or "LOGIN" */
    int step;                          /* LOGIN: 1 waiting for the user name, 2 the password */
    char login[AUTH_FIELD_MAX];        /* the login, once the client gave it */
};
enum auth_next {
    AUTH_NEXT_CHALLENGE,   /* send *reply (a 334 line) and read the next response line */
    AUTH_NEXT_DONE,        /* send *reply; the exchange is over (unknown mechanism, aborted,
                            * malformed) */
    AUTH_NEXT_CHECK,       /* check d->login with password; the exchange is over */
};
/* AUTH's arguments: the mechanism, then an optional initial response. */
enum auth_next auth_dialogue_start(struct auth_dialogue *d, const char *args, size_t len,
                                   char password[AUTH_FIELD_MAX], const char **reply);
/* One response line (base64, or "*" to abort). password is set only with AUTH_NEXT_CHECK;
 * the caller wipes it (sodium_memzero) once checked. */
enum auth_next auth_dialogue_response(struct auth_dialogue *d, const char *line, size_t len,
                                      char password[AUTH_FIELD_MAX], const char **reply);

struct auth_users;
/* Opens the table (a dict spec). NULL with err. */
struct auth_users *auth_users_open(const char *spec, char *err, size_t errlen);
/* Looks the login up (in the loop thread: table lookups are not thread-safe) and copies its
 * hash into hash (size >= 128). 1 found, 0 unknown, -1 lookup failure. */
int auth_users_hash(struct auth_users *u, const char *login, char *hash, size_t size);
/* Thread-safe: checks password against hash with crypto_pwhash_str_verify. An unknown login is
 * checked against a fixed dummy hash, so the time taken does not tell whether a login exists. */
bool auth_verify(const char *hash, const char *password);
void auth_users_close(struct auth_users *u);

#endif

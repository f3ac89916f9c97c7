/* tls_client.h: the smtp client's side of STARTTLS (OpenSSL 3): the security levels of
 * smtp_tls_security_level, one client context made before privileges are dropped (the CA file
 * may be readable by root only), a connection's SSL with SNI and, at verify, the name to
 * check, and after the handshake how far the server's certificate is trusted. */
#ifndef TERN_SMTP_TLS_CLIENT_H
#define TERN_SMTP_TLS_CLIENT_H
#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

enum tls_level { TLS_LEVEL_NONE, TLS_LEVEL_MAY, TLS_LEVEL_ENCRYPT, TLS_LEVEL_VERIFY,
                 TLS_LEVEL_DANE };

/* "none", "may", "encrypt", "verify", "dane" (case-insensitive); -1 for anything else. */
int tls_level_parse(const char *s, enum tls_level *out);
const char *tls_level_name(enum tls_level level);

/* TLS 1.2 and 1.3, the CA certificates of cafile (empty: the system store). NULL with err. */
SSL_CTX *tls_client_context(const char *cafile, char *err, size_t errlen);

/* What the certificate checks found, filled in during the handshake. */
struct tls_check {
    bool name_checked;          /* a name (or address) was given to check */
    bool dane;                  /* the certificate must match TLSA records */
    bool chain_bad;             /* the chain does not lead to a trusted CA (or DANE failed) */
    bool name_bad;              /* the certificate is not for the name checked */
    char why[128];              /* the first chain problem, for the log */
};

/* DANE (RFC 7672): the usable TLSA records of one server, from a DNSSEC-validated answer.
 * Only DANE-TA(2) and DANE-EE(3) records count for SMTP. */
struct tls_dane_record {
    unsigned char usage, selector, mtype;
    unsigned char *data;
    size_t len;
};
struct tls_dane {
    size_t count;
    struct tls_dane_record *records;
};
/* Copies the records of usage 2 and 3 (the others are unusable for SMTP) into out. */
void tls_dane_copy(struct tls_dane *out, const struct tls_dane_record *records, size_t count);
void tls_dane_free(struct tls_dane *d);

/* An SSL for one connection to host: SNI when host is a name; with check_name the
 * certificate must also be for host (a name, or an IP address). With dane (count > 0) the
 * certificate must match one of its records instead (DANE-EE without a name check, DANE-TA
 * with host's name). check must stay valid for as long as the SSL is in use. NULL with err,
 * also when none of dane's records is usable. */
SSL *tls_client_ssl(SSL_CTX *ctx, const char *host, bool check_name, const struct tls_dane *dane,
                    struct tls_check *check, char *err, size_t errlen);

enum tls_trust { TLS_ANONYMOUS, TLS_UNTRUSTED, TLS_TRUSTED, TLS_VERIFIED };
/* After the handshake: no certificate (Anonymous), a chain that does not verify (Untrusted),
 * a verified chain whose name was not (or could not be) matched (Trusted), a verified chain
 * and name, or a DANE match (Verified). */
enum tls_trust tls_client_trust(SSL *ssl, const struct tls_check *check);
const char *tls_trust_name(enum tls_trust trust);   /* "Anonymous", "Untrusted", ... */

/* The first queued OpenSSL error as text (or fallback), and the queue emptied. */
void tls_client_error(char *out, size_t size, const char *fallback);

#endif

/* tls_client.c: the client TLS context and per-connection checks of tls_client.h. The chain
 * and name are checked during the handshake by OpenSSL, but the handshake never fails on
 * them (SSL_VERIFY_NONE with a callback that records what went wrong): the session decides
 * afterwards, by security level, whether what it got is good enough. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "tls_client.h"

static int check_index = -1;   /* SSL ex_data slot of the struct tls_check */

int tls_level_parse(const char *s, enum tls_level *out)
{
    static const char *const names[] = { "none", "may", "encrypt", "verify", "dane" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i]) == 0) {
            *out = (enum tls_level)i;
            return 0;
        }
    return -1;
}

const char *tls_level_name(enum tls_level level)
{
    static const char *const names[] = { "none", "may", "encrypt", "verify", "dane" };
    return (unsigned)level < sizeof names / sizeof names[0] ? names[level] : "?";
}

void tls_client_error(char *out, size_t size, const char *fallback)
{
    unsigned long code = ERR_get_error();
    if (code != 0) {
        char reason[256];
        ERR_error_string_n(code, reason, sizeof reason);
        snprintf(out, size, "%s", reason);
    } else {
        snprintf(out, size, "%s", fallback);
    }
    ERR_clear_error();
}

static bool load_cas(SSL_CTX *ctx, const char *cafile, char *err, size_t errlen)
{
    if (cafile && *cafile) {
        if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
            char why[256];
            tls_client_error(why, sizeof why, "unknown error");
            snprintf(err, errlen, "cannot load the CA certificates of %s: %s", cafile, why);
            return false;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        char why[256];
        tls_client_error(why, sizeof why, "unknown error");
        snprintf(err, errlen, "cannot load the system's CA certificates: %s", why);
        return false;
    }
    return true;
}

SSL_CTX *tls_client_context(const char *cafile, char *err, size_t errlen)
{
    ERR_clear_error();
    if (check_index < 0)
        check_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || check_index < 0) {
        char why[256];
        tls_client_error(why, sizeof why, "out of memory");
        snprintf(err, errlen, "cannot create a TLS client context: %s", why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
        char why[256];
        tls_client_error(why, sizeof why, "unknown error");
        snprintf(err, errlen, "cannot limit the TLS protocols: %s", why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_dane_enable(ctx) <= 0) {
        char why[256];
        tls_client_error(why, sizeof why, "unknown error");
        snprintf(err, errlen, "cannot enable DANE: %s", why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (!load_cas(ctx, cafile, err, errlen)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Records each problem and lets the handshake go on; the session judges afterwards. */
static int on_verify(int ok, X509_STORE_CTX *store)
{
    if (ok)
        return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct tls_check *check = ssl ? SSL_get_ex_data(ssl, check_index) : NULL;
    if (check == NULL)
        return 1;
    int e = X509_STORE_CTX_get_error(store);
    if (e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        check->name_bad = true;
    } else {
        if (!check->chain_bad)
            snprintf(check->why, sizeof check->why, "%s", X509_verify_cert_error_string(e));
        check->chain_bad = true;
    }
    return 1;
}

static bool is_ip(const char *host)
{
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

void tls_dane_copy(struct tls_dane *out, const struct tls_dane_record *records, size_t count)
{
    out->count = 0;
    out->records = count ? calloc(count, sizeof *out->records) : NULL;
    for (size_t i = 0; out->records && i < count; i++) {
        const struct tls_dane_record *r = &records[i];
        if ((r->usage != 2 && r->usage != 3) || r->len == 0)
            continue;
        unsigned char *data = malloc(r->len);
        if (data == NULL)
            continue;
        memcpy(data, r->data, r->len);
        out->records[out->count] = *r;
        out->records[out->count++].data = data;
    }
}

void tls_dane_free(struct tls_dane *d)
{
    for (size_t i = 0; i < d->count; i++)
        free(d->records[i].data);
    free(d->records);
    d->records = NULL;
    d->count = 0;
}

/* DANE for ssl: true when at least one record is usable. */
static bool set_dane(SSL *ssl, const char *host, const struct tls_dane *dane)
{
    if (SSL_dane_enable(ssl, host) <= 0)
        return false;
    /* RFC 7672 3.1.1: a DANE-EE match says all there is to say; names do not matter */
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    int usable = 0;
    for (size_t i = 0; i < dane->count; i++) {
        const struct tls_dane_record *r = &dane->records[i];
        if (SSL_dane_tlsa_add(ssl, r->usage, r->selector, r->mtype, r->data, r->len) > 0)
            usable++;
    }
    ERR_clear_error();    /* unusable records leave errors behind */
    return usable > 0;
}

SSL *tls_client_ssl(SSL_CTX *ctx, const char *host, bool check_name, const struct tls_dane *dane,
                    struct tls_check *check, char *err, size_t errlen)
{
    memset(check, 0, sizeof *check);
    ERR_clear_error();
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL) {
        tls_client_error(err, errlen, "out of memory");
        return NULL;
    }
    bool ip = is_ip(host), ok = SSL_set_ex_data(ssl, check_index, check) == 1;
    if (ok && !ip && *host)
        ok = SSL_set_tlsext_host_name(ssl, host) == 1;
    if (ok && dane && dane->count > 0) {
        if (!set_dane(ssl, host, dane)) {
            snprintf(err, errlen, "no usable TLSA record");
            SSL_free(ssl);
            return NULL;
        }
        check->dane = check->name_checked = true;
    } else if (ok && check_name && *host) {
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1
                : X509_VERIFY_PARAM_set1_host(param, host, 0) == 1;
        check->name_checked = ok;
    }
    if (!ok) {
        tls_client_error(err, errlen, "cannot set up the TLS session");
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_verify(ssl, SSL_VERIFY_NONE, on_verify);
    return ssl;
}

enum tls_trust tls_client_trust(SSL *ssl, const struct tls_check *check)
{
    if (SSL_get0_peer_certificate(ssl) == NULL)
        return TLS_ANONYMOUS;
    if (check->chain_bad || (SSL_get_verify_result(ssl) != X509_V_OK && !check->name_bad))
        return TLS_UNTRUSTED;
    if (check->dane)
        return !check->name_bad && SSL_get0_dane_authority(ssl, NULL, NULL) >= 0
                   ? TLS_VERIFIED : TLS_UNTRUSTED;
    if (!check->name_checked || check->name_bad)
        return TLS_TRUSTED;
    return TLS_VERIFIED;
}

const char *tls_trust_name(enum tls_trust trust)
{
    static const char *const names[] = { "Anonymous", "Untrusted", "Trusted", "Verified" };
    return names[trust];
}

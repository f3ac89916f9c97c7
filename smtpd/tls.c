/* tls.c: smtpd's TLS server context, set up once before the jail from smtpd_tls_cert_file and
 * smtpd_tls_key_file with Mozilla's "intermediate" profile (v5.7), and the one-line summary of
 * a session's protocol and cipher that the log and the Received: header show. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "tls.h"

/* Mozilla intermediate v5.7; TLS 1.3 keeps OpenSSL's default suites, as the profile says. */
#define TLS_CIPHERS_12 \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
#define TLS_GROUPS "X25519:prime256v1:secp384r1"
#define TLS_SESSION_ID_CONTEXT "tern/smtpd"

/* Puts "what: reason" in err, the reason being the first OpenSSL error queued (the root cause;
 * later entries only say which call failed), and empties the queue for the next caller. */
static void tls_error(char *err, size_t errlen, const char *what)
{
    unsigned long code = ERR_get_error();
    char reason[256] = "unknown error";
    if (code != 0)
        ERR_error_string_n(code, reason, sizeof reason);
    ERR_clear_error();
    if (errlen > 0)
        snprintf(err, errlen, "%s: %s", what, reason);
}

static void tls_errorf(char *err, size_t errlen, const char *what, const char *path)
{
    char text[1200];
    snprintf(text, sizeof text, "%s %s", what, path);
    tls_error(err, errlen, text);
}

/* Protocols, ciphers, groups and options; false with err when OpenSSL refuses one of them. */
static bool tls_set_profile(SSL_CTX *ctx, char *err, size_t errlen)
{
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
        tls_error(err, errlen, "cannot limit the protocols to TLS 1.2 and 1.3");
        return false;
    }
    if (!SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12)) {
        tls_error(err, errlen, "cannot set the TLS 1.2 cipher list");
        return false;
    }
    if (!SSL_CTX_set1_groups_list(ctx, TLS_GROUPS)) {
        tls_error(err, errlen, "cannot set the key exchange groups " TLS_GROUPS);
        return false;
    }
    /* The DHE suites need parameters; automatic ones match the key size (2048 bits or more). */
    SSL_CTX_set_dh_auto(ctx, 1);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    /* intermediate lets the client choose: every suite on the list is strong */
    SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    return true;
}

static bool tls_load_keys(SSL_CTX *ctx, const char *cert_file, const char *key_file,
                          char *err, size_t errlen)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        tls_errorf(err, errlen, "cannot load the certificate chain", cert_file);
        return false;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        tls_errorf(err, errlen, "cannot load the private key", key_file);
        return false;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        char what[1200];
        snprintf(what, sizeof what, "the private key %s does not match the certificate %s",
                 key_file, cert_file);
        tls_error(err, errlen, what);
        return false;
    }
    return true;
}

/* Resumption (session cache and tickets) saves clients a full handshake on reconnection. */
static bool tls_set_sessions(SSL_CTX *ctx, char *err, size_t errlen)
{
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    if (!SSL_CTX_set_session_id_context(ctx, (const unsigned char *)TLS_SESSION_ID_CONTEXT,
                                        sizeof TLS_SESSION_ID_CONTEXT - 1)) {
        tls_error(err, errlen, "cannot set the session id context");
        return false;
    }
    return true;
}

SSL_CTX *tls_server_context(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
    if (cert_file == NULL || *cert_file == '\0' || key_file == NULL || *key_file == '\0') {
        if (errlen > 0)
            snprintf(err, errlen, "smtpd_tls_cert_file and smtpd_tls_key_file must both be set");
        return NULL;
    }
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        tls_error(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    if (!tls_set_profile(ctx, err, errlen) || !tls_load_keys(ctx, cert_file, key_file, err, errlen) ||
        !tls_set_sessions(ctx, err, errlen)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

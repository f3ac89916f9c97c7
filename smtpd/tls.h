/* tls.h: smtpd's TLS server context (OpenSSL 3): the certificate and key of
 * smtpd_tls_cert_file/smtpd_tls_key_file, TLS 1.2 and 1.3 only, Mozilla's "intermediate"
 * cipher list, server cipher preference off (as intermediate says), no compression, no
 * renegotiation, session tickets on. Built in pre_jail (the key may be readable by root only). */
#ifndef TERN_TLS_H
#define TERN_TLS_H
#include <stddef.h>
#include <openssl/ssl.h>

/* NULL with a reason in err when the files are missing or invalid (the caller decides whether
 * that is fatal: it is when smtpd_tls_security_level is may/encrypt or wrappermode is on). */
SSL_CTX *tls_server_context(const char *cert_file, const char *key_file, char *err, size_t errlen);

#endif

/* tls_summary.h: one line that says how a TLS connection is protected, the same for the server
 * (smtpd: its log lines, the Received: header, the queue file's tls attribute) and the client
 * (smtp: its log lines): "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)". */
#ifndef TERN_TLS_SUMMARY_H
#define TERN_TLS_SUMMARY_H
#include <stddef.h>
#include <openssl/ssl.h>

/* "no TLS session" before a handshake (or for NULL); cut to size, NUL-terminated. */
void tls_summary(SSL *ssl, char *out, size_t size);

#endif

/* tls_summary.c: the protocol and cipher of a TLS connection as one line (tls_summary.h). */
#include <stdio.h>
#include "tls_summary.h"

void tls_summary(SSL *ssl, char *out, size_t size)
{
    if (size == 0)
        return;
    const SSL_CIPHER *cipher = ssl != NULL ? SSL_get_current_cipher(ssl) : NULL;
    if (cipher == NULL) {
        snprintf(out, size, "no TLS session");
        return;
    }
    int alg_bits = 0;
    int bits = SSL_CIPHER_get_bits(cipher, &alg_bits);
    snprintf(out, size, "%s with cipher %s (%d/%d bits)", SSL_get_version(ssl),
             SSL_CIPHER_get_name(cipher), bits, alg_bits);
}

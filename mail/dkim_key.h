/* dkim_key.h: DKIM keys. The public key record a verifier fetches from
 * SELECTOR._domainkey.DOMAIN (RFC 6376 section 3.6.1, k=ed25519 of RFC 8463, the RFC 8301
 * size rule), read into a struct dkim_key; the record to publish for a key (`tern dkim
 * keygen`); a signer's private key from PEM, and a new key pair. */
#ifndef TERN_MAIL_DKIM_KEY_H
#define TERN_MAIL_DKIM_KEY_H
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "dkim.h"

enum dkim_key_type {
    DKIM_KEY_RSA,
    DKIM_KEY_ED25519,
};

#define DKIM_KEY_RECORD_MAX 8192    /* a key record's text: the TXT strings joined */
#define DKIM_KEY_PEM_MAX 65536      /* a private key file */

struct dkim_key {
    enum dkim_key_type type;        /* k=, rsa when absent */
    EVP_PKEY *pkey;                 /* from p=; owned (dkim_key_free) */
    int bits;                       /* the key's size (RSA: the modulus) */
    bool sha1_ok, sha256_ok;        /* h=, both when absent */
    bool testing;                   /* t=y */
    bool strict;                    /* t=s: the domain of i= must be d= itself */
};

/* Reads the key record txt[0..len) (the strings of the TXT record joined). 0 with *key filled
 * (free it with dkim_key_free), or -1 with *result and the reason in err: DKIM_PERMERROR for a
 * syntax error, v= other than DKIM1 or not first, a missing p=, an unknown k=, a key that does
 * not decode or is not of type k=, s= without email or *; DKIM_FAIL for an empty p= ("key
 * revoked") and an RSA key under 1024 bits ("RSA key too short"). An RSA p= is a
 * SubjectPublicKeyInfo, or a bare RSAPublicKey as some publish; an ed25519 p= the 32 bytes of
 * the key. */
int dkim_key_parse(const char *txt, size_t len, struct dkim_key *key, enum dkim_result *result,
                   char *err, size_t errlen);

void dkim_key_free(struct dkim_key *key);

/* Appends the record to publish for pkey (public or private: its public half), "v=DKIM1;
 * k=rsa; p=..." or "v=DKIM1; k=ed25519; p=...", on one line. -1 for another type of key or
 * when out's bound is reached. */
int dkim_key_record(EVP_PKEY *pkey, struct buf *out);

/* A private key from PEM text pem[0..len) (PKCS#8 "PRIVATE KEY", also the traditional "RSA
 * PRIVATE KEY"): RSA of 1024 to 8192 bits, or Ed25519. NULL with err set otherwise. */
EVP_PKEY *dkim_key_private_pem(const char *pem, size_t len, char *err, size_t errlen);

/* dkim_key_private_pem of the file path (at most DKIM_KEY_PEM_MAX bytes). */
EVP_PKEY *dkim_key_private_file(const char *path, char *err, size_t errlen);

/* A new key pair: RSA of bits bits (1024-8192), or Ed25519 (bits ignored); NULL on failure. */
EVP_PKEY *dkim_key_generate(enum dkim_key_type type, int bits);

/* Appends pkey's private key as PKCS#8 PEM to out. -1 on failure. */
int dkim_key_private_to_pem(EVP_PKEY *pkey, struct buf *out);

/* The type of pkey, or -1 when DKIM has none for it. */
int dkim_key_type_of(EVP_PKEY *pkey);

#endif

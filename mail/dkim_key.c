/* dkim_key.c: the key record reader and the key helpers of dkim_key.h, on OpenSSL 3's EVP
 * interface (RSA and Ed25519 alike). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "base64.h"
#include "dkim_key.h"
#include "dkim_tags.h"

#define KEY_DER_MAX 2048   /* p= decoded: an 8192 bit RSA SubjectPublicKeyInfo is ~1060 */

static int key_error(enum dkim_result *result, enum dkim_result r, char *err, size_t errlen,
                     const char *what)
{
    *result = r;
    return dkim_reason(err, errlen, "%s", what);
}

/* Whether the ':' list v[0..n) (white space around items) has item s (without regard to
 * case). */
static bool list_has(const char *v, size_t n, const char *s)
{
    size_t sl = strlen(s), i = 0;
    while (i <= n) {
        size_t start = i;
        while (i < n && v[i] != ':')
            i++;
        size_t a = start, b = i;
        while (a < b && strchr(" \t\r\n", v[a]))
            a++;
        while (b > a && strchr(" \t\r\n", v[b - 1]))
            b--;
        if (b - a == sl && strncasecmp(v + a, s, sl) == 0)
            return true;
        i++;
    }
    return false;
}

int dkim_key_type_of(EVP_PKEY *pkey)
{
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        return DKIM_KEY_RSA;
    case EVP_PKEY_ED25519:
        return DKIM_KEY_ED25519;
    default:
        return -1;
    }
}

/* p= of an RSA key: SubjectPublicKeyInfo, else a bare RSAPublicKey (PKCS#1) */
static EVP_PKEY *rsa_public(const unsigned char *der, size_t n)
{
    const unsigned char *q = der;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &q, (long)n);
    if (pkey == NULL || q != der + n) {
        EVP_PKEY_free(pkey);
        q = der;
        pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)n);
        if (pkey != NULL && q != der + n) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    if (pkey != NULL && EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    return pkey;
}

static int read_public(const struct dkim_tags *t, const struct dkim_tag *p, struct dkim_key *key,
                       enum dkim_result *result, char *err, size_t errlen)
{
    unsigned char der[KEY_DER_MAX];
    if (p->value_len == 0)
        return key_error(result, DKIM_FAIL, err, errlen, "key revoked");
    long n = base64_decode(t->p + p->value, p->value_len, der, sizeof der, true);
    if (n <= 0)
        return key_error(result, DKIM_PERMERROR, err, errlen, "bad p= tag");
    if (key->type == DKIM_KEY_ED25519)
        key->pkey = n == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, 32)
                            : NULL;
    else
        key->pkey = rsa_public(der, (size_t)n);
    if (key->pkey == NULL)
        return key_error(result, DKIM_PERMERROR, err, errlen, "key syntax error");
    key->bits = EVP_PKEY_get_bits(key->pkey);
    if (key->type == DKIM_KEY_RSA && key->bits < DKIM_RSA_MIN_BITS)
        return key_error(result, DKIM_FAIL, err, errlen, "RSA key too short");
    if (key->type == DKIM_KEY_RSA && key->bits > DKIM_RSA_MAX_BITS)
        return key_error(result, DKIM_PERMERROR, err, errlen, "RSA key too long");
    return 0;
}

static int read_record(const char *txt, size_t len, struct dkim_key *key,
                       enum dkim_result *result, char *err, size_t errlen)
{
    struct dkim_tags t;
    if (len > DKIM_KEY_RECORD_MAX)
        return key_error(result, DKIM_PERMERROR, err, errlen, "key record too long");
    if (dkim_tags_parse(txt, len, &t, err, errlen) < 0) {
        *result = DKIM_PERMERROR;
        return -1;
    }
    const struct dkim_tag *tag = dkim_tags_find(&t, "v");
    if (tag && (tag != &t.tag[0] || tag->value_len != 5 ||
                memcmp(txt + tag->value, "DKIM1", 5) != 0))
        return key_error(result, DKIM_PERMERROR, err, errlen, "bad key record version");
    if ((tag = dkim_tags_find(&t, "k"))) {
        if (dkim_tag_value_is(&t, tag, "rsa"))
            key->type = DKIM_KEY_RSA;
        else if (dkim_tag_value_is(&t, tag, "ed25519"))
            key->type = DKIM_KEY_ED25519;
        else
            return key_error(result, DKIM_PERMERROR, err, errlen, "unknown key type");
    }
    key->sha1_ok = key->sha256_ok = true;
    if ((tag = dkim_tags_find(&t, "h"))) {
        key->sha1_ok = list_has(txt + tag->value, tag->value_len, "sha1");
        key->sha256_ok = list_has(txt + tag->value, tag->value_len, "sha256");
    }
    if ((tag = dkim_tags_find(&t, "s")) && !list_has(txt + tag->value, tag->value_len, "*") &&
        !list_has(txt + tag->value, tag->value_len, "email"))
        return key_error(result, DKIM_PERMERROR, err, errlen, "key not for email");
    if ((tag = dkim_tags_find(&t, "t"))) {
        key->testing = list_has(txt + tag->value, tag->value_len, "y");
        key->strict = list_has(txt + tag->value, tag->value_len, "s");
    }
    if ((tag = dkim_tags_find(&t, "p")) == NULL)
        return key_error(result, DKIM_PERMERROR, err, errlen, "key record without p=");
    return read_public(&t, tag, key, result, err, errlen);
}

int dkim_key_parse(const char *txt, size_t len, struct dkim_key *key, enum dkim_result *result,
                   char *err, size_t errlen)
{
    memset(key, 0, sizeof *key);
    if (read_record(txt, len, key, result, err, errlen) < 0) {
        dkim_key_free(key);
        return -1;
    }
    return 0;
}

void dkim_key_free(struct dkim_key *key)
{
    EVP_PKEY_free(key->pkey);
    key->pkey = NULL;
}

int dkim_key_record(EVP_PKEY *pkey, struct buf *out)
{
    unsigned char der[KEY_DER_MAX];
    size_t n = sizeof der;
    int type = dkim_key_type_of(pkey);
    if (type == DKIM_KEY_ED25519) {
        if (EVP_PKEY_get_raw_public_key(pkey, der, &n) != 1)
            return -1;
    } else if (type == DKIM_KEY_RSA) {
        int len = i2d_PUBKEY(pkey, NULL);
        if (len <= 0 || (size_t)len > sizeof der)
            return -1;
        unsigned char *q = der;
        n = (size_t)i2d_PUBKEY(pkey, &q);
    } else {
        return -1;
    }
    char b64[BASE64_LEN(KEY_DER_MAX) + 1];
    base64_encode(der, n, b64);
    return buf_printf(out, "v=DKIM1; k=%s; p=%s", type == DKIM_KEY_RSA ? "rsa" : "ed25519", b64);
}

/* An encrypted key is refused rather than have OpenSSL ask for a passphrase on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

EVP_PKEY *dkim_key_private_pem(const char *pem, size_t len, char *err, size_t errlen)
{
    if (len > DKIM_KEY_PEM_MAX) {
        dkim_reason(err, errlen, "private key: file too large");
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    if (pkey == NULL) {
        dkim_reason(err, errlen, "private key: no PEM private key");
        return NULL;
    }
    int type = dkim_key_type_of(pkey), bits = EVP_PKEY_get_bits(pkey);
    if (type < 0 || (type == DKIM_KEY_RSA && (bits < DKIM_RSA_MIN_BITS ||
                                              bits > DKIM_RSA_MAX_BITS))) {
        dkim_reason(err, errlen, "private key: not RSA (%d-%d bits) or Ed25519",
                    DKIM_RSA_MIN_BITS, DKIM_RSA_MAX_BITS);
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return pkey;
}

EVP_PKEY *dkim_key_private_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        dkim_reason(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct buf text;
    buf_init(&text, DKIM_KEY_PEM_MAX);
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        if (buf_append(&text, chunk, (size_t)n) < 0) {
            n = -2;
            break;
        }
    int saved = errno;
    close(fd);
    EVP_PKEY *pkey = NULL;
    if (n == -1)
        dkim_reason(err, errlen, "%s: %s", path, strerror(saved));
    else if (n == -2)
        dkim_reason(err, errlen, "%s: larger than %d bytes", path, DKIM_KEY_PEM_MAX);
    else if ((pkey = dkim_key_private_pem(text.data, text.len, err, errlen)) == NULL && err)
        dkim_reason(err, errlen, "%s: not an RSA or Ed25519 private key in PEM", path);
    buf_free(&text);
    return pkey;
}

EVP_PKEY *dkim_key_generate(enum dkim_key_type type, int bits)
{
    if (type == DKIM_KEY_ED25519)
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (bits < DKIM_RSA_MIN_BITS || bits > DKIM_RSA_MAX_BITS)
        return NULL;
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

int dkim_key_private_to_pem(EVP_PKEY *pkey, struct buf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    int rc = -1;
    if (bio && PEM_write_bio_PKCS8PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1) {
        long n = BIO_get_mem_data(bio, &data);
        rc = n > 0 ? buf_append(out, data, (size_t)n) : -1;
    }
    BIO_free(bio);
    return rc;
}

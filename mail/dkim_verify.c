/* dkim_verify.c: the signature check of dkim_verify.h: the key fits the signature (6.1.2),
 * the body hash matches bh=, then the header data (dkim_canon_signed_header) against b=:
 * RSASSA-PKCS1-v1_5 SHA-256, or Ed25519 over the SHA-256 of the data (RFC 8463 section 3). */
#include <string.h>
#include "dkim_verify.h"

enum dkim_hash dkim_alg_hash(enum dkim_alg alg)
{
    return alg == DKIM_ALG_RSA_SHA1 ? DKIM_HASH_SHA1 : DKIM_HASH_SHA256;
}

static enum dkim_result result(enum dkim_result r, char *reason, size_t reasonlen,
                               const char *what)
{
    dkim_reason(reason, reasonlen, "%s", what);
    return r;
}

/* Whether the key may check sig (RFC 6376 6.1.2 and 3.6.1): NULL, or why not. */
static const char *key_unfit(const struct dkim_signature *sig, const struct dkim_key *key)
{
    bool ed = sig->alg == DKIM_ALG_ED25519_SHA256;
    if (key->pkey == NULL || key->type != (ed ? DKIM_KEY_ED25519 : DKIM_KEY_RSA) ||
        dkim_key_type_of(key->pkey) != (int)key->type)
        return "key type does not match a=";
    if (!key->sha256_ok)
        return "hash not allowed by key";
    if (key->strict && strcmp(sig->identity_domain, sig->domain) != 0)
        return "i= domain is not d= (key t=s)";
    return NULL;
}

static bool body_fits(const struct dkim_signature *sig, const struct dkim_body_hash *body)
{
    return body != NULL && body->digest_len > 0 && body->canon == sig->body_canon &&
           body->hash == dkim_alg_hash(sig->alg) && body->has_limit == sig->has_length &&
           (!sig->has_length || body->limit == sig->length);
}

static bool signature_ok(const struct dkim_signature *sig, EVP_PKEY *pkey, const struct buf *data)
{
    unsigned char digest[32];
    const unsigned char *msg = (const unsigned char *)data->data;
    size_t n = data->len;
    const EVP_MD *md = EVP_sha256();
    if (sig->alg == DKIM_ALG_ED25519_SHA256) {
        if (EVP_Digest(data->data, data->len, digest, NULL, EVP_sha256(), NULL) != 1)
            return false;
        msg = digest;
        n = sizeof digest;
        md = NULL;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) == 1 &&
              EVP_DigestVerify(ctx, sig->b, sig->b_len, msg, n) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

enum dkim_result dkim_verify(const struct dkim_signature *sig, const char *header, size_t len,
                             const char *sig_field, size_t sig_len,
                             const struct dkim_body_hash *body, const struct dkim_key *key,
                             char *reason, size_t reasonlen)
{
    if (sig->alg == DKIM_ALG_RSA_SHA1)
        return result(DKIM_FAIL, reason, reasonlen, "rsa-sha1 not accepted");
    const char *unfit = key_unfit(sig, key);
    if (unfit)
        return result(DKIM_PERMERROR, reason, reasonlen, unfit);
    if (!body_fits(sig, body))
        return result(DKIM_PERMERROR, reason, reasonlen, "body hash of another kind given");
    if (body->digest_len != sig->bh_len || memcmp(body->digest, sig->bh, sig->bh_len) != 0)
        return result(DKIM_FAIL, reason, reasonlen, "body hash did not verify");
    struct buf data;
    /* canonical fields are at most the header with a CR more per line, the names at most
     * DKIM_HEADERS_MAX fields */
    buf_init(&data, 2 * (len + sig_len) + 2 * DKIM_HEADERS_MAX + 16);
    bool ok = dkim_canon_signed_header(header, len,
                                       (const char (*)[DKIM_FIELD_NAME_MAX])sig->headers,
                                       sig->header_count, sig->header_canon, sig_field, sig_len,
                                       &data) == 0 &&
              signature_ok(sig, key->pkey, &data);
    buf_free(&data);
    if (!ok)
        return result(DKIM_FAIL, reason, reasonlen, "signature did not verify");
    return result(DKIM_PASS, reason, reasonlen, "");
}

size_t dkim_body_kinds(const struct dkim_signature *sigs, size_t n, struct dkim_body_kind *kinds,
                       size_t *which)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        which[i] = DKIM_BODY_NONE;
        if (sigs[i].alg == DKIM_ALG_RSA_SHA1)
            continue;
        struct dkim_body_kind k = { sigs[i].body_canon, dkim_alg_hash(sigs[i].alg),
                                    sigs[i].has_length, sigs[i].has_length ? sigs[i].length : 0 };
        size_t j = 0;
        while (j < count && !(kinds[j].canon == k.canon && kinds[j].hash == k.hash &&
                              kinds[j].has_limit == k.has_limit && kinds[j].limit == k.limit))
            j++;
        if (j == count)
            kinds[count++] = k;
        which[i] = j;
    }
    return count;
}

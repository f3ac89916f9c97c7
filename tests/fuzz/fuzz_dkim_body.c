/* fuzz_dkim_body.c: libFuzzer target for the streamed DKIM body hash (mail/dkim_canon.c). The
 * first byte picks the canonicalization, the hash and an l= limit (from the second byte); the
 * rest is the body. Whatever it is, fed in one chunk, byte by byte and in chunks cut where the
 * input says, it gives the same digest and the same canonical length; and that length stays
 * within what canonicalization can make of the body. */
#include <string.h>
#include "dkim_canon.h"
#include "fuzz_check.h"

static void hash(const char *body, size_t n, int how, unsigned seed, enum dkim_canon c,
                 enum dkim_hash h, bool limited, unsigned long long limit,
                 struct dkim_body_hash *bh)
{
    dkim_body_hash_init(bh, c, h, limited, limit);
    size_t at = 0;
    while (at < n) {
        seed = seed * 1103515245 + 12345;
        size_t step = how == 0 ? n - at : how == 1 ? 1 : 1 + seed % 17;
        if (step > n - at)
            step = n - at;
        dkim_body_hash_feed(bh, body + at, step);
        at += step;
    }
    dkim_body_hash_final(bh);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    enum dkim_canon c = (data[0] & 1) ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE;
    enum dkim_hash h = (data[0] & 2) ? DKIM_HASH_SHA1 : DKIM_HASH_SHA256;
    bool limited = (data[0] & 4) != 0;
    unsigned long long limit = data[1];
    const char *body = (const char *)data + 2;
    size_t n = size - 2;
    struct dkim_body_hash ref, other;
    hash(body, n, 0, 0, c, h, limited, limit, &ref);
    FUZZ_CHECK(ref.digest_len == (h == DKIM_HASH_SHA1 ? 20u : 32u));
    /* each byte at most doubles (an LF becomes CRLF); an empty body is CRLF for simple */
    FUZZ_CHECK(ref.length <= 2 * (unsigned long long)n + 2);
    FUZZ_CHECK(c == DKIM_CANON_RELAXED || ref.length >= 2);
    for (int how = 1; how <= 2; how++) {
        hash(body, n, how, data[0], c, h, limited, limit, &other);
        FUZZ_CHECK(other.length == ref.length);
        FUZZ_CHECK(memcmp(other.digest, ref.digest, ref.digest_len) == 0);
        dkim_body_hash_free(&other);
    }
    dkim_body_hash_free(&ref);
    return 0;
}

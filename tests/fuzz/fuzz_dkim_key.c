/* fuzz_dkim_key.c: libFuzzer target for the DKIM key record reader (mail/dkim_key.c). The
 * input is a key record's text. Whatever it is: a refused record leaves no key and gives
 * PERMERROR or FAIL with a reason; a key read is of its type with a usable size (RSA 1024-8192
 * bits), and the record tern writes for it reads back to the same key. */
#include <string.h>
#include "buf.h"
#include "dkim_key.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char input[DKIM_KEY_RECORD_MAX + 16];
    size_t n = size < sizeof input ? size : sizeof input;
    memcpy(input, data, n);
    struct dkim_key key;
    enum dkim_result r = DKIM_PASS;
    char err[256] = "";
    if (dkim_key_parse(input, n, &key, &r, err, sizeof err) < 0) {
        FUZZ_CHECK(key.pkey == NULL && (r == DKIM_PERMERROR || r == DKIM_FAIL));
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(n <= DKIM_KEY_RECORD_MAX);
    FUZZ_CHECK(key.pkey != NULL && dkim_key_type_of(key.pkey) == (int)key.type);
    FUZZ_CHECK(key.type == DKIM_KEY_ED25519 ||
               (key.bits >= DKIM_RSA_MIN_BITS && key.bits <= DKIM_RSA_MAX_BITS));
    struct buf rec;
    buf_init(&rec, DKIM_KEY_RECORD_MAX);
    FUZZ_CHECK(dkim_key_record(key.pkey, &rec) == 0);
    struct dkim_key again;
    FUZZ_CHECK(dkim_key_parse(rec.data, rec.len, &again, &r, err, sizeof err) == 0);
    FUZZ_CHECK(again.type == key.type && EVP_PKEY_eq(again.pkey, key.pkey) == 1);
    dkim_key_free(&again);
    buf_free(&rec);
    dkim_key_free(&key);
    return 0;
}

/* fuzz_spf_macro.c: libFuzzer target for mail/spf_macro.c. The first byte picks the use
 * (domain-spec or explanation) and the output size; the rest is the macro string. Whatever it
 * is, the check and the expansion agree on whether it is valid, the output is a string within
 * its size (nothing written past it), a valid string expands to text without '%{', and a name
 * made to fit is 253 characters at most and a right part of what it was. */
#include <string.h>
#include "fuzz_check.h"
#include "spf_macro.h"

static const struct spf_macro_values values = {
    .s = "a-b+c@x.mail.example", .l = "a-b+c", .o = "x.mail.example", .d = "mail.example",
    .i = "192.0.2.1", .p = "unknown", .v = "in-addr", .h = "helo.example", .c = "192.0.2.1",
    .r = "rcv.example", .t = "1700000000",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    enum spf_macro_use use = (data[0] & 1) ? SPF_MACRO_EXPLANATION : SPF_MACRO_DOMAIN;
    size_t outsize = 1 + (data[0] >> 1) * 8;   /* 1 .. 1017 */
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    char err[256], out[SPF_MACRO_OUT_MAX + 16];
    memset(out, 'z', sizeof out);
    int valid = spf_macro_check(s, len, use, NULL, err, sizeof err);
    int rc = spf_macro_expand(s, len, use, &values, out, outsize, err, sizeof err);
    FUZZ_CHECK(memchr(out, '\0', outsize) != NULL);
    for (size_t i = outsize; i < sizeof out; i++)
        FUZZ_CHECK(out[i] == 'z');
    if (valid != 0)
        FUZZ_CHECK(rc == -1);
    if (rc == 0) {
        FUZZ_CHECK(valid == 0);
        char before[SPF_MACRO_OUT_MAX + 16];
        strcpy(before, out);
        spf_macro_fit_name(out);
        size_t n = strlen(out), b = strlen(before);
        if (b > 0 && before[b - 1] == '.')
            b--;
        FUZZ_CHECK(n <= 253 && n <= b && memcmp(before + b - n, out, n) == 0);
    }
    return 0;
}

/* fuzz_dkim_signing.c: libFuzzer target for mail/dkim_signing_parse.c, the values of the DKIM
 * signing table. Whatever the input: a value read has 1 to DKIM_SIGNING_SELECTORS_MAX items,
 * each a valid selector (no two alike) and a KEYFILE without separators, all within their
 * arrays; written back as "SEL:FILE, SEL:FILE" it reads as the same items (a round trip); a
 * KEYFILE resolves within the given size or fails. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "dkim_signing.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dkim_signing_ref refs[DKIM_SIGNING_SELECTORS_MAX];
    static struct dkim_signing_ref again[DKIM_SIGNING_SELECTORS_MAX];
    static char joined[DKIM_SIGNING_SELECTORS_MAX *
                       (DKIM_SELECTOR_MAX + DKIM_SIGNING_KEYFILE_MAX + 3)];
    char err[256];
    size_t n = 99;
    err[0] = '\0';
    if (dkim_signing_parse((const char *)data, size, refs, &n, err, sizeof err) < 0) {
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof err) != NULL);
        return 0;
    }
    FUZZ_CHECK(n >= 1 && n <= DKIM_SIGNING_SELECTORS_MAX);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const struct dkim_signing_ref *r = &refs[i];
        FUZZ_CHECK(memchr(r->selector, '\0', sizeof r->selector) != NULL);
        FUZZ_CHECK(memchr(r->keyfile, '\0', sizeof r->keyfile) != NULL);
        FUZZ_CHECK(dkim_signing_selector_ok(r->selector, strlen(r->selector)));
        FUZZ_CHECK(r->keyfile[0] != '\0' &&
                   strcspn(r->keyfile, ", \t\r\n") == strlen(r->keyfile));
        for (size_t k = 0; k < i; k++)
            FUZZ_CHECK(strcasecmp(refs[k].selector, r->selector) != 0);
        len += (size_t)snprintf(joined + len, sizeof joined - len, "%s%s:%s", i ? ", " : "",
                                r->selector, r->keyfile);
        char path[64];
        if (dkim_signing_path("/etc/tern", r->keyfile, path, sizeof path) == 0)
            FUZZ_CHECK(strlen(path) < sizeof path && strstr(path, r->keyfile) != NULL);
    }
    size_t m = 0;
    FUZZ_CHECK(dkim_signing_parse(joined, len, again, &m, err, sizeof err) == 0 && m == n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(strcmp(again[i].selector, refs[i].selector) == 0 &&
                   strcmp(again[i].keyfile, refs[i].keyfile) == 0);
    return 0;
}

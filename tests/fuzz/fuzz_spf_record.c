/* fuzz_spf_record.c: libFuzzer target for mail/spf_record.c. The input is a TXT record's text.
 * Whatever it is, the parser gives 0 or -1 with a reason; on success every span lies inside
 * the copied text, the counts and CIDR lengths are within their bounds, every domain-spec
 * passes the macro check, and parsing the copy again gives the same terms. */
#include <string.h>
#include "fuzz_check.h"
#include "spf_macro.h"
#include "spf_record.h"

static struct spf_record a, b;

static void check_span(const struct spf_record *r, struct spf_span s)
{
    FUZZ_CHECK((size_t)s.off + s.len <= r->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    err[0] = '\0';
    int rc = spf_record_parse((const char *)data, size, &a, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
    if (rc != 0) {
        FUZZ_CHECK(err[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(spf_record_is_spf1((const char *)data, size) && a.len == size);
    FUZZ_CHECK(a.ndirectives <= SPF_TERMS_MAX);
    for (size_t i = 0; i < a.ndirectives; i++) {
        const struct spf_directive *d = &a.directives[i];
        check_span(&a, d->term);
        FUZZ_CHECK(d->cidr4 <= 32 && d->cidr6 <= 128);
        FUZZ_CHECK(strchr("+-~?", d->qualifier) && d->qualifier);
        if (d->has_domain) {
            check_span(&a, d->domain);
            FUZZ_CHECK(spf_macro_check(a.text + d->domain.off, d->domain.len,
                                       SPF_MACRO_DOMAIN, NULL, err, sizeof err) == 0);
        }
    }
    if (a.has_redirect)
        check_span(&a, a.redirect);
    if (a.has_exp)
        check_span(&a, a.exp);
    FUZZ_CHECK(spf_record_parse(a.text, a.len, &b, err, sizeof err) == 0);
    FUZZ_CHECK(b.ndirectives == a.ndirectives && b.has_exp == a.has_exp &&
               b.has_redirect == a.has_redirect);
    FUZZ_CHECK(memcmp(a.directives, b.directives, a.ndirectives * sizeof a.directives[0]) == 0);
    return 0;
}

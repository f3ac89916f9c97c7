/* fuzz_params.c: libFuzzer target for the ESMTP MAIL/RCPT parameter parsers and xtext: accepted
 * values respect their bounds and value sets, and xtext decoding inverts encoding. */
#include <stdbool.h>
#include <string.h>
#include "fuzz_check.h"
#include "smtp_parse.h"
#include "xtext.h"

static void check_printable(const char *s, size_t max)
{
    size_t n = strlen(s);
    FUZZ_CHECK(n <= max);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(s[i] >= 32 && s[i] <= 126);
}

static void check_mail(const char *s, size_t size)
{
    struct mail_params m;
    char why[ERR_TEXT_MAX] = "";
    memset(&m, 0x5A, sizeof m);
    int r = smtp_parse_mail_params(s, size, &m, why, sizeof why);
    FUZZ_CHECK(memchr(m.envid, '\0', sizeof m.envid) && memchr(m.auth, '\0', sizeof m.auth));
    if (r < 0) {
        FUZZ_CHECK(r == -1 && why[0] != '\0');
        return;
    }
    FUZZ_CHECK(r == 0);
    FUZZ_CHECK(!m.has_size ? m.size == 0 : m.size >= 0);
    FUZZ_CHECK(m.body >= BODY_NONE && m.body <= BODY_BINARYMIME);
    FUZZ_CHECK(m.ret >= RET_NONE && m.ret <= RET_HDRS);
    check_printable(m.envid, SMTP_ENVID_MAX);
    FUZZ_CHECK(m.has_auth ? m.auth[0] != '\0' : m.auth[0] == '\0');
    for (const unsigned char *u = (const unsigned char *)m.auth; *u; u++)
        FUZZ_CHECK(*u >= 32 && *u != 127);
}

static void check_rcpt(const char *s, size_t size)
{
    struct rcpt_params p;
    char why[ERR_TEXT_MAX] = "";
    memset(&p, 0x5A, sizeof p);
    int r = smtp_parse_rcpt_params(s, size, &p, why, sizeof why);
    FUZZ_CHECK(memchr(p.orcpt_type, '\0', sizeof p.orcpt_type));
    FUZZ_CHECK(memchr(p.orcpt, '\0', sizeof p.orcpt));
    if (r < 0) {
        FUZZ_CHECK(r == -1 && why[0] != '\0');
        return;
    }
    FUZZ_CHECK(r == 0);
    FUZZ_CHECK((p.notify & ~15u) == 0);
    FUZZ_CHECK(!(p.notify & NOTIFY_NEVER) || p.notify == NOTIFY_NEVER);
    FUZZ_CHECK((p.orcpt_type[0] == '\0') == (p.orcpt[0] == '\0'));
    check_printable(p.orcpt, SMTP_ORCPT_MAX);
}

/* decode(encode(x)) == x for any bytes; canonical xtext re-encodes to itself */
static void check_xtext(const char *s, size_t size)
{
    static char enc[3 * 4096 + 1], dec[4096 + 1], dec2[4096 + 1];
    if (size > 4096)
        return;
    int e = xtext_encode(s, size, enc, sizeof enc);
    FUZZ_CHECK(e >= (int)size && e <= 3 * (int)size && enc[e] == '\0');
    FUZZ_CHECK(xtext_encode(s, size, enc, (size_t)e) == -1);
    int d = xtext_decode(enc, (size_t)e, dec, sizeof dec);
    FUZZ_CHECK(d == (int)size && memcmp(dec, s, size) == 0 && dec[d] == '\0');
    d = xtext_decode(s, size, dec, sizeof dec);
    if (d < 0)
        return;
    FUZZ_CHECK((size_t)d <= size && dec[d] == '\0');
    FUZZ_CHECK(xtext_decode(s, size, dec2, (size_t)d) == -1);
    e = xtext_encode(dec, (size_t)d, enc, sizeof enc);
    FUZZ_CHECK(e >= 0);
    FUZZ_CHECK(xtext_decode(enc, (size_t)e, dec2, sizeof dec2) == d);
    FUZZ_CHECK(memcmp(dec, dec2, (size_t)d) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    check_mail(s, size);
    check_rcpt(s, size);
    check_xtext(s, size);
    return 0;
}

/* fuzz_dmarc_record.c: libFuzzer target for mail/dmarc_record.c. The first byte picks what the
 * rest is: a DMARC record (dmarc_record_parse), a From: field value (dmarc_from_domain), or TXT
 * records separated by newlines (dmarc_record_pick). Whatever it is, results are in range,
 * strings end inside their arrays, a record parsed has a policy and values within their
 * bounds, the parse agrees with dmarc_record_is_dmarc, a From domain is folded and a domain
 * name, and the record picked is the only DMARC record. */
#include <stdbool.h>
#include <string.h>
#include "dmarc_record.h"
#include "errtext.h"
#include "fuzz_check.h"

static bool terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

static void check_record(const char *text, size_t len)
{
    static struct dmarc_record r;
    char err[ERR_TEXT_MAX];
    memset(&r, 0x5a, sizeof r);
    err[0] = '\0';
    int rc = dmarc_record_parse(text, len, &r, err, sizeof err);
    FUZZ_CHECK(rc >= -1 && rc <= 1);
    FUZZ_CHECK((rc != 0) == dmarc_record_is_dmarc(text, len));
    FUZZ_CHECK(rc != -1 || err[0] != '\0');
    if (rc != 1)
        return;
    FUZZ_CHECK(len <= DMARC_RECORD_MAX);
    FUZZ_CHECK(r.p >= DMARC_POLICY_NONE && r.p <= DMARC_POLICY_REJECT);
    FUZZ_CHECK(r.sp >= DMARC_POLICY_UNSET && r.sp <= DMARC_POLICY_REJECT);
    FUZZ_CHECK(r.np >= DMARC_POLICY_UNSET && r.np <= DMARC_POLICY_REJECT);
    FUZZ_CHECK(r.adkim == DMARC_ALIGN_RELAXED || r.adkim == DMARC_ALIGN_STRICT);
    FUZZ_CHECK(r.aspf == DMARC_ALIGN_RELAXED || r.aspf == DMARC_ALIGN_STRICT);
    FUZZ_CHECK(r.pct >= 0 && r.pct <= 100);
    FUZZ_CHECK(terminated(r.fo, sizeof r.fo) && terminated(r.rua, sizeof r.rua) &&
               terminated(r.ruf, sizeof r.ruf));
    FUZZ_CHECK(!r.p_defaulted || (r.p == DMARC_POLICY_NONE && r.rua[0] != '\0'));
}

static void check_from(const char *text, size_t len)
{
    char domain[DMARC_DOMAIN_MAX];
    memset(domain, 0x5a, sizeof domain);
    enum dmarc_from f = dmarc_from_domain(text, len, domain);
    FUZZ_CHECK(f >= DMARC_FROM_OK && f <= DMARC_FROM_BAD);
    FUZZ_CHECK(terminated(domain, sizeof domain));
    FUZZ_CHECK(dmarc_from_text(f)[0] != '\0');
    size_t n = strlen(domain);
    if (f != DMARC_FROM_OK) {
        FUZZ_CHECK(n == 0);
        return;
    }
    FUZZ_CHECK(n > 0 && n <= 253 && domain[0] != '.' && domain[n - 1] != '.');
    FUZZ_CHECK(strstr(domain, "..") == NULL);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(!(domain[i] >= 'A' && domain[i] <= 'Z') && (unsigned char)domain[i] > ' ');
}

static void check_pick(const char *text, size_t len)
{
    const char *texts[8];
    size_t lens[8], count = 0;
    for (const char *p = text, *e = text + len; count < 8;) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        texts[count] = p;
        lens[count++] = (size_t)((nl ? nl : e) - p);
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    size_t index = 99, dmarc = 0;
    for (size_t i = 0; i < count; i++)
        dmarc += dmarc_record_is_dmarc(texts[i], lens[i]);
    int rc = dmarc_record_pick(texts, lens, count, &index);
    FUZZ_CHECK(rc == (dmarc == 1));
    if (rc == 1)
        FUZZ_CHECK(index < count && dmarc_record_is_dmarc(texts[index], lens[index]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    switch (data[0] % 3) {
    case 0: check_record(text, size - 1); break;
    case 1: check_from(text, size - 1); break;
    default: check_pick(text, size - 1); break;
    }
    return 0;
}

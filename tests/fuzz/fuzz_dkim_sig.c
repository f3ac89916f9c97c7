/* fuzz_dkim_sig.c: libFuzzer target for the DKIM tag list and DKIM-Signature readers
 * (mail/dkim_tags.c, mail/dkim_sig.c). The input is a DKIM-Signature field value. Whatever it
 * is: tag offsets lie inside the input, in order, each name once; a signature read has its
 * bounds kept (h= count, decoded sizes, NUL-terminated names, i= within d=) and From in h=, a
 * refused one a result and a reason; the field with b= emptied is no longer than the field,
 * keeps every byte before b='s value, and emptying it again changes nothing. */
#include <string.h>
#include <strings.h>
#include "buf.h"
#include "dkim_sig.h"
#include "dkim_tags.h"
#include "fuzz_check.h"

static void check_tags(const char *p, size_t n)
{
    static struct dkim_tags t;
    if (dkim_tags_parse(p, n, &t, NULL, 0) < 0)
        return;
    FUZZ_CHECK(t.p == p && t.n <= DKIM_TAGS_MAX);
    size_t prev_end = 0;
    for (size_t k = 0; k < t.n; k++) {
        const struct dkim_tag *g = &t.tag[k];
        FUZZ_CHECK(k == 0 || g->name > prev_end);
        FUZZ_CHECK(g->name_len > 0 && g->name_len <= DKIM_TAG_NAME_MAX);
        FUZZ_CHECK(g->name + g->name_len <= g->eq && p[g->eq] == '=');
        FUZZ_CHECK(g->eq < g->value && g->value + g->value_len <= g->end && g->end <= n);
        FUZZ_CHECK(g->end == n || p[g->end] == ';');
        char name[DKIM_TAG_NAME_MAX + 1];
        memcpy(name, p + g->name, g->name_len);
        name[g->name_len] = '\0';
        FUZZ_CHECK(dkim_tags_find(&t, name) == g);
        prev_end = g->end;
    }
}

static void check_signature(const char *p, size_t n)
{
    static struct dkim_signature sig;
    enum dkim_result r = DKIM_PASS;
    char err[256] = "";
    if (dkim_sig_parse(p, n, 1000000000LL, &sig, &r, err, sizeof err) < 0) {
        FUZZ_CHECK(r == DKIM_PERMERROR || r == DKIM_FAIL);
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof err) != NULL);
        return;
    }
    FUZZ_CHECK(sig.header_count >= 1 && sig.header_count <= DKIM_HEADERS_MAX);
    bool from = false;
    for (size_t k = 0; k < sig.header_count; k++) {
        FUZZ_CHECK(memchr(sig.headers[k], '\0', DKIM_FIELD_NAME_MAX) != NULL);
        FUZZ_CHECK(sig.headers[k][0] != '\0' && strchr(sig.headers[k], ':') == NULL);
        from |= strcasecmp(sig.headers[k], "from") == 0;
    }
    FUZZ_CHECK(from);
    FUZZ_CHECK(sig.bh_len >= 1 && sig.bh_len <= DKIM_DIGEST_MAX);
    FUZZ_CHECK(sig.b_len >= 1 && sig.b_len <= DKIM_SIG_MAX);
    FUZZ_CHECK(sig.domain[0] != '\0' && memchr(sig.domain, '\0', DKIM_DOMAIN_MAX) != NULL);
    for (const char *d = sig.domain; *d; d++)
        FUZZ_CHECK(!(*d >= 'A' && *d <= 'Z'));
    const char *at = strrchr(sig.identity, '@');
    FUZZ_CHECK(at != NULL && strcmp(at + 1, sig.identity_domain) == 0);
    size_t il = strlen(sig.identity_domain), dl = strlen(sig.domain);
    FUZZ_CHECK(il >= dl && strcmp(sig.identity_domain + il - dl, sig.domain) == 0);
    FUZZ_CHECK(!sig.has_expiry || !sig.has_timestamp || sig.expiry >= sig.timestamp);
}

static void check_without_b(const char *p, size_t n)
{
    static char field[4200];
    memcpy(field, "DKIM-Signature:", 15);
    memcpy(field + 15, p, n);
    size_t len = 15 + n;
    struct buf once, twice;
    buf_init(&once, BUF_UNBOUNDED);
    buf_init(&twice, BUF_UNBOUNDED);
    if (dkim_sig_without_b(field, len, &once) == 0) {
        FUZZ_CHECK(once.len <= len);
        struct dkim_tags t;
        FUZZ_CHECK(dkim_tags_parse(once.data + 15, once.len - 15, &t, NULL, 0) == 0);
        const struct dkim_tag *b = dkim_tags_find(&t, "b");
        FUZZ_CHECK(b != NULL && b->value_len == 0);
        FUZZ_CHECK(memcmp(once.data, field, 15 + b->eq + 1) == 0);
        FUZZ_CHECK(dkim_sig_without_b(once.data, once.len, &twice) == 0);
        FUZZ_CHECK(twice.len == once.len && memcmp(twice.data, once.data, once.len) == 0);
    } else {
        FUZZ_CHECK(once.len == 0);
    }
    buf_free(&once);
    buf_free(&twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char input[4096];
    size_t n = size < sizeof input ? size : sizeof input;
    memcpy(input, data, n);
    check_tags(input, n);
    check_signature(input, n);
    check_without_b(input, n);
    return 0;
}

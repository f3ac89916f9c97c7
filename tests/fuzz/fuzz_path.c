/* fuzz_path.c: libFuzzer target for smtp_parse_path under its four flag combinations: what it
 * accepts stays inside the input and the output arrays, obeys the RFC 5321 bounds, carries no
 * control bytes, reads the same under looser flags, and parses again to the same address. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include "fuzz_check.h"
#include "smtp_parse.h"

static bool terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

static void check_text(const char *s, bool utf8)
{
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        FUZZ_CHECK(*u >= 32 && *u != 127);
        FUZZ_CHECK(utf8 || *u < 128);
    }
}

static void check_accepted(const uint8_t *data, size_t size, int r, bool allow_null,
                           bool allow_bare, const struct smtp_address *a)
{
    FUZZ_CHECK(r >= 2 && (size_t)r <= size);
    FUZZ_CHECK(data[0] == '<' && data[r - 1] == '>');
    FUZZ_CHECK((size_t)r - 2 <= SMTP_PATH_MAX);
    FUZZ_CHECK(terminated(a->local, sizeof a->local) && terminated(a->domain, sizeof a->domain));
    FUZZ_CHECK(terminated(a->address, sizeof a->address));
    FUZZ_CHECK(strlen(a->address) <= SMTP_PATH_MAX && strlen(a->domain) <= SMTP_DOMAIN_MAX);
    check_text(a->address, a->utf8);
    if (a->null) {
        FUZZ_CHECK(allow_null && r == 2 && a->address[0] == '\0');
        return;
    }
    FUZZ_CHECK(a->local[0] != '\0');
    if (a->domain[0] == '\0') {
        FUZZ_CHECK(allow_bare && strcasecmp(a->local, "postmaster") == 0);
        FUZZ_CHECK(strcmp(a->address, a->local) == 0);
        return;
    }
    size_t l = strlen(a->local);
    FUZZ_CHECK(strncmp(a->address, a->local, l) == 0 && a->address[l] == '@');
    FUZZ_CHECK(strcmp(a->address + l + 1, a->domain) == 0);
    FUZZ_CHECK(a->quoted == (a->local[0] == '"'));
    FUZZ_CHECK(a->literal == (a->domain[0] == '['));
}

/* "<address>" parses to the same address (the source route, if any, dropped) */
static void check_reparse(const struct smtp_address *a, bool allow_bare)
{
    char buf[SMTP_PATH_MAX + 3];
    struct smtp_address b;
    char why[ERR_TEXT_MAX] = "";
    size_t n = strlen(a->address);
    buf[0] = '<';
    memcpy(buf + 1, a->address, n);
    buf[n + 1] = '>';
    FUZZ_CHECK(smtp_parse_path(buf, n + 2, false, allow_bare, &b, why, sizeof why) == (int)n + 2);
    FUZZ_CHECK(strcmp(b.address, a->address) == 0 && strcmp(b.local, a->local) == 0);
    FUZZ_CHECK(strcmp(b.domain, a->domain) == 0 && !b.source_route);
    FUZZ_CHECK(b.utf8 == a->utf8 || (a->source_route && !b.utf8));   /* 8-bit route dropped */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct smtp_address a[4];
    int r[4];
    for (int f = 0; f < 4; f++) {
        bool allow_null = f & 1, allow_bare = f & 2;
        char why[ERR_TEXT_MAX] = "";
        memset(&a[f], 0x5A, sizeof a[f]);
        r[f] = smtp_parse_path(s, size, allow_null, allow_bare, &a[f], why, sizeof why);
        if (r[f] < 0) {
            FUZZ_CHECK(r[f] == -1 && why[0] != '\0');
            continue;
        }
        check_accepted(data, size, r[f], allow_null, allow_bare, &a[f]);
        if (!a[f].null)
            check_reparse(&a[f], allow_bare);
    }
    /* looser flags accept whatever stricter ones did, with the same result */
    for (int f = 0; f < 4; f++)
        for (int g = 0; g < 4; g++)
            if ((f & g) == f && r[f] >= 0) {
                FUZZ_CHECK(r[g] == r[f]);
                FUZZ_CHECK(memcmp(&a[g], &a[f], sizeof a[f]) == 0);
            }
    return 0;
}

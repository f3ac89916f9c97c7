/* fuzz_address.c: libFuzzer target for mail/address.c. The first byte says how many of the next
 * ones (0-3) are recipient_delimiter; the rest, up to a NUL, is the address. Whatever it is,
 * every output stays inside its array and ends in a NUL, the parts are folded and shorter than
 * the address, the extension and keys follow from the parts, and an address written back by
 * address_join splits to the same parts again (split then rejoin is stable). */
#include <stdbool.h>
#include <string.h>
#include "address.h"
#include "fuzz_check.h"

static bool terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

static bool has_upper(const char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            return true;
    return false;
}

static void check_parts(const struct mail_address *a, size_t address_len)
{
    FUZZ_CHECK(terminated(a->local, sizeof a->local) && terminated(a->domain, sizeof a->domain));
    size_t ln = strlen(a->local), dn = strlen(a->domain);
    FUZZ_CHECK(ln + dn + (dn > 0) <= address_len);
    FUZZ_CHECK(!has_upper(a->local) && !has_upper(a->domain));
    FUZZ_CHECK(dn <= 1 || a->domain[dn - 1] != '.');
}

static void check_extension(const struct mail_address *a, const char *delims)
{
    const char *d = address_extension(a->local, delims);
    if (d == NULL)
        return;
    FUZZ_CHECK(d > a->local && d < a->local + strlen(a->local));
    FUZZ_CHECK(delims[0] != '\0' && strchr(delims, *d) != NULL);
    FUZZ_CHECK(strcspn(a->local + 1, delims) == (size_t)(d - a->local - 1));
}

static void check_keys(const struct mail_address *a, const char *delims)
{
    static char keys[ADDRESS_KEYS_MAX][ADDRESS_KEY_MAX];
    char key[ADDRESS_KEY_MAX];
    address_key(a, key);
    FUZZ_CHECK(terminated(key, sizeof key));
    for (int which = ADDRESS_KEYS_ADDRESS; which <= ADDRESS_KEYS_LOCAL; which++) {
        memset(keys, 0x5a, sizeof keys);
        int n = address_lookup_keys(a, delims, which, keys);
        FUZZ_CHECK(n >= 1 && n <= (which == ADDRESS_KEYS_LOCAL ? 2 : ADDRESS_KEYS_MAX));
        for (int i = 0; i < n; i++)
            FUZZ_CHECK(terminated(keys[i], sizeof keys[i]));
        FUZZ_CHECK(strcmp(keys[0], which == ADDRESS_KEYS_LOCAL ? a->local : key) == 0);
        if (which == ADDRESS_KEYS_ADDRESS && a->domain[0] && a->local[0])
            FUZZ_CHECK(keys[n - 1][0] == '@' && strcmp(keys[n - 1] + 1, a->domain) == 0);
    }
}

/* address_join writes what splits back to a; too small a buffer gets "" and nothing past it */
static void check_join(const struct mail_address *a, size_t small)
{
    static char out[3 * ADDRESS_MAX + 8];
    memset(out, 0x5a, sizeof out);
    FUZZ_CHECK(address_join(a, out, 3 * ADDRESS_MAX) == 0);
    size_t n = strlen(out);
    struct mail_address b;
    if (n >= ADDRESS_MAX) {
        FUZZ_CHECK(address_split(out, &b) == -1);
    } else {
        FUZZ_CHECK(address_split(out, &b) == 0);
        FUZZ_CHECK(strcmp(a->local, b.local) == 0 && strcmp(a->domain, b.domain) == 0);
    }
    small %= n + 2;
    memset(out, 0x5a, sizeof out);
    int rc = address_join(a, out, small);
    FUZZ_CHECK(rc == (small > n ? 0 : -1));
    if (small > 0)
        FUZZ_CHECK(strlen(out) == (rc == 0 ? n : 0));
    for (size_t i = small; i < sizeof out; i++)
        FUZZ_CHECK(out[i] == 0x5a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char input[4 * ADDRESS_MAX];
    char delims[4] = "";
    if (size == 0)
        return 0;
    size_t nd = data[0] % 4;
    if (size < 1 + nd)
        return 0;
    memcpy(delims, data + 1, nd);
    size_t n = size - 1 - nd < sizeof input - 1 ? size - 1 - nd : sizeof input - 1;
    memcpy(input, data + 1 + nd, n);
    input[n] = '\0';
    size_t len = strlen(input);

    struct mail_address a;
    memset(&a, 0x5a, sizeof a);
    int rc = address_split(input, &a);
    if (len >= ADDRESS_MAX) {
        FUZZ_CHECK(rc == -1 && a.local[0] == '\0' && a.domain[0] == '\0');
        return 0;
    }
    FUZZ_CHECK(rc == 0);
    const char *at = address_at(input);
    FUZZ_CHECK(at == NULL || *at == '@');
    FUZZ_CHECK(at != NULL || a.domain[0] == '\0');
    check_parts(&a, len);
    check_extension(&a, delims);
    check_keys(&a, delims);
    check_join(&a, (size_t)data[0] * 7);
    return 0;
}

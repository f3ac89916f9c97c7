/* fuzz_srs.c: libFuzzer target for mail/srs_address.c, the SRS address parser srs_reverse
 * uses. The input, up to a NUL, is an address. Whatever it is, the result is 0, 1 or -1, it
 * agrees with srs_address_is_srs, every field ends inside its array, and an address taken
 * apart is written back to the same text ("SRS0"/"SRS1" in upper case); the stamp decodes. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include "fuzz_check.h"
#include "srs_address.h"

static bool terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char input[2 * SRS_ADDRESS_MAX];
    static struct srs_address a;
    char out[SRS_ADDRESS_MAX];
    size_t n = size < sizeof input - 1 ? size : sizeof input - 1;
    memcpy(input, data, n);
    input[n] = '\0';
    memset(&a, 0x5a, sizeof a);
    int rc = srs_address_parse(input, &a);
    int version = -1;
    bool srs = srs_address_is_srs(input, &version);
    FUZZ_CHECK(rc == 0 || rc == 1 || rc == -1);
    FUZZ_CHECK((rc != 0) == srs);
    if (rc != 1)
        return 0;
    FUZZ_CHECK(a.version == version);
    FUZZ_CHECK(terminated(a.hash, sizeof a.hash) && terminated(a.stamp, sizeof a.stamp) &&
               terminated(a.domain, sizeof a.domain) && terminated(a.local, sizeof a.local) &&
               terminated(a.at, sizeof a.at));
    FUZZ_CHECK(a.hash[0] && a.domain[0] && a.local[0] && strchr(a.domain, '=') == NULL);
    if (a.version == 0) {
        int day = srs_stamp_decode(a.stamp);
        FUZZ_CHECK(day >= 0 && day < 1024);
        char again[3];
        srs_stamp_encode((unsigned long)day, again);
        FUZZ_CHECK(strcasecmp(again, a.stamp) == 0);
    }
    FUZZ_CHECK(srs_address_format(&a, out, sizeof out) == 0);
    FUZZ_CHECK(strncasecmp(out, input, 4) == 0 && strcmp(out + 4, input + 4) == 0);
    FUZZ_CHECK(srs_address_format(&a, out, strlen(input)) == -1 && out[0] == '\0');
    return 0;
}

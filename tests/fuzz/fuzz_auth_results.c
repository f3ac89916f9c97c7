/* fuzz_auth_results.c: libFuzzer target for mail/auth_results.c. The input is an
 * Authentication-Results field value: its authserv-id is read (within bounds, non-empty, and
 * found again by auth_results_is_ours); then its first line is used as an authserv-id, a
 * property value and a reason to write a field, which must succeed unless the text has a
 * control character, keep every line end where a fold is, and give the same authserv-id back
 * when read (a round trip through quoting). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "auth_results.h"
#include "errtext.h"
#include "fuzz_check.h"

static void check_read(const char *value, size_t len)
{
    char id[AUTH_RESULTS_ID_MAX];
    unsigned version = 12345;
    memset(id, 0x5a, sizeof id);
    int rc = auth_results_authserv_id(value, len, id, sizeof id, &version);
    FUZZ_CHECK(rc == 0 || rc == 1);
    FUZZ_CHECK(memchr(id, '\0', sizeof id) != NULL);
    FUZZ_CHECK(rc == 1 ? id[0] != '\0' : id[0] == '\0');
    FUZZ_CHECK(version <= 999999999);
    if (rc == 1)
        FUZZ_CHECK(auth_results_is_ours(value, len, id));
}

/* every CR is a line end, each followed by a tab (a fold) or the end */
static void check_lines(const char *s, size_t n)
{
    FUZZ_CHECK(n >= 2 && s[n - 2] == '\r' && s[n - 1] == '\n');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r')
            FUZZ_CHECK(s[i + 1] == '\n' && (i + 2 == n || s[i + 2] == '\t'));
        else if (s[i] == '\n')
            FUZZ_CHECK(i > 0 && s[i - 1] == '\r');
        else
            FUZZ_CHECK(s[i] != '\0');
    }
}

static void check_compose(const char *value, size_t len)
{
    char text[AUTH_RESULTS_ID_MAX - 8];
    const char *nl = memchr(value, '\n', len);
    size_t n = nl ? (size_t)(nl - value) : len;
    n = n < sizeof text - 1 ? n : sizeof text - 1;
    memcpy(text, value, n);
    text[n] = '\0';
    n = strlen(text);   /* a NUL ends it */
    bool ctl = false;
    for (size_t i = 0; i < n; i++)
        ctl |= (unsigned char)text[i] < 0x20 || text[i] == 0x7f;
    struct auth_results_method m = { "spf", "pass", text, { { "smtp.mailfrom", text } }, 1 };
    struct buf out;
    char err[ERR_TEXT_MAX];
    buf_init(&out, 4096);
    int rc = auth_results_compose(text, &m, 1, "\r\n", &out, err, sizeof err);
    if (ctl || n == 0) {
        FUZZ_CHECK(rc == -1 && out.len == 0);
        buf_free(&out);
        return;
    }
    FUZZ_CHECK(rc == 0);
    check_lines(out.data, out.len);
    const char *prefix = "Authentication-Results:";
    FUZZ_CHECK(strncmp(out.data, prefix, strlen(prefix)) == 0);
    char id[AUTH_RESULTS_ID_MAX];
    unsigned version;
    const char *v = out.data + strlen(prefix);
    FUZZ_CHECK(auth_results_authserv_id(v, out.len - strlen(prefix), id, sizeof id, &version)
               == 1);
    FUZZ_CHECK(strcmp(id, text) == 0);
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_read((const char *)data, size);
    check_compose((const char *)data, size);
    return 0;
}

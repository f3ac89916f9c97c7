/* fuzz_command.c: libFuzzer target for smtp_parse_command and smtp_parse_helo: any line splits
 * into a verb and arguments that lie inside it, and HELO arguments parse to 0 or -1 + reason. */
#include <string.h>
#include "fuzz_check.h"
#include "smtp_parse.h"

static void check_helo(const char *s, size_t len)
{
    char why[ERR_TEXT_MAX] = "";
    int r = smtp_parse_helo(s, len, why, sizeof why);
    FUZZ_CHECK(r == 0 || r == -1);
    if (r == 0) {
        FUZZ_CHECK(len > 0 && len <= SMTP_DOMAIN_MAX);
        FUZZ_CHECK(memchr(s, '\0', len) == NULL && memchr(s, ' ', len) == NULL);
    } else {
        FUZZ_CHECK(why[0] != '\0');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    struct smtp_command cmd;
    smtp_parse_command(line, size, &cmd);
    FUZZ_CHECK(cmd.verb >= SMTP_HELO && cmd.verb <= SMTP_UNKNOWN);
    FUZZ_CHECK(cmd.args != NULL && cmd.args_len <= size);
    if (cmd.args_len == 0) {
        FUZZ_CHECK(cmd.args[0] == '\0');
    } else {
        FUZZ_CHECK(cmd.args > line && cmd.args + cmd.args_len <= line + size);
        FUZZ_CHECK(cmd.args[-1] == ' ' && cmd.args[0] != ' ');
        FUZZ_CHECK(cmd.args[cmd.args_len - 1] != ' ' && cmd.args[cmd.args_len - 1] != '\t');
    }
    if (cmd.verb != SMTP_UNKNOWN)
        FUZZ_CHECK(cmd.args_len == 0 || cmd.args - line >= 5);
    check_helo(line, size);
    if (cmd.verb == SMTP_HELO || cmd.verb == SMTP_EHLO)
        check_helo(cmd.args, cmd.args_len);
    return 0;
}

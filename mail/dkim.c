/* dkim.c: what the DKIM modules share (dkim.h): the RFC 8601 result words and the reason
 * text a failing check gives. */
#include <stdarg.h>
#include <stdio.h>
#include "dkim.h"

const char *dkim_result_word(enum dkim_result r)
{
    static const char *const words[] = { "pass", "fail", "neutral", "temperror", "permerror",
                                         "policy" };
    return (unsigned)r < sizeof words / sizeof words[0] ? words[r] : "permerror";
}

int dkim_reason(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

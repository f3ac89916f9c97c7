/* errtext.c: filling a caller's error buffer (errtext.h). */
#include <stdarg.h>
#include <stdio.h>
#include "errtext.h"

void errtext_setf(char *err, size_t errlen, const char *kind, const char *subject,
                  const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    int n = snprintf(err, errlen, "%s %s: ", kind, subject);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* exitcode.c: the sysexits table of exitcode.h. */
#include "exitcode.h"

#include <sys/wait.h>

static const struct {
    int code;
    enum delivery_status status;
    const char *dsn;
    const char *text;
} table[] = {
    { 64, DELIVERY_BOUNCE, "5.3.0", "command line usage error" },
    { 65, DELIVERY_BOUNCE, "5.6.0", "data format error" },
    { 66, DELIVERY_BOUNCE, "5.3.0", "cannot open input" },
    { 67, DELIVERY_BOUNCE, "5.1.1", "user unknown" },
    { 68, DELIVERY_BOUNCE, "5.1.2", "host name unknown" },
    { 69, DELIVERY_BOUNCE, "5.3.0", "service unavailable" },
    { 70, DELIVERY_BOUNCE, "5.3.0", "internal software error" },
    { 71, DELIVERY_DEFER, "4.3.0", "system resource problem" },
    { 72, DELIVERY_BOUNCE, "5.3.0", "critical OS file missing" },
    { 73, DELIVERY_BOUNCE, "5.2.0", "cannot create output file" },
    { 74, DELIVERY_DEFER, "4.3.0", "input/output error" },
    { 75, DELIVERY_DEFER, "4.3.0", "temporary failure" },
    { 76, DELIVERY_BOUNCE, "5.5.0", "remote error in protocol" },
    { 77, DELIVERY_BOUNCE, "5.7.1", "permission denied" },
    { 78, DELIVERY_BOUNCE, "5.3.5", "local configuration error" },
};

void exitcode_meaning(int wait_status, struct exit_meaning *m)
{
    if (!WIFEXITED(wait_status)) {
        m->status = DELIVERY_DEFER;
        m->dsn = "4.3.0";
        m->text = "killed by a signal";
        return;
    }
    int code = WEXITSTATUS(wait_status);
    if (code == 0) {
        m->status = DELIVERY_SENT;
        m->dsn = "2.0.0";
        m->text = "";
        return;
    }
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].code == code) {
            m->status = table[i].status;
            m->dsn = table[i].dsn;
            m->text = table[i].text;
            return;
        }
    }
    m->status = DELIVERY_BOUNCE;
    m->dsn = "5.3.0";
    m->text = "unknown error";
}

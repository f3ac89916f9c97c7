/* ipc_evbuffer.c: reading IPC messages (ipc.h) from a libevent input buffer, for the processes
 * that talk on an event loop (qmgr, the smtp agent): one whole message at a time off the front
 * of the buffer, so the bytes of the next one stay there for the next call. */
#include <event2/buffer.h>
#include <stdio.h>
#include "ipc.h"

int ipc_evbuffer_take(struct evbuffer *in, size_t max, struct ipc_msg *m, char *err,
                      size_t errlen)
{
    size_t len = evbuffer_get_length(in), used = 0;
    if (len == 0)
        return 0;
    int rc = ipc_decode((const char *)evbuffer_pullup(in, -1), len, max, m, &used, err, errlen);
    if (rc > 0) {
        evbuffer_drain(in, used);
        return 1;
    }
    /* the decoder refuses a length prefix over max, so an unfinished message is always
     * shorter; the bound is checked here as well so that no peer can make the buffer grow */
    if (rc == 0 && len < max)
        return 0;
    if (rc == 0)
        snprintf(err, errlen, "message too large");
    return -1;
}

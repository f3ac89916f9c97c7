/* delivery_agent.h: the agent's side of qmgr's deliver request (delivery_proto.h) for the
 * agents that serve one request at a time, each to its end, on a connection qmgr keeps (local
 * and virtual, through server_serve_kept): read the request, refuse a malformed one, deliver,
 * answer, and keep the connection for the next request unless the process is stopping. */
#ifndef TERN_DELIVERY_AGENT_H
#define TERN_DELIVERY_AGENT_H
#include <stdbool.h>
#include <stddef.h>
#include "delivery_proto.h"

/* Fills reply's results, one per recipient of req (all "defer 4.3.0" until set). */
typedef void (*delivery_fn)(const struct delivery_request *req, struct delivery_reply *reply);

/* Serves one request on fd: reads it (at most request_max bytes, within io_ms), answers a
 * malformed one with status=fail, else has deliver fill the reply and sends it (within io_ms)
 * with keep=1 unless server_stopping(). Failures are logged. Whether the connection stays
 * open for the next request: what server_serve_kept's callback returns. */
bool delivery_agent_serve(int fd, size_t request_max, int io_ms, delivery_fn deliver);

#endif

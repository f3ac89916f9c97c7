/* spf_check.h: an SPF check (spf.h) run over the resolver (dns.h): its look-ups one after
 * another in the event loop, never blocking it, the whole check bounded in time. */
#ifndef TERN_SPF_CHECK_H
#define TERN_SPF_CHECK_H
#include "dns.h"
#include "spf.h"

/* Checks in (copied: it need not outlive the call). cb gets the outcome (valid during the
 * call) later in the loop thread, never before spf_check returns: after timeout_ms it is
 * temperror (or, when only fail's explanation was still being fetched, fail without it). A
 * request spf_new refuses (ip not an address, strings too long) gives none with the reason.
 * The handle may be cancelled with dns_cancel until cb runs (cb is then never called). */
struct dns_req *spf_check(struct dns *d, const struct spf_request *in, int timeout_ms,
                          void (*cb)(void *arg, const struct spf_outcome *o), void *arg);

#endif

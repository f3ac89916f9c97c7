/* dns.h: asynchronous DNS look-ups with libunbound, driven by a libevent loop. The resolver
 * reads /etc/resolv.conf and /etc/hosts when it is opened (before privileges are dropped or a
 * chroot), answers the loopback zones itself, and every look-up has a time limit. */
#ifndef TERN_DNS_H
#define TERN_DNS_H
#include <stddef.h>

struct event_base;
struct dns;
struct dns_req;

/* Reads the resolver configuration (before a chroot). NULL with a reason in err. */
struct dns *dns_open(char *err, size_t errlen);
/* Starts answering on base (after privileges are dropped). */
void dns_attach(struct dns *d, struct event_base *base);

/* The verified name of a client address (numeric IPv4 or IPv6): the PTR name whose A/AAAA
 * records include the address again (forward confirmation, as Postfix does). cb gets the name,
 * or NULL for "unknown" (no PTR, no confirmation, an error or timeout_ms passed); it runs later
 * in the loop thread, never before dns_client_name returns. The request handle may be cancelled
 * until then (cb is then never called). */
struct dns_req *dns_client_name(struct dns *d, const char *address, int timeout_ms,
                                void (*cb)(void *arg, const char *name), void *arg);
void dns_cancel(struct dns_req *r);

#endif

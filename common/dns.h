/* dns.h: asynchronous DNS look-ups with libunbound, driven by a libevent loop. The resolver
 * reads /etc/resolv.conf and /etc/hosts when it is opened (before privileges are dropped or a
 * chroot), or sends every query to dns_server when that parameter is set (then only that server
 * answers: no resolv.conf, no /etc/hosts); it answers the loopback zones itself, and every
 * look-up has a time limit. Answers are DNSSEC-validated ("secure") only when a root trust
 * anchor file is installed (Debian: dns-root-data); without one nothing is secure. */
#ifndef TERN_DNS_H
#define TERN_DNS_H
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct dns;
struct dns_req;

/* Reads the resolver configuration (before a chroot). NULL with a reason in err. */
struct dns *dns_open(char *err, size_t errlen);
/* Starts answering on base (after privileges are dropped). */
void dns_attach(struct dns *d, struct event_base *base);
/* Frees the resolver (NULL is fine); every request must have ended or been cancelled. */
void dns_close(struct dns *d);

/* The verified name of a client address (numeric IPv4 or IPv6): the PTR name whose A/AAAA
 * records include the address again (forward confirmation, as Postfix does). cb gets the name,
 * or NULL for "unknown" (no PTR, no confirmation, an error or timeout_ms passed); it runs later
 * in the loop thread, never before dns_client_name returns. The request handle may be cancelled
 * until then (cb is then never called). A finished answer (name or "unknown", not an error or
 * a timeout) is kept for the smallest TTL of its records, at most an hour, in a table of
 * DNS_NAME_CACHE addresses, so a client that comes back costs no look-up. */
struct dns_req *dns_client_name(struct dns *d, const char *address, int timeout_ms,
                                void (*cb)(void *arg, const char *name), void *arg);
/* A kept answer of dns_client_name for address, at once: true with the name in name[0..size)
 * ("" for "unknown"), false when a look-up is needed. */
bool dns_client_name_kept(struct dns *d, const char *address, char *name, size_t size);
/* Ends a request of any kind before its callback ran: the callback is never called, and
 * everything the request holds (queries still running too) is freed. From inside the
 * request's own callback it does nothing (the request ends when the callback returns). */
void dns_cancel(struct dns_req *r);

/* ---- one question, any type (SPF, DKIM, DMARC) ---- */

/* How a query ended. Bogus (DNSSEC failure) answers, SERVFAIL, REFUSED and time-outs are
 * TEMP. */
enum dns_rc { DNS_RC_OK, DNS_RC_NODATA, DNS_RC_NXDOMAIN, DNS_RC_TEMP };

#define DNS_LOOKUP_RECORDS_MAX 100   /* records kept from one answer (count may say more) */
#define DNS_TXT_MAX 4096             /* bytes kept of one TXT record's strings together */
#define DNS_TXT_STRINGS_MAX 64       /* strings kept of one TXT record */
#define DNS_HOST_MAX 256             /* a host name in text with its NUL */

struct dns_txt_string {
    size_t offset, len;              /* where the string is in its record's text */
};

/* One record of an answer, by the asked type: A and AAAA: addr (addrlen 4 or 16); MX:
 * preference and host ("" for a null MX); PTR, CNAME: host; TXT: text, the record's strings
 * joined with nothing between them, NUL-terminated but possibly holding NULs (textlen says
 * how long), and strings, where each string is in text. Host names are in presentation format
 * (see dns_wire_name_text in dns_impl.h), case as the server gave it. cut: the record was
 * longer than DNS_TXT_MAX or had more than DNS_TXT_STRINGS_MAX strings, and was cut there. */
struct dns_record {
    unsigned char addr[16];
    size_t addrlen;
    int preference;
    char host[DNS_HOST_MAX];
    const char *text;
    size_t textlen;
    const struct dns_txt_string *strings;
    size_t nstrings;
    bool cut;
};

/* An answer: rc, and for OK the records (CNAMEs followed as unbound follows them: these are
 * the records of the asked type at the end of the chain). count is how many records the answer
 * held (records of other types and malformed ones not counted); at most
 * DNS_LOOKUP_RECORDS_MAX of them are in records (nrecords). ttl: the answer's, in seconds. */
struct dns_records {
    enum dns_rc rc;
    int type;
    bool secure;
    int ttl;
    size_t count;
    size_t nrecords;
    const struct dns_record *records;
};

/* Looks up name (presentation format, a final dot optional) of rrtype (1 A, 28 AAAA, 15 MX,
 * 12 PTR, 16 TXT, 5 CNAME; other types answer rc and count only). cb gets the answer, valid
 * during the call, later in the loop thread, never before dns_lookup returns; after timeout_ms
 * it gets DNS_RC_TEMP. The handle may be cancelled with dns_cancel until cb runs. */
struct dns_req *dns_lookup(struct dns *d, const char *name, int rrtype, int timeout_ms,
                           void (*cb)(void *arg, const struct dns_records *r), void *arg);

/* A job: a request made of other requests run one after another by its owner (SPF runs its
 * look-ups so), with a handle the owner's caller can cancel with dns_cancel like any other.
 * on_event(arg, false) runs from the loop after each dns_job_wake; on_event(arg, true) when
 * timeout_ms has passed (once). dns_cancel calls on_cancel(arg), which must end whatever the
 * owner runs and free its state, then frees the handle. The owner ends the job itself with
 * dns_job_end: deliver(arg) runs (dns_cancel does nothing meanwhile: the owner's caller may
 * cancel from its callback), then the handle is freed (on_cancel not called). */
struct dns_req *dns_job(struct dns *d, int timeout_ms, void (*on_event)(void *arg, bool timeout),
                        void (*on_cancel)(void *arg), void *arg);
void dns_job_wake(struct dns_req *r);
void dns_job_end(struct dns_req *r, void (*deliver)(void *arg), void *arg);

/* ---- where mail for a domain goes (the smtp client) ---- */

#include <stdbool.h>
#include <sys/socket.h>

struct dns_target {
    char host[256];                  /* the MX host name, or the domain/host itself */
    int preference;                  /* MX preference; 0 without MX */
    struct sockaddr_storage addr;    /* with the port filled in */
    socklen_t addrlen;
    bool secure;                     /* the MX (when looked up) and the address answers were
                                      * DNSSEC-validated (for DANE) */
};

enum dns_mx_status { DNS_MX_OK, DNS_MX_TEMP, DNS_MX_PERM };

struct dns_mx_result {
    enum dns_mx_status status;
    char dsn[16];                    /* for TEMP and PERM: "4.4.3", "5.1.2", "5.1.10", ... */
    char reason[512];                /* for TEMP and PERM, in Postfix's words, e.g. "Host or
                                      * domain name not found. Name service error for
                                      * name=x.example type=MX: Host not found" */
    size_t ntargets;
    struct dns_target *targets;      /* in the order to try them; valid during the callback */
};

/* Where mail for name goes. With use_mx: its MX records by preference, shuffled among equal
 * preferences (no MX: the name itself, the implicit MX; a null MX (RFC 7505) is PERM 5.1.10;
 * NXDOMAIN is PERM 5.1.2; SERVFAIL or no answer in time is TEMP 4.4.3), then each host's
 * A/AAAA records as inet_protocols and smtp_address_preference allow, at most max_addrs
 * addresses in all (MX hosts that fail to resolve are skipped while others remain). Without
 * use_mx (a [host] next hop) only name's own addresses. name may also be an IP address
 * literal, which gives one target without any query. port goes into every address.
 * Details: the 100 most preferred MX hosts are kept; an MX naming an IP address is skipped;
 * a host's addresses come IPv4 first (smtp_address_preference = ipv4), IPv6 first (ipv6), or
 * the two families alternating, IPv6 first (any); an address already listed is not repeated;
 * max_addrs <= 0 means no limit (256 at most). Without addresses: TEMP 4.4.3 when a host
 * failed temporarily (or the time ran out), else PERM 5.1.2 (the name itself does not exist)
 * or 5.4.4 (no address; MX hosts that do not exist). An address family that inet_protocols
 * disables is never looked up (an IP literal of it is TEMP 4.3.5).
 * cb runs later in the loop thread, never before dns_mx returns; the handle may be cancelled
 * with dns_cancel until then. */
struct dns_req *dns_mx(struct dns *d, const char *name, bool use_mx, int port, int max_addrs,
                       int timeout_ms, void (*cb)(void *arg, const struct dns_mx_result *r),
                       void *arg);

/* TLSA records (RFC 6698) of _port._tcp.host for DANE: cb gets the records as
 * usage/selector/mtype/data, with secure true only for a DNSSEC-validated answer (and count 0
 * when there are none or the answer is not secure); failed is true for a look-up that failed
 * (SERVFAIL, a DNSSEC-bogus answer, time-out, a malformed host name), as opposed to a secure
 * "no such record". At most 100 records; malformed ones (a SHA2-256 or SHA2-512 digest of the
 * wrong length, no data) are left out. An IP address as host has none (not failed, not secure).
 * records and their data are valid during the callback. cb runs later in the loop thread; the
 * handle may be cancelled with dns_cancel until then. */
struct dns_tlsa {
    unsigned char usage, selector, mtype;
    unsigned char *data;
    size_t len;
};
struct dns_req *dns_tlsa(struct dns *d, const char *host, int port, int timeout_ms,
                         void (*cb)(void *arg, bool failed, bool secure,
                                    const struct dns_tlsa *records, size_t count),
                         void *arg);

#endif

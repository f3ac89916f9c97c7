/* dns_impl.h: what the resolver's own files share (dns.c: the context, requests and single
 * queries; dns_mx.c: pure parsing, ordering and texts; dns_route.c: the MX/address and TLSA
 * requests), and what its unit tests check. Other callers use dns.h only. */
#ifndef TERN_DNS_IMPL_H
#define TERN_DNS_IMPL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dns.h"

#define DNS_TYPE_A 1
#define DNS_TYPE_MX 15
#define DNS_TYPE_PTR 12
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_TLSA 52
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_TXT 16

#define DNS_MAX_MX 100          /* MX hosts kept from one answer (the most preferred) */
#define DNS_MAX_MX_RECORDS 4096 /* MX records looked at in one answer */
#define DNS_MAX_HOST_ADDRS 64   /* addresses read from one A or AAAA answer */
#define DNS_MAX_TARGETS 256     /* targets of one dns_mx result, whatever max_addrs says */
#define DNS_MAX_TLSA 100        /* TLSA records read from one answer */
#define DNS_NAME_MAX 256        /* a name in text, with its NUL (at most 253 characters) */

/* ---- the context, requests and queries (dns.c) ---- */

#define DNS_NAME_CACHE 512           /* client names remembered (dns_client_name) */
#define DNS_NAME_CACHE_TTL_MAX 3600  /* seconds, whatever the records' TTLs say */

/* A finished client name look-up, kept for the smaller TTL of its answers. */
struct dns_name_entry {
    long long expires;               /* monotonic seconds; 0: an empty slot */
    int family;
    unsigned char addr[16];
    bool found;                      /* name is confirmed; else the answer is "unknown" */
    char name[DNS_NAME_MAX];
};

#define DNS_LOOKUP_CACHE 256         /* answers of dns_lookup remembered */
#define DNS_LOOKUP_KEEP_MAX 8192     /* bytes of one answer's copy, at most, to be kept */

/* A finished dns_lookup answer (not a failure), kept for its TTL (at most
 * DNS_NAME_CACHE_TTL_MAX): the same question again is answered without a trip through
 * unbound's thread, in the next turn of the loop. */
struct dns_lookup_entry {
    long long expires;               /* monotonic seconds; 0: an empty slot */
    int type;
    char name[DNS_NAME_MAX + 1];     /* as asked, lower case, with its final dot */
    struct dns_records result;       /* records points at records below */
    struct dns_record *records;
};

struct dns {
    struct ub_ctx *ctx;
    struct event *ev;
    struct event_base *base;
    struct dns_name_entry *names;    /* DNS_NAME_CACHE slots, by a hash of the address */
    struct dns_lookup_entry *lookups;   /* DNS_LOOKUP_CACHE slots, by a hash of the question */
};

/* The head of every request. Its timer is the deadline, and is also fired at once to hand
 * over a result from the loop (ready). dns_cancel calls release, which frees everything the
 * request holds (its queries first) and the request itself; while delivering is set (the
 * caller's callback runs) dns_cancel does nothing. */
struct dns_req {
    struct dns *d;
    struct event *timer;
    bool ready;
    bool delivering;
    void (*on_timer)(struct dns_req *r);
    void (*release)(struct dns_req *r);
};

/* Starts the deadline (timeout_ms, clamped to 0..1 hour); on_timer runs when it passes or
 * after dns_req_soon. */
void dns_req_init(struct dns_req *r, struct dns *d, int timeout_ms,
                  void (*on_timer)(struct dns_req *r), void (*release)(struct dns_req *r));
/* Marks the result known and runs on_timer from the loop, never from inside the caller. */
void dns_req_soon(struct dns_req *r);
void dns_req_free_timer(struct dns_req *r);

struct dns_answer {
    enum dns_rc rc;
    bool secure;
    int ttl;                            /* seconds the answer may be kept (OK, NXDOMAIN, NODATA) */
    int count;                          /* rdata items (OK only) */
    char **data;
    int *len;
};

struct dns_query;
/* One question to unbound. cb gets the answer (valid during the call) unless the query is
 * cancelled first; the query is freed before cb runs. NULL when unbound refused the question
 * (treat as TEMP). */
struct dns_query *dns_query_start(struct dns *d, const char *name, int type,
                                  void (*cb)(void *arg, const struct dns_answer *a), void *arg);
void dns_query_cancel(struct dns *d, struct dns_query *q);   /* q may be NULL */

/* ---- pure parts (dns_mx.c) ---- */

/* A domain name in text made canonical into out[DNS_NAME_MAX]: lower case, no final dot,
 * labels of 1-63 letters, digits, '-' or '_', 253 characters at most. 0, or -1. */
int dns_name_canon(const char *name, char out[DNS_NAME_MAX]);
/* An uncompressed wire-format name at p[0..len) in text (as dns_name_canon; the root is "").
 * The bytes it took, or -1 when malformed. */
int dns_wire_name(const unsigned char *p, size_t len, char out[DNS_NAME_MAX]);
/* The same in presentation format for dns_lookup, which must take any name the DNS holds
 * (SPF's test suite has MX hosts like "foo:bar/baz.example.com"): every byte kept as it is
 * (case too), except '.' and a backslash in a label, written with a backslash before them,
 * and bytes outside 0x21-0x7e, written as a backslash and three decimal digits.
 * The bytes it took, or -1 when malformed or longer than DNS_NAME_MAX - 1 characters. */
int dns_wire_name_text(const unsigned char *p, size_t len, char out[DNS_NAME_MAX]);
/* TXT RDATA p[0..len) (RFC 1035 3.3.14: strings, each a length byte and its bytes) into r:
 * r->text = text (room for max_text bytes and a NUL), r->strings = strings (room for
 * max_strings). 0, or -1 when malformed; a record longer than max_text or of more strings than
 * max_strings is cut there, with r->cut set. */
int dns_parse_txt(const unsigned char *p, size_t len, struct dns_record *r,
                  struct dns_txt_string *strings, size_t max_strings, char *text,
                  size_t max_text);
/* An IP address literal ("192.0.2.1", "2001:db8::1", "IPv6:2001:db8::1") as a socket address
 * with port. 0, or -1 when name is not one. */
int dns_literal(const char *name, int port, struct sockaddr_storage *ss, socklen_t *len);

struct dns_mx_host {
    char name[DNS_NAME_MAX];
    int preference;
};
/* MX RDATA: preference and exchange. 0, or -1 when malformed. The exchange "" is a null MX. */
int dns_parse_mx(const unsigned char *p, size_t len, struct dns_mx_host *out);
/* Adds h to kept[0..*n) (room for max): while there is room, or in place of the least
 * preferred host when h is preferred to it; so the best max of any number of records stay. */
void dns_mx_keep(struct dns_mx_host *kept, size_t *n, size_t max, const struct dns_mx_host *h);
/* Sorts hosts by preference, drops repeated names (keeping the best), and shuffles hosts of
 * equal preference with uniform(n) (a random number below n). The number left. */
size_t dns_mx_order(struct dns_mx_host *h, size_t n, uint32_t (*uniform)(uint32_t upper));

/* TLSA RDATA (RFC 6698 2.1); data points into p. Records whose length does not fit their
 * matching type (SHA2-256: 32, SHA2-512: 64, full: not empty) are malformed. 0, or -1. */
int dns_parse_tlsa(const unsigned char *p, size_t len, struct dns_tlsa *out);

/* inet_protocols and smtp_address_preference. */
enum { DNS_V4 = 1, DNS_V6 = 2 };
int dns_protocols(const char *inet_protocols);       /* DNS_V4|DNS_V6 bits; 0 when invalid */
enum dns_family_pref { DNS_PREF_ANY, DNS_PREF_V4, DNS_PREF_V6 };
int dns_family_pref(const char *value, enum dns_family_pref *out);   /* 0, or -1 */

/* One address of a host, from an A (4 bytes) or AAAA (16 bytes) answer. */
struct dns_addr {
    int family;
    unsigned char bytes[16];
    bool secure;
};
/* Appends host's addresses to out[have..max) in the order pref asks (ipv4/ipv6: that family
 * first; any: the families alternate, IPv6 first as RFC 8305 suggests; each family in the
 * answer's order), skipping any address already in out. The new count. */
size_t dns_add_targets(struct dns_target *out, size_t have, size_t max,
                       const struct dns_mx_host *host, bool mx_secure,
                       const struct dns_addr *v4, size_t n4, const struct dns_addr *v6,
                       size_t n6, enum dns_family_pref pref, int port);

/* dns_server: "addr" or "addr@port", IPv4 or IPv6, as unbound's forwarder address "addr@port"
 * (port 53 when none is given). 0, or -1. */
int dns_server_parse(const char *value, char *out, size_t size);

/* Postfix's words for a failed look-up: "Host or domain name not found. Name service error
 * for name=NAME type=TYPE: Host not found[, try again]" or "...: Host found but no data
 * record of requested type". */
void dns_reason(char *out, size_t size, const char *name, const char *type, enum dns_rc rc);

#endif

/* netmatch.h: lists of networks as mynetworks writes them: "127.0.0.0/8 [::1]/128 10.1.2.3,
 * 2001:db8::/32" (comma or space separated; IPv6 with or without brackets; a bare address is a
 * /32 or /128). IPv4-mapped IPv6 clients (::ffff:1.2.3.4) match IPv4 entries. */
#ifndef TERN_NETMATCH_H
#define TERN_NETMATCH_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct netlist;

/* NULL with `entry: reason` in err for a malformed entry (host names are not accepted). */
struct netlist *netlist_parse(const char *text, char *err, size_t errlen);
bool netlist_match(const struct netlist *l, const struct sockaddr *sa);
bool netlist_match_text(const struct netlist *l, const char *address);   /* numeric address */
void netlist_free(struct netlist *l);

#endif

"""A small authoritative DNS server for the tests (dnslib), on 127.0.0.1 with one free port for
both UDP and TCP, answering from a zone given as a Python dict. Point tern at it with
`dns_server = 127.0.0.1@PORT` (DnsServer.conf_line):

    from dnsserver import DnsServer
    zone = {
        "example.test": {"MX": [(10, "mx1.example.test"), (20, "mx2.example.test")]},
        "mx1.example.test": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
        "mx2.example.test": {"A": ["127.0.0.2"]},
        "nomail.test": {"MX": [(0, ".")]},                       # null MX (RFC 7505)
        "_25._tcp.mx1.example.test": {"TLSA": [(3, 1, 1, "ab" * 32)]},
        "www.example.test": {"CNAME": "mx1.example.test"},
        "broken.test": "servfail",                               # every type: SERVFAIL
        "slow.test": "slow",                                     # every type: no answer at all
        "half.test": {"A": ["127.0.0.3"], "AAAA": "servfail"},   # per type works too
        "spf.test": {"TXT": ["v=spf1 -all", ["two ", "strings"]],  # a record per item
                     "SPF": ["v=spf1 -all"]},                    # type 99, like TXT
        "4.3.2.1.in-addr.arpa": {"PTR": ["host.example.test"]},
    }
    with DnsServer(zone) as dns:
        instance.conf(dns.conf_line)
        ...
        assert ("example.test", "MX") in dns.queries

A TXT (or SPF) record is a string or bytes (one character-string, cut into 255-byte strings
when longer) or a list of them (its strings); strings are encoded as Latin-1, so "\x80" is
the byte 0x80. Names are matched without case and without the final dot, as DNS labels
(so a zone name may hold spaces or other bytes, as SPF's test suite has). A name that is not in the zone is
NXDOMAIN; a name in it without the type asked for is NOERROR with no data. Negative answers
carry an SOA of the name's top-level domain. The zone may be changed while the server runs
(dns.zone[...] = ...); answers have a TTL of `ttl` seconds (default 1), so a long-running
resolver sees changes soon. The server is not DNSSEC-signed: nothing it says is "secure".
"""
from dnslib import AAAA, CNAME, MX, PTR, QTYPE, RCODE, RR, SOA, TXT, A, DNSError, DNSLabel
from dnslib.dns import TLSA
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from conftest import free_port

__all__ = ["DnsServer"]

def _txt(value):
    """A TXT record's strings from a string, bytes, or a list of them (see the module text)."""
    items = value if isinstance(value, list) else [value]
    strings = []
    for item in items:
        data = item if isinstance(item, bytes) else item.encode("latin-1")
        if not isinstance(value, list):
            strings += [data[i:i + 255] for i in range(0, max(len(data), 1), 255)]
        else:
            strings.append(data)
    return TXT(strings)


_RDATA = {
    "A": lambda v: A(v),
    "AAAA": lambda v: AAAA(v),
    "MX": lambda v: MX(_fqdn(v[1]), v[0]),
    "CNAME": lambda v: CNAME(_fqdn(v)),
    "PTR": lambda v: PTR(_fqdn(v)),
    "TXT": _txt,
    "SPF": _txt,
    "TLSA": lambda v: TLSA(v[0], v[1], v[2], bytes.fromhex(v[3]) if isinstance(v[3], str)
                           else bytes(v[3])),
}
_MAX_CNAME_CHAIN = 8


def _key(name):
    """A name as the server compares them: a DNSLabel's text (bytes outside letters, digits
    and a few others escaped), without case and the final dot."""
    return str(name if isinstance(name, DNSLabel) else DNSLabel(name)).rstrip(".").lower()


def _fqdn(name):
    return "." if name in (".", "") else name.rstrip(".") + "."


class _Silent(DNSLogger):
    def __init__(self):
        super().__init__(log="-request,-reply,-truncated,-error", prefix=False)


class _Resolver(BaseResolver):
    def __init__(self, owner):
        self.owner = owner

    def resolve(self, request, handler):
        qname, qtype = _key(request.q.qname), QTYPE[request.q.qtype]
        self.owner.queries.append((qname, qtype))
        try:
            return self._answer(request, qname, qtype)
        except DNSError:
            raise
        except Exception as e:         # a zone the answer cannot be made from: say so
            self.owner.errors.append(f"{qname} {qtype}: {e!r}")
            reply = request.reply()
            reply.header.rcode = RCODE.SERVFAIL
            return reply

    def _answer(self, request, qname, qtype):
        reply = request.reply()
        name, label, chain = qname, request.q.qname, 0   # label: the owner of the answers
        while True:
            entry = self.owner._lookup(name)
            marker = entry if isinstance(entry, str) else (entry or {}).get(qtype)
            if isinstance(marker, str) and marker in ("servfail", "slow"):
                if marker == "slow":
                    raise DNSError("slow: no answer")   # the handler sends nothing
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            if entry is None:
                reply.header.rcode = RCODE.NXDOMAIN   # also at the end of a CNAME chain
                self._add_soa(reply, name)
                return reply
            if "CNAME" in entry and qtype != "CNAME" and chain < _MAX_CNAME_CHAIN:
                target = entry["CNAME"]
                reply.add_answer(RR(label, QTYPE.CNAME, rdata=_RDATA["CNAME"](target),
                                    ttl=self.owner.ttl))
                name, label, chain = _key(target), DNSLabel(_fqdn(target)), chain + 1
                continue
            values = entry.get(qtype) or []
            for v in values:
                reply.add_answer(RR(label, getattr(QTYPE, qtype),
                                    rdata=_RDATA[qtype](v), ttl=self.owner.ttl))
            if not values:
                self._add_soa(reply, name)
            return reply

    def _add_soa(self, reply, name):
        apex = _fqdn(name.rsplit(".", 1)[-1])
        reply.add_auth(RR(apex, QTYPE.SOA, ttl=self.owner.ttl,
                          rdata=SOA(DNSLabel("ns.invalid."), DNSLabel("hostmaster.invalid."),
                                    (1, 3600, 600, 86400, self.owner.ttl))))


class DnsServer:
    """The test DNS server: `with DnsServer(zone) as dns: ... dns.port ...`.

    zone: {name: {"A": [addr], "AAAA": [addr], "MX": [(pref, host)], "CNAME": host,
    "TLSA": [(usage, selector, mtype, hex data)], "PTR": [host], "TXT": [record],
    "SPF": [record]} or "servfail" or "slow"}; a type's value may
    also be "servfail" or "slow". Attributes: address ("127.0.0.1"), port, conf_line
    ("dns_server = 127.0.0.1@PORT\\n"), zone (the dict, may be changed), queries (every
    (name, type) asked, in order), errors (zone entries no answer could be made from: they
    were answered SERVFAIL)."""

    address = "127.0.0.1"

    def __init__(self, zone=None, ttl=1):
        self.zone = dict(zone or {})
        self.ttl = ttl
        self.queries = []
        self.errors = []
        self.port = None
        self._servers = []

    def _lookup(self, name):
        for key, value in list(self.zone.items()):
            if _key(key) == name:
                return value
        return None

    @property
    def conf_line(self):
        # the server is not signed: with the root's trust anchor installed (Debian's
        # dns-root-data), names under real top-level domains (example.com, co.uk) would be
        # bogus; the RFC 6761 names are never validated anyway
        return f"dns_server = {self.address}@{self.port}\ndns_dnssec_validation = no\n"

    def start(self):
        """Binds UDP and TCP on one free port (a bounded number of tries) and serves both."""
        resolver = _Resolver(self)
        for _ in range(50):
            # a port from free_port: port 0 could take one it already gave an instance
            try:
                udp = DNSServer(resolver, address=self.address, port=free_port(),
                                logger=_Silent())
            except OSError:
                continue
            port = udp.server.server_address[1]
            try:
                tcp = DNSServer(resolver, address=self.address, port=port, tcp=True,
                                logger=_Silent())
            except OSError:
                udp.server.server_close()
                continue
            self.port, self._servers = port, [udp, tcp]
            for s in self._servers:
                s.start_thread()
            return self
        raise AssertionError("no port free for both UDP and TCP on 127.0.0.1")

    def stop(self):
        """Stops serving (each server's loop ends within its 0.5 s poll) and closes the ports."""
        for s in self._servers:
            s.server.shutdown()
            s.server.server_close()
            s.thread.join(timeout=5)
        self._servers = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

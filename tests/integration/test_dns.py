"""The resolver's mail routing (common/dns.h: dns_mx, dns_tlsa) against the test DNS server of
dnsserver.py, through tests/dnsq with an instance's tern.conf set to `dns_server =
127.0.0.1@PORT`: MX order and shuffling, implicit and null MX, NXDOMAIN, SERVFAIL and time-outs,
inet_protocols, smtp_address_preference, smtp_mx_address_limit, MX hosts that do not resolve, IP
literals, TLSA look-ups, and cancelling a request with queries in flight."""
import os
import subprocess

import pytest

from conftest import BUILDDIR
from dnsserver import DnsServer

DNSQ = os.path.join(BUILDDIR, "tests", "dnsq")

ZONE = {
    "example.test": {"MX": [(20, "mx2.example.test"), (10, "mx1.example.test"),
                            (30, "mx3.example.test")]},
    "mx1.example.test": {"A": ["127.0.0.11"]},
    "mx2.example.test": {"A": ["127.0.0.12"]},
    "mx3.example.test": {"A": ["127.0.0.13"]},
    "equal.test": {"MX": [(10, "a.equal.test"), (10, "b.equal.test"), (20, "c.equal.test")]},
    "a.equal.test": {"A": ["127.0.1.1"]},
    "b.equal.test": {"A": ["127.0.1.2"]},
    "c.equal.test": {"A": ["127.0.1.3"]},
    "implicit.test": {"A": ["127.0.2.1"]},
    "www.implicit.test": {"CNAME": "implicit.test"},
    "noaddr.test": {"TXT": []},
    "nomail.test": {"MX": [(0, ".")]},
    "broken.test": "servfail",
    "slow.test": "slow",
    "dual.test": {"A": ["127.0.3.1", "127.0.3.2"], "AAAA": ["::1", "::2"]},
    "many.test": {"MX": [(10, "dual.test"), (20, "mx1.example.test"), (30, "mx2.example.test")]},
    "skip.test": {"MX": [(5, "127.0.0.99"), (10, "gone.skip.test"), (20, "empty.skip.test"),
                         (30, "mx3.example.test")]},
    "empty.skip.test": {"MX": [(10, "x.test")]},
    "dead.test": {"MX": [(10, "gone.dead.test"), (20, "empty.skip.test")]},
    "flaky.test": {"MX": [(10, "broken.test"), (20, "gone.dead.test")]},
    "half.test": {"MX": [(10, "slow.test"), (20, "mx3.example.test")]},
    "stuck.test": {"MX": [(10, "slow.test")]},
    "mx1.tlsa.test": {"A": ["127.0.4.1"]},
    "_25._tcp.mx1.tlsa.test": {"TLSA": [(3, 1, 1, "ab" * 32), (2, 0, 1, "cd" * 32)]},
    "_465._tcp.mx1.tlsa.test": {"TLSA": [(3, 1, 1, "ef" * 32)]},
    "_25._tcp.broken.tlsa.test": "servfail",
    "_25._tcp.slow.tlsa.test": "slow",
}

NXDOMAIN = ("PERM 5.1.2 Host or domain name not found. Name service error for name={} "
            "type=MX: Host not found")
TRY_AGAIN = ("TEMP 4.4.3 Host or domain name not found. Name service error for name={} "
             "type={}: Host not found, try again")


@pytest.fixture(scope="module")
def dns():
    with DnsServer(ZONE) as server:
        yield server


@pytest.fixture
def conf(instance, dns):
    instance.conf(dns.conf_line)
    return instance


def dnsq(instance, *args, timeout=30):
    """Runs dnsq with the instance's tern.conf; returns its output lines."""
    r = subprocess.run([DNSQ, "-c", instance.dir, *args], capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", r.stderr
    return r.stdout.splitlines()


def targets(lines):
    """The "pref host addr port secure" lines as tuples."""
    return [(int(p), h, a, int(port), int(s)) for p, h, a, port, s in (x.split() for x in lines)]


def test_mx_by_preference(conf):
    assert targets(dnsq(conf, "mx", "example.test")) == [
        (10, "mx1.example.test", "127.0.0.11", 25, 0),
        (20, "mx2.example.test", "127.0.0.12", 25, 0),
        (30, "mx3.example.test", "127.0.0.13", 25, 0)]
    assert targets(dnsq(conf, "-p", "2525", "mx", "EXAMPLE.test."))[0] == (
        10, "mx1.example.test", "127.0.0.11", 2525, 0)


def test_equal_preferences_shuffled(conf):
    firsts = set()
    for _ in range(60):
        hosts = [t[1] for t in targets(dnsq(conf, "mx", "equal.test"))]
        assert sorted(hosts[:2]) == ["a.equal.test", "b.equal.test"]
        assert hosts[2] == "c.equal.test"
        firsts.add(hosts[0])
        if len(firsts) == 2:
            break
    assert firsts == {"a.equal.test", "b.equal.test"}


def test_implicit_mx(conf, dns):
    assert targets(dnsq(conf, "mx", "implicit.test")) == [(0, "implicit.test", "127.0.2.1", 25, 0)]
    assert targets(dnsq(conf, "mx", "www.implicit.test")) == [
        (0, "www.implicit.test", "127.0.2.1", 25, 0)]
    assert dnsq(conf, "mx", "noaddr.test") == [
        "PERM 5.4.4 Host or domain name not found. Name service error for name=noaddr.test "
        "type=A: Host found but no data record of requested type"]


def test_no_mx_lookup(conf, dns):
    del dns.queries[:]
    assert targets(dnsq(conf, "-n", "-o", "inet_protocols=ipv4", "mx", "mx2.example.test")) == [
        (0, "mx2.example.test", "127.0.0.12", 25, 0)]
    assert dns.queries == [("mx2.example.test", "A")]
    assert dnsq(conf, "-n", "mx", "gone.test") == [
        "PERM 5.1.2 Host or domain name not found. Name service error for name=gone.test "
        "type=A: Host not found"]


def test_null_mx(conf):
    assert dnsq(conf, "mx", "nomail.test") == [
        "PERM 5.1.10 Domain nomail.test does not accept mail (null MX)"]


def test_nxdomain(conf):
    assert dnsq(conf, "mx", "nowhere.test") == [NXDOMAIN.format("nowhere.test")]


def test_servfail(conf):
    assert dnsq(conf, "mx", "broken.test") == [TRY_AGAIN.format("broken.test", "MX")]


def test_timeout(conf):
    assert dnsq(conf, "-t", "1000", "mx", "slow.test") == [TRY_AGAIN.format("slow.test", "MX")]
    assert dnsq(conf, "-t", "1000", "mx", "stuck.test") == [TRY_AGAIN.format("slow.test", "A")]


def test_inet_protocols(conf, dns):
    del dns.queries[:]
    lines = dnsq(conf, "-o", "inet_protocols=ipv4", "mx", "dual.test")
    assert [t[2] for t in targets(lines)] == ["127.0.3.1", "127.0.3.2"] or \
        [t[2] for t in targets(lines)] == ["127.0.3.2", "127.0.3.1"]
    assert ("dual.test", "AAAA") not in dns.queries
    lines = dnsq(conf, "-o", "inet_protocols=ipv6", "mx", "dual.test")
    assert sorted(t[2] for t in targets(lines)) == ["::1", "::2"]
    assert dnsq(conf, "-o", "inet_protocols=ipv6", "mx", "implicit.test") == [
        "PERM 5.4.4 Host or domain name not found. Name service error for name=implicit.test "
        "type=AAAA: Host found but no data record of requested type"]


def test_address_preference(conf):
    def families(pref):
        lines = dnsq(conf, "-o", f"smtp_address_preference={pref}", "-l", "0", "mx", "dual.test")
        return ["6" if ":" in t[2] else "4" for t in targets(lines)]
    assert families("ipv4") == ["4", "4", "6", "6"]
    assert families("ipv6") == ["6", "6", "4", "4"]
    assert families("any") == ["6", "4", "6", "4"]


def test_mx_address_limit(conf):
    lines = targets(dnsq(conf, "-o", "smtp_address_preference=ipv4", "-l", "0", "mx", "many.test"))
    assert [t[1] for t in lines] == ["dual.test"] * 4 + ["mx1.example.test", "mx2.example.test"]
    conf.conf("smtp_mx_address_limit = 5\n")
    lines = targets(dnsq(conf, "-o", "smtp_address_preference=ipv4", "mx", "many.test"))
    assert [t[1] for t in lines] == ["dual.test"] * 4 + ["mx1.example.test"]
    assert [t[0] for t in lines] == [10, 10, 10, 10, 20]
    lines = targets(dnsq(conf, "-l", "1", "mx", "example.test"))
    assert lines == [(10, "mx1.example.test", "127.0.0.11", 25, 0)]


def test_mx_hosts_that_do_not_resolve(conf):
    # an MX naming an IP address, one naming no host, one without addresses: skipped
    assert targets(dnsq(conf, "mx", "skip.test")) == [(30, "mx3.example.test", "127.0.0.13", 25, 0)]
    # none left: the first host's reason, a permanent failure
    assert dnsq(conf, "mx", "dead.test") == [
        "PERM 5.4.4 Host or domain name not found. Name service error for name=gone.dead.test "
        "type=A: Host not found"]
    # none left, one failed temporarily: try again later
    assert dnsq(conf, "mx", "flaky.test") == [TRY_AGAIN.format("broken.test", "A")]
    # a host that does not answer in time is skipped while another has addresses
    assert targets(dnsq(conf, "-t", "1500", "mx", "half.test")) == [
        (20, "mx3.example.test", "127.0.0.13", 25, 0)]


def test_ip_literal(conf, dns):
    del dns.queries[:]
    assert targets(dnsq(conf, "mx", "127.0.0.1")) == [(0, "127.0.0.1", "127.0.0.1", 25, 0)]
    assert targets(dnsq(conf, "-p", "24", "-n", "mx", "::1")) == [(0, "::1", "::1", 24, 0)]
    assert dns.queries == []
    assert dnsq(conf, "-o", "inet_protocols=ipv4", "mx", "::1") == [
        "TEMP 4.3.5 address ::1: its address family is not enabled in inet_protocols"]


def test_tlsa(conf, dns):
    """The test server is not DNSSEC-signed: its TLSA records are looked up but, not being
    secure, are not handed over (dns.h: count 0 when the answer is not secure)."""
    del dns.queries[:]
    assert dnsq(conf, "tlsa", "mx1.tlsa.test") == ["tlsa failed=0 secure=0 count=0"]
    assert dnsq(conf, "-p", "465", "tlsa", "mx1.tlsa.test") == ["tlsa failed=0 secure=0 count=0"]
    assert dns.queries == [("_25._tcp.mx1.tlsa.test", "TLSA"), ("_465._tcp.mx1.tlsa.test", "TLSA")]
    assert dnsq(conf, "tlsa", "none.tlsa.test") == ["tlsa failed=0 secure=0 count=0"]
    assert dnsq(conf, "tlsa", "broken.tlsa.test") == ["tlsa failed=1 secure=0 count=0"]
    assert dnsq(conf, "-t", "1000", "tlsa", "slow.tlsa.test") == ["tlsa failed=1 secure=0 count=0"]


def test_many_mx_records(conf, dns):
    dns.zone["hundreds.test"] = {"MX": [(i, f"h{i}.hundreds.test") for i in range(120)]}
    for i in range(120):
        dns.zone[f"h{i}.hundreds.test"] = {"A": [f"127.0.5.{i}"]}
    lines = targets(dnsq(conf, "-o", "inet_protocols=ipv4", "-l", "0", "mx", "hundreds.test"))
    assert [t[0] for t in lines] == list(range(100))       # the 100 most preferred
    assert lines[0] == (0, "h0.hundreds.test", "127.0.5.0", 25, 0)


def test_cancel_with_queries_in_flight(conf):
    # the MX answer comes at once; the address look-ups of slow.test never do
    assert dnsq(conf, "-C", "300", "mx", "stuck.test") == ["cancelled"]
    assert dnsq(conf, "-C", "300", "mx", "slow.test") == ["cancelled"]
    assert dnsq(conf, "-C", "300", "tlsa", "slow.tlsa.test") == ["cancelled"]


def test_bad_dns_server(instance):
    instance.conf("dns_server = localhost\n")
    r = subprocess.run([DNSQ, "-c", instance.dir, "mx", "example.test"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert "dns_server must be addr or addr@port" in r.stderr

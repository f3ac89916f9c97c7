"""The RFC 7208 test suite (the openspf.org suite, rfc7208-tests.yml, BSD-licensed; read where
it lies, TERN_SPF_SUITE or ../shared/testdata/spf/rfc7208-tests.yml beside the source tree,
never copied into the tree) run against mail/spf*.c through tests/spfquery and the real resolver: each scenario's
zonedata is served by the test DNS server, and every test of it must give one of its expected
results, and its explanation where one is given. A missing suite file is a failure.

How the suite's zones read (as its own drivers do): type SPF records are also served as TXT
unless the name has TXT records or "TXT: NONE" (which means: no TXT records); TIMEOUT makes every
type the name has no records of go unanswered; an explanation "DEFAULT" means none from exp=."""
import os
import subprocess

import pytest
import yaml   # python3-yaml (bootstrap installs it): without it the suite fails, never skips

from conftest import BUILDDIR
from dnsserver import DnsServer

SRCDIR = os.environ.get("TERN_SRCDIR",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SUITE = os.environ.get("TERN_SPF_SUITE", os.path.join(SRCDIR, "..", "shared", "testdata", "spf",
                                                      "rfc7208-tests.yml"))
SPFQUERY = os.path.join(BUILDDIR, "tests", "spfquery")
TYPES = ("A", "AAAA", "MX", "PTR", "TXT", "SPF")
TIMEOUT_MS = 2000
TESTS_IN_SUITE = 203     # rfc7208-tests.yml release 2014.04 with the 2019.08 additions


def load_suite():
    if not os.path.exists(SUITE):
        pytest.fail(f"the RFC 7208 test suite is missing: {SUITE} (set TERN_SPF_SUITE)")
    with open(SUITE, "rb") as f:
        return list(yaml.safe_load_all(f))


def zone_of(zonedata):
    """The test DNS server's zone for a scenario's zonedata."""
    zone = {}
    for name, records in zonedata.items():
        entry, timeout, no_txt = {}, False, False
        for record in records:
            if record == "TIMEOUT":
                timeout = True
                continue
            for rtype, value in record.items():
                if rtype == "TXT" and value == "NONE":
                    no_txt = True
                elif rtype == "CNAME":
                    entry["CNAME"] = value
                elif rtype in ("TXT", "SPF") and value == []:
                    # a record of no strings is malformed and unbound rejects the whole
                    # answer (SERVFAIL) before SPF sees it; the suite means "null text" (its
                    # comment: SPF must not crash), which one empty string is
                    entry.setdefault(rtype, []).append([""])
                elif rtype == "MX":
                    entry.setdefault("MX", []).append((value[0], value[1]))
                else:
                    entry.setdefault(rtype, []).append(value)
        if "SPF" in entry and "TXT" not in entry and not no_txt:
            entry["TXT"] = list(entry["SPF"])
        if timeout:
            for rtype in TYPES:
                if rtype not in entry and "CNAME" not in entry:
                    entry[rtype] = "slow"
        zone[name] = entry
    return zone


def run_check(dns, test):
    out = subprocess.run([SPFQUERY, "-s", f"{dns.address}@{dns.port}", "-t", str(TIMEOUT_MS),
                          test["host"], test["mailfrom"], test["helo"]],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    result, explanation, reason = out.stdout.rstrip("\n").split("\t", 2)
    return result, explanation, reason


def scenarios():
    if not os.path.exists(SUITE):
        return [pytest.param(None, id="suite-file")]
    return [pytest.param(i, id=doc["description"].replace(" ", "-"))
            for i, doc in enumerate(load_suite())]


def test_suite_is_whole():
    docs = load_suite()
    assert sum(len(doc["tests"]) for doc in docs) == TESTS_IN_SUITE


@pytest.mark.parametrize("index", scenarios())
def test_scenario(index):
    doc = load_suite()[index]
    wrong = []
    with DnsServer(zone_of(doc["zonedata"])) as dns:
        for name, test in doc["tests"].items():
            result, explanation, reason = run_check(dns, test)
            expected = test["result"] if isinstance(test["result"], list) else [test["result"]]
            if result not in expected:
                wrong.append(f"{name}: {result} ({reason}), expected {' or '.join(expected)}")
            want = test.get("explanation")
            if want is not None and result == "fail" and explanation != (
                    "" if want == "DEFAULT" else want):
                wrong.append(f"{name}: explanation {explanation!r}, expected {want!r}")
        assert not dns.errors, dns.errors
    assert not wrong, "\n".join(wrong)

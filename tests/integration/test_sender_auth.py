"""Sender authentication of mail received on port 25 (smtpd/msgauth.c), end to end: real
clients on loopback (127.0.0.2 and 127.0.0.3, outside mynetworks), the test DNS server
(dnsserver.py) serving SPF, DKIM key and DMARC records, messages signed by two independent
DKIM implementations from Debian (dkimpy and Mail::DKIM), and what tern does: the
Authentication-Results field in the queue file's trailer, the log lines, DMARC's reject
(550 5.7.1) and quarantine (the Maildir++ folder), the time limit on look-ups, and the
removal of a forged Authentication-Results field that claims to be this host's."""
import base64
import os
import re
import smtplib
import subprocess
import time

import dkim
import pytest

from conftest import pflogsumm_totals, queue_files, read_queue_file, wait_for
from dnsserver import DnsServer

HOST = "mx.test.example"
TIMEOUT = 30


def openssl(*args):
    return subprocess.run(["openssl", *args], check=True, capture_output=True).stdout


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """An RSA and an Ed25519 key made by openssl: {"rsa": (pem path, traditional PEM, record),
    "ed25519": (None, dkimpy's base64 seed, record)}."""
    d = tmp_path_factory.mktemp("keys")
    rsa = str(d / "rsa.pem")
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsa)
    traditional = openssl("rsa", "-in", rsa, "-traditional")
    spki = openssl("pkey", "-in", rsa, "-pubout", "-outform", "DER")
    ed = str(d / "ed.pem")
    openssl("genpkey", "-algorithm", "ed25519", "-out", ed)
    seed = openssl("pkey", "-in", ed, "-outform", "DER")[-32:]
    public = openssl("pkey", "-in", ed, "-pubout", "-outform", "DER")[-32:]
    return {
        "rsa": (rsa, traditional, "v=DKIM1; k=rsa; p=" + base64.b64encode(spki).decode()),
        "ed25519": (None, base64.b64encode(seed),
                    "v=DKIM1; k=ed25519; p=" + base64.b64encode(public).decode()),
    }


def zone_for(keys):
    rsa, ed = keys["rsa"][2], keys["ed25519"][2]
    return {
        # SPF passes for 127.0.0.2 only; DKIM keys; DMARC reject
        "good.example": {"TXT": ["v=spf1 ip4:127.0.0.2 -all"], "A": ["192.0.2.1"]},
        "sel._domainkey.good.example": {"TXT": [rsa]},
        "ed._domainkey.good.example": {"TXT": [ed]},
        "revoked._domainkey.good.example": {"TXT": ["v=DKIM1; k=rsa; p="]},
        "slow._domainkey.good.example": "slow",
        "_dmarc.good.example": {"TXT": ["v=DMARC1; p=reject"]},
        # a bounce domain: SPF passes, but it is not the From: domain
        "bounces.example": {"TXT": ["v=spf1 ip4:127.0.0.0/8 -all"]},
        "_dmarc.strict.example": {"TXT": ["v=DMARC1; p=reject; aspf=s; adkim=s"]},
        "strict.example": {"TXT": ["v=spf1 ip4:127.0.0.2 -all"]},
        "mail.strict.example": {"TXT": ["v=spf1 ip4:127.0.0.2 -all"]},
        "sel._domainkey.strict.example": {"TXT": [rsa]},
        "quar.example": {"TXT": ["v=spf1 -all"]},
        "_dmarc.quar.example": {"TXT": ["v=DMARC1; p=quarantine"]},
        "none.example": {"TXT": ["v=spf1 -all"]},
        "_dmarc.none.example": {"TXT": ["v=DMARC1; p=none"]},
        "pct0.example": {"TXT": ["v=spf1 -all"]},
        "_dmarc.pct0.example": {"TXT": ["v=DMARC1; p=reject; pct=0"]},
        # an organizational domain's record: sp= and np= (the Public Suffix List's implicit
        # rule makes org.example the organizational domain of its subdomains; below, a
        # suffix of two labels of the list itself)
        "org.example": {"A": ["192.0.2.2"]},
        "_dmarc.org.example": {"TXT": ["v=DMARC1; p=none; sp=reject; np=quarantine"]},
        "mail.org.example": {"A": ["192.0.2.3"], "TXT": ["v=spf1 -all"]},
        "sel._domainkey.org.example": {"TXT": [rsa]},
        "nodmarc.example": {"TXT": ["v=spf1 ip4:127.0.0.2 -all"]},
        "example.co.uk": {"A": ["192.0.2.4"]},
        "_dmarc.example.co.uk": {"TXT": ["v=DMARC1; p=none; sp=reject"]},
        "mail.example.co.uk": {"A": ["192.0.2.5"], "TXT": ["v=spf1 -all"]},
        "sel._domainkey.example.co.uk": {"TXT": [rsa]},
    }


@pytest.fixture
def dns(keys):
    with DnsServer(zone_for(keys)) as server:
        yield server


def configure(instance, dns, extra=""):
    """Port 25 for clients outside 127.0.0.1, checking everything against the test DNS server;
    no qmgr, so queue files stay in incoming/ to be read."""
    instance.conf(dns.conf_line + "mynetworks = 127.0.0.1/32\n"
                  "smtpd_spf_verify = yes\nsmtpd_dkim_verify = yes\n"
                  "smtpd_dmarc_policy = enforce\nsmtpd_policy_dns_timeout = 3s\n" + extra)


def message(frm, subject="test", body=b"Hello.\r\n", extra=b""):
    return (b"From: " + frm.encode() + b"\r\nTo: root@" + HOST.encode() + b"\r\n"
            b"Subject: " + subject.encode() + b"\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n"
            b"Message-ID: <" + subject.encode() + b"@test>\r\n" + extra + b"\r\n" + body)


def sign_dkimpy(msg, keys, domain, selector, alg="rsa", canon=b"relaxed"):
    key = keys["rsa"][1] if alg == "rsa" else keys["ed25519"][1]
    sig = dkim.sign(msg, selector.encode(), domain.encode(), key,
                    canonicalize=(canon, canon),
                    signature_algorithm=b"rsa-sha256" if alg == "rsa" else b"ed25519-sha256",
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return sig + msg


PERL_SIGN = r"""
use strict; use Mail::DKIM::Signer; use Mail::DKIM::TextWrap;
my ($keyfile, $domain, $selector, $method) = @ARGV;
my $s = Mail::DKIM::Signer->new(Algorithm => "rsa-sha256", Method => $method,
    Domain => $domain, Selector => $selector, KeyFile => $keyfile,
    Headers => "from:to:subject:date:message-id");
binmode STDIN; my $msg = do { local $/; <STDIN> };
$s->PRINT($msg); $s->CLOSE;
binmode STDOUT; print $s->signature->as_string, "\r\n", $msg;
"""


def sign_mail_dkim(msg, keys, domain, selector, method="relaxed"):
    r = subprocess.run(["perl", "-e", PERL_SIGN, keys["rsa"][0], domain, selector, method],
                       input=msg, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def send(instance, sender, content, source="127.0.0.2", helo="client.example"):
    """One message on port 25 from source: (code, text) of the end of DATA."""
    s = smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=TIMEOUT,
                     source_address=(source, 0), local_hostname=helo)
    try:
        s.ehlo()
        assert s.mail(sender)[0] == 250
        assert s.rcpt(f"root@{HOST}")[0] == 250
        code, text = s.data(content)
        s.quit()
        return code, text.decode()
    finally:
        s.close()


def queued(instance, text):
    m = re.search(r"queued as ([0-9A-Z]+)", text)
    assert m, text
    return read_queue_file(os.path.join(instance.incoming, m.group(1))), m.group(1)


def results(q):
    """The Authentication-Results field of a queue file's trailer, unfolded, without its name
    and authserv-id: the method results as a list of strings."""
    fields = [f for f in q["trailer"] if f.startswith(b"Authentication-Results:")]
    assert len(fields) == 1, q["trailer"]
    text = re.sub(rb"\r\n[ \t]+", b" ", fields[0]).decode().strip()
    head, _, rest = text.partition(";")
    assert head == f"Authentication-Results: {HOST}", text
    return [part.strip() for part in rest.split(";")]


@pytest.fixture
def auth(instance, dns):
    configure(instance, dns)
    instance.drop_services(["qmgr"])
    instance.start()
    return instance


def test_dkimpy_and_mail_dkim_signatures_pass_with_spf_and_dmarc(auth, keys):
    msg = message("Alice <alice@good.example>")
    signed = sign_dkimpy(sign_mail_dkim(msg, keys, "good.example", "sel"), keys,
                         "good.example", "ed", alg="ed25519")
    code, text = send(auth, "alice@good.example", signed)
    assert code == 250, text
    q, qid = queued(auth, text)
    r = results(q)
    assert r[0].startswith("spf=pass ") and r[0].endswith(" smtp.mailfrom=alice@good.example")
    # bottom-up: dkimpy's ed25519 signature is first in the header, Mail::DKIM's below it
    assert r[1] == "dkim=pass header.d=good.example header.s=ed header.a=ed25519-sha256", r
    assert r[2] == "dkim=pass header.d=good.example header.s=sel header.a=rsa-sha256", r
    assert r[3] == "dmarc=pass (p=reject dis=none) header.from=good.example", r
    # the content is queued as it came; the field is in the trailer, not in the content
    assert q["content"].endswith(signed)
    for line in (rf"{qid}: spf=pass smtp\.mailfrom=<alice@good\.example> client=\[127\.0\.0\.2\]",
                 rf"{qid}: dkim=pass header\.d=good\.example header\.s=ed header\.a=ed25519",
                 rf"{qid}: dmarc=pass header\.from=good\.example policy=reject "
                 r"disposition=none"):
        wait_for(lambda: auth.log_lines(line), what=line)


def test_simple_canonicalization_and_changes(auth, keys):
    msg = message("alice@good.example", subject="simple")
    for signed in (sign_mail_dkim(msg, keys, "good.example", "sel", method="simple"),
                   sign_dkimpy(msg, keys, "good.example", "sel", canon=b"simple")):
        code, text = send(auth, "alice@good.example", signed)
        assert code == 250, text
        assert results(queued(auth, text)[0])[1].startswith("dkim=pass "), text
    signed = sign_dkimpy(msg, keys, "good.example", "sel")
    # a changed body, then a changed signed header: fail; SPF still passes aligned: DMARC pass
    code, text = send(auth, "alice@good.example", signed.replace(b"Hello.", b"Hullo."))
    r = results(queued(auth, text)[0])
    assert r[1] == ("dkim=fail (body hash did not verify) header.d=good.example header.s=sel "
                    "header.a=rsa-sha256"), r
    assert r[2].startswith("dmarc=pass "), r
    code, text = send(auth, "alice@good.example", signed.replace(b"Subject: simple",
                                                                 b"Subject: SIMPLE"))
    assert results(queued(auth, text)[0])[1].startswith(
        "dkim=fail (signature did not verify) "), text


def test_dmarc_reject_refuses_at_the_end_of_data(auth, keys):
    before = set(queue_files(auth))
    # 127.0.0.3 fails SPF, and a broken signature cannot align: p=reject
    signed = sign_dkimpy(message("alice@good.example"), keys, "good.example", "sel")
    code, text = send(auth, "alice@good.example", signed + b"added\r\n", source="127.0.0.3")
    assert (code, text) == (550, "5.7.1 Message rejected by DMARC policy for good.example")
    assert set(queue_files(auth)) == before
    wait_for(lambda: auth.log_lines(
        r"NOQUEUE: reject: END-OF-MESSAGE from \S+\[127\.0\.0\.3\]: 550 5\.7\.1 Message rejected "
        r"by DMARC policy for good\.example; from=<alice@good\.example>"), what="the reject")
    # a valid signature alone passes DMARC from the same client
    code, text = send(auth, "alice@good.example", signed, source="127.0.0.3")
    r = results(queued(auth, text)[0])
    assert r[0].startswith("spf=fail "), r
    assert r[2] == "dmarc=pass (p=reject dis=none) header.from=good.example", r
    # pflogsumm still reads the log: two messages received (it counts a queue ID's client=
    # line, as for a message Postfix's milters refuse), one of them rejected
    totals, report = pflogsumm_totals(auth)
    assert totals["received"] == 2 and totals["rejected"] == 1, report[:800]


# The DMARC table: (MAIL FROM, From:, client, signer (domain, selector) or None, the dmarc
# result, and what happens: "accept", "reject" or "quarantine")
DMARC_CASES = [
    # aligned SPF (relaxed: a subdomain's MAIL FROM aligns with its organizational domain)
    ("a@good.example", "a@good.example", "127.0.0.2", None, "pass", "accept"),
    # SPF passes for another domain: not aligned, no signature: fail under p=reject
    ("a@bounces.example", "a@good.example", "127.0.0.2", None, "fail", "reject"),
    # ... but an aligned signature passes
    ("a@bounces.example", "a@good.example", "127.0.0.2", ("good.example", "sel"), "pass",
     "accept"),
    # strict: a subdomain's SPF pass and a parent's signature do not align
    ("a@mail.strict.example", "a@strict.example", "127.0.0.2", None, "fail", "reject"),
    ("a@strict.example", "a@strict.example", "127.0.0.2", None, "pass", "accept"),
    ("a@bounces.example", "a@mail.strict.example", "127.0.0.2", ("strict.example", "sel"),
     "fail", "reject"),
    # p=quarantine and p=none
    ("a@quar.example", "a@quar.example", "127.0.0.2", None, "fail", "quarantine"),
    ("a@none.example", "a@none.example", "127.0.0.2", None, "fail", "accept"),
    # pct=0: every failing message is sampled out: reject becomes quarantine
    ("a@pct0.example", "a@pct0.example", "127.0.0.2", None, "fail", "quarantine"),
    # the organizational domain's record: sp= for an existing subdomain, np= for a missing one
    ("a@mail.org.example", "a@mail.org.example", "127.0.0.2", None, "fail", "reject"),
    ("a@ghost.org.example", "a@ghost.org.example", "127.0.0.2", None, "fail", "quarantine"),
    ("a@org.example", "a@org.example", "127.0.0.2", None, "fail", "accept"),
    # a relaxed signature of the organizational domain aligns with a subdomain's From:
    ("a@bounces.example", "a@mail.org.example", "127.0.0.2", ("org.example", "sel"),
     "pass", "accept"),
    # co.uk is a public suffix: example.co.uk is the organizational domain, not co.uk
    ("a@mail.example.co.uk", "a@mail.example.co.uk", "127.0.0.2", None, "fail", "reject"),
    ("a@bounces.example", "a@mail.example.co.uk", "127.0.0.2", ("example.co.uk", "sel"),
     "pass", "accept"),
    # no record: none
    ("a@nodmarc.example", "a@nodmarc.example", "127.0.0.3", None, "none", "accept"),
]


@pytest.mark.parametrize("mail_from,header_from,client,signer,result,action", DMARC_CASES)
def test_dmarc_table(auth, keys, mail_from, header_from, client, signer, result, action):
    msg = message(header_from, subject="dmarc")
    if signer:
        msg = sign_dkimpy(msg, keys, signer[0], signer[1])
    code, text = send(auth, mail_from, msg, source=client)
    domain = header_from.split("@")[1]
    if action == "reject":
        assert (code, text) == (550, f"5.7.1 Message rejected by DMARC policy for {domain}")
        return
    assert code == 250, text
    q, qid = queued(auth, text)
    dmarc = [r for r in results(q) if r.startswith("dmarc=")]
    assert dmarc and dmarc[0].startswith(f"dmarc={result} "), dmarc
    assert dmarc[0].endswith(f" header.from={domain}"), dmarc
    assert (q["attrs"].get("quarantine") == "dmarc") == (action == "quarantine"), q["attrs"]
    if action == "quarantine":
        wait_for(lambda: auth.log_lines(rf"{qid}: quarantine: the sender's DMARC policy"),
                 what="the quarantine line")


def test_from_headers_that_could_hide_a_domain_are_refused(auth):
    """Under enforce, nothing in the From: header hides a domain's policy: a domain too long
    for its _dmarc name (its organizational domain's record applies), several domains (each
    is checked), an address DMARC cannot read, more domains than it checks."""
    long = ".".join(["a" * 60] * 3 + ["a" * 54]) + ".good.example"
    assert len(long) > 245
    cases = [(f"a@{long}", f"for {long}"),
             ("a@good.example, b@x1.example, c@x2.example, d@x3.example, e@x4.example",
              "for good.example"),
             ("<a@good.example> b@x1.example", ": a From: address DMARC cannot read"),
             (", ".join(f"u@d{i}.example" for i in range(9)),
              ": more From: domains than DMARC checks")]
    for header_from, why in cases:
        code, text = send(auth, "a@bounces.example", message(header_from))
        assert code == 550 and text.startswith("5.7.1 Message rejected") and text.endswith(why), \
            (header_from, code, text)


def test_dmarc_report_mode_only_records(instance, dns):
    configure(instance, dns, "smtpd_dmarc_policy = report\n")
    instance.drop_services(["qmgr"])
    instance.start()
    code, text = send(instance, "a@bounces.example", message("a@good.example"))
    assert code == 250, text
    q, _ = queued(instance, text)
    assert "dmarc=fail (p=reject dis=reject) header.from=good.example" in results(q)
    assert "quarantine" not in q["attrs"]


def test_key_problems_and_time_limit(auth, keys):
    msg = message("alice@good.example", subject="keys")
    cases = [("nokey", "dkim=permerror (no key for signature) header.d=good.example "
                       "header.s=nokey header.a=rsa-sha256"),
             ("revoked", "dkim=fail (key revoked) header.d=good.example header.s=revoked "
                         "header.a=rsa-sha256")]
    for selector, want in cases:
        code, text = send(auth, "alice@good.example", sign_dkimpy(msg, keys, "good.example",
                                                                  selector))
        assert code == 250, text
        assert results(queued(auth, text)[0])[1] == want
    # a key server that never answers: temperror once smtpd_policy_dns_timeout (3 s) passed,
    # and the message is accepted, not held
    started = time.monotonic()
    code, text = send(auth, "alice@good.example", sign_dkimpy(msg, keys, "good.example",
                                                              "slow"))
    took = time.monotonic() - started
    assert code == 250, text
    assert results(queued(auth, text)[0])[1] == ("dkim=temperror (key look-up failed) "
                                                 "header.d=good.example header.s=slow "
                                                 "header.a=rsa-sha256")
    assert 2 < took < 10, took
    # a malformed signature is a permerror without any look-up
    bad = b"DKIM-Signature: v=1; a=rsa-sha256; d=good.example; s=sel; h=subject; bh=; b=\r\n"
    code, text = send(auth, "alice@good.example", bad + msg)
    assert results(queued(auth, text)[0])[1].startswith("dkim=permerror ("), text


def test_no_signature_and_helo_identity(auth):
    # the null sender: SPF checks the HELO name
    code, text = send(auth, "<>", message("MAILER-DAEMON@good.example"), helo="good.example")
    assert code == 250, text
    r = results(queued(auth, text)[0])
    assert r[0].startswith("spf=") and r[0].endswith(" smtp.helo=good.example"), r
    assert r[1] == "dkim=none", r


def test_forged_results_of_this_host_are_removed(auth):
    forged = (b"Authentication-Results: " + HOST.encode() + b"; dkim=pass header.d=bank.example\r\n"
              b"Authentication-Results: other.example; spf=pass smtp.mailfrom=x@y.example\r\n"
              b"Authentication-results:  (comment) \"" + HOST.upper().encode() + b"\" 1;\r\n"
              b" dmarc=pass\r\n")
    code, text = send(auth, "alice@good.example", forged + message("alice@good.example"))
    assert code == 250, text
    q, qid = queued(auth, text)
    header = q["content"].split(b"\r\n\r\n", 1)[0]
    assert b"bank.example" not in header and b"dmarc=pass" not in header, header
    assert b"Authentication-Results: other.example; spf=pass" in header
    assert len(results(q)) == 3
    wait_for(lambda: auth.log_lines(rf"{qid}: removed 2 Authentication-Results fields claiming "
                                    rf"to be {re.escape(HOST)}'s"), what="the removal line")


def test_trusted_and_authenticated_clients_are_not_checked(instance, dns):
    configure(instance, dns)
    instance.drop_services(["qmgr"])
    instance.start()
    code, text = send(instance, "a@bounces.example", message("a@good.example"),
                      source="127.0.0.1")
    assert code == 250, text
    q, _ = queued(instance, text)
    assert q["trailer"] == []
    assert not [query for query in dns.queries if query[0].endswith("good.example")]


def test_quarantined_mail_goes_to_the_junk_folder(instance, dns, tmp_path):
    base = tmp_path / "vmail"
    base.mkdir()
    nobody = 65534
    for d in (base, base / "q", base / "q" / ".Junk"):
        d.mkdir(exist_ok=True)
        os.chown(d, nobody, nobody)
        os.chmod(d, 0o700)
    os.chmod(tmp_path, 0o755)
    with open(os.path.join(instance.dir, "vmailbox"), "w") as f:
        f.write("q@virt.example q/\n")
    configure(instance, dns, f"virtual_mailbox_domains = virt.example\n"
                             f"virtual_mailbox_base = {base}\n"
                             f"virtual_mailbox_maps = texthash:{instance.dir}/vmailbox\n"
                             f"virtual_uid_maps = static:{nobody}\n"
                             f"virtual_gid_maps = static:{nobody}\n")
    instance.start()
    s = smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=TIMEOUT,
                     source_address=("127.0.0.2", 0))
    try:
        s.ehlo("client.example")
        assert s.sendmail("a@quar.example", ["q@virt.example"], message("a@quar.example")) == {}
        assert s.sendmail("a@good.example", ["q@virt.example"], message("a@good.example")) == {}
        s.quit()
    finally:
        s.close()
    junk, inbox = base / "q" / ".Junk" / "new", base / "q" / "new"
    count = lambda d: len(os.listdir(d)) if d.is_dir() else 0   # noqa: E731
    wait_for(lambda: count(junk) == 1 and count(inbox) == 1, timeout=30,
             what=f"one message in each folder\n{instance.log()[-3000:]}")
    data = (junk / os.listdir(junk)[0]).read_bytes()
    # delivered with the Authentication-Results field in front of tern's Received:
    fields = data.split(b"\n\n", 1)[0]
    assert re.search(rb"\nAuthentication-Results: mx\.test\.example;[^\n]*(\n[ \t][^\n]*)*"
                     rb"dmarc=fail \(p=quarantine dis=quarantine\) header\.from=quar\.example\n"
                     rb"Received: from client\.example", fields), fields
    assert b"dmarc=pass" in (inbox / os.listdir(inbox)[0]).read_bytes()
    wait_for(lambda: instance.log_lines(r"status=sent \(delivered to maildir folder Junk "
                                        r"\(quarantine\)\)"), what="the delivery line")

"""DKIM signing of a host's mail (issue 17): `tern dkim keygen` makes keys (modes, owners, the
table line, the record to publish), pickup signs what local users send from a domain with keys
(RSA and Ed25519: two signatures), and two independent verifiers from Debian, dkimpy
(python3-dkim) and Mail::DKIM (libmail-dkim-perl, asking the test DNS server), say pass on
the delivered message (Debian 12's Mail::DKIM knows no ed25519-sha256: it checks the RSA one), an 8-bit one too (stored quoted-printable); `tern dkim check`
compares the published records with the keys; a table naming a key that cannot be used keeps
the mail system from starting."""
import os
import pwd
import re
import stat
import subprocess

import pytest

from conftest import IS_ROOT, wait_for
from dnsserver import DnsServer
from test_sendmail import mailbox, mta, people, sendmail  # noqa: F401 (fixtures)

import dkim  # python3-dkim (bootstrap installs it): without it this fails

DOMAIN = "sign.example"
HOST = "mx.test.example"
RECORD = re.compile(r'^(\S+)\._domainkey\.(\S+)\. IN TXT \( "(v=DKIM1; k=\w+; )"'
                    r'((?: "[^"]{1,255}")+) \)$')

pytestmark = pytest.mark.skipif(not IS_ROOT, reason="system users and key owners need root")

# Mail::DKIM's verifier with Net::DNS sent to the test DNS server: "selector result" a line
MAIL_DKIM = r"""
use Mail::DKIM::Verifier;
use Net::DNS::Resolver;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(nameservers => ['127.0.0.1'],
                                                  port => $ARGV[0], recurse => 0));
my $v = Mail::DKIM::Verifier->new();
binmode STDIN;
while (<STDIN>) { s/\r?\n\z//; $v->PRINT("$_\015\012"); }
$v->CLOSE;
print $_->selector, " ", $_->result, ($_->result_detail =~ /\((.*)\)/ ? " $1" : ""), "\n" for $v->signatures;
"""


def keygen(inst, *args):
    r = inst.tern("dkim", "keygen", *args)
    assert r.returncode == 0, r.stderr
    m = RECORD.match(r.stdout.strip())
    assert m, r.stdout
    strings = re.findall(r'"([^"]*)"', r.stdout)
    assert all(len(s) <= 255 for s in strings)
    return m.group(1), "".join(strings)


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def dkimpy_results(msg, records):
    """dkimpy's verdict on each DKIM-Signature of msg, the keys from records {selector: txt}."""
    def dnsfunc(name, timeout=5):
        return records.get(name.decode().split("._domainkey.")[0], "").encode()
    d = dkim.DKIM(msg)
    count = len(re.findall(rb"(?im)^DKIM-Signature:", msg))
    return [d.verify(idx=i, dnsfunc=dnsfunc) for i in range(count)]


def mail_dkim_results(msg, port):
    r = subprocess.run(["perl", "-e", MAIL_DKIM, str(port)], input=msg, capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return sorted(r.stdout.decode().split("\n")[:-1])


def test_keygen_sign_verify_and_check(mta, people):
    # bootstrap installs perl's Mail::DKIM (libmail-dkim-perl): without it this fails
    assert subprocess.run(["perl", "-MMail::DKIM::Verifier", "-e", "1"],
                          capture_output=True).returncode == 0, "libmail-dkim-perl is missing"
    sel_rsa, rec_rsa = keygen(mta, DOMAIN, "rsa1")
    sel_ed, rec_ed = keygen(mta, "-a", "ed25519", DOMAIN.upper() + ".", "ed1")
    assert (sel_rsa, sel_ed) == ("rsa1", "ed1")
    assert rec_rsa.startswith("v=DKIM1; k=rsa; p=MII") and len(rec_rsa) > 300
    assert rec_ed.startswith("v=DKIM1; k=ed25519; p=") and len(rec_ed) == 66
    # modes and owners: root and mail_owner's group only
    group = pwd.getpwnam("tern").pw_gid
    keydir = os.stat(os.path.join(mta.dir, "dkim"))
    assert stat.S_IMODE(keydir.st_mode) == 0o750 and (keydir.st_uid, keydir.st_gid) == (0, group)
    for sel in ("rsa1", "ed1"):
        st = os.lstat(os.path.join(mta.dir, "dkim", f"{sel}._domainkey.{DOMAIN}.key"))
        assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o640
        assert (st.st_uid, st.st_gid) == (0, group)
    table = open(os.path.join(mta.dir, "dkim_signing_keys")).read()
    assert (f"\n{DOMAIN} rsa1:dkim/rsa1._domainkey.{DOMAIN}.key, "
            f"ed1:dkim/ed1._domainkey.{DOMAIN}.key\n") in table
    # a key is never overwritten, nor a selector given twice
    again = mta.tern("dkim", "keygen", DOMAIN, "rsa1")
    assert again.returncode == 73 and "rsa1" in again.stderr
    assert mta.tern("dkim", "keygen", "-b", "1000", DOMAIN, "x").returncode == 64
    assert mta.tern("dkim", "keygen", DOMAIN).returncode == 64

    zone = {f"rsa1._domainkey.{DOMAIN}": {"TXT": [rec_rsa]},
            f"ed1._domainkey.{DOMAIN}": {"TXT": [rec_ed]}}
    records = {"rsa1": rec_rsa, "ed1": rec_ed}
    with DnsServer(zone) as dns:
        mta.conf(dns.conf_line)
        mta.start()
        u = people()
        rcpt = f"{u.pw_name}@{HOST}"
        plain = (f"From: Alice <alice@{DOMAIN}>\nTo: {rcpt}\nSubject: signed\n\n"
                 "Hello,  \n\nsigned by pickup.\n").encode()
        eight = (f"From: alice@mail.{DOMAIN}\nTo: {rcpt}\nSubject: 8-bit\nMIME-Version: 1.0\n"
                 "Content-Type: text/plain; charset=utf-8\n"
                 "Content-Transfer-Encoding: 8bit\n\nUn caf\u00e9, s'il vous pla\u00eet.\n"
                 ).encode()
        other = (f"From: bob@other.example\nTo: {rcpt}\nSubject: not signed\n\n"
                 "caf\u00e9\n").encode()
        for i, msg in enumerate((plain, eight, other)):
            r = sendmail(mta, ["-i", rcpt], msg)
            assert r.returncode == 0, r.stderr
            wait_for(lambda: len(mailbox(mta, u.pw_name)) > i, what=f"message {i + 1}")
        files = {}
        for path in mailbox(mta, u.pw_name):
            data = crlf(open(path, "rb").read())
            subject = re.search(rb"\nSubject: ([^\r]*)", data).group(1)
            files[subject] = data
        for subject in (b"signed", b"8-bit"):
            msg = files[subject]
            assert len(re.findall(rb"(?m)^DKIM-Signature:", msg)) == 2, msg
            # the signatures come before the Received: field pickup adds
            assert msg.index(b"DKIM-Signature:") < msg.index(b"Received: by")
            assert dkimpy_results(msg, records) == [True, True], msg
            said = mail_dkim_results(msg, dns.port)
            # Debian 12's Mail::DKIM (1.20230212) predates its ed25519-sha256: it may only
            # say it does not know the algorithm, never that the signature is wrong
            assert said[0] in ("ed1 pass", "ed1 invalid unsupported algorithm ed25519-sha256")
            assert said[1] == "rsa1 pass", said
        eight_out = files[b"8-bit"]
        assert all(b < 0x80 for b in eight_out), eight_out
        assert b"Content-Transfer-Encoding: quoted-printable" in eight_out
        assert b"Un caf=C3=A9, s'il vous pla=C3=AEt." in eight_out
        # a domain without a key: nothing signed, nothing converted, nothing said
        assert b"DKIM-Signature" not in files[b"not signed"]
        assert "caf\u00e9".encode() in files[b"not signed"]
        assert not mta.log_lines(r"not signed")
        for sel, alg in (("rsa1", "rsa-sha256"), ("ed1", "ed25519-sha256")):
            assert len(mta.log_lines(rf"pickup.*: dkim signed d={DOMAIN} s={sel} a={alg}$")) == 2

        # tern dkim check against the published records
        r = mta.tern("dkim", "check", DOMAIN)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout == f"rsa1._domainkey.{DOMAIN}: ok\ned1._domainkey.{DOMAIN}: ok\n"
        dns.zone[f"rsa1._domainkey.{DOMAIN}"] = {"TXT": [rec_ed]}
        del dns.zone[f"ed1._domainkey.{DOMAIN}"]
        r = mta.tern("dkim", "check", DOMAIN)
        assert r.returncode == 1
        assert r.stdout == (f"rsa1._domainkey.{DOMAIN}: does not match\n"
                            f"ed1._domainkey.{DOMAIN}: missing\n")
        dns.zone[f"rsa1._domainkey.{DOMAIN}"] = {"TXT": ["v=DKIM1; k=rsa; p="]}
        dns.zone[f"ed1._domainkey.{DOMAIN}"] = {"TXT": [rec_ed]}
        r = mta.tern("dkim", "check", DOMAIN)
        assert (r.returncode, r.stdout) == (1, f"rsa1._domainkey.{DOMAIN}: revoked\n"
                                               f"ed1._domainkey.{DOMAIN}: ok\n")
        dns.zone[f"rsa1._domainkey.{DOMAIN}"] = "servfail"
        r = mta.tern("dkim", "check", DOMAIN)
        assert (r.returncode, r.stdout) == (75, f"rsa1._domainkey.{DOMAIN}: lookup failed\n"
                                                f"ed1._domainkey.{DOMAIN}: ok\n")
        r = mta.tern("dkim", "check", "nokeys.example")
        assert r.returncode == 67 and "nokeys.example has no keys" in r.stderr


def test_a_key_that_cannot_be_used_stops_the_start(instance):
    keygen(instance, "-a", "ed25519", DOMAIN, "ed1")
    key = os.path.join(instance.dir, "dkim", f"ed1._domainkey.{DOMAIN}.key")
    with open(key, "w") as f:
        f.write("not a key\n")
    # tern check says so before a start would
    r = instance.tern("check")
    assert r.returncode == 78
    assert re.search(rf"dkim_signing_keys: {DOMAIN}: selector ed1: {re.escape(key)}: not an",
                     r.stderr), r.stderr
    r = instance.tern("start")
    assert r.returncode != 0
    said = r.stderr + instance.log()
    assert re.search(rf"dkim_signing_keys: {DOMAIN}: selector ed1: {re.escape(key)}: not an",
                     said), said
    os.unlink(key)
    r = instance.tern("start")
    assert r.returncode != 0
    assert f"{key}: No such file or directory" in r.stderr + instance.log()


def test_init_and_an_old_install_without_the_table(instance):
    table = os.path.join(instance.dir, "dkim_signing_keys")
    assert "tern dkim keygen" in open(table).read()
    assert f"dkim_signing_keys = texthash:{table}" in open(
        os.path.join(instance.dir, "tern.conf")).read()
    # the default table missing (an install older than signing): an empty table
    os.unlink(table)
    with open(os.path.join(instance.dir, "tern.conf")) as f:
        conf = f.read().replace(f"dkim_signing_keys = texthash:{table}\n", "")
    with open(os.path.join(instance.dir, "tern.conf"), "w") as f:
        f.write(conf)
    instance.start()
    assert instance.tern("stop").returncode == 0
    # a table that is set and missing is an error
    instance.conf(f"dkim_signing_keys = texthash:{table}\n")
    r = instance.tern("start")
    assert r.returncode != 0 and "dkim_signing_keys" in r.stderr + instance.log()


def test_smtpd_signs_mynetworks_and_submission_mail(mta, people):
    """smtpd signs the mail of mynetworks clients and of logged-in submission clients whose
    From: domain has keys (8-bit parts converted first), and not an untrusted client's; the
    signatures pass dkimpy and Mail::DKIM on the delivered messages."""
    import smtplib
    import ssl
    from conftest import sasl_hash
    sel_rsa, rec_rsa = keygen(mta, DOMAIN, "rsa1")
    sel_ed, rec_ed = keygen(mta, "-a", "ed25519", DOMAIN, "ed1")
    with open(os.path.join(mta.dir, "sasl_users"), "a") as f:
        f.write(f"alice {sasl_hash('a password')}\n")
    with open(os.path.join(mta.dir, "sender_logins"), "a") as f:
        f.write(f"@{DOMAIN} alice\n")
    zone = {f"rsa1._domainkey.{DOMAIN}": {"TXT": [rec_rsa]},
            f"ed1._domainkey.{DOMAIN}": {"TXT": [rec_ed]}}
    with DnsServer(zone) as dns:
        mta.conf(dns.conf_line + "mynetworks = 127.0.0.1/32\n")
        mta.start()
        u = people()
        rcpt = f"{u.pw_name}@{HOST}"

        def message(subject, extra=b"", body=b"Hello,  \r\n\r\nsigned by smtpd.\r\n"):
            return (f"From: Alice <alice@{DOMAIN}>\r\nTo: {rcpt}\r\nSubject: {subject}\r\n"
                    ).encode() + extra + b"\r\n" + body

        eight = message("8-bit", b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8"
                        b"\r\nContent-Transfer-Encoding: 8bit\r\n",
                        "Un caf\u00e9.\r\n".encode())
        with smtplib.SMTP("127.0.0.1", mta.smtp_port, timeout=30) as c:
            c.sendmail(f"alice@{DOMAIN}", [rcpt], message("mynetworks"))
            c.sendmail(f"alice@{DOMAIN}", [rcpt], eight, mail_options=["BODY=8BITMIME"])
        with smtplib.SMTP("127.0.0.1", mta.smtp_port, timeout=30,
                          source_address=("127.0.0.2", 0)) as c:
            c.sendmail(f"alice@{DOMAIN}", [rcpt], message("untrusted"))
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP("127.0.0.1", mta.submission_port, timeout=30) as c:
            c.starttls(context=context)
            c.login("alice", "a password")
            c.sendmail(f"alice@{DOMAIN}", [rcpt], message("submission"))
        wait_for(lambda: len(mailbox(mta, u.pw_name)) == 4, what="four messages")
        files = {}
        for path in mailbox(mta, u.pw_name):
            data = crlf(open(path, "rb").read())
            files[re.search(rb"\nSubject: ([^\r]*)", data).group(1)] = data
        records = {"rsa1": rec_rsa, "ed1": rec_ed}
        for subject in (b"mynetworks", b"8-bit", b"submission"):
            msg = files[subject]
            assert len(re.findall(rb"(?m)^DKIM-Signature:", msg)) == 2, msg
            assert dkimpy_results(msg, records) == [True, True], msg
            said = mail_dkim_results(msg, dns.port)
            assert said[0] in ("ed1 pass", "ed1 invalid unsupported algorithm ed25519-sha256")
            assert said[1] == "rsa1 pass", said
        assert all(b < 0x80 for b in files[b"8-bit"])
        assert b"Un caf=C3=A9." in files[b"8-bit"]
        assert b"DKIM-Signature" not in files[b"untrusted"]
        for sel, alg in (("rsa1", "rsa-sha256"), ("ed1", "ed25519-sha256")):
            assert len(mta.log_lines(rf"smtpd.*: dkim signed d={DOMAIN} s={sel} a={alg}$")) == 3

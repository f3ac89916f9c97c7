"""Integration tests of SRS (srs_domain): mail an alias sends on to another domain leaves with its
envelope sender rewritten into srs_domain (qmgr/forward.c), and mail to such an address comes
back to the original sender: checked and turned back by smtpd at RCPT (smtpd/srs_rcpt.c), or by
qmgr for a bounce tern itself made (qmgr/srs.c). The other domains are test SMTP servers on
loopback (transport_maps): remote.example, where aliases forward to, and sender.example (and
fwd.example), where the original senders are."""
import hashlib
import hmac
import os
import re
import smtplib
import stat
import subprocess
import time

import pytest

from conftest import IS_ROOT, TERN, wait_for
from smtpserver import SmtpServer

HOST = "mx.test.example"          # the instances' host name: srs_domain after tern init
SENDER = "someone@sender.example"
BODY = "Subject: forwarded\r\nMessage-ID: <srs.1@sender.example>\r\n\r\nhello there\r\n"
SRS0 = re.compile(r"^SRS0=([A-Z2-7]{6})=([A-Z2-7]{2})=sender\.example=someone@mx\.test\.example$")
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@pytest.fixture
def srs(instance):
    """The instance with its SRS key from tern init, aliases forwarding to remote.example, and
    the test servers: remote (refuses nobody@remote.example at RCPT) and origin (the senders'
    domains), started."""
    remote = SmtpServer(rcpt=lambda a: "550 5.1.1 no such user" if a.startswith("nobody@")
                        else None)
    origin = SmtpServer()
    aliases = os.path.join(instance.dir, "srs_aliases")
    with open(aliases, "w") as f:
        f.write("fwd friend@remote.example\nrefused nobody@remote.example\n")
    instance.conf(f"alias_maps = texthash:{aliases}\n"
                  "transport_maps = inline:{"
                  f"remote.example=smtp:[127.0.0.1]:{remote.port}, "
                  f"sender.example=smtp:[127.0.0.1]:{origin.port}, "
                  f"fwd.example=smtp:[127.0.0.1]:{origin.port}}}\n")
    with remote, origin:
        instance.remote, instance.origin, instance.aliases = remote, origin, aliases
        yield instance


def send(instance, sender, rcpts, body=BODY):
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=30) as c:
        c.sendmail(sender, rcpts, body)


def rcpt_reply(instance, address, sender=""):
    """The reply to RCPT TO:<address> (after MAIL FROM:<sender>), as (code, text)."""
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=30) as c:
        c.ehlo("client.example")
        code, _ = c.mail(sender)
        assert code == 250
        code, text = c.rcpt(address)
        return code, text.decode()


def arrived(server, n=1):
    wait_for(lambda: len(server.transactions) >= n, timeout=60, what=f"{n} message(s)")
    return server.transactions[n - 1]


def srs_key(instance):
    with open(os.path.join(instance.dir, "srs.key")) as f:
        return bytes.fromhex(f.read().strip())


def srs0(instance, local, domain, day):
    """An SRS0 address of HOST as tern writes it (mail/srs.c): HMAC-SHA256 over
    srs0=stamp=domain=local in lower case, its first 30 bits in base32."""
    stamp = BASE32[(day % 1024) >> 5] + BASE32[day % 32]
    text = "=".join(("srs0", stamp.lower(), domain.lower(), local.lower())).encode()
    bits = int.from_bytes(hmac.new(srs_key(instance), text, hashlib.sha256).digest()[:4], "big")
    h = "".join(BASE32[(bits >> (27 - 5 * i)) & 31] for i in range(6))
    return f"SRS0={h}={stamp}={domain}={local}@{HOST}"


def test_tern_init_sets_srs_domain_and_makes_the_key(instance):
    r = instance.ternconf("-h", "srs_domain")
    assert r.stdout.strip() in ("$myhostname", HOST), r
    st = os.stat(os.path.join(instance.dir, "srs.key"))
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_size == 65
    assert st.st_uid == os.geteuid()
    assert len(srs_key(instance)) == 32


def test_alias_to_a_remote_domain_rewrites_and_the_bounce_comes_back(srs):
    """The issue's case: a message forwarded by an alias to a remote domain, refused there,
    comes back to the original sender as a bounce."""
    srs.start()
    send(srs, SENDER, [f"fwd@{HOST}"])
    tx = arrived(srs.remote)
    assert tx.rcpts == ["friend@remote.example"]
    m = SRS0.match(tx.sender)
    assert m, tx.sender
    assert tx.sender == srs0(srs, "someone", "sender.example", int(time.time()) // 86400)
    assert srs.log_lines(rf"tern/qmgr\[\d+\]: \w+: sender <{SENDER}> rewritten to "
                         rf"<{re.escape(tx.sender)}> for forwarding from \w+$")

    send(srs, SENDER, [f"refused@{HOST}"])
    bounce = arrived(srs.origin)
    assert bounce.sender == ""
    assert bounce.rcpts == [SENDER]
    assert b"nobody@remote.example" in bounce.data
    assert b"multipart/report" in bounce.data and b"Subject: forwarded" in bounce.data
    assert srs.log_lines(rf"tern/qmgr\[\d+\]: \w+: SRS recipient <SRS0=\w+=\w+="
                         rf"sender\.example=someone@{re.escape(HOST)}> is <{SENDER}>$")
    assert len(srs.remote.transactions) == 1   # the refused copy never arrived


def test_smtpd_reverses_a_valid_address_and_refuses_forged_and_expired_ones(srs):
    srs.start()
    today = int(time.time()) // 86400
    good = srs0(srs, "someone", "sender.example", today)
    # any case: the hash and the domain are compared without it
    code, text = rcpt_reply(srs, good.upper())
    assert code == 250, text
    send(srs, "", [good.lower()], body="Subject: a remote bounce\r\n\r\nreturned\r\n")
    tx = arrived(srs.origin)
    assert (tx.sender, tx.rcpts) == ("", [SENDER])
    # the SRS address is kept as the original recipient, for a DSN to name
    xtext = good.lower().replace("=", "+3D")
    assert f"ORCPT=rfc822;{xtext}".upper() in tx.rcpt_params[0].upper(), tx.rcpt_params
    assert srs.log_lines(rf"tern/smtpd\[\d+\]: NOQUEUE: SRS recipient <{re.escape(good.lower())}> "
                         rf"is <{SENDER}>; client=")

    # an SRS address longer than RFC 5321's 64-byte local part (a long sender address) is
    # taken too: bounces to forwarded mail must not fail on it
    long = srs0(srs, "newsletter-bounces+abcdef0123456789", "lists.sender.example", today)
    assert len(long.split("@")[0]) > 64
    code, text = rcpt_reply(srs, long)
    assert code == 250, text

    h = good.split("=")[1]
    forged = good.replace(h, "AAAAAA" if h != "AAAAAA" else "BBBBBB")
    code, text = rcpt_reply(srs, forged)
    assert code == 550 and text.startswith(f"5.1.1 <{forged}>: Recipient address rejected: "
                                           "SRS address hash mismatch"), text
    expired = srs0(srs, "someone", "sender.example", today - 22)
    code, text = rcpt_reply(srs, expired)
    assert code == 550 and text == (f"5.1.1 <{expired}>: Recipient address rejected: "
                                    "SRS address expired"), text
    # 21 days old is still good
    code, text = rcpt_reply(srs, srs0(srs, "someone", "sender.example", today - 21))
    assert code == 250, text
    bad = f"SRS0=ABCDEF@{HOST}"
    code, text = rcpt_reply(srs, bad)
    assert code == 550 and text.endswith("malformed SRS address"), text
    # ordinary addresses of the SRS domain are left to the recipient policy
    assert rcpt_reply(srs, f"fwd@{HOST}")[0] == 250
    code, text = rcpt_reply(srs, f"srs0x@{HOST}")
    assert code == 550 and "User unknown" in text, text


def test_qmgr_bounces_a_forged_address_queued_here(srs):
    """Mail queued for an SRS address without smtpd (sendmail) is checked by qmgr."""
    srs.start()
    forged = f"SRS0=AAAAAA=AA=sender.example=someone@{HOST}"
    r = subprocess.run([os.path.join(os.path.dirname(TERN), "sendmail"), "-C", srs.dir,
                        "-f", "", forged], input=BODY.encode(), capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: srs.log_lines(rf"to=<{re.escape(forged)}>.*dsn=5\.1\.1, status=bounced "
                                   r"\(SRS address hash mismatch\)"),
             timeout=60, what="the forged SRS address bounced")


def test_null_sender_is_never_rewritten(srs):
    srs.start()
    send(srs, "", [f"fwd@{HOST}"])
    tx = arrived(srs.remote)
    assert (tx.sender, tx.rcpts) == ("", ["friend@remote.example"])
    assert not srs.log_lines("rewritten to")


def test_srs_domain_empty_changes_nothing(srs):
    srs.conf("srs_domain =\n")
    os.unlink(os.path.join(srs.dir, "srs.key"))    # not needed when SRS is off
    srs.start()
    send(srs, SENDER, [f"fwd@{HOST}"])
    tx = arrived(srs.remote)
    assert tx.sender == SENDER
    code, text = rcpt_reply(srs, f"SRS0=ABCDEF=AB=sender.example=someone@{HOST}")
    assert code == 550 and "User unknown" in text, text
    assert not srs.log_lines("SRS recipient|rewritten")


def test_another_forwarders_srs0_becomes_srs1_and_comes_back(srs):
    srs.start()
    theirs = "SRS0=Ab12Cd=XY=other.example=bob@fwd.example"
    send(srs, theirs, [f"fwd@{HOST}"])
    tx = arrived(srs.remote)
    m = re.match(r"^SRS1=([A-Z2-7]{6})=fwd\.example==Ab12Cd=XY=other\.example=bob@"
                 + re.escape(HOST) + "$", tx.sender)
    assert m, tx.sender
    # a bounce to the SRS1 address goes to the first forwarder's SRS0 address
    send(srs, "", [tx.sender], body="Subject: bounce\r\n\r\nreturned\r\n")
    back = arrived(srs.origin)
    assert (back.sender, back.rcpts) == ("", [theirs])


def test_a_copy_for_local_and_remote_recipients_is_split(srs, users):
    u = users()
    with open(srs.aliases, "a") as f:
        f.write(f"mix {u.pw_name}, friend@remote.example\n")
    srs.start()
    send(srs, SENDER, [f"mix@{HOST}"])
    tx = arrived(srs.remote)
    assert SRS0.match(tx.sender), tx.sender
    new = os.path.join(srs.dir, "mail", u.pw_name, "new")
    wait_for(lambda: os.path.isdir(new) and os.listdir(new), timeout=60, what="local delivery")
    with open(os.path.join(new, os.listdir(new)[0]), "rb") as f:
        assert f.read().startswith(f"Return-Path: <{SENDER}>\n".encode())
    assert srs.log_lines(r"status=sent \(forwarded as \w+ and \w+\)")


def test_srs_domain_must_be_ours(instance):
    instance.conf("srs_domain = elsewhere.example\n")
    r = instance.tern("start")
    assert r.returncode != 0
    assert re.search(r"tern/(\w+/)?smtpd\[\d+\]: fatal: srs_domain = elsewhere\.example is not a "
                     r"domain tern receives mail for", instance.log())
    assert instance.log_lines(r"smtpd pid \d+ exit status 78")


def test_a_missing_or_readable_key_is_an_error_at_start(instance):
    """Each daemon that needs the key says why it cannot start (the first to fail stops the
    start, so each is tried alone)."""
    key = os.path.join(instance.dir, "srs.key")
    master = os.path.join(instance.dir, "master.conf")
    with open(master) as f:
        services = f.read()
    os.chmod(key, 0o644)
    instance.drop_services(["qmgr"])
    r = instance.tern("start")
    assert r.returncode != 0, r.stderr
    assert instance.log_lines(r"tern/(\w+/)?smtpd\[\d+\]: fatal: srs_domain is set but the key cannot "
                              r"be used .*readable or writable by group or others \(mode 0644\)"), \
        r.stderr + instance.log()
    assert instance.log_lines(r"smtpd pid \d+ exit status 78")
    os.unlink(key)
    with open(master, "w") as f:
        f.write(services)
    # every smtpd service goes (submission and smtps need the key too): qmgr alone fails
    instance.drop_services([f"127.0.0.1:{port}" for port in
                            (instance.smtp_port, instance.submission_port, instance.smtps_port)])
    assert instance.tern("start").returncode != 0
    assert instance.log_lines(r"tern/qmgr\[\d+\]: fatal: srs_domain is set but the key cannot "
                              r"be used .*srs\.key: open: No such file")
    assert instance.log_lines(r"qmgr pid \d+ exit status 78")


@pytest.mark.skipif(not IS_ROOT, reason="tern setup must run as root")
def test_tern_setup_makes_a_missing_key_or_suggests_srs_domain(tmp_path):
    from test_install import install_dirs, make_install
    dest = str(tmp_path / "destdir")
    make_install(dest)
    dirs = install_dirs()
    tern = f"{dest}{dirs['sbindir']}/tern"
    key = f"{dest}{dirs['terndir']}/srs.key"
    r = subprocess.run([tern, "setup", "--root", dest], capture_output=True, text=True,
                       timeout=120)
    assert "srs_domain is not set" in r.stderr, r.stderr
    assert not os.path.exists(key)
    r = subprocess.run([tern, "-o", "srs_domain=mx.example", "setup", "--root", dest],
                       capture_output=True, text=True, timeout=120)
    assert f"made the SRS key {key} for srs_domain = mx.example" in r.stderr, r.stderr
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    with open(key) as f:
        assert re.fullmatch(r"[0-9a-f]{64}\n", f.read())
    r = subprocess.run([tern, "-o", "srs_domain=mx.example", "setup", "--root", dest],
                       capture_output=True, text=True, timeout=120)
    assert "made the SRS key" not in r.stderr
    os.chmod(key, 0o640)
    r = subprocess.run([tern, "-o", "srs_domain=mx.example", "setup", "--root", dest],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "readable or writable by group or others" in r.stderr

"""Remote delivery (issue 5) end to end: mail submitted to smtpd leaves through the smtp (or
lmtp) client to test servers on loopback: tests/integration/smtpserver.py (scriptable),
aiosmtpd, and, for MX look-ups, a DNS server of the test (dnsserver.py) that tern.conf's
dns_server points at. Each test checks what the receiving server got and the log lines."""
import os
import smtplib

import pytest

from conftest import free_port, make_test_cert, wait_for
from smtpserver import SmtpServer

FAST_RETRY = "minimal_backoff_time = 1s\nmaximal_backoff_time = 1s\nqueue_run_delay = 1s\n"
BODY = (b"From: <s@sender.example>\r\nTo: <r@example.test>\r\nSubject: relay test\r\n"
        b"Message-ID: <relay-test@sender.example>\r\n\r\nline one\r\n.leading dot\r\n"
        b"..two dots\r\n\r\nlast line\r\n")


def send(instance, rcpts, sender="s@sender.example", body=BODY):
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=10) as c:
        c.sendmail(sender, rcpts, body)


def route(instance, nexthop, extra=""):
    instance.conf(f"transport_maps = inline:{{example.test=smtp:{nexthop}}}\n" + extra)


def queue_empty(instance):
    return not any(f for d in ("incoming", "active", "deferred")
                   for f in os.listdir(os.path.join(instance.spool, d)))


def body_after_received(data):
    """The message as the server got it, without the Received: header our smtpd added."""
    assert data.startswith(b"Received: "), data[:80]
    end = data.index(b"\r\n", 0)
    while data[end + 2:end + 3] in (b" ", b"\t"):
        end = data.index(b"\r\n", end + 2)
    return data[end + 2:]


def test_relay_is_byte_identical_apart_from_added_headers(instance):
    with SmtpServer() as srv:
        route(instance, f"[127.0.0.1]:{srv.port}")
        instance.start()
        send(instance, ["r@example.test"])
        wait_for(lambda: srv.transactions, timeout=30, what="the message relayed")
        (tx,) = srv.transactions
        assert tx.sender == "s@sender.example" and tx.rcpts == ["r@example.test"]
        assert body_after_received(tx.data) == BODY
        wait_for(lambda: instance.log_lines(
            rf"to=<r@example\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{srv.port}, .*"
            r"dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: queued as T1\)"), what="the log line")
        wait_for(lambda: queue_empty(instance), what="an empty queue")


def test_relay_to_aiosmtpd(instance):
    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self):
            self.envelopes = []

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append(envelope)
            return "250 OK"

    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        route(instance, f"[127.0.0.1]:{port}")
        instance.start()
        send(instance, ["a@example.test", "b@example.test"])
        wait_for(lambda: handler.envelopes, timeout=30, what="aiosmtpd got the message")
        env = handler.envelopes[0]
        assert env.mail_from == "s@sender.example"
        assert sorted(env.rcpt_tos) == ["a@example.test", "b@example.test"]
        assert body_after_received(env.original_content) == BODY
    finally:
        controller.stop()


def test_4xx_is_retried_and_5xx_bounces_with_its_text(instance):
    tries = {"n": 0}

    def rcpt(addr):
        if addr.startswith("gone"):
            return "550 5.1.1 <gone@example.test>: Recipient address rejected"
        if addr.startswith("later"):
            tries["n"] += 1
            return "450 4.2.0 mailbox busy" if tries["n"] == 1 else None
        return None

    with SmtpServer(rcpt=rcpt) as srv:
        route(instance, f"[127.0.0.1]:{srv.port}", FAST_RETRY)
        instance.start()
        send(instance, ["later@example.test", "gone@example.test"])
        wait_for(lambda: any("later@example.test" in t.rcpts for t in srv.transactions),
                 timeout=30, what="the retry delivered")
        assert instance.log_lines(r"to=<later@example\.test>, .*dsn=4\.2\.0, status=deferred "
                                  r"\(.*450 4\.2\.0 mailbox busy")
        assert instance.log_lines(r"to=<gone@example\.test>, .*dsn=5\.1\.1, status=bounced "
                                  r"\(.*550 5\.1\.1 <gone@example\.test>: Recipient address "
                                  r"rejected")
        assert instance.log_lines(r"sender non-delivery notification")


def test_server_closing_in_data_defers(instance):
    with SmtpServer(close_in_data=10) as srv:
        route(instance, f"[127.0.0.1]:{srv.port}")
        instance.start()
        send(instance, ["r@example.test"])
        wait_for(lambda: instance.log_lines(r"to=<r@example\.test>, .*status=deferred"),
                 timeout=30, what="a deferral")
        assert not srv.transactions


def test_slow_server_times_out(instance):
    with SmtpServer(delay=4) as srv:
        route(instance, f"[127.0.0.1]:{srv.port}",
              "smtp_helo_timeout = 1s\nsmtp_mail_timeout = 1s\n")
        instance.start()
        send(instance, ["r@example.test"])
        wait_for(lambda: instance.log_lines(r"to=<r@example\.test>, .*status=deferred"),
                 timeout=30, what="a deferral")
        assert instance.log_lines(r"status=deferred \(.*(timed out|time-out|timeout)")


def test_fifty_messages_share_connections(instance):
    with SmtpServer() as srv:
        route(instance, f"[127.0.0.1]:{srv.port}")
        instance.start()
        with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=10) as c:
            for i in range(50):
                c.sendmail("s@sender.example", [f"r{i}@example.test"], BODY)
        wait_for(lambda: len(srv.transactions) == 50, timeout=60, what="50 messages relayed")
        assert srv.connections <= 25, srv.connections


# ---- TLS ----

@pytest.fixture
def cert(tmp_path):
    return make_test_cert(tmp_path / "servercert", cn="mx.example.test")


def test_starttls_at_may(instance, cert):
    with SmtpServer(starttls=cert) as srv:
        route(instance, f"[127.0.0.1]:{srv.port}", "smtp_tls_security_level = may\n")
        instance.start()
        send(instance, ["r@example.test"])
        wait_for(lambda: srv.transactions, timeout=30, what="delivered at may")
        assert srv.transactions[0].tls
        assert instance.log_lines(r"(Untrusted|Anonymous) TLS connection established to "
                                  rf"127\.0\.0\.1\[127\.0\.0\.1\]:{srv.port}: TLSv1\.[23] with "
                                  r"cipher \S+")


def test_starttls_verify_with_the_test_ca(instance, cert):
    with SmtpServer(starttls=cert) as srv:
        route(instance, f"[mx.example.test]:{srv.port}",
              f"smtp_tls_security_level = verify\nsmtp_tls_CAfile = {cert[0]}\n")
        # mx.example.test resolves through the hosts-free path: use the instance's dns_server
        from dnsserver import DnsServer
        with DnsServer({"mx.example.test": {"A": ["127.0.0.1"]}}) as dns:
            instance.conf(f"dns_server = 127.0.0.1@{dns.port}\n")
            instance.start()
            send(instance, ["r@example.test"])
            wait_for(lambda: srv.transactions, timeout=30, what="delivered at verify")
        assert srv.transactions[0].tls
        assert instance.log_lines(r"Verified TLS connection established to mx\.example\.test")


def test_encrypt_defers_without_starttls(instance):
    with SmtpServer() as srv:
        route(instance, f"[127.0.0.1]:{srv.port}", "smtp_tls_security_level = encrypt\n")
        instance.start()
        send(instance, ["r@example.test"])
        wait_for(lambda: instance.log_lines(r"to=<r@example\.test>, .*status=deferred \(.*TLS "
                                            r"is required"), timeout=30, what="a deferral")
        assert not srv.transactions


def test_response_injection_after_starttls_is_discarded(instance, cert):
    with SmtpServer(starttls=cert, inject="250-injected\r\n250 PIPELINING") as srv:
        route(instance, f"[127.0.0.1]:{srv.port}", "smtp_tls_security_level = may\n")
        instance.start()
        send(instance, ["r@example.test"])
        wait_for(lambda: srv.transactions, timeout=30, what="delivered over TLS")
        assert srv.transactions[0].tls
        # the client spoke EHLO again inside TLS instead of using the injected lines
        ehlos = [c for c in srv.commands if c.upper().startswith("EHLO")]
        assert len(ehlos) >= 2


# ---- MX look-ups through a DNS server of the test ----

def mx_instance(instance, dns, port, extra=""):
    instance.conf(f"dns_server = 127.0.0.1@{dns.port}\n"
                  f"transport_maps = inline:{{example.test=smtp:example.test:{port}, "
                  f"nullmx.test=smtp:nullmx.test:{port}, nx.test=smtp:nx.test:{port}, "
                  f"implicit.test=smtp:implicit.test:{port}}}\n" + extra)


def test_mx_order_fallback_implicit_null_and_nxdomain(instance):
    port = free_port()
    zone = {
        "example.test": {"MX": [(20, "mx2.example.test"), (10, "mx1.example.test")]},
        "mx1.example.test": {"A": ["127.0.0.2"]},
        "mx2.example.test": {"A": ["127.0.0.3"]},
        "implicit.test": {"A": ["127.0.0.3"]},
        "nullmx.test": {"MX": [(0, ".")]},
    }
    from dnsserver import DnsServer
    # mx1 refuses (554 greeting), mx2 accepts: the message goes to mx2
    with DnsServer(zone) as dns, \
            SmtpServer(host="127.0.0.2", port=port, greeting="554 5.3.2 go away") as mx1, \
            SmtpServer(host="127.0.0.3", port=port) as mx2:
        mx_instance(instance, dns, port)
        instance.start()
        send(instance, ["r@example.test"])
        wait_for(lambda: mx2.transactions, timeout=30, what="delivery to the second MX")
        assert mx1.connections >= 1
        wait_for(lambda: instance.log_lines(r"to=<r@example\.test>, relay=mx2\.example\.test"
                                            rf"\[127\.0\.0\.3\]:{port}, .*status=sent"),
                 what="the log line of the delivery to the second MX")
        send(instance, ["r@implicit.test"])
        wait_for(lambda: any("r@implicit.test" in t.rcpts for t in mx2.transactions),
                 timeout=30, what="delivery to the implicit MX")
        send(instance, ["r@nullmx.test", "r@nx.test"])
        wait_for(lambda: instance.log_lines(r"to=<r@nullmx\.test>, .*dsn=5\.1\.10, "
                                            r"status=bounced"), timeout=30, what="null MX bounce")
        wait_for(lambda: instance.log_lines(r"to=<r@nx\.test>, .*dsn=5\.1\.2, status=bounced"),
                 timeout=30, what="NXDOMAIN bounce")


# ---- LMTP ----

def test_lmtp_per_recipient_replies(instance, tmp_path):
    path = str(tmp_path / "lmtp.sock")
    os.chmod(tmp_path, 0o755)
    with SmtpServer(unix_path=path, lmtp=True,
                    data_lmtp=lambda r, n: "552 5.2.2 mailbox full" if r.startswith("full")
                    else None) as srv:
        instance.conf(f"transport_maps = inline:{{example.test=lmtp:unix:{path}}}\n")
        instance.start()
        send(instance, ["a@example.test", "full@example.test"])
        wait_for(lambda: instance.log_lines(r"to=<full@example\.test>, .*status=bounced"),
                 timeout=30, what="the full mailbox bounced")
        assert instance.log_lines(r"to=<a@example\.test>, .*status=sent")
        assert srv.transactions and "a@example.test" in srv.transactions[0].rcpts
        assert any(c.upper().startswith("LHLO") for c in srv.commands)


def test_relay_to_postfix_smtp_sink(instance, tmp_path):
    """Postfix's smtp-sink as the receiving server (Debian's postfix package)."""
    import shutil
    import subprocess
    sink = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    dump_dir = tmp_path / "sink"
    dump_dir.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(dump_dir, 0o777)
    port = free_port()
    args = [sink, "-D", str(dump_dir / "dump"), f"127.0.0.1:{port}", "10"]
    if os.geteuid() == 0:
        args[1:1] = ["-u", "nobody"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        route(instance, f"[127.0.0.1]:{port}")
        instance.start()
        send(instance, ["r@example.test"])
        wait_for(lambda: instance.log_lines(rf"to=<r@example\.test>, relay=127\.0\.0\.1"
                                            rf"\[127\.0\.0\.1\]:{port}, .*status=sent"),
                 timeout=30, what="delivered to smtp-sink")
        dump = (dump_dir / "dump").read_bytes()
        # the body as it was sent (dot-stuffed on the wire, unstuffed by the sink)
        assert b"Subject: relay test\n" in dump
        assert b"\nline one\n.leading dot\n..two dots\n\nlast line\n" in dump
    finally:
        proc.terminate()
        proc.wait(timeout=10)


DOVECOT_CONF = """protocols = lmtp
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
mail_location = maildir:{d}/mail/%n
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/mail/%n
}}
passdb {{
  driver = static
  args = nopassword=y
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
"""


def test_lmtp_to_dovecot(instance, tmp_path):
    """Dovecot's LMTP server (Debian's dovecot-lmtpd) stores what the lmtp client sends."""
    import shutil
    import subprocess
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if os.geteuid() != 0:
        pytest.skip("dovecot's master must start as root")
    d = tmp_path / "dovecot"
    for sub in ("run", "state", "mail"):
        (d / sub).mkdir(parents=True)
    os.chmod(tmp_path, 0o755)
    os.chmod(d, 0o755)
    os.chmod(d / "mail", 0o777)
    conf = d / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(d=d))
    # it daemonizes: its output goes to a file, not to pipes the daemon would keep open
    with open(d / "start.log", "w") as out:
        r = subprocess.run([dovecot, "-c", str(conf)], stdout=out, stderr=out, timeout=30)
    assert r.returncode == 0, (d / "start.log").read_text()
    try:
        sock = d / "run" / "lmtp"
        wait_for(sock.exists, what="dovecot's LMTP socket")
        instance.conf(f"transport_maps = inline:{{example.test=lmtp:unix:{sock}}}\n")
        instance.start()
        send(instance, ["alice@example.test", "bob@example.test"])
        for user in ("alice", "bob"):
            new = d / "mail" / user / "new"
            wait_for(lambda: new.is_dir() and os.listdir(new), timeout=30,
                     what=f"{user}'s message in dovecot's Maildir")
            (name,) = os.listdir(new)
            assert b"Subject: relay test" in (new / name).read_bytes()
        # dovecot stores before it answers: the log lines may come a moment later
        wait_for(lambda: len(instance.log_lines(r"to=<(alice|bob)@example\.test>, relay=.*"
                                                r"dsn=2\.0\.0, status=sent \(250 2\.0\.0 <"))
                 == 2, what="both recipients logged as sent")
    finally:
        subprocess.run(["doveadm", "-c", str(conf), "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)

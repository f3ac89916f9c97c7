"""Integration tests of the smtp/lmtp client's engine (delivery/smtp/). Most play qmgr's part:
they put a queue file in spool/active/, send the `deliver` request (mail/delivery_proto.h)
to private/smtp or private/lmtp and check the per-recipient results, while a server of the
test on loopback (tests/integration/smtpserver.py, or a scripted one here that sees every
byte) plays the other side. A few go end to end through smtpd and qmgr."""
import os
import socket
import ssl
import time

import pytest

from conftest import (free_port, ipc_call, make_queue_id, make_test_cert, wait_for,
                      write_queue_file)
from smtpserver import Listener, SmtpServer

SMTP = os.path.join(os.environ.get("TERN_BUILDDIR", os.getcwd()), "libexec", "smtp")
pytestmark = pytest.mark.skipif(not os.path.exists(SMTP), reason="libexec/smtp not built")

NOTIFY_NEVER, NOTIFY_SUCCESS, NOTIFY_FAILURE, NOTIFY_DELAY = 1, 2, 4, 8
CONTENT = (b"Received: from x by y; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
           b"From: <s@sender.example>\r\nTo: <r@example.test>\r\nSubject: engine test\r\n\r\n"
           b"line one\r\n.leading dot\r\n..two dots\r\n.\r\n\r\nlast line\r\n")
STUFFED = CONTENT.replace(b"\r\n.", b"\r\n..") + b".\r\n"
TIMEOUT = 20


# ---- a scripted server: a handler function per connection, every byte visible ----

class Conn:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""
        sock.settimeout(TIMEOUT)

    def send(self, *lines):
        self.sock.sendall(b"".join(l.encode() + b"\r\n" for l in lines))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk
        assert len(self.buf) < 64 << 20

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def pending(self, wait=0.3):
        """Whatever arrives within `wait` seconds beyond what was read (lock-step checks)."""
        self.sock.settimeout(wait)
        try:
            self._fill()
        except (socket.timeout, EOFError):
            pass
        self.sock.settimeout(TIMEOUT)
        return self.buf

    def data(self):
        """The message as sent, dot-stuffing and final dot included."""
        while b"\r\n.\r\n" not in b"\r\n" + self.buf:
            self._fill()
        end = (b"\r\n" + self.buf).index(b"\r\n.\r\n") + 3
        raw, self.buf = self.buf[:end], self.buf[end:]
        return raw

    def starttls(self, cert):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*cert)
        self.sock = ctx.wrap_socket(self.sock, server_side=True)
        self.buf = b""


class Script(Listener):
    """Runs handler(conn) for each connection (TCP on 127.0.0.1, or a UNIX socket); an
    assertion failed in a handler fails the test when the block ends."""

    def __init__(self, handler, unix_path=None):
        self.handler, self.failures = handler, []
        super().__init__(unix_path=unix_path, backlog=16)

    def __exit__(self, *exc):
        super().__exit__(*exc)
        assert not self.failures, self.failures

    def session(self, s):
        conn = Conn(s)
        try:
            self.handler(conn)
        except (EOFError, OSError):
            pass
        except AssertionError as e:
            self.failures.append(repr(e))
        finally:
            try:
                conn.sock.close()
            except OSError:
                pass


def hello(conn, ext=("PIPELINING", "8BITMIME", "SIZE 10000000", "DSN")):
    """Greeting and EHLO; returns the EHLO line."""
    conn.send("220 script ESMTP")
    line = conn.line()
    assert line.startswith("EHLO "), line
    lines = ["script"] + list(ext)
    conn.send(*[f"250{'-' if i < len(lines) - 1 else ' '}{x}" for i, x in enumerate(lines)])
    return line


# ---- playing qmgr ----

@pytest.fixture
def agent(instance):
    """The instance without qmgr, so queue files stay in active/ and the test asks the agent."""
    instance.drop_services(["qmgr", "pickup"])
    return instance


def start(instance, conf=""):
    if conf:
        instance.conf(conf)
    instance.start()
    for name in ("smtp", "lmtp"):
        sock = os.path.join(instance.spool, "private", name)
        wait_for(lambda: os.path.exists(sock), what=f"private/{name}")


def deliver(instance, nexthop, rcpts, content=CONTENT, sender="s@sender.example", attrs=None,
            transport="smtp", timeout=60):
    """Queues a message in active/ and asks the agent; returns (dead, [result dict])."""
    qid = make_queue_id()
    recipients = [r if isinstance(r, tuple) else (r, None, None) for r in rcpts]
    write_queue_file(os.path.join(instance.spool, "active", qid), sender, recipients, content,
                     attrs=attrs)
    req = [("type", "deliver"), ("queue_id", qid), ("nexthop", nexthop)]
    for address, notify, orcpt in recipients:
        orig = orcpt.split(";", 1)[1] if orcpt else ""
        req += [("rcpt", address), ("rcpt_orig", orig), ("rcpt_notify", str(notify or 0))]
    reply = ipc_call(os.path.join(instance.spool, "private", transport), req, timeout=timeout)
    assert reply[0] == ("status", "ok"), reply
    dead, results = False, []
    for name, value in reply[1:]:
        if name == "dead":
            dead = value == "1"
        elif name == "rcpt_status":
            results.append({"status": value})
        else:
            results[-1][name[5:]] = value
    assert len(results) == len(rcpts), reply
    return dead, results


def hop(server):
    return f"[127.0.0.1]:{server.port}"


# ---- the conversation ----

def test_pipelined_transaction_sends_exact_bytes(agent):
    seen = {}

    def handler(conn):
        hello(conn)
        # PIPELINING: MAIL, both RCPTs and DATA come before any reply
        time.sleep(0.3)
        seen["batch"] = conn.pending()
        for _ in range(4):
            seen.setdefault("cmds", []).append(conn.line())
        conn.send("250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok", "354 go")
        seen["data"] = conn.data()
        conn.send("250 2.0.0 Ok: queued as ABC")
        seen["after"] = conn.line()

    with Script(handler) as srv:
        start(agent)
        dead, res = deliver(agent, hop(srv), ["a@example.test", "b@example.test"])
        wait_for(lambda: "after" in seen, what="the end of the session")
    assert not dead
    assert seen["batch"].count(b"\r\n") == 4, seen["batch"]
    assert seen["cmds"] == [f"MAIL FROM:<s@sender.example> SIZE={len(CONTENT)}",
                            "RCPT TO:<a@example.test>", "RCPT TO:<b@example.test>", "DATA"]
    assert seen["data"] == STUFFED
    assert seen["after"] in ("RSET", "QUIT")
    for r in res:
        assert r["status"] == "sent" and r["dsn"] == "2.0.0", r
        assert r["text"] == "250 2.0.0 Ok: queued as ABC"
        assert r["relay"] == f"127.0.0.1[127.0.0.1]:{srv.port}"
        assert r["remote_mta"] == "dns; 127.0.0.1"
        assert r["action"] == "none"      # the server offers DSN: the success notice is its own


def test_large_message_streams_across_record_boundaries(agent):
    """Queue files hold content in 64 KiB records: a line end and a leading dot that fall on
    either side of a record boundary are still stuffed right."""
    head = b"Subject: big\r\n\r\n"
    filler = b"z" * (65536 - len(head) - 2) + b"\r\n"          # ends exactly at 64 KiB
    content = head + filler + b".dot at the boundary\r\n" + (b"w" * 70 + b"\r\n.\r\n") * 30000
    wire = content.replace(b"\r\n.", b"\r\n..") + b".\r\n"
    got = {}

    def handler(conn):
        hello(conn)
        for _ in range(3):
            conn.line()
        conn.send("250 ok", "250 ok", "354 go")
        got["data"] = conn.data()
        conn.send("250 big ok")

    with Script(handler) as srv:
        start(agent)
        _, (r,) = deliver(agent, hop(srv), ["r@example.test"], content=content)
    assert r["status"] == "sent", r
    assert got["data"] == wire


def test_lock_step_without_pipelining_and_crlf_on_the_wire(agent):
    seen = {"early": []}
    content = b"Subject: bare\n\nbare LF line\nbare CR\rend"

    def reply_after_check(conn, text):
        seen["early"].append(conn.pending(0.2))   # nothing may come before our reply
        conn.send(text)

    def handler(conn):
        hello(conn, ext=("8BITMIME",))
        assert conn.line() == "MAIL FROM:<s@sender.example>"
        reply_after_check(conn, "250 ok")
        assert conn.line() == "RCPT TO:<a@example.test>"
        reply_after_check(conn, "550 5.1.1 no such user")
        assert conn.line() == "RCPT TO:<b@example.test>"
        reply_after_check(conn, "250 ok")
        assert conn.line() == "DATA"
        reply_after_check(conn, "354 go")
        seen["data"] = conn.data()
        conn.send("250 queued")
        seen["done"] = True

    with Script(handler) as srv:
        start(agent)
        dead, (a, b) = deliver(agent, hop(srv), ["a@example.test", "b@example.test"],
                               content=content)
    assert seen["early"] == [b""] * 4
    assert seen["data"] == b"Subject: bare\r\n\r\nbare LF line\r\nbare CR\r\nend\r\n.\r\n"
    assert a["status"] == "bounce" and a["dsn"] == "5.1.1"
    assert a["text"] == ("host 127.0.0.1[127.0.0.1] said: 550 5.1.1 no such user "
                         "(in reply to RCPT TO command)")
    assert a["diag"] == "smtp; 550 5.1.1 no such user"
    assert b["status"] == "sent" and b["dsn"] == "2.0.0" and b["text"] == "250 queued"


def test_per_recipient_results_and_multiline_replies(agent):
    def rcpt(addr):
        return {"gone": "550-5.1.1 first line\r\n550 5.1.1 <gone@example.test> unknown",
                "busy": "452 4.2.2 mailbox full",
                "odd": "550 no enhanced code"}.get(addr.split("@")[0])

    with SmtpServer(rcpt=rcpt) as srv:
        start(agent)
        dead, res = deliver(agent, hop(srv), ["gone@example.test", "busy@example.test",
                                              "odd@example.test", "ok@example.test"])
    gone, busy, odd, ok = res
    assert gone["status"] == "bounce" and gone["dsn"] == "5.1.1"
    assert gone["diag"] == "smtp; 550-5.1.1 first line 550 5.1.1 <gone@example.test> unknown"
    assert busy["status"] == "defer" and busy["dsn"] == "4.2.2"
    assert "452 4.2.2 mailbox full (in reply to RCPT TO command)" in busy["text"]
    assert odd["status"] == "bounce" and odd["dsn"] == "5.0.0"
    assert ok["status"] == "sent"
    assert [t.rcpts for t in srv.transactions] == [["ok@example.test"]]


@pytest.mark.parametrize("stage", ["mail", "data", "dot"])
def test_a_transaction_failure_applies_to_every_recipient(agent, stage):
    def handler(conn):
        hello(conn, ext=("PIPELINING",))
        cmds = [conn.line() for _ in range(3)]
        assert cmds[0].startswith("MAIL") and cmds[2] == "DATA", cmds
        if stage == "mail":
            conn.send("553 5.7.1 sender rejected", "503 5.5.1 need MAIL", "503 5.5.1 need MAIL")
        elif stage == "data":
            conn.send("250 ok", "250 ok", "451 4.3.0 no data today")
        else:
            conn.send("250 ok", "250 ok", "354 go")
            conn.data()
            conn.send("552 5.3.4 too much content")
        assert conn.line() in ("RSET", "QUIT")

    with Script(handler) as srv:
        start(agent)
        dead, (r,) = deliver(agent, hop(srv), ["r@example.test"])
    command = {"mail": "MAIL FROM", "data": "DATA", "dot": "end of DATA"}[stage]
    assert command in r["text"]
    assert (r["status"], r["dsn"]) == {"mail": ("bounce", "5.7.1"), "data": ("defer", "4.3.0"),
                                       "dot": ("bounce", "5.3.4")}[stage]
    assert not dead


def test_ehlo_refused_falls_back_to_helo(agent):
    seen = []

    def handler(conn):
        conn.send("220 old server")
        seen.append(conn.line())
        conn.send("500 5.5.1 what is EHLO")
        seen.append(conn.line())
        conn.send("250 hi")
        seen.append(conn.line())
        conn.send("250 ok")
        seen.append(conn.line())
        conn.send("250 ok")
        seen.append(conn.line())
        conn.send("354 go")
        conn.data()
        conn.send("250 ok")

    with Script(handler) as srv:
        start(agent)
        dead, (r,) = deliver(agent, hop(srv), [("r@example.test", NOTIFY_SUCCESS,
                                                "rfc822;orig@example.test")])
    assert seen[0].startswith("EHLO ") and seen[1].startswith("HELO ")
    # no extensions after HELO: no parameters at all
    assert seen[2:] == ["MAIL FROM:<s@sender.example>", "RCPT TO:<r@example.test>", "DATA"]
    assert r["status"] == "sent" and r["action"] == "relayed"


def test_unreachable_and_refusing_servers_defer(agent):
    port = free_port()
    quit_seen = []

    def refuse(conn):
        conn.send("554 5.3.2 go away")
        quit_seen.append(conn.line())
        conn.send("221 bye")

    with Script(refuse) as srv:
        start(agent)
        dead, (r,) = deliver(agent, f"[127.0.0.1]:{port}", ["r@example.test"])
        assert dead and r["status"] == "defer" and r["dsn"] == "4.4.1"
        assert r["text"] == f"connect to 127.0.0.1[127.0.0.1]:{port}: Connection refused"
        dead, (r,) = deliver(agent, hop(srv), ["r@example.test"])
        assert dead and r["status"] == "defer" and r["dsn"] == "4.3.2"
        assert r["text"] == "host 127.0.0.1[127.0.0.1] refused to talk to me: 554 5.3.2 go away"
        assert r["relay"] == f"127.0.0.1[127.0.0.1]:{srv.port}"
        wait_for(lambda: quit_seen == ["QUIT"], what="QUIT after the 554 greeting")


def test_timeouts(agent):
    def slow_greeting(conn):
        time.sleep(3)
        conn.send("220 late")

    def slow_dot(conn):
        hello(conn)
        for _ in range(3):
            conn.line()
        conn.send("250 ok", "250 ok", "354 go")
        conn.data()
        time.sleep(3)

    start(agent, "smtp_helo_timeout = 1s\nsmtp_data_done_timeout = 1s\n")
    with Script(slow_greeting) as srv:
        dead, (r,) = deliver(agent, hop(srv), ["r@example.test"])
        assert r["status"] == "defer" and r["dsn"] == "4.4.2", r
        assert r["text"] == ("conversation with 127.0.0.1[127.0.0.1] timed out while "
                             "receiving the initial server greeting")
    with Script(slow_dot) as srv:
        dead, (r,) = deliver(agent, hop(srv), ["r@example.test"])
        assert r["status"] == "defer" and "timed out while sending end of data" in r["text"]


def test_connection_lost_in_the_message_defers(agent):
    big = b"Subject: big\r\n\r\n" + b"x" * 998 + b"\r\n" * 1 + (b"y" * 78 + b"\r\n") * 20000

    def handler(conn):
        hello(conn)
        for _ in range(3):
            conn.line()
        conn.send("250 ok", "250 ok", "354 go")
        while len(conn.buf) < 10000:
            conn._fill()
        conn.sock.shutdown(socket.SHUT_RDWR)

    with Script(handler) as srv:
        start(agent)
        dead, (r,) = deliver(agent, hop(srv), ["r@example.test"], content=big)
    assert r["status"] == "defer" and r["dsn"] == "4.4.2", r
    # where the client was when it saw the loss depends on how much of the body the kernel's
    # loopback buffers took before the server hung up: in the body, or already waiting for the
    # reply to the final dot (a busy machine lets the client write it all)
    assert r["text"].startswith(("lost connection with 127.0.0.1[127.0.0.1] while sending "
                                 "message body",
                                 "lost connection with 127.0.0.1[127.0.0.1] while sending "
                                 "end of data")) or "Connection reset" in r["text"], r["text"]
    assert not dead


@pytest.mark.parametrize("bad", ["long", "many", "garbage"])
def test_bad_replies_are_protocol_errors(agent, bad):
    def handler(conn):
        conn.send("220 hi")
        conn.line()
        if bad == "long":
            conn.send("250 " + "x" * 3000)
        elif bad == "many":
            conn.send(*["250-x"] * 150, "250 x")
        else:
            conn.send("hello there")
        time.sleep(1)

    with Script(handler) as srv:
        start(agent)
        dead, (r,) = deliver(agent, hop(srv), ["r@example.test"])
    assert r["status"] == "defer" and "protocol error" in r["text"], r


# ---- extensions ----

def test_size_limit_bounces_without_sending(agent):
    commands = []

    def handler(conn):
        hello(conn, ext=("PIPELINING", "SIZE 100"))
        commands.append(conn.line())
        conn.send("250 ok")
        commands.append(conn.line())

    with Script(handler) as srv:
        start(agent)
        dead, (r,) = deliver(agent, hop(srv), ["r@example.test"])
    assert r["status"] == "bounce" and r["dsn"] == "5.3.4", r
    assert f"message size {len(CONTENT)} exceeds size limit 100" in r["text"]
    wait_for(lambda: len(commands) == 2, what="the end of the session")
    assert not any(c.startswith("MAIL") for c in commands), commands


def test_smtputf8_and_8bit_need_the_extensions(agent):
    eight = CONTENT.replace(b"line one", b"caf\xc3\xa9")
    with SmtpServer(ehlo=("PIPELINING", "DSN", "SIZE 1000000")) as srv:
        start(agent)
        _, (r,) = deliver(agent, hop(srv), ["r@example.test"], attrs={"smtputf8": "yes"})
        assert r["status"] == "bounce" and r["dsn"] == "5.6.7", r
        assert not srv.transactions
        # 8-bit content to a server without 8BITMIME goes as quoted-printable
        _, (r,) = deliver(agent, hop(srv), ["r@example.test"], content=eight)
        assert r["status"] == "sent", r
        (tx,) = srv.transactions
        head, _, body = eight.partition(b"\r\n\r\n")
        want = (head + b"\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable"
                b"\r\n\r\n" + body.replace(b"caf\xc3\xa9", b"caf=C3=A9"))
        assert tx.data == want
        assert tx.mail_params == f"SIZE={len(want)}"
    with SmtpServer(ehlo=("PIPELINING", "8BITMIME", "SMTPUTF8")) as srv:
        _, (r,) = deliver(agent, hop(srv), ["r@example.test"], content=eight,
                          attrs={"smtputf8": "yes", "body": "8BITMIME"})
        assert r["status"] == "sent", r
        (tx,) = srv.transactions
        assert tx.mail_params.split() == ["BODY=8BITMIME", "SMTPUTF8"]
        assert tx.data == eight


def test_dsn_parameters_passed_on_when_offered(agent):
    rcpt = ("r@example.test", NOTIFY_SUCCESS | NOTIFY_FAILURE, "rfc822;Orig+1@example.test")
    attrs = {"ret": "HDRS", "envid": "env+2Bid"}
    with SmtpServer(ehlo=("PIPELINING", "DSN")) as srv:
        start(agent)
        _, res = deliver(agent, hop(srv), [rcpt, ("n@example.test", NOTIFY_NEVER, None)],
                         attrs=attrs)
        assert [r["status"] for r in res] == ["sent", "sent"], res
        # the server took NOTIFY=: the success notice is its own, none of ours
        assert [r["action"] for r in res] == ["none", "none"], res
        (tx,) = srv.transactions
        assert tx.mail_params.split() == ["RET=HDRS", "ENVID=env+2Bid"]
        assert tx.rcpt_params == ["NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Orig+2B1@example.test",
                                  "NOTIFY=NEVER"]
    with SmtpServer(ehlo=("PIPELINING",)) as srv:
        _, (r,) = deliver(agent, hop(srv), [rcpt], attrs=attrs)
        assert r["status"] == "sent" and r["action"] == "relayed"
        (tx,) = srv.transactions
        assert tx.mail_params == "" and tx.rcpt_params == [""]


# ---- TLS ----

@pytest.fixture
def cert(tmp_path):
    return make_test_cert(tmp_path / "servercert", cn="mx.example.test")


def tls_line(instance, port, trust):
    return instance.log_lines(rf"{trust} TLS connection established to \S+\[127\.0\.0\.1\]:"
                              rf"{port}: TLSv1\.[23] with cipher \S+ \(\d+/\d+ bits\)")


def test_starttls_may_encrypt_verify(agent, cert):
    with SmtpServer(starttls=cert) as srv:
        start(agent, f"smtp_tls_CAfile = {cert[0]}\n")
        _, (r,) = deliver(agent, hop(srv), ["r@example.test"])
        assert r["status"] == "sent" and srv.transactions[-1].tls
        assert tls_line(agent, srv.port, "Trusted")
    # the level per destination from smtp_tls_policy_maps
    with SmtpServer(starttls=cert) as tls_srv, SmtpServer() as plain:
        agent.tern("stop")
        agent.conf(f"smtp_tls_policy_maps = inline:{{[127.0.0.1]:{tls_srv.port}=verify, "
                   f"[127.0.0.1]:{plain.port}=encrypt}}\n")
        start(agent)
        _, (r,) = deliver(agent, hop(tls_srv), ["r@example.test"])
        assert r["status"] == "sent" and tls_srv.transactions[-1].tls
        assert tls_line(agent, tls_srv.port, "Verified")
        dead, (r,) = deliver(agent, hop(plain), ["r@example.test"])
        assert r["status"] == "defer" and r["dsn"] == "4.7.4"
        assert r["text"] == ("TLS is required, but was not offered by host "
                             "127.0.0.1[127.0.0.1]")
        assert not plain.transactions


def test_dane_without_secure_tlsa_records_is_may(agent, cert):
    # an address literal has no DNSSEC-validated answers, so no TLSA records: as at may
    with SmtpServer(starttls=cert) as srv:
        start(agent, "smtp_tls_security_level = dane\n")
        _, (r,) = deliver(agent, hop(srv), ["r@example.test"])
        assert r["status"] == "sent" and srv.transactions[-1].tls, r
        assert tls_line(agent, srv.port, "Untrusted")


def test_verify_fails_for_an_untrusted_or_wrong_certificate(agent, cert, tmp_path):
    other = make_test_cert(tmp_path / "other", cn="other.example.test")
    with SmtpServer(starttls=cert) as srv:
        # the CA file holds another certificate: the chain does not verify
        start(agent, f"smtp_tls_security_level = verify\nsmtp_tls_CAfile = {other[0]}\n")
        _, (r,) = deliver(agent, hop(srv), ["r@example.test"])
        assert r["status"] == "defer" and r["dsn"] == "4.7.5", r
        assert r["text"].startswith("Server certificate not verified")
        assert tls_line(agent, srv.port, "Untrusted")
        assert not srv.transactions


def test_response_injection_is_discarded(agent, cert):
    """The server (an attacker in the middle) sends plaintext lines with its 220: none of them
    may be taken as the reply to the EHLO inside TLS."""
    seen = []

    def handler(conn):
        hello(conn, ext=("STARTTLS",))
        assert conn.line() == "STARTTLS"
        conn.send("220 go ahead", "250-injected", "250 PIPELINING")
        conn.starttls(cert)
        seen.append(conn.line())
        conn.send("250-script", "250 8BITMIME")
        seen.append(conn.line())
        seen.append(conn.pending())     # no PIPELINING inside TLS: MAIL alone
        conn.send("250 ok")
        seen.append(conn.line())
        conn.send("250 ok")
        seen.append(conn.line())
        conn.send("354 go")
        conn.data()
        conn.send("250 ok")

    with Script(handler) as srv:
        start(agent)
        _, (r,) = deliver(agent, hop(srv), ["r@example.test"])
    assert r["status"] == "sent", r
    assert seen[0].startswith("EHLO ") and seen[1].startswith("MAIL FROM:")
    assert seen[2] == b""
    assert seen[3].startswith("RCPT TO:") and seen[4] == "DATA"


def test_may_goes_on_in_plain_text_when_the_handshake_fails(agent):
    def handler(conn):
        hello(conn, ext=("STARTTLS", "PIPELINING"))
        line = conn.line()
        if line == "STARTTLS":
            conn.send("220 go ahead")
            conn.sock.sendall(b"this is not TLS\r\n")
            time.sleep(0.5)
            return
        for _ in range(2):
            conn.line()
        conn.send("250 ok", "250 ok", "354 go")
        conn.data()
        conn.send("250 plain ok")

    with Script(handler) as srv:
        start(agent)
        _, (r,) = deliver(agent, hop(srv), ["r@example.test"])
    assert r["status"] == "sent" and r["text"] == "250 plain ok", r
    assert srv.connections == 2
    assert agent.log_lines(r"Cannot start TLS: handshake failure.*trying again without TLS")


# ---- connection reuse ----

def test_connections_are_reused(agent):
    with SmtpServer() as srv:
        start(agent, "smtp_connection_reuse_count_limit = 4\n")
        for i in range(12):
            _, (r,) = deliver(agent, hop(srv), [f"r{i}@example.test"])
            assert r["status"] == "sent", r
        assert len(srv.transactions) == 12
        assert srv.connections == 3, srv.connections
        assert srv.commands.count("RSET") >= 9


def test_a_stale_cached_connection_is_replaced(agent):
    sessions = []

    def handler(conn):
        n = len(sessions)
        sessions.append(n)
        hello(conn)
        for _ in range(3):
            conn.line()
        conn.send("250 ok", "250 ok", "354 go")
        conn.data()
        conn.send(f"250 ok {n}")
        assert conn.line() == "RSET"
        conn.send("250 ok")
        if n == 0:
            conn.line()                      # the next MAIL: answered by closing
            return
        conn.line()

    with Script(handler) as srv:
        start(agent)
        _, (r,) = deliver(agent, hop(srv), ["a@example.test"])
        assert r["text"] == "250 ok 0"
        _, (r,) = deliver(agent, hop(srv), ["b@example.test"])
        assert r["status"] == "sent" and r["text"] == "250 ok 1", r
        assert srv.connections == 2


def test_fifty_messages_end_to_end_share_connections(instance):
    with SmtpServer() as srv:
        instance.conf(f"transport_maps = inline:{{example.test=smtp:[127.0.0.1]:{srv.port}}}\n")
        instance.start()
        import smtplib
        with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=10) as c:
            for i in range(50):
                c.sendmail("s@sender.example", [f"r{i}@example.test"], CONTENT[CONTENT.index(
                    b"\r\n") + 2:])
        wait_for(lambda: len(srv.transactions) == 50, timeout=60, what="50 messages relayed")
        assert srv.connections <= 20, srv.connections


def test_4xx_then_2xx_on_retry_end_to_end(instance):
    tries = []

    def data(n):
        tries.append(n)
        return "451 4.3.0 come back later" if n == 1 else None

    with SmtpServer(data=data) as srv:
        instance.conf(f"transport_maps = inline:{{example.test=smtp:[127.0.0.1]:{srv.port}}}\n"
                      "minimal_backoff_time = 1s\nmaximal_backoff_time = 1s\n"
                      "queue_run_delay = 1s\n")
        instance.start()
        import smtplib
        with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=10) as c:
            c.sendmail("s@sender.example", ["r@example.test"], b"Subject: x\r\n\r\nbody\r\n")
        wait_for(lambda: srv.transactions, timeout=30, what="the retry delivered")
        assert instance.log_lines(r"to=<r@example\.test>, .*dsn=4\.3\.0, status=deferred \(host "
                                  r"127\.0\.0\.1\[127\.0\.0\.1\] said: 451 4\.3\.0 come back later "
                                  r"\(in reply to end of DATA command\)")
        wait_for(lambda: instance.log_lines(r"to=<r@example\.test>, .*status=sent"),
                 what="the sent line")


# ---- LMTP ----

def test_lmtp_to_a_unix_socket_with_per_recipient_replies(agent, tmp_path):
    path = str(tmp_path / "lmtp.sock")
    os.chmod(tmp_path, 0o755)

    def data_lmtp(rcpt, n):
        return {"full": "552 5.2.2 mailbox full", "later": "451 4.2.0 try later"}.get(
            rcpt.split("@")[0])

    with SmtpServer(unix_path=path, lmtp=True, data_lmtp=data_lmtp,
                    rcpt=lambda a: "550 5.1.1 unknown" if a.startswith("nobody") else None) as srv:
        start(agent)
        _, res = deliver(agent, f"unix:{path}", ["a@example.test", "nobody@example.test",
                                                  "full@example.test", "later@example.test",
                                                  "b@example.test"], transport="lmtp")
    a, nobody, full, later, b = res
    assert a["status"] == "sent" and a["action"] == "delivered" and b["status"] == "sent"
    assert a["relay"].endswith(f"[{path}]")
    assert nobody["status"] == "bounce" and "RCPT TO" in nobody["text"]
    assert full["status"] == "bounce" and full["dsn"] == "5.2.2"
    assert "552 5.2.2 mailbox full (in reply to end of DATA command)" in full["text"]
    assert later["status"] == "defer" and later["dsn"] == "4.2.0"
    assert any(c.startswith("LHLO ") for c in srv.commands)
    assert srv.transactions[0].data == CONTENT


def test_lmtp_over_tcp(agent):
    with SmtpServer(lmtp=True) as srv:
        start(agent)
        _, (r,) = deliver(agent, f"inet:127.0.0.1:{srv.port}", ["r@example.test"],
                          transport="lmtp")
    assert r["status"] == "sent" and r["relay"] == f"127.0.0.1[127.0.0.1]:{srv.port}", r


def test_reply_before_the_end_of_data_is_not_taken_for_success(agent):
    """A server that answers 250 right after 354, while a large message is still being sent,
    must not make the client report the mail sent (review finding)."""
    big = b"Subject: big\r\n\r\n" + b"x" * 998 + b"\r\n" * 1 + (b"y" * 998 + b"\r\n") * 4000

    def handler(conn):
        hello(conn)
        for _ in range(3):            # MAIL, RCPT, DATA (pipelined)
            conn.line()
        conn.send("250 ok", "250 ok", "354 go", "250 2.0.0 Ok: too early")
        time.sleep(2)

    with Script(handler) as srv:
        start(agent)
        _, (r,) = deliver(agent, hop(srv), ["r@example.test"], content=big)
    assert r["status"] == "defer", r
    assert "reply before the end of data" in r["text"], r

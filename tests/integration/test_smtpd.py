"""smtpd as SMTP clients see it (issue 3): a `tern init` instance driven with Python's smtplib,
swaks and raw sockets. Each test asserts the replies a client reads, what lands in the queue
(read back with conftest.read_queue_file) and the log lines an admin reads."""
import base64
import email.utils
import os
import re
import select
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import (cmdline, make_test_cert, queue_files, read_queue_file, sasl_hash,
                      wait_for)

HOST = "mx.test.example"
TIMEOUT = 10          # every socket read is bounded by this
PASSWORD = "correct horse battery"
DATE_RE = r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}"
TLS_RE = r"TLSv1\.[23] with cipher [A-Z0-9_-]+ \(\d+/\d+ bits\)"
ENHANCED_RE = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}( |$)")


@pytest.fixture(autouse=True)
def no_queue_manager(instance):
    """These tests read what smtpd queued in incoming/: no queue manager may take it away."""
    instance.drop_services(["qmgr"])


# ---- a raw SMTP client ----

class Reply:
    """One (possibly multi-line) SMTP reply: lines without CRLF, e.g. ["250-x", "250 y"]."""

    def __init__(self, lines):
        self.lines = lines
        self.code = int(lines[0][:3])

    @property
    def line(self):
        """The whole text of a one-line reply, e.g. "250 2.1.0 Ok"."""
        assert len(self.lines) == 1, self.lines
        return self.lines[0]

    @property
    def keywords(self):
        """EHLO: the keywords after the first line, e.g. {"PIPELINING", "SIZE 1000"}."""
        return {line[4:] for line in self.lines[1:]}

    def __repr__(self):
        return "Reply(" + " | ".join(self.lines) + ")"


class Client:
    """A raw SMTP client over a socket: writes exactly the bytes a test gives and reads whole
    replies, so pipelining, bare newlines and TLS start can be controlled byte by byte."""

    def __init__(self, port, source=None, tls=None, greeting=True):
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=TIMEOUT,
            source_address=(source, 0) if source else None)
        if tls:
            self.sock = tls.wrap_socket(self.sock, server_hostname=HOST)
        self.buf = b""
        self.greeting = self.reply() if greeting else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    @property
    def local_port(self):
        return self.sock.getsockname()[1]

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; unread: {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        lines = [self._line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self._line())
        assert re.match(r"^\d{3}( |-|$)", lines[0]), lines
        return Reply(lines)

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def ehlo(self, name="client.example"):
        r = self.cmd(f"EHLO {name}")
        assert r.code == 250, r
        return r

    def rest(self):
        """Every reply until the server closes the connection (bounded by the timeout)."""
        out = []
        while True:
            try:
                out.append(self.reply())
            except EOFError:
                assert self.buf == b"", self.buf
                return out

    def silent(self, wait=0.5):
        """True when the server sent nothing within `wait` seconds (and did not close)."""
        if self.buf:
            return False
        ready, _, _ = select.select([self.sock], [], [], wait)
        return not ready

    def starttls(self, context):
        r = self.cmd("STARTTLS")
        assert r.line == "220 2.0.0 Ready to start TLS"
        assert self.buf == b"", "bytes after the 220 of STARTTLS"
        self.sock = context.wrap_socket(self.sock, server_hostname=HOST)

    def message(self, sender, rcpts, content, mail_params=""):
        """MAIL, RCPT..., DATA with content (already dot-stuffed, ending in CRLF); every reply
        must be positive. Returns the queue ID."""
        assert self.cmd(f"MAIL FROM:<{sender}>{mail_params}").line == "250 2.1.0 Ok"
        for rcpt in rcpts:
            assert self.cmd(f"RCPT TO:<{rcpt}>").line == "250 2.1.5 Ok"
        assert self.cmd("DATA").code == 354
        self.send(content + b".\r\n")
        return queued_id(self.reply())


def queued_id(reply):
    m = re.fullmatch(r"250 2\.0\.0 Ok: queued as ([0-9A-Z]+)", reply.line)
    assert m, reply
    return m.group(1)


def auth_plain(login, password):
    return base64.b64encode(f"\0{login}\0{password}".encode()).decode()


def b64(text):
    return base64.b64encode(text.encode()).decode()


# ---- the instance ----

def configure(instance, **params):
    instance.conf("".join(f"{k} = {v}\n" for k, v in params.items()))


def start(instance, **params):
    configure(instance, **params)
    instance.start()
    return instance


def untrusted(instance, **params):
    """The instance with 127.0.0.2 outside mynetworks (clients connect from there)."""
    return start(instance, mynetworks="127.0.0.1/32", **params)


def queued(instance, qid):
    path = os.path.join(instance.incoming, qid)
    assert os.path.isfile(path), f"{qid} not in incoming/: {queue_files(instance)}"
    return read_queue_file(path)


def assert_nothing_queued(instance):
    """No queue file at all, temporary ones included (a rejected message's temporary file may
    be removed just after the reply that rejected it went out: wait a little for that)."""
    deadline = time.monotonic() + 3
    while queue_files(instance) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert queue_files(instance) == []


def log_line(instance, pattern, timeout=5):
    return wait_for(lambda: instance.log_lines(pattern), timeout=timeout,
                    what=f"a log line matching {pattern!r}\n{instance.log()[-3000:]}")


def client_name(addr):
    """The name smtpd finds for a test client: 127.0.0.1 is localhost (PTR and A both answered
    from the loopback zones and /etc/hosts), other loopback addresses have no name."""
    return "localhost" if addr == "127.0.0.1" else "unknown"


def disconnect_counts(instance, client="127.0.0.1"):
    """The counters of the last `disconnect from` line of the client, e.g. {"ehlo": "1",
    "rcpt": "3/4", "commands": "7/8"}."""
    lines = log_line(instance, rf": disconnect from {client_name(client)}\[{re.escape(client)}\] "
                               r".*commands=")
    return dict(item.split("=", 1) for item in lines[-1].split(" from ", 1)[1].split()[1:])


def split_received(content):
    """(the Received: field smtpd put first, the rest of the content)."""
    assert content.startswith(b"Received: "), content[:200]
    m = re.match(rb"Received: [^\r\n]*\r\n(?:\t[^\r\n]*\r\n)*", content)
    return m.group(0).decode(), content[m.end():]


def assert_received(field, helo, addr, proto, qid, rcpt=None, tls=False, login=None):
    pattern = (re.escape(f"Received: from {helo} ({client_name(addr)} [{addr}])") + r"\r\n"
               + (r"\t\(using " + TLS_RE + r"\)\r\n" if tls else "")
               + (re.escape(f"\t(Authenticated sender: {login})") + r"\r\n" if login else "")
               + re.escape(f"\tby {HOST} (tern) with {proto} id {qid}")
               + (re.escape(f"\r\n\tfor <{rcpt}>") if rcpt else "")
               + "; (" + DATE_RE + r")\r\n")
    m = re.fullmatch(pattern, field)
    assert m, field
    when = email.utils.parsedate_to_datetime(m.group(1)).timestamp()
    assert abs(when - time.time()) < 120, field


@pytest.fixture
def cert(tmp_path):
    """A certificate (and key) this test makes, for mx.test.example and 127.0.0.1."""
    return make_test_cert(tmp_path / "testcert")


@pytest.fixture
def tls_client(cert):
    """A client TLS context that trusts only the test's certificate and checks the name."""
    ctx = ssl.create_default_context(cafile=cert[0])
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    return ctx


@pytest.fixture
def tls_instance(instance, cert):
    """An instance whose smtpd services use the test's certificate and know the AUTH login
    alice (password PASSWORD); started by the test after its own settings."""
    configure(instance, smtpd_tls_cert_file=cert[0], smtpd_tls_key_file=cert[1])
    with open(os.path.join(instance.dir, "sasl_users"), "a") as f:
        f.write(f"alice {sasl_hash(PASSWORD)}\n")
    with open(os.path.join(instance.dir, "sender_logins"), "a") as f:
        f.write("alice@mx.test.example alice\n")
    return instance


def der(cert_path):
    with open(cert_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


# ---- the dialogue ----

def test_greeting_ehlo_helo_and_case_insensitive_verbs(instance):
    start(instance)
    with Client(instance.smtp_port) as c:
        assert c.greeting.line == f"220 {HOST} ESMTP tern"
        r = c.cmd("eHlO client.example")
        assert r.lines[0] == f"250-{HOST}"
        assert r.keywords == {"PIPELINING", "SIZE 10240000", "STARTTLS", "ENHANCEDSTATUSCODES",
                              "8BITMIME", "BINARYMIME", "DSN", "SMTPUTF8", "CHUNKING"}
        assert c.cmd("helo other.example").line == f"250 {HOST}"
        assert c.cmd("nOoP").line == "250 2.0.0 Ok"
        assert c.cmd("mail from:<a@b.example>").line == "250 2.1.0 Ok"
        assert c.cmd("rcpt to:<root@mx.test.example>").line == "250 2.1.5 Ok"
        assert c.cmd("data").code == 354
        c.send(b"Subject: helo\r\n\r\nvia HELO\r\n.\r\n")
        qid = queued_id(c.reply())
        assert c.cmd("quit").line == "221 2.0.0 Bye"
        assert c.rest() == []
    q = queued(instance, qid)
    # HELO means plain SMTP, EHLO ESMTP; the last HELO/EHLO names the client
    assert q["attrs"]["protocol"] == "SMTP" and q["attrs"]["helo"] == "other.example"
    field, rest = split_received(q["content"])
    assert_received(field, "other.example", "127.0.0.1", "SMTP", qid, rcpt="root@mx.test.example")
    assert rest == b"Subject: helo\r\n\r\nvia HELO\r\n"


def test_two_local_and_one_relayed_recipient_queued_with_exact_envelope(instance):
    # a client outside mynetworks: relay.example is a relay domain, other.example is not
    untrusted(instance, relay_domains="relay.example")
    message = (b"From: Sender <sender@origin.example>\r\nTo: root@mx.test.example\r\n"
               b"Subject: envelope\r\n\r\n.leading dot\r\n..two dots\r\n.\r\n"
               b"8-bit \xc3\xa9t\xc3\xa9\r\n\r\nlast line\r\n")
    before = time.time()
    s = smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=TIMEOUT,
                     source_address=("127.0.0.2", 0))
    try:
        # smtplib waits for each reply: a client that does not pipeline
        assert s.ehlo("client.example")[0] == 250
        assert s.does_esmtp and s.has_extn("dsn") and s.has_extn("8bitmime")
        assert s.mail("sender@origin.example",
                      ["BODY=8BITMIME", "RET=HDRS", "ENVID=QQ+2B314"]) == (250, b"2.1.0 Ok")
        assert s.rcpt("root@mx.test.example",
                      ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;Root+40mx.test.example"]) \
            == (250, b"2.1.5 Ok")
        assert s.rcpt("nobody@localhost", ["NOTIFY=NEVER"]) == (250, b"2.1.5 Ok")
        assert s.rcpt("someone@other.example") == \
            (554, b"5.7.1 <someone@other.example>: Relay access denied")
        assert s.rcpt("Friend@Relay.Example", ["NOTIFY=DELAY"]) == (250, b"2.1.5 Ok")
        code, text = s.data(message)   # smtplib dot-stuffs the lines that start with "."
        assert code == 250, text
        qid = queued_id(Reply([f"{code} {text.decode()}"]))
        port = s.sock.getsockname()[1]
        assert s.quit()[0] == 221
    finally:
        s.close()
    assert queue_files(instance) == [qid]
    q = queued(instance, qid)
    # MAGIC, TIME, SENDER, attributes, each recipient with its own DSN records, content, END
    assert re.fullmatch(r"VTSA+RNORNRNC+E", q["types"]), q["types"]
    assert q["sender"] == "sender@origin.example"
    assert q["attrs"] == {"client_name": "unknown", "client_address": "127.0.0.2",
                          "client_port": str(port), "helo": "client.example",
                          "protocol": "ESMTP", "envid": "QQ+2B314", "ret": "HDRS",
                          "body": "8BITMIME"}
    assert q["recipients"] == [
        {"address": "root@mx.test.example", "notify": 6, "orcpt": "rfc822;Root@mx.test.example"},
        {"address": "nobody@localhost", "notify": 1, "orcpt": None},
        {"address": "Friend@Relay.Example", "notify": 8, "orcpt": None},
    ]
    assert before - 1 <= q["time"] <= time.time() + 1
    field, rest = split_received(q["content"])
    # three recipients: no "for <...>"; the content is byte-exact, dots unstuffed, and port 25
    # adds no Date: or Message-ID:
    assert_received(field, "client.example", "127.0.0.2", "ESMTP", qid)
    assert rest == message
    log_line(instance, rf"{qid}: from=<sender@origin\.example>, size={len(message)}, nrcpt=3 "
                       r"\(queued\)")
    assert instance.log_lines(r"connect from unknown\[127\.0\.0\.2\]$")
    assert instance.log_lines(rf": {qid}: client=unknown\[127\.0\.0\.2\]$")
    assert instance.log_lines(
        r": NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 554 5\.7\.1 "
        r"<someone@other\.example>: Relay access denied; from=<sender@origin\.example> "
        r"to=<someone@other\.example> proto=ESMTP helo=<client\.example>$")
    assert disconnect_counts(instance, "127.0.0.2") == {
        "ehlo": "1", "mail": "1", "rcpt": "3/4", "data": "1", "quit": "1", "commands": "7/8"}


def test_pipelined_client(instance):
    start(instance)
    with Client(instance.smtp_port) as c:
        assert "PIPELINING" in c.ehlo().keywords
        # the whole transaction in one write, then the content and QUIT in another
        c.send("MAIL FROM:<a@b.example>\r\nRCPT TO:<root@mx.test.example>\r\n"
               "RCPT TO:<daemon@mx.test.example>\r\nDATA\r\n")
        r = c.replies(4)
        assert [x.line for x in r[:3]] == ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok"]
        assert r[3].code == 354
        c.send(b"Subject: pipelined\r\n\r\none\r\n.\r\nRSET\r\nMAIL FROM:<>\r\n"
               b"RCPT TO:<postmaster>\r\nBDAT 6 LAST\r\nsecondQUIT\r\n")
        qid1 = queued_id(c.reply())
        r = c.replies(3)
        assert [x.line for x in r] == ["250 2.0.0 Ok", "250 2.1.0 Ok", "250 2.1.5 Ok"]
        qid2 = queued_id(c.reply())
        assert c.reply().line == "221 2.0.0 Bye"
        assert c.rest() == []
    assert sorted(queue_files(instance)) == sorted([qid1, qid2])
    q1 = queued(instance, qid1)
    assert [r["address"] for r in q1["recipients"]] == ["root@mx.test.example",
                                                        "daemon@mx.test.example"]
    assert split_received(q1["content"])[1] == b"Subject: pipelined\r\n\r\none\r\n"
    q2 = queued(instance, qid2)
    assert q2["sender"] == "" and q2["recipients"][0]["address"] == "postmaster"
    field, rest = split_received(q2["content"])
    assert_received(field, "client.example", "127.0.0.1", "ESMTP", qid2, rcpt="postmaster")
    assert rest == b"second"


@pytest.mark.parametrize("first", ["HELO client.example", "EHLO client.example"])
def test_pipelining_before_ehlo_offered_it_is_rejected(instance, first):
    start(instance)
    with Client(instance.smtp_port) as c:
        c.send(f"{first}\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<root@mx.test.example>\r\n"
               "DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n")
        replies = c.rest()
    assert replies[0].code == 250   # the first command is answered, then the session ends
    assert [r.line for r in replies[1:]] == ["554 5.5.0 Error: SMTP protocol synchronization"]
    assert_nothing_queued(instance)
    log_line(instance, r"improper command pipelining after (HELO|EHLO) from "
                       r"localhost\[127\.0\.0\.1\]")


@pytest.mark.parametrize("fake_end", [b"\n.\r\n", b"\r\n.\n", b"\n.\n", b"\r.\r\n"],
                         ids=["LF.CRLF", "CRLF.LF", "LF.LF", "CR.CRLF"])
def test_smtp_smuggling_is_rejected_and_never_read_as_commands(instance, fake_end):
    start(instance)
    with Client(instance.smtp_port) as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: real\r\n\r\nhello" + fake_end
               + b"MAIL FROM:<admin@mx.test.example>\r\nRCPT TO:<nobody@mx.test.example>\r\n"
               + b"DATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n")
        # exactly one reply for the whole thing, after the real end of data
        assert c.reply().line == "550 5.5.2 Error: bare <CR> or <LF> received"
        assert c.silent(0.5)
        assert c.cmd("QUIT").line == "221 2.0.0 Bye"
        assert c.rest() == []
    assert_nothing_queued(instance)
    log_line(instance, r": NOQUEUE: reject: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: "
                       r"550 5\.5\.2 Error: bare <CR> or <LF> received; from=<a@b\.example> "
                       r"proto=ESMTP helo=<client\.example>$")


def test_dot_stuffing_and_byte_exact_content(instance):
    start(instance)
    body = (b"Subject: dots\r\nX-Tab:\tvalue\r\n\r\n"
            b"..\r\n"                 # a stuffed lone dot
            b"...three\r\n"           # stuffed "..three"
            b".no stuffing needed\r\n"  # a single leading dot is removed too
            b"a line . with dots.\r\n"
            b" .leading space\r\n"
            b"\xff\xfe 8-bit\r\n"
            b"\r\n")
    with Client(instance.smtp_port) as c:
        c.ehlo()
        qid = c.message("a@b.example", ["root@mx.test.example"], body)
        # an 8-bit (SMTPUTF8) sender and a quoted local part are kept as written
        qid2 = c.message("us\u00e9r@b.example", ['"john doe"@other.example'],
                         b"Subject: utf8\r\n\r\n..\r\n", mail_params=" SMTPUTF8")
        assert c.cmd("QUIT").code == 221
    q2 = queued(instance, qid2)
    assert q2["sender"] == "us\u00e9r@b.example" and q2["attrs"]["smtputf8"] == "yes"
    assert q2["recipients"][0]["address"] == '"john doe"@other.example'
    assert split_received(q2["content"])[1] == b"Subject: utf8\r\n\r\n.\r\n"
    rest = split_received(queued(instance, qid)["content"])[1]
    assert rest == (b"Subject: dots\r\nX-Tab:\tvalue\r\n\r\n.\r\n..three\r\nno stuffing needed"
                    b"\r\na line . with dots.\r\n .leading space\r\n\xff\xfe 8-bit\r\n\r\n")


def test_bdat_chunks_binarymime_and_sequence_errors(instance):
    start(instance)
    with Client(instance.smtp_port) as c:
        c.ehlo()
        # three chunks, the last empty; no dot handling in BDAT
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        chunk1 = b"Subject: bdat\r\n\r\n.\r\n..two"
        chunk2 = b"\r\n.\r\nend\r\n"
        c.send(b"BDAT %d\r\n" % len(chunk1) + chunk1)
        assert c.reply().line == f"250 2.0.0 Ok: {len(chunk1)} octets received"
        assert c.cmd("DATA").line == "503 5.5.1 Error: DATA after BDAT"
        c.send(b"bdat %d\r\n" % len(chunk2) + chunk2)
        assert c.reply().line == f"250 2.0.0 Ok: {len(chunk1) + len(chunk2)} octets received"
        qid1 = queued_id(c.cmd("BDAT 0 LAST"))
        # BINARYMIME: only with BDAT, and every byte is kept
        assert c.cmd("MAIL FROM:<a@b.example> BODY=BINARYMIME").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        assert c.cmd("DATA").line == "503 5.5.1 Error: BINARYMIME requires BDAT"
        binary = b"Subject: bin\r\n\r\n\x00\x01\n\r.\r\n\xff" + bytes(range(256))
        c.send(b"BDAT %d LAST\r\n" % len(binary) + binary)
        qid2 = queued_id(c.reply())
        # BDAT without a transaction: the chunk is read (not run as commands), then refused;
        # the next transaction starts afresh
        c.send("BDAT 6\r\nNOOP\r\n")
        assert c.reply().line == "503 5.5.1 Error: need MAIL command"
        assert c.silent(0.3)
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        c.send(b"BDAT 9 LAST\r\nafterward")
        qid3 = queued_id(c.reply())
        assert c.cmd("QUIT").code == 221
    assert sorted(queue_files(instance)) == sorted([qid1, qid2, qid3])
    assert split_received(queued(instance, qid1)["content"])[1] == chunk1 + chunk2
    q2 = queued(instance, qid2)
    assert q2["attrs"]["body"] == "BINARYMIME"
    assert split_received(q2["content"])[1] == binary


def test_commands_replies_and_enhanced_status_codes(instance):
    start(instance, smtpd_error_sleep_time="0", smtpd_hard_error_limit="100",
          smtpd_soft_error_limit="100")
    long_local = "x" * 251   # with "@b.example": a path over 256 bytes
    dialogue = [
        ("FOO bar", "500 5.5.2 Error: command not recognized"),
        ("SEND FROM:<a@b.example>", "502 5.5.1 Error: command not implemented"),
        ("SOML FROM:<a@b.example>", "502 5.5.1 Error: command not implemented"),
        ("SAML FROM:<a@b.example>", "502 5.5.1 Error: command not implemented"),
        ("TURN", "502 5.5.1 Error: command not implemented"),
        ("EXPN root", "502 5.5.1 Error: command not implemented"),
        ("VRFY root", "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery"),
        ("VRFY nosuchuser", "252 2.5.2 Cannot VRFY user, but will accept message and attempt "
                            "delivery"),
        ("HELO", "501 5.5.4 Syntax: HELO hostname"),
        ("EHLO", "501 5.5.4 Syntax: EHLO hostname"),
        ("NOOP", "250 2.0.0 Ok"),
        ("RCPT TO:<root@mx.test.example>", "503 5.5.1 Error: need MAIL command"),
        ("DATA", "503 5.5.1 Error: need MAIL command"),
        ("MAIL FROM:a@b.example", "501 5.1.7 Bad sender address syntax"),
        ("MAIL TO:<a@b.example>", "501 5.5.4 Syntax: MAIL FROM:<address>"),
        (f"MAIL FROM:<{long_local}@b.example>", "501 5.1.7 Bad sender address syntax"),
        ("MAIL FROM:<a@b.example> SIZE=12 SIZE=13", None),
        ("MAIL FROM:<a@b.example> FOO=BAR", None),
        ("MAIL FROM:<us\u00e9r@b.example>",
         "553 5.6.7 Must declare SMTPUTF8 to send an address with 8-bit characters"),
        ("MAIL FROM:<a@b.example>", "250 2.1.0 Ok"),
        ("MAIL FROM:<c@d.example>", "503 5.5.1 Error: nested MAIL command"),
        ("DATA", "554 5.5.1 Error: no valid recipients"),
        ("RCPT TO:root@mx.test.example", "501 5.1.3 Bad recipient address syntax"),
        ("RCPT TO:<root@mx.test.example> NOTIFY=SOMETIMES", None),
        ("RCPT TO:<r\u00f6ot@mx.test.example>",
         "553 5.6.7 Must declare SMTPUTF8 to send an address with 8-bit characters"),
        ("RCPT TO:<a@" + "b" * 250 + ".example>", "501 5.1.3 Bad recipient address syntax"),
        ("RCPT TO:<root@mx.test.example>", "250 2.1.5 Ok"),
        ("DATA now", "501 5.5.4 Syntax: DATA"),
        ("NOOP\x01", "500 5.5.2 Error: bad character in command"),
        ("STARTTLS now", "501 5.5.4 Syntax: STARTTLS"),
        ("AUTH PLAIN", "503 5.5.1 Error: authentication not enabled"),
        ("HELP", None),
        ("RSET", "250 2.0.0 Ok"),
        ("DATA", "503 5.5.1 Error: need MAIL command"),
        ("MAIL FROM:<us\u00e9r@b.example> SMTPUTF8", "250 2.1.0 Ok"),
        ("RCPT TO:<r\u00f6@other.example>", "250 2.1.5 Ok"),   # 127.0.0.1 may relay
        ("RCPT TO:<Postmaster>", "250 2.1.5 Ok"),
        ("RSET", "250 2.0.0 Ok"),
        ("MAIL FROM:<a@b.example> AUTH=<> SIZE=100 BODY=7BIT RET=FULL ENVID=x+2By",
         "250 2.1.0 Ok"),
        ("RSET", "250 2.0.0 Ok"),
    ]
    with Client(instance.smtp_port) as c:
        c.ehlo()
        for command, expected in dialogue:
            r = c.cmd(command)
            # every reply but the greeting and HELO/EHLO carries an enhanced status code
            assert ENHANCED_RE.match(r.lines[-1][4:]), (command, r)
            if expected:
                assert r.line == expected, command
            elif command.startswith("HELP"):
                assert r.code == 214 and r.lines[-1].startswith("214 2.0.0 "), r
            else:
                assert r.line.startswith("555 5.5.4 "), (command, r)
        assert c.cmd("QUIT").line == "221 2.0.0 Bye"
        assert c.rest() == []
    assert_nothing_queued(instance)
    # 252 is VRFY's positive answer; EXPN failed
    counts = disconnect_counts(instance)
    assert counts["vrfy"] == "2" and counts["expn"] == "0/1" and counts["quit"] == "1", counts


def test_vrfy_disabled_helo_required_and_no_tls(instance):
    start(instance, disable_vrfy_command="yes", smtpd_helo_required="yes",
          smtpd_tls_security_level="none")
    with Client(instance.smtp_port) as c:
        assert c.cmd("VRFY root").line == "502 5.5.1 VRFY command is disabled"
        assert c.cmd("MAIL FROM:<a@b.example>").line == "503 5.5.1 Error: send HELO/EHLO first"
        # TLS not configured: neither offered nor accepted
        assert "STARTTLS" not in c.ehlo().keywords
        assert c.cmd("STARTTLS").line == "502 5.5.1 Error: command not implemented"
        assert c.cmd("MAIL FROM:<a@b.example>").line == "250 2.1.0 Ok"
        assert c.cmd("QUIT").code == 221
    assert_nothing_queued(instance)


# ---- relay and recipient policy ----

def test_untrusted_client_cannot_relay_by_any_trick(instance):
    untrusted(instance, relay_domains="relay.example", smtpd_error_sleep_time="0",
              smtpd_hard_error_limit="100")
    tricks = [
        "user@other.example",
        "user%other.example@mx.test.example",             # percent hack
        "other.example!user@mx.test.example",             # bang path
        '"user@other.example"@mx.test.example',           # quoted @
        "user@[192.0.2.1]",                               # address literal
        "user@mx.test.example.other.example",
        "user%other.example@localhost",
        "user@relay.example.other.example",
    ]
    with Client(instance.smtp_port, source="127.0.0.2") as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        for rcpt in tricks:
            assert c.cmd(f"RCPT TO:<{rcpt}>").line == f"554 5.7.1 <{rcpt}>: Relay access denied"
        # a source route is ignored: this is user@other.example
        r = c.cmd("RCPT TO:<@mx.test.example:user@other.example>")
        assert r.line == "554 5.7.1 <user@other.example>: Relay access denied"
        # double @ and a trailing dot are not addresses at all
        for rcpt in ("user@other.example@mx.test.example", "user@other.example."):
            assert c.cmd(f"RCPT TO:<{rcpt}>").line == "501 5.1.3 Bad recipient address syntax"
        assert c.cmd("DATA").line == "554 5.5.1 Error: no valid recipients"
        assert c.cmd("QUIT").code == 221
    assert_nothing_queued(instance)
    assert len(instance.log_lines(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 554 "
                                  r"5\.7\.1 .*; from=<a@b\.example> to=<.*> proto=ESMTP "
                                  r"helo=<client\.example>$")) == len(tricks) + 1


def test_local_recipients_known_and_unknown(instance):
    untrusted(instance, smtpd_error_sleep_time="0")
    time.sleep(1.1)   # a while after the start: the tables are rechecked once a second
    with Client(instance.smtp_port, source="127.0.0.2") as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<>").code == 250
        for known in ("root@mx.test.example", "NOBODY@MX.TEST.EXAMPLE", "abuse@localhost",
                      "postmaster@mx.test.example", "postmaster"):
            assert c.cmd(f"RCPT TO:<{known}>").line == "250 2.1.5 Ok", known
        for unknown in ("nosuchuser@mx.test.example", "nosuchuser@localhost"):
            assert c.cmd(f"RCPT TO:<{unknown}>").line == (
                f"550 5.1.1 <{unknown}>: Recipient address rejected: User unknown in local "
                "recipient table")
        assert c.cmd("RSET").code == 250
        assert c.cmd("QUIT").code == 221
    assert_nothing_queued(instance)
    assert instance.log_lines(
        r": NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 550 5\.1\.1 "
        r"<nosuchuser@localhost>: Recipient address rejected: User unknown in local "
        r"recipient table; from=<> to=<nosuchuser@localhost> proto=ESMTP helo=<client\.example>$")


# ---- limits ----

def test_message_and_header_size_limits(instance):
    start(instance, message_size_limit="1000", header_size_limit="300",
          smtpd_error_sleep_time="0")

    def message_of(size):
        head = b"Subject: size\r\n\r\n"
        return head + b"x" * (size - len(head) - 2) + b"\r\n"

    with Client(instance.smtp_port) as c:
        assert "SIZE 1000" in c.ehlo().keywords
        assert c.cmd("MAIL FROM:<a@b.example> SIZE=1001").line == \
            "552 5.3.4 Message size exceeds fixed limit"
        # DATA one byte over the limit
        assert c.cmd("MAIL FROM:<a@b.example> SIZE=1000").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(message_of(1001) + b".\r\n")
        assert c.reply().line == "552 5.3.4 Error: message file too big"
        # far over the limit: still one reply at the end, the content is never a command
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: big\r\n\r\n" + b"NOOP\r\n" * 2000 + b".\r\n")
        assert c.reply().line == "552 5.3.4 Error: message file too big"
        assert c.silent(0.3)
        # a header over header_size_limit in a small message
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: " + b"h" * 400 + b"\r\n\r\nbody\r\n.\r\n")
        assert c.reply().line == "552 5.3.4 Error: message header size exceeds limit"
        # BDAT: one chunk over the limit, and chunks that add up to more than it
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        c.send(b"BDAT 1001 LAST\r\n" + message_of(1001))
        assert c.reply().line == "552 5.3.4 Error: message file too big"
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        c.send(b"BDAT 600\r\n" + message_of(600))
        assert c.reply().line == "250 2.0.0 Ok: 600 octets received"
        c.send(b"BDAT 600 LAST\r\n" + b"y" * 600)
        assert c.reply().line == "552 5.3.4 Error: message file too big"
        assert queue_files(instance) == []
        # exactly the limit is accepted
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(message_of(1000) + b".\r\n")
        qid = queued_id(c.reply())
        assert c.cmd("QUIT").code == 221
    assert queue_files(instance) == [qid]
    assert split_received(queued(instance, qid)["content"])[1] == message_of(1000)


def test_recipient_limit(instance):
    start(instance, smtpd_recipient_limit="3", smtpd_error_sleep_time="0")
    rcpts = ["root@mx.test.example", "nobody@mx.test.example", "daemon@mx.test.example"]
    with Client(instance.smtp_port) as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        for r in rcpts:
            assert c.cmd(f"RCPT TO:<{r}>").line == "250 2.1.5 Ok"
        assert c.cmd("RCPT TO:<bin@mx.test.example>").line == \
            "452 4.5.3 Error: too many recipients"
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: limit\r\n\r\nx\r\n.\r\n")
        qid = queued_id(c.reply())
        assert c.cmd("QUIT").code == 221
    assert [r["address"] for r in queued(instance, qid)["recipients"]] == rcpts


def test_hopcount_limit(instance):
    start(instance, hopcount_limit="3", smtpd_error_sleep_time="0")

    def hops(n):
        return b"".join(b"Received: from hop%d.example by x.example; "
                        b"Mon, 1 Jan 2024 00:00:00 +0000\r\n" % i for i in range(n))

    with Client(instance.smtp_port) as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(hops(4) + b"Subject: loop\r\n\r\nx\r\n.\r\n")
        assert c.reply().line == "554 5.4.6 Error: too many hops"
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        content = hops(4) + b"Subject: loop\r\n\r\nx\r\n"
        c.send(b"BDAT %d LAST\r\n" % len(content) + content)
        assert c.reply().line == "554 5.4.6 Error: too many hops"
        assert queue_files(instance) == []
        qid = c.message("a@b.example", ["root@mx.test.example"],
                        hops(3) + b"Subject: ok\r\n\r\nx\r\n")
        assert c.cmd("QUIT").code == 221
    assert queue_files(instance) == [qid]


def test_hard_error_limit_ends_the_session(instance):
    start(instance, smtpd_hard_error_limit="3", smtpd_error_sleep_time="0")
    with Client(instance.smtp_port) as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        assert c.cmd("FOO").line == "500 5.5.2 Error: command not recognized"
        assert c.cmd("BAR").line == "500 5.5.2 Error: command not recognized"
        assert c.cmd("BAZ").line == "500 5.5.2 Error: command not recognized"
        assert [r.line for r in c.rest()] == [f"421 4.7.0 {HOST} Error: too many errors"]
    assert_nothing_queued(instance)
    log_line(instance, r"too many errors after \S+ from localhost\[127\.0\.0\.1\]")


def test_junk_command_limit(instance):
    start(instance, smtpd_junk_command_limit="2", smtpd_hard_error_limit="3",
          smtpd_error_sleep_time="0")
    with Client(instance.smtp_port) as c:
        c.ehlo()
        answers = [c.cmd("NOOP").line for _ in range(4)]
        assert answers == ["250 2.0.0 Ok"] * 4
        # two junk commands are free, the next three count as errors: the fifth ends the
        # session (answered or not before the 421)
        c.send("NOOP\r\n")
        last = [r.line for r in c.rest()]
        assert last in ([f"421 4.7.0 {HOST} Error: too many errors"],
                        ["250 2.0.0 Ok", f"421 4.7.0 {HOST} Error: too many errors"]), last


def test_tarpit_delays_only_the_offending_session(instance):
    start(instance, smtpd_soft_error_limit="1", smtpd_error_sleep_time="2s")
    with Client(instance.smtp_port) as bad, Client(instance.smtp_port) as good:
        bad.ehlo()
        good.ehlo()
        t0 = time.monotonic()
        assert bad.cmd("FOO").code == 500           # the first error: answered at once
        assert time.monotonic() - t0 < 1.0
        t0 = time.monotonic()
        bad.send("NOOP\r\n")                        # past the soft limit: held back
        assert good.cmd("NOOP").line == "250 2.0.0 Ok"
        assert time.monotonic() - t0 < 1.0          # the other session is not slowed down
        assert bad.reply().line == "250 2.0.0 Ok"
        assert time.monotonic() - t0 >= 1.8


def test_command_line_too_long(instance):
    start(instance, smtpd_error_sleep_time="0")
    with Client(instance.smtp_port) as c:
        c.ehlo()
        # longer than line_length_limit (2048): one reply, and nothing of it runs
        c.send("NOOP " + "x" * 5000 + "\r\nQUIT\r\n" + "y" * 3000 + "\r\n")
        assert c.reply().line == "500 5.5.2 Error: line too long"
        assert c.reply().line == "221 2.0.0 Bye"
        assert c.rest() == []
    with Client(instance.smtp_port) as c:
        c.ehlo()
        c.send("MAIL FROM:<a@b.example> " + "z" * 3000 + "\r\n")
        assert c.reply().line == "500 5.5.2 Error: line too long"
        assert c.cmd("NOOP").line == "250 2.0.0 Ok"
        assert c.cmd("RCPT TO:<root@mx.test.example>").line == \
            "503 5.5.1 Error: need MAIL command"


def test_timeout(instance):
    start(instance, smtpd_timeout="2s")
    with Client(instance.smtp_port) as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: never finished\r\n\r\nhalf a mess")
        t0 = time.monotonic()
        assert [r.line for r in c.rest()] == [f"421 4.4.2 {HOST} Error: timeout exceeded"]
        assert 1.5 <= time.monotonic() - t0 <= 6
    assert_nothing_queued(instance)
    log_line(instance, r"timeout after \S+ from localhost\[127\.0\.0\.1\]")
    with Client(instance.smtp_port) as c:   # an idle session right after the greeting too
        t0 = time.monotonic()
        assert [r.line for r in c.rest()] == [f"421 4.4.2 {HOST} Error: timeout exceeded"]
        assert 1.5 <= time.monotonic() - t0 <= 6


def test_client_connection_count_limit(instance):
    untrusted(instance, smtpd_client_connection_count_limit="2")
    with Client(instance.smtp_port, source="127.0.0.2") as c1, \
            Client(instance.smtp_port, source="127.0.0.2") as c2:
        assert c1.greeting.code == 220 and c2.greeting.code == 220
        with Client(instance.smtp_port, source="127.0.0.2") as c3:
            assert c3.greeting.line == \
                f"421 4.7.0 {HOST} Error: too many connections from 127.0.0.2"
            assert c3.rest() == []
        # mynetworks clients are not limited
        with Client(instance.smtp_port) as t1, Client(instance.smtp_port) as t2, \
                Client(instance.smtp_port) as t3:
            assert [t.greeting.code for t in (t1, t2, t3)] == [220, 220, 220]
        assert c1.cmd("QUIT").code == 221
        assert c1.rest() == []
        # a closed session frees its place, and only its place
        log_line(instance, r"disconnect from unknown\[127\.0\.0\.2\] quit=1 commands=1$")
        with Client(instance.smtp_port, source="127.0.0.2") as c4, \
                Client(instance.smtp_port, source="127.0.0.2") as c5:
            assert c4.greeting.code == 220
            assert c5.greeting.code == 421 and c5.rest() == []
        assert c2.cmd("NOOP").code == 250
    assert len(instance.log_lines(r"warning: too many connections from "
                                  r"unknown\[127\.0\.0\.2\]$")) == 2


# ---- TLS and AUTH ----

def test_starttls_on_port_25_with_the_test_certificate(tls_instance, cert, tls_client):
    instance = start(tls_instance)
    s = smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=TIMEOUT)
    try:
        s.ehlo("tls.example")
        assert s.has_extn("starttls") and not s.has_extn("auth")
        assert s.starttls(context=tls_client)[0] == 220
        assert s.sock.getpeercert(binary_form=True) == der(cert[0])
        s.ehlo("tls.example")
        # inside TLS: no STARTTLS again, and no AUTH where it is not enabled
        assert not s.has_extn("starttls") and not s.has_extn("auth")
        assert s.docmd("STARTTLS") == (554, b"5.5.1 Error: TLS already active")
        s.sendmail("a@b.example", ["root@mx.test.example"], b"Subject: tls\r\n\r\nsecret\r\n")
        [qid] = queue_files(instance)
        q = queued(instance, qid)
        assert q["attrs"]["protocol"] == "ESMTPS"
        assert re.fullmatch(TLS_RE, q["attrs"]["tls"]), q["attrs"]
        field, rest = split_received(q["content"])
        assert_received(field, "tls.example", "127.0.0.1", "ESMTPS", qid,
                        rcpt="root@mx.test.example", tls=True)
        assert rest == b"Subject: tls\r\n\r\nsecret\r\n"
        log_line(instance, r"TLS connection established from localhost\[127\.0\.0\.1\]: " + TLS_RE)
        assert s.quit() == (221, b"2.0.0 Bye")
    finally:
        s.close()


def test_starttls_with_tls12(tls_instance, tls_client):
    instance = start(tls_instance)
    tls_client.maximum_version = ssl.TLSVersion.TLSv1_2
    with Client(instance.smtp_port) as c:
        c.ehlo()
        c.starttls(tls_client)
        assert c.sock.version() == "TLSv1.2"
        assert c.sock.cipher()[0].startswith("ECDHE-ECDSA-")
        assert "AUTH PLAIN LOGIN" not in c.ehlo().keywords
        assert c.cmd("NOOP").line == "250 2.0.0 Ok"
        assert c.cmd("QUIT").line == "221 2.0.0 Bye"
        assert c.rest() == []


def test_commands_pipelined_with_starttls_are_discarded(tls_instance, tls_client):
    instance = start(tls_instance)
    with Client(instance.smtp_port) as c:
        c.ehlo()
        c.send("STARTTLS\r\nNOOP\r\nMAIL FROM:<injected@evil.example>\r\n")
        assert c.reply().line == "220 2.0.0 Ready to start TLS"
        assert c.buf == b""
        c.sock = tls_client.wrap_socket(c.sock, server_hostname=HOST)
        # the first reply inside TLS is the EHLO's: the NOOP and MAIL were never answered
        r = c.cmd("EHLO client.example")
        assert r.lines[0] == f"250-{HOST}" and "STARTTLS" not in r.keywords
        # and the session started over: no MAIL transaction is open
        assert c.cmd("RCPT TO:<root@mx.test.example>").line == "503 5.5.1 Error: need MAIL command"
        assert c.silent(0.3)
        assert_nothing_queued(instance)
        assert c.cmd("QUIT").line == "221 2.0.0 Bye"
        assert c.rest() == []
    # the discarded NOOP and MAIL were never commands
    assert disconnect_counts(instance) == {"ehlo": "2", "rcpt": "0/1", "starttls": "1",
                                           "quit": "1", "commands": "4/5"}


def test_submission_requires_starttls_then_auth_and_adds_date_and_message_id(
        tls_instance, tls_client):
    instance = untrusted(tls_instance, smtpd_error_sleep_time="0")
    with Client(instance.submission_port, source="127.0.0.2") as c:
        assert c.greeting.line == f"220 {HOST} ESMTP tern"
        kw = c.ehlo("laptop.example").keywords
        assert "STARTTLS" in kw and not any(k.startswith("AUTH") for k in kw)
        assert c.cmd("MAIL FROM:<alice@mx.test.example>").line == \
            "530 5.7.0 Must issue a STARTTLS command first"
        assert c.cmd(f"AUTH PLAIN {auth_plain('alice', PASSWORD)}").line == \
            "530 5.7.0 Must issue a STARTTLS command first"
        c.starttls(tls_client)
        kw = c.ehlo("laptop.example").keywords
        assert "AUTH PLAIN LOGIN" in kw and "STARTTLS" not in kw
        assert c.cmd("MAIL FROM:<alice@mx.test.example>").line == \
            "530 5.7.0 Authentication required"
        assert c.cmd(f"AUTH PLAIN {auth_plain('alice', 'wrong')}").line == \
            "535 5.7.8 Error: authentication failed: authentication failure"
        assert c.cmd(f"AUTH PLAIN {auth_plain('alice', PASSWORD)}").line == \
            "235 2.7.0 Authentication successful"
        assert c.cmd("AUTH PLAIN").line == "503 5.5.1 Error: already authenticated"
        # authenticated: may relay although 127.0.0.2 is not in mynetworks
        qid = c.message("alice@mx.test.example", ["friend@other.example"],
                        b"From: alice@mx.test.example\r\nSubject: sub\r\n\r\nhi\r\n")
        q = queued(instance, qid)
        assert q["attrs"]["protocol"] == "ESMTPSA" and q["attrs"]["sasl_username"] == "alice"
        assert re.fullmatch(TLS_RE, q["attrs"]["tls"])
        field, rest = split_received(q["content"])
        # the login is not named in Received: (smtpd_sasl_authenticated_header = no)
        assert_received(field, "laptop.example", "127.0.0.2", "ESMTPSA", qid,
                        rcpt="friend@other.example", tls=True)
        # submission adds the missing Date: and Message-ID: at the end of the header
        m = re.fullmatch(rb"From: alice@mx\.test\.example\r\nSubject: sub\r\n"
                         rb"Date: (" + DATE_RE.encode() + rb")\r\n"
                         rb"Message-ID: <" + qid.encode() + rb"@mx\.test\.example>\r\n\r\nhi\r\n",
                         rest)
        assert m, rest
        log_line(instance, rf": {qid}: client=unknown\[127\.0\.0\.2\], sasl_method=PLAIN, "
                           r"sasl_username=alice$")
        log_line(instance, r"unknown\[127\.0\.0\.2\]: SASL PLAIN authentication failed: "
                           r"authentication failure, sasl_username=alice")
        assert c.cmd("QUIT").line == "221 2.0.0 Bye"


def test_sender_login_mismatch_on_submission(tls_instance, tls_client):
    """tern init's submission services reject_sender_login_mismatch: a login sends only as the
    addresses sender_logins gives it, in MAIL FROM and in From: alike; a login that is an
    address may send as itself; port 25 takes no login, so an address that has owners is
    refused there only when its restrictions say so."""
    with open(os.path.join(tls_instance.dir, "sasl_users"), "a") as f:
        f.write(f"carol@mx.test.example {sasl_hash(PASSWORD)}\n")
    with open(os.path.join(tls_instance.dir, "sender_logins"), "a") as f:
        f.write("bob@mx.test.example bob\n@shared.example bob, alice\n")
    instance = start(tls_instance, smtpd_error_sleep_time="0", recipient_delimiter="+")
    with Client(instance.submission_port) as c:
        c.ehlo()
        c.starttls(tls_client)
        c.ehlo()
        assert c.cmd(f"AUTH PLAIN {auth_plain('alice', PASSWORD)}").code == 235
        assert c.cmd("MAIL FROM:<bob@mx.test.example>").line == \
            "553 5.7.1 <bob@mx.test.example>: Sender address rejected: not owned by user alice"
        log_line(instance, r"NOQUEUE: reject: MAIL from localhost\[127\.0\.0\.1\]: 553 5\.7\.1 "
                           r"<bob@mx\.test\.example>: Sender address rejected: not owned by user "
                           r"alice; from=<bob@mx\.test\.example> proto=ESMTPSA helo=<")
        assert c.cmd("MAIL FROM:<nobody@other.example>").line == \
            "553 5.7.1 <nobody@other.example>: Sender address rejected: not owned by user alice"
        # the extension and the case do not matter; @domain owns every address of a domain
        qid = c.message("Alice+news@MX.test.example", ["root@mx.test.example"],
                        b"From: Alice <alice@mx.test.example>\r\n\r\nhi\r\n")
        assert qid in queue_files(instance)
        qid = c.message("anyone@shared.example", ["root@mx.test.example"],
                        b"From: anyone@shared.example, alice@mx.test.example\r\n\r\nhi\r\n")
        # a From: the login does not own is refused at the end of DATA, and nothing is queued
        before = set(queue_files(instance))
        assert c.cmd("MAIL FROM:<alice@mx.test.example>").line == "250 2.1.0 Ok"
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: x\r\nFrom: alice@mx.test.example,\r\n bob@mx.test.example\r\n"
               b"\r\nhi\r\n.\r\n")
        assert c.reply().line == \
            "550 5.7.1 <bob@mx.test.example>: From: address rejected: not owned by user alice"
        assert set(queue_files(instance)) == before
        # an address that cannot be read is no address the login owns
        assert c.cmd("MAIL FROM:<alice@mx.test.example>").line == "250 2.1.0 Ok"
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"From: <bob@mx.test.example> alice@mx.test.example\r\n\r\nhi\r\n.\r\n")
        assert c.reply().line.startswith("550 5.7.1 From: address rejected: malformed address")
        assert set(queue_files(instance)) == before
        # the null sender names no address
        assert c.cmd("MAIL FROM:<>").line == "250 2.1.0 Ok"
        assert c.cmd("QUIT").code == 221
    with Client(instance.submission_port) as c:
        c.ehlo()
        c.starttls(tls_client)
        c.ehlo()
        assert c.cmd(f"AUTH PLAIN {auth_plain('carol@mx.test.example', PASSWORD)}").code == 235
        c.message("carol@mx.test.example", ["root@mx.test.example"],
                  b"From: carol@mx.test.example\r\n\r\nhi\r\n")
        assert c.cmd("MAIL FROM:<alice@mx.test.example>").line == \
            "553 5.7.1 <alice@mx.test.example>: Sender address rejected: not owned by user " \
            "carol@mx.test.example"
    # port 25 has no such restriction by default; reject_unauthenticated_sender_login_mismatch
    # keeps clients without a login from the addresses that have owners
    with Client(instance.smtp_port) as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<bob@mx.test.example>").line == "250 2.1.0 Ok"
    instance.tern("stop")
    instance.conf("smtpd_sender_restrictions = reject_unauthenticated_sender_login_mismatch\n")
    instance.start()
    with Client(instance.smtp_port) as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<bob@mx.test.example>").line == \
            "553 5.7.1 <bob@mx.test.example>: Sender address rejected: not logged in"
        assert c.cmd("MAIL FROM:<stranger@other.example>").line == "250 2.1.0 Ok"


def test_sender_restrictions_are_checked_at_start(instance):
    instance.conf("smtpd_sender_restrictions = reject_unauth_destination\n")
    r = instance.tern("start")
    assert r.returncode == 69
    assert instance.log_lines(r"tern/smtpd\[\d+\]: fatal: smtpd_sender_restrictions: "
                              r"reject_unauth_destination does not belong in this list")


def test_auth_login_and_failure_limit(tls_instance, tls_client):
    instance = start(tls_instance, smtpd_sasl_failure_limit="2", smtpd_error_sleep_time="1s")
    with Client(instance.submission_port) as c:
        c.ehlo()
        c.starttls(tls_client)
        c.ehlo()
        assert c.cmd("AUTH LOGIN").line == "334 VXNlcm5hbWU6"
        assert c.cmd(b64("alice")).line == "334 UGFzc3dvcmQ6"
        assert c.cmd(b64(PASSWORD)).line == "235 2.7.0 Authentication successful"
        assert "AUTH PLAIN LOGIN" not in c.ehlo().keywords
        log_line(instance, r"localhost\[127\.0\.0\.1\]: sasl_method=LOGIN, sasl_username=alice$")
    with Client(instance.submission_port) as c:
        c.ehlo()
        c.starttls(tls_client)
        c.ehlo()
        assert c.cmd("AUTH CRAM-MD5").line == "504 5.5.4 Unrecognized authentication type"
        assert c.cmd("AUTH PLAIN not-base64!").line == \
            "501 5.5.2 Error: malformed authentication response"
        assert c.cmd("AUTH PLAIN").line == "334 "   # an empty challenge
        assert c.cmd("*").line == "501 5.7.0 Authentication aborted"
        t0 = time.monotonic()
        # a wrong password and an unknown login look the same, and both wait
        assert c.cmd(f"AUTH PLAIN {auth_plain('alice', 'guess')}").line == \
            "535 5.7.8 Error: authentication failed: authentication failure"
        assert time.monotonic() - t0 >= 0.9
        assert c.cmd("AUTH LOGIN").code == 334
        assert c.cmd(b64("mallory")).code == 334
        assert c.cmd(b64("guess")).line == \
            "535 5.7.8 Error: authentication failed: authentication failure"
        assert [r.line for r in c.rest()] == \
            [f"421 4.7.0 {HOST} Error: too many failed authentication attempts"]
    assert_nothing_queued(instance)


def test_auth_is_offered_and_accepted_only_inside_tls(tls_instance, tls_client):
    # AUTH enabled on port 25 too: outside TLS it is neither offered nor accepted
    instance = start(tls_instance, smtpd_sasl_auth_enable="yes", smtpd_error_sleep_time="0")
    with Client(instance.smtp_port) as c:
        assert not any(k.startswith("AUTH") for k in c.ehlo().keywords)
        assert c.cmd(f"AUTH PLAIN {auth_plain('alice', PASSWORD)}").line == \
            "538 5.7.11 Encryption required for requested authentication mechanism"
        assert c.cmd("AUTH LOGIN").line == \
            "538 5.7.11 Encryption required for requested authentication mechanism"
        c.starttls(tls_client)
        assert "AUTH PLAIN LOGIN" in c.ehlo().keywords
        assert c.cmd(f"AUTH PLAIN {auth_plain('alice', PASSWORD)}").line == \
            "235 2.7.0 Authentication successful"
        qid = c.message("alice@mx.test.example", ["root@mx.test.example"],
                        b"Subject: port 25\r\n\r\nx\r\n")
        q = queued(instance, qid)
        assert q["attrs"]["protocol"] == "ESMTPSA" and q["attrs"]["sasl_username"] == "alice"
        # port 25 never adds Date: or Message-ID:
        assert split_received(q["content"])[1] == b"Subject: port 25\r\n\r\nx\r\n"
        assert c.cmd("QUIT").line == "221 2.0.0 Bye"


def test_submissions_465_implicit_tls(tls_instance, cert, tls_client):
    instance = start(tls_instance, smtpd_sasl_authenticated_header="yes")
    # a client that does not speak TLS on 465 gets no SMTP at all
    with socket.create_connection(("127.0.0.1", instance.smtps_port), timeout=TIMEOUT) as raw:
        raw.sendall(b"EHLO plain.example\r\n")
        data = b""
        try:
            while True:
                chunk = raw.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
        assert b"220" not in data and b"250" not in data
    s = smtplib.SMTP_SSL("127.0.0.1", instance.smtps_port, timeout=TIMEOUT, context=tls_client)
    try:
        assert s.sock.getpeercert(binary_form=True) == der(cert[0])
        s.ehlo("phone.example")
        assert not s.has_extn("starttls")
        assert s.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
        assert s.docmd("MAIL FROM:<alice@mx.test.example>") == \
            (530, b"5.7.0 Authentication required")
        assert s.login("alice", PASSWORD) == (235, b"2.7.0 Authentication successful")
        msg = (b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <given@phone.example>\r\n"
               b"Subject: 465\r\n\r\nbody\r\n")
        assert s.sendmail("alice@mx.test.example", ["root@mx.test.example"], msg) == {}
        assert s.quit() == (221, b"2.0.0 Bye")
    finally:
        s.close()
    [qid] = queue_files(instance)
    q = queued(instance, qid)
    assert q["attrs"]["protocol"] == "ESMTPSA" and re.fullmatch(TLS_RE, q["attrs"]["tls"])
    field, rest = split_received(q["content"])
    assert_received(field, "phone.example", "127.0.0.1", "ESMTPSA", qid,
                    rcpt="root@mx.test.example", tls=True, login="alice")
    assert rest == msg   # Date: and Message-ID: present: nothing added


def swaks(*args):
    return subprocess.run(["swaks", "--timeout", "10", *args], capture_output=True, text=True,
                          timeout=60)


def test_swaks_plain_and_tls_auth_submission(tls_instance, cert):
    instance = start(tls_instance)
    r = swaks("--server", "127.0.0.1", "--port", str(instance.smtp_port), "--helo",
              "swaks.example", "--from", "sender@origin.example", "--to", "root@mx.test.example",
              "--header", "Subject: swaks plain", "--body", "hello from swaks")
    assert r.returncode == 0, r.stdout + r.stderr
    qid = re.search(r"<-  250 2\.0\.0 Ok: queued as ([0-9A-Z]+)", r.stdout).group(1)
    q = queued(instance, qid)
    assert q["sender"] == "sender@origin.example" and q["attrs"]["protocol"] == "ESMTP"
    assert b"Subject: swaks plain\r\n" in q["content"] and b"hello from swaks" in q["content"]

    r = swaks("--server", "127.0.0.1", "--port", str(instance.submission_port), "--helo",
              "swaks.example", "-tls", "--tls-verify", "--tls-ca-path", cert[0],
              "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", PASSWORD,
              "--from", "alice@mx.test.example", "--to", "friend@other.example",
              "--header", "Subject: swaks submission", "--body", "authenticated")
    assert "<~  235 2.7.0 Authentication successful" in r.stdout
    qid = re.search(r"<~  250 2\.0\.0 Ok: queued as ([0-9A-Z]+)", r.stdout).group(1)
    q = queued(instance, qid)
    assert q["attrs"]["protocol"] == "ESMTPSA" and q["attrs"]["sasl_username"] == "alice"
    assert [x["address"] for x in q["recipients"]] == ["friend@other.example"]
    assert "<~  221 2.0.0 Bye" in r.stdout
    assert r.returncode == 0, r.stdout + r.stderr

    r = swaks("--server", "127.0.0.1", "--port", str(instance.submission_port), "-tls",
              "--tls-verify", "--tls-ca-path", cert[0], "--auth", "PLAIN", "--auth-user",
              "alice", "--auth-password", "wrong", "--from", "alice@mx.test.example",
              "--to", "root@mx.test.example")
    assert r.returncode != 0
    assert "535 5.7.8 Error: authentication failed" in r.stdout
    assert len(queue_files(instance)) == 2


def test_client_name_lookup(instance):
    """The client name is the PTR name confirmed by its A record (localhost for 127.0.0.1),
    "unknown" without one, and always "unknown" with smtpd_peername_lookup = no."""
    start(instance)
    for source, name in (("127.0.0.1", "localhost"), ("127.0.0.2", "unknown")):
        with Client(instance.smtp_port, source=source) as c:
            assert c.cmd("QUIT").line == "221 2.0.0 Bye"
        log_line(instance, rf"connect from {name}\[{re.escape(source)}\]$")
    # again: the answers smtpd keeps (for their TTL) give the same names
    for source, name in (("127.0.0.1", "localhost"), ("127.0.0.2", "unknown")):
        with Client(instance.smtp_port, source=source) as c:
            assert c.cmd("QUIT").line == "221 2.0.0 Bye"
    wait_for(lambda: len(instance.log_lines(r"disconnect from localhost\[127\.0\.0\.1\] quit=1 "))
             == 2 and len(instance.log_lines(r"disconnect from unknown\[127\.0\.0\.2\] quit=1 ")) == 2,
             what=f"each client named twice the same\n{instance.log()[-3000:]}")
    assert instance.tern("stop").returncode == 0
    instance.conf("smtpd_peername_lookup = no\n")
    start(instance)
    with Client(instance.smtp_port) as c:
        assert c.cmd("QUIT").line == "221 2.0.0 Bye"
    log_line(instance, r"connect from unknown\[127\.0\.0\.1\]$")


def test_many_idle_sessions_and_one_active(instance):
    """One smtpd process keeps thousands of idle sessions open and still serves another client
    (how fast is for the benchmark; here only that it works)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 8192) if hard != resource.RLIM_INFINITY else 8192
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    count = min(3000, want - 200)
    start(instance, smtpd_peername_lookup="no")
    idle = []
    try:
        for _ in range(count):
            idle.append(socket.create_connection(("127.0.0.1", instance.smtp_port),
                                                 timeout=TIMEOUT))
        for s in idle[:20] + idle[-20:]:
            assert s.recv(64).startswith(b"220 ")
        c = smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=TIMEOUT)
        c.ehlo("busy.example")
        assert c.sendmail("a@b.example", ["root@mx.test.example"], "Subject: x\r\n\r\nhi\r\n") == {}
        c.quit()
        # every idle session is served by the one process
        smtpd = [p for p in instance.children() if f":{instance.smtp_port}" in cmdline(p)]
        assert len(smtpd) == 1
    finally:
        for s in idle:
            s.close()
    assert len(queue_files(instance)) == 1


def test_storage_failures_are_temporary(instance):
    """A queue that cannot take the message gives 4xx, never 250: 452 4.3.1 at MAIL when the
    file system is short of queue_minfree, 451 4.3.0 when the queue file cannot be written."""
    start(instance, queue_minfree="1000000g", smtpd_error_sleep_time="0")
    with Client(instance.smtp_port) as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.example>").line == "452 4.3.1 Insufficient system storage"
    log_line(instance, r"warning: not enough free space in the queue file system")
    assert instance.tern("stop").returncode == 0

    start(instance, queue_minfree="0")
    incoming = os.path.join(instance.spool, "incoming")
    mode = os.stat(incoming).st_mode
    os.chmod(incoming, 0o500)   # the daemons' user can no longer create files there
    try:
        with Client(instance.smtp_port) as c:
            c.ehlo()
            assert c.cmd("MAIL FROM:<a@b.example>").code == 250
            assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
            assert c.cmd("DATA").line == "451 4.3.0 Error: queue file write error"
            # the session goes on, and nothing half-written is left
            assert c.cmd("RSET").code == 250
        log_line(instance, r"warning: cannot create a queue file: Permission denied")
    finally:
        os.chmod(incoming, mode & 0o7777)
    assert queue_files(instance) == []
    assert os.listdir(incoming) == []


def test_client_that_does_not_read_is_not_read_either(instance):
    """An EHLO flood from a client that never reads its replies: smtpd stops reading it once
    its replies pile up, so the client's own sends block and the process stays small."""
    start(instance, smtpd_timeout="3s")
    pid = [p for p in instance.children() if f":{instance.smtp_port}" in cmdline(p)][0]

    def rss_kb():
        with open(f"/proc/{pid}/status") as f:
            return int([line for line in f if line.startswith("VmRSS:")][0].split()[1])
    before = rss_kb()
    s = socket.create_connection(("127.0.0.1", instance.smtp_port), timeout=TIMEOUT)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(2)
    sent = 0
    chunk = b"EHLO x\r\n" * 8192
    try:
        while sent < 256 * 1024 * 1024:
            sent += s.send(chunk)
    except (socket.timeout, OSError):
        pass
    # the sends blocked long before 256 MB: the server stopped taking input
    assert sent < 64 * 1024 * 1024
    assert rss_kb() - before < 64 * 1024
    s.close()


def test_stalled_tls_handshake_ends_at_timeout(tls_instance):
    """A client that starts TLS (465 or STARTTLS) and never finishes the handshake is cut off at
    smtpd_timeout; its descriptor and session do not stay behind."""
    instance = start(tls_instance, smtpd_timeout="2s")
    for port, starttls in ((instance.smtps_port, False), (instance.smtp_port, True)):
        s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        if starttls:
            assert s.recv(1024).startswith(b"220 ")
            s.sendall(b"EHLO x\r\n")
            time.sleep(0.3)
            s.recv(4096)
            s.sendall(b"STARTTLS\r\n")
            assert s.recv(1024).startswith(b"220 2.0.0")
        s.sendall(b"\x16\x03\x01\x00\xc8\x01")   # the first bytes of a ClientHello, no more
        t0 = time.monotonic()
        s.settimeout(10)
        try:
            while s.recv(4096):
                pass
        except ConnectionResetError:
            pass
        assert time.monotonic() - t0 < 8
        s.close()
    log_line(instance, r"timeout after CONNECT from localhost\[127\.0\.0\.1\]")
    log_line(instance, r"timeout after STARTTLS from localhost\[127\.0\.0\.1\]")


def test_every_bdat_chunk_counts_against_the_size_limit(instance):
    start(instance, message_size_limit="1000", smtpd_error_sleep_time="0")
    with Client(instance.smtp_port) as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.example>").code == 250
        assert c.cmd("RCPT TO:<root@mx.test.example>").code == 250
        c.send(b"BDAT 5\r\nhello")
        assert c.reply().line == "250 2.0.0 Ok: 5 octets received"
        c.send(b"BDAT 2000\r\n" + b"x" * 2000)
        assert c.reply().line == "552 5.3.4 Error: message file too big"
        c.send(b"BDAT 3 LAST\r\nend")
        assert c.reply().line == "552 5.3.4 Error: message file too big"
        assert c.cmd("NOOP").line == "250 2.0.0 Ok"
    assert_nothing_queued(instance)


def test_auth_exchange_ends_with_a_refused_line(tls_instance, tls_client):
    instance = start(tls_instance, smtpd_error_sleep_time="0")
    with Client(instance.submission_port) as c:
        c.ehlo()
        c.starttls(tls_client)
        c.ehlo()
        assert c.cmd("AUTH LOGIN").line == "334 VXNlcm5hbWU6"
        c.send(b"A" * 20000 + b"\r\n")
        assert c.reply().line == "500 5.5.2 Error: line too long"
        # the next line is a command again, not the login
        assert c.cmd("NOOP").line == "250 2.0.0 Ok"
        # a login with a TAB is refused (it would go into the log and Received:)
        assert c.cmd("AUTH LOGIN " + b64("al\tice")).line == \
            "501 5.5.2 Error: malformed authentication response"

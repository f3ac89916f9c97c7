"""Integration tests of the bounce service (delivery/bounce/): a test plays qmgr's part. It puts
a queue file in spool/active/ and a status log in spool/bounce/, defer/ or trace/, sends the
`bounce` request (common/ipc_proto.h) to private/bounce, and reads the notice the service
wrote to incoming/ the way a mail client would, with Python's email package."""
import email
import email.policy
import os
import re
import socket

import pytest

from conftest import (IS_ROOT, complete_queue_file, ipc_call, ipc_encode, make_queue_id,
                      read_queue_file, tern_ids, wait_for, write_queue_file)

BOUNCE = os.path.join(os.environ.get("TERN_BUILDDIR", os.getcwd()), "libexec", "bounce")
pytestmark = pytest.mark.skipif(not os.path.exists(BOUNCE), reason="libexec/bounce not built")

HOST = "mx.test.example"
SENDER = "alice@example.org"
ORIGINAL = (b"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: hello there\r\n"
            b"Message-ID: <orig.1@example.org>\r\n\r\nfirst body line\r\nsecond body line\r\n")
NOTIFY_NEVER, NOTIFY_SUCCESS, NOTIFY_FAILURE, NOTIFY_DELAY = 1, 2, 4, 8


@pytest.fixture
def bounce(instance):
    instance.drop_services(["qmgr", "pickup"])
    return instance


def start(instance):
    instance.start()
    sock = os.path.join(instance.spool, "private", "bounce")
    wait_for(lambda: os.path.exists(sock), what="private/bounce")
    return instance


def own(path):
    os.chmod(path, 0o600)
    if IS_ROOT:
        uid, gid = tern_ids()
        os.chown(path, uid, gid)


def record(recipient, action="failed", status="5.1.1", notify=None, orig=None, diag=None,
           remote_mta=None, reason=None, when=1700000100):
    """One status log record (queue/statuslog.h) as [(name, value)]."""
    attrs = [("recipient", recipient)]
    if orig is not None:
        attrs.append(("orig_recipient", orig))
    if notify is not None:
        attrs.append(("notify", str(notify)))
    attrs += [("status", status), ("action", action)]
    if remote_mta is not None:
        attrs.append(("remote_mta", remote_mta))
    if diag is not None:
        attrs.append(("diagnostic", diag))
    attrs.append(("reason", reason if reason is not None else f"{recipient} {action}"))
    attrs.append(("when", str(when)))
    return attrs


def write_log(instance, logdir, qid, records):
    path = os.path.join(instance.spool, logdir, qid)
    with open(path, "wb") as f:
        f.write(b"".join(ipc_encode(r) for r in records))
    own(path)


def queue_message(instance, sender=SENDER, recipients=("bob@example.net",), content=ORIGINAL,
                  attrs=None, arrival=1700000000.25):
    qid = make_queue_id()
    write_queue_file(os.path.join(instance.spool, "active", qid), sender, list(recipients),
                     content, attrs=attrs, arrival=arrival)
    return qid


def ask(instance, qid, kind, extra=()):
    attrs = [("type", "bounce"), ("queue_id", qid), ("kind", kind), *extra]
    return ask_raw(instance, attrs)


def ask_raw(instance, attrs):
    reply = ipc_call(os.path.join(instance.spool, "private", "bounce"), attrs, timeout=60)
    names = [n for n, _ in reply]
    assert len(names) == len(set(names)), reply
    return dict(reply)


def incoming(instance):
    return sorted(os.listdir(instance.incoming))


def notice(instance, reply):
    """The notice the reply names: (queue file, parsed message)."""
    assert reply["status"] == "ok", reply
    path = os.path.join(instance.incoming, reply["queue_id"])
    q = read_queue_file(path)
    msg = email.message_from_bytes(q["content"], policy=email.policy.default)
    assert not msg.defects, msg.defects
    return q, msg


def report_parts(msg):
    """The three parts of a multipart/report; report-type=delivery-status."""
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    assert len(parts) == 3, [p.get_content_type() for p in parts]
    assert parts[0].get_content_type() == "text/plain"
    assert parts[1].get_content_type() == "message/delivery-status"
    return parts


def status_blocks(part):
    """The message/delivery-status part: (per-message fields, [per-recipient fields])."""
    blocks = part.get_payload()
    assert len(blocks) >= 2, blocks
    return blocks[0], blocks[1:]


def no_temporary_files(instance):
    """Nothing half-written left in incoming/ (a temporary name, or no read bit yet)."""
    half = [f for f in incoming(instance)
            if not complete_queue_file(os.path.join(instance.incoming, f))]
    assert not half, incoming(instance)


def test_failure_notice_to_the_sender(bounce):
    bounce.conf("bounce_size_limit = 50000\n")
    start(bounce)
    qid = queue_message(bounce, recipients=[("x@example.net", None, "rfc822;orig-x@example.net"),
                                            "y@example.net", "z@example.net"],
                        attrs={"envid": "abc+2Bdef", "ret": "FULL"})
    write_log(bounce, "bounce", qid, [
        record("x@example.net", orig="orig-x@example.net", remote_mta="dns; mx.example.net",
               diag="smtp; 550 5.1.1 <x@example.net>: Recipient address rejected",
               reason="host mx.example.net said: 550 5.1.1 unknown user"),
        record("y@example.net", status="5.2.2", notify=NOTIFY_FAILURE | NOTIFY_DELAY,
               diag="x-unix; mailbox full"),
    ])
    reply = ask(bounce, qid, "failure")
    assert set(reply) == {"status", "queue_id", "notice_to"}, reply
    assert reply["notice_to"] == SENDER
    assert re.fullmatch(r"[0-9BCDFGHJKLMNPQRSTVWXYZ]{12,24}", reply["queue_id"])
    assert reply["queue_id"] != qid

    q, msg = notice(bounce, reply)
    assert q["sender"] == ""
    assert [r["address"] for r in q["recipients"]] == [SENDER]
    assert re.fullmatch(r"VTSRC+E", q["types"]), q["types"]
    assert msg["From"].addresses[0].addr_spec == f"MAILER-DAEMON@{HOST}"
    assert msg["To"].addresses[0].addr_spec == SENDER
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["Message-ID"] == f"<{reply['queue_id']}@{HOST}>"
    assert msg["Date"].datetime is not None

    text, status, original = report_parts(msg)
    body = text.get_content()
    assert f"This is the mail system at host {HOST}." in body
    assert "<x@example.net>: host mx.example.net said: 550 5.1.1 unknown user" in body
    assert "<y@example.net>: y@example.net failed" in body
    assert "z@example.net" not in body

    fields, rcpts = status_blocks(status)
    assert fields["Reporting-MTA"] == f"dns; {HOST}"
    assert fields["Original-Envelope-Id"] == "abc+def"
    assert fields["X-Tern-Queue-ID"] == qid
    assert fields["Arrival-Date"] == "Tue, 14 Nov 2023 22:13:20 +0000"
    assert len(rcpts) == 2
    x, y = rcpts
    assert x["Final-Recipient"] == "rfc822; x@example.net"
    assert x["Original-Recipient"] == "rfc822; orig-x@example.net"
    assert x["Action"] == "failed"
    assert x["Status"] == "5.1.1"
    assert x["Remote-MTA"] == "dns; mx.example.net"
    assert x["Diagnostic-Code"] == "smtp; 550 5.1.1 <x@example.net>: Recipient address rejected"
    assert x["Last-Attempt-Date"] == "Tue, 14 Nov 2023 22:15:00 +0000"
    assert y["Final-Recipient"] == "rfc822; y@example.net"
    assert y["Original-Recipient"] is None
    assert (y["Action"], y["Status"], y["Diagnostic-Code"]) == ("failed", "5.2.2",
                                                                 "x-unix; mailbox full")
    assert y["Will-Retry-Until"] is None

    assert original.get_content_type() == "message/rfc822"
    inner = original.get_payload()[0]
    assert inner["Subject"] == "hello there"
    assert inner["Message-ID"] == "<orig.1@example.org>"
    assert "first body line" in inner.get_content()
    assert "second body line" in inner.get_content()

    assert not os.path.exists(os.path.join(bounce.spool, "incoming", qid))
    assert os.path.exists(os.path.join(bounce.spool, "active", qid)), "the original stays"
    assert os.path.exists(os.path.join(bounce.spool, "bounce", qid)), "qmgr removes the log"
    no_temporary_files(bounce)


def test_headers_only_and_size_limit(bounce):
    bounce.conf("bounce_size_limit = 3000\n")
    start(bounce)
    # RET=HDRS: only the header comes back
    qid = queue_message(bounce, attrs={"ret": "HDRS"})
    write_log(bounce, "bounce", qid, [record("bob@example.net")])
    _, msg = notice(bounce, ask(bounce, qid, "failure"))
    third = report_parts(msg)[2]
    assert third.get_content_type() == "text/rfc822-headers"
    headers = third.get_content()
    assert "Subject: hello there" in headers
    assert "Message-ID: <orig.1@example.org>" in headers
    assert "body line" not in headers

    # a large original is cut, at a line end, within bounce_size_limit
    lines = b"".join(b"line %04d of a long body %s\r\n" % (i, b"x" * 50) for i in range(200))
    big = ORIGINAL + lines
    qid = queue_message(bounce, content=big)
    write_log(bounce, "bounce", qid, [record("bob@example.net")])
    q, msg = notice(bounce, ask(bounce, qid, "failure"))
    third = report_parts(msg)[2]
    assert third.get_content_type() == "message/rfc822"
    inner = third.get_payload()[0]
    assert inner["Subject"] == "hello there"
    returned = inner.get_content()
    assert "line 0000 of a long body" in returned
    assert "line 0199" not in returned
    assert len(q["content"]) < 3000 + 4000
    raw = q["content"]
    start_at = raw.index(b"Content-Type: message/rfc822\r\n\r\n") + 32
    cut = raw[start_at:raw.rindex(b"\r\n--")]
    assert big.startswith(cut)
    assert 3000 - 100 < len(cut) <= 3000
    assert cut.endswith(b"\r\n")


def test_notify_never_and_success_only_give_no_notice(bounce):
    start(bounce)
    qid = queue_message(bounce, recipients=["a@example.net", "b@example.net"])
    write_log(bounce, "bounce", qid, [record("a@example.net", notify=NOTIFY_NEVER),
                                      record("b@example.net", notify=NOTIFY_SUCCESS)])
    before = incoming(bounce)
    assert ask(bounce, qid, "failure") == {"status": "ok"}
    assert incoming(bounce) == before

    # the recipients that ask for it are listed, the others not
    qid = queue_message(bounce, recipients=["a@example.net", "b@example.net", "c@example.net"])
    write_log(bounce, "bounce", qid, [record("a@example.net", notify=NOTIFY_NEVER),
                                      record("b@example.net", notify=NOTIFY_DELAY),
                                      record("c@example.net")])
    _, msg = notice(bounce, ask(bounce, qid, "failure"))
    _, rcpts = status_blocks(report_parts(msg)[1])
    assert [r["Final-Recipient"] for r in rcpts] == ["rfc822; c@example.net"]

    # no status log at all: nothing to say
    qid = queue_message(bounce)
    before = incoming(bounce)
    assert ask(bounce, qid, "failure") == {"status": "ok"}
    assert incoming(bounce) == before


def test_delay_notice(bounce):
    bounce.conf("maximal_queue_lifetime = 5d\n")
    start(bounce)
    qid = queue_message(bounce, recipients=["slow@example.net", "quiet@example.net",
                                            "again@example.net"])
    write_log(bounce, "defer", qid, [
        record("slow@example.net", "delayed", "4.4.1", reason="connect to mx: timed out",
               when=1700000100),
        record("quiet@example.net", "delayed", "4.4.1", notify=NOTIFY_FAILURE),
        record("again@example.net", "delayed", "4.2.2", reason="first try", when=1700000200),
        record("slow@example.net", "delayed", "4.4.2", reason="lost connection",
               when=1700000300),
        record("again@example.net", "delayed", "4.3.0", reason="second try", when=1700000400),
    ])
    reply = ask(bounce, qid, "delay")
    assert reply["notice_to"] == SENDER
    q, msg = notice(bounce, reply)
    assert q["sender"] == ""
    assert msg["Subject"] == "Delayed Mail (still being retried)"
    assert msg["Auto-Submitted"] == "auto-replied"
    text, status, original = report_parts(msg)
    body = text.get_content()
    assert "<slow@example.net>: lost connection" in body
    assert "timed out" not in body and "first try" not in body
    _, rcpts = status_blocks(status)
    got = {r["Final-Recipient"]: r for r in rcpts}
    assert sorted(got) == ["rfc822; again@example.net", "rfc822; slow@example.net"]
    slow = got["rfc822; slow@example.net"]
    assert (slow["Action"], slow["Status"]) == ("delayed", "4.4.2")
    assert slow["Last-Attempt-Date"] == "Tue, 14 Nov 2023 22:18:20 +0000"
    assert slow["Will-Retry-Until"] == "Sun, 19 Nov 2023 22:13:20 +0000"
    assert got["rfc822; again@example.net"]["Status"] == "4.3.0"
    assert original.get_content_type() == "message/rfc822"

    # a bounce log is not read for a delay notice, nor a defer log for a failure notice
    qid = queue_message(bounce)
    write_log(bounce, "bounce", qid, [record("bob@example.net")])
    assert ask(bounce, qid, "delay") == {"status": "ok"}


def test_success_notice(bounce):
    start(bounce)
    qid = queue_message(bounce, recipients=["bob@example.net", "carol@example.net",
                                            "list@example.net"])
    write_log(bounce, "trace", qid, [
        record("bob@example.net", "delivered", "2.0.0", notify=NOTIFY_SUCCESS,
               reason="delivered to maildir"),
        record("carol@example.net", "delivered", "2.0.0", reason="delivered to mailbox"),
        record("list@example.net", "expanded", "2.0.0",
               notify=NOTIFY_SUCCESS | NOTIFY_FAILURE, reason="alias expanded"),
    ])
    reply = ask(bounce, qid, "success")
    q, msg = notice(bounce, reply)
    assert q["sender"] == "" and reply["notice_to"] == SENDER
    assert msg["Subject"] == "Successful Mail Delivery Report"
    text, status, _ = report_parts(msg)
    assert "<bob@example.net>: delivered to maildir" in text.get_content()
    _, rcpts = status_blocks(status)
    assert [(r["Final-Recipient"], r["Action"], r["Status"]) for r in rcpts] == [
        ("rfc822; bob@example.net", "delivered", "2.0.0"),
        ("rfc822; list@example.net", "expanded", "2.0.0")]

    # nobody asked for success: no notice
    qid = queue_message(bounce)
    write_log(bounce, "trace", qid, [record("bob@example.net", "delivered", "2.0.0")])
    assert ask(bounce, qid, "success") == {"status": "ok"}


def test_null_sender_goes_to_postmaster(bounce):
    start(bounce)
    qid = queue_message(bounce, sender="", content=b"From: MAILER-DAEMON@elsewhere\r\n"
                        b"Subject: Undelivered Mail Returned to Sender\r\n\r\nsorry\r\n")
    write_log(bounce, "bounce", qid, [record("nobody@example.net")])
    reply = ask(bounce, qid, "failure")
    assert reply["notice_to"] == f"postmaster@{HOST}"
    q, msg = notice(bounce, reply)
    assert q["sender"] == f"double-bounce@{HOST}"
    assert [r["address"] for r in q["recipients"]] == [f"postmaster@{HOST}"]
    assert msg["To"].addresses[0].addr_spec == f"postmaster@{HOST}"
    assert msg["Subject"] == "Postmaster Copy: Undelivered Mail"
    text, status, original = report_parts(msg)
    assert "Postmaster copy: undeliverable notice" in text.get_content()
    _, rcpts = status_blocks(status)
    assert [r["Action"] for r in rcpts] == ["failed"]
    assert original.get_payload()[0]["Subject"] == "Undelivered Mail Returned to Sender"

    # mail from <> never gets a delay or success notice
    qid = queue_message(bounce, sender="", recipients=[("x@example.net", NOTIFY_SUCCESS, None)])
    write_log(bounce, "defer", qid, [record("x@example.net", "delayed", "4.4.1")])
    write_log(bounce, "trace", qid, [record("x@example.net", "delivered", "2.0.0",
                                            notify=NOTIFY_SUCCESS)])
    before = incoming(bounce)
    assert ask(bounce, qid, "delay") == {"status": "ok"}
    assert ask(bounce, qid, "success") == {"status": "ok"}
    assert incoming(bounce) == before


def test_postmaster_recipient_setting(bounce):
    bounce.conf("2bounce_notice_recipient = mailadmin@ops.example.org\n"
                "double_bounce_sender = loopstop\n")
    start(bounce)
    qid = queue_message(bounce, sender="")
    write_log(bounce, "bounce", qid, [record("nobody@example.net")])
    reply = ask(bounce, qid, "failure")
    assert reply["notice_to"] == "mailadmin@ops.example.org"
    q, _ = notice(bounce, reply)
    assert q["sender"] == f"loopstop@{HOST}"


def test_double_bounce_sender_is_dropped(bounce):
    start(bounce)
    before = incoming(bounce)
    for sender in (f"double-bounce@{HOST}", f"Double-Bounce@{HOST.upper()}"):
        qid = queue_message(bounce, sender=sender)
        write_log(bounce, "bounce", qid, [record("postmaster@example.net")])
        assert ask(bounce, qid, "failure") == {"status": "ok"}
    assert incoming(bounce) == before


def test_malformed_requests_are_refused(bounce):
    start(bounce)
    qid = queue_message(bounce)
    write_log(bounce, "bounce", qid, [record("bob@example.net")])
    before = incoming(bounce)
    bad = [
        [("type", "bounce"), ("queue_id", "../x"), ("kind", "failure")],
        [("type", "bounce"), ("queue_id", "../active/" + qid), ("kind", "failure")],
        [("type", "bounce"), ("queue_id", qid.lower()), ("kind", "failure")],
        [("type", "bounce"), ("queue_id", qid), ("kind", "warning")],
        [("type", "bounce"), ("queue_id", qid), ("kind", "")],
        [("type", "deliver"), ("queue_id", qid), ("kind", "failure")],
        [("type", "bounce"), ("queue_id", qid)],
        [("type", "bounce"), ("queue_id", qid), ("kind", "failure"), ("sender", "x@y")],
        [("type", "bounce"), ("queue_id", qid), ("kind", "failure"), ("kind", "failure")],
    ]
    for attrs in bad:
        reply = ask_raw(bounce, attrs)
        assert reply["status"] == "fail", (attrs, reply)
        assert reply.get("reason"), reply
        assert "queue_id" not in reply
    assert incoming(bounce) == before
    assert bounce.log_lines(r"tern/bounce\[\d+\]: warning: refused a request: bad queue ID")

    # a service that gets garbage closes the connection, and serves the next client
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(60)
        s.connect(os.path.join(bounce.spool, "private", "bounce"))
        s.sendall(b"garbage, not a netstring\r\n")
        try:
            assert s.recv(100) == b""
        except ConnectionResetError:
            pass   # closed with the garbage unread
    reply = ask(bounce, qid, "failure")
    assert reply["status"] == "ok" and reply["queue_id"]


def test_missing_queue_file_is_deferred(bounce):
    start(bounce)
    qid = make_queue_id()
    write_log(bounce, "bounce", qid, [record("bob@example.net")])
    before = incoming(bounce)
    reply = ask(bounce, qid, "failure")
    assert reply["status"] == "defer", reply
    assert "queue file" in reply["reason"] and "queue_id" not in reply
    assert incoming(bounce) == before
    assert bounce.log_lines(rf"tern/bounce\[\d+\]: warning: {qid}: cannot read the queue file")

    # a malformed status log is deferred too (qmgr keeps it and asks again)
    qid = queue_message(bounce)
    path = os.path.join(bounce.spool, "bounce", qid)
    with open(path, "wb") as f:
        f.write(ipc_encode(record("bob@example.net")) + b"12:truncated")
    own(path)
    reply = ask(bounce, qid, "failure")
    assert reply["status"] == "defer" and "status log" in reply["reason"], reply
    assert incoming(bounce) == before
    no_temporary_files(bounce)


def test_unwritable_queue_is_deferred(bounce):
    start(bounce)
    qid = queue_message(bounce)
    write_log(bounce, "bounce", qid, [record("bob@example.net")])
    before = incoming(bounce)
    os.chmod(bounce.incoming, 0o500)
    try:
        reply = ask(bounce, qid, "failure")
    finally:
        os.chmod(bounce.incoming, 0o700)
    assert reply["status"] == "defer", reply
    assert "cannot write the notice" in reply["reason"]
    assert incoming(bounce) == before
    assert bounce.log_lines(rf"tern/bounce\[\d+\]: warning: {qid}: cannot write the notice")
    # once the queue can be written again, the same request succeeds
    reply = ask(bounce, qid, "failure")
    assert reply["status"] == "ok" and reply["notice_to"] == SENDER
    no_temporary_files(bounce)

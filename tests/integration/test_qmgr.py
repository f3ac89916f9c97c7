"""The queue manager (issue 4) as an admin sees it, with a scripted delivery agent: mail for
fake.example goes (transport_maps) to the transport `fake`, whose socket private/fake this test
serves itself, answering each recipient as the test says. The tests check what reaches the
agent (batches, concurrency, retries), the queue directories and the log lines."""
import os
import re
import smtplib
import socket
import time

import pytest

from conftest import (IS_ROOT, complete_queue_file, ipc_decode, ipc_encode, make_queue_id,
                      read_queue_file, tern_ids, wait_for, write_queue_file)
from smtpserver import Listener

HOST = "mx.test.example"
FAST_RETRY = ("minimal_backoff_time = 1s\nmaximal_backoff_time = 1s\nqueue_run_delay = 1s\n")


class FakeAgent(Listener):
    """Serves spool/private/<name>: each request is recorded; answer(rcpt, attempt) returns
    (status, dsn, text) for each recipient, or ("dead", dsn, text) for a dead destination."""

    def __init__(self, instance, name="fake", answer=None, delay=0.0, keep=False,
                 drop_kept=False):
        self.spool = instance.spool
        self.path = os.path.join(instance.spool, "private", name)
        self.answer = answer or (lambda rcpt, attempt: ("sent", "2.0.0", "delivered by fake"))
        self.delay = delay
        self.keep = keep            # answer with keep=1 and serve the next request too
        self.drop_kept = drop_kept  # read the second request of a connection, then close
        self.requests = []          # [(queue_id, [rcpt, ...])]
        self.notices = []           # queue files of notices to s@sender.example
        self.attempts = {}          # rcpt -> number of times seen
        self.active = 0
        self.max_active = 0
        super().__init__(unix_path=self.path, backlog=100)
        if IS_ROOT:
            os.chown(self.path, *tern_ids())
        self.__enter__()

    def session(self, conn):
        with conn:
            conn.settimeout(10)
            data = b""
            for served in range(100 if self.keep else 1):
                got = None
                while got is None:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                    got = ipc_decode(data)
                data = data[got[1]:]
                if self.drop_kept and served == 1:
                    with self.lock:
                        self.dropped = getattr(self, "dropped", 0) + 1
                    return
                conn.sendall(ipc_encode(self._answer(got[0])))

    def _answer(self, attrs):
        queue_id = dict(attrs)["queue_id"]
        rcpts = [v for n, v in attrs if n == "rcpt"]
        with self.lock:
            self.requests.append((queue_id, rcpts))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            answers = []
            for r in rcpts:
                self.attempts[r] = self.attempts.get(r, 0) + 1
                answers.append(self.answer(r, self.attempts[r]))
        self.on_request(queue_id, rcpts)
        time.sleep(self.delay)
        reply = [("status", "ok")]
        if any(a[0] == "dead" for a in answers):
            reply.append(("dead", "1"))
        for status, dsn, text in answers:
            reply += [("rcpt_status", "defer" if status == "dead" else status),
                      ("rcpt_dsn", dsn), ("rcpt_text", text), ("rcpt_relay", "fake")]
        if self.keep:
            reply.append(("keep", "1"))
        with self.lock:
            self.active -= 1
        return reply

    def on_request(self, queue_id, rcpts):
        """While a request is served (the message is in active/): a notice to the test's
        sender is kept, parsed, in self.notices."""
        if "s@sender.example" in rcpts:
            self.notices.append(read_queue_file(os.path.join(self.spool, "active", queue_id)))

    def stop(self):
        self.__exit__(None, None, None)


@pytest.fixture
def routed(instance):
    """An instance whose mail for fake.example (and the test sender's domain) goes to `fake`."""
    instance.conf("transport_maps = inline:{fake.example=fake:, sender.example=fake:}\n")
    return instance


def send(instance, rcpts, sender="s@sender.example", body="Subject: t\r\n\r\nhello\r\n",
         mail_options=()):
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=10) as c:
        c.sendmail(sender, rcpts, body, mail_options=list(mail_options))


def queue_ids(instance, directory):
    """The complete messages of a queue directory."""
    path = os.path.join(instance.spool, directory)
    return sorted(f for f in os.listdir(path) if complete_queue_file(os.path.join(path, f)))


def queue_empty(instance):
    return not any(queue_ids(instance, d) for d in ("incoming", "active", "deferred"))


def test_delivery_marks_done_logs_and_removes(routed):
    agent = FakeAgent(routed)
    routed.start()
    send(routed, ["a@fake.example", "b@fake.example"])
    wait_for(lambda: routed.log_lines(r": removed$"), what="the message removed")
    assert queue_empty(routed)
    assert sorted(agent.attempts) == ["a@fake.example", "b@fake.example"]
    assert len(agent.requests) == 1          # one destination, one batch
    (qid,) = {q for q, _ in agent.requests}
    assert routed.log_lines(rf"{qid}: from=<s@sender.example>, size=\d+, nrcpt=2 "
                            r"\(queue active\)$")
    for r in ("a", "b"):
        assert routed.log_lines(rf"{qid}: to=<{r}@fake.example>, relay=fake, delay=[\d.]+, "
                                r"delays=[\d.]+/[\d.]+/0/[\d.]+, dsn=2\.0\.0, "
                                r"status=sent \(delivered by fake\)$")
    agent.stop()


def test_recipients_are_batched_up_to_the_limit(routed):
    routed.conf("default_destination_recipient_limit = 3\n")
    agent = FakeAgent(routed)
    routed.start()
    send(routed, [f"r{i}@fake.example" for i in range(7)])
    wait_for(lambda: routed.log_lines(r": removed$"), what="the message removed")
    sizes = sorted(len(r) for _, r in agent.requests)
    assert sizes == [1, 3, 3]
    assert all(n == 1 for n in agent.attempts.values())
    agent.stop()


def test_concurrency_window_bounds_parallel_deliveries(routed):
    routed.conf("initial_destination_concurrency = 2\n"
                "default_destination_concurrency_limit = 3\n")
    agent = FakeAgent(routed, delay=0.3)
    routed.start()
    for i in range(12):
        send(routed, [f"r{i}@fake.example"])
    wait_for(lambda: len(routed.log_lines(r": removed$")) == 12, timeout=60,
             what="12 messages delivered")
    assert 2 <= agent.max_active <= 3
    agent.stop()


def test_kept_connection_carries_the_next_requests(routed):
    """An agent that answers keep=1 gets the next requests on the same connection, and each
    delivery is recorded with its own answer, not the one before it."""
    agent = FakeAgent(routed, keep=True,
                      answer=lambda rcpt, attempt: ("sent", "2.0.0", f"delivered {rcpt}"))
    routed.start()
    for i in range(3):
        send(routed, [f"r{i}@fake.example"])
        wait_for(lambda: len(routed.log_lines(r": removed$")) == i + 1,
                 what=f"message {i} delivered")
    assert agent.connections == 1
    assert [r for _, r in agent.requests] == [["r0@fake.example"], ["r1@fake.example"],
                                              ["r2@fake.example"]]
    for i in range(3):
        assert routed.log_lines(rf"to=<r{i}@fake\.example>, relay=fake, .*status=sent "
                                rf"\(delivered r{i}@fake\.example\)$")
    agent.stop()


def test_kept_connection_the_agent_dropped_is_not_a_failure(routed):
    """When the agent closes a kept connection as the next request arrives on it (it timed
    the connection out, or is stopping), the request goes again on a new connection: the mail
    is delivered without a deferral."""
    agent = FakeAgent(routed, keep=True, drop_kept=True)
    routed.start()
    for i in range(2):
        send(routed, [f"r{i}@fake.example"])
        wait_for(lambda: len(routed.log_lines(r": removed$")) == i + 1,
                 what=f"message {i} delivered")
    assert agent.dropped == 1 and agent.connections == 2
    assert agent.attempts == {"r0@fake.example": 1, "r1@fake.example": 1}
    assert not routed.log_lines(r"status=deferred|delivery agent fake failed")
    agent.stop()


def test_each_local_recipient_has_its_own_window(instance):
    """For local (one recipient per request) the destination is the recipient, as in Postfix:
    mail for one mailbox goes two at a time (local_destination_concurrency_limit), mail for
    many mailboxes goes in parallel."""
    master = os.path.join(instance.dir, "master.conf")
    with open(master) as f:
        lines = f.read().splitlines()
    with open(master, "w") as f:   # the test serves private/local itself
        f.write("\n".join("#" + line if line.startswith("local ") else line for line in lines)
                + "\n")
    instance.conf("transport_maps = inline:{fake.example=local:}\n"
                  "initial_destination_concurrency = 5\n")
    agent = FakeAgent(instance, name="local", delay=0.3)
    instance.start()
    for _ in range(8):
        send(instance, ["one@fake.example"])
    wait_for(lambda: len(instance.log_lines(r": removed$")) == 8, timeout=60,
             what="8 messages to one mailbox delivered")
    assert agent.max_active == 2
    with agent.lock:
        agent.max_active = 0
    for i in range(8):
        send(instance, [f"r{i}@fake.example"])
    wait_for(lambda: len(instance.log_lines(r": removed$")) == 16, timeout=60,
             what="8 messages to 8 mailboxes delivered")
    assert agent.max_active >= 4
    agent.stop()


def test_deferred_recipient_is_retried_with_backoff_and_delivered(routed):
    routed.conf(FAST_RETRY)
    agent = FakeAgent(routed, answer=lambda r, n: ("defer", "4.2.0", "mailbox busy") if n < 3
                      else ("sent", "2.0.0", "delivered by fake"))
    routed.start()
    send(routed, ["slow@fake.example", "quick@fake.example"][:1])
    wait_for(lambda: queue_ids(routed, "deferred"), what="the message deferred")
    (qid,) = queue_ids(routed, "deferred")
    st = os.stat(os.path.join(routed.spool, "deferred", qid))
    assert st.st_mtime > time.time() - 1          # the next attempt time is its mtime
    assert os.path.exists(os.path.join(routed.spool, "defer", qid))
    assert routed.log_lines(rf"{qid}: to=<slow@fake.example>, relay=fake, .* dsn=4\.2\.0, "
                            r"status=deferred \(mailbox busy\)$")
    wait_for(lambda: routed.log_lines(rf"{qid}: removed$"), timeout=30, what="delivered")
    assert agent.attempts["slow@fake.example"] == 3
    assert not os.path.exists(os.path.join(routed.spool, "defer", qid))
    agent.stop()


def test_only_pending_recipients_are_retried(routed):
    routed.conf(FAST_RETRY)
    agent = FakeAgent(routed, answer=lambda r, n: ("defer", "4.2.0", "busy")
                      if r.startswith("later") and n == 1 else ("sent", "2.0.0", "ok"))
    routed.start()
    send(routed, ["now@fake.example", "later@fake.example"])
    wait_for(lambda: routed.log_lines(r": removed$"), timeout=30, what="delivered")
    assert agent.attempts == {"now@fake.example": 1, "later@fake.example": 2}
    agent.stop()


def test_bounced_recipient_is_not_retried_and_the_sender_is_told(routed):
    routed.conf(FAST_RETRY)
    agent = FakeAgent(routed, answer=lambda r, n: ("bounce", "5.1.1", "no such user")
                  if r.startswith("gone") else ("sent", "2.0.0", "ok"))
    routed.start()
    send(routed, ["gone@fake.example", "here@fake.example"])
    wait_for(lambda: agent.notices, timeout=30, what="the notice delivered to the sender")
    (orig_id,) = {q for q, r in agent.requests if "gone@fake.example" in r}
    lines = routed.log_lines(rf"{orig_id}: sender non-delivery notification: (\w+)$")
    assert lines
    assert routed.log_lines(rf"{orig_id}: to=<gone@fake.example>, relay=fake, .*dsn=5\.1\.1, "
                            r"status=bounced \(no such user\)$")
    wait_for(lambda: routed.log_lines(rf"{orig_id}: removed$"), what="original removed")
    assert agent.attempts["gone@fake.example"] == 1
    notice = agent.notices[0]
    assert notice["sender"] == ""
    assert b"gone@fake.example" in notice["content"]
    assert b"report-type=delivery-status" in notice["content"]
    agent.stop()


def test_mail_from_null_sender_never_bounces(routed):
    """A failed notice goes once to the postmaster (from double-bounce); when that fails too,
    it is logged and dropped: no loop."""
    routed.conf(FAST_RETRY + f"transport_maps = inline:{{fake.example=fake:, {HOST}=fake:}}\n")
    agent = FakeAgent(routed, answer=lambda r, n: ("bounce", "5.1.1", "no such user"))
    routed.start()
    send(routed, ["gone@fake.example"], sender="")
    wait_for(lambda: routed.log_lines(r"undeliverable postmaster notification discarded"),
             timeout=30, what="the double bounce dropped")
    time.sleep(2)
    assert routed.log_lines(r": postmaster non-delivery notification: \w+$")
    assert set(agent.attempts) == {"gone@fake.example", f"postmaster@{HOST}"}
    assert all(n == 1 for n in agent.attempts.values())
    wait_for(lambda: queue_empty(routed), what="an empty queue")
    assert not routed.log_lines(r"sender non-delivery notification")
    agent.stop()


def test_expired_message_is_returned(routed):
    routed.conf(FAST_RETRY + "maximal_queue_lifetime = 2s\n")
    agent = FakeAgent(routed, answer=lambda r, n: ("sent", "2.0.0", "ok") if r.startswith("s@")
                  else ("defer", "4.4.1", "connection refused"))
    routed.start()
    send(routed, ["far@fake.example"])
    wait_for(lambda: agent.notices, timeout=30, what="the notice")
    assert routed.log_lines(r"to=<far@fake.example>, relay=fake, .*dsn=4\.4\.1, "
                            r"status=expired, returned to sender \(connection refused\)$")
    assert agent.attempts["far@fake.example"] >= 2
    wait_for(lambda: queue_empty(routed), what="an empty queue")
    agent.stop()


def test_dead_destination_holds_its_mail_without_attempts(routed):
    routed.conf("initial_destination_concurrency = 1\n")
    agent = FakeAgent(routed, answer=lambda r, n: ("dead", "4.4.1", "connection refused"))
    routed.start()
    send(routed, ["one@fake.example"])
    wait_for(lambda: routed.log_lines(r"to=<one@fake.example>.*status=deferred"),
             what="the first deferral")
    assert routed.log_lines(r"warning: fake:fake\.example: destination is not reachable")
    send(routed, ["two@fake.example"])
    wait_for(lambda: routed.log_lines(r"to=<two@fake.example>.*status=deferred \(delivery "
                                      r"temporarily suspended: connection refused\)$"),
             what="the second message held back")
    assert "two@fake.example" not in agent.attempts
    agent.stop()


def test_flush_retries_deferred_mail_now(routed):
    agent = FakeAgent(routed, answer=lambda r, n: ("defer", "4.2.0", "busy") if n == 1
                      else ("sent", "2.0.0", "ok"))
    routed.start()
    send(routed, ["x@fake.example"])
    wait_for(lambda: queue_ids(routed, "deferred"), what="deferred")
    time.sleep(0.5)
    assert agent.attempts["x@fake.example"] == 1      # the retry time is 300s away
    r = routed.tern("flush")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: routed.log_lines(r": removed$"), what="delivered after the flush")
    agent.stop()


def test_error_and_discard_transports(instance):
    instance.conf("transport_maps = inline:{{ err.example = error:5.7.1 no mail here }, "
                  "{ void.example = discard:silently }, sender.example=fake:}\n")
    agent = FakeAgent(instance)
    instance.start()
    send(instance, ["x@err.example", "y@void.example"])
    wait_for(lambda: instance.log_lines(r"sender non-delivery notification"), what="notice")
    assert instance.log_lines(r"to=<x@err.example>, relay=none, .*dsn=5\.7\.1, "
                              r"status=bounced \(no mail here\)$")
    assert instance.log_lines(r"to=<y@void.example>, relay=none, .*dsn=2\.0\.0, "
                              r"status=sent \(discarded: silently\)$")
    agent.stop()


def test_virtual_alias_forwards_with_the_original_recipient(routed):
    routed.conf("virtual_alias_maps = inline:{{ info@fake.example = a@fake.example, "
                "b@fake.example }}\n")
    agent = FakeAgent(routed)
    routed.start()
    send(routed, ["info@fake.example"])
    wait_for(lambda: len(routed.log_lines(r": removed$")) == 2, what="both messages done")
    (first,) = routed.log_lines(r"to=<info@fake.example>, relay=none, .*status=sent "
                                r"\(forwarded as \w+\)$")
    assert sorted(agent.attempts) == ["a@fake.example", "b@fake.example"]
    assert routed.log_lines(r"to=<a@fake.example>, orig_to=<info@fake.example>, relay=fake")
    agent.stop()


def test_restart_recovers_active_and_skips_hold(instance):
    """What a killed qmgr left in active/ is delivered after a restart; hold/ is never
    scheduled."""
    instance.conf("transport_maps = inline:{fake.example=fake:}\n")
    ids = []
    for d in ("active", "active", "hold"):
        qid = make_queue_id()
        write_queue_file(os.path.join(instance.spool, d, qid), "s@sender.example",
                         ["r@fake.example"], b"Subject: x\r\n\r\nbody\r\n")
        ids.append(qid)
    agent = FakeAgent(instance)
    instance.start()
    wait_for(lambda: len(instance.log_lines(r": removed$")) == 2, what="two delivered")
    assert queue_ids(instance, "hold") == [ids[2]]
    assert instance.log_lines(r"2 messages that were being delivered when the queue manager "
                              r"stopped go back to incoming/")
    agent.stop()


def test_file_being_written_is_left_alone(routed):
    """Invariant 2: a file in incoming/ without its read bit (mode 0200, as smtpd, pickup and
    bounce write it until the commit) is not taken, however complete its content looks; once
    the bit is set, the next scan delivers it."""
    agent = FakeAgent(routed)
    routed.start()
    qid = make_queue_id()
    staged = os.path.join(routed.spool, "staged-" + qid)
    write_queue_file(staged, "s@sender.example", ["writing@fake.example"],
                     b"Subject: x\r\n\r\nbody\r\n")
    os.chmod(staged, 0o200)
    path = os.path.join(routed.incoming, qid)
    os.rename(staged, path)
    send(routed, ["first@fake.example"])   # wakes qmgr, which scans incoming/
    wait_for(lambda: routed.log_lines(r": removed$"), what="the first message delivered")
    time.sleep(1)
    assert os.path.exists(path)
    assert "writing@fake.example" not in agent.attempts
    assert not routed.log_lines(qid)
    os.chmod(path, 0o600)
    send(routed, ["second@fake.example"])
    wait_for(lambda: routed.log_lines(rf"{qid}: removed$"), what="the sealed file delivered")
    assert agent.attempts["writing@fake.example"] == 1
    agent.stop()


def test_wakeups_on_one_connection_and_a_prompt_stop(routed):
    """A program keeps its connection to public/qmgr for wakeup after wakeup (ipc_wakeup):
    each one makes qmgr scan incoming/ (with the next periodic scan minutes away), the
    connection stays open between them, and it does not hold up a stop."""
    routed.conf("queue_run_delay = 300s\n")
    agent = FakeAgent(routed)
    routed.start()
    send(routed, ["first@fake.example"])   # qmgr's first scans are behind it
    wait_for(lambda: routed.log_lines(r": removed$"), what="the first message delivered")
    waker = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    waker.settimeout(10)
    waker.connect(os.path.join(routed.spool, "public", "qmgr"))
    for i in range(2):
        qid = make_queue_id()
        write_queue_file(os.path.join(routed.incoming, qid), "s@sender.example",
                         [f"woken{i}@fake.example"], b"Subject: x\r\n\r\nbody\r\n")
        waker.sendall(ipc_encode([("type", "wakeup")]))
        wait_for(lambda: routed.log_lines(rf"{qid}: removed$"), what=f"file {i} delivered")
    started = time.monotonic()
    routed.tern("stop")
    assert time.monotonic() - started < 5
    assert waker.recv(16) == b""   # qmgr closed it on its way out
    waker.close()
    agent.stop()


def queue_id_inode(qid):
    """The inode number a queue ID ends with (queue/qfile.c: 11 time digits, then base 31)."""
    alphabet = "0123456789BCDFGHJKLMNPQRSTVWXYZ"
    n = 0
    for c in qid[11:]:
        n = n * 31 + alphabet.index(c)
    return n


def test_delivered_file_is_kept_as_a_spare_and_reused(routed):
    """A delivered message's file goes to spare/ (mode 0200, never complete-looking) and the
    next message accepted is written into it; what a stopped qmgr left in spare/, or left in
    active/ half-retired (mode 0200), is removed when it starts."""
    spare_dir = os.path.join(routed.spool, "spare")
    leftover = os.path.join(spare_dir, make_queue_id())
    with open(leftover, "wb") as f:
        f.write(b"old")
    os.chmod(leftover, 0o200)
    half = os.path.join(routed.spool, "active", make_queue_id())
    write_queue_file(half, "s@sender.example", ["half@fake.example"], b"Subject: x\r\n\r\n")
    os.chmod(half, 0o200)
    agent = FakeAgent(routed)
    routed.start()
    wait_for(lambda: not os.path.exists(leftover), what="spare/ emptied at start")
    assert not os.path.exists(half)
    assert not any(os.listdir(os.path.join(routed.spool, d)) for d in ("incoming", "active"))

    send(routed, ["one@fake.example"])
    wait_for(lambda: routed.log_lines(r": removed$"), what="the first message delivered")
    (spare,) = os.listdir(spare_dir)
    st = os.lstat(os.path.join(spare_dir, spare))
    assert st.st_mode & 0o7777 == 0o200
    send(routed, ["two@fake.example"])
    wait_for(lambda: len(routed.log_lines(r": removed$")) == 2, what="the second delivered")
    first, second = (re.search(r"(\w+): removed$", line).group(1)
                     for line in routed.log_lines(r": removed$"))
    assert spare == first
    assert queue_id_inode(second) == st.st_ino   # the first one's file, written again
    assert agent.attempts == {"one@fake.example": 1, "two@fake.example": 1}
    assert "half@fake.example" not in agent.attempts
    assert os.listdir(spare_dir) == [second]
    agent.stop()


def test_corrupt_queue_file_is_set_aside(instance):
    instance.start()
    qid = make_queue_id()
    path = os.path.join(instance.spool, "incoming", qid)
    with open(path, "wb") as f:
        f.write(b"Vxxxxnot a queue file")
    if IS_ROOT:
        os.chown(path, *tern_ids())
    r = instance.tern("flush")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: os.path.exists(os.path.join(instance.spool, "corrupt", qid)),
             what="the file in corrupt/")
    assert instance.log_lines(rf"warning: {qid}: corrupt queue file moved to corrupt/")


def test_delay_notice_is_sent_once(routed):
    routed.conf(FAST_RETRY + "delay_warning_time = 1s\n")
    agent = FakeAgent(routed, answer=lambda r, n: ("sent", "2.0.0", "ok") if r.startswith("s@")
                      else ("defer", "4.4.1", "connection timed out"))
    routed.start()
    send(routed, ["far@fake.example"])
    wait_for(lambda: routed.log_lines(r": sender delay notification: \w+$"), timeout=30,
             what="the delay notice")
    wait_for(lambda: agent.attempts.get("far@fake.example", 0) >= 4, timeout=30,
             what="more attempts")
    assert len(routed.log_lines(r": sender delay notification: \w+$")) == 1
    assert agent.attempts.get("s@sender.example") == 1
    agent.stop()


def test_success_notice_on_notify_success(routed):
    agent = FakeAgent(routed)
    routed.start()
    with smtplib.SMTP("127.0.0.1", routed.smtp_port, timeout=10) as c:
        c.ehlo()
        c.mail("s@sender.example")
        c.rcpt("yes@fake.example", options=["NOTIFY=SUCCESS"])
        c.rcpt("no@fake.example")
        c.data(b"Subject: t\r\n\r\nhello\r\n")
    wait_for(lambda: routed.log_lines(r": sender delivery status notification: \w+$"),
             what="the success notice")
    wait_for(lambda: agent.attempts.get("s@sender.example") == 1, what="notice delivered")
    assert len(routed.log_lines(r"notification")) == 1
    agent.stop()


def test_virtual_alias_listing_itself_does_not_loop(routed):
    """`a = a, b` (Postfix's idiom to keep a copy): one copy each, once."""
    routed.conf("virtual_alias_maps = inline:{{ info@fake.example = info@fake.example, "
                "b@fake.example }}\n")
    agent = FakeAgent(routed)
    routed.start()
    send(routed, ["info@fake.example"])
    wait_for(lambda: len(routed.log_lines(r": removed$")) == 2, what="both messages done")
    time.sleep(1)
    assert agent.attempts == {"info@fake.example": 1, "b@fake.example": 1}
    assert len(routed.log_lines(r"forwarded as")) == 1
    agent.stop()


def test_notice_that_cannot_be_written_is_given_up_after_the_lifetime(routed):
    routed.conf(FAST_RETRY + "maximal_queue_lifetime = 2s\n")
    routed.drop_services(["bounce"])
    agent = FakeAgent(routed, answer=lambda r, n: ("bounce", "5.1.1", "no such user"))
    routed.start()
    send(routed, ["gone@fake.example"])
    wait_for(lambda: routed.log_lines(r"cannot send the failure notice"), what="a failed notice")
    wait_for(lambda: routed.log_lines(r"giving up on its delivery status notices"), timeout=30,
             what="the notice given up")
    wait_for(lambda: queue_empty(routed), what="an empty queue")
    assert agent.attempts == {"gone@fake.example": 1}
    agent.stop()

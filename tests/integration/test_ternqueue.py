"""ternqueue (issue 6) as admins and users run it, on mail deferred by an unreachable relay
(relayhost = a loopback port where nothing listens): the listing in mailq's layout and as JSON
matches the queue files and the log; hold, release, delete and requeue do what they say,
through the queue manager and, with the mail system stopped, by root directly; -f, -i and -s
make the queue manager try again now; an ordinary user may list and flush but not change or
read the queue."""
import json
import os
import re
import shutil
import smtplib
import socket
import subprocess
import threading
import time
import uuid

import pytest

from conftest import (BUILDDIR, IS_ROOT, free_port, ipc_decode, ipc_encode, read_queue_file,
                      wait_for)

TERNQUEUE = os.path.join(BUILDDIR, "bin", "ternqueue")
HEADER = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------"


@pytest.fixture
def deferring(instance):
    """An instance whose mail all goes to a relay that refuses connections: it stays deferred
    (the next attempt is 300s away, and the destination is held back as dead after one
    failure)."""
    instance.relay_port = free_port()
    instance.conf(f"relayhost = [127.0.0.1]:{instance.relay_port}\n"
                  "initial_destination_concurrency = 1\n"
                  "minimal_backoff_time = 300s\nmaximal_backoff_time = 300s\n"
                  "queue_run_delay = 300s\n")
    instance.start()
    return instance


def tq(instance, *args, stdin=None, user=None, binary=TERNQUEUE, config=None):
    kw = {}
    if user is not None:
        kw = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    return subprocess.run([binary, "-c", config or instance.dir, *args], input=stdin,
                          capture_output=True, text=True, timeout=60, **kw)


def send(instance, rcpts, sender="s@sender.example", rcpt_options=()):
    """Submits a message over SMTP and returns its queue ID."""
    subject = uuid.uuid4().hex
    msg = f"From: <{sender or 'x@y'}>\r\nSubject: {subject}\r\n\r\nbody of {subject}\r\n"
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=10) as c:
        c.ehlo()
        assert c.mail(sender)[0] == 250
        for r in rcpts:
            assert c.rcpt(r, list(rcpt_options))[0] == 250
        code, text = c.data(msg.encode())
        assert code == 250, text
    return re.search(r"queued as (\S+)", text.decode()).group(1)


def in_queue(instance, name, qid):
    return os.path.exists(os.path.join(instance.spool, name, qid))


def attempts(instance, qid):
    """How often the queue manager took the message into active/."""
    return len(instance.log_lines(rf"tern/qmgr\[\d+\]: {qid}: from=<.*\(queue active\)$"))


def deferrals(instance, qid):
    """[(recipient, reason)] of every deferral of qid in the log."""
    out = []
    for line in instance.log_lines(rf"tern/qmgr\[\d+\]: {qid}: to=<"):
        m = re.search(r": to=<(.*?)>, .*status=deferred \((.*)\)$", line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def wait_deferred(instance, qids, tries=1):
    """Until each message is back in deferred/ after at least `tries` attempts."""
    wait_for(lambda: all(in_queue(instance, "deferred", q) and attempts(instance, q) >= tries
                         for q in qids), timeout=30, what=f"{qids} deferred")


def logged_size(instance, qid):
    line = instance.log_lines(rf"tern/qmgr\[\d+\]: {qid}: from=<.*\(queue active\)$")[0]
    return int(re.search(r"size=(\d+)", line).group(1))


def json_entries(instance, **kw):
    r = tq(instance, "-j", **kw)
    assert r.returncode == 0, r.stderr
    return {e["queue_id"]: e for e in map(json.loads, r.stdout.splitlines())}


def parse_mailq(text):
    """mailq's layout as {id: {"mark", "size", "date", "sender", "rcpts": [(reason, addr)]}},
    plus the footer line; checks the layout on the way."""
    lines = text.split("\n")
    assert lines[0] == HEADER, lines[0]
    assert lines[-1] == ""
    footer = lines[-2]
    entries, cur, reason = {}, None, None
    for line in lines[1:-2]:
        if line == "":
            cur = None
            continue
        m = re.fullmatch(r"(\w+)([ *!]) +(\d+) (\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d)  (.*)", line)
        if cur is None:
            assert m, line
            cur = entries[m.group(1)] = {"mark": m.group(2), "size": int(m.group(3)),
                                         "date": m.group(4), "sender": m.group(5), "rcpts": []}
            reason = None
        elif line.lstrip().startswith("("):
            # right-aligned to column 78, or from column 1 when longer
            assert line.endswith(")") and (len(line) == 78 or line[0] == "("), repr(line)
            reason = line.strip()[1:-1]
        else:
            assert line.startswith(" " * 41) and line[41] != " ", repr(line)
            cur["rcpts"].append((reason, line[41:]))
    return entries, footer


def test_listing_matches_the_deferred_queue(deferring):
    inst = deferring
    a = send(inst, ["x@remote.example", "y@other.example"])
    wait_deferred(inst, [a])
    b = send(inst, ["z@remote.example"], sender="")
    wait_deferred(inst, [b])
    refused = f"connect to 127.0.0.1[127.0.0.1]:{inst.relay_port}: Connection refused"
    assert sorted(os.listdir(os.path.join(inst.spool, "deferred"))) == sorted([a, b])

    entries = json_entries(inst)
    assert sorted(entries) == sorted([a, b])
    for qid, sender, rcpts in ((a, "s@sender.example", ["x@remote.example", "y@other.example"]),
                               (b, "", ["z@remote.example"])):
        e = entries[qid]
        path = os.path.join(inst.spool, "deferred", qid)
        q = read_queue_file(path)
        assert e["queue_name"] == "deferred"
        assert e["sender"] == sender == q["sender"]
        assert e["forced_expire"] is False
        assert e["arrival_time"] == int(q["time"])
        assert e["message_size"] == logged_size(inst, qid) == len(q["content"])
        assert e["next_attempt"] == int(os.stat(path).st_mtime) > time.time() + 200
        assert [r["address"] for r in e["recipients"]] == rcpts
        logged = dict(deferrals(inst, qid))
        for r in e["recipients"]:
            assert r["delay_reason"] == logged[r["address"]]
            assert r["next_attempt"] == e["next_attempt"]
    # the first attempt found the relay refusing; later mail waited for the dead destination
    assert entries[a]["recipients"][0]["delay_reason"] == refused

    r = tq(inst, "-p")
    assert r.returncode == 0, r.stderr
    listed, footer = parse_mailq(r.stdout)
    assert sorted(listed) == sorted([a, b])
    total = 0
    for qid, e in listed.items():
        j = entries[qid]
        total += j["message_size"]
        assert e["mark"] == " " and e["size"] == j["message_size"]
        assert e["sender"] == (j["sender"] or "MAILER-DAEMON")
        assert e["date"] == time.strftime("%a %b %e %H:%M:%S", time.localtime(j["arrival_time"]))
        assert e["rcpts"] == [(x["delay_reason"], x["address"]) for x in j["recipients"]]
    assert footer == f"-- {total // 1024} Kbytes in 2 Requests."
    # the same reason is shown once before the recipients that share it
    assert r.stdout.count(f"({refused})") == 1 + (entries[b]["recipients"][0]["delay_reason"]
                                                 == refused)


def test_empty_queue(deferring):
    r = tq(deferring, "-p")
    assert (r.returncode, r.stdout) == (0, "Mail queue is empty\n"), r.stderr
    r = tq(deferring, "-j")
    assert (r.returncode, r.stdout) == (0, "")


def test_hold_release_and_delete(deferring):
    inst = deferring
    qid = send(inst, ["x@remote.example"])
    wait_deferred(inst, [qid])

    r = tq(inst, "-h", qid)
    assert r.returncode == 0 and "ternqueue: Placed on hold: 1 message\n" in r.stderr, r.stderr
    assert in_queue(inst, "hold", qid) and not in_queue(inst, "deferred", qid)
    assert inst.log_lines(rf"tern/qmgr\[\d+\]: {qid}: placed on hold$")
    listed, footer = parse_mailq(tq(inst, "-p").stdout)
    assert listed[qid]["mark"] == "!" and footer.endswith("in 1 Request.")
    assert json_entries(inst)[qid]["queue_name"] == "hold"
    # a held message is not retried, not even by a flush of everything
    assert tq(inst, "-f").returncode == 0
    wait_for(lambda: inst.log_lines(r"flush: every deferred message is retried now"),
             what="the flush")
    time.sleep(1)
    assert attempts(inst, qid) == 1 and in_queue(inst, "hold", qid)

    r = tq(inst, "-H", qid)
    assert r.returncode == 0 and "ternqueue: Released from hold: 1 message\n" in r.stderr
    assert inst.log_lines(rf"{qid}: released from hold$")
    wait_deferred(inst, [qid], tries=2)     # released: due now, tried again at once
    assert len(deferrals(inst, qid)) == 2

    r = tq(inst, "-d", qid)
    assert r.returncode == 0 and "ternqueue: Deleted: 1 message\n" in r.stderr, r.stderr
    assert not any(in_queue(inst, d, qid) for d in ("incoming", "active", "deferred", "hold",
                                                    "defer"))
    assert inst.log_lines(rf"tern/qmgr\[\d+\]: {qid}: removed$")
    assert tq(inst, "-p").stdout == "Mail queue is empty\n"
    # again: nothing left to delete
    r = tq(inst, "-d", qid)
    assert r.returncode == 0
    assert f"warning: {qid}: no such message" in r.stderr
    assert "Deleted: 0 messages" in r.stderr


def test_requeue_routes_the_message_afresh(deferring):
    inst = deferring
    qid = send(inst, ["x@remote.example"])
    wait_deferred(inst, [qid])
    r = tq(inst, "-r", qid)
    assert r.returncode == 0 and "ternqueue: Requeued: 1 message\n" in r.stderr, r.stderr
    assert inst.log_lines(rf"tern/qmgr\[\d+\]: {qid}: requeued$")
    wait_deferred(inst, [qid], tries=2)
    assert len(deferrals(inst, qid)) == 2


class SilentRelay:
    """Listens on the relay port and says nothing: a delivery attempt stays open (the message
    stays in active/) until hang_up(), after which every connection is closed at once."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.conns, self.closing, self.stop = [], False, False
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with self.lock:
                if self.closing:
                    conn.close()
                else:
                    self.conns.append(conn)

    def accepted(self):
        with self.lock:
            return len(self.conns)

    def hang_up(self):
        with self.lock:
            self.closing = True
            for c in self.conns:
                c.close()

    def close(self):
        self.hang_up()
        self.stop = True
        self.thread.join(timeout=10)
        self.sock.close()


def test_hold_and_delete_of_a_message_being_delivered(deferring):
    """The queue manager owns active/: the action waits for the end of the attempt in flight;
    a message whose delivery has not started yet goes at once."""
    inst = deferring
    relay = SilentRelay(inst.relay_port)
    try:
        # held's attempt first: the second message is sent only once it is in flight (two
        # messages found in incoming/ together are taken in directory order, not sent order)
        held = send(inst, ["x@remote.example"])
        wait_for(lambda: relay.accepted() >= 1 and in_queue(inst, "active", held),
                 what="the first one's attempt")
        gone = send(inst, ["y@remote.example"])
        wait_for(lambda: in_queue(inst, "active", gone), what="both in active/")
        listed, _ = parse_mailq(tq(inst, "-p").stdout)
        assert listed[held]["mark"] == listed[gone]["mark"] == "*"
        assert json_entries(inst)[held]["queue_name"] == "active"
        r = tq(inst, "-h", held)
        assert r.returncode == 0 and "Placed on hold: 1 message\n" in r.stderr, r.stderr
        r = tq(inst, "-d", gone)
        assert r.returncode == 0 and "Deleted: 1 message\n" in r.stderr, r.stderr
        # one connection at a time: held's attempt is in flight, gone's was only queued
        wait_for(lambda: inst.log_lines(rf"tern/qmgr\[\d+\]: {gone}: removed$"),
                 what="the queued one deleted at once")
        time.sleep(0.5)
        assert in_queue(inst, "active", held)
        relay.hang_up()
        wait_for(lambda: in_queue(inst, "hold", held), what="held after its attempt")
    finally:
        relay.close()
    assert deferrals(inst, held)                      # the attempt's result was recorded
    assert inst.log_lines(rf"tern/qmgr\[\d+\]: {held}: placed on hold$")
    assert not any(in_queue(inst, d, gone) for d in ("active", "deferred", "hold", "defer"))
    assert not inst.log_lines(rf"{gone}: sender .*notification")   # deleted: no notice
    listed, _ = parse_mailq(tq(inst, "-p").stdout)
    assert list(listed) == [held] and listed[held]["mark"] == "!"


def test_delete_takes_back_the_deliveries_not_yet_started(instance):
    """A message with four recipients, one per delivery, one delivery at a time: deleting it
    during the first attempt stops the three others (as postsuper -d does)."""
    port = free_port()
    instance.conf(f"relayhost = [127.0.0.1]:{port}\ninitial_destination_concurrency = 1\n"
                  "default_destination_concurrency_limit = 1\n"
                  "default_destination_recipient_limit = 1\n")
    instance.start()
    relay = SilentRelay(port)
    try:
        qid = send(instance, [f"r{i}@remote.example" for i in range(4)])
        wait_for(lambda: relay.accepted() == 1, what="the first delivery attempt")
        r = tq(instance, "-d", qid)
        assert r.returncode == 0 and "Deleted: 1 message\n" in r.stderr, r.stderr
        relay.hang_up()
        wait_for(lambda: instance.log_lines(rf"tern/qmgr\[\d+\]: {qid}: removed$"),
                 what="the message removed after its one attempt")
        time.sleep(0.5)
        assert relay.accepted() == 1
    finally:
        relay.close()
    assert len(instance.log_lines(rf"{qid}: to=<r\d@remote\.example>")) == 1
    assert not any(in_queue(instance, d, qid) for d in ("active", "deferred", "hold"))


def test_flush_one_message_and_one_site(deferring):
    inst = deferring
    a = send(inst, ["x@remote.example"])
    wait_deferred(inst, [a])
    b = send(inst, ["y@other.example", "w@third.example"])
    wait_deferred(inst, [b])
    refused = f"connect to 127.0.0.1[127.0.0.1]:{inst.relay_port}: Connection refused"
    # the destination is held back as dead: b waited without an attempt
    assert deferrals(inst, b)[0][1].startswith("delivery temporarily suspended")

    r = tq(inst, "-i", a)
    assert r.returncode == 0, r.stderr
    assert inst.log_lines(rf"{a}: flush: the message is retried now")
    wait_deferred(inst, [a], tries=2)
    assert deferrals(inst, a)[-1] == ("x@remote.example", refused)   # really tried
    assert attempts(inst, b) == 1

    r = tq(inst, "-s", "other.example")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: inst.log_lines(r"flush other\.example: 1 deferred message retried now"),
             what="the site scan")
    wait_deferred(inst, [b], tries=2)
    assert deferrals(inst, b)[-2:] == [("y@other.example", refused),
                                       ("w@third.example", refused)]
    assert attempts(inst, a) == 2
    # a site with nothing queued, an unknown message, a bad ID
    assert tq(inst, "-s", "nowhere.example").returncode == 0
    wait_for(lambda: inst.log_lines(r"flush nowhere\.example: 0 deferred messages"),
             what="the empty scan")
    r = tq(inst, "-i", "1B6MV0P9TQ87KX")
    assert r.returncode == 66 and "no such message" in r.stderr
    assert tq(inst, "-i", "bad/id").returncode == 64
    assert tq(inst, "-s", "a b").returncode == 64


def test_all_and_standard_input(deferring):
    inst = deferring
    ids = [send(inst, [f"r{i}@remote.example"]) for i in range(3)]
    wait_deferred(inst, ids)
    r = tq(inst, "-h", "ALL")
    assert r.returncode == 0 and "Placed on hold: 3 messages" in r.stderr, r.stderr
    assert sorted(os.listdir(os.path.join(inst.spool, "hold"))) == sorted(ids)
    # IDs as mailq prints them, a blank line and a line that is not an ID
    r = tq(inst, "-H", "-", stdin=f"{ids[0]}!\n\n  {ids[1]}\nnot-an-id\n")
    assert r.returncode == 65, r.stderr
    assert "Released from hold: 2 messages" in r.stderr
    assert '"not-an-id" is not a queue ID' in r.stderr
    assert os.listdir(os.path.join(inst.spool, "hold")) == [ids[2]]
    wait_deferred(inst, ids[:2], tries=2)
    # ALL in one queue, then everywhere
    r = tq(inst, "-d", "ALL", "deferred")
    assert r.returncode == 0 and "Deleted: 2 messages" in r.stderr, r.stderr
    assert os.listdir(os.path.join(inst.spool, "hold")) == [ids[2]]
    r = tq(inst, "-d", "ALL")
    assert r.returncode == 0 and "Deleted: 1 message\n" in r.stderr, r.stderr
    assert tq(inst, "-p").stdout == "Mail queue is empty\n"
    # usage errors change nothing
    assert tq(inst, "-d", "ALL", "maildrop").returncode == 64
    assert tq(inst, "-H", "ALL", "deferred").returncode == 64
    assert tq(inst, "-h", "ALL", "hold").returncode == 64
    assert tq(inst, "-d", "nonsense").returncode == 64
    assert tq(inst, "-p", "-f").returncode == 64


def test_show_one_message(deferring):
    inst = deferring
    qid = send(inst, ["x@remote.example", "y@remote.example"],
               rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;orig@remote.example"])
    wait_deferred(inst, [qid])
    r = tq(inst, "-v", qid)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith(f"*** ENVELOPE RECORDS deferred/{qid} ***\n")
    for want in (f"queue_id: {qid}", "queue_name: deferred", "sender: s@sender.example",
                 "named_attribute: client_address=127.0.0.1", "named_attribute: protocol=ESMTP",
                 "recipient: x@remote.example (pending)", "  notify: SUCCESS,FAILURE",
                 "  orcpt: rfc822;orig@remote.example", "recipient: y@remote.example (pending)",
                 f"*** MESSAGE CONTENTS deferred/{qid} ***",
                 f"*** END OF MESSAGE deferred/{qid} ***"):
        assert want + "\n" in out, want
    assert "\r" not in out
    q = read_queue_file(os.path.join(inst.spool, "deferred", qid))
    body = out.split(f"*** MESSAGE CONTENTS deferred/{qid} ***\n")[1]
    assert body.split("*** END OF MESSAGE")[0] == q["content"].decode().replace("\r\n", "\n")
    r = tq(inst, "-v", "1B6MV0P9TQ87KX")
    assert r.returncode == 66 and "no such message" in r.stderr


def test_root_works_with_the_mail_system_stopped(deferring):
    inst = deferring
    a = send(inst, ["x@remote.example"])
    b = send(inst, ["y@remote.example"])
    wait_deferred(inst, [a, b])
    before = json_entries(inst)
    assert inst.tern("stop").returncode == 0
    r = tq(inst, "-j")
    assert r.returncode == 0, r.stderr
    assert "mail system is down" in r.stderr
    assert {e["queue_id"]: e for e in map(json.loads, r.stdout.splitlines())} == before
    listed, _ = parse_mailq(tq(inst, "-p").stdout)
    assert sorted(listed) == sorted([a, b])
    r = tq(inst, "-d", a)
    assert r.returncode == 0 and "Deleted: 1 message\n" in r.stderr, r.stderr
    assert not in_queue(inst, "deferred", a) and not in_queue(inst, "defer", a)
    assert inst.log_lines(rf"tern/ternqueue\[\d+\]: {a}: removed$")
    r = tq(inst, "-h", "ALL")
    assert r.returncode == 0 and "Placed on hold: 1 message\n" in r.stderr
    assert in_queue(inst, "hold", b)
    assert tq(inst, "-v", b).returncode == 0
    r = tq(inst, "-f")
    assert r.returncode == 69 and "queue manager does not answer" in r.stderr


def test_mutations_need_the_queue_manager_when_the_master_runs(deferring):
    inst = deferring
    qid = send(inst, ["x@remote.example"])
    wait_deferred(inst, [qid])
    inst.tern("stop")
    inst.drop_services(["qmgr"])
    inst.start()
    r = tq(inst, "-d", qid)
    assert r.returncode == 69 and "nothing was changed" in r.stderr, r.stderr
    assert in_queue(inst, "deferred", qid)


@pytest.mark.skipif(not IS_ROOT, reason="needs root to create a user and a set-gid program")
def test_ordinary_user_lists_and_flushes_but_changes_nothing(deferring, users, tmp_path):
    inst = deferring
    user = users("tq")
    qid = send(inst, ["x@remote.example"])
    wait_deferred(inst, [qid])
    # installed as `tern setup` does: set-gid terndrop
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.chmod(bindir, 0o755)
    setgid = str(bindir / "ternqueue")
    shutil.copy(TERNQUEUE, setgid)
    os.chown(setgid, 0, __import__("grp").getgrnam("terndrop").gr_gid)
    os.chmod(setgid, 0o2755)

    r = tq(inst, "-p", user=user, binary=setgid)
    assert r.returncode == 0, r.stderr
    assert qid in parse_mailq(r.stdout)[0]
    r = tq(inst, "-j", user=user, binary=setgid)
    assert r.returncode == 0 and json.loads(r.stdout)["queue_id"] == qid
    assert tq(inst, "-f", user=user, binary=setgid).returncode == 0
    time.sleep(1.1)   # ordinary users get one flush a second
    assert tq(inst, "-i", qid, user=user, binary=setgid).returncode == 0
    wait_deferred(inst, [qid], tries=2)
    time.sleep(1.1)
    assert tq(inst, "-s", "remote.example", user=user, binary=setgid).returncode == 0

    for args in (("-d", qid), ("-h", qid), ("-H", "ALL"), ("-r", "ALL"), ("-v", qid),
                 ("-d", "-")):
        r = tq(inst, *args, user=user, binary=setgid, stdin=qid + "\n")
        assert r.returncode == 77, (args, r.stderr)
        assert r.stderr == "ternqueue: permission denied\n", r.stderr
    wait_deferred(inst, [qid], tries=2)
    assert in_queue(inst, "deferred", qid)

    # the queue manager checks too: a request made with the group, but not by root
    reply = subprocess.run(
        ["/usr/bin/python3", "-c", "import socket,sys\n"
         "s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])\n"
         "s.sendall(sys.stdin.buffer.read()); sys.stdout.buffer.write(s.recv(4096))",
         os.path.join(inst.spool, "public", "qmgr")],
        input=ipc_encode([("type", "delete"), ("queue_id", qid)]), capture_output=True,
        timeout=30, user=user.pw_uid, group=__import__("grp").getgrnam("terndrop").gr_gid,
        extra_groups=[])
    assert reply.returncode == 0, reply.stderr
    attrs = dict(ipc_decode(reply.stdout)[0])
    assert attrs == {"status": "fail", "reason": "permission denied"}
    assert inst.log_lines(rf"public/qmgr: delete request from uid {user.pw_uid} refused")
    assert in_queue(inst, "deferred", qid)

    # without the set-gid bit, public/ is out of reach (a plain copy, as the build's own
    # ternqueue: the build tree need not be within the user's reach, e.g. a clone in /root)
    plain = tmp_path / "plain"
    plain.mkdir()
    os.chmod(plain, 0o755)
    shutil.copy(TERNQUEUE, plain / "ternqueue")
    os.chmod(plain / "ternqueue", 0o755)
    assert not os.stat(plain / "ternqueue").st_mode & 0o7000
    r = tq(inst, "-p", user=user, binary=str(plain / "ternqueue"))
    assert r.returncode == 69 and "set-gid" in r.stderr, r.stderr
    # with a configuration the user could have written, the group is given up
    own = tmp_path / "own"
    own.mkdir()
    shutil.copy(os.path.join(inst.dir, "tern.conf"), own / "tern.conf")
    os.chown(own, user.pw_uid, user.pw_gid)
    os.chown(own / "tern.conf", user.pw_uid, user.pw_gid)
    os.chmod(tmp_path, 0o755)
    r = tq(inst, "-p", user=user, binary=setgid, config=str(own))
    assert r.returncode == 69 and "set-gid" in r.stderr, r.stderr

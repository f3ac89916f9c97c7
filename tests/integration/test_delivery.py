"""Mail from SMTP to mailboxes, end to end (issue 4): smtpd, qmgr, local, virtual and bounce
of a `tern init` instance together. Runs as root (CI does): it creates system users for the
recipients and removes them afterwards."""
import email
import email.policy
import os
import pwd
import re
import signal
import smtplib
import threading
import uuid

import pytest

from conftest import IS_ROOT, alive, cmdline, wait_for

HOST = "mx.test.example"
pytestmark = pytest.mark.skipif(not IS_ROOT, reason="delivery to system users needs root")


def send(instance, rcpts, sender="s@sender.example", subject="t", body="hello\r\n",
         extra_headers=""):
    msg = (f"From: <{sender}>\r\nTo: <{rcpts[0]}>\r\nSubject: {subject}\r\n{extra_headers}"
           f"Message-ID: <{uuid.uuid4().hex}@test>\r\n\r\n{body}")
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=10) as c:
        c.sendmail(sender, rcpts, msg)


def maildir_files(directory):
    new = os.path.join(directory, "new")
    if not os.path.isdir(new):
        return []
    return sorted(os.path.join(new, f) for f in os.listdir(new))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def queue_empty(instance):
    return not any(f for d in ("incoming", "active", "deferred")
                   for f in os.listdir(os.path.join(instance.spool, d)))


def add_aliases(instance, aliases):
    """Aliases for the instance as a texthash: table (`name value` lines; read when the
    daemons start, no database to build), searched before the instance's own."""
    path = os.path.join(instance.dir, "test-aliases")
    with open(path, "w") as f:
        for name, value in aliases.items():
            f.write(f"{name} {value}\n")
    instance.conf(f"alias_maps = texthash:{path}, hash:{instance.dir}/aliases\n")


def test_maildir_delivery_with_headers(instance, users):
    u = users()
    instance.start()
    send(instance, [f"{u.pw_name}@{HOST}"], subject="to maildir")
    box = os.path.join(instance.dir, "mail", u.pw_name)
    wait_for(lambda: maildir_files(box), what="a file in the Maildir")
    (path,) = maildir_files(box)
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (u.pw_uid, u.pw_gid)
    assert st.st_mode & 0o077 == 0
    text = read(path)
    assert text.startswith(b"Return-Path: <s@sender.example>\n"
                           b"Delivered-To: " + f"{u.pw_name}@{HOST}".encode() + b"\n"
                           b"X-Original-To: " + f"{u.pw_name}@{HOST}".encode() + b"\n")
    assert b"Subject: to maildir\n" in text and b"\r\n" not in text
    wait_for(lambda: instance.log_lines(rf"to=<{u.pw_name}@{HOST}>, relay=local, .*dsn=2\.0\.0, "
                                        r"status=sent \(delivered to maildir\)$"),
             what="the log line")
    wait_for(lambda: queue_empty(instance), what="an empty queue")


def test_mbox_delivery_with_from_line_and_quoting(instance, users, tmp_path):
    spool = tmp_path / "varmail"
    spool.mkdir()
    os.chmod(spool, 0o1777)
    instance.conf(f"mail_spool_directory = {spool}\n")
    u = users()
    instance.start()
    send(instance, [f"{u.pw_name}@{HOST}"], body="first\r\nFrom here on\r\n>From there\r\n")
    box = spool / u.pw_name
    wait_for(lambda: box.exists() and box.read_bytes().endswith(b"\n\n"), what="the mbox")
    text = box.read_bytes()
    assert re.match(rb"From s@sender\.example [A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d "
                    rb"\d\d:\d\d:\d\d \d{4}\n", text), text[:80]
    assert b"\nReturn-Path: <s@sender.example>\n" in text
    assert b"\n>From here on\n>>From there\n" in text
    assert os.stat(box).st_uid == u.pw_uid


def test_alias_forward_and_command_as_the_right_users(instance, users, tmp_path):
    """An alias to a user and to a command (run as default_privs); the user's .forward keeps a
    copy and runs a command as the user; no address reaches a shell."""
    u = users()
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, 0o1777)
    add_aliases(instance, {"team": f"{u.pw_name}, \"|/usr/bin/id -u > {out}/alias-cmd\""})
    fwd = os.path.join(u.pw_dir, ".forward")
    with open(fwd, "w") as f:
        f.write(f"\\{u.pw_name}, \"|/usr/bin/id -u > {out}/forward-cmd\"\n")
    os.chown(fwd, u.pw_uid, u.pw_gid)
    os.chmod(fwd, 0o644)
    instance.start()
    send(instance, [f"team@{HOST}"])
    # the shell makes each file before id writes to it: wait for the lines themselves
    wait_for(lambda: all((out / f).exists() and (out / f).read_text().endswith("\n")
                         for f in ("forward-cmd", "alias-cmd")),
             timeout=30, what="both commands ran")
    assert (out / "alias-cmd").read_text().strip() == str(pwd.getpwnam("nobody").pw_uid)
    assert (out / "forward-cmd").read_text().strip() == str(u.pw_uid)
    box = os.path.join(instance.dir, "mail", u.pw_name)
    wait_for(lambda: maildir_files(box), what="the user's copy")
    text = read(maildir_files(box)[0])
    assert f"X-Original-To: team@{HOST}\n".encode() in text
    assert instance.log_lines(rf"to=<team@{HOST}>, relay=local, .*status=sent \(.*forwarded as "
                              r"\w+\)$")


def dsn_parts(content):
    """Parses a notice: (message, [per-recipient fields dict]) with Python's email package."""
    msg = email.message_from_bytes(content, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = list(msg.iter_parts())
    status = parts[1]
    assert status.get_content_type() == "message/delivery-status"
    blocks = status.get_payload()
    return msg, parts, [dict(b.items()) for b in blocks[1:]]


def notices_in(box):
    return [read(p) for p in maildir_files(box)]


def test_permanent_failure_and_expiry_give_rfc3464_notices(instance, users):
    """One message, three recipients: one delivered, one unknown (bounced at once) and one
    whose mailbox keeps failing (expires): the sender, a local user, gets notices that Python's
    email package parses, with the right Action and Status per recipient."""
    sender = users("ts")
    ok = users()
    stuck = users()
    # stuck's Maildir cannot be made: its path is a file
    with open(os.path.join(instance.dir, "mail", stuck.pw_name), "w") as f:
        f.write("not a directory\n")
    # smtpd accepts every local address, so that the unknown one fails at delivery
    instance.conf("minimal_backoff_time = 1s\nmaximal_backoff_time = 1s\nqueue_run_delay = 1s\n"
                  "maximal_queue_lifetime = 3s\nlocal_recipient_maps =\n")
    instance.start()
    frm = f"{sender.pw_name}@{HOST}"
    send(instance, [f"{ok.pw_name}@{HOST}", f"nosuchuser@{HOST}", f"{stuck.pw_name}@{HOST}"],
         sender=frm, subject="three")
    box = os.path.join(instance.dir, "mail", sender.pw_name)
    wait_for(lambda: len(notices_in(box)) == 2, timeout=60, what="two notices to the sender")
    by_status = {}
    for content in notices_in(box):
        msg, parts, rcpts = dsn_parts(content.replace(b"\n", b"\r\n"))
        assert msg["From"].addresses[0].username == "MAILER-DAEMON"
        assert msg["Auto-Submitted"] == "auto-replied"
        for r in rcpts:
            by_status[r["Final-Recipient"].split(";")[1].strip()] = r
        assert b"Subject: three" in parts[2].as_bytes()
    unknown = by_status[f"nosuchuser@{HOST}"]
    assert unknown["Action"] == "failed" and unknown["Status"] == "5.1.1"
    expired = by_status[f"{stuck.pw_name}@{HOST}"]
    assert expired["Action"] == "failed" and expired["Status"].startswith("4.")
    assert f"{ok.pw_name}@{HOST}" not in by_status
    assert maildir_files(os.path.join(instance.dir, "mail", ok.pw_name))
    assert instance.log_lines(rf"to=<{stuck.pw_name}@{HOST}>, relay=local, .*status=expired, "
                              r"returned to sender")
    wait_for(lambda: queue_empty(instance), what="an empty queue")


def test_temporary_mailbox_failure_is_retried_and_delivered(instance, users):
    u = users()
    blocker = os.path.join(instance.dir, "mail", u.pw_name)
    with open(blocker, "w") as f:
        f.write("in the way\n")
    instance.conf("minimal_backoff_time = 1s\nmaximal_backoff_time = 2s\nqueue_run_delay = 1s\n")
    instance.start()
    send(instance, [f"{u.pw_name}@{HOST}"])
    wait_for(lambda: instance.log_lines(rf"to=<{u.pw_name}@{HOST}>, .*status=deferred"),
             what="a deferral")
    os.unlink(blocker)
    wait_for(lambda: maildir_files(blocker), timeout=30, what="the retry delivered")
    wait_for(lambda: queue_empty(instance), what="an empty queue")
    assert len(maildir_files(blocker)) == 1


def test_null_sender_mail_never_bounces(instance):
    instance.conf("local_recipient_maps =\n")
    instance.start()
    send(instance, [f"nosuchuser@{HOST}"], sender="")
    wait_for(lambda: instance.log_lines(r"postmaster non-delivery notification: \w+$"),
             what="the postmaster notice")
    wait_for(lambda: queue_empty(instance), timeout=30, what="an empty queue")
    assert not instance.log_lines(r"sender non-delivery notification")


def test_virtual_mailbox_receives_mail(instance, users, tmp_path):
    u = users()
    base = tmp_path / "vmail"
    base.mkdir()
    os.chown(base, u.pw_uid, u.pw_gid)
    maps = tmp_path / "vmailbox"
    maps.write_text("alice@virt.example virt.example/alice/\n")
    instance.conf(f"virtual_mailbox_domains = virt.example\nvirtual_mailbox_base = {base}\n"
                  f"virtual_mailbox_maps = texthash:{maps}\n"
                  f"virtual_uid_maps = static:{u.pw_uid}\nvirtual_gid_maps = static:{u.pw_gid}\n")
    instance.start()
    send(instance, ["alice@virt.example"])
    box = str(base / "virt.example" / "alice")
    wait_for(lambda: maildir_files(box), what="the virtual mailbox")
    st = os.stat(maildir_files(box)[0])
    assert st.st_uid == u.pw_uid
    assert b"Delivered-To: alice@virt.example\n" in read(maildir_files(box)[0])


def daemon_pids(instance, program):
    return [pid for pid in instance.children()
            if os.path.basename(cmdline(pid).split(" ")[0]) == program and alive(pid)]


def test_sigkill_of_qmgr_and_local_loses_nothing(instance, users):
    """Hundreds of messages in flight; qmgr and every local process are killed; after the
    master restarts them every message is in the mailbox once, or at most twice, never lost."""
    u = users()
    count = 300
    instance.start()
    tokens = [f"token-{i}-{uuid.uuid4().hex[:6]}" for i in range(count)]
    sent = []

    def submit():
        with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=30) as c:
            for t in tokens:
                c.sendmail("s@sender.example", [f"{u.pw_name}@{HOST}"],
                           f"Subject: {t}\r\nMessage-ID: <{t}@test>\r\n\r\n{t}\r\n")
                sent.append(t)

    sender = threading.Thread(target=submit, daemon=True)
    sender.start()
    box = os.path.join(instance.dir, "mail", u.pw_name)
    wait_for(lambda: len(maildir_files(box)) >= 20, timeout=60, what="deliveries under way")
    # deliveries keep up with one client: stop the agents so that messages wait in active/
    for pid in daemon_pids(instance, "local"):
        os.kill(pid, signal.SIGSTOP)
    active = os.path.join(instance.spool, "active")
    wait_for(lambda: os.listdir(active), timeout=60, what="messages in active/")
    killed = daemon_pids(instance, "qmgr") + daemon_pids(instance, "local")
    assert daemon_pids(instance, "qmgr"), "no qmgr to kill"
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    assert len(maildir_files(box)) < count, "everything was delivered before the kill"
    sender.join(timeout=120)
    assert len(sent) == count, "smtpd stopped accepting"
    wait_for(lambda: queue_empty(instance) and len(maildir_files(box)) >= count, timeout=180,
             what="every message delivered after the restart")
    seen = {}
    for path in maildir_files(box):
        m = re.search(rb"Subject: (token-\d+-\w+)", read(path))
        assert m, path
        seen[m.group(1).decode()] = seen.get(m.group(1).decode(), 0) + 1
    assert set(seen) == set(tokens)                    # never zero times
    assert max(seen.values()) <= 2                      # at most twice
    assert instance.log_lines(r"messages that were being delivered when the queue manager "
                              r"stopped go back to incoming/")

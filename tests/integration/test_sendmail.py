"""sendmail(1), terndrop and pickup (issue 6): the command lines real programs use deliver,
-t takes recipients from the header and removes Bcc:, -bs speaks SMTP on stdin/stdout, an
ordinary user submits through the set-gid terndrop, mail waits in maildrop/ while tern is down,
and what pickup adds (Received: with the uid, From:, Date:, Message-ID:). Runs as root (CI
does): it creates system users and makes a set-gid copy of terndrop."""
import email
import email.policy
import grp
import os
import re
import shutil
import subprocess
import uuid

import pytest

from conftest import (BUILDDIR, IS_ROOT, complete_queue_file, free_port, pflogsumm_totals,
                      read_queue_file, wait_for)

HOST = "mx.test.example"
pytestmark = pytest.mark.skipif(not IS_ROOT, reason="system users and a set-gid terndrop need root")


@pytest.fixture
def people(users):
    """people() makes a system user whose account name (GECOS) is Sam Sender."""
    return lambda: users("sm", "Sam Sender,,,")


@pytest.fixture
def mta(instance, tmp_path):
    """The instance with its programs copied where any user can run them, terndrop and
    ternqueue set-gid terndrop as `tern setup` installs them, and sendmail/mailq/newaliases
    names."""
    progs = tmp_path / "progs"
    (progs / "bin").mkdir(parents=True)
    shutil.copytree(os.path.join(BUILDDIR, "libexec"), progs / "libexec")
    for name in ("sendmail", "ternqueue"):
        shutil.copy2(os.path.join(BUILDDIR, "bin", name), progs / "bin" / name)
    for name in ("mailq", "newaliases"):
        os.symlink("sendmail", progs / "bin" / name)
    for d in (progs, progs / "bin", progs / "libexec"):
        os.chmod(d, 0o755)
    for setgid in (progs / "libexec" / "terndrop", progs / "bin" / "ternqueue"):
        os.chown(setgid, 0, grp.getgrnam("terndrop").gr_gid)
        os.chmod(setgid, 0o2755)
    instance.conf(f"daemon_directory = {progs}/libexec\n")
    instance.progs = progs
    return instance


def sendmail(inst, args, data, user=None, name="sendmail", timeout=30):
    kw = {}
    if user is not None:
        env = {"PATH": "/usr/bin:/bin", "HOME": user.pw_dir}
        env.update({k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")})
        kw = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[], env=env)
    return subprocess.run([str(inst.progs / "bin" / name), "-C", inst.dir, *args],
                          input=data, capture_output=True, timeout=timeout, **kw)


def mailbox(inst, user):
    new = os.path.join(inst.dir, "mail", user, "new")
    return sorted(os.path.join(new, f) for f in os.listdir(new)) if os.path.isdir(new) else []


def wait_mail(inst, user, count=1):
    wait_for(lambda: len(mailbox(inst, user)) >= count, what=f"{count} message(s) for {user}")
    files = mailbox(inst, user)
    assert len(files) == count, files
    return [email.message_from_bytes(open(f, "rb").read(), policy=email.policy.default)
            for f in files]


CALLERS = [
    ("cron", ["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "{rcpt}"]),
    ("mutt", ["-oem", "-oi", "{rcpt}"]),
    ("git send-email", ["-i", "-f", "author@example.org", "{rcpt}"]),
    ("php mail()", ["-t", "-i"]),
    ("unattended-upgrades", ["-oi", "-t"]),
]


def test_real_callers_command_lines_deliver(mta, people):
    u = people()
    mta.start()
    rcpt = f"{u.pw_name}@{HOST}"
    for i, (caller, args) in enumerate(CALLERS):
        body = (f"To: {rcpt}\nSubject: from {caller}\n\nline one\n.\nline after a dot\n")
        r = sendmail(mta, [a.format(rcpt=rcpt) for a in args], body.encode())
        assert r.returncode == 0, (caller, r.stderr)
    msgs = wait_mail(mta, u.pw_name, len(CALLERS))
    subjects = sorted(m["Subject"] for m in msgs)
    assert subjects == sorted(f"from {c}" for c, _ in CALLERS)
    for m in msgs:
        body = m.get_body().get_content()
        # -i / -oi / -t -i: a line with a single dot is text, not the end
        if m["Subject"] != "from unattended-upgrades":
            assert "line after a dot" in body, m["Subject"]
        assert m["Date"] and m["Message-ID"] and m["From"]
        assert re.match(r"by mx\.test\.example \(tern, from userid 0\)", m["Received"])
    cron = next(m for m in msgs if m["Subject"] == "from cron")
    assert cron["From"] == "CronDaemon <root@mx.test.example>"
    git = next(m for m in msgs if m["Subject"] == "from git send-email")
    assert git["Return-Path"] == "<author@example.org>"
    assert mta.log_lines(r"tern/pickup\[\d+\]: \w+: uid=0 from=<author@example\.org>")


def test_a_lone_dot_ends_the_message_without_i(mta, people):
    u = people()
    mta.start()
    r = sendmail(mta, [f"{u.pw_name}@{HOST}"],
                 b"Subject: dot\n\nbefore\n.\nafter the end\n")
    assert r.returncode == 0, r.stderr
    (m,) = wait_mail(mta, u.pw_name)
    assert m.get_body().get_content() == "before\n"   # the end marker is not content
    # "-o i" (a separate value) is -oi; a last line without a line end is body text
    r = sendmail(mta, ["-o", "i", f"{u.pw_name}@{HOST}"], b"Subject: two\n\n.\nno newline")
    assert r.returncode == 0, r.stderr
    r = sendmail(mta, [f"{u.pw_name}@{HOST}"], b"just one line, no header")
    assert r.returncode == 0, r.stderr
    msgs = {m["Subject"]: m for m in wait_mail(mta, u.pw_name, 3)}
    assert msgs["two"].get_body().get_content() == ".\nno newline\n"
    plain = msgs[None]
    assert plain.get_body().get_content() == "just one line, no header\n"
    assert plain["Date"] and plain["From"]


def test_t_takes_to_cc_bcc_and_removes_bcc(mta, people):
    to, cc, bcc, extra = people(), people(), people(), people()
    mta.start()
    msg = (f"From: Someone <someone@example.org>\nTo: \"A, B\" <{to.pw_name}@{HOST}>\n"
           f"Cc: {cc.pw_name} (no domain: myorigin is added)\n"
           f"Bcc: {bcc.pw_name}@{HOST},\n secret-list:;\n"
           f"Subject: extract\n\nBcc: this line is body text\n")
    r = sendmail(mta, ["-t", "-i", f"{extra.pw_name}@{HOST}"], msg.encode())
    assert r.returncode == 0, r.stderr
    for u in (to, cc, bcc, extra):   # -t adds the header's recipients to the arguments
        (m,) = wait_mail(mta, u.pw_name)
        raw = open(mailbox(mta, u.pw_name)[0], "rb").read()
        header = raw.split(b"\n\n", 1)[0]
        assert b"\nBcc:" not in header and b"secret-list" not in header
        assert b"Bcc: this line is body text" in raw
        assert m["From"] == "Someone <someone@example.org>"   # kept, not added


def test_bad_header_addresses_are_returned_and_loops_stopped(mta, people):
    sender, good = people(), people()
    mta.start()
    r = sendmail(mta, ["-t", "-f", f"{sender.pw_name}@{HOST}"],
                 f"To: {good.pw_name}@{HOST}, bad@@address\nSubject : obsolete spacing\n"
                 f"Bcc: hidden-{good.pw_name}\n\nx\n".encode())
    assert r.returncode == 0, r.stderr
    wait_mail(mta, good.pw_name)
    raw = open(mailbox(mta, good.pw_name)[0], "rb").read()
    assert b"\nSubject : obsolete spacing\n" in raw and b"hidden" not in raw
    (notice,) = wait_mail(mta, sender.pw_name)
    text = notice.as_string()
    assert notice.get_content_type() == "multipart/report"
    assert "bad@@address" in text and "5.1.3" in text
    # a message with more Received: lines than hopcount_limit comes back, undelivered
    hops = "".join(f"Received: from h{i} by h{i + 1}; Sun, 22 Nov 2026 10:00:00 +0000\n"
                   for i in range(51))
    r = sendmail(mta, ["-f", f"{sender.pw_name}@{HOST}", f"{good.pw_name}@{HOST}"],
                 (hops + "Subject: looping\n\nx\n").encode())
    assert r.returncode == 0, r.stderr
    notices = wait_mail(mta, sender.pw_name, 2)
    assert any("5.4.6" in n.as_string() for n in notices)
    assert len(mailbox(mta, good.pw_name)) == 1


def test_bs_speaks_smtp_on_stdin(mta, people):
    u = people()
    mta.start()
    dialogue = (f"EHLO client.example\r\nMAIL FROM:<bs@example.org>\r\n"
                f"RCPT TO:<{u.pw_name}@{HOST}>\r\nRCPT TO:<bad address>\r\nDATA\r\n"
                f"Subject: via -bs\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n")
    r = sendmail(mta, ["-bs"], dialogue.encode())
    assert r.returncode == 0, r.stderr
    replies = r.stdout.decode().split("\r\n")
    assert replies[0].startswith("220 ")
    codes = [line[:3] for line in replies if re.match(r"\d{3} ", line)]
    assert codes == ["220", "250", "250", "250", "501", "354", "250", "221"], replies
    assert "250-DSN" in replies or "250 DSN" in replies
    (m,) = wait_mail(mta, u.pw_name)
    assert m["Return-Path"] == "<bs@example.org>"
    assert m.get_body().get_content().startswith(".leading dot")


def test_bs_applies_the_rules_of_smtpd(mta, people):
    """sendmail -bs answers as smtpd does: an 8-bit address needs SMTPUTF8 (553 5.6.7), spaces
    may follow "FROM:", a HELO name with a TAB and a line with a control byte are refused."""
    u = people()
    mta.start()
    rcpt = f"{u.pw_name}@{HOST}"
    dialogue = ("HELO a\tb\r\nEHLO client.example\r\nNO\x01OP\r\n"
                "MAIL FROM:<j\u00f6rg@example.org>\r\n"
                "MAIL FROM: <bs@example.org>\r\n"
                f"RCPT TO:<\u00e9@{HOST}>\r\nRCPT TO:<{rcpt}>\r\nRSET\r\n"
                "MAIL FROM:<j\u00f6rg@example.org> SMTPUTF8\r\n"
                f"RCPT TO:<{rcpt}>\r\nDATA\r\nSubject: utf8\r\n\r\nx\r\n.\r\nQUIT\r\n")
    r = sendmail(mta, ["-bs"], dialogue.encode())
    assert r.returncode == 0, r.stderr
    replies = [line for line in r.stdout.decode().split("\r\n") if re.match(r"\d{3} ", line)]
    assert [line[:3] for line in replies] == \
        ["220", "501", "250", "500", "553", "250", "553", "250", "250", "250", "250", "354",
         "250", "221"], replies
    assert replies[1] == "501 5.5.4 Syntax: HELO hostname"
    assert replies[3] == "500 5.5.2 Error: bad character in command"
    assert replies[4].startswith("553 5.6.7 Must declare SMTPUTF8")
    (m,) = wait_mail(mta, u.pw_name)
    assert m["Return-Path"] == "<j\u00f6rg@example.org>"


def test_ordinary_user_submits_through_terndrop(mta, people):
    sender, rcpt = people(), people()
    mta.conf(f"relayhost = [127.0.0.1]:{free_port()}\n")   # nobody answers: mail stays
    mta.start()
    r = sendmail(mta, ["-i", f"{rcpt.pw_name}@{HOST}"], b"Subject: from a user\n\nhi\n",
                 user=sender)
    assert r.returncode == 0, r.stderr
    (m,) = wait_mail(mta, rcpt.pw_name)
    assert m["Return-Path"] == f"<{sender.pw_name}@{HOST}>"
    assert m["From"] == f"Sam Sender <{sender.pw_name}@{HOST}>"   # the GECOS name
    assert f"(tern, from userid {sender.pw_uid})" in m["Received"]
    # a configuration the user controls is refused by the set-gid terndrop
    own = mta.progs.parent / "own-config"
    own.mkdir()
    shutil.copy(os.path.join(mta.dir, "tern.conf"), own / "tern.conf")
    with open(own / "tern.conf", "a") as f:
        f.write("message_size_limit = 0\n")
    os.chown(own, sender.pw_uid, sender.pw_gid)
    os.chown(own / "tern.conf", sender.pw_uid, sender.pw_gid)
    r = subprocess.run([str(mta.progs / "bin" / "sendmail"), "-C", str(own),
                        f"{rcpt.pw_name}@{HOST}"], input=b"Subject: own config\n\nx\n",
                       user=sender.pw_uid, group=sender.pw_gid, extra_groups=[],
                       capture_output=True, timeout=30)
    assert r.returncode == 77 and b"root does not control" in r.stderr, r
    assert mta.log_lines(rf"pickup\[\d+\]: \w+: uid={sender.pw_uid} from=<{sender.pw_name}@")
    # the user cannot write into maildrop/ or read the queue without terndrop
    probe = subprocess.run(["/bin/sh", "-c", f"echo x > {mta.spool}/maildrop/forged"],
                           user=sender.pw_uid, group=sender.pw_gid, extra_groups=[],
                           capture_output=True, timeout=30)
    assert probe.returncode != 0
    assert not os.path.exists(os.path.join(mta.spool, "maildrop", "forged"))
    # ... lists the queue through the set-gid ternqueue, but cannot change it
    listing = sendmail(mta, [], b"", user=sender, name="mailq")
    assert listing.returncode == 0 and b"Mail queue is empty" in listing.stdout, listing
    r = sendmail(mta, ["-i", "nobody-here@elsewhere.example"], b"Subject: stays\n\nx\n",
                 user=sender)
    assert r.returncode == 0
    mta_queue = lambda: [f for d in ("incoming", "active", "deferred")
                         for f in os.listdir(os.path.join(mta.spool, d))]
    wait_for(mta_queue, what="a queued message")
    wait_for(lambda: f"{sender.pw_name}@" in sendmail(mta, [], b"", user=sender,
                                                      name="mailq").stdout.decode(),
             what="the user's message in mailq")
    delete = subprocess.run([str(mta.progs / "bin" / "ternqueue"), "-c", mta.dir, "-d", "ALL"],
                            user=sender.pw_uid, group=sender.pw_gid, extra_groups=[],
                            capture_output=True, timeout=30)
    assert delete.returncode == 77, delete
    assert mta_queue()


def test_mail_waits_in_maildrop_while_tern_is_down(mta, people):
    u = people()
    r = sendmail(mta, [f"{u.pw_name}@{HOST}"], b"Subject: queued while down\n\nx\n")
    assert r.returncode == 0, r.stderr
    dropped = os.listdir(os.path.join(mta.spool, "maildrop"))
    assert len(dropped) == 1 and not dropped[0].startswith("t")
    st = os.stat(os.path.join(mta.spool, "maildrop", dropped[0]))
    assert st.st_nlink == 1
    mta.start()
    (m,) = wait_mail(mta, u.pw_name)
    assert m["Subject"] == "queued while down"
    wait_for(lambda: not os.listdir(os.path.join(mta.spool, "maildrop")),
             what="an empty maildrop/")


def test_errors_and_exit_codes(mta, people):
    u = people()
    mta.conf("message_size_limit = 2000\n")
    rcpt = f"{u.pw_name}@{HOST}"
    assert sendmail(mta, [], b"x\n").returncode == 64             # no recipient
    assert sendmail(mta, ["-Z", rcpt], b"x\n").returncode == 64   # unknown option
    assert sendmail(mta, ["-N", "sometimes", rcpt], b"x\n").returncode == 64
    assert sendmail(mta, ["-f", "bad address@", rcpt], b"x\n").returncode == 64
    big = sendmail(mta, [rcpt], b"Subject: big\n\n" + b"y" * 5000 + b"\n")
    assert big.returncode == 65 and b"too big" in big.stderr
    assert os.listdir(os.path.join(mta.spool, "maildrop")) == []   # nothing left behind
    # old and unknown -o/-O options and a -q interval are ignored
    ok = sendmail(mta, ["-odi", "-oem", "-Ooption=value", "-q30m", "-L", "label", rcpt],
                  b"Subject: ok\n\nfine\n")
    assert ok.returncode == 0, ok.stderr
    assert sendmail(mta, ["-bd", "-q1h"], b"").returncode == 64    # no daemon mode
    assert sendmail(mta, ["-q1h"], b"").returncode == 0             # an interval alone
    bad_rcpt = sendmail(mta, ["user@@x"], b"x\n")
    assert bad_rcpt.returncode == 65 and b"bad recipient address syntax" in bad_rcpt.stderr
    # terndrop refuses what is not a maildrop file, and writes nothing
    bad = subprocess.run([str(mta.progs / "libexec" / "terndrop"), "-c", mta.dir],
                         input=b"garbage that is no record stream", capture_output=True,
                         timeout=30)
    assert bad.returncode == 65 and bad.stderr.startswith(b"terndrop: ")
    assert len(os.listdir(os.path.join(mta.spool, "maildrop"))) == 1
    mta.start()
    (m,) = wait_mail(mta, u.pw_name)
    assert m["Subject"] == "ok"


def test_dsn_options_reach_the_queue_file(mta, people):
    u = people()
    mta.drop_services(["qmgr"])
    mta.start()
    r = sendmail(mta, ["-N", "success,delay", "-R", "hdrs", "-V", "env-42", "-B", "8BITMIME",
                       f"{u.pw_name}@{HOST}"], b"Subject: dsn\n\nx\n")
    assert r.returncode == 0, r.stderr
    incoming = os.path.join(mta.spool, "incoming")
    def complete():
        return [f for f in os.listdir(incoming) if complete_queue_file(os.path.join(incoming, f))]
    wait_for(complete, what="the queue file")
    (name,) = complete()
    q = read_queue_file(os.path.join(incoming, name))
    assert q["attrs"]["envid"] == "env-42" and q["attrs"]["ret"] == "HDRS"
    assert q["attrs"]["body"] == "8BITMIME"
    assert q["recipients"] == [{"address": f"{u.pw_name}@{HOST}", "notify": 10,
                               "orcpt": None}]   # SUCCESS|DELAY = 2|8


def test_no_recipient_in_the_header_goes_back_to_the_sender(mta, people):
    u = people()
    mta.start()
    r = sendmail(mta, ["-t", "-f", f"{u.pw_name}@{HOST}"],
                 b"To: undisclosed-recipients:;\nSubject: nobody\n\nx\n")
    assert r.returncode == 0, r.stderr
    (m,) = wait_mail(mta, u.pw_name)
    assert m.get_content_type() == "multipart/report"
    assert "No recipient addresses found in message header" in m.as_string()


def test_mailq_and_newaliases_by_name(mta, people):
    u = people()
    with open(os.path.join(mta.dir, "aliases"), "a") as f:
        f.write(f"sm-alias-{u.pw_name}: {u.pw_name}\n")
    r = sendmail(mta, [], b"", name="newaliases")
    assert r.returncode == 0, r.stderr
    mta.start()
    r = sendmail(mta, [f"sm-alias-{u.pw_name}@{HOST}"], b"Subject: via alias\n\nx\n")
    assert r.returncode == 0
    (m,) = wait_mail(mta, u.pw_name)
    assert m["Subject"] == "via alias"
    wait_for(lambda: b"Mail queue is empty" in sendmail(mta, [], b"", name="mailq").stdout,
             what="an empty queue in mailq")
    assert sendmail(mta, ["-bp"], b"").returncode == 0
    assert sendmail(mta, ["-q"], b"").returncode == 0


@pytest.mark.skipif(not shutil.which("pflogsumm"), reason="pflogsumm is not installed")
def test_pflogsumm_counts_the_log(mta, people):
    """pflogsumm --syslog-name=tern reads tern's log as a Postfix log: two messages received by
    SMTP and one by sendmail; three deliveries (one is the bounce notice), one bounce, one
    deferral (a relay nobody answers)."""
    import smtplib
    sender, rcpt = people(), people()
    mta.conf(f"relayhost = [127.0.0.1]:{free_port()}\n")
    mta.start()
    with smtplib.SMTP("127.0.0.1", mta.smtp_port, timeout=10) as c:
        c.sendmail("a@example.org", [f"{rcpt.pw_name}@{HOST}"], "Subject: one\r\n\r\nx\r\n")
        c.sendmail("b@example.org", ["far@elsewhere.example"], "Subject: two\r\n\r\nx\r\n")
    r = sendmail(mta, ["-f", f"{sender.pw_name}@{HOST}", f"{rcpt.pw_name}@{HOST}",
                       f"nosuchuser-{uuid.uuid4().hex[:6]}@{HOST}"], b"Subject: three\n\nx\n")
    assert r.returncode == 0, r.stderr
    wait_mail(mta, rcpt.pw_name, 2)
    wait_mail(mta, sender.pw_name, 1)   # the non-delivery notice
    wait_for(lambda: mta.log_lines(r"to=<far@elsewhere\.example>.*status=deferred"),
             what="the deferral")
    assert mta.tern("stop").returncode == 0   # no more retries: the counts stay put
    totals, report = pflogsumm_totals(mta)
    assert totals == {"received": 3, "delivered": 3, "deferred": 1, "bounced": 1,
                      "rejected": 0}, report[:800]

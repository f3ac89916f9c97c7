"""Integration tests of the local delivery agent (libexec/local, local(8)), driven directly over
spool/private/local as qmgr drives it: a queue file is written into spool/active/ of a running
instance, a `deliver` request names it, and the test checks the reply (one result per
recipient) and what landed where, as which uid. The instance runs without qmgr and pickup, so
nothing else touches the queue. The tests create system users (useradd) and so need root.

Homes, spools and output files live in a directory of their own under /tmp (mode 0755): the
test's tmp_path sits below pytest's 0700 directories, which the test users could not enter."""
import grp
import os
import pwd
import random
import re
import shutil
import signal
import string
import subprocess
import tempfile
import time

import pytest

from conftest import BUILDDIR, IS_ROOT, ipc_call, make_queue_id, wait_for, write_queue_file

LOCAL = os.path.join(BUILDDIR, "libexec", "local")
DOMAIN = "mx.test.example"
NOBODY = pwd.getpwnam("nobody")

pytestmark = [
    pytest.mark.skipif(not os.path.exists(LOCAL), reason="libexec/local is not built"),
    pytest.mark.skipif(not IS_ROOT, reason="the local delivery tests create system users "
                       "(useradd) and check deliveries as their uids: they need root"),
]

MSG = (b"From: Sender <sender@example.org>\r\n"
       b"To: someone@mx.test.example\r\n"
       b"Subject: local delivery test\r\n"
       b"\r\n"
       b"Hello.\r\n"
       b"From the start of a line\r\n"
       b">From already quoted\r\n"
       b"Fromage\r\n"
       b"Bye.\r\n")


class Users:
    """System users made for one test (tlu<random>), removed again by the fixture."""

    def __init__(self, area):
        self.area = area
        self.names = []

    def add(self):
        name = "tlu" + "".join(random.choice(string.ascii_lowercase + string.digits)
                               for _ in range(8))
        home = os.path.join(self.area, "home", name)
        os.makedirs(home)
        r = subprocess.run(["useradd", "-M", "-d", home, "-s", "/bin/sh", "-U", name],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        self.names.append(name)
        pw = pwd.getpwnam(name)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        os.chmod(home, 0o755)
        return pw

    def cleanup(self):
        # the agent's processes that ran as a user end with the instance (stopped first, see
        # the local fixture); userdel refuses a user with a process, so give them a moment
        end = time.monotonic() + 15
        for name in self.names:
            while (subprocess.run(["userdel", name], capture_output=True,
                                  timeout=60).returncode == 8 and time.monotonic() < end):
                time.sleep(0.2)
        left = [n for n in self.names if _user_exists(n)]
        assert not left, f"test users not removed: {left}"


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture
def area():
    d = tempfile.mkdtemp(prefix="tern-local-", dir="/tmp")
    os.chmod(d, 0o755)
    out = os.path.join(d, "out")   # where alias commands (as nobody) may write
    os.mkdir(out)
    os.chmod(out, 0o1777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def users(area):
    u = Users(area)
    yield u
    u.cleanup()


class Local:
    """An instance set up for the local agent: a Maildir spool (DIR/mail/, mode 1777), a text
    alias table, recipient_delimiter = +, and no qmgr or pickup in master.conf."""

    def __init__(self, instance, area):
        self.instance = instance
        self.area = area
        self.spool_dir = os.path.join(area, "mail")
        os.mkdir(self.spool_dir)
        os.chmod(self.spool_dir, 0o1777)
        self.aliases = os.path.join(area, "aliases")
        with open(self.aliases, "w") as f:
            f.write("# test aliases\n")
        master = os.path.join(instance.dir, "master.conf")
        with open(master) as f:
            lines = f.read().splitlines()
        with open(master, "w") as f:
            for line in lines:
                if re.match(r"^(qmgr|pickup)\s", line):
                    line = "#" + line
                f.write(line + "\n")
        instance.conf(f"mail_spool_directory = {self.spool_dir}/\n"
                      f"alias_maps = texthash:{self.aliases}\n"
                      "recipient_delimiter = +\n")

    def alias(self, text):
        """Adds "name: value" to the alias table (a texthash: table: "name value" lines)."""
        name, value = text.split(":", 1)
        with open(self.aliases, "a") as f:
            f.write(f"{name} {value.strip()}\n")

    def start(self, conf=""):
        if conf:
            self.instance.conf(conf)
        self.instance.start()

    def deliver(self, recipients, content=MSG, sender="sender@example.org", orig=""):
        """Writes a queue file to active/ and asks the agent to deliver it to recipients;
        returns the reply as a list of result dicts (status, dsn, text, diag, forward...)."""
        qid = make_queue_id()
        path = os.path.join(self.instance.spool, "active", qid)
        write_queue_file(path, sender, list(recipients), content)
        attrs = [("type", "deliver"), ("queue_id", qid), ("nexthop", DOMAIN)]
        for r in recipients:
            attrs += [("rcpt", r), ("rcpt_orig", orig), ("rcpt_notify", "0")]
        reply = ipc_call(os.path.join(self.instance.spool, "private", "local"), attrs,
                         timeout=120)
        return parse_reply(reply, len(recipients))

    def maildir_files(self, name):
        new = os.path.join(self.spool_dir, name, "new")
        if not os.path.isdir(new):
            return []
        return sorted(os.path.join(new, f) for f in os.listdir(new))


def parse_reply(reply, n):
    assert reply[0] == ("status", "ok"), reply
    results = []
    for name, value in reply[1:]:
        if name == "rcpt_status":
            results.append({"status": value, "forward": []})
        elif name == "rcpt_forward":
            results[-1]["forward"].append(value)
        else:
            results[-1][name[len("rcpt_"):]] = value
    assert len(results) == n, reply
    for r in results:
        assert r["relay"] == "local", r
    return results


@pytest.fixture
def local(users, instance, area):
    lo = Local(instance, area)
    yield lo
    crashed = instance.log_lines(r"warning: process \S+/local pid \d+ (exit status|killed)")
    assert not crashed, crashed
    fatal = instance.log_lines(r"tern/local\[\d+\]: (fatal|panic):")
    assert not fatal, fatal


def read(path):
    with open(path, "rb") as f:
        return f.read()


def headers_of(data):
    return data.split(b"\n\n", 1)[0].split(b"\n")


def expected_body():
    return MSG.replace(b"\r\n", b"\n")


# ---- mailboxes ----

def test_maildir_delivery(local, users):
    u = users.add()
    local.start()
    addr = f"{u.pw_name}@{DOMAIN}"
    [r] = local.deliver([addr], orig=f"Original@{DOMAIN}")
    assert (r["status"], r["dsn"], r["text"], r["action"]) == \
        ("sent", "2.0.0", "delivered to maildir", "delivered")
    upper = f"{u.pw_name.upper()}@{DOMAIN}"
    [r] = local.deliver([upper])
    assert r["status"] == "sent", r
    files = local.maildir_files(u.pw_name)
    assert len(files) == 2
    for f in files:
        st = os.stat(f)
        assert (st.st_uid, st.st_mode & 0o777) == (u.pw_uid, 0o600)
    top = os.stat(os.path.join(local.spool_dir, u.pw_name))
    assert top.st_uid == u.pw_uid
    first, second = sorted((read(f) for f in files), key=lambda d: b"Original@" not in d)
    assert first == (b"Return-Path: <sender@example.org>\n"
                     + f"Delivered-To: {addr}\n".encode()
                     + b"X-Original-To: Original@mx.test.example\n" + expected_body())
    # without an original recipient, X-Original-To is the recipient as given; Delivered-To
    # is folded to lower case
    assert headers_of(second)[1] == f"Delivered-To: {addr}".encode()
    assert headers_of(second)[2] == f"X-Original-To: {upper}".encode()


def test_small_and_large_messages_are_delivered_whole(local, users):
    """A small message travels to the user's delivery process inside its job, one over 32 KiB
    as a memory file: both are delivered byte for byte (line ends made LF)."""
    u = users.add()
    local.start()
    addr = f"{u.pw_name}@{DOMAIN}"
    big = MSG + b"".join(b"line %05d " % i + b"x" * 60 + b"\r\n" for i in range(2000))
    for content in (MSG, big):
        [r] = local.deliver([addr], content=content)
        assert r["status"] == "sent", r
    texts = sorted((read(f) for f in local.maildir_files(u.pw_name)), key=len)
    head = (b"Return-Path: <sender@example.org>\n"
            + f"Delivered-To: {addr}\nX-Original-To: {addr}\n".encode())
    assert texts == [head + MSG.replace(b"\r\n", b"\n"), head + big.replace(b"\r\n", b"\n")]


def processes_of(uid):
    """PIDs of the live processes running as uid (not zombies: an earlier test's processes,
    killed with their instance, may wait for init to reap them, and uids are reused)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid and not dead(int(entry)):
                    pids.append(int(entry))
            except FileNotFoundError:
                pass
    return pids


def dead(pid):
    """The process is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_delivery_process_of_a_user_is_kept_replaced_and_retired(local, users):
    """Mailbox writes run in a process kept per user: it never holds root, a killed one is
    replaced without a deferral, and it goes a few seconds after the last delivery."""
    u, v = users.add(), users.add()
    local.start()
    for _ in range(3):
        [r] = local.deliver([f"{u.pw_name}@{DOMAIN}"])
        assert r["status"] == "sent", r
    # each local process that served a request keeps one for the user (the master may have
    # started several)
    kept = processes_of(u.pw_uid)
    assert 1 <= len(kept) <= 3, kept
    for pid in kept:
        with open(f"/proc/{pid}/status") as f:
            ids = {line.split(":")[0]: line.split()[1:] for line in f
                   if line[:3] in ("Uid", "Gid")}
        assert ids["Uid"] == [str(u.pw_uid)] * 4 and ids["Gid"] == [str(u.pw_gid)] * 4, ids
    [r] = local.deliver([f"{v.pw_name}@{DOMAIN}"])
    assert r["status"] == "sent", r
    for pid in kept:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: all(dead(pid) for pid in kept), 10, what="the killed processes to die")
    for _ in range(3):
        [r] = local.deliver([f"{u.pw_name}@{DOMAIN}"])
        assert r["status"] == "sent", r
    assert len(local.maildir_files(u.pw_name)) == 6
    assert len(local.maildir_files(v.pw_name)) == 1
    wait_for(lambda: not processes_of(u.pw_uid) and not processes_of(v.pw_uid), 15,
             what="the idle delivery processes to end")


def test_mbox_delivery(local, users, area):
    u = users.add()
    spool = os.path.join(area, "mbox")
    os.mkdir(spool)
    os.chmod(spool, 0o1777)
    local.start(f"mail_spool_directory = {spool}\n")
    addr = f"{u.pw_name}@{DOMAIN}"
    for _ in range(2):
        [r] = local.deliver([addr])
        assert (r["status"], r["dsn"], r["text"]) == ("sent", "2.0.0", "delivered to mailbox")
    box = os.path.join(spool, u.pw_name)
    st = os.stat(box)
    assert (st.st_uid, st.st_mode & 0o777) == (u.pw_uid, 0o600)
    assert not os.path.exists(box + ".lock")
    text = read(box)
    from_lines = re.findall(rb"^From sender@example\.org [A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d "
                            rb"\d\d:\d\d:\d\d \d{4}$", text, re.M)
    assert len(from_lines) == 2, text
    msg = (b"Return-Path: <sender@example.org>\n"
           + f"Delivered-To: {addr}\nX-Original-To: {addr}\n".encode()
           + expected_body().replace(b"\nFrom the start", b"\n>From the start")
           .replace(b"\n>From already", b"\n>>From already") + b"\n")
    assert text == from_lines[0] + b"\n" + msg + from_lines[1] + b"\n" + msg


def test_mbox_in_a_group_writable_spool(local, users, area):
    """A spool like Debian's /var/mail (root:mail, 2775): the user may not write it, its group
    may, and the delivery takes that group to make the lock file and the mailbox."""
    try:
        mail_gid = grp.getgrnam("mail").gr_gid
    except KeyError:
        pytest.skip("no group mail on this system")
    u = users.add()
    spool = os.path.join(area, "var-mail")
    os.mkdir(spool)
    os.chown(spool, 0, mail_gid)
    os.chmod(spool, 0o2775)
    local.start(f"mail_spool_directory = {spool}\n")
    [r] = local.deliver([f"{u.pw_name}@{DOMAIN}"])
    assert (r["status"], r["text"]) == ("sent", "delivered to mailbox"), r
    st = os.stat(os.path.join(spool, u.pw_name))
    assert (st.st_uid, st.st_gid) == (u.pw_uid, mail_gid)
    assert os.listdir(spool) == [u.pw_name]


def test_root_is_delivered_with_default_privs(local):
    """Deliveries never run as root: root's mailbox is written as default_privs (nobody)."""
    local.start()
    [r] = local.deliver([f"root@{DOMAIN}"])
    assert r["status"] == "sent", r
    [f] = local.maildir_files("root")
    assert os.stat(f).st_uid == NOBODY.pw_uid


def test_home_maildir_that_is_a_file_defers(local, users):
    u = users.add()
    with open(os.path.join(u.pw_dir, "Maildir"), "w") as f:
        f.write("not a directory\n")
    local.start("home_mailbox = Maildir/\n")
    [r] = local.deliver([f"{u.pw_name}@{DOMAIN}"])
    assert r["status"] == "defer" and r["dsn"].startswith("4."), r
    assert "Maildir" in r["text"], r
    assert read(os.path.join(u.pw_dir, "Maildir")) == b"not a directory\n"


def test_home_maildir(local, users):
    u = users.add()
    local.start("home_mailbox = Maildir/\n")
    [r] = local.deliver([f"{u.pw_name}@{DOMAIN}"])
    assert r["status"] == "sent", r
    new = os.path.join(u.pw_dir, "Maildir", "new")
    [f] = os.listdir(new)
    assert os.stat(os.path.join(new, f)).st_uid == u.pw_uid


# ---- recipients that do not get a mailbox ----

def test_unknown_user_and_queue_file_problems(local):
    local.start()
    [r] = local.deliver([f"nosuchuser0815@{DOMAIN}"])
    assert (r["status"], r["dsn"], r["text"]) == \
        ("bounce", "5.1.1", 'unknown user: "nosuchuser0815"')
    # a request for a queue file that is not there defers every recipient
    reply = ipc_call(os.path.join(local.instance.spool, "private", "local"),
                     [("type", "deliver"), ("queue_id", make_queue_id()), ("nexthop", DOMAIN),
                      ("rcpt", "a@" + DOMAIN), ("rcpt_orig", ""), ("rcpt_notify", "0"),
                      ("rcpt", "b@" + DOMAIN), ("rcpt_orig", ""), ("rcpt_notify", "0")])
    results = parse_reply(reply, 2)
    for r in results:
        assert (r["status"], r["dsn"]) == ("defer", "4.3.0"), r
        assert "cannot read the queue file" in r["text"]
    # a malformed request gets a refusal, not a crash
    reply = ipc_call(os.path.join(local.instance.spool, "private", "local"),
                     [("type", "deliver"), ("queue_id", "../etc/passwd")])
    assert reply[0] == ("status", "fail"), reply


def test_delivered_to_loop_bounces(local, users):
    u = users.add()
    local.start()
    addr = f"{u.pw_name}@{DOMAIN}"
    looped = f"Delivered-To: {addr.upper()}\r\n".encode() + MSG
    [r] = local.deliver([addr], content=looped)
    assert (r["status"], r["dsn"]) == ("bounce", "5.4.6"), r
    assert r["text"] == f"mail forwarding loop for {addr}"
    assert local.maildir_files(u.pw_name) == []
    # the same line in the body is no loop
    [r] = local.deliver([addr], content=MSG + f"Delivered-To: {addr}\r\n".encode())
    assert r["status"] == "sent", r


def test_shell_metacharacters_never_reach_a_shell(local, users, area):
    u = users.add()
    pwn = os.path.join(area, "out", "pwn")
    with open(os.path.join(u.pw_dir, ".forward"), "w") as f:
        f.write("\"|printf '%s|%s' \\\"$EXTENSION\\\" \\\"$RECIPIENT\\\" > $HOME/ext.txt\"\n")
    os.chown(os.path.join(u.pw_dir, ".forward"), u.pw_uid, u.pw_gid)
    local.start()
    hostile = [f"x;touch {pwn}1@{DOMAIN}", f"\"$(touch {pwn}2)\"@{DOMAIN}",
               f"`touch {pwn}3`@{DOMAIN}", f"a|touch {pwn}4@{DOMAIN}"]
    results = local.deliver(hostile)
    for r in results:
        assert (r["status"], r["dsn"]) == ("bounce", "5.1.1"), r
    ext = f"$(touch {pwn}5)`touch {pwn}6`;touch {pwn}7"
    rcpt = f"{u.pw_name}+{ext}@{DOMAIN}"
    [r] = local.deliver([rcpt])
    assert r["status"] == "sent", r
    assert read(os.path.join(u.pw_dir, "ext.txt")).decode() == f"{ext.lower()}|{rcpt}"
    for i in range(1, 8):
        assert not os.path.exists(f"{pwn}{i}"), f"{pwn}{i} was created"


# ---- aliases ----

def test_alias_to_addresses_forwards(local, users):
    u = users.add()
    local.alias(f"tlteam: {u.pw_name}, Other@Example.NET, {u.pw_name}, \\{u.pw_name}")
    local.alias("tllist: a@example.net, b")
    local.alias(f"owner-tllist: {u.pw_name}")
    local.start()
    r1, r2, r3 = local.deliver([f"tlteam@{DOMAIN}", f"tllist+x@{DOMAIN}",
                                f"TLTEAM+Y@{DOMAIN}"])
    # addresses go back to qmgr (deduplicated, qualified); \user is a mailbox delivery
    assert r1["status"] == "sent" and r1["action"] == "expanded", r1
    assert r1["forward"] == [f"{u.pw_name}@{DOMAIN}", "Other@Example.NET"]
    assert r1["text"] == "delivered to maildir"
    assert "forward_sender" not in r1
    # an owner- alias makes the list's forwarded copies come from it; the unmatched
    # extension is carried over
    assert r2["forward"] == ["a+x@example.net", f"b+x@{DOMAIN}"], r2
    assert r2["forward_sender"] == f"owner-tllist@{DOMAIN}"
    assert r2["text"] == "forwarded"
    assert r3["forward"] == [f"{u.pw_name}+y@{DOMAIN}", "Other+y@Example.NET"], r3
    assert r3["text"] == "delivered to maildir"
    assert len(local.maildir_files(u.pw_name)) == 2
    # mail from <> keeps its null sender: a bounce never causes another
    [r] = local.deliver([f"tllist@{DOMAIN}"], sender="")
    assert "forward_sender" not in r, r


def test_aliases_of_tern_init(local):
    """The hash: alias table `tern init` builds (a Berkeley DB file) is read as well."""
    local.start(f"alias_maps = hash:{local.instance.dir}/aliases\n")
    postmaster, daemon = local.deliver([f"Postmaster@{DOMAIN}", f"mailer-daemon@{DOMAIN}"])
    assert (postmaster["status"], postmaster["forward"]) == ("sent", [f"root@{DOMAIN}"])
    assert daemon["forward"] == [f"postmaster@{DOMAIN}"]
    # the table is opened for each request: one that went away defers local mail
    db = os.path.join(local.instance.dir, "aliases.db")
    os.rename(db, db + ".away")
    [r] = local.deliver([f"postmaster@{DOMAIN}"])
    assert (r["status"], r["dsn"]) == ("defer", "4.3.0"), r
    assert "aliases" in r["text"], r
    os.rename(db + ".away", db)
    [r] = local.deliver([f"postmaster@{DOMAIN}"])
    assert r["status"] == "sent", r


def test_alias_command_runs_as_default_privs(local, users, area):
    out = os.path.join(area, "out")
    local.alias(f'tlcmd: "|{{ id -u; env; }} > {out}/cmd.txt; cat > {out}/cmd.msg; exit 0"')
    local.alias("tlnull: /dev/null")
    local.start()
    rcpt = f"tlcmd+ext@{DOMAIN}"
    [r, n] = local.deliver([rcpt, f"tlnull@{DOMAIN}"])
    assert (r["status"], r["dsn"], r["action"]) == ("sent", "2.0.0", "delivered"), r
    assert r["text"].startswith("delivered to command: { id -u; env; }")
    assert (n["status"], n["text"]) == ("sent", "delivered to file: /dev/null"), n
    lines = read(os.path.join(out, "cmd.txt")).decode().splitlines()
    assert int(lines[0]) == NOBODY.pw_uid
    env = dict(line.split("=", 1) for line in lines[1:] if "=" in line)
    want = {"SENDER": "sender@example.org", "RECIPIENT": rcpt, "USER": "nobody",
            "LOGNAME": "nobody", "HOME": NOBODY.pw_dir, "EXTENSION": "ext",
            "LOCAL": "tlcmd+ext", "DOMAIN": DOMAIN, "SHELL": "/bin/sh",
            "PATH": "/usr/bin:/bin"}
    for k, v in want.items():
        assert env.get(k) == v, (k, env)
    # nothing of the agent's own environment (the shell adds only PWD-like variables)
    extra = set(env) - set(want) - {"PWD", "OLDPWD", "SHLVL", "_"}
    assert not extra, extra
    assert env.get("PWD", "/") == "/"
    msg = read(os.path.join(out, "cmd.msg"))
    assert msg == (b"Return-Path: <sender@example.org>\n"
                   + f"Delivered-To: {rcpt}\nX-Original-To: {rcpt}\n".encode()
                   + expected_body())
    assert os.stat(os.path.join(out, "cmd.msg")).st_uid == NOBODY.pw_uid


def test_include_and_error_aliases(local, area):
    lst = os.path.join(area, "list.txt")
    with open(lst, "w") as f:
        f.write("# members\nm1@example.net, m2\n\n  m3@example.org\n")
    os.chmod(lst, 0o644)
    local.alias(f"tlinc: :include:{lst}, extra@example.com")
    local.alias("tlerr: error:5.7.1 this list is closed")
    local.alias("tlwait: error:4.2.1 come back later")
    local.alias("tlbad: \"|unterminated")
    local.alias(f"tlmissing: :include:{area}/no-such-list")
    local.start()
    inc, err, wait, bad, missing = local.deliver(
        [f"tlinc@{DOMAIN}", f"tlerr@{DOMAIN}", f"tlwait@{DOMAIN}", f"tlbad@{DOMAIN}",
         f"tlmissing@{DOMAIN}"])
    assert inc["status"] == "sent", inc
    assert inc["forward"] == ["m1@example.net", f"m2@{DOMAIN}", "m3@example.org",
                              "extra@example.com"]
    assert (err["status"], err["dsn"], err["text"]) == \
        ("bounce", "5.7.1", "this list is closed")
    assert (wait["status"], wait["dsn"], wait["text"]) == \
        ("defer", "4.2.1", "come back later")
    assert (bad["status"], bad["dsn"]) == ("defer", "4.3.5"), bad
    assert "unterminated" in bad["text"]
    assert (missing["status"], missing["dsn"]) == ("defer", "4.3.0"), missing
    assert "no-such-list" in missing["text"]
    assert local.instance.log_lines(r"warning: .*alias tlbad: unterminated")
    # a list file others may write is refused: anyone could add a command to it
    os.chmod(lst, 0o666)
    [r] = local.deliver([f"tlinc@{DOMAIN}"])
    assert r["status"] == "defer" and "writable by group or others" in r["text"], r


def test_command_exit_codes_and_time_limit(local, area):
    local.alias("tlx75: |exit 75")
    local.alias("tlx67: \"|echo no such person; exit 67\"")
    local.alias("tlx1: \"|echo oops >&2; exit 1\"")
    local.alias("tlx0: \"|cat > /dev/null\"")
    local.alias("tlslow: \"|sleep 37; exit 0\"")
    local.alias("tlkill: \"|kill -9 $$\"")
    local.start("command_time_limit = 2s\n")
    r75, r67, r1, r0, rk = local.deliver([f"tlx75@{DOMAIN}", f"tlx67@{DOMAIN}",
                                          f"tlx1@{DOMAIN}", f"tlx0@{DOMAIN}",
                                          f"tlkill@{DOMAIN}"])
    assert (r75["status"], r75["dsn"]) == ("defer", "4.3.0"), r75
    assert (r67["status"], r67["dsn"]) == ("bounce", "5.1.1"), r67
    assert "status 67 (user unknown)" in r67["text"], r67
    assert r67["diag"] == "x-unix; no such person"
    assert (r1["status"], r1["dsn"], r1["diag"]) == ("bounce", "5.3.0", "x-unix; oops"), r1
    assert r0["status"] == "sent", r0
    assert (rk["status"], rk["dsn"]) == ("defer", "4.3.0"), rk
    assert "signal 9" in rk["text"], rk
    [slow] = local.deliver([f"tlslow@{DOMAIN}"])
    assert (slow["status"], slow["dsn"]) == ("defer", "4.3.0"), slow
    assert "command time limit exceeded" in slow["text"], slow

    def sleepers():
        return [p for p in os.listdir("/proc") if p.isdigit()
                and _cmdline(p).startswith("sleep 37")]
    wait_for(lambda: not sleepers(), what="the timed-out command to be killed")


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# ---- .forward ----

def write_forward(user, text, mode=0o644, name=".forward"):
    path = os.path.join(user.pw_dir, name)
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(path, mode)
    return path


def test_forward_command_and_file_run_as_the_user(local, users):
    u = users.add()
    home = u.pw_dir
    write_forward(u, f"# deliver here and keep copies\n\\{u.pw_name}\n"
                     f"\"|id -u > {home}/cmd.uid; pwd >> {home}/cmd.uid; cat > {home}/cmd.msg\"\n"
                     f"{home}/archive, friend@example.net\n")
    local.start()
    addr = f"{u.pw_name}@{DOMAIN}"
    [r] = local.deliver([addr])
    assert r["status"] == "sent", r
    assert r["forward"] == ["friend@example.net"]
    assert r["text"] == (f"delivered to maildir, delivered to command: id -u > {home}/cmd.uid; "
                         f"pwd >> {home}/cmd.uid; cat > {home}/cmd.msg, "
                         f"delivered to file: {home}/archive")
    uid_line, cwd = read(os.path.join(home, "cmd.uid")).decode().split()
    assert (int(uid_line), cwd) == (u.pw_uid, home)
    for name in ("cmd.uid", "cmd.msg", "archive"):
        assert os.stat(os.path.join(home, name)).st_uid == u.pw_uid, name
    assert read(os.path.join(home, "cmd.msg")).startswith(b"Return-Path: <sender@example.org>\n")
    assert read(os.path.join(home, "archive")).startswith(b"From sender@example.org ")
    assert len(local.maildir_files(u.pw_name)) == 1


def test_forward_rules(local, users):
    u = users.add()
    addr = f"{u.pw_name}@{DOMAIN}"
    # .forward+ext is read before .forward
    write_forward(u, "plain@example.net\n")
    write_forward(u, "ext@example.net\n", name=".forward+news")
    local.start()
    [r] = local.deliver([f"{u.pw_name}+news@{DOMAIN}"])
    assert r["forward"] == ["ext@example.net"], r
    [r] = local.deliver([f"{u.pw_name}+other@{DOMAIN}"])
    assert r["forward"] == ["plain+other@example.net"], r
    # a .forward writable by others is ignored (with a warning): the mailbox gets the mail
    write_forward(u, "plain@example.net\n", mode=0o666)
    [r] = local.deliver([addr])
    assert (r["status"], r["text"], r["forward"]) == ("sent", "delivered to maildir", []), r
    assert local.instance.log_lines(r"warning: .*ignoring .*\.forward: writable by group")
    # so is one owned by someone else
    write_forward(u, "plain@example.net\n")
    os.chown(os.path.join(u.pw_dir, ".forward"), NOBODY.pw_uid, NOBODY.pw_gid)
    [r] = local.deliver([addr])
    assert r["forward"] == [], r
    # an empty one (comments only) means the mailbox too
    write_forward(u, "# nothing\n")
    [r] = local.deliver([addr])
    assert r["text"] == "delivered to maildir", r
    # error: is for aliases only
    write_forward(u, "error:5.1.1 gone\n")
    [r] = local.deliver([addr])
    assert (r["status"], r["dsn"]) == ("defer", "4.3.5"), r


def test_allow_mail_to_commands_and_files(local, users, area):
    u = users.add()
    write_forward(u, f"\"|touch {u.pw_dir}/ran\", {u.pw_dir}/file\n")
    local.alias(f"tlfile: {area}/out/alias-file")
    local.start("allow_mail_to_commands = alias\nallow_mail_to_files = forward\n")
    [r] = local.deliver([f"{u.pw_name}@{DOMAIN}"])
    assert (r["status"], r["dsn"]) == ("bounce", "5.7.1"), r
    assert "mail to command is restricted" in r["text"]
    assert not os.path.exists(os.path.join(u.pw_dir, "ran"))
    [r] = local.deliver([f"tlfile@{DOMAIN}"])
    assert (r["status"], r["dsn"]) == ("bounce", "5.7.1"), r
    assert not os.path.exists(os.path.join(area, "out", "alias-file"))


def test_alias_file_written_as_default_privs(local, area):
    target = os.path.join(area, "out", "alias-archive")
    local.alias(f"tlarch: {target}")
    local.start()
    [r] = local.deliver([f"tlarch@{DOMAIN}"])
    assert (r["status"], r["text"]) == ("sent", f"delivered to file: {target}"), r
    assert os.stat(target).st_uid == NOBODY.pw_uid
    # a file of someone else's is refused, even one anybody may write, and left alone
    os.chown(target, 0, 0)
    os.chmod(target, 0o666)
    before = read(target)
    [r] = local.deliver([f"tlarch@{DOMAIN}"])
    assert (r["status"], r["dsn"]) == ("bounce", "5.2.0"), r
    assert "not owned by uid" in r["text"], r
    assert read(target) == before
    # one it may not open at all is a problem to fix and retry
    os.chmod(target, 0o600)
    [r] = local.deliver([f"tlarch@{DOMAIN}"])
    assert (r["status"], r["dsn"]) == ("defer", "4.2.0"), r
    assert "Permission denied" in r["text"], r

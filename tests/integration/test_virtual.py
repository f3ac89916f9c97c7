"""Integration tests of the virtual delivery agent (delivery/virtual/): a test plays qmgr's part.
It writes a queue file into spool/active/ of a running instance, sends a `deliver` request to
spool/private/virtual (mail/delivery_proto.h) and checks the reply and the mailboxes: Maildir
and mbox files written as the uid/gid of virtual_uid_maps/virtual_gid_maps, the catch-all, quoted
local parts, and the refusals (unknown user, a map value leaving virtual_mailbox_base, a uid below
virtual_minimum_uid). The mailboxes belong to a system user made for the test (root only)."""
import grp
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import uuid

import pytest

from conftest import IS_ROOT, ipc_call, make_queue_id, wait_for, write_queue_file

pytestmark = pytest.mark.skipif(not IS_ROOT, reason="the virtual agent changes to the mailbox "
                                "owner's uid, so these tests make a system user: root only")

SENDER = "sender@example.org"
CONTENT = (b"From: Sender <sender@example.org>\r\n"
           b"To: alice@virt.example\r\n"
           b"Subject: virtual test\r\n"
           b"\r\n"
           b"Hello, virtual world.\r\n"
           b"From the start of a line.\r\n")


@pytest.fixture
def vuser():
    """A system user (with its own group) that owns the virtual mailboxes; removed after."""
    name = "tv" + uuid.uuid4().hex[:10]
    r = subprocess.run(["useradd", "-M", "-U", "-s", "/usr/sbin/nologin", "-d", "/nonexistent",
                        name], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    try:
        pw = pwd.getpwnam(name)
        yield pw
    finally:
        subprocess.run(["userdel", name], capture_output=True, timeout=60)
        try:
            grp.getgrnam(name)
            subprocess.run(["groupdel", name], capture_output=True, timeout=60)
        except KeyError:
            pass


class Virtual:
    """An instance set up for virtual delivery: base is virtual_mailbox_base (owned by the
    test user, outside pytest's private temporary tree so that user can reach it)."""

    def __init__(self, instance, user):
        self.instance = instance
        self.user = user
        self.base = tempfile.mkdtemp(prefix="tern-vmail-")
        os.chown(self.base, user.pw_uid, user.pw_gid)
        os.chmod(self.base, 0o700)
        self.map_path = os.path.join(instance.dir, "vmailbox")
        instance.drop_services(["qmgr", "pickup"])

    def configure(self, entries, uid=None, gid=None, extra=""):
        """Writes the mailbox table (texthash:, read when the agent starts) and the settings."""
        with open(self.map_path, "w") as f:
            for key, value in entries.items():
                f.write(f"{key} {value}\n")
        uid = self.user.pw_uid if uid is None else uid
        gid = self.user.pw_gid if gid is None else gid
        self.instance.conf(f"virtual_mailbox_domains = virt.example\n"
                           f"virtual_mailbox_base = {self.base}\n"
                           f"virtual_mailbox_maps = texthash:{self.map_path}\n"
                           f"virtual_uid_maps = static:{uid}\n"
                           f"virtual_gid_maps = static:{gid}\n" + extra)
        self.instance.start()
        wait_for(lambda: os.path.exists(self.socket), what="private/virtual")

    @property
    def socket(self):
        return os.path.join(self.instance.spool, "private", "virtual")

    def queue(self, content=CONTENT, sender=SENDER, recipients=("alice@virt.example",)):
        """A queue file in active/ (written after start, as qmgr would move it there)."""
        qid = make_queue_id()
        write_queue_file(os.path.join(self.instance.spool, "active", qid), sender,
                         list(recipients), content)
        return qid

    def deliver(self, qid, recipients, nexthop="virt.example"):
        """Sends one deliver request; recipients are addresses or (address, orig) pairs.
        Returns (status, [result dict per recipient])."""
        attrs = [("type", "deliver"), ("queue_id", qid), ("nexthop", nexthop)]
        for r in recipients:
            address, orig = (r, "") if isinstance(r, str) else r
            attrs += [("rcpt", address), ("rcpt_orig", orig), ("rcpt_notify", "0")]
        reply = ipc_call(self.socket, attrs, timeout=60)
        return parse_reply(reply)

    def path(self, *parts):
        return os.path.join(self.base, *parts)

    def everything(self):
        """Every path under the base, relative to it."""
        found = []
        for root, dirs, files in os.walk(self.base):
            for n in dirs + files:
                found.append(os.path.relpath(os.path.join(root, n), self.base))
        return sorted(found)

    def cleanup(self):
        shutil.rmtree(self.base, ignore_errors=True)


def parse_reply(reply):
    status = reply[0]
    assert status[0] == "status", reply
    results = []
    for name, value in reply[1:]:
        if name == "rcpt_status":
            results.append({"status": value})
        elif name.startswith("rcpt_"):
            results[-1][name[5:]] = value
    return status[1], results


@pytest.fixture
def virtual(instance, vuser):
    v = Virtual(instance, vuser)
    yield v
    v.cleanup()
    crashed = instance.log_lines(r"warning: process \S+/virtual pid \d+ "
                                 r"(exit status|killed by signal)")
    assert not crashed, crashed


def maildir_files(v, *parts):
    new = v.path(*parts, "new")
    return [os.path.join(new, n) for n in sorted(os.listdir(new))] if os.path.isdir(new) else []


def assert_owned(v, path, mode=None):
    st = os.lstat(path)
    assert (st.st_uid, st.st_gid) == (v.user.pw_uid, v.user.pw_gid), path
    if mode is not None:
        assert stat.S_IMODE(st.st_mode) == mode, (path, oct(st.st_mode))


def test_maildir_delivery(virtual):
    virtual.configure({"alice@virt.example": "virt.example/alice/"})
    qid = virtual.queue()
    status, results = virtual.deliver(qid, [("alice@virt.example", "info@virt.example")])
    assert status == "ok"
    assert results == [{"status": "sent", "dsn": "2.0.0", "action": "delivered",
                        "text": "delivered to maildir", "relay": "virtual"}]
    files = maildir_files(virtual, "virt.example", "alice")
    assert len(files) == 1
    # the missing directories were made by the user, private to it
    assert_owned(virtual, virtual.path("virt.example"), 0o700)
    for sub in ("", "new", "cur", "tmp"):
        assert_owned(virtual, virtual.path("virt.example", "alice", sub), 0o700)
    assert_owned(virtual, files[0], 0o600)
    assert os.listdir(virtual.path("virt.example", "alice", "tmp")) == []
    with open(files[0], "rb") as f:
        data = f.read()
    assert data.startswith(b"Return-Path: <sender@example.org>\n"
                           b"Delivered-To: alice@virt.example\n"
                           b"X-Original-To: info@virt.example\n"
                           b"From: Sender <sender@example.org>\n")
    assert data.endswith(b"\nHello, virtual world.\nFrom the start of a line.\n")
    assert b"\r" not in data
    assert virtual.instance.log_lines(
        rf"tern/virtual\[\d+\]: {qid}: to=<alice@virt.example>: delivered to maildir "
        rf"{virtual.base}/virt.example/alice/new/\S+ as uid {virtual.user.pw_uid}$")

    # a second message, from <>, to the address in upper case: a second file
    qid2 = virtual.queue(sender="")
    status, results = virtual.deliver(qid2, ["Alice@VIRT.example"])
    assert results[0]["status"] == "sent", results
    second = [f for f in maildir_files(virtual, "virt.example", "alice") if f != files[0]]
    assert len(second) == 1
    with open(second[0], "rb") as f:
        head = f.read(200)
    assert head.startswith(b"Return-Path: <>\nDelivered-To: alice@virt.example\n"
                           b"X-Original-To: Alice@VIRT.example\nFrom: "), head


def test_mbox_delivery(virtual):
    virtual.configure({"bob@virt.example": "virt.example/bob"})
    for n in range(2):
        qid = virtual.queue(recipients=["bob@virt.example"])
        status, results = virtual.deliver(qid, ["bob@virt.example"])
        assert status == "ok"
        assert results == [{"status": "sent", "dsn": "2.0.0", "action": "delivered",
                            "text": "delivered to mailbox", "relay": "virtual"}], results
    mbox = virtual.path("virt.example", "bob")
    assert_owned(virtual, virtual.path("virt.example"), 0o700)
    assert_owned(virtual, mbox, 0o600)
    with open(mbox, "rb") as f:
        data = f.read()
    messages = data.split(b"\nFrom sender@example.org ")
    assert data.startswith(b"From sender@example.org ")
    assert len(messages) == 2, data
    for m in messages:
        body = m.split(b"\n", 1)[1]
        assert body.startswith(b"Return-Path: <sender@example.org>\n"
                               b"Delivered-To: bob@virt.example\n"
                               b"X-Original-To: bob@virt.example\n"
                               b"From: Sender <sender@example.org>\n"), body
        assert b"\n>From the start of a line.\n" in body
    assert not os.path.exists(mbox + ".lock")


def test_catch_all_and_extension(virtual):
    virtual.configure({"alice@virt.example": "virt.example/alice/",
                       "@virt.example": "virt.example/catchall/"},
                      extra="recipient_delimiter = +\n")
    qid = virtual.queue(recipients=["nobody@virt.example", "alice+lists@virt.example"])
    status, results = virtual.deliver(qid, ["nobody@virt.example", "alice+lists@virt.example"])
    assert [r["status"] for r in results] == ["sent", "sent"], results
    catchall = maildir_files(virtual, "virt.example", "catchall")
    alice = maildir_files(virtual, "virt.example", "alice")
    assert len(catchall) == 1 and len(alice) == 1
    with open(catchall[0], "rb") as f:
        assert b"Delivered-To: nobody@virt.example\n" in f.read()
    with open(alice[0], "rb") as f:
        assert b"Delivered-To: alice+lists@virt.example\n" in f.read()


def test_quoted_local_part_finds_the_mailbox(virtual):
    """RFC 5321: "alice"@virt.example is the mailbox alice@virt.example; quotes that are needed
    ("a b") name another mailbox."""
    virtual.configure({"alice@virt.example": "virt.example/alice/"},
                      extra="recipient_delimiter = +\n")
    rcpts = ['"alice"@virt.example', '"Alice+Lists"@virt.example', '"alice bob"@virt.example']
    qid = virtual.queue(recipients=rcpts)
    status, results = virtual.deliver(qid, rcpts)
    assert status == "ok"
    assert [r["status"] for r in results] == ["sent", "sent", "bounce"], results
    assert results[2]["text"] == 'unknown user: ""alice bob"@virt.example"', results
    assert len(maildir_files(virtual, "virt.example", "alice")) == 2
    assert [p for p in virtual.everything() if "bob" in p] == []


def test_unknown_user_bounces(virtual):
    virtual.configure({"alice@virt.example": "virt.example/alice/"})
    qid = virtual.queue(recipients=["carol@virt.example", "alice@virt.example"])
    status, results = virtual.deliver(qid, ["Carol@virt.example", "alice@virt.example"])
    assert status == "ok"
    assert results[0] == {"status": "bounce", "dsn": "5.1.1", "relay": "virtual",
                          "text": 'unknown user: "carol@virt.example"'}
    assert results[1]["status"] == "sent"
    assert not [p for p in virtual.everything() if "carol" in p]
    assert len(maildir_files(virtual, "virt.example", "alice")) == 1


def test_map_value_leaving_the_base_is_refused(virtual):
    virtual.configure({"evil@virt.example": "../escape/",
                       "abs@virt.example": "/tmp/escape/"})
    qid = virtual.queue(recipients=["evil@virt.example", "abs@virt.example"])
    status, results = virtual.deliver(qid, ["evil@virt.example", "abs@virt.example"])
    assert [(r["status"], r["dsn"]) for r in results] == [("defer", "4.3.5")] * 2, results
    assert results[0]["text"].startswith("mail system configuration error: ")
    assert '".."' in results[0]["text"]
    assert "relative" in results[1]["text"]
    assert virtual.everything() == []
    assert not os.path.exists(os.path.join(os.path.dirname(virtual.base), "escape"))
    assert virtual.instance.log_lines(rf"tern/virtual\[\d+\]: warning: {qid}: mail system "
                                      r"configuration error: evil@virt.example: ")


@pytest.mark.parametrize("uid", [0, 1])
def test_uid_below_minimum_is_refused(virtual, uid):
    virtual.configure({"alice@virt.example": "virt.example/alice/",
                       "bob@virt.example": "virt.example/bob"}, uid=uid)
    qid = virtual.queue(recipients=["alice@virt.example", "bob@virt.example"])
    status, results = virtual.deliver(qid, ["alice@virt.example", "bob@virt.example"])
    assert status == "ok"
    for r in results:
        assert (r["status"], r["dsn"]) == ("defer", "4.3.5"), results
        assert r["text"].startswith("mail system configuration error: ")
        assert (f"uid {uid}" in r["text"]), r["text"]
    assert virtual.everything() == []


def test_gid_zero_is_refused(virtual):
    virtual.configure({"alice@virt.example": "virt.example/alice/"}, gid=0)
    qid = virtual.queue()
    status, results = virtual.deliver(qid, ["alice@virt.example"])
    assert (results[0]["status"], results[0]["dsn"]) == ("defer", "4.3.5"), results
    assert "gid 0" in results[0]["text"]
    assert virtual.everything() == []


def test_delivered_to_loop_bounces(virtual):
    virtual.configure({"alice@virt.example": "virt.example/alice/"})
    qid = virtual.queue(content=b"Delivered-To: alice@virt.example\r\n" + CONTENT)
    status, results = virtual.deliver(qid, ["alice@virt.example"])
    assert (results[0]["status"], results[0]["dsn"]) == ("bounce", "5.4.6"), results
    assert results[0]["text"] == "mail forwarding loop for alice@virt.example"
    assert virtual.everything() == []


def test_mailbox_problem_defers(virtual):
    """A mailbox the user cannot write (a root-owned directory in the way) is deferred, not
    bounced, with the reason; nothing is written as root."""
    virtual.configure({"alice@virt.example": "locked/alice/",
                       "bob@virt.example": "locked/bob"})
    locked = virtual.path("locked")
    os.mkdir(locked, 0o755)    # root's, so the user cannot create anything in it
    qid = virtual.queue(recipients=["alice@virt.example", "bob@virt.example"])
    status, results = virtual.deliver(qid, ["alice@virt.example", "bob@virt.example"])
    assert [(r["status"], r["dsn"]) for r in results] == [("defer", "4.2.0")] * 2, results
    assert "Permission denied" in results[0]["text"], results
    assert os.listdir(locked) == []


def test_mbox_of_another_owner_bounces(virtual):
    """An mbox that is not the mailbox owner's is never written: a permanent failure."""
    virtual.configure({"bob@virt.example": "bob"})
    mbox = virtual.path("bob")
    with open(mbox, "w") as f:     # root's, though the user may write it
        f.write("")
    os.chmod(mbox, 0o666)
    qid = virtual.queue(recipients=["bob@virt.example"])
    status, results = virtual.deliver(qid, ["bob@virt.example"])
    assert (results[0]["status"], results[0]["dsn"]) == ("bounce", "5.2.0"), results
    assert results[0]["text"].startswith(f"cannot update mailbox {mbox}: "), results
    assert os.path.getsize(mbox) == 0


def test_size_limit_bounces(virtual):
    virtual.configure({"alice@virt.example": "virt.example/alice/",
                       "bob@virt.example": "virt.example/bob"},
                      extra="mailbox_size_limit = 100\n")
    qid = virtual.queue(content=CONTENT + b"x" * 200 + b"\r\n")
    status, results = virtual.deliver(qid, ["alice@virt.example", "bob@virt.example"])
    assert (results[0]["status"], results[0]["dsn"]) == ("bounce", "5.2.3"), results
    assert results[1]["status"] == "bounce" and results[1]["dsn"].startswith("5.2."), results
    assert maildir_files(virtual, "virt.example", "alice") == []
    bob = virtual.path("virt.example", "bob")
    assert not os.path.exists(bob) or os.path.getsize(bob) == 0


def test_missing_queue_file_defers(virtual):
    virtual.configure({"alice@virt.example": "virt.example/alice/"})
    status, results = virtual.deliver(make_queue_id(), ["alice@virt.example"])
    assert status == "ok"
    assert (results[0]["status"], results[0]["dsn"]) == ("defer", "4.3.0"), results
    assert results[0]["text"].startswith("cannot read queue file active/")
    assert virtual.everything() == []


def test_malformed_request_is_refused(virtual):
    virtual.configure({"alice@virt.example": "virt.example/alice/"})
    reply = ipc_call(virtual.socket, [("type", "deliver"), ("queue_id", "../etc/passwd"),
                                      ("nexthop", "x"), ("rcpt", "alice@virt.example"),
                                      ("rcpt_orig", ""), ("rcpt_notify", "0")])
    assert reply[0] == ("status", "fail"), reply
    assert reply[1] == ("reason", "bad queue_id"), reply
    # the agent goes on serving
    qid = virtual.queue()
    status, results = virtual.deliver(qid, ["alice@virt.example"])
    assert results[0]["status"] == "sent", results


def test_delivery_runs_as_the_user_not_root(virtual):
    """The mailbox writer never runs as root: a mailbox directory that only root may enter
    cannot be written, while the same path owned by the user can."""
    virtual.configure({"alice@virt.example": "virt.example/alice/"})
    domain = virtual.path("virt.example")
    os.mkdir(domain, 0o700)          # root's, mode 0700: root could write here, the user not
    qid = virtual.queue()
    status, results = virtual.deliver(qid, ["alice@virt.example"])
    assert results[0]["status"] == "defer", results
    assert os.listdir(domain) == []
    os.chown(domain, virtual.user.pw_uid, virtual.user.pw_gid)
    status, results = virtual.deliver(qid, ["alice@virt.example"])
    assert results[0]["status"] == "sent", results
    assert_owned(virtual, maildir_files(virtual, "virt.example", "alice")[0])

"""Fixtures of the integration tests: a tern instance made with `tern init` in a temporary
directory, on free loopback ports, with test services (tests/testd) added to its master.conf."""
import os
import pwd
import re
import signal
import socket
import stat
import subprocess
import tempfile
import time
import uuid

import pytest

BUILDDIR = os.environ.get("TERN_BUILDDIR", os.getcwd())
TERN = os.path.join(BUILDDIR, "bin", "tern")
TERNCONF = os.path.join(BUILDDIR, "bin", "ternconf")
MASTER = os.path.join(BUILDDIR, "libexec", "master")
TESTD = os.path.join(BUILDDIR, "tests", "testd")
IS_ROOT = os.geteuid() == 0


_handed_out = set()


def free_port():
    """A loopback port nobody listens on, never the same one twice in a test run (an instance
    takes several, and the kernel may offer one again once its probe socket is closed)."""
    for _ in range(1000):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise AssertionError("no free loopback port")


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate until it returns a true value, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def proc_status(pid):
    """uid/gid lines of /proc/PID/status as lists of ints, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.split()
    if fields.get("State", ["?"])[0] == "Z":
        return None
    return {"uid": [int(x) for x in fields["Uid"]], "gid": [int(x) for x in fields["Gid"]],
            "ppid": int(fields["PPid"][0])}


def children_of(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = proc_status(int(entry))
            if st and st["ppid"] == pid:
                out.append(int(entry))
    return out


def alive(pid):
    return proc_status(pid) is not None


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def processes_of(instance):
    """Every live process whose command line names the instance's configuration."""
    return [int(e) for e in os.listdir("/proc")
            if e.isdigit() and instance.dir in cmdline(int(e)) and alive(int(e))]


class Instance:
    def __init__(self, directory):
        self.dir = str(directory)
        self.smtp_port = free_port()
        self.testd_port = free_port()
        self.testd2_port = free_port()
        self.replaced = set()   # processes a reload told to finish
        r = subprocess.run([TERN, "init", self.dir, "--smtp-port", str(self.smtp_port),
                            "--submission-port", str(free_port()),
                            "--smtps-port", str(free_port()), "--hostname", "mx.test.example"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        self.conf("service_throttle_time = 60s\nmaster_stop_timeout = 5s\n")
        # the tests talk to loopback only: SPF, DKIM and DMARC would ask the host's resolver
        # about the test domains; the tests of sender authentication turn them on with a test
        # DNS server
        self.conf("smtpd_spf_verify = no\nsmtpd_dkim_verify = no\nsmtpd_dmarc_policy = off\n")
        self.add_service(f"127.0.0.1:{self.testd_port} inet n - n - 4 {TESTD}")

    @property
    def log_path(self):
        return os.path.join(self.dir, "log", "mail.log")

    @property
    def spool(self):
        return os.path.join(self.dir, "spool")

    def conf(self, text):
        with open(os.path.join(self.dir, "tern.conf"), "a") as f:
            f.write(text)

    def add_service(self, line):
        with open(os.path.join(self.dir, "master.conf"), "a") as f:
            f.write(line + "\n")

    def drop_services(self, names):
        """Takes services out of master.conf (an entry and its indented continuation lines),
        e.g. the queue manager, so that a test can look at queue files it would move."""
        path = os.path.join(self.dir, "master.conf")
        out, skipping = [], False
        with open(path) as f:
            for line in f:
                if line[:1] not in (" ", "\t") or not line.strip():
                    words = line.split()
                    skipping = bool(words) and words[0] in names
                if not skipping:
                    out.append(line)
        with open(path, "w") as f:
            f.writelines(out)

    def tern(self, *args, timeout=60):
        if args[:1] == ("reload",):
            self.replaced.update(self.children())
        return subprocess.run([TERN, "-c", self.dir, *args], capture_output=True, text=True,
                              timeout=timeout)

    def ternconf(self, *args):
        return subprocess.run([TERNCONF, "-c", self.dir, *args], capture_output=True, text=True,
                              timeout=30)

    def start(self):
        r = self.tern("start")
        assert r.returncode == 0, f"tern start failed ({r.returncode}): {r.stderr}\n{self.log()}"
        return r

    def master_pid(self):
        try:
            with open(os.path.join(self.spool, "pid", "master.pid")) as f:
                pid = int(f.read().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if alive(pid) else None

    def children(self):
        pid = self.master_pid()
        return children_of(pid) if pid else []

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_lines(self, pattern):
        return [line for line in self.log().splitlines() if re.search(pattern, line)]

    def testd_line(self, port=None):
        """Connects to a testd service and returns its description as a dict."""
        with socket.create_connection(("127.0.0.1", port or self.testd_port), timeout=10) as s:
            s.settimeout(10)
            data = b""
            while not data.endswith(b"\r\n"):
                chunk = s.recv(1024)
                if not chunk:
                    break
                data += chunk
            s.sendall(b"QUIT\r\n")
        text = data.decode()
        assert text.startswith("testd "), repr(text)
        return dict(item.split("=", 1) for item in text.split()[1:])

    def cleanup(self):
        pid = self.master_pid()
        # processes a reload replaced finish on their own first: in a sanitizer build their leak
        # check runs at exit, and the abort's SIGKILL in the middle of it leaves a broken report
        deadline = time.monotonic() + 30
        while any(alive(p) for p in self.replaced) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid:
            self.tern("abort", timeout=30)
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(autouse=True)
def sanitizer_reports(tmp_path_factory):
    """In a --enable-sanitizers build every process (the master's daemons too, whose stderr is
    /dev/null) writes its AddressSanitizer/UBSan reports to a file here; a test that leaves one
    fails. Also, no daemon may exit abnormally unless the test expects it."""
    reports = tmp_path_factory.mktemp("sanitizer")
    os.chmod(reports, 0o1777)
    saved = {k: os.environ.get(k) for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS")}
    os.environ["ASAN_OPTIONS"] = f"log_path={reports}/asan:detect_leaks=1"
    os.environ["UBSAN_OPTIONS"] = f"log_path={reports}/ubsan:print_stacktrace=1"
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    texts = [open(os.path.join(reports, f), errors="replace").read()
             for f in sorted(os.listdir(reports))]
    # a process killed (SIGKILL, e.g. when a start fails and the master stops the rest) during
    # its exit-time leak check leaves only LeakSanitizer's complaint that a thread vanished
    # under it: that is no finding; anything else in a file is
    findings = [t for t in texts if re.sub(r"==\d+==Unable to get registers from thread \d+\.\n?",
                                           "", t).strip()]
    assert not findings, "sanitizer reports:\n" + "\n".join(findings)


@pytest.fixture
def instance(tmp_path):
    os.chmod(tmp_path, 0o755)
    # delivery agents run as recipients: they must be able to reach the instance's mail/
    parent = tmp_path.parent
    while str(parent).startswith(tempfile.gettempdir() + "/") and parent != parent.parent:
        os.chmod(parent, os.stat(parent).st_mode | 0o011)
        parent = parent.parent
    inst = Instance(tmp_path / "tern")
    yield inst
    inst.cleanup()
    crashed = inst.log_lines(r"warning: process \S+/testd pid \d+ (exit status|killed by signal (?!9\b))")
    assert not crashed, crashed


@pytest.fixture
def users(tmp_path):
    """make(prefix, gecos) creates a system user (root only) with a home directory under the
    test's tmp dir; every user made is removed afterwards."""
    made = []

    def make(prefix="tu", gecos=None):
        name = f"{prefix}{uuid.uuid4().hex[:8]}"
        home = tmp_path / "home" / name
        home.parent.mkdir(exist_ok=True)
        os.chmod(home.parent, 0o755)
        subprocess.run(["useradd", "-m", "-d", str(home), "-s", "/bin/sh",
                        *(["-c", gecos] if gecos else []), name],
                       check=True, capture_output=True, timeout=30)
        made.append(name)
        return pwd.getpwnam(name)

    yield make
    for name in made:
        subprocess.run(["userdel", "-f", name], capture_output=True, timeout=30)


def tern_ids():
    """uid and gid the daemons run as: tern when root, else the current user."""
    if IS_ROOT:
        pw = pwd.getpwnam("tern")
        return pw.pw_uid, pw.pw_gid
    return os.getuid(), os.getgid()


# ---- helpers for the smtpd tests (tests/integration/test_smtpd.py) ----

def _service_port(instance, syslog_name):
    """The port of the smtpd service of master.conf whose `-o syslog_name=` is syslog_name."""
    port = None
    with open(os.path.join(instance.dir, "master.conf")) as f:
        for line in f:
            m = re.match(r"^\S*:(\d+)\s+inet\s", line)
            if m:
                port = int(m.group(1))
            elif port and line.strip() == f"-o syslog_name={syslog_name}":
                return port
    raise AssertionError(f"no {syslog_name} service in master.conf")


# the ports `tern init` wrote for the submission (587) and submissions (465) services
Instance.submission_port = property(lambda self: _service_port(self, "tern/submission"))
Instance.smtps_port = property(lambda self: _service_port(self, "tern/smtps"))
Instance.incoming = property(lambda self: os.path.join(self.spool, "incoming"))


def queue_files(instance):
    """Every file in the instance's incoming/ queue, ones still being written included."""
    return sorted(os.listdir(instance.incoming))


def complete_queue_file(path):
    """Whether the queue file at path is complete: a queue ID name and the owner's read bit
    (queue/qfile.h: mode 0200 while it is written, 0600 once committed)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    return (not os.path.basename(path).startswith("t") and stat.S_ISREG(st.st_mode)
            and bool(st.st_mode & stat.S_IRUSR))


def read_queue_file(path):
    """Parses a queue file (queue/qfile.h): records of one type byte, a little-endian base-128
    length and the data. Returns {"time", "sender", "attrs", "recipients": [{"address",
    "notify", "orcpt"}], "content", "trailer", "types"} and checks the framing: MAGIC first,
    END last. "content" is the CONTENT records; "trailer" the header fields of the trailer
    (delivered in front of the content); the trailer's attributes are in "attrs" too."""
    with open(path, "rb") as f:
        data = f.read()
    records, pos = [], 0
    while pos < len(data):
        rtype = chr(data[pos])
        pos += 1
        length, shift = 0, 0
        for i in range(5):
            assert pos < len(data), f"{path}: truncated length"
            b = data[pos]
            pos += 1
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        else:
            raise AssertionError(f"{path}: length of more than 5 bytes")
        assert pos + length <= len(data), f"{path}: truncated record {rtype}"
        records.append((rtype, data[pos:pos + length]))
        pos += length
    assert records and records[0] == ("V", b"tern-queue-1"), records[:1]
    assert records[-1] == ("E", b""), records[-1:]
    q = {"time": None, "sender": None, "attrs": {}, "recipients": [], "content": b"",
         "trailer": [], "types": "".join(t for t, _ in records)}
    for rtype, value in records[1:-1]:
        if rtype == "T":
            q["time"] = float(value.decode())
        elif rtype == "S":
            q["sender"] = value.decode()
        elif rtype == "A":
            name, _, val = value.decode().partition("=")
            assert name not in q["attrs"], f"attribute {name} twice"
            q["attrs"][name] = val
        elif rtype in "RD":
            q["recipients"].append({"address": value.decode(), "notify": None, "orcpt": None})
        elif rtype == "N":
            q["recipients"][-1]["notify"] = int(value.decode())
        elif rtype == "O":
            q["recipients"][-1]["orcpt"] = value.decode()
        elif rtype == "C":
            q["content"] += value
        elif rtype == "H":
            q["trailer"].append(value)
        else:
            raise AssertionError(f"{path}: unknown record type {rtype!r}")
    return q


def pflogsumm_totals(instance):
    """pflogsumm --syslog-name=tern over the instance's log, as an admin reads it: the grand
    totals ({"received": n, "delivered": n, ...}) and the report."""
    r = subprocess.run(["pflogsumm", "--syslog-name=tern", instance.log_path],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    totals = {}
    for m in re.finditer(r"^\s+(\d+)\s+(received|delivered|deferred|bounced|rejected)\b",
                         r.stdout, re.M):
        totals.setdefault(m.group(2), int(m.group(1)))
    return totals, r.stdout


def make_test_cert(directory, cn="mx.test.example"):
    """A self-signed P-256 certificate for cn and 127.0.0.1, made with openssl: (cert, key)."""
    os.makedirs(directory, exist_ok=True)
    cert = os.path.join(str(directory), "cert.pem")
    key = os.path.join(str(directory), "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={cn}",
                        "-addext", f"subjectAltName=DNS:{cn},IP:127.0.0.1", "-days", "2",
                        "-keyout", key, "-out", cert], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return cert, key


def sasl_hash(password):
    """The argon2id hash `ternpasswd` prints for password."""
    r = subprocess.run([os.path.join(BUILDDIR, "bin", "ternpasswd")], input=password,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


# ---- the internal protocols, for tests that talk to one daemon directly ----

def _netstring(data):
    return str(len(data)).encode() + b":" + data + b","


def ipc_encode(attrs):
    """Encodes [(name, value), ...] in tern's IPC framing (common/ipc.h)."""
    inner = b"".join(_netstring(n.encode() + b"=" + (v if isinstance(v, bytes) else v.encode()))
                     for n, v in attrs)
    return _netstring(inner)


def _take_netstring(data, pos):
    colon = data.index(b":", pos)
    n = int(data[pos:colon])
    end = colon + 1 + n
    assert data[end:end + 1] == b",", "netstring without its comma"
    return data[colon + 1:end], end + 1


def ipc_decode(data):
    """Decodes one message: ([(name, value str)], bytes used); None when incomplete."""
    try:
        payload, used = _take_netstring(data, 0)
    except (ValueError, AssertionError):
        return None
    attrs, pos = [], 0
    while pos < len(payload):
        item, pos = _take_netstring(payload, pos)
        name, _, value = item.partition(b"=")
        attrs.append((name.decode(), value.decode(errors="replace")))
    return attrs, used


def ipc_call(path, attrs, timeout=30):
    """Connects to the UNIX socket at path, sends one message, returns the reply's attributes."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(ipc_encode(attrs))
        data = b""
        while True:
            got = ipc_decode(data)
            if got:
                return got[0]
            chunk = s.recv(65536)
            assert chunk, f"{path} closed without a reply"
            data += chunk


def _record(rtype, data):
    out, n = bytearray([ord(rtype)]), len(data)
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            break
    return bytes(out) + data


def write_queue_file(path, sender, recipients, content, attrs=None, arrival=None):
    """Writes a complete queue file (queue/qfile.h) at path, as smtpd would: recipients are
    addresses or (address, notify_bits or None, orcpt or None) tuples; content is bytes with
    CRLF line ends. Mode 0600, owned like the queue when run as root."""
    arrival = time.time() if arrival is None else arrival
    out = _record("V", b"tern-queue-1") + _record("T", b"%.6f" % arrival)
    out += _record("S", sender.encode())
    for name, value in (attrs or {}).items():
        out += _record("A", f"{name}={value}".encode())
    for r in recipients:
        address, notify, orcpt = (r, None, None) if isinstance(r, str) else r
        out += _record("R", address.encode())
        if notify is not None:
            out += _record("N", str(notify).encode())
        if orcpt is not None:
            out += _record("O", orcpt.encode())
    for i in range(0, len(content), 65536):
        out += _record("C", content[i:i + 65536])
    out += _record("E", b"")
    with open(path, "wb") as f:
        f.write(out)
    os.chmod(path, 0o600)
    if IS_ROOT:
        uid, gid = tern_ids()
        os.chown(path, uid, gid)


_ID_ALPHABET = "0123456789BCDFGHJKLMNPQRSTVWXYZ"
_id_counter = [0]


def make_queue_id():
    """A fresh valid queue ID (queue/qfile.c's shape: 11 time digits, then an 'inode' part)."""
    usec = int(time.time() * 1e6)
    _id_counter[0] += 1
    digits = []
    for _ in range(11):
        digits.append(_ID_ALPHABET[usec % 31])
        usec //= 31
    n, ino = 900000 + _id_counter[0], []
    while n:
        ino.append(_ID_ALPHABET[n % 31])
        n //= 31
    return "".join(reversed(digits)) + "".join(reversed(ino))

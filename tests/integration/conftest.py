"""Fixtures of the integration tests: a tern instance made with `tern init` in a temporary
directory, on free loopback ports, with test services (tests/testd) added to its master.conf."""
import os
import pwd
import re
import signal
import socket
import subprocess
import time

import pytest

BUILDDIR = os.environ.get("TERN_BUILDDIR", os.getcwd())
TERN = os.path.join(BUILDDIR, "bin", "tern")
TERNCONF = os.path.join(BUILDDIR, "bin", "ternconf")
MASTER = os.path.join(BUILDDIR, "libexec", "master")
TESTD = os.path.join(BUILDDIR, "tests", "testd")
IS_ROOT = os.geteuid() == 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        r = subprocess.run([TERN, "init", self.dir, "--smtp-port", str(self.smtp_port),
                            "--submission-port", str(free_port()),
                            "--smtps-port", str(free_port()), "--hostname", "mx.test.example"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        self.conf("service_throttle_time = 60s\nmaster_stop_timeout = 5s\n")
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

    def tern(self, *args, timeout=60):
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
    found = sorted(os.listdir(reports))
    texts = [open(os.path.join(reports, f), errors="replace").read() for f in found]
    assert not found, "sanitizer reports:\n" + "\n".join(texts)


@pytest.fixture
def instance(tmp_path):
    os.chmod(tmp_path, 0o755)
    inst = Instance(tmp_path / "tern")
    yield inst
    inst.cleanup()
    crashed = inst.log_lines(r"warning: process \S+/testd pid \d+ (exit status|killed by signal (?!9\b))")
    assert not crashed, crashed


def tern_ids():
    """uid and gid the daemons run as: tern when root, else the current user."""
    if IS_ROOT:
        pw = pwd.getpwnam("tern")
        return pw.pw_uid, pw.pw_gid
    return os.getuid(), os.getgid()

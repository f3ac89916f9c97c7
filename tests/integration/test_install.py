"""Installing tern as the host's mail system: `make install DESTDIR=...` puts every file where the
README says; `tern setup --root` makes such a tree ready (group and mode of the set-gid helpers,
the queue, aliases, TLS) and changes nothing the second time; `--links`; the master's systemd
notifications (sd_notify); the logrotate file; and every man page renders without warnings."""
import glob
import grp
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess

import pytest

from conftest import BUILDDIR, IS_ROOT, TERN, wait_for

SRCDIR = os.environ.get("TERN_SRCDIR", os.path.abspath(os.path.join(__file__, "..", "..", "..")))
MAN_PAGES = sorted(glob.glob(os.path.join(SRCDIR, "docs", "*.[1-8]")))
needs_root = pytest.mark.skipif(not IS_ROOT, reason="tern setup must run as root")


def make(*args, timeout=600):
    """make in the build tree, as a fresh top-level make (not part of a running make check)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "-C", BUILDDIR, *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def install_dirs():
    r = make("-s", "print-install-dirs")
    assert r.returncode == 0, r.stderr
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def make_install(dest):
    os.makedirs(dest, exist_ok=True)
    os.chmod(dest, 0o755)
    r = make("install", f"DESTDIR={dest}")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def readme_install_table():
    """The README's table of installed files: [(dir variable, subdirectory, [names])], from the
    rows "| `$dir/sub/` (default) | `name`, `name` | what |" of its section on installing."""
    with open(os.path.join(SRCDIR, "README.md")) as f:
        text = f.read()
    assert "## Installing as the host's mail system" in text
    section = text.split("## Installing as the host's mail system", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        m = re.match(r"^\| `\$(\w+)((?:/[^`/]+)*)/`[^|]* \| ([^|]+) \|", line)
        if m:
            rows.append((m.group(1), m.group(2), re.findall(r"`([^`]+)`", m.group(3))))
    assert rows, "no table of installed files in the README"
    return rows


def tree(dest):
    """Every file and symbolic link under dest."""
    out = set()
    for top, dirs, files in os.walk(dest):
        out.update(os.path.join(top, name) for name in files)
        out.update(os.path.join(top, name) for name in dirs
                   if os.path.islink(os.path.join(top, name)))
    return out


def snapshot(dest):
    """Owner, mode, size, mtime and link target of everything under dest."""
    state = {}
    for top, dirs, files in os.walk(dest):
        for name in dirs + files + ([""] if top == dest else []):
            path = os.path.join(top, name)
            st = os.lstat(path)
            state[path] = (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns,
                           os.readlink(path) if stat.S_ISLNK(st.st_mode) else None)
    return state


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    dest = str(tmp_path_factory.mktemp("destdir"))
    make_install(dest)
    return dest, install_dirs()


@pytest.fixture
def fresh_install(tmp_path):
    dest = str(tmp_path / "destdir")
    make_install(dest)
    return dest, install_dirs()


# ---- make install ----

def test_make_install_places_every_file_where_the_readme_says(installed):
    dest, dirs = installed
    expected = set()
    for var, sub, names in readme_install_table():
        assert var in dirs, f"README names ${var}, which make print-install-dirs does not know"
        expected.update(dest + dirs[var] + sub + "/" + name for name in names)
    got = tree(dest)
    assert sorted(got - expected) == [], "installed but not in the README's table"
    assert sorted(expected - got) == [], "in the README's table but not installed"


def test_every_man_page_is_installed_and_in_the_readme(installed):
    dest, dirs = installed
    listed = {name for var, sub, names in readme_install_table() if var == "mandir"
              for name in names}
    assert listed == {os.path.basename(p) for p in MAN_PAGES}
    for page in MAN_PAGES:
        name = os.path.basename(page)
        assert os.path.isfile(f"{dest}{dirs['mandir']}/man{name[-1]}/{name}"), name


def test_mailq_and_newaliases_are_links_to_sendmail(installed):
    dest, dirs = installed
    for name in ("mailq", "newaliases"):
        path = f"{dest}{dirs['sbindir']}/{name}"
        assert os.readlink(path) == "sendmail"
        assert os.path.samefile(path, f"{dest}{dirs['sbindir']}/sendmail")


def test_installed_configuration_names_the_installed_paths(installed):
    dest, dirs = installed
    conf = f"{dest}{dirs['terndir']}/tern.conf"
    with open(conf) as f:
        text = f.read()
    assert not re.search(r"@\w+@", text), "a placeholder was left"
    assert f"\nqueue_directory = {dirs['localstatedir']}/spool/tern\n" in text
    assert f"\nsmtpd_tls_cert_file = {dirs['sysconfdir']}/tern/tls/cert.pem\n" in text
    assert f"\n#maillog_file = {dirs['localstatedir']}/log/tern.log\n" in text
    with open(os.path.join(SRCDIR, "etc", "master.conf")) as f:
        sample = f.read()
    with open(f"{dest}{dirs['terndir']}/master.conf") as f:
        assert f.read() == sample
    # the installed tern reads it: the parameters check out
    r = subprocess.run([f"{dest}{dirs['sbindir']}/ternconf", "-c", f"{dest}{dirs['terndir']}",
                        "-h", "queue_directory", "mail_owner", "setgid_group"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [f"{dirs['localstatedir']}/spool/tern", "tern", "terndrop"]


def test_systemd_unit(installed):
    dest, dirs = installed
    with open(f"{dest}{dirs['systemdsystemunitdir']}/tern.service") as f:
        text = f.read()
    lines = set(text.splitlines())
    assert "Type=notify" in lines
    assert f"ExecStart={dirs['sbindir']}/tern start-fg" in lines
    assert f"ExecReload={dirs['sbindir']}/tern reload" in lines
    assert "KillMode=mixed" in lines
    assert "After=network-online.target nss-lookup.target" in lines
    conflicts = next(l for l in lines if l.startswith("Conflicts="))
    assert {"postfix.service", "exim4.service", "sendmail.service"} <= set(conflicts[10:].split())
    assert "WantedBy=multi-user.target" in lines
    assert not re.search(r"@\w+@", text), "a placeholder was left"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze (Debian package systemd) is not installed")
def test_systemd_unit_verifies(installed, tmp_path):
    dest, dirs = installed
    # systemd-analyze checks that the programs exist: point them into the DESTDIR tree
    with open(f"{dest}{dirs['systemdsystemunitdir']}/tern.service") as f:
        text = f.read().replace(f"{dirs['sbindir']}/", f"{dest}{dirs['sbindir']}/")
    unit = tmp_path / "tern.service"
    unit.write_text(text)
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_make_install_keeps_an_edited_configuration(fresh_install):
    dest, dirs = fresh_install
    conf = f"{dest}{dirs['terndir']}/tern.conf"
    with open(conf, "a") as f:
        f.write("myhostname = mail.test.example\n")
    r = make_install(dest)
    assert f"keeping {conf}" in r.stdout
    with open(conf) as f:
        assert f.read().endswith("myhostname = mail.test.example\n")
    # uninstall takes everything away but the configuration that was changed
    r = make("uninstall", f"DESTDIR={dest}")
    assert r.returncode == 0, r.stderr
    assert tree(dest) == {conf}


# ---- tern setup ----

def run_setup(dest, dirs, *args):
    return subprocess.run([f"{dest}{dirs['sbindir']}/tern", "setup", "--root", dest, *args],
                          capture_output=True, text=True, timeout=120)


def assert_dir(path, owner, group, mode):
    st = os.lstat(path)
    assert stat.S_ISDIR(st.st_mode), path
    assert (pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name,
            stat.S_IMODE(st.st_mode)) == (owner, group, mode), path


@needs_root
def test_setup_makes_the_tree_ready_and_a_second_run_changes_nothing(fresh_install):
    dest, dirs = fresh_install
    r = run_setup(dest, dirs)
    assert r.returncode == 0, r.stderr
    terndrop = grp.getgrnam("terndrop").gr_gid
    for path in (f"{dest}{dirs['pkglibexecdir']}/terndrop", f"{dest}{dirs['sbindir']}/ternqueue"):
        st = os.stat(path)
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, terndrop, 0o2755), path
        assert f"{path}: owner root, group terndrop, mode 2755" in r.stderr
    queue = f"{dest}{dirs['localstatedir']}/spool/tern"
    assert f"created the queue directory {queue}" in r.stderr
    assert_dir(queue, "root", "root", 0o755)
    assert_dir(f"{queue}/maildrop", "tern", "terndrop", 0o1730)
    assert_dir(f"{queue}/public", "tern", "terndrop", 0o710)
    assert_dir(f"{queue}/incoming", "tern", grp.getgrgid(pwd.getpwnam("tern").pw_gid).gr_name,
               0o700)
    with open(f"{dest}/etc/aliases") as f:
        assert re.search(r"^postmaster: root$", f.read(), re.M)
    assert os.path.isfile(f"{dest}/etc/aliases.db")
    tls = f"{dest}{dirs['sysconfdir']}/tern/tls"
    assert stat.S_IMODE(os.stat(f"{tls}/key.pem").st_mode) == 0o600
    assert "BEGIN CERTIFICATE" in open(f"{tls}/cert.pem").read()
    assert stat.S_IMODE(os.stat(f"{dest}{dirs['sysconfdir']}/tern/sasl_users").st_mode) == 0o600
    assert f"configuration {dest}{dirs['terndir']} is OK" in r.stderr
    # without --links it only says that sendmail is not tern's, and touches nothing in /usr
    assert "tern setup --links" in r.stderr
    assert not os.path.lexists(f"{dest}/usr/sbin/sendmail")

    before = snapshot(dest)
    r = run_setup(dest, dirs)
    assert r.returncode == 0, r.stderr
    assert "nothing to change" in r.stderr
    assert snapshot(dest) == before

    # what went wrong is put right, and only that
    terndrop_path = f"{dest}{dirs['pkglibexecdir']}/terndrop"
    os.chmod(terndrop_path, 0o755)
    r = run_setup(dest, dirs)
    assert r.returncode == 0, r.stderr
    assert "made 1 change" in r.stderr
    assert stat.S_IMODE(os.stat(terndrop_path).st_mode) == 0o2755


@needs_root
def test_setup_refuses_a_tree_an_ordinary_user_controls(fresh_install):
    """Root makes programs set-gid and acts on the configuration: a tree someone else may
    change is refused before anything is changed."""
    dest, dirs = fresh_install
    confdir = f"{dest}{dirs['sysconfdir']}/tern"
    nobody = pwd.getpwnam("nobody")
    os.chown(confdir, nobody.pw_uid, nobody.pw_gid)
    before = snapshot(dest)
    r = run_setup(dest, dirs)
    assert r.returncode == 77, r.stderr
    assert "nothing changed: root sets up only what root alone controls" in r.stderr
    assert snapshot(dest) == before
    os.chown(confdir, 0, 0)
    # a program root did not install is not made set-gid
    terndrop = f"{dest}{dirs['pkglibexecdir']}/terndrop"
    os.chown(terndrop, nobody.pw_uid, nobody.pw_gid)
    r = run_setup(dest, dirs)
    assert r.returncode == 77 and "not made set-gid" in r.stderr, r.stderr
    assert stat.S_IMODE(os.stat(terndrop).st_mode) & 0o6000 == 0


@needs_root
def test_setup_links(fresh_install):
    dest, dirs = fresh_install
    sendmail = f"{dirs['sbindir']}/sendmail"
    # another mail system's files: a regular file and a link elsewhere
    os.makedirs(f"{dest}/usr/lib")
    os.makedirs(f"{dest}/usr/bin")
    with open(f"{dest}/usr/lib/sendmail", "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.symlink("/usr/sbin/sendmail.postfix", f"{dest}/usr/bin/mailq")

    r = run_setup(dest, dirs, "--links")
    assert r.returncode == 73, r.stderr
    assert f"{dest}/usr/lib/sendmail is a file that is not tern's sendmail" in r.stderr
    with open(f"{dest}/usr/lib/sendmail") as f:
        assert f.read() == "#!/bin/sh\nexit 0\n"
    assert f"linked {dest}/usr/bin/mailq -> {sendmail} (it pointed at /usr/sbin/sendmail.postfix)" \
        in r.stderr
    for name in ("/usr/sbin/sendmail", "/usr/bin/mailq", "/usr/bin/newaliases"):
        assert os.readlink(dest + name) == sendmail, name

    r = run_setup(dest, dirs, "--links", "--force")
    assert r.returncode == 0, r.stderr
    assert f"replaced the file {dest}/usr/lib/sendmail" in r.stderr
    assert os.readlink(f"{dest}/usr/lib/sendmail") == sendmail

    before = snapshot(dest)
    r = run_setup(dest, dirs, "--links")
    assert r.returncode == 0, r.stderr
    assert "nothing to change" in r.stderr
    assert snapshot(dest) == before


def test_setup_usage_errors(installed):
    dest, dirs = installed
    tern = f"{dest}{dirs['sbindir']}/tern"
    for args in (["--force"], ["--root", "relative/dir"], ["--bogus"]):
        r = subprocess.run([tern, "setup", *args], capture_output=True, text=True, timeout=30)
        assert r.returncode == 64, (args, r.stderr)


# ---- systemd's notifications (sd_notify) ----

class NotifySocket:
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET."""

    def __init__(self, path=None, abstract=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            self.sock.bind("\0" + abstract)
            self.env = "@" + abstract
        else:
            self.sock.bind(path)
            self.env = path
        self.sock.settimeout(30)

    def next(self):
        """The next message as a dict of its assignments."""
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.split("\n") if "=" in line)

    def pending(self):
        self.sock.settimeout(0.2)
        try:
            return self.next()
        except (socket.timeout, BlockingIOError):
            return None
        finally:
            self.sock.settimeout(30)

    def close(self):
        self.sock.close()


def start_fg(instance, notify):
    env = dict(os.environ, NOTIFY_SOCKET=notify.env)
    return subprocess.Popen([TERN, "-c", instance.dir, "start-fg"], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stop(proc):
    if proc.poll() is None:
        proc.kill()
        proc.wait(30)


def test_master_tells_systemd_ready_reloading_stopping(instance, tmp_path):
    notify = NotifySocket(path=str(tmp_path / "notify"))
    proc = start_fg(instance, notify)
    try:
        msg = notify.next()
        assert msg.get("READY") == "1", msg
        # ready means every service listens: the test service answers at once
        assert instance.testd_line()["service"] == f"127.0.0.1:{instance.testd_port}"
        # tern start-fg became the master: it is the unit's main process
        assert instance.master_pid() == proc.pid
        assert "NOTIFY_SOCKET" not in open(f"/proc/{instance.children()[0]}/environ").read()

        assert instance.tern("reload").returncode == 0
        msg = notify.next()
        assert msg.get("RELOADING") == "1", msg
        assert re.fullmatch(r"\d+", msg.get("MONOTONIC_USEC", "")), msg
        msg = notify.next()
        assert msg.get("READY") == "1", msg
        assert instance.testd_line()

        r = instance.tern("stop")
        assert r.returncode == 0, r.stderr
        msg = notify.next()
        assert msg.get("STOPPING") == "1", msg
        assert proc.wait(30) == 0
    finally:
        stop(proc)
        notify.close()


def test_master_notifies_an_abstract_socket(instance):
    notify = NotifySocket(abstract=f"tern-test-notify-{os.getpid()}")
    proc = start_fg(instance, notify)
    try:
        assert notify.next().get("READY") == "1"
        assert instance.testd_line()
        assert instance.tern("stop").returncode == 0
        assert notify.next().get("STOPPING") == "1"
        assert proc.wait(30) == 0
    finally:
        stop(proc)
        notify.close()


def test_under_systemd_a_service_that_cannot_start_fails_the_start(instance, tmp_path):
    instance.add_service(f"127.0.0.1:{instance.testd2_port} inet n - n - 1 /bin/false")
    notify = NotifySocket(path=str(tmp_path / "notify"))
    proc = start_fg(instance, notify)
    try:
        assert proc.wait(120) == 69
        msgs = []
        while (msg := notify.pending()) is not None:
            msgs.append(msg)
        assert not [m for m in msgs if m.get("READY") == "1"], msgs
        assert instance.log_lines(r"start-up failed: service 127\.0\.0\.1:\d+: ")
    finally:
        stop(proc)
        notify.close()


# ---- logrotate ----

@pytest.mark.skipif(shutil.which("logrotate") is None,
                    reason="logrotate (Debian package logrotate) is not installed")
def test_logrotate_rotates_the_log_and_the_master_reopens_it(installed, instance, tmp_path):
    dest, dirs = installed
    with open(f"{dest}{dirs['logrotatedir']}/tern") as f:
        text = f.read()
    # the installed file, aimed at the test instance's log and tern command
    log_path = f"{dirs['localstatedir']}/log/tern.log"
    assert f"\n{log_path} {{\n" in text
    assert f"{dirs['sbindir']}/tern reload" in text
    text = text.replace(log_path, instance.log_path).replace(
        f"{dirs['sbindir']}/tern", f"{TERN} -c {instance.dir}")
    conf = tmp_path / "logrotate.conf"
    conf.write_text(text)
    os.chmod(conf, 0o644)
    instance.start()
    r = subprocess.run(["logrotate", "--force", "--state", str(tmp_path / "state"), str(conf)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    with open(instance.log_path + ".1") as f:
        assert "daemon started" in f.read()
    st = os.stat(instance.log_path)
    assert stat.S_IMODE(st.st_mode) == 0o640
    # the master reloaded and writes to the new file, and so do the new daemons (an old one may
    # still take a client that was waiting, and write that to the old file)
    wait_for(lambda: instance.log_lines(r"tern/master\[\d+\]: reload"), what="the reload's line")
    wait_for(lambda: instance.testd_line() and
             instance.log_lines(r"tern/testd\[\d+\]: accepted a client"),
             what="a daemon's line in the new log")


# ---- man pages ----

@pytest.mark.skipif(shutil.which("man") is None,
                    reason="man (Debian package man-db) is not installed")
@pytest.mark.parametrize("page", MAN_PAGES, ids=os.path.basename)
def test_man_page_renders_without_warnings(page):
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", page], capture_output=True,
                       text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    name = os.path.basename(page).rsplit(".", 1)[0]
    assert re.search(r"^NAME\n\s+" + re.escape(name) + r"[ ,]", r.stdout, re.M), r.stdout[:300]


def test_references_to_tern_pages_name_their_section():
    """tern(8), not tern(1): every NAME(N) that names one of docs/ must have its section."""
    sections = {}
    for page in MAN_PAGES:
        name, section = os.path.basename(page).rsplit(".", 1)
        sections[name] = section
    bad = []
    for path in MAN_PAGES + [os.path.join(SRCDIR, "README.md"), os.path.join(SRCDIR, "HACKING.md"),
                             os.path.join(SRCDIR, "docs", "ARCHITECTURE.md")]:
        with open(path) as f:
            text = f.read()
        refs = re.findall(r"^\.BR ([a-z][\w.-]*) \((\d)\)", text, re.M)
        if path.endswith(".md"):
            refs += re.findall(r"(?<![\w./-])([a-z][\w.-]*)\((\d)\)", text)
        bad += [f"{os.path.basename(path)}: {n}({s})" for n, s in refs
                if n in sections and sections[n] != s]
    assert bad == []

"""`ternmap` (postmap and postalias in one) and `ternconf -M`/`-x` as an admin uses them: building,
querying and listing tables, the exit codes, an atomic rebuild, and a table built by ternmap
serving a running instance."""
import os
import smtplib
import subprocess
import threading
import time

from conftest import BUILDDIR, wait_for

TERNMAP = os.path.join(BUILDDIR, "bin", "ternmap")
TIMEOUT = 30


def ternmap(*args, stdin=None, conf_dir=None):
    """Runs ternmap without a configuration unless conf_dir is given: TERN_CONFIG is unset so
    that the build-time default (not there in a build tree) decides."""
    env = {k: v for k, v in os.environ.items() if k != "TERN_CONFIG"}
    cmd = [TERNMAP] + (["-c", conf_dir] if conf_dir else []) + list(args)
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120,
                          env=env)


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def build_ok(*args, **kw):
    r = ternmap(*args, **kw)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    return r


# ---- building, querying, listing ----

def test_build_query_and_dump_fold_keys(tmp_path):
    src = str(tmp_path / "virtual")
    write(src, "# virtual aliases\n"
               "Info@Example.COM   alice@example.org\n"
               "\n"
               "list@example.com   a@example.org,\n"
               "    b@example.org\n"
               "@example.net       catchall@example.org\n")
    r = build_ok(src)   # a bare name is hash:
    assert r.stderr == ""
    assert os.path.exists(src + ".db")
    assert not [f for f in os.listdir(tmp_path) if ".tmp." in f]

    for key in ("info@example.com", "INFO@example.com", "Info@Example.COM"):
        r = ternmap("-q", key, "hash:" + src)
        assert (r.returncode, r.stdout) == (0, "alice@example.org\n"), r.stderr
    r = ternmap("-q", "list@example.com", src)
    assert r.stdout == "a@example.org, b@example.org\n"

    r = ternmap("-q", "nobody@example.com", src)
    assert (r.returncode, r.stdout) == (1, "")

    r = ternmap("-s", "hash:" + src)
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == sorted([
        "info@example.com\talice@example.org",
        "list@example.com\ta@example.org, b@example.org",
        "@example.net\tcatchall@example.org"])


def test_btree_lists_sorted_and_texthash_is_read_not_built(tmp_path):
    src = str(tmp_path / "transport")
    write(src, "zulu.example smtp:[127.0.0.1]:2526\nAlpha.example lmtp:unix:private/x\n"
               "mike.example error:5.1.2 no such domain\n")
    build_ok("btree:" + src)
    r = ternmap("-s", "btree:" + src)
    assert r.stdout == ("alpha.example\tlmtp:unix:private/x\n"
                        "mike.example\terror:5.1.2 no such domain\n"
                        "zulu.example\tsmtp:[127.0.0.1]:2526\n"), r.stderr
    # a btree file is not a hash file
    r = ternmap("-q", "alpha.example", "hash:" + src)
    assert r.returncode == 66 and "cannot open" in r.stderr, r.stderr

    r = ternmap("-q", "ALPHA.example", "texthash:" + src)
    assert (r.returncode, r.stdout) == (0, "lmtp:unix:private/x\n"), r.stderr
    r = ternmap("-s", "texthash:" + src)
    assert sorted(r.stdout.splitlines()) == sorted(
        ternmap("-s", "btree:" + src).stdout.splitlines())

    r = ternmap("texthash:" + src)
    assert r.returncode == 64 and "nothing to build" in r.stderr, r.stderr


def test_query_keys_from_stdin_and_several_tables(tmp_path):
    first, second = str(tmp_path / "first"), str(tmp_path / "second")
    write(first, "a 1\nb 2\n")
    write(second, "b other\nc 3\n")
    build_ok(first, second)
    r = ternmap("-q", "-", first, second, stdin="A\n\n  b  \nnone\nc\n")
    assert r.returncode == 0, r.stderr
    # the key as it was read (trimmed); the first table that has it answers
    assert r.stdout == "A\t1\nb\t2\nc\t3\n"
    r = ternmap("-q", "-", first, stdin="x\ny\n")
    assert (r.returncode, r.stdout) == (1, "")
    r = ternmap("-q", "c", first, second)
    assert (r.returncode, r.stdout) == (0, "3\n")
    # a key longer than any table can hold: skipped with a warning
    r = ternmap("-q", "-", first, stdin="k" * 70000 + "\na\n")
    assert (r.returncode, r.stdout) == (0, "a\t1\n")
    assert "standard input:1: key longer than" in r.stderr


def test_aliases_format(tmp_path):
    src = str(tmp_path / "aliases")
    write(src, "# aliases\n"
               "Postmaster: root\n"
               "\"Mr Smith\": smith\n"
               "staff : ann,\n"
               "\tbob, \"|/usr/bin/logger -t x\"\n")
    build_ok("-a", src)
    r = ternmap("-q", "POSTMASTER", src)
    assert (r.returncode, r.stdout) == (0, "root\n")
    r = ternmap("-q", "mr smith", src)
    assert r.stdout == "smith\n"
    r = ternmap("-a", "-s", src)
    assert r.returncode == 0, r.stderr
    lines = sorted(r.stdout.splitlines())
    # the "@" marker of alias databases is not listed; names that need it are quoted
    assert lines == sorted(['postmaster:\troot', '"mr smith":\tsmith',
                            'staff:\tann, bob, "|/usr/bin/logger -t x"'])
    # postalias -q - style output with -a
    r = ternmap("-a", "-q", "-", src, stdin="staff\n")
    assert r.stdout == 'staff:\tann, bob, "|/usr/bin/logger -t x"\n'

    # the listing is a source ternmap builds the same table from
    again = str(tmp_path / "again")
    write(again, ternmap("-a", "-s", src).stdout)
    build_ok("-a", again)
    assert sorted(ternmap("-a", "-s", again).stdout.splitlines()) == lines

    # without -a the same file is a map whose keys end in ':'
    build_ok(src)
    assert ternmap("-q", "postmaster:", src).stdout == "root\n"


def test_duplicate_key_warns_and_first_wins(tmp_path):
    src = str(tmp_path / "map")
    write(src, "key first\nother x\nKEY second\n")
    r = ternmap(src)
    assert r.returncode == 0 and r.stdout == ""
    assert f'{src}:3: duplicate entry "key" ignored' in r.stderr
    assert ternmap("-q", "key", src).stdout == "first\n"


# ---- errors and exit codes ----

def test_bad_line_exits_65_and_keeps_the_old_table(tmp_path):
    src = str(tmp_path / "map")
    write(src, "key old\n")
    build_ok(src)
    db_before = os.stat(src + ".db")
    write(src, "key new\n# fine\n\nlonely\nafter x\n")
    r = ternmap(src)
    assert r.returncode == 65
    assert f'{src}:4: key "lonely" has no value' in r.stderr
    assert r.stderr.startswith("ternmap: ")
    assert ternmap("-q", "key", src).stdout == "old\n"
    assert os.stat(src + ".db").st_ino == db_before.st_ino
    assert not [f for f in os.listdir(tmp_path) if ".tmp." in f]

    write(src, "  indented first\n")
    r = ternmap(src)
    assert r.returncode == 65 and f"{src}:1: continuation line" in r.stderr

    alias = str(tmp_path / "aliases")
    write(alias, "root: admin\nno colon here\n")
    r = ternmap("-a", alias)
    assert r.returncode == 65 and f'{alias}:2: missing ":" after name "no"' in r.stderr


def test_missing_and_symlinked_sources_exit_66(tmp_path):
    missing = str(tmp_path / "missing")
    r = ternmap(missing)
    assert r.returncode == 66
    assert f"cannot read {missing}: No such file or directory" in r.stderr

    real = str(tmp_path / "real")
    write(real, "k v\n")
    link = str(tmp_path / "link")
    os.symlink(real, link)
    r = ternmap("-a", link)
    assert r.returncode == 66
    assert f"cannot read {link}: it is a symbolic link" in r.stderr
    assert not os.path.exists(link + ".db")

    # -q and -s of a table that was never built
    r = ternmap("-q", "k", real)
    assert r.returncode == 66 and f"{real}.db" in r.stderr
    r = ternmap("-s", "btree:" + real)
    assert r.returncode == 66


def test_cannot_create_exits_73(tmp_path):
    src = str(tmp_path / "map")
    write(src, "k v\n")
    os.makedirs(src + ".db/in-the-way")   # a directory where the table goes
    r = ternmap(src)
    assert r.returncode == 73, r.stderr
    assert "cannot rename" in r.stderr
    assert not [f for f in os.listdir(tmp_path) if ".tmp." in f]


def test_usage_types_and_config_errors(tmp_path):
    src = str(tmp_path / "map")
    write(src, "k v\n")
    for args in ([], ["-q"], ["-q", "k", "-s", src], ["-x", src], ["-s"]):
        r = ternmap(*args)
        assert r.returncode == 64, (args, r.stderr)
        assert "usage: ternmap" in r.stderr
    for spec in ("static:x", "inline:{a=b}", "unix:passwd.byname", "cdb:" + src):
        for args in ([spec], ["-q", "a", spec], ["-s", spec]):
            r = ternmap(*args)
            assert r.returncode == 64, (args, r.stderr)
            assert "unsupported table type" in r.stderr
    r = ternmap(src, conf_dir=str(tmp_path / "nowhere"))
    assert r.returncode == 78 and "tern.conf" in r.stderr
    assert not os.path.exists(src + ".db")
    # TERN_CONFIG names a configuration just as -c does
    env = dict(os.environ, TERN_CONFIG=str(tmp_path / "nowhere"))
    r = subprocess.run([TERNMAP, src], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 78


def test_new_table_readable_only_as_the_source(tmp_path):
    src = str(tmp_path / "secret")
    write(src, "login hash\n", mode=0o640)
    build_ok(src)
    assert os.stat(src + ".db").st_mode & 0o7777 == 0o640
    os.chmod(src, 0o600)
    build_ok(src)
    assert os.stat(src + ".db").st_mode & 0o7777 == 0o600


def test_rebuild_is_atomic(tmp_path):
    """The table's name always leads to a whole table: the old one stays untouched until the
    new one is renamed over it, and readers see the old or the new value, never neither."""
    src = str(tmp_path / "big")
    n = 150000
    write(src, "".join(f"key{i} old{i}\n" for i in range(n)))
    build_ok(src)
    db = src + ".db"
    old_fd = os.open(db, os.O_RDONLY)
    try:
        old_stat = os.fstat(old_fd)
        old_bytes = os.pread(old_fd, old_stat.st_size, 0)
        write(src, "".join(f"key{i} new{i}\n" for i in range(n)))

        problems, answers, stop = [], [], threading.Event()

        def watch():
            deadline = time.monotonic() + 120
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    st = os.stat(db)
                except FileNotFoundError:
                    problems.append("the table's name led nowhere")
                    continue
                if st.st_ino == old_stat.st_ino and st.st_size != old_stat.st_size:
                    problems.append("the old table changed size")

        def query():
            deadline = time.monotonic() + 120
            while not stop.is_set() and time.monotonic() < deadline:
                r = ternmap("-q", f"key{n - 1}", src)
                answers.append((r.returncode, r.stdout))

        threads = [threading.Thread(target=watch), threading.Thread(target=query)]
        for t in threads:
            t.start()
        try:
            r = ternmap(src)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=130)
        assert r.returncode == 0, r.stderr
        assert not problems, problems[:5]
        assert all(a in ((0, f"old{n - 1}\n"), (0, f"new{n - 1}\n")) for a in answers), \
            [a for a in answers if a[1] not in (f"old{n - 1}\n", f"new{n - 1}\n")][:5]

        # the old file was replaced, not rewritten: its bytes are what they were
        assert os.stat(db).st_ino != old_stat.st_ino
        assert os.fstat(old_fd).st_size == old_stat.st_size
        assert os.pread(old_fd, old_stat.st_size, 0) == old_bytes
        assert ternmap("-q", "key7", src).stdout == "new7\n"
        assert not [f for f in os.listdir(tmp_path) if ".tmp." in f]
    finally:
        os.close(old_fd)


# ---- a table built by ternmap serves a running instance ----

def rcpt_reply(instance, address):
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, timeout=TIMEOUT) as s:
        s.ehlo("client.example")
        s.mail("sender@client.example")
        code, text = s.rcpt(address)
        s.rset()
    return code, text.decode()


def test_alias_built_by_ternmap_is_a_known_recipient_after_reload(instance):
    """alias_maps feeds smtpd's local_recipient_maps (its default): a name that exists only as
    an alias is accepted at RCPT once `ternmap -a` built it and `tern reload` applied it."""
    instance.drop_services(["pickup", "showq"])   # not what this test is about
    instance.start()
    address = "helpdesk@mx.test.example"
    code, text = rcpt_reply(instance, address)
    assert code == 550 and "User unknown" in text, (code, text)

    aliases = os.path.join(instance.dir, "aliases")
    with open(aliases, "a") as f:
        f.write("HelpDesk: postmaster\n")
    r = ternmap("-a", "-c", instance.dir, aliases)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stderr
    assert ternmap("-q", "helpdesk", aliases).stdout == "postmaster\n"
    assert instance.tern("reload").returncode == 0
    wait_for(lambda: rcpt_reply(instance, address)[0] == 250, timeout=20,
             what="smtpd to accept the new alias after the reload")
    assert rcpt_reply(instance, "HELPDESK@mx.test.example")[0] == 250
    assert rcpt_reply(instance, "nohelp@mx.test.example")[0] == 550


# ---- ternconf -M and -x ----

def master_entries(path):
    """The service names of master.conf's entries, in order."""
    with open(path) as f:
        return [line.split()[0] for line in f
                if line.strip() and not line.startswith(("#", " ", "\t"))]


def test_ternconf_M_prints_every_entry_one_per_line(instance):
    instance.add_service("127.0.0.1:2599 inet n - n 0? 3 smtpd\n"
                         "  -o myhostname=sub.$mydomain\n"
                         "  -o syslog_name=${syslog_name}/extra")
    instance.add_service("averyveryverylongname unix y n y 60 - pipe flags=R "
                         "argv=/bin/x ${recipient}")
    instance.add_service("a-name-of-23-characters unix - n - - 2 pipe")
    r = instance.ternconf("-M")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [line.split()[0] for line in lines] == \
        master_entries(os.path.join(instance.dir, "master.conf"))
    # postconf -M's columns (0, 11, 17, 25, 33, 41, 49, 57); `-` shown as the y/n it means
    assert "qmgr       unix  n       y       n       300     1       qmgr" in lines
    assert ("127.0.0.1:2599 inet n    y       n       0?      3       smtpd "
            "-o myhostname=sub.$mydomain -o syslog_name=${syslog_name}/extra") in lines
    # a field past its column is followed by one space, the next one goes back in line
    assert ("averyveryverylongname unix y n   y       60      -       pipe flags=R "
            "argv=/bin/x ${recipient}") in lines
    assert "a-name-of-23-characters unix y n n       -       2       pipe" in lines


def test_ternconf_M_selects_by_name_and_type_and_expands_with_x(instance):
    instance.conf("mydomain = example.org\n")
    instance.add_service("relay inet n - n - - smtpd\n"
                         "  -o myhostname=sub.$mydomain -o syslog_name=${syslog_name}/extra")
    instance.add_service("relay unix - - n - - smtp")
    r = instance.ternconf("-M", "relay")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("relay      inet  n       y       n       -       -       smtpd "
                        "-o myhostname=sub.$mydomain -o syslog_name=${syslog_name}/extra\n"
                        "relay      unix  y       y       n       -       -       smtp\n")

    r = instance.ternconf("-Mx", "relay/inet")
    assert r.stdout == ("relay      inet  n       y       n       -       -       smtpd "
                        "-o myhostname=sub.example.org -o syslog_name=tern/extra\n"), r.stderr
    r = instance.ternconf("-M", "relay/unix", "qmgr/unix", "relay")
    # file order, each entry once
    assert [line.split()[:2] for line in r.stdout.splitlines()] == \
        [["qmgr", "unix"], ["relay", "inet"], ["relay", "unix"]]

    # no match: a warning, nothing printed, status 0 (as postconf -M)
    for request in ("nosuch", "qmgr/inet", "qmgr/bogus"):
        r = instance.ternconf("-M", request)
        assert (r.returncode, r.stdout) == (0, ""), request
        assert f'unmatched request: "{request}"' in r.stderr


def test_ternconf_M_errors(instance):
    for args in (("-M", "-n"), ("-M", "-d"), ("-M", "-h"), ("-M", "-e", "a=b")):
        r = instance.ternconf(*args)
        assert r.returncode == 64, args
    instance.add_service("broken unix n - n soon - smtpd")
    r = instance.ternconf("-M")
    assert r.returncode == 78
    assert "master.conf" in r.stderr and 'bad wakeup column "soon"' in r.stderr


def test_ternconf_x_expands_recursively_with_a_bound(instance):
    instance.conf("mydomain = example.org\n"
                  "myorigin = mail.${mydomain}\n"
                  "relay_domains = $myorigin, ${nosuchname}x, ${mydomain?set}, "
                  "${nosuchname:unset}, $$literal\n")
    r = instance.ternconf("relay_domains")
    assert r.stdout == ("relay_domains = $myorigin, ${nosuchname}x, ${mydomain?set}, "
                        "${nosuchname:unset}, $$literal\n")
    r = instance.ternconf("-x", "relay_domains")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "relay_domains = mail.example.org, x, set, unset, $literal\n"
    assert instance.ternconf("-xh", "myorigin").stdout == "mail.example.org\n"

    # a loop is caught when tern.conf loads, not followed for ever
    instance.conf("mydomain = $myorigin\n")
    r = instance.ternconf("-x", "myorigin")
    assert r.returncode == 78
    assert "levels of $name expansion" in r.stderr

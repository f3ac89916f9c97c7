"""`tern init`, `tern check`, `tern flush` and `ternconf` as an admin uses them."""
import os
import stat
import subprocess

from conftest import IS_ROOT, TERN, TERNCONF, free_port, tern_ids


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


def test_init_creates_a_complete_instance(tmp_path):
    d = tmp_path / "inst"
    port = free_port()
    r = run(TERN, "init", str(d), "--smtp-port", str(port), "--hostname", "mx.example.org")
    assert r.returncode == 0, r.stderr
    for name in ("tern.conf", "master.conf", "aliases", "aliases.db", "log/mail.log"):
        assert (d / name).is_file(), name
    assert (d / "mail").is_dir()
    conf = (d / "tern.conf").read_text()
    assert "myhostname = mx.example.org" in conf
    assert f"queue_directory = {d}/spool" in conf
    assert f"maillog_file = {d}/log/mail.log" in conf
    master_conf = (d / "master.conf").read_text()
    assert f"127.0.0.1:{port}" in master_conf
    assert "127.0.0.1:2587" in master_conf and "127.0.0.1:2465" in master_conf
    uid, gid = tern_ids()
    incoming = os.stat(d / "spool" / "incoming")
    assert incoming.st_uid == uid and stat.S_IMODE(incoming.st_mode) == 0o700
    maildrop = os.stat(d / "spool" / "maildrop")
    assert stat.S_IMODE(maildrop.st_mode) == 0o1730
    if IS_ROOT:
        assert "mail_owner = tern" in conf and "setgid_group = terndrop" in conf
    # the instance is consistent as written
    r = run(TERN, "-c", str(d), "check")
    assert r.returncode == 0, r.stderr
    # the daemon directory is this build tree's
    r = run(TERNCONF, "-c", str(d), "-h", "daemon_directory")
    assert r.returncode == 0
    assert os.path.isfile(os.path.join(r.stdout.strip(), "master"))


def test_init_refuses_existing_instance_and_bad_options(tmp_path):
    d = tmp_path / "inst"
    assert run(TERN, "init", str(d)).returncode == 0
    r = run(TERN, "init", str(d))
    assert r.returncode == 73
    assert "already holds a tern instance" in r.stderr
    assert run(TERN, "init", str(tmp_path / "x"), "--smtp-port", "99999").returncode == 64
    assert run(TERN, "init", str(tmp_path / "y"), "--hostname", "bad name").returncode == 64
    assert run(TERN, "init").returncode == 64


def test_check_reports_problems(instance):
    assert instance.tern("check").returncode == 0
    # a missing table and a program that does not exist
    instance.conf(f"alias_maps = hash:{instance.dir}/no-such-table\n")
    instance.add_service("ghost unix n - n - 1 no-such-daemon")
    r = instance.tern("check")
    assert r.returncode == 78
    assert "no-such-table" in r.stderr
    assert "no-such-daemon" in r.stderr


def test_check_warns_about_stale_table(instance):
    aliases = os.path.join(instance.dir, "aliases")
    st = os.stat(aliases + ".db")
    os.utime(aliases, (st.st_mtime + 10, st.st_mtime + 10))
    r = instance.tern("check")
    assert r.returncode == 0
    assert "is older than its source" in r.stderr


def test_flush_with_and_without_queue_manager(instance):
    instance.start()
    r = instance.tern("flush")
    assert r.returncode == 0, r.stderr
    assert instance.log_lines(r"qmgr\[\d+\]: flush: every deferred message is retried now")
    instance.tern("stop")
    instance.drop_services(["qmgr"])
    instance.start()
    r = instance.tern("flush")
    assert r.returncode == 69
    assert "queue manager does not answer" in r.stderr


def test_commands_use_tern_config_environment(instance):
    env = dict(os.environ, TERN_CONFIG=instance.dir)
    r = subprocess.run([TERNCONF, "-h", "myhostname"], capture_output=True, text=True, env=env,
                       timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "mx.test.example"
    r = subprocess.run([TERN, "status"], capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 69 and "not running" in r.stderr


def test_ternconf_edit_show_and_remove(instance):
    r = instance.ternconf("-n")
    assert r.returncode == 0
    assert "myhostname = mx.test.example" in r.stdout
    assert "message_size_limit" not in r.stdout
    r = instance.ternconf("-d", "message_size_limit")
    assert r.stdout.strip() == "message_size_limit = 10240000"
    assert instance.ternconf("-e", "message_size_limit = 20m").returncode == 0
    assert instance.ternconf("-h", "message_size_limit").stdout.strip() == "20m"
    # like postconf, values are shown as written, unexpanded
    r = instance.ternconf("myorigin")
    assert r.stdout.strip() == "myorigin = $myhostname"
    # a value of the wrong type is refused and the file is unchanged
    before = open(os.path.join(instance.dir, "tern.conf")).read()
    r = instance.ternconf("-e", "service_throttle_time = soon")
    assert r.returncode == 78
    assert open(os.path.join(instance.dir, "tern.conf")).read() == before
    assert instance.ternconf("-X", "message_size_limit").returncode == 0
    assert "message_size_limit" not in instance.ternconf("-n").stdout
    # the running configuration check still passes
    assert instance.tern("check").returncode == 0

"""The master and the `tern` command as an admin sees them: start, privileges, restarts,
throttling, reload, stop, pid-file lock, configuration errors, wake-ups."""
import os
import re
import signal
import socket
import subprocess
import time
from datetime import datetime

import pytest

from conftest import (IS_ROOT, MASTER, alive, cmdline, processes_of, proc_status,
                      tern_ids, wait_for)


def test_listener_answers(instance):
    r = instance.start()
    assert "started the tern mail system" in r.stderr
    info = instance.testd_line()
    assert info["service"] == f"127.0.0.1:{instance.testd_port}"
    assert info["myhostname"] == "mx.test.example"
    assert instance.log_lines(r"tern/master\[\d+\]: daemon started")
    assert instance.log_lines(r"tern/testd\[\d+\]: accepted a client on service 127\.0\.0\.1:")


def test_master_root_children_unprivileged(instance):
    # a chrooted service too: chroot column y
    port = instance.testd2_port
    instance.add_service(f"127.0.0.1:{port} inet n - y - 1 {instance_testd()}")
    instance.start()
    master = instance.master_pid()
    uid, gid = tern_ids()
    if IS_ROOT:
        assert proc_status(master)["uid"] == [0, 0, 0, 0]
    else:
        assert instance.log_lines(r"privilege separation is off")
    children = wait_for(lambda: len(instance.children()) >= 2 and instance.children(),
                        what="two service processes")
    for pid in children:
        st = proc_status(pid)
        program = cmdline(pid).split(" ")[0]
        if os.path.basename(program) in ("local", "virtual"):
            # master.conf unpriv n: their root core only forks a child per delivery that
            # becomes the recipient (test_delivery.py checks the uids that write)
            assert st["uid"][1] == (0 if IS_ROOT else uid), (pid, st)
            continue
        assert st["uid"] == [uid] * 4, (pid, st)
        assert st["gid"] == [gid] * 4, (pid, st)
    info = instance.testd_line(port)
    assert int(info["uid"]) == uid
    if IS_ROOT:
        pid = int(info["pid"])
        assert os.readlink(f"/proc/{pid}/root") == os.path.realpath(instance.spool)
        # no supplementary groups kept from root
        with open(f"/proc/{pid}/status") as f:
            groups = [line for line in f if line.startswith("Groups:")][0].split()[1:]
        assert groups in ([], [str(gid)])


def instance_testd():
    from conftest import TESTD
    return TESTD


def test_killed_child_is_restarted(instance):
    instance.start()
    first = int(instance.testd_line()["pid"])
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: not alive(first), what="the killed process to go")
    second = wait_for(lambda: int(instance.testd_line()["pid"]), what="a new process")
    assert second != first
    assert instance.log_lines(rf"warning: process \S+testd pid {first} killed by signal 9")
    assert not instance.log_lines("throttling")


def test_child_dying_at_start_is_throttled(instance):
    instance.conf("service_throttle_time = 3s\n")
    instance.start()
    # a service whose program fails before it is ready: added by reload
    instance.add_service("broken unix n - n - 1 /bin/false")
    assert instance.tern("reload").returncode == 0
    pattern = r"warning: /bin/false: bad command startup -- throttling"
    wait_for(lambda: len(instance.log_lines(pattern)) >= 2, timeout=20,
             what="two throttled start attempts")
    stamps = [datetime.fromisoformat(line.split()[0]) for line in instance.log_lines(pattern)]
    # the second attempt waited for service_throttle_time instead of looping
    assert (stamps[1] - stamps[0]).total_seconds() >= 2.5
    assert instance.log_lines(r"warning: process /bin/false pid \d+ exit status 1")
    # the other services are unaffected
    assert instance.testd_line()["service"].endswith(str(instance.testd_port))


def test_start_fails_when_a_service_cannot_start(instance):
    instance.add_service("broken unix n - n - 1 /bin/false")
    r = instance.tern("start")
    assert r.returncode != 0
    assert "bad command startup" in r.stderr
    assert "did not start" in r.stderr
    assert instance.master_pid() is None
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", instance.testd_port)) != 0


def test_reload_rereads_parameter_and_replaces_processes(instance):
    instance.start()
    before = instance.testd_line()
    assert before["myhostname"] == "mx.test.example"
    r = instance.ternconf("-e", "myhostname = reloaded.test.example")
    assert r.returncode == 0, r.stderr
    assert instance.tern("reload").returncode == 0
    after = wait_for(lambda: (lambda i: i["myhostname"] == "reloaded.test.example" and i)(
        instance.testd_line()), what="the new myhostname")
    assert after["pid"] != before["pid"]
    wait_for(lambda: not alive(int(before["pid"])), what="the old process to finish")
    assert instance.log_lines(r"tern/master\[\d+\]: reload -- version")


def test_reload_reopens_log_for_logrotate(instance):
    instance.start()
    wait_for(instance.children, what="service processes")
    before = instance.children()
    rotated = instance.log_path + ".1"
    os.rename(instance.log_path, rotated)
    assert instance.tern("reload").returncode == 0
    wait_for(lambda: os.path.exists(instance.log_path) and "reload" in instance.log(),
             what="a new mail.log")
    with open(rotated) as f:
        assert "daemon started" in f.read()
    # the processes the reload replaced finish on their own (in a sanitizer build their leak
    # check runs at exit), not under the test's final abort
    wait_for(lambda: not any(alive(pid) for pid in before), timeout=60,
             what="the processes from before the reload to end")


def test_broken_reload_keeps_running(instance):
    instance.start()
    instance.conf("this line is broken\n")
    r = instance.tern("reload")
    assert r.returncode == 78
    assert re.search(r"tern\.conf:\d+: ", r.stderr)
    assert instance.testd_line()["myhostname"] == "mx.test.example"


def test_stop_leaves_no_process(instance):
    instance.start()
    wait_for(instance.children, what="service processes")
    # a restart and a reload make processes of later generations too
    os.kill(instance.children()[0], signal.SIGKILL)
    assert instance.tern("reload").returncode == 0
    wait_for(lambda: len(instance.children()) >= 1, what="new processes")
    r = instance.tern("stop")
    assert r.returncode == 0, r.stderr
    assert processes_of(instance) == []
    assert instance.tern("status").returncode == 69
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", instance.testd_port)) != 0
    assert instance.log_lines(r"tern/master\[\d+\]: terminating on signal 15")


def test_stop_lets_a_client_finish(instance):
    instance.start()
    with socket.create_connection(("127.0.0.1", instance.testd_port), timeout=10) as s:
        assert s.recv(1024).startswith(b"testd ")
        master = instance.master_pid()
        os.kill(master, signal.SIGTERM)
        # the listener goes at once, but the session in progress goes on
        wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", instance.testd_port)) != 0,
                 what="the listener to close")
        time.sleep(0.5)
        assert alive(master) and instance.children()
        s.sendall(b"QUIT\r\n")
        assert s.recv(1024) == b""          # testd ends the session as usual
    wait_for(lambda: not alive(master), what="the master to finish")
    assert instance.log_lines(r"tern/testd\[\d+\]: stopped")


def test_abort_kills_at_once(instance):
    instance.start()
    with socket.create_connection(("127.0.0.1", instance.testd_port), timeout=10) as s:
        assert s.recv(1024).startswith(b"testd ")
        pids = [instance.master_pid()] + instance.children()
        started = time.monotonic()
        r = instance.tern("abort")
        assert r.returncode == 0, r.stderr
        # the busy process did not get the grace period (master_stop_timeout = 5s) that
        # `tern stop` gives it
        assert time.monotonic() - started < 4
        for pid in pids:
            assert not alive(pid)


def test_second_start_refused(instance):
    instance.start()
    pid = instance.master_pid()
    r = instance.tern("start")
    assert r.returncode == 69
    assert f"already running (pid {pid})" in r.stderr
    # the master itself refuses too, by the pid-file lock
    r = subprocess.run([MASTER, "-f", "-c", instance.dir], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 69
    assert "already running" in r.stderr
    assert instance.master_pid() == pid


def test_status(instance):
    r = instance.tern("status")
    assert r.returncode == 69 and "not running" in r.stderr
    instance.start()
    r = instance.tern("status")
    assert r.returncode == 0
    assert f"PID: {instance.master_pid()}" in r.stderr


def test_broken_config_gives_file_line_and_78(instance):
    with open(os.path.join(instance.dir, "tern.conf"), "w") as f:
        f.write("myhostname = a.example\n\nthis is not a setting\n")
    r = instance.tern("start")
    assert r.returncode == 78
    assert f"{instance.dir}/tern.conf:3: " in r.stderr
    assert instance.master_pid() is None
    assert instance.tern("check").returncode == 78


def test_broken_master_conf_gives_file_line_and_78(instance):
    instance.add_service("oops inet n - n")
    r = instance.tern("start")
    assert r.returncode == 78
    assert re.search(r"master\.conf:\d+: ", r.stderr)


def test_unsafe_queue_directory_refused(instance):
    incoming = os.path.join(instance.spool, "incoming")
    os.chmod(incoming, 0o777)
    r = instance.tern("start")
    assert r.returncode == 78
    assert "incoming: mode 0777 is unsafe" in r.stderr
    assert instance.master_pid() is None


def test_wakeup_column(instance):
    instance.add_service(f"wake unix n - n 1 1 {instance_testd()}")
    instance.start()
    wait_for(lambda: len(instance.log_lines(r"tern/testd\[\d+\]: wakeup received")) >= 2,
             timeout=15, what="two wake-ups")


def test_busy_service_gets_more_processes_up_to_maxproc(instance):
    # testd's argument: one client per process; maxproc 3
    port = instance.testd2_port
    instance.add_service(f"127.0.0.1:{port} inet n - n - 3 {instance_testd()} 1")
    instance.start()
    socks = []

    def processes():
        return [p for p in instance.children() if f"127.0.0.1:{port}" in cmdline(p)]
    try:
        pids = set()
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.settimeout(10)
            socks.append(s)
            pids.add(s.recv(1024).decode().split()[2])
        assert len(pids) == 3
        # a fourth client waits in the backlog: maxproc is reached, no fourth process
        extra = socket.create_connection(("127.0.0.1", port), timeout=10)
        socks.append(extra)
        time.sleep(1)
        assert len(processes()) == 3
        socks[0].close()
        extra.settimeout(10)
        assert extra.recv(1024).startswith(b"testd ")
    finally:
        for s in socks:
            s.close()


def test_runs_without_root_as_that_user(tmp_path):
    """Started by an ordinary user, everything runs as that user and the log says so."""
    import pwd
    import shutil
    import tempfile
    from conftest import BUILDDIR, TESTD, free_port
    if not IS_ROOT:
        user_run = []          # we are the ordinary user already
        uid = os.getuid()
    else:
        user_run = ["runuser", "-u", "nobody", "--"]
        uid = pwd.getpwnam("nobody").pw_uid
    # a copy of the programs that the user can reach, as an installation would be
    top = tempfile.mkdtemp(prefix="tern-user-")
    try:
        os.chmod(top, 0o755)
        for sub, names in (("bin", ["tern", "ternconf"]), ("libexec", ["master"])):
            os.makedirs(os.path.join(top, sub), mode=0o755)
            for n in names:
                shutil.copy2(os.path.join(BUILDDIR, sub, n), os.path.join(top, sub, n))
        shutil.copy2(TESTD, os.path.join(top, "libexec", "testd"))
        inst = os.path.join(top, "inst")
        os.mkdir(inst)
        os.chown(inst, uid, -1)
        tern = [*user_run, os.path.join(top, "bin", "tern")]

        def run(*args):
            return subprocess.run([*tern, *args], capture_output=True, text=True, timeout=60)

        assert run("init", inst, "--smtp-port", str(free_port())).returncode == 0
        r = subprocess.run([*user_run, os.path.join(top, "bin", "ternconf"), "-c", inst, "-e",
                            f"daemon_directory = {top}/libexec"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, r.stderr
        port = free_port()
        with open(os.path.join(inst, "master.conf"), "a") as f:
            f.write(f"127.0.0.1:{port} inet n - y - 1 testd\n")
        r = run("-c", inst, "start")
        assert r.returncode == 0, r.stderr
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                line = s.recv(1024).decode()
            assert f" uid={uid} " in line
            pid = int(open(os.path.join(inst, "spool", "pid", "master.pid")).read())
            assert proc_status(pid)["uid"] == [uid] * 4
            log = open(os.path.join(inst, "log", "mail.log")).read()
            assert "privilege separation is off" in log
            # the queue belongs to the user
            assert os.stat(os.path.join(inst, "spool", "incoming")).st_uid == uid
        finally:
            assert run("-c", inst, "stop").returncode == 0
    finally:
        shutil.rmtree(top)


def test_master_runs_as_daemon_without_f(instance):
    r = subprocess.run([MASTER, "-c", instance.dir], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    pid = wait_for(instance.master_pid, what="the daemon's pid file")
    wait_for(lambda: instance.testd_line()["service"], what="the service")
    # detached: its own session, not our child
    assert os.getsid(pid) == pid
    assert instance.tern("stop").returncode == 0
    assert not alive(pid)


def test_ipv6_listener(instance):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
            port = s.getsockname()[1]
    except OSError:
        pytest.skip("this host has no IPv6 loopback")
    instance.add_service(f"[::1]:{port} inet n - n - 1 {instance_testd()}")
    instance.start()
    with socket.create_connection(("::1", port), timeout=10) as s:
        assert s.recv(1024).startswith(f"testd service=[::1]:{port}".encode())




def test_master_o_settings_reach_the_daemons(instance):
    r = instance.tern("-o", "myhostname=override.example", "-o", "mydomain=example",
                      "-o", "myorigin=$mydomain", "-o", "listen_backlog=100", "start")
    assert r.returncode == 0, r.stderr
    assert instance.testd_line()["myhostname"] == "override.example"


def test_restart_loop_is_throttled(instance):
    instance.conf("service_crash_limit = 3\n")
    instance.add_service(f"quick unix n - n - 1 {instance_testd()} 1 quit")
    instance.start()
    wait_for(lambda: instance.log_lines(r"exits too soon after start, too often -- throttling"),
             timeout=15, what="the restart-loop throttle")
    starts = len(instance.log_lines(r"tern/testd\[\d+\]: stopped|quick"))
    time.sleep(1)
    # throttled: no new process of it for service_throttle_time (60s here)
    assert not [p for p in instance.children() if "quick" in cmdline(p)]
    assert len(instance.log_lines(r"tern/testd\[\d+\]: stopped|quick")) == starts


def test_daemon_status_channel_is_close_on_exec(instance):
    instance.start()
    pid = int(instance.testd_line()["pid"])
    with open(f"/proc/{pid}/fdinfo/3") as f:
        flags = int([line for line in f if line.startswith("flags:")][0].split()[1], 8)
    assert flags & 0o2000000, oct(flags)


def test_exec_failure_reason_is_logged(instance):
    not_a_program = os.path.join(instance.dir, "not-a-program")
    with open(not_a_program, "w") as f:
        f.write("plain text\n")
    os.chmod(not_a_program, 0o644)
    instance.add_service(f"broken unix n - n - 1 {not_a_program}")
    r = instance.tern("start")
    assert r.returncode == 69
    assert f"cannot execute {not_a_program}: Permission denied" in r.stderr + instance.log()


def test_failed_start_exit_codes(instance):
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", instance.testd2_port))
        busy.listen()
        instance.add_service(f"127.0.0.1:{instance.testd2_port} inet n - n - 1 "
                             f"{instance_testd()}")
        r = instance.tern("start")
    assert r.returncode == 69
    assert "Address already in use" in r.stderr
    assert instance.master_pid() is None


def test_master_without_f_refuses_while_running(instance):
    instance.start()
    r = subprocess.run([MASTER, "-c", instance.dir], capture_output=True, text=True, timeout=60)
    assert r.returncode == 69
    assert "already running" in r.stderr


def test_reload_keeps_a_session_in_progress(instance):
    instance.start()
    with socket.create_connection(("127.0.0.1", instance.testd_port), timeout=10) as s:
        old = s.recv(1024).decode().split()[2]
        assert instance.tern("reload").returncode == 0
        new = wait_for(lambda: (lambda p: p != old and p)(instance.testd_line()["pid"]),
                       what="a new process")
        # the old process still serves the session it had
        assert alive(int(old.split("=")[1]))
        s.sendall(b"QUIT\r\n")
        assert s.recv(1024) == b""
    wait_for(lambda: not alive(int(old.split("=")[1])), what="the old process to finish")
    assert new != old


def test_wakeup_only_after_use(instance):
    instance.add_service(f"lazy unix n - n 1? 1 {instance_testd()}")
    instance.start()
    time.sleep(2.5)
    assert not instance.log_lines(r"wakeup received")
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(os.path.join(instance.spool, "public", "lazy"))
        assert s.recv(1024).startswith(b"testd service=lazy")
    wait_for(lambda: instance.log_lines(r"wakeup received"), timeout=10,
             what="a wake-up after the first use")


def test_unsafe_configuration_refused_as_root(instance):
    if not IS_ROOT:
        pytest.skip("the ownership checks apply to a master running as root")
    conf = os.path.join(instance.dir, "tern.conf")
    os.chmod(conf, 0o666)
    r = instance.tern("start")
    assert r.returncode == 78
    assert "tern.conf: writable by group or others" in r.stderr
    os.chmod(conf, 0o644)
    # a program others can change is never run as root
    import shutil
    copy = os.path.join(instance.dir, "testd-copy")
    shutil.copy(instance_testd(), copy)
    os.chmod(copy, 0o777)
    instance.add_service(f"127.0.0.1:{instance.testd2_port} inet n - n - 1 {copy}")
    r = instance.tern("start")
    assert r.returncode == 78
    assert "refusing to run" in r.stderr
    assert instance.master_pid() is None

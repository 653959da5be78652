"""Process lifecycle: start-up banner, SIGTERM/SIGINT, SHUTDOWN, the pidfile,
the crash report of DEBUG SEGFAULT, and --version/--help.
"""
import os
import signal
import subprocess

import pytest

from conftest import (TANDEM_BIN, RespReader, encode_command, raw_connect,
                      recv_until_closed)


def test_banner_and_ready_line(tandem):
    tandem.wait_for_log(r"Ready to accept connections")
    log = tandem.read_log()
    assert f"PID: {tandem.pid}" in log
    assert f"port {tandem.port}" in log
    # Redis's layout: "<pid>:M <day> <mon> <year> <time>.<ms> <mark> <message>"
    first = log.splitlines()[0]
    assert first.startswith(f"{tandem.pid}:M ")


@pytest.mark.parametrize("sig,name", [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")])
def test_signal_shutdown(tandem, sig, name):
    r = tandem.client()
    assert r.ping() is True
    os.kill(tandem.pid, sig)
    assert tandem.wait_exit(10) == 0
    log = tandem.read_log()
    assert f"Received {name} scheduling shutdown..." in log
    assert "ready to exit, bye bye..." in log
    assert log.index(f"Received {name}") < log.index("bye bye")


def test_sigterm_with_clients_connected(tandem):
    socks = [raw_connect(tandem.port) for _ in range(20)]
    try:
        for s in socks:
            s.sendall(b"PING\r\n")
            assert RespReader(s).read() == "PONG"
        os.kill(tandem.pid, signal.SIGTERM)
        assert tandem.wait_exit(10) == 0
        for s in socks:
            assert recv_until_closed(s, timeout=10)[1]
    finally:
        for s in socks:
            s.close()


def test_shutdown_command_and_pidfile(make_tandem, tmp_path):
    pidfile = tmp_path / "tandem.pid"
    srv = make_tandem(["--pidfile", pidfile])
    assert pidfile.read_text().strip() == str(srv.pid)
    with raw_connect(srv.port) as s:
        s.sendall(encode_command("SHUTDOWN"))
        data, closed = recv_until_closed(s, timeout=10)
        assert data == b"" and closed  # no reply: the server is gone
    assert srv.wait_exit(10) == 0
    assert not pidfile.exists()
    log = srv.read_log()
    assert "User requested shutdown..." in log
    assert "ready to exit, bye bye..." in log


@pytest.mark.parametrize("args", [["NOSAVE"], ["SAVE"], ["NOW", "FORCE"], ["nosave", "now"]])
def test_shutdown_options(tandem, args):
    with raw_connect(tandem.port) as s:
        s.sendall(encode_command("SHUTDOWN", *args))
        assert recv_until_closed(s, timeout=10) == (b"", True)
    assert tandem.wait_exit(10) == 0


def test_shutdown_bad_option_keeps_running(tandem, redis_server):
    for srv in (redis_server, tandem):
        with raw_connect(srv.port) as s:
            reader = RespReader(s)
            assert reader.command("SHUTDOWN", "LATER") == "ERR syntax error"
            s.sendall(b"PING\r\n")
            assert reader.read() == "PONG"
    assert tandem.alive()


def test_sigterm_removes_pidfile(make_tandem, tmp_path):
    pidfile = tmp_path / "t.pid"
    srv = make_tandem(["--pidfile", pidfile])
    assert int(pidfile.read_text()) == srv.pid
    os.kill(srv.pid, signal.SIGTERM)
    assert srv.wait_exit(10) == 0
    assert not pidfile.exists()


def test_debug_segfault_writes_crash_report(make_tandem):
    # enable-debug-command: what Redis 7.0 needs for DEBUG (no effect in tandem)
    srv = make_tandem(["--enable-debug-command", "yes"])
    other = raw_connect(srv.port)
    try:
        with raw_connect(srv.port) as s:
            s.sendall(encode_command("DEBUG", "SEGFAULT"))
            assert recv_until_closed(s, timeout=10)[1]
        rc = srv.wait_exit(10)
        assert rc == -signal.SIGSEGV, f"exit status {rc}"
        log = srv.read_log()
        assert "crashed by signal" in log
        assert "STACK TRACE" in log
        assert recv_until_closed(other, timeout=10)[1]
    finally:
        other.close()


def test_debug_log_and_sleep(make_tandem):
    srv = make_tandem(["--enable-debug-command", "yes"])
    r = srv.client()
    assert r.execute_command("DEBUG", "LOG", "hello from the test") in ("OK", True)
    srv.wait_for_log(r"DEBUG LOG: hello from the test")
    assert r.execute_command("DEBUG", "SLEEP", "0") in ("OK", True)
    assert r.ping() is True


def run_binary(*args):
    return subprocess.run([str(TANDEM_BIN), *args], capture_output=True, text=True,
                          timeout=10, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("flag", ["--version", "-v"])
def test_version(flag):
    res = run_binary(flag)
    assert res.returncode == 0
    line = res.stdout.strip().splitlines()[0]
    assert "v=" in line
    assert "tandem" in line


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(flag):
    res = run_binary(flag)
    assert res.returncode == 0
    assert "Usage" in res.stdout

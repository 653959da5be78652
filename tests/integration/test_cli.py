"""Debian's redis-cli and redis-benchmark against tandem.

One-shot commands, INFO, a session fed on stdin (compared line for line with
the same session against Debian's redis-server), --no-raw formatting, and a
short redis-benchmark run (exit status and the rows it prints; never timings).
"""
import re
import subprocess

from conftest import REDIS_BENCHMARK, REDIS_CLI

CLI_TIMEOUT = 30


def cli(port, *args, stdin=None):
    return subprocess.run([str(REDIS_CLI), "-h", "127.0.0.1", "-p", str(port), *args],
                          input=stdin, capture_output=True, text=True, timeout=CLI_TIMEOUT)


def test_cli_ping(tandem):
    res = cli(tandem.port, "ping")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "PONG\n"


def test_cli_echo_and_errors(tandem):
    assert cli(tandem.port, "echo", "hello world").stdout == "hello world\n"
    res = cli(tandem.port, "select", "99")
    assert res.stdout.strip() == "ERR DB index is out of range"


def test_cli_info_server(tandem):
    res = cli(tandem.port, "info", "server")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "# Server"
    assert "redis_version:7.0.15" in lines
    assert any(line.startswith("tandem_version:") for line in lines)
    assert f"tcp_port:{tandem.port}" in lines
    assert f"process_id:{tandem.pid}" in lines


SESSION = ("PING\n"
           "ECHO hello\n"
           "ECHO \"two words\"\n"
           "CLIENT SETNAME cli-session\n"
           "CLIENT GETNAME\n"
           "SELECT 3\n"
           "DBSIZE\n"
           "SELECT 99\n"
           "NOSUCHCOMMAND a b\n"
           "CONFIG GET maxclients\n"
           "PING last\n")


def test_cli_piped_session(tandem, redis_server):
    res = cli(tandem.port, stdin=SESSION)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[:7] == ["PONG", "hello", "two words", "OK", "cli-session", "OK", "0"]
    assert lines[7] == "ERR DB index is out of range"
    assert lines[-1] == "last"
    # the same session against redis-server prints the same
    ref = cli(redis_server.port, stdin=SESSION)
    assert res.stdout == ref.stdout


def client_list_fields(line):
    return [field.split("=", 1)[0] for field in line.split(" ")]


def test_cli_no_raw_client_list(tandem, redis_server):
    res = cli(tandem.port, "--no-raw", "client", "list")
    assert res.returncode == 0, res.stderr
    # redis-cli prints CLIENT LIST as plain lines even with --no-raw
    lines = res.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("id=")
    assert re.search(r" addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:%d " % tandem.port, lines[0])
    assert " name= " in lines[0]
    # the same fields, in the same order, as Redis 7.0
    ref = cli(redis_server.port, "--no-raw", "client", "list").stdout.splitlines()
    assert client_list_fields(lines[0]) == client_list_fields(ref[0])


def test_cli_no_raw_formats_like_redis(tandem, redis_server):
    for args in (("config", "get", "maxclients"), ("select", "99"), ("ping",),
                 ("client", "getname"), ("echo", "x y")):
        got = cli(tandem.port, "--no-raw", *args).stdout
        want = cli(redis_server.port, "--no-raw", *args).stdout
        assert got == want, args


def test_benchmark_ping(tandem):
    res = subprocess.run([str(REDIS_BENCHMARK), "-h", "127.0.0.1", "-p", str(tandem.port),
                          "-t", "ping", "-n", "2000", "-q"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    final = [line.split("\r")[-1] for line in res.stdout.splitlines()]
    assert any(line.startswith("PING_INLINE: ") and "requests per second" in line
               for line in final), res.stdout
    assert any(line.startswith("PING_MBULK: ") and "requests per second" in line
               for line in final), res.stdout
    # the server counted the pings and is still fine
    r = tandem.client()
    assert r.ping() is True
    assert int(r.info("commandstats")["cmdstat_ping"]["calls"]) >= 4000

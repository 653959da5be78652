"""Shared fixtures and helpers for tandem's integration tests.

Every test starts real server processes: bin/tandem-server (the server under
test) and, where a test compares behaviour, Debian's /usr/bin/redis-server
7.0. Each process listens on a free loopback port (never 6379) and keeps its
files (log, config, pidfile, sockets) in the test's tmp_path. Fixtures stop
every process they started, by pid (SIGTERM, a bounded wait, then SIGKILL),
whether the test passed or not; a session-end hook kills anything that is
still left as a last resort.

All waiting is done by polling a condition with a deadline (PING answers, a
log line appears, a value changes), never by a fixed sleep alone.
"""
import contextlib
import os
import re
import resource
import select
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

REPO = Path(__file__).resolve().parents[2]
# TANDEM_SERVER_BIN runs another build (make test-integration-san: ASan+UBSan).
TANDEM_BIN = Path(os.environ.get("TANDEM_SERVER_BIN", REPO / "bin" / "tandem-server"))
# What a sanitizer writes on stderr when it finds something.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
REDIS_BIN = Path("/usr/bin/redis-server")
REDIS_CLI = Path("/usr/bin/redis-cli")
REDIS_BENCHMARK = Path("/usr/bin/redis-benchmark")

START_TIMEOUT = 10.0  # seconds for a server to answer PING
STOP_TIMEOUT = 10.0  # seconds for a server to exit after SIGTERM

# Every process started by a helper, so that nothing survives the session.
_live_processes = set()


def pytest_sessionstart(session):
    if not (TANDEM_BIN.is_file() and os.access(TANDEM_BIN, os.X_OK)):
        pytest.exit(
            f"{TANDEM_BIN} is missing or not executable: build it first "
            "(`make`, or `make test` which builds before running)",
            returncode=1,
        )
    for tool in (REDIS_BIN, REDIS_CLI, REDIS_BENCHMARK):
        if not tool.is_file():
            pytest.exit(f"{tool} is missing: install redis-server and redis-tools "
                        "(tools/install-deps.sh)", returncode=1)


def pytest_sessionfinish(session, exitstatus):
    for proc in list(_live_processes):
        kill_process(proc)


# ---------------------------------------------------------------- helpers


def free_port():
    """A port that was free on 127.0.0.1 a moment ago (never 6379)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != 6379:
            return port


def wait_until(predicate, timeout, interval=0.02, message="condition"):
    """Polls predicate() until it returns a true value (which is returned),
    failing the test after timeout seconds. message may be a callable, then
    called for the text at the time of failure."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            pytest.fail(f"timed out after {timeout}s waiting for {text}")
        time.sleep(interval)


def kill_process(proc, timeout=STOP_TIMEOUT):
    """Stops one process by pid: SIGTERM, a bounded wait, then SIGKILL.
    Returns its exit status."""
    try:
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout)
        return proc.returncode
    finally:
        _live_processes.discard(proc)


def raise_nofile_limit(wanted):
    """Raises RLIMIT_NOFILE of this process towards wanted (up to the hard
    limit); returns the resulting soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def parse_info(text):
    """INFO text -> dict of field -> str value."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            key, _, value = line.partition(":")
            out[key] = value
    return out


class RespReader:
    """Reads RESP2/RESP3 replies from a raw socket, with a deadline. Replies
    are returned decoded into Python values; errors as RespError objects
    (not raised), so tests can compare them."""

    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.buf = b""
        self.timeout = timeout

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no complete reply from the server in time")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("no complete reply from the server in time")
        if not data:
            raise ConnectionError("connection closed by the server")
        self.buf += data

    def _line(self, deadline):
        while b"\r\n" not in self.buf:
            self._fill(deadline)
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _exact(self, n, deadline):
        while len(self.buf) < n + 2:
            self._fill(deadline)
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        return self._read(deadline)

    def command(self, *args):
        """Sends one command on the socket and returns its reply."""
        self.sock.sendall(encode_command(*args))
        return self.read()

    def _read(self, deadline):
        line = self._line(deadline)
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind in (b"$", b"="):
            n = int(rest)
            return None if n < 0 else self._exact(n, deadline)
        if kind in (b"*", b"~", b">"):
            n = int(rest)
            return None if n < 0 else [self._read(deadline) for _ in range(n)]
        if kind == b"%":
            n = int(rest)
            return {self._read(deadline): self._read(deadline) for _ in range(n)}
        if kind == b"_":
            return None
        if kind == b"#":
            return rest == b"t"
        if kind == b",":
            return float(rest)
        raise AssertionError(f"unexpected reply line {line!r}")


class RespError(str):
    """An error reply read by RespReader: its text without the '-'."""


def encode_command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def raw_connect(port, timeout=10.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_until_closed(sock, timeout=10.0):
    """Reads until the peer closes. Returns (data, closed): closed is True
    when EOF or a reset was seen within timeout."""
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return data, False
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return data, False
        except (ConnectionResetError, BrokenPipeError):
            return data, True
        if not chunk:
            return data, True
        data += chunk


def nothing_to_read(sock, wait=0.05):
    """True when no byte (and no EOF) arrives within wait seconds."""
    r, _, _ = select.select([sock], [], [], wait)
    return not r


def exchange(port, payload, timeout=5.0):
    """Sends raw bytes on a fresh connection; returns the first reply, decoded
    by RespReader (an error reply is a RespError string)."""
    with raw_connect(port) as s:
        s.sendall(payload)
        reader = RespReader(s, timeout)
        return reader.read()


def session(srv, commands, timeout=30.0):
    """Runs commands (tuples of arguments) in order on one fresh connection,
    authenticated first when srv.password is set; returns the replies (errors
    as RespError values, not raised)."""
    auth = [("AUTH", srv.password)] if srv.password is not None else []
    commands = auth + list(commands)
    with raw_connect(srv.port) as s:
        s.sendall(b"".join(encode_command(*c) for c in commands))
        reader = RespReader(s, timeout)
        return [reader.read() for _ in commands][len(auth):]


def info_text(srv, *sections):
    """The INFO reply as text, read on a raw connection."""
    return one(srv, "INFO", *sections).decode()


def info_fields(srv, *sections):
    """The INFO reply as a dict of field -> str value."""
    return parse_info(info_text(srv, *sections))


# ------------------------------------------------------ comparing with redis


def repl(srv):
    """INFO replication as a dict."""
    return info_fields(srv, "replication")


def one(srv, *cmd):
    """The reply to one command."""
    return session(srv, [cmd])[0]


def digest(srv):
    return one(srv, "DEBUG", "DIGEST")


def replica_caught_up(primary, replica):
    """The replica's link is up and it applied every byte the primary wrote."""
    r = repl(replica)
    return (r.get("master_link_status") == "up"
            and r["slave_repl_offset"] == repl(primary)["master_repl_offset"])


def wait_in_sync(primary, replica, timeout=60, message=None):
    """Waits (bounded) until replica_caught_up; returns the primary's digest."""
    if message is None:
        message = lambda: (f"primary {repl(primary)}\nreplica {repl(replica)}\n"  # noqa: E731
                           f"replica log:\n{replica.read_log()[-3000:]}")
    wait_until(lambda: replica_caught_up(primary, replica), timeout, interval=0.05,
               message=message)
    return digest(primary)


def norm(reply):
    """A reply in a form where errors, simple strings and bulk strings
    cannot compare equal to one another (RespError is a str)."""
    if isinstance(reply, RespError):
        return ("error", str(reply))
    if isinstance(reply, str):
        return ("simple", reply)
    if isinstance(reply, list):
        return [norm(x) for x in reply]
    if isinstance(reply, dict):
        return {norm(k): norm(x) for k, x in reply.items()}
    return reply


def same_replies(t, r, commands):
    """Runs the commands on both servers (one connection each); asserts
    identical replies, errors included, and returns tandem's."""
    expected = session(r, commands)
    actual = session(t, commands)
    for cmd, a, e in zip(commands, actual, expected):
        assert norm(a) == norm(e), f"for {cmd!r}: tandem {a!r} != redis {e!r}"
    return actual


# ---------------------------------------------------------------- servers


class ServerProcess:
    """One server process (tandem or redis-server) in its own directory."""

    binary = None
    name = "server"

    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = None
        self.port = None
        self.log_path = self.dir / f"{self.name}.log"
        self.stdout_path = self.dir / f"{self.name}.stdout"
        self.stderr_path = self.dir / f"{self.name}.stderr"
        self.config_path = None
        self.unixsocket = None
        self.password = None  # set by a test that sets requirepass: helpers AUTH first
        self._clients = []

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def base_args(self):
        return ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                "--logfile", str(self.log_path)]

    def command_line(self, args, config_text):
        cmd = [str(self.binary)]
        if config_text is not None:
            self.config_path = self.dir / f"{self.name}.conf"
            self.config_path.write_text(config_text)
            cmd.append(str(self.config_path))
        return cmd + self.base_args() + [str(a) for a in args]

    def spawn(self, args=(), config_text=None, port=None):
        """Starts the process without waiting for it to serve."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = port or free_port()
        cmd = self.command_line(list(args), config_text)
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(cmd, cwd=self.dir, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err, start_new_session=True)
        _live_processes.add(self.proc)
        return self.proc

    def start(self, args=(), config_text=None, port=None):
        """Starts the server and waits (bounded) until it answers PING.
        Retries with another port if the chosen one was taken meanwhile."""
        for attempt in range(3):
            self.spawn(args, config_text, port)
            if self._wait_ready():
                return self
            log = self.read_log()
            kill_process(self.proc)
            if port is None and "already in use" in log and attempt < 2:
                continue
            pytest.fail(f"{self.name} did not start (exit status {self.proc.returncode});\n"
                        f"command: {self.proc.args}\nstderr: {self.read_stderr()}\nlog:\n{log}")
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    s.settimeout(1)
                    reply = s.recv(64)
                    # +PONG, or -NOAUTH when a password is set: either way it serves.
                    if reply.startswith((b"+PONG", b"-NOAUTH")):
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def client(self, **kwargs):
        """A redis-py client for this server (decoded replies by default)."""
        kwargs.setdefault("decode_responses", True)
        kwargs.setdefault("socket_timeout", 15)
        if "unix_socket_path" not in kwargs:
            kwargs.setdefault("host", "127.0.0.1")
            kwargs.setdefault("port", self.port)
        r = redis.Redis(**kwargs)
        self._clients.append(r)
        return r

    def raw(self, timeout=10.0):
        return raw_connect(self.port, timeout)

    def read_log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def read_stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern, timeout=10.0):
        """Waits until a log line matches the regex pattern; returns the match."""
        rx = re.compile(pattern)
        return wait_until(lambda: rx.search(self.read_log()), timeout,
                          message=lambda: (f"log pattern {pattern!r} in {self.log_path}:\n"
                                           f"{self.read_log()[-3000:]}"))

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """Waits (bounded) for the process to exit by itself; returns its status."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{self.name} (pid {self.pid}) did not exit within {timeout}s")
        _live_processes.discard(self.proc)
        return rc

    def stop(self):
        """Stops the server by pid (SIGTERM, bounded wait, SIGKILL); returns
        its exit status."""
        for r in self._clients:
            try:
                r.close()
            except Exception:
                pass
        self._clients = []
        if self.proc is None:
            return None
        return kill_process(self.proc)


class TandemServer(ServerProcess):
    binary = TANDEM_BIN
    name = "tandem"

    def base_args(self):
        # Full syncs start at once: Redis's default repl-diskless-sync-delay
        # (5 s, kept by tandem) would slow every sync down. Tests of the
        # delay pass their own (arguments after these win; a config file's
        # line does not, since the command line comes after it).
        return super().base_args() + ["--repl-diskless-sync-delay", "0"]


class RedisServer(ServerProcess):
    binary = REDIS_BIN
    name = "redis"

    def base_args(self):
        return super().base_args() + ["--save", "", "--appendonly", "no"]


@contextlib.contextmanager
def server_pair(tmp_path_factory, args=()):
    """A started tandem and a started redis-server, both given args, as
    (tandem, redis); both stopped on leaving. For module-scoped comparison
    fixtures."""
    t = TandemServer(tmp_path_factory.mktemp("tandem"))
    r = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        t.start(args)
        r.start(args)
        yield t, r
    finally:
        t.stop()
        r.stop()


@pytest.fixture
def both(pair):
    """The module's `pair` fixture (tandem and redis-server with DEBUG
    enabled), emptied and with active expiry on, for one test."""
    for srv in pair:
        session(srv, [("FLUSHALL",), ("DEBUG", "SET-ACTIVE-EXPIRE", "1")])
    return pair


def _server_factory(cls, tmp_path):
    """Yields make(args=(), config_text=None, start=True) -> a cls server in
    its own folder under tmp_path (started unless start=False); stops every
    server it made when resumed."""
    servers = []

    def make(args=(), config_text=None, start=True):
        srv = cls(tmp_path / f"{cls.name}{len(servers)}")
        servers.append(srv)
        if start:
            srv.start(args, config_text)
        return srv

    yield make
    for srv in servers:
        srv.stop()
    reports = [f"{srv.name} in {srv.dir}:\n{srv.read_stderr()[-4000:]}" for srv in servers
               if any(mark in srv.read_stderr() for mark in SANITIZER_MARKS)]
    if reports:
        pytest.fail("sanitizer reports:\n" + "\n".join(reports))


@pytest.fixture
def make_tandem(tmp_path):
    """Factory: make_tandem(args=(), config_text=None, start=True) returns a
    TandemServer (started unless start=False). All are stopped at teardown."""
    yield from _server_factory(TandemServer, tmp_path)


@pytest.fixture
def tandem(make_tandem):
    """A started tandem server with default settings."""
    return make_tandem()


@pytest.fixture
def make_redis(tmp_path):
    """Factory for Debian's redis-server, started with --port N --bind
    127.0.0.1 --save "" --appendonly no --dir <tmp>. Stopped at teardown."""
    yield from _server_factory(RedisServer, tmp_path)


@pytest.fixture
def redis_server(make_redis):
    """A started Debian redis-server 7.0 with default settings."""
    return make_redis()


# The CRC-64 (Jones, reflected) of RDB files and DUMP payloads.
CRC64_POLY = 0x95AC9329AC4BC9B5  # Jones, reflected


def _crc64_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ CRC64_POLY if c & 1 else c >> 1
        table.append(c)
    return table


CRC64_TABLE = _crc64_table()


def crc64(data, crc=0):
    for b in data:
        crc = CRC64_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc

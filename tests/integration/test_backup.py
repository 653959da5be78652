"""tandem-backup (tools/backup/, docs/backup.md): pull from tandem and from
Debian's redis-server 7.0 in both framings, the pulled file restored into a
fresh tandem with an equal DEBUG DIGEST, verify against a table of
corruptions, inspect's report, and every fault with its documented exit
code: usage 1, connection/authentication 2 (server down, wrong or missing
password, -LOADING, an error reply, silence), transfer 3 (garbage, link cut,
SIGINT), verification 4 (a payload that is not a sound RDB), file system 5
(no folder, file size limit). Faults that a real server cannot be made to
produce on demand come from a tiny fake server (Python sockets) that speaks
just enough of the protocol. Whatever fails, FILE is never created (or keeps
its old content) and FILE.tmp never stays. TANDEM_BACKUP_BIN runs another
build of the tool (e.g. one with -fsanitize=thread) through the same tests.
"""
import json
import os
import pty
import re
import resource
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import REPO, digest, free_port, one, wait_until

BACKUP = Path(os.environ.get("TANDEM_BACKUP_BIN", REPO / "bin" / "tandem-backup"))
FIXTURE = REPO / "tests" / "fixtures" / "redis-7.0.rdb"
RUN_TIMEOUT = 60
OFFSET_RX = re.compile(r"offset \d+")


def run(*args, env=None, preexec_fn=None, timeout=RUN_TIMEOUT):
    full_env = {k: v for k, v in os.environ.items() if k != "REDISCLI_AUTH"}
    full_env.update(env or {})
    return subprocess.run([str(BACKUP), *map(str, args)], capture_output=True, text=True,
                          env=full_env, preexec_fn=preexec_fn, timeout=timeout)


def pull(port, out, *extra, **kw):
    return run("pull", "-h", "127.0.0.1", "-p", port, "-o", out, *extra, **kw)


def assert_no_files(out):
    out = Path(out)
    assert not out.exists(), f"{out} exists"
    assert not Path(str(out) + ".tmp").exists(), f"{out}.tmp was left"


def fill(srv, dbs=(0, 3), n=300):
    """Strings of several encodings in several databases, some with a TTL."""
    c = srv.client()
    for db in dbs:
        p = c.pipeline(transaction=False)
        p.execute_command("SELECT", db)
        for i in range(n):
            p.set(f"key:{db}:{i}", f"value-{i}-" + "x" * (i % 50))
            p.set(f"int:{db}:{i}", i * 1000)
        p.set(f"big:{db}", "B" * 20000)
        p.set(f"ttl:{db}", "soon", ex=3600)
        p.execute()


def restored_digest(make_tandem, path):
    """DEBUG DIGEST of a fresh tandem that loaded path at start-up."""
    srv = make_tandem(start=False)
    os.replace(path, srv.dir / "dump.rdb")
    srv.start(["--enable-debug-command", "yes"])
    return digest(srv)


# ---------------------------------------------------------------- fake server

def read_command(f):
    """One RESP multibulk command from a socket file, as a list of bytes."""
    line = f.readline()
    if not line:
        return None
    assert line.startswith(b"*"), line
    args = []
    for _ in range(int(line[1:])):
        n = int(f.readline()[1:])
        args.append(f.read(n + 2)[:-2])
    return args


class FakeServer:
    """Accepts one connection and runs script(conn, f) on it in a thread."""

    def __init__(self, script):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.release = threading.Event()
        self.seen = []
        self.thread = threading.Thread(target=self._serve, args=(script,), daemon=True)
        self.thread.start()

    def _serve(self, script):
        self.sock.settimeout(RUN_TIMEOUT)
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            f = conn.makefile("rb")
            try:
                script(self, conn, f)
            except OSError:
                pass

    def handshake(self, conn, f, psync_reply=b"+FULLRESYNC " + b"a" * 40 + b" 7\r\n"):
        """Answers PING, the REPLCONFs and PSYNC as a primary would."""
        while True:
            cmd = read_command(f)
            if cmd is None:
                return False
            self.seen.append(cmd)
            name = cmd[0].upper()
            if name == b"PING":
                conn.sendall(b"+PONG\r\n")
            elif name in (b"REPLCONF", b"AUTH"):
                conn.sendall(b"+OK\r\n")
            elif name == b"PSYNC":
                conn.sendall(psync_reply)
                return True

    def close(self):
        self.release.set()
        self.sock.close()
        self.thread.join(RUN_TIMEOUT)


def sends(*chunks, hold=True):
    """A fake server's script: the handshake, then each chunk in its own
    send, then (hold) the connection kept open until the test ends."""
    def script(srv, conn, f):
        if srv.handshake(conn, f):
            for chunk in chunks:
                conn.sendall(chunk)
            if hold:
                srv.release.wait(RUN_TIMEOUT)
    return script


@pytest.fixture
def fake():
    servers = []

    def make(script):
        srv = FakeServer(script)
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.close()


@pytest.fixture(scope="module")
def sound_rdb(tmp_path_factory):
    """A sound tandem RDB (bytes) of a small dataset, for the fake server
    and the corruption table."""
    from conftest import TandemServer
    srv = TandemServer(tmp_path_factory.mktemp("src"))
    try:
        srv.start()
        c = srv.client()
        c.set("kkkk", "vvvvvvvvvv")
        fill(srv, dbs=(0, 2), n=40)
        c.save()
        return (srv.dir / "dump.rdb").read_bytes()
    finally:
        srv.stop()


# ---------------------------------------------------------------- pulls

def test_pull_from_tandem_restores_an_equal_digest(make_tandem, tmp_path):
    src = make_tandem(["--enable-debug-command", "yes"])
    fill(src)
    out = tmp_path / "snap.rdb"
    r = pull(src.port, out, "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    info = src.client().info("replication")
    assert summary["bytes"] == out.stat().st_size
    # tandem syncs diskless by default: the EOF-mark framing.
    assert summary["framing"] == "eof" and summary["rdb_only"] is True
    assert summary["replid"] == info["master_replid"]
    assert summary["keys"] == {"0": 602, "3": 602} and summary["keys_total"] == 1204
    assert re.fullmatch(r"[0-9a-f]{16}", summary["checksum"])
    assert summary["seconds"] >= 0
    assert not Path(str(out) + ".tmp").exists()
    assert "saved" in r.stderr  # plain log lines: stderr is not a terminal
    assert run("verify", out).returncode == 0
    want = digest(src)
    assert restored_digest(make_tandem, out) == want


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_pull_from_redis_with_password(make_redis, make_tandem, tmp_path, diskless):
    src = make_redis(["--requirepass", "s3cret", "--enable-debug-command", "yes",
                      "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0"])
    c = src.client(password="s3cret")
    p = c.pipeline(transaction=False)
    for i in range(500):
        p.set(f"key:{i}", f"value-{i}-" + "y" * (i % 70))
    p.set("ttl", "x", ex=1000)
    p.execute()
    out = tmp_path / "redis.rdb"
    r = pull(src.port, out, "--json", "--quiet", env={"REDISCLI_AUTH": "s3cret"})
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # --quiet
    summary = json.loads(r.stdout)
    assert summary["framing"] == ("eof" if diskless == "yes" else "length")
    assert summary["keys"] == {"0": 501}
    assert summary["bytes"] == out.stat().st_size
    assert summary["replid"] == c.info("replication")["master_replid"]
    want = c.execute_command("DEBUG", "DIGEST")
    assert restored_digest(make_tandem, out) == want


def test_progress_on_a_terminal_is_one_redrawn_line(make_tandem, tmp_path):
    # A disk sync: the length framing tells the total, for the percentage.
    src = make_tandem(["--repl-diskless-sync", "no"])
    fill(src, n=50)
    out = tmp_path / "snap.rdb"
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([str(BACKUP), "pull", "-p", str(src.port), "-o", str(out)],
                              stdout=subprocess.PIPE, stderr=slave, timeout=RUN_TIMEOUT)
        os.close(slave)
        slave = None
        text = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not chunk:
                break
            text += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0, text
    text = text.decode()
    assert re.search(r"\rreceiving: [0-9.]+[BKMG] of [0-9.]+[BKMG] \(100%\)", text), text
    assert "\033[K" in text
    assert "saved" in text


def test_pull_replaces_an_old_file_only_when_whole(make_tandem, tmp_path):
    src = make_tandem()
    src.client().set("a", "1")
    out = tmp_path / "snap.rdb"
    out.write_bytes(b"old")
    assert pull(src.port, out, "--quiet").returncode == 0
    assert out.read_bytes().startswith(b"REDIS0010")


# ---------------------------------------------------------------- verify / inspect

def test_verify_accepts_tandem_and_redis_files(sound_rdb, tmp_path):
    mine = tmp_path / "t.rdb"
    mine.write_bytes(sound_rdb)
    r = run("verify", mine)
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout
    r = run("verify", FIXTURE)
    assert r.returncode == 0, r.stderr
    assert run("verify", "--quiet", FIXTURE).stdout == ""


def corruptions(data):
    """(name, bytes) pairs: each a mutation of a sound file that verify must
    refuse. The key "kkkk" = "vvvvvvvvvv" locates a type, length and value."""
    at = data.index(b"\x04kkkk\x0avvvvvvvvvv")
    typ, keylen, vallen, val = at - 1, at, at + 5, at + 8

    def flip(i, mask=0x5A):
        b = bytearray(data)
        b[i] ^= mask
        return bytes(b)

    cases = [("empty", b"")]
    for cut in (3, 9, 10, typ, val, len(data) // 2, len(data) - 9, len(data) - 1):
        cases.append((f"truncated at {cut}", data[:cut]))
    cases += [
        ("flipped magic", flip(1)),
        ("wrong version", data[:5] + b"0099" + data[9:]),
        ("version not a number", data[:5] + b"00x1" + data[9:]),
        ("flipped type byte", flip(typ, 0x40)),
        ("flipped key length", flip(keylen, 0x30)),
        ("flipped value length", flip(vallen, 0x01)),
        ("flipped value byte", flip(val)),
        ("flipped checksum", flip(len(data) - 3)),
        ("flipped EOF opcode", flip(len(data) - 9, 0x01)),
        ("bytes after the checksum", data + b"\x00garbage"),
    ]
    return cases


def test_verify_catches_every_corruption(sound_rdb, tmp_path):
    failures = []
    for name, data in corruptions(sound_rdb):
        path = tmp_path / "bad.rdb"
        path.write_bytes(data)
        r = run("verify", path)
        if r.returncode != 4 or not OFFSET_RX.search(r.stderr):
            failures.append(f"{name}: exit {r.returncode}, stderr {r.stderr!r}")
    assert not failures, "\n".join(failures)


def test_verify_and_inspect_missing_file_is_a_file_system_error(tmp_path):
    for sub in ("verify", "inspect"):
        r = run(sub, tmp_path / "nope.rdb")
        assert r.returncode == 5, r.stderr
        assert "No such file" in r.stderr


def test_inspect_reports_aux_keys_types_expiries_and_biggest(make_tandem, tmp_path):
    src = make_tandem()
    fill(src, dbs=(0, 5), n=30)
    src.client().save()
    r = run("inspect", src.dir / "dump.rdb")
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert "rdb version: 10" in text
    assert re.search(r"^  redis-ver: 7\.0", text, re.M)
    assert re.search(r"^  ctime: \d+ \(20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$", text, re.M)
    assert "keys: 124 in 2 databases" in text
    assert "  db0: 62 keys, 1 with an expiry" in text
    assert "  db5: 62 keys, 1 with an expiry" in text
    assert "  string: 124" in text
    assert "keys with an expiry: 2 (already past: 0)" in text
    biggest = text.split("biggest keys")[1].splitlines()[1:]
    assert len(biggest) == 10
    assert re.match(r"\s+1\. \d+ bytes  db[05]  string  \"big:[05]\"", biggest[0])
    assert re.match(r"\s+2\. \d+ bytes  db[05]  string  \"big:[05]\"", biggest[1])


def test_inspect_refuses_a_corrupt_file(sound_rdb, tmp_path):
    path = tmp_path / "bad.rdb"
    path.write_bytes(sound_rdb[:-1])
    r = run("inspect", path)
    assert r.returncode == 4 and OFFSET_RX.search(r.stderr)


# ---------------------------------------------------------------- framings via the fake

def test_keepalives_then_length_framing(fake, sound_rdb, tmp_path):
    srv = fake(sends(b"\n\n\n", b"$%d\r\n" % len(sound_rdb) + sound_rdb[:100], sound_rdb[100:]))
    out = tmp_path / "f.rdb"
    r = pull(srv.port, out, "--json")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == sound_rdb
    summary = json.loads(r.stdout)
    assert summary["replid"] == "a" * 40 and summary["offset"] == 7
    assert [c[0].upper() for c in srv.seen] == [b"PING", b"REPLCONF", b"REPLCONF", b"PSYNC"]
    assert srv.seen[2] == [b"REPLCONF", b"rdb-only", b"1"]
    assert srv.seen[3] == [b"PSYNC", b"?", b"-1"]


def test_eof_framing_with_the_mark_split_and_bytes_after_it(fake, sound_rdb, tmp_path):
    mark = b"0123456789abcdef0123456789abcdef01234567"

    srv = fake(sends(b"\n$EOF:" + mark + b"\r\n" + sound_rdb + mark[:13],
                     mark[13:] + b"*1\r\n$4\r\nPING\r\n"))
    out = tmp_path / "f.rdb"
    r = pull(srv.port, out, "--json")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == sound_rdb
    assert json.loads(r.stdout)["framing"] == "eof"


def test_a_server_without_psync_gets_sync(fake, sound_rdb, tmp_path):
    def script(srv, conn, f):
        srv.handshake(conn, f, psync_reply=b"-ERR unknown command 'PSYNC', with args beginning with: \r\n")
        cmd = read_command(f)
        srv.seen.append(cmd)
        if cmd == [b"SYNC"]:
            conn.sendall(b"$%d\r\n" % len(sound_rdb) + sound_rdb)
        srv.release.wait(RUN_TIMEOUT)

    srv = fake(script)
    out = tmp_path / "f.rdb"
    r = pull(srv.port, out, "--json")
    assert r.returncode == 0, r.stderr
    assert srv.seen[-1] == [b"SYNC"]
    assert out.read_bytes() == sound_rdb
    assert json.loads(r.stdout)["offset"] == -1  # the sound_rdb was saved with no replication


def test_stale_temp_file_is_taken_over_and_a_running_pull_is_left_alone(fake, make_tandem,
                                                                          sound_rdb, tmp_path):
    out = tmp_path / "x.rdb"
    tmp = Path(str(out) + ".tmp")
    tmp.write_bytes(b"left by a killed pull" * 1000)
    src = make_tandem()
    src.client().set("k", "v")
    assert pull(src.port, out, "--quiet").returncode == 0
    assert not tmp.exists() and run("verify", out).returncode == 0

    stall = fake(sends(b"$%d\r\n" % len(sound_rdb) + sound_rdb[:50]))
    first = subprocess.Popen([str(BACKUP), "pull", "-p", str(stall.port), "-o", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: tmp.exists() and tmp.stat().st_size == 50, 10,
                   message="the first pull's temp file")
        r = pull(src.port, out)
        assert r.returncode == 5, r.stderr
        assert "another pull to the same file is running" in r.stderr
        assert tmp.stat().st_size == 50  # untouched
        assert run("verify", out).returncode == 0  # the earlier backup survives
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=RUN_TIMEOUT)
    assert first.returncode == 3
    assert not tmp.exists()


# ---------------------------------------------------------------- faults and exit codes

def test_usage_errors_exit_1(tmp_path):
    for args in (["pull", "-p", "1234"], ["pull", "-p", "notaport", "-o", "x"],
                 ["pull", "-o", tmp_path / "x", "--tls", "--cert", "c.crt"], ["nosuch"], [],
                 ["verify"], ["verify", "a", "b"], ["pull", "-o", "x", "--timeout", "0"]):
        r = run(*args)
        assert r.returncode == 1, (args, r.stderr)
        assert "Usage" in r.stderr
    assert not (tmp_path / "x").exists()


def test_help_documents_the_exit_codes():
    r = run("--help")
    assert r.returncode == 0
    for code in range(6):
        assert re.search(rf"^  {code}  ", r.stdout, re.M), code


def test_server_down_exits_2(tmp_path):
    out = tmp_path / "x.rdb"
    r = pull(free_port(), out)
    assert r.returncode == 2
    assert "Connection refused" in r.stderr
    assert_no_files(out)


def test_wrong_and_missing_password_exit_2(make_tandem, tmp_path):
    src = make_tandem(["--requirepass", "right"])
    out = tmp_path / "x.rdb"
    r = pull(src.port, out, "--pass", "wrong")
    assert r.returncode == 2 and "AUTH" in r.stderr, r.stderr
    assert_no_files(out)
    r = pull(src.port, out)
    assert r.returncode == 2 and "NOAUTH" in r.stderr, r.stderr
    assert_no_files(out)
    r = pull(src.port, out, "--user", "default", "--pass", "right", "--quiet")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("reply, code, text", [
    (b"-LOADING Redis is loading the dataset in memory\r\n", 2, "loading"),
    (b"-NOMASTERLINK Can't SYNC while not connected with my master\r\n", 2, "replica"),
    (b"-ERR something went wrong\r\n", 2, "refused"),
    (b"HTTP/1.1 400 Bad Request\r\n", 3, "protocol error"),
])
def test_refusals_and_garbage_in_the_handshake(fake, tmp_path, reply, code, text):
    def script(srv, conn, f):
        srv.seen.append(read_command(f))
        conn.sendall(reply)
        srv.release.wait(RUN_TIMEOUT)

    srv = fake(script)
    out = tmp_path / "x.rdb"
    r = pull(srv.port, out)
    assert r.returncode == code, r.stderr
    assert text in r.stderr
    assert_no_files(out)


@pytest.mark.parametrize("header", [b"$notanumber\r\n", b"+OK\r\n", b"-ERR BGSAVE failed\r\n"])
def test_bad_bulk_header_exits_3(fake, tmp_path, header):
    srv = fake(sends(header))
    out = tmp_path / "x.rdb"
    r = pull(srv.port, out)
    assert r.returncode == 3, r.stderr
    assert_no_files(out)


def test_garbage_payload_fails_verification_exit_4(fake, tmp_path):
    junk = bytes(range(256)) * 40

    srv = fake(sends(b"$%d\r\n" % len(junk) + junk))
    out = tmp_path / "x.rdb"
    r = pull(srv.port, out)
    assert r.returncode == 4, r.stderr
    assert "failed verification" in r.stderr and OFFSET_RX.search(r.stderr)
    assert_no_files(out)


@pytest.mark.parametrize("framing", ["length", "eof"])
def test_payload_with_a_flipped_byte_fails_its_checksum_exit_4(fake, sound_rdb, tmp_path, framing):
    at = sound_rdb.index(b"vvvvvvvvvv")
    bad = sound_rdb[:at] + b"w" + sound_rdb[at + 1:]
    mark = b"M" * 40
    head = b"$%d\r\n" % len(bad) if framing == "length" else b"$EOF:" + mark + b"\r\n"
    srv = fake(sends(head + bad + (mark if framing == "eof" else b"")))
    out = tmp_path / "x.rdb"
    r = pull(srv.port, out)
    assert r.returncode == 4, r.stderr
    assert "Wrong RDB checksum" in r.stderr
    assert f"at offset {len(bad) - 8}" in r.stderr
    assert_no_files(out)


def test_pull_of_a_dump_saved_without_checksum(make_tandem, tmp_path):
    src = make_tandem(["--rdbchecksum", "no"])
    src.client().set("a", "1")
    out = tmp_path / "x.rdb"
    r = pull(src.port, out, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["checksum"] is None
    assert out.read_bytes()[-8:] == b"\0" * 8


@pytest.mark.parametrize("framing", ["length", "eof"])
def test_link_cut_mid_transfer_exits_3(fake, sound_rdb, tmp_path, framing):
    head = b"$%d\r\n" % len(sound_rdb) if framing == "length" else b"$EOF:" + b"m" * 40 + b"\r\n"
    srv = fake(sends(head + sound_rdb[:len(sound_rdb) // 2], hold=False))
    out = tmp_path / "x.rdb"
    out_old = b"previous backup"
    out.write_bytes(out_old)
    r = pull(srv.port, out)
    assert r.returncode == 3, r.stderr
    assert "closed the connection" in r.stderr
    assert out.read_bytes() == out_old
    assert not Path(str(out) + ".tmp").exists()


def test_silence_times_out(fake, sound_rdb, tmp_path):
    def silent(srv, conn, f):
        srv.release.wait(RUN_TIMEOUT)

    stalls = sends(b"$%d\r\n" % len(sound_rdb) + sound_rdb[:50])
    for script, code in ((silent, 2), (stalls, 3)):
        srv = fake(script)
        out = tmp_path / "x.rdb"
        r = pull(srv.port, out, "--timeout", "1")
        assert r.returncode == code, r.stderr
        assert "timed out" in r.stderr
        assert_no_files(out)
        srv.close()


def test_sigint_mid_transfer_exits_3_and_cleans_up(fake, sound_rdb, tmp_path):
    srv = fake(sends(b"$%d\r\n" % len(sound_rdb) + sound_rdb[:50]))
    out = tmp_path / "x.rdb"
    tmp = Path(str(out) + ".tmp")
    proc = subprocess.Popen([str(BACKUP), "pull", "-p", str(srv.port), "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: tmp.exists() and tmp.stat().st_size == 50, 10,
                   message="50 bytes in the temp file")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 3, err
    assert "interrupted" in err
    assert_no_files(out)


def test_unwritable_destination_exits_5(make_tandem, tmp_path):
    src = make_tandem()
    out = tmp_path / "no" / "such" / "dir" / "x.rdb"
    r = pull(src.port, out)
    assert r.returncode == 5 and "No such file" in r.stderr, r.stderr


def test_full_disk_exits_5(make_tandem, tmp_path):
    """A file size limit (RLIMIT_FSIZE) makes write(2) fail with EFBIG, as
    a full disk fails with ENOSPC: the tool must clean up the same way."""
    src = make_tandem()
    fill(src, n=2000)
    out = tmp_path / "x.rdb"
    out.write_bytes(b"old")

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    r = pull(src.port, out, preexec_fn=limit)
    assert r.returncode == 5, r.stderr
    assert "File too large" in r.stderr
    assert out.read_bytes() == b"old"
    assert not Path(str(out) + ".tmp").exists()
    assert one(src, "PING") == "PONG"

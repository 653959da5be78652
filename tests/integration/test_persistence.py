"""RDB persistence end to end: BGSAVE and SAVE then a restart keep every key,
value and TTL; LASTSAVE; save points; a background save killed, failing on an
unusable directory or on a full disk leaves the previous dump byte for byte
and turns on MISCONF until a save succeeds; a corrupt dump stops start-up
(exit 1, the offset in the message, the file untouched); -LOADING replies
during a slow load; the final save of SHUTDOWN and SIGTERM; DEBUG RELOAD;
dumps exchanged with Debian's redis-server both ways; INFO persistence field
names against Redis 7.0.
"""
import os
import re
import shutil
import signal
import time

import pytest

from conftest import (RespError, RespReader, TandemServer, encode_command, info_fields,
                      raw_connect, recv_until_closed, session, wait_until)

DEBUG = ["--enable-debug-command", "yes"]
MISCONF = "MISCONF Redis is configured to save RDB snapshots"
BIG_KEYS = 300000


def info(srv):
    return info_fields(srv, "persistence")


def wait_bgsave_done(srv, timeout=30):
    wait_until(lambda: info(srv)["rdb_bgsave_in_progress"] == "0", timeout,
               message="the background save to end")


def bgsave(srv):
    """BGSAVE, then waits for the child to end; returns the status field."""
    assert session(srv, [("BGSAVE",)])[0] == "Background saving started"
    wait_bgsave_done(srv)
    return info(srv)["rdb_last_bgsave_status"]


def child_pid_from_log(srv):
    pids = re.findall(r"Background saving started by pid (\d+)", srv.read_log())
    assert pids, "no background save was logged"
    return int(pids[-1])


def fill(srv):
    """666 keys in three databases, some with TTLs, some integers, one big
    value each; returns {(db, key): ttl_ms}."""
    ttls, commands = {}, []
    for db in (0, 3, 15):
        commands.append(("SELECT", db))
        for i in range(200):
            commands.append(("SET", f"k{db}:{i}", f"value-{i}" * (i % 7 + 1)))
        commands.append(("SET", f"int{db}", 12345))
        commands.append(("SET", f"big{db}", "x" * 100000))
        for i in range(20):
            commands.append(("SET", f"ttl{db}:{i}", i, "PX", 600000 + i))
            ttls[(db, f"ttl{db}:{i}")] = 600000 + i
    assert all(reply == "OK" for reply in session(srv, commands))
    return ttls


def digest(srv):
    return session(srv, [("DEBUG", "DIGEST")])[0]


def check_ttls(srv, ttls):
    for (db, key), original in ttls.items():
        ttl = session(srv, [("SELECT", db), ("PTTL", key)])[1]
        assert 0 < ttl <= original, f"{key} in db {db}: pttl {ttl}"


def restart(srv, args=DEBUG):
    """Stops without saving and starts again in the same directory."""
    with raw_connect(srv.port) as s:
        s.sendall(encode_command("SHUTDOWN", "NOSAVE"))
        recv_until_closed(s)
    assert srv.wait_exit() == 0
    srv.start(args)


# ------------------------------------------------------------ save and load


def test_bgsave_then_restart_keeps_everything(make_tandem):
    srv = make_tandem(DEBUG)
    ttls = fill(srv)
    before = digest(srv)
    assert bgsave(srv) == "ok"
    srv.wait_for_log(r"Background saving terminated with success")
    srv.wait_for_log(r"\d+:C .* DB saved on disk")
    srv.wait_for_log(r"\d+:C .* Fork CoW for RDB: current \d+ MB, peak \d+ MB, average \d+ MB")
    assert info(srv)["rdb_changes_since_last_save"] == "0"
    restart(srv)
    assert digest(srv) == before
    check_ttls(srv, ttls)
    log = srv.read_log()
    assert "Loading RDB produced by version 7.0.15" in log
    assert re.search(r"RDB age \d+ seconds", log)
    assert re.search(r"RDB memory usage when created [\d.]+ Mb", log)
    assert re.search(r"Done loading RDB, keys loaded: 666, keys expired: 0\.", log)
    assert re.search(r"DB loaded from disk: \d+\.\d{3} seconds", log)
    assert log.rindex("DB loaded from disk") < log.rindex("Ready to accept connections")
    fields = info(srv)
    assert fields["rdb_last_load_keys_loaded"] == "666"
    assert fields["rdb_last_load_keys_expired"] == "0"


def test_save_command_and_lastsave(make_tandem):
    srv = make_tandem(DEBUG)
    r = srv.client()
    first = r.lastsave()
    r.set("a", "1")
    # LASTSAVE counts seconds: wait for the clock to pass the last one.
    wait_until(lambda: time.time() >= first.timestamp() + 1.1, 5)
    assert r.save() is True
    assert r.lastsave() > first
    fields = info(srv)
    assert fields["rdb_changes_since_last_save"] == "0"
    assert fields["rdb_saves"] == "1"
    assert fields["rdb_last_save_time"] == str(int(r.lastsave().timestamp()))
    assert (srv.dir / "dump.rdb").is_file()
    assert not list(srv.dir.glob("temp-*.rdb"))
    restart(srv)
    assert srv.client().get("a") == "1"


def test_save_points_start_a_bgsave(make_tandem):
    srv = make_tandem(["--save", "1 1"])
    r = srv.client()
    first = r.lastsave()
    r.set("a", "1")
    srv.wait_for_log(r"1 changes in 1 seconds\. Saving\.\.\.")
    srv.wait_for_log(r"Background saving started by pid \d+")
    wait_until(lambda: r.lastsave() > first, 15, message="LASTSAVE to change")
    srv.wait_for_log(r"Background saving terminated with success")
    assert info(srv)["rdb_changes_since_last_save"] == "0"
    assert info_fields(srv, "stats")["total_forks"] == "1"


def test_bgsave_replies(make_tandem):
    srv = make_tandem(DEBUG + ["--rdb-key-save-delay", "2000"])
    session(srv, [("DEBUG", "POPULATE", "2000")])
    replies = session(srv, [("BGSAVE", "NOW"), ("BGSAVE", "SCHEDULE", "x"), ("BGSAVE",),
                            ("BGSAVE",), ("BGSAVE", "SCHEDULE"), ("SAVE",)])
    assert replies[0] == RespError("ERR syntax error")
    assert replies[1] == RespError("ERR syntax error")
    assert replies[2] == "Background saving started"
    for reply in replies[3:]:
        assert reply == RespError("ERR Background save already in progress")
    fields = info(srv)
    assert fields["rdb_bgsave_in_progress"] == "1"
    assert int(fields["rdb_current_bgsave_time_sec"]) >= 0
    assert fields["current_save_keys_total"] == "2000"
    session(srv, [("CONFIG", "SET", "rdb-key-save-delay", "0")])
    # The delay was read at the fork: kill the slow child instead of waiting.
    os.kill(child_pid_from_log(srv), signal.SIGUSR1)
    wait_bgsave_done(srv)
    assert session(srv, [("BGSAVE", "SCHEDULE")])[0] == "Background saving started"
    wait_bgsave_done(srv)
    assert info(srv)["rdb_last_bgsave_status"] == "ok"


def test_debug_reload(make_tandem):
    srv = make_tandem(DEBUG)
    ttls = fill(srv)
    before = digest(srv)
    assert session(srv, [("DEBUG", "RELOAD")])[0] == "OK"
    assert digest(srv) == before
    check_ttls(srv, ttls)
    srv.wait_for_log(r"DB reloaded by DEBUG RELOAD")
    assert session(srv, [("DEBUG", "RELOAD", "BOGUS")])[0] == RespError(
        "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")


def test_debug_reload_failure_keeps_the_dataset(make_tandem):
    srv = make_tandem(DEBUG)
    fill(srv)
    before = digest(srv)
    # No file to load: the dataset stays.
    assert session(srv, [("DEBUG", "RELOAD", "NOSAVE")])[0] == RespError(
        "ERR Error trying to load the RDB dump")
    assert digest(srv) == before
    # A damaged file: the same.
    assert session(srv, [("SAVE",)])[0] == "OK"
    dump = srv.dir / "dump.rdb"
    data = dump.read_bytes()
    dump.write_bytes(data[: len(data) // 2])
    assert session(srv, [("DEBUG", "RELOAD", "NOSAVE")])[0] == RespError(
        "ERR Error trying to load the RDB dump")
    assert digest(srv) == before
    assert dump.read_bytes() == data[: len(data) // 2]


# ------------------------------------------------------------ failures


def test_killed_child_keeps_old_dump_then_misconf(make_tandem):
    srv = make_tandem(DEBUG)
    session(srv, [("DEBUG", "POPULATE", "20000")])
    assert session(srv, [("SAVE",)])[0] == "OK"
    dump = srv.dir / "dump.rdb"
    good = dump.read_bytes()
    session(srv, [("SET", "new", "key"), ("CONFIG", "SET", "rdb-key-save-delay", "1000")])
    assert session(srv, [("BGSAVE",)])[0] == "Background saving started"
    pid = child_pid_from_log(srv)
    children = os.popen(f"pgrep -P {srv.pid}").read().split()
    assert str(pid) in children
    wait_until(lambda: (srv.dir / f"temp-{pid}.rdb").exists(), 10,
               message="the child's temp file")
    os.kill(pid, signal.SIGKILL)
    srv.wait_for_log(r"Background saving terminated by signal 9")
    wait_bgsave_done(srv)
    assert dump.read_bytes() == good
    assert not (srv.dir / f"temp-{pid}.rdb").exists()
    assert info(srv)["rdb_last_bgsave_status"] == "err"
    # MISCONF: writes and PING are refused, reads are served.
    replies = session(srv, [("SET", "a", "1"), ("PING",), ("GET", "new"), ("INCR", "n")])
    assert replies[0].startswith(MISCONF) and isinstance(replies[0], RespError)
    assert replies[1].startswith(MISCONF)
    assert replies[2] == b"key"
    assert replies[3].startswith(MISCONF)
    assert replies[0] == RespError(
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
        "persist to disk. Commands that may modify the data set are disabled, because this "
        "instance is configured to report errors during writes if RDB snapshotting fails "
        "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about "
        "the RDB error.")
    # stop-writes-on-bgsave-error no lifts it; so does a successful save.
    session(srv, [("CONFIG", "SET", "stop-writes-on-bgsave-error", "no")])
    assert session(srv, [("SET", "a", "1")])[0] == "OK"
    session(srv, [("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"),
                  ("CONFIG", "SET", "rdb-key-save-delay", "0")])
    assert session(srv, [("SET", "a", "1")])[0].startswith(MISCONF)
    assert bgsave(srv) == "ok"
    assert session(srv, [("SET", "a", "2"), ("PING",)]) == ["OK", "PONG"]
    assert dump.read_bytes() != good


def test_unusable_dir_keeps_old_dump(make_tandem):
    srv = make_tandem(DEBUG)
    r = srv.client()
    r.set("a", "1")
    assert r.save() is True
    dump = srv.dir / "dump.rdb"
    good = dump.read_bytes()
    # A working directory that vanished: nothing can be created in it (this
    # works as root, where permissions would not stop the server).
    gone = srv.dir / "gone"
    gone.mkdir()
    r.config_set("dir", str(gone))
    gone.rmdir()
    r.set("b", "2")
    assert bgsave(srv) == "err"
    srv.wait_for_log(r"Failed opening the temp RDB file temp-\d+\.rdb .* for saving: "
                     r"No such file or directory")
    srv.wait_for_log(r"Background saving error")
    assert session(srv, [("SAVE",)])[0] == RespError("ERR")
    assert session(srv, [("SET", "c", "3")])[0].startswith(MISCONF)
    assert dump.read_bytes() == good
    r.config_set("dir", str(srv.dir))
    assert bgsave(srv) == "ok"
    assert session(srv, [("SET", "c", "3")])[0] == "OK"


class FsizeLimitedTandem(TandemServer):
    """A tandem whose files may not grow past limit bytes (RLIMIT_FSIZE)."""

    limit = 1024 * 1024

    def command_line(self, args, config_text):
        return (["prlimit", f"--fsize={self.limit}", "--"]
                + super().command_line(args, config_text))


def test_full_disk_keeps_old_dump(tmp_path):
    srv = FsizeLimitedTandem(tmp_path / "fsize")
    try:
        srv.start(DEBUG + ["--rdbcompression", "no"])
        r = srv.client()
        r.set("a", "1")
        assert r.save() is True
        dump = srv.dir / "dump.rdb"
        good = dump.read_bytes()
        session(srv, [("DEBUG", "POPULATE", "20000", "key", "100")])
        assert bgsave(srv) == "err"
        srv.wait_for_log(r"Write error saving DB on disk\(.*\): File too large")
        assert session(srv, [("SAVE",)])[0] == RespError("ERR")
        assert srv.alive()
        assert dump.read_bytes() == good
        assert not list(srv.dir.glob("temp-*.rdb"))
        assert session(srv, [("GET", "a")])[0] == b"1"
    finally:
        srv.stop()


@pytest.fixture
def saved_dump(make_tandem):
    """A small valid dump, as bytes."""
    srv = make_tandem(DEBUG)
    fill(srv)
    assert session(srv, [("SAVE",)])[0] == "OK"
    return (srv.dir / "dump.rdb").read_bytes()


def corrupt(data, how):
    if how == "truncated-half":
        return data[: len(data) // 2]
    if how == "truncated-checksum":
        return data[:-3]
    if how == "flipped-byte":
        i = len(data) // 2
        return data[:i] + bytes([data[i] ^ 0x5A]) + data[i + 1:]
    if how == "bad-magic":
        return b"REDIZ" + data[5:]
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["truncated-half", "truncated-checksum", "flipped-byte",
                                 "bad-magic"])
def test_corrupt_dump_stops_startup(make_tandem, saved_dump, how):
    srv = make_tandem(DEBUG, start=False)
    dump = srv.dir / "dump.rdb"
    bad = corrupt(saved_dump, how)
    dump.write_bytes(bad)
    srv.spawn(DEBUG)
    assert srv.wait_exit(15) == 1
    log = srv.read_log()
    assert re.search(r"Fatal error loading the DB: .*offset \d+.*\. Exiting\.", log), log[-2000:]
    assert "Ready to accept connections" not in log
    assert dump.read_bytes() == bad


# ------------------------------------------------------------ loading


@pytest.fixture(scope="module")
def big_dump(tmp_path_factory):
    """An uncompressed dump of BIG_KEYS keys (about 25 MB), as bytes."""
    srv = TandemServer(tmp_path_factory.mktemp("bigdump"))
    try:
        srv.start(DEBUG + ["--rdbcompression", "no", "--save", ""])
        session(srv, [("DEBUG", "POPULATE", BIG_KEYS, "key", "64"), ("SAVE",)])
        return (srv.dir / "dump.rdb").read_bytes()
    finally:
        srv.stop()


def spawn_loading(make_tandem, big_dump):
    """Starts a tandem on the big dump with a slow load; returns it with a
    connection made while it loads."""
    srv = make_tandem(start=False)
    (srv.dir / "dump.rdb").write_bytes(big_dump)
    srv.spawn(DEBUG + ["--key-load-delay", "10"])

    def connect():
        try:
            return raw_connect(srv.port)
        except OSError:
            return None

    return srv, wait_until(connect, 15, message="the port to accept")


def test_loading_replies(make_tandem, big_dump):
    srv, sock = spawn_loading(make_tandem, big_dump)
    with sock:
        reader = RespReader(sock, timeout=30)
        assert reader.command("PING") == RespError(
            "LOADING Redis is loading the dataset in memory")
        assert reader.command("GET", "key:1") == RespError(
            "LOADING Redis is loading the dataset in memory")
        text = reader.command("INFO", "persistence").decode()
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        assert fields["loading"] == "1"
        assert int(fields["loading_total_bytes"]) == len(big_dump)
        for name in ("loading_start_time", "loading_rdb_used_mem", "loading_loaded_bytes",
                     "loading_loaded_perc", "loading_eta_seconds"):
            assert name in fields
        assert isinstance(reader.command("LASTSAVE"), int)
        wait_until(lambda: reader.command("PING") == "PONG", 120, interval=0.1,
                   message="the load to end")
        assert reader.command("DBSIZE") == BIG_KEYS
        text = reader.command("INFO", "persistence").decode()
        assert "\r\nloading:0\r\n" in text and "loading_start_time" not in text
    log = srv.read_log()
    assert re.search(r"Loading RDB: \d+% \(\d+ MB\)", log)
    assert f"Done loading RDB, keys loaded: {BIG_KEYS}, keys expired: 0." in log


def test_sigterm_while_loading_keeps_the_file(make_tandem, big_dump):
    srv, sock = spawn_loading(make_tandem, big_dump)
    with sock:
        reader = RespReader(sock, timeout=30)
        assert reader.command("PING") == RespError(
            "LOADING Redis is loading the dataset in memory")
        os.kill(srv.pid, signal.SIGTERM)
        assert srv.wait_exit(30) == 0
    log = srv.read_log()
    assert "Saving the final RDB snapshot" not in log
    assert (srv.dir / "dump.rdb").read_bytes() == big_dump


# ------------------------------------------------------------ shutdown


def shutdown(srv, *args):
    """SHUTDOWN with args: None when the server went away, else the reply."""
    with raw_connect(srv.port) as s:
        try:
            return RespReader(s, timeout=15).command("SHUTDOWN", *args)
        except ConnectionError:
            return None


def test_shutdown_saves_with_save_points(make_tandem):
    srv = make_tandem()
    srv.client().set("a", "1")
    assert shutdown(srv) is None
    assert srv.wait_exit() == 0
    log = srv.read_log()
    assert log.index("Saving the final RDB snapshot before exiting.") < log.rindex(
        "DB saved on disk")
    srv.start()
    assert srv.client().get("a") == "1"


def test_shutdown_nosave_and_no_save_points(make_tandem):
    srv = make_tandem()
    srv.client().set("a", "1")
    assert shutdown(srv, "NOSAVE") is None
    assert srv.wait_exit() == 0
    assert not (srv.dir / "dump.rdb").exists()
    srv.start(["--save", ""])
    srv.client().set("a", "1")
    assert shutdown(srv) is None
    assert srv.wait_exit() == 0
    assert not (srv.dir / "dump.rdb").exists()
    srv.start(["--save", ""])
    srv.client().set("b", "2")
    assert shutdown(srv, "SAVE") is None
    assert srv.wait_exit() == 0
    srv.start()
    assert srv.client().get("b") == "2"


def test_sigterm_saves(make_tandem):
    srv = make_tandem()
    srv.client().set("a", "1")
    os.kill(srv.pid, signal.SIGTERM)
    assert srv.wait_exit() == 0
    assert "Saving the final RDB snapshot before exiting." in srv.read_log()
    srv.start()
    assert srv.client().get("a") == "1"


def test_shutdown_kills_a_running_child(make_tandem):
    srv = make_tandem(DEBUG + ["--rdb-key-save-delay", "1000"])
    session(srv, [("DEBUG", "POPULATE", "5000"), ("BGSAVE",)])
    pid = child_pid_from_log(srv)
    session(srv, [("CONFIG", "SET", "rdb-key-save-delay", "0")])
    assert shutdown(srv) is None
    assert srv.wait_exit() == 0
    log = srv.read_log()
    assert "There is a child saving an .rdb. Killing it!" in log
    assert not (srv.dir / f"temp-{pid}.rdb").exists()
    srv.start(DEBUG)
    assert session(srv, [("DBSIZE",)])[0] == 5000


def test_failed_final_save(make_tandem):
    srv = make_tandem()
    r = srv.client()
    r.set("a", "1")
    gone = srv.dir / "gone"
    gone.mkdir()
    r.config_set("dir", str(gone))
    gone.rmdir()
    assert shutdown(srv) == RespError("ERR Errors trying to SHUTDOWN. Check logs.")
    srv.wait_for_log(r"Error trying to save the DB, can't exit\.")
    # SIGTERM: the same failure keeps the server running.
    os.kill(srv.pid, signal.SIGTERM)
    wait_until(lambda: srv.read_log().count("Error trying to save the DB, can't exit.") == 2, 10)
    assert session(srv, [("GET", "a")])[0] == b"1"
    assert srv.alive()
    # FORCE exits anyway.
    assert shutdown(srv, "FORCE") is None
    assert srv.wait_exit() == 0
    assert "Error trying to save the DB. Exit anyway." in srv.read_log()


# ------------------------------------------------------------ compatibility


def test_dumps_load_both_ways_with_redis(make_tandem, make_redis):
    t = make_tandem(DEBUG)
    fill(t)
    assert session(t, [("SAVE",)])[0] == "OK"
    r = make_redis(DEBUG, start=False)
    shutil.copy(t.dir / "dump.rdb", r.dir / "dump.rdb")
    r.start(DEBUG)
    assert digest(r) == digest(t)
    # And back: Redis writes, tandem loads.
    session(r, [("SET", "from-redis", "yes"), ("SET", "n", "99"), ("SAVE",)])
    t2 = make_tandem(DEBUG, start=False)
    shutil.copy(r.dir / "dump.rdb", t2.dir / "dump.rdb")
    t2.start(DEBUG)
    assert digest(t2) == digest(r)


def test_info_persistence_has_every_redis_field(tandem, redis_server):
    mine, theirs = info(tandem), info(redis_server)
    missing = [name for name in theirs if name not in mine]
    assert not missing, f"tandem lacks {missing}"
    assert list(mine)[: len(theirs)] == list(theirs)
    stats = info_fields(tandem, "stats")
    assert "latest_fork_usec" in stats and "total_forks" in stats


def test_save_directive(make_tandem):
    srv = make_tandem(config_text='save 100 1\nsave 200 2\n')
    r = srv.client()
    assert r.config_get("save") == {"save": "100 1 200 2"}
    assert r.config_set("save", "5 5") is True
    assert r.config_get("save") == {"save": "5 5"}
    for bad in ("1", "0 1", "1 -1", "a 1"):
        reply = session(srv, [("CONFIG", "SET", "save", bad)])[0]
        assert reply == RespError("ERR CONFIG SET failed (possibly related to argument 'save') "
                                  "- Invalid save parameters")
    assert r.config_set("save", "") is True
    assert r.config_get("save") == {"save": ""}
    other = make_tandem()
    assert other.client().config_get("save") == {"save": "3600 1 300 100 60 10000"}
    cleared = make_tandem(config_text='save 100 1\nsave ""\n')
    assert cleared.client().config_get("save") == {"save": ""}
    got = other.client().config_get("rdb*")
    assert got["rdbcompression"] == "yes" and got["rdbchecksum"] == "yes"
    assert other.client().config_get("dbfilename") == {"dbfilename": "dump.rdb"}
    assert other.client().config_get("rdb-key-save-delay") == {"rdb-key-save-delay": "0"}
    assert other.client().config_get("key-load-delay") == {"key-load-delay": "0"}


def test_dbfilename_cannot_be_a_path(make_tandem):
    srv = make_tandem(start=False)
    srv.spawn(["--dbfilename", "sub/dump.rdb"])
    assert srv.wait_exit() == 1
    assert "dbfilename can't be a path, just a filename" in srv.read_stderr()

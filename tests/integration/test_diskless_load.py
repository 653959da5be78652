"""repl-diskless-load on the replica (Redis 7.0 semantics): disabled (a temp
file), on-empty-db (straight from the socket when the dataset is empty,
-LOADING meanwhile) and swapdb (straight from the socket into a new dataset
while the old one keeps serving, swapped in once whole).

Each mode against a tandem primary and against Debian's redis-server 7.0
(both RDB framings for each: "$<len>" with repl-diskless-sync no,
"$EOF:<mark>" with yes), 100,000 keys, digests equal; no temp-*.rdb ever
appears in the replica's dir in the diskless modes (the folder is sampled
during a slow load); swapdb: clients read the old value (no -LOADING, INFO
loading:0 and async_loading:1) during a slow load and during a slow transfer
(from tandem and from redis), REPLICAOF and SAVE are refused with -LOADING
meanwhile, and the new value answers after; a transfer cut mid-way (the
primary killed, or CLIENT KILL TYPE replica), garbage, a short payload, a
silent primary (repl-timeout) and a broken EOF mark leave the old dataset
whole and the replica retries; on-empty-db with keys goes through the disk;
the primary's newline keep-alives before the header, and stream bytes right
after the mark, still work; the commands flagged no_async_loading are those
of Redis; swapdb over TLS (tls-replication) from tandem and from redis.
Every wait is bounded.
A primary played by hand (a Python socket) makes the faults exact.
"""
import os
import signal
import socket
import threading

import pytest

from conftest import RespError, digest, info_fields, one, repl, wait_until
from test_repl_replica import DEBUG, assert_same_data, describe, fill_mixed, replicaof_args
from test_tls import certs, repl_extra, start_tls  # noqa: F401 (certs: a fixture)

SYNC_TIMEOUT = 60
MODES = ["disabled", "on-empty-db", "swapdb"]


def sync_args(sync):
    """A primary (tandem or Redis) that syncs through disk ("$<len>") or
    straight to the socket ("$EOF:<mark>"), at once."""
    return ["--repl-diskless-sync", sync, "--repl-diskless-sync-delay", "0"]


def framing_line(sync, where):
    framing = "streamed RDB from master with EOF" if sync == "yes" else "bytes from master"
    return f"{framing} to {where}"


# ---------------------------------------------------------------- helpers


def tandem_replica(make_tandem, primary, mode, *args):
    return make_tandem(DEBUG + ["--repl-diskless-load", mode] + replicaof_args(primary) +
                       list(args))


def temp_files(srv):
    return [n for n in os.listdir(srv.dir) if n.startswith("temp-")]


class DirWatch(threading.Thread):
    """Samples a server's folder until stopped; remembers every temp file."""

    def __init__(self, srv):
        super().__init__(daemon=True)
        self.srv = srv
        self.seen = set()
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.seen.update(temp_files(self.srv))
            self.done.wait(0.002)

    def stop(self):
        self.done.set()
        self.join(10)
        return self.seen


def async_loading(srv):
    return info_fields(srv, "persistence").get("async_loading") == "1"


def wait_async_loading(primary, replica):
    wait_until(lambda: async_loading(replica), SYNC_TIMEOUT, interval=0.01,
               message=describe(primary, replica))


def failures(replica):
    return int(repl(replica)["tandem_link_failures"])


def check_old_data_served(replica, expected_digest):
    """During a swapdb load: the old dataset answers, without -LOADING."""
    assert one(replica, "GET", "k") == b"old"
    assert digest(replica) == expected_digest
    p = info_fields(replica, "persistence")
    assert p["loading"] == "0" and p["async_loading"] == "1"
    assert repl(replica)["master_sync_in_progress"] == "1"


# ------------------------------------------------------ tandem <- tandem


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sync", ["yes", "no"])
def test_each_mode_from_a_tandem_primary(make_tandem, mode, sync):
    primary = make_tandem(DEBUG + sync_args(sync))
    assert one(primary, "DEBUG", "POPULATE", 100000) == "OK"
    # A slow load (the replica sleeps after keys) leaves time to sample the
    # folder: the disk mode's temp file shows that the sampling sees it.
    replica = make_tandem(DEBUG + ["--repl-diskless-load", mode, "--key-load-delay", "-20"])
    watch = DirWatch(replica)
    watch.start()
    assert one(replica, "REPLICAOF", "127.0.0.1", primary.port) == "OK"
    assert_same_data(primary, replica)
    seen = watch.stop()
    assert one(replica, "DBSIZE") == 100000
    log = replica.read_log()
    assert "Done loading RDB, keys loaded: 100000" in log
    if mode == "disabled":
        assert seen, "the temp file of the disk mode was never seen"
        assert framing_line(sync, "disk") in log
    else:
        assert not seen, f"diskless {mode} wrote {seen}"
        assert framing_line(sync, "parser") in log
    assert temp_files(replica) == []


def test_on_empty_db_with_data_goes_through_the_disk(make_tandem):
    primary = make_tandem(DEBUG + sync_args("no"))
    assert one(primary, "DEBUG", "POPULATE", 1000) == "OK"
    replica = make_tandem(DEBUG + ["--repl-diskless-load", "on-empty-db"])
    assert one(replica, "SET", "mine", "1") == "OK"
    assert one(replica, "REPLICAOF", "127.0.0.1", primary.port) == "OK"
    assert_same_data(primary, replica)
    log = replica.read_log()
    assert "the dataset holds 1 keys, loading through a file on disk" in log
    assert "bytes from master to disk" in log
    # Empty again (REPLICAOF NO ONE, FLUSHALL): the next sync is diskless.
    assert one(replica, "REPLICAOF", "NO", "ONE") == "OK"
    assert one(replica, "FLUSHALL") == "OK"
    assert one(replica, "REPLICAOF", "127.0.0.1", primary.port) == "OK"
    assert_same_data(primary, replica)
    assert "the dataset is empty, loading from the socket" in replica.read_log()


def test_on_empty_db_answers_loading_while_it_loads(make_tandem):
    primary = make_tandem(DEBUG + sync_args("yes") + ["--rdbcompression", "no"])
    assert one(primary, "DEBUG", "POPULATE", 30000, "key", 300) == "OK"
    replica = make_tandem(DEBUG + ["--repl-diskless-load", "on-empty-db",
                                   "--key-load-delay", "100"])
    assert one(replica, "REPLICAOF", "127.0.0.1", primary.port) == "OK"
    wait_until(lambda: info_fields(replica, "persistence").get("loading") == "1", SYNC_TIMEOUT,
               interval=0.01, message=describe(primary, replica))
    reply = one(replica, "GET", "key:1")
    assert isinstance(reply, RespError) and str(reply).startswith("LOADING"), reply
    assert info_fields(replica, "persistence")["async_loading"] == "0"
    assert int(repl(replica)["master_sync_read_bytes"]) > 0
    assert_same_data(primary, replica)


def test_swapdb_serves_the_old_data_during_a_slow_load(make_tandem):
    primary = make_tandem(DEBUG + sync_args("yes") + ["--rdbcompression", "no"])
    assert one(primary, "DEBUG", "POPULATE", 30000, "key", 300) == "OK"
    assert one(primary, "SET", "k", "new") == "OK"
    # 30,000 keys at 200 us: a 6 s load, so that the checks below run well
    # inside it even on a loaded machine.
    replica = make_tandem(DEBUG + ["--repl-diskless-load", "swapdb", "--key-load-delay", "200"])
    assert one(replica, "SET", "k", "old") == "OK"
    old = digest(replica)
    assert one(replica, "REPLICAOF", "127.0.0.1", primary.port) == "OK"
    wait_async_loading(primary, replica)
    check_old_data_served(replica, old)
    # What would tear the link down under the loader waits for the load.
    for cmd in (("REPLICAOF", "NO", "ONE"), ("REPLICAOF", "127.0.0.1", primary.port + 1),
                ("SAVE",), ("BGSAVE",), ("DEBUG", "RELOAD")):
        reply = one(replica, *cmd)
        assert isinstance(reply, RespError) and str(reply).startswith("LOADING"), (cmd, reply)
    assert one(replica, "GET", "k") == b"old"
    assert_same_data(primary, replica)
    assert one(replica, "GET", "k") == b"new"
    p = info_fields(replica, "persistence")
    assert p["loading"] == "0" and p["async_loading"] == "0"
    log = replica.read_log()
    assert "Swapping active DB with loaded DB" in log
    assert "Flushing old data" not in log


# --------------------------------------------------------- tandem <- redis


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sync", ["yes", "no"])
def test_each_mode_from_a_redis_primary(make_tandem, make_redis, mode, sync):
    redis = make_redis(DEBUG + sync_args(sync))
    assert one(redis, "DEBUG", "POPULATE", 100000) == "OK"
    fill_mixed(redis)
    replica = tandem_replica(make_tandem, redis, mode)
    assert_same_data(redis, replica)
    log = replica.read_log()
    assert framing_line(sync, "disk" if mode == "disabled" else "parser") in log
    assert temp_files(replica) == []
    # The stream goes on after the sync, whatever the mode.
    assert one(redis, "SET", "after", "1") == "OK"
    assert_same_data(redis, replica)


def slow_primary(make_server, keys=20000):
    """A diskless primary (tandem or redis) whose transfer takes seconds: its
    child sleeps 100 us after each key it writes to the socket."""
    primary = make_server(DEBUG + sync_args("yes") + ["--rdb-key-save-delay", "100"])
    assert one(primary, "DEBUG", "POPULATE", keys) == "OK"
    assert one(primary, "SET", "k", "new") == "OK"
    return primary


def replica_with_old_data(make_tandem):
    replica = make_tandem(DEBUG + ["--repl-diskless-load", "swapdb"])
    assert one(replica, "SET", "k", "old") == "OK"
    assert one(replica, "DEBUG", "POPULATE", 500, "mine") == "OK"
    return replica, digest(replica)


@pytest.mark.parametrize("impl", ["tandem", "redis"])
def test_swapdb_serves_the_old_data_during_a_slow_transfer(make_tandem, make_redis, impl):
    primary = slow_primary(make_tandem if impl == "tandem" else make_redis)
    replica, old = replica_with_old_data(make_tandem)
    assert one(replica, "REPLICAOF", "127.0.0.1", primary.port) == "OK"
    wait_async_loading(primary, replica)
    read = int(repl(replica)["master_sync_read_bytes"])
    check_old_data_served(replica, old)
    wait_until(lambda: int(repl(replica)["master_sync_read_bytes"]) > read, SYNC_TIMEOUT,
               interval=0.01)
    assert one(replica, "GET", "k") == b"old"
    assert_same_data(primary, replica)
    assert one(replica, "GET", "k") == b"new"
    assert "streamed RDB from master with EOF to parser" in replica.read_log()


@pytest.mark.parametrize("impl", ["tandem", "redis"])
@pytest.mark.parametrize("cut", ["client kill", "primary killed"])
def test_swapdb_keeps_the_old_data_when_the_transfer_is_cut(make_tandem, make_redis, cut, impl):
    primary = slow_primary(make_tandem if impl == "tandem" else make_redis)
    replica, old = replica_with_old_data(make_tandem)
    assert one(replica, "REPLICAOF", "127.0.0.1", primary.port) == "OK"
    wait_async_loading(primary, replica)
    wait_until(lambda: int(repl(replica)["master_sync_read_bytes"]) > 50000, SYNC_TIMEOUT,
               interval=0.01)
    before = failures(replica)
    if cut == "client kill":
        assert one(primary, "CLIENT", "KILL", "TYPE", "replica") >= 1
    else:
        os.kill(primary.pid, signal.SIGKILL)
        primary.proc.wait(10)
    wait_until(lambda: failures(replica) > before, SYNC_TIMEOUT, interval=0.01,
               message=describe(primary, replica) if cut == "client kill" else "a failure")
    assert not async_loading(replica)
    assert digest(replica) == old
    assert one(replica, "GET", "k") == b"old"
    log = replica.read_log()
    assert "Failed trying to load the MASTER synchronization DB from socket" in log
    assert "Discarding the half-loaded data; the previous dataset is kept" in log
    assert repl(replica)["master_link_status"] == "down"
    if cut == "client kill":
        # It retries, and the next transfer goes through.
        assert one(primary, "CONFIG", "SET", "rdb-key-save-delay", "0") == "OK"
        assert_same_data(primary, replica)
        assert one(replica, "GET", "k") == b"new"
    else:
        # It keeps trying, serving the old data meanwhile.
        wait_until(lambda: failures(replica) > before + 1, SYNC_TIMEOUT)
        assert digest(replica) == old


# ------------------------------------------------ a primary played by hand


def fake_primary(body, keepalives=0, hang_up=False):
    """A listening socket that plays a diskless primary once: the handshake
    replies, +FULLRESYNC, newline keep-alives, "$EOF:<mark>", then
    body(mark). Then it hangs up, or waits for the replica to close the
    connection. Returns (port, thread)."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    mark = b"a" * 40

    def serve():
        conn, _ = lsock.accept()
        lsock.close()
        with conn:
            conn.settimeout(30)
            buf = b""
            while b"PSYNC" not in buf:
                data = conn.recv(4096)
                if not data:
                    return
                buf += data
                # One reply per command: PING, REPLCONF x2.
                for _ in range(data.count(b"*")):
                    if b"PSYNC" not in data:
                        conn.sendall(b"+PONG\r\n" if b"PING" in data else b"+OK\r\n")
            conn.sendall(b"+FULLRESYNC " + b"f" * 40 + b" 0\r\n" + b"\n" * keepalives +
                         b"$EOF:" + mark + b"\r\n" + body(mark))
            if hang_up:
                return
            try:
                while conn.recv(4096):
                    pass
            except OSError:
                pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return lsock.getsockname()[1], t


def an_rdb(make_tandem):
    src = make_tandem(DEBUG)
    assert one(src, "SET", "k", "new") == "OK"
    assert one(src, "DEBUG", "POPULATE", 1000, "theirs") == "OK"
    assert one(src, "SAVE") == "OK"
    return (src.dir / "dump.rdb").read_bytes(), digest(src)


def test_swapdb_broken_eof_mark_keeps_the_old_data(make_tandem):
    rdb, _ = an_rdb(make_tandem)
    replica, old = replica_with_old_data(make_tandem)
    port, t = fake_primary(lambda mark: rdb + b"b" * 40)
    assert one(replica, "REPLICAOF", "127.0.0.1", port) == "OK"
    wait_until(lambda: failures(replica) > 0, SYNC_TIMEOUT,
               message=lambda: replica.read_log()[-3000:])
    assert "Replication stream EOF marker is broken" in repl(replica)["tandem_link_last_failure"]
    assert digest(replica) == old
    assert one(replica, "REPLICAOF", "NO", "ONE") == "OK"
    t.join(10)


@pytest.mark.parametrize("fault", ["garbage", "short payload", "silence"])
def test_swapdb_bad_transfer_keeps_the_old_data(make_tandem, fault):
    rdb, _ = an_rdb(make_tandem)
    replica = make_tandem(DEBUG + ["--repl-diskless-load", "swapdb", "--repl-timeout", "2"])
    assert one(replica, "SET", "k", "old") == "OK"
    old = digest(replica)
    half = rdb[:len(rdb) // 2]
    bodies = {"garbage": lambda mark: rdb[:9] + b"\xfe\x00\x02garbage" * 100,
              "short payload": lambda mark: half, "silence": lambda mark: half}
    port, t = fake_primary(bodies[fault], hang_up=fault != "silence")
    assert one(replica, "REPLICAOF", "127.0.0.1", port) == "OK"
    wait_until(lambda: failures(replica) > 0, SYNC_TIMEOUT,
               message=lambda: replica.read_log()[-3000:])
    # The first failure's reason (the retries meet a closed port).
    expected = {"garbage": ".* at offset 11", "short payload": ": Connection lost after",
                "silence": ": Timeout receiving the RDB payload"}[fault]
    replica.wait_for_log("Failed trying to load the MASTER synchronization DB from socket" +
                         expected)
    assert not async_loading(replica)
    assert digest(replica) == old
    assert one(replica, "REPLICAOF", "NO", "ONE") == "OK"
    t.join(10)


def test_keepalives_before_the_header_and_bytes_after_the_mark(make_tandem):
    rdb, expected = an_rdb(make_tandem)
    replica, _ = replica_with_old_data(make_tandem)
    # The stream's first command arrives with the RDB and its mark.
    after = b"*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n"
    port, t = fake_primary(lambda mark: rdb + mark + after, keepalives=5)
    assert one(replica, "REPLICAOF", "127.0.0.1", port) == "OK"
    wait_until(lambda: one(replica, "GET", "after") == b"1", SYNC_TIMEOUT,
               message=lambda: replica.read_log()[-3000:])
    assert one(replica, "GET", "k") == b"new"
    assert one(replica, "DBSIZE") == 1002
    assert one(replica, "REPLICAOF", "NO", "ONE") == "OK"
    t.join(10)


def test_no_async_loading_flags_match_redis(make_tandem, make_redis):
    tandem, redis = make_tandem(), make_redis()
    for name in ("replicaof", "slaveof", "sync", "psync", "save", "bgsave", "get", "debug"):
        flags = [set(one(srv, "COMMAND", "INFO", name)[0][2]) for srv in (tandem, redis)]
        assert (b"no_async_loading" in flags[0]) == (b"no_async_loading" in flags[1]), name


@pytest.mark.parametrize("impl", ["tandem", "redis"])
def test_swapdb_over_tls(make_tandem, make_redis, certs, impl):  # noqa: F811
    """The stream reads through the TLS connection type just the same."""
    make = make_tandem if impl == "tandem" else make_redis
    primary = start_tls(make, certs, DEBUG + sync_args("yes") + ["--rdb-key-save-delay", "10"])
    assert one(primary, "DEBUG", "POPULATE", 100000) == "OK"
    assert one(primary, "SET", "k", "new") == "OK"
    replica = start_tls(make_tandem, certs, DEBUG + ["--repl-diskless-load", "swapdb"] +
                        repl_extra(certs, primary.tls_port, cert="client"))
    assert_same_data(primary, replica)
    assert one(replica, "GET", "k") == b"new"
    log = replica.read_log()
    assert "TLS handshake with MASTER completed" in log
    assert "streamed RDB from master with EOF to parser" in log

"""Replication, the primary side: Debian's redis-server 7.0 as a replica of
a tandem primary.

A full sync of 100,000 keys, then the stream under a concurrent write load
(SET, INCR, APPEND, DEL, EXPIRE, several databases, FLUSHALL); writes made
while the BGSAVE for the sync runs are not lost; two replicas asking at once
share one BGSAVE; ROLE and INFO replication against a Redis primary; a
replica stopped with SIGSTOP past repl-timeout is dropped and comes back
after SIGCONT; the stream's exact bytes and offsets as a raw PSYNC client
sees them; REPLCONF rdb-only 1 gets the RDB (accepted by redis-check-rdb),
then the connection closes; SYNC and REPLCONF replies and errors against
Redis.

Datasets are compared with DEBUG DIGEST once tandem's master_repl_offset
equals the offset its replica acknowledged (INFO slave0). Every wait is
bounded.
"""
import os
import random
import re
import signal
import subprocess
import threading

from conftest import (digest, one, repl, RespError, RespReader, encode_command, info_fields, raw_connect,
                      recv_until_closed, same_replies, session, wait_until)

DEBUG = ["--enable-debug-command", "yes"]
# The RDB through a file on disk: test_diskless.py covers the diskless sync.
PRIMARY_ARGS = DEBUG + ["--save", "", "--repl-diskless-sync", "no"]
SYNC_TIMEOUT = 60
REDIS_CHECK_RDB = "/usr/bin/redis-check-rdb"


# ---------------------------------------------------------------- helpers


def replicas_of(info):
    """The slaveN lines of INFO replication, in order, as dicts."""
    out = []
    for n in range(int(info["connected_slaves"])):
        line = info.get(f"slave{n}")
        if line is not None:
            out.append(dict(kv.split("=", 1) for kv in line.split(",")))
    return out


def start_replica(make_redis, primary, *args):
    return make_redis(DEBUG + ["--replicaof", "127.0.0.1", str(primary.port)] + list(args))


def describe(primary, *replicas):
    def text():
        parts = [f"primary {repl(primary)}", f"primary log:\n{primary.read_log()[-3000:]}"]
        for r in replicas:
            parts.append(f"replica {r.port}: {repl(r)}")
        return "\n".join(parts)
    return text


def wait_online(primary, count, timeout=SYNC_TIMEOUT):
    """Waits until count replicas are ONLINE; returns their slaveN dicts."""
    def online():
        found = replicas_of(repl(primary))
        return found if [r["state"] for r in found] == ["online"] * count else None
    return wait_until(online, timeout, interval=0.05, message=describe(primary))


def wait_caught_up(primary, replica, timeout=SYNC_TIMEOUT):
    """Waits until the replica has acknowledged every byte of the stream, as
    the primary's INFO shows it, and the replica agrees on the offset."""
    def caught_up():
        info = repl(primary)
        found = replicas_of(info)
        if len(found) != 1 or found[0]["state"] != "online":
            return False
        offset = info["master_repl_offset"]
        return found[0]["offset"] == offset and repl(replica)["master_repl_offset"] == offset
    wait_until(caught_up, timeout, interval=0.05, message=describe(primary, replica))


def assert_same_data(primary, replica):
    wait_caught_up(primary, replica)
    assert digest(replica) == digest(primary)


def total_forks(srv):
    return int(info_fields(srv, "stats")["total_forks"])


class Stream:
    """The raw bytes a primary sends on a replication link, read with a
    deadline: lines (keep-alive newlines come as empty ones), exact byte
    counts, and the stream's commands."""

    def __init__(self, sock, timeout=30.0):
        self.sock = sock
        self.buf = b""
        self.timeout = timeout
        self.consumed = 0

    def _fill(self):
        self.sock.settimeout(self.timeout)
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed by the primary")
        self.buf += data

    def line(self):
        while b"\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\n")
        self.consumed += len(line) + 1
        return line.rstrip(b"\r")

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        self.consumed += n
        return data

    def fullresync_and_rdb(self):
        """After PSYNC: +FULLRESYNC, keep-alives, $<len>, the payload.
        Returns (replid, offset, rdb bytes)."""
        line = self.line()
        m = re.fullmatch(rb"\+FULLRESYNC ([0-9a-f]{40}) (\d+)", line)
        assert m, f"unexpected PSYNC reply {line!r}"
        return m.group(1).decode(), int(m.group(2)), self.bulk_payload()

    def bulk_payload(self):
        line = b""
        while not line:
            line = self.line()
        assert line.startswith(b"$"), f"unexpected bulk header {line!r}"
        return self.exact(int(line[1:]))

    def commands(self, count):
        """The next count commands of the stream other than its PINGs, and
        the bytes read for them (PINGs included)."""
        start, out = self.consumed, []
        while len(out) < count:
            n = int(self.line()[1:])
            argv = [self.exact(int(self.line()[1:]) + 2)[:-2] for _ in range(n)]
            if argv != [b"PING"]:
                out.append(argv)
        return out, self.consumed - start


def sync_writes():
    """Writes to make while a replica waits for its RDB (on DEBUG POPULATE
    3000), checked on the replica by assert_sync_writes."""
    commands = [("DEL", f"key:{i}") for i in range(300)] + [("APPEND", "key:2999", "!")]
    commands += [("SELECT", 2)]
    for i in range(300):
        commands += [("SET", f"new{i}", i), ("INCR", "counter")]
    return commands


def assert_sync_writes(replica):
    assert one(replica, "DBSIZE") == 2700
    assert session(replica, [("SELECT", 2), ("GET", "counter")])[1] == b"300"


def write_load(srv, seed, batches, flushall=False):
    """One writer: batches of 100 pipelined writes over four databases, with
    a FLUSHALL half way when flushall is set."""
    rnd = random.Random(seed)
    with raw_connect(srv.port, timeout=30) as s:
        reader = RespReader(s, 30)
        for b in range(batches):
            cmds = []
            for _ in range(100):
                k = f"k{rnd.randrange(300)}"
                op = rnd.randrange(7)
                if op == 0:
                    cmds.append(("SELECT", rnd.randrange(4)))
                elif op == 1:
                    cmds.append(("SET", k, f"v{rnd.random()}"))
                elif op == 2:
                    cmds.append(("INCR", f"c{rnd.randrange(10)}"))
                elif op == 3:
                    cmds.append(("APPEND", k, "x" * rnd.randrange(1, 40)))
                elif op == 4:
                    cmds.append(("DEL", k))
                elif op == 5:
                    cmds.append(("EXPIRE", k, 1000 + rnd.randrange(1000)))
                else:
                    cmds.append(("SET", k, rnd.randrange(10 ** 6), "EX", 5000))
            if flushall and b == batches // 2:
                cmds.append(("FLUSHALL",))
            s.sendall(b"".join(encode_command(*c) for c in cmds))
            for c in cmds:
                reply = reader.read()
                assert not isinstance(reply, RespError) or c[0] == "INCR", (c, reply)


# ------------------------------------------------------------------ tests


def test_full_sync_of_100000_keys_then_the_stream_under_load(make_tandem, make_redis):
    primary = make_tandem(PRIMARY_ARGS)
    assert one(primary, "DEBUG", "POPULATE", 100000) == "OK"
    replica = start_replica(make_redis, primary)
    wait_until(lambda: repl(replica).get("master_link_status") == "up", SYNC_TIMEOUT,
               message=describe(primary, replica))
    assert_same_data(primary, replica)
    assert one(replica, "DBSIZE") == 100000

    log = primary.read_log()
    name = f"127.0.0.1:{replica.port}"
    for line in (f"Replica {name} asks for synchronization",
                 f"Full resync requested by replica {name}",
                 "Starting BGSAVE for SYNC with target: disk",
                 "Background saving started by pid",
                 f"Synchronization with replica {name} succeeded"):
        assert line in log, line

    errors = []

    def writer(seed):
        try:
            write_load(primary, seed, 30, flushall=seed == 0)
        except Exception as e:  # reported by the test's thread
            errors.append(e)
    writers = [threading.Thread(target=writer, args=(seed,)) for seed in range(3)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
    assert not any(w.is_alive() for w in writers) and not errors, errors
    assert_same_data(primary, replica)
    assert one(primary, "DBSIZE") > 0


def test_writes_during_the_bgsave_are_not_lost(make_tandem, make_redis):
    primary = make_tandem(PRIMARY_ARGS)
    one(primary, "DEBUG", "POPULATE", 3000)
    one(primary, "CONFIG", "SET", "rdb-key-save-delay", 1000)  # a save of about 3 s
    replica = start_replica(make_redis, primary)
    wait_until(lambda: [r["state"] for r in replicas_of(repl(primary))] == ["wait_bgsave"],
               SYNC_TIMEOUT, message=describe(primary, replica))
    session(primary, sync_writes())
    # The writes above went out while the replica still waited for its RDB.
    assert [r["state"] for r in replicas_of(repl(primary))] == ["wait_bgsave"]
    wait_online(primary, 1)
    assert_same_data(primary, replica)
    assert_sync_writes(replica)


def test_two_replicas_asking_together_share_one_bgsave(make_tandem, make_redis):
    primary = make_tandem(PRIMARY_ARGS)
    one(primary, "DEBUG", "POPULATE", 3000)
    one(primary, "CONFIG", "SET", "rdb-key-save-delay", 1000)
    forks = total_forks(primary)
    first = start_replica(make_redis, primary)
    wait_until(lambda: len(replicas_of(repl(primary))) == 1, SYNC_TIMEOUT,
               message=describe(primary, first))
    second = start_replica(make_redis, primary)
    wait_online(primary, 2)
    assert total_forks(primary) == forks + 1
    assert "Waiting for end of BGSAVE for SYNC" in primary.read_log()
    one(primary, "SET", "after", "both")
    expected = digest(primary)
    for replica in (first, second):
        wait_until(lambda: digest(replica) == expected, SYNC_TIMEOUT,
                   message=describe(primary, first, second))


def test_role_and_info_replication_match_a_redis_primary(make_tandem, make_redis):
    primary = make_tandem(PRIMARY_ARGS)
    replica = start_replica(make_redis, primary)
    redis_primary = make_redis(DEBUG + ["--repl-diskless-sync", "no"])
    redis_replica = start_replica(make_redis, redis_primary)
    (t_slave,) = wait_online(primary, 1)
    (r_slave,) = wait_online(redis_primary, 1)
    assert list(t_slave) == list(r_slave) == ["ip", "port", "state", "offset", "lag"]
    assert t_slave["ip"] == "127.0.0.1" and t_slave["port"] == str(replica.port)

    def names(srv):
        return [k for k in repl(srv) if not k.startswith("tandem_")]
    assert names(primary) == names(redis_primary)
    info = repl(primary)
    assert info["role"] == "master"
    assert re.fullmatch(r"[0-9a-f]{40}", info["master_replid"])
    assert info["master_replid2"] == "0" * 40 and info["second_repl_offset"] == "-1"
    assert info["tandem_repl_sync_target"] == "disk"

    wait_caught_up(primary, replica)
    wait_caught_up(redis_primary, redis_replica)
    t_role, r_role = one(primary, "ROLE"), one(redis_primary, "ROLE")
    assert t_role[0] == r_role[0] == b"master"
    assert isinstance(t_role[1], int)
    assert t_role[2] == [[b"127.0.0.1", str(replica.port).encode(), str(t_role[1]).encode()]]
    assert [type(x) for x in r_role[2][0]] == [type(x) for x in t_role[2][0]]
    stats = info_fields(primary, "stats")
    counters = ("sync_full", "sync_partial_ok", "sync_partial_err")
    assert [stats[k] for k in counters] == ["1", "0", "0"]


def test_a_stopped_replica_is_dropped_after_repl_timeout(make_tandem, make_redis):
    primary = make_tandem(PRIMARY_ARGS + ["--repl-timeout", "2"])
    replica = start_replica(make_redis, primary)
    wait_online(primary, 1)
    os.kill(replica.pid, signal.SIGSTOP)
    try:
        wait_until(lambda: repl(primary)["connected_slaves"] == "0", 30,
                   message=describe(primary))
        assert (f"Disconnecting timedout replica (streaming sync): 127.0.0.1:{replica.port}"
                in primary.read_log())
        assert f"Connection with replica 127.0.0.1:{replica.port} lost." in primary.read_log()
    finally:
        os.kill(replica.pid, signal.SIGCONT)
    one(primary, "SET", "later", "write")
    wait_online(primary, 1)
    assert_same_data(primary, replica)


def test_the_stream_bytes_and_offsets_seen_by_a_raw_psync(make_tandem):
    primary = make_tandem(PRIMARY_ARGS + ["--repl-ping-replica-period", "3600"])
    one(primary, "SET", "before", "sync")
    with raw_connect(primary.port) as s:
        reader = RespReader(s, 30)
        assert reader.command("REPLCONF", "listening-port", 4321) == "OK"
        assert reader.command("REPLCONF", "capa", "eof", "capa", "psync2") == "OK"
        s.sendall(encode_command("PSYNC", "?", -1))
        stream = Stream(s)
        replid, offset, rdb = stream.fullresync_and_rdb()
        assert rdb.startswith(b"REDIS0010")
        assert repl(primary)["master_replid"] == replid
        wait_until(lambda: replicas_of(repl(primary))[0]["state"] == "online", 10)
        # The first PING of the stream goes out at the first tick with a
        # replica; the next one would take an hour.
        wait_until(lambda: int(repl(primary)["master_repl_offset"]) == offset + 14, 10)
        session(primary, [("SELECT", 5), ("SET", "k", "v"), ("SELECT", 5), ("DEL", "k")])
        cmds, size = stream.commands(3)
        assert cmds == [[b"SELECT", b"5"], [b"SET", b"k", b"v"], [b"DEL", b"k"]]
        # One SELECT (the second is not needed) and the PING fed before.
        fed = [("SELECT", 5), ("SET", "k", "v"), ("DEL", "k"), ("PING",)]
        assert size == sum(len(encode_command(*c)) for c in fed)
        end = offset + size
        assert int(repl(primary)["master_repl_offset"]) == end
        s.sendall(encode_command("REPLCONF", "ACK", end))
        wait_until(lambda: replicas_of(repl(primary))[0]["offset"] == str(end), 10)
        assert replicas_of(repl(primary))[0]["port"] == "4321"
        # PINGs every repl-ping-replica-period count in the offset.
        one(primary, "CONFIG", "SET", "repl-ping-replica-period", 1)
        assert stream.exact(14) == b"*1\r\n$4\r\nPING\r\n"
        wait_until(lambda: int(repl(primary)["master_repl_offset"]) >= end + 14, 10)


def test_replconf_rdb_only_gets_the_rdb_then_the_connection_closes(make_tandem, tmp_path):
    primary = make_tandem(PRIMARY_ARGS)
    one(primary, "DEBUG", "POPULATE", 1000)
    with raw_connect(primary.port) as s:
        assert RespReader(s, 30).command("REPLCONF", "rdb-only", 1) == "OK"
        s.sendall(encode_command("PSYNC", "?", -1))
        stream = Stream(s)
        _, _, rdb = stream.fullresync_and_rdb()
        one(primary, "SET", "not", "streamed")
        rest, closed = recv_until_closed(s, 10)
        assert closed and stream.buf + rest == b""
    path = tmp_path / "rdb-only.rdb"
    path.write_bytes(rdb)
    check = subprocess.run([REDIS_CHECK_RDB, str(path)], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "1000 keys read" in check.stdout
    assert "rdb only replica" in primary.read_log()
    wait_until(lambda: repl(primary)["connected_slaves"] == "0", 10)


def test_sync_sends_the_rdb_without_fullresync(make_tandem):
    primary = make_tandem(PRIMARY_ARGS)
    one(primary, "SET", "a", "1")
    with raw_connect(primary.port) as s:
        s.sendall(encode_command("SYNC"))
        stream = Stream(s)
        assert stream.bulk_payload().startswith(b"REDIS0010")
        wait_until(lambda: replicas_of(repl(primary))[0]["state"] == "online", 10)
        one(primary, "SET", "b", "2")
        cmds, _ = stream.commands(2)
        assert cmds == [[b"SELECT", b"0"], [b"SET", b"b", b"2"]]


def test_replication_commands_reply_as_redis(make_tandem, make_redis):
    t = make_tandem(PRIMARY_ARGS)
    r = make_redis(DEBUG)
    same_replies(t, r, [
        ("REPLCONF",),
        ("REPLCONF", "listening-port"),
        ("REPLCONF", "listening-port", "x"),
        ("REPLCONF", "listening-port", "01"),
        ("REPLCONF", "listening-port", 6380, "capa", "eof", "capa", "whatever"),
        ("REPLCONF", "ip-address", "10.0.0.1"),
        ("REPLCONF", "ip-address", "a" * 300),
        ("REPLCONF", "rdb-only", 2),
        ("REPLCONF", "rdb-only", "x"),
        ("REPLCONF", "rdb-only", 0),
        ("REPLCONF", "nosuchoption", 1),
        ("REPLCONF", "ack"),
        ("PSYNC", "?"),
        ("SYNC", "extra"),
        ("ROLE", "extra"),
        ("ROLE",),
    ])
    # Alone on its connection, so that no earlier reply is pending.
    same_replies(t, r, [("PSYNC", "?", "notanumber")])
    # ACK and GETACK answer nothing: the PING after them gets the next reply.
    for srv in (t, r):
        with raw_connect(srv.port) as s:
            s.sendall(encode_command("REPLCONF", "ack", 5) + encode_command("REPLCONF", "getack", 1)
                      + encode_command("PING"))
            assert RespReader(s, 10).read() == "PONG"

"""Replication, the primary side, diskless (repl-diskless-sync yes): the RDB
goes from a forked child straight to the replicas' sockets, framed as
"$EOF:<40 characters>\\r\\n", the RDB, the same 40 characters.

A tandem replica of 100,000 keys (equal digests; the primary's dump file is
left as it was); three replicas (two tandem, one redis-server) gathered into
one fork by repl-diskless-sync-delay, and two by
repl-diskless-sync-max-replicas at once; a replica killed mid-transfer, or
one that stops reading (dropped after repl-timeout), leaves the other one to
finish, and the last one killed ends the child; writes made during the
transfer reach the replica;
Debian's redis-server 7.0 as a replica of a diskless tandem primary; on a
raw connection, the EOF framing with a valid RDB, the stream held until the
first REPLCONF ACK, the disk's $<len> framing for a replica that did not
announce capa eof (and for every replica waiting with it), and rdb-only. Every wait is bounded; slow transfers come
from the rdb-key-save-delay test knob, never from a sleep.
"""
import hashlib
import os
import re
import signal
import socket

from conftest import (crc64, digest, encode_command, info_fields, nothing_to_read, one,
                      raw_connect, recv_until_closed, repl, RespReader, session, wait_until)
from test_repl_primary import Stream, assert_sync_writes, describe, replicas_of, sync_writes

DEBUG = ["--enable-debug-command", "yes"]
DISKLESS = DEBUG + ["--save", "", "--repl-diskless-sync", "yes"]
SYNC_TIMEOUT = 60


# ---------------------------------------------------------------- helpers


def replicaof(primary):
    return ["--replicaof", "127.0.0.1", str(primary.port)]


def states(primary):
    return [r["state"] for r in replicas_of(repl(primary))]


def wait_states(primary, expected, *replicas, timeout=SYNC_TIMEOUT):
    wait_until(lambda: states(primary) == expected, timeout, interval=0.05,
               message=describe(primary, *replicas))


def total_forks(srv):
    return int(info_fields(srv, "stats")["total_forks"])


def diskless_info(srv):
    info = repl(srv)
    return {k[len("tandem_repl_diskless_"):]: int(v) for k, v in info.items()
            if k.startswith("tandem_repl_diskless_")}


def wait_equal(primary, *replicas, timeout=SYNC_TIMEOUT):
    """Waits until every replica acknowledged the whole stream, then
    compares the datasets."""
    def caught_up():
        info = repl(primary)
        found = replicas_of(info)
        return (len(found) == len(replicas) and
                all(r["state"] == "online" and r["offset"] == info["master_repl_offset"]
                    for r in found))
    wait_until(caught_up, timeout, interval=0.05, message=describe(primary, *replicas))
    expected = digest(primary)
    for r in replicas:
        assert digest(r) == expected


def eof_payload(stream):
    """After +FULLRESYNC: keep-alives, "$EOF:<mark>", then the payload up to
    the mark. Returns (mark, payload); the stream's buffer holds what came
    after the mark."""
    line = b""
    while not line:
        line = stream.line()
    m = re.fullmatch(rb"\$EOF:([0-9a-zA-Z]{40})", line)
    assert m, f"unexpected bulk header {line!r}"
    mark = m.group(1)
    while mark not in stream.buf:
        stream._fill()
    payload, _, stream.buf = stream.buf.partition(mark)
    return mark, payload


def assert_whole_rdb(payload):
    """An RDB 10 whose last 8 bytes are the CRC-64 of the rest."""
    assert payload.startswith(b"REDIS0010"), payload[:16]
    assert crc64(payload[:-8]) == int.from_bytes(payload[-8:], "little")


def raw_full_sync(port, *replconf):
    """A raw replica: the REPLCONF options given, then PSYNC ? -1 and
    +FULLRESYNC. Returns (socket, Stream, offset)."""
    s = raw_connect(port, timeout=30)
    reader = RespReader(s, 30)
    for i in range(0, len(replconf), 2):
        assert reader.command("REPLCONF", replconf[i], replconf[i + 1]) == "OK"
    s.sendall(encode_command("PSYNC", "?", -1))
    stream = Stream(s)
    return s, stream, fullresync_offset(stream)


def fullresync_offset(stream):
    """Reads +FULLRESYNC (after any keep-alive newline); returns its offset."""
    line = b""
    while not line:
        line = stream.line()
    m = re.fullmatch(rb"\+FULLRESYNC ([0-9a-f]{40}) (\d+)", line)
    assert m, f"unexpected PSYNC reply {line!r}"
    return int(m.group(2))


def file_state(path):
    return path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()


def slow_primary(make_tandem, keys, *args):
    """A diskless primary whose child sleeps 1 ms per key (about keys/1000
    seconds of transfer)."""
    primary = make_tandem(DISKLESS + list(args))
    one(primary, "DEBUG", "POPULATE", keys)
    one(primary, "CONFIG", "SET", "rdb-key-save-delay", 1000)
    return primary


# ------------------------------------------------------------------ tests


def test_tandem_replica_of_100000_keys_leaves_the_dump_alone(make_tandem):
    primary = make_tandem(DISKLESS)
    assert one(primary, "DEBUG", "POPULATE", 100000) == "OK"
    assert one(primary, "SAVE") == "OK"
    dump = primary.dir / "dump.rdb"
    before = file_state(dump)
    one(primary, "SET", "after", "the save")
    forks = total_forks(primary)
    replica = make_tandem(DEBUG + replicaof(primary))
    wait_equal(primary, replica)
    assert one(replica, "DBSIZE") == 100001
    assert total_forks(primary) == forks + 1
    assert file_state(dump) == before
    assert not [p.name for p in primary.dir.iterdir() if p.name.startswith("temp-")]
    info = diskless_info(primary)
    assert info["syncs"] == 1 and info["sync_in_progress"] == 0
    assert info["sync_bytes"] > 100000
    assert repl(primary)["tandem_repl_sync_target"] == "socket"
    name = f"127.0.0.1:{replica.port}"
    # The last line comes with the replica's first ACK, after its load.
    primary.wait_for_log(re.escape(f"Synchronization with replica {name} succeeded"))
    log = primary.read_log()
    for line in ("Starting BGSAVE for SYNC with target: replicas sockets",
                 "Background RDB transfer started by pid",
                 f"Replica {name}: WAIT_BGSAVE_END -> SEND_BULK",
                 "Background RDB transfer terminated with success",
                 f"Streamed RDB transfer with replica {name} succeeded (socket)",
                 f"Synchronization with replica {name} succeeded"):
        assert line in log, line
    session(primary, [("SET", f"s{i}", i) for i in range(1000)] + [("DEL", "after")])
    wait_equal(primary, replica)


def test_three_replicas_within_the_delay_share_one_fork(make_tandem, make_redis):
    primary = make_tandem(DISKLESS + ["--repl-diskless-sync-delay", 5])
    one(primary, "DEBUG", "POPULATE", 2000)
    forks = total_forks(primary)
    first = make_tandem(DEBUG + replicaof(primary))
    wait_states(primary, ["wait_bgsave"], first)
    assert "Delay next BGSAVE for diskless SYNC" in primary.read_log()
    second = make_tandem(DEBUG + replicaof(primary))
    third = make_redis(DEBUG + replicaof(primary))
    wait_states(primary, ["wait_bgsave"] * 3, first, second, third)
    assert total_forks(primary) == forks
    wait_equal(primary, first, second, third)
    assert total_forks(primary) == forks + 1
    assert diskless_info(primary)["syncs"] == 1


def test_max_replicas_starts_the_fork_at_once(make_tandem):
    # A delay far longer than the test's bound: only max-replicas starts it.
    primary = make_tandem(DISKLESS + ["--repl-diskless-sync-delay", 3600,
                                      "--repl-diskless-sync-max-replicas", 2])
    one(primary, "DEBUG", "POPULATE", 2000)
    forks = total_forks(primary)
    first = make_tandem(DEBUG + replicaof(primary))
    wait_states(primary, ["wait_bgsave"], first)
    second = make_tandem(DEBUG + replicaof(primary))
    wait_equal(primary, first, second, timeout=30)
    assert total_forks(primary) == forks + 1
    assert diskless_info(primary)["syncs"] == 1


def test_a_replica_killed_mid_transfer_leaves_the_other_to_finish(make_tandem):
    primary = slow_primary(make_tandem, 4000, "--repl-diskless-sync-max-replicas", 2,
                           "--repl-diskless-sync-delay", 3600)
    victim = make_tandem(DEBUG + replicaof(primary))
    survivor = make_tandem(DEBUG + replicaof(primary))
    wait_states(primary, ["send_bulk", "send_bulk"], victim, survivor)
    wait_until(lambda: diskless_info(primary)["sync_bytes"] > 1000, 30)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait_exit()
    wait_until(lambda: diskless_info(primary)["sync_replicas"] == 1, 30,
               message=describe(primary, survivor))
    assert diskless_info(primary)["sync_in_progress"] == 1
    one(primary, "SET", "written", "after the kill")
    wait_equal(primary, survivor)
    assert one(survivor, "GET", "written") == b"after the kill"
    log = primary.read_log()
    assert f"Connection with replica 127.0.0.1:{victim.port} lost." in log
    assert "Background RDB transfer terminated with success" in log
    assert "killing fork child" not in log


def test_a_replica_that_stops_reading_is_dropped_after_repl_timeout(make_tandem):
    primary = make_tandem(DISKLESS + ["--repl-diskless-sync-max-replicas", 2,
                                      "--repl-diskless-sync-delay", 3600, "--repl-timeout", 2])
    one(primary, "DEBUG", "POPULATE", 300000, "key", 100)  # about 35 MB of RDB
    # A raw replica with a tiny receive buffer that never reads: its socket
    # fills up and holds every other target back until it is dropped.
    stuck = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.settimeout(30)
    with stuck:
        stuck.connect(("127.0.0.1", primary.port))
        reader = RespReader(stuck, 30)
        assert reader.command("REPLCONF", "listening-port", 4323) == "OK"
        assert reader.command("REPLCONF", "capa", "eof") == "OK"
        stuck.sendall(encode_command("PSYNC", "?", -1))
        wait_states(primary, ["wait_bgsave"])
        replica = make_tandem(DEBUG + replicaof(primary))
        primary.wait_for_log(r"Disconnecting timedout replica \(full sync\): 127.0.0.1:4323",
                             timeout=30)
        wait_equal(primary, replica)
    assert diskless_info(primary)["syncs"] == 1


def test_the_last_replica_gone_ends_the_child(make_tandem):
    primary = slow_primary(make_tandem, 20000)
    forks = total_forks(primary)
    victim = make_tandem(DEBUG + replicaof(primary))
    wait_states(primary, ["send_bulk"], victim)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait_exit()
    primary.wait_for_log("Diskless rdb transfer, last replica dropped, killing fork child")
    wait_until(lambda: diskless_info(primary)["sync_in_progress"] == 0, 10)
    assert info_fields(primary, "persistence")["rdb_bgsave_in_progress"] == "0"
    # The primary serves on, and the next replica syncs from a new fork.
    one(primary, "CONFIG", "SET", "rdb-key-save-delay", 0)
    replica = make_tandem(DEBUG + replicaof(primary))
    wait_equal(primary, replica)
    assert total_forks(primary) == forks + 2


def test_writes_during_the_transfer_are_not_lost(make_tandem):
    primary = slow_primary(make_tandem, 3000)
    replica = make_tandem(DEBUG + replicaof(primary))
    wait_states(primary, ["send_bulk"], replica)
    info = diskless_info(primary)
    assert info["sync_in_progress"] == 1 and info["sync_replicas"] == 1
    assert info_fields(primary, "persistence")["rdb_bgsave_in_progress"] == "1"
    session(primary, sync_writes())
    # The writes above went out while the RDB was still on its way.
    assert states(primary) == ["send_bulk"]
    wait_equal(primary, replica)
    assert_sync_writes(replica)


def test_redis_replica_of_a_diskless_tandem_primary(make_tandem, make_redis):
    primary = make_tandem(DISKLESS)
    one(primary, "DEBUG", "POPULATE", 50000)
    one(primary, "SET", "ttl", "v", "EX", 1000)
    replica = make_redis(DEBUG + replicaof(primary))
    wait_equal(primary, replica)
    assert "receiving streamed RDB from master with EOF" in replica.read_log()
    commands = [("SELECT", 3), ("SET", "a", 1), ("INCR", "a"), ("DEL", "key:7"),
                ("MULTI",), ("SET", "b", 2), ("EXPIRE", "b", 500), ("EXEC",)]
    session(primary, commands + [("SELECT", 0), ("FLUSHDB",), ("SET", "c", 3)])
    wait_equal(primary, replica)
    assert session(replica, [("SELECT", 3), ("GET", "a")])[1] == b"2"


def test_raw_eof_framing_and_the_stream_after_the_first_ack(make_tandem):
    primary = make_tandem(DISKLESS + ["--repl-ping-replica-period", 3600])
    one(primary, "DEBUG", "POPULATE", 1000)
    s, stream, offset = raw_full_sync(primary.port, "listening-port", 4321, "capa", "eof",
                                      "capa", "psync2")
    with s:
        _, payload = eof_payload(stream)
        assert_whole_rdb(payload)
        wait_states(primary, ["online"])
        # Loaded or not, the replica gets nothing glued after the mark
        # before it acknowledges.
        one(primary, "SET", "k", "v")
        assert stream.buf == b"" and nothing_to_read(s, 0.3)
        s.sendall(encode_command("REPLCONF", "ACK", offset))
        cmds, _ = stream.commands(2)
        assert cmds == [[b"SELECT", b"0"], [b"SET", b"k", b"v"]]
    assert "Synchronization with replica 127.0.0.1:4321 succeeded" in primary.read_log()


def test_a_replica_without_capa_eof_gets_the_disk_framing(make_tandem):
    primary = make_tandem(DISKLESS)
    one(primary, "DEBUG", "POPULATE", 1000)
    forks = total_forks(primary)
    s, stream, _ = raw_full_sync(primary.port, "listening-port", 4322, "capa", "psync2")
    with s:
        payload = stream.bulk_payload()
        assert_whole_rdb(payload)
        wait_states(primary, ["online"])
        one(primary, "SET", "k", "v")
        cmds, _ = stream.commands(2)
        assert cmds == [[b"SELECT", b"0"], [b"SET", b"k", b"v"]]
    assert total_forks(primary) == forks + 1
    assert "Starting BGSAVE for SYNC with target: disk" in primary.read_log()
    assert diskless_info(primary)["syncs"] == 0


def test_one_waiting_replica_without_capa_eof_sends_all_through_the_disk(make_tandem):
    primary = make_tandem(DISKLESS + ["--repl-diskless-sync-delay", 3600])
    one(primary, "DEBUG", "POPULATE", 1000)
    first = raw_connect(primary.port, timeout=30)
    with first:
        reader = RespReader(first, 30)
        assert reader.command("REPLCONF", "capa", "eof") == "OK"
        first.sendall(encode_command("PSYNC", "?", -1))
        wait_states(primary, ["wait_bgsave"])
        s, stream, _ = raw_full_sync(primary.port, "capa", "psync2")
        with s:
            assert_whole_rdb(stream.bulk_payload())
        first_stream = Stream(first)
        fullresync_offset(first_stream)
        assert_whole_rdb(first_stream.bulk_payload())
    assert "Starting BGSAVE for SYNC with target: disk" in primary.read_log()
    assert diskless_info(primary)["syncs"] == 0


def test_rdb_only_with_capa_eof_gets_the_eof_framing_then_is_closed(make_tandem):
    primary = make_tandem(DISKLESS)
    one(primary, "DEBUG", "POPULATE", 1000)
    s, stream, _ = raw_full_sync(primary.port, "rdb-only", 1, "capa", "eof")
    with s:
        _, payload = eof_payload(stream)
        assert_whole_rdb(payload)
        one(primary, "SET", "not", "streamed")
        rest, closed = recv_until_closed(s, 10)
        assert closed and stream.buf + rest == b""
    assert "rdb only replica" in primary.read_log()
    wait_until(lambda: repl(primary)["connected_slaves"] == "0", 10)

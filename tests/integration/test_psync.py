"""Partial resynchronization (PSYNC answered with +CONTINUE from the backlog).

A tandem replica of a tandem primary whose link is cut, from either side
(CLIENT KILL TYPE master on the replica, CLIENT KILL TYPE slave on the
primary), while writes go on, resyncs partially: the primary counts
sync_partial_ok and no new sync_full, and the datasets match once the
offsets do. A cut longer than the backlog (repl-backlog-size 16kb, more
written while the replica is held still with SIGSTOP) falls back to a full
sync with Redis's "lack of backlog" log line. PSYNC refusals log Redis's
reasons (ID mismatch, an offset ahead of the primary). INFO replication's
backlog fields, CONFIG SET repl-backlog-size, and repl-backlog-ttl freeing
the backlog. Interop both ways: a Debian redis-server replica of a tandem
primary, and a tandem replica of a redis-server primary, each resyncing
partially after a cut.

Datasets are compared with DEBUG DIGEST once the replica's slave_repl_offset
equals the primary's master_repl_offset. Every wait is bounded.
"""
import os
import signal

from conftest import (RespReader, digest, encode_command, info_fields, one, raw_connect,
                      recv_until_closed, repl, session, wait_in_sync, wait_until)

DEBUG = ["--enable-debug-command", "yes"]
PRIMARY_ARGS = DEBUG + ["--save", ""]
SYNC_TIMEOUT = 60


# ---------------------------------------------------------------- helpers


def replicaof_args(primary):
    return ["--replicaof", "127.0.0.1", str(primary.port)]


def sync_stats(srv):
    stats = info_fields(srv, "stats")
    return {k: int(stats[k]) for k in ("sync_full", "sync_partial_ok", "sync_partial_err")}


def describe(primary, replica):
    return lambda: (f"primary {repl(primary)}\nreplica {repl(replica)}\n"
                    f"primary log:\n{primary.read_log()[-3000:]}\n"
                    f"replica log:\n{replica.read_log()[-3000:]}")


def assert_same_data(primary, replica):
    expected = wait_in_sync(primary, replica, SYNC_TIMEOUT, describe(primary, replica))
    assert digest(replica) == expected


def writes(srv, prefix, count, size=20):
    session(srv, [("SET", f"{prefix}:{i}", "v" * size) for i in range(count)]
            + [("SELECT", 3), ("INCR", f"{prefix}:n"), ("SELECT", 0)])


def wait_link_down(replica):
    wait_until(lambda: repl(replica)["master_link_status"] == "down", SYNC_TIMEOUT,
               interval=0.02, message=lambda: repl(replica))


def tandem_pair(make_tandem, *primary_args):
    primary = make_tandem(PRIMARY_ARGS + list(primary_args))
    writes(primary, "before", 500)
    replica = make_tandem(DEBUG + replicaof_args(primary))
    assert_same_data(primary, replica)
    return primary, replica


def raw_psync(port, replid, offset):
    """A raw client's PSYNC: the first line of the reply."""
    with raw_connect(port) as s:
        reader = RespReader(s, 30)
        assert reader.command("REPLCONF", "listening-port", 4321) == "OK"
        s.sendall(encode_command("PSYNC", replid, offset))
        return reader.read()


def kill_primary_side_while_stopped(primary, replica, then):
    """Holds the replica still, cuts its link on the primary, runs then()
    and lets the replica go on (it then finds the link closed)."""
    os.kill(replica.pid, signal.SIGSTOP)
    try:
        assert one(primary, "CLIENT", "KILL", "TYPE", "slave") == 1
        then()
    finally:
        os.kill(replica.pid, signal.SIGCONT)


# ------------------------------------------------------ tandem <- tandem


def test_cut_on_the_replica_resyncs_partially(make_tandem):
    primary, replica = tandem_pair(make_tandem)
    assert sync_stats(primary) == {"sync_full": 1, "sync_partial_ok": 0, "sync_partial_err": 0}
    for round in range(3):
        assert one(replica, "CLIENT", "KILL", "TYPE", "master") == 1
        writes(primary, f"cut{round}", 300)
        assert_same_data(primary, replica)
    stats = sync_stats(primary)
    assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 3
    info = repl(replica)
    assert info["tandem_link_partial_syncs"] == "3" and info["tandem_link_full_syncs"] == "1"
    assert info["master_replid"] == repl(primary)["master_replid"]
    assert "Successful partial resynchronization with master." in replica.read_log()
    assert (f"Partial resynchronization request from 127.0.0.1:{replica.port} accepted. "
            "Sending ") in primary.read_log()


def test_cut_on_the_primary_resyncs_partially_with_the_missed_writes(make_tandem):
    primary, replica = tandem_pair(make_tandem)
    before = int(repl(primary)["master_repl_offset"])
    kill_primary_side_while_stopped(primary, replica, lambda: writes(primary, "missed", 400))
    assert_same_data(primary, replica)
    assert sync_stats(primary) == {"sync_full": 1, "sync_partial_ok": 1, "sync_partial_err": 0}
    sent = primary.wait_for_log(
        rf"Partial resynchronization request from 127\.0\.0\.1:{replica.port} accepted\. "
        rf"Sending (\d+) bytes of backlog starting from offset (\d+)\.")
    # Exactly the bytes written while the link was down, from the first one.
    assert int(sent.group(2)) == before + 1
    assert int(sent.group(1)) == int(repl(primary)["master_repl_offset"]) - before
    assert one(replica, "GET", "missed:399") == b"v" * 20


def test_cuts_under_a_concurrent_write_load_resync_partially(make_tandem):
    from test_repl_replica import LoadThread
    primary, replica = tandem_pair(make_tandem, "--repl-backlog-size", "64mb")
    load = LoadThread(primary.port, 60000, seed=11)
    load.start()
    for round in range(4):
        partial = int(repl(replica)["tandem_link_partial_syncs"])
        if round % 2 == 0:
            assert one(replica, "CLIENT", "KILL", "TYPE", "master") == 1
        else:
            assert one(primary, "CLIENT", "KILL", "TYPE", "replica") == 1
        wait_until(lambda: int(repl(replica)["tandem_link_partial_syncs"]) == partial + 1,
                   SYNC_TIMEOUT, message=describe(primary, replica))
    load.finish()
    one(primary, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
    assert_same_data(primary, replica)
    stats = sync_stats(primary)
    assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 4, stats


def test_cut_longer_than_the_backlog_falls_back_to_a_full_sync(make_tandem):
    primary, replica = tandem_pair(make_tandem, "--repl-backlog-size", "16kb")
    kill_primary_side_while_stopped(primary, replica,
                                    lambda: writes(primary, "big", 200, size=500))
    assert_same_data(primary, replica)
    stats = sync_stats(primary)
    assert stats == {"sync_full": 2, "sync_partial_ok": 0, "sync_partial_err": 1}
    primary.wait_for_log(rf"Unable to partial resync with replica 127\.0\.0\.1:{replica.port} "
                         r"for lack of backlog \(Replica request was: \d+\)\.")
    assert repl(replica)["tandem_link_full_syncs"] == "2"
    assert one(replica, "GET", "big:199") == b"v" * 500


def test_psync_refusals_log_the_reason(make_tandem):
    primary = make_tandem(PRIMARY_ARGS)
    first = raw_psync(primary.port, "?", -1)
    assert first.startswith("FULLRESYNC ")
    info = repl(primary)
    replid, replid2 = info["master_replid"], info["master_replid2"]
    offset = int(info["master_repl_offset"])
    other = "b" * 40
    assert raw_psync(primary.port, other, 1).startswith("FULLRESYNC ")
    primary.wait_for_log(
        r"Partial resynchronization not accepted: Replication ID mismatch \(Replica asked for "
        rf"'{other}', my replication IDs are '{replid}' and '{replid2}'\)")
    assert raw_psync(primary.port, replid, offset + 1000).startswith("FULLRESYNC ")
    primary.wait_for_log(r"Unable to partial resync with replica 127\.0\.0\.1:4321 for lack of "
                         rf"backlog \(Replica request was: {offset + 1000}\)\.")
    primary.wait_for_log(r"Warning: replica 127\.0\.0\.1:4321 tried to PSYNC with an offset that "
                         r"is greater than the master replication offset\.")
    assert sync_stats(primary)["sync_partial_err"] == 2
    assert sync_stats(primary)["sync_partial_ok"] == 0


def test_info_backlog_fields_and_config(make_tandem):
    primary = make_tandem(PRIMARY_ARGS + ["--repl-backlog-size", "16kb"])
    info = repl(primary)
    assert [info[k] for k in ("repl_backlog_active", "repl_backlog_size",
                              "repl_backlog_first_byte_offset", "repl_backlog_histlen")] == \
        ["0", "16384", "0", "0"]
    with raw_connect(primary.port) as s:
        reader = RespReader(s, 30)
        assert reader.command("REPLCONF", "listening-port", 4321) == "OK"
        s.sendall(encode_command("PSYNC", "?", -1))
        assert reader.read().startswith("FULLRESYNC ")
        info = repl(primary)
        assert info["repl_backlog_active"] == "1"
        assert info["repl_backlog_first_byte_offset"] == "1"
        assert info["repl_backlog_histlen"] == info["master_repl_offset"]
        writes(primary, "fill", 100, size=500)
        info = repl(primary)
        assert info["repl_backlog_histlen"] == "16384"
        assert (int(info["repl_backlog_first_byte_offset"])
                == int(info["master_repl_offset"]) - 16384 + 1)
        assert one(primary, "CONFIG", "SET", "repl-backlog-size", "32kb") == "OK"
        assert one(primary, "CONFIG", "GET", "repl-backlog-size") == \
            [b"repl-backlog-size", b"32768"]
        info = repl(primary)
        assert info["repl_backlog_size"] == "32768" and info["repl_backlog_histlen"] == "16384"
        assert one(primary, "CONFIG", "SET", "repl-backlog-ttl", "1") == "OK"
        replid = info["master_replid"]
    # The replica is gone: after the ttl the backlog goes, and the ID with it.
    wait_until(lambda: repl(primary)["repl_backlog_active"] == "0", 30, interval=0.1,
               message=lambda: repl(primary))
    primary.wait_for_log(r"Replication backlog freed after 1 seconds without connected "
                         r"replicas\.")
    info = repl(primary)
    assert info["repl_backlog_histlen"] == "0" and info["master_replid"] != replid
    assert one(primary, "CONFIG", "GET", "repl-backlog-ttl") == [b"repl-backlog-ttl", b"1"]


def shutdown_saving(srv):
    with raw_connect(srv.port) as s:
        s.sendall(encode_command("SHUTDOWN", "SAVE"))
        assert recv_until_closed(s, timeout=30) == (b"", True)
    assert srv.wait_exit(30) == 0


def restart_after_shutdown_save(primary, restored=True):
    """SHUTDOWN SAVE writes the ID and offset in the dump (once a replica
    attached); the primary comes back on the same port and dir, and loads
    it."""
    shutdown_saving(primary)
    primary.start(PRIMARY_ARGS, port=primary.port)
    assert ("Replication history restored from the dump" in primary.read_log()) == restored


def test_restarted_primary_resyncs_partially(make_tandem):
    primary, replica = tandem_pair(make_tandem)
    replid = repl(primary)["master_replid"]
    restart_after_shutdown_save(primary)
    info = repl(primary)
    assert info["master_replid"] == replid and info["repl_backlog_active"] == "1"
    assert_same_data(primary, replica)
    assert sync_stats(primary) == {"sync_full": 0, "sync_partial_ok": 1, "sync_partial_err": 0}
    assert repl(replica)["tandem_link_partial_syncs"] == "1"
    writes(primary, "after", 300)
    assert_same_data(primary, replica)


def test_restarted_primary_without_replicas_starts_a_new_history(make_tandem):
    primary = make_tandem(PRIMARY_ARGS)
    writes(primary, "alone", 10)
    replid = repl(primary)["master_replid"]
    restart_after_shutdown_save(primary, restored=False)
    assert repl(primary)["master_replid"] != replid
    assert one(primary, "GET", "alone:9") == b"v" * 20


# ------------------------------------------------------------- interop


def test_redis_replica_of_tandem_resyncs_partially(make_tandem, make_redis):
    primary = make_tandem(PRIMARY_ARGS)
    writes(primary, "before", 500)
    replica = make_redis(DEBUG + replicaof_args(primary))
    assert_same_data(primary, replica)
    kill_primary_side_while_stopped(primary, replica, lambda: writes(primary, "missed", 300))
    assert_same_data(primary, replica)
    assert sync_stats(primary) == {"sync_full": 1, "sync_partial_ok": 1, "sync_partial_err": 0}
    assert "Successful partial resynchronization with master." in replica.read_log()
    assert one(replica, "CLIENT", "KILL", "TYPE", "master") == 1
    writes(primary, "more", 300)
    assert_same_data(primary, replica)
    assert sync_stats(primary)["sync_partial_ok"] == 2


def test_tandem_replica_of_redis_resyncs_partially(make_tandem, make_redis):
    primary = make_redis(DEBUG + ["--repl-diskless-sync-delay", "0"])
    writes(primary, "before", 500)
    replica = make_tandem(DEBUG + replicaof_args(primary))
    assert_same_data(primary, replica)
    assert one(replica, "CLIENT", "KILL", "TYPE", "master") == 1
    writes(primary, "cut", 300)
    assert_same_data(primary, replica)
    stats = sync_stats(primary)
    assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 1
    assert repl(replica)["tandem_link_partial_syncs"] == "1"
    kill_primary_side_while_stopped(primary, replica, lambda: writes(primary, "missed", 300))
    assert_same_data(primary, replica)
    assert sync_stats(primary)["sync_partial_ok"] == 2
    assert one(replica, "GET", "missed:299") == b"v" * 20


def test_redis_replica_of_a_restarted_tandem_primary_resyncs_partially(make_tandem, make_redis):
    primary = make_tandem(PRIMARY_ARGS)
    writes(primary, "before", 500)
    replica = make_redis(DEBUG + replicaof_args(primary))
    assert_same_data(primary, replica)
    restart_after_shutdown_save(primary)
    assert_same_data(primary, replica)
    assert sync_stats(primary) == {"sync_full": 0, "sync_partial_ok": 1, "sync_partial_err": 0}
    writes(primary, "after", 300)
    assert_same_data(primary, replica)

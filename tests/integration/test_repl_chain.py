"""Chains of replicas, promotion and restarts keep the replication history.

A tandem replica with replicas of its own hands them its primary's stream
verbatim, under the primary's replication ID and offsets, and answers their
PSYNC from its own backlog. REPLICAOF NO ONE keeps the old ID as
master_replid2, so that the other replicas of the old primary resync
partially with the promoted one. A replica restarted with the same dir
takes its dump's replication ID and offset as its cached primary and
resyncs partially. Datasets are compared with DEBUG DIGEST
once the offsets are equal; every wait is bounded.
"""
from test_psync import (DEBUG, PRIMARY_ARGS, assert_same_data, replicaof_args, shutdown_saving,
                        sync_stats, wait_link_down, writes)

from conftest import RespError, RespReader, encode_command, one, raw_connect, repl, wait_until


def test_a_chain_forwards_the_primary_stream_with_the_same_offsets(make_tandem):
    a = make_tandem(PRIMARY_ARGS)
    writes(a, "before", 300)
    b = make_tandem(DEBUG + replicaof_args(a))
    assert_same_data(a, b)
    c = make_tandem(DEBUG + replicaof_args(b))
    writes(a, "during", 300)
    assert_same_data(a, c)
    assert repl(c)["master_replid"] == repl(a)["master_replid"] == repl(b)["master_replid"]
    before = sync_stats(b)
    assert one(c, "CLIENT", "KILL", "TYPE", "master") == 1
    writes(a, "cut", 300)
    assert_same_data(a, c)
    after = sync_stats(b)
    assert after["sync_partial_ok"] == before["sync_partial_ok"] + 1
    assert after["sync_full"] == before["sync_full"]
    assert one(c, "GET", "cut:299") == b"v" * 20


def test_a_chain_stays_equal_under_a_concurrent_write_load(make_tandem):
    from test_repl_replica import LoadThread
    a = make_tandem(PRIMARY_ARGS)
    b = make_tandem(DEBUG + replicaof_args(a))
    c = make_tandem(DEBUG + replicaof_args(b))
    load = LoadThread(a.port, 40000, seed=12)
    load.start()
    wait_until(lambda: repl(c)["master_link_status"] == "up", 60, message=lambda: repl(c))
    assert one(c, "CLIENT", "KILL", "TYPE", "master") == 1
    load.finish()
    one(a, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
    assert_same_data(a, b)
    assert_same_data(a, c)
    assert repl(c)["master_repl_offset"] == repl(a)["master_repl_offset"]


def test_the_other_replicas_resync_partially_with_a_promoted_one(make_tandem):
    a = make_tandem(PRIMARY_ARGS)
    writes(a, "before", 300)
    b = make_tandem(DEBUG + replicaof_args(a))
    c = make_tandem(DEBUG + replicaof_args(a))
    assert_same_data(a, b)
    assert_same_data(a, c)
    old = repl(b)
    assert one(b, "REPLICAOF", "NO", "ONE") == "OK"
    promoted = repl(b)
    assert promoted["master_replid2"] == old["master_replid"]
    # A's PING may reach B between the two INFOs: at least the offset seen.
    second = int(promoted["second_repl_offset"])
    assert second >= int(old["master_repl_offset"]) + 1
    assert (f"Setting secondary replication ID to {old['master_replid']}, valid up to offset: "
            f"{second}.") in b.read_log()
    assert promoted["master_replid"] != old["master_replid"]
    assert one(c, "REPLICAOF", "127.0.0.1", b.port) == "OK"
    writes(b, "promoted", 200)
    assert_same_data(b, c)
    assert sync_stats(b)["sync_partial_ok"] == 1 and sync_stats(b)["sync_full"] == 0
    assert repl(c)["master_replid"] == repl(b)["master_replid"]


def test_a_restarted_replica_resyncs_partially_from_its_dump(make_tandem):
    a = make_tandem(PRIMARY_ARGS)
    writes(a, "before", 300)
    b = make_tandem(DEBUG + replicaof_args(a))
    assert_same_data(a, b)
    saved = repl(b)
    shutdown_saving(b)
    writes(a, "while-down", 200)
    b.start(DEBUG + replicaof_args(a))
    assert_same_data(a, b)
    assert sync_stats(a) == {"sync_full": 1, "sync_partial_ok": 1, "sync_partial_err": 0}
    assert repl(b)["master_replid"] == saved["master_replid"]
    assert one(b, "GET", "while-down:199") == b"v" * 20
    assert "Before turning into a replica, using my own master parameters" in b.read_log()


def test_a_replica_without_its_primary_refuses_sync_with_nomasterlink(make_tandem):
    a = make_tandem(PRIMARY_ARGS)
    writes(a, "before", 300)
    b = make_tandem(DEBUG + replicaof_args(a))
    c = make_tandem(DEBUG + replicaof_args(b))
    assert_same_data(a, c)
    a.stop()
    wait_link_down(b)
    with raw_connect(b.port) as s:
        reader = RespReader(s, 30)
        s.sendall(encode_command("PSYNC", "?", -1))
        reply = reader.read()
    assert isinstance(reply, RespError)
    assert str(reply) == "NOMASTERLINK Can't SYNC while not connected with my master"
    # A replica of the cut-off one retries, visibly, until the chain is whole.
    assert one(c, "CLIENT", "KILL", "TYPE", "master") == 1
    wait_until(lambda: "NOMASTERLINK" in repl(c)["tandem_link_last_failure"], 30,
               message=lambda: repl(c))
    a.start(PRIMARY_ARGS, port=a.port)
    writes(a, "back", 100)
    assert_same_data(a, c)


def test_the_old_primary_rejoins_the_promoted_one_partially(make_tandem):
    """A failover both ways: B promoted, A (the old primary, with its data
    and offset) turned into B's replica resyncs partially, then B writes
    reach A."""
    a = make_tandem(PRIMARY_ARGS)
    writes(a, "before", 300)
    b = make_tandem(DEBUG + replicaof_args(a))
    assert_same_data(a, b)
    assert one(b, "REPLICAOF", "NO", "ONE") == "OK"
    assert one(a, "REPLICAOF", "127.0.0.1", b.port) == "OK"
    writes(b, "after", 200)
    assert_same_data(b, a)
    assert sync_stats(b)["sync_partial_ok"] == 1 and sync_stats(b)["sync_full"] == 0
    assert repl(a)["tandem_link_partial_syncs"] == "1"
    assert one(a, "GET", "after:199") == b"v" * 20

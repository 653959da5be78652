"""Disk faults on a replica while it receives its primary's RDB.

A replica whose files may not grow past 1 MB (RLIMIT_FSIZE, the stand-in
for a full disk) and a replica whose working directory vanished both fail
the transfer with a log line that says why, keep their previous dataset
whole and keep serving it, show the failure in INFO replication, and retry:
once the cause is gone they sync. Every wait is bounded.
"""
from test_persistence import FsizeLimitedTandem
from test_psync import DEBUG, PRIMARY_ARGS, assert_same_data, replicaof_args

from conftest import one, repl, session, wait_until

SYNC_TIMEOUT = 60


def test_full_disk_on_the_replica_keeps_its_data_and_retries(make_tandem, tmp_path):
    primary = make_tandem(PRIMARY_ARGS + ["--rdbcompression", "no"])
    one(primary, "DEBUG", "POPULATE", 20000, "big", 100)
    replica = FsizeLimitedTandem(tmp_path / "fsize")
    try:
        replica.start(DEBUG)
        session(replica, [("SET", "mine", "kept")])
        before = one(replica, "DEBUG", "DIGEST")
        assert one(replica, "REPLICAOF", "127.0.0.1", primary.port) == "OK"
        wait_until(lambda: "File too large" in repl(replica).get("tandem_link_last_failure", ""),
                   SYNC_TIMEOUT, message=lambda: f"{repl(replica)}\n{replica.read_log()[-3000:]}")
        assert repl(replica)["master_link_status"] == "down"
        assert one(replica, "DEBUG", "DIGEST") == before
        assert one(replica, "GET", "mine") == b"kept"
        assert not list(replica.dir.glob("temp-*.rdb"))
        # The primary's dataset shrinks: the next attempt fits and syncs.
        one(primary, "FLUSHALL")
        session(primary, [("SET", f"small:{i}", i) for i in range(100)])
        assert_same_data(primary, replica)
        assert one(replica, "GET", "mine") is None
    finally:
        replica.stop()


def test_vanished_dir_on_the_replica_keeps_its_data_and_retries(make_tandem):
    primary = make_tandem(PRIMARY_ARGS)
    session(primary, [("SET", f"k:{i}", i) for i in range(1000)])
    replica = make_tandem(DEBUG)
    session(replica, [("SET", "mine", "kept")])
    gone = replica.dir / "gone"
    gone.mkdir()
    assert one(replica, "CONFIG", "SET", "dir", str(gone)) == "OK"
    gone.rmdir()
    assert one(replica, "REPLICAOF", "127.0.0.1", primary.port) == "OK"
    wait_until(lambda: "No such file or directory" in
               repl(replica).get("tandem_link_last_failure", ""), SYNC_TIMEOUT,
               message=lambda: f"{repl(replica)}\n{replica.read_log()[-3000:]}")
    assert one(replica, "GET", "mine") == b"kept"
    assert one(replica, "CONFIG", "SET", "dir", str(replica.dir)) == "OK"
    assert_same_data(primary, replica)
    assert one(replica, "GET", "k:999") == b"999"

"""Replication, the replica side: tandem as a replica of a tandem primary and
of Debian's redis-server 7.0 primary.

Full sync of 100,000 keys; the stream under a concurrent write load (the
sync starts in the middle of it); expired keys kept until the primary's DEL;
READONLY and MASTERDOWN with Redis's texts; masterauth/masteruser against
a primary's requirepass, and a replica's own requirepass; a replica restarted with --replicaof, and a primary restarted on the
same port, both followed by a resync; REPLICAOF NO ONE; switching to another
primary; a primary stopped with SIGSTOP past repl-timeout takes the link down
and it comes back after SIGCONT; REPLICAOF/SLAVEOF replies and the replicaof
directive against Redis; INFO replication field names and ROLE against a
Redis replica; and interop: a tandem replica of redis-server 7.0 (integers,
LZF-compressed values, expiries, several databases, both RDB framings) that
follows its stream, and a redis primary whose RDB holds a type tandem does
not have: the load fails cleanly, the previous dataset stays whole.

Two datasets are compared with DEBUG DIGEST (Redis-exact in tandem) once the
replica has applied every byte the primary wrote (its slave_repl_offset
equals the primary's master_repl_offset). Every wait is bounded.
"""
import os
import random
import signal
import threading

from conftest import (digest, one, repl, RespError, RespReader, encode_command, free_port, info_fields,
                      parse_info, raw_connect, same_replies, session, wait_in_sync,
                      wait_until)

DEBUG = ["--enable-debug-command", "yes"]
SYNC_TIMEOUT = 60
READONLY = "READONLY You can't write against a read only replica."
MASTERDOWN = ("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to "
              "'no'.")
FAST_REDIS_PRIMARY = DEBUG + ["--repl-diskless-sync-delay", "0"]


# ---------------------------------------------------------------- helpers


def replicaof_args(primary):
    return ["--replicaof", "127.0.0.1", str(primary.port)]


def tandem_primary(make_tandem, *args):
    return make_tandem(DEBUG + list(args))


def tandem_replica(make_tandem, primary, *args):
    return make_tandem(DEBUG + replicaof_args(primary) + list(args))


def describe(primary, replica):
    return lambda: (f"primary {repl(primary)}\nreplica {repl(replica)}\n"
                    f"replica log:\n{replica.read_log()[-4000:]}")


def assert_same_data(primary, replica):
    # Keys with short TTLs would otherwise expire on the primary (and reach
    # the replica as DELs) between the two digests: hold active expiry still.
    one(primary, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
    expected = wait_in_sync(primary, replica)
    assert digest(replica) == expected
    # The sizes too, before expiry resumes: a key expiring between the two
    # DBSIZEs would otherwise be counted on one side only.
    for db in range(16):
        p = session(primary, [("SELECT", db), ("DBSIZE",)])[1]
        r = session(replica, [("SELECT", db), ("DBSIZE",)])[1]
        assert r == p, f"db {db}: replica has {r} keys, primary {p}"
    one(primary, "DEBUG", "SET-ACTIVE-EXPIRE", "1")


def wait_link(replica, status, timeout=SYNC_TIMEOUT):
    wait_until(lambda: repl(replica).get("master_link_status") == status, timeout,
               interval=0.05, message=lambda: f"link {status}: {repl(replica)}\n"
                                              f"{replica.read_log()[-3000:]}")


def random_command(rng):
    """One command of the write load: every kind the stream must carry."""
    key = f"key:{rng.randrange(400)}"
    x = rng.random()
    if x < 0.05:
        return ("SELECT", rng.randrange(4))
    if x < 0.35:
        return ("SET", key, f"value-{rng.randrange(10 ** 6)}")
    if x < 0.50:
        return ("INCR", f"counter:{rng.randrange(50)}")
    if x < 0.62:
        return ("APPEND", key, "+" * rng.randrange(1, 40))
    if x < 0.72:
        return ("DEL", key, f"key:{rng.randrange(400)}")
    if x < 0.82:
        return ("EXPIRE", key, rng.randrange(100, 1000))
    if x < 0.92:
        return ("SET", key, "short-lived", "PX", rng.randrange(1, 300))
    if x < 0.9993:
        return ("GET", key)
    return ("FLUSHALL",)


def write_load(port, ops, seed, batch=100):
    """Sends ops random commands in pipelined batches, reading every reply."""
    rng = random.Random(seed)
    with raw_connect(port, timeout=30) as s:
        reader = RespReader(s, 30)
        for start in range(0, ops, batch):
            cmds = [random_command(rng) for _ in range(min(batch, ops - start))]
            s.sendall(b"".join(encode_command(*c) for c in cmds))
            for _ in cmds:
                reader.read()


class LoadThread(threading.Thread):
    def __init__(self, port, ops, seed):
        super().__init__(daemon=True)
        self.args = (port, ops, seed)
        self.error = None

    def run(self):
        try:
            write_load(*self.args)
        except Exception as e:  # reported by finish()
            self.error = e

    def finish(self, timeout=120):
        self.join(timeout)
        assert not self.is_alive(), "the write load did not finish in time"
        assert self.error is None, f"the write load failed: {self.error!r}"


def fill_mixed(srv):
    """Integers, long compressible values, expiries and several databases."""
    cmds = []
    for db in (0, 5, 15):
        cmds.append(("SELECT", db))
        for i in range(300):
            cmds.append(("SET", f"s{db}:{i}", f"value-{i}"))
        for i in range(50):
            cmds.append(("SET", f"int{db}:{i}", i * 1000003 - 7))
        for i in range(20):
            cmds.append(("SET", f"long{db}:{i}", ("abcdefgh" * 500) + str(i)))
        for i in range(30):
            cmds.append(("SET", f"ttl{db}:{i}", f"t{i}", "PX", 600000 + i))
        cmds.append(("SET", f"bin{db}", b"\x00\xff\r\n" * 10))
    session(srv, cmds)


# ------------------------------------------------------ tandem <- tandem


def test_full_sync_of_100k_keys(make_tandem):
    primary = tandem_primary(make_tandem)
    assert one(primary, "DEBUG", "POPULATE", 100000) == "OK"
    replica = tandem_replica(make_tandem, primary)
    assert_same_data(primary, replica)
    assert one(replica, "DBSIZE") == 100000
    log = replica.read_log()
    assert "MASTER <-> REPLICA sync: Finished with success" in log
    assert "Done loading RDB, keys loaded: 100000" in log


def test_stream_under_write_load(make_tandem):
    primary = tandem_primary(make_tandem)
    write_load(primary.port, 3000, seed=1)
    load = LoadThread(primary.port, 30000, seed=2)
    load.start()
    replica = make_tandem(DEBUG)
    # The sync starts while the load runs: writes made during the transfer
    # reach the replica through the stream.
    assert one(replica, "REPLICAOF", "127.0.0.1", primary.port) == "OK"
    load.finish()
    assert_same_data(primary, replica)
    write_load(primary.port, 3000, seed=3)
    assert_same_data(primary, replica)


def test_clients_get_loading_while_the_replica_loads(make_tandem):
    """The load of a full sync does not stop the event loop: clients get
    -LOADING and INFO shows the progress, then the dataset answers."""
    primary = tandem_primary(make_tandem, "--rdbcompression", "no")
    # 9 MB: the loader reports every 2 MB, and sleeps 100 us a key there
    # (about 3 s in all), serving clients between slices.
    assert one(primary, "DEBUG", "POPULATE", 30000, "key", 300) == "OK"
    replica = make_tandem(DEBUG + ["--key-load-delay", "100"])
    assert one(replica, "SET", "old", "1") == "OK"
    assert one(replica, "REPLICAOF", "127.0.0.1", primary.port) == "OK"
    wait_until(lambda: info_fields(replica, "persistence").get("loading") == "1", SYNC_TIMEOUT,
               interval=0.01, message=describe(primary, replica))
    reply = one(replica, "GET", "key:1")
    assert isinstance(reply, RespError) and str(reply).startswith("LOADING"), reply
    assert repl(replica)["master_sync_in_progress"] == "1"
    assert_same_data(primary, replica)
    assert one(replica, "GET", "old") is None
    assert info_fields(replica, "persistence")["loading"] == "0"


def test_expired_keys_wait_for_the_primary(make_tandem):
    primary = tandem_primary(make_tandem)
    replica = tandem_replica(make_tandem, primary)
    wait_in_sync(primary, replica)
    session(primary, [("DEBUG", "SET-ACTIVE-EXPIRE", "0"), ("SET", "k", "v", "PX", 50)])
    wait_in_sync(primary, replica)
    # Past its time the key reads as missing on the replica but stays until
    # the primary's DEL arrives.
    wait_until(lambda: one(replica, "GET", "k") is None, 10)
    assert one(replica, "DBSIZE") == 1
    assert one(primary, "GET", "k") is None  # expires on the primary: DEL
    wait_in_sync(primary, replica)
    assert one(replica, "DBSIZE") == 0


def test_read_only_replica(make_tandem):
    primary = tandem_primary(make_tandem)
    replica = tandem_replica(make_tandem, primary)
    wait_in_sync(primary, replica)
    one(primary, "SET", "k", "from-primary")
    wait_in_sync(primary, replica)
    replies = session(replica, [("SET", "k", "v"), ("INCR", "n"), ("DEL", "k"), ("GET", "k"),
                                ("FLUSHALL",)])
    assert replies == [READONLY, READONLY, READONLY, b"from-primary", READONLY]
    assert all(isinstance(r, RespError) for r in replies[:3])
    assert one(replica, "CONFIG", "SET", "replica-read-only", "no") == "OK"
    assert one(replica, "SET", "local", "1") == "OK"
    assert one(replica, "GET", "local") == b"1"
    assert repl(replica)["slave_read_only"] == "0"


def test_stale_data_refused_when_the_link_is_down(make_tandem, make_redis):
    port = str(free_port())  # nothing listens there: the link stays down
    replica = make_tandem(DEBUG + ["--replicaof", "127.0.0.1", port])
    redis = make_redis(["--replicaof", "127.0.0.1", port])
    replies = same_replies(replica, redis, [
        ("SET", "k", "v"), ("GET", "k"), ("CONFIG", "SET", "replica-serve-stale-data", "no"),
        ("GET", "k"), ("SET", "k", "v"), ("DBSIZE",), ("INFO", "nosuchsection"),
        ("CONFIG", "GET", "replica-serve-stale-data"), ("REPLICAOF", "127.0.0.1", port),
        ("CONFIG", "SET", "replica-serve-stale-data", "yes"), ("GET", "k")])
    assert replies[0] == READONLY
    assert replies[3] == MASTERDOWN


def test_passwords_on_both_sides(make_tandem):
    def authed(srv, password, *cmds):
        return session(srv, [("AUTH", password)] + list(cmds))[1:]

    def info(srv, password):
        return parse_info(authed(srv, password, ("INFO", "replication"))[0].decode())

    primary = tandem_primary(make_tandem, "--requirepass", "p-secret")
    authed(primary, "p-secret", ("DEBUG", "POPULATE", 1000))
    replica = tandem_replica(make_tandem, primary, "--masteruser", "default", "--masterauth",
                             "p-secret", "--requirepass", "r-secret")
    wrong = tandem_replica(make_tandem, primary, "--masterauth", "nope", "--requirepass",
                           "r-secret")
    authed(primary, "p-secret", ("SET", "k", "v"))

    def synced():
        r = info(replica, "r-secret")
        return r.get("master_link_status") == "up" and \
            r["slave_repl_offset"] == info(primary, "p-secret")["master_repl_offset"]
    # The replica's own password does not stop its primary's stream.
    wait_until(synced, SYNC_TIMEOUT)
    assert authed(replica, "r-secret", ("DEBUG", "DIGEST")) == \
        authed(primary, "p-secret", ("DEBUG", "DIGEST"))
    wait_until(lambda: "Unable to AUTH to MASTER" in
               info(wrong, "r-secret")["tandem_link_last_failure"], SYNC_TIMEOUT)
    assert info(wrong, "r-secret")["master_link_status"] == "down"


def test_replica_restart_resyncs_partially_from_its_final_save(make_tandem):
    primary = tandem_primary(make_tandem)
    one(primary, "DEBUG", "POPULATE", 20000)
    replica = tandem_replica(make_tandem, primary)
    assert_same_data(primary, replica)
    replica.stop()
    write_load(primary.port, 2000, seed=4)
    replica.start(DEBUG + replicaof_args(primary))
    assert_same_data(primary, replica)
    # SIGTERM's save carried the replication ID and offset (test_repl_chain.py).
    info = repl(replica)
    assert info["tandem_link_full_syncs"] == "0" and info["tandem_link_partial_syncs"] == "1"


def test_restarted_replica_keeps_keys_its_primary_has_not_expired_yet(make_tandem):
    primary = tandem_primary(make_tandem)
    one(primary, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
    session(primary, [("SET", "soon", "1", "PX", 100), ("SET", "stays", "2")])
    replica = tandem_replica(make_tandem, primary)
    expected = wait_in_sync(primary, replica)
    # Expired on the primary's clock, but not deleted: no DEL was sent.
    wait_until(lambda: one(primary, "DBSIZE") == 2 and one(replica, "GET", "soon") is None, 10)
    replica.stop()
    replica.start(DEBUG + replicaof_args(primary))
    assert wait_in_sync(primary, replica) == expected
    assert digest(replica) == expected
    assert one(replica, "DBSIZE") == 2


def test_primary_restart_is_followed(make_tandem):
    primary = tandem_primary(make_tandem)
    one(primary, "DEBUG", "POPULATE", 5000, "old")
    replica = tandem_replica(make_tandem, primary)
    assert_same_data(primary, replica)
    with raw_connect(primary.port) as s:
        s.sendall(encode_command("SHUTDOWN", "NOSAVE"))
        primary.wait_exit()
    wait_link(replica, "down")
    # A full sync through the disk leaves a dump (a diskless one does not):
    # without it the primary comes back with other data.
    (primary.dir / "dump.rdb").unlink(missing_ok=True)
    primary.start(DEBUG, port=primary.port)
    # Written, not populated: DEBUG POPULATE is not propagated, and the
    # replica may sync at any moment.
    session(primary, [("SET", f"new:{i}", i) for i in range(3000)])
    assert_same_data(primary, replica)
    assert one(replica, "EXISTS", "old:4000") == 0
    assert one(replica, "EXISTS", "new:2999") == 1
    assert int(repl(replica)["tandem_link_full_syncs"]) >= 2


def test_replicaof_no_one_keeps_the_data(make_tandem):
    primary = tandem_primary(make_tandem)
    write_load(primary.port, 3000, seed=5)
    replica = tandem_replica(make_tandem, primary)
    expected = wait_in_sync(primary, replica)
    primary_id = repl(primary)["master_replid"]
    assert one(replica, "REPLICAOF", "NO", "ONE") == "OK"
    assert one(replica, "REPLICAOF", "NO", "ONE") == "OK"
    assert digest(replica) == expected
    info = repl(replica)
    assert info["role"] == "master"
    assert info["master_replid2"] == primary_id
    assert info["master_replid"] != primary_id
    assert one(replica, "ROLE")[0] == b"master"
    assert one(replica, "SET", "mine", "1") == "OK"
    one(primary, "SET", "theirs", "1")
    assert one(replica, "EXISTS", "theirs") == 0
    assert "MASTER MODE enabled (user request from 'id=" in replica.read_log()
    assert one(replica, "CONFIG", "GET", "replicaof") == [b"replicaof", b""]


def test_switching_to_another_primary(make_tandem):
    first = tandem_primary(make_tandem)
    second = tandem_primary(make_tandem)
    one(first, "DEBUG", "POPULATE", 4000, "first")
    one(second, "DEBUG", "POPULATE", 3000, "second")
    replica = tandem_replica(make_tandem, first)
    assert_same_data(first, replica)
    assert one(replica, "REPLICAOF", "127.0.0.1", second.port) == "OK"
    assert one(replica, "REPLICAOF", "127.0.0.1", second.port) == \
        "OK Already connected to specified master"
    assert_same_data(second, replica)
    assert one(replica, "EXISTS", "first:1") == 0
    log = replica.read_log()
    assert f"REPLICAOF 127.0.0.1:{second.port} enabled (user request from 'id=" in log
    assert "REPLICAOF would result into synchronization with the master we are already " \
           "connected with. No operation performed." in log
    assert repl(replica)["master_port"] == str(second.port)
    write_load(first.port, 500, seed=6)
    write_load(second.port, 500, seed=7)
    assert_same_data(second, replica)


def test_sigstopped_primary_times_out_and_comes_back(make_tandem):
    primary = tandem_primary(make_tandem, "--repl-ping-replica-period", "1")
    one(primary, "DEBUG", "POPULATE", 1000)
    replica = tandem_replica(make_tandem, primary)
    wait_in_sync(primary, replica)
    # Redis refuses a repl-timeout below 1; 2 leaves room for the pings.
    assert one(replica, "CONFIG", "SET", "repl-timeout", "0") != "OK"
    assert one(replica, "CONFIG", "SET", "repl-timeout", "2") == "OK"
    os.kill(primary.pid, signal.SIGSTOP)
    try:
        wait_link(replica, "down", timeout=20)
        replica.wait_for_log(r"MASTER timeout: no data nor PING received\.\.\.")
    finally:
        os.kill(primary.pid, signal.SIGCONT)
    wait_link(replica, "up", timeout=30)
    one(primary, "SET", "after", "sigcont")
    assert_same_data(primary, replica)


def test_info_replication_on_the_replica(make_tandem, make_redis):
    primary = tandem_primary(make_tandem)
    replica = tandem_replica(make_tandem, primary)
    wait_in_sync(primary, replica)
    write_load(primary.port, 500, seed=8)
    wait_in_sync(primary, replica)
    info = repl(replica)
    assert info["role"] == "slave"
    assert info["master_host"] == "127.0.0.1"
    assert info["master_port"] == str(primary.port)
    assert info["master_link_status"] == "up"
    assert int(info["master_last_io_seconds_ago"]) >= 0
    assert info["master_sync_in_progress"] == "0"
    assert info["slave_read_repl_offset"] == info["slave_repl_offset"]
    assert info["master_repl_offset"] == info["slave_repl_offset"]
    assert info["master_replid"] == repl(primary)["master_replid"]
    assert (info["slave_priority"], info["slave_read_only"], info["replica_announced"]) == \
        ("100", "1", "1")
    assert info["connected_slaves"] == "0"
    assert info["master_failover_state"] == "no-failover"
    assert info["tandem_link_state"] == "connected"
    assert info["tandem_link_full_syncs"] == "1"
    assert info["tandem_link_last_failure"] == ""
    assert "master_link_down_since_seconds" not in info
    one(replica, "CONFIG", "SET", "replica-priority", "7")
    assert repl(replica)["slave_priority"] == "7"

    # The same fields, in the same order, as a Redis replica's (up, then
    # down); tandem adds its tandem_* fields.
    redis_primary = make_redis(FAST_REDIS_PRIMARY)
    redis_replica = make_redis(["--replicaof", "127.0.0.1", str(redis_primary.port)])
    wait_link(redis_replica, "up")

    def names(srv):
        return [k for k in repl(srv) if not k.startswith("tandem_")]
    assert names(replica) == names(redis_replica)
    primary.stop()
    redis_primary.stop()
    wait_link(replica, "down")
    wait_link(redis_replica, "down")
    assert names(replica) == names(redis_replica)
    info = repl(replica)
    assert info["tandem_link_state"] in ("connect", "connecting", "receive_ping_reply")
    assert info["tandem_link_last_failure"] != ""
    assert int(info["master_link_down_since_seconds"]) >= 0


def test_role_on_the_replica(make_tandem, make_redis):
    primary = tandem_primary(make_tandem)
    replica = tandem_replica(make_tandem, primary)
    wait_in_sync(primary, replica)
    one(primary, "SET", "k", "v")
    wait_in_sync(primary, replica)
    role = one(replica, "ROLE")
    assert role == [b"slave", b"127.0.0.1", primary.port, b"connected",
                    int(repl(replica)["slave_repl_offset"])]
    redis_primary = make_redis(FAST_REDIS_PRIMARY)
    redis_replica = make_redis(["--replicaof", "127.0.0.1", str(redis_primary.port)])
    wait_link(redis_replica, "up")
    assert [type(x) for x in one(redis_replica, "ROLE")] == [type(x) for x in role]


def test_replicaof_replies_and_directive(make_tandem, make_redis):
    port = str(free_port())
    t = make_tandem(DEBUG)
    r = make_redis()
    same_replies(t, r, [
        ("REPLICAOF", "127.0.0.1", "abc"),
        ("REPLICAOF", "127.0.0.1", "70000"),
        ("REPLICAOF", "127.0.0.1", "-1"),
        ("REPLICAOF", "NO", "ONE"),
        ("REPLICAOF", "127.0.0.1"),
        ("CONFIG", "GET", "replicaof"),
        ("SLAVEOF", "127.0.0.1", port),
        ("REPLICAOF", "127.0.0.1", port),
        ("CONFIG", "GET", "replicaof"),
        ("CONFIG", "GET", "slaveof"),
        ("CONFIG", "SET", "replicaof", "127.0.0.1 1"),
        ("SLAVEOF", "no", "one"),
        ("CONFIG", "GET", "replicaof"),
        ("CONFIG", "GET", "replica-read-only"),
        ("CONFIG", "GET", "replica-serve-stale-data"),
        ("CONFIG", "GET", "replica-priority"),
        ("CONFIG", "GET", "replica-announce-ip"),
        ("CONFIG", "GET", "replica-announce-port"),
        ("CONFIG", "GET", "masterauth"),
        ("CONFIG", "GET", "masteruser"),
        ("CONFIG", "SET", "replica-priority", "-1"),
        ("CONFIG", "SET", "replica-announce-port", "70000"),
    ])
    assert "REPLICAOF 127.0.0.1:%s enabled (user request from 'id=" % port in t.read_log()
    # Promoted without ever syncing: its own ID became the secondary one.
    info = repl(t)
    assert info["role"] == "master" and info["second_repl_offset"] == "1"
    assert len(info["master_replid2"]) == 40 and info["master_replid2"] != "0" * 40
    # The directive, from a file and as one --replicaof "host port" argument.
    a = make_tandem(config_text=f"replicaof 127.0.0.1 {port}\n")
    b = make_tandem(["--replicaof", f"127.0.0.1 {port}"])
    for srv in (a, b):
        assert one(srv, "CONFIG", "GET", "replicaof") == [b"replicaof", f"127.0.0.1 {port}".encode()]
        assert repl(srv)["role"] == "slave"
        assert one(srv, "ROLE")[:3] == [b"slave", b"127.0.0.1", int(port)]


# --------------------------------------------------------- tandem <- redis


def test_replica_of_a_redis_primary(make_tandem, make_redis):
    redis = make_redis(FAST_REDIS_PRIMARY)
    fill_mixed(redis)
    replica = tandem_replica(make_tandem, redis)
    assert_same_data(redis, replica)
    assert "receiving streamed RDB from master with EOF" in replica.read_log()
    cmds = [("SET", "new", "1"), ("SET", "ex", "v", "EX", 1000), ("EXPIRE", "s0:1", 5000),
            ("DEL", "s0:2", "s0:3"), ("SELECT", 5), ("INCR", "int5:3"), ("APPEND", "s5:1", "++"),
            ("SET", "gone", "soon", "PX", 100), ("SELECT", 15), ("FLUSHDB",)]
    session(redis, cmds)
    assert_same_data(redis, replica)
    wait_until(lambda: session(redis, [("SELECT", 5), ("EXISTS", "gone")])[1] == 0, 10)
    assert_same_data(redis, replica)
    write_load(redis.port, 5000, seed=9)
    assert_same_data(redis, replica)
    assert one(redis, "FLUSHALL") == "OK"
    assert_same_data(redis, replica)
    assert one(replica, "DBSIZE") == 0


def test_replica_of_a_redis_primary_with_disk_sync(make_tandem, make_redis):
    redis = make_redis(DEBUG + ["--repl-diskless-sync", "no"])
    fill_mixed(redis)
    replica = tandem_replica(make_tandem, redis)
    assert_same_data(redis, replica)
    assert "bytes from master to disk" in replica.read_log()


def test_unknown_command_in_the_stream_is_visible(make_tandem, make_redis):
    redis = make_redis(FAST_REDIS_PRIMARY)
    replica = tandem_replica(make_tandem, redis)
    wait_in_sync(redis, replica)
    assert repl(replica)["tandem_stream_errors"] == "0"
    # A command tandem does not have yet reaches it through the stream: the
    # replica logs it, counts it in INFO, keeps the link and applies the rest.
    session(redis, [("HSET", "h", "f", "v"), ("SET", "after", "1")])
    wait_until(lambda: one(replica, "GET", "after") == b"1", SYNC_TIMEOUT)
    info = repl(replica)
    assert info["tandem_stream_errors"] == "1"
    assert info["tandem_stream_last_error_command"].lower() == "hset"
    assert info["master_link_status"] == "up"
    assert "== CRITICAL == This replica is sending an error to its master" in replica.read_log()


def test_unknown_type_from_redis_fails_cleanly(make_tandem, make_redis):
    good = make_redis(FAST_REDIS_PRIMARY)
    fill_mixed(good)
    replica = tandem_replica(make_tandem, good)
    expected = wait_in_sync(good, replica)
    bad = make_redis(DEBUG + ["--repl-diskless-sync", "no"])
    session(bad, [("SET", "a", "1"), ("HSET", "h", "f", "v"), ("SET", "z", "2")])
    assert one(replica, "REPLICAOF", "127.0.0.1", bad.port) == "OK"
    wait_until(lambda: "load the MASTER synchronization DB" in
               repl(replica)["tandem_link_last_failure"], SYNC_TIMEOUT,
               message=lambda: f"{repl(replica)}\n{replica.read_log()[-3000:]}")
    # The previous dataset, whole: nothing of the failed load.
    assert one(replica, "PING") == "PONG"
    assert digest(replica) == expected
    assert one(replica, "EXISTS", "a") == 0
    info = repl(replica)
    assert info["master_link_status"] == "down"
    assert int(info["tandem_link_failures"]) >= 1
    assert "Failed trying to load the MASTER synchronization DB from disk" in replica.read_log()
    # It keeps trying, and still serves the old data meanwhile.
    failures = int(info["tandem_link_failures"])
    wait_until(lambda: int(repl(replica)["tandem_link_failures"]) > failures, 30)
    assert digest(replica) == expected
    assert one(replica, "REPLICAOF", "NO", "ONE") == "OK"
    assert digest(replica) == expected

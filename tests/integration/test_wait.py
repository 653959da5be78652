"""WAIT and min-replicas-to-write on a tandem primary.

WAIT numreplicas timeout: the count of replicas that acknowledged the
client's last write, at once when enough have, else once they have (the
primary sends REPLCONF GETACK * through the stream as soon as a client
blocks, so no timeout is needed) or when the timeout passes; with 0, 1 and 2
tandem replicas and with a Debian redis-server 7.0 replica; a replica held
with SIGSTOP makes WAIT time out with fewer; a blocked client's pipelined
requests wait behind it; a blocked client that disconnects leaves the server
healthy; WAIT inside EXEC never blocks; WAIT on a replica and bad arguments
answer Redis's errors.

min-replicas-to-write / min-replicas-max-lag (and the min-slaves-* names):
writes are refused with Redis's NOREPLICAS error while too few replicas are
good (none attached, one held still past the lag, one gone) and accepted
again once it is back; reads always work; INFO's min_slaves_good_slaves sits
after connected_slaves as in Redis; the replica applying its primary's
stream is never refused. Every wait is bounded; no timing is asserted.
"""
import os
import signal

from conftest import (RespError, RespReader, encode_command, info_fields, nothing_to_read, one,
                      raw_connect, repl, same_replies, session, wait_until)

DEBUG = ["--enable-debug-command", "yes"]
PRIMARY_ARGS = DEBUG + ["--save", ""]
SYNC_TIMEOUT = 60
# The stream's PINGs would move the offsets the GETACK tests count.
NO_PINGS = ["--repl-ping-replica-period", "3600"]
GETACK = encode_command("REPLCONF", "GETACK", "*")
NOREPLICAS = "NOREPLICAS Not enough good replicas to write."
WAIT_ON_REPLICA = ("ERR WAIT cannot be used with replica instances. Please also note that since "
                   "Redis 4.0 if a replica is configured to be writable (which is not the "
                   "default) writes to replicas are just local and are not propagated.")


# ---------------------------------------------------------------- helpers


def replicaof_args(primary):
    return ["--replicaof", "127.0.0.1", str(primary.port)]


def describe(primary, *replicas):
    def text():
        parts = [f"primary {repl(primary)}", f"primary log:\n{primary.read_log()[-3000:]}"]
        parts += [f"replica {r.port}: {repl(r)}" for r in replicas]
        return "\n".join(parts)
    return text


def online_count(primary):
    info = repl(primary)
    return sum(1 for k, v in info.items() if k.startswith("slave") and "state=online" in v)


def wait_online(primary, count):
    wait_until(lambda: online_count(primary) == count, SYNC_TIMEOUT, interval=0.05,
               message=describe(primary))


def wait_caught_up(primary, *replicas):
    """Every replica applied every byte the primary wrote."""
    def caught_up():
        offset = repl(primary)["master_repl_offset"]
        return all(repl(r).get("master_repl_offset") == offset for r in replicas)
    wait_until(caught_up, SYNC_TIMEOUT, interval=0.05, message=describe(primary, *replicas))


def with_replicas(make_tandem, count, *primary_args):
    primary = make_tandem(PRIMARY_ARGS + list(primary_args))
    replicas = [make_tandem(DEBUG + replicaof_args(primary)) for _ in range(count)]
    wait_online(primary, count)
    return primary, replicas


def blocked_clients(srv):
    return int(info_fields(srv, "clients")["blocked_clients"])


class Stopped:
    """Holds a server still with SIGSTOP for the duration of a with block."""

    def __init__(self, srv):
        self.srv = srv

    def __enter__(self):
        os.kill(self.srv.pid, signal.SIGSTOP)
        return self.srv

    def __exit__(self, *exc):
        os.kill(self.srv.pid, signal.SIGCONT)


def offset_of(srv):
    return int(repl(srv)["master_repl_offset"])


# ------------------------------------------------------------------- WAIT


def test_wait_without_replicas_answers_zero(make_tandem):
    primary = make_tandem(PRIMARY_ARGS)
    assert session(primary, [("SET", "k", "v"), ("WAIT", 0, 0), ("WAIT", 0, 100),
                             ("WAIT", 1, 50)]) == ["OK", 0, 0, 0]
    assert blocked_clients(primary) == 0


def test_wait_arguments_and_errors_match_redis(make_tandem, redis_server):
    primary = make_tandem(PRIMARY_ARGS)
    same_replies(primary, redis_server, [
        ("WAIT", "x", 1), ("WAIT", 1, "x"), ("WAIT", 1, "1.5"), ("WAIT", 0, -1),
        ("WAIT", 1), ("WAIT", 1, 2, 3), ("WAIT", -1, 0), ("WAIT", 0, 99999999999999999),
        ("WAIT", 1, 10),
    ])


def test_wait_on_a_replica_is_refused(make_tandem, make_redis):
    primary = make_tandem(PRIMARY_ARGS)
    replica = make_tandem(DEBUG + replicaof_args(primary))
    redis_replica = make_redis(DEBUG + replicaof_args(primary))
    wait_online(primary, 2)
    assert one(replica, "WAIT", 0, 0) == RespError(WAIT_ON_REPLICA)
    assert one(redis_replica, "WAIT", 0, 0) == RespError(WAIT_ON_REPLICA)


def test_wait_counts_the_replicas_that_acknowledged(make_tandem):
    primary, (r1, r2) = with_replicas(make_tandem, 2)
    # No write yet: every ONLINE replica counts.
    assert one(primary, "WAIT", 2, 0) == 2
    replies = session(primary, [("SET", "a", "1"), ("WAIT", 2, 0), ("INCR", "n"), ("WAIT", 1, 0),
                                ("WAIT", 2, 0), ("WAIT", 3, 200)])
    assert replies[:3] == ["OK", 2, 1]
    assert replies[3] in (1, 2)
    assert replies[4:] == [2, 2]  # the last one timed out with both
    wait_caught_up(primary, r1, r2)
    assert one(r1, "GET", "a") == b"1" and one(r2, "GET", "n") == b"1"


def test_wait_with_one_replica(make_tandem):
    primary, (replica,) = with_replicas(make_tandem, 1)
    for i in range(20):
        assert session(primary, [("SET", f"k{i}", i), ("WAIT", 1, 0)]) == ["OK", 1]
    assert one(primary, "WAIT", 2, 100) == 1
    wait_caught_up(primary, replica)
    assert one(replica, "GET", "k19") == b"19"


def test_a_blocked_wait_sends_one_getack(make_tandem):
    primary, (replica,) = with_replicas(make_tandem, 1, *NO_PINGS)
    one(primary, "SET", "warm", "up")
    wait_caught_up(primary, replica)
    before = offset_of(primary)
    set_cmd = encode_command("SET", "k", "v")
    # The SET and the WAIT arrive together: no ACK can be there yet, so the
    # WAIT blocks and the stream carries exactly one GETACK after the SET.
    assert session(primary, [("SET", "k", "v"), ("WAIT", 1, 0)]) == ["OK", 1]
    assert offset_of(primary) == before + len(set_cmd) + len(GETACK)
    wait_caught_up(primary, replica)


def test_wait_times_out_with_a_stopped_replica(make_tandem):
    primary, (r1, r2) = with_replicas(make_tandem, 2)
    with Stopped(r2):
        assert session(primary, [("SET", "k", "v"), ("WAIT", 1, 0), ("WAIT", 2, 300)]) == \
            ["OK", 1, 1]
        assert one(primary, "GET", "k") == b"v"
    assert one(primary, "WAIT", 2, 0) == 2
    wait_caught_up(primary, r1, r2)


def test_a_waiting_client_is_released_by_the_ack(make_tandem):
    primary, (replica,) = with_replicas(make_tandem, 1)
    with raw_connect(primary.port) as s:
        reader = RespReader(s, 30)
        with Stopped(replica):
            # Forever, with a request pipelined behind it.
            s.sendall(encode_command("SET", "k", "v") + encode_command("WAIT", 1, 0)
                      + encode_command("GET", "k"))
            assert reader.read() == "OK"
            wait_until(lambda: blocked_clients(primary) == 1, 10)
            assert nothing_to_read(s, 0.3)
            clients = one(primary, "CLIENT", "LIST").decode()
            assert any("flags=b" in line and "cmd=wait" in line for line in clients.splitlines())
        # SIGCONT: the replica applies the stream and answers the GETACK.
        assert reader.read() == 1
        assert reader.read() == b"v"
    assert blocked_clients(primary) == 0


def test_a_blocked_client_that_disconnects_leaves_the_server_healthy(make_tandem):
    primary, (replica,) = with_replicas(make_tandem, 1)
    with Stopped(replica):
        socks = [raw_connect(primary.port) for _ in range(3)]
        for s in socks:
            s.sendall(encode_command("SET", "k", "v") + encode_command("WAIT", 1, 0))
        wait_until(lambda: blocked_clients(primary) == 3, 10)
        for s in socks:
            s.close()
        wait_until(lambda: blocked_clients(primary) == 0, 10)
        assert one(primary, "PING") == "PONG"
        assert session(primary, [("SET", "k", "x"), ("WAIT", 1, 50)]) == ["OK", 0]
    assert session(primary, [("SET", "k", "w"), ("WAIT", 1, 0)]) == ["OK", 1]
    assert int(info_fields(primary, "clients")["connected_clients"]) >= 1


def test_wait_inside_exec_does_not_block(make_tandem):
    primary = make_tandem(PRIMARY_ARGS)
    replies = session(primary, [("MULTI",), ("SET", "k", "v"), ("WAIT", 5, 0), ("EXEC",),
                                ("PING",)])
    assert replies == ["OK", "QUEUED", "QUEUED", ["OK", 0], "PONG"]


def test_wait_with_a_redis_replica(make_tandem, make_redis):
    primary = make_tandem(PRIMARY_ARGS + NO_PINGS)
    replica = make_redis(DEBUG + replicaof_args(primary))
    wait_online(primary, 1)
    one(primary, "SET", "warm", "up")
    wait_caught_up(primary, replica)
    before = offset_of(primary)
    for i in range(10):
        assert session(primary, [("SET", f"k{i}", i), ("WAIT", 1, 0)]) == ["OK", 1]
    assert offset_of(primary) == before + sum(
        len(encode_command("SET", f"k{i}", i)) + len(GETACK) for i in range(10))
    with Stopped(replica):
        assert session(primary, [("SET", "late", "x"), ("WAIT", 1, 200)]) == ["OK", 0]
    wait_caught_up(primary, replica)
    assert one(replica, "GET", "k9") == b"9"


def test_waiters_get_unblocked_when_the_primary_becomes_a_replica(make_tandem):
    primary, (replica,) = with_replicas(make_tandem, 1)
    other = make_tandem(PRIMARY_ARGS)
    with raw_connect(primary.port) as s:
        reader = RespReader(s, 30)
        with Stopped(replica):
            s.sendall(encode_command("SET", "k", "v") + encode_command("WAIT", 1, 0))
            assert reader.read() == "OK"
            wait_until(lambda: blocked_clients(primary) == 1, 10)
            assert one(primary, "REPLICAOF", "127.0.0.1", other.port) == "OK"
            reply = reader.read(SYNC_TIMEOUT)
        assert isinstance(reply, RespError) and reply.startswith("UNBLOCKED")
    assert blocked_clients(primary) == 0


# ----------------------------------------------------------- min-replicas


def set_refused(srv):
    return one(srv, "SET", "probe", "x") == RespError(NOREPLICAS)


def test_min_replicas_refusal_matches_redis(make_tandem, make_redis):
    args = ["--min-replicas-to-write", "1", "--min-replicas-max-lag", "10"]
    primary = make_tandem(PRIMARY_ARGS + args)
    redis_primary = make_redis(args)
    same_replies(primary, redis_primary, [
        ("SET", "a", "1"), ("GET", "a"), ("DEL", "a"), ("EXISTS", "a"),
        ("MULTI",), ("SET", "a", "1"), ("GET", "a"), ("EXEC",),
        ("CONFIG", "GET", "min-replicas-to-write"), ("CONFIG", "GET", "min-slaves-max-lag"),
        ("CONFIG", "SET", "min-replicas-to-write", "-1"),
        ("CONFIG", "SET", "min-slaves-max-lag", "x"),
        ("CONFIG", "SET", "min-slaves-to-write", "0"), ("SET", "a", "2"),
        ("CONFIG", "GET", "min-replicas-to-write"),
        ("CONFIG", "SET", "min-replicas-to-write", "2", "min-replicas-max-lag", "0"),
        ("SET", "a", "3"),
    ])
    for srv in (primary, redis_primary):
        session(srv, [("CONFIG", "SET", "min-replicas-to-write", "1", "min-replicas-max-lag",
                       "10")])
        fields = list(info_fields(srv, "replication"))
        assert fields[:3] == ["role", "connected_slaves", "min_slaves_good_slaves"]
        assert repl(srv)["min_slaves_good_slaves"] == "0"


def test_min_replicas_follows_the_replica(make_tandem):
    primary = make_tandem(PRIMARY_ARGS + ["--min-replicas-to-write", "1",
                                          "--min-replicas-max-lag", "2"])
    assert set_refused(primary)
    # The replica itself asks for a replica it does not have: the stream it
    # applies is never refused.
    replica = make_tandem(DEBUG + replicaof_args(primary) + ["--min-replicas-to-write", "1"])
    wait_online(primary, 1)
    wait_until(lambda: not set_refused(primary), 10, message=describe(primary, replica))
    assert repl(primary)["min_slaves_good_slaves"] == "1"
    assert session(primary, [("SET", "a", "1"), ("INCR", "n"), ("WAIT", 1, 0)]) == ["OK", 1, 1]
    with Stopped(replica):
        # Past the lag (2 s), at the next replication cron.
        wait_until(lambda: set_refused(primary), 30, interval=0.1, message=describe(primary))
        assert repl(primary)["min_slaves_good_slaves"] == "0"
        assert one(primary, "GET", "a") == b"1"
        assert one(primary, "INCR", "n") == RespError(NOREPLICAS)
    wait_until(lambda: not set_refused(primary), 30, interval=0.1, message=describe(primary))
    assert one(primary, "INCR", "n") == 2
    wait_caught_up(primary, replica)
    assert one(replica, "GET", "n") == b"2"
    # A replica that leaves is no longer counted, without waiting for the lag.
    replica.stop()
    wait_until(lambda: set_refused(primary), 10, message=describe(primary))
    assert one(primary, "GET", "a") == b"1"
    one(primary, "CONFIG", "SET", "min-slaves-to-write", "0")
    assert one(primary, "SET", "a", "2") == "OK"
    assert "min_slaves_good_slaves" not in repl(primary)

"""MULTI, EXEC, DISCARD, WATCH and UNWATCH, compared with Debian's
redis-server 7.0, and transactions through replication.

Each scenario drives named connections, each opened on both servers, and
asserts identical replies, errors included: +QUEUED, the replies array of
EXEC (runtime errors inside it), EXECABORT after an unknown command or a
wrong arity while queuing, nested MULTI, EXEC/DISCARD without MULTI, WATCH
inside MULTI, and the null reply of EXEC (bytes compared: "*-1" in RESP2,
"_" in RESP3) when a watched key was written by another client, flushed,
swapped away or expired. Replication: tandem replicas and a redis-server
replica of a tandem primary end with the primary's DEBUG DIGEST after
transactions over several databases, and a write queued on a replica is
refused (READONLY) and aborts the transaction as in Redis.
"""
import time

import pytest

from conftest import (RespReader, encode_command, digest, info_fields, norm, one, raw_connect,
                      server_pair, wait_in_sync, wait_until)

DEBUG = ["--enable-debug-command", "yes"]
SYNC_TIMEOUT = 60
EXECABORT = "EXECABORT Transaction discarded because of previous errors."


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    with server_pair(tmp_path_factory, DEBUG) as p:
        yield p


class Clients:
    """Named connections, each opened on tandem and on redis-server."""

    def __init__(self, servers):
        self.servers = servers
        self.conns = {}

    def close(self):
        for socks in self.conns.values():
            for s, _ in socks:
                s.close()

    def _get(self, name):
        if name not in self.conns:
            socks = [raw_connect(srv.port) for srv in self.servers]
            self.conns[name] = [(s, RespReader(s)) for s in socks]
        return self.conns[name]

    def each(self, name, *args):
        """Sends a command on the named connection of both servers; returns
        both replies (tandem's, redis's)."""
        replies = []
        for s, reader in self._get(name):
            s.sendall(encode_command(*args))
            replies.append(reader.read())
        return replies

    def call(self, name, *args):
        """Like each(), asserting the same reply; returns tandem's."""
        replies = self.each(name, *args)
        assert norm(replies[0]) == norm(replies[1]), f"{name} {args!r}: {replies!r}"
        return replies[0]

    def raw(self, name, *args):
        """Sends a one-line-reply command; asserts byte-identical replies."""
        lines = [raw_line(s, encode_command(*args)) for s, _ in self._get(name)]
        assert lines[0] == lines[1], f"{name} {args!r}: {lines!r}"
        return lines[0]


def raw_line(sock, payload, timeout=10.0):
    """The first reply line (one reply, nothing buffered before) as bytes."""
    sock.sendall(payload)
    sock.settimeout(timeout)
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        assert chunk, "connection closed"
        data += chunk
    return data


@pytest.fixture
def clients(pair):
    for srv in pair:
        one(srv, "FLUSHALL")
        one(srv, "DEBUG", "SET-ACTIVE-EXPIRE", "1")
    c = Clients(pair)
    yield c
    c.close()


def test_queued_commands_and_exec_replies(clients):
    assert clients.call("a", "MULTI") == "OK"
    for cmd in [("SET", "k", "v"), ("APPEND", "k", "w"), ("GET", "k"), ("INCR", "k"),
                ("SET", "n", "10"), ("INCRBY", "n", "5"), ("DEL", "k", "x"), ("PING",),
                ("SELECT", "3"), ("SET", "k", "in3"), ("DBSIZE",)]:
        assert clients.call("a", *cmd) == "QUEUED"
    clients.call("a", "EXEC")
    clients.call("a", "GET", "k")
    clients.call("a", "SELECT", "0")
    clients.call("a", "MGET", "k", "n")


def test_empty_transaction_and_discard(clients):
    assert clients.call("a", "MULTI") == "OK"
    assert clients.call("a", "EXEC") == []
    clients.call("a", "MULTI")
    clients.call("a", "SET", "k", "v")
    assert clients.call("a", "DISCARD") == "OK"
    assert clients.call("a", "EXISTS", "k") == 0
    assert clients.call("a", "SET", "k", "w") == "OK"


def test_misuse_errors(clients):
    clients.call("a", "EXEC")
    clients.call("a", "DISCARD")
    clients.call("a", "MULTI")
    clients.call("a", "MULTI")
    clients.call("a", "WATCH", "k")
    clients.call("a", "SET", "k", "v")
    # Neither nested MULTI nor WATCH inside MULTI aborts the transaction.
    assert clients.call("a", "EXEC") == ["OK"]
    clients.call("a", "UNWATCH")
    clients.call("a", "MULTI")
    clients.call("a", "DISCARD")
    clients.call("a", "DISCARD")


@pytest.mark.parametrize("bad", [("NOSUCHCOMMAND", "x"), ("SET", "k"), ("GET",),
                                 ("CONFIG", "NOSUCHSUB")])
def test_refused_command_aborts_exec(clients, bad):
    clients.call("a", "MULTI")
    clients.call("a", "SET", "k", "v")
    clients.call("a", *bad)
    clients.call("a", "INCR", "counter")
    assert clients.call("a", "EXEC") == EXECABORT
    assert clients.call("a", "EXISTS", "k", "counter") == 0
    clients.call("a", "EXEC")


def test_watch_modified_by_another_client(clients):
    clients.call("a", "SET", "k", "1")
    clients.call("a", "WATCH", "k", "other")
    clients.call("b", "INCR", "k")
    clients.call("a", "MULTI")
    clients.call("a", "SET", "k", "from-a")
    assert clients.raw("a", "EXEC") == b"*-1\r\n"
    assert clients.call("a", "GET", "k") == b"2"
    # EXEC unwatched everything: the next transaction runs.
    clients.call("b", "INCR", "k")
    clients.call("a", "MULTI")
    clients.call("a", "SET", "k", "from-a")
    assert clients.call("a", "EXEC") == ["OK"]


def test_watch_untouched_and_unwatch(clients):
    clients.call("a", "WATCH", "k")
    clients.call("b", "SET", "unrelated", "1")
    clients.call("b", "GET", "k")
    clients.call("a", "MULTI")
    clients.call("a", "SET", "k", "1")
    assert clients.call("a", "EXEC") == ["OK"]
    clients.call("a", "WATCH", "k")
    clients.call("b", "SET", "k", "2")
    clients.call("a", "UNWATCH")
    clients.call("a", "MULTI")
    clients.call("a", "GET", "k")
    assert clients.call("a", "EXEC") == [b"2"]


def test_watch_key_of_another_db(clients):
    clients.call("a", "SELECT", "2")
    clients.call("a", "WATCH", "k")
    clients.call("b", "SET", "k", "db0")
    clients.call("a", "MULTI")
    clients.call("a", "PING")
    assert clients.call("a", "EXEC") == ["PONG"]
    clients.call("a", "WATCH", "k")
    clients.call("b", "SELECT", "0")
    clients.call("b", "MOVE", "k", "2")
    clients.call("a", "MULTI")
    clients.call("a", "PING")
    assert clients.raw("a", "EXEC") == b"*-1\r\n"


def test_watch_discard_keeps_watch_and_client_own_write(clients):
    clients.call("a", "WATCH", "k")
    clients.call("a", "MULTI")
    clients.call("a", "DISCARD")
    clients.call("b", "SET", "k", "1")
    clients.call("a", "MULTI")
    clients.call("a", "PING")
    clients.raw("a", "EXEC")
    clients.call("a", "WATCH", "k")
    clients.call("a", "SET", "k", "own")
    clients.call("a", "MULTI")
    clients.call("a", "PING")
    assert clients.raw("a", "EXEC") == b"*-1\r\n"


@pytest.mark.parametrize("write", [("FLUSHALL",), ("FLUSHDB",), ("SWAPDB", "0", "1"),
                                   ("DEL", "k"), ("RENAME", "k", "k2"), ("EXPIRE", "k", "0"),
                                   ("COPY", "src", "k", "REPLACE"), ("MSET", "x", "1", "k", "2")])
def test_watch_invalidated_by_write(clients, write):
    clients.call("b", "SET", "k", "v")
    clients.call("b", "SET", "src", "s")
    clients.call("a", "WATCH", "k")
    clients.call("b", *write)
    clients.call("a", "MULTI")
    clients.call("a", "PING")
    assert clients.raw("a", "EXEC") == b"*-1\r\n"


def test_watch_null_reply_in_resp3(clients):
    assert all(isinstance(r, dict) for r in clients.each("a", "HELLO", "3"))
    clients.call("a", "WATCH", "k")
    clients.call("b", "SET", "k", "v")
    clients.call("a", "MULTI")
    clients.call("a", "PING")
    assert clients.raw("a", "EXEC") == b"_\r\n"


def wait_past(ms_epoch):
    wait_until(lambda: time.time() * 1000 > ms_epoch + 5, 5, message="clock")


def test_watch_key_that_expires_lazily(clients):
    """The key expires after WATCH and nothing deletes it before EXEC."""
    for srv in clients.servers:
        one(srv, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
    clients.call("a", "SET", "k", "v", "PX", "100")
    deadline = time.time() * 1000 + 100
    clients.call("a", "WATCH", "k")
    wait_past(deadline)
    clients.call("a", "MULTI")
    clients.call("a", "GET", "k")
    assert clients.raw("a", "EXEC") == b"*-1\r\n"


def test_watch_key_removed_by_active_expiry(clients):
    clients.call("a", "SET", "k", "v", "PX", "50")
    clients.call("a", "WATCH", "k")
    for srv in clients.servers:
        wait_until(lambda: one(srv, "DBSIZE") == 0, 10, message="active expiry")
    clients.call("a", "MULTI")
    clients.call("a", "PING")
    assert clients.raw("a", "EXEC") == b"*-1\r\n"


def test_watch_already_expired_key_does_not_fail(clients):
    for srv in clients.servers:
        one(srv, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
    clients.call("a", "SET", "k", "v", "PX", "1")
    wait_past(time.time() * 1000 + 1)
    clients.call("a", "WATCH", "k")
    clients.call("a", "MULTI")
    clients.call("a", "PING")
    assert clients.call("a", "EXEC") == ["PONG"]


# ---------------------------------------------------------------- replication


def transactions(c):
    """A few transactions over several databases on one raw connection."""
    batches = [
        [("MULTI",), ("SET", "a", "1"), ("INCR", "a"), ("SELECT", "4"), ("SET", "b", "x"),
         ("APPEND", "b", "y"), ("EXEC",)],
        [("MULTI",), ("GET", "a"), ("PING",), ("EXEC",)],
        [("SELECT", "4"), ("MULTI",), ("DEL", "b"), ("SET", "c", "1", "EX", "100"),
         ("MSET", "d", "1", "e", "2"), ("EXEC",)],
        [("MULTI",), ("INCR", "c"), ("SET", "c", "reset"), ("INCR", "c"), ("EXEC",)],
        [("SELECT", "0"), ("MULTI",), ("SWAPDB", "0", "4"), ("SET", "after", "swap"),
         ("EXEC",)],
        [("MULTI",), ("SET", "gone", "1"), ("NOSUCH",), ("EXEC",)],
    ]
    for batch in batches:
        s = raw_connect(c.port)
        reader = RespReader(s)
        s.sendall(b"".join(encode_command(*cmd) for cmd in batch))
        for _ in batch:
            reader.read()
        s.close()


def test_replicas_apply_transactions(make_tandem, make_redis):
    primary = make_tandem(DEBUG)
    args = ["--replicaof", "127.0.0.1", str(primary.port)]
    replicas = [make_tandem(DEBUG + args), make_redis(DEBUG + args)]
    for replica in replicas:
        wait_in_sync(primary, replica, SYNC_TIMEOUT)
    transactions(primary)
    for replica in replicas:
        wait_in_sync(primary, replica, SYNC_TIMEOUT)
        assert digest(replica) == digest(primary)
        # The writes arrived wrapped in MULTI ... EXEC (four transactions
        # wrote; the read-only and the aborted one propagate nothing).
        stats = info_fields(replica, "commandstats")
        assert stats["cmdstat_exec"].startswith("calls=4,")
        assert stats["cmdstat_multi"].startswith("calls=4,")
    assert one(primary, "DBSIZE") == 4
    assert one(primary, "EXISTS", "gone") == 0


def test_write_queued_on_replica_aborts(make_tandem, make_redis):
    primary = make_tandem(DEBUG)
    args = ["--replicaof", "127.0.0.1", str(primary.port)]
    replicas = [make_tandem(DEBUG + args), make_redis(DEBUG + args)]
    for replica in replicas:
        wait_in_sync(primary, replica, SYNC_TIMEOUT)
    c = Clients(replicas)
    try:
        c.call("a", "MULTI")
        c.call("a", "GET", "k")
        c.call("a", "SET", "k", "v")
        assert c.call("a", "EXEC") == EXECABORT
        c.call("a", "MULTI")
        c.call("a", "GET", "k")
        assert c.call("a", "EXEC") == [None]
    finally:
        c.close()

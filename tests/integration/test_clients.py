"""Many clients, client limits and the CLIENT command.

1,000 concurrent connections, maxclients refusals, the idle timeout,
CLIENT SETNAME/GETNAME/LIST/INFO/ID/KILL, and the Unix socket listener.
"""
import os
import re
import select
import shutil
import socket
import stat
import tempfile
import time
from pathlib import Path

import pytest
import redis

from conftest import (RespReader, encode_command, exchange, info_fields, raise_nofile_limit,
                      raw_connect, recv_until_closed, wait_until)

N_CLIENTS = 1000


def connected_clients(r):
    return int(r.info("clients")["connected_clients"])


def test_thousand_concurrent_clients(make_tandem):
    # Raised before the server starts, so that it inherits the higher limit.
    limit = raise_nofile_limit(N_CLIENTS + 200)
    assert limit >= N_CLIENTS + 100, f"RLIMIT_NOFILE hard limit too low ({limit})"
    tandem = make_tandem()
    control = tandem.client()
    socks = []
    try:
        for _ in range(N_CLIENTS):
            socks.append(raw_connect(tandem.port))
        for s in socks:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
        # every client gets its own PONG
        pending = {s.fileno(): [s, b""] for s in socks}
        deadline = time.monotonic() + 30
        while pending and time.monotonic() < deadline:
            ready, _, _ = select.select([v[0] for v in list(pending.values())[:500]], [], [],
                                        1.0)
            for s in ready:
                entry = pending[s.fileno()]
                chunk = s.recv(64)
                assert chunk, "a client was disconnected"
                entry[1] += chunk
                if len(entry[1]) >= 7:
                    assert entry[1] == b"+PONG\r\n"
                    del pending[s.fileno()]
        assert not pending, f"{len(pending)} clients got no PONG"
        assert connected_clients(control) >= N_CLIENTS + 1
        assert int(control.info("clients")["maxclients"]) > N_CLIENTS
        # a second round on every connection still works
        for s in socks[::50]:
            s.sendall(encode_command("ECHO", "again"))
            assert RespReader(s).read() == b"again"
    finally:
        for s in socks:
            s.close()
    wait_until(lambda: connected_clients(control) == 1, 10,
               message="the 1000 clients to be released")


def test_maxclients_refuses_extra_connections(make_tandem):
    srv = make_tandem(["--maxclients", "5"])
    control = srv.client()
    assert control.ping() is True
    socks = []
    try:
        for _ in range(4):
            s = raw_connect(srv.port)
            s.sendall(b"PING\r\n")
            assert RespReader(s).read() == "PONG"
            socks.append(s)
        assert connected_clients(control) == 5
        for expected_rejections in (1, 2):
            extra = raw_connect(srv.port)
            data, closed = recv_until_closed(extra, timeout=10)
            extra.close()
            assert data == b"-ERR max number of clients reached\r\n"
            assert closed
            stats = control.info("stats")
            assert int(stats["rejected_connections"]) == expected_rejections
        # the clients already in are unaffected
        for s in socks:
            s.sendall(b"PING\r\n")
            assert RespReader(s).read() == "PONG"
        # once one leaves, a new client is accepted
        socks.pop().close()
        wait_until(lambda: connected_clients(control) == 4, 10, message="a slot to free up")
        with raw_connect(srv.port) as s:
            s.sendall(b"PING\r\n")
            assert RespReader(s).read() == "PONG"
    finally:
        for s in socks:
            s.close()


def test_maxclients_config_set_applies(tandem):
    control = tandem.client()
    control.config_set("maxclients", 2)
    with raw_connect(tandem.port) as ok:
        ok.sendall(b"PING\r\n")
        assert RespReader(ok).read() == "PONG"
        with raw_connect(tandem.port) as extra:
            assert recv_until_closed(extra) == (b"-ERR max number of clients reached\r\n",
                                                True)
    assert control.ping() is True


def test_idle_timeout_closes_only_idle_clients(make_tandem):
    srv = make_tandem(["--timeout", "1"])
    idle = raw_connect(srv.port)
    busy = raw_connect(srv.port)
    busy_reader = RespReader(busy)
    try:
        idle.sendall(b"PING\r\n")
        assert RespReader(idle).read() == "PONG"
        started = time.monotonic()
        closed_after = None
        pings = 0
        # keep the busy client active until the idle one is closed (bounded)
        while time.monotonic() - started < 8:
            busy.sendall(b"PING\r\n")
            assert busy_reader.read() == "PONG"
            pings += 1
            r, _, _ = select.select([idle], [], [], 0.1)
            if r:
                try:
                    data = idle.recv(64)
                except ConnectionResetError:
                    data = b""
                assert data == b"", f"unexpected bytes on the idle connection: {data!r}"
                closed_after = time.monotonic() - started
                break
        assert closed_after is not None, "the idle client was not closed within 8s"
        # the busy client keeps working over more than another timeout period
        until = time.monotonic() + 2.2
        while time.monotonic() < until:
            busy.sendall(b"PING\r\n")
            assert busy_reader.read() == "PONG"
            select.select([], [], [], 0.1)
        busy.sendall(encode_command("CLIENT", "LIST"))
        listing = busy_reader.read()
        assert listing.count(b"id=") == 1  # only the busy client is left
    finally:
        idle.close()
        busy.close()


def test_timeout_zero_keeps_idle_clients(make_tandem):
    srv = make_tandem(["--timeout", "0", "--hz", "100"])
    r = srv.client()
    with raw_connect(srv.port) as idle:
        idle.sendall(b"CLIENT ID\r\n")
        idle_id = RespReader(idle).read()
        # wait until the server's idle counter for it passes 1 second
        wait_until(lambda: re.search(rb"idle=([1-9]\d*)",
                                     exchange(srv.port, encode_command("CLIENT", "LIST", "ID",
                                                                       idle_id))),
                   10, interval=0.1, message="the client to be idle for a second")
        idle.sendall(b"PING\r\n")
        assert RespReader(idle).read() == "PONG"
    assert r.ping() is True


# ------------------------------------------------------------------ CLIENT


def test_client_setname_getname_list_info_id(tandem):
    r = tandem.client(single_connection_client=True)
    assert r.client_getname() is None
    assert r.client_setname("worker-1") is True
    assert r.client_getname() == "worker-1"
    my_id = r.client_id()
    assert isinstance(my_id, int) and my_id > 0

    listing = r.execute_command("CLIENT", "LIST")
    mine = [line for line in listing.splitlines() if f"id={my_id} " in line]
    assert len(mine) == 1
    assert " name=worker-1 " in mine[0]
    assert " addr=127.0.0.1:" in mine[0]
    assert f" laddr=127.0.0.1:{tandem.port} " in mine[0]

    info = r.execute_command("CLIENT", "INFO")
    assert info.startswith(f"id={my_id} ")
    assert " name=worker-1 " in info
    by_id = r.execute_command("CLIENT", "LIST", "ID", my_id)
    assert by_id.count("id=") == 1 and f"id={my_id} " in by_id

    with pytest.raises(redis.ResponseError, match="cannot contain spaces"):
        r.client_setname("bad name")
    assert r.client_getname() == "worker-1"
    assert r.client_setname("") is True  # an empty name clears it
    assert r.client_getname() is None
    # ids grow with each connection
    assert tandem.client(single_connection_client=True).client_id() > my_id


def test_client_list_shows_the_running_command(tandem, redis_server):
    """cmd= names the command being run for the caller, as in Redis 7.0."""
    for srv in (redis_server, tandem):
        with raw_connect(srv.port) as s:
            reader = RespReader(s)
            assert reader.command("CLIENT", "LIST", "ID", "999999") == b""
            assert b" cmd=client|info " in reader.command("CLIENT", "INFO"), srv.name
            s.sendall(encode_command("PING") + encode_command("CLIENT", "LIST"))
            assert reader.read() == "PONG"
            assert b" cmd=client|list " in reader.read(), srv.name


def test_client_kill_id(tandem):
    killer = tandem.client(single_connection_client=True)
    victim = tandem.client(single_connection_client=True)
    victim_id = victim.client_id()
    with raw_connect(tandem.port) as raw_victim:
        raw_victim.sendall(b"CLIENT ID\r\n")
        raw_id = RespReader(raw_victim).read()
        assert killer.execute_command("CLIENT", "KILL", "ID", raw_id) == 1
        assert recv_until_closed(raw_victim, timeout=10) == (b"", True)
    assert killer.execute_command("CLIENT", "KILL", "ID", victim_id) == 1
    with pytest.raises(redis.ConnectionError):
        victim.ping()
    assert killer.execute_command("CLIENT", "KILL", "ID", victim_id) == 0
    assert killer.ping() is True


def test_client_kill_addr_and_old_form(tandem):
    killer = tandem.client(single_connection_client=True)
    with raw_connect(tandem.port) as a, raw_connect(tandem.port) as b:
        for s in (a, b):
            s.sendall(b"PING\r\n")
            assert RespReader(s).read() == "PONG"
        addr_a = "127.0.0.1:%d" % a.getsockname()[1]
        addr_b = "127.0.0.1:%d" % b.getsockname()[1]
        assert killer.execute_command("CLIENT", "KILL", "ADDR", addr_a) == 1
        assert recv_until_closed(a) == (b"", True)
        assert killer.execute_command("CLIENT", "KILL", addr_b) in ("OK", True)
        assert recv_until_closed(b) == (b"", True)
    with pytest.raises(redis.ResponseError, match="No such client"):
        killer.execute_command("CLIENT", "KILL", addr_b)
    laddr = "127.0.0.1:%d" % tandem.port
    assert killer.execute_command("CLIENT", "KILL", "LADDR", laddr, "SKIPME", "yes") == 0
    assert killer.ping() is True


def test_client_kill_type_normal_skipme(tandem):
    caller = tandem.client(single_connection_client=True)
    assert caller.ping() is True
    others = [raw_connect(tandem.port) for _ in range(3)]
    try:
        for s in others:
            s.sendall(b"PING\r\n")
            assert RespReader(s).read() == "PONG"
        killed = caller.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        assert killed == 3
        for s in others:
            assert recv_until_closed(s) == (b"", True)
        assert caller.ping() is True
        wait_until(lambda: connected_clients(caller) == 1, 10, message="the kills to finish")
    finally:
        for s in others:
            s.close()


def test_client_kill_self(tandem):
    with raw_connect(tandem.port) as s:
        s.sendall(b"CLIENT ID\r\n")
        my_id = RespReader(s).read()
        s.sendall(encode_command("CLIENT", "KILL", "ID", my_id, "SKIPME", "no"))
        data, closed = recv_until_closed(s)
        assert data == b":1\r\n" and closed


def test_unix_socket_listener(make_tandem, tmp_path):
    path = tmp_path / "tandem.sock"
    srv = make_tandem(["--unixsocket", path, "--unixsocketperm", "700"])
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    r = srv.client(unix_socket_path=str(path))
    assert r.ping() is True
    assert r.echo("over unix") == "over unix"
    raw = srv.client(unix_socket_path=str(path), decode_responses=False)
    info = raw.execute_command("CLIENT", "INFO")
    flags = re.search(rb" flags=(\S+) ", info).group(1)
    assert b"U" in flags
    assert r.config_get("unixsocket") == {"unixsocket": str(path)}
    assert r.config_get("unixsocketperm") == {"unixsocketperm": "700"}
    # TCP still works alongside
    assert srv.client().ping() is True
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(path))
        s.sendall(b"PING\r\n")
        assert RespReader(s).read() == "PONG"
    # the socket file goes away with the server
    r.close()
    assert srv.stop() == 0
    assert not path.exists()


def test_unix_socket_client_addresses(make_tandem, make_redis, tmp_path):
    """A Unix socket client shows addr=<socket path>:0 and laddr=<socket
    path>:0 in CLIENT INFO, as in Redis (whose address buffer holds 77
    characters; the paths here are short: a folder of its own in /tmp, since
    pytest's own may be longer)."""
    short = Path(tempfile.mkdtemp(prefix="tandem-", dir="/tmp"))
    try:
        for make, name in ((make_redis, "r.sock"), (make_tandem, "t.sock")):
            path = short / name
            srv = make(["--unixsocket", path, "--unixsocketperm", "700"])
            r = srv.client(unix_socket_path=str(path), decode_responses=False)
            info = r.execute_command("CLIENT", "INFO")
            fields = dict(f.split(b"=", 1) for f in info.strip().split(b" "))
            assert fields[b"addr"] == b"%s:0" % bytes(path), srv.name
            assert fields[b"laddr"] == b"%s:0" % bytes(path), srv.name
            srv.stop()
    finally:
        shutil.rmtree(short, ignore_errors=True)


def test_info_clients_counts_connections(tandem):
    control = tandem.client()
    base = connected_clients(control)
    socks = [raw_connect(tandem.port) for _ in range(10)]
    try:
        for s in socks:
            s.sendall(b"PING\r\n")
            assert RespReader(s).read() == "PONG"
        assert connected_clients(control) == base + 10
        total = int(info_fields(tandem, "stats")["total_connections_received"])
        assert total >= base + 10
    finally:
        for s in socks:
            s.close()
    wait_until(lambda: connected_clients(control) == base, 10, message="clients to go")

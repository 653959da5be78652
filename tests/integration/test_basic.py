"""Basic command behaviour over a redis-py session and raw sockets.

Covers PING, ECHO, SELECT, DBSIZE, TIME, FLUSHDB/FLUSHALL, INFO (sections,
fields, keyspace, commandstats), CONFIG GET/SET/RESETSTAT/REWRITE, HELLO and
RESP3 replies, AUTH with requirepass, and error texts. Where the exact text
or numbers matter, the same bytes are sent to Debian's redis-server 7.0 and
tandem's reply must be identical.
"""
import time

import pytest
import redis

from conftest import (RespError, RespReader, encode_command, exchange, free_port, info_fields,
                      info_text, parse_info, raw_connect, server_pair)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """One tandem and one redis-server shared by the comparison tests of
    this module (both with default settings)."""
    with server_pair(tmp_path_factory) as p:
        yield p


def compare_replies(t, r, payload):
    expected = exchange(r.port, payload)
    actual = exchange(t.port, payload)
    assert actual == expected, f"for {payload!r}: tandem {actual!r} != redis {expected!r}"
    return actual


# ------------------------------------------------------------ simple commands


def test_ping_and_echo(tandem):
    r = tandem.client()
    assert r.ping() is True
    assert exchange(tandem.port, encode_command("PING", "hello there")) == b"hello there"
    assert exchange(tandem.port, b"PING\r\n") == "PONG"
    assert r.echo("hello") == "hello"
    assert r.echo("") == ""
    binary = tandem.client(decode_responses=False)
    payload = b"a\r\nb\x00c\xff" * 100
    assert binary.echo(payload) == payload


def test_select_valid_and_invalid(make_tandem):
    srv = make_tandem(["--databases", "4"])
    r = srv.client()
    assert r.execute_command("SELECT", 3) is True
    assert r.execute_command("SELECT", 0) is True
    assert exchange(srv.port, encode_command("SELECT", 4)) == "ERR DB index is out of range"
    assert exchange(srv.port, encode_command("SELECT", -1)) == "ERR DB index is out of range"
    assert (exchange(srv.port, encode_command("SELECT", "abc"))
            == "ERR value is not an integer or out of range")
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        r.execute_command("SELECT", 16)


def test_select_is_per_connection(tandem):
    with raw_connect(tandem.port) as s:
        reader = RespReader(s)
        s.sendall(encode_command("SELECT", 5) + encode_command("CLIENT", "INFO"))
        assert reader.read() == "OK"
        assert b" db=5 " in reader.read()
    with raw_connect(tandem.port) as s:
        s.sendall(encode_command("CLIENT", "INFO"))
        assert b" db=0 " in RespReader(s).read()


def test_dbsize_and_flush(tandem):
    r = tandem.client()
    assert r.dbsize() == 0
    r.execute_command("SELECT", 7)
    assert r.dbsize() == 0
    assert r.execute_command("FLUSHDB") is True
    assert r.execute_command("FLUSHDB", "ASYNC") is True
    assert r.execute_command("FLUSHALL", "SYNC") is True
    assert r.execute_command("FLUSHALL") is True
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("FLUSHALL", "LATER")


def test_time(tandem):
    reply = tandem.client().execute_command("TIME")
    secs, usecs = int(reply[0]), int(reply[1])
    assert abs(secs - time.time()) < 120
    assert 0 <= usecs < 1000000


def test_info_default_sections_and_fields(tandem):
    text = info_text(tandem)
    titles = [line.lower() for line in text.split("\r\n") if line.startswith("#")]
    for section in ("server", "clients", "memory", "persistence", "stats", "replication",
                    "cpu", "keyspace"):
        assert "# " + section in titles  # exact spelling: test_info_section_titles_match_redis
    info = parse_info(text)
    assert info["redis_version"] == "7.0.15"
    assert info["tandem_version"]
    assert int(info["process_id"]) == tandem.pid
    assert int(info["tcp_port"]) == tandem.port
    assert int(info["connected_clients"]) >= 1
    assert int(info["used_memory"]) > 0
    assert info["mem_allocator"].startswith(("jemalloc", "libc"))
    assert info["role"] == "master"
    # commandstats is not a default section
    assert "cmdstat_" not in text


def test_info_single_sections(tandem, redis_server):
    server = info_text(tandem, "server")
    assert server.startswith("# Server\r\n")
    assert "# Clients" not in server
    both = info_text(tandem, "clients", "memory")
    assert "# Clients" in both and "# Memory" in both and "# Server" not in both
    assert info_fields(tandem, "replication")["role"] == "master"
    everything = info_text(tandem, "everything")
    assert "# Commandstats" in everything and "# Keyspace" in everything
    # same redis_version as the Redis it is compatible with
    expected = redis_server.client().info("server")["redis_version"]
    assert parse_info(server)["redis_version"] == expected


def test_info_section_titles_match_redis(pair):
    """Every section title tandem prints is spelled as Redis spells it."""
    t, r = pair
    titles = [line for line in info_text(t, "everything").splitlines() if line.startswith("#")]
    redis_titles = [line for line in info_text(r, "everything").splitlines()
                    if line.startswith("#")]
    assert titles
    assert [x for x in titles if x not in redis_titles] == []


def test_info_keyspace_empty(tandem):
    tandem.client().execute_command("FLUSHALL")
    text = info_text(tandem, "keyspace")
    assert text.strip() == "# Keyspace"


def commandstats(srv):
    stats = {}
    for line in info_text(srv, "commandstats").splitlines():
        if line.startswith("cmdstat_"):
            name, _, fields = line.partition(":")
            values = dict(f.split("=") for f in fields.split(","))
            stats[name] = {k: values[k] for k in ("calls", "rejected_calls", "failed_calls")}
    return stats


def test_info_commandstats_after_commands(tandem, redis_server):
    """The same commands give the same call/rejected/failed counters."""
    results = []
    for srv in (tandem, redis_server):
        r = srv.client()
        r.execute_command("CONFIG", "RESETSTAT")
        for _ in range(3):
            r.ping()
        r.echo("a")
        r.echo("b")
        r.execute_command("CLIENT", "ID")
        r.execute_command("SELECT", 1)
        with pytest.raises(redis.ResponseError):
            r.execute_command("SELECT", 99)  # failed call
        with pytest.raises(redis.ResponseError):
            r.execute_command("ECHO")  # rejected call (arity)
        results.append(commandstats(srv))
    got, want = results
    assert got["cmdstat_ping"] == {"calls": "3", "rejected_calls": "0", "failed_calls": "0"}
    assert got["cmdstat_echo"] == {"calls": "2", "rejected_calls": "1", "failed_calls": "0"}
    assert got["cmdstat_client|id"]["calls"] == "1"
    assert got["cmdstat_select"] == {"calls": "2", "rejected_calls": "0", "failed_calls": "1"}
    assert got == want


# ------------------------------------------------------------------- CONFIG


def test_config_get_set_with_patterns(tandem):
    r = tandem.client()
    assert r.config_get("maxclients") == {"maxclients": "10000"}
    assert r.config_set("maxclients", 500) is True
    assert r.config_get("maxclients") == {"maxclients": "500"}
    assert r.config_get("max?lients") == {"maxclients": "500"}
    maxes = r.config_get("max*")
    assert maxes["maxclients"] == "500"
    assert "maxmemory" in maxes and "maxmemory-policy" in maxes
    assert all(k.startswith("max") for k in maxes)

    assert r.config_set("timeout", 30) is True
    assert r.config_get("timeout") == {"timeout": "30"}
    assert r.config_get("*imeou*")["timeout"] == "30"

    assert r.config_set("loglevel", "warning") is True
    logs = r.config_get("log*")
    assert logs["loglevel"] == "warning"
    assert logs["logfile"] == str(tandem.log_path)
    assert r.config_get("LOGLEVEL") == {"loglevel": "warning"}

    # several patterns at once (Redis 7.0)
    both = r.execute_command("CONFIG", "GET", "maxclients", "timeout")
    assert dict(zip(both[::2], both[1::2])) == {"maxclients": "500", "timeout": "30"}
    # several pairs at once
    assert r.execute_command("CONFIG", "SET", "maxclients", "600", "timeout", "0") == "OK"
    assert r.config_get("maxclients") == {"maxclients": "600"}
    assert r.config_get("timeout") == {"timeout": "0"}
    assert r.config_get("no-such-directive-*") == {}


# Names Redis 7.0 knows but does not list for a pattern: hidden debug
# directives (exact name only), deprecated aliases and keywords that are not
# configuration parameters at all.
NOT_LISTED_BY_PATTERN = ["key-load-delay", "rdb-key-save-delay", "watchdog-period",
                         "loading-process-events-interval-bytes", "use-exit-on-panic",
                         "loadmodule", "rename-command", "user", "list-max-ziplist-entries",
                         "list-max-ziplist-value", "lua-replicate-commands"]


def test_config_get_star_lists_what_redis_lists(tandem, redis_server):
    """CONFIG GET * shows every name Redis 7.0 shows (tandem may add its own
    directives), and not the names Redis keeps out of pattern matches."""
    got = set(tandem.client().config_get("*"))
    want = set(redis_server.client().config_get("*"))
    assert want - got == set(), "names only redis lists"
    wrongly_listed = sorted(n for n in NOT_LISTED_BY_PATTERN if (n in got) != (n in want))
    assert wrongly_listed == []
    # keywords that are no parameters are not found even by their exact name
    for name in ("loadmodule", "rename-command", "list-max-ziplist-entries"):
        assert tandem.client().config_get(name) == redis_server.client().config_get(name) == {}


def test_config_get_hidden_directive_by_exact_name(pair):
    t, r = pair
    for name in ("key-load-delay", "watchdog-period", "hash-max-ziplist-entries", "slaveof"):
        compare_replies(t, r, encode_command("CONFIG", "GET", name))


def test_config_set_error_texts_match_redis(pair):
    t, r = pair
    # Not compared: port (Redis 7.0 can rebind it, tandem documents it as
    # fixed) and loglevel values (tandem documents the extra level 'nothing').
    for args in (("nosuch-option", "1"), ("databases", "8"), ("maxclients", "abc"),
                 ("daemonize", "yes"), ("hz", "x"),
                 ("unixsocket", "/tmp/x.sock"), ("timeout", "-1"),
                 ("maxclients", "10", "maxclients", "20")):
        compare_replies(t, r, encode_command("CONFIG", "SET", *args))
    assert (exchange(t.port, encode_command("CONFIG", "SET", "nosuch-option", "1"))
            == "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch-option'")
    assert (exchange(t.port, encode_command("CONFIG", "SET", "databases", "8"))
            == "ERR CONFIG SET failed (possibly related to argument 'databases') - "
               "can't set immutable config")
    assert exchange(t.port, encode_command("CONFIG", "SET", "loglevel", "loud")).startswith(
        "ERR CONFIG SET failed (possibly related to argument 'loglevel') - "
        "argument(s) must be one of the following: debug, verbose, notice, warning")


def test_config_set_immutable_port(tandem):
    """tandem documents port as not changeable at run time (Redis 7.0 itself
    would rebind): CONFIG SET port answers the immutable error and the
    server keeps serving on the old port."""
    reply = exchange(tandem.port, encode_command("CONFIG", "SET", "port", free_port()))
    assert reply == ("ERR CONFIG SET failed (possibly related to argument 'port') - "
                     "can't set immutable config")
    assert tandem.client().config_get("port") == {"port": str(tandem.port)}
    assert exchange(tandem.port, encode_command("PING")) == "PONG"


def test_config_set_odd_argument_count_matches_redis(pair):
    """CONFIG SET with a name left without a value: Redis 7.0 answers
    'ERR syntax error'."""
    t, r = pair
    compare_replies(t, r, encode_command("CONFIG", "SET", "maxclients", "10", "timeout"))


def test_config_set_out_of_range_text_matches_redis(pair):
    """Redis 7.0's maxclients range is 1..4294967295."""
    t, r = pair
    compare_replies(t, r, encode_command("CONFIG", "SET", "maxclients", "0"))


def test_config_set_refused_changes_nothing(tandem):
    r = tandem.client()
    with pytest.raises(redis.ResponseError):
        r.execute_command("CONFIG", "SET", "timeout", "5", "loglevel", "loud")
    assert r.config_get("timeout") == {"timeout": "0"}
    assert r.config_get("loglevel") == {"loglevel": "notice"}


def test_config_resetstat(tandem, redis_server):
    totals = []
    for srv in (tandem, redis_server):
        r = srv.client()
        for _ in range(10):
            r.ping()
        before = int(r.info("stats")["total_commands_processed"])
        assert before >= 10
        assert r.execute_command("CONFIG", "RESETSTAT") == "OK"
        totals.append(int(r.info("stats")["total_commands_processed"]))
    assert totals[0] == totals[1] == 1


def test_config_rewrite_keeps_comments_and_persists(make_tandem):
    text = ("# tandem test configuration\n"
            "# keep this comment\n"
            "maxclients 100\n"
            "\n"
            "# and this one, about the timeout\n"
            "timeout 0\n"
            "loglevel notice\n")
    srv = make_tandem(config_text=text)
    r = srv.client()
    assert r.config_get("maxclients") == {"maxclients": "100"}
    r.config_set("maxclients", 200)
    r.config_set("timeout", 9)
    r.config_set("hz", 20)  # not in the file
    assert r.execute_command("CONFIG", "REWRITE") == "OK"

    rewritten = srv.config_path.read_text()
    lines = rewritten.splitlines()
    assert lines[0] == "# tandem test configuration"
    assert lines[1] == "# keep this comment"
    assert "# and this one, about the timeout" in lines
    assert "maxclients 200" in lines and "maxclients 100" not in lines
    assert "timeout 9" in lines and "timeout 0" not in lines
    assert "hz 20" in lines
    assert lines.index("maxclients 200") < lines.index("# and this one, about the timeout")

    # A server started from the rewritten file has the changed values.
    srv.stop()
    again = make_tandem(config_text=rewritten)
    r2 = again.client()
    assert r2.config_get("maxclients") == {"maxclients": "200"}
    assert r2.config_get("timeout") == {"timeout": "9"}
    assert r2.config_get("hz") == {"hz": "20"}


def test_config_rewrite_without_file_fails_like_redis(pair):
    t, r = pair
    reply = compare_replies(t, r, encode_command("CONFIG", "REWRITE"))
    assert reply == "ERR The server is running without a config file"


# ------------------------------------------------------------- HELLO, RESP3


def test_hello_3_switches_to_resp3(tandem):
    with raw_connect(tandem.port) as s:
        s.sendall(encode_command("HELLO", "3"))
        reader = RespReader(s)
        # the first bytes are the RESP3 map header
        reader._fill(time.monotonic() + 10)
        assert reader.buf.startswith(b"%7\r\n")
        hello = reader.read()
        assert hello[b"server"] == b"redis"
        assert hello[b"version"] == b"7.0.15"
        assert hello[b"proto"] == 3
        assert isinstance(hello[b"id"], int)
        assert hello[b"mode"] == b"standalone"
        assert hello[b"role"] == b"master"
        assert hello[b"modules"] == []
        assert list(hello) == [b"server", b"version", b"proto", b"id", b"mode", b"role",
                               b"modules"]

        # RESP3 null for a missing name
        s.sendall(encode_command("CLIENT", "GETNAME"))
        assert recv_exact(s, 3) == b"_\r\n"
        # CONFIG GET is a map in RESP3
        s.sendall(encode_command("CONFIG", "GET", "maxclients"))
        want = b"%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
        assert recv_exact(s, len(want)) == want
        # back to RESP2: the same reply is a flat array again
        s.sendall(encode_command("HELLO", "2"))
        assert recv_exact(s, 5) == b"*14\r\n"
        for _ in range(14):
            reader.read()
        s.sendall(encode_command("CLIENT", "GETNAME"))
        assert recv_exact(s, 5) == b"$-1\r\n"


def recv_exact(sock, n, timeout=10.0):
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) < n:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(n - len(data))
        assert chunk, "connection closed"
        data += chunk
    return data


def test_hello_reply_matches_redis(pair):
    t, r = pair
    replies = []
    for srv in (t, r):
        with raw_connect(srv.port) as s:
            s.sendall(encode_command("HELLO", "3", "SETNAME", "hello-client") +
                      encode_command("CLIENT", "GETNAME") +
                      encode_command("HELLO", "2"))
            reader = RespReader(s)
            hello3, name, hello2 = reader.read(), reader.read(), reader.read()
            hello3.pop(b"id")
            replies.append((hello3, name, hello2[::2]))
    assert replies[0] == replies[1]
    assert replies[0][1] == b"hello-client"


def test_hello_errors_match_redis(pair):
    t, r = pair
    assert compare_replies(t, r, encode_command("HELLO", "4")) == \
        "NOPROTO unsupported protocol version"
    compare_replies(t, r, encode_command("HELLO", "abc"))
    compare_replies(t, r, encode_command("HELLO", "3", "FOO"))


# --------------------------------------------------------------------- AUTH


AUTH_SEQUENCE = [
    encode_command("PING"),
    encode_command("ECHO", "x"),
    encode_command("AUTH", "wrong"),
    encode_command("AUTH", "default", "wrong"),
    encode_command("AUTH", "someone", "s3cret"),
    encode_command("AUTH", "a", "b", "c"),
    encode_command("CLIENT", "ID", "x"),
    encode_command("NOSUCHCMD"),
    encode_command("AUTH", "default", "s3cret"),
    encode_command("PING"),
]


WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


def test_auth_with_requirepass(make_tandem):
    srv = make_tandem(["--requirepass", "s3cret"])
    with raw_connect(srv.port) as s:
        reader = RespReader(s)
        assert reader.command("PING") == "NOAUTH Authentication required."
        assert reader.command("AUTH", "wrong") == WRONGPASS
        assert reader.command("AUTH", "default", "wrong") == WRONGPASS
        assert reader.command("AUTH", "default", "s3cret") == "OK"
        assert reader.command("PING") == "PONG"
    with raw_connect(srv.port) as s:
        reader = RespReader(s)
        s.sendall(encode_command("AUTH", "s3cret") + encode_command("PING"))
        assert reader.read() == "OK"
        assert reader.read() == "PONG"

    r = srv.client(password="s3cret")
    assert r.ping() is True
    assert int(r.info("stats")["acl_access_denied_auth"]) == 2

    with pytest.raises(redis.AuthenticationError):
        srv.client().ping()
    with pytest.raises(redis.ResponseError, match="WRONGPASS"):
        srv.client(password="bad").ping()
    assert int(r.info("stats")["acl_access_denied_auth"]) == 3


def test_auth_replies_match_redis(make_tandem, make_redis):
    t = make_tandem(["--requirepass", "s3cret"])
    r = make_redis(["--requirepass", "s3cret"])
    replies = []
    for srv in (t, r):
        with raw_connect(srv.port) as s:
            reader = RespReader(s)
            got = []
            for cmd in AUTH_SEQUENCE:
                s.sendall(cmd)
                got.append(reader.read())
            replies.append(got)
    assert replies[0] == replies[1]
    # (acl_access_denied_auth is a tandem addition: Redis 7.0 has no such field)
    stats = t.client(password="s3cret").info("stats")
    assert stats["acl_access_denied_auth"] == 3


def test_hello_before_auth_error_matches_redis(make_tandem, make_redis):
    t = make_tandem(["--requirepass", "s3cret"])
    r = make_redis(["--requirepass", "s3cret"])
    for payload in (encode_command("HELLO", "3"), encode_command("HELLO")):
        assert exchange(t.port, payload) == exchange(r.port, payload)
    ok = encode_command("HELLO", "3", "AUTH", "default", "s3cret")
    t_hello, r_hello = exchange(t.port, ok), exchange(r.port, ok)
    assert t_hello[b"proto"] == r_hello[b"proto"] == 3


def test_auth_without_password_configured_matches_redis(pair):
    t, r = pair
    reply = compare_replies(t, r, encode_command("AUTH", "foo"))
    assert reply.startswith("ERR AUTH <password> called without any password configured")
    compare_replies(t, r, encode_command("AUTH", "bob", "foo"))
    # Without requirepass the default user is "nopass": any password is OK.
    assert compare_replies(t, r, encode_command("AUTH", "default", "foo")) == "OK"
    hello = exchange(t.port, encode_command("HELLO", "3", "AUTH", "default", "x"))
    assert isinstance(hello, dict) and hello[b"proto"] == 3


# ------------------------------------------------------------- error texts


COMPARED_PAYLOADS = [
    b"FOO a b\r\n",
    b"foo\r\n",
    encode_command("FOO"),
    encode_command("FoO", "x" * 200, "y"),
    encode_command("FOO", "a\r\nb", "c"),
    encode_command("x" * 100, *["arg%d" % i for i in range(40)]),
    encode_command("PING", "a", "b"),
    encode_command("ECHO"),
    encode_command("ECHO", "a", "b"),
    encode_command("SELECT"),
    encode_command("SELECT", "1", "2"),
    encode_command("DBSIZE", "x"),
    encode_command("TIME", "x"),
    encode_command("CLIENT"),
    encode_command("CLIENT", "SETNAME"),
    encode_command("CLIENT", "SETNAME", "a", "b"),
    encode_command("client", "setName"),
    encode_command("CLIENT", "GETNAME", "x"),
    encode_command("CLIENT", "FOO"),
    encode_command("client", "foo", "bar"),
    encode_command("CLIENT", "SETNAME", "has space"),
    encode_command("CLIENT", "KILL", "1.2.3.4:5"),
    encode_command("CLIENT", "KILL", "ID", "abc"),
    encode_command("CLIENT", "KILL", "TYPE", "nosuch"),
    encode_command("CLIENT", "KILL", "ID"),
    encode_command("CLIENT", "LIST", "TYPE", "nosuch"),
    encode_command("CONFIG"),
    encode_command("CONFIG", "GET"),
    encode_command("CONFIG", "SET", "maxclients"),
    encode_command("CONFIG", "FOO"),
    encode_command("config", "Foo", "bar"),
    encode_command("CONFIG", "RESETSTAT", "x"),
    encode_command("COMMAND", "FOO"),
    encode_command("FLUSHDB", "LATER"),
    encode_command("FLUSHALL", "ASYNC", "SYNC"),
    encode_command("INFO", "nosuchsection"),
]


@pytest.mark.parametrize("payload", COMPARED_PAYLOADS, ids=lambda p: repr(p[:40]))
def test_error_texts_match_redis(pair, payload):
    t, r = pair
    compare_replies(t, r, payload)


def test_unknown_command_text(tandem):
    assert (exchange(tandem.port, b"FOO a b\r\n")
            == "ERR unknown command 'FOO', with args beginning with: 'a' 'b' ")
    assert isinstance(exchange(tandem.port, encode_command("ECHO")), RespError)
    assert (exchange(tandem.port, encode_command("ECHO"))
            == "ERR wrong number of arguments for 'echo' command")
    assert (exchange(tandem.port, encode_command("CLIENT", "FOO"))
            == "ERR unknown subcommand 'FOO'. Try CLIENT HELP.")

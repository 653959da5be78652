"""The request protocol: pipelining, inline commands, requests split across
many sends, and malformed requests.

Every malformed request gets the exact error text Redis 7.0 sends (checked
against Debian's redis-server with the same bytes) and its connection is
closed after the reply, while a client connected at the same time keeps
working.
"""
import pytest

from conftest import (RespReader, encode_command, exchange, nothing_to_read, raw_connect,
                      recv_until_closed, server_pair)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """tandem and redis-server, both with proto-max-bulk-len 1mb."""
    with server_pair(tmp_path_factory, ["--proto-max-bulk-len", "1mb"]) as p:
        yield p


# --------------------------------------------------------------- pipelining


def test_pipeline_10000_echo(tandem):
    r = tandem.client()
    pipe = r.pipeline(transaction=False)
    values = [f"value-{i}-" + "x" * (i % 37) for i in range(10000)]
    for v in values:
        pipe.echo(v)
    assert pipe.execute() == values
    assert r.ping() is True


def test_raw_pipeline_in_one_send(tandem):
    payload = b"".join(encode_command("ECHO", str(i)) for i in range(2000)) + b"PING\r\n"
    with raw_connect(tandem.port) as s:
        s.sendall(payload)
        reader = RespReader(s)
        for i in range(2000):
            assert reader.read() == str(i).encode()
        assert reader.read() == "PONG"


# ------------------------------------------------------------------ inline


def test_inline_commands(tandem):
    with raw_connect(tandem.port) as s:
        reader = RespReader(s)
        s.sendall(b"PING\r\n")
        assert reader.read() == "PONG"
        s.sendall(b'ECHO "hello world"\r\n')
        assert reader.read() == b"hello world"
        s.sendall(b'ECHO "\\x41\\x42\\n\\t\\"q\\""\r\n')
        assert reader.read() == b'AB\n\t"q"'
        s.sendall(b"ECHO 'it\\'s'\r\n")
        assert reader.read() == b"it's"
        s.sendall(b"ECHO    spaced   \r\n")
        assert reader.read() == b"spaced"
        s.sendall(b"PING\n")  # a bare LF ends an inline command too
        assert reader.read() == "PONG"
        s.sendall(b"\r\n   \r\nPING\r\nECHO two\r\n")  # blank lines are ignored
        assert reader.read() == "PONG"
        assert reader.read() == b"two"


def test_inline_replies_match_redis(pair):
    t, r = pair
    for payload in (b'ECHO "\\x41\\x4a\\xZZ"\r\n', b"ECHO 'a\\b'\r\n", b'ECHO ""\r\n',
                    b"ECHO a\tb\r\n", b"echo \"x y\" \r\n", b"PING \"a b\"\r\n"):
        assert exchange(t.port, payload) == exchange(r.port, payload), payload


def test_inline_split_at_odd_positions(tandem):
    payload = b'ECHO "split \\x41 here"\r\nPING\r\nECHO tail\r\n'
    first_len = payload.index(b"\n") + 1
    cuts = [1, 4, 7, 12, 16, first_len - 1, first_len, first_len + 1, 33, 40]
    with raw_connect(tandem.port) as s:
        reader = RespReader(s)
        start = 0
        for cut in cuts:
            s.sendall(payload[start:cut])
            start = cut
            if cut < first_len:  # the first command is not complete yet
                assert nothing_to_read(s, 0.03)
        s.sendall(payload[start:])
        assert reader.read() == b"split A here"
        assert reader.read() == "PONG"
        assert reader.read() == b"tail"


def test_multibulk_one_byte_at_a_time(tandem):
    payload = encode_command("ECHO", "hello world") + encode_command("PING")
    first_len = len(encode_command("ECHO", "hello world"))
    with raw_connect(tandem.port) as s:
        reader = RespReader(s)
        for i in range(len(payload)):
            s.sendall(payload[i:i + 1])
            if i < first_len - 1:
                assert nothing_to_read(s, 0.005)
        assert reader.read() == b"hello world"
        assert reader.read() == "PONG"


def test_large_argument_in_uneven_pieces(tandem):
    value = bytes(range(256)) * 800  # 204800 bytes, every byte value
    payload = encode_command("ECHO", value)
    with raw_connect(tandem.port) as s:
        reader = RespReader(s)
        pos, step = 0, 1
        while pos < len(payload):
            s.sendall(payload[pos:pos + step])
            pos += step
            step = step * 3 + 7
        assert reader.read() == value


def test_empty_multibulk_is_ignored(pair):
    t, r = pair
    payload = b"*0\r\n*-1\r\n*-7\r\nPING\r\n"
    for srv in (t, r):
        with raw_connect(srv.port) as s:
            s.sendall(payload)
            reader = RespReader(s)
            assert reader.read() == "PONG"
            assert nothing_to_read(s, 0.1)


# ------------------------------------------------------------ bad requests


MALFORMED = [
    (b"*abc\r\n", "invalid multibulk length"),
    (b"*3000000000\r\n", "invalid multibulk length"),
    (b"*1\r\n+foo\r\n", "expected '$', got '+'"),
    (b"*2\r\n$4\r\nECHO\r\n:5\r\n", "expected '$', got ':'"),
    (b"*1\r\n$-5\r\n", "invalid bulk length"),
    (b"*1\r\n$abc\r\n", "invalid bulk length"),
    (b'ECHO "abc\r\n', "unbalanced quotes in request"),
    (b'ECHO "abc"def\r\n', "unbalanced quotes in request"),
    (b"ECHO 'abc\r\n", "unbalanced quotes in request"),
    (b"*2\r\n$4\r\nECHO\r\n$2000000\r\n", "invalid bulk length"),  # > proto-max-bulk-len
    (b"A" * (64 * 1024 + 1), "too big inline request"),
    (b"*" + b"1" * (64 * 1024 + 1), "too big mbulk count string"),
    (b"*1\r\n$" + b"1" * (64 * 1024 + 1), "too big bulk count string"),
]


def send_and_collect(port, payload, timeout=10):
    """Sends payload on a new connection; returns (bytes received, closed)."""
    with raw_connect(port) as s:
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return recv_until_closed(s, timeout=timeout)


@pytest.mark.parametrize("payload,reason", MALFORMED, ids=lambda v: repr(v)[:30])
def test_malformed_request_error_and_close(pair, payload, reason):
    t, r = pair
    other = t.client()
    assert other.ping() is True
    data, closed = send_and_collect(t.port, payload)
    assert data == b"-ERR Protocol error: " + reason.encode() + b"\r\n"
    assert closed, "the connection should be closed after the error"
    # the other client is unaffected
    assert other.ping() is True
    assert other.echo("still here") == "still here"
    # and Redis sends the very same bytes
    assert send_and_collect(r.port, payload) == (data, True)


def test_commands_before_a_protocol_error_are_answered(pair):
    t, r = pair
    payload = b"PING\r\n" + encode_command("ECHO", "x") + b"*1\r\n$x\r\nPING\r\n"
    data, closed = send_and_collect(t.port, payload)
    assert data == b"+PONG\r\n$1\r\nx\r\n-ERR Protocol error: invalid bulk length\r\n"
    assert closed
    assert send_and_collect(r.port, payload) == (data, True)


def test_protocol_error_on_a_long_lived_connection(tandem):
    with raw_connect(tandem.port) as s:
        reader = RespReader(s)
        for i in range(5):
            assert reader.command("ECHO", str(i)) == str(i).encode()
        s.sendall(b"*1\r\n+PING\r\n")
        data, closed = recv_until_closed(s)
        assert data == b"-ERR Protocol error: expected '$', got '+'\r\n"
        assert closed


UNAUTHENTICATED = [
    (b"*11\r\n", "unauthenticated multibulk length"),
    (b"*2\r\n$4\r\nAUTH\r\n$20000\r\n", "unauthenticated bulk length"),
]


@pytest.mark.parametrize("payload,reason", UNAUTHENTICATED, ids=["mbulk", "bulk"])
def test_unauthenticated_request_limits(make_tandem, make_redis, payload, reason):
    """With a password set, Redis 7.0 refuses a multibulk of more than 10
    arguments or a bulk over 16384 bytes before AUTH, and closes."""
    t = make_tandem(["--requirepass", "pw"])
    r = make_redis(["--requirepass", "pw"])
    want = b"-ERR Protocol error: " + reason.encode() + b"\r\n"
    assert send_and_collect(r.port, payload) == (want, True)
    assert send_and_collect(t.port, payload, timeout=3) == (want, True)


def test_authenticated_client_may_send_long_requests(make_tandem):
    t = make_tandem(["--requirepass", "pw"])
    with raw_connect(t.port) as s:
        reader = RespReader(s)
        assert reader.command("AUTH", "pw") == "OK"
        assert reader.command("CONFIG", "GET", *[f"nosuch{i}" for i in range(20)]) == []
        assert reader.command("ECHO", "z" * 50000) == b"z" * 50000

"""The string and bit commands, compared with Debian's redis-server 7.0.

Every command sequence here is sent, byte for byte, to bin/tandem-server and
to redis-server over raw sockets, and the decoded replies (errors included,
with their text) must be identical. Where a reply depends on the clock
(PTTL), only its kind is compared (missing key, no expiry, or a positive
time left). Covers GET/SET with every option combination and the option
errors, SETNX/SETEX/PSETEX, GETSET/GETDEL/GETEX, MGET/MSET/MSETNX,
APPEND/STRLEN, the integer counters at the 64-bit limits, INCRBYFLOAT's
formatting, GETRANGE/SUBSTR/SETRANGE, the proto-max-bulk-len limits,
SETBIT/GETBIT/BITCOUNT/BITPOS/BITOP, LCS in RESP2 and RESP3, OBJECT
ENCODING of the results, the dirty counter (nothing changed, nothing
propagated), and a seeded random mix of all of them.
"""
import itertools
import random
import time

import pytest

from conftest import RespReader, encode_command, norm, raw_connect, server_pair

LLONG_MAX = 9223372036854775807
LLONG_MIN = -9223372036854775808


class Differ:
    """One raw connection to each server; every command goes to both."""

    def __init__(self, tandem, redis_srv, resp=2):
        self.socks = [raw_connect(tandem.port), raw_connect(redis_srv.port)]
        self.readers = [RespReader(s) for s in self.socks]
        if resp == 3:
            for reply in self.call("HELLO", "3"):
                assert isinstance(reply, dict)

    def close(self):
        for s in self.socks:
            s.close()

    def call(self, *args):
        """(tandem's reply, redis's reply)."""
        payload = encode_command(*args)
        for s in self.socks:
            s.sendall(payload)
        return tuple(reader.read() for reader in self.readers)

    def same(self, *args):
        """Runs a command on both; asserts equal replies; returns tandem's."""
        t, r = self.call(*args)
        assert norm(t) == norm(r), f"{args!r}: tandem {t!r} != redis {r!r}"
        return t

    def batch(self, commands, chunk=200):
        """Pipelines commands (lists of arguments) to both and compares the
        replies one by one."""
        for i in range(0, len(commands), chunk):
            part = commands[i:i + chunk]
            payload = b"".join(encode_command(*args) for args in part)
            for s in self.socks:
                s.sendall(payload)
            for args in part:
                t = self.readers[0].read()
                r = self.readers[1].read()
                assert norm(t) == norm(r), f"{args!r}: tandem {t!r} != redis {r!r}"

    def ttl_kind(self, key):
        """PTTL of key on both, reduced to -2, -1 or 'positive'; asserted
        equal and returned."""
        kinds = [p if p < 0 else "positive" for p in self.call("PTTL", key)]
        assert kinds[0] == kinds[1], f"PTTL {key}: tandem {kinds[0]} != redis {kinds[1]}"
        return kinds[0]

    def tandem_dirty(self):
        info = self.call("INFO", "persistence")[0].decode()
        for line in info.splitlines():
            if line.startswith("rdb_changes_since_last_save:"):
                return int(line.split(":")[1])
        raise AssertionError("no rdb_changes_since_last_save in INFO")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    with server_pair(tmp_path_factory) as p:
        yield p


def make_differ(pair, resp):
    d = Differ(*pair, resp=resp)
    d.same("FLUSHALL")
    return d


@pytest.fixture
def d(pair):
    differ = make_differ(pair, 2)
    yield differ
    differ.close()


@pytest.fixture
def d3(pair):
    differ = make_differ(pair, 3)
    yield differ
    differ.close()


@pytest.fixture
def small_bulk(make_tandem, make_redis):
    """A fresh pair with proto-max-bulk-len set to 1mb by CONFIG SET."""
    t, r = make_tandem(), make_redis()
    differ = Differ(t, r)
    differ.same("CONFIG", "SET", "proto-max-bulk-len", "1mb")
    yield differ
    differ.close()


# ------------------------------------------------------------ GET / SET


def test_get_set_basic(d):
    big = "x" * 5000
    d.batch([
        ["GET", "k"], ["SET", "k", "v"], ["GET", "k"], ["SET", "k", ""], ["GET", "k"],
        ["SET", "k", b"a\r\nb\x00c\xff"], ["GET", "k"], ["SET", "k", big], ["GET", "k"],
        ["SET", "n", "123"], ["GET", "n"], ["SET", "n", "-0"], ["GET", "n"],
        ["SET", "n", str(LLONG_MIN)], ["GET", "n"], ["SET", "n", "007"], ["GET", "n"], ["GET"],
        ["GET", "a", "b"], ["SET", "k"], ["SETNX", "k"],
    ])


SET_OPTIONS = [["NX"], ["XX"], ["GET"], ["KEEPTTL"], ["EX", "1000"], ["PX", "1000000"],
               ["EXAT", None], ["PXAT", None], ["nx"], ["Get"], ["keepTTL"], ["ex", "500"]]


def test_set_every_option_combination(d):
    """All orderings of up to three options, each on a missing key and on
    an existing key with and without a TTL."""
    future = int(time.time()) + 100000
    options = []
    for opt in SET_OPTIONS:
        if opt[0].upper() == "EXAT":
            opt = ["EXAT", str(future)]
        elif opt[0].upper() == "PXAT":
            opt = ["PXAT", str(future * 1000)]
        options.append(opt)
    n = 0
    for size in (0, 1, 2, 3):
        for combo in itertools.permutations(options, size):
            if size == 3 and n % 3:  # a third of the triples keep the run short
                n += 1
                continue
            n += 1
            args = [a for opt in combo for a in opt]
            for state in ("missing", "plain", "ttl"):
                d.same("DEL", "k")
                if state == "plain":
                    d.same("SET", "k", "old")
                elif state == "ttl":
                    d.same("SET", "k", "old", "EX", "1000")
                d.same("SET", "k", f"new{n}", *args)
                d.same("GET", "k")
                d.ttl_kind("k")


def test_set_option_errors(d):
    now = int(time.time())
    d.batch([
        ["SET", "k", "v", "NX", "XX"], ["SET", "k", "v", "XX", "NX"], ["SET", "k", "v", "EX"],
        ["SET", "k", "v", "PX"], ["SET", "k", "v", "EX", "10", "PX", "100"],
        ["SET", "k", "v", "EX", "10", "KEEPTTL"], ["SET", "k", "v", "KEEPTTL", "PXAT", "1"],
        ["SET", "k", "v", "EXAT", "10", "PXAT", "100"], ["SET", "k", "v", "PERSIST"],
        ["SET", "k", "v", "FOO"], ["SET", "k", "v", "NXX"], ["SET", "k", "v", "EX", "10", "EX"],
        ["SET", "k", "v", "EX", "0"], ["SET", "k", "v", "EX", "-1"], ["SET", "k", "v", "PX", "0"],
        ["SET", "k", "v", "PX", "-5"], ["SET", "k", "v", "EXAT", "0"],
        ["SET", "k", "v", "PXAT", "-1"], ["SET", "k", "v", "EX", "abc"],
        ["SET", "k", "v", "EX", "1.5"], ["SET", "k", "v", "EX", " 10"],
        ["SET", "k", "v", "EX", str(LLONG_MAX)], ["SET", "k", "v", "EX", str(LLONG_MAX // 1000)],
        ["SET", "k", "v", "EX", str(LLONG_MAX // 1000 + 1)],
        ["SET", "k", "v", "PX", str(LLONG_MAX)], ["SET", "k", "v", "PX", str(LLONG_MAX - 1000)],
        ["SET", "k", "v", "EXAT", str(LLONG_MAX)], ["SET", "k", "v", "EX", "99999999999999999999"],
        ["SET", "k", "v", "EX", "0", "NX", "XX"], ["SET", "k", "v", "NX", "NX"],
        ["SET", "k", "v", "GET", "GET"], ["GET", "k"], ["SET", "k", "v", "EX", "10", "EX", "20"],
        ["SET", "k", "v", "EXAT", str(now + 50), "EXAT", "7"], ["GET", "k"],
    ])
    d.same("SET", "big", "v", "PXAT", str(LLONG_MAX))
    assert d.ttl_kind("big") == "positive"


def test_set_past_absolute_time_and_get(d):
    d.batch([
        ["SET", "k", "v", "EXAT", "1"], ["GET", "k"], ["SET", "k", "v"],
        ["SET", "k", "w", "PXAT", "1", "GET"], ["GET", "k"], ["EXISTS", "k"],
    ])


def test_set_get_option(d):
    d.batch([
        ["SET", "k", "a", "GET"], ["SET", "k", "b", "GET"], ["SET", "k", "c", "NX", "GET"],
        ["GET", "k"], ["SET", "m", "c", "XX", "GET"], ["GET", "m"], ["SET", "n", "1", "NX", "GET"],
        ["GET", "n"], ["SET", "n", "2", "XX", "GET"], ["SET", "n", "3", "GET", "EX", "100"],
        ["GET", "n"],
    ])
    assert d.ttl_kind("n") == "positive"


def test_keepttl_keeps_the_ttl(d):
    d.same("SET", "k", "v", "EX", "100")
    d.same("SET", "k", "v2", "KEEPTTL")
    assert d.ttl_kind("k") == "positive"
    t_pttl, r_pttl = d.call("PTTL", "k")
    assert 0 < t_pttl <= 100000 and 0 < r_pttl <= 100000
    d.same("SET", "k", "v3", "XX", "KEEPTTL", "GET")
    assert d.ttl_kind("k") == "positive"
    d.same("SET", "k", "v4")
    assert d.ttl_kind("k") == -1
    d.same("SET", "fresh", "v", "KEEPTTL")
    assert d.ttl_kind("fresh") == -1


def test_setnx_setex_psetex(d):
    d.batch([
        ["SETNX", "k", "1"], ["SETNX", "k", "2"], ["GET", "k"], ["SETEX", "e", "100", "v"],
        ["GET", "e"], ["PSETEX", "p", "100000", "w"], ["GET", "p"], ["SETEX", "e", "0", "v"],
        ["SETEX", "e", "-1", "v"], ["SETEX", "e", "abc", "v"], ["SETEX", "e", str(LLONG_MAX), "v"],
        ["PSETEX", "p", "0", "v"], ["PSETEX", "p", "-10", "v"],
        ["PSETEX", "p", str(LLONG_MAX), "v"], ["SETEX", "e", "10"], ["PSETEX", "p"],
        ["SETEX", "n", "100", "42"], ["OBJECT", "ENCODING", "n"],
    ])
    for key in ("e", "p", "n"):
        assert d.ttl_kind(key) == "positive"
    assert d.ttl_kind("k") == -1


def test_getset_getdel(d):
    d.batch([
        ["GETSET", "k", "1"], ["GETSET", "k", "2"], ["GET", "k"], ["GETDEL", "k"], ["GETDEL", "k"],
        ["GET", "k"], ["SET", "n", "99"], ["GETDEL", "n"], ["GETSET", "k"], ["GETDEL"],
    ])
    d.same("SET", "t", "v", "EX", "100")
    d.same("GETSET", "t", "w")
    assert d.ttl_kind("t") == -1


def test_getex(d):
    future = int(time.time()) + 1000
    d.batch([
        ["GETEX", "missing"], ["GETEX", "missing", "EX", "0"], ["GETEX", "missing", "EX", "abc"],
        ["GETEX", "missing", "FOO"], ["SET", "k", "v"], ["GETEX", "k"], ["GETEX", "k", "EX"],
        ["GETEX", "k", "NX"], ["GETEX", "k", "KEEPTTL"], ["GETEX", "k", "GET"],
        ["GETEX", "k", "PERSIST", "EX", "10"], ["GETEX", "k", "EX", "10", "PERSIST"],
        ["GETEX", "k", "EX", "10", "PX", "10"], ["GETEX", "k", "EX", "0"],
        ["GETEX", "k", "PX", "-1"], ["GETEX", "k", "EX", str(LLONG_MAX)],
        ["GETEX", "k", "EX", "1.5"],
    ])
    assert d.ttl_kind("k") == -1
    d.same("GETEX", "k", "EX", "100")
    assert d.ttl_kind("k") == "positive"
    d.same("GETEX", "k", "PERSIST")
    assert d.ttl_kind("k") == -1
    d.same("GETEX", "k", "PERSIST")
    d.same("GETEX", "k", "PX", "100000")
    assert d.ttl_kind("k") == "positive"
    d.same("GETEX", "k")
    assert d.ttl_kind("k") == "positive"
    d.same("GETEX", "k", "EXAT", str(future))
    d.same("GETEX", "k", "pxat", str(future * 1000))
    assert d.ttl_kind("k") == "positive"
    d.same("GETEX", "k", "EXAT", "1")
    d.same("GET", "k")
    assert d.ttl_kind("k") == -2
    d.same("SET", "n", "12")
    d.same("GETEX", "n", "PXAT", "1000")
    d.same("EXISTS", "n")


# ------------------------------------------------------------ multi-key


def test_mget_mset_msetnx(d):
    d.batch([
        ["MSET", "a", "1", "b", "2", "c", "x" * 60], ["MGET", "a", "b", "c", "nope"], ["MSET", "a"],
        ["MSET", "a", "1", "b"], ["MSETNX", "a", "1", "b"], ["MSET", "a", "1", "a", "2"],
        ["GET", "a"], ["MSETNX", "x", "1", "y", "2"], ["MGET", "x", "y"],
        ["MSETNX", "z", "1", "x", "9"], ["MGET", "z", "x"], ["EXISTS", "z"],
        ["MSETNX", "p", "1", "p", "2"], ["GET", "p"], ["MGET"], ["MGET", "p"],
    ])
    d.same("SET", "t", "v", "EX", "100")
    d.same("MSET", "t", "w")
    assert d.ttl_kind("t") == -1


# ------------------------------------------------------------ APPEND / STRLEN / ranges


def test_append_strlen(d):
    d.batch([
        ["APPEND", "k", "hello"], ["APPEND", "k", " world"], ["GET", "k"], ["STRLEN", "k"],
        ["SET", "n", "123"], ["APPEND", "n", "456"], ["GET", "n"], ["STRLEN", "n"], ["INCR", "n"],
        ["APPEND", "e", ""], ["GET", "e"], ["STRLEN", "e"], ["EXISTS", "e"], ["STRLEN", "nope"],
        ["SET", "m", "-12"], ["STRLEN", "m"], ["APPEND", "k", "x" * 3000], ["STRLEN", "k"],
        ["APPEND", "k", b"\x00\xff"], ["GETRANGE", "k", "-3", "-1"],
    ])
    d.same("SET", "t", "v", "EX", "100")
    d.same("APPEND", "t", "w")
    assert d.ttl_kind("t") == "positive"


def test_getrange_substr(d):
    d.same("SET", "s", "Hello World")
    d.same("SET", "n", "1234567")
    d.same("SET", "e", "")
    points = [LLONG_MIN, -100, -12, -11, -10, -5, -1, 0, 1, 4, 10, 11, 12, 100, LLONG_MAX]
    cmds = [[name, key, str(a), str(b)] for name in ("GETRANGE", "SUBSTR")
            for key in ("s", "n", "e", "nope") for a in points for b in points]
    cmds += [["GETRANGE", "s", "a", "1"], ["GETRANGE", "s", "1", "b"], ["GETRANGE", "s", "1"],
             ["GETRANGE", "nope", "x", "1"], ["SUBSTR", "s", "0", "1.0"]]
    d.batch(cmds)


def test_setrange(d):
    d.batch([
        ["SETRANGE", "k", "0", "hello"], ["SETRANGE", "k", "6", "world"], ["GET", "k"],
        ["SETRANGE", "k", "2", "XY"], ["GET", "k"], ["SETRANGE", "k", "1", ""],
        ["SETRANGE", "nope", "5", ""], ["EXISTS", "nope"], ["SETRANGE", "nope", "-1", ""],
        ["SETRANGE", "k", "-1", "x"], ["SETRANGE", "k", "abc", "x"], ["SETRANGE", "k", "1.5", "x"],
        ["SETRANGE", "z", "3", "abc"], ["GET", "z"], ["SET", "n", "12345"],
        ["SETRANGE", "n", "1", "9"], ["GET", "n"], ["INCR", "n"], ["SETRANGE", "n", "10", "x"],
        ["GET", "n"], ["SETRANGE", "k", str(LLONG_MAX), "x"], ["SETRANGE", "k", str(LLONG_MAX), ""],
        ["SETRANGE", "k", "536870911", "x" * 2],
    ])
    d.same("SET", "t", "v", "EX", "100")
    d.same("SETRANGE", "t", "3", "w")
    assert d.ttl_kind("t") == "positive"


def test_growth_past_proto_max_bulk_len(small_bulk):
    d = small_bulk
    mb = 1024 * 1024
    d.batch([
        ["CONFIG", "GET", "proto-max-bulk-len"], ["SETRANGE", "k", str(mb), "x"], ["EXISTS", "k"],
        ["SETRANGE", "k", str(mb - 1), "x"], ["STRLEN", "k"], ["SETRANGE", "k", str(mb - 1), "xy"],
        ["SETRANGE", "k", str(mb - 2), "xy"], ["APPEND", "k", "z"], ["STRLEN", "k"],
        ["SET", "a", "x" * 1000], ["APPEND", "a", "y" * (mb - 1000)], ["STRLEN", "a"],
        ["APPEND", "a", "z"], ["SET", "b", "x"], ["APPEND", "b", "y" * mb],
        ["SETBIT", "bits", str(8 * mb), "1"], ["SETBIT", "bits", str(8 * mb - 1), "1"],
        ["STRLEN", "bits"], ["GETBIT", "bits", str(8 * mb)], ["GETBIT", "bits", str(8 * mb - 1)],
        ["SET", "la", "a" * 600], ["SET", "lb", "b" * 600], ["LCS", "la", "lb"],
        ["LCS", "la", "lb", "LEN"], ["SET", "sa", "a" * 100], ["LCS", "sa", "sa", "LEN"],
    ])


# ------------------------------------------------------------ counters


def test_incr_decr_limits(d):
    d.batch([
        ["INCR", "k"], ["INCR", "k"], ["DECR", "k"], ["DECR", "k"], ["DECR", "k"], ["GET", "k"],
        ["INCRBY", "k", "100"], ["DECRBY", "k", "50"], ["INCRBY", "k", "-1000"],
        ["SET", "k", str(LLONG_MAX - 1)], ["INCR", "k"], ["INCR", "k"], ["GET", "k"],
        ["INCRBY", "k", "0"], ["INCRBY", "k", "-1"], ["DECRBY", "k", "-2"],
        ["SET", "k", str(LLONG_MIN + 1)], ["DECR", "k"], ["DECR", "k"], ["GET", "k"],
        ["INCRBY", "k", str(LLONG_MIN)], ["INCRBY", "k", str(LLONG_MAX)], ["GET", "k"],
        ["SET", "k", "0"], ["INCRBY", "k", str(LLONG_MIN)], ["DECRBY", "k", str(LLONG_MIN)],
        ["DECRBY", "k", str(LLONG_MAX)], ["DECR", "k"], ["INCRBY", "k", "9223372036854775808"],
        ["SET", "k", "-1"], ["DECRBY", "k", str(LLONG_MAX)], ["DECRBY", "k", "1"],
        ["INCRBY", "k", "1.5"], ["INCRBY", "k", " 1"], ["INCRBY", "k", "+1"], ["INCRBY", "k", "01"],
        ["INCRBY", "k", ""], ["DECRBY", "k", "abc"], ["SET", "s", "abc"], ["INCR", "s"],
        ["SET", "s", "1.0"], ["INCR", "s"], ["SET", "s", " 1"], ["INCR", "s"],
        ["SET", "s", "12345678901234567890"], ["INCR", "s"], ["SET", "s", ""], ["INCR", "s"],
        ["SET", "s", "x" * 50], ["DECR", "s"], ["GET", "s"], ["APPEND", "r", "41"], ["INCR", "r"],
        ["OBJECT", "ENCODING", "r"], ["INCR"], ["INCRBY", "k"], ["DECRBY", "k", "1", "2"],
    ])
    d.same("SET", "t", "10", "EX", "100")
    d.same("INCR", "t")
    assert d.ttl_kind("t") == "positive"


def test_incrbyfloat_formatting(d):
    cmds = [
        ["INCRBYFLOAT", "f", "10.5"], ["INCRBYFLOAT", "f", "0.1"], ["INCRBYFLOAT", "f", "-10.6"],
        ["INCRBYFLOAT", "g", "5.0e3"], ["INCRBYFLOAT", "g", "-0.0001"], ["INCRBYFLOAT", "h", "3"],
        ["INCRBYFLOAT", "h", "1e20"], ["INCRBYFLOAT", "i", "-1e-30"],
        ["INCRBYFLOAT", "j", "1.1e-17"], ["INCRBYFLOAT", "l", "0x10"], ["INCRBYFLOAT", "l", "1.5 "],
        ["INCRBYFLOAT", "l", " 1.5"], ["INCRBYFLOAT", "l", "inf"], ["INCRBYFLOAT", "l", "-inf"],
        ["INCRBYFLOAT", "l", "nan"], ["INCRBYFLOAT", "l", "1e5000"],
        ["INCRBYFLOAT", "l", "1e-5000"], ["INCRBYFLOAT", "l", ""], ["INCRBYFLOAT", "l", "abc"],
        ["INCRBYFLOAT", "l", "1e308"], ["INCRBYFLOAT", "l", "1e308"],
        ["INCRBYFLOAT", "m", "1.7976931348623157e308"], ["INCRBYFLOAT", "m", "1e4000"],
        ["INCRBYFLOAT", "o", "1e4932"], ["INCRBYFLOAT", "o", "1e4932"], ["SET", "s", "abc"],
        ["INCRBYFLOAT", "s", "1"], ["SET", "s", " 2"], ["INCRBYFLOAT", "s", "1"],
        ["SET", "s", "2.5"], ["INCRBYFLOAT", "s", "0.25"], ["SET", "s", "7"],
        ["INCRBYFLOAT", "s", "0"], ["OBJECT", "ENCODING", "s"], ["INCR", "s"],
        ["OBJECT", "ENCODING", "s"], ["SET", "s", "-5"], ["INCRBYFLOAT", "s", "5"], ["GET", "s"],
        ["INCRBYFLOAT", "s", "-0.0"], ["INCRBYFLOAT", "u", "1.23456789012345678901234567890"],
        ["INCRBYFLOAT", "v", "0.1"], ["INCRBYFLOAT", "v", "0.2"], ["INCRBYFLOAT", "w", "3.0e-3"],
        ["INCRBYFLOAT", "x", "-3.14159"], ["INCRBYFLOAT", "y", str(LLONG_MAX)],
        ["INCRBYFLOAT", "y", "1"], ["INCRBYFLOAT", "z", "1" * 6000],
        ["INCRBYFLOAT", "nul", b"1\x005"], ["SET", "nul", b"2\x00"], ["INCRBYFLOAT", "nul", "1"],
        ["INCRBYFLOAT", "f"], ["INCRBYFLOAT", "f", "1", "2"],
    ]
    d.batch(cmds)
    d.same("SET", "t", "1.5", "EX", "100")
    d.same("INCRBYFLOAT", "t", "1")
    assert d.ttl_kind("t") == "positive"


# ------------------------------------------------------------ bits


def test_setbit_getbit(d):
    d.batch([
        ["SETBIT", "b", "7", "1"], ["GET", "b"], ["SETBIT", "b", "7", "1"],
        ["SETBIT", "b", "7", "0"], ["SETBIT", "b", "100", "1"], ["STRLEN", "b"], ["GET", "b"],
        ["GETBIT", "b", "100"], ["GETBIT", "b", "99"], ["GETBIT", "b", "1000000"],
        ["GETBIT", "nope", "5"], ["SETBIT", "b", "-1", "1"], ["SETBIT", "b", "abc", "1"],
        ["SETBIT", "b", "1", "2"], ["SETBIT", "b", "1", "-1"], ["SETBIT", "b", "1", "x"],
        ["SETBIT", "b", "1", ""], ["SETBIT", "b", str(LLONG_MAX), "1"],
        ["SETBIT", "b", str(8 * 512 * 1024 * 1024), "1"], ["GETBIT", "b", "-1"],
        ["GETBIT", "b", "x"], ["GETBIT", "b", str(8 * 512 * 1024 * 1024)],
        ["SETBIT", "b", "abc", "2"], ["SETBIT", "b", "#3", "1"], ["SET", "n", "12"],
        ["GETBIT", "n", "2"], ["GETBIT", "n", "3"], ["GETBIT", "n", "10"], ["GETBIT", "n", "16"],
        ["SETBIT", "n", "6", "1"], ["GET", "n"], ["OBJECT", "ENCODING", "n"], ["SET", "e", "a"],
        ["SETBIT", "e", "1", "1"], ["OBJECT", "ENCODING", "e"], ["GET", "e"],
    ])
    d.same("SET", "t", "v", "EX", "100")
    d.same("SETBIT", "t", "100", "1")
    assert d.ttl_kind("t") == "positive"


BIT_VALUES = {
    "mixed": b"\x00\xff\xf0\x0f\x81",
    "ones": b"\xff\xff\xff",
    "zeros": b"\x00\x00\x00",
    "one": b"\x40",
    "empty": b"",
    "int": b"1234",
    "long": b"\x00" * 40 + b"\x10" + b"\xff" * 40 + b"\xfe",
}
RANGE_POINTS = [LLONG_MIN, -100, -41, -9, -8, -7, -2, -1, 0, 1, 2, 3, 7, 8, 9, 15, 16, 39, 40, 41,
                100, LLONG_MAX]


def set_bit_values(d):
    for key, value in BIT_VALUES.items():
        d.same("SET", key, value)


def test_bitcount(d):
    set_bit_values(d)
    cmds = [["BITCOUNT", k] for k in list(BIT_VALUES) + ["nope"]]
    for key in list(BIT_VALUES) + ["nope"]:
        for a, b in itertools.product(RANGE_POINTS, RANGE_POINTS):
            cmds.append(["BITCOUNT", key, str(a), str(b)])
            cmds.append(["BITCOUNT", key, str(a), str(b), "BIT"])
            if key in ("mixed", "long"):
                cmds.append(["BITCOUNT", key, str(a), str(b), "byte"])
    cmds += [["BITCOUNT", "mixed", "0"], ["BITCOUNT", "mixed", "0", "1", "BOTH"],
             ["BITCOUNT", "mixed", "a", "1"], ["BITCOUNT", "mixed", "0", "b", "BIT"],
             ["BITCOUNT", "mixed", "0", "1", "BIT", "x"], ["BITCOUNT", "nope", "0"],
             ["BITCOUNT", "nope", "x", "y", "z"], ["BITCOUNT"]]
    d.batch(cmds, chunk=500)


def test_bitpos(d):
    set_bit_values(d)
    cmds = []
    for key in list(BIT_VALUES) + ["nope"]:
        for bit in ("0", "1"):
            cmds.append(["BITPOS", key, bit])
            for a in RANGE_POINTS:
                cmds.append(["BITPOS", key, bit, str(a)])
                for b in RANGE_POINTS[::2] + [RANGE_POINTS[-1]]:
                    cmds.append(["BITPOS", key, bit, str(a), str(b)])
                    cmds.append(["BITPOS", key, bit, str(a), str(b), "BIT"])
                    if key in ("mixed", "long"):
                        cmds.append(["BITPOS", key, bit, str(a), str(b), "Byte"])
    cmds += [["BITPOS", "mixed", "2"], ["BITPOS", "mixed", "-1"], ["BITPOS", "mixed", "x"],
             ["BITPOS", "nope", "2"], ["BITPOS", "mixed", "1", "x"],
             ["BITPOS", "mixed", "1", "0", "y"], ["BITPOS", "mixed", "1", "0", "1", "BOTH"],
             ["BITPOS", "mixed", "1", "0", "y", "BOTH"],
             ["BITPOS", "mixed", "1", "0", "1", "BIT", "x"], ["BITPOS", "nope", "1", "x"],
             ["BITPOS", "mixed"]]
    d.batch(cmds, chunk=500)


def test_bitop(d):
    d.same("SET", "a", b"\xff\x0f\xf0")
    d.same("SET", "b", b"\x0f")
    d.same("SET", "c", b"\x33\x55\xaa\x01\x02")
    d.same("SET", "n", "12")
    cmds = []
    for op in ("AND", "OR", "XOR", "and", "Or"):
        for srcs in (["a"], ["a", "b"], ["b", "a"], ["a", "b", "c"], ["c", "nope"], ["nope", "a"],
                     ["n", "a"], ["nope"], ["nope", "nope2"], ["a", "a"]):
            cmds += [["BITOP", op, "dest", *srcs], ["GET", "dest"], ["EXISTS", "dest"]]
    for src in ("a", "b", "c", "n", "nope"):
        cmds += [["BITOP", "NOT", "dest", src], ["GET", "dest"], ["EXISTS", "dest"]]
    cmds += [
        ["SET", "dest", "x"], ["BITOP", "AND", "dest", "nope"], ["EXISTS", "dest"],
        ["BITOP", "NOT", "dest", "a", "b"], ["BITOP", "NAND", "dest", "a"],
        ["BITOP", "NOT", "dest"], ["BITOP", "AND", "a", "a", "c"], ["GET", "a"],
        ["BITOP", "NOT", "c", "c"], ["GET", "c"], ["BITOP", "OR", "num", "n"],
        ["OBJECT", "ENCODING", "num"], ["GET", "num"],
    ]
    d.batch(cmds)
    d.same("SET", "t", "v", "EX", "100")
    d.same("BITOP", "OR", "t", "a")
    assert d.ttl_kind("t") == -1


# ------------------------------------------------------------ LCS


LCS_OPTIONS = [[], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"], ["IDX", "MINMATCHLEN", "2"],
               ["IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
               ["WITHMATCHLEN", "IDX", "MINMATCHLEN", "-3"], ["idx", "minmatchlen", "0"],
               ["LEN", "MINMATCHLEN", "2"], ["WITHMATCHLEN"], ["IDX", "LEN"], ["LEN", "IDX"],
               ["IDX", "MINMATCHLEN"], ["IDX", "MINMATCHLEN", "x"],
               ["FOO"], ["IDX", "IDX"], ["MINMATCHLEN", "1.5"]]


def lcs_commands():
    cmds = [["SET", "k1", "ohmytext"], ["SET", "k2", "mynewtext"], ["SET", "k3", "ABCBDAB"],
            ["SET", "k4", "BDCABA"], ["SET", "n1", "1234567"], ["SET", "n2", "-34x57"],
            ["SET", "e", ""],
            ["SET", "r1", "the quick brown fox jumps"], ["SET", "r2", "a quick brown dog jumped"]]
    pairs = (("k1", "k2"), ("k2", "k1"), ("k3", "k4"), ("n1", "n2"), ("k1", "e"), ("k1", "nope"),
             ("nope", "nope"), ("r1", "r2"), ("k1", "k1"))
    for a, b in pairs:
        for opts in LCS_OPTIONS:
            cmds.append(["LCS", a, b, *opts])
    cmds += [["LCS", "k1"], ["LCS"]]
    return cmds


def test_lcs_resp2(d):
    d.batch(lcs_commands())


def test_lcs_resp3(d3):
    d3.batch(lcs_commands())


def test_null_replies_resp3(d3):
    d3.batch([
        ["GET", "nope"], ["MGET", "a", "nope"], ["SET", "a", "1", "GET"], ["SET", "a", "2", "NX"],
        ["GETDEL", "nope"], ["GETEX", "nope"], ["GETSET", "nope", "1"],
        ["SET", "b", "1", "XX", "GET"],
    ])


# ------------------------------------------------------------ encodings and arity


def test_object_encoding_of_results(d):
    d.batch([
        ["SET", "i", "12345"], ["OBJECT", "ENCODING", "i"], ["SET", "e", "hello"],
        ["OBJECT", "ENCODING", "e"], ["SET", "r", "x" * 45], ["OBJECT", "ENCODING", "r"],
        ["SET", "r44", "x" * 44], ["OBJECT", "ENCODING", "r44"],
        ["SET", "big", "123456789012345678901"], ["OBJECT", "ENCODING", "big"],
        ["APPEND", "i", "6"], ["OBJECT", "ENCODING", "i"], ["APPEND", "new", "12"],
        ["OBJECT", "ENCODING", "new"], ["SETRANGE", "sr", "0", "12"], ["OBJECT", "ENCODING", "sr"],
        ["SET", "e2", "abc"], ["SETRANGE", "e2", "0", "x"], ["OBJECT", "ENCODING", "e2"],
        ["INCRBYFLOAT", "f", "3"], ["OBJECT", "ENCODING", "f"], ["INCRBYFLOAT", "f2", "1.5"],
        ["OBJECT", "ENCODING", "f2"], ["INCR", "c"], ["OBJECT", "ENCODING", "c"],
        ["INCRBY", "c", "100000"], ["OBJECT", "ENCODING", "c"], ["GETSET", "g", "77"],
        ["OBJECT", "ENCODING", "g"], ["MSET", "m1", "5", "m2", "five"],
        ["OBJECT", "ENCODING", "m1"], ["OBJECT", "ENCODING", "m2"], ["SETBIT", "sb", "3", "1"],
        ["OBJECT", "ENCODING", "sb"], ["SET", "e3", "a"], ["SETBIT", "e3", "0", "0"],
        ["OBJECT", "ENCODING", "e3"], ["SET", "e4", "q"], ["GETBIT", "e4", "0"],
        ["GETRANGE", "e4", "0", "0"], ["BITCOUNT", "e4"], ["OBJECT", "ENCODING", "e4"],
        ["SETNX", "nx", "9"], ["OBJECT", "ENCODING", "nx"], ["SETRANGE", "i", "0", ""],
        ["OBJECT", "ENCODING", "i"], ["SET", "z", "0"], ["SETRANGE", "z", "0", ""],
        ["OBJECT", "ENCODING", "z"], ["APPEND", "e", ""], ["OBJECT", "ENCODING", "e"],
    ])


def test_arity_errors(d):
    d.batch([
        ["SET"], ["SETNX", "k"], ["SETEX", "k", "1"], ["PSETEX", "k", "1", "v", "x"],
        ["GETSET", "k"], ["GETDEL", "k", "x"], ["GETEX"], ["MGET"], ["MSET"], ["MSET", "k"],
        ["MSETNX", "k"], ["APPEND", "k"], ["STRLEN"], ["INCR", "k", "x"], ["DECR"], ["INCRBY", "k"],
        ["DECRBY"], ["INCRBYFLOAT", "k"], ["GETRANGE", "k", "0"], ["SUBSTR", "k"],
        ["SETRANGE", "k", "0"], ["LCS", "a"], ["SETBIT", "k", "1"], ["GETBIT", "k"], ["BITCOUNT"],
        ["BITPOS", "k"], ["BITOP", "AND", "d"], ["mset", "a", "1", "b"],
    ])


def test_command_info_matches(d):
    names = ["get", "set", "setnx", "setex", "psetex", "getset", "getdel", "getex", "mget", "mset",
             "msetnx", "append", "strlen", "incr", "decr", "incrby", "decrby", "incrbyfloat",
             "getrange", "substr", "setrange", "lcs", "setbit", "getbit", "bitcount", "bitpos",
             "bitop"]
    t, r = d.call("COMMAND", "INFO", *names)
    for ti, ri in zip(t, r):
        assert ti[:6] == ri[:6]


# ------------------------------------------------------------ propagation (dirty counter)


def test_unchanged_commands_propagate_nothing(d):
    d.same("SET", "k", "v")
    d.same("SET", "n", "5")
    d.same("SETBIT", "b", "3", "1")
    quiet = [
        ["GET", "k"], ["GETEX", "k"], ["GETEX", "k", "PERSIST"], ["SETNX", "k", "x"],
        ["SET", "k", "x", "NX"], ["SET", "nope", "x", "XX"], ["SET", "k", "v", "EX", "0"],
        ["MSETNX", "k", "1", "z", "2"], ["SETRANGE", "k", "0", ""], ["SETBIT", "b", "3", "1"],
        ["SETBIT", "b", "2", "0"], ["BITOP", "AND", "d", "nope"], ["INCR", "k"],
        ["INCRBYFLOAT", "k", "1"], ["GETDEL", "nope"], ["STRLEN", "k"], ["LCS", "k", "n"],
        ["BITCOUNT", "b"], ["GETRANGE", "k", "0", "1"], ["APPEND", "k", "x" * 10, "extra"],
        ["INCRBY", "n", str(LLONG_MAX)],
    ]
    before = d.tandem_dirty()
    for args in quiet:
        d.same(*args)
    assert d.tandem_dirty() == before
    changing = [
        ["SET", "k", "v2"], ["SETNX", "new", "1"], ["GETSET", "k", "v3"], ["GETDEL", "new"],
        ["GETEX", "k", "EX", "100"], ["GETEX", "k", "PERSIST"], ["APPEND", "k", "x"], ["INCR", "n"],
        ["INCRBYFLOAT", "n", "0.5"], ["SETRANGE", "k", "0", "z"], ["SETBIT", "b", "3", "0"],
        ["BITOP", "OR", "d", "b"], ["SETEX", "e", "100", "v"], ["MSET", "m", "1"],
    ]
    for i, args in enumerate(changing, 1):
        d.same(*args)
        assert d.tandem_dirty() == before + i, f"{args!r} did not propagate exactly once"


def test_expired_keys_count_as_missing(d):
    """Keys stored with a time already past (SET ... PXAT 1) are expired by
    the next command that touches them, which then acts on a missing key."""
    cmds = []
    touching = [
        ["SET", "k", "new", "KEEPTTL"], ["SETNX", "k", "new"], ["INCR", "k"],
        ["INCRBYFLOAT", "k", "2"], ["APPEND", "k", "new"], ["SETRANGE", "k", "2", "x"],
        ["SETBIT", "k", "9", "1"],
        ["GETSET", "k", "n"], ["MSETNX", "k", "1", "other", "2"], ["SET", "k", "new", "XX"],
        ["GET", "k"], ["GETEX", "k", "EX", "9"], ["STRLEN", "k"], ["BITCOUNT", "k"],
        ["BITPOS", "k", "0"], ["LCS", "k", "k"], ["GETDEL", "k"], ["BITOP", "OR", "dest", "k"],
        ["MGET", "k"], ["GETRANGE", "k", "0", "-1"],
    ]
    for args in touching:
        cmds += [["DEL", "k", "other", "dest"], ["SET", "k", "old", "PXAT", "1"], args,
                 ["GET", "k"], ["PTTL", "k"], ["DBSIZE"]]
    d.batch(cmds)


def test_keyspace_hits_and_misses(make_tandem, make_redis):
    """The same commands count the same keyspace hits, misses and expired
    keys on both servers (reads count, writes do not)."""
    t, r = make_tandem(), make_redis()
    d = Differ(t, r)
    rng = random.Random(99)
    cmds = [random_command(rng) for _ in range(1500)]
    cmds += [["SET", "x", "v", "PXAT", "1"], ["GET", "x"], ["SET", "y", "v", "PXAT", "1"],
             ["INCR", "y"]]
    d.batch(cmds)
    fields = ("keyspace_hits", "keyspace_misses", "expired_keys")
    stats = []
    for reply in d.call("INFO", "stats"):
        lines = dict(line.split(":", 1) for line in reply.decode().splitlines() if ":" in line)
        stats.append({f: lines[f] for f in fields})
    assert stats[0] == stats[1]
    d.close()


# ------------------------------------------------------------ random mix


def random_command(rng):
    keys = ["a", "b", "c", "d"]
    values = ["", "0", "1", "-1", "12", "abc", str(LLONG_MAX), str(LLONG_MIN), "3.5", "\xff\x00",
              "q" * 50, "2e3"]
    k = rng.choice(keys)
    v = rng.choice(values)
    n = str(rng.choice([-20, -5, -1, 0, 1, 2, 3, 7, 9, 30, 100]))
    m = str(rng.choice([-20, -5, -1, 0, 1, 2, 3, 7, 9, 30, 100]))
    unit = rng.choice([[], ["BYTE"], ["BIT"]])
    choices = [
        ["GET", k], ["SET", k, v], ["SET", k, v, *rng.choice([["NX"], ["XX"], ["GET"], ["KEEPTTL"],
                                                              ["EX", "1000"], ["XX", "GET"]])],
        ["SETNX", k, v], ["GETSET", k, v], ["GETDEL", k], ["APPEND", k, v], ["STRLEN", k],
        ["INCR", k], ["DECR", k], ["INCRBY", k, n], ["DECRBY", k, v],
        ["INCRBYFLOAT", k, rng.choice(["0.5", "-1.25", v])],
        ["GETRANGE", k, n, m], ["SETRANGE", k, str(abs(int(n))), v], ["SETBIT", k, str(abs(int(n))),
                                                                       rng.choice(["0", "1"])],
        ["GETBIT", k, str(abs(int(n)))], ["BITCOUNT", k, n, m, *unit],
        ["BITPOS", k, rng.choice(["0", "1"]), n, m, *unit],
        ["BITPOS", k, rng.choice(["0", "1"])], ["BITOP", rng.choice(["AND", "OR", "XOR"]), k,
                                                 *rng.sample(keys, rng.randint(1, 3))],
        ["BITOP", "NOT", k, rng.choice(keys)],
        ["LCS", k, rng.choice(keys), *rng.choice([[], ["LEN"], ["IDX"]])],
        ["MGET", *rng.sample(keys, 3)], ["MSET", k, v, rng.choice(keys), "x"],
        ["MSETNX", k, v, "zz", "1"], ["OBJECT", "ENCODING", k],
        ["GETEX", k, *rng.choice([[], ["PERSIST"], ["EX", "500"]])],
    ]
    return rng.choice(choices)


def test_random_mix(d):
    rng = random.Random(20240701)
    d.batch([random_command(rng) for _ in range(6000)], chunk=300)

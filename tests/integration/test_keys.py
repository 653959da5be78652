"""The generic key commands, compared with Debian's redis-server 7.0: DEL,
UNLINK, EXISTS, TYPE, KEYS (glob patterns with sets, ranges, negation and
escapes), SCAN (cursor forms, MATCH, COUNT, TYPE), RANDOMKEY, RENAME and
RENAMENX (with TTLs), TOUCH, EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT with NX, XX, GT
and LT, TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST, SWAPDB, MOVE, COPY and
OBJECT. The same command sequences go to both servers on one connection each
and the replies must be identical, errors included; where a reply depends on
the clock or on the hash table's layout (PTTL, SCAN's order) the test
compares what is deterministic (TTL in seconds, sets of keys). Also: which
commands count as changes (rdb_changes_since_last_save), keyspace hit and
miss counting, which lookups leave OBJECT IDLETIME alone, and COMMAND INFO.
"""
import pytest

from conftest import (RespReader, encode_command, info_fields, one, raw_connect, same_replies,
                      server_pair, session, wait_until)

DEBUG_ON = ["--enable-debug-command", "yes"]
FAR_FUTURE_S = 4102444800  # 2100-01-01
LONG_VALUE = "x" * 60


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """One tandem and one redis-server, with DEBUG enabled, shared by the
    tests of this module (each test starts from FLUSHALL)."""
    with server_pair(tmp_path_factory, DEBUG_ON) as p:
        yield p


def info_field(srv, section, field):
    return info_fields(srv, section)[field]


# ------------------------------------------------------------ DEL, EXISTS, TYPE


def test_del_unlink_exists_type(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "a", "1"), ("SET", "b", "2"), ("SET", "c", "3"),
        ("EXISTS", "a"), ("EXISTS", "a", "a", "b", "nope", "a"), ("EXISTS", "nope"),
        ("TYPE", "a"), ("TYPE", "nope"),
        ("DEL", "a", "nope"), ("DEL", "a"), ("DEL", "b", "b", "c"),
        ("SET", "u", "x"), ("UNLINK", "u", "u", "v"), ("UNLINK", "u"),
        ("DEL",), ("UNLINK",), ("EXISTS",), ("TYPE",), ("TYPE", "a", "b"),
        ("DBSIZE",),
    ])


def test_del_and_exists_on_expired_keys(both):
    t, r = both
    same_replies(t, r, [
        ("DEBUG", "SET-ACTIVE-EXPIRE", "0"),
        ("SET", "gone", "v", "PX", "1"), ("SET", "live", "v"), ("SET", "gone2", "v", "PX", "1"),
        ("SET", "gone3", "v", "PX", "1"),
        ("DEBUG", "SLEEP", "0.01"), ("DBSIZE",),
        ("EXISTS", "gone", "live"), ("TYPE", "gone2"), ("DBSIZE",),
        ("DEL", "gone3", "live"), ("DBSIZE",),
    ])


def test_touch(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "a", "1"), ("SET", "b", "2"),
        ("TOUCH", "a"), ("TOUCH", "a", "b", "c", "a"), ("TOUCH", "none"), ("TOUCH",),
    ])


def test_randomkey(both):
    t, r = both
    same_replies(t, r, [
        ("RANDOMKEY",), ("SET", "only", "v"), ("RANDOMKEY",), ("RANDOMKEY", "x"),
    ])
    keys = {f"k{i}" for i in range(50)}
    for k in keys:
        one(t, "SET", k, "v")
    for _ in range(100):
        assert one(t, "RANDOMKEY").decode() in keys | {"only"}


def test_randomkey_skips_expired(both):
    t, _ = both
    one(t, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
    for i in range(200):
        one(t, "SET", f"e{i}", "v", "PX", "1")
    one(t, "SET", "live", "v")
    one(t, "DEBUG", "SLEEP", "0.01")
    assert one(t, "DBSIZE") == 201
    assert one(t, "RANDOMKEY") == b"live"


# ------------------------------------------------------------ KEYS

KEY_NAMES = ["foo", "fob", "fo", "f*o", "f?o", "f[o", "f]o", "f\\o", "hello", "hallo", "hxllo",
             "hllo", "heeello", "h-llo", "Hello", "a", "ab", "abc", "bar:1", "bar:22", "bar:333",
             "", "[", "^", "x^y", "caf\u00e9"]
PATTERNS = ["*", "f*", "f?o", "fo?", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo",
            "h[b-a]llo", "h[!e]llo", "f\\*o", "f\\?o", "f\\[o", "f[\\]]o", "f[[]o", "f\\\\o",
            "*o", "?", "??", "*:?", "bar:[0-9]*", "bar:[^1]*", "[^a]*", "[a-c]", "*[", "\\",
            "f[o", "h[-]llo", "x[\\^]y", "[\\^]", "", "*\u00e9", "H*", "nomatch*", "[]", "a*b*c"]


def test_keys_glob_patterns(both):
    t, r = both
    for srv in both:
        session(srv, [("SET", k, "v") for k in KEY_NAMES])
    for pattern in PATTERNS:
        got = sorted(one(t, "KEYS", pattern))
        want = sorted(one(r, "KEYS", pattern))
        assert got == want, f"KEYS {pattern!r}: tandem {got!r} != redis {want!r}"
    same_replies(t, r, [("KEYS",), ("KEYS", "a", "b")])


def test_keys_skips_expired_without_deleting(both):
    t, r = both
    same_replies(t, r, [
        ("DEBUG", "SET-ACTIVE-EXPIRE", "0"),
        ("SET", "k1", "v"), ("SET", "k2", "v", "PX", "1"), ("SET", "k3", "v", "EX", "100"),
        ("DEBUG", "SLEEP", "0.01"),
    ])
    for srv in both:
        assert sorted(one(srv, "KEYS", "k*")) == [b"k1", b"k3"]
    same_replies(t, r, [("DBSIZE",), ("KEYS", "k2"), ("DBSIZE",), ("EXISTS", "k2"), ("DBSIZE",)])


def test_keys_in_other_database(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "zero", "v"), ("SELECT", "3"), ("SET", "three", "v"), ("KEYS", "*"),
        ("SELECT", "0"), ("KEYS", "*"),
    ])


# ------------------------------------------------------------ SCAN


def full_scan(srv, *options):
    keys, cursor, calls = [], b"0", 0
    with raw_connect(srv.port) as s:
        reader = RespReader(s, 30)
        while True:
            s.sendall(encode_command("SCAN", cursor, *options))
            cursor, batch = reader.read()
            keys.extend(batch)
            calls += 1
            assert calls < 100000
            if cursor == b"0":
                return keys, calls


def test_scan_returns_every_key(both):
    t, r = both
    names = [f"key:{i}" for i in range(1000)] + [f"other:{i}" for i in range(300)]
    for srv in both:
        session(srv, [("SET", k, "v") for k in names])
    for srv in both:
        keys, calls = full_scan(srv)
        assert set(keys) == {k.encode() for k in names}
        assert calls > 1
        keys, _ = full_scan(srv, "COUNT", "7")
        assert set(keys) == {k.encode() for k in names}
        keys, _ = full_scan(srv, "MATCH", "other:*", "COUNT", "50")
        assert set(keys) == {f"other:{i}".encode() for i in range(300)}
        keys, _ = full_scan(srv, "MATCH", "key:1?", "count", "1000")
        assert set(keys) == {f"key:1{i}".encode() for i in range(10)}
        keys, _ = full_scan(srv, "TYPE", "string", "COUNT", "100")
        assert set(keys) == {k.encode() for k in names}
        keys, _ = full_scan(srv, "TYPE", "STRING", "MATCH", "*")
        assert len(set(keys)) == len(names)
        assert full_scan(srv, "TYPE", "list")[0] == []
        assert full_scan(srv, "TYPE", "nosuchtype")[0] == []


def test_scan_one_call_with_large_count(both):
    for srv in both:
        session(srv, [("SET", f"k{i}", "v") for i in range(100)])
        cursor, keys = one(srv, "SCAN", "0", "COUNT", "1000")
        assert cursor == b"0"
        assert sorted(keys) == sorted(f"k{i}".encode() for i in range(100))


def test_scan_cursor_and_option_errors(both):
    t, r = both
    same_replies(t, r, [
        ("SCAN", "0"), ("SCAN", ""), ("SCAN", "+0"), ("SCAN", "-1"), ("SCAN", "5"),
        ("SCAN", "18446744073709551615"), ("SCAN", "18446744073709551616"),
        ("SCAN", "x"), ("SCAN", " 1"), ("SCAN", "1 "), ("SCAN", "1x"), ("SCAN", "0x10"),
        ("SCAN", "0", "COUNT", "0"), ("SCAN", "0", "COUNT", "-1"), ("SCAN", "0", "COUNT", "x"),
        ("SCAN", "0", "COUNT"), ("SCAN", "0", "MATCH"), ("SCAN", "0", "TYPE"),
        ("SCAN", "0", "FOO", "bar"), ("SCAN", "0", "count", "3", "match", "*", "type", "string"),
        ("SCAN", "0", "COUNT", "1", "COUNT", "2"), ("SCAN", "0", "COUNT", "99999999999999999999"),
        ("SCAN", "x", "COUNT", "0"), ("SCAN", "0", "COUNT", "0", "FOO"), ("SCAN",),
    ])


def test_scan_filters_and_deletes_expired(both):
    t, r = both
    same_replies(t, r, [
        ("DEBUG", "SET-ACTIVE-EXPIRE", "0"),
        ("SET", "a", "v"), ("SET", "b", "v", "PX", "1"), ("SET", "c", "v", "PX", "1"),
        ("DEBUG", "SLEEP", "0.01"), ("DBSIZE",),
    ])
    for srv in both:
        cursor, keys = one(srv, "SCAN", "0", "MATCH", "[ab]", "COUNT", "100")
        assert cursor == b"0" and keys == [b"a"]
    # b was met by the filter and deleted; c did not match and stays.
    same_replies(t, r, [("DBSIZE",)])
    for srv in both:
        cursor, keys = one(srv, "SCAN", "0", "COUNT", "100")
        assert keys == [b"a"]
    same_replies(t, r, [("DBSIZE",)])


# ------------------------------------------------------------ RENAME


def test_rename_and_renamenx(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "a", "1"), ("RENAME", "a", "b"), ("EXISTS", "a"), ("GET", "b"),
        ("RENAME", "b", "b"), ("GET", "b"), ("RENAMENX", "b", "b"),
        ("RENAME", "missing", "x"), ("RENAME", "missing", "missing"),
        ("RENAMENX", "missing", "x"), ("RENAMENX", "missing", "missing"),
        ("SET", "c", "3"), ("RENAMENX", "b", "c"), ("GET", "b"), ("GET", "c"),
        ("RENAMENX", "b", "d"), ("GET", "d"), ("EXISTS", "b"),
        ("RENAME", "d", "c"), ("GET", "c"), ("DBSIZE",),
        ("RENAME", "c"), ("RENAME", "a", "b", "c"), ("RENAMENX", "c"),
    ])


def test_rename_moves_ttl(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "src", "v", "EX", "1000"), ("SET", "dst", "old", "EX", "5000"),
        ("RENAME", "src", "dst"), ("TTL", "dst"), ("TTL", "src"), ("GET", "dst"),
        ("SET", "plain", "p"), ("RENAME", "plain", "dst"), ("TTL", "dst"),
        ("SET", "n", "v", "EX", "300"), ("RENAMENX", "n", "fresh"), ("TTL", "fresh"),
        ("EXPIREAT", "fresh", FAR_FUTURE_S), ("RENAME", "fresh", "again"),
        ("EXPIRETIME", "again"), ("PEXPIRETIME", "again"), ("OBJECT", "ENCODING", "again"),
    ])


def test_rename_keeps_encoding(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "i", "12"), ("SET", "e", "hello"), ("SET", "w", LONG_VALUE),
        ("RENAME", "i", "i2"), ("RENAME", "e", "e2"), ("RENAME", "w", "w2"),
        ("OBJECT", "ENCODING", "i2"), ("OBJECT", "ENCODING", "e2"), ("OBJECT", "ENCODING", "w2"),
        ("GET", "i2"), ("GET", "e2"), ("GET", "w2"),
    ])


# ------------------------------------------------------------ EXPIRE


def test_expire_options(both):
    t, r = both
    cmds = [("SET", "k", "v")]
    cmds += [
        ("EXPIRE", "k", "100", "XX"), ("TTL", "k"),
        ("EXPIRE", "k", "100", "GT"), ("TTL", "k"),
        ("EXPIRE", "k", "100", "LT"), ("TTL", "k"),
        ("PERSIST", "k"),
        ("EXPIRE", "k", "100", "NX"), ("TTL", "k"),
        ("EXPIRE", "k", "200", "NX"), ("TTL", "k"),
        ("EXPIRE", "k", "200", "XX"), ("TTL", "k"),
        ("EXPIRE", "k", "150", "GT"), ("TTL", "k"),
        ("EXPIRE", "k", "300", "GT"), ("TTL", "k"),
        ("EXPIRE", "k", "300", "gt"), ("TTL", "k"),
        ("EXPIRE", "k", "400", "LT"), ("TTL", "k"),
        ("EXPIRE", "k", "250", "lt"), ("TTL", "k"),
        ("EXPIRE", "k", "260", "XX", "GT"), ("TTL", "k"),
        ("EXPIRE", "k", "100", "XX", "LT"), ("TTL", "k"),
        ("EXPIRE", "k", "50", "LT", "XX"), ("TTL", "k"),
        ("EXPIRE", "k", "10", "XX", "XX"), ("TTL", "k"),
        ("PEXPIRE", "k", "500000", "GT"), ("TTL", "k"),
        ("EXPIREAT", "k", FAR_FUTURE_S, "NX"), ("EXPIREAT", "k", FAR_FUTURE_S, "GT"),
        ("EXPIRETIME", "k"), ("PEXPIREAT", "k", FAR_FUTURE_S * 1000 + 1, "LT"),
        ("PEXPIRETIME", "k"), ("PEXPIREAT", "k", FAR_FUTURE_S * 1000 - 1, "LT"),
        ("PEXPIRETIME", "k"),
        ("EXPIRE", "nokey", "100"), ("EXPIRE", "nokey", "100", "NX"),
        ("EXPIRE", "nokey", "100", "XX"), ("EXPIRE", "nokey", "100", "GT"),
    ]
    same_replies(t, r, cmds)


def test_expire_negative_time_with_options(both):
    t, r = both
    same_replies(t, r, [
        # LT on a key without TTL takes a past time and deletes.
        ("SET", "a", "v"), ("EXPIRE", "a", "-5", "LT"), ("EXISTS", "a"),
        # GT never beats "no TTL".
        ("SET", "b", "v"), ("EXPIRE", "b", "-5", "GT"), ("EXISTS", "b"),
        ("EXPIRE", "b", "-5", "XX"), ("EXISTS", "b"),
        ("EXPIRE", "b", "-5", "NX"), ("EXISTS", "b"),
        ("SET", "c", "v", "EX", "100"), ("EXPIRE", "c", "-5", "NX"), ("EXISTS", "c"),
        ("EXPIRE", "c", "-5", "GT"), ("TTL", "c"), ("EXPIRE", "c", "-5", "XX"), ("EXISTS", "c"),
    ])


def test_expire_option_errors(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "k", "v"),
        ("EXPIRE", "k", "10", "NX", "XX"), ("EXPIRE", "k", "10", "NX", "GT"),
        ("EXPIRE", "k", "10", "LT", "NX"), ("EXPIRE", "k", "10", "GT", "LT"),
        ("EXPIRE", "k", "10", "XX", "GT", "LT"), ("EXPIRE", "k", "10", "FOO"),
        ("EXPIRE", "k", "10", "NX", "FOO"), ("EXPIRE", "k", "x", "NX", "XX"),
        ("EXPIRE", "k", "x", "FOO"), ("EXPIRE", "k", "x"), ("EXPIRE", "k", "1.5"),
        ("EXPIRE", "k", ""), ("EXPIRE", "k", " 10"), ("EXPIRE", "nokey", "10", "NX", "XX"),
        ("EXPIRE", "k"), ("PEXPIRE", "k"), ("EXPIREAT", "k"), ("PEXPIREAT", "k"),
        ("EXPIRE", "k", "9223372036854775807"), ("EXPIRE", "k", "9223372036854775"),
        ("EXPIRE", "k", "-9223372036854775808"), ("EXPIRE", "k", "-9223372036854775"),
        ("EXISTS", "k"), ("SET", "k", "v"),
        ("PEXPIRE", "k", "9223372036854775807"), ("EXPIREAT", "k", "9223372036854776"),
        ("EXPIREAT", "k", "9223372036854775"), ("EXPIRETIME", "k"),
        ("PEXPIREAT", "k", "9223372036854775807"), ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"),
        ("PEXPIREAT", "k", "9223372036854775308"), ("EXPIRETIME", "k"),
        ("PEXPIREAT", "k", "9223372036854775307"), ("EXPIRETIME", "k"),
        ("EXPIRE", "k", "99999999999999999999"),
    ])


def test_expire_in_the_past_deletes(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "a", "v"), ("EXPIRE", "a", "-1"), ("EXISTS", "a"),
        ("SET", "b", "v"), ("EXPIRE", "b", "0"), ("EXISTS", "b"),
        ("SET", "c", "v"), ("PEXPIRE", "c", "0"), ("EXISTS", "c"),
        ("SET", "d", "v"), ("EXPIREAT", "d", "1"), ("EXISTS", "d"),
        ("SET", "e", "v"), ("PEXPIREAT", "e", "1000"), ("EXISTS", "e"),
        ("SET", "f", "v"), ("EXPIREAT", "f", "-100"), ("EXISTS", "f"),
        ("DBSIZE",),
    ])


def test_ttl_family(both):
    t, r = both
    same_replies(t, r, [
        ("TTL", "missing"), ("PTTL", "missing"), ("EXPIRETIME", "missing"),
        ("PEXPIRETIME", "missing"),
        ("SET", "p", "v"), ("TTL", "p"), ("PTTL", "p"), ("EXPIRETIME", "p"), ("PEXPIRETIME", "p"),
        ("SET", "k", "v", "EX", "100"), ("TTL", "k"),
        ("EXPIREAT", "k", FAR_FUTURE_S), ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"),
        ("PEXPIREAT", "k", FAR_FUTURE_S * 1000 + 499), ("EXPIRETIME", "k"),
        ("PEXPIREAT", "k", FAR_FUTURE_S * 1000 + 500), ("EXPIRETIME", "k"),
        ("PEXPIRETIME", "k"),
        ("TTL",), ("PTTL", "a", "b"), ("EXPIRETIME",),
    ])
    for srv in both:
        one(srv, "PEXPIRE", "k", "100000")
        assert 99000 <= one(srv, "PTTL", "k") <= 100000
        one(srv, "PEXPIRE", "k", "1499")
        assert one(srv, "TTL", "k") == 1  # (pttl + 500) / 1000
        one(srv, "PEXPIRE", "k", "1700")
        assert one(srv, "TTL", "k") == 2


def test_persist(both):
    t, r = both
    same_replies(t, r, [
        ("PERSIST", "missing"), ("SET", "k", "v"), ("PERSIST", "k"),
        ("EXPIRE", "k", "100"), ("PERSIST", "k"), ("TTL", "k"), ("PERSIST", "k"),
        ("PERSIST",), ("PERSIST", "a", "b"),
    ])


def test_set_after_expire_clears_ttl(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "k", "v", "EX", "100"), ("SET", "k", "w"), ("TTL", "k"),
        ("SET", "k", "v", "EX", "100"), ("SET", "k", "w", "KEEPTTL"), ("TTL", "k"),
    ])


# ------------------------------------------------------------ SWAPDB, MOVE, COPY


def test_swapdb(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "zero", "0"), ("SELECT", "1"), ("SET", "one", "1", "EX", "100"),
        ("SWAPDB", "0", "1"), ("KEYS", "*"), ("TTL", "one"), ("SELECT", "0"), ("KEYS", "*"),
        ("TTL", "one"), ("SWAPDB", "1", "1"), ("DBSIZE",), ("SWAPDB", "0", "15"),
        ("DBSIZE",), ("SELECT", "15"), ("KEYS", "*"),
        ("SWAPDB", "0", "16"), ("SWAPDB", "-1", "0"), ("SWAPDB", "x", "0"),
        ("SWAPDB", "0", "x"), ("SWAPDB", "x", "y"), ("SWAPDB", "0", "99999999999"),
        ("SWAPDB", "99999999999", "0"), ("SWAPDB", "16", "x"), ("SWAPDB", "0"),
    ])


def test_swapdb_seen_by_other_connections(both):
    for srv in both:
        with raw_connect(srv.port) as a, raw_connect(srv.port) as b:
            ra, rb = RespReader(a), RespReader(b)
            assert rb.command("SELECT", "2") == "OK"
            assert ra.command("SET", "k", "in-zero") == "OK"
            assert ra.command("SWAPDB", "0", "2") == "OK"
            assert rb.command("GET", "k") == b"in-zero"
            assert ra.command("GET", "k") is None


def test_move(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "k", "v", "EX", "100"), ("MOVE", "k", "1"), ("EXISTS", "k"),
        ("SELECT", "1"), ("GET", "k"), ("TTL", "k"), ("SELECT", "0"),
        ("SET", "p", "plain"), ("MOVE", "p", "1"), ("SELECT", "1"), ("TTL", "p"), ("SELECT", "0"),
        ("SET", "k", "again"), ("MOVE", "k", "1"), ("GET", "k"),
        ("MOVE", "missing", "1"), ("MOVE", "k", "0"), ("MOVE", "missing", "0"),
        ("MOVE", "k", "16"), ("MOVE", "k", "-1"), ("MOVE", "k", "x"),
        ("MOVE", "k", "99999999999"), ("MOVE", "k"), ("MOVE", "k", "1", "2"),
        ("SELECT", "1"), ("MOVE", "k", "0"), ("SELECT", "0"), ("GET", "k"),
    ])


def test_copy(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "a", "v", "EX", "100"), ("COPY", "a", "b"), ("GET", "b"), ("TTL", "b"),
        ("COPY", "a", "b"), ("SET", "a", "new"), ("COPY", "a", "b"), ("GET", "b"),
        ("COPY", "a", "b", "REPLACE"), ("GET", "b"), ("TTL", "b"),
        ("COPY", "a", "c", "DB", "2"), ("SELECT", "2"), ("GET", "c"), ("SELECT", "0"),
        ("COPY", "a", "a"), ("COPY", "a", "a", "DB", "0"), ("COPY", "a", "a", "DB", "3"),
        ("SELECT", "3"), ("GET", "a"), ("SELECT", "0"),
        ("COPY", "missing", "x"), ("COPY", "missing", "missing"),
        ("COPY", "a", "b", "DB", "16"), ("COPY", "a", "b", "DB", "x"), ("COPY", "a", "b", "DB"),
        ("COPY", "a", "b", "FOO"), ("COPY", "a", "b", "replace", "db", "1", "replace"),
        ("COPY", "missing", "b", "DB", "16", "FOO"), ("COPY", "a", "b", "DB", "99999999999"),
        ("COPY", "a"), ("DBSIZE",),
    ])


def test_copy_keeps_ttl_and_encoding(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "i", "123456"), ("SET", "e", "hello"), ("SET", "w", LONG_VALUE),
        ("COPY", "i", "i2"), ("COPY", "e", "e2"), ("COPY", "w", "w2"),
        ("OBJECT", "ENCODING", "i2"), ("OBJECT", "ENCODING", "e2"), ("OBJECT", "ENCODING", "w2"),
        ("OBJECT", "REFCOUNT", "i2"), ("OBJECT", "REFCOUNT", "w2"),
        ("PEXPIREAT", "e", FAR_FUTURE_S * 1000 + 7), ("COPY", "e", "e3", "DB", "1"),
        ("SELECT", "1"), ("PEXPIRETIME", "e3"), ("SELECT", "0"),
        ("SET", "old", "v", "EX", "1000"), ("COPY", "w", "old", "REPLACE"), ("TTL", "old"),
    ])


# ------------------------------------------------------------ OBJECT


def test_object_encoding_refcount(both):
    t, r = both
    values = ["0", "1", "9999", "10000", "-1", "-10000", "123456789", "9223372036854775807",
              "-9223372036854775808", "9223372036854775808", "12345678901234567890",
              "0123", "+1", "1.5", " 1", "", "hello", "x" * 44, "x" * 45, LONG_VALUE]
    cmds = []
    for i, v in enumerate(values):
        cmds += [("SET", f"k{i}", v), ("OBJECT", "ENCODING", f"k{i}"),
                 ("OBJECT", "REFCOUNT", f"k{i}")]
    same_replies(t, r, cmds)


def test_object_encoding_after_append(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "k", "ab"), ("APPEND", "k", "cd"), ("OBJECT", "ENCODING", "k"),
        ("SET", "n", "12"), ("APPEND", "n", "3"), ("OBJECT", "ENCODING", "n"),
        ("APPEND", "fresh", "v"), ("OBJECT", "ENCODING", "fresh"),
    ])


def test_object_errors_and_help(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "k", "v"),
        ("OBJECT", "ENCODING", "missing"), ("OBJECT", "REFCOUNT", "missing"),
        ("OBJECT", "IDLETIME", "missing"), ("OBJECT", "FREQ", "missing"),
        ("OBJECT", "FREQ", "k"), ("OBJECT", "IDLETIME", "k"), ("OBJECT", "help"),
        ("OBJECT", "HELP", "x"), ("OBJECT", "ENCODING"), ("OBJECT", "ENCODING", "k", "x"),
        ("OBJECT", "nosuch", "k"), ("OBJECT",), ("object", "encoding", "k"),
    ])


def test_object_idletime_and_what_touches(both):
    """EXISTS, TYPE, TTL, PTTL, EXPIRETIME and OBJECT leave the access clock
    alone (the idle time keeps growing); TOUCH and writes reset it."""
    for srv in both:
        one(srv, "SET", "k", "v")
        assert one(srv, "OBJECT", "IDLETIME", "k") in (0, 1)

        def idle_two_seconds():
            session(srv, [("EXISTS", "k"), ("TYPE", "k"), ("TTL", "k"), ("PTTL", "k"),
                          ("EXPIRETIME", "k"), ("OBJECT", "ENCODING", "k"),
                          ("OBJECT", "REFCOUNT", "k"), ("OBJECT", "FREQ", "k"),
                          ("SCAN", "0", "TYPE", "string")])
            return one(srv, "OBJECT", "IDLETIME", "k") >= 2

        wait_until(idle_two_seconds, 10, interval=0.1, message="idle time to reach 2 s")
        one(srv, "TOUCH", "k")
        assert one(srv, "OBJECT", "IDLETIME", "k") in (0, 1)
        wait_until(lambda: one(srv, "OBJECT", "IDLETIME", "k") >= 2, 10, interval=0.1,
                   message="idle time to reach 2 s again")
        one(srv, "EXPIRE", "k", "100")
        assert one(srv, "OBJECT", "IDLETIME", "k") in (0, 1)


# ------------------------------------------------------------ statistics, changes


def test_keyspace_hits_and_misses(both):
    t, r = both
    cmds = [("SET", "k", "v"), ("CONFIG", "RESETSTAT"),
            ("EXISTS", "k", "nope"), ("TYPE", "k"), ("TYPE", "nope"), ("TTL", "k"),
            ("PTTL", "nope"), ("EXPIRETIME", "k"), ("OBJECT", "ENCODING", "k"),
            ("OBJECT", "ENCODING", "nope"), ("TOUCH", "k", "nope"), ("COPY", "k", "k2"),
            ("COPY", "nope", "k3"), ("DEL", "k2"), ("EXPIRE", "k", "100"), ("PERSIST", "k"),
            ("RENAME", "k", "k4"), ("MOVE", "k4", "1"), ("SET", "s", "v"), ("KEYS", "*"),
            ("RANDOMKEY",),
            ("SCAN", "0"), ("SCAN", "0", "TYPE", "string")]
    same_replies(t, r, cmds)
    for field in ("keyspace_hits", "keyspace_misses"):
        assert info_field(t, "stats", field) == info_field(r, "stats", field), field


def changes(srv):
    return int(info_field(srv, "persistence", "rdb_changes_since_last_save"))


@pytest.mark.parametrize("setup,command", [
    ([], ("DEL", "missing")),
    ([], ("UNLINK", "missing", "other")),
    ([("SET", "k", "v")], ("TOUCH", "k")),
    ([("SET", "k", "v")], ("EXISTS", "k")),
    ([], ("EXPIRE", "missing", "10")),
    ([("SET", "k", "v", "EX", "10")], ("EXPIRE", "k", "10", "NX")),
    ([("SET", "k", "v")], ("EXPIRE", "k", "10", "XX")),
    ([("SET", "k", "v")], ("PERSIST", "k")),
    ([("SET", "k", "v")], ("RENAME", "k", "k")),
    ([("SET", "k", "v"), ("SET", "j", "v")], ("RENAMENX", "k", "j")),
    ([("SET", "k", "v")], ("MOVE", "missing", "1")),
    ([("SET", "k", "v")], ("COPY", "k", "k", "DB", "x")),
    ([("SET", "k", "v"), ("SET", "j", "v")], ("COPY", "k", "j")),
    ([("SET", "k", "v")], ("KEYS", "*")),
    ([("SET", "k", "v")], ("SCAN", "0")),
    ([("SET", "k", "v")], ("OBJECT", "ENCODING", "k")),
])
def test_noops_change_nothing(both, setup, command):
    for srv in both:
        session(srv, setup)
        before = changes(srv)
        one(srv, *command)
        assert changes(srv) == before, f"{command!r} counted as a change"


@pytest.mark.parametrize("setup,command", [
    ([("SET", "k", "v")], ("DEL", "k", "missing")),
    ([("SET", "k", "v")], ("UNLINK", "k")),
    ([("SET", "k", "v")], ("EXPIRE", "k", "10")),
    ([("SET", "k", "v")], ("EXPIRE", "k", "-10")),
    ([("SET", "k", "v", "EX", "10")], ("PERSIST", "k")),
    ([("SET", "k", "v")], ("RENAME", "k", "j")),
    ([("SET", "k", "v")], ("RENAMENX", "k", "j")),
    ([("SET", "k", "v")], ("MOVE", "k", "1")),
    ([("SET", "k", "v")], ("COPY", "k", "j", "DB", "2")),
    ([], ("SWAPDB", "0", "1")),
])
def test_changes_count(both, setup, command):
    for srv in both:
        session(srv, setup)
        before = changes(srv)
        one(srv, *command)
        assert changes(srv) == before + 1, f"{command!r} did not count as one change"


# ------------------------------------------------------------ COMMAND INFO

KEY_COMMANDS = ["del", "unlink", "exists", "type", "keys", "scan", "randomkey", "rename",
                "renamenx", "touch", "expire", "pexpire", "expireat", "pexpireat", "ttl",
                "pttl", "expiretime", "pexpiretime", "persist", "swapdb", "move", "copy",
                "object"]


def command_head(entry):
    """Name, arity, flags (as a set), first key, last key, step."""
    return [entry[0], entry[1], sorted(entry[2]), entry[3], entry[4], entry[5]]


@pytest.mark.parametrize("name", KEY_COMMANDS)
def test_command_info_matches_redis(both, name):
    t, r = both
    got = one(t, "COMMAND", "INFO", name)[0]
    want = one(r, "COMMAND", "INFO", name)[0]
    assert command_head(got) == command_head(want)
    # Subcommands (OBJECT's) come as the tenth element.
    got_subs = sorted(command_head(e) for e in got[9]) if len(got) > 9 else []
    want_subs = sorted(command_head(e) for e in want[9]) if len(want) > 9 else []
    assert got_subs == want_subs

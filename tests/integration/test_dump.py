"""DUMP and RESTORE, compared with Debian's redis-server 7.0: the payload
bytes of the same value (integers of every width, short, long, compressible
and incompressible strings, with rdbcompression on and off), RESTORE's
errors and their order, payloads carried both ways between the servers,
REPLACE, ABSTTL, IDLETIME and FREQ, TTLs already past, which RESTOREs count
as changes, and corrupted payloads: every byte of several payloads flipped
in turn (with the checksum left as it was, then recomputed so the decoder
sees the damage) gives the same reply as Redis, always an error or a value
Redis agrees on, and never a crash. The one difference: Redis takes an LZF
string announcing an original length of 0 as empty whatever its data, and
tandem refuses it.
"""
import random

import pytest

from conftest import crc64, info_fields, one, same_replies, server_pair, session

DEBUG_ON = ["--enable-debug-command", "yes"]
FAR_FUTURE_MS = 4102444800000  # 2100-01-01

def with_footer(body, version=10):
    """A payload: body, the 2-byte version and a correct CRC-64."""
    head = body + version.to_bytes(2, "little")
    return head + crc64(head).to_bytes(8, "little")


LZF_STRING = b"\x00\xc3"  # a string value, LZF-compressed


def read_len(data, at):
    """An RDB length at data[at], read as Redis reads one where no special
    encoding is expected (11xxxxxx counts as a 6-bit length): (value,
    offset after it), or (None, at) past the end."""
    if at >= len(data):
        return None, at
    b = data[at]
    if b >> 6 in (0, 3):
        return b & 0x3F, at + 1
    if b >> 6 == 1:
        return (((b & 0x3F) << 8) | data[at + 1], at + 2) if at + 1 < len(data) else (None, at)
    width = 4 if b == 0x80 else 8
    if at + 1 + width > len(data):
        return None, at
    return int.from_bytes(data[at + 1:at + 1 + width], "big"), at + 1 + width


def lzf_original_length(payload):
    _, at = read_len(payload, 2)  # the compressed length
    return read_len(payload, at)[0]


def redis_takes_as_empty(payload):
    """Whether Redis reads payload as an empty string though its data is
    damaged: an LZF string announcing an original length of 0 (Redis also
    reads a 11xxxxxx byte there as a 6-bit length) passes its decompressor
    whatever follows. tandem refuses such a payload."""
    if not payload.startswith(LZF_STRING):
        return False
    _, at = read_len(payload, 2)
    return read_len(payload, at)[0] == 0


def refooter(payload):
    """The same payload with its CRC recomputed over what precedes it."""
    head = payload[:-8]
    return head + crc64(head).to_bytes(8, "little")


_rng = random.Random(1234)
INCOMPRESSIBLE = bytes(_rng.randrange(256) for _ in range(1000))

VALUES = [
    b"", b"a", b"hello", b"0", b"1", b"-1", b"127", b"128", b"-128", b"-129", b"255",
    b"32767", b"32768", b"-32768", b"-32769", b"2147483647", b"2147483648", b"-2147483648",
    b"-2147483649", b"12345678901", b"9223372036854775807", b"-9223372036854775808",
    b"9223372036854775808", b"007", b"-0", b"+1", b" 1", b"1.5", b"1e3",
    b"x" * 20, b"x" * 21, b"ab" * 11, b"x" * 44, b"x" * 45, b"x" * 100, b"abc" * 1000,
    bytes(range(256)), b"x" * 16384, b"y" * 70000, INCOMPRESSIBLE, b"hello world " * 50,
    b"\x00\xff\r\n" * 8,
]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """One tandem and one redis-server with DEBUG enabled, shared by the
    tests of this module (each test starts from FLUSHALL)."""
    with server_pair(tmp_path_factory, DEBUG_ON) as p:
        yield p


def dirty(srv):
    return int(info_fields(srv, "persistence")["rdb_changes_since_last_save"])


def alive(srv):
    return srv.alive() and one(srv, "PING") == "PONG"


def assert_same_payload(pt, pr, value):
    """tandem's payload pt is byte for byte Redis's pr, except that where
    both LZF-compress, tandem's compressor is its own and the bytes may
    differ (each side's decoder reads the other's: see the cross-restore
    tests); the original length must then agree."""
    if pr.startswith(LZF_STRING):
        assert pt.startswith(LZF_STRING), f"payload of {value[:40]!r}"
        assert lzf_original_length(pt) == lzf_original_length(pr) == len(value)
    else:
        assert pt == pr, f"payload of {value[:40]!r}"


# ------------------------------------------------------------ DUMP


@pytest.mark.parametrize("compression", ["yes", "no"])
def test_dump_payload_bytes_match_redis(both, compression):
    t, r = both
    for srv in both:
        assert one(srv, "CONFIG", "SET", "rdbcompression", compression) == "OK"
    try:
        for i, v in enumerate(VALUES):
            key = f"k{i}"
            same_replies(t, r, [("SET", key, v)])
            assert_same_payload(one(t, "DUMP", key), one(r, "DUMP", key), v)
    finally:
        for srv in both:
            one(srv, "CONFIG", "SET", "rdbcompression", "yes")


def test_dump_of_values_made_by_other_commands(both):
    """Integer-encoded (INCR), raw (APPEND, SETRANGE) and expiring values
    serialize as Redis serializes them; the TTL is not in the payload."""
    t, r = both
    same_replies(t, r, [
        ("INCR", "n"), ("INCRBY", "big", "5000000000"), ("SET", "raw", "12"),
        ("APPEND", "raw", "3"), ("SETRANGE", "sr", "3", "abc"), ("SET", "ttl", "v", "EX", "100"),
        ("APPEND", "long", "z" * 64),
    ])
    for key in ("n", "big", "raw", "sr", "ttl", "long"):
        assert_same_payload(one(t, "DUMP", key), one(r, "DUMP", key), one(r, "GET", key))


def test_dump_missing_key_and_arity(both):
    t, r = both
    same_replies(t, r, [
        ("DUMP", "nope"), ("DUMP",), ("DUMP", "a", "b"),
        ("SET", "gone", "v", "PX", "1"), ("DEBUG", "SLEEP", "0.01"), ("DUMP", "gone"),
    ])


def test_dump_counts_keyspace_hits_and_misses(both):
    for srv in both:
        one(srv, "CONFIG", "RESETSTAT")
        one(srv, "SET", "k", "v")
        one(srv, "DUMP", "k")
        one(srv, "DUMP", "nope")
    t, r = (info_fields(srv, "stats") for srv in both)
    for field in ("keyspace_hits", "keyspace_misses"):
        assert t[field] == r[field] == "1", field


# ------------------------------------------------------------ RESTORE errors


def test_restore_errors_and_their_order(both):
    t, r = both
    one(r, "SET", "src", "hello")
    p = one(r, "DUMP", "src")
    same_replies(t, r, [
        ("SET", "a", "v"),
        ("RESTORE", "a", "0", p),
        ("RESTORE", "a", "-1", p),
        ("RESTORE", "a", "0", p, "bogus"),
        ("RESTORE", "z", "-1", p),
        ("RESTORE", "z", "abc", p),
        ("RESTORE", "z", "1.5", p),
        ("RESTORE", "z", "-1", "junk"),
        ("RESTORE", "z", "0", "junk"),
        ("RESTORE", "z", "0", ""),
        ("RESTORE", "z", "0", p[:-1]),
        ("RESTORE", "z", "0", p[:9]),
        ("RESTORE", "z", "0", p, "foo"),
        ("RESTORE", "z", "0", p, "IDLETIME"),
        ("RESTORE", "z", "0", p, "FREQ"),
        ("RESTORE", "z", "0", p, "IDLETIME", "-1"),
        ("RESTORE", "z", "0", p, "IDLETIME", "abc"),
        ("RESTORE", "z", "0", p, "IDLETIME", "1", "FREQ", "2"),
        ("RESTORE", "z", "0", p, "FREQ", "1", "IDLETIME", "2"),
        ("RESTORE", "z", "0", p, "FREQ", "256"),
        ("RESTORE", "z", "0", p, "FREQ", "-1"),
        ("RESTORE", "z", "0", p, "FREQ", "x"),
        ("RESTORE", "z", "0", p, "REPLACE", "extra"),
        ("RESTORE", "z", "0"),
        ("RESTORE", "z"),
        ("EXISTS", "z"),
        ("RESTORE", "a", "-1", p, "REPLACE"),
        ("GET", "a"),
    ])
    assert alive(t)


def test_restore_footer_checks(both):
    """The version may be anything up to 10; the CRC is always checked, a
    zero one included; bytes between the value and the footer are ignored."""
    t, r = both
    good = b"\x00\x05hello"
    cases = [
        with_footer(good, 10), with_footer(good, 9), with_footer(good, 1), with_footer(good, 0),
        with_footer(good, 11), with_footer(good, 0x100 + 10), with_footer(good, 0xFFFF),
        with_footer(good)[:-8] + bytes(8),
        with_footer(good + b"trailing garbage"),
        with_footer(b"\x00\xc0\x05"), with_footer(b"\x00\xc1\x39\x30"),
        with_footer(b"\x00\xc2\x15\xcd\x5b\x07"),
    ]
    for i, p in enumerate(cases):
        same_replies(t, r, [("RESTORE", f"k{i}", "0", p), ("GET", f"k{i}"),
                            ("OBJECT", "ENCODING", f"k{i}")])


def test_restore_bad_data_format(both):
    """Payloads with a correct footer whose value does not decode."""
    t, r = both
    bodies = [
        b"",                                   # the type is read from the footer
        b"\x00",                               # no string
        b"\x00\x05hel",                        # reads into the footer, short
        b"\x00\x3f",                           # longer than the whole payload
        b"\x00\x80\xff\xff\xff\xff",           # 32-bit length past the end
        b"\x00\x81\x7f\xff\xff\xff\xff\xff\xff\xff",  # 64-bit length past the end
        b"\x00\x82",                           # undefined length form
        b"\x00\xc4",                           # undefined special encoding
        b"\x00\xc1\x01",                       # short int16
        b"\x00\xc2\x01\x02",                   # short int32
        b"\x00\xc3\x05\x0a\x01ab",             # LZF: data shorter than announced
        b"\x00\xc3\x02\x0a\x01ab",             # LZF: output shorter than announced
        b"\x00\xc3\x03\x05\x20\x00\x00",       # LZF: back reference before the start
        b"\x00\xc3\x04\x03\x02abc",            # LZF: longer output than announced
        b"\xff\x05hello", b"\xf5\x05hello", b"\x08\x05hello", b"\x15\x05hello",
        b"\x14\x05hello",                      # type 20 (Redis 7.2's stream): unknown to 7.0
    ]
    for i, body in enumerate(bodies):
        p = with_footer(body)
        rt, rr = one(t, "RESTORE", f"k{i}", "0", p), one(r, "RESTORE", f"k{i}", "0", p)
        assert rt == rr, f"body {body!r}: tandem {rt!r} != redis {rr!r}"
    assert alive(t)


def test_lzf_announcing_nothing_is_refused(both):
    """The one known difference: Redis takes an LZF string whose original
    length is 0 as an empty string, whatever its compressed bytes; tandem
    refuses it, as it refuses every LZF string that does not decompress to
    exactly the announced length."""
    t, r = both
    for body in (b"\x00\xc3\x00\x00", b"\x00\xc3\x02\x00\x01ab", b"\x00\xc3\x02\xc0\x01ab"):
        p = with_footer(body)
        assert redis_takes_as_empty(p)
        assert session(r, [("RESTORE", "k", "0", p, "REPLACE"), ("GET", "k")]) == ["OK", b""]
        assert one(t, "RESTORE", "k", "0", p, "REPLACE") == "ERR Bad data format"


# ------------------------------------------------------------ both directions


def test_redis_payloads_restore_in_tandem(both):
    t, r = both
    for i, v in enumerate(VALUES):
        key = f"k{i}"
        one(r, "SET", key, v)
        p = one(r, "DUMP", key)
        assert one(t, "RESTORE", key, "0", p) == "OK", f"value {v[:40]!r}"
        assert one(t, "GET", key) == v
        assert one(t, "OBJECT", "ENCODING", key) == one(r, "OBJECT", "ENCODING", key)
    assert one(t, "DEBUG", "DIGEST") == one(r, "DEBUG", "DIGEST")


@pytest.mark.parametrize("compression", ["yes", "no"])
def test_tandem_payloads_restore_in_redis(both, compression):
    t, r = both
    one(t, "CONFIG", "SET", "rdbcompression", compression)
    try:
        for i, v in enumerate(VALUES):
            key = f"k{i}"
            one(t, "SET", key, v)
            p = one(t, "DUMP", key)
            assert one(r, "RESTORE", key, "0", p) == "OK", f"value {v[:40]!r}"
            assert one(r, "GET", key) == v
    finally:
        one(t, "CONFIG", "SET", "rdbcompression", "yes")
    assert one(t, "DEBUG", "DIGEST") == one(r, "DEBUG", "DIGEST")


def test_restore_binary_key_and_round_trip(both):
    t, r = both
    key = b"\x00key\xff\r\n"
    same_replies(t, r, [("SET", key, "v" * 12)])
    p = one(t, "DUMP", key)
    same_replies(t, r, [
        ("DEL", key), ("RESTORE", key, "0", p), ("GET", key), ("DUMP", key),
        ("RESTORE", key, "0", p), ("RESTORE", key, "0", p, "REPLACE"), ("DBSIZE",),
    ])


# ------------------------------------------------------------ options


def test_restore_ttls(both):
    t, r = both
    p = same_replies(t, r, [("SET", "src", "value"), ("DUMP", "src")])[1]
    same_replies(t, r, [
        ("RESTORE", "rel", "100000", p), ("TTL", "rel"),
        ("RESTORE", "abs", str(FAR_FUTURE_MS), p, "ABSTTL"), ("PEXPIRETIME", "abs"),
        ("RESTORE", "none", "0", p), ("TTL", "none"),
        ("RESTORE", "none0", "0", p, "ABSTTL"), ("TTL", "none0"),
        ("SET", "old", "x", "EX", "500"),
        ("RESTORE", "old", "0", p, "REPLACE"), ("TTL", "old"), ("GET", "old"),
        ("RESTORE", "old", "200000", p, "REPLACE", "ABSTTL"), ("GET", "old"),
        ("RESTORE", "past", "1", p, "ABSTTL"), ("EXISTS", "past"),
        ("SET", "victim", "x"),
        ("RESTORE", "victim", "1", p, "ABSTTL", "REPLACE"), ("EXISTS", "victim"),
        ("RESTORE", "huge", "9223372036854775807", p), ("EXISTS", "huge"),
        ("RESTORE", "hugeabs", "9223372036854775807", p, "ABSTTL"), ("PEXPIRETIME", "hugeabs"),
        ("DBSIZE",),
    ])
    pt = one(t, "PTTL", "rel")
    assert 90000 < pt <= 100000


def test_restore_changes_counted_as_redis(both):
    """A stored key is one change; a TTL already past deleting the old key
    (REPLACE) is one; storing nothing or failing is none."""
    t, r = both
    one(r, "SET", "src", "v")
    p = one(r, "DUMP", "src")
    steps = [
        ("RESTORE", "a", "0", p),
        ("RESTORE", "a", "0", p),
        ("RESTORE", "a", "0", p, "REPLACE"),
        ("RESTORE", "b", "1", p, "ABSTTL"),
        ("RESTORE", "b", "1", p, "ABSTTL", "REPLACE"),
        ("RESTORE", "a", "1", p, "ABSTTL", "REPLACE"),
        ("RESTORE", "c", "0", with_footer(b"\x00\x3f")),
        ("RESTORE", "c", "100000", p),
    ]
    for step in steps:
        before = (dirty(t), dirty(r))
        same_replies(t, r, [step])
        assert dirty(t) - before[0] == dirty(r) - before[1], f"changes of {step!r}"


def test_restore_idletime_and_freq(both):
    t, r = both
    one(r, "SET", "src", "v")
    p = one(r, "DUMP", "src")
    same_replies(t, r, [
        ("RESTORE", "idle", "0", p, "IDLETIME", "1000"),
        ("RESTORE", "idle0", "0", p, "IDLETIME", "0"),
        ("RESTORE", "freq", "0", p, "FREQ", "5"),
        ("RESTORE", "both", "0", p, "IDLETIME", "7", "REPLACE", "ABSTTL"),
        ("RESTORE", "far", "0", p, "IDLETIME", "100000000"),
        ("OBJECT", "FREQ", "freq"),
    ])
    for key, lo, hi in (("idle", 1000, 1001), ("idle0", 0, 1), ("both", 7, 8), ("freq", 0, 1)):
        assert lo <= one(t, "OBJECT", "IDLETIME", key) <= hi, key
    it, ir = one(t, "OBJECT", "IDLETIME", "far"), one(r, "OBJECT", "IDLETIME", "far")
    assert abs(it - ir) <= 2


def test_command_info_matches(both):
    t, r = both
    cmd = ("COMMAND", "INFO", "dump", "restore")
    for ti, ri in zip(one(t, *cmd), one(r, *cmd)):
        assert ti[:6] == ri[:6]


# ------------------------------------------------------------ corruption


def sample_payloads(r):
    out = []
    for v in (b"hello", b"1234", b"-70000", b"x" * 100, bytes(range(64)), b"abcdefgh" * 8):
        one(r, "SET", "src", v)
        out.append(one(r, "DUMP", "src"))
    return out


@pytest.mark.parametrize("flip", [0xFF, 0x01, 0x80])
def test_every_byte_flipped_keeps_the_checksum_error(both, flip):
    t, r = both
    for p in sample_payloads(r):
        cmds = []
        for i in range(len(p)):
            bad = bytearray(p)
            bad[i] ^= flip
            cmds.append(("RESTORE", "k", "0", bytes(bad)))
        same_replies(t, r, cmds)
    assert alive(t)


@pytest.mark.parametrize("flip", [0xFF, 0x01, 0x80, 0x40])
def test_every_body_byte_flipped_with_a_good_checksum(both, flip):
    """The decoder itself meets the damage: the reply (an error, or a value)
    is Redis's for every string payload; any other type byte is refused."""
    t, r = both
    for p in sample_payloads(r):
        for i in range(len(p) - 8):
            bad = bytearray(p)
            bad[i] ^= flip
            bad = refooter(bytes(bad))
            if bad[0] != 0 or redis_takes_as_empty(bad):
                assert one(t, "RESTORE", "k", "0", bad) == "ERR Bad data format"
                continue
            same_replies(t, r, [("RESTORE", "k", "0", bad, "REPLACE"), ("GET", "k"),
                                ("OBJECT", "ENCODING", "k"), ("DEL", "k")])
    assert alive(t)

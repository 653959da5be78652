"""The RDB format at the byte level, compared with Debian's redis-server 7.0.

A small parser below reads a dump into its parts (aux fields, databases with
their RESIZEDB sizes, and each key's record as the raw bytes of its encoded
key and value). The same dataset saved by tandem and by redis-server gives
the same aux fields in the same order and, without compression, byte for
byte the same records; with compression, the same strings are LZF-encoded
and decode the same. The committed fixture that redis-server wrote
(tests/fixtures/redis-7.0.rdb) loads at start-up with Redis's log lines. A
dump holding a type tandem does not have yet is refused naming the type and
the offset of its type byte, and the other load errors carry Redis's wording
and the right offset. rdbchecksum no writes a zero checksum that both
servers accept.
"""
import re
import shutil
import subprocess

import pytest

from conftest import REPO, RedisServer, session

FIXTURE = REPO / "tests" / "fixtures" / "redis-7.0.rdb"
REDIS_CHECK_RDB = "/usr/bin/redis-check-rdb"
DEBUG_ON = ["--enable-debug-command", "yes"]
FAR_FUTURE_MS = 4102444800000  # 2100-01-01
CRC64_POLY = 0x95AC9329AC4BC9B5  # Jones, reflected

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ CRC64_POLY if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc64(data):
    crc = 0
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def one(srv, *cmd):
    return session(srv, [cmd])[0]


# ------------------------------------------------------------ parser


def lzf_decompress(data, ulen):
    out = bytearray()
    i = 0
    while i < len(data):
        ctrl = data[i]
        i += 1
        if ctrl < 32:
            out += data[i:i + ctrl + 1]
            i += ctrl + 1
            continue
        n = ctrl >> 5
        if n == 7:
            n += data[i]
            i += 1
        ref = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
        i += 1
        for _ in range(n + 2):
            out.append(out[ref])
            ref += 1
    assert len(out) == ulen
    return bytes(out)


class Reader:
    """Reads a string-only RDB file, keeping the raw bytes of each string."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        assert self.pos + n <= len(self.data), "short file"
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def byte(self):
        return self.take(1)[0]

    def length(self):
        """(value, special): special is the encoding of an 11xxxxxx form."""
        b = self.byte()
        kind = b >> 6
        if kind == 0:
            return b & 0x3F, None
        if kind == 1:
            return ((b & 0x3F) << 8) | self.byte(), None
        if kind == 3:
            return None, b & 0x3F
        assert b in (0x80, 0x81), f"bad length byte {b:#x}"
        return int.from_bytes(self.take(4 if b == 0x80 else 8), "big"), None

    def string(self):
        """(raw encoded bytes, decoded value)."""
        start = self.pos
        n, special = self.length()
        if special is None:
            value = self.take(n)
        elif special in (0, 1, 2):
            size = 1 << special
            value = str(int.from_bytes(self.take(size), "little", signed=True)).encode()
        else:
            assert special == 3, f"encoding {special}"
            clen, _ = self.length()
            ulen, _ = self.length()
            value = lzf_decompress(self.take(clen), ulen)
        return self.data[start:self.pos], value


def parse(data):
    """{"version", "aux": [(key, value)], "dbs": {db: {"resize": (n, e),
    "keys": {key: (expire, type, raw key, raw value, value)}}}, "crc_ok"}."""
    assert data[:5] == b"REDIS"
    r = Reader(data)
    r.take(9)
    out = {"version": int(data[5:9]), "aux": [], "dbs": {}}
    db, expire = None, None
    while True:
        op = r.byte()
        if op == 0xFF:
            out["crc_ok"] = int.from_bytes(r.take(8), "little") in (0, crc64(data[:r.pos - 8]))
            return out
        if op == 0xFA:
            key = r.string()[1]
            out["aux"].append((key.decode(), r.string()))
        elif op == 0xFE:
            db = r.length()[0]
            out["dbs"][db] = {"keys": {}}
        elif op == 0xFB:
            out["dbs"][db]["resize"] = (r.length()[0], r.length()[0])
        elif op == 0xFC:
            expire = int.from_bytes(r.take(8), "little")
        else:
            assert op == 0, f"type {op}"
            raw_key, key = r.string()
            raw_val, val = r.string()
            out["dbs"][db]["keys"][key] = (expire, op, raw_key, raw_val, val)
            expire = None


# ------------------------------------------------------------ datasets


INTS = [0, 1, -1, 127, 128, -128, -129, 32767, 32768, -32768, -32769, 2147483647,
        2147483648, -2147483648, -2147483649, 9223372036854775807, -9223372036854775808]


def dataset():
    cmds = [("SET", f"int:{v}", v) for v in INTS]
    cmds += [("SET", "lead0", "007"), ("SET", "minus0", "-0"), ("SET", "space", " 1"),
             ("SET", "twenty", "a" * 20), ("SET", "twentyone", "a" * 21),
             ("SET", "text", "the quick brown fox " * 30), ("SET", "zeros", "\0" * 3000),
             ("SET", "noise", bytes((i * 151 + 17) % 256 for i in range(100))),
             ("SET", "appended", "12"), ("APPEND", "appended", "3"), ("INCRBY", "counter", 41),
             ("SET", "a key longer than twenty bytes " * 3, "v"),
             ("SET", b"\x00bin\xff", b"\x01\x00"), ("SET", "big", "0123456789" * 2000)]
    cmds += [("SET", f"exp:{i}", f"v{i}", "PXAT", FAR_FUTURE_MS + i) for i in range(10)]
    for db in (1, 7, 15):
        cmds += [("SELECT", db)] + [("SET", f"k{db}:{i}", i * db) for i in range(5)]
        cmds.append(("SET", f"t{db}", "x", "PXAT", FAR_FUTURE_MS))
    return cmds


def fill(srv, cmds):
    for reply in session(srv, cmds):
        assert not isinstance(reply, Exception), reply


def saved(srv):
    assert one(srv, "SAVE") == "OK"
    return (srv.dir / "dump.rdb").read_bytes()


def both_dumps(make_tandem, make_redis, args):
    t = make_tandem(DEBUG_ON + args)
    r = make_redis(DEBUG_ON + args)
    fill(t, dataset())
    fill(r, dataset())
    return parse(saved(t)), parse(saved(r))


# ------------------------------------------------------------ tests


def test_same_records_as_redis_without_compression(make_tandem, make_redis):
    ours, theirs = both_dumps(make_tandem, make_redis, ["--rdbcompression", "no"])
    assert ours["version"] == theirs["version"] == 10
    assert ours["crc_ok"] and theirs["crc_ok"]
    assert [k for k, _ in ours["aux"]] == [k for k, _ in theirs["aux"]]
    assert dict(ours["aux"])["redis-ver"] == dict(theirs["aux"])["redis-ver"]
    assert dict(ours["aux"])["redis-bits"] == dict(theirs["aux"])["redis-bits"]
    assert sorted(ours["dbs"]) == sorted(theirs["dbs"]) == [0, 1, 7, 15]
    for db in theirs["dbs"]:
        assert ours["dbs"][db]["resize"] == theirs["dbs"][db]["resize"]
        assert ours["dbs"][db]["keys"] == theirs["dbs"][db]["keys"], f"db {db}"


def test_same_strings_compressed_as_redis(make_tandem, make_redis):
    ours, theirs = both_dumps(make_tandem, make_redis, [])
    for db in theirs["dbs"]:
        mine, redis = ours["dbs"][db]["keys"], theirs["dbs"][db]["keys"]
        assert sorted(mine) == sorted(redis)
        for key, (expire, typ, raw_key, raw, value) in redis.items():
            m_expire, m_typ, m_raw_key, m_raw, m_value = mine[key]
            assert (m_expire, m_typ, m_value) == (expire, typ, value)
            # The same choice of LZF or not; the compressed bytes may differ.
            for ours_raw, theirs_raw in ((m_raw_key, raw_key), (m_raw, raw)):
                assert (ours_raw[0] == 0xC3) == (theirs_raw[0] == 0xC3), key
                if theirs_raw[0] != 0xC3:
                    assert ours_raw == theirs_raw, key
    compressed = [k for k, v in ours["dbs"][0]["keys"].items() if v[3][0] == 0xC3]
    assert sorted(compressed) == [b"big", b"text", b"twentyone", b"zeros"]


def test_redis_fixture_loads_at_startup(make_tandem):
    t = make_tandem(start=False)
    shutil.copyfile(FIXTURE, t.dir / "dump.rdb")
    t.start(DEBUG_ON)
    t.wait_for_log(r"Loading RDB produced by version 7\.0\.15")
    t.wait_for_log(r"RDB age \d+ seconds")
    t.wait_for_log(r"RDB memory usage when created \d+\.\d\d Mb")
    t.wait_for_log(r"Done loading RDB, keys loaded: 50, keys expired: 1\.")
    c = t.client(decode_responses=False)
    assert c.get("int:huge") == b"12345678901234"
    assert c.object("encoding", "int:big") == b"int"
    assert c.get("long") == b"abc" * 100
    assert c.get("big") == b"The quick brown fox 3. " * 800
    assert c.get(b"bin\x00\xffkey") == b"\x01\x02\x00\x03"
    assert c.pexpiretime("exp:future") == FAR_FUTURE_MS
    assert c.exists("exp:soon") == 0
    assert [session(t, [("SELECT", db), ("DBSIZE",)])[1] for db in range(1, 16)] == \
        [3 if db % 3 == 0 else 2 for db in range(1, 16)]


def start_refused(make_tandem, data):
    """Starts tandem on data: it must exit 1 leaving the file as it was.
    Returns the log."""
    t = make_tandem(start=False)
    path = t.dir / "dump.rdb"
    path.write_bytes(data)
    t.spawn()
    assert t.wait_exit(30) == 1
    assert path.read_bytes() == data
    return t.read_log()


UNSUPPORTED = {
    "hash": ([("HSET", "key", "f", "v")], 16, "hash-listpack", "hashes"),
    "list": ([("RPUSH", "key", "a", "b")], 18, "list-quicklist-2", "lists"),
    "set": ([("SADD", "key", 1, 2, 3)], 11, "set-intset", "sets"),
    "zset": ([("ZADD", "key", 1, "a")], 17, "zset-listpack", "sorted sets"),
    "stream": ([("XADD", "key", "*", "f", "v")], 19, "stream-listpacks-2", "streams"),
}


@pytest.fixture(scope="module")
def redis_type_dumps(tmp_path_factory):
    """For each type: the dump redis-server writes of a string and one key
    of that type."""
    r = RedisServer(tmp_path_factory.mktemp("types"))
    dumps = {}
    try:
        r.start()
        for name, (cmds, *_ignored) in UNSUPPORTED.items():
            fill(r, [("FLUSHALL",), ("SET", "a", "b")] + cmds)
            dumps[name] = saved(r)
    finally:
        r.stop()
    return dumps


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_types_not_yet_supported_are_named(make_tandem, redis_type_dumps, name):
    _, type_id, type_name, plural = UNSUPPORTED[name]
    data = redis_type_dumps[name]
    log = start_refused(make_tandem, data)
    text = (re.escape(f"Unsupported value type {type_id} ({type_name}) at offset ") + r"(\d+)" +
            re.escape(f": this tandem does not have {plural} yet"))
    m = re.search(text, log)
    assert m, log
    assert data[int(m.group(1))] == type_id


def test_load_errors_have_redis_wording_and_offsets(make_tandem):
    t = make_tandem(DEBUG_ON)
    fill(t, [("SET", "k", "v"), ("SET", "n", 5)])
    good = saved(t)
    t.stop()
    cases = [
        (b"", "Short read or empty file: unexpected EOF reading RDB file at offset 0"),
        (b"REDIX" + good[5:], "Wrong signature trying to load DB from file at offset 0"),
        (b"REDIS0012" + good[9:], "Can't handle RDB format version 12 at offset 5"),
        (good[:-3], f"Unexpected EOF reading RDB file at offset {len(good) - 8}"),
    ]
    bad = bytearray(good)
    i = good.index(b"7.0.15")
    bad[i] ^= 1
    cases.append((bytes(bad), f"Wrong RDB checksum expected: ({crc64(bytes(bad[:-8])):x}) but got "
                              f"({crc64(good[:-8]):x}) at offset {len(good) - 8}"))
    body = good[:-9] + b"\x00\x01k\x01w\xff"
    dup_at = len(good) - 9
    cases.append((body + crc64(body).to_bytes(8, "little"),
                  f"RDB has duplicated key 'k' in DB 0 at offset {dup_at}"))
    for data, message in cases:
        log = start_refused(make_tandem, data)
        assert f"Fatal error loading the DB: {message}. Exiting." in log, (message, log[-2000:])


def test_checksum_disabled(make_tandem, make_redis):
    t = make_tandem(DEBUG_ON + ["--rdbchecksum", "no"])
    fill(t, dataset())
    digest = one(t, "DEBUG", "DIGEST")
    data = saved(t)
    assert data.endswith(b"\x00" * 8)
    out = subprocess.run([REDIS_CHECK_RDB, str(t.dir / "dump.rdb")], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    t.stop()
    t.start(DEBUG_ON)  # with rdbchecksum no: nothing to check
    assert one(t, "DEBUG", "DIGEST") == digest
    t2 = make_tandem(start=False)  # rdbchecksum yes: a zero checksum is "not computed"
    shutil.copyfile(t.dir / "dump.rdb", t2.dir / "dump.rdb")
    t2.start(DEBUG_ON)
    t2.wait_for_log("RDB file was saved with checksum disabled: no check performed.")
    assert one(t2, "DEBUG", "DIGEST") == digest
    r = make_redis(start=False)
    shutil.copyfile(t.dir / "dump.rdb", r.dir / "dump.rdb")
    r.start(DEBUG_ON)
    r.wait_for_log("RDB file was saved with checksum disabled: no check performed.")
    assert one(r, "DEBUG", "DIGEST") == digest

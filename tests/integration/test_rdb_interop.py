"""RDB files exchanged with Debian's redis-server 7.0 and redis-check-rdb.

tandem's dumps of several datasets (empty, all 16 databases, integers of
every width, long compressible values, expiries, binary keys, a populated
mix) pass redis-check-rdb, and redis-server loads them with every key, value
and expiry intact: DEBUG DIGEST (which covers values and expiry times) of
the tandem that saved equals that of the redis that loaded, and so does
every key's PEXPIRETIME. The other way, tandem loads a dump written by
redis-server with everything intact. Finally a table of damaged dumps
(truncations, bit flips, a wrong checksum, unknown type bytes, huge
lengths, bad headers) is refused by tandem at start-up: exit status 1 (no
signal, no sanitizer report), a message naming the byte offset, and the file
left byte for byte as it was. redis-check-rdb refuses each of them too.

Set TANDEM_RDB_TEST_BIN (e.g. to build/san/tandem-server, built with
`make SANITIZE=address,undefined build/san/tandem-server`) to run the
damaged-dump table against another build.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import crc64, REPO, TANDEM_BIN, TandemServer, session

REDIS_CHECK_RDB = "/usr/bin/redis-check-rdb"
DEBUG_ON = ["--enable-debug-command", "yes"]
FAR_FUTURE_MS = 4102444800000  # 2100-01-01
DATABASES = 16

def one(srv, *cmd):
    return session(srv, [cmd])[0]


# ------------------------------------------------------------ datasets


def ds_empty():
    return []


def ds_sixteen_dbs():
    cmds = []
    for db in range(DATABASES):
        cmds.append(("SELECT", db))
        cmds += [("SET", f"db{db}:k{i}", f"value {db} {i}") for i in range(db + 1)]
    return cmds


INTS = [0, 1, -1, 12, 127, 128, -128, -129, 255, 256, 32767, 32768, -32768, -32769,
        2147483647, 2147483648, -2147483648, -2147483649, 12345678901,
        9223372036854775807, -9223372036854775808]


def ds_ints():
    cmds = [("SET", f"int:{v}", str(v)) for v in INTS]
    cmds += [("SET", "lead0", "007"), ("SET", "minus0", "-0"), ("INCRBY", "counter", 41),
             ("SET", "notint", "9223372036854775808")]
    return cmds


def ds_long_values():
    cmds = [("SET", f"long:{n}", ("abc" * n)[:n]) for n in (20, 21, 22, 64, 1000, 16384, 100000)]
    cmds.append(("SET", "zeros", "\0" * 5000))
    cmds.append(("SET", "text", "the quick brown fox jumps over the lazy dog " * 40))
    return cmds


def ds_expiries():
    cmds = [("SET", f"abs:{i}", f"v{i}", "PXAT", FAR_FUTURE_MS + i) for i in range(20)]
    cmds += [("SET", f"rel:{i}", f"v{i}", "EX", 1000 + i) for i in range(20)]
    cmds += [("SET", "forever", "v"), ("SELECT", 3), ("SET", "db3exp", "v", "PX", 5000000)]
    return cmds


def ds_binary_keys():
    keys = [b"", b"\x00", b"\xff\xfe", b"a\r\nb", bytes(range(256)), b"\x00" * 70, b"k" * 1000]
    return [("SET", k, b"\x00value\xff" + k) for k in keys]


def ds_populated():
    return [("DEBUG", "POPULATE", 20000, "pop", 100), ("SELECT", 9),
            ("DEBUG", "POPULATE", 3000, "nine", 10)]


DATASETS = {
    "empty": ds_empty, "sixteen_dbs": ds_sixteen_dbs, "ints": ds_ints,
    "long_values": ds_long_values, "expiries": ds_expiries, "binary_keys": ds_binary_keys,
    "populated": ds_populated,
}


def fill(srv, cmds):
    for reply in session(srv, cmds):
        assert not isinstance(reply, Exception) and not str(reply).startswith("ERR"), reply


def snapshot(srv):
    """DEBUG DIGEST, and per database the sorted (key, PEXPIRETIME) pairs."""
    state = {"digest": one(srv, "DEBUG", "DIGEST")}
    for db in range(DATABASES):
        keys = session(srv, [("SELECT", db), ("KEYS", "*")])[1]
        if not keys:
            continue
        cmds = [("SELECT", db)] + [("PEXPIRETIME", k) for k in keys]
        state[db] = sorted(zip(keys, session(srv, cmds)[1:]))
    return state


def check_rdb(path):
    out = subprocess.run([REDIS_CHECK_RDB, str(path)], capture_output=True, text=True,
                         errors="replace", timeout=60)
    return out.returncode, out.stdout + out.stderr


def saved_dump(srv):
    assert one(srv, "SAVE") == "OK"
    return srv.dir / "dump.rdb"


# ------------------------------------------------------------ tandem -> redis


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_tandem_dump_checks_and_loads_in_redis(make_tandem, make_redis, name):
    t = make_tandem(DEBUG_ON)
    fill(t, DATASETS[name]())
    expected = snapshot(t)
    path = saved_dump(t)
    rc, out = check_rdb(path)
    assert rc == 0 and "RDB looks OK" in out, out
    r = make_redis(start=False)
    shutil.copyfile(path, r.dir / "dump.rdb")
    r.start(DEBUG_ON)
    assert snapshot(r) == expected
    for db in range(DATABASES):
        assert session(r, [("SELECT", db), ("DBSIZE",)])[1] == \
            session(t, [("SELECT", db), ("DBSIZE",)])[1]


def test_tandem_dump_without_compression_loads_in_redis(make_tandem, make_redis):
    t = make_tandem(DEBUG_ON + ["--rdbcompression", "no"])
    fill(t, ds_long_values())
    expected = snapshot(t)
    path = saved_dump(t)
    assert path.stat().st_size > 100000  # nothing compressed
    rc, out = check_rdb(path)
    assert rc == 0, out
    r = make_redis(start=False)
    shutil.copyfile(path, r.dir / "dump.rdb")
    r.start(DEBUG_ON)
    assert snapshot(r) == expected


# ------------------------------------------------------------ redis -> tandem


def test_redis_dump_loads_in_tandem(make_tandem, make_redis):
    r = make_redis(DEBUG_ON)
    cmds = ds_sixteen_dbs() + [("SELECT", 0)] + ds_ints() + ds_long_values() + \
        ds_binary_keys() + ds_expiries() + [("SELECT", 5)] + ds_populated()
    fill(r, cmds)
    expected = snapshot(r)
    path = saved_dump(r)
    data = path.read_bytes()
    assert data.startswith(b"REDIS0010")
    assert b"\xc3" in data  # LZF strings are in there
    t = make_tandem(start=False)
    shutil.copyfile(path, t.dir / "dump.rdb")
    t.start(DEBUG_ON)
    assert snapshot(t) == expected
    assert (t.dir / "dump.rdb").read_bytes() == data


def test_redis_dump_round_trips_through_tandem(make_tandem, make_redis):
    """redis -> tandem -> redis: the file tandem writes after loading
    Redis's loads back in Redis with the same digest."""
    r = make_redis(DEBUG_ON)
    fill(r, ds_expiries() + ds_long_values() + ds_ints())
    expected = snapshot(r)
    t = make_tandem(start=False)
    shutil.copyfile(saved_dump(r), t.dir / "dump.rdb")
    t.start(DEBUG_ON)
    r2 = make_redis(start=False)
    shutil.copyfile(saved_dump(t), r2.dir / "dump.rdb")
    r2.start(DEBUG_ON)
    assert snapshot(r2) == expected


# ------------------------------------------------------------ damaged dumps


class TandemUnderTest(TandemServer):
    binary = Path(os.environ.get("TANDEM_RDB_TEST_BIN", str(TANDEM_BIN)))
    if not binary.is_absolute():
        binary = REPO / binary


def rdb_len(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    return b"\x80" + n.to_bytes(4, "big")


def rdb_string(s):
    return rdb_len(len(s)) + s


def rdb_file(items, version=b"0010"):
    """A whole file: header, items (raw bytes), EOF and a correct CRC."""
    head = b"REDIS" + version + b"".join(items) + b"\xff"
    return head + crc64(head).to_bytes(8, "little")


GOOD_ITEMS = [
    b"\xfa" + rdb_string(b"redis-ver") + rdb_string(b"7.0.15"),
    b"\xfe\x00", b"\xfb\x02\x01",
    b"\x00" + rdb_string(b"k") + rdb_string(b"v"),
    b"\xfc" + FAR_FUTURE_MS.to_bytes(8, "little") + b"\x00" + rdb_string(b"e") + b"\xc0\x07",
]


def base_dump(tmp_path_factory):
    """A valid dump tandem wrote: two databases, an expiry, an integer, an
    LZF string and plain strings."""
    t = TandemServer(tmp_path_factory.mktemp("base"))
    try:
        t.start()
        fill(t, [("SET", "a", "1"), ("SET", "b", "hello"), ("SET", "c", "x" * 200),
                 ("SET", "d", "v", "PXAT", FAR_FUTURE_MS), ("SELECT", 2), ("SET", "e", "-70000")])
        return saved_dump(t).read_bytes()
    finally:
        t.stop()


def mutations(data):
    """(name, bytes) for every damaged variant of data. (A huge RESIZEDB is
    not among them: it is only a hint, which Redis ignores when it cannot
    follow it.)"""
    out = [("empty file", b""), ("bad magic", b"REDIX" + data[5:]),
           ("version 0", b"REDIS0000" + data[9:]), ("version 12", b"REDIS0012" + data[9:]),
           ("version not digits", b"REDIS00x0" + data[9:]),
           ("wrong checksum", data[:-1] + bytes([data[-1] ^ 1])),
           ("no checksum", data[:-8]),
           ("unknown type 21", rdb_file(GOOD_ITEMS + [b"\x15" + rdb_string(b"k") + b"\x00"])),
           ("unknown type 0xf4", rdb_file(GOOD_ITEMS[:3] + [b"\xf4\x01k\x01v"])),
           ("type 8", rdb_file(GOOD_ITEMS[:3] + [b"\x08\x01k\x01v"])),
           ("huge key length", rdb_file(GOOD_ITEMS[:3] + [b"\x00\x81" + b"\x7f" + b"\xff" * 7])),
           ("huge value length", rdb_file(GOOD_ITEMS[:3] + [b"\x00\x01k\x80\xff\xff\xff\xf0"])),
           ("huge aux", rdb_file([b"\xfa\x80\x7f\xff\xff\xff"])),
           ("bad length form", rdb_file(GOOD_ITEMS[:3] + [b"\x00\x01k\x82"])),
           ("bad special encoding", rdb_file(GOOD_ITEMS[:3] + [b"\x00\x01k\xc5"])),
           ("LZF past its end", rdb_file(GOOD_ITEMS[:3] + [b"\x00\x01k\xc3\x05\x0a\x01ab"])),
           ("LZF bad back reference",
            rdb_file(GOOD_ITEMS[:3] + [b"\x00\x01k\xc3\x03\x05\x20\x00\x00"])),
           ("selectdb past databases", rdb_file(GOOD_ITEMS[:1] + [b"\xfe\x40\x40"])),
           ("eof missing", rdb_file(GOOD_ITEMS)[:-9])]
    step = max(1, len(data) // 150)
    out += [(f"truncated at {n}", data[:n]) for n in range(1, len(data), step)]
    for n in range(0, len(data), step):
        flipped = bytearray(data)
        flipped[n] ^= 1 << (n % 8)
        out.append((f"bit {n % 8} flipped at {n}", bytes(flipped)))
    return out


# redis-check-rdb does not compare SELECTDB with a server's databases;
# redis-server refuses the file at start-up.
CHECK_RDB_LENIENT = {"selectdb past databases"}


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    data = base_dump(tmp_path_factory)
    assert rdb_file(GOOD_ITEMS)  # the builder itself
    return mutations(data)


def test_crafted_good_file_loads(tmp_path):
    """The builder of the damaged files makes good files when undamaged."""
    t = TandemUnderTest(tmp_path / "good")
    (t.dir / "dump.rdb").write_bytes(rdb_file(GOOD_ITEMS))
    try:
        t.start()
        assert one(t, "GET", "k") == b"v"
        assert one(t, "PEXPIRETIME", "e") == FAR_FUTURE_MS
    finally:
        t.stop()


def test_damaged_dumps_are_refused(tmp_path, damaged):
    failures = []
    for i, (name, data) in enumerate(damaged):
        t = TandemUnderTest(tmp_path / f"case{i}")
        path = t.dir / "dump.rdb"
        path.write_bytes(data)
        rc_check, _ = check_rdb(path)
        t.spawn()
        try:
            rc = t.wait_exit(30)
        finally:
            t.stop()
        text = t.read_log() + t.read_stderr()
        problems = []
        if rc_check == 0 and name not in CHECK_RDB_LENIENT:
            problems.append("redis-check-rdb accepts it")
        if rc != 1:
            problems.append(f"exit status {rc}")
        if not re.search(r"offset \d+", text):
            problems.append("no offset in the message")
        if "Sanitizer" in text or "runtime error" in text:
            problems.append("sanitizer report")
        if path.read_bytes() != data:
            problems.append("the file changed")
        if problems:
            failures.append(f"{name}: {', '.join(problems)}\n{text[-600:]}")
    assert not failures, "\n".join(failures)

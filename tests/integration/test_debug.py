"""DEBUG: the enable-debug-command gate (no, yes, local), DIGEST and
DIGEST-VALUE (Redis's SHA-1 dataset digests: the same data in tandem and in
Debian's redis-server 7.0 must give the same hex), POPULATE, OBJECT,
SET-ACTIVE-EXPIRE, SLEEP, HELP and the error texts. Wherever the reply is
deterministic the same commands go to both servers and the replies must be
identical.
"""
import re
import socket
import time

import pytest

from conftest import (RespError, RespReader, encode_command, exchange, info_fields,
                      same_replies, server_pair, session, wait_until)

DEBUG_ON = ["--enable-debug-command", "yes"]
ZERO_DIGEST = "0" * 40
NOT_ALLOWED = ("ERR DEBUG command not allowed. If the enable-debug-command option is set to "
               "\"local\", you can run it from a local connection, otherwise you need to set "
               "this option in the configuration file, and then restart the server.")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """One tandem and one redis-server, both with DEBUG enabled, shared by
    the comparison tests of this module (each test starts from FLUSHALL)."""
    with server_pair(tmp_path_factory, DEBUG_ON) as p:
        yield p


def digest(srv):
    return session(srv, [("DEBUG", "DIGEST")])[0]


def source_bound_connect(port, source_ip):
    """A TCP connection to 127.0.0.1:port from the given local address."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source_ip, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


# ------------------------------------------------------------------ the gate


def test_gate_no_is_the_default_and_matches_redis(tandem, redis_server):
    for srv in (tandem, redis_server):
        for args in (("DEBUG", "DIGEST"), ("DEBUG", "HELP"), ("DEBUG", "NOSUCH"),
                     ("debug", "populate", "10")):
            assert exchange(srv.port, encode_command(*args)) == NOT_ALLOWED
        # The arity check comes first, gate or not.
        assert (exchange(srv.port, encode_command("DEBUG"))
                == "ERR wrong number of arguments for 'debug' command")
    assert exchange(tandem.port, encode_command("DBSIZE")) == 0


def test_gate_yes_allows_every_client(make_tandem):
    srv = make_tandem(DEBUG_ON)
    assert exchange(srv.port, encode_command("DEBUG", "DIGEST")) == ZERO_DIGEST


def test_gate_local_matches_redis(make_tandem, make_redis, tmp_path):
    servers = []
    for i, make in enumerate((make_tandem, make_redis)):
        sock_path = tmp_path / f"s{i}.sock"
        # protected-mode off: it would refuse 127.0.0.2 before DEBUG's gate.
        args = ["--enable-debug-command", "local", "--unixsocket", str(sock_path),
                "--protected-mode", "no"]
        servers.append((make(args), sock_path))
    for srv, sock_path in servers:
        # 127.0.0.1 is local.
        assert exchange(srv.port, encode_command("DEBUG", "DIGEST")) == ZERO_DIGEST
        # Another loopback address is not, for Redis: only 127.0.0.1 and ::1.
        with source_bound_connect(srv.port, "127.0.0.2") as s:
            assert RespReader(s).command("DEBUG", "DIGEST") == NOT_ALLOWED
            assert RespReader(s).command("PING") == "PONG"
        # A Unix socket client is local.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(str(sock_path))
            assert RespReader(s).command("DEBUG", "DIGEST") == ZERO_DIGEST


# ------------------------------------------------------------------- digests

DATASETS = {
    "empty": [],
    "strings": [("SET", "a", "hello"), ("SET", "b", "world"), ("SET", "c", ""),
                ("SET", "", "empty key"), ("SET", "long", "x" * 5000)],
    "ints": [("SET", "i0", "0"), ("SET", "i1", "1"), ("SET", "i2", "9999"),
             ("SET", "i3", "10000"), ("SET", "i4", "-1"), ("SET", "i5", "-9223372036854775808"),
             ("SET", "i6", "9223372036854775807"), ("SET", "s1", "007"), ("SET", "s2", "1.5"),
             ("SET", "s3", "+1"), ("SET", "s4", " 1"), ("SET", "s5", "12345678901234567890"),
             ("SET", "s6", "-0")],
    "ttls": [("SET", "t1", "v", "EX", "1000"), ("SET", "t2", "v"), ("EXPIRE", "t2", "5000"),
             ("SET", "t3", "42", "PX", "100000"), ("SET", "p1", "v"), ("SET", "p2", "42")],
    "several_dbs": [("SET", "a", "1"), ("SELECT", "1"), ("SET", "a", "1"), ("SET", "b", "2"),
                    ("SELECT", "5"), ("SET", "ttl", "x", "EX", "100"), ("SET", "n", "12"),
                    ("SELECT", "15"), ("SET", "last", "db")],
    "only_db_3": [("SELECT", "3"), ("SET", "a", "1"), ("SET", "b", "two")],
    "binary": [("SET", b"k\x00ey", b"v\x00al\xff"), ("SET", b"\r\n", b"\r\n"),
               ("SET", b"\xff\xfe", b"\x00")],
    "populated": [("DEBUG", "POPULATE", "2000"), ("SET", "key:7", "changed"),
                  ("SELECT", "2"), ("DEBUG", "POPULATE", "500", "p", "30"),
                  ("EXPIRE", "p:3", "1000")],
}


def load(srv, commands):
    replies = session(srv, commands)
    for cmd, reply in zip(commands, replies):
        assert not isinstance(reply, RespError), f"{cmd!r} failed on {srv.name}: {reply}"


def db_keys(commands):
    """The keys the dataset's commands write, by database."""
    keys, db = {}, 0
    for cmd in commands:
        if cmd[0] == "SELECT":
            db = int(cmd[1])
        elif cmd[0] in ("SET", "EXPIRE"):
            keys.setdefault(db, set()).add(cmd[1])
    return keys


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_digest_matches_redis(both, name):
    t, r = both
    commands = DATASETS[name]
    for srv in both:
        load(srv, commands)
    expected = digest(r)
    assert re.fullmatch(r"[0-9a-f]{40}", expected)
    assert digest(t) == expected
    if name == "empty":
        assert expected == ZERO_DIGEST
    for db, keys in db_keys(commands).items():
        keys = sorted(keys, key=lambda k: k if isinstance(k, bytes) else k.encode())
        same_replies(t, r, [("SELECT", db), ("DEBUG", "DIGEST-VALUE", *keys, "missing")])


def test_digest_ignores_order_but_not_db(both):
    t, r = both
    pairs = [("k%d" % i, "v%d" % i) for i in range(50)]
    load(t, [("SET", k, v) for k, v in pairs])
    forward = digest(t)
    load(t, [("FLUSHALL",)] + [("SET", k, v) for k, v in reversed(pairs)])
    assert digest(t) == forward
    load(t, [("FLUSHALL",), ("SELECT", "1")] + [("SET", k, v) for k, v in pairs])
    moved = digest(t)
    assert moved != forward
    load(r, [("SELECT", "1")] + [("SET", k, v) for k, v in pairs])
    assert digest(r) == moved


def test_digest_records_that_a_ttl_exists_not_its_value(both):
    t, r = both
    seen = []
    for srv in both:
        load(srv, [("SET", "k", "v")])
        plain = digest(srv)
        load(srv, [("EXPIRE", "k", "100")])
        with_ttl = digest(srv)
        load(srv, [("EXPIRE", "k", "99999")])
        assert with_ttl != plain
        assert digest(srv) == with_ttl
        seen.append((plain, with_ttl))
    assert seen[0] == seen[1]


def test_digest_of_a_large_dataset_matches_redis(both):
    t, r = both
    commands = [("DEBUG", "POPULATE", "200000", "big", "20"), ("SET", "extra", "1"),
                ("SELECT", "9"), ("DEBUG", "POPULATE", "1000")]
    for srv in both:
        load(srv, commands)
    assert digest(t) == digest(r)


def test_digest_value_forms_match_redis(both):
    t, r = both
    for srv in both:
        load(srv, [("SET", "a", "1"), ("SET", "b", "text", "EX", "100"), ("SELECT", "4"),
                   ("SET", "a", "other")])
    replies = same_replies(t, r, [
        ("DEBUG", "DIGEST-VALUE"),
        ("DEBUG", "DIGEST-VALUE", "a", "b", "nope", "a"),
        ("SELECT", "4"),
        ("DEBUG", "DIGEST-VALUE", "a", "b"),
    ])
    assert replies[0] == []
    assert replies[1][2] == ZERO_DIGEST and replies[1][0] == replies[1][3]
    assert replies[3][1] == ZERO_DIGEST and replies[3][0] != replies[1][0]


# ------------------------------------------------------------------ POPULATE

POPULATE_FORMS = [
    ("10",),
    ("10", "pre"),
    ("10", "pre", "0"),
    ("10", "pre", "3"),
    ("10", "pre", "20"),
    ("12", "pre", "100"),
    ("0",),
    ("5", "p" * 200),
    ("5", "a:b", "45"),
]


@pytest.mark.parametrize("args", POPULATE_FORMS, ids=lambda a: "-".join(x[:8] for x in a))
def test_populate_matches_redis(both, args):
    t, r = both
    count = int(args[0])
    prefix = args[1] if len(args) > 1 else "key"
    key_of = lambda n: (prefix + ":" + str(n)).encode()[:127]  # noqa: E731
    samples = [key_of(n) for n in {0, count // 2, max(count - 1, 0), count}]
    replies = same_replies(t, r, [("DEBUG", "POPULATE", *args), ("DBSIZE",), ("DEBUG", "DIGEST")]
                           + [("GET", k) for k in samples] + [("STRLEN", k) for k in samples])
    # Keys are cut at 127 bytes, as Redis builds them: a long prefix makes
    # them collide.
    assert replies[0] == "OK" and replies[1] == len({key_of(n) for n in range(count)})


def test_populate_skips_existing_keys_like_redis(both):
    t, r = both
    same_replies(t, r, [
        ("SET", "key:3", "mine"),
        ("SET", "key:7", "12", "EX", "1000"),
        ("DEBUG", "POPULATE", "10"),
        ("DBSIZE",),
        ("GET", "key:3"),
        ("GET", "key:7"),
        ("GET", "key:8"),
        ("TTL", "key:7"),
        ("DEBUG", "POPULATE", "12"),
        ("DBSIZE",),
        ("DEBUG", "DIGEST"),
    ])


def test_populate_errors_match_redis(both):
    t, r = both
    same_replies(t, r, [
        ("DEBUG", "POPULATE", "-1"),
        ("DEBUG", "POPULATE", "abc"),
        ("DEBUG", "POPULATE", "1.5"),
        ("DEBUG", "POPULATE", "10", "p", "-5"),
        ("DEBUG", "POPULATE", "10", "p", "abc"),
        ("DEBUG", "POPULATE"),
        ("DEBUG", "POPULATE", "1", "p", "1", "extra"),
        ("DBSIZE",),
    ])


def test_populate_is_not_a_change_to_save(both):
    t, _ = both

    def changes():
        return int(info_fields(t, "persistence")["rdb_changes_since_last_save"])

    before = changes()
    assert exchange(t.port, encode_command("DEBUG", "POPULATE", "100")) == "OK"
    assert changes() == before


# -------------------------------------------------------------------- OBJECT

OBJECT_LINE = re.compile(r"Value at:0x[0-9a-f]+ refcount:(\d+) encoding:(\S+) "
                         r"serializedlength:(\d+) lru:(\d+) lru_seconds_idle:(\d+)")

# Values whose RDB form is not LZF-compressed (short, or without repeats),
# so that serializedlength is exact.
OBJECT_VALUES = ["1", "0", "9999", "10000", "-1", "-129", "70000", "-2147483648", "2147483648",
                 "4294967296", "9223372036854775807", "hello", "", "007", "12.5", "-0",
                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQR",  # 44: embstr
                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS",  # 45: raw
                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$"]


def object_fields(srv, key):
    line = exchange(srv.port, encode_command("DEBUG", "OBJECT", key))
    m = OBJECT_LINE.fullmatch(line)
    assert m, f"{srv.name}: unexpected DEBUG OBJECT reply {line!r}"
    return m.groups()


def test_object_matches_redis(both):
    t, r = both
    for srv in both:
        load(srv, [("SET", "v%d" % i, v) for i, v in enumerate(OBJECT_VALUES)])
    for i, v in enumerate(OBJECT_VALUES):
        tf, rf = object_fields(t, "v%d" % i), object_fields(r, "v%d" % i)
        # refcount, encoding and serializedlength exactly; the clock in the
        # same units (seconds, 24 bits) up to the time between the two loads
        # on a busy machine.
        assert tf[:3] == rf[:3], f"value {v!r}: tandem {tf} != redis {rf}"
        assert abs(int(tf[3]) - int(rf[3])) <= 30 and int(tf[4]) <= 30


def test_object_lru_is_the_seconds_clock(both):
    t, _ = both
    load(t, [("SET", "k", "v")])
    fields = object_fields(t, "k")
    assert abs(int(fields[3]) - (int(time.time()) & 0xFFFFFF)) <= 2


def test_object_errors_match_redis(both):
    t, r = both
    same_replies(t, r, [
        ("DEBUG", "OBJECT", "missing"),
        ("DEBUG", "OBJECT"),
        ("DEBUG", "OBJECT", "a", "b"),
    ])


# --------------------------------------------------------- SET-ACTIVE-EXPIRE


def expired_keys(srv):
    return int(info_fields(srv, "stats")["expired_keys"])


def test_set_active_expire_stops_and_resumes_active_expiry(both):
    for srv in both:
        keys = 20
        expired_before = expired_keys(srv)
        load(srv, [("DEBUG", "SET-ACTIVE-EXPIRE", "0")]
             + [("SET", "e%d" % i, "v", "PX", "100") for i in range(keys)]
             + [("SET", "stays", "v")])
        # Well past the expiry, nothing removed them: they are never read.
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            assert exchange(srv.port, encode_command("DBSIZE")) == keys + 1
            time.sleep(0.02)
        assert expired_keys(srv) == expired_before
        assert exchange(srv.port, encode_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")) == "OK"
        wait_until(lambda: exchange(srv.port, encode_command("DBSIZE")) == 1, 10,
                   message=f"{srv.name}'s active expiry to remove the keys")


# ------------------------------------------------------ the rest and errors


def test_sleep_log_and_error_texts_match_redis(both):
    t, r = both
    same_replies(t, r, [
        ("DEBUG", "SLEEP", "0"),
        ("DEBUG", "SLEEP", "abc"),
        ("DEBUG", "SLEEP", "-1"),
        ("DEBUG", "SLEEP", "0.01"),
        ("DEBUG", "SLEEP", "1e30"),
        ("DEBUG", "SLEEP", "nan"),
        ("DEBUG", "LOG", "from the debug test"),
        ("DEBUG", "LOG"),
        ("DEBUG", "HELP", "extra"),
        ("DEBUG", "DIGEST", "extra"),
        ("DEBUG", "NOSUCH"),
        ("DEBUG", "NoSuch", "with", "args"),
        ("DEBUG", "SET-ACTIVE-EXPIRE"),
        ("DeBuG", "dIgEsT"),
        ("DEBUG", "digest-VALUE", "x"),
    ])
    t.wait_for_log(r"DEBUG LOG: from the debug test")


def help_blocks(lines):
    """HELP lines -> {subcommand line: [its indented lines]}."""
    blocks, current = {}, None
    for line in lines[1:]:
        if line.startswith(" "):
            blocks[current].append(line)
        else:
            current = line
            blocks[current] = []
    return blocks


def test_help_entries_are_redis_entries(both):
    t, r = both
    mine, theirs = (session(srv, [("DEBUG", "HELP")])[0] for srv in both)
    assert mine[0] == theirs[0]
    blocks, redis_blocks = help_blocks(mine), help_blocks(theirs)
    for name in ("DIGEST", "DIGEST-VALUE <key> [<key> ...]", "LOG <message>", "OBJECT <key>",
                 "POPULATE <count> [<prefix>] [<size>]", "SEGFAULT", "SET-ACTIVE-EXPIRE <0|1>",
                 "SLEEP <seconds>", "HELP"):
        assert name in blocks, f"DEBUG HELP lacks {name}"
    for name, text in blocks.items():
        assert redis_blocks.get(name) == text, f"DEBUG HELP entry {name!r} differs from Redis's"

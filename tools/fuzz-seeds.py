#!/usr/bin/python3
"""fuzz-seeds.py: writes the seed corpora of the fuzz targets into
tests/fuzz/corpus/<target>/ (docs/fuzzing.md). Run it again after a format
change; the files are small and committed, so CI never needs a server.

Dumps and DUMP payloads come from real servers: bin/tandem-server (build it
first) and Debian's /usr/bin/redis-server 7.0, each started on a free
loopback port in a temporary directory and always stopped again. Requests,
replies, configuration snippets and glob cases are written here by hand.
Files are named after what they hold, so a second run rewrites the same
names. Targets that cut their input (fuzz_split.h) get a 4-byte header:
option bits, seed of the cuts, largest chunk.
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "fuzz" / "corpus"
TANDEM = REPO / "bin" / "tandem-server"
REDIS = Path("/usr/bin/redis-server")


def free_port():
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != 6379:
            return port


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data.encode() if isinstance(data, str) else data)


def split_header(opts=0, seed=0x1234, chunk=7):
    return bytes([opts, seed >> 8 & 0xFF, seed & 0xFF, chunk])


# ------------------------------------------------------------- servers


class Server:
    def __init__(self, binary, tmp):
        self.port = free_port()
        self.dir = tmp
        self.proc = subprocess.Popen(
            [str(binary), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--dir", str(tmp), "--dbfilename", "dump.rdb"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.r = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.r.ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{binary} did not start")
                time.sleep(0.02)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


VALUES = {
    "int": b"7",
    "int16": b"1000",
    "int32": b"100000",
    "neg": b"-5",
    "bigint": b"12345678901234",
    "notint": b"007",
    "text": b"hello",
    "empty": b"",
    "binary": b"\x00\x01\xff\r\n",
    "lzf": b"abc" * 40,
    "lzf-long": b"The quick brown fox 3. " * 60,
}


def fill(r):
    for name, value in VALUES.items():
        r.set("k:" + name, value)
    r.set("exp:future", "later", pxat=4102444800000)
    r.set("compressed key name that is longer than twenty bytes " * 2, "x")
    r.select(3)
    r.set("db3", "three")
    r.select(0)


def server_seeds(name, binary):
    tmp = Path(tempfile.mkdtemp(prefix="tandem-fuzz-seeds-"))
    try:
        s = Server(binary, tmp)
        try:
            s.r.save()
            write("rdb_load", f"{name}-empty.rdb", (tmp / "dump.rdb").read_bytes())
            fill(s.r)
            for key in VALUES:
                write("dump", f"{name}-{key}", s.r.dump("k:" + key))
            s.r.save()
            write("rdb_load", f"{name}-values.rdb", (tmp / "dump.rdb").read_bytes())
            lzf_seeds(name, s.r.dump("k:lzf-long"))
            if binary == TANDEM:
                config_dict(s.r.config_get("*"))
            s.r.config_set("rdbcompression", "no")
            s.r.save()
            write("rdb_load", f"{name}-uncompressed.rdb", (tmp / "dump.rdb").read_bytes())
        finally:
            s.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def rdb_len(p, i):
    """An RDB length at p[i]: (value, next index)."""
    kind = p[i] >> 6
    if kind == 0:
        return p[i] & 0x3F, i + 1
    if kind == 1:
        return (p[i] & 0x3F) << 8 | p[i + 1], i + 2
    if p[i] == 0x80:
        return struct.unpack(">I", p[i + 1:i + 5])[0], i + 5
    raise ValueError("unexpected length form")


def lzf_seeds(name, payload):
    """The LZF data inside a DUMP of a compressible string, behind the
    2-byte output size the target reads first."""
    assert payload[0] == 0 and payload[1] == 0xC3, "expected an LZF string"
    clen, i = rdb_len(payload, 2)
    ulen, i = rdb_len(payload, i)
    write("lzf", f"{name}-lzf", struct.pack(">H", ulen) + payload[i:i + clen])


def config_dict(directives):
    """tests/fuzz/config.dict: every directive tandem knows (as CONFIG GET *
    shows it) and the words their values use."""
    words = sorted(set(directives) | {"include", "slaveof", "replicaof"})
    words += ["yes", "no", "kb", "mb", "gb", "normal", "replica", "pubsub", "no one"]
    lines = ["# The fuzz_config dictionary, written by tools/fuzz-seeds.py."]
    lines += ['"%s"' % w for w in words]
    (REPO / "tests" / "fuzz" / "config.dict").write_text("\n".join(lines) + "\n")


# ------------------------------------------------------------- by hand

REPLID = "8c2ab2c58b4f6cb1e5bbbdb3b66c4d4a5ea9b9ae"


def hand_seeds():
    def resp(*args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        return out

    requests = {
        "get": resp("GET", "key"),
        "set-binary": resp("SET", "k", b"\x00\r\n\xff"),
        "pipeline": resp("PING") + resp("SET", "a", "1") + resp("INCR", "a") + resp("MGET", "a", "b"),
        "inline": b"SET k \"quoted \\x41\\n\" 'single \\' quote'\r\nPING\n",
        "inline-empty": b"\r\n\n   \r\nPING\r\n",
        "empty-multibulk": b"*0\r\n*-1\r\n" + resp("PING"),
        "large-bulk": resp("SET", "big", "x" * 600),
        "bad-dollar": b"*1\r\n#3\r\nGET\r\n",
        "unbalanced": b"GET \"abc\r\n",
    }
    for i, (name, data) in enumerate(requests.items()):
        write("resp_parse", name, split_header(i & 7, 0x100 + i, (i * 37) & 0xFF) + data)

    replies = {
        "handshake": "+PONG\r\n+OK\r\n+OK\r\n+OK\r\n+FULLRESYNC %s 1234\r\n\n\n$120\r\n" % REPLID,
        "continue": "+CONTINUE %s\r\n" % REPLID,
        "continue-same": "+CONTINUE\r\n",
        "errors": "-NOAUTH Authentication required.\r\n-NOPERM x\r\n-ERR operation not permitted\r\n"
                  "-NOMASTERLINK Can't SYNC while not connected with my master\r\n"
                  "-LOADING Redis is loading the dataset in memory\r\n-ERR unknown\r\n",
        "eof-mark": "+FULLRESYNC %s 0\r\n$EOF:%s\r\n" % (REPLID, "a" * 40),
        "mark-stream": "REDIS0010" + "ab" * 30 + "a" * 45 + "abcd" * 12,
    }
    for i, (name, data) in enumerate(replies.items()):
        opts = (i & 3) << 4 | (0x40 if i & 4 else 0)
        write("repl_proto", name, split_header(opts, 0x200 + i, (i * 53) & 0xFF) + data.encode())

    configs = {
        "basic": "port 7000\nbind 127.0.0.1 -::1\nmaxclients 100\ntimeout 0\n",
        "save": 'save 900 1 300 10\nsave ""\nsave 60 10000\nrdbcompression no\n',
        "memory": "proto-max-bulk-len 1mb\nclient-query-buffer-limit 1gb\nrepl-backlog-size 16kb\n",
        "obuf": "client-output-buffer-limit normal 0 0 0\n"
                "client-output-buffer-limit replica 256mb 64mb 60\n",
        "replica": "replicaof 127.0.0.1 6380\nmasterauth \"p w\"\nreplica-read-only yes\n",
        "enum": "loglevel verbose\nenable-debug-command local\n",
        "quoted": "requirepass \"a\\x41\\\"b\" \nunixsocketperm 700\n# comment\n   \n",
        "unimplemented": "maxmemory 100mb\nmaxmemory-policy allkeys-lru\nappendonly no\n"
                         "slaveof no one\n",
        "include": "include a.conf\ninclude *.conf\n",
        "include-loop": "include loop.conf\n",
        "errors": "port 99999\nno-such 1\nsave 1\n",
    }
    for name, text in configs.items():
        write("config", name, text)
    write("config", "tandem.conf", (REPO / "tandem.conf").read_bytes())

    globs = [
        (0, "h?llo", "hello"), (0, "h*llo", "heeeello"), (0, "h[ae]llo", "hallo"),
        (0, "h[^e]llo", "hbllo"), (0, "h[a-b]llo", "hbllo"), (1, "H[A-Z]*", "hello"),
        (0, "\\*x\\?", "*x?"), (0, "*a*b*c*", "xxaxxbxxcxx"), (0, "[z-a]", "m"),
        (0, "[\\]]", "]"), (0, "[abc", "b"), (0, "trailing\\", "trailing\\"),
        (1, "[Z-a]", "_"), (0, "**?*", ""),
    ]
    for i, (nocase, pat, s) in enumerate(globs):
        write("glob", "case%02d" % i, bytes([nocase, len(pat)]) + (pat + s).encode())


def main():
    if not TANDEM.is_file():
        sys.exit(f"{TANDEM} is missing: run make first")
    hand_seeds()
    server_seeds("tandem", TANDEM)
    server_seeds("redis-7.0", REDIS)
    write("rdb_load", "fixture-redis-7.0.rdb",
          (REPO / "tests" / "fixtures" / "redis-7.0.rdb").read_bytes())
    for d in sorted(CORPUS.iterdir()):
        print(f"{d.name}: {len(list(d.iterdir()))} files")


if __name__ == "__main__":
    main()

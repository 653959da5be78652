"""A consistency soak: one primary and two replicas under random writes,
with random link kills, replica restarts and planned failovers, for
SOAK_SECONDS (default 180).

A writer thread sends pipelined random writes to whoever is the primary,
and every batch ends with an acknowledged write: SET ack:<n> <n> then
WAIT 1 1000; when WAIT answers at least 1, ack:<n> is recorded as
acknowledged. Meanwhile the test, every second or two, picks one of:
- CLIENT KILL TYPE master on a replica (it resyncs partially);
- a replica stopped with SIGTERM (its final save carries the replication
  ID and offset) and started again following the primary;
- a failover: writes paused, a replica caught up to the byte, promoted with
  REPLICAOF NO ONE, the old primary and the other replica pointed at it,
  writes resumed on it.
At the end every digest is equal and every acknowledged key is there with
its value. Every wait is bounded.
"""
import os
import random
import threading
import time

from test_repl_replica import random_command

from conftest import (RespError, RespReader, digest, encode_command, one, raw_connect, repl,
                      wait_in_sync)

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "180"))
ARGS = ["--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0",
        "--repl-backlog-size", "16mb"]
WAIT = 60


class Writer(threading.Thread):
    def __init__(self, cluster, seed):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.rng = random.Random(seed)
        self.gate = threading.Lock()  # held by a failover
        self.done = threading.Event()
        self.acked = {}
        self.error = None
        self.n = 0

    def batch(self, s, reader):
        cmds = [c for c in (random_command(self.rng) for _ in range(40)) if c[0] != "FLUSHALL"]
        self.n += 1
        cmds += [("SELECT", 0), ("SET", f"ack:{self.n}", self.n), ("WAIT", 1, 1000)]
        s.sendall(b"".join(encode_command(*c) for c in cmds))
        replies = [reader.read() for _ in cmds]
        if not isinstance(replies[-1], RespError) and replies[-1] >= 1 and replies[-2] == "OK":
            self.acked[f"ack:{self.n}"] = str(self.n).encode()

    def run(self):
        try:
            while not self.done.is_set():
                with self.gate:
                    with raw_connect(self.cluster.primary.port, timeout=30) as s:
                        reader = RespReader(s, 30)
                        for _ in range(5):
                            self.batch(s, reader)
                time.sleep(0.005)  # let a failover take the gate
        except Exception as e:  # reported by stop()
            self.error = e

    def stop(self):
        self.done.set()
        self.join(60)
        assert not self.is_alive(), "the writer did not stop"
        assert self.error is None, f"the writer failed: {self.error!r}"


class Cluster:
    def __init__(self, make_tandem):
        self.primary = make_tandem(ARGS)
        self.replicas = [make_tandem(ARGS + self.follow_args(self.primary)) for _ in range(2)]

    @staticmethod
    def follow_args(primary):
        return ["--replicaof", "127.0.0.1", str(primary.port)]

    def describe(self):
        return "\n".join(f"{s.port}: {repl(s)}" for s in [self.primary] + self.replicas)

    def wait_caught_up(self, replica):
        wait_in_sync(self.primary, replica, WAIT, self.describe)

    def kill_link(self, rng):
        replica = rng.choice(self.replicas)
        one(replica, "CLIENT", "KILL", "TYPE", "master")

    def restart(self, rng):
        replica = rng.choice(self.replicas)
        replica.stop()
        replica.start(ARGS + self.follow_args(self.primary), port=replica.port)

    def failover(self, writer, rng):
        with writer.gate:
            new = rng.choice(self.replicas)
            self.wait_caught_up(new)
            assert one(new, "REPLICAOF", "NO", "ONE") == "OK"
            old = self.primary
            self.replicas = [s for s in self.replicas if s is not new] + [old]
            self.primary = new
            for s in self.replicas:
                assert one(s, "REPLICAOF", "127.0.0.1", new.port) == "OK"


def dataset(srv):
    """{(db, key): (value, has_ttl)} of the first 16 databases, for a
    failure message."""
    out = {}
    c = srv.client(decode_responses=False)
    for db in range(16):
        c.execute_command("SELECT", db)
        for k in c.scan_iter(count=1000):
            out[(db, k)] = (c.get(k), c.pttl(k) >= 0)
    return out


def differences(a, b, limit=10):
    da, db_ = dataset(a), dataset(b)
    keys = sorted(set(da) | set(db_), key=repr)
    return [(k, da.get(k), db_.get(k)) for k in keys if da.get(k) != db_.get(k)][:limit]


def test_soak(make_tandem):
    rng = random.Random(2026)
    cluster = Cluster(make_tandem)
    for r in cluster.replicas:
        cluster.wait_caught_up(r)
    writer = Writer(cluster, seed=7)
    writer.start()
    actions = {"kill_link": 0, "restart": 0, "failover": 0}
    end = time.monotonic() + SOAK_SECONDS
    try:
        while time.monotonic() < end and writer.is_alive():
            time.sleep(rng.uniform(0.5, 2.0))  # the pace of the chaos, not a wait
            action = rng.choice(["kill_link", "kill_link", "restart", "failover"])
            if action == "failover":
                cluster.failover(writer, rng)
            else:
                getattr(cluster, action)(rng)
            actions[action] += 1
    finally:
        writer.stop()
    one(cluster.primary, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
    for r in cluster.replicas:
        cluster.wait_caught_up(r)
    want = digest(cluster.primary)
    for r in cluster.replicas:
        assert digest(r) == want, (f"replica {r.port} differs: {differences(cluster.primary, r)}\n"
                                   f"{actions}\n{cluster.describe()}")
    assert writer.acked, "no write was ever acknowledged"
    keys = list(writer.acked)
    with raw_connect(cluster.primary.port, timeout=30) as s:
        reader = RespReader(s, 30)
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            s.sendall(encode_command("MGET", *chunk))
            values = reader.read()
            missing = [k for k, v in zip(chunk, values) if v != writer.acked[k]]
            assert not missing, f"acknowledged writes lost: {missing[:10]} ({actions})"
    print(f"soak: {SOAK_SECONDS:.0f}s, {len(keys)} acknowledged batches, actions {actions}")

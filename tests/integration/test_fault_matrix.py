"""The fault matrix of the replication link.

A tandem primary and a tandem replica talk through FaultProxy (faultproxy.py),
which holds the link in a chosen state on purpose:

- resync states: the pair is synced, then the link is cut while the proxy
  takes no new connection (the replica waits in CONNECTING) or holds the
  replica's next PING, AUTH (with requirepass and masterauth), REPLCONF
  listening-port, REPLCONF ip-address (with replica-announce-ip), REPLCONF
  capa or PSYNC (it waits in RECEIVE_PING_REPLY ... RECEIVE_PSYNC_REPLY), or
  the link stays CONNECTED;
- first-sync states: an empty replica's first sync waits in the primary's
  WAIT_BGSAVE (a slow BGSAVE, rdb-key-save-delay) or in TRANSFER, its
  payload held so that the primary stays in SEND_BULK.

In each state, under a concurrent write load, one fault: the link cut, the
link cut 100 bytes further into what the primary sends (truncated), SIGSTOP of the replica or of the primary past repl-timeout, kill -9 of the
replica or of the primary (each then started again, with no dump). The pair
must come back by itself with equal datasets (DEBUG DIGEST), and INFO must
count what the fault should cost: in a resync state a cut, a truncation or a
stop costs no full sync (the backlog holds the bytes), a killed replica or
primary costs one; a first sync never counts a partial one. Every wait is
bounded.
"""
import os
import random
import signal
import threading
import time

import pytest

from faultproxy import DOWN, UP, FaultProxy
from test_repl_replica import random_command

from conftest import (RespReader, digest, encode_command, info_fields, one, raw_connect, repl,
                      wait_in_sync, wait_until)

TIMEOUT_S = 2
COMMON = ["--enable-debug-command", "yes", "--save", "", "--repl-timeout", str(TIMEOUT_S)]
PRIMARY = COMMON + ["--repl-backlog-size", "64mb", "--repl-diskless-sync", "no"]
WAIT = 60
PASSWORD = "fault-matrix-secret"

RESYNC_STATES = {
    "CONNECTING": "blackhole",
    "RECEIVE_PING_REPLY": (UP, b"PING"),
    "RECEIVE_AUTH_REPLY": (UP, b"AUTH"),
    "RECEIVE_PORT_REPLY": (UP, b"listening-port"),
    "RECEIVE_IP_REPLY": (UP, b"ip-address"),
    "RECEIVE_CAPA_REPLY": (UP, b"capa"),
    "RECEIVE_PSYNC_REPLY": (UP, b"PSYNC"),
    "CONNECTED": None,
}
FIRST_SYNC_STATES = ("WAIT_BGSAVE", "TRANSFER")
FAULTS = ("cut", "truncate", "stop_replica", "stop_primary", "kill_replica", "kill_primary")


class WriteLoad(threading.Thread):
    """Random writes in pipelined batches until stop(); the primary may not
    go away meanwhile."""

    def __init__(self, port, seed, password=None):
        super().__init__(daemon=True)
        self.port, self.seed, self.password = port, seed, password
        self.done = threading.Event()
        self.error = None
        self.batches = 0

    def run(self):
        rng = random.Random(self.seed)
        try:
            with raw_connect(self.port, timeout=30) as s:
                reader = RespReader(s, 30)
                if self.password is not None:
                    s.sendall(encode_command("AUTH", self.password))
                    assert reader.read() == "OK"
                while not self.done.is_set():
                    # No FLUSHALL: the random load's rare FLUSHALL would
                    # make the datasets trivially equal.
                    cmds = [c for c in (random_command(rng) for _ in range(50))
                            if c[0] != "FLUSHALL"]
                    s.sendall(b"".join(encode_command(*c) for c in cmds))
                    for _ in cmds:
                        reader.read()
                    self.batches += 1
                    time.sleep(0.002)  # pacing: a steady load, not a flood
        except Exception as e:  # reported by stop()
            self.error = e

    def stop(self):
        wait_until(lambda: self.batches > 0 or self.error or not self.is_alive(), WAIT,
                   message="the write load never wrote")
        self.done.set()
        self.join(60)
        assert not self.is_alive(), "the write load did not stop"
        assert self.error is None, f"the write load failed: {self.error!r}"


class Pair:
    def __init__(self, make_tandem, primary_args=(), replica_args=(), password=None):
        self.primary_args = PRIMARY + list(primary_args)
        self.replica_args = COMMON + list(replica_args)
        if password is not None:
            self.primary_args += ["--requirepass", password]
            self.replica_args += ["--masterauth", password]
        self.primary = make_tandem(self.primary_args)
        self.primary.password = password
        self.proxy = FaultProxy(self.primary.port)
        self.replica = make_tandem(self.replica_args)
        self.load = None

    def describe(self):
        return (f"primary {repl(self.primary)}\nreplica {repl(self.replica)}\n"
                f"primary log:\n{self.primary.read_log()[-2500:]}\n"
                f"replica log:\n{self.replica.read_log()[-2500:]}")

    def link(self):
        return repl(self.replica)

    def follow(self):
        assert one(self.replica, "REPLICAOF", "127.0.0.1", self.proxy.port) == "OK"

    def wait_state(self, state):
        wait_until(lambda: self.link().get("tandem_link_state") == state.lower(), WAIT,
                   interval=0.01, message=self.describe)

    def wait_primary_state(self, state):
        wait_until(lambda: f"state={state}" in repl(self.primary).get("slave0", ""), WAIT,
                   interval=0.01, message=self.describe)

    def wait_synced(self):
        wait_in_sync(self.primary, self.replica, WAIT, self.describe)

    def start_load(self, seed):
        self.load = WriteLoad(self.primary.port, seed, self.primary.password)
        self.load.start()

    def stop_load(self):
        if self.load:
            self.load.stop()
            self.load = None

    def counts(self):
        r = self.link()
        stats = info_fields(self.primary, "stats")
        return {"replica_full": int(r["tandem_link_full_syncs"]),
                "replica_partial": int(r["tandem_link_partial_syncs"]),
                "primary_full": int(stats["sync_full"])}


def stop_for(srv, seconds):
    os.kill(srv.pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)  # the fault itself: a peer silent past repl-timeout
    finally:
        os.kill(srv.pid, signal.SIGCONT)


def apply_fault(pair, fault):
    """Applies fault, lets the link go, and leaves the pair to recover."""
    if fault == "cut":
        pair.proxy.release()
        pair.proxy.cut()
    elif fault == "truncate":
        # What was held goes on, and the link dies 100 bytes later, in the
        # middle of a reply, a payload or a command of the stream.
        pair.proxy.release()
        pair.proxy.truncate(DOWN, 100)
        wait_until(lambda: not pair.proxy.pairs, WAIT, message=pair.describe)
        pair.proxy.release()
    elif fault == "stop_replica":
        stop_for(pair.replica, TIMEOUT_S + 1.5)
        pair.proxy.release()
    elif fault == "stop_primary":
        stop_for(pair.primary, TIMEOUT_S + 1.5)
        pair.proxy.release()
    elif fault == "kill_replica":
        os.kill(pair.replica.pid, signal.SIGKILL)
        pair.replica.wait_exit()
        pair.proxy.release()
        pair.proxy.cut()
        pair.replica.start(pair.replica_args + ["--replicaof", "127.0.0.1", str(pair.proxy.port)],
                           port=pair.replica.port)
    elif fault == "kill_primary":
        pair.stop_load()
        os.kill(pair.primary.pid, signal.SIGKILL)
        pair.primary.wait_exit()
        pair.proxy.release()
        pair.proxy.cut()
        pair.primary.start(pair.primary_args, port=pair.primary.port)
        pair.start_load(seed=99)
    else:
        raise AssertionError(fault)


def finish(pair):
    pair.stop_load()
    one(pair.primary, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
    pair.wait_synced()
    assert digest(pair.replica) == digest(pair.primary), pair.describe()


@pytest.fixture
def pair(make_tandem):
    made = []

    def make(*primary_args, replica_args=(), password=None):
        p = Pair(make_tandem, primary_args, replica_args, password)
        made.append(p)
        return p
    yield make
    for p in made:
        p.proxy.stop()


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("state", list(RESYNC_STATES))
def test_fault_while_resyncing(pair, state, fault):
    # REPLCONF ip-address is sent only with replica-announce-ip set, AUTH
    # only with masterauth.
    p = pair(replica_args=["--replica-announce-ip", "127.0.0.1"]
             if state == "RECEIVE_IP_REPLY" else [],
             password=PASSWORD if state == "RECEIVE_AUTH_REPLY" else None)
    p.start_load(seed=1)
    p.follow()
    p.wait_synced()
    before = p.counts()
    how = RESYNC_STATES[state]
    if how == "blackhole":
        p.proxy.blackhole()
        p.proxy.cut()
    elif how:
        p.proxy.hold(*how)
        p.proxy.cut()
    p.wait_state(state)
    apply_fault(p, fault)
    finish(p)
    after = p.counts()
    if fault in ("cut", "truncate", "stop_replica", "stop_primary"):
        # The bytes were still in the backlog: no new full sync.
        assert after["primary_full"] == before["primary_full"], p.describe()
        assert after["replica_full"] == before["replica_full"], p.describe()
        assert after["replica_partial"] > before["replica_partial"] or (
            state == "CONNECTED" and fault == "stop_primary"
            and after["replica_partial"] == before["replica_partial"]), p.describe()
    elif fault == "kill_replica":
        # A new process with no dump: one full sync.
        assert after["replica_full"] == 1 and after["replica_partial"] == 0, p.describe()
        assert after["primary_full"] == before["primary_full"] + 1, p.describe()
    else:
        # A new primary with no dump and a new history: one full sync.
        assert after["replica_full"] == before["replica_full"] + 1, p.describe()


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("state", FIRST_SYNC_STATES)
def test_fault_during_the_first_sync(pair, state, fault):
    if state == "WAIT_BGSAVE":
        p = pair("--rdb-key-save-delay", "200")
        one(p.primary, "DEBUG", "POPULATE", 20000)
    else:
        p = pair("--rdbcompression", "no")
        # 30 MB: more than the socket buffers, so the held payload keeps
        # the primary in SEND_BULK.
        one(p.primary, "DEBUG", "POPULATE", 150000, "big", 200)
        p.proxy.hold(DOWN, b"REDIS")
    p.start_load(seed=2)
    p.follow()
    if state == "WAIT_BGSAVE":
        p.wait_primary_state("wait_bgsave")
    else:
        p.wait_state("TRANSFER")
        p.wait_primary_state("send_bulk")
    apply_fault(p, fault)
    finish(p)
    after = p.counts()
    assert after["replica_partial"] == 0 and after["replica_full"] >= 1, p.describe()

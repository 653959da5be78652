"""Expiry and SCAN under load on a real tandem server: lazy expiry (a key
past its time is gone when touched, with the active cycle off), active
expiry of 100,000 keys with a one-second TTL while another client keeps
pinging (every PING must get PONG; the longest round trip is printed, not
asserted), INFO stats expired_keys, INFO keyspace expires= and avg_ttl
(compared in form with redis-server 7.0), and a full SCAN that runs while
another client makes the table shrink and grow again: every key present for
the whole scan must be returned at least once.
"""
import re
import threading
import time

from conftest import info_text, wait_until

DEBUG_ON = ["--enable-debug-command", "yes"]
BATCH = 5000


def info(srv, section):
    return srv.client().info(section)


def keyspace_line(srv, db=0):
    return srv.client().info("keyspace").get(f"db{db}")


def load(r, names, *set_args):
    """SETs every name (value "v", plus set_args) through pipelines."""
    for start in range(0, len(names), BATCH):
        pipe = r.pipeline(transaction=False)
        for name in names[start:start + BATCH]:
            pipe.execute_command("SET", name, "v", *set_args)
        assert all(x is True for x in pipe.execute())


def delete(r, names):
    for start in range(0, len(names), BATCH):
        r.delete(*names[start:start + BATCH])


# ------------------------------------------------------------ lazy expiry


def test_lazy_expiry_on_access(make_tandem):
    srv = make_tandem(DEBUG_ON)
    r = srv.client()
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    r.set("short", "v", px=50)
    r.set("stays", "v")
    assert r.get("short") == "v"
    wait_until(lambda: r.get("short") is None, 5, message="the key to pass its time")
    assert r.exists("short") == 0
    assert r.ttl("short") == -2
    assert r.dbsize() == 1
    assert int(info(srv, "stats")["expired_keys"]) == 1


def test_lazy_expiry_keeps_keys_until_touched(make_tandem):
    srv = make_tandem(DEBUG_ON)
    r = srv.client()
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    for i in range(20):
        r.set(f"k{i}", "v", px=20)
    wait_until(lambda: r.pttl("k0") == -2 and r.pttl("k19") == -2, 5,
               message="the keys to pass their time")
    # Nothing deletes the others until they are touched.
    assert r.dbsize() == 18
    assert r.keys("*") == []
    assert r.dbsize() == 18
    assert r.exists(*[f"k{i}" for i in range(1, 19)]) == 0
    assert r.dbsize() == 0
    assert int(info(srv, "stats")["expired_keys"]) == 20


def test_active_expiry_without_access(tandem):
    r = tandem.client()
    r.set("short", "v", px=50)
    r.set("stays", "v")
    wait_until(lambda: r.dbsize() == 1, 5, message="the active cycle to delete the key")
    assert int(info(tandem, "stats")["expired_keys"]) == 1


# ------------------------------------------------------------ active expiry under load


def test_active_expiry_of_100k_keys_keeps_serving(tandem):
    r = tandem.client()
    names = [f"exp:{i}" for i in range(100_000)]
    load(r, names, "PX", "1000")
    r.set("persistent", "v")

    pinger = tandem.client()
    stop = threading.Event()
    stats = {"pings": 0, "bad": [], "max_rtt": 0.0}

    def ping_loop():
        while not stop.is_set():
            start = time.monotonic()
            try:
                reply = pinger.execute_command("PING")
            except Exception as e:  # recorded, asserted below
                stats["bad"].append(repr(e))
                return
            stats["max_rtt"] = max(stats["max_rtt"], time.monotonic() - start)
            stats["pings"] += 1
            if reply not in (True, "PONG"):
                stats["bad"].append(reply)

    thread = threading.Thread(target=ping_loop, daemon=True)
    thread.start()
    try:
        wait_until(lambda: r.dbsize() == 1, 15, interval=0.05,
                   message="100,000 keys to expire")
    finally:
        stop.set()
        thread.join(10)
    print(f"\nactive expiry of 100k keys: {stats['pings']} PINGs, "
          f"longest round trip {stats['max_rtt'] * 1000:.1f} ms")
    assert not thread.is_alive()
    assert stats["bad"] == []
    assert stats["pings"] > 0
    assert r.get("persistent") == "v"
    assert int(info(tandem, "stats")["expired_keys"]) == 100_000
    assert keyspace_line(tandem) == {"keys": 1, "expires": 0, "avg_ttl": 0}


# ------------------------------------------------------------ INFO keyspace


def test_info_keyspace_expires_and_avg_ttl(tandem, redis_server):
    for srv in (tandem, redis_server):
        r = srv.client()
        for i in range(10):
            r.set(f"ttl{i}", "v", ex=1000)
        for i in range(5):
            r.set(f"plain{i}", "v")
        r.select(2)
        r.set("other", "v", px=500_000)
        text = info_text(srv, "keyspace")
        text = text.replace("\r\n", "\n")
        assert re.search(r"^db0:keys=15,expires=10,avg_ttl=\d+$", text, re.M), text
        assert re.search(r"^db2:keys=1,expires=1,avg_ttl=\d+$", text, re.M), text
        # The active cycle estimates the average TTL from its samples.
        line = wait_until(lambda: (lambda d: d if d["avg_ttl"] > 0 else None)(keyspace_line(srv)),
                          10, message="avg_ttl to be estimated")
        assert 0 < line["avg_ttl"] <= 1_000_000
        line2 = wait_until(lambda: (lambda d: d if d["avg_ttl"] > 0 else None)(
            keyspace_line(srv, 2)), 10, message="avg_ttl of db2 to be estimated")
        assert 0 < line2["avg_ttl"] <= 500_000
        r.select(0)
        r.persist("ttl0")
        assert keyspace_line(srv)["expires"] == 9
        r.flushall()
        assert "db0" not in r.info("keyspace")


# ------------------------------------------------------------ SCAN during resizes


def full_scan_while_churning(srv, phases, calls_per_phase):
    """One full SCAN (COUNT 100); every calls_per_phase calls it waits
    (bounded) until phases() shows that the churning client has finished
    one more phase (emptied to the stable keys and shrunk, or refilled)."""
    r = srv.client()
    seen, cursor, calls = set(), 0, 0
    while True:
        cursor, keys = r.scan(cursor=cursor, count=100)
        seen.update(keys)
        calls += 1
        if calls % calls_per_phase == 0:
            target = calls // calls_per_phase
            wait_until(lambda: phases() >= target, 30, interval=0.005,
                       message="the churning client to finish a phase")
        if cursor == 0:
            return seen, calls


def test_scan_returns_stable_keys_across_resizes(tandem):
    r = tandem.client()
    stable = [f"stable:{i}" for i in range(10_000)]
    churn = [f"churn:{i}" for i in range(90_000)]
    load(r, stable)
    load(r, churn)

    stop = threading.Event()
    phases_done = [0]
    errors = []

    def churn_loop():
        c = tandem.client()
        try:
            while not stop.is_set():
                # 10,000 keys left in a table of 131,072 buckets: the cron
                # shrinks it; adding 90,000 back grows it again, step by step.
                delete(c, churn)
                deadline = time.monotonic() + 10
                while c.dbsize() != len(stable) and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(0.15)
                phases_done[0] += 1
                load(c, churn)
                phases_done[0] += 1
        except BaseException as e:  # reported by the test below
            errors.append(repr(e))

    thread = threading.Thread(target=churn_loop, daemon=True)
    thread.start()
    scans = []
    try:
        for _ in range(2):
            base = phases_done[0]
            seen, calls = full_scan_while_churning(tandem, lambda: phases_done[0] - base, 40)
            scans.append((seen, calls, phases_done[0] - base))
    finally:
        stop.set()
        thread.join(60)
    assert errors == []
    assert not thread.is_alive()
    for seen, calls, phases in scans:
        missing = [k for k in stable if k not in seen]
        assert missing == [], f"{len(missing)} stable keys not returned by SCAN"
        print(f"\nfull SCAN: {calls} calls across {phases} shrink or grow phases")
        assert phases >= 2

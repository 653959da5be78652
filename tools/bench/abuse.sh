#!/usr/bin/env bash
# abuse.sh: a bystander's latency while the server is abused, tandem against
# Debian's redis-server in the same run (one server at a time, tandem first,
# both with maxclients 10100, client-output-buffer-limit normal 32mb 0 0 and
# client-query-buffer-limit 64mb).
#
# Rows, each SAMPLES (default 20000) sequential SET round trips of a
# bystander (p50 and p99 in microseconds, and the server's used_memory at the
# end):
#   quiet        nothing else;
#   idle-10k     10,000 idle connections open;
#   slow-bulk    plus a client that declared a 1 GB bulk and sends 1 MB every
#                10 ms;
#   no-reader    plus a client pipelining GETs of a 4 KB value without
#                reading its replies (dropped at the output limit, then again).
# A measurement, never a pass/fail test.
#
# Usage: [SAMPLES=n] tools/bench/abuse.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/bench/lib.sh
ulimit -n 20000

results="$work/results"
: >"$results"
for impl in tandem redis; do
  start_one "$impl" --maxclients 10100 --client-output-buffer-limit "normal 32mb 0 0" \
    --client-query-buffer-limit 64mb --proto-max-bulk-len 2gb
  /usr/bin/python3 - "$sport" "$impl" "${SAMPLES:-20000}" >>"$results" <<'PY'
import socket
import sys
import threading
import time

port, impl, samples = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])

def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def info_memory(s):
    s.sendall(b"*2\r\n$4\r\nINFO\r\n$6\r\nmemory\r\n")
    f = s.makefile("rb")
    n = int(f.readline()[1:])
    body = f.read(n + 2).decode()
    return int(body.split("used_memory:")[1].split("\r\n")[0])

def bystander(row, s):
    lat = []
    req = b"*3\r\n$3\r\nSET\r\n$2\r\nby\r\n$1\r\n1\r\n"
    for _ in range(samples):
        t = time.perf_counter()
        s.sendall(req)
        assert s.recv(16) == b"+OK\r\n"
        lat.append((time.perf_counter() - t) * 1e6)
    lat.sort()
    mem = info_memory(connect())
    print(f"{impl}\t{row}\t{lat[len(lat) // 2]:.0f}\t{lat[int(len(lat) * 0.99)]:.0f}\t{mem}")
    sys.stdout.flush()

stop = threading.Event()

def slow_bulk():
    while not stop.is_set():
        try:
            with connect() as s:
                s.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nhuge\r\n$1073741824\r\n")
                chunk = b"x" * (1 << 20)
                while not stop.is_set():
                    s.sendall(chunk)
                    time.sleep(0.01)
        except OSError:
            pass  # dropped at client-query-buffer-limit: start again

def no_reader():
    req = b"*2\r\n$3\r\nGET\r\n$1\r\nv\r\n" * 1000
    while not stop.is_set():
        try:
            with connect() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                while not stop.is_set():
                    s.sendall(req)
        except OSError:
            pass  # dropped at the output limit: start again

by = connect()
by.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nv\r\n$4096\r\n" + b"v" * 4096 + b"\r\n")
assert by.recv(16) == b"+OK\r\n"
bystander("quiet", by)
idle = []
for _ in range(25):
    idle += [connect() for _ in range(400)]
bystander("idle-10k", by)
threads = [threading.Thread(target=slow_bulk, daemon=True)]
threads[0].start()
time.sleep(0.5)  # let the bulk start arriving
bystander("slow-bulk", by)
threads.append(threading.Thread(target=no_reader, daemon=True))
threads[1].start()
time.sleep(0.5)  # let the replies pile up
bystander("no-reader", by)
stop.set()
for s in idle:
    s.close()
PY
  stop_pid "$spid"
done

echo "bystander SET latency (us) while abused; used_memory (MB) at the end of each row"
printf '%-12s %10s %10s %10s %10s %10s %10s %8s\n' row t-p50 r-p50 t-p99 r-p99 t-mem r-mem p99-ratio
/usr/bin/python3 - "$results" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    impl, row, p50, p99, mem = line.split("\t")
    rows.setdefault(row, {})[impl] = (int(p50), int(p99), int(mem) / 2**20)
for row, v in rows.items():
    t, r = v["tandem"], v["redis"]
    print(f"{row:<12} {t[0]:10d} {r[0]:10d} {t[1]:10d} {r[1]:10d} {t[2]:10.1f} {r[2]:10.1f} "
          f"{t[1] / r[1] if r[1] else float('nan'):8.2f}")
PY

#!/usr/bin/env bash
# backup.sh: the time tandem-backup takes to pull a snapshot (transfer,
# fsync and its full verification pass included) against `redis-cli --rdb`
# from the same source in the same run, and the raw loopback throughput of
# this machine for scale. Sources: tandem, then Debian's redis-server, both with
# diskless sync and no delay, each filled by DEBUG POPULATE <keys> key
# <size> with --rdbcompression no (so the RDB is about keys * (size + 15)
# bytes: 10M x 100 B is ~1.1 GB); there the server's own snapshot (a fork
# and a full serialization per pull) takes most of the time. So a third
# source takes the server out: a minimal fake primary (Python) that answers
# the handshake and sends tandem's dump with sendfile(2), which shows what
# each client itself gets through. Rounds alternate which tool goes first;
# the figures are medians. Loopback: one process streams 2 GiB in 1 MiB
# writes to another that reads and drops them (Python sockets: with 1 MiB
# calls the kernel copy dominates, so this is close to what any program
# can get through 127.0.0.1). A measurement, never a pass/fail test.
#
# Usage: tools/bench/backup.sh [rounds] [keys]  (ROUNDS default 3, KEYS default
# 10000000; SIZE default 100: SIZE=100000 with 10000 keys is the same 1 GB
# in big values, where the transfer rather than the serialization counts)
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=${1:-${ROUNDS:-3}}
keys=${2:-${KEYS:-10000000}}
size=${SIZE:-100}
. tools/bench/lib.sh
backup=bin/tandem-backup
[ -x "$backup" ] || { echo "build first: make" >&2; exit 1; }

now_ns() {
  date +%s%N
}

# loopback_mbs: MB/s of a 2 GiB stream over 127.0.0.1.
loopback_mbs() {
  /usr/bin/python3 - <<'PY'
import os, socket, time
total, chunk = 2 << 30, 1 << 20
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
port = srv.getsockname()[1]
pid = os.fork()
if pid == 0:
    s = socket.create_connection(("127.0.0.1", port))
    buf = b"\x5a" * chunk
    for _ in range(total // chunk):
        s.sendall(buf)
    s.close()
    os._exit(0)
conn, _ = srv.accept()
buf = memoryview(bytearray(chunk))
got, t0 = 0, time.monotonic()
while True:
    n = conn.recv_into(buf)
    if n == 0:
        break
    got += n
t = time.monotonic() - t0
os.waitpid(pid, 0)
assert got == total, got
print(f"{got / t / 1e6:.0f}")
PY
}

# serve_file path: a fake primary sending path to every SYNC/PSYNC; sets
# $sport.
serve_file() {
  /usr/bin/python3 - "$1" >"$work/serve.port" <<'PY' &
import os, socket, sys
path = sys.argv[1]
size = os.path.getsize(path)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(4)
print(srv.getsockname()[1], flush=True)

def command(f):
    line = f.readline()
    if not line.startswith(b"*"):
        return line.split()
    args = []
    for _ in range(int(line[1:])):
        n = int(f.readline()[1:])
        args.append(f.read(n + 2)[:-2])
    return args

while True:
    conn, _ = srv.accept()
    f = conn.makefile("rb")
    while True:
        cmd = command(f)
        if not cmd:
            break
        name = cmd[0].upper()
        if name not in (b"SYNC", b"PSYNC"):
            conn.sendall(b"+PONG\r\n" if name == b"PING" else b"+OK\r\n")
            continue
        if name == b"PSYNC":
            conn.sendall(b"+FULLRESYNC " + b"f" * 40 + b" 0\r\n")
        conn.sendall(b"$%d\r\n" % size)
        with open(path, "rb") as rdb:
            off = 0
            while off < size:
                off += os.sendfile(conn.fileno(), rdb.fileno(), off, size - off)
        break
    conn.close()
PY
  pids+=($!)
  sport=''
  for _ in $(seq 1 100); do
    sport=$(cat "$work/serve.port")
    [ -n "$sport" ] && return 0
    sleep 0.05
  done
  echo "the fake primary did not start" >&2
  exit 1
}

results="$work/results"
: >"$results"
# measure label: rounds of both tools against $sport.
measure() {
  local out="$work/pull.rdb" t0 t1 bytes
  for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) -eq 1 ]; then order="backup cli"; else order="cli backup"; fi
    for tool in $order; do
      t0=$(now_ns)
      if [ "$tool" = backup ]; then
        "$backup" pull -h 127.0.0.1 -p "$sport" -o "$out" --quiet
      else
        redis-cli -p "$sport" --rdb "$out" >/dev/null 2>&1
      fi
      t1=$(now_ns)
      bytes=$(stat -c %s "$out")
      rm -f "$out"
      printf '%s\t%s\t%s\t%s\n' "$1" "$tool" "$(( (t1 - t0) / 1000000 ))" "$bytes" >>"$results"
    done
  done
}

for src in tandem redis; do
  # Both stream the snapshot at once: diskless, with no wait for more replicas
  # (the default repl-diskless-sync-delay of 5 s would be most of a pull).
  args=(--enable-debug-command yes --rdbcompression no --repl-diskless-sync yes
    --repl-diskless-sync-delay 0)
  start_one "$src" "${args[@]}"
  redis-cli -p "$sport" debug populate "$keys" key "$size" >/dev/null
  measure "$src"
  if [ "$src" = tandem ]; then
    redis-cli -p "$sport" save >/dev/null
    mv "$work/s$n_dir/dump.rdb" "$work/served.rdb"
  fi
  stop_pid "$spid"
done
serve_file "$work/served.rdb"
measure file
lo=$(loopback_mbs)

echo "pull of DEBUG POPULATE $keys key $size (rdbcompression no), median of $rounds rounds"
echo "file: a fake primary sending tandem's dump with sendfile (no server snapshot)"
echo "loopback: $lo MB/s (2 GiB, 1 MiB writes)"
printf '%-8s %12s %10s %12s %7s %12s %12s %12s\n' source "RDB bytes" "backup s" "redis-cli s" ratio "backup MB/s" "cli MB/s" "of loopback"
/usr/bin/python3 - "$results" "$lo" <<'PY'
import statistics
import sys

rows, size = {}, {}
for line in open(sys.argv[1]):
    src, tool, ms, nbytes = line.split("\t")
    rows.setdefault(src, {}).setdefault(tool, []).append(int(ms) / 1000)
    size[src] = int(nbytes)
lo = float(sys.argv[2])
for src, tools in rows.items():
    b = statistics.median(tools["backup"])
    c = statistics.median(tools["cli"])
    rate, crate = size[src] / b / 1e6, size[src] / c / 1e6
    print(f"{src:<8} {size[src]:12d} {b:10.3f} {c:12.3f} {b / c:7.2f} {rate:12.0f} {crate:12.0f}"
          f" {rate / lo:12.2f}")
PY

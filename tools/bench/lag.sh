#!/usr/bin/env bash
# lag.sh: replication lag of a tandem replica and, in the same run, of a
# Debian redis-server replica under write load. Per implementation: a
# primary and a replica (both --save "") in sync, then a pipelined SET load
# on the primary for <secs> seconds (timeout <secs> redis-benchmark -t set
# -P 16 -c 50 -r 100000), sampling every 100 ms the primary's
# master_repl_offset minus the replica's slave_repl_offset (INFO
# replication, both read by one sampler on two open connections, microseconds
# apart). Prints mean and max lag in bytes, the tandem/redis ratio of
# the mean (target <= 1.0), and the commands per second the replica applied
# (delta of its INFO stats total_commands_processed over the run). One pair
# runs at a time, tandem first. A measurement, never a pass/fail test.
#
# Usage: tools/bench/lag.sh [secs]   (SECS, default 10)
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=${1:-${SECS:-10}}
. tools/bench/lib.sh

field() { # port section name
  redis-cli -p "$1" info "$2" 2>/dev/null | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2 }'
}

now_ns() {
  date +%s%N
}

# run_lag impl: one pair under load; appends "impl<TAB>lag" samples and
# "impl<TAB>cps<TAB>value" to $results.
run_lag() {
  local impl=$1 pport ppid rpid_ rp bpid c0 c1 t0 t1 m s up=''
  start_one "$impl"
  pport=$sport ppid=$spid
  start_one "$impl"
  rp=$sport rpid_=$spid
  redis-cli -p "$rp" replicaof 127.0.0.1 "$pport" >/dev/null
  for _ in $(seq 1 3000); do
    [ "$(field "$rp" replication master_link_status)" = up ] && { up=1; break; }
    sleep 0.01
  done
  [ -n "$up" ] || { echo "$impl replica did not come up" >&2; exit 1; }
  c0=$(field "$rp" stats total_commands_processed)
  t0=$(now_ns)
  timeout "$secs" redis-benchmark -h 127.0.0.1 -p "$pport" -t set -P 16 -c 50 -r 100000 \
    -n 1000000000 -q >/dev/null 2>&1 &
  bpid=$!
  pids+=($bpid)
  # One sampler process on two open connections, so the two INFO replies
  # are only microseconds apart (a redis-cli per read would skew them by
  # milliseconds, the order of the lag itself).
  /usr/bin/python3 - "$pport" "$rp" "$secs" "$impl" >>"$results" <<'PY'
import socket
import sys
import time

def conn(port):
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s, s.makefile("rb")

def reply(f, name):
    head = f.readline()
    body = f.read(int(head[1:]) + 2).decode()
    for line in body.split("\r\n"):
        if line.startswith(name + ":"):
            return int(line.split(":", 1)[1])
    return None

(ps, pf), (rs, rf) = conn(sys.argv[1]), conn(sys.argv[2])
req = b"*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n"
end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    ps.sendall(req)
    rs.sendall(req)
    m, s = reply(pf, "master_repl_offset"), reply(rf, "slave_repl_offset")
    if m is not None and s is not None:
        print(f"{sys.argv[4]}\tlag\t{m - s}")
    time.sleep(0.1)
PY
  wait "$bpid" 2>/dev/null || true
  t1=$(now_ns)
  c1=$(field "$rp" stats total_commands_processed)
  printf '%s\tcps\t%s\n' "$impl" \
    "$(awk -v a="$c0" -v b="$c1" -v x="$t0" -v y="$t1" 'BEGIN { printf "%.0f", (b - a) / ((y - x) / 1e9) }')" \
    >>"$results"
  stop_pid "$rpid_"
  stop_pid "$ppid"
}

results="$work/results"
: >"$results"
for impl in tandem redis; do
  run_lag "$impl"
done

echo "replication lag: redis-benchmark -t set -P 16 -c 50 -r 100000 for ${secs}s, sampled every 100 ms"
printf '%-34s %14s %14s %8s\n' row tandem redis ratio
/usr/bin/python3 - "$results" <<'PY'
import statistics
import sys

lag, cps = {}, {}
for line in open(sys.argv[1]):
    who, kind, value = line.rstrip("\n").split("\t")
    if kind == "lag":
        lag.setdefault(who, []).append(int(value))
    else:
        cps[who] = float(value)
tm, rm = statistics.mean(lag["tandem"]), statistics.mean(lag["redis"])
tx, rx = max(lag["tandem"]), max(lag["redis"])
nan = float("nan")
print(f"{'mean lag (bytes)':<34} {tm:14.0f} {rm:14.0f} {tm / rm if rm else nan:8.2f}")
print(f"{'max lag (bytes)':<34} {tx:14d} {rx:14d} {tx / rx if rx else nan:8.2f}")
print(f"{'replica commands/s applied':<34} {cps['tandem']:14.0f} {cps['redis']:14.0f} "
      f"{cps['tandem'] / cps['redis'] if cps['redis'] else nan:8.2f}")
print(f"{'samples':<34} {len(lag['tandem']):14d} {len(lag['redis']):14d}")
PY

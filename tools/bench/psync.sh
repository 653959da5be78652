#!/usr/bin/env bash
# psync.sh: how a replica comes back after a broken link and after a
# restart, tandem against Debian's redis-server in the same run (one pair at
# a time, tandem first; primaries with repl-backlog-size 1gb).
#
# Break row: a synced pair; the replica is held with SIGSTOP and its link
# killed on the primary (CLIENT KILL TYPE replica), then a fixed pipelined
# SET load (redis-benchmark -t set -P 16 -c 20 -n <ops>) runs against the
# primary for the rest of <secs> seconds of break; SIGCONT lets the replica
# find its link dead and PSYNC. Reported: the gap in bytes, the seconds from
# SIGCONT until the replica's slave_repl_offset equals the primary's
# master_repl_offset, the catch-up rate, and the full syncs the break cost
# (sync_full delta on the primary: the target is 0).
#
# Restart row: the replica (100,000 keys) is stopped with SHUTDOWN SAVE and
# started again with --replicaof and the same dir; reported: seconds from
# the start to master_link_status:up with the data equal, and whether the
# resync was partial. A measurement, never a pass/fail test.
#
# Usage: tools/bench/psync.sh [secs] [ops]   (defaults 10 and 2000000)
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=${1:-${SECS:-10}}
ops=${2:-${OPS:-2000000}}
. tools/bench/lib.sh

field() { # port section name
  redis-cli -p "$1" info "$2" 2>/dev/null | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2 }'
}

now() { date +%s.%N; }

# wait_field port section name value [tries]: polls every 5 ms.
wait_field() {
  local tries=${5:-60000}
  for _ in $(seq 1 "$tries"); do
    [ "$(field "$1" "$2" "$3")" = "$4" ] && return 0
    sleep 0.005
  done
  echo "port $1: $3 never became $4" >&2
  exit 1
}

wait_caught_up() { # primary replica
  for _ in $(seq 1 120000); do
    [ "$(field "$2" replication master_link_status)" = up ] &&
      [ "$(field "$2" replication slave_repl_offset)" = "$(field "$1" replication master_repl_offset)" ] &&
      return 0
    sleep 0.005
  done
  echo "replica on port $2 never caught up" >&2
  exit 1
}

row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; }

run_break() {
  local impl=$1 pport ppid rp rpid_ full0 gap t0 t1 start
  start_one "$impl" --repl-backlog-size 1gb
  pport=$sport ppid=$spid
  start_one "$impl"
  rp=$sport rpid_=$spid
  redis-cli -p "$pport" debug populate 100000 >/dev/null
  redis-cli -p "$rp" replicaof 127.0.0.1 "$pport" >/dev/null
  wait_caught_up "$pport" "$rp"
  full0=$(field "$pport" stats sync_full)
  local applied
  applied=$(field "$rp" replication slave_repl_offset)
  start=$(now)
  kill -STOP "$rpid_"
  redis-cli -p "$pport" client kill type replica >/dev/null
  redis-benchmark -h 127.0.0.1 -p "$pport" -t set -P 16 -c 20 -r 1000000 -n "$ops" -q \
    >/dev/null 2>&1
  local left
  left=$(awk -v s="$start" -v n="$(now)" -v b="$secs" 'BEGIN { d = b - (n - s); print (d > 0 ? d : 0) }')
  sleep "$left"
  gap=$(( $(field "$pport" replication master_repl_offset) - applied ))
  t0=$(now)
  kill -CONT "$rpid_"
  wait_caught_up "$pport" "$rp"
  t1=$(now)
  row "$impl" gap "$gap"
  row "$impl" catchup "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
  row "$impl" full "$(( $(field "$pport" stats sync_full) - full0 ))"
  stop_pid "$rpid_"
  stop_pid "$ppid"
}

run_restart() {
  local impl=$1 pport ppid rp rdir t0 t1 bin=$tandem
  [ "$impl" = redis ] && bin=$redis
  start_one "$impl" --repl-backlog-size 1gb
  pport=$sport ppid=$spid
  start_one "$impl"
  rp=$sport
  rdir="$work/s$n_dir"
  redis-cli -p "$pport" debug populate 100000 >/dev/null
  redis-cli -p "$rp" replicaof 127.0.0.1 "$pport" >/dev/null
  wait_caught_up "$pport" "$rp"
  redis-cli -p "$rp" shutdown save >/dev/null 2>&1 || true
  wait "$spid" 2>/dev/null || true
  local p0
  p0=$(field "$pport" stats sync_partial_ok)
  t0=$(now)
  "$bin" --port "$rp" --bind 127.0.0.1 --dir "$rdir" --save "" --appendonly no \
    --logfile "$rdir/server.log" --daemonize no --replicaof 127.0.0.1 "$pport" &
  pids+=($!)
  local rpid_=$!
  wait_ping "$rp"
  wait_caught_up "$pport" "$rp"
  t1=$(now)
  row "$impl" restart "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
  row "$impl" restart_partial "$(( $(field "$pport" stats sync_partial_ok) - p0 ))"
  stop_pid "$rpid_"
  stop_pid "$ppid"
}

results="$work/results"
: >"$results"
for impl in tandem redis; do
  run_break "$impl"
  run_restart "$impl"
done

echo "link break of ${secs}s with $ops pipelined SETs written meanwhile; replica restart (100,000 keys)"
printf '%-38s %12s %12s %8s\n' row tandem redis ratio
/usr/bin/python3 - "$results" <<'PY'
import sys

v = {}
for line in open(sys.argv[1]):
    who, kind, value = line.rstrip("\n").split("\t")
    v[(who, kind)] = float(value)

def show(label, kind, fmt="{:12.3f}", ratio=True):
    t, r = v[("tandem", kind)], v[("redis", kind)]
    rt = f"{t / r:8.2f}" if ratio and r else f"{'':>8}"
    print(f"{label:<38} {fmt.format(t)} {fmt.format(r)} {rt}")

show("gap after the break (bytes)", "gap", "{:12.0f}")
show("catch-up after SIGCONT (s)", "catchup")
for who in ("tandem", "redis"):
    v[(who, "rate")] = v[(who, "gap")] / v[(who, "catchup")] / 1e6 if v[(who, "catchup")] else 0
show("catch-up rate (MB/s)", "rate", "{:12.1f}")
show("full syncs caused by the break", "full", "{:12.0f}", ratio=False)
show("restart to caught up (s)", "restart")
show("restart resynced partially (count)", "restart_partial", "{:12.0f}", ratio=False)
PY

#!/usr/bin/env bash
# rdb.sh: RDB persistence of tandem and, in the same run, of Debian's
# redis-server, and the tandem/redis ratio, on a million keys of 100-byte
# values (DEBUG POPULATE <n> key 100): the time of a foreground SAVE (as the
# client sees it), the fork time of a BGSAVE (INFO latest_fork_usec), the
# size of the file, and the load time at start-up (the server restarted on
# its own dump, timed until it answers PING, and as its "DB loaded from
# disk" log line says). Each round does every step on
# both servers, alternating which goes first (three BGSAVEs a round, as
# fork times are noisy); the figure per row is the median over all samples.
# A measurement, never a pass/fail test.
#
# Usage: tools/bench/rdb.sh [rounds] [keys]   (ROUNDS, default 5; KEYS, default 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=${1:-${ROUNDS:-5}}
keys=${2:-${KEYS:-1000000}}
. tools/bench/lib.sh

# Each server keeps its own folder (both write dump.rdb), no save points.
mkdir -p "$work/tandem" "$work/redis"
declare -A port pid
bin_tandem=$tandem
bin_redis=$redis

now_ms() {
  date +%s%3N
}

cli() {
  redis-cli -p "${port[$1]}" "${@:2}" | tr -d '\r'
}

info_field() {
  cli "$1" info "$2" | awk -F: -v f="$3" '$1 == f { print $2 }'
}

# start who: starts the server in its folder (loading its dump.rdb if any);
# sets start_ms to how long it took to answer PING.
start() {
  local who=$1 bin t0
  bin=$bin_tandem
  [ "$who" = redis ] && bin=$bin_redis
  port[$who]=$(free_port)
  t0=$(now_ms)
  "$bin" --port "${port[$who]}" --bind 127.0.0.1 --dir "$work/$who" --save "" \
    --appendonly no --logfile "$work/$who/server.log" --enable-debug-command yes \
    --daemonize no &
  pid[$who]=$!
  pids+=($!)
  for _ in $(seq 1 6000); do
    if [ "$(redis-cli -p "${port[$who]}" ping 2>/dev/null)" = PONG ]; then
      start_ms=$(($(now_ms) - t0))
      return 0
    fi
    kill -0 "${pid[$who]}" 2>/dev/null || break
    sleep 0.01
  done
  echo "$who did not start; log:" >&2
  tail -20 "$work/$who/server.log" >&2
  exit 1
}

stop() {
  kill "${pid[$1]}" 2>/dev/null || true
  wait "${pid[$1]}" 2>/dev/null || true
}

# save_ms who: the time of a foreground SAVE as the client sees it.
save_ms() {
  local t0 reply
  t0=$(now_ms)
  reply=$(cli "$1" save)
  [ "$reply" = OK ] || { echo "$1: SAVE replied $reply" >&2; exit 1; }
  echo $(($(now_ms) - t0))
}

# fork_us who: BGSAVE, wait for it to end, print latest_fork_usec.
fork_us() {
  local reply
  # Nothing may run in the background (a BGSAVE is refused meanwhile).
  for _ in $(seq 1 6000); do
    [ "$(info_field "$1" persistence rdb_bgsave_in_progress)" = 0 ] && break
    sleep 0.05
  done
  reply=$(cli "$1" bgsave)
  case $reply in "Background saving started") ;; *)
    echo "$1: BGSAVE replied $reply" >&2; exit 1 ;;
  esac
  for _ in $(seq 1 6000); do
    [ "$(info_field "$1" persistence rdb_bgsave_in_progress)" = 0 ] && break
    sleep 0.05
  done
  [ "$(info_field "$1" persistence rdb_last_bgsave_status)" = ok ] ||
    { echo "$1: BGSAVE failed" >&2; exit 1; }
  info_field "$1" stats latest_fork_usec
}

# loaded_ms who: the load time the server logged ("DB loaded from disk: X
# seconds", the last such line), in ms.
loaded_ms() {
  awk '/DB loaded from disk: / { for (i = 1; i < NF; i++) if ($i == "disk:") t = $(i + 1) }
       END { printf "%.0f", t * 1000 }' "$work/$1/server.log"
}

results="$work/results"
: >"$results"
for who in tandem redis; do
  start "$who"
  cli "$who" debug populate "$keys" key 100 >/dev/null
done
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then order="tandem redis"; else order="redis tandem"; fi
  for who in $order; do
    printf '%s\tsave_ms\t%s\n' "$who" "$(save_ms "$who")" >>"$results"
    for _ in 1 2 3; do
      printf '%s\tfork_us\t%s\n' "$who" "$(fork_us "$who")" >>"$results"
    done
    printf '%s\tsize_mb\t%s\n' "$who" \
      "$(awk -v b="$(stat -c %s "$work/$who/dump.rdb")" 'BEGIN { printf "%.2f", b / 1048576 }')" \
      >>"$results"
    stop "$who"
    start "$who"
    printf '%s\tload_ms\t%s\n' "$who" "$start_ms" >>"$results"
    printf '%s\tload_log_ms\t%s\n' "$who" "$(loaded_ms "$who")" >>"$results"
    n=$(cli "$who" dbsize)
    [ "$n" -eq "$keys" ] || { echo "$who loaded $n keys, expected $keys" >&2; exit 1; }
  done
done

echo "RDB: $keys keys of 100 bytes, medians over $rounds rounds"
printf '%-22s %12s %12s %8s\n' row tandem redis ratio
/usr/bin/python3 - "$results" <<'PY'
import statistics
import sys

rows = {}
for line in open(sys.argv[1]):
    who, row, value = line.split("\t")
    rows.setdefault(row, {}).setdefault(who, []).append(float(value))
labels = {"save_ms": "SAVE (ms)", "fork_us": "BGSAVE fork (us)", "size_mb": "file size (MB)",
          "load_ms": "start-up to PING (ms)", "load_log_ms": "load, as logged (ms)"}
for row in ("save_ms", "fork_us", "size_mb", "load_ms", "load_log_ms"):
    t = statistics.median(rows[row]["tandem"])
    r = statistics.median(rows[row]["redis"])
    print(f"{labels[row]:<22} {t:12.2f} {r:12.2f} {t / r if r else float('nan'):8.2f}")
PY

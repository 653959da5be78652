#!/usr/bin/env bash
# fullsync.sh: full-sync time of a tandem replica and, in the same run, of a
# Debian redis-server replica, and the tandem/redis ratio (target <= 0.70).
# Per measurement: a fresh primary (--save "", DEBUG POPULATE <keys> key 100),
# a fresh empty replica (--save ""), then the seconds from sending
# REPLICAOF 127.0.0.1 <primary port> until the replica's INFO replication
# shows master_link_status:up and its DBSIZE equals the primary's (polled
# every 10 ms, given up after 120 s). Rows: every server on its defaults
# (both default to diskless sync with repl-diskless-sync-delay 5, so the 5 s
# wait dominates), every server given --repl-diskless-sync yes
# --repl-diskless-sync-delay 0 (the RDB straight to the socket, at once),
# every server given --repl-diskless-sync no (through a file on disk), the
# same over TLS (tls-replication yes, the replica connecting to the
# primary's tls-port, certificates from tools/gen-test-certs.sh), then the
# diskless and disk rows with the replica given --repl-diskless-load swapdb
# (it loads from the socket into a new dataset while the old one serves).
# Rounds alternate which implementation goes first; the figure is the
# median. A measurement, never a pass/fail test.
#
# Usage: tools/bench/fullsync.sh [rounds] [keys]   (ROUNDS, default 3; KEYS, default 1000000;
#        ROWS, default "defaults diskless disk tls swapdb swapdb-disk")
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=${1:-${ROUNDS:-3}}
keys=${2:-${KEYS:-1000000}}
. tools/bench/lib.sh

certs="$work/certs"
tools/gen-test-certs.sh "$certs" >/dev/null
tls_args=(--tls-replication yes --tls-cert-file "$certs/server.crt"
  --tls-key-file "$certs/server.key" --tls-ca-cert-file "$certs/ca.crt")
use_tls=0

now_ns() {
  date +%s%N
}

# sync_secs impl args...: one full sync; sets $secs (run in this shell, not
# in $(...), so that a failure exits the script).
sync_secs() {
  local impl=$1 pport ppid rport_ rpid want t0 t1 info n='' target ptls='' rtls=()
  shift
  if [ "$use_tls" = 1 ]; then
    ptls=$(free_port)
    rtls=(--tls-port "$(free_port)")
    set -- "$@" "${tls_args[@]}"
  fi
  start_one "$impl" --enable-debug-command yes "$@" ${ptls:+--tls-port "$ptls"}
  pport=$sport ppid=$spid
  target=${ptls:-$pport}
  redis-cli -p "$pport" debug populate "$keys" key 100 >/dev/null
  want=$(redis-cli -p "$pport" dbsize | tr -d '\r')
  [ "$want" -eq "$keys" ] || { echo "$impl primary holds $want keys" >&2; exit 1; }
  start_one "$impl" "$@" ${rtls[@]+"${rtls[@]}"} ${replica_args[@]+"${replica_args[@]}"}
  rport_=$sport rpid=$spid
  t0=$(now_ns)
  redis-cli -p "$rport_" replicaof 127.0.0.1 "$target" >/dev/null
  t1=''
  for _ in $(seq 1 12000); do
    info=$(redis-cli -p "$rport_" info replication 2>/dev/null | tr -d '\r' || true)
    if grep -qx 'master_link_status:up' <<<"$info"; then
      n=$(redis-cli -p "$rport_" dbsize 2>/dev/null | tr -d '\r' || true)
      if [ "$n" = "$want" ]; then t1=$(now_ns); break; fi
    fi
    sleep 0.01
  done
  [ -n "$t1" ] || { echo "$impl replica did not sync (dbsize $n of $want)" >&2; exit 1; }
  stop_pid "$rpid"
  stop_pid "$ppid"
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
}

results="$work/results"
: >"$results"
rows=${ROWS:-defaults diskless disk tls swapdb swapdb-disk}
for row in $rows; do
  args=() replica_args=()
  case $row in
    diskless | swapdb) args=(--repl-diskless-sync yes --repl-diskless-sync-delay 0) ;;
    disk | tls | swapdb-disk) args=(--repl-diskless-sync no) ;;
  esac
  case $row in swapdb*) replica_args=(--repl-diskless-load swapdb) ;; esac
  use_tls=0
  [ "$row" = tls ] && use_tls=1
  for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) -eq 1 ]; then order="tandem redis"; else order="redis tandem"; fi
    for impl in $order; do
      sync_secs "$impl" "${args[@]}"
      printf '%s\t%s\t%s\n' "$row" "$impl" "$secs" >>"$results"
    done
  done
done

echo "full sync: $keys keys of 100 bytes, REPLICAOF to link up + DBSIZE match, median of $rounds rounds"
printf '%-30s %10s %10s %8s\n' row "tandem s" "redis s" ratio
/usr/bin/python3 - "$results" "$rows" <<'PY'
import statistics
import sys

rows = {}
for line in open(sys.argv[1]):
    row, who, value = line.split("\t")
    rows.setdefault(row, {}).setdefault(who, []).append(float(value))
labels = {"defaults": "defaults (diskless, delay 5)", "diskless": "diskless, delay 0",
          "disk": "--repl-diskless-sync no", "tls": "TLS, --repl-diskless-sync no",
          "swapdb": "diskless 0, replica swapdb", "swapdb-disk": "sync no, replica swapdb"}
for row in sys.argv[2].split():
    t = statistics.median(rows[row]["tandem"])
    r = statistics.median(rows[row]["redis"])
    print(f"{labels[row]:<30} {t:10.3f} {r:10.3f} {t / r if r else float('nan'):8.2f}")
PY

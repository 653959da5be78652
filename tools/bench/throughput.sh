#!/usr/bin/env bash
# throughput.sh: redis-benchmark against tandem and, in the same run, against
# Debian's redis-server, and the tandem/redis ratio per row. 50 clients,
# pipeline 1 and 16; each round runs both servers back to back and the rounds
# alternate which goes first; the figure per row is the median over rounds
# (the machine is noisy). A benchmark, never a pass/fail test.
#
# With --tls, both servers also listen on a TLS port (certificates from
# tools/gen-test-certs.sh, tls-auth-clients no) and redis-benchmark --tls
# measures through it; those rows are named "<row> tls".
#
# Usage: tools/bench/throughput.sh [--tls] [rounds] [requests]
#   ROUNDS (default 5), REQUESTS per row at pipeline 1 (default 200000;
#   pipeline 16 runs 8x as many). TESTS overrides the row list, in
#   redis-benchmark's test names; the default rows are PING (inline and
#   multi-bulk), SET, GET, INCR and MSET (redis-benchmark's 10-key MSET).
set -euo pipefail
cd "$(dirname "$0")/../.."

tls=0
if [ "${1:-}" = --tls ]; then
  tls=1
  shift
fi
rounds=${1:-${ROUNDS:-5}}
requests=${2:-${REQUESTS:-200000}}
tests=${TESTS:-ping_inline,ping_mbulk,set,get,incr,mset}
clients=50
. tools/bench/lib.sh
bench_args=()
suffix=''
if [ "$tls" = 1 ]; then
  certs="$work/certs"
  tools/gen-test-certs.sh "$certs" >/dev/null
  tls_args=(--tls-cert-file "$certs/server.crt" --tls-key-file "$certs/server.key"
    --tls-ca-cert-file "$certs/ca.crt" --tls-auth-clients no)
  tport_tls=$(free_port)
  rport_tls=$(free_port)
  start_one tandem --tls-port "$tport_tls" "${tls_args[@]}"
  tport=$tport_tls
  start_one redis --tls-port "$rport_tls" "${tls_args[@]}"
  rport=$rport_tls
  bench_args=(--tls --cacert "$certs/ca.crt")
  suffix=' tls'
else
  start_servers
fi

# One redis-benchmark run: prints "ROW<TAB>rps" lines.
bench() {
  local port=$1 pipeline=$2 n=$3
  redis-benchmark -p "$port" ${bench_args[@]+"${bench_args[@]}"} -c "$clients" -P "$pipeline" \
    -n "$n" -t "$tests" --csv 2>/dev/null |
    awk -F'","' -v sfx="$suffix" 'NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $2); print $1 sfx "\t" $2 }'
}

results="$work/results"
: >"$results"
for round in $(seq 1 "$rounds"); do
  for pipeline in 1 16; do
    n=$requests
    [ "$pipeline" -gt 1 ] && n=$((requests * 8))
    if [ $((round % 2)) -eq 1 ]; then order="tandem redis"; else order="redis tandem"; fi
    for who in $order; do
      port=$tport
      [ "$who" = redis ] && port=$rport
      bench "$port" "$pipeline" "$n" | while IFS=$'\t' read -r row rps; do
        printf '%s\t%s\tP%s\t%s\n' "$who" "$row" "$pipeline" "$rps" >>"$results"
      done
    done
  done
  echo "round $round/$rounds done" >&2
done

printf '%-16s %-4s %14s %14s %8s\n' row pipe "tandem rps" "redis rps" ratio
/usr/bin/python3 - "$results" <<'PY'
import collections, statistics, sys
vals = collections.defaultdict(list)
for line in open(sys.argv[1]):
    who, row, pipe, rps = line.rstrip("\n").split("\t")
    vals[(row, pipe, who)].append(float(rps))
rows = sorted({(r, p) for r, p, _ in vals}, key=lambda k: (k[1], k[0]))
for row, pipe in rows:
    t = statistics.median(vals[(row, pipe, "tandem")])
    r = statistics.median(vals[(row, pipe, "redis")])
    print(f"{row:<16} {pipe:<4} {t:14.0f} {r:14.0f} {t / r:8.2f}")
PY

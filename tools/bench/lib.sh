# lib.sh: the server start-up shared by the bench scripts (memory.sh,
# throughput.sh); source it, never run it. It checks that bin/tandem-server
# is built and redis-server installed, makes a scratch folder ($work) that an
# EXIT trap removes after stopping every server started here, and with
# start_servers [args...] starts tandem and redis-server on free loopback
# ports ($tport, $rport), the extra args passed to both, and waits for both
# to answer PING. Expects to run from the repository root under set -euo
# pipefail.

tandem=bin/tandem-server
redis=$(command -v redis-server || true)
[ -x "$tandem" ] || { echo "build first: make" >&2; exit 1; }
[ -n "$redis" ] || { echo "redis-server not found: tools/install-deps.sh" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ping() {
  for _ in $(seq 1 100); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "server on port $1 did not start" >&2
  exit 1
}

# start_servers [args...]: tandem on $tport, redis-server on $rport, both
# given the extra args; returns once both answer PING.
start_servers() {
  tport=$(free_port)
  "$tandem" --port "$tport" --bind 127.0.0.1 --dir "$work" --logfile "$work/tandem.log" "$@" &
  pids+=($!)
  rport=$(free_port)
  "$redis" --port "$rport" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no \
    --logfile "$work/redis.log" --daemonize no "$@" &
  pids+=($!)
  wait_ping "$tport"
  wait_ping "$rport"
}

n_dir=0
# start_one impl args...: starts a server in its own folder; sets $sport, $spid.
start_one() {
  local impl=$1 bin=$tandem dir
  shift
  [ "$impl" = redis ] && bin=$redis
  n_dir=$((n_dir + 1))
  dir="$work/s$n_dir"
  mkdir -p "$dir"
  sport=$(free_port)
  [ "$sport" != 6379 ] || sport=$(free_port)
  "$bin" --port "$sport" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
    --logfile "$dir/server.log" --daemonize no "$@" &
  spid=$!
  pids+=($!)
  wait_ping "$sport"
}

stop_pid() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

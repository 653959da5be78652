#!/usr/bin/env bash
# valgrind-run.sh: runs each unit test binary given under valgrind and
# fails on any memory error or leak (definite or indirect). `make valgrind`
# builds the binaries without sanitizers and with libc malloc (build/vg/)
# and calls this with their paths.
#
# Check keeps forking a process per test (CK_FORK=no does not work here:
# several suites rely on a fresh process per test: commands registered in
# a setup, counters that are never reset, a test whose success is an
# abort). valgrind follows each fork, checks that test's process for leaks
# when it exits, and gives it exit status 1 when it found any, which Check
# reports as that test's failure ("Early exit with return value 1"), with
# valgrind's report just above. "Possibly lost" is not counted: a str is
# held by a pointer past its header, which valgrind calls possibly lost
# even while it is in use.
set -u
cd "$(dirname "$0")/.."
VG=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=1)

fail=0
for t in "$@"; do
  echo "== valgrind $t"
  if ! CK_DEFAULT_TIMEOUT=600 "${VG[@]}" "$t"; then
    echo "valgrind: $t FAILED"
    fail=1
  fi
done

# tandem-backup ($BACKUP_BIN, built like the tests): verify and inspect a
# Redis 7.0 dump, and pull from a live tandem (bin/tandem-server) on a free
# loopback port, each under valgrind.
if [ -n "${BACKUP_BIN:-}" ]; then
  work=$(mktemp -d)
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  bin/tandem-server --port "$port" --bind 127.0.0.1 --dir "$work" --save "" \
    --logfile "$work/server.log" &
  server=$!
  for _ in $(seq 1 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  redis-cli -p "$port" set k v >/dev/null
  for args in "verify --quiet tests/fixtures/redis-7.0.rdb" "inspect tests/fixtures/redis-7.0.rdb" \
              "pull -p $port -o $work/pulled.rdb --quiet"; do
    echo "== valgrind tandem-backup $args"
    # shellcheck disable=SC2086 # the arguments are split on purpose
    if ! "${VG[@]}" "$BACKUP_BIN" $args >/dev/null; then
      echo "valgrind: tandem-backup $args FAILED"
      fail=1
    fi
  done
  kill "$server"
  wait "$server" 2>/dev/null
  rm -rf "$work"
fi
exit $fail

#!/usr/bin/env bash
# memory.sh: used_memory per key of tandem and, in the same run, of Debian's
# redis-server, and the tandem/redis ratio, for two datasets of a million
# keys: 100-byte string values (DEBUG POPULATE <n> key 100) and integer
# values (SET key:<n> <n> for every n, streamed through redis-cli --pipe).
# Per key = (used_memory after loading - used_memory before) / keys. A
# measurement, never a pass/fail test.
#
# Usage: tools/bench/memory.sh [keys]   (KEYS, default 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."

keys=${1:-${KEYS:-1000000}}
. tools/bench/lib.sh
start_servers --enable-debug-command yes

# The integer dataset as a RESP stream, made once for both servers.
ints="$work/ints.resp"
/usr/bin/python3 - "$keys" "$ints" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "wb") as f:
    for i in range(n):
        k, v = b"key:%d" % i, b"%d" % i
        f.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
PY

used_memory() {
  redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'
}

dbsize() {
  redis-cli -p "$1" dbsize | tr -d '\r'
}

# Settles (background rehashing, lazy frees) before a reading.
settle() {
  sleep 1
}

# bytes_per_key port loader: empties the server, loads, prints bytes per key.
bytes_per_key() {
  local port=$1 loader=$2 before after
  redis-cli -p "$port" flushall >/dev/null
  settle
  before=$(used_memory "$port")
  case $loader in
    strings) redis-cli -p "$port" debug populate "$keys" key 100 >/dev/null ;;
    ints) redis-cli -p "$port" --pipe <"$ints" >/dev/null ;;
  esac
  local n
  n=$(dbsize "$port")
  [ "$n" -eq "$keys" ] || { echo "port $port holds $n keys, expected $keys" >&2; exit 1; }
  settle
  after=$(used_memory "$port")
  awk -v a="$after" -v b="$before" -v k="$keys" 'BEGIN { printf "%.1f", (a - b) / k }'
}

printf '%-28s %14s %14s %8s\n' dataset "tandem B/key" "redis B/key" ratio
for loader in strings ints; do
  t=$(bytes_per_key "$tport" "$loader")
  r=$(bytes_per_key "$rport" "$loader")
  case $loader in
    strings) label="$keys keys, 100-byte values" ;;
    ints) label="$keys keys, integer values" ;;
  esac
  awk -v l="$label" -v t="$t" -v r="$r" 'BEGIN { printf "%-28s %14.1f %14.1f %8.2f\n", l, t, r, t / r }'
done

#!/usr/bin/env bash
# run-pair.sh: what `make run` starts: a primary on port 6379 and its replica
# on port 6380, both from tandem.conf (with --port, --dir and --replicaof
# overrides), each in its own directory under run/ where its dump goes. Both
# log to this terminal (the role letter after the pid tells them apart).
# Ctrl-C stops both cleanly: each server runs in its own session, so the
# terminal's SIGINT reaches only this script, which sends SIGTERM to each
# pid and waits for both to exit. If one exits by itself, the other is
# stopped too.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
bin="$root/bin/tandem-server"
conf="$root/tandem.conf"
mkdir -p "$root/run/primary" "$root/run/replica"

setsid "$bin" "$conf" --port 6379 --dir "$root/run/primary" &
primary=$!
setsid "$bin" "$conf" --port 6380 --dir "$root/run/replica" --replicaof 127.0.0.1 6379 &
replica=$!

stop() {
    trap '' INT TERM
    kill -TERM "$replica" "$primary" 2>/dev/null
    wait "$replica" "$primary" 2>/dev/null
    exit 0
}
trap stop INT TERM

# Returns when either server exits (or a signal runs stop).
wait -n "$primary" "$replica"
stop

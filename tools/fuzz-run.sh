#!/usr/bin/env bash
# fuzz-run.sh: runs every libFuzzer target built in build/fuzz/fuzz/ for
# SECONDS each, one after the other (docs/fuzzing.md). `make fuzz` and
# `make fuzz-ci` call it after building the targets. Each target starts from
# its seed corpus (tests/fuzz/corpus/<target>/, read only) and from what
# earlier local runs found (build/fuzz/corpus/<target>/, where new inputs
# go), with its dictionary and input-size bound. A crash, a leak, a hang
# (-timeout), an allocation past -malloc_limit_mb or a failed check writes
# the input to build/fuzz/crashes/ and makes the script exit 1 once every
# target has run. Prints executions and executions per second per target.
#
#   tools/fuzz-run.sh SECONDS [TARGET...]     TARGET: resp_parse, rdb_load, ...
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:?usage: fuzz-run.sh SECONDS [TARGET...]}
shift
bin_dir=$root/build/fuzz/fuzz
crash_dir=$root/build/fuzz/crashes
mkdir -p "$crash_dir"

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for src in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$src" .c | sed 's/^fuzz_//')"); done
fi

# Per target: the largest input, the dictionary, and the largest single
# allocation (MB) that an input of that size can justify.
settings() {
  case "$1" in
    resp_parse) echo "4096 resp_parse.dict 64" ;;
    repl_proto) echo "8192 repl_proto.dict 64" ;;
    rdb_load)   echo "16384 rdb.dict 16" ;;
    dump)       echo "16384 rdb.dict 16" ;;
    lzf)        echo "16384 - 16" ;;
    config)     echo "4096 config.dict 64" ;;
    glob)       echo "1024 - 16" ;;
    *)          echo "4096 - 64" ;;
  esac
}

fail=0
printf '%-12s %12s %10s %8s  %s\n' target execs execs/s corpus result
for t in "${targets[@]}"; do
  bin=$bin_dir/fuzz_$t
  [ -x "$bin" ] || { echo "fuzz-run: $bin is missing (make fuzz-build)"; fail=1; continue; }
  read -r max_len dict malloc_mb <<<"$(settings "$t")"
  work=$root/build/fuzz/corpus/$t
  seeds=$root/tests/fuzz/corpus/$t
  mkdir -p "$work"
  opts=(-max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048
        -malloc_limit_mb="$malloc_mb" -print_final_stats=1
        -artifact_prefix="$crash_dir/$t-")
  [ "$dict" != - ] && opts+=(-dict="$root/tests/fuzz/$dict")
  log=$root/build/fuzz/$t.log
  "$bin" "${opts[@]}" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  rate=$(( ${execs:-0} / (${secs:-1} > 0 ? ${secs:-1} : 1) ))
  corpus=$(ls "$work" | wc -l)
  if [ $rc -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $rc, log $log)"
    fail=1
  fi
  printf '%-12s %12s %10s %8s  %s\n' "$t" "${execs:-?}" "$rate" "$corpus" "$result"
  if [ $rc -ne 0 ]; then
    grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written|.*runtime error)' "$log" | head -8 | sed 's/^/    /'
  fi
done
exit $fail

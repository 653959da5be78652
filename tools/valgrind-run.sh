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

# Hook for tandem-backup (being written): once bin/tandem-backup exists, run
# it here under "${VG[@]}" against a dump from tests/fixtures and a live
# server, like the unit tests above.
if [ -e bin/tandem-backup ]; then
  echo "valgrind: bin/tandem-backup exists but is not run yet: add it to tools/valgrind-run.sh"
fi
exit $fail

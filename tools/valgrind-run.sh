#!/usr/bin/env bash
# valgrind-run.sh: runs each unit test binary given under valgrind, in one
# process (CK_FORK=no: Check's forks would hide the leaks from valgrind),
# and fails on any memory error or leak (definite, indirect or possible).
# `make valgrind` builds the binaries without sanitizers and with libc
# malloc (build/vg/) and calls this with their paths.
set -u
cd "$(dirname "$0")/.."
VG=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1
    --track-fds=no --child-silent-after-fork=yes)

fail=0
for t in "$@"; do
  echo "== valgrind $t"
  if ! CK_FORK=no CK_DEFAULT_TIMEOUT=600 "${VG[@]}" "$t"; then
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

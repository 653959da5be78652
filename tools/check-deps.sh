#!/usr/bin/env bash
# check-deps.sh: checks the module dependency rules of shared/DESIGN.md and
# STYLE.md part 4b with plain tools: folder walls, single owners of epoll,
# fork, sockets and OpenSSL, and that every header compiles alone. Run by
# `make check` and `make test`. Prints each violation; exits 1 if any.
set -u
cd "$(dirname "$0")/.."
fail=0
report() { echo "check-deps: $1"; printf '%s\n' "$2" | sed 's/^/    /'; fail=1; }

out=$(grep -rl '#include "repl/' core net rdb 2>/dev/null | grep -v -e core/server.c -e core/main.c)
[ -n "$out" ] && report "only repl/ and the composition root include repl/ headers" "$out"

out=$(grep -rlE '#include "(core/(object|db|expire|call|command)\.h|rdb/|repl/)' net 2>/dev/null | grep -v -e net/client_cmd)
[ -n "$out" ] && report "net/ must not include the keyspace, the call path, rdb/ or repl/" "$out"

out=$(grep -rl '#include "rdb/\|#include "repl/' rdb 2>/dev/null | xargs -r grep -l '#include "repl/')
[ -n "$out" ] && report "rdb/ must not include repl/" "$out"

out=$(grep -rl --include='*.[ch]' '#include "core/server.h"' core net rdb repl tools 2>/dev/null | grep -v -e '^core/server.c$' -e '^core/main.c$')
[ -n "$out" ] && report "core/server.h is for core/server.c and core/main.c only" "$out"

out=$(grep -rl '#include <openssl/' --include='*.[ch]' core net rdb repl tools 2>/dev/null | grep -v -e net/conn_tls.c -e net/tls_ctx.c)
[ -n "$out" ] && report "OpenSSL is used in net/conn_tls.c and net/tls_ctx.c only" "$out"

out=$(grep -rnE '\b(epoll_[a-z_]+|accept4?|recv|send|fork|waitpid|SSL_[a-z_]+)\(' --include='*.c' core rdb repl tools 2>/dev/null | grep -v -e '^core/loop_epoll.c:' -e '^rdb/child.c:')
[ -n "$out" ] && report "epoll, fork/waitpid, socket and SSL calls have single owners" "$out"

out=$(grep -rnE '\b(socket|bind|listen|connect|getsockopt|setsockopt|writev)\(' --include='*.c' core rdb repl tools 2>/dev/null | grep -v -e '^core/loop_epoll.c:')
[ -n "$out" ] && report "socket calls belong to net/" "$out"

for h in core/*.h net/*.h rdb/*.h repl/*.h tools/*/*.h; do
  [ -f "$h" ] || continue
  printf '#include "%s"\n' "$h" | gcc -std=gnu11 -I. -fsyntax-only -x c - 2>/dev/null || report "header does not compile alone" "$h"
done

[ $fail -eq 0 ] && echo "check-deps: all dependency rules hold"
exit $fail

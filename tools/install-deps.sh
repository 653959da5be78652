#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages that tandem's build, tests,
# interop checks, fuzzers (clang, libFuzzer, llvm-symbolizer) and `make
# valgrind` need, and only when one of them is missing. Called by the
# Makefile before every build; a no-op once everything is there.
#
# Installing Debian's redis-server must not leave a Redis serving on 6379, so
# the install runs with a policy-rc.d that forbids starting services, and any
# redis-server that the package's scripts started anyway is stopped again.
set -u

PACKAGES=(
  gcc make pkg-config
  libjemalloc-dev libssl-dev check
  python3 python3-pytest python3-pytest-xdist python3-redis
  redis-tools redis-server
  openssl procps
  clang libclang-rt-14-dev llvm valgrind
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing+=("$pkg") ;;
  esac
done

[ ${#missing[@]} -eq 0 ] && exit 0

explain() {
  echo "install-deps: $1" >&2
  echo "install-deps: please install these packages, then run make again:" >&2
  echo "    apt-get install ${missing[*]}" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || explain "this is not a Debian system (no apt-get)"
[ "$(id -u)" -eq 0 ] || explain "not running as root, so cannot install"

echo "install-deps: installing ${missing[*]}"

policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
ok=1
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}" || ok=0
fi

[ $made_policy -eq 1 ] && rm -f "$policy"

# If the package scripts started a Redis anyway (no policy-rc.d honoured), stop
# the one it started: only the packaged service, never another user's process.
for m in "${missing[@]}"; do
  if [ "$m" = redis-server ]; then
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q redis-server 2>/dev/null; then
      systemctl stop redis-server; systemctl disable -q redis-server 2>/dev/null
    fi
    if [ -f /run/redis/redis-server.pid ]; then
      kill "$(cat /run/redis/redis-server.pid)" 2>/dev/null
    fi
  fi
done

[ $ok -eq 1 ] || explain "apt-get failed"
echo "install-deps: done"
